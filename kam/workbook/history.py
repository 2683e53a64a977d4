"""The History tab: every revision of the open account, the dossier as it was at one of them,
the field changes between any two, and undo (an earlier revision saved again as a new one).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as w
import pandas as pd

from ..errors import KamError
from ..model import CommitmentStatus, DealOutcome, Dossier
from ..reports import display as kd
from ..store import EditSession, Revision
from .base import Panel, message_html

__all__ = ["HistoryPanel", "dossier_summary"]


def dossier_summary(dossier: Dossier) -> pd.DataFrame:
    """What a dossier holds, one row per kind of record (``record``, ``count``, ``detail``):
    a read-only summary of an earlier revision."""
    a = dossier.account
    persons = dossier.persons
    deals = dossier.deals
    plan = dossier.plan
    rows: list[tuple[str, Any, str]] = [
        ("Sales stage", a.sales_stage.value, ""),
        ("Relationship", a.relationship_stage.value, ""),
        ("Category", a.category.value if a.category else "—", ""),
        ("KAM", a.kam or "—", ""),
        ("Persons", len(persons), f"{sum(p.active for p in persons)} active"),
        ("Person links", len(dossier.links), ""),
        ("Needs", len(dossier.needs), ""),
        ("Deals", len(deals),
         f"{sum(d.outcome is DealOutcome.OPEN for d in deals)} open"),
        ("Interactions", len(dossier.interactions), ""),
        ("Commitments", len(dossier.commitments),
         f"{sum(c.status is CommitmentStatus.OPEN for c in dossier.commitments)} open"),
        ("Projects", len(dossier.projects), ""),
        ("Account plan", plan.period if plan else "none",
         f"{len(plan.objectives)} objectives, {len(plan.actions)} actions, "
         f"{len(plan.kpis)} KPIs" if plan else ""),
        ("Revenue lines", len(dossier.revenue), ""),
    ]
    return pd.DataFrame(rows, columns=["record", "count", "detail"], dtype=object)


def _label(revision: int, created_at: Any, author: str, message: str | None) -> str:
    when = pd.Timestamp(created_at).strftime("%Y-%m-%d %H:%M")
    text = str(message or "")
    short = text if len(text) <= 40 else text[:39] + "…"
    return f"{revision} · {when} · {author}" + (f" · {short}" if short else "")


class HistoryPanel(Panel):
    """Revisions, an as-of view, the diff between two revisions and undo.

    Parameters
    ----------
    on_change
        Called after an undo (the dossier was reloaded).
    on_saved
        Called after an undo with the new revision and the workspace fingerprint read before
        it (the workbook updates the account list).
    """

    title = "History"

    def __init__(self, on_change: Callable[[], None],
                 on_saved: Callable[[Revision, str], None] | None = None):
        super().__init__(on_change)
        self.on_saved = on_saved
        self.history_frame: pd.DataFrame | None = None
        self.as_of_dossier: Dossier | None = None
        self.diff_frame: pd.DataFrame | None = None
        self._key: tuple[str, str, int] | None = None
        self._quiet = False
        self.revisions_html = w.HTML()
        self.as_of = w.Dropdown(description="As of", options=[],
                                layout=w.Layout(width="auto", min_width="420px"))
        self.undo_button = w.Button(description="Undo to this revision", icon="history",
                                    button_style="warning", layout=w.Layout(width="auto"))
        self.as_of_html = w.HTML()
        self.diff_from = w.Dropdown(description="From", options=[],
                                    layout=w.Layout(width="auto", min_width="420px"))
        self.diff_to = w.Dropdown(description="To", options=[],
                                  layout=w.Layout(width="auto", min_width="420px"))
        self.diff_html = w.HTML()
        self.as_of.observe(lambda _c: self._draw_as_of(), "value")
        self.diff_from.observe(lambda _c: self._draw_diff(), "value")
        self.diff_to.observe(lambda _c: self._draw_diff(), "value")
        self.undo_button.on_click(lambda _b: self.undo())
        self.widget = w.VBox([
            self.status, w.HTML("<b>Revisions</b>"), self.revisions_html,
            w.HTML("<b>The dossier as it was</b>"), w.HBox([self.as_of, self.undo_button]),
            self.as_of_html,
            w.HTML("<b>Changes between two revisions</b>"), self.diff_from, self.diff_to,
            self.diff_html])

    def show(self, session: EditSession) -> None:
        """Redraw when the account or its newest revision changed (a cheap query otherwise)."""
        super().show(session)
        key = (session.workspace.location, session.account_id,
               session.workspace.head(session.account_id))
        if key == self._key:
            return
        self._key = key
        frame = session.history()
        self.history_frame = frame
        newest_first = frame.iloc[::-1]
        self.revisions_html.value = kd.table(newest_first, {
            "revision": "Revision", "author": "Author", "created_at": "Saved at",
            "message": "Message"}, max_rows=50).html
        options = [(_label(int(n), at, str(who), msg), int(n)) for n, at, who, msg in zip(
            newest_first["revision"].tolist(), newest_first["created_at"].tolist(),
            newest_first["author"].tolist(), newest_first["message"].tolist(), strict=True)]
        numbers = [n for _, n in options]
        self._quiet = True
        try:
            for dropdown in (self.as_of, self.diff_from, self.diff_to):
                dropdown.options = options
            self.as_of.value = numbers[0] if numbers else None
            self.diff_to.value = numbers[0] if numbers else None
            self.diff_from.value = numbers[1] if len(numbers) > 1 else (
                numbers[0] if numbers else None)
        finally:
            self._quiet = False
        self._draw_as_of()
        self._draw_diff()

    def undo(self, revision: int | None = None) -> Revision | None:
        """Save ``revision`` (default: the one picked "as of") again as a new revision; refused
        while there are unsaved edits. Returns the new revision, ``None`` if refused."""
        session = self.session
        number = self.as_of.value if revision is None else revision
        if session is None or number is None:
            self.status.value = message_html(KamError("Pick an account and a revision first."))
            return None
        before = session.workspace.fingerprint()
        head = session.base
        try:
            rev = session.restore(int(number), f"Undo to revision {number}")
        except KamError as e:
            self.status.value = message_html(e)
            return None
        if rev.number == head:  # the same content: the store wrote nothing
            self.status.value = message_html(
                ok=f"Revision {number} holds what revision {head} holds: nothing to undo.")
            return None
        self.status.value = message_html(
            ok=f"Revision {number} restored as revision {rev.number}.")
        if self.on_saved is not None:
            self.on_saved(rev, before)
        self.on_change()
        return rev

    # -- drawing ----------------------------------------------------------------------------
    def _draw_as_of(self) -> None:
        if self._quiet or self.session is None or self.as_of.value is None:
            return
        number = int(self.as_of.value)
        d = self.session.as_of(number)
        self.as_of_dossier = d
        self.as_of_html.value = (
            f"<p>Revision {number}: <b>{escape(d.account.name)}</b> ({escape(d.account.id)}), "
            "read only.</p>"
            + kd.table(dossier_summary(d), {"record": "Record", "count": "Count",
                                            "detail": "Detail"}).html)

    def _draw_diff(self) -> None:
        if self._quiet or self.session is None:
            return
        a, b = self.diff_from.value, self.diff_to.value
        if a is None or b is None:
            self.diff_frame = None
            self.diff_html.value = ""
            return
        self.diff_frame = self.session.diff(int(a), int(b))
        self.diff_html.value = kd.table(
            self.diff_frame, {"field": "Field", "change": "Change", "before": "Before",
                              "after": "After"}, max_rows=200,
            empty=f"No field changed between revisions {a} and {b}.").html
