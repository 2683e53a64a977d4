"""The six demo accounts that have not bought yet (sales stages *lead* to *sale*)."""

from __future__ import annotations

from datetime import date as d

from .spec import (
    AccountSpec,
    Milestone,
    Routine,
    account,
    action,
    commitment,
    deal,
    kpi,
    link,
    need,
    objective,
    person,
    plan,
    project,
    strategy,
)

__all__ = ["helvia", "kestrel", "pelagos", "solenne", "talvik", "verdantia"]


def solenne() -> AccountSpec:
    """A dairy cooperative in price negotiation after a successful free trial."""
    return AccountSpec(
        prefix="SO",
        account=account(
            "SOLENNE", "Solenne Dairy Cooperative", industry="food processing", region="South",
            address="Route des Laiteries 5, 39600 Arbois", phone="+33 3 84 55 50 12",
            size="420 M litres of milk a year in two plants", employees=560,
            group="Cooperative of 1,100 farms", category="B", kam="maria.lind",
            kam_since=d(2025, 1, 20), sales_stage="sale", relationship_stage="early KAM",
            decision_stage="negotiation and decision",
            development_plans="New cheese plant in 2027",
            financial={"revenue": 3.8e8, "trend": "growing", "payment_discipline": "good",
                       "credit_risk": "low"},
            market={"total_consumption": 1.6e6, "market_price_index": 0.98,
                    "main_competitors": ["Hydrasys Pumps", "Automa GmbH"]}),
        persons=[
            (person("SO-P1", "Camille Roux", "Maintenance Engineer", "Maintenance",
                    "entry, user", 0.45, "supporter", "maria.lind"), d(2025, 1, 20)),
            (person("SO-P2", "Julien Moreau", "Plant Director", "Operations", "power", 0.9,
                    "neutral", "maria.lind"), d(2025, 4, 7)),
            (person("SO-P3", "Claire Lefebvre", "Quality Manager", "Quality", "pain, influencer",
                    0.6, "supporter", "maria.lind"), d(2025, 4, 7)),
            (person("SO-P4", "Antoine Girard", "Purchasing Manager", "Purchasing", "buyer", 0.5,
                    "neutral", "maria.lind, ben.okafor"), d(2025, 6, 2)),
            (person("SO-P5", "Élodie Blanc", "Energy Coordinator", "Engineering", "influencer",
                    0.3, "supporter", "ben.okafor"), d(2025, 10, 13)),
        ],
        links=[
            link("SO-P1", "SO-P3", 0.6, "knows"), link("SO-P3", "SO-P2", 0.7, "reports to"),
            link("SO-P4", "SO-P2", 0.5, "reports to"), link("SO-P5", "SO-P1", 0.5, "knows"),
            link("SO-P1", "SO-P2", 0.4, "reports to"),
        ],
        needs_since=d(2025, 4, 7),
        needs=[
            need("SO-N1", "problem", "Milk-reception pumps cause foaming and losses", "Quality",
                 5, 5, ("SO-N3",), cause="Oversized pumps run throttled",
                 awareness="aware, no solution", persons=["SO-P3", "SO-P1"],
                 product="Hygienic centrifugal pump", volume=165000,
                 wanted_date=d(2027, 3, 31)),
            need("SO-N2", "problem", "Evaporator energy use", "Engineering", 4, 4, ("SO-N4",),
                 cause="Fixed-speed fans", awareness="unaware", persons=["SO-P5"],
                 product="Frequency converter 90 kW", volume=120000, wanted_date=d(2027, 6, 30)),
            need("SO-N3", "criterion", "Milk losses below 0.3%", "Quality", 5, 5, ("SO-N5",)),
            need("SO-N4", "criterion", "Evaporator kWh per tonne -20%", "Engineering", 4, 4,
                 ("SO-N5",)),
            need("SO-N5", "effect", "Higher milk price paid to the members", "Operations", 5, 4,
                 goal="The 2027 member-price target"),
            need("SO-N6", "problem", "Plant director must open the cheese plant on time",
                 "Operations", 4, 2, ("SO-N7",), motivation="personal", persons=["SO-P2"]),
            need("SO-N7", "effect", "Credited with the cheese-plant start-up", "Operations", 4,
                 2, motivation="personal", persons=["SO-P2"], goal="Regional director role"),
        ],
        deals=[
            deal("SO-D01", "Milk-reception pump replacement", "pumps",
                 "lead 2025-06-02, potential 2025-07-14, sale 2025-10-13", "open", "maria.lind",
                 180000, refined_budget=165000, probability=0.7, need="SO-N1",
                 expected_close=d(2026, 12, 18), product="Hygienic centrifugal pump",
                 for_persons=["SO-P3", "SO-P1", "SO-P4"],
                 next_steps="Final price round with purchasing; plant director signs"),
            deal("SO-D02", "Evaporator fan drives", "drives",
                 "lead 2026-05-18, potential 2026-08-03", "open", "ben.okafor", 120000,
                 need="SO-N2", expected_close=d(2027, 6, 30), product="Frequency converter 90 kW"),
            deal("SO-D03", "CIP pump retrofit", "pumps",
                 "lead 2025-03-03, potential 2025-04-07, closed 2025-05-12", "refused",
                 "maria.lind", 60000, refusal_reason="chose competitor"),
        ],
        commitments=[
            commitment("SO-C1", "Free trial pump at milk reception", d(2025, 10, 13),
                       d(2025, 12, 1), "done", owner="maria.lind", to_person="SO-P1"),
            commitment("SO-C2", "Loss measurement report from the trial", d(2026, 2, 2),
                       d(2026, 3, 31), "done", owner="ben.okafor", to_person="SO-P3"),
            commitment("SO-C3", "Revised price offer", d(2026, 10, 12), d(2026, 11, 6),
                       owner="maria.lind", to_person="SO-P4"),
        ],
        projects=[
            project("SO-PR1", "Trial pump at milk reception", d(2025, 12, 1), d(2026, 3, 31),
                    "done", 5, 5),
        ],
        plan=plan("2026", d(2026, 10, 22), [
            objective("SO-O1", "Sign the milk-reception pump order", "order value (EUR)", 0,
                      165000, 0, d(2026, 12, 18), needs=["SO-N1"], deals=["SO-D01"]),
        ], [
            strategy("SO-S1", "Use the trial results with the plant director", "SO-O1"),
        ], [
            action("SO-A1", "Present the trial results to the plant director", "maria.lind",
                   d(2026, 4, 24), "done", strategy="SO-S1", objective="SO-O1"),
            action("SO-A2", "Revised price offer", "maria.lind", d(2026, 11, 6),
                   strategy="SO-S1", objective="SO-O1"),
            action("SO-A3", "Reference visit at a dairy customer", "SO-P2", d(2026, 11, 27),
                   strategy="SO-S1", objective="SO-O1"),
        ], [
            kpi("SO-K1", "Milk losses at reception", 0.3, 0.35, "%", "SO-O1",
                higher_is_better=False),
        ]),
        routine=Routine(count=2, first=d(2025, 5, 5), base=50000, can_win=False),
        contact_every=16, last_contact=d(2026, 10, 21),
        topics=("the milk-reception pumps", "the trial results", "evaporator fans",
                "the price offer"),
        milestones=[
            Milestone(d(2025, 1, 20), "maria.lind", "Lead from a seminar on hygienic pumping",
                      "lead", "pre-KAM", None, {"category": None}),
            Milestone(d(2025, 4, 7), "maria.lind", "Plant visit; the quality manager is "
                      "interested", "potential", "pre-KAM", "need recognition"),
            Milestone(d(2025, 10, 13), "maria.lind", "Need confirmed; free trial agreed", "sale",
                      "early KAM", "evaluating suppliers"),
            Milestone(d(2026, 10, 22), "maria.lind", "Price negotiation started", "sale",
                      "early KAM", "negotiation and decision"),
        ],
    )


