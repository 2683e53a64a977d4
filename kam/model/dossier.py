"""The key-account dossier: one aggregate per account (DOMAIN.md §1).

A :class:`Dossier` holds the account's profile and every record about it. Ids are unique within
their collection and every reference between records is checked; :func:`validate_dossier` turns
raw data (from YAML, JSON or a form) into a dossier or raises :class:`~kam.errors.InputError`
naming the file, the record and the field of every problem.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, model_validator

from ..errors import InputError, ValidationProblem
from .account import Account, OwnershipEdits
from .activity import Assessment, Commitment, Interaction, Project, assessment_problems
from .base import (
    ID_PATTERN,
    PERIOD_PATTERN,
    TEXT_PATTERN,
    FieldError,
    KamModel,
    bound_message,
    check_id,
    check_period,
    check_text,
    short_repr,
)
from .cost_config import CostToServeConfig, cost_problems
from .deal import Deal
from .edits import DossierEdits
from .finance import ActivityLine, Budget, CostLine, RevenueLine
from .need import Need
from .person import Person, PersonLink
from .plan import AccountPlan
from .rating import RatingEntry
from .scenario_config import ScenarioConfig, scenario_problems
from .stages import StageModel, stage_problems
from .task import Task, TaskEdits, task_problems

__all__ = ["Dossier", "problems_from_pydantic", "reference_problems", "validate_dossier"]

# Collections whose records carry an ``id`` that must be unique within the collection.
_ID_COLLECTIONS = (
    "persons",
    "links",
    "interactions",
    "projects",
    "needs",
    "commitments",
    "deals",
    "revenue",
    "costs",
    "activities",
    "budgets",
    "ratings",
    "assessments",
    "tasks",
)
# Line records whose id may be left out: it is assigned as <prefix><n> on validation.
_LINE_PREFIX = {
    "links": "L-",
    "revenue": "R-",
    "costs": "C-",
    "activities": "A-",
    "budgets": "B-",
    "ratings": "RT-",
}


class Dossier(KamModel, DossierEdits, TaskEdits, OwnershipEdits):
    """Everything kam knows about one key account."""

    account: Account
    persons: list[Person] = Field(default_factory=list)
    links: list[PersonLink] = Field(default_factory=list)
    interactions: list[Interaction] = Field(default_factory=list)
    projects: list[Project] = Field(default_factory=list)
    needs: list[Need] = Field(default_factory=list)
    commitments: list[Commitment] = Field(default_factory=list)
    deals: list[Deal] = Field(default_factory=list)
    revenue: list[RevenueLine] = Field(default_factory=list)
    costs: list[CostLine] = Field(default_factory=list)
    activities: list[ActivityLine] = Field(default_factory=list)
    budgets: list[Budget] = Field(default_factory=list)
    ratings: list[RatingEntry] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list,
                              description="Tasks given to team members for this account.")
    assessments: list[Assessment] = Field(
        default_factory=list, description="Prospect factors judged by a person (DOMAIN.md §5).")
    plan: AccountPlan | None = None

    # Where this object was loaded from: (workspace location, account id, revision). Set by the
    # Workspace; a save is based on it. Not part of the data (not dumped, not compared).
    _loaded_from: tuple[str, str, int] | None = PrivateAttr(default=None)

    @property
    def id(self) -> str:
        return self.account.id

    def __eq__(self, other: object) -> bool:
        """Equal when the data is equal, wherever the objects were loaded from."""
        if not isinstance(other, Dossier):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable, like every pydantic model

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Dossier:
        self.assign_ids()
        if info.context and info.context.get("skip_references"):
            return self
        problems = reference_problems(self)
        if problems:
            raise ValueError("; ".join(str(p) for p in problems))
        return self

    def assign_ids(self) -> None:
        """Give every line record (revenue, cost, activity, budget, rating, link) that has no id
        a new one, ``<prefix><n>`` numbered after the highest in use; ids once saved stay."""
        for coll, prefix in _LINE_PREFIX.items():
            records = getattr(self, coll)
            if all(r.id is not None for r in records):
                continue
            used = [
                int(r.id[len(prefix) :])
                for r in records
                if r.id and r.id.startswith(prefix) and r.id[len(prefix) :].isdigit()
            ]
            n = max(used, default=0)
            for r in records:
                if r.id is None:
                    n += 1
                    r.id = f"{prefix}{n}"

    # -- lookups ---------------------------------------------------------------------------
    def person(self, person_id: str) -> Person:
        """The person with that id (``KeyError`` naming the known ids if none)."""
        return _find(self.persons, person_id, "person", self.id)

    def need(self, need_id: str) -> Need:
        return _find(self.needs, need_id, "need", self.id)

    def deal(self, deal_id: str) -> Deal:
        return _find(self.deals, deal_id, "deal", self.id)


def _find(records: Iterable[Any], record_id: str, what: str, account_id: str) -> Any:
    for r in records:
        if r.id == record_id:
            return r
    known = ", ".join(sorted(r.id for r in records)) or "none"
    raise KeyError(f"No {what} {record_id!r} in account {account_id!r}; known: {known}")


def _record_name(
    dossier_like: Mapping[str, Any] | Dossier, loc: tuple[Any, ...]
) -> tuple[str, str]:
    """Turn a pydantic error location into (record, field) as a reader names them."""
    account_id = "?"
    if isinstance(dossier_like, Dossier):
        account_id = dossier_like.account.id
        raw: Any = dossier_like.model_dump()
    else:
        raw = dossier_like
        acc = raw.get("account") if isinstance(raw, Mapping) else None
        if isinstance(acc, Mapping) and acc.get("id"):
            account_id = _name(acc["id"])
    record = f"account {account_id}"
    parts = list(loc)
    node = raw
    i = 0
    # Walk collection/index pairs; what remains is the field path.
    while i < len(parts):
        key = parts[i]
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        child = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(nxt, int) and isinstance(child, list):
            item = child[nxt] if nxt < len(child) else None
            rid = item.get("id") if isinstance(item, Mapping) else None
            record += f" / {key}[{nxt}]" + (f" ({_name(rid)})" if rid else "")
            node = item
            i += 2
            continue
        if key in ("account", "plan") and isinstance(child, Mapping) and i + 1 < len(parts):
            record += "" if key == "account" else " / plan"
            node = child
            i += 1
            continue
        break
    field = ".".join(_name(p) for p in parts[i:])
    return record, field


def _name(value: object, limit: int = 64) -> str:
    """A name taken from the input (an id, a key) as a message shows it: cut when too long."""
    small_int = isinstance(value, int) and value.bit_length() <= 200
    text = str(value) if isinstance(value, str) or small_int else short_repr(value, limit)
    return text if len(text) <= limit else short_repr(text, limit)


def problems_from_pydantic(
    error: ValidationError, data: Mapping[str, Any], file: str | None = None
) -> list[ValidationProblem]:
    """One :class:`ValidationProblem` per pydantic error, naming record and field."""
    problems = []
    for err in error.errors(include_url=False):
        record, field = _record_name(data, tuple(err["loc"]))
        field, msg = error_message(err, field)
        problems.append(ValidationProblem(record=record, field=field, message=msg, file=file))
    return problems


def error_message(err: Any, field: str,
                  show: Callable[[Any], str] = short_repr) -> tuple[str, str]:
    """The field and the message a reader gets for one pydantic error (``show`` writes the
    value found, cut to a readable length): a typo, a missing field, a malformed id or period,
    a control character in text, a check across fields (naming the field it checked), a figure
    beyond the largest kam accepts, or what was expected and what was found."""
    msg = str(err["msg"])
    ctx = err.get("ctx") or {}
    if err["type"] == "extra_forbidden":
        msg = "unknown field (a typo?)"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] == "string_pattern_mismatch":
        msg = _pattern_message(err, show)
    elif err["type"] == "value_error":  # a model validator: name the field it checked
        cause = ctx.get("error")
        msg = str(cause) if cause is not None else msg.removeprefix("Value error, ")
        if isinstance(cause, FieldError):
            field = f"{field}.{cause.field}" if field else cause.field
    elif err["type"] in ("less_than_equal", "greater_than_equal") and (beyond := bound_message(
            ctx.get("le", ctx.get("ge")), show(err.get("input")))):
        msg = beyond
    elif "input" in err:
        msg = f"{msg}; found {show(err['input'])}"
    return field, msg


def _pattern_message(err: Any, show: Callable[[Any], str] = short_repr) -> str:
    checker = {ID_PATTERN: check_id, PERIOD_PATTERN: check_period, TEXT_PATTERN: check_text}.get(
        str((err.get("ctx") or {}).get("pattern"))
    )
    if checker is None:
        return f"{err['msg']}; found {show(err.get('input'))}"
    try:
        checker(err["input"])
    except ValueError as e:
        return str(e)
    return str(err["msg"])


def reference_problems(d: Dossier, file: str | None = None) -> list[ValidationProblem]:
    """Duplicate ids and dangling references inside one dossier."""
    acc = f"account {d.account.id}"
    out: list[ValidationProblem] = []

    def bad(record: str, field: str, message: str) -> None:
        out.append(ValidationProblem(record=record, field=field, message=message, file=file))

    for coll in _ID_COLLECTIONS:
        counts = Counter(r.id for r in getattr(d, coll))
        for rid, n in counts.items():
            if n > 1:
                bad(f"{acc} / {coll}", "id", f"duplicate id {rid!r} ({n} records)")

    persons = {p.id for p in d.persons}
    needs = {n.id for n in d.needs}
    deals = {x.id for x in d.deals}

    def check(
        record: str, field: str, ids: Iterable[str | None], known: set[str], what: str
    ) -> None:
        for rid in ids:
            if rid is not None and rid not in known:
                hint = ", ".join(sorted(known)[:8]) or "none"
                bad(record, field, f"refers to unknown {what} {rid!r}; known: {hint}")

    for i, link in enumerate(d.links):
        rec = f"{acc} / links[{i}]"
        check(rec, "source", [link.source], persons, "person")
        check(rec, "target", [link.target], persons, "person")
    for i, x in enumerate(d.interactions):
        rec = f"{acc} / interactions[{i}] ({x.id})"
        check(rec, "participants", x.participants, persons, "person")
        check(rec, "deal", [x.deal], deals, "deal")
    for i, need in enumerate(d.needs):
        rec = f"{acc} / needs[{i}] ({need.id})"
        check(rec, "persons", need.persons, persons, "person")
        check(rec, "leads_to", need.leads_to, needs, "need")
    for i, c in enumerate(d.commitments):
        check(f"{acc} / commitments[{i}] ({c.id})", "to_person", [c.to_person], persons, "person")
    for i, deal in enumerate(d.deals):
        rec = f"{acc} / deals[{i}] ({deal.id})"
        check(rec, "need", [deal.need], needs, "need")
        check(rec, "for_persons", deal.for_persons, persons, "person")
        check(rec, "against_persons", deal.against_persons, persons, "person")
    for message in task_problems(d.tasks, d.account.id):
        bad(f"{acc} / tasks", "account", message)
    budget_keys = Counter((b.period, b.category) for b in d.budgets)
    for (period, cat), n in budget_keys.items():
        if n > 1:
            bad(f"{acc} / budgets", "category", f"{n} budgets for {short_repr(cat)} in {period}")
    if d.plan is not None:
        p = d.plan
        for coll in ("objectives", "strategies", "actions", "kpis"):
            counts = Counter(r.id for r in getattr(p, coll))
            for rid, n in counts.items():
                if n > 1:
                    bad(f"{acc} / plan / {coll}", "id", f"duplicate id {rid!r} ({n} records)")
        objectives = {o.id for o in p.objectives}
        strategies = {s.id for s in p.strategies}
        for i, o in enumerate(p.objectives):
            rec = f"{acc} / plan / objectives[{i}] ({o.id})"
            check(rec, "needs", o.needs, needs, "need")
            check(rec, "deals", o.deals, deals, "deal")
        for i, s in enumerate(p.strategies):
            check(
                f"{acc} / plan / strategies[{i}] ({s.id})",
                "objectives",
                s.objectives,
                objectives,
                "objective",
            )
        for i, a in enumerate(p.actions):
            rec = f"{acc} / plan / actions[{i}] ({a.id})"
            check(rec, "strategy", [a.strategy], strategies, "strategy")
            check(rec, "objective", [a.objective], objectives, "objective")
        for i, k in enumerate(p.kpis):
            check(
                f"{acc} / plan / kpis[{i}] ({k.id})",
                "objective",
                [k.objective],
                objectives,
                "objective",
            )
    return out


def validate_dossier(data: Mapping[str, Any] | Dossier, file: str | None = None, *,
                     stages: StageModel | None = None,
                     cost_config: CostToServeConfig | None = None,
                     scenarios: ScenarioConfig | None = None,
                     scoring: Any = None) -> Dossier:
    """Build a :class:`Dossier` from raw data, or raise :class:`~kam.errors.InputError` listing
    every problem with its file, record and field: field types and value ranges (no control
    characters in text, no yes/no where a number belongs, no figure beyond +-1e15), duplicate
    ids, references between records, deal stages the stage model (``stages``, default
    ``templates/stages.yaml``) does not know, and cost categories and activities the cost-to-serve
    configuration (``cost_config``, default ``templates/cost_to_serve.yaml``) does not know,
    interaction scenarios, steps and results the scenario configuration (``scenarios``, default
    ``templates/scenarios.yaml``) does not know, and assessed prospect factors the scoring
    configuration (``scoring``, default ``templates/scoring.yaml``) does not know or values off
    their scale --
    whatever an analysis would refuse later is refused here. A :class:`Dossier` object is checked
    as a whole again, however it was changed in place.

    Examples
    --------
    >>> d = validate_dossier({"account": {"id": "ACME", "name": "Acme Steel"}})
    >>> d.account.name
    'Acme Steel'
    >>> validate_dossier({"account": {"id": "ACME", "name": "Acme", "categry": "A"}})
    Traceback (most recent call last):
    ...
    kam.errors.InputError: account ACME, field 'categry': unknown field (a typo?)
    """
    if isinstance(data, Dossier):
        # Lists mutated in place may hold anything: dump leniently, then validate it all.
        data = data.model_dump(mode="json", warnings=False, fallback=_as_text)
    if not isinstance(data, Mapping):
        raise InputError(
            [
                ValidationProblem(
                    record="dossier",
                    field="",
                    file=file,
                    message="expected a mapping with an 'account' section, "
                    f"found {type(data).__name__}",
                )
            ]
        )
    try:
        dossier = Dossier.model_validate(data, context={"skip_references": True})
    except ValidationError as e:
        raise InputError(problems_from_pydantic(e, data, file)) from None
    problems = (reference_problems(dossier, file) + stage_problems(dossier, stages, file)
                + cost_problems(dossier, cost_config, file)
                + scenario_problems(dossier, scenarios, file)
                + assessment_problems(dossier, scoring, file))
    if problems:
        raise InputError(problems)
    return dossier


def _as_text(value: Any) -> str:
    """How a value JSON cannot hold is shown to validation (which then names it)."""
    return f"<{type(value).__name__}>"
