"""Portfolio: concentration, ABC, movement, new / lost buyers, share of wallet, pivots
(DOMAIN.md §1, §6, §8). Expected numbers are worked out by hand in the comments."""

from __future__ import annotations

import dataclasses
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.errors import ConfigError
from kam.model import Account, Dossier, MarketFacts, RevenueLine, tables
from kam.periods import NoData
from kam.portfolio import (
    AbcThresholds,
    PortfolioConfig,
    abc,
    abc_by_period,
    buyer_dynamics,
    buyer_status,
    category_movement,
    concentration,
    load_portfolio_config,
    pivot,
    portfolio_summary,
    select,
    share_of_wallet,
)


def _acc(i, name, kam, region, category=None, total=None, stage="buyer"):
    return Account(id=i, name=name, kam=kam, region=region, category=category,
                   sales_stage=stage, market=MarketFacts(total_consumption=total))


def _rev(period, revenue, group):
    return RevenueLine(period=period, revenue=revenue, cogs=revenue / 2, product_group=group)


@pytest.fixture
def t():
    """2024: A1 500, A2 300, A3 200 (total 1000).
    2025: A1 400 + 200 = 600, A3 150, A5 250 (total 1000); A2 bought nothing; A4 never did.
    ABC 2024: A1 A (nothing before), A2 A (50% before), A3 B (80% before: not below 80%).
    ABC 2025: A1 A, A5 A (60% before), A3 B (85% before)."""
    return tables([
        Dossier(account=_acc("A1", "Alpha", "ann", "North", "A", 1000),
                revenue=[_rev("2024-03", 500, "pumps"), _rev("2025-02", 400, "pumps"),
                         _rev("2025-08", 200, "valves")]),
        Dossier(account=_acc("A2", "Bravo", "ann", "South", "B"),
                revenue=[_rev("2024-06", 300, "valves")]),
        Dossier(account=_acc("A3", "Charlie", "bob", "North", "A", 100),
                revenue=[_rev("2024-09", 200, "pumps"), _rev("2025-05", 150, "pumps")]),
        Dossier(account=_acc("A4", "Delta", "bob", "South", "C", 500, stage="potential")),
        Dossier(account=_acc("A5", "Echo", "bob", "North", stage="lead"),
                revenue=[_rev("2025-11", 250, "valves")]),
    ])


def test_concentration_and_dependency_warning(t):
    # 2025 shares 0.60, 0.25, 0.15: HHI = 0.36 + 0.0625 + 0.0225 = 0.445
    c = concentration(t, period="2025")
    assert c.top1 == pytest.approx(0.60)
    assert c.top5 == pytest.approx(1.0) and c.top10 == pytest.approx(1.0)
    assert c.hhi == pytest.approx(0.445)
    assert c.effective_accounts == pytest.approx(1 / 0.445)
    assert c.shares["account_id"].tolist() == ["A1", "A5", "A3"]
    assert c.warnings["measure"].tolist() == ["top1", "hhi"]  # only 3 accounts: no top-5 alarm
    assert c.warnings["message"].iloc[0] == (
        "Alpha alone brings 60% of revenue (threshold 25%): the portfolio depends on one account")


def test_concentration_thresholds_are_configurable(t):
    cfg = PortfolioConfig(concentration={"top1": 0.7, "hhi": 0.5})
    assert concentration(t, period="2025", config=cfg).warnings.empty


def test_abc_source_rule_the_crossing_account_stays_in_a(t):
    got = abc(t, period="2024")
    assert got[["account_id", "category"]].to_dict("records") == [
        {"account_id": "A1", "category": "A"}, {"account_id": "A2", "category": "A"},
        {"account_id": "A3", "category": "B"}]
    assert got["cumulative_share"].tolist() == pytest.approx([0.5, 0.8, 1.0])


def test_abc_thresholds_are_configurable(t):
    # with a = 0.5 and b = 0.8, A2 (50% before it) is B and A3 (80% before it) is C
    got = abc(t, period="2024", thresholds=AbcThresholds(a=0.5, b=0.8))
    assert got["category"].tolist() == ["A", "B", "C"]


