"""The door of the store refuses whatever anything later would refuse (DOMAIN.md §1: the dossier
is kept with its full history, so bad data must never get in; §7: costs are booked to the
configured categories so they can be compared with their budgets).

Each hostile input users found is refused by ``validate_dossier`` -- so by every save, every
import and ``kam validate`` -- with a message naming the record, the field and the bad value, and
the store is left exactly as it was:

1. a cost line, budget or activity that the profitability analyses would refuse;
2. control characters in text;
3. a yes/no value where a number belongs (``employees: true`` was stored as 1);
4. amounts whose sum overflows to ``inf``;
5. a huge input, which must not make a huge error message.
"""

from __future__ import annotations

import math
import re
import types
import typing
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import pytest
from click.testing import CliRunner
from io_samples import snapshot
from pydantic import BaseModel, TypeAdapter, ValidationError

from kam.cli import main
from kam.errors import ImportFailed, InputError
from kam.io import import_yaml
from kam.model import (
    Account,
    ActivityLine,
    Budget,
    CostLine,
    CostToServeConfig,
    Dossier,
    RevenueLine,
    Team,
    TeamMember,
    tables,
    validate_dossier,
)
from kam.profitability import activity_costs, budget_vs_actual, cost_to_serve, profitability
from kam.store import Workspace

ACME = {"id": "ACME", "name": "Acme Steel", "phone": "+1 555 0100"}
CATEGORIES = ("key-account team, logistics, order handling, rebates, sales visits, special "
              "programmes, technical support")  # templates/cost_to_serve.yaml, sorted


def _account(account_id: str, revenue: float, cogs: float, cost: float) -> Dossier:
    return Dossier(
        account=Account(id=account_id, name=f"{account_id} Ltd", phone="+1 555 0100"),
        revenue=[RevenueLine(period="2025-01", revenue=revenue, cogs=cogs)],
        costs=[CostLine(period="2025-01", category="logistics", amount=cost)],
    )


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "ws", create=True)
    w.save(_account("ACME", 1000, 600, 150), author="ann")
    w.save(_account("OTHER", 2000, 1500, 100), author="bob")
    yield w
    w.close()


def _refused(ws: Workspace, d: Dossier, match: str) -> None:
    """The save raises naming the record, field and value, and the store is unchanged."""
    before = snapshot(ws)
    with pytest.raises(InputError, match=match):
        ws.save(d, author="ann")
    assert snapshot(ws) == before


def _one(data: dict[str, Any]) -> str:
    """The single problem ``validate_dossier`` finds in ``data``."""
    with pytest.raises(InputError) as err:
        validate_dossier(data)
    assert len(err.value.problems) == 1, err.value.problems
    return str(err.value.problems[0])


# -- 1. cost categories and activities (DOMAIN.md §7) -----------------------------------------
@pytest.mark.parametrize(("collection", "line", "match"), [
    ("costs", CostLine(period="2025-02", category="travel", amount=10),
     rf"account ACME / costs\[1\] \(C-2\), field 'category': unknown cost category 'travel'; "
     rf"valid: {CATEGORIES}; add it to categories in cost_to_serve\.yaml"),
    ("costs", CostLine(period="2025-02", category="Price_Discounts", amount=10),
     r"account ACME / costs\[1\] \(C-2\), field 'category': 'price discounts' are given on the "
     r"invoice and computed from the revenue lines \(list_value - revenue\), so they cannot be "
     r"booked"),
    ("budgets", Budget(period="2025", category="travel", amount=10),
     r"account ACME / budgets\[0\] \(B-1\), field 'category': unknown cost category 'travel'; "
     r"valid: key-account team, logistics, order handling, price discounts, rebates"),
    ("activities", ActivityLine(period="2025-02", activity="teleport", count=1),
     r"account ACME / activities\[0\] \(A-1\), field 'activity': unknown activity 'teleport'; "
     r"valid: delivery, delivery mile, expedited delivery, order, sales visit, unit handled; add "
     r"a rate for it to activity_rates in cost_to_serve\.yaml"),
], ids=["unknown cost category", "booked price discounts", "unknown budget category",
        "unknown activity"])
def test_save_refuses_a_line_that_profitability_would_refuse(ws, collection, line, match):
    d = ws.load("ACME")
    getattr(d, collection).append(line)
    _refused(ws, d, match)


