"""Benchmark: a special programme's client group and its results on a generated portfolio of
5,000 accounts with 300,000 interactions (plus the deals, revenue lines and rating entries of
bench/gen_portfolio.py).

    python bench/bench_programmes.py [--runs 3]

Prints the median wall time of the selection (target: under 2 s) and of the results
comparison.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_portfolio import generate
from timing import timed

from kam.model import Tables
from kam.model.programme import Programme
from kam.programmes import programme_results, select_group

TARGET_S = 2.0
KINDS = np.array(["call", "email", "meeting", "visit", "presentation", "proposal", "seminar"],
                 dtype=object)


def portfolio(n_interactions: int = 300_000, n_ratings: int = 20_000,
              seed: int = 7) -> Tables:
    """The generated portfolio with interactions and rating entries added."""
    t = generate(n_deals=100_000, n_revenue=300_000, n_costs=100_000, n_activities=50_000)
    rng = np.random.default_rng(seed)
    ids = t.accounts["account_id"].to_numpy(object)
    days = pd.Timestamp(date(2023, 1, 1)) + pd.to_timedelta(
        rng.integers(0, 3 * 365, n_interactions), unit="D")
    interactions = pd.DataFrame({
        "account_id": ids[rng.integers(0, len(ids), n_interactions)],
        "id": np.char.add("I", np.arange(n_interactions).astype(str)).astype(object),
        "date": days.date, "kind": rng.choice(KINDS, n_interactions),
        "participants": None, "our_participants": None, "outcome": None})
    ratings = pd.DataFrame({
        "account_id": ids[rng.integers(0, len(ids), n_ratings)],
        "kind": rng.choice(np.array(["status", "event", "personal"], dtype=object), n_ratings),
        "points": rng.integers(0, 6, n_ratings).astype(float),
        "on": (pd.Timestamp(date(2023, 1, 1)) + pd.to_timedelta(
            rng.integers(0, 3 * 365, n_ratings), unit="D")).date,
        "campaign": rng.choice(np.array(["spring", "fair", None], dtype=object), n_ratings)})
    return dataclasses.replace(t, interactions=interactions, ratings=ratings)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    t = portfolio()
    print(f"{len(t.accounts):,} accounts, {len(t.interactions):,} interactions, "
          f"{len(t.deals):,} deals, {len(t.revenue):,} revenue lines, "
          f"{len(t.ratings):,} rating entries")
    programme = Programme(
        id="SEM25", name="Pump seminar", kind="seminar", start=date(2025, 3, 12),
        filters={"category": ["A", "B"], "sales_stage": ["buyer", "repeat"],
                 "region": ["North", "South", "East"], "product_group": "pumps",
                 "rating": {"min": 1}, "revenue": {"min": 10_000}},
        revenue_period="2024")
    seconds, group = timed(lambda: select_group(t, programme), args.runs)
    ok = "ok" if seconds < TARGET_S else "SLOW"
    print(f"selection: {seconds:.3f} s for {len(group):,} of {len(t.accounts):,} accounts "
          f"(target < {TARGET_S:.0f} s: {ok})")
    assert isinstance(group, pd.DataFrame)
    for i, account in enumerate(group["account_id"].iloc[: len(group) // 2]):
        programme.record(account, "attended" if i % 3 else "invited")
    seconds, _ = timed(lambda: programme_results(t, programme, months=3), args.runs)
    print(f"results (participants vs comparison, 3 months): {seconds:.3f} s")


if __name__ == "__main__":
    main()
