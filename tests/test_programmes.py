"""Special programmes (DOMAIN.md §11: client groups for a seminar or a mailing, their delivery
and results; §7 the "special programmes" cost-to-serve line; §8 the event rating)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from kam.errors import InputError
from kam.model import (
    Account,
    Deal,
    Dossier,
    Interaction,
    RatingEntry,
    RevenueLine,
    Team,
    TeamMember,
    tables,
)
from kam.model.programme import Programme
from kam.profitability import cost_to_serve
from kam.programmes import apply_programme, population, programme_costs, programme_results
from kam.rating import campaign_points, client_rating
from kam.store import Workspace

TEAM = Team(members=[TeamMember(id="dir", name="Dana Reyes", role="planner"),
                     TeamMember(id="ann", name="Ann Lee", manager="dir")])


def d(i: str, region: str, *, interactions=(), deals=(), revenue=(), **account) -> Dossier:
    return Dossier(
        account=Account(id=i, name=f"{i} Ltd", region=region, phone="+1 555 0100", **account),
        interactions=[Interaction(id=f"{i}-I{n}", date=day, kind="call")
                      for n, day in enumerate(interactions, 1)],
        deals=list(deals),
        revenue=[RevenueLine(period=p, revenue=r, product_group=g) for p, r, g in revenue])


def example() -> list[Dossier]:
    """The worked example. Seminar SEM on 2026-03-12 for the North (A-E); F is in the South.
    A and B attended, C was invited and did not come; D and E are the comparison group."""
    return [
        d("A", "North", category="A",
          interactions=[date(2026, 3, 12), date(2026, 3, 20), date(2026, 4, 2)],
          deals=[Deal(id="A-D1", title="x", created=date(2026, 4, 10), outcome="won",
                      closed_on=date(2026, 5, 20), actual_budget=5000, planned_budget=6000)],
          revenue=[("2026-01", 500, "pumps"), ("2026-03", 999, "pumps"),
                   ("2026-04", 1000, "pumps"), ("2026-05", 1000, "pumps")]),
        d("B", "North", category="B",
          interactions=[date(2026, 5, 1), date(2026, 7, 1)],
          deals=[Deal(id="B-D1", title="y", created=date(2026, 2, 1), outcome="won",
                      closed_on=date(2026, 4, 15), refined_budget=3000, planned_budget=3500)],
          revenue=[("2025-12", 1000, "drives"), ("2026-Q2", 3000, "drives")]),
        d("C", "North", category="C", interactions=[date(2026, 4, 1)],
          revenue=[("2026-04", 100, "pumps")]),
        d("D", "North", category="A", interactions=[date(2026, 6, 1)],
          deals=[Deal(id="D-D1", title="z", created=date(2026, 5, 1), planned_budget=900)],
          revenue=[("2026-02", 600, "pumps"), ("2026-06", 600, "pumps")]),
        d("E", "North", category="B", revenue=[("2026-07", 800, "pumps")]),
        d("F", "South", category="A", interactions=[date(2026, 4, 1)] * 5,
          revenue=[("2026-04", 9000, "pumps")]),
    ]


SEMINAR = Programme(
    id="SEM", name="Pump seminar", kind="seminar", start=date(2026, 3, 12), owner="ann",
    filters={"region": "North"}, cost=1000,
    deliveries=[{"account": "A", "status": "attended"}, {"account": "B", "status": "attended"},
                {"account": "C", "status": "invited"}])


def test_programme_comparison_hand_worked_example():
    """Window: after the last day 2026-03-12 up to 2026-06-12 (3 months); revenue: the months
    Apr-Jun (after) and Dec-Feb (before), whole periods only.

    participants A, B: interactions A 03-20, 04-02 (03-12 is the seminar day itself) + B 05-01
    (07-01 is past the window) = 3 -> 1.5 per account; deals opened A-D1 (04-10) = 1 -> 0.5;
    won A-D1 (05-20, actual 5,000) + B-D1 (04-15, refined 3,000: no actual) = 2 -> 1.0, value
    8,000 -> 4,000; revenue after A 1,000 + 1,000, B 3,000 (2026-Q2) = 5,000 -> 2,500; before
    A 500 + B 1,000 = 1,500 -> 750; change 3,500 -> 1,750 (A's 2026-03 counts in neither).
    not reached C: 1 interaction, revenue after 100.
    comparison D, E (North minus everyone delivered to; F is South): interactions D 06-01 = 1
    -> 0.5; opened D-D1 = 1 -> 0.5; won 0; revenue after D 600 (E's July is past the window)
    -> 300, before D 600 -> 300, change 0.
    Lift (participants - comparison per account): interactions +1.0, deals won +1.0, value won
    +4,000, revenue after +2,200, revenue change +1,750."""
    r = programme_results(tables(example()), SEMINAR, months=3)
    assert (r.start, r.end) == (date(2026, 3, 12), date(2026, 6, 12))
    g = r.groups.set_index("group")
    assert g["accounts"].to_dict() == {"participants": 2, "not reached": 1, "comparison": 2}
    assert g.loc["participants", ["interactions", "deals_opened", "deals_won", "value_won",
                                  "revenue_after", "revenue_before",
                                  "revenue_change"]].tolist() == [
        3.0, 1.0, 2.0, 8000.0, 5000.0, 1500.0, 3500.0]
    assert g.loc["comparison", ["interactions", "deals_opened", "deals_won", "value_won",
                                "revenue_after", "revenue_before"]].tolist() == [
        1.0, 1.0, 0.0, 0.0, 600.0, 600.0]
    assert g.loc["not reached", ["interactions", "revenue_after"]].tolist() == [1.0, 100.0]
    lift = r.lift().set_index("measure")["difference"]
    assert lift[["interactions", "deals_opened", "deals_won", "value_won", "revenue_after",
                 "revenue_change"]].tolist() == [1.0, 0.0, 1.0, 4000.0, 2200.0, 1750.0]
    assert r.accounts.set_index("account_id")["group"].to_dict() == {
        "A": "participants", "B": "participants", "C": "not reached", "D": "comparison",
        "E": "comparison"}
    assert "minus every account it was delivered to (2 accounts)" in r.comparison


def test_programme_results_window_is_cut_at_as_of():
    """On 2026-04-05 only A's 03-20 and 04-02 calls and C's 04-01 call have happened, and no
    deal was won yet (B-D1 closes on 04-15); the revenue months after are cut to April (A
    1,000; B's 2026-Q2 reaches past April)."""
    r = programme_results(tables(example()), SEMINAR, months=3, as_of=date(2026, 4, 5))
    g = r.groups.set_index("group")
    assert r.end == date(2026, 4, 5)
    assert g.loc["participants", ["interactions", "deals_won", "revenue_after"]].tolist() == [
        2.0, 0.0, 1000.0]


def test_programme_cost_is_a_special_programmes_line_split_over_participants():
    """1,000 over the two accounts reached: 500 each, booked in the programme's month; C (not
    reached) carries none. DOMAIN.md §7: special programmes are a cost-to-serve category."""
    costs = programme_costs(SEMINAR)
    assert costs.values.tolist() == [["A", "2026-03", "special programmes", 500.0],
                                     ["B", "2026-03", "special programmes", 500.0]]


def test_apply_programme_books_the_cost_and_the_event_rating_once():
    """A and B get 500 of cost-to-serve and 3 event points (attended), C 0 points (invited);
    applying again changes nothing; taking B out of the programme removes B's line and entry."""
    changed = apply_programme(example(), SEMINAR)
    assert [x.account.id for x in changed] == ["A", "B", "C"]
    t = tables(changed)
    cts = cost_to_serve(t).set_index("account_id")
    assert cts.loc[["A", "B"], ["category", "amount"]].values.tolist() == [
        ["special programmes", 500.0], ["special programmes", 500.0]]
    rating = client_rating(t).set_index("account_id")
    assert rating.loc[["A", "B", "C"], "event"].tolist() == [3.0, 3.0, 0.0]
    assert campaign_points(t, "SEM")["points"].tolist() == [3.0, 3.0, 0.0]
    assert apply_programme(changed, SEMINAR) == []  # idempotent
    smaller = SEMINAR.model_copy(deep=True)
    smaller.deliveries = [x for x in smaller.deliveries if x.account != "B"]
    again = {x.account.id: x for x in apply_programme(changed, smaller)}
    assert again["B"].costs == [] and again["B"].ratings == []
    assert [c.amount for c in again["A"].costs] == [1000.0]


def test_the_event_entry_of_a_programme_keeps_other_campaigns():
    a = example()[0]
    a.ratings.append(RatingEntry(kind="event", points=2, on=date(2026, 1, 5), campaign="OLD"))
    changed = apply_programme([a, *example()[1:]], SEMINAR)
    rating = client_rating(tables(changed)).set_index("account_id")
    assert rating.loc["A", "event"] == 5.0  # 2 (OLD) + 3 (SEM): campaigns add up


def test_population_filters_over_dossiers_and_tables():
    """North and category A or B: A, B, D, E; bought pumps: A, C, D, E, F; revenue in 2026-Q2
    of at least 600: A (2,000), B (3,000), D (600), F (9,000)."""
    t = tables(example())
    assert population(t, {"region": "North", "category": ["A", "B"]})[
        "account_id"].tolist() == ["A", "B", "D", "E"]
    assert population(t, {"product_group": "pumps"})["account_id"].tolist() == [
        "A", "C", "D", "E", "F"]
    rich = population(t, {"revenue": {"min": 600}}, revenue_period="2026-Q2")
    assert rich[["account_id", "revenue"]].values.tolist() == [
        ["A", 2000.0], ["B", 3000.0], ["D", 600.0], ["F", 9000.0]]
    health = pd.DataFrame({"account_id": ["A", "B", "C"], "score": [40.0, 80.0, 55.0]})
    assert population(t, {"health": {"max": 60}}, health=health)["account_id"].tolist() == [
        "A", "C"]
    rated = tables(apply_programme(example(), SEMINAR))
    assert population(rated, {"rating": {"min": 1}})["account_id"].tolist() == ["A", "B"]


@pytest.mark.parametrize(("filters", "field", "message"), [
    ({"segment": "x"}, "segment", r"unknown filter field 'segment'; valid fields: category, "
                                  r"sales_stage, relationship_stage, region"),
    ({"region": {"min": 1}}, "region", r"filter 'region' takes a value or a list of values, "
                                       r"not a range"),
    ({"category": "D"}, "category", r"filter 'category': unknown value 'D'; valid: A, B, C"),
    ({"rating": {"min": 5, "max": 1}}, "rating", r"filter 'rating': min 5 is above max 1"),
    ({"rating": "high"}, "rating", r"filter 'rating': expected a number, found 'high'"),
])
def test_a_bad_filter_is_refused_naming_the_field(filters, field, message):
    with pytest.raises(InputError, match=rf"programme filters, field '{field}': {message}"):
        population(tables(example()), filters)


def test_a_health_filter_without_scores_says_how_to_get_them():
    with pytest.raises(InputError, match=r"field 'health': a filter on health needs the health "
                                         r"scores: pass health=kam.health.health_table"):
        population(tables(example()), {"health": {"max": 50}})


def test_a_programme_with_an_unknown_filter_is_refused_and_the_store_unchanged(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save_team(TEAM)
    team = ws.team()
    with pytest.raises(InputError, match=r"programme P1, field 'filters.segment': unknown "
                                         r"filter field 'segment'; valid fields: category"):
        team.add_programme({"id": "P1", "name": "Mailing", "kind": "mailing",
                            "start": date(2026, 3, 1), "filters": {"segment": "steel"}})
    assert team.programmes == [] and ws.team() == TEAM


def test_a_programme_is_saved_with_its_accounts_in_one_transaction(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save_team(TEAM)
    ws.save_many(example())
    team = ws.team()
    team.add_programme(SEMINAR)
    revisions = ws.save_many(apply_programme(ws.load_all(), SEMINAR), team=team, author="ann",
                             message="seminar delivered")
    assert [r.key for r in revisions] == ["A", "B", "C"]
    assert ws.team().programme("SEM") == SEMINAR
    assert [c.id for c in ws.load("A").costs] == ["C-SEM"]
    # a delivery to an account the workspace does not have is refused before anything is saved
    stray = SEMINAR.model_copy(deep=True)
    stray.record("ZZ", "mailed")
    with pytest.raises(InputError, match=r"programme SEM, field 'deliveries': account 'ZZ' is "
                                         r"not in the workspace"):
        apply_programme(ws.load_all(), stray)
    with pytest.raises(InputError, match=r"delivery to A, field 'status': Input should be "
                                         r"'invited', 'attended', 'mailed' or 'bounced'"):
        stray.record("A", "went")
