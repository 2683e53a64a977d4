"""The opportunity matrix: the client's needs against our capabilities (DOMAIN.md §4).

Each need is placed by two scores: its **significance** for the client and our **capability**
(resources and proven experience) to meet it. A score at or above its axis' threshold is
*high*; the four zones and their recommended actions:

============  ============  ==========  ===================================================
zone          significance  capability  what to do
============  ============  ==========  ===================================================
no interest   low           low         suspend work on it
risk          high          low         suspend; the unmet need feeds the product backlog
potential     low           high        go on, and raise the problem's significance
deal          high          high        go on: we solve this well, with proven experience
============  ============  ==========  ===================================================

Scales, thresholds, labels and action texts live in ``templates/opportunities.yaml``
(:class:`OpportunityConfig`). Needs in *potential* and *deal* pass to the prospect assessment
(:func:`next_analysis`); *risk* needs form the product-development backlog (:func:`backlog`);
every need we cannot meet yet is a direction for developing our offer (:func:`unmet_needs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .config import ConfigSource, load_config
from .errors import InputError, ValidationProblem
from .model import Dossier, Need, NeedLevel

__all__ = [
    "BACKLOG_ZONES",
    "PROCEED_ZONES",
    "ZONES",
    "Axis",
    "OpportunityConfig",
    "ZoneText",
    "backlog",
    "load_opportunity_config",
    "next_analysis",
    "opportunity_matrix",
    "portfolio_matrix",
    "unassessed",
    "unmet_needs",
    "zone_counts",
    "zone_of",
]

ZONES = ("no interest", "risk", "potential", "deal")
"""The four zones, in the order of DOMAIN.md §4."""
_AXES = {  # zone -> (significance high, capability high)
    "no interest": (False, False), "risk": (True, False),
    "potential": (False, True), "deal": (True, True),
}
_BY_AXES = {v: k for k, v in _AXES.items()}
PROCEED_ZONES = frozenset({"potential", "deal"})
"""Zones whose needs pass on to the prospect assessment (DOMAIN.md §5)."""
BACKLOG_ZONES = frozenset({"risk"})
"""Zones whose needs feed our product-development backlog."""

MATRIX_COLUMNS = [
    "need", "title", "level", "function", "prospective", "significance", "capability",
    "significance_high", "capability_high", "zone", "zone_label", "action", "proceed",
    "backlog", "product", "volume",
]


class Axis(BaseModel):
    """One axis of the matrix: its scale and the threshold between low and high."""

    model_config = ConfigDict(extra="forbid")
    label: str
    min: float
    max: float
    threshold: float = Field(description="A score at or above it counts as high.")

    @model_validator(mode="after")
    def _ordered(self) -> Axis:
        if not self.min < self.max:
            raise ValueError(f"min {self.min:g} must be below max {self.max:g}")
        if not self.min < self.threshold < self.max:
            raise ValueError(f"threshold {self.threshold:g} must lie strictly between min "
                             f"{self.min:g} and max {self.max:g}")
        return self


class ZoneText(BaseModel):
    """How a zone is called and what to do with its needs."""

    model_config = ConfigDict(extra="forbid")
    label: str
    action: str


class OpportunityConfig(BaseModel):
    """The matrix configuration (``templates/opportunities.yaml``)."""

    model_config = ConfigDict(extra="forbid")
    significance: Axis
    capability: Axis
    zones: dict[str, ZoneText]
    levels: list[NeedLevel] = Field(default_factory=lambda: list(NeedLevel))
    horizon_years: int = Field(3, ge=1, le=10, description="Horizon for developing our offer.")

    @field_validator("zones")
    @classmethod
    def _known_zones(cls, zones: dict[str, ZoneText]) -> dict[str, ZoneText]:
        unknown = sorted(set(zones) - set(ZONES))
        if unknown:
            raise ValueError(f"unknown zone {unknown[0]!r}; the zones are: "
                             f"{', '.join(ZONES)}")
        missing = [z for z in ZONES if z not in zones]
        if missing:
            raise ValueError(f"zone {missing[0]!r} is missing; give all of: {', '.join(ZONES)}")
        return zones


def load_opportunity_config(source: ConfigSource = None, **overrides: Any) -> OpportunityConfig:
    """Read the opportunity matrix settings (default: ``templates/opportunities.yaml``).

    ``source`` may also be a :class:`OpportunityConfig` or a mapping of the settings to change;
    keyword arguments change single settings. Errors
    (:class:`~kam.errors.ConfigError`) name the file and the setting.
    """
    return load_config(OpportunityConfig, source, default="opportunities.yaml",
                       overrides=overrides)

def zone_of(significance: float, capability: float, config: OpportunityConfig) -> str:
    """The zone of one need.

    Examples
    --------
    >>> cfg = load_opportunity_config()
    >>> zone_of(5, 2, cfg), zone_of(2, 5, cfg), zone_of(4, 4, cfg), zone_of(3, 3, cfg)
    ('risk', 'potential', 'deal', 'no interest')
    """
    return _BY_AXES[(significance >= config.significance.threshold,
                     capability >= config.capability.threshold)]


def _needs_of(needs: Dossier | Iterable[Need]) -> list[Need]:
    return list(needs.needs) if isinstance(needs, Dossier) else list(needs)


def opportunity_matrix(
    needs: Dossier | Iterable[Need],
    config: OpportunityConfig | Mapping[str, Any] | None = None,
    *,
    missing: Literal["error", "skip"] = "error",
    record: str = "",
) -> pd.DataFrame:
    """Place every need of the configured levels in its zone, with the recommended action.

    A score outside its axis' scale is an :class:`~kam.errors.InputError` naming the need; so is
    a missing score unless ``missing="skip"`` (then the need is left out; :func:`unassessed`
    lists it). ``record`` prefixes the record names in errors (e.g. ``"account ACME / "``).

    Examples
    --------
    >>> from kam.model import Need
    >>> m = opportunity_matrix([
    ...     Need(id="N1", title="Downtime", significance=5, capability=4),
    ...     Need(id="N2", title="Packaging", significance=2, capability=1)])
    >>> m[["need", "zone", "proceed"]].values.tolist()
    [['N1', 'deal', True], ['N2', 'no interest', False]]
    """
    cfg = load_opportunity_config(config)
    levels = set(cfg.levels)
    problems, rows = [], []
    for n in _needs_of(needs):
        if n.level not in levels:
            continue
        scores = {}
        for axis_name in ("significance", "capability"):
            axis: Axis = getattr(cfg, axis_name)
            value = getattr(n, axis_name)
            if value is None:
                if missing == "error":
                    problems.append(ValidationProblem(
                        f"{record}need {n.id}", axis_name,
                        f"no {axis_name} score; give one on the scale {axis.min:g}..{axis.max:g}"
                        " (or pass missing='skip' to leave the need out)"))
            elif not axis.min <= value <= axis.max:
                problems.append(ValidationProblem(
                    f"{record}need {n.id}", axis_name,
                    f"{axis_name} {value:g} is outside the scale {axis.min:g}..{axis.max:g}; "
                    "correct the score or the scale in opportunities.yaml"))
            scores[axis_name] = value
        sig, cap = scores["significance"], scores["capability"]
        if sig is None or cap is None or problems:
            continue
        zone = zone_of(sig, cap, cfg)
        rows.append({
            "need": n.id, "title": n.title, "level": n.level.value, "function": n.function,
            "prospective": n.prospective, "significance": float(sig), "capability": float(cap),
            "significance_high": _AXES[zone][0], "capability_high": _AXES[zone][1],
            "zone": zone, "zone_label": cfg.zones[zone].label, "action": cfg.zones[zone].action,
            "proceed": zone in PROCEED_ZONES, "backlog": zone in BACKLOG_ZONES,
            "product": n.product, "volume": n.volume,
        })
    if problems:
        raise InputError(problems)
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS)


def unassessed(needs: Dossier | Iterable[Need],
               config: OpportunityConfig | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Needs of the configured levels that still lack a significance or capability score."""
    cfg = load_opportunity_config(config)
    rows = [
        {"need": n.id, "title": n.title, "level": n.level.value,
         "missing": [f for f in ("significance", "capability") if getattr(n, f) is None]}
        for n in _needs_of(needs)
        if n.level in set(cfg.levels) and (n.significance is None or n.capability is None)
    ]
    return pd.DataFrame(rows, columns=["need", "title", "level", "missing"])


