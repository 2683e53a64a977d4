"""End to end in a real JupyterLab (headless Debian chromium via playwright), as a KAM works:
the workbook (pick an account, log a meeting, a deal move the gate refuses with the missing
information shown, one it accepts, save: the revision is in the store and the chart redrawn),
and each report notebook run twice in the same kernel (Run All, then Run All again) without an
error; no console error, no request leaving the machine; screenshots kept under the test's
temporary folder (``KAM_SCREENSHOTS=<folder>`` copies them there too).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from labkit import Lab, chromium, error_outputs, open_notebook, run_all, running_lab

from kam import demo
from kam.config import notebooks_dir
from kam.funnel import funnel
from kam.model import tables
from kam.store import EditSession, Workspace

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# One report notebook in the real JupyterLab: the three share their setup cells and parameter
# check, and each of them runs twice in one kernel (with a scratch cell between) in
# tests/test_notebooks_rerun.py; this one proves the same inside JupyterLab's frontend.
REPORT_NOTEBOOKS = ("profitability.ipynb",)
ACCOUNT = "NORDSTAHL"
E2E_DEAL = "E2E pump retrofit"


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    base = tmp_path_factory.mktemp("lab")
    workspace = base / "kam-workspace"
    with demo.build(workspace) as ws:
        # A deal with product and volume but no delivery date: the gate lets it into
        # 'potential' and refuses 'sale' until the date is known.
        s = EditSession(ws, ACCOUNT, author="setup")
        s.apply("add_deal", title=E2E_DEAL, created=date(2026, 11, 2), product="pump set",
                volume=4)
        s.save("a deal for the end-to-end test")
        kam = ws.load(ACCOUNT).account.kam
    root = base / "work"
    root.mkdir()
    for nb in notebooks_dir().glob("*.ipynb"):  # a KAM's copies, never the packaged files
        shutil.copy(nb, root / nb.name)
    env = {"KAM_WORKSPACE": str(workspace), "KAM_USER": str(kam)}
    with running_lab(root, env) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def screenshot(page, lab: Lab, name: str) -> Path:
    path = lab.root.parent / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    if os.environ.get("KAM_SCREENSHOTS"):
        folder = Path(os.environ["KAM_SCREENSHOTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / path.name)
    return path


@pytest.mark.parametrize("notebook", REPORT_NOTEBOOKS)
def test_report_notebook_runs_twice_in_one_kernel_in_jupyterlab(lab, browser, notebook):
    page, seen = open_notebook(browser, lab, notebook)
    try:
        for attempt in (1, 2):
            run_all(page, lab)
            assert error_outputs(page) == [], (notebook, attempt)
        # The report's charts are drawn in the page (plotly's JupyterLab renderer).
        assert page.locator(".js-plotly-plot").count() > 0
        assert page.locator(".kam-kpis").count() == 1
        screenshot(page, lab, f"lab-{Path(notebook).stem}")
        assert seen.errors == [], seen.errors
        assert seen.outside(lab) == []
    finally:
        page.close()


def _field(root, kind: str, label: str):
    """The input of the widget of ``kind`` (dropdown, text, ...) labelled ``label`` in ``root``
    (a locator)."""
    page = getattr(root, "page", root)  # a Locator or the Page itself
    box = root.locator(f".widget-{kind}").filter(has=page.locator(
        "label.widget-label", has_text=re.compile(f"^{re.escape(label)}$")))
    return box.locator("select, input, textarea").first


def _button(root, text: str):
    return root.locator("button.jupyter-button:visible", has_text=re.compile(
        rf"^\s*{re.escape(text)}\s*$")).first


def _visible_tab(page):
    return page.locator(".widget-tab-contents > :not(.lm-mod-hidden)").first


def _wait_text(locator, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in locator.inner_text():
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} did not appear; shown: {locator.inner_text()[:1500]!r}")
        time.sleep(0.2)


def test_workbook_pick_log_move_and_save_in_jupyterlab(lab, browser):
    workspace = os.environ.get("KAM_WORKSPACE_E2E") or str(lab.root.parent / "kam-workspace")
    with Workspace(workspace) as ws:
        head = ws.head(ACCOUNT)
        deal_id = next(x.id for x in ws.load(ACCOUNT).deals if x.title == E2E_DEAL)
    page, seen = open_notebook(browser, lab, "workbook.ipynb")
    try:
        run_all(page, lab)
        assert error_outputs(page) == []
        page.wait_for_selector(".jupyter-widgets .widget-select select", timeout=60_000)
        # pick the account
        page.get_by_placeholder("Search name or id").fill(ACCOUNT)
        picker = page.locator(".widget-select select").first
        _wait_text(picker, ACCOUNT)
        picker.select_option(index=0)
        _wait_text(page.locator(".jupyter-widgets").first, "Nordstahl Rolling Mills AG")
        no_news = page.locator(".jp-toast-button", has_text="No")
        if no_news.count():
            no_news.first.click()
        page.locator(".jp-Notebook .jp-Cell").nth(1).scroll_into_view_if_needed()
        page.locator(".jupyter-widgets").first.scroll_into_view_if_needed()
        screenshot(page, lab, "workbook")

        # log a meeting
        page.locator(".widget-tab .lm-TabBar-tab", has_text="Interactions").first.click()
        tab = _visible_tab(page)
        tab.locator(".widget-select-multiple").filter(
            has=page.locator("label", has_text="Client")).locator("select").select_option(
            index=0)
        _field(tab, "textarea", "Summary").fill("Walked the rolling line with the E2E test")
        _button(tab, "Log contact").click()
        _wait_text(tab, "Walked the rolling line")

        # a move the gate refuses, then one it accepts
        page.locator(".widget-tab .lm-TabBar-tab", has_text="Deals").first.click()
        tab = _visible_tab(page)
        deal = _field(tab, "dropdown", "Deal")
        label = next(o for o in deal.locator("option").all_inner_texts() if deal_id in o)
        deal.select_option(label=label)
        _field(tab, "dropdown", "Move to").select_option(index=2)  # 3. sale
        _wait_text(tab, "the wanted delivery date")  # shown before the move
        _button(tab, "Move").click()
        _wait_text(tab, "cannot move into stage")
        screenshot(page, lab, "workbook-gate")
        _field(tab, "dropdown", "Move to").select_option(index=1)  # 2. potential
        _wait_text(tab, "Ready")
        _button(tab, "Move").click()
        _wait_text(tab, f"{E2E_DEAL} ({deal_id}) is in stage potential")

        # save with a message
        page.get_by_placeholder("What changed (saved with the revision)").fill("e2e: meeting")
        _button(page, "Save").click()
        _wait_text(page.locator(".jupyter-widgets").first, f"revision {head + 1}")
        screenshot(page, lab, "workbook-saved")

        with Workspace(workspace) as ws:
            hist = ws.history(ACCOUNT)
            saved = ws.load(ACCOUNT)
        assert hist["revision"].tolist()[-1] == head + 1
        assert hist["message"].tolist()[-1] == "e2e: meeting"
        assert saved.deal(deal_id).stage == "potential"
        assert [h.stage for h in saved.deal(deal_id).history] == ["lead", "potential"]
        assert any(x.summary == "Walked the rolling line with the E2E test"
                   for x in saved.interactions)
        # the chart in the page was redrawn from the saved data: the account's funnel
        expected = funnel(tables([saved])).stages["reached"].tolist()
        plot = tab.locator(".js-plotly-plot").first
        plot.evaluate("gd => new Promise(ok => { const t = Date.now(); (function wait() {"
                      " if ((gd.data && gd.data[0]) || Date.now() - t > 30000) ok();"
                      " else setTimeout(wait, 200); })(); })")
        drawn = plot.evaluate("gd => gd.data[0].x")
        assert list(drawn) == expected
        assert seen.errors == [], seen.errors
        assert seen.outside(lab) == []
    finally:
        page.close()


def test_portfolio_explorer_opens_an_account_in_the_workbook_in_jupyterlab(lab, browser):
    page, seen = open_notebook(browser, lab, "portfolio_explorer.ipynb")
    try:
        run_all(page, lab)
        assert error_outputs(page) == []
        accounts = page.locator(".widget-select").filter(
            has=page.locator("label.widget-label", has_text=re.compile("^Account$"))
        ).locator("select")
        accounts.wait_for(timeout=120_000)  # the explorer draws its charts first
        _field(page, "dropdown", "Manager").select_option(label="Tom Hale")
        with Workspace(lab.root.parent / "kam-workspace") as ws:
            managed = sum(d.account.kam == "tom.hale" for d in ws.load_all())
        deadline = time.monotonic() + 30  # the filtered list replaces the full one
        while accounts.locator("option").count() != managed:
            assert time.monotonic() < deadline, accounts.inner_text()
            time.sleep(0.2)
        label = next(o for o in accounts.locator("option").all_inner_texts()
                     if o.replace("\xa0", " ").startswith("Nordstahl Rolling Mills AG"))
        accounts.select_option(label=label)
        _button(page, "Open").click()
        # the workbook below the explorer shows the account's overview
        title = page.locator(".kam-title").last  # the overview of the workbook below
        _wait_text(title, "Nordstahl Rolling Mills AG")
        assert page.locator(".kam-title").count() == 1
        screenshot(page, lab, "portfolio-explorer")
        assert page.locator(".js-plotly-plot").count() >= 4
        assert seen.errors == [], seen.errors
        assert seen.outside(lab) == []
    finally:
        page.close()
