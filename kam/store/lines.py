"""The transactional lines of a dossier in their own table (see :mod:`kam.store.schema`).

A revision row holds the dossier without its revenue, cost, activity and budget lines; the lines
are rows of ``lines``, each version of a line valid from the revision that wrote it
(``added_in``) until the one that changed or removed it (``removed_in``). These functions split a
dossier on save, write only the lines that changed, and put a revision back together on load.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection

from ..model import Dossier
from .columnar import decode_frames, encode
from .schema import LINE_COLLECTIONS, line_columns, lines

__all__ = ["LineChanges", "Lines", "assemble", "current_lines", "figures",
           "line_changes", "line_frames", "lines_at", "split", "split_data", "write_lines"]

Lines = dict[str, list[tuple[str, str, dict[str, Any], str]]]
"""Per collection, the lines in order as ``(line id, period, typed figures, JSON)``."""

_ORDER = {c: i for i, c in enumerate(LINE_COLLECTIONS)}
_LABEL = {"revenue": "product", "costs": "category", "activities": "activity",
          "budgets": "category"}
_AMOUNT = {"revenue": "revenue", "costs": "amount", "activities": "count", "budgets": "amount"}


def figures(collection: str, line: Mapping[str, Any]) -> dict[str, Any]:
    """The typed columns of a line given as data."""
    return {"label": line.get(_LABEL[collection]), "grp": line.get("product_group"),
            "amount": line.get(_AMOUNT[collection]), "cogs": line.get("cogs"),
            "list_value": line.get("list_value"), "quantity": line.get("quantity")}


def split(dossier: Dossier) -> tuple[str, Lines]:
    """The revision's JSON (the dossier without its lines) and the lines."""
    lean = dossier.model_dump_json(exclude=set(LINE_COLLECTIONS))
    out: Lines = {}
    for coll in LINE_COLLECTIONS:
        out[coll] = [(str(x.id), x.period, figures(coll, x.__dict__), x.model_dump_json())
                     for x in getattr(dossier, coll)]
    return lean, out


def split_data(data: Mapping[str, Any]) -> tuple[str, Lines]:
    """:func:`split` for a dossier as plain JSON data (as stored, unchecked)."""
    lean = {k: v for k, v in data.items() if k not in LINE_COLLECTIONS}
    out: Lines = {}
    for coll in LINE_COLLECTIONS:
        out[coll] = [(str(x.get("id")), str(x.get("period")), figures(coll, x), json.dumps(x))
                     for x in data.get(coll) or []]
    return json.dumps(lean), out


def assemble(lean: str, rows: Iterable[tuple[str, str]]) -> str:
    """A revision's full dossier JSON from its lean JSON and its ``(collection, JSON)`` line
    rows in order."""
    parts: dict[str, list[str]] = {c: [] for c in LINE_COLLECTIONS}
    for coll, data in rows:
        parts[coll].append(data)
    body = lean.rstrip()
    if not body.endswith("}"):  # not an object: left for the parser to name
        return lean
    extra = ",".join(f'"{c}":[{",".join(parts[c])}]' for c in LINE_COLLECTIONS if parts[c])
    if not extra:  # no lines: the revision as stored (an empty list is the default)
        return lean
    inner = body[:-1].rstrip()
    return f"{inner}{',' if inner != '{' else ''}{extra}}}"


def _valid_at(number: int) -> Any:
    return and_(lines.c.added_in <= number,
                or_(lines.c.removed_in.is_(None), lines.c.removed_in > number))


def _in_order(rows: Iterable[tuple[str, int, str]]) -> list[tuple[str, str]]:
    """``(collection, position, JSON)`` rows as ``(collection, JSON)`` in the dossier's order."""
    return [(c, d) for c, _, d in sorted(rows, key=lambda r: (_ORDER.get(r[0], 99), r[1]))]


def _of_accounts(query: Any, accounts: Sequence[str] | None, column: Any = None) -> Any:
    """``query`` restricted to some accounts (by ``column``, default the lines' account) in SQL
    when they are few enough to list (callers drop the others when there are more)."""
    if accounts is not None and len(accounts) <= 500:
        return query.where((lines.c.account if column is None else column).in_(list(accounts)))
    return query


