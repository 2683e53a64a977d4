"""The portfolio explorer (kam.workbook.portfolio), headless: filters drive the table and the
live charts, every number equal to the analyses (and, for the headline, to plain pandas over
``tables(...)``); chart clicks select and open accounts; "no data" states say why; user text
is escaped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from html import escape

import pandas as pd
import pytest
from plotly.callbacks import InputDeviceState, Points

from kam import demo, portfolio
from kam.errors import KamError
from kam.figures.style import plain
from kam.funnel import funnel
from kam.model import Tables, tables
from kam.profitability import profitability, rank_by_contribution
from kam.store import Workspace
from kam.workbook.portfolio import ALL, CHARTS, PortfolioExplorer, open_portfolio

TODAY = demo.TODAY
EVIL = "Riverton <script>alert('kam')</script> Water"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The demo workspace, with one account renamed to hold a ``<script>`` tag."""
    ws = demo.build(tmp_path_factory.mktemp("explorer") / "workspace")
    d = ws.load("RIVERTON")
    d.account.name = EVIL
    ws.save(d, author="elena.vogt", message="name with markup (escaping test)")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def everything(workspace: Workspace) -> Tables:
    return tables(workspace.load_all())


@pytest.fixture
def opened() -> list[str]:
    return []


@pytest.fixture(scope="module")
def shared(workspace: Workspace) -> PortfolioExplorer:
    return PortfolioExplorer(workspace, today=TODAY)


@pytest.fixture
def explorer(shared: PortfolioExplorer, opened: list[str]) -> PortfolioExplorer:
    """The module's explorer back on its defaults (all accounts, the year of today), nothing
    selected, opening into ``opened``."""
    shared.on_open_account = None
    shared.accounts.value = None
    shared.set_filters(manager=ALL, category=ALL, region=ALL, granularity="Y", period="2026")
    shared.on_open_account = opened.append
    return shared


def net_contribution_by_pandas(t: Tables, year: str, today: date) -> pd.Series:
    """Net contribution per account for ``year`` up to ``today``, straight from the price
    waterfall of DOMAIN.md §7: net revenue - cost of goods - cost-to-serve, where cost-to-serve =
    the booked cost lines (the price discounts, list value - net revenue, are already out of net
    revenue and not subtracted again). The demo books every line by month, so a period string
    compares as text."""
    last = f"{today.year:04d}-{today.month:02d}"
    assert (t.revenue["period"].str.len() == 7).all() and (t.costs["period"].str.len() == 7).all()
    rev = t.revenue[t.revenue["period"].str.startswith(year) & (t.revenue["period"] <= last)]
    cost = t.costs[t.costs["period"].str.startswith(year) & (t.costs["period"] <= last)]
    margin = (rev["revenue"] - rev["cogs"]).groupby(rev["account_id"]).sum()
    booked = cost["amount"].groupby(cost["account_id"]).sum()
    return margin.astype(float).sub(booked.astype(float), fill_value=0.0)


def click(fig, trace_index: int, point_index: int) -> None:
    """Dispatch a click as plotly's FigureWidget does (``_handler_js2py_pointsCallback``): every
    trace gets ``(trace, points, state)``, with no points for the traces not clicked."""
    state = InputDeviceState(ctrl=False, alt=False, shift=False, meta=False, button=0, buttons=1)
    for i, trace in enumerate(fig.data):
        inds = [point_index] if i == trace_index else []
        trace._dispatch_on_click(Points(point_inds=inds, xs=[], ys=[], trace_name=trace.name,
                                        trace_index=i), state)


def test_filters_offer_names_and_periods_from_the_data(explorer, everything):
    labels = dict(explorer.manager.options)
    assert labels["Tom Hale"] == "tom.hale" and labels["all"] == ALL  # names shown, ids kept
    assert sorted(v for v in labels.values() if v) == sorted(everything.accounts["kam"].unique())
    assert [v for _, v in explorer.period.options] == [ALL, "2026", "2025", "2024"]
    assert explorer.period.value == "2026"  # the year of today
    explorer.granularity.value = "Q"
    assert explorer.period.value == "2026-Q4"  # newest quarter of the year chosen before
    assert explorer.period.options[-1][1] == "2024-Q1"
    explorer.granularity.value = "M"
    assert explorer.period.value == "2026-10"  # no line after October: the data's last month
    assert sorted(v for _, v in explorer.region.options if v) == sorted(
        everything.accounts["region"].unique())


