"""The meeting sheet panel: pick the client persons attending and read the meeting preparation
sheet of :mod:`kam.meeting` -- who is coming, what moves them, the question plan, what we owe
them, the brush-offs (DOMAIN.md §10, Appendix A). Read only: it makes no edit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import ipywidgets as w

from ...errors import KamError
from ...meeting import meeting_sheet
from ..base import Panel, message_html
from ._common import note_html, person_options, set_options

__all__ = ["MeetingPanel"]


class MeetingPanel(Panel):
    """Meeting preparation sheet for the attendees picked (escaped HTML, no edits).

    Parameters
    ----------
    on_change : callable
    today : date, optional
        The day of the preparation (days since contact, overdue commitments; default: the real
        today).
    """

    title = "Meeting sheet"

    def __init__(self, on_change: Callable[[], None], *, today: date | None = None, **_: Any):
        super().__init__(on_change)
        self.today = today or date.today()
        self.attendees = w.SelectMultiple(description="Attendees", rows=6,
                                          layout=w.Layout(width="480px"))
        self.sheet_html = w.HTML()
        self.attendees.observe(lambda _: self._draw(), "value")
        self.widget = w.VBox([self.status, self.attendees, self.sheet_html])

    def show(self, session: Any) -> None:
        """Offer the account's persons and redraw the sheet for those picked."""
        super().show(session)
        set_options(self.attendees, person_options(session.dossier))
        self._draw()

    def _draw(self) -> None:
        if self.session is None:
            return
        ids = list(self.attendees.value)
        if not ids:
            self.sheet_html.value = note_html("Pick the persons who attend the meeting.")
            return
        try:
            sheet = meeting_sheet(self.session.dossier, ids, self.today)
        except KamError as e:
            self.status.value = message_html(e)
            self.sheet_html.value = ""
            return
        self.status.value = ""
        self.sheet_html.value = sheet._repr_html_()  # every cell escaped by kam.meeting
