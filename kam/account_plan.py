"""The account plan: status as of a day, what changed since the last review, and its checks.

DOMAIN.md §10: an account plan sets measurable objectives, the strategies to reach them, actions
with owners and dates, and KPIs with target vs actual. The rules used here:

* **share of actions done** = done ÷ (all actions − cancelled ones); a cancelled action is not
  part of the plan any more. With no action left it is ``None`` (not a silent NaN).
* an action is **overdue** when it is open or in progress and its due date is before ``today``.
* an objective is **off track** when the share of the way from baseline to target covered so far,
  ``achieved = (current − baseline) / (target − baseline)``, lags the share of time elapsed,
  ``expected = (today − start) / (due − start)`` clipped to 0..1, by more than
  ``objective_tolerance``; after its due date an objective that has not reached its target is
  **missed**. Without a start date the objective starts with the plan period (a period written
  ``2026``, ``2026-Q1`` or ``2026-03``); failing that, only the due date counts (expected is 0
  before it, 1 on it).
* a **KPI** is green when the actual meets the target in its direction (``higher_is_better``),
  amber when it falls short by at most ``kpi_tolerance × |target|``, red beyond that, and
  ``no data`` without an actual.

Worked example (proved by ``test_objective_off_track_by_linear_interpolation``): baseline 10,
target 20, start 2026-01-01, due 2026-12-31 (364 days); on 2026-07-01 (181 days) expected =
181/364 = 0.497 and the expected value 14.97; a current of 13 has covered 0.3 of the way,
0.3 < 0.497 − 0.1, so the objective is off track; a current of 14.5 (0.45) is on track.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

import pandas as pd

from .errors import InputError, KamError, ValidationProblem
from .model import AccountPlan, ActionStatus, Dossier, Team
from .model.diff import diff_records
from .opportunities import opportunity_matrix
from .periods import as_day, start_date

__all__ = [
    "PlanStatus",
    "check_plan",
    "objective_links",
    "plan_changes",
    "plan_problems",
    "plan_status",
]

_SECTIONS = ("objectives", "strategies", "actions", "kpis")


def _plan(source: Dossier | AccountPlan | None) -> AccountPlan | None:
    if source is None or isinstance(source, AccountPlan):
        return source
    if isinstance(source, Dossier):
        return source.plan
    raise TypeError(f"expected a Dossier or an AccountPlan, got {type(source).__name__}")


@dataclass(frozen=True)
class PlanStatus:
    """The status of an account plan on ``today``.

    ``actions``, ``objectives`` and ``kpis`` hold one row per record (see :func:`plan_status`);
    ``summary`` the headline numbers.
    """

    period: str
    today: date
    actions: pd.DataFrame
    objectives: pd.DataFrame
    kpis: pd.DataFrame

    @property
    def summary(self) -> dict[str, Any]:
        """Headline numbers: ``actions`` (not cancelled), ``done``, ``share_done`` (``None``
        when there is no action), ``overdue``, ``objectives_off_track``, ``kpis_red``,
        ``kpis_amber``, ``kpis_green``."""
        live = self.actions[self.actions["status"] != ActionStatus.CANCELLED.value]
        done = int((live["status"] == ActionStatus.DONE.value).sum())
        kpi = self.kpis["status"].value_counts()
        return {
            "actions": len(live),
            "done": done,
            "share_done": done / len(live) if len(live) else None,
            "overdue": int(self.actions["overdue"].sum()),
            "objectives_off_track": int(self.objectives["off_track"].sum()),
            "kpis_red": int(kpi.get("red", 0)),
            "kpis_amber": int(kpi.get("amber", 0)),
            "kpis_green": int(kpi.get("green", 0)),
        }

    def __repr__(self) -> str:
        s = self.summary
        share = "n/a" if s["share_done"] is None else f"{s['share_done']:.0%}"
        return (f"PlanStatus({self.period!r}, today={self.today.isoformat()}, done={share}, "
                f"overdue={s['overdue']}, off_track={s['objectives_off_track']}, "
                f"kpis_red={s['kpis_red']})")

    def _repr_html_(self) -> str:
        s = self.summary
        share = "n/a" if s["share_done"] is None else f"{s['share_done']:.0%}"
        parts = [f"<h4>Account plan {escape(self.period)} as of {self.today.isoformat()}</h4>",
                 f"<p>Actions done: {share} of {s['actions']}; overdue: {s['overdue']}; "
                 f"objectives off track: {s['objectives_off_track']}; KPIs red / amber / green: "
                 f"{s['kpis_red']} / {s['kpis_amber']} / {s['kpis_green']}</p>"]
        for title, frame in (("Objectives", self.objectives), ("Actions", self.actions),
                             ("KPIs", self.kpis)):
            if len(frame):
                # to_html escapes cell text
                parts.append(f"<h5>{title}</h5>" + frame.to_html(index=False, escape=True))
        return "".join(parts)


def _period_start(period: str) -> date | None:
    try:
        return start_date(period)
    except (KamError, ValueError):
        return None


def _objective_row(o: Any, today: date, tol: float, period_start: date | None) -> dict[str, Any]:
    start = o.start if o.start is not None else period_start
    if start is not None and o.due > start:
        expected = min(1.0, max(0.0, (today - start).days / (o.due - start).days))
    else:
        expected = 1.0 if today >= o.due else 0.0
    span = o.target - o.baseline
    achieved: float | None
    if o.current is None:
        achieved = None
    elif span == 0:
        achieved = 1.0 if o.current >= o.target else 0.0
    else:
        achieved = (o.current - o.baseline) / span
    if achieved is None:
        status = "no data"
    elif achieved >= 1:
        status = "achieved"
    elif today > o.due:
        status = "missed"
    elif achieved < expected - tol:
        status = "off track"
    else:
        status = "on track"
    return {
        "id": o.id, "title": o.title, "metric": o.metric, "baseline": o.baseline,
        "target": o.target, "current": o.current, "start": start, "due": o.due,
        "expected_share": expected, "expected_value": o.baseline + expected * span,
        "achieved_share": achieved, "status": status,
        "off_track": status in ("off track", "missed"),
    }


def _kpi_row(k: Any, tol: float) -> dict[str, Any]:
    if k.actual is None:
        shortfall, status = None, "no data"
    else:
        shortfall = (k.target - k.actual) if k.higher_is_better else (k.actual - k.target)
        status = ("green" if shortfall <= 0 else
                  "amber" if shortfall <= tol * abs(k.target) else "red")
    return {"id": k.id, "name": k.name, "unit": k.unit, "higher_is_better": k.higher_is_better,
            "target": k.target, "actual": k.actual, "shortfall": shortfall, "status": status,
            "objective": k.objective}


_ACTION_COLUMNS = ["id", "title", "owner", "start", "due", "status", "done_on", "overdue",
                   "days_overdue", "strategy", "objective"]
_OBJECTIVE_COLUMNS = ["id", "title", "metric", "baseline", "target", "current", "start", "due",
                      "expected_share", "expected_value", "achieved_share", "status", "off_track"]
_KPI_COLUMNS = ["id", "name", "unit", "higher_is_better", "target", "actual", "shortfall",
                "status", "objective"]


def plan_status(source: Dossier | AccountPlan, today: date, *, objective_tolerance: float = 0.10,
                kpi_tolerance: float = 0.10) -> PlanStatus:
    """The status of an account plan on ``today`` (rules in the module docstring).

    Parameters
    ----------
    source : Dossier or AccountPlan
        A dossier without a plan raises :class:`~kam.errors.InputError`.
    today : date
    objective_tolerance : float
        How far (as a share of the way baseline → target) an objective may lag the time
        elapsed before it is off track.
    kpi_tolerance : float
        How far (as a share of the target) a KPI may miss its target and still be amber.

    Returns
    -------
    PlanStatus
        ``actions``: id, title, owner, start, due, status, done_on, overdue, days_overdue,
        strategy, objective. ``objectives``: id, title, metric, baseline, target, current,
        start (the objective's, else the plan period's), due, expected_share, expected_value,
        achieved_share, status (on track / off track / missed / achieved / no data), off_track.
        ``kpis``: id, name, unit, higher_is_better, target, actual, shortfall (> 0 = worse than
        target), status (green / amber / red / no data), objective.

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import AccountPlan, Action, Kpi
    >>> plan = AccountPlan(period="2026", actions=[
    ...     Action(id="a1", title="Site visit", owner="ann", due=date(2026, 2, 1), status="done"),
    ...     Action(id="a2", title="Trial", owner="ann", due=date(2026, 3, 1)),
    ...     Action(id="a3", title="Dropped", owner="ann", due=date(2026, 3, 1),
    ...            status="cancelled")],
    ...     kpis=[Kpi(id="k1", name="Share of wallet", target=0.30, actual=0.28)])
    >>> s = plan_status(plan, date(2026, 4, 1))
    >>> s.summary["share_done"], s.summary["overdue"]   # 1 of 2 live actions; a2 is overdue
    (0.5, 1)
    >>> s.kpis["status"].tolist()      # short by 0.02 <= 0.10 x 0.30
    ['amber']
    """
    today = as_day(today)
    for name, value in (("objective_tolerance", objective_tolerance),
                        ("kpi_tolerance", kpi_tolerance)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")
    plan = _plan(source)
    if plan is None:
        who = source.account.id if isinstance(source, Dossier) else "?"
        raise InputError([ValidationProblem(
            record=f"account {who}", field="plan",
            message="the account has no plan; add one (period, objectives, actions, KPIs)")])
    actions = []
    for a in plan.actions:
        late = a.status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS) and a.due < today
        actions.append({"id": a.id, "title": a.title, "owner": a.owner, "start": a.start,
                        "due": a.due, "status": a.status.value, "done_on": a.done_on,
                        "overdue": late, "days_overdue": (today - a.due).days if late else 0,
                        "strategy": a.strategy, "objective": a.objective})

    def frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)

    return PlanStatus(
        period=plan.period, today=today,
        actions=frame(actions, _ACTION_COLUMNS).astype({"overdue": bool, "days_overdue": int}),
        objectives=frame([_objective_row(o, today, objective_tolerance, _period_start(plan.period))
                          for o in plan.objectives], _OBJECTIVE_COLUMNS)
        .astype({"off_track": bool}),
        kpis=frame([_kpi_row(k, kpi_tolerance) for k in plan.kpis], _KPI_COLUMNS),
    )


def objective_links(dossier: Dossier, zones: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Each objective with the needs and deals (opportunities) it serves, one row per link.

    Columns: ``objective_id``, ``objective``, ``kind`` (need / deal), ``ref_id``, ``ref_title``,
    ``detail`` (need level, or deal stage and outcome) and ``zone`` (the need's zone in the
    opportunity matrix, :func:`kam.opportunities.opportunity_matrix`; ``None`` for a need not
    yet scored). ``zones`` (need id → zone) replaces the matrix, e.g. one built with your own
    opportunity configuration. An objective that serves nothing gets one row with ``kind``
    ``None``, so a gap in the plan shows.
    """
    if zones is None:
        matrix = opportunity_matrix(dossier, missing="skip")
        zones = dict(zip(matrix["need"], matrix["zone"], strict=True))
    rows: list[dict[str, Any]] = []
    if dossier.plan is not None:
        for o in dossier.plan.objectives:
            base = {"objective_id": o.id, "objective": o.title}
            for nid in o.needs:
                n = dossier.need(nid)
                rows.append({**base, "kind": "need", "ref_id": n.id, "ref_title": n.title,
                             "detail": n.level.value, "zone": zones.get(n.id)})
            for did in o.deals:
                x = dossier.deal(did)
                rows.append({**base, "kind": "deal", "ref_id": x.id, "ref_title": x.title,
                             "detail": f"{x.stage} ({x.outcome.value})", "zone": None})
            if not o.needs and not o.deals:
                rows.append({**base, "kind": None, "ref_id": None, "ref_title": None,
                             "detail": "serves no need or deal", "zone": None})
    columns = ["objective_id", "objective", "kind", "ref_id", "ref_title", "detail", "zone"]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def plan_changes(before: Dossier | AccountPlan | None,
                 after: Dossier | AccountPlan | None) -> pd.DataFrame:
    """What changed in the plan from ``before`` to ``after``.

    One row per added or removed objective / strategy / action / KPI, and one row per changed
    field of a record present in both. Columns: ``section`` (plan, objectives, strategies,
    actions, kpis), ``id``, ``title``, ``change`` (added / removed / changed), ``field``,
    ``before``, ``after``. A missing plan counts as an empty one.

    To see what changed since the last review, load the dossier as it was then::

        now = ws.load("ACME")
        then = ws.load("ACME", as_of=now.plan.reviewed_on)
        plan_changes(then, now)

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import AccountPlan, Action
    >>> a = AccountPlan(period="2026", actions=[
    ...     Action(id="a1", title="Visit", owner="ann", due=date(2026, 2, 1))])
    >>> b = a.model_copy(deep=True)
    >>> b.actions[0].status = "done"
    >>> b.actions.append(Action(id="a2", title="Trial", owner="ann", due=date(2026, 5, 1)))
    >>> plan_changes(a, b)[["id", "change", "field", "before", "after"]].values.tolist()
    [['a1', 'changed', 'status', 'open', 'done'], ['a2', 'added', '', None, None]]
    """
    pa, pb = _plan(before), _plan(after)
    da = pa.model_dump(mode="json") if pa is not None else {}
    db = pb.model_dump(mode="json") if pb is not None else {}
    rows: list[tuple[Any, ...]] = []
    top_a = {k: v for k, v in da.items() if k not in _SECTIONS}
    top_b = {k: v for k, v in db.items() if k not in _SECTIONS}
    for r in diff_records(top_a, top_b).itertuples(index=False):
        rows.append(("plan", "", "", r.change, r.field, r.before, r.after))
    for section in _SECTIONS:
        old = {r["id"]: r for r in da.get(section, [])}
        new = {r["id"]: r for r in db.get(section, [])}
        for rid in [*old, *(k for k in new if k not in old)]:
            rec = new.get(rid) or old[rid]
            title = rec.get("title") or rec.get("name") or ""
            if rid not in new:
                rows.append((section, rid, title, "removed", "", None, None))
            elif rid not in old:
                rows.append((section, rid, title, "added", "", None, None))
            else:
                for r in diff_records(old[rid], new[rid]).itertuples(index=False):
                    rows.append((section, rid, title, r.change, r.field, r.before, r.after))
    return pd.DataFrame(rows, columns=["section", "id", "title", "change", "field", "before",
                                       "after"], dtype=object)