def lines_at(conn: Connection, account: str, number: int) -> list[tuple[str, str]]:
    """The ``(collection, JSON)`` line rows of revision ``number`` of an account, in order."""
    return _in_order(conn.execute(
        select(lines.c.collection, lines.c.position, lines.c.data)
        .where(lines.c.account == account, _valid_at(number))).all())


def current_lines(conn: Connection, accounts: Sequence[str] | None = None
                  ) -> dict[str, list[tuple[str, str]]]:
    """The newest line rows of every account (or of ``accounts``), ``{account: rows}``."""
    query = _of_accounts(select(lines.c.account, lines.c.collection, lines.c.position,
                                lines.c.data).where(lines.c.removed_in.is_(None)), accounts)
    grouped: dict[str, list[tuple[str, int, str]]] = {}
    for account, coll, position, data in conn.execute(query):
        grouped.setdefault(account, []).append((coll, position, data))
    return {account: _in_order(rows) for account, rows in grouped.items()}


@dataclass
class LineChanges:
    """What a save changes in an account's lines: rows that end, rows that start, and the
    account's lines after it (for its :mod:`line columns <kam.store.columnar>`)."""

    account: str
    lines: Lines
    ended: list[int] = field(default_factory=list)
    added: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.ended or self.added)


def line_changes(conn: Connection, account: str, new: Lines) -> LineChanges:
    """How to make ``new`` an account's lines, touching only what changed: a changed or moved
    line gets a new row (its old row ends), a removed line's row ends, an unchanged line is not
    touched."""
    old = {(coll, line_id): (row_id, position, data) for row_id, coll, line_id, position, data
           in conn.execute(select(lines.c.id, lines.c.collection, lines.c.line_id,
                                  lines.c.position, lines.c.data)
                           .where(lines.c.account == account, lines.c.removed_in.is_(None)))}
    out = LineChanges(account, new)
    for coll in LINE_COLLECTIONS:
        for position, (line_id, period, typed, data) in enumerate(new.get(coll, [])):
            was = old.pop((coll, line_id), None)
            if was is not None and was[1] == position and was[2] == data:
                continue
            if was is not None:
                out.ended.append(was[0])
            out.added.append({"account": account, "collection": coll, "line_id": line_id,
                              "position": position, "period": period, **typed, "data": data})
    out.ended += [row[0] for row in old.values()]
    return out


def write_lines(conn: Connection, changes: LineChanges, number: int) -> None:
    """Apply :func:`line_changes` as part of revision ``number``, and rewrite the account's line
    columns when its lines changed."""
    if not changes:
        return
    for i in range(0, len(changes.ended), 500):
        conn.execute(update(lines).where(lines.c.id.in_(changes.ended[i:i + 500]))
                     .values(removed_in=number))
    if changes.added:
        conn.execute(insert(lines), [{**row, "added_in": number, "removed_in": None}
                                     for row in changes.added])
    data = encode({coll: [{"period": period, **typed} for _, period, typed, _ in rows]
                   for coll, rows in changes.lines.items()})
    account = line_columns.c.account == changes.account
    if not conn.execute(update(line_columns).where(account).values(data=data)).rowcount:
        conn.execute(insert(line_columns).values(account=changes.account, data=data))


def line_frames(conn: Connection, accounts: Sequence[str] | None = None
                ) -> dict[str, pd.DataFrame]:
    """The current lines of every account (or of ``accounts``) as the frames of
    :class:`kam.model.Tables` (``revenue``, ``costs``, ``activities``, ``budgets``): rows in
    account order, then in each account's order, read from the accounts' line columns."""
    query = _of_accounts(select(line_columns.c.account, line_columns.c.data),
                         accounts, line_columns.c.account)
    rows = conn.execute(query).all()
    if accounts is not None and len(accounts) > 500:
        wanted = set(accounts)
        rows = [row for row in rows if row[0] in wanted]
    # Sorted here, not by the database, whose collation may order names otherwise.
    return decode_frames(sorted(rows, key=lambda row: row[0]))
