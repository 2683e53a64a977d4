"""Profitability of key accounts: margin, cost-to-serve, net contribution (DOMAIN.md §7).

Every function reads the flat frames of :func:`kam.model.tables` (revenue, costs, activities,
budgets) and works on one account, a manager's accounts (:meth:`~kam.model.Tables.for_accounts`)
or the whole portfolio, by month, quarter or year (``freq``), for a ``period`` or up to a date
(``as_of``).

How booked costs and activity-based costs combine (the *basis*; nothing is counted twice):

- ``basis="booked"`` (default): cost-to-serve = the cost lines booked to each category, plus the
  price discounts. Activity counts are not used.
- ``basis="activity"``: every category that an activity rate feeds (``order handling``,
  ``sales visits``, ``logistics`` by default) is costed as activity count x rate, and booked
  lines in those categories are *replaced*, not added; categories no rate feeds (key-account
  team, technical support, rebates, special programmes) keep their booked lines; plus the price
  discounts.

:func:`compare_bases` shows both views of the activity-fed categories side by side.

Price discounts are never booked: they are ``list_value - revenue`` of the revenue lines (lines
without a list value give none), a cost line of their own named by ``discount_category``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .config import load_config
from .errors import InputError, ValidationProblem
from .model import Tables
from .periods import NoData, bounds, check_freq, frame_of, label, select, span, to_freq

__all__ = [
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
    "load_cost_to_serve",
    "profitability",
    "rank_by_contribution",
    "whale_curve",
]

Basis = Literal["booked", "activity"]


def _key(name: object) -> str:
    return " ".join(str(name).replace("_", " ").split()).casefold()


class ActivityRate(BaseModel):
    """Cost of one unit of an activity and the category it is booked to."""

    model_config = ConfigDict(extra="forbid")
    rate: float = Field(ge=0, allow_inf_nan=False, description="Cost of one unit.")
    category: str = Field(min_length=1, description="Cost-to-serve category of the cost.")
    unit: str | None = Field(None, description="What one unit is.")


class CostToServeConfig(BaseModel):
    """The cost categories, the activity rates and the budget tolerance
    (``templates/cost_to_serve.yaml``)."""

    model_config = ConfigDict(extra="forbid")
    categories: list[str] = Field(min_length=1)
    discount_category: str = "price discounts"
    activity_rates: dict[str, ActivityRate] = Field(default_factory=dict)
    tolerance: float = Field(0.10, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _consistent(self) -> CostToServeConfig:
        keys = [_key(c) for c in self.categories]
        dup = sorted({c for c in keys if keys.count(c) > 1})
        if dup:
            raise ValueError(f"categories listed twice: {', '.join(dup)}")
        if _key(self.discount_category) in keys:
            raise ValueError(
                f"discount_category {self.discount_category!r} is computed, so it must not be "
                "one of the booked categories"
            )
        for name, r in self.activity_rates.items():
            if _key(r.category) not in keys:
                raise ValueError(
                    f"activity {name!r} is booked to category {r.category!r}, which is not in "
                    f"categories ({', '.join(self.categories)})"
                )
        return self

    def category(self, name: str) -> str:
        """The configured spelling of category ``name`` (``KeyError`` if unknown)."""
        return {_key(c): c for c in [*self.categories, self.discount_category]}[_key(name)]

    @property
    def activity_categories(self) -> list[str]:
        """Categories costed from activities on the ``activity`` basis."""
        fed = {_key(r.category) for r in self.activity_rates.values()}
        return [c for c in self.categories if _key(c) in fed]


def load_cost_to_serve(path: str | None = None) -> CostToServeConfig:
    """Read the cost-to-serve configuration (default: ``templates/cost_to_serve.yaml``)."""
    return load_config(CostToServeConfig, path, default="cost_to_serve.yaml")


def _config(config: CostToServeConfig | None) -> CostToServeConfig:
    return config if config is not None else load_cost_to_serve()


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
    config: CostToServeConfig | None = None,
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
    as_of: date | None = None, config: CostToServeConfig | None = None,
) -> pd.DataFrame:
    """Cost-to-serve lines by account, period (if ``freq``) and category, on ``basis``.

    Returns ``account_id``, ``[period]``, ``category``, ``source`` (``booked``, ``activity`` or
    ``price discount``) and ``amount``. See the module notes for how the bases combine.
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
            f"{cfg.discount_category!r} is computed from the revenue lines (list_value - revenue) "
            "and cannot be booked; book after-sale rebates to another category such as 'rebates'"
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
    disc = _revenue(t, period, as_of, f)
    if not disc.empty:
        d = disc.groupby(keys, as_index=False)[["discount"]].sum()
        d = d[d["discount"] != 0]
        parts.append(d.rename(columns={"discount": "amount"}).assign(
            category=cfg.discount_category, source="price discount"))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols].sort_values(
        [*keys, "category"], ignore_index=True)


