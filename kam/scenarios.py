"""Regulated interaction scenarios: where each account and deal stands, what is due, and the
statistics of every step (DOMAIN.md §6).

A scenario (``templates/scenarios.yaml``, :class:`~kam.model.scenario_config.ScenarioConfig`) is
a fixed, possibly branched sequence of steps; each interaction logged in it records the
scenario, the step and the step's result (``dossier.log_step(...)``). A **run** is one pass
through a scenario by an account (interactions without a deal) or by a deal: it starts at the
start step and ends when a result leads to an end (``won``, ``lost``, ``ended``); the next step
logged after that starts a new run.

The analyses work on the **step log** (:func:`step_log`): one row per interaction that records a
step, with ``account_id``, ``deal_id``, ``interaction_id``, ``date``, ``scenario``, ``step``,
``result`` and ``manager`` (the deal's manager, else the account's KAM). A generated or imported
frame with these columns works as well.

Per run, the **last** interaction at a step (a reminder repeated three times counts once) says
what happened at that step: its result leads to the next step (``advanced``) or to an end
(``won``, ``lost``, ``ended``). Per step: ``reached`` counts the runs that recorded the step,
``attempts`` the interactions, ``lost_share = lost / reached``; the **weak step** is the step
with the largest share lost (ties: more runs lost, then the earlier step), as the weakest link of
the funnel (:mod:`kam.funnel`). ``median_days`` is the median of the days from the previous step
of the run to this step; ``late`` counts the steps done later than their ``due_days``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, ValidationProblem
from .funnel import UNASSIGNED, funnel
from .model import Dossier, StageModel, Tables, Team
from .model.scenario_config import (
    ENDS,
    ScenarioConfig,
    default_scenarios,
    load_scenarios,
)
from .periods import NoData, as_day, check_freq, label, month_of_dates, need_columns, span

__all__ = [
    "LOG_COLUMNS",
    "ScenarioStats",
    "load_scenarios",
    "reminders",
    "scenario_funnel",
    "scenario_status",
    "step_log",
    "step_statistics",
]

LOG_COLUMNS = ["account_id", "deal_id", "interaction_id", "date", "scenario", "step", "result",
               "manager"]
"""The columns of the step log (:func:`step_log`)."""
_GROUPS = ("manager", "account_id", "period")


def _cfg(config: ScenarioConfig | str | Path | None) -> ScenarioConfig:
    if isinstance(config, ScenarioConfig):
        return config
    return default_scenarios() if config is None else load_scenarios(config)


def step_log(dossiers: Iterable[Dossier]) -> pd.DataFrame:
    """One row per interaction that records a scenario step (columns :data:`LOG_COLUMNS`).

    ``manager`` is the manager of the deal the step was about, else the account's KAM, else
    ``(unassigned)``.

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier
    >>> d = Dossier(account=Account(id="ACME", name="Acme", kam="ann"))
    >>> _ = d.log_step("first-contact", "intro-email", "replied", on=date(2026, 3, 2))
    >>> step_log([d])[["account_id", "step", "result", "manager"]].to_dict("records")
    [{'account_id': 'ACME', 'step': 'intro-email', 'result': 'replied', 'manager': 'ann'}]
    """
    rows = []
    for d in dossiers:
        managers = {x.id: x.manager for x in d.deals}
        for x in d.interactions:
            if x.scenario is None:
                continue
            manager = managers.get(x.deal) if x.deal is not None else None
            rows.append((d.account.id, x.deal, x.id, x.date, x.scenario, x.step, x.result,
                         manager or d.account.kam or UNASSIGNED))
    return pd.DataFrame(rows, columns=LOG_COLUMNS, dtype=object)


# -- runs ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Runs:
    """The step log sorted into runs, with the configuration looked up per row."""

    rec: pd.DataFrame  # one row per interaction, sorted by run and date
    runs: pd.DataFrame  # one row per run
    steps: pd.DataFrame  # the configured steps: scenario, number, step, label, due_days
    combos: list[tuple[object, ...]]  # rec["code"] -> (scenario, step, result)
    leads: dict[tuple[str, str, str], tuple[str, int]]  # (scenario, step, result) -> (to, no.)


def _config_frames(cfg: ScenarioConfig) -> tuple[pd.DataFrame, dict[tuple[str, str, str],
                                                                    tuple[str, int]]]:
    steps = pd.DataFrame(
        [(sid, n, step_id, st.label or step_id, st.due_days)
         for sid, s in cfg.scenarios.items()
         for n, (step_id, st) in enumerate(s.steps.items(), start=1)],
        columns=["scenario", "number", "step", "label", "due_days"])
    leads = {(sid, step_id, r): (t, n)
             for sid, s in cfg.scenarios.items()
             for n, (step_id, st) in enumerate(s.steps.items(), start=1)
             for r, t in st.results.items()}
    return steps, leads


def _unknown(cfg: ScenarioConfig, scenario: object, step: object, result: object) -> tuple[
        str, str]:
    """The field and message for a (scenario, step, result) the configuration does not know."""
    s = cfg.scenarios.get(scenario) if isinstance(scenario, str) else None
    if s is None:
        return "scenario", cfg.unknown_message(scenario)
    st = s.steps.get(step) if isinstance(step, str) else None
    if st is None:
        return "step", (f"unknown step {step!r} of scenario {scenario!r}; steps: "
                        f"{', '.join(s.steps)}")
    return "result", (f"unknown result {result!r} of step {step!r} (scenario {scenario!r}); "
                      f"results: {', '.join(st.results)}")


def _combined(*columns: pd.Series, decode: bool = True
              ) -> tuple[np.ndarray, list[tuple[object, ...]]]:
    """Integer codes of the rows' value combinations, and (``decode``) the combinations in code
    order: each column factorized on its own, the codes combined arithmetically (no row
    tuples)."""
    key = np.zeros(len(columns[0]), dtype=np.int64)
    levels = []
    for col in columns:
        c, u = pd.factorize(col, use_na_sentinel=False)
        key = key * max(len(u), 1) + c
        levels.append(u)
    codes, keys = pd.factorize(key)
    combos: list[tuple[object, ...]] = []
    for k in np.asarray(keys, dtype=np.int64) if decode else ():
        parts = []
        for u in reversed(levels):
            k, i = divmod(int(k), max(len(u), 1))
            parts.append(u[i])
        combos.append(tuple(reversed(parts)))
    return codes, combos


def _days(dates: pd.Series) -> np.ndarray:
    """A column of dates (dates, strings or timestamps) as ``datetime64[D]``; each distinct
    value converted once."""
    if pd.api.types.is_datetime64_any_dtype(dates):
        return dates.to_numpy("datetime64[D]")
    codes, uniques = pd.factorize(dates.to_numpy(object))
    days = pd.to_datetime(pd.Series(uniques, dtype=object)).to_numpy("datetime64[D]")
    return days[codes]


def _none_for_missing(values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=object).copy()
    out[pd.isna(out)] = None
    return out


def _runs(log: pd.DataFrame, cfg: ScenarioConfig, *, period: str | None = None,
          freq: str = "M") -> _Runs:
    """Sort the step log into runs (see the module notes); vectorised over the rows."""
    log = need_columns(log, "step log", ["account_id", "date", "scenario", "step", "result"],
                       ["deal_id", "interaction_id", "manager"])
    if log.empty:
        raise NoData("No interaction records a scenario step: log the steps with "
                     "dossier.log_step(scenario, step, result, on=...)")
    steps, leads = _config_frames(cfg)
    codes, uniques = _combined(log["scenario"], log["step"], log["result"])
    looked = [leads.get(u) for u in uniques]  # type: ignore[arg-type]
    bad = [i for i, v in enumerate(looked) if v is None]
    if bad:
        found: dict[tuple[str, str], list[int]] = {}  # one problem per unknown name
        for i in bad:
            found.setdefault(_unknown(cfg, *uniques[i]), []).append(i)
        problems = []
        for (field, msg), which in list(found.items())[:10]:
            rows = log[np.isin(codes, which)]
            first = rows.iloc[0]
            problems.append(ValidationProblem(
                record=f"{len(rows)} step(s) of the step log (e.g. interaction "
                       f"{first.get('interaction_id')} of account {first['account_id']})",
                field=field, message=msg))
        raise InputError(problems)
    known = [v for v in looked if v is not None]  # all of them: the unknown were refused
    target_u = np.empty(len(known), dtype=object)
    target_u[:] = [v[0] for v in known]
    number_u = np.array([v[1] for v in known], dtype=np.int64)
    dates = _days(log["date"])
    deal = log["deal_id"]
    group, _ = _combined(log["account_id"], deal, log["scenario"], decode=False)
    order = np.lexsort((np.arange(len(log)), dates, group))
    g, code = group[order], codes[order]
    target = target_u[code]
    is_end = np.isin(target, ENDS)
    # A run ends at a record whose result leads to an end; the next record starts a new one.
    n = len(order)
    new_group = np.r_[True, g[1:] != g[:-1]]
    after_end = np.r_[False, is_end[:-1]]
    run = np.cumsum(new_group | after_end) - 1
    first = new_group | after_end
    last = np.r_[first[1:], True]
    d = dates[order]
    prev = np.r_[d[:1], d[:-1]]
    days = np.where(first, np.nan, (d - prev).astype("timedelta64[D]").astype(np.float64))
    manager = log["manager"].fillna(UNASSIGNED).to_numpy(object)[order]
    rec = pd.DataFrame({
        "run": run,
        "code": code,
        "account_id": log["account_id"].to_numpy(object)[order],
        "deal_id": deal.to_numpy(object)[order],
        "interaction_id": log["interaction_id"].to_numpy(object)[order],
        "scenario": log["scenario"].to_numpy(object)[order],
        "step": log["step"].to_numpy(object)[order],
        "number": number_u[code],
        "result": log["result"].to_numpy(object)[order],
        "leads_to": target,
        "date": d,
        "days": days,
    })
    heads, tails = np.flatnonzero(first), np.flatnonzero(last)
    run_manager = manager[heads]
    started = d[heads]
    end_target = target[tails]
    outcome = np.where(is_end[tails], end_target, "open")
    runs = pd.DataFrame({
        "run": np.arange(len(heads)),
        "account_id": rec["account_id"].to_numpy(object)[heads],
        "deal_id": _none_for_missing(rec["deal_id"].to_numpy(object)[heads]),
        "scenario": rec["scenario"].to_numpy(object)[heads],
        "manager": run_manager,
        "started": started,
        "last_date": d[tails],
        "last_step": rec["step"].to_numpy(object)[tails],
        "last_result": rec["result"].to_numpy(object)[tails],
        "outcome": outcome.astype(object),
        "next_step": _none_for_missing(np.where(is_end[tails], np.nan, end_target)),
        "steps": np.diff(np.r_[heads, n]),
    })
    month = month_of_dates(pd.Series(started))
    runs["period"] = label(month, freq).to_numpy(object) if len(runs) else np.empty(0, object)
    if period is not None:
        ps, pe = span(period)
        keep = (month >= ps) & (month <= pe)
        if not keep.any():
            raise NoData(f"No scenario run started in period {period!r}; choose a period with "
                         "runs")
        runs = runs[keep].reset_index(drop=True)
        rec = rec[np.isin(rec["run"].to_numpy(), np.flatnonzero(keep))]
    return _Runs(rec, runs, steps, uniques, leads)


# -- statistics ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScenarioStats:
    """Step statistics of a selection of scenario runs, overall or per group.

    ``steps``: per (group,) scenario and configured step -- ``number``, ``step``, ``label``,
    ``reached`` (runs), ``attempts`` (interactions), ``advanced``, ``won``, ``lost``, ``ended``,
    ``lost_share``, ``median_days``, ``due_days``, ``late`` and ``weak`` (the weak step of its
    scenario). ``results``: per step and result, ``runs`` (whose last record at the step had the
    result), ``share`` (of the step's ``reached``) and ``leads_to``. ``runs``: one row per run
    (``outcome`` ``won``/``lost``/``ended``/``open``, ``next_step`` of an open run).
    """

    steps: pd.DataFrame
    results: pd.DataFrame
    runs: pd.DataFrame
    by: tuple[str, ...] = ()

    @property
    def weak_steps(self) -> pd.DataFrame:
        """The weak step of each scenario (and group): the step with the largest share lost
        (ties: more lost, then the earlier step). A scenario that lost no run is left out."""
        cols = [*self.by, "scenario"]
        return self.steps[self.steps["weak"]][
            [*cols, "number", "step", "label", "reached", "lost", "lost_share"]
        ].reset_index(drop=True)


def step_statistics(log: pd.DataFrame, config: ScenarioConfig | str | Path | None = None, *,
                    by: str | Sequence[str] | None = None, freq: str = "M",
                    period: str | None = None) -> ScenarioStats:
    """Per scenario and step: how many runs reached it, its results, the days between steps
    and the weak step (see the module notes).

    ``by``: ``"manager"``, ``"account_id"``, ``"period"`` (when the run started, at ``freq``:
    ``"M"``, ``"Q"`` or ``"Y"``) or a list of them. ``period`` keeps the runs started in it.
    An empty log, or a period without runs, raises :class:`~kam.periods.NoData`; a scenario,
    step or result the configuration does not know raises :class:`~kam.errors.InputError`.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({
    ...     "account_id": ["A", "A", "B"], "date": ["2026-03-02", "2026-03-06", "2026-03-02"],
    ...     "scenario": "first-contact", "step": ["intro-email", "presentation", "intro-email"],
    ...     "result": ["replied", "not interested", "not interested"]})
    >>> s = step_statistics(log)
    >>> s.steps[["step", "reached", "lost", "lost_share", "median_days"]].head(3).to_dict("list")
    {'step': ['intro-email', 'reminder-call', 'presentation'], 'reached': [2, 0, 1], \
'lost': [1, 0, 1], 'lost_share': [0.5, nan, 1.0], 'median_days': [nan, nan, 4.0]}
    >>> s.weak_steps["step"].tolist()
    ['presentation']
    """
    cfg = _cfg(config)
    keys = [by] if isinstance(by, str) else list(by or [])
    for k in keys:
        if k not in _GROUPS:
            raise ValueError(f"cannot split the step statistics by {k!r}; options are "
                             f"{', '.join(_GROUPS)}")
    check_freq(freq)
    r = _runs(log, cfg, period=period, freq=freq)
    cols = [*keys, "scenario"]
    # integer codes throughout: a group (keys and scenario) per run, broadcast to its records
    run_group, combos = _combined(*(r.runs[c] for c in cols))
    groups = pd.DataFrame(combos, columns=cols)
    of_run = np.full(int(r.runs["run"].max()) + 1, -1, dtype=np.int64)
    of_run[r.runs["run"].to_numpy(np.int64)] = run_group
    rec = r.rec
    g = of_run[rec["run"].to_numpy(np.int64)]
    number = rec["number"].to_numpy(np.int64)
    width = int(r.steps["number"].max()) + 1
    size = len(groups) * width
    flat = g * width + number
    # the last record of each run at each step decides what happened there
    last = ~pd.Series(rec["run"].to_numpy(np.int64) * width + number).duplicated(
        keep="last").to_numpy()
    leads = rec["leads_to"].to_numpy(object)[last]
    f_last = flat[last]

    def count(index: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(index, weights=weights, minlength=size)

    due_of = np.full(size, np.nan)
    sc = groups[["scenario"]].reset_index(names="g").merge(r.steps, on="scenario")
    due_of[sc["g"].to_numpy(np.int64) * width + sc["number"].to_numpy(np.int64)] = sc[
        "due_days"].to_numpy(np.float64)
    days = rec["days"].to_numpy(np.float64)
    measured = ~np.isnan(days)
    median = pd.Series(days[measured]).groupby(flat[measured]).median()
    median_of = np.full(size, np.nan)
    median_of[median.index.to_numpy(np.int64)] = median.to_numpy()
    stats = {
        "reached": count(f_last), "attempts": count(flat),
        "advanced": count(f_last, (~np.isin(leads, ENDS)).astype(np.float64)),
        **{e: count(f_last, (leads == e).astype(np.float64)) for e in ENDS},
        "late": count(flat, (days > due_of[flat]).astype(np.float64)),
    }
    # every configured step of every scenario (and group) present, reached or not
    at = sc["g"].to_numpy(np.int64) * width + sc["number"].to_numpy(np.int64)
    frame = groups.iloc[sc["g"].to_numpy()].reset_index(drop=True).assign(
        number=sc["number"].to_numpy(), step=sc["step"].to_numpy(object),
        label=sc["label"].to_numpy(object),
        **{k: v[at].astype(np.int64) for k, v in stats.items()},
        median_days=median_of[at], due_days=sc["due_days"].to_numpy(np.int64))
    frame["lost_share"] = frame["lost"] / frame["reached"].where(frame["reached"] > 0)
    frame = frame.sort_values([*cols, "number"], ignore_index=True)
    cand = frame[frame["lost"] > 0].sort_values(
        [*cols, "lost_share", "lost", "number"],
        ascending=[True] * len(cols) + [False, False, True])
    frame["weak"] = frame.index.isin(cand.drop_duplicates(cols).index)
    steps = frame[[*cols, "number", "step", "label", "reached", "attempts", "advanced", "won",
                   "lost", "ended", "lost_share", "median_days", "due_days", "late", "weak"]]
    # results: per group and (scenario, step, result) code, the runs whose last record had it
    n_codes = len(r.combos)
    per = np.bincount(g[last] * n_codes + rec["code"].to_numpy(np.int64)[last],
                      minlength=len(groups) * n_codes)
    hit = np.flatnonzero(per)
    gi, ci = hit // n_codes, hit % n_codes
    trip = [r.combos[i] for i in ci]
    res = groups.iloc[gi].reset_index(drop=True).assign(
        step=np.array([t[1] for t in trip], dtype=object),
        result=np.array([t[2] for t in trip], dtype=object),
        leads_to=[r.leads[t][0] for t in trip],  # type: ignore[index]
        number=[r.leads[t][1] for t in trip], runs=per[hit])  # type: ignore[index]
    reached = stats["reached"][gi * width + res["number"].to_numpy(np.int64)]
    res["share"] = res["runs"] / reached
    res = res.sort_values([*cols, "number", "runs", "result"],
                          ascending=[True] * (len(cols) + 1) + [False, True], ignore_index=True)
    results = res[[*cols, "number", "step", "result", "leads_to", "runs", "share"]]
    return ScenarioStats(steps, results, r.runs, tuple(keys))


# -- where each run stands: reminders -------------------------------------------------------------
_STATUS = ["account_id", "deal_id", "manager", "scenario", "started", "last_step",
           "last_result", "last_date", "next_step", "next_label", "due_on", "days_left",
           "status"]


def scenario_status(log: pd.DataFrame, today: date,
                    config: ScenarioConfig | str | Path | None = None, *,
                    soon_days: int | None = None) -> pd.DataFrame:
    """The open runs: where each account or deal stands in its scenario, the next step and
    when it is due.

    ``due_on`` is the date of the last step plus the next step's ``due_days``; ``days_left``
    the days from ``today`` to it (negative: overdue); ``status`` is ``overdue``, ``due soon``
    (within ``soon_days``, default the configuration's ``due_soon_days``) or ``planned``.
    Sorted by ``due_on``. An empty log raises :class:`~kam.periods.NoData`.

    Examples
    --------
    >>> import pandas as pd
    >>> from datetime import date
    >>> log = pd.DataFrame({"account_id": ["A"], "date": ["2026-03-02"],
    ...                     "scenario": ["first-contact"], "step": ["intro-email"],
    ...                     "result": ["no reply"], "manager": ["ann"]})
    >>> s = scenario_status(log, date(2026, 3, 12))
    >>> s[["next_step", "due_on", "days_left", "status"]].to_dict("records")
    [{'next_step': 'reminder-call', 'due_on': datetime.date(2026, 3, 9), 'days_left': -3, \
'status': 'overdue'}]
    """
    today = as_day(today)
    cfg = _cfg(config)
    soon = cfg.due_soon_days if soon_days is None else soon_days
    r = _runs(log, cfg)
    runs = r.runs[r.runs["outcome"] == "open"]
    if runs.empty:
        return pd.DataFrame(columns=_STATUS)
    info = r.steps.rename(columns={"step": "next_step", "label": "next_label"})
    out = runs.merge(info[["scenario", "next_step", "next_label", "due_days"]],
                     on=["scenario", "next_step"], how="left")
    due = out["last_date"].to_numpy("datetime64[D]") + out["due_days"].to_numpy(
        np.int64).astype("timedelta64[D]")
    left = (due - np.datetime64(today, "D")).astype(np.int64)
    out = out.assign(
        started=pd.Series(out["started"].to_numpy("datetime64[D]")).dt.date.to_numpy(object),
        last_date=pd.Series(out["last_date"].to_numpy("datetime64[D]")).dt.date.to_numpy(object),
        due_on=pd.Series(due).dt.date.to_numpy(object), days_left=left,
        status=np.where(left < 0, "overdue", np.where(left <= soon, "due soon", "planned")))
    return out.sort_values(["due_on", "account_id", "scenario"], ignore_index=True)[_STATUS]


def reminders(log: pd.DataFrame, today: date,
              config: ScenarioConfig | str | Path | None = None, *,
              by: str | None = None, soon_days: int | None = None) -> pd.DataFrame:
    """The steps overdue or due soon (:func:`scenario_status`), or (``by``: ``"manager"``,
    ``"account_id"`` or ``"deal_id"``) how many of each there are per manager, account or deal.
    """
    s = scenario_status(log, today, config, soon_days=soon_days)
    due = s[s["status"] != "planned"]
    if by is None:
        return due.reset_index(drop=True)
    if by not in ("manager", "account_id", "deal_id"):
        raise ValueError(f"cannot count reminders by {by!r}; options are manager, account_id, "
                         "deal_id")
    due = due[due[by].notna()]
    out = pd.crosstab(due[by], due["status"]).reindex(columns=["overdue", "due soon"],
                                                     fill_value=0)
    out.columns.name = None
    return out.reset_index().astype({"overdue": np.int64, "due soon": np.int64})


# -- side by side with the funnel -----------------------------------------------------------------
_SIDE = ["scenario", "runs", "won", "lost", "ended", "open", "run_conversion", "weak_step",
         "weak_step_lost_share", "deals", "deals_won", "deal_conversion", "weakest_link",
         "weakest_link_lost_share"]


def scenario_funnel(log: pd.DataFrame, t: Tables,
                    config: ScenarioConfig | str | Path | None = None, *,
                    stages: StageModel | None = None, team: Team | None = None,
                    period: str | None = None) -> pd.DataFrame:
    """Each scenario side by side with the sales funnel (:func:`kam.funnel.funnel`) of the same
    deals: the deals its runs were about, and for runs of an account, the account's deals.

    Columns: ``scenario``, ``runs``, ``won`` / ``lost`` / ``ended`` / ``open`` (runs),
    ``run_conversion`` (won / runs), ``weak_step`` and ``weak_step_lost_share``; then ``deals``,
    ``deals_won``, ``deal_conversion`` (won / worked) and the funnel's ``weakest_link``
    (``from -> to``) with its ``weakest_link_lost_share``. ``period`` keeps the runs started in
    it.
    """
    cfg = _cfg(config)
    stats = step_statistics(log, cfg, period=period)
    runs = stats.runs
    weak = stats.weak_steps.set_index("scenario")
    deals = t.deals
    deal_key = pd.MultiIndex.from_arrays([deals["account_id"].astype(object),
                                          deals["id"].astype(object)])
    hist = t.deal_history
    hist_key = pd.MultiIndex.from_arrays([hist["account_id"].astype(object),
                                          hist["deal_id"].astype(object)])
    rows = []
    for scenario, group in runs.groupby("scenario", sort=False):
        outcome = group["outcome"].value_counts()
        row: dict[str, object] = {
            "scenario": scenario, "runs": len(group),
            **{k: int(outcome.get(k, 0)) for k in (*ENDS, "open")}}
        row["run_conversion"] = row["won"] / len(group)  # type: ignore[operator]
        w = weak.loc[scenario] if scenario in weak.index else None
        row["weak_step"] = None if w is None else w["step"]
        row["weak_step_lost_share"] = np.nan if w is None else float(
            w["lost_share"])  # type: ignore[arg-type]
        on_deal = group["deal_id"].notna()
        pairs = pd.MultiIndex.from_arrays([group.loc[on_deal, "account_id"].astype(object),
                                           group.loc[on_deal, "deal_id"].astype(object)])
        accounts = set(group.loc[~on_deal, "account_id"])
        keep = deal_key.isin(pairs) | deals["account_id"].isin(accounts).to_numpy()
        sub = replace(t, deals=deals[keep], deal_history=hist[
            hist_key.isin(deal_key[keep])])
        row.update(deals=int(keep.sum()), deals_won=0, deal_conversion=np.nan,
                   weakest_link=None, weakest_link_lost_share=np.nan)
        if keep.any():
            f = funnel(sub, stages=stages, team=team)
            row["deals_won"] = int(f.totals["won"].iloc[0])
            row["deal_conversion"] = float(f.totals["conversion"].iloc[0])
            link = f.weakest
            if link is not None:
                row["weakest_link"] = f"{link['from_stage']} -> {link['to_stage']}"
                row["weakest_link_lost_share"] = float(link["lost_share"])
        rows.append(row)
    return pd.DataFrame(rows, columns=_SIDE)
