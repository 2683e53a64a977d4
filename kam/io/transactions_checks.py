"""Reading the files of an ERP or shop export of orders, and checking what they hold.

:class:`_Reader` is one reading of one export: it reads the files the
:class:`~kam.io.transactions_mapping.TransactionsMapping` names, checks the text it reads for
control characters, converts numbers (finite, within the largest figure a record holds) and
dates cell by cell, and collects every bad cell as a problem (file, line, column) for
:class:`~kam.errors.ImportFailed`, as the value is read, so that no problem is first found in
the dossiers built from it. A customers file without customers is a problem too. Its checks
of the files (byte-order marks, delimiters, rows with too many fields, missing-value markers,
binary data, columns not imported) and of the values (times of day, decimal commas, thousands
separators), and :func:`_book`, the checks of the orders (dates after the day of the import,
shipped before ordered, ...) and their order lines, each add a row to the
:class:`~kam.io.report.ImportReport` quirks, also when they found nothing (a check of a column
the mapping leaves out is skipped), so the report shows what was looked at. Nothing here
changes a value except as the mapping asks (markers read as empty, rows joined back, binary
data left out), and each such change is listed under the report's corrections.

Used by :mod:`kam.io.transactions` (which runs the reading) and
:mod:`kam.io.transactions_build` (whose builders convert cells through the reader).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ValidationProblem
from ..model.base import TEXT_PATTERN, check_text
from ..model.cost_config import CostToServeConfig
from .crm_checks import check_unmapped_columns
from .csv_files import (
    CsvTable,
    number_styles,
    parse_amounts,
    parse_datetimes,
    read_export_csv,
)
from .report import ImportReport
from .saving import fail
from .transactions_mapping import TransactionsMapping

__all__ = [
    "Q_ABOVE_LIST",
    "Q_BLOB",
    "Q_BLOB_OUT",
    "Q_BOM",
    "Q_COMMA",
    "Q_DELIMITER",
    "Q_FUTURE",
    "Q_LATE",
    "Q_MARKERS",
    "Q_NO_COST",
    "Q_NO_FREIGHT",
    "Q_NO_LINES",
    "Q_NO_LIST",
    "Q_ORPHAN_LINES",
    "Q_OVERFLOW",
    "Q_SHIPPED_EARLY",
    "Q_THOUSANDS",
    "Q_TIME",
    "Q_UNKNOWN_CUSTOMER",
    "Q_UNKNOWN_REP",
    "Q_UNSHIPPED",
]

Label = Callable[[int], str]

Q_BOM = "files starting with a byte-order mark"
Q_DELIMITER = "files not delimited by commas"
Q_OVERFLOW = "rows with more fields than the header"
Q_MARKERS = "missing-value markers read as empty"
Q_BLOB_OUT = "binary data in columns not imported"
Q_BLOB = "binary data in imported text columns"
Q_TIME = "dates with a time of day"
Q_COMMA = "numbers with a decimal comma"
Q_THOUSANDS = "numbers with thousands separators"
Q_UNKNOWN_CUSTOMER = "orders of unknown customers"
Q_UNKNOWN_REP = "orders of reps not in the employees file"
Q_UNSHIPPED = "orders not shipped"
Q_LATE = "orders shipped after the required date"
Q_SHIPPED_EARLY = "orders shipped before they were ordered"
Q_FUTURE = "orders dated after the day of the import"
Q_NO_FREIGHT = "orders without freight"
Q_NO_LINES = "orders without order lines"
Q_ORPHAN_LINES = "order lines of orders not in the orders file"
Q_ABOVE_LIST = "order lines priced above the list price"
Q_NO_LIST = "order lines without a list price"
Q_NO_COST = "order lines without a unit cost"


def _lines_of(t: CsvTable, index: pd.Index, limit: int = 5) -> str:
    shown = ", ".join(str(t.line(i)) for i in index[:limit])
    return shown + (", ..." if len(index) > limit else "")


def _limit(values: list[str], n: int = 8) -> str:
    return ", ".join(values[:n]) + (", ..." if len(values) > n else "")


class _Reader:
    """One reading of one export: the tables, the problems found, the report being built."""

    def __init__(self, folder: Path, m: TransactionsMapping, cfg: CostToServeConfig,
                 today: date):
        self.folder, self.m, self.cfg, self.today = folder, m, cfg, today
        self.fmt = m.format.csv_format()
        self.problems: list[ValidationProblem] = []
        self.report = ImportReport(source=str(folder))
        self.styles: list[dict[str, Any]] = []
        self.timed: list[dict[str, Any]] = []
        self.corrections: list[dict[str, Any]] = []
        self.used: dict[str, set[str]] = {}
        self.typed: dict[str, set[str]] = {}
        self.left_out: dict[tuple[str, int, str], int] = {}  # (file, row, column) -> digits

    # -- reading ----------------------------------------------------------------------------
    def bad(self, t: CsvTable, record: str, column: str, message: str) -> None:
        self.problems.append(ValidationProblem(record, column, message, str(t.path)))

    def read(self) -> dict[str, CsvTable]:
        m = self.m
        sections: dict[str, Any] = {"customers": m.customers, "team": m.team,
                                    "products": m.products, "orders": m.orders,
                                    "order_lines": m.order_lines}
        fix = f"fix the file, or the mapping ({m.source or 'given in Python'})"
        tables: dict[str, CsvTable] = {}
        for name, sec in sections.items():
            if sec is None:
                continue
            need = [*sec.columns(), *([sec.overflow_column] if sec.overflow_column else [])]
            t = read_export_csv(
                self.folder, sec.file, need, self.problems, fix=fix, fmt=self.fmt,
                overflow_column=sec.overflow_column,
                overflow_fix=f", or name the column it belongs to as {name}.overflow_column "
                f"in the mapping ({m.source or 'given in Python'})")
            if t is not None:
                tables[name] = t
                self._text(name, sec, t)
        customers = tables.get("customers")
        if customers is not None and customers.frame.empty:
            self.bad(customers, "file", "", "no customer rows, only a header: an import saves "
                     "the accounts and the team together, never the team alone; export the "
                     "customers with the orders")
        if self.problems:
            raise fail(self.problems)
        self.used = {tables[n].name: set(s.columns()) for n, s in sections.items()
                     if s is not None}
        self.typed = {tables[n].name: set(s.typed_columns()) for n, s in sections.items()
                      if s is not None}
        return tables

    def _text(self, name: str, sec: Any, t: CsvTable) -> None:
        """Control characters in the text columns a section reads are problems naming the
        file, the line and the column (numbers, dates and ids are checked as they convert)."""
        what = {"customers": "customer", "team": "employee", "products": "product"}.get(
            name, "order")
        key = sec.order if name == "order_lines" else sec.id or sec.name
        typed = set(sec.typed_columns())
        for col in sec.columns():
            if col in typed or col not in t.frame.columns:
                continue
            values = t.frame[col]
            for i in values.index[~values.str.fullmatch(TEXT_PATTERN)]:
                try:
                    check_text(values[i])
                except ValueError as e:
                    self.bad(t, f"line {t.line(i)} ({what} {t.text(i, key)[:40]})", col, str(e))

    def file_quirks(self, tables: dict[str, CsvTable]) -> None:
        r, files = self.report, list(tables.values())
        r.add_quirk(Q_BOM, [f"{t.name} ({t.bom})" for t in files if t.bom],
                    "read without it (the mark is not part of the first column's name)")
        r.add_quirk(Q_DELIMITER, [f"{t.name}: {t.delimiter!r}" for t in files
                                  if t.delimiter != ","],
                    f"read with that delimiter (format.delimiter: {self.m.format.delimiter})")
        over = [t.overflow.assign(file=t.name) for t in files if not t.overflow.empty]
        frame = pd.concat(over, ignore_index=True) if over else None
        examples = [] if frame is None else [
            f"{x['file']} line {x['line']}: {x['surplus']} extra field"
            f"{'s' if x['surplus'] > 1 else ''} in {x['column']} -> {x['value']!r}"
            for x in _records(frame)]
        if frame is not None:
            for (file, col, found, value), g in frame.groupby(
                    ["file", "column", "found", "value"], sort=False):
                self.corrections.append({"file": file, "column": col, "found": found,
                                         "replaced_by": value, "rows": len(g)})
        r.add_quirk(Q_OVERFLOW, examples, "joined back into the column the mapping names as "
                    "overflow_column (the delimiter stood unquoted in its value); listed under "
                    "corrections", detail=frame)
        marks = [t.markers.assign(file=t.name) for t in files if not t.markers.empty]
        frame = pd.concat(marks, ignore_index=True) if marks else None
        examples = []
        if frame is not None:
            for (file, col, value), g in frame.groupby(["file", "column", "value"], sort=False):
                lines = _limit([str(x) for x in g["line"]], 5)
                examples.append(f"{file} {col}: {value!r} in {len(g)} rows (lines {lines})")
                self.corrections.append({"file": file, "column": col, "found": value,
                                         "replaced_by": "", "rows": len(g)})
        shown = ", ".join(repr(x) for x in self.m.format.missing if x)
        r.add_quirk(Q_MARKERS, examples, f"read as empty (format.missing: {shown})",
                    count=0 if frame is None else len(frame), detail=frame)
        self._blobs(tables)
        check_unmapped_columns(self.used, files, r)

    def _blobs(self, tables: dict[str, CsvTable]) -> None:
        kept_out: list[pd.DataFrame] = []
        mapped: list[pd.DataFrame] = []
        for t in tables.values():
            if t.blobs.empty:
                continue
            b = t.blobs.assign(file=t.name)
            b = b[~b["column"].isin(self.typed[t.name])]  # a number or id: a bad value
            inside = b["column"].isin(self.used[t.name])
            kept_out.append(b[~inside])
            mapped.append(b[inside])
            for x in _records(b[inside]):
                if self.m.format.binary_values == "omit":
                    t.frame.at[x["index"], x["column"]] = ""
                    self.left_out[(t.name, x["index"], x["column"])] = x["length"]
                    self.corrections.append({"file": t.name, "column": x["column"],
                                             "found": f"<{x['length']} hex digits>",
                                             "replaced_by": "", "rows": 1})
                else:
                    self.bad(t, f"line {x['line']}", str(x["column"]),
                             f"holds binary data ({x['length']} hex digits), not text; set "
                             "format.binary_values: omit in the mapping to leave such values "
                             "out, or fix the export")

        def quirk(name: str, parts: list[pd.DataFrame], action: str) -> None:
            frame = pd.concat(parts, ignore_index=True).drop(columns="index") if parts else None
            examples = [] if frame is None else [
                f"{file} {col}: {len(g)} values (lines {_limit([str(x) for x in g['line']], 5)};"
                f" {int(g['length'].max())} hex digits at most)"
                for (file, col), g in frame.groupby(["file", "column"], sort=False)]
            self.report.add_quirk(name, examples, action,
                                  count=0 if frame is None else len(frame), detail=frame)

        quirk(Q_BLOB_OUT, kept_out, "not imported (the column is not mapped)")
        quirk(Q_BLOB, mapped, "left out: the value is imported as empty (format.binary_values: "
              "omit); each one is listed under corrections" if self.m.format.binary_values
              == "omit" else "refused (format.binary_values: error)")

    # -- converting cells -------------------------------------------------------------------
    def num(self, t: CsvTable, col: str | None, label: Label, *,
            integer: bool = False) -> pd.Series:
        if col is None:
            return pd.Series(None, index=t.frame.index, dtype=object)
        values = parse_amounts(t, col, self.problems, label, self.fmt, integer=integer)
        grouped, comma = number_styles(t.frame[col], self.fmt)
        raw = t.frame[col]
        for kind, mask in (("thousands", grouped), ("comma", comma)):
            self.styles += [{"kind": kind, "file": t.name, "line": t.line(i), "column": col,
                             "value": v} for i, v in zip(raw.index[mask].tolist(),
                                                         raw[mask].tolist(), strict=True)]
        return values

    def date(self, t: CsvTable, col: str | None, label: Label) -> pd.Series:
        if col is None:
            return pd.Series(None, index=t.frame.index, dtype=object)
        dates, timed = parse_datetimes(t, col, self.problems, label, self.fmt)
        hit = t.frame[col][timed]
        self.timed += [{"file": t.name, "line": t.line(i), "column": col, "value": v}
                       for i, v in zip(hit.index.tolist(), hit.tolist(), strict=True)]
        return dates

    def emptied(self, t: CsvTable, i: int, columns: list[str]) -> str:
        """Why cells of row ``i`` read empty when binary data was left out of them (``""``
        otherwise): for a message saying that a value is empty."""
        held = [f"{self.left_out[(t.name, i, c)]} hex digits in {c}" for c in columns
                if (t.name, i, c) in self.left_out]
        if not held:
            return ""
        return (" (binary data was left out of it, as format.binary_values: omit asks: "
                f"{', '.join(held)}; fix the export)")

    def require(self, t: CsvTable, col: str, what: str) -> None:
        """Empty cells and duplicates in a key column are problems."""
        values = t.frame[col]
        for i in values.index[values == ""]:
            self.bad(t, f"line {t.line(i)}", col, f"the {what} is empty")
        dup = values[(values != "") & values.duplicated(keep=False)]
        for v, idx in dup.groupby(dup).groups.items():
            self.bad(t, f"lines {_lines_of(t, pd.Index(idx), 10)}", col,
                     f"duplicate {what} {v!r}: each must appear once")

    def value_quirks(self) -> None:
        r, fmt = self.report, self.m.format
        frame = pd.DataFrame(self.timed, columns=["file", "line", "column", "value"])
        r.add_quirk(Q_TIME, [f"{x['file']} line {x['line']} {x['column']}: {x['value']!r}"
                             for x in self.timed],
                    "read as the date; the time of day is not kept (sales are booked by month)",
                    detail=frame)
        styles = pd.DataFrame(self.styles, columns=["kind", "file", "line", "column", "value"])
        for kind, name, action in (
                ("comma", Q_COMMA, f"read with {fmt.decimal!r} as decimal mark (format.decimal)"),
                ("thousands", Q_THOUSANDS,
                 f"read with {fmt.thousands!r} between thousands (format.thousands)")):
            part = styles[styles["kind"] == kind].drop(columns="kind")
            r.add_quirk(name, [f"{x['file']} line {x['line']} {x['column']}: {x['value']!r}"
                               for x in _records(part)], action, detail=part)
        if self.corrections:
            r.corrections = pd.DataFrame(self.corrections, dtype=object)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as plain dicts (fast to read one by one)."""
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def _book(rd: _Reader, orders: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Report what the orders and their lines hold that is odd; return the lines with their
    order's ``account_id``, ``period`` and ``booked``."""
    r, om = rd.report, rd.m.orders
    per_order = lines.groupby("order").agg(n=("net", "size"), net=("net", "sum"))
    orders = orders.assign(order_lines=orders["order"].map(per_order["n"]).fillna(0)
                           .astype(int), net=orders["order"].map(per_order["net"]))
    known = orders["account_id"].notna()

    def listed(frame: pd.DataFrame, text: Callable[[dict[str, Any]], str] | None = None,
               ) -> list[str]:
        return [f"line {x['line']}: order {x['order']}" + (text(x) if text else "")
                for x in _records(frame)]

    strangers = orders[~known]
    r.add_quirk(Q_UNKNOWN_CUSTOMER, listed(strangers, lambda x: (
        f" of {x['customer']!r} ({x['order_lines']} lines, net "
        f"{0.0 if pd.isna(x['net']) else x['net']:,.2f})")),
        "kept out of the dossiers (no account to file them under); all listed in the report "
        "details", detail=strangers[["line", "order", "customer", "order_lines", "net"]])
    unshipped = orders[known & orders["shipped"].isna()] if om.shipped_date else orders[:0]
    r.add_quirk(Q_UNSHIPPED, listed(unshipped),
                "included: booked by order date (orders.unshipped: include)"
                if om.unshipped == "include" else
                "excluded: not booked (orders.unshipped: exclude)",
                detail=unshipped[["line", "order"]])
    overdue = pd.Series([s is not None and q is not None and s > q for s, q in
                         zip(orders["shipped"], orders["required"], strict=True)],
                        index=orders.index, dtype=bool)
    late = orders[known & overdue & ~orders["future"]]
    r.add_quirk(Q_LATE, listed(late, lambda x: f" shipped {x['shipped']}, required "
                               f"{x['required']}"),
                "kept; a late delivery is a broken promise to the client (DOMAIN.md §10)",
                detail=late[["line", "order", "required", "shipped"]])
    early = orders[pd.Series([s is not None and o is not None and s < o and not f for s, o, f
                              in zip(orders["shipped"], orders["ordered"], orders["future"],
                                     strict=True)], index=orders.index, dtype=bool)]
    r.add_quirk(Q_SHIPPED_EARLY, listed(early, lambda x: f" ordered {x['ordered']}, shipped "
                                        f"{x['shipped']}"),
                f"kept: booked by the {om.period_from.replace('_', ' ')}; check the dates in "
                "the export", detail=early[["line", "order", "ordered", "shipped"]])
    future = orders[orders["future"].astype(bool)]
    r.add_quirk(Q_FUTURE, listed(future, lambda x: f" ordered {x['ordered']}" + (
        f", shipped {x['shipped']}" if x["shipped"] is not None else "")),
        f"kept out of the dossiers and of the months the import covers: a date after the day "
        f"of the import ({rd.today}) is a placeholder (9999-12-31) or a typo; fix it in the "
        "export", detail=future[["line", "order", "ordered", "shipped"]])
    booked = orders[orders["booked"]]
    if om.freight:
        r.add_quirk(Q_NO_FREIGHT, listed(booked[booked["freight"].isna()]),
                    "kept; no freight booked for them")
    r.add_quirk(Q_NO_LINES, listed(booked[booked["order_lines"] == 0]),
                "kept: counted as orders, their freight booked; no sales")
    if om.rep and rd.m.team is not None:
        stray = orders[(orders["rep"] != "") & orders["member"].isna()]
        r.add_quirk(Q_UNKNOWN_REP, listed(stray, lambda x: f", rep {x['rep']!r}"),
                    "kept; the rep is not used for the account's KAM")

    info = orders.set_index("order")[["account_id", "period", "booked"]]
    orphan = ~lines["order"].isin(info.index)
    r.add_quirk(Q_ORPHAN_LINES, [f"line {x['line']}: order {x['order']!r}"
                                 for x in _records(lines[orphan])],
                "kept out of the dossiers; listed in the report details",
                detail=lines.loc[orphan, ["line", "order", "product", "quantity", "net"]])
    lines = lines.join(info, on="order")
    lines["booked"] = lines["booked"].astype("boolean").fillna(False).astype(bool)
    priced = lines["list_price"].astype(float)
    above = lines[priced.notna() & (lines["unit_price"] > priced)]
    r.add_quirk(Q_ABOVE_LIST, [f"line {x['line']}: order {x['order']} {x['product']} at "
                               f"{x['unit_price']:g}, list {x['list_price']:g}"
                               for x in _records(above)],
                "kept; their list value is below their revenue (a negative discount)",
                detail=above[["line", "order", "product", "unit_price", "list_price"]])
    no_list = lines[priced.isna()]
    r.add_quirk(Q_NO_LIST, [f"line {x['line']}: {x['product']}" for x in _records(no_list)],
                "kept; the list value of their revenue lines is left empty (no discount can be "
                "computed for them)")
    no_cost = lines[lines["unit_cost"].isna()]
    r.add_quirk(Q_NO_COST, [f"line {x['line']}: {x['product']}" for x in _records(no_cost)],
                "kept; their cost of goods counts as 0, so their gross margin is overstated; "
                "map a unit cost (products.unit_cost or order_lines.unit_cost) to fix it")
    return lines
