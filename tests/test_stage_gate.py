"""The stage gate of DOMAIN.md §1: one test per row of the minimum-information table, each
checking that what is missing is reported exactly and that complete information passes; then
that the requirements are cumulative and that the workspace refuses a move into a stage whose
information is missing, leaving the store as it was."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.errors import StageGateError
from kam.model import (
    Account,
    Deal,
    Dossier,
    Need,
    Person,
    SalesStage,
    check_stage,
    missing_for_stage,
    recommended_for_stage,
)
from kam.store import Workspace

# The messages, pinned word for word.
LEAD = "contact information: at least two of {{name or contact person, address, phone}} (have {})"
ADDRESS = "address of the account (account.address)"
CONTACT = "a contact person with position and buying-center role (persons)"
NEED = ("a need with product/service, volume and wanted delivery date "
        "(needs[].product, .volume, .wanted_date)")
WON = ("a won deal with volume, date and delivery terms "
       "(deals[].volume, .closed_on, .delivery_terms)")
DEALS_MADE = "the deals made: at least two won deals (have {})"
CONTRACT = "contract terms (account.contract_terms or deals[].contract_terms)"

STAGES = [s.value for s in SalesStage]


def _with(d: Dossier, **changes: object) -> Dossier:
    """A copy of ``d`` with top-level collections replaced (validated again)."""
    return Dossier.model_validate({**d.model_dump(), **changes})


# -- row 1: lead ---------------------------------------------------------------------------
def test_stage_gate_lead_needs_two_of_name_address_phone() -> None:
    name_only = Dossier(account=Account(id="ACME", name="Acme Steel"))
    assert missing_for_stage(name_only, "lead") == [LEAD.format(1)]
    for extra in ({"phone": "+1 555 0100"}, {"address": "1 Mill Road"}):
        assert missing_for_stage(
            Dossier(account=Account(id="ACME", name="Acme Steel", **extra)), "lead") == []


def test_stage_gate_lead_counts_a_contact_persons_phone_but_not_one_who_left() -> None:
    caller = Person(id="P1", name="Ann Smith", phone="+1 555 0101")
    with_contact = Dossier(account=Account(id="ACME", name="Acme Steel"), persons=[caller])
    assert missing_for_stage(with_contact, "lead") == []
    gone = caller.model_copy(update={"left_on": date(2026, 1, 31)})
    left = Dossier(account=Account(id="ACME", name="Acme Steel"), persons=[gone])
    assert missing_for_stage(left, "lead") == [LEAD.format(1)]


def test_stage_gate_lead_recommends_a_category_without_requiring_it(acme) -> None:
    d = acme("lead", category=None)
    assert missing_for_stage(d, "lead") == []
    assert recommended_for_stage(d, "lead") == ["a category (A/B/C) is recommended"]
    assert recommended_for_stage(acme("lead"), "lead") == []


# -- row 2: potential ----------------------------------------------------------------------
def test_stage_gate_potential_needs_address_and_contact_person_with_position_and_role(
        acme) -> None:
    assert missing_for_stage(acme("potential"), "potential") == []
    bare = acme("lead")
    assert missing_for_stage(bare, "potential") == [ADDRESS, CONTACT]
    complete = acme("potential")
    person = complete.persons[0]
    for incomplete in (person.model_copy(update={"position": None}),
                       person.model_copy(update={"roles": []}),
                       person.model_copy(update={"left_on": date(2026, 1, 31)})):
        assert missing_for_stage(_with(complete, persons=[incomplete]), "potential") == [CONTACT]
    assert missing_for_stage(acme("potential", address=None), "potential") == [ADDRESS]


# -- row 3: sale ---------------------------------------------------------------------------
@pytest.mark.parametrize("blank", ["product", "volume", "wanted_date"])
def test_stage_gate_sale_needs_product_volume_and_wanted_delivery_date(acme, blank) -> None:
    complete = acme("sale")
    assert missing_for_stage(complete, "sale") == []
    need = complete.needs[0].model_copy(update={blank: None})
    assert missing_for_stage(_with(complete, needs=[need]), "sale") == [NEED]
    assert missing_for_stage(acme("potential"), "sale") == [NEED]


def test_stage_gate_sale_is_met_by_any_one_complete_need(acme) -> None:
    d = acme("sale")
    vague = Need(id="N0", title="Energy use")  # no product, volume or date
    assert missing_for_stage(_with(d, needs=[vague, *d.needs]), "sale") == []


# -- row 4: buyer --------------------------------------------------------------------------
@pytest.mark.parametrize("change", [
    {"volume": None}, {"closed_on": None, "outcome": "open"}, {"delivery_terms": None},
    {"outcome": "refused", "refusal_reason": "high price"}, {"outcome": "declined"},
], ids=["no volume", "open, no date", "no delivery terms", "refused", "declined"])
def test_stage_gate_buyer_needs_won_deal_with_volume_date_and_delivery_terms(acme, change) -> None:
    complete = acme("buyer")
    assert missing_for_stage(complete, "buyer") == []
    deal = Deal.model_validate({**complete.deals[0].model_dump(), **change})
    assert missing_for_stage(_with(complete, deals=[deal]), "buyer") == [WON]


# -- row 5: repeat -------------------------------------------------------------------------
def test_stage_gate_repeat_needs_deals_made_and_contract_terms(acme) -> None:
    complete = acme("repeat")
    assert missing_for_stage(complete, "repeat") == []
    once = acme("buyer")
    assert missing_for_stage(once, "repeat") == [DEALS_MADE.format(1), CONTRACT]
    no_terms = acme("repeat", contract_terms=None)
    assert missing_for_stage(no_terms, "repeat") == [CONTRACT]
    # Contract terms on one of the won deals are enough too.
    on_deal = no_terms.deals[1].model_copy(update={"contract_terms": "Framework 2026-2028"})
    assert missing_for_stage(_with(no_terms, deals=[no_terms.deals[0], on_deal]), "repeat") == []


# -- the table as a whole ------------------------------------------------------------------
@pytest.mark.parametrize("stage", STAGES)
def test_stage_gate_requirements_are_cumulative(acme, stage) -> None:
    """acme(stage) holds exactly what ``stage`` needs: it passes that stage and every earlier
    one, and the next stage reports only the next row's information."""
    d = acme(stage)
    n = SalesStage(stage).number
    for earlier in STAGES[:n]:
        assert missing_for_stage(d, earlier) == []
    expected_next = {"lead": [ADDRESS, CONTACT], "potential": [NEED], "sale": [WON],
                     "buyer": [DEALS_MADE.format(1), CONTRACT], "repeat": None}[stage]
    if expected_next is not None:
        assert missing_for_stage(d, STAGES[n]) == expected_next


