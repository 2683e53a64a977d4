"""The demo portfolio (kam.demo): deterministic, valid, covering every stage, zone and outcome,
carrying the warning signs a KAM should see, and stored with a real revision history.

Expected facts are computed here independently (plain pandas, networkx, the YAML templates),
not taken from the code under test."""

from __future__ import annotations

import html
import tempfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
import yaml

from kam import demo
from kam.config import templates_dir
from kam.model import (
    Dossier,
    missing_for_stage,
    tables,
    validate_dossier,
)
from kam.model.dossier import reference_problems
from kam.store import Workspace

IDS = [d.id for d in demo.dossiers()]
TEAM = {m.id for m in demo.team().members}
ALL_STAGES = {"lead", "potential", "sale", "buyer", "repeat"}


def by_id(dossiers: list[Dossier]) -> dict[str, Dossier]:
    return {d.id: d for d in dossiers}


@pytest.fixture(scope="module")
def t(demo_dossiers):
    return tables(demo_dossiers)


# -- determinism and validity --------------------------------------------------------------
def test_dossiers_are_deterministic(demo_dossiers) -> None:
    again = demo.dossiers()
    assert again == demo_dossiers
    assert [d.model_dump_json() for d in again] == [d.model_dump_json() for d in demo_dossiers]
    assert again[0] is not demo_dossiers[0]  # fresh objects: changing one changes no other
    again[0].account.name = "Changed"
    assert demo.dossiers()[0].account.name == "Nordstahl Rolling Mills AG"


def test_two_builds_give_identical_workspaces(tmp_path: Path) -> None:
    a, b = demo.build(tmp_path / "a"), demo.build(tmp_path / "b")
    assert a.load_all() == b.load_all()
    for account_id in IDS:
        pd.testing.assert_frame_equal(a.history(account_id), b.history(account_id))
    assert a.team() == b.team() == demo.team()


def test_the_demo_has_twelve_accounts_with_distinct_ids(demo_dossiers) -> None:
    assert len(demo_dossiers) == 12
    assert len(set(IDS)) == 12


@pytest.mark.parametrize("account_id", IDS)
def test_every_demo_dossier_passes_its_stage_gate_and_reference_checks(
        demo_dossiers, account_id) -> None:
    d = by_id(demo_dossiers)[account_id]
    assert missing_for_stage(d, d.account.sales_stage) == []
    assert reference_problems(d) == []
    assert validate_dossier(d.model_dump(mode="json")) == d


def test_every_reference_to_our_team_names_a_team_member(demo_dossiers) -> None:
    for d in demo_dossiers:
        persons = {p.id for p in d.persons}
        refs = [d.account.kam, *d.account.previous_kams]
        refs += [x.manager for x in d.deals]
        refs += [m for x in d.interactions for m in x.our_participants]
        refs += [m for p in d.persons for m in p.reached_by]
        refs += [c.owner for c in d.commitments if c.owner]
        refs += [r.by for r in d.ratings if r.by]
        assert set(refs) <= TEAM, (d.id, set(refs) - TEAM)
        if d.plan:
            owners = {a.owner for a in d.plan.actions}
            assert owners <= TEAM | persons, (d.id, owners - TEAM - persons)


def test_the_team_has_a_planner_and_kams_reporting_to_them() -> None:
    team = demo.team()
    roles = Counter(m.role.value for m in team.members)
    assert roles["planner"] == 1
    assert 4 <= roles["kam"] + roles["client manager"] <= 5
    (planner,) = [m.id for m in team.members if m.role.value == "planner"]
    assert all(m.manager == planner for m in team.members if m.id != planner)
    assert all(m.region for m in team.members if m.id != planner)


# -- coverage of stages, zones and outcomes ------------------------------------------------
def test_every_sales_relationship_and_decision_stage_and_category_is_present(t) -> None:
    a = t.accounts
    assert set(a["sales_stage"]) == ALL_STAGES
    assert set(a["relationship_stage"]) == {"pre-KAM", "early KAM", "mid KAM", "partnership KAM",
                                            "synergistic KAM", "uncoupling"}
    assert set(a["decision_stage"].dropna()) == {
        "need recognition", "defining requirements", "evaluating suppliers",
        "proposal and selection", "negotiation and decision", "implementation and review"}
    assert set(a["category"]) == {"A", "B", "C"}
    assert a["industry"].nunique() >= 8


