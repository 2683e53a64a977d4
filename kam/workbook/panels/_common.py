"""What the edit panels share: reading form fields, refreshing choices, escaped tables, live
charts. Presentation only -- no business rule lives here."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from html import escape
from typing import Any

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go

from ...errors import InputError, ValidationProblem
from ...model import Dossier, Team

__all__ = [
    "NONE",
    "chart",
    "form",
    "missing",
    "note_html",
    "number",
    "our_people",
    "person_options",
    "row",
    "set_options",
    "table_html",
    "text",
]

NONE = "—"
"""How an empty cell or an empty choice is shown."""


def text(widget: w.ValueWidget) -> str | None:
    """The stripped text of a text widget; ``None`` when it is empty."""
    value = str(widget.value or "").strip()
    return value or None


def number(widget: w.ValueWidget) -> float | str | None:
    """The number typed into a text widget; ``None`` when it is empty. Text that is no number is
    passed on as it is, so the named edit refuses it naming the field."""
    value = text(widget)
    if value is None:
        return None
    try:
        return float(value.replace(" ", "").replace("_", ""))
    except ValueError:
        return value


def missing(record: str, field: str, message: str) -> InputError:
    """A refusal for an input the form cannot send (e.g. no date picked), worded like the
    model's own: record, field, message."""
    return InputError([ValidationProblem(record=record, field=field, message=message)])


def set_options(widget: w.Widget, options: Sequence[tuple[str, Any]]) -> bool:
    """Give a choice widget new ``(label, value)`` options, keeping its selection where it is
    still offered. Returns whether the selection changed."""
    old = widget.value
    values = [v for _, v in options]
    if tuple(widget.options) == tuple(options):
        return False
    widget.options = list(options)
    if isinstance(widget, w.SelectMultiple):
        widget.value = tuple(v for v in (old or ()) if v in values)
    elif old in values:
        widget.value = old
    elif values and widget.value not in values:  # first options of an empty choice
        widget.value = values[0]
    return bool(widget.value != old)


def person_options(dossier: Dossier, *, active_only: bool = False) -> list[tuple[str, str]]:
    """Client persons as ``(label, id)`` choices: active ones first, then those who left."""
    persons = sorted(dossier.persons, key=lambda p: (not p.active, p.name.casefold(), p.id))
    return [(f"{p.name} ({p.id})" + ("" if p.active else " - left"), p.id) for p in persons
            if p.active or not active_only]


def our_people(dossier: Dossier, team: Team | None) -> list[tuple[str, str]]:
    """Our team members as ``(label, id)`` choices: the roster's active members when a team is
    given, else the ids the dossier already names (its KAM, our participants, our contacts)."""
    if team is not None and team.members:
        return [(f"{m.name} ({m.id})", m.id) for m in team.members if m.active]
    ids = [dossier.account.kam, *(u for x in dossier.interactions for u in x.our_participants),
           *(u for p in dossier.persons for u in p.reached_by)]
    return [(i, i) for i in dict.fromkeys(i for i in ids if i)]


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return NONE
    if isinstance(value, float):
        if math.isnan(value):
            return NONE
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or NONE
    return str(value)


def table_html(frame: pd.DataFrame | Iterable[Mapping[str, Any]], columns: Mapping[str, str],
               *, empty: str = "Nothing yet.", marks: Sequence[bool] | None = None) -> str:
    """An HTML table of ``columns`` (name -> heading) of ``frame``, every cell escaped;
    ``marks`` flags rows to highlight (e.g. overdue ones)."""
    rows: list[Mapping[Any, Any]] = (
        list(frame.to_dict("records")) if isinstance(frame, pd.DataFrame) else list(frame))
    if not rows:
        return note_html(empty)
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{escape(h)}</th>"
                   for h in columns.values())
    body = []
    for i, r in enumerate(rows):
        style = " style='background:#fdecea'" if marks is not None and marks[i] else ""
        cells = "".join(f"<td style='padding:2px 8px'>{escape(_cell(r.get(c)))}</td>"
                        for c in columns)
        body.append(f"<tr{style}>{cells}</tr>")
    return (f"<table class='kam-wb-table'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def note_html(message: str) -> str:
    """A short escaped note."""
    return f"<p class='kam-wb-note'><i>{escape(message)}</i></p>"


def chart() -> go.FigureWidget:
    """An empty live chart, drawn into with :func:`kam.workbook.redraw`."""
    return go.FigureWidget()


def form(title: str, *rows: w.Widget) -> w.VBox:
    """A titled group of form rows."""
    return w.VBox([w.HTML(f"<b>{escape(title)}</b>"), *rows],
                  layout=w.Layout(border="1px solid #e0e0e0", padding="4px", margin="4px 0"))


def row(*children: w.Widget) -> w.HBox:
    """Widgets side by side, wrapping onto the next line when the page is too narrow."""
    return w.HBox(list(children), layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))
