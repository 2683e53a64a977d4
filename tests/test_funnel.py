"""The funnel, conversion, losses, time in stage and cross statistics (DOMAIN.md §6).

Expected numbers are worked out by hand in comments; the source's worked examples are named.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.errors import ConfigError, InputError
from kam.funnel import (
    NO_PLANNER,
    Roster,
    StageModel,
    conversion,
    funnel,
    load_stages,
    loss_reasons,
    manager_stage_conversion,
    time_in_stage,
    weakest_link,
)
from kam.model import Account, Deal, Dossier, StageChange, Team, TeamMember, tables
from kam.periods import NoData

EMPTY = tables([])


def deals_tables(rows: list[dict], history: list[dict] | None = None):
    """Tables holding only these deals (columns as kam.model.tables makes them)."""
    deals = pd.DataFrame(rows).reindex(columns=EMPTY.deals.columns)
    hist = (pd.DataFrame(history).reindex(columns=EMPTY.deal_history.columns) if history
            else EMPTY.deal_history)
    return dataclasses.replace(EMPTY, deals=deals, deal_history=hist)


def source_example_rows(stages=("contact", "presentation", "offer")) -> list[dict]:
    """DOMAIN.md §6: 100 clients passed stage 1, 80 stage 2, 1 stage 3; 99 refused, 1 signed:
    20 dropped out before the presentation was done, 79 after it (at the commercial offer)."""
    first, second, third = stages
    rows = [{"account_id": f"C{i:03d}", "id": f"D{i:03d}", "stage": first, "outcome": "refused",
             "refusal_reason": "no interest"} for i in range(20)]
    reasons = ["offer does not interest"] * 40 + ["price too high"] * 30 + ["quality"] * 9
    rows += [{"account_id": f"C{i:03d}", "id": f"D{i:03d}", "stage": second,
              "outcome": "refused", "refusal_reason": reasons[i - 20]} for i in range(20, 99)]
    rows.append({"account_id": "C099", "id": "D099", "stage": third, "outcome": "won"})
    return rows


def test_funnel_weakest_link_source_example():
    model = StageModel.of(["contact", "presentation", "offer"], won_stage="offer")
    f = funnel(deals_tables(source_example_rows()), stages=model)
    assert f.stages["reached"].tolist() == [100, 80, 1]
    assert f.transitions["lost"].tolist() == [20, 79]
    # 20 of 100 lost before the presentation (20%), 79 of 80 at the offer (98.75%)
    assert f.transitions["lost_share"].tolist() == pytest.approx([0.20, 79 / 80])
    w = f.weakest
    assert (w["from_stage"], w["to_stage"]) == ("presentation", "offer")
    assert w["number"] + 1 == 3  # the transition *into* stage 3, the commercial offer
    # 1 contract from 100 clients worked
    assert f.totals["conversion"].iloc[0] == pytest.approx(0.01)


def test_funnel_weakest_link_source_example_on_the_default_stages():
    # the same 100 / 80 / 1 on the five default stages: the weakest link leads into stage 3
    f = funnel(deals_tables(source_example_rows(("lead", "potential", "sale"))))
    assert f.stages["reached"].tolist()[:3] == [100, 80, 1]
    assert f.weakest["to_stage"] == "sale"
    assert f.stages["reached"].tolist()[3] == 1  # the won deal counts as a buyer (won_stage)


def test_conversion_source_example_3_of_100():
    # "3 contracts from 100 clients = 3%"
    rows = [{"account_id": f"C{i}", "id": f"D{i}", "stage": "sale",
             "outcome": "won" if i < 3 else "refused", "refusal_reason": "price"}
            for i in range(100)]
    c = conversion(deals_tables(rows))
    assert (c["worked"].iloc[0], c["won"].iloc[0]) == (100, 3)
    assert c["conversion"].iloc[0] == pytest.approx(0.03)


def test_loss_reasons_per_stage_source_example():
    model = StageModel.of(["contact", "presentation", "offer"], won_stage="offer")
    r = loss_reasons(deals_tables(source_example_rows()), stages=model)
    at_offer = r[r["stage"] == "presentation"]  # lost while at stage 2, i.e. at the offer
    assert at_offer[["reason", "lost"]].to_dict("records") == [
        {"reason": "offer does not interest", "lost": 40},
        {"reason": "price too high", "lost": 30},
        {"reason": "quality", "lost": 9},
    ]
    assert at_offer["share_of_stage"].tolist() == pytest.approx([40 / 79, 30 / 79, 9 / 79])
    assert r["share_of_all"].sum() == pytest.approx(1.0)
    assert r.loc[r["stage"] == "contact", "lost"].tolist() == [20]


def test_declined_without_reason_is_labelled():
    t = deals_tables([{"account_id": "A", "id": "1", "stage": "lead", "outcome": "declined"}])
    assert loss_reasons(t)["reason"].tolist() == ["(declined by us)"]


def test_open_deals_are_not_counted_as_lost():
    # 4 deals entered potential: 1 advanced to sale, 1 refused there, 2 still open there
    rows = [
        {"account_id": "A", "id": "1", "stage": "sale", "outcome": "open"},
        {"account_id": "A", "id": "2", "stage": "potential", "outcome": "refused",
         "refusal_reason": "price"},
        {"account_id": "A", "id": "3", "stage": "potential", "outcome": "open"},
        {"account_id": "A", "id": "4", "stage": "potential", "outcome": "open"},
    ]
    tr = funnel(deals_tables(rows)).transitions.set_index("from_stage")
    assert tr.loc["potential", ["entered", "advanced", "lost", "open", "decided"]].tolist() == [
        4, 1, 1, 2, 2]
    assert tr.loc["potential", "conversion"] == 0.5  # 1 of the 2 that left the stage
    c = conversion(deals_tables(rows)).iloc[0]
    assert (c["open"], c["lost"], c["won"]) == (3, 1, 0)
    assert c["win_rate"] == 0.0


def test_history_counts_the_highest_stage_reached():
    # D1 is back in "potential" but its history shows it reached "sale"
    d = Dossier(account=Account(id="ACME", name="Acme"), deals=[
        Deal(id="D1", title="Pumps", stage="potential", history=[
            StageChange(stage="lead", on=date(2025, 1, 1)),
            StageChange(stage="sale", on=date(2025, 2, 1)),
            StageChange(stage="potential", on=date(2025, 3, 1))]),
    ])
    assert funnel(tables([d])).stages["reached"].tolist() == [1, 1, 1, 0, 0]
    # as of mid-January it had only been a lead; its current stage is not yet known then
    assert funnel(tables([d]), as_of=date(2025, 1, 15)).stages["reached"].tolist() == [
        1, 0, 0, 0, 0]


def test_as_of_ignores_later_deals_and_outcomes():
    rows = [
        {"account_id": "A", "id": "1", "stage": "sale", "outcome": "won",
         "created": date(2025, 1, 5), "closed_on": date(2025, 4, 1)},
        {"account_id": "A", "id": "2", "stage": "lead", "outcome": "open",
         "created": date(2025, 5, 1)},
    ]
    c = conversion(deals_tables(rows), as_of=date(2025, 3, 31)).iloc[0]
    assert (c["worked"], c["open"], c["won"]) == (1, 1, 0)  # deal 1 was still open then
    c = conversion(deals_tables(rows)).iloc[0]
    assert (c["worked"], c["open"], c["won"]) == (2, 1, 1)
    jan = conversion(deals_tables(rows), period="2025-01").iloc[0]
    assert jan["worked"] == 1  # deals created in January


def test_unknown_stage_lists_the_valid_ones():
    t = deals_tables([{"account_id": "ACME", "id": "D7", "stage": "Negotiation",
                       "outcome": "open"}])
    with pytest.raises(InputError, match=r"1 deals \(e.g. deal D7 of account ACME\), field "
                                         r"'stage': unknown stage 'Negotiation'; valid stages: "
                                         r"lead, potential, sale, buyer, repeat \(aliases: "
                                         r"prospecting -> lead, .*\); add it to 'aliases'"):
        funnel(t)


def test_unknown_outcome_lists_the_valid_ones():
    t = deals_tables([{"account_id": "ACME", "id": "D7", "stage": "lead", "outcome": "maybe"}])
    with pytest.raises(InputError, match=r"unknown outcome 'maybe'; valid outcomes: open, won, "
                                         r"refused, declined"):
        funnel(t)


def test_crm_stages_map_through_aliases():
    # Prospecting -> lead, Engaging -> potential, Won -> buyer, Lost -> potential
    rows = [
        {"account_id": "A", "id": "1", "stage": "Prospecting", "outcome": "open"},
        {"account_id": "A", "id": "2", "stage": "Engaging", "outcome": "open"},
        {"account_id": "A", "id": "3", "stage": "Won", "outcome": "won"},
        {"account_id": "A", "id": "4", "stage": "Lost", "outcome": "refused",
         "refusal_reason": "lost"},
    ]
    f = funnel(deals_tables(rows))
    assert f.stages["reached"].tolist() == [4, 3, 1, 1, 0]


def test_stage_model_config_is_validated(tmp_path):
    cfg = tmp_path / "stages.yaml"
    cfg.write_text("stages: [{id: a}, {id: b}]\nwon_stage: c\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="won_stage 'c' is not a stage; stages: a, b"):
        load_stages(str(cfg))
    assert load_stages().ids == ["lead", "potential", "sale", "buyer", "repeat"]


def manager_rows() -> list[dict]:
    """Ann converts 15 of 100 deals of 10 each (15%, 150 won of 1000 worked);
    Bob converts 3 of 100 (3%), but his 3 wins are 200 each: 600 won of 97 x 10 + 3 x 200 =
    1570 worked (38.2%)."""
    rows = []
    for i in range(100):
        won = i < 15
        rows.append({"account_id": f"A{i}", "id": f"ann-{i}", "manager": "ann", "stage": "sale",
                     "outcome": "won" if won else "refused", "refusal_reason": "price",
                     "planned_budget": 10.0, "actual_budget": 10.0 if won else None})
    for i in range(100):
        won = i < 3
        rows.append({"account_id": f"B{i}", "id": f"bob-{i}", "manager": "bob", "stage": "sale",
                     "outcome": "won" if won else "refused", "refusal_reason": "price",
                     "planned_budget": 200.0 if won else 10.0,
                     "actual_budget": 200.0 if won else None})
    return rows


def test_financial_conversion_a_3_percent_manager_brings_more_money():
    c = conversion(deals_tables(manager_rows()), by="manager").set_index("manager")
    assert c.loc["ann", "conversion"] == pytest.approx(0.15)
    assert c.loc["bob", "conversion"] == pytest.approx(0.03)
    assert c.loc["ann", "value_won"] == 150 and c.loc["bob", "value_won"] == 600
    assert c.loc["bob", "value_won"] > c.loc["ann", "value_won"]
    assert c.loc["ann", "financial_conversion"] == pytest.approx(150 / 1000)
    assert c.loc["bob", "financial_conversion"] == pytest.approx(600 / 1570)


def test_cross_statistics_show_where_a_manager_falls_behind():
    """Ann: 10 deals reach potential, 8 reach sale, 4 won (2 lost at potential, 4 at sale).
    Bob: 10 reach potential, 2 reach sale, 1 won (8 lost at potential, 1 at sale).
    potential -> sale: Ann 8/10, Bob 2/10, team 10/20 = 0.5: Bob is 0.3 behind there.
    sale -> buyer: Ann 4/8, Bob 1/2, team 5/10: both on par."""
    rows = []

    def add(manager, n, stage, outcome):
        for _ in range(n):
            rows.append({"account_id": "A", "id": f"{manager}{len(rows)}", "manager": manager,
                         "stage": stage, "outcome": outcome, "refusal_reason": "price"})

    add("ann", 2, "potential", "refused")
    add("ann", 4, "sale", "refused")
    add("ann", 4, "sale", "won")
    add("bob", 8, "potential", "refused")
    add("bob", 1, "sale", "refused")
    add("bob", 1, "sale", "won")
    x = manager_stage_conversion(deals_tables(rows))
    bob = x[x["manager"] == "bob"].set_index("from_stage")
    assert bob.loc["potential", "conversion"] == pytest.approx(0.2)
    assert bob.loc["potential", "team_conversion"] == pytest.approx(0.5)
    assert bob.loc["potential", "gap"] == pytest.approx(-0.3)
    assert bob.loc["potential", "behind"] and bob.loc["potential", "lagging"]
    assert not bob.loc["sale", "behind"]
    assert bob["lagging"].sum() == 1
    assert not x.loc[x["manager"] == "ann", "behind"].any()


def test_conversion_by_product_group_and_bad_grouping():
    t = deals_tables([
        {"account_id": "A", "id": "1", "stage": "sale", "outcome": "won", "product_group": "pumps"},
        {"account_id": "A", "id": "2", "stage": "sale", "outcome": "refused",
         "refusal_reason": "price", "product_group": "pumps"},
        {"account_id": "B", "id": "3", "stage": "lead", "outcome": "open"},
    ])
    c = conversion(t, by="product_group").set_index("product_group")
    assert c.loc["pumps", "conversion"] == 0.5 and c.loc["(none)", "worked"] == 1
    with pytest.raises(ValueError, match="cannot compute conversion by 'region'; options are "
                                         "manager, planner, account_id, product_group"):
        conversion(t, by="region")


def test_unassigned_deals_have_their_own_row():
    t = deals_tables([{"account_id": "A", "id": "1", "stage": "lead", "outcome": "open"}])
    assert conversion(t, by="manager")["manager"].tolist() == ["(unassigned)"]


# -- along the reporting line: managers and their planners (DOMAIN.md §6 cross statistics, §9
# roles: planners control the client-managers' work) ----------------------------------------

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


def two_planners_rows() -> list[dict]:
    """Ten deals of the three agents (default stages lead, potential, sale, buyer, repeat; a
    won deal counts as a buyer):

    - Ann: 2 won at sale, 1 refused at potential, 1 open lead;
    - Bob: 1 won at sale, 2 refused at sale;
    - Cy: 2 refused as leads, 1 open at potential.
    """
    spec = [("ann", "sale", "won"), ("ann", "sale", "won"), ("ann", "potential", "refused"),
            ("ann", "lead", "open"), ("bob", "sale", "won"), ("bob", "sale", "refused"),
            ("bob", "sale", "refused"), ("cy", "lead", "refused"), ("cy", "lead", "refused"),
            ("cy", "potential", "open")]
    return [{"account_id": f"A{i}", "id": f"D{i}", "manager": m, "stage": s, "outcome": o,
             "refusal_reason": "price" if o == "refused" else None}
            for i, (m, s, o) in enumerate(spec)]


def test_conversion_by_planner_three_agents_under_two_planners():
    """Paula (Ann + Bob): 7 deals worked, 3 won, 3 lost, 1 open: conversion 3/7, win rate
    3/6 = 0.5. Omar (Cy): 3 worked, 0 won, 2 lost, 1 open: conversion 0, win rate 0."""
    c = conversion(deals_tables(two_planners_rows()), by="planner", team=two_planners_team())
    assert c.columns[:2].tolist() == ["planner_id", "planner"]
    assert c[["planner_id", "planner", "worked", "won", "lost", "open"]].to_dict("records") == [
        {"planner_id": "omar", "planner": "Omar Haddad", "worked": 3, "won": 0, "lost": 2,
         "open": 1},
        {"planner_id": "paula", "planner": "Paula Reed", "worked": 7, "won": 3, "lost": 3,
         "open": 1}]
    assert c["conversion"].tolist() == pytest.approx([0.0, 3 / 7])
    assert c["win_rate"].tolist() == pytest.approx([0.0, 0.5])


def test_conversion_by_manager_shows_names_beside_ids():
    """Ann: 4 worked, 2 won; Bob: 3 worked, 1 won; Cy: 3 worked, 0 won. Split by planner and
    manager, each manager sits under their planner."""
    t, team = deals_tables(two_planners_rows()), two_planners_team()
    c = conversion(t, by="manager", team=team)
    assert c[["manager_id", "manager", "worked", "won"]].values.tolist() == [
        ["ann", "Ann Lee", 4, 2], ["bob", "Bob Stone", 3, 1], ["cy", "Cy Park", 3, 0]]
    both = conversion(t, by=["planner", "manager"], team=team)
    assert both[["planner", "manager", "worked"]].values.tolist() == [
        ["Omar Haddad", "Cy Park", 3], ["Paula Reed", "Ann Lee", 4], ["Paula Reed", "Bob Stone", 3]]
    # without the team the ids stand in for the names
    assert conversion(t, by="manager")["manager"].tolist() == ["ann", "bob", "cy"]


def test_funnel_by_planner_stage_counts_and_weakest_link_per_planner():
    """Stages reached (lead, potential, sale, buyer, repeat):
    Paula: Ann 4/3/2/2/0 + Bob 3/3/3/1/0 = 7/6/5/3/0; Omar (Cy): 3/1/0/0/0.
    Paula's transitions: lead -> potential 0 lost of 6 decided (1 open lead);
    potential -> sale 1 of 6; sale -> buyer 2 of 5 = 0.4: her weakest link.
    Omar's: lead -> potential 2 of 3 lost: his weakest link; potential -> sale undecided.
    The whole team's weakest link is sale -> buyer (0.4 against 2/9 and 1/6)."""
    t, team = deals_tables(two_planners_rows()), two_planners_team()
    f = funnel(t, by="planner", team=team)
    reached = f.stages.groupby("planner")["reached"].apply(list).to_dict()
    assert reached == {"Paula Reed": [7, 6, 5, 3, 0], "Omar Haddad": [3, 1, 0, 0, 0]}
    w = f.weakest_links.set_index("planner_id")
    assert w.loc["paula", ["planner", "from_stage", "to_stage", "lost", "decided"]].tolist() == [
        "Paula Reed", "sale", "buyer", 2, 5]
    assert w.loc["paula", "lost_share"] == pytest.approx(0.4)
    assert w.loc["omar", ["from_stage", "to_stage", "lost", "decided"]].tolist() == [
        "lead", "potential", 2, 3]
    assert f.totals.set_index("planner_id").loc["omar", "worked"] == 3
    assert funnel(t).weakest["to_stage"] == "buyer"
    with pytest.raises(ValueError, match=r"this funnel is split by planner: each group has its "
                                         r"own weakest link; use \.weakest_links"):
        _ = f.weakest


