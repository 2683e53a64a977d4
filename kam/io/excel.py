"""The portfolio as an Excel workbook: one sheet per table of :func:`kam.model.tables`.

Each sheet has a bold header row on the kam blue, frozen so it stays visible while scrolling, an
auto-filter, and column widths fitted to the content. Lists (roles, participants, risks...) are
written as text, ``"power, entry"``; dates as Excel dates; empty values as empty cells.

Text is always written as text, never as a formula: a name such as
``=HYPERLINK("http://...?"&A1, "open")`` would otherwise run when the workbook is opened (formula
injection). Text that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return, also after blanks) is a text cell with Excel's quote prefix:
shown as typed, with ``'`` in the formula bar, and still text after an edit. Control characters,
which a workbook cannot hold, are written as their escapes (``\x1b``); text longer than a cell
holds (32,767 characters) is cut, saying so; infinite numbers are written as the text ``inf``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import fields
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..model import Dossier, Tables, tables
from ..store import Workspace

__all__ = ["export_excel"]

_HEADER_FILL = PatternFill("solid", start_color="1F5F8B")  # PALETTE[0] of kam.figures.style
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_MAX_WIDTH = 60
_DATE_FORMAT = "yyyy-mm-dd"
_MAX_TEXT = 32_767  # characters in one Excel cell
# Text a spreadsheet would run as a formula (OWASP "CSV injection"), with the full-width forms.
_FORMULA = re.compile(r"[\s\x00-\x1f]*[=+\-@\uff1d\uff0b\uff0d\uff20]|[\t\r]")
_BAD_SHEET_TITLE = re.compile(r"[\\/*?:\[\]]")


def _text(value: str) -> str:
    """Text a workbook can hold: control characters as escapes, cut to what a cell holds."""
    if ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    if len(value) > _MAX_TEXT:
        note = f"... [cut: {len(value):,} characters]"
        value = value[:_MAX_TEXT - len(note)] + note
    return value


def _cell(value: Any) -> Any:
    """A value openpyxl writes as it should look in Excel."""
    if value is None:
        return None
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list | tuple | set):
        return _text(", ".join(str(_cell(v)) for v in value)) or None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)  # Excel has no infinity
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        return _cell(value.item())
    return value


def _text_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime | date):
        return 10
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    return max((len(line) for line in str(value).splitlines()), default=0)


def _append(sheet: Worksheet, row: int, values: list[Any]) -> None:
    """Append ``values`` as row number ``row``; text that looks like a formula stays text,
    visibly (quote prefix)."""
    sheet.append(values)
    for i, v in enumerate(values):
        if isinstance(v, str) and _FORMULA.match(v):
            cell = sheet.cell(row, i + 1)
            cell.data_type = "s"  # openpyxl made "=..." a formula
            cell.quotePrefix = True


def _write_sheet(book: Workbook, name: str, frame: pd.DataFrame) -> None:
    sheet = book.create_sheet(title=_BAD_SHEET_TITLE.sub("_", name)[:31] or "sheet")
    columns = [_text(str(c)) for c in frame.columns]
    _append(sheet, 1, list(columns))
    widths = [len(c) for c in columns]
    date_cols: set[int] = set()
    for number, row in enumerate(frame.itertuples(index=False, name=None), start=2):
        values = [_cell(v) for v in row]
        _append(sheet, number, values)
        for i, v in enumerate(values):
            widths[i] = max(widths[i], _text_width(v))
            if isinstance(v, date):
                date_cols.add(i)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(width + 2, _MAX_WIDTH)
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    for i in date_cols:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
            cell.number_format = _DATE_FORMAT
    sheet.freeze_panes = "A2"
    if columns:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(frame) + 1, 1)}"


def export_excel(source: Tables | Workspace | Iterable[Dossier] | dict[str, pd.DataFrame],
                 path: str | os.PathLike[str]) -> Path:
    """Write the portfolio tables to an ``.xlsx`` workbook, one sheet per table.

    Parameters
    ----------
    source
        :class:`~kam.model.Tables`, a workspace (its newest revisions), dossiers, or any
        ``{sheet name: DataFrame}``.
    path
        The workbook to write (its folder is created if needed).

    Examples
    --------
    >>> import tempfile
    >>> from kam.model import Account, Dossier, RevenueLine
    >>> d = Dossier(account=Account(id="ACME", name="Acme", phone="1"),
    ...             revenue=[RevenueLine(period="2025-01", revenue=100.0)])
    >>> out = export_excel([d], Path(tempfile.mkdtemp()) / "portfolio.xlsx")
    >>> pd.read_excel(out, sheet_name="revenue")[["account_id", "revenue"]].values.tolist()
    [['ACME', 100]]
    """
    if isinstance(source, dict):
        sheets = dict(source)
    else:
        if isinstance(source, Workspace):
            source = source.tables()
        elif not isinstance(source, Tables):
            source = tables(source)
        sheets = {f.name: getattr(source, f.name) for f in fields(source)}
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.worksheets[0])
    for name, frame in sheets.items():
        _write_sheet(book, name, frame)
    book.save(target)
    return target
