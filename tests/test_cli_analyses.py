"""The analysis commands print what the analysis functions compute (checked against them)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from kam import demo
from kam.cli import main
from kam.funnel import conversion, funnel
from kam.health import health_table
from kam.model import tables
from kam.portfolio import concentration

TODAY = demo.TODAY.isoformat()


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli-analyses") / "ws"
    demo.build(path).close()
    return str(path)


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def test_health_lists_every_account_with_its_score(ws_path):
    out = run("health", "-w", ws_path, "--today", TODAY)
    table = health_table(demo.dossiers(), demo.TODAY)
    for row in table.itertuples():
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(row.account_id))
        assert f"{row.score:.2f}".rstrip("0").rstrip(".") in line


def test_portfolio_prints_concentration_and_warnings(ws_path):
    out = run("portfolio", "-w", ws_path)
    conc = concentration(tables(demo.dossiers()))
    assert f"Top 1: {conc.top1:.0%}" in out
    assert f"Herfindahl: {conc.hhi:.3f}" in out
    for message in conc.warnings["message"]:
        assert message in out


def test_portfolio_shows_the_ends_of_long_rankings_and_every_row_when_asked(ws_path):
    """With ``--top 2`` each ranking of the 12 demo accounts shows its first and last two rows
    and says how many it leaves out; the ABC split per category is always whole; ``--top 0``
    shows every account."""
    from kam.portfolio import abc, portfolio_summary
    from kam.profitability import profitability, rank_by_contribution

    t = tables(demo.dossiers())
    cats = abc(t)["account_id"].tolist()
    ranked = rank_by_contribution(profitability(t))["account_id"].tolist()
    out = run("portfolio", "-w", ws_path, "--top", "2")
    abc_part = out[out.index("ABC categories:"):out.index("Net contribution ranking:")]
    ranking = out[out.index("Net contribution ranking:"):]
    for part, order in ((abc_part, cats), (ranking, ranked)):
        shown = [a for a in order if re.search(rf"\b{a}\b", part)]
        assert shown == order[:2] + order[-2:], part
        assert f"... {len(order) - 4} more accounts (--top 0 shows them all)" in part
    split = portfolio_summary(t).abc
    for row in split.itertuples():
        assert re.search(rf"^\s+{row.category}\s+{row.accounts}\s", abc_part, re.M)
    every = run("portfolio", "-w", ws_path, "--top", "0")
    assert all(a in every for a in cats) and "more accounts" not in every


def test_funnel_names_the_weakest_link(ws_path):
    out = run("funnel", "-w", ws_path)
    w = funnel(tables(demo.dossiers())).weakest
    assert f"Weakest link: {w['from_stage']} -> {w['to_stage']}" in out


def test_funnel_for_an_unknown_manager_names_the_managers(ws_path):
    result = CliRunner().invoke(main, ["funnel", "-w", ws_path, "--manager", "nobody"])
    assert result.exit_code == 1
    assert "No accounts for manager 'nobody'; managers: " in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # The demo's facts each command must show (see kam/demo/strategic.py).
        (["score", "--today", TODAY], "NORDSTAHL"),
        (["opportunities", "NORDSTAHL"], "Unplanned stops of the hot-mill main drives"),
        (["opportunities"], "KARSTGOLD"),
        (["deals", "NORDSTAHL", "--today", TODAY], "Hot-mill drive modernisation, phase 2"),
        (["plan", "NORDSTAHL", "--since", "2", "--today", TODAY], "Changes since 2:"),
        (["meeting", "NORDSTAHL", "NS-P1", "--today", TODAY], "Jonas Brandt"),
    ],
)
def test_account_commands_show_the_demo_facts(ws_path, args, expected):
    assert expected in run(*args, "-w", ws_path)


def test_meeting_with_an_unknown_person_is_a_user_error(ws_path):
    result = CliRunner().invoke(main, ["meeting", "NORDSTAHL", "NOPE", "-w", ws_path])
    assert result.exit_code == 1
    assert "NOPE" in result.output
    assert "Traceback" not in result.output


def test_a_bad_date_is_refused(ws_path):
    result = CliRunner().invoke(main, ["health", "-w", ws_path, "--today", "yesterday"])
    assert result.exit_code == 2
    assert "'yesterday' is not a date; write YYYY-MM-DD" in result.output


def test_funnel_by_planner_rolls_the_managers_up_to_the_director(ws_path):
    """The demo team: four KAMs and a client-manager report to the sales director Elena Vogt
    (the planner), so all deals roll up to her; the table names her beside her id."""
    out = run("funnel", "-w", ws_path, "--by", "planner")
    c = conversion(tables(demo.dossiers()), by="planner", team=demo.team())
    assert c["planner"].tolist() == ["Elena Vogt"]
    section = out.split("Conversion by planner:")[1].split("Weakest link by planner:")[0]
    header, row = section.strip().splitlines()
    assert header.split()[:3] == ["planner_id", "planner", "worked"]
    assert row.split()[:4] == ["elena.vogt", "Elena", "Vogt", str(c["worked"].iloc[0])]
    w = funnel(tables(demo.dossiers())).weakest
    assert f"Weakest link: {w['from_stage']} -> {w['to_stage']}" in out


def test_funnel_by_manager_names_the_managers(ws_path):
    out = run("funnel", "-w", ws_path)
    section = out.split("Conversion by manager:")[1].split("Weakest link by manager:")[0]
    c = conversion(tables(demo.dossiers()), by="manager", team=demo.team())
    assert len(c) == 5  # the four KAMs and the client-manager
    for row in c.itertuples():
        assert re.search(rf"^\s*{re.escape(row.manager_id)}\s+{re.escape(row.manager)}\s+"
                         rf"{row.worked}\s", section, re.MULTILINE), row.manager


def test_funnel_by_an_unknown_grouping_names_the_options(ws_path):
    result = CliRunner().invoke(main, ["funnel", "-w", ws_path, "--by", "region"])
    assert result.exit_code == 2
    assert "'region' is not one of 'manager', 'planner'" in result.output


def test_portfolio_leaves_out_an_account_whose_stored_data_is_refused(tmp_path):
    # PELAGOS' first cost line booked to "travel" around the store's checks: kam portfolio
    # names it as left out and still shows the other 11 accounts
    from storekit import write_around_the_store

    path = tmp_path / "ws"
    demo.build(path).close()

    def travel(data):
        data["costs"][0]["category"] = "travel"

    write_around_the_store(path, "PELAGOS", travel)
    out = run("portfolio", "-w", str(path), "--period", "2026")
    assert re.search(r"Left out: Pelagos .*\(PELAGOS\): .*unknown category 'travel'", out)
    ranking = out[out.index("Net contribution ranking:"):]
    assert "PELAGOS" not in ranking and "KARSTGOLD" in ranking
    assert "Top 1:" in out


def test_portfolio_without_sales_says_so_instead_of_zeros(tmp_path):
    from kam.model import Account, Dossier
    from kam.store import Workspace

    path = tmp_path / "ws"
    with Workspace(path, create=True) as ws:
        ws.save(Dossier(account=Account(id="ACME", name="Acme", phone="+1 555 0100",
                                        address="1 Main St")), author="t", message="new")
    out = run("portfolio", "-w", str(path))
    assert "Top 1: 0%" not in out and "Herfindahl: 0.000" not in out
    assert ("Concentration: no data. No revenue lines in the selection, so there is no "
            "concentration to measure: the account has no revenue line; import sales") in out
    assert "no data. No revenue or cost lines in the selection" in out
