"""Revenue, cost-to-serve, activity counts and budgets of an account (DOMAIN.md §7)."""

from __future__ import annotations

from pydantic import Field

from .base import LINE_ID_HELP, Id, KamModel, Money, Period, Quantity, Text

__all__ = ["ActivityLine", "Budget", "CostLine", "RevenueLine"]


class RevenueLine(KamModel):
    """Sales to the account in one period for one product: revenue at net price, cost of goods,
    and the list-price value (their difference is the discount given)."""

    id: Id | None = Field(None, description=LINE_ID_HELP)
    period: Period
    product: Text | None = None
    product_group: Text | None = None
    revenue: Money
    cogs: Money = 0.0
    list_value: Money | None = Field(None, description="Value at list price, before discounts.")
    quantity: Quantity | None = None


class CostLine(KamModel):
    """A cost of serving the account, booked to a category (sales visits, technical support,
    logistics, discounts and rebates, special programmes, ...)."""

    id: Id | None = Field(None, description=LINE_ID_HELP)
    period: Period
    category: Text = Field(min_length=1)
    amount: Money
    note: Text | None = None


class ActivityLine(KamModel):
    """How many times an activity (order, sales visit, delivery, delivery mile, unit handled,
    expedited delivery, ...) was done for the account in a period: the driver of
    activity-based cost-to-serve."""

    id: Id | None = Field(None, description=LINE_ID_HELP)
    period: Period
    activity: Text = Field(min_length=1)
    count: Quantity


class Budget(KamModel):
    """The cost-to-serve budget for one category in one period."""

    id: Id | None = Field(None, description=LINE_ID_HELP)
    period: Period
    category: Text = Field(min_length=1)
    amount: Money
