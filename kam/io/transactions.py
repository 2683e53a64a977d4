"""Import an ERP or shop export of orders: customers, team, orders, order lines and products.

:func:`read_transactions` reads the export as a mapping (:mod:`kam.io.transactions_mapping`)
says and builds one dossier per customer, the sales team and an
:class:`~kam.io.report.ImportReport`; :func:`import_transactions` saves them in one transaction
(all or nothing).

What becomes what (DOMAIN.md §7):

- a customer -> an account (id: the slug of its name, or the customer id), with its contact
  person (name, position, phone); an employee -> a team member reporting to their manager;
- the order lines of each account -> one :class:`~kam.model.RevenueLine` per month and product:
  ``revenue`` = net revenue (quantity x unit price, less the line's discount), ``list_value`` =
  quantity x list price, ``cogs`` = quantity x unit cost, ``quantity``. Their difference
  ``list_value - revenue`` is the price discount kam shows (the invoice discount plus any price
  below list); the import books no cost line for it;
- the freight of its orders -> one :class:`~kam.model.CostLine` per month in the mapping's
  ``freight_category`` (``logistics``); the number of orders -> one
  :class:`~kam.model.ActivityLine` per month (``order``), for activity-based cost-to-serve.

Nothing odd in the files is dropped or changed silently: every check is a row of the report's
quirks (count, examples with file and line, what the import did), the rows behind it are in
:attr:`ImportReport.details <kam.io.report.ImportReport>`, and each value the mapping asked to
change (missing-value markers, hex blobs left out, rows joined back) is also listed in its
corrections. Orders dated or shipped after the day of the import (a placeholder such as
9999-12-31) are kept out of the dossiers and reported. Bad input -- a missing column, a quote
not closed, a control character in text, a bad number or date, a figure beyond 1e15, an unknown
product, a duplicate id, managers who report to each other in a circle -- raises
:class:`~kam.errors.ImportFailed` naming the file, the line and the column, once, as the value
is read; and nothing is saved. A customers file without customers is refused too: an import
saves its accounts and the team together, never the team alone.

Importing into a workspace that already has an account merges: the lines whose id starts with
the mapping's ``line_prefix`` belong to the import, and those of the months the export covers
are replaced; every other line is kept (entered in kam, or imported from other months). The
account's profile and contact fields the export fills are updated where the export has a value;
everything else entered in kam is kept (notes, needs, other persons, the KAM). An account whose
merged dossier equals its newest revision gets no new revision: importing the same export twice
is a no-op.

The builders of records from rows are in :mod:`kam.io.transactions_build`; the reading of the
files and the checks that become the report's quirks are in :mod:`kam.io.transactions_checks`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..errors import ConfigError, InputError
from ..model import Dossier, SalesStage, Team
from ..model.cost_config import CostToServeConfig, default_cost_config
from ..model.dossier import problems_from_pydantic
from ..store import Workspace
from .report import ImportReport
from .saving import fail, gc_paused, save_dossiers
from .transactions_build import (
    Q_GROUPS,
    Q_HELD,
    Q_KAM,
    Q_NO_CONTACT,
    Q_NO_ORDERS,
    Q_SAME_ID,
    Q_UNKNOWN_MANAGER,
    _account_ids,
    _activity,
    _check_sums,
    _dossiers,
    _kams,
    _line_values,
    _orders,
    _products,
    _team,
)
from .transactions_checks import (
    Q_ABOVE_LIST,
    Q_BLOB,
    Q_BLOB_OUT,
    Q_BOM,
    Q_COMMA,
    Q_DELIMITER,
    Q_FUTURE,
    Q_LATE,
    Q_MARKERS,
    Q_NO_COST,
    Q_NO_FREIGHT,
    Q_NO_LINES,
    Q_NO_LIST,
    Q_ORPHAN_LINES,
    Q_OVERFLOW,
    Q_SHIPPED_EARLY,
    Q_THOUSANDS,
    Q_TIME,
    Q_UNKNOWN_CUSTOMER,
    Q_UNKNOWN_REP,
    Q_UNSHIPPED,
    _book,
    _Reader,
)
from .transactions_mapping import TransactionsMapping, load_transactions_mapping

# The names of the report's quirks stay importable from here (tests and users filter by them).
__all__ = [
    "Q_ABOVE_LIST",
    "Q_BLOB",
    "Q_BLOB_OUT",
    "Q_BOM",
    "Q_COMMA",
    "Q_DELIMITER",
    "Q_FUTURE",
    "Q_GROUPS",
    "Q_HELD",
    "Q_KAM",
    "Q_LATE",
    "Q_MARKERS",
    "Q_NO_CONTACT",
    "Q_NO_COST",
    "Q_NO_FREIGHT",
    "Q_NO_LINES",
    "Q_NO_LIST",
    "Q_NO_ORDERS",
    "Q_ORPHAN_LINES",
    "Q_OTHER_LINES",
    "Q_OVERFLOW",
    "Q_SAME_ID",
    "Q_SHIPPED_EARLY",
    "Q_THOUSANDS",
    "Q_TIME",
    "Q_UNKNOWN_CUSTOMER",
    "Q_UNKNOWN_MANAGER",
    "Q_UNKNOWN_REP",
    "Q_UNSHIPPED",
    "TransactionsImport",
    "import_transactions",
    "read_transactions",
]

PathLike = str | os.PathLike[str]

Q_OTHER_LINES = "accounts with other revenue lines in the imported months"
_TEXT_FIELDS = ("address", "region", "phone", "website")


@dataclass
class TransactionsImport:
    """What :func:`read_transactions` read: dossiers, the team, the months covered, the report."""

    dossiers: list[Dossier]
    team: Team | None
    months: list[str]
    report: ImportReport
    mapping: TransactionsMapping = field(repr=False)


def _read_export(folder: Path, m: TransactionsMapping, cfg: CostToServeConfig,
                 today: date) -> TransactionsImport:
    rd = _Reader(folder, m, cfg, today)
    tables = rd.read()
    rd.file_quirks(tables)
    products = _products(rd, tables.get("products"))
    team, member_of = _team(rd, tables.get("team"))
    account_ids = _account_ids(rd, tables["customers"])
    account_of = dict(zip(tables["customers"].frame[m.customers.id], account_ids, strict=True))
    orders = _orders(rd, tables["orders"], account_of, member_of)
    lines = _line_values(rd, tables["order_lines"], products)
    if rd.problems:
        raise fail(rd.problems)
    rd.value_quirks()
    lines = _book(rd, orders, lines)
    booked = orders[orders["booked"]]
    sold = lines[lines["booked"]]
    _check_sums(rd, tables, booked, sold)
    if rd.problems:
        raise fail(rd.problems)
    dossiers = _dossiers(rd, tables["customers"], account_ids, booked, sold,
                         kams=_kams(booked) if m.kam_from_orders == "most orders" else {})
    months = _months([p for p in orders["period"] if isinstance(p, str)])
    _counts(rd.report, tables["customers"].frame, orders, lines, sold, booked, dossiers, months)
    return TransactionsImport(dossiers=dossiers, team=team, months=months, report=rd.report,
                              mapping=m)


def _months(periods: list[str]) -> list[str]:
    """Every month from the first to the last of ``periods``."""
    if not periods:
        return []
    span = pd.period_range(min(periods), max(periods), freq="M")
    return [str(p) for p in span]


def _counts(r: ImportReport, cf: pd.DataFrame, of: pd.DataFrame, lines: pd.DataFrame,
            b: pd.DataFrame, booked: pd.DataFrame, dossiers: list[Dossier],
            months: list[str]) -> None:
    listed = b[b["list_value"].notna()]
    r.add_count("customers", len(cf))
    r.add_count("contacts", sum(len(d.persons) for d in dossiers))
    r.add_count("orders", len(of))
    r.add_count("orders in dossiers", len(booked))
    r.add_count("order lines", len(lines))
    r.add_count("order lines in dossiers", len(b))
    r.add_count("months", len(months))
    r.add_count("quantity", float(b["quantity"].sum()))
    r.add_count("list value", round(float(listed["list_value"].astype(float).sum()), 2))
    r.add_count("invoice discounts", round(float(b["discount"].sum()), 2))
    r.add_count("net revenue", round(float(b["net"].sum()), 2))
    r.add_count("price discounts (list value - net revenue)", round(float(
        listed["list_value"].astype(float).sum() - listed["net"].sum()), 2))
    r.add_count("cost of goods", round(float(b["cogs"].sum()), 2))
    r.add_count("freight", round(float(booked["freight"].astype(float).sum()), 2))
    r.add_count("revenue lines", sum(len(d.revenue) for d in dossiers))
    r.add_count("cost lines", sum(len(d.costs) for d in dossiers))
    r.add_count("activity lines", sum(len(d.activities) for d in dossiers))
    r.add_count("accounts", len(dossiers))
    for s in SalesStage:
        r.add_count(f"accounts at stage {s.value}",
                    sum(d.account.sales_stage is s for d in dossiers))
    order = ["customers", "contacts", "employees", "managers", "products"]
    rank = {k: n for n, k in enumerate(order)}
    r.counts = (r.counts.assign(_k=r.counts["item"].map(lambda x: rank.get(x, 99)))
                .sort_values("_k", kind="stable").drop(columns="_k").reset_index(drop=True))


def _check_names(m: TransactionsMapping, cfg: CostToServeConfig) -> None:
    """The mapping's cost category and activities must be those of cost_to_serve.yaml."""
    where = m.source or "the mapping"
    problems = []
    if m.freight_category:
        try:
            name = cfg.category(m.freight_category)
        except KeyError:
            name = None
        if name is None or name not in cfg.categories:
            problems.append(f"freight_category {m.freight_category!r} is not a cost category; "
                            f"valid: {', '.join(cfg.categories)}")
    for key in ("order_activity", "delivery_activity", "units_activity"):
        value = getattr(m, key)
        if value:
            try:
                _activity(cfg, value)
            except KeyError:
                problems.append(f"{key} {value!r} has no rate in cost_to_serve.yaml "
                                f"activity_rates; valid: {', '.join(cfg.activity_rates)}")
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))


