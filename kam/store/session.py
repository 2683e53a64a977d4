"""An edit session: one person editing one dossier, from load to save, losing nothing.

The workbook works through it, and so can a script. A session holds the dossier as loaded, the
named edits (:mod:`kam.model.edits`) made since, and saves them as one revision. When someone
else saved in between, :meth:`EditSession.save` raises :class:`~kam.errors.StaleRevision` and
keeps everything: :meth:`~EditSession.their_changes` shows what they changed,
:meth:`~EditSession.reapply` loads their revision and replays this session's edits on it,
:meth:`~EditSession.reload` drops this session's edits. Undo is
:meth:`~EditSession.restore`: an earlier revision saved again as a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from ..config import current_user
from ..errors import InputError, KamError, ValidationProblem
from ..model import Dossier
from ..model.diff import diff_records
from ..model.edits import DossierEdits
from .workspace import Revision, Workspace

__all__ = ["EDITS", "Edit", "EditSession"]

EDITS = frozenset(
    name for name in vars(DossierEdits) if not name.startswith("_") and callable(
        getattr(DossierEdits, name))
)
"""The names of the edits a session applies (the public methods of
:class:`~kam.model.edits.DossierEdits`)."""


@dataclass(frozen=True)
class Edit:
    """One named edit: the method of the dossier and its keyword arguments."""

    name: str
    kwargs: dict[str, Any]

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{self.name}({args})"


class EditSession:
    """Edit one account's dossier and save it as one revision.

    Parameters
    ----------
    workspace
        The store.
    account_id
        The account to edit.
    author
        Who edits (default: :func:`kam.config.current_user`).

    Examples
    --------
    >>> import tempfile
    >>> from datetime import date
    >>> from kam.model import Account, Dossier
    >>> ws = Workspace(tempfile.mkdtemp(), create=True)
    >>> _ = ws.save(Dossier(account=Account(id="ACME", name="Acme", phone="1")), author="ann")
    >>> s = EditSession(ws, "ACME", author="ann")
    >>> s.apply("add_person", name="Eva Stark", position="Buyer").id
    'ACME-P1'
    >>> s.dirty
    True
    >>> s.save("met the buyer").number, s.dirty
    (2, False)
    """

    def __init__(self, workspace: Workspace, account_id: str, *, author: str | None = None):
        self.workspace = workspace
        self.account_id = account_id
        self.author = author or current_user()
        self.edits: list[Edit] = []
        self.reload()

    def __repr__(self) -> str:
        state = f"{len(self.edits)} unsaved edits" if self.dirty else "saved"
        return f"EditSession({self.account_id!r}, revision {self.base}, {state})"

    # -- state -----------------------------------------------------------------------------
    def reload(self) -> None:
        """Load the newest revision; edits not saved are dropped."""
        self.dossier: Dossier = self.workspace.load(self.account_id)
        self.base: int = self.workspace.revision_of(self.dossier) or 0
        self._saved = self.dossier.model_dump_json()
        self.edits = []

    @property
    def dirty(self) -> bool:
        """Whether the dossier differs from the revision it was loaded from."""
        return self.dossier.model_dump_json() != self._saved

    def my_changes(self) -> pd.DataFrame:
        """Field-level changes of this session, not saved yet (columns as
        :meth:`Workspace.diff <kam.store.Workspace.diff>`)."""
        before = Dossier.model_validate_json(self._saved, context={"skip_references": True})
        return diff_records(before.model_dump(mode="json"),
                            self.dossier.model_dump(mode="json"))

    def their_changes(self) -> pd.DataFrame:
        """What others saved since this session's revision (empty if nothing)."""
        head = self.workspace.head(self.account_id)
        if head == self.base:
            return diff_records({}, {})
        return self.workspace.diff(self.account_id, self.base, head)

    # -- editing ---------------------------------------------------------------------------
    def apply(self, name: str, /, **kwargs: Any) -> Any:
        """Apply the named edit ``name`` (e.g. ``"log_interaction"``) to the dossier and
        remember it; an edit that changes nothing (the same edit made again) is not recorded.
        A refused edit raises and leaves the dossier as it was."""
        if name not in EDITS:
            raise InputError([ValidationProblem(
                f"account {self.account_id}", "edit",
                f"unknown edit {name!r}; options are {', '.join(sorted(EDITS))}")])
        before = self.dossier.model_dump_json()
        snapshot = self.dossier.model_copy(deep=True)
        try:
            result = getattr(self.dossier, name)(**kwargs)
        except Exception:
            self._restore_object(snapshot)  # a refused edit leaves nothing half done
            raise
        if self.dossier.model_dump_json() != before:
            self.edits.append(Edit(name, dict(kwargs)))
        return result

    def _restore_object(self, snapshot: Dossier) -> None:
        for field in type(self.dossier).model_fields:
            object.__setattr__(self.dossier, field, getattr(snapshot, field))

    def save(self, message: str = "") -> Revision:
        """Save the dossier as a new revision based on this session's revision.

        Raises :class:`~kam.errors.StaleRevision` when someone else saved in between (nothing
        is written and this session keeps its edits: see :meth:`their_changes` and
        :meth:`reapply`), or the store's validation errors.
        """
        rev = self.workspace.save(self.dossier, author=self.author, message=message,
                                  based_on=self.base or None)
        self.base = rev.number
        self._saved = self.dossier.model_dump_json()
        self.edits = []
        return rev

    def reapply(self) -> list[tuple[Edit, KamError]]:
        """Load the newest revision and replay this session's edits on it. Returns the edits
        that no longer apply, with the reason (the others are applied, not yet saved)."""
        pending = list(self.edits)
        self.reload()
        failed: list[tuple[Edit, KamError]] = []
        for edit in pending:
            try:
                self.apply(edit.name, **edit.kwargs)
            except KamError as e:
                failed.append((edit, e))
        return failed

    # -- history ---------------------------------------------------------------------------
    def history(self) -> pd.DataFrame:
        """Every revision of the account, oldest first."""
        return self.workspace.history(self.account_id)

    def as_of(self, when: int | date | datetime) -> Dossier:
        """The dossier as it was at a revision, a date or a moment (read only)."""
        return self.workspace.load(self.account_id, when)

    def diff(self, rev_a: int | date | datetime,
             rev_b: int | date | datetime | None = None) -> pd.DataFrame:
        """Field-level changes between two revisions (default: to the newest)."""
        return self.workspace.diff(self.account_id, rev_a, rev_b)

    def restore(self, revision: int, message: str = "") -> Revision:
        """Undo: save ``revision``'s content as a new revision. Refused while this session has
        unsaved edits or when someone saved since its revision."""
        if self.dirty:
            raise InputError([ValidationProblem(
                f"account {self.account_id}", "revision",
                "save or drop (reload) the unsaved edits before restoring a revision")])
        rev = self.workspace.restore(self.account_id, revision, author=self.author,
                                     message=message, based_on=self.base)
        self.reload()
        return rev
