"""What a report shows first: its header facts and key figures, assembled from analysis results.

Nothing here computes a business number: the functions pick the headline values out of the
results of :mod:`kam.health`, :mod:`kam.prospects`, :mod:`kam.account_plan`,
:mod:`kam.playbook` and :mod:`kam.profitability` and give them a label, a format and a tone.
:func:`portfolio_position` is the only view of other accounts a per-account report gets: a rank
and shares, never another account's name or figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd

from ..errors import InputError
from ..model import Dossier, Tables, Team
from ..periods import NoData
from ..profitability import Profitability, rank_by_contribution
from .display import KeyFigure, fmt_percent, fmt_value
from .params import ReportParams

T = TypeVar("T")

__all__ = [
    "Position",
    "Usable",
    "account_facts",
    "cost_breakdown",
    "named",
    "plan_key_figures",
    "portfolio_alerts",
    "portfolio_facts",
    "portfolio_key_figures",
    "portfolio_position",
    "position_table",
    "profitability_key_figures",
    "score_tone",
    "unless_no_data",
    "usable_accounts",
]


def score_tone(score: float | None) -> str | None:
    """Card tone of a 0-100 score: the bands of the health gauge (< 50 bad, < 75 warn, else
    good).

    >>> score_tone(43.0), score_tone(74.9), score_tone(80.0)
    ('bad', 'warn', 'good')
    """
    if score is None:
        return None
    return "bad" if score < 50 else "warn" if score < 75 else "good"


def _member(team: Team, member_id: str | None) -> str:
    if not member_id:
        return "—"
    m = team.get(member_id)
    return m.name if m is not None else member_id


def named(frame: pd.DataFrame, column: str, dossier: Dossier, team: Team) -> pd.DataFrame:
    """``frame`` with the ids in ``column`` shown as people's names: one of our team (by team
    member id) or a person of the client (by person id); anything else is kept as it is.

    Examples
    --------
    >>> from kam.model import Account, Person, TeamMember
    >>> d = Dossier(account=Account(id="A", name="A"), persons=[Person(id="p1", name="Ida Ott")])
    >>> team = Team(members=[TeamMember(id="tom.hale", name="Tom Hale")])
    >>> named(pd.DataFrame({"owner": ["tom.hale", "p1", "someone"]}), "owner", d, team)
          owner
    0  Tom Hale
    1   Ida Ott
    2   someone
    """
    if column not in frame.columns or frame.empty:
        return frame
    names = {p.id: p.name for p in dossier.persons}
    names.update({m.id: m.name for m in team.members})
    ids = frame[column].astype(object)
    return frame.assign(**{column: ids.map(lambda v: names.get(v, v) if isinstance(v, str)
                                           else v)})


def account_facts(dossier: Dossier, team: Team, params: ReportParams) -> list[tuple[str, str]]:
    """The facts under a per-account report's title: id, category, stage, KAM, period, date."""
    a = dossier.account
    return [
        ("Account", a.id),
        ("Category", a.category.value if a.category else "—"),
        ("Sales stage", a.sales_stage.value),
        ("Relationship", a.relationship_stage.value),
        ("KAM", _member(team, a.kam)),
        ("Period", params.period),
        ("As of", params.as_of.isoformat()),
    ]


def unless_no_data(compute: Callable[[], T], missing: list[str] | None = None) -> T | None:
    """``compute()``, or ``None`` when there is nothing to compute from
    (:class:`~kam.periods.NoData`: a prospect without sales has no profitability yet). The
    reason is added to ``missing`` (once), for the report to say what it could not show and
    why (:func:`kam.reports.display.no_data`).

    >>> from kam.periods import NoData
    >>> def nothing():
    ...     raise NoData("No revenue lines in period '2019'")
    >>> why: list[str] = []
    >>> unless_no_data(nothing, why) is None, why
    (True, ["No revenue lines in period '2019'"])
    """
    try:
        return compute()
    except NoData as e:
        if missing is not None and str(e) not in missing:
            missing.append(str(e))
        return None


