"""Benchmark of the portfolio analyses on a generated portfolio (bench/gen_portfolio.py):
5,000 accounts, 200,000 deals, 1,000,000 revenue/cost lines.

    python bench/bench_portfolio.py [--runs 3]

Prints the median wall time of each analysis over a few runs against the 2 s target, and the
peak resident memory of the process (target: under 2 GB).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_portfolio import generate
from timing import peak_mb, timed

from kam.funnel import conversion, funnel, manager_stage_conversion
from kam.model import Tables
from kam.planning import plan_accuracy
from kam.portfolio import buyer_dynamics, pivot, portfolio_summary
from kam.profitability import (
    budget_vs_actual,
    profitability,
    rank_by_contribution,
    whale_curve,
)

TARGET_S = 2.0
TARGET_MB = 2048






def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    start = time.perf_counter()
    t: Tables = generate()
    print(f"portfolio: {len(t.accounts):,} accounts, {len(t.deals):,} deals "
          f"({len(t.deal_history):,} history rows), {len(t.revenue):,} revenue + "
          f"{len(t.costs):,} cost lines ({len(t.revenue) + len(t.costs):,}), "
          f"{len(t.activities):,} activity lines, {len(t.budgets):,} budgets "
          f"-- generated in {time.perf_counter() - start:.1f} s, RSS {peak_mb():,.0f} MB")

    def ranking() -> object:
        ranked = rank_by_contribution(profitability(t))
        return ranked, whale_curve(ranked)

    def managers() -> object:
        return conversion(t, by="manager"), manager_stage_conversion(t)

    cases: list[tuple[str, Callable[[], object], bool]] = [
        ("portfolio summary (concentration, ABC)", lambda: portfolio_summary(t), True),
        ("funnel (stages, transitions, weakest link)", lambda: funnel(t), True),
        ("per-manager statistics (conversion + cross)", managers, True),
        ("profitability ranking + whale curve", ranking, True),
        ("  activity-based profitability", lambda: profitability(t, basis="activity"), False),
        ("  budget vs actual per account and year", lambda: budget_vs_actual(t), False),
        ("  buyer dynamics per quarter", lambda: buyer_dynamics(t), False),
        ("  pivot region x product group", lambda: pivot(t, "region", "product_group"), False),
        ("  plan accuracy by manager", lambda: plan_accuracy(t, freq="Q"), False),
    ]
    print(f"\n{'analysis':<46}{'median':>9}  {'target':>7}  ok   (runs: {args.runs})")
    failed = []
    for name, fn, targeted in cases:
        median, _ = timed(fn, args.runs)
        ok = median < TARGET_S
        if targeted and not ok:
            failed.append(name)
        mark = ("yes" if ok else "NO") if targeted else "-"
        target = f"{TARGET_S:>6}s" if targeted else " " * 7
        print(f"{name:<46}{median:>8.2f}s  {target}  {mark}")
    summary = portfolio_summary(t).measures.set_index("measure")["value"]
    w = whale_curve(profitability(t))
    weak = funnel(t).weakest
    print(f"\nchecks: top-1 share {summary['top 1 share']:.1%}, "
          f"HHI {summary['Herfindahl index']:.3f}"
          f"; whale curve peaks at {w.peak / w.total:.0%} of the total after "
          f"{w.peak_accounts:,} accounts, {w.n_unprofitable:,} accounts give back "
          f"{w.given_back:,.0f}; weakest link {weak['from_stage']} -> {weak['to_stage']} "
          f"({weak['lost_share']:.0%} lost)")
    peak = peak_mb()
    print(f"\npeak RSS of the whole run: {peak:,.0f} MB (target < {TARGET_MB:,} MB: "
          f"{'yes' if peak < TARGET_MB else 'NO'})")
    if failed:
        print("over the time target: " + ", ".join(failed))


if __name__ == "__main__":
    main()
