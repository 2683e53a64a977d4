"""The need map panel and the opportunity matrix panel (DOMAIN.md §2, §4).

The need map panel adds problems, criteria and effects and links them upward; the problems of
the map (from :meth:`kam.needmap.NeedMap.validate`) are listed by the node they name and ringed
in the chart. The opportunity matrix panel places a need by its significance and our capability
on the scales of ``templates/opportunities.yaml``; its marker moves to its new zone.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go

from ...errors import KamError, ValidationProblem
from ...figures.needmap import needmap_figure
from ...figures.opportunities import opportunity_figure
from ...figures.style import BAD
from ...model import Awareness, Dossier, NeedLevel
from ...needmap import NeedMap
from ...opportunities import (
    MATRIX_COLUMNS,
    OpportunityConfig,
    load_opportunity_config,
    opportunity_matrix,
    unassessed,
)
from ..base import Panel, message_html, redraw
from ._common import chart, form, missing, note_html, row, set_options, table_html, text

__all__ = ["NeedsPanel", "OpportunitiesPanel", "need_options"]


def need_options(dossier: Dossier, levels: Any = None) -> list[tuple[str, str]]:
    """Needs as ``(label, id)`` choices, bottom layer first (optionally only some levels).

    Examples
    --------
    >>> from kam.model import Account, Dossier, Need
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), needs=[
    ...     Need(id="E1", title="Output +5%", level="effect"),
    ...     Need(id="P1", title="Line stops", leads_to=["E1"])])
    >>> need_options(d)
    [('Line stops (problem, P1)', 'P1'), ('Output +5% (effect, E1)', 'E1')]
    """
    keep = [n for n in dossier.needs if levels is None or n.level in levels]
    keep.sort(key=lambda n: (n.level.rank, n.id))
    return [(f"{n.title} ({n.level.value}, {n.id})", n.id) for n in keep]


def _node(problem: ValidationProblem) -> str:
    """The node a need-map problem names (``need X`` or the lower end of ``edge X -> Y``)."""
    return problem.record.removeprefix("need ").removeprefix("edge ").split(" -> ")[0]


def problems_html(dossier: Dossier, problems: list[ValidationProblem]) -> str:
    """The need map's problems grouped by the node they name, every text escaped."""
    if not problems:
        return note_html("The need map is well formed.")
    titles = {n.id: n.title for n in dossier.needs}
    groups: dict[str, list[ValidationProblem]] = {}
    for p in problems:
        groups.setdefault(_node(p), []).append(p)
    parts = []
    for node, items in groups.items():
        lis = "".join(f"<li><code>{escape(p.field)}</code>: {escape(p.message)}</li>"
                      for p in items)
        parts.append(f"<li><b>{escape(titles.get(node, node))}</b> ({escape(node)})"
                     f"<ul>{lis}</ul></li>")
    return f"<ul class='kam-wb-problems'>{''.join(parts)}</ul>"


def ring_nodes(fig: go.Figure, nodes: set[str], name: str = "needs attention") -> go.Figure:
    """Ring the markers of ``nodes`` (found by the ``ids`` of the figure's traces) in red."""
    xs, ys = [], []
    for trace in fig.data:
        for i, node in enumerate(getattr(trace, "ids", None) or ()):
            if node in nodes:
                xs.append(trace.x[i])
                ys.append(trace.y[i])
    if xs:
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=name, hoverinfo="skip",
                                 marker=dict(size=28, symbol="circle-open", color=BAD,
                                             line=dict(width=2, color=BAD))))
    return fig