def helvia() -> AccountSpec:
    """A packaging mill: no known power point and an influential detractor."""
    return AccountSpec(
        prefix="HE",
        account=account(
            "HELVIA", "Helvia Packaging Mills", industry="paper and packaging", region="North",
            address="Bruksvägen 3, 871 40 Härnösand", phone="+46 611 555 040",
            size="620,000 t of containerboard a year", employees=1100,
            group="Nordic Boxboard Group", category="B", kam="tom.hale",
            kam_since=d(2025, 5, 12), sales_stage="sale", relationship_stage="pre-KAM",
            decision_stage="proposal and selection",
            development_plans="Rebuild of paper machine 2 in 2027",
            financial={"revenue": 7.0e8, "trend": "stable", "payment_discipline": "good",
                       "credit_risk": "low"},
            market={"total_consumption": 3.0e6, "market_price_index": 1.0,
                    "main_competitors": ["Voltera Drives", "RollTek Bearings"]}),
        persons=[
            (person("HE-P1", "Ingrid Sandberg", "Reliability Engineer", "Maintenance",
                    "entry, user", 0.4, "supporter", "tom.hale"), d(2025, 5, 12)),
            (person("HE-P2", "Gunnar Eklund", "Production Director", "Production",
                    "influencer, gatekeeper", 0.85, "detractor", "tom.hale",
                    notes="Prefers the incumbent drive supplier"), d(2025, 8, 25)),
            (person("HE-P3", "Maja Lund", "Maintenance Manager", "Maintenance", "pain, user",
                    0.55, "supporter", "tom.hale"), d(2025, 8, 25)),
            (person("HE-P4", "Erik Johansson", "Purchasing Manager", "Purchasing", "buyer", 0.5,
                    "neutral", "tom.hale, ben.okafor"), d(2026, 1, 19)),
            (person("HE-P5", "Karin Berg", "Process Engineer", "Engineering", "user, influencer",
                    0.35, "supporter", "ben.okafor"), d(2026, 4, 14)),
        ],
        links=[
            link("HE-P1", "HE-P3", 0.7, "reports to"), link("HE-P3", "HE-P2", 0.5, "reports to"),
            link("HE-P4", "HE-P2", 0.4, "knows"), link("HE-P5", "HE-P3", 0.6, "knows"),
        ],
        needs_since=d(2025, 8, 25),
        needs=[
            need("HE-N1", "problem", "Bearing failures on paper machine 2", "Maintenance", 5, 5,
                 ("HE-N4",), cause="Wet-end humidity and old lubrication", awareness="solving",
                 persons=["HE-P3", "HE-P1"], product="Spherical roller bearings", volume=210000,
                 wanted_date=d(2027, 5, 31)),
            need("HE-N2", "problem", "The PM2 drive system is obsolete", "Production", 5, 4,
                 ("HE-N5",), cause="DC drives from 1998", awareness="aware, no solution",
                 persons=["HE-P2"], product="Medium-voltage drive 1.2 MW", volume=1300000,
                 wanted_date=d(2027, 8, 31)),
            need("HE-N3", "problem", "Manual lubrication rounds", "Maintenance", 2, 5,
                 ("HE-N4",), cause="No automatic lubrication", awareness="unaware"),
            need("HE-N4", "criterion", "Bearing life above 40,000 h", "Maintenance", 5, 5,
                 ("HE-N6",)),
            need("HE-N5", "criterion", "Drive availability of 99.7% after the rebuild",
                 "Production", 5, 4, ("HE-N6",)),
            need("HE-N6", "effect", "PM2 output +8% after the 2027 rebuild", "Production", 5, 4,
                 goal="Group capacity plan 2028"),
        ],
        deals=[
            deal("HE-D01", "PM2 bearing upgrade", "bearings",
                 "lead 2025-09-01, potential 2025-10-20, sale 2026-04-14", "open", "tom.hale",
                 220000, probability=0.45, need="HE-N1", expected_close=d(2027, 1, 29),
                 product="Spherical roller bearings", for_persons=["HE-P3", "HE-P1"],
                 against_persons=["HE-P2"]),
            deal("HE-D02", "PM2 drive system rebuild", "drives",
                 "lead 2026-04-14, potential 2026-06-15", "open", "tom.hale", 1300000,
                 probability=0.2, need="HE-N2", expected_close=d(2027, 5, 28),
                 product="Medium-voltage drive 1.2 MW", against_persons=["HE-P2"],
                 risks=["The production director prefers the incumbent",
                        "No power point known"]),
        ],
        commitments=[
            commitment("HE-C1", "Vibration survey of PM2", d(2025, 10, 20), d(2025, 12, 12),
                       "done", owner="ben.okafor", to_person="HE-P3"),
            commitment("HE-C2", "Bearing life calculation", d(2026, 4, 14), d(2026, 5, 29),
                       "done", owner="tom.hale", to_person="HE-P1"),
            commitment("HE-C3", "Concept for the drive rebuild", d(2026, 9, 14), d(2026, 12, 4),
                       owner="tom.hale", to_person="HE-P2"),
        ],
        plan=plan("2026", d(2026, 4, 20), [
            objective("HE-O1", "Win the PM2 bearing upgrade", "order value (EUR)", 0, 200000,
                      0, d(2027, 1, 29), needs=["HE-N1"], deals=["HE-D01"]),
            objective("HE-O2", "Find and meet the power point", "decision makers met", 0, 1, 0,
                      d(2026, 9, 30)),
        ], [
            strategy("HE-S1", "Win the production director over with reliability data",
                     "HE-O1"),
            strategy("HE-S2", "Map the buying centre above production", "HE-O2"),
        ], [
            action("HE-A1", "Vibration survey results to maintenance", "ben.okafor",
                   d(2025, 12, 12), "done", strategy="HE-S1", objective="HE-O1"),
            action("HE-A2", "Ask the maintenance manager who signs capex", "tom.hale",
                   d(2026, 6, 30), "done", strategy="HE-S2", objective="HE-O2"),
            action("HE-A3", "Meeting with the mill director", "tom.hale", d(2026, 9, 30),
                   strategy="HE-S2", objective="HE-O2"),
            action("HE-A4", "Reference visit for the production director", "HE-P3",
                   d(2026, 11, 20), strategy="HE-S1", objective="HE-O1"),
        ], [
            kpi("HE-K1", "Supporters minus detractors", 2, 1, "persons", "HE-O1"),
        ]),
        routine=Routine(count=2, first=d(2025, 9, 1), base=90000, can_win=False),
        contact_every=18, last_contact=d(2026, 10, 19),
        topics=("PM2 bearings", "the PM2 drive rebuild", "lubrication", "the vibration survey"),
        milestones=[
            Milestone(d(2025, 5, 12), "tom.hale", "Lead: bearing enquiry from the reliability "
                      "engineer", "lead", "pre-KAM", None, {"category": None}),
            Milestone(d(2025, 8, 25), "tom.hale", "Mill visit; maintenance and production met",
                      "potential", "pre-KAM", "need recognition"),
            Milestone(d(2026, 4, 14), "tom.hale", "Bearing upgrade quoted", "sale", "pre-KAM",
                      "evaluating suppliers"),
            Milestone(d(2026, 10, 20), "tom.hale", "Concept for the drive rebuild requested",
                      "sale", "pre-KAM", "proposal and selection"),
        ],
    )


