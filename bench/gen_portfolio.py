"""Generate a large synthetic portfolio as kam Tables, directly as frames (seeded numpy).

Default size: 5,000 accounts, 200,000 deals (with ~470,000 stage-history rows), 600,000 revenue
lines and 400,000 cost lines (1,000,000 revenue/cost lines), plus activity lines and yearly
budgets, over 36 months. Revenue is concentrated (a few large accounts, a long tail) and a few
accounts are served at a loss, so the whale curve has a real peak.

    python bench/gen_portfolio.py            # prints the sizes
"""

from __future__ import annotations

import dataclasses
import time
from datetime import date

import numpy as np
import pandas as pd

from kam.model import Tables, tables
from kam.profitability import load_cost_to_serve

__all__ = ["generate"]

STAGES = np.array(["lead", "potential", "sale", "buyer", "repeat"], dtype=object)
REASONS = np.array(["high price", "quality not convincing", "deadline", "chose competitor",
                    "no budget"], dtype=object)
GROUPS = np.array(["drives", "pumps", "bearings", "automation", "services", "spares"],
                  dtype=object)
REGIONS = np.array(["North", "South", "East", "West", "Central", "Baltic", "Alpine", "Iberia"],
                   dtype=object)


def _labels(prefix: str, n: int) -> np.ndarray:
    return np.array([f"{prefix}{i:05d}" for i in range(n)], dtype=object)


def _months(first_year: int, n: int) -> np.ndarray:
    return np.array([f"{first_year + m // 12}-{m % 12 + 1:02d}" for m in range(n)], dtype=object)


