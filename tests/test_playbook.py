"""Stages and playbooks: relationship stage vs contact pattern (DOMAIN.md Appendix C), the
decision-cycle playbook (§3 tools 3-4, Appendix B) and the deal status report (§3 tool 5)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from kam.config import template_path
from kam.errors import ConfigError, InputError
from kam.funnel import StageModel
from kam.model import (
    Account,
    Commitment,
    Deal,
    DecisionStage,
    Dossier,
    Interaction,
    Need,
    Person,
    StageChange,
)
from kam.playbook import (
    Playbook,
    StageFit,
    check_stages,
    deal_decision_stage,
    deal_status,
    load_playbook,
    next_actions,
    relationship_fit,
)

TODAY = date(2026, 6, 30)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


@pytest.fixture(scope="module")
def book() -> Playbook:
    return load_playbook()


def make(decision_stage: str | None = None, *, gone: tuple[str, ...] = (),
         **extra: Any) -> Dossier:
    persons = [
        Person(id="pE", name="Eva Entry", roles=["entry"], department="Purchasing",
               influence=0.4),
        Person(id="pP", name="Paul Power", roles=["power"], position="CEO",
               department="Management", influence=0.9),
        Person(id="pX", name="Xena Pain", roles=["pain"], department="Production",
               influence=0.5),
        Person(id="pA", name="Anton Against", roles=["influencer"], department="Finance",
               influence=0.7, business_motivation="Cut capex"),
    ]
    needs = [
        Need(id="N1", title="Line stops", function="Production", awareness="aware, no solution",
             leads_to=["C1"]),
        Need(id="N2", title="Scrap", function="Production", awareness="solving",
             leads_to=["C1"]),
        Need(id="C1", title="MTBF > 500 h", level="criterion", function="Maintenance",
             capability=4, leads_to=["E1"]),
        Need(id="C2", title="Cheapest price", level="criterion", function="Purchasing",
             capability=2, leads_to=["E1"]),
        Need(id="E1", title="Output +5%", level="effect", function="Production", goal="growth",
             persons=["pP"]),
    ]
    deals = [
        Deal(id="D1", title="Drives", stage="sale", need="N1", for_persons=["pX"],
             against_persons=["pA"]),
        Deal(id="D2", title="Old order", stage="buyer", outcome="won"),
        Deal(id="D3", title="Pumps", stage="sale"),
    ]
    data: dict[str, Any] = dict(
        account=Account(id="ACME", name="Acme", decision_stage=decision_stage),
        persons=[p.model_copy(update={"left_on": ago(10)}) if p.id in gone else p
                 for p in persons], needs=needs, deals=deals)
    data.update(extra)
    return Dossier(**data)


def actions(d: Dossier, deal: str = "D1", **kw: Any) -> list[str]:
    got = next_actions(d, TODAY, **kw)
    return got[got["deal_id"] == deal]["action"].tolist()


# -- configuration ------------------------------------------------------------------------------
def test_default_playbook_covers_every_stage(book: Playbook) -> None:
    assert [s.stage for s in book.decision_stages] == list(DecisionStage)
    assert book.relationship("early KAM").contact_pattern.startswith("Our salesperson")


def test_unknown_decision_stage_lists_the_valid_stages(book: Playbook) -> None:
    with pytest.raises(InputError, match=r"playbook, field 'decision_stage': 'closing' is not a "
                                         r"decision stage; valid: need recognition, defining "
                                         r"requirements, evaluating suppliers"):
        book.decision("closing")
    with pytest.raises(InputError, match=r"'friends' is not a relationship stage; valid: "
                                         r"pre-KAM, early KAM"):
        book.relationship("friends")


def _config(tmp_path: Path, change: Any) -> Path:
    data = yaml.safe_load(template_path("playbook.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "pb.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_config_with_unknown_stage_is_refused(tmp_path: Path) -> None:
    def rename(data: Any) -> None:
        data["decision_stages"][0]["stage"] = "closing"

    with pytest.raises(ConfigError, match=r"decision_stages\.0\.stage: Input should be 'need "
                                          r"recognition', 'defining requirements'"):
        load_playbook(_config(tmp_path, rename))


def test_config_missing_a_stage_is_refused(tmp_path: Path) -> None:
    def drop(data: Any) -> None:
        data["relationship_stages"].pop()

    with pytest.raises(ConfigError, match=r"relationship_stages: missing stage\(s\): uncoupling"):
        load_playbook(_config(tmp_path, drop))


def test_config_action_text_uses_only_fields_its_for_each_offers(tmp_path: Path) -> None:
    def typo(data: Any) -> None:
        data["decision_stages"][2]["actions"][0]["text"] = "Meet {nme}"

    with pytest.raises(ConfigError, match=r"action 'reach-power' uses unknown field\(s\) \{nme\}; "
                                          r"for_each 'power_not_reached' offers: \{account\}, "
                                          r"\{deal\}, \{name\}, \{position\}"):
        load_playbook(_config(tmp_path, typo))


# -- relationship stage vs contact pattern (Appendix C) -------------------------------------------
def _talks(spec: list[tuple[int, list[str], list[str]]]) -> list[Interaction]:
    return [Interaction(id=f"i{i}", date=ago(days), kind="meeting", participants=who,
                        our_participants=ours) for i, (days, who, ours) in enumerate(spec)]


def _people(n: int, functions: int) -> list[Person]:
    return [Person(id=f"p{i}", name=f"P{i}", department=f"F{i % functions}") for i in range(n)]


def fit_of(stage: str, persons: list[Person], talks: list[Interaction]) -> StageFit:
    d = Dossier(account=Account(id="A", name="A", relationship_stage=stage), persons=persons,
                interactions=talks)
    return relationship_fit(d, TODAY)


def test_early_kam_bow_tie_fits() -> None:
    # our salesperson <-> their buyer: one contact in one function
    f = fit_of("early KAM", _people(1, 1), _talks([(10, ["p0"], ["tom"])]))
    assert (f.contacts, f.functions, f.our_people) == (1, 1, 1)
    assert (f.fits, f.verdict, f.suggested_stage) == (True, "fits the stage", "early KAM")
    assert f.contact_pattern == 'Our salesperson and their buyer ("bow tie").'


def test_mid_kam_needs_several_functions() -> None:
    f = fit_of("mid KAM", _people(1, 1), _talks([(10, ["p0"], ["tom"])]))
    assert not f.fits
    assert f.verdict == ("1 active contact(s), the stage needs at least 3; 1 function(s), the "
                         "stage needs at least 2")
    assert f.suggested_stage == "early KAM"


def test_pre_kam_with_several_functions_is_richer_than_its_stage() -> None:
    # 3 contacts in 2 functions meet the minimums of mid KAM (3, 2), not of partnership (6, 3)
    f = fit_of("pre-KAM", _people(3, 2), _talks([(10, ["p0", "p1"], ["tom"]),
                                                 (40, ["p2"], ["tom"])]))
    assert f.verdict == "3 active contacts, more than the 1 of the stage"
    assert f.suggested_stage == "mid KAM"


def test_partnership_needs_our_people_in_parallel() -> None:
    f = fit_of("partnership KAM", _people(6, 3),
               _talks([(5, [f"p{i}" for i in range(6)], ["tom"])]))
    assert f.verdict == "1 of our people involved, the stage needs at least 2"


def test_falling_contacts_signal_uncoupling() -> None:
    persons = [*_people(4, 2), Person(id="gone", name="Gone", department="F0", left_on=ago(5))]
    talks = _talks([(200, ["p0", "p1", "p2", "p3"], ["tom"]), (20, ["p0", "gone"], ["tom"])])
    f = fit_of("uncoupling", persons, talks)
    assert (f.contacts, f.previous_contacts) == (1, 4)  # a person who left is not a contact
    assert f.verdict == "fits the stage; contacts fell from 4 to 1: signs of uncoupling"


# -- deal stages --------------------------------------------------------------------------------
def test_unknown_deal_stage_is_refused_with_valid_stages() -> None:
    d = make(deals=[Deal(id="D1", title="x", stage="sale",
                         history=[StageChange(stage="closing", on=ago(3))]),
                    Deal(id="D2", title="y", stage="Prospecting")])   # an alias: fine
    with pytest.raises(InputError, match=r"deals\[0\] \(D1\), field 'history\[0\]\.stage': "
                                         r"unknown deal stage 'closing'; valid: lead, potential, "
                                         r"sale, buyer, repeat \(aliases: prospecting -> lead"):
        check_stages(d)
    check_stages(make(), StageModel.of(["lead", "sale", "buyer"]))
    with pytest.raises(InputError, match="valid: contact, offer"):
        check_stages(make(), StageModel.of(["contact", "offer"]))


def test_decision_stage_of_a_deal(book: Playbook) -> None:
    d = make()
    # no account decision stage: mapped from the deal stage (aliases too)
    assert deal_decision_stage(d, d.deal("D1")) is DecisionStage.PROPOSAL_SELECTION
    engaging = Deal(id="D9", title="x", stage="Engaging")          # alias of potential
    assert deal_decision_stage(d, engaging) is DecisionStage.DEFINING_REQUIREMENTS
    # the account's decision stage wins
    d2 = make("need recognition")
    assert deal_decision_stage(d2, d2.deal("D1")) is DecisionStage.NEED_RECOGNITION
    unmapped = book.model_copy(update={"deal_stage_to_decision": {}})
    with pytest.raises(InputError, match=r"deal stage 'sale' has no decision stage and the "
                                         r"account records none"):
        deal_decision_stage(d, d.deal("D1"), unmapped)


# -- the playbook made concrete (Appendix B) ------------------------------------------------------
def test_need_recognition_asks_about_open_problems_of_the_deal_chain() -> None:
    d = make("need recognition")
    # D1 serves N1: its chain is N1 -> C1 -> E1 (N2 is being solved by the client; C2 is beside)
    assert actions(d) == [
        "Ask Production problem and implication questions about 'Line stops' (client is aware, "
        "no solution)",
        "Show Acme what similar clients gained, to make the cost of doing nothing visible"]


def test_defining_requirements_proposes_criteria_we_meet_well() -> None:
    d = make("defining requirements")
    # D3 serves no particular need: all criteria; capability 4 >= 3.5 (opportunities.yaml), 2 not
    assert actions(d, "D3") == [
        "Propose 'MTBF > 500 h' to Maintenance as a requirement of the specification"]


def test_power_point_not_reached_gets_an_introduction_action() -> None:
    d = make("evaluating suppliers")
    assert actions(d) == [
        "Make sure the power point Paul Power (CEO) knows us: ask for an introduction"]
    # D3 has no sponsor yet: the pain point is to be won
    assert actions(d, "D3")[1] == ("Win the pain point Xena Pain as a sponsor of 'Pumps': show "
                                   "how it ends their problem")


@pytest.mark.parametrize(("reached_by", "contact_days", "expected"), [
    (["tom"], None, 0),     # one of us is in contact with him
    ([], 30, 0),            # contacted within the 180-day window
    ([], 200, 1),           # contacted, but too long ago
])
def test_power_point_reached_needs_no_action(reached_by: list[str], contact_days: int | None,
                                             expected: int) -> None:
    d = make("evaluating suppliers")
    d.persons[1].reached_by = reached_by
    if contact_days is not None:
        d.interactions.append(Interaction(id="i1", date=ago(contact_days), kind="call",
                                          participants=["pP"]))
    got = next_actions(d, TODAY)
    assert (got["action_id"] == "reach-power").sum() == expected * 2  # D1 and D3


def test_no_power_point_asks_the_entry_point_who_decides() -> None:
    d = make("evaluating suppliers", gone=("pP",))
    assert actions(d)[0] == ("Find out who decides: ask Eva Entry who approves or can forbid "
                             "the purchase")


def test_value_proposition_per_member_from_motivation_factors() -> None:
    d = make("proposal and selection")
    # by influence: Paul 0.9 (named in E1), Anton 0.7 (no need: his business motivation),
    # Xena 0.5 (E1 belongs to her department, Production), Eva 0.4 (nothing known)
    assert actions(d) == [
        "Write the value proposition for Paul Power (power) around: Output +5%",
        "Write the value proposition for Anton Against (influencer) around: Cut capex",
        "Write the value proposition for Xena Pain (pain) around: Output +5%",
        "Write the value proposition for Eva Entry (entry) around: motivation unknown - ask "
        "first"]


def test_negotiation_reduces_the_risk_seen_by_those_against() -> None:
    d = make("negotiation and decision")
    assert actions(d) == [
        "Reduce the risk Anton Against (influencer) sees: offer references, a trial or a "
        "guarantee",
        "Prepare references, a trial offer and guarantees for 'Drives'"]


def test_implementation_delivers_commitments_and_reviews_effects() -> None:
    d = make("implementation and review", commitments=[
        Commitment(id="C2", description="Training", due=ago(-20)),
        Commitment(id="C1", description="Spare kit", due=ago(5), to_person="pX"),
        Commitment(id="C3", description="Done already", due=ago(50), status="done")])
    assert actions(d) == [
        f"Deliver on the commitment 'Spare kit' to Xena Pain (due {ago(5)})",
        f"Deliver on the commitment 'Training' to the account (due {ago(-20)})",
        "Review with Production the effect achieved against 'Output +5%'"]


def test_closed_deals_get_no_actions() -> None:
    got = next_actions(make("negotiation and decision"), TODAY)
    assert "D2" not in set(got["deal_id"])
    empty = next_actions(make("negotiation and decision", deals=[]), TODAY)
    assert len(empty) == 0 and "action" in empty.columns


# -- the deal status report (tool 5) ------------------------------------------------------------
def test_deal_status_report_hand_worked() -> None:
    d1 = Deal(id="D1", title="Drives", stage="sale", need="N1", for_persons=["pX"],
              against_persons=["pA"], next_steps="Offer review on 5 July",
              risks=["Competitor offers 8% less"], expected_close=date(2026, 6, 1),
              history=[StageChange(stage="lead", on=date(2026, 1, 10)),
                       StageChange(stage="sale", on=date(2026, 3, 1)),
                       StageChange(stage="potential", on=date(2026, 3, 20)),
                       StageChange(stage="sale", on=date(2026, 4, 15))])
    d3 = Deal(id="D3", title="Pumps", stage="potential", created=date(2026, 1, 1),
              for_persons=["pL"])
    d4 = Deal(id="D4", title="Seals", stage="lead")
    d = make(deals=[d1, d3, d4, Deal(id="D2", title="Won", stage="buyer", outcome="won")],
             persons=[*make().persons,
                      Person(id="pL", name="Lea Left", roles=["user"], left_on=ago(30))],
             interactions=[Interaction(id="i1", date=date(2026, 6, 10), kind="call",
                                       participants=["pX"], deal="D1")],
             commitments=[Commitment(id="C1", description="Send offer", due=date(2026, 6, 20))])
    got = deal_status(d, TODAY)
    assert got["deal_id"].tolist() == ["D1", "D3", "D4"]  # open deals only
    r1, r3, r4 = got.to_dict("records")
    # D1 re-entered "sale" on 2026-04-15: 15 (rest of April) + 31 + 30 = 76 days to 2026-06-30
    assert (r1["since"], r1["days_in_stage"]) == (date(2026, 4, 15), 76)
    assert r1["decision_stage"] == "proposal and selection"
    assert (r1["for"], r1["against"]) == ("Xena Pain (pain)", "Anton Against (influencer)")
    assert r1["next_steps"] == "Offer review on 5 July"
    # last contact about D1 on 2026-06-10 (20 days): not stale
    assert r1["risks"].split("; ") == [
        "Competitor offers 8% less",
        "Anton Against (influencer, influence 0.7) is against",
        "overdue commitment 'Send offer' (10 days)",
        "expected close 2026-06-01 has passed"]
    assert r1["n_risks"] == 4
    # D3: in its stage since it was created, 180 days ago, with no contact: stale
    assert (r3["since"], r3["days_in_stage"]) == (date(2026, 1, 1), 180)
    assert r3["risks"].split("; ") == [
        f"supporter Lea Left left the client on {ago(30)}",
        "overdue commitment 'Send offer' (10 days)",
        "stale: no stage change or contact for 180 days (limit 60)"]
    # D4: nothing says when it entered its stage
    assert got["days_in_stage"].isna().tolist() == [False, False, True]
    assert "stage date unknown and no contact about the deal recorded" in r4["risks"]
    assert str(got["days_in_stage"].dtype) == "Int64"


def test_deal_status_flags_missing_power_point() -> None:
    got = deal_status(make(gone=("pP",)), TODAY)
    assert all("no known power point" in r for r in got["risks"])


def test_deal_status_never_shows_negative_days_in_stage() -> None:
    # entered "sale" on 2026-07-10, ten days after the report date 2026-06-30: the days are
    # unknown (not -10) and the date is flagged as a risk
    d5 = Deal(id="D5", title="Valves", stage="sale",
              history=[StageChange(stage="lead", on=date(2026, 5, 1)),
                       StageChange(stage="sale", on=date(2026, 7, 10))])
    row = deal_status(make(deals=[d5]), TODAY).iloc[0]
    assert date(2026, 6, 30) == TODAY and pd.isna(row["days_in_stage"])
    assert ("stage entered on 2026-07-10, after the report date 2026-06-30: check the deal's "
            "stage history") in row["risks"].split("; ")


def test_deal_status_of_no_deal_is_an_empty_table() -> None:
    got = deal_status(make(deals=[]), TODAY)
    assert len(got) == 0 and got.columns.tolist()[:3] == ["deal_id", "title", "stage"]


# -- the demo -------------------------------------------------------------------------------------
def test_demo_smoke(demo_dossiers: list[Dossier], today: date) -> None:
    for d in demo_dossiers:
        check_stages(d)
        relationship_fit(d, today)
        status = deal_status(d, today)
        assert status["n_risks"].ge(0).all()
        acts = next_actions(d, today)
        assert not acts["action"].str.contains(r"\{").any()  # every field filled in
