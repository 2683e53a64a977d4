"""Flat pandas views of many dossiers: the input of every portfolio analysis.

Analyses work on these DataFrames rather than on the records, so the same functions run on a
dozen demo accounts or on a generated portfolio of 200,000 deals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import Enum
from operator import attrgetter

import pandas as pd

from .dossier import Dossier

__all__ = ["Tables", "tables"]

_HISTORY_COLUMNS = ["account_id", "deal_id", "stage", "on"]


@dataclass(frozen=True)
class Tables:
    """One DataFrame per kind of record; every row carries ``account_id``."""

    accounts: pd.DataFrame
    persons: pd.DataFrame
    links: pd.DataFrame
    interactions: pd.DataFrame
    projects: pd.DataFrame
    needs: pd.DataFrame
    commitments: pd.DataFrame
    deals: pd.DataFrame
    revenue: pd.DataFrame
    costs: pd.DataFrame
    activities: pd.DataFrame
    budgets: pd.DataFrame
    ratings: pd.DataFrame
    deal_history: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=_HISTORY_COLUMNS)
    )
    """Stage changes of deals (``Deal.history``): one row per (deal, stage entered, date)."""

    def for_accounts(self, account_ids: Iterable[str]) -> Tables:
        """The same tables restricted to some accounts."""
        keep = set(account_ids)
        return Tables(
            **{
                f.name: getattr(self, f.name)[
                    getattr(self, f.name)["account_id"].isin(keep)
                ].reset_index(drop=True)
                for f in fields(self)
            }
        )


_ACCOUNT_COLUMNS = [
    "account_id",
    "name",
    "industry",
    "region",
    "category",
    "kam",
    "sales_stage",
    "relationship_stage",
    "decision_stage",
    "group",
    "parent",
    "employees",
    "client_revenue",
    "total_consumption",
    "market_price_index",
]


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


def _records(dossiers: list[Dossier], attr: str, columns: list[str]) -> pd.DataFrame:
    fields = columns[1:]  # after account_id; every one a field of the record (none nested)
    get = attrgetter(*fields)  # a tuple of the fields per record, read in C
    ids: list[object] = []
    rows: list[tuple[object, ...]] = []
    for d in dossiers:
        records = getattr(d, attr)
        if records:
            ids += [d.account.id] * len(records)
            rows += map(get, records)
    if not rows:
        return _frame([], columns)
    data: dict[str, list[object]] = {"account_id": ids}
    for name, values in zip(fields, zip(*rows, strict=True), strict=True):
        # Only a column holding enums or lists is converted value by value.
        plain = set(map(type, values)) <= _AS_IS
        data[name] = list(values) if plain else [_plain(v) for v in values]
    return pd.DataFrame(data, columns=columns)


_AS_IS = frozenset({str, int, float, bool, type(None), date, datetime})


def _plain(value: object) -> object:
    """Enums to their value; lists are copied (the frame must not share the record's)."""
    kind = type(value)
    if kind in _AS_IS:  # most values: one set lookup
        return value
    if isinstance(value, Enum):
        return value._value_  # what .value returns, without its descriptor
    if kind is list:
        return list(value)  # type: ignore[call-overload]
    return value


def tables(dossiers: Iterable[Dossier]) -> Tables:
    """Flatten dossiers into :class:`Tables`.

    Examples
    --------
    >>> from kam.model import Account, Dossier, RevenueLine
    >>> d = Dossier(account=Account(id="ACME", name="Acme"),
    ...             revenue=[RevenueLine(period="2025-01", revenue=100.0, cogs=60.0)])
    >>> tables([d]).revenue[["account_id", "period", "revenue"]].to_dict("records")
    [{'account_id': 'ACME', 'period': '2025-01', 'revenue': 100.0}]
    """
    ds = list(dossiers)
    acc_rows = []
    for d in ds:
        a = d.account
        acc_rows.append(
            {
                "account_id": a.id,
                "name": a.name,
                "industry": a.industry,
                "region": a.region,
                "category": _plain(a.category),
                "kam": a.kam,
                "sales_stage": _plain(a.sales_stage),
                "relationship_stage": _plain(a.relationship_stage),
                "decision_stage": _plain(a.decision_stage),
                "group": a.group,
                "parent": a.parent,
                "employees": a.employees,
                "client_revenue": a.financial.revenue,
                "total_consumption": a.market.total_consumption,
                "market_price_index": a.market.market_price_index,
            }
        )
    return Tables(
        accounts=_frame(acc_rows, _ACCOUNT_COLUMNS),
        persons=_records(
            ds,
            "persons",
            [
                "account_id",
                "id",
                "name",
                "position",
                "department",
                "roles",
                "influence",
                "attitude",
                "left_on",
            ],
        ),
        links=_records(ds, "links", ["account_id", "source", "target", "strength", "kind"]),
        interactions=_records(
            ds,
            "interactions",
            ["account_id", "id", "date", "kind", "participants", "our_participants", "outcome",
             "deal", "scenario", "step", "result"],
        ),
        projects=_records(
            ds, "projects", ["account_id", "id", "name", "status", "satisfaction", "quality"]
        ),
        needs=_records(
            ds,
            "needs",
            [
                "account_id",
                "id",
                "title",
                "level",
                "function",
                "awareness",
                "significance",
                "capability",
                "product",
                "volume",
            ],
        ),
        commitments=_records(
            ds,
            "commitments",
            ["account_id", "id", "description", "due", "status", "done_on", "owner"],
        ),
        deals=_records(
            ds,
            "deals",
            [
                "account_id",
                "id",
                "title",
                "stage",
                "outcome",
                "manager",
                "product",
                "product_group",
                "planned_budget",
                "refined_budget",
                "actual_budget",
                "probability",
                "created",
                "plan_date",
                "expected_close",
                "closed_on",
                "period",
                "refusal_reason",
                "decision_stage",
            ],
        ),
        revenue=_records(
            ds,
            "revenue",
            [
                "account_id",
                "period",
                "product",
                "product_group",
                "revenue",
                "cogs",
                "list_value",
                "quantity",
            ],
        ),
        costs=_records(ds, "costs", ["account_id", "period", "category", "amount"]),
        activities=_records(ds, "activities", ["account_id", "period", "activity", "count"]),
        budgets=_records(ds, "budgets", ["account_id", "period", "category", "amount"]),
        ratings=_records(ds, "ratings", ["account_id", "kind", "points", "on", "campaign"]),
        deal_history=_frame(
            [
                {"account_id": d.account.id, "deal_id": x.id, "stage": h.stage, "on": h.on}
                for d in ds
                for x in d.deals
                for h in x.history
            ],
            _HISTORY_COLUMNS,
        ),
    )
