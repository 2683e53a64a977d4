"""Client-based planning: planned -> refined -> actual, realization, target plan, replenishment
and plan accuracy (DOMAIN.md §9). Expected numbers are worked out by hand in the comments."""

from __future__ import annotations

import dataclasses
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kam.errors import InputError
from kam.model import Account, Deal, Dossier, Team, TeamMember, tables, validate_dossier
from kam.periods import NoData
from kam.planning import (
    plan_accuracy,
    plan_for_target,
    plan_states,
    realization,
    replenishment,
)

EMPTY = tables([])


def deals_tables(rows):
    return dataclasses.replace(EMPTY, deals=pd.DataFrame(rows).reindex(
        columns=EMPTY.deals.columns))


@pytest.fixture
def september():
    """DOMAIN.md §9 planned by clients: client A about 60, client B about 40 -> plan 100;
    negotiation refines them to 50 and 30 (80); executed at 50 and 25 (75)."""
    return tables([
        Dossier(account=Account(id="A", name="Client A"), deals=[Deal(
            id="A-9", title="September order", outcome="won", manager="ann", period="2025-09",
            planned_budget=60, refined_budget=50, actual_budget=50)]),
        Dossier(account=Account(id="B", name="Client B"), deals=[Deal(
            id="B-9", title="September order", outcome="won", manager="ann", period="2025-09",
            planned_budget=40, refined_budget=30, actual_budget=25)]),
    ])


def test_planning_error_source_example_september(september):
    s = plan_states(september).iloc[0]
    assert (s["manager"], s["period"]) == ("ann", "2025-09")
    assert (s["planned"], s["refined"], s["actual"]) == (100, 80, 75)
    assert s["realization"] == pytest.approx(0.75)
    assert s["planning_error"] == pytest.approx(0.25)  # "about 25%"
    assert s["refinement"] == pytest.approx(0.80) and s["execution"] == pytest.approx(75 / 80)
    assert realization(september) == pytest.approx(0.75)


def test_plan_by_clients_source_example(september):
    # "client A may sign about 2 M, client B about 5 M -> plan 7 M": the plan is per client
    per_client = plan_states(september, by="account_id").set_index("account_id")
    assert per_client["planned"].to_dict() == {"A": 60.0, "B": 40.0}
    assert per_client["planned"].sum() == plan_states(september, by=()).iloc[0]["planned"]


def test_plan_for_target_source_example():
    p = plan_for_target(100, 0.75)
    assert p.required_plan == pytest.approx(133.333, abs=1e-3)  # T / r
    assert p.rule_of_thumb_plan == pytest.approx(125)  # "so to get 100 M, plan 125 M"
    assert p.rule_of_thumb_yield == pytest.approx(93.75)  # 125 x 0.75 falls short
    tab = p.table().set_index("method")
    assert tab.loc["target / r", "expected_result"] == pytest.approx(100)
    label = "rule of thumb: target x (1 + error)"
    assert tab.loc[label, "plan"] == pytest.approx(125)
    assert tab.loc[label, "shortfall"] == pytest.approx(6.25)


def test_plan_for_target_refuses_a_ratio_of_zero():
    with pytest.raises(ValueError, match="realization ratio r must be above 0"):
        plan_for_target(100, 0)


