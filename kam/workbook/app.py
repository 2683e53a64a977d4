"""The workbook shell: pick an account, see its overview, edit it in the panels' tabs, save.

:func:`open_workbook` opens a workspace for the current user; the :class:`Workbook` it returns
shows itself in JupyterLab. The shell holds no business logic: the account list comes from
:mod:`.picker`, the overview from the report's own functions (:mod:`.overview`), edits from the
panels (each a named edit of the :class:`~kam.store.EditSession`), saves from :mod:`.savebar`,
history and undo from :mod:`.history`. After any change -- an edit in a panel, a save, a
reload, an undo, another account -- the shell redraws the overview, the save bar and the panels
from the session (hidden tabs when they are selected: see :data:`REDRAW`).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import os
from collections.abc import Callable, Sequence
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as w

from ..config import current_user
from ..errors import KamError
from ..store import EditSession, Revision, Workspace, default_location
from .base import Panel, message_html
from .history import HistoryPanel
from .overview import OverviewView, default_settings
from .picker import AccountPicker
from .savebar import SaveBar

__all__ = ["PANEL_CONTEXT", "REDRAW", "PanelFactory", "Workbook", "default_panels",
           "open_workbook"]

log = logging.getLogger(__name__)

PanelFactory = Callable[..., Panel]
"""A :class:`~kam.workbook.base.Panel` subclass (or any callable that builds a panel)."""

REDRAW = ("visible", "all")
"""When the panels redraw after a change: ``visible`` -- the tab on screen at once, each other
tab when it is selected (hidden tabs cost nothing); ``all`` -- every panel at once."""

PANEL_CONTEXT = ("today", "team", "workspace", "user")
"""Keyword arguments the workbook passes to a panel's constructor when it declares them (after
``on_change``): the date of the analyses, the team roster, the store and the current user."""

_HIDDEN = "none"
_SHOWN = "flex"


def default_panels() -> list[PanelFactory]:
    """``kam.workbook.panels.DEFAULT_PANELS`` when that module exists, else no panel."""
    if importlib.util.find_spec(f"{__package__}.panels") is None:
        return []
    module = importlib.import_module(f"{__package__}.panels")
    return list(getattr(module, "DEFAULT_PANELS", []))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Workbook:
    """The KAM's workbook over one workspace (see :func:`open_workbook`).

    Attributes
    ----------
    widget
        The whole workbook (shown when the object is the value of a cell).
    session
        The :class:`~kam.store.EditSession` of the open account (``None`` before one is picked).
    picker, overview, savebar, history, panels, tabs
        The parts: account picker, overview, save bar, History tab, the edit panels, the tabs.
    problem
        Why the workbook could not open (a missing workspace), else ``None``.

    Parameters
    ----------
    workspace
        The store (``None``: the workbook only shows ``problem``).
    user, today, panels, redraw
        As :func:`open_workbook`.
    period
        The profitability period of the overview (default: the year of ``today``).
    problem
        The message shown instead of a workbook.
    """

    picker: AccountPicker
    overview: OverviewView
    savebar: SaveBar
    history: HistoryPanel
    panels: list[Panel]
    tabs: w.Tab

    def __init__(self, workspace: Workspace | None, *, user: str | None = None,
                 today: date | None = None, panels: Sequence[PanelFactory] = (),
                 period: str | None = None, redraw: str = "visible",
                 problem: str | None = None):
        if redraw not in REDRAW:
            raise ValueError(f"redraw must be one of {', '.join(REDRAW)}, got {redraw!r}")
        self.redraw = redraw
        self.workspace = workspace
        self.user = user or current_user()
        self.today = today or date.today()
        self.session: EditSession | None = None
        self.problem = problem
        self.pending: str | None = None
        """The account the user asked to switch to while edits were unsaved."""
        self.problems: list[str] = []
        """Panels that failed to draw (their message is also shown in the panel)."""
        if workspace is None:
            self.widget: w.Widget = w.HTML(
                f'<div class="kam-wb-error" style="padding:0.5em;border:1px solid #b3261e">'
                f"{escape(problem or 'No workspace.')}</div>")
            return
        settings = default_settings()
        self.team = workspace.team()
        self.picker = AccountPicker(workspace, user=self.user, today=self.today,
                                    on_pick=self.request_open, config=settings.health)
        self.overview = OverviewView(self.team, today=self.today, period=period,
                                     location=workspace.location, settings=settings)
        self.savebar = SaveBar(on_change=self.refresh, on_saved=self._saved)
        context = {"today": self.today, "team": self.team, "workspace": workspace,
                   "user": self.user}
        self.panels = [_make_panel(factory, self.refresh, context) for factory in panels]
        self.history = HistoryPanel(self.refresh, on_saved=self._index_saved)
        shown = [*self.panels, self.history]
        self.tabs = w.Tab(children=[p.widget for p in shown])
        self.tabs.titles = tuple(str(p.title) for p in shown)
        self._stale: set[int] = set()
        self.tabs.observe(self._tab_selected, "selected_index")
        self.confirm_html = w.HTML()
        self.confirm_save = w.Button(description="Save", button_style="primary")
        self.confirm_discard = w.Button(description="Discard", button_style="danger")
        self.confirm_stay = w.Button(description="Stay")
        self.confirm_save.on_click(lambda _b: self.confirm("save"))
        self.confirm_discard.on_click(lambda _b: self.confirm("discard"))
        self.confirm_stay.on_click(lambda _b: self.confirm("stay"))
        self.confirm_row = w.HBox(
            [self.confirm_html, self.confirm_save, self.confirm_discard, self.confirm_stay],
            layout=w.Layout(display=_HIDDEN, align_items="center"))
        self.notice = w.HTML()
        self.widget = w.VBox([
            w.HBox([self.picker.widget, self.overview.widget],
                   layout=w.Layout(align_items="flex-start")),
            self.confirm_row, self.notice, self.savebar.widget, self.tabs])
        self.refresh()

    def __repr__(self) -> str:
        if self.workspace is None:
            return f"Workbook(unavailable: {self.problem})"
        account = self.session.account_id if self.session else None
        return f"Workbook({self.workspace.location!r}, account={account!r}, user={self.user!r})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        bundle["text/plain"] = repr(self)
        return bundle

    # -- opening accounts -------------------------------------------------------------------
    def request_open(self, account_id: str) -> bool:
        """Open ``account_id`` (the picker calls this). With unsaved edits, ask first: a row
        offers save / discard / stay, and nothing changes until one is chosen. Returns whether
        the account was opened."""
        if self.session is not None and account_id == self.session.account_id:
            return True
        if self.session is not None and self.session.dirty:
            self.pending = account_id
            n = len(self.session.edits)
            self.confirm_html.value = (
                f"<b>{_plural(n, 'unsaved edit')}</b> on "
                f"<b>{escape(self.session.dossier.account.name)}</b>. Save "
                f"{'it' if n == 1 else 'them'} before opening <b>{escape(account_id)}</b>?")
            self.confirm_row.layout.display = _SHOWN
            return False
        try:
            self.open(account_id)
        except KamError as e:
            self.notice.value = message_html(e)
            self.picker.show_current(self.session.account_id if self.session else None)
            return False
        return True

    def confirm(self, choice: str) -> bool:
        """Answer the question of :meth:`request_open`: ``"save"`` (save, then switch; a refused
        or stale save stays on the account and shows why), ``"discard"`` (drop the edits, then
        switch) or ``"stay"``. Returns whether the other account was opened."""
        target, self.pending = self.pending, None
        self.confirm_row.layout.display = _HIDDEN
        session = self.session
        if target is None or session is None:
            return False
        if choice == "save" and not self.savebar.save():
            self.notice.value = message_html(KamError(
                f"Stayed on {session.account_id}: the edits could not be saved (see below)."))
        elif choice in ("save", "discard"):
            if choice == "discard":
                session.reload()
            self.open(target)
            return True
        self.picker.show_current(session.account_id)
        return False

    def open(self, account_id: str) -> EditSession:
        """Open ``account_id`` at once (unsaved edits of the open account are dropped: use
        :meth:`request_open` to ask first) and redraw."""
        if self.workspace is None:
            raise KamError(self.problem or "No workspace is open.")
        session = EditSession(self.workspace, account_id, author=self.user)
        self.session = session
        self.pending = None
        self.confirm_row.layout.display = _HIDDEN
        self.notice.value = ""
        self.savebar.reset()
        self.picker.refresh_index()
        self.picker.current = account_id
        self.picker.update()
        for panel in self.panels:
            panel.status.value = ""
        self.history.status.value = ""
        self.refresh()
        return session

    # -- redrawing --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw from the session: the overview, the save bar and the panels
        (:meth:`Panel.show`) -- the tab on screen now and each other tab when it is selected,
        or all of them at once with ``redraw="all"``. Every panel edits the current session."""
        session = self.session
        if session is None:
            self.overview.clear()
            self.savebar.show(None)
            return
        try:
            self.overview.show(session.dossier, note="With your unsaved edits." if session.dirty
                               else "")
        except KamError as e:  # e.g. a need scored outside the scale of the matrix
            self.overview.clear(f"The overview cannot be computed: {e}")
        except Exception as e:  # an analysis failing must not lose the session
            log.exception("overview of %s", session.account_id)
            self.overview.clear(f"The overview could not be computed: {type(e).__name__}: {e}")
        shown = [*self.panels, self.history]
        selected = self.tabs.selected_index
        self._stale = set()
        for i, panel in enumerate(shown):
            if self.redraw == "all" or i == selected:
                self._show(panel, session)
            else:  # drawn when its tab is selected; its edits already go to this session
                panel.session = session
                self._stale.add(i)
        self.savebar.show(session)

    def _tab_selected(self, change: dict[str, Any]) -> None:
        index = change["new"]
        if self.session is not None and isinstance(index, int) and index in self._stale:
            self._stale.discard(index)
            self._show([*self.panels, self.history][index], self.session)

    def _show(self, panel: Panel, session: EditSession) -> None:
        try:
            panel.show(session)
        except KamError as e:
            panel.session = session
            panel.status.value = message_html(e)
        except Exception as e:  # one broken panel must not break the shell or lose edits
            log.exception("panel %s", panel.title)
            panel.session = session
            text = f"{panel.title} could not be drawn: {type(e).__name__}: {e}"
            self.problems.append(text)
            panel.status.value = message_html(KamError(text))

    def _index_saved(self, _rev: Revision, fingerprint_before: str) -> None:
        if self.session is not None:
            self.picker.account_saved(self.session.dossier, fingerprint_before)

    def _saved(self, rev: Revision, fingerprint_before: str) -> None:
        self._index_saved(rev, fingerprint_before)
        self.refresh()


