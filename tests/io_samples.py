"""Small hand-built dossiers shared by the file import/export tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kam.model import (
    AccountPlan,
    Action,
    Budget,
    Commitment,
    CostLine,
    Deal,
    Dossier,
    Employment,
    Interaction,
    Kpi,
    Need,
    Objective,
    Person,
    PersonLink,
    Project,
    RatingEntry,
    RevenueLine,
    StageChange,
    Strategy,
    validate_dossier,
)
from kam.store import Workspace

MAVEN = Path("/work/shared/data/maven-crm")


def simple(account_id: str = "ACME", name: str = "Acme Steel", **account: object) -> Dossier:
    return validate_dossier({"account": {"id": account_id, "name": name, "phone": "+1 555 0100",
                                         **account}})


def rich(account_id: str = "ACME") -> Dossier:
    """A dossier touching every section, with text that tempts a YAML writer to get it wrong."""
    return Dossier.model_validate({
        "account": {
            "id": account_id, "name": "Acme Stahl GmbH & Co. KG", "industry": "steel",
            "address": "Hüttenstraße 1, Duisburg", "phone": "+49 203 0", "category": "A",
            "employees": 4200, "sales_stage": "potential", "relationship_stage": "mid KAM",
            "decision_stage": "defining requirements", "kam": "ann",
            "kam_since": date(2024, 1, 15), "previous_kams": ["bob"],
            "financial": {"revenue": 1.25e9, "trend": "growing", "payment_discipline": "late"},
            "market": {"total_consumption": 2_000_000.5, "market_price_index": 0.97,
                       "main_competitors": ["Steelco", "yes", "on"]},
            "notes": "Two plants.\nThe second one is 'new': opened in 2024.\n  Indented line.",
        },
        "persons": [
            Person(id="ivanova", name="Olga Ivanova", position="Head of procurement",
                   roles=["entry", "buyer"], influence=0.7, attitude="supporter",
                   employment=[Employment(company="Old Co", start=date(2015, 1, 1),
                                          end=date(2019, 3, 31))]),
            Person(id="petrov", name="no", position="Plant director", roles=["power"],
                   left_on=date(2025, 2, 1)),
        ],
        "links": [PersonLink(source="ivanova", target="petrov", strength=0.8, kind="reports to")],
        "interactions": [Interaction(id="I-1", date=date(2025, 3, 14), kind="meeting",
                                     participants=["ivanova"], our_participants=["ann"],
                                     summary="2025-01-01", outcome="null")],
        "projects": [Project(id="P-1", name="Line 2", status="on hold", satisfaction=4)],
        "needs": [
            Need(id="N-1", title="Scrap rate", level="problem", function="Production",
                 leads_to=["N-2"], significance=4.5, capability=3, awareness="aware, no solution"),
            Need(id="N-2", title="Lower cost", level="effect", function="Production",
                 product="Coil", volume=1200, wanted_date=date(2025, 9, 1)),
        ],
        "commitments": [Commitment(id="C-1", description="Trial batch", due=date(2025, 4, 30),
                                   to_person="ivanova")],
        "deals": [
            Deal(id="D-1", title="Coil 2025", stage="sale", manager="ann", need="N-1",
                 planned_budget=2e6, refined_budget=1.6e6, probability=0.4,
                 created=date(2025, 3, 1), period="2025-Q2", for_persons=["ivanova"],
                 history=[StageChange(stage="lead", on=date(2025, 3, 1))], risks=["price: -5%"]),
            Deal(id="D-2", title="Wire", outcome="refused", refusal_reason="high price",
                 planned_budget=0.1, closed_on=date(2025, 2, 1)),
        ],
        "revenue": [RevenueLine(period="2025-03", revenue=180000, cogs=120000.25)],
        "costs": [CostLine(period="2025", category="logistics", amount=5000)],
        "budgets": [Budget(period="2025", category="logistics", amount=60000)],
        "ratings": [RatingEntry(kind="personal", points=-2.5, on=date(2025, 1, 2))],
        "plan": AccountPlan(
            period="2025", objectives=[Objective(id="O-1", title="Share", metric="share",
                                                 baseline=0.2, target=0.35, due=date(2025, 12, 31),
                                                 needs=["N-1"], deals=["D-1"])],
            strategies=[Strategy(id="S-1", title="Production", objectives=["O-1"])],
            actions=[Action(id="A-1", title="Trial", owner="ivanova", due=date(2025, 5, 31),
                            strategy="S-1")],
            kpis=[Kpi(id="K-1", name="Scrap", target=0.02, higher_is_better=False)]),
    })


def snapshot(ws: Workspace) -> tuple[dict[str, tuple[int, str]], str, str]:
    """Everything observable about a store: per account its history length and newest data,
    the team roster and the fingerprint (which moves with every new revision)."""
    accounts = {a: (len(ws.history(a)), ws.load(a).model_dump_json()) for a in ws.account_ids()}
    return accounts, ws.team().model_dump_json(), ws.fingerprint()