def test_replenishment_after_a_refusal():
    """Target 100, r = 0.75. D1 won and executed at 30; D2 won, not executed, refined to 20;
    D3 open, planned 40; D4 refused (its 35 are gone).
    expected = 30 + 20 + 40 x 0.75 = 80; gap 20; new prospects 20 / 0.75 = 26.67."""
    rows = [
        {"account_id": "A", "id": "D1", "outcome": "won", "period": "2025-09",
         "planned_budget": 40.0, "actual_budget": 30.0},
        {"account_id": "B", "id": "D2", "outcome": "won", "period": "2025-09",
         "planned_budget": 25.0, "refined_budget": 20.0},
        {"account_id": "C", "id": "D3", "outcome": "open", "period": "2025-09",
         "planned_budget": 40.0},
        {"account_id": "D", "id": "D4", "outcome": "refused", "period": "2025-09",
         "planned_budget": 35.0, "refusal_reason": "high price"},
        {"account_id": "E", "id": "D5", "outcome": "open", "period": "2025-10",
         "planned_budget": 99.0},
    ]
    rep = replenishment(deals_tables(rows), 100, r=0.75, period="2025-09")
    assert (rep.realised, rep.contracted, rep.open_planned, rep.lost_planned) == (30, 20, 40, 35)
    assert rep.expected == pytest.approx(80)
    assert rep.gap == pytest.approx(20)
    assert rep.new_prospects_budget == pytest.approx(20 / 0.75)
    assert rep.lost["id"].tolist() == ["D4"]
    assert rep.table().set_index("measure").loc["gap", "value"] == pytest.approx(20)
    full = replenishment(deals_tables(rows), 50, r=0.75, period="2025-09")
    assert full.gap == 0 and full.new_prospects_budget == 0


@pytest.fixture
def history():
    """ann: Jan planned 100, actual 80 (error 0.2); Feb planned 100, actual 70 (0.3):
    bias 0.25, MAPE 0.25, r = 150 / 200 = 0.75.
    bob: Jan planned 100, actual 110 (-0.1); Feb planned 100, actual 90 (0.1):
    bias 0, MAPE 0.1, r = 1.0."""
    rows = []
    for manager, period, actual in [("ann", "2025-01", 80), ("ann", "2025-02", 70),
                                    ("bob", "2025-01", 110), ("bob", "2025-02", 90)]:
        rows.append({"account_id": "X", "id": f"{manager}{period}", "manager": manager,
                     "outcome": "won", "period": period, "planned_budget": 100.0,
                     "actual_budget": float(actual)})
    return deals_tables(rows)


def test_plan_accuracy_by_manager(history):
    acc = plan_accuracy(history)
    assert acc["manager"].tolist() == ["ann", "bob"]  # least accurate first
    ann, bob = acc.iloc[0], acc.iloc[1]
    assert (ann["periods"], ann["bias"], ann["mape"]) == (2, pytest.approx(0.25),
                                                          pytest.approx(0.25))
    assert ann["correction"] == pytest.approx(0.75)
    assert ann["advice"] == "plans 25% too high on average: multiply the estimates by 0.75"
    assert bob["bias"] == pytest.approx(0.0) and bob["mape"] == pytest.approx(0.1)
    assert bob["advice"] == "accurate within 5%"


def test_plan_accuracy_counts_past_periods_only(history):
    acc = plan_accuracy(history, as_of=date(2025, 2, 15)).set_index("manager")
    assert acc.loc["ann", "periods"] == 1 and acc.loc["ann", "bias"] == pytest.approx(0.2)


def test_plan_accuracy_by_quarter(history):
    # Q1: ann 200 planned, 150 actual -> error 0.25 in one period
    acc = plan_accuracy(history, freq="Q").set_index("manager")
    assert acc.loc["ann", "periods"] == 1 and acc.loc["ann", "mape"] == pytest.approx(0.25)


def test_open_and_unexecuted_deals_are_pending(september):
    rows = [
        {"account_id": "A", "id": "1", "manager": "ann", "outcome": "open", "period": "2025-09",
         "planned_budget": 50.0},
        {"account_id": "A", "id": "2", "manager": "ann", "outcome": "won", "period": "2025-09",
         "planned_budget": 10.0, "actual_budget": 10.0, "closed_on": date(2025, 10, 5)},
    ]
    s = plan_states(deals_tables(rows)).iloc[0]
    assert (s["deals"], s["planned"], s["pending_deals"], s["pending_planned"]) == (1, 10, 1, 50)
    # as of 30 September the won deal was not closed yet: nothing settled
    s = plan_states(deals_tables(rows), as_of=date(2025, 9, 30)).iloc[0]
    assert (s["deals"], s["pending_deals"]) == (0, 2)
    assert pd.isna(s["realization"])  # nothing settled: no ratio to show


