"""Planners assign and control (DOMAIN.md §9 roles, §11 "management of the sales team").

Lead managers ("planners") assign clients to client-managers and KAMs, give them tasks with due
dates and control their work. This module holds the planner's side, as pure functions over
dossiers, the team roster and :func:`kam.model.tables` (no store, no files):

- :func:`task_table` -- every task (those of the accounts' dossiers and the team's own) as one
  frame; :func:`task_control` -- per manager the open, done and overdue tasks and their age;
  :func:`overdue_tasks`, :func:`tasks_due`;
- :func:`kpis_vs_plan` -- each manager's results so far against the plan of the period
  (planned -> refined -> actual of :mod:`kam.planning`) and against the time gone;
- :func:`reassign_territory` -- hand a whole territory (a region, an owner's accounts or a list
  of accounts) to another member in one operation: it returns the edited dossiers, to be saved
  together with :meth:`Workspace.save_many <kam.store.Workspace.save_many>` (one transaction:
  a refused dossier saves none); :func:`handovers` lists the reassignments of a time window;
- :func:`planner_team`, :func:`week_span` -- whose work a planner controls, and the days of an
  ISO week (``2026-W48``) for the weekly view (``notebooks/planner_week.ipynb``).

People are shown as in :mod:`kam.funnel`: ``manager_id`` holds the team id and ``manager`` the
name (:class:`~kam.funnel.Roster`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from .errors import InputError, ValidationProblem
from .funnel import Roster, with_people
from .model import Dossier, Tables, Team, TeamRole, tables
from .model.task import TaskStatus, check_assignee
from .periods import NoData, end_date, start_date
from .planning import _deals as _planned_deals
from .planning import plan_states

__all__ = [
    "TASK_COLUMNS",
    "PlannerWeek",
    "handovers",
    "kpis_vs_plan",
    "overdue_tasks",
    "planner_team",
    "planner_week",
    "reassign_territory",
    "task_control",
    "task_table",
    "tasks_due",
    "week_of",
    "week_span",
]

TASK_COLUMNS = ["id", "title", "manager_id", "manager", "account_id", "account", "due",
                "created_by", "created", "done_on", "status"]
"""The columns of :func:`task_table`."""

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def _n(count: int, word: str) -> str:
    return f"{count} {word if count == 1 else word + 's'}"


def _problem(record: str, field: str, message: str) -> InputError:
    return InputError([ValidationProblem(record=record, field=field, message=message)])


def week_span(week: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week written ``2026-W48``.

    >>> week_span("2026-W48")
    (datetime.date(2026, 11, 23), datetime.date(2026, 11, 29))
    >>> week_span("2026-48")
    Traceback (most recent call last):
    ...
    ValueError: '2026-48' is not a week: write an ISO week such as 2026-W48
    """
    m = _WEEK.match(week) if isinstance(week, str) else None
    try:
        if m is None:
            raise ValueError
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise ValueError(f"{week!r} is not a week: write an ISO week such as 2026-W48") from None
    return monday, monday + timedelta(days=6)


def week_of(day: date) -> str:
    """The ISO week of ``day`` (``2026-W44`` for 2026-11-01).

    >>> week_of(date(2026, 11, 1))
    '2026-W44'
    """
    y, w, _ = day.isocalendar()
    return f"{y}-W{w:02d}"


def planner_team(team: Team, planner: str) -> list[str]:
    """The members a planner controls: the planner and everyone whose reporting line leads to
    them (:class:`~kam.funnel.Roster`), sorted by id. Raises :class:`~kam.errors.InputError`
    if ``planner`` is not a planner of the team, naming the planners.

    >>> from kam.model import TeamMember
    >>> team = Team(members=[TeamMember(id="dir", name="Dana", role="planner"),
    ...                      TeamMember(id="ann", name="Ann", manager="dir"),
    ...                      TeamMember(id="cm", name="Bo", role="client manager", manager="ann"),
    ...                      TeamMember(id="solo", name="Sam")])
    >>> planner_team(team, "dir")
    ['ann', 'cm', 'dir']
    """
    planners = sorted(m.id for m in team.members if m.role is TeamRole.PLANNER)
    if planner not in planners:
        raise _problem("planner", "planner", f"{planner!r} is not a planner of the team; "
                       f"planners: {', '.join(planners) or 'none (give a member role planner)'}")
    roster = Roster.of(team)
    return sorted(m for m, p in roster.planners.items() if p == planner)


