"""Regulated interaction scenarios: fixed, possibly branched sequences of steps (DOMAIN.md §6).

A scenario is configuration (``templates/scenarios.yaml``). Each step (an e-mail, a company
presentation, a personal negotiation, a reminder, ...) has its defined results, and each result
leads to the next step or to an end (:data:`ENDS`: ``won``, ``lost``, ``ended``); ``due_days``
says how many days after the previous step a step is due. A scenario is checked when it is read:
every step is reachable from the start, every result leads to a step of the scenario or to an
end, and no loop runs without an exit (so every branch ends).

An account or a deal *runs* a scenario: each interaction logged in it names the scenario, the
step and its result (:class:`~kam.model.Interaction`). A *run* starts at the start step and lasts
until a result leads to an end; the next interaction of the same scenario (for the same deal, or
for the account) starts a new run. :func:`scenario_problems` checks the interactions of a
dossier against the configuration on every save; :func:`expected_step` says which step an
account or deal is at.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from ..config import ConfigSource, load_config
from ..errors import ValidationProblem
from .activity import Interaction, InteractionKind
from .base import check_id, short_repr

if TYPE_CHECKING:
    from .dossier import Dossier

__all__ = [
    "ENDS",
    "RunPosition",
    "Scenario",
    "ScenarioConfig",
    "ScenarioStep",
    "default_scenarios",
    "expected_step",
    "load_scenarios",
    "scenario_problems",
]

ENDS = ("won", "lost", "ended")
"""Where a scenario ends: ``won`` (the client orders), ``lost`` (the client refuses) or
``ended`` (the scenario is over without either, e.g. no reply after the last reminder)."""


class ScenarioStep(BaseModel):
    """One step: what is done, when it is due and where each of its results leads."""

    model_config = ConfigDict(extra="forbid")
    label: str = ""
    kind: InteractionKind = Field(InteractionKind.OTHER,
                                  description="The kind of interaction the step is.")
    due_days: int = Field(0, ge=0, le=3650,
                          description="Days after the previous step when this one is due.")
    results: dict[str, str] = Field(
        default_factory=dict, description="Result -> the step it leads to, or an end.")
    description: str = ""

    def leads_to(self, result: str) -> str:
        """Where ``result`` leads (a step id or an end)."""
        return self.results[result]


class Scenario(BaseModel):
    """A regulated scenario: its start step and its steps (in the order they are shown)."""

    model_config = ConfigDict(extra="forbid")
    label: str = ""
    applies_to: Literal["account", "deal", "any"] = Field(
        "any", description="Whether a deal, an account (without a deal) or either runs it.")
    start: str
    steps: dict[str, ScenarioStep] = Field(min_length=1)
    description: str = ""

    @model_validator(mode="after")
    def _well_formed(self) -> Scenario:
        problems = _structure_problems(self)
        if problems:
            raise PydanticCustomError("scenario", "{problems}", {"problems": "; ".join(problems)})
        return self

    @property
    def step_ids(self) -> list[str]:
        return list(self.steps)

    def step(self, step_id: str) -> ScenarioStep:
        """The step with that id; ``KeyError`` naming the steps if none."""
        try:
            return self.steps[step_id]
        except KeyError:
            raise KeyError(f"no step {step_id!r}; steps: {', '.join(self.steps)}") from None


def _structure_problems(s: Scenario) -> list[str]:
    """What is wrong with the shape of a scenario, one sentence per problem."""
    steps = ", ".join(s.steps)
    ends = ", ".join(ENDS)
    out: list[str] = []
    for sid, step in s.steps.items():
        try:
            check_id(sid)
        except ValueError as e:
            out.append(f"step {short_repr(sid)}: {e}")
        if sid in ENDS:
            out.append(f"step {sid!r}: {', '.join(ENDS)} are the ends of a scenario; give the "
                       "step another id")
        if not step.results:
            out.append(f"step {sid!r}, field 'results': a step needs at least one result and "
                       f"where it leads (a step: {steps}; or an end: {ends})")
        for result, target in step.results.items():
            if not result.strip():
                out.append(f"step {sid!r}, field 'results': a result needs a name")
            if target not in s.steps and target not in ENDS:
                out.append(f"step {sid!r}, field 'results.{result}': leads to unknown step "
                           f"{short_repr(target)}; steps: {steps}; ends: {ends}")
    if s.start not in s.steps:
        out.append(f"field 'start': unknown step {short_repr(s.start)}; steps: {steps}")
    if out:
        return out  # the graph checks need known targets and a known start
    import networkx as nx  # here: importing kam must not load the analysis stack

    graph = nx.DiGraph()
    graph.add_nodes_from([*s.steps, *ENDS])
    graph.add_edges_from((sid, t) for sid, step in s.steps.items() for t in step.results.values())
    reachable = nx.descendants(graph, s.start) | {s.start}
    for sid in s.steps:
        if sid not in reachable:
            out.append(f"step {sid!r} cannot be reached from the start step {s.start!r}: no "
                       "result leads to it; lead a result to it or remove it")
    ending = set().union(*(nx.ancestors(graph, e) for e in ENDS))
    stuck = graph.subgraph([sid for sid in s.steps if sid not in ending])
    for component in nx.strongly_connected_components(stuck):
        closed = [sid for sid in s.steps if sid in component]  # config order
        if any(t not in component for sid in closed for t in s.steps[sid].results.values()):
            continue  # leads into a loop reported on its own
        path = " -> ".join([*closed, closed[0]])
        out.append(f"step(s) {path} loop without an exit: no result of "
                   f"{'them' if len(closed) > 1 else 'it'} leads to an end ({ends}) or out of "
                   "the loop; add a result that does")
    return out


class ScenarioConfig(BaseModel):
    """The regulated scenarios (``templates/scenarios.yaml``)."""

    model_config = ConfigDict(extra="forbid")
    due_soon_days: int = Field(7, ge=0, le=365,
                               description="A step due within this many days is due soon.")
    scenarios: dict[str, Scenario] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids(self) -> ScenarioConfig:
        for sid in self.scenarios:
            try:
                check_id(sid)
            except ValueError as e:
                raise PydanticCustomError("scenario_id", "scenario {sid}: {e}",
                                          {"sid": short_repr(sid), "e": str(e)}) from None
        return self

    def scenario(self, scenario_id: str) -> Scenario:
        """The scenario with that id; ``KeyError`` naming the scenarios if none."""
        try:
            return self.scenarios[scenario_id]
        except KeyError:
            raise KeyError(self.unknown_message(scenario_id)) from None

    def unknown_message(self, scenario_id: object) -> str:
        return (f"unknown scenario {short_repr(scenario_id)}; scenarios: "
                f"{', '.join(self.scenarios)}; add it to scenarios.yaml or pick one of these")


def load_scenarios(source: ConfigSource = None, **overrides: Any) -> ScenarioConfig:
    """Read the regulated scenarios (default: ``templates/scenarios.yaml``).

    ``source`` may also be a :class:`ScenarioConfig` or a mapping of the settings to change;
    keyword arguments change single settings. Errors (:class:`~kam.errors.ConfigError`) name
    the file, the scenario, the step and the field.

    Examples
    --------
    >>> cfg = load_scenarios()
    >>> cfg.scenarios["first-contact"].start
    'intro-email'
    >>> load_scenarios({"scenarios": {"x": {"start": "a", "steps": {
    ...     "a": {"results": {"no reply": "a"}}}}}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kam.errors.ConfigError: settings given in Python: scenarios.x: step(s) a -> a loop without \
an exit: ...
    """
    return load_config(ScenarioConfig, source, default="scenarios.yaml", overrides=overrides)



@functools.cache
def _default(path: str | None) -> ScenarioConfig:
    return load_scenarios(path)


def default_scenarios() -> ScenarioConfig:
    """The scenarios of ``templates/scenarios.yaml`` (read once): what saves and named edits
    check interactions against unless told otherwise."""
    return _default(None)


def _config(scenarios: ScenarioConfig | str | Path | None) -> ScenarioConfig:
    if isinstance(scenarios, ScenarioConfig):
        return scenarios
    return default_scenarios() if scenarios is None else load_scenarios(scenarios)


@dataclass(frozen=True)
class RunPosition:
    """Where an account (``deal`` is ``None``) or a deal stands in a scenario.

    ``step`` is the step to do next (the start step when no run is open), ``due`` when it is due
    (``None`` before a run started), ``last`` the interaction that recorded the previous step of
    the open run (``None`` when no run is open) and ``last_end`` the end of the latest closed run.
    """

    scenario: str
    deal: str | None
    step: str
    due: date | None
    last: Interaction | None
    last_end: str | None

    @property
    def is_open(self) -> bool:
        return self.last is not None


def expected_step(interactions: Sequence[Interaction], scenario_id: str, *,
                  deal: str | None = None,
                  scenarios: ScenarioConfig | str | Path | None = None) -> RunPosition:
    """The step an account (``deal=None``) or a deal is at in a scenario, from its logged
    interactions (in date order; the order they were logged breaks ties).

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Interaction
    >>> x = Interaction(id="I1", date=date(2026, 3, 2), kind="email", scenario="first-contact",
    ...                 step="intro-email", result="no reply")
    >>> pos = expected_step([x], "first-contact")
    >>> pos.step, str(pos.due)
    ('reminder-call', '2026-03-09')
    """
    cfg = _config(scenarios)
    scenario = cfg.scenario(scenario_id)
    logged = sorted(((x.date, i, x) for i, x in enumerate(interactions)
                     if x.scenario == scenario_id and x.deal == deal),
                    key=lambda t: (t[0], t[1]))
    step, due, last, end = scenario.start, None, None, None
    for _, _, x in logged:
        at = scenario.steps.get(x.step or "")
        target = at.results.get(x.result or "") if at is not None else None
        if target is None:
            continue  # refused at the door; an unsaved edit may still hold it
        if target in ENDS:
            step, due, last, end = scenario.start, None, None, target
        else:
            step, due, last = target, x.date + timedelta(days=scenario.steps[target].due_days), x
    return RunPosition(scenario_id, deal, step, due, last, end)


def scenario_problems(dossier: Dossier, scenarios: ScenarioConfig | None = None,
                      file: str | None = None) -> list[ValidationProblem]:
    """Interactions whose scenario, step or result the scenario configuration (default
    ``templates/scenarios.yaml``, read only when an interaction names a scenario) does not know,
    and scenarios run by the wrong kind of record (an account-only scenario about a deal, a deal
    scenario without a deal).

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier, Interaction
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), interactions=[Interaction(
    ...     id="I1", date=date(2026, 3, 2), kind="email", scenario="first-contact",
    ...     step="intro-mail", result="replied")])
    >>> print(scenario_problems(d)[0])  # doctest: +ELLIPSIS
    account ACME / interactions[0] (I1), field 'step': unknown step 'intro-mail' of scenario ...
    """
    runs = [(i, x) for i, x in enumerate(dossier.interactions) if x.scenario is not None]
    if not runs:
        return []
    cfg = scenarios if scenarios is not None else default_scenarios()
    out: list[ValidationProblem] = []
    for i, x in runs:
        rec = f"account {dossier.account.id} / interactions[{i}] ({x.id})"

        def bad(field: str, message: str, rec: str = rec) -> None:
            out.append(ValidationProblem(rec, field, message, file))

        s = cfg.scenarios.get(x.scenario or "")
        if s is None:
            bad("scenario", cfg.unknown_message(x.scenario))
            continue
        if s.applies_to == "deal" and x.deal is None:
            bad("deal", f"scenario {x.scenario!r} is run for a deal: name the deal the "
                "interaction was about")
        elif s.applies_to == "account" and x.deal is not None:
            bad("deal", f"scenario {x.scenario!r} is run for the account, not for a deal: "
                "leave the deal out or pick a deal scenario")
        step = s.steps.get(x.step or "")
        if step is None:
            bad("step", f"unknown step {short_repr(x.step)} of scenario {x.scenario!r}; "
                f"steps: {', '.join(s.steps)}")
            continue
        if x.result not in step.results:
            bad("result", f"unknown result {short_repr(x.result)} of step {x.step!r} "
                f"(scenario {x.scenario!r}); results: {', '.join(step.results)}")
    return out


