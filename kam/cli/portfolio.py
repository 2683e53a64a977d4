"""Portfolio commands: ``kam portfolio`` and ``kam funnel``."""

from __future__ import annotations

from datetime import date

import click

from ..model import Tables, tables
from ..store import Workspace, default_location
from .core import echo_frame, workspace_option

__all__ = ["funnel", "portfolio"]


def _tables(workspace: str | None, manager: str | None) -> Tables:
    ws = Workspace(workspace or default_location())
    t = tables(ws.load_all())
    if manager:
        ids = t.accounts.loc[t.accounts["kam"] == manager, "account_id"]
        if ids.empty:
            known = ", ".join(sorted(t.accounts["kam"].dropna().unique()))
            raise click.ClickException(f"No accounts for manager {manager!r}; managers: {known}")
        t = t.for_accounts(ids)
    return t


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


@click.command()
@workspace_option
@manager_option
@click.option("--period", default=None, help="A year, quarter or month, e.g. 2025 or 2025-Q3.")
@as_of_option
def portfolio(
    workspace: str | None, manager: str | None, period: str | None, as_of: str | None
) -> None:
    """Concentration, ABC categories and contribution ranking of the portfolio."""
    from ..portfolio import abc, concentration
    from ..profitability import profitability, rank_by_contribution

    t = _tables(workspace, manager)
    day = _date(as_of)
    conc = concentration(t, period=period, as_of=day)
    click.echo(
        f"Top 1: {conc.top1:.0%}   top 5: {conc.top5:.0%}   top 10: {conc.top10:.0%}   "
        f"Herfindahl: {conc.hhi:.3f}"
    )
    for message in conc.warnings.get("message", []):
        click.echo(f"  ! {message}")
    click.echo("\nABC categories:")
    echo_frame(abc(t, period=period, as_of=day))
    click.echo("\nNet contribution ranking:")
    echo_frame(rank_by_contribution(profitability(t, period=period, as_of=day)))


@click.command()
@workspace_option
@manager_option
@click.option("--period", default=None, help="A year, quarter or month, e.g. 2025 or 2025-Q3.")
@as_of_option
def funnel(
    workspace: str | None, manager: str | None, period: str | None, as_of: str | None
) -> None:
    """The sales funnel, its weakest link and each manager's conversion (DOMAIN.md §6)."""
    from ..funnel import conversion
    from ..funnel import funnel as build_funnel

    t = _tables(workspace, manager)
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
    click.echo("\nConversion by manager:")
    echo_frame(conversion(t, by="manager", period=period, as_of=day))
