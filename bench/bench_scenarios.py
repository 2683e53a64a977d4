"""Benchmark of the scenario step statistics (DOMAIN.md §6) on a generated step log: 5,000
accounts, 300,000 interactions (each account runs "first-contact", its deals run
"offer-to-contract" of templates/scenarios.yaml).

    python bench/bench_scenarios.py [--runs 3] [--rows 300000]

Prints the median wall time of each analysis over a few runs against the 2 s target.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
from timing import timed

from kam.model.scenario_config import ENDS, ScenarioConfig, load_scenarios
from kam.scenarios import LOG_COLUMNS, reminders, scenario_status, step_statistics

TARGET_S = 2.0
TODAY = date(2026, 6, 30)


def simulate(cfg: ScenarioConfig, scenario: str, n_runs: int, rng: np.random.Generator,
             max_steps: int = 30) -> pd.DataFrame:
    """``n_runs`` runs of ``scenario``, simulated together: at each round every run still going
    takes a random result of its step (vectorised per step, no loop over rows)."""
    s = cfg.scenarios[scenario]
    steps = list(s.steps)
    code = {sid: i for i, sid in enumerate(steps)}
    results = [list(s.steps[sid].results) for sid in steps]
    leads = [[code.get(s.steps[sid].results[r], -1) for r in results[i]]
             for i, sid in enumerate(steps)]
    due = np.array([s.steps[sid].due_days for sid in steps])
    at = np.full(n_runs, code[s.start])
    day = rng.integers(0, 365, n_runs)  # days after 2025-06-01
    alive = np.ones(n_runs, dtype=bool)
    parts = []
    for _ in range(max_steps):
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        pick = np.empty(len(idx), dtype=np.int64)
        nxt = np.empty(len(idx), dtype=np.int64)
        cur = at[idx]
        for i in range(len(steps)):
            here = cur == i
            k = rng.integers(0, len(results[i]), int(here.sum()))
            pick[here] = k
            nxt[here] = np.asarray(leads[i])[k]
        day[idx] += due[cur] + rng.integers(0, 4, len(idx))
        parts.append(pd.DataFrame({"run": idx, "day": day[idx], "step": cur, "result": pick}))
        at[idx] = np.where(nxt >= 0, nxt, at[idx])
        alive[idx] = nxt >= 0
    out = pd.concat(parts, ignore_index=True)
    step_names = np.array(steps, dtype=object)
    result_names = np.array([r for rs in results for r in rs], dtype=object)
    offset = np.cumsum([0] + [len(r) for r in results[:-1]])
    out["step"], out["result"] = step_names[out["step"]], result_names[
        offset[out["step"]] + out["result"]]
    out["scenario"] = scenario
    return out


def generate(rows: int = 300_000, accounts: int = 5_000, seed: int = 7) -> pd.DataFrame:
    """A step log of about ``rows`` interactions over ``accounts`` accounts."""
    rng = np.random.default_rng(seed)
    cfg = load_scenarios()
    first = simulate(cfg, "first-contact", accounts, rng)
    per_deal = 1.8  # fewer than the steps of an offer-to-contract run: enough rows
    deals = simulate(cfg, "offer-to-contract", int((rows - len(first)) / per_deal), rng)
    first["account"] = first["run"]
    first["deal_id"] = None
    deals["account"] = deals["run"] % accounts
    deals["deal_id"] = "D" + deals["run"].astype(str)
    log = pd.concat([first, deals], ignore_index=True)
    # the steps after TODAY have not happened yet: those runs are open
    log = log[pd.Timestamp("2025-06-01") + pd.to_timedelta(log["day"], unit="D")
              <= pd.Timestamp(TODAY)].head(rows)
    acc = np.char.add("A", log["account"].to_numpy().astype(str)).astype(object)
    return pd.DataFrame({
        "account_id": acc,
        "deal_id": log["deal_id"].to_numpy(object),
        "interaction_id": np.char.add("I", np.arange(len(log)).astype(str)).astype(object),
        "date": pd.Timestamp("2025-06-01") + pd.to_timedelta(log["day"], unit="D"),
        "scenario": log["scenario"].to_numpy(object),
        "step": log["step"].to_numpy(object),
        "result": log["result"].to_numpy(object),
        "manager": np.char.add("m", (log["account"].to_numpy() % 50).astype(str)).astype(object),
    })[LOG_COLUMNS]




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=300_000)
    args = parser.parse_args()
    start = time.perf_counter()
    log = generate(args.rows)
    print(f"step log: {log['account_id'].nunique():,} accounts, {len(log):,} interactions, "
          f"{log['deal_id'].nunique():,} deals (generated in {time.perf_counter() - start:.1f}s)")
    cfg = load_scenarios()
    cases: list[tuple[str, Callable[[], object]]] = [
        ("step statistics", lambda: step_statistics(log, cfg)),
        ("step statistics per manager", lambda: step_statistics(log, cfg, by="manager")),
        ("step statistics per quarter", lambda: step_statistics(log, cfg, by="period",
                                                                freq="Q")),
        ("status of every open run", lambda: scenario_status(log, TODAY, cfg)),
        ("reminders per manager", lambda: reminders(log, TODAY, cfg, by="manager")),
    ]
    print(f"\n{'analysis':<36}{'median':>9}  {'target':>7}  ok   (runs: {args.runs})")
    failed = []
    for name, fn in cases:
        median, _ = timed(fn, args.runs)
        ok = median < TARGET_S
        failed += [] if ok else [name]
        print(f"{name:<36}{median:>8.2f}s  {TARGET_S:>6}s  {'yes' if ok else 'NO'}")
    s = step_statistics(log, cfg)
    weak = s.weak_steps
    runs = s.runs["outcome"].value_counts()
    ends = ", ".join(f"{k} {runs.get(k, 0):,}" for k in (*ENDS, "open"))
    weakest = "; ".join(f"{r.scenario}: {r.step} ({r.lost_share:.0%} lost)"
                        for r in weak.itertuples())
    print(f"\nchecks: {len(s.runs):,} runs ({ends}); weak steps: {weakest}")
    if failed:
        print("over the time target: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
