"""Workspace commands: ``kam init``, ``kam demo``, ``kam accounts``, ``kam history``, ``kam diff``,
``kam gate``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import click
import pandas as pd

from ..model import SalesStage, missing_for_stage, recommended_for_stage
from ..store import Workspace, default_location

__all__ = ["accounts", "demo", "diff", "echo_frame", "gate", "history", "init", "workspace_option"]

workspace_option = click.option(
    "--workspace",
    "-w",
    default=None,
    metavar="PATH",
    help="Workspace folder or database URL (default: $KAM_WORKSPACE or ./kam-workspace).",
)


def _open(workspace: str | None) -> Workspace:
    return Workspace(workspace or default_location())


_SHARE_WORDS = ("share", "pct", "conversion", "rate", "probability", "ratio")


def _formatter(column: str, values: pd.Series) -> Callable[[float], str] | None:
    """Shares as percentages, large amounts with thousands separators, small numbers as they
    are: what a reader expects of a table in a terminal (missing values print as ``-``)."""
    if not pd.api.types.is_float_dtype(values):
        return None
    if any(word in column for word in _SHARE_WORDS):
        return "{:.1%}".format
    if values.abs().max() >= 1000:
        return "{:,.0f}".format
    return lambda v: f"{v:.2f}".rstrip("0").rstrip(".")


def echo_frame(frame: pd.DataFrame) -> None:
    """Print a DataFrame as a readable table (all rows, formatted numbers)."""
    formatters = {c: f for c in frame.columns if (f := _formatter(str(c), frame[c])) is not None}
    with pd.option_context(
        "display.max_rows",
        500,
        "display.max_columns",
        30,
        "display.width",
        200,
        "display.max_colwidth",
        60,
    ):
        click.echo(frame.to_string(index=False, formatters=formatters, na_rep="-"))


@click.command()
@click.argument("path", required=False)
def init(path: str | None) -> None:
    """Create an empty workspace at PATH (default: $KAM_WORKSPACE or ./kam-workspace)."""
    location = path or default_location()
    Workspace(location, create=True).close()
    click.echo(f"Created an empty kam workspace at {location}")


@click.command()
@click.argument("path", required=False)
@click.option("--overwrite", is_flag=True, help="Replace an existing workspace at PATH.")
def demo(path: str | None, overwrite: bool) -> None:
    """Build the demo workspace at PATH (default: $KAM_WORKSPACE or ./kam-workspace)."""
    from .. import demo as demo_data

    location = path or default_location()
    ws = demo_data.build(location, overwrite=overwrite)
    n = len(ws.account_ids())
    ws.close()
    click.echo(
        f"Built the demo workspace at {location}: {n} key accounts "
        f"(as of {demo_data.TODAY.isoformat()})"
    )


@click.command()
@workspace_option
def accounts(workspace: str | None) -> None:
    """List the accounts of the workspace with their newest revision."""
    ws = _open(workspace)
    rows = [
        {
            "account": d.account.id,
            "name": d.account.name,
            "category": d.account.category.value if d.account.category else "",
            "stage": d.account.sales_stage.value,
            "kam": d.account.kam or "",
            "revision": ws.revision_of(d),
        }
        for d in ws.load_all()
    ]
    echo_frame(pd.DataFrame(rows))


@click.command()
@click.argument("account")
@workspace_option
def history(account: str, workspace: str | None) -> None:
    """Every revision of ACCOUNT: number, author, time and message."""
    frame = _open(workspace).history(account)
    frame["created_at"] = frame["created_at"].dt.strftime("%Y-%m-%d %H:%M")
    frame["based_on"] = frame["based_on"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    echo_frame(frame)


def _revision(value: str) -> int | pd.Timestamp:
    if value.isdigit():
        return int(value)
    try:
        return pd.Timestamp(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a revision number nor a date (YYYY-MM-DD)"
        ) from None


def _plain(rev: int | pd.Timestamp) -> int | datetime:
    return rev.to_pydatetime() if isinstance(rev, pd.Timestamp) else rev


@click.command()
@click.argument("account")
@click.argument("rev_a")
@click.argument("rev_b", required=False)
@workspace_option
def diff(account: str, rev_a: str, rev_b: str | None, workspace: str | None) -> None:
    """Field-level changes of ACCOUNT from REV_A to REV_B (default: newest).

    A revision is a number or a date (the revision in force at the end of that day)."""
    a = _revision(rev_a)
    b = _revision(rev_b) if rev_b else None
    frame = _open(workspace).diff(account, _plain(a), _plain(b) if b is not None else None)
    if frame.empty:
        click.echo("No changes.")
    else:
        echo_frame(frame)


@click.command()
@click.argument("account")
@click.option(
    "--stage",
    type=click.Choice([s.value for s in SalesStage]),
    default=None,
    help="Stage to check (default: the next stage after the account's own).",
)
@workspace_option
def gate(account: str, stage: str | None, workspace: str | None) -> None:
    """Say what information ACCOUNT is missing for a sales stage (DOMAIN.md §1 stage gate)."""
    d = _open(workspace).load(account)
    own = d.account.sales_stage
    if stage is None:
        stages = list(SalesStage)
        stage = stages[min(own.number, len(stages) - 1)].value
    missing = missing_for_stage(d, stage)
    click.echo(f"{d.account.name} ({account}) is at stage {own.value!r}.")
    if missing:
        click.echo(f"Missing for stage {stage!r}:")
        for m in missing:
            click.echo(f"  - {m}")
    else:
        click.echo(f"Everything stage {stage!r} requires is there.")
    for r in recommended_for_stage(d, stage):
        click.echo(f"  (recommended: {r})")
