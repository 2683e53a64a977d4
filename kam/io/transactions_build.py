"""Building kam records from the rows of an ERP or shop export of orders: products, the team,
account ids, orders and order lines, and per customer its dossier -- the account, its contact
person, and its revenue, cost and activity lines.

Each builder takes the export's reader (:class:`~kam.io.transactions_checks._Reader`), converts
cells through it, appends every bad cell to its problems (file, line, column) and adds its
checks to the report's quirks. Line ids are stable (``<prefix>-<kind>-<period>-<key>``, see
:func:`_line_key`), so importing the same export again replaces its lines instead of adding
them. :func:`kam.io.transactions.read_transactions` runs the builders in order; nothing here
is public API except the names of the quirks the builders report.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..errors import ValidationProblem
from ..model import Dossier, SalesStage, Team, TeamMember, TeamRole, missing_for_stage
from ..model.base import MAX_AMOUNT, bound_message, check_id
from ..model.cost_config import CostToServeConfig, category_key
from ..model.dossier import problems_from_pydantic
from .csv_files import CsvTable, slugify
from .saving import fail
from .transactions_checks import _limit, _lines_of, _Reader, _records
from .transactions_mapping import TransactionsMapping

__all__ = [
    "Q_GROUPS",
    "Q_HELD",
    "Q_KAM",
    "Q_NO_CONTACT",
    "Q_NO_ORDERS",
    "Q_SAME_ID",
    "Q_UNKNOWN_MANAGER",
]

Q_SAME_ID = "customers with the same account id"
Q_NO_CONTACT = "customers without a contact name"
Q_NO_ORDERS = "customers without orders"
Q_UNKNOWN_MANAGER = "managers not in the employees file"
Q_GROUPS = "product groups without a name in group_names"
Q_HELD = "accounts held below the stage their orders suggest"
Q_KAM = "accounts given the rep with most orders as KAM"


def _unique_ids(names: list[str]) -> tuple[list[str], list[str]]:
    """A slug per name, in order (repeats get -2, -3, ...), and the clashes found."""
    used: dict[str, list[str]] = {}
    ids = []
    for name in names:
        base = slugify(name)
        slug, n = base, 1
        while slug in used:
            n += 1
            slug = f"{base[:60]}-{n}"
        used[slug] = [name]
        if slug != base:
            used[base].append(name)
        ids.append(slug)
    return ids, [f"{k}: {' / '.join(v)}" for k, v in used.items() if len(v) > 1]


def _line_key(prefix: str, kind: str, period: str, key: str) -> str:
    """A stable line id: ``<prefix>-<kind>-<period>-<key>``, at most 64 characters (a long key
    is cut and told apart by a hash of the whole)."""
    head = f"{prefix}-{kind}-{period}-"
    if len(head) + len(key) <= 64:
        return head + key
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return head + key[: 64 - len(head) - 9].strip("-") + "-" + digest


def _products(rd: _Reader, t: CsvTable | None) -> dict[str, dict[str, Any]]:
    """Product id (or name) -> name, group, list price, unit cost and the key of its lines."""
    pm = rd.m.products
    if pm is None or t is None:
        return {}
    key = pm.id or pm.name
    rd.require(t, key, "product id" if pm.id else "product name")

    def label(i: int) -> str:
        return f"line {t.line(i)} (product {t.text(i, key)})"
    price = rd.num(t, pm.list_price, label)
    cost = rd.num(t, pm.unit_cost, label)
    groups = t.frame[pm.product_group].tolist() if pm.product_group else [""] * len(t.frame)
    slugs, _ = _unique_ids(t.frame[key].tolist())
    products: dict[str, dict[str, Any]] = {}
    unnamed: list[str] = []
    for n, (i, row) in enumerate(zip(t.frame.index.tolist(), _records(t.frame), strict=True)):
        group = groups[n] or None
        if group and pm.group_names:
            if group not in pm.group_names:
                unnamed.append(f"line {t.line(i)}: {group!r}")
            group = pm.group_names.get(group, group)
        products[row[key]] = {"name": row[pm.name] or row[key], "group": group,
                              "list_price": price[i], "unit_cost": cost[i], "slug": slugs[n]}
    rd.report.add_quirk(Q_GROUPS, unnamed, "kept as written")
    rd.report.add_count("products", len(products))
    return products


def _team(rd: _Reader, t: CsvTable | None) -> tuple[Team | None, dict[str, str]]:
    """The team (employees -> members; whoever others report to is a planner) and the member
    id of each employee id."""
    tm = rd.m.team
    if tm is None or t is None:
        return None, {}
    rd.require(t, tm.id, "employee id")
    rows = _records(t.frame)
    names = [" ".join(r[c] for c in tm.name if r[c]) for r in rows]
    index = t.frame.index.tolist()
    lines = [t.line(i) for i in index]
    for i, line, name in zip(index, lines, names, strict=True):
        if not name:
            rd.bad(t, f"line {line}", "+".join(tm.name),
                   "the employee's name is empty" + rd.emptied(t, i, tm.name))
    ids, _ = _unique_ids(names)
    member_of = {r[tm.id]: mid for r, mid in zip(rows, ids, strict=True)}
    boss = [r[tm.manager] if tm.manager else "" for r in rows]
    rd.report.add_quirk(Q_UNKNOWN_MANAGER, [
        f"line {line}: {name} -> {b!r}" for line, name, b in zip(lines, names, boss, strict=True)
        if b and b not in member_of], "kept without a manager")
    _manager_cycles(rd, t, tm.manager or "", [r[tm.id] for r in rows], names, boss, lines)
    if rd.problems:
        return None, member_of
    bosses = {member_of[b] for b in boss if b in member_of}
    team = Team(members=[TeamMember(
        id=mid, name=name or mid, role=TeamRole.PLANNER if mid in bosses else tm.role,
        manager=member_of.get(b), region=(r[tm.region] or None) if tm.region else None)
        for r, mid, name, b in zip(rows, ids, names, boss, strict=True)])
    rd.report.add_count("employees", len(team.members))
    rd.report.add_count("managers", len(bosses))
    return team, member_of


def _manager_cycles(rd: _Reader, t: CsvTable, column: str, ids: list[str], names: list[str],
                    boss: list[str], lines: list[int]) -> None:
    """Managers who, through their own managers, report to themselves are a problem naming
    the lines and the people of each circle (once per circle)."""
    manager = dict(zip(ids, boss, strict=True))
    row = {e: n for n, e in enumerate(ids)}
    done: set[str] = set()
    for start in ids:
        path: list[str] = []
        e = start
        while e in row and e not in done and e not in path:
            path.append(e)
            e = manager[e]
        done.update(path)
        if e not in path:
            continue  # the chain ends, or joins one already checked
        circle = path[path.index(e):]
        who = [f"{names[row[x]] or x} ({x})" for x in [*circle, e]]
        shown = " reports to ".join(who[:2]) + "".join(f", who reports to {w}" for w in who[2:])
        rd.bad(t, f"line{'s' if len(circle) > 1 else ''} "
               + ", ".join(str(lines[row[x]]) for x in sorted(circle, key=row.__getitem__)),
               column, f"the managers go round in a circle: {shown}; every "
               "chain of managers must end at someone who reports to no one: fix it in the "
               "export")


def _account_ids(rd: _Reader, t: CsvTable) -> list[str]:
    """The account id of each customer row: the slug of its name, or its customer id."""
    cm = rd.m.customers
    rd.require(t, cm.id, "customer id")
    cf = t.frame
    for i in cf.index[cf[cm.name] == ""]:
        rd.bad(t, f"line {t.line(i)} (customer {t.text(i, cm.id)})", cm.name,
               "the customer's name is empty" + rd.emptied(t, i, [cm.name]))
    if cm.account_id == "name":
        ids, clashes = _unique_ids(cf[cm.name].tolist())
    else:
        ids, clashes = cf[cm.id].tolist(), []
        for i, cid in zip(cf.index, ids, strict=True):
            try:
                check_id(cid)
            except ValueError as e:
                rd.bad(t, f"line {t.line(i)}", cm.id, f"{e}; or set customers.account_id: "
                       "name to use the slug of the customer's name")
    rd.report.add_quirk(Q_SAME_ID, clashes, "told apart by a number suffix (-2, -3, ...)")
    return ids


def _orders(rd: _Reader, t: CsvTable, account_of: dict[str, str],
            member_of: dict[str, str]) -> pd.DataFrame:
    """One row per order: ``order``, ``line``, ``customer``, ``account_id`` (``None`` for an
    unknown customer), ``ordered``, ``required``, ``shipped`` (dates or ``None``), ``future``
    (ordered or shipped after the day of the import), ``period`` (``None`` for those),
    ``freight``, ``rep`` (as written), ``member`` (their team id) and ``booked``."""
    om, of = rd.m.orders, t.frame
    rd.require(t, om.id, "order id")

    def label(i: int) -> str:
        return f"line {t.line(i)} (order {t.text(i, om.id)})"
    ordered = rd.date(t, om.order_date, label)
    for i in of.index[of[om.order_date] == ""]:
        rd.bad(t, label(i), om.order_date, "the order date is empty")
    shipped = rd.date(t, om.shipped_date, label)
    out = pd.DataFrame({
        "order": of[om.id], "line": [t.line(i) for i in of.index.tolist()],
        "customer": of[om.customer], "account_id": of[om.customer].map(account_of),
        "ordered": ordered, "required": rd.date(t, om.required_date, label),
        "shipped": shipped, "freight": rd.num(t, om.freight, label),
        "rep": of[om.rep] if om.rep else "", "member": of[om.rep].map(member_of)
        if om.rep else None})
    today = rd.today
    out["future"] = [(o is not None and o > today) or (x is not None and x > today)
                     for o, x in zip(ordered, shipped, strict=True)]
    when = shipped if om.period_from == "shipped_date" else ordered
    out["period"] = [None if x is None or late else f"{x:%Y-%m}"
                     for x, late in zip(when, out["future"], strict=True)]
    booked = out["account_id"].notna() & out["period"].notna()
    if om.unshipped == "exclude":
        booked &= out["shipped"].notna()
    out["booked"] = booked
    return out


def _line_values(rd: _Reader, t: CsvTable, products: dict[str, dict[str, Any]],
                 ) -> pd.DataFrame:
    """One row per order line with its figures: quantity, unit and list price, net revenue,
    invoice discount, list value, cost of goods."""
    lm, pm, lf = rd.m.order_lines, rd.m.products, t.frame

    def label(i: int) -> str:
        return f"line {t.line(i)} (order {t.text(i, lm.order)})"
    qty = rd.num(t, lm.quantity, label)
    unit = rd.num(t, lm.unit_price, label)
    line_list = rd.num(t, lm.list_price, label)
    disc = rd.num(t, lm.discount, label)
    line_cost = rd.num(t, lm.unit_cost, label)
    for col in (lm.order, lm.product, lm.quantity, lm.unit_price):
        for i in lf.index[lf[col] == ""]:
            rd.bad(t, label(i), col, "the cell is empty; every order line needs it")
    if pm is not None:
        strays = lf[(lf[lm.product] != "") & ~lf[lm.product].isin(list(products))]
        for v, idx in strays.groupby(lm.product, sort=False).groups.items():
            rd.bad(t, f"line{'s' if len(idx) > 1 else ''} {_lines_of(t, idx)}", lm.product,
                   f"unknown product {v!r}: {pm.file} has no {pm.id or pm.name} {v!r} (it has "
                   f"{_limit(list(products), 6)}); add the product to {pm.file} or fix the "
                   "order line")
    columns = ["order", "product", "key", "group", "quantity", "unit_price", "list_price",
               "net", "discount", "list_value", "cogs", "unit_cost", "line"]
    if rd.problems:
        return pd.DataFrame(columns=columns)
    rows = []
    column = lm.discount or ""
    # Plain dicts: per-cell pandas lookups would cost most of the time.
    for i, cell in zip(lf.index.tolist(), _records(lf), strict=True):
        name = cell[lm.product]
        prod = products.get(name, {})
        q, p = float(qty[i]), float(unit[i])
        gross, d = q * p, disc[i] or 0.0
        if lm.discount_kind == "fraction" and d > 1:
            rd.bad(t, label(i), column, f"{cell[column]!r} is more than 1: a discount fraction "
                   "is 0..1 (0.05 = 5% off); if the export writes percent, set "
                   "order_lines.discount_kind: percent")
        elif lm.discount_kind == "percent" and d > 100:
            rd.bad(t, label(i), column, f"{cell[column]!r} is more than 100 percent")
        elif lm.discount_kind == "amount" and d > gross + 0.005:
            rd.bad(t, label(i), column, f"discount {cell[column]!r} is more than the line's "
                   f"value {gross:.2f} (quantity x unit price)")
        off = {"fraction": gross * d, "percent": gross * d / 100, "amount": d}[lm.discount_kind]
        lp = line_list[i] if lm.list_price else prod.get("list_price")
        uc = line_cost[i] if lm.unit_cost else prod.get("unit_cost")
        if max(gross, q * (lp or 0.0), q * (uc or 0.0)) > MAX_AMOUNT:
            _too_large(rd, t, label(i), cell, q, gross, lp, uc)
        rows.append({"order": cell[lm.order], "product": prod.get("name") or name,
                     "key": prod.get("slug") or slugify(name), "group": prod.get("group"),
                     "quantity": q, "unit_price": p, "list_price": lp, "net": gross - off,
                     "discount": off, "list_value": None if lp is None else q * lp,
                     "cogs": 0.0 if uc is None else q * uc, "unit_cost": uc,
                     "line": t.line(i)})
    return pd.DataFrame(rows, columns=columns)


def _too_large(rd: _Reader, t: CsvTable, record: str, cell: dict[str, Any], q: float,
               gross: float, lp: float | None, uc: float | None) -> None:
    """An order line whose value, list value or cost of goods is beyond what kam holds."""
    lm, pm = rd.m.order_lines, rd.m.products
    of = f" of product {cell[lm.product]} ({pm.file})" if pm is not None else ""
    figures = [("value", gross, lm.unit_price, f"unit price {cell[lm.unit_price]}")]
    if lp is not None:
        figures.append(("list value", q * lp, lm.list_price or lm.quantity,
                        f"list price {lp:g}" + ("" if lm.list_price else of)))
    if uc is not None:
        figures.append(("cost of goods", q * uc, lm.unit_cost or lm.quantity,
                        f"unit cost {uc:g}" + ("" if lm.unit_cost else of)))
    for what, amount, col, factor in figures:
        if amount > MAX_AMOUNT:
            rd.bad(t, record, col, str(bound_message(
                MAX_AMOUNT, f"the line's {what}, quantity {cell[lm.quantity]} x {factor} = "
                f"{amount:.6g},")))


def _check_sums(rd: _Reader, tables: dict[str, CsvTable], booked: pd.DataFrame,
                sold: pd.DataFrame) -> None:
    """The sums kam stores -- one revenue line per account, month and product; freight and
    units per account and month -- must be within the largest figure a record holds; a sum
    beyond it is a problem naming the lines it adds up."""
    m = rd.m
    checks = [(tables["order_lines"], sold, ["account_id", "period", "key"],
               {"net": "net revenue", "list_value": "list value", "cogs": "cost of goods",
                "quantity": "quantity"}, "one revenue line"),
              (tables["orders"], booked, ["account_id", "period"],
               {"freight": "freight"} if m.freight_category else {}, "one cost line")]
    if m.units_activity:
        checks.append((tables["order_lines"], sold, ["account_id", "period"],
                       {"quantity": "quantity"}, "one activity line"))
    for t, frame, keys, columns, into in checks:
        if frame.empty or not columns:
            continue
        values = frame[list(columns)].astype(float).abs()
        grouped = values.groupby([frame[k] for k in keys], sort=False)
        sums = grouped.sum()
        for key, row in sums[(sums > MAX_AMOUNT).any(axis=1)].iterrows():
            idx = grouped.groups[key]
            shown = list(key if isinstance(key, tuple) else (key,))
            if "key" in keys:  # the product's name, not its key
                shown[keys.index("key")] = frame.loc[idx[0], "product"]
            where = ", ".join(str(x) for x in shown)
            for col, what in columns.items():
                if row[col] > MAX_AMOUNT:
                    rd.bad(t, f"lines {_lines_of_rows(frame.loc[idx, 'line'].tolist())}", "",
                           str(bound_message(MAX_AMOUNT, f"the {what} of these lines, summed "
                                             f"into {into} ({where}), {row[col]:.6g},")))


def _lines_of_rows(lines: list[int], limit: int = 10) -> str:
    return ", ".join(str(x) for x in lines[:limit]) + (", ..." if len(lines) > limit else "")


def _dossiers(rd: _Reader, t: CsvTable, account_ids: list[str], orders: pd.DataFrame,
              lines: pd.DataFrame, kams: dict[str, str]) -> list[Dossier]:
    """One dossier per customer, at the highest sales stage whose gate passes."""
    m, cm, r = rd.m, rd.m.customers, rd.report
    revenue = _revenue_lines(lines, m.line_prefix)
    costs, activities = _order_lines(orders, lines, m, rd.cfg)
    n_orders = orders.groupby("account_id").size().to_dict()
    dossiers: list[Dossier] = []
    held: list[dict[str, Any]] = []
    given: list[str] = []
    no_contact: list[str] = []
    idle: list[dict[str, Any]] = []
    for i, aid, row in zip(t.frame.index.tolist(), account_ids, _records(t.frame), strict=True):
        acc: dict[str, Any] = {"id": aid, "name": row[cm.name]}
        address = ", ".join(x for x in (row[c] for c in cm.address) if x)
        if address:
            acc["address"] = address
        for key in ("region", "phone", "website"):
            col = getattr(cm, key)
            if col and row[col]:
                acc[key] = row[col]
        if aid in kams:
            acc["kam"] = kams[aid]
            given.append(f"{aid}: {kams[aid]}")
        persons = []
        if cm.contact is not None:
            name = row[cm.contact.name]
            if name:
                person = {"id": slugify(name), "name": name}
                for key in ("position", "phone", "email"):
                    col = getattr(cm.contact, key)
                    if col and row[col]:
                        person[key] = row[col]
                persons.append(person)
            else:
                no_contact.append(f"line {t.line(i)}: {acc['name']}")
        data = {"account": acc, "persons": persons, "revenue": revenue.get(aid, []),
                "costs": costs.get(aid, []), "activities": activities.get(aid, [])}
        try:
            d = Dossier.model_validate(data)
        except ValidationError as e:
            rd.problems += [ValidationProblem(p.record, p.field, p.message, str(t.path))
                            for p in problems_from_pydantic(e, data)]
            continue
        best, missing = SalesStage.LEAD, []
        for s in SalesStage:
            missing = missing_for_stage(d, s)
            if missing:
                break
            best = s
        d.account.sales_stage = best
        count = n_orders.get(aid, 0)
        if not count:
            idle.append({"line": t.line(i), "customer": row[cm.id], "name": row[cm.name]})
        suggest = SalesStage.REPEAT if count >= 2 else SalesStage.BUYER if count else None
        if suggest is not None and suggest.number > best.number:
            held.append({"account_id": aid, "stage": best.value, "orders": count,
                         "orders_suggest": suggest.value, "missing": "; ".join(missing)})
        dossiers.append(d)
    if rd.problems:
        raise fail(rd.problems)
    if cm.contact is not None:
        r.add_quirk(Q_NO_CONTACT, no_contact, "imported without a contact person")
    r.add_quirk(Q_NO_ORDERS, [f"line {x['line']}: {x['customer']} {x['name']}" for x in idle],
                "imported as accounts without sales lines",
                detail=pd.DataFrame(idle, columns=["line", "customer", "name"]))
    r.add_quirk(Q_HELD, [f"{h['account_id']}: {h['stage']} ({h['orders']} orders suggest "
                         f"{h['orders_suggest']})" for h in held],
                "set to the highest stage whose stage gate passes (orders are sales, not "
                "deals: a buyer needs a won deal with volume, date and delivery terms)",
                detail=pd.DataFrame(held, columns=["account_id", "stage", "orders",
                                                   "orders_suggest", "missing"]))
    if m.kam_from_orders == "most orders":
        r.add_quirk(Q_KAM, given, "set where the account has no KAM yet in the workspace")
    return dossiers


def _revenue_lines(b: pd.DataFrame, prefix: str) -> dict[str, list[dict[str, Any]]]:
    """One revenue line per account, month and product (sorted by month, then product key)."""
    sums: dict[tuple[str, str, str], dict[str, Any]] = {}
    for x in _records(b):
        s = sums.setdefault((x["account_id"], x["period"], x["key"]), {
            "product": x["product"], "group": x["group"], "revenue": 0.0, "cogs": 0.0,
            "quantity": 0.0, "list_value": 0.0})
        s["revenue"] += x["net"]
        s["cogs"] += x["cogs"]
        s["quantity"] += x["quantity"]
        lv = x["list_value"]
        s["list_value"] = (None if lv is None or lv != lv or s["list_value"] is None
                           else s["list_value"] + lv)  # lv != lv: NaN
    out: dict[str, list[dict[str, Any]]] = {}
    for (aid, period, key), s in sorted(sums.items()):
        line: dict[str, Any] = {
            "id": _line_key(prefix, "R", period, key), "period": period,
            "product": s["product"], "revenue": round(s["revenue"], 2),
            "cogs": round(s["cogs"], 2), "quantity": s["quantity"],
            "list_value": None if s["list_value"] is None else round(s["list_value"], 2)}
        if isinstance(s["group"], str):
            line["product_group"] = s["group"]
        out.setdefault(aid, []).append(line)
    return out


def _order_lines(orders: pd.DataFrame, b: pd.DataFrame, m: TransactionsMapping,
                 cfg: CostToServeConfig,
                 ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """Freight cost lines and activity lines per account and month."""
    costs: dict[str, list[dict[str, Any]]] = {}
    acts: dict[str, list[dict[str, Any]]] = {}
    p = m.line_prefix
    if orders.empty:
        return costs, acts
    g = orders.assign(freight=orders["freight"].astype(float),
                      shipped=orders["shipped"].notna()).groupby(
        ["account_id", "period"], sort=True)
    per = g.agg(n=("freight", "size"), freight=("freight", "sum"), shipped=("shipped", "sum"))
    units = b.groupby(["account_id", "period"])["quantity"].sum()
    for x in _records(per.reset_index()):
        aid, period = x["account_id"], x["period"]
        if m.freight_category and x["freight"] > 0:
            costs.setdefault(aid, []).append({
                "id": _line_key(p, "C", period, "freight"), "period": period,
                "category": cfg.category(m.freight_category),
                "amount": round(float(x["freight"]), 2), "note": f"freight of {x['n']} orders"})
        for activity, n in ((m.order_activity, x["n"]), (m.delivery_activity, x["shipped"]),
                            (m.units_activity, units.get((aid, period), 0.0))):
            if activity and n:
                name = _activity(cfg, activity)
                acts.setdefault(aid, []).append({
                    "id": _line_key(p, "A", period, slugify(name)), "period": period,
                    "activity": name, "count": float(n)})
    return costs, acts


def _kams(orders: pd.DataFrame) -> dict[str, str]:
    """Per account, the rep with most orders (ties: the rep of the latest order)."""
    tally: dict[str, dict[str, list[Any]]] = {}
    for aid, rep, day in zip(orders["account_id"], orders["member"], orders["ordered"],
                             strict=True):
        if isinstance(rep, str):
            n_last = tally.setdefault(aid, {}).setdefault(rep, [0, day])
            n_last[0] += 1
            n_last[1] = max(n_last[1], day)
    return {aid: max(reps, key=lambda r: (reps[r][0], reps[r][1])) for aid, reps in tally.items()}


def _activity(cfg: CostToServeConfig, name: str) -> str:
    """The configured spelling of activity ``name`` (``KeyError`` if it has no rate)."""
    return {category_key(a): a for a in cfg.activity_rates}[category_key(name)]
