"""Profitability, the price waterfall, cost-to-serve, budget vs actual, ranking and the whale
curve (DOMAIN.md §7).

Expected numbers are worked out by hand in the comments of the fixture and of each test; the
textbook case is worked out in full in its docstring.
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
    price_discounts,
    profitability,
    rank_by_contribution,
    whale_curve,
)


@pytest.fixture
def portfolio():
    """Three accounts, hand-worked.

    ACME  net revenue 1000 (Jan, list 1100: discount 100, already out of the 1000) + 500 (Feb,
          no list price: counted at its net revenue) = 1500; list value 1100 + 500 = 1600;
          cogs 600 + 300 = 900, gross margin 600 (40%);
          booked: logistics 150 (Jan), sales visits 200 (Feb) -> CTS 350, NC 250;
          activity: 2 deliveries x 80 = 160 (logistics), 1 visit x 450 = 450 (sales visits)
          -> CTS 610, NC -10. The discount is never subtracted again.
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
    assert acme["list_value"] == 1600 and acme["price_discount"] == 100
    assert acme["revenue"] == 1500 and acme["cogs"] == 900 and acme["gross_margin"] == 600
    assert acme["gross_margin_pct"] == pytest.approx(0.40)
    assert acme["cost_to_serve"] == 350 and acme["net_contribution"] == 250
    assert acme["net_margin_pct"] == pytest.approx(250 / 1500)
    assert _row(acc, account_id="BETA")["net_contribution"] == 600
    assert _row(acc, account_id="GAMMA")["net_contribution"] == -150


def test_price_waterfall_counts_a_discount_once(portfolio):
    """DOMAIN.md §7, price waterfall: a discount given on the invoice is already out of net
    revenue; it is shown and analysed, never subtracted again."""
    p = profitability(portfolio)
    by_cat = p.by_category.set_index("account_id")
    assert "price discounts" not in by_cat.columns
    assert by_cat.loc["ACME", "logistics"] == 150 and by_cat.loc["ACME", "sales visits"] == 200
    assert by_cat.loc["GAMMA", "key-account team"] == 0
    assert "price discounts" not in set(cost_to_serve(portfolio)["category"])
    # ACME: list 1600 - discount 100 = net 1500 - cogs 900 = GM 600 - logistics 150 - visits 200
    #       = NC 250
    steps = p.waterfall("ACME")
    assert steps[["step", "amount"]].to_dict("records") == [
        {"step": "list value", "amount": 1600.0},
        {"step": "price discounts", "amount": -100.0},
        {"step": "net revenue", "amount": 1500.0},
        {"step": "cost of goods", "amount": -900.0},
        {"step": "gross margin", "amount": 600.0},
        {"step": "sales visits", "amount": -200.0},  # categories in cost_to_serve.yaml order
        {"step": "logistics", "amount": -150.0},
        {"step": "net contribution", "amount": 250.0},
    ]
    # every step after a total adds up to the next total
    less = steps["amount"].where(steps["kind"] == "less", 0.0)
    totals = steps[steps["kind"] == "total"]
    assert totals["amount"].iloc[-1] == pytest.approx(totals["amount"].iloc[0] + less.sum())


def test_price_discounts_are_analysed_per_account_and_product(portfolio):
    # ACME: Jan 1100 list / 1000 net = 100 (9.09% of list); Feb 500 without a list value: no
    # known discount, shown as unpriced revenue. BETA sold at list: 0.
    disc = price_discounts(portfolio).set_index("account_id")
    assert disc.loc["ACME", ["list_value", "revenue", "price_discount", "unpriced_revenue"]
                    ].tolist() == [1600.0, 1500.0, 100.0, 500.0]
    assert disc.loc["ACME", "discount_pct"] == pytest.approx(100 / 1600)
    assert disc.loc["BETA", "price_discount"] == 0
    monthly = price_discounts(portfolio.for_accounts(["ACME"]), freq="M")
    assert monthly[["period", "price_discount"]].to_dict("records") == [
        {"period": "2025-01", "price_discount": 100.0},
        {"period": "2025-02", "price_discount": 0.0}]
    with pytest.raises(ValueError, match="by 'region' is not known; options are 'product', "
                                         "'product_group'"):
        price_discounts(portfolio, by="region")


