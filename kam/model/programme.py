"""Special programmes: a seminar, a mailing or a visit campaign for a group of clients
(DOMAIN.md §11: "building client groups for a special programme such as a seminar or a mailing,
and tracking that programme's delivery and results").

A :class:`Programme` is one self-contained record: what it is, the **filters** that select its
client group (saved with it, so the group can be rebuilt and compared later), the **delivery**
per account (invited, attended, mailed, bounced), its **cost** and the **event points** its
outcome gives to the client rating (DOMAIN.md §8). It can be stored as a document of its own;
until the store has one, the team document holds the programmes
(:attr:`Team.programmes <kam.model.Team.programmes>`). The analyses live in
:mod:`kam.programmes`.

Filters are a mapping ``field -> condition``; a condition is one value (equal), a list (any
of them) or a range ``{"min": ..., "max": ...}`` (either bound may be left out). The fields
(:data:`FILTER_FIELDS`) are those of the account and its records a planner selects by: an
unknown field is refused naming the valid ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from .account import Category, RelationshipStage, SalesStage
from .base import Amount, FieldError, Id, KamModel, Money, Text, short_repr

__all__ = [
    "FILTER_FIELDS",
    "Delivery",
    "DeliveryStatus",
    "Programme",
    "ProgrammeKind",
    "check_filters",
]


class ProgrammeKind(StrEnum):
    SEMINAR = "seminar"
    MAILING = "mailing"
    VISITS = "visit campaign"
    OTHER = "other"


class DeliveryStatus(StrEnum):
    """How far the programme reached an account. ``attended`` (a seminar attended, a visit
    made) and ``mailed`` reach the client; ``invited`` (not come) and ``bounced`` do not."""

    INVITED = "invited"
    ATTENDED = "attended"
    MAILED = "mailed"
    BOUNCED = "bounced"

    @property
    def reached(self) -> bool:
        return self in (DeliveryStatus.ATTENDED, DeliveryStatus.MAILED)


FILTER_FIELDS: dict[str, str] = {
    "category": "text",
    "sales_stage": "text",
    "relationship_stage": "text",
    "region": "text",
    "industry": "text",
    "kam": "text",
    "group": "text",
    "product_group": "text",
    "account_id": "text",
    "employees": "number",
    "client_revenue": "number",
    "revenue": "number",
    "rating": "number",
    "health": "number",
}
"""The fields a programme's client group can be filtered on, and their kind: ``text`` fields
take a value or a list, ``number`` fields a range ``{"min": .., "max": ..}`` (or a value).
``product_group``: the account bought (revenue lines) or is offered (deals) that product group;
``revenue``: our sales to it over the programme's ``revenue_period``; ``rating``: its total
client rating; ``health``: its relationship-health score (0..100)."""

_ENUMS: dict[str, list[str]] = {
    "category": [c.value for c in Category],
    "sales_stage": [s.value for s in SalesStage],
    "relationship_stage": [s.value for s in RelationshipStage],
}


def check_filters(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The filters as stored (lists for several values, ``{"min", "max"}`` for ranges), or a
    :class:`~kam.model.base.FieldError` (a ``ValueError``) naming the first bad field, what it
    takes and the valid options.

    >>> check_filters({"category": ["A", "B"], "rating": {"min": 5}})
    {'category': ['A', 'B'], 'rating': {'min': 5.0}}
    >>> check_filters({"segment": "x"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    kam.model.base.FieldError: unknown filter field 'segment'; valid fields: category, ...
    """
    if not isinstance(filters, Mapping):
        raise FieldError("", f"filters are a mapping field -> condition, found "
                             f"{short_repr(filters)}")
    out: dict[str, Any] = {}
    for name, cond in filters.items():
        kind = FILTER_FIELDS.get(name)
        if kind is None:
            raise FieldError(str(name), f"unknown filter field {short_repr(name)}; valid "
                             "fields: " + ", ".join(FILTER_FIELDS))
        out[name] = _condition(name, kind, cond)
    return out


