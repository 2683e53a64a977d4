"""Client rating entries (DOMAIN.md §8)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from .base import LINE_ID_HELP, Id, KamModel

__all__ = ["RatingEntry", "RatingKind"]


class RatingKind(StrEnum):
    STATUS = "status"  # from the results of work with the client, per campaign/event
    EVENT = "event"  # assigned once for a campaign/event
    PERSONAL = "personal"  # assigned once by the manager to flag a priority client


class RatingEntry(KamModel):
    id: Id | None = Field(None, description=LINE_ID_HELP)
    kind: RatingKind
    points: float = Field(allow_inf_nan=False)
    on: date
    campaign: str | None = None
    by: str | None = None
    note: str | None = None