def _textbook() -> tuple:
    """An activity-based customer-profitability case in the textbook's shape (DOMAIN.md §7),
    worked out by hand. Activity rates: order processed 100, sales visit 80, delivery mile 2,
    rush (expedited) delivery 300; rebates paid after the invoice are booked.

    ============  =======  ========  =======  =======  =======  ======  =======
    customer      list     discount  net rev  COGS     GM       CTS     NC
    ============  =======  ========  =======  =======  =======  ======  =======
    PREMIUM       400,000         0  400,000  280,000  120,000   4,800  115,200
    BIGCO         500,000   100,000  400,000  300,000  100,000  13,100   86,900
    STEADY        300,000     6,000  294,000  210,000   84,000  13,800   70,200
    SMALLFRY       60,000     1,200   58,800   42,000   16,800  19,920   -3,120
    ============  =======  ========  =======  =======  =======  ======  =======

    Cost-to-serve: PREMIUM 20 orders (2,000) + 10 visits (800) + 1,000 miles (2,000) = 4,800;
    BIGCO 30 orders (3,000) + 10 visits (800) + 2,000 miles (4,000) + 1 rush (300) + rebate
    5,000 = 13,100; STEADY 50 orders (5,000) + 20 visits (1,600) + 3,000 miles (6,000) + 4 rush
    (1,200) = 13,800; SMALLFRY 120 orders (12,000) + 24 visits (1,920) + 1,500 miles (3,000) +
    10 rush (3,000) = 19,920. Total NC 269,180.

    BIGCO carries by far the largest discount (20%) and is the second most profitable;
    SMALLFRY, small with many orders, rush deliveries and visits, loses money. Subtracting the
    discount a second time would make BIGCO lose 13,100 and rank it last.
    """
    cfg = CostToServeConfig(
        categories=["order handling", "sales visits", "logistics", "rebates"],
        activity_rates={"order": {"rate": 100, "category": "order handling"},
                        "sales visit": {"rate": 80, "category": "sales visits"},
                        "delivery mile": {"rate": 2, "category": "logistics"},
                        "expedited delivery": {"rate": 300, "category": "logistics"}})

    def customer(cid, lst, net, cogs, orders, visits, miles, rush, rebate=0.0):
        acts = [ActivityLine(period="2025", activity=a, count=n) for a, n in
                [("order", orders), ("sales visit", visits), ("delivery mile", miles),
                 ("expedited delivery", rush)] if n]
        return Dossier(
            account=Account(id=cid, name=cid.title()),
            revenue=[RevenueLine(period="2025", revenue=net, cogs=cogs, list_value=lst)],
            activities=acts,
            costs=[CostLine(period="2025", category="rebates", amount=rebate)] if rebate else [])

    t = tables([
        customer("PREMIUM", 400_000, 400_000, 280_000, 20, 10, 1_000, 0),
        customer("BIGCO", 500_000, 400_000, 300_000, 30, 10, 2_000, 1, rebate=5_000),
        customer("STEADY", 300_000, 294_000, 210_000, 50, 20, 3_000, 4),
        customer("SMALLFRY", 60_000, 58_800, 42_000, 120, 24, 1_500, 10),
    ])
    return t, cfg


def test_textbook_customer_profitability_ranks_the_discounted_customer_second():
    t, cfg = _textbook()
    p = profitability(t, basis="activity", config=cfg)
    got = p.accounts.set_index("account_id")
    assert got.loc["BIGCO", ["list_value", "price_discount", "revenue", "cogs", "gross_margin",
                             "cost_to_serve", "net_contribution"]].tolist() == [
        500_000, 100_000, 400_000, 300_000, 100_000, 13_100, 86_900]
    assert got["net_contribution"].to_dict() == {
        "BIGCO": 86_900, "PREMIUM": 115_200, "SMALLFRY": -3_120, "STEADY": 70_200}
    ranking = rank_by_contribution(p)
    assert ranking["account_id"].tolist() == ["PREMIUM", "BIGCO", "STEADY", "SMALLFRY"]
    assert ranking["profitable"].tolist() == [True, True, True, False]
    assert whale_curve(p).total == 269_180
    disc = price_discounts(t).set_index("account_id")["discount_pct"]
    assert disc.idxmax() == "BIGCO" and disc["BIGCO"] == pytest.approx(0.20)


