"""Building kam records from the rows of a CRM export: team, accounts, contacts, deals and the
revenue lines of won deals.

Each builder reads the (already corrected) text of one file, converts what needs converting,
appends every bad cell to ``problems`` (file, row, column) and adds its checks to the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import ValidationProblem
from ..model import DealOutcome, Team, TeamMember, TeamRole
from .crm_mapping import CrmMapping
from .csv_files import CsvTable, parse_dates, parse_numbers, slugify, unique_slugs
from .report import ImportReport

__all__ = ["ACCOUNT_TEXT", "Q_ABOVE_LIST", "Q_NO_COGS", "Q_NO_LINE", "Q_NO_LIST_VALUE", "Files",
           "build_accounts", "build_deals", "build_persons", "build_products", "build_revenue",
           "build_team", "require"]

Q_ABOVE_LIST = "won deals closed above the list price"
Q_NO_LINE = "won deals without a revenue line"
Q_NO_LIST_VALUE = "revenue lines without a list value"
Q_NO_COGS = "revenue lines without cost of goods"

ACCOUNT_TEXT = ("industry", "region", "address", "phone", "website")
"""Text fields of an account the mapping can fill from a column of the same kam name."""


@dataclass
class Files:
    """The files of one export, read as text."""

    accounts: CsvTable
    opportunities: CsvTable
    products: CsvTable | None
    team: CsvTable | None
    contacts: CsvTable | None

    def all(self) -> list[CsvTable]:
        return [t for t in (self.accounts, self.opportunities, self.products, self.team,
                            self.contacts) if t is not None]


def require(t: CsvTable, column: str, problems: list[ValidationProblem], what: str) -> None:
    """Empty cells and duplicates in a key column are problems."""
    values = t.frame[column]
    for i in values.index[values == ""]:
        problems.append(ValidationProblem(f"row {t.line(i)}", column, f"the {what} is empty",
                                          str(t.path)))
    dup = values[(values != "") & values.duplicated(keep=False)]
    for v, idx in dup.groupby(dup).groups.items():
        lines = ", ".join(str(t.line(i)) for i in idx)
        problems.append(ValidationProblem(f"rows {lines}", column,
                                          f"duplicate {what} {v!r}: each must appear once",
                                          str(t.path)))


def _label(t: CsvTable, key: str | None, what: str) -> Callable[[int], str]:
    def label(i: int) -> str:
        return f"row {t.line(i)}" + (f" ({what} {t.text(i, key)})" if key else "")
    return label


# -- the team -------------------------------------------------------------------------------
def build_team(m: CrmMapping, f: Files, agents_in_deals: list[str],
               problems: list[ValidationProblem], report: ImportReport,
               ) -> tuple[Team, dict[str, str]]:
    """Agents -> client managers, their managers -> planners; ids are name slugs."""
    rows: list[tuple[str, str, str]] = []  # agent, manager, region
    if f.team is not None and m.team is not None:
        require(f.team, m.team.name, problems, "sales agent")
        fr = f.team.frame[f.team.frame[m.team.name] != ""]
        mgr = fr[m.team.manager] if m.team.manager else pd.Series("", index=fr.index)
        reg = fr[m.team.region] if m.team.region else pd.Series("", index=fr.index)
        rows = list(zip(fr[m.team.name], mgr, reg, strict=True))
    listed = {a for a, _, _ in rows}
    missing = sorted(set(agents_in_deals) - listed)
    if m.team is not None:
        report.add_quirk("agents not in the team file", missing,
                         "added to the team as client managers without manager or region")
    rows += [(a, "", "") for a in missing]
    managers = sorted({mg for _, mg, _ in rows if mg} - {a for a, _, _ in rows})
    ids, clashes = unique_slugs([*managers, *(a for a, _, _ in rows)])
    report.add_quirk("team members with the same id",
                     [f"{k}: {', '.join(v)}" for k, v in clashes.items()],
                     "told apart by a number suffix (-2, -3, ...)")
    regions: dict[str, set[str]] = {}
    for _, mg, rg in rows:
        if mg and rg:
            regions.setdefault(mg, set()).add(rg)
    members = [TeamMember(id=ids[mg], name=mg, role=TeamRole.PLANNER,
                          region=next(iter(regions[mg])) if len(regions.get(mg, ())) == 1
                          else None) for mg in managers]
    members += [TeamMember(id=ids[a], name=a, role=TeamRole.CLIENT_MANAGER,
                           manager=ids[mg] if mg else None, region=rg or None)
                for a, mg, rg in rows]
    idle = sorted(listed - set(agents_in_deals))
    report.add_quirk("agents without deals", idle, "kept in the team")
    report.add_count("sales agents", len(rows))
    report.add_count("managers", len(managers))
    return Team(members=members), ids


# -- accounts -------------------------------------------------------------------------------
def build_accounts(m: CrmMapping, f: Files, problems: list[ValidationProblem],
                   report: ImportReport) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Account records keyed by account name, and the id of each name."""
    am, t = m.accounts, f.accounts
    fr = t.frame
    require(t, am.name, problems, "account name")
    label = _label(t, am.name, "account")
    employees = (parse_numbers(t, am.employees, problems, label, integer=True)
                 if am.employees else None)
    revenue = parse_numbers(t, am.revenue, problems, label) if am.revenue else None
    ids, clashes = unique_slugs(n for n in fr[am.name] if n)
    report.add_quirk("account names with the same id",
                     [f"{k}: {', '.join(v)}" for k, v in clashes.items()],
                     "told apart by a number suffix (-2, -3, ...)")
    records: dict[str, dict[str, Any]] = {}
    parents: list[str] = []
    unknown_parents: list[str] = []
    for i in fr.index:
        name = t.text(i, am.name)
        if not name:
            continue
        acc: dict[str, Any] = {"id": ids[name], "name": name}
        for key in ACCOUNT_TEXT:
            col = getattr(am, key)
            if col and t.text(i, col):
                acc[key] = t.text(i, col)
        if employees is not None and employees[i] is not None:
            acc["employees"] = employees[i]
        if revenue is not None and revenue[i] is not None:
            acc["financial"] = {"revenue": round(revenue[i] * am.revenue_scale, 2)}
        if am.parent and t.text(i, am.parent):
            parent = t.text(i, am.parent)
            parents.append(f"{name} -> {parent}")
            if parent in ids:
                acc["parent"] = ids[parent]
            else:
                acc["parent"] = parent
                unknown_parents.append(f"{name} -> {parent}")
        notes = [f"{c}: {t.text(i, c)}" for c in am.notes_from if t.text(i, c)]
        if notes:
            acc["notes"] = "; ".join(notes)
        records[name] = acc
    if am.parent:
        report.add_quirk("accounts with a parent", parents,
                         "parent kept as the parent's account id (account.parent)")
        report.add_quirk("parents not among the accounts", unknown_parents,
                         "parent kept as the name the export gives")
    return records, ids


