"""Stages and playbooks: where the relationship and each deal stand, and what to do next.

* **Relationship stage** (DOMAIN.md §10, Appendix C): its nature and contact pattern, and
  :func:`relationship_fit`, a check of whether the observed contact pattern fits the stage.
* **Decision-cycle stage** (DOMAIN.md §3 tools 3 and 4, Appendix B): per stage, the actions that
  influence the decision (``templates/playbook.yaml``); :func:`next_actions` makes them concrete
  with the dossier — an action about the power point appears only if there is a power point
  nobody of us reaches, and names them.
* **Deal status report** (tool 5): :func:`deal_status`, per open deal its stage and days in it,
  who is for and against, next steps and risks (recorded and derived).
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import pandas as pd
from pydantic import Field, model_validator

from .config import ConfigSource, load_config
from .errors import InputError, ValidationProblem
from .health import last_contacts
from .meeting import needs_by_person
from .model import (
    Awareness,
    BuyingRole,
    CommitmentStatus,
    Deal,
    DecisionStage,
    Dossier,
    KamModel,
    Motivation,
    Need,
    NeedLevel,
    Person,
    RelationshipStage,
)
from .model.stages import StageModel, load_stages
from .model.stages import stage_problems as _stage_problems
from .needmap import NeedMap
from .opportunities import load_opportunity_config
from .periods import as_day

__all__ = [
    "DecisionPlay",
    "Playbook",
    "PlaybookAction",
    "RelationshipStagePattern",
    "StageFit",
    "check_stages",
    "deal_decision_stage",
    "deal_status",
    "load_playbook",
    "next_actions",
    "relationship_fit",
    "stage_problems",
]

ForEach = Literal["deal", "problem", "criterion", "effect", "power_not_reached",
                  "no_power_point", "pain_not_sponsor", "member", "against", "commitment"]
_FIELDS: dict[str, set[str]] = {
    "deal": set(), "problem": {"title", "function", "awareness", "cause"},
    "criterion": {"title", "function"}, "effect": {"title", "function", "goal"},
    "power_not_reached": {"name", "position"}, "no_power_point": {"ask"},
    "pain_not_sponsor": {"name", "position"}, "member": {"name", "roles", "factors"},
    "against": {"name", "roles", "influence"}, "commitment": {"description", "due", "to"},
}


# -- configuration -----------------------------------------------------------------------------
class PlaybookAction(KamModel):
    """One action of a decision stage; ``text`` uses the fields its ``for_each`` offers."""

    id: str = Field(min_length=1)
    for_each: ForEach = "deal"
    text: str = Field(min_length=1)
    layer: NeedLevel | None = Field(None, description="Need-map layer it works on.")
    roles: list[BuyingRole] = Field(default_factory=list, description="Buying-center roles.")

    @model_validator(mode="after")
    def _placeholders(self) -> PlaybookAction:
        allowed = _FIELDS[self.for_each] | {"deal", "account"}
        used = {f for _, f, _, _ in string.Formatter().parse(self.text) if f is not None}
        bad = sorted(used - allowed)
        if bad:
            raise ValueError(
                f"action {self.id!r} uses unknown field(s) {', '.join('{' + b + '}' for b in bad)}"
                f"; for_each {self.for_each!r} offers: "
                + ", ".join("{" + a + "}" for a in sorted(allowed)))
        return self


class DecisionPlay(KamModel):
    """The playbook of one decision stage."""

    stage: DecisionStage
    goal: str = ""
    actions: list[PlaybookAction] = Field(default_factory=list)


class RelationshipStagePattern(KamModel):
    """A relationship stage (Appendix C) with the bounds of the contact pattern that fits it."""

    stage: RelationshipStage
    nature: str
    contact_pattern: str
    min_contacts: int = Field(0, ge=0)
    max_contacts: int | None = Field(None, ge=0)
    min_functions: int = Field(0, ge=0)
    max_functions: int | None = Field(None, ge=0)
    min_our_people: int = Field(0, ge=0)


class Playbook(KamModel):
    """Stage models and playbooks (``templates/playbook.yaml``)."""

    contact_window_days: int = Field(180, gt=0)
    capability_high: float | None = Field(
        None, ge=0, description="Default: the capability threshold of the opportunity matrix.")
    high_influence: float = Field(0.6, ge=0, le=1)
    stale_days: int = Field(60, gt=0)
    deal_stage_to_decision: dict[str, DecisionStage] = Field(default_factory=dict)
    relationship_stages: list[RelationshipStagePattern]
    decision_stages: list[DecisionPlay]

    @model_validator(mode="after")
    def _complete(self) -> Playbook:
        for what, got, model in (("relationship_stages", self.relationship_stages,
                                  RelationshipStage),
                                 ("decision_stages", self.decision_stages, DecisionStage)):
            names = [s.stage.value for s in got]
            dup = sorted({n for n in names if names.count(n) > 1})
            missing = [s.value for s in model if s.value not in names]
            if dup or missing:
                raise ValueError(f"{what}: " + "; ".join(
                    ([f"stage(s) listed twice: {', '.join(dup)}"] if dup else [])
                    + ([f"missing stage(s): {', '.join(missing)}"] if missing else [])))
        return self

    def decision(self, stage: DecisionStage | str) -> DecisionPlay:
        """The playbook of a decision stage; an unknown name raises
        :class:`~kam.errors.InputError` listing the valid stages."""
        for s in self.decision_stages:
            if s.stage.value == str(stage):
                return s
        raise _unknown("decision stage", stage, [s.value for s in DecisionStage])

    def relationship(self, stage: RelationshipStage | str) -> RelationshipStagePattern:
        """The pattern of a relationship stage; an unknown name raises
        :class:`~kam.errors.InputError` listing the valid stages."""
        for s in self.relationship_stages:
            if s.stage.value == str(stage):
                return s
        raise _unknown("relationship stage", stage, [s.value for s in RelationshipStage])


def _unknown(what: str, value: object, valid: list[str]) -> InputError:
    return InputError([ValidationProblem(
        record="playbook", field=what.replace(" ", "_"),
        message=f"{str(value)!r} is not a {what}; valid: {', '.join(valid)}")])


def load_playbook(source: ConfigSource = None, **overrides: Any) -> Playbook:
    """Read the stage models and playbooks (default: ``templates/playbook.yaml``).

    ``source`` may also be a :class:`Playbook` or a mapping of the settings to change;
    keyword arguments change single settings. Errors
    (:class:`~kam.errors.ConfigError`) name the file and the setting.
    """
    return load_config(Playbook, source, default="playbook.yaml",
                       overrides=overrides)

def _book(playbook: Playbook | str | Path | None) -> Playbook:
    return playbook if isinstance(playbook, Playbook) else load_playbook(playbook)


# -- stage checks ------------------------------------------------------------------------------
def _stage_model(stages: StageModel | str | Path | None) -> StageModel:
    return stages if isinstance(stages, StageModel) else load_stages(
        None if stages is None else str(stages))


def _canonical(model: StageModel, name: str) -> str | None:
    """The stage id of a deal stage name (an id or an alias), ``None`` if unknown."""
    try:
        return model.ids[model.position(name)]
    except ValueError:
        return None


def stage_problems(dossier: Dossier, stages: StageModel | str | Path | None = None
                   ) -> list[ValidationProblem]:
    """Deal stages (current and in the history) that the sales stage model (``stages``, default
    ``templates/stages.yaml``, aliases allowed) does not know."""
    return _stage_problems(dossier, _stage_model(stages))


def check_stages(dossier: Dossier, stages: StageModel | str | Path | None = None) -> None:
    """Raise :class:`~kam.errors.InputError` for every unknown deal stage.

    (The relationship and decision stages of an account are checked when the dossier is built:
    pydantic lists the valid ones.)

    Examples
    --------
    >>> from kam.model import Account, Deal, Dossier
    >>> d = Dossier(account=Account(id="ACME", name="Acme"),
    ...             deals=[Deal(id="D1", title="Pumps", stage="negotiation")])
    >>> check_stages(d)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kam.errors.InputError: account ACME / deals[0] (D1), field 'stage': unknown deal stage 'negotiation'; valid: lead, potential, sale, buyer, repeat (aliases: ...)
    """  # noqa: E501
    problems = stage_problems(dossier, stages)
    if problems:
        raise InputError(problems)


@dataclass(frozen=True)
class StageFit:
    """Whether the observed contact pattern fits the account's relationship stage."""

    account_id: str
    stage: str
    nature: str
    contact_pattern: str
    contacts: int
    functions: int
    our_people: int
    previous_contacts: int
    fits: bool
    verdict: str
    suggested_stage: str


