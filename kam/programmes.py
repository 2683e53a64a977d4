"""Special programmes: select the client group, cost it, rate it, measure its results
(DOMAIN.md §11 "building client groups for a special programme such as a seminar or a mailing,
and tracking that programme's delivery and results"; §7 cost-to-serve; §8 event rating).

The record is :class:`~kam.model.programme.Programme` (its filters, deliveries, cost and event
points); this module holds the pure functions over it and :func:`kam.model.tables`:

- :func:`population` / :func:`select_group` -- the accounts matching a programme's filters
  (category, stages, region, industry, KAM, product group, revenue, rating, health, ...);
- :func:`programme_costs` -- its cost as cost-to-serve lines of category ``special
  programmes``, split equally over the accounts it reached;
- :func:`apply_programme` -- the dossiers edited for it: each delivered account gets its cost
  line and an **event** rating entry for the programme (DOMAIN.md §8: assigned once per
  campaign; the latest entry of a campaign holds, so applying again corrects, never adds);
- :func:`programme_results` -- follow-up interactions, deals opened and won, revenue after the
  programme, for the participants against a comparison group.

Storing: ``ws.save_many(apply_programme(ws.load_all(), prog), team=team, ...)`` saves the team
document holding the programme and every changed dossier in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, ValidationProblem
from .model import CostLine, Dossier, RatingEntry, Tables
from .model.base import FieldError
from .model.cost_config import CostToServeConfig, default_cost_config
from .model.programme import Programme, check_filters
from .periods import bounds, frame_of, select
from .profitability import account_names
from .rating import client_rating

__all__ = [
    "CATEGORY",
    "GROUPS",
    "ProgrammeResults",
    "apply_programme",
    "population",
    "programme_costs",
    "programme_results",
    "select_group",
]

CATEGORY = "special programmes"
"""The cost-to-serve category a programme's cost is booked to (``templates/cost_to_serve.yaml``)."""
GROUPS = ("participants", "not reached", "comparison")
"""The groups :func:`programme_results` compares."""
_ACCOUNT_FIELDS = ("category", "sales_stage", "relationship_stage", "region", "industry", "kam",
                   "group", "account_id")


def _problem(record: str, field: str, message: str) -> InputError:
    return InputError([ValidationProblem(record=record, field=field, message=message)])


def _month(day: date) -> int:
    return day.year * 12 + day.month - 1


def population(t: Tables, filters: Mapping[str, Any], *, as_of: date | None = None,
               revenue_period: str | None = None,
               health: pd.DataFrame | None = None) -> pd.DataFrame:
    """The accounts of ``t`` matching every filter (see
    :mod:`kam.model.programme` for the fields and conditions), sorted by id.

    ``rating`` is the total client rating (:func:`kam.rating.client_rating`) and ``revenue``
    our sales over ``revenue_period`` (all periods when empty), both counting only what was
    known on ``as_of``; ``health`` needs the health scores as a frame with ``account_id`` and
    ``score`` (:func:`kam.health.health_table`). Returns ``account_id``, ``name`` and a column
    per filter with each account's value.

    Raises
    ------
    InputError
        An unknown filter field (naming the valid ones), a bad condition, or a ``health``
        filter without the health scores.

    Examples
    --------
    >>> from kam.model import Account, Dossier, tables
    >>> t = tables([Dossier(account=Account(id=i, name=i, category=c, region=r))
    ...             for i, c, r in (("A1", "A", "North"), ("B1", "B", "North"),
    ...                             ("C1", "C", "South"))])
    >>> population(t, {"category": ["A", "B"], "region": "North"})["account_id"].tolist()
    ['A1', 'B1']
    >>> population(t, {"segment": "x"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kam.errors.InputError: programme filters, field 'segment': unknown filter field 'segment'; ...
    """
    try:
        checked = check_filters(filters)
    except FieldError as e:
        raise _problem("programme filters", e.field or "filters", str(e)) from None
    acc = frame_of(t, "accounts").drop_duplicates("account_id")
    ids = acc["account_id"].to_numpy(object)
    keep = np.ones(len(acc), dtype=bool)
    shown: dict[str, np.ndarray] = {}
    for name, cond in checked.items():
        if name in _ACCOUNT_FIELDS:
            values = acc[name].astype(object).to_numpy()
            wanted = cond if isinstance(cond, list) else [cond]
            keep &= pd.Series(values).isin(wanted).to_numpy(bool)
        elif name == "product_group":
            wanted = cond if isinstance(cond, list) else [cond]
            who: set[str] = set()
            for frame in (frame_of(t, "revenue"), frame_of(t, "deals")):
                if len(frame):
                    hit = frame["product_group"].isin(wanted).to_numpy(bool)
                    who.update(frame["account_id"].to_numpy(object)[hit])
            values = np.array([i in who for i in ids])
            keep &= values
        else:
            values = _numbers(t, acc, name, as_of, revenue_period, health)
            lo, hi = cond.get("min", -np.inf), cond.get("max", np.inf)
            with np.errstate(invalid="ignore"):
                keep &= (values >= lo) & (values <= hi)
        shown[name] = values
    out = pd.DataFrame({"account_id": ids, "name": acc["name"].to_numpy(object),
                        **shown})[keep]
    return out.sort_values("account_id", ignore_index=True)


