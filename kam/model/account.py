"""The account itself: profile, financial state, market facts and stages (DOMAIN.md §1, §3, §10)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from .base import Count, Id, KamModel, Money, Quantity, Text

__all__ = [
    "Account",
    "Category",
    "CreditRisk",
    "DecisionStage",
    "FinancialState",
    "MarketFacts",
    "PaymentDiscipline",
    "RelationshipStage",
    "SalesStage",
    "Trend",
]


class Category(StrEnum):
    """ABC category of an account (A = most important)."""

    A = "A"
    B = "B"
    C = "C"


class SalesStage(StrEnum):
    """The five stages of work with a client (DOMAIN.md §1), in order."""

    LEAD = "lead"
    POTENTIAL = "potential"
    SALE = "sale"
    BUYER = "buyer"
    REPEAT = "repeat"

    @property
    def number(self) -> int:
        """1 for ``lead`` .. 5 for ``repeat``."""
        return list(SalesStage).index(self) + 1

    @classmethod
    def number_of(cls, name: str | None) -> int:
        """The number of a stage name; 0 for none or a name outside the five stages (a CRM's
        own stage, which the stage gate does not apply to)."""
        try:
            return cls(name).number if name else 0
        except ValueError:
            return 0


class RelationshipStage(StrEnum):
    """Stages of the relationship with a key account (DOMAIN.md §10, Appendix C)."""

    PRE_KAM = "pre-KAM"
    EARLY = "early KAM"
    MID = "mid KAM"
    PARTNERSHIP = "partnership KAM"
    SYNERGISTIC = "synergistic KAM"
    UNCOUPLING = "uncoupling"


class DecisionStage(StrEnum):
    """The client's decision cycle (DOMAIN.md §3 tool 3, Appendix B), in order."""

    NEED_RECOGNITION = "need recognition"
    DEFINING_REQUIREMENTS = "defining requirements"
    EVALUATING_SUPPLIERS = "evaluating suppliers"
    PROPOSAL_SELECTION = "proposal and selection"
    NEGOTIATION_DECISION = "negotiation and decision"
    IMPLEMENTATION_REVIEW = "implementation and review"


class Trend(StrEnum):
    GROWING = "growing"
    STABLE = "stable"
    DECLINING = "declining"


class PaymentDiscipline(StrEnum):
    GOOD = "good"
    LATE = "late"
    POOR = "poor"


class CreditRisk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class FinancialState(KamModel):
    """The client's own financial state (DOMAIN.md §1 item 2)."""

    revenue: Money | None = Field(None, description="The client's annual revenue.")
    trend: Trend | None = None
    payment_discipline: PaymentDiscipline | None = None
    credit_risk: CreditRisk | None = None
    notes: Text | None = None


class MarketFacts(KamModel):
    """Market facts per account (DOMAIN.md §6): total consumption of what we sell, price level."""

    total_consumption: Money | None = Field(
        None, description="The client's yearly consumption of what we sell, from all suppliers."
    )
    market_price_index: Quantity | None = Field(
        None, gt=0, description="Market price level against our list price (1.0 = same)."
    )
    main_competitors: list[Text] = Field(default_factory=list)


class Account(KamModel):
    """Profile of a key account (DOMAIN.md §1 item 1) with its stages."""

    id: Id
    name: Text = Field(min_length=1, description="Legal name.")
    industry: Text | None = None
    region: Text | None = Field(None, description="Region or sales territory.")
    address: Text | None = None
    phone: Text | None = None
    website: Text | None = None
    size: Text | None = Field(None, description="Size, e.g. production volume or output.")
    employees: Count | None = None
    development_plans: Text | None = None
    group: Text | None = Field(None, description="Ownership or group the client belongs to.")
    parent: Text | None = Field(None, description="Parent company, if a subsidiary.")
    category: Category | None = None
    kam: Text | None = Field(None, description="Id of the responsible key-account manager.")
    kam_since: date | None = Field(None, description="Since when the current KAM is responsible.")
    previous_kams: list[Text] = Field(default_factory=list)
    sales_stage: SalesStage = SalesStage.LEAD
    relationship_stage: RelationshipStage = RelationshipStage.PRE_KAM
    decision_stage: DecisionStage | None = None
    financial: FinancialState = Field(default_factory=FinancialState)
    market: MarketFacts = Field(default_factory=MarketFacts)
    contract_terms: Text | None = Field(None, description="Framework contract terms, if any.")
    notes: Text | None = None