def _mapping(mapping: TransactionsMapping | PathLike | None) -> TransactionsMapping:
    if isinstance(mapping, TransactionsMapping):
        return mapping
    return load_transactions_mapping(mapping)


def read_transactions(folder: PathLike, mapping: TransactionsMapping | PathLike | None = None,
                      *, cost_config: CostToServeConfig | None = None,
                      today: date | None = None) -> TransactionsImport:
    """Read an ERP or shop export of orders into dossiers, a team and a report (nothing saved).

    Parameters
    ----------
    folder
        The folder holding the export's CSV files.
    mapping
        A :class:`~kam.io.transactions_mapping.TransactionsMapping`, the path of a mapping YAML
        file, or ``None`` for ``templates/transactions/northwind.yaml``.
    cost_config
        The cost-to-serve configuration whose categories and activities the mapping names
        (default: ``templates/cost_to_serve.yaml``).
    today
        The day of the import (default: today): an order dated or shipped after it is kept out
        of the dossiers and reported.

    Raises
    ------
    kam.errors.ImportFailed
        Naming every problem with its file, line and column: a missing file or column, a quote
        not closed, a row with more fields than the header (unless the mapping names its
        overflow column and the row shows the delimiter stood there), a control character in
        text, a bad number or date, a figure beyond 1e15, an unknown product, an empty or
        duplicate id, managers reporting to each other in a circle, a customers file without
        customers.
    kam.errors.ConfigError
        A mapping that names a cost category or activity cost_to_serve.yaml does not know.
    """
    start = time.perf_counter()
    m = _mapping(mapping)
    cfg = cost_config if cost_config is not None else default_cost_config()
    _check_names(m, cfg)
    with gc_paused():
        tx = _read_export(Path(folder), m, cfg, today or date.today())
    tx.report.seconds = time.perf_counter() - start
    return tx


