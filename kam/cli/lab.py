"""``kam lab``: JupyterLab on the user's own copies of kam's notebooks."""

from __future__ import annotations

import shlex

import click

from ..lab import (
    DEFAULT_FOLDER,
    WORKBOOK,
    copy_notebooks,
    lab_command,
    resolve_workspace,
    run_lab,
)

__all__ = ["lab"]


@click.command()
@click.argument("workspace", required=False)
@click.option(
    "--dir",
    "folder",
    default=DEFAULT_FOLDER,
    show_default=True,
    type=click.Path(file_okay=False),
    metavar="FOLDER",
    help="Your notebook folder: kam's notebooks are copied into it and JupyterLab opens it.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port of JupyterLab (default: 8888, or the next free one).",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser tab.")
@click.option(
    "--refresh",
    is_flag=True,
    help="Overwrite the copies you changed with kam's notebooks (your changes are lost).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be copied and run; start nothing.")
def lab(
    workspace: str | None,
    folder: str,
    port: int | None,
    no_browser: bool,
    refresh: bool,
    dry_run: bool,
) -> None:
    """Start JupyterLab on your copies of kam's notebooks, with the data of WORKSPACE.

    kam's notebooks (the workbook and the report notebooks) are copied into FOLDER; a copy you
    changed is kept (--refresh overwrites it). kam report and kam batch go on running kam's own
    notebooks: pass --notebook to run your copy. WORKSPACE (default: $KAM_WORKSPACE or
    ./kam-workspace) reaches the notebooks as $KAM_WORKSPACE. Ctrl-C stops JupyterLab.
    """
    location = resolve_workspace(workspace)
    report = copy_notebooks(folder, refresh=refresh, dry_run=dry_run)
    for line in report.lines():
        click.echo(line)
    open_file = WORKBOOK if WORKBOOK in report.names else None
    argv = lab_command(folder, port=port, browser=not no_browser, open_file=open_file)
    if dry_run:
        click.echo(f"would run: KAM_WORKSPACE={shlex.quote(location)} {shlex.join(argv)}")
        return
    click.echo(f"Starting JupyterLab in {folder} on workspace {location}; Ctrl-C stops it.")
    code = run_lab(argv, workspace=location, cwd=folder)
    if code != 0:
        raise click.ClickException(
            f"JupyterLab ended with exit status {code}; its messages above say why")
    click.echo("JupyterLab stopped.")
