"""Prospect assessment charts (DOMAIN.md §5): the waterfall of one account's factor contributions
and the ranking of many accounts, stacked by group."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from ..prospects import GROUPS, ProspectScore
from .style import GOOD, PALETTE, apply_style, plain

__all__ = ["GROUP_COLOURS", "GROUP_LABELS", "prospect_ranking_figure", "prospect_waterfall"]

GROUP_LABELS = {"client": "The client", "needs": "Current needs", "risks": "Risks"}
GROUP_COLOURS = {"client": PALETTE[0], "needs": PALETTE[2], "risks": PALETTE[1]}


def prospect_waterfall(result: ProspectScore, *, title: str | None = None) -> go.Figure:
    """One bar per factor contribution, building up to the score (the last bar); the hover says
    where the value came from (computed, assessment, default) and how many points were lost.

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier
    >>> from kam.prospects import prospect_score
    >>> s = prospect_score(Dossier(account=Account(id="A", name="Acme")), today=date(2025, 1, 1))
    >>> fig = prospect_waterfall(s)
    >>> len(fig.data), len(fig.data[0].y), fig.data[0].measure[-1]
    (1, 16, 'total')
    """
    c = result.contributions
    labels = [f"{plain(str(r.label))} " for r in c.itertuples()]
    hover = [
        f"<b>{plain(str(r.label))}</b><br>{GROUP_LABELS.get(str(r.group), str(r.group))} · "
        f"{r.source}<br>value {r.value:.2f} × weight {r.weight:g}<br>"
        f"{r.contribution:.1f} of {r.max_contribution:.1f} points (lost {r.lost:.1f})"
        for r in c.itertuples()
    ]
    fig = go.Figure(go.Waterfall(
        orientation="h",
        y=[*labels, "<b>Score</b>"],
        x=[*c["contribution"].tolist(), result.score],
        measure=[*(["relative"] * len(c)), "total"],
        text=[*(f"{v:.1f}" for v in c["contribution"]), f"{result.score:.1f}"],
        textposition="outside",
        hovertext=[*hover, f"score {result.score:.1f} of {result.score_max:g}"],
        hoverinfo="text",
        increasing=dict(marker=dict(color=GOOD)),
        totals=dict(marker=dict(color=PALETTE[0])),
        connector=dict(line=dict(color="#c9ced6", width=1)),
        name="contribution",
    ))
    fig.update_yaxes(autorange="reversed", showgrid=False, automargin=True)
    fig.update_xaxes(range=[0, result.score_max * 1.08], title_text="points")
    fig.update_layout(showlegend=False)
    heading = title if title is not None else (
        f"{plain(result.account)}: prospect score {result.score:.1f} of "
        f"{result.score_max:g}")
    return apply_style(fig, heading, height=max(420, 60 + 30 * (len(c) + 1)))


def prospect_ranking_figure(
    ranking: pd.DataFrame,
    *,
    title: str | None = "Prospect ranking",
    group_labels: Mapping[str, str] | None = None,
) -> go.Figure:
    """Accounts ranked by score (best on top), each bar stacked by group; the score is written
    at the end of the bar. Takes the frame of :func:`kam.prospects.rank_prospects`.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"rank": [1, 2], "account_id": ["A", "B"], "account": ["Alpha", "Beta"],
    ...                   "score": [70.0, 40.0], "client": [30.0, 10.0], "needs": [25.0, 20.0],
    ...                   "risks": [15.0, 10.0]})
    >>> fig = prospect_ranking_figure(r)
    >>> [t.name for t in fig.data], list(fig.data[0].y)
    (['The client', 'Current needs', 'Risks', 'score'], ['Alpha', 'Beta'])
    """
    labels = {**GROUP_LABELS, **(group_labels or {})}
    names = [plain(str(a)) for a in ranking["account"]]
    fig = go.Figure()
    for g in GROUPS:
        if g not in ranking.columns:
            continue
        fig.add_trace(go.Bar(
            y=names, x=ranking[g].tolist(), orientation="h", name=plain(labels[g]),
            marker_color=GROUP_COLOURS[g],
            hovertemplate="%{y}<br>" + plain(labels[g]) + ": %{x:.1f}<extra></extra>",
        ))
    fig.add_trace(go.Scatter(
        y=names, x=ranking["score"].tolist(), mode="text", name="score", showlegend=False,
        text=[f"  {r}. {s:.1f}" for r, s in zip(ranking["rank"], ranking["score"], strict=True)],
        textposition="middle right", hoverinfo="skip", cliponaxis=False,
    ))
    fig.update_yaxes(autorange="reversed", showgrid=False, automargin=True)
    fig.update_xaxes(title_text="points", rangemode="tozero")
    fig.update_layout(barmode="stack", margin=dict(r=80), legend_traceorder="normal")
    return apply_style(fig, title, height=max(360, 120 + 34 * len(ranking)))
