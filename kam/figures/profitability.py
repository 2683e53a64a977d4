"""Figures of account profitability (:mod:`kam.profitability`): the whale curve, the ranking by
net contribution, one account's profit waterfall and budget vs actual. They draw analysis
results and compute nothing."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..profitability import Profitability, WhaleCurve
from .style import BAD, GOOD, NEUTRAL, PALETTE, WARN, apply_style, plain

__all__ = [
    "budget_vs_actual_figure",
    "contribution_ranking_figure",
    "profit_waterfall_figure",
    "whale_curve_figure",
]


def _labels(frame: pd.DataFrame) -> list[str]:
    col = "name" if "name" in frame.columns else "account_id"
    return [plain(str(v)) for v in frame[col]]


def _accounts(n: int) -> str:
    return f"{n} account{'' if n == 1 else 's'}"


def whale_curve_figure(whale: WhaleCurve) -> go.Figure:
    """Cumulative net contribution against the accounts ranked from most to least profitable,
    starting at 0; the peak and the total are marked.

    Examples
    --------
    >>> from kam.profitability import whale_curve
    >>> w = whale_curve(pd.DataFrame({"account_id": ["A", "B", "C"],
    ...                               "net_contribution": [100.0, 50.0, -30.0]}))
    >>> list(whale_curve_figure(w).data[0].y)
    [0.0, 100.0, 150.0, 120.0]
    """
    c = whale.curve
    x = [0, *c["rank"].tolist()]
    fig = go.Figure(go.Scatter(
        x=x, y=[0.0, *c["cumulative"].tolist()], mode="lines+markers", name="cumulative",
        line={"color": PALETTE[0]}, text=["", *_labels(c)],
        hovertemplate="%{x} accounts (last: %{text}): %{y:,.0f}<extra></extra>"))
    fig.add_hline(y=whale.total, line={"color": NEUTRAL, "dash": "dash"},
                  annotation_text=f"total {whale.total:,.0f}", annotation_position="bottom right")
    if whale.peak_accounts:
        fig.add_annotation(x=whale.peak_accounts, y=whale.peak, text=(
            f"peak {whale.peak:,.0f} after {_accounts(whale.peak_accounts)}; "
            f"the other {_accounts(len(c) - whale.peak_accounts)} give back "
            f"{whale.given_back:,.0f}"),
            showarrow=True, arrowhead=2, ax=40, ay=-30)
    fig.update_xaxes(title_text="accounts, most profitable first")
    fig.update_yaxes(title_text="cumulative net contribution")
    return apply_style(fig, "Whale curve of net contribution", height=420)


def contribution_ranking_figure(ranking: pd.DataFrame, *, top: int | None = None) -> go.Figure:
    """Horizontal bars of net contribution, most profitable on top, losses in red. ``ranking``
    is :func:`~kam.profitability.rank_by_contribution`; ``top`` keeps the first rows."""
    rows = ranking if top is None else ranking.head(top)
    rows = rows.iloc[::-1]
    values = rows["net_contribution"].tolist()
    fig = go.Figure(go.Bar(
        y=_labels(rows), x=values, orientation="h",
        marker_color=[GOOD if v >= 0 else BAD for v in values],
        hovertemplate="%{y}: %{x:,.0f}<extra></extra>", name="net contribution"))
    fig.update_xaxes(title_text="net contribution")
    return apply_style(fig, "Accounts ranked by net contribution",
                       height=max(300, 22 * len(rows) + 120))


def profit_waterfall_figure(profit: Profitability, account_id: str) -> go.Figure:
    """The price waterfall of one account, top to bottom: list value - price discounts = net
    revenue - cost of goods = gross margin - each cost-to-serve category = net contribution
    (:meth:`~kam.profitability.Profitability.waterfall` of a period-less result). The discount
    is drawn once, above net revenue.

    Examples
    --------
    >>> from kam.model import Account, CostLine, Dossier, RevenueLine, tables
    >>> from kam.profitability import profitability
    >>> d = Dossier(account=Account(id="ACME", name="Acme"),
    ...     revenue=[RevenueLine(period="2025-01", revenue=900, cogs=600, list_value=1000)],
    ...     costs=[CostLine(period="2025-01", category="logistics", amount=50)])
    >>> fig = profit_waterfall_figure(profitability(tables([d])), "ACME")
    >>> list(zip(fig.data[0].x, fig.data[0].y))  # doctest: +NORMALIZE_WHITESPACE
    [('list value', 1000.0), ('price discounts', -100.0), ('net revenue', 900.0),
     ('cost of goods', -600.0), ('gross margin', 300.0), ('logistics', -50.0),
     ('net contribution', 250.0)]
    """
    steps = profit.waterfall(account_id)
    name = profit.accounts.loc[profit.accounts["account_id"] == account_id, "name"].iloc[0]
    x = [plain(s) for s in steps["step"]]
    y = steps["amount"].tolist()
    measure = ["absolute" if i == 0 else "total" if k == "total" else "relative"
               for i, k in enumerate(steps["kind"])]
    fig = go.Figure(go.Waterfall(
        x=x, y=y, measure=measure,
        increasing={"marker": {"color": GOOD}}, decreasing={"marker": {"color": BAD}},
        totals={"marker": {"color": PALETTE[0]}}, connector={"line": {"color": NEUTRAL}},
        text=[f"{v:,.0f}" for v in y], textposition="outside", showlegend=False,
        hovertemplate="%{x}: %{y:,.0f}<extra></extra>"))
    fig.update_yaxes(title_text="amount")
    return apply_style(fig, f"Price waterfall of {plain(name)}", height=440)


def budget_vs_actual_figure(bva: pd.DataFrame) -> go.Figure:
    """Budget and actual per category over the months compared, actual bars coloured by status
    (over: red, under: amber, unbudgeted: grey). Price discounts, which are off the invoice and
    not cost-to-serve, get a panel and a scale of their own beside the cost-to-serve categories
    (they are often larger than all of them). ``bva`` is
    :func:`~kam.profitability.budget_vs_actual` for one account and period (or
    ``by_account=False, freq=None``): one row per category.

    Examples
    --------
    >>> bva = pd.DataFrame({"category": ["logistics", "price discounts"],
    ...                     "kind": ["cost-to-serve", "price discount"],
    ...                     "budget": [100.0, 900.0], "actual": [120.0, 880.0],
    ...                     "status": ["over", "ok"]})
    >>> fig = budget_vs_actual_figure(bva)
    >>> [(t.name, list(t.x), t.xaxis) for t in fig.data]  # doctest: +NORMALIZE_WHITESPACE
    [('budget', ['logistics'], 'x'), ('actual', ['logistics'], 'x'),
     ('budget', ['price discounts'], 'x2'), ('actual', ['price discounts'], 'x2')]
    """
    if bva["category"].duplicated().any():
        raise ValueError("one row per category is needed: select one account and one period "
                         "(or use budget_vs_actual(..., by_account=False, freq=None))")
    colour = {"ok": GOOD, "over": BAD, "under": WARN, "unbudgeted": NEUTRAL}
    kinds = bva["kind"] if "kind" in bva else pd.Series("cost-to-serve", index=bva.index)
    parts = [bva[kinds != "price discount"], bva[kinds == "price discount"]]
    parts = [p for p in parts if len(p)] or [bva]
    fig = (make_subplots(rows=1, cols=2, column_widths=[0.82, 0.18], horizontal_spacing=0.08,
                         subplot_titles=("cost-to-serve", "price discounts<br>(off the invoice)"))
           if len(parts) == 2 else go.Figure())
    for i, part in enumerate(parts):
        cats = [plain(c) for c in part["category"]]
        where = {"row": 1, "col": i + 1} if len(parts) == 2 else {}
        fig.add_trace(go.Bar(x=cats, y=part["budget"].tolist(), name="budget",
                             marker_color="#c9ced6", showlegend=i == 0,
                             hovertemplate="%{x}: budget %{y:,.0f}<extra></extra>"), **where)
        fig.add_trace(go.Bar(x=cats, y=part["actual"].tolist(), name="actual",
                             marker_color=[colour[st] for st in part["status"]],
                             customdata=part["status"].tolist(), showlegend=i == 0,
                             hovertemplate="%{x}: %{y:,.0f} (%{customdata})<extra></extra>"),
                      **where)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="amount", row=1, col=1) if len(parts) == 2 else \
        fig.update_yaxes(title_text="amount")
    title = "Cost-to-serve: budget vs actual"
    if "months" in bva and len(bva):
        done, of = int(bva["months"].max()), int(bva["months_in_period"].max())
        if done < of:
            title += f"<br><sup>the {done} complete month{'s' * (done != 1)} of {of}</sup>"
    fig = apply_style(fig, title, height=440)
    if len(parts) == 2:  # the legend at the right, clear of the panel titles
        fig.update_layout(legend={"orientation": "v", "x": 1.02, "xanchor": "left",
                                  "y": 0.5, "yanchor": "middle"})
    return fig