class NeedsPanel(Panel):
    """Need map: add a problem, criterion or effect (title, function, cause / goal, awareness)
    linked to the nodes above it; link or unlink two nodes; the map's problems by node; the
    chart."""

    title = "Need map"

    def __init__(self, on_change: Callable[[], None], **_: Any):
        super().__init__(on_change)
        self.need_title = w.Text(description="Title")
        self.level = w.Dropdown(description="Level", options=[lv.value for lv in NeedLevel])
        self.function = w.Combobox(description="Function", ensure_option=False,
                                   placeholder="department or person")
        self.cause = w.Text(description="Cause", placeholder="for a problem")
        self.goal = w.Text(description="Goal", placeholder="for an effect")
        self.awareness = w.Dropdown(description="Awareness", options=[
            ("(not known)", None), *((a.value, a.value) for a in Awareness)])
        self.leads_to = w.SelectMultiple(description="Leads to", rows=5)
        self.add_button = w.Button(description="Add need", icon="plus")
        self.lower = w.Dropdown(description="Lower")
        self.upper = w.Dropdown(description="leads to")
        self.link_button = w.Button(description="Link", icon="link")
        self.unlink_button = w.Button(description="Remove link", icon="unlink")
        self.problems_html = w.HTML()
        self.needs_html = w.HTML()
        self.figure = chart()
        self.add_button.on_click(lambda _: self._add())
        self.link_button.on_click(lambda _: self._link("link_needs"))
        self.unlink_button.on_click(lambda _: self._link("unlink_needs"))
        self.widget = w.VBox([
            self.status,
            row(self.figure, w.VBox([w.HTML("<b>Problems of the map</b>"), self.problems_html],
                                    layout=w.Layout(max_width="480px"))),
            row(form("Add a need", self.need_title, self.level, self.function, self.cause,
                     self.goal, self.awareness, self.leads_to, self.add_button),
                form("Link two needs (upward only)", self.lower, self.upper,
                     w.HBox([self.link_button, self.unlink_button]))),
            self.needs_html,
        ])

    def show(self, session: Any) -> None:
        """Redraw the chart, the problems by node and the table of needs."""
        super().show(session)
        d = session.dossier
        options = need_options(d)
        set_options(self.leads_to, options)
        set_options(self.lower, options)
        set_options(self.upper, options)
        self.function.options = sorted({n.function for n in d.needs if n.function})
        nm = NeedMap.from_dossier(d)
        problems = nm.validate()
        self.problems_html.value = problems_html(d, problems)
        titles = {n.id: n.title for n in d.needs}
        self.needs_html.value = table_html(pd.DataFrame([{
            "id": n.id, "level": n.level.value, "title": n.title, "function": n.function,
            "awareness": n.awareness.value if n.awareness else None,
            "leads_to": [titles.get(u, u) for u in n.leads_to]} for n in d.needs]), {
            "id": "Id", "level": "Level", "title": "Need", "function": "Function",
            "awareness": "Awareness", "leads_to": "Leads to"}, empty="No need yet.")
        fig = needmap_figure(nm, title="Need map")
        redraw(self.figure, ring_nodes(fig, {_node(p) for p in problems}))

    def _add(self) -> None:
        fields: dict[str, Any] = {"title": text(self.need_title) or "",
                                  "level": self.level.value, "function": text(self.function),
                                  "leads_to": list(self.leads_to.value)}
        extra = {"cause": text(self.cause), "goal": text(self.goal),
                 "awareness": self.awareness.value}
        fields.update({k: v for k, v in extra.items() if v is not None})
        need = self.edit("add_need", **fields)
        if need is not None:
            self.need_title.value = self.cause.value = self.goal.value = ""
            self.awareness.value = None
            self.leads_to.value = ()
            self.status.value = message_html(ok=f"Added {need.level.value} {need.id}.")

    def _link(self, name: str) -> None:
        lower, upper = self.lower.value, self.upper.value
        if lower is None or upper is None:
            self.status.value = message_html(missing("needs", "leads_to",
                                                     "pick the lower and the upper need"))
            return
        if self.edit(name, lower=lower, upper=upper) is not None:
            done = "Linked" if name == "link_needs" else "Removed the link"
            self.status.value = message_html(ok=f"{done}: {lower} -> {upper}.")


