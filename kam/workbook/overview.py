"""The workbook's overview of the open account: its name, facts, key figures and warnings --
the first section of the account-plan report, redrawn from the dossier being edited.

:func:`account_overview` assembles the same results the report notebook
(``notebooks/account_plan.ipynb``) computes for its header: relationship health, prospect score,
plan status, deal status and profitability over the period, turned into key figures by
:func:`kam.reports.summary.plan_key_figures`. :class:`OverviewView` only draws them, with the
report's own HTML (:mod:`kam.reports.display`).

The analyses read their configuration (``templates/*.yaml``) on every call unless given it; the
workbook redraws after every edit, so :func:`default_settings` reads it once per process.
"""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

import ipywidgets as w
import pandas as pd

from .. import account_plan, health, playbook, prospects
from ..model import Dossier, Team, tables
from ..opportunities import OpportunityConfig, load_opportunity_config
from ..profitability import CostToServeConfig, Profitability, load_cost_to_serve, profitability
from ..reports import display as kd
from ..reports import summary
from ..reports.params import ReportParams

__all__ = [
    "PROFIT_INPUTS",
    "AccountOverview",
    "OverviewView",
    "Settings",
    "account_overview",
    "account_profitability",
    "default_settings",
]

PROFIT_INPUTS: dict[str, Any] = {"account": {"id", "name"}, "revenue": True, "costs": True,
                                 "activities": True}
"""The parts of a dossier :func:`kam.profitability.profitability` reads (the account's id and
name, its revenue, cost and activity lines, through :func:`kam.model.tables`), as a pydantic
``include``: while they are unchanged, :class:`OverviewView` reuses the account's
profitability. No named edit changes the sales and cost lines, so after an edit only the other
analyses run again."""

_MEMO_SIZE = 32


@dataclass(frozen=True)
class Settings:
    """The configuration the overview's analyses use (the defaults of ``templates/``)."""

    health: health.HealthConfig
    scoring: prospects.ScoringConfig
    opportunities: OpportunityConfig
    playbook: playbook.Playbook
    cost_to_serve: CostToServeConfig


@functools.cache
def default_settings() -> Settings:
    """The default configuration, read once per process (the same files the reports read)."""
    return Settings(
        health=health.load_health_config(), scoring=prospects.load_scoring_config(),
        opportunities=load_opportunity_config(), playbook=playbook.load_playbook(),
        cost_to_serve=load_cost_to_serve())


@dataclass(frozen=True)
class AccountOverview:
    """What the overview shows for one account.

    ``facts`` as :func:`kam.reports.summary.account_facts`, ``key_figures`` as
    :func:`kam.reports.summary.plan_key_figures`, ``alerts`` the warnings of
    :func:`kam.health.relationship_health`.
    """

    account_id: str
    name: str
    facts: list[tuple[str, str]]
    key_figures: list[kd.KeyFigure]
    alerts: pd.DataFrame


def account_profitability(dossier: Dossier, *, today: date, period: str,
                          settings: Settings | None = None) -> Profitability | None:
    """The account's profitability over ``period`` up to ``today``, as the report computes it
    (``None`` when the period holds no sales or cost line)."""
    cfg = settings or default_settings()
    return summary.unless_no_data(lambda: profitability(
        tables([dossier]), period=period, as_of=today, config=cfg.cost_to_serve))