def test_stage_gate_reports_every_missing_row_in_stage_order() -> None:
    d = Dossier(account=Account(id="ACME", name="Acme Steel"))
    assert missing_for_stage(d, "repeat") == [
        LEAD.format(1), ADDRESS, CONTACT, NEED, WON, DEALS_MADE.format(0), CONTRACT]


@settings(max_examples=50, deadline=None)
@given(address=st.booleans(), phone=st.booleans(), position=st.booleans(), role=st.booleans(),
       need=st.booleans(), won=st.integers(0, 2), terms=st.booleans(), contract=st.booleans())
def test_stage_gate_what_is_missing_only_grows_with_the_stage(
        address, phone, position, role, need, won, terms, contract) -> None:
    """For any mix of information, what a stage lacks is a prefix of what the next stage lacks,
    so an account that passes a stage passes every earlier one."""
    d = Dossier(
        account=Account(id="ACME", name="Acme", address="1 Mill Road" if address else None,
                        phone="+1 555 0100" if phone else None,
                        contract_terms="Framework" if contract else None),
        persons=[Person(id="P1", name="Ann", position="Engineer" if position else None,
                        roles=["entry"] if role else [])],
        needs=[Need(id="N1", title="Drives", product="Converter", volume=3,
                    wanted_date=date(2026, 5, 1))] if need else [],
        deals=[Deal(id=f"D{i}", title="Order", outcome="won", volume=3,
                    closed_on=date(2026, 4, 1), delivery_terms="DAP" if terms else None)
               for i in range(won)])
    missing = [missing_for_stage(d, s) for s in STAGES]
    for before, after in pairwise(missing):
        assert after[:len(before)] == before


