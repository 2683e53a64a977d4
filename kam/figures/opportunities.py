"""The opportunity matrix as a quadrant chart: significance for the client against our capability,
the four zones shaded and named, every need labelled (DOMAIN.md §4)."""

from __future__ import annotations

import math
import textwrap

import pandas as pd
import plotly.graph_objects as go

from ..opportunities import ZONES, OpportunityConfig, load_opportunity_config
from .style import BAD, GOOD, NEUTRAL, WARN, apply_style, plain

__all__ = ["ZONE_COLOURS", "opportunity_figure"]

ZONE_COLOURS = {"no interest": NEUTRAL, "risk": BAD, "potential": WARN, "deal": GOOD}
"""One colour per zone, used for the shading and the points."""


def _spread(matrix: pd.DataFrame, radius: float) -> tuple[list[float], list[float], list[str]]:
    """Needs with equal scores would hide each other: put them on a small circle around their
    point, each label on the outer side (presentation only; the hover keeps the exact scores)."""
    xs = matrix["capability"].astype(float).tolist()
    ys = matrix["significance"].astype(float).tolist()
    where = ["top center"] * len(xs)
    groups: dict[tuple[float, float], list[int]] = {}
    for i, key in enumerate(zip(xs, ys, strict=True)):
        groups.setdefault(key, []).append(i)
    for (x, y), idx in groups.items():
        if len(idx) > 1:
            for k, i in enumerate(idx):
                angle = math.pi / 2 + 2 * math.pi * k / len(idx)
                dx, dy = math.cos(angle), math.sin(angle)
                xs[i], ys[i] = x + radius * dx, y + radius * dy
                vert = "top" if dy > 0.5 else "bottom" if dy < -0.5 else "middle"
                horiz = "right" if dx > 0.5 else "left" if dx < -0.5 else "center"
                where[i] = f"{vert} {horiz}" if vert != "middle" or horiz != "center" else \
                    "top center"
    return xs, ys, where


def opportunity_figure(
    matrix: pd.DataFrame,
    config: OpportunityConfig | None = None,
    *,
    title: str | None = "Opportunity matrix",
    label_chars: int = 24,
) -> go.Figure:
    """Draw a matrix from :func:`kam.opportunities.opportunity_matrix` (or a portfolio matrix:
    the hover then names the account). Capability runs along x, significance up y.

    Shapes: four shaded zones and the two threshold lines; annotations: the zone labels; one
    marker trace per zone that has needs.

    Examples
    --------
    >>> from kam.model import Need
    >>> from kam.opportunities import opportunity_matrix
    >>> m = opportunity_matrix([Need(id="N1", title="Downtime", significance=5, capability=4)])
    >>> fig = opportunity_figure(m)
    >>> [t.name for t in fig.data], len(fig.layout.shapes)
    (['Deal'], 6)
    """
    cfg = config or load_opportunity_config()
    s, c = cfg.significance, cfg.capability
    fig = go.Figure()
    pad_x, pad_y = 0.06 * (c.max - c.min), 0.14 * (s.max - s.min)
    bounds = {  # zone -> (x0, x1, y0, y1) in (capability, significance)
        "no interest": (c.min, c.threshold, s.min, s.threshold),
        "risk": (c.min, c.threshold, s.threshold, s.max),
        "potential": (c.threshold, c.max, s.min, s.threshold),
        "deal": (c.threshold, c.max, s.threshold, s.max),
    }
    for zone in ZONES:
        x0, x1, y0, y1 = bounds[zone]
        fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, layer="below", line_width=0,
                      fillcolor=ZONE_COLOURS[zone], opacity=0.10)
        top = zone in ("risk", "deal")  # zone names sit in the margins above and below
        fig.add_annotation(x=(x0 + x1) / 2, y=y1 + pad_y if top else y0 - pad_y,
                           yanchor="top" if top else "bottom",
                           text=f"<b>{plain(cfg.zones[zone].label)}</b>", showarrow=False,
                           font=dict(size=14, color=ZONE_COLOURS[zone]))
    fig.add_shape(type="line", x0=c.threshold, x1=c.threshold, y0=s.min, y1=s.max,
                  line=dict(color="#7a828c", dash="dash", width=1))
    fig.add_shape(type="line", x0=c.min, x1=c.max, y0=s.threshold, y1=s.threshold,
                  line=dict(color="#7a828c", dash="dash", width=1))
    radius = 0.05 * min(s.max - s.min, c.max - c.min)
    xs, ys, where = _spread(matrix, radius) if not matrix.empty else ([], [], [])
    has_account = "account" in matrix.columns
    for zone in ZONES:
        rows = [i for i, z in enumerate(matrix["zone"]) if z == zone]
        if not rows:
            continue
        sub = matrix.iloc[rows]
        hover = []
        for r in sub.itertuples(index=False):
            acct = f"{plain(str(r.account))} · " if has_account else ""
            hover.append(
                f"<b>{plain(str(r.title))}</b><br>{acct}{plain(str(r.need))} "
                f"({r.level}) · {plain(str(r.function or '-'))}<br>"
                f"significance {r.significance:g}, capability {r.capability:g}<br>"
                f"{plain(str(r.action))}")
        fig.add_trace(go.Scatter(
            x=[xs[i] for i in rows], y=[ys[i] for i in rows], mode="markers+text",
            name=plain(cfg.zones[zone].label), ids=[str(n) for n in sub["need"]],
            text=[plain(textwrap.shorten(str(t), width=label_chars, placeholder="…"))
                  for t in sub["title"]],
            textposition=[where[i] for i in rows], textfont=dict(size=10), hovertext=hover,
            hoverinfo="text", cliponaxis=False,
            marker=dict(size=13, color=ZONE_COLOURS[zone], line=dict(color="white", width=1)),
        ))
    fig.update_xaxes(title_text=plain(c.label), range=[c.min - pad_x, c.max + pad_x],
                     showgrid=False, zeroline=False)
    fig.update_yaxes(title_text=plain(s.label), range=[s.min - pad_y, s.max + pad_y],
                     showgrid=False, zeroline=False)
    fig.update_layout(hovermode="closest", width=860, margin=dict(r=120),
                      legend=dict(orientation="v", x=1.02, y=1, xanchor="left", yanchor="top"))
    return apply_style(fig, title, height=680)
