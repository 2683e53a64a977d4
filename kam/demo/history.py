"""The demo's revision history: each account is saved once per milestone, as it stood then.

A milestone's dossier is the final dossier cut back to the milestone date: records dated later
are left out, deals and commitments are put back to their state of that day, and the account
takes the stages (and other fields) the milestone names. Every revision passes the stage gate
when it is saved, as a real user's would.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from ..model import Dossier, SalesStage
from .spec import AccountSpec, Milestone

__all__ = ["as_of", "saved_at"]

_PROBABILITY = {"lead": 0.1, "potential": 0.25, "sale": 0.5}


def saved_at(m: Milestone, n: int) -> datetime:
    """When milestone number ``n`` was saved: its day, during office hours (UTC)."""
    return datetime.combine(m.on, time(9 + n % 8, 15), tzinfo=UTC)


def as_of(spec: AccountSpec, final: Dossier, m: Milestone) -> Dossier:
    """The dossier as it stood on ``m.on``."""
    t = m.on
    month = f"{t:%Y-%m}"
    data = final.model_dump(mode="python")
    acc = data["account"]
    acc.update(sales_stage=m.sales, relationship_stage=m.relationship, decision_stage=m.decision)
    if acc["kam_since"] and t < acc["kam_since"] and acc["previous_kams"]:
        acc["kam"], acc["previous_kams"] = acc["previous_kams"][-1], acc["previous_kams"][:-1]
        acc["kam_since"] = None
    if SalesStage(m.sales) is not SalesStage.REPEAT:
        acc["contract_terms"] = None
    acc.update(m.changes)

    known = {p.id for p, since in spec.persons if since <= t}
    data["persons"] = [_person(p, t) for p in data["persons"] if p["id"] in known]
    data["links"] = [x for x in data["links"] if x["source"] in known and x["target"] in known]
    data["needs"] = data["needs"] if t >= spec.needs_since else []
    data["interactions"] = [x for x in data["interactions"] if x["date"] <= t]
    data["deals"] = [_deal(x, t) for x in data["deals"] if x["created"] <= t]
    data["commitments"] = [_commitment(c, t) for c in data["commitments"]
                           if (c["made_on"] or c["due"]) <= t]
    data["projects"] = [_project(p, t) for p in data["projects"] if p["start"] <= t]
    for key in ("revenue", "costs", "activities"):
        data[key] = [x for x in data[key] if x["period"] < month]
    data["budgets"] = [b for b in data["budgets"] if int(b["period"][:4]) <= t.year]
    data["ratings"] = [r for r in data["ratings"] if r["on"] <= t]
    data["plan"] = None
    _prune(data)
    return Dossier.model_validate(data)


def _person(p: dict[str, Any], t: date) -> dict[str, Any]:
    if p["left_on"] and p["left_on"] > t:  # had not left yet
        p["left_on"] = None
        jobs = [j for j in p["employment"] if j["start"] is None or j["start"] <= t]
        p["employment"] = [{**j, "end": None} if j["end"] and j["end"] > t else j for j in jobs]
    return p


def _deal(x: dict[str, Any], t: date) -> dict[str, Any]:
    if x["closed_on"] and x["closed_on"] <= t:
        return x
    history = [h for h in x["history"] if h["on"] <= t]
    stage = history[-1]["stage"]
    x.update(history=history, stage=stage, outcome="open", closed_on=None, actual_budget=None,
             refusal_reason=None, contract_terms=None, delivery_terms=None,
             probability=_PROBABILITY.get(stage, 0.5))
    if not any(h["stage"] == "sale" for h in history):
        x["refined_budget"] = None
    return x


def _commitment(c: dict[str, Any], t: date) -> dict[str, Any]:
    finished = c["done_on"] if c["status"].value == "done" else c["due"]
    if c["status"].value != "open" and finished and finished > t:
        c.update(status="open", done_on=None)
    return c


def _project(p: dict[str, Any], t: date) -> dict[str, Any]:
    if p["status"].value == "done" and p["end"] and p["end"] > t:
        p["status"] = "in progress"
    return p


def _prune(data: dict[str, Any]) -> None:
    """Drop references to persons, needs and deals the cut left out."""
    persons = {p["id"] for p in data["persons"]}
    needs = {n["id"] for n in data["needs"]}
    deals = {x["id"] for x in data["deals"]}
    for n in data["needs"]:
        n["persons"] = [p for p in n["persons"] if p in persons]
    for x in data["deals"]:
        x["for_persons"] = [p for p in x["for_persons"] if p in persons]
        x["against_persons"] = [p for p in x["against_persons"] if p in persons]
        if x["need"] not in needs:
            x["need"] = None
    for c in data["commitments"]:
        if c["to_person"] not in persons:
            c["to_person"] = None
    for i in data["interactions"]:
        i["participants"] = [p for p in i["participants"] if p in persons]
        if i["deal"] not in deals:
            i["deal"] = None
