"""Profitability of key accounts: margin, cost-to-serve, net contribution (DOMAIN.md §7).

Every function reads the flat frames of :func:`kam.model.tables` (revenue, costs, activities,
budgets) and works on one account, a manager's accounts (:meth:`~kam.model.Tables.for_accounts`)
or the whole portfolio, by month, quarter or year (``freq``), for a ``period`` or up to a date
(``as_of``).

The **price waterfall** of an account, each amount counted once (DOMAIN.md §7)::

    list value                    quantity x list price (RevenueLine.list_value)
    - price discounts             off the invoice: list value - net revenue
    = net revenue                 RevenueLine.revenue, what the client was invoiced
    - cost of goods               RevenueLine.cogs
    = gross margin
    - cost-to-serve               activity costs and booked costs, rebates paid after the
                                  invoice included
    = net contribution

A discount given on the invoice is already out of net revenue, so it is *not* part of
cost-to-serve: it is shown (:func:`price_discounts`, the ``price_discount`` column of
:func:`profitability`), analysed and may have a budget (:func:`budget_vs_actual`), but it is
never subtracted a second time. A revenue line without a list value counts at its net revenue
(no discount known).

How booked costs and activity-based costs combine (the *basis*; nothing is counted twice):

- ``basis="booked"`` (default): cost-to-serve = the cost lines booked to each category. Activity
  counts are not used (:attr:`Profitability.notes` says so when there are some).
- ``basis="activity"``: every category that an activity rate feeds (``order handling``,
  ``sales visits``, ``logistics`` by default) is costed as activity count x rate, and booked
  lines in those categories are *replaced*, not added; categories no rate feeds (key-account
  team, technical support, rebates, special programmes) keep their booked lines.

:func:`compare_bases` shows both views of the activity-fed categories side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import InputError, ValidationProblem
from .model import Tables
from .model.cost_config import (
    ActivityRate,
    CostToServeConfig,
    default_cost_config,
    load_cost_to_serve,
)
from .model.cost_config import category_key as _key
from .periods import NoData, bounds, check_freq, frame_of, label, select, span, to_freq

__all__ = [
    "ACCOUNT_COLUMNS",
    "ActivityRate",
    "Basis",
    "CostToServeConfig",
    "Profitability",
    "WhaleCurve",
    "account_names",
    "activity_costs",
    "budget_vs_actual",
    "compare_bases",
    "cost_to_serve",
    "elapsed_through",
    "load_cost_to_serve",
    "price_discounts",
    "profitability",
    "rank_by_contribution",
    "whale_curve",
]

Basis = Literal["booked", "activity"]


def _config(config: CostToServeConfig | Mapping[str, Any] | None) -> CostToServeConfig:
    if config is None:
        return default_cost_config()
    return config if isinstance(config, CostToServeConfig) else load_cost_to_serve(config)


def _canonical(
    frame: pd.DataFrame, column: str, known: dict[str, str], *, what: str, hint: str,
    refused: dict[str, str] | None = None,
) -> pd.Series:
    """Map the names in ``frame[column]`` to their configured spelling; unknown ones raise."""
    codes, uniques = pd.factorize(frame[column].astype(object), use_na_sentinel=False)
    mapped = [known.get(_key(u)) for u in uniques]
    problems = []
    for i, (u, m) in enumerate(zip(uniques, mapped, strict=True)):
        if m is not None:
            continue
        rows = frame[codes == i]
        first = rows.iloc[0]
        record = (f"{len(rows)} {what} (e.g. account {first['account_id']}, period "
                  f"{first['period']})")
        reason = (refused or {}).get(_key(u))
        msg = reason or (f"unknown {column} {u!r}; valid: {', '.join(sorted(set(known.values())))}"
                         f"; {hint}")
        problems.append(ValidationProblem(record=record, field=column, message=msg))
    if problems:
        raise InputError(problems)
    return pd.Series(np.asarray(mapped, dtype=object)[codes], index=frame.index, dtype="str")


def _lines(frame: pd.DataFrame, period: str | None, as_of: date | None, freq: str | None,
           what: str) -> pd.DataFrame:
    """Select lines and relabel their period at ``freq`` (``None``: one total, no period)."""
    out = select(frame, period, as_of, what=what)
    if freq is not None and not out.empty:
        out = out.assign(period=to_freq(out["period"], freq, what=what))
    return out


def _num(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def activity_costs(
    t: Tables, *, freq: str | None = None, period: str | None = None, as_of: date | None = None,
    config: CostToServeConfig | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Activity-based cost-to-serve: each activity count x its rate.

    Returns one row per account, period (if ``freq``) and activity: ``account_id``,
    ``[period]``, ``activity``, ``category``, ``count``, ``rate``, ``cost``. An activity without a
    rate raises :class:`~kam.errors.InputError` listing the known activities.

    Examples
    --------
    >>> from kam.model import Account, ActivityLine, Dossier, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), activities=[
    ...     ActivityLine(period="2025-01", activity="sales visit", count=2),
    ...     ActivityLine(period="2025-02", activity="delivery", count=10)])
    >>> activity_costs(tables([d]))[["activity", "count", "rate", "cost"]]
          activity  count   rate   cost
    0     delivery   10.0   80.0  800.0
    1  sales visit    2.0  450.0  900.0
    """
    cfg = _config(config)
    keys = ["account_id", *(["period"] if freq else [])]
    cols = [*keys, "activity", "category", "count", "rate", "cost"]
    lines = _lines(frame_of(t, "activities"), period, as_of, freq and check_freq(freq),
                   "activity lines")
    if lines.empty:
        return pd.DataFrame(columns=cols)
    known = {_key(a): a for a in cfg.activity_rates}
    activity = _canonical(lines, "activity", known, what="activity lines",
                          hint="add a rate for it to activity_rates in cost_to_serve.yaml")
    lines = lines.assign(activity=activity, count=_num(lines, "count"))
    out = lines.groupby([*keys, "activity"], as_index=False, sort=True)[["count"]].sum()
    rates = {a: r.rate for a, r in cfg.activity_rates.items()}
    cats = {a: cfg.category(r.category) for a, r in cfg.activity_rates.items()}
    out["category"] = out["activity"].map(cats).astype("str")
    out["rate"] = out["activity"].map(rates).astype("float64")
    out["cost"] = out["count"] * out["rate"]
    return out[cols]


