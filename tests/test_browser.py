"""The demo reports in a real headless browser (Debian's chromium driven by playwright).

For each kind of report, on accounts of every sort of the demo: every chart is drawn (one plot
container per figure of the executed notebook, each with plotly's SVG), the page logs no console
error, no request leaves the machine, the table of contents points at existing sections, and a
screenshot of it is saved. Set
``KAM_SCREENSHOTS=<folder>`` to also copy the screenshots there (e.g. ``docs/screenshots``).

These tests never skip: without chromium they fail and say how to install it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from labkit import chromium
from test_notebooks import demo_env, demo_reports, figures_in

from kam.reports.batch import BatchResult

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SHOWN = ("plan-NORDSTAHL", "plan-MCALLISTER", "plan-PELAGOS", "profitability-BRIGHTWELL",
         "profitability-SOLENNE", "portfolio")


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> BatchResult:
    before = os.environ.get("KAM_DEMO_CACHE")
    demo_env(tmp_path_factory)
    try:
        return demo_reports(tmp_path_factory)
    finally:
        if before is None:
            os.environ.pop("KAM_DEMO_CACHE", None)
        else:
            os.environ["KAM_DEMO_CACHE"] = before


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def open_page(browser, path: Path, *, width: int = 1200, javascript: bool = True):
    page = browser.new_page(viewport={"width": width, "height": 900},
                            java_script_enabled=javascript)
    seen = {"requests": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.goto(path.as_uri())
    return page, seen


def check_offline(seen: dict, name: str) -> None:
    outside = [u for u in seen["requests"] if not u.startswith(("file://", "data:"))]
    assert outside == [], (name, outside)
    assert seen["errors"] == [], (name, seen["errors"])


def test_reports_draw_every_chart_offline_and_look_right(reports, browser, tmp_path):
    """Each kind of report, on accounts of every sort of the demo (SHOWN), in the browser: every
    chart drawn, no console error, no request leaving the machine, the table of contents
    pointing at existing sections; and a full-page screenshot of each (and of the index) that
    is not blank. (That every figure of every report is in its HTML is checked for all the
    demo's reports, without a browser, in test_notebooks.py.)"""
    copy_to = os.environ.get("KAM_SCREENSHOTS")
    rows = reports.reports.set_index("name")
    assert set(SHOWN) <= set(rows.index)
    for name in (*SHOWN, "index"):
        path = Path(rows.loc[name, "html"]) if name != "index" else reports.out_dir / "index.html"
        page, seen = open_page(browser, path)
        try:
            if name != "index":
                expected = figures_in(Path(rows.loc[name, "notebook"]))
                page.wait_for_function(
                    f"document.querySelectorAll('.kam-plot .plot-container .main-svg').length"
                    f" >= {expected}", timeout=30_000)
                drawn = page.evaluate("""() => [...document.querySelectorAll('.kam-plot')].map(
                    el => el.querySelectorAll('.plot-container .main-svg').length > 0)""")
                containers = page.evaluate(
                    "document.querySelectorAll('.kam-plot .plot-container').length")
                assert len(drawn) == expected and all(drawn), (name, drawn)
                assert containers == expected, (name, containers, expected)
                missing = page.evaluate("""() => [...document.querySelectorAll('.kam-toc a')]
                    .map(a => a.getAttribute('href').slice(1))
                    .filter(id => !document.getElementById(id))""")
                assert missing == [], (name, missing)
                assert page.evaluate(
                    "document.querySelectorAll('.kam-plot-missing').length") == 0
            shot = tmp_path / f"{name}.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            page.close()
        check_offline(seen, name)
        if name != "index":
            assert any(u.endswith("/plotly.min.js") for u in seen["requests"]), name
        assert shot.stat().st_size > 20_000, name  # a blank page is a few kB
        if copy_to:
            Path(copy_to).mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, Path(copy_to) / shot.name)


def test_index_page_links_resolve(reports, browser):
    page, seen = open_page(browser, reports.out_dir / "index.html")
    try:
        hrefs = page.evaluate("[...document.querySelectorAll('a')].map(a => a.href)")
    finally:
        page.close()
    check_offline(seen, "index")
    assert len(hrefs) == 25
    for href in hrefs:
        assert href.startswith("file://")
        assert Path(href.removeprefix("file://")).exists(), href


def test_print_layout_hides_the_contents_box(reports, browser):
    """The report's print stylesheet hides the contents box that the screen shows. The box and
    the stylesheet are plain HTML and CSS, so the page's scripts (plotly drawing the charts, which
    takes seconds and is checked above) are left off."""
    page, _ = open_page(browser, reports.out_dir / "plan-NORDSTAHL.html", javascript=False)
    try:
        style = "getComputedStyle(document.querySelector('.kam-toc')).display"
        on_screen = page.evaluate(style)
        page.emulate_media(media="print")
        shown = page.evaluate(style)
    finally:
        page.close()
    assert on_screen != "none"
    assert shown == "none"
