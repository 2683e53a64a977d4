"""Reading the CSV files of an export with clear errors: file, row, column and what is wrong.

Every cell is read as text (nothing is guessed); :func:`parse_dates` and :func:`parse_numbers`
convert the columns that need it and report every bad cell with its line number. Problems are
collected in a list so that one run reports all of them.

:func:`read_export_csv` reads the files of real ERP and shop exports, as a :class:`CsvFormat`
says they are written (delimiter, decimal mark, thousands separator, missing-value markers such
as ``NULL``, date format), and keeps a record of what it met on the way: a byte-order mark, rows
with more fields than the header (joined back only into the column the caller names), markers
read as missing, hex blobs. :func:`parse_amounts` and :func:`parse_datetimes` convert its cells.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from ..errors import ValidationProblem

__all__ = [
    "CsvFormat",
    "CsvTable",
    "nearest",
    "number_styles",
    "parse_amounts",
    "parse_dates",
    "parse_datetimes",
    "parse_numbers",
    "read_csv",
    "read_export_csv",
    "slugify",
    "unique_slugs",
]


def _frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


@dataclass
class CsvTable:
    """A CSV file read as text: ``frame`` has one str column per CSV column, ``""`` when empty.

    Tables read by :func:`read_export_csv` also carry what reading met: ``lines`` (the file line
    each row starts on, when a quoted value spans lines), ``bom`` (``"UTF-8"`` or ``"UTF-16"``
    when the file starts with a byte-order mark), the ``delimiter``, ``overflow`` (rows with
    more fields than the header: ``line``, ``column``, ``surplus``, ``found``, ``value``),
    ``markers`` (missing-value markers read as empty: ``line``, ``column``, ``value``) and
    ``blobs`` (hex blobs: ``index``, ``line``, ``column``, ``length``).
    """

    path: Path
    frame: pd.DataFrame
    lines: list[int] | None = None
    bom: str | None = None
    delimiter: str = ","
    overflow: pd.DataFrame = field(
        default_factory=lambda: _frame(["line", "column", "surplus", "found", "value"]))
    markers: pd.DataFrame = field(default_factory=lambda: _frame(["line", "column", "value"]))
    blobs: pd.DataFrame = field(
        default_factory=lambda: _frame(["index", "line", "column", "length"]))

    @property
    def name(self) -> str:
        return self.path.name

    def text(self, index: int, column: str) -> str:
        """The text of one cell (``""`` when empty)."""
        return str(self.frame.at[index, column])

    def line(self, index: int) -> int:
        """The line of the file that holds row ``index`` (the header is line 1)."""
        return self.lines[index] if self.lines is not None else index + 2


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


# -- exports of ERP systems and shops ---------------------------------------------------------
@dataclass(frozen=True)
class CsvFormat:
    """How the files of an export are written.

    ``delimiter``: ``","``, ``";"``, a tab, ``"|"``, or ``"auto"`` (the one the header line
    uses most). ``decimal`` and ``thousands``: the decimal mark and the thousands separator of
    numbers (European Excel: ``","`` and ``"."``; ``thousands=""``: none allowed). ``missing``:
    cell texts that mean "no value" (``""`` always does). ``date_format``: the date part of a
    date cell as :func:`~datetime.datetime.strptime` writes it; a time of day may follow.
    """

    delimiter: str = "auto"
    decimal: str = "."
    thousands: str = ""
    missing: tuple[str, ...] = ("",)
    date_format: str = "%Y-%m-%d"


_DELIMITERS = (",", ";", "\t", "|")
_HEX_BLOB = re.compile(r"(?:0[xX])?[0-9A-Fa-f]{64,}")


def _sniff(header: str) -> str:
    """The delimiter the header line uses most (``","`` if it uses none)."""
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _decode(raw: bytes) -> tuple[str, str | None]:
    """The text of a file and the byte-order mark it started with (``UnicodeDecodeError`` if
    it is not UTF-8 / UTF-16)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8):].decode("utf-8"), "UTF-8"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "UTF-16"
    return raw.decode("utf-8"), None


