"""Fast tests of the report machinery: display helpers, parameter checks, the HTML template.

Notebook runs and the browser live in ``test_notebooks.py`` and ``test_browser.py`` (slow).
"""

from __future__ import annotations

import ast
import re
from datetime import date

import nbformat
import pandas as pd
import pytest

from kam.errors import AccountNotFound, InputError, ReportFailed
from kam.model import Account, Dossier, Team, TeamMember
from kam.reports import display as kd
from kam.reports.html import (
    PLOTLY_JS,
    PLOTLY_MIMETYPE,
    failure_of,
    notebook_to_html,
    plotly_js,
    write_plotly_js,
)
from kam.reports.params import PARAMETERS, check_parameters, parameter_cell_names
from kam.reports.render import report_name
from kam.store import Workspace

# -- display helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "decimals", "text"), [
    (1234567.4, 0, "1,234,567"),     # thousands separators
    (-1234.5, 1, "-1,234.5"),
    (0, 0, "0"),
    (None, 0, "—"),
    (float("nan"), 0, "—"),          # a missing value is visible, never "nan"
])
def test_fmt_number(value, decimals, text):
    assert kd.fmt_number(value, decimals) == text


@pytest.mark.parametrize(("value", "text"), [(0.1234, "12.3%"), (1.0, "100.0%"),
                                             (-0.05, "-5.0%"), (None, "—")])
def test_fmt_percent(value, text):
    assert kd.fmt_percent(value) == text


def test_table_formats_escapes_and_marks_negatives():
    frame = pd.DataFrame({
        "account": ["<script>x</script>", "Bäcker & Sons"],
        "net_contribution": [-12500.0, 480000.0],
        "margin_share": [0.25, None],
        "deals": [3, 12000],
    })
    html = kd.table(frame).html
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "Bäcker &amp; Sons" in html
    # -12500 -> "-12,500", red; 480000 -> "480,000"; share 0.25 -> "25.0%"; 12000 ints -> "12,000"
    assert re.search(r'<span class="kam-neg"[^>]*>-12,500</span>', html)
    assert "480,000" in html and "25.0%" in html and "12,000" in html
    assert html.count("kam-neg") == 1
    assert ">—<" in html                                    # the missing share
    assert "<th>Account</th>" in html and "Net contribution" in html
    assert 'class="kam-num">-' not in html.replace("<span", "")  # numbers right-aligned cells


def test_table_shows_only_max_rows_and_says_how_many_more():
    frame = pd.DataFrame({"n": range(30)})
    html = kd.table(frame, max_rows=10).html
    assert html.count("<tr>") == 1 + 10                      # header + 10 rows
    assert "and 20 more rows" in html


def test_table_explicit_formats_and_empty_frame():
    html = kd.table(pd.DataFrame({"rate": [0.5], "value": [0.6]}),
                    formats={"value": "money"}).html
    assert "50.0%" in html and ">1<" in html                  # 0.6 as money rounds to 1
    assert "No deals." in kd.table(pd.DataFrame({"a": []}), empty="No deals.").html


def test_alerts_most_severe_first_and_escaped():
    box = kd.alerts([
        {"severity": "low", "warning": "Note", "action": None},
        {"severity": "high", "warning": "Power point <left>", "action": "Find & meet"},
    ])
    assert box.html.index("kam-alert-high") < box.html.index("kam-alert-low")
    assert "Power point &lt;left&gt;" in box.html and "Find &amp; meet" in box.html
    assert "kam-alert-ok" in kd.alerts(pd.DataFrame(columns=["severity", "warning"])).html


def test_sentence_note_heading_key_figures_escape():
    assert kd.sentence("a < b").html == '<p class="kam-sentence">a &lt; b</p>'
    assert kd.note("<i>").html == '<p class="kam-empty">&lt;i&gt;</p>'
    assert kd.heading("R&D", 2).html == "<h2>R&amp;D</h2>"
    cards = kd.key_figures([kd.KeyFigure("Margin <%>", -0.1, "pct", tone="bad")])
    assert "Margin &lt;%&gt;" in cards.html and "-10.0%" in cards.html
    assert "kam-tone-bad" in cards.html and "kam-neg" in cards.html
    with pytest.raises(ValueError, match=r"heading level must be 1\.\.6, got 9"):
        kd.heading("x", 9)