def cost_breakdown(profit: Profitability | None, account_id: str) -> pd.DataFrame:
    """Cost-to-serve of one account by category (``category``, ``amount``, ``share`` of the
    account's cost-to-serve), largest first, categories without cost left out."""
    columns = ["category", "amount", "share"]
    if profit is None:
        return pd.DataFrame(columns=columns)
    rows = profit.by_category[profit.by_category["account_id"] == account_id]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    amounts = rows.drop(columns=[c for c in ("account_id", "period") if c in rows]).sum()
    amounts = amounts[amounts != 0].sort_values(ascending=False)
    total = float(amounts.sum())
    return pd.DataFrame({"category": [str(c) for c in amounts.index],
                         "amount": amounts.to_numpy(dtype=float),
                         "share": (amounts / total).to_numpy(dtype=float) if total else
                         [float("nan")] * len(amounts)})


def _row(profit: Profitability | None, account_id: str) -> dict[str, Any] | None:
    if profit is None:
        return None
    rows = profit.accounts[profit.accounts["account_id"] == account_id]
    return None if rows.empty else {str(k): v for k, v in rows.iloc[0].items()}


def _value(row: dict[str, Any] | None, key: str) -> Any:
    if row is None:
        return None
    value = row.get(key)
    return None if value is None or pd.isna(value) else value


def plan_key_figures(dossier: Dossier, *, health: Any, prospect: Any, plan: Any | None,
                     deals: pd.DataFrame, profit: Profitability | None) -> list[KeyFigure]:
    """The key figures of the account-plan report.

    ``health`` a :class:`~kam.health.HealthReport`, ``prospect`` a
    :class:`~kam.prospects.ProspectScore`, ``plan`` a :class:`~kam.account_plan.PlanStatus`
    (``None`` without a plan), ``deals`` :func:`kam.playbook.deal_status`, ``profit`` the
    account's :func:`kam.profitability.profitability` for the period (``None``: no sales).
    """
    row = _row(profit, dossier.account.id)
    high = int((health.alerts["severity"] == "high").sum()) if len(health.alerts) else 0
    out = [
        KeyFigure("Revenue in period", _value(row, "revenue"), "money"),
        KeyFigure("Net contribution", _value(row, "net_contribution"), "money",
                  tone="bad" if (_value(row, "net_contribution") or 0) < 0 else None),
        KeyFigure("Relationship health", round(health.score), "int",
                  tone=score_tone(health.score), note="of 100", index=True),
        KeyFigure("Prospect score", round(prospect.score, 1), "number",
                  tone=score_tone(100 * prospect.score / prospect.score_max)
                  if prospect.score_max else None, note=f"of {prospect.score_max:g}"),
        KeyFigure("Open deals", len(deals), "int", index=True),
    ]
    if plan is not None:
        s = plan.summary
        out += [
            KeyFigure("Plan actions done", s["share_done"], "pct",
                      note=f"{s['done']} of {s['actions']}"),
            KeyFigure("Overdue actions", s["overdue"], "int",
                      tone="bad" if s["overdue"] else "good"),
        ]
    out.append(KeyFigure("Urgent warnings", high, "int", tone="bad" if high else "good",
                         index=True))
    return out


@dataclass(frozen=True)
class Position:
    """Where one account stands in the portfolio, without naming any other account.

    ``rank`` (1 = highest net contribution) of ``of`` accounts; ``revenue_share`` and
    ``contribution_share`` of the portfolio totals (``None`` when the total is 0);
    ``left_out``: accounts not ranked because their data is refused (counted, never named).
    """

    rank: int
    of: int
    revenue_share: float | None
    contribution_share: float | None
    left_out: int = 0


@dataclass(frozen=True)
class Usable:
    """The accounts an analysis can work on, and those whose data it refuses.

    ``tables``: the selection without the refused accounts; ``refused``: ``account_id``,
    ``name``, ``reason`` (the analysis' own error message) of each refused account.
    """

    tables: Tables
    refused: pd.DataFrame


