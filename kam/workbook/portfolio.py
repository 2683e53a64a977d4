"""The portfolio explorer: a sales director's live view of the key accounts (DOMAIN.md §6-§8).

Filters -- manager, category, region, period -- narrow the accounts. Four live charts (net
contribution ranking, whale curve, Pareto with the ABC categories, funnel with its weakest link)
and a table of the selected accounts (revenue, net contribution, category, ABC, health) are
redrawn from the analyses on every change. Clicking an account in a chart selects it in the
table; selecting an account in the table, or "Open", hands its id to ``on_open_account`` (the
workbook passes its ``open_account``).

No business logic lives here: every number comes from :mod:`kam.portfolio`,
:mod:`kam.profitability`, :mod:`kam.funnel` and :mod:`kam.health` on
``kam.model.tables(workspace.load_all())``, every chart from :mod:`kam.figures`. Where an analysis
finds nothing to analyse (:class:`~kam.periods.NoData`, an empty selection) the chart is hidden
and the reason shown instead.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from datetime import date
from html import escape
from typing import Any, TypeVar

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go
from plotly.callbacks import InputDeviceState, Points

from .. import portfolio
from ..errors import KamError
from ..figures.funnel import funnel_figure
from ..figures.portfolio import pareto_figure
from ..figures.profitability import contribution_ranking_figure, whale_curve_figure
from ..funnel import funnel, load_stages
from ..health import health_table
from ..model import Tables, Team, tables
from ..periods import NoData, bounds, period_range, span
from ..profitability import (
    Profitability,
    load_cost_to_serve,
    profitability,
    rank_by_contribution,
    whale_curve,
)
from ..reports.narrative import funnel_sentence, whale_sentence
from ..store import Workspace, default_location
from .base import message_html, redraw

__all__ = ["ALL", "CHARTS", "PortfolioExplorer", "open_portfolio"]

CHARTS = ("ranking", "whale", "pareto", "funnel")
"""The live charts of the explorer, by key (see :attr:`PortfolioExplorer.charts`)."""
ALL = ""
"""The value of the "all" choice of every filter."""
_NONE = "—"
_FREQS = [("year", "Y"), ("quarter", "Q"), ("month", "M")]
_COLUMNS = {"name": "Account", "manager": "Manager", "category": "Category", "abc": "ABC",
            "revenue": "Revenue", "net_contribution": "Net contribution", "health": "Health"}
_T = TypeVar("_T")


class PortfolioExplorer:
    """Filters, live charts and a table of the key accounts of a workspace.

    Parameters
    ----------
    workspace : Workspace or str or path
        The workspace (or its folder / database URL). Its dossiers and team are read once;
        :meth:`reload` reads them again.
    today : date, optional
        The reporting date: lines of later periods are left out and the health is scored on
        it (default: the real today).
    on_open_account : callable, optional
        Called with an account id when an account is selected in the table (by the user or by
        a click in a chart) or "Open" is pressed; the workbook passes its ``open_account``.
    top : int, optional
        How many accounts the ranking and the Pareto chart draw (default 30; ``None``: all).
        The whale curve and the table always show every account.

    Attributes
    ----------
    manager, category, region, granularity, period : ipywidgets
        The filters; ``ALL`` (``""``) is the value of "all". ``manager`` holds team member ids,
        labelled with their names.
    charts : dict of str to plotly.graph_objects.FigureWidget
        The live charts (:data:`CHARTS`), made with their first figure when the explorer is
        built and redrawn in place on every change. Clicking a bar or point of an account
        selects it (each account trace carries the account ids as ``customdata``).
    notes : dict of str to ipywidgets.HTML
        Under each chart: its headline sentence, or why there is nothing to draw.
    rows : pandas.DataFrame
        The table's content, most profitable first: ``account_id``, ``name``, ``manager``
        (name), ``category`` (the account's own A/B/C, which the category filter reads),
        ``abc`` (Pareto by revenue in the period), ``revenue`` and ``net_contribution`` in the
        period (NaN: no line), ``health`` (score 0-100 on ``today``).
    accounts : ipywidgets.Select
        The selected account (value: its id), in the table's order.
    widget : ipywidgets.VBox
        Everything, to display.
    """

    def __init__(self, workspace: Workspace | str | os.PathLike[str], *,
                 today: date | None = None,
                 on_open_account: Callable[[str], Any] | None = None,
                 top: int | None = 30):
        self.workspace = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
        self.today = today or date.today()
        self.top = top
        self._quiet = False
        self.team = Team()
        self.tables: Tables = tables([])
        self.health = pd.DataFrame()
        self.rows = pd.DataFrame(columns=["account_id", *_COLUMNS])

        self.manager = w.Dropdown(description="Manager", options=[("all", ALL)])
        self.category = w.Dropdown(description="Category", options=[
            ("all", ALL), ("A", "A"), ("B", "B"), ("C", "C")])
        self.region = w.Dropdown(description="Region", options=[("all", ALL)])
        self.granularity = w.ToggleButtons(options=_FREQS, value="Y",
                                           style={"button_width": "70px"})
        self.period = w.Dropdown(description="Period", options=[("all, up to today", ALL)])
        self.status = w.HTML()
        self.charts: dict[str, go.FigureWidget] = {}  # made by the first draw
        self.notes = {k: w.HTML() for k in CHARTS}
        self._boxes = {k: w.Box() for k in CHARTS}
        self.accounts = w.Select(description="Account", rows=8, options=[])
        self.open_button = w.Button(description="Open", icon="folder-open",
                                    tooltip="Open the selected account in the workbook",
                                    disabled=True)
        self.on_open_account = on_open_account  # shows the button when there is a callback
        self.table = w.HTML()

        def cell(key: str) -> w.VBox:  # a chart is 700 px wide: two side by side if room
            return w.VBox([self._boxes[key], self.notes[key]],
                          layout=w.Layout(width="700px", margin="0 12px 12px 0"))

        self.widget = w.VBox([
            w.HTML(f"<h3>Key-account portfolio</h3><i>as of {self.today.isoformat()}</i>"),
            w.HBox([self.manager, self.category, self.region]),
            w.HBox([self.granularity, self.period]),
            self.status,
            w.Box([cell(k) for k in CHARTS], layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.accounts, self.open_button]),
            self.table,
        ])
        for f in (self.manager, self.category, self.region, self.period):
            f.observe(self._on_filter, names="value")
        self.granularity.observe(self._on_granularity, names="value")
        self.accounts.observe(self._on_select, names="value")
        self.open_button.on_click(lambda _: self._open(self.accounts.value))
        self.reload()

    @property
    def on_open_account(self) -> Callable[[str], Any] | None:
        """What opening an account calls (the "Open" button shows only when it is set)."""
        return self._on_open_account

    @on_open_account.setter
    def on_open_account(self, callback: Callable[[str], Any] | None) -> None:
        self._on_open_account = callback
        self.open_button.layout.display = None if callback is not None else "none"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    @contextmanager
    def _quietly(self) -> Iterator[None]:
        """Change widget values without redrawing or opening anything."""
        before, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = before

    # -- data and filters -------------------------------------------------------------------
    def reload(self) -> None:
        """Read the workspace again (dossiers, team) and the configuration
        (``templates/cost_to_serve.yaml``, ``portfolio.yaml``, ``stages.yaml``), refresh the
        filter choices and redraw. The health of every account is scored here, on ``today``."""
        dossiers = self.workspace.load_all()
        self._config = (load_cost_to_serve(), portfolio.load_portfolio_config().abc,
                        load_stages())
        self.team = self.workspace.team()
        self.tables = tables(dossiers)
        self.health = health_table(dossiers, self.today)
        acc = self.tables.accounts
        names = self._names()
        ids = sorted({str(k) for k in acc["kam"].dropna() if str(k)})
        managers = sorted((names.get(i, i), i) for i in ids)
        labels = [label for label, _ in managers]
        managers = [(f"{label} ({i})" if labels.count(label) > 1 else label, i)
                    for label, i in managers]
        regions = sorted({str(r) for r in acc["region"].dropna() if str(r)})
        with self._quietly():
            _choose(self.manager, [("all", ALL), *managers])
            _choose(self.region, [("all", ALL), *((r, r) for r in regions)])
            self.region.layout.display = None if regions else "none"
            self._period_options(self._default_period())
        self.refresh()

    def _names(self) -> dict[str, str]:
        return {m.id: m.name for m in self.team.members}

    def _periods(self, freq: str) -> list[str]:
        """The periods at ``freq`` from the first line to today (or the last line), newest
        first."""
        t = self.tables
        frames = [f["period"] for f in (t.revenue, t.costs, t.activities) if not f.empty]
        if not frames:
            return []
        start, end = bounds(pd.concat(frames, ignore_index=True),
                            what="revenue, cost and activity lines")
        last = min(int(end.max()), self.today.year * 12 + self.today.month - 1)
        first = int(start.min())
        return period_range(first, last, freq)[::-1] if last >= first else []

    def _default_period(self) -> str:
        years = self._periods("Y")
        return str(self.today.year) if str(self.today.year) in years else (
            years[0] if years else ALL)

    def _period_options(self, wanted: str) -> None:
        options = self._periods(self.granularity.value)
        _choose(self.period, [("all, up to today", ALL), *((p, p) for p in options)])
        if wanted in options or wanted == ALL:
            self.period.value = wanted
        else:  # the newest period at the new granularity that lies within (or holds) the old
            ws, we = span(wanted)
            near = [p for p in options if ws <= span(p)[0] <= we or span(p)[0] <= ws <= span(p)[1]]
            self.period.value = near[0] if near else (options[0] if options else ALL)

    def set_filters(self, *, manager: str | None = None, category: str | None = None,
                    region: str | None = None, granularity: str | None = None,
                    period: str | None = None) -> None:
        """Set several filters and redraw once; ``None`` leaves a filter as it is, ``ALL``
        (``""``) means all. ``manager`` is a team member id, ``granularity`` ``"Y"``, ``"Q"``
        or ``"M"``; a value not offered raises :class:`~traitlets.TraitError`."""
        with self._quietly():
            if granularity is not None:
                self.granularity.value = granularity
                self._period_options(self.period.value)
            for widget, value in ((self.manager, manager), (self.category, category),
                                  (self.region, region), (self.period, period)):
                if value is not None:
                    widget.value = value
        self.refresh()

    def _on_granularity(self, _: Any) -> None:
        with self._quietly():
            self._period_options(self.period.value)
        if not self._quiet:
            self.refresh()

    def _on_filter(self, _: Any) -> None:
        if not self._quiet:
            self.refresh()

    def _filters(self) -> str:
        """The active filters in words (plain text)."""
        parts = [f"{d.description.lower()} {d.label}" for d in
                 (self.manager, self.category, self.region) if d.value != ALL]
        return ", ".join(parts) or "all accounts"

    # -- drawing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw every chart, note and the table for the current filters."""
        sel = portfolio.select(self.tables, kam=self.manager.value or None,
                               category=self.category.value or None,
                               region=self.region.value or None)
        period = self.period.value or None
        self.status.value = ""
        if sel.accounts.empty:
            reason = (f"No account matches {self._filters()}: choose another manager, "
                      "category or region.")
            self.status.value = _note(reason)
            for key in CHARTS:
                self._draw(key, None, "")
            self._set_rows(sel, None, None, None)
            return
        where = f"in {period}" if period else f"up to {self.today.isoformat()}"
        costs, thresholds, stages = self._config
        profit, why = self._analyse(lambda: profitability(sel, period=period, as_of=self.today,
                                                          config=costs))
        ranking = None
        if profit is not None:
            ranking, whale = rank_by_contribution(profit), whale_curve(profit)
            top = ranking if self.top is None else ranking.head(self.top)
            fig = contribution_ranking_figure(ranking, top=self.top)
            fig.data[0].customdata = top["account_id"].tolist()[::-1]  # drawn bottom-up
            self._draw("ranking", fig, "")
            fig = whale_curve_figure(whale)
            fig.data[0].customdata = ["", *whale.curve["account_id"]]  # point 0: the origin
            self._draw("whale", fig, _sentence(whale_sentence(whale)))
        else:
            self._draw("ranking", None, why)
            self._draw("whale", None, why)

        abc, why = self._analyse(lambda: portfolio.abc(sel, period=period, as_of=self.today,
                                                       thresholds=thresholds))
        if abc is not None and abc.empty:
            abc, why = None, _note(f"No revenue from these accounts {where}.")
        if abc is not None:
            fig = pareto_figure(abc, thresholds=thresholds, top=self.top)
            ids = (abc if self.top is None else abc.head(self.top))["account_id"].tolist()
            for trace in fig.data:
                trace.customdata = ids
            self._draw("pareto", fig, "")
        else:
            self._draw("pareto", None, why)

        deals, why = self._analyse(lambda: funnel(sel, stages=stages, period=period,
                                                  as_of=self.today))
        if deals is not None and not int(deals.totals["worked"].iloc[0]):
            deals, why = None, _note("No deals for these accounts"
                                     + (f" created in {period}." if period else "."))
        if deals is not None:
            self._draw("funnel", funnel_figure(deals),
                       _sentence(funnel_sentence(deals, deals.weakest)))
        else:
            self._draw("funnel", None, why)
        self._set_rows(sel, profit, ranking, abc)

    def _analyse(self, run: Callable[[], _T]) -> tuple[_T | None, str]:
        """``run()``, or ``None`` and why there is nothing (escaped HTML)."""
        try:
            return run(), ""
        except NoData as e:
            return None, _note(str(e))
        except KamError as e:
            return None, message_html(e)

    def _draw(self, key: str, figure: go.Figure | None, note: str) -> None:
        """Redraw chart ``key``, hidden when ``figure`` is None; ``note`` (escaped HTML) goes
        under it: its headline, or why there is nothing to draw."""
        widget = self.charts.get(key)
        figure_or_empty = figure if figure is not None else go.Figure()
        if widget is None:  # the first figure goes into the widget's initial state, which
            # JupyterLab always gets; changes sent before it loaded the widget may be lost
            # (plotly/plotly.py#4933, #4998)
            widget = self.charts[key] = go.FigureWidget(figure_or_empty)
            self._boxes[key].children = (widget,)
        else:
            _redraw(widget, figure_or_empty)
        self._boxes[key].layout.display = None if figure is not None else "none"
        self.notes[key].value = note
        for trace in widget.data:
            if getattr(trace, "customdata", None) is not None:
                trace.on_click(self._on_click)

    def _set_rows(self, sel: Tables, profit: Profitability | None,
                  ranking: pd.DataFrame | None, abc: pd.DataFrame | None) -> None:
        acc = sel.accounts.drop_duplicates("account_id")
        names = self._names()
        rows = pd.DataFrame({
            "account_id": acc["account_id"].astype(str).to_numpy(),
            "name": acc["name"].astype(str).to_numpy(),
            "manager": [names.get(str(k), str(k)) if isinstance(k, str) else None
                        for k in acc["kam"]],
            "category": acc["category"].astype(object).to_numpy(),
        })
        figures = profit.accounts[["account_id", "revenue", "net_contribution"]] if (
            profit is not None) else pd.DataFrame(columns=["account_id", "revenue",
                                                           "net_contribution"])
        cats = (abc[["account_id", "category"]].rename(columns={"category": "abc"})
                if abc is not None else pd.DataFrame(columns=["account_id", "abc"]))
        health = self.health[["account_id", "score"]].rename(columns={"score": "health"})
        for part in (figures, cats, health):
            rows = rows.merge(part, on="account_id", how="left")
        order = {a: i for i, a in enumerate(ranking["account_id"])} if ranking is not None else {}
        rows = (rows.assign(_order=rows["account_id"].map(order))
                .sort_values(["_order", "name", "account_id"], na_position="last")
                .drop(columns="_order").reset_index(drop=True))
        self.rows = rows[["account_id", *_COLUMNS]]
        with self._quietly():
            old = self.accounts.value
            self.accounts.options = list(zip(rows["name"], rows["account_id"], strict=True))
            self.accounts.value = old if old in set(rows["account_id"]) else None
        self.open_button.disabled = self.accounts.value is None
        self._draw_table()

    def _draw_table(self) -> None:
        if self.rows.empty:
            self.table.value = _note("No account to list.")
            return
        head = "".join(f"<th style='text-align:left;padding:2px 8px'>{escape(h)}</th>"
                       for h in _COLUMNS.values())
        body = []
        for r in self.rows.to_dict("records"):
            mark = (" style='background:#e8f0fb;font-weight:bold'"
                    if r["account_id"] == self.accounts.value else "")
            cells = "".join(f"<td style='padding:2px 8px'>{escape(_cell(r[c]))}</td>"
                            for c in _COLUMNS)
            body.append(f"<tr data-account='{escape(r['account_id'])}'{mark}>{cells}</tr>")
        self.table.value = (f"<table class='kam-wb-table'><thead><tr>{head}</tr></thead>"
                            f"<tbody>{''.join(body)}</tbody></table>")

    # -- selection and opening --------------------------------------------------------------
    def select_account(self, account_id: str) -> None:
        """Select ``account_id`` in the table (and open it, see ``on_open_account``); an
        account outside the current selection is ignored."""
        if account_id not in set(self.rows["account_id"]):
            return
        if self.accounts.value == account_id:
            self._open(account_id)
        else:
            self.accounts.value = account_id

    def _on_click(self, trace: Any, points: Points, state: InputDeviceState | None) -> None:
        """A click on a chart: plotly calls every trace's handler, with no points for the
        traces that were not clicked."""
        ids = list(trace.customdata or ())
        for i in points.point_inds:
            if 0 <= i < len(ids) and ids[i]:
                self.select_account(str(ids[i]))
                return

    def _on_select(self, change: dict[str, Any]) -> None:
        self.open_button.disabled = change["new"] is None
        self._draw_table()
        if not self._quiet and change["new"] is not None:
            self._open(change["new"])

    def _open(self, account_id: str | None) -> None:
        if account_id is None or self.on_open_account is None:
            return
        try:
            self.on_open_account(account_id)
        except KamError as e:
            self.status.value = message_html(e)


def _redraw(widget: go.FigureWidget, figure: go.Figure) -> None:
    """:func:`~kam.workbook.base.redraw`, then the figure also written into the widget's synced
    state. A FigureWidget gets its changes as messages only, and one sent before JupyterLab has
    loaded the widget's code is lost; plotly resyncs the state only in the FigureWidget's own
    ``_repr_mimebundle_``, which a Box around it never calls (plotly/plotly.py#4998)."""
    redraw(widget, figure)
    widget._widget_layout = deepcopy(widget._layout_obj._props)
    widget._widget_data = deepcopy(widget._data)


def _choose(widget: w.Dropdown, options: list[tuple[str, str]]) -> None:
    """New ``(label, value)`` options; the selection stays where it is still offered, else
    "all" (the first option)."""
    old = widget.value
    widget.options = options
    values = [v for _, v in options]
    widget.value = old if old in values else values[0]


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return _NONE
    if isinstance(value, float):
        return f"{value:,.0f}"
    return str(value)


def _note(text: str) -> str:
    """Why there is nothing to show, escaped."""
    return f"<p class='kam-wb-note'><i>{escape(text)}</i></p>"


def _sentence(text: str) -> str:
    """A chart's headline sentence, escaped (it may quote account names)."""
    return f"<p class='kam-wb-note'>{escape(text)}</p>"


def open_portfolio(workspace: Workspace | str | os.PathLike[str] | None = None,
                   **kw: Any) -> PortfolioExplorer:
    """The portfolio explorer of ``workspace`` (default: ``$KAM_WORKSPACE``, else
    ``./kam-workspace``); ``kw`` as for :class:`PortfolioExplorer`. Display the result (the
    last line of a cell) to show it.

    Examples
    --------
    >>> from kam import demo
    >>> opened = []
    >>> ex = open_portfolio(demo.load_workspace(), today=demo.TODAY,
    ...                     on_open_account=opened.append)
    >>> ex.period.value, ex.rows["account_id"].iloc[0]
    ('2026', 'KARSTGOLD')
    >>> ex.select_account("NORDSTAHL"); opened
    ['NORDSTAHL']
    """
    if not isinstance(workspace, Workspace):
        workspace = Workspace(workspace or default_location())
    return PortfolioExplorer(workspace, **kw)
