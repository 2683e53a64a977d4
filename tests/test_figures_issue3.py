"""Figures of the need map, buying center, opportunity matrix and prospect assessment: built on
hand-made data and on the demo portfolio, checked on their content (traces, points, labels)."""

from __future__ import annotations

import itertools
from datetime import date

import pandas as pd
import pytest

from kam import demo
from kam.buying_center import BuyingCenter
from kam.figures.buying_center import ATTITUDE_COLOURS, LEFT_COLOUR, buying_center_figure
from kam.figures.needmap import layered_layout, needmap_figure
from kam.figures.opportunities import opportunity_figure
from kam.figures.prospects import prospect_ranking_figure, prospect_waterfall
from kam.figures.style import plain
from kam.model import Account, Dossier, Need, Person, PersonLink
from kam.needmap import NeedMap
from kam.opportunities import opportunity_matrix, portfolio_matrix
from kam.prospects import prospect_score, rank_prospects


def _need(id, level, function, leads_to=(), title=None, **kw) -> Need:
    return Need(id=id, title=title or f"title {id}", level=level, function=function,
                leads_to=list(leads_to), **kw)


def _markers(fig) -> list:
    return [t for t in fig.data if t.mode and "markers" in t.mode and t.x and t.x[0] is not None]


@pytest.fixture(scope="module")
def dossiers() -> list[Dossier]:
    return demo.dossiers()


# -- need map ------------------------------------------------------------------------------------
@pytest.fixture
def small_map() -> NeedMap:
    return NeedMap.from_needs([
        _need("P1", "problem", "Production", ["C1"], title="Line <b>stops</b> every night shift"),
        _need("P2", "problem", "Quality", ["C1"]),
        _need("C1", "criterion", "Maintenance", ["E1", "E2"]),
        _need("E1", "effect", "Management", goal="Grow share"),
        _need("E2", "effect", "Sales"),
    ])


def test_figure_needmap_three_rows_coloured_by_department(small_map):
    fig = needmap_figure(small_map)
    assert [t.name for t in fig.data] == ["links", "Maintenance", "Management", "Production",
                                          "Quality", "Sales"]
    pos = {i: y for t in _markers(fig) for i, y in zip(t.ids, t.y, strict=True)}
    assert pos == {"P1": 0, "P2": 0, "C1": 1, "E1": 2, "E2": 2}
    assert [a.text for a in fig.layout.annotations] == [
        "<b>Problems / tasks</b>", "<b>Technical criteria</b>", "<b>Expected effects</b>"]
    links = fig.data[0]
    assert sum(x is None for x in links.x) == 4  # four edges, each ends with a gap
    assert len({t.marker.color for t in _markers(fig)}) == 5


def test_figure_needmap_labels_wrapped_escaped_and_full_text_on_hover(small_map):
    fig = needmap_figure(small_map, label_width=15)
    prod = next(t for t in fig.data if t.name == "Production")
    assert prod.text[0] == "Line<br>&lt;b&gt;stops&lt;/b&gt;…"  # two lines, cut, escaped
    assert "Line &lt;b&gt;stops&lt;/b&gt; every night shift" in prod.hovertext[0]
    assert "<b>stops</b>" not in prod.text[0]
    mgmt = next(t for t in fig.data if t.name == "Management")
    assert "goal: Grow share" in mgmt.hovertext[0]


def _crossings(edges, x) -> int:
    return sum(1 for (a, b), (c, d) in itertools.combinations(edges, 2)
               if (x[a] - x[c]) * (x[b] - x[d]) < 0)


def test_figure_needmap_barycentre_order_removes_crossings():
    # Sorted by department, P1 (A) and P2 (B) sit left to right, as E1 (A) and E2 (B) do; but
    # P1 -> E2 and P2 -> E1 cross. The barycentre sweep swaps the effects.
    nm = NeedMap.from_needs([_need("P1", "problem", "A", ["E2"]), _need("P2", "problem", "B",
                                                                        ["E1"]),
                             _need("E1", "effect", "A"), _need("E2", "effect", "B")])
    edges = list(nm.graph.edges)
    x0 = {n: p[0] for n, p in layered_layout(nm, sweeps=0).items()}
    x4 = {n: p[0] for n, p in layered_layout(nm).items()}
    assert _crossings(edges, x0) == 1
    assert _crossings(edges, x4) == 0


