"""The dossier model's validation (DOMAIN.md §1): every problem is reported with its record and
field, and the messages are pinned word for word."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from kam.errors import InputError
from kam.model import Account, Deal, Dossier, Person, tables, validate_dossier
from kam.store import Workspace

ACME = {"id": "ACME", "name": "Acme Steel"}


def problems(data: Any, file: str | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        validate_dossier(data, file=file)
    return info.value


def one(data: dict[str, Any]) -> tuple[str, str, str]:
    """The single problem of ``data`` as (record, field, message)."""
    err = problems(data)
    assert len(err.problems) == 1, err.problems
    p = err.problems[0]
    return p.record, p.field, p.message


# -- records and fields are named ----------------------------------------------------------
def test_a_problem_names_the_record_by_position_and_id_and_the_field() -> None:
    data = {"account": ACME, "deals": [{"id": "D1", "title": "Pumps"},
                                       {"id": "D2", "title": "Drives"},
                                       {"id": "D-7", "title": "Bearings", "probability": 1.5}]}
    err = problems(data)
    assert [(p.record, p.field) for p in err.problems] == [
        ("account ACME / deals[2] (D-7)", "probability")]
    assert str(err) == ("account ACME / deals[2] (D-7), field 'probability': Input should be "
                        "less than or equal to 1; found 1.5")


def test_the_file_is_named_when_given() -> None:
    err = problems({"account": {**ACME, "categry": "A"}}, file="acme.yaml")
    assert str(err) == "acme.yaml: account ACME, field 'categry': unknown field (a typo?)"
    assert err.problems[0].file == "acme.yaml"
    err = problems({"account": ACME, "links": [{"source": "P1", "target": "P1"}]},
                   file="acme.yaml")
    assert {p.file for p in err.problems} == {"acme.yaml"}


def test_every_problem_is_listed_and_a_long_list_is_cut_at_twenty() -> None:
    err = problems({"account": ACME, "persons": [{"id": f"P{i}", "name": ""} for i in range(25)]})
    assert len(err.problems) == 25
    text = str(err)
    assert text.startswith("25 problems in the input:\n  account ACME / persons[0] (P0), "
                           "field 'name': String should have at least 1 character; found ''")
    assert text.endswith("\n  ... and 5 more")


def test_something_other_than_a_mapping_is_refused() -> None:
    with pytest.raises(InputError, match=r"^dossier: expected a mapping with an 'account' "
                                         r"section, found list$"):
        validate_dossier([{"id": "ACME"}])  # type: ignore[arg-type]


# -- wrong types, typos, missing fields ----------------------------------------------------
@pytest.mark.parametrize(("data", "expected"), [
    ({"account": {**ACME, "employees": "many"}},
     ("account ACME", "employees", "Input should be a valid integer, unable to parse string as "
                                   "an integer; found 'many'")),
    ({"account": {**ACME, "category": "D"}},
     ("account ACME", "category", "Input should be 'A', 'B' or 'C'; found 'D'")),
    ({"account": ACME, "persons": [{"id": "P1", "name": "Ann", "influence": "high"}]},
     ("account ACME / persons[0] (P1)", "influence",
      "Input should be a valid number, unable to parse string as a number; found 'high'")),
    ({"account": ACME, "interactions": [{"id": "I1", "date": "2025-01-01", "kind": "telepathy"}]},
     ("account ACME / interactions[0] (I1)", "kind",
      "Input should be 'call', 'email', 'meeting', 'visit', 'presentation', 'proposal', "
      "'seminar', 'negotiation' or 'other'; found 'telepathy'")),
    ({"account": ACME, "persons": "Ann Smith"},
     ("account ACME", "persons", "Input should be a valid list; found 'Ann Smith'")),
], ids=["integer", "category", "fraction", "interaction kind", "list"])
def test_wrong_types_name_the_bad_value_and_the_valid_options(data, expected) -> None:
    assert one(data) == expected


@pytest.mark.parametrize(("data", "record", "field"), [
    ({"account": {**ACME, "categry": "A"}}, "account ACME", "categry"),
    ({"account": ACME, "deals": [{"id": "D1", "title": "Pumps", "probabilty": 0.5}]},
     "account ACME / deals[0] (D1)", "probabilty"),
    ({"account": ACME, "plan": {"period": "2026", "objectivs": []}}, "account ACME / plan",
     "objectivs"),
    ({"account": {**ACME, "financial": {"revenu": 1}}}, "account ACME", "financial.revenu"),
], ids=["account", "deal", "plan", "nested"])
def test_unknown_fields_are_reported_as_typos(data, record, field) -> None:
    assert one(data) == (record, field, "unknown field (a typo?)")


@pytest.mark.parametrize(("data", "record", "field"), [
    ({"persons": []}, "account ?", "account"),
    ({"account": {"id": "ACME"}}, "account ACME", "name"),
    ({"account": ACME, "persons": [{"id": "P1"}]}, "account ACME / persons[0] (P1)", "name"),
    ({"account": ACME, "deals": [{"id": "D1"}]}, "account ACME / deals[0] (D1)", "title"),
    ({"account": ACME, "commitments": [{"id": "C1", "description": "Repair"}]},
     "account ACME / commitments[0] (C1)", "due"),
], ids=["account", "name", "person name", "deal title", "commitment due"])
def test_missing_required_fields_are_named(data, record, field) -> None:
    assert one(data) == (record, field, "required field is missing")


def test_ids_and_periods_have_their_own_messages() -> None:
    assert one({"account": {"id": "AC ME", "name": "Acme"}}) == (
        "account AC ME", "id", "'AC ME' is not a valid id: use 1-64 letters, digits, '-', '_' "
                               "or '.', starting with a letter or digit")
    assert one({"account": ACME, "revenue": [{"period": "2025-13", "revenue": 1}]}) == (
        "account ACME / revenue[0]", "period", "'2025-13' is not a period: write a year (2025), "
                                               "a month (2025-03) or a quarter (2025-Q1)")


# -- numbers out of range ------------------------------------------------------------------
@pytest.mark.parametrize(("collection", "record"), [
    ("deals", {"id": "D1", "title": "Pumps", "planned_budget": -5}),
    ("deals", {"id": "D1", "title": "Pumps", "refined_budget": -5}),
    ("deals", {"id": "D1", "title": "Pumps", "actual_budget": -5}),
    ("revenue", {"period": "2025-01", "revenue": -5}),
    ("revenue", {"period": "2025-01", "revenue": 10, "cogs": -5}),
    ("costs", {"period": "2025-01", "category": "logistics", "amount": -5}),
    ("budgets", {"period": "2025", "category": "logistics", "amount": -5}),
], ids=["planned", "refined", "actual", "revenue", "cogs", "cost", "budget"])
def test_negative_money_is_refused(collection, record) -> None:
    (field,) = [k for k, v in record.items() if v == -5]
    _, fld, msg = one({"account": ACME, collection: [record]})
    assert fld == field
    assert msg == "Input should be greater than or equal to 0; found -5"


def test_negative_client_revenue_is_refused() -> None:
    assert one({"account": {**ACME, "financial": {"revenue": -1}}}) == (
        "account ACME", "financial.revenue", "Input should be greater than or equal to 0; found -1")


@pytest.mark.parametrize(("collection", "record", "field", "message"), [
    ("deals", {"id": "D1", "title": "Pumps", "probability": 1.5}, "probability",
     "Input should be less than or equal to 1; found 1.5"),
    ("deals", {"id": "D1", "title": "Pumps", "probability": -0.1}, "probability",
     "Input should be greater than or equal to 0; found -0.1"),
    ("persons", {"id": "P1", "name": "Ann", "influence": 1.2}, "influence",
     "Input should be less than or equal to 1; found 1.2"),
    ("deals", {"id": "D1", "title": "Pumps", "probability": math.nan}, "probability",
     "Input should be a finite number; found nan"),
], ids=["above 1", "below 0", "influence", "nan"])
def test_probabilities_and_shares_must_lie_between_0_and_1(collection, record, field,
                                                            message) -> None:
    assert one({"account": ACME, collection: [record]})[1:] == (field, message)


@settings(max_examples=50, deadline=None)
@given(p=st.floats(allow_nan=True, allow_infinity=True))
def test_a_probability_is_valid_exactly_when_it_lies_in_0_to_1(p: float) -> None:
    valid = 0 <= p <= 1  # False for nan
    try:
        Deal(id="D1", title="Pumps", probability=p)
    except ValidationError:
        assert not valid
    else:
        assert valid


@settings(max_examples=50, deadline=None)
@given(amount=st.floats(allow_nan=False, allow_infinity=False))
def test_money_is_valid_exactly_when_it_is_not_negative_nor_beyond_1e15(amount: float) -> None:
    # 1e15 is the largest figure kam accepts: sums of a million such lines stay finite
    try:
        Deal(id="D1", title="Pumps", planned_budget=amount)
    except ValidationError:
        assert amount < 0 or amount > 1e15
    else:
        assert 0 <= amount <= 1e15


# -- dates ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("collection", "record", "field", "message"), [
    ("deals", {"id": "D1", "title": "Pumps", "created": "2025-13-45"}, "created",
     "Input should be a valid date or datetime, month value is outside expected range of 1-12; "
     "found '2025-13-45'"),
    ("interactions", {"id": "I1", "date": "yesterday", "kind": "call"}, "date",
     "Input should be a valid date or datetime, input is too short; found 'yesterday'"),
], ids=["month 13", "a word"])
def test_unparseable_dates_are_refused(collection, record, field, message) -> None:
    assert one({"account": ACME, collection: [record]})[1:] == (field, message)


def test_a_refused_deal_needs_a_reason() -> None:
    deal = {"id": "D-7", "title": "Pumps", "outcome": "refused"}
    assert one({"account": ACME, "deals": [deal]}) == (
        "account ACME / deals[0] (D-7)", "refusal_reason",
        "a refused deal needs a refusal_reason (e.g. 'high price')")
    ok = validate_dossier({"account": ACME, "deals": [{**deal, "refusal_reason": "high price"}]})
    assert ok.deals[0].refusal_reason == "high price"
    # We decline a client on our own account: no reason is demanded.
    validate_dossier({"account": ACME, "deals": [{**deal, "outcome": "declined"}]})


@pytest.mark.parametrize(("dates", "message"), [
    ({"created": "2025-02-01", "closed_on": "2025-01-01"},
     "closed_on 2025-01-01 is before created 2025-02-01"),
    ({"plan_date": "2025-02-01", "closed_on": "2025-01-01"},
     "closed_on 2025-01-01 (actual) is before plan_date 2025-02-01"),
], ids=["created", "plan date"])
def test_a_deal_cannot_close_before_it_was_created_or_planned(dates, message) -> None:
    deal = {"id": "D-7", "title": "Pumps", **dates}
    assert one({"account": ACME, "deals": [deal]}) == (
        "account ACME / deals[0] (D-7)", "closed_on", message)


@pytest.mark.parametrize(("data", "record", "field", "message"), [
    ({"persons": [{"id": "P1", "name": "Ann", "employment": [
        {"company": "Old Works", "start": "2020-01-01", "end": "2019-01-01"}]}]},
     "account ACME / persons[0] (P1) / employment[0]", "end",
     "end 2019-01-01 is before start 2020-01-01"),
    ({"projects": [{"id": "PR1", "name": "Retrofit", "start": "2025-05-01", "end": "2025-04-01"}]},
     "account ACME / projects[0] (PR1)", "end", "end 2025-04-01 is before start 2025-05-01"),
    ({"plan": {"period": "2026", "objectives": [
        {"id": "O1", "title": "Grow", "metric": "revenue", "baseline": 0, "target": 1,
         "start": "2026-02-01", "due": "2026-01-01"}]}},
     "account ACME / plan / objectives[0] (O1)", "due",
     "due date 2026-01-01 is before the start 2026-02-01"),
    ({"plan": {"period": "2026", "actions": [
        {"id": "A1", "title": "Visit", "owner": "ann", "start": "2026-02-01",
         "due": "2026-01-01"}]}},
     "account ACME / plan / actions[0] (A1)", "due",
     "due date 2026-01-01 is before the start 2026-02-01"),
], ids=["employment", "project", "objective", "action"])
def test_periods_that_end_before_they_start_are_refused(data, record, field, message) -> None:
    assert one({"account": ACME, **data}) == (record, field, message)


# -- duplicates and dangling references ----------------------------------------------------
_RECORDS = {
    "persons": lambda i: {"id": i, "name": "Ann"},
    "interactions": lambda i: {"id": i, "date": "2025-01-01", "kind": "call"},
    "projects": lambda i: {"id": i, "name": "Retrofit"},
    "needs": lambda i: {"id": i, "title": "Drive failures"},
    "commitments": lambda i: {"id": i, "description": "Repair", "due": "2025-01-01"},
    "deals": lambda i: {"id": i, "title": "Pumps"},
}


@pytest.mark.parametrize("collection", sorted(_RECORDS))
def test_duplicate_ids_are_refused(collection) -> None:
    make = _RECORDS[collection]
    data = {"account": ACME, collection: [make("X1"), make("X2"), make("X1")]}
    assert one(data) == (f"account ACME / {collection}", "id", "duplicate id 'X1' (2 records)")


@pytest.mark.parametrize("collection", ["objectives", "strategies", "actions", "kpis"])
def test_duplicate_ids_in_the_account_plan_are_refused(collection) -> None:
    make = {
        "objectives": lambda i: {"id": i, "title": "Grow", "metric": "revenue", "baseline": 0,
                                 "target": 1, "due": "2026-12-31"},
        "strategies": lambda i: {"id": i, "title": "Prove it"},
        "actions": lambda i: {"id": i, "title": "Visit", "owner": "ann", "due": "2026-03-01"},
        "kpis": lambda i: {"id": i, "name": "Revenue", "target": 1},
    }[collection]
    data = {"account": ACME, "plan": {"period": "2026", collection: [make("X1"), make("X1")]}}
    assert one(data) == (f"account ACME / plan / {collection}", "id",
                         "duplicate id 'X1' (2 records)")


def test_two_budgets_for_one_category_and_period_are_refused() -> None:
    budget = {"period": "2025", "category": "logistics", "amount": 100}
    assert one({"account": ACME, "budgets": [budget, {**budget, "amount": 200}]}) == (
        "account ACME / budgets", "category", "2 budgets for 'logistics' in 2025")


_PLAN_BASE: dict[str, Any] = {
    "period": "2026",
    "objectives": [{"id": "O1", "title": "Grow", "metric": "revenue", "baseline": 0,
                    "target": 1, "due": "2026-12-31"}],
    "strategies": [{"id": "S1", "title": "Prove it", "objectives": ["O1"]}],
}
_BASE: dict[str, Any] = {
    "account": ACME,
    "persons": [{"id": "P1", "name": "Ann"}],
    "needs": [{"id": "N1", "title": "Drive failures"}],
    "deals": [{"id": "D1", "title": "Pumps"}],
}


def _plan(**section: Any) -> dict[str, Any]:
    return {"plan": {**_PLAN_BASE, **section}}


# Every reference kam.model.dossier.reference_problems checks: (extra data, record, field, what).
_DANGLING = [
    ({"links": [{"source": "P9", "target": "P1"}]}, "links[0]", "source", "person 'P9'"),
    ({"links": [{"source": "P1", "target": "P9"}]}, "links[0]", "target", "person 'P9'"),
    ({"interactions": [{"id": "I1", "date": "2025-01-01", "kind": "call",
                        "participants": ["P9"]}]},
     "interactions[0] (I1)", "participants", "person 'P9'"),
    ({"interactions": [{"id": "I1", "date": "2025-01-01", "kind": "call", "deal": "D9"}]},
     "interactions[0] (I1)", "deal", "deal 'D9'"),
    ({"needs": [{"id": "N1", "title": "Drive failures", "persons": ["P9"]}]},
     "needs[0] (N1)", "persons", "person 'P9'"),
    ({"needs": [{"id": "N1", "title": "Drive failures", "leads_to": ["N9"]}]},
     "needs[0] (N1)", "leads_to", "need 'N9'"),
    ({"commitments": [{"id": "C1", "description": "Repair", "due": "2025-01-01",
                       "to_person": "P9"}]},
     "commitments[0] (C1)", "to_person", "person 'P9'"),
    ({"deals": [{"id": "D1", "title": "Pumps", "need": "N9"}]}, "deals[0] (D1)", "need",
     "need 'N9'"),
    ({"deals": [{"id": "D1", "title": "Pumps", "for_persons": ["P9"]}]}, "deals[0] (D1)",
     "for_persons", "person 'P9'"),
    ({"deals": [{"id": "D1", "title": "Pumps", "against_persons": ["P9"]}]}, "deals[0] (D1)",
     "against_persons", "person 'P9'"),
    (_plan(objectives=[{**_PLAN_BASE["objectives"][0], "needs": ["N9"]}]),
     "plan / objectives[0] (O1)", "needs", "need 'N9'"),
    (_plan(objectives=[{**_PLAN_BASE["objectives"][0], "deals": ["D9"]}]),
     "plan / objectives[0] (O1)", "deals", "deal 'D9'"),
    (_plan(strategies=[{"id": "S1", "title": "Prove it", "objectives": ["O9"]}]),
     "plan / strategies[0] (S1)", "objectives", "objective 'O9'"),
    (_plan(actions=[{"id": "A1", "title": "Visit", "owner": "ann", "due": "2026-03-01",
                     "strategy": "S9"}]),
     "plan / actions[0] (A1)", "strategy", "strategy 'S9'"),
    (_plan(actions=[{"id": "A1", "title": "Visit", "owner": "ann", "due": "2026-03-01",
                     "objective": "O9"}]),
     "plan / actions[0] (A1)", "objective", "objective 'O9'"),
    (_plan(kpis=[{"id": "K1", "name": "Revenue", "target": 1, "objective": "O9"}]),
     "plan / kpis[0] (K1)", "objective", "objective 'O9'"),
]


@pytest.mark.parametrize(("extra", "record", "field", "what"), _DANGLING,
                         ids=[f"{r.split(' ')[0]}.{f}" for _, r, f, _ in _DANGLING])
def test_dangling_references_are_refused_naming_the_known_ids(extra, record, field, what) -> None:
    known = {"person": "P1", "need": "N1", "deal": "D1", "objective": "O1",
             "strategy": "S1"}[what.split()[0]]
    assert one({**_BASE, **extra}) == (f"account ACME / {record}", field,
                                       f"refers to unknown {what}; known: {known}")


def test_dangling_references_are_refused_when_building_a_dossier_in_python() -> None:
    with pytest.raises(ValidationError, match=r"account ACME / links\[0\], field 'source': "
                                              r"refers to unknown person 'P9'; known: none"):
        Dossier(account=Account(**ACME), links=[{"source": "P9", "target": "P9"}])


# -- records keep their rules after construction -------------------------------------------
def test_assignments_are_validated_too() -> None:
    deal = Deal(id="D1", title="Pumps")
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        deal.probability = 2


def test_text_is_stripped_of_surrounding_blanks() -> None:
    assert Account(id="ACME", name="  Acme Steel ").name == "Acme Steel"


def test_a_missing_record_is_named_with_the_known_ones() -> None:
    d = Dossier(account=Account(**ACME), persons=[Person(id="P1", name="Ann")])
    with pytest.raises(KeyError, match=r"No person 'P9' in account 'ACME'; known: P1"):
        d.person("P9")


# -- people move on --------------------------------------------------------------------------
def test_a_person_who_left_is_kept_and_no_longer_active(tmp_path) -> None:
    data = {"account": {**ACME, "phone": "+1 555 0100"}, "persons": [
        {"id": "P1", "name": "Ann Smith", "position": "Plant Engineer", "left_on": "2026-06-30",
         "employment": [
             {"company": "Acme Steel", "position": "Plant Engineer", "start": "2019-03-01",
              "end": "2026-06-30"},
             {"company": "Other Works", "position": "Technical Director",
              "start": "2026-07-01"}]},
        {"id": "P2", "name": "Bob Jones"}]}
    d = validate_dossier(data)
    assert [p.id for p in d.persons] == ["P1", "P2"]
    assert [p.active for p in d.persons] == [False, True]
    assert [j.company for j in d.person("P1").employment] == ["Acme Steel", "Other Works"]
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save(d, author="ann")
    kept = ws.load("ACME").person("P1")
    assert (kept.active, kept.left_on) == (False, date(2026, 6, 30))
    assert tables([d]).persons.set_index("id").loc["P1", "left_on"] == date(2026, 6, 30)


def test_validating_a_dossier_round_trips(demo_dossiers) -> None:
    for d in demo_dossiers:
        assert validate_dossier(d) == d
        assert validate_dossier(d.model_dump(mode="json")) == d
