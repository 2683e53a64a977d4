"""The need map (DOMAIN.md §2): structure, checks and the tables derived from it.

The worked example (``example_needs``), drawn by hand::

    effects    E1 Output +5% (Management)      E2 On-time delivery 98% (Sales)
                    ^        ^                     ^        ^
    criteria   C1 MTBF (Maint.)   C2 Vibration (Maint.) ----+        |
                    ^        ^     ^                                 |
    problems   P1 Line stops (Production)   P2 Scrap (Quality)   P3 Late deliveries (Logistics)

    P1 -> C1, C2;  P2 -> C2;  P3 -> E2;  C1 -> E1;  C2 -> E1, E2
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.errors import InputError
from kam.model import Account, Dossier, Need, Person
from kam.needmap import AWARENESS_APPROACH, NO_FUNCTION, NeedMap, NeedMapError


def _need(id: str, level: str, function: str | None, leads_to=(), **kw) -> Need:
    return Need(id=id, title=kw.pop("title", f"title of {id}"), level=level, function=function,
                leads_to=list(leads_to), **kw)


@pytest.fixture
def example_needs() -> list[Need]:
    return [
        _need("P1", "problem", "Production", ["C1", "C2"], title="Line stops",
              cause="Worn bearings", awareness="unaware", persons=["ann"]),
        _need("P2", "problem", "Quality", ["C2"], title="Scrap rate high",
              cause="Vibration", awareness="aware, no solution"),
        _need("P3", "problem", "Logistics", ["E2"], title="Late deliveries",
              cause="Unplanned stops", awareness="solving"),
        _need("C1", "criterion", "Maintenance", ["E1"], title="MTBF > 500 h",
              evaluation="Maintenance log"),
        _need("C2", "criterion", "Maintenance", ["E1", "E2"], title="Vibration < 2 mm/s"),
        _need("E1", "effect", "Management", title="Output +5%", goal="Grow market share",
              persons=["bob"]),
        _need("E2", "effect", "Sales", title="On-time delivery 98%", goal="Keep key customers"),
    ]


@pytest.fixture
def example_persons() -> list[Person]:
    return [
        Person(id="ann", name="Ann", department="Production"),
        Person(id="bob", name="Bob", department="Quality"),
        Person(id="carl", name="Carl", department="Management", left_on="2024-05-01"),
    ]


@pytest.fixture
def example_dossier(example_needs, example_persons) -> Dossier:
    return Dossier(account=Account(id="ACME", name="Acme"), persons=example_persons,
                   needs=example_needs)


@pytest.fixture
def nm(example_dossier) -> NeedMap:
    return NeedMap.from_dossier(example_dossier)


def _replace(needs: list[Need], id: str, **changes) -> list[Need]:
    return [n.model_copy(update=changes) if n.id == id else n for n in needs]


# -- structure: problems at the bottom, criteria in the middle, effects on top ---------------
def test_needmap_is_a_hierarchy_of_problems_criteria_effects(nm):
    assert nm.nodes_at("problem") == ["P1", "P2", "P3"]
    assert nm.nodes_at("criterion") == ["C1", "C2"]
    assert nm.nodes_at("effect") == ["E1", "E2"]
    assert set(nm.graph.edges) == {("P1", "C1"), ("P1", "C2"), ("P2", "C2"), ("P3", "E2"),
                                   ("C1", "E1"), ("C2", "E1"), ("C2", "E2")}
    assert nm.graph.nodes["P1"]["cause"] == "Worn bearings"
    assert nm.graph.nodes["E2"]["goal"] == "Keep key customers"
    assert repr(nm) == "NeedMap(7 needs: 3 problems, 2 criteria, 2 effects; 7 edges)"


def test_needmap_well_formed_example_passes_every_check(nm):
    assert nm.validate() == []
    assert nm.check() is nm


def test_needmap_built_from_and_saved_to_the_dossier_round_trip(example_dossier, nm):
    assert nm.to_needs() == example_dossier.needs
    assert nm.to_dossier(example_dossier) == example_dossier


def test_needmap_edit_is_saved_to_the_dossier(example_dossier, nm):
    nm.graph.add_node("P4", title="Energy cost", level="problem", function="Finance")
    nm.graph.add_edge("P4", "E1")
    saved = nm.to_dossier(example_dossier)
    assert saved.need("P4").leads_to == ["E1"]
    assert saved.need("P4").function == "Finance"
    assert NeedMap.from_dossier(saved).validate() == []


def test_needmap_incomplete_node_cannot_be_saved(nm):
    nm.graph.add_node("X1", level="problem")  # no title
    with pytest.raises(NeedMapError, match=r"need X1, field 'title': Field required"):
        nm.to_needs()


def test_needmap_personal_motivation_is_a_second_map_of_the_same_shape(example_needs,
                                                                      example_dossier):
    personal = [
        _need("PP1", "problem", "Production", ["PE1"], title="Blamed for stops",
              motivation="personal", persons=["ann"]),
        _need("PE1", "effect", "Production", title="Recognised as reliable",
              motivation="personal", goal="Promotion"),
    ]
    d = example_dossier.model_copy(update={"needs": [*example_needs, *personal]})
    business, own = NeedMap.from_dossier(d, motivation="business"), NeedMap.from_dossier(
        d, motivation="personal")
    assert len(business) == 7 and business.validate() == []
    assert list(own.graph.nodes) == ["PP1", "PE1"] and own.validate() == []
    # Writing the personal map back keeps the business needs.
    assert own.to_dossier(d).needs == [*personal, *example_needs]


# -- checks of a well-formed map, one per rule -------------------------------------------------
def test_needmap_rejects_cycle(example_needs):
    needs = _replace(example_needs, "E1", leads_to=["C1"])  # C1 -> E1 -> C1
    problems = [str(p) for p in NeedMap.from_needs(needs).validate()]
    assert "need C1, field 'leads_to': cycle C1 -> E1 -> C1; a need map has no cycles: " \
        "remove one of these edges" in problems
    with pytest.raises(NeedMapError, match=r"cycle C1 -> E1 -> C1"):
        NeedMap.from_needs(needs).check()


@pytest.mark.parametrize(("node", "leads_to", "cycle"), [
    ("E1", ["P1"], "P1 -> C1 -> E1 -> P1"),  # three nodes
    ("P3", ["E2", "P3"], "P3 -> P3"),  # a self-loop
])
def test_needmap_rejects_cycle_names_its_nodes(example_needs, node, leads_to, cycle):
    needs = _replace(example_needs, node, leads_to=leads_to)
    with pytest.raises(NeedMapError, match=f"cycle {cycle}; a need map has no cycles"):
        NeedMap.from_needs(needs).check()


def test_needmap_rejects_downward_edge(example_needs):
    needs = _replace(example_needs, "E1", leads_to=["P3"])
    with pytest.raises(NeedMapError, match=r"^edge E1 -> P3, field 'leads_to': goes downward from "
                       r"effect 'E1' to problem 'P3'; edges only go upward"):
        NeedMap.from_needs(needs).check()


def test_needmap_rejects_sideways_edge(example_needs):
    needs = _replace(example_needs, "C1", leads_to=["E1", "C2"])
    with pytest.raises(NeedMapError, match=r"edge C1 -> C2, field 'leads_to': goes sideways from "
                       r"criterion 'C1' to criterion 'C2'"):
        NeedMap.from_needs(needs).check()


def test_needmap_rejects_dangling_edge(example_needs):
    needs = _replace(example_needs, "P2", leads_to=["C2", "C9"])
    nm = NeedMap.from_needs(needs)
    assert ("P2", "C9") in nm.dangling and "C9" not in nm.graph
    with pytest.raises(NeedMapError, match=r"need P2, field 'leads_to': leads to unknown need "
                       r"'C9'; known needs: C1, C2, E1, E2, P1, P2, P3; add the need"):
        nm.check()
    # The dangling reference is kept when the map is written back.
    assert next(n for n in nm.to_needs() if n.id == "P2").leads_to == ["C2", "C9"]


def test_needmap_every_problem_reaches_an_effect(example_needs):
    needs = [*example_needs, _need("P4", "problem", "Finance")]
    with pytest.raises(NeedMapError, match=r"need P4, field 'leads_to': problem 'P4' reaches no "
                       r"effect; link it"):
        NeedMap.from_needs(needs).check()


def test_needmap_every_effect_is_reached_from_a_problem(example_needs):
    needs = [*example_needs, _need("E3", "effect", "Finance")]
    with pytest.raises(NeedMapError, match=r"need E3, field 'leads_to': effect 'E3' is reached "
                       r"from no problem"):
        NeedMap.from_needs(needs).check()


def test_needmap_every_criterion_lies_on_a_chain(example_needs):
    needs = [*example_needs, _need("C3", "criterion", "Quality", ["E1"])]
    with pytest.raises(NeedMapError, match=r"need C3, field 'leads_to': criterion 'C3' is on no "
                       r"chain problem -> criterion -> effect"):
        NeedMap.from_needs(needs).check()


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_needmap_every_node_has_a_function(example_needs, missing):
    needs = _replace(example_needs, "C1", function=missing)
    with pytest.raises(NeedMapError, match=r"^need C1, field 'function': has no function; name "
                       r"the department"):
        NeedMap.from_needs(needs).check()


def test_needmap_node_without_level_is_reported(nm):
    nm.graph.add_edge("P1", "ghost")
    problems = [str(p) for p in nm.validate()]
    assert any(p.startswith("need ghost, field 'level': level None is not one of problem, "
                            "criterion, effect") for p in problems)


def test_needmap_rejects_duplicate_ids(example_needs):
    with pytest.raises(NeedMapError, match=r"need P1, field 'id': duplicate id \(2 records\)"):
        NeedMap.from_needs([*example_needs, example_needs[0]])


def test_needmap_check_lists_every_problem(example_needs):
    needs = _replace(_replace(example_needs, "C1", function=None), "E1", leads_to=["P3"])
    with pytest.raises(InputError, match=r"^the need map breaks 2 rules of a well-formed map:\n"
                       r"  edge E1 -> P3.*\n  need C1, field 'function'") as info:
        NeedMap.from_needs(needs).check()
    assert len(info.value.problems) == 2


# -- tables ------------------------------------------------------------------------------------
def test_needmap_chains_every_path_problem_criteria_effect(nm):
    # By hand: P1-C1-E1, P1-C2-E1, P1-C2-E2, P2-C2-E1, P2-C2-E2, and the direct P3-E2.
    ch = nm.chains()
    got = [(r.problem, None if pd.isna(r.criterion) else r.criterion, r.effect)
           for r in ch.itertuples()]
    assert got == [("P1", "C1", "E1"), ("P1", "C2", "E1"), ("P1", "C2", "E2"),
                   ("P2", "C2", "E1"), ("P2", "C2", "E2"), ("P3", None, "E2")]
    first = ch.iloc[0]
    assert (first.problem_function, first.criterion_function, first.effect_function) == (
        "Production", "Maintenance", "Management")
    assert first.cause == "Worn bearings" and first.goal == "Grow market share"
    assert first.departments == ["Maintenance", "Management", "Production"]
    assert ch["cross_department"].tolist() == [True] * 6
    assert ch.iloc[5].departments == ["Logistics", "Sales"]


def test_needmap_problem_touches_several_departments(nm):
    cd = nm.cross_department().set_index("problem")
    # P3 (Logistics) reaches E2 (Sales); E2 is also reached from P1 (via C2) and P2 (via C2).
    p3 = cd.loc["P3"]
    assert p3.departments == ["Logistics", "Sales"]
    assert p3.effects == ["E2"]
    assert p3.linked_problems == ["P1", "P2"]
    assert p3.linked_departments == ["Production", "Quality"]
    assert p3.n_departments == 4  # Logistics, Sales, Production, Quality
    # P1 reaches C1, C2 (Maintenance), E1 (Management), E2 (Sales); P2 and P3 share an effect.
    p1 = cd.loc["P1"]
    assert p1.departments == ["Maintenance", "Management", "Production", "Sales"]
    assert p1.linked_problems == ["P2", "P3"]
    assert p1.n_departments == 6


def test_needmap_shows_every_problem_the_expected_effect_would_solve(nm):
    se = nm.solved_by_effect().set_index("effect")
    assert se.loc["E1"].problems == ["P1", "P2"]
    assert se.loc["E2"].problems == ["P1", "P2", "P3"]
    assert se.loc["E2"].departments == ["Logistics", "Production", "Quality"]
    assert se["n_problems"].tolist() == [2, 3]


def test_needmap_motivation_factors_per_department(nm):
    mf = nm.motivation_factors(by="department")
    maint = mf[mf["department"] == "Maintenance"]
    assert maint["need"].tolist() == ["C1", "C2"]
    assert maint["detail"].tolist()[0] == "Maintenance log"  # a criterion's evaluation
    prod = mf[mf["department"] == "Production"].iloc[0]
    assert (prod.need, prod.detail) == ("P1", "Worn bearings")  # a problem's cause
    assert sorted(mf["department"].unique()) == ["Logistics", "Maintenance", "Management",
                                                 "Production", "Quality", "Sales"]
    assert len(mf) == 7


def test_needmap_motivation_factors_per_person(nm):
    mf = nm.motivation_factors(by="person")
    got = list(zip(mf["person"], mf["need"], mf["via"], strict=True))
    # ann: named on P1 (and P1 is her department's, counted once); bob: his department's P2,
    # named on E1; carl left, so Management's E1 is not his.
    assert got == [("ann", "P1", "named"), ("bob", "P2", "department"), ("bob", "E1", "named")]
    assert mf.iloc[2]["detail"] == "Grow market share"  # an effect's goal


def test_needmap_motivation_factors_filter_by_motivation(nm):
    assert nm.motivation_factors(motivation="personal").empty
    assert len(nm.motivation_factors(motivation="business")) == 7
    with pytest.raises(ValueError, match="by must be 'department' or 'person', got 'team'"):
        nm.motivation_factors(by="team")  # type: ignore[arg-type]


def test_needmap_awareness_approach_per_level(nm):
    aw = nm.by_awareness()
    assert aw["need"].tolist() == ["P1", "P2", "P3"]  # unaware, aware no solution, solving
    assert aw.iloc[0].approach.startswith("Build a closer relationship; watch for the indicators")
    assert aw.iloc[1].approach.startswith("Create the understanding that our portfolio")
    assert aw.iloc[2].awareness == "solving"


def test_needmap_awareness_unknown_comes_last(example_needs):
    needs = [_need("P0", "problem", "Finance", ["E1"]), *example_needs]
    aw = NeedMap.from_needs(needs).by_awareness()
    assert aw["need"].tolist() == ["P1", "P2", "P3", "P0"]
    assert aw.iloc[3].approach == AWARENESS_APPROACH["unknown"]


def test_needmap_gaps_name_missing_cause_goal_persons(example_needs):
    needs = _replace(example_needs, "P2", cause=None)
    gaps = NeedMap.from_needs(needs).gaps()
    assert ("P2", "cause") in set(zip(gaps["need"], gaps["missing"], strict=True))
    assert ("P1", "persons") not in set(zip(gaps["need"], gaps["missing"], strict=True))


def test_needmap_empty_map_gives_empty_tables():
    nm = NeedMap.from_needs([])
    assert nm.validate() == []
    for df in (nm.chains(), nm.cross_department(), nm.solved_by_effect(),
               nm.motivation_factors(), nm.by_awareness(), nm.gaps()):
        assert df.empty and len(df.columns) > 0


def test_needmap_missing_function_shows_as_no_function(example_needs):
    nm = NeedMap.from_needs(_replace(example_needs, "E2", function=None))
    assert nm.chains().iloc[-1].effect_function == NO_FUNCTION


# -- properties --------------------------------------------------------------------------------
@st.composite
def layered_maps(draw):
    sizes = [draw(st.integers(1, 6)) for _ in range(3)]
    ids = {lv: [f"{lv[0].upper()}{i}" for i in range(n)]
           for lv, n in zip(("problem", "criterion", "effect"), sizes, strict=True)}
    pc = draw(st.lists(st.lists(st.booleans(), min_size=sizes[1], max_size=sizes[1]),
                       min_size=sizes[0], max_size=sizes[0]))
    pe = draw(st.lists(st.lists(st.booleans(), min_size=sizes[2], max_size=sizes[2]),
                       min_size=sizes[0], max_size=sizes[0]))
    ce = draw(st.lists(st.lists(st.booleans(), min_size=sizes[2], max_size=sizes[2]),
                       min_size=sizes[1], max_size=sizes[1]))
    needs = []
    for i, p in enumerate(ids["problem"]):
        leads = [c for j, c in enumerate(ids["criterion"]) if pc[i][j]]
        leads += [e for j, e in enumerate(ids["effect"]) if pe[i][j]]
        needs.append(_need(p, "problem", "F", leads))
    for i, c in enumerate(ids["criterion"]):
        needs.append(_need(c, "criterion", "F", [e for j, e in enumerate(ids["effect"])
                                                 if ce[i][j]]))
    needs += [_need(e, "effect", "F") for e in ids["effect"]]
    return needs, np.array(pc, dtype=int), np.array(pe, dtype=int), np.array(ce, dtype=int)


@settings(max_examples=50, deadline=None)
@given(layered_maps())
def test_needmap_chain_count_matches_adjacency_matrices(drawn):
    """Independent count: chains = sum(PC @ CE) + sum(PE)."""
    needs, pc, pe, ce = drawn
    nm = NeedMap.from_needs(needs)
    assert len(nm.chains()) == int((pc @ ce).sum() + pe.sum())
    # Upward edges only: never a direction or cycle problem.
    assert not any("goes " in p.message or "cycle" in p.message for p in nm.validate())
    assert nx.is_directed_acyclic_graph(nm.graph)


@settings(max_examples=50, deadline=None)
@given(layered_maps())
def test_needmap_round_trip_property(drawn):
    needs = drawn[0]
    assert NeedMap.from_needs(needs).to_needs() == needs


# -- demo smoke ----------------------------------------------------------------------------------
def test_needmap_demo_maps_round_trip_and_tables():
    from kam import demo

    for d in demo.dossiers():
        nm = NeedMap.from_dossier(d)
        assert nm.to_dossier(d) == d
        assert len(nm.by_awareness()) == len(nm.nodes_at("problem"))
        assert set(nm.chains()["problem"]) <= set(nm.nodes_at("problem"))
