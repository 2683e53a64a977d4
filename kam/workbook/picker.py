"""The account picker: find an account by name or id, filter by manager, category, sales stage
and relationship health, and pick it.

:func:`account_index` is the table the picker filters: one row per account with its health
band, cached per workspace fingerprint (it changes whenever any account is saved), so opening
the workbook again or switching accounts does not score every account again.
:func:`filter_accounts` is the search itself, a plain function over that table.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import date
from html import escape

import ipywidgets as w
import pandas as pd

from ..health import HealthConfig, health_table
from ..model import Category, Dossier, SalesStage
from ..reports.summary import score_tone
from ..store import Workspace

__all__ = [
    "HEALTH_BANDS",
    "INDEX_COLUMNS",
    "AccountIndex",
    "AccountPicker",
    "account_index",
    "filter_accounts",
    "index_frame",
]

HEALTH_BANDS = {"bad": "red", "warn": "amber", "good": "green"}
"""The health band of each tone of :func:`kam.reports.summary.score_tone` (the bands of the
report's health gauge: red below 50, amber below 75, green from 75)."""

INDEX_COLUMNS = ["account_id", "name", "kam", "category", "sales_stage", "health_score",
                 "health"]
"""The columns of :func:`index_frame`."""

_CACHE: OrderedDict[tuple[str, str, date], AccountIndex] = OrderedDict()
_CACHE_SIZE = 8


def index_frame(dossiers: Iterable[Dossier], today: date,
                config: HealthConfig | None = None) -> pd.DataFrame:
    """One row per account (columns :data:`INDEX_COLUMNS`), sorted by name: its id, name, KAM,
    category and sales stage (as in the accounts table of :func:`kam.model.tables`), its score
    from :func:`kam.health.health_table` on ``today`` and the band of that score (``red``,
    ``amber``, ``green``)."""
    dossiers = list(dossiers)
    accounts = pd.DataFrame(
        [(a.id, a.name, a.kam, a.category.value if a.category else None, a.sales_stage.value)
         for a in (d.account for d in dossiers)],
        columns=["account_id", "name", "kam", "category", "sales_stage"], dtype=object)
    scores = health_table(dossiers, today, config)[["account_id", "score"]]
    frame = accounts.merge(scores.rename(columns={"score": "health_score"}), on="account_id",
                           how="left")
    frame["health"] = [HEALTH_BANDS.get(score_tone(s) or "", "") for s in frame["health_score"]]
    frame = frame.astype({c: object for c in ("account_id", "name", "kam", "category",
                                              "sales_stage", "health")})
    order = frame["name"].str.casefold().argsort(kind="stable")
    return frame.iloc[order].reset_index(drop=True)[INDEX_COLUMNS]


class AccountIndex:
    """The picker's table of accounts (:func:`index_frame`) and the workspace fingerprint it was
    computed at."""

    def __init__(self, frame: pd.DataFrame, fingerprint: str):
        self.frame = frame
        self.fingerprint = fingerprint

    def __len__(self) -> int:
        return len(self.frame)

    def updated(self, dossier: Dossier, today: date, config: HealthConfig | None = None,
                fingerprint: str = "") -> AccountIndex:
        """A copy with ``dossier``'s row recomputed (after it was saved)."""
        row = index_frame([dossier], today, config)
        rest = self.frame[self.frame["account_id"] != dossier.account.id]
        frame = pd.concat([rest, row], ignore_index=True)
        order = frame["name"].str.casefold().argsort(kind="stable")
        return AccountIndex(frame.iloc[order].reset_index(drop=True), fingerprint)


def account_index(workspace: Workspace, today: date,
                  config: HealthConfig | None = None) -> AccountIndex:
    """The :class:`AccountIndex` of every account in ``workspace`` on ``today``: computed once
    per workspace fingerprint (the last few are kept)."""
    fingerprint = workspace.fingerprint()
    key = (workspace.location, fingerprint, today)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    index = AccountIndex(index_frame(workspace.load_all(), today, config), fingerprint)
    _remember(workspace, today, index)
    return index


def _remember(workspace: Workspace, today: date, index: AccountIndex) -> None:
    """Keep ``index`` in the cache under its fingerprint."""
    _CACHE[(workspace.location, index.fingerprint, today)] = index
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)


def filter_accounts(frame: pd.DataFrame, *, search: str = "", kam: str | None = None,
                    category: str | None = None, stage: str | None = None,
                    health: str | None = None) -> pd.DataFrame:
    """The rows of an account table (:func:`index_frame`) that match every filter given.

    ``search`` is a case-insensitive part of the name or the id; ``kam`` the id of the
    responsible KAM; ``category``, ``stage`` (sales stage) and ``health`` (``red``, ``amber``,
    ``green``) exact values.

    Examples
    --------
    >>> frame = pd.DataFrame({"account_id": ["ACME", "BOLT"], "name": ["Acme Steel", "Bolt Co"],
    ...                       "kam": ["ann", "bob"], "category": ["A", None],
    ...                       "sales_stage": ["lead", "sale"], "health": ["red", "green"]})
    >>> filter_accounts(frame, search="STEEL")["account_id"].tolist()
    ['ACME']
    >>> filter_accounts(frame, search="bo", kam="bob")["account_id"].tolist()
    ['BOLT']
    """
    keep = pd.Series(True, index=frame.index)
    text = search.strip().casefold()
    if text:
        keep &= (frame["name"].astype(str).str.casefold().str.contains(text, regex=False)
                 | frame["account_id"].astype(str).str.casefold().str.contains(text, regex=False))
    for column, value in (("kam", kam), ("category", category), ("sales_stage", stage),
                          ("health", health)):
        if value:
            keep &= frame[column] == value
    return frame[keep]