def test_report_header_bundle_carries_meta_for_the_template():
    header = kd.report_header("plan", "Acme <Steel>", facts=[("Period", "2026")],
                              key_figures=[kd.KeyFigure("Revenue", 1500.0, "money")])
    bundle = header._repr_mimebundle_()
    meta = bundle[kd.REPORT_MIMETYPE]
    assert meta["title"] == "Acme <Steel>"                   # raw: the template escapes it
    assert meta["key_figures"] == [{"label": "Revenue", "value": "1,500", "tone": None,
                                    "negative": False, "index": False}]
    assert "Acme &lt;Steel&gt;" in bundle["text/html"]


# -- parameters --------------------------------------------------------------------------------
@pytest.fixture
def small_ws(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save_team(Team(members=[TeamMember(id="ann", name="Ann")]))
    for acc_id in ("ACME", "BOLT"):
        ws.save(Dossier(account=Account(id=acc_id, name=f"{acc_id} Ltd", kam="ann",
                                        phone="+1 555 0100")))
    ws.close()
    return str(tmp_path / "ws")


def test_check_parameters_resolves_and_coerces(small_ws):
    # papermill passes `-p period 2026` as the int 2026 and a Python caller may pass a date
    p = check_parameters("plan", workspace=small_ws, account_id="ACME", period=2026,
                         as_of=date(2026, 3, 31))
    assert (p.account_id, p.period, p.as_of, p.demo) == ("ACME", "2026", date(2026, 3, 31), False)
    assert p.papermill() == {"workspace": small_ws, "account_id": "ACME", "period": "2026",
                             "as_of": "2026-03-31"}
    # an empty period is the year of as_of
    assert check_parameters("plan", workspace=small_ws, account_id="ACME",
                            as_of="2025-07-01").period == "2025"


def test_check_parameters_unknown_name_is_an_error(small_ws):
    with pytest.raises(InputError, match=r"field 'acount_id': unknown parameter \(a typo\?\); "
                       r"the plan report takes: workspace, account_id, period, as_of"):
        check_parameters("plan", workspace=small_ws, acount_id="ACME")


def test_check_parameters_reads_a_notebook_namespace(small_ws):
    # as in a notebook: modules and functions are not parameters, private names are ignored
    namespace = {"workspace": small_ws, "account_id": "ACME", "period": "", "as_of": "",
                 "pd": pd, "len": len, "_private": 1, "accountid": "BOLT"}
    with pytest.raises(InputError, match="field 'accountid': unknown parameter"):
        check_parameters("plan", namespace)
    del namespace["accountid"]
    assert check_parameters("plan", namespace).account_id == "ACME"


def test_check_parameters_unknown_account_lists_known(small_ws):
    with pytest.raises(AccountNotFound, match="Account 'ACMX' not found in the workspace; "
                       "known accounts: ACME, BOLT"):
        check_parameters("profitability", workspace=small_ws, account_id="ACMX")


def test_check_parameters_empty_account_is_my_first_account_and_says_so(small_ws, monkeypatch):
    # A KAM opening the notebook in JupyterLab gets a report of one of their own accounts.
    with Workspace(small_ws) as ws:
        acme = ws.load("ACME")
        acme.update_account(kam=None)
        ws.save(acme)
    monkeypatch.setenv("KAM_USER", "ann")
    p = check_parameters("plan", workspace=small_ws)
    assert p.account_id == "BOLT"
    assert "of BOLT (the first of ann's accounts; set account_id to choose)" in p.describe()
    monkeypatch.setenv("KAM_USER", "zed")
    p = check_parameters("plan", workspace=small_ws)
    assert p.account_id == "ACME"
    assert "(the first account; set account_id to choose)" in p.describe()


def test_check_parameters_empty_workspace_has_no_account_to_report(tmp_path):
    Workspace(tmp_path / "empty", create=True).close()
    with pytest.raises(InputError, match=r"field 'account_id': the workspace .*empty holds no "
                                         r"account yet"):
        check_parameters("plan", workspace=str(tmp_path / "empty"))


@pytest.mark.parametrize(("field", "value", "message"), [
    ("as_of", "2026-13-01", "field 'as_of': '2026-13-01' is not a date; write it as YYYY-MM-DD"),
    ("as_of", "yesterday", "'yesterday' is not a date"),
    ("period", "2026-Q5", "field 'period': '2026-Q5' is not a period"),
])
def test_check_parameters_bad_dates_and_periods(small_ws, field, value, message):
    with pytest.raises(InputError, match=re.escape(message)):
        check_parameters("plan", workspace=small_ws, account_id="ACME", **{field: value})


def test_check_parameters_manager_and_kind(small_ws):
    assert check_parameters("portfolio", workspace=small_ws, manager="ann").manager == "ann"
    with pytest.raises(InputError, match="field 'manager': 'bob' is not a member of the team; "
                       "known: ann"):
        check_parameters("portfolio", workspace=small_ws, manager="bob")
    with pytest.raises(InputError, match="unknown report kind 'plans'; options are plan, "
                       "profitability, portfolio"):
        check_parameters("plans")


def test_check_parameters_missing_workspace_says_how_to_fix(tmp_path):
    nowhere = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"No kam workspace at {nowhere}: create one with 'kam init {nowhere}', or build the "
            f"demo there with 'kam demo {nowhere}'; or pass workspace 'demo' for the built-in "
            "demo")):
        check_parameters("plan", workspace=str(nowhere), account_id="X")