def test_a_deal_whose_actual_precedes_its_plan_is_rejected_by_the_model():
    with pytest.raises(ValidationError, match=r"closed_on 2025-02-01 \(actual\) is before "
                                              r"plan_date 2025-03-01"):
        Deal(id="D1", title="x", plan_date=date(2025, 3, 1), closed_on=date(2025, 2, 1))
    with pytest.raises(InputError, match=r"account ACME / deals\[0\] \(D1\).*closed_on "
                                         r"2025-02-01 \(actual\) is before plan_date"):
        validate_dossier({"account": {"id": "ACME", "name": "Acme"}, "deals": [
            {"id": "D1", "title": "x", "plan_date": "2025-03-01", "closed_on": "2025-02-01"}]})


def test_a_deal_whose_actual_precedes_its_plan_is_rejected_in_frames():
    t = deals_tables([{"account_id": "ACME", "id": "D1", "outcome": "won",
                       "planned_budget": 10.0, "actual_budget": 10.0,
                       "plan_date": date(2025, 3, 1), "closed_on": date(2025, 2, 1)}])
    with pytest.raises(InputError, match=r"account ACME / deal D1, field 'closed_on': closed_on "
                                         r"2025-02-01 \(actual\) is before plan_date 2025-03-01"):
        plan_states(t)


def test_period_without_plans_is_a_clear_error(september):
    with pytest.raises(NoData, match="No planned deals in period '2024'"):
        plan_states(september, period="2024")
    with pytest.raises(NoData, match="No settled deal with a planned budget in period '2024'"):
        realization(september, period="2024")
    assert plan_states(EMPTY).empty and plan_accuracy(EMPTY).empty


def test_bad_grouping_lists_the_options(september):
    with pytest.raises(ValueError, match="cannot group plans by 'region'; options are manager"):
        plan_states(september, by="region")


# -- along the reporting line (DOMAIN.md §9: planners do the first budget planning) ---------

def two_planners_team() -> Team:
    """Three agents under two planners: Ann Lee and Bob Stone report to Paula Reed, Cy Park to
    Omar Haddad."""
    return Team(members=[
        TeamMember(id="paula", name="Paula Reed", role="planner"),
        TeamMember(id="omar", name="Omar Haddad", role="planner"),
        TeamMember(id="ann", name="Ann Lee", role="client manager", manager="paula"),
        TeamMember(id="bob", name="Bob Stone", role="client manager", manager="paula"),
        TeamMember(id="cy", name="Cy Park", role="client manager", manager="omar"),
    ])


@pytest.fixture
def two_planners():
    """Settled deals (manager, period, planned, actual; actual 0 = refused) and one open one:

    - Ann: Jan won 100 -> 80; Feb won 100 -> 90; Feb refused 100; open 40 (pending);
    - Bob: Jan won 200 -> 200; Jan refused 100;
    - Cy: Jan refused 30; Feb refused 30.

    Paula (Ann + Bob): Jan planned 400, actual 280 (error 0.3); Feb planned 200, actual 90
    (0.55): bias = MAPE = 0.425, r = 370 / 600. Omar (Cy): Jan and Feb 30 -> 0 (error 1.0):
    bias = MAPE = 1.0, r = 0."""
    spec = [("ann", "2025-01", "won", 100, 80), ("ann", "2025-02", "won", 100, 90),
            ("ann", "2025-02", "refused", 100, None), ("ann", "2025-02", "open", 40, None),
            ("bob", "2025-01", "won", 200, 200), ("bob", "2025-01", "refused", 100, None),
            ("cy", "2025-01", "refused", 30, None), ("cy", "2025-02", "refused", 30, None)]
    return deals_tables([
        {"account_id": f"A{i}", "id": f"D{i}", "manager": m, "period": p, "outcome": o,
         "refusal_reason": "price" if o == "refused" else None, "planned_budget": float(pl),
         "actual_budget": None if a is None else float(a)}
        for i, (m, p, o, pl, a) in enumerate(spec)])


