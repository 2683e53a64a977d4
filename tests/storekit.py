"""Test helpers that reach around the store's checks, as a direct SQL edit or an older version
of kam would have: the data kam's own saves refuse, to prove that reports and commands isolate
it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from kam.store import Workspace
from kam.store.lines import assemble, line_changes, lines_at, split_data, write_lines
from kam.store.schema import documents, revisions


def write_around_the_store(location: Path, account_id: str,
                           change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the head revision's whole dossier data of ``account_id`` and store the
    result as a new revision by direct SQL, around kam's checks (as a direct SQL edit or an older
    version of kam would have left it): the revision row and its changed lines."""
    with Workspace(location) as ws, ws.engine.begin() as conn:
        head = conn.execute(select(documents.c.head).where(
            documents.c.key == account_id)).scalar_one()
        lean = conn.execute(
            select(revisions.c.data).where(revisions.c.key == account_id,
                                           revisions.c.number == head)).scalar_one()
        data = json.loads(assemble(lean, lines_at(conn, account_id, head)))
        change(data)
        lean, new_lines = split_data(data)
        write_lines(conn, line_changes(conn, account_id, new_lines), head + 1)
        conn.execute(insert(revisions).values(
            kind="account", key=account_id, number=head + 1, based_on=head, author="sql",
            created_at=datetime.now(UTC).replace(tzinfo=None), message="edited outside kam",
            data=lean))
        conn.execute(update(documents).where(documents.c.key == account_id)
                     .values(head=head + 1))
