"""Client rating entries (DOMAIN.md §8)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from .base import LINE_ID_HELP, Amount, Id, KamModel, Text

__all__ = ["RatingEntry", "RatingKind"]


class RatingKind(StrEnum):
    STATUS = "status"  # from the results of work with the client, per campaign/event
    EVENT = "event"  # assigned once for a campaign/event
    PERSONAL = "personal"  # assigned once by the manager to flag a priority client


class RatingEntry(KamModel):
    id: Id | None = Field(None, description=LINE_ID_HELP)
    kind: RatingKind
    points: Amount
    on: date
    campaign: Text | None = None
    by: Text | None = None
    note: Text | None = None
