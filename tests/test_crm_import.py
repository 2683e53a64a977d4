"""The CRM CSV import, proven on the real Maven CRM export: every expected number is computed
here with plain pandas from the CSV files, independently of the importer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from io_samples import MAVEN, snapshot

from kam.cli.io import import_cmd
from kam.errors import ConfigError, ImportFailed
from kam.funnel import funnel, load_stages
from kam.io import CrmMapping, ImportReport, import_crm, load_mapping, read_crm_export
from kam.io.csv_files import slugify
from kam.model import DealOutcome, Person, RevenueLine, SalesStage, TeamRole, tables
from kam.store import Workspace

pytestmark = pytest.mark.skipif(not MAVEN.is_dir(), reason="Maven CRM export not available")


# -- the export, read with plain pandas -------------------------------------------------------
@pytest.fixture(scope="module")
def raw():
    return {name: pd.read_csv(MAVEN / f"{name}.csv")
            for name in ("accounts", "sales_pipeline", "sales_teams", "products")}


@pytest.fixture(scope="module")
def crm():
    return read_crm_export(MAVEN)


@pytest.fixture(scope="module")
def by_name(crm):
    return {d.account.name: d for d in crm.dossiers}


def test_counts_equal_plain_pandas(crm, raw):
    acc, opp, team = raw["accounts"], raw["sales_pipeline"], raw["sales_teams"]
    r = crm.report
    assert r.count("accounts") == len(acc) == 85
    assert r.count("opportunities") == len(opp) == 8800
    for stage, n in opp["deal_stage"].value_counts().items():
        assert r.count(f"opportunities {stage}") == n
    assert r.count("opportunities in dossiers") == opp["account"].notna().sum()
    assert r.count("opportunities without an account") == opp["account"].isna().sum()
    assert r.count("sales agents") == len(team) == 35
    assert r.count("managers") == team["manager"].nunique() == 6
    assert r.count("team members") == 35 + 6
    assert r.count("products") == len(raw["products"]) == 7
    assert len(crm.dossiers) == 85 and len(crm.team.members) == 41


def test_deals_per_account_and_outcomes_equal_plain_pandas(by_name, raw):
    opp = raw["sales_pipeline"]
    expected = pd.crosstab(opp["account"], opp["deal_stage"])
    for name, d in by_name.items():
        row = expected.loc[name]
        outcomes = pd.Series([x.outcome.value for x in d.deals]).value_counts()
        assert len(d.deals) == row.sum(), name
        assert outcomes.get("won", 0) == row.get("Won", 0), name
        assert outcomes.get("refused", 0) == row.get("Lost", 0), name
        assert outcomes.get("open", 0) == row.get("Prospecting", 0) + row.get("Engaging", 0)


def test_total_won_value_equals_plain_pandas(crm, raw):
    opp = raw["sales_pipeline"]
    won = opp.loc[opp["deal_stage"] == "Won", "close_value"].sum()
    ours = sum(x.actual_budget for d in crm.dossiers for x in d.deals
               if x.outcome is DealOutcome.WON)
    assert ours == won == 10_005_534
    assert crm.report.count("won value in dossiers") == won


def test_first_csv_row_becomes_this_deal_and_revenue_line(by_name):
    """sales_pipeline.csv line 2: 1C1I7A6R, Moses Frase, GTX Plus Basic, Cancity, Won,
    engaged 2016-10-20, closed 2017-03-01, close value 1054; products.csv: GTX Plus Basic is in
    series GTX at list price 1096. The deal is one unit: list value 1 x 1096, so the client got
    1096 - 1054 = 42 off the list price (DOMAIN.md §7 price waterfall); no cost of goods."""
    deal = by_name["Cancity"].deal("1C1I7A6R")
    assert (deal.stage, deal.outcome, deal.manager) == ("Won", DealOutcome.WON, "moses-frase")
    assert (deal.product, deal.product_group) == ("GTX Plus Basic", "GTX")
    assert (deal.planned_budget, deal.actual_budget) == (1096, 1054)
    assert (deal.created, deal.closed_on, deal.period) == (
        date(2016, 10, 20), date(2017, 3, 1), "2017-03")
    assert [(h.stage, h.on) for h in deal.history] == [
        ("Engaging", date(2016, 10, 20)), ("Won", date(2017, 3, 1))]
    line = next(r for r in by_name["Cancity"].revenue if r.id == "1C1I7A6R")
    assert line.model_dump(exclude={"id"}) == {
        "period": "2017-03", "product": "GTX Plus Basic", "product_group": "GTX",
        "revenue": 1054, "cogs": 0.0, "list_value": 1096, "quantity": 1.0}
    assert line.list_value - line.revenue == 42


def test_each_won_deal_becomes_one_revenue_line_counted_in_the_report(crm, raw):
    """One line per won deal with an account, id = deal id, in the month the deal closed."""
    opp = raw["sales_pipeline"]
    won = opp[(opp["deal_stage"] == "Won") & opp["account"].notna()]
    lines = {(d.account.name, r.id, r.period, r.revenue) for d in crm.dossiers
             for r in d.revenue}
    assert lines == set(zip(won["account"], won["opportunity_id"], won["close_date"].str[:7],
                            won["close_value"], strict=True))
    r = crm.report
    assert r.count("revenue lines") == len(won) == 4238
    assert r.count("revenue lines value") == won["close_value"].sum() == 10_005_534
    assert r.quirk_count("won deals without a revenue line") == 0
    assert r.quirk_count("revenue lines without a list value") == 0
    assert r.quirk_count("revenue lines without cost of goods") == len(won)


def test_won_deals_closed_above_the_list_price_are_reported_not_changed(crm, raw):
    """Half the Maven deals closed above their product's list price: their line keeps revenue =
    close value and list value = list price (a negative discount), and the report says so with
    the totals above and below list, computed here from the CSV files."""
    opp, prod = raw["sales_pipeline"], raw["products"]
    price = dict(zip(prod["product"], prod["sales_price"], strict=True))
    price["GTXPro"] = price["GTX Pro"]  # the spelling the mapping corrects
    won = opp[opp["deal_stage"] == "Won"].assign(list_price=lambda w: w["product"].map(price))
    above = won[won["close_value"] > won["list_price"]]
    below = won[won["close_value"] <= won["list_price"]]
    premium = (above["close_value"] - above["list_price"]).sum()
    discount = (below["list_price"] - below["close_value"]).sum()
    r = crm.report
    assert r.quirk_count("won deals closed above the list price") == len(above) == 2040
    action = r.quirks.set_index("quirk").loc["won deals closed above the list price", "action"]
    assert f"{premium:,.0f} above list on these deals in total, against {discount:,.0f} below " \
           "list on the others" in action  # 390,066 and 408,014
    detail = r.details["won deals closed above the list price"]
    assert sorted(detail["deal_id"]) == sorted(above["opportunity_id"])
    lines = {x.id: x for d in crm.dossiers for x in d.revenue}
    assert all(lines[i].list_value < lines[i].revenue for i in above["opportunity_id"])


def test_lost_and_open_deals(by_name, raw):
    opp = raw["sales_pipeline"]
    lost = opp[(opp["deal_stage"] == "Lost")].iloc[0]
    deal = by_name[lost["account"]].deal(lost["opportunity_id"])
    assert (deal.stage, deal.outcome) == ("Lost", DealOutcome.REFUSED)
    assert deal.refusal_reason == "not recorded in the CRM export"
    assert deal.actual_budget is None and deal.closed_on == date.fromisoformat(lost["close_date"])
    engaging = opp[(opp["deal_stage"] == "Engaging") & opp["account"].notna()].iloc[0]
    deal = by_name[engaging["account"]].deal(engaging["opportunity_id"])
    assert (deal.stage, deal.outcome, deal.closed_on, deal.period) == (
        "Engaging", DealOutcome.OPEN, None, None)
    assert [h.stage for h in deal.history] == ["Engaging"]
    prospecting = opp[(opp["deal_stage"] == "Prospecting") & opp["account"].notna()].iloc[0]
    deal = by_name[prospecting["account"]].deal(prospecting["opportunity_id"])
    assert (deal.stage, deal.created, deal.history) == ("Prospecting", None, [])


def test_mapping_reads_the_crm_stages_as_the_funnel_does():
    """templates/crm/maven.yaml (stage rules) and templates/stages.yaml (the funnel's aliases)
    must give each Maven stage the same kam stage."""
    stages = load_stages()
    for name, rule in load_mapping().opportunities.stages.items():
        assert stages.position(name) == stages.position(rule.stage.value), name


def test_funnel_of_the_import_equals_plain_pandas(crm, raw):
    """Stage names as the CRM has them, read through the funnel's aliases: the win rate is
    won / (won + lost) among opportunities with an account."""
    opp = raw["sales_pipeline"].dropna(subset=["account"])
    won, lost = (opp["deal_stage"] == "Won").sum(), (opp["deal_stage"] == "Lost").sum()
    totals = funnel(tables(crm.dossiers)).totals.iloc[0]
    assert (totals["worked"], totals["won"]) == (len(opp), won)
    assert totals["win_rate"] == pytest.approx(won / (won + lost))  # 4238 / 6711


def test_kam_stage_names_hold_deals_at_what_their_gate_allows(raw):
    """With stage_names: kam, a deal gets the kam stage of its CRM stage, lowered to the highest
    stage whose deal gate passes. No contact persons in the export: potential (a contact with
    position and role) fails for every deal, so all deals are leads and lose their history."""
    mapping = load_mapping()
    mapping.opportunities.stage_names = "kam"
    crm = read_crm_export(MAVEN, mapping)
    opp = raw["sales_pipeline"].dropna(subset=["account"])
    deals = [x for d in crm.dossiers for x in d.deals]
    assert {x.stage for x in deals} == {"lead"} and all(not x.history for x in deals)
    r = crm.report
    held = r.details["deals held below the stage their CRM stage stands for"]
    assert len(held) == (opp["deal_stage"] != "Prospecting").sum()
    assert held.groupby("crm_suggests").size().to_dict() == {
        "buyer": (opp["deal_stage"] == "Won").sum(),
        "potential": opp["deal_stage"].isin(["Engaging", "Lost"]).sum()}
    assert set(held["missing"]) == {
        "a contact person with position and buying-center role (persons)"}


def test_accounts_profile_revenue_in_usd_and_parent_ids(by_name, raw):
    acc = raw["accounts"].set_index("account")
    for name, d in by_name.items():
        row = acc.loc[name]
        assert d.account.id == slugify(name)
        assert d.account.financial.revenue == round(row["revenue"] * 1_000_000, 2)
        assert d.account.employees == row["employees"]
        assert d.account.address == row["office_location"]
        assert d.account.notes == f"year_established: {row['year_established']}"
        parent = row["subsidiary_of"]
        assert d.account.parent == (slugify(parent) if isinstance(parent, str) else None)
    assert by_name["Acme Corporation"].account.financial.revenue == 1_100_040_000  # 1100.04 M
    assert by_name["Bluth Company"].account.parent == "acme-corporation"
    assert by_name["Gekko & Co"].account.id == "gekko-co"


def test_ids_are_stable_and_unique(crm):
    again = read_crm_export(MAVEN)
    ids = [d.account.id for d in crm.dossiers]
    assert ids == [d.account.id for d in again.dossiers]
    assert len(set(ids)) == len(ids) == 85
    assert [m.id for m in crm.team.members] == [m.id for m in again.team.members]


def test_team_agents_report_to_their_managers(crm, raw):
    team = raw["sales_teams"]
    members = {m.id: m for m in crm.team.members}
    for row in team.itertuples():
        m = members[slugify(row.sales_agent)]
        assert (m.name, m.role, m.manager, m.region) == (
            row.sales_agent, TeamRole.CLIENT_MANAGER, slugify(row.manager), row.regional_office)
    regions = team.groupby("manager")["regional_office"].unique()
    for manager, offices in regions.items():
        m = members[slugify(manager)]
        assert m.role is TeamRole.PLANNER
        assert m.region == (offices[0] if len(offices) == 1 else None)


# -- quirks ------------------------------------------------------------------------------------
def test_quirks_are_counted_with_examples(crm, raw):
    opp, team, acc = raw["sales_pipeline"], raw["sales_teams"], raw["accounts"]
    r = crm.report
    no_account = opp[opp["account"].isna()]
    assert r.quirk_count("opportunities without an account") == len(no_account) == 1425
    by_stage = ", ".join(f"{k} {v}" for k, v in no_account["deal_stage"].value_counts().items())
    row = r.quirks.set_index("quirk").loc["opportunities without an account"]
    assert f"by stage: {by_stage}" in row["action"]
    assert row["examples"] == "; ".join(no_account["opportunity_id"].head(5))
    assert r.details["opportunities without an account"]["opportunity_id"].tolist() == (
        no_account["opportunity_id"].tolist())  # all listed, none silently dropped
    assert r.quirk_count("opportunities without engage_date") == opp["engage_date"].isna().sum()
    assert set(opp.loc[opp["engage_date"].isna(), "deal_stage"]) == {"Prospecting"}
    idle = set(team["sales_agent"]) - set(opp["sales_agent"])
    assert r.quirk_count("agents without deals") == len(idle) == 5
    assert set(r.quirks.set_index("quirk").loc["agents without deals", "examples"].split("; "))\
        == idle
    assert r.quirk_count("accounts with a parent") == acc["subsidiary_of"].notna().sum() == 15
    assert r.quirk_count("parents not among the accounts") == 0
    assert r.quirk_count("agents not in the team file") == 0


def test_misspellings_are_found_reported_and_corrected_only_as_configured(crm, raw, by_name):
    opp, prod, acc = raw["sales_pipeline"], raw["products"], raw["accounts"]
    r = crm.report
    unknown_products = opp.loc[~opp["product"].isin(prod["product"]), "product"]
    assert set(unknown_products) == {"GTXPro"}
    assert r.quirk_count("products not in the product list") == len(unknown_products) == 1480
    examples = r.quirks.set_index("quirk").loc["products not in the product list", "examples"]
    assert "'GTXPro' in 1480 opportunities (product list has 'GTX Pro'" in examples
    # The sector list of the mapping does not know 'technolgy'; nearest known: 'technology'.
    assert r.quirk_count("sector values not among the known values") == (
        (acc["sector"] == "technolgy").sum()) == 12
    assert "nearest known 'technology'" in r.quirks.set_index("quirk").loc[
        "sector values not among the known values", "examples"]
    assert r.corrections[["column", "found", "replaced_by", "rows"]].values.tolist() == [
        ["product", "GTXPro", "GTX Pro", 1480], ["sector", "technolgy", "technology", 12]]
    assert by_name["Acme Corporation"].account.industry == "technology"
    gtx_pro = [x for d in crm.dossiers for x in d.deals if x.product == "GTX Pro"]
    expected = opp["product"].isin(["GTXPro", "GTX Pro"]) & opp["account"].notna()
    assert len(gtx_pro) == expected.sum()
    assert {(x.product_group, x.planned_budget) for x in gtx_pro} == {("GTX", 4821)}


def test_without_configured_corrections_values_are_kept_and_still_reported(raw):
    mapping = load_mapping().model_copy(update={"corrections": {}})
    crm = read_crm_export(MAVEN, mapping)
    r = crm.report
    assert r.corrections.empty
    assert r.quirk_count("products not in the product list") == 1480
    assert "kept as written" in r.quirks.set_index("quirk").loc[
        "products not in the product list", "action"]
    deals = [x for d in crm.dossiers for x in d.deals if x.product == "GTXPro"]
    opp = raw["sales_pipeline"]
    assert len(deals) == ((opp["product"] == "GTXPro") & opp["account"].notna()).sum()
    assert {(x.product_group, x.planned_budget) for x in deals} == {(None, None)}
    industries = {d.account.industry for d in crm.dossiers}
    assert "technolgy" in industries and "technology" not in industries
    assert r.quirk_count("sector values not among the known values") == 12
    # GTXPro has no list price: its won deals give lines without a list value, reported.
    won = opp[(opp["deal_stage"] == "Won") & (opp["product"] == "GTXPro")]
    assert r.quirk_count("revenue lines without a list value") == len(won) == 729
    assert {x.list_value for d in crm.dossiers for x in d.revenue if x.product == "GTXPro"} == {
        None}


def test_stage_is_the_highest_passing_gate_and_held_accounts_are_explained(crm, raw):
    """No contact persons in the export: stage 2 (potential) needs a contact person with
    position and role, so every account stays a lead. An account's deals suggest: 2+ won ->
    repeat, 1 won -> buyer, else an engaged or lost deal -> potential, else lead."""
    opp = raw["sales_pipeline"].dropna(subset=["account"])
    won = opp[opp["deal_stage"] == "Won"].groupby("account").size()
    engaged = set(opp.loc[opp["deal_stage"].isin(["Engaging", "Lost"]), "account"])
    suggested = {a: ("repeat" if won.get(a, 0) >= 2 else "buyer" if won.get(a, 0) == 1 else
                     "potential" if a in engaged else "lead") for a in set(opp["account"])}
    held = {slugify(a): s for a, s in suggested.items() if s != "lead"}
    assert {d.account.sales_stage for d in crm.dossiers} == {SalesStage.LEAD}
    r = crm.report
    assert dict(zip(r.held["account_id"], r.held["deals_suggest"], strict=True)) == held
    assert set(r.held["missing"]) == {
        "a contact person with position and buying-center role (persons)"}
    assert r.quirk_count("accounts held below the stage their deals suggest") == len(held)
    assert r.count("accounts at stage lead") == 85


def test_report_prints_and_renders_html_escaped(crm):
    text = str(crm.report)
    assert text.startswith(f"Import of {MAVEN}")
    assert "  accounts: 85" in text and "  opportunities: 8,800" in text
    assert "  revenue lines: 4,238" in text
    assert "sales_pipeline.csv product: 'GTXPro' -> 'GTX Pro' (1480 rows)" in text
    html = crm.report._repr_html_()
    assert "<table" in html and "Gekko &amp; Co" not in html  # only quirks/held in the html
    r = ImportReport("<script>")
    r.add_quirk("x", ["<b>"], "y")
    assert "<script>" not in r._repr_html_() and "&lt;b&gt;" in r._repr_html_()


# -- contacts (optional file) -------------------------------------------------------------------
def test_contacts_file_adds_persons_and_lets_accounts_reach_potential(tmp_path):
    folder = tmp_path / "crm"
    shutil.copytree(MAVEN, folder)
    (folder / "contacts.csv").write_text(
        "account,contact_name,title,buying_role,phone\n"
        "Cancity,Ann Lee,CFO,Decision maker,+1 555\n"
        "Cancity,Bo Chen,,influencer,\n"
        "Betatech,Cy Diaz,Buyer,,\n"
        "Nowhere Inc,Di Eck,CEO,power,\n", encoding="utf-8")
    data = load_mapping().model_dump(exclude={"source"})
    data["contacts"] = {"file": "contacts.csv", "account": "account", "name": "contact_name",
                        "position": "title", "role": "buying_role", "phone": "phone",
                        "role_values": {"Decision maker": "power"}}
    crm = read_crm_export(folder, CrmMapping.model_validate(data))
    by_name = {d.account.name: d for d in crm.dossiers}
    cancity = by_name["Cancity"]
    assert [(p.id, p.position, [r.value for r in p.roles]) for p in cancity.persons] == [
        ("ann-lee", "CFO", ["power"]), ("bo-chen", None, ["influencer"])]
    # Cancity: address + a person with position and role -> potential; its won deals need
    # delivery terms for buyer, so it is held there.
    assert cancity.account.sales_stage is SalesStage.POTENTIAL
    assert by_name["Betatech"].account.sales_stage is SalesStage.LEAD  # no role
    r = crm.report
    assert r.count("contacts") == 3
    assert r.quirk_count("contacts without a known account") == 1
    held = r.held.set_index("account_id")
    assert held.loc["cancity", "missing"].startswith("a need with product/service, volume")

    # With kam stage names, Cancity's engaged, won and lost deals pass the potential gate (a
    # contact with position and role) but not sale (no volume, no wanted date): potential.
    data["opportunities"]["stage_names"] = "kam"
    crm = read_crm_export(folder, CrmMapping.model_validate(data))
    cancity = next(d for d in crm.dossiers if d.account.id == "cancity")
    assert {x.stage for x in cancity.deals if x.stage != "lead"} == {"potential"}
    won = cancity.deal("1C1I7A6R")
    assert [(h.stage, h.on) for h in won.history] == [("potential", date(2016, 10, 20))]
    held = crm.report.details["deals held below the stage their CRM stage stands for"]
    assert set(held.loc[held["account_id"] == "cancity", "stage"]) == {"potential"}


def test_missing_optional_contacts_file_is_reported(tmp_path):
    data = load_mapping().model_dump(exclude={"source"})
    data["contacts"] = {"file": "contacts.csv", "account": "account", "name": "name"}
    r = read_crm_export(MAVEN, CrmMapping.model_validate(data)).report
    assert r.quirk_count("contacts file absent") == 1


# -- saving ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("crm") / "ws", create=True)
    report = import_crm(ws, MAVEN, author="ann")
    yield ws, report
    ws.close()


@pytest.fixture
def imported_copy(imported, tmp_path) -> Iterator[Workspace]:
    """A workspace of the test's own holding what the whole Maven export imports to: a copy of
    the ``imported`` fixture's folder (importing the 8,800 opportunities again takes seconds)."""
    ws, _ = imported
    ws.close()  # SQLite folds its write-ahead log into the file: the copy is the whole store
    shutil.copytree(ws.location, tmp_path / "ws")
    with Workspace(tmp_path / "ws") as copy:
        yield copy


def test_import_saves_team_and_every_account_once(imported, crm):
    ws, report = imported
    assert report.saved["action"].value_counts().to_dict() == {"new": 85}
    assert len(ws.account_ids()) == 85
    assert ws.team() == crm.team
    assert ws.load_all() == sorted(crm.dossiers, key=lambda d: d.account.id)
    assert set(ws.history("cancity")["author"]) == {"ann"}


def test_second_import_of_the_same_export_is_a_no_op(imported):
    ws, _ = imported
    before = snapshot(ws)
    again = import_crm(ws, MAVEN)
    assert again.saved["action"].value_counts().to_dict() == {"unchanged": 85}
    assert snapshot(ws) == before


def test_changed_export_updates_only_that_account_and_keeps_kam_edits(tmp_path, imported_copy):
    """DOMAIN.md §1: every change is kept, nothing is overwritten -- a re-import adds a
    revision to the changed account only and keeps what the KAM entered in kam."""
    folder = tmp_path / "crm"
    shutil.copytree(MAVEN, folder)
    ws = imported_copy  # the export imported once
    # A KAM adds a contact, a note and the real reason of a lost deal.
    d = ws.load("cancity")
    lost = next(x for x in d.deals if x.outcome is DealOutcome.REFUSED)
    lost.refusal_reason = "high price"
    d.persons.append(Person(id="lee", name="Ann Lee"))
    d.account.notes = "met the CFO"
    ws.save(d, author="kam")
    # The CRM corrects the value of the first won deal (line 2 of sales_pipeline.csv).
    path = folder / "sales_pipeline.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "2017-03-01,1054", "2017-03-01,1060", 1), encoding="utf-8")
    report = import_crm(ws, folder)
    actions = report.saved.set_index("account_id")["action"]
    assert actions["cancity"] == "updated" and (actions.drop("cancity") == "unchanged").all()
    d = ws.load("cancity")
    assert d.deal("1C1I7A6R").actual_budget == 1060
    assert next(r for r in d.revenue if r.id == "1C1I7A6R").revenue == 1060
    assert d.deal(lost.id).refusal_reason == "high price"
    assert [p.id for p in d.persons] == ["lee"] and d.account.notes == "met the CFO"
    assert ws.history("cancity")["revision"].tolist() == [1, 2, 3]


def _export_of(folder, accounts):
    """The Maven export cut down to some accounts: their rows of accounts.csv and
    sales_pipeline.csv as the export writes them, products and team whole."""
    folder.mkdir()
    for name in ("products.csv", "sales_teams.csv"):
        shutil.copy(MAVEN / name, folder / name)
    for name in ("accounts.csv", "sales_pipeline.csv"):
        frame = pd.read_csv(MAVEN / name, dtype=str, keep_default_na=False)
        frame[frame["account"].isin(accounts)].to_csv(folder / name, index=False)
    return folder


def test_reimport_after_switching_revenue_lines_on_adds_each_line_once(tmp_path, raw):
    """Imported first with won_deals_as_revenue: false, then with the Maven mapping (true): the
    second import adds one line per won deal (a new revision of each account), a third changes
    nothing, and a line entered in kam is kept beside the CRM's."""
    names = ["Cancity", "Isdom"]
    folder = _export_of(tmp_path / "crm", names)
    off = load_mapping()
    off.opportunities.won_deals_as_revenue = False
    ws = Workspace(tmp_path / "ws", create=True)
    assert import_crm(ws, folder, off).count("revenue lines") == 0
    assert [d.revenue for d in ws.load_all()] == [[], []]
    d = ws.load("cancity")
    d.revenue.append(RevenueLine(period="2017-12", revenue=500.0))
    ws.save(d, author="kam")

    report = import_crm(ws, folder)
    opp = raw["sales_pipeline"]
    won = opp[(opp["deal_stage"] == "Won") & opp["account"].isin(names)]
    assert report.count("revenue lines") == len(won)
    assert report.saved["action"].tolist() == ["updated", "updated"]
    for name, d in zip(names, ws.load_all(), strict=True):
        mine = won[won["account"] == name]
        kam_lines = ["R-1"] if name == "Cancity" else []
        assert [r.id for r in d.revenue] == kam_lines + mine["opportunity_id"].tolist()
        assert sum(r.revenue for r in d.revenue) == mine["close_value"].sum() + (
            500 if kam_lines else 0)
    assert ws.history("cancity")["revision"].tolist() == [1, 2, 3]

    before = snapshot(ws)
    again = import_crm(ws, folder)
    assert again.saved["action"].tolist() == ["unchanged", "unchanged"]
    assert snapshot(ws) == before


def test_reimport_updates_crm_lines_drops_unwon_ones_and_keeps_cogs_entered_in_kam(tmp_path):
    """A line belongs to the CRM by its id (the deal's): a changed close value updates it, a
    deal no longer won loses it (and gets the Lost rule's refusal reason); a cost of goods
    entered in kam (the CRM has none) stays."""
    folder = _export_of(tmp_path / "crm", ["Cancity"])
    ws = Workspace(tmp_path / "ws", create=True)
    import_crm(ws, folder)
    d = ws.load("cancity")
    first, second = d.revenue[0], d.revenue[1]
    assert first.id == "1C1I7A6R" and second.id != first.id
    first.cogs = 700.0
    ws.save(d, author="kam")
    path = folder / "sales_pipeline.csv"
    pipe = pd.read_csv(path, dtype=str, keep_default_na=False)
    pipe.loc[pipe["opportunity_id"] == first.id, "close_value"] = "1060"
    pipe.loc[pipe["opportunity_id"] == second.id, ["deal_stage", "close_value"]] = ["Lost", "0"]
    pipe.to_csv(path, index=False)

    report = import_crm(ws, folder)
    assert report.saved["action"].tolist() == ["updated"]
    d = ws.load("cancity")
    lines = {r.id: r for r in d.revenue}
    assert second.id not in lines and d.deal(second.id).outcome is DealOutcome.REFUSED
    assert d.deal(second.id).refusal_reason == "not recorded in the CRM export"
    assert (lines[first.id].revenue, lines[first.id].cogs, lines[first.id].list_value) == (
        1060, 700.0, 1096)
    assert len(lines) == report.count("revenue lines")


def test_won_deal_without_a_close_date_gives_no_revenue_line_and_is_reported(tmp_path):
    """A revenue line needs its month: a won deal without close_date keeps its value as the
    deal's actual budget but gets no line, and the report names it."""
    folder = _export_of(tmp_path / "crm", ["Cancity"])
    path = folder / "sales_pipeline.csv"
    pipe = pd.read_csv(path, dtype=str, keep_default_na=False)
    pipe.loc[pipe["opportunity_id"] == "1C1I7A6R", "close_date"] = ""
    pipe.to_csv(path, index=False)
    crm = read_crm_export(folder)
    (d,) = crm.dossiers
    assert d.deal("1C1I7A6R").actual_budget == 1054
    assert "1C1I7A6R" not in {r.id for r in d.revenue}
    r = crm.report
    assert r.quirk_count("won deals without a revenue line") == 1
    assert r.quirks.set_index("quirk").loc["won deals without a revenue line", "examples"] == (
        "1C1I7A6R: no close_date")
    assert r.count("revenue lines") == len(d.revenue) == (
        (pipe["deal_stage"] == "Won").sum() - 1)


def test_revenue_lines_without_a_close_value_column_are_refused_naming_the_setting(tmp_path):
    data = load_mapping().model_dump(mode="json", exclude={"source"})
    data["opportunities"]["close_value"] = None
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mapping\.yaml: opportunities: .*won_deals_as_revenue "
                       r"needs the columns of the month and the value of a won deal: map "
                       r"close_value, or set won_deals_as_revenue: false"):
        load_mapping(path)


