"""Client-based financial planning and plan accuracy (DOMAIN.md §9).

The plan is the sum of the deals' budgets per client, which go through three states:
**planned** (``Deal.planned_budget``) -> **refined** after negotiation (``refined_budget``; a
deal never refined keeps its planned budget) -> **actual** after the contract is executed
(``actual_budget`` of a won deal; 0 for a refused or declined one).

Only *settled* deals measure the plan: refused or declined, or won with an actual budget. Open
deals, and won deals not yet executed, are still pending. Deals without a planned budget were
never part of the plan and are left out.

The **realization ratio** is ``r = actual / planned`` and the **planning error** ``1 - r``
(DOMAIN.md: planned 100, refined 80, actual 75 -> r = 0.75, error 25%). To reach a target T
the plan must hold ``T / r`` (133.3 for T = 100 and r = 0.75), not the rule of thumb
``T x (1 + error)`` = 125, which would yield only 93.75.

Plans are compared per manager or, up the team's reporting line, per **planner** (the lead
manager who did the first budget planning, DOMAIN.md §9; see :class:`kam.funnel.Roster`):
``by="planner"`` with the ``team``. Tables name the people: ``manager_id`` and ``manager``
(``planner_id`` and ``planner``) hold the team id and the name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .errors import InputError, ValidationProblem
from .funnel import UNASSIGNED, group_columns, with_people
from .model import Tables, Team
from .periods import NoData, bounds, end_date, frame_of, span, to_freq

__all__ = [
    "PlanForTarget",
    "Replenishment",
    "plan_accuracy",
    "plan_for_target",
    "plan_states",
    "realization",
    "replenishment",
]

NO_PERIOD = "(no period)"
GROUPINGS = ("manager", "planner", "period", "account_id")
"""What plans can be grouped by."""


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def _check_dates(deals: pd.DataFrame) -> None:
    """The model's rule for frames built without it: no result before its plan."""
    closed = pd.to_datetime(deals["closed_on"])
    planned = pd.to_datetime(deals["plan_date"])
    bad = (closed < planned).to_numpy(bool)
    if bad.any():
        rows = deals[bad]
        raise InputError([ValidationProblem(
            record=f"account {r['account_id']} / deal {r['id']}", field="closed_on",
            message=f"closed_on {r['closed_on']} (actual) is before plan_date {r['plan_date']}: "
                    "a result cannot precede its plan; fix either date")
            for _, r in rows.head(20).iterrows()])


def _deals(t: Tables, period: str | None, as_of: date | None,
           freq: str | None = None) -> pd.DataFrame:
    """One row per planned deal: ``account_id``, ``id``, ``manager_id``, ``period``,
    ``status``, ``planned``, ``refined``, ``actual``, ``settled``."""
    d = frame_of(t, "deals")
    cols = ["account_id", "id", "manager_id", "period", "status", "planned", "refined", "actual",
            "settled"]
    if d.empty:
        return pd.DataFrame(columns=cols)
    _check_dates(d)
    planned = _num(d, "planned_budget")
    d = d[planned.notna().to_numpy()]
    if as_of is not None:
        d = d[~(pd.to_datetime(d["created"]) > pd.Timestamp(as_of)).to_numpy(bool)]
    has_period = d["period"].notna().to_numpy()
    if period is not None:
        ps, pe = span(period)
        keep = np.zeros(len(d), dtype=bool)
        if has_period.any():
            s, e = bounds(d["period"][has_period], what="deals")
            keep[has_period] = (s >= ps) & (e <= pe)
        d, has_period = d[keep], has_period[keep]
    if d.empty:
        return pd.DataFrame(columns=cols)
    outcome = d["outcome"].astype(object).to_numpy()
    if as_of is not None:
        later = (pd.to_datetime(d["closed_on"]) > pd.Timestamp(as_of)).to_numpy(bool)
        outcome = np.where(later, "open", outcome)
    status = np.where(np.isin(outcome, ["refused", "declined"]), "lost", outcome)
    planned = _num(d, "planned_budget")
    actual_raw = _num(d, "actual_budget")
    actual = np.where(status == "won", actual_raw.fillna(0.0), 0.0)
    settled = (status == "lost") | ((status == "won") & actual_raw.notna().to_numpy())
    per = d["period"].astype(object)
    if freq is not None and has_period.any():
        per = per.copy()
        per[has_period] = to_freq(d["period"][has_period], freq, what="deals").to_numpy(object)
    manager = d["manager"].astype(object)
    return pd.DataFrame({
        "account_id": d["account_id"].to_numpy(object),
        "id": d["id"].to_numpy(object),
        "manager_id": manager.where(manager.notna(), UNASSIGNED).to_numpy(object),
        "period": per.where(per.notna(), NO_PERIOD).to_numpy(object),
        "status": status,
        "planned": planned.to_numpy(),
        "refined": _num(d, "refined_budget").fillna(planned).to_numpy(),
        "actual": actual,
        "settled": settled,
    })


