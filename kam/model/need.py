"""Needs: the nodes of the need map and the input of the opportunity matrix (DOMAIN.md §2, §4)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from .base import Id, KamModel, Money, Quantity, Text

__all__ = ["Awareness", "Motivation", "Need", "NeedLevel"]


class NeedLevel(StrEnum):
    """Layer of the need map: problems at the bottom, criteria in the middle, effects on top."""

    PROBLEM = "problem"
    CRITERION = "criterion"
    EFFECT = "effect"

    @property
    def rank(self) -> int:
        """0 for problems, 1 for criteria, 2 for effects: edges go from lower to higher rank."""
        return list(NeedLevel).index(self)


class Awareness(StrEnum):
    """How aware the client is of a problem (DOMAIN.md §2)."""

    UNAWARE = "unaware"
    AWARE_NO_SOLUTION = "aware, no solution"
    SOLVING = "solving"


class Motivation(StrEnum):
    """Whether a need-map factor is a business or a personal motivation."""

    BUSINESS = "business"
    PERSONAL = "personal"


class Need(KamModel):
    """One node of the need map: a problem, a technical criterion or an expected effect.

    ``leads_to`` lists the ids of the nodes above it (problem -> criterion -> effect, or
    problem -> effect). ``significance`` and ``capability`` place it in the opportunity matrix;
    ``product``, ``volume`` and ``wanted_date`` are what stage 3 of the sales process needs.
    """

    id: Id
    title: Text = Field(min_length=1)
    level: NeedLevel = NeedLevel.PROBLEM
    function: Text | None = Field(None, description="Department (or person) that owns it.")
    persons: list[Id] = Field(default_factory=list, description="Client persons interested.")
    cause: Text | None = Field(None, description="For a problem: its cause.")
    goal: Text | None = Field(None, description="For an effect: the client's goal that needs it.")
    awareness: Awareness | None = None
    motivation: Motivation = Motivation.BUSINESS
    leads_to: list[Id] = Field(default_factory=list)
    significance: Quantity | None = Field(
        None,
        description="Significance for the client (scale in config).",
    )
    capability: Quantity | None = Field(
        None,
        description="Our resources and experience (scale in config).",
    )
    prospective: bool = Field(
        False, description="A prospective (future) need, DOMAIN.md §1 item 8."
    )
    evaluation: Text | None = Field(None, description="How the client will judge it is met.")
    product: Text | None = None
    volume: Money | None = None
    wanted_date: date | None = None
