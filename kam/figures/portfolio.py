"""Figures of the portfolio (:mod:`kam.portfolio`, :mod:`kam.rating`): the Pareto chart of
revenue with ABC categories, the ABC movement matrix, new and lost buyers, and the client
rating. They draw analysis results and compute nothing."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..portfolio import AbcThresholds, Concentration, Movement
from .style import BAD, GOOD, NEUTRAL, PALETTE, WARN, apply_style, plain

__all__ = [
    "abc_movement_figure",
    "buyer_dynamics_figure",
    "pareto_figure",
    "rating_figure",
]

ABC_COLOURS = {"A": PALETTE[0], "B": PALETTE[9], "C": "#c9ced6"}


def _labels(frame: pd.DataFrame) -> list[str]:
    col = "name" if "name" in frame.columns else "account_id"
    return [plain(str(v)) for v in frame[col]]


def pareto_figure(abc: pd.DataFrame | Concentration, *,
                  thresholds: AbcThresholds | None = None, top: int | None = None) -> go.Figure:
    """Revenue per account (bars, coloured by ABC category where known) and the cumulative
    share (line, right axis), with the ABC thresholds. ``abc`` is :func:`~kam.portfolio.abc`
    or a :class:`~kam.portfolio.Concentration` (its warnings go into the title)."""
    frame = abc.shares if isinstance(abc, Concentration) else abc
    rows = frame if top is None else frame.head(top)
    colours = ([ABC_COLOURS.get(c, NEUTRAL) for c in rows["category"]]
               if "category" in rows.columns else PALETTE[0])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    labels = _labels(rows)
    fig.add_trace(go.Bar(x=labels, y=rows["revenue"].tolist(), name="revenue",
                         marker_color=colours), secondary_y=False)
    fig.add_trace(go.Scatter(x=labels, y=rows["cumulative_share"].tolist(),
                             name="cumulative share", mode="lines+markers",
                             line={"color": BAD}), secondary_y=True)
    if thresholds is not None:
        for v, name in ((thresholds.a, "A"), (thresholds.b, "B")):
            fig.add_hline(y=v, secondary_y=True, line={"color": NEUTRAL, "dash": "dot"},
                          annotation_text=f"{name} up to {v:.0%}")
    fig.update_yaxes(title_text="revenue", secondary_y=False)
    fig.update_yaxes(title_text="cumulative share", tickformat=".0%", range=[0, 1.05],
                     secondary_y=True)
    title = "Revenue concentration (Pareto)"
    if isinstance(abc, Concentration) and not abc.warnings.empty:
        title += "<br><sup>" + plain("; ".join(abc.warnings["message"])) + "</sup>"
    return apply_style(fig, title, height=440)


def abc_movement_figure(movement: Movement) -> go.Figure:
    """The ABC transition matrix as a heatmap with the account counts written in.

    Examples
    --------
    >>> import dataclasses
    >>> from kam.model import tables
    >>> from kam.portfolio import category_movement
    >>> rev = pd.DataFrame({"account_id": ["A", "A", "B"], "period": ["2024", "2025", "2024"],
    ...                     "revenue": [10.0, 10.0, 5.0]})
    >>> m = category_movement(dataclasses.replace(tables([]), revenue=rev), "2024", "2025")
    >>> abc_movement_figure(m).data[0].z.tolist()[0]  # from A: one stays A, one is lost
    [1, 0, 0, 1]
    """
    mx = movement.matrix
    fig = go.Figure(go.Heatmap(
        z=mx.to_numpy(), x=[str(c) for c in mx.columns], y=[str(i) for i in mx.index],
        text=mx.to_numpy(), texttemplate="%{text}", colorscale="Blues", showscale=False,
        hovertemplate="%{y} -> %{x}: %{z} accounts<extra></extra>"))
    fig.update_yaxes(title_text=f"category in {plain(movement.before)}", autorange="reversed")
    fig.update_xaxes(title_text=f"category in {plain(movement.after)}", side="top")
    return apply_style(fig, "Movement of accounts between ABC categories", height=380)


def buyer_dynamics_figure(dynamics: pd.DataFrame) -> go.Figure:
    """New, returning and lost buyers per period (lost drawn downwards) and the number of
    buyers (line). ``dynamics`` is :func:`~kam.portfolio.buyer_dynamics`."""
    periods = dynamics["period"].astype(str).tolist()
    fig = go.Figure([
        go.Bar(x=periods, y=dynamics["new"].tolist(), name="new", marker_color=GOOD),
        go.Bar(x=periods, y=dynamics["returning"].tolist(), name="returning",
               marker_color=PALETTE[9]),
        go.Bar(x=periods, y=[-v for v in dynamics["lost"]], name="lost", marker_color=BAD,
               customdata=dynamics["lost"].tolist(),
               hovertemplate="%{x}: %{customdata} lost<extra></extra>"),
        go.Scatter(x=periods, y=dynamics["buyers"].tolist(), name="buyers",
                   mode="lines+markers", line={"color": PALETTE[0]}),
    ])
    fig.update_layout(barmode="relative")
    fig.update_yaxes(title_text="accounts")
    return apply_style(fig, "New, returning and lost buyers", height=400)


def rating_figure(rating: pd.DataFrame, *, top: int | None = None) -> go.Figure:
    """Client rating as stacked bars (status + event + personal = total), highest on top.
    ``rating`` is :func:`~kam.rating.client_rating`."""
    rows = (rating if top is None else rating.head(top)).iloc[::-1]
    labels = _labels(rows)
    fig = go.Figure([
        go.Bar(y=labels, x=rows[k].tolist(), name=k, orientation="h", marker_color=c)
        for k, c in (("status", PALETTE[0]), ("event", WARN), ("personal", PALETTE[4]))
    ])
    fig.update_layout(barmode="relative")
    fig.update_xaxes(title_text="rating points")
    return apply_style(fig, "Client rating", height=max(300, 22 * len(rows) + 120))