def talvik() -> AccountSpec:
    """A cement works: requirements being defined, no power point known yet."""
    return AccountSpec(
        prefix="TA",
        account=account(
            "TALVIK", "Talvik Cement Works", industry="cement", region="East",
            address="Lubja tee 7, 44311 Kunda", phone="+372 555 0177",
            size="1.2 Mt of clinker a year", employees=310, category="C", kam="raj.patel",
            kam_since=d(2025, 9, 8), sales_stage="potential", relationship_stage="pre-KAM",
            decision_stage="defining requirements",
            development_plans="Alternative-fuel kiln burner in 2028",
            financial={"revenue": 1.8e8, "trend": "stable", "payment_discipline": "good",
                       "credit_risk": "medium"},
            market={"total_consumption": 1.4e6, "market_price_index": 1.03,
                    "main_competitors": ["Voltera Drives", "Hydrasys Pumps"]}),
        persons=[
            (person("TA-P1", "Kalev Tamm", "Electrical Engineer", "Maintenance", "entry, user",
                    0.4, "supporter", "raj.patel"), d(2025, 9, 8)),
            (person("TA-P2", "Liis Kask", "Production Manager", "Production", "pain, influencer",
                    0.7, "neutral", "raj.patel"), d(2026, 2, 16)),
            (person("TA-P3", "Andres Mägi", "Buyer", "Purchasing", "buyer", 0.4, "neutral",
                    "raj.patel"), d(2026, 2, 16)),
            (person("TA-P4", "Mart Saar", "Kiln Operator Lead", "Production", "user", 0.25,
                    "supporter"), d(2026, 5, 4)),
        ],
        links=[
            link("TA-P1", "TA-P2", 0.5, "knows"), link("TA-P4", "TA-P2", 0.6, "reports to"),
            link("TA-P3", "TA-P2", 0.3, "knows"),
        ],
        needs_since=d(2026, 2, 16),
        needs=[
            need("TA-N1", "problem", "Kiln ID-fan drive overheats in summer", "Production", 4, 5,
                 ("TA-N3",), cause="Undersized converter", awareness="aware, no solution",
                 persons=["TA-P2", "TA-P1"], product="Frequency converter 90 kW", volume=95000,
                 wanted_date=d(2027, 5, 31)),
            need("TA-N2", "problem", "Dust in the motor bearings", "Maintenance", 2, 4,
                 ("TA-N3",), cause="Raw-mill dust", awareness="unaware", persons=["TA-P1"]),
            need("TA-N3", "criterion", "No kiln stop from fan trips", "Production", 4, 4,
                 ("TA-N4",)),
            need("TA-N4", "effect", "Clinker output +3%", "Production", 4, 4,
                 goal="Plant utilisation of 92%"),
            need("TA-N5", "problem", "CO2 capture at the kiln", "Production", 5, 1, ("TA-N6",),
                 cause="Emissions cap tightens in 2030", awareness="aware, no solution",
                 prospective=True),
            need("TA-N6", "effect", "Meets the 2030 emissions cap", "Production", 5, 1,
                 goal="Emissions-trading compliance"),
        ],
        deals=[
            deal("TA-D01", "Kiln ID-fan converter", "drives",
                 "lead 2026-02-16, potential 2026-04-13", "open", "raj.patel", 95000,
                 need="TA-N1", expected_close=d(2027, 3, 31), product="Frequency converter 90 kW"),
        ],
        commitments=[
            commitment("TA-C1", "Temperature log of the ID-fan drive", d(2026, 4, 13),
                       d(2026, 6, 30), "done", owner="raj.patel", to_person="TA-P1"),
            commitment("TA-C2", "Converter sizing proposal", d(2026, 9, 21), d(2026, 11, 27),
                       owner="raj.patel", to_person="TA-P2"),
        ],
        routine=Routine(count=1, first=d(2026, 3, 2), base=60000, can_win=False),
        contact_every=28, last_contact=d(2026, 10, 15),
        topics=("the kiln ID-fan drive", "motor bearings", "converter sizing"),
        milestones=[
            Milestone(d(2025, 9, 8), "raj.patel", "Lead from a cold call", "lead", "pre-KAM",
                      None, {"category": None}),
            Milestone(d(2026, 2, 16), "raj.patel", "Site visit; the production manager is "
                      "interested", "potential", "pre-KAM", "need recognition"),
            Milestone(d(2026, 10, 15), "raj.patel", "Requirements for the ID-fan drive "
                      "collected", "potential", "pre-KAM", "defining requirements"),
        ],
    )


