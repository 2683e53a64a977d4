"""An account's current transactional lines as columns: what the portfolio tables read.

Reading a million line rows through a database driver costs a few microseconds a row, so the
portfolio tables read instead one row of ``line_columns`` per account (see
:mod:`kam.store.schema`): the figures of its current lines, column by column, written in the
same transaction as the lines whenever they change. This module encodes those columns and turns
the columns of many accounts into the line frames of :class:`kam.model.Tables`.

The encoding is small and plain: a little-endian ``uint32`` length, a JSON header of numbers,
then the data. Per collection (in :data:`COLUMNS` order) the header holds the number of lines
and, per text column, the size and number of its distinct values and where among them "none" is;
the body holds per text column its distinct values as UTF-8 text separated by ``\\x1f`` (a
control character kam's text never holds) and the ``uint32`` codes of the lines into them, and
per number column the ``float64`` values (``NaN`` for none). Decoding many accounts joins each
column's parts and splits its text once. Nothing in it is executable: a damaged row is an
error, never code.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .schema import LINE_COLLECTIONS

__all__ = ["COLUMNS", "FRAME_COLUMNS", "DamagedColumns", "decode_frames", "encode"]

FRAME_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "revenue": (("period", "period"), ("product", "label"), ("product_group", "grp"),
                ("revenue", "amount"), ("cogs", "cogs"), ("list_value", "list_value"),
                ("quantity", "quantity")),
    "costs": (("period", "period"), ("category", "label"), ("amount", "amount")),
    "activities": (("period", "period"), ("activity", "label"), ("count", "amount")),
    "budgets": (("period", "period"), ("category", "label"), ("amount", "amount")),
}
"""Per collection, the columns of its frame in :class:`kam.model.Tables` (after
``account_id``) and the line figure each is read from (see :func:`kam.store.lines.figures`)."""

class DamagedColumns(ValueError):
    """An account's stored line columns cannot be decoded."""


_TEXT = frozenset({"period", "label", "grp"})
COLUMNS = {coll: tuple(src for _, src in spec) for coll, spec in FRAME_COLUMNS.items()}
"""Per collection, the line figures kept as columns, in the order they are encoded."""

_IS_TEXT = {coll: tuple(src in _TEXT for src in cols) for coll, cols in COLUMNS.items()}
_LENGTH = struct.Struct("<I")
_CODE = np.dtype("<u4")
_SEP = "\x1f"


def _number(value: Any) -> float:
    # A figure that is not a number can only come from data written around kam's checks; the
    # column has no number for it (the dossier keeps the value as stored).
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return np.nan


def _text_of(value: Any) -> str:
    # Only data written around kam's checks can hold a figure that is not text, or the
    # separator; the column holds it as text, the separator shown as U+FFFD.
    return (value if isinstance(value, str) else str(value)).replace(_SEP, "\ufffd")


def encode(figures: Mapping[str, Sequence[Mapping[str, Any]]]) -> bytes:
    """The columns of an account's lines, given per collection as the lines' figures in order
    (``{"revenue": [{"period": ..., "label": ..., "amount": ...}, ...], ...}``)."""
    header: dict[str, Any] = {}
    body: list[bytes] = []
    for coll in LINE_COLLECTIONS:
        rows = figures.get(coll) or []
        if not rows:
            continue
        texts = []
        for src in COLUMNS[coll]:
            if src in _TEXT:
                index: dict[str | None, int] = {}
                codes = [index.setdefault(None if v is None else _text_of(v), len(index))
                         for v in (row.get(src) for row in rows)]
                values = list(index)
                text = _SEP.join("" if v is None else v for v in values).encode()
                texts.append([len(text), len(values), index.get(None, -1)])
                body += [text, np.asarray(codes, dtype=_CODE).tobytes()]
            else:
                body.append(np.asarray([_number(row.get(src)) for row in rows],
                                       dtype="<f8").tobytes())
        header[coll] = [len(rows), texts]
    head = json.dumps(header, separators=(",", ":")).encode()
    return _LENGTH.pack(len(head)) + head + b"".join(body)


def _parts(blob: bytes) -> dict[str, tuple[int, list[Any]]]:
    """Per collection, ``(number of lines, [per column in COLUMNS order: float64 bytes, or (text
    bytes, number of values, index of none, code bytes)])`` of one encoded row. The numbers of
    values and indexes of none are checked for many rows at once (:func:`_frame`)."""
    (size,) = _LENGTH.unpack_from(blob)
    header = json.loads(blob[_LENGTH.size:_LENGTH.size + size])
    offset = _LENGTH.size + size
    out = {}
    for coll in LINE_COLLECTIONS:
        if coll not in header:
            continue
        n, texts = header[coll]
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"{coll}: {n!r} lines")
        texts = iter(texts)
        columns: list[Any] = []
        for is_text in _IS_TEXT[coll]:
            if is_text:
                length, count, none = next(texts)
                middle = offset + length
                end = middle + n * 4
                columns.append((blob[offset:middle], count, none, blob[middle:end]))
            else:
                end = offset + n * 8
                columns.append(blob[offset:end])
            offset = end
        out[coll] = (n, columns)
    if offset != len(blob):
        raise ValueError(f"{len(blob)} bytes where the header says {offset}")
    return out