def test_cross_statistics_by_planner():
    """Team, lead -> potential: 7 advanced of 9 decided. Paula 6 of 6 (1.0), Omar 1 of 3:
    gap 1/3 - 7/9 = -4/9, behind and lagging there. sale -> buyer: team 3/5, Paula 3/5."""
    x = manager_stage_conversion(deals_tables(two_planners_rows()), by="planner",
                                 team=two_planners_team())
    assert "manager" not in x and x.columns[:2].tolist() == ["planner_id", "planner"]
    omar = x[x["planner"] == "Omar Haddad"].set_index("from_stage")
    assert omar.loc["lead", "team_conversion"] == pytest.approx(7 / 9)
    assert omar.loc["lead", "gap"] == pytest.approx(-4 / 9)
    assert omar.loc["lead", "behind"] and omar.loc["lead", "lagging"]
    paula = x[x["planner_id"] == "paula"].set_index("from_stage")
    assert paula.loc["sale", "conversion"] == pytest.approx(3 / 5) == paula.loc[
        "sale", "team_conversion"]
    assert not paula["behind"].any()


def test_a_manager_without_a_planner_goes_under_no_planner():
    """Dee Solo reports to nobody; Eve Hart reports to Dee (no planner up her line); one deal
    names no manager, one a manager not in the team. All four deals are under "(no planner)",
    Ann's under Paula: 5 deals in all, none dropped."""
    team = Team(members=[*two_planners_team().members,
                         TeamMember(id="dee", name="Dee Solo"),
                         TeamMember(id="eve", name="Eve Hart", manager="dee")])
    rows = [{"account_id": "A", "id": str(i), "manager": m, "stage": "lead", "outcome": "open"}
            for i, m in enumerate(["ann", "dee", "eve", None, "zed"])]
    c = conversion(deals_tables(rows), by="planner", team=team)
    assert c[["planner_id", "planner", "worked"]].values.tolist() == [
        [NO_PLANNER, "(no planner)", 4], ["paula", "Paula Reed", 1]]
    per = conversion(deals_tables(rows), by=["planner", "manager"], team=team)
    assert per["manager"].tolist() == ["(unassigned)", "Dee Solo", "Eve Hart", "zed", "Ann Lee"]
    # the funnel lists both groups too; no deal is lost yet, so neither has a weakest link
    w = funnel(deals_tables(rows), by="planner", team=team).weakest_links
    assert w["planner"].tolist() == ["(no planner)", "Paula Reed"]
    assert w["lost"].isna().all()