def usable_accounts(t: Tables, analyse: Callable[[Tables], object], *,
                    keep: str | None = None) -> Usable:
    """``t`` without the accounts whose data ``analyse`` refuses
    (:class:`~kam.errors.InputError`), so that one account's bad data -- written around the
    store's checks, or by an older kam -- never fails a report on the others. ``keep``: an
    account never left out (the report's own: its refusal is the report's failure).

    Only when ``analyse(t)`` fails are the accounts tried one by one.

    Examples
    --------
    >>> from kam.model import Account, Dossier, tables
    >>> t = tables([Dossier(account=Account(id=i, name=i)) for i in ("A", "B")])
    >>> from kam.errors import ValidationProblem
    >>> def picky(sel):
    ...     if "B" in set(sel.accounts["account_id"]):
    ...         raise InputError([ValidationProblem("account B", "costs", "refused")])
    >>> u = usable_accounts(t, picky)
    >>> u.tables.accounts["account_id"].tolist(), u.refused["reason"].tolist()
    (['A'], ["account B, field 'costs': refused"])
    """
    columns = ["account_id", "name", "reason"]
    try:
        analyse(t)
    except InputError:
        pass
    except NoData:
        return Usable(t, pd.DataFrame(columns=columns))
    else:
        return Usable(t, pd.DataFrame(columns=columns))
    acc = t.accounts.drop_duplicates("account_id")
    refused = []
    for account_id, name in zip(acc["account_id"], acc["name"], strict=True):
        if account_id == keep:
            continue
        try:
            analyse(t.for_accounts([account_id]))
        except NoData:
            continue
        except InputError as e:
            refused.append((account_id, name, str(e)))
    out = pd.DataFrame(refused, columns=columns)
    return Usable(t.for_accounts(acc.loc[~acc["account_id"].isin(out["account_id"]),
                                         "account_id"]), out)


def portfolio_position(portfolio: Profitability, account_id: str, *,
                       left_out: int = 0) -> Position | None:
    """The account's :class:`Position` in ``portfolio`` (profitability of all accounts over one
    period), or ``None`` if the account has no row there; ``left_out`` accounts were not
    ranked (see :func:`usable_accounts`).

    Examples
    --------
    >>> import pandas as pd
    >>> from kam.profitability import Profitability
    >>> acc = pd.DataFrame({"account_id": ["A", "B", "C"], "name": ["a", "b", "c"],
    ...                     "revenue": [100.0, 300.0, 600.0],
    ...                     "net_contribution": [50.0, -10.0, 60.0]})
    >>> portfolio_position(Profitability(acc, pd.DataFrame(), pd.DataFrame(), "booked"), "A")
    Position(rank=2, of=3, revenue_share=0.1, contribution_share=0.5, left_out=0)
    """
    ranked = rank_by_contribution(portfolio)
    rows = ranked[ranked["account_id"] == account_id]
    if rows.empty:
        return None
    row = rows.iloc[0]
    total_revenue = float(ranked["revenue"].sum())
    share = row["share_of_total"]
    return Position(
        rank=int(row["rank"]), of=len(ranked),
        revenue_share=float(row["revenue"]) / total_revenue if total_revenue else None,
        contribution_share=None if pd.isna(share) else float(share), left_out=left_out)


def position_table(position: Position) -> pd.DataFrame:
    """The :class:`Position` as a two-column table (``measure``, ``value`` as text)."""
    return pd.DataFrame({
        "measure": ["Rank by net contribution", "Share of portfolio revenue",
                    "Share of portfolio net contribution"],
        "value": [f"{position.rank} of {position.of}", fmt_percent(position.revenue_share),
                  fmt_percent(position.contribution_share)],
    })


def profitability_key_figures(profit: Profitability | None, account_id: str, *,
                              position: Position | None) -> list[KeyFigure]:
    """The key figures of the profitability report (one account over the report period)."""
    row = _row(profit, account_id)
    contribution = _value(row, "net_contribution")
    out = [
        KeyFigure("Net revenue", _value(row, "revenue"), "money", index=True),
        KeyFigure("Price discounts", _value(row, "price_discount"), "money",
                  note="off list, on the invoice"),
        KeyFigure("Gross margin", _value(row, "gross_margin_pct"), "pct", index=True),
        KeyFigure("Cost-to-serve", _value(row, "cost_to_serve"), "money"),
        KeyFigure("Net contribution", contribution, "money", index=True,
                  tone=None if contribution is None else "bad" if contribution < 0 else "good"),
        KeyFigure("Net margin", _value(row, "net_margin_pct"), "pct"),
    ]
    if position is not None:
        out.append(KeyFigure("Rank by contribution", f"{position.rank} of {position.of}",
                             "text", index=True))
        out.append(KeyFigure("Share of portfolio revenue", position.revenue_share, "pct"))
    return out