def relationship_fit(dossier: Dossier, today: date,
                     playbook: Playbook | str | Path | None = None) -> StageFit:
    """Compare the contact pattern of the last ``contact_window_days`` with the stage's.

    ``contacts``: active persons who took part in an interaction in the window; ``functions``:
    their distinct departments; ``our_people``: our team members in those interactions;
    ``previous_contacts``: contacts of the window before; a fall below half of them adds
    "signs of uncoupling" to the verdict.
    ``suggested_stage``: the highest partnership stage whose minimums the pattern meets.

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier
    >>> fit = relationship_fit(Dossier(account=Account(id="A", name="Acme",
    ...                                relationship_stage="mid KAM")), date(2026, 3, 1))
    >>> fit.fits, fit.suggested_stage
    (False, 'pre-KAM')
    """
    today = as_day(today)
    book = _book(playbook)
    w = timedelta(days=book.contact_window_days)
    active = {p.id: p for p in dossier.persons if p.active}

    def window(lo: date, hi: date) -> tuple[set[str], set[str]]:
        people: set[str] = set()
        ours: set[str] = set()
        for x in dossier.interactions:
            if lo < x.date <= hi:
                people.update(p for p in x.participants if p in active)
                ours.update(x.our_participants)
        return people, ours

    now, ours = window(today - w, today)
    before, _ = window(today - 2 * w, today - w)
    funcs = {(active[p].department or "").casefold() for p in now if active[p].department}
    n, f, o = len(now), len(funcs), len(ours)

    def shortfalls(s: RelationshipStagePattern) -> list[str]:
        """What the pattern lacks for stage ``s`` (its minimums)."""
        gaps = []
        if n < s.min_contacts:
            gaps.append(f"{n} active contact(s), the stage needs at least {s.min_contacts}")
        if f < s.min_functions:
            gaps.append(f"{f} function(s), the stage needs at least {s.min_functions}")
        if o < s.min_our_people:
            gaps.append(f"{o} of our people involved, the stage needs at least "
                        f"{s.min_our_people}")
        return gaps

    def excesses(s: RelationshipStagePattern) -> list[str]:
        """Where the pattern is richer than stage ``s`` (its maximums)."""
        gaps = []
        if s.max_contacts is not None and n > s.max_contacts:
            gaps.append(f"{n} active contacts, more than the {s.max_contacts} of the stage")
        if s.max_functions is not None and f > s.max_functions:
            gaps.append(f"{f} functions, more than the {s.max_functions} of the stage")
        return gaps

    stage = book.relationship(dossier.account.relationship_stage)
    gaps = shortfalls(stage) + excesses(stage)
    ladder = [s for s in book.relationship_stages if s.stage is not RelationshipStage.UNCOUPLING]
    suggested = ladder[0].stage.value
    for s in ladder:
        if not shortfalls(s):
            suggested = s.stage.value
    verdict = "fits the stage" if not gaps else "; ".join(gaps)
    if before and n < len(before) / 2:
        verdict += f"; contacts fell from {len(before)} to {n}: signs of uncoupling"
    return StageFit(account_id=dossier.account.id, stage=stage.stage.value, nature=stage.nature,
                    contact_pattern=stage.contact_pattern, contacts=n, functions=f,
                    our_people=o, previous_contacts=len(before), fits=not gaps,
                    verdict=verdict, suggested_stage=suggested)