def test_every_deal_stage_and_outcome_is_present_with_reasons(t) -> None:
    deals = t.deals
    assert set(deals["stage"]) == ALL_STAGES
    assert set(deals["outcome"]) == {"open", "won", "refused", "declined"}
    reasons = set(deals.loc[deals["outcome"] == "refused", "refusal_reason"])
    assert {"high price", "quality not convincing", "deadline", "chose competitor"} <= reasons
    assert deals.loc[deals["outcome"] == "refused", "refusal_reason"].notna().all()
    assert set(deals["manager"]) <= TEAM
    assert len(deals) >= 60


def test_every_opportunity_zone_is_present(t) -> None:
    """Zones as templates/opportunities.yaml draws them: a score of 3.5 or more is high."""
    cfg = yaml.safe_load((templates_dir() / "opportunities.yaml").read_text(encoding="utf-8"))
    sig_high = t.needs["significance"] >= cfg["significance"]["threshold"]
    cap_high = t.needs["capability"] >= cfg["capability"]["threshold"]
    zones = Counter(zip(sig_high, cap_high, strict=True))
    assert set(zones) == {(False, False), (True, False), (False, True), (True, True)}
    assert t.needs["significance"].between(1, 5).all()
    assert t.needs["capability"].between(1, 5).all()


def test_every_awareness_level_and_both_motivations_are_present(demo_dossiers) -> None:
    needs = [n for d in demo_dossiers for n in d.needs]
    assert {n.awareness.value for n in needs if n.awareness} == {
        "unaware", "aware, no solution", "solving"}
    assert {n.motivation.value for n in needs} == {"business", "personal"}
    assert any(n.prospective for n in needs)


@pytest.mark.parametrize("account_id", IDS)
def test_need_maps_are_well_formed(demo_dossiers, account_id) -> None:
    """DOMAIN.md §2: no cycles, edges only upward, every problem reaches an effect, every
    effect is reached from a problem, every node has a function (checked per motivation map)."""
    d = by_id(demo_dossiers)[account_id]
    assert d.needs, "every account has a need map"
    rank = {"problem": 0, "criterion": 1, "effect": 2}
    for motivation in {n.motivation for n in d.needs}:
        nodes = {n.id: n for n in d.needs if n.motivation == motivation}
        g = nx.DiGraph()
        g.add_nodes_from(nodes)
        g.add_edges_from((n.id, up) for n in nodes.values() for up in n.leads_to)
        assert set(g.nodes) == set(nodes), "edges stay inside one motivation map"
        assert nx.is_directed_acyclic_graph(g)
        for a, b in g.edges:
            assert rank[nodes[a].level.value] < rank[nodes[b].level.value], (a, b)
        effects = {i for i, n in nodes.items() if n.level.value == "effect"}
        problems = {i for i, n in nodes.items() if n.level.value == "problem"}
        for p in problems:
            assert nx.descendants(g, p) & effects, f"{p} reaches no effect"
        for e in effects:
            assert nx.ancestors(g, e) & problems, f"{e} is reached from no problem"
        assert all(n.function for n in nodes.values())
        assert all(n.cause for n in nodes.values() if n.level.value == "problem"
                   and n.motivation.value == "business")
        assert all(n.goal for n in nodes.values() if n.level.value == "effect")


# -- names ---------------------------------------------------------------------------------
def test_account_names_are_distinctive(demo_dossiers) -> None:
    """No account name appears in another account's dossier (any text, also HTML-escaped) or in
    the team roster, so a per-account report can be searched for other accounts' names."""
    team_text = demo.team().model_dump_json().lower()
    for d in demo_dossiers:
        name = d.account.name.lower()
        assert name not in team_text
        for other in demo_dossiers:
            if other is d:
                continue
            text = other.model_dump_json().lower()
            assert name not in text, (d.id, other.id)
            assert html.escape(d.account.name).lower() not in html.escape(text), (d.id, other.id)