# -- tasks ------------------------------------------------------------------------------------
def task_table(dossiers: Iterable[Dossier], team: Team | None = None) -> pd.DataFrame:
    """Every task as one frame (:data:`TASK_COLUMNS`): the tasks of each dossier (with its
    account) and, given the ``team``, the team's own tasks (no account). ``manager_id`` is the
    assignee, ``manager`` their name."""
    rows = []
    for d in dossiers:
        for t in d.tasks:
            rows.append({**t.model_dump(mode="python"), "account_id": d.account.id,
                         "account": d.account.name})
    for t in team.tasks if team is not None else ():
        rows.append({**t.model_dump(mode="python"), "account_id": None, "account": None})
    if not rows:
        return pd.DataFrame(columns=TASK_COLUMNS)
    out = pd.DataFrame(rows)
    out["status"] = out["status"].map(lambda s: getattr(s, "value", s)).astype(object)
    out["manager_id"] = out["assignee"].astype(object)
    out["manager"] = Roster.of(team, planners=False).label(out["manager_id"]).to_numpy(object)
    return out[TASK_COLUMNS].sort_values(["due", "id"], ignore_index=True)


def _days(later: pd.Series | date, earlier: pd.Series) -> pd.Series:
    return (pd.to_datetime(pd.Series(later) if isinstance(later, pd.Series) else
                           pd.Series([later] * len(earlier), index=earlier.index))
            - pd.to_datetime(earlier)).dt.days


def task_control(tasks: pd.DataFrame, today: date, *,
                 members: Sequence[str] | None = None) -> pd.DataFrame:
    """Per manager (assignee): their tasks as of ``today``.

    A task created after ``today`` is left out; one done (or cancelled) after ``today`` counts
    as open. Columns: ``manager_id``, ``manager``, ``open``, ``overdue`` (open, due before
    ``today``), ``done``, ``done_late`` (done after their due date), ``cancelled``,
    ``open_age_mean`` / ``open_age_max`` (days since the open tasks were created),
    ``overdue_days_max`` (days the most overdue one is late) and ``on_time_share`` (done on or
    before the due date / done; NaN when none is done). ``members`` adds a row of zeros for a
    member without tasks (and keeps only those members). Most overdue first.

    Examples
    --------
    >>> tasks = pd.DataFrame({"id": ["T1", "T2", "T3"], "manager_id": ["ann"] * 3,
    ...     "manager": ["Ann"] * 3, "created": [date(2026, 3, 1)] * 3,
    ...     "due": [date(2026, 3, 5), date(2026, 3, 20), date(2026, 3, 5)],
    ...     "done_on": [None, None, date(2026, 3, 7)], "status": ["open", "open", "done"]})
    >>> row = task_control(tasks, date(2026, 3, 10)).iloc[0]
    >>> [int(row[c]) for c in ("open", "overdue", "done", "done_late", "open_age_max",
    ...                        "overdue_days_max")]
    [2, 1, 1, 1, 9, 5]
    """
    cols = ["manager_id", "manager", "open", "overdue", "done", "done_late", "cancelled",
            "open_age_mean", "open_age_max", "overdue_days_max", "on_time_share"]
    t = tasks[~(pd.to_datetime(tasks["created"]) > pd.Timestamp(today)).to_numpy(bool)] \
        if len(tasks) else tasks
    if members is not None:
        t = t[t["manager_id"].isin(list(members)).to_numpy(bool)]
    if t.empty and not members:
        return pd.DataFrame(columns=cols)
    closed_later = (pd.to_datetime(t["done_on"]) > pd.Timestamp(today)).to_numpy(bool)
    status = np.where(closed_later, "open", t["status"].astype(object).to_numpy())
    is_open = status == TaskStatus.OPEN.value
    age = _days(today, t["created"]).to_numpy()
    late_days = _days(today, t["due"]).to_numpy()
    overdue = is_open & (late_days > 0)
    done = status == TaskStatus.DONE.value
    done_late = done & (pd.to_datetime(t["done_on"]) > pd.to_datetime(t["due"])).to_numpy(bool)
    f = pd.DataFrame({
        "manager_id": t["manager_id"].to_numpy(object), "manager": t["manager"].to_numpy(object),
        "open": is_open.astype(int), "overdue": overdue.astype(int), "done": done.astype(int),
        "done_late": done_late.astype(int),
        "cancelled": (status == TaskStatus.CANCELLED.value).astype(int),
        "open_age": np.where(is_open, age, np.nan),
        "overdue_days": np.where(overdue, late_days, np.nan)})
    out = f.groupby(["manager_id", "manager"], sort=True).agg(
        open=("open", "sum"), overdue=("overdue", "sum"), done=("done", "sum"),
        done_late=("done_late", "sum"), cancelled=("cancelled", "sum"),
        open_age_mean=("open_age", "mean"), open_age_max=("open_age", "max"),
        overdue_days_max=("overdue_days", "max")).reset_index()
    if members is not None:
        names = dict(zip(t["manager_id"], t["manager"], strict=False))
        have = set(out["manager_id"])
        extra = pd.DataFrame({"manager_id": [m for m in members if m not in have]})
        extra["manager"] = extra["manager_id"].map(lambda m: names.get(m, m))
        out = pd.concat([out, extra], ignore_index=True) if len(extra) else out
        for c in ("open", "overdue", "done", "done_late", "cancelled"):
            out[c] = out[c].fillna(0)
    for c in ("open", "overdue", "done", "done_late", "cancelled"):
        out[c] = out[c].astype("int64")
    out["on_time_share"] = (out["done"] - out["done_late"]) / out["done"].where(out["done"] > 0)
    for c in ("open_age_max", "overdue_days_max"):
        out[c] = out[c].astype("float64")
    out = out.sort_values(["overdue", "overdue_days_max", "manager_id"],
                          ascending=[False, False, True], na_position="last", ignore_index=True)
    return out[cols]