def plan_states(t: Tables, *, by: str | Sequence[str] = ("manager", "period"),
                team: Team | None = None, period: str | None = None,
                as_of: date | None = None, freq: str | None = None) -> pd.DataFrame:
    """Planned -> refined -> actual per ``by`` (any of ``manager``, ``planner``, ``period``,
    ``account_id``; ``()`` for one total), over the settled deals.

    ``planner`` groups the deals by their manager's planner (needs ``team``; managers without
    one under ``(no planner)``). A grouping by people gives an id and a name column:
    ``manager_id`` and ``manager``, ``planner_id`` and ``planner`` (names from ``team``, the ids
    without it).

    Returns the group columns, ``deals``, ``planned``, ``refined``, ``actual``, ``realization``
    (actual / planned), ``refinement`` (refined / planned), ``execution`` (actual / refined),
    ``planning_error`` (1 - realization), and ``pending_deals`` / ``pending_planned`` (still
    open, not counted). ``freq`` rolls deal periods up (months into quarters or years).

    Examples
    --------
    DOMAIN.md §9: September planned at 100, refined to 80, executed at 75.

    >>> from kam.model import Account, Deal, Dossier, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), deals=[Deal(
    ...     id="D1", title="September", outcome="won", manager="ann", period="2025-09",
    ...     planned_budget=100, refined_budget=80, actual_budget=75)])
    >>> s = plan_states(tables([d]))
    >>> s[["planned", "refined", "actual", "realization", "planning_error"]].iloc[0].tolist()
    [100.0, 80.0, 75.0, 0.75, 0.25]
    """
    keys = [by] if isinstance(by, str) else list(by)
    for k in keys:
        if k not in GROUPINGS:
            raise ValueError(f"cannot group plans by {k!r}; options are {', '.join(GROUPINGS)}")
    d = with_people(_deals(t, period, as_of, freq), keys, team)
    groups = group_columns(keys)
    cols = [*groups, "deals", "planned", "refined", "actual", "realization", "refinement",
            "execution", "planning_error", "pending_deals", "pending_planned"]
    if d.empty:
        if period is not None:
            raise NoData(f"No planned deals in period {period!r}; choose a period with plans")
        return pd.DataFrame(columns=cols)
    d = d.assign(deals=d["settled"].astype(int),
                 pending_deals=(~d["settled"]).astype(int),
                 pending_planned=d["planned"].where(~d["settled"], 0.0))
    for c in ("planned", "refined", "actual"):
        d[c] = d[c].where(d["settled"], 0.0)
    sums = ["deals", "planned", "refined", "actual", "pending_deals", "pending_planned"]
    out = (d.groupby(groups, sort=True)[sums].sum().reset_index() if groups
           else d[sums].sum().to_frame().T)
    planned = out["planned"].where(out["planned"] > 0)
    out["realization"] = out["actual"] / planned
    out["refinement"] = out["refined"] / planned
    out["execution"] = out["actual"] / out["refined"].where(out["refined"] > 0)
    out["planning_error"] = 1 - out["realization"]
    out[["deals", "pending_deals"]] = out[["deals", "pending_deals"]].astype("int64")
    return out[cols]


