"""What every part of the workbook shares: the panel contract, edits with their messages, and
redrawing a live chart.

The workbook holds no business logic. A panel shows the dossier of the current
:class:`~kam.store.EditSession` through the public analyses and figures, and each of its buttons
makes one named edit through :meth:`Panel.edit` -- the same call a script would make -- so the
same edit made through the API gives the same revision content.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from ..errors import InputError, KamError, StageGateError
from ..store import EditSession

__all__ = ["Panel", "message_html", "redraw"]


def redraw(widget: go.FigureWidget, figure: go.Figure) -> None:
    """Draw ``figure`` into the live ``widget`` in one update (the chart in the page redraws)."""
    with widget.batch_update():
        widget.data = ()
        widget.add_traces(list(figure.data))
        widget.layout = figure.layout


def message_html(error: KamError | None = None, *, ok: str | None = None) -> str:
    """A refused edit or save as a readable, escaped message: one line per problem, naming the
    record and the field; or a confirmation ``ok``."""
    if error is None:
        return f'<div class="kam-wb-ok">{escape(ok)}</div>' if ok else ""
    if isinstance(error, StageGateError):
        items = "".join(f"<li>{escape(m)}</li>" for m in error.missing)
        return (f'<div class="kam-wb-error"><b>{escape(error.record)}</b> cannot move into '
                f"stage <b>{escape(error.stage)}</b>; missing:<ul>{items}</ul></div>")
    if isinstance(error, InputError):
        items = "".join(
            f"<li><b>{escape(p.record)}</b>"
            + (f", field <code>{escape(p.field)}</code>" if p.field else "")
            + f": {escape(p.message)}</li>"
            for p in error.problems)
        return f'<div class="kam-wb-error"><ul>{items}</ul></div>'
    return f'<div class="kam-wb-error">{escape(str(error))}</div>'


class Panel:
    """One tab of the account workbook.

    A panel owns ``widget`` (what is shown) and ``status`` (where its messages go). The workbook
    calls :meth:`show` with the session whenever the dossier changed -- after this panel's edit,
    another panel's, a save, a reload or an account switch -- and the panel redraws from
    ``session.dossier``. A panel edits only through :meth:`edit`.
    """

    title = "Panel"

    def __init__(self, on_change: Callable[[], None]):
        self.on_change = on_change
        self.session: EditSession | None = None
        self.status = w.HTML()
        self.widget: w.Widget = w.VBox([self.status])

    def show(self, session: EditSession) -> None:
        """Redraw from ``session.dossier``."""
        self.session = session

    def edit(self, name: str, /, **kwargs: Any) -> Any:
        """Make the named edit ``name`` through the session; a refused edit is shown in
        ``status`` (naming record and field) and changes nothing. Returns the edit's result, or
        ``None`` when refused."""
        if self.session is None:
            self.status.value = message_html(KamError("pick an account first"))
            return None
        try:
            result = self.session.apply(name, **kwargs)
        except KamError as e:
            self.status.value = message_html(e)
            return None
        self.status.value = ""
        self.on_change()
        return result
