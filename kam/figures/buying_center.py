"""The buying center as a network chart (DOMAIN.md §3).

At a glance: colour = attitude to us (green supporter, grey neutral, red detractor), symbol =
entry-strategy point (▲ entry, ◆ pain, ★ power; a dark ring marks any of the three), size =
influence, our team members are blue squares in a column on the left, people who left are pale,
line width = strength of the link, and the entry chains to the power points are highlighted.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence

import networkx as nx
import pandas as pd
import plotly.graph_objects as go

from ..buying_center import POINTS, US, BuyingCenter
from .style import BAD, GOOD, NEUTRAL, PALETTE, apply_style, plain

__all__ = ["buying_center_figure", "network_layout"]

ATTITUDE_COLOURS = {"supporter": GOOD, "neutral": NEUTRAL, "detractor": BAD}
LEFT_COLOUR = "#d9dce1"
OURS_COLOUR = PALETTE[0]
CHAIN_COLOUR = PALETTE[1]
_SYMBOL = {"power": "star", "pain": "diamond", "entry": "triangle-up"}
_WIDTHS = [(0.0, 1 / 3, 1.0, "weak link (< 0.33)"), (1 / 3, 2 / 3, 2.5, "medium link"),
           (2 / 3, 1.01, 4.5, "strong link (≥ 0.67)")]


def network_layout(bc: BuyingCenter, *, seed: int = 7) -> dict[Hashable, tuple[float, float]]:
    """Client persons by a seeded spring layout (stronger links pull closer); our team members
    in a column to the left of them."""
    g = bc.graph
    clients = bc.persons()
    und = nx.Graph()
    und.add_nodes_from(clients)
    und.add_weighted_edges_from((u, v, d["strength"]) for u, v, d in g.edges(data=True)
                                if u in und and v in und)
    pos: dict[Hashable, tuple[float, float]] = {
        n: (float(p[0]), float(p[1]))
        for n, p in nx.spring_layout(und, seed=seed, weight="weight").items()
    } if clients else {}
    ours = [n for n, a in g.nodes(data=True) if a["kind"] == "us"]
    left = min((p[0] for p in pos.values()), default=0.0) - 0.6
    for i, n in enumerate(ours):
        pos[n] = (left, 0.8 - 1.6 * (i + 0.5) / len(ours))
    return pos


def _symbol(roles: list[str]) -> str:
    return next((_SYMBOL[r] for r in ("power", "pain", "entry") if r in roles), "circle")


def _hover(n: Hashable, a: dict) -> str:
    if a["kind"] == "us":
        return f"<b>{plain(str(a['name']))}</b><br>our team ({plain(str(n)[3:])})"
    lines = [f"<b>{plain(str(a['name']))}</b>",
             plain(" · ".join(str(x) for x in (a.get("position"), a.get("department"))
                                    if x))]
    lines.append("roles: " + (plain(", ".join(a["roles"])) or "none"))
    lines.append(f"attitude: {a['attitude']} · influence {a['influence']:g}")
    if not a["active"]:
        lines.append(f"left the company on {a['left_on']}")
    return "<br>".join(x for x in lines if x)


def buying_center_figure(
    bc: BuyingCenter,
    chains: pd.DataFrame | None = None,
    *,
    title: str | None = "Buying center",
    seed: int = 7,
    labels: bool | None = None,
) -> go.Figure:
    """Draw the buying center. ``chains`` are the entry chains to highlight (default:
    ``bc.entry_chains()``). ``labels`` shows names next to the markers (default: every name up
    to 40 persons, else only entry/pain/power points and our team).

    Traces: links by strength (up to three widths), our contacts, entry chains, link hover
    points, then one marker trace per group (our team, supporter, neutral, detractor, left the
    company) and three legend keys for the point symbols.

    Examples
    --------
    >>> from kam.model import Person, PersonLink
    >>> bc = BuyingCenter([Person(id="a", name="Ann", roles=["entry"], reached_by=["k"]),
    ...                    Person(id="b", name="Bob", roles=["power"], attitude="supporter")],
    ...                   [PersonLink(source="a", target="b", strength=0.8)])
    >>> fig = buying_center_figure(bc)
    >>> [t.name for t in fig.data if t.mode == "markers+text"]
    ['our team', 'supporter', 'neutral']
    """
    g = bc.graph
    chains = bc.entry_chains() if chains is None else chains
    pos = network_layout(bc, seed=seed)
    show = labels if labels is not None else len(bc.persons()) <= 40
    fig = go.Figure()

    def lines(edges: Sequence[tuple[Hashable, Hashable]]) -> tuple[list, list]:
        xs: list[float | None] = []
        ys: list[float | None] = []
        for u, v in edges:
            xs += [pos[u][0], pos[v][0], None]
            ys += [pos[u][1], pos[v][1], None]
        return xs, ys

    client_edges = [(u, v, d) for u, v, d in g.edges(data=True) if not str(u).startswith(US)]
    for lo, hi, width, name in _WIDTHS:
        edges = [(u, v) for u, v, d in client_edges if lo <= d["strength"] < hi]
        if edges:
            xs, ys = lines(edges)
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, hoverinfo="skip",
                                     line=dict(color="#aab2bd", width=width), opacity=0.8))
    ours = [(u, v) for u, v in g.edges if str(u).startswith(US)]
    if ours:
        xs, ys = lines(ours)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="our contact", hoverinfo="skip",
                                 line=dict(color=OURS_COLOUR, width=1.5, dash="dot")))
    routes: list[list[str]] = list(chains["route"]) if "route" in chains.columns else []
    chain_edges = sorted({e for route in routes for e in itertools.pairwise(route)})
    if chain_edges:
        xs, ys = lines(chain_edges)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="entry chain to power point",
                                 hoverinfo="skip", opacity=0.55,
                                 line=dict(color=CHAIN_COLOUR, width=8)))
    if client_edges:
        fig.add_trace(go.Scatter(
            x=[(pos[u][0] + pos[v][0]) / 2 for u, v, _ in client_edges],
            y=[(pos[u][1] + pos[v][1]) / 2 for u, v, _ in client_edges],
            mode="markers", name="link details", showlegend=False, hoverinfo="text",
            marker=dict(size=7, color="rgba(0,0,0,0)"),
            hovertext=[f"{plain(str(g.nodes[u]['name']))} → "
                       f"{plain(str(g.nodes[v]['name']))}<br>"
                       f"{plain(str(d['link_kind']))}, strength {d['strength']:g}"
                       for u, v, d in client_edges]))

    groups: list[tuple[str, str, list[str]]] = [
        ("our team", OURS_COLOUR, [n for n, a in g.nodes(data=True) if a["kind"] == "us"])]
    for att, colour in ATTITUDE_COLOURS.items():
        groups.append((att, colour, [n for n in bc.persons(active=True)
                                     if g.nodes[n]["attitude"] == att]))
    groups.append(("left the company", LEFT_COLOUR, bc.persons(active=False)))
    for name, colour, nodes in groups:
        if not nodes:
            continue
        attrs = [g.nodes[n] for n in nodes]
        is_us = name == "our team"
        points = [not is_us and any(r in POINTS for r in a["roles"]) for a in attrs]
        fig.add_trace(go.Scatter(
            x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers+text",
            name=name, ids=[str(n) for n in nodes], hoverinfo="text",
            hovertext=[_hover(n, a) for n, a in zip(nodes, attrs, strict=True)],
            text=[plain(str(a["name"])) if show or is_us or pt else ""
                  for a, pt in zip(attrs, points, strict=True)],
            textposition="top center", textfont=dict(size=10),
            marker=dict(
                color=colour, opacity=0.6 if name == "left the company" else 1.0,
                size=[16 if is_us else 10 + 18 * a["influence"] for a in attrs],
                symbol=["square" if is_us else _symbol(a["roles"]) for a in attrs],
                line=dict(color=["#2b2b2b" if pt else "white" for pt in points],
                          width=[2.5 if pt else 1 for pt in points]),
            ),
        ))
    for role in ("entry", "pain", "power"):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"{role} point",
                                 marker=dict(symbol=_SYMBOL[role], size=12, color="white",
                                             line=dict(color="#2b2b2b", width=2.5))))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_layout(hovermode="closest", legend=dict(orientation="v", x=1.02, y=1,
                                                       xanchor="left", yanchor="top"),
                      margin=dict(r=200))
    return apply_style(fig, title, height=max(520, min(1100, 300 + 4 * len(pos))))