class AccountPicker:
    """Search box, filters and the list of matching accounts.

    Parameters
    ----------
    workspace
        The store.
    user
        The current user (shown; the "my accounts" filter keeps the accounts they manage).
    today
        The date health is scored on.
    on_pick
        Called with the id of the account picked in the list.
    config
        The health configuration (default ``templates/health.yaml``).
    """

    def __init__(self, workspace: Workspace, *, user: str, today: date,
                 on_pick: Callable[[str], object], config: HealthConfig | None = None):
        self.workspace = workspace
        self.user = user
        self.today = today
        self.on_pick = on_pick
        self.config = config
        self.current: str | None = None
        self._quiet = False
        self.index = account_index(workspace, today, config)
        mine = bool((self.index.frame["kam"] == user).any())
        self.search = w.Text(placeholder="Search name or id", continuous_update=True,
                             layout=w.Layout(width="auto"))
        self.mine = w.Checkbox(value=mine, description=f"My accounts ({user})", indent=False)
        self.category = w.Dropdown(
            options=[("any category", "")] + [(f"category {c.value}", c.value)
                                               for c in Category], value="", layout=_narrow())
        self.stage = w.Dropdown(
            options=[("any stage", "")] + [(s.value, s.value) for s in SalesStage],
            value="", layout=_narrow())
        self.health = w.Dropdown(options=[("any health", ""), ("red (below 50)", "red"),
                                          ("amber (50-74)", "amber"), ("green (75+)", "green")],
                                 value="", layout=_narrow())
        self.select = w.Select(options=[], value=None, rows=10, layout=w.Layout(width="auto"))
        self.count = w.HTML()
        self.user_line = w.HTML(f"Working as <b>{escape(user)}</b>")
        for control in (self.search, self.mine, self.category, self.stage, self.health):
            control.observe(self._filters_changed, "value")
        self.select.observe(self._picked, "value")
        self.widget = w.VBox(
            [self.user_line, self.search, self.mine,
             w.HBox([self.category, self.stage, self.health], layout=w.Layout(width="auto")),
             self.select, self.count],
            layout=w.Layout(width="320px", flex="0 0 320px", margin="0 16px 0 0"))
        self.update()

    # -- what is listed ---------------------------------------------------------------------
    def matches(self) -> pd.DataFrame:
        """The accounts that pass the search and the filters now."""
        return filter_accounts(
            self.index.frame, search=self.search.value,
            kam=self.user if self.mine.value else None, category=self.category.value,
            stage=self.stage.value, health=self.health.value)

    def refresh_index(self) -> None:
        """Recompute the table if any account changed since (one cheap query when nothing
        did)."""
        if self.workspace.fingerprint() != self.index.fingerprint:
            self.index = account_index(self.workspace, self.today, self.config)

    def update(self) -> None:
        """Redraw the list from the search and the filters, keeping the open account
        selected when it is listed."""
        found = self.matches()
        options = [(f"{name} · {aid}", aid)
                   for aid, name in zip(found["account_id"], found["name"], strict=True)]
        self._quiet = True
        try:
            self.select.options = options
            self.select.value = self.current if self.current in set(found["account_id"]) \
                else None
        finally:
            self._quiet = False
        total = len(self.index)
        self.count.value = (f"{len(found)} of {total} account{'s' if total != 1 else ''}"
                            if total else "No accounts in this workspace yet.")

    def show_current(self, account_id: str | None) -> None:
        """Mark ``account_id`` as the open account (select it without calling ``on_pick``)."""
        self.current = account_id
        self._quiet = True
        try:
            ids = {value for _, value in self.select.options}
            self.select.value = account_id if account_id in ids else None
        finally:
            self._quiet = False

    def account_saved(self, dossier: Dossier, fingerprint_before: str) -> None:
        """Update the saved account's row; the rest of the table is kept when nothing else
        changed before the save."""
        if self.index.fingerprint != fingerprint_before:
            self.refresh_index()
        else:
            self.index = self.index.updated(dossier, self.today, self.config,
                                            self.workspace.fingerprint())
            _remember(self.workspace, self.today, self.index)
        self.update()

    # -- events -----------------------------------------------------------------------------
    def _filters_changed(self, _change: object) -> None:
        self.refresh_index()
        self.update()

    def _picked(self, change: dict[str, object]) -> None:
        new = change["new"]
        if self._quiet or not isinstance(new, str) or new == self.current:
            return
        self.on_pick(new)


def _narrow() -> w.Layout:
    return w.Layout(width="auto", flex="1 1 0")
