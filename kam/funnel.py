"""The sales funnel: stage counts, conversion, losses, time in stage and cross statistics of
managers (DOMAIN.md §6).

The stage model is configuration (``templates/stages.yaml``): the five stages of DOMAIN.md §1 by
default, with aliases that map a CRM's own stage names onto them. A deal *reached* a stage if it
is or was in that stage or a later one: its current stage, the highest stage in its history
(:attr:`~kam.model.Deal.history`), and -- for a won deal -- at least the model's ``won_stage``.

A transition ``i -> i+1`` counts the deals that *entered* stage ``i``; of those, ``advanced``
reached stage ``i+1``, ``lost`` were refused or declined while at stage ``i``, ``open`` are still
there, ``stopped`` were won without going further (e.g. a buyer with no repeat sale yet).
``decided = entered - open``; ``conversion = advanced / decided`` and ``lost_share = lost /
decided`` (undefined -- NaN -- where no deal has left the stage yet). The **weakest link** is the
transition with the largest ``lost_share``.

Overall **conversion** is contracts won / deals worked (DOMAIN.md: 3 of 100 = 3%), all deals of
the selection counted; ``win_rate`` is won / (won + lost), the closed deals only. **Financial
conversion** weighs deals by budget: value won / budget worked.

**Along the reporting line.** A deal's ``manager`` is the team member working it; their
**planner** is the lead manager they report to (DOMAIN.md §9: planners assign clients to
client-managers and control their work), found up the team's reporting line (:class:`Roster`).
Conversion, the funnel and the cross statistics are computed ``by="manager"`` or
``by="planner"``; a manager without a planner goes under ``(no planner)``. Every table names
the people: ``manager_id`` (or ``planner_id``) holds the team id and ``manager`` (``planner``)
the person's name from the team given as ``team`` (the id itself without a team).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .errors import InputError, ValidationProblem
from .model import Tables, Team, TeamRole
from .model.stages import Stage, StageModel, load_stages
from .periods import NoData, bounds, frame_of, month_of_dates, need_columns, span

__all__ = [
    "NO_PLANNER",
    "OUTCOMES",
    "Funnel",
    "Roster",
    "Stage",
    "StageModel",
    "conversion",
    "funnel",
    "group_columns",
    "load_stages",
    "loss_reasons",
    "manager_stage_conversion",
    "time_in_stage",
    "weakest_link",
    "with_people",
]

OUTCOMES = {"open": "open", "won": "won", "refused": "lost", "declined": "lost"}
"""Deal outcomes and how the funnel counts them."""
UNASSIGNED = "(unassigned)"
"""The manager of the deals that name none."""
NO_PLANNER = "(no planner)"
"""The planner group of the deals whose manager has no planner up the reporting line."""
PEOPLE = ("manager", "planner")
"""Groupings along the reporting line; each gives an id column and a name column."""


@dataclass(frozen=True)
class Roster:
    """The people of the team as the analyses show them: a name per member id and each
    member's planner.

    A member's **planner** is the nearest member up their reporting line
    (:attr:`~kam.model.TeamMember.manager`, "reports to") whose role is ``planner``: the member
    themself if they are one. A member whose line ends without a planner, or an id that is not
    in the team, has none (:data:`NO_PLANNER`). The name shown is the member's name; two members
    with the same name are told apart by their id (``Ann Lee (ann.lee.2)``); an id that is not
    in the team shows as itself.

    Examples
    --------
    >>> from kam.model import Team, TeamMember
    >>> team = Team(members=[
    ...     TeamMember(id="dir", name="Dana Reyes", role="planner"),
    ...     TeamMember(id="kam1", name="Ann Lee", manager="dir"),
    ...     TeamMember(id="cm1", name="Bo Chan", role="client manager", manager="kam1"),
    ...     TeamMember(id="solo", name="Sam Ortiz")])
    >>> r = Roster.of(team)
    >>> r.planner_ids(["cm1", "dir", "solo", "nobody"]).tolist()
    ['dir', 'dir', '(no planner)', '(no planner)']
    >>> r.label(["cm1", "nobody"]).tolist()
    ['Bo Chan', 'nobody']
    """

    names: dict[str, str]
    """Member id -> the name shown."""
    planners: dict[str, str]
    """Member id -> planner id, for the members who have a planner."""

    @classmethod
    def of(cls, team: Team | None, *, planners: bool = True) -> Roster:
        """The roster of ``team`` (``None``: no names, no planners; ``planners=False``: the
        names only).

        Raises :class:`~kam.errors.InputError` if a reporting line runs in a circle without
        reaching a planner.
        """
        if team is None:
            return cls({}, {})
        members = {m.id: m for m in team.members}
        same = Counter(m.name for m in team.members)
        names = {m.id: m.name if same[m.name] == 1 else f"{m.name} ({m.id})"
                 for m in team.members}
        above: dict[str, str] = {}
        for m in team.members if planners else ():
            line, cur = [m.id], m
            while cur.role != TeamRole.PLANNER:
                up = cur.manager
                if up is None or up not in members:
                    break
                if up in line:
                    raise InputError([ValidationProblem(
                        record=f"team member {m.id} ({m.name})", field="manager",
                        message=f"the reporting line {' -> '.join([*line, up])} runs in a "
                                "circle and reaches no planner; make one of them report to a "
                                "planner or to nobody")])
                line.append(up)
                cur = members[up]
            else:
                above[m.id] = cur.id
        return cls(names, above)

    def label(self, ids: Sequence[str] | pd.Series | np.ndarray) -> pd.Series:
        """The names shown for member ``ids`` (an unknown id, or a group such as
        ``(unassigned)``, shows as itself)."""
        s = pd.Series(ids, dtype=object)
        return s.map({i: self.names.get(i, i) for i in s.unique()}).astype(object)

    def planner_ids(self, manager_ids: Sequence[str] | pd.Series | np.ndarray
                    ) -> pd.Series:
        """The planner id of each manager id (:data:`NO_PLANNER` where there is none)."""
        s = pd.Series(manager_ids, dtype=object)
        return s.map({i: self.planners.get(i, NO_PLANNER) for i in s.unique()}).astype(object)


def _keys(by: str | Sequence[str] | None, options: Sequence[str], what: str) -> list[str]:
    """``by`` as a list of keys, each one of ``options`` (else a ValueError naming them)."""
    keys = [by] if isinstance(by, str) else list(by or [])
    for k in keys:
        if k not in options:
            raise ValueError(f"cannot {what} by {k!r}; options are {', '.join(options)}")
    return keys


def group_columns(keys: Sequence[str]) -> list[str]:
    """The columns a grouping by ``keys`` shows: ``manager_id`` and ``manager`` for
    ``"manager"``, ``planner_id`` and ``planner`` for ``"planner"``, the key itself otherwise.

    >>> group_columns(["planner", "period"])
    ['planner_id', 'planner', 'period']
    """
    return [c for k in keys for c in ((f"{k}_id", k) if k in PEOPLE else (k,))]


def with_people(frame: pd.DataFrame, keys: Sequence[str], team: Team | None) -> pd.DataFrame:
    """``frame`` (one row per deal, with ``manager_id``) with the columns of
    :func:`group_columns` that grouping by ``keys`` needs: the manager's name, the planner's
    id and name (:class:`Roster`). Grouping by planner needs the team."""
    if "planner" in keys and team is None:
        raise ValueError("grouping by planner needs the team roster (who reports to whom): "
                         "pass team=..., e.g. team=workspace.team()")
    if not any(k in PEOPLE for k in keys):
        return frame
    roster = Roster.of(team, planners="planner" in keys)
    ids = frame["manager_id"].to_numpy(object)
    extra: dict[str, np.ndarray] = {}
    if "manager" in keys:
        extra["manager"] = roster.label(ids).to_numpy(object)
    if "planner" in keys:
        planner = roster.planner_ids(ids)
        extra["planner_id"] = planner.to_numpy(object)
        extra["planner"] = roster.label(planner).to_numpy(object)
    return frame.assign(**extra)


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def _after(dates: pd.Series, day: date) -> np.ndarray:
    """Which ``dates`` fall after ``day`` (a missing date does not)."""
    return (pd.to_datetime(dates) > pd.Timestamp(day)).to_numpy(bool)


def _deal_months(deals: pd.DataFrame) -> np.ndarray:
    """Month number of each deal: when it was created, else the start of its period, else -1."""
    months = np.full(len(deals), -1, dtype=np.int64)
    created = deals["created"].notna().to_numpy()
    if created.any():
        months[created] = month_of_dates(deals["created"][created])
    rest = ~created & deals["period"].notna().to_numpy()
    if rest.any():
        months[rest] = bounds(deals["period"][rest], what="deals")[0]
    return months


def _prepare(t: Tables, model: StageModel, period: str | None,
             as_of: date | None) -> pd.DataFrame:
    """One row per deal of the selection: ``reached`` (stage position), ``status`` (open, won,
    lost), ``manager_id``, ``budget`` (planned, else refined, else actual) and ``value_won``."""
    deals = need_columns(frame_of(t, "deals"), "deals table", ["stage"])
    if period is not None:
        ps, pe = span(period)
        m = _deal_months(deals)
        deals = deals[(m >= ps) & (m <= pe)]
        if deals.empty:
            raise NoData(f"No deals created (or planned) in period {period!r}; choose a period "
                         "with deals")
    if as_of is not None and not deals.empty:
        deals = deals[~_after(deals["created"], as_of)]
    cols = ["account_id", "id", "manager_id", "product_group", "reached", "status", "outcome",
            "refusal_reason", "budget", "value_won"]
    if deals.empty:
        return pd.DataFrame(columns=cols)
    outcome = deals["outcome"].astype(object)
    bad = ~outcome.isin(list(OUTCOMES))
    if bad.any():
        first = deals[bad.to_numpy()].iloc[0]
        raise InputError([ValidationProblem(
            record=f"{int(bad.sum())} deals (e.g. deal {first['id']} of account "
                   f"{first['account_id']})", field="outcome",
            message=f"unknown outcome {first['outcome']!r}; valid outcomes: "
                    f"{', '.join(OUTCOMES)}")])
    status = outcome.map(OUTCOMES).to_numpy(object)
    if as_of is not None:
        status = np.where(_after(deals["closed_on"], as_of), "open", status)
    reached = model.positions(deals["stage"], deals, what="deals")
    hist = frame_of(t, "deal_history")
    if not hist.empty:
        deal_code, code, n_codes = _deal_keys(deals, hist)  # code -1: not a deal shown here
        if as_of is not None:  # the state on that date: only the history up to it counts
            any_entry = np.zeros(n_codes, dtype=bool)
            any_entry[code[code >= 0]] = True
            has_any = any_entry[deal_code]
            kept = ~_after(hist["on"], as_of)
            hist, code = hist[kept], code[kept]
        hpos = np.asarray(model.positions(hist["stage"], hist, what="deal history entries"),
                          dtype=np.int64)
        top = np.full(n_codes, -1, dtype=np.int64)  # furthest stage in each deal's history
        np.maximum.at(top, code[code >= 0], hpos[code >= 0])
        h = top[deal_code]
        has = h >= 0
        h = np.where(has, h, 0)
        if as_of is None:
            reached = np.where(has, np.maximum(reached, h), reached)
        else:
            reached = np.where(has, h, np.where(has_any, 0, reached))
    won = status == "won"
    if model.won_stage is not None:
        reached = np.where(won, np.maximum(reached, model.position(model.won_stage)), reached)
    budget = _num(deals, "planned_budget").fillna(_num(deals, "refined_budget")).fillna(
        _num(deals, "actual_budget")).fillna(0.0)
    value = _num(deals, "actual_budget").fillna(_num(deals, "refined_budget")).fillna(
        _num(deals, "planned_budget")).fillna(0.0)
    manager = deals["manager"].astype(object)
    return pd.DataFrame({
        "account_id": deals["account_id"].to_numpy(object),
        "id": deals["id"].to_numpy(object),
        "manager_id": manager.where(manager.notna(), UNASSIGNED).to_numpy(object),
        "product_group": deals["product_group"].astype(object).fillna("(none)").to_numpy(object),
        "reached": reached,
        "status": status,
        "outcome": outcome.to_numpy(object),
        "refusal_reason": deals["refusal_reason"].to_numpy(object),
        "budget": budget.to_numpy(),
        "value_won": np.where(won, value.to_numpy(), 0.0),
    })


def _deal_keys(deals: pd.DataFrame, hist: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Integer keys of the deals (account and deal id): one code per deal, the code of each
    history entry's deal (-1 where ``deals`` has no such deal), and the number of codes.
    Integer codes instead of tuples: fast on millions of rows."""
    n = len(deals)
    acc, _ = pd.factorize(np.concatenate([deals["account_id"].to_numpy(object),
                                          hist["account_id"].to_numpy(object)]))
    ids, uniq = pd.factorize(np.concatenate([deals["id"].to_numpy(object),
                                             hist["deal_id"].to_numpy(object)]))
    key = acc.astype(np.int64) * (len(uniq) + 1) + ids
    deal_code, known = pd.factorize(key[:n])
    return deal_code, pd.Index(known).get_indexer(key[n:]), len(known)