def test_profitability_notes_what_the_booked_basis_left_out(portfolio):
    # ACME has 2 activity lines; on the booked basis they are not costed, and the result says so
    assert profitability(portfolio).notes == (
        "cost-to-serve is booked costs only: 2 activity lines of 1 account were not costed "
        "(basis='activity' costs them at the rates of cost_to_serve.yaml)",)
    assert profitability(portfolio, basis="activity").notes == ()
    assert profitability(portfolio.for_accounts(["BETA"])).notes == ()
    # sales without cost of goods and no cost line (a CRM import): 2 of 3 lines, 300 of 400
    crm = tables([Dossier(account=Account(id="A", name="A"), revenue=[
        RevenueLine(period="2025-01", revenue=100, cogs=60),
        RevenueLine(period="2025-02", revenue=200), RevenueLine(period="2025-03", revenue=100)])])
    assert profitability(crm).notes == (
        "2 of 3 revenue lines (75% of net revenue) have no cost of goods: their gross margin is "
        "their whole revenue",
        "no cost-to-serve is booked or costed: net contribution equals gross margin")


def test_activity_basis_replaces_booked_lines_of_the_fed_categories(portfolio):
    # ACME on the activity basis: 160 + 450 = 610 -> NC 600 - 610 = -10; BETA keeps its
    # booked key-account team and technical support (no activity rate feeds them): NC 600.
    p = profitability(portfolio, basis="activity")
    assert p.basis == "activity"
    acme = _row(p.accounts, account_id="ACME")
    assert acme["cost_to_serve"] == 610 and acme["net_contribution"] == -10
    assert _row(p.accounts, account_id="BETA")["net_contribution"] == 600
    sources = set(p.costs.loc[p.costs["account_id"] == "ACME", "source"])
    assert sources == {"activity"}  # no booked ACME line is counted too


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
    # Jan: 1000 - 600 = 400 GM, CTS 150 -> NC 250; Feb: 200 GM - 200 visits = 0
    assert acc[["period", "gross_margin", "cost_to_serve", "net_contribution"]].to_dict(
        "records") == [
        {"period": "2025-01", "gross_margin": 400.0, "cost_to_serve": 150.0,
         "net_contribution": 250.0},
        {"period": "2025-02", "gross_margin": 200.0, "cost_to_serve": 200.0,
         "net_contribution": 0.0},
    ]


def test_profitability_by_quarter_and_period_selection(portfolio):
    q = profitability(portfolio, freq="Q").accounts
    assert set(q["period"]) == {"2025-Q1"}
    assert q["net_contribution"].sum() == 700  # 250 + 600 - 150
    feb = profitability(portfolio.for_accounts(["ACME", "GAMMA"]), period="2025-02").accounts
    assert feb[["account_id", "net_contribution"]].to_dict("records") == [
        {"account_id": "ACME", "net_contribution": 0.0}]
    with pytest.raises(InputError, match=r"period '2025-Q1' is coarser than the selected period "
                                         r"'2025-02' and cannot be split; select a whole quarter"):
        profitability(portfolio, period="2025-02")  # BETA's key-account team line
    upto_jan = profitability(portfolio.for_accounts(["ACME"]), as_of=date(2025, 1, 31)).accounts
    assert upto_jan["net_contribution"].tolist() == [250.0]


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
    with pytest.raises(InputError, match=r"'price discounts' are given on the invoice and "
                                         r"computed from the revenue lines"):
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
    with pytest.raises(NoData, match=r"No revenue or cost lines in period '2024' \(the data "
                                     r"covers 2025-01 .. 2025-03\)"):
        profitability(portfolio, period="2024")


def test_nothing_to_analyse_raises_no_data_naming_what_is_missing():
    # no silent zeros: an empty selection says so instead of returning empty frames
    with pytest.raises(NoData, match=r"No revenue or cost lines in the selection \(there are no "
                                     r"lines at all\): there is no profitability to compute"):
        profitability(tables([]))
    with pytest.raises(NoData, match=r"No cost-to-serve, price discount or budget: there is "
                                     r"nothing to compare"):
        budget_vs_actual(tables([]))
    only_visits = tables([Dossier(account=Account(id="A", name="A"), activities=[
        ActivityLine(period="2025-01", activity="sales visit", count=1)])])
    with pytest.raises(NoData, match=r"1 activity line of 1 account was not costed"):
        profitability(only_visits)
    assert profitability(only_visits, basis="activity").accounts["cost_to_serve"].tolist() == [
        450.0]


