"""Figures of profitability, portfolio, funnel and planning: the traces carry exactly the
numbers of the analysis results (figures compute nothing), user text is escaped, and every
figure draws from the demo portfolio."""

from __future__ import annotations

import dataclasses
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import pytest

from kam import demo
from kam.figures.funnel import (
    conversion_figure,
    funnel_figure,
    loss_reasons_figure,
    manager_stage_figure,
)
from kam.figures.planning import (
    plan_accuracy_figure,
    plan_for_target_figure,
    plan_states_figure,
    replenishment_figure,
)
from kam.figures.portfolio import (
    abc_movement_figure,
    buyer_dynamics_figure,
    pareto_figure,
    rating_figure,
)
from kam.figures.profitability import (
    budget_vs_actual_figure,
    contribution_ranking_figure,
    profit_waterfall_figure,
    whale_curve_figure,
)
from kam.figures.style import KAM_TEMPLATE
from kam.funnel import conversion, funnel, loss_reasons, manager_stage_conversion
from kam.model import Account, CostLine, Dossier, RevenueLine, tables
from kam.planning import plan_accuracy, plan_for_target, plan_states, realization, replenishment
from kam.portfolio import (
    abc,
    buyer_dynamics,
    category_movement,
    concentration,
    load_portfolio_config,
)
from kam.profitability import (
    budget_vs_actual,
    profitability,
    rank_by_contribution,
    whale_curve,
)
from kam.rating import client_rating

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def small():
    return tables([
        Dossier(account=Account(id="A", name=EVIL),
                revenue=[RevenueLine(period="2025-01", revenue=1000, cogs=600, list_value=1100)],
                costs=[CostLine(period="2025-01", category="logistics", amount=150)]),
        Dossier(account=Account(id="B", name="Beta"),
                revenue=[RevenueLine(period="2025-01", revenue=500, cogs=300)],
                costs=[CostLine(period="2025-01", category="key-account team", amount=400)]),
    ])


def test_whale_curve_figure_draws_the_curve(small):
    w = whale_curve(profitability(small))
    fig = whale_curve_figure(w)
    assert list(fig.data[0].y) == [0.0, *w.curve["cumulative"].tolist()]
    assert list(fig.data[0].x) == [0, *w.curve["rank"].tolist()]
    assert fig.layout.template == KAM_TEMPLATE


def test_contribution_ranking_figure_and_escaping(small):
    r = rank_by_contribution(profitability(small))
    fig = contribution_ranking_figure(r)
    assert list(fig.data[0].x) == r["net_contribution"].iloc[::-1].tolist()
    assert EVIL not in fig.to_json() and "&lt;script&gt;" in str(fig.data[0].y)


def test_profit_waterfall_figure(small):
    p = profitability(small)
    fig = profit_waterfall_figure(p, "A")
    # the price waterfall (DOMAIN.md §7), the discount counted once, above net revenue:
    # list 1100, -discount 100, net revenue 1000, -COGS 600, GM 400, -logistics 150, NC 250
    assert list(fig.data[0].y) == [1100.0, -100.0, 1000.0, -600.0, 400.0, -150.0, 250.0]
    assert list(fig.data[0].x) == ["list value", "price discounts", "net revenue",
                                   "cost of goods", "gross margin", "logistics",
                                   "net contribution"]
    assert list(fig.data[0].measure) == ["absolute", "relative", "total", "relative", "total",
                                         "relative", "total"]
    with pytest.raises(ValueError, match="need exactly one row for account 'Z'"):
        profit_waterfall_figure(p, "Z")


def test_budget_vs_actual_figure(small):
    bva = budget_vs_actual(small, by_account=False, freq=None)
    fig = budget_vs_actual_figure(bva)
    # cost-to-serve categories in the first panel, the discount (off the invoice) in its own
    costs, disc = bva[bva["kind"] == "cost-to-serve"], bva[bva["kind"] == "price discount"]
    assert len(costs) and len(disc)
    assert list(fig.data[0].y) == costs["budget"].tolist()
    assert list(fig.data[1].y) == costs["actual"].tolist()
    assert list(fig.data[1].customdata) == costs["status"].tolist()
    assert list(fig.data[3].x) == ["price discounts"] and fig.data[3].xaxis == "x2"
    assert list(fig.data[3].y) == disc["actual"].tolist()
    with pytest.raises(ValueError, match="one row per category is needed"):
        budget_vs_actual_figure(pd.concat([bva, bva]))


def test_pareto_figure(small):
    a = abc(small)
    fig = pareto_figure(a, thresholds=load_portfolio_config().abc)
    assert list(fig.data[0].y) == a["revenue"].tolist()
    assert list(fig.data[1].y) == a["cumulative_share"].tolist()
    c = concentration(small)
    fig = pareto_figure(c)
    assert list(fig.data[0].y) == c.shares["revenue"].tolist()
    assert "depends on one account" in fig.layout.title.text
    assert EVIL not in fig.layout.title.text


def test_abc_movement_and_buyer_dynamics_figures():
    rev = pd.DataFrame({"account_id": ["A", "A", "B", "C"],
                        "period": ["2024", "2025", "2024", "2025"],
                        "revenue": [10.0, 10.0, 5.0, 8.0]})
    t = dataclasses.replace(tables([]), revenue=rev)
    m = category_movement(t, "2024", "2025")
    fig = abc_movement_figure(m)
    assert fig.data[0].z.tolist() == m.matrix.to_numpy().tolist()
    d = buyer_dynamics(t, freq="Y")
    fig = buyer_dynamics_figure(d)
    assert list(fig.data[0].y) == d["new"].tolist()
    assert list(fig.data[2].customdata) == d["lost"].tolist()
    assert list(fig.data[3].y) == d["buyers"].tolist()


