"""The sales stage model: the stages a deal can be in, in order (DOMAIN.md §1, §6).

The stage model is configuration (``templates/stages.yaml``): the five stages of DOMAIN.md §1 by
default, with aliases that map a CRM's own stage names onto them. Every save and every import
checks deal stages against it (:func:`stage_problems`); the funnel counts deals along it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config import load_config
from ..errors import InputError, ValidationProblem
from .base import short_repr

if TYPE_CHECKING:
    from .dossier import Dossier

__all__ = ["Stage", "StageModel", "default_stages", "load_stages", "stage_problems"]


def _key(name: object) -> str:
    return " ".join(str(name).split()).casefold()


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    label: str | None = None


class StageModel(BaseModel):
    """Ordered sales stages, the stage a won deal reaches, and aliases for a CRM's names."""

    model_config = ConfigDict(extra="forbid")
    stages: list[Stage] = Field(min_length=2)
    won_stage: str | None = None
    aliases: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> StageModel:
        ids = [_key(s.id) for s in self.stages]
        valid = ", ".join(s.id for s in self.stages)
        if len(set(ids)) != len(ids):
            raise ValueError(f"stage ids must be unique, got {valid}")
        if self.won_stage is not None and _key(self.won_stage) not in ids:
            raise ValueError(f"won_stage {self.won_stage!r} is not a stage; stages: {valid}")
        for alias, target in self.aliases.items():
            if _key(target) not in ids:
                raise ValueError(
                    f"alias {alias!r} maps to {target!r}, not a stage; stages: {valid}")
        return self

    @classmethod
    def of(cls, ids: Sequence[str], won_stage: str | None = None,
           aliases: dict[str, str] | None = None) -> StageModel:
        """A stage model from stage ids, e.g. ``StageModel.of(["contact", "offer"])``."""
        return cls(stages=[Stage(id=i) for i in ids], won_stage=won_stage, aliases=aliases or {})

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.stages]

    @property
    def labels(self) -> list[str]:
        return [s.label or s.id for s in self.stages]

    def known_names(self) -> frozenset[str]:
        """Every stage id and alias, folded as :meth:`position` compares them."""
        return frozenset([_key(s.id) for s in self.stages] + [_key(a) for a in self.aliases])

    def unknown_message(self, name: object) -> str:
        """What to say of a stage name the model does not know."""
        aliases = ", ".join(f"{a} -> {t}" for a, t in self.aliases.items()) or "none"
        return (f"unknown deal stage {short_repr(name)}; valid: {', '.join(self.ids)} "
                f"(aliases: {aliases})")

    def canonical(self, name: str) -> str:
        """The stage id of a stage name (an id or an alias); ``ValueError`` if unknown."""
        return self.ids[self.position(name)]

    def position(self, name: str) -> int:
        """The 0-based position of stage ``name`` (an id or an alias; case does not matter)."""
        lookup = {_key(s.id): i for i, s in enumerate(self.stages)}
        lookup.update({_key(a): lookup[_key(t)] for a, t in self.aliases.items()})
        try:
            return lookup[_key(name)]
        except KeyError:
            raise ValueError(
                f"{short_repr(name)} is not a stage; stages: {', '.join(self.ids)}") from None

    def positions(self, values: pd.Series, frame: pd.DataFrame, *, what: str) -> np.ndarray:
        """The 0-based position of each stage name in ``values``; an unknown name raises
        :class:`~kam.errors.InputError` listing the valid stages."""
        lookup = {_key(s.id): i for i, s in enumerate(self.stages)}
        lookup.update({_key(a): lookup[_key(t)] for a, t in self.aliases.items()})
        codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=False)
        pos = np.array([lookup.get(_key(u), -1) if isinstance(u, str) else -1 for u in uniques],
                       dtype=np.int64)
        problems = []
        for i in np.flatnonzero(pos < 0):
            rows = frame[codes == i]
            first = rows.iloc[0]
            deal = first.get("id", first.get("deal_id"))
            aliases = ", ".join(f"{a} -> {t}" for a, t in self.aliases.items()) or "none"
            problems.append(ValidationProblem(
                record=f"{len(rows)} {what} (e.g. deal {deal} of account {first['account_id']})",
                field="stage",
                message=f"unknown stage {short_repr(uniques[int(i)])}; valid stages: "
                        f"{', '.join(self.ids)} "
                        f"(aliases: {aliases}); add it to 'aliases' in stages.yaml to map it "
                        "onto a stage",
            ))
        if problems:
            raise InputError(problems)
        return pos[codes] if len(pos) else np.empty(0, dtype=np.int64)


def load_stages(path: str | Path | None = None) -> StageModel:
    """Read the stage model (default: ``templates/stages.yaml``)."""
    if path is None:
        return default_stages()
    return load_config(StageModel, path, default="stages.yaml")


@functools.cache
def default_stages() -> StageModel:
    """The stage model of ``templates/stages.yaml`` (read once)."""
    return load_config(StageModel, None, default="stages.yaml")


def stage_problems(dossier: Dossier, stages: StageModel | None = None,
                   file: str | None = None) -> list[ValidationProblem]:
    """Deal stages (current and in the history) that the stage model (default
    ``templates/stages.yaml``; ids or aliases, case does not matter) does not know."""
    model = stages or default_stages()
    known = model.known_names()
    out = []
    for i, d in enumerate(dossier.deals):
        rec = f"account {dossier.account.id} / deals[{i}] ({d.id})"
        for field, stage in [("stage", d.stage),
                             *((f"history[{j}].stage", h.stage) for j, h in enumerate(d.history))]:
            if _key(stage) not in known:
                out.append(ValidationProblem(rec, field, model.unknown_message(stage), file))
    return out
