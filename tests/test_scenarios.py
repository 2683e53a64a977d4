"""Regulated interaction scenarios (DOMAIN.md §6): the configuration and its checks, recording
steps in their order, the step statistics (a hand-worked example), reminders, and the scenario
side by side with the funnel."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kam.errors import ConfigError, InputError
from kam.funnel import conversion
from kam.model import Account, Deal, Dossier, Interaction, tables, validate_dossier
from kam.model.scenario_config import ENDS, expected_step, load_scenarios
from kam.periods import NoData
from kam.scenarios import (
    reminders,
    scenario_funnel,
    scenario_status,
    step_log,
    step_statistics,
)
from kam.store import Workspace

# -- the hand-worked example ----------------------------------------------------------------------
# Five accounts run "first-contact" (templates/scenarios.yaml) in January 2026:
#   A (ann): intro-email 01-05 replied -> presentation 01-12 interested
#            -> negotiation 01-20 asks for an offer (won)
#   B (ann): intro-email 01-05 no reply -> reminder-call 01-12 call back later
#            -> reminder-call 01-16 agreed to a presentation -> presentation 01-26 not interested
#   C (ann): intro-email 01-06 not interested (lost)
#   D (bo):  intro-email 01-06 no reply -> reminder-call 01-20 no answer (ended)
#   E (bo):  intro-email 01-07 replied -> presentation 01-10 not interested (lost)
RUNS = {
    "A": ("ann", [("intro-email", "replied", "2026-01-05"),
                  ("presentation", "interested", "2026-01-12"),
                  ("negotiation", "asks for an offer", "2026-01-20")]),
    "B": ("ann", [("intro-email", "no reply", "2026-01-05"),
                  ("reminder-call", "call back later", "2026-01-12"),
                  ("reminder-call", "agreed to a presentation", "2026-01-16"),
                  ("presentation", "not interested", "2026-01-26")]),
    "C": ("ann", [("intro-email", "not interested", "2026-01-06")]),
    "D": ("bo", [("intro-email", "no reply", "2026-01-06"),
                 ("reminder-call", "no answer", "2026-01-20")]),
    "E": ("bo", [("intro-email", "replied", "2026-01-07"),
                 ("presentation", "not interested", "2026-01-10")]),
}


def _example_dossiers() -> list[Dossier]:
    """The five accounts, each step recorded through the named edit ``log_step``."""
    out = []
    for aid, (kam, steps) in RUNS.items():
        d = Dossier(account=Account(id=aid, name=f"Client {aid}", kam=kam))
        for step, result, on in steps:
            d.log_step("first-contact", step, result, on=date.fromisoformat(on))
        out.append(d)
    return out


def test_step_statistics_hand_worked_example_of_domain_6():
    """Worked out by hand from RUNS (per run the last record at a step decides it):

    - intro-email: reached 5, attempts 5; results replied 2 (A, E), no reply 2 (B, D), not
      interested 1 (C); lost 1 -> lost share 1/5 = 0.2; advanced 4; no previous step: no days.
    - reminder-call: reached 2 (B, D), attempts 3 (B called twice); B agreed (advanced), D no
      answer (ended). Days from the previous step: B 7 (01-05 -> 01-12) and 4 (01-12 ->
      01-16), D 14 (01-06 -> 01-20): median 7; due in 7 days: late 1 (D's 14).
    - presentation: reached 3 (A, B, E); interested 1, not interested 2 -> lost 2, share 2/3;
      days A 7, B 10, E 3: median 7; due 14: late 0.
    - negotiation: reached 1 (A), won 1; days 8 (01-12 -> 01-20), due 10: late 0.
    The weak step (largest share lost) is the presentation: 2/3 > 1/5.
    """
    s = step_statistics(step_log(_example_dossiers()))
    got = s.steps.set_index("step")
    assert got.index.tolist() == ["intro-email", "reminder-call", "presentation", "negotiation"]
    assert got["reached"].tolist() == [5, 2, 3, 1]
    assert got["attempts"].tolist() == [5, 3, 3, 1]
    assert got["advanced"].tolist() == [4, 1, 1, 0]
    assert got["won"].tolist() == [0, 0, 0, 1]
    assert got["lost"].tolist() == [1, 0, 2, 0]
    assert got["ended"].tolist() == [0, 1, 0, 0]
    assert got["lost_share"].tolist() == pytest.approx([0.2, 0.0, 2 / 3, 0.0])
    assert got["median_days"].tolist()[1:] == [7.0, 7.0, 8.0]
    assert np.isnan(got.loc["intro-email", "median_days"])
    assert got["late"].tolist() == [0, 1, 0, 0]
    assert got["due_days"].tolist() == [0, 7, 14, 10]
    assert s.weak_steps["step"].tolist() == ["presentation"]
    res = s.results[s.results["step"] == "intro-email"].set_index("result")
    assert res["runs"].to_dict() == {"no reply": 2, "replied": 2, "not interested": 1}
    assert res["share"].to_dict() == pytest.approx(
        {"no reply": 0.4, "replied": 0.4, "not interested": 0.2})
    assert res.loc["not interested", "leads_to"] == "lost"
    assert s.runs["outcome"].value_counts().to_dict() == {"lost": 3, "won": 1, "ended": 1}


def test_step_statistics_per_manager():
    """By hand from RUNS: ann has A, B, C; bo has D, E. ann's presentation: A interested, B not
    (1 lost of 2 = 0.5), her intro-email 1 lost of 3; bo's presentation: E lost (1 of 1), his
    reminder call: D ended. The weak step is the presentation for both."""
    s = step_statistics(step_log(_example_dossiers()), by="manager")
    got = s.steps.set_index(["manager", "step"])
    assert got.loc[("ann", "intro-email"), "reached"] == 3
    assert got.loc[("ann", "presentation"), ["reached", "lost"]].tolist() == [2, 1]
    assert got.loc[("ann", "presentation"), "lost_share"] == 0.5
    assert got.loc[("bo", "presentation"), "lost_share"] == 1.0
    assert got.loc[("bo", "reminder-call"), ["reached", "ended"]].tolist() == [1, 1]
    assert s.weak_steps[["manager", "step"]].values.tolist() == [
        ["ann", "presentation"], ["bo", "presentation"]]


def test_step_statistics_per_period_of_the_run_start():
    """All five runs of RUNS started in January 2026: one quarter, 2026-Q1, with the totals of
    the whole example (5 reached the intro e-mail)."""
    s = step_statistics(step_log(_example_dossiers()), by="period", freq="Q")
    assert s.steps["period"].unique().tolist() == ["2026-Q1"]
    assert s.steps.set_index("step").loc["intro-email", "reached"] == 5
    with pytest.raises(ValueError, match=r"cannot split the step statistics by 'region'; "
                                         r"options are manager, account_id, period"):
        step_statistics(step_log(_example_dossiers()), by="region")


def test_step_statistics_counts_agree_with_plain_pandas():
    """``reached`` per step is the number of distinct runs (here: accounts, one run each) that
    recorded the step, and ``attempts`` the rows: an independent count with plain pandas."""
    log = step_log(_example_dossiers())
    s = step_statistics(log).steps.set_index("step")
    plain = log.groupby("step").agg(reached=("account_id", "nunique"),
                                    attempts=("account_id", "size"))
    for step, row in plain.iterrows():
        assert s.loc[step, "reached"] == row["reached"]
        assert s.loc[step, "attempts"] == row["attempts"]


def test_a_new_run_starts_after_an_end():
    """C lost at the intro e-mail; the next intro e-mail of C starts a second run."""
    d = _example_dossiers()[2]
    assert expected_step(d.interactions, "first-contact").step == "intro-email"
    d.log_step("first-contact", "intro-email", "replied", on=date(2026, 6, 1))
    runs = step_statistics(step_log([d])).runs
    assert runs["outcome"].tolist() == ["lost", "open"]
    assert runs["next_step"].isna().tolist() == [True, False]
    assert runs["next_step"].iloc[1] == "presentation"


def test_step_statistics_period_and_no_data():
    log = step_log(_example_dossiers())
    assert step_statistics(log, period="2026-01").runs.shape[0] == 5
    with pytest.raises(NoData, match=r"No scenario run started in period '2025'"):
        step_statistics(log, period="2025")
    with pytest.raises(NoData, match=r"No interaction records a scenario step"):
        step_statistics(step_log([Dossier(account=Account(id="X", name="X"))]))


def test_step_statistics_refuse_an_unknown_step_in_the_log():
    log = step_log(_example_dossiers()).assign(step=lambda f: f["step"].replace(
        {"presentation": "demo"}))
    with pytest.raises(InputError, match=r"3 step\(s\) of the step log .*field 'step': unknown "
                                         r"step 'demo' of scenario 'first-contact'; steps: "
                                         r"intro-email, reminder-call, presentation"):
        step_statistics(log)


# -- reminders ------------------------------------------------------------------------------------
def test_scenario_status_next_step_and_due_date():
    """On 2026-01-15: D (no reply on 01-06 -> reminder call due 7 days later, 01-13) is
    overdue by 2 days; A (replied 01-05 -> presentation due 14 days later, 01-19) is due soon
    (4 days, within due_soon_days 7); a third account replied on 01-14 -> presentation due
    01-28, 13 days away: planned."""
    ds = []
    for aid, kam, steps in (("A", "ann", [("intro-email", "replied", date(2026, 1, 5))]),
                            ("D", "bo", [("intro-email", "no reply", date(2026, 1, 6))]),
                            ("F", "bo", [("intro-email", "replied", date(2026, 1, 14))])):
        d = Dossier(account=Account(id=aid, name=aid, kam=kam))
        for step, result, on in steps:
            d.log_step("first-contact", step, result, on=on)
        ds.append(d)
    s = scenario_status(step_log(ds), date(2026, 1, 15))
    assert s[["account_id", "next_step", "due_on", "days_left", "status"]].values.tolist() == [
        ["D", "reminder-call", date(2026, 1, 13), -2, "overdue"],
        ["A", "presentation", date(2026, 1, 19), 4, "due soon"],
        ["F", "presentation", date(2026, 1, 28), 13, "planned"]]
    by_manager = reminders(step_log(ds), date(2026, 1, 15), by="manager")
    assert by_manager.to_dict("records") == [
        {"manager": "ann", "overdue": 0, "due soon": 1},
        {"manager": "bo", "overdue": 1, "due soon": 0}]
    # the dossier knows it too: the step it is at and when it is due
    pos = expected_step(ds[1].interactions, "first-contact")
    assert (pos.step, pos.due) == ("reminder-call", date(2026, 1, 13))


# -- side by side with the funnel -----------------------------------------------------------------
def test_scenario_funnel_side_by_side_with_the_funnel_of_the_same_deals():
    """Three deals run "offer-to-contract": D1 signed (won), D2 lost at the follow-up, D3 still
    negotiating; a fourth deal runs no scenario and is not counted. Runs: 3, won 1, lost 1,
    open 1 -> run conversion 1/3; the weak step is the follow-up (all three reached it, D2 was
    lost there: 1/3, against 0 at the offer, the revised offer and the negotiation). The
    funnel side is kam.funnel's conversion of D1-D3 computed here on its own."""
    d = Dossier(account=Account(id="ACME", name="Acme"), deals=[
        Deal(id="D1", title="a", stage="buyer", outcome="won"),
        Deal(id="D2", title="b", stage="sale", outcome="refused", refusal_reason="competitor"),
        Deal(id="D3", title="c", stage="sale"),
        Deal(id="D4", title="d", stage="lead", outcome="refused", refusal_reason="no need")])
    steps = {"D1": [("offer", "received"), ("follow-up", "wants to negotiate"),
                    ("negotiation", "signed")],
             "D2": [("offer", "received"), ("follow-up", "chose a competitor")],
             "D3": [("offer", "received"), ("follow-up", "price too high"),
                    ("revised-offer", "received")]}
    for deal, seq in steps.items():
        for day, (step, result) in enumerate(seq, start=1):
            d.log_step("offer-to-contract", step, result, on=date(2026, 2, day), deal=deal)
    t = tables([d])
    side = scenario_funnel(step_log([d]), t).iloc[0]
    assert (side["runs"], side["won"], side["lost"], side["open"]) == (3, 1, 1, 1)
    assert side["run_conversion"] == pytest.approx(1 / 3)
    assert side["weak_step"] == "follow-up"
    assert side["weak_step_lost_share"] == pytest.approx(1 / 3)
    same = t.deals[t.deals["id"].isin(["D1", "D2", "D3"])]
    expected = conversion(type(t)(**{**t.__dict__, "deals": same}))
    assert side["deals"] == 3
    assert side["deals_won"] == int(expected["won"].iloc[0]) == 1
    assert side["deal_conversion"] == pytest.approx(float(expected["conversion"].iloc[0]))


# -- configuration checks -------------------------------------------------------------------------
def _write(tmp_path: Path, steps: str, start: str = "a") -> Path:
    path = tmp_path / "scenarios.yaml"
    path.write_text(f"scenarios:\n  cold:\n    start: {start}\n    steps:\n{steps}",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(("steps", "start", "message"), [
    ("      a:\n        results: {ok: won}\n      b:\n        results: {ok: lost}\n", "a",
     r"scenarios\.cold: step 'b' cannot be reached from the start step 'a'"),
    ("      a:\n        results: {no reply: b}\n      b:\n        results: {no reply: a}\n", "a",
     r"scenarios\.cold: step\(s\) a -> b -> a loop without an exit: no result of them leads to "
     r"an end \(won, lost, ended\)"),
    ("      a:\n        results: {ok: c}\n", "a",
     r"scenarios\.cold: step 'a', field 'results\.ok': leads to unknown step 'c'; steps: a; "
     r"ends: won, lost, ended"),
    ("      a:\n        results: {ok: won}\n", "x",
     r"scenarios\.cold: field 'start': unknown step 'x'; steps: a"),
    ("      a:\n        results: {}\n", "a",
     r"scenarios\.cold: step 'a', field 'results': a step needs at least one result"),
])
def test_a_malformed_scenario_is_refused_naming_file_scenario_step_and_field(
        tmp_path, steps, start, message):
    path = _write(tmp_path, steps, start)
    with pytest.raises(ConfigError, match=rf"^{path}: " + message):
        load_scenarios(path)


def test_a_loop_with_an_exit_is_fine():
    cfg = load_scenarios()
    follow = cfg.scenarios["offer-to-contract"].steps["follow-up"]
    assert follow.results["no answer"] == "follow-up"  # loops on itself, other results leave
    assert set(ENDS) == {"won", "lost", "ended"}


# -- the dossier: interactions naming steps -------------------------------------------------------
def test_an_interaction_naming_an_unknown_step_is_refused_and_the_store_is_unchanged(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    d = Dossier(account=Account(id="ACME", name="Acme", phone="+1 555 0100"))
    d.log_step("first-contact", "intro-email", "replied", on=date(2026, 1, 5))
    ws.save(d, author="ann")
    before = ws.load("ACME")
    d = ws.load("ACME")
    d.interactions.append(Interaction(id="ACME-I2", date=date(2026, 1, 9), kind="meeting",
                                      scenario="first-contact", step="demo", result="ok"))
    with pytest.raises(InputError, match=r"interactions\[1\] \(ACME-I2\), field 'step': unknown "
                                         r"step 'demo' of scenario 'first-contact'; steps: "
                                         r"intro-email, reminder-call, presentation, negotiation"):
        ws.save(d, author="ann")
    assert ws.history("ACME")["revision"].tolist() == [1]
    assert ws.load("ACME") == before


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"scenario": "cold-call"}, "scenario", r"unknown scenario 'cold-call'; scenarios: "
     r"first-contact, offer-to-contract"),
    ({"result": "maybe"}, "result", r"unknown result 'maybe' of step 'intro-email' \(scenario "
     r"'first-contact'\); results: replied, no reply, not interested"),
    ({"deal": "D1", "scenario": "first-contact"}, "deal", r"run for the account, not for a deal"),
])
def test_validate_dossier_checks_interactions_against_the_scenarios(change, field, message):
    x = {"id": "I1", "date": "2026-01-05", "kind": "email", "scenario": "first-contact",
         "step": "intro-email", "result": "replied", **change}
    data = {"account": {"id": "ACME", "name": "Acme"}, "interactions": [x],
            "deals": [{"id": "D1", "title": "Pumps"}]}
    with pytest.raises(InputError, match=rf"field '{field}': .*{message}"):
        validate_dossier(data)


