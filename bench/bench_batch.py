"""Benchmark: ``kam batch`` against the naive way of publishing one HTML report per account.

The naive way is a shell loop, one account after the other: the ``papermill`` CLI runs the
account-plan notebook (a fresh kernel each time), then ``jupyter nbconvert --to html`` converts
it (a fresh process each time, stock template). ``kam batch`` runs the same notebook for the
same accounts with worker processes that keep a kernel and convert in-process.

Portfolios of N = 12, 50 and 200 accounts are generated in temporary workspaces (copies of the
demo dossiers with new ids and names). Both ways render the ``plan`` report of every account,
cold (empty output folder). The naive loop runs fully for 12 and 50 accounts; for 200 its
per-report cost is *extrapolated* from the 50-account run (said so in the output). Warm re-runs
(nothing changed) and incremental ones (10% of the accounts changed) are reported separately.

Run: ``python bench/bench_batch.py`` (several minutes; ``--quick`` = N 12 only).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kam import demo
from kam.config import notebooks_dir
from kam.reports.batch import run_batch
from kam.store import Workspace

AS_OF = demo.TODAY.isoformat()
BIN = Path(sys.executable).parent


def build_portfolio(folder: Path, n: int) -> list[str]:
    """A workspace of ``n`` accounts: the demo dossiers again and again under new ids/names."""
    base = demo.dossiers()
    ws = Workspace(folder, create=True)
    ws.save_team(demo.team())
    copies = []
    for i in range(n):
        d = base[i % len(base)].model_copy(deep=True)
        d.account.id = f"{d.account.id[:8]}-{i:03d}"
        d.account.name = f"{d.account.name} #{i:03d}"
        copies.append(d)
    ws.save_many(copies, author="bench", message="generated")
    ids = ws.account_ids()
    ws.close()
    return ids


def naive(workspace: Path, ids: list[str], out: Path) -> float:
    """The shell loop: papermill CLI + jupyter nbconvert CLI per account, serially."""
    out.mkdir(parents=True)
    nb = notebooks_dir() / "account_plan.ipynb"
    start = time.perf_counter()
    for account in ids:
        executed = out / f"plan-{account}.ipynb"
        subprocess.run([str(BIN / "papermill"), str(nb), str(executed), "-k", "python3",
                        "-p", "workspace", str(workspace), "-p", "account_id", account,
                        "-p", "as_of", AS_OF, "--no-progress-bar"],
                       check=True, capture_output=True)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", "--log-level", "WARN",
                        str(executed)], check=True, capture_output=True)
    return time.perf_counter() - start


def ours(workspace: Path, out: Path, workers: int) -> tuple[float, int]:
    start = time.perf_counter()
    result = run_batch(workspace, out, kinds=("plan",), portfolio=False, workers=workers,
                       as_of=AS_OF, progress=False)
    seconds = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(result.summary())
    return seconds, int((result.reports["status"] == "rendered").sum())


def touch(workspace: Path, ids: list[str]) -> None:
    with Workspace(workspace) as ws:
        for account in ids:
            d = ws.load(account)
            d.account.notes = f"changed at {time.time()}"
            ws.save(d, author="bench", message="touched")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 12 only")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    sizes = [12] if args.quick else [12, 50, 200]
    naive_sizes = {12, 50}
    root = Path(tempfile.mkdtemp(prefix="kam-bench-batch-"))
    print(f"kam batch vs papermill CLI + jupyter nbconvert CLI, plan report per account; "
          f"{os.cpu_count()} cores, {args.workers} workers; scratch: {root}")
    rows = []
    per_naive_50 = None
    try:
        for n in sizes:
            ws = root / f"ws-{n}"
            ids = build_portfolio(ws, n)
            cold, rendered = ours(ws, root / f"ours-{n}", args.workers)
            assert rendered == n
            warm, _ = ours(ws, root / f"ours-{n}", args.workers)
            changed = ids[:: 10][: max(1, n // 10)]
            touch(ws, changed)
            incr, redone = ours(ws, root / f"ours-{n}", args.workers)
            sizes_kb = [p.stat().st_size / 1024 for p in (root / f"ours-{n}").glob("plan-*.html")]
            if n in naive_sizes:
                naive_s = naive(ws, ids, root / f"naive-{n}")
                per_naive = naive_s / n
                note = "measured"
                if n == 50:
                    per_naive_50 = per_naive
            else:
                per_naive = per_naive_50 or float("nan")
                naive_s = per_naive * n
                note = "extrapolated from N=50"
            rows.append((n, naive_s, per_naive, note, cold, cold / n, warm, incr, redone,
                         max(sizes_kb), statistics.median(sizes_kb)))
            print(f"  N={n}: naive {naive_s:.1f} s ({note}), kam batch cold {cold:.1f} s, "
                  f"warm {warm:.2f} s, incremental {incr:.1f} s ({redone} redone)", flush=True)
    finally:
        js = root / "ours-12" / "plotly.min.js"
        js_kb = js.stat().st_size / 1024 if js.exists() else float("nan")
        shutil.rmtree(root, ignore_errors=True)

    print()
    print(f"{'N':>4} {'naive s':>9} {'naive s/rep':>12} {'batch s':>8} {'batch s/rep':>12} "
          f"{'speed-up':>9} {'warm s':>7} {'incr s':>7} {'redone':>6} {'max KB':>7} "
          f"{'median KB':>9}  naive")
    for (n, naive_s, per_naive, note, cold, per_ours, warm, incr, redone, kb_max,
         kb_med) in rows:
        print(f"{n:>4} {naive_s:>9.1f} {per_naive:>12.2f} {cold:>8.1f} {per_ours:>12.3f} "
              f"{per_naive / per_ours:>8.1f}x {warm:>7.2f} {incr:>7.1f} {redone:>6} "
              f"{kb_max:>7.0f} {kb_med:>9.0f}  {note}")
    by_n = {r[0]: r[5] for r in rows}
    if 50 in by_n and 200 in by_n:
        print(f"per-report cost, 200 vs 50 accounts: {by_n[200] / by_n[50]:.2f}x "
              "(target: within 1.2x)")
    print(f"shared plotly.min.js beside the reports: {js_kb:.0f} KB (written once per folder)")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: this process {me:.0f} MB, largest child process {children:.0f} MB")


if __name__ == "__main__":
    main()