def cost_to_serve(
    t: Tables, *, basis: Basis = "booked", freq: str | None = None, period: str | None = None,
    as_of: date | None = None, config: CostToServeConfig | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Cost-to-serve lines by account, period (if ``freq``) and category, on ``basis``.

    Returns ``account_id``, ``[period]``, ``category``, ``source`` (``booked`` or ``activity``)
    and ``amount``. Price discounts are not cost-to-serve (they are already out of net revenue):
    see :func:`price_discounts`. See the module notes for how the bases combine.

    Examples
    --------
    >>> from kam.model import Account, CostLine, Dossier, RevenueLine, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"),
    ...     revenue=[RevenueLine(period="2025-01", revenue=900, list_value=1000)],
    ...     costs=[CostLine(period="2025-01", category="rebates", amount=30)])
    >>> cost_to_serve(tables([d]))
      account_id category  source  amount
    0       ACME  rebates  booked    30.0
    """
    cfg = _config(config)
    if basis not in ("booked", "activity"):
        raise ValueError(f"basis {basis!r} is not known; options are 'booked', 'activity'")
    f = check_freq(freq) if freq else None
    keys = ["account_id", *(["period"] if f else [])]
    cols = [*keys, "category", "source", "amount"]
    parts: list[pd.DataFrame] = []
    booked = _lines(frame_of(t, "costs"), period, as_of, f, "cost lines")
    if not booked.empty:
        known = {_key(c): c for c in cfg.categories}
        refused = {_key(cfg.discount_category): (
            f"{cfg.discount_category!r} are given on the invoice and computed from the revenue "
            "lines (list_value - revenue), so they cannot be booked; book rebates paid after the "
            "invoice to another category such as 'rebates'"
        )}
        cat = _canonical(booked, "category", known, what="cost lines", refused=refused,
                         hint="add it to categories in cost_to_serve.yaml or rebook the line")
        booked = booked.assign(category=cat, amount=_num(booked, "amount"), source="booked")
        if basis == "activity":
            booked = booked[~booked["category"].isin(cfg.activity_categories)]
        parts.append(
            booked.groupby([*keys, "category", "source"], as_index=False)[["amount"]].sum())
    if basis == "activity":
        act = activity_costs(t, freq=f, period=period, as_of=as_of, config=cfg)
        if not act.empty:
            act = act.groupby([*keys, "category"], as_index=False)[["cost"]].sum()
            parts.append(act.rename(columns={"cost": "amount"}).assign(source="activity"))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols].sort_values(
        [*keys, "category"], ignore_index=True)


def price_discounts(
    t: Tables, *, freq: str | None = None, period: str | None = None, as_of: date | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """The price discounts given on the invoice: list value against net revenue.

    One row per account, period (if ``freq``) and the columns in ``by`` (``"product"``,
    ``"product_group"``): ``list_value``, ``revenue`` (net), ``price_discount``
    (``list_value - revenue``), ``discount_pct`` (of the list value; NaN without one) and
    ``unpriced_revenue`` (net revenue of lines without a list value, whose discount is unknown
    and counted as none). The discount is part of the price waterfall above net revenue; it is
    not cost-to-serve and never subtracted from the gross margin.

    Examples
    --------
    >>> from kam.model import Account, Dossier, RevenueLine, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"), revenue=[
    ...     RevenueLine(period="2025-01", product="bolts", revenue=900, list_value=1000),
    ...     RevenueLine(period="2025-02", product="nuts", revenue=500)])
    >>> price_discounts(tables([d]), by="product")[
    ...     ["product", "list_value", "revenue", "price_discount", "discount_pct"]]
      product  list_value  revenue  price_discount  discount_pct
    0   bolts      1000.0    900.0           100.0           0.1
    1    nuts       500.0    500.0             0.0           0.0
    """
    f = check_freq(freq) if freq else None
    extra = [by] if isinstance(by, str) else list(by or [])
    bad = [c for c in extra if c not in ("product", "product_group")]
    if bad:
        raise ValueError(f"by {bad[0]!r} is not known; options are 'product', 'product_group'")
    keys = ["account_id", *(["period"] if f else []), *extra]
    cols = [*keys, "list_value", "revenue", "price_discount", "discount_pct", "unpriced_revenue"]
    rev = _revenue(t, period, as_of, f)
    if rev.empty:
        return pd.DataFrame(columns=cols)
    rev = rev.assign(**{c: rev[c].astype(object).where(rev[c].notna(), "(none)")
                        for c in extra})
    out = rev.groupby(keys, as_index=False, sort=True)[
        ["list_value", "revenue", "price_discount", "unpriced_revenue"]].sum()
    out["discount_pct"] = out["price_discount"] / out["list_value"].where(out["list_value"] != 0)
    return out[cols]


def compare_bases(
    t: Tables, *, freq: str | None = None, period: str | None = None,
    as_of: date | None = None, config: CostToServeConfig | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Booked against activity-based cost for the categories an activity rate feeds: the two
    views side by side, to check the rates against the books (or the books against the work).

    Returns ``account_id``, ``[period]``, ``category``, ``booked``, ``activity_based`` and
    ``difference`` (activity-based - booked), 0 where one side has nothing.
    """
    cfg = _config(config)
    f = check_freq(freq) if freq else None
    keys = ["account_id", *(["period"] if f else [])]
    cols = [*keys, "category", "booked", "activity_based", "difference"]
    booked = cost_to_serve(t, basis="booked", freq=f, period=period, as_of=as_of, config=cfg)
    booked = booked[booked["category"].isin(cfg.activity_categories)]
    act = activity_costs(t, freq=f, period=period, as_of=as_of, config=cfg)
    if booked.empty and act.empty:
        return pd.DataFrame(columns=cols)
    b = booked.groupby([*keys, "category"])["amount"].sum().rename("booked")
    a = act.groupby([*keys, "category"])["cost"].sum().rename("activity_based")
    out = pd.concat([b, a], axis=1).fillna(0.0).reset_index()
    out["difference"] = out["activity_based"] - out["booked"]
    return out[cols].sort_values([*keys, "category"], ignore_index=True)