def read_export_csv(folder: Path, file: str, required: Iterable[str],
                    problems: list[ValidationProblem], *, fix: str, fmt: CsvFormat,
                    overflow_column: str | None = None, overflow_fix: str = "",
                    optional: bool = False) -> CsvTable | None:
    """Read ``folder/file`` of an ERP or shop export as ``fmt`` says it is written.

    Like :func:`read_csv` (a missing file or column, a file that is not UTF-8 or is empty is a
    problem naming the file; ``None`` is returned), and besides:

    - a byte-order mark (UTF-8 or UTF-16) is read and recorded in :attr:`CsvTable.bom`;
    - a row with more fields than the header (a delimiter standing unquoted in a value) is
      joined back into ``overflow_column`` -- the surplus fields and the delimiter between them
      become part of its value -- and recorded in :attr:`CsvTable.overflow`; without
      ``overflow_column`` it is a problem naming the line (``overflow_fix`` says how to fix it).
      A row with fewer fields than the header is always a problem;
    - cells reading one of ``fmt.missing`` are read as empty and recorded in
      :attr:`CsvTable.markers`;
    - hex blobs (64 or more hex digits, e.g. a photo) are recorded in :attr:`CsvTable.blobs`,
      and kept: the caller decides.

    Lines are counted in the file (a quoted value spanning lines moves the next rows down).
    """
    path = folder / file

    def bad(message: str, record: str = "file", column: str = "") -> None:
        problems.append(ValidationProblem(record=record, field=column, message=message,
                                          file=str(path)))

    if not path.is_file():
        if not optional:
            found = sorted(p.name for p in folder.glob("*.csv")) if folder.is_dir() else []
            where = f"folder {folder} does not exist" if not folder.is_dir() else (
                "files found: " + (", ".join(found) or "no CSV files"))
            bad(f"file not found ({where}); {fix}")
        return None
    try:
        text, bom = _decode(path.read_bytes())
    except UnicodeDecodeError as e:
        line = e.object[:e.start].count(b"\n") + 1
        bad(f"not UTF-8 text: line {line} has the byte 0x{e.object[e.start]:02x} (offset "
            f"{e.start}); export or save the file as UTF-8")
        return None
    need = list(dict.fromkeys(required))
    if not text.strip():
        bad("the file is empty; expected a header row with the columns " + ", ".join(need))
        return None
    delimiter = _sniff(text.split("\n", 1)[0]) if fmt.delimiter == "auto" else fmt.delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    overflow: list[dict[str, object]] = []
    markers = {m for m in fmt.missing if m != ""}
    found_markers: list[dict[str, object]] = []
    blobs: list[dict[str, object]] = []
    last = 0
    try:
        for fields in reader:
            first, last = last + 1, reader.line_num
            if not any(f.strip() for f in fields):
                continue  # a blank line holds no data
            if header is None:
                header = [f.strip() for f in fields]
                continue
            n, width = len(fields), len(header)
            if n > width and overflow_column in header:
                j, k = header.index(overflow_column), n - width
                value = delimiter.join(fields[j:j + k + 1])
                overflow.append({"line": first, "column": overflow_column, "surplus": k,
                                 "found": " | ".join(f.strip() for f in fields[j:j + k + 1]),
                                 "value": value.strip()})
                fields = [*fields[:j], value, *fields[j + k + 1:]]
            elif n != width:
                shown = delimiter.join(fields)
                shown = shown if len(shown) <= 80 else shown[:77] + "..."
                why = (f"a delimiter {delimiter!r} stands unquoted in a value; quote that value "
                       f"in the export{overflow_fix}" if n > width else
                       "the row is cut short; fix it in the export")
                bad(f"{n} fields where the header has {width} ({shown!r}): {why}",
                    record=f"line {first}")
                continue
            cells = [f.strip() for f in fields]
            for j, cell in enumerate(cells):
                if cell in markers:
                    found_markers.append({"line": first, "column": header[j], "value": cell})
                    cells[j] = ""
                elif len(cell) >= 64 and _HEX_BLOB.fullmatch(cell):
                    blobs.append({"index": len(rows), "line": first, "column": header[j],
                                  "length": len(cell)})
            rows.append(cells)
            lines.append(first)
    except csv.Error as e:
        bad(f"not a readable CSV file: line {reader.line_num}: {e}")
        return None
    if header is None:
        bad("the file is empty; expected a header row with the columns " + ", ".join(need))
        return None
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        bad(f"the header names a column twice: {', '.join(twice)}; rename one in the export",
            record="header")
        return None
    for col in need:
        if col not in header:
            bad(f"missing column {col!r}; columns found: {', '.join(header)}; {fix}",
                record="header", column=col)
    if any(c not in header for c in need):
        return None
    frame = pd.DataFrame(rows, columns=header, dtype=object) if rows else _frame(header)
    table = CsvTable(path=path, frame=frame, lines=lines, bom=bom, delimiter=delimiter)
    for name, records in (("overflow", overflow), ("markers", found_markers),
                          ("blobs", blobs)):
        if records:
            setattr(table, name, pd.DataFrame(records, dtype=object))
    return table


