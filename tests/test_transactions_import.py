"""The import of an ERP or shop export of orders, proven on a generated Northwind-like export.

The export is written by ``tests/erp_export.py`` from a clean ground truth, with the quirks of
real exports planted at known lines. Every expected figure here is computed with plain pandas
from that truth (never with the import code); DOMAIN.md §7 gives the rules: list value =
quantity x list price, net revenue is after the invoice discount, gross margin = net revenue -
cost of goods.
"""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from erp_export import Export, write_export
from io_samples import snapshot

from kam.cli.io import import_cmd
from kam.config import templates_dir
from kam.errors import ConfigError, ImportFailed
from kam.io import (
    TransactionsMapping,
    import_transactions,
    load_transactions_mapping,
    read_transactions,
)
from kam.io import transactions as tr
from kam.io.csv_files import is_hex_blob
from kam.model import RevenueLine, TeamRole, tables
from kam.profitability import profitability
from kam.store import Workspace

EU_MAPPING = templates_dir() / "transactions" / "northwind-excel-eu.yaml"
ERP_BASE = Path(__file__).parent / "data" / "bad_input" / "erp_base"  # 3 customers, 2 employees


# -- the export and what it must give, computed from the truth ---------------------------------
@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Export]:
    root = tmp_path_factory.mktemp("erp")
    return {v: write_export(root / v, v) for v in ("plain", "eu")}


@pytest.fixture(scope="module")
def read(exports):
    return {"plain": read_transactions(exports["plain"].folder),
            "eu": read_transactions(exports["eu"].folder, EU_MAPPING)}


def truth_lines(ex: Export) -> pd.DataFrame:
    """Every order line of a known customer with its figures, from the generator's truth.
    Net revenue: quantity x unit price less the discount (a fraction in the plain export, an
    amount of money in the European one)."""
    lines = ex.lines.merge(ex.products, on="ProductID").merge(
        ex.orders[["OrderID", "CustomerID", "OrderDate"]], on="OrderID")
    lines = lines.merge(ex.customers[["CustomerID", "CompanyName"]], on="CustomerID")
    gross = lines["Quantity"] * lines["UnitPrice"]
    off = gross * lines["Discount"] if ex.variant == "plain" else lines["DiscountAmount"]
    return lines.assign(net=gross - off, discount=off,
                        list_value=lines["Quantity"] * lines["ListPrice"],
                        cogs=lines["Quantity"] * lines["StandardCost"],
                        month=lines["OrderDate"].map(lambda d: f"{d:%Y-%m}"))


def truth_orders(ex: Export) -> pd.DataFrame:
    """Orders of known customers, with their month."""
    orders = ex.orders.merge(ex.customers[["CustomerID", "CompanyName"]], on="CustomerID")
    return orders.assign(month=orders["OrderDate"].map(lambda d: f"{d:%Y-%m}"))


def by_name(dossiers):
    return {d.account.name: d for d in dossiers}


VARIANTS = pytest.mark.parametrize("variant", ["plain", "eu"])


# -- figures -------------------------------------------------------------------------------------
@VARIANTS
def test_revenue_lines_per_account_month_and_product_equal_plain_pandas(variant, exports, read):
    """One revenue line per account x month x product: net revenue, list value, cost of goods
    and quantity summed from the order lines (DOMAIN.md §7)."""
    expected = truth_lines(exports[variant]).groupby(["CompanyName", "month", "ProductName"])[
        ["net", "list_value", "cogs", "Quantity"]].sum().astype(float)
    got = pd.DataFrame([
        {"CompanyName": d.account.name, "month": r.period, "ProductName": r.product,
         "net": r.revenue, "list_value": r.list_value, "cogs": r.cogs, "Quantity": r.quantity}
        for d in read[variant].dossiers for r in d.revenue]).set_index(
        ["CompanyName", "month", "ProductName"]).sort_index()
    assert list(got.index) == list(expected.index)
    # kam keeps money to the cent: each amount within half a cent of the exact sum.
    pd.testing.assert_frame_equal(got, expected, check_exact=False, atol=0.0051, rtol=0)