def test_a_planner_handling_deals_is_their_own_planner_and_names_are_told_apart():
    team = Team(members=[TeamMember(id="p1", name="Ann Lee", role="planner"),
                         TeamMember(id="k1", name="Ann Lee", manager="p1")])
    r = Roster.of(team)
    assert r.planner_ids(["p1", "k1"]).tolist() == ["p1", "p1"]
    assert r.label(["p1", "k1"]).tolist() == ["Ann Lee (p1)", "Ann Lee (k1)"]


def test_a_reporting_line_in_a_circle_is_refused():
    team = Team(members=[TeamMember(id="a", name="Al", manager="b"),
                         TeamMember(id="b", name="Bea", manager="a")])
    t = deals_tables([{"account_id": "A", "id": "1", "manager": "a", "stage": "lead",
                       "outcome": "open"}])
    with pytest.raises(InputError, match=r"team member a \(Al\), field 'manager': the reporting "
                                         r"line a -> b -> a runs in a circle and reaches no "
                                         r"planner"):
        conversion(t, by="planner", team=team)
    # the names do not depend on the reporting line: per manager the table is still there
    assert conversion(t, by="manager", team=team)["manager"].tolist() == ["Al"]


@pytest.mark.parametrize(("call", "message"), [
    (lambda t: conversion(t, by="region"),
     "cannot compute conversion by 'region'; options are manager, planner, account_id, "
     "product_group"),
    (lambda t: funnel(t, by="lead"),
     "cannot split the funnel by 'lead'; options are manager, planner, account_id, "
     "product_group"),
    (lambda t: manager_stage_conversion(t, by="account_id"),
     "cannot compare conversion by 'account_id'; options are manager, planner"),
    (lambda t: conversion(t, by="planner"),
     r"grouping by planner needs the team roster \(who reports to whom\): pass team=\.\.\., "
     r"e\.g\. team=workspace\.team\(\)"),
])
def test_an_unknown_grouping_names_the_options(call, message):
    with pytest.raises(ValueError, match=message):
        call(deals_tables(two_planners_rows()))


