"""Relationship health (DOMAIN.md §10 warnings, §3 red flags): each factor worked by hand with
the default weights of templates/health.yaml (coverage 20, key_contacts 20, trust 20,
key_people 15, projects 10, neglect 15), then the total, then the invariants."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.config import template_path
from kam.errors import ConfigError
from kam.figures.health import health_figure, portfolio_health_figure
from kam.health import (
    FACTORS,
    HealthConfig,
    HealthReport,
    health_alerts,
    health_table,
    key_persons,
    load_health_config,
    relationship_health,
)
from kam.model import (
    Account,
    Commitment,
    Dossier,
    Interaction,
    Person,
    Project,
)

TODAY = date(2026, 6, 30)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def dossier(account: Account | None = None, **kw: Any) -> Dossier:
    return Dossier(account=account or Account(id="ACME", name="Acme Steel"), **kw)


def talk(i: int, days: int, *who: str) -> Interaction:
    return Interaction(id=f"i{i}", date=ago(days), kind="meeting", participants=list(who))


def factor(report: HealthReport, name: str) -> tuple[float, float]:
    row = report.factors[report.factors["factor"] == name].to_dict("records")[0]
    return float(row["value"]), float(row["contribution"])


@pytest.fixture(scope="module")
def cfg() -> HealthConfig:
    return load_health_config()


# -- configuration ------------------------------------------------------------------------------
def test_default_weights_add_up_to_100(cfg: HealthConfig) -> None:
    assert sum(getattr(cfg.weights, f) for f in FACTORS) == 100


def test_weights_not_adding_up_to_100_are_refused(tmp_path: Path) -> None:
    body = template_path("health.yaml").read_text(encoding="utf-8")
    path = tmp_path / "h.yaml"
    path.write_text(body.replace("neglect: 15 ", "neglect: 10 "), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"h\.yaml: .*the weights add up to 95; they must add "
                                          r"up to 100"):
        load_health_config(path)


def test_decay_windows_must_be_ordered(tmp_path: Path) -> None:
    body = template_path("health.yaml").read_text(encoding="utf-8")
    path = tmp_path / "h.yaml"
    path.write_text(body.replace("max_days: 120", "max_days: 20"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"max_days \(20\) must be greater than ok_days \(30\)"):
        load_health_config(path)


# -- coverage of the entry-strategy points (§3) ---------------------------------------------------
def test_no_known_power_point_is_red_flag() -> None:
    d = dossier(persons=[Person(id="p1", name="Ann Berg", roles=["entry", "pain"]),
                         Person(id="p2", name="Max Roth", roles=["power"], left_on=ago(10))])
    r = relationship_health(d, TODAY)
    # entry and pain covered, power only by a person who left: 2 of 3 -> 20 x 2/3
    assert factor(r, "coverage") == pytest.approx((2 / 3, 40 / 3))
    flag = r.alerts[r.alerts["warning"].str.startswith("No known power point")]
    assert flag["severity"].tolist() == ["high"]
    assert flag["action"].iloc[0] == (
        "Ask Ann Berg who approves or can forbid the purchase, and ask to be introduced")


def test_single_threaded_relationship_warning() -> None:
    d = dossier(persons=[Person(id="p1", name="Ann Berg", roles=["entry", "pain", "power"])])
    r = relationship_health(d, TODAY)
    assert factor(r, "coverage") == (1.0, 20.0)
    row = r.alerts[r.alerts["warning"].str.startswith("Single-threaded")]
    assert row[["severity", "subject"]].values.tolist() == [["medium", "p1"]]
    assert "introduce us to a second function" in row["action"].iloc[0]


# -- how recently each key person was contacted ---------------------------------------------------
def test_key_person_contact_recency_decays_linearly() -> None:
    d = dossier(
        persons=[Person(id="p1", name="Ann", roles=["power"]),
                 Person(id="p2", name="Bob", roles=["entry"]),
                 Person(id="p3", name="Cem", influence=0.7),          # key by influence
                 Person(id="p4", name="Dan", roles=["user"], influence=0.3)],  # not key
        interactions=[talk(1, 30, "p1"), talk(2, 120, "p2"), talk(3, 5, "p4"),
                      Interaction(id="i4", date=TODAY + timedelta(days=3), kind="call",
                                  participants=["p3"])])                # future: ignored
    assert [p.id for p in key_persons(d)] == ["p1", "p2", "p3"]
    r = relationship_health(d, TODAY)
    # p1: 30 d <= 60 -> 1; p2: 120 d -> (180 - 120) / (180 - 60) = 0.5; p3: never -> 0
    # mean 0.5 -> 20 x 0.5 = 10
    assert factor(r, "key_contacts") == pytest.approx((0.5, 10.0))
    alerts = r.alerts[r.alerts["factor"] == "key_contacts"]
    assert alerts[["severity", "subject"]].values.tolist() == [["high", "p3"], ["medium", "p2"]]
    assert alerts["warning"].tolist() == [
        "Key person Cem (no role, influence 0.7) never contacted",
        f"Key person Bob (entry, influence 0.5) last contacted 120 days ago ({ago(120)})"]


def test_no_key_person_scores_zero_contacts() -> None:
    r = relationship_health(dossier(persons=[Person(id="p", name="P", influence=0.2)]), TODAY)
    assert factor(r, "key_contacts") == (0.0, 0.0)


# -- trust: overdue and broken commitments ------------------------------------------------------
def test_overdue_commitment_is_trust_warning() -> None:
    d = dossier(
        persons=[Person(id="p1", name="Ann Berg")],
        commitments=[
            Commitment(id="C1", description="Deliver the spare pump", due=ago(12),
                       to_person="p1", owner="tom"),
            Commitment(id="C2", description="Send the manual", due=ago(40), status="done"),
            Commitment(id="C3", description="Upgrade firmware", due=TODAY + timedelta(days=5)),
            Commitment(id="C4", description="Due today", due=TODAY),  # not yet overdue
        ])
    r = relationship_health(d, TODAY)
    # one overdue of 2 tolerated: 1 - 1/2 = 0.5 -> 20 x 0.5 = 10
    assert factor(r, "trust") == (0.5, 10.0)
    a = r.alerts[r.alerts["factor"] == "trust"]
    assert a[["severity", "subject"]].values.tolist() == [["high", "C1"]]
    assert a["warning"].iloc[0] == ("Commitment C1 'Deliver the spare pump' to Ann Berg is 12 days "
                                    f"overdue (due {ago(12)}) (owner: tom)")
    assert a["action"].iloc[0] == "Tell Ann Berg about the delay now, agree a new date and keep it"


def test_broken_promise_recently_loses_trust() -> None:
    d = dossier(commitments=[
        Commitment(id="C1", description="Repair", due=ago(3)),
        Commitment(id="C2", description="Upgrade", due=ago(100), status="broken"),
        Commitment(id="C3", description="Old promise", due=ago(400), status="broken"),  # too old
    ])
    r = relationship_health(d, TODAY)
    # 1 overdue + 1 broken within 180 days = 2 = tolerated -> 0
    assert factor(r, "trust") == (0.0, 0.0)
    assert r.alerts[r.alerts["factor"] == "trust"]["subject"].tolist() == ["C1", "C2"]


# -- key people changes ----------------------------------------------------------------------------
def test_key_contact_left_warning() -> None:
    d = dossier(persons=[
        Person(id="p1", name="Ann Berg", roles=["power"], left_on=ago(60)),
        Person(id="p2", name="Old Boss", roles=["power"], left_on=ago(400)),  # long ago
        Person(id="p3", name="Clerk", roles=["user"], influence=0.2, left_on=ago(10)),  # not key
    ])
    r = relationship_health(d, TODAY)
    # one key contact left within 180 days: 1 - 0.5 = 0.5 -> 15 x 0.5 = 7.5
    assert factor(r, "key_people") == (0.5, 7.5)
    a = r.alerts[r.alerts["factor"] == "key_people"]
    assert a[["severity", "subject"]].values.tolist() == [["high", "p1"]]
    assert a["warning"].iloc[0] == f"Key contact Ann Berg (power) left the client on {ago(60)}"
    assert "who took over Ann Berg's role" in a["action"].iloc[0]


def test_our_kam_replaced_warning() -> None:
    acc = Account(id="ACME", name="Acme", kam="eve", kam_since=ago(90), previous_kams=["tom"])
    d = dossier(account=acc, persons=[Person(id="p1", name="Ann", roles=["power"]),
                                      Person(id="p2", name="Bob", roles=["entry"],
                                             left_on=ago(30))])
    r = relationship_health(d, TODAY)
    # a key contact left and the KAM changed: 1 - 0.5 - 0.5 = 0
    assert factor(r, "key_people") == (0.0, 0.0)
    kam = r.alerts[r.alerts["warning"].str.startswith("Our KAM changed")]
    assert kam["warning"].iloc[0] == f"Our KAM changed on {ago(90)} (now eve, before tom)"
    assert kam["action"].iloc[0] == "Have eve meet Ann in person"


def test_first_kam_is_not_a_change() -> None:
    acc = Account(id="ACME", name="Acme", kam="eve", kam_since=ago(10))
    assert factor(relationship_health(dossier(account=acc), TODAY), "key_people") == (1.0, 15.0)


# -- current projects ---------------------------------------------------------------------------
def test_poor_project_satisfaction_and_quality_warning() -> None:
    d = dossier(projects=[
        Project(id="J1", name="Drive retrofit", satisfaction=2, quality=4),
        Project(id="J2", name="Pump service", status="on hold", satisfaction=5),
        Project(id="J3", name="Finished", status="done", satisfaction=1, quality=1),  # not current
        Project(id="J4", name="Unrated"),                                            # no data
    ])
    r = relationship_health(d, TODAY)
    # J1: ((2-1)/4 + (4-1)/4) / 2 = 0.5; J2: (5-1)/4 = 1; mean 0.75 -> 10 x 0.75 = 7.5
    assert factor(r, "projects") == (0.75, 7.5)
    a = r.alerts[r.alerts["factor"] == "projects"]
    assert a[["severity", "subject", "warning"]].values.tolist() == [
        ["high", "J1", "Project Drive retrofit: satisfaction 2/5, quality 4/5"]]


def test_no_rated_project_is_no_warning() -> None:
    r = relationship_health(dossier(projects=[Project(id="J1", name="New")]), TODAY)
    assert factor(r, "projects") == (1.0, 10.0)
    assert not (r.alerts["factor"] == "projects").any()


# -- neglect -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("days", "value", "severity"), [
    (10, 1.0, None),         # within 30 days
    (75, 0.5, "medium"),     # (120 - 75) / (120 - 30) = 0.5
    (130, 0.0, "high"),      # beyond 120 days
])
def test_neglect_warning_no_contact_for_too_long(days: int, value: float,
                                                 severity: str | None) -> None:
    d = dossier(persons=[Person(id="p1", name="Ann", influence=0.9)],
                interactions=[talk(1, days, "p1"), talk(2, days + 50, "p1")])
    r = relationship_health(d, TODAY)
    assert factor(r, "neglect") == pytest.approx((value, 15 * value))
    a = r.alerts[r.alerts["factor"] == "neglect"]
    assert a["severity"].tolist() == ([severity] if severity else [])
    if severity:
        assert a["warning"].iloc[0] == f"No contact for {days} days (last: {ago(days)} meeting)"
        assert a["action"].iloc[0] == "Contact Ann this week"


def test_no_interaction_at_all_is_neglect() -> None:
    r = relationship_health(dossier(), TODAY)
    assert factor(r, "neglect") == (0.0, 0.0)
    assert "No interaction recorded" in r.alerts["warning"].tolist()


# -- the total -----------------------------------------------------------------------------------
def test_health_score_adds_up_the_factor_contributions_hand_worked() -> None:
    d = dossier(
        persons=[Person(id="p1", name="Ann", roles=["entry", "pain"]),
                 Person(id="p2", name="Bob", roles=["power"])],
        interactions=[talk(1, 20, "p1"), talk(2, 150, "p2")],
        commitments=[Commitment(id="C1", description="Repair", due=ago(5))],
        projects=[Project(id="J1", name="Retrofit", satisfaction=4, quality=4)],
    )
    r = relationship_health(d, TODAY)
    # coverage 3/3 -> 20; key contacts: Ann 20 d -> 1, Bob 150 d -> 30/120 = 0.25; mean 0.625
    # -> 12.5; trust 1 overdue -> 0.5 -> 10; key people unchanged -> 15; projects (3/4 + 3/4)/2
    # = 0.75 -> 7.5; neglect last contact 20 d -> 15. Total 20 + 12.5 + 10 + 15 + 7.5 + 15 = 80
    assert r.factors["contribution"].tolist() == pytest.approx([20, 12.5, 10, 15, 7.5, 15])
    assert r.score == pytest.approx(80.0)
    # alerts, high first: the overdue commitment; then Bob not contacted for 150 days
    assert r.alerts[["severity", "subject"]].values.tolist() == [["high", "C1"],
                                                                ["medium", "p2"]]


def test_today_must_be_a_date() -> None:
    with pytest.raises(TypeError, match="today must be a date, got str '2026-06-30'"):
        relationship_health(dossier(), "2026-06-30")  # type: ignore[arg-type]
    a = relationship_health(dossier(), datetime(2026, 6, 30, 15, 0))
    assert a.today == TODAY


def test_html_escapes_user_text() -> None:
    acc = Account(id="X", name="<script>alert(1)</script> & Co")
    d = dossier(account=acc, persons=[Person(id="p", name="<b>Eve</b>", roles=["power"])])
    html = relationship_health(d, TODAY)._repr_html_()
    assert "<script>" not in html and "<b>Eve</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


# -- many accounts --------------------------------------------------------------------------------
def test_portfolio_table_weakest_first_and_alerts() -> None:
    good = dossier(account=Account(id="G", name="Good"),
                   persons=[Person(id="p1", name="Ann", roles=["entry", "pain", "power"]),
                            Person(id="p2", name="Bob")],
                   interactions=[talk(1, 1, "p1", "p2")])
    bad = dossier(account=Account(id="B", name="Bad"))
    t = health_table([good, bad], TODAY)
    assert t["account_id"].tolist() == ["B", "G"]
    # Good: 20 + 20 + 20 + 15 + 10 + 15 = 100; Bad: 0 + 0 + 20 + 15 + 10 + 0 = 45
    assert t["score"].tolist() == pytest.approx([45.0, 100.0])
    assert t[list(FACTORS)].sum(axis=1).tolist() == pytest.approx(t["score"].tolist())
    assert t.loc[1, "alerts"] == 0
    alerts = health_alerts([good, bad], TODAY)
    assert set(alerts["account_id"]) == {"B"} and alerts["severity"].iloc[0] == "high"


def test_empty_portfolio_gives_empty_tables() -> None:
    assert health_table([], TODAY).columns.tolist()[:4] == ["account_id", "name", "kam", "score"]
    assert len(health_table([], TODAY)) == 0
    assert health_alerts([], TODAY).columns.tolist() == [
        "account_id", "severity", "factor", "warning", "action", "subject"]


def test_figures_draw_the_report() -> None:
    d = dossier(account=Account(id="X", name="A <i>&</i> B"),
                persons=[Person(id="p", name="P", roles=["power"])])
    r = relationship_health(d, TODAY)
    fig = health_figure(r)
    assert list(fig.data[1].y)[-1] == r.score
    assert list(fig.data[1].y)[:-1] == r.factors["contribution"].tolist()
    assert "<i>" not in fig.layout.title.text
    table = health_table([d], TODAY)
    pf = portfolio_health_figure(table)
    assert [t.name for t in pf.data] == list(FACTORS)
    with pytest.raises(ValueError, match="missing column"):
        portfolio_health_figure(table.drop(columns="trust"))


# -- invariants -------------------------------------------------------------------------------
_roles = st.lists(st.sampled_from(["entry", "pain", "power", "user", "influencer"]),
                  max_size=3, unique=True)


@st.composite
def dossiers(draw: st.DrawFn) -> Dossier:
    n = draw(st.integers(0, 5))
    persons = [Person(id=f"p{i}", name=f"P{i}", roles=draw(_roles),
                      influence=draw(st.floats(0, 1)),
                      left_on=draw(st.none() | st.builds(ago, st.integers(-30, 500))))
               for i in range(n)]
    interactions = [Interaction(id=f"i{j}", date=ago(draw(st.integers(-20, 600))), kind="call",
                                participants=draw(st.lists(st.sampled_from([p.id for p in persons]),
                                                           max_size=2, unique=True))
                                if persons else [])
                    for j in range(draw(st.integers(0, 6)))]
    commitments = [Commitment(id=f"c{k}", description="x", due=ago(draw(st.integers(-60, 400))),
                              status=draw(st.sampled_from(["open", "done", "broken",
                                                           "cancelled"])))
                   for k in range(draw(st.integers(0, 5)))]
    rating = st.none() | st.integers(1, 5)
    projects = [Project(id=f"j{k}", name="x", satisfaction=draw(rating), quality=draw(rating),
                        status=draw(st.sampled_from(["in progress", "on hold", "done"])))
                for k in range(draw(st.integers(0, 3)))]
    changed = draw(st.booleans())
    acc = Account(id="A", name="A", kam="eve",
                  kam_since=ago(draw(st.integers(0, 400))) if changed else None,
                  previous_kams=["tom"] if changed else [])
    return Dossier(account=acc, persons=persons, interactions=interactions,
                   commitments=commitments, projects=projects)


@settings(max_examples=50, deadline=None)
@given(dossiers())
def test_contributions_sum_to_score_within_0_100(d: Dossier) -> None:
    r = relationship_health(d, TODAY)
    assert math.isclose(r.factors["contribution"].sum(), r.score, abs_tol=1e-9)
    assert 0 <= r.score <= 100
    assert r.factors["value"].between(0, 1).all()
    assert (r.factors["contribution"] <= r.factors["weight"] + 1e-12).all()
    assert set(r.alerts["severity"]) <= {"high", "medium", "low"}


def test_demo_smoke(demo_dossiers: list[Dossier], today: date) -> None:
    t = health_table(demo_dossiers, today)
    assert len(t) == len(demo_dossiers)
    assert t["score"].between(0, 100).all()
    assert t[list(FACTORS)].sum(axis=1).round(9).tolist() == t["score"].round(9).tolist()
    assert health_figure(relationship_health(demo_dossiers[0], today)).data