def test_one_account_name_needs_html_escaping(demo_dossiers) -> None:
    tricky = [d.account.name for d in demo_dossiers if "&" in d.account.name
              and "'" in d.account.name]
    assert tricky == ["McAllister & O'Neill Foods Ltd"]


# -- the people ----------------------------------------------------------------------------
def test_every_account_has_four_to_nine_persons_with_positions_and_roles(demo_dossiers) -> None:
    for d in demo_dossiers:
        assert 4 <= len(d.persons) <= 9, d.id
        assert all(p.position and p.department and p.roles for p in d.persons), d.id


def test_persons_are_linked_and_our_team_reaches_some_of_them(demo_dossiers) -> None:
    for d in demo_dossiers:
        assert d.links, d.id
        assert any(p.reached_by for p in d.persons), d.id
        assert all(0 < x.strength <= 1 for x in d.links)


def test_a_key_contact_left_and_is_kept_with_employment_history(demo_dossiers) -> None:
    left = [(d.id, p) for d in demo_dossiers for p in d.persons if p.left_on]
    assert "AZURCHEM" in {i for i, _ in left}
    _, maas = next((i, p) for i, p in left if i == "AZURCHEM")
    assert not maas.active
    assert set(maas.roles) & {"entry", "power"}
    assert maas.employment[0].company == "Azurchem Specialty Chemicals"
    assert maas.employment[0].end == maas.left_on
    assert maas.employment[-1].start > maas.left_on


def test_an_influential_detractor(demo_dossiers) -> None:
    detractors = [(d.id, p.name) for d in demo_dossiers for p in d.persons
                  if p.attitude.value == "detractor" and p.influence >= 0.7 and p.active]
    assert ("HELVIA", "Gunnar Eklund") in detractors


def test_some_accounts_lack_a_power_point(demo_dossiers) -> None:
    without = {d.id for d in demo_dossiers
               if not any(p.active and "power" in p.roles for p in d.persons)}
    assert {"HELVIA", "TALVIK"} <= without
    assert len(without) < len(demo_dossiers) / 2


def test_one_account_is_single_threaded(demo_dossiers, today) -> None:
    """Over the last year only one client person took part in our contacts."""
    year_ago = today - timedelta(days=365)
    single = {d.id for d in demo_dossiers
              if len({p for x in d.interactions if x.date >= year_ago
                      for p in x.participants}) == 1 and len(d.persons) >= 4
              and d.account.sales_stage.number >= 3}
    assert single == {"RIVERTON"}


# -- contacts, promises, projects ----------------------------------------------------------
def test_one_account_is_neglected(demo_dossiers, today) -> None:
    last = {d.id: max(x.date for x in d.interactions) for d in demo_dossiers}
    assert {i for i, day in last.items() if (today - day).days > 120} == {"BRIGHTWELL"}
    assert all((today - day).days <= 60 for i, day in last.items() if i != "BRIGHTWELL")


def test_contacts_cover_the_last_two_years_with_people_who_were_there(demo_dossiers,
                                                                      today) -> None:
    for d in demo_dossiers:
        assert d.interactions, d.id
        persons = {p.id: p for p in d.persons}
        for x in d.interactions:
            assert today - timedelta(days=731) <= x.date <= today, (d.id, x.id)
            for pid in x.participants:
                left = persons[pid].left_on
                assert left is None or x.date <= left, (d.id, x.id, pid)
    long_running = by_id(demo_dossiers)["KARSTGOLD"].interactions
    assert (long_running[-1].date - long_running[0].date).days > 365


def test_two_or_three_commitments_are_overdue_and_others_done_or_open(demo_dossiers,
                                                                      today) -> None:
    commitments = [c for d in demo_dossiers for c in d.commitments]
    overdue = [c.id for c in commitments if c.status.value == "open" and c.due < today]
    assert 2 <= len(overdue) <= 3
    statuses = Counter(c.status.value for c in commitments)
    assert statuses["done"] >= 5
    assert statuses["open"] > len(overdue)
    assert statuses["broken"] >= 1