@pytest.fixture
def history_tables():
    """D1: lead on 1 Jan, potential on 11 Jan, sale on 10 Feb, won on 12 Mar:
    10 days as a lead, 30 in potential, 30 in sale.
    D2: lead on 5 Jan, potential on 25 Jan, still open: 20 days as a lead; on 24 Feb it had
    been 30 days in potential."""
    d = Dossier(account=Account(id="ACME", name="Acme"), deals=[
        Deal(id="D1", title="Pumps", stage="sale", outcome="won", created=date(2025, 1, 1),
             closed_on=date(2025, 3, 12), history=[
                 StageChange(stage="lead", on=date(2025, 1, 1)),
                 StageChange(stage="potential", on=date(2025, 1, 11)),
                 StageChange(stage="sale", on=date(2025, 2, 10))]),
        Deal(id="D2", title="Valves", stage="potential", created=date(2025, 1, 5), history=[
            StageChange(stage="lead", on=date(2025, 1, 5)),
            StageChange(stage="potential", on=date(2025, 1, 25))]),
    ])
    return tables([d])


def test_time_in_stage(history_tables):
    t = time_in_stage(history_tables, as_of=date(2025, 2, 24)).set_index("stage")
    # on 24 Feb D1 is still open in sale (14 days); it closes on 12 Mar, after as_of
    assert t.loc["lead", ["deals", "mean_days", "max_days"]].tolist() == [2, 15.0, 20]
    assert t.loc["potential", ["deals", "mean_days", "still_open"]].tolist() == [2, 30.0, 1]
    assert t.loc["sale", ["deals", "mean_days", "still_open"]].tolist() == [1, 14.0, 1]
    done = time_in_stage(history_tables).set_index("stage")
    assert done.loc["sale", "mean_days"] == 30  # until the deal closed on 12 Mar
    assert done.loc["potential", "deals"] == 1  # D2's open stay needs as_of
    per = time_in_stage(history_tables, per_deal=True)
    assert per.loc[per["deal_id"] == "D1", "days"].tolist() == [10, 30, 30]