def _number_pattern(fmt: CsvFormat) -> re.Pattern[str]:
    d = re.escape(fmt.decimal)
    whole = r"\d+"
    if fmt.thousands:
        whole = rf"(?:\d+|\d{{1,3}}(?:{re.escape(fmt.thousands)}\d{{3}})+)"
    return re.compile(rf"[+-]?(?:{whole}(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?")


def number_styles(raw: pd.Series, fmt: CsvFormat) -> tuple[pd.Series, pd.Series]:
    """Which cells of ``raw`` write a thousands separator, and which a decimal comma.

    Examples
    --------
    >>> grouped, comma = number_styles(pd.Series(["1.234,50", "0,05", "7"]),
    ...                                CsvFormat(decimal=",", thousands="."))
    >>> grouped.tolist(), comma.tolist()
    ([True, False, False], [True, True, False])
    """
    text = raw.astype(str)
    no = pd.Series(False, index=raw.index)
    grouped = (text.str.contains(rf"\d{re.escape(fmt.thousands)}\d{{3}}", regex=True)
               if fmt.thousands else no)
    comma = text.str.contains(",", regex=False) if fmt.decimal == "," else no
    return grouped.astype(bool), comma.astype(bool)


def parse_amounts(table: CsvTable, column: str, problems: list[ValidationProblem], label: Label,
                  fmt: CsvFormat, *, integer: bool = False) -> pd.Series:
    """The column as numbers written as ``fmt`` says (``None`` where empty): a cell that is not
    such a number, is negative or (with ``integer``) has decimals is a problem naming its line.

    Examples
    --------
    >>> t = CsvTable(Path("x.csv"), pd.DataFrame({"p": ["1.234,50", "0,05", "", "12.5"]}))
    >>> bad: list[ValidationProblem] = []
    >>> parse_amounts(t, "p", bad, str, CsvFormat(decimal=",", thousands=".")).tolist()
    [1234.5, 0.05, None, None]
    >>> print(bad[0].message)
    '12.5' is not a number written with ',' as decimal mark and '.' between thousands
    """
    raw = table.frame[column].astype(str)
    pattern = _number_pattern(fmt)
    ok = raw.str.fullmatch(pattern.pattern) & (raw != "")
    text = raw.where(ok, "")
    if fmt.thousands:
        text = text.str.replace(fmt.thousands, "", regex=False)
    if fmt.decimal != ".":
        text = text.str.replace(fmt.decimal, ".", regex=False)
    values = pd.to_numeric(text.where(ok), errors="coerce")
    what = "a whole number" if integer else "a number"
    style = f"written with {fmt.decimal!r} as decimal mark" + (
        f" and {fmt.thousands!r} between thousands" if fmt.thousands else
        " and no thousands separator")
    for i in raw.index[(raw != "") & values.isna()]:
        problems.append(ValidationProblem(record=label(i), field=column, file=str(table.path),
                                          message=f"{raw[i]!r} is not {what} {style}"))
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


_DATETIME = re.compile(r"(?P<date>.+?)(?:[ T](?P<time>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?))?")


def parse_datetimes(table: CsvTable, column: str, problems: list[ValidationProblem],
                    label: Label, fmt: CsvFormat) -> tuple[pd.Series, pd.Series]:
    """The column as :class:`datetime.date` (``None`` where empty) and whether each cell also
    wrote a time of day (``1996-07-04 00:00:00.000``: the date is kept, the time is not). A
    cell whose date part is not written as ``fmt.date_format`` is a problem naming its line.

    Examples
    --------
    >>> t = CsvTable(Path("x.csv"), pd.DataFrame({"d": ["1996-07-04 00:00:00.000", ""]}))
    >>> dates, timed = parse_datetimes(t, "d", [], str, CsvFormat())
    >>> dates.tolist(), timed.tolist()
    ([datetime.date(1996, 7, 4), None], [True, False])
    """
    raw = table.frame[column].astype(str)
    parts = raw.str.extract(_DATETIME.pattern + "$")
    day = parts["date"].where(raw != "")
    parsed = pd.to_datetime(day, format=fmt.date_format, errors="coerce")
    example = date(2017, 3, 1).strftime(fmt.date_format)
    for i in raw.index[(raw != "") & parsed.isna()]:
        problems.append(ValidationProblem(
            record=label(i), field=column, file=str(table.path),
            message=f"{raw[i]!r} is not a date written as {fmt.date_format!r} (e.g. {example}, "
                    "optionally followed by a time); fix the cell, or date_format in the "
                    "mapping"))
    out: list[date | None] = [None if pd.isna(v) else v.date() for v in parsed]
    timed = parts["time"].notna() & parsed.notna()
    return pd.Series(out, index=raw.index, dtype=object), timed.astype(bool)


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
