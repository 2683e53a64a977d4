"""The need map as a layered hierarchy: problems at the bottom, criteria in the middle, effects
on top, coloured by department (DOMAIN.md §2).

Nodes are spread across each row and ordered by the barycentre heuristic (each node moves to the
mean position of its neighbours in the rows next to it, a few sweeps up and down), which removes
most edge crossings. Labels are wrapped and cut to a few words; the hover text has everything.
"""

from __future__ import annotations

import textwrap
from collections.abc import Hashable

import plotly.graph_objects as go

from ..needmap import LEVELS, NO_FUNCTION, NeedMap
from .style import BAD, apply_style, color_for, plain

__all__ = ["layered_layout", "needmap_figure"]

_ROW_NAMES = {"problem": "Problems / tasks", "criterion": "Technical criteria",
              "effect": "Expected effects"}
_SYMBOLS = {"problem": "square", "criterion": "diamond", "effect": "circle"}
_EDGE = "#9aa3ae"


def layered_layout(nm: NeedMap, *, sweeps: int = 4) -> dict[Hashable, tuple[float, float]]:
    """``{node: (x, y)}``: ``y`` is 0, 1, 2 for problems, criteria, effects; within a row the
    nodes are spaced evenly over the width of the widest row, in barycentre order."""
    g = nm.graph
    rows = {lv: sorted(nm.nodes_at(lv), key=lambda n: (str(g.nodes[n].get("function") or ""),
                                                         str(n))) for lv in LEVELS}
    width = max((len(r) for r in rows.values()), default=1) or 1

    def place() -> dict[Hashable, float]:
        return {n: (i + 0.5) * width / len(r) for r in rows.values() for i, n in enumerate(r)}

    def bary(n: Hashable, x: dict[Hashable, float]) -> tuple[float, float]:
        near = [x[m] for m in (*g.predecessors(n), *g.successors(n)) if m in x]
        return (sum(near) / len(near) if near else x[n], x[n])

    x = place()
    order = ["criterion", "effect", "criterion", "problem"]  # up, then down
    for _ in range(sweeps):
        for lv in order:
            now = x
            rows[lv] = sorted(rows[lv], key=lambda n: bary(n, now))
            x = place()
    return {n: (x[n], float(i)) for i, lv in enumerate(LEVELS) for n in rows[lv]}


def _label(text: str, width: int) -> str:
    """At most two lines of about ``width`` characters, cut with an ellipsis, HTML-escaped."""
    wrapper = textwrap.TextWrapper(width=width, max_lines=2, placeholder="…",
                                   break_long_words=False)
    return "<br>".join(plain(line) for line in wrapper.wrap(text))


def _hover(n: Hashable, a: dict) -> str:
    lines = [f"<b>{plain(str(a.get('title', n)))}</b>",
             f"{a.get('level', '?')} {plain(str(n))} · "
             f"{plain(a.get('function') or NO_FUNCTION)}"]
    for key in ("cause", "evaluation", "goal", "awareness"):
        if a.get(key):
            lines.append(f"{key}: {plain(str(a[key]))}")
    if a.get("persons"):
        lines.append("persons: " + plain(", ".join(a["persons"])))
    return "<br>".join(lines)


def needmap_figure(nm: NeedMap, *, title: str | None = "Need map", label_width: int = 16,
                   sweeps: int = 4) -> go.Figure:
    """The need map drawn in three rows; one node trace per department (legend), one trace of
    upward edges, and one trace of edges against the rules (red) if there are any. Labels are
    at most two lines of about ``label_width`` characters; the hover has the full text.

    Examples
    --------
    >>> from kam.model import Need
    >>> nm = NeedMap.from_needs([
    ...     Need(id="P1", title="Line stops", function="Production", leads_to=["E1"]),
    ...     Need(id="E1", title="Output +5%", level="effect", function="Management")])
    >>> fig = needmap_figure(nm)
    >>> [t.name for t in fig.data]
    ['links', 'Management', 'Production']
    """
    g = nm.graph
    pos = layered_layout(nm, sweeps=sweeps)
    fig = go.Figure()
    good_x: list[float | None] = []
    good_y: list[float | None] = []
    bad_x: list[float | None] = []
    bad_y: list[float | None] = []
    for u, v in g.edges:
        if u not in pos or v not in pos:
            continue
        upward = pos[u][1] < pos[v][1]
        xs, ys = (good_x, good_y) if upward else (bad_x, bad_y)
        xs += [pos[u][0], pos[v][0], None]
        ys += [pos[u][1], pos[v][1], None]
    fig.add_trace(go.Scatter(x=good_x, y=good_y, mode="lines", name="links", hoverinfo="skip",
                             line=dict(color=_EDGE, width=1), opacity=0.7, showlegend=False))
    if bad_x:
        fig.add_trace(go.Scatter(x=bad_x, y=bad_y, mode="lines", name="links against the rules",
                                 hoverinfo="skip", line=dict(color=BAD, width=2, dash="dot")))
    departments = sorted({g.nodes[n].get("function") or NO_FUNCTION for n in pos})
    colours = color_for(departments)
    for dept in departments:
        nodes = [n for n in pos if (g.nodes[n].get("function") or NO_FUNCTION) == dept]
        attrs = [g.nodes[n] for n in nodes]
        fig.add_trace(go.Scatter(
            x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers+text",
            name=plain(dept), ids=[str(n) for n in nodes],
            text=[_label(str(a.get("title", n)), label_width) for n, a in zip(nodes, attrs,
                                                                              strict=True)],
            textposition=["bottom center" if pos[n][1] == 0 else "top center" for n in nodes],
            textfont=dict(size=10),
            hovertext=[_hover(n, a) for n, a in zip(nodes, attrs, strict=True)],
            hoverinfo="text",
            marker=dict(size=16, color=colours[dept], symbol=[_SYMBOLS[a["level"]] for a in attrs],
                        line=dict(color="white", width=1)),
        ))
    width = max((sum(1 for p in pos.values() if p[1] == i) for i in range(3)), default=1)
    for i, lv in enumerate(LEVELS):
        fig.add_annotation(x=0, y=i, xref="paper", yref="y", text=f"<b>{_ROW_NAMES[lv]}</b>",
                           showarrow=False, xanchor="right", xshift=-10, font=dict(size=12))
    fig.update_xaxes(visible=False, range=[-0.2, width + 0.2])
    fig.update_yaxes(visible=False, range=[-0.45, 2.45])
    fig.update_layout(margin=dict(l=140), width=max(900, 90 * width + 220), hovermode="closest",
                      legend_title_text="Department")
    return apply_style(fig, title, height=680)