# -- an empty workspace: $KAM_WORKSPACE, else ./kam-workspace; the demo only by name ---------------
def test_empty_workspace_is_kam_workspace_variable(small_ws, monkeypatch, tmp_path):
    monkeypatch.setenv("KAM_WORKSPACE", small_ws)
    monkeypatch.chdir(tmp_path)                   # no ./kam-workspace here: not used anyway
    p = check_parameters("plan", account_id="ACME")
    assert (p.workspace, p.demo, p.origin) == (small_ws, False, "KAM_WORKSPACE")
    assert p.describe().endswith(f", workspace {small_ws} (from $KAM_WORKSPACE)")
    # papermill gets the workspace as resolved: the kernel opens the same one
    assert p.papermill()["workspace"] == small_ws


def test_empty_workspace_is_kam_workspace_folder_otherwise(small_ws, monkeypatch, tmp_path):
    monkeypatch.delenv("KAM_WORKSPACE", raising=False)
    (tmp_path / "ws").rename(tmp_path / "kam-workspace")
    monkeypatch.chdir(tmp_path)
    p = check_parameters("portfolio", workspace="")
    folder = str(tmp_path / "kam-workspace")      # absolute: the kernel runs in another folder
    assert (p.workspace, p.demo, p.origin) == (folder, False, "default")
    assert p.describe() == (f"portfolio report of all accounts, period {date.today().year}, as of "
                            f"{date.today().isoformat()}, workspace {folder} (the default: "
                            "$KAM_WORKSPACE is not set)")
    assert ("workspace", folder) in p.shown()


def test_demo_only_by_name(demo_cache, small_ws, monkeypatch):
    from kam.demo import TODAY

    monkeypatch.setenv("KAM_WORKSPACE", small_ws)  # not used: the demo was asked for
    p = check_parameters("plan", workspace="demo")
    # the demo's first account and its own date
    assert (p.workspace, p.demo, p.account_id, p.as_of) == (str(demo_cache), True, "AZURCHEM",
                                                            TODAY)
    assert p.describe() == ("account plan report of AZURCHEM, period 2026, as of 2026-11-01, "
                            "demo workspace")
    assert p.papermill()["workspace"] == "demo" and ("workspace", "demo") in p.shown()


def test_a_workspace_folder_called_demo_wins_over_the_demo(small_ws, monkeypatch, tmp_path):
    """``kam report --workspace demo`` kept meaning the folder ./demo where there is one."""
    (tmp_path / "ws").rename(tmp_path / "demo")
    monkeypatch.chdir(tmp_path)
    p = check_parameters("plan", workspace="demo", account_id="ACME")
    assert (p.workspace, p.demo) == ("demo", False)
    assert p.describe().endswith(", workspace demo")


@pytest.mark.parametrize(("variable", "why"), [
    (None, "the workspace parameter is empty and $KAM_WORKSPACE is not set, so ./kam-workspace "
           "is used"),
    ("elsewhere", "the workspace parameter is empty, so $KAM_WORKSPACE is used"),
])
def test_empty_workspace_missing_folder_says_which_and_how(tmp_path, monkeypatch, variable, why):
    monkeypatch.chdir(tmp_path)
    if variable is None:
        monkeypatch.delenv("KAM_WORKSPACE", raising=False)
        folder = tmp_path / "kam-workspace"
    else:
        monkeypatch.setenv("KAM_WORKSPACE", variable)
        folder = tmp_path / variable
    with pytest.raises(FileNotFoundError) as info:
        check_parameters("portfolio")
    assert str(info.value) == (
        f"No kam workspace at {folder} ({why}): create one with 'kam init {folder}', or build "
        f"the demo there with 'kam demo {folder}'; or pass workspace 'demo' for the built-in "
        "demo")


