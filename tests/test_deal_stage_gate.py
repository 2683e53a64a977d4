"""DOMAIN.md §1: "an account OR DEAL may not be moved into a stage while its required
information is missing; report exactly what is missing" — the deal side of the stage gate."""

from __future__ import annotations

from datetime import date

import pytest

from kam.errors import StageGateError
from kam.model import (
    Account,
    Deal,
    Dossier,
    Need,
    Person,
    StageChange,
    missing_for_deal_stage,
)
from kam.store import Workspace


def _account(**deal: object) -> Dossier:
    return Dossier(
        account=Account(id="ACME", name="Acme Steel", phone="+1 555 0100", address="1 Mill Rd"),
        persons=[Person(id="P1", name="Ann Buyer", position="Head of purchasing", roles=["buyer"])],
        needs=[Need(id="N1", title="Pump leaks", function="maintenance", product="pump set",
                    volume=3, wanted_date=date(2026, 3, 1))],
        deals=[Deal(id="D1", title="Pumps", **deal)],
    )


def test_deal_stage_gate_sale_needs_product_volume_and_delivery_date():
    d = _account(stage="lead")
    assert missing_for_deal_stage(d, "D1", "sale") == [
        "the product/service (deal.product or its need's product)",
        "the volume (deal.volume or its need's volume)",
        "the wanted delivery date (deal.expected_close or need.wanted_date)",
    ]
    # The same three facts may come from the need the deal serves.
    linked = _account(stage="lead", need="N1")
    assert missing_for_deal_stage(linked, "D1", "sale") == []


def test_deal_stage_gate_buyer_needs_volume_date_and_delivery_terms():
    d = _account(stage="sale", need="N1")
    assert missing_for_deal_stage(d, "D1", "buyer") == [
        "the volume of the deal (deal.volume)",
        "the date of the deal (deal.closed_on)",
        "the delivery terms (deal.delivery_terms)",
    ]
    done = _account(stage="sale", need="N1", volume=3, closed_on=date(2026, 2, 1),
                    delivery_terms="DAP, 4 weeks")
    assert missing_for_deal_stage(done, "D1", "buyer") == []


def test_deal_stage_gate_repeat_needs_contract_terms():
    d = _account(stage="buyer", need="N1", volume=3, closed_on=date(2026, 2, 1),
                 delivery_terms="DAP, 4 weeks")
    assert missing_for_deal_stage(d, "D1", "repeat") == [
        "the contract terms (deal.contract_terms or account.contract_terms)"
    ]
    d.account.contract_terms = "Framework agreement 2026-2028"
    assert missing_for_deal_stage(d, "D1", "repeat") == []


def test_deal_stage_gate_potential_needs_a_contact_with_position_and_role():
    d = _account(stage="lead")
    d.persons[0].roles = []
    assert missing_for_deal_stage(d, "D1", "potential") == [
        "a contact person with position and buying-center role (persons)"
    ]


def _moved_around_the_api(d: Dossier, stage: str, on: date) -> None:
    """Change a deal's stage without ``move_deal`` (as code that builds records might)."""
    deal = d.deals[0]
    d.deals[0] = deal.model_copy(
        update={"stage": stage, "history": [*deal.history, StageChange(stage=stage, on=on)]})


def test_move_deal_refuses_a_stage_with_missing_information_at_once():
    d = _account(stage="lead")
    with pytest.raises(StageGateError, match=r"Deal D1 of account ACME cannot move into stage "
                                             r"'sale'; missing: the product/service"):
        d.move_deal("D1", "sale", on=date(2026, 2, 1))
    assert d.deals[0].stage == "lead" and d.deals[0].history == []  # unchanged
    d.update_deal("D1", need="N1")  # the need holds product, volume and wanted date
    moved = d.move_deal("D1", "sale", on=date(2026, 2, 1))
    assert (moved.stage, moved.history) == ("sale", [StageChange(stage="sale",
                                                                 on=date(2026, 2, 1))])


def test_saving_a_deal_moved_into_a_stage_with_missing_information_is_refused(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save(_account(stage="lead"))
    d = ws.load("ACME")
    _moved_around_the_api(d, "sale", date(2026, 2, 1))
    before = (len(ws.history("ACME")), ws.load("ACME").model_dump_json())
    with pytest.raises(StageGateError, match=r"Deal D1 of account ACME cannot move into stage "
                                             r"'sale'; missing: the product/service"):
        ws.save(d)
    assert (len(ws.history("ACME")), ws.load("ACME").model_dump_json()) == before
    d.update_deal("D1", need="N1")  # the need holds product, volume and wanted date
    assert ws.save(d).number == 2


def test_deals_in_a_crm_stage_model_are_not_gated(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save(_account(stage="Prospecting"))
    d = ws.load("ACME")
    d.move_deal("D1", "Engaging", on=date(2026, 2, 1))
    assert ws.save(d).number == 2


def test_a_new_deal_is_recorded_where_it_stands(tmp_path):
    # A deal saved for the first time (e.g. won history from a CRM import) is not "moved"; the
    # gate applies from its next move on.
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save(_account(stage="buyer", outcome="won"))
    d = ws.load("ACME")
    with pytest.raises(StageGateError, match="missing: the product/service"):
        d.move_deal("D1", "repeat", on=date(2026, 2, 1))
    _moved_around_the_api(d, "repeat", date(2026, 2, 1))
    with pytest.raises(StageGateError, match="missing: the product/service"):
        ws.save(d)