# -- deals -------------------------------------------------------------------------------------
def deal_decision_stage(dossier: Dossier, deal: Deal,
                        playbook: Playbook | str | Path | None = None,
                        stages: StageModel | str | Path | None = None) -> DecisionStage:
    """The client's decision stage for a deal: the one recorded on the deal (a client can be
    at different stages for different deals), else the account's, else the one
    ``deal_stage_to_decision`` maps the deal's stage to (deal stages and aliases of the sales
    stage model ``stages``).

    Examples
    --------
    >>> from kam.model import Account, Deal, Dossier
    >>> d = Dossier(account=Account(id="A", name="Acme", decision_stage="need recognition"),
    ...             deals=[Deal(id="D1", title="Pumps", decision_stage="proposal and selection"),
    ...                    Deal(id="D2", title="Valves")])
    >>> [deal_decision_stage(d, x).value for x in d.deals]
    ['proposal and selection', 'need recognition']
    """
    if deal.decision_stage is not None:
        return deal.decision_stage
    if dossier.account.decision_stage is not None:
        return dossier.account.decision_stage
    book, model = _book(playbook), _stage_model(stages)
    mapping = {_canonical(model, k) or k: v for k, v in book.deal_stage_to_decision.items()}
    stage = _canonical(model, deal.stage) or deal.stage
    if stage not in mapping:
        raise InputError([ValidationProblem(
            f"account {dossier.account.id} / deal {deal.id}", "stage",
            f"deal stage {deal.stage!r} has no decision stage and the account records none "
            "(nor does the deal); set the deal's (dossier.update_deal(deal_id, "
            "decision_stage=...)), account.decision_stage, or map the stage in "
            "deal_stage_to_decision of the "
            f"playbook (mapped: {', '.join(book.deal_stage_to_decision) or 'none'})")])
    return mapping[stage]