def decode_frames(rows: Iterable[tuple[str, bytes]]) -> dict[str, pd.DataFrame]:
    """The line frames of :class:`kam.model.Tables` (``revenue``, ``costs``, ``activities``,
    ``budgets``) from ``(account, encoded columns)`` rows, in the rows' order: each account's
    lines in its order, as ``kam.model.tables`` has them."""
    accounts: dict[str, list[str]] = {c: [] for c in LINE_COLLECTIONS}
    counts: dict[str, list[int]] = {c: [] for c in LINE_COLLECTIONS}
    parts: dict[str, list[list[Any]]] = {c: [] for c in LINE_COLLECTIONS}
    for account, blob in rows:
        try:
            decoded = _parts(bytes(blob))
        except (ValueError, KeyError, TypeError, StopIteration, struct.error) as e:
            raise DamagedColumns(f"the line columns of account {account!r} are damaged "
                                 f"({type(e).__name__}: {e})") from e
        for coll, (n, columns) in decoded.items():
            accounts[coll].append(account)
            counts[coll].append(n)
            parts[coll].append(columns)
    return {coll: _frame(coll, accounts[coll], counts[coll], parts[coll])
            for coll in LINE_COLLECTIONS}


def _frame(coll: str, accounts: list[str], counts: list[int], parts: list[list[Any]]
           ) -> pd.DataFrame:
    names = ["account_id", *(name for name, _ in FRAME_COLUMNS[coll])]
    if not parts:  # as kam.model.tables has it
        return pd.DataFrame(columns=names)
    n = np.asarray(counts, dtype=np.int64)
    columns: dict[str, Any] = {"account_id": _text(accounts, np.repeat(np.arange(len(n)), n))}
    for j, (name, src) in enumerate(FRAME_COLUMNS[coll]):
        if src in _TEXT:
            # All accounts' distinct values one after the other, split at once; each
            # account's codes shifted to its own.
            own = np.fromiter((p[j][1] for p in parts), dtype=np.int64, count=len(parts))
            nones = np.fromiter((p[j][2] for p in parts), dtype=np.int64, count=len(parts))
            try:
                values: list[Any] = b"\x1f".join(p[j][0] for p in parts).decode().split(_SEP)
            except UnicodeDecodeError:
                values = []
            wrong = (own < 1) | (nones < -1) | (nones >= own)
            if wrong.any() or len(values) != own.sum():
                which = _first_damaged(accounts, parts, j, wrong)
                raise DamagedColumns(f"the line columns of account {which!r} are damaged "
                                     f"({coll}.{name}: its values do not match their number)")
            shift = np.cumsum(own) - own
            for i in np.flatnonzero(nones >= 0):
                values[shift[i] + nones[i]] = None
            codes = np.frombuffer(b"".join(p[j][3] for p in parts), dtype=_CODE)
            beyond = np.flatnonzero(codes >= np.repeat(own, n))
            if len(beyond):
                which = accounts[int(np.searchsorted(np.cumsum(n), beyond[0], side="right"))]
                raise DamagedColumns(f"the line columns of account {which!r} are damaged "
                                     f"({coll}.{name}: a code beyond its values)")
            shifted = codes.astype(np.int64) + np.repeat(shift, n)
            none = all(v is None for v in values)
            column = _none(len(shifted)) if none else _text(values, shifted)
        else:
            column = np.frombuffer(b"".join(p[j] for p in parts), dtype="<f8")
            if np.isnan(column).all():
                column = _none(len(column))
        columns[name] = column
    return pd.DataFrame(columns)


def _first_damaged(accounts: list[str], parts: list[list[Any]], j: int, wrong: np.ndarray
                   ) -> str:
    """The first account whose text column ``j`` has a wrong number of values or index of none
    (``wrong``), or does not hold its number of values."""
    for i, (account, p) in enumerate(zip(accounts, parts, strict=True)):
        try:
            if wrong[i] or len(p[j][0].decode().split(_SEP)) != p[j][1]:
                return account
        except UnicodeDecodeError:
            return account
    return accounts[0]


def _text(values: list[Any], codes: np.ndarray) -> Any:
    """``values[codes]`` with the dtype pandas infers for these values (as for the records'
    column), inferred once on the distinct values instead of on every line."""
    return pd.Series(values).array.take(codes)


def _none(n: int) -> np.ndarray:
    """As kam.model.tables has it: a column of no values holds None, not NaN."""
    return np.full(n, None, dtype=object)