def test_time_in_stage_a_history_date_after_as_of_is_reported_not_negative():
    """D1 entered lead on 1 Jan and potential on 1 Mar. As of 1 Feb: 31 days as a lead, still
    open; the 1 Mar entry lies after as_of, so potential has no stay (never -28 days) and
    reports the entry in ``dated_after_as_of``."""
    d = Dossier(account=Account(id="ACME", name="Acme"), deals=[
        Deal(id="D1", title="Pumps", stage="potential", created=date(2025, 1, 1), history=[
            StageChange(stage="lead", on=date(2025, 1, 1)),
            StageChange(stage="potential", on=date(2025, 3, 1))])])
    s = time_in_stage(tables([d]), as_of=date(2025, 2, 1)).set_index("stage")
    assert s.loc["lead", ["deals", "max_days", "still_open", "dated_after_as_of"]].tolist() == [
        1, 31, 1, 0]
    assert s.loc["potential", ["deals", "still_open", "dated_after_as_of"]].tolist() == [0, 0, 1]
    assert pd.isna(s.loc["potential", "mean_days"])
    per = time_in_stage(tables([d]), as_of=date(2025, 2, 1), per_deal=True)
    assert per[["stage", "days", "open"]].values.tolist() == [["lead", 31, True]]
    # without as_of nothing lies in the future: 59 days as a lead, the open stay unmeasured
    assert time_in_stage(tables([d]))["dated_after_as_of"].tolist() == [0]


