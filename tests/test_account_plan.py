"""The account plan (DOMAIN.md §10): status as of a day, changes since the last review, checks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from kam.account_plan import check_plan, objective_links, plan_changes, plan_status
from kam.errors import InputError
from kam.figures.account_plan import kpi_figure, objectives_figure
from kam.model import (
    Account,
    AccountPlan,
    Action,
    Deal,
    Dossier,
    Kpi,
    Need,
    Objective,
    Person,
    Team,
    TeamMember,
    validate_dossier,
)
from kam.store import Workspace

D = date


def objective(**kw: Any) -> Objective:
    base: dict[str, Any] = dict(id="o1", title="Share of wallet", metric="%", baseline=10,
                                target=20, start=D(2026, 1, 1), due=D(2026, 12, 31))
    return Objective(**{**base, **kw})


def status_of(o: Objective, today: date, period: str = "2026") -> dict[Any, Any]:
    s = plan_status(AccountPlan(period=period, objectives=[o]), today)
    return s.objectives.to_dict("records")[0]


# -- objectives
@pytest.mark.parametrize(("current", "achieved", "status"), [
    (13.0, 0.3, "off track"),    # 0.3 < 0.497 - 0.1
    (14.5, 0.45, "on track"),    # 0.45 >= 0.397
    (20.0, 1.0, "achieved"),
    (None, None, "no data"),
])
def test_objective_off_track_by_linear_interpolation(current: float | None,
                                                     achieved: float | None,
                                                     status: str) -> None:
    # 2026-01-01 -> 2026-07-01 is 31+28+31+30+31+30 = 181 days of 364 (-> 2026-12-31):
    # expected share 181/364 = 0.49725, expected value 10 + 0.49725 x 10 = 14.9725
    row = status_of(objective(current=current), D(2026, 7, 1))
    assert row["expected_share"] == pytest.approx(181 / 364)
    assert row["expected_value"] == pytest.approx(10 + 10 * 181 / 364)
    assert row["achieved_share"] == (pytest.approx(achieved) if achieved is not None else None)
    assert row["status"] == status
    assert row["off_track"] is (status == "off track")


def test_objective_not_reached_after_due_date_is_missed() -> None:
    row = status_of(objective(current=19.9), D(2027, 1, 5))
    assert (row["expected_share"], row["status"], row["off_track"]) == (1.0, "missed", True)


def test_objective_going_down_counts_the_way_down() -> None:
    # cost from 10 down to 5; current 8 covers (8 - 10) / (5 - 10) = 0.4 of the way
    row = status_of(objective(baseline=10, target=5, current=8), D(2026, 7, 1))
    assert row["achieved_share"] == pytest.approx(0.4)
    assert row["status"] == "on track"  # 0.4 >= 0.497 - 0.1


def test_objective_without_start_starts_with_the_plan_period() -> None:
    row = status_of(objective(start=None, current=13), D(2026, 7, 1), period="2026")
    assert row["start"] == D(2026, 1, 1)
    assert row["expected_share"] == pytest.approx(181 / 364)
    # a period kam cannot read: only the due date counts
    row = status_of(objective(start=None, current=13), D(2026, 7, 1), period="FY26")
    assert (row["expected_share"], row["status"]) == (0.0, "on track")


# -- actions
def test_share_done_excludes_cancelled_and_overdue_actions() -> None:
    today = D(2026, 3, 10)
    due = D(2026, 3, 1)
    plan = AccountPlan(period="2026", actions=[
        Action(id="a1", title="Visit", owner="ann", due=due, status="done", done_on=due),
        Action(id="a2", title="Offer", owner="ann", due=due),                     # overdue 9 d
        Action(id="a3", title="Trial", owner="ann", due=D(2026, 3, 9), status="in progress"),
        Action(id="a4", title="Dropped", owner="ann", due=due, status="cancelled"),
        Action(id="a5", title="Later", owner="ann", due=D(2026, 4, 1)),
    ])
    s = plan_status(plan, today)
    # live actions: a1, a2, a3, a5 (a4 cancelled) -> 1 done of 4 = 0.25
    assert s.summary["actions"] == 4 and s.summary["done"] == 1
    assert s.summary["share_done"] == 0.25
    assert s.actions[s.actions.overdue]["id"].tolist() == ["a2", "a3"]
    assert s.actions.set_index("id")["days_overdue"].to_dict() == {
        "a1": 0, "a2": 9, "a3": 1, "a4": 0, "a5": 0}
    assert s.summary["overdue"] == 2


def test_share_done_without_live_actions_is_none_not_nan() -> None:
    plan = AccountPlan(period="2026", actions=[
        Action(id="a1", title="x", owner="ann", due=D(2026, 1, 1), status="cancelled")])
    s = plan_status(plan, D(2026, 2, 1))
    assert s.summary["share_done"] is None
    assert "done=n/a" in repr(s)
    empty = plan_status(AccountPlan(period="2026"), D(2026, 2, 1))
    assert empty.summary["actions"] == 0 and empty.summary["share_done"] is None
    assert list(empty.kpis.columns)[:3] == ["id", "name", "unit"]


# -- KPIs
@pytest.mark.parametrize(("target", "actual", "higher", "status"), [
    (100, 100, True, "green"),
    (100, 95, True, "amber"),     # short by 5 <= 0.10 x 100
    (100, 89, True, "red"),       # short by 11 > 10
    (100, None, True, "no data"),
    (10, 9, False, "green"),
    (10, 11, False, "amber"),     # over by 1 <= 0.10 x 10
    (10, 11.5, False, "red"),
    (0, 0, False, "green"),
    (0, 1, False, "red"),         # a zero target leaves no amber band
])
def test_kpi_target_vs_actual_red_amber_green(target: float, actual: float | None, higher: bool,
                                              status: str) -> None:
    plan = AccountPlan(period="2026", kpis=[Kpi(id="k", name="k", target=target, actual=actual,
                                                higher_is_better=higher)])
    assert plan_status(plan, D(2026, 1, 1)).kpis["status"].tolist() == [status]


def test_kpi_tolerance_is_a_parameter() -> None:
    plan = AccountPlan(period="2026", kpis=[Kpi(id="k", name="k", target=100, actual=85)])
    assert plan_status(plan, D(2026, 1, 1), kpi_tolerance=0.2).kpis["status"].tolist() == ["amber"]
    with pytest.raises(ValueError, match="kpi_tolerance must be between 0 and 1, got 2"):
        plan_status(plan, D(2026, 1, 1), kpi_tolerance=2)


def test_dossier_without_plan_is_an_input_error() -> None:
    d = Dossier(account=Account(id="ACME", name="Acme"))
    with pytest.raises(InputError, match="account ACME, field 'plan': the account has no plan"):
        plan_status(d, D(2026, 1, 1))


# -- links to needs and deals
def test_objectives_link_to_needs_with_their_opportunity_zone_and_deals() -> None:
    d = Dossier(
        account=Account(id="A", name="Acme"),
        needs=[Need(id="N1", title="Downtime", significance=5, capability=4),   # deal zone
               Need(id="N2", title="Packaging")],                               # not scored
        deals=[Deal(id="D1", title="Drives", stage="sale")],
        plan=AccountPlan(period="2026", objectives=[
            objective(id="o1", needs=["N1", "N2"], deals=["D1"]), objective(id="o2")]))
    links = objective_links(d)
    assert links[["objective_id", "kind", "ref_id", "detail", "zone"]].values.tolist() == [
        ["o1", "need", "N1", "problem", "deal"],
        ["o1", "need", "N2", "problem", None],
        ["o1", "deal", "D1", "sale (open)", None],
        ["o2", None, None, "serves no need or deal", None]]
    assert objective_links(d, zones={"N2": "risk"})["zone"].tolist()[:2] == [None, "risk"]


# -- what changed since the last review
def _plan(**kw: Any) -> AccountPlan:
    base: dict[str, Any] = dict(
        period="2026", reviewed_on=D(2026, 3, 1), objectives=[objective()],
        actions=[Action(id="a1", title="Visit", owner="ann", due=D(2026, 4, 1))],
        kpis=[Kpi(id="k1", name="Revenue", target=100, actual=40)])
    return AccountPlan(**{**base, **kw})


def test_plan_changes_lists_added_removed_and_changed_records() -> None:
    before = _plan()
    after = _plan(reviewed_on=D(2026, 6, 1),
                  objectives=[objective(), objective(id="o2", title="New customers")],
                  actions=[],
                  kpis=[Kpi(id="k1", name="Revenue", target=100, actual=70)])
    got = plan_changes(before, after)
    assert got[["section", "id", "change", "field", "before", "after"]].values.tolist() == [
        ["plan", "", "changed", "reviewed_on", "2026-03-01", "2026-06-01"],
        ["objectives", "o2", "added", "", None, None],
        ["actions", "a1", "removed", "", None, None],
        ["kpis", "k1", "changed", "actual", 40.0, 70.0]]
    assert got["title"].tolist() == ["", "New customers", "Visit", "Revenue"]
    assert len(plan_changes(before, before)) == 0
    # no plan before: everything is added
    assert set(plan_changes(None, after)["change"]) == {"added"}


def test_plan_changes_since_last_review_from_workspace(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    d = Dossier(account=Account(id="ACME", name="Acme", phone="1", address="x"), plan=_plan())
    ws.save(d, at=datetime(2026, 3, 1, 12, tzinfo=UTC))
    now = ws.load("ACME")
    assert now.plan is not None
    now.plan.kpis[0].actual = 55
    ws.save(now, at=datetime(2026, 5, 2, 9, tzinfo=UTC))
    now = ws.load("ACME")
    assert now.plan is not None and now.plan.reviewed_on is not None
    then = ws.load("ACME", as_of=now.plan.reviewed_on)
    assert plan_changes(then, now)[["id", "field", "before", "after"]].values.tolist() == [
        ["k1", "actual", 40.0, 55.0]]


# -- bad input
def test_kpi_without_target_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"target\n  Field required"):
        Kpi(id="k1", name="Revenue")  # type: ignore[call-arg]
    data = {"account": {"id": "A", "name": "Acme"},
            "plan": {"period": "2026", "kpis": [{"id": "K1", "name": "Revenue"}]}}
    with pytest.raises(InputError, match=r"account A / plan / kpis\[0\] \(K1\), field 'target': "
                                         r"required field is missing"):
        validate_dossier(data)


@pytest.mark.parametrize("section", ["actions", "objectives"])
def test_due_date_before_start_is_refused(section: str) -> None:
    rec: dict[str, Any] = {"id": "x1", "title": "t", "start": "2026-02-01", "due": "2026-01-01"}
    rec.update({"owner": "ann"} if section == "actions"
               else {"metric": "m", "baseline": 0, "target": 1})
    data = {"account": {"id": "A", "name": "Acme"}, "plan": {"period": "2026", section: [rec]}}
    with pytest.raises(InputError, match=rf"account A / plan / {section}\[0\] \(x1\).*due date "
                                         r"2026-01-01 is before the start 2026-02-01"):
        validate_dossier(data)


@pytest.mark.parametrize(("field", "value", "valid"), [
    ("relationship_stage", "friends", "'pre-KAM', 'early KAM', 'mid KAM'"),
    ("decision_stage", "closing", "'need recognition', 'defining requirements'"),
])
def test_unknown_account_stage_is_refused_with_valid_stages(field: str, value: str,
                                                            valid: str) -> None:
    with pytest.raises(InputError, match=rf"field '{field}': Input should be {valid}.*"
                                         rf"found '{value}'"):
        validate_dossier({"account": {"id": "A", "name": "Acme", field: value}})


def _with_owner(owner: str) -> Dossier:
    return Dossier(account=Account(id="ACME", name="Acme", phone="1", address="x"),
                   persons=[Person(id="p1", name="Ann")],
                   plan=AccountPlan(period="2026", actions=[
                       Action(id="a1", title="Visit", owner=owner, due=D(2026, 2, 1))]))


TEAM = Team(members=[TeamMember(id="tom", name="Tom"), TeamMember(id="eve", name="Eve")])


def test_action_owner_must_be_a_person_or_team_member() -> None:
    check_plan(_with_owner("tom"), TEAM)   # a team member
    check_plan(_with_owner("p1"), TEAM)    # a client person
    with pytest.raises(InputError, match=r"account ACME / plan / actions\[0\] \(a1\), field "
                                         r"'owner': 'bob' is not a team member or a client "
                                         r"person; team: eve, tom; persons: p1"):
        check_plan(_with_owner("bob"), TEAM)


def test_store_refuses_an_action_owner_outside_team_and_persons(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save_team(TEAM)
    ws.save(_with_owner("p1"))
    with pytest.raises(InputError, match=r"actions\[0\] \(a1\), field 'owner': 'bob' is not a "
                                         r"team member or a client person"):
        ws.save(_with_owner("bob"), based_on=1)
    assert ws.head("ACME") == 1


# -- figures
def test_plan_figures_draw_the_status() -> None:
    plan = AccountPlan(period="2026 <b>", objectives=[objective(current=13)],
                       kpis=[Kpi(id="k1", name="<i>Revenue</i>", target=100, actual=95),
                             Kpi(id="k2", name="Claims", target=0, higher_is_better=False)])
    s = plan_status(plan, D(2026, 7, 1))
    fig = objectives_figure(s)
    assert list(fig.data[0].x) == pytest.approx([0.3])
    assert list(fig.data[1].x) == pytest.approx([181 / 364])
    k = kpi_figure(s)
    assert [t.value for t in k.data] == [95.0, 0.0]
    assert [t.gauge.threshold.value for t in k.data] == [100.0, 0.0]
    assert "<i>" not in k.data[0].title.text and "&lt;i&gt;" in k.data[0].title.text
    assert "<b>" not in k.layout.title.text


def test_demo_smoke(demo_dossiers: list[Dossier], today: date) -> None:
    planned = [d for d in demo_dossiers if d.plan is not None]
    assert planned
    for d in planned:
        s = plan_status(d, today)
        assert s.summary["actions"] == (s.actions["status"] != "cancelled").sum()
        assert set(s.kpis["status"]) <= {"green", "amber", "red", "no data"}
        assert len(objective_links(d)) >= len(s.objectives)
        assert kpi_figure(s).data is not None and objectives_figure(s).data is not None


def test_plan_status_html_escapes_user_text() -> None:
    plan = AccountPlan(period="<b>2026</b>", actions=[
        Action(id="a1", title="<script>x</script>", owner="ann", due=D(2026, 2, 1))])
    html = plan_status(plan, D(2026, 1, 1))._repr_html_()
    assert "<script>" not in html and "<b>2026" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
