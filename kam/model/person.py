"""Persons of the client and the links between them (DOMAIN.md §1 item 4, §3)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, model_validator

from .base import LINE_ID_HELP, FieldError, Fraction, Id, KamModel, Text

__all__ = ["Attitude", "BuyingRole", "Employment", "Person", "PersonLink"]


class BuyingRole(StrEnum):
    """Roles in the buying center. ``entry``, ``pain`` and ``power`` are the three points of the
    entry strategy (DOMAIN.md §3); the others are the classic buying-center roles."""

    ENTRY = "entry"
    PAIN = "pain"
    POWER = "power"
    USER = "user"
    INFLUENCER = "influencer"
    BUYER = "buyer"
    GATEKEEPER = "gatekeeper"


class Attitude(StrEnum):
    """A person's attitude to us."""

    SUPPORTER = "supporter"
    NEUTRAL = "neutral"
    DETRACTOR = "detractor"


class Employment(KamModel):
    """One job in a person's employment history."""

    company: Text
    position: Text | None = None
    start: date | None = None
    end: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Employment:
        if self.start and self.end and self.end < self.start:
            raise FieldError("end", f"end {self.end} is before start {self.start}")
        return self


class Person(KamModel):
    """A contact person of the client. A person who left is kept, with ``left_on`` set."""

    id: Id
    name: Text = Field(min_length=1)
    position: Text | None = None
    department: Text | None = Field(None, description="Function / department.")
    roles: list[BuyingRole] = Field(default_factory=list)
    influence: Fraction = Field(0.5, description="Weight in the buying decision, 0..1.")
    attitude: Attitude = Attitude.NEUTRAL
    personal_motivation: Text | None = None
    business_motivation: Text | None = None
    phone: Text | None = None
    email: Text | None = None
    reached_by: list[Text] = Field(
        default_factory=list, description="Ids of our team members who are in contact with them."
    )
    left_on: date | None = Field(None, description="Date the person left the client.")
    employment: list[Employment] = Field(default_factory=list)
    notes: Text | None = None

    @property
    def active(self) -> bool:
        """``False`` once the person has left the client."""
        return self.left_on is None


class PersonLink(KamModel):
    """``source`` can influence or introduce us to ``target`` with a strength 0..1."""

    id: Id | None = Field(None, description=LINE_ID_HELP)
    source: Id
    target: Id
    strength: Fraction = 0.5
    kind: Text = Field("influences", description="e.g. influences, reports to, knows.")
