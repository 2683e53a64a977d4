"""Portfolio commands: ``kam portfolio`` and ``kam funnel``."""

from __future__ import annotations

from datetime import date

import click
import pandas as pd

from ..model import Tables, Team
from ..store import Workspace, default_location
from .core import echo_frame, terminal_text, workspace_option

__all__ = ["funnel", "portfolio"]


def _tables(workspace: str | None, manager: str | None) -> Tables:
    return _load(workspace, manager)[0]


def _load(workspace: str | None, manager: str | None) -> tuple[Tables, Team]:
    """The tables of the portfolio (of one KAM's accounts with ``manager``) and the team."""
    with Workspace(workspace or default_location()) as ws:
        t, team = ws.tables(), ws.team()
    if manager:
        ids = t.accounts.loc[t.accounts["kam"] == manager, "account_id"]
        if ids.empty:
            known = ", ".join(sorted(t.accounts["kam"].dropna().unique()))
            raise click.ClickException(
                f"No accounts for manager {manager!r}; managers: {terminal_text(known)}")
        t = t.for_accounts(ids)
    return t, team


manager_option = click.option("--manager", default=None, help="Only this KAM's accounts.")
as_of_option = click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="YYYY-MM-DD",
    help="Count only what was known on this date.",
)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD") from None


def _echo_ends(frame: pd.DataFrame, top: int, what: str) -> None:
    """Print ``frame`` whole, or with ``top`` > 0 and more than twice as many rows, its first
    and last ``top`` rows and how many are left out between them."""
    if top <= 0 or len(frame) <= 2 * top:
        echo_frame(frame)
        return
    echo_frame(frame.head(top))
    click.echo(f"  ... {len(frame) - 2 * top:,} more {what} (--top 0 shows them all)")
    echo_frame(frame.tail(top))


@click.command()
@workspace_option
@manager_option
@click.option("--period", default=None, help="A year, quarter or month, e.g. 2025 or 2025-Q3.")
@as_of_option
@click.option("--top", type=click.IntRange(min=0), default=15, show_default=True,
              help="Accounts shown at the top and bottom of each ranking; 0 shows every one.")
def portfolio(
    workspace: str | None, manager: str | None, period: str | None, as_of: str | None, top: int
) -> None:
    """Concentration, ABC categories and contribution ranking of the portfolio. A part without
    data says so and why, instead of showing zeros; an account whose stored data kam refuses is
    left out and named, instead of failing the command."""
    from ..periods import NoData
    from ..portfolio import abc, portfolio_summary
    from ..profitability import Profitability, profitability, rank_by_contribution
    from ..reports.summary import usable_accounts

    day = _date(as_of)
    first: list[Profitability] = []  # the analysis of the whole selection, kept when it passes

    def analyse(sel: Tables) -> None:
        first.append(profitability(sel, period=period, as_of=day))

    usable = usable_accounts(_tables(workspace, manager), analyse)
    t = usable.tables
    for r in usable.refused.itertuples():
        reason = str(r.reason).splitlines()[0]
        click.echo(terminal_text(f"Left out: {r.name} ({r.account_id}): {reason}"))
    summary = None
    try:
        summary = portfolio_summary(t, period=period, as_of=day)
    except NoData as e:
        click.echo(f"Concentration: no data. {e}")
    else:
        conc = summary.concentration
        click.echo(
            f"Top 1: {conc.top1:.0%}   top 5: {conc.top5:.0%}   top 10: {conc.top10:.0%}   "
            f"Herfindahl: {conc.hhi:.3f}"
        )
        for message in conc.warnings.get("message", []):
            click.echo(f"  ! {terminal_text(message)}")
    click.echo("\nABC categories:")
    try:
        categories = abc(t, period=period, as_of=day)
    except NoData as e:
        click.echo(f"  no data. {e}")
    else:
        if summary is not None:
            echo_frame(summary.abc)
            click.echo("")
        _echo_ends(categories, top, "accounts")
    click.echo("\nNet contribution ranking:")
    try:
        profit = (first[0] if usable.refused.empty and first
                  else profitability(t, period=period, as_of=day))
    except NoData as e:
        click.echo(f"  no data. {e}")
    else:
        _echo_ends(rank_by_contribution(profit)[
            ["rank", "account_id", "name", "revenue", "gross_margin", "cost_to_serve",
             "net_contribution", "share_of_total"]], top, "accounts")
        for note in profit.notes:
            click.echo(f"  note: {note}")


@click.command()
@workspace_option
@manager_option
@click.option("--period", default=None, help="A year, quarter or month, e.g. 2025 or 2025-Q3.")
@as_of_option
@click.option(
    "--by",
    type=click.Choice(["manager", "planner"]),
    default="manager",
    show_default=True,
    help="Compare the deals' managers, or roll them up to their planners (the team's "
    "reporting line).",
)
def funnel(
    workspace: str | None, manager: str | None, period: str | None, as_of: str | None, by: str
) -> None:
    """The sales funnel, its weakest link and the conversion of each manager or planner
    (DOMAIN.md §6)."""
    from ..funnel import conversion
    from ..funnel import funnel as build_funnel

    t, team = _load(workspace, manager)
    day = _date(as_of)
    f = build_funnel(t, period=period, as_of=day)
    echo_frame(f.stages)
    w = f.weakest
    if w is None:
        click.echo("\nNo transition has lost a deal yet: no weakest link.")
    else:
        click.echo(
            f"\nWeakest link: {w['from_stage']} -> {w['to_stage']} "
            f"(loses {w['lost_share']:.0%} of the deals that reach {w['from_stage']})"
        )
    click.echo(f"\nConversion by {by}:")
    echo_frame(conversion(t, by=by, team=team, period=period, as_of=day))
    click.echo(f"\nWeakest link by {by}:")
    echo_frame(build_funnel(t, by=by, team=team, period=period, as_of=day).weakest_links)