def realization(t: Tables, *, period: str | None = None, as_of: date | None = None) -> float:
    """The realization ratio r = actual / planned of the settled deals of the selection.

    Raises :class:`~kam.periods.NoData` when no settled deal with a planned budget exists.
    """
    d = _deals(t, period, as_of)
    d = d[d["settled"]] if not d.empty else d
    planned = float(d["planned"].sum()) if not d.empty else 0.0
    if planned <= 0:
        where = f" in period {period!r}" if period else ""
        raise NoData(f"No settled deal with a planned budget{where}: the realization ratio "
                     "needs past plans that were won or lost")
    return float(d["actual"].sum()) / planned


@dataclass(frozen=True)
class PlanForTarget:
    """The plan needed to reach ``target`` at realization ratio ``r``."""

    target: float
    r: float

    @property
    def required_plan(self) -> float:
        """T / r: the planned budgets that, realised at r, give the target."""
        return self.target / self.r

    @property
    def rule_of_thumb_plan(self) -> float:
        """The source's rule of thumb: T x (1 + planning error)."""
        return self.target * (1 + (1 - self.r))

    @property
    def rule_of_thumb_yield(self) -> float:
        """What the rule-of-thumb plan yields at r: it falls short when r < 1."""
        return self.rule_of_thumb_plan * self.r

    def table(self) -> pd.DataFrame:
        """Both methods side by side, the rule of thumb labelled as such."""
        return pd.DataFrame({
            "method": ["target / r", "rule of thumb: target x (1 + error)"],
            "plan": [self.required_plan, self.rule_of_thumb_plan],
            "expected_result": [self.required_plan * self.r, self.rule_of_thumb_yield],
            "shortfall": [0.0, self.target - self.rule_of_thumb_yield],
        })


def plan_for_target(target: float, r: float) -> PlanForTarget:
    """The plan needed for ``target`` when plans realise at ratio ``r``.

    Examples
    --------
    DOMAIN.md §9: to get 100 with r = 0.75 plan 133.3; the rule of thumb's 125 yields 93.75.

    >>> p = plan_for_target(100, 0.75)
    >>> round(p.required_plan, 1), p.rule_of_thumb_plan, p.rule_of_thumb_yield
    (133.3, 125.0, 93.75)
    """
    if not np.isfinite(r) or r <= 0:
        raise ValueError(f"realization ratio r must be above 0 (nothing planned is realised "
                         f"otherwise, and no plan reaches a target), got {r}")
    if not np.isfinite(target) or target < 0:
        raise ValueError(f"target must be a non-negative amount, got {target}")
    return PlanForTarget(float(target), float(r))


@dataclass(frozen=True)
class Replenishment:
    """How far the current plan falls short of a target after refusals, and the budget of new
    prospects that closes the gap.

    ``expected = realised + contracted + open_planned x r``; ``gap = max(target - expected,
    0)``; ``new_prospects_budget = gap / r`` (new prospects realise at r too). ``lost`` lists the
    refused and declined deals whose planned budget is gone.
    """

    target: float
    r: float
    realised: float
    """Actual budgets of won, executed deals."""
    contracted: float
    """Won deals not executed yet, at their refined budget."""
    open_planned: float
    """Planned budgets of the open deals."""
    lost_planned: float
    """Planned budgets of the refused and declined deals."""
    lost: pd.DataFrame

    @property
    def expected(self) -> float:
        return self.realised + self.contracted + self.open_planned * self.r

    @property
    def gap(self) -> float:
        return max(self.target - self.expected, 0.0)

    @property
    def new_prospects_budget(self) -> float:
        return self.gap / self.r

    def table(self) -> pd.DataFrame:
        """The figures as a two-column table (measure, value)."""
        return pd.DataFrame({
            "measure": ["target", "realised", "contracted", "open plan", "open plan x r",
                        "lost to refusals (planned)", "expected", "gap",
                        "new prospects' budget needed (gap / r)"],
            "value": [self.target, self.realised, self.contracted, self.open_planned,
                      self.open_planned * self.r, self.lost_planned, self.expected, self.gap,
                      self.new_prospects_budget],
        })