# -- saving ---------------------------------------------------------------------------------
def _merge_lines(old: list[Any], new: list[Any], owned: Callable[[Any], bool],
                 ) -> list[dict[str, Any]]:
    """Lines by id: an imported line replaces the one with its id in place; a line the import
    owns (``owned``) that it no longer has goes; every other line is kept."""
    fresh = {r.id: r for r in new}
    out = []
    for r in old:
        if r.id in fresh:
            out.append(fresh.pop(r.id).model_dump())
        elif not owned(r):
            out.append(r.model_dump())
    return out + [r.model_dump() for r in fresh.values()]


def _merge_dossier(m: TransactionsMapping, months: set[str], old: Dossier,
                   new: Dossier) -> Dossier:
    acc = old.account.model_dump()
    acc["name"] = new.account.name
    for key in _TEXT_FIELDS:
        if getattr(new.account, key):
            acc[key] = getattr(new.account, key)
    if acc["kam"] is None and new.account.kam:
        acc["kam"] = new.account.kam
    acc["sales_stage"] = max(old.account.sales_stage, new.account.sales_stage,
                             key=lambda s: s.number)
    contact = m.customers.contact
    owned_fields = tuple(k for k in ("name", "position", "phone", "email")
                         if contact is not None and getattr(contact, k))
    fresh = {p.id: p for p in new.persons}
    persons = []
    for p in old.persons:
        data = p.model_dump()
        if p.id in fresh:
            n = fresh.pop(p.id)
            data.update({k: getattr(n, k) for k in owned_fields if getattr(n, k) is not None})
        persons.append(data)
    persons += [p.model_dump() for p in fresh.values()]
    prefix = f"{m.line_prefix}-"

    def mine(r: Any) -> bool:
        return bool(r.id and r.id.startswith(prefix) and r.period in months)
    data = {**old.model_dump(), "account": acc, "persons": persons,
            "revenue": _merge_lines(old.revenue, new.revenue, mine),
            "costs": _merge_lines(old.costs, new.costs, mine),
            "activities": _merge_lines(old.activities, new.activities, mine)}
    try:
        return Dossier.model_validate(data)
    except ValidationError as e:
        raise InputError(problems_from_pydantic(e, data)) from None


