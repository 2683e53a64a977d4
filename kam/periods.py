"""Periods written ``2025``, ``2025-Q1`` or ``2025-03``: parsing, selection and aggregation.

Revenue, cost and activity lines, budgets and deals carry a period string (DOMAIN.md §7, §9).
The helpers here work on whole columns at once: each distinct period string is parsed once and
the result broadcast, so a column of a million lines costs no more than its few distinct values.

A period is held as a span of *month numbers* (``year * 12 + month - 1``), from its first to its
last month. A line can be shown at its own granularity or a coarser one (months roll up into
quarters and years); a line coarser than the requested granularity (a yearly line shown by month)
cannot be split and raises :class:`~kam.errors.InputError` -- except where a caller spreads it on
purpose (budgets, see :func:`kam.profitability.budget_vs_actual`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import InputError, KamError, ValidationProblem

__all__ = [
    "FREQS",
    "Freq",
    "NoData",
    "as_day",
    "bounds",
    "check_freq",
    "end_date",
    "frame_of",
    "label",
    "month_of_dates",
    "need_columns",
    "period_range",
    "select",
    "span",
    "start_date",
    "to_freq",
]

Freq = Literal["M", "Q", "Y"]
FREQS: dict[str, Freq] = {
    "M": "M", "month": "M", "monthly": "M",
    "Q": "Q", "quarter": "Q", "quarterly": "Q",
    "Y": "Y", "year": "Y", "yearly": "Y", "A": "Y",
}
_MONTHS = {"M": 1, "Q": 3, "Y": 12}
_NAMES = {"M": "month", "Q": "quarter", "Y": "year"}
_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")


class NoData(KamError, LookupError):
    """The requested period (or selection) holds no data at all."""


def need_columns(frame: pd.DataFrame, what: str, required: Sequence[str],
                 optional: Sequence[str] = ()) -> pd.DataFrame:
    """``frame`` with its ``optional`` columns added (all missing) where absent; a missing
    ``required`` column raises :class:`~kam.errors.InputError` naming it.

    Frames made by :func:`kam.model.tables` have every column; this lets a hand-built or
    generated frame carry only what an analysis needs.

    >>> need_columns(pd.DataFrame({"period": []}), "revenue", ["account_id", "period"])
    Traceback (most recent call last):
    ...
    kam.errors.InputError: revenue, field 'account_id': column missing; the columns are: period
    """
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError([ValidationProblem(
            record=what, field=c,
            message=f"column missing; the columns are: {', '.join(map(str, frame.columns))}")
            for c in missing])
    absent = [c for c in optional if c not in frame.columns]
    return frame.assign(**{c: None for c in absent}) if absent else frame


_COLUMNS: dict[str, tuple[list[str], list[str]]] = {
    "accounts": (["account_id"], ["name", "industry", "region", "category", "kam",
                                  "sales_stage", "total_consumption", "market_price_index"]),
    "revenue": (["account_id", "period", "revenue"],
                ["product", "product_group", "cogs", "list_value", "quantity"]),
    "costs": (["account_id", "period", "category", "amount"], []),
    "activities": (["account_id", "period", "activity", "count"], []),
    "budgets": (["account_id", "period", "category", "amount"], []),
    "deals": (["account_id", "id", "outcome"],
              ["stage", "manager", "product", "product_group", "planned_budget", "refined_budget",
               "actual_budget", "created", "plan_date", "expected_close", "closed_on", "period",
               "refusal_reason"]),
    "deal_history": (["account_id", "deal_id", "stage", "on"], []),
    "ratings": (["account_id", "kind", "points", "on"], ["campaign"]),
}


def frame_of(t: Any, name: str) -> pd.DataFrame:
    """The frame ``name`` of the :class:`~kam.model.Tables` ``t``, checked by
    :func:`need_columns` against the columns the analyses read."""
    required, optional = _COLUMNS[name]
    return need_columns(getattr(t, name), f"{name} table", required, optional)


def check_freq(freq: str) -> Freq:
    """The canonical frequency (``"M"``, ``"Q"`` or ``"Y"``) for ``freq``.

    Examples
    --------
    >>> check_freq("quarter")
    'Q'
    >>> check_freq("W")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: freq 'W' is not a period frequency; options are 'M' (month), ...
    """
    try:
        return FREQS[freq]
    except (KeyError, TypeError):
        raise ValueError(
            f"freq {freq!r} is not a period frequency; options are 'M' (month), 'Q' (quarter), "
            "'Y' (year)"
        ) from None


def _parse_one(value: object) -> tuple[int, int] | None:
    m = _PERIOD.match(value) if isinstance(value, str) else None
    if m is None:
        return None
    year = int(m.group(1))
    if m.group(2):
        start = year * 12 + int(m.group(2)) - 1
        return start, start
    if m.group(3):
        start = year * 12 + 3 * (int(m.group(3)) - 1)
        return start, start + 2
    return year * 12, year * 12 + 11


def bounds(periods: pd.Series, *, what: str = "lines") -> tuple[np.ndarray, np.ndarray]:
    """First and last month number of every period in ``periods`` (vectorised).

    A missing or malformed period raises :class:`~kam.errors.InputError` naming the value.

    Examples
    --------
    >>> s, e = bounds(pd.Series(["2025", "2025-Q2", "2025-03"]))
    >>> (s - 2025 * 12).tolist(), (e - 2025 * 12).tolist()
    ([0, 3, 2], [11, 5, 2])
    """
    codes, uniques = pd.factorize(pd.Series(periods, dtype=object), use_na_sentinel=True)
    parsed = [_parse_one(u) for u in uniques]
    bad = [str(u) for u, p in zip(uniques, parsed, strict=True) if p is None]
    if bad or (codes < 0).any():
        shown = ", ".join(repr(b) for b in bad[:5]) or "a missing value"
        raise InputError([ValidationProblem(
            record=what, field="period",
            message=f"{shown} is not a period: write a year (2025), a month (2025-03) or a "
                    "quarter (2025-Q1)",
        )])
    if len(uniques) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy()
    starts = np.array([p[0] for p in parsed if p], dtype=np.int64)
    ends = np.array([p[1] for p in parsed if p], dtype=np.int64)
    return starts[codes], ends[codes]


def label(months: np.ndarray | pd.Series | int, freq: str) -> pd.Series:
    """Period labels at ``freq`` for month numbers (vectorised over the distinct values)."""
    f = check_freq(freq)
    arr = np.atleast_1d(np.asarray(months, dtype=np.int64))
    codes, uniques = pd.factorize(arr)
    names = np.array([_label_one(int(u), f) for u in uniques], dtype=object)
    return pd.Series(names[codes] if len(arr) else [], dtype="str")


def _label_one(month: int, freq: Freq) -> str:
    year, m = divmod(month, 12)
    if freq == "Y":
        return f"{year:04d}"
    if freq == "Q":
        return f"{year:04d}-Q{m // 3 + 1}"
    return f"{year:04d}-{m + 1:02d}"


def to_freq(periods: pd.Series, freq: str, *, what: str = "lines") -> pd.Series:
    """Relabel periods at the coarser (or equal) granularity ``freq``.

    Raises :class:`~kam.errors.InputError` for a period coarser than ``freq`` (it cannot be
    split: a yearly line has no month).

    Examples
    --------
    >>> to_freq(pd.Series(["2025-01", "2025-05", "2025-Q4"]), "Q").tolist()
    ['2025-Q1', '2025-Q2', '2025-Q4']
    >>> to_freq(pd.Series(["2025"]), "M", what="revenue lines")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kam.errors.InputError: revenue lines, field 'period': period '2025' is coarser than ...
    """
    f = check_freq(freq)
    start, end = bounds(periods, what=what)
    step = _MONTHS[f]
    coarse = (start // step) != (end // step)
    if coarse.any():
        values = pd.Series(periods, dtype=object)[coarse].unique()
        shown = ", ".join(repr(v) for v in values[:5])
        raise InputError([ValidationProblem(
            record=what, field="period",
            message=f"period {shown} is coarser than the requested granularity {f!r} and cannot "
                    f"be split; ask for a coarser freq or book the lines by {_NAMES[f]}",
        )])
    out = label(start, f)
    out.index = pd.Series(periods).index
    return out


def start_date(period: str) -> date:
    """The first day of ``period``.

    >>> start_date("2025-Q2")
    datetime.date(2025, 4, 1)
    """
    s, _ = _checked(period)
    return date(s // 12, s % 12 + 1, 1)


def end_date(period: str) -> date:
    """The last day of ``period``.

    >>> end_date("2024-02"), end_date("2025")
    (datetime.date(2024, 2, 29), datetime.date(2025, 12, 31))
    """
    _, e = _checked(period)
    nxt = e + 1
    return date.fromordinal(date(nxt // 12, nxt % 12 + 1, 1).toordinal() - 1)


def span(period: str) -> tuple[int, int]:
    """First and last month number of one period (``ValueError`` if it is not a period).

    >>> [m - 2025 * 12 for m in span("2025-Q3")]
    [6, 8]
    """
    return _checked(period)


def _checked(period: str) -> tuple[int, int]:
    parsed = _parse_one(period)
    if parsed is None:
        raise ValueError(
            f"{period!r} is not a period: write a year (2025), a month (2025-03) or a quarter "
            "(2025-Q1)"
        )
    return parsed


def month_of_dates(dates: pd.Series) -> np.ndarray:
    """Month numbers of a column of dates (``datetime.date``, strings or timestamps)."""
    ts = pd.to_datetime(pd.Series(dates), errors="raise")
    return (ts.dt.year.to_numpy(np.int64) * 12 + ts.dt.month.to_numpy(np.int64) - 1)


def period_range(first: int, last: int, freq: str) -> list[str]:
    """Every period label at ``freq`` from month number ``first`` to ``last`` (inclusive),
    gaps included -- so a period without data shows as a row of zeros, not a missing row.

    >>> period_range(2025 * 12 + 10, 2026 * 12 + 1, "Q")
    ['2025-Q4', '2026-Q1']
    """
    f = check_freq(freq)
    step = _MONTHS[f]
    return [_label_one(m * step, f) for m in range(first // step, last // step + 1)]


def select(
    frame: pd.DataFrame,
    period: str | None = None,
    as_of: date | None = None,
    *,
    what: str = "lines",
) -> pd.DataFrame:
    """The rows of ``frame`` whose ``period`` lies within ``period`` and starts on or before
    ``as_of`` (both optional).

    A row whose period overlaps ``period`` but is coarser (a yearly line when a quarter is asked
    for) cannot be split and raises :class:`~kam.errors.InputError`.

    Examples
    --------
    >>> df = pd.DataFrame({"period": ["2024-12", "2025-01", "2025-Q2", "2025-07"],
    ...                    "x": [1, 2, 3, 4]})
    >>> select(df, "2025")["x"].tolist()
    [2, 3, 4]
    >>> select(df, as_of=date(2025, 3, 31))["x"].tolist()
    [1, 2]
    """
    if frame.empty or (period is None and as_of is None):
        return frame
    start, end = bounds(frame["period"], what=what)
    keep = np.ones(len(frame), dtype=bool)
    if period is not None:
        ps, pe = _checked(period)
        within = (start >= ps) & (end <= pe)
        overlap = (start <= pe) & (end >= ps) & ~within
        if overlap.any():
            values = frame["period"][overlap].unique()
            raise InputError([ValidationProblem(
                record=what, field="period",
                message=f"period {', '.join(repr(v) for v in values[:5])} is coarser than the "
                        f"selected period {period!r} and cannot be split; select a whole "
                        f"{'year' if len(values[0]) == 4 else 'quarter'} instead",
            )])
        keep &= within
    if as_of is not None:
        keep &= start <= as_of.year * 12 + as_of.month - 1
    return frame[keep]


def as_day(today: date) -> date:
    """``today`` as a plain date (a datetime is cut to its date); anything else is a TypeError.

    >>> as_day(datetime(2026, 3, 1, 14, 30))
    datetime.date(2026, 3, 1)
    """
    if isinstance(today, datetime):
        return today.date()
    if not isinstance(today, date):
        raise TypeError(f"today must be a date, got {type(today).__name__} {today!r}")
    return today