def plan_problems(dossier: Dossier, team: Team) -> list[ValidationProblem]:
    """Problems of a dossier's plan that need our team roster: an action owner must be a client
    person or a member of ``team``. (Dates, KPI targets and references are checked when the
    dossier is built.)"""
    if dossier.plan is None:
        return []
    known = team.ids()
    persons = {p.id for p in dossier.persons}
    hint = (f"team: {', '.join(sorted(known)) or 'none'}; "
            f"persons: {', '.join(sorted(persons)) or 'none'}")
    return [
        ValidationProblem(
            record=f"account {dossier.account.id} / plan / actions[{i}] ({a.id})", field="owner",
            message=f"{a.owner!r} is not a team member or a client person; {hint}")
        for i, a in enumerate(dossier.plan.actions)
        if a.owner not in known and a.owner not in persons
    ]


def check_plan(dossier: Dossier, team: Team) -> None:
    """Raise :class:`~kam.errors.InputError` listing every :func:`plan_problems`.

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, AccountPlan, Action, Dossier, Team, TeamMember
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), plan=AccountPlan(period="2026",
    ...     actions=[Action(id="a1", title="Visit", owner="bob", due=date(2026, 2, 1))]))
    >>> check_plan(d, Team(members=[TeamMember(id="ann", name="Ann")]))
    Traceback (most recent call last):
    ...
    kam.errors.InputError: account ACME / plan / actions[0] (a1), field 'owner': 'bob' is not a team member or a client person; team: ann; persons: none
    """  # noqa: E501
    problems = plan_problems(dossier, team)
    if problems:
        raise InputError(problems)
