"""Named edits of a dossier: the operations a KAM performs, recording what the domain needs.

Every edit a person makes -- in a notebook cell, in the workbook, from a script -- goes through
one of these methods of :class:`~kam.model.Dossier`. Each one

- checks its input at once and refuses with :class:`~kam.errors.InputError` naming the record,
  the field, what was expected and what was found (the dossier is then unchanged);
- gives new records their ids (``<stem><n>`` after the highest in use, e.g. ``NS-P8``);
- records what the domain needs: :meth:`~DossierEdits.move_deal` appends to the deal's stage
  history and applies the deal stage gate (DOMAIN.md §1), :meth:`~DossierEdits.log_interaction`
  turns a next step into a commitment or a plan action, :meth:`~DossierEdits.log_step` records a
  step of a regulated scenario (DOMAIN.md §6) in its order and names the next one and its due
  date, :meth:`~DossierEdits.assess_prospect` keeps a person's judgement of prospect factors
  (DOMAIN.md §5);
- is safe to run twice: adding a record identical to one already there (all given fields equal)
  returns the one there and adds nothing, so a re-run cell saves no duplicate.

The store validates the whole dossier again on every save, however it was changed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import InputError, StageGateError, ValidationProblem
from .account import SalesStage
from .activity import Assessment, Commitment, CommitmentStatus, Interaction, factor_scales
from .base import short_repr
from .deal import Deal, DealOutcome, StageChange
from .need import Need
from .person import Person, PersonLink
from .plan import AccountPlan, Action, ActionStatus, Kpi, Objective

if TYPE_CHECKING:
    from .dossier import Dossier
    from .scenario_config import ScenarioConfig
    from .stages import StageModel

__all__ = ["DossierEdits", "next_id"]

R = TypeVar("R", bound=BaseModel)

# The id stem of a collection's first record (after the account id, e.g. ``ACME-P1``).
_STEMS = {
    "persons": "P",
    "interactions": "I",
    "needs": "N",
    "deals": "D",
    "commitments": "CM",
    "objectives": "OB",
    "strategies": "ST",
    "actions": "AC",
    "kpis": "K",
    "assessments": "AS",
}
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def next_id(existing: Iterable[str | None], stem: str) -> str:
    """A new id for a collection: the numbering of its existing ids continued (same stem,
    same zero padding), or ``stem`` + 1 for the first one.

    Examples
    --------
    >>> next_id(["NS-I009", "NS-I010", "NS-I002"], "NS-I")
    'NS-I011'
    >>> next_id(["NS-P1", "NS-P7", "boss"], "NS-P")
    'NS-P8'
    >>> next_id([], "ACME-D")
    'ACME-D1'
    """
    ids = [i for i in existing if i]
    taken = set(ids)
    numbered = [m for m in map(_NUMBERED.match, ids) if m]
    if numbered:
        # Continue the numbering most records follow.
        stems = Counter(m.group(1) for m in numbered)
        stem = stems.most_common(1)[0][0]
        same = [m for m in numbered if m.group(1) == stem]
        n = max(int(m.group(2)) for m in same)
        width = max(len(m.group(2)) for m in same if int(m.group(2)) == n)
    else:
        n, width = 0, 1
    while True:
        n += 1
        candidate = f"{stem}{n:0{width}d}"
        if candidate not in taken:
            return candidate


def _problem(record: str, field: str, message: str) -> InputError:
    return InputError([ValidationProblem(record=record, field=field, message=message)])


def _build(model: type[R], record: str, data: dict[str, Any]) -> R:
    """A record from keyword data, with pydantic's complaints named by record and field."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        from .dossier import error_message  # the dossier module imports this one

        problems = []
        for err in e.errors(include_url=False):
            field, msg = error_message(err, ".".join(str(p) for p in err["loc"]))
            problems.append(ValidationProblem(record=record, field=field, message=msg))
        raise InputError(problems) from None


def _same(existing: BaseModel, given: dict[str, Any], model: type[BaseModel]) -> bool:
    """Whether ``existing`` already holds every given field with the same value."""
    try:
        probe = model.model_validate({**existing.model_dump(), **given})
    except ValidationError:
        return False
    return probe.model_dump() == existing.model_dump()


