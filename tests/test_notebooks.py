"""The report notebooks run for real: nbval, papermill (library and CLI), the batch over the
demo with its index, incremental re-runs, failures, confidentiality and the CLI commands.

One batch over the demo (every account's two reports and the portfolio report) is rendered once
per session into a shared folder (:func:`demo_reports`) and read by many tests, also by
``test_browser.py``.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from storekit import write_around_the_store

from kam import demo
from kam.cli.reports import batch as batch_command
from kam.cli.reports import report as report_command
from kam.config import notebooks_dir
from kam.errors import AccountNotFound, ReportFailed
from kam.reports.batch import MANIFEST, BatchResult, run_batch
from kam.reports.html import PLOTLY_JS, PLOTLY_MIMETYPE
from kam.reports.params import NOTEBOOKS, PARAMETERS, demo_workspace
from kam.reports.render import KernelSession, render_report
from kam.store import Workspace

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
MAX_REPORT_BYTES = 300_000


def demo_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point the demo cache (used when a report's ``workspace`` is ``"demo"``) into the
    session's temporary folder (as the ``demo_cache`` fixture does); kernels inherit the
    variable."""
    cache = tmp_path_factory.getbasetemp() / "kam-demo-cache"
    os.environ["KAM_DEMO_CACHE"] = str(cache)
    return cache