def test_figure_needmap_edge_against_rules_drawn_red(small_map):
    small_map.graph.add_edge("E1", "P2")
    fig = needmap_figure(small_map)
    bad = next(t for t in fig.data if t.name == "links against the rules")
    assert [x for x in bad.y if x is not None] == [2, 0]


def test_figure_needmap_readable_at_60_nodes():
    needs = [_need(f"E{i}", "effect", f"D{i % 6}", title="an expected effect " * 4)
             for i in range(15)]
    needs += [_need(f"C{i}", "criterion", f"D{i % 6}", [f"E{i % 15}", f"E{(i * 7) % 15}"])
              for i in range(18)]
    needs += [_need(f"P{i}", "problem", f"D{i % 6}", [f"C{i % 18}"]) for i in range(27)]
    fig = needmap_figure(NeedMap.from_needs(needs))
    assert sum(len(t.x) for t in _markers(fig)) == 60
    xs = sorted(x for t in _markers(fig) for x, y in zip(t.x, t.y, strict=True) if y == 0)
    assert min(b - a for a, b in itertools.pairwise(xs)) == pytest.approx(1.0)  # spread
    assert all(lab.count("<br>") <= 1 for t in _markers(fig) for lab in t.text)
    assert fig.layout.width >= 27 * 90


def test_figure_needmap_demo_every_account(dossiers):
    for d in dossiers:
        fig = needmap_figure(NeedMap.from_dossier(d), title=d.account.name)
        assert sum(len(t.x) for t in _markers(fig)) == len(d.needs)


# -- buying center -------------------------------------------------------------------------------
@pytest.fixture
def center() -> BuyingCenter:
    return BuyingCenter(
        [Person(id="ann", name="Ann <script>", roles=["entry"], attitude="supporter",
                reached_by=["kam1"]),
         Person(id="bob", name="Bob", roles=["power"], influence=0.9),
         Person(id="dan", name="Dan", attitude="detractor", influence=0.7),
         Person(id="eve", name="Eve", roles=["pain"], left_on="2024-05-01")],
        [PersonLink(source="ann", target="bob", strength=0.8),
         PersonLink(source="ann", target="dan", strength=0.2),
         PersonLink(source="eve", target="bob", strength=0.5)])


def test_figure_buying_center_roles_and_attitude_at_a_glance(center):
    fig = buying_center_figure(center)
    groups = {t.name: t for t in _markers(fig) if t.mode == "markers+text"}
    assert list(groups) == ["our team", "supporter", "neutral", "detractor", "left the company"]
    assert groups["our team"].ids == ("us:kam1",)
    assert groups["supporter"].marker.color == ATTITUDE_COLOURS["supporter"]
    assert groups["left the company"].marker.color == LEFT_COLOUR
    assert groups["left the company"].marker.opacity == 0.6
    assert groups["neutral"].marker.symbol == ("star",)  # bob, the power point
    assert groups["supporter"].marker.symbol == ("triangle-up",)  # ann, the entry point
    assert groups["detractor"].marker.symbol == ("circle",)
    assert groups["detractor"].marker.line.width == (1,)  # no point: no ring
    assert groups["neutral"].marker.line.width == (2.5,)
    keys = [t.name for t in fig.data if t.x == (None,)]
    assert keys == ["entry point", "pain point", "power point"]


def test_figure_buying_center_links_entry_chain_and_escaping(center):
    fig = buying_center_figure(center)
    names = [t.name for t in fig.data]
    assert names[:4] == ["weak link (< 0.33)", "medium link", "strong link (≥ 0.67)",
                         "our contact"]
    assert [t.line.width for t in fig.data[:3]] == [1.0, 2.5, 4.5]
    chain = next(t for t in fig.data if t.name == "entry chain to power point")
    assert sum(x is None for x in chain.x) == 2  # us:kam1 -> ann -> bob
    supporter = next(t for t in fig.data if t.name == "supporter")
    assert supporter.text == ("Ann &lt;script&gt;",)
    details = next(t for t in fig.data if t.name == "link details")
    assert "Ann &lt;script&gt; → Bob<br>influences, strength 0.8" in details.hovertext