def _updated(record: R, record_name: str, changes: dict[str, Any],
             frozen: Sequence[str] = ("id",)) -> R:
    """``record`` with ``changes`` applied, validated as a whole; ``frozen`` fields refused."""
    for f in frozen:
        if f in changes:
            raise _problem(record_name, f, f"the {f} of a record cannot be changed")
    return _build(type(record), record_name, {**record.model_dump(), **changes})


class DossierEdits:
    """The named edits of a dossier (mixed into :class:`~kam.model.Dossier`)."""

    # -- helpers ---------------------------------------------------------------------------
    def _self(self) -> Dossier:
        return self  # type: ignore[return-value]

    def _rec(self, what: str, record_id: str | None = None) -> str:
        d = self._self()
        return f"account {d.account.id} / {what}" + (f" ({record_id})" if record_id else "")

    def _new_id(self, collection: str, records: Iterable[Any]) -> str:
        d = self._self()
        return next_id((r.id for r in records), f"{d.account.id}-{_STEMS[collection]}")

    def _get(self, collection: str, records: Sequence[R], record_id: str, what: str) -> R:
        for r in records:
            if getattr(r, "id", None) == record_id:
                return r
        known = ", ".join(sorted(str(getattr(r, "id", "")) for r in records)[:12]) or "none"
        raise _problem(self._rec(collection), "id",
                       f"no {what} {short_repr(record_id)}; known: {known}")

    def _check_persons(self, record: str, field: str, ids: Iterable[str | None]) -> None:
        d = self._self()
        known = {p.id for p in d.persons}
        for pid in ids:
            if pid is not None and pid not in known:
                hint = ", ".join(sorted(known)[:12]) or "none"
                raise _problem(record, field,
                               f"refers to unknown person {short_repr(pid)}; known: {hint}")

    def _add(self, collection: str, records: list[R], model: type[R], what: str,
             fields: dict[str, Any]) -> R:
        """Append a new record (id from kam unless given), or return an identical one there."""
        given = {k: v for k, v in fields.items() if v is not None}
        record_id = given.get("id")
        for r in records:
            if record_id is not None and getattr(r, "id", None) == record_id:
                if _same(r, given, model):
                    return r
                raise _problem(self._rec(collection, record_id), "id",
                               f"a {what} with id {short_repr(record_id)} already exists")
            if record_id is None and _same(r, {**given, "id": getattr(r, "id", None)}, model):
                return r  # the same edit made again: recognised, nothing added
        if record_id is None:
            given["id"] = self._new_id(collection, records)
        record = _build(model, self._rec(f"new {what}"), given)
        records.append(record)
        return record

    def _plan(self) -> AccountPlan:
        d = self._self()
        if d.plan is None:
            raise _problem(self._rec("plan"), "", "the account has no plan yet; "
                           "start one with dossier.start_plan(period)")
        return d.plan

    # -- persons and the buying center (DOMAIN.md §1 item 4, §3) ---------------------------
    def add_person(self, name: str, *, position: str | None = None,
                   department: str | None = None, roles: Sequence[str] = (),
                   influence: float | None = None, attitude: str | None = None,
                   id: str | None = None, **fields: Any) -> Person:
        """Add a client person (id from kam unless given); an identical person is not added
        twice.

        Examples
        --------
        >>> from kam.model import Account, Dossier
        >>> d = Dossier(account=Account(id="ACME", name="Acme Steel"))
        >>> d.add_person("Eva Stark", position="Plant manager", roles=["power"]).id
        'ACME-P1'
        >>> d.add_person("Eva Stark", position="Plant manager", roles=["power"]).id
        'ACME-P1'
        >>> len(d.persons)
        1
        """
        data = {"id": id, "name": name, "position": position, "department": department,
                "roles": list(roles) or None, "influence": influence, "attitude": attitude,
                **fields}
        return self._add("persons", self._self().persons, Person, "person", data)

    def update_person(self, person_id: str, **changes: Any) -> Person:
        """Change fields of a person (position, roles, influence, attitude, motivation...)."""
        d = self._self()
        person = self._get("persons", d.persons, person_id, "person")
        new = _updated(person, self._rec("persons", person_id), changes)
        d.persons[d.persons.index(person)] = new
        return new

    def person_left(self, person_id: str, on: date) -> Person:
        """Record that a person left the client; the person is kept (DOMAIN.md §1 item 4)."""
        return self.update_person(person_id, left_on=on)

    def link_persons(self, source: str, target: str, *, strength: float = 0.5,
                     kind: str = "influences") -> PersonLink:
        """``source`` influences or can introduce us to ``target`` (who knows whom, DOMAIN.md §3).
        Linking the same pair with the same kind again updates its strength."""
        d = self._self()
        rec = self._rec("links", f"{source}->{target}")
        for name, value in (("source", source), ("target", target)):
            if not value:
                raise _problem(rec, name, f"pick the {name} person of the link")
        self._check_persons(rec, "source", [source])
        self._check_persons(rec, "target", [target])
        if source == target:
            raise _problem(rec, "target", "a person cannot be linked to themselves")
        for i, link in enumerate(d.links):
            if (link.source, link.target, link.kind) == (source, target, kind):
                d.links[i] = _updated(link, rec, {"strength": strength})
                return d.links[i]
        new = _build(PersonLink, rec, {"source": source, "target": target,
                                       "strength": strength, "kind": kind})
        d.links.append(new)
        d.assign_ids()
        return new

    def unlink_persons(self, source: str, target: str) -> None:
        """Remove every link from ``source`` to ``target``."""
        d = self._self()
        before = len(d.links)
        d.links[:] = [x for x in d.links if (x.source, x.target) != (source, target)]
        if len(d.links) == before:
            raise _problem(self._rec("links"), "source",
                           f"no link from {short_repr(source)} to {short_repr(target)}")

    # -- the need map and the opportunity matrix (DOMAIN.md §2, §4) ------------------------
    def add_need(self, title: str, *, level: str = "problem", function: str | None = None,
                 leads_to: Sequence[str] = (), id: str | None = None, **fields: Any) -> Need:
        """Add a node of the need map (a problem, criterion or effect) and link it upward."""
        d = self._self()
        rank = _build(Need, self._rec("new need"), {"id": "new", "title": title or "?",
                                                    "level": level}).level.rank
        for upper in leads_to:
            up = self._get("needs", d.needs, upper, "need")
            if up.level.rank <= rank:
                raise _problem(self._rec("new need"), "leads_to",
                               f"edges go upward only (problem -> criterion -> effect): "
                               f"{_a(str(level))} cannot lead to {short_repr(upper)}, "
                               f"{_a(up.level.value)}")
        need = self._add("needs", self._self().needs, Need, "need",
                         {"id": id, "title": title, "level": level, "function": function,
                          **fields})
        for upper in leads_to:
            self.link_needs(need.id, upper)
        return self._self().need(need.id)

    def update_need(self, need_id: str, **changes: Any) -> Need:
        """Change fields of a need; links are changed with :meth:`link_needs`."""
        d = self._self()
        need = self._get("needs", d.needs, need_id, "need")
        rec = self._rec("needs", need_id)
        if "leads_to" in changes:
            raise _problem(rec, "leads_to", "change links with link_needs / unlink_needs")
        new = _updated(need, rec, changes)
        if new.level is not need.level:
            self._check_levels(new, d.needs)
        d.needs[d.needs.index(need)] = new
        return new

    def _check_levels(self, need: Need, needs: Sequence[Need]) -> None:
        by_id = {n.id: n for n in needs}
        by_id[need.id] = need
        for n in by_id.values():
            for up in n.leads_to:
                if up in by_id and by_id[up].level.rank <= n.level.rank:
                    raise _problem(self._rec("needs", n.id), "leads_to", _downward(n, by_id[up]))

    def link_needs(self, lower: str, upper: str) -> Need:
        """Link ``lower`` to the node above it (problem -> criterion -> effect, or problem ->
        effect). Edges only go upward, so the map stays free of cycles (DOMAIN.md §2)."""
        d = self._self()
        low = self._get("needs", d.needs, lower, "need")
        up = self._get("needs", d.needs, upper, "need")
        rec = self._rec("needs", lower)
        if up.level.rank <= low.level.rank:
            raise _problem(rec, "leads_to", _downward(low, up))
        if upper in low.leads_to:
            return low
        new = low.model_copy(update={"leads_to": [*low.leads_to, upper]})
        d.needs[d.needs.index(low)] = new
        return new

    def unlink_needs(self, lower: str, upper: str) -> Need:
        """Remove the link from ``lower`` to ``upper``."""
        d = self._self()
        low = self._get("needs", d.needs, lower, "need")
        if upper not in low.leads_to:
            raise _problem(self._rec("needs", lower), "leads_to",
                           f"{short_repr(lower)} is not linked to {short_repr(upper)}")
        new = low.model_copy(update={"leads_to": [u for u in low.leads_to if u != upper]})
        d.needs[d.needs.index(low)] = new
        return new

    def assess_need(self, need_id: str, *, significance: float | None = None,
                    capability: float | None = None) -> Need:
        """Place a need in the opportunity matrix: its significance for the client and our
        capability to meet it (DOMAIN.md §4)."""
        changes = {k: v for k, v in (("significance", significance),
                                     ("capability", capability)) if v is not None}
        return self.update_need(need_id, **changes)

    # -- deals (DOMAIN.md §1 stage gate, §6) -----------------------------------------------
    def add_deal(self, title: str, *, stage: str = "lead", on: date | None = None,
                 id: str | None = None, stages: StageModel | None = None,
                 **fields: Any) -> Deal:
        """Open a deal at ``stage`` (a stage of the stage model); ``on`` starts its stage
        history (default: its ``created`` date, if given)."""
        from .stages import default_stages

        model = stages or default_stages()
        rec = self._rec("new deal")
        _known_stage(model, stage, rec)
        start = on or fields.get("created")
        history = [{"stage": stage, "on": start}] if start else None
        return self._add("deals", self._self().deals, Deal, "deal",
                         {"id": id, "title": title, "stage": stage, "history": history,
                          **fields})

    def move_deal(self, deal_id: str, stage: str, *, on: date,
                  stages: StageModel | None = None) -> Deal:
        """Move a deal into ``stage`` on ``on``: the stage is checked against the stage model,
        a move forward in the five sales stages passes the deal stage gate (DOMAIN.md §1:
        :class:`~kam.errors.StageGateError` says what is missing), and the move is appended to
        the deal's stage history. Moving a deal to the stage it is in changes nothing.

        Examples
        --------
        >>> from datetime import date
        >>> from kam.model import Account, Dossier
        >>> d = Dossier(account=Account(id="ACME", name="Acme", phone="1"))
        >>> deal = d.add_deal("Pumps", created=date(2026, 1, 5))
        >>> d.move_deal(deal.id, "potential", on=date(2026, 2, 1))
        Traceback (most recent call last):
        ...
        kam.errors.StageGateError: Deal ACME-D1 of account ACME cannot move into stage \
'potential'; missing: a contact person with position and buying-center role (persons)
        >>> _ = d.add_person("Eva Stark", position="Buyer", roles=["entry"])
        >>> [(h.stage, str(h.on)) for h in d.move_deal(deal.id, "potential",
        ...                                            on=date(2026, 2, 1)).history]
        [('lead', '2026-01-05'), ('potential', '2026-02-01')]
        """
        from .stage_gate import missing_for_deal_stage
        from .stages import default_stages

        d = self._self()
        deal = self._get("deals", d.deals, deal_id, "deal")
        model = stages or default_stages()
        rec = self._rec("deals", deal_id)
        _known_stage(model, stage, rec)
        if not isinstance(on, date):
            raise _problem(rec, "on", f"the date of the move is required; found {short_repr(on)}")
        if stage == deal.stage:
            return deal
        if deal.history and on < deal.history[-1].on:
            raise _problem(rec, "history", f"the move on {on} is before the deal's last stage "
                           f"change ({deal.history[-1].stage!r} on {deal.history[-1].on})")
        moved = deal.model_copy(update={
            "stage": stage, "history": [*deal.history, StageChange(stage=stage, on=on)]})
        if SalesStage.number_of(stage) > SalesStage.number_of(deal.stage):
            missing = missing_for_deal_stage(d, moved, stage)
            if missing:
                raise StageGateError(f"Deal {deal_id} of account {d.account.id}", stage, missing)
        d.deals[d.deals.index(deal)] = moved
        return moved

    def close_deal(self, deal_id: str, outcome: str, *, on: date, reason: str | None = None,
                   actual_budget: float | None = None) -> Deal:
        """Close a deal as ``won`` (the client orders), ``refused`` (the client refuses, with a
        reason) or ``declined`` (we decline the client) on ``on`` (DOMAIN.md §6)."""
        d = self._self()
        deal = self._get("deals", d.deals, deal_id, "deal")
        rec = self._rec("deals", deal_id)
        if outcome == DealOutcome.OPEN.value:
            raise _problem(rec, "outcome", "close a deal as won, refused or declined")
        changes: dict[str, Any] = {"outcome": outcome, "closed_on": on}
        if reason is not None:
            changes["refusal_reason"] = reason
        if actual_budget is not None:
            changes["actual_budget"] = actual_budget
        new = _updated(deal, rec, changes)
        d.deals[d.deals.index(deal)] = new
        return new

    def update_deal(self, deal_id: str, **changes: Any) -> Deal:
        """Change fields of a deal other than its stage (use :meth:`move_deal`), e.g. the
        client's ``decision_stage`` for this deal (DOMAIN.md Appendix B)."""
        d = self._self()
        deal = self._get("deals", d.deals, deal_id, "deal")
        new = _updated(deal, self._rec("deals", deal_id), changes, frozen=("id", "stage",
                                                                          "history"))
        if new.need is not None:
            self._get("needs", d.needs, new.need, "need")
        d.deals[d.deals.index(deal)] = new
        return new

    # -- the account -----------------------------------------------------------------------
    def update_account(self, **changes: Any) -> None:
        """Change fields of the account's profile (category, region, notes, ...); its id is
        fixed and its sales stage moves with :meth:`move_account`."""
        d = self._self()
        rec = f"account {d.account.id}"
        if "sales_stage" in changes:
            raise _problem(rec, "sales_stage", "move the account with move_account(stage): "
                           "it checks the stage gate")
        d.account = _updated(d.account, rec, changes)

    # -- the account's stage ---------------------------------------------------------------
    def move_account(self, stage: str) -> None:
        """Move the account into a sales stage; a move forward passes the stage gate
        (DOMAIN.md §1) at once."""
        from .stage_gate import missing_for_stage

        d = self._self()
        target = SalesStage(stage)
        if target.number > d.account.sales_stage.number:
            missing = missing_for_stage(d, target)
            if missing:
                raise StageGateError(f"Account {d.account.id}", target.value, missing)
        d.account.sales_stage = target

    # -- interactions and commitments (DOMAIN.md §1 item 3, §10) ---------------------------
    def log_interaction(self, date: date, kind: str, *, participants: Sequence[str] = (),
                        our_participants: Sequence[str] = (), summary: str = "",
                        outcome: str | None = None, next_step: str | None = None,
                        next_step_due: date | None = None, deal: str | None = None,
                        next_step_as: Literal["commitment", "action"] | None = None,
                        owner: str | None = None, id: str | None = None,
                        scenario: str | None = None, step: str | None = None,
                        result: str | None = None,
                        scenarios: ScenarioConfig | None = None) -> Interaction:
        """Log a contact with the client. A next step with a due date can become a commitment
        to the client (``next_step_as="commitment"``, promised to the first participant) or an
        action of the account plan (``"action"``), owned by ``owner`` (default: the first of
        ``our_participants``). Logging the same contact again adds nothing.

        A contact that was a step of a regulated scenario names the ``scenario``, the ``step``
        and its ``result``, checked against the scenario configuration (``scenarios``, default
        ``templates/scenarios.yaml``); :meth:`log_step` also checks the order of the steps and
        fills in the next step.

        Examples
        --------
        >>> from datetime import date
        >>> from kam.model import Account, Dossier
        >>> d = Dossier(account=Account(id="ACME", name="Acme"))
        >>> eva = d.add_person("Eva Stark")
        >>> x = d.log_interaction(date(2026, 3, 2), "meeting", participants=[eva.id],
        ...                       summary="Kick-off", next_step="Send the offer",
        ...                       next_step_due=date(2026, 3, 9), next_step_as="commitment")
        >>> x.id, d.commitments[0].description, str(d.commitments[0].due)
        ('ACME-I1', 'Send the offer', '2026-03-09')
        >>> d.log_interaction(date(2026, 3, 2), "meeting", participants=[eva.id],
        ...                   summary="Kick-off", next_step="Send the offer",
        ...                   next_step_due=date(2026, 3, 9), next_step_as="commitment").id
        'ACME-I1'
        >>> len(d.interactions), len(d.commitments)
        (1, 1)
        """
        d = self._self()
        rec = self._rec("new interaction")
        self._check_persons(rec, "participants", participants)
        if deal is not None:
            self._get("deals", d.deals, deal, "deal")
        if scenario is not None or step is not None or result is not None:
            _check_scenario_step(rec, scenarios, scenario, step, result, deal)
        if next_step_as is not None and not (next_step and next_step_due):
            raise _problem(rec, "next_step_due", f"a next step that becomes a {next_step_as} "
                           "needs the step and its due date")
        if next_step_as not in (None, "commitment", "action"):
            raise _problem(rec, "next_step_as", "options are 'commitment', 'action' or None, "
                           f"got {short_repr(next_step_as)}")
        who = owner or (our_participants[0] if our_participants else None)
        if next_step_as == "action":
            self._plan()  # refused before anything is added
            if not who:
                raise _problem(rec, "owner", "a plan action needs an owner "
                               "(owner= or our_participants)")
        interaction = self._add("interactions", d.interactions, Interaction, "interaction", {
            "id": id, "date": date, "kind": kind, "participants": list(participants) or None,
            "our_participants": list(our_participants) or None, "summary": summary or None,
            "outcome": outcome, "next_step": next_step, "next_step_due": next_step_due,
            "deal": deal, "scenario": scenario, "step": step, "result": result})
        if next_step_as == "commitment" and next_step and next_step_due:
            self.add_commitment(next_step, next_step_due, made_on=date, owner=who,
                                to_person=participants[0] if participants else None)
        elif next_step_as == "action" and next_step and next_step_due and who:
            self.add_action(next_step, who, next_step_due, start=date)
        return interaction

    def log_step(self, scenario: str, step: str, result: str, *, on: date,
                 deal: str | None = None, kind: str | None = None,
                 participants: Sequence[str] = (), our_participants: Sequence[str] = (),
                 summary: str = "", id: str | None = None,
                 scenarios: ScenarioConfig | None = None) -> Interaction:
        """Record a step of a regulated scenario (DOMAIN.md §6) run for the account
        (``deal=None``) or for a deal, with its result, as an interaction on ``on``.

        The step must be the one the scenario is at (:func:`~kam.model.expected_step`): the
        start step when no run is open, else the step the last result led to. ``kind`` defaults
        to the step's kind; the next step (where the result leads) and its due date (``on`` +
        its ``due_days``) are recorded as the interaction's next step. Recording the same step
        again adds nothing.

        Examples
        --------
        >>> from datetime import date
        >>> from kam.model import Account, Dossier
        >>> d = Dossier(account=Account(id="ACME", name="Acme"))
        >>> x = d.log_step("first-contact", "intro-email", "no reply", on=date(2026, 3, 2))
        >>> x.kind.value, x.next_step, str(x.next_step_due)
        ('email', 'Reminder call to the addressee of the e-mail', '2026-03-09')
        >>> d.log_step("first-contact", "presentation", "interested", on=date(2026, 3, 9))
        Traceback (most recent call last):
        ...
        kam.errors.InputError: account ACME / new interaction, field 'step': scenario \
'first-contact' of the account is at step 'reminder-call' (due 2026-03-09), not 'presentation'; \
record that step first
        """
        from .scenario_config import ENDS, default_scenarios, expected_step

        d = self._self()
        rec = self._rec("new interaction")
        cfg = scenarios if scenarios is not None else default_scenarios()
        _check_scenario_step(rec, cfg, scenario, step, result, deal)
        if deal is not None:
            self._get("deals", d.deals, deal, "deal")
        for x in d.interactions:  # the same step recorded again: recognised, nothing added
            if ((x.date, x.scenario, x.step, x.result, x.deal) == (on, scenario, step, result, deal)
                    and (id is None or x.id == id)):
                return x
        if not isinstance(on, date):
            raise _problem(rec, "on", f"the date of the step is required; found {short_repr(on)}")
        pos = expected_step(d.interactions, scenario, deal=deal, scenarios=cfg)
        whose = f"deal {deal}" if deal is not None else "the account"
        if step != pos.step:
            due = f" (due {pos.due})" if pos.due else ""
            raise _problem(rec, "step", f"scenario {scenario!r} of {whose} is at step "
                           f"{pos.step!r}{due}, not {short_repr(step)}; record that step first")
        if pos.last is not None and on < pos.last.date:
            raise _problem(rec, "on", f"the step on {on} is before the previous step of the run "
                           f"({pos.last.step!r} on {pos.last.date})")
        s = cfg.scenarios[scenario]
        target = s.steps[step].results[result]
        nxt = s.steps.get(target)
        return self.log_interaction(
            on, kind or s.steps[step].kind.value, participants=participants,
            our_participants=our_participants, summary=summary, deal=deal, id=id,
            next_step=None if target in ENDS or nxt is None else (nxt.label or target),
            next_step_due=None if nxt is None else on + timedelta(days=nxt.due_days),
            scenario=scenario, step=step, result=result, scenarios=cfg)

    # -- prospect assessment (DOMAIN.md §5) ------------------------------------------------
    def assess_prospect(self, values: Mapping[str, float], *, by: str, on: date,
                        note: str | None = None, id: str | None = None,
                        scoring: Any = None) -> Assessment:
        """Record ``by``'s judgement of prospect factors on ``on``: ``values`` maps factors of
        the scoring configuration (``scoring``, default ``templates/scoring.yaml``) to values on
        their scales. Prospect scoring uses the latest value of each factor. Recording the same
        judgement again adds nothing.

        Examples
        --------
        >>> from datetime import date
        >>> from kam.model import Account, Dossier
        >>> d = Dossier(account=Account(id="ACME", name="Acme"))
        >>> d.assess_prospect({"competitors": 4}, by="ann", on=date(2026, 3, 2)).id
        'ACME-AS1'
        >>> d.assess_prospect({"competitors": 9}, by="ann", on=date(2026, 3, 2))
        Traceback (most recent call last):
        ...
        kam.errors.InputError: account ACME / new assessment, field 'values.competitors': 9 is \
outside the scale 1..5 of factor 'competitors'
        """
        rec = self._rec("new assessment")
        scales = factor_scales(scoring)
        problems = []
        if not isinstance(values, Mapping) or not values:
            raise _problem(rec, "values", "give at least one factor and its value, e.g. "
                           "{'competitors': 4}")
        for fid, value in values.items():
            if fid not in scales:
                problems.append(ValidationProblem(rec, f"values.{fid}", (
                    f"unknown factor {short_repr(fid)}; factors: {', '.join(scales)}")))
            elif (not isinstance(value, bool) and isinstance(value, int | float)
                  and not scales[fid][0] <= value <= scales[fid][1]):
                lo, hi = scales[fid]
                problems.append(ValidationProblem(rec, f"values.{fid}", (
                    f"{value:g} is outside the scale {lo:g}..{hi:g} of factor {fid!r}")))
        if problems:
            raise InputError(problems)
        return self._add("assessments", self._self().assessments, Assessment, "assessment",
                         {"id": id, "on": on, "by": by, "values": dict(values), "note": note})

    def add_commitment(self, description: str, due: date, *, made_on: date | None = None,
                       owner: str | None = None, to_person: str | None = None,
                       id: str | None = None) -> Commitment:
        """Record a promise made to the client; an open one past due is a trust warning."""
        rec = self._rec("new commitment")
        self._check_persons(rec, "to_person", [to_person])
        return self._add("commitments", self._self().commitments, Commitment, "commitment",
                         {"id": id, "description": description, "due": due,
                          "made_on": made_on, "owner": owner, "to_person": to_person})

    def complete_commitment(self, commitment_id: str, *, on: date,
                            status: str = "done") -> Commitment:
        """Mark a commitment kept (``done``), ``broken`` or ``cancelled``."""
        d = self._self()
        c = self._get("commitments", d.commitments, commitment_id, "commitment")
        rec = self._rec("commitments", commitment_id)
        if status == CommitmentStatus.OPEN.value:
            raise _problem(rec, "status", "options are done, broken or cancelled, got 'open'")
        new = _updated(c, rec, {"status": status, "done_on": on})
        d.commitments[d.commitments.index(c)] = new
        return new

    # -- the account plan (DOMAIN.md §10) --------------------------------------------------
    def start_plan(self, period: str) -> AccountPlan:
        """Start the account plan for a period (the plan there is kept if it has that period)."""
        d = self._self()
        if d.plan is not None:
            if d.plan.period == period:
                return d.plan
            raise _problem(self._rec("plan"), "period",
                           f"the account already has a plan for {d.plan.period!r}")
        d.plan = _build(AccountPlan, self._rec("plan"), {"period": period})
        return d.plan

    def add_objective(self, title: str, metric: str, *, baseline: float, target: float,
                      due: date, id: str | None = None, **fields: Any) -> Objective:
        """Add a measurable objective to the plan."""
        plan = self._plan()
        obj = self._add("objectives", plan.objectives, Objective, "objective",
                        {"id": id, "title": title, "metric": metric, "baseline": baseline,
                         "target": target, "due": due, **fields})
        d = self._self()
        for n in obj.needs:
            self._get("needs", d.needs, n, "need")
        for x in obj.deals:
            self._get("deals", d.deals, x, "deal")
        return obj

    def update_objective(self, objective_id: str, **changes: Any) -> Objective:
        """Change an objective, e.g. its ``current`` value."""
        plan = self._plan()
        obj = self._get("objectives", plan.objectives, objective_id, "objective")
        new = _updated(obj, self._rec("plan / objectives", objective_id), changes)
        plan.objectives[plan.objectives.index(obj)] = new
        return new

    def add_action(self, title: str, owner: str, due: date, *, start: date | None = None,
                   strategy: str | None = None, objective: str | None = None,
                   id: str | None = None) -> Action:
        """Add an action with an owner (a client person or one of our team) and a due date."""
        plan = self._plan()
        if objective is not None:
            self._get("objectives", plan.objectives, objective, "objective")
        if strategy is not None:
            self._get("strategies", plan.strategies, strategy, "strategy")
        return self._add("actions", plan.actions, Action, "action",
                         {"id": id, "title": title, "owner": owner, "due": due, "start": start,
                          "strategy": strategy, "objective": objective})

    def complete_action(self, action_id: str, *, on: date) -> Action:
        """Mark a plan action done on ``on``."""
        plan = self._plan()
        action = self._get("actions", plan.actions, action_id, "action")
        new = _updated(action, self._rec("plan / actions", action_id),
                       {"status": ActionStatus.DONE.value, "done_on": on})
        plan.actions[plan.actions.index(action)] = new
        return new

    def add_kpi(self, name: str, target: float, *, unit: str | None = None,
                higher_is_better: bool = True, objective: str | None = None,
                id: str | None = None) -> Kpi:
        """Add a KPI (a control with target vs actual) to the plan."""
        plan = self._plan()
        if objective is not None:
            self._get("objectives", plan.objectives, objective, "objective")
        return self._add("kpis", plan.kpis, Kpi, "KPI",
                         {"id": id, "name": name, "target": target, "unit": unit,
                          "higher_is_better": higher_is_better, "objective": objective})

    def set_kpi_actual(self, kpi_id: str, actual: float) -> Kpi:
        """Record the actual value of a KPI."""
        plan = self._plan()
        kpi = self._get("kpis", plan.kpis, kpi_id, "KPI")
        new = _updated(kpi, self._rec("plan / kpis", kpi_id), {"actual": actual})
        plan.kpis[plan.kpis.index(kpi)] = new
        return new


