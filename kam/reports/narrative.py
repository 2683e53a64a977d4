"""One sentence per report section saying what the numbers mean for this account.

Each function reads an analysis result and words its headline: counts, the largest item, what
to do. The sentences are plain text; the report escapes them (:func:`kam.reports.display.sentence`)
because they quote names from the dossier.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .display import fmt_number, fmt_percent

__all__ = [
    "budget_sentence",
    "buying_center_sentence",
    "cost_sentence",
    "deals_sentence",
    "health_sentence",
    "needmap_sentence",
    "next_actions_sentence",
    "opportunity_sentence",
    "plan_sentence",
    "position_sentence",
    "profit_trend_sentence",
    "prospect_sentence",
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
def profit_trend_sentence(by_period: pd.DataFrame) -> str:
    """Revenue and net contribution of the last period against the one before.

    >>> f = pd.DataFrame({"period": ["2025", "2026"], "revenue": [1000.0, 1200.0],
    ...                   "net_contribution": [100.0, -50.0]})
    >>> profit_trend_sentence(f)
    'In 2026 revenue was 1,200 (+20.0% on 2025) and net contribution -50 (150 less than in 2025).'
    """
    if by_period.empty:
        return "No sales or costs recorded yet: there is no profitability to show."
    last = by_period.iloc[-1]
    text = (f"In {last['period']} revenue was {fmt_number(last['revenue'])} and net "
            f"contribution {fmt_number(last['net_contribution'])}.")
    if len(by_period) > 1:
        prev = by_period.iloc[-2]
        growth = (f" ({'+' if last['revenue'] >= prev['revenue'] else ''}"
                  f"{fmt_percent(last['revenue'] / prev['revenue'] - 1)} on {prev['period']})"
                  if prev["revenue"] else "")
        diff = last["net_contribution"] - prev["net_contribution"]
        change = ("the same as" if diff == 0 else
                  f"{fmt_number(abs(diff))} {'more' if diff > 0 else 'less'} than in")
        text = (f"In {last['period']} revenue was {fmt_number(last['revenue'])}{growth} and "
                f"net contribution {fmt_number(last['net_contribution'])} ({change} "
                f"{prev['period']}).")
    return text


def cost_sentence(by_category: pd.Series) -> str:
    """The largest cost-to-serve categories (``category -> amount`` for the period).

    >>> cost_sentence(pd.Series({"logistics": 300.0, "visits": 100.0}))
    'Cost-to-serve was 400; the largest category is logistics (75.0%).'
    """
    total = float(by_category.sum())
    if not total:
        return "No cost-to-serve booked in the period."
    top = by_category.sort_values(ascending=False)
    return (f"Cost-to-serve was {fmt_number(total)}; the largest category is {top.index[0]} "
            f"({fmt_percent(float(top.iloc[0]) / total)}).")


def budget_sentence(frame: pd.DataFrame) -> str:
    """Categories over budget (``category``, ``budget``, ``actual``, ``variance`` =
    actual - budget)."""
    if frame.empty:
        return "No cost-to-serve budget is set for the period."
    over = frame[frame["variance"] > 0].sort_values("variance", ascending=False)
    if over.empty:
        return "Every category stayed within its budget."
    first = over.iloc[0]
    return (f"{_n(len(over), 'category', 'categories')} went over budget; most of all "
            f"{first['category']} (by {fmt_number(first['variance'])}), which needs "
            "investigating.")


def position_sentence(position: Any | None) -> str:
    """The account's rank and shares (a :class:`~kam.reports.summary.Position`)."""
    if position is None:
        return "The account has no sales or costs in the period, so it has no rank yet."
    text = f"By net contribution the account ranks {position.rank} of {position.of}"
    if position.revenue_share is not None:
        text += f" and brings {fmt_percent(position.revenue_share)} of portfolio revenue"
    if position.contribution_share is not None:
        text += f" and {fmt_percent(position.contribution_share)} of the net contribution"
    return text + "."