def verdantia() -> AccountSpec:
    """A sugar refinery met between two beet campaigns."""
    return AccountSpec(
        prefix="VE",
        account=account(
            "VERDANTIA", "Verdantia Sugar Refinery", industry="food processing",
            region="Central", address="Zuckerweg 2, 38112 Braunschweig", phone="+49 531 555 0290",
            size="3,800 t of beet a day during the campaign", employees=420, category="C",
            kam="ben.okafor", kam_since=d(2026, 1, 19), sales_stage="potential",
            relationship_stage="pre-KAM", decision_stage="need recognition",
            development_plans="Campaign extended to 140 days",
            financial={"revenue": 2.6e8, "trend": "stable", "payment_discipline": "late",
                       "credit_risk": "medium"},
            market={"total_consumption": 1.1e6, "market_price_index": 0.97,
                    "main_competitors": ["Hydrasys Pumps"]}),
        persons=[
            (person("VE-P1", "Henrike Paulsen", "Technical Manager", "Engineering", "entry, pain",
                    0.6, "supporter", "ben.okafor"), d(2026, 1, 19)),
            (person("VE-P2", "Bernd Kowalski", "Managing Director", "Management", "power", 0.95,
                    "neutral", "elena.vogt"), d(2026, 6, 8)),
            (person("VE-P3", "Yusuf Demir", "Maintenance Foreman", "Maintenance", "user", 0.25,
                    "supporter", "ben.okafor"), d(2026, 6, 8)),
            (person("VE-P4", "Clara Stein", "Purchasing Officer", "Purchasing",
                    "buyer, gatekeeper", 0.4, "neutral"), d(2026, 6, 8)),
        ],
        links=[
            link("VE-P1", "VE-P2", 0.6, "reports to"), link("VE-P3", "VE-P1", 0.7, "reports to"),
            link("VE-P4", "VE-P2", 0.4, "reports to"),
        ],
        needs_since=d(2026, 6, 8),
        needs=[
            need("VE-N1", "problem", "Juice pumps wear out within one campaign", "Engineering",
                 4, 5, ("VE-N3",), cause="Abrasive beet soil", awareness="aware, no solution",
                 persons=["VE-P1"], product="Slurry pump SP-400", volume=140000,
                 wanted_date=d(2027, 8, 15)),
            need("VE-N2", "problem", "Campaign start-up takes ten days", "Management", 4, 2,
                 ("VE-N4",), cause="Manual commissioning", awareness="unaware",
                 persons=["VE-P2"]),
            need("VE-N3", "criterion", "Pump life of two campaigns", "Engineering", 4, 5,
                 ("VE-N4",)),
            need("VE-N4", "effect", "A campaign of 140 days", "Management", 5, 4,
                 goal="More beet processed a year"),
            need("VE-N5", "problem", "Small-motor stock is disorganised", "Maintenance", 1, 2,
                 ("VE-N4",), cause="No stock list", awareness="unaware"),
        ],
        deals=[
            deal("VE-D01", "Juice pumps for the 2027 campaign", "pumps",
                 "lead 2026-06-08, potential 2026-08-31", "open", "ben.okafor", 140000,
                 need="VE-N1", expected_close=d(2027, 5, 28), product="Slurry pump SP-400"),
        ],
        commitments=[
            commitment("VE-C1", "Wear-part analysis of the juice pumps", d(2026, 8, 31),
                       d(2026, 10, 30), "done", done_on=d(2026, 10, 28), owner="ben.okafor",
                       to_person="VE-P1"),
        ],
        routine=Routine(count=1, first=d(2026, 6, 15), base=45000, can_win=False),
        contact_every=24, last_contact=d(2026, 10, 28),
        topics=("the juice pumps", "the campaign start-up", "wear parts"),
        milestones=[
            Milestone(d(2026, 1, 19), "ben.okafor", "Lead from a mailing to sugar producers",
                      "lead", "pre-KAM", None, {"category": None}),
            Milestone(d(2026, 6, 8), "ben.okafor", "Met the managing director between "
                      "campaigns", "potential", "pre-KAM", "need recognition"),
            Milestone(d(2026, 10, 29), "ben.okafor", "Wear-part analysis delivered",
                      "potential", "pre-KAM", "need recognition"),
        ],
    )


