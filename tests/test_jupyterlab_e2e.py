"""End to end in a real JupyterLab (headless Debian chromium via playwright), as a KAM works:
each report notebook run twice in the same kernel (Run All, then Run All again) without an
error, no console error, no request leaving the machine; screenshots kept under the test's
temporary folder (``KAM_SCREENSHOTS=<folder>`` copies them there too).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from jupyterlab import Lab, chromium, error_outputs, open_notebook, run_all, running_lab

from kam import demo
from kam.config import notebooks_dir

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPORT_NOTEBOOKS = ("account_plan.ipynb", "profitability.ipynb", "portfolio.ipynb")


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    base = tmp_path_factory.mktemp("lab")
    workspace = base / "kam-workspace"
    demo.build(workspace).close()
    root = base / "work"
    root.mkdir()
    for nb in notebooks_dir().glob("*.ipynb"):  # a KAM's copies, never the packaged files
        shutil.copy(nb, root / nb.name)
    env = {"KAM_WORKSPACE": str(workspace), "KAM_USER": "maria.lind"}
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