def _revenue(t: Tables, period: str | None, as_of: date | None, freq: str | None) -> pd.DataFrame:
    """Revenue lines with numeric ``revenue``, ``cogs``, ``list_value`` (net revenue where no
    list value is known), ``price_discount`` and ``unpriced_revenue``."""
    lines = _lines(frame_of(t, "revenue"), period, as_of, freq, "revenue lines")
    if lines.empty:
        return lines
    revenue = _num(lines, "revenue").fillna(0.0)
    listed = _num(lines, "list_value")
    return lines.assign(revenue=revenue, cogs=_num(lines, "cogs").fillna(0.0),
                        list_value=listed.where(listed.notna(), revenue),
                        price_discount=(listed - revenue).where(listed.notna(), 0.0),
                        unpriced_revenue=revenue.where(listed.isna(), 0.0))


ACCOUNT_COLUMNS = ["list_value", "price_discount", "revenue", "cogs", "gross_margin",
                   "gross_margin_pct", "cost_to_serve", "net_contribution", "net_margin_pct"]
"""The figures of :attr:`Profitability.accounts`, in the order of the price waterfall."""


@dataclass(frozen=True)
class Profitability:
    """Profitability per account (and period): the price waterfall (see the module notes).

    ``accounts``: ``account_id``, ``name``, ``[period]``, ``list_value``, ``price_discount``,
    ``revenue`` (net revenue), ``cogs``, ``gross_margin``, ``gross_margin_pct``,
    ``cost_to_serve``, ``net_contribution``, ``net_margin_pct`` (the percentages are fractions of
    net revenue, undefined -- NaN -- where it is 0). ``by_category``: the same keys and one
    column per cost-to-serve category, 0 where nothing was spent (price discounts are not among
    them: they are above net revenue). ``costs``: the long cost lines (:func:`cost_to_serve`).
    ``basis``: how costs were counted; ``notes``: what the basis left out, in words.
    """

    accounts: pd.DataFrame
    by_category: pd.DataFrame
    costs: pd.DataFrame
    basis: Basis
    notes: tuple[str, ...] = ()

    def waterfall(self, account_id: str) -> pd.DataFrame:
        """The price waterfall of one account (a period-less result): ``step``, ``amount``
        and ``kind`` (``total`` for list value, net revenue, gross margin and net contribution,
        ``less`` for what is taken off), top to bottom, each amount counted once.

        Examples
        --------
        >>> from kam.model import Account, CostLine, Dossier, RevenueLine, tables
        >>> d = Dossier(account=Account(id="ACME", name="Acme"),
        ...     revenue=[RevenueLine(period="2025-01", revenue=900, cogs=600, list_value=1000)],
        ...     costs=[CostLine(period="2025-01", category="logistics", amount=50)])
        >>> profitability(tables([d])).waterfall("ACME")
                       step  amount   kind
        0        list value  1000.0  total
        1   price discounts  -100.0   less
        2       net revenue   900.0  total
        3     cost of goods  -600.0   less
        4      gross margin   300.0  total
        5         logistics   -50.0   less
        6  net contribution   250.0  total
        """
        acc = self.accounts[self.accounts["account_id"] == account_id]
        if len(acc) != 1:
            known = ", ".join(self.accounts["account_id"].astype(str).unique()[:10])
            raise ValueError(f"need exactly one row for account {account_id!r} (found "
                             f"{len(acc)}); compute profitability without freq; accounts: "
                             f"{known or '(none)'}")
        a = acc.iloc[0]
        cat = self.by_category[self.by_category["account_id"] == account_id]
        costs = (cat.drop(columns=[c for c in ("account_id", "period") if c in cat]).iloc[0]
                 if len(cat) else pd.Series(dtype="float64"))
        costs = costs[costs != 0]
        steps = [("list value", a["list_value"], "total"),
                 ("price discounts", -a["price_discount"], "less"),
                 ("net revenue", a["revenue"], "total"),
                 ("cost of goods", -a["cogs"], "less"),
                 ("gross margin", a["gross_margin"], "total"),
                 *[(str(k), -float(v), "less") for k, v in costs.items()],
                 ("net contribution", a["net_contribution"], "total")]
        return pd.DataFrame(steps, columns=["step", "amount", "kind"]).astype(
            {"amount": "float64"})


