"""File commands: ``kam import``, ``kam export``, ``kam validate``.

Each is a standalone click command; a user error (any :class:`~kam.errors.KamError`, or a
workspace that does not exist) prints one clear message and exits with code 1, no traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..config import load_yaml
from ..errors import KamError
from ..io import (
    export_yaml,
    import_crm,
    import_transactions,
    import_yaml,
    validate_yaml,
    yaml_io,
)
from ..model import tables
from ..store import Workspace, default_location
from .core import terminal_text, workspace_option

__all__ = ["export_cmd", "import_cmd", "validate_cmd"]

F = TypeVar("F", bound=Callable[..., Any])


def _user_errors(func: F) -> F:
    """Turn kam's own errors into ``Error: <message>`` and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (KamError, FileNotFoundError) as e:
            raise click.ClickException(terminal_text(str(e), keep_newlines=True)) from None

    return wrapper  # type: ignore[return-value]


def _guess_format(path: Path, mapping: str | None) -> str:
    """With a mapping: ``transactions`` for a mapping of orders (it has an ``order_lines``
    section or extends another mapping), else ``crm``. Without: ``crm`` for a folder of CSV
    files, else ``yaml``."""
    if mapping is not None:
        data = load_yaml(mapping)
        is_orders = isinstance(data, dict) and ("order_lines" in data or "extends" in data)
        return "transactions" if is_orders else "crm"
    if path.is_dir() and not yaml_io.yaml_files(path) and any(path.glob("*.csv")):
        return "crm"
    return "yaml"


@click.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "yaml", "crm", "transactions"]),
    default="auto",
    show_default=True,
    help="yaml: dossier files or a folder of them; crm: a folder "
    "with a CRM CSV export; transactions: a folder with an ERP or shop export of orders "
    "(customers, employees, orders, order lines, products). auto: transactions when the "
    "mapping maps orders, crm for a folder of CSV files, else yaml.",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Column mapping of the export (default: the Maven CRM mapping, "
    "templates/crm/maven.yaml; for transactions, the Northwind mapping, "
    "templates/transactions/northwind.yaml).",
)
@click.option("--author", default="import", show_default=True, help="Author of the revisions.")
@click.option("--message", "-m", default=None, help="Message of the revisions.")
@click.option("--create", is_flag=True, help="Create the workspace if it does not exist.")
@workspace_option
@_user_errors
def import_cmd(
    path: Path,
    fmt: str,
    mapping: str | None,
    author: str,
    message: str | None,
    create: bool,
    workspace: str | None,
) -> None:
    """Import PATH into the workspace (all or nothing) and print the import report."""
    ws = Workspace(workspace or default_location(), create=create)
    try:
        kind = _guess_format(path, mapping) if fmt == "auto" else fmt
        if kind == "crm":
            report = import_crm(ws, path, mapping, author=author, message=message)
        elif kind == "transactions":
            report = import_transactions(ws, path, mapping, author=author, message=message)
        else:
            report = import_yaml(ws, path, author=author, message=message)
    finally:
        ws.close()
    click.echo(str(report))


@click.command("export")
@click.argument("accounts", nargs=-1)
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(path_type=Path),
    help="A folder (one YAML file per account), a .yaml file (all accounts in one "
    "file) or an .xlsx workbook.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "yaml", "excel"]),
    default="auto",
    show_default=True,
    help="auto: excel for a .xlsx target, else yaml.",
)
@workspace_option
@_user_errors
def export_cmd(accounts: tuple[str, ...], target: Path, fmt: str, workspace: str | None) -> None:
    """Export ACCOUNTS (default: all) as YAML dossiers or as an Excel workbook of tables."""
    ws = Workspace(workspace or default_location())
    try:
        dossiers = ws.load_all(list(accounts) or None)
    finally:
        ws.close()
    kind = ("excel" if target.suffix.lower() == ".xlsx" else "yaml") if fmt == "auto" else fmt
    n = f"{len(dossiers)} account{'s' if len(dossiers) != 1 else ''}"
    if kind == "excel":
        from ..io.excel import export_excel

        export_excel(tables(dossiers), target)
        click.echo(f"Exported {n} to {target} (one sheet per table)")
    elif target.suffix.lower() in (".yaml", ".yml"):
        export_yaml(dossiers, target)
        click.echo(f"Exported {n} to {target}")
    else:
        export_yaml(dossiers, target)
        click.echo(f"Exported {n} to {target}/ (one <account id>.yaml per account)")


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--workspace",
    "-w",
    default=None,
    metavar="PATH",
    help="Also check against this workspace (stage moves from the newest revisions). "
    "Without it, each dossier is checked as a new account.",
)
@_user_errors
def validate_cmd(paths: tuple[Path, ...], workspace: str | None) -> None:
    """Check YAML dossier files (or folders of them) without saving anything.

    Prints OK, or every problem (file, record, field) and exits with code 1."""
    ws = Workspace(workspace) if workspace else None
    try:
        problems = validate_yaml(paths, ws)
    finally:
        if ws is not None:
            ws.close()
    files = yaml_io.yaml_files(paths)
    if not problems:
        click.echo(f"OK: {len(files)} file{'s' if len(files) != 1 else ''} checked, no problems")
        return
    for p in problems:
        click.echo(terminal_text(str(p)))
    click.echo(
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in "
        f"{len({p.file for p in problems})} of {len(files)} files"
    )
    raise click.exceptions.Exit(1)