def test_current_projects_carry_satisfaction_and_quality(demo_dossiers) -> None:
    projects = [p for d in demo_dossiers for p in d.projects]
    assert {p.status.value for p in projects} >= {"in progress", "done"}
    assert all(p.satisfaction for p in projects if p.status.value == "done")
    assert min(p.satisfaction or 5 for p in projects) <= 2


# -- deals ---------------------------------------------------------------------------------
def test_deals_are_consistent_with_their_history(demo_dossiers, today) -> None:
    for d in demo_dossiers:
        for x in d.deals:
            days = [h.on for h in x.history]
            assert days == sorted(days) and days[0] == x.created, (d.id, x.id)
            assert x.stage == x.history[-1].stage
            assert x.planned_budget and x.plan_date and x.period and x.product_group
            assert x.period == f"{x.expected_close:%Y-%m}"
            if x.outcome.value == "open":
                assert x.closed_on is None and x.actual_budget is None
                assert 0 < x.probability < 1
            else:
                assert x.closed_on and x.closed_on <= today
                assert x.probability == (1.0 if x.outcome.value == "won" else 0.0)
            if x.outcome.value == "won":
                assert "buyer" in [h.stage for h in x.history]
                assert x.actual_budget and x.refined_budget and x.delivery_terms


def test_budgets_go_planned_refined_actual_with_a_planning_error(t) -> None:
    won = t.deals[t.deals["outcome"] == "won"]
    ratio = won["actual_budget"].sum() / won["planned_budget"].sum()
    assert 0.7 < ratio < 0.95  # realization below plan, as in DOMAIN.md §9


# -- the numbers ---------------------------------------------------------------------------
BUYING = {"NORDSTAHL": "2024-01", "KARSTGOLD": "2024-01", "BRIGHTWELL": "2024-01",
          "MCALLISTER": "2024-06", "AZURCHEM": "2025-04", "RIVERTON": "2025-06"}


def test_monthly_revenue_runs_without_gaps_from_the_first_sale_to_october_2026(t) -> None:
    r = t.revenue
    assert set(r["account_id"]) == set(BUYING)
    for account_id, first in BUYING.items():
        months = sorted(set(r.loc[r["account_id"] == account_id, "period"]))
        expected = [str(p) for p in pd.period_range(first, "2026-10", freq="M")]
        assert months == expected, account_id
        assert r.loc[r["account_id"] == account_id, "product_group"].nunique() >= 3


def test_revenue_lines_give_discounts_margins_and_seasonality(t) -> None:
    r = t.revenue
    assert (r["list_value"] >= r["revenue"]).all()
    assert (r["list_value"] > r["revenue"]).mean() > 0.9
    assert (r["cogs"] < r["revenue"]).all() and (r["quantity"] > 0).all()
    by_group = r.groupby("product_group")[["revenue", "cogs"]].sum()
    margin = 1 - by_group["cogs"] / by_group["revenue"]
    assert margin["services"] > margin["pumps"] + 0.1
    ns = r[(r["account_id"] == "NORDSTAHL") & r["period"].str.startswith("2025")]
    monthly = ns.groupby("period")["revenue"].sum()
    assert monthly.max() / monthly.min() > 1.2


def _year(frame: pd.DataFrame, year: str) -> pd.DataFrame:
    return frame[frame["period"].str.startswith(year)]


def test_two_accounts_of_similar_revenue_differ_greatly_in_cost_to_serve(t) -> None:
    revenue = _year(t.revenue, "2025").groupby("account_id")["revenue"].sum()
    cost = _year(t.costs, "2025").groupby("account_id")["amount"].sum()
    assert abs(revenue["NORDSTAHL"] / revenue["MCALLISTER"] - 1) < 0.05
    share = cost / revenue
    assert share["MCALLISTER"] > 2.5 * share["NORDSTAHL"]


def test_one_account_is_unprofitable(t) -> None:
    r, c = t.revenue, t.costs
    gross = (r.groupby("account_id")["revenue"].sum() - r.groupby("account_id")["cogs"].sum())
    net = gross - c.groupby("account_id")["amount"].sum().reindex(gross.index)
    assert list(net[net < 0].index) == ["RIVERTON"]