def test_default_view_headline_equals_plain_pandas(explorer, everything):
    """2026 up to the demo's today: the table's and the whale curve's total net contribution
    and the top account equal the price waterfall computed with plain pandas."""
    expected = net_contribution_by_pandas(everything, "2026", TODAY)
    rows = explorer.rows
    assert set(rows["account_id"]) == set(everything.accounts["account_id"])
    with_lines = rows.dropna(subset=["net_contribution"]).set_index("account_id")
    pd.testing.assert_series_equal(
        with_lines["net_contribution"].sort_index(), expected.sort_index(),
        check_names=False, check_index_type=False, atol=0.01)
    assert rows["account_id"].iloc[0] == expected.idxmax() == "KARSTGOLD"
    whale = explorer.charts["whale"].data[0]
    assert whale.y[-1] == pytest.approx(expected.sum(), abs=0.01)
    assert whale.customdata[1] == expected.idxmax()
    ranking = explorer.charts["ranking"].data[0]  # drawn bottom-up
    assert list(ranking.x)[::-1] == pytest.approx(
        rows["net_contribution"].dropna().tolist(), abs=1e-6)


def test_manager_category_period_filters_equal_the_analyses(explorer, everything):
    explorer.set_filters(manager="maria.lind", category="B", period="2025")
    acc = everything.accounts
    ids = set(acc.loc[(acc["kam"] == "maria.lind") & (acc["category"] == "B"), "account_id"])
    assert set(explorer.rows["account_id"]) == ids == {"RIVERTON", "SOLENNE"}
    assert set(explorer.rows["manager"]) == {"Maria Lind"}
    sel = portfolio.select(everything, kam="maria.lind", category="B")
    profit = rank_by_contribution(profitability(sel, period="2025", as_of=TODAY))
    got = explorer.rows.set_index("account_id").loc[profit["account_id"]]
    assert got["net_contribution"].tolist() == pytest.approx(profit["net_contribution"].tolist())
    assert got["revenue"].tolist() == pytest.approx(profit["revenue"].tolist())
    # revenue per account in the Pareto chart: plain pandas over the revenue lines of 2025
    rev = everything.revenue[everything.revenue["account_id"].isin(ids)
                             & everything.revenue["period"].str.startswith("2025")]
    by_account = rev.groupby("account_id")["revenue"].sum().sort_values(ascending=False)
    pareto = explorer.charts["pareto"].data[0]
    assert list(pareto.y) == pytest.approx(by_account.tolist())
    assert list(pareto.customdata) == by_account.index.tolist()


def test_funnel_chart_and_weakest_link_equal_the_analysis(explorer, everything):
    explorer.set_filters(manager="sofia.costa", period=ALL)
    expected = funnel(portfolio.select(everything, kam="sofia.costa"), as_of=TODAY)
    fig = explorer.charts["funnel"]
    assert list(fig.data[0].x) == expected.stages["reached"].tolist()
    weak = expected.weakest
    assert weak is not None
    assert f"{weak['from_stage']} → {weak['to_stage']}" in explorer.notes["funnel"].value
    assert "weakest link" in fig.layout.title.text


def test_charts_are_redrawn_in_place(explorer):
    widgets = dict(explorer.charts)
    before = list(explorer.charts["ranking"].data[0].x)
    explorer.manager.value = "tom.hale"
    assert all(explorer.charts[k] is widgets[k] for k in CHARTS)
    assert len(explorer.charts["ranking"].data[0].x) == 3 < len(before)


def test_click_on_a_bar_selects_the_account_and_opens_it(explorer, opened, everything):
    fig = explorer.charts["ranking"]
    name = everything.accounts.set_index("account_id").loc["NORDSTAHL", "name"]
    point = list(fig.data[0].y).index(escape(name))  # the bar labelled with its name
    click(fig, 0, point)
    assert explorer.accounts.value == "NORDSTAHL"
    assert opened == ["NORDSTAHL"]
    assert "data-account='NORDSTAHL' style='background" in explorer.table.value
    click(fig, 0, point)  # clicking the selected account again opens it again
    assert opened == ["NORDSTAHL", "NORDSTAHL"]
    explorer.open_button.click()
    assert opened == ["NORDSTAHL"] * 3


