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

import pandas as pd
from pydantic import Field, model_validator

from .config import load_config
from .errors import InputError, ValidationProblem
from .health import as_day, last_contacts
from .meeting import needs_above, needs_below, person_needs
from .model import (
    Awareness,
    BuyingRole,
    CommitmentStatus,
    Deal,
    DecisionStage,
    Dossier,
    KamModel,
    Need,
    NeedLevel,
    Person,
    RelationshipStage,
)

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
    capability_high: float = Field(3, ge=0)
    high_influence: float = Field(0.6, ge=0, le=1)
    stale_days: int = Field(60, gt=0)
    deal_stages: list[str] = Field(min_length=1)
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
        unknown = [s for s in self.deal_stage_to_decision if s not in self.deal_stages]
        if unknown:
            raise ValueError(f"deal_stage_to_decision names unknown deal stage(s) "
                             f"{', '.join(unknown)}; deal_stages: {', '.join(self.deal_stages)}")
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


def load_playbook(path: str | Path | None = None) -> Playbook:
    """Read the stage models and playbooks (default ``templates/playbook.yaml``)."""
    return load_config(Playbook, path, default="playbook.yaml")


def _book(playbook: Playbook | str | Path | None) -> Playbook:
    return playbook if isinstance(playbook, Playbook) else load_playbook(playbook)


# -- stage checks ------------------------------------------------------------------------------
def stage_problems(dossier: Dossier, playbook: Playbook | str | Path | None = None
                   ) -> list[ValidationProblem]:
    """Deal stages (current and in the history) that the stage model does not know."""
    book = _book(playbook)
    valid = ", ".join(book.deal_stages)
    out = []
    for i, d in enumerate(dossier.deals):
        rec = f"account {dossier.account.id} / deals[{i}] ({d.id})"
        for field, stage in [("stage", d.stage),
                             *((f"history[{j}].stage", h.stage) for j, h in enumerate(d.history))]:
            if stage not in book.deal_stages:
                out.append(ValidationProblem(rec, field,
                                             f"unknown deal stage {stage!r}; valid: {valid}"))
    return out


def check_stages(dossier: Dossier, playbook: Playbook | str | Path | None = None) -> None:
    """Raise :class:`~kam.errors.InputError` for every unknown deal stage.

    (The relationship and decision stages of an account are checked when the dossier is built:
    pydantic lists the valid ones.)

    Examples
    --------
    >>> from kam.model import Account, Deal, Dossier
    >>> d = Dossier(account=Account(id="ACME", name="Acme"),
    ...             deals=[Deal(id="D1", title="Pumps", stage="negotiation")])
    >>> check_stages(d)
    Traceback (most recent call last):
    ...
    kam.errors.InputError: account ACME / deals[0] (D1), field 'stage': unknown deal stage 'negotiation'; valid: lead, potential, sale, buyer, repeat
    """  # noqa: E501
    problems = stage_problems(dossier, playbook)
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
    ``previous_contacts``: contacts of the window before (a fall signals uncoupling).
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
                        playbook: Playbook | str | Path | None = None) -> DecisionStage:
    """The decision stage of a deal: the account's, or else the one mapped from the deal stage."""
    if dossier.account.decision_stage is not None:
        return dossier.account.decision_stage
    book = _book(playbook)
    if deal.stage not in book.deal_stage_to_decision:
        raise InputError([ValidationProblem(
            f"account {dossier.account.id} / deal {deal.id}", "stage",
            f"deal stage {deal.stage!r} has no decision stage and the account records none; "
            f"set account.decision_stage or map it in deal_stage_to_decision (mapped: "
            f"{', '.join(book.deal_stage_to_decision) or 'none'})")])
    return book.deal_stage_to_decision[deal.stage]


def _chain(dossier: Dossier, deal: Deal) -> list[Need]:
    """The needs of a deal: its need with everything above and below it, or all needs."""
    if deal.need is None:
        return list(dossier.needs)
    root = dossier.need(deal.need)
    return [root, *needs_below(dossier, root.id), *needs_above(dossier, root.id)]


def _factors(dossier: Dossier, p: Person) -> str:
    effects = [n.title for n in person_needs(dossier, p)
               if n.level is NeedLevel.EFFECT and n.motivation.value == "business"]
    found = effects or ([p.business_motivation] if p.business_motivation else [])
    return "; ".join(found) or "motivation unknown - ask first"