def test_costs_activities_and_budgets_use_the_configured_names(t) -> None:
    cfg = yaml.safe_load((templates_dir() / "cost_to_serve.yaml").read_text(encoding="utf-8"))
    categories = set(cfg["categories"])
    assert set(t.costs["category"]) == categories
    assert set(t.activities["activity"]) == set(cfg["activity_rates"])
    assert set(t.budgets["category"]) == categories | {cfg["discount_category"]}
    assert set(t.budgets["period"]) == {"2024", "2025", "2026"}
    assert (t.costs["amount"] > 0).all() and (t.activities["count"] >= 0).all()
    prospects = set(t.accounts["account_id"]) - set(BUYING)
    assert set(t.costs.loc[t.costs["account_id"].isin(prospects), "category"]) == {
        "sales visits"}


def test_some_budgets_are_badly_overrun(t) -> None:
    actual = _year(t.costs, "2025").groupby(["account_id", "category"])["amount"].sum()
    budget = t.budgets[t.budgets["period"] == "2025"].set_index(
        ["account_id", "category"])["amount"]
    over = (actual / budget.reindex(actual.index)).dropna()
    assert set(over[over > 1.3].index) >= {("MCALLISTER", "logistics"),
                                            ("MCALLISTER", "technical support")}


def test_ratings_of_every_kind(t) -> None:
    assert set(t.ratings["kind"]) == {"status", "event", "personal"}
    assert (t.ratings.groupby("account_id")["kind"].size() >= 1).all()


def test_most_accounts_have_a_plan_with_done_and_overdue_actions(demo_dossiers, t, today) -> None:
    plans = {d.id: d.plan for d in demo_dossiers if d.plan}
    assert len(plans) >= 8
    actions = [a for p in plans.values() for a in p.actions]
    assert any(a.status.value == "done" for a in actions)
    assert any(a.status.value in ("open", "in progress") and a.due < today for a in actions)
    assert any(a.owner not in TEAM for a in actions)  # some owned by client persons
    objectives = [o for p in plans.values() for o in p.objectives]
    assert any(o.needs for o in objectives) and any(o.deals for o in objectives)
    assert all(k.actual is not None for p in plans.values() for k in p.kpis)
    # The revenue KPI is the revenue booked this year (summed here independently).
    revenue = _year(t.revenue, "2026").groupby("account_id")["revenue"].sum()
    for account_id, plan in plans.items():
        for k in plan.kpis:
            if k.name == "Revenue 2026 to date":
                assert k.actual == round(revenue[account_id], -3)


# -- the history in the workspace ----------------------------------------------------------
def test_every_account_has_a_history_ending_at_the_demo_state(demo_workspace,
                                                              demo_dossiers) -> None:
    assert demo_workspace.account_ids() == sorted(IDS)
    assert demo_workspace.load_all() == sorted(demo_dossiers, key=lambda d: d.id)
    for d in demo_dossiers:
        h = demo_workspace.history(d.id)
        assert len(h) >= 2, d.id
        assert demo_workspace.load(d.id) == d
        assert set(h["author"]) <= TEAM
        assert h["message"].str.len().min() > 0
        assert h["created_at"].is_monotonic_increasing and h["created_at"].is_unique
        assert h["created_at"].iloc[0] >= pd.Timestamp("2024-01-01", tz="UTC")
        assert h["created_at"].iloc[-1] < pd.Timestamp(demo.TODAY, tz="UTC")


@pytest.mark.parametrize("account_id", IDS)
def test_every_revision_passed_the_stage_gate_and_stages_only_move_on(demo_workspace,
                                                                      account_id) -> None:
    stages = []
    for n in range(1, demo_workspace.head(account_id) + 1):
        d = demo_workspace.load(account_id, n)
        assert missing_for_stage(d, d.account.sales_stage) == [], (account_id, n)
        stages.append(d.account.sales_stage.number)
    assert stages == sorted(stages)


def test_accounts_grew_through_the_stages(demo_workspace) -> None:
    first = {i: demo_workspace.load(i, 1).account.sales_stage.value for i in IDS}
    assert Counter(first.values())["lead"] >= 8
    mc = [demo_workspace.load("MCALLISTER", n).account.sales_stage.value
          for n in range(1, demo_workspace.head("MCALLISTER") + 1)]
    assert mc[:5] == ["lead", "potential", "sale", "buyer", "repeat"]