def test_click_through_the_widget_message_on_whale_and_pareto(explorer, opened):
    whale = explorer.charts["whale"]
    message = {"event_type": "plotly_click", "points": {
        "trace_indexes": [0], "point_indexes": [0], "xs": [0], "ys": [0.0]}}
    whale._js2py_pointsCallback = message  # point 0 is the origin: no account
    assert explorer.accounts.value is None and opened == []
    last = len(whale.data[0].x) - 1
    whale._js2py_pointsCallback = {**message, "points": {
        "trace_indexes": [0], "point_indexes": [last], "xs": [last], "ys": [0.0]}}
    least = explorer.rows.dropna(subset=["net_contribution"])["account_id"].iloc[-1]
    assert explorer.accounts.value == least and opened == [least]
    click(explorer.charts["pareto"], 1, 0)  # the cumulative-share line, first point
    assert explorer.accounts.value == explorer.charts["pareto"].data[0].customdata[0]


def test_table_selection_opens_and_filter_refresh_does_not(explorer, opened):
    explorer.accounts.value = "AZURCHEM"
    assert opened == ["AZURCHEM"]
    explorer.period.value = "2025"  # still listed: stays selected, not opened again
    assert explorer.accounts.value == "AZURCHEM" and opened == ["AZURCHEM"]
    explorer.manager.value = "tom.hale"  # no longer listed: the selection is cleared
    assert explorer.accounts.value is None and explorer.open_button.disabled
    assert opened == ["AZURCHEM"]


def test_no_revenue_in_the_period_shows_the_reason(explorer):
    explorer.category.value = "C"
    explorer.period.value = "2025"  # prospects: costs of winning them, no sales yet
    assert explorer._boxes["ranking"].layout.display is None
    assert explorer._boxes["pareto"].layout.display == "none"
    assert explorer.charts["pareto"].data == ()
    assert "No revenue lines in period &#x27;2025&#x27;" in explorer.notes["pareto"].value
    explorer.period.value = "2024"  # nothing at all for them in 2024
    for key in ("ranking", "whale", "pareto"):
        assert explorer._boxes[key].layout.display == "none"
        assert explorer.charts[key].data == ()
    assert "No revenue or cost lines in period &#x27;2024&#x27;" in (
        explorer.notes["ranking"].value)
    assert set(explorer.rows["account_id"]) == {"TALVIK", "VERDANTIA", "PELAGOS", "KESTREL"}
    assert explorer.rows["net_contribution"].isna().all()  # shown as "—", not 0
    assert "<td style='padding:2px 8px'>0</td>" not in explorer.table.value


def test_no_matching_account_says_so(explorer):
    explorer.manager.value = "tom.hale"  # through the widgets, as a user does
    explorer.region.value = "South"
    assert "No account matches manager Tom Hale, region South" in explorer.status.value
    assert all(explorer._boxes[k].layout.display == "none" for k in CHARTS)
    assert explorer.rows.empty and "No account to list" in explorer.table.value


def test_account_names_and_messages_are_escaped(workspace):
    def refuse(account_id: str) -> None:
        raise KamError(f"cannot open <b>{account_id}</b>: unsaved edits")

    ex = open_portfolio(workspace, today=TODAY, on_open_account=refuse)
    assert "<script>" not in ex.table.value
    assert escape(EVIL) in ex.table.value
    assert plain(EVIL) in list(ex.charts["ranking"].data[0].y)  # the figure escapes labels
    assert (EVIL, "RIVERTON") in ex.accounts.options  # a Select shows its labels as text
    ex.select_account("RIVERTON")
    assert "cannot open &lt;b&gt;RIVERTON&lt;/b&gt;" in ex.status.value


def test_without_callback_there_is_no_open_button(workspace):
    ex = PortfolioExplorer(workspace, today=TODAY)
    assert ex.open_button.layout.display == "none"
    ex.select_account("KARSTGOLD")
    assert ex.accounts.value == "KARSTGOLD"
    ex.on_open_account = print
    assert ex.open_button.layout.display is None