@dataclass(frozen=True)
class _Context:
    """What every action of one dossier needs, computed once."""

    dossier: Dossier
    book: Playbook
    needmap: NeedMap
    of_person: dict[str, list[str]]
    contacts: dict[str, date]
    recent: date
    capability_high: float

    @classmethod
    def of(cls, dossier: Dossier, book: Playbook, today: date) -> _Context:
        nm, of_person = needs_by_person(dossier)
        cap = book.capability_high
        if cap is None:
            cap = load_opportunity_config().capability.threshold
        return cls(dossier, book, nm, of_person, last_contacts(dossier, today),
                   today - timedelta(days=book.contact_window_days), cap)

    def chain(self, deal: Deal) -> list[Need]:
        """The needs of a deal: its need with everything above and below it, or all needs."""
        d = self.dossier
        if deal.need is None:
            return list(d.needs)
        g = self.needmap.graph
        ids = {deal.need} | nx.ancestors(g, deal.need) | nx.descendants(g, deal.need)
        return [n for n in d.needs if n.id in ids]

    def factors(self, p: Person) -> str:
        """The business motivation factors of a person: effects of the need map that concern
        them, else their recorded business motivation."""
        by_id = {n.id: n for n in self.dossier.needs}
        effects = [by_id[i].title for i in self.of_person.get(p.id, [])
                   if by_id[i].level is NeedLevel.EFFECT
                   and by_id[i].motivation is Motivation.BUSINESS]
        found = effects or ([p.business_motivation] if p.business_motivation else [])
        return "; ".join(found) or "motivation unknown - ask first"