def test_funnel_figures():
    rows = [{"account_id": "A", "id": str(i), "stage": s, "outcome": o, "manager": m,
             "refusal_reason": "price" if o == "refused" else None, "planned_budget": 10.0,
             "actual_budget": 10.0}
            for i, (s, o, m) in enumerate([("lead", "refused", "ann"), ("sale", "won", "ann"),
                                           ("sale", "refused", "bob"),
                                           ("potential", "refused", "bob")])]
    t = dataclasses.replace(tables([]), deals=pd.DataFrame(rows))
    f = funnel(t)
    fig = funnel_figure(f)
    assert list(fig.data[0].x) == f.stages["reached"].tolist()
    assert "weakest link" in fig.layout.title.text
    r = loss_reasons(t)
    assert sum(sum(tr.y) for tr in loss_reasons_figure(r).data) == r["lost"].sum()
    c = conversion(t, by="manager")
    fig = conversion_figure(c)
    assert list(fig.data[0].y) == c["conversion"].tolist()
    assert list(fig.data[2].y) == c["value_won"].tolist()
    x = manager_stage_conversion(t)
    fig = manager_stage_figure(x)
    gap = x.pivot(index="manager", columns="number", values="gap")
    assert pd.DataFrame(fig.data[0].z).equals(pd.DataFrame(gap.to_numpy()))


def test_planning_figures():
    rows = [{"account_id": "X", "id": f"{m}{p}", "manager": m, "outcome": "won", "period": p,
             "planned_budget": 100.0, "refined_budget": 90.0, "actual_budget": a}
            for m, p, a in [("ann", "2025-01", 80.0), ("bob", "2025-01", 100.0)]]
    t = dataclasses.replace(tables([]), deals=pd.DataFrame(rows))
    s = plan_states(t, by="manager")
    fig = plan_states_figure(s)
    assert [list(tr.y) for tr in fig.data] == [s["planned"].tolist(), s["refined"].tolist(),
                                               s["actual"].tolist()]
    acc = plan_accuracy(t)
    fig = plan_accuracy_figure(acc)
    assert list(fig.data[0].y) == acc["bias"].tolist()
    assert list(fig.data[1].y) == acc["mape"].tolist()
    p = plan_for_target(100, 0.75)
    fig = plan_for_target_figure(p)
    assert list(fig.data[0].x) == ["target / r", "rule of thumb: target x (1 + error)"]
    assert list(fig.data[1].y) == p.table()["expected_result"].tolist()
    rep = replenishment(t, 500, r=0.9)
    fig = replenishment_figure(rep)
    assert list(fig.data[0].y) == [rep.realised, rep.contracted, rep.open_planned * rep.r,
                                   rep.expected, rep.gap, rep.target]


def test_rating_figure():
    t = tables([Dossier(account=Account(id="A", name="A"))])
    r = client_rating(t)
    fig = rating_figure(r)
    assert [list(tr.x) for tr in fig.data] == [[0.0], [0.0], [0.0]]


def test_every_figure_draws_from_the_demo():
    t = tables(demo.dossiers())
    today = demo.TODAY
    p = profitability(t, period="2025")
    figs = [
        whale_curve_figure(whale_curve(p)),
        contribution_ranking_figure(rank_by_contribution(p)),
        profit_waterfall_figure(p, p.accounts["account_id"].iloc[0]),
        budget_vs_actual_figure(budget_vs_actual(t, period="2025", by_account=False)),
        pareto_figure(concentration(t, period="2025")),
        abc_movement_figure(category_movement(t, "2024", "2025")),
        buyer_dynamics_figure(buyer_dynamics(t, as_of=today)),
        rating_figure(client_rating(t, as_of=today)),
        funnel_figure(funnel(t, as_of=today)),
        loss_reasons_figure(loss_reasons(t)),
        conversion_figure(conversion(t, by="manager")),
        manager_stage_figure(manager_stage_conversion(t)),
        plan_states_figure(plan_states(t, by="manager")),
        plan_accuracy_figure(plan_accuracy(t, as_of=today)),
        plan_for_target_figure(plan_for_target(1_000_000, realization(t, as_of=today))),
        replenishment_figure(replenishment(t, 2_000_000, r=0.5, period="2026", as_of=today)),
    ]
    for fig in figs:
        assert isinstance(fig, go.Figure) and fig.data
        assert fig.layout.template == KAM_TEMPLATE
        fig.to_json()  # serialisable for the report
    assert today == date(2026, 11, 1)


def test_quotes_in_names_are_shown_as_quotes_not_entities():
    # plotly reads label text as a little HTML: < > & must be escaped, but it shows &quot;
    # literally, so a quote must stay a quote (escaped once, not twice).
    name = 'Müller & Söhne "Nord" <GmbH>'
    d = Dossier(account=Account(id="MS", name=name), revenue=[
        RevenueLine(period="2025-01", revenue=900, cogs=600, list_value=1000)])
    p = profitability(tables([d]))
    shown = 'Müller &amp; Söhne "Nord" &lt;GmbH&gt;'
    waterfall = profit_waterfall_figure(p, "MS")
    assert waterfall.layout.title.text == f"Price waterfall of {shown}"
    ranking = contribution_ranking_figure(rank_by_contribution(p))
    assert list(ranking.data[0].y) == [shown]
    assert "&quot;" not in waterfall.to_json() + ranking.to_json()