def build_persons(m: CrmMapping, f: Files, ids: dict[str, str],
                  problems: list[ValidationProblem], report: ImportReport,
                  ) -> dict[str, list[dict[str, Any]]]:
    """Contact persons per account id (ids: the contact id column, else the name slug)."""
    cm, t = m.contacts, f.contacts
    if cm is None:
        return {}
    if t is None:
        report.add_quirk("contacts file absent", [cm.file], "imported without contacts",
                         count=1)
        return {}
    fr = t.frame
    by_account: dict[str, list[dict[str, Any]]] = {}
    used: dict[str, set[str]] = {}
    orphans = fr[~fr[cm.account].isin(ids)]
    report.add_quirk("contacts without a known account", list(orphans[cm.name]),
                     "kept out of the dossiers; listed in the report details",
                     detail=orphans)
    for i in fr.index.difference(orphans.index):
        name = t.text(i, cm.name)
        if not name:
            problems.append(ValidationProblem(f"row {t.line(i)}", cm.name,
                                              "the contact name is empty", str(t.path)))
            continue
        aid = ids[t.text(i, cm.account)]
        pid = t.text(i, cm.id) if cm.id and t.text(i, cm.id) else slugify(name)
        base, n = pid, 1
        while pid in used.setdefault(aid, set()):
            n += 1
            pid = f"{base[:60]}-{n}"
        used[aid].add(pid)
        person: dict[str, Any] = {"id": pid, "name": name}
        for key in ("position", "department", "phone", "email"):
            col = getattr(cm, key)
            if col and t.text(i, col):
                person[key] = t.text(i, col)
        if cm.role and t.text(i, cm.role):
            raw = t.text(i, cm.role)
            role = cm.role_values.get(raw, raw)
            person["roles"] = [getattr(role, "value", role)]
        by_account.setdefault(aid, []).append(person)
    report.add_count("contacts", sum(len(v) for v in by_account.values()))
    return by_account