def test_figure_buying_center_demo_every_account(dossiers):
    team = demo.team()
    for d in dossiers:
        bc = BuyingCenter.from_dossier(d, team)
        fig = buying_center_figure(bc, title=d.account.name)
        people = [t for t in _markers(fig) if t.mode == "markers+text"]
        assert sum(len(t.x) for t in people) == len(d.persons) + len(bc.ours()) + sum(
            1 for n, a in bc.graph.nodes(data=True) if a["kind"] == "us" and not a["active"])


# -- opportunity matrix ---------------------------------------------------------------------------
def test_figure_opportunity_quadrants_named_and_needs_labelled():
    m = opportunity_matrix([
        Need(id="N1", title="Downtime", significance=5, capability=4),
        Need(id="N2", title="Emissions", significance=4, capability=2),
        Need(id="N3", title="Packaging", significance=4, capability=2),
        Need(id="N4", title="Spare parts", significance=2, capability=5),
    ])
    fig = opportunity_figure(m)
    assert [t.name for t in fig.data] == ["Risk", "Potential", "Deal"]  # no need in No interest
    assert len(fig.layout.shapes) == 6  # four zones and two threshold lines
    assert [a.text for a in fig.layout.annotations] == [
        "<b>No interest</b>", "<b>Risk</b>", "<b>Potential</b>", "<b>Deal</b>"]
    risk = fig.data[0]
    assert risk.text == ("Emissions", "Packaging")
    # Equal scores (4, 2): spread apart, the hover keeps the exact scores.
    assert (risk.x[0], risk.y[0]) != (risk.x[1], risk.y[1])
    assert all("significance 4, capability 2" in h for h in risk.hovertext)
    assert fig.layout.xaxis.title.text.startswith("Our capability")


def test_figure_opportunity_demo_portfolio(dossiers):
    pm = portfolio_matrix(dossiers, missing="skip")
    fig = opportunity_figure(pm, title="Portfolio")
    assert sum(len(t.x) for t in fig.data) == len(pm)
    assert any(" · " in h for h in fig.data[0].hovertext)  # the account is named


# -- prospect assessment --------------------------------------------------------------------------
def test_figure_prospect_waterfall_adds_up_to_score():
    s = prospect_score(Dossier(account=Account(id="A", name="Acme <x>")),
                       today=date(2025, 1, 1), assessments={"competitors": 1})
    fig = prospect_waterfall(s)
    wf = fig.data[0]
    assert len(wf.y) == len(s.contributions) + 1 and wf.y[-1] == "<b>Score</b>"
    assert wf.measure[-1] == "total" and set(wf.measure[:-1]) == {"relative"}
    assert sum(wf.x[:-1]) == pytest.approx(wf.x[-1]) and wf.x[-1] == s.score
    assert fig.layout.title.text.startswith("Acme &lt;x&gt;: prospect score")
    assert "assessment" in wf.hovertext[s.contributions["factor"].tolist().index("competitors")]


def test_figure_prospect_ranking_demo(dossiers):
    r = rank_prospects(dossiers, today=demo.TODAY, team=demo.team())
    fig = prospect_ranking_figure(r)
    assert [t.name for t in fig.data] == ["The client", "Current needs", "Risks", "score"]
    assert list(fig.data[0].y) == [plain(a) for a in r["account"]]
    assert "McAllister &amp; O'Neill Foods Ltd" in fig.data[0].y  # quote kept, & escaped
    assert fig.data[3].text[0] == f"  1. {r['score'].iloc[0]:.1f}"
    totals = pd.DataFrame({t.name: t.x for t in fig.data[:3]}).sum(axis=1)
    assert totals.tolist() == pytest.approx(r["score"].tolist())