def generate(n_accounts: int = 5_000, n_deals: int = 200_000, n_revenue: int = 600_000,
             n_costs: int = 400_000, n_activities: int = 300_000, months: int = 36,
             first_year: int = 2023, seed: int = 20250101) -> Tables:
    """A reproducible synthetic portfolio (same seed, same frames)."""
    rng = np.random.default_rng(seed)
    empty = tables([])
    ids = _labels("ACC", n_accounts)
    kams = _labels("kam-", 50)
    month_labels = _months(first_year, months)
    # account weights: a skewed (lognormal) size, so a fifth of the accounts bring most revenue
    size = rng.lognormal(0.0, 1.6, n_accounts)
    weight = size / size.sum()

    accounts = pd.DataFrame({
        "account_id": ids, "name": np.char.add("Account ", ids.astype(str)).astype(object),
        "industry": rng.choice(np.array(["steel", "mining", "food", "chemicals", "water"],
                                        dtype=object), n_accounts),
        "region": rng.choice(REGIONS, n_accounts),
        "category": rng.choice(np.array(["A", "B", "C", None], dtype=object), n_accounts,
                               p=[0.1, 0.2, 0.5, 0.2]),
        "kam": rng.choice(kams, n_accounts),
        "sales_stage": rng.choice(STAGES, n_accounts, p=[0.15, 0.15, 0.1, 0.2, 0.4]),
        "total_consumption": np.round(size * 400_000 * rng.uniform(1.2, 3.0, n_accounts), 2),
        "market_price_index": np.round(rng.uniform(0.85, 1.15, n_accounts), 2),
    }).reindex(columns=empty.accounts.columns)

    acc = rng.choice(n_accounts, n_revenue, p=weight)
    revenue = np.round(rng.lognormal(8.5, 0.8, n_revenue), 2)
    revenue_lines = pd.DataFrame({
        "account_id": ids[acc], "period": rng.choice(month_labels, n_revenue),
        "product": None, "product_group": rng.choice(GROUPS, n_revenue), "revenue": revenue,
        "cogs": np.round(revenue * rng.uniform(0.55, 0.75, n_revenue), 2),
        "list_value": np.round(revenue * rng.uniform(1.0, 1.15, n_revenue), 2),
        "quantity": rng.integers(1, 500, n_revenue).astype(float),
    })

    cfg = load_cost_to_serve()
    categories = np.array(cfg.categories, dtype=object)
    acc = rng.integers(0, n_accounts, n_costs)  # serving costs are spread evenly: the tail
    costs = pd.DataFrame({                        # of small accounts is served at a loss
        "account_id": ids[acc], "period": rng.choice(month_labels, n_costs),
        "category": rng.choice(categories, n_costs),
        "amount": np.round(rng.lognormal(6.7, 0.9, n_costs), 2),
    })
    activities = pd.DataFrame({
        "account_id": ids[rng.integers(0, n_accounts, n_activities)],
        "period": rng.choice(month_labels, n_activities),
        "activity": rng.choice(np.array(list(cfg.activity_rates), dtype=object), n_activities),
        "count": rng.integers(1, 40, n_activities).astype(float),
    })
    years = np.array([str(first_year + y) for y in range(months // 12)], dtype=object)
    grid = pd.MultiIndex.from_product([ids, years, categories]).to_frame(index=False)
    budgets = pd.DataFrame({
        "account_id": grid[0].to_numpy(object), "period": grid[1].to_numpy(object),
        "category": grid[2].to_numpy(object),
        "amount": np.round(rng.lognormal(7.5, 0.8, len(grid)), 2),
    })

    deal_ids = _labels("D", n_deals)
    acc = rng.choice(n_accounts, n_deals, p=weight)
    reached = rng.choice(5, n_deals, p=[0.25, 0.25, 0.25, 0.15, 0.10])
    outcome = np.where(reached >= 3, "won",
                       rng.choice(np.array(["open", "refused", "declined"], dtype=object),
                                  n_deals, p=[0.3, 0.6, 0.1])).astype(object)
    created = (pd.Timestamp(date(first_year, 1, 1))
               + pd.to_timedelta(rng.integers(0, 30 * (months - 3), n_deals), unit="D"))
    cycle = rng.integers(10, 120, n_deals)
    closed = created + pd.to_timedelta(cycle * (reached + 1), unit="D")
    planned = np.round(rng.lognormal(10.0, 1.0, n_deals), -2)
    won = outcome == "won"
    deals = pd.DataFrame({
        "account_id": ids[acc], "id": deal_ids, "title": "deal", "stage": STAGES[reached],
        "outcome": outcome, "manager": rng.choice(kams, n_deals), "product": None,
        "product_group": rng.choice(GROUPS, n_deals), "planned_budget": planned,
        "refined_budget": np.round(planned * rng.uniform(0.7, 1.0, n_deals), -2),
        "actual_budget": np.where(won, np.round(planned * rng.uniform(0.6, 1.0, n_deals), -2),
                                  np.nan),
        "probability": None, "created": created.date, "plan_date": created.date,
        "expected_close": None,
        "closed_on": np.where(outcome == "open", None, closed.date).astype(object),
        "period": np.where(outcome == "open", None,
                           closed.strftime("%Y-%m").to_numpy(object)).astype(object),
        "refusal_reason": np.where(outcome == "refused", rng.choice(REASONS, n_deals),
                                   None).astype(object),
    }).reindex(columns=empty.deals.columns)

    # stage history: one entry per stage a deal passed, `cycle` days apart
    n_entries = reached + 1
    deal_of = np.repeat(np.arange(n_deals), n_entries)
    step = np.arange(n_entries.sum()) - np.repeat(np.cumsum(n_entries) - n_entries, n_entries)
    on = created[deal_of] + pd.to_timedelta(step * cycle[deal_of], unit="D")
    history = pd.DataFrame({"account_id": ids[acc][deal_of], "deal_id": deal_ids[deal_of],
                            "stage": STAGES[step], "on": on.date})

    return dataclasses.replace(empty, accounts=accounts, revenue=revenue_lines, costs=costs,
                               activities=activities, budgets=budgets, deals=deals,
                               deal_history=history)


if __name__ == "__main__":
    start = time.perf_counter()
    t = generate()
    print(f"generated in {time.perf_counter() - start:.1f} s")
    for name in ("accounts", "deals", "deal_history", "revenue", "costs", "activities",
                 "budgets"):
        frame = getattr(t, name)
        mb = frame.memory_usage(deep=True).sum() / 2**20
        print(f"{name:>13}: {len(frame):>9,} rows {mb:8.1f} MB")