@VARIANTS
def test_totals_and_price_waterfall_equal_plain_pandas(variant, exports, read):
    """DOMAIN.md §7 waterfall: list value - price discounts = net revenue, where the price
    discount is the invoice discount plus any unit price below list."""
    lines = truth_lines(exports[variant])
    orders = truth_orders(exports[variant])
    r = read[variant].report
    assert r.count("net revenue") == pytest.approx(lines["net"].sum(), abs=0.01)
    assert r.count("list value") == pytest.approx(lines["list_value"].sum(), abs=0.01)
    assert r.count("invoice discounts") == pytest.approx(lines["discount"].sum(), abs=0.01)
    assert r.count("price discounts (list value - net revenue)") == pytest.approx(
        lines["discount"].sum() + ((lines["ListPrice"] - lines["UnitPrice"])
                                   * lines["Quantity"]).sum(), abs=0.01)
    assert r.count("cost of goods") == pytest.approx(lines["cogs"].sum(), abs=0.01)
    assert r.count("freight") == pytest.approx(orders["Freight"].sum(), abs=0.01)
    assert r.count("quantity") == lines["Quantity"].sum()
    assert r.count("orders") == len(exports[variant].orders) == 100
    assert r.count("orders in dossiers") == len(orders)
    assert r.count("order lines") == len(exports[variant].lines)
    assert r.count("order lines in dossiers") == len(lines)
    assert (r.count("customers"), r.count("products"), r.count("employees")) == (22, 20, 9)


@VARIANTS
def test_freight_and_order_counts_per_account_and_month_equal_plain_pandas(variant, exports,
                                                                           read):
    """Freight -> a logistics cost line, the number of orders -> an 'order' activity line, per
    account and month (the activity name of templates/cost_to_serve.yaml)."""
    orders = truth_orders(exports[variant])
    expected = orders.groupby(["CompanyName", "month"]).agg(
        freight=("Freight", "sum"), orders=("OrderID", "size"))
    costs = {(d.account.name, c.period): (c.category, c.amount)
             for d in read[variant].dossiers for c in d.costs}
    acts = {(d.account.name, a.period): (a.activity, a.count)
            for d in read[variant].dossiers for a in d.activities}
    assert set(costs) == set(acts) == set(expected.index)
    for key, row in expected.iterrows():
        assert costs[key] == ("logistics", pytest.approx(row["freight"], abs=0.005)), key
        assert acts[key] == ("order", row["orders"]), key


