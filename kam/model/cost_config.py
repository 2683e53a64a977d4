"""The cost-to-serve configuration: cost categories and activity rates (DOMAIN.md §7).

``templates/cost_to_serve.yaml`` lists the categories cost lines and budgets may be booked to
and the rate of each activity. Profitability (:mod:`kam.profitability`) costs the lines with it,
and every save and every import checks the lines against it (:func:`cost_problems`), so a line
that a report would refuse is refused at the door of the store instead: one account's bad line
can then never fail another account's report.

Names match case-insensitively and ``_`` counts as a space (:func:`category_key`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config import ConfigSource, load_config
from ..errors import ValidationProblem
from .base import short_repr

if TYPE_CHECKING:
    from .dossier import Dossier

__all__ = [
    "ActivityRate",
    "CostToServeConfig",
    "category_key",
    "cost_problems",
    "default_cost_config",
    "load_cost_to_serve",
]


def category_key(name: object) -> str:
    """How category and activity names compare: case, ``_`` and runs of blanks do not matter.

    >>> category_key("Sales_Visits ") == category_key("sales  visits")
    True
    """
    return " ".join(str(name).replace("_", " ").split()).casefold()


_key = category_key


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


def load_cost_to_serve(source: ConfigSource = None, **overrides: Any) -> CostToServeConfig:
    """The cost-to-serve configuration: ``source`` is a YAML file (default:
    ``templates/cost_to_serve.yaml``), a :class:`CostToServeConfig` or a mapping of settings to
    change; keyword arguments change single settings (``load_cost_to_serve(tolerance=0.05)``).
    """
    return load_config(CostToServeConfig, source, default="cost_to_serve.yaml",
                       overrides=overrides)


@functools.cache
def default_cost_config() -> CostToServeConfig:
    """The configuration of ``templates/cost_to_serve.yaml``, read once: what saves and imports
    check cost lines, budgets and activity lines against unless told otherwise."""
    return load_cost_to_serve()


def _valid(names: Iterable[str]) -> str:
    return ", ".join(sorted(set(names), key=_key))


def cost_problems(dossier: Dossier, config: CostToServeConfig | None = None,
                  file: str | None = None) -> list[ValidationProblem]:
    """Cost lines, budgets and activity lines that profitability would refuse.

    A cost line needs one of the ``categories``; it may not be booked to the computed
    ``discount_category`` (price discounts come from the revenue lines). A budget may be set for
    any category, price discounts included. An activity line needs an activity that has a rate
    in ``activity_rates``. ``config`` defaults to :func:`default_cost_config`.

    Examples
    --------
    >>> from kam.model import Account, CostLine, Dossier
    >>> d = Dossier(account=Account(id="ACME", name="Acme"),
    ...             costs=[CostLine(period="2025-03", category="travel", amount=120)])
    >>> print(cost_problems(d)[0])  # doctest: +ELLIPSIS
    account ACME / costs[0] (C-1), field 'category': unknown cost category 'travel'; valid: ...
    """
    cfg = config if config is not None else default_cost_config()
    booked = {_key(c) for c in cfg.categories}
    discount = _key(cfg.discount_category)
    rates = {_key(a) for a in cfg.activity_rates}
    acc = f"account {dossier.account.id}"
    out: list[ValidationProblem] = []

    def record(coll: str, i: int, rid: str | None) -> str:
        return f"{acc} / {coll}[{i}]" + (f" ({rid})" if rid else "")

    for i, c in enumerate(dossier.costs):
        key = _key(c.category)
        if key in booked:
            continue
        if key == discount:
            msg = (f"{cfg.discount_category!r} are given on the invoice and computed from the "
                   "revenue lines (list_value - revenue), so they cannot be booked; book rebates "
                   "paid after the invoice to another category such as 'rebates'")
        else:
            msg = (f"unknown cost category {short_repr(c.category)}; valid: "
                   f"{_valid(cfg.categories)}; add it to categories in cost_to_serve.yaml or "
                   "book the line to one of these")
        out.append(ValidationProblem(record("costs", i, c.id), "category", msg, file))
    for i, b in enumerate(dossier.budgets):
        if _key(b.category) not in booked and _key(b.category) != discount:
            out.append(ValidationProblem(
                record("budgets", i, b.id), "category",
                f"unknown cost category {short_repr(b.category)}; valid: "
                f"{_valid([*cfg.categories, cfg.discount_category])}; add it to categories in "
                "cost_to_serve.yaml or set the budget for one of these", file))
    for i, a in enumerate(dossier.activities):
        if _key(a.activity) not in rates:
            out.append(ValidationProblem(
                record("activities", i, a.id), "activity",
                f"unknown activity {short_repr(a.activity)}; valid: "
                f"{_valid(cfg.activity_rates) or 'none (no activity rates are configured)'}; "
                "add a rate for it to activity_rates in cost_to_serve.yaml or count one of "
                "these", file))
    return out
