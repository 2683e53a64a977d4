"""The ``kam`` command: thin over the library. User errors print one message, no traceback."""

from __future__ import annotations

from typing import Any

import click

from .. import __version__
from ..errors import KamError
from . import analyses, core, io, lab, portfolio, reports
from .core import terminal_text

__all__ = ["main"]


class _Group(click.Group):
    """Turns kam's own errors into a one-line message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (KamError, FileNotFoundError) as e:
            raise click.ClickException(terminal_text(str(e), keep_newlines=True)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kam")
def main() -> None:
    """kam: key-account planning kit — dossiers, analyses and HTML reports."""


for _cmd in (
    core.init,
    core.upgrade,
    core.demo,
    core.accounts,
    core.history,
    core.diff,
    core.gate,
    analyses.health,
    analyses.score,
    analyses.opportunities,
    analyses.deals,
    analyses.plan,
    analyses.meeting,
    portfolio.portfolio,
    portfolio.funnel,
    io.import_cmd,
    io.export_cmd,
    io.validate_cmd,
    reports.report,
    reports.batch,
    lab.lab,
):
    main.add_command(_cmd)
