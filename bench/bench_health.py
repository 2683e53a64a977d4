"""Benchmark: relationship health, deal status, next actions and meeting sheets on a generated
portfolio. Prints medians, sizes and peak memory.

    python bench/bench_health.py            # 1,000 accounts
    python bench/bench_health.py 5000       # another size
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta

from kam.health import health_alerts, health_table, load_health_config, relationship_health
from kam.meeting import meeting_sheet
from kam.model import (
    Account,
    Commitment,
    Deal,
    Dossier,
    Interaction,
    Need,
    Person,
    Project,
    StageChange,
)
from kam.playbook import deal_status, load_playbook, next_actions

TODAY = date(2026, 6, 30)
ROLES = ["entry", "pain", "power", "user", "influencer", "buyer"]
DEPTS = ["Production", "Maintenance", "Purchasing", "Finance", "Management", "Quality"]
STAGES = ["lead", "potential", "sale", "buyer"]
DECISION = ["need recognition", "defining requirements", "evaluating suppliers",
            "proposal and selection", "negotiation and decision", "implementation and review"]


def account(i: int, rng: random.Random) -> Dossier:
    """One account: 25 persons, 400 interactions, 12 commitments, 4 projects, 12 needs, 8 deals."""
    ago = lambda d: TODAY - timedelta(days=d)  # noqa: E731
    persons = [Person(id=f"p{k}", name=f"Person {k}", department=rng.choice(DEPTS),
                      roles=rng.sample(ROLES, rng.randint(0, 2)), influence=rng.random(),
                      left_on=ago(rng.randint(0, 700)) if rng.random() < 0.1 else None,
                      reached_by=["tom"] if rng.random() < 0.3 else [])
               for k in range(25)]
    ids = [p.id for p in persons]
    needs = []
    for k in range(4):
        needs += [Need(id=f"P{k}", title=f"Problem {k}", function=rng.choice(DEPTS),
                       persons=rng.sample(ids, 2), leads_to=[f"C{k}"]),
                  Need(id=f"C{k}", title=f"Criterion {k}", level="criterion",
                       capability=rng.uniform(1, 5), leads_to=[f"E{k}"]),
                  Need(id=f"E{k}", title=f"Effect {k}", level="effect",
                       function=rng.choice(DEPTS), capability=rng.uniform(1, 5))]
    deals = [Deal(id=f"D{k}", title=f"Deal {k}", stage=rng.choice(STAGES),
                  need=f"P{k % 4}", created=ago(rng.randint(30, 400)),
                  for_persons=rng.sample(ids, 2), against_persons=rng.sample(ids, 1),
                  history=[StageChange(stage="lead", on=ago(rng.randint(20, 300)))])
             for k in range(8)]
    return Dossier(
        account=Account(id=f"A{i:05d}", name=f"Account {i}",
                        decision_stage=rng.choice(DECISION)),
        persons=persons, needs=needs, deals=deals,
        interactions=[Interaction(id=f"i{k}", date=ago(rng.randint(0, 900)), kind="meeting",
                                  participants=rng.sample(ids, 2), our_participants=["tom"],
                                  deal=f"D{rng.randrange(8)}")
                      for k in range(400)],
        commitments=[Commitment(id=f"c{k}", description="Promise", due=ago(rng.randint(-60, 300)),
                                status=rng.choice(["open", "done", "done", "broken"]))
                     for k in range(12)],
        projects=[Project(id=f"j{k}", name=f"Project {k}", satisfaction=rng.randint(1, 5),
                          quality=rng.randint(1, 5)) for k in range(4)])


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(n: int) -> None:
    rng = random.Random(7)
    t = time.perf_counter()
    dossiers = [account(i, rng) for i in range(n)]
    print(f"generated {n:,} accounts (25 persons, 400 interactions, 8 deals each) "
          f"in {time.perf_counter() - t:.1f} s")
    cfg, book = load_health_config(), load_playbook()
    one = dossiers[0]
    print(f"relationship_health, one account:  median {timed(lambda: relationship_health(one, TODAY, cfg), 50) * 1e3:7.2f} ms")  # noqa: E501
    print(f"deal_status, one account:          median {timed(lambda: deal_status(one, TODAY, book), 50) * 1e3:7.2f} ms")  # noqa: E501
    print(f"next_actions, one account:         median {timed(lambda: next_actions(one, TODAY, book), 50) * 1e3:7.2f} ms")  # noqa: E501
    print(f"meeting_sheet, 3 persons:          median {timed(lambda: meeting_sheet(one, ['p0', 'p1', 'p2'], TODAY), 20) * 1e3:7.2f} ms")  # noqa: E501
    t = time.perf_counter()
    table = health_table(dossiers, TODAY, cfg)
    elapsed = time.perf_counter() - t
    tracemalloc.start()
    health_table(dossiers, TODAY, cfg)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"health_table, {n:,} accounts:      {elapsed:7.2f} s "
          f"({elapsed / n * 1e3:.2f} ms per account), peak {peak / 2**20:.1f} MiB above the "
          f"dossiers (tracemalloc), median score {table['score'].median():.1f}")
    t = time.perf_counter()
    alerts = health_alerts(dossiers[: n // 10 or 1], TODAY, cfg)
    print(f"health_alerts, {n // 10 or 1:,} accounts:     {time.perf_counter() - t:7.2f} s, "
          f"{len(alerts):,} alerts")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
