"""Building blocks of the demo: the reference date, our team, the product catalogue, and the
compact spec an account is written in (hand-written content plus parameters for the numbers
that :mod:`kam.demo.generate` fills in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..model import (
    Account,
    AccountPlan,
    Action,
    Commitment,
    Deal,
    Employment,
    FinancialState,
    Interaction,
    Kpi,
    MarketFacts,
    Need,
    Objective,
    Person,
    PersonLink,
    Project,
    StageChange,
    Strategy,
    Team,
    TeamMember,
)

__all__ = [
    "GROUPS",
    "TODAY",
    "AccountSpec",
    "Milestone",
    "Routine",
    "Trade",
    "account",
    "action",
    "commitment",
    "contact",
    "deal",
    "job",
    "kpi",
    "link",
    "need",
    "objective",
    "person",
    "plan",
    "project",
    "strategy",
    "team",
]

TODAY = date(2026, 11, 1)
"""The date the demo is "as of": analyses take ``today`` as a parameter; pass this one."""

DIRECTOR = "elena.vogt"
CLIENT_MANAGER = "ben.okafor"


def team() -> Team:
    """Our sales team: a sales director (planner), four KAMs and a client-manager."""
    def m(id_: str, name: str, role: str, region: str | None) -> TeamMember:
        return TeamMember(id=id_, name=name, role=role,
                          region=region, manager=None if id_ == DIRECTOR else DIRECTOR)

    return Team(members=[
        m(DIRECTOR, "Elena Vogt", "planner", None),
        m("tom.hale", "Tom Hale", "kam", "North"),
        m("maria.lind", "Maria Lind", "kam", "South"),
        m("raj.patel", "Raj Patel", "kam", "East"),
        m("sofia.costa", "Sofia Costa", "kam", "West"),
        m(CLIENT_MANAGER, "Ben Okafor", "client manager", "Central"),
    ])


# Product groups we sell: (gross margin at list-discounted price, average unit price, products).
GROUPS: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "drives": (0.30, 4200.0, ("Frequency converter 90 kW", "Medium-voltage drive 1.2 MW",
                              "Servo drive set")),
    "pumps": (0.28, 2600.0, ("Slurry pump SP-400", "Hygienic centrifugal pump",
                             "Booster pump set")),
    "bearings": (0.36, 140.0, ("Spherical roller bearings", "Sealed deep-groove bearings",
                               "Split housing units")),
    "automation": (0.40, 1500.0, ("PLC retrofit kit", "Remote I/O stations",
                                  "Condition-monitoring sensors")),
    "services": (0.52, 620.0, ("Preventive maintenance contract", "Field service hours",
                               "Vibration analysis service")),
}

# Booked cost categories, as templates/cost_to_serve.yaml names them. On-invoice price discounts
# are not booked: they are list_value - revenue of the revenue lines; "rebates" are the volume
# rebates paid back after the sale.
COST_CATEGORIES = ("sales visits", "key-account team", "technical support", "order handling",
                   "logistics", "rebates", "special programmes")
DISCOUNTS = "price discounts"  # the computed category; it has a budget but no cost lines
ACTIVITIES = ("order", "sales visit", "delivery", "delivery mile", "unit handled",
              "expedited delivery")


@dataclass(frozen=True)
class Milestone:
    """One saved revision in the history of an account: the state as of ``on`` (records dated
    later are left out) with the stages it had then. The last milestone is the full dossier."""

    on: date
    author: str
    message: str
    sales: str
    relationship: str
    decision: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)  # other account fields as of then


@dataclass(frozen=True)
class Trade:
    """Parameters of the monthly revenue, cost and activity lines of a buying account."""

    start: str  # first month with sales, "2024-06"
    annual: float  # yearly revenue at the start
    growth: float  # yearly growth rate
    mix: dict[str, float]  # product group -> share of revenue
    peak: int = 10  # month of the seasonal peak
    amplitude: float = 0.12
    discount: float = 0.10  # average on-invoice discount off list price
    margin_shift: float = 0.0  # added to every group's gross margin
    orders: float = 6.0  # orders a month
    visits: float = 2.0  # sales visits a month
    miles: float = 60.0  # delivery miles per delivery
    expedited: float = 0.05  # share of deliveries sent expedited
    team_month: float = 4000.0  # key-account team cost a month
    support_hours: float = 10.0  # technical-support hours a month
    rebate: float = 0.01  # quarterly volume rebate, share of the quarter's revenue
    programmes: float = 0.0  # average monthly spend on special programmes
    decline_from: str | None = None  # month from which revenue falls away
    decline: float = 0.0  # yearly rate of that fall
    overrun: tuple[str, ...] = ()  # cost categories budgeted far too low


@dataclass(frozen=True)
class Routine:
    """Parameters of the routine deals generated around the hand-written key deals."""

    count: int
    first: date  # earliest creation date
    base: float  # typical planned budget
    win_rate: float = 0.5
    can_win: bool = True  # prospects never win a routine deal (it would make them buyers)


@dataclass
class AccountSpec:
    """Everything hand-written about one demo account."""

    prefix: str  # of the record ids, e.g. "NS"
    account: Account
    persons: list[tuple[Person, date]]  # (person, known to us since)
    links: list[PersonLink]
    needs: list[Need]
    needs_since: date
    deals: list[Deal]
    commitments: list[Commitment]
    milestones: list[Milestone]
    contact_every: float  # mean days between logged contacts
    last_contact: date
    projects: list[Project] = field(default_factory=list)
    contacts: list[Interaction] = field(default_factory=list)  # hand-written key contacts
    plan: AccountPlan | None = None
    trade: Trade | None = None
    routine: Routine | None = None
    topics: tuple[str, ...] = ()  # what contacts are about
    single_threaded: str | None = None  # the one person we ever talk to
    revenue_kpi: tuple[str, float] | None = None  # (kpi id, revenue target Jan-Oct this year)

    @property
    def created(self) -> date:
        return self.milestones[0].on


# -- compact constructors ------------------------------------------------------------------

def account(id_: str, name: str, **kw: Any) -> Account:
    """An account; ``financial`` and ``market`` may be given as dicts."""
    fin = kw.pop("financial", {})
    mkt = kw.pop("market", {})
    return Account(id=id_, name=name, financial=FinancialState(**fin),
                   market=MarketFacts(**mkt), **kw)


def person(id_: str, name: str, position: str, department: str, roles: str,
           influence: float, attitude: str, reached_by: str = "", **kw: Any) -> Person:
    """A person; ``roles`` and ``reached_by`` are comma-separated."""
    return Person(id=id_, name=name, position=position, department=department,
                  roles=[r.strip() for r in roles.split(",") if r.strip()],
                  influence=influence, attitude=attitude,
                  reached_by=[t.strip() for t in reached_by.split(",") if t.strip()], **kw)


def job(company: str, position: str, start: date, end: date | None = None) -> Employment:
    return Employment(company=company, position=position, start=start, end=end)


def link(source: str, target: str, strength: float, kind: str = "influences") -> PersonLink:
    return PersonLink(source=source, target=target, strength=strength, kind=kind)


def need(id_: str, level: str, title: str, function: str, significance: float,
         capability: float, to: tuple[str, ...] = (), **kw: Any) -> Need:
    """A need-map node; ``to`` are the ids of the nodes above it."""
    return Need(id=id_, title=title, level=level, function=function,
                significance=significance, capability=capability, leads_to=list(to), **kw)


_PROBABILITY = {"lead": 0.1, "potential": 0.25, "sale": 0.5}


def deal(id_: str, title: str, group: str, path: str, outcome: str, manager: str,
         planned: float, **kw: Any) -> Deal:
    """A deal whose ``path`` is ``"lead 2024-03-01, potential 2024-04-02, ..."``: the stages it
    went through with their dates; a last step ``closed <date>`` closes a refused or declined
    deal later than its last stage change, a won deal closes when it enters its last stage.
    Budgets, product, period and probability follow unless given."""
    steps = [step.split() for step in path.split(",")]
    history = [StageChange(stage=s, on=date.fromisoformat(d)) for s, d in steps if s != "closed"]
    closed_on = next((date.fromisoformat(d) for s, d in steps if s == "closed"), None)
    if outcome != "open" and (closed_on is None or outcome == "won"):
        closed_on = history[-1].on
    created = history[0].on
    kw.setdefault("refined_budget", round(planned * 0.9, -3)
                  if any(h.stage == "sale" for h in history) else None)
    if outcome == "won":
        kw.setdefault("actual_budget", round((kw["refined_budget"] or planned) * 0.96, -3))
    expected = kw.pop("expected_close", None) or closed_on or history[-1].on
    kw.setdefault("probability", 1.0 if outcome == "won" else 0.0 if closed_on
                  else _PROBABILITY.get(history[-1].stage, 0.5))
    kw.setdefault("product", GROUPS[group][2][0])
    return Deal(id=id_, title=title, product_group=group, stage=history[-1].stage,
                outcome=outcome, manager=manager, planned_budget=planned,
                created=created, plan_date=kw.pop("plan_date", created),
                expected_close=expected, closed_on=closed_on,
                period=kw.pop("period", f"{expected:%Y-%m}"), history=history, **kw)


def contact(id_: str, on: date, kind: str, participants: str, ours: str, summary: str,
            outcome: str, next_step: str | None = None, deal: str | None = None) -> Interaction:
    """A hand-written contact; ``participants`` and ``ours`` are comma-separated ids."""
    return Interaction(id=id_, date=on, kind=kind,
                       participants=[x.strip() for x in participants.split(",") if x.strip()],
                       our_participants=[x.strip() for x in ours.split(",") if x.strip()],
                       summary=summary, outcome=outcome, next_step=next_step, deal=deal)


def commitment(id_: str, description: str, made_on: date, due: date, status: str = "open",
               **kw: Any) -> Commitment:
    if status == "done":
        kw.setdefault("done_on", due)
    return Commitment(id=id_, description=description, made_on=made_on, due=due,
                      status=status, **kw)


def project(id_: str, name: str, start: date, end: date | None, status: str,
            satisfaction: int | None, quality: int | None, **kw: Any) -> Project:
    return Project(id=id_, name=name, start=start, end=end, status=status,
                   satisfaction=satisfaction, quality=quality, **kw)


def objective(id_: str, title: str, metric: str, baseline: float, target: float,
              current: float | None, due: date, **kw: Any) -> Objective:
    return Objective(id=id_, title=title, metric=metric, baseline=baseline, target=target,
                     current=current, due=due, **kw)


def strategy(id_: str, title: str, *objectives: str) -> Strategy:
    return Strategy(id=id_, title=title, objectives=list(objectives))


def action(id_: str, title: str, owner: str, due: date, status: str = "open", **kw: Any) -> Action:
    if status == "done":
        kw.setdefault("done_on", due)
    return Action(id=id_, title=title, owner=owner, due=due, status=status,
                  **kw)


def kpi(id_: str, name: str, target: float, actual: float | None, unit: str,
        objective: str | None = None, higher_is_better: bool = True) -> Kpi:
    return Kpi(id=id_, name=name, target=target, actual=actual, unit=unit,
               objective=objective, higher_is_better=higher_is_better)


def plan(period: str, reviewed_on: date, objectives: list[Objective],
         strategies: list[Strategy], actions: list[Action], kpis: list[Kpi]) -> AccountPlan:
    return AccountPlan(period=period, reviewed_on=reviewed_on, objectives=objectives,
                       strategies=strategies, actions=actions, kpis=kpis)