def test_a_scenario_step_needs_its_result():
    with pytest.raises(InputError, match=r"interactions\[0\] \(I1\), field 'result': a "
                                         r"scenario step records the scenario, the step and "
                                         r"its result; result is missing"):
        validate_dossier({"account": {"id": "ACME", "name": "Acme"}, "interactions": [
            {"id": "I1", "date": "2026-01-05", "kind": "email", "scenario": "first-contact",
             "step": "intro-email"}]})


def test_log_step_keeps_the_order_and_is_safe_to_run_twice():
    d = Dossier(account=Account(id="ACME", name="Acme"))
    first = d.log_step("first-contact", "intro-email", "no reply", on=date(2026, 1, 5))
    assert d.log_step("first-contact", "intro-email", "no reply", on=date(2026, 1, 5)) is first
    assert (first.next_step, first.next_step_due) == (
        "Reminder call to the addressee of the e-mail", date(2026, 1, 12))
    before = d.model_copy(deep=True)
    with pytest.raises(InputError, match=r"is at step 'reminder-call' \(due 2026-01-12\), not "
                                         r"'presentation'; record that step first"):
        d.log_step("first-contact", "presentation", "interested", on=date(2026, 1, 20))
    with pytest.raises(InputError, match=r"field 'result': unknown result 'yes' of step "
                                         r"'reminder-call'"):
        d.log_step("first-contact", "reminder-call", "yes", on=date(2026, 1, 12))
    with pytest.raises(InputError, match=r"the step on 2026-01-01 is before the previous step"):
        d.log_step("first-contact", "reminder-call", "no answer", on=date(2026, 1, 1))
    with pytest.raises(InputError, match=r"scenario 'offer-to-contract' is run for a deal"):
        d.log_step("offer-to-contract", "offer", "received", on=date(2026, 1, 12))
    assert d == before
    assert d.log_step("first-contact", "reminder-call", "no answer",
                      on=date(2026, 1, 12)).next_step is None


def test_old_dossiers_stay_valid(demo_dossiers):
    """Dossiers saved before scenarios and assessments existed hold none and still validate."""
    for d in demo_dossiers[:5]:
        data = d.model_dump(mode="json", exclude={"assessments"})
        for x in data["interactions"]:
            for f in ("scenario", "step", "result"):
                x.pop(f, None)
        assert validate_dossier(data) == d


def test_step_log_of_a_generated_frame_needs_its_columns():
    with pytest.raises(InputError, match=r"step log, field 'result': column missing"):
        step_statistics(pd.DataFrame({"account_id": ["A"], "date": ["2026-01-05"],
                                      "scenario": ["first-contact"], "step": ["intro-email"]}))
