"""The account plan: objectives, strategies, actions and KPIs (DOMAIN.md §10)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, model_validator

from .base import Amount, FieldError, Id, KamModel, Text

__all__ = ["AccountPlan", "Action", "ActionStatus", "Kpi", "Objective", "Strategy"]


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in progress"
    DONE = "done"
    CANCELLED = "cancelled"


class Objective(KamModel):
    """A measurable objective: a metric going from ``baseline`` to ``target`` by ``due``."""

    id: Id
    title: Text = Field(min_length=1)
    metric: Text = Field(min_length=1)
    baseline: Amount
    target: Amount
    current: Amount | None = None
    start: date | None = None
    due: date
    needs: list[Id] = Field(default_factory=list, description="Needs / opportunities it serves.")
    deals: list[Id] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Objective:
        if self.start and self.due < self.start:
            raise FieldError("due", f"due date {self.due} is before the start {self.start}")
        return self


class Strategy(KamModel):
    id: Id
    title: Text = Field(min_length=1)
    objectives: list[Id] = Field(default_factory=list)


class Action(KamModel):
    """An action with an owner (a client person or one of our team) and a due date."""

    id: Id
    title: Text = Field(min_length=1)
    owner: Text = Field(min_length=1)
    due: date
    start: date | None = None
    status: ActionStatus = ActionStatus.OPEN
    done_on: date | None = None
    strategy: Id | None = None
    objective: Id | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Action:
        if self.start and self.due < self.start:
            raise FieldError("due", f"due date {self.due} is before the start {self.start}")
        return self


class Kpi(KamModel):
    """A control: a KPI with target vs actual. ``higher_is_better`` sets the direction."""

    id: Id
    name: Text = Field(min_length=1)
    target: Amount
    actual: Amount | None = None
    unit: Text | None = None
    higher_is_better: bool = True
    objective: Id | None = None


class AccountPlan(KamModel):
    """The plan for one account and one planning period."""

    period: Text = Field(min_length=1, description="e.g. 2026 or 2026-H1.")
    reviewed_on: date | None = None
    objectives: list[Objective] = Field(default_factory=list)
    strategies: list[Strategy] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)
    kpis: list[Kpi] = Field(default_factory=list)
