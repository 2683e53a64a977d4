"""Shared base of the dossier records: strict pydantic models with stable ids."""

from __future__ import annotations

import re
import reprlib
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

__all__ = [
    "ID_PATTERN",
    "LINE_ID_HELP",
    "MAX_AMOUNT",
    "PERIOD_PATTERN",
    "TEXT_PATTERN",
    "Amount",
    "Count",
    "FieldError",
    "Fraction",
    "Id",
    "KamModel",
    "Money",
    "Period",
    "Quantity",
    "Score5",
    "Text",
    "bound_message",
    "check_id",
    "check_period",
    "check_text",
    "short_repr",
]


class FieldError(ValueError):
    """A check across fields failed; ``field`` names the field to fix, so that validation
    problems name it (raise it from a model validator instead of a plain ``ValueError``)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class KamModel(BaseModel):
    """Base of every record: unknown fields are errors (typos are caught), values are checked
    on assignment too, and text is stripped of surrounding blanks."""

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        str_strip_whitespace=True,
        use_enum_values=False,
        populate_by_name=True,
    )


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{short_repr(value)} is not a valid id: use 1-64 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    return value


_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")


def check_period(value: str) -> str:
    """Accept a year ``2025``, a month ``2025-03`` or a quarter ``2025-Q1``."""
    if not _PERIOD.match(value):
        raise ValueError(
            f"{short_repr(value)} is not a period: write a year (2025), a month (2025-03) "
            "or a quarter (2025-Q1)"
        )
    return value


# Control characters (C0 except tab, line feed and carriage return; and DEL) hide in pasted text,
# break terminals, CSV and HTML, and are never meant: text fields refuse them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(value: str) -> str:
    r"""Refuse text holding a control character (tab, line feed and carriage return are fine).

    Examples
    --------
    >>> check_text("Acme\tSteel")
    'Acme\tSteel'
    >>> check_text("Acme\x1b[31m")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: contains the control character '\x1b' (character 5): remove it ...
    """
    bad = _CONTROL.search(value)
    if bad is not None:
        raise ValueError(
            f"contains the control character {bad.group()!r} (character {bad.start() + 1}): remove "
            "it (text may hold tabs and line breaks, but no other control characters)"
        )
    return value


ID_PATTERN = _ID.pattern
PERIOD_PATTERN = _PERIOD.pattern
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Text without control characters (as a pattern pydantic's core checks fast)."""

# The patterns are checked by pydantic's core (fast); kam.model.dossier turns a mismatch into the
# friendly messages of check_id / check_period / check_text.
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""A stable record id: letters, digits, ``-``, ``_``, ``.``."""

Period = Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)]
"""A year, month or quarter, written ``2025``, ``2025-03`` or ``2025-Q1``."""

Text = Annotated[str, StringConstraints(pattern=TEXT_PATTERN)]
"""Free text: anything but control characters (tabs and line breaks are fine)."""

MAX_AMOUNT = 1e15
"""The largest amount, count or figure a record may hold (in absolute value): far beyond any real
figure, small enough that sums over millions of lines stay finite."""


def _refuse_bool(value: Any) -> Any:
    # pydantic would read True as 1 and False as 0: a yes/no where a number belongs is a mistake.
    if isinstance(value, bool):
        raise ValueError(f"expected a number, found the yes/no value {value}; write a number")
    return value


_NUMBER = BeforeValidator(_refuse_bool)

Money = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False), _NUMBER]
"""A non-negative amount of money in the workspace currency (at most :data:`MAX_AMOUNT`)."""

Quantity = Annotated[float, Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False), _NUMBER]
"""A non-negative quantity, volume, count or score (at most :data:`MAX_AMOUNT`)."""

Amount = Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, allow_inf_nan=False), _NUMBER]
"""A figure that may be negative (a KPI, rating points), within +-:data:`MAX_AMOUNT`."""

Count = Annotated[int, Field(ge=0, le=int(MAX_AMOUNT)), _NUMBER]
"""A whole number of things (e.g. employees), at most :data:`MAX_AMOUNT`."""

LINE_ID_HELP = "Stable id; assigned on first validation when left out (e.g. R-1, C-2)."

Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), _NUMBER]
"""A share or probability between 0 and 1."""

Score5 = Annotated[int, Field(ge=1, le=5), _NUMBER]
"""A 1 (worst) .. 5 (best) rating."""


def bound_message(limit: object, found: str) -> str | None:
    """The message for a value beyond :data:`MAX_AMOUNT` (``None`` for any other limit)."""
    try:
        beyond = abs(float(limit)) == MAX_AMOUNT  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if not beyond:
        return None
    return (f"{found} is beyond the largest figure kam accepts, +-1e15 "
            "(1,000,000,000,000,000), so that totals stay finite; check the figure and its unit")


# -- showing what was found, briefly ---------------------------------------------------------
class _Brief(reprlib.Repr):
    """reprlib with room for a readable value; whole numbers too long to print are described."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = self.maxother = self.maxlong = 60
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = 5
        self.maxdict = 4
        self.maxlevel = 2

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > 200:
            return f"<a whole number of about {int(x.bit_length() * 0.30103) + 1} digits>"
        return super().repr_int(x, level)


_BRIEF = _Brief()


def _small(value: Any, room: int, depth: int = 0) -> bool:
    """Whether the full ``repr`` of ``value`` is cheap to build and likely within ``room``."""
    if value is None or isinstance(value, bool | float):
        return True
    if isinstance(value, int):
        return value.bit_length() <= 200
    if isinstance(value, str | bytes):
        return len(value) <= room
    if isinstance(value, list | tuple | set | frozenset | dict) and depth < 2:
        items = list(value.items()) if isinstance(value, dict) else value
        return len(items) <= 10 and all(_small(v, room, depth + 1) for v in items)
    return False


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters, saying how long the value was: what an
    error message shows of the input it refuses (a 45 MB list must not make a 60 MB message).

    Examples
    --------
    >>> short_repr("Acme")
    "'Acme'"
    >>> short_repr("x" * 1_000_000)[-34:]
    "' (a text of 1,000,000 characters)"
    >>> short_repr(list(range(10**6)))
    '[0, 1, 2, 3, 4, ...] (a list of 1,000,000 items)'
    """
    if _small(value, limit):
        text = repr(value)
        if len(text) <= limit:
            return text
    text = _BRIEF.repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    size = _size(value)
    return f"{text} ({size})" if size else text


def _size(value: Any) -> str | None:
    if isinstance(value, str):
        return f"a text of {len(value):,} characters"
    if isinstance(value, bytes | bytearray):
        return f"{len(value):,} bytes"
    if isinstance(value, dict):
        return f"a mapping of {len(value):,} entries"
    if isinstance(value, list | tuple | set | frozenset):
        return f"a {type(value).__name__} of {len(value):,} items"
    return None