def _targets(ctx: _Context, deal: Deal, for_each: str) -> list[tuple[str, dict[str, Any]]]:
    """(subject id, text fields) for each thing an action of ``for_each`` applies to."""
    d = ctx.dossier
    active = [p for p in d.persons if p.active]
    if for_each == "deal":
        return [(deal.id, {})]
    if for_each == "problem":
        return [(n.id, {"title": n.title, "function": n.function or "the client",
                        "awareness": n.awareness.value if n.awareness else "awareness unknown",
                        "cause": n.cause or "cause unknown"})
                for n in ctx.chain(deal) if n.level is NeedLevel.PROBLEM
                and n.awareness is not Awareness.SOLVING]
    if for_each == "criterion":
        return [(n.id, {"title": n.title, "function": n.function or "the client"})
                for n in ctx.chain(deal) if n.level is NeedLevel.CRITERION
                and n.capability is not None and n.capability >= ctx.capability_high]
    if for_each == "effect":
        return [(n.id, {"title": n.title, "function": n.function or "the client",
                        "goal": n.goal or "goal unknown"})
                for n in ctx.chain(deal) if n.level is NeedLevel.EFFECT]
    power = [p for p in active if BuyingRole.POWER in p.roles]
    if for_each == "power_not_reached":
        return [(p.id, {"name": p.name, "position": p.position or "position unknown"})
                for p in power if not p.reached_by
                and not (p.id in ctx.contacts and ctx.contacts[p.id] > ctx.recent)]
    if for_each == "no_power_point":
        entry = [p for p in active if BuyingRole.ENTRY in p.roles]
        ask = sorted(entry or active, key=lambda p: (-p.influence, p.name))
        return [] if power else [(d.account.id,
                                  {"ask": ask[0].name if ask else "the first contact"})]
    if for_each == "pain_not_sponsor":
        return [(p.id, {"name": p.name, "position": p.position or "position unknown"})
                for p in active if BuyingRole.PAIN in p.roles and p.id not in deal.for_persons]
    if for_each == "member":
        return [(p.id, {"name": p.name, "roles": _roles(p), "factors": ctx.factors(p)})
                for p in sorted(active, key=lambda p: (-p.influence, p.name)) if p.roles]
    if for_each == "against":
        return [(p.id, {"name": p.name, "roles": _roles(p), "influence": f"{p.influence:g}"})
                for p in (d.person(i) for i in deal.against_persons) if p.active]
    # commitment
    names = {p.id: p.name for p in d.persons}
    return [(c.id, {"description": c.description, "due": c.due.isoformat(),
                    "to": names.get(c.to_person or "", "the account")})
            for c in sorted(d.commitments, key=lambda c: (c.due, c.id))
            if c.status is CommitmentStatus.OPEN]


def next_actions(dossier: Dossier, today: date,
                 playbook: Playbook | str | Path | None = None,
                 stages: StageModel | str | Path | None = None) -> pd.DataFrame:
    """Proposed next actions for every open deal, from the playbook of its decision stage
    (:func:`deal_decision_stage`), made concrete with the dossier.

    Columns: ``deal_id``, ``deal``, ``decision_stage``, ``action_id``, ``action`` (the concrete
    text), ``layer`` (need-map layer), ``roles`` (buying-center roles), ``subject`` (id of the
    person, need, commitment or deal it is about).

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Deal, Dossier, Person
    >>> d = Dossier(account=Account(id="A", name="Acme", decision_stage="evaluating suppliers"),
    ...             persons=[Person(id="p1", name="Ann", roles=["power"], position="CEO"),
    ...                      Person(id="p2", name="Bob", roles=["pain"])],
    ...             deals=[Deal(id="D1", title="Pumps", stage="sale", for_persons=["p2"])])
    >>> next_actions(d, date(2026, 3, 1))["action"].tolist()
    ['Make sure the power point Ann (CEO) knows us: ask for an introduction']
    """
    today = as_day(today)
    book, model = _book(playbook), _stage_model(stages)
    ctx = _Context.of(dossier, book, today)
    rows = []
    for deal in dossier.deals:
        if not deal.is_open:
            continue
        stage = deal_decision_stage(dossier, deal, book, model)
        for action in book.decision(stage).actions:
            for subject, fields in _targets(ctx, deal, action.for_each):
                text = action.text.format_map(
                    {**fields, "deal": deal.title, "account": dossier.account.name})
                rows.append({"deal_id": deal.id, "deal": deal.title, "decision_stage": stage.value,
                             "action_id": action.id, "action": text,
                             "layer": action.layer.value if action.layer else None,
                             "roles": ", ".join(r.value for r in action.roles),
                             "subject": subject})
    return pd.DataFrame(rows, columns=["deal_id", "deal", "decision_stage", "action_id", "action",
                                       "layer", "roles", "subject"], dtype=object)


