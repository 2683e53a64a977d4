"""What an import did: counts, quirks found in the data, corrections applied, what was saved.

An :class:`ImportReport` is the answer of every import (YAML dossiers or a CRM export). Nothing
an import finds odd is fixed or dropped silently: each quirk is a row of :attr:`ImportReport.quirks`
with its count, up to five examples and what the import did about it, and the full list of the
affected rows is in :attr:`ImportReport.details`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["ImportReport"]

_COUNT_COLUMNS = ["item", "count"]
_QUIRK_COLUMNS = ["quirk", "count", "examples", "action"]
_CORRECTION_COLUMNS = ["file", "column", "found", "replaced_by", "rows"]
_SAVED_COLUMNS = ["account_id", "file", "action", "revision"]
_HELD_COLUMNS = ["account_id", "stage", "deals_suggest", "missing"]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


@dataclass
class ImportReport:
    """The outcome of an import.

    Attributes
    ----------
    source
        What was imported (a folder or file names).
    counts
        ``item`` / ``count``: how many accounts, opportunities, agents, ... were read.
    quirks
        ``quirk`` / ``count`` / ``examples`` (up to 5) / ``action`` (what the import did). Every
        check made is a row, also those that found nothing (count 0).
    corrections
        Value corrections configured in the mapping and applied: ``file``, ``column``,
        ``found``, ``replaced_by``, ``rows`` (0 if the configured value did not occur).
    held
        Accounts kept below the sales stage their deals suggest, with what the stage gate misses.
    saved
        Per account: ``action`` (``new``, ``updated``, ``unchanged``) and the new ``revision``
        (empty until the import is saved to a workspace).
    details
        The full list of rows behind each quirk, keyed by the quirk's name.
    seconds
        Wall time of the import.

    Examples
    --------
    >>> r = ImportReport("demo.yaml")
    >>> r.add_count("accounts", 2)
    >>> r.add_quirk("accounts with a parent", ["Cheers -> Massive Dynamic"], "kept as parent")
    >>> r.count("accounts"), r.quirk_count("accounts with a parent")
    (2, 1)
    """

    source: str
    counts: pd.DataFrame = field(default_factory=lambda: _empty(_COUNT_COLUMNS))
    quirks: pd.DataFrame = field(default_factory=lambda: _empty(_QUIRK_COLUMNS))
    corrections: pd.DataFrame = field(default_factory=lambda: _empty(_CORRECTION_COLUMNS))
    held: pd.DataFrame = field(default_factory=lambda: _empty(_HELD_COLUMNS))
    saved: pd.DataFrame = field(default_factory=lambda: _empty(_SAVED_COLUMNS))
    details: dict[str, pd.DataFrame] = field(default_factory=dict)
    seconds: float | None = None

    # -- building ---------------------------------------------------------------------------
    def add_count(self, item: str, count: int | float) -> None:
        """Record how many of ``item`` were read."""
        row = pd.DataFrame({"item": [item], "count": [count]}, dtype=object)
        self.counts = pd.concat([self.counts, row], ignore_index=True)

    def add_quirk(self, quirk: str, examples: list[str], action: str, *, count: int | None = None,
                  detail: pd.DataFrame | None = None) -> None:
        """Record a check: ``count`` (default: ``len(examples)``) rows were affected, the first
        five ``examples`` are shown, ``action`` says what the import did about them."""
        n = len(examples) if count is None else count
        row = pd.DataFrame({"quirk": [quirk], "count": [n], "examples": ["; ".join(examples[:5])],
                            "action": [action]}, dtype=object)
        self.quirks = pd.concat([self.quirks, row], ignore_index=True)
        if detail is not None:
            self.details[quirk] = detail.reset_index(drop=True)

    # -- reading ----------------------------------------------------------------------------
    def count(self, item: str) -> int | float:
        """The count of ``item`` (``KeyError`` naming the known items if none)."""
        hit = self.counts[self.counts["item"] == item]
        if hit.empty:
            raise KeyError(f"No count {item!r} in the report; known: "
                           + ", ".join(self.counts["item"].astype(str)))
        value = hit["count"].iloc[0]
        return int(value) if float(value).is_integer() else float(value)

    def quirk_count(self, quirk: str) -> int:
        """How many rows a quirk check found (``KeyError`` naming the checks if unknown)."""
        hit = self.quirks[self.quirks["quirk"] == quirk]
        if hit.empty:
            raise KeyError(f"No quirk {quirk!r} in the report; checks made: "
                           + ", ".join(self.quirks["quirk"].astype(str)))
        return int(hit["count"].iloc[0])

    @property
    def ok(self) -> bool:
        """``True`` when no check found anything."""
        return bool((self.quirks["count"] == 0).all())

    # -- display ----------------------------------------------------------------------------
    def _saved_summary(self) -> str:
        if self.saved.empty:
            return "not saved"
        actions = self.saved["action"].value_counts()
        return ", ".join(f"{int(actions.get(a, 0))} {a}" for a in ("new", "updated", "unchanged"))

    def __str__(self) -> str:
        lines = [f"Import of {self.source}"]
        if self.seconds is not None:
            lines[0] += f" ({self.seconds:.2f} s)"
        lines.append("Counts:")
        lines += [f"  {r.item}: {_num(r.count)}" for r in self.counts.itertuples()]
        lines.append(f"Saved: {self._saved_summary()}")
        found = self.quirks[self.quirks["count"] > 0]
        lines.append(f"Quirks found: {len(found)} of {len(self.quirks)} checks")
        for r in found.itertuples():
            lines.append(f"  - {r.quirk}: {_num(r.count)}")
            if r.examples:
                lines.append(f"      e.g. {r.examples!s}")
            lines.append(f"      -> {r.action}")
        if not self.corrections.empty:
            lines.append("Corrections (configured in the mapping):")
            lines += [f"  {r.file} {r.column}: {r.found!r} -> {r.replaced_by!r} ({r.rows} rows)"
                      for r in self.corrections.itertuples()]
        if not self.held.empty:
            lines.append(f"Accounts held below the stage their deals suggest: {len(self.held)}")
            for r in self.held.head(5).itertuples():
                lines.append(f"  {r.account_id}: {r.stage} (deals suggest {r.deals_suggest}); "
                             f"missing: {r.missing}")
            if len(self.held) > 5:
                lines.append(f"  ... and {len(self.held) - 5} more (see .held)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        head = e(f"Import of {self.source}") + (
            f" <small>({self.seconds:.2f} s)</small>" if self.seconds is not None else "")
        parts = [f"<h4>{head}</h4>", f"<p>Saved: {e(self._saved_summary())}</p>",
                 self.counts.to_html(index=False, escape=True)]
        found = self.quirks[self.quirks["count"] > 0]
        parts += ["<h5>Quirks found</h5>", found.to_html(index=False, escape=True)]
        if not self.corrections.empty:
            parts += ["<h5>Corrections (configured in the mapping)</h5>",
                      self.corrections.to_html(index=False, escape=True)]
        if not self.held.empty:
            parts += [f"<h5>Accounts held below the stage their deals suggest "
                      f"({len(self.held)})</h5>", self.held.to_html(index=False, escape=True)]
        return "\n".join(parts)


def _num(value: object) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    if isinstance(value, int | float):
        return f"{int(value):,}"
    return str(value)
