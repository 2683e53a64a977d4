"""Display helpers for the report notebooks: key-figure cards, alert boxes, formatted tables,
escaped headings and sentences, and the report header.

Every helper returns a small object that Jupyter shows as HTML (``_repr_html_``) and that has a
stable plain-text ``repr`` (so nbval can compare it). All text that may come from a user —
account and person names, notes, sentences built from them — is escaped here; numbers are
formatted with thousands separators, percentages with a ``%`` sign, and negative numbers are
marked ``kam-neg`` (red in the report stylesheet, and inline so JupyterLab shows them red too).

The styles of these outputs live in one file, ``templates/kam_report/static/kam-outputs.css``
(:func:`stylesheet`): the report template includes it, and in JupyterLab the outputs bring it
along as a ``<style>`` block — the key-figure cards and the alerts each time, the report header
for everything else (tables, sentences, notes). Its rules only select ``kam-*`` classes, so
they restyle nothing else on the page. (JupyterLab drops ``<style>`` blocks from the outputs of
a notebook it does not trust, e.g. an executed notebook opened from disk: trust it to see them.)

Examples
--------
>>> fmt_number(-1234567.4)
'-1,234,567'
>>> fmt_percent(0.1234)
'12.3%'
>>> sentence("Margin <b>fell</b> by 3%").html
'<p class="kam-sentence">Margin &lt;b&gt;fell&lt;/b&gt; by 3%</p>'
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..config import template_path

__all__ = [
    "OUTPUTS_CSS",
    "REPORT_MIMETYPE",
    "Html",
    "KeyFigure",
    "alerts",
    "fmt_number",
    "fmt_percent",
    "fmt_value",
    "heading",
    "key_figures",
    "no_data",
    "note",
    "report_header",
    "sentence",
    "stylesheet",
    "table",
]

REPORT_MIMETYPE = "application/vnd.kam.report+json"
"""The mimetype of the report header output: the report template reads its header, table of
contents and footer facts from it; JupyterLab shows its HTML fallback instead."""

OUTPUTS_CSS = "kam_report/static/kam-outputs.css"
"""The stylesheet of these outputs, relative to :func:`kam.config.templates_dir`."""

_NEG_STYLE = ' style="color:#b3261e"'
_PERCENT_HINTS = ("share", "pct", "percent", "rate", "ratio", "probability", "conversion",
                  "accuracy", "margin_%")
_MISSING = "—"


@functools.cache
def stylesheet() -> str:
    """The CSS of the HTML these helpers emit (:data:`OUTPUTS_CSS`, the file the report template
    includes), without comments and runs of white space.

    >>> ".kam-kpis" in stylesheet() and "/*" not in stylesheet()
    True
    """
    css = template_path(OUTPUTS_CSS).read_text(encoding="utf-8")
    return " ".join(re.sub(r"/\*.*?\*/", " ", css, flags=re.S).split())


def _with_styles(html: str) -> str:
    return f"<style>{stylesheet()}</style>{html}"


class Html:
    """HTML for a notebook output, with a plain-text ``repr`` for text-only viewers.

    ``html`` is the fragment (what the report's stylesheet styles); a ``styled`` output also
    brings the stylesheet along when Jupyter shows it (:meth:`_repr_html_`), so it looks the same
    in JupyterLab as in the report.
    """

    def __init__(self, html: str, text: str = "", *, styled: bool = False):
        self.html = html
        self.text = text or "kam output"
        self.styled = styled

    def _repr_html_(self) -> str:
        return _with_styles(self.html) if self.styled else self.html

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.html


# -- formatting ------------------------------------------------------------------------------
def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def fmt_number(value: float | int | None, decimals: int = 0) -> str:
    """A number with thousands separators (``-1,234``); missing -> ``—``.

    >>> fmt_number(1234.5, 1)
    '1,234.5'
    """
    if _is_missing(value):
        return _MISSING
    assert value is not None
    return f"{value:,.{decimals}f}"


def fmt_percent(value: float | None, decimals: int = 1) -> str:
    """A share 0..1 as a percentage (``0.125`` -> ``12.5%``); missing -> ``—``."""
    if _is_missing(value):
        return _MISSING
    assert value is not None
    return f"{value * 100:,.{decimals}f}%"


def fmt_value(value: Any, kind: str = "auto") -> str:
    """Format one value as text (not escaped). ``kind``: ``auto``, ``money`` (no decimals),
    ``number`` (2 decimals below 100), ``int``, ``pct``, ``date``, ``text``."""
    if isinstance(value, list | tuple | set):
        return ", ".join(fmt_value(v, "text") for v in value) if value else _MISSING
    if _is_missing(value):
        return _MISSING
    if kind == "pct":
        return fmt_percent(float(value))
    if kind == "money":
        return fmt_number(float(value), 0)
    if kind == "int":
        return fmt_number(round(float(value)), 0)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime | pd.Timestamp):
        return value.date().isoformat() if value.time() == datetime.min.time() else \
            value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if kind in ("auto", "number") and isinstance(value, int):
        return fmt_number(value, 0)
    if kind in ("auto", "number") and isinstance(value, float):
        return fmt_number(value, 0 if abs(value) >= 100 else 2)
    if hasattr(value, "value") and not isinstance(value, int | float):  # enums
        return str(value.value)
    return str(value)


def _is_negative(value: Any) -> bool:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return False
    return not _is_missing(value) and bool(value < 0)


def _cell(value: Any, kind: str) -> str:
    text = escape(fmt_value(value, kind))
    return f'<span class="kam-neg"{_NEG_STYLE}>{text}</span>' if _is_negative(value) else text


def _label(column: str) -> str:
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _column_kind(name: str, series: pd.Series) -> str:
    lowered = str(name).lower()
    if pd.api.types.is_bool_dtype(series):
        return "text"
    if pd.api.types.is_numeric_dtype(series):
        if any(h in lowered for h in _PERCENT_HINTS) or lowered.endswith("_pct"):
            return "pct"
        if pd.api.types.is_integer_dtype(series):
            return "int"
        values = series.dropna()
        if len(values) and bool((values == values.round()).all()):
            return "int"
        return "number"
    return "text"


# -- building blocks -------------------------------------------------------------------------
def table(frame: pd.DataFrame | None, columns: Mapping[str, str] | Sequence[str] | None = None, *,
          formats: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
          caption: str | None = None, max_rows: int = 25, total_row: bool = False,
          empty: str = "No rows.") -> Html:
    """A formatted HTML table of ``frame`` (the index is not shown); ``None`` (an analysis
    without data) or no rows show the ``empty`` note.

    ``columns`` picks and orders the columns shown (a mapping also gives their headings);
    ``formats`` maps a column to a :func:`fmt_value` kind (default: inferred — columns whose
    name says share/rate/probability are percentages, other numbers get thousands separators,
    and no decimals when every value is whole); ``labels`` renames columns (default:
    ``net_margin`` -> ``Net margin``). Only the first ``max_rows`` rows are shown, with a line
    saying how many more there are; ``total_row`` styles the last row as a total.

    >>> t = table(pd.DataFrame({"name": ["<A>"], "revenue": [-1500.0], "share": [0.25]}))
    >>> "&lt;A&gt;" in t.html, "-1,500" in t.html, "25.0%" in t.html
    (True, True, True)
    """
    if frame is None:
        return note(empty)
    formats = dict(formats or {})
    labels = dict(labels or {})
    if isinstance(columns, Mapping):
        labels = {**columns, **labels}
    if columns is not None:
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise KeyError(f"table: no column {missing[0]!r}; columns are "
                           + ", ".join(map(str, frame.columns)))
        frame = frame[list(columns)]
    if frame.empty:
        return note(empty)
    cols = list(frame.columns)
    kinds = {c: formats.get(c) or _column_kind(c, frame[c]) for c in cols}
    numeric = {c for c in cols if kinds[c] in ("pct", "money", "int", "number")}
    head = "".join(
        f'<th{" class=" + chr(34) + "kam-num" + chr(34) if c in numeric else ""}>'
        f"{escape(labels.get(c, _label(c)))}</th>" for c in cols)
    shown = frame.iloc[:max_rows]
    rows = []
    for i, record in enumerate(shown.itertuples(index=False, name=None)):
        cls = ' class="kam-total"' if total_row and i == len(frame) - 1 else ""
        cells = "".join(
            f'<td class="kam-num">{_cell(v, kinds[c])}</td>' if c in numeric
            else f"<td>{_cell(v, kinds[c])}</td>" for c, v in zip(cols, record, strict=True))
        rows.append(f"<tr{cls}>{cells}</tr>")
    if len(frame) > max_rows:
        rest = len(frame) - max_rows
        rows.append(f'<tr class="kam-more"><td colspan="{len(cols)}">… and {rest} more '
                    f'row{"s" if rest != 1 else ""}</td></tr>')
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    html = (f'<div class="kam-table-wrap"><table class="kam-table">{cap}<thead><tr>{head}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
    return Html(html, f"table: {len(frame)} rows x {len(cols)} columns")


@dataclass(frozen=True)
class KeyFigure:
    """One key-figure card: a label, a value formatted as ``kind`` (see :func:`fmt_value`), a
    ``tone`` (``good``, ``warn``, ``bad`` or ``None``), an optional note under the value, and
    whether a batch's index page lists it (``index``)."""

    label: str
    value: Any
    kind: str = "auto"
    tone: str | None = None
    note: str | None = None
    index: bool = False

    def text(self) -> str:
        """The value as text, e.g. for an index page."""
        return fmt_value(self.value, self.kind)


def key_figures(figures: Iterable[KeyFigure]) -> Html:
    """Key-figure cards in a grid (styled: see :class:`Html`).

    >>> cards = key_figures([KeyFigure("Revenue", 1500.0, "money")])
    >>> cards.html
    '<div class="kam-kpis"><div class="kam-kpi"><div class="kam-kpi-label">Revenue</div><div \
class="kam-kpi-value">1,500</div></div></div>'
    >>> cards._repr_html_().startswith("<style>")
    True
    """
    cards = []
    plain = []
    for f in figures:
        tone = f" kam-tone-{escape(f.tone)}" if f.tone else ""
        value = _cell(f.value, f.kind)
        extra = f'<div class="kam-kpi-note">{escape(f.note)}</div>' if f.note else ""
        cards.append(f'<div class="kam-kpi{tone}"><div class="kam-kpi-label">{escape(f.label)}'
                     f'</div><div class="kam-kpi-value">{value}</div>{extra}</div>')
        plain.append(f"{f.label}: {f.text()}")
    return Html(f'<div class="kam-kpis">{"".join(cards)}</div>', "; ".join(plain), styled=True)


_SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def _alert_list(items: list[str]) -> str:
    # divs, not ul/li: JupyterLab's list rules (bullets, indent) would beat ours
    return f'<div class="kam-alerts" role="list">{"".join(items)}</div>'


def alerts(items: pd.DataFrame | Sequence[Mapping[str, Any]], *,
           empty: str = "No warnings: nothing needs attention now.") -> Html:
    """Alert boxes, most severe first, each with its severity as a badge (styled: see
    :class:`Html`).

    ``items`` has a ``severity`` (``high``, ``medium``, ``low``), a ``warning`` (or
    ``message`` or ``detail``) and optionally an ``action`` (what to do). No items -> one
    green box saying ``empty``.

    >>> box = alerts([{"severity": "high", "warning": "No power point", "action": "Find it"}])
    >>> box.text
    'high: No power point'
    >>> box.html
    '<div class="kam-alerts" role="list"><div class="kam-alert kam-alert-high" role="listitem">\
<span class="kam-alert-sev">high</span> <span class="kam-alert-text">No power point</span> \
<span class="kam-alert-action">→ Find it</span></div></div>'
    """
    rows = items.to_dict("records") if isinstance(items, pd.DataFrame) else [dict(r) for r in items]
    if not rows:
        return Html(_alert_list([f'<div class="kam-alert kam-alert-ok" role="listitem">'
                                 f"{escape(empty)}</div>"]), empty, styled=True)
    rows.sort(key=lambda r: _SEVERITY_ORDER.get(str(r.get("severity", "low")), 3))
    out = []
    plain = []
    for r in rows:
        sev = str(r.get("severity") or "low")
        tone = sev if sev in _SEVERITY_ORDER else "other"
        msg = str(r.get("warning") or r.get("message") or r.get("detail") or "")
        action = r.get("action")
        act = (f' <span class="kam-alert-action">→ {escape(str(action))}</span>'
               if action and not _is_missing(action) else "")
        out.append(f'<div class="kam-alert kam-alert-{tone}" role="listitem">'
                   f'<span class="kam-alert-sev">{escape(sev)}</span> '
                   f'<span class="kam-alert-text">{escape(msg)}</span>{act}</div>')
        plain.append(f"{sev}: {msg}")
    return Html(_alert_list(out), "\n".join(plain), styled=True)


def sentence(text: str) -> Html:
    """A sentence that says what the numbers mean (escaped)."""
    return Html(f'<p class="kam-sentence">{escape(text)}</p>', text)


def note(text: str) -> Html:
    """A muted remark, e.g. "No deals yet." (escaped)."""
    return Html(f'<p class="kam-empty">{escape(text)}</p>', text)


def no_data(reasons: Sequence[str]) -> Html:
    """What the report could not show for lack of data, and why (the messages of
    :class:`~kam.periods.NoData`, escaped); nothing when every analysis had data.

    >>> no_data([]).html
    ''
    >>> print(no_data(["No revenue lines in period '2019'"]).text)
    Not shown for lack of data:
    - No revenue lines in period '2019'
    """
    if not reasons:
        return Html("", "")
    items = "".join(f"<li>{escape(r)}</li>" for r in reasons)
    text = "Not shown for lack of data:\n" + "\n".join(f"- {r}" for r in reasons)
    return Html(f'<div class="kam-empty kam-no-data"><p>Not shown for lack of data:</p>'
                f"<ul>{items}</ul></div>", text)


def heading(text: str, level: int = 3) -> Html:
    """An escaped heading (for a heading that holds user text; fixed section titles are markdown
    cells, so they appear in the table of contents)."""
    if level not in range(1, 7):
        raise ValueError(f"heading level must be 1..6, got {level}")
    return Html(f"<h{level}>{escape(text)}</h{level}>", text)


# -- the report header -----------------------------------------------------------------------
_KIND_LABELS = {"plan": "Account plan", "profitability": "Account profitability",
                "portfolio": "Portfolio", "planner": "Planner's week"}


class _ReportHeader:
    def __init__(self, meta: dict[str, Any], html: str):
        self.meta = meta
        self.html = html

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {REPORT_MIMETYPE: self.meta, "text/html": self.html,
                "text/plain": f"{self.meta['kind_label']}: {self.meta['title']}"}

    def __repr__(self) -> str:
        return f"{self.meta['kind_label']}: {self.meta['title']}"


def report_header(kind: str, title: str, *, facts: Sequence[tuple[str, str]] = (),
                  parameters: Sequence[tuple[str, str]] = (), fingerprint: str = "",
                  fingerprint_label: str = "workspace fingerprint",
                  key_figures: Sequence[KeyFigure] = ()) -> _ReportHeader:
    """The first output of a report: its title and facts for the report's header, its parameters
    and data fingerprint for the footer, and the key figures a batch index lists.

    In the HTML report the template draws these (escaped); JupyterLab shows the same header (the
    template's markup, escaped here) with the outputs' stylesheet (:func:`stylesheet`), which
    also styles the tables and sentences below it.
    """
    label = _KIND_LABELS.get(kind, kind)
    meta = {
        "kind": kind, "kind_label": label, "title": title, "version": __version__,
        "facts": [[str(k), str(v)] for k, v in facts],
        "parameters": [[str(k), str(v)] for k, v in parameters],
        "fingerprint": fingerprint, "fingerprint_label": fingerprint_label,
        "key_figures": [{"label": f.label, "value": f.text(), "tone": f.tone,
                         "negative": _is_negative(f.value), "index": f.index}
                        for f in key_figures],
    }
    facts_html = "".join(f"<div><dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd></div>"
                         for k, v in facts)
    # the markup of the template's header (a div, not h1: no entry in JupyterLab's contents)
    html = _with_styles(f'<div class="kam-header"><div class="kam-kind">{escape(label)}</div>'
                        f'<div class="kam-title">{escape(title)}</div>'
                        f'<dl class="kam-facts">{facts_html}</dl></div>')
    return _ReportHeader(meta, html)