def demo_reports(tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    """The demo batch, rendered once per session (a second call finds every report unchanged)."""
    demo_env(tmp_path_factory)
    return run_batch("demo", tmp_path_factory.getbasetemp() / "kam-demo-reports", workers=2,
                     progress=False)


@pytest.fixture(scope="module", autouse=True)
def _demo_cache(tmp_path_factory):
    before = os.environ.get("KAM_DEMO_CACHE")
    yield demo_env(tmp_path_factory)
    if before is None:
        os.environ.pop("KAM_DEMO_CACHE", None)
    else:
        os.environ["KAM_DEMO_CACHE"] = before


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> BatchResult:
    return demo_reports(tmp_path_factory)


@pytest.fixture(scope="module")
def kernel() -> Iterator[KernelSession]:
    """One kernel for the reports that tests of this module render with ``render_report``, as a
    batch worker reuses its kernel from report to report (a report that fails leaves it in use,
    one that times out restarts it): a fresh kernel costs seconds of start-up and imports."""
    with KernelSession() as session:
        yield session


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    return {d.account.id: d.account.name for d in demo.dossiers()}


def figures_in(notebook: Path) -> int:
    nb = nbformat.read(str(notebook), as_version=4)
    return sum(PLOTLY_MIMETYPE in out.get("data", {}) for cell in nb.cells
               for out in cell.get("outputs", []))


# -- nbval and papermill -----------------------------------------------------------------------
def test_notebooks_pass_nbval_with_their_defaults(demo_cache):
    """The committed notebooks run top to bottom with no parameter, and the checked output (the
    resolved parameters) matches what is stored. An empty ``workspace`` is ``$KAM_WORKSPACE``:
    here the built-in demo, so the stored defaults mean its first account and its date."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
         "--nbval-current-env", "-o", "addopts=", "--rootdir", str(notebooks_dir()),
         str(notebooks_dir())],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "KAM_WORKSPACE": str(demo_cache)})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert re.search(r"\b\d+ passed\b", proc.stdout)
    assert "failed" not in proc.stdout.splitlines()[-1]


def test_notebooks_are_stored_small_and_without_figures():
    for path in notebooks_dir().glob("*.ipynb"):
        nb = nbformat.read(str(path), as_version=4)
        outputs = [o for c in nb.cells for o in c.get("outputs", [])]
        # only the checked parameter line is stored
        assert all(o["output_type"] == "stream" for o in outputs), path.name
        assert path.stat().st_size < 30_000, path.name
        if path.name in NOTEBOOKS.values():           # a report notebook: papermill parameters
            tags = [c.metadata.get("tags", []) for c in nb.cells]
            assert ["parameters"] in tags, path.name


def test_plain_papermill_cli_runs_a_report_notebook(tmp_path):
    out = tmp_path / "out.ipynb"
    proc = subprocess.run(
        [str(BIN / "papermill"), str(notebooks_dir() / "account_plan.ipynb"), str(out),
         "-p", "workspace", "demo", "-p", "account_id", "NORDSTAHL", "-p", "period", "2026",
         "-k", "python3", "--no-progress-bar"], capture_output=True, text=True, timeout=300,
        env=os.environ.copy())
    assert proc.returncode == 0, proc.stderr[-2000:]
    nb = nbformat.read(str(out), as_version=4)
    assert nb.metadata.papermill.parameters == {"workspace": "demo", "account_id": "NORDSTAHL",
                                                "period": 2026}
    # `-p period 2026` arrives as an int; the notebook takes it as the period "2026"
    check = next(c for c in nb.cells if c.get("id") == "check-parameters")
    assert check.outputs[0]["text"] == ("account plan report of NORDSTAHL, period 2026, as of "
                                        "2026-11-01, demo workspace\n")
    assert figures_in(out) >= 6
    assert "Kernel is running over TCP" not in proc.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["-p", "acount_id", "NORDSTAHL"], "field 'acount_id': unknown parameter (a typo?)"),
    (["-p", "account_id", "NORDSTAL"], "Account 'NORDSTAL' not found in the workspace; "
                                       "known accounts: AZURCHEM"),
    (["-p", "account_id", "NORDSTAHL", "-p", "as_of", "2026-02-30"],
     "'2026-02-30' is not a date"),
])
def test_plain_papermill_fails_loudly_on_bad_parameters(tmp_path, args, message):
    out = tmp_path / "out.ipynb"
    proc = subprocess.run(
        [str(BIN / "papermill"), str(notebooks_dir() / "account_plan.ipynb"), str(out),
         "-p", "workspace", "demo", *args, "-k", "python3", "--no-progress-bar"],
        capture_output=True, text=True, timeout=300,
        env=os.environ.copy())
    assert proc.returncode != 0
    assert message in proc.stderr
    assert out.exists()  # papermill keeps the failed notebook


def test_render_report_checks_parameters_before_running(tmp_path):
    with pytest.raises(AccountNotFound, match="Account 'NOPE' not found"):
        render_report("demo", "NOPE", "plan", tmp_path)
    assert not (tmp_path / "notebooks").exists()


# -- failures, incremental re-runs -------------------------------------------------------------
@pytest.fixture
def workspace_copy(tmp_path) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo_workspace(), target)
    return target


def test_one_accounts_refused_costs_never_fail_another_accounts_report(workspace_copy, tmp_path,
                                                                       kernel):
    """A cost line booked to an unknown category (refused by kam validate) in PELAGOS: the
    profitability report of KESTREL still renders, ranks KESTREL among the others and never
    names PELAGOS; the portfolio report renders too and lists PELAGOS as left out."""
    def travel(data):
        data["costs"][0]["category"] = "travel"

    write_around_the_store(workspace_copy, "PELAGOS", travel)
    out = tmp_path / "out"
    page = render_report(workspace_copy, "KESTREL", "profitability", out, as_of="2026-11-01",
                         kernel=kernel).html.read_text(encoding="utf-8")
    assert "PELAGOS" not in page and "Pelagos" not in page and "travel" not in page
    assert "ranks" in page and " of 11" in page  # 12 accounts, one left out
    assert "1 other account is left out of the ranking: kam refuses their data" in page
    portfolio = render_report(workspace_copy, None, "portfolio", out, as_of="2026-11-01",
                              kernel=kernel).html.read_text(encoding="utf-8")
    assert "Accounts left out: kam refuses their data" in portfolio
    left_out = portfolio[portfolio.index("Accounts left out"):]
    assert "Pelagos" in left_out and "unknown category" in left_out and "travel" in left_out


def break_deal_stage(location: Path, account_id: str) -> None:
    """Data a report cannot handle: a deal in a stage the playbook does not map, on an account
    that records no decision stage (deal status raises InputError naming the fix).

    kam's own saves refuse such data, so it is written around the store, as a direct SQL edit
    (or an older version of kam) would have left it: the batch must still isolate the failure.
    """
    def change(data: dict) -> None:
        data["account"]["decision_stage"] = None
        data["deals"][0]["stage"] = "haggling"

    write_around_the_store(location, account_id, change)


def test_render_report_failure_keeps_the_annotated_notebook(workspace_copy, tmp_path, kernel):
    break_deal_stage(workspace_copy, "PELAGOS")
    out = tmp_path / "out"
    with pytest.raises(ReportFailed, match=r"plan report of PELAGOS failed in cell \d+: "
                       r"InputError: .*deal stage 'haggling' has no decision stage") as info:
        render_report(workspace_copy, "PELAGOS", "plan", out, kernel=kernel)
    kept = Path(info.value.output_path)
    assert kept == out / "notebooks" / "plan-PELAGOS.ipynb" and kept.exists()
    nb = nbformat.read(str(kept), as_version=4)
    assert "papermill-error-cell-tag" in nb.cells[0].metadata.get("tags", [])   # red banner
    assert not (out / "plan-PELAGOS.html").exists()


def test_batch_goes_on_after_a_failure_and_reruns_only_what_changed(workspace_copy, tmp_path):
    out = tmp_path / "reports"
    break_deal_stage(workspace_copy, "PELAGOS")
    common = {"accounts": ["KESTREL", "PELAGOS"], "kinds": ["plan"], "portfolio": False,
              "workers": 2, "progress": False, "as_of": "2026-11-01"}

    first = run_batch(workspace_copy, out, **common)
    status = dict(zip(first.reports["name"], first.reports["status"], strict=True))
    assert status == {"plan-KESTREL": "rendered", "plan-PELAGOS": "failed"}
    assert not first.ok
    assert "FAILED plan-PELAGOS: plan report of PELAGOS failed in cell" in first.summary()
    assert "notebook kept: " in first.summary()
    assert (out / "notebooks" / "plan-PELAGOS.ipynb").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "1 report failed" in index and "account plan: failed" in index

    # nothing changed: the good report is skipped, the failed one is tried again
    second = run_batch(workspace_copy, out, **common)
    status = dict(zip(second.reports["name"], second.reports["status"], strict=True))
    assert status == {"plan-KESTREL": "unchanged", "plan-PELAGOS": "failed"}

    # fix PELAGOS: only it is redone
    with Workspace(workspace_copy) as ws:
        d = ws.load("PELAGOS")
        d.move_deal(d.deals[0].id, "lead", on=date(2026, 11, 1))
        ws.save(d, author="test", message="fixed")
    third = run_batch(workspace_copy, out, **common)
    status = dict(zip(third.reports["name"], third.reports["status"], strict=True))
    assert status == {"plan-KESTREL": "unchanged", "plan-PELAGOS": "rendered"}
    assert third.ok and (out / "plan-PELAGOS.html").exists()

    # a change to KESTREL's data redoes its plan report only; --force redoes both
    with Workspace(workspace_copy) as ws:
        d = ws.load("KESTREL")
        d.account.notes = "changed"
        ws.save(d, author="test", message="note")
    fourth = run_batch(workspace_copy, out, **common)
    assert dict(zip(fourth.reports["name"], fourth.reports["status"], strict=True)) == {
        "plan-KESTREL": "rendered", "plan-PELAGOS": "unchanged"}
    forced = run_batch(workspace_copy, out, force=True, **common)
    assert set(forced.reports["status"]) == {"rendered"}
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest["reports"]) == {"plan-KESTREL", "plan-PELAGOS"}


# -- the demo batch ----------------------------------------------------------------------------
def test_batch_renders_every_demo_report(reports, names):
    expected = {f"{kind}-{a}" for a in names for kind in ("plan", "profitability")}
    assert set(reports.reports["name"]) == expected | {"portfolio"}
    assert reports.ok, reports.summary()
    out = reports.out_dir
    assert (out / PLOTLY_JS).exists()
    assert len(list(out.rglob("plotly*.js"))) == 1  # one shared copy
    for row in reports.reports.itertuples():
        page = Path(row.html)
        assert page.exists(), row.name
        assert page.stat().st_size <= MAX_REPORT_BYTES, (row.name, page.stat().st_size)


def test_reports_are_offline_and_hold_no_code_or_stderr(reports):
    for page in reports.out_dir.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", text), page.name
        assert "https://cdn" not in text and "require.min.js" not in text, page.name
        if page.name == "index.html":
            continue
        assert "import kam" not in text and "check_parameters" not in text, page.name
        assert "Traceback" not in text, page.name


def test_widget_cells_run_in_the_notebook_but_stay_out_of_the_report(reports):
    """The meeting-preparation widget of the plan notebook is interactive only: papermill runs
    it (its state is in the executed notebook), the report leaves it out."""
    row = reports.reports.set_index("name").loc["plan-NORDSTAHL"]
    nb = nbformat.read(row["notebook"], as_version=4)
    views = [o for c in nb.cells for o in c.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views and "widgets" in nb.metadata
    page = Path(row["html"]).read_text(encoding="utf-8")
    assert "widget" not in page and "Prepare a meeting" not in page


def test_index_links_every_report_with_escaped_key_figures(reports, names):
    index = (reports.out_dir / "index.html").read_text(encoding="utf-8")
    for account_id, name in names.items():
        assert html.escape(name) in index
        assert f'href="plan-{account_id}.html"' in index
        assert f'href="profitability-{account_id}.html"' in index
    assert 'href="portfolio.html"' in index
    # "McAllister & O'Neill Foods Ltd" appears escaped only
    assert "McAllister &amp; O&#x27;Neill Foods Ltd" in index
    assert "McAllister & O'Neill" not in index
    for label in ("Net revenue", "Net contribution", "Relationship health", "Rank by contribution"):
        assert f">{label}</th>" in index
    # KARSTGOLD ranks first by net contribution in 2026 (the whale curve of the demo)
    row = re.search(r"KARSTGOLD</small>.*?</tr>", index, re.S).group(0)
    assert ">1 of 12<" in row


def test_per_account_reports_name_no_other_account(reports, names):
    """Confidentiality: a plan or profitability report (HTML and executed notebook) holds no
    other account's name, raw or HTML-escaped, nor its id."""
    for row in reports.reports.itertuples():
        if row.kind == "portfolio":
            continue
        texts = [Path(row.html).read_text(encoding="utf-8"),
                 Path(row.notebook).read_text(encoding="utf-8")]
        for other, name in names.items():
            if other == row.account_id:
                continue
            forms = {name, html.escape(name), html.escape(name, quote=False),
                     json.dumps(name)[1:-1], json.dumps(html.escape(name))[1:-1]}
            for text in texts:
                for form in forms:
                    assert form not in text, (row.name, other)
                assert not re.search(rf"\b{re.escape(other)}\b", text), (row.name, other)


def test_reports_show_people_by_name_not_by_id(reports):
    """People's names, not ids: NORDSTAHL's plan actions are owned by tom.hale, ben.okafor
    (our team) and NS-P5 (a person of the client); the report shows their names. The portfolio
    report names the managers and planners."""
    team = {m.id: m.name for m in demo.team().members}
    nordstahl = next(d for d in demo.dossiers() if d.account.id == "NORDSTAHL")
    page = Path(reports.reports.set_index("name").loc["plan-NORDSTAHL", "html"]).read_text(
        encoding="utf-8")
    actions = page[page.index("<caption>Actions</caption>"):]
    actions = actions[:actions.index("</table>")]
    for owner in {a.owner for a in nordstahl.plan.actions}:
        name = team.get(owner) or nordstahl.person(owner).name
        assert f">{html.escape(name)}<" in actions and f">{owner}<" not in actions
    portfolio = Path(reports.reports.set_index("name").loc["portfolio", "html"]).read_text(
        encoding="utf-8")
    assert "<caption>By planner: each lead manager's team together</caption>" in portfolio
    for member_id in team:
        assert f">{member_id}<" not in portfolio, member_id


def test_report_header_toc_and_footer(reports, names):
    page = (reports.out_dir / "plan-MCALLISTER.html").read_text(encoding="utf-8")
    # nbconvert re-serialises the page: text keeps ' (safe there) and escapes &
    assert "<title>McAllister &amp; O'Neill Foods Ltd</title>" in page
    assert "McAllister & O" not in page
    for section in ("Key figures and warnings", "Need map", "Buying center", "Opportunity matrix",
                    "Prospect score", "Account plan", "Deal status", "Relationship health",
                    "Next actions"):
        assert f'<a href="#{section.replace(" ", "-")}">{section}</a>' in page
        assert f'id="{section.replace(" ", "-")}"' in page
    assert "<dt>As of</dt><dd>2026-11-01</dd>" in page
    assert "<code>workspace=demo</code>" in page and "<code>account_id=MCALLISTER</code>" in page
    assert "Generated by kam" in page and "account data fingerprint" in page


def test_every_figure_of_a_report_is_drawn_in_its_html(reports):
    for row in reports.reports.itertuples():
        page = Path(row.html).read_text(encoding="utf-8")
        n = figures_in(Path(row.notebook))
        assert n > 0, row.name
        assert page.count('class="kam-plot"') == n, row.name
        assert page.count("Plotly.newPlot(") == n, row.name


def test_parameters_cells_declare_the_documented_parameters():
    import papermill as pm

    for kind, params in PARAMETERS.items():
        declared = pm.inspect_notebook(str(notebooks_dir() / NOTEBOOKS[kind]))
        assert list(declared) == [p.name for p in params]


# -- CLI -------------------------------------------------------------------------------------------
def test_cli_report_writes_one_report(tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(demo_workspace(), ws)
    result = CliRunner().invoke(report_command, [
        "KESTREL", "--kind", "profitability", "-w", str(ws), "-o", str(tmp_path / "out"),
        "--as-of", "2026-11-01"])
    assert result.exit_code == 0, result.output
    assert re.match(r"Wrote .*profitability-KESTREL\.html \(\d+\.\d s\)", result.output)
    assert (tmp_path / "out" / PLOTLY_JS).exists()


def test_cli_report_usage_errors(tmp_path):
    runner = CliRunner()
    assert "missing ACCOUNT (or use --portfolio)" in runner.invoke(report_command, []).output
    both = runner.invoke(report_command, ["KESTREL", "--portfolio"])
    assert both.exit_code == 2 and "either ACCOUNT or --portfolio" in both.output


def test_cli_batch_exits_non_zero_when_a_report_fails(workspace_copy, tmp_path):
    break_deal_stage(workspace_copy, "PELAGOS")
    result = CliRunner().invoke(batch_command, [
        "-w", str(workspace_copy), "-o", str(tmp_path / "out"), "-a", "PELAGOS", "-a", "KESTREL",
        "--kind", "plan", "--no-portfolio", "--no-progress", "--as-of", "2026-11-01"])
    assert result.exit_code == 1
    assert "2 reports: 1 rendered, 0 unchanged, 1 failed" in result.output
    assert "FAILED plan-PELAGOS" in result.output
    assert "Kernel is running over TCP" not in result.output


def test_batch_filters_by_manager_and_category(workspace_copy, tmp_path):
    result = run_batch(workspace_copy, tmp_path / "out", manager="tom.hale", category="C",
                       kinds=["plan"], workers=1, progress=False, as_of="2026-11-01")
    # tom.hale's C accounts in the demo: KESTREL; his portfolio report follows the filter
    assert sorted(result.reports["name"]) == ["plan-KESTREL", "portfolio-tom.hale"]
    assert result.ok, result.summary()


def test_a_cell_that_runs_too_long_fails_the_report_and_keeps_its_notebook(tmp_path):
    """nbclient raises CellTimeoutError (not papermill's error): the report fails with the
    reason, the partial notebook is kept with a banner, and a reused kernel is restarted."""
    from kam.reports.params import check_parameters
    from kam.reports.render import KernelSession, execute

    source = nbformat.v4.new_notebook()
    params_cell = nbformat.v4.new_code_cell('workspace: str = ""\naccount_id: str = ""\n'
                                            'period: str = ""\nas_of: str = ""')
    params_cell.metadata["tags"] = ["parameters"]
    source.cells = [params_cell, nbformat.v4.new_code_cell("import time\ntime.sleep(60)")]
    source.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
    path = tmp_path / "slow.ipynb"
    nbformat.write(source, str(path))
    params = check_parameters("plan", workspace="demo", account_id="KESTREL")
    with KernelSession() as kernel:
        result = execute(params, tmp_path / "out", name="plan-KESTREL", timeout=2,
                         kernel=kernel, notebook=path)
        assert result.error is not None and result.error.startswith(
            "plan report of KESTREL timed out: A cell timed out while it was being executed")
        assert result.html is None and kernel._km is None  # restarted on the next run
    kept = nbformat.read(str(result.notebook), as_version=4)
    assert "This run stopped" in kept.cells[0].source
