"""Lean revisions at scale, on SQLite and PostgreSQL side by side.

A store of 5,000 accounts with 200 transactional lines each (1,000,000 revenue, cost, activity
and budget lines over 36 months) and 50 revisions per account. Prints, per backend:

- what a one-field edit of a dossier with 1,000 lines adds to the store (target < 5 KB): the
  bytes of the rows written, and the growth of the database over 100 such real saves;
- ``ws.tables()``, the portfolio tables of every account's newest revision (target < 3 s for
  ``load_all`` + ``tables``; ``ws.tables()`` is that, reading each account's lines from its one
  row of line columns), and for comparison ``tables(ws.load_all())``, which builds a record per
  line;
- ``kam portfolio`` end to end, a new process (target < 5 s);
- for scale, what the same edit would add if the revision held the whole dossier (as before).

Revision 1 of every account is a real ``save_many`` (checked at the door like an import).
Revisions 2..50 are one-field edits (the account's notes) written in bulk by SQL exactly as a
save writes them -- one lean revision row, no line row -- because 245,000 real saves would take
most of an hour; the real save of such an edit is measured on its own above.
The PostgreSQL server is a throwaway one started from the machine's binaries (tests/pgserver.py).

    python bench/bench_lean_store.py            # 5,000 accounts
    python bench/bench_lean_store.py --quick    # 500 accounts (100,000 lines)
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text, update

from kam.model import (
    Account,
    ActivityLine,
    Budget,
    CostLine,
    Deal,
    Dossier,
    Person,
    RevenueLine,
    Team,
    TeamMember,
    tables,
)
from kam.store import Workspace
from kam.store.lines import split
from kam.store.schema import documents, lines, revisions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from pgserver import PgServer

MONTHS = [f"{y}-{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13)]
GROUPS = ["drives", "pumps", "bearings"]
KAMS = [f"kam{i}" for i in range(20)]


def make_dossier(i: int, rng: random.Random, n_lines: int = 200) -> Dossier:
    """An account with ``n_lines`` lines: per month 3 revenue and 2 cost lines (180 for 36
    months), then activity lines and budgets up to ``n_lines``."""
    revenue, costs, activities, budgets = [], [], [], []
    for k in range(n_lines):
        if k < 180:
            m, slot = MONTHS[k // 5], k % 5
            if slot < 3:
                v = rng.uniform(1e3, 1e5) * (20 if i % 50 == 0 else 1)
                revenue.append(RevenueLine(period=m, product=f"P{slot}",
                                           product_group=GROUPS[slot], revenue=round(v, 2),
                                           cogs=round(v * 0.6, 2), list_value=round(v * 1.1, 2),
                                           quantity=10))
            else:
                costs.append(CostLine(period=m, category=("logistics", "sales visits")[slot - 3],
                                      amount=round(rng.uniform(100, 5000), 2)))
        elif k < 192:
            activities.append(ActivityLine(period=MONTHS[(k - 180) * 3], activity="order",
                                           count=rng.randint(1, 9)))
        else:
            budgets.append(Budget(period=MONTHS[(k - 192) * 4],
                                  category=("logistics", "sales visits")[k % 2],
                                  amount=5_000.0))
    return Dossier(
        account=Account(id=f"ACC-{i:05d}", name=f"Account {i}", phone="+1 555 0100",
                        address="Main St 1", industry=rng.choice(["steel", "food"]),
                        category="B", region=rng.choice(["North", "South"]),
                        kam=KAMS[i % len(KAMS)], notes=""),
        persons=[Person(id=f"P{j}", name=f"Person {j}", position="Buyer") for j in range(3)],
        deals=[Deal(id=f"D{j}", title=f"Deal {j}", stage="sale", manager=KAMS[i % len(KAMS)],
                    planned_budget=rng.uniform(1e4, 1e6), probability=0.5) for j in range(3)],
        revenue=revenue, costs=costs, activities=activities, budgets=budgets,
    )


def big_dossier(rng: random.Random) -> Dossier:
    """The edited account of the size target: 1,000 lines (600 revenue, 400 cost)."""
    d = make_dossier(99_999, rng, n_lines=0)
    d.revenue = [RevenueLine(period=MONTHS[k % 36], product=f"P{k % 50}", product_group="drives",
                             revenue=1000.0 + k, cogs=600.0) for k in range(600)]
    d.costs = [CostLine(period=MONTHS[k % 36], category="logistics", amount=10.0 + k)
               for k in range(400)]
    return d


def settle(ws: Workspace) -> None:
    """Fold SQLite's write-ahead log into the file (its pages are rewritten per commit and
    reused); let PostgreSQL update its statistics."""
    if ws.location.startswith("postgresql"):
        with ws.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        return
    ws.engine.dispose()
    with sqlite3.connect(Path(ws.location) / "workspace.db") as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def store_bytes(ws: Workspace) -> int:
    """The size of the database on disk (SQLite file + WAL; PostgreSQL tables + indexes)."""
    if ws.location.startswith("postgresql"):
        with ws.engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )).scalar_one())
    folder = Path(ws.location)
    return sum(p.stat().st_size for p in folder.glob("workspace.db*") if p.is_file()
               and not p.name.endswith(".lock"))


def build(location: str, n_accounts: int, n_revisions: int) -> dict[str, float]:
    rng = random.Random(7)
    out: dict[str, float] = {}
    ws = Workspace(location, create=True)
    ws.save_team(Team(members=[TeamMember(id=k, name=f"KAM {k}") for k in KAMS]))
    t0 = time.perf_counter()
    for start in range(0, n_accounts, 500):
        ws.save_many([make_dossier(i, rng) for i in range(start, min(start + 500, n_accounts))],
                     author="bench", message="import")
    out["import"] = time.perf_counter() - t0
    # Revisions 2..n: one-field edits, as a save writes them (lean row, no line row).
    t0 = time.perf_counter()
    base = datetime(2026, 1, 1)
    with ws.engine.begin() as conn:
        heads = conn.execute(select(revisions.c.key, revisions.c.data).where(
            revisions.c.kind == "account")).all()
        rows = []
        for key, lean in heads:
            for n in range(2, n_revisions + 1):
                rows.append({"kind": "account", "key": key, "number": n, "based_on": n - 1,
                             "author": "bench", "created_at": base + timedelta(hours=n),
                             "message": "notes",
                             "data": lean.replace('"notes":""', f'"notes":"edit {n}"', 1)})
                if len(rows) >= 20_000:
                    conn.execute(insert(revisions), rows)
                    rows = []
        if rows:
            conn.execute(insert(revisions), rows)
        conn.execute(update(documents).where(documents.c.kind == "account")
                     .values(head=n_revisions))
    out["revisions"] = time.perf_counter() - t0
    with ws.engine.connect() as conn:
        out["line_rows"] = conn.execute(select(func.count()).select_from(lines)).scalar_one()
        out["revision_rows"] = conn.execute(select(func.count()).select_from(revisions)
                                            ).scalar_one()
    ws.close()
    return out


def measure(location: str, repeat: int) -> dict[str, float]:
    rng = random.Random(11)
    out: dict[str, float] = {}
    ws = Workspace(location)
    # One-field edits of a dossier with 1,000 lines: bytes of the rows written, and growth.
    ws.save(big_dossier(rng), author="bench")
    full = len(ws.load("ACC-99999").model_dump_json())
    rows_before = _row_bytes(ws, "ACC-99999")
    settle(ws)
    size_before = store_bytes(ws)
    edits = 100
    for k in range(edits):
        d = ws.load("ACC-99999")
        d.account.notes = f"edit {k}"
        ws.save(d, author="bench")
    out["edit_row_bytes"] = (_row_bytes(ws, "ACC-99999") - rows_before) / edits
    settle(ws)
    out["edit_growth_bytes"] = (store_bytes(ws) - size_before) / edits
    out["whole_dossier_bytes"] = full
    out["store_mb"] = store_bytes(ws) / 1e6

    def load_and_flatten() -> None:
        ws.tables()

    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        load_and_flatten()
        times.append(time.perf_counter() - t0)
    out["load_all_tables"] = statistics.median(times)
    t0 = time.perf_counter()
    tables(ws.load_all())
    out["records"] = time.perf_counter() - t0
    ws.close()
    kam = str(Path(sys.executable).with_name("kam"))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run([kam, "portfolio", "-w", location], capture_output=True, text=True,
                              env={**os.environ, "COLUMNS": "200"})
        times.append(time.perf_counter() - t0)
        if proc.returncode:
            raise SystemExit(f"kam portfolio failed: {proc.stderr[-2000:]}")
    out["portfolio_cli"] = statistics.median(times)
    return out


def _row_bytes(ws: Workspace, key: str) -> int:
    """Bytes of the stored data of an account: its revision rows and line rows."""
    with ws.engine.connect() as conn:
        r = conn.execute(select(func.coalesce(func.sum(
            func.length(revisions.c.data) + func.length(revisions.c.message)
            + func.length(revisions.c.author) + 40), 0)).where(revisions.c.key == key)
        ).scalar_one()
        li = conn.execute(select(func.coalesce(func.sum(func.length(lines.c.data) + 60), 0))
                          .where(lines.c.account == key)).scalar_one()
    return int(r) + int(li)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="500 accounts instead of 5,000")
    args = ap.parse_args()
    n_accounts = 500 if args.quick else 5_000
    n_revisions = 50
    print(f"{n_accounts:,} accounts x 200 lines = {n_accounts * 200:,} lines, "
          f"{n_revisions} revisions per account (median of 3)\n")
    split(make_dossier(0, random.Random(1)))  # warm up imports
    results = {}
    server = PgServer().start()
    try:
        server.wait_ready()
        with tempfile.TemporaryDirectory() as tmp:
            for name, location in (("SQLite", str(Path(tmp) / "ws")),
                                   ("PostgreSQL", server.new_database())):
                built = build(location, n_accounts, n_revisions)
                results[name] = {**built, **measure(location, 3)}
                print(f"{name}: built in {built['import']:.0f} s + {built['revisions']:.0f} s")
    finally:
        server.stop()
    rows = [
        ("line rows / revision rows", lambda r: f"{r['line_rows']:,.0f} / "
                                                 f"{r['revision_rows']:,.0f}", ""),
        ("store size", lambda r: f"{r['store_mb']:,.0f} MB", ""),
        ("one-field edit of 1,000 lines: rows written", lambda r: f"{r['edit_row_bytes']:,.0f} B",
         "< 5 KB"),
        ("  database growth per edit (100 saves)", lambda r: f"{r['edit_growth_bytes']:,.0f} B",
         "< 5 KB"),
        ("  the whole dossier, as a revision held it", lambda r:
         f"{r['whole_dossier_bytes']:,.0f} B", ""),
        ("ws.tables() (load_all + tables)", lambda r: f"{r['load_all_tables']:.2f} s", "< 3 s"),
        ("  tables(ws.load_all()), a record per line", lambda r: f"{r['records']:.2f} s", ""),
        ("kam portfolio, end to end", lambda r: f"{r['portfolio_cli']:.2f} s", "< 5 s"),
    ]
    print(f"\n{'':46}{'SQLite':>22}{'PostgreSQL':>22}   target")
    for label, fmt, target in rows:
        print(f"{label:46}{fmt(results['SQLite']):>22}{fmt(results['PostgreSQL']):>22}   {target}")
    print(f"\nmeasured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