def test_reimport_with_kam_stages_does_not_move_a_deal_back(tmp_path):
    """A KAM completes a deal (volume, delivery terms...) and moves it forward in kam: the next
    import keeps that stage rather than the lower one the export allows."""
    mapping = load_mapping()
    mapping.opportunities.stage_names = "kam"
    ws = Workspace(tmp_path / "ws", create=True)
    import_crm(ws, MAVEN, mapping)
    d = ws.load("cancity")
    d.persons.append(Person(id="lee", name="Ann Lee", position="CFO", roles=["power"]))
    deal = d.deal("1C1I7A6R")
    deal.volume, deal.delivery_terms, deal.expected_close = 2, "FCA", date(2017, 3, 1)
    d.move_deal("1C1I7A6R", "buyer", on=date(2017, 3, 1))
    ws.save(d, author="kam")
    report = import_crm(ws, MAVEN, mapping)
    assert report.saved.set_index("account_id").loc["cancity", "action"] == "unchanged"
    assert ws.load("cancity").deal("1C1I7A6R").stage == "buyer"


def test_import_is_all_or_nothing(tmp_path, imported_copy):
    folder = tmp_path / "crm"
    shutil.copytree(MAVEN, folder)
    with (folder / "sales_pipeline.csv").open("a", encoding="utf-8") as f:
        f.write("ZZZZ0001,Moses Frase,GTX Basic,Cancity,Won,2017-02-30,2017-03-01,500\r\n")
    ws = imported_copy  # the export imported once
    before = snapshot(ws)
    with pytest.raises(ImportFailed, match=r"sales_pipeline\.csv: row 8802 \(opportunity "
                                           r"ZZZZ0001\), field 'engage_date': '2017-02-30' is not "
                                           r"a date; write it as YYYY-MM-DD"):
        import_crm(ws, folder)
    assert snapshot(ws) == before


def test_cli_import_detects_a_crm_folder_and_prints_the_report(tmp_path):
    res = CliRunner().invoke(import_cmd, [str(MAVEN), "-w", str(tmp_path / "ws"), "--create"])
    assert res.exit_code == 0, res.output
    assert "  accounts: 85" in res.output and "Saved: 85 new, 0 updated, 0 unchanged" in res.output
    assert "opportunities without an account: 1,425" in res.output
