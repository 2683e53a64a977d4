"""Import a CRM CSV export (accounts, contacts, opportunities, products, sales team).

:func:`read_crm_export` reads the export as a column mapping (:mod:`kam.io.crm_mapping`) says
and builds one dossier per account, the sales team and an :class:`~kam.io.report.ImportReport`;
:func:`import_crm` saves the team and every dossier in one transaction (all or nothing).

What becomes what (with the default mapping, for the Maven CRM sample export):

- an account row -> an account: id = slug of the name (``Acme Corporation`` ->
  ``acme-corporation``), industry, address (the headquarters country), employees, client revenue
  (millions of USD -> USD, rounded to cents), parent (the parent's account id), and further
  columns kept in the notes (``year_established: 1996``);
- an opportunity -> a deal in its account's dossier: id = opportunity id, title and product =
  the product, product group = its series, manager = the agent's team id, created = engage
  date, closed_on = close date and period = the month it closed (closed deals only), actual
  budget = close value (won deals only), planned budget = the product's list price. Stage and
  outcome follow the mapping's stage rules (Maven: Prospecting -> lead; Engaging -> potential;
  Won -> buyer, won; Lost -> potential, refused with the reason "not recorded in the CRM
  export"). The stage history holds the engaged stage on the engage date and, for a deal
  closed in a later stage (won -> buyer), that stage on the close date. An opportunity
  without an account goes into no dossier: it is counted by stage and listed in the report;
- a won deal -> also a revenue line of its account, when the mapping says
  ``won_deals_as_revenue: true`` (the Maven mapping does): id = the deal's id, period = the month
  it closed, product and product group, revenue = close value, quantity = 1 (a Maven deal is
  one unit of its product), list value = the product's list price; deals closed above the list
  price (a negative discount) are reported, and so is the absence of cost of goods;
- a sales agent -> a team member (client manager) reporting to their manager (a planner),
  with the regional office as region;
- the account's sales stage: the highest of the five stages whose stage gate passes on what the
  export holds (:func:`~kam.model.missing_for_stage`); accounts kept below the stage their
  deals suggest (2+ won deals: repeat; 1: buyer; else the furthest deal stage) are listed in
  :attr:`ImportReport.held <kam.io.report.ImportReport>` with what the gate misses.

Importing into a workspace that already has an account merges: the fields the mapping fills
belong to the CRM and are updated; everything else entered in kam is kept (notes, needs, plan,
persons and deals the CRM does not have, a refusal reason filled in by hand). An account whose
merged dossier equals its newest revision gets no new revision, and an unchanged team roster no
new roster revision: importing the same export twice is a no-op. The team roster is merged the
same way (members the CRM does not list are kept). Revenue lines whose id is the id of a deal
of the export belong to the CRM (with ``won_deals_as_revenue``): they are updated, or dropped
when their deal is no longer won, and never made twice; a cost of goods entered on them in kam
is kept, and so is every other revenue line.
"""

from __future__ import annotations

import functools
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..errors import InputError, ValidationProblem
from ..model import (
    DealOutcome,
    Dossier,
    SalesStage,
    Team,
    missing_for_deal_stage,
    missing_for_stage,
)
from ..model.dossier import problems_from_pydantic
from ..store import Workspace
from .crm_build import (
    ACCOUNT_TEXT,
    Files,
    build_accounts,
    build_deals,
    build_persons,
    build_products,
    build_revenue,
    build_team,
)
from .crm_checks import (
    apply_corrections,
    check_known_values,
    check_near_duplicates,
    check_products,
    check_unmapped_columns,
)
from .crm_mapping import CrmMapping, load_mapping
from .csv_files import CsvTable, read_csv
from .report import ImportReport
from .saving import fail, gc_paused, save_dossiers

__all__ = ["CrmImport", "import_crm", "read_crm_export"]

PathLike = str | os.PathLike[str]

