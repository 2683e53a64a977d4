"""Files in and out benchmark (issue 2 §4) on the Maven CRM export and the demo portfolio.

Prints the median of a few runs of: reading the Maven export (85 accounts, 8,800 opportunities),
importing it into a fresh SQLite workspace, importing it again (a no-op), YAML export / read /
import of the resulting 85 dossiers, the Excel export of its tables; the same YAML steps for the
demo portfolio; and the peak memory of one full CRM import. Run: ``python bench/bench_io.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kam import demo
from kam.io import export_excel, export_yaml, import_crm, import_yaml, read_crm_export, read_yaml
from kam.model import tables
from kam.store import Workspace

MAVEN = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/maven-crm")
REPEATS = 3


def timed(label: str, make: Callable[..., Any], repeats: int = REPEATS,
          setup: Callable[[], Any] | None = None) -> Any:
    times, result = [], None
    for _ in range(repeats):
        arg = setup() if setup else None
        start = time.perf_counter()
        result = make() if setup is None else make(arg)
        times.append(time.perf_counter() - start)
    print(f"{label:<58} median {statistics.median(times) * 1000:8.1f} ms "
          f"(min {min(times) * 1000:.1f}, {repeats} runs)")
    return result


def fresh_workspace() -> Workspace:
    return Workspace(tempfile.mkdtemp(prefix="kam-bench-") + "/ws", create=True)


def main() -> None:
    print(f"Maven export: {MAVEN}")
    crm = timed("read_crm_export (85 accounts, 8,800 opportunities)",
                lambda: read_crm_export(MAVEN))
    print(f"  {sum(len(d.deals) for d in crm.dossiers):,} deals in "
          f"{len(crm.dossiers)} dossiers, {len(crm.team.members)} team members")
    ws = timed("import_crm into a fresh SQLite workspace", lambda w: import_crm(w, MAVEN),
               setup=fresh_workspace)
    ws = fresh_workspace()
    import_crm(ws, MAVEN)
    timed("import_crm again (no-op: every account unchanged)", lambda: import_crm(ws, MAVEN))

    out = Path(tempfile.mkdtemp(prefix="kam-bench-"))
    timed("export_yaml of the 85 Maven dossiers (one file each)",
          lambda: export_yaml(ws, out / "maven"))
    size = sum(f.stat().st_size for f in (out / "maven").iterdir())
    print(f"  {size / 1e6:.1f} MB of YAML")
    timed("read_yaml of the 85 files", lambda: read_yaml(out / "maven"))

    def into_fresh(w: Workspace) -> None:
        w.save_team(ws.team())
        import_yaml(w, out / "maven")

    timed("import_yaml of the 85 files into a fresh workspace", into_fresh,
          setup=fresh_workspace)
    timed("export_excel of the Maven tables (7,375 deals)",
          lambda: export_excel(tables(crm.dossiers), out / "maven.xlsx"))
    print(f"  {(out / 'maven.xlsx').stat().st_size / 1e6:.1f} MB workbook")

    dossiers = demo.dossiers()
    timed("export_yaml of the demo (12 dossiers)", lambda: export_yaml(dossiers, out / "demo"))
    timed("read_yaml of the demo", lambda: read_yaml(out / "demo"))

    tracemalloc.start()
    import_crm(fresh_workspace(), MAVEN)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory of one CRM import (tracemalloc): {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