def test_budget_vs_actual_per_year(portfolio):
    # 2025 is over (as of 2026-01-15): the whole year is compared.
    bva = budget_vs_actual(portfolio.for_accounts(["ACME"]), as_of=date(2026, 1, 15))
    # logistics 150 vs 1200: -1050 (-87.5%) under; sales visits 200 vs 210: -4.8% within 10%;
    # price discounts 100 without a budget: unbudgeted, and shown as a discount, not a cost.
    got = bva.set_index("category")
    assert got.loc["logistics", "variance"] == -1050
    assert got.loc["logistics", "variance_pct"] == pytest.approx(-0.875)
    assert got.loc["logistics", "status"] == "under"
    assert got.loc["logistics", ["months", "months_in_period", "budget_full"]].tolist() == [
        12, 12, 1200]
    assert got.loc["sales visits", "status"] == "ok"
    assert not got.loc["sales visits", "out_of_tolerance"]
    assert got.loc["price discounts", "status"] == "unbudgeted"
    assert got.loc["price discounts", "kind"] == "price discount"
    assert got.loc["logistics", "kind"] == "cost-to-serve"
    assert got.loc["price discounts", "out_of_tolerance"]


def test_budget_vs_actual_tolerance_is_configurable(portfolio):
    # sales visits: -10 / 210 = -4.76%: out of a 4% tolerance, within 5%
    acme = portfolio.for_accounts(["ACME"])
    tight = budget_vs_actual(acme, tolerance=0.04).set_index("category")
    loose = budget_vs_actual(acme, config={"tolerance": 0.05}).set_index("category")
    assert tight.loc["sales visits", "status"] == "under"
    assert loose.loc["sales visits", "status"] == "ok"


def test_budget_vs_actual_spreads_a_yearly_budget(portfolio):
    acme = portfolio.for_accounts(["ACME"])
    q = budget_vs_actual(acme, freq="Q")
    logi = q[q["category"] == "logistics"]
    assert logi["budget"].tolist() == [300.0, 300.0, 300.0, 300.0]  # 1200 / 4
    assert logi["actual"].tolist() == [150.0, 0.0, 0.0, 0.0]


def test_budget_of_a_running_year_is_compared_month_for_month(portfolio):
    """Budget vs actual compares the elapsed part of the period (DOMAIN.md §7, budget vs actual
    per category): a yearly budget of 1,200 on 15 Feb 2025 has one complete month, January:
    budget 100 (1200 / 12) against January's actual; February's lines wait for February to end.
    """
    acme = portfolio.for_accounts(["ACME"])
    feb15 = budget_vs_actual(acme, as_of=date(2025, 2, 15)).set_index("category")
    # logistics: Jan 150 vs 100 -> +50 (+50%) over; sales visits: 0 vs 17.5 -> under
    assert feb15.loc["logistics", ["budget", "actual", "status"]].tolist() == [100, 150, "over"]
    assert feb15.loc["sales visits", "budget"] == pytest.approx(17.5)
    assert feb15.loc["sales visits", ["actual", "status"]].tolist() == [0, "under"]
    assert feb15.loc["logistics", ["months", "months_in_period", "budget_full"]].tolist() == [
        1, 12, 1200]
    # on 28 Feb February is complete: logistics 150 vs 200 under, sales visits 200 vs 35 over
    feb28 = budget_vs_actual(acme, as_of=date(2025, 2, 28)).set_index("category")
    assert feb28.loc["logistics", ["budget", "actual", "status"]].tolist() == [200, 150, "under"]
    assert feb28.loc["sales visits", "budget"] == pytest.approx(35)
    assert feb28.loc["sales visits", "status"] == "over"


def test_budget_on_pace_in_a_running_year_reads_ok():
    # logistics booked 100 every month Jan..Oct against a yearly budget of 1,200 (100 a month).
    # On 1 November, ten months are complete: 1,000 against 1,000 -> ok, not "under" against
    # the full year's 1,200 (which would read -16.7%).
    d = Dossier(account=Account(id="ACME", name="Acme"),
                costs=[CostLine(period=f"2025-{m:02d}", category="logistics", amount=100)
                       for m in range(1, 11)],
                budgets=[Budget(period="2025", category="logistics", amount=1200)])
    got = budget_vs_actual(tables([d]), as_of=date(2025, 11, 1)).iloc[0]
    assert (got["budget"], got["actual"], got["status"], got["budget_full"], got["months"]) == (
        1000, 1000, "ok", 1200, 10)
    total = budget_vs_actual(tables([d]), freq=None, period="2025", as_of=date(2025, 11, 1))
    assert total[["budget", "months", "months_in_period"]].iloc[0].tolist() == [1000, 10, 12]