# -- parameters come from the parameters cells, not from globals() -----------------------------
SETUP = "import kam.reports as kr"
PARAMS = 'workspace: str = ""  # help\naccount_id: str = ""'
CHECK = 'params = kr.check_parameters("plan", globals())\nprint(params.describe())'


@pytest.mark.parametrize(("history", "names"), [
    # Run All in a fresh kernel; papermill's injected cell adds a typo
    (["", SETUP, PARAMS, CHECK], {"workspace", "account_id"}),
    (["", SETUP, PARAMS, "# Parameters\nacount_id = 'X'\n", CHECK],
     {"workspace", "account_id", "acount_id"}),
    # Run All again after a run and a scratch cell: the setup cell bounds the parameters
    (["", SETUP, PARAMS, CHECK, "center = compute()", "x = 1", SETUP, PARAMS, CHECK],
     {"workspace", "account_id"}),
    # re-running only the check cell finds no parameters cell: nothing to refuse
    (["", SETUP, PARAMS, CHECK, "x = 1\ny = f(x)", CHECK], set()),
    # a kernel that kept no history of the current cell
    (["", SETUP, PARAMS], {"workspace", "account_id"}),
    # lists, dicts, negative numbers and None are literals; a call or a name is not
    (["", SETUP, "a = [1, 'b']\nb = {'k': -1.5}\nc = None", CHECK], {"a", "b", "c"}),
    (["", "a = 1", "b = a", CHECK], set()),
    (["", "a = 1", "b = f()", CHECK], set()),
])
def test_parameter_cell_names(history, names):
    assert parameter_cell_names(history) == names


def test_notebooks_declare_exactly_the_parameters():
    import papermill as pm

    from kam.reports.render import notebook_path

    for kind, declared in PARAMETERS.items():
        params = pm.inspect_notebook(str(notebook_path(kind)))
        assert list(params) == [p.name for p in declared], kind
        for p in declared:
            assert params[p.name]["inferred_type_name"] == "str", (kind, p.name)
            assert ast.literal_eval(params[p.name]["default"]) == p.default
            assert "=" not in p.help                          # papermill's parser chokes on it
            assert params[p.name]["help"] == p.help, (kind, p.name)


def test_setup_cells_are_collapsed_in_jupyterlab():
    """Every code cell before the first section except the parameters cell is setup: its code
    is collapsed in JupyterLab; the first one holds only imports and runs before the parameters
    cell (check_parameters reads the parameter cells run after it)."""
    from kam.reports.render import notebook_path

    for kind in PARAMETERS:
        nb = nbformat.read(str(notebook_path(kind)), as_version=4)
        first_section = next(i for i, c in enumerate(nb.cells)
                             if c.cell_type == "markdown" and c.source.startswith("## "))
        setup = [c for c in nb.cells[:first_section] if c.cell_type == "code"]
        assert [c.get("id") for c in setup] == ["setup", "parameters", "check-parameters",
                                                "compute", "header"], kind
        for cell in setup:
            hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
            assert hidden is (cell.id != "parameters"), (kind, cell.id)
        imports = [line for line in setup[0].source.splitlines() if not line.startswith("#")]
        assert all(line.startswith(("import ", "from ")) for line in imports), kind


def test_report_name():
    assert report_name("profitability", "ACME") == "profitability-ACME"
    assert report_name("portfolio") == "portfolio"
    with pytest.raises(ValueError, match="a plan report needs an account id"):
        report_name("plan")


