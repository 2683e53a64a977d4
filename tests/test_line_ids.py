"""Every record has a stable id (issue 2 §2): line records get one when it is left out."""

from __future__ import annotations

import pytest

from kam.errors import InputError
from kam.model import Account, CostLine, Dossier, RevenueLine, validate_dossier
from kam.store import Workspace


def _dossier() -> Dossier:
    return Dossier(
        account=Account(id="ACME", name="Acme", phone="1"),
        revenue=[RevenueLine(period="2025-01", revenue=10),
                 RevenueLine(period="2025-02", revenue=20)],
        costs=[CostLine(id="C-7", period="2025-01", category="logistics", amount=3),
               CostLine(period="2025-02", category="logistics", amount=4)],
    )


def test_line_records_get_ids_numbered_after_the_highest_in_use():
    d = _dossier()
    assert [r.id for r in d.revenue] == ["R-1", "R-2"]
    assert [c.id for c in d.costs] == ["C-7", "C-8"]  # C-7 was given; the next free is C-8


def test_ids_are_stable_across_saves_and_an_appended_line_gets_the_next(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save(_dossier())
    d = ws.load("ACME")
    d.revenue.insert(0, RevenueLine(period="2024-12", revenue=5))  # appended without validation
    ws.save(d)
    again = ws.load("ACME")
    assert [r.id for r in again.revenue] == ["R-3", "R-1", "R-2"]
    changes = ws.diff("ACME", 1, 2)
    assert set(changes["field"]) >= {"revenue[R-3].revenue", "revenue[R-3].period"}
    assert not changes["field"].str.startswith("revenue[R-1]").any()  # nothing else moved


def test_duplicate_line_ids_are_refused():
    with pytest.raises(InputError, match=r"account ACME / revenue, field 'id': duplicate id 'R-1'"):
        validate_dossier({
            "account": {"id": "ACME", "name": "Acme"},
            "revenue": [{"id": "R-1", "period": "2025-01", "revenue": 1},
                        {"id": "R-1", "period": "2025-02", "revenue": 2}],
        })