def test_budget_vs_actual_for_the_whole_portfolio(portfolio):
    total = budget_vs_actual(portfolio, by_account=False, freq=None).set_index("category")
    assert "account_id" not in total.columns
    assert total.loc["key-account team", "actual"] == 300
    assert total.loc["price discounts", "actual"] == 100


def test_ranking_by_net_contribution(portfolio):
    r = rank_by_contribution(profitability(portfolio))
    assert r[["rank", "account_id", "net_contribution"]].to_dict("records") == [
        {"rank": 1, "account_id": "BETA", "net_contribution": 600.0},
        {"rank": 2, "account_id": "ACME", "net_contribution": 250.0},
        {"rank": 3, "account_id": "GAMMA", "net_contribution": -150.0},
    ]
    assert r["share_of_total"].tolist() == pytest.approx([600 / 700, 250 / 700, -150 / 700])
    assert r["profitable"].tolist() == [True, True, False]


def test_ranking_refuses_several_periods():
    monthly = pd.DataFrame({"account_id": ["A", "A"], "period": ["2025-01", "2025-02"],
                            "net_contribution": [1.0, 2.0]})
    with pytest.raises(ValueError, match="needs one row per account; this frame has 2 periods"):
        rank_by_contribution(monthly)


def test_whale_curve_hand_worked(portfolio):
    # BETA 600, ACME 250, GAMMA -150 -> cumulative 600, 850, 700: peak 850 after 2 accounts,
    # GAMMA gives back 150, BETA and ACME together earn the total 700.
    w = whale_curve(profitability(portfolio))
    assert w.curve["cumulative"].tolist() == [600.0, 850.0, 700.0]
    assert (w.total, w.peak, w.peak_accounts, w.given_back) == (700.0, 850.0, 2, 150.0)
    assert (w.n_profitable, w.n_unprofitable, w.accounts_for_total) == (2, 1, 2)
    assert w.peak_pct == pytest.approx(850 / 700)
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
    assert acme["cost_to_serve"] == 2 * 10 + 1 * 1  # the discount is not cost-to-serve


def test_config_in_python_changes_one_setting():
    cfg = load_cost_to_serve(activity_rates={"order": {"rate": 30}})
    assert cfg.activity_rates["order"].rate == 30
    assert cfg.activity_rates["delivery"].rate == 80  # the rest as in cost_to_serve.yaml
    assert load_cost_to_serve({"tolerance": 0.2}).tolerance == 0.2
    assert load_cost_to_serve(cfg) is cfg
    with pytest.raises(ConfigError, match=r"cost_to_serve.yaml \(with the settings given in "
                                          r"Python\): tolerance: Input should be greater than or "
                                          r"equal to 0"):
        load_cost_to_serve(tolerance=-1)


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
    # independently: net revenue - cogs - booked costs (the discount, list - revenue, is
    # already out of net revenue)
    expected = sum(r - c for _, _, r, c in lines) - sum(x for _, _, x, _ in costs)
    assert p.accounts["net_contribution"].sum() == pytest.approx(expected)
    cats = p.by_category.drop(columns="account_id").sum(axis=1).to_numpy()
    assert cats == pytest.approx(p.accounts["cost_to_serve"].to_numpy())
    w = whale_curve(p)
    assert w.curve["cumulative"].iloc[-1] == pytest.approx(w.total)
    assert w.total == pytest.approx(expected)
    assert w.peak >= w.total - 1e-6 and w.given_back >= -1e-6
    assert w.n_profitable + w.n_unprofitable <= len(w.curve)
    assert w.curve["net_contribution"].is_monotonic_decreasing


def test_a_budget_without_any_cost_reads_under_with_actual_zero():
    # budget 1,200 for 2025, nothing spent: actual 0, variance -1,200 (-100%), under
    d = Dossier(account=Account(id="A", name="A"),
                budgets=[Budget(period="2025", category="logistics", amount=1200)])
    for frame in (budget_vs_actual(tables([d]), as_of=date(2026, 1, 1)),
                  budget_vs_actual(tables([d]), freq=None, by_account=False,
                                   as_of=date(2026, 1, 1))):
        row = frame.iloc[0]
        assert (row["category"], row["budget"], row["actual"], row["variance_pct"],
                row["status"]) == ("logistics", 1200, 0, -1.0, "under")
