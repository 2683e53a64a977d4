"""The save bar: the unsaved mark with the list of one's edits, a message and Save; when someone
else saved in between, what they changed and the choice between re-applying one's edits on
theirs and discarding them. Nothing is lost until the user chooses.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import ipywidgets as w
import pandas as pd

from ..errors import KamError, StaleRevision
from ..reports import display as kd
from ..store import EditSession, Revision
from .base import message_html

__all__ = ["SaveBar"]

_HIDDEN = "none"
_SHOWN = "flex"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class SaveBar:
    """Save the open session's edits as one revision.

    Parameters
    ----------
    on_change
        Called after the session's dossier changed here (re-applied or reloaded): the workbook
        redraws everything.
    on_saved
        Called after a save with the new revision and the workspace fingerprint read just before
        the save; the workbook redraws everything.
    """

    def __init__(self, *, on_change: Callable[[], None],
                 on_saved: Callable[[Revision, str], None]):
        self.on_change = on_change
        self.on_saved = on_saved
        self.session: EditSession | None = None
        self.their_changes: pd.DataFrame | None = None
        """What the others changed, while a save is refused as stale."""
        self.failed: list[str] = []
        """The edits that no longer applied at the last re-apply."""
        self._saved_note = False
        self.message = w.Text(placeholder="What changed (saved with the revision)",
                              layout=w.Layout(flex="1 1 auto"))
        self.save_button = w.Button(description="Save", button_style="primary", icon="save")
        self.discard_button = w.Button(description="Discard edits…", icon="undo")
        self.mark = w.HTML()
        self.edits_html = w.HTML()
        self.status = w.HTML()
        self.confirm_html = w.HTML()
        self.confirm_discard = w.Button(description="Discard", button_style="danger")
        self.keep_button = w.Button(description="Keep them")
        self.confirm_row = w.HBox([self.confirm_html, self.confirm_discard, self.keep_button],
                                  layout=w.Layout(display=_HIDDEN))
        self.stale_html = w.HTML()
        self.reapply_button = w.Button(description="Re-apply my edits on theirs",
                                       button_style="warning", layout=w.Layout(width="auto"))
        self.reload_button = w.Button(description="Discard mine and reload",
                                      button_style="danger", layout=w.Layout(width="auto"))
        self.stale_box = w.VBox([self.stale_html,
                                 w.HBox([self.reapply_button, self.reload_button])],
                                layout=w.Layout(display=_HIDDEN))
        self.save_button.on_click(lambda _b: self.save())
        self.discard_button.on_click(lambda _b: self._ask_discard())
        self.confirm_discard.on_click(lambda _b: self.discard())
        self.keep_button.on_click(lambda _b: self._hide(self.confirm_row))
        self.reapply_button.on_click(lambda _b: self.reapply())
        self.reload_button.on_click(lambda _b: self.discard())
        self.widget = w.VBox([
            w.HBox([self.message, self.save_button, self.discard_button, self.mark],
                   layout=w.Layout(align_items="center")),
            self.confirm_row, self.status, self.stale_box, self.edits_html])
        self.show(None)

    @property
    def stale(self) -> bool:
        """Whether a save was refused because someone else saved in between (and the user has
        not chosen yet)."""
        return self.stale_box.layout.display == _SHOWN

    # -- drawing ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget messages and choices (another account was opened)."""
        self.status.value = ""
        self._saved_note = False
        self.message.value = ""
        self.failed = []
        self.their_changes = None
        self._hide(self.stale_box)
        self._hide(self.confirm_row)

    def show(self, session: EditSession | None) -> None:
        """Redraw the unsaved mark and the list of the session's edits."""
        self.session = session
        dirty = session is not None and session.dirty
        for button in (self.save_button, self.discard_button):
            button.disabled = not dirty
        self.message.disabled = session is None
        if session is None:
            self.mark.value = ""
            self.edits_html.value = ""
            return
        if not dirty:
            self.mark.value = f'<span class="kam-wb-saved">revision {session.base}, saved</span>'
            self.edits_html.value = ""
            self._hide(self.confirm_row)
            return
        n = len(session.edits)
        self.mark.value = (f'<b class="kam-wb-unsaved" style="color:#b3261e">● unsaved changes '
                           f"({_plural(n, 'edit')})</b>")
        items = "".join(f"<li><code>{escape(str(e))}</code></li>" for e in session.edits)
        self.edits_html.value = (f"<details><summary>My unsaved edits ({n})</summary>"
                                 f"<ol>{items}</ol></details>") if n else ""
        if self._saved_note:
            self.status.value = ""  # the confirmation of the last save is out of date
            self._saved_note = False

    # -- actions ----------------------------------------------------------------------------
    def save(self, message: str | None = None) -> bool:
        """Save the session's edits with ``message`` (default: the message box). Returns
        whether they were saved; a stale save shows the others' changes and the two choices,
        a refused one the store's messages."""
        s = self.session
        if s is None:
            self.status.value = message_html(KamError("Pick an account first."))
            return False
        if not s.dirty:
            self.status.value = message_html(ok="Nothing to save: no unsaved changes.")
            return True
        text = self.message.value if message is None else message
        before = s.workspace.fingerprint()
        try:
            rev = s.save(text.strip())
        except StaleRevision as e:
            self._show_stale(e)
            return False
        except KamError as e:
            self.status.value = message_html(e)
            return False
        self.message.value = ""
        self.their_changes = None
        self._hide(self.stale_box)
        self._hide(self.confirm_row)
        self.status.value = message_html(ok=f"Saved as revision {rev.number}.")
        self._saved_note = True
        self.on_saved(rev, before)
        return True

    def reapply(self) -> list[str]:
        """Load the newest revision and replay the session's edits on it; returns (and shows)
        the edits that no longer apply. Nothing is saved yet."""
        s = self.session
        if s is None:
            return []
        pending = len(s.edits)
        failed = s.reapply()
        self.failed = [str(edit) for edit, _ in failed]
        self.their_changes = None
        self._hide(self.stale_box)
        if failed:
            items = "".join(f"<li><code>{escape(str(edit))}</code>{message_html(error)}</li>"
                            for edit, error in failed)
            self.status.value = (
                f'<div class="kam-wb-error">{_plural(len(failed), "edit")} of yours no longer '
                f"apply to revision {s.base} and were left out:<ul>{items}</ul>"
                "The others are applied; check them and save.</div>")
        else:
            self.status.value = message_html(
                ok=f"Your {_plural(pending, 'edit')} re-applied on revision {s.base}; "
                   "check and save.")
        self.on_change()
        return self.failed

    def discard(self) -> None:
        """Drop the session's unsaved edits and load the newest revision."""
        s = self.session
        if s is None:
            return
        n = len(s.edits)
        s.reload()
        self.their_changes = None
        self.failed = []
        self._hide(self.stale_box)
        self._hide(self.confirm_row)
        self.status.value = message_html(
            ok=f"Discarded {_plural(n, 'edit')}; revision {s.base} loaded.")
        self.on_change()

    # -- helpers ----------------------------------------------------------------------------
    def _ask_discard(self) -> None:
        if self.session is None or not self.session.dirty:
            return
        n = len(self.session.edits)
        self.confirm_html.value = f"Discard your {_plural(n, 'unsaved edit')}?"
        self.confirm_row.layout.display = _SHOWN

    def _show_stale(self, error: StaleRevision) -> None:
        s = self.session
        assert s is not None
        history = s.history()
        theirs = history[history["revision"] > s.base]
        self.their_changes = s.their_changes()
        authors = ", ".join(sorted({str(a) for a in theirs["author"]})) or "someone"
        who = kd.table(theirs, {"revision": "Revision", "author": "Author",
                                "created_at": "Saved at", "message": "Message"},
                       caption="Saved since you opened the account")
        what = kd.table(self.their_changes, {"field": "Field", "change": "Change",
                                             "before": "Before", "after": "After"},
                        caption="What they changed", max_rows=60, empty="No field changed.")
        self.stale_html.value = (
            f'<div class="kam-wb-error"><b>{escape(authors)}</b> saved this account since you '
            f"opened it (your edits are based on revision {error.based_on}, the newest is "
            f"{error.head}). Nothing was saved and nothing is lost: re-apply your edits on "
            f"their revision, or discard yours.</div>{who.html}{what.html}")
        self.status.value = ""
        self.stale_box.layout.display = _SHOWN

    @staticmethod
    def _hide(box: w.Box) -> None:
        box.layout.display = _HIDDEN
