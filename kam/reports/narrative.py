"""One sentence per report section saying what the numbers mean for this account.

Each function reads an analysis result and words its headline: counts, the largest item, what
to do. The sentences are plain text; the report escapes them (:func:`kam.reports.display.sentence`)
because they quote names from the dossier.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from ..periods import end_date
from .display import fmt_number, fmt_percent

__all__ = [
    "accuracy_sentence",
    "budget_sentence",
    "buyers_sentence",
    "buying_center_sentence",
    "concentration_sentence",
    "conversion_sentence",
    "cost_sentence",
    "deals_sentence",
    "funnel_sentence",
    "health_sentence",
    "needmap_sentence",
    "next_actions_sentence",
    "opportunity_sentence",
    "plan_sentence",
    "position_sentence",
    "profit_sentence",
    "profit_trend_sentence",
    "prospect_sentence",
    "rating_sentence",
    "whale_sentence",
]


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def needmap_sentence(chains: pd.DataFrame, gaps: pd.DataFrame) -> str:
    """E.g. "3 chains lead from the client's problems to the effects it expects; 2 of them
    cross departments. 5 entries still lack information (persons)."

    >>> needmap_sentence(pd.DataFrame(columns=["cross_department"]), pd.DataFrame())
    'The need map holds no problem-to-effect chain yet: ask about the problems behind the needs.'
    """
    if chains.empty:
        return ("The need map holds no problem-to-effect chain yet: ask about the problems "
                "behind the needs.")
    cross = int(chains["cross_department"].fillna(False).astype(bool).sum())
    n = len(chains)
    lead = "leads" if n == 1 else "lead"
    text = f"{_n(n, 'chain')} {lead} from the client's problems to the effects it expects"
    if cross:
        some = ("it crosses departments" if n == 1 else
                f"{cross} of them cross{'es' if cross == 1 else ''} departments")
        text += f"; {some}, so solving one problem helps several functions."
    else:
        text += ", each within one department." if n > 1 else ", within one department."
    if not gaps.empty and "missing" in gaps:
        what = ", ".join(sorted(set(gaps["missing"].astype(str))))
        verb = "lacks" if len(gaps) == 1 else "lack"
        text += f" {_n(len(gaps), 'entry', 'entries')} still {verb} information ({what})."
    return text


def buying_center_sentence(members: pd.DataFrame, flags: pd.DataFrame,
                           chains: pd.DataFrame) -> str:
    """The people we know, the route to the power point and the red flags.

    >>> buying_center_sentence(pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    'No contact person is recorded yet: the buying center is unknown.'
    """
    if members.empty:
        return "No contact person is recorded yet: the buying center is unknown."
    active = int(members["active"].sum()) if "active" in members else len(members)
    parts = [f"We know {_n(active, 'active person', 'active people')} in the buying center"]
    reachable = chains[chains["reachable"]] if "reachable" in chains and len(chains) else chains
    if len(reachable):
        best = reachable.sort_values("strength", ascending=False).iloc[0]
        parts.append(f"the power point {best['name']} is reached through "
                     f"{_n(int(best['introductions']), 'introduction')} "
                     f"(route strength {best['strength']:.2f})")
    elif len(chains):
        parts.append("no route from our team reaches the power point yet")
    text = "; ".join(parts) + "."
    if len(flags):
        high = int((flags["severity"] == "high").sum())
        text += (f" {_n(len(flags), 'red flag')}" + (f", {high} urgent" if high else "")
                 + f": {flags.iloc[0]['flag']} first.")
    else:
        text += " No red flag."
    return text


def opportunity_sentence(matrix: pd.DataFrame) -> str:
    """Needs per zone and what follows from it.

    >>> m = pd.DataFrame({"zone": ["deal", "risk", "risk", "potential"]})
    >>> print(opportunity_sentence(m))  # doctest: +NORMALIZE_WHITESPACE
    Of 4 assessed needs, 2 are worth pursuing (1 deal, 1 potential) and 2 go to the product
    backlog as risks; 0 are of no interest.
    """
    if matrix.empty:
        return "No need is assessed on significance and capability yet."
    z = matrix["zone"].value_counts()
    deal, pot, risk, none_ = (int(z.get(k, 0)) for k in ("deal", "potential", "risk",
                                                          "no interest"))
    return (f"Of {_n(len(matrix), 'assessed need')}, {deal + pot} "
            f"{'is' if deal + pot == 1 else 'are'} worth pursuing ({deal} deal, {pot} potential) "
            f"and {risk} go{'es' if risk == 1 else ''} to the product backlog as risks; "
            f"{none_} {'is' if none_ == 1 else 'are'} of no interest.")


def prospect_sentence(score: Any) -> str:
    """The score and where it loses most (a :class:`~kam.prospects.ProspectScore`)."""
    c = score.contributions
    text = f"The prospect score is {score.score:.1f} of {score.score_max:g}"
    if len(c) and float(c["lost"].max()) > 0:
        worst = c.sort_values("lost", ascending=False).iloc[0]
        groups = score.by_group()
        g = groups.assign(lost=groups["max_contribution"] - groups["contribution"]) \
            .sort_values("lost", ascending=False).iloc[0]
        text += (f"; the {g['group']} factors lose most ({g['lost']:.1f} points), above all "
                 f"{str(worst['label']).lower()} ({worst['lost']:.1f} points).")
    else:
        text += "."
    return text


def plan_sentence(status: Any | None) -> str:
    """Progress of the account plan (a :class:`~kam.account_plan.PlanStatus` or ``None``)."""
    if status is None:
        return "There is no account plan yet: set objectives, strategies, actions and KPIs."
    s = status.summary
    done = "no action yet" if s["share_done"] is None else \
        f"{s['done']} of {s['actions']} actions done ({fmt_percent(s['share_done'], 0)})"
    text = f"Plan {status.period}: {done}"
    text += f", {_n(s['overdue'], 'overdue action')}" if s["overdue"] else ", none overdue"
    text += (f"; {_n(s['objectives_off_track'], 'objective')} off track"
             if s["objectives_off_track"] else "; objectives on track")
    text += f"; KPIs red / amber / green: {s['kpis_red']} / {s['kpis_amber']} / {s['kpis_green']}."
    return text


def deals_sentence(deals: pd.DataFrame) -> str:
    """Open deals, the longest stay in a stage, the risks named."""
    if deals.empty:
        return "No open deal with this account."
    longest = deals.sort_values("days_in_stage", ascending=False).iloc[0]
    risks = int(deals["n_risks"].sum()) if "n_risks" in deals else 0
    return (f"{_n(len(deals), 'open deal')}; the longest in its stage is "
            f"'{longest['title']}' ({int(longest['days_in_stage'])} days in "
            f"{longest['stage']}); {_n(risks, 'risk')} named.")


def health_sentence(report: Any) -> str:
    """The score, its weakest factor, the urgent warnings (a :class:`~kam.health.HealthReport`)."""
    f = report.factors
    lost = (f["weight"] - f["contribution"])
    weakest = f.loc[lost.idxmax()] if len(f) and float(lost.max()) > 0 else None
    text = f"Relationship health is {report.score:.0f} of 100"
    if weakest is not None:
        text += (f"; the weakest factor is {str(weakest['factor']).replace('_', ' ')} "
                 f"({weakest['explanation']})")
    high = int((report.alerts["severity"] == "high").sum()) if len(report.alerts) else 0
    text += f"; {_n(high, 'urgent warning')}." if high else "; no urgent warning."
    return text


def next_actions_sentence(actions: pd.DataFrame, overdue: int = 0) -> str:
    """How many next steps the playbook suggests (and the overdue plan actions)."""
    text = (f"The playbook suggests {_n(len(actions), 'next step')} for the open deals"
            if len(actions) else "The playbook has no suggestion for open deals")
    text += (f"; {_n(overdue, 'plan action')} {'is' if overdue == 1 else 'are'} overdue."
             if overdue else ".")
    return text


# -- profitability ----------------------------------------------------------------------------
def profit_trend_sentence(by_period: pd.DataFrame, as_of: date | None = None) -> str:
    """Revenue and net contribution of the last complete period against the one before
    (``by_period``: ``period``, ``revenue``, ``net_contribution``; a period that ends after
    ``as_of`` is still running and is named as such).

    >>> f = pd.DataFrame({"period": ["2025", "2026"], "revenue": [1000.0, 1200.0],
    ...                   "net_contribution": [100.0, -50.0]})
    >>> print(profit_trend_sentence(f))  # doctest: +NORMALIZE_WHITESPACE
    In 2026 revenue was 1,200 (+20.0% on 2025) and net contribution -50 (150 less than in
    2025).
    """
    if by_period.empty:
        return "No sales or costs recorded yet: there is no profitability to show."
    if not float(by_period["revenue"].abs().sum()):
        cost = -float(by_period["net_contribution"].sum())
        return (f"No sales yet: serving the account has cost {fmt_number(cost)} since "
                f"{by_period.iloc[0]['period']}.")
    running = ""
    done = by_period
    if as_of is not None:
        ends = by_period["period"].map(lambda p: end_date(str(p)))
        done = by_period[ends <= as_of]
        if len(done) < len(by_period):
            running = f" ({by_period.iloc[-1]['period']} is still running.)"
    if done.empty:
        return "No complete period yet." + running
    last = done.iloc[-1]
    text = (f"In {last['period']} revenue was {fmt_number(last['revenue'])} and net "
            f"contribution {fmt_number(last['net_contribution'])}.")
    if len(done) > 1:
        prev = done.iloc[-2]
        growth = (f" ({'+' if last['revenue'] >= prev['revenue'] else ''}"
                  f"{fmt_percent(last['revenue'] / prev['revenue'] - 1)} on {prev['period']})"
                  if prev["revenue"] else "")
        diff = last["net_contribution"] - prev["net_contribution"]
        change = ("the same as" if diff == 0 else
                  f"{fmt_number(abs(diff))} {'more' if diff > 0 else 'less'} than in")
        text = (f"In {last['period']} revenue was {fmt_number(last['revenue'])}{growth} and "
                f"net contribution {fmt_number(last['net_contribution'])} ({change} "
                f"{prev['period']}).")
    return text + running


def profit_sentence(profit: Any | None, account_id: str, period: str) -> str:
    """What the account brought in the period (a :class:`~kam.profitability.Profitability`)."""
    rows = None if profit is None else profit.accounts[profit.accounts["account_id"] == account_id]
    if rows is None or rows.empty:
        return f"No revenue or cost-to-serve is recorded for {period}."
    r = rows.iloc[0]
    if not r["revenue"]:
        return (f"In {period} the account bought nothing yet and cost "
                f"{fmt_number(r['cost_to_serve'])} to serve.")
    margin = "" if pd.isna(r["gross_margin_pct"]) else \
        f" at a {fmt_percent(r['gross_margin_pct'])} gross margin"
    net = ("" if pd.isna(r["net_margin_pct"]) else
           f" ({fmt_percent(r['net_margin_pct'])} of revenue)")
    verb = "contributed" if r["net_contribution"] >= 0 else "lost"
    discount = r.get("price_discount", 0.0) or 0.0
    given = ("" if not discount or not r.get("list_value") else
             f" after {fmt_number(discount)} of price discounts "
             f"({fmt_percent(discount / r['list_value'])} off list)")
    return (f"In {period} the account brought {fmt_number(r['revenue'])} net revenue{given}"
            f"{margin}; after {fmt_number(r['cost_to_serve'])} cost-to-serve it {verb} "
            f"{fmt_number(abs(r['net_contribution']))}{net}.")


def cost_sentence(breakdown: pd.DataFrame) -> str:
    """The largest cost-to-serve category (``breakdown``: ``category``, ``amount``, ``share``,
    see :func:`kam.reports.summary.cost_breakdown`).

    >>> cost_sentence(pd.DataFrame({"category": ["logistics", "visits"],
    ...                             "amount": [300.0, 100.0], "share": [0.75, 0.25]}))
    'Cost-to-serve was 400; the largest category is logistics (75.0%).'
    """
    total = float(breakdown["amount"].sum()) if len(breakdown) else 0.0
    if not total:
        return "No cost-to-serve booked in the period."
    top = breakdown.sort_values("amount", ascending=False).iloc[0]
    return (f"Cost-to-serve was {fmt_number(total)}; the largest category is {top['category']} "
            f"({fmt_percent(float(top['amount']) / total)}).")


def budget_sentence(frame: pd.DataFrame | None) -> str:
    """Categories over budget beyond the tolerance, and costs without a budget
    (:func:`kam.profitability.budget_vs_actual` for one account and period).

    >>> bva = pd.DataFrame({"category": ["logistics", "visits", "rebates"],
    ...                     "variance": [300.0, 50.0, 20.0],
    ...                     "status": ["over", "ok", "unbudgeted"]})
    >>> print(budget_sentence(bva))  # doctest: +NORMALIZE_WHITESPACE
    1 category went over budget beyond the tolerance, most of all logistics (by 300): that
    needs investigating. 1 category has costs but no budget (rebates).
    """
    if frame is None or frame.empty:
        return "Neither a cost-to-serve budget nor a cost is recorded for the period."
    text = _budget_sentence(frame)
    if "months" in frame and len(frame):
        done, of = int(frame["months"].max()), int(frame["months_in_period"].max())
        if done < of:
            text += (f" The period is running: the {_n(done, 'complete month')} of {of} are "
                     "compared with the same months of the budget.")
    return text


def _budget_sentence(frame: pd.DataFrame) -> str:
    over = frame[frame["status"] == "over"].sort_values("variance", ascending=False)
    loose = frame[frame["status"] == "unbudgeted"]
    if len(loose) == len(frame):
        text = "No category has a budget for the period."
    elif over.empty:
        text = "Every budgeted category stayed within its budget and tolerance."
    else:
        first = over.iloc[0]
        text = (f"{_n(len(over), 'category', 'categories')} went over budget beyond the "
                f"tolerance, most of all {first['category']} (by "
                f"{fmt_number(first['variance'])}): that needs investigating.")
    if len(loose):
        names = ", ".join(str(c) for c in loose["category"])
        text += (f" {_n(len(loose), 'category', 'categories')} "
                 f"{'has' if len(loose) == 1 else 'have'} costs but no budget ({names}).")
    return text


def position_sentence(position: Any | None) -> str:
    """The account's rank and shares (a :class:`~kam.reports.summary.Position`)."""
    if position is None:
        return "The account has no sales or costs in the period, so it has no rank yet."
    text = f"By net contribution the account ranks {position.rank} of {position.of}"
    if position.revenue_share is not None:
        text += f" and brings {fmt_percent(position.revenue_share)} of portfolio revenue"
    if position.contribution_share is not None:
        text += f" and {fmt_percent(position.contribution_share)} of the net contribution"
    text += "."
    left_out = getattr(position, "left_out", 0)
    if left_out:
        text += (f" {_n(left_out, 'other account')} {'is' if left_out == 1 else 'are'} left "
                 "out of the ranking: kam refuses their data (kam validate names it).")
    return text


# -- portfolio ----------------------------------------------------------------------------
def concentration_sentence(concentration: Any | None) -> str:
    """How dependent the portfolio is on a few accounts (a
    :class:`~kam.portfolio.Concentration`)."""
    if concentration is None or concentration.shares.empty:
        return "No revenue in the period, so there is no concentration to measure."
    top = concentration.shares.iloc[0]
    n = len(concentration.shares)
    text = (f"{top['name']} alone brings {fmt_percent(concentration.top1)} of revenue and the "
            f"top {min(5, n)} bring {fmt_percent(concentration.top5)}; the revenue is as "
            f"concentrated as if {concentration.effective_accounts:.1f} equal accounts held it.")
    if len(concentration.warnings):
        text += " That dependency is a risk: a key client this large can dictate terms."
    return text


def whale_sentence(whale: Any | None) -> str:
    """Where the net contribution comes from (a :class:`~kam.profitability.WhaleCurve`)."""
    if whale is None or whale.curve.empty:
        return "No revenue or cost in the period: no whale curve."
    if whale.total <= 0:
        return (f"The portfolio loses money overall: net contribution {fmt_number(whale.total)}; "
                f"{_n(whale.n_profitable, 'account')} earn {fmt_number(whale.peak)}.")
    top = ("The most profitable account earns" if whale.peak_accounts == 1 else
           f"The {whale.peak_accounts} most profitable accounts earn")
    rest = len(whale.curve) - whale.peak_accounts
    after = (f"; the other {_n(rest, 'account')} give{'s' if rest == 1 else ''} back "
             f"{fmt_number(whale.given_back)}" if rest and whale.given_back > 0 else "")
    return (f"{top} {fmt_percent(whale.peak_pct, 0)} of the total net contribution of "
            f"{fmt_number(whale.total)}{after}.")


def funnel_sentence(funnel: Any | None, weakest: pd.Series | None) -> str:
    """Conversion and the weakest link of the funnel (:func:`kam.funnel.funnel`,
    :func:`kam.funnel.weakest_link`)."""
    if funnel is None or funnel.totals.empty or not int(funnel.totals["worked"].iloc[0]):
        return "No deal in the selection: no funnel."
    tot = funnel.totals.iloc[0]
    text = (f"{int(tot['won'])} of {int(tot['worked'])} clients worked signed "
            f"({fmt_percent(tot['conversion'])} conversion; "
            f"{fmt_percent(tot['financial_conversion'])} by budget)")
    if weakest is not None:
        text += (f"; the weakest link is {weakest['from_stage']} → {weakest['to_stage']}, where "
                 f"{fmt_percent(weakest['lost_share'], 0)} of the decided deals were lost")
    return text + "."


def conversion_sentence(conversion: pd.DataFrame) -> str:
    """Quantitative against financial conversion per manager (:func:`kam.funnel.conversion`
    with ``by="manager"``): the one converting most deals need not bring the most money.

    >>> conv = pd.DataFrame({"manager": ["ann", "bob"], "conversion": [0.15, 0.03],
    ...                      "financial_conversion": [0.10, 0.30], "value_won": [1e5, 9e5]})
    >>> print(conversion_sentence(conv))  # doctest: +NORMALIZE_WHITESPACE
    ann converts the most deals (15.0%), bob the most budget (30.0%) and brings the most
    money (900,000).
    """
    if conversion.empty:
        return "No deal to compare the managers on."
    by_count = conversion.sort_values("conversion", ascending=False).iloc[0]
    by_value = conversion.sort_values("financial_conversion", ascending=False).iloc[0]
    richest = conversion.sort_values("value_won", ascending=False).iloc[0]
    if by_count["manager"] == by_value["manager"]:
        text = (f"{by_count['manager']} converts the most deals "
                f"({fmt_percent(by_count['conversion'])}) and the most budget "
                f"({fmt_percent(by_value['financial_conversion'])})")
    else:
        text = (f"{by_count['manager']} converts the most deals "
                f"({fmt_percent(by_count['conversion'])}), {by_value['manager']} the most "
                f"budget ({fmt_percent(by_value['financial_conversion'])})")
    if richest["manager"] == by_value["manager"]:
        text += f" and brings the most money ({fmt_number(richest['value_won'])})."
    else:
        text += (f"; {richest['manager']} brings the most money "
                 f"({fmt_number(richest['value_won'])}).")
    return text


def accuracy_sentence(accuracy: pd.DataFrame, realization: float | None) -> str:
    """Plan accuracy per manager and what the realization ratio means for the next plan
    (:func:`kam.planning.plan_accuracy`, :func:`kam.planning.realization`)."""
    if accuracy.empty or realization is None:
        return "No settled deal yet to measure plan accuracy."
    worst = accuracy.sort_values("mape", ascending=False).iloc[0]
    if realization <= 0:
        return ("No planned budget has been realised yet (r = 0): the plans cannot be scaled to "
                f"a target; the least accurate planner is {worst['manager']}.")
    return (f"Plans realise at r = {realization:.2f} (actual ÷ planned): to get a target T, "
            f"plan T ÷ r = {1 / realization:.2f} × T. The least accurate planner is "
            f"{worst['manager']} (error {fmt_percent(worst['mape'], 0)}).")


def rating_sentence(rating: pd.DataFrame) -> str:
    """The top of the client rating (:func:`kam.rating.client_rating`)."""
    if rating.empty:
        return "No rating entry yet."
    top = rating.iloc[0]
    return (f"{top['name']} leads the client rating with {fmt_number(top['total'])} points "
            f"(status {fmt_number(top['status'])} + event {fmt_number(top['event'])} + personal "
            f"{fmt_number(top['personal'])}); work on the top of the list first.")


def buyers_sentence(dynamics: pd.DataFrame) -> str:
    """New and lost buyers in the last complete period (:func:`kam.portfolio.buyer_dynamics`)."""
    if dynamics.empty:
        return "No buyer yet."
    done = dynamics[dynamics["complete"].astype(bool)] if "complete" in dynamics else dynamics
    last = (done if len(done) else dynamics).iloc[-1]
    return (f"In {last['period']}: {int(last['buyers'])} buyers, {int(last['new'])} new, "
            f"{int(last['lost'])} lost.")
