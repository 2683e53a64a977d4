"""The need map: the client's problems, technical criteria and expected effects (DOMAIN.md §2).

A :class:`NeedMap` is a directed graph over the :class:`~kam.model.Need` records of a dossier:
problems at the bottom, criteria in the middle, effects on top, with ``leads_to`` edges that go
upward. It is built from a dossier (:meth:`NeedMap.from_dossier`) and written back to one
(:meth:`NeedMap.to_needs`, :meth:`NeedMap.to_dossier`); :meth:`NeedMap.validate` lists every
rule of DOMAIN.md §2 the map breaks, :meth:`NeedMap.check` raises :class:`NeedMapError`.
The tables a KAM works from are DataFrames: :meth:`~NeedMap.chains`,
:meth:`~NeedMap.cross_department`, :meth:`~NeedMap.solved_by_effect`,
:meth:`~NeedMap.motivation_factors`, :meth:`~NeedMap.by_awareness` and :meth:`~NeedMap.gaps`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import networkx as nx
import pandas as pd
from pydantic import ValidationError

from .errors import InputError, ValidationProblem
from .model import Dossier, Need, Person, validate_dossier
from .model.need import Awareness, Motivation

__all__ = ["AWARENESS_APPROACH", "LEVELS", "NO_FUNCTION", "NeedMap", "NeedMapError"]

LEVELS = ("problem", "criterion", "effect")
"""The three layers, bottom to top."""
_RANK = {level: i for i, level in enumerate(LEVELS)}
_UPWARD = "edges only go upward: problem -> criterion, criterion -> effect, problem -> effect"

NO_FUNCTION = "(no function)"
"""Department shown for a node whose function is not filled in."""

AWARENESS_APPROACH = {
    Awareness.UNAWARE.value: (
        "Build a closer relationship; watch for the indicators that call for action."
    ),
    Awareness.AWARE_NO_SOLUTION.value: (
        "Create the understanding that our portfolio of products and technologies can solve it."
    ),
    Awareness.SOLVING.value: (
        "The client is solving it: compete on the technical criteria and show the effect we "
        "deliver better or sooner."
    ),
    "unknown": "Find out whether the client is aware of it (situation and problem questions).",
}
"""What to do per awareness level of a problem (DOMAIN.md §2); ``unknown`` when not recorded."""

_NEED_FIELDS = tuple(f for f in Need.model_fields if f not in ("id", "leads_to"))


class NeedMapError(InputError):
    """A need map that breaks a rule of DOMAIN.md §2; ``problems`` names every node and edge."""


def _fn(value: Any) -> str:
    return value if isinstance(value, str) and value.strip() else NO_FUNCTION


class NeedMap:
    """The need map of one account as a :class:`networkx.DiGraph` (``.graph``).

    Nodes are need ids with the :class:`~kam.model.Need` fields as attributes (plain values:
    ``level`` is ``"problem"``, ``"criterion"`` or ``"effect"``); an edge ``u -> v`` is
    ``v in u.leads_to``. ``dangling`` keeps ``leads_to`` references to unknown needs (they are
    reported by :meth:`validate` and written back by :meth:`to_needs`). ``persons`` maps client
    person ids to ``{"name", "department", "active"}`` where the map was built from a dossier.

    Examples
    --------
    >>> from kam.model import Need
    >>> nm = NeedMap.from_needs([
    ...     Need(id="P1", title="Line stops", level="problem", function="Production",
    ...          leads_to=["C1"]),
    ...     Need(id="C1", title="MTBF > 500 h", level="criterion", function="Maintenance",
    ...          leads_to=["E1"]),
    ...     Need(id="E1", title="Output +5%", level="effect", function="Management"),
    ... ])
    >>> nm
    NeedMap(3 needs: 1 problem, 1 criterion, 1 effect; 2 edges)
    >>> nm.validate()
    []
    >>> nm.chains()[["problem", "criterion", "effect"]].to_dict("records")
    [{'problem': 'P1', 'criterion': 'C1', 'effect': 'E1'}]
    """

    def __init__(
        self,
        graph: nx.DiGraph | None = None,
        *,
        dangling: Iterable[tuple[str, str]] = (),
        persons: Mapping[str, Mapping[str, Any]] | None = None,
        motivation: Motivation | None = None,
    ) -> None:
        self.graph: nx.DiGraph = graph if graph is not None else nx.DiGraph()
        self.dangling: list[tuple[str, str]] = list(dangling)
        self.persons: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (persons or {}).items()}
        self.motivation = motivation

    # -- building and writing back ---------------------------------------------------------
    @classmethod
    def from_needs(
        cls,
        needs: Iterable[Need],
        *,
        persons: Iterable[Person] = (),
        motivation: Motivation | str | None = None,
    ) -> NeedMap:
        """Build the map from need records (optionally only the ``business`` or ``personal``
        ones: the second map of DOMAIN.md §2). Duplicate ids raise :class:`NeedMapError`."""
        needs = list(needs)
        mot = Motivation(motivation) if motivation is not None else None
        seen: dict[str, int] = {}
        for n in needs:
            seen[n.id] = seen.get(n.id, 0) + 1
        dups = [ValidationProblem(f"need {i}", "id", f"duplicate id ({k} records); ids must be "
                                  "unique, rename one of them") for i, k in seen.items() if k > 1]
        if dups:
            raise NeedMapError(dups)
        kept = [n for n in needs if mot is None or n.motivation is mot]
        g: nx.DiGraph = nx.DiGraph()
        for n in kept:
            g.add_node(n.id, **n.model_dump(mode="json", include=set(_NEED_FIELDS)))
        dangling = []
        for n in kept:
            for t in n.leads_to:
                if t in g:
                    g.add_edge(n.id, t)
                elif t not in seen:  # a need of the other motivation is not dangling
                    dangling.append((n.id, t))
        people = {
            p.id: {"name": p.name, "department": p.department, "active": p.active} for p in persons
        }
        return cls(g, dangling=dangling, persons=people, motivation=mot)

    @classmethod
    def from_dossier(
        cls, dossier: Dossier, *, motivation: Motivation | str | None = None
    ) -> NeedMap:
        """The need map of a dossier (all needs, or those of one ``motivation``)."""
        return cls.from_needs(dossier.needs, persons=dossier.persons, motivation=motivation)

    def to_needs(self) -> list[Need]:
        """The map as need records (node order; ``leads_to`` from the edges), ready to store."""
        out, problems = [], []
        for node, attrs in self.graph.nodes(data=True):
            leads = [*self.graph.successors(node), *(t for s, t in self.dangling if s == node)]
            data = {k: v for k, v in attrs.items() if k in _NEED_FIELDS}
            try:
                out.append(Need.model_validate({"id": node, **data, "leads_to": leads}))
            except ValidationError as e:
                for err in e.errors(include_url=False):
                    field = ".".join(str(p) for p in err["loc"])
                    problems.append(ValidationProblem(f"need {node}", field, err["msg"]))
        if problems:
            raise NeedMapError(problems)
        return out

    def to_dossier(self, dossier: Dossier) -> Dossier:
        """A copy of ``dossier`` whose needs are this map's (a map of one motivation keeps the
        dossier's needs of the other motivation). Broken references raise
        :class:`~kam.errors.InputError`."""
        kept = [n for n in dossier.needs
                if self.motivation is not None and n.motivation is not self.motivation]
        data = dossier.model_dump(mode="json")
        data["needs"] = [n.model_dump(mode="json") for n in [*self.to_needs(), *kept]]
        return validate_dossier(data)

    # -- checks ----------------------------------------------------------------------------
    def nodes_at(self, level: str) -> list[str]:
        """Ids of the nodes of one level, in node order."""
        return [n for n, lv in self.graph.nodes(data="level") if lv == level]

    def _reach(self, sources: Iterable[str], *, reverse: bool = False) -> set[str]:
        nxt = self.graph.predecessors if reverse else self.graph.successors
        seen = set(sources)
        todo = deque(seen)
        while todo:
            for m in nxt(todo.popleft()):
                if m not in seen:
                    seen.add(m)
                    todo.append(m)
        return seen

    def validate(self) -> list[ValidationProblem]:
        """Every rule of DOMAIN.md §2 the map breaks, naming the node(s); ``[]`` if well formed.

        Rules: no dangling edge; every node has a level; edges only go upward; no cycles;
        every problem reaches an effect; every effect is reached from a problem; every
        criterion lies on a chain problem -> criterion -> effect; every node has a function.
        """
        g = self.graph
        out: list[ValidationProblem] = []
        known = ", ".join(sorted(g.nodes)[:10]) or "none"
        for s, t in self.dangling:
            out.append(ValidationProblem(f"need {s}", "leads_to", f"leads to unknown need {t!r}; "
                                         f"known needs: {known}; add the need or remove the edge"))
        for n, lv in g.nodes(data="level"):
            if lv not in _RANK:
                out.append(ValidationProblem(
                    f"need {n}", "level", f"level {lv!r} is not one of {', '.join(LEVELS)}; "
                    "give the node a level or remove it"))
        for u, v in g.edges:
            lu, lv = g.nodes[u].get("level"), g.nodes[v].get("level")
            if lu in _RANK and lv in _RANK and _RANK[lu] >= _RANK[lv]:
                way = "sideways" if lu == lv else "downward"
                out.append(ValidationProblem(
                    f"edge {u} -> {v}", "leads_to",
                    f"goes {way} from {lu} {u!r} to {lv} {v!r}; {_UPWARD}; fix or remove it"))
        order = {n: i for i, n in enumerate(g.nodes)}
        comps = [sorted(c, key=order.__getitem__) for c in nx.strongly_connected_components(g)]
        for comp in sorted(comps, key=lambda c: order[c[0]]):
            if len(comp) > 1 or g.has_edge(comp[0], comp[0]):
                cyc = [u for u, _ in nx.find_cycle(g.subgraph(comp), source=comp[0])]
                first = min(range(len(cyc)), key=lambda i: order[cyc[i]])
                cyc = cyc[first:] + cyc[:first]  # start at the earliest node: stable wording
                path = " -> ".join([*cyc, cyc[0]])
                out.append(ValidationProblem(
                    f"need {cyc[0]}", "leads_to",
                    f"cycle {path}; a need map has no cycles: remove one of these edges"))
        problems, criteria, effects = (self.nodes_at(lv) for lv in LEVELS)
        reaches_effect = self._reach(effects, reverse=True)
        reached_from_problem = self._reach(problems)
        for p in problems:
            if p not in reaches_effect:
                out.append(ValidationProblem(
                    f"need {p}", "leads_to", f"problem {p!r} reaches no effect; link it (directly "
                    "or through a criterion) to the effect its solution brings"))
        for e in effects:
            if e not in reached_from_problem:
                out.append(ValidationProblem(
                    f"need {e}", "leads_to", f"effect {e!r} is reached from no problem; link at "
                    "least one problem to it"))
        for c in criteria:
            if c not in reaches_effect or c not in reached_from_problem:
                out.append(ValidationProblem(
                    f"need {c}", "leads_to", f"criterion {c!r} is on no chain problem -> "
                    "criterion -> effect; link a problem to it and it to an effect"))
        for n, fn in g.nodes(data="function"):
            if _fn(fn) == NO_FUNCTION:
                out.append(ValidationProblem(
                    f"need {n}", "function", "has no function; name the department or person "
                    "responsible for, or interested in, it"))
        return out

    def check(self) -> NeedMap:
        """Return ``self`` if the map is well formed, else raise :class:`NeedMapError`."""
        problems = self.validate()
        if problems:
            summary = None if len(problems) == 1 else (
                f"the need map breaks {len(problems)} rules of a well-formed map")
            raise NeedMapError(problems, summary=summary)
        return self

    # -- tables ----------------------------------------------------------------------------
    def _attr(self, node: str, key: str) -> Any:
        return self.graph.nodes[node].get(key)

    def chains(self) -> pd.DataFrame:
        """Every chain problem -> criterion -> effect (``criterion`` is NA for a direct
        problem -> effect edge), with titles, functions, cause, goal and the departments
        the chain touches. Follows only upward edges, so the count is bounded by
        (problem->criterion edges x effect fan-out) + problem->effect edges."""
        g, rows = self.graph, []
        for p in self.nodes_at("problem"):
            for s in g.successors(p):
                level = self._attr(s, "level")
                if level == "effect":
                    rows.append(self._chain_row(p, None, s))
                elif level == "criterion":
                    rows.extend(self._chain_row(p, s, e) for e in g.successors(s)
                                if self._attr(e, "level") == "effect")
        cols = ["problem", "problem_title", "problem_function", "criterion", "criterion_title",
                "criterion_function", "effect", "effect_title", "effect_function", "cause",
                "goal", "departments", "cross_department"]
        text = ["criterion", "criterion_title", "criterion_function", "cause", "goal"]
        return pd.DataFrame(rows, columns=cols).astype(dict.fromkeys(text, "str"))

    def _chain_row(self, p: str, c: str | None, e: str) -> dict[str, Any]:
        fns = [_fn(self._attr(n, "function")) for n in (p, c, e) if n is not None]
        return {
            "problem": p, "problem_title": self._attr(p, "title"), "problem_function": fns[0],
            "criterion": c, "criterion_title": self._attr(c, "title") if c else None,
            "criterion_function": fns[1] if c else None,
            "effect": e, "effect_title": self._attr(e, "title"), "effect_function": fns[-1],
            "cause": self._attr(p, "cause"), "goal": self._attr(e, "goal"),
            "departments": sorted(set(fns)), "cross_department": len(set(fns)) > 1,
        }

    def solved_by_effect(self) -> pd.DataFrame:
        """Per effect: every problem its achievement would solve and their departments."""
        rows = []
        problems = set(self.nodes_at("problem"))
        for e in self.nodes_at("effect"):
            below = self._reach([e], reverse=True)
            solved = [n for n in self.graph.nodes if n in problems and n in below]
            rows.append({
                "effect": e, "title": self._attr(e, "title"),
                "function": _fn(self._attr(e, "function")), "goal": self._attr(e, "goal"),
                "problems": solved,
                "departments": sorted({_fn(self._attr(p, "function")) for p in solved}),
                "n_problems": len(solved),
            })
        return pd.DataFrame(rows, columns=["effect", "title", "function", "goal", "problems",
                                           "departments", "n_problems"])

    def cross_department(self) -> pd.DataFrame:
        """Per problem: the departments it touches (its own and those of the criteria and
        effects it leads to), the effects it reaches, the other problems those effects would
        also solve and their departments (DOMAIN.md §2: "the map must show every problem that
        the expected effect would solve")."""
        rows = []
        problems = self.nodes_at("problem")
        effects = set(self.nodes_at("effect"))
        for p in problems:
            above = self._reach([p]) - {p}
            reached = [e for e in self.graph.nodes if e in above and e in effects]
            below = self._reach(reached, reverse=True)
            linked = [q for q in problems if q != p and q in below]
            own = _fn(self._attr(p, "function"))
            touched = sorted({own} | {_fn(self._attr(n, "function")) for n in above})
            linked_fns = sorted({_fn(self._attr(q, "function")) for q in linked})
            rows.append({
                "problem": p, "title": self._attr(p, "title"), "function": own,
                "effects": reached, "departments": touched, "linked_problems": linked,
                "linked_departments": linked_fns,
                "n_departments": len(set(touched) | set(linked_fns)),
            })
        return pd.DataFrame(rows, columns=["problem", "title", "function", "effects",
                                           "departments", "linked_problems",
                                           "linked_departments", "n_departments"])

    def motivation_factors(
        self,
        by: Literal["department", "person"] = "department",
        motivation: Motivation | str | None = None,
    ) -> pd.DataFrame:
        """The motivation factors per department or per client person: the input of a value
        proposition for each key member of the buying center (DOMAIN.md §2).

        One row per (department or person, need): ``detail`` is the cause of a problem, the
        evaluation of a criterion, the goal of an effect. By person, ``via`` says whether the
        need names the person (``named``) or belongs to the person's department
        (``department``; active persons of a map built from a dossier).
        ``motivation`` keeps ``business`` or ``personal`` factors only.
        """
        if by not in ("department", "person"):
            raise ValueError(f"by must be 'department' or 'person', got {by!r}")
        mot = Motivation(motivation).value if motivation is not None else None
        rows = []
        for n, a in self.graph.nodes(data=True):
            if a.get("level") not in _RANK or (mot is not None and a.get("motivation") != mot):
                continue
            detail = {"problem": a.get("cause"), "criterion": a.get("evaluation"),
                      "effect": a.get("goal")}[a["level"]]
            base = {"level": a["level"], "need": n, "title": a.get("title"), "detail": detail,
                    "function": _fn(a.get("function")), "motivation": a.get("motivation")}
            if by == "department":
                rows.append({"department": base["function"], **base})
                continue
            named = list(a.get("persons") or [])
            dept = [pid for pid, info in self.persons.items() if info.get("active", True)
                    and info.get("department") and info["department"] == a.get("function")
                    and pid not in named]
            for pid, via in [*((x, "named") for x in named), *((x, "department") for x in dept)]:
                name = self.persons.get(pid, {}).get("name", pid)
                rows.append({"person": pid, "name": name, **base, "via": via})
        key = ["department"] if by == "department" else ["person", "name"]
        cols = [*key, "level", "need", "title", "detail", "function", "motivation"]
        cols += ["via"] if by == "person" else []
        df = pd.DataFrame(rows, columns=cols)
        if df.empty:
            return df
        df["_rank"] = df["level"].map(_RANK)
        return (df.sort_values([key[0], "_rank", "need"], kind="stable")
                .drop(columns="_rank").reset_index(drop=True))

    def by_awareness(self) -> pd.DataFrame:
        """The problems with the client's awareness and the approach DOMAIN.md §2 prescribes
        (:data:`AWARENESS_APPROACH`); unaware first, unknown awareness last."""
        order = list(AWARENESS_APPROACH)
        rows = []
        for p in self.nodes_at("problem"):
            aw = self._attr(p, "awareness") or "unknown"
            rows.append({"need": p, "title": self._attr(p, "title"),
                         "function": _fn(self._attr(p, "function")), "awareness": aw,
                         "approach": AWARENESS_APPROACH[aw], "_o": order.index(aw)})
        df = pd.DataFrame(rows, columns=["need", "title", "function", "awareness", "approach",
                                         "_o"])
        return df.sort_values(["_o", "need"], kind="stable").drop(columns="_o").reset_index(
            drop=True)

    def gaps(self) -> pd.DataFrame:
        """What the map should still record: a problem's cause and awareness, an effect's goal,
        the persons interested in a node."""
        want = {"problem": ("cause", "awareness", "persons"), "criterion": ("persons",),
                "effect": ("goal", "persons")}
        rows = [
            {"need": n, "level": a["level"], "missing": f}
            for n, a in self.graph.nodes(data=True) if a.get("level") in want
            for f in want[a["level"]] if not a.get(f)
        ]
        return pd.DataFrame(rows, columns=["need", "level", "missing"])

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    def __repr__(self) -> str:
        counts = [len(self.nodes_at(lv)) for lv in LEVELS]
        plural = {"problem": "problems", "criterion": "criteria", "effect": "effects"}
        parts = ", ".join(f"{c} {lv if c == 1 else plural[lv]}"
                          for c, lv in zip(counts, LEVELS, strict=True))
        return f"NeedMap({len(self)} needs: {parts}; {self.graph.number_of_edges()} edges)"
