"""Workspace store benchmark (issue 2): 1,000 generated accounts in a real SQLite file.

Prints: load of all dossiers (target < 1 s), save of one revision (target < 20 ms), and history /
as-of load / diff of an account with 500 revisions. Run: ``python bench/bench_store.py``.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from kam.model import (
    Account,
    CostLine,
    Deal,
    Dossier,
    Interaction,
    Need,
    Person,
    RevenueLine,
)
from kam.store import Workspace

N_ACCOUNTS = 1_000
N_REVISIONS = 500


def make_dossier(i: int, rng: random.Random) -> Dossier:
    """A mid-sized dossier: 6 persons, 8 needs, 8 deals, 12 interactions, 36 months of revenue
    lines and 72 cost lines."""
    aid = f"ACC-{i:04d}"
    months = [f"{y}-{m:02d}" for y in (2024, 2025, 2026) for m in range(1, 13)]
    return Dossier(
        account=Account(
            id=aid,
            name=f"Account {i}",
            phone="+1 555 0100",
            address="Main St 1",
            industry=rng.choice(["steel", "food", "chemicals"]),
            category="B",
        ),
        persons=[
            Person(
                id=f"P{j}",
                name=f"Person {j}",
                position="Engineer",
                department=rng.choice(["production", "purchasing", "finance"]),
                roles=["entry"] if j == 0 else [],
                influence=rng.random(),
            )
            for j in range(6)
        ],
        needs=[
            Need(
                id=f"N{j}",
                title=f"Need {j}",
                function="production",
                significance=rng.randint(1, 5),
                capability=rng.randint(1, 5),
            )
            for j in range(8)
        ],
        deals=[
            Deal(
                id=f"D{j}",
                title=f"Deal {j}",
                stage="sale",
                planned_budget=rng.uniform(1e4, 1e6),
                probability=rng.random(),
            )
            for j in range(8)
        ],
        interactions=[
            Interaction(
                id=f"I{j}",
                date=date(2025, 1 + j % 12, 1 + j),
                kind="call",
                participants=["P0"],
                summary="follow-up call",
            )
            for j in range(12)
        ],
        revenue=[
            RevenueLine(
                period=m,
                product_group="drives",
                revenue=rng.uniform(1e4, 1e5),
                cogs=rng.uniform(5e3, 5e4),
            )
            for m in months
        ],
        costs=[
            CostLine(period=m, category=c, amount=rng.uniform(100, 5000))
            for m in months
            for c in ("logistics", "sales visits")
        ],
    )


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws", create=True)
        dossiers = [make_dossier(i, rng) for i in range(N_ACCOUNTS)]
        t0 = time.perf_counter()
        ws.save_many(dossiers, author="bench")
        t_import = time.perf_counter() - t0
        size_mb = (Path(tmp) / "ws" / "workspace.db").stat().st_size / 1e6

        load_all = timed(ws.load_all, 5)
        target = ws.load("ACC-0001")

        def save_one() -> None:
            target.account.notes = f"note {rng.random()}"
            ws.save(target, author="bench")

        saves = timed(save_one, 50)

        deep = ws.load("ACC-0002")
        for k in range(N_REVISIONS - 1):
            deep.deals[0].probability = (k % 100) / 100
            ws.save(deep, author="bench")
        hist = timed(lambda: ws.history("ACC-0002"), 10)
        as_of = timed(lambda: ws.load("ACC-0002", as_of=250), 10)
        diff = timed(lambda: ws.diff("ACC-0002", 1, N_REVISIONS), 10)

        print(
            f"workspace: {N_ACCOUNTS} accounts, {size_mb:.1f} MB SQLite file "
            f"(bulk import in one transaction: {t_import:.2f} s)"
        )
        print(
            f"load all dossiers      median {statistics.median(load_all):.3f} s  "
            f"(min {min(load_all):.3f}, target < 1 s)"
        )
        print(
            f"save one revision      median {statistics.median(saves) * 1e3:.1f} ms "
            f"(p90 {sorted(saves)[44] * 1e3:.1f} ms, target < 20 ms)"
        )
        print(f"history, {N_REVISIONS} revisions median {statistics.median(hist) * 1e3:.1f} ms")
        print(f"load as_of revision 250 median {statistics.median(as_of) * 1e3:.1f} ms")
        print(f"diff rev 1 vs {N_REVISIONS}      median {statistics.median(diff) * 1e3:.1f} ms")
        ws.close()


if __name__ == "__main__":
    main()