# Deal fields an import fills: they belong to the CRM when it updates an existing deal.
_DEAL_FIELDS = ("title", "stage", "outcome", "manager", "product", "product_group",
                "planned_budget", "actual_budget", "created", "closed_on", "period", "history",
                "refusal_reason")
_PERSON_FIELDS = ("name", "position", "department", "phone", "email", "roles")
_MEMBER_FIELDS = ("name", "role", "manager", "region")
# Revenue-line fields a won deal fills (cost of goods is not among them: the CRM has none).
_REVENUE_FIELDS = ("period", "product", "product_group", "revenue", "list_value", "quantity")
Q_HELD = "accounts held below the stage their deals suggest"
Q_DEALS_HELD = "deals held below the stage their CRM stage stands for"


@dataclass
class CrmImport:
    """What :func:`read_crm_export` read: the dossiers, the sales team and the report."""

    dossiers: list[Dossier]
    team: Team
    report: ImportReport
    mapping: CrmMapping = field(repr=False)


def _mapping(mapping: CrmMapping | PathLike | None) -> CrmMapping:
    return mapping if isinstance(mapping, CrmMapping) else load_mapping(mapping)


def _read_files(folder: Path, m: CrmMapping) -> Files:
    problems: list[ValidationProblem] = []
    fix = f"fix the file, or the mapping ({m.source or 'given in Python'})"
    acc = read_csv(folder, m.accounts.file,
                   [*m.accounts.columns().values(), *m.accounts.notes_from], problems, fix=fix)
    opp = read_csv(folder, m.opportunities.file, m.opportunities.columns().values(), problems,
                   fix=fix)
    prod = (read_csv(folder, m.products.file, m.products.columns().values(), problems, fix=fix)
            if m.products else None)
    team = (read_csv(folder, m.team.file, m.team.columns().values(), problems, fix=fix)
            if m.team else None)
    cont = (read_csv(folder, m.contacts.file, m.contacts.columns().values(), problems, fix=fix,
                     optional=m.contacts.optional) if m.contacts else None)
    if problems or acc is None or opp is None:
        raise fail(problems)
    return Files(acc, opp, prod, team, cont)


def _used_columns(m: CrmMapping, f: Files) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    sections: list[tuple[CsvTable | None, Any]] = [
        (f.accounts, m.accounts), (f.opportunities, m.opportunities), (f.products, m.products),
        (f.team, m.team), (f.contacts, m.contacts)]
    for table, section in sections:
        if table is not None and section is not None:
            used[table.name] = set(section.columns().values())
    used[f.accounts.name] |= set(m.accounts.notes_from)
    return used


def _category_columns(m: CrmMapping, f: Files) -> list[tuple[CsvTable, str]]:
    """Columns holding a few category-like values (industry, product, region, ...)."""
    cols: list[tuple[CsvTable, str | None]] = [
        (f.accounts, m.accounts.industry), (f.accounts, m.accounts.region),
        (f.opportunities, m.opportunities.product), (f.opportunities, m.opportunities.stage)]
    if f.products is not None and m.products is not None:
        cols.append((f.products, m.products.product_group))
    if f.team is not None and m.team is not None:
        cols.append((f.team, m.team.region))
    if f.contacts is not None and m.contacts is not None:
        cols += [(f.contacts, m.contacts.department), (f.contacts, m.contacts.role)]
    return [(t, c) for t, c in cols if c]


def _suggested(d: Dossier, m: CrmMapping) -> SalesStage:
    """The stage an account's deals point to: 2+ won deals -> repeat, 1 -> buyer, else the
    furthest kam stage any deal stands for."""
    won = sum(x.outcome is DealOutcome.WON for x in d.deals)
    if won >= 2:
        return SalesStage.REPEAT
    if won == 1:
        return SalesStage.BUYER
    stages = [s for x in d.deals if (s := m.opportunities.kam_stage(x.stage)) is not None]
    return max(stages, key=lambda s: s.number, default=SalesStage.LEAD)


