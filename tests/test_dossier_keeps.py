"""What the dossier keeps: prospect assessments (DOMAIN.md §5) stored, versioned and read by the
scoring; the client's decision stage per deal (DOMAIN.md §3 tool 3, Appendix B)."""

from __future__ import annotations

import math
from datetime import date

import pytest

from kam.errors import InputError
from kam.model import Account, Deal, Dossier, validate_dossier
from kam.model.activity import Assessment
from kam.playbook import deal_decision_stage, deal_status, next_actions
from kam.prospects import latest_assessments, prospect_score, rank_prospects
from kam.store import Workspace

TODAY = date(2026, 6, 1)


def _acme() -> Dossier:
    return Dossier(account=Account(id="ACME", name="Acme Steel", phone="+1 555 0100"))


# -- prospect assessments (DOMAIN.md §5) -----------------------------------------------------------
def test_prospect_score_reads_the_latest_stored_assessment_of_each_factor():
    """ann judged competitors 2 and added value 4 in March; bo judged competitors 5 in May.
    The latest per factor is competitors 5 (bo, May) and added value 4 (ann, March): the score
    equals the one with these values passed by hand."""
    d = _acme()
    d.assess_prospect({"competitors": 2, "added_value": 4}, by="ann", on=date(2026, 3, 2))
    d.assess_prospect({"competitors": 5}, by="bo", on=date(2026, 5, 4))
    assert latest_assessments(d) == {"competitors": 5.0, "added_value": 4.0}
    stored = prospect_score(d, today=TODAY)
    by_hand = prospect_score(d, today=TODAY, assessments={"competitors": 5, "added_value": 4})
    assert stored.score == by_hand.score
    row = stored.contributions.set_index("factor").loc["competitors"]
    assert (row["raw"], row["source"]) == (5.0, "assessment")
    # passed assessments are used instead of the stored ones
    passed = prospect_score(d, today=TODAY, assessments={"competitors": 1})
    assert passed.contributions.set_index("factor").loc["added_value", "source"] == "default"
    assert math.isclose(math.fsum(stored.contributions["contribution"]), stored.score)


def test_rank_prospects_uses_the_stored_assessments_of_accounts_not_passed():
    """Two otherwise identical accounts; A is judged low competition (1), B high (5): A ranks
    first. Passing B's assessments by hand (competitors 1) makes them equal again."""
    a = Dossier(account=Account(id="A", name="A", phone="1"))
    b = Dossier(account=Account(id="B", name="B", phone="1"))
    a.assess_prospect({"competitors": 1}, by="ann", on=date(2026, 3, 2))
    b.assess_prospect({"competitors": 5}, by="ann", on=date(2026, 3, 2))
    ranked = rank_prospects([a, b], today=TODAY)
    assert ranked["account_id"].tolist() == ["A", "B"]
    assert ranked["score"].iloc[0] > ranked["score"].iloc[1]
    same = rank_prospects([a, b], today=TODAY, assessments={"B": {"competitors": 1}})
    assert same["score"].iloc[0] == same["score"].iloc[1]


def test_assessments_are_versioned_like_everything_else(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    d = _acme()
    d.assess_prospect({"competitors": 2}, by="ann", on=date(2026, 3, 2))
    ws.save(d, author="ann")
    d = ws.load("ACME")
    again = d.assess_prospect({"competitors": 2}, by="ann", on=date(2026, 3, 2))
    assert again.id == "ACME-AS1" and len(d.assessments) == 1  # the same judgement: not added
    d.assess_prospect({"competitors": 4}, by="bo", on=date(2026, 5, 4), note="new rival")
    ws.save(d, author="bo", message="reassessed")
    assert [a.id for a in ws.load("ACME").assessments] == ["ACME-AS1", "ACME-AS2"]
    assert [a.id for a in ws.load("ACME", as_of=1).assessments] == ["ACME-AS1"]
    assert latest_assessments(ws.load("ACME", as_of=1)) == {"competitors": 2.0}
    assert latest_assessments(ws.load("ACME")) == {"competitors": 4.0}


@pytest.mark.parametrize(("values", "message"), [
    ({"competition": 3}, r"field 'values.competition': unknown factor 'competition'; factors: "
                         r"profile_completeness, financial_state"),
    ({"competitors": 0}, r"field 'values.competitors': 0 is outside the scale 1..5 of factor "
                         r"'competitors'"),
])
def test_a_bad_assessment_is_refused_by_the_edit_and_at_the_door(tmp_path, values, message):
    d = _acme()
    before = d.model_copy(deep=True)
    with pytest.raises(InputError, match=r"account ACME / new assessment, " + message):
        d.assess_prospect(values, by="ann", on=date(2026, 3, 2))
    assert d == before
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save(d, author="ann")
    stored = ws.load("ACME")
    stored.assessments.append(Assessment(id="AS9", on=date(2026, 3, 2), by="ann",
                                         values=values))
    with pytest.raises(InputError, match=r"account ACME / assessments\[0\] \(AS9\), " + message):
        ws.save(stored, author="ann")
    assert ws.history("ACME")["revision"].tolist() == [1]
    assert ws.load("ACME").assessments == []


def test_an_assessment_value_must_be_a_number():
    with pytest.raises(InputError, match=r"assessments\[0\] \(AS1\), field 'values': .*factor "
                                         r"'competitors': expected a number, found True"):
        validate_dossier({"account": {"id": "ACME", "name": "Acme"}, "assessments": [
            {"id": "AS1", "on": "2026-03-02", "by": "ann", "values": {"competitors": True}}]})


# -- the decision stage of each deal (Appendix B) --------------------------------------------------
def _two_deals(**account: str) -> Dossier:
    return Dossier(account=Account(id="ACME", name="Acme", **account), deals=[
        Deal(id="D1", title="Pumps", stage="sale", decision_stage="negotiation and decision"),
        Deal(id="D2", title="Valves", stage="lead")])


def test_each_deal_has_the_clients_decision_stage_of_its_own():
    """D1 records its own stage; D2 records none and falls back to the account's stage, then
    (no account stage) to the playbook's mapping of its sales stage (lead -> need
    recognition, templates/playbook.yaml)."""
    d = _two_deals(decision_stage="evaluating suppliers")
    assert [deal_decision_stage(d, x).value for x in d.deals] == [
        "negotiation and decision", "evaluating suppliers"]
    d = _two_deals()
    assert [deal_decision_stage(d, x).value for x in d.deals] == [
        "negotiation and decision", "need recognition"]
    actions = next_actions(d, TODAY).drop_duplicates("deal_id").set_index("deal_id")
    assert actions["decision_stage"].to_dict() == {"D1": "negotiation and decision",
                                                   "D2": "need recognition"}
    status = deal_status(d, TODAY).set_index("deal_id")["decision_stage"]
    assert status.to_dict() == {"D1": "negotiation and decision", "D2": "need recognition"}


def test_the_deal_decision_stage_is_set_by_a_named_edit_and_validated():
    d = _two_deals()
    d.update_deal("D2", decision_stage="proposal and selection")
    assert deal_decision_stage(d, d.deal("D2")).value == "proposal and selection"
    before = d.model_copy(deep=True)
    with pytest.raises(InputError, match=r"account ACME / deals \(D2\), field 'decision_stage': "
                                         r"Input should be 'need recognition', 'defining "
                                         r"requirements', 'evaluating suppliers'"):
        d.update_deal("D2", decision_stage="haggling")
    assert d == before