def account_overview(dossier: Dossier, team: Team, *, today: date, period: str | None = None,
                     location: str = "", settings: Settings | None = None,
                     profit_of: Callable[[Dossier], Profitability | None] | None = None,
                     ) -> AccountOverview:
    """The header of the account-plan report for ``dossier`` on ``today``.

    Parameters
    ----------
    dossier
        The account (saved or being edited).
    team
        The team roster (names of the KAM).
    today
        The date of the analyses.
    period
        The profitability period (default: the year of ``today``, as the report).
    location
        The workspace location (only recorded in the report parameters).
    settings
        The configuration (default: :func:`default_settings`).
    profit_of
        Gives the account's profitability (default: :func:`account_profitability`).

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier, Team
    >>> o = account_overview(Dossier(account=Account(id="A", name="Acme")), Team(),
    ...                      today=date(2026, 3, 1))
    >>> [f.label for f in o.key_figures][:3]
    ['Revenue in period', 'Net contribution', 'Relationship health']
    """
    cfg = settings or default_settings()
    period = period or str(today.year)
    relationship = health.relationship_health(dossier, today, cfg.health)
    prospect = prospects.prospect_score(dossier, cfg.scoring, today=today, team=team,
                                        opportunity_config=cfg.opportunities)
    plan = account_plan.plan_status(dossier, today) if dossier.plan is not None else None
    deals = playbook.deal_status(dossier, today, playbook=cfg.playbook)
    profit = (profit_of(dossier) if profit_of is not None else
              account_profitability(dossier, today=today, period=period, settings=cfg))
    figures = summary.plan_key_figures(dossier, health=relationship, prospect=prospect,
                                       plan=plan, deals=deals, profit=profit)
    params = ReportParams(kind="plan", workspace=location, demo=False, as_of=today,
                          period=period, account_id=dossier.account.id)
    return AccountOverview(
        account_id=dossier.account.id, name=dossier.account.name,
        facts=summary.account_facts(dossier, team, params), key_figures=figures,
        alerts=relationship.alerts)


def overview_html(overview: AccountOverview, *, note: str = "") -> str:
    """The overview as HTML: the report's header card (name and facts, escaped), its key-figure
    cards and its warnings; ``note`` (plain text) under the header."""
    header: Any = kd.report_header("Account workbook", overview.name, facts=overview.facts)
    parts = [header._repr_mimebundle_()["text/html"]]
    if note:
        parts.append(f'<p class="kam-empty">{escape(note)}</p>')
    parts.append(kd.key_figures(overview.key_figures)._repr_html_())
    parts.append(kd.alerts(overview.alerts)._repr_html_())
    return "".join(parts)


class OverviewView:
    """The overview widget: :meth:`show` redraws it for a dossier.

    Parameters
    ----------
    team
        The team roster.
    today
        The date of the analyses.
    period
        The profitability period (default: the year of ``today``).
    location
        The workspace location.
    """

    def __init__(self, team: Team, *, today: date, period: str | None = None,
                 location: str = "", settings: Settings | None = None):
        self.team = team
        self.today = today
        self.period = period or str(today.year)
        self.location = location
        self.settings = settings or default_settings()
        self.current: AccountOverview | None = None
        self._shown: OrderedDict[str, AccountOverview] = OrderedDict()
        self._profits: OrderedDict[str, Profitability | None] = OrderedDict()
        self.html = w.HTML(self.empty_html())
        self.widget = w.VBox([self.html], layout=w.Layout(flex="1 1 auto", margin="0 0 0 1em"))

    @staticmethod
    def empty_html() -> str:
        return kd.note("Pick an account to open it.")._repr_html_()

    def clear(self, message: str = "") -> None:
        """Show nothing but ``message`` (plain text; default: a prompt to pick an account)."""
        self.current = None
        self.html.value = kd.note(message)._repr_html_() if message else self.empty_html()

    def show(self, dossier: Dossier, *, note: str = "") -> AccountOverview:
        """Redraw for ``dossier`` and return what is shown. The same content (e.g. after a
        save, or back on an account) is not computed again."""
        key = _digest(dossier.model_dump_json())
        overview = _recall(self._shown, key)
        if overview is None:
            overview = account_overview(dossier, self.team, today=self.today,
                                        period=self.period, location=self.location,
                                        settings=self.settings, profit_of=self._profit)
            _keep(self._shown, key, overview)
        self.current = overview
        self.html.value = overview_html(overview, note=note)
        return overview

    def _profit(self, dossier: Dossier) -> Profitability | None:
        key = _digest(dossier.model_dump_json(include=PROFIT_INPUTS))
        if key in self._profits:
            self._profits.move_to_end(key)
            return self._profits[key]
        profit = account_profitability(dossier, today=self.today, period=self.period,
                                       settings=self.settings)
        _keep(self._profits, key, profit)
        return profit


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _recall(memo: OrderedDict[str, AccountOverview], key: str) -> AccountOverview | None:
    found = memo.get(key)
    if found is not None:
        memo.move_to_end(key)
    return found


def _keep(memo: OrderedDict[str, Any], key: str, value: Any) -> None:
    memo[key] = value
    while len(memo) > _MEMO_SIZE:
        memo.popitem(last=False)