class OpportunitiesPanel(Panel):
    """Opportunity matrix: pick a need, set its significance for the client and our capability
    on the configured scales, assess it; the matrix chart, the zones and the needs not yet
    assessed.

    Parameters
    ----------
    on_change : callable
    config : OpportunityConfig, optional
        Scales, thresholds and zone texts (default: ``templates/opportunities.yaml``).
    """

    title = "Opportunity matrix"

    def __init__(self, on_change: Callable[[], None], *,
                 config: OpportunityConfig | None = None, **_: Any):
        super().__init__(on_change)
        self.config = cfg = config or load_opportunity_config()
        self._refreshing = False
        self.need = w.Dropdown(description="Need", layout=w.Layout(width="480px"))
        self.significance = w.FloatSlider(
            description="Significance", min=cfg.significance.min, max=cfg.significance.max,
            value=cfg.significance.min, step=0.1, readout_format=".1f",
            tooltip=cfg.significance.label)
        self.capability = w.FloatSlider(
            description="Capability", min=cfg.capability.min, max=cfg.capability.max,
            value=cfg.capability.min, step=0.1, readout_format=".1f",
            tooltip=cfg.capability.label)
        self.current = w.HTML()
        self.assess_button = w.Button(description="Assess", icon="check")
        self.matrix_html = w.HTML()
        self.unassessed_html = w.HTML()
        self.figure = chart()
        self.need.observe(self._picked, "value")
        self.assess_button.on_click(lambda _: self._assess())
        scales = (f"{cfg.significance.label}: {cfg.significance.min:g}..{cfg.significance.max:g}"
                  f"; {cfg.capability.label}: {cfg.capability.min:g}..{cfg.capability.max:g}")
        self.widget = w.VBox([
            self.status,
            row(self.figure,
                form("Assess a need", self.need, self.current, self.significance,
                     self.capability, w.HTML(note_html(scales)), self.assess_button)),
            self.matrix_html,
            w.HTML("<b>Not assessed yet</b>"), self.unassessed_html,
        ])

    def show(self, session: Any) -> None:
        """Redraw the matrix chart and tables."""
        super().show(session)
        d = session.dossier
        self._refreshing = True
        try:
            changed = set_options(self.need, need_options(d, set(self.config.levels)))
        finally:
            self._refreshing = False
        if changed:
            self._picked()
        try:
            matrix = opportunity_matrix(d, self.config, missing="skip")
        except KamError as e:  # a score outside the scale: say which, draw the rest empty
            self.status.value = message_html(e)
            matrix = pd.DataFrame(columns=MATRIX_COLUMNS)
        self.matrix_html.value = table_html(matrix, {
            "title": "Need", "level": "Level", "function": "Function",
            "significance": "Significance", "capability": "Capability", "zone_label": "Zone",
            "action": "What to do"}, empty="No need is assessed yet.")
        self.unassessed_html.value = table_html(unassessed(d, self.config), {
            "title": "Need", "level": "Level", "missing": "Missing"},
            empty="Every need is assessed.")
        redraw(self.figure, opportunity_figure(matrix, self.config, title="Opportunity matrix"))

    def _picked(self, _: object = None) -> None:
        if self._refreshing or self.session is None or self.need.value is None:
            return
        n = self.session.dossier.need(self.need.value)
        self.current.value = note_html(
            "not assessed yet" if n.significance is None or n.capability is None else
            f"now: significance {n.significance:g}, capability {n.capability:g}")
        if n.significance is not None:
            self.significance.value = n.significance
        if n.capability is not None:
            self.capability.value = n.capability

    def _assess(self) -> None:
        nid = self.need.value
        if nid is None:
            self.status.value = message_html(missing("needs", "id", "pick a need to assess"))
            return
        need = self.edit("assess_need", need_id=nid, significance=self.significance.value,
                         capability=self.capability.value)
        if need is not None:
            self.status.value = message_html(ok=f"Assessed {nid}.")
            self._picked()