def test_time_in_stage_a_stay_ends_when_the_deal_closed():
    """D1: lead on 1 Jan, refused on 1 Feb, but a potential entry dated 1 Mar (after the close):
    the lead stay ends at the close, 31 days (not 59), and nothing is counted after it."""
    t = deals_tables(
        [{"account_id": "A", "id": "D1", "stage": "potential", "outcome": "refused",
          "refusal_reason": "price", "closed_on": date(2025, 2, 1)}],
        [{"account_id": "A", "deal_id": "D1", "stage": "lead", "on": date(2025, 1, 1)},
         {"account_id": "A", "deal_id": "D1", "stage": "potential", "on": date(2025, 3, 1)}])
    per = time_in_stage(t, per_deal=True)
    assert per[["stage", "days", "open"]].values.tolist() == [["lead", 31, False]]


_day = st.integers(0, 120).map(lambda n: date(2025, 1, 1) + timedelta(days=n))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.lists(st.tuples(st.sampled_from(["lead", "potential", "sale"]),
                                             _day), min_size=1, max_size=3),
                          st.none() | _day), min_size=1, max_size=4),
       st.none() | _day)
def test_time_in_stage_days_are_never_negative(deals, as_of):
    rows, hist = [], []
    for i, (entries, closed) in enumerate(deals):
        rows.append({"account_id": "A", "id": str(i), "stage": "lead",
                     "outcome": "open" if closed is None else "won", "closed_on": closed})
        hist += [{"account_id": "A", "deal_id": str(i), "stage": s, "on": on}
                 for s, on in entries]
    t = deals_tables(rows, hist)
    per = time_in_stage(t, as_of=as_of, per_deal=True)
    assert (per["days"] >= 0).all()
    if as_of is not None:
        assert (per["start"] <= pd.Timestamp(as_of)).all()
        later = sum(on > as_of for entries, _ in deals for _, on in entries)
        assert time_in_stage(t, as_of=as_of)["dated_after_as_of"].sum() == later