def test_check_stage_raises_naming_everything_missing(acme) -> None:
    with pytest.raises(StageGateError, match=(
            r"^Account ACME cannot move into stage 'potential'; missing: address of the account "
            r"\(account\.address\); a contact person with position and buying-center role "
            r"\(persons\)$")) as info:
        check_stage(acme("lead"), "potential")
    assert info.value.stage == "potential"
    assert info.value.missing == [ADDRESS, CONTACT]
    check_stage(acme("repeat"))  # its own stage, complete: no error


def test_unknown_stage_names_the_stages(acme) -> None:
    with pytest.raises(ValueError, match=r"unknown sales stage 'prospect'; the stages are "
                                         r"lead, potential, sale, buyer, repeat"):
        missing_for_stage(acme("lead"), "prospect")


# -- the workspace enforces it -------------------------------------------------------------
def _snapshot(ws: Workspace, account_id: str) -> tuple[list[list[object]], str]:
    return (ws.history(account_id).values.tolist(), ws.load(account_id).model_dump_json())


def test_workspace_save_refuses_a_stage_whose_information_is_missing(
        workspace: Workspace, acme) -> None:
    workspace.save(acme("lead"), author="ann", message="new lead")
    before = _snapshot(workspace, "ACME")
    d = workspace.load("ACME")
    d.account.sales_stage = SalesStage.POTENTIAL  # no address, no contact person yet
    with pytest.raises(StageGateError, match="cannot move into stage 'potential'; missing: "
                                             "address of the account"):
        workspace.save(d, author="ann", message="moved on too early")
    assert _snapshot(workspace, "ACME") == before
    assert workspace.head("ACME") == 1


def test_workspace_save_accepts_the_move_once_the_information_is_there(
        workspace: Workspace, acme) -> None:
    workspace.save(acme("lead"), author="ann")
    d = workspace.load("ACME")
    complete = acme("potential")
    d.account = complete.account
    d.persons = complete.persons
    assert workspace.save(d, author="ann", message="met the plant engineer").number == 2
    assert workspace.load("ACME").account.sales_stage is SalesStage.POTENTIAL


def test_new_account_saved_straight_into_a_late_stage_is_gated(
        workspace: Workspace, acme) -> None:
    d = acme("potential", sales_stage="buyer")  # claims buyer, has no won deal
    with pytest.raises(StageGateError, match=r"cannot move into stage 'buyer'; missing: "
                                             r"a need with product/service"):
        workspace.save(d, author="ann")
    assert "ACME" not in workspace
    assert workspace.account_ids() == []


def test_save_many_with_one_gated_account_saves_nothing(workspace: Workspace, acme) -> None:
    good = acme("sale")
    bad = acme("lead", id="BETA", name="Beta Pumps", sales_stage="sale")
    with pytest.raises(StageGateError, match="Account BETA cannot move into stage 'sale'"):
        workspace.save_many([good, bad], author="import")
    assert workspace.account_ids() == []


def test_moving_back_to_an_earlier_stage_is_not_gated(workspace: Workspace, acme) -> None:
    workspace.save(acme("buyer"), author="ann")
    d = workspace.load("ACME")
    d.account.sales_stage = SalesStage.LEAD  # e.g. the client was lost and is re-qualified
    assert workspace.save(d, author="ann", message="back to lead").number == 2
