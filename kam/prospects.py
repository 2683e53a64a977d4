"""Prospect assessment, the "determination map": how promising is an account (DOMAIN.md §5)?

A weighted factor model over three groups: **the client** (profile, financial state,
relationship history, our knowledge of its key persons), **the current needs** (our ability to
influence the decision, capability match, potential volume, added value) and **the risks**
(competitors, technology, ecology, quality claims, controllability, our resources). Factors,
weights and scales are configuration (``templates/scoring.yaml``, :class:`ScoringConfig`).

Every factor value lies on 0..1 (1 = best for us); the score is
``score_max * sum(weight * value) / sum(weight)``, so it stays within ``0..score_max`` and
breaks into one contribution per factor that adds up to it exactly (``math.fsum``).

Where values come from: a **computed** factor is worked out from the dossier
(:data:`COMPUTED`); an **assessment** is judged by a person and kept in the dossier
(``dossier.assess_prospect({"factor id": value}, by=..., on=...)``: the latest value of each
factor counts) or passed through the ``assessments`` argument (``{"factor id": value}`` on the
factor's scale; then the stored ones are not used); an assessment of a computed factor overrides
it, on 0..1; the factor's ``default`` in the config fills in when there is no value.
The ``source`` column of :attr:`ProspectScore.contributions` says which of the three it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .buying_center import BuyingCenter
from .config import ConfigSource, load_config
from .errors import InputError, ValidationProblem
from .model import Account, Dossier, Team
from .opportunities import OpportunityConfig, load_opportunity_config, opportunity_matrix

__all__ = [
    "COMPUTED",
    "GROUPS",
    "FactorSpec",
    "ProspectScore",
    "ScoringConfig",
    "latest_assessments",
    "load_scoring_config",
    "prospect_score",
    "rank_prospects",
]

GROUPS = ("client", "needs", "risks")
"""The three groups of factors of DOMAIN.md §5."""


class Scale(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if not self.min < self.max:
            raise ValueError(f"min {self.min:g} must be below max {self.max:g}")
        return self


class FactorSpec(BaseModel):
    """One factor: its group, weight, where its value comes from and its scale."""

    model_config = ConfigDict(extra="forbid")
    group: str
    label: str
    source: Literal["computed", "assessment"]
    weight: float = Field(ge=0, allow_inf_nan=False)
    scale: Scale = Field(default_factory=lambda: Scale(min=0, max=1))
    better: Literal["high", "low"] = "high"
    default: float | None = None
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> FactorSpec:
        if self.source == "computed" and (self.scale.min, self.scale.max) != (0, 1):
            raise ValueError("a computed factor is on the scale 0..1; remove its scale")
        if self.default is not None and not self.scale.min <= self.default <= self.scale.max:
            raise ValueError(f"default {self.default:g} is outside the scale "
                             f"{self.scale.min:g}..{self.scale.max:g}")
        return self


class Settings(BaseModel):
    """Parameters of the computed factors."""

    model_config = ConfigDict(extra="forbid")
    profile_fields: list[str]
    recency_days: int = Field(gt=0)
    volume_reference: float = Field(gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _known_fields(self) -> Settings:
        known = set(Account.model_fields)
        for f in self.profile_fields:
            if f not in known:
                raise ValueError(f"profile_fields: unknown account field {f!r}; fields are: "
                                 f"{', '.join(sorted(known))}")
        return self


class GroupSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str


class ScoringConfig(BaseModel):
    """The scoring configuration (``templates/scoring.yaml``)."""

    model_config = ConfigDict(extra="forbid")
    score_max: float = Field(100, gt=0, allow_inf_nan=False)
    groups: dict[str, GroupSpec]
    settings: Settings
    factors: dict[str, FactorSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ScoringConfig:
        for g in self.groups:
            if g not in GROUPS:
                raise ValueError(f"groups: unknown group {g!r}; groups are: {', '.join(GROUPS)}")
        for fid, f in self.factors.items():
            if f.group not in self.groups:
                raise ValueError(f"factor {fid!r}: unknown group {f.group!r}; groups are: "
                                 f"{', '.join(self.groups)}")
            if f.source == "computed" and fid not in COMPUTED:
                raise ValueError(f"factor {fid!r} is 'computed' but kam computes no such "
                                 f"factor; computed factors are: {', '.join(COMPUTED)}; "
                                 "or make it source: assessment")
        if sum(f.weight for f in self.factors.values()) <= 0:
            raise ValueError("all factor weights are zero; give at least one a positive weight")
        return self


def load_scoring_config(source: ConfigSource = None, **overrides: Any) -> ScoringConfig:
    """Read the prospect scoring (default: ``templates/scoring.yaml``).

    ``source`` may also be a :class:`ScoringConfig` or a mapping of the settings to change;
    keyword arguments change single settings. Errors
    (:class:`~kam.errors.ConfigError`) name the file and the setting.
    """
    return load_config(ScoringConfig, source, default="scoring.yaml",
                       overrides=overrides)

# -- computed factors (each returns a value on 0..1, or None when the dossier has no data) ----
@dataclass(frozen=True)
class _Context:
    dossier: Dossier
    settings: Settings
    today: date
    opportunities: OpportunityConfig
    team: Team | None


def _profile_completeness(c: _Context) -> float | None:
    a = c.dossier.account
    fields = c.settings.profile_fields
    return sum(1 for f in fields if getattr(a, f) not in (None, "", [])) / len(fields) \
        if fields else None


_TREND = {"growing": 1.0, "stable": 0.6, "declining": 0.2}
_PAYMENT = {"good": 1.0, "late": 0.5, "poor": 0.0}
_CREDIT = {"low": 1.0, "medium": 0.5, "high": 0.0}


def _financial_state(c: _Context) -> float | None:
    f = c.dossier.account.financial
    parts = [table[v.value] for v, table in ((f.trend, _TREND), (f.payment_discipline, _PAYMENT),
                                            (f.credit_risk, _CREDIT)) if v is not None]
    return sum(parts) / len(parts) if parts else None


def _relationship_recency(c: _Context) -> float | None:
    past = [x.date for x in c.dossier.interactions if x.date <= c.today]
    if not past:
        return 0.0
    days = (c.today - max(past)).days
    return max(0.0, 1.0 - days / c.settings.recency_days)


def _project_delivery(c: _Context) -> float | None:
    marks = [(m - 1) / 4 for p in c.dossier.projects for m in (p.satisfaction, p.quality)
             if m is not None]
    return sum(marks) / len(marks) if marks else None


def _key_person_knowledge(c: _Context) -> float | None:
    bc = BuyingCenter.from_dossier(c.dossier, c.team)
    return sum(1 for r in ("entry", "pain", "power") if bc.holders(r)) / 3


def _influence_on_decision(c: _Context) -> float | None:
    chains = BuyingCenter.from_dossier(c.dossier, c.team).entry_chains()
    return float(chains["strength"].max()) if not chains.empty else 0.0


def _matrix(c: _Context) -> pd.DataFrame:
    return opportunity_matrix(c.dossier, c.opportunities, missing="skip")


def _capability_match(c: _Context) -> float | None:
    m = _matrix(c)
    if m.empty:
        return None
    s, k = c.opportunities.significance, c.opportunities.capability
    sig = (m["significance"] - s.min) / (s.max - s.min)
    cap = (m["capability"] - k.min) / (k.max - k.min)
    total = float(sig.sum())
    return float((sig * cap).sum()) / total if total > 0 else float(cap.mean())


def _potential_volume(c: _Context) -> float | None:
    m = _matrix(c)
    volume = float(m.loc[m["proceed"].astype(bool), "volume"].fillna(0.0).sum()) \
        if not m.empty else 0.0
    return min(1.0, volume / c.settings.volume_reference)


COMPUTED: dict[str, Callable[[_Context], float | None]] = {
    "profile_completeness": _profile_completeness,
    "financial_state": _financial_state,
    "relationship_recency": _relationship_recency,
    "project_delivery": _project_delivery,
    "key_person_knowledge": _key_person_knowledge,
    "influence_on_decision": _influence_on_decision,
    "capability_match": _capability_match,
    "potential_volume": _potential_volume,
}
"""Factors kam computes from a dossier (each documented in ``templates/scoring.yaml``):
share of profile fields filled; financial state; recency of the last contact; project
satisfaction and quality; share of entry/pain/power points held by an active person; strength
of the best entry chain to a power point; significance-weighted capability of the assessed
needs; volume of the needs in *potential* and *deal* against ``volume_reference``."""

CONTRIBUTION_COLUMNS = ["group", "factor", "label", "source", "raw", "value", "weight",
                        "weight_share", "contribution", "max_contribution", "lost"]


@dataclass(frozen=True)
class ProspectScore:
    """The score of one account and its explanation.

    ``contributions`` has one row per factor: ``raw`` (on the factor's scale), ``value``
    (0..1, 1 = best), ``weight``, ``contribution`` (adds up to ``score`` exactly with
    :func:`math.fsum`), ``max_contribution`` (with value 1) and ``lost`` (the difference).
    """

    account_id: str
    account: str
    score: float
    score_max: float
    contributions: pd.DataFrame

    def by_group(self) -> pd.DataFrame:
        """Contribution, maximum and weight per group, in the order client, needs, risks."""
        c = self.contributions
        out = c.groupby("group", sort=False)[["contribution", "max_contribution", "weight"]].sum()
        return out.reindex([g for g in GROUPS if g in out.index]).reset_index()


def _assessment_problems(
    assessments: Mapping[str, object], cfg: ScoringConfig, account: str
) -> list[ValidationProblem]:
    problems = []
    for fid, value in assessments.items():
        rec = f"assessments of account {account}"
        if fid not in cfg.factors:
            problems.append(ValidationProblem(rec, fid, f"unknown factor {fid!r}; factors are: "
                                              f"{', '.join(cfg.factors)}"))
            continue
        sc = cfg.factors[fid].scale
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            problems.append(ValidationProblem(rec, fid, f"{value!r} is not a number; give a "
                                              f"value on {sc.min:g}..{sc.max:g}"))
        elif not sc.min <= value <= sc.max:
            problems.append(ValidationProblem(rec, fid, f"{value:g} is outside the scale "
                                              f"{sc.min:g}..{sc.max:g}"))
    return problems


def latest_assessments(dossier: Dossier,
                       config: ScoringConfig | Mapping[str, Any] | None = None
                       ) -> dict[str, float]:
    """The latest stored value of each factor the scoring configuration knows (assessments in
    date order; of two on the same day, the one recorded later).

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier
    >>> d = Dossier(account=Account(id="ACME", name="Acme"))
    >>> _ = d.assess_prospect({"competitors": 4, "added_value": 2}, by="ann", on=date(2026, 3, 2))
    >>> _ = d.assess_prospect({"competitors": 2}, by="bo", on=date(2026, 1, 10))
    >>> latest_assessments(d)
    {'competitors': 4.0, 'added_value': 2.0}
    """
    cfg = load_scoring_config(config)
    out: dict[str, float] = {}
    for _, _, a in sorted((a.on, i, a) for i, a in enumerate(dossier.assessments)):
        out.update({f: float(v) for f, v in a.values.items() if f in cfg.factors})
    return out


def prospect_score(
    dossier: Dossier,
    config: ScoringConfig | Mapping[str, Any] | None = None,
    *,
    today: date,
    assessments: Mapping[str, float] | None = None,
    opportunity_config: OpportunityConfig | Mapping[str, Any] | None = None,
    team: Team | None = None,
) -> ProspectScore:
    """Score one account and explain the score factor by factor.

    ``assessments`` (``{"factor id": value}``) default to the ones stored in the dossier
    (:func:`latest_assessments`).

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier
    >>> d = Dossier(account=Account(id="ACME", name="Acme"))
    >>> s = prospect_score(d, today=date(2025, 6, 1), assessments={"competitors": 1})
    >>> 0 <= s.score <= 100, math.fsum(s.contributions["contribution"]) == s.score
    (True, True)
    >>> row = s.contributions.set_index("factor").loc["competitors"]
    >>> float(row["raw"]), float(row["value"]), row["source"]
    (1.0, 1.0, 'assessment')
    """
    cfg = load_scoring_config(config)
    given = (dict(assessments) if assessments is not None
             else latest_assessments(dossier, cfg))
    problems = _assessment_problems(given, cfg, dossier.id)
    if problems:
        raise InputError(problems)
    ctx = _Context(dossier, cfg.settings, today, load_opportunity_config(opportunity_config),
                   team)
    total_weight = math.fsum(f.weight for f in cfg.factors.values())
    rows: list[dict[str, Any]] = []
    for fid, f in cfg.factors.items():
        raw: float | None
        if fid in given:
            raw, source = float(given[fid]), "assessment"
        elif f.source == "computed" and (raw := COMPUTED[fid](ctx)) is not None:
            source = "computed"
        elif f.default is not None:
            raw, source = f.default, "default"
        else:
            how = (f"pass assessments={{{fid!r}: ...}} on {f.scale.min:g}..{f.scale.max:g}"
                   if f.source == "assessment" else "the dossier has nothing to compute it from")
            problems.append(ValidationProblem(f"account {dossier.id}", fid, f"factor {fid!r} has "
                                              f"no value: {how}, or give it a default in the "
                                              "scoring configuration"))
            continue
        value = (raw - f.scale.min) / (f.scale.max - f.scale.min)
        value = 1.0 - value if f.better == "low" else value
        share = f.weight / total_weight
        rows.append({"group": f.group, "factor": fid, "label": f.label, "source": source,
                     "raw": float(raw), "value": value, "weight": f.weight,
                     "weight_share": share, "contribution": cfg.score_max * share * value,
                     "max_contribution": cfg.score_max * share})
    if problems:
        raise InputError(problems)
    order = {g: i for i, g in enumerate(GROUPS)}
    rows.sort(key=lambda r: order[r["group"]])  # stable: config order within a group
    _fit(rows, cfg.score_max)
    for r in rows:
        r["lost"] = r["max_contribution"] - r["contribution"]
    score = math.fsum(r["contribution"] for r in rows)
    return ProspectScore(dossier.id, dossier.account.name, score, cfg.score_max,
                         pd.DataFrame(rows, columns=CONTRIBUTION_COLUMNS))


def _fit(rows: list[dict[str, Any]], score_max: float) -> None:
    """Rounding can put the sum one ulp above ``score_max``: take the excess off the largest
    contribution so the score stays within bounds and still equals the sum."""
    for _ in range(8):
        excess = math.fsum(r["contribution"] for r in rows) - score_max
        if excess <= 0:
            return
        top = max(rows, key=lambda r: r["contribution"])
        top["contribution"] = max(0.0, top["contribution"] - excess)


def rank_prospects(
    dossiers: Iterable[Dossier],
    config: ScoringConfig | Mapping[str, Any] | None = None,
    *,
    today: date,
    assessments: Mapping[str, Mapping[str, float]] | None = None,
    opportunity_config: OpportunityConfig | Mapping[str, Any] | None = None,
    team: Team | None = None,
) -> pd.DataFrame:
    """Score and rank many accounts (best first; equal scores share a rank).

    ``assessments`` maps account id -> that account's assessments; an account it does not
    name is scored with the assessments stored in its dossier. Columns: ``rank``,
    ``account_id``, ``account``, ``score`` and one subtotal per group.
    """
    cfg = load_scoring_config(config)
    opp = load_opportunity_config(opportunity_config)
    ds = list(dossiers)
    given = dict(assessments or {})
    known = {d.id for d in ds}
    problems = [ValidationProblem("assessments", aid, f"unknown account {aid!r}; accounts are: "
                                  f"{', '.join(sorted(known)[:10])}")
                for aid in given if aid not in known]
    rows = []
    for d in ds:
        try:
            s = prospect_score(d, cfg, today=today, assessments=given.get(d.id),
                               opportunity_config=opp, team=team)
        except InputError as e:
            problems.extend(e.problems)
            continue
        groups = s.by_group().set_index("group")["contribution"]
        rows.append({"account_id": s.account_id, "account": s.account, "score": s.score,
                     **{g: float(groups.get(g, 0.0)) for g in cfg.groups}})
    if problems:
        raise InputError(problems)
    df = pd.DataFrame(rows, columns=["account_id", "account", "score", *cfg.groups])
    df = df.sort_values(["score", "account_id"], ascending=[False, True]).reset_index(drop=True)
    df.insert(0, "rank", df["score"].rank(method="min", ascending=False).astype(int))
    return df