def test_one_bad_account_cannot_fail_another_accounts_profitability(ws):
    """The bad line never reaches the store, so the portfolio still computes. By hand:
    ACME 1000 - 600 - 150 = 250, OTHER 2000 - 1500 - 100 = 400."""
    d = ws.load("OTHER")
    d.costs.append(CostLine(period="2025-01", category="travel", amount=10))
    with pytest.raises(InputError, match="unknown cost category 'travel'"):
        ws.save(d, author="bob")
    p = profitability(tables(ws.load_all())).accounts
    assert dict(zip(p["account_id"], p["net_contribution"], strict=True)) == {
        "ACME": 250.0, "OTHER": 400.0}


@pytest.mark.parametrize("category", [
    "travel", "logistics", "Sales_Visits", "  key-account   team", "price discounts",
    "PRICE DISCOUNTS", "rebates", "rebate", "order_handling"])
def test_validation_refuses_exactly_the_cost_lines_and_budgets_profitability_refuses(category):
    """Whatever a report refuses, validation refuses first -- and nothing else."""
    booked = {"period": "2025-01", "category": "logistics", "amount": 5}
    for field, line, analysis in [
        ("costs", {"period": "2025-01", "category": category, "amount": 5}, cost_to_serve),
        ("budgets", {"period": "2025", "category": category, "amount": 5}, budget_vs_actual),
    ]:
        data = {"account": ACME, "costs": [booked], field: [line]}
        if field == "costs":
            data["costs"] = [booked, line]
        try:
            validate_dossier(data)
        except InputError:
            valid = False
        else:
            valid = True
        raw = Dossier.model_validate(data)  # built without the door's checks
        try:
            analysis(tables([raw]))
        except InputError:
            computes = False
        else:
            computes = True
        assert valid == computes, (field, category)


@pytest.mark.parametrize("activity", ["delivery", "Sales_Visit", "teleport", "orders"])
def test_validation_refuses_exactly_the_activities_the_activity_basis_refuses(activity):
    data = {"account": ACME, "activities": [{"period": "2025-01", "activity": activity,
                                             "count": 2}]}
    try:
        validate_dossier(data)
    except InputError:
        valid = False
    else:
        valid = True
    try:
        activity_costs(tables([Dossier.model_validate(data)]))
    except InputError:
        computes = False
    else:
        computes = True
    assert valid == computes


def test_a_budget_for_price_discounts_and_any_spelling_of_a_category_are_accepted(ws):
    d = ws.load("ACME")
    d.budgets.append(Budget(period="2025", category="price discounts", amount=50))
    d.costs.append(CostLine(period="2025-02", category="Sales_Visits", amount=20))
    d.activities.append(ActivityLine(period="2025-02", activity="Sales  visit", count=1))
    assert ws.save(d, author="ann").number == 2


def test_the_workspace_checks_against_its_own_cost_config(tmp_path):
    cfg = CostToServeConfig(categories=["travel"], activity_rates={})
    w = Workspace(tmp_path / "own", create=True, cost_config=cfg)
    d = Dossier(account=Account(**ACME),
                costs=[CostLine(period="2025-01", category="travel", amount=5)])
    assert w.save(d, author="ann").number == 1
    d.costs.append(CostLine(period="2025-01", category="logistics", amount=5))
    _refused(w, d, r"unknown cost category 'logistics'; valid: travel;")


_BAD_FILE = """\
account: {id: NEW, name: New Ltd, phone: "1"}
costs:
  - {period: "2025-03", category: travel, amount: 10}
"""


def test_import_and_kam_validate_refuse_an_unknown_category(ws, tmp_path):
    path = tmp_path / "in" / "new.yaml"
    path.parent.mkdir()
    path.write_text(_BAD_FILE, encoding="utf-8")
    before = snapshot(ws)
    with pytest.raises(ImportFailed, match=r"new\.yaml: account NEW / costs\[0\] \(C-1\), "
                                           r"field 'category': unknown cost category 'travel'"):
        import_yaml(ws, path)
    assert snapshot(ws) == before
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    assert "field 'category': unknown cost category 'travel'; valid: key-account team" in (
        result.output)


# -- 2. control characters -------------------------------------------------------------------
@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x0b", "\x1f", "\x7f"],
                         ids=["NUL", "BEL", "ESC", "VT", "US", "DEL"])
