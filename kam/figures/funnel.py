"""Figures of the funnel (:mod:`kam.funnel`): the funnel with its weakest link, refusal reasons,
managers' conversion and their stage-by-stage gap to the team. They draw analysis results and
compute nothing."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..funnel import Funnel
from .style import BAD, GOOD, NEUTRAL, PALETTE, apply_style, plain

__all__ = [
    "conversion_figure",
    "funnel_figure",
    "loss_reasons_figure",
    "manager_stage_figure",
]


def funnel_figure(f: Funnel) -> go.Figure:
    """Deals that reached each stage; the stage the weakest link leads into is red.

    Examples
    --------
    >>> import dataclasses
    >>> from kam.funnel import StageModel, funnel
    >>> from kam.model import tables
    >>> deals = pd.DataFrame({"account_id": "A", "id": ["1", "2"], "stage": ["a", "b"],
    ...                       "outcome": ["refused", "won"], "refusal_reason": "price"})
    >>> t = dataclasses.replace(tables([]), deals=deals)
    >>> list(funnel_figure(funnel(t, stages=StageModel.of(["a", "b"]))).data[0].x)
    [2, 1]
    """
    st = f.stages
    weak = f.weakest
    weak_to = weak["to_stage"] if weak is not None else None
    colours = [BAD if s == weak_to else PALETTE[0] for s in st["stage"]]
    fig = go.Figure(go.Funnel(
        y=[plain(str(v)) for v in st["label"]], x=st["reached"].tolist(),
        textinfo="value+percent initial", marker={"color": colours},
        connector={"line": {"color": NEUTRAL}}))
    title = "Sales funnel"
    if weak is not None:
        title += (f"<br><sup>weakest link: {plain(str(weak['from_stage']))} -> "
                  f"{plain(str(weak['to_stage']))}, {weak['lost_share']:.0%} lost "
                  f"({int(weak['lost'])} deals)</sup>")
    return apply_style(fig, title, height=420)


def loss_reasons_figure(reasons: pd.DataFrame) -> go.Figure:
    """Lost deals per stage, stacked by refusal reason (:func:`~kam.funnel.loss_reasons`)."""
    fig = go.Figure()
    for i, (reason, rows) in enumerate(reasons.groupby("reason", sort=True)):
        fig.add_trace(go.Bar(x=[plain(str(s)) for s in rows["stage"]], y=rows["lost"].tolist(),
                             name=plain(str(reason)), marker_color=PALETTE[i % len(PALETTE)]))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="stage where the deal was lost")
    fig.update_yaxes(title_text="deals lost")
    return apply_style(fig, "Refusal reasons by stage", height=400)


def conversion_figure(conv: pd.DataFrame, by: str = "manager") -> go.Figure:
    """Quantitative and financial conversion per manager (left) beside the value they won
    (right): a manager converting fewer deals can bring more money.
    ``conv`` is :func:`~kam.funnel.conversion` with ``by``."""
    labels = [plain(str(v)) for v in conv[by]]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("conversion", "value won"))
    fig.add_trace(go.Bar(x=labels, y=conv["conversion"].tolist(), name="deals won / worked",
                         marker_color=PALETTE[0]), row=1, col=1)
    fig.add_trace(go.Bar(x=labels, y=conv["financial_conversion"].tolist(),
                         name="value won / budget worked", marker_color=PALETTE[1]),
                  row=1, col=1)
    fig.add_trace(go.Bar(x=labels, y=conv["value_won"].tolist(), name="value won",
                         marker_color=GOOD, showlegend=False), row=1, col=2)
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    fig.update_layout(barmode="group")
    return apply_style(fig, "Conversion by manager: count and money", height=420)


def manager_stage_figure(cross: pd.DataFrame) -> go.Figure:
    """Each manager's conversion per transition minus the team's (red: behind, green: ahead),
    the conversion written in. ``cross`` is :func:`~kam.funnel.manager_stage_conversion`."""
    steps = (cross["from_stage"].astype(str) + " -> " + cross["to_stage"].astype(str))
    frame = cross.assign(step=steps)
    order = list(dict.fromkeys(frame.sort_values("number")["step"]))
    gap = frame.pivot(index="manager", columns="step", values="gap").reindex(columns=order)
    conv = frame.pivot(index="manager", columns="step", values="conversion").reindex(
        columns=order)
    text = [["" if pd.isna(v) else f"{v:.0%}" for v in row] for row in conv.to_numpy()]
    fig = go.Figure(go.Heatmap(
        z=gap.to_numpy(), x=[plain(c) for c in order], y=[plain(str(m)) for m in gap.index],
        text=text, texttemplate="%{text}", zmid=0,
        colorscale=[[0, BAD], [0.5, "#f7f7f7"], [1, GOOD]],
        colorbar={"title": "vs team", "tickformat": "+.0%"},
        hovertemplate="%{y}, %{x}: %{text} (gap %{z:+.0%})<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return apply_style(fig, "Conversion per stage against the team",
                       height=max(300, 28 * len(gap) + 140))