def profitability(
    t: Tables, *, freq: str | None = None, period: str | None = None, as_of: date | None = None,
    basis: Basis = "booked", config: CostToServeConfig | Mapping[str, Any] | None = None,
) -> Profitability:
    """The price waterfall per account (and period): list value, price discounts, net revenue,
    gross margin, cost-to-serve and net contribution.

    Parameters
    ----------
    t : Tables
        The flat tables (:func:`kam.model.tables`), for one account or many.
    freq : {"M", "Q", "Y"}, optional
        One row per account and month / quarter / year; ``None`` (default) gives one row per
        account over the whole selection.
    period : str, optional
        Only lines within this period (``"2025"``, ``"2025-Q1"``, ``"2025-03"``). A period with
        no revenue, cost or activity line raises :class:`~kam.periods.NoData`.
    as_of : date, optional
        Only lines of periods that started on or before this date.
    basis : {"booked", "activity"}
        How cost-to-serve is counted (see the module notes).
    config : CostToServeConfig or mapping, optional
        The cost-to-serve settings; a mapping changes only the settings it names
        (``{"activity_rates": {"order": {"rate": 30}}}``).

    Raises
    ------
    NoData
        When the selection holds no revenue, cost or activity line at all (naming the period
        asked for and the periods the data covers).

    Examples
    --------
    >>> from kam.model import Account, CostLine, Dossier, RevenueLine, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"),
    ...     revenue=[RevenueLine(period="2025-01", revenue=1000, cogs=600, list_value=1100)],
    ...     costs=[CostLine(period="2025-01", category="logistics", amount=150)])
    >>> p = profitability(tables([d]))
    >>> p.accounts[["price_discount", "revenue", "gross_margin", "cost_to_serve",
    ...             "net_contribution"]]
       price_discount  revenue  gross_margin  cost_to_serve  net_contribution
    0           100.0   1000.0         400.0          150.0             250.0
    """
    cfg = _config(config)
    f = check_freq(freq) if freq else None
    keys = ["account_id", *(["period"] if f else [])]
    cats = list(cfg.categories)
    costs = cost_to_serve(t, basis=basis, freq=f, period=period, as_of=as_of, config=cfg)
    rev = _revenue(t, period, as_of, f)
    unused = _unused_activities(t, basis, period, as_of)
    if rev.empty and costs.empty:
        where = f"in period {period!r}" if period is not None else "in the selection"
        if as_of is not None:
            where += f" up to {as_of.isoformat()}"
        left = f"; {unused[0]}" if unused else ""
        raise NoData(f"No revenue or cost lines {where}{_coverage(t)}{left}: there is no "
                     "profitability to compute; choose a period with data")
    money = ["list_value", "price_discount", "revenue", "cogs"]
    sales = (rev.groupby(keys, as_index=False)[money].sum() if not rev.empty
             else pd.DataFrame(columns=[*keys, *money]))
    wide = (costs.pivot_table(index=keys, columns="category", values="amount", aggfunc="sum")
            .reset_index() if not costs.empty else pd.DataFrame(columns=keys))
    both = sales.merge(wide, on=keys, how="outer").reindex(
        columns=[*keys, *money, *cats]).set_index(keys).sort_index()
    both = both.astype("float64").fillna(0.0)
    out = both[money].copy()
    out["gross_margin"] = out["revenue"] - out["cogs"]
    out["cost_to_serve"] = both[cats].sum(axis=1)
    out["net_contribution"] = out["gross_margin"] - out["cost_to_serve"]
    rev_or_nan = out["revenue"].where(out["revenue"] != 0)
    out["gross_margin_pct"] = out["gross_margin"] / rev_or_nan
    out["net_margin_pct"] = out["net_contribution"] / rev_or_nan
    out = out.reset_index()
    out.insert(1, "name", account_names(t, out["account_id"]))
    order = ["account_id", "name", *keys[1:], *ACCOUNT_COLUMNS]
    by_cat = both[cats].reset_index()
    return Profitability(out[order], by_cat, costs, basis, (*unused, *_gaps(rev, costs)))