def test_plan_accuracy_by_planner_three_agents_under_two_planners(two_planners):
    acc = plan_accuracy(two_planners, by="planner", team=two_planners_team())
    assert acc.columns[:2].tolist() == ["planner_id", "planner"]
    assert acc["planner"].tolist() == ["Omar Haddad", "Paula Reed"]  # least accurate first
    omar, paula = acc.iloc[0], acc.iloc[1]
    assert (paula["periods"], paula["planned"], paula["actual"]) == (2, 600, 370)
    assert paula["bias"] == pytest.approx((0.3 + 0.55) / 2)
    assert paula["mape"] == pytest.approx(0.425)
    assert paula["realization"] == pytest.approx(370 / 600)
    assert (omar["planned"], omar["actual"], omar["bias"]) == (60, 0, pytest.approx(1.0))


def test_plan_states_by_planner_and_names_of_managers(two_planners):
    """Per planner over both months: Paula 600 planned, 370 actual, Ann's open 40 pending;
    Omar 60 planned, 0 actual. Per manager: Ann 300 planned, 170 actual."""
    team = two_planners_team()
    s = plan_states(two_planners, by="planner", team=team).set_index("planner")
    assert s.loc["Paula Reed", ["planned", "actual", "pending_planned"]].tolist() == [
        600, 370, 40]
    assert s.loc["Omar Haddad", ["planned", "actual"]].tolist() == [60, 0]
    m = plan_states(two_planners, by="manager", team=team)
    assert m[["manager_id", "manager", "planned", "actual"]].values.tolist() == [
        ["ann", "Ann Lee", 300, 170], ["bob", "Bob Stone", 300, 200], ["cy", "Cy Park", 60, 0]]
    acc = plan_accuracy(two_planners, team=team).set_index("manager_id")
    assert acc.loc["ann", "manager"] == "Ann Lee"
    rep = replenishment(two_planners, 100, r=0.75, period="2025-02", team=team)
    assert rep.lost[["id", "manager_id", "manager"]].values.tolist() == [
        ["D2", "ann", "Ann Lee"], ["D7", "cy", "Cy Park"]]


def test_plan_accuracy_a_manager_without_a_planner_is_shown(two_planners):
    """Cy's planner left the team roster: his 60 planned are under "(no planner)"."""
    team = Team(members=[m for m in two_planners_team().members if m.id != "omar"])
    acc = plan_accuracy(two_planners, by="planner", team=team).set_index("planner")
    assert acc.loc["(no planner)", ["planned", "actual"]].tolist() == [60, 0]
    assert acc["planned"].sum() == 660  # every settled plan counted once


def test_plan_accuracy_unknown_grouping_names_the_options(two_planners):
    with pytest.raises(ValueError, match="cannot measure accuracy by 'region'; options are "
                                         "manager, planner, account_id"):
        plan_accuracy(two_planners, by="region")
    with pytest.raises(ValueError, match="grouping by planner needs the team roster"):
        plan_accuracy(two_planners, by="planner")


@settings(max_examples=50, deadline=None)
@given(st.floats(1, 1e9), st.floats(0.01, 1.0))
def test_rule_of_thumb_never_reaches_the_target_below_full_realization(target, r):
    p = plan_for_target(target, r)
    assert p.required_plan * r == pytest.approx(target)
    # (1 + (1 - r)) x r = 1 - (1 - r)^2 <= 1
    assert p.rule_of_thumb_yield <= target * (1 + 1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 1e6), st.floats(0, 1e6), st.booleans()), min_size=1,
                max_size=30))
def test_realization_is_actual_over_planned(deals):
    rows = [{"account_id": "A", "id": str(i), "manager": "m", "period": "2025-01",
             "outcome": "won" if won else "refused", "refusal_reason": "x",
             "planned_budget": p, "actual_budget": a if won else None}
            for i, (p, a, won) in enumerate(deals)]
    expected = sum(a for _, a, w in deals if w) / sum(p for p, _, _ in deals)
    assert realization(deals_tables(rows)) == pytest.approx(expected)