def _stage_since(deal: Deal, model: StageModel) -> date | None:
    """When the deal entered its current stage: the last history entry of that stage (ids and
    aliases compared through the stage model), else its creation date."""
    current = _canonical(model, deal.stage) or deal.stage
    entries = [h.on for h in deal.history if (_canonical(model, h.stage) or h.stage) == current]
    return max(entries) if entries else deal.created


def deal_status(dossier: Dossier, today: date,
                playbook: Playbook | str | Path | None = None,
                stages: StageModel | str | Path | None = None) -> pd.DataFrame:
    """The deal status report (DOMAIN.md §3 tool 5): one row per open deal.

    Columns: ``deal_id``, ``title``, ``stage``, ``since`` (when it entered the stage: the last
    matching ``history`` entry, else ``created``), ``days_in_stage`` (``<NA>`` when unknown, or
    when the stage date is after ``today``: that is listed as a risk, never shown as negative
    days), ``decision_stage``, ``for`` and ``against`` ("name (roles)"), ``next_steps``, ``risks``
    (recorded ones, then derived: no known power point, influential persons against,
    supporters who left, overdue commitments, stale deal, close date passed; joined by "; ")
    and ``n_risks``.
    """
    today = as_day(today)
    book, model = _book(playbook), _stage_model(stages)
    active = [p for p in dossier.persons if p.active]
    overdue = [c for c in dossier.commitments if c.overdue(today)]
    rows = []
    for deal in dossier.deals:
        if not deal.is_open:
            continue
        since = _stage_since(deal, model)
        days = (today - since).days if since else None
        risks = list(deal.risks)
        if since is not None and days is not None and days < 0:  # after the report's date
            days = None
            risks.append(f"stage entered on {since.isoformat()}, after the report date "
                         f"{today.isoformat()}: check the deal's stage history")
        if not any(BuyingRole.POWER in p.roles for p in active):
            risks.append("no known power point")
        for pid in deal.against_persons:
            p = dossier.person(pid)
            if p.active and p.influence >= book.high_influence:
                risks.append(f"{p.name} ({_roles(p)}, influence {p.influence:g}) is against")
        for pid in deal.for_persons:
            p = dossier.person(pid)
            if not p.active:
                risks.append(f"supporter {p.name} left the client on {p.left_on}")
        risks += [f"overdue commitment '{c.description}' ({(today - c.due).days} days)"
                  for c in overdue]
        talks = [x.date for x in dossier.interactions if x.deal == deal.id and x.date <= today]
        moved = max([d for d in (since, max(talks, default=None)) if d is not None], default=None)
        if moved is None:
            risks.append("stage date unknown and no contact about the deal recorded")
        elif (today - moved).days > book.stale_days:
            risks.append(f"stale: no stage change or contact for {(today - moved).days} days "
                         f"(limit {book.stale_days})")
        if deal.expected_close and deal.expected_close < today:
            risks.append(f"expected close {deal.expected_close.isoformat()} has passed")
        try:
            decision = deal_decision_stage(dossier, deal, book, model).value
        except InputError:
            decision = None
        rows.append({
            "deal_id": deal.id, "title": deal.title, "stage": deal.stage, "since": since,
            "days_in_stage": days, "decision_stage": decision,
            "for": _people(dossier, deal.for_persons),
            "against": _people(dossier, deal.against_persons),
            "next_steps": deal.next_steps, "risks": "; ".join(risks), "n_risks": len(risks)})
    cols = ["deal_id", "title", "stage", "since", "days_in_stage", "decision_stage", "for",
            "against", "next_steps", "risks", "n_risks"]
    out = pd.DataFrame(rows, columns=cols, dtype=object)
    return out.astype({"days_in_stage": "Int64", "n_risks": int})


def _roles(p: Person) -> str:
    return ", ".join(r.value for r in p.roles) or "no role"


def _people(dossier: Dossier, ids: Iterable[str]) -> str:
    return "; ".join(f"{p.name} ({_roles(p)})" for p in (dossier.person(i) for i in ids))
