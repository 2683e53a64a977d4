"""The funnel on a real CRM export: the Maven CRM sample (/work/shared/data/maven-crm).

The path is import -> tables -> funnel. Every expected figure is computed independently here
with plain pandas from the CSV files (opportunities with an account: the ones the importer puts
into dossiers; see the export's README).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kam.funnel import NO_PLANNER, conversion, funnel, manager_stage_conversion, time_in_stage
from kam.model import tables
from kam.planning import plan_accuracy

MAVEN = Path("/work/shared/data/maven-crm")

pytestmark = pytest.mark.skipif(not MAVEN.is_dir(), reason="Maven CRM sample not available")


@pytest.fixture(scope="module")
def imported():
    from kam.io.crm import read_crm_export

    return read_crm_export(MAVEN)


@pytest.fixture(scope="module")
def t(imported):
    return tables(imported.dossiers)


@pytest.fixture(scope="module")
def pipeline(imported) -> pd.DataFrame:
    """The opportunities with an account, with the agent's team id and the list price."""
    pipe = pd.read_csv(MAVEN / "sales_pipeline.csv")
    pipe = pipe[pipe["account"].notna()].copy()
    products = pd.read_csv(MAVEN / "products.csv")
    price = dict(zip(products["product"], products["sales_price"], strict=True))
    price["GTXPro"] = price["GTX Pro"]  # the export's spelling quirk (README)
    pipe["list_price"] = pipe["product"].map(price)
    member = {m.name: m.id for m in imported.team.members}
    pipe["manager"] = pipe["sales_agent"].map(member)
    assert pipe["manager"].notna().all() and pipe["list_price"].notna().all()
    return pipe


def test_maven_won_lost_open_counts_and_win_rate(t, pipeline):
    won = int((pipeline["deal_stage"] == "Won").sum())
    lost = int((pipeline["deal_stage"] == "Lost").sum())
    still_open = int(pipeline["deal_stage"].isin(["Prospecting", "Engaging"]).sum())
    c = conversion(t).iloc[0]
    assert (c["worked"], c["won"], c["lost"], c["open"]) == (len(pipeline), won, lost,
                                                              still_open)
    assert c["win_rate"] == pytest.approx(won / (won + lost))
    assert c["conversion"] == pytest.approx(won / len(pipeline))
    assert c["value_won"] == pytest.approx(
        pipeline.loc[pipeline["deal_stage"] == "Won", "close_value"].sum())


def test_maven_funnel_stages(t, pipeline):
    f = funnel(t)
    won = int((pipeline["deal_stage"] == "Won").sum())
    assert f.stages["reached"].iloc[0] == len(pipeline)  # every deal was at least a lead
    buyer = f.stages.set_index("stage").loc["buyer"]
    assert buyer["reached"] == won  # a won deal is a buyer; no lost or open deal got there
    into_buyer = f.transitions.set_index("to_stage").loc["buyer"]
    assert into_buyer["advanced"] == won
    assert f.stages["lost"].sum() == (pipeline["deal_stage"] == "Lost").sum()
    assert f.weakest is not None and f.weakest["lost"] > 0


def test_maven_per_manager_figures(t, pipeline):
    g = pipeline.assign(
        won=pipeline["deal_stage"].eq("Won"), lost=pipeline["deal_stage"].eq("Lost"),
        value=pipeline["close_value"].where(pipeline["deal_stage"].eq("Won"), 0.0),
    ).groupby("manager").agg(worked=("won", "size"), won=("won", "sum"), lost=("lost", "sum"),
                             value_won=("value", "sum"), budget_worked=("list_price", "sum"))
    g["conversion"] = g["won"] / g["worked"]
    g["win_rate"] = g["won"] / (g["won"] + g["lost"])
    g["financial_conversion"] = g["value_won"] / g["budget_worked"]

    c = conversion(t, by="manager").set_index("manager").sort_index()
    assert list(c.index) == sorted(g.index)  # agents without deals do not appear
    g = g.loc[c.index]
    assert c["worked"].tolist() == g["worked"].tolist()
    assert c["won"].tolist() == g["won"].tolist()
    assert c["lost"].tolist() == g["lost"].tolist()
    for col in ("conversion", "win_rate", "value_won", "budget_worked", "financial_conversion"):
        assert c[col].to_numpy() == pytest.approx(g[col].to_numpy()), col


