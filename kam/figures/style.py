"""One look for every kam chart: a plotly template, a palette and a finishing helper."""

from __future__ import annotations

import html

import plotly.graph_objects as go

__all__ = [
    "BAD",
    "GOOD",
    "KAM_TEMPLATE",
    "NEUTRAL",
    "PALETTE",
    "WARN",
    "apply_style",
    "color_for",
    "plain",
]

PALETTE = [
    "#1f5f8b",
    "#e07b39",
    "#3a9d5d",
    "#c44e52",
    "#8172b3",
    "#937860",
    "#da8bc3",
    "#6b6b6b",
    "#ccb974",
    "#64b5cd",
]
"""Categorical colours, in order of use."""

GOOD = "#3a9d5d"
WARN = "#e0a030"
BAD = "#c44e52"
NEUTRAL = "#8c8c8c"

KAM_TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font=dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=13, color="#222"),
        title=dict(font=dict(size=16), x=0.0, xanchor="left"),
        colorway=PALETTE,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=60, r=30, t=60, b=50),
        xaxis=dict(
            showgrid=True, gridcolor="#eceff3", zerolinecolor="#c9ced6", linecolor="#c9ced6",
            automargin=True,
        ),
        yaxis=dict(
            showgrid=True, gridcolor="#eceff3", zerolinecolor="#c9ced6", linecolor="#c9ced6",
            automargin=True,
        ),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1.0),
        hoverlabel=dict(font_size=12),
    )
)
"""The plotly template every kam figure uses."""


def color_for(keys: list[str]) -> dict[str, str]:
    """A stable colour per key (sorted, so the same key gets the same colour in every chart)."""
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(sorted(set(keys)))}


def apply_style(
    fig: go.Figure, title: str | None = None, *, height: int | None = None
) -> go.Figure:
    """Give ``fig`` the kam look (and a title / height) and return it."""
    fig.update_layout(template=KAM_TEMPLATE)
    if title is not None:
        fig.update_layout(title_text=title)
    if height is not None:
        fig.update_layout(height=height)
    return fig


def plain(value: object) -> str:
    """User text made safe for a plotly label, title or hover text: ``<``, ``>`` and ``&`` are
    escaped (plotly reads its text as a little HTML), quotes are kept as they are (plotly shows
    ``&quot;`` literally, so escaping them would show the entity).

    >>> plain('Acme "Steel" <b>&</b>')
    'Acme "Steel" &lt;b&gt;&amp;&lt;/b&gt;'
    """
    return html.escape(str(value), quote=False)
