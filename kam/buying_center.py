"""The buying center: entry, pain and power points and the chain of people to them (DOMAIN.md §3).

:class:`BuyingCenter` holds the client persons (with their buying-center roles, influence and
attitude), the influence graph between them (:class:`~kam.model.PersonLink`, strength 0..1) and
our team members who reach them (``Person.reached_by``).

The **entry chain** to a person is the strongest route of introductions from any of our team
members: a route's strength is the product of the strengths of its links (our own contact with a
person we reach counts 1.0), so the strongest route is the shortest path with edge weights
``-log(strength)``. Among routes of equal strength the one with fewer introductions wins. Only
active persons (not ``left_on``) and links of strength above 0 carry a route; of two links
between the same pair the stronger counts; a detractor does not introduce us to anyone (a
detractor can still be the end of a route) unless ``via_detractors=True``. The route's
**weakest link** is where it is most likely to break.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import Any

import networkx as nx
import pandas as pd

from .errors import InputError, ValidationProblem
from .model import Dossier, Person, PersonLink, Team

__all__ = ["POINTS", "US", "BuyingCenter"]

US = "us:"
"""Prefix of our team members' nodes in :attr:`BuyingCenter.graph` (person ids never hold ``:``)."""

POINTS = ("entry", "pain", "power")
"""The three points of the entry strategy."""

_HOP = 1e-9  # added per link so that, at equal strength, fewer introductions win
_SEVERITY = {"high": 0, "medium": 1, "low": 2}
_FLAG_COLUMNS = ["flag", "severity", "person", "name", "detail", "action"]


def _weight(strength: float) -> float:
    return -math.log(strength) + _HOP