@pytest.mark.parametrize(("data", "where"), [
    (lambda c: {"account": {**ACME, "name": f"Acme{c}Steel"}}, r"account ACME, field 'name'"),
    (lambda c: {"account": {**ACME, "previous_kams": ["ann", f"b{c}b"]}},
     r"account ACME / previous_kams\[1\]: "),
    (lambda c: {"account": ACME, "persons": [{"id": "P1", "name": "Eva", "notes": f"x{c}y"}]},
     r"account ACME / persons\[0\] \(P1\), field 'notes'"),
    (lambda c: {"account": ACME, "costs": [{"period": "2025-01", "category": "logistics",
                                           "amount": 1, "note": f"x{c}y"}]},
     r"account ACME / costs\[0\], field 'note'"),
], ids=["name", "list of text", "person notes", "cost note"])
def test_control_characters_are_refused_naming_the_field_and_the_character(char, data, where):
    message = _one(data(char))
    assert re.match(where, message), message
    assert f"contains the control character {char!r}" in message
    assert "remove it" in message


def test_tabs_and_line_breaks_are_text():
    d = validate_dossier({"account": {**ACME, "notes": "one\ttwo\r\nthree\n"}})
    assert d.account.notes == "one\ttwo\r\nthree"  # surrounding blanks are stripped


def test_save_refuses_a_control_character_however_the_object_was_changed(ws):
    d = ws.load("ACME")
    with pytest.raises(ValidationError, match="String should match pattern"):
        d.account.name = "Acme\x1b[2J"  # assignment is checked at once
    d.account.__dict__["name"] = "Acme\x07"  # past the assignment check: the door refuses it
    _refused(ws, d, r"account ACME, field 'name': contains the control character '\\x07' "
                    r"\(character 5\)")


@pytest.mark.parametrize(("author", "message", "match"), [
    ("ann\x1b", "", r"revision, field 'author': contains the control character '\\x1b'"),
    ("ann", "fixed\x00", r"revision, field 'message': contains the control character '\\x00'"),
])
def test_revision_author_and_message_refuse_control_characters(ws, author, message, match):
    d = ws.load("ACME")
    d.account.notes = "changed"
    before = snapshot(ws)
    with pytest.raises(InputError, match=match):
        ws.save(d, author=author, message=message)
    assert snapshot(ws) == before


def test_team_roster_refuses_control_characters_even_in_lists_changed_in_place(ws):
    team = Team(members=[TeamMember(id="ann", name="Ann")])
    team.members.append(TeamMember.model_construct(id="bob", name="Bob\x7f", role="kam",
                                                   manager=None, region=None, active=True))
    before = snapshot(ws)
    with pytest.raises(InputError, match=r"team / members\[1\], field 'name': contains the "
                                         r"control character '\\x7f'"):
        ws.save_team(team)
    assert snapshot(ws) == before


# -- 3. yes/no where a number belongs --------------------------------------------------------
@pytest.mark.parametrize(("data", "where"), [
    ({"account": {**ACME, "employees": True}}, "account ACME, field 'employees'"),
    ({"account": {**ACME, "financial": {"revenue": True}}},
     "account ACME, field 'financial.revenue'"),
    ({"account": ACME, "deals": [{"id": "D1", "title": "Pumps", "probability": True}]},
     "account ACME / deals[0] (D1), field 'probability'"),
    ({"account": ACME, "revenue": [{"period": "2025-01", "revenue": True}]},
     "account ACME / revenue[0], field 'revenue'"),
    ({"account": ACME, "activities": [{"period": "2025-01", "activity": "order",
                                       "count": True}]},
     "account ACME / activities[0], field 'count'"),
    ({"account": ACME, "projects": [{"id": "PR1", "name": "Trial", "satisfaction": True}]},
     "account ACME / projects[0] (PR1), field 'satisfaction'"),
    ({"account": ACME, "ratings": [{"kind": "status", "points": True, "on": "2025-01-01"}]},
     "account ACME / ratings[0], field 'points'"),
])
def test_a_yes_no_value_is_not_a_number(data, where):
    assert _one(data) == f"{where}: expected a number, found the yes/no value True; write a number"


def _numeric(tp: Any) -> bool:
    """Whether a field annotation is (an optional) int or float."""
    if typing.get_origin(tp) is Annotated:
        return _numeric(typing.get_args(tp)[0])
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return any(_numeric(a) for a in typing.get_args(tp) if a is not type(None))
    return tp in (int, float)


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    seen.add(model)
    for f in model.model_fields.values():
        stack = [f.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel) and t not in seen:
                _models(t, seen)
            stack += typing.get_args(t)
    return seen