def _merge_team(old: Team, new: Team) -> Team:
    """Members by id: the export's name, manager and region; role and active stay as kam has
    them; members the export does not list are kept."""
    fresh = {x.id: x for x in new.members}
    members = []
    for x in old.members:
        if x.id in fresh:
            n = fresh.pop(x.id)
            x = x.model_copy(update={"name": n.name, "manager": n.manager or x.manager,
                                     "region": n.region or x.region})
        members.append(x)
    return old.model_copy(update={"members": [*members, *fresh.values()]})


def import_transactions(ws: Workspace, folder: PathLike,
                        mapping: TransactionsMapping | PathLike | None = None, *,
                        author: str = "import", message: str | None = None,
                        cost_config: CostToServeConfig | None = None,
                        today: date | None = None) -> ImportReport:
    """Import an ERP or shop export of orders into ``ws``: the team roster and every account
    in one transaction.

    Returns the :class:`~kam.io.report.ImportReport`; its :attr:`saved` table says per account
    whether it was ``new``, ``updated`` or ``unchanged``. On any problem
    :class:`~kam.errors.ImportFailed` is raised and the workspace is left as it was.

    Examples
    --------
    >>> import tempfile
    >>> from kam.store import Workspace
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "customers.csv").write_text(
    ...     "CustomerID,CompanyName,ContactName,ContactTitle,Address,City,PostalCode,Country,"
    ...     "Phone\\nALFKI,Alfreds Futterkiste,Maria Anders,Sales Representative,Obere Str. 57,"
    ...     "Berlin,12209,Germany,030-0074321\\n", encoding="utf-8")
    >>> _ = (folder / "employees.csv").write_text(
    ...     "EmployeeID,FirstName,LastName,ReportsTo,Country\\n1,Nancy,Davolio,NULL,USA\\n")
    >>> _ = (folder / "products.csv").write_text(
    ...     "ProductID,ProductName,CategoryID,UnitPrice,StandardCost\\n1,Chai,1,18.00,12.00\\n")
    >>> _ = (folder / "orders.csv").write_text(
    ...     "OrderID,CustomerID,EmployeeID,OrderDate,RequiredDate,ShippedDate,Freight,"
    ...     "ShipAddress\\n10643,ALFKI,1,1997-08-25 00:00:00.000,1997-09-22,1997-09-02,29.46,"
    ...     "Obere Str. 57\\n")
    >>> _ = (folder / "order_details.csv").write_text(
    ...     "OrderID,ProductID,UnitPrice,Quantity,Discount\\n10643,1,18.00,10,0.25\\n")
    >>> ws = Workspace(folder / "ws", create=True)
    >>> report = import_transactions(ws, folder)
    >>> line = ws.load("alfreds-futterkiste").revenue[0]
    >>> line.id, line.revenue, line.list_value, line.cogs, line.quantity
    ('erp-R-1997-08-1', 135.0, 180.0, 120.0, 10.0)
    >>> import_transactions(ws, folder).saved["action"].tolist()
    ['unchanged']
    """
    start = time.perf_counter()
    tx = read_transactions(folder, mapping, cost_config=cost_config, today=today)
    team = _merge_team(ws.team(), tx.team) if tx.team is not None else None
    months = set(tx.months)
    others: list[str] = []
    prefix = f"{tx.mapping.line_prefix}-"

    def merge(old: Dossier, new: Dossier) -> Dossier:
        kept = [r for r in old.revenue if r.period in months
                and not (r.id and r.id.startswith(prefix))]
        if kept:
            others.append(f"{old.account.id}: {len(kept)} lines")
        return _merge_dossier(tx.mapping, months, old, new)

    file = str(Path(folder) / tx.mapping.customers.file)
    saved = save_dossiers(ws, [(d, file) for d in tx.dossiers], author=author,
                          message=message or f"transactions import from {folder}", team=team,
                          merge=merge)
    report = tx.report
    report.add_quirk(Q_OTHER_LINES, others, "kept (entered in kam or by another import): "
                     "check that they do not count the same sales twice")
    report.saved = saved
    report.seconds = time.perf_counter() - start
    return report