def _numbers(t: Tables, acc: pd.DataFrame, name: str, as_of: date | None,
             revenue_period: str | None, health: pd.DataFrame | None) -> np.ndarray:
    """One number per account (NaN where unknown) for a range filter."""
    ids = pd.Index(acc["account_id"].to_numpy(object))
    if name in ("employees", "client_revenue"):
        return pd.to_numeric(acc[name], errors="coerce").astype("float64").to_numpy()
    if name == "revenue":
        lines = select(frame_of(t, "revenue"), revenue_period, as_of, what="revenue lines")
        rev = pd.to_numeric(lines["revenue"], errors="coerce").groupby(
            lines["account_id"].to_numpy(object)).sum() if len(lines) else pd.Series(dtype=float)
        return rev.reindex(ids).fillna(0.0).to_numpy(dtype="float64")
    if name == "rating":
        r = client_rating(t, as_of=as_of).set_index("account_id")["total"]
        return r.reindex(ids).fillna(0.0).to_numpy(dtype="float64")
    if health is None or not {"account_id", "score"} <= set(health.columns):
        raise _problem("programme filters", "health", "a filter on health needs the health "
                       "scores: pass health=kam.health.health_table(dossiers, today)")
    return (health.drop_duplicates("account_id").set_index("account_id")["score"]
            .reindex(ids).astype("float64").to_numpy())


def select_group(t: Tables, programme: Programme, *,
                 health: pd.DataFrame | None = None) -> pd.DataFrame:
    """The client group of ``programme``: its filters over ``t`` as known on its start day
    (:func:`population`)."""
    return population(t, programme.filters, as_of=programme.start,
                      revenue_period=programme.revenue_period, health=health)


# -- cost and rating --------------------------------------------------------------------------
def programme_costs(programme: Programme, *,
                    config: CostToServeConfig | None = None) -> pd.DataFrame:
    """The programme's cost as cost-to-serve lines: ``account_id``, ``period`` (the month of
    its last day), ``category`` (``special programmes``) and ``amount``.

    The cost is split equally over the accounts the programme **reached** (its participants:
    attended, mailed); if it reached none, over every account it was delivered to (the money
    was spent on them). Amounts are in cents, the last account takes the rounding remainder, so
    the lines add up to the cost exactly.

    Examples
    --------
    A seminar costing 1,000 reached three accounts: 333.33 + 333.33 + 333.34.

    >>> from datetime import date
    >>> p = Programme(id="SEM", name="Seminar", start=date(2026, 3, 12), cost=1000,
    ...               deliveries=[{"account": a, "status": s} for a, s in (
    ...                   ("A", "attended"), ("B", "attended"), ("C", "invited"),
    ...                   ("D", "attended"))])
    >>> programme_costs(p)[["account_id", "period", "amount"]].values.tolist()
    [['A', '2026-03', 333.33], ['B', '2026-03', 333.33], ['D', '2026-03', 333.34]]
    """
    cfg = config or default_cost_config()
    category = cfg.category(CATEGORY)  # KeyError if the configuration lacks it
    accounts = programme.reached() or programme.accounts()
    cols = ["account_id", "period", "category", "amount"]
    if not accounts or programme.cost == 0:
        return pd.DataFrame(columns=cols)
    cents = round(programme.cost * 100)
    share = cents // len(accounts)
    amounts = [share] * len(accounts)
    amounts[-1] += cents - share * len(accounts)
    day = programme.last_day
    return pd.DataFrame({"account_id": accounts, "period": f"{day.year}-{day.month:02d}",
                         "category": category, "amount": [a / 100 for a in amounts]})[cols]