# -- the template --------------------------------------------------------------------------------
def _executed(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    count = 0
    for c in nb.cells:
        if c.cell_type == "code":
            count += 1
            c.execution_count = count
    return nb


def _code(*outputs, tags=()):
    cell = nbformat.v4.new_code_cell("x = 1  # code never shows")
    cell.outputs = list(outputs)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


FIGURE = {"data": [{"type": "bar", "x": ["a"], "y": [1]}],
          "layout": {"title": {"text": "</script><script>alert(1)</script>"}, "height": 320}}


@pytest.fixture
def report_nb():
    header = kd.report_header("plan", "Acme <Steel> & Co", facts=[("Period", "2026")],
                              parameters=[("account_id", "ACME")], fingerprint="abc123")
    return _executed([
        _code(nbformat.v4.new_output("display_data", data=header._repr_mimebundle_())),
        nbformat.v4.new_markdown_cell("## Key figures\n\nSome text."),
        _code(nbformat.v4.new_output("stream", name="stderr", text="UserWarning: noisy\n")),
        nbformat.v4.new_markdown_cell("## Need map"),
        _code(nbformat.v4.new_output("display_data", data={PLOTLY_MIMETYPE: FIGURE,
                                                          "text/html": "<div>fallback</div>"})),
        _code(nbformat.v4.new_output("display_data", data={"text/html": "<b>WIDGET</b>"}),
              tags=["kam-interactive"]),
    ])


def test_template_draws_plotly_offline_without_code_or_stderr(report_nb):
    html = notebook_to_html(report_nb)
    assert "code never shows" not in html
    assert "noisy" not in html                                # stderr is not in the report
    assert "WIDGET" not in html                               # interactive cells are removed
    assert html.count('class="kam-plot"') == 1 and "Plotly.newPlot(" in html
    assert "fallback" not in html                             # the JSON wins over text/html
    assert "</script><script>alert" not in html               # figure JSON cannot close the tag
    assert "\\u003c/script\\u003e" in html
    # offline: no URL at all besides the shared plotly.js next to the file
    assert re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html) == [PLOTLY_JS]
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html)
    assert "require.min.js" not in html and "MathJax" not in html and "mermaid" not in html


def test_template_header_toc_and_footer_escape_user_text(report_nb):
    html = notebook_to_html(report_nb)
    assert "<title>Acme &lt;Steel&gt; &amp; Co</title>" in html
    assert '<h1 class="kam-title">Acme &lt;Steel&gt; &amp; Co</h1>' in html
    assert '<a href="#Key-figures">Key figures</a>' in html
    assert 'id="Key-figures"' in html and 'id="Need-map"' in html   # the TOC targets exist
    assert "<code>abc123</code>" in html and "<code>account_id=ACME</code>" in html
    assert "Generated by kam" in html


def test_template_can_inline_plotly(report_nb):
    html = notebook_to_html(report_nb, self_contained=True)
    assert "<script type=\"text/javascript\" src=" not in html
    assert len(html) > len(plotly_js())


def test_failed_run_is_refused(report_nb):
    report_nb.cells.append(_code(nbformat.v4.new_output(
        "error", ename="KeyError", evalue="'x'", traceback=["Traceback", "KeyError: 'x'"])))
    assert failure_of(report_nb) == "cell 6 raised KeyError: 'x'"
    with pytest.raises(ReportFailed, match="Not converting a failed run: cell 6 raised KeyError"):
        notebook_to_html(report_nb)


def test_unexecuted_notebook_is_refused(report_nb):
    report_nb.cells[2].execution_count = None
    assert "not every cell ran" in failure_of(report_nb)


def test_write_plotly_js_is_the_installed_plotly(tmp_path):
    from plotly.offline import get_plotlyjs

    path = write_plotly_js(tmp_path)
    assert path.name == PLOTLY_JS and path.read_text(encoding="utf-8") == get_plotlyjs()
    mtime = path.stat().st_mtime_ns
    write_plotly_js(tmp_path)                                 # identical: not rewritten
    assert path.stat().st_mtime_ns == mtime


# -- key figures and sentences -----------------------------------------------------------------
def _profit(rows):
    from kam.profitability import Profitability

    acc = pd.DataFrame(rows)
    return Profitability(acc, pd.DataFrame(), pd.DataFrame(), "booked")


def test_portfolio_position_is_a_rank_and_shares_only():
    from kam.reports.summary import portfolio_position

    # contributions A 50, B -10, C 60 -> ranks C 1, A 2, B 3; total 100, so A holds 50%;
    # revenue 100 of 1000 -> 10%
    p = portfolio_position(_profit({
        "account_id": ["A", "B", "C"], "name": ["a", "b", "c"],
        "revenue": [100.0, 300.0, 600.0], "net_contribution": [50.0, -10.0, 60.0]}), "A")
    assert (p.rank, p.of, p.revenue_share, p.contribution_share) == (2, 3, 0.1, 0.5)
    assert portfolio_position(_profit({
        "account_id": ["A"], "name": ["a"], "revenue": [0.0], "net_contribution": [0.0]}),
        "Z") is None


