"""Profitability, cost-to-serve, budget vs actual, ranking and the whale curve (DOMAIN.md §7).

Expected numbers are worked out by hand in the comments of the fixture and of each test.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.errors import ConfigError, InputError
from kam.model import (
    Account,
    ActivityLine,
    Budget,
    CostLine,
    Dossier,
    RevenueLine,
    tables,
)
from kam.periods import NoData
from kam.profitability import (
    CostToServeConfig,
    activity_costs,
    budget_vs_actual,
    compare_bases,
    cost_to_serve,
    load_cost_to_serve,
    profitability,
    rank_by_contribution,
    whale_curve,
)


@pytest.fixture
def portfolio():
    """Three accounts, hand-worked.

    ACME  revenue 1000 (Jan, list 1100: discount 100) + 500 (Feb, no list price) = 1500,
          cogs 600 + 300 = 900, gross margin 600 (40%);
          booked: logistics 150 (Jan), sales visits 200 (Feb), + discount 100 -> CTS 450, NC 150;
          activity: 2 deliveries x 80 = 160 (logistics), 1 visit x 450 = 450 (sales visits),
          + discount 100 -> CTS 710, NC -110.
    BETA  revenue 2000, cogs 1000 (Jan, list 2000: no discount): GM 1000;
          key-account team 300 (2025-Q1), technical support 100 (Mar) -> CTS 400, NC 600.
    GAMMA revenue 300, cogs 250 (Mar): GM 50; special programmes 200 -> NC -150.
    """
    acme = Dossier(
        account=Account(id="ACME", name="Acme Steel", kam="K1"),
        revenue=[
            RevenueLine(period="2025-01", revenue=1000, cogs=600, list_value=1100),
            RevenueLine(period="2025-02", revenue=500, cogs=300),
        ],
        costs=[
            CostLine(period="2025-01", category="logistics", amount=150),
            CostLine(period="2025-02", category="sales visits", amount=200),
        ],
        activities=[
            ActivityLine(period="2025-01", activity="delivery", count=2),
            ActivityLine(period="2025-02", activity="sales visit", count=1),
        ],
        budgets=[
            Budget(period="2025", category="logistics", amount=1200),
            Budget(period="2025", category="sales visits", amount=210),
        ],
    )
    beta = Dossier(
        account=Account(id="BETA", name="Beta Foods", kam="K2"),
        revenue=[RevenueLine(period="2025-01", revenue=2000, cogs=1000, list_value=2000)],
        costs=[
            CostLine(period="2025-Q1", category="key-account team", amount=300),
            CostLine(period="2025-03", category="technical support", amount=100),
        ],
    )
    gamma = Dossier(
        account=Account(id="GAMMA", name="Gamma Tools", kam="K1"),
        revenue=[RevenueLine(period="2025-03", revenue=300, cogs=250)],
        costs=[CostLine(period="2025-03", category="special programmes", amount=200)],
    )
    return tables([acme, beta, gamma])


def _row(frame: pd.DataFrame, **where) -> pd.Series:
    sel = frame
    for k, v in where.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, f"expected one row for {where}, found {len(sel)}"
    return sel.iloc[0]


def test_profitability_per_account_booked_basis(portfolio):
    acc = profitability(portfolio).accounts
    acme = _row(acc, account_id="ACME")
    assert acme["name"] == "Acme Steel"
    assert acme["revenue"] == 1500 and acme["cogs"] == 900 and acme["gross_margin"] == 600
    assert acme["gross_margin_pct"] == pytest.approx(0.40)
    assert acme["cost_to_serve"] == 450 and acme["net_contribution"] == 150
    assert acme["net_margin_pct"] == pytest.approx(0.10)  # 150 / 1500
    assert _row(acc, account_id="BETA")["net_contribution"] == 600
    assert _row(acc, account_id="GAMMA")["net_contribution"] == -150


def test_cost_to_serve_by_category_and_discount_line(portfolio):
    by_cat = profitability(portfolio).by_category.set_index("account_id")
    assert by_cat.loc["ACME", "logistics"] == 150
    assert by_cat.loc["ACME", "sales visits"] == 200
    assert by_cat.loc["ACME", "price discounts"] == 100  # 1100 list - 1000 paid
    assert by_cat.loc["BETA", "price discounts"] == 0  # sold at list price
    assert by_cat.loc["GAMMA", "key-account team"] == 0
    costs = cost_to_serve(portfolio)
    disc = costs[costs["category"] == "price discounts"]
    assert disc[["account_id", "source", "amount"]].to_dict("records") == [
        {"account_id": "ACME", "source": "price discount", "amount": 100.0}
    ]


def test_activity_basis_replaces_booked_lines_of_the_fed_categories(portfolio):
    # ACME on the activity basis: 160 + 450 + 100 = 710 -> NC 600 - 710 = -110; BETA keeps its
    # booked key-account team and technical support (no activity rate feeds them): NC 600.
    p = profitability(portfolio, basis="activity")
    assert p.basis == "activity"
    acme = _row(p.accounts, account_id="ACME")
    assert acme["cost_to_serve"] == 710 and acme["net_contribution"] == -110
    assert _row(p.accounts, account_id="BETA")["net_contribution"] == 600
    sources = set(p.costs.loc[p.costs["account_id"] == "ACME", "source"])
    assert sources == {"activity", "price discount"}  # no booked ACME line is counted too


def test_activity_costs_are_count_times_rate(portfolio):
    act = activity_costs(portfolio)
    assert act[["activity", "category", "count", "rate", "cost"]].to_dict("records") == [
        {"activity": "delivery", "category": "logistics", "count": 2.0, "rate": 80.0,
         "cost": 160.0},
        {"activity": "sales visit", "category": "sales visits", "count": 1.0, "rate": 450.0,
         "cost": 450.0},
    ]


def test_both_views_side_by_side(portfolio):
    # ACME: logistics booked 150 vs 2 deliveries x 80 = 160; sales visits 200 vs 1 x 450
    got = compare_bases(portfolio).set_index(["account_id", "category"])
    assert got.loc[("ACME", "logistics"), ["booked", "activity_based", "difference"]].tolist() \
        == [150.0, 160.0, 10.0]
    assert got.loc[("ACME", "sales visits"), "difference"] == 250
    assert "BETA" not in got.index.get_level_values(0)  # no activity-fed category booked


def test_profitability_by_month(portfolio):
    acc = profitability(portfolio.for_accounts(["ACME"]), freq="M").accounts
    # Jan: 1000 - 600 = 400 GM, CTS 150 + 100 discount -> NC 150; Feb: 200 GM - 200 visits = 0
    assert acc[["period", "gross_margin", "cost_to_serve", "net_contribution"]].to_dict(
        "records") == [
        {"period": "2025-01", "gross_margin": 400.0, "cost_to_serve": 250.0,
         "net_contribution": 150.0},
        {"period": "2025-02", "gross_margin": 200.0, "cost_to_serve": 200.0,
         "net_contribution": 0.0},
    ]


def test_profitability_by_quarter_and_period_selection(portfolio):
    q = profitability(portfolio, freq="Q").accounts
    assert set(q["period"]) == {"2025-Q1"}
    assert q["net_contribution"].sum() == 600  # 150 + 600 - 150
    feb = profitability(portfolio.for_accounts(["ACME", "GAMMA"]), period="2025-02").accounts
    assert feb[["account_id", "net_contribution"]].to_dict("records") == [
        {"account_id": "ACME", "net_contribution": 0.0}]
    with pytest.raises(InputError, match=r"period '2025-Q1' is coarser than the selected period "
                                         r"'2025-02' and cannot be split; select a whole quarter"):
        profitability(portfolio, period="2025-02")  # BETA's key-account team line
    upto_jan = profitability(portfolio.for_accounts(["ACME"]), as_of=date(2025, 1, 31)).accounts
    assert upto_jan["net_contribution"].tolist() == [150.0]


def test_a_quarterly_cost_line_cannot_be_shown_by_month(portfolio):
    with pytest.raises(InputError, match=r"cost lines, field 'period': period '2025-Q1' is "
                                         r"coarser than the requested granularity 'M'"):
        profitability(portfolio, freq="M")


def test_unknown_cost_category_is_refused_with_the_valid_ones():
    d = Dossier(account=Account(id="ACME", name="Acme"),
                costs=[CostLine(period="2025-01", category="travel", amount=10)])
    with pytest.raises(InputError, match=r"1 cost lines \(e.g. account ACME, period 2025-01\), "
                                         r"field 'category': unknown category 'travel'; valid: "
                                         r"key-account team, logistics, .*; add it to categories"):
        profitability(tables([d]))


def test_booked_price_discounts_are_refused():
    d = Dossier(account=Account(id="ACME", name="Acme"),
                costs=[CostLine(period="2025-01", category="Price discounts", amount=10)])
    with pytest.raises(InputError, match=r"'price discounts' is computed from the revenue lines"):
        cost_to_serve(tables([d]))


def test_unknown_activity_is_refused():
    d = Dossier(account=Account(id="ACME", name="Acme"),
                activities=[ActivityLine(period="2025-01", activity="teleport", count=1)])
    with pytest.raises(InputError, match=r"unknown activity 'teleport'; valid: delivery, "
                                         r"delivery mile, expedited delivery, order, sales visit"):
        activity_costs(tables([d]))


def test_category_names_match_case_and_underscore_insensitively():
    d = Dossier(account=Account(id="ACME", name="Acme"),
                costs=[CostLine(period="2025-01", category="Sales_Visits", amount=10)])
    assert cost_to_serve(tables([d]))["category"].tolist() == ["sales visits"]


def test_period_without_data_is_a_clear_error(portfolio):
    with pytest.raises(NoData, match=r"No revenue, cost or activity lines in period '2024' "
                                     r"\(the data covers 2025-01 .. 2025-03\)"):
        profitability(portfolio, period="2024")


def test_empty_tables_give_an_explicit_empty_result():
    p = profitability(tables([]))
    assert p.accounts.empty and "net_contribution" in p.accounts.columns
    assert budget_vs_actual(tables([])).empty
    w = whale_curve(p)
    assert (w.total, w.peak, w.accounts_for_total) == (0.0, 0.0, 0)


def test_budget_vs_actual_per_year(portfolio):
    bva = budget_vs_actual(portfolio.for_accounts(["ACME"]))
    # logistics 150 vs 1200: -1050 (-87.5%) under; sales visits 200 vs 210: -4.8% within 10%;
    # price discounts 100 without a budget: unbudgeted.
    got = bva.set_index("category")
    assert got.loc["logistics", "variance"] == -1050
    assert got.loc["logistics", "variance_pct"] == pytest.approx(-0.875)
    assert got.loc["logistics", "status"] == "under"
    assert got.loc["sales visits", "status"] == "ok"
    assert not got.loc["sales visits", "out_of_tolerance"]
    assert got.loc["price discounts", "status"] == "unbudgeted"
    assert got.loc["price discounts", "out_of_tolerance"]


def test_budget_vs_actual_tolerance_is_configurable(portfolio):
    # sales visits: -10 / 210 = -4.76%: out of a 4% tolerance, within 5%
    acme = portfolio.for_accounts(["ACME"])
    tight = budget_vs_actual(acme, tolerance=0.04).set_index("category")
    loose = budget_vs_actual(acme, tolerance=0.05).set_index("category")
    assert tight.loc["sales visits", "status"] == "under"
    assert loose.loc["sales visits", "status"] == "ok"


def test_budget_vs_actual_spreads_a_yearly_budget(portfolio):
    acme = portfolio.for_accounts(["ACME"])
    q = budget_vs_actual(acme, freq="Q")
    logi = q[q["category"] == "logistics"]
    assert logi["budget"].tolist() == [300.0, 300.0, 300.0, 300.0]  # 1200 / 4
    assert logi["actual"].tolist() == [150.0, 0.0, 0.0, 0.0]
    # year to date on 15 Feb: two months of budget: logistics 200 vs 150 (-25%, under),
    # sales visits 35 vs 200 (over)
    ytd = budget_vs_actual(acme, as_of=date(2025, 2, 15)).set_index("category")
    assert ytd.loc["logistics", "budget"] == pytest.approx(200)
    assert ytd.loc["logistics", "status"] == "under"
    assert ytd.loc["sales visits", "budget"] == pytest.approx(35)
    assert ytd.loc["sales visits", "status"] == "over"


def test_budget_vs_actual_for_the_whole_portfolio(portfolio):
    total = budget_vs_actual(portfolio, by_account=False, freq=None).set_index("category")
    assert "account_id" not in total.columns
    assert total.loc["key-account team", "actual"] == 300
    assert total.loc["price discounts", "actual"] == 100


def test_ranking_by_net_contribution(portfolio):
    r = rank_by_contribution(profitability(portfolio))
    assert r[["rank", "account_id", "net_contribution"]].to_dict("records") == [
        {"rank": 1, "account_id": "BETA", "net_contribution": 600.0},
        {"rank": 2, "account_id": "ACME", "net_contribution": 150.0},
        {"rank": 3, "account_id": "GAMMA", "net_contribution": -150.0},
    ]
    assert r["share_of_total"].tolist() == pytest.approx([1.0, 0.25, -0.25])  # of 600
    assert r["profitable"].tolist() == [True, True, False]


def test_ranking_refuses_several_periods():
    monthly = pd.DataFrame({"account_id": ["A", "A"], "period": ["2025-01", "2025-02"],
                            "net_contribution": [1.0, 2.0]})
    with pytest.raises(ValueError, match="needs one row per account; this frame has 2 periods"):
        rank_by_contribution(monthly)


def test_whale_curve_hand_worked(portfolio):
    # BETA 600, ACME 150, GAMMA -150 -> cumulative 600, 750, 600: peak 750 after 2 accounts,
    # GAMMA gives back 150, BETA alone earns the total 600.
    w = whale_curve(profitability(portfolio))
    assert w.curve["cumulative"].tolist() == [600.0, 750.0, 600.0]
    assert (w.total, w.peak, w.peak_accounts, w.given_back) == (600.0, 750.0, 2, 150.0)
    assert (w.n_profitable, w.n_unprofitable, w.accounts_for_total) == (2, 1, 1)
    assert w.peak_pct == pytest.approx(1.25)
    assert w.curve["cumulative_pct"].iloc[-1] == pytest.approx(1.0)
    assert w.summary().set_index("measure").loc["given back by the rest", "value"] == 150


def test_config_is_validated(tmp_path):
    bad = tmp_path / "cts.yaml"
    bad.write_text("categories: [logistics]\nactivity_rates:\n  delivery:\n"
                   "    rate: 5\n    category: freight\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="activity 'delivery' is booked to category 'freight'"):
        load_cost_to_serve(str(bad))
    cfg = load_cost_to_serve()
    assert cfg.discount_category == "price discounts" and cfg.tolerance == 0.10


def test_own_config_changes_rates(portfolio):
    cfg = CostToServeConfig(categories=["logistics", "sales visits", "key-account team",
                                        "technical support", "special programmes"],
                            activity_rates={"delivery": {"rate": 10, "category": "logistics"},
                                            "sales visit": {"rate": 1, "category": "sales visits"}})
    acme = _row(profitability(portfolio, basis="activity", config=cfg).accounts,
                account_id="ACME")
    assert acme["cost_to_serve"] == 2 * 10 + 1 * 1 + 100


# -- properties ----------------------------------------------------------------------------

_line = st.tuples(st.sampled_from(["A", "B", "C", "D", "E"]), st.integers(1, 12),
                  st.integers(0, 5000), st.integers(0, 5000))


def _frames(lines, costs):
    empty = tables([])
    rev = pd.DataFrame([{"account_id": a, "period": f"2025-{m:02d}", "product": None,
                         "product_group": None, "revenue": float(r), "cogs": float(c),
                         "list_value": float(r + c), "quantity": None}
                        for a, m, r, c in lines], columns=empty.revenue.columns)
    cst = pd.DataFrame([{"account_id": a, "period": f"2025-{m:02d}", "category": "logistics",
                         "amount": float(x)} for a, m, x, _ in costs],
                       columns=empty.costs.columns)
    return dataclasses.replace(empty, revenue=rev, costs=cst)


@settings(max_examples=50, deadline=None)
@given(st.lists(_line, min_size=1, max_size=25), st.lists(_line, max_size=25))
def test_contributions_add_up_and_whale_curve_ends_at_total(lines, costs):
    t = _frames(lines, costs)
    p = profitability(t)
    # independently: revenue - cogs - discount (list - revenue = cogs here) - booked costs
    expected = sum(r - c - c for _, _, r, c in lines) - sum(x for _, _, x, _ in costs)
    assert p.accounts["net_contribution"].sum() == pytest.approx(expected)
    cats = p.by_category.drop(columns="account_id").sum(axis=1).to_numpy()
    assert cats == pytest.approx(p.accounts["cost_to_serve"].to_numpy())
    w = whale_curve(p)
    assert w.curve["cumulative"].iloc[-1] == pytest.approx(w.total)
    assert w.total == pytest.approx(expected)
    assert w.peak >= w.total - 1e-6 and w.given_back >= -1e-6
    assert w.n_profitable + w.n_unprofitable <= len(w.curve)
    assert w.curve["net_contribution"].is_monotonic_decreasing
