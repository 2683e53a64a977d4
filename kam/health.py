"""Relationship health: a 0-100 score that explains itself, and the early warnings behind it.

DOMAIN.md §10 names why relationships with key accounts break — key people change, trust is lost
through a broken promise, one side neglects the other — and §3 names the red flags of the buying
center (no known power point, a single-threaded relationship). :func:`relationship_health` turns
them into six factors, each worth 0..1:

============  ==========================================================================
factor        value
============  ==========================================================================
coverage      share of the entry / pain / power points held by an active person
key_contacts  mean over key persons of 1 (contacted within ``fresh_days``) .. 0
              (``stale_days`` or more, or never), linear between
trust         ``1 - n / overdue_tolerated`` (floored at 0), ``n`` = overdue commitments +
              commitments broken within ``broken_window_days``
key_people    ``1 - left_penalty x key contacts who left - kam_change_penalty x [new KAM]``
              (changes within ``window_days``; floored at 0)
projects      mean over rated current projects of the mean of ``(rating - 1) / 4``
neglect       1 (last interaction within ``ok_days``) .. 0 (``max_days`` or more, or never)
============  ==========================================================================

A factor's contribution is ``weight x value`` (weights in ``templates/health.yaml`` add up to
100); the score is the sum of the contributions, so it stays within 0..100 and a bar chart of the
contributions explains it. Every shortfall comes with an alert that says what to do, naming the
person or the commitment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field, model_validator

from .config import ConfigSource, load_config
from .model import BuyingRole, CommitmentStatus, Dossier, KamModel, Person, ProjectStatus
from .periods import as_day

__all__ = [
    "FACTORS",
    "HealthConfig",
    "HealthReport",
    "health_alerts",
    "health_table",
    "key_persons",
    "last_contacts",
    "load_health_config",
    "relationship_health",
]

FACTORS = ("coverage", "key_contacts", "trust", "key_people", "projects", "neglect")
"""The health factors, in the order they are shown."""

SEVERITIES = ("high", "medium", "low")
ALERT_COLUMNS = ["severity", "factor", "warning", "action", "subject"]


# -- configuration -----------------------------------------------------------------------------
class _Weights(KamModel):
    coverage: float = Field(ge=0)
    key_contacts: float = Field(ge=0)
    trust: float = Field(ge=0)
    key_people: float = Field(ge=0)
    projects: float = Field(ge=0)
    neglect: float = Field(ge=0)


class _KeyPerson(KamModel):
    roles: list[BuyingRole] = Field(default_factory=lambda: [
        BuyingRole.ENTRY, BuyingRole.PAIN, BuyingRole.POWER])
    min_influence: float = Field(0.6, ge=0, le=1)


class _Window(KamModel):
    """A linear decay: 1 up to ``fresh`` days, 0 from ``stale`` days on."""

    fresh_days: int = Field(ge=0)
    stale_days: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> _Window:
        if self.stale_days <= self.fresh_days:
            raise ValueError(
                f"stale_days ({self.stale_days}) must be greater than fresh_days "
                f"({self.fresh_days})")
        return self


class _Trust(KamModel):
    overdue_tolerated: int = Field(2, gt=0)
    broken_window_days: int = Field(180, ge=0)


class _KeyPeople(KamModel):
    window_days: int = Field(180, ge=0)
    left_penalty: float = Field(0.5, ge=0, le=1)
    kam_change_penalty: float = Field(0.5, ge=0, le=1)


class _Projects(KamModel):
    no_data_score: float = Field(1.0, ge=0, le=1)
    warn_below: int = Field(4, ge=1, le=6)


class _Neglect(KamModel):
    ok_days: int = Field(ge=0)
    max_days: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> _Neglect:
        if self.max_days <= self.ok_days:
            raise ValueError(
                f"max_days ({self.max_days}) must be greater than ok_days ({self.ok_days})")
        return self


class HealthConfig(KamModel):
    """Weights and thresholds of the health score (``templates/health.yaml``)."""

    weights: _Weights
    key_person: _KeyPerson = Field(default_factory=_KeyPerson)
    coverage_roles: list[BuyingRole] = Field(min_length=1)
    key_contacts: _Window
    trust: _Trust = Field(default_factory=_Trust)
    key_people: _KeyPeople = Field(default_factory=_KeyPeople)
    projects: _Projects = Field(default_factory=_Projects)
    neglect: _Neglect

    @model_validator(mode="after")
    def _weights_sum_to_100(self) -> HealthConfig:
        total = sum(getattr(self.weights, f) for f in FACTORS)
        if abs(total - 100) > 1e-9:
            raise ValueError(
                f"the weights add up to {total:g}; they must add up to 100 so that the "
                "contributions add up to the 0-100 score")
        return self


def load_health_config(source: ConfigSource = None, **overrides: Any) -> HealthConfig:
    """Read the health weights and thresholds (default: ``templates/health.yaml``).

    ``source`` may also be a :class:`HealthConfig` or a mapping of the settings to change;
    keyword arguments change single settings. Errors
    (:class:`~kam.errors.ConfigError`) name the file and the setting.
    """
    return load_config(HealthConfig, source, default="health.yaml",
                       overrides=overrides)

def _config(config: HealthConfig | str | Path | None) -> HealthConfig:
    return config if isinstance(config, HealthConfig) else load_health_config(config)


# -- shared helpers ----------------------------------------------------------------------------
def last_contacts(dossier: Dossier, today: date) -> dict[str, date]:
    """Date of the last interaction (on or before ``today``) each client person took part in.

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier, Interaction, Person
    >>> d = Dossier(account=Account(id="A", name="Acme"), persons=[Person(id="p1", name="Ann")],
    ...             interactions=[Interaction(id="i1", date=date(2026, 1, 5), kind="call",
    ...                                       participants=["p1"])])
    >>> last_contacts(d, date(2026, 3, 1))
    {'p1': datetime.date(2026, 1, 5)}
    """
    today = as_day(today)
    out: dict[str, date] = {}
    for x in dossier.interactions:
        if x.date > today:
            continue
        for pid in x.participants:
            if pid not in out or x.date > out[pid]:
                out[pid] = x.date
    return out


def key_persons(dossier: Dossier, config: HealthConfig | str | Path | None = None, *,
                include_left: bool = False) -> list[Person]:
    """Key persons: a key buying-center role (entry / pain / power by default) or an influence
    of at least ``key_person.min_influence``; only active ones unless ``include_left``."""
    cfg = _config(config)
    roles = set(cfg.key_person.roles)
    return [p for p in dossier.persons
            if (include_left or p.active)
            and (roles.intersection(p.roles) or p.influence >= cfg.key_person.min_influence)]


def _decay(days: int | None, fresh: int, stale: int) -> float:
    """1 within ``fresh`` days, 0 at ``stale`` days or more (or never), linear between."""
    if days is None or days >= stale:
        return 0.0
    if days <= fresh:
        return 1.0
    return (stale - days) / (stale - fresh)


def _roles(p: Person) -> str:
    return ", ".join(r.value for r in p.roles) or "no role"


def _contact_target(dossier: Dossier) -> str:
    """The person to call first: the most influential active person (ties: by name)."""
    active = sorted((p for p in dossier.persons if p.active), key=lambda p: (-p.influence, p.name))
    return active[0].name if active else "anyone at the account"


# -- the report --------------------------------------------------------------------------------
@dataclass(frozen=True)
class HealthReport:
    """The health of one account on ``today``.

    ``factors``: one row per factor with ``weight``, ``value`` (0..1), ``contribution``
    (weight x value; they add up to ``score``) and ``explanation``. ``alerts``: ``severity``
    (high / medium / low), ``factor``, ``warning``, ``action`` and ``subject`` (the id of the
    person, commitment or project concerned, or the account id).
    """

    account_id: str
    account_name: str
    today: date
    score: float
    factors: pd.DataFrame
    alerts: pd.DataFrame

    def __repr__(self) -> str:
        return (f"HealthReport({self.account_id!r}, score={self.score:.1f}, "
                f"alerts={len(self.alerts)}, today={self.today.isoformat()})")

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(str(r.factor))}</td><td>{r.weight:g}</td><td>{r.value:.2f}</td>"
            f"<td>{r.contribution:.1f}</td><td>{escape(str(r.explanation))}</td></tr>"
            for r in self.factors.itertuples())
        alerts = "".join(
            f"<li><b>{escape(str(r.severity))}</b>: {escape(str(r.warning))} &rarr; "
            f"{escape(str(r.action))}</li>"
            for r in self.alerts.itertuples())
        return (
            f"<h4>Relationship health of {escape(self.account_name)}: {self.score:.0f} / 100 "
            f"(as of {self.today.isoformat()})</h4><table><tr><th>factor</th><th>weight</th>"
            f"<th>value</th><th>contribution</th><th>why</th></tr>{rows}</table>"
            + (f"<ul>{alerts}</ul>" if alerts else "<p>No warnings.</p>")
        )


def relationship_health(dossier: Dossier, today: date,
                        config: HealthConfig | str | Path | None = None) -> HealthReport:
    """Score the relationship with one account on ``today`` and list its warnings.

    Parameters
    ----------
    dossier : Dossier
    today : date
        The day of the assessment; nothing after it is counted.
    config : HealthConfig, path or None
        Weights and thresholds; default ``templates/health.yaml``.

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier
    >>> r = relationship_health(Dossier(account=Account(id="A", name="Acme")), date(2026, 3, 1))
    >>> r.factors[["factor", "contribution"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['coverage', 0.0], ['key_contacts', 0.0], ['trust', 20.0], ['key_people', 15.0],
     ['projects', 10.0], ['neglect', 0.0]]
    >>> r.score
    45.0
    >>> r.alerts["warning"].iloc[0]
    'No known power point (who makes the decision?)'
    """
    today = as_day(today)
    cfg = _config(config)
    alerts: list[tuple[str, str, str, str, str]] = []
    values: dict[str, tuple[float, str]] = {}
    acc = dossier.account

    def alert(severity: str, factor: str, warning: str, action: str, subject: str) -> None:
        alerts.append((severity, factor, warning, action, subject))

    active = [p for p in dossier.persons if p.active]
    contacts = last_contacts(dossier, today)

    # coverage of the entry-strategy points
    holders = {r: [p for p in active if r in p.roles] for r in cfg.coverage_roles}
    covered = [r for r in cfg.coverage_roles if holders[r]]
    values["coverage"] = (
        len(covered) / len(cfg.coverage_roles),
        "; ".join(f"{r.value}: " + (", ".join(p.name for p in holders[r]) or "nobody")
                  for r in cfg.coverage_roles))
    entry = [p for p in active if BuyingRole.ENTRY in p.roles]
    ask = entry[0].name if entry else _contact_target(dossier)
    for r in cfg.coverage_roles:
        if holders[r]:
            continue
        if r is BuyingRole.POWER:
            alert("high", "coverage", "No known power point (who makes the decision?)",
                  f"Ask {ask} who approves or can forbid the purchase, and ask to be introduced",
                  acc.id)
        elif r is BuyingRole.PAIN:
            alert("medium", "coverage", "No known pain point (who is dissatisfied?)",
                  f"Ask {ask} which department suffers most from the current situation",
                  acc.id)
        elif r is BuyingRole.ENTRY:
            alert("medium", "coverage", "No entry point (who listens to us and informs us?)",
                  f"Find one person who will give us information, e.g. through "
                  f"{_contact_target(dossier)}", acc.id)
        else:
            alert("medium", "coverage", f"Nobody active holds the {r.value} role",
                  f"Find out who acts as {r.value} and meet them", acc.id)
    if len(active) == 1:
        alert("medium", "coverage", f"Single-threaded relationship: {active[0].name} is the only "
              "active contact", f"Ask {active[0].name} to introduce us to a second function",
              active[0].id)
    elif not active:
        alert("high", "coverage", "No active contact person at the account",
              "Find and record at least one contact person", acc.id)

    # how recently each key person was contacted
    keys = key_persons(dossier, cfg)
    kc = cfg.key_contacts
    if keys:
        parts, scores = [], []
        for p in keys:
            last = contacts.get(p.id)
            days = (today - last).days if last else None
            s = _decay(days, kc.fresh_days, kc.stale_days)
            scores.append(s)
            parts.append(f"{p.name} {'never' if days is None else f'{days} d'}")
            if s < 1:
                when = "never contacted" if last is None else \
                    f"last contacted {days} days ago ({last.isoformat()})"
                alert("high" if s == 0 else "medium", "key_contacts",
                      f"Key person {p.name} ({_roles(p)}, influence {p.influence:g}) {when}",
                      f"Call or meet {p.name} within two weeks", p.id)
        values["key_contacts"] = (sum(scores) / len(scores), "; ".join(parts))
    else:
        values["key_contacts"] = (0.0, "no key person known")

    # trust: overdue and recently broken commitments
    names = {p.id: p.name for p in dossier.persons}
    overdue = [c for c in dossier.commitments if c.overdue(today)]
    broken = [c for c in dossier.commitments if c.status is CommitmentStatus.BROKEN
              and 0 <= (today - c.due).days <= cfg.trust.broken_window_days]
    n = len(overdue) + len(broken)
    values["trust"] = (max(0.0, 1 - n / cfg.trust.overdue_tolerated),
                       f"{len(overdue)} overdue, {len(broken)} broken recently")
    for c in sorted(overdue, key=lambda c: c.due):
        to = names.get(c.to_person or "", "the client")
        owner = f" (owner: {c.owner})" if c.owner else ""
        alert("high", "trust",
              f"Commitment {c.id} '{c.description}' to {to} is {(today - c.due).days} days "
              f"overdue (due {c.due.isoformat()}){owner}",
              f"Tell {to} about the delay now, agree a new date and keep it", c.id)
    for c in broken:
        to = names.get(c.to_person or "", "the client")
        alert("medium", "trust",
              f"Broken promise {c.id} '{c.description}' (due {c.due.isoformat()})",
              f"Acknowledge it with {to} and agree how to make it good", c.id)

    # key people changed
    kp = cfg.key_people
    left = [p for p in key_persons(dossier, cfg, include_left=True)
            if p.left_on and 0 <= (today - p.left_on).days <= kp.window_days]
    kam_changed = bool(acc.kam_since and acc.previous_kams
                       and 0 <= (today - acc.kam_since).days <= kp.window_days)
    values["key_people"] = (
        max(0.0, 1 - kp.left_penalty * len(left) - kp.kam_change_penalty * kam_changed),
        f"{len(left)} key contact(s) left, KAM {'replaced' if kam_changed else 'unchanged'} "
        f"in the last {kp.window_days} days")
    for p in left:
        alert("high", "key_people", f"Key contact {p.name} ({_roles(p)}) left the client on "
              f"{p.left_on}",
              f"Find out who took over {p.name}'s role and meet them; stay in touch with {p.name}",
              p.id)
    if kam_changed:
        who = ", ".join(p.name for p in keys) or "the key persons"
        alert("medium", "key_people", f"Our KAM changed on {acc.kam_since} "
              f"(now {acc.kam or 'unassigned'}, before {acc.previous_kams[-1]})",
              f"Have {acc.kam or 'the new KAM'} meet {who} in person", acc.id)

    # current projects
    current = [x for x in dossier.projects
               if x.status in (ProjectStatus.IN_PROGRESS, ProjectStatus.ON_HOLD)]
    rated = []
    for x in current:
        ratings = [r for r in (x.satisfaction, x.quality) if r is not None]
        if not ratings:
            continue
        rated.append(sum((r - 1) / 4 for r in ratings) / len(ratings))
        low = min(ratings)
        if low < cfg.projects.warn_below:
            alert("high" if low <= 2 else "medium", "projects",
                  f"Project {x.name}: satisfaction {x.satisfaction or '?'}/5, "
                  f"quality {x.quality or '?'}/5",
                  f"Review {x.name} with the client now and agree corrective actions with owners",
                  x.id)
    values["projects"] = (
        (sum(rated) / len(rated), f"{len(rated)} rated current project(s)") if rated
        else (cfg.projects.no_data_score, "no rated current project"))

    # neglect
    past = [x for x in dossier.interactions if x.date <= today]
    last_x = max(past, key=lambda x: x.date) if past else None
    days = (today - last_x.date).days if last_x else None
    values["neglect"] = (_decay(days, cfg.neglect.ok_days, cfg.neglect.max_days),
                         "no interaction recorded" if last_x is None else
                         f"last interaction {days} days ago")
    if days is None or days > cfg.neglect.ok_days:
        what = "No interaction recorded" if last_x is None else \
            f"No contact for {days} days (last: {last_x.date.isoformat()} {last_x.kind.value})"
        alert("high" if values["neglect"][0] == 0 else "medium", "neglect", what,
              f"Contact {_contact_target(dossier)} this week", acc.id)

    weights = cfg.weights
    factors = pd.DataFrame(
        [(f, getattr(weights, f), values[f][0], getattr(weights, f) * values[f][0], values[f][1])
         for f in FACTORS],
        columns=["factor", "weight", "value", "contribution", "explanation"])
    order = {s: i for i, s in enumerate(SEVERITIES)}
    forder = {f: i for i, f in enumerate(FACTORS)}
    alerts.sort(key=lambda a: (order[a[0]], forder[a[1]]))
    return HealthReport(
        account_id=acc.id, account_name=acc.name, today=today,
        score=float(factors["contribution"].sum()), factors=factors,
        alerts=pd.DataFrame(alerts, columns=ALERT_COLUMNS))


# -- many accounts ------------------------------------------------------------------------------
def health_table(dossiers: Iterable[Dossier], today: date,
                 config: HealthConfig | str | Path | None = None) -> pd.DataFrame:
    """The health of a portfolio: one row per account, weakest first.

    Columns: ``account_id``, ``name``, ``kam``, ``score``, one column per factor with its
    contribution, ``alerts_high`` and ``alerts``. No dossiers give an empty table with these
    columns.
    """
    cfg = _config(config)
    rows = []
    for d in dossiers:
        r = relationship_health(d, today, cfg)
        contrib = dict(zip(r.factors["factor"], r.factors["contribution"], strict=True))
        rows.append({"account_id": d.account.id, "name": d.account.name, "kam": d.account.kam,
                     "score": r.score, **contrib,
                     "alerts_high": int((r.alerts["severity"] == "high").sum()),
                     "alerts": len(r.alerts)})
    columns = ["account_id", "name", "kam", "score", *FACTORS, "alerts_high", "alerts"]
    if not rows:
        return pd.DataFrame(columns=columns)
    return (pd.DataFrame(rows, columns=columns)
            .sort_values(["score", "account_id"]).reset_index(drop=True))


def health_alerts(dossiers: Iterable[Dossier], today: date,
                  config: HealthConfig | str | Path | None = None) -> pd.DataFrame:
    """Every alert of every account, with ``account_id`` first; high severity first."""
    cfg = _config(config)
    frames = []
    for d in dossiers:
        a = relationship_health(d, today, cfg).alerts
        frames.append(a.assign(account_id=d.account.id)[["account_id", *ALERT_COLUMNS]])
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["account_id", *ALERT_COLUMNS])
    out = pd.concat(frames, ignore_index=True)
    rank = out["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    return out.assign(_r=rank).sort_values(["_r", "account_id"], kind="stable") \
        .drop(columns="_r").reset_index(drop=True)