# -- products and deals ---------------------------------------------------------------------
def build_products(m: CrmMapping, f: Files, problems: list[ValidationProblem],
                   report: ImportReport) -> dict[str, tuple[str | None, float | None]]:
    """Product name -> (product group, list price)."""
    pm, t = m.products, f.products
    if pm is None or t is None:
        return {}
    require(t, pm.name, problems, "product name")
    fr = t.frame
    price = (parse_numbers(t, pm.list_price, problems, _label(t, pm.name, "product"))
             if pm.list_price else pd.Series(None, index=fr.index, dtype=object))
    group = fr[pm.product_group] if pm.product_group else pd.Series("", index=fr.index)
    report.add_count("products", int((fr[pm.name] != "").sum()))
    return {n: (g or None, p) for n, g, p in zip(fr[pm.name], group, price, strict=True) if n}


def _by_stage(frame: pd.DataFrame, column: str) -> str:
    counts = frame[column].value_counts()
    return ", ".join(f"{k} {int(v)}" for k, v in counts.items()) or "none"


def build_deals(m: CrmMapping, f: Files, ids: dict[str, str], agent_ids: dict[str, str],
                products: dict[str, tuple[str | None, float | None]],
                problems: list[ValidationProblem], report: ImportReport,
                ) -> dict[str, list[dict[str, Any]]]:
    """Deal records per account id; opportunities without a (known) account are reported and
    kept out."""
    om, t = m.opportunities, f.opportunities
    fr = t.frame
    path = str(t.path)
    label = _label(t, om.id, "opportunity")
    require(t, om.id, problems, "opportunity id")
    for i in fr.index[fr[om.manager] == ""]:
        problems.append(ValidationProblem(label(i), om.manager, "the sales agent is empty", path))
    unknown = sorted(set(fr[om.stage]) - set(om.stages))
    for v in unknown:
        rows = fr.index[fr[om.stage] == v]
        lines = ", ".join(str(t.line(i)) for i in rows[:5]) + (", ..." if len(rows) > 5 else "")
        problems.append(ValidationProblem(
            f"rows {lines} ({len(rows)} opportunities)", om.stage,
            f"unknown deal stage {v!r}; the mapping knows: " + ", ".join(om.stages)
            + f"; add it under opportunities.stages in {m.source or 'the mapping'}", path))
    none = pd.Series(None, index=fr.index, dtype=object)
    created = parse_dates(t, om.created, problems, label) if om.created else none
    closed = parse_dates(t, om.closed_on, problems, label) if om.closed_on else none
    value = parse_numbers(t, om.close_value, problems, label) if om.close_value else none

    account = fr[om.account]
    no_account = fr[account == ""]
    stranger = fr[(account != "") & ~account.isin(ids)]
    report.add_quirk("opportunities without an account", list(no_account[om.id]),
                     "kept out of the dossiers (no account to file them under); by stage: "
                     f"{_by_stage(no_account, om.stage)}; all listed in the report details",
                     count=len(no_account), detail=no_account)
    report.add_quirk("opportunities naming an unknown account",
                     [f"{r[om.id]}: {r[om.account]!r}" for _, r in stranger.iterrows()],
                     "kept out of the dossiers; all listed in the report details",
                     count=len(stranger), detail=stranger)
    outcome = fr[om.stage].map(lambda s: om.stages[s].outcome if s in om.stages else None)
    is_open = outcome == DealOutcome.OPEN
    is_closed = outcome.notna() & ~is_open
    if om.created:
        miss = fr[created.isna()]
        report.add_quirk(f"opportunities without {om.created}", list(miss[om.id]),
                         f"kept; deal.created left empty and no stage history; by stage: "
                         f"{_by_stage(miss, om.stage)}", count=len(miss), detail=miss)
    if om.closed_on:
        miss = fr[is_closed & closed.isna()]
        report.add_quirk(f"closed opportunities without {om.closed_on}", list(miss[om.id]),
                         "kept; deal.closed_on left empty", count=len(miss), detail=miss)
        odd = fr[is_open & closed.notna()]
        report.add_quirk(f"open opportunities with a {om.closed_on}", list(odd[om.id]),
                         "kept open; the date is not imported", count=len(odd), detail=odd)
    if om.close_value:
        won = outcome == DealOutcome.WON
        miss = fr[won & value.isna()]
        report.add_quirk(f"won opportunities without {om.close_value}", list(miss[om.id]),
                         "kept; deal.actual_budget left empty", count=len(miss), detail=miss)
        odd = fr[~won & value.map(lambda v: v is not None and v > 0)]
        report.add_quirk(f"opportunities not won with a {om.close_value} above 0",
                         list(odd[om.id]), "kept; the value is not imported (only won deals "
                         "have an actual budget)", count=len(odd), detail=odd)

    out: dict[str, list[dict[str, Any]]] = {}
    keep = fr.index[account.isin(ids) & fr[om.stage].isin(om.stages)]
    product_col = fr[om.product] if om.product else pd.Series("", index=fr.index)
    crm_names = om.stage_names == "crm"
    first_rule = om.stages[om.engaged_stage] if om.engaged_stage is not None else None
    first_name = (om.engaged_stage if crm_names else
                  first_rule.stage.value if first_rule is not None else None)
    # Plain lists: per-row pandas indexing would cost most of the import's time.
    rows = zip(fr[om.id].to_numpy()[keep], fr[om.stage].to_numpy()[keep],
               fr[om.manager].to_numpy()[keep], account.to_numpy()[keep],
               product_col.to_numpy()[keep], created.to_numpy()[keep],
               closed.to_numpy()[keep], value.to_numpy()[keep], strict=True)
    for oid, stage, agent, acc_name, product, start, end, amount in rows:
        rule = om.stages[stage]
        number = rule.stage.number
        name = stage if crm_names else rule.stage.value
        deal: dict[str, Any] = {
            "id": oid, "title": product or f"opportunity {oid}", "stage": name,
            "outcome": rule.outcome.value, "manager": agent_ids.get(agent),
        }
        if product:
            deal["product"] = product
            group, price = products.get(product, (None, None))
            if group:
                deal["product_group"] = group
            if price is not None and om.planned_budget == "list price":
                deal["planned_budget"] = price
        if rule.refusal_reason:
            deal["refusal_reason"] = rule.refusal_reason
        # Stage history: the engaged stage on the engage date (for deals that got that far),
        # then the stage the deal closed in, on the close date, if it is another one.
        history = []
        entered = first_rule is not None and number >= first_rule.stage.number
        if start is not None:
            deal["created"] = start
            if entered:
                history.append({"stage": first_name, "on": start})
        if rule.outcome is not DealOutcome.OPEN and end is not None:
            deal["closed_on"] = end
            deal["period"] = f"{end:%Y-%m}"
            if not history or history[-1]["stage"] != name:
                history.append({"stage": name, "on": end})
        if history:
            deal["history"] = history
        if rule.outcome is DealOutcome.WON and amount is not None:
            deal["actual_budget"] = amount
        out.setdefault(ids[acc_name], []).append(deal)
    report.add_count("opportunities", len(fr))
    for stage_name in om.stages:
        report.add_count(f"opportunities {stage_name}", int((fr[om.stage] == stage_name).sum()))
    report.add_count("opportunities in dossiers", len(keep))
    report.add_count("opportunities without an account", len(no_account) + len(stranger))
    return out


