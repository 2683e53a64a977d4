"""Soak benchmark: many consecutive reports in one reused kernel, looking for stalls.

Reports used to stall now and then for the whole cell time-out (30 s): in the account plan's
meeting-preparation cell (``widgets.interact`` draws into an output widget), nbclient's
output-widget mimic sent the widget's state back to the kernel on the shell channel from inside
its IOPub handler, while the execute reply was awaited on the same socket. jupyter_client sends
through a plain view of the asyncio socket, so the send could swallow the edge-triggered
wake-up of a reply that had just arrived; the reply then sat unread until the time-out. kam's
client keeps the widget's outputs but sends nothing back (``kam.reports.render._OutputWidget``).

A workspace of ``n / 2`` accounts (the demo dossiers again and again, as in bench_batch.py) gets
its plan and profitability reports rendered by ``run_batch`` with one worker: one after the
other, in one kernel session (restarted every 100 runs, as in a batch). Printed: the time per
report (all, and without the reports that started a kernel), and per cell the *wait*: how much
longer the client took than the kernel was busy (papermill's cell duration minus the kernel's
busy-to-idle time). A stall is a wait over 5 s. ``--unfixed`` puts nbclient's own mimic back, to
see the stalls.

Run: ``python bench/bench_soak.py`` (500 reports, about 20-25 minutes on 2 cores);
``-n 100 --unfixed`` shows the stalls in a few minutes.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_batch import AS_OF, build_portfolio

from kam.reports import render
from kam.reports.batch import run_batch

STALL = 5.0
"""Seconds a cell may wait beyond its kernel time before it counts as a stall."""


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def cell_times(notebook: Path) -> list[tuple[float, float]]:
    """Per executed code cell: the kernel's busy-to-idle time, and the client's wait beyond it
    (papermill's duration of the cell minus that time)."""
    times = []
    for cell in nbformat.read(str(notebook), as_version=4).cells:
        took = cell.metadata.get("papermill", {}).get("duration")
        ex = cell.metadata.get("execution", {})
        if took is None or "iopub.status.busy" not in ex or "iopub.status.idle" not in ex:
            continue
        busy = _ts(ex["iopub.status.idle"]) - _ts(ex["iopub.status.busy"])
        times.append((busy, took - busy))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="reports (default 500)")
    parser.add_argument("--unfixed", action="store_true",
                        help="nbclient's output-widget mimic (sends on the shell channel)")
    args = parser.parse_args()
    if args.unfixed:
        from nbclient.output_widget import OutputWidget

        render._OutputWidget._publish_msg = OutputWidget._publish_msg  # type: ignore[method-assign]
    root = Path(tempfile.mkdtemp(prefix="kam-bench-soak-"))
    try:
        build_portfolio(root / "ws", math.ceil(args.n / 2))
        load = os.getloadavg()[0]
        start = time.perf_counter()
        result = run_batch(root / "ws", root / "out", kinds=("plan", "profitability"),
                           portfolio=False, workers=1, progress=False, as_of=AS_OF)
        wall = time.perf_counter() - start
        rows = result.reports.head(args.n)
        cells = {row.name: cell_times(Path(row.notebook)) for row in rows.itertuples()}
    finally:
        shutil.rmtree(root, ignore_errors=True)

    seconds = list(rows["seconds"])
    # the kernel session restarts its kernel every 100 runs: those reports include its start
    started = set(range(0, len(seconds), 100))
    steady = [s for i, s in enumerate(seconds) if i not in started]
    waits = [(wait, name) for name, times in cells.items() for _, wait in times]
    worst_wait, worst_name = max(waits)
    stalls = sum(1 for wait, _ in waits if wait > STALL)
    slow = max((i for i in range(len(seconds)) if i not in started), key=seconds.__getitem__)
    slow_name = rows["name"].iloc[slow]
    busy = sum(b for b, _ in cells[slow_name])
    waited = sum(w for _, w in cells[slow_name])
    print(f"{len(seconds)} consecutive reports (plan + profitability), one kernel session, "
          f"{'nbclient output-widget mimic (unfixed)' if args.unfixed else 'kam client'}; "
          f"{os.cpu_count()} cores, load {load:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    print(f"failed reports: {int((rows['status'] == 'failed').sum())}")
    p95 = statistics.quantiles(seconds, n=20, method="inclusive")[-1]
    print(f"wall {wall:.0f} s; per report: median {statistics.median(seconds):.2f} s, "
          f"p95 {p95:.2f} s, max {max(seconds):.2f} s")
    print(f"max per report without the {len(started)} that started a kernel: {max(steady):.2f} s"
          f"; reports over {STALL:.0f} s: {sum(s > STALL for s in steady)}")
    print(f"  slowest: {slow_name} {seconds[slow]:.2f} s = kernel busy {busy:.2f} s + waits "
          f"{waited:.2f} s + papermill and HTML {seconds[slow] - busy - waited:.2f} s")
    print(f"kernel-start reports: {', '.join(f'{seconds[i]:.1f}' for i in sorted(started))} s")
    print(f"cells: {len(waits)}; max wait beyond the kernel's time: {worst_wait:.2f} s "
          f"({worst_name}); stalls (wait > {STALL:.0f} s): {stalls}")


if __name__ == "__main__":
    main()