def apply_programme(dossiers: Iterable[Dossier], programme: Programme, *,
                    config: CostToServeConfig | None = None) -> list[Dossier]:
    """Edited copies of the dossiers the programme touches: each delivered account gets its
    share of the cost (a cost line ``C-<programme id>``, :func:`programme_costs`) and an event
    rating entry ``RT-<programme id>`` (campaign = the programme's id, points by its delivery
    status from :attr:`~kam.model.programme.Programme.points`, 0 for a status without
    points); an account no longer in the programme loses both. Applying again after a change
    replaces the lines instead of adding to them. Unchanged dossiers are left out.

    Raises :class:`~kam.errors.InputError` if a delivered account is not among ``dossiers``.
    """
    costs = programme_costs(programme, config=config).set_index("account_id")
    delivered = {x.account: x for x in programme.deliveries}
    ds = list(dossiers)
    missing = sorted(set(delivered) - {d.account.id for d in ds})
    if missing:
        raise _problem(f"programme {programme.id}", "deliveries",
                       f"account {missing[0]!r} is not in the workspace; remove its delivery "
                       "or import the account first")
    line_id, rating_id = f"C-{programme.id}", f"RT-{programme.id}"
    out = []
    for d in ds:
        x = delivered.get(d.account.id)
        has = any(c.id == line_id for c in d.costs) or any(r.id == rating_id for r in d.ratings)
        if x is None and not has:
            continue
        copy = d.model_copy(deep=True)
        copy.costs = [c for c in copy.costs if c.id != line_id]
        copy.ratings = [r for r in copy.ratings if r.id != rating_id]
        if x is not None:
            if d.account.id in costs.index:
                row = costs.loc[d.account.id]
                copy.costs.append(CostLine(id=line_id, period=row["period"],
                                           category=row["category"], amount=row["amount"],
                                           note=f"{programme.name} ({programme.kind.value})"))
            copy.ratings.append(RatingEntry(
                id=rating_id, kind="event", points=programme.points.get(x.status, 0.0),
                on=x.on or programme.last_day, campaign=programme.id, by=programme.owner,
                note=f"{programme.name}: {x.status.value}"))
        if copy != d:
            out.append(copy)
    return out


# -- results ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgrammeResults:
    """What came of a programme, per group and per account (:func:`programme_results`).

    ``groups``: one row per group of :data:`GROUPS` -- ``accounts``, ``interactions``,
    ``deals_opened``, ``deals_won``, ``value_won``, ``revenue_before``, ``revenue_after`` and
    the same per account (``*_per_account``; NaN for an empty group); ``accounts``: one row
    per account with its ``group``; ``start`` / ``end``: the window after the programme;
    ``comparison``: how the comparison group was built.
    """

    groups: pd.DataFrame
    accounts: pd.DataFrame
    start: date
    end: date
    comparison: str

    def lift(self) -> pd.DataFrame:
        """Participants minus the comparison group, per account: ``measure``,
        ``participants``, ``comparison``, ``difference``."""
        per = {r["group"]: r for r in self.groups.to_dict("records")}
        rows = []
        for m in _MEASURES:
            col = f"{m}_per_account"
            p, c = float(per["participants"][col]), float(per["comparison"][col])
            rows.append({"measure": m, "participants": p, "comparison": c,
                         "difference": p - c})
        return pd.DataFrame(rows)


_MEASURES = ("interactions", "deals_opened", "deals_won", "value_won", "revenue_before",
             "revenue_after", "revenue_change")