def compare_bases(
    t: Tables, *, freq: str | None = None, period: str | None = None,
    as_of: date | None = None, config: CostToServeConfig | None = None,
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
    lines = _lines(frame_of(t, "revenue"), period, as_of, freq, "revenue lines")
    if lines.empty:
        return lines
    revenue = _num(lines, "revenue").fillna(0.0)
    listed = _num(lines, "list_value")
    return lines.assign(revenue=revenue, cogs=_num(lines, "cogs").fillna(0.0),
                        discount=(listed - revenue).where(listed.notna(), 0.0))


@dataclass(frozen=True)
class Profitability:
    """Profitability per account (and period).

    ``accounts``: ``account_id``, ``name``, ``[period]``, ``revenue``, ``cogs``,
    ``gross_margin``, ``gross_margin_pct``, ``cost_to_serve``, ``net_contribution``,
    ``net_margin_pct`` (the percentages are fractions of revenue, undefined -- NaN -- where
    revenue is 0). ``by_category``: the same keys and one column per cost category (price
    discounts included), 0 where nothing was spent. ``costs``: the long cost lines
    (:func:`cost_to_serve`). ``basis``: how costs were counted.
    """

    accounts: pd.DataFrame
    by_category: pd.DataFrame
    costs: pd.DataFrame
    basis: Basis


def profitability(
    t: Tables, *, freq: str | None = None, period: str | None = None, as_of: date | None = None,
    basis: Basis = "booked", config: CostToServeConfig | None = None,
) -> Profitability:
    """Revenue, gross margin, cost-to-serve and net contribution per account (and period).

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

    Examples
    --------
    >>> from kam.model import Account, CostLine, Dossier, RevenueLine, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"),
    ...     revenue=[RevenueLine(period="2025-01", revenue=1000, cogs=600, list_value=1100)],
    ...     costs=[CostLine(period="2025-01", category="logistics", amount=150)])
    >>> p = profitability(tables([d]))
    >>> p.accounts[["revenue", "gross_margin", "cost_to_serve", "net_contribution"]]
       revenue  gross_margin  cost_to_serve  net_contribution
    0   1000.0         400.0          250.0             150.0
    """
    cfg = _config(config)
    f = check_freq(freq) if freq else None
    keys = ["account_id", *(["period"] if f else [])]
    cats = [*cfg.categories, cfg.discount_category]
    costs = cost_to_serve(t, basis=basis, freq=f, period=period, as_of=as_of, config=cfg)
    rev = _revenue(t, period, as_of, f)
    if rev.empty and costs.empty:
        if period is not None:
            raise NoData(f"No revenue, cost or activity lines in period {period!r}"
                         f"{_coverage(t)}; choose a period with data")
        acc_cols = ["account_id", "name", *keys[1:], "revenue", "cogs", "gross_margin",
                    "gross_margin_pct", "cost_to_serve", "net_contribution", "net_margin_pct"]
        return Profitability(pd.DataFrame(columns=acc_cols),
                             pd.DataFrame(columns=[*keys, *cats]), costs, basis)
    sales = (rev.groupby(keys, as_index=False)[["revenue", "cogs"]].sum() if not rev.empty
             else pd.DataFrame(columns=[*keys, "revenue", "cogs"]))
    wide = (costs.pivot_table(index=keys, columns="category", values="amount", aggfunc="sum")
            .reset_index() if not costs.empty else pd.DataFrame(columns=keys))
    both = sales.merge(wide, on=keys, how="outer").reindex(
        columns=[*keys, "revenue", "cogs", *cats]).set_index(keys).sort_index()
    both = both.astype("float64").fillna(0.0)
    out = both[["revenue", "cogs"]].copy()
    out["gross_margin"] = out["revenue"] - out["cogs"]
    out["cost_to_serve"] = both[cats].sum(axis=1)
    out["net_contribution"] = out["gross_margin"] - out["cost_to_serve"]
    rev_or_nan = out["revenue"].where(out["revenue"] != 0)
    out["gross_margin_pct"] = out["gross_margin"] / rev_or_nan
    out["net_margin_pct"] = out["net_contribution"] / rev_or_nan
    out = out.reset_index()
    out.insert(1, "name", account_names(t, out["account_id"]))
    order = ["account_id", "name", *keys[1:], "revenue", "cogs", "gross_margin",
             "gross_margin_pct", "cost_to_serve", "net_contribution", "net_margin_pct"]
    by_cat = both[cats].reset_index()
    return Profitability(out[order], by_cat, costs, basis)


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


def budget_vs_actual(
    t: Tables, *, freq: str | None = "Y", period: str | None = None, as_of: date | None = None,
    basis: Basis = "booked", tolerance: float | None = None, by_account: bool = True,
    config: CostToServeConfig | None = None,
) -> pd.DataFrame:
    """Cost-to-serve against its budget, per account (or the whole selection if
    ``by_account=False``), period and category.

    A budget longer than ``freq`` (a yearly budget shown by quarter) is spread evenly over its
    months; with ``as_of`` the budget counts only the months started by then (year to date).

    Returns ``[account_id]``, ``[period]``, ``category``, ``budget``, ``actual``, ``variance``
    (actual - budget), ``variance_pct`` (variance / budget; NaN where there is no budget),
    ``status`` and ``out_of_tolerance``. ``status`` is ``over`` / ``under`` when the variance
    exceeds ``tolerance`` x budget (default: the configured tolerance), ``unbudgeted`` for a cost
    without a budget, ``ok`` otherwise.

    Examples
    --------
    >>> from kam.model import Account, Budget, CostLine, Dossier, tables
    >>> d = Dossier(account=Account(id="ACME", name="Acme"),
    ...     costs=[CostLine(period="2025-03", category="logistics", amount=1300)],
    ...     budgets=[Budget(period="2025", category="logistics", amount=1000)])
    >>> budget_vs_actual(tables([d]))[["category", "variance", "status"]].to_dict("records")
    [{'category': 'logistics', 'variance': 300.0, 'status': 'over'}]
    """
    cfg = _config(config)
    tol = cfg.tolerance if tolerance is None else tolerance
    if tol < 0:
        raise ValueError(f"tolerance must be >= 0 (a share of the budget, 0.1 = 10%), got {tol}")
    f = check_freq(freq) if freq else None
    keys = [*(["account_id"] if by_account else []), *(["period"] if f else [])]
    cols = [*keys, "category", "budget", "actual", "variance", "variance_pct", "status",
            "out_of_tolerance"]
    actual = cost_to_serve(t, basis=basis, freq=f, period=period, as_of=as_of, config=cfg)
    budget = _budget_lines(t, f, period, as_of, cfg)
    if actual.empty and budget.empty:
        if period is not None:
            raise NoData(f"No cost lines and no budgets in period {period!r}; choose a period "
                         "with data")
        return pd.DataFrame(columns=cols)
    a = actual.groupby([*keys, "category"])["amount"].sum().rename("actual")
    b = budget.groupby([*keys, "category"])["amount"].sum().rename("budget")
    out = pd.concat([b, a], axis=1).fillna(0.0).reset_index()
    out["variance"] = out["actual"] - out["budget"]
    out["variance_pct"] = out["variance"] / out["budget"].where(out["budget"] != 0)
    limit = tol * out["budget"].abs()
    out["status"] = np.select(
        [(out["budget"] == 0) & (out["actual"] != 0), out["variance"] > limit,
         out["variance"] < -limit],
        ["unbudgeted", "over", "under"], "ok")
    out["out_of_tolerance"] = out["status"] != "ok"
    return out[cols].sort_values([*keys, "category"], ignore_index=True)


def _budget_lines(t: Tables, freq: str | None, period: str | None, as_of: date | None,
                  cfg: CostToServeConfig) -> pd.DataFrame:
    """Budgets spread evenly over their months, selected, and relabelled at ``freq``.

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
    if as_of is not None:
        keep &= month <= as_of.year * 12 + as_of.month - 1
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