def test_maven_cross_statistics_flag_managers_below_the_team(t, pipeline):
    x = manager_stage_conversion(t, threshold=0.05)
    team_rate = (pipeline["deal_stage"] == "Won").sum() / pipeline["deal_stage"].isin(
        ["Won", "Lost"]).sum()
    # the export records lost deals at one stage; leaving it, won / (won + lost) go on
    stages = funnel(t).stages
    (lost_at,) = stages.loc[stages["lost"] > 0, "stage"]
    decisive = x[x["from_stage"] == lost_at]
    assert decisive["team_conversion"].to_numpy() == pytest.approx(team_rate)
    closed = pipeline[pipeline["deal_stage"].isin(["Won", "Lost"])]
    rate = closed["deal_stage"].eq("Won").groupby(closed["manager"]).mean()
    assert decisive.set_index("manager")["conversion"].sort_index().to_numpy() == pytest.approx(
        rate.sort_index().to_numpy())
    behind = set(rate[rate < team_rate - 0.05].index)
    assert behind  # some agents convert clearly worse than the team
    assert set(decisive.loc[decisive["behind"], "manager"]) == behind


def test_maven_time_from_engaging_to_close(t, pipeline):
    closed = pipeline[pipeline["deal_stage"].isin(["Won", "Lost"])]
    days = (pd.to_datetime(closed["close_date"]) - pd.to_datetime(closed["engage_date"])).dt.days
    per = time_in_stage(t, per_deal=True)
    assert len(per) == len(closed)
    assert per["days"].sum() == days.sum()


# -- along the reporting line: agents roll up to their managers (kam's planners) ------------

@pytest.fixture(scope="module")
def by_team_manager(pipeline) -> pd.DataFrame:
    """Won, lost, open and win rate per manager of sales_teams.csv, from the opportunities
    joined with the team file on the agent (the independent computation)."""
    teams = pd.read_csv(MAVEN / "sales_teams.csv")
    joined = pipeline.drop(columns="manager").merge(
        teams[["sales_agent", "manager"]], on="sales_agent", how="left", validate="m:1")
    assert joined["manager"].notna().all() and len(joined) == len(pipeline)
    g = joined.assign(won=joined["deal_stage"].eq("Won"), lost=joined["deal_stage"].eq("Lost"),
                      open=joined["deal_stage"].isin(["Prospecting", "Engaging"]),
                      planned=joined["list_price"].where(
                          joined["deal_stage"].isin(["Won", "Lost"]), 0.0),
                      actual=joined["close_value"].where(joined["deal_stage"].eq("Won"), 0.0))
    out = g.groupby("manager").agg(worked=("won", "size"), won=("won", "sum"),
                                   lost=("lost", "sum"), open=("open", "sum"),
                                   planned=("planned", "sum"), actual=("actual", "sum"))
    out["win_rate"] = out["won"] / (out["won"] + out["lost"])
    return out.sort_index()


def test_maven_conversion_by_planner_equals_pandas_over_the_team_file(t, imported,
                                                                      by_team_manager):
    c = conversion(t, by="planner", team=imported.team).set_index("planner").sort_index()
    assert list(c.index) == list(by_team_manager.index)  # the 6 managers, by name
    assert NO_PLANNER not in set(c["planner_id"])  # every agent has a manager in the file
    for col in ("worked", "won", "lost", "open"):
        assert c[col].tolist() == by_team_manager[col].tolist(), col
    assert c["win_rate"].to_numpy() == pytest.approx(by_team_manager["win_rate"].to_numpy())


def test_maven_funnel_by_planner_stage_counts(t, imported, by_team_manager):
    f = funnel(t, by="planner", team=imported.team)
    first = f.stages[f.stages["number"] == 1].set_index("planner")["reached"].sort_index()
    assert first.tolist() == by_team_manager["worked"].tolist()  # every deal was a lead
    buyer = f.stages[f.stages["stage"] == "buyer"].set_index("planner")["reached"].sort_index()
    assert buyer.tolist() == by_team_manager["won"].tolist()
    weakest = f.weakest_links.set_index("planner").sort_index()
    assert weakest["lost"].tolist() == by_team_manager["lost"].tolist()  # all lost at one stage


def test_maven_cross_statistics_and_plan_accuracy_by_planner(t, imported, by_team_manager):
    x = manager_stage_conversion(t, by="planner", team=imported.team)
    decisive = x[x["lost"] > 0].set_index("planner").sort_index()
    assert decisive["conversion"].to_numpy() == pytest.approx(
        by_team_manager["win_rate"].to_numpy())
    # plans: planned = list price of the settled (won or lost) deals, actual = close value
    acc = plan_accuracy(t, by="planner", team=imported.team).set_index("planner").sort_index()
    assert list(acc.index) == list(by_team_manager.index)
    assert acc["planned"].to_numpy() == pytest.approx(by_team_manager["planned"].to_numpy())
    assert acc["actual"].to_numpy() == pytest.approx(by_team_manager["actual"].to_numpy())


def test_maven_tables_name_the_agents(t, imported, pipeline):
    c = conversion(t, by="manager", team=imported.team)
    names = dict(zip(pipeline["manager"], pipeline["sales_agent"], strict=False))
    assert c["manager"].tolist() == [names[i] for i in c["manager_id"]]