def test_abc_thresholds_must_be_ordered(tmp_path):
    cfg = tmp_path / "p.yaml"
    cfg.write_text("abc: {a: 0.9, b: 0.8}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"abc threshold a \(0.9\) must be below b \(0.8\)"):
        load_portfolio_config(str(cfg))


def test_abc_by_period(t):
    per = abc_by_period(t, freq="Y")
    y25 = per[per["period"] == "2025"]
    assert y25[["account_id", "category"]].to_dict("records") == [
        {"account_id": "A1", "category": "A"}, {"account_id": "A5", "category": "A"},
        {"account_id": "A3", "category": "B"}]


def test_category_movement_matrix(t):
    m = category_movement(t, "2024", "2025")
    # A1 A->A, A2 A->(none) (lost), A3 B->B, A5 (none)->A (new)
    assert m.matrix.loc["A", "A"] == 1 and m.matrix.loc["A", "(none)"] == 1
    assert m.matrix.loc["B", "B"] == 1 and m.matrix.loc["(none)", "A"] == 1
    assert m.matrix.to_numpy().sum() == 4
    moved = m.accounts[m.accounts["moved"]]
    assert moved["account_id"].tolist() == ["A2", "A5"]


def test_new_and_lost_buyers_per_year(t):
    d = buyer_dynamics(t, freq="Y").set_index("period")
    # 2024 is the first period of the data: 3 buyers, none new or lost by construction
    assert d.loc["2024", ["buyers", "new", "lost"]].tolist() == [3, 0, 0]
    # 2025: A1, A3 regular; A5 new; A2 lost
    assert d.loc["2025", ["buyers", "new", "returning", "regular", "lost"]].tolist() == [
        3, 1, 0, 2, 1]
    assert d.loc["2025", "revenue"] == 1000 and d.loc["2025", "revenue_new"] == 250
    # regular clients: 600 + 150 = 750 now against 500 + 200 = 700 the year before
    assert d.loc["2025", "revenue_regular"] == 750
    assert d.loc["2025", "revenue_regular_previous"] == 700
    assert d.loc["2025", "regular_growth"] == pytest.approx(750 / 700 - 1)


def test_buyer_status_per_quarter(t):
    s = buyer_status(t, freq="Q")
    got = {(r.period, r.account_id): r.status for r in s.itertuples()}
    assert got[("2024-Q1", "A1")] == "first period"
    assert got[("2024-Q2", "A2")] == "new"
    assert got[("2024-Q2", "A1")] == "lost"
    assert got[("2025-Q1", "A1")] == "returning"
    assert got[("2025-Q4", "A5")] == "new"
    d = buyer_dynamics(t, freq="Q")
    assert len(d) == 8  # every quarter of 2024 and 2025, gaps included
    assert d.loc[d["period"] == "2024-Q4", "buyers"].tolist() == [0]
    assert d["complete"].all()
    running = buyer_dynamics(t, freq="Q", as_of=date(2025, 11, 30))
    assert running["complete"].tolist() == [True] * 7 + [False]  # 2025-Q4 is still running


def test_share_of_wallet_and_headroom(t):
    w = share_of_wallet(t, "2025").set_index("account_id")
    assert w.loc["A1", "share_of_wallet"] == pytest.approx(0.6)  # 600 of 1000
    assert w.loc["A1", "headroom"] == 400
    assert w.loc["A4", "headroom"] == 500 and w.loc["A4", "share_of_wallet"] == 0
    assert w.loc["A3", "headroom"] == 0
    assert w.loc["A3", "note"] == "our revenue exceeds the stated total consumption"
    assert w.loc["A2", "note"] == "total consumption unknown"
    assert pd.isna(w.loc["A2", "share_of_wallet"])
    assert list(w.index[:2]) == ["A4", "A1"]  # most headroom first
    with pytest.raises(ValueError, match="give a year such as '2025', got '2025-Q1'"):
        share_of_wallet(t, "2025-Q1")


def test_pivot_category_by_period(t):
    p = pivot(t, "category")
    # A = A1 + A3: 2024 500 + 200, 2025 600 + 150; B = A2; A5 has no category
    assert p.loc["A", "2024"] == 700 and p.loc["A", "2025"] == 750
    assert p.loc["B", "2024"] == 300 and p.loc["B", "2025"] == 0
    assert p.loc["(none)", "2025"] == 250
    assert p.loc["total", "total"] == 2000


def test_pivot_by_manager_territory_and_product_group(t):
    by_kam = pivot(t, "kam", totals=False)
    assert by_kam.loc["ann"].tolist() == [800.0, 600.0]
    assert by_kam.loc["bob"].tolist() == [200.0, 400.0]
    by_region = pivot(t, ["region", "product_group"], columns=None, totals=False,
                      values="gross_margin")
    assert by_region.loc[("North", "pumps"), "gross_margin"] == (500 + 400 + 200 + 150) / 2
    q = pivot(t, "abc", period="2025", freq="Q", totals=False)
    assert q.loc["B"].sum() == 150
    with pytest.raises(ValueError, match="cannot pivot by 'colour'; options are category, region"):
        pivot(t, "colour")


def test_select_filters(t):
    assert sorted(select(t, kam="ann").accounts["account_id"]) == ["A1", "A2"]
    assert sorted(select(t, region="North", category="A").accounts["account_id"]) == ["A1",
                                                                                       "A3"]
    assert abc(select(t, kam="bob"), period="2025")["account_id"].tolist() == ["A5", "A3"]


def test_summary(t):
    s = portfolio_summary(t, period="2025")
    m = s.measures.set_index("measure")["value"]
    assert m["accounts"] == 5 and m["potential clients"] == 2 and m["buyers"] == 3
    assert m["revenue"] == 1000 and m["gross margin %"] == pytest.approx(0.5)
    assert s.abc.set_index("category")["accounts"].tolist() == [2, 1, 0]


def test_period_without_sales_is_a_clear_error(t):
    with pytest.raises(NoData, match="No revenue lines in period '2023'"):
        abc(t, period="2023")
    with pytest.raises(NoData, match="No revenue lines in period '2023'"):
        concentration(t, period="2023")


def test_a_portfolio_without_revenue_says_so_instead_of_zeros():
    # no silent zeros: top-1 = 0% and Herfindahl 0.000 of a portfolio without sales would read
    # as "no concentration"; every analysis says what is missing instead
    two = tables([Dossier(account=Account(id=i, name=i)) for i in ("A", "B")])
    missing = (r"No revenue lines in the selection, so there is no {}: none of the 2 accounts "
               r"has a revenue line; import sales")
    with pytest.raises(NoData, match=missing.format("concentration to measure")):
        concentration(two)
    with pytest.raises(NoData, match=missing.format("concentration to measure")):
        portfolio_summary(two)
    with pytest.raises(NoData, match=missing.format("ABC categorisation")):
        abc(two)
    with pytest.raises(NoData, match=missing.format("buyer to follow")):
        buyer_dynamics(two)
    with pytest.raises(NoData, match=missing.format("pivot report")):
        pivot(two, "category")
    with pytest.raises(NoData, match=r"there is no account in it"):
        concentration(tables([]))
    with pytest.raises(NoData, match="No revenue lines in period '2024'"):
        category_movement(tables([]), "2024", "2025")


def test_a_period_without_sales_names_what_the_data_covers(t):
    with pytest.raises(NoData, match=r"No revenue lines in period '2019', so there is no "
                                     r"concentration to measure: the revenue lines cover "
                                     r"\d{4}-\d{2} .. \d{4}-\d{2}; choose a period with sales"):
        concentration(t, period="2019")


def test_revenue_totalling_zero_has_no_shares():
    # a sample shipped free of charge: a revenue line of 0
    credit = tables([Dossier(account=Account(id="A", name="A"), revenue=[
        RevenueLine(period="2025-01", revenue=0)])])
    with pytest.raises(NoData, match=r"The revenue of the selection totals 0.00, so shares of it "
                                     r"are undefined"):
        concentration(credit)


# -- properties ----------------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.01, 1e6), min_size=1, max_size=40),
       st.floats(0.05, 0.9), st.floats(0.0, 0.09))
def test_abc_and_concentration_invariants(revenues, a, gap):
    b = min(a + gap + 0.01, 1.0)
    rev = pd.DataFrame({"account_id": [f"X{i}" for i in range(len(revenues))],
                        "period": "2025", "revenue": revenues})
    t = dataclasses.replace(tables([]), revenue=rev.reindex(columns=tables([]).revenue.columns))
    got = abc(t, thresholds=AbcThresholds(a=a, b=b))
    assert got["share"].sum() == pytest.approx(1.0)
    assert got["category"].iloc[0] == "A"
    assert got["category"].is_monotonic_increasing  # A before B before C
    c = concentration(t)
    assert c.top1 <= c.top5 + 1e-12 <= c.top10 + 2e-12 <= 1 + 1e-9
    assert 1 / len(revenues) - 1e-9 <= c.hhi <= 1 + 1e-9