def overdue_tasks(tasks: pd.DataFrame, today: date) -> pd.DataFrame:
    """The open tasks past their due date on ``today``, most overdue first, with
    ``days_overdue``."""
    if tasks.empty:
        return tasks.assign(days_overdue=pd.Series(dtype="int64"))
    late = _days(today, tasks["due"])
    open_ = (tasks["status"].astype(object) == TaskStatus.OPEN.value) | (
        pd.to_datetime(tasks["done_on"]) > pd.Timestamp(today))
    created = ~(pd.to_datetime(tasks["created"]) > pd.Timestamp(today))
    keep = (open_ & created & (late > 0)).to_numpy(bool)
    return (tasks[keep].assign(days_overdue=late[keep].astype("int64"))
            .sort_values(["days_overdue", "id"], ascending=[False, True], ignore_index=True))


def tasks_due(tasks: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """The tasks due from ``start`` to ``end`` (both included), by due date."""
    if tasks.empty:
        return tasks
    due = pd.to_datetime(tasks["due"])
    keep = ((due >= pd.Timestamp(start)) & (due <= pd.Timestamp(end))).to_numpy(bool)
    return tasks[keep].sort_values(["due", "id"], ignore_index=True)


# -- KPIs against the plan --------------------------------------------------------------------
def kpis_vs_plan(t: Tables, *, period: str, as_of: date, team: Team | None = None,
                 by: str = "manager") -> pd.DataFrame:
    """Each manager's (``by="planner"``: each planner's group's) results so far against the
    plan of ``period`` (:func:`kam.planning.plan_states`: the deals' planned budgets).

    Columns: the group columns, ``plan`` (planned budgets of every deal of the period: settled
    and still pending), ``actual`` (executed so far), ``achieved`` (actual / plan),
    ``elapsed`` (share of the period gone by ``as_of``), ``pace`` (achieved - elapsed: below
    0 = behind), ``won_deals`` / ``lost_deals`` (settled), ``open_deals`` and
    ``open_planned`` (pending), ``realization`` (actual / planned of the settled deals).
    Raises :class:`~kam.periods.NoData` when no deal is planned in the period.

    Examples
    --------
    A plan of 100 (two deals of 60 and 40) in 2026-Q1; the 60 was won at 45, the 40 is open;
    on 2026-02-14 the quarter is 45 of 90 days gone (0.5): 45% achieved, pace -0.05.

    >>> from kam.model import Account, Deal, tables
    >>> d = Dossier(account=Account(id="A", name="A"), deals=[
    ...     Deal(id="D1", title="x", manager="ann", period="2026-02", planned_budget=60,
    ...          outcome="won", actual_budget=45),
    ...     Deal(id="D2", title="y", manager="ann", period="2026-03", planned_budget=40)])
    >>> k = kpis_vs_plan(tables([d]), period="2026-Q1", as_of=date(2026, 2, 14))
    >>> k[["plan", "actual", "achieved", "elapsed", "pace"]].round(3).iloc[0].tolist()
    [100.0, 45.0, 0.45, 0.5, -0.05]
    """
    s = plan_states(t, by=by, team=team, period=period, as_of=as_of)
    groups = [c for c in s.columns if c in (f"{by}_id", by)]
    first, last = start_date(period), end_date(period)
    days = (last - first).days + 1
    gone = min(max((as_of - first).days + 1, 0), days)
    lost = _lost_deals(t, period, as_of, by, team)
    out = s[groups].copy()
    out["plan"] = s["planned"] + s["pending_planned"]
    out["actual"] = s["actual"]
    out["achieved"] = out["actual"] / out["plan"].where(out["plan"] > 0)
    out["elapsed"] = gone / days
    out["pace"] = out["achieved"] - out["elapsed"]
    out["lost_deals"] = out[groups[0]].map(lost).fillna(0).astype("int64")
    out["won_deals"] = (s["deals"] - out["lost_deals"]).astype("int64")
    out["open_deals"] = s["pending_deals"].astype("int64")
    out["open_planned"] = s["pending_planned"]
    out["realization"] = s["realization"]
    return out.sort_values(["pace", groups[0]], na_position="last", ignore_index=True)


def _lost_deals(t: Tables, period: str, as_of: date, by: str, team: Team | None) -> pd.Series:
    """Refused or declined deals of the period per group (among the settled ones)."""
    d = with_people(_planned_deals(t, period, as_of), [by], team)
    lost = d[(d["status"] == "lost").to_numpy(bool)]
    return lost.groupby(f"{by}_id").size().astype("int64")


# -- reassignment -----------------------------------------------------------------------------
def reassign_territory(dossiers: Iterable[Dossier], to: str | None, *, on: date, team: Team,
                       by: str | None = None, region: str | None = None,
                       kam: str | None = None, accounts: Iterable[str] | None = None,
                       move_open_tasks: bool = True, note: str | None = None) -> list[Dossier]:
    """Hand every account of a territory to ``to`` from ``on``, all or nothing.

    The territory is the accounts matching every selector given: ``region``, the current
    owner ``kam``, a list of ``accounts`` (at least one selector). Each account gets the named
    edit :meth:`~kam.model.Dossier.reassign` (the old owner's term is kept in
    ``account.ownership``), and with ``move_open_tasks`` the account's open tasks of the old
    owner go to ``to``. Returns edited **copies** of the changed dossiers (accounts ``to``
    already owns are left out); save them together, e.g.::

        changed = reassign_territory(ws.load_all(), "maria.lind", region="North",
                                     on=date(2026, 12, 1), team=ws.team(), by="elena.vogt")
        ws.save_many(changed, author="elena.vogt", message="North to Maria Lind")

    ``save_many`` is one transaction: if the store refuses one dossier, none is saved.

    Raises
    ------
    InputError
        ``to`` is empty (a reassignment to nobody) or not an active member of ``team``; no
        selector; no account matches; an account cannot be handed over on ``on`` (its owner
        took over later). Nothing is changed: the dossiers given are never edited.
    """
    record = "territory reassignment"
    if not to:
        raise _problem(record, "to", "a territory is reassigned to a team member, not to "
                       f"nobody (got {to!r}); name the new owner")
    check_assignee(team, to, record, "to")
    if by is not None:
        check_assignee(team, by, record, "by", active=False)
    if region is None and kam is None and accounts is None:
        raise _problem(record, "region", "say which accounts: region=..., kam=... (the current "
                       "owner) or accounts=[...]")
    wanted = None if accounts is None else set(accounts)
    ds = list(dossiers)
    chosen = [d for d in ds
              if (region is None or d.account.region == region)
              and (kam is None or d.account.kam == kam)
              and (wanted is None or d.account.id in wanted)]
    if wanted is not None:
        missing = sorted(wanted - {d.account.id for d in ds})
        if missing:
            raise _problem(record, "accounts", f"no account {missing[0]!r} among the "
                           f"{len(ds)} given")
    if not chosen:
        said = ", ".join(f"{k}={v!r}" for k, v in (("region", region), ("kam", kam))
                         if v is not None) or "the accounts given"
        regions = sorted({d.account.region for d in ds if d.account.region})
        raise _problem(record, "region" if region is not None else "kam",
                       f"no account matches {said}; regions: {', '.join(regions) or 'none'}")
    out = []
    for d in chosen:
        if d.account.kam == to:
            continue
        copy = d.model_copy(deep=True)
        old = copy.account.kam
        copy.reassign(to, on=on, team=team, by=by, note=note)
        if move_open_tasks and old is not None:
            for i, task in enumerate(copy.tasks):
                if task.status is TaskStatus.OPEN and task.assignee == old:
                    copy.tasks[i] = task.model_copy(update={"assignee": to})
        out.append(copy)
    return out


def handovers(dossiers: Iterable[Dossier], start: date, end: date,
              team: Team | None = None) -> pd.DataFrame:
    """The accounts whose owner changed from ``start`` to ``end`` (both included): ``account_id``,
    ``name``, ``on`` (first day of the new owner), ``from_id`` / ``from``, ``to_id`` / ``to``,
    ``by`` (who made the change), from the ownership history of each account."""
    roster = Roster.of(team, planners=False)
    rows = []
    for d in dossiers:
        a = d.account
        terms = [(x.kam, x.until + timedelta(days=1), x.assigned_by) for x in a.ownership]
        # the owner after each closed term: the next term's owner, or the current one
        after = [x.kam for x in a.ownership[1:]] + ([a.kam] if a.ownership else [])
        for (old, first_day, by), new in zip(terms, after, strict=True):
            if start <= first_day <= end:
                rows.append({"account_id": a.id, "name": a.name, "on": first_day,
                             "from_id": old, "to_id": new, "by": by})
    cols = ["account_id", "name", "on", "from_id", "from", "to_id", "to", "by"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    out["from"] = roster.label(out["from_id"]).to_numpy(object)
    out["to"] = roster.label(out["to_id"].fillna("(unassigned)")).to_numpy(object)
    out["by"] = roster.label(out["by"].fillna("")).to_numpy(object)
    return out[cols].sort_values(["on", "account_id"], ignore_index=True)


# -- the planner's week -----------------------------------------------------------------------
@dataclass(frozen=True)
class PlannerWeek:
    """What a planner looks at each week (``notebooks/planner_week.ipynb``).

    ``members``: whom the planner controls (:func:`planner_team`); ``control``: their tasks
    per manager (:func:`task_control`, every member listed); ``due``: tasks due in the week;
    ``overdue``: open tasks past due on ``as_of``; ``done``: tasks done in the week;
    ``kpis``: results against the plan of ``period`` per manager (:func:`kpis_vs_plan`;
    ``None`` when nothing is planned in it, ``missing`` then says so); ``states``: planned ->
    refined -> actual per manager (:func:`kam.planning.plan_states`); ``handovers``: accounts
    reassigned in the week (:func:`handovers`); ``accounts``: accounts the members own.
    """

    planner: str
    week: str
    start: date
    end: date
    as_of: date
    period: str
    members: list[str]
    control: pd.DataFrame
    due: pd.DataFrame
    overdue: pd.DataFrame
    done: pd.DataFrame
    kpis: pd.DataFrame | None
    states: pd.DataFrame | None
    handovers: pd.DataFrame
    accounts: int
    missing: list[str]

    def totals(self) -> dict[str, float | int | None]:
        """The headline numbers: ``members``, ``accounts``, ``open``, ``overdue``, ``due``
        (in the week), ``done`` (in the week), ``plan``, ``actual``, ``achieved`` (actual /
        plan of the whole team; ``None`` without a plan) and ``elapsed``."""
        plan = actual = None
        if self.kpis is not None and len(self.kpis):
            plan, actual = float(self.kpis["plan"].sum()), float(self.kpis["actual"].sum())
        return {
            "members": len(self.members), "accounts": self.accounts,
            "open": int(self.control["open"].sum()),
            "overdue": int(self.control["overdue"].sum()),
            "due": len(self.due), "done": len(self.done), "plan": plan, "actual": actual,
            "achieved": actual / plan if plan and actual is not None else None,
            "elapsed": None if self.kpis is None or self.kpis.empty
            else float(self.kpis["elapsed"].iloc[0])}

    def tasks_sentence(self) -> str:
        """E.g. "4 open tasks, 2 overdue: Tom Hale's oldest is 12 days late." """
        c = self.control
        n_open, n_late = int(c["open"].sum()), int(c["overdue"].sum())
        if not n_open and not int(c["done"].sum()):
            return ("No task has been given to this team yet: give one with "
                    "dossier.add_task(...) for an account, or team.add_task(...).")
        text = f"{_n(n_open, 'open task')}, {n_late} overdue"
        if n_late:
            worst = c.sort_values("overdue_days_max", ascending=False).iloc[0]
            text += (f": {worst['manager']}'s most overdue task is "
                     f"{_n(int(worst['overdue_days_max']), 'day')} late")
        return text + "."

    def plan_sentence(self) -> str | None:
        """E.g. "Tom Hale is furthest behind: 12% of the plan achieved with 84% of the period
        gone." (``None`` without a plan)."""
        if self.kpis is None or self.kpis.empty:
            return None
        k = self.kpis.dropna(subset=["pace"])
        if k.empty:
            return None
        worst = k.iloc[0]
        state = "behind" if worst["pace"] < 0 else "ahead of time"
        return (f"{worst['manager']} is {'furthest ' if len(k) > 1 else ''}{state}: "
                f"{worst['achieved'] * 100:.0f}% of the plan achieved with "
                f"{worst['elapsed'] * 100:.0f}% of {self.period} gone.")


def planner_week(dossiers: Iterable[Dossier], team: Team, *, planner: str, week: str,
                 period: str, as_of: date) -> PlannerWeek:
    """The weekly view of ``planner`` over the ISO ``week`` (see :class:`PlannerWeek`): the
    tasks of the members they control (those of the accounts and the team's own), their KPIs
    against the plan of ``period`` and the handovers of the week, as of ``as_of``."""
    start, end = week_span(week)
    members = planner_team(team, planner)
    ds = list(dossiers)
    everything = task_table(ds, team)
    mine = everything[everything["manager_id"].isin(members).to_numpy(bool)]
    mine = mine[~(pd.to_datetime(mine["created"]) > pd.Timestamp(as_of)).to_numpy(bool)]
    done_at = pd.to_datetime(mine["done_on"])
    done = mine[((mine["status"] == TaskStatus.DONE.value) & (done_at >= pd.Timestamp(start))
                 & (done_at <= pd.Timestamp(min(end, as_of)))).to_numpy(bool)]
    missing: list[str] = []
    t = tables(ds)
    kpis = states = None
    try:
        k = kpis_vs_plan(t, period=period, as_of=as_of, team=team)
        kpis = k[k["manager_id"].isin(members).to_numpy(bool)].reset_index(drop=True)
        s = plan_states(t, by="manager", team=team, period=period, as_of=as_of)
        states = s[s["manager_id"].isin(members).to_numpy(bool)].reset_index(drop=True)
        if kpis.empty:
            raise NoData(f"No deal of {planner}'s team is planned in period {period!r}")
    except NoData as e:
        kpis = states = None
        missing.append(str(e))
    owned = [d for d in ds if d.account.kam in members or any(
        x.kam in members for x in d.account.ownership)]
    control = task_control(mine, as_of, members=members)
    control["manager"] = Roster.of(team, planners=False).label(control["manager_id"]).to_numpy(
        object)
    return PlannerWeek(
        planner=planner, week=week, start=start, end=end, as_of=as_of, period=period,
        members=members, control=control,
        due=tasks_due(mine, start, end), overdue=overdue_tasks(mine, as_of), done=done,
        kpis=kpis, states=states, handovers=handovers(owned, start, end, team),
        accounts=sum(d.account.kam in members for d in ds), missing=missing)