def _gaps(rev: pd.DataFrame, costs: pd.DataFrame) -> list[str]:
    """Sentences on what the figures lack: revenue lines without cost of goods, no cost-to-serve
    line at all (a CRM import brings sales but no costs)."""
    out = []
    if not rev.empty:
        free = rev[(rev["cogs"] == 0) & (rev["revenue"] != 0)]
        if len(free):
            share = float(free["revenue"].sum()) / float(rev["revenue"].sum() or 1.0)
            out.append(f"{len(free)} of {len(rev)} revenue lines ({share:.0%} of net revenue) "
                       "have no cost of goods: their gross margin is their whole revenue")
    if costs.empty:
        out.append("no cost-to-serve is booked or costed: net contribution equals gross margin")
    return out


def _unused_activities(t: Tables, basis: Basis, period: str | None,
                       as_of: date | None) -> list[str]:
    """On the booked basis, a sentence on the activity lines it does not use (if any)."""
    if basis != "booked":
        return []
    lines = select(frame_of(t, "activities"), period, as_of, what="activity lines")
    if lines.empty:
        return []
    n, k = len(lines), lines["account_id"].nunique()
    return [f"cost-to-serve is booked costs only: {n} activity line{'s' * (n != 1)} of "
            f"{k} account{'s' * (k != 1)} {'were' if n != 1 else 'was'} not costed "
            "(basis='activity' costs them at the rates of cost_to_serve.yaml)"]


def account_names(t: Tables, ids: pd.Series) -> pd.Series:
    """The account name for each id in ``ids`` (the id itself where no name is known)."""
    acc = frame_of(t, "accounts").drop_duplicates("account_id")
    names = pd.Series(acc["name"].to_numpy(object), index=acc["account_id"].to_numpy(object))
    found = ids.map(names.to_dict()).astype(object)
    return found.where(found.notna(), ids.astype(object)).astype("str")


