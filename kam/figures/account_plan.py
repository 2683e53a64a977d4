"""Figures of the account plan (:mod:`kam.account_plan`): objectives' progress against the time
elapsed, and KPIs against their targets. They draw a :class:`~kam.account_plan.PlanStatus`;
they compute nothing."""

from __future__ import annotations

import plotly.graph_objects as go

from ..account_plan import PlanStatus
from .style import BAD, GOOD, NEUTRAL, WARN, apply_style, plain

__all__ = ["kpi_figure", "objectives_figure"]

OBJECTIVE_COLOURS = {"achieved": GOOD, "on track": GOOD, "off track": WARN, "missed": BAD,
                     "no data": NEUTRAL}
KPI_COLOURS = {"green": GOOD, "amber": WARN, "red": BAD, "no data": NEUTRAL}


def objectives_figure(status: PlanStatus) -> go.Figure:
    """Per objective: the share of the way from baseline to target covered (bar, coloured by
    status) and the share expected by now (marker).

    Examples
    --------
    >>> from datetime import date
    >>> from kam.account_plan import plan_status
    >>> from kam.model import AccountPlan, Objective
    >>> plan = AccountPlan(period="2026", objectives=[Objective(
    ...     id="o1", title="Share of wallet", metric="%", baseline=10, target=20, current=13,
    ...     start=date(2026, 1, 1), due=date(2026, 12, 31))])
    >>> fig = objectives_figure(plan_status(plan, date(2026, 7, 1)))
    >>> [round(v, 2) for v in fig.data[0].x], fig.data[0].marker.color
    ([0.3], ('#e0a030',))
    """
    o = status.objectives
    labels = [plain(str(t)) for t in o["title"]]
    achieved = [0.0 if v is None or v != v else float(v) for v in o["achieved_share"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(
        y=labels, x=achieved, orientation="h", name="achieved",
        marker_color=tuple(OBJECTIVE_COLOURS[s] for s in o["status"]),
        text=[str(s) for s in o["status"]], textposition="outside", cliponaxis=False,
        customdata=[[plain(str(m)), c, t] for m, c, t in zip(
            o["metric"], o["current"], o["target"], strict=True)],
        hovertemplate="%{y}<br>%{customdata[0]}: %{customdata[1]} of target %{customdata[2]}"
                      "<extra></extra>"))
    fig.add_trace(go.Scatter(
        y=labels, x=list(o["expected_share"]), mode="markers", name="expected by now",
        marker={"symbol": "line-ns-open", "size": 22, "color": "#222",
                "line": {"width": 3}},
        hovertemplate="expected by now: %{x:.0%}<extra></extra>"))
    fig.update_layout(xaxis={"range": [0, 1.05], "tickformat": ".0%",
                             "title": "share of the way from baseline to target"},
                      yaxis={"autorange": "reversed", "automargin": True})
    return apply_style(fig, f"Plan {plain(status.period)}: objectives as of "
                            f"{status.today.isoformat()}", height=max(260, 80 + 50 * len(o)))


def kpi_figure(status: PlanStatus) -> go.Figure:
    """One bullet gauge per KPI: the actual (bar, coloured red / amber / green) against the
    target (threshold line). A KPI without an actual shows no bar."""
    k = status.kpis
    fig = go.Figure()
    n = max(len(k), 1)
    for i, r in enumerate(k.to_dict("records")):
        actual = None if r["actual"] is None or r["actual"] != r["actual"] else float(r["actual"])
        top = max(abs(float(r["target"])), abs(actual or 0.0)) * 1.25 or 1.0  # axis end
        lo, hi = 1 - (i + 1) / n, 1 - i / n
        name, unit, kpi_status = plain(str(r["name"])), r["unit"], str(r["status"])
        unit = f" ({plain(unit)})" if isinstance(unit, str) else ""
        target = float(r["target"])
        fig.add_trace(go.Indicator(
            mode="number+gauge" if actual is not None else "gauge",
            value=actual if actual is not None else 0.0,
            domain={"x": [0.3, 0.92], "y": [lo + 0.3 / n, hi - 0.12 / n]},
            title={"text": f"{name}{unit}<br><sub>{kpi_status}, target {_num(target)}</sub>",
                   "font": {"size": 12}},
            number={"font": {"size": 14}},
            gauge={"shape": "bullet", "axis": {"range": [min(0.0, actual or 0.0), top],
                                               "nticks": 5, "tickfont": {"size": 10}},
                   "bar": {"color": KPI_COLOURS[kpi_status] if actual is not None
                           else "rgba(0,0,0,0)"},
                   "threshold": {"value": target,
                                 "line": {"color": "#222", "width": 3}, "thickness": 0.9}}))
    return apply_style(fig, f"Plan {plain(status.period)}: KPIs as of "
                            f"{status.today.isoformat()}", height=max(200, 80 + 90 * len(k)))


def _num(value: float) -> str:
    """A number for a label: thousands separated, no exponent."""
    return f"{value:,.0f}" if abs(value) >= 10_000 else f"{value:g}"