def pelagos() -> AccountSpec:
    """A fresh lead from a port exhibition: a phone number and a first contact."""
    return AccountSpec(
        prefix="PE",
        account=account(
            "PELAGOS", "Pelagos Offshore Services", industry="offshore services", region="South",
            phone="+30 210 555 0410", size="14 supply vessels", employees=380, category="C",
            kam="maria.lind", kam_since=d(2026, 7, 13), sales_stage="lead",
            relationship_stage="pre-KAM",
            financial={"trend": "growing", "credit_risk": "medium"},
            market={"total_consumption": 9.0e5, "main_competitors": ["Hydrasys Pumps"]}),
        persons=[
            (person("PE-P1", "Nikos Papadakis", "Fleet Technical Superintendent", "Technical",
                    "entry", 0.5, "neutral", "maria.lind"), d(2026, 7, 13)),
            (person("PE-P2", "Eleni Georgiou", "Procurement Manager", "Procurement", "buyer",
                    0.5, "neutral"), d(2026, 9, 21)),
            (person("PE-P3", "Stavros Ioannou", "Chief Engineer", "Technical", "user", 0.3,
                    "neutral"), d(2026, 9, 21)),
            (person("PE-P4", "Dimitra Kosta", "Operations Director", "Operations", "power", 0.85,
                    "neutral"), d(2026, 9, 21)),
        ],
        links=[
            link("PE-P1", "PE-P4", 0.4, "reports to"), link("PE-P3", "PE-P1", 0.5, "reports to"),
            link("PE-P2", "PE-P4", 0.3, "reports to"),
        ],
        needs_since=d(2026, 9, 21),
        needs=[
            need("PE-N1", "problem", "Bilge and ballast pump failures at sea", "Technical", 4, 4,
                 ("PE-N2",), cause="Corrosion in salt water", awareness="solving",
                 persons=["PE-P1"]),
            need("PE-N2", "effect", "Fewer off-hire days", "Operations", 4, 4,
                 goal="Fleet availability of 97%"),
        ],
        deals=[
            deal("PE-D01", "Bilge pump replacement programme", "pumps", "lead 2026-09-21",
                 "open", "maria.lind", 60000, need="PE-N1", expected_close=d(2027, 6, 30),
                 product="Booster pump set"),
        ],
        commitments=[
            commitment("PE-C1", "Pump catalogue and marine references", d(2026, 7, 13),
                       d(2026, 7, 24), "done", owner="maria.lind", to_person="PE-P1"),
        ],
        contact_every=30, last_contact=d(2026, 10, 5),
        topics=("bilge pumps", "marine references"),
        milestones=[
            Milestone(d(2026, 7, 13), "maria.lind", "Lead from a port exhibition", "lead",
                      "pre-KAM", None, {"category": None}),
            Milestone(d(2026, 9, 21), "elena.vogt", "Categorised C; first need noted", "lead",
                      "pre-KAM"),
        ],
    )


