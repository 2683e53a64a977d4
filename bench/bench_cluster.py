"""Benchmark: ``kam batch --cluster local:2`` against the batch's own process pool (2 workers).

Portfolios of generated accounts (the demo dossiers again and again under new ids, as in
``bench_batch.py``) are rendered cold (``force``), ``plan`` report per account:

1. side by side, in one run: the same N reports with the process pool (``workers=2``) and on a
   ``distributed.LocalCluster`` of 2 workers (``cluster="local:2"``, started by the batch and
   counted in its time), alternately, ``--rounds`` times each; the overhead of the cluster is
   its median time over the pool's (target: under 10%);
2. the cluster's cost per report as N grows (target: flat): wall time / N, and the marginal
   cost between consecutive sizes (which leaves out the cluster's and the kernels' start).

Run: ``python bench/bench_cluster.py`` (N = 200 side by side, 50 / 200 / 1,000 for the growth;
about half an hour on 2 cores) or ``--quick`` (N = 30 side by side, 10 / 30 / 60; a few
minutes).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import AS_OF, build_portfolio

from kam.reports.batch import run_batch


def timed(workspace: Path, out: Path, **where: Any) -> tuple[float, int]:
    """Seconds of one cold batch of the plan reports; how many it rendered."""
    start = time.perf_counter()
    result = run_batch(workspace, out, kinds=("plan",), portfolio=False, as_of=AS_OF,
                       progress=False, force=True, **where)
    seconds = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(result.summary())
    return seconds, int((result.reports["status"] == "rendered").sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="N = 30 side by side, 10 / 30 / 60 for the growth")
    parser.add_argument("--rounds", type=int, default=None,
                        help="runs of each way side by side (default 2; 1 with --quick)")
    args = parser.parse_args()
    side = 30 if args.quick else 200
    growth = [10, 30, 60] if args.quick else [50, 200, 1000]
    rounds = args.rounds or (1 if args.quick else 2)
    root = Path(tempfile.mkdtemp(prefix="kam-bench-cluster-"))
    print(f"kam batch: process pool (2 workers) vs LocalCluster (2 workers), plan report per "
          f"account; {os.cpu_count()} cores; scratch: {root}", flush=True)
    try:
        workspaces = {}
        for n in sorted({side, *growth}):
            workspaces[n] = root / f"ws-{n}"
            build_portfolio(workspaces[n], n)

        pool_s, dask_s = [], []
        for r in range(rounds):
            s, done = timed(workspaces[side], root / "pool", workers=2)
            assert done == side
            pool_s.append(s)
            s, done = timed(workspaces[side], root / "dask", cluster="local:2")
            assert done == side
            dask_s.append(s)
            print(f"  round {r + 1}: pool {pool_s[-1]:.1f} s, cluster {dask_s[-1]:.1f} s",
                  flush=True)
        pool, dask = statistics.median(pool_s), statistics.median(dask_s)

        per = {}
        for n in growth:
            if n == side:
                per[n] = dask
            else:
                per[n], done = timed(workspaces[n], root / f"dask-{n}", cluster="local:2")
                assert done == n
            print(f"  cluster, N={n}: {per[n]:.1f} s", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print()
    print(f"side by side, N={side}, median of {rounds}:")
    print(f"  process pool (2 workers) {pool:8.1f} s  {pool / side:6.3f} s/report")
    print(f"  LocalCluster (2 workers) {dask:8.1f} s  {dask / side:6.3f} s/report")
    print(f"  cluster overhead: {100 * (dask / pool - 1):+.1f}% (target: under 10%)")
    print()
    print(f"{'N':>6} {'cluster s':>10} {'s/report':>9} {'marginal s/report':>18}")
    previous = None
    for n in growth:
        marginal = ("" if previous is None
                    else f"{(per[n] - per[previous]) / (n - previous):18.3f}")
        print(f"{n:>6} {per[n]:>10.1f} {per[n] / n:>9.3f} {marginal:>18}")
        previous = n
    first, last = growth[0], growth[-1]
    print(f"s/report, N={last} vs N={first}: {per[last] / last / (per[first] / first):.2f}x "
          "(flat or falling: the fixed start is spread over more reports)")


if __name__ == "__main__":
    main()
