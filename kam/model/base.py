"""Shared base of the dossier records: strict pydantic models with stable ids."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "ID_PATTERN",
    "LINE_ID_HELP",
    "PERIOD_PATTERN",
    "FieldError",
    "Fraction",
    "Id",
    "KamModel",
    "Money",
    "Period",
    "Score5",
    "check_id",
    "check_period",
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
            f"{value!r} is not a valid id: use 1-64 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    return value


_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$")


def check_period(value: str) -> str:
    """Accept a year ``2025``, a month ``2025-03`` or a quarter ``2025-Q1``."""
    if not _PERIOD.match(value):
        raise ValueError(
            f"{value!r} is not a period: write a year (2025), a month (2025-03) "
            "or a quarter (2025-Q1)"
        )
    return value


ID_PATTERN = _ID.pattern
PERIOD_PATTERN = _PERIOD.pattern

# The patterns are checked by pydantic's core (fast); kam.model.dossier turns a mismatch into the
# friendly messages of _check_id / check_period.
Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""A stable record id: letters, digits, ``-``, ``_``, ``.``."""

Period = Annotated[str, StringConstraints(pattern=PERIOD_PATTERN)]
"""A year, month or quarter, written ``2025``, ``2025-03`` or ``2025-Q1``."""

Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]
"""A non-negative amount of money in the workspace currency."""

LINE_ID_HELP = "Stable id; assigned on first validation when left out (e.g. R-1, C-2)."

Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""A share or probability between 0 and 1."""

Score5 = Annotated[int, Field(ge=1, le=5)]
"""A 1 (worst) .. 5 (best) rating."""
