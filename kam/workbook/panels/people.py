"""The buying center panel: the client's persons, who knows whom, who left; the network chart
with the entry chains to the power point and the red flags (DOMAIN.md §1 item 4, §3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import ipywidgets as w
import pandas as pd

from ...buying_center import BuyingCenter
from ...figures.buying_center import buying_center_figure
from ...model import Attitude, BuyingRole, Team
from ..base import Panel, message_html, redraw
from ._common import chart, form, missing, person_options, row, set_options, table_html, text

__all__ = ["PeoplePanel"]

_NEW = "__new__"
_LINK_KINDS = ["influences", "reports to", "knows"]


class PeoplePanel(Panel):
    """Buying center: persons (add, edit, left), who-knows-whom links, the network chart, the
    entry chains to the power points and the red flags.

    Parameters
    ----------
    on_change : callable
        Called after every edit (the workbook then shows every panel again).
    team : Team, optional
        Our team roster: names our members in the chart and marks inactive ones.
    today : date, optional
        The default date a person left (default: the real today).
    """

    title = "Buying center"

    def __init__(self, on_change: Callable[[], None], *, team: Team | None = None,
                 today: date | None = None, **_: Any):
        super().__init__(on_change)
        self.team = team
        self.today = today or date.today()
        self._refreshing = False
        # the person form: pick a person to edit, or "new person" to add one
        self.pick = w.Dropdown(description="Person", options=[("(new person)", _NEW)])
        self.name = w.Text(description="Name")
        self.position = w.Text(description="Position")
        self.department = w.Text(description="Department")
        self.roles = w.SelectMultiple(description="Roles", rows=4,
                                      options=[r.value for r in BuyingRole])
        self.influence = w.FloatSlider(description="Influence", value=0.5, min=0.0, max=1.0,
                                       step=0.05)
        self.attitude = w.Dropdown(description="Attitude", options=[a.value for a in Attitude],
                                   value=Attitude.NEUTRAL.value)
        self.add_button = w.Button(description="Add person", icon="plus")
        self.update_button = w.Button(description="Save changes", icon="save", disabled=True)
        self.left_on = w.DatePicker(description="Left on", value=self.today)
        self.left_button = w.Button(description="Person left", icon="sign-out")
        # who knows whom
        self.source = w.Dropdown(description="Who")
        self.target = w.Dropdown(description="knows")
        self.strength = w.FloatSlider(description="Strength", value=0.5, min=0.0, max=1.0,
                                      step=0.05)
        self.kind = w.Combobox(description="Kind", value="influences", options=_LINK_KINDS,
                               ensure_option=False)
        self.link_button = w.Button(description="Link", icon="link")
        self.unlink_button = w.Button(description="Remove link", icon="unlink")
        # what is shown
        self.persons_html = w.HTML()
        self.links_html = w.HTML()
        self.chains_html = w.HTML()
        self.flags_html = w.HTML()
        self.figure = chart()

        self.pick.observe(self._picked, "value")
        self.add_button.on_click(lambda _: self._add())
        self.update_button.on_click(lambda _: self._update())
        self.left_button.on_click(lambda _: self._left())
        self.link_button.on_click(lambda _: self._link())
        self.unlink_button.on_click(lambda _: self._unlink())
        person_form = form(
            "Add or edit a person", self.pick, self.name, self.position, self.department,
            self.roles, self.influence, self.attitude,
            w.HBox([self.add_button, self.update_button]),
            w.HBox([self.left_on, self.left_button]))
        link_form = form("Who knows whom", self.source, self.target, self.strength, self.kind,
                         w.HBox([self.link_button, self.unlink_button]), self.links_html)
        self.widget = w.VBox([
            self.status,
            row(self.figure, w.VBox([w.HTML("<b>Entry chains to the power point</b>"),
                                     self.chains_html, w.HTML("<b>Red flags</b>"),
                                     self.flags_html], layout=w.Layout(max_width="560px"))),
            self.persons_html,
            row(person_form, link_form),
        ])

    # -- showing ---------------------------------------------------------------------------
    def show(self, session: Any) -> None:
        """Redraw the tables, the chart, the chains and flags from ``session.dossier``."""
        super().show(session)
        d = session.dossier
        people = person_options(d)
        self._refreshing = True
        try:
            changed = set_options(self.pick, [("(new person)", _NEW), *people])
            set_options(self.source, people)
            set_options(self.target, people)
        finally:
            self._refreshing = False
        if changed:
            self._picked()
        self.persons_html.value = table_html(pd.DataFrame([{
            "name": p.name, "position": p.position, "department": p.department,
            "roles": [r.value for r in p.roles], "influence": p.influence,
            "attitude": p.attitude.value, "left_on": p.left_on} for p in d.persons]), {
            "name": "Name", "position": "Position", "department": "Department",
            "roles": "Roles", "influence": "Influence", "attitude": "Attitude",
            "left_on": "Left on"}, empty="No person yet.")
        names = {p.id: p.name for p in d.persons}
        self.links_html.value = table_html([{
            "source": names.get(x.source, x.source), "target": names.get(x.target, x.target),
            "kind": x.kind, "strength": x.strength} for x in d.links], {
            "source": "Who", "target": "knows / influences", "kind": "Kind",
            "strength": "Strength"}, empty="No link yet.")
        bc = BuyingCenter.from_dossier(d, self.team)
        chains = bc.entry_chains()
        self.chains_html.value = table_html(chains, {
            "name": "Power point", "route_names": "Route", "strength": "Strength",
            "introductions": "Introductions"}, empty="Nobody active holds the power role.")
        self.flags_html.value = table_html(bc.red_flags(), {
            "severity": "Severity", "flag": "Flag", "detail": "Detail", "action": "What to do"},
            empty="No red flag.")
        redraw(self.figure, buying_center_figure(bc, chains, title="Buying center"))

    def _picked(self, _: object = None) -> None:
        """Fill the form with the picked person (or empty it for a new one)."""
        if self._refreshing or self.session is None:
            return
        pid = self.pick.value
        self.update_button.disabled = pid == _NEW
        self.left_button.disabled = pid == _NEW
        if pid == _NEW:
            self.name.value = self.position.value = self.department.value = ""
            self.roles.value = ()
            return
        p = self.session.dossier.person(pid)
        self.name.value = p.name
        self.position.value = p.position or ""
        self.department.value = p.department or ""
        self.roles.value = tuple(r.value for r in p.roles)
        self.influence.value = p.influence
        self.attitude.value = p.attitude.value

    # -- edits -----------------------------------------------------------------------------
    def _fields(self) -> dict[str, Any]:
        return {"name": text(self.name) or "", "position": text(self.position),
                "department": text(self.department), "roles": list(self.roles.value),
                "influence": self.influence.value, "attitude": self.attitude.value}

    def _add(self) -> None:
        person = self.edit("add_person", **self._fields())
        if person is not None:
            if person.id in [v for _, v in self.pick.options]:
                self.pick.value = person.id
            self.status.value = message_html(ok=f"Added {person.name} ({person.id}).")

    def _update(self) -> None:
        pid = self.pick.value
        if pid == _NEW:
            self.status.value = message_html(missing(
                "person", "id", "pick the person to change (or add a new one)"))
            return
        if self.edit("update_person", person_id=pid, **self._fields()) is not None:
            self.status.value = message_html(ok=f"Saved the changes to {pid}.")

    def _left(self) -> None:
        pid, on = self.pick.value, self.left_on.value
        if pid == _NEW or on is None:
            self.status.value = message_html(missing(
                f"person {pid}" if pid != _NEW else "person", "left_on",
                "pick the person and the date they left"))
            return
        if self.edit("person_left", person_id=pid, on=on) is not None:
            self.status.value = message_html(ok=f"{pid} left the client on {on}.")

    def _link(self) -> None:
        if self.source.value is None or self.target.value is None:
            self.status.value = message_html(missing("links", "source",
                                                     "add the persons to link first"))
            return
        if self.edit("link_persons", source=self.source.value, target=self.target.value,
                     strength=self.strength.value, kind=text(self.kind) or "influences"
                     ) is not None:
            self.status.value = message_html(ok="Linked.")

    def _unlink(self) -> None:
        if self.edit("unlink_persons", source=self.source.value,
                     target=self.target.value) is None:
            return
        self.status.value = message_html(ok="Link removed.")