def programme_results(t: Tables, programme: Programme, *, months: int = 3,
                      as_of: date | None = None,
                      health: pd.DataFrame | None = None) -> ProgrammeResults:
    """Follow-up interactions, deals opened and won, and revenue after ``programme``, for
    its participants against a comparison group.

    **Groups.** ``participants``: the accounts the programme reached (attended, mailed);
    ``not reached``: delivered but not reached (invited and not come, bounced);
    ``comparison``: the programme's own filters applied again to ``t`` as known on its start
    day (:func:`select_group`), **minus every account the programme was delivered to** --
    the clients who qualified for it but were not in it. (Not matched on size: the filters
    define who is comparable.)

    **Window.** ``months`` calendar months after the programme's last day (cut at
    ``as_of``): interactions dated after the last day and up to the window's end, deals
    created in it, deals won (closed) in it with their value (actual, else refined, else
    planned budget). Revenue counts whole periods: ``revenue_after`` the lines of the
    ``months`` months after the programme's month, ``revenue_before`` those of the
    ``months`` months before it (a line spanning the programme's month counts in neither),
    ``revenue_change`` the difference.

    Examples
    --------
    See ``tests/test_programmes.py`` for a worked example by hand.
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    last = programme.last_day
    end = (pd.Timestamp(last) + pd.DateOffset(months=months)).date()
    if as_of is not None:
        end = min(end, as_of)
    group = select_group(t, programme, health=health)
    delivered = set(programme.accounts())
    reached = set(programme.reached())
    comparison = sorted(set(group["account_id"]) - delivered)
    members = ([(a, "participants") for a in sorted(reached)]
               + [(a, "not reached") for a in sorted(delivered - reached)]
               + [(a, "comparison") for a in comparison])
    acc = pd.DataFrame(members, columns=["account_id", "group"])
    acc.insert(1, "name", account_names(t, acc["account_id"]).to_numpy(object)
               if len(acc) else [])
    ids = pd.Index(acc["account_id"].to_numpy(object))
    after = (pd.Timestamp(last), pd.Timestamp(end))

    def count(frame: pd.DataFrame, column: str, value: str | None = None) -> pd.Series:
        if frame.empty:
            return pd.Series(0.0, index=ids)
        day = pd.to_datetime(frame[column])
        hit = ((day > after[0]) & (day <= after[1])).to_numpy(bool)
        f = frame[hit & frame["account_id"].isin(ids).to_numpy(bool)]
        if value is None:
            return f.groupby("account_id").size().reindex(ids).fillna(0).astype(float)
        return f.groupby("account_id")[value].sum().reindex(ids).fillna(0.0)

    inter = t.interactions
    deals = frame_of(t, "deals")
    acc["interactions"] = count(inter, "date").to_numpy()
    acc["deals_opened"] = count(deals, "created").to_numpy()
    if deals.empty:
        won = deals
    else:
        won = deals[(deals["outcome"].astype(object) == "won").to_numpy(bool)]
        value = pd.to_numeric(won["actual_budget"], errors="coerce")
        for c in ("refined_budget", "planned_budget"):
            value = value.fillna(pd.to_numeric(won[c], errors="coerce"))
        won = won.assign(value=value.fillna(0.0))
    acc["deals_won"] = count(won, "closed_on").to_numpy()
    acc["value_won"] = count(won, "closed_on", "value").to_numpy()
    m0 = _month(last)
    acc["revenue_before"] = _revenue(t, ids, m0 - months, m0 - 1)
    acc["revenue_after"] = _revenue(t, ids, m0 + 1, min(m0 + months, _month(end)))
    acc["revenue_change"] = acc["revenue_after"] - acc["revenue_before"]
    rows = []
    for g in GROUPS:
        part = acc[acc["group"] == g]
        row: dict[str, Any] = {"group": g, "accounts": len(part)}
        for m in _MEASURES:
            row[m] = float(part[m].sum())
        for m in _MEASURES:
            row[f"{m}_per_account"] = row[m] / len(part) if len(part) else float("nan")
        rows.append(row)
    how = ("the programme's filters applied again as of its start, minus every account it "
           f"was delivered to ({len(comparison)} accounts)")
    return ProgrammeResults(pd.DataFrame(rows), acc, last, end, how)


def _revenue(t: Tables, ids: pd.Index, first: int, last: int) -> np.ndarray:
    """Revenue per account of the lines lying within months ``first`` .. ``last``."""
    rev = frame_of(t, "revenue")
    if rev.empty or last < first:
        return np.zeros(len(ids))
    rev = rev[rev["account_id"].isin(ids).to_numpy(bool)]
    if rev.empty:
        return np.zeros(len(ids))
    s, e = bounds(rev["period"], what="revenue lines")
    inside = rev[(s >= first) & (e <= last)]
    amount = pd.to_numeric(inside["revenue"], errors="coerce").fillna(0.0)
    return (amount.groupby(inside["account_id"].to_numpy(object)).sum()
            .reindex(ids).fillna(0.0).to_numpy(dtype="float64"))