class BuyingCenter:
    """The persons of one account, who influences whom, and who of ours reaches whom.

    ``graph`` is a :class:`networkx.DiGraph`: client persons by id (attributes ``name``,
    ``roles``, ``influence``, ``attitude``, ``active``, ``department``, ``position``,
    ``kind="client"``) and our team members as ``"us:<id>"`` (``kind="us"``); an edge
    ``a -> b`` means ``a`` can introduce us to / influence ``b`` (``strength``, ``link_kind``).

    Examples
    --------
    >>> from kam.model import Person, PersonLink
    >>> bc = BuyingCenter(
    ...     [Person(id="ann", name="Ann", roles=["entry"], reached_by=["kam1"]),
    ...      Person(id="bob", name="Bob", roles=["power"])],
    ...     [PersonLink(source="ann", target="bob", strength=0.6)])
    >>> bc.entry_chains()[["person", "route", "strength"]].to_dict("records")
    [{'person': 'bob', 'route': ['us:kam1', 'ann', 'bob'], 'strength': 0.6}]
    """

    def __init__(
        self, persons: Sequence[Person], links: Sequence[PersonLink] = (), team: Team | None = None
    ) -> None:
        g: nx.DiGraph = nx.DiGraph()
        inactive_us = {m.id for m in team.members if not m.active} if team else set()
        for p in persons:
            g.add_node(p.id, kind="client", name=p.name, roles=[r.value for r in p.roles],
                       influence=p.influence, attitude=p.attitude.value, active=p.active,
                       department=p.department, position=p.position,
                       left_on=p.left_on)
        for p in persons:
            for member in p.reached_by:
                node = US + member
                if node not in g:
                    tm = team.get(member) if team else None
                    g.add_node(node, kind="us", name=tm.name if tm else member,
                               active=member not in inactive_us)
                g.add_edge(node, p.id, strength=1.0, link_kind="our contact")
        problems = []
        for i, link in enumerate(links):
            for end in ("source", "target"):
                pid = getattr(link, end)
                if g.nodes.get(pid, {}).get("kind") != "client":
                    problems.append(ValidationProblem(
                        f"links[{i}]", end, f"refers to unknown person {pid!r}; add the person "
                        "or fix the link"))
            if problems or link.source == link.target:
                continue
            old = g.get_edge_data(link.source, link.target)
            if old is None or link.strength > old["strength"]:
                g.add_edge(link.source, link.target, strength=link.strength, link_kind=link.kind)
        if problems:
            raise InputError(problems)
        self.graph = g

    @classmethod
    def from_dossier(cls, dossier: Dossier, team: Team | None = None) -> BuyingCenter:
        """The buying center of a dossier (``team`` names our members and marks inactive ones)."""
        return cls(dossier.persons, dossier.links, team)

    # -- helpers ---------------------------------------------------------------------------
    def persons(self, *, active: bool | None = None) -> list[str]:
        """Client person ids (only active ones, only those who left, or all)."""
        return [n for n, a in self.graph.nodes(data=True) if a["kind"] == "client"
                and (active is None or a["active"] is active)]

    def holders(self, role: str, *, active: bool = True) -> list[str]:
        """Persons holding ``role`` (active ones by default)."""
        return [p for p in self.persons(active=active) if role in self.graph.nodes[p]["roles"]]

    def ours(self) -> list[str]:
        """Our active team members' nodes."""
        return [n for n, a in self.graph.nodes(data=True) if a["kind"] == "us" and a["active"]]

    def contacts(self) -> list[str]:
        """Active client persons one of our active team members is in contact with."""
        ours = set(self.ours())
        return [p for p in self.persons(active=True)
                if any(u in ours for u in self.graph.predecessors(p))]

    def _route_graph(self, via_detractors: bool = False) -> nx.DiGraph:
        keep = set(self.ours()) | set(self.persons(active=True))
        g = self.graph
        r: nx.DiGraph = nx.DiGraph()
        r.add_nodes_from(n for n in g.nodes if n in keep)
        r.add_edges_from(
            (u, v, {"w": _weight(d["strength"]), "strength": d["strength"]})
            for u, v, d in g.edges(data=True)
            if u in keep and v in keep and d["strength"] > 0
            and (via_detractors or g.nodes[u].get("attitude") != "detractor")
        )
        return r

    def _routes(self, via_detractors: bool = False) -> dict[str, list[str]]:
        r = self._route_graph(via_detractors)
        sources = sorted(self.ours())
        if not sources:
            return {}
        _, paths = nx.multi_source_dijkstra(r, set(sources), weight="w")
        return {n: p for n, p in paths.items() if self.graph.nodes[n]["kind"] == "client"}

    def _name(self, node: str) -> str:
        name = str(self.graph.nodes[node].get("name", node))
        return f"{name} (us)" if node.startswith(US) else name

    # -- tables ----------------------------------------------------------------------------
    def members(self) -> pd.DataFrame:
        """One row per client person: roles (one flag per point), influence, attitude, active,
        our team members in contact, and whether a route reaches them."""
        routes = self._routes()
        rows = []
        for p in self.persons():
            a = self.graph.nodes[p]
            rows.append({
                "person": p, "name": a["name"], "department": a["department"],
                "position": a["position"], "roles": list(a["roles"]),
                **{r: r in a["roles"] for r in POINTS},
                "influence": a["influence"], "attitude": a["attitude"], "active": a["active"],
                "reached_by": [u.removeprefix(US) for u in self.graph.predecessors(p)
                               if u.startswith(US)],
                "reachable": p in routes,
            })
        return pd.DataFrame(rows, columns=["person", "name", "department", "position", "roles",
                                           *POINTS, "influence", "attitude", "active",
                                           "reached_by", "reachable"])

    def _chains(self, roles: Iterable[str], via_detractors: bool = False) -> list[dict[str, Any]]:
        roles = list(roles)
        routes = self._routes(via_detractors)
        rows = []
        for p in self.persons(active=True):
            held = [r for r in self.graph.nodes[p]["roles"] if r in roles]
            if not held:
                continue
            path = routes.get(p, [])
            links = [(u, v, self.graph.edges[u, v]["strength"])
                     for u, v in itertools.pairwise(path)]
            weak = min(links, key=lambda x: x[2]) if links else None
            rows.append({
                "person": p, "name": self._name(p), "roles": held, "reachable": bool(path),
                "route": path, "route_names": " → ".join(self._name(n) for n in path),
                "introductions": max(len(path) - 2, 0),
                "strength": math.prod(s for _, _, s in links) if links else 0.0,
                "weakest_from": weak[0] if weak else None,
                "weakest_to": weak[1] if weak else None,
                "weakest_strength": weak[2] if weak else None,
            })
        return rows

    def entry_chains(
        self, roles: Iterable[str] = ("power",), *, via_detractors: bool = False
    ) -> pd.DataFrame:
        """The entry chain to every active person holding one of ``roles``: the strongest route
        from our team (``route``, our member first as ``"us:<id>"``), its strength (product of
        link strengths; 0.0 without a route), the number of introductions (client-to-client
        links) and its weakest link (NA without a route)."""
        return pd.DataFrame(self._chains(roles, via_detractors), columns=[
            "person", "name", "roles", "reachable", "route", "route_names", "introductions",
            "strength", "weakest_from", "weakest_to", "weakest_strength",
        ]).astype({"weakest_from": "str", "weakest_to": "str", "weakest_strength": float})

    def brokers(self) -> pd.DataFrame:
        """People who carry routes: ``routes`` counts the entry chains to power points that run
        through a person (as our contact or as an introducer), ``betweenness`` is their
        weighted betweenness centrality among active persons. Sorted, most useful first."""
        counts: dict[str, int] = {}
        for chain in self._chains(["power"]):
            for n in chain["route"][1:-1]:
                counts[n] = counts.get(n, 0) + 1
        clients = self._route_graph().subgraph(self.persons(active=True))
        between = nx.betweenness_centrality(clients, weight="w") if len(clients) > 2 else {}
        rows = []
        for p in self.persons(active=True):
            if counts.get(p, 0) == 0 and between.get(p, 0.0) <= 0:
                continue
            a = self.graph.nodes[p]
            rows.append({"person": p, "name": a["name"], "routes": counts.get(p, 0),
                         "betweenness": between.get(p, 0.0), "roles": list(a["roles"]),
                         "attitude": a["attitude"]})
        df = pd.DataFrame(rows, columns=["person", "name", "routes", "betweenness", "roles",
                                         "attitude"])
        return df.sort_values(["routes", "betweenness", "person"],
                              ascending=[False, False, True]).reset_index(drop=True)

    def red_flags(
        self, *, weak_link: float = 0.3, detractor_influence: float = 0.6
    ) -> pd.DataFrame:
        """What should worry the KAM, with a severity and what to do (DOMAIN.md §3, §10).

        Flags: ``no power point`` (nobody active holds the power role), ``no entry point``,
        ``no pain point``, ``power point not reached`` (no route from our team), ``weak route``
        (weakest link below ``weak_link``), ``no contact`` / ``single-threaded`` (none or one
        active contact of ours), ``contact left`` (a person with an entry/pain/power role or one
        of our contacts left the client), ``influential detractor`` (an active detractor with
        influence at least ``detractor_influence``).
        """
        flags: list[dict[str, Any]] = []

        def flag(kind: str, sev: str, person: str | None, detail: str, action: str) -> None:
            flags.append({"flag": kind, "severity": sev, "person": person,
                          "name": self._name(person) if person else None,
                          "detail": detail, "action": action})

        g = self.graph
        if not self.holders("power"):
            gone = self.holders("power", active=False)
            extra = f" ({', '.join(self._name(p) for p in gone)} left)" if gone else ""
            flag("no power point", "high", None, "nobody active is known to decide" + extra,
                 "Find out who approves or forbids the purchase: ask the entry point.")
        for point, action in (
            ("entry", "Find someone who will listen with understanding and give information."),
            ("pain", "Find out who is dissatisfied today and how we can help."),
        ):
            if not self.holders(point):
                flag(f"no {point} point", "medium", None,
                     f"nobody active holds the {point} role", action)
        for c in self._chains(["power"]):
            if not c["reachable"]:
                flag("power point not reached", "high", c["person"],
                     "no route of introductions from our team",
                     "Build a route: ask a contact who knows them for an introduction, or meet "
                     "them at an event.")
            elif c["weakest_strength"] < weak_link:
                flag("weak route", "medium", c["person"],
                     f"weakest link {self._name(c['weakest_from'])} → "
                     f"{self._name(c['weakest_to'])} has strength {c['weakest_strength']:g} "
                     f"(below {weak_link:g})",
                     "Strengthen that link or find a second route.")
        contacts = self.contacts()
        if not contacts:
            flag("no contact", "high", None, "none of our team is in contact with an active "
                 "person", "Make a first contact: start with the entry point.")
        elif len(contacts) == 1:
            flag("single-threaded", "high", contacts[0],
                 f"{self._name(contacts[0])} is our only active contact",
                 "Add contacts in other functions before this one moves on.")
        for p in self.persons(active=False):
            a = g.nodes[p]
            held = [r for r in a["roles"] if r in POINTS]
            ours = [u for u in g.predecessors(p) if u.startswith(US)]
            if held or ours:
                what = ", ".join(held) + (" point" if held else "") or "our contact"
                flag("contact left", "high" if "power" in held else "medium", p,
                     f"{self._name(p)} ({what}) left on {a['left_on']}",
                     "Find and meet the successor; keep in touch at the new company (a lead).")
        for p in self.persons(active=True):
            a = g.nodes[p]
            if a["attitude"] == "detractor" and a["influence"] >= detractor_influence:
                flag("influential detractor", "high" if "power" in a["roles"] else "medium", p,
                     f"{self._name(p)} is against us with influence {a['influence']:g}",
                     "Learn the objection; let a supporter of equal standing address it.")
        df = pd.DataFrame(flags, columns=_FLAG_COLUMNS).astype({"person": "str", "name": "str"})
        if df.empty:
            return df
        df["_s"] = df["severity"].map(_SEVERITY)
        return df.sort_values(["_s"], kind="stable").drop(columns="_s").reset_index(drop=True)

    def __repr__(self) -> str:
        return (f"BuyingCenter({len(self.persons(active=True))} active persons, "
                f"{len(self.persons(active=False))} left, {len(self.ours())} of ours, "
                f"{self.graph.number_of_edges()} links)")