def _highest_passing(stages: list[SalesStage], missing: Callable[[SalesStage], list[str]],
                     ) -> tuple[SalesStage, list[str]]:
    """The last of ``stages`` (in order) up to which every gate passes, and what the first
    failing one misses."""
    best = SalesStage.LEAD
    for s in stages:
        lacking = missing(s)
        if lacking:
            return best, lacking
        best = s
    return best, []


def _set_stages(dossiers: list[Dossier], m: CrmMapping, report: ImportReport) -> None:
    """Each account at the highest stage whose gate passes; report those held back."""
    held = []
    for d in dossiers:
        best, missing = _highest_passing(list(SalesStage),
                                         functools.partial(missing_for_stage, d))
        d.account.sales_stage = best
        suggested = _suggested(d, m)
        if suggested.number > best.number:
            held.append({"account_id": d.account.id, "stage": best.value,
                         "deals_suggest": suggested.value, "missing": "; ".join(missing)})
    report.held = pd.DataFrame(held, columns=["account_id", "stage", "deals_suggest", "missing"],
                               dtype=object)
    reasons = Counter(h["missing"] for h in held)
    why = "; ".join(f"{n} missing {r}" for r, n in reasons.most_common(3))
    report.add_quirk(Q_HELD, [f"{h['account_id']}: {h['stage']} (deals suggest "
                              f"{h['deals_suggest']})" for h in held],
                     "set to the highest stage whose stage gate passes" + (
                         f"; {why}" if why else ""), detail=report.held)
    for s in SalesStage:
        report.add_count(f"accounts at stage {s.value}",
                         sum(d.account.sales_stage is s for d in dossiers))


def _cap_deals(dossiers: list[Dossier], report: ImportReport) -> None:
    """With kam stage names: each deal at the highest stage (up to its CRM stage's) whose deal
    stage gate passes; report those held back."""
    held = []
    for d in dossiers:
        for i, deal in enumerate(d.deals):
            target = SalesStage(deal.stage)
            if target is SalesStage.LEAD:
                continue
            best, missing = _highest_passing(
                [s for s in SalesStage if s.number <= target.number],
                functools.partial(missing_for_deal_stage, d, deal))
            if best is not target:
                # An import builds the record anew at the stage the gate allows.
                d.deals[i] = deal.model_copy(update={
                    "stage": best.value,
                    "history": [h for h in deal.history
                                if SalesStage(h.stage).number <= best.number]})
                held.append({"account_id": d.account.id, "deal_id": deal.id, "stage": best.value,
                             "crm_suggests": target.value, "missing": "; ".join(missing)})
    frame = pd.DataFrame(held, columns=["account_id", "deal_id", "stage", "crm_suggests",
                                        "missing"], dtype=object)
    reasons = Counter(h["missing"] for h in held)
    why = "; ".join(f"{n} missing {r}" for r, n in reasons.most_common(3))
    report.add_quirk(Q_DEALS_HELD, [f"{h['deal_id']}: {h['stage']} (CRM stage stands for "
                                    f"{h['crm_suggests']})" for h in held],
                     "set to the highest stage whose deal stage gate passes"
                     + (f"; {why}" if why else ""), detail=frame)


def _file_of(loc: str, f: Files) -> str:
    table = {"deals": f.opportunities, "persons": f.contacts}.get(loc.split("[", 1)[0].split(
        " / ")[-1], f.accounts)
    return str((table or f.accounts).path)