def kestrel() -> AccountSpec:
    """A glassworks lead: we declined its first enquiry and found a need we can meet."""
    return AccountSpec(
        prefix="KE",
        account=account(
            "KESTREL", "Kestrel Glassworks", industry="glass", region="North",
            address="Glass Street 14, Sunderland SR1 2AB", phone="+44 191 555 0733",
            size="180,000 t of container glass a year", employees=240, category="C",
            kam="tom.hale", kam_since=d(2026, 5, 4), sales_stage="lead",
            relationship_stage="pre-KAM", decision_stage="need recognition",
            financial={"trend": "stable", "payment_discipline": "good", "credit_risk": "low"},
            market={"total_consumption": 8.0e5, "market_price_index": 1.01,
                    "main_competitors": ["Voltera Drives", "RollTek Bearings"]}),
        persons=[
            (person("KE-P1", "Alan Brooks", "Maintenance Manager", "Maintenance", "entry, pain",
                    0.55, "supporter", "tom.hale"), d(2026, 5, 4)),
            (person("KE-P2", "Emma Reid", "Works Director", "Management", "power", 0.9,
                    "neutral"), d(2026, 8, 17)),
            (person("KE-P3", "Ravi Sharma", "Electrical Engineer", "Maintenance", "user", 0.3,
                    "supporter", "tom.hale"), d(2026, 5, 4)),
            (person("KE-P4", "Lucy Hart", "Buyer", "Purchasing", "buyer", 0.4, "neutral"),
             d(2026, 8, 17)),
        ],
        links=[
            link("KE-P1", "KE-P2", 0.6, "reports to"), link("KE-P3", "KE-P1", 0.7, "reports to"),
            link("KE-P4", "KE-P2", 0.3, "reports to"),
        ],
        needs_since=d(2026, 8, 17),
        needs=[
            need("KE-N1", "problem", "Furnace cooling-fan failures", "Maintenance", 4, 1,
                 ("KE-N3",), cause="Fans run at full speed in the heat", awareness="solving",
                 persons=["KE-P1"]),
            need("KE-N2", "problem", "Conveyor bearings fail in the hot end", "Maintenance", 4,
                 5, ("KE-N3",), cause="Grease not rated for the heat",
                 awareness="aware, no solution", persons=["KE-P1", "KE-P3"]),
            need("KE-N3", "effect", "No unplanned stop of the furnace line", "Management", 5, 4,
                 goal="Yield of 91%"),
        ],
        deals=[
            deal("KE-D01", "Furnace cooling fans", "drives", "lead 2026-05-04, closed 2026-06-01",
                 "declined", "tom.hale", 260000, need="KE-N1",
                 refusal_reason="outside our portfolio"),
            deal("KE-D02", "Hot-end conveyor bearings", "bearings", "lead 2026-08-17", "open",
                 "tom.hale", 45000, need="KE-N2", expected_close=d(2027, 2, 26),
                 product="Sealed deep-groove bearings"),
        ],
        commitments=[
            commitment("KE-C1", "Samples of hot-end bearings", d(2026, 8, 17), d(2026, 9, 30),
                       "done", done_on=d(2026, 9, 25), owner="tom.hale", to_person="KE-P1"),
        ],
        contact_every=30, last_contact=d(2026, 10, 12),
        topics=("furnace fans", "hot-end conveyor bearings", "bearing samples"),
        milestones=[
            Milestone(d(2026, 5, 4), "tom.hale", "Lead: fan enquiry by phone", "lead", "pre-KAM",
                      None, {"category": None}),
            Milestone(d(2026, 8, 17), "tom.hale", "Fan enquiry declined; a bearing need found "
                      "instead", "lead", "pre-KAM", "need recognition"),
        ],
    )
