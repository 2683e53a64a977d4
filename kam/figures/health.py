"""Figures of relationship health (:mod:`kam.health`): what makes up one account's score, and the
portfolio's scores side by side. They draw :class:`~kam.health.HealthReport` and
:func:`~kam.health.health_table` results; they compute nothing."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..health import FACTORS, HealthReport
from .style import BAD, GOOD, NEUTRAL, PALETTE, WARN, apply_style, plain

__all__ = ["health_figure", "portfolio_health_figure"]

_BANDS = ((0, 50, "#f6dcdc"), (50, 75, "#fbeed3"), (75, 100, "#dcefe2"))
"""Background bands of the gauge (red / amber / green)."""


def _score_colour(score: float) -> str:
    return BAD if score < 50 else WARN if score < 75 else GOOD


def health_figure(report: HealthReport) -> go.Figure:
    """A gauge of the score beside a waterfall of the factor contributions that add up to it.

    Hovering a factor shows its weight, its value (0..1) and why.

    Examples
    --------
    >>> from datetime import date
    >>> from kam.health import relationship_health
    >>> from kam.model import Account, Dossier
    >>> r = relationship_health(Dossier(account=Account(id="A", name="Acme")), date(2026, 3, 1))
    >>> fig = health_figure(r)
    >>> [t.type for t in fig.data]
    ['indicator', 'waterfall']
    >>> list(fig.data[1].y)
    [0.0, 0.0, 20.0, 15.0, 10.0, 0.0, 45.0]
    """
    f = report.factors
    fig = make_subplots(rows=1, cols=2, column_widths=[0.35, 0.65],
                        specs=[[{"type": "domain"}, {"type": "xy"}]])
    fig.add_trace(go.Indicator(
        mode="gauge+number", value=report.score, number={"suffix": " / 100"},
        gauge={"axis": {"range": [0, 100]}, "bar": {"color": _score_colour(report.score)},
               "steps": [{"range": [lo, hi], "color": c} for lo, hi, c in _BANDS]},
        title={"text": "health score"}), row=1, col=1)
    hover = [f"{plain(str(r.factor))}: weight {r.weight:g}, value {r.value:.2f}<br>"
             f"{plain(str(r.explanation))}" for r in f.itertuples()]
    fig.add_trace(go.Waterfall(
        x=[*f["factor"], "score"], y=[*f["contribution"], report.score],
        measure=["relative"] * len(f) + ["total"],
        text=[f"{v:.1f}" for v in [*f["contribution"], report.score]], textposition="outside",
        hovertext=[*hover, f"score {report.score:.1f}"], hoverinfo="text",
        increasing={"marker": {"color": PALETTE[0]}}, decreasing={"marker": {"color": BAD}},
        totals={"marker": {"color": _score_colour(report.score)}},
        connector={"line": {"color": NEUTRAL}}, showlegend=False), row=1, col=2)
    fig.update_yaxes(range=[0, 105], title_text="points", row=1, col=2)
    return apply_style(fig, f"Relationship health of {plain(report.account_name)} "
                            f"({report.today.isoformat()})", height=380)


def portfolio_health_figure(table: pd.DataFrame) -> go.Figure:
    """The portfolio's health scores as horizontal bars stacked from the factor contributions,
    weakest account on top (the order of :func:`~kam.health.health_table`)."""
    missing = [c for c in ("account_id", "name", "score", *FACTORS) if c not in table.columns]
    if missing:
        raise ValueError(f"not a health table: missing column(s) {', '.join(missing)}; "
                         "pass the result of kam.health.health_table")
    rows = table.iloc[::-1]
    labels = [plain(str(n)) for n in rows["name"]]
    fig = go.Figure()
    for i, factor in enumerate(FACTORS):
        fig.add_trace(go.Bar(
            y=labels, x=rows[factor], name=factor, orientation="h",
            marker_color=PALETTE[i % len(PALETTE)],
            hovertemplate="%{y}: " + factor + " %{x:.1f}<extra></extra>"))
    fig.update_layout(barmode="stack", xaxis={"range": [0, 100], "title": "health score"},
                      yaxis={"automargin": True})
    return apply_style(fig, "Relationship health of the portfolio",
                       height=max(300, 60 + 28 * len(rows)))