def _measure(measures: pd.DataFrame, name: str) -> Any:
    rows = measures[measures["measure"] == name]
    return None if rows.empty else rows["value"].iloc[0]


def portfolio_key_figures(overview: Any | None, *, accounts: int, whale: Any | None,
                          funnel: Any | None, realization: float | None) -> list[KeyFigure]:
    """The key figures of the portfolio report: ``overview`` a
    :class:`~kam.portfolio.PortfolioSummary` (``None``: no revenue in the period),
    ``accounts`` the number of accounts selected, ``whale`` a
    :class:`~kam.profitability.WhaleCurve`, ``funnel`` a :class:`~kam.funnel.Funnel`,
    ``realization`` the ratio r of :func:`kam.planning.realization` (``None`` for what could not
    be computed)."""
    out = [KeyFigure("Accounts", accounts, "int")]
    if overview is not None:
        m = overview.measures
        warned = overview.concentration is not None and len(overview.concentration.warnings)
        out += [
            KeyFigure("Buyers", _measure(m, "buyers"), "int", note=(
                f"{fmt_value(_measure(m, 'potential clients'), 'int')} potential clients")),
            KeyFigure("Revenue", _measure(m, "revenue"), "money"),
            KeyFigure("Gross margin", _measure(m, "gross margin %"), "pct"),
            KeyFigure("Top account's share", _measure(m, "top 1 share"), "pct",
                      tone="bad" if warned else None),
        ]
    else:
        out.append(KeyFigure("Revenue", 0.0, "money", note="no sales in the period"))
    if whale is not None:
        out.append(KeyFigure("Net contribution", whale.total, "money",
                             tone="bad" if whale.total < 0 else None,
                             note=f"{whale.n_unprofitable} unprofitable accounts"))
    if funnel is not None and len(funnel.totals) and int(funnel.totals["worked"].iloc[0]):
        out.append(KeyFigure("Conversion", funnel.totals["conversion"].iloc[0], "pct",
                             note="contracts won / clients worked"))
    if realization is not None:
        out.append(KeyFigure("Realization r", realization, "pct", note="actual / planned"))
    return out


def portfolio_alerts(concentration: Any | None, cross: pd.DataFrame | None) -> pd.DataFrame:
    """Warnings of the portfolio report: every concentration threshold exceeded
    (:func:`kam.portfolio.concentration`) and every manager lagging the team at a stage
    (:func:`kam.funnel.manager_stage_conversion`, rows flagged ``lagging``)."""
    rows: list[dict[str, Any]] = []
    if concentration is not None:
        for w in concentration.warnings.itertuples():
            rows.append({"severity": "medium", "warning": f"Dependency: {w.message}",
                         "action": "Grow other accounts so that no client can dictate terms"})
    if cross is not None and len(cross) and "lagging" in cross:
        for r in cross[cross["lagging"].astype(bool)].to_dict("records"):
            rows.append({"severity": "low", "warning": (
                f"{r['manager']} converts {fmt_percent(r['conversion'])} from "
                f"{r['from_stage']} to {r['to_stage']} against the team's "
                f"{fmt_percent(r['team_conversion'])}"),
                "action": "Review that stage's deals and refusal reasons with the manager"})
    return pd.DataFrame(rows, columns=["severity", "warning", "action"])


def portfolio_facts(params: ReportParams, team: Team, accounts: int) -> list[tuple[str, str]]:
    """The facts under the portfolio report's title."""
    return [
        ("Accounts", "all" if params.manager is None else
         f"managed by {_member(team, params.manager)}"),
        ("Number", str(accounts)),
        ("Period", params.period),
        ("As of", params.as_of.isoformat()),
    ]
