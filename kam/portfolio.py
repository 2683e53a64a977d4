"""The portfolio of accounts: concentration, ABC categories and their movement, new and lost
buyers, share of wallet and pivot reports (DOMAIN.md §1, §6, §8, §11).

Every function reads the flat frames of :func:`kam.model.tables`; :func:`select` narrows them to
a manager's accounts, a region or a category, and ``period`` / ``as_of`` narrow the revenue lines
(see :func:`kam.periods.select`). Thresholds live in ``templates/portfolio.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .config import ConfigSource, load_config
from .model import Tables
from .periods import NoData, bounds, check_freq, end_date, frame_of, period_range, to_freq
from .periods import select as select_period
from .profitability import account_names

__all__ = [
    "AbcThresholds",
    "Concentration",
    "ConcentrationThresholds",
    "Movement",
    "PortfolioConfig",
    "PortfolioSummary",
    "abc",
    "abc_by_period",
    "account_revenue",
    "buyer_dynamics",
    "buyer_status",
    "category_movement",
    "concentration",
    "load_portfolio_config",
    "no_revenue",
    "pivot",
    "portfolio_summary",
    "select",
    "share_of_wallet",
]

NONE = "(none)"
CATEGORIES = ["A", "B", "C"]


class ConcentrationThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    top1: float = Field(0.25, gt=0, le=1)
    top5: float = Field(0.70, gt=0, le=1)
    top10: float = Field(0.85, gt=0, le=1)
    hhi: float = Field(0.25, gt=0, le=1)


class AbcThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: float = Field(0.80, gt=0, lt=1)
    b: float = Field(0.95, gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> AbcThresholds:
        if not self.a < self.b:
            raise ValueError(f"abc threshold a ({self.a}) must be below b ({self.b})")
        return self


class PortfolioConfig(BaseModel):
    """Thresholds of ``templates/portfolio.yaml``."""

    model_config = ConfigDict(extra="forbid")
    concentration: ConcentrationThresholds = Field(default_factory=ConcentrationThresholds)
    abc: AbcThresholds = Field(default_factory=AbcThresholds)


def load_portfolio_config(source: ConfigSource = None, **overrides: Any) -> PortfolioConfig:
    """Read the portfolio thresholds (default: ``templates/portfolio.yaml``).

    ``source`` may also be a :class:`PortfolioConfig` or a mapping of the settings to change;
    keyword arguments change single settings. Errors
    (:class:`~kam.errors.ConfigError`) name the file and the setting.
    """
    return load_config(PortfolioConfig, source, default="portfolio.yaml",
                       overrides=overrides)

def select(t: Tables, *, kam: str | Iterable[str] | None = None,
           region: str | Iterable[str] | None = None,
           category: str | Iterable[str] | None = None,
           industry: str | Iterable[str] | None = None,
           accounts: Iterable[str] | None = None) -> Tables:
    """The tables of the accounts matching every given filter (one value or several each).

    >>> from kam.model import Account, Dossier, tables
    >>> t = tables([Dossier(account=Account(id="A1", name="A", kam="ann")),
    ...             Dossier(account=Account(id="B1", name="B", kam="bob"))])
    >>> select(t, kam="ann").accounts["account_id"].tolist()
    ['A1']
    """
    acc = frame_of(t, "accounts")
    keep = np.ones(len(acc), dtype=bool)
    for column, wanted in (("kam", kam), ("region", region), ("category", category),
                           ("industry", industry), ("account_id", accounts)):
        if wanted is None:
            continue
        values = [wanted] if isinstance(wanted, str) else list(wanted)
        keep &= acc[column].isin(values).to_numpy(bool)
    return t.for_accounts(acc.loc[keep, "account_id"])


def no_revenue(t: Tables, what: str, period: str | None = None,
               as_of: date | None = None) -> NoData:
    """The :class:`~kam.periods.NoData` of an analysis (``what``) that found no revenue line:
    it names the selection, what the data covers and what to do."""
    where = f"in period {period!r}" if period is not None else "in the selection"
    if as_of is not None:
        where += f" up to {as_of.isoformat()}"
    rev = frame_of(t, "revenue")
    if rev.empty:
        n = frame_of(t, "accounts")["account_id"].nunique()
        covers = ("there is no account in it" if n == 0 else
                  f"{'the account has no' if n == 1 else f'none of the {n} accounts has a'} "
                  "revenue line; import sales (order or invoice lines, or the won deals of a "
                  "CRM export)")
    else:
        start, end = bounds(rev["period"], what="revenue lines")
        first, last = (period_range(int(m), int(m), "M")[0] for m in (start.min(), end.max()))
        covers = f"the revenue lines cover {first} .. {last}; choose a period with sales"
    return NoData(f"No revenue lines {where}, so there is no {what}: {covers}")


def account_revenue(t: Tables, *, period: str | None = None,
                    as_of: date | None = None) -> pd.DataFrame:
    """Revenue per account over the selected lines: ``account_id``, ``name``, ``revenue``,
    sorted from the largest (ties by id). No revenue line in the selection raises
    :class:`~kam.periods.NoData` saying what the data covers."""
    lines = select_period(frame_of(t, "revenue"), period, as_of, what="revenue lines")
    if lines.empty:
        raise no_revenue(t, "revenue per account", period, as_of)
    rev = pd.to_numeric(lines["revenue"], errors="coerce").fillna(0.0).astype("float64")
    out = pd.DataFrame({"account_id": lines["account_id"].to_numpy(object),
                        "revenue": rev.to_numpy()})
    out = out.groupby("account_id", as_index=False)[["revenue"]].sum()
    out.insert(1, "name", account_names(t, out["account_id"]))
    return out.sort_values(["revenue", "account_id"], ascending=[False, True], ignore_index=True)


@dataclass(frozen=True)
class Concentration:
    """How much of the revenue a few accounts hold (DOMAIN.md §1).

    ``shares``: ``rank``, ``account_id``, ``name``, ``revenue``, ``share``,
    ``cumulative_share``. ``warnings``: ``measure``, ``value``, ``threshold``, ``message`` --
    one row per threshold exceeded (empty: no dependency warning).
    """

    shares: pd.DataFrame
    top1: float
    top5: float
    top10: float
    hhi: float
    warnings: pd.DataFrame

    @property
    def effective_accounts(self) -> float:
        """1 / HHI: how many equal-sized accounts would be as concentrated."""
        return 1.0 / self.hhi if self.hhi > 0 else float("nan")


def concentration(t: Tables, *, period: str | None = None, as_of: date | None = None,
                  config: PortfolioConfig | Mapping[str, Any] | None = None) -> Concentration:
    """Shares of the top 1 / 5 / 10 accounts, the Herfindahl index and dependency warnings.

    Examples
    --------
    >>> import dataclasses
    >>> from kam.model import tables
    >>> rev = pd.DataFrame({"account_id": ["A", "B", "C", "D"], "period": "2025",
    ...                     "revenue": [50.0, 30.0, 10.0, 10.0]})
    >>> t = dataclasses.replace(tables([]), revenue=rev)
    >>> c = concentration(t)
    >>> c.top1, round(c.hhi, 2)  # 0.5² + 0.3² + 0.1² + 0.1²
    (0.5, 0.36)
    >>> c.warnings["measure"].tolist()
    ['top1', 'hhi']
    """
    cfg = load_portfolio_config(config).concentration
    lines = select_period(frame_of(t, "revenue"), period, as_of, what="revenue lines")
    if lines.empty:
        raise no_revenue(t, "concentration to measure", period, as_of)
    rev = account_revenue(t, period=period, as_of=as_of)
    total = float(rev["revenue"].sum())
    if not total > 0:
        raise NoData(f"The revenue of the selection totals {total:,.2f}, so shares of it are "
                     "undefined: there is no concentration to measure")
    share = rev["revenue"] / total
    shares = rev.assign(share=share, cumulative_share=share.cumsum())
    shares.insert(0, "rank", np.arange(1, len(shares) + 1))
    top = {k: float(share.iloc[:k].sum()) for k in (1, 5, 10)}
    hhi = float((share ** 2).sum())
    rows = []
    n = len(shares)
    if n > 1 and top[1] > cfg.top1:
        rows.append(("top1", top[1], cfg.top1,
                     f"{shares['name'].iloc[0]} alone brings {top[1]:.0%} of revenue (threshold "
                     f"{cfg.top1:.0%}): the portfolio depends on one account"))
    for k, thr in ((5, cfg.top5), (10, cfg.top10)):
        if n > k and top[k] > thr:
            rows.append((f"top{k}", top[k], thr, f"the top {k} accounts bring {top[k]:.0%} of "
                                                 f"revenue (threshold {thr:.0%})"))
    if n > 0 and total > 0 and hhi > cfg.hhi:
        rows.append(("hhi", hhi, cfg.hhi,
                     f"Herfindahl index {hhi:.2f} is above {cfg.hhi:.2f}: revenue is as "
                     f"concentrated as in {1 / hhi:.1f} equal accounts"))
    warnings = pd.DataFrame(rows, columns=["measure", "value", "threshold", "message"])
    return Concentration(shares, top[1], top[5], top[10], hhi, warnings)


def _categorise(rev: pd.DataFrame, thresholds: AbcThresholds) -> pd.DataFrame:
    """ABC on revenue sorted from the largest: A while the accounts before hold < a, ..."""
    rev = rev[rev["revenue"] > 0]
    total = rev["revenue"].sum()
    share = rev["revenue"] / total if total > 0 else rev["revenue"] * 0.0
    cum = share.cumsum()
    before = (cum - share).to_numpy()
    eps = 1e-12
    category = np.select([before < thresholds.a - eps, before < thresholds.b - eps],
                         ["A", "B"], "C")
    return rev.assign(share=share, cumulative_share=cum, category=category)


def abc(t: Tables, *, period: str | None = None, as_of: date | None = None,
        thresholds: AbcThresholds | None = None) -> pd.DataFrame:
    """ABC categories (Pareto by revenue) of the accounts that bought in the selection.

    Returns ``rank``, ``account_id``, ``name``, ``revenue``, ``share``, ``cumulative_share`` and
    ``category``. An account is A while the accounts ranked before it hold less than ``a`` (80%)
    of the revenue -- so the account that crosses 80% is still A -- and B while they hold less
    than ``b`` (95%).

    Examples
    --------
    >>> import dataclasses
    >>> from kam.model import tables
    >>> rev = pd.DataFrame({"account_id": list("UVWXYZ"), "period": "2025",
    ...                     "revenue": [50.0, 25.0, 10.0, 8.0, 4.0, 3.0]})
    >>> abc(dataclasses.replace(tables([]), revenue=rev))["category"].tolist()
    ['A', 'A', 'A', 'B', 'B', 'C']
    """
    th = thresholds or load_portfolio_config().abc
    lines = select_period(frame_of(t, "revenue"), period, as_of, what="revenue lines")
    if lines.empty:
        raise no_revenue(t, "ABC categorisation", period, as_of)
    out = _categorise(account_revenue(t, period=period, as_of=as_of), th)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def abc_by_period(t: Tables, *, freq: str = "Y", as_of: date | None = None,
                  thresholds: AbcThresholds | None = None) -> pd.DataFrame:
    """ABC categories computed separately for every period at ``freq``: ``period``,
    ``account_id``, ``revenue``, ``share``, ``cumulative_share``, ``category``."""
    th = thresholds or load_portfolio_config().abc
    f = check_freq(freq)
    lines = select_period(frame_of(t, "revenue"), None, as_of, what="revenue lines")
    cols = ["period", "account_id", "revenue", "share", "cumulative_share", "category"]
    if lines.empty:
        raise no_revenue(t, "ABC categorisation per period", None, as_of)
    frame = pd.DataFrame({
        "period": to_freq(lines["period"], f, what="revenue lines").to_numpy(object),
        "account_id": lines["account_id"].to_numpy(object),
        "revenue": pd.to_numeric(lines["revenue"], errors="coerce").fillna(0.0).to_numpy(),
    })
    per = frame.groupby(["period", "account_id"], as_index=False)[["revenue"]].sum()
    per = per.sort_values(["period", "revenue", "account_id"], ascending=[True, False, True])
    parts = [_categorise(g, th) for _, g in per.groupby("period", sort=True)]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


@dataclass(frozen=True)
class Movement:
    """Movement of accounts between ABC categories from one period to another.

    ``matrix``: rows = category before (``A``, ``B``, ``C``, ``(none)`` = no purchase), columns =
    category after, values = number of accounts. ``accounts``: ``account_id``, ``name``,
    ``before``, ``after``, ``revenue_before``, ``revenue_after``, ``moved``.
    """

    matrix: pd.DataFrame
    accounts: pd.DataFrame
    before: str
    after: str


def category_movement(t: Tables, before: str, after: str, *,
                      thresholds: AbcThresholds | None = None) -> Movement:
    """The transition matrix of ABC categories between periods ``before`` and ``after``
    (e.g. ``"2024"`` and ``"2025"``). New buyers move from ``(none)``, lost ones to it."""
    th = thresholds or load_portfolio_config().abc
    a = abc(t, period=before, thresholds=th).set_index("account_id")
    b = abc(t, period=after, thresholds=th).set_index("account_id")
    ids = a.index.union(b.index)
    acc = pd.DataFrame({"account_id": ids.to_numpy(object)})
    acc.insert(1, "name", account_names(t, acc["account_id"]))
    acc["before"] = a["category"].reindex(ids).fillna(NONE).to_numpy(object)
    acc["after"] = b["category"].reindex(ids).fillna(NONE).to_numpy(object)
    acc["revenue_before"] = a["revenue"].reindex(ids).fillna(0.0).to_numpy()
    acc["revenue_after"] = b["revenue"].reindex(ids).fillna(0.0).to_numpy()
    acc["moved"] = acc["before"] != acc["after"]
    order = [*CATEGORIES, NONE]
    matrix = (pd.crosstab(acc["before"], acc["after"]).reindex(index=order, columns=order,
                                                               fill_value=0).astype("int64"))
    matrix.index.name, matrix.columns.name = f"before ({before})", f"after ({after})"
    return Movement(matrix, acc, before, after)


def _bought_matrix(t: Tables, freq: str, as_of: date | None
                   ) -> tuple[pd.Index, list[str], np.ndarray]:
    """Accounts x consecutive periods (gaps included) of revenue."""
    lines = select_period(frame_of(t, "revenue"), None, as_of, what="revenue lines")
    if lines.empty:
        raise no_revenue(t, "buyer to follow", None, as_of)
    start, end = bounds(lines["period"], what="revenue lines")
    labels = to_freq(lines["period"], freq, what="revenue lines")
    periods = period_range(int(start.min()), int(end.max()), freq)
    rev = pd.to_numeric(lines["revenue"], errors="coerce").fillna(0.0).to_numpy()
    acc_codes, accounts = pd.factorize(lines["account_id"].to_numpy(object))
    per_codes = pd.Index(periods).get_indexer(pd.Index(labels.to_numpy(object)))
    m = np.zeros((len(accounts), len(periods)))
    np.add.at(m, (acc_codes, per_codes), rev)
    return pd.Index(accounts, dtype=object), periods, m


def buyer_status(t: Tables, *, freq: str = "Q", as_of: date | None = None) -> pd.DataFrame:
    """Each account's status in each period at ``freq``.

    ``new`` (first purchase in the data), ``regular`` (bought in this and the previous
    period), ``returning`` (bought again after a pause), ``lost`` (bought in the previous
    period, not in this one). The first period of the data has no previous one, so its buyers
    are ``first period``. Returns ``period``, ``account_id``, ``status``, ``revenue``,
    ``revenue_previous`` (one row per account and period with a status).
    """
    f = check_freq(freq)
    accounts, periods, m = _bought_matrix(t, f, as_of)
    cols = ["period", "account_id", "status", "revenue", "revenue_previous"]
    if not periods:
        return pd.DataFrame(columns=cols)
    bought = m > 0
    prev = np.zeros_like(bought)
    prev[:, 1:] = bought[:, :-1]
    ever_before = np.zeros_like(bought)
    ever_before[:, 1:] = np.cumsum(bought, axis=1)[:, :-1] > 0
    first = np.zeros_like(bought)
    first[:, 0] = True
    status = np.select(
        [bought & first, bought & prev, bought & ~ever_before, bought & ~prev, ~bought & prev],
        ["first period", "regular", "new", "returning", "lost"], "")
    prev_rev = np.zeros_like(m)
    prev_rev[:, 1:] = m[:, :-1]
    i, j = np.nonzero(status != "")
    return pd.DataFrame({
        "period": np.asarray(periods, dtype=object)[j],
        "account_id": accounts.to_numpy(object)[i],
        "status": status[i, j],
        "revenue": m[i, j],
        "revenue_previous": prev_rev[i, j],
    }).sort_values(["period", "status", "account_id"], ignore_index=True)


def buyer_dynamics(t: Tables, *, freq: str = "Q", as_of: date | None = None) -> pd.DataFrame:
    """Buyers per period: ``buyers``, ``new``, ``returning``, ``regular``, ``lost`` (counts),
    ``revenue``, ``revenue_new``, ``revenue_regular`` and ``revenue_regular_previous`` (what the
    same regular buyers bought the period before) with ``regular_growth`` between them -- the
    sales dynamics of regular clients. Periods without sales show as zeros; the first period's
    new / lost counts are 0 by construction (see :func:`buyer_status`). ``complete`` is False
    for a period still running on ``as_of`` (its figures are partial); without ``as_of`` every
    period counts as complete."""
    s = buyer_status(t, freq=freq, as_of=as_of)
    cols = ["period", "buyers", "new", "returning", "regular", "lost", "revenue", "revenue_new",
            "revenue_regular", "revenue_regular_previous", "regular_growth", "complete"]
    if s.empty:
        return pd.DataFrame(columns=cols)
    counts = pd.crosstab(s["period"], s["status"]).reindex(
        columns=["first period", "new", "returning", "regular", "lost"], fill_value=0)
    out = counts.drop(columns="first period")
    out.insert(0, "buyers", counts.drop(columns="lost").sum(axis=1))
    rev = s.pivot_table(index="period", columns="status", values="revenue", aggfunc="sum",
                        fill_value=0.0)
    out["revenue"] = rev.drop(columns="lost", errors="ignore").sum(axis=1)
    out["revenue_new"] = rev.get("new", 0.0)
    out["revenue_regular"] = rev.get("regular", 0.0)
    reg = s[s["status"] == "regular"].groupby("period")["revenue_previous"].sum()
    out["revenue_regular_previous"] = reg.reindex(out.index, fill_value=0.0)
    _, periods, _ = _bought_matrix(t, check_freq(freq), as_of)
    out = out.reindex(periods, fill_value=0).rename_axis("period").reset_index()
    out.columns.name = None
    prev = out["revenue_regular_previous"]
    out["regular_growth"] = out["revenue_regular"] / prev.where(prev > 0) - 1
    out["complete"] = (np.array([end_date(p) <= as_of for p in periods], dtype=bool)
                       if as_of is not None else True)
    return out[cols]


def share_of_wallet(t: Tables, year: str) -> pd.DataFrame:
    """Market facts per account for one ``year``: our revenue against the client's total yearly
    consumption of what we sell.

    Returns ``account_id``, ``name``, ``revenue``, ``total_consumption``, ``share_of_wallet``
    (revenue / total consumption), ``headroom`` (total consumption - revenue, at least 0),
    ``market_price_index`` and ``note``. Where the total consumption is unknown, share and
    headroom are NaN and the note says so.
    """
    if len(year) != 4 or not year.isdigit():
        raise ValueError(f"share_of_wallet compares a year's revenue with the yearly total "
                         f"consumption: give a year such as '2025', got {year!r}")
    acc = frame_of(t, "accounts").drop_duplicates("account_id")
    lines = select_period(frame_of(t, "revenue"), year, None, what="revenue lines")
    if lines.empty:
        raise no_revenue(t, "share of wallet", year)
    rev = pd.to_numeric(lines["revenue"], errors="coerce").fillna(0.0).groupby(
        lines["account_id"].to_numpy(object)).sum()
    out = pd.DataFrame({"account_id": acc["account_id"].to_numpy(object)})
    out["name"] = account_names(t, out["account_id"])
    out["revenue"] = rev.reindex(out["account_id"]).fillna(0.0).to_numpy()
    total = pd.to_numeric(acc["total_consumption"], errors="coerce").astype("float64").to_numpy()
    out["total_consumption"] = total
    known = out["total_consumption"].notna() & (out["total_consumption"] > 0)
    out["share_of_wallet"] = (out["revenue"] / out["total_consumption"]).where(known)
    out["headroom"] = (out["total_consumption"] - out["revenue"]).clip(lower=0).where(known)
    out["market_price_index"] = pd.to_numeric(acc["market_price_index"],
                                              errors="coerce").to_numpy()
    out["note"] = np.select([~known, out["revenue"] > out["total_consumption"]],
                            ["total consumption unknown",
                             "our revenue exceeds the stated total consumption"], "")
    return out.sort_values(["headroom", "account_id"], ascending=[False, True],
                           ignore_index=True, na_position="last")


_ACCOUNT_DIMS = ("category", "region", "kam", "industry", "name", "sales_stage")
_LINE_DIMS = ("account_id", "product", "product_group", "period")
_VALUES = ("revenue", "cogs", "gross_margin", "quantity")


def pivot(t: Tables, rows: str | Sequence[str], columns: str | None = "period", *,
          values: str = "revenue", freq: str = "Y", period: str | None = None,
          as_of: date | None = None, totals: bool = True,
          thresholds: AbcThresholds | None = None) -> pd.DataFrame:
    """A pivot report of the revenue lines, e.g. category x period, product group x region,
    manager (``kam``) x period.

    ``rows`` / ``columns``: ``category``, ``region``, ``kam``, ``industry``, ``name``,
    ``sales_stage`` (of the account), ``account_id``, ``product``, ``product_group``,
    ``period`` (at ``freq``), or ``abc`` (the ABC category over the selection); ``rows`` may be
    a list for a multi-level report (``thresholds`` for ``abc``: the configured ones by
    default). ``values``: ``revenue``, ``cogs``, ``gross_margin`` or
    ``quantity``. Missing values show as ``(none)``, empty cells as 0; ``totals`` adds a
    ``total`` row and column.
    """
    row_dims = [rows] if isinstance(rows, str) else list(rows)
    dims = [*row_dims, *([columns] if columns else [])]
    valid = [*_ACCOUNT_DIMS, *_LINE_DIMS, "abc"]
    for d in dims:
        if d not in valid:
            raise ValueError(f"cannot pivot by {d!r}; options are {', '.join(valid)}")
    if values not in _VALUES:
        raise ValueError(f"cannot sum {values!r}; options are {', '.join(_VALUES)}")
    lines = select_period(frame_of(t, "revenue"), period, as_of, what="revenue lines")
    if lines.empty:
        raise no_revenue(t, "pivot report", period, as_of)
    num = {c: pd.to_numeric(lines[c], errors="coerce").fillna(0.0).to_numpy()
           for c in ("revenue", "cogs", "quantity")}
    frame = pd.DataFrame({values: num["revenue"] - num["cogs"] if values == "gross_margin"
                          else num[values]})
    acc_codes, acc_ids = pd.factorize(lines["account_id"].to_numpy(object))
    accounts = frame_of(t, "accounts").drop_duplicates("account_id").set_index("account_id")
    for d in dims:
        if d in _ACCOUNT_DIMS:
            attr = accounts[d].reindex(acc_ids).astype(object).to_numpy()
            col = attr[acc_codes]
        elif d == "abc":
            cats = _categorise(account_revenue(t, period=period, as_of=as_of),
                               thresholds or load_portfolio_config().abc).set_index(
                                   "account_id")["category"]
            col = cats.reindex(acc_ids).astype(object).to_numpy()[acc_codes]
        elif d == "period":
            col = to_freq(lines["period"], check_freq(freq), what="revenue lines").to_numpy(
                object)
        else:
            col = lines[d].astype(object).to_numpy()
        frame[d] = pd.Series(col, dtype=object).where(pd.notna(col), NONE).astype("str")
    table = frame.pivot_table(index=row_dims, columns=columns, values=values, aggfunc="sum",
                              fill_value=0.0, margins=totals, margins_name="total")
    if columns is None:
        table = table.rename(columns={values: "total"}) if totals else table
    return table


@dataclass(frozen=True)
class PortfolioSummary:
    """The portfolio at a glance: ``measures`` (``measure``, ``value``), ``abc`` (accounts and
    revenue per category) and the :class:`Concentration`."""

    measures: pd.DataFrame
    abc: pd.DataFrame
    concentration: Concentration


def portfolio_summary(
    t: Tables, *, period: str | None = None, as_of: date | None = None,
    config: PortfolioConfig | Mapping[str, Any] | None = None,
) -> PortfolioSummary:
    """Accounts, potential clients (sales stage lead, potential or sale), buyers, revenue,
    gross margin, ABC split and concentration of the selection."""
    cfg = load_portfolio_config(config)
    conc = concentration(t, period=period, as_of=as_of, config=cfg)
    cats = _categorise(conc.shares, cfg.abc)
    split = cats.groupby("category")[["revenue"]].agg(["size", "sum"])
    split.columns = ["accounts", "revenue"]
    split = split.reindex(CATEGORIES, fill_value=0).rename_axis("category").reset_index()
    total = float(split["revenue"].sum())
    split["share"] = split["revenue"] / total if total > 0 else 0.0
    lines = select_period(frame_of(t, "revenue"), period, as_of, what="revenue lines")
    revenue = float(pd.to_numeric(lines["revenue"], errors="coerce").fillna(0.0).sum())
    cogs = float(pd.to_numeric(lines["cogs"], errors="coerce").fillna(0.0).sum())
    acc = frame_of(t, "accounts")
    stage = acc["sales_stage"].astype(object)
    measures = pd.DataFrame({"measure": [
        "accounts", "potential clients", "buyers", "revenue", "gross margin", "gross margin %",
        "top 1 share", "top 5 share", "top 10 share", "Herfindahl index",
        "dependency warnings"], "value": [
        float(acc["account_id"].nunique()),
        float(stage.isin(["lead", "potential", "sale"]).sum()),
        float((conc.shares["revenue"] > 0).sum()), revenue, revenue - cogs,
        (revenue - cogs) / revenue if revenue else float("nan"),
        conc.top1, conc.top5, conc.top10, conc.hhi, float(len(conc.warnings))]})
    return PortfolioSummary(measures, split, conc)
