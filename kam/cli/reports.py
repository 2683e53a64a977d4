"""Report commands: ``kam report`` (one account, or the portfolio) and ``kam batch`` (many)."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import CELL_TIMEOUT
from ..reports.params import NOTEBOOKS
from ..store import default_location

__all__ = ["batch", "report"]

_workspace = click.option(
    "--workspace",
    "-w",
    default=None,
    metavar="PATH",
    help="Workspace folder or database URL (default: $KAM_WORKSPACE or ./kam-workspace).",
)
_out = click.option(
    "--out",
    "-o",
    "out_dir",
    default="reports",
    show_default=True,
    metavar="DIR",
    help="Folder the reports are written to.",
)
_period = click.option(
    "--period",
    default="",
    metavar="PERIOD",
    help="Report period: 2026, 2026-Q3 or 2026-09 (default: year of --as-of).",
)
_as_of = click.option(
    "--as-of", "as_of", default="", metavar="YYYY-MM-DD", help="Reporting date (default: today)."
)
_self_contained = click.option(
    "--self-contained",
    is_flag=True,
    help="Inline plotly.js in every HTML file (≈ 4.8 MB each) instead of one shared plotly.min.js.",
)
_timeout = click.option(
    "--timeout",
    default=CELL_TIMEOUT,
    show_default=True,
    type=click.IntRange(1),
    help="Seconds a notebook cell may wait for the kernel (raise it for very large workspaces).",
)


def _notebooks(values: tuple[str, ...]) -> dict[str, str]:
    """``--notebook`` values of ``kam batch`` (``KIND=PATH``, or a PATH named like kam's
    notebook of a kind, e.g. ``account_plan.ipynb``) as ``{kind: path}``."""
    by_file = {file: kind for kind, file in NOTEBOOKS.items()}
    out: dict[str, str] = {}
    for value in values:
        kind, sep, path = value.partition("=")
        if not sep or kind not in NOTEBOOKS:
            kind, path = by_file.get(Path(value).name, ""), value
        if not kind:
            raise click.BadParameter(
                f"cannot tell which report {value!r} is for; write KIND=PATH, e.g. "
                f"plan={value} (kinds: {', '.join(NOTEBOOKS)})", param_hint="'--notebook'")
        if kind in out:
            raise click.BadParameter(f"two notebooks for the {kind} report: {out[kind]!r} and "
                                     f"{path!r}; give one", param_hint="'--notebook'")
        out[kind] = path
    return out


@click.command()
@click.argument("account", required=False)
@click.option(
    "--kind",
    type=click.Choice(["plan", "profitability", "planner"]),
    default="plan",
    show_default=True,
    help="Which report: an account's plan or profitability, or a planner's week.",
)
@click.option("--portfolio", is_flag=True, help="The portfolio report instead of an account's.")
@click.option(
    "--manager",
    default=None,
    metavar="ID",
    help="With --portfolio: only this team member's accounts.",
)
@click.option(
    "--planner",
    default=None,
    metavar="ID",
    help="With --kind planner: the planner (default: the first planner of the team).",
)
@click.option(
    "--week",
    default="",
    metavar="YYYY-Www",
    help="With --kind planner: the ISO week, e.g. 2026-W48 (default: the current week).",
)
@click.option(
    "--notebook",
    default=None,
    metavar="PATH",
    help="Run your own copy of this kind's notebook (e.g. from kam lab) instead of kam's.",
)
@_workspace
@_out
@_period
@_as_of
@_self_contained
@_timeout
def report(
    account: str | None,
    kind: str,
    portfolio: bool,
    manager: str | None,
    planner: str | None,
    week: str,
    notebook: str | None,
    workspace: str | None,
    out_dir: str,
    period: str,
    as_of: str,
    self_contained: bool,
    timeout: int,
) -> None:
    """Write the HTML report of ACCOUNT (or, with --portfolio, of the portfolio; with --kind
    planner, of a planner's week).

    It runs kam's own notebook of the report kind, not the copies kam lab opens, unless
    --notebook names one. A failed run keeps its annotated notebook and says where it is.
    """
    from ..reports.render import render_report

    if kind == "planner" or planner or week:
        _planner_report(account, kind, portfolio, manager, planner, week, notebook, workspace,
                        out_dir, period, as_of, self_contained, timeout)
        return
    if portfolio and account:
        raise click.UsageError("give either ACCOUNT or --portfolio, not both")
    if not portfolio and not account:
        raise click.UsageError("missing ACCOUNT (or use --portfolio)")
    if manager and not portfolio:
        raise click.UsageError("--manager goes with --portfolio")
    result = render_report(
        workspace or default_location(),
        account,
        "portfolio" if portfolio else kind,
        out_dir,
        manager=manager,
        period=period,
        as_of=as_of,
        self_contained=self_contained,
        timeout=timeout,
        notebook=notebook,
    )
    click.echo(f"Wrote {result.html} ({result.seconds:.1f} s)")


def _planner_report(account: str | None, kind: str, portfolio: bool, manager: str | None,
                    planner: str | None, week: str, notebook: str | None,
                    workspace: str | None, out_dir: str, period: str, as_of: str,
                    self_contained: bool, timeout: int) -> None:
    """``kam report --kind planner``: a planner's week."""
    from ..errors import ReportFailed
    from ..reports.params import check_parameters
    from ..reports.render import KernelSession, check_notebook, execute

    if kind != "planner":
        raise click.UsageError("--planner and --week go with --kind planner")
    if account or portfolio or manager:
        raise click.UsageError("a planner report takes --planner and --week, not an ACCOUNT, "
                               "--portfolio or --manager")
    if as_of:
        raise click.UsageError("a planner report is as of its week: give --week, not --as-of")
    params = check_parameters("planner", workspace=workspace or default_location(),
                              planner=planner or "", week=week, period=period)
    source = check_notebook(notebook, "planner") if notebook is not None else None
    with KernelSession() as kernel:
        result = execute(params, out_dir, name=f"planner-{params.planner}-{params.week}",
                         self_contained=self_contained, timeout=timeout, kernel=kernel,
                         notebook=source)
    if result.error:
        raise ReportFailed(result.error, str(result.notebook))
    click.echo(f"Wrote {result.html} ({result.seconds:.1f} s)")


@click.command()
@_workspace
@_out
@click.option(
    "--account",
    "-a",
    "accounts",
    multiple=True,
    metavar="ID",
    help="Only this account (repeatable).",
)
@click.option(
    "--manager",
    default=None,
    metavar="ID",
    help="Only accounts whose KAM is this team member (and their portfolio report).",
)
@click.option(
    "--category",
    type=click.Choice(["A", "B", "C"], case_sensitive=False),
    default=None,
    help="Only accounts of this category.",
)
@click.option(
    "--kind",
    "kinds",
    type=click.Choice(["plan", "profitability"]),
    multiple=True,
    help="Per-account report kinds (repeatable; default: both).",
)
@click.option("--no-portfolio", is_flag=True, help="Skip the portfolio report.")
@click.option(
    "--notebook",
    "notebooks",
    multiple=True,
    metavar="[KIND=]PATH",
    help="Run your own copy of a kind's notebook instead of kam's, e.g. "
    "plan=my/account_plan.ipynb (repeatable; KIND= may be left out when the file has kam's "
    "name).",
)
@click.option(
    "--workers",
    "-j",
    type=click.IntRange(1),
    default=None,
    help="Worker processes (default: one per CPU core).",
)
@click.option(
    "--cluster",
    default=None,
    metavar="ADDRESS",
    help="Run the reports on a Dask cluster: a scheduler's address (tcp://HOST:8786), or "
    "local[:N] for N workers on this machine. The workers must see the workspace and --out at "
    "the same paths.",
)
@click.option(
    "--connect-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Seconds to wait for the Dask scheduler and its first worker.",
)
@click.option("--force", is_flag=True, help="Redo every report, also the unchanged ones.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@_period
@_as_of
@_self_contained
@_timeout
def batch(
    workspace: str | None,
    out_dir: str,
    accounts: tuple[str, ...],
    manager: str | None,
    category: str | None,
    kinds: tuple[str, ...],
    no_portfolio: bool,
    notebooks: tuple[str, ...],
    workers: int | None,
    cluster: str | None,
    connect_timeout: float,
    force: bool,
    no_progress: bool,
    period: str,
    as_of: str,
    self_contained: bool,
    timeout: int,
) -> None:
    """Write the reports of all (or some) accounts in parallel, with an index.html.

    It runs kam's own notebooks unless --notebook names your copy. Re-running redoes only
    reports whose inputs (data, notebook, parameters) changed or that failed. A failing report
    does not stop the batch; its notebook is kept, and the command exits with status 1 at the end.
    Ctrl-C (or SIGTERM) stops it at once, keeping the reports written so far (exit status 130,
    or 143 for SIGTERM). With --cluster the reports run on Dask workers; a report whose worker
    died is retried, and a worker that cannot read the workspace or write --out is named.
    """
    from ..errors import ClusterError
    from ..reports.batch import BatchInterrupted, run_batch

    own = _notebooks(notebooks)

    try:
        result = run_batch(
            workspace or default_location(),
            out_dir,
            accounts=accounts,
            manager=manager,
            category=category,
            kinds=kinds or ("plan", "profitability"),
            portfolio=not no_portfolio,
            period=period,
            as_of=as_of,
            workers=workers,
            force=force,
            self_contained=self_contained,
            timeout=timeout,
            progress=not no_progress,
            notebooks=own,
            cluster=cluster,
            connect_timeout=connect_timeout,
        )
    except BatchInterrupted as stop:
        click.echo(f"kam batch {stop}", err=True)
        raise SystemExit(stop.exit_code) from None
    except ClusterError as e:
        click.echo(f"kam batch: {e}", err=True)
        raise SystemExit(1) from None
    click.echo(result.summary())
    if not result.ok:
        raise SystemExit(1)
