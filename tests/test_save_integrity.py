"""Integrity of every save: the store checks the whole dossier, however its objects were changed.

Each bad edit found by users (a duplicate interaction id, a duplicate deal id, an interaction with
a participant who does not exist, deal stages ``banana`` and ``negotiation-xyz``, a gate refusal,
a stale save) is refused with an error naming the record and the field, and the store is left
exactly as it was. One account's bad data then can never fail another account's analysis.
"""

from __future__ import annotations

from datetime import date

import pytest

from kam.errors import InputError, StageGateError, StaleRevision
from kam.funnel import funnel
from kam.model import (
    Account,
    Deal,
    Dossier,
    Interaction,
    Person,
    RevenueLine,
    StageChange,
    Team,
    TeamMember,
    tables,
    validate_dossier,
)
from kam.store import Workspace


def _dossier(account_id: str = "ACME") -> Dossier:
    return Dossier(
        account=Account(id=account_id, name=f"{account_id} Steel", phone="+1 555 0100",
                        address="1 Mill Rd", kam="ann"),
        persons=[Person(id="P1", name="Eva Stark", position="Buyer", roles=["buyer"])],
        interactions=[Interaction(id="I1", date=date(2026, 1, 10), kind="call",
                                  participants=["P1"], summary="intro")],
        deals=[Deal(id="D1", title="Pumps", stage="lead", created=date(2026, 1, 5),
                    history=[StageChange(stage="lead", on=date(2026, 1, 5))])],
    )


@pytest.fixture
def ws(store_location):
    w = Workspace(store_location, create=True)
    w.save_team(Team(members=[TeamMember(id="ann", name="Ann Kam"),
                              TeamMember(id="bob", name="Bob Kam")]))
    w.save(_dossier("ACME"), author="ann")
    w.save(_dossier("OTHER"), author="bob")
    yield w
    w.close()


def _snapshot(ws: Workspace) -> dict[str, tuple[int, str]]:
    """Everything observable about the store: per account, its history length and newest data."""
    return {a: (len(ws.history(a)), ws.load(a).model_dump_json()) for a in ws.account_ids()}


def _refused(ws: Workspace, d: Dossier, error: type[Exception], match: str) -> None:
    before = _snapshot(ws)
    with pytest.raises(error, match=match):
        ws.save(d, author="ann")
    assert _snapshot(ws) == before


# -- the bad edits users made, each mutated in place after loading ---------------------------
def test_save_refuses_a_duplicate_interaction_id(ws):
    d = ws.load("ACME")
    d.interactions.append(Interaction(id="I1", date=date(2026, 2, 1), kind="meeting"))
    _refused(ws, d, InputError,
             r"account ACME / interactions, field 'id': duplicate id 'I1' \(2 records\)")


def test_save_refuses_a_duplicate_deal_id(ws):
    d = ws.load("ACME")
    d.deals.append(Deal(id="D1", title="Valves"))
    _refused(ws, d, InputError, r"account ACME / deals, field 'id': duplicate id 'D1'")


def test_save_refuses_an_interaction_whose_participant_does_not_exist(ws):
    d = ws.load("ACME")
    d.interactions[0].participants.append("ghost")  # list mutation: no assignment check runs
    _refused(ws, d, InputError,
             r"account ACME / interactions\[0\] \(I1\), field 'participants': refers to unknown "
             r"person 'ghost'; known: P1")


@pytest.mark.parametrize("stage", ["banana", "negotiation-xyz"])
def test_save_refuses_a_deal_stage_outside_the_stage_model(ws, stage):
    d = ws.load("ACME")
    deal = d.deals[0]
    # Around the named edits (which refuse it at once): a record rebuilt with the bad stage.
    d.deals[0] = deal.model_copy(update={
        "stage": stage, "history": [*deal.history, StageChange(stage=stage, on=date(2026, 2, 1))]})
    _refused(ws, d, InputError,
             rf"account ACME / deals\[0\] \(D1\), field 'stage': unknown deal stage '{stage}'; "
             r"valid: lead, potential, sale, buyer, repeat \(aliases: ")


def test_save_refuses_an_unknown_stage_in_a_deal_history(ws):
    d = ws.load("ACME")
    d.deals[0].history.append(StageChange(stage="banana", on=date(2026, 2, 1)))
    _refused(ws, d, InputError, r"deals\[0\] \(D1\), field 'history\[1\]\.stage': unknown deal "
                                r"stage 'banana'")


def test_move_deal_refuses_an_unknown_stage_at_once():
    d = _dossier()
    with pytest.raises(InputError, match=r"account ACME / deals \(D1\), field 'stage': unknown "
                                         r"deal stage 'banana'; valid: lead, potential"):
        d.move_deal("D1", "banana", on=date(2026, 2, 1))
    assert d.deals[0].stage == "lead"


def test_setting_a_deal_stage_directly_is_refused_with_the_way_to_do_it():
    d = _dossier()
    with pytest.raises(InputError, match=r"set a deal's stage with "
                                         r"dossier\.move_deal\('D1', 'sale', on=\.\.\.\)"):
        d.deals[0].stage = "sale"
    assert d.deals[0].stage == "lead"