def read_crm_export(folder: PathLike, mapping: CrmMapping | PathLike | None = None) -> CrmImport:
    """Read a CRM CSV export into dossiers, a sales team and a report (nothing is saved).

    Parameters
    ----------
    folder
        The folder holding the export's CSV files.
    mapping
        A :class:`~kam.io.crm_mapping.CrmMapping`, the path of a mapping YAML file, or ``None``
        for the Maven CRM export mapping (``templates/crm/maven.yaml``).

    Raises
    ------
    kam.errors.ImportFailed
        Naming every problem: a missing file or column (with the columns found), a file that
        is not UTF-8 or is empty, a bad date or number (file, row, column), a duplicate id, an
        unknown deal stage.
    """
    start = time.perf_counter()
    with gc_paused():
        crm = _read_export(Path(folder), _mapping(mapping))
    crm.report.seconds = time.perf_counter() - start
    return crm


def _read_export(folder: Path, m: CrmMapping) -> CrmImport:
    f = _read_files(folder, m)
    report = ImportReport(source=str(folder))
    check_products(m, f.opportunities, f.products, report)
    check_known_values(m, f.all(), report)
    check_near_duplicates(m, _category_columns(m, f), report)
    check_unmapped_columns(_used_columns(m, f), f.all(), report)
    apply_corrections(m, f.all(), report)

    problems: list[ValidationProblem] = []
    accounts, ids = build_accounts(m, f, problems, report)
    products = build_products(m, f, problems, report)
    agents = [a for a in dict.fromkeys(f.opportunities.frame[m.opportunities.manager]) if a]
    team, agent_ids = build_team(m, f, agents, problems, report)
    persons = build_persons(m, f, ids, problems, report)
    deals = build_deals(m, f, ids, agent_ids, products, problems, report)
    if problems:
        raise fail(problems)
    revenue = build_revenue(m, deals, products, report)

    dossiers = []
    for acc in accounts.values():
        data = {"account": acc, "persons": persons.get(acc["id"], []),
                "deals": deals.get(acc["id"], []), "revenue": revenue.get(acc["id"], [])}
        try:
            dossiers.append(Dossier.model_validate(data))
        except ValidationError as e:
            for p in problems_from_pydantic(e, data):
                problems.append(ValidationProblem(p.record, p.field, p.message,
                                                  _file_of(p.record, f)))
    if problems:
        raise fail(problems)
    report.add_quirk("accounts without opportunities",
                     [d.account.id for d in dossiers if not d.deals], "kept, without deals")
    _set_stages(dossiers, m, report)
    if m.opportunities.stage_names == "kam":
        _cap_deals(dossiers, report)
    won = sum(x.actual_budget or 0.0 for d in dossiers for x in d.deals
              if x.outcome is DealOutcome.WON)
    report.add_count("accounts", len(dossiers))
    report.add_count("won value in dossiers", won)
    report.add_count("team members", len(team.members))
    report.counts = _ordered(report.counts)
    return CrmImport(dossiers=dossiers, team=team, report=report, mapping=m)


def _ordered(counts: pd.DataFrame) -> pd.DataFrame:
    """Accounts and opportunities first, then the revenue lines, the team and the stages."""
    def rank(item: str) -> int:
        for n, prefix in enumerate(("accounts", "opportunities", "won value", "revenue lines",
                                    "products", "contacts", "sales agents", "managers",
                                    "team members", "accounts at stage")):
            if item == prefix or (item.startswith(prefix + " ") and prefix != "accounts"):
                return n
        return 99
    key = counts["item"].map(rank)
    return (counts.assign(_k=key).sort_values("_k", kind="stable").drop(columns="_k")
            .reset_index(drop=True))


# -- saving ---------------------------------------------------------------------------------
def _merge_records(old: list[Any], new: list[Any], owned: tuple[str, ...]) -> list[dict[str, Any]]:
    """Records by id: a record in both gets the ``owned`` fields of the new one; others kept."""
    fresh = {r.id: r for r in new}
    out = []
    for r in old:
        data = r.model_dump()
        if r.id in fresh:
            n = fresh.pop(r.id)
            data.update({k: getattr(n, k) for k in owned})
        out.append(data)
    out += [r.model_dump() for r in fresh.values()]
    return out


