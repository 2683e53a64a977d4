"""Client rating: status + event + personal = total (DOMAIN.md §8)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pandas as pd
import pytest

from kam.errors import InputError
from kam.model import Account, Dossier, RatingEntry, tables
from kam.rating import client_rating


def _r(kind, points, day, campaign=None):
    return RatingEntry(kind=kind, points=points, on=day, campaign=campaign)


@pytest.fixture
def t():
    """ACME: status 3 (seminar) + 2 (mailing) = 5; event 'seminar' 4, corrected to 1 later,
    plus event 'expo' 2 -> 3; personal 5 replaced by 2 -> 2; total 10.
    BETA: personal 10 -> total 10 (same as ACME: shared rank 1).
    GAMMA: status 1 -> total 1. DELTA: no entries -> 0."""
    return tables([
        Dossier(account=Account(id="ACME", name="Acme"), ratings=[
            _r("status", 3, date(2025, 1, 10), "seminar"),
            _r("status", 2, date(2025, 3, 1), "mailing"),
            _r("event", 4, date(2025, 1, 5), "seminar"),
            _r("event", 1, date(2025, 2, 5), "seminar"),
            _r("event", 2, date(2025, 2, 20), "expo"),
            _r("personal", 5, date(2025, 1, 1)),
            _r("personal", 2, date(2025, 4, 1)),
        ]),
        Dossier(account=Account(id="BETA", name="Beta"), ratings=[
            _r("personal", 10, date(2025, 1, 1))]),
        Dossier(account=Account(id="GAMMA", name="Gamma"), ratings=[
            _r("status", 1, date(2025, 1, 1), "seminar")]),
        Dossier(account=Account(id="DELTA", name="Delta")),
    ])


def test_total_is_status_plus_event_plus_personal(t):
    r = client_rating(t).set_index("account_id")
    assert r.loc["ACME", ["status", "event", "personal", "total"]].tolist() == [5, 3, 2, 10]
    assert r.loc["BETA", "total"] == 10 and r.loc["GAMMA", "total"] == 1
    assert r.loc["DELTA", ["total", "entries"]].tolist() == [0, 0]
    assert (r["total"] == r["status"] + r["event"] + r["personal"]).all()


def test_ranking_by_total(t):
    r = client_rating(t)
    assert r[["rank", "account_id"]].to_dict("records") == [
        {"rank": 1, "account_id": "ACME"}, {"rank": 1, "account_id": "BETA"},
        {"rank": 3, "account_id": "GAMMA"}, {"rank": 4, "account_id": "DELTA"}]


def test_rating_as_of_a_date(t):
    # on 31 Jan ACME had status 3, event 'seminar' 4, personal 5: total 12
    r = client_rating(t, as_of=date(2025, 1, 31)).set_index("account_id")
    assert r.loc["ACME", ["status", "event", "personal", "total"]].tolist() == [3, 4, 5, 12]
    assert r.index[0] == "ACME"


def test_unknown_rating_kind_is_refused():
    base = tables([])
    bad = pd.DataFrame([{"account_id": "X", "kind": "vip", "points": 1, "on": date(2025, 1, 1),
                         "campaign": None}])
    with pytest.raises(InputError, match="unknown rating kind 'vip'; valid kinds: status, event, "
                                         "personal"):
        client_rating(dataclasses.replace(base, ratings=bad))


def test_no_entries_rates_every_account_zero():
    t = tables([Dossier(account=Account(id="A", name="A"))])
    r = client_rating(t)
    assert r[["rank", "total"]].to_dict("records") == [{"rank": 1, "total": 0.0}]
