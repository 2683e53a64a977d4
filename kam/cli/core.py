"""Workspace commands: ``kam init``, ``kam demo``, ``kam accounts``, ``kam history``, ``kam diff``,
``kam gate``."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
import pandas as pd

from ..model import SalesStage, missing_for_stage, recommended_for_stage
from ..store import Workspace, default_location

__all__ = [
    "accounts",
    "demo",
    "diff",
    "echo_frame",
    "gate",
    "history",
    "init",
    "terminal_text",
    "workspace_option",
]

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

# What a terminal would act on instead of showing: C0 and C1 control characters (ESC starts an
# escape sequence, BEL rings, CR overwrites the line, 0x9b is a one-byte CSI), DEL, the Unicode
# line and paragraph separators, and the bidirectional controls that reorder what is shown.
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEPING_LINES = re.compile(_UNSAFE.pattern.replace(r"\x00-\x1f", r"\x00-\x09\x0b-\x1f"))


def terminal_text(value: Any, *, keep_newlines: bool = False) -> str:
    r"""User text made safe to print: characters a terminal would act on are written as their
    escapes, visibly (``\x1b``, ``\n``, ``\u202e``); other text is unchanged.

    ``keep_newlines`` keeps line breaks (for text printed as several lines); in a table cell
    they are escaped too, so the table stays a table.

    Examples
    --------
    >>> print(terminal_text("Acme\x1b]0;owned\x07 Steel"))
    Acme\x1b]0;owned\x07 Steel
    >>> print(terminal_text("Line 1\nLine 2"), terminal_text("Müller & Söhne"))
    Line 1\nLine 2 Müller & Söhne
    """
    text = str(value)
    unsafe = _UNSAFE_KEEPING_LINES if keep_newlines else _UNSAFE
    return unsafe.sub(lambda m: repr(m.group())[1:-1], text) if unsafe.search(text) else text


def _safe_cell(value: Any) -> Any:
    return terminal_text(value) if isinstance(value, str) else value


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
    """Print a DataFrame as a readable table (all rows, formatted numbers). Text is printed
    through :func:`terminal_text`: a name cannot clear the screen or break the table."""
    frame = frame.copy()
    for c in frame.columns:
        if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]):
            frame[c] = frame[c].map(_safe_cell)
    frame.columns = [_safe_cell(c) for c in frame.columns]
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
@workspace_option
def upgrade(workspace: str | None) -> None:
    """Migrate a workspace made by an older kam to this version's schema (one transaction; a
    SQLite workspace is copied beside it first)."""
    from ..store.migrate import upgrade as run_upgrade

    click.echo(str(run_upgrade(workspace or default_location())))


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
    click.echo(f"{terminal_text(d.account.name)} ({account}) is at stage {own.value!r}.")
    if missing:
        click.echo(f"Missing for stage {stage!r}:")
        for m in missing:
            click.echo(f"  - {terminal_text(m)}")
    else:
        click.echo(f"Everything stage {stage!r} requires is there.")
    for r in recommended_for_stage(d, stage):
        click.echo(f"  (recommended: {terminal_text(r)})")