def test_save_refuses_a_stage_change_without_stage_history(ws):
    d = ws.load("ACME")
    d.deals[0] = d.deals[0].model_copy(update={"stage": "potential"})
    _refused(ws, d, InputError,
             r"deals\[0\] \(D1\), field 'history': the stage changed from 'lead' to 'potential' "
             r"without a stage history entry; move deals with dossier\.move_deal")


def test_save_refuses_a_value_out_of_range_built_without_validation(ws):
    d = ws.load("ACME")
    # model_construct skips validation, as code building records in bulk might.
    d.revenue.append(RevenueLine.model_construct(id="R-1", period="2026-01", revenue=-5.0,
                                                 cogs=0.0))
    _refused(ws, d, InputError, r"account ACME / revenue\[0\] \(R-1\), field 'revenue': Input "
                                r"should be greater than or equal to 0")


def test_save_refuses_something_that_is_no_record_at_all(ws):
    d = ws.load("ACME")
    d.persons.append({"id": "P2"})  # type: ignore[arg-type]  # a dict where a Person belongs
    _refused(ws, d, InputError, r"account ACME / persons\[1\] \(P2\), field 'name': required "
                                r"field is missing")


def test_save_refuses_a_team_reference_to_nobody(ws):
    d = ws.load("ACME")
    d.interactions[0].our_participants.append("zed")
    d.persons[0].reached_by.append("zed")
    before = _snapshot(ws)
    with pytest.raises(InputError) as info:
        ws.save(d, author="ann")
    assert _snapshot(ws) == before
    assert {(p.record, p.field) for p in info.value.problems} == {
        ("account ACME / interactions[0] (I1)", "our_participants"),
        ("account ACME / persons[0] (P1)", "reached_by"),
    }
    assert "'zed' is not a team member; team: ann, bob" in str(info.value)


def test_save_refuses_a_gate_refusal_and_keeps_the_store(ws):
    d = ws.load("ACME")
    d.account.address = None  # stage 2 needs it
    d.account.sales_stage = "potential"
    _refused(ws, d, StageGateError, r"Account ACME cannot move into stage 'potential'; "
                                    r"missing: address of the account")


def test_a_stale_save_is_refused_and_keeps_the_other_change(ws):
    mine, theirs = ws.load("ACME"), ws.load("ACME")
    theirs.account.category = "A"
    ws.save(theirs, author="bob")
    mine.account.category = "C"
    _refused(ws, mine, StaleRevision, r"your edit is based on revision 1, the newest is "
                                      r"revision 2")
    assert ws.load("ACME").account.category.value == "A"


def test_validate_dossier_refuses_an_unknown_deal_stage_as_an_import_does():
    data = _dossier().model_dump(mode="json")
    data["deals"][0]["stage"] = "banana"
    with pytest.raises(InputError, match=r"deals.yaml: account ACME / deals\[0\] \(D1\), field "
                                         r"'stage': unknown deal stage 'banana'"):
        validate_dossier(data, file="deals.yaml")


def test_crm_stage_names_of_the_stage_model_are_accepted(ws):
    d = ws.load("ACME")
    d.move_deal("D1", "Engaging", on=date(2026, 2, 1))  # an alias of 'potential'
    assert ws.save(d, author="ann").number == 2


def test_the_portfolio_of_the_team_still_runs_after_a_refused_bad_edit(ws):
    d = ws.load("ACME")
    d.deals.append(Deal(id="D1", title="Valves"))
    with pytest.raises(InputError):
        ws.save(d, author="ann")
    f = funnel(tables(ws.load_all()))
    assert f.stages["reached"].iloc[0] == 2  # one lead deal in each of the two accounts


# -- named edits: ids from kam, domain records, safe re-runs ---------------------------------
def test_a_rerun_of_the_same_edit_adds_nothing_and_saves_no_new_revision(ws):
    for _ in range(2):  # the same notebook cell, run twice
        d = ws.load("ACME")
        x = d.log_interaction(date(2026, 3, 2), "meeting", participants=["P1"],
                              our_participants=["ann"], summary="Offer review")
        ws.save(d, author="ann", message="meeting")
    assert x.id == "I2"
    assert [i.id for i in ws.load("ACME").interactions] == ["I1", "I2"]
    assert ws.history("ACME")["revision"].tolist() == [1, 2]


def test_saving_an_unchanged_dossier_returns_the_newest_revision(ws):
    d = ws.load("ACME")
    rev = ws.save(d, author="ann")
    assert (rev.number, rev.author) == (1, "ann")
    assert len(ws.history("ACME")) == 1


def test_new_records_get_their_ids_from_kam_continuing_the_numbering():
    d = _dossier()
    assert d.add_person("Max Power", position="CEO", roles=["power"]).id == "P2"
    assert d.add_deal("Valves").id == "D2"
    assert d.log_interaction(date(2026, 2, 1), "call", participants=["P2"]).id == "I2"
    empty = Dossier(account=Account(id="NEW", name="New Co"))
    assert empty.add_person("Eva").id == "NEW-P1"


