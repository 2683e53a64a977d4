"""The exceptions kam raises.

Every failure a user can cause has its own class and its own message. A message states the fact,
the bad value, the valid options where there are any, and what to do next.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "AccessDenied",
    "AccountNotFound",
    "ClusterError",
    "ConfigError",
    "DuplicateAccount",
    "ImportFailed",
    "InputError",
    "KamError",
    "NotAWorkspace",
    "ReportFailed",
    "RevisionNotFound",
    "StageGateError",
    "StaleRevision",
    "UnsafeFolder",
    "ValidationProblem",
    "WorkspaceError",
    "WorkspaceLocked",
    "WorkspaceOutdated",
]


class KamError(Exception):
    """Base class of every error kam raises on purpose."""


@dataclass(frozen=True)
class ValidationProblem:
    """One thing wrong with one field of one record.

    ``file`` is the file the record came from (``None`` for data built in Python), ``record``
    names the record (e.g. ``account ACME / deals[2] (D-7)``), ``field`` the field, and
    ``message`` says what was expected and what was found.
    """

    record: str
    field: str
    message: str
    file: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        field = f", field '{self.field}'" if self.field else ""
        return f"{where}{self.record}{field}: {self.message}"


class InputError(KamError):
    """Bad input: one or more :class:`ValidationProblem` s. Nothing was stored."""

    def __init__(self, problems: Iterable[ValidationProblem], *, summary: str | None = None):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        head = summary or (lines[0] if len(lines) == 1 else f"{len(lines)} problems in the input")
        if len(lines) > 1:
            shown = lines[:20]
            more = f"\n  ... and {len(lines) - 20} more" if len(lines) > 20 else ""
            head = head + ":\n  " + "\n  ".join(shown) + more
        super().__init__(head)


class ImportFailed(InputError):
    """An import was refused; the store is exactly as it was before."""


class ConfigError(KamError):
    """A configuration file (scoring, playbook, rates, ...) makes no sense."""


class AccountNotFound(KamError, KeyError):
    """No account with that id in the workspace."""

    def __init__(self, account_id: str, known: Iterable[str] = ()):
        self.account_id = account_id
        known = sorted(known)
        hint = ""
        if known:
            shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
            hint = f"; known accounts: {shown}"
        super().__init__(f"Account {account_id!r} not found in the workspace{hint}")

    def __str__(self) -> str:  # KeyError would quote the message again
        return str(self.args[0])


class DuplicateAccount(KamError):
    """An account id that is already taken was used for a new account."""


class RevisionNotFound(KamError, LookupError):
    """The account has no revision matching the requested number or date."""


class StaleRevision(KamError):
    """A save was based on a revision that is no longer the newest one.

    Nothing was written. Load the newest revision, re-apply the change and save again.
    """

    def __init__(self, account_id: str, based_on: int | None, head: int):
        self.account_id = account_id
        self.based_on = based_on
        self.head = head
        super().__init__(
            f"Account {account_id!r} was changed by someone else: your edit is based on revision "
            f"{based_on}, the newest is revision {head}. Nothing was saved; load revision {head}, "
            "re-apply your change and save again."
        )


class StageGateError(KamError):
    """A record cannot move into a stage while required information is missing."""

    def __init__(self, record: str, stage: str, missing: list[str]):
        self.record = record
        self.stage = stage
        self.missing = missing
        super().__init__(
            f"{record} cannot move into stage {stage!r}; missing: " + "; ".join(missing)
        )


class AccessDenied(KamError):
    """The user's role in the workspace does not allow the read or write (see
    :mod:`kam.store.access`). Nothing was changed."""


class ClusterError(KamError):
    """The Dask cluster of a batch cannot be used: its scheduler cannot be reached, it has no
    worker, or no worker can read the workspace and write the output folder. Nothing was
    written."""


class WorkspaceError(KamError):
    """The workspace's database cannot be used as it is (locked, damaged, read-only, or not a kam
    workspace at all). Nothing was written."""


class WorkspaceLocked(WorkspaceError):
    """Another program held the workspace's database locked for longer than kam waits."""

    def __init__(self, location: str, waited: float, *, writing: bool = True,
                 holders: Iterable[str] = ()):
        self.location = location
        self.waited = waited
        self.holders = list(holders)
        done = "Nothing was saved" if writing else "Nothing was read"
        who = (f" Programs that have it open: {'; '.join(self.holders)}." if self.holders
               else "")
        super().__init__(
            f"The workspace {location} is locked: another program is writing to it (another kam "
            "command, an import, a notebook or the workbook saving) and it stayed locked for "
            f"{waited:g} s. {done}; try again when that save is done, or close the program that "
            f"holds it (a notebook kernel left in the middle of a save, a database browser).{who}"
        )


class WorkspaceOutdated(WorkspaceError):
    """The workspace was made by an older version of kam: ``kam upgrade`` migrates it."""


class NotAWorkspace(WorkspaceError):
    """The workspace file is damaged, or is not a kam workspace (another application's data)."""


class UnsafeFolder(KamError):
    """A folder kam keeps private data in belongs to another user or is open to their writes."""


class ReportFailed(KamError):
    """A notebook run or its HTML conversion failed; the partial output is kept."""

    def __init__(self, message: str, output_path: str | None = None):
        self.output_path = output_path
        super().__init__(
            message + (f" (partial output kept at {output_path})" if output_path else "")
        )
