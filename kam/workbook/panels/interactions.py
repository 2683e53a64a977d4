"""The interactions panel: log a contact with the client (its next step may become a commitment
or a plan action), the recent contacts, and the open commitments with a "done" button each,
overdue ones marked (DOMAIN.md §1 item 3, §10)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import escape
from typing import Any

import ipywidgets as w

from ...model import CommitmentStatus, InteractionKind, Team
from ..base import Panel, message_html
from ._common import (
    form,
    missing,
    note_html,
    our_people,
    person_options,
    row,
    set_options,
    table_html,
    text,
)

__all__ = ["InteractionsPanel"]

_NEXT_STEP_AS = [("nothing", None), ("a commitment to the client", "commitment"),
                 ("an action of the account plan", "action")]


class InteractionsPanel(Panel):
    """Interactions and commitments.

    Parameters
    ----------
    on_change : callable
    team : Team, optional
        Our team roster (the choices for our participants).
    today : date, optional
        The default date of a contact and of a kept commitment, and the day against which
        commitments are overdue (default: the real today).
    recent : int
        How many of the latest contacts to list.
    """

    title = "Interactions"

    def __init__(self, on_change: Callable[[], None], *, team: Team | None = None,
                 today: date | None = None, recent: int = 10, **_: Any):
        super().__init__(on_change)
        self.team = team
        self.today = today or date.today()
        self.recent = recent
        self.date = w.DatePicker(description="Date", value=self.today)
        self.kind = w.Dropdown(description="Kind", options=[k.value for k in InteractionKind],
                               value=InteractionKind.MEETING.value)
        self.participants = w.SelectMultiple(description="Client", rows=4)
        self.our_participants = w.SelectMultiple(description="Ours", rows=3)
        self.deal = w.Dropdown(description="Deal", options=[("(none)", None)])
        self.summary = w.Textarea(description="Summary")
        self.outcome = w.Text(description="Outcome")
        self.next_step = w.Text(description="Next step")
        self.next_step_due = w.DatePicker(description="Due")
        self.next_step_as = w.Dropdown(description="Becomes", options=_NEXT_STEP_AS)
        self.log_button = w.Button(description="Log contact", icon="plus")
        self.done_on = w.DatePicker(description="Done on", value=self.today)
        self.recent_html = w.HTML()
        self.commitments_box = w.VBox()
        self.done_buttons: dict[str, w.Button] = {}
        self.log_button.on_click(lambda _: self._log())
        self.widget = w.VBox([
            self.status,
            row(form("Log a contact", self.date, self.kind, self.participants,
                     self.our_participants, self.deal, self.summary, self.outcome,
                     self.next_step, self.next_step_due, self.next_step_as, self.log_button),
                form("Open commitments", self.done_on, self.commitments_box)),
            w.HTML("<b>Recent contacts</b>"), self.recent_html,
        ])

    def show(self, session: Any) -> None:
        """Redraw the choices, the recent contacts and the open commitments."""
        super().show(session)
        d = session.dossier
        set_options(self.participants, person_options(d))
        set_options(self.our_participants, our_people(d, self.team))
        set_options(self.deal, [("(none)", None), *(
            (f"{x.title} ({x.id})", x.id) for x in d.deals if x.is_open)])
        names = {p.id: p.name for p in d.persons}
        latest = sorted(d.interactions, key=lambda x: (x.date, x.id), reverse=True)
        self.recent_html.value = table_html([{
            "date": x.date, "kind": x.kind.value,
            "participants": [names.get(p, p) for p in x.participants],
            "ours": list(x.our_participants), "summary": x.summary, "outcome": x.outcome,
            "next_step": x.next_step, "due": x.next_step_due} for x in latest[:self.recent]], {
            "date": "Date", "kind": "Kind", "participants": "Client", "ours": "Ours",
            "summary": "Summary", "outcome": "Outcome", "next_step": "Next step",
            "due": "Due"}, empty="No contact recorded yet.")
        rows: list[w.Widget] = []
        self.done_buttons = {}
        for c in sorted(d.commitments, key=lambda c: (c.due, c.id)):
            if c.status is not CommitmentStatus.OPEN:
                continue
            late = c.overdue(self.today)
            to = names.get(c.to_person, c.to_person) if c.to_person else "the account"
            mark = (f" <b style='color:#c44e52'>overdue by {(self.today - c.due).days} days"
                    "</b>" if late else "")
            label = w.HTML(f"{escape(c.description)} - to {escape(str(to))}, due "
                           f"{c.due.isoformat()}{mark}",
                           layout=w.Layout(width="420px"))
            button = w.Button(description="Done", icon="check", layout=w.Layout(width="90px"),
                              button_style="danger" if late else "")
            button.on_click(lambda _, cid=c.id: self._done(cid))
            self.done_buttons[c.id] = button
            rows.append(w.HBox([label, button]))
        self.commitments_box.children = rows or [w.HTML(note_html("No open commitment."))]

    def _log(self) -> None:
        if self.date.value is None:
            self.status.value = message_html(missing("new interaction", "date",
                                                     "pick the date of the contact"))
            return
        kwargs: dict[str, Any] = {
            "date": self.date.value, "kind": self.kind.value,
            "participants": list(self.participants.value),
            "our_participants": list(self.our_participants.value),
            "summary": self.summary.value.strip(), "outcome": text(self.outcome),
            "next_step": text(self.next_step), "next_step_due": self.next_step_due.value,
            "deal": self.deal.value, "next_step_as": self.next_step_as.value}
        x = self.edit("log_interaction", **kwargs)
        if x is not None:
            self.summary.value = self.outcome.value = self.next_step.value = ""
            self.next_step_due.value = None
            self.next_step_as.value = None
            self.status.value = message_html(ok=f"Logged {x.kind.value} {x.id}.")

    def _done(self, commitment_id: str) -> None:
        if self.done_on.value is None:
            self.status.value = message_html(missing(f"commitment {commitment_id}", "done_on",
                                                     "pick the date it was done"))
            return
        if self.edit("complete_commitment", commitment_id=commitment_id,
                     on=self.done_on.value) is not None:
            self.status.value = message_html(ok=f"Commitment {commitment_id} kept.")