def test_move_deal_records_the_stage_history_days_in_stage_need():
    d = _dossier()
    d.update_deal("D1", product="pump set", volume=4, expected_close=date(2026, 6, 1))
    d.move_deal("D1", "potential", on=date(2026, 2, 1))
    d.move_deal("D1", "sale", on=date(2026, 3, 1))
    assert [(h.stage, h.on) for h in d.deal("D1").history] == [
        ("lead", date(2026, 1, 5)), ("potential", date(2026, 2, 1)), ("sale", date(2026, 3, 1))]


def test_move_deal_refuses_a_date_before_the_last_move():
    d = _dossier()
    with pytest.raises(InputError, match=r"the move on 2026-01-01 is before the deal's last "
                                         r"stage change \('lead' on 2026-01-05\)"):
        d.move_deal("D1", "potential", on=date(2026, 1, 1))


def test_log_interaction_next_step_becomes_a_commitment_or_a_plan_action():
    d = _dossier()
    d.log_interaction(date(2026, 3, 2), "meeting", participants=["P1"], our_participants=["ann"],
                      next_step="Send the offer", next_step_due=date(2026, 3, 9),
                      next_step_as="commitment")
    c = d.commitments[0]
    assert (c.description, c.due, c.made_on, c.owner, c.to_person) == (
        "Send the offer", date(2026, 3, 9), date(2026, 3, 2), "ann", "P1")
    d.start_plan("2026")
    d.log_interaction(date(2026, 3, 5), "call", participants=["P1"], our_participants=["ann"],
                      next_step="Book the plant visit", next_step_due=date(2026, 3, 20),
                      next_step_as="action")
    a = d.plan.actions[0]
    assert (a.title, a.owner, a.due, a.start) == (
        "Book the plant visit", "ann", date(2026, 3, 20), date(2026, 3, 5))


def test_complete_action_and_commitment_record_the_date():
    d = _dossier()
    d.start_plan("2026")
    a = d.add_action("Plant visit", "ann", date(2026, 4, 1))
    c = d.add_commitment("Repair the pump", date(2026, 4, 10), to_person="P1")
    assert d.complete_action(a.id, on=date(2026, 3, 30)).done_on == date(2026, 3, 30)
    assert d.complete_commitment(c.id, on=date(2026, 4, 2)).status.value == "done"


def test_link_needs_only_upward():
    d = _dossier()
    effect = d.add_need("Lower downtime", level="effect", function="production")
    problem = d.add_need("Pump leaks", function="maintenance", leads_to=[effect.id])
    assert d.need(problem.id).leads_to == [effect.id]
    with pytest.raises(InputError, match=r"edges go upward only"):
        d.link_needs(effect.id, problem.id)


def test_a_named_edit_with_an_unknown_reference_changes_nothing():
    d = _dossier()
    before = d.model_dump_json()
    with pytest.raises(InputError, match=r"field 'participants': refers to unknown person "
                                         r"'ghost'; known: P1"):
        d.log_interaction(date(2026, 3, 2), "meeting", participants=["ghost"])
    with pytest.raises(InputError, match=r"account ACME / deals, field 'id': no deal 'D9'; "
                                         r"known: D1"):
        d.move_deal("D9", "sale", on=date(2026, 3, 2))
    assert d.model_dump_json() == before


def test_restore_saves_an_earlier_revision_as_a_new_one(ws):
    d = ws.load("ACME")
    d.log_interaction(date(2026, 3, 2), "meeting", participants=["P1"], summary="Review")
    ws.save(d, author="ann")
    rev = ws.restore("ACME", 1, author="ann")
    assert (rev.number, rev.message) == (3, "restored revision 1")
    assert ws.load("ACME").model_dump_json() == ws.load("ACME", as_of=1).model_dump_json()
    assert len(ws.load("ACME", as_of=2).interactions) == 2  # history keeps the undone edit


def test_restore_over_a_newer_change_is_stale(ws):
    d = ws.load("ACME")
    d.account.category = "A"
    ws.save(d, author="bob")
    with pytest.raises(StaleRevision):
        ws.restore("ACME", 1, author="ann", based_on=1)
    assert len(ws.history("ACME")) == 2


def test_a_refused_next_step_action_adds_no_interaction():
    d = _dossier()  # no plan yet
    with pytest.raises(InputError, match="the account has no plan yet"):
        d.log_interaction(date(2026, 3, 2), "call", participants=["P1"], our_participants=["ann"],
                          next_step="Visit", next_step_due=date(2026, 3, 9),
                          next_step_as="action")
    assert [i.id for i in d.interactions] == ["I1"]


def test_a_move_without_a_date_is_refused_naming_the_field():
    d = _dossier()
    with pytest.raises(InputError, match=r"deals \(D1\), field 'on': the date of the move is "
                                         r"required; found None"):
        d.move_deal("D1", "potential", on=None)  # type: ignore[arg-type]


def test_a_link_without_persons_is_refused_naming_the_field():
    d = _dossier()
    with pytest.raises(InputError, match=r"field 'source': pick the source person"):
        d.link_persons("", "P1")
