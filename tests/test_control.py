"""Planners assign and control (DOMAIN.md §9 roles, §11 "tasks assigned to managers and their
control", "re-assigning territories"): ownership history, tasks, control per manager, KPIs
against the plan, territory reassignment all or nothing."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from kam.control import (
    handovers,
    kpis_vs_plan,
    overdue_tasks,
    planner_team,
    planner_week,
    reassign_territory,
    task_control,
    task_table,
    week_span,
)
from kam.errors import InputError
from kam.model import (
    Account,
    Commitment,
    Deal,
    Dossier,
    Team,
    TeamMember,
    tables,
    validate_dossier,
)
from kam.model.account import Ownership
from kam.store import Workspace

TEAM = Team(members=[
    TeamMember(id="dir", name="Dana Reyes", role="planner"),
    TeamMember(id="ann", name="Ann Lee", manager="dir", region="North"),
    TeamMember(id="bob", name="Bo Chan", manager="dir", region="South"),
    TeamMember(id="old", name="Olaf Old", manager="dir", active=False),
])


def account(i: str, region: str, kam: str | None, **fields) -> Dossier:
    since = date(2025, 1, 1) if kam else None
    return Dossier(account=Account(id=i, name=f"{i} Ltd", region=region, kam=kam,
                                   phone="+1 555 0100", kam_since=since), **fields)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    w = Workspace(tmp_path / "ws", create=True)
    w.save_team(TEAM, author="dir")
    w.save_many([account("N1", "North", "ann"), account("N2", "North", "ann"),
                 account("N3", "North", "bob"), account("S1", "South", "bob")], author="dir")
    return w


def heads(w: Workspace) -> dict[str, int]:
    return {i: w.head(i) for i in w.account_ids()}


# -- ownership history ---------------------------------------------------------------------------
def test_reassignment_keeps_who_owned_the_account_when():
    """DOMAIN.md §9: planners assign clients to client-managers; the history is kept."""
    d = account("N1", "North", "ann")
    d.reassign("bob", on=date(2026, 3, 1), team=TEAM, by="dir", note="territory split")
    d.reassign("ann", on=date(2026, 9, 1), team=TEAM, by="dir")
    a = d.account
    assert (a.kam, a.kam_since, a.previous_kams) == ("ann", date(2026, 9, 1), ["ann", "bob"])
    assert [(t.kam, t.since, t.until, t.assigned_by) for t in a.ownership] == [
        ("ann", date(2025, 1, 1), date(2026, 2, 28), "dir"),
        ("bob", date(2026, 3, 1), date(2026, 8, 31), "dir")]
    assert [a.owner_on(date(2025, 6, 1)), a.owner_on(date(2026, 3, 1)),
            a.owner_on(date(2026, 8, 31)), a.owner_on(date(2026, 9, 1)),
            a.owner_on(date(2024, 12, 31))] == ["ann", "bob", "bob", "ann", None]
    validate_dossier(d)  # the dossier with its history is valid as a whole


def test_old_dossiers_without_ownership_records_stay_valid():
    """A dossier saved before ownership records existed (previous_kams only) still loads."""
    old = {"account": {"id": "OLD", "name": "Old", "kam": "ann", "kam_since": "2025-01-01",
                       "previous_kams": ["bob"]}}
    d = validate_dossier(old)
    assert d.account.ownership == [] and d.tasks == []
    assert d.account.owner_on(date(2026, 1, 1)) == "ann"


def test_overlapping_ownership_terms_are_refused_naming_the_field():
    with pytest.raises(InputError, match=r"account X, field 'account.ownership\[1\]': the term "
                                         r"of bob from 2025-06-01 overlaps the term before it"):
        validate_dossier({"account": {"id": "X", "name": "X", "ownership": [
            {"kam": "ann", "since": "2025-01-01", "until": "2025-12-31"},
            {"kam": "bob", "since": "2025-06-01", "until": "2026-01-31"}]}})


def test_a_handover_before_the_current_owner_took_over_is_refused_and_changes_nothing():
    d = account("N1", "North", "ann")
    before = d.model_dump()
    with pytest.raises(InputError, match=r"account N1, field 'kam_since': the handover on "
                                         r"2024-06-01 is not after ann took over \(2025-01-01\)"):
        d.reassign("bob", on=date(2024, 6, 1), team=TEAM)
    assert d.model_dump() == before


# -- tasks ---------------------------------------------------------------------------------------
def test_a_task_for_a_manager_not_in_the_team_is_refused_and_the_store_unchanged(ws):
    d = ws.load("N1")
    with pytest.raises(InputError, match=r"account N1 / new task, field 'assignee': 'zoe' is "
                                         r"not a member of the team; team: ann, bob, dir, old"):
        d.add_task("Call the buyer", "zoe", date(2026, 3, 9), team=ws.team(),
                   created=date(2026, 3, 2), created_by="dir")
    with pytest.raises(InputError, match=r"'old' is no longer active in the team; active "
                                         r"members: ann, bob, dir"):
        d.add_task("Call the buyer", "old", date(2026, 3, 9), team=ws.team(),
                   created=date(2026, 3, 2))
    assert d.tasks == []
    team = ws.team()
    with pytest.raises(InputError, match=r"team / new task, field 'assignee': 'zoe' is not a "
                                         r"member of the team"):
        team.add_task("Plan the seminar", "zoe", date(2026, 3, 9), created=date(2026, 3, 2))
    assert team.tasks == []
    # a team document naming a stranger is refused at the door of the store
    bad = Team.model_construct(members=TEAM.members, programmes=[], tasks=[
        {"id": "T1", "title": "x", "assignee": "zoe", "due": "2026-03-09",
         "created": "2026-03-02"}])
    before = (heads(ws), ws.team())
    with pytest.raises(InputError, match=r"team, field 'tasks\[0\]\.assignee': 'zoe' is not a "
                                         r"member of the team"):
        ws.save_team(bad)
    assert (heads(ws), ws.team()) == before


def test_tasks_are_numbered_saved_and_not_added_twice(ws):
    d = ws.load("N1")
    first = d.add_task("Send the offer", "ann", date(2026, 3, 9), team=ws.team(),
                       created=date(2026, 3, 2), created_by="dir")
    again = d.add_task("Send the offer", "ann", date(2026, 3, 9), team=ws.team(),
                       created=date(2026, 3, 2), created_by="dir")
    assert (first.id, again.id, len(d.tasks)) == ("N1-T1", "N1-T1", 1)
    d.complete_task("N1-T1", on=date(2026, 3, 8))
    ws.save(d, author="ann")
    stored = ws.load("N1").tasks[0]
    assert (stored.status.value, stored.done_on, stored.account) == ("done", date(2026, 3, 8),
                                                                    "N1")


@pytest.mark.parametrize(("fields", "message"), [
    ({"due": "2026-02-01"}, r"field 'due': due 2026-02-01 is before the task was created"),
    ({"status": "done"}, r"field 'done_on': a done task needs the date it was done"),
    ({"done_on": "2026-03-05"}, r"field 'done_on': an open task has no done date"),
    ({"account": "OTHER"}, r"field 'account': task T1 names account 'OTHER' but lives in "
                           r"account N1"),
])
def test_a_task_record_that_contradicts_itself_is_refused(fields, message):
    task = {"id": "T1", "title": "x", "assignee": "ann", "due": "2026-03-09",
            "created": "2026-03-02", **fields}
    with pytest.raises(InputError, match=message):
        validate_dossier({"account": {"id": "N1", "name": "N1"}, "tasks": [task]})


def _tasks() -> tuple[list[Dossier], Team]:
    """Ann: T1 open due 03-05 (created 03-01), T2 open due 03-20 (created 03-03), T3 done
    03-04 on time; Bo: T4 done 03-12 late (due 03-10), team task T1 open due 03-09 (created
    03-02), T5 created after today (03-11) -- not counted."""
    team = TEAM.model_copy(deep=True)
    n1, s1 = account("N1", "North", "ann"), account("S1", "South", "bob")
    n1.add_task("Offer", "ann", date(2026, 3, 5), team=team, created=date(2026, 3, 1))
    n1.add_task("Visit", "ann", date(2026, 3, 20), team=team, created=date(2026, 3, 3))
    t3 = n1.add_task("Call", "ann", date(2026, 3, 5), team=team, created=date(2026, 3, 1))
    n1.complete_task(t3.id, on=date(2026, 3, 4))
    t4 = s1.add_task("Quote", "bob", date(2026, 3, 10), team=team, created=date(2026, 3, 1))
    s1.complete_task(t4.id, on=date(2026, 3, 12))
    s1.add_task("Later", "bob", date(2026, 3, 30), team=team, created=date(2026, 3, 11))
    team.add_task("Leads", "bob", date(2026, 3, 9), created=date(2026, 3, 2), created_by="dir")
    return [n1, s1], team


def test_task_control_counts_open_done_overdue_and_their_age_by_hand():
    """Today 2026-03-10. Ann: open N1-T1 (age 9, 5 days overdue) and N1-T2 (age 7, not due),
    done N1-T3 on time. Bo: open team T1 (age 8, 1 day overdue), done S1-T1 on 03-12 -- after
    today, so still open on 03-10 (age 9, not yet due); S1-T2 created after today: left out."""
    ds, team = _tasks()
    tasks = task_table(ds, team)
    assert len(tasks) == 6 and set(tasks["manager"]) == {"Ann Lee", "Bo Chan"}
    c = task_control(tasks, date(2026, 3, 10)).set_index("manager_id")
    assert c.loc["ann", ["open", "overdue", "done", "done_late", "cancelled"]].tolist() == [
        2, 1, 1, 0, 0]
    assert c.loc["ann", ["open_age_mean", "open_age_max", "overdue_days_max",
                         "on_time_share"]].tolist() == [8.0, 9.0, 5.0, 1.0]
    assert c.loc["bob", ["open", "overdue", "done"]].tolist() == [2, 1, 0]
    assert c.loc["bob", ["open_age_mean", "overdue_days_max"]].tolist() == [8.5, 1.0]
    assert list(c.index) == ["ann", "bob"]  # most overdue first
    late = overdue_tasks(tasks, date(2026, 3, 10))
    assert late[["id", "days_overdue"]].values.tolist() == [["N1-T1", 5], ["T1", 1]]
    # on 03-20 Bo's S1-T1 is done, late (due 03-10, done 03-12)
    later = task_control(tasks, date(2026, 3, 20)).set_index("manager_id")
    assert later.loc["bob", ["done", "done_late", "on_time_share"]].tolist() == [1, 1, 0.0]


def test_team_tasks_may_not_name_an_account():
    with pytest.raises(ValueError, match=r"a task for an account lives in its dossier"):
        Team(members=TEAM.members, tasks=[{"id": "T1", "title": "x", "assignee": "ann",
                                           "account": "N1", "due": "2026-03-09",
                                           "created": "2026-03-02"}])


# -- KPIs against the plan -----------------------------------------------------------------------
def test_kpis_against_the_plan_by_hand():
    """2026-Q1 (90 days). Ann: planned 100 + 50; D1 won at 80 (of 100), D2 (50) open.
    Bo: planned 200; D3 refused. On 2026-03-01, 60 of 90 days are gone (2/3).
    Ann: plan 150, actual 80, achieved 80/150 = 0.5333, pace = 0.5333 - 0.6667 = -0.1333;
    Bo: plan 200, actual 0, achieved 0, pace -0.6667 (furthest behind, first)."""
    d = Dossier(account=Account(id="A", name="A"), deals=[
        Deal(id="D1", title="x", manager="ann", period="2026-01", planned_budget=100,
             outcome="won", actual_budget=80),
        Deal(id="D2", title="y", manager="ann", period="2026-03", planned_budget=50),
        Deal(id="D3", title="z", manager="bob", period="2026-02", planned_budget=200,
             outcome="refused", refusal_reason="high price")])
    k = kpis_vs_plan(tables([d]), period="2026-Q1", as_of=date(2026, 3, 1), team=TEAM)
    assert k["manager"].tolist() == ["Bo Chan", "Ann Lee"]
    ann = k.set_index("manager_id").loc["ann"]
    assert ann[["plan", "actual", "won_deals", "lost_deals", "open_deals",
                "open_planned"]].tolist() == [150.0, 80.0, 1, 0, 1, 50.0]
    assert ann["achieved"] == pytest.approx(80 / 150)
    assert ann["elapsed"] == pytest.approx(60 / 90)
    assert ann["pace"] == pytest.approx(80 / 150 - 60 / 90)
    bob = k.set_index("manager_id").loc["bob"]
    assert bob[["plan", "actual", "lost_deals", "won_deals"]].tolist() == [200.0, 0.0, 1, 0]


# -- territory reassignment ----------------------------------------------------------------------
def test_territory_reassignment_saves_every_account_of_the_region_in_one_go(ws):
    d = ws.load("N1")
    d.add_task("Offer", "ann", date(2026, 3, 20), team=ws.team(), created=date(2026, 3, 1))
    ws.save(d, author="ann")
    changed = reassign_territory(ws.load_all(), "bob", region="North", on=date(2026, 3, 2),
                                 team=ws.team(), by="dir")
    assert [c.account.id for c in changed] == ["N1", "N2"]  # N3 is Bo's already
    before = heads(ws)
    ws.save_many(changed, author="dir", message="North to Bo Chan")
    after = heads(ws)
    assert {k: after[k] - before[k] for k in after} == {"N1": 1, "N2": 1, "N3": 0, "S1": 0}
    n1 = ws.load("N1")
    assert n1.account.kam == "bob" and n1.account.ownership[0].kam == "ann"
    assert n1.tasks[0].assignee == "bob"  # the open task went with the account
    h = handovers(ws.load_all(), date(2026, 3, 2), date(2026, 3, 8), ws.team())
    assert h[["account_id", "from", "to", "by"]].values.tolist() == [
        ["N1", "Ann Lee", "Bo Chan", "Dana Reyes"], ["N2", "Ann Lee", "Bo Chan", "Dana Reyes"]]


@pytest.mark.parametrize(("to", "message"), [
    (None, r"territory reassignment, field 'to': a territory is reassigned to a team member, "
           r"not to nobody \(got None\)"),
    ("", r"not to nobody \(got ''\)"),
    ("zoe", r"territory reassignment, field 'to': 'zoe' is not a member of the team; team: "
            r"ann, bob, dir, old"),
    ("old", r"'old' is no longer active in the team"),
])
def test_a_reassignment_to_nobody_or_a_stranger_is_refused_and_changes_nothing(ws, to, message):
    dossiers = ws.load_all()
    dumped = [d.model_dump() for d in dossiers]
    before = heads(ws)
    with pytest.raises(InputError, match=message):
        reassign_territory(dossiers, to, region="North", on=date(2026, 3, 2), team=ws.team())
    assert [d.model_dump() for d in dossiers] == dumped
    assert heads(ws) == before


def test_an_unknown_region_is_refused_naming_the_regions(ws):
    with pytest.raises(InputError, match=r"no account matches region='Nord'; regions: North, "
                                         r"South"):
        reassign_territory(ws.load_all(), "bob", region="Nord", on=date(2026, 3, 2),
                           team=ws.team())


def test_one_refused_dossier_saves_none_of_the_territory(tmp_path):
    """N2 names a commitment owner who is not in the team (saved before the roster existed):
    the store refuses it, and so the whole reassignment is saved for no account."""
    w = Workspace(tmp_path / "ws", create=True)
    w.save_many([account("N1", "North", "ann"), account("N2", "North", "ann", commitments=[
        Commitment(id="C1", description="Repair", due=date(2026, 4, 1), owner="ghost")])])
    w.save_team(TEAM)
    before = heads(w)
    changed = reassign_territory(w.load_all(), "bob", region="North", on=date(2026, 3, 2),
                                 team=w.team())
    with pytest.raises(InputError, match=r"account N2 / commitments\[0\] \(C1\), field "
                                         r"'owner': 'ghost' is not a team member"):
        w.save_many(changed, author="dir")
    assert heads(w) == before
    assert w.load("N1").account.kam == "ann"


# -- the planner's week --------------------------------------------------------------------------
def test_week_span_and_planner_team():
    assert week_span("2026-W01") == (date(2025, 12, 29), date(2026, 1, 4))
    with pytest.raises(ValueError, match="'2026-W54' is not a week"):
        week_span("2026-W54")
    assert planner_team(TEAM, "dir") == ["ann", "bob", "dir", "old"]
    with pytest.raises(InputError, match=r"'ann' is not a planner of the team; planners: dir"):
        planner_team(TEAM, "ann")


def test_planner_week_lists_due_done_overdue_and_says_when_no_plan():
    ds, team = _tasks()
    w = planner_week(ds, team, planner="dir", week="2026-W11", period="2026-Q1",
                     as_of=date(2026, 3, 10))
    assert (w.start, w.end) == (date(2026, 3, 9), date(2026, 3, 15))
    assert w.due["id"].tolist() == ["T1", "S1-T1"]  # due 03-09 and 03-10
    assert w.done.empty  # N1-T3 was done on 03-04, the week before
    assert w.totals()["overdue"] == 2 and w.totals()["achieved"] is None
    assert w.kpis is None and w.missing == [
        "No planned deals in period '2026-Q1'; choose a period with plans"]
    assert w.control["manager"].tolist()[:2] == ["Ann Lee", "Bo Chan"]
    assert w.tasks_sentence() == ("4 open tasks, 2 overdue: Ann Lee's most overdue task is "
                                  "5 days late.")


def test_ownership_record_refuses_an_end_before_its_start():
    with pytest.raises(ValueError, match="until 2025-01-01 is before since 2025-06-01"):
        Ownership(kam="ann", since=date(2025, 6, 1), until=date(2025, 1, 1))


def test_task_table_of_nothing_has_the_columns():
    assert task_table([], None).columns.tolist()[:4] == ["id", "title", "manager_id", "manager"]
    assert task_control(task_table([], None), date(2026, 1, 1)).empty
    assert isinstance(overdue_tasks(task_table([], None), date(2026, 1, 1)), pd.DataFrame)


@pytest.mark.parametrize("module", ["kam.io.crm", "kam.io.transactions"])
def test_an_import_merging_the_roster_keeps_the_team_documents_tasks(module):
    """An import brings members; the team document's tasks (and programmes) stay."""
    import importlib

    from kam.model import Team, TeamMember

    team = Team(members=[TeamMember(id="ann", name="Ann Kam")])
    task = team.add_task("Clean up the North leads", "ann", date(2026, 12, 1),
                         created=date(2026, 11, 2))
    imported = Team(members=[TeamMember(id="ann", name="Ann Kam"),
                             TeamMember(id="bob", name="Bob Kam")])
    merged = importlib.import_module(module)._merge_team(team, imported)
    assert [m.id for m in merged.members] == ["ann", "bob"]
    assert merged.tasks == [task]