def replenishment(t: Tables, target: float, *, r: float, period: str | None = None,
                  as_of: date | None = None, team: Team | None = None) -> Replenishment:
    """The gap between ``target`` and what the plan of ``period`` will realise, and the budget
    of new potential clients needed to close it (DOMAIN.md §9: when a client refuses, its
    planned budget is gone and the plan must be replenished).

    ``r`` is the realization ratio to expect, e.g. :func:`realization` over past periods or a
    manager's ``correction`` from :func:`plan_accuracy`. ``lost`` names each deal's manager
    (``manager_id`` and ``manager``, the name from ``team``).

    Examples
    --------
    >>> from kam.model import Account, Deal, Dossier, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), deals=[
    ...     Deal(id="D1", title="A", planned_budget=60, period="2025-09"),
    ...     Deal(id="D2", title="B", planned_budget=40, period="2025-09", outcome="refused",
    ...          refusal_reason="high price")])
    >>> rep = replenishment(tables([d]), 100, r=0.75, period="2025-09")
    >>> rep.expected, rep.gap, round(rep.new_prospects_budget, 1)  # 60 x 0.75 = 45
    (45.0, 55.0, 73.3)
    """
    plan_for_target(target, r)  # checks both
    d = with_people(_deals(t, period, as_of), ["manager"], team)
    won = d["status"] == "won"
    lost = d[d["status"] == "lost"]
    return Replenishment(
        target=float(target), r=float(r),
        realised=float(d.loc[won & d["settled"], "actual"].sum()),
        contracted=float(d.loc[won & ~d["settled"], "refined"].sum()),
        open_planned=float(d.loc[d["status"] == "open", "planned"].sum()),
        lost_planned=float(lost["planned"].sum()),
        lost=lost[["account_id", "id", "manager_id", "manager", "period", "planned"]
                  ].reset_index(drop=True),
    )


def plan_accuracy(t: Tables, *, by: str = "manager", team: Team | None = None,
                  as_of: date | None = None, freq: str | None = None) -> pd.DataFrame:
    """How accurate each manager's (or planner's) plans were over past periods.

    Per ``by``: ``manager``, ``planner`` (the managers' planners up the team's reporting line:
    needs ``team``; the plan of a planner's group in a period is the sum of its managers'
    plans; managers without a planner under ``(no planner)``) or ``account_id``. People are
    shown by id and name: ``manager_id`` and ``manager`` (``planner_id`` and ``planner``).

    Then ``periods`` (past periods with settled deals), ``planned``, ``actual``, ``realization``
    (total actual / total planned), ``bias`` (mean of the per-period planning errors
    ``(planned - actual) / planned``: above 0 = plans too high), ``mape`` (mean of their
    absolute values), ``correction`` (= realization: multiply the group's new estimates by it)
    and ``advice``. A period is past when it ended before ``as_of`` (every period without
    ``as_of``); deals without a period are left out.
    """
    options = ("manager", "planner", "account_id")
    if by not in options:
        raise ValueError(f"cannot measure accuracy by {by!r}; options are {', '.join(options)}")
    groups = group_columns([by])
    cols = [*groups, "periods", "planned", "actual", "realization", "bias", "mape", "correction",
            "advice"]
    states = plan_states(t, by=[by, "period"], team=team, as_of=as_of, freq=freq)
    states = states[(states["period"] != NO_PERIOD) & (states["deals"] > 0)]
    if as_of is not None and not states.empty:
        ended = np.array([end_date(p) < as_of for p in states["period"].unique()])
        past = set(states["period"].unique()[ended])
        states = states[states["period"].isin(past)]
    states = states[states["planned"] > 0]
    if states.empty:
        return pd.DataFrame(columns=cols)
    states = states.assign(abs_error=states["planning_error"].abs())
    out = states.groupby(groups, sort=True).agg(
        periods=("period", "size"), planned=("planned", "sum"), actual=("actual", "sum"),
        bias=("planning_error", "mean"), mape=("abs_error", "mean")).reset_index()
    out["realization"] = out["actual"] / out["planned"]
    out["correction"] = out["realization"]
    pct = (out["bias"].abs() * 100).round().astype("int64").astype("str")
    factor = out["correction"].map("{:.2f}".format)
    out["advice"] = np.select(
        [out["bias"] > 0.05, out["bias"] < -0.05],
        ["plans " + pct + "% too high on average: multiply the estimates by " + factor,
         "plans " + pct + "% too low on average: multiply the estimates by " + factor],
        "accurate within 5%")
    return out[cols].sort_values(["mape", groups[0]], ascending=[False, True],
                                 ignore_index=True)