def test_every_number_of_every_record_refuses_yes_no_and_figures_beyond_the_bound():
    """Not only employees: every int or float field of the dossier and the team roster."""
    numeric = []
    for model in _models(Dossier, set()) | _models(Team, set()):
        for name, info in model.model_fields.items():
            if not _numeric(info.annotation):
                continue
            numeric.append(f"{model.__name__}.{name}")
            tp = Annotated[(info.annotation, *info.metadata)] if info.metadata else (
                info.annotation)
            adapter = TypeAdapter(tp)
            for bad in (True, False, math.inf, 1e16):
                with pytest.raises(ValidationError):
                    adapter.validate_python(bad)
    assert len(numeric) >= 25  # the walk found the records' numbers (a guard on the walk)
    assert {"Account.employees", "CostLine.amount", "Objective.baseline", "Kpi.target",
            "RatingEntry.points", "ActivityLine.count"} <= set(numeric)


# -- 4. amounts beyond the bound -------------------------------------------------------------
def test_huge_amounts_are_refused_so_totals_stay_finite(ws):
    d = ws.load("ACME")
    d.revenue.append(RevenueLine.model_construct(id=None, period="2025-02", revenue=1e308,
                                                 cogs=0.0, list_value=None, quantity=None,
                                                 product=None, product_group=None))
    _refused(ws, d, r"account ACME / revenue\[1\] \(R-2\), field 'revenue': 1e\+308 is beyond "
                    r"the largest figure kam accepts, \+-1e15 \(1,000,000,000,000,000\), so that "
                    r"totals stay finite; check the figure and its unit")


def test_amounts_at_the_bound_are_accepted_and_add_up_finitely():
    """Two lines at the bound: revenue 2e15 (by hand), a finite sum."""
    d = validate_dossier({"account": ACME, "revenue": [
        {"period": "2025-01", "revenue": 1e15}, {"period": "2025-02", "revenue": 1e15}]})
    assert profitability(tables([d])).accounts["revenue"].tolist() == [2e15]


@pytest.mark.parametrize(("data", "match"), [
    ({"account": {**ACME, "employees": 10**400}},
     r"field 'employees': <a whole number of about 401 digits> is beyond the largest figure"),
    ({"account": ACME, "ratings": [{"kind": "status", "points": -2e15, "on": "2025-01-01"}]},
     r"field 'points': -2000000000000000\.0 is beyond the largest figure"),
    ({"account": ACME, "plan": {"period": "2026", "objectives": [
        {"id": "O1", "title": "Grow", "metric": "revenue", "baseline": 0, "target": math.inf,
         "due": "2026-12-31"}]}},
     r"plan / objectives\[0\] \(O1\), field 'target': Input should be a finite number"),
])
def test_figures_beyond_the_bound_or_infinite_are_refused(data, match):
    with pytest.raises(InputError, match=match):
        validate_dossier(data)


# -- 5. error text stays short ---------------------------------------------------------------
def test_a_huge_list_where_text_is_expected_gives_a_short_message():
    huge = ["x" * 40] * 1_000_000  # the user's file held a 45 MB list
    message = _one({"account": {**ACME, "name": huge}})
    assert message.startswith("account ACME, field 'name': Input should be a valid string; "
                              "found ['xxxx")
    assert message.endswith("(a list of 1,000,000 items)")
    assert len(message) < 250


@pytest.mark.parametrize(("data", "end"), [
    ({"account": {**ACME, "id": "A" * 1_000_000}}, "is not a valid id"),
    ({"account": {**ACME, "notes": "n" * 1_000_000 + "\x1b"}}, "control characters)"),
    ({"account": {**ACME, "k" * 1_000_000: 1}}, "unknown field (a typo?)"),
    ({"account": ACME, "deals": [{"id": "D1", "title": "T", "stage": "s" * 1_000_000}]},
     "(aliases: prospecting -> lead"),
])
def test_long_input_is_cut_in_every_message(data, end):
    message = _one(data)
    assert len(message) < 400, message[:500]
    assert end in message


def test_a_named_edit_cuts_a_huge_value_too():
    d = Dossier(account=Account(**ACME))
    with pytest.raises(InputError) as err:
        d.add_person(name=list(range(1_000_000)))
    text = str(err.value)
    assert text.endswith("found [0, 1, 2, 3, 4, ...] (a list of 1,000,000 items)")
    assert d.persons == []


def test_the_date_of_a_stage_move_is_shown_briefly():
    d = Dossier(account=Account(**ACME))
    deal = d.add_deal("Pumps", on=date(2026, 1, 5))
    with pytest.raises(InputError, match=r"the date of the move is required; found 'x{5,}"):
        d.move_deal(deal.id, "potential", on="x" * 10_000)  # type: ignore[arg-type]
