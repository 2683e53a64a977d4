"""The column mapping of a CRM CSV export: which file and column feeds which kam field.

A mapping is a YAML file read by :func:`load_mapping` (default: ``templates/crm/maven.yaml``, the
mapping of the Maven Analytics CRM sample export). Each section names a file of the export and,
for each kam field, the column that feeds it (``name: account`` reads the account name from the
column ``account``). Deal stages of the CRM map onto kam stages and outcomes; value corrections
are applied only when listed under ``corrections`` and are always reported. With
``opportunities.won_deals_as_revenue`` each won deal also becomes a revenue line of its account
(DOMAIN.md §7), so that the portfolio analyses have sales to work on.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config import load_config
from ..model import BuyingRole, DealOutcome, SalesStage

__all__ = [
    "AccountsMap",
    "ContactsMap",
    "CrmMapping",
    "OpportunitiesMap",
    "ProductsMap",
    "StageRule",
    "TeamMap",
    "load_mapping",
]

DEFAULT_MAPPING = "crm/maven.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    def columns(self) -> dict[str, str]:
        """kam field -> CSV column, for every mapped column of the section."""
        skip = {"file", "stages", "role_values", "revenue_scale", "notes_from", "optional",
                "planned_budget", "engaged_stage", "stage_names"}
        return {k: v for k, v in self.model_dump().items() if k not in skip and isinstance(v, str)}


class AccountsMap(_Section):
    """The accounts file: one row per account."""

    file: str = Field(min_length=1)
    name: str = Field(min_length=1, description="Column with the account name; opportunities "
                      "and contacts name their account by it. The account id is its slug.")
    industry: str | None = None
    region: str | None = None
    address: str | None = None
    phone: str | None = None
    website: str | None = None
    employees: str | None = None
    revenue: str | None = Field(None, description="Column with the client's annual revenue.")
    revenue_scale: float = Field(1.0, gt=0, description="Multiply revenue by this (1e6 for "
                                 "millions).")
    parent: str | None = Field(None, description="Column naming the parent account.")
    notes_from: list[str] = Field(default_factory=list, description="Further columns kept in "
                                  "the account notes as 'column: value'.")


class ContactsMap(_Section):
    """An optional file of contact persons: one row per person."""

    file: str = Field(min_length=1)
    optional: bool = Field(True, description="Import without contacts if the file is absent.")
    account: str = Field(min_length=1)
    name: str = Field(min_length=1)
    id: str | None = Field(None, description="Column with a person id (default: name slug).")
    position: str | None = None
    department: str | None = None
    role: str | None = Field(None, description="Column with the buying-center role.")
    role_values: dict[str, BuyingRole] = Field(
        default_factory=dict, description="CRM role -> kam role, where the names differ.")
    phone: str | None = None
    email: str | None = None


class ProductsMap(_Section):
    """The product list: names, product groups and list prices."""

    file: str = Field(min_length=1)
    name: str = Field(min_length=1)
    product_group: str | None = None
    list_price: str | None = None


class StageRule(BaseModel):
    """What a CRM deal stage means in kam."""

    model_config = ConfigDict(extra="forbid")

    stage: SalesStage
    outcome: DealOutcome = DealOutcome.OPEN
    refusal_reason: str | None = None

    @model_validator(mode="after")
    def _reason(self) -> StageRule:
        if self.outcome is DealOutcome.REFUSED and not self.refusal_reason:
            raise ValueError("outcome 'refused' needs a refusal_reason")
        return self


class OpportunitiesMap(_Section):
    """The opportunities (deals) file: one row per deal."""

    file: str = Field(min_length=1)
    id: str = Field(min_length=1)
    account: str = Field(min_length=1)
    manager: str = Field(min_length=1, description="Column with the sales agent's name.")
    product: str | None = None
    stage: str = Field(min_length=1, description="Column with the CRM deal stage.")
    created: str | None = Field(None, description="Date the deal was engaged (deal.created).")
    closed_on: str | None = None
    close_value: str | None = Field(None, description="Revenue of a won deal (actual budget).")
    stages: dict[str, StageRule] = Field(min_length=1)
    engaged_stage: str | None = Field(
        None, description="The CRM stage a deal entered on its 'created' date (one of the "
        "stages above); the deal's stage history starts there.")
    stage_names: Literal["crm", "kam"] = Field(
        "crm", description="'crm': deals keep the CRM's stage names (the funnel maps them "
        "with the aliases of templates/stages.yaml; kam's five-stage deal gate does not apply "
        "to them). 'kam': deals get the kam stage of their rule, lowered to the highest stage "
        "whose deal stage gate passes; the report lists the deals held back.")
    planned_budget: Literal["list price", "none"] = Field(
        "list price", description="'list price': a deal's planned budget is its product's "
        "list price.")
    won_deals_as_revenue: bool = Field(
        False, description="Each won deal also becomes a revenue line of its account: period = "
        "the month it closed, product and product group of the deal, revenue = close value, "
        "quantity = 1 (a deal is one unit of its product), list value = the product's list "
        "price (so the discount is list value - close value; a deal closed above the list "
        "price is reported). The line's id is the deal's id: a re-import updates it, and drops "
        "it if the deal is no longer won; revenue lines entered in kam are kept.")

    @model_validator(mode="after")
    def _engaged_is_a_stage(self) -> OpportunitiesMap:
        if self.engaged_stage is not None and self.engaged_stage not in self.stages:
            raise ValueError(f"engaged_stage {self.engaged_stage!r} is not one of the stages: "
                             + ", ".join(self.stages))
        return self

    @model_validator(mode="after")
    def _revenue_has_its_columns(self) -> OpportunitiesMap:
        missing = [k for k in ("closed_on", "close_value") if getattr(self, k) is None]
        if self.won_deals_as_revenue and missing:
            raise ValueError("won_deals_as_revenue needs the columns of the month and the value "
                             "of a won deal: map " + " and ".join(missing)
                             + ", or set won_deals_as_revenue: false")
        return self

    def kam_stage(self, name: str) -> SalesStage | None:
        """The kam stage a deal stage name stands for (a CRM name or a kam stage name)."""
        rule = self.stages.get(name)
        if rule is not None:
            return rule.stage
        return SalesStage(name) if name in SalesStage._value2member_map_ else None


class TeamMap(_Section):
    """The sales team: one row per sales agent (client manager)."""

    file: str = Field(min_length=1)
    name: str = Field(min_length=1)
    manager: str | None = Field(None, description="Column with the agent's manager (planner).")
    region: str | None = None


class CrmMapping(BaseModel):
    """How one CRM export maps onto kam records."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    accounts: AccountsMap
    opportunities: OpportunitiesMap
    products: ProductsMap | None = None
    contacts: ContactsMap | None = None
    team: TeamMap | None = None
    known_values: dict[str, list[str]] = Field(
        default_factory=dict, description="Column -> its valid values; others are reported.")
    corrections: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Column -> {value found: replacement}; applied in "
        "every file with that column and always reported.")
    source: str | None = Field(None, exclude=True, description="File the mapping came from.")


def load_mapping(path: str | os.PathLike[str] | None = None) -> CrmMapping:
    """Read a CRM column mapping (default: the Maven CRM export's, ``templates/crm/maven.yaml``).

    Errors (:class:`~kam.errors.ConfigError`) name the file and the setting.

    Examples
    --------
    >>> m = load_mapping()
    >>> m.opportunities.stages["Won"].outcome.value
    'won'
    """
    mapping = load_config(CrmMapping, None if path is None else Path(path),
                          default=DEFAULT_MAPPING)
    from ..config import templates_dir

    mapping.source = str(Path(path) if path is not None else templates_dir() / DEFAULT_MAPPING)
    return mapping