def test_cost_breakdown_shares_largest_first():
    from kam.profitability import Profitability
    from kam.reports.summary import cost_breakdown

    by_cat = pd.DataFrame({"account_id": ["A", "B"], "logistics": [300.0, 7.0],
                           "visits": [100.0, 0.0], "rebates": [0.0, 1.0]})
    profit = Profitability(pd.DataFrame(), by_cat, pd.DataFrame(), "booked")
    frame = cost_breakdown(profit, "A")
    # 300 + 100 = 400: logistics 75%, visits 25%, rebates (0) left out
    assert frame.to_dict("records") == [
        {"category": "logistics", "amount": 300.0, "share": 0.75},
        {"category": "visits", "amount": 100.0, "share": 0.25}]
    assert cost_breakdown(None, "A").empty


def test_accuracy_sentence_plans_target_over_r_source_example():
    """DOMAIN.md §9: planned 100 M, actual 75 M -> r = 0.75; a target T needs T / r = 1.33 T
    (133.3 M for 100 M), not the rule of thumb's 125 M."""
    from kam.reports.narrative import accuracy_sentence

    acc = pd.DataFrame({"manager": ["ann"], "mape": [0.25]})
    text = accuracy_sentence(acc, 75 / 100)
    assert "r = 0.75" in text and "plan T ÷ r = 1.33 × T" in text
    assert "No planned budget has been realised yet" in accuracy_sentence(acc, 0.0)


def test_funnel_sentence_names_the_weakest_link_source_example():
    """DOMAIN.md §6: 100 contacted, 80 presented, 1 offered; 1 signed -> conversion 1%; the
    transition presentation -> offer loses 79 of 80 (98.75%), the weakest link."""
    from types import SimpleNamespace

    from kam.reports.narrative import funnel_sentence

    totals = pd.DataFrame({"worked": [100], "won": [1], "conversion": [0.01],
                           "financial_conversion": [0.01]})
    weakest = pd.Series({"from_stage": "presentation", "to_stage": "offer",
                         "lost_share": 79 / 80})
    text = funnel_sentence(SimpleNamespace(totals=totals), weakest)
    assert text == ("1 of 100 clients worked signed (1.0% conversion; 1.0% by budget); the "
                    "weakest link is presentation → offer, where 99% of the decided deals "
                    "were lost.")


def test_conversion_sentence_quantitative_vs_financial_source_example():
    """DOMAIN.md §6: one manager converts 15%, another 3%, yet the 3% one may bring more."""
    from kam.reports.narrative import conversion_sentence

    conv = pd.DataFrame({"manager": ["ann", "bob"], "conversion": [0.15, 0.03],
                         "financial_conversion": [0.10, 0.30], "value_won": [1e5, 9e5]})
    assert conversion_sentence(conv) == ("ann converts the most deals (15.0%), bob the most "
                                         "budget (30.0%) and brings the most money (900,000).")


def test_sentences_are_escaped_when_shown():
    from kam.reports.narrative import profit_trend_sentence

    text = profit_trend_sentence(pd.DataFrame({"period": ["<2026>"], "revenue": [1.0],
                                               "net_contribution": [1.0]}))
    assert "<2026>" in text                        # plain text ...
    assert "&lt;2026&gt;" in kd.sentence(text).html  # ... escaped in the report


def test_trend_sentence_skips_the_running_period():
    from kam.reports.narrative import profit_trend_sentence

    frame = pd.DataFrame({"period": ["2026-Q2", "2026-Q3", "2026-Q4"],
                          "revenue": [1000.0, 800.0, 100.0],
                          "net_contribution": [100.0, 120.0, 5.0]})
    # Q4 runs until 2026-12-31: compare Q3 with Q2 (800 / 1000 - 1 = -20%; 120 - 100 = 20 more)
    assert profit_trend_sentence(frame, date(2026, 11, 1)) == (
        "In 2026-Q3 revenue was 800 (-20.0% on 2026-Q2) and net contribution 120 (20 more than "
        "in 2026-Q2). (2026-Q4 is still running.)")