def _condition(name: str, kind: str, cond: Any) -> Any:
    if isinstance(cond, Mapping):
        if kind != "number":
            raise FieldError(name, f"filter {name!r} takes a value or a list of values, "
                                   "not a range")
        extra = sorted(set(map(str, cond)) - {"min", "max"})
        if extra or not cond:
            raise FieldError(name, f"filter {name!r}: a range takes min and/or max, found "
                             f"{short_repr(dict(cond))}")
        rng = {k: _number(name, cond[k]) for k in ("min", "max") if k in cond}
        if "min" in rng and "max" in rng and rng["min"] > rng["max"]:
            raise FieldError(name, f"filter {name!r}: min {rng['min']:g} is above max "
                                   f"{rng['max']:g}")
        return rng
    if kind == "number":
        return {"min": _number(name, cond), "max": _number(name, cond)}
    values = list(cond) if isinstance(cond, list | tuple | set | frozenset) else [cond]
    if not values:
        raise FieldError(name, f"filter {name!r}: give at least one value")
    for v in values:
        if not isinstance(v, str) or not v.strip():
            raise FieldError(name, f"filter {name!r}: values are text, found {short_repr(v)}")
    valid = _ENUMS.get(name)
    if valid is not None:
        for v in values:
            if v not in valid:
                raise FieldError(name, f"filter {name!r}: unknown value {v!r}; valid: "
                                 + ", ".join(valid))
    return values[0] if len(values) == 1 and not isinstance(cond, list | tuple) else values


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise FieldError(name, f"filter {name!r}: expected a number, found {short_repr(value)}")
    return float(value)


class Delivery(KamModel):
    """What the programme did for one account: its status and when."""

    account: Id
    status: DeliveryStatus
    on: date | None = None
    note: Text | None = None


class Programme(KamModel):
    """A special programme for a group of clients (see the module docstring)."""

    id: Id
    name: Text = Field(min_length=1)
    kind: ProgrammeKind = ProgrammeKind.OTHER
    start: date
    end: date | None = Field(None, description="Last day (default: the start day).")
    owner: Id | None = Field(None, description="Team-member id of who runs it.")
    filters: dict[str, Any] = Field(default_factory=dict,
                                    description="The client group: field -> condition.")
    revenue_period: Text | None = Field(
        None, description="Period the 'revenue' filter sums sales over (e.g. 2025).")
    deliveries: list[Delivery] = Field(default_factory=list)
    cost: Money = Field(0.0, description="Total cost, split over the accounts reached.")
    points: dict[DeliveryStatus, Amount] = Field(
        default_factory=lambda: {DeliveryStatus.ATTENDED: 3.0, DeliveryStatus.MAILED: 1.0},
        description="Event-rating points per delivery status (DOMAIN.md §8).")
    notes: Text | None = None

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, value: Any) -> Any:
        return check_filters(value) if value is not None else {}

    @model_validator(mode="after")
    def _consistent(self) -> Programme:
        if self.end is not None and self.end < self.start:
            raise FieldError("end", f"end {self.end} is before start {self.start}")
        seen: set[str] = set()
        for i, x in enumerate(self.deliveries):
            if x.account in seen:
                raise FieldError(f"deliveries[{i}].account", f"account {x.account!r} is listed "
                                 "twice; keep one delivery per account (the furthest status)")
            seen.add(x.account)
        return self

    @property
    def last_day(self) -> date:
        """The programme's last day (``end``, else ``start``)."""
        return self.end or self.start

    def accounts(self) -> list[str]:
        """Every account the programme delivered to (reached or not)."""
        return [x.account for x in self.deliveries]

    def reached(self) -> list[str]:
        """The accounts the programme reached (attended, mailed): its participants."""
        return [x.account for x in self.deliveries if x.status.reached]

    def record(self, account: str, status: str, *, on: date | None = None,
               note: str | None = None) -> Delivery:
        """Record (or update) the delivery to one account; returns it. A bad status raises
        :class:`~kam.errors.InputError` naming the valid ones."""
        from .edits import _build

        new = _build(Delivery, f"programme {self.id} / delivery to {account}",
                     {"account": account, "status": status, "on": on, "note": note})
        for i, x in enumerate(self.deliveries):
            if x.account == account:
                self.deliveries[i] = new
                return new
        self.deliveries.append(new)
        return new