def _grouped(prep: pd.DataFrame, by: list[str], n: int
             ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Groups and, per group and stage position, the counts of deals whose furthest stage it
    is: ``total``, ``open``, ``won``, ``lost`` and the ``budget`` reaching it."""
    if by:
        grouped = prep.groupby(by, sort=True)
        codes = grouped.ngroup().to_numpy()
        groups = grouped.size().reset_index()[by]
    else:
        codes = np.zeros(len(prep), dtype=np.int64)
        groups = pd.DataFrame(index=[0])
    size = len(groups) * n
    flat = codes * n + prep["reached"].to_numpy(np.int64)
    status = prep["status"].to_numpy(object)

    def count(mask: np.ndarray | None = None, weights: np.ndarray | None = None) -> np.ndarray:
        idx = flat if mask is None else flat[mask]
        w = weights if mask is None or weights is None else weights[mask]
        return np.bincount(idx, weights=w, minlength=size).reshape(len(groups), n)

    arrays = {"total": count(), "open": count(status == "open"), "won": count(status == "won"),
              "lost": count(status == "lost"),
              "budget": count(weights=prep["budget"].to_numpy(np.float64))}
    return groups.reset_index(drop=True), arrays


def _reverse_cumsum(a: np.ndarray) -> np.ndarray:
    return np.flip(np.cumsum(np.flip(a, axis=1), axis=1), axis=1)


def _frames(prep: pd.DataFrame, model: StageModel, by: list[str]
            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(model.stages)
    groups, a = _grouped(prep, by, n)
    reached = _reverse_cumsum(a["total"])
    value = _reverse_cumsum(a["budget"])
    g = len(groups)
    first = reached[:, :1]
    stages = pd.DataFrame({
        **{c: np.repeat(groups[c].to_numpy(object), n) for c in by},
        "number": np.tile(np.arange(1, n + 1), g),
        "stage": np.tile(np.array(model.ids, dtype=object), g),
        "label": np.tile(np.array(model.labels, dtype=object), g),
        "reached": reached.ravel().astype(np.int64),
        "open": a["open"].ravel().astype(np.int64),
        "won": a["won"].ravel().astype(np.int64),
        "lost": a["lost"].ravel().astype(np.int64),
        "share_of_first": np.divide(reached, first, out=np.full(reached.shape, np.nan),
                                    where=first > 0).ravel(),
        "value_reached": value.ravel(),
    })
    entered, advanced = reached[:, :-1], reached[:, 1:]
    open_, lost, won = a["open"][:, :-1], a["lost"][:, :-1], a["won"][:, :-1]
    decided = entered - open_
    m = n - 1

    def ratio(num: np.ndarray) -> np.ndarray:
        return np.divide(num, decided, out=np.full(num.shape, np.nan), where=decided > 0).ravel()

    transitions = pd.DataFrame({
        **{c: np.repeat(groups[c].to_numpy(object), m) for c in by},
        "number": np.tile(np.arange(1, n), g),
        "from_stage": np.tile(np.array(model.ids[:-1], dtype=object), g),
        "to_stage": np.tile(np.array(model.ids[1:], dtype=object), g),
        "entered": entered.ravel().astype(np.int64),
        "advanced": advanced.ravel().astype(np.int64),
        "open": open_.ravel().astype(np.int64),
        "lost": lost.ravel().astype(np.int64),
        "stopped": won.ravel().astype(np.int64),
        "decided": decided.ravel().astype(np.int64),
        "conversion": ratio(advanced),
        "lost_share": ratio(lost),
    })
    return stages, transitions


def weakest_link(transitions: pd.DataFrame) -> pd.Series | None:
    """The transition with the largest share lost (ties: more deals lost, then the earlier
    one); ``None`` if no deal has been lost yet."""
    cand = transitions[transitions["lost"] > 0]
    if cand.empty:
        return None
    order = cand.sort_values(["lost_share", "lost", "number"], ascending=[False, False, True])
    return order.iloc[0]


_WEAKEST = ["number", "from_stage", "to_stage", "entered", "decided", "lost", "lost_share"]


@dataclass(frozen=True)
class Funnel:
    """Stage counts and transitions of a selection of deals, overall or per group.

    ``stages``: ``number``, ``stage``, ``label``, ``reached``, ``open`` / ``won`` / ``lost``
    (deals whose furthest stage it is), ``share_of_first`` and ``value_reached`` (budget of the
    deals that reached it). ``transitions``: see the module notes. ``totals``: :func:`conversion`
    (one row, or one per group). A funnel split ``by`` a grouping has the group's columns
    (:func:`group_columns`) first in each table.
    """

    stages: pd.DataFrame
    transitions: pd.DataFrame
    totals: pd.DataFrame
    model: StageModel
    by: tuple[str, ...] = ()
    """The grouping (e.g. ``("planner",)``); ``()`` for the whole selection."""

    @property
    def weakest(self) -> pd.Series | None:
        """The weakest link (:func:`weakest_link`) of a funnel that is not split; a split one
        has one per group: :attr:`weakest_links`."""
        if self.by:
            raise ValueError(f"this funnel is split by {', '.join(self.by)}: each group has its "
                             "own weakest link; use .weakest_links (one row per group)")
        return weakest_link(self.transitions)

    @property
    def weakest_links(self) -> pd.DataFrame:
        """The weakest link of each group (of the whole selection if not split): the group's
        columns, then ``number``, ``from_stage``, ``to_stage``, ``entered``, ``decided``,
        ``lost`` and ``lost_share`` of its weakest transition -- missing (``<NA>`` / NaN) for a
        group that has lost no deal yet, which is still listed."""
        cols = group_columns(self.by)
        tr = self.transitions
        cand = tr[tr["lost"] > 0].sort_values(
            [*cols, "lost_share", "lost", "number"],
            ascending=[True] * len(cols) + [False, False, True])
        if cols:
            best = cand.drop_duplicates(cols)[[*cols, *_WEAKEST]]
            out = self.totals[cols].merge(best, on=cols, how="left")
        else:
            out = cand.head(1)[_WEAKEST].reset_index(drop=True).reindex([0])
        return out.astype({c: "Int64" for c in ("number", "entered", "decided", "lost")})


def funnel(t: Tables, *, by: str | Sequence[str] | None = None, team: Team | None = None,
           stages: StageModel | None = None, period: str | None = None,
           as_of: date | None = None) -> Funnel:
    """The funnel of the deals in ``t``, overall or per ``by``.

    ``by``: ``"manager"``, ``"planner"`` (the managers' planners: needs ``team``),
    ``"account_id"``, ``"product_group"`` or several of them; each group then has its own stage
    counts, transitions, totals and weakest link (:attr:`Funnel.weakest_links`). ``team`` gives
    the people's names (see the module notes). ``period`` keeps the deals created in it (or,
    without a creation date, planned for it; a period without deals raises
    :class:`~kam.periods.NoData`); ``as_of`` shows the funnel as it stood on that date (later
    deals, outcomes and history entries are ignored).

    Examples
    --------
    >>> from kam.model import Account, Deal, Dossier, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), deals=[
    ...     Deal(id="D1", title="Pumps", stage="lead", outcome="refused", refusal_reason="no need"),
    ...     Deal(id="D2", title="Valves", stage="potential", outcome="refused",
    ...          refusal_reason="high price"),
    ...     Deal(id="D3", title="Seals", stage="sale", outcome="won")])
    >>> f = funnel(tables([d]))
    >>> f.stages[["stage", "reached"]].head(4).to_dict("list")
    {'stage': ['lead', 'potential', 'sale', 'buyer'], 'reached': [3, 2, 1, 1]}
    >>> w = f.weakest
    >>> w["from_stage"], w["to_stage"], float(w["lost_share"])
    ('potential', 'sale', 0.5)
    """
    model = stages if stages is not None else load_stages()
    keys = _keys(by, ("manager", "planner", "account_id", "product_group"), "split the funnel")
    prep = with_people(_prepare(t, model, period, as_of), keys, team)
    cols = group_columns(keys)
    st, tr = _frames(prep, model, cols)
    return Funnel(st, tr, _conversion(prep, cols), model, tuple(keys))


def _conversion(prep: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    status = prep["status"]
    frame = prep.assign(worked=1, open=(status == "open").astype(int),
                        won=(status == "won").astype(int), lost=(status == "lost").astype(int),
                        budget_worked=prep["budget"])
    cols = ["worked", "open", "won", "lost", "budget_worked", "value_won"]
    if by:
        out = frame.groupby(by, sort=True)[cols].sum().reset_index()
    else:
        out = frame[cols].sum().to_frame().T.astype({c: "float64" for c in cols})
    out[["worked", "open", "won", "lost"]] = out[["worked", "open", "won", "lost"]].astype("int64")
    out["conversion"] = out["won"] / out["worked"].where(out["worked"] > 0)
    out["win_rate"] = out["won"] / (out["won"] + out["lost"]).where(out["won"] + out["lost"] > 0)
    out["financial_conversion"] = out["value_won"] / out["budget_worked"].where(
        out["budget_worked"] > 0)
    return out


def conversion(t: Tables, *, by: str | Sequence[str] | None = None, team: Team | None = None,
               stages: StageModel | None = None, period: str | None = None,
               as_of: date | None = None) -> pd.DataFrame:
    """Quantitative and financial conversion, overall or per ``by``.

    ``by``: ``"manager"`` (the deal's manager), ``"planner"`` (the manager's planner, up the
    team's reporting line: needs ``team``; managers without one under ``(no planner)``),
    ``"account_id"``, ``"product_group"``, or a list of them (e.g. ``["planner", "manager"]``).
    A grouping by people gives an id column and a name column: ``manager_id`` and ``manager``,
    ``planner_id`` and ``planner`` (names from ``team``; the ids without it).

    Columns: the groups, ``worked`` (deals), ``open``, ``won``, ``lost``, ``budget_worked``
    (planned budgets of the deals worked), ``value_won`` (actual value of the won deals),
    ``conversion`` (won / worked), ``win_rate`` (won / closed) and ``financial_conversion``
    (value won / budget worked). A manager with a low count conversion can bring more money
    (``value_won``) than one with a high one: compare both.

    Examples
    --------
    >>> from kam.model import Account, Deal, Dossier, Team, TeamMember, tables
    >>> team = Team(members=[TeamMember(id="dir", name="Dana Reyes", role="planner"),
    ...                      TeamMember(id="ann", name="Ann Lee", manager="dir")])
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), deals=[
    ...     Deal(id="D1", title="Pumps", stage="sale", outcome="won", manager="ann"),
    ...     Deal(id="D2", title="Valves", stage="lead", manager="dir")])
    >>> c = conversion(tables([d]), by="planner", team=team)
    >>> c[["planner_id", "planner", "worked", "won"]].to_dict("records")
    [{'planner_id': 'dir', 'planner': 'Dana Reyes', 'worked': 2, 'won': 1}]
    """
    model = stages if stages is not None else load_stages()
    keys = _keys(by, ("manager", "planner", "account_id", "product_group"),
                 "compute conversion")
    prep = with_people(_prepare(t, model, period, as_of), keys, team)
    return _conversion(prep, group_columns(keys))


def manager_stage_conversion(t: Tables, *, by: str = "manager", team: Team | None = None,
                             threshold: float = 0.05, stages: StageModel | None = None,
                             period: str | None = None, as_of: date | None = None
                             ) -> pd.DataFrame:
    """Cross statistics: each manager's (or planner's) conversion per transition against the
    team's.

    ``by``: ``"manager"`` or ``"planner"`` (the managers' planners, needs ``team``). Returns the
    transitions (see the module notes) per group -- ``manager_id`` and ``manager`` (or
    ``planner_id`` and ``planner``: id and name) -- plus ``team_conversion``, ``gap`` (group -
    team), ``behind`` (gap below ``-threshold``) and ``lagging`` (the transition where the group
    falls furthest behind the team, if behind at all).
    """
    model = stages if stages is not None else load_stages()
    keys = _keys(by, PEOPLE, "compare conversion")
    cols = group_columns(keys)
    prep = with_people(_prepare(t, model, period, as_of), keys, team)
    _, whole = _frames(prep, model, [])
    _, per = _frames(prep, model, cols)
    out = per.merge(whole[["number", "conversion"]].rename(
        columns={"conversion": "team_conversion"}), on="number", how="left")
    out["gap"] = out["conversion"] - out["team_conversion"]
    out["behind"] = (out["gap"] < -threshold).fillna(False).astype(bool)
    worst = out[out["behind"]].sort_values([cols[0], "gap", "number"]).drop_duplicates(cols[0])
    out["lagging"] = out.index.isin(worst.index)
    return out


def loss_reasons(t: Tables, *, stages: StageModel | None = None, period: str | None = None,
                 as_of: date | None = None) -> pd.DataFrame:
    """Lost deals per stage (where they were lost) and refusal reason.

    Columns: ``number``, ``stage``, ``reason``, ``lost``, ``share_of_stage`` (of that stage's
    losses) and ``share_of_all``. A declined deal without a reason shows as
    ``(declined by us)``, a refusal without one as ``(no reason given)``.
    """
    model = stages if stages is not None else load_stages()
    prep = _prepare(t, model, period, as_of)
    cols = ["number", "stage", "reason", "lost", "share_of_stage", "share_of_all"]
    lost = prep[prep["status"] == "lost"]
    if lost.empty:
        return pd.DataFrame(columns=cols)
    reason = lost["refusal_reason"].astype(object)
    fallback = np.where(lost["outcome"] == "declined", "(declined by us)", "(no reason given)")
    lost = lost.assign(reason=reason.where(reason.notna(), fallback),
                       number=lost["reached"] + 1)
    out = lost.groupby(["number", "reason"], sort=True).size().rename("lost").reset_index()
    out["stage"] = np.asarray(model.ids, dtype=object)[out["number"].to_numpy() - 1]
    out["share_of_stage"] = out["lost"] / out.groupby("number")["lost"].transform("sum")
    out["share_of_all"] = out["lost"] / out["lost"].sum()
    return out.sort_values(["number", "lost", "reason"], ascending=[True, False, True],
                           ignore_index=True)[cols]


def time_in_stage(t: Tables, *, as_of: date | None = None, stages: StageModel | None = None,
                  per_deal: bool = False) -> pd.DataFrame:
    """Days deals spent in each stage, from their history (:attr:`~kam.model.Deal.history`).

    A stay ends when the next stage is entered or when the deal closed, whichever comes first;
    an open deal's current stay runs until ``as_of`` (and is left out without it); the stage a
    deal entered on the day it closed is where it ended, not a stay. Deals without a history
    are not counted. Days are never negative: a history entry dated after ``as_of`` is not
    counted (on that date the deal had not entered the stage yet -- or the date is a typo), and
    the summary reports such entries per stage in ``dated_after_as_of``.

    Returns per stage ``deals``, ``mean_days``, ``median_days``, ``max_days``, ``still_open``
    and ``dated_after_as_of`` (a stage with only such entries is listed with no stay) -- or,
    with ``per_deal=True``, one row per stay counted.

    Examples
    --------
    >>> from kam.model import Account, Deal, Dossier, StageChange, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), deals=[
    ...     Deal(id="D1", title="Pumps", stage="potential", created=date(2025, 1, 1), history=[
    ...         StageChange(stage="lead", on=date(2025, 1, 1)),
    ...         StageChange(stage="potential", on=date(2025, 3, 1))])])
    >>> s = time_in_stage(tables([d]), as_of=date(2025, 2, 1))
    >>> s[["stage", "deals", "max_days", "still_open", "dated_after_as_of"]].to_dict("records")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'stage': 'lead', 'deals': 1, 'max_days': 31.0, 'still_open': 1, 'dated_after_as_of': 0},
     {'stage': 'potential', 'deals': 0, 'max_days': nan, 'still_open': 0,
      'dated_after_as_of': 1}]
    """
    model = stages if stages is not None else load_stages()
    cols = ["number", "stage", "deals", "mean_days", "median_days", "max_days", "still_open",
            "dated_after_as_of"]
    stay_cols = ["account_id", "deal_id", "stage", "start", "end", "days", "open"]
    hist = frame_of(t, "deal_history")
    if hist.empty:
        return pd.DataFrame(columns=stay_cols if per_deal else cols)
    pos = model.positions(hist["stage"], hist, what="deal history entries")
    later = np.zeros(len(model.stages), dtype=np.int64)
    if as_of is not None:
        after = _after(hist["on"], as_of)
        later = np.bincount(pos[after], minlength=len(model.stages))
        hist, pos = hist[~after], pos[~after]
    h = pd.DataFrame({"account_id": hist["account_id"].to_numpy(object),
                      "deal_id": hist["deal_id"].to_numpy(object), "pos": pos,
                      "start": pd.to_datetime(hist["on"]).to_numpy("datetime64[ns]")})
    h = h.sort_values(["account_id", "deal_id", "start"], kind="stable", ignore_index=True)
    same = (h["account_id"].eq(h["account_id"].shift(-1))
            & h["deal_id"].eq(h["deal_id"].shift(-1))).to_numpy()
    nxt = h["start"].shift(-1).to_numpy("datetime64[ns]")
    d = frame_of(t, "deals")
    closed = pd.Series(pd.to_datetime(d["closed_on"]).to_numpy("datetime64[ns]"),
                       index=pd.MultiIndex.from_arrays([d["account_id"].to_numpy(object),
                                                        d["id"].to_numpy(object)]))
    if as_of is not None:
        closed = closed.where(closed <= pd.Timestamp(as_of))
    keys = pd.MultiIndex.from_arrays([h["account_id"].to_numpy(object),
                                      h["deal_id"].to_numpy(object)])
    close = closed[~closed.index.duplicated()].reindex(keys).to_numpy("datetime64[ns]")
    until = np.datetime64(pd.Timestamp(as_of) if as_of else "NaT", "ns")
    end = np.where(same, nxt, np.where(pd.isna(close), until, close))
    h["end"] = np.where(close < end, close, end)  # the deal closed before its next stage
    h["open"] = ~same & pd.isna(close)
    # a stage entered on the day the deal closed (e.g. "buyer" when won) is where it ended, not
    # a stay; a stay without an end (open deal, no as_of) cannot be measured
    h = h[h["end"].notna() & ~(h["start"].to_numpy() >= close)]
    h = h.assign(days=(h["end"] - h["start"]).dt.days.astype(np.int64),
                 stage=np.asarray(model.ids, dtype=object)[h["pos"].to_numpy()])
    if per_deal:
        return h[stay_cols].reset_index(drop=True)
    stats = h.groupby("pos").agg(deals=("days", "size"), mean_days=("days", "mean"),
                                 median_days=("days", "median"), max_days=("days", "max"),
                                 still_open=("open", "sum"))
    shown = sorted(set(stats.index.tolist()) | set(np.flatnonzero(later).tolist()))
    out = stats.reindex(shown)
    out[["deals", "still_open"]] = out[["deals", "still_open"]].fillna(0).astype(np.int64)
    out["number"] = out.index + 1
    out["stage"] = np.asarray(model.ids, dtype=object)[out.index.to_numpy(np.int64)]
    out["dated_after_as_of"] = later[out.index.to_numpy(np.int64)]
    return out.reset_index(drop=True)[cols]
