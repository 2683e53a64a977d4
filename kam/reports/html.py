"""Executed notebook -> offline HTML report, with kam's nbconvert template (``kam_report``).

The template (``templates/kam_report``) is the lab template without code, stderr, widgets or any
CDN script; it draws plotly figures from their JSON mimetype and loads plotly.js either from one
shared ``plotly.min.js`` next to the reports (default) or inlined (``self_contained=True``).
A run that failed is refused: its notebook holds a traceback, not a report.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config

from ..config import templates_dir
from ..errors import ReportFailed
from .display import REPORT_MIMETYPE

__all__ = [
    "DISPLAY_PRIORITY",
    "INTERACTIVE_TAGS",
    "PLOTLY_JS",
    "PLOTLY_MIMETYPE",
    "failure_of",
    "notebook_to_html",
    "plotly_js",
    "report_meta",
    "write_plotly_js",
]

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
PLOTLY_JS = "plotly.min.js"
"""File name of the shared plotly.js written next to the reports."""

INTERACTIVE_TAGS = frozenset({"kam-interactive", "widget", "remove-cell"})
"""Cells with one of these tags (widgets, interactive helpers) are left out of every report."""

DISPLAY_PRIORITY = [
    REPORT_MIMETYPE, PLOTLY_MIMETYPE, "text/html", "text/markdown", "image/svg+xml",
    "image/png", "image/jpeg", "text/plain",
]
"""Which representation of an output the report uses: ours first, so plotly figures are drawn
from their JSON and the report header is not shown twice."""

_TEMPLATE = "kam_report"


@functools.lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js from the installed plotly package (no download)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def write_plotly_js(folder: str | os.PathLike[str]) -> Path:
    """Write the shared ``plotly.min.js`` into ``folder`` unless an identical one is there."""
    path = Path(folder) / PLOTLY_JS
    data = plotly_js().encode("utf-8")
    if path.exists() and path.stat().st_size == len(data) and \
            hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(data).digest():
        return path
    tmp = path.with_name(f".{PLOTLY_JS}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


@functools.lru_cache(maxsize=1)
def _exporter() -> HTMLExporter:
    c = Config()
    c.TemplateExporter.extra_template_basedirs = [str(templates_dir())]
    c.TemplateExporter.exclude_input = True
    c.TemplateExporter.exclude_input_prompt = True
    c.TemplateExporter.exclude_output_prompt = True
    c.NbConvertBase.display_data_priority = DISPLAY_PRIORITY
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(INTERACTIVE_TAGS)
    c.HTMLExporter.sanitize_html = False  # it strips the charts; we escape user text ourselves
    return HTMLExporter(config=c, template_name=_TEMPLATE)


def failure_of(nb: nbformat.NotebookNode) -> str | None:
    """Why an executed notebook is not a report (an error output, papermill's failure flag, a
    cell that never ran), or ``None`` when it completed."""
    pm = nb.metadata.get("papermill", {})
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"cell {i} raised {out.get('ename')}: {out.get('evalue')}"
        if cell.metadata.get("papermill", {}).get("exception"):
            return f"cell {i} failed"
    if pm.get("exception"):
        return "papermill marked the run as failed"
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    if code and any(c.get("execution_count") is None for c in code):
        return "not every cell ran (the notebook was not executed to the end)"
    return None


def report_meta(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """The report header a notebook emitted (see :func:`kam.reports.display.report_header`)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if REPORT_MIMETYPE in data:
                return dict(data[REPORT_MIMETYPE])
    return {}


def _anchor(title: str) -> str:
    """The id nbconvert gives a markdown heading (spaces become ``-``)."""
    return title.replace(" ", "-")


def _toc(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    out = []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or set(cell.metadata.get("tags", [])) & INTERACTIVE_TAGS:
            continue
        for line in cell.source.splitlines():
            m = re.match(r"^##\s+(.+?)\s*#*\s*$", line)
            if m:
                out.append((_anchor(m.group(1)), m.group(1)))
    return out


def notebook_to_html(nb: nbformat.NotebookNode | str | os.PathLike[str], *,
                     self_contained: bool = False, plotly_src: str = PLOTLY_JS,
                     generated: datetime | None = None) -> str:
    """Convert an executed report notebook to HTML.

    Parameters
    ----------
    nb
        The executed notebook or its path.
    self_contained
        Inline plotly.js (≈ 4.8 MB per file) instead of loading ``plotly_src`` next to the file.
    generated
        The generation time shown in the footer (default: now).

    Raises
    ------
    ReportFailed
        The run failed or did not finish; a failed run is never converted.
    """
    path = None
    if isinstance(nb, nbformat.NotebookNode):
        node = nb
    else:
        path = str(nb)
        node = nbformat.read(path, as_version=4)
    why = failure_of(node)
    if why:
        raise ReportFailed(f"Not converting a failed run: {why}", path)
    meta = report_meta(node)
    if "widgets" in node.metadata:  # widget state is for live kernels; its cells are removed
        node = nbformat.from_dict(node)
        del node.metadata["widgets"]
    when = (generated or datetime.now(UTC)).astimezone(UTC)
    kam: dict[str, Any] = {
        "title": meta.get("title", ""), "kind_label": meta.get("kind_label", "Report"),
        "facts": meta.get("facts", []), "parameters": meta.get("parameters", []),
        "fingerprint": meta.get("fingerprint", ""),
        "fingerprint_label": meta.get("fingerprint_label", "workspace fingerprint"),
        "version": meta.get("version", ""), "generated": when.strftime("%Y-%m-%d %H:%M UTC"),
        "toc": _toc(node), "plotly_src": plotly_src,
        "plotly_inline": plotly_js() if self_contained else "",
    }
    body, _ = _exporter().from_notebook_node(node, resources={"kam": kam})
    return str(body)