def test_unshipped_orders_excluded_and_delivery_and_unit_activities(exports, tmp_path):
    """With orders.unshipped: exclude, orders without a shipped date are not booked; deliveries
    count shipped orders and units the quantity sold."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text("extends: northwind.yaml\norders: {unshipped: exclude}\n"
                       "delivery_activity: delivery\nunits_activity: unit handled\n",
                       encoding="utf-8")
    tx = read_transactions(exports["plain"].folder, mapping)
    orders = truth_orders(exports["plain"])
    shipped = orders[orders["ShippedDate"].notna()]
    lines = truth_lines(exports["plain"])
    lines = lines[lines["OrderID"].isin(shipped["OrderID"])]
    assert tx.report.count("net revenue") == pytest.approx(lines["net"].sum(), abs=0.01)
    assert tx.report.count("orders in dossiers") == len(shipped)
    counts = pd.DataFrame([{"activity": a.activity, "count": a.count}
                           for d in tx.dossiers for a in d.activities])
    totals = counts.groupby("activity")["count"].sum()
    assert totals["order"] == totals["delivery"] == len(shipped)
    assert totals["unit handled"] == lines["Quantity"].sum()
    assert "excluded" in tx.report.quirks.set_index("quirk").loc[tr.Q_UNSHIPPED, "action"]


# -- accounts, persons, team ----------------------------------------------------------------------
def test_accounts_contacts_and_team(exports, read):
    ex, tx = exports["plain"], read["plain"]
    accounts = by_name(tx.dossiers)
    assert len(accounts) == 22
    # Ids: slugs of the names, worked out by hand.
    assert {accounts[n].account.id for n in ("Alfreds Futterkiste", "Bon app'",
                                             "B's Beverages", "Antonio Moreno Taquería")} == {
        "alfreds-futterkiste", "bon-app", "b-s-beverages", "antonio-moreno-taqueria"}
    customers = ex.customers.astype(object).where(ex.customers.notna(), None)
    for c in customers.itertuples():
        d = accounts[c.CompanyName]
        assert d.account.address == f"{c.Address}, {c.City}, {c.PostalCode}, {c.Country}"
        assert d.account.phone == c.Phone and d.account.region == c.Country
        [p] = d.persons
        assert (p.name, p.position, p.phone) == (c.ContactName, c.ContactTitle, c.Phone)
    # The overflowing address is whole again; the address over two lines kept both.
    assert accounts["Bon app'"].account.address.startswith("12, rue des Bouchers, Marseille")
    assert "Berguvsvägen  8\nHus B" in accounts["Berglunds snabbköp"].account.address
    assert accounts["Du monde entier"].persons[0].position is None  # the blob was left out
    members = {m.id: m for m in tx.team.members}
    emp = ex.employees.assign(id=(ex.employees["FirstName"] + "-" + ex.employees["LastName"])
                              .str.lower())
    by_eid = dict(zip(emp["EmployeeID"], emp["id"], strict=True))
    bosses = {by_eid[b] for b in emp["ReportsTo"].dropna()}
    assert bosses == {"andrew-fuller", "steven-buchanan"}
    for e in emp.itertuples():
        m = members[e.id]
        assert m.manager == (by_eid[e.ReportsTo] if pd.notna(e.ReportsTo) else None)
        assert m.role is (TeamRole.PLANNER if e.id in bosses else TeamRole.CLIENT_MANAGER)


def test_kam_is_the_rep_with_most_orders(exports, read):
    """kam_from_orders: most orders -- ties go to the rep of the latest order."""
    orders = truth_orders(exports["plain"])
    emp = exports["plain"].employees
    ids = dict(zip(emp["EmployeeID"], (emp["FirstName"] + "-" + emp["LastName"]).str.lower(),
                   strict=True))
    stats = orders.groupby(["CompanyName", "EmployeeID"]).agg(
        n=("OrderID", "size"), last=("OrderDate", "max")).reset_index()
    best = stats.sort_values(["n", "last"], ascending=False).drop_duplicates("CompanyName")
    expected = {r.CompanyName: ids[r.EmployeeID] for r in best.itertuples()}
    got = {d.account.name: d.account.kam for d in read["plain"].dossiers}
    idle = set(exports["plain"].customers["CompanyName"]) - set(orders["CompanyName"])
    assert got == {**expected, **dict.fromkeys(idle)}


# -- the quirk report ------------------------------------------------------------------------------
MAPPED = {  # the columns templates/transactions/northwind.yaml reads, by hand
    "customers.csv": {"CustomerID", "CompanyName", "ContactName", "ContactTitle", "Address",
                      "City", "PostalCode", "Country", "Phone"},
    "employees.csv": {"EmployeeID", "FirstName", "LastName", "ReportsTo", "Country"},
    "products.csv": {"ProductID", "ProductName", "CategoryID", "UnitPrice", "StandardCost"},
    "orders.csv": {"OrderID", "CustomerID", "EmployeeID", "OrderDate", "RequiredDate",
                   "ShippedDate", "Freight"},
    "order_details.csv": {"OrderID", "ProductID", "UnitPrice", "Quantity", "Discount"},
}


def _unmapped_columns(ex: Export) -> int:
    sep = ";" if ex.variant == "eu" else ","
    return sum(len(set(pd.read_csv(ex.folder / f, sep=sep, nrows=0, encoding="utf-8-sig")
                       .columns) - cols) for f, cols in MAPPED.items())


def _lines(frame: pd.DataFrame, *cols: str) -> set[tuple]:
    return {tuple(r) for r in frame[list(cols)].itertuples(index=False)}


def _planted(rows: list[dict], *cols: str) -> set[tuple]:
    return {tuple(r[c] for c in cols) for r in rows}


@VARIANTS
def test_quirk_report_is_complete_with_counts_and_lines(variant, exports, read):
    ex, r = exports[variant], read[variant].report
    pl = ex.planted
    q = r.quirks.set_index("quirk")
    orders = truth_orders(ex)
    lines = truth_lines(ex)
    unknown = ex.orders[~ex.orders["CustomerID"].isin(ex.customers["CustomerID"])]
    idle = ex.customers[~ex.customers["CustomerID"].isin(ex.orders["CustomerID"])]
    late = orders[orders["ShippedDate"].notna() & (orders["ShippedDate"] > orders["RequiredDate"])]
    above = lines[lines["UnitPrice"] > lines["ListPrice"]]
    early = [o["line"] for o in ex.orders.to_dict("records")
             if o["ShippedDate"] is not None and o["ShippedDate"] < o["OrderDate"]]
    eu = variant == "eu"
    expected = {  # quirk -> the (file,) line numbers the generator planted or the truth implies
        tr.Q_BOM: len(pl.bom),
        tr.Q_DELIMITER: 5 if eu else 0,
        tr.Q_OVERFLOW: _planted(pl.overflow, "file", "line"),
        tr.Q_MARKERS: _planted(pl.markers, "file", "line", "column", "value"),
        tr.Q_BLOB_OUT: _planted([b for b in pl.blobs if b["column"] == "Photo"],
                                "file", "line", "column", "length"),
        tr.Q_BLOB: _planted([b for b in pl.blobs if b["column"] != "Photo"],
                            "file", "line", "column", "length"),
        tr.Q_TIME: _planted(pl.times, "file", "line", "column", "value"),
        tr.Q_COMMA: _planted(pl.decimal_comma, "file", "line", "column", "value"),
        tr.Q_THOUSANDS: _planted(pl.thousands, "file", "line", "column", "value"),
        tr.Q_NO_ORDERS: {(x,) for x in idle["line"]},
        tr.Q_UNKNOWN_CUSTOMER: {(x,) for x in unknown["line"]},
        tr.Q_UNSHIPPED: {(x,) for x in orders.loc[orders["ShippedDate"].isna(), "line"]},
        tr.Q_LATE: {(x,) for x in late["line"]},
        tr.Q_SHIPPED_EARLY: {(x,) for x in early},
        tr.Q_ABOVE_LIST: {(x,) for x in above["line"]},
        # Every customer with orders: the stage gate holds them at lead; each gets a KAM.
        tr.Q_HELD: len(ex.customers) - len(idle),
        tr.Q_KAM: len(ex.customers) - len(idle),
        "columns not imported": _unmapped_columns(ex),
    }
    columns = {tr.Q_OVERFLOW: ("file", "line"), tr.Q_MARKERS: ("file", "line", "column", "value"),
               tr.Q_BLOB_OUT: ("file", "line", "column", "length"),
               tr.Q_BLOB: ("file", "line", "column", "length"),
               tr.Q_TIME: ("file", "line", "column", "value"),
               tr.Q_COMMA: ("file", "line", "column", "value"),
               tr.Q_THOUSANDS: ("file", "line", "column", "value")}
    for quirk, want in expected.items():
        if isinstance(want, int):
            assert q.loc[quirk, "count"] == want, quirk
            continue
        assert q.loc[quirk, "count"] == len(want), quirk
        got = (_lines(r.details[quirk], *columns.get(quirk, ("line",))) if len(want) else set())
        assert got == want, quirk
    # Nothing else was found: every other check ran and came out empty.
    assert set(q.index[q["count"] > 0]) == {k for k, v in expected.items() if v}
    assert {tr.Q_ORPHAN_LINES, tr.Q_NO_LIST, tr.Q_NO_COST, tr.Q_UNKNOWN_REP,
            tr.Q_SAME_ID, tr.Q_FUTURE} <= set(q.index)
    # The planted quirks of this export (the unknown customers, the blob in a mapped column,
    # the rows too long) are all there.
    assert len(unknown) == 2 and len(idle) == 2 and len(pl.overflow) >= 3 and len(early) == 1
    assert "'ZZZZZ'" in q.loc[tr.Q_UNKNOWN_CUSTOMER, "examples"]


def test_fixes_the_mapping_asked_for_are_listed_as_corrections(exports, read):
    """Every changed value is in the corrections: rows joined back, markers read as empty, the
    blob left out."""
    pl, c = exports["plain"].planted, read["plain"].report.corrections
    joined = c[c["found"].str.contains(" | ", regex=False)]
    assert joined["rows"].sum() == len(pl.overflow)
    assert set(joined["replaced_by"]) == {"12, rue des Bouchers", "Av. dos Lusíadas, 23"}
    markers = c[c["found"].isin(["NULL", "N/A"])]
    assert markers["rows"].sum() == len(pl.markers)
    blob = c[c["found"].str.endswith("hex digits>")]
    assert blob[["file", "column", "rows"]].values.tolist() == [["customers.csv",
                                                                 "ContactTitle", 1]]
    text = str(read["plain"].report)
    [title] = [b for b in pl.blobs if b["column"] == "ContactTitle"]
    assert f"customers.csv ContactTitle: 1 values (lines {title['line']};" in text
    unshipped = sum(m["column"] == "ShippedDate" for m in pl.markers)
    assert f"orders.csv ShippedDate: 'NULL' -> '' ({unshipped} rows)" in text


# -- saving ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def imported(exports, tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("erp-ws") / "ws", create=True)
    report = import_transactions(ws, exports["plain"].folder, author="ann")
    yield ws, report
    ws.close()


def test_import_saves_every_account_and_the_team(imported, read):
    ws, report = imported
    assert report.saved["action"].value_counts().to_dict() == {"new": 22}
    assert ws.load_all() == sorted(read["plain"].dossiers, key=lambda d: d.account.id)
    assert ws.team() == read["plain"].team
    assert report.quirk_count(tr.Q_OTHER_LINES) == 0


def test_profitability_of_imported_accounts_equals_independent_figures(imported, exports):
    """kam.profitability: net revenue and gross margin (net revenue - cost of goods, DOMAIN.md
    §7) of every account equal the figures summed from the truth; one account alone, and by
    month, too."""
    ws, _ = imported
    lines = truth_lines(exports["plain"])
    expected = lines.groupby("CompanyName")[["net", "cogs"]].sum()
    dossiers = ws.load_all()
    got = profitability(tables(dossiers)).accounts.set_index("name")
    assert set(got.index) == set(expected.index)  # accounts without sales have no figures
    for name, row in expected.iterrows():
        assert got.loc[name, "revenue"] == pytest.approx(row["net"], abs=0.01), name
        assert got.loc[name, "gross_margin"] == pytest.approx(row["net"] - row["cogs"],
                                                              abs=0.01), name
    biggest = expected["net"].idxmax()
    [d] = [d for d in dossiers if d.account.name == biggest]
    alone = profitability(tables([d])).accounts.iloc[0]
    assert alone["revenue"] == pytest.approx(expected.loc[biggest, "net"], abs=0.01)
    assert alone["gross_margin"] == pytest.approx(
        expected.loc[biggest, "net"] - expected.loc[biggest, "cogs"], abs=0.01)
    monthly = profitability(tables([d]), freq="M").accounts
    want = lines[lines["CompanyName"] == biggest].groupby("month")["net"].sum()
    assert monthly.set_index("period")["revenue"].to_dict() == pytest.approx(want.to_dict(),
                                                                               abs=0.01)


def test_second_import_of_the_same_export_is_a_no_op(imported, exports):
    ws, _ = imported
    before = snapshot(ws)
    again = import_transactions(ws, exports["plain"].folder)
    assert again.saved["action"].value_counts().to_dict() == {"unchanged": 22}
    assert snapshot(ws) == before


def _fail_cases(ex: Export, tmp: Path) -> list[tuple[str, Path, object, str]]:
    """(name, folder, mapping, expected message) for bad exports, each a copy of the export
    with one thing broken."""
    cases = []

    def broken(name: str, file: str, old: str, new: str, count: int = 1) -> Path:
        folder = tmp / name
        shutil.copytree(ex.folder, folder)
        path = folder / file
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, count), encoding="utf-8")
        return folder

    first = ex.lines.to_dict("records")[0]
    oid, pid, price, qty = (first[k] for k in ("OrderID", "ProductID", "UnitPrice", "Quantity"))
    row = f"{oid},{pid},{price:.2f},{qty},"
    bad_qty = f"{oid},{pid},{price:.2f},12x,"
    bad_product = f"{oid},999,{price:.2f},{qty},"
    cases.append(("missing-column", broken("missing-column", "order_details.csv",
                                           "UnitPrice,Quantity", "UnitPrice,Qty"), None,
                  r"order_details\.csv: header, field 'Quantity': missing column 'Quantity'; "
                  r"columns found: OrderID, ProductID, UnitPrice, Qty, Discount"))
    cases.append(("bad-number", broken("bad-number", "order_details.csv", row, bad_qty), None,
                  rf"order_details\.csv: line 2 \(order {oid}\), field 'Quantity': "
                  r"'12x' is not a number written with '\.' as decimal mark"))
    cases.append(("unknown-product", broken("unknown-product", "order_details.csv", row,
                                            bad_product), None,
                  r"order_details\.csv: line 2, field 'ProductID': unknown product "
                  r"'999': products\.csv has no ProductID '999'"))
    order = ex.orders.to_dict("records")[1]
    head = f"{order['OrderID']},{order['CustomerID']},{order['EmployeeID']},"
    cases.append(("bad-date", broken("bad-date", "orders.csv",
                                     f"{head}{order['OrderDate']:%Y-%m-%d}", f"{head}1997-02-30"),
                  None, rf"orders\.csv: line 3 \(order {order['OrderID']}\), field 'OrderDate': "
                  r"'1997-02-30 00:00:00\.000' is not a date written as '%Y-%m-%d'"))
    lines_of = dict(zip(ex.customers["CustomerID"], ex.customers["line"], strict=True))
    # A quote left open before ALFKI's phone runs on until the next quote of the file, the one
    # that opens BERGS's two-line address (a value that is good on its own).
    cases.append(("unclosed-quote", broken("unclosed-quote", "customers.csv", ",030-0074321",
                                           ',"030-0074321'), None,
                  rf"customers\.csv: line {lines_of['ALFKI']}: not a readable CSV file: a quote "
                  rf"opens a value here and is not closed on this line: the value runs to line "
                  rf"{lines_of['BERGS']}, where a quote is followed by more text"))
    # A comma in a company name: one field too many, and the fields after Address look right;
    # the blank after the comma shows where it stood.
    cases.append(("comma-in-name", broken("comma-in-name", "customers.csv", "Around the Horn,",
                                          "Around the Horn, Ltd,"), None,
                  rf"customers\.csv: line {lines_of['AROUT']}: 12 fields where the header has 11 "
                  r".*' Ltd' \(field 3\) starts with a blank, as the text after a delimiter in a "
                  r"value does, so the delimiter most likely stands in CompanyName"))
    cases.append(("infinite-quantity", broken("infinite-quantity", "order_details.csv", row,
                                              f"{oid},{pid},{price:.2f},1e400,"), None,
                  rf"order_details\.csv: line 2 \(order {oid}\), field 'Quantity': '1e400' is "
                  r"beyond the largest figure kam accepts"))
    # Each figure is within 1e15; the line's value, quantity x unit price, is not.
    value = re.escape(f"{qty * 999999999999999.0:.6g}")
    cases.append(("huge-line", broken("huge-line", "order_details.csv", row,
                                      f"{oid},{pid},999999999999999.00,{qty},"), None,
                  rf"order_details\.csv: line 2 \(order {oid}\), field 'UnitPrice': the line's "
                  rf"value, quantity {qty} x unit price 999999999999999\.00 = {value}, is beyond "
                  r"the largest figure kam accepts"))
    cases.append(("escape-in-product", broken("escape-in-product", "products.csv", "1,Chai,",
                                              "1,Chai\x1b[2J,"), None,
                  r"products\.csv: line 2 \(product 1\), field 'ProductName': contains the "
                  r"control character '\\x1b'"))
    strict = tmp / "strict.yaml"
    strict.write_text("extends: northwind.yaml\ncustomers: {overflow_column: null}\n",
                      encoding="utf-8")
    bonap = next(o for o in ex.planted.overflow if o["file"] == "customers.csv")
    cases.append(("strict", ex.folder, strict,
                  rf"customers\.csv: line {bonap['line']}: 12 fields where the "
                  r"header has 11 .*a delimiter ',' stands unquoted in a value; quote that "
                  r"value in the export, or name the column it belongs to as "
                  r"customers\.overflow_column"))
    return cases


def test_a_failed_import_names_file_line_and_field_and_leaves_the_store_unchanged(
        imported, exports, tmp_path):
    ws, _ = imported
    before = snapshot(ws)
    for name, folder, mapping, message in _fail_cases(exports["plain"], tmp_path):
        with pytest.raises(ImportFailed, match=message):
            import_transactions(ws, folder, mapping)
        assert snapshot(ws) == before, name


def test_binary_values_error_refuses_blobs_in_imported_columns(exports, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("extends: northwind.yaml\nformat: {binary_values: error}\n",
                       encoding="utf-8")
    [blob] = [b for b in exports["plain"].planted.blobs if b["column"] == "ContactTitle"]
    with pytest.raises(ImportFailed, match=rf"customers\.csv: line {blob['line']}, field "
                                           rf"'ContactTitle': holds binary data "
                                           rf"\({blob['length']} hex digits\), not text"):
        read_transactions(exports["plain"].folder, mapping)


def test_reimport_merges_and_keeps_what_people_entered(exports, tmp_path):
    """A KAM's edits survive a re-import of a changed export: own revenue and cost lines,
    notes, the contact's position they filled in, the KAM they assigned. Only the imported
    lines of the covered months are replaced, and only the changed account gets a revision."""
    folder = tmp_path / "erp"
    shutil.copytree(exports["plain"].folder, folder)
    ws = Workspace(tmp_path / "ws", create=True)
    import_transactions(ws, folder)
    aid = "du-monde-entier"
    d = ws.load(aid)
    month = d.revenue[0].period
    d.revenue.append(RevenueLine(period=month, revenue=100.0, product="consulting"))
    d.account.notes = "met the buyer"
    d.account.kam = "andrew-fuller"
    d.persons[0].position = "Owner"
    ws.save(d, author="kam")
    # The export changes the quantity of one order line of that account.
    lines = exports["plain"].lines.merge(exports["plain"].orders[["OrderID", "CustomerID"]])
    target = lines[lines["CustomerID"] == "DUMON"].iloc[0]
    path = folder / "order_details.csv"
    text = path.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = text[target.line - 1].split(",")  # OrderID,ProductID,UnitPrice,Quantity,Discount
    assert int(fields[3]) == target.Quantity
    fields[3] = str(target.Quantity + 1)
    text[target.line - 1] = ",".join(fields)
    path.write_text("".join(text), encoding="utf-8")
    report = import_transactions(ws, folder)
    actions = report.saved.set_index("account_id")["action"]
    assert actions[aid] == "updated" and (actions.drop(aid) == "unchanged").all()
    d = ws.load(aid)
    assert (d.account.notes, d.account.kam, d.persons[0].position) == (
        "met the buyer", "andrew-fuller", "Owner")
    assert [r.product for r in d.revenue if not r.id.startswith("erp-")] == ["consulting"]
    want = truth_lines(exports["plain"])
    want = want[want["CustomerID"] == "DUMON"]
    extra = target.UnitPrice * (1 - target.Discount)  # one more unit of that line
    imported_net = sum(r.revenue for r in d.revenue if r.id.startswith("erp-"))
    assert imported_net == pytest.approx(want["net"].sum() + extra, abs=0.02)
    assert report.quirk_count(tr.Q_OTHER_LINES) == 1
    assert ws.history(aid)["revision"].tolist() == [1, 2, 3]


def test_import_into_an_existing_account_matched_by_name_slug(exports, tmp_path, acme):
    """An account created in kam before (id = the slug of the customer's name) is merged:
    its own data stays, the sales arrive."""
    ws = Workspace(tmp_path / "ws", create=True)
    d = acme(id="alfreds-futterkiste", name="Alfreds Futterkiste", notes="key account")
    ws.save(d, author="kam")
    import_transactions(ws, exports["plain"].folder)
    d = ws.load("alfreds-futterkiste")
    assert d.account.notes == "key account" and d.account.category.value == "B"
    lines = truth_lines(exports["plain"])
    assert sum(r.revenue for r in d.revenue) == pytest.approx(
        lines.loc[lines["CustomerID"] == "ALFKI", "net"].sum(), abs=0.01)


# -- mapping and command line ---------------------------------------------------------------------
def test_default_and_eu_mappings_load():
    m = load_transactions_mapping()
    eu = load_transactions_mapping(EU_MAPPING)
    assert isinstance(m, TransactionsMapping)
    assert (eu.format.delimiter, eu.format.decimal, eu.format.thousands) == (";", ",", ".")
    assert eu.order_lines.discount_kind == "amount" and eu.customers.id == m.customers.id


def test_mapping_naming_an_unknown_activity_is_refused(tmp_path, exports):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("extends: northwind.yaml\norder_activity: orders processed\n",
                       encoding="utf-8")
    with pytest.raises(ConfigError, match=r"m\.yaml: order_activity 'orders processed' has "
                                          r"no rate in cost_to_serve\.yaml activity_rates; "
                                          r"valid: order, sales visit"):
        read_transactions(exports["plain"].folder, mapping)
    mapping.write_text("extends: nowhere.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"extends 'nowhere\.yaml': no such file"):
        load_transactions_mapping(mapping)


def test_cli_imports_transactions_and_prints_the_report(exports, tmp_path):
    ws = str(tmp_path / "ws")
    res = CliRunner().invoke(import_cmd, [str(exports["eu"].folder), "--mapping",
                                          str(EU_MAPPING), "-w", ws, "--create"])
    assert res.exit_code == 0, res.output
    assert "Saved: 22 new, 0 updated, 0 unchanged" in res.output
    assert f"numbers with thousands separators: {len(exports['eu'].planted.thousands)}" in (
        res.output)
    res = CliRunner().invoke(import_cmd, [str(exports["eu"].folder), "--format", "transactions",
                                          "-w", ws])
    assert res.exit_code == 1 and "not a number written with '.' as decimal mark" in res.output


# -- values as they are read ---------------------------------------------------------------------
@pytest.mark.parametrize(("cell", "blob"), [
    ("0x151C2F00020000000D000E0014002100FFFFFFFF4269746D617020496D616765" + "AB" * 60, True),
    ("0x" + "0" * 64, True),  # 0x and 64 hex digits: written as binary data
    ("89504E470D0A1A0A" + "00" * 60, True),  # a PNG image (its signature) without the 0x
    ("3F" * 256, True),  # 512 hex digits: no text is that and nothing else
    ("DEADBEEF" * 8, False),  # a name of 64 hex digits
    ("1" * 64, False),  # a number
    ("DEADBEEF" * 20, False),  # 160 hex digits, no file signature
    ("424D" + "0" * 125, False),  # an odd number of digits is not whole bytes
    ("0x12", False),
])
def test_only_what_can_only_be_binary_data_is_taken_for_a_hex_blob(cell, blob):
    assert is_hex_blob(cell) is blob


def base_export(tmp_path: Path, **files: str) -> Path:
    """The corpus's tiny Northwind-layout export (``erp_base``: customers ALFKI, ANATR, AROUT;
    employees 1 Nancy Davolio reporting to 2 Andrew Fuller) with ``files`` written over it."""
    folder = Path(shutil.copytree(ERP_BASE, tmp_path / "erp"))
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def test_managers_reporting_in_a_circle_are_refused_once_per_circle(tmp_path):
    """A circle of three (1 -> 2 -> 3 -> 1), someone reporting to that circle (4, not part of
    it) and someone reporting to themselves (5): two problems, each naming its people and lines
    (line = employee id + 1, one employee per line)."""
    folder = base_export(tmp_path, employees=(
        "EmployeeID,FirstName,LastName,ReportsTo,Country\n1,Nancy,Davolio,2,USA\n"
        "2,Andrew,Fuller,3,USA\n3,Janet,Leverling,1,USA\n4,Margaret,Peacock,1,USA\n"
        "5,Steven,Buchanan,5,UK\n"))
    with pytest.raises(ImportFailed) as e:
        read_transactions(folder)
    assert [(p.record, p.field) for p in e.value.problems] == [
        ("lines 2, 3, 4", "ReportsTo"), ("line 6", "ReportsTo")]
    assert e.value.problems[0].message.startswith(
        "the managers go round in a circle: Nancy Davolio (1) reports to Andrew Fuller (2), who "
        "reports to Janet Leverling (3), who reports to Nancy Davolio (1); every chain")
    assert "Steven Buchanan (5) reports to Steven Buchanan (5)" in e.value.problems[1].message


def test_a_customers_file_without_customers_saves_nothing_not_even_the_team(tmp_path):
    """All or nothing: the team roster is saved with the accounts, never alone."""
    folder = base_export(tmp_path, customers=(ERP_BASE / "customers.csv").read_text(
        encoding="utf-8").splitlines()[0] + "\n")
    ws = Workspace(tmp_path / "ws", create=True)
    with pytest.raises(ImportFailed, match=r"customers\.csv: file: no customer rows, only a "
                                           r"header: .*never the team alone"):
        import_transactions(ws, folder)
    assert ws.team().members == [] and ws.account_ids() == []


def test_sums_beyond_the_largest_figure_name_the_order_lines_they_add_up(tmp_path):
    """Two order lines of Chai in one order, each 6e14 (quantity 1 x unit price 6e14, within
    1e15), make one revenue line of 1.2e15 (ALFKI, 1997-08): refused, naming both lines."""
    folder = base_export(tmp_path, order_details=(
        "OrderID,ProductID,UnitPrice,Quantity,Discount\n10643,1,600000000000000,1,0\n"
        "10643,1,600000000000000,1,0\n10692,3,10.00,20,0\n"))
    with pytest.raises(ImportFailed, match=r"order_details\.csv: lines 2, 3: the net revenue of "
                                           r"these lines, summed into one revenue line "
                                           r"\(alfreds-futterkiste, 1997-08, Chai\), 1\.2e\+15, "
                                           r"is beyond the largest figure kam accepts"):
        read_transactions(folder)


def test_orders_dated_after_the_import_day_are_kept_out_and_reported(exports):
    """With the import day set to 1997-12-31, the orders of the generated export ordered or
    shipped later are not booked (a date after the import is a placeholder such as 9999-12-31,
    or a typo): net revenue and the months covered are those of the other orders, summed with
    plain pandas; the quirk lists the lines of the orders kept out."""
    ex, today = exports["plain"], date(1997, 12, 31)
    tx = read_transactions(ex.folder, today=today)
    orders = ex.orders
    later = orders[(orders["OrderDate"] > today) | orders["ShippedDate"].map(
        lambda d: d is not None and d > today)]
    lines = truth_lines(ex)
    lines = lines[~lines["OrderID"].isin(later["OrderID"])]
    assert 0 < len(later) < len(orders)
    assert tx.report.count("net revenue") == pytest.approx(lines["net"].sum(), abs=0.01)
    assert tx.report.count("orders in dossiers") == len(
        truth_orders(ex).query("OrderID not in @later.OrderID"))
    kept = orders[~orders["OrderID"].isin(later["OrderID"])]["OrderDate"]
    assert tx.months == [str(p) for p in pd.period_range(kept.min(), kept.max(), freq="M")]
    assert set(tx.report.details[tr.Q_FUTURE]["line"]) == set(later["line"])
    assert max(r.period for d in tx.dossiers for r in d.revenue) <= "1997-12"