# -- revenue lines --------------------------------------------------------------------------
def build_revenue(m: CrmMapping, deals: dict[str, list[dict[str, Any]]],
                  products: dict[str, tuple[str | None, float | None]], report: ImportReport,
                  ) -> dict[str, list[dict[str, Any]]]:
    """Revenue lines per account id, one per won deal, when the mapping asks for them
    (``opportunities.won_deals_as_revenue``).

    A won deal is one unit of its product: the line has the deal's id, period (the month it
    closed), product and product group, ``revenue`` = the close value, ``quantity`` = 1 and
    ``list_value`` = 1 x the product's list price, so that the price discount (list value -
    revenue, DOMAIN.md §7) is what the client got off the list price. Reported: deals closed
    above the list price (a negative discount, kept as it is), won deals that give no line (no
    close date or value), lines without a list value (product without a list price) and that
    the export holds no cost of goods.
    """
    om = m.opportunities
    if not om.won_deals_as_revenue:
        report.add_count("revenue lines", 0)
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    above: list[dict[str, Any]] = []
    no_line: list[dict[str, Any]] = []
    unpriced: list[dict[str, Any]] = []
    below = 0.0
    won = DealOutcome.WON.value
    for aid, records in deals.items():
        for x in records:
            if x["outcome"] != won:
                continue
            lacking = [what for key, what in (("period", om.closed_on or "close date"),
                                              ("actual_budget", om.close_value or "close value"))
                       if key not in x]
            if lacking:
                no_line.append({"account_id": aid, "deal_id": x["id"],
                                "missing": " and ".join(lacking)})
                continue
            value = x["actual_budget"]
            line: dict[str, Any] = {"id": x["id"], "period": x["period"], "revenue": value,
                                    "quantity": 1.0}
            product = x.get("product")
            for key in ("product", "product_group"):
                if x.get(key):
                    line[key] = x[key]
            price = products.get(product, (None, None))[1] if product else None
            if price is None:
                unpriced.append({"account_id": aid, "deal_id": x["id"], "product": product})
            else:
                line["list_value"] = price
                if value > price:
                    above.append({"account_id": aid, "deal_id": x["id"], "product": product,
                                  "period": x["period"], "list_price": price,
                                  "close_value": value, "above_list": value - price})
                else:
                    below += price - value
            out.setdefault(aid, []).append(line)
    lines = [x for v in out.values() for x in v]
    premium = sum(a["above_list"] for a in above)
    report.add_quirk(
        Q_ABOVE_LIST, [f"{a['deal_id']}: {a['product']} closed at {a['close_value']:,.0f}, "
                       f"list price {a['list_price']:,.0f}" for a in above],
        f"kept as the CRM has them: revenue = close value, list value = list price, so their "
        f"discount is negative; {premium:,.0f} above list on these deals in total, against "
        f"{below:,.0f} below list on the others; all listed in the report details",
        detail=pd.DataFrame(above, columns=["account_id", "deal_id", "product", "period",
                                            "list_price", "close_value", "above_list"]))
    report.add_quirk(Q_NO_LINE, [f"{n['deal_id']}: no {n['missing']}" for n in no_line],
                     "no revenue line made (a line needs its month and its value)",
                     detail=pd.DataFrame(no_line, columns=["account_id", "deal_id", "missing"]))
    report.add_quirk(Q_NO_LIST_VALUE, [f"{u['deal_id']}: {u['product'] or 'no product'}"
                                       for u in unpriced],
                     "line made without a list value: no discount is known for it",
                     detail=pd.DataFrame(unpriced, columns=["account_id", "deal_id", "product"]))
    report.add_quirk(Q_NO_COGS, [], "cogs left at 0: the export holds no cost of goods, so "
                     "gross margin equals revenue until costs are entered in kam",
                     count=len(lines))
    report.add_count("revenue lines", len(lines))
    report.add_count("revenue lines value", sum(x["revenue"] for x in lines))
    report.add_count("revenue lines list value", sum(x.get("list_value", 0.0) for x in lines))
    return out
