"""The planner's weekly report (DOMAIN.md §9, §11): its parameters, checked before anything
runs, and one real run of notebooks/planner_week.ipynb through papermill to offline HTML."""

from __future__ import annotations

import re
import shutil
from datetime import date

import pytest
from click.testing import CliRunner

from kam.cli.reports import report as report_command
from kam.control import reassign_territory
from kam.errors import InputError
from kam.model import Account, Dossier, Team, TeamMember
from kam.reports.html import PLOTLY_MIMETYPE
from kam.reports.params import NOTEBOOKS, PARAMETERS, check_parameters
from kam.store import Workspace


@pytest.fixture
def small_ws(tmp_path) -> str:
    w = Workspace(tmp_path / "ws", create=True)
    w.save_team(Team(members=[TeamMember(id="dir", name="Dana Reyes", role="planner"),
                              TeamMember(id="ann", name="Ann Lee", manager="dir")]))
    w.save(Dossier(account=Account(id="N1", name="N1", phone="1", kam="ann")))
    w.close()
    return str(tmp_path / "ws")


def test_report_kind_planner_is_declared_with_its_notebook():
    assert NOTEBOOKS["planner"] == "planner_week.ipynb"
    assert [p.name for p in PARAMETERS["planner"]] == ["workspace", "planner", "week", "period"]


def test_report_kind_planner_parameters_resolve_the_week_period_and_planner(small_ws):
    """Week 2026-W44 runs Monday 2026-10-26 .. Sunday 2026-11-01: as of its Sunday (a past
    week), plan period its quarter; the planner left empty is the team's first planner."""
    p = check_parameters("planner", workspace=small_ws, week="2026-W44")
    assert (p.planner, p.week, p.as_of, p.period) == ("dir", "2026-W44", date(2026, 11, 1),
                                                      "2026-Q4")
    assert p.describe().startswith("planner report of dir's team (the first planner of the "
                                   "team; set planner to choose), week 2026-W44, plan period "
                                   "2026-Q4, as of 2026-11-01")
    assert dict(p.shown())["planner"] == "dir"


@pytest.mark.parametrize(("values", "message"), [
    ({"planner": "ann"}, r"planner report parameters, field 'planner': 'ann' is not a planner "
                         r"of the team; planners: dir"),
    ({"week": "2026-48"}, r"field 'week': '2026-48' is not a week: write an ISO week such as "
                          r"2026-W48"),
    ({"period": "Q4"}, r"field 'period': 'Q4' is not a period"),
    ({"manager": "ann"}, r"field 'manager': unknown parameter \(a typo\?\); the planner report "
                         r"takes: workspace, planner, week, period"),
])
def test_report_kind_planner_bad_parameters_are_refused(small_ws, values, message):
    with pytest.raises(InputError, match=message):
        check_parameters("planner", workspace=small_ws, **values)


@pytest.mark.slow
def test_planner_report_renders_tasks_plan_and_handovers(demo_cache, tmp_path):
    """The demo with two account tasks (one overdue), a team task and a handover in week
    2026-W44, rendered by `kam report --kind planner`: every section shows its data, the plan
    figure is drawn, user text is escaped."""
    location = tmp_path / "ws"
    shutil.copytree(demo_cache, location)
    with Workspace(location) as ws:
        team = ws.team()
        nord = ws.load("NORDSTAHL")
        nord.add_task("Send <b>the</b> Q1 offer", "tom.hale", date(2026, 10, 28), team=team,
                      created=date(2026, 10, 20), created_by="elena.vogt")
        kestrel = ws.load("KESTREL")
        kestrel.add_task("Book the plant visit", "tom.hale", date(2026, 11, 20), team=team,
                         created=date(2026, 10, 26), created_by="elena.vogt")
        team.add_task("Plan the pump seminar", "maria.lind", date(2026, 10, 30),
                      created=date(2026, 10, 1), created_by="elena.vogt")
        team.complete_task("T1", on=date(2026, 10, 29))
        moved = reassign_territory([kestrel], "raj.patel", accounts=["KESTREL"],
                                   on=date(2026, 10, 27), team=team, by="elena.vogt")
        ws.save_many([nord, *moved], team=team, author="elena.vogt")
    out = tmp_path / "out"
    result = CliRunner().invoke(report_command, [
        "--kind", "planner", "--planner", "elena.vogt", "--week", "2026-W44", "-w",
        str(location), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert re.match(r"Wrote .*planner-elena\.vogt-2026-W44\.html \(\d+\.\d s\)", result.output)
    page = (out / "planner-elena.vogt-2026-W44.html").read_text(encoding="utf-8")
    assert "Send &lt;b&gt;the&lt;/b&gt; Q1 offer" in page and "<b>the</b>" not in page
    assert "Plan the pump seminar" in page and "Kestrel Glassworks" in page
    # Nordstahl's task is 4 days overdue on Sunday 2026-11-01; Kestrel's went to Raj Patel with
    # the account; the team task was done on 10-29
    assert ("2 open tasks, 1 overdue: Tom Hale&#x27;s most overdue task is 4 days late."
            in page or "2 open tasks, 1 overdue: Tom Hale's most overdue task is 4 days late."
            in page)
    assert "Traceback" not in page and "In&nbsp;[" not in page
    nb = (out / "notebooks" / "planner-elena.vogt-2026-W44.ipynb").read_text(encoding="utf-8")
    assert nb.count(PLOTLY_MIMETYPE) == page.count("Plotly.newPlot(") == 1
    bad = CliRunner().invoke(report_command, ["--kind", "planner", "--planner", "tom.hale",
                                              "-w", str(location), "-o", str(out)])
    assert isinstance(bad.exception, InputError)  # the kam command prints it as one line
    assert "'tom.hale' is not a planner of the team; planners: elena.vogt" in str(bad.exception)
