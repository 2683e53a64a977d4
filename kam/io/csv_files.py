"""Reading the CSV files of an export with clear errors: file, row, column and what is wrong.

Every cell is read as text (nothing is guessed); :func:`parse_dates` and :func:`parse_numbers`
convert the columns that need it and report every bad cell with its line number. Problems are
collected in a list so that one run reports all of them.

:func:`read_export_csv` reads the files of real ERP and shop exports, as a :class:`CsvFormat`
says they are written (delimiter, decimal mark, thousands separator, missing-value markers such
as ``NULL``, date format), and keeps a record of what it met on the way: a byte-order mark, rows
with more fields than the header (joined back only into the column the caller names, and only
where the row shows the delimiter stood there), markers read as missing, hex blobs. A quote that
is not closed is refused, naming the line where it opened. :func:`parse_amounts` and
:func:`parse_datetimes` convert its cells.
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
from ..model.base import MAX_AMOUNT, bound_message, short_repr

__all__ = [
    "CsvFormat",
    "CsvTable",
    "is_hex_blob",
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


def _not_found(folder: Path, fix: str) -> str:
    """The message for a file missing from ``folder``: what the folder holds, and ``fix``."""
    found = sorted(p.name for p in folder.glob("*.csv")) if folder.is_dir() else []
    where = f"folder {folder} does not exist" if not folder.is_dir() else (
        "files found: " + (", ".join(found) or "no CSV files"))
    return f"file not found ({where}); {fix}"


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
            bad(_not_found(folder, fix))
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
_HEX_PREFIXED = re.compile(r"0[xX][0-9A-Fa-f]{64,}")
_HEX_BYTES = re.compile(r"(?:[0-9A-Fa-f]{2}){64,}")
# How image and document files start (JPEG, PNG, GIF, BMP, TIFF, an Access OLE object, an OLE
# compound file, PDF, ZIP): hex digits starting so, without a 0x, are still a file.
_FILE_SIGNATURES = ("FFD8FF", "89504E47", "47494638", "424D", "49492A00", "4D4D002A", "151C2F",
                    "D0CF11E0", "25504446", "504B0304")
_SIGNED_BLOB = 128  # hex digits (64 bytes): the smallest file that starts with a signature
_LONG_BLOB = 512  # hex digits (256 bytes): no text is this many hex digits and nothing else
_BREAK = re.compile(r"\r\n|\r|\n")


def is_hex_blob(cell: str) -> bool:
    """Whether ``cell`` can only be binary data written as hex digits (a photo exported as
    ``0x151C2F...``).

    A blob is ``0x`` followed by 64 or more hex digits; or, without the ``0x``, whole bytes of
    hex digits that start as an image or document file does (128 or more digits) or are too
    many to be anything else (512 or more). Shorter runs of hex digits are text or numbers: a
    name such as ``DEADBEEF`` x 8, a hash, a long number.

    Examples
    --------
    >>> is_hex_blob("0x151C2F00" + "FF" * 40)
    True
    >>> is_hex_blob("89504E47" + "0D0A1A0A" * 20)  # a PNG image written without the 0x
    True
    >>> is_hex_blob("DEADBEEF" * 8), is_hex_blob("1" * 64), is_hex_blob("ab" * 100)
    (False, False, False)
    """
    if len(cell) < 64:
        return False
    if cell[:2] in ("0x", "0X"):
        return _HEX_PREFIXED.fullmatch(cell) is not None
    if _HEX_BYTES.fullmatch(cell) is None:
        return False
    return len(cell) >= _LONG_BLOB or (
        len(cell) >= _SIGNED_BLOB and cell.upper().startswith(_FILE_SIGNATURES))


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


def _quote_trouble(lines: list[str], first: int, delimiter: str) -> tuple[int, int | None]:
    """Read the row starting on line ``first`` (1-based) of ``lines`` as the csv module does:
    the line where its last quoted value opened, and the line where a quote ends that value
    with more text after it (``None``: the value is never closed)."""
    at_start, quoted, opened = True, False, first
    for n, text in enumerate(lines[first - 1:], start=first):
        i = 0
        while i < len(text):
            c = text[i]
            if quoted:
                if c == '"':
                    if text.startswith('"', i + 1):
                        i += 2
                        continue
                    if text[i + 1:i + 2] not in (delimiter, "\r", "\n", ""):
                        return opened, n
                    quoted = False
            elif c == '"' and at_start:
                quoted, opened, at_start = True, n, False
            elif c == delimiter:
                at_start = True
            elif c in "\r\n":
                return opened, n  # the row ended: the trouble is on its last line
            else:
                at_start = False
            i += 1
    return opened, None


def _unclosed(text: str, first: int, delimiter: str, error: csv.Error) -> tuple[int, str]:
    """The line and the message for a row the csv module could not read."""
    lines = io.StringIO(text, newline="").readlines()
    opened, closed = _quote_trouble(lines, first, delimiter)
    twice = 'a quote inside a quoted value is written twice: ""'
    if closed is None:
        return opened, (f"not a readable CSV file: a quote opens a value here and is never "
                        f"closed, so the rest of the file (lines {opened}-{len(lines)}) would be "
                        f"read into that one value; close the quote in the export ({twice})")
    if closed == opened and "expected after" in str(error):
        return opened, (f"not a readable CSV file: a quoted value is followed by more text "
                        f"before the next delimiter {delimiter!r}; quote the whole value in the "
                        f"export ({twice})")
    if "expected after" in str(error):
        return opened, (f"not a readable CSV file: a quote opens a value here and is not closed "
                        f"on this line: the value runs to line {closed}, where a quote is "
                        f"followed by more text; close the quote in the export ({twice})")
    return opened, f"not a readable CSV file: {error}"


def _broken_span(fields: list[str], first: int, width: int,
                 delimiter: str) -> tuple[int, str] | None:
    """For a row whose quoted values hold line breaks: the line and the message when it looks
    like a quote left open that read the rows after it into one value (the value holds as many
    delimiters as a whole row, or the row has the wrong number of fields); else ``None``."""
    breaks = 0
    for value in fields:
        n = len(_BREAK.findall(value))
        if not n:
            continue
        start, end = first + breaks, first + breaks + n
        held = value.count(delimiter)
        if width >= 3 and held >= width - 1:
            return start, (f"not a readable CSV file: a quote opens a value here that runs to "
                           f"line {end} and holds {held} delimiters {delimiter!r}, as many as a "
                           "whole row: the quote is most likely not closed where it should be, "
                           "and the rows after it were read into the value; close the quote in "
                           "the export")
        if len(fields) != width:
            return start, (f"not a readable CSV file: a quote opens a value here that runs to "
                           f"line {end}, and the row then has {len(fields)} fields where the "
                           f"header has {width}: a quote not closed where it should be, or a "
                           "row cut short; fix it in the export")
        breaks += n
    return None


def _misplaced(fields: list[str], header: list[str], j: int, k: int) -> str | None:
    """Why the ``k`` surplus fields of a row cannot be joined back into column ``j`` (``None``:
    they can). Text after a delimiter in a value starts with a blank (``12, rue des
    Bouchers``): the fields right after column ``j``, and only they, must start with one."""
    blank = [i for i, f in enumerate(fields) if f[:1].isspace() and f.strip()]
    joined = list(range(j + 1, j + k + 1))
    if blank == joined:
        return None
    others = [i for i in blank if i not in joined]
    if others:
        i = others[0]
        where = (f"so the delimiter most likely stands in {header[i - 1]}" if 1 <= i <= j
                 else f"away from {header[j]}")
        return (f"{fields[i][:40]!r} (field {i + 1}) starts with a blank, as the text after a "
                f"delimiter in a value does, {where}")
    if not blank:
        return ("no field of the row starts with a blank, as the text after a delimiter in a "
                "value does ('12, rue des Bouchers')")
    i = next(i for i in joined if i not in blank)
    return (f"{fields[i].strip()!r} (field {i + 1}), which would be joined into {header[j]}, "
            "does not start with a blank as the text after a delimiter in a value does")


def read_export_csv(folder: Path, file: str, required: Iterable[str],
                    problems: list[ValidationProblem], *, fix: str, fmt: CsvFormat,
                    overflow_column: str | None = None, overflow_fix: str = "",
                    optional: bool = False) -> CsvTable | None:
    """Read ``folder/file`` of an ERP or shop export as ``fmt`` says it is written.

    Like :func:`read_csv` (a missing file or column, a file that is not UTF-8 or is empty is a
    problem naming the file; ``None`` is returned), and besides:

    - a byte-order mark (UTF-8 or UTF-16) is read and recorded in :attr:`CsvTable.bom`;
    - a quote that is not closed is a problem naming the line where it opened: a value never
      closed (it would run to the end of the file), a quoted value followed by more text, or a
      quoted value over several lines that holds as many delimiters as a whole row or leaves
      the row with the wrong number of fields (the rows after the quote were read into it). A
      quoted value that spans lines (a two-line address) is read as it is;
    - a row with more fields than the header (a delimiter standing unquoted in a value) is
      joined back into ``overflow_column`` -- the surplus fields and the delimiter between them
      become part of its value -- and recorded in :attr:`CsvTable.overflow`, when the row shows
      that the delimiter stood there: the surplus fields right after that column, and only
      they, start with a blank (``12, rue des Bouchers``). Otherwise, and without
      ``overflow_column``, the row is a problem naming the line (``overflow_fix`` says how to
      fix it). A row with fewer fields than the header is always a problem;
    - cells reading one of ``fmt.missing`` are read as empty and recorded in
      :attr:`CsvTable.markers`;
    - hex blobs (see :func:`is_hex_blob`) are recorded in :attr:`CsvTable.blobs`, and kept:
      the caller decides.

    Lines are counted in the file (a quoted value spanning lines moves the next rows down).
    """
    path = folder / file

    def bad(message: str, record: str = "file", column: str = "") -> None:
        problems.append(ValidationProblem(record=record, field=column, message=message,
                                          file=str(path)))

    if not path.is_file():
        if not optional:
            bad(_not_found(folder, fix))
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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
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
            if last > first:  # a quoted value holds line breaks
                broken = _broken_span(fields, first, width, delimiter)
                if broken is not None:
                    bad(broken[1], record=f"line {broken[0]}")
                    continue
            if n != width:
                shown = delimiter.join(fields)
                shown = shown if len(shown) <= 80 else shown[:77] + "..."
            if n > width and overflow_column in header:
                j, k = header.index(overflow_column), n - width
                why = _misplaced(fields, header, j, k)
                if why is not None:
                    bad(f"{n} fields where the header has {width} ({shown!r}): a delimiter "
                        f"{delimiter!r} stands unquoted in a value, and the row does not show "
                        f"that it stood in {overflow_column} (the column the mapping joins "
                        f"surplus fields into): {why}; quote that value in the export",
                        record=f"line {first}")
                    continue
                value = delimiter.join(fields[j:j + k + 1])
                overflow.append({"line": first, "column": overflow_column, "surplus": k,
                                 "found": " | ".join(f.strip() for f in fields[j:j + k + 1]),
                                 "value": value.strip()})
                fields = [*fields[:j], value, *fields[j + k + 1:]]
            elif n != width:
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
                elif len(cell) >= 64 and is_hex_blob(cell):
                    blobs.append({"index": len(rows), "line": first, "column": header[j],
                                  "length": len(cell)})
            rows.append(cells)
            lines.append(first)
    except csv.Error as e:
        line, message = _unclosed(text, last + 1, delimiter, e)
        bad(message, record=f"line {line}")
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
    such a number, is beyond the largest figure a record may hold (``1e15``, see
    :data:`kam.model.base.MAX_AMOUNT`; ``1e400`` too), is negative or (with ``integer``) has
    decimals is a problem naming its line, once.

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
                                          message=f"{short_repr(raw[i])} is not {what} {style}"))
    beyond = values.abs() > MAX_AMOUNT  # also 1e400, read as infinite
    for i in raw.index[beyond]:
        problems.append(ValidationProblem(record=label(i), field=column, file=str(table.path),
                                          message=str(bound_message(MAX_AMOUNT,
                                                                    short_repr(raw[i])))))
    values = values.where(~beyond)
    for i in raw.index[values < 0]:
        problems.append(ValidationProblem(record=label(i), field=column, file=str(table.path),
                                          message=f"{raw[i]} is negative; it must be 0 or more"))
    if integer:
        for i in raw.index[values.notna() & (values % 1 != 0)]:
            problems.append(ValidationProblem(record=label(i), field=column, file=str(table.path),
                                              message=f"{short_repr(raw[i])} is not {what}"))
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
            message=f"{short_repr(raw[i])} is not a date written as {fmt.date_format!r} "
                    f"(e.g. {example}, optionally followed by a time); fix the cell, or "
                    "date_format in the mapping"))
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
