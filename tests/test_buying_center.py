"""The buying center (DOMAIN.md §3): entry, pain and power points, entry chains, red flags.

The worked example (``center``), drawn by hand (strengths on the links)::

    kam1 -> ann (entry) --0.8--> bob (pain) --0.5--> cid (power)      route 1.0*0.8*0.5  = 0.40
                        --0.9--> gus         --0.6--> cid             route 1.0*0.9*0.6  = 0.54
                        --0.95-> dan (detractor, 0.7) --0.95--> cid   0.9025, but a detractor
                                                                      does not introduce us
    kam2 -> fay         --0.5--> cid                                  route 1.0*0.5      = 0.50
    eve (power) left the company; ann --1.0--> eve --1.0--> cid would be 1.0 if she had not.

So the entry chain to cid is kam1 -> ann -> gus -> cid, strength 0.54, weakest link gus -> cid
(0.6).
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.buying_center import US, BuyingCenter
from kam.errors import InputError
from kam.model import Account, Dossier, Person, PersonLink, Team, TeamMember


def P(id, roles=(), **kw) -> Person:
    return Person(id=id, name=kw.pop("name", id.capitalize()), roles=list(roles), **kw)


def L(a, b, s) -> PersonLink:
    return PersonLink(source=a, target=b, strength=s)


@pytest.fixture
def persons() -> list[Person]:
    return [
        P("ann", ["entry"], attitude="supporter", influence=0.4, reached_by=["kam1"]),
        P("bob", ["pain"], influence=0.5),
        P("cid", ["power"], influence=0.9),
        P("dan", ["influencer"], attitude="detractor", influence=0.7),
        P("eve", ["power"], influence=0.8, left_on="2024-05-01"),
        P("fay", ["influencer"], attitude="supporter", influence=0.3, reached_by=["kam2"]),
        P("gus", ["user"], influence=0.2),
    ]


@pytest.fixture
def links() -> list[PersonLink]:
    return [L("ann", "bob", 0.8), L("bob", "cid", 0.5), L("ann", "gus", 0.9),
            L("gus", "cid", 0.6), L("ann", "dan", 0.95), L("dan", "cid", 0.95),
            L("fay", "cid", 0.5), L("ann", "eve", 1.0), L("eve", "cid", 1.0)]


@pytest.fixture
def center(persons, links) -> BuyingCenter:
    d = Dossier(account=Account(id="ACME", name="Acme"), persons=persons, links=links)
    team = Team(members=[TeamMember(id="kam1", name="Kim"), TeamMember(id="kam2", name="Lee")])
    return BuyingCenter.from_dossier(d, team)


# -- entry, pain and power points --------------------------------------------------------------
def test_buying_center_entry_pain_power_points(center):
    m = center.members().set_index("person")
    assert m.index[m["entry"]].tolist() == ["ann"]
    assert m.index[m["pain"]].tolist() == ["bob"]
    assert m.index[m["power"]].tolist() == ["cid", "eve"]
    assert m.loc["ann", "reached_by"] == ["kam1"]
    assert not m.loc["eve", "active"] and not m.loc["eve", "reachable"]
    assert center.holders("power") == ["cid"]  # eve left
    assert center.ours() == ["us:kam1", "us:kam2"]
    assert repr(center) == "BuyingCenter(6 active persons, 1 left, 2 of ours, 11 links)"


def test_buying_center_one_person_may_hold_several_roles():
    bc = BuyingCenter([P("ann", ["entry", "pain", "power"], reached_by=["kam1"])])
    m = bc.members().iloc[0]
    assert (m.entry, m.pain, m.power) == (True, True, True)
    chain = bc.entry_chains().iloc[0]
    assert chain.route == ["us:kam1", "ann"] and chain.strength == 1.0
    assert chain.introductions == 0


# -- entry through a chain of people -----------------------------------------------------------
def test_buying_center_entry_chain_to_power_point_strongest_route(center):
    ch = center.entry_chains()
    assert ch["person"].tolist() == ["cid"]  # eve left: no chain to her
    c = ch.iloc[0]
    assert c.route == ["us:kam1", "ann", "gus", "cid"]
    assert c.strength == pytest.approx(1.0 * 0.9 * 0.6)  # 0.54 beats 0.50 (fay) and 0.40 (bob)
    assert c.route_names == "Kim (us) → Ann → Gus → Cid"
    assert c.introductions == 2


def test_buying_center_entry_chain_weakest_link(center):
    c = center.entry_chains().iloc[0]
    assert (c.weakest_from, c.weakest_to, c.weakest_strength) == ("gus", "cid", 0.6)


def test_buying_center_route_skips_people_who_left(center):
    # ann -> eve -> cid has strength 1.0, but eve left the company.
    assert "eve" not in center.entry_chains().iloc[0].route


def test_buying_center_detractor_does_not_introduce_us(center):
    assert "dan" not in center.entry_chains().iloc[0].route
    via = center.entry_chains(via_detractors=True).iloc[0]
    assert via.route == ["us:kam1", "ann", "dan", "cid"]
    assert via.strength == pytest.approx(0.95 * 0.95)  # 0.9025


def test_buying_center_equal_strength_prefers_fewer_introductions():
    # kam1 -> x -> P: 1.0 * 0.5 = 0.5; kam1 -> y -> z -> P: 1.0 * 1.0 * 0.5 = 0.5.
    bc = BuyingCenter(
        [P("x", reached_by=["kam1"]), P("y", reached_by=["kam1"]), P("z"), P("p", ["power"])],
        [L("y", "z", 1.0), L("z", "p", 0.5), L("x", "p", 0.5)])
    assert bc.entry_chains().iloc[0].route == ["us:kam1", "x", "p"]


def test_buying_center_entry_chains_to_other_points(center):
    ch = center.entry_chains(roles=("pain", "power"))
    assert ch.set_index("person").loc["bob", "strength"] == pytest.approx(0.8)


def test_buying_center_stronger_of_two_links_counts():
    bc = BuyingCenter([P("a", reached_by=["k"]), P("b", ["power"])],
                      [L("a", "b", 0.2), L("a", "b", 0.7), L("a", "b", 0.4)])
    assert bc.graph.edges["a", "b"]["strength"] == 0.7


def test_buying_center_inactive_team_member_reaches_nobody():
    team = Team(members=[TeamMember(id="k", name="Kim", active=False)])
    bc = BuyingCenter([P("a", ["power"], reached_by=["k"])], team=team)
    assert bc.ours() == [] and not bc.entry_chains().iloc[0].reachable


# -- red flags -----------------------------------------------------------------------------------
def _flags(bc: BuyingCenter, **kw) -> list[tuple]:
    f = bc.red_flags(**kw)
    people = [None if pd.isna(x) else x for x in f["person"]]  # NA for account-wide flags
    return list(zip(f["flag"], f["severity"], people, strict=True))


def test_buying_center_red_flags_worked_example(center):
    # eve (power) left; dan is a detractor with influence 0.7 >= 0.6. Nothing else.
    assert _flags(center) == [("contact left", "high", "eve"),
                              ("influential detractor", "medium", "dan")]
    f = center.red_flags()
    assert f.iloc[0].detail == "Eve (power point) left on 2024-05-01"
    assert f["action"].str.len().min() > 10


def test_buying_center_no_known_power_point_is_a_red_flag():
    bc = BuyingCenter([P("a", ["entry"], reached_by=["k"]), P("b", ["pain"], reached_by=["k"]),
                       P("c", ["power"], left_on="2024-01-01")])
    f = bc.red_flags()
    row = f[f["flag"] == "no power point"].iloc[0]
    assert row.severity == "high" and row.detail == "nobody active is known to decide (C left)"


def test_buying_center_uncovered_entry_and_pain_points():
    bc = BuyingCenter([P("a", ["power"], reached_by=["k"]), P("b", reached_by=["k"])])
    assert _flags(bc) == [("no entry point", "medium", None), ("no pain point", "medium", None)]


def test_buying_center_power_point_nobody_reaches():
    bc = BuyingCenter([P("a", ["entry", "pain"], reached_by=["k"]), P("b", reached_by=["k"]),
                       P("c", ["power"])])
    assert _flags(bc) == [("power point not reached", "high", "c")]


def test_buying_center_single_threaded_account():
    bc = BuyingCenter([P("a", ["entry", "pain"], reached_by=["k"]), P("c", ["power"])],
                      [L("a", "c", 0.9)])
    assert _flags(bc) == [("single-threaded", "high", "a")]


def test_buying_center_no_contact_at_all():
    bc = BuyingCenter([P("a", ["entry", "pain", "power"])])
    assert _flags(bc) == [("power point not reached", "high", "a"), ("no contact", "high", None)]


def test_buying_center_contact_who_left_company():
    bc = BuyingCenter([P("a", ["entry", "pain", "power"], reached_by=["k"]),
                       P("b", reached_by=["k"]),
                       P("x", reached_by=["k"], left_on="2025-02-01"),
                       P("y", left_on="2025-02-01")])  # neither a point nor our contact
    f = bc.red_flags()
    assert _flags(bc) == [("contact left", "medium", "x")]
    assert f.iloc[0].detail == "X (our contact) left on 2025-02-01"


def test_buying_center_influential_detractor():
    bc = BuyingCenter([P("a", ["entry", "pain"], reached_by=["k"]), P("b", reached_by=["k"]),
                       P("p", ["power"], attitude="detractor", influence=0.9),
                       P("q", attitude="detractor", influence=0.59)],
                      [L("a", "p", 0.9)])
    assert _flags(bc) == [("influential detractor", "high", "p")]  # q: 0.59 < 0.6
    assert _flags(bc, detractor_influence=0.5)[-1] == ("influential detractor", "medium", "q")


def test_buying_center_weak_route():
    bc = BuyingCenter([P("a", ["entry", "pain"], reached_by=["k"]), P("b", reached_by=["k"]),
                       P("p", ["power"])], [L("a", "p", 0.25)])
    f = bc.red_flags()
    assert _flags(bc) == [("weak route", "medium", "p")]
    assert f.iloc[0].detail == "weakest link A → P has strength 0.25 (below 0.3)"
    assert bc.red_flags(weak_link=0.2).empty


# -- brokers -------------------------------------------------------------------------------------
def test_buying_center_brokers_are_people_on_many_routes():
    # Two power points, both reached only through hub: hub and a each carry 2 routes; hub
    # comes first because it also lies between other people (a only starts routes).
    bc = BuyingCenter([P("a", reached_by=["k"]), P("hub"), P("p1", ["power"]),
                       P("p2", ["power"]), P("lone")],
                      [L("a", "hub", 0.9), L("hub", "p1", 0.9), L("hub", "p2", 0.9)])
    b = bc.brokers()
    assert b["person"].tolist() == ["hub", "a"]
    assert b.set_index("person")["routes"].to_dict() == {"a": 2, "hub": 2}
    # Betweenness among client persons: hub lies on a->p1 and a->p2 (2 of 4*3 ordered pairs,
    # normalised by (n-1)(n-2) = 12 for n = 5).
    assert b.set_index("person").loc["hub", "betweenness"] == pytest.approx(2 / 12)


# -- bad input -----------------------------------------------------------------------------------
def test_buying_center_rejects_link_to_unknown_person():
    with pytest.raises(InputError, match=r"links\[0\], field 'target': refers to unknown person "
                       r"'zed'; add the person"):
        BuyingCenter([P("a")], [L("a", "zed", 0.5)])


def test_buying_center_empty_gives_explicit_empty_tables():
    bc = BuyingCenter([])
    assert bc.members().empty and bc.entry_chains().empty and bc.brokers().empty
    assert _flags(bc) == [("no power point", "high", None), ("no contact", "high", None),
                          ("no entry point", "medium", None), ("no pain point", "medium", None)]


# -- property: the chain is the strongest route (brute force over all simple paths) --------------
@st.composite
def small_centers(draw):
    n = draw(st.integers(2, 6))
    ids = [f"p{i}" for i in range(n)]
    pairs = [(a, b) for a in ids for b in ids if a != b]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    strengths = draw(st.lists(st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0]),
                              min_size=len(chosen), max_size=len(chosen)))
    persons = [P(ids[0], reached_by=["k"]), *[P(i) for i in ids[1:-1]], P(ids[-1], ["power"])]
    return persons, [L(a, b, s) for (a, b), s in zip(chosen, strengths, strict=True)]


@settings(max_examples=50, deadline=None)
@given(small_centers())
def test_buying_center_entry_chain_maximises_product_of_strengths(drawn):
    persons, links = drawn
    bc = BuyingCenter(persons, links)
    g = nx.DiGraph()
    g.add_weighted_edges_from((x.source, x.target, x.strength) for x in links)
    target = persons[-1].id
    best = 0.0
    if "p0" in g and target in g:
        for path in nx.all_simple_paths(g, "p0", target):
            best = max(best, math.prod(g.edges[u, v]["weight"]
                                       for u, v in itertools.pairwise(path)))
    chain = bc.entry_chains().iloc[0]
    assert chain.strength == pytest.approx(best, rel=1e-9)
    assert chain.reachable == (best > 0)
    if chain.reachable:
        assert chain.route[0] == US + "k" and chain.route[-1] == target


# -- demo smoke: the warning signs the demo portfolio was written to show --------------------------
def test_buying_center_demo_red_flags():
    from kam import demo

    flags = set()
    for d in demo.dossiers():
        bc = BuyingCenter.from_dossier(d, demo.team())
        flags |= set(bc.red_flags()["flag"])
        ch = bc.entry_chains()
        assert ch["strength"].between(0, 1).all()
    assert {"contact left", "influential detractor", "no power point",
            "single-threaded"} <= flags
