"""Deals with an account (DOMAIN.md §6, §9)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from ..errors import InputError, ValidationProblem
from .account import DecisionStage
from .base import FieldError, Fraction, Id, KamModel, Money, Quantity, Text, short_repr

__all__ = ["Deal", "DealOutcome", "StageChange"]


class DealOutcome(StrEnum):
    """Defined outcomes of a deal (DOMAIN.md §6)."""

    OPEN = "open"
    WON = "won"  # the client orders
    REFUSED = "refused"  # the client refuses, with a reason
    DECLINED = "declined"  # we decline the client


class StageChange(KamModel):
    """The deal entered ``stage`` on ``on``."""

    stage: Text = Field(min_length=1)
    on: date


class Deal(KamModel):
    """A deal. ``stage`` is a stage name of the workspace's stage model (the five stages of
    DOMAIN.md §1 by default). Budgets go planned -> refined -> actual (DOMAIN.md §9)."""

    id: Id
    title: Text = Field(min_length=1)
    stage: Text = Field("lead", min_length=1)
    outcome: DealOutcome = DealOutcome.OPEN
    manager: Text | None = Field(None, description="Id of the client-manager working it.")
    product: Text | None = None
    product_group: Text | None = None
    need: Id | None = Field(None, description="The need (need map node) it serves.")
    volume: Quantity | None = None
    planned_budget: Money | None = None
    refined_budget: Money | None = None
    actual_budget: Money | None = None
    probability: Fraction | None = None
    created: date | None = None
    plan_date: date | None = Field(None, description="When the planned budget was set.")
    expected_close: date | None = None
    closed_on: date | None = None
    period: Text | None = Field(None, description="Planning period the budget belongs to.")
    refusal_reason: Text | None = None
    delivery_terms: Text | None = None
    contract_terms: Text | None = None
    history: list[StageChange] = Field(default_factory=list)
    for_persons: list[Id] = Field(default_factory=list, description="Client persons in favour.")
    against_persons: list[Id] = Field(default_factory=list, description="Client persons against.")
    next_steps: Text | None = None
    risks: list[Text] = Field(default_factory=list)
    decision_stage: DecisionStage | None = Field(
        None, description="The client's decision stage for this deal (DOMAIN.md Appendix B); "
        "a client can be at different stages for different deals.")

    @model_validator(mode="after")
    def _consistent(self) -> Deal:
        if self.outcome is DealOutcome.REFUSED and not self.refusal_reason:
            raise FieldError(
                "refusal_reason", "a refused deal needs a refusal_reason (e.g. 'high price')")
        if self.closed_on and self.created and self.closed_on < self.created:
            raise FieldError(
                "closed_on", f"closed_on {self.closed_on} is before created {self.created}")
        if self.closed_on and self.plan_date and self.closed_on < self.plan_date:
            raise FieldError(
                "closed_on", f"closed_on {self.closed_on} (actual) is before plan_date "
                f"{self.plan_date}")
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        # A stage move must record the stage history and pass the gate: it goes through
        # Dossier.move_deal, never through plain assignment.
        if name == "stage" and value != self.__dict__.get("stage"):
            raise InputError([ValidationProblem(
                f"deal {self.id}", "stage",
                f"set a deal's stage with dossier.move_deal({self.id!r}, {short_repr(value)}, "
                "on=...): it records the stage history and checks the stage gate")])
        super().__setattr__(name, value)

    @property
    def is_open(self) -> bool:
        return self.outcome is DealOutcome.OPEN
