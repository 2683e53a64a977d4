"""The meeting preparation sheet (DOMAIN.md §10: situation, problem, implication and need-payoff
questions from the need map; Appendix A: brush-offs with better answers)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from kam.errors import ConfigError, InputError
from kam.meeting import MeetingSheet, load_objections, md_escape, meeting_sheet
from kam.model import (
    Account,
    Commitment,
    Dossier,
    FinancialState,
    Interaction,
    MarketFacts,
    Need,
    Person,
)

TODAY = date(2026, 6, 30)

# An account whose profile and attendee leave no gap, so that every situation question below
# comes from the need map.
FULL_ACCOUNT = Account(
    id="ACME", name="Acme Steel", development_plans="New rolling line 2027",
    financial=FinancialState(revenue=1e9, trend="growing"),
    market=MarketFacts(total_consumption=2e6, main_competitors=["Voltera"]))
ANN = Person(id="p1", name="Ann Berg", position="Plant manager", department="Production",
             roles=["pain"], influence=0.8, attitude="supporter",
             business_motivation="Output", personal_motivation="Promotion")


def need_map() -> list[Need]:
    return [
        Need(id="P1", title="Line stops", function="Production", persons=["p1"],
             cause="Worn drives", awareness="aware, no solution", evaluation="stops/month",
             leads_to=["C1"]),
        Need(id="C1", title="MTBF > 500 h", level="criterion", function="Maintenance",
             capability=4, evaluation="hours", leads_to=["E1"]),
        Need(id="E1", title="Output +5%", level="effect", function="Management", goal="growth",
             capability=4, evaluation="t/year"),
        Need(id="P2", title="Scrap", function="Production", awareness="unaware",
             leads_to=["E2"]),                                  # no cause, no evaluation
        Need(id="E2", title="Lower cost", level="effect", function="Production", capability=2),
        Need(id="X1", title="Payroll", function="HR", leads_to=["X2"]),   # not Ann's
        Need(id="X2", title="Happy staff", level="effect", function="HR", capability=5),
    ]


def sheet(who: str | list[str] = "p1", account: Account = FULL_ACCOUNT,
          persons: list[Person] | None = None, needs: list[Need] | None = None,
          **kw: Any) -> MeetingSheet:
    d = Dossier(account=account, persons=[ANN] if persons is None else persons,
                needs=need_map() if needs is None else needs, **kw)
    return meeting_sheet(d, who, TODAY)


def questions(s: MeetingSheet, kind: str) -> list[str]:
    q = s.questions
    return q[q["kind"] == kind]["question"].tolist()


# -- the question plan, worked by hand ----------------------------------------------------------
def test_question_plan_from_the_need_map_hand_worked() -> None:
    s = sheet()
    # Ann's needs: P1 (names her), P2 and E2 (function Production = her department). Above P1:
    # C1 and E1; above P2: E2. HR needs are not hers.
    assert questions(s, "situation") == [
        "What causes 'Scrap'?",                           # P2 has no cause
        "How will you judge that 'Scrap' is met?",        # ... and no evaluation
        "Which goal of yours does 'Lower cost' serve?",   # E2 has no goal
        "How will you judge that 'Lower cost' is met?",   # ... and no evaluation
    ]
    assert questions(s, "problem") == [
        "What have you tried about 'Line stops', and what stood in the way?",  # aware, no sol.
        "How do you see 'Scrap' today - does it matter to Production?",        # unaware
    ]
    assert questions(s, "implication") == [
        "If 'Line stops' stays as it is, what does it mean for 'Output +5%' and for the goal "
        "'growth'?",
        "If 'Scrap' stays as it is, what does it mean for 'Lower cost'?",
    ]
    # effects we can deliver: E1 (capability 4 >= 3.5); E2 (capability 2) is not one of them
    assert questions(s, "need-payoff") == [
        "If 'Output +5%' were achieved, what would it be worth to Management?"]
    assert set(s.questions["ask"]) == {"Ann Berg"}
    assert s.questions[s.questions["kind"] == "problem"]["need_id"].tolist() == ["P1", "P2"]


@pytest.mark.parametrize(("capability", "threshold", "asked"), [
    (3.5, None, True),     # the opportunity matrix threshold (templates/opportunities.yaml)
    (3.4, None, False),
    (3.0, 3.0, True),      # a threshold of the user's own scale
])
def test_need_payoff_only_for_effects_we_can_deliver(capability: float, threshold: float | None,
                                                     asked: bool) -> None:
    needs = [Need(id="P1", title="Stops", function="Production", leads_to=["E1"]),
             Need(id="E1", title="Output", level="effect", capability=capability)]
    d = Dossier(account=FULL_ACCOUNT, persons=[ANN], needs=needs)
    s = meeting_sheet(d, "p1", TODAY, capability_high=threshold)
    assert questions(s, "need-payoff") == (
        ["If 'Output' were achieved, what would it be worth to you?"] if asked else [])


def test_situation_questions_fill_the_gaps_of_the_dossier() -> None:
    bare = Person(id="p2", name="Bo")
    d = Dossier(account=Account(id="A", name="Acme"), persons=[bare])
    assert questions(meeting_sheet(d, "p2", TODAY), "situation") == [
        "What is your position, and what are you responsible for?",
        "Which department do you work in, and who do you report to?",
        "Who takes part in decisions on purchases like ours, and what is your part in them?",
        "What are your department's main goals this year?",
        "What would make this project a success for you personally?",
        "How is the business developing this year?",
        "How much of what we offer do you use per year, from all suppliers?",
        "Which suppliers do you work with today?",
        "What are the company's development plans for the next years?",
    ]
    # a person whose motivations are known and an account with a full profile: no gap
    assert questions(sheet(needs=[]), "situation") == []


# -- who is coming and what moves them ------------------------------------------------------------
def test_attendees_and_their_motivations() -> None:
    cem = Person(id="p3", name="Cem", department="HR", personal_motivation="Quiet life")
    s = sheet(persons=[ANN, cem], who=["p1", "p3", "p1"],
              interactions=[Interaction(id="i1", date=TODAY - timedelta(days=12), kind="call",
                                        participants=["p1"])])
    a = s.attendees
    assert a["id"].tolist() == ["p1", "p3"]  # each once, in the order given
    assert a.iloc[0][["roles", "influence", "attitude", "days_since_contact"]].tolist() == [
        "pain", 0.8, "supporter", 12]
    assert a.iloc[1]["days_since_contact"] is None
    m = s.motivations
    ann = m[m["person_id"] == "p1"]
    # recorded motivations first, then the need map top-down (effects first)
    assert ann[["motivation", "source", "need_id", "factor"]].values.tolist() == [
        ["business", "dossier", None, "Output"],
        ["personal", "dossier", None, "Promotion"],
        ["business", "need map", "E2", "Lower cost"],
        ["business", "need map", "P1", "Line stops"],
        ["business", "need map", "P2", "Scrap"]]
    assert ann[ann["need_id"] == "P1"]["detail"].tolist() == ["Worn drives"]
    # Cem: only a personal motivation recorded; HR's effect X2, then HR's problem X1
    assert m[m["person_id"] == "p3"][["motivation", "need_id"]].values.tolist() == [
        ["personal", None], ["business", "X2"], ["business", "X1"]]


def test_open_commitments_to_the_attendees_or_the_account() -> None:
    bob = Person(id="p2", name="Bob")
    s = sheet(persons=[ANN, bob], commitments=[
        Commitment(id="C1", description="Spare kit", due=TODAY - timedelta(days=4),
                   to_person="p1", owner="tom"),
        Commitment(id="C2", description="Training", due=TODAY + timedelta(days=9)),  # account
        Commitment(id="C3", description="For Bob", due=TODAY, to_person="p2"),       # not here
        Commitment(id="C4", description="Kept", due=TODAY, to_person="p1", status="done"),
    ])
    assert s.commitments[["id", "to", "overdue", "days_overdue"]].values.tolist() == [
        ["C1", "Ann Berg", True, 4], ["C2", "the account", False, 0]]


# -- brush-offs (Appendix A) ---------------------------------------------------------------
def test_brush_offs_cover_appendix_a() -> None:
    says = sheet().objections["says"].tolist()
    for phrase in ["couple of weeks", "no time", "too new in this position", "no budget",
                   "good fit for us", "need feature X", "When can we start"]:
        assert sum(phrase in s for s in says) == 1, phrase
    table = load_objections()
    budget = next(o for o in table.objections if "no budget" in o.says)
    assert "not sure your product works" in budget.means
    assert "return on the investment" in budget.answer
    signal = next(o for o in table.objections if "start using" in o.says)
    assert signal.means == "A buying signal."


def test_bad_objections_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text("objections:\n  - says: Hi\n    means: Hello\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"o\.yaml: objections\.0\.answer: Field required"):
        load_objections(path)


# -- bad input ---------------------------------------------------------------------------------
def test_unknown_person_id_lists_valid_ids() -> None:
    d = Dossier(account=FULL_ACCOUNT, persons=[ANN, Person(id="p2", name="Bob")])
    with pytest.raises(InputError, match=r"account ACME, field 'persons': unknown person id\(s\) "
                                         r"'zz'; valid ids: p1, p2"):
        meeting_sheet(d, ["p1", "zz"], TODAY)
    with pytest.raises(InputError, match="no person given; valid ids: p1, p2"):
        meeting_sheet(d, [], TODAY)


# -- rendering: user text is escaped ------------------------------------------------------------
EVIL = "<img src=x onerror=alert(1)>|*bold*"


def test_markdown_escapes_user_text() -> None:
    s = sheet(persons=[ANN.model_copy(update={"name": EVIL})])
    md = s.to_markdown()
    assert not re.search(r"(?<!\\)<", md)  # every "<" is backslash-escaped: no raw HTML
    assert md_escape(EVIL) in md
    assert md_escape(EVIL) == r"\<img src=x onerror=alert(1)\>\|\*bold\*"
    assert md_escape("two\nlines") == "two lines"
    # every table row has the same number of unescaped cell separators as its header
    for block in md.split("\n\n"):
        rows = [r for r in block.splitlines() if r.startswith("|")]
        counts = {r.replace("\\|", "").count("|") for r in rows}
        assert len(counts) <= 1


def test_html_escapes_user_text() -> None:
    s = sheet(persons=[ANN.model_copy(update={"name": EVIL})],
              account=FULL_ACCOUNT.model_copy(update={"name": "<script>x</script>"}))
    html = s._repr_html_()
    assert "<img" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;|*bold*" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


# -- the demo -------------------------------------------------------------------------------------
def test_demo_smoke(demo_dossiers: list[Dossier], today: date) -> None:
    for d in demo_dossiers:
        key = sorted(d.persons, key=lambda p: -p.influence)[:2]
        if not key:
            continue
        s = meeting_sheet(d, [p.id for p in key], today)
        assert len(s.objections) == 7
        assert s.to_markdown().startswith("## Meeting preparation")