def next_analysis(matrix: pd.DataFrame) -> pd.DataFrame:
    """The needs that pass on to the prospect assessment: zones *potential* and *deal*."""
    return matrix[matrix["zone"].isin(PROCEED_ZONES)].reset_index(drop=True)


def backlog(matrix: pd.DataFrame) -> pd.DataFrame:
    """The product-development backlog: needs in *risk*, most significant first (then those
    closest to our reach)."""
    risk = matrix[matrix["zone"].isin(BACKLOG_ZONES)]
    return risk.sort_values(["significance", "capability", "need"],
                            ascending=[False, False, True]).reset_index(drop=True)


def unmet_needs(matrix: pd.DataFrame,
                config: OpportunityConfig | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Every need we cannot meet yet (capability low: *risk*, then *no interest*), with the gap
    to the capability threshold and the horizon for developing our offer."""
    cfg = load_opportunity_config(config)
    low = matrix[~matrix["capability_high"].astype(bool)].copy()
    low["capability_gap"] = cfg.capability.threshold - low["capability"]
    low["horizon_years"] = cfg.horizon_years
    low["_z"] = low["zone"].map({"risk": 0, "no interest": 1})
    keys = ["account_id"] if "account_id" in low.columns else []
    low = low.sort_values([*keys, "_z", "significance", "capability_gap", "need"],
                          ascending=[*[True] * len(keys), True, False, True, True])
    low["priority"] = range(1, len(low) + 1)
    cols = [*keys, "priority", "need", "title", "function", "zone", "significance",
            "capability", "capability_gap", "horizon_years"]
    return low[cols].reset_index(drop=True)


def portfolio_matrix(
    dossiers: Iterable[Dossier],
    config: OpportunityConfig | Mapping[str, Any] | None = None,
    *,
    missing: Literal["error", "skip"] = "error",
) -> pd.DataFrame:
    """The matrices of many accounts in one frame (``account_id`` and ``account`` first).
    Errors name the account and the need; all accounts are checked before raising."""
    cfg = load_opportunity_config(config)
    frames, problems = [], []
    for d in dossiers:
        try:
            m = opportunity_matrix(d, cfg, missing=missing, record=f"account {d.id} / ")
        except InputError as e:
            problems.extend(e.problems)
            continue
        m.insert(0, "account", d.account.name)
        m.insert(0, "account_id", d.id)
        frames.append(m)
    if problems:
        raise InputError(problems)
    cols = ["account_id", "account", *MATRIX_COLUMNS]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def zone_counts(matrix: pd.DataFrame) -> pd.DataFrame:
    """Needs per zone (all four zones as columns, zeros included) and ``total``; one row per
    account for a portfolio matrix, else a single row ``all``."""
    key = matrix["account_id"] if "account_id" in matrix.columns else pd.Series(
        ["all"] * len(matrix), index=matrix.index, dtype=object)
    counts: Mapping[str, pd.Series] = {
        z: (matrix["zone"] == z).groupby(key).sum().astype(int) for z in ZONES}
    out = pd.DataFrame(counts).reindex(columns=list(ZONES))
    if out.empty:
        out = pd.DataFrame({z: [0] for z in ZONES}, index=pd.Index(["all"]))
    out["total"] = out[list(ZONES)].sum(axis=1)
    out.index.name = "account_id"
    return out
