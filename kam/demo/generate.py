"""The generated part of a demo dossier: logged contacts, routine deals, monthly revenue, cost
and activity lines, yearly cost budgets and rating entries.

Every function draws from the ``random.Random`` it is given, so a fixed seed gives the same
dossier on every run and every machine.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date, timedelta

from ..model import (
    ActivityLine,
    Budget,
    CostLine,
    Deal,
    Interaction,
    RatingEntry,
    RevenueLine,
    StageChange,
)
from .spec import (
    ACTIVITIES,
    CLIENT_MANAGER,
    DIRECTOR,
    DISCOUNTS,
    GROUPS,
    TODAY,
    AccountSpec,
    Trade,
)

__all__ = ["interactions", "kam_on", "months", "prospect_costs", "ratings", "routine_deals",
           "trade_lines"]

LAST_MONTH = f"{TODAY.replace(day=1) - timedelta(days=1):%Y-%m}"  # the last complete month
VISIT_COST = 450.0  # per sales visit
ORDER_COST = 30.0  # per order handled
SUPPORT_RATE = 85.0  # per technical-support hour
DELIVERY_COST, MILE_COST, EXPEDITE_COST = 120.0, 1.1, 380.0


def months(start: str, end: str = LAST_MONTH) -> list[str]:
    """``["2024-01", "2024-02", ...]`` from ``start`` to ``end`` inclusive."""
    y, m = int(start[:4]), int(start[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def kam_on(spec: AccountSpec, day: date) -> str:
    """Our KAM for the account on ``day`` (the previous one before a hand-over)."""
    a = spec.account
    if a.kam_since and day < a.kam_since and a.previous_kams:
        return a.previous_kams[-1]
    return a.kam or DIRECTOR


# -- contacts ------------------------------------------------------------------------------
_KINDS = {"call": 30, "email": 20, "meeting": 20, "visit": 12, "presentation": 6,
          "proposal": 5, "negotiation": 4, "seminar": 3}
_SUMMARY = {
    "call": "Call about {t}", "email": "Sent documents on {t}", "meeting": "Meeting on {t}",
    "visit": "Site visit: {t}", "presentation": "Presented our solution for {t}",
    "proposal": "Proposal on {t}", "negotiation": "Negotiated terms for {t}",
    "seminar": "Seminar invitation: {t}",
}
_OUTCOMES = ("agreed a next step", "information received", "needs internal discussion",
             "positive feedback", "concern about the price", "asked for references")
_NEXT = ("send documentation", "schedule a site visit", "prepare an offer", "follow-up call",
         "technical clarification")


def interactions(spec: AccountSpec, rng: random.Random, deals: list[Deal]) -> list[Interaction]:
    """Logged contacts over the last two years (or since the account was created), ending on
    ``spec.last_contact``; participants are people we know and who still work there."""
    start = max(spec.created, TODAY - timedelta(days=730))
    days = []
    day = start
    while day < spec.last_contact:
        days.append(day)
        day += timedelta(days=max(1, round(rng.expovariate(1 / spec.contact_every))))
    days.append(spec.last_contact)
    out = []
    for n, day in enumerate(days, 1):
        people = [p for p, since in spec.persons
                  if since <= day and (p.left_on is None or p.left_on >= day) and p.reached_by]
        if spec.single_threaded:
            people = [p for p in people if p.id == spec.single_threaded]
        chosen = []  # the more influential, the more often we talk to them
        for _ in range(min(len(people), 1 if rng.random() < 0.7 else 2)):
            pick = rng.choices(people, weights=[0.2 + p.influence for p in people])[0]
            chosen.append(pick)
            people = [p for p in people if p is not pick]
        ours = [kam_on(spec, day)]
        if rng.random() < 0.2 and CLIENT_MANAGER not in ours:
            ours.append(CLIENT_MANAGER)
        open_deals = [x for x in deals if x.created and x.created <= day
                      and (x.closed_on is None or x.closed_on >= day)]
        about = rng.choice(open_deals) if open_deals and rng.random() < 0.4 else None
        kind = rng.choices(list(_KINDS), weights=list(_KINDS.values()))[0]
        topic = about.title.lower() if about else rng.choice(spec.topics)
        out.append(Interaction(
            id=f"{spec.prefix}-I{n:03d}", date=day, kind=kind,
            participants=[p.id for p in chosen], our_participants=ours,
            summary=_SUMMARY[kind].format(t=topic), outcome=rng.choice(_OUTCOMES),
            next_step=rng.choice(_NEXT), next_step_due=day + timedelta(days=rng.randint(5, 21)),
            deal=about.id if about else None))
    return sorted(out + spec.contacts, key=lambda x: (x.date, x.id))


# -- routine deals -------------------------------------------------------------------------
_TITLES = {
    "drives": ("Spare drives for the main line", "Drive upgrade, auxiliary motors",
               "Converter replacement programme"),
    "pumps": ("Process pump replacement", "Pump spares package", "Dosing pump skid"),
    "bearings": ("Bearing framework order", "Bearings for the annual shutdown",
                 "Sealed bearings trial"),
    "automation": ("Remote I/O extension", "Sensor retrofit", "Control cabinet upgrade"),
    "services": ("Maintenance contract extension", "Vibration analysis campaign",
                 "Shutdown service team"),
}
_REFUSALS = ("high price", "chose competitor", "quality not convincing", "deadline")
_REFUSAL_WEIGHTS = (35, 25, 20, 20)
_DECLINES = ("credit risk too high", "volume too small", "outside our portfolio")
_DELIVERY = ("DAP plant, 4 weeks", "DAP plant, 6 weeks", "FCA our warehouse",
             "Call-offs within 10 days")
_BASE_PROBABILITY = {"lead": 0.1, "potential": 0.25, "sale": 0.5}


def routine_deals(spec: AccountSpec, rng: random.Random) -> list[Deal]:
    """The everyday deals around the hand-written ones: repeat orders won and lost, refusals
    with reasons, a few we declined, and open deals in the early stages."""
    r = spec.routine
    if r is None:
        return []
    mix = spec.trade.mix if spec.trade else {x.product_group or "pumps": 1.0 for x in spec.deals}
    last_created = TODAY - timedelta(days=20)
    created_days = sorted(r.first + timedelta(days=rng.randint(0, (last_created - r.first).days))
                          for _ in range(r.count))
    out = []
    for n, created in enumerate(created_days, 1):
        manager = kam_on(spec, created)
        if rng.random() < 0.25:
            manager = CLIENT_MANAGER
        big = 1.6 if manager == CLIENT_MANAGER else 1.0  # bigger deals, lower hit rate
        group = rng.choices(list(mix), weights=list(mix.values()))[0]
        planned = round(r.base * big * rng.uniform(0.4, 1.8), -3)
        win = r.can_win and rng.random() < r.win_rate / big
        if win:
            stages, end = ["lead", "potential", "sale", "buyer", "repeat"], "won"
        elif rng.random() < 0.2:
            stages, end = rng.choice([["lead"], ["lead", "potential"]]), "declined"
        else:
            stages = ["lead", "potential"] if rng.random() < 0.3 else ["lead", "potential", "sale"]
            end = "refused"
        dates = [created]
        for stage in stages[1:]:
            gap = 0 if stage == "repeat" else rng.randint(10, 45)
            dates.append(dates[-1] + timedelta(days=gap))
        close = dates[-1] if win else dates[-1] + timedelta(days=rng.randint(7, 40))
        history = [StageChange(stage=s, on=on) for s, on in zip(stages, dates, strict=True)
                   if on < TODAY]
        closed = close < TODAY
        stage = history[-1].stage
        refined = (round(planned * rng.uniform(0.75, 1.0), -3)
                   if any(h.stage == "sale" for h in history) else None)
        outcome = end if closed else "open"
        expected = close if closed else max(close, TODAY + timedelta(days=rng.randint(20, 150)))
        probability = (1.0 if outcome == "won" else 0.0 if closed else
                       round(min(0.9, _BASE_PROBABILITY.get(stage, 0.5) * rng.uniform(0.8, 1.2)),
                             2))
        reason = None
        if outcome == "refused":
            reason = rng.choices(_REFUSALS, weights=_REFUSAL_WEIGHTS)[0]
        elif outcome == "declined":
            reason = rng.choice(_DECLINES)
        unit = GROUPS[group][1]
        out.append(Deal(
            id=f"{spec.prefix}-R{n:02d}", title=rng.choice(_TITLES[group]), stage=stage,
            outcome=outcome,
            manager=manager, product=rng.choice(GROUPS[group][2]), product_group=group,
            volume=max(1, round(planned / unit)), planned_budget=planned,
            refined_budget=refined,
            actual_budget=round((refined or planned) * rng.uniform(0.85, 1.02), -3)
            if outcome == "won" else None,
            probability=probability, created=created, plan_date=created + timedelta(days=3),
            expected_close=expected, closed_on=close if closed else None,
            period=f"{expected:%Y-%m}", refusal_reason=reason,
            delivery_terms=rng.choice(_DELIVERY) if outcome == "won" else None,
            contract_terms="Under the framework agreement" if outcome == "won" else None,
            history=history))
    return out


# -- monthly numbers -----------------------------------------------------------------------
def trade_lines(trade: Trade, rng: random.Random) -> tuple[
        list[RevenueLine], list[CostLine], list[ActivityLine], list[Budget]]:
    """Monthly revenue by product group, cost lines by category, activity counts and yearly
    cost budgets of a buying account, from ``trade.start`` to the last complete month."""
    revenue: list[RevenueLine] = []
    costs: list[CostLine] = []
    acts: list[ActivityLine] = []
    quarter: list[float] = []
    for k, period in enumerate(months(trade.start)):
        month = int(period[5:])
        level = trade.annual / 12 * (1 + trade.growth) ** (k / 12)
        if trade.decline_from and period >= trade.decline_from:
            gone = len(months(trade.decline_from, period)) - 1
            level *= (1 - trade.decline) ** (gone / 12)
        season = 1 + trade.amplitude * math.cos(2 * math.pi * (month - trade.peak) / 12)
        month_revenue, units = 0.0, 0
        for group, share in trade.mix.items():
            margin, unit_price, _ = GROUPS[group]
            rev = round(level * season * share * rng.uniform(0.85, 1.15), 2)
            gm = margin + trade.margin_shift + rng.uniform(-0.03, 0.03)
            discount = trade.discount * rng.uniform(0.8, 1.2)
            qty = max(1, round(rev / unit_price * rng.uniform(0.9, 1.1)))
            revenue.append(RevenueLine(
                period=period, product_group=group, revenue=rev, cogs=round(rev * (1 - gm), 2),
                list_value=round(rev / (1 - discount), 2), quantity=qty))
            month_revenue += rev
            units += qty
        quarter.append(month_revenue)
        orders = max(1, round(trade.orders * season * rng.uniform(0.8, 1.2)))
        deliveries = orders + round(orders * 0.15)
        miles = round(deliveries * trade.miles * rng.uniform(0.9, 1.1))
        expedited = round(deliveries * trade.expedited * rng.uniform(0.7, 1.3))
        visits = round(trade.visits * rng.uniform(0.5, 1.5))
        hours = round(trade.support_hours * rng.uniform(0.7, 1.3))
        for activity, count in zip(
                ACTIVITIES, (orders, visits, deliveries, miles, units, expedited), strict=True):
            acts.append(ActivityLine(period=period, activity=activity, count=count))
        amounts = {
            "sales visits": visits * VISIT_COST,
            "key-account team": trade.team_month,
            "technical support": hours * SUPPORT_RATE,
            "order handling": orders * ORDER_COST,
            "logistics": deliveries * DELIVERY_COST + miles * MILE_COST
            + expedited * EXPEDITE_COST,
            "rebates": trade.rebate * sum(quarter) if month % 3 == 0 else 0.0,
            "special programmes": trade.programmes / 0.35 * rng.uniform(0.6, 1.4)
            if trade.programmes and rng.random() < 0.35 else 0.0,
        }
        if month % 3 == 0:
            quarter = []
        costs += [CostLine(period=period, category=c, amount=round(a, 2))
                  for c, a in amounts.items() if a > 0]
    return revenue, costs, acts, _budgets(trade, revenue, costs, rng)


def _budgets(trade: Trade, revenue: list[RevenueLine], costs: list[CostLine],
             rng: random.Random) -> list[Budget]:
    """Yearly budgets per cost category and for price discounts: near the year's actual cost
    (the current year scaled to twelve months), except the categories the plan badly
    under-budgeted."""
    totals: dict[tuple[str, str], float] = {}
    seen: dict[str, set[str]] = {}
    lines = [(c.period, c.category, c.amount) for c in costs] + [
        (r.period, DISCOUNTS, (r.list_value or r.revenue) - r.revenue) for r in revenue]
    for period, category, amount in lines:
        key = (period[:4], category)
        totals[key] = totals.get(key, 0.0) + amount
        seen.setdefault(period[:4], set()).add(period)
    out = []
    for (year, category), total in sorted(totals.items()):
        if year == str(TODAY.year):
            total *= 12 / len(seen[year])
        factor = 0.65 if category in trade.overrun else rng.uniform(0.9, 1.12)
        out.append(Budget(period=year, category=category, amount=round(total * factor, -2)))
    return out


def prospect_costs(spec: AccountSpec, contacts: list[Interaction]) -> tuple[
        list[CostLine], list[ActivityLine]]:
    """The only cost of an account that does not buy yet: our visits to it."""
    visits = Counter(f"{x.date:%Y-%m}" for x in contacts
                     if x.kind.value in ("visit", "meeting", "presentation", "negotiation"))
    periods = sorted(p for p in visits if p <= LAST_MONTH)
    return ([CostLine(period=p, category="sales visits", amount=visits[p] * VISIT_COST)
             for p in periods],
            [ActivityLine(period=p, activity="sales visit", count=visits[p]) for p in periods])


# -- ratings -------------------------------------------------------------------------------
CAMPAIGNS = (("Spring efficiency campaign 2025", date(2025, 4, 30)),
             ("Reliability seminar 2025", date(2025, 9, 25)),
             ("Customer days 2026", date(2026, 3, 19)),
             ("Energy-saving campaign 2026", date(2026, 9, 30)))


def ratings(spec: AccountSpec, rng: random.Random) -> list[RatingEntry]:
    """An event rating per campaign the account took part in, a status rating from the results
    of the work with it, and one personal rating set by its KAM."""
    a = spec.account
    buying = a.sales_stage.value in ("buyer", "repeat")
    out = []
    for campaign, on in CAMPAIGNS:
        if on < spec.created:
            continue
        by = kam_on(spec, on)
        out.append(RatingEntry(kind="event", points=rng.randint(1, 3), on=on,
                               campaign=campaign, by=by))
        if a.relationship_stage.value == "uncoupling" and on.year == TODAY.year:
            points, note = -2, "no response"
        elif buying:
            points, note = rng.randint(2, 5), "ordered after the campaign"
        else:
            points, note = rng.randint(0, 2), "asked for information"
        out.append(RatingEntry(kind="status", points=points, on=on, campaign=campaign,
                               by=by, note=note))
    first = spec.created + timedelta(days=30)
    if first < TODAY:
        points = {"A": 5, "B": 3, "C": 1}[a.category.value if a.category else "C"]
        out.append(RatingEntry(kind="personal", points=points, on=first,
                               by=kam_on(spec, first), note="priority set by the KAM"))
    return sorted(out, key=lambda e: (e.on, e.kind.value))