def _merge_dossier(m: CrmMapping, old: Dossier, new: Dossier) -> Dossier:
    acc = old.account.model_dump()
    owned = ["name", *(k for k in ACCOUNT_TEXT if getattr(m.accounts, k)),
             *(k for k in ("employees", "parent") if getattr(m.accounts, k))]
    acc.update({k: getattr(new.account, k) for k in owned})
    if m.accounts.revenue:
        acc["financial"]["revenue"] = new.account.financial.revenue
    acc["sales_stage"] = max(old.account.sales_stage, new.account.sales_stage,
                             key=lambda s: s.number)
    deals = _merge_records(old.deals, new.deals, _DEAL_FIELDS)
    kept_reason = {x.id: x.refusal_reason for x in old.deals if x.refusal_reason}
    old_stage = {x.id: (x.stage, x.history) for x in old.deals}
    for x in deals:
        if x["outcome"] is DealOutcome.REFUSED and x["id"] in kept_reason:
            x["refusal_reason"] = kept_reason[x["id"]]
        # A deal moved forward in kam (its gate passed there) is not moved back by the CRM.
        stage, history = old_stage.get(x["id"], (None, None))
        if stage is not None and _number(stage) > _number(x["stage"]) > 0:
            x["stage"], x["history"] = stage, history
    persons = _merge_records(old.persons, new.persons, tuple(
        k for k in _PERSON_FIELDS if m.contacts and (k == "name" or getattr(
            m.contacts, "role" if k == "roles" else k))))
    data = {**old.model_dump(), "account": acc, "deals": deals, "persons": persons}
    if m.opportunities.won_deals_as_revenue:
        data["revenue"] = _merge_revenue(old, new)
    try:
        return Dossier.model_validate(data)
    except ValidationError as e:
        raise InputError(problems_from_pydantic(e, data)) from None


def _merge_revenue(old: Dossier, new: Dossier) -> list[dict[str, Any]]:
    """The CRM's lines (id = a deal id of the export) updated, or dropped if their deal no
    longer makes one; the lines entered in kam kept."""
    crm_deals = {x.id for x in new.deals}
    made = {r.id for r in new.revenue}
    kept = [r for r in old.revenue if r.id not in crm_deals or r.id in made]
    return _merge_records(kept, new.revenue, _REVENUE_FIELDS)


def _number(stage: str) -> int:
    """Position of a kam stage (0 for a CRM's own stage name)."""
    return SalesStage(stage).number if stage in SalesStage._value2member_map_ else 0


def _merge_team(old: Team, new: Team) -> Team:
    fresh = {x.id: x for x in new.members}
    members = []
    for x in old.members:
        if x.id in fresh:
            n = fresh.pop(x.id)
            x = x.model_copy(update={k: getattr(n, k) for k in _MEMBER_FIELDS})
        members.append(x)
    return old.model_copy(update={"members": [*members, *fresh.values()]})


def import_crm(ws: Workspace, folder: PathLike, mapping: CrmMapping | PathLike | None = None, *,
               author: str = "import", message: str | None = None) -> ImportReport:
    """Import a CRM export into ``ws``: the team roster and every account in one transaction.

    Returns the :class:`~kam.io.report.ImportReport`, its :attr:`saved` table saying per
    account whether it was ``new``, ``updated`` or ``unchanged``. On any problem
    :class:`~kam.errors.ImportFailed` is raised and the workspace is left as it was.
    """
    start = time.perf_counter()
    crm = read_crm_export(folder, mapping)
    team = _merge_team(ws.team(), crm.team)
    file = str(Path(folder) / crm.mapping.accounts.file)
    saved = save_dossiers(ws, [(d, file) for d in crm.dossiers], author=author,
                          message=message or f"CRM import from {folder}", team=team,
                          merge=functools.partial(_merge_dossier, crm.mapping))
    report = crm.report
    report.saved = saved
    report.seconds = time.perf_counter() - start
    return report
