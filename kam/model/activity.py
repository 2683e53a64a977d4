"""Relationship history, current projects and commitments (DOMAIN.md §1 items 3, 5; §10)."""

from __future__ import annotations

import datetime as dt
from datetime import date
from enum import StrEnum

from pydantic import Field, model_validator

from .base import FieldError, Id, KamModel, Score5, Text

__all__ = [
    "Commitment",
    "CommitmentStatus",
    "Interaction",
    "InteractionKind",
    "Project",
    "ProjectStatus",
]


class InteractionKind(StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    PRESENTATION = "presentation"
    PROPOSAL = "proposal"
    SEMINAR = "seminar"
    NEGOTIATION = "negotiation"
    OTHER = "other"


class Interaction(KamModel):
    """One contact with the client."""

    id: Id
    date: dt.date
    kind: InteractionKind
    participants: list[Id] = Field(default_factory=list, description="Ids of client persons.")
    our_participants: list[Text] = Field(default_factory=list, description="Ids of team members.")
    summary: Text = ""
    outcome: Text | None = None
    next_step: Text | None = None
    next_step_due: dt.date | None = None
    deal: Id | None = Field(None, description="Deal the contact was about, if any.")


class ProjectStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in progress"
    ON_HOLD = "on hold"
    DONE = "done"
    CANCELLED = "cancelled"


class Project(KamModel):
    """A current project with the client (DOMAIN.md §1 item 5)."""

    id: Id
    name: Text = Field(min_length=1)
    status: ProjectStatus = ProjectStatus.IN_PROGRESS
    start: date | None = None
    end: date | None = None
    satisfaction: Score5 | None = Field(None, description="Client satisfaction, 1..5.")
    quality: Score5 | None = Field(None, description="Quality of our delivery, 1..5.")
    changed_conditions: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Project:
        if self.start and self.end and self.end < self.start:
            raise FieldError("end", f"end {self.end} is before start {self.start}")
        return self


class CommitmentStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class Commitment(KamModel):
    """A promise made to the client (delivery date, upgrade, repair...). An open commitment past
    its due date is a trust warning (DOMAIN.md §10)."""

    id: Id
    description: Text = Field(min_length=1)
    due: date
    made_on: date | None = None
    status: CommitmentStatus = CommitmentStatus.OPEN
    done_on: date | None = None
    owner: Text | None = Field(None, description="Team member responsible.")
    to_person: Id | None = Field(None, description="Client person it was promised to.")

    def overdue(self, today: date) -> bool:
        """Open and past its due date on ``today``."""
        return self.status is CommitmentStatus.OPEN and self.due < today
