"""Saving imported dossiers: every check first, then one all-or-nothing transaction.

Shared by the YAML and the CRM import. Before anything is written, the stage gate is checked for
every account that would move into a later sales stage, so that every problem of the import is
reported at once with its file; then :meth:`~kam.store.Workspace.save_many` writes the team
roster (if given) and all changed dossiers in one transaction. An account whose newest revision
already equals the imported dossier gets no new revision, so importing the same data twice is a
no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from .._gc import gc_paused
from ..errors import ImportFailed, InputError, ValidationProblem
from ..model import Dossier, SalesStage, Team, missing_for_stage
from ..store import Workspace

__all__ = ["fail", "gc_paused", "save_dossiers", "stage_problems"]

Merge = Callable[[Dossier, Dossier], Dossier]


def fail(problems: Sequence[ValidationProblem]) -> ImportFailed:
    """An :class:`~kam.errors.ImportFailed` listing ``problems``; its message says that nothing
    was saved."""
    n = len(problems)
    if n == 1:
        summary = f"{problems[0]}\nNothing was saved: fix this and run the import again."
    else:
        summary = f"{n} problems; nothing was saved: fix them and run the import again"
    return ImportFailed(problems, summary=summary)


def stage_problems(d: Dossier, previous: SalesStage | None,
                   file: str | None) -> list[ValidationProblem]:
    """The stage gate for a dossier coming from ``previous`` (``None`` for a new account): moving
    into a later stage needs what that stage requires (DOMAIN.md §1)."""
    stage = d.account.sales_stage
    before = previous.number if previous is not None else 0
    if stage.number <= before:
        return []
    missing = missing_for_stage(d, stage)
    if not missing:
        return []
    came = f"from {previous.value!r} " if previous is not None else ""
    return [ValidationProblem(
        record=f"account {d.account.id}", field="sales_stage", file=file,
        message=(f"cannot move {came}into stage {stage.value!r}; missing: " + "; ".join(missing)
                 + ". Add the missing information or lower the stage."))]


def save_dossiers(ws: Workspace, items: Sequence[tuple[Dossier, str | None]], *, author: str,
                  message: str, team: Team | None = None, merge: Merge | None = None,
                  ) -> pd.DataFrame:
    """Save imported dossiers (each with the file it came from) in one transaction.

    ``merge(existing, imported)`` combines an imported dossier with the account's newest
    revision (default: the imported dossier replaces it). Returns one row per dossier:
    ``account_id``, ``file``, ``action`` (``new``, ``updated``, ``unchanged``), ``revision``.
    Raises :class:`~kam.errors.ImportFailed` with every problem; then nothing is written.
    """
    known = set(ws.account_ids())
    wanted = [d.account.id for d, _ in items if d.account.id in known]
    existing = {d.account.id: d for d in ws.load_all(wanted)} if wanted else {}
    rows: list[dict[str, object]] = []
    to_save: list[Dossier] = []
    files: dict[str, str | None] = {}
    problems: list[ValidationProblem] = []
    for d, file in items:
        old = existing.get(d.account.id)
        if old is not None and merge is not None:
            try:
                d = merge(old, d)
            except InputError as e:
                problems += [ValidationProblem(p.record, p.field, p.message, p.file or file)
                             for p in e.problems]
                continue
        files[d.account.id] = file
        if old is not None and d == old:
            rows.append({"account_id": d.account.id, "file": file, "action": "unchanged",
                         "revision": ws.revision_of(old)})
            continue
        problems += stage_problems(d, old.account.sales_stage if old else None, file)
        rows.append({"account_id": d.account.id, "file": file,
                     "action": "updated" if old is not None else "new", "revision": None})
        to_save.append(d)
    if problems:
        raise fail(problems)
    if team is not None and team == ws.team():
        team = None  # unchanged roster: no new team revision
    if to_save or team is not None:
        try:
            revisions = ws.save_many(to_save, author=author, message=message, team=team)
        except InputError as e:
            raise fail([_with_file(p, files) for p in e.problems]) from None
        numbers = {r.key: r.number for r in revisions}
        for row in rows:
            if row["action"] != "unchanged":
                row["revision"] = numbers.get(str(row["account_id"]))
    return pd.DataFrame(rows, columns=["account_id", "file", "action", "revision"], dtype=object)


def _with_file(p: ValidationProblem, files: dict[str, str | None]) -> ValidationProblem:
    """Attach the file of the account a store-side problem names (``account X / ...``)."""
    if p.file or not p.record.startswith("account "):
        return p
    account_id = p.record.removeprefix("account ").split(" / ", 1)[0]
    return ValidationProblem(p.record, p.field, p.message, files.get(account_id))
