"""Need map and buying center benchmark (issue 3).

A generated need map of 500 nodes (225 problems, 150 criteria, 125 effects, 12 departments) and
a buying center of 200 persons (about 500 links, 8 of our team members). Prints the median of a
few runs of validation, the tables, entry chains, red flags, brokers and figure building, plus
peak memory. Run: ``python bench/bench_needmap_buying_center.py``.

Chains cannot explode: a well-formed map has at most one criterion per chain, so the count is
bounded by (problem->criterion edges x effect fan-out of the criterion) + problem->effect edges,
and :meth:`NeedMap.chains` enumerates exactly that (it follows upward edges only).
"""

from __future__ import annotations

import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from kam.buying_center import BuyingCenter
from kam.figures.buying_center import buying_center_figure
from kam.figures.needmap import needmap_figure
from kam.model import Need, Person, PersonLink
from kam.needmap import NeedMap

REPEATS = 5
SEED = 20260311


def make_needs(n: int, rng: random.Random, departments: int = 12) -> list[Need]:
    """A well-formed map: every problem leads to 1-3 criteria (and sometimes an effect), every
    criterion to 1-2 effects; every effect reached, every criterion on a chain."""
    n_p, n_c = int(n * 0.45), int(n * 0.30)
    n_e = n - n_p - n_c
    depts = [f"Dept {i:02d}" for i in range(departments)]
    crit = [f"C{i}" for i in range(n_c)]
    eff = [f"E{i}" for i in range(n_e)]
    crit_leads = {c: sorted({eff[i % n_e], rng.choice(eff)}) for i, c in enumerate(crit)}
    needs = []
    for i in range(n_p):
        leads = sorted({crit[i % n_c], *rng.sample(crit, rng.randint(0, 2))})
        if rng.random() < 0.15:
            leads.append(rng.choice(eff))
        needs.append(Need(id=f"P{i}", title=f"Problem {i} of the line", level="problem",
                          function=rng.choice(depts), leads_to=leads, cause="a cause",
                          awareness=rng.choice(["unaware", "aware, no solution", "solving"])))
    needs += [Need(id=c, title=f"Criterion {c}", level="criterion", function=rng.choice(depts),
                   leads_to=crit_leads[c]) for c in crit]
    needs += [Need(id=e, title=f"Effect {e}", level="effect", function=rng.choice(depts),
                   goal="a goal") for e in eff]
    return needs


def make_center(n: int, rng: random.Random, team: int = 8) -> tuple[list[Person], list[PersonLink]]:
    roles = ["entry", "pain", "power", "user", "influencer", "buyer", "gatekeeper"]
    persons = [
        Person(id=f"p{i}", name=f"Person {i}", influence=round(rng.random(), 2),
               roles=rng.sample(roles, rng.choice([0, 0, 1, 1, 2])),
               attitude=rng.choice(["supporter", "neutral", "neutral", "detractor"]),
               reached_by=[f"k{rng.randrange(team)}"] if rng.random() < 0.06 else [],
               left_on="2025-01-01" if rng.random() < 0.05 else None)
        for i in range(n)
    ]
    links = [PersonLink(source=f"p{i}", target=f"p{j}", strength=round(rng.uniform(0.05, 1), 2))
             for i in range(n) for j in rng.sample(range(n), rng.randint(1, 4)) if j != i]
    return persons, links


def median_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), out


def peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    rng = random.Random(SEED)
    needs = make_needs(500, rng)
    persons, links = make_center(200, rng)
    nm = NeedMap.from_needs(needs)
    bc = BuyingCenter(persons, links)
    print(f"need map: {nm}")
    print(f"buying center: {bc}")
    rows: list[tuple[str, float, str]] = []

    def run(label: str, fn: Callable[[], Any], size: Callable[[Any], str] = lambda _: "") -> None:
        ms, out = median_ms(fn)
        rows.append((label, ms, size(out)))

    run("need map: build from 500 needs", lambda: NeedMap.from_needs(needs))
    run("need map: validate", nm.validate, lambda p: f"{len(p)} problems")
    run("need map: chains", nm.chains, lambda df: f"{len(df)} chains")
    run("need map: cross_department", nm.cross_department, lambda df: f"{len(df)} rows")
    run("need map: solved_by_effect", nm.solved_by_effect, lambda df: f"{len(df)} rows")
    run("need map: motivation_factors", nm.motivation_factors, lambda df: f"{len(df)} rows")
    run("need map: round trip to needs", nm.to_needs)
    run("need map: figure", lambda: needmap_figure(nm),
        lambda f: f"{sum(len(t.x) for t in f.data[1:])} nodes")
    run("buying center: build (200 persons)", lambda: BuyingCenter(persons, links))
    run("buying center: entry chains", bc.entry_chains,
        lambda df: f"{len(df)} power points, {int(df['reachable'].sum())} reached")
    run("buying center: red flags", bc.red_flags, lambda df: f"{len(df)} flags")
    run("buying center: brokers", bc.brokers, lambda df: f"{len(df)} brokers")
    run("buying center: figure", lambda: buying_center_figure(bc),
        lambda f: f"{len(f.data)} traces")

    print(f"\nmedian of {REPEATS} runs")
    for label, ms, size in rows:
        print(f"  {label:<38} {ms:9.1f} ms   {size}")
    print("\npeak memory (tracemalloc)")
    print(f"  need map: validate + chains + figure     "
          f"{peak_mb(lambda: (nm.validate(), nm.chains(), needmap_figure(nm))):7.1f} MB")
    print(f"  buying center: chains + flags + figure   "
          f"{peak_mb(lambda: (bc.entry_chains(), bc.red_flags(), buying_center_figure(bc))):7.1f}"
          " MB")


if __name__ == "__main__":
    main()
