"""Relationship history, current projects, commitments and the KAM's assessments of the client
(DOMAIN.md §1 items 3, 5; §5; §6 regulated scenarios; §10)."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..config import load_config
from ..errors import ValidationProblem
from .base import MAX_AMOUNT, FieldError, Id, KamModel, Score5, Text, short_repr

if TYPE_CHECKING:
    from .dossier import Dossier

__all__ = [
    "Assessment",
    "Commitment",
    "CommitmentStatus",
    "Interaction",
    "InteractionKind",
    "Project",
    "ProjectStatus",
    "assessment_problems",
    "factor_scales",
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
    scenario: Id | None = Field(
        None, description="The regulated scenario (templates/scenarios.yaml) it was a step of.")
    step: Id | None = Field(None, description="The step of the scenario it was.")
    result: Text | None = Field(None, description="The result of the step (one the step defines).")

    @model_validator(mode="after")
    def _scenario_step(self) -> Interaction:
        given = {f: getattr(self, f) for f in ("scenario", "step", "result")}
        if any(v is not None for v in given.values()):
            for f, v in given.items():
                if v is None or v == "":
                    raise FieldError(f, "a scenario step records the scenario, the step and its "
                                     f"result; {f} is missing")
        return self


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


class Assessment(KamModel):
    """A judgement of prospect factors by a person on a day (DOMAIN.md §5): ``values`` maps a
    factor of the scoring configuration (``templates/scoring.yaml``) to its value on the
    factor's scale. The latest value of each factor is what prospect scoring uses."""

    id: Id
    on: date = Field(description="When the factors were judged.")
    by: Text = Field(min_length=1, description="Who judged (a team member id).")
    values: dict[str, float] = Field(min_length=1, description="Factor id -> value.")
    note: Text | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _numbers(cls, values: object) -> object:
        if not isinstance(values, dict):
            return values
        for factor, v in values.items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"factor {short_repr(factor)}: expected a number, found "
                                 f"{short_repr(v)}")
            if math.isnan(v) or abs(v) > MAX_AMOUNT:
                raise ValueError(f"factor {short_repr(factor)}: {v!r} is not a usable value")
        return values


class _Scale(BaseModel):
    model_config = ConfigDict(extra="ignore")
    min: float = 0.0
    max: float = 1.0


class _Factor(BaseModel):
    model_config = ConfigDict(extra="ignore")
    scale: _Scale = Field(default_factory=_Scale)


class _ScoringFactors(BaseModel):
    """What the dossier needs to know of the scoring configuration: its factors' scales."""

    model_config = ConfigDict(extra="ignore")
    factors: dict[str, _Factor]


@functools.cache
def _default_scales() -> dict[str, tuple[float, float]]:
    cfg = load_config(_ScoringFactors, None, default="scoring.yaml")
    return {fid: (f.scale.min, f.scale.max) for fid, f in cfg.factors.items()}


def factor_scales(scoring: Any = None) -> dict[str, tuple[float, float]]:
    """Factor id -> (min, max) of its scale: of a scoring configuration (an object with
    ``factors``, such as :class:`kam.prospects.ScoringConfig`), of a mapping factor ->
    (min, max), or (``None``) of ``templates/scoring.yaml``."""
    if scoring is None:
        return _default_scales()
    factors = getattr(scoring, "factors", None)
    if factors is not None:
        return {fid: (float(f.scale.min), float(f.scale.max)) for fid, f in factors.items()}
    if isinstance(scoring, Mapping):
        return {str(k): (float(v[0]), float(v[1])) for k, v in scoring.items()}
    raise TypeError(f"expected a scoring configuration or a mapping of factor scales, got a "
                    f"{type(scoring).__name__}")


def assessment_problems(dossier: Dossier, scoring: Any = None,
                        file: str | None = None) -> list[ValidationProblem]:
    """Assessed factors the scoring configuration (``scoring``, default
    ``templates/scoring.yaml``, read only when the dossier holds an assessment) does not know,
    and values outside their factor's scale.

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier
    >>> from kam.model.activity import Assessment
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), assessments=[Assessment(
    ...     id="AS1", on=date(2026, 3, 2), by="ann", values={"competitors": 7})])
    >>> print(assessment_problems(d)[0])
    account ACME / assessments[0] (AS1), field 'values.competitors': 7 is outside the scale 1..5 \
of factor 'competitors'
    """
    if not dossier.assessments:
        return []
    scales = factor_scales(scoring)
    out = []
    for i, a in enumerate(dossier.assessments):
        rec = f"account {dossier.account.id} / assessments[{i}] ({a.id})"
        for fid, value in a.values.items():
            if fid not in scales:
                out.append(ValidationProblem(rec, f"values.{fid}", (
                    f"unknown factor {short_repr(fid)}; factors: {', '.join(scales)}"), file))
                continue
            lo, hi = scales[fid]
            if not lo <= value <= hi:
                out.append(ValidationProblem(rec, f"values.{fid}", (
                    f"{value:g} is outside the scale {lo:g}..{hi:g} of factor {fid!r}"), file))
    return out
