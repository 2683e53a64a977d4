"""Figures of client-based planning (:mod:`kam.planning`): planned -> refined -> actual, plan
accuracy per manager, the plan needed for a target against the rule of thumb, and the
replenishment gap. They draw analysis results and compute nothing."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..planning import PlanForTarget, Replenishment
from .style import BAD, GOOD, NEUTRAL, PALETTE, WARN, apply_style, plain

__all__ = [
    "plan_accuracy_figure",
    "plan_for_target_figure",
    "plan_states_figure",
    "replenishment_figure",
]


def plan_states_figure(states: pd.DataFrame, by: str = "manager") -> go.Figure:
    """Planned, refined and actual budgets side by side per ``by`` value (one row each of
    :func:`~kam.planning.plan_states` grouped by it)."""
    if states[by].duplicated().any():
        raise ValueError(f"one row per {by} is needed: compute plan_states(t, by={by!r})")
    labels = [plain(str(v)) for v in states[by]]
    fig = go.Figure([
        go.Bar(x=labels, y=states[c].tolist(), name=c, marker_color=colour)
        for c, colour in (("planned", "#c9ced6"), ("refined", PALETTE[9]),
                          ("actual", PALETTE[0]))
    ])
    fig.update_layout(barmode="group")
    return apply_style(fig, "Planned -> refined -> actual", height=400)


def plan_accuracy_figure(accuracy: pd.DataFrame, by: str = "manager") -> go.Figure:
    """Bias (bars: above 0 = plans too high) and MAPE (markers) per manager
    (:func:`~kam.planning.plan_accuracy`).

    Examples
    --------
    >>> acc = pd.DataFrame({"manager": ["ann", "bob"], "bias": [0.25, 0.0],
    ...                     "mape": [0.25, 0.1], "advice": ["x", "y"]})
    >>> list(plan_accuracy_figure(acc).data[0].y)
    [0.25, 0.0]
    """
    labels = [plain(str(v)) for v in accuracy[by]]
    bias = accuracy["bias"].tolist()
    fig = go.Figure([
        go.Bar(x=labels, y=bias, name="bias", customdata=[plain(str(a))
                                                          for a in accuracy["advice"]],
               marker_color=[BAD if b > 0.05 else WARN if b < -0.05 else GOOD for b in bias],
               hovertemplate="%{x}: bias %{y:+.0%}<br>%{customdata}<extra></extra>"),
        go.Scatter(x=labels, y=accuracy["mape"].tolist(), name="MAPE", mode="markers",
                   marker={"color": PALETTE[0], "size": 11, "symbol": "diamond"}),
    ])
    fig.add_hline(y=0, line={"color": NEUTRAL})
    fig.update_yaxes(tickformat="+.0%", title_text="planning error")
    return apply_style(fig, "Plan accuracy by manager", height=400)


def plan_for_target_figure(p: PlanForTarget) -> go.Figure:
    """The plan and its expected result by T / r against the rule of thumb (labelled as such),
    with the target line."""
    tab = p.table()
    methods = tab["method"].tolist()
    fig = go.Figure([
        go.Bar(x=methods, y=tab["plan"].tolist(), name="plan", marker_color="#c9ced6"),
        go.Bar(x=methods, y=tab["expected_result"].tolist(), name="expected result",
               marker_color=[GOOD, BAD]),
    ])
    fig.add_hline(y=p.target, line={"color": NEUTRAL, "dash": "dash"},
                  annotation_text=f"target {p.target:,.1f}")
    fig.update_layout(barmode="group")
    return apply_style(fig, f"Plan needed for the target at r = {p.r:.2f}", height=400)


def replenishment_figure(rep: Replenishment) -> go.Figure:
    """From what is realised to the target: realised + contracted + open plan x r, then the
    gap that new prospects must close."""
    x = ["realised", "contracted", "open plan x r", "expected", "gap", "target"]
    y = [rep.realised, rep.contracted, rep.open_planned * rep.r, rep.expected, rep.gap,
         rep.target]
    fig = go.Figure(go.Waterfall(
        x=x, y=y, measure=["relative", "relative", "relative", "total", "relative", "absolute"],
        increasing={"marker": {"color": PALETTE[0]}}, totals={"marker": {"color": NEUTRAL}},
        text=[f"{v:,.0f}" for v in y], textposition="outside", showlegend=False))
    fig.add_annotation(x="gap", y=rep.target, showarrow=False, yshift=30, text=(
        f"new prospects' budget needed: {rep.new_prospects_budget:,.0f} (gap / r)"))
    return apply_style(fig, "Replenishing the plan", height=420)