def _targets(dossier: Dossier, deal: Deal, for_each: str, book: Playbook,
             today: date) -> list[tuple[str, dict[str, Any]]]:
    """(subject id, text fields) for each thing an action of ``for_each`` applies to."""
    active = [p for p in dossier.persons if p.active]
    contacts = last_contacts(dossier, today)
    recent = today - timedelta(days=book.contact_window_days)
    chain = _chain(dossier, deal)
    roles = lambda p: ", ".join(r.value for r in p.roles) or "no role"  # noqa: E731
    if for_each == "deal":
        return [(deal.id, {})]
    if for_each == "problem":
        return [(n.id, {"title": n.title, "function": n.function or "the client",
                        "awareness": n.awareness.value if n.awareness else "awareness unknown",
                        "cause": n.cause or "cause unknown"})
                for n in chain if n.level is NeedLevel.PROBLEM
                and n.awareness is not Awareness.SOLVING]
    if for_each in ("criterion", "effect"):
        level = NeedLevel.CRITERION if for_each == "criterion" else NeedLevel.EFFECT
        return [(n.id, {"title": n.title, "function": n.function or "the client",
                        "goal": n.goal or "goal unknown"})
                for n in chain if n.level is level and (
                    level is NeedLevel.EFFECT
                    or (n.capability is not None and n.capability >= book.capability_high))]
    power = [p for p in active if BuyingRole.POWER in p.roles]
    if for_each == "power_not_reached":
        return [(p.id, {"name": p.name, "position": p.position or "position unknown"})
                for p in power if not p.reached_by
                and not (p.id in contacts and contacts[p.id] > recent)]
    if for_each == "no_power_point":
        entry = [p for p in active if BuyingRole.ENTRY in p.roles]
        ask = sorted(entry or active, key=lambda p: (-p.influence, p.name))
        return [] if power else [(dossier.account.id,
                                  {"ask": ask[0].name if ask else "the first contact"})]
    if for_each == "pain_not_sponsor":
        return [(p.id, {"name": p.name, "position": p.position or "position unknown"})
                for p in active if BuyingRole.PAIN in p.roles and p.id not in deal.for_persons]
    if for_each == "member":
        return [(p.id, {"name": p.name, "roles": roles(p), "factors": _factors(dossier, p)})
                for p in sorted(active, key=lambda p: (-p.influence, p.name)) if p.roles]
    if for_each == "against":
        return [(p.id, {"name": p.name, "roles": roles(p), "influence": f"{p.influence:g}"})
                for p in (dossier.person(i) for i in deal.against_persons) if p.active]
    # commitment
    names = {p.id: p.name for p in dossier.persons}
    return [(c.id, {"description": c.description, "due": c.due.isoformat(),
                    "to": names.get(c.to_person or "", "the account")})
            for c in sorted(dossier.commitments, key=lambda c: (c.due, c.id))
            if c.status is CommitmentStatus.OPEN]


def next_actions(dossier: Dossier, today: date,
                 playbook: Playbook | str | Path | None = None) -> pd.DataFrame:
    """Proposed next actions for every open deal, from the playbook of its decision stage.

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
    book = _book(playbook)
    rows = []
    for deal in dossier.deals:
        if not deal.is_open:
            continue
        stage = deal_decision_stage(dossier, deal, book)
        for action in book.decision(stage).actions:
            for subject, fields in _targets(dossier, deal, action.for_each, book, today):
                text = action.text.format_map(
                    {**fields, "deal": deal.title, "account": dossier.account.name})
                rows.append({"deal_id": deal.id, "deal": deal.title, "decision_stage": stage.value,
                             "action_id": action.id, "action": text,
                             "layer": action.layer.value if action.layer else None,
                             "roles": ", ".join(r.value for r in action.roles),
                             "subject": subject})
    return pd.DataFrame(rows, columns=["deal_id", "deal", "decision_stage", "action_id", "action",
                                       "layer", "roles", "subject"], dtype=object)


def _stage_since(deal: Deal) -> date | None:
    entries = [h.on for h in deal.history if h.stage == deal.stage]
    return max(entries) if entries else deal.created


def deal_status(dossier: Dossier, today: date,
                playbook: Playbook | str | Path | None = None) -> pd.DataFrame:
    """The deal status report (DOMAIN.md §3 tool 5): one row per open deal.

    Columns: ``deal_id``, ``title``, ``stage``, ``since`` (when it entered the stage: the last
    matching ``history`` entry, else ``created``), ``days_in_stage`` (``<NA>`` when unknown),
    ``decision_stage``, ``for`` and ``against`` ("name (roles)"), ``next_steps``, ``risks``
    (recorded ones, then derived: no known power point, influential persons against,
    supporters who left, overdue commitments, stale deal, close date passed; joined by "; ")
    and ``n_risks``.
    """
    today = as_day(today)
    book = _book(playbook)
    active = [p for p in dossier.persons if p.active]
    overdue = [c for c in dossier.commitments if c.overdue(today)]
    rows = []
    for deal in dossier.deals:
        if not deal.is_open:
            continue
        since = _stage_since(deal)
        days = (today - since).days if since else None
        risks = list(deal.risks)
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
            decision = deal_decision_stage(dossier, deal, book).value
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