def _downward(low: Need, up: Need) -> str:
    return (f"edges go upward only (problem -> criterion -> effect): {low.id!r} is "
            f"{_a(low.level.value)} and {up.id!r} {_a(up.level.value)}")


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _known_stage(model: StageModel, stage: str, record: str) -> None:
    try:
        model.position(stage)
    except ValueError:
        raise _problem(record, "stage", model.unknown_message(stage)) from None


def _check_scenario_step(record: str, scenarios: ScenarioConfig | None, scenario: str | None,
                         step: str | None, result: str | None, deal: str | None) -> None:
    """Refuse a scenario step the scenario configuration does not know."""
    from .scenario_config import default_scenarios

    for name, value in (("scenario", scenario), ("step", step), ("result", result)):
        if not value:
            raise _problem(record, name, "a scenario step records the scenario, the step and "
                           f"its result; {name} is missing")
    cfg = scenarios if scenarios is not None else default_scenarios()
    s = cfg.scenarios.get(str(scenario))
    if s is None:
        raise _problem(record, "scenario", cfg.unknown_message(scenario))
    if s.applies_to == "deal" and deal is None:
        raise _problem(record, "deal", f"scenario {scenario!r} is run for a deal: name the deal")
    if s.applies_to == "account" and deal is not None:
        raise _problem(record, "deal", f"scenario {scenario!r} is run for the account, not for "
                       "a deal: leave the deal out or pick a deal scenario")
    at = s.steps.get(str(step))
    if at is None:
        raise _problem(record, "step", f"unknown step {short_repr(step)} of scenario "
                       f"{scenario!r}; steps: {', '.join(s.steps)}")
    if result not in at.results:
        raise _problem(record, "result", f"unknown result {short_repr(result)} of step "
                       f"{step!r} (scenario {scenario!r}); results: {', '.join(at.results)}")