def test_period_without_deals_is_a_clear_error():
    t = deals_tables([{"account_id": "A", "id": "1", "stage": "lead", "outcome": "open",
                       "created": date(2025, 1, 5)}])
    with pytest.raises(NoData, match="No deals created \\(or planned\\) in period '2024'"):
        funnel(t, period="2024")
    assert funnel(t, period="2025").stages["reached"].iloc[0] == 1


def test_empty_deals_give_explicit_empty_results():
    f = funnel(EMPTY)
    assert f.stages["reached"].tolist() == [0, 0, 0, 0, 0]
    assert f.weakest is None
    assert loss_reasons(EMPTY).empty
    assert time_in_stage(EMPTY).empty
    assert weakest_link(f.transitions) is None


# -- properties ----------------------------------------------------------------------------

_deal = st.tuples(st.sampled_from(["lead", "potential", "sale", "buyer", "repeat"]),
                  st.sampled_from(["open", "won", "refused", "declined"]),
                  st.sampled_from(["m1", "m2", "m3"]), st.floats(0, 1e6))


@settings(max_examples=50, deadline=None)
@given(st.lists(_deal, min_size=1, max_size=60))
def test_funnel_invariants(deals):
    rows = [{"account_id": "A", "id": str(i), "stage": s, "outcome": o, "manager": m,
             "refusal_reason": "x" if o == "refused" else None, "planned_budget": b,
             "actual_budget": b} for i, (s, o, m, b) in enumerate(deals)]
    t = deals_tables(rows)
    f = funnel(t)
    reached = f.stages["reached"].to_numpy()
    assert reached[0] == len(deals)
    assert (reached[:-1] >= reached[1:]).all()  # a funnel never widens
    tr = f.transitions
    for col in ("conversion", "lost_share"):
        vals = tr[col].dropna()
        assert ((vals >= 0) & (vals <= 1)).all()
    assert (tr["advanced"] + tr["lost"] + tr["open"] + tr["stopped"] == tr["entered"]).all()
    c = conversion(t, by="manager")
    assert (c["conversion"].dropna() <= 1).all() and (c["win_rate"].dropna() <= 1).all()
    assert (c["financial_conversion"].dropna() <= 1 + 1e-12).all()
    assert c["worked"].sum() == len(deals)
    assert (c["open"] + c["won"] + c["lost"] == c["worked"]).all()