def _coverage(t: Tables) -> str:
    frames = [f["period"] for f in (t.revenue, t.costs, t.activities) if not f.empty]
    if not frames:
        return " (there are no lines at all)"
    start, end = bounds(pd.concat(frames, ignore_index=True))
    first, last = label(np.array([start.min(), end.max()]), "M")
    return f" (the data covers {first} .. {last})"


def elapsed_through(as_of: date | None = None) -> int:
    """The last month (month number, year x 12 + month - 1) complete on ``as_of`` (default:
    today): budget against actual compares the months up to it.

    >>> divmod(elapsed_through(date(2025, 11, 1)), 12)  # (year, month - 1): October
    (2025, 9)
    >>> divmod(elapsed_through(date(2025, 11, 30)), 12)  # November is complete
    (2025, 10)
    """
    day = as_of or date.today()
    month = day.year * 12 + day.month - 1
    return month if (day + timedelta(days=1)).month != day.month else month - 1


def budget_vs_actual(
    t: Tables, *, freq: str | None = "Y", period: str | None = None, as_of: date | None = None,
    basis: Basis = "booked", tolerance: float | None = None, by_account: bool = True,
    config: CostToServeConfig | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Cost-to-serve and price discounts against their budgets, per account (or the whole
    selection if ``by_account=False``), period and category, over the *elapsed* part of each
    period.

    A running period is compared month for month: the actual of the months elapsed against the
    budget of the same months (a budget is spread evenly over its months), and the budget of the
    whole period is shown beside it. The months elapsed are those complete on ``as_of``
    (default: today); lines of a month not yet complete are left out of the comparison.

    Returns ``[account_id]``, ``[period]``, ``category``, ``kind`` (``cost-to-serve`` or
    ``price discount``: discounts are off the invoice, not cost-to-serve, but may have a
    budget), ``budget`` (of the months compared), ``actual``, ``variance`` (actual - budget),
    ``variance_pct`` (variance / budget; NaN where there is no budget), ``status``,
    ``out_of_tolerance``, ``budget_full`` (of the whole period), ``months`` (compared) and
    ``months_in_period``. ``status`` is ``over`` / ``under`` when the variance exceeds
    ``tolerance`` x budget (default: the configured tolerance), ``unbudgeted`` for a cost
    without a budget, ``ok`` otherwise.

    Raises :class:`~kam.periods.NoData` when there is neither a budget nor a cost or discount.

    Examples
    --------
    >>> from kam.model import Account, Budget, CostLine, Dossier, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"),
    ...     costs=[CostLine(period="2025-03", category="logistics", amount=1300)],
    ...     budgets=[Budget(period="2025", category="logistics", amount=1200)])
    >>> budget_vs_actual(tables([d]), as_of=date(2025, 3, 31))[
    ...     ["category", "budget", "actual", "status", "budget_full", "months"]]
        category  budget  actual status  budget_full  months
    0  logistics   300.0  1300.0   over       1200.0       3
    """
    cfg = _config(config)
    tol = cfg.tolerance if tolerance is None else tolerance
    if tol < 0:
        raise ValueError(f"tolerance must be >= 0 (a share of the budget, 0.1 = 10%), got {tol}")
    f = check_freq(freq) if freq else None
    keys = [*(["account_id"] if by_account else []), *(["period"] if f else [])]
    cols = [*keys, "category", "kind", "budget", "actual", "variance", "variance_pct", "status",
            "out_of_tolerance", "budget_full", "months", "months_in_period"]
    through = elapsed_through(as_of)
    cut = date(through // 12, through % 12 + 1, 1)  # lines of periods started by then
    actual = cost_to_serve(t, basis=basis, freq=f, period=period, as_of=cut, config=cfg)
    disc = price_discounts(t, freq=f, period=period, as_of=cut)
    if not disc.empty:
        disc = disc.loc[disc["price_discount"] != 0, [*["account_id"], *(["period"] if f else []),
                                                       "price_discount"]]
        disc = disc.rename(columns={"price_discount": "amount"}).assign(
            category=cfg.discount_category)
    budget_full = _budget_lines(t, f, period, None, cfg)
    budget = _budget_lines(t, f, period, through, cfg)
    if actual.empty and disc.empty and budget_full.empty:
        where = f" in period {period!r}" if period is not None else ""
        raise NoData(f"No cost-to-serve, price discount or budget{where}: there is nothing to "
                     "compare; book budgets per category (Budget lines) to compare costs")
    cols_in = [*keys, "category", "amount"]
    parts = [p[cols_in] for p in (actual, disc, budget, budget_full) if not p.empty]
    index = pd.concat(parts, ignore_index=True).groupby([*keys, "category"]).size().index

    def summed(frame: pd.DataFrame) -> pd.Series:
        if frame.empty:
            return pd.Series(0.0, index=index)
        return frame.groupby([*keys, "category"])["amount"].sum().reindex(index, fill_value=0.0)

    done = [p[cols_in] for p in (actual, disc) if not p.empty]
    out = pd.DataFrame({
        "budget": summed(budget),
        "actual": summed(pd.concat(done, ignore_index=True) if done else pd.DataFrame()),
        "budget_full": summed(budget_full),
    }, index=index).astype("float64").reset_index()
    out["kind"] = np.where(out["category"] == cfg.discount_category, "price discount",
                           "cost-to-serve")
    out["variance"] = out["actual"] - out["budget"]
    out["variance_pct"] = out["variance"] / out["budget"].where(out["budget"] != 0)
    limit = tol * out["budget"].abs()
    out["status"] = np.select(
        [(out["budget"] == 0) & (out["actual"] != 0), out["variance"] > limit,
         out["variance"] < -limit],
        ["unbudgeted", "over", "under"], "ok")
    out["out_of_tolerance"] = out["status"] != "ok"
    months, in_period = _months(out.get("period"), f, period, through, t)
    out["months"], out["months_in_period"] = months, in_period
    return out[cols].sort_values([*keys, "category"], ignore_index=True)


def _months(periods: pd.Series | None, freq: str | None, period: str | None, through: int,
            t: Tables) -> tuple[Any, Any]:
    """Months compared and months in each output period (arrays, or scalars without freq)."""
    if freq is None:
        if period is not None:
            first, last = span(period)
        else:
            frames = [f["period"] for f in (t.revenue, t.costs, t.activities, t.budgets)
                      if not f.empty]
            start, end = bounds(pd.concat(frames, ignore_index=True))
            first, last = int(start.min()), int(end.max())
        return max(0, min(last, through) - first + 1), last - first + 1
    assert periods is not None
    starts, ends = bounds(periods)
    if period is not None:
        ps, pe = span(period)
        starts, ends = np.maximum(starts, ps), np.minimum(ends, pe)
    return np.clip(np.minimum(ends, through) - starts + 1, 0, None), ends - starts + 1


def _budget_lines(t: Tables, freq: str | None, period: str | None, through: int | None,
                  cfg: CostToServeConfig) -> pd.DataFrame:
    """Budgets spread evenly over their months, selected (within ``period``, up to the month
    ``through``), and relabelled at ``freq``.

    Each budget line is cut into the parts that fall in one output period; a part gets
    ``amount x months in the part / months of the line`` (exact when the part is the whole line).
    """
    b = frame_of(t, "budgets")
    cols = ["account_id", "period", "category", "amount"]
    if b.empty:
        return pd.DataFrame(columns=cols)
    known = {_key(c): c for c in [*cfg.categories, cfg.discount_category]}
    cat = _canonical(b, "category", known, what="budgets",
                     hint="add it to categories in cost_to_serve.yaml or fix the budget")
    start, end = bounds(b["period"], what="budgets")
    n = end - start + 1
    line = np.repeat(np.arange(len(b)), n)
    month = np.repeat(start, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    keep = np.ones(len(month), dtype=bool)
    if period is not None:
        ps, pe = span(period)
        keep &= (month >= ps) & (month <= pe)
    if through is not None:
        keep &= month <= through
    line, month = line[keep], month[keep]
    if not len(line):
        return pd.DataFrame(columns=cols)
    step = {"M": 1, "Q": 3, "Y": 12}[freq] if freq else 0
    bucket = month // step if step else np.zeros_like(month)
    # months per (line, output period): one unique key per part
    offset = bucket - bucket.min()
    _, first, size = np.unique(line * (int(offset.max()) + 1) + offset, return_index=True,
                               return_counts=True)
    idx, part = line[first], bucket[first]
    amount = _num(b, "amount").to_numpy()[idx]
    return pd.DataFrame({
        "account_id": b["account_id"].to_numpy(object)[idx],
        "period": label(part * step, freq).to_numpy(object) if freq else "",
        "category": cat.to_numpy(object)[idx],
        "amount": amount * size / n[idx],
    })


def _one_period(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    if "period" in frame.columns and frame["period"].nunique() > 1:
        raise ValueError(
            f"{what} needs one row per account; this frame has {frame['period'].nunique()} "
            "periods: compute profitability(...) without freq, or for one period"
        )
    return frame


def rank_by_contribution(accounts: pd.DataFrame | Profitability) -> pd.DataFrame:
    """Accounts ranked from the highest net contribution to the lowest.

    Adds ``rank`` (1 = most profitable), ``share_of_total`` (the account's contribution over the
    total; NaN when the total is 0) and ``profitable``. Ties are ordered by account id.
    """
    frame = accounts.accounts if isinstance(accounts, Profitability) else accounts
    frame = _one_period(frame, "rank_by_contribution").drop(
        columns=["rank", "share_of_total", "profitable"], errors="ignore")
    out = frame.sort_values(["net_contribution", "account_id"], ascending=[False, True],
                            ignore_index=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    total = float(out["net_contribution"].sum())
    out["share_of_total"] = out["net_contribution"] / total if total else np.nan
    out["profitable"] = out["net_contribution"] > 0
    return out


@dataclass(frozen=True)
class WhaleCurve:
    """Cumulative net contribution against accounts ranked from most to least profitable.

    ``curve`` has one row per account: ``rank``, ``account_id``, ``name``, ``net_contribution``,
    ``cumulative``, ``cumulative_pct`` (of the total; NaN if the total is not positive) and
    ``accounts_pct`` (rank / number of accounts).
    """

    curve: pd.DataFrame
    total: float
    """Total net contribution: where the curve ends."""
    peak: float
    """Highest cumulative contribution (0 if no account is profitable)."""
    peak_accounts: int
    """Number of top accounts at the peak."""
    n_profitable: int
    n_unprofitable: int
    given_back: float
    """Contribution the accounts after the peak give back: ``peak - total``."""
    accounts_for_total: int
    """Fewest top accounts whose cumulative contribution reaches the total (0 if total <= 0)."""

    @property
    def peak_pct(self) -> float:
        """The peak as a share of the total (1.5 = the profitable accounts earn 150%)."""
        return self.peak / self.total if self.total > 0 else float("nan")

    def summary(self) -> pd.DataFrame:
        """The key figures as a two-column table (measure, value)."""
        return pd.DataFrame({
            "measure": ["accounts", "profitable accounts", "unprofitable accounts",
                        "total net contribution", "peak of the curve", "accounts at the peak",
                        "given back by the rest", "accounts that earn the total"],
            "value": [len(self.curve), self.n_profitable, self.n_unprofitable, self.total,
                      self.peak, self.peak_accounts, self.given_back, self.accounts_for_total],
        })


def whale_curve(accounts: pd.DataFrame | Profitability) -> WhaleCurve:
    """The whale curve of net contribution.

    Examples
    --------
    >>> df = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
    ...                    "net_contribution": [100.0, 60.0, -10.0, -50.0]})
    >>> w = whale_curve(df)
    >>> w.curve["cumulative"].tolist(), w.total, w.peak, w.given_back, w.accounts_for_total
    ([100.0, 160.0, 150.0, 100.0], 100.0, 160.0, 60.0, 1)
    """
    ranked = rank_by_contribution(accounts)
    c = ranked["net_contribution"].to_numpy(dtype="float64")
    cum = np.cumsum(c)
    total = float(cum[-1]) if len(cum) else 0.0
    peak_i = int(np.argmax(cum)) if len(cum) else -1
    peak = max(float(cum[peak_i]), 0.0) if len(cum) else 0.0
    peak_accounts = peak_i + 1 if peak > 0 else 0
    reach = (np.flatnonzero(cum >= total - 1e-9 * max(abs(total), 1.0)) if total > 0
             else np.empty(0, dtype=np.int64))
    curve = pd.DataFrame({
        "rank": ranked["rank"],
        "account_id": ranked["account_id"],
        "name": ranked["name"] if "name" in ranked else ranked["account_id"],
        "net_contribution": c,
        "cumulative": cum,
        "cumulative_pct": cum / total if total > 0 else np.nan,
        "accounts_pct": ranked["rank"] / max(len(ranked), 1),
    })
    return WhaleCurve(
        curve=curve, total=total, peak=peak, peak_accounts=peak_accounts,
        n_profitable=int((c > 0).sum()), n_unprofitable=int((c < 0).sum()),
        given_back=peak - total if len(c) else 0.0,
        accounts_for_total=int(reach[0]) + 1 if len(reach) else 0,
    )