def test_load_as_of_shows_the_account_as_it_was(demo_workspace) -> None:
    mc = demo_workspace.load("MCALLISTER", as_of=date(2024, 5, 1))
    assert mc.account.sales_stage.value == "sale"
    assert mc.account.category.value == "B"
    assert not mc.revenue and all(x.created <= date(2024, 5, 1) for x in mc.deals)
    az = demo_workspace.load("AZURCHEM", as_of=date(2026, 6, 1))
    assert az.person("AZ-P1").active
    assert [j.end for j in az.person("AZ-P1").employment] == [None]
    bw = demo_workspace.load("BRIGHTWELL", as_of=date(2025, 1, 31))
    assert (bw.account.kam, bw.account.relationship_stage.value) == ("ben.okafor",
                                                                     "partnership KAM")
    first_day = demo_workspace.history("PELAGOS")["created_at"].iloc[0].date()
    with pytest.raises(LookupError):
        demo_workspace.load("PELAGOS", as_of=first_day - timedelta(days=1))


def test_diff_shows_what_changed_over_the_history(demo_workspace) -> None:
    changes = demo_workspace.diff("AZURCHEM", 5, 6)
    rows = changes.set_index("field")
    assert rows.loc["persons[AZ-P1].left_on", "after"] == "2026-06-30"
    assert "persons[AZ-P6].name" in rows.index
    stages = demo_workspace.diff("MCALLISTER", 1, 2).set_index("field")
    assert (stages.loc["account.sales_stage", "before"],
            stages.loc["account.sales_stage", "after"]) == ("lead", "potential")


def test_the_team_roster_is_saved(demo_workspace) -> None:
    assert demo_workspace.team() == demo.team()


# -- building and loading ------------------------------------------------------------------
def test_build_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    demo.build(tmp_path / "ws")
    with pytest.raises(FileExistsError, match=r"ws is not empty; the demo is only built into a "
                                              r"new or empty folder\. Pass overwrite=True "
                                              r"\(kam demo --overwrite\)"):
        demo.build(tmp_path / "ws")


def test_build_with_overwrite_recreates_the_workspace(tmp_path: Path) -> None:
    ws = demo.build(tmp_path / "ws")
    d = ws.load("KESTREL")
    d.account.notes = "my own change"
    ws.save(d, author="tom.hale", message="edited")
    (tmp_path / "ws" / "notes.txt").write_text("keep me", encoding="utf-8")
    ws.close()
    again = demo.build(tmp_path / "ws", overwrite=True)
    assert again.load("KESTREL") == by_id(demo.dossiers())["KESTREL"]
    assert len(again.history("KESTREL")) == 2
    assert (tmp_path / "ws" / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_build_never_overwrites_a_folder_without_a_workspace(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.txt").write_text("precious", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"holds files but no kam workspace"):
        demo.build(folder, overwrite=True)
    assert [p.name for p in folder.iterdir()] == ["thesis.txt"]


def test_load_workspace_opens_an_existing_demo_without_rebuilding(tmp_path: Path) -> None:
    ws = demo.load_workspace(tmp_path / "ws")  # built there
    d = ws.load("TALVIK")
    d.account.notes = "kept"
    ws.save(d, author="raj.patel", at=datetime(2026, 10, 31, tzinfo=UTC))
    ws.close()
    assert demo.load_workspace(tmp_path / "ws").load("TALVIK").account.notes == "kept"


def test_load_workspace_without_a_path_builds_into_a_new_temporary_folder(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    a, b = demo.load_workspace(), demo.load_workspace()
    assert a.location != b.location
    assert Path(a.location).parent == tmp_path
    assert isinstance(a, Workspace) and len(a) == 12


def test_build_into_a_database_url_fills_only_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    ws = demo.build(url)
    assert len(ws) == 12 and len(ws.history("SOLENNE")) == 4
    ws.close()
    with pytest.raises(FileExistsError, match=r"already holds accounts; build the demo into an "
                                              r"empty database or a new folder"):
        demo.build(url)
    assert len(demo.load_workspace(url).history("SOLENNE")) == 4  # opened, not rebuilt