def _make_panel(factory: PanelFactory, on_change: Callable[[], None],
                context: dict[str, Any]) -> Panel:
    """``factory(on_change, **context)``, passing only the context it declares (all of it to a
    factory that takes ``**kwargs``)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return factory(on_change)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return factory(on_change, **context)
    return factory(on_change, **{k: v for k, v in context.items() if k in params})


def _missing_message(location: str, origin: str) -> str:
    folder = Path(location).expanduser().resolve()
    return (f"No kam workspace in {folder} ({origin}). Create one with 'kam demo {folder}' "
            f"(the demo accounts) or 'kam init {folder}' (empty), or set KAM_WORKSPACE to your "
            "workspace folder, then run this cell again.")


def open_workbook(workspace: str | os.PathLike[str] | Workspace | None = None, *,
                  account: str | None = None, user: str | None = None,
                  today: date | None = None, panels: Sequence[PanelFactory] | None = None,
                  redraw: str = "visible") -> Workbook:
    """Open the workbook on a workspace.

    Parameters
    ----------
    workspace
        A folder, a database URL or an open :class:`~kam.store.Workspace` (default:
        ``$KAM_WORKSPACE``, else ``./kam-workspace``). A folder holding no workspace gives a
        workbook that says which folder and how to create one.
    account
        Open this account at once (default: none until one is picked).
    user
        Who works (default: :func:`kam.config.current_user`): the author of saves and the
        "my accounts" filter.
    today
        The date of the analyses (default: today).
    panels
        The edit panels, as :class:`~kam.workbook.base.Panel` classes (default:
        :func:`default_panels`), each built as ``Panel(on_change, **context)`` with the context of
        :data:`PANEL_CONTEXT` it takes. The History tab is always added.
    redraw
        ``visible`` (default) or ``all``: see :data:`REDRAW`.

    Examples
    --------
    >>> import tempfile
    >>> from kam import demo
    >>> ws = demo.build(tempfile.mkdtemp() + "/ws")
    >>> wb = open_workbook(ws, account="PELAGOS", user="maria.lind", today=demo.TODAY, panels=[])
    >>> wb.session.dossier.account.name
    'Pelagos Offshore Services'
    >>> open_workbook(tempfile.mkdtemp() + "/none").problem.startswith("No kam workspace in")
    True
    """
    if isinstance(workspace, Workspace):
        ws = workspace
    else:
        location = str(workspace) if workspace is not None else default_location()
        origin = ("given" if workspace is not None else "from $KAM_WORKSPACE"
                  if os.environ.get("KAM_WORKSPACE") else "the default: ./kam-workspace")
        try:
            ws = Workspace(location)
        except FileNotFoundError:
            return Workbook(None, user=user, today=today,
                            problem=_missing_message(location, origin))
    book = Workbook(ws, user=user, today=today, redraw=redraw,
                    panels=default_panels() if panels is None else panels)
    if account is not None:
        book.open(account)
    return book
