"""Reading the CSV files of an export with clear errors: file, row, column and what is wrong.

Every cell is read as text (nothing is guessed); :func:`parse_dates` and :func:`parse_numbers`
convert the columns that need it and report every bad cell with its line number. Problems are
collected in a list so that one run reports all of them.
"""

from __future__ import annotations

import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from ..errors import ValidationProblem

__all__ = [
    "CsvTable",
    "nearest",
    "parse_dates",
    "parse_numbers",
    "read_csv",
    "slugify",
    "unique_slugs",
]


@dataclass
class CsvTable:
    """A CSV file read as text: ``frame`` has one str column per CSV column, ``""`` when empty."""

    path: Path
    frame: pd.DataFrame

    @property
    def name(self) -> str:
        return self.path.name

    def text(self, index: int, column: str) -> str:
        """The text of one cell (``""`` when empty)."""
        return str(self.frame.at[index, column])

    def line(self, index: int) -> int:
        """The line of the file that holds row ``index`` (the header is line 1)."""
        return index + 2


def read_csv(folder: Path, file: str, required: Iterable[str], problems: list[ValidationProblem],
             *, fix: str, optional: bool = False) -> CsvTable | None:
    """Read ``folder/file``; on a problem append it (naming the file) and return ``None``.

    ``required`` columns must all be there; ``fix`` tells the user where the expected columns
    are configured. An ``optional`` file that does not exist is ``None`` without a problem.
    """
    path = folder / file

    def bad(message: str, record: str = "file", field: str = "") -> None:
        problems.append(ValidationProblem(record=record, field=field, message=message,
                                          file=str(path)))

    if not path.is_file():
        if not optional:
            found = sorted(p.name for p in folder.glob("*.csv")) if folder.is_dir() else []
            where = f"folder {folder} does not exist" if not folder.is_dir() else (
                "files found: " + (", ".join(found) or "no CSV files"))
            bad(f"file not found ({where}); {fix}")
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = e.object[:e.start].count(b"\n") + 1
        bad(f"not UTF-8 text: line {line} has the byte 0x{e.object[e.start]:02x} (offset "
            f"{e.start}); export or save the file as UTF-8")
        return None
    need = list(dict.fromkeys(required))
    if not text.strip():
        bad("the file is empty; expected a header row with the columns " + ", ".join(need))
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            na_filter=False, skipinitialspace=True)
    except (pd.errors.ParserError, ValueError) as e:
        bad(f"not a readable CSV file: {str(e).strip()}")
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    found_cols = list(frame.columns)
    for col in need:
        if col not in frame.columns:
            bad(f"missing column {col!r}; columns found: {', '.join(found_cols)}; {fix}",
                record="header", field=col)
    if any(c not in frame.columns for c in need):
        return None
    for col in frame.columns:
        frame[col] = frame[col].astype(str).str.strip()
    return CsvTable(path=path, frame=frame.reset_index(drop=True))


Label = Callable[[int], str]


def parse_dates(table: CsvTable, column: str, problems: list[ValidationProblem],
                label: Label) -> pd.Series:
    """The column as :class:`datetime.date` (``None`` where empty); a cell that is not a date
    written ``YYYY-MM-DD`` is a problem naming its row."""
    raw = table.frame[column]
    parsed = pd.to_datetime(raw.where(raw != ""), format="%Y-%m-%d", errors="coerce")
    for i in raw.index[(raw != "") & parsed.isna()]:
        problems.append(ValidationProblem(
            record=label(i), field=column, file=str(table.path),
            message=f"{raw[i]!r} is not a date; write it as YYYY-MM-DD (e.g. 2017-03-01)"))
    out: list[date | None] = [None if pd.isna(v) else v.date() for v in parsed]
    return pd.Series(out, index=raw.index, dtype=object)


def parse_numbers(table: CsvTable, column: str, problems: list[ValidationProblem], label: Label,
                  *, integer: bool = False) -> pd.Series:
    """The column as numbers (``None`` where empty); a cell that is not a number, is negative,
    or (with ``integer``) has decimals is a problem naming its row."""
    raw = table.frame[column]
    values = pd.to_numeric(raw.where(raw != "").str.replace(",", "", regex=False),
                           errors="coerce")
    what = "a whole number" if integer else "a number"
    for i in raw.index[(raw != "") & values.isna()]:
        problems.append(ValidationProblem(record=label(i), field=column, file=str(table.path),
                                          message=f"{raw[i]!r} is not {what}"))
    for i in raw.index[values < 0]:
        problems.append(ValidationProblem(record=label(i), field=column, file=str(table.path),
                                          message=f"{raw[i]} is negative; it must be 0 or more"))
    if integer:
        for i in raw.index[values.notna() & (values % 1 != 0)]:
            problems.append(ValidationProblem(record=label(i), field=column, file=str(table.path),
                                              message=f"{raw[i]!r} is not {what}"))
    cast = int if integer else float
    out = [None if pd.isna(v) else cast(v) for v in values]
    return pd.Series(out, index=raw.index, dtype=object)


_NON_ID = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """A stable id from a name: ASCII lower case, words joined by ``-``, at most 64 characters.

    Examples
    --------
    >>> slugify("Gekko & Co"), slugify("Genco Pura Olive Oil Company"), slugify("Zoë's Café")
    ('gekko-co', 'genco-pura-olive-oil-company', 'zoe-s-cafe')
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NON_ID.sub("-", ascii_name.lower()).strip("-")[:64].strip("-")
    return slug or "x"


def unique_slugs(names: Iterable[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """An id per distinct name (first come keeps the plain slug, later ones get ``-2``, ``-3``)
    and the collisions found: ``{slug: [names sharing it]}``.

    Examples
    --------
    >>> unique_slugs(["Acme Corp", "ACME corp.", "Initech"])[0]
    {'Acme Corp': 'acme-corp', 'ACME corp.': 'acme-corp-2', 'Initech': 'initech'}
    """
    ids: dict[str, str] = {}
    used: set[str] = set()
    groups: dict[str, list[str]] = {}
    for name in names:
        if name in ids:
            continue
        base = slugify(name)
        groups.setdefault(base, []).append(name)
        slug, n = base, 1
        while slug in used:
            n += 1
            slug = f"{base[:60]}-{n}"
        used.add(slug)
        ids[name] = slug
    return ids, {k: v for k, v in groups.items() if len(v) > 1}


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def nearest(value: str, candidates: Iterable[str], cutoff: float = 0.8) -> str | None:
    """The candidate ``value`` was most likely meant to be: equal once case, blanks and
    punctuation are ignored, else the closest spelling (``None`` if nothing is close).

    Examples
    --------
    >>> nearest("GTXPro", ["GTX Basic", "GTX Pro", "MG Special"])
    'GTX Pro'
    >>> nearest("technolgy", ["technology", "telecommunications"])
    'technology'
    >>> nearest("retail", ["medical"]) is None
    True
    """
    pool = [c for c in candidates if c != value]
    for c in pool:
        if _key(c) == _key(value):
            return c
    close = difflib.get_close_matches(value.casefold(), [c.casefold() for c in pool], n=1,
                                      cutoff=cutoff)
    if not close:
        return None
    return next(c for c in pool if c.casefold() == close[0])
