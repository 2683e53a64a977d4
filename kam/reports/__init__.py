"""Reports: parameterised notebooks run with papermill and published as offline HTML.

- :mod:`.params` — what each report takes, checked loudly (also inside the notebooks);
- :mod:`.display` — key-figure cards, alert boxes, formatted tables, escaped sentences;
- :mod:`.html` — executed notebook -> HTML with the ``kam_report`` template;
- :mod:`.render` — one report (:func:`render_report`);
- :mod:`.batch` — many reports in parallel with an index page (:func:`run_batch`).

The notebooks import only :mod:`.params` and :mod:`.display`; the rest (papermill, nbconvert)
loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .display import KeyFigure
from .params import KINDS, ReportParams, check_parameters, demo_workspace

if TYPE_CHECKING:
    from .batch import BatchInterrupted, BatchResult, file_names, run_batch
    from .html import notebook_to_html
    from .render import KernelSession, ReportResult, render_report

__all__ = [
    "KINDS",
    "BatchInterrupted",
    "BatchResult",
    "KernelSession",
    "KeyFigure",
    "ReportParams",
    "ReportResult",
    "check_parameters",
    "demo_workspace",
    "file_names",
    "notebook_to_html",
    "render_report",
    "run_batch",
]

_LAZY = {
    "BatchResult": "batch", "run_batch": "batch", "BatchInterrupted": "batch",
    "file_names": "batch", "notebook_to_html": "html",
    "KernelSession": "render", "ReportResult": "render", "render_report": "render",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
