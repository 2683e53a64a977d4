"""Analysis commands: ``kam health``, ``kam score``, ``kam opportunities``, ``kam deals``,
``kam plan``, ``kam meeting``. Each prints DataFrames from the analysis modules."""

from __future__ import annotations

from datetime import date

import click

from ..store import Workspace, default_location
from .core import echo_frame, terminal_text, workspace_option

__all__ = ["deals", "health", "meeting", "opportunities", "plan", "score"]


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD") from None


today_option = click.option(
    "--today", default=None, metavar="YYYY-MM-DD", help="Reference date (default: today)."
)


def _ws(workspace: str | None) -> Workspace:
    return Workspace(workspace or default_location())


@click.command()
@workspace_option
@today_option
def health(workspace: str | None, today: str | None) -> None:
    """Relationship health of every account (0-100) and the high-severity alerts."""
    from ..health import health_alerts, health_table

    dossiers = _ws(workspace).load_all()
    day = _today(today)
    echo_frame(health_table(dossiers, day))
    alerts = health_alerts(dossiers, day)
    high = alerts[alerts["severity"] == "high"] if "severity" in alerts else alerts
    if not high.empty:
        click.echo("\nHigh-severity alerts:")
        echo_frame(high)


@click.command()
@workspace_option
@today_option
def score(workspace: str | None, today: str | None) -> None:
    """Rank the accounts by prospect score (DOMAIN.md §5)."""
    from ..prospects import rank_prospects

    echo_frame(rank_prospects(_ws(workspace).load_all(), today=_today(today)))


@click.command()
@click.argument("account", required=False)
@workspace_option
def opportunities(account: str | None, workspace: str | None) -> None:
    """The opportunity matrix of ACCOUNT, or of the whole portfolio (DOMAIN.md §4)."""
    from ..opportunities import opportunity_matrix, portfolio_matrix

    ws = _ws(workspace)
    if account:
        frame = opportunity_matrix(ws.load(account), missing="skip")
    else:
        frame = portfolio_matrix(ws.load_all(), missing="skip")
    echo_frame(frame.drop(columns=[c for c in ("action",) if c in frame]))


@click.command()
@click.argument("account")
@workspace_option
@today_option
def deals(account: str, workspace: str | None, today: str | None) -> None:
    """Deal status report of ACCOUNT's open deals and the playbook's next actions."""
    from ..playbook import deal_status, next_actions

    d = _ws(workspace).load(account)
    day = _today(today)
    echo_frame(deal_status(d, day).drop(columns=["n_risks"], errors="ignore"))
    click.echo("\nNext actions:")
    echo_frame(next_actions(d, day)[["deal_id", "decision_stage", "action"]])


@click.command()
@click.argument("account")
@click.option(
    "--since",
    default=None,
    metavar="YYYY-MM-DD|REV",
    help="Show what changed in the plan since this date or revision.",
)
@workspace_option
@today_option
def plan(account: str, since: str | None, workspace: str | None, today: str | None) -> None:
    """Status of ACCOUNT's account plan, and what changed in it since a date or revision."""
    from ..account_plan import plan_changes, plan_status

    ws = _ws(workspace)
    d = ws.load(account)
    status = plan_status(d, _today(today))
    for key, value in status.summary.items():
        click.echo(f"{key:>22}: {terminal_text(value)}")
    click.echo("\nActions:")
    echo_frame(status.actions)
    if since is not None:
        before = ws.load(account, as_of=int(since) if since.isdigit() else _today(since))
        changes = plan_changes(before, d)
        click.echo(f"\nChanges since {since}:")
        echo_frame(changes) if not changes.empty else click.echo("none")


@click.command()
@click.argument("account")
@click.argument("persons", nargs=-1, required=True)
@workspace_option
@today_option
def meeting(
    account: str, persons: tuple[str, ...], workspace: str | None, today: str | None
) -> None:
    """Meeting preparation sheet (markdown) for a meeting with PERSONS of ACCOUNT."""
    from ..meeting import meeting_sheet

    d = _ws(workspace).load(account)
    click.echo(terminal_text(meeting_sheet(d, list(persons), _today(today)).to_markdown(),
                             keep_newlines=True))
