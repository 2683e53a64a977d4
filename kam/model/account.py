"""The account itself: profile, financial state, market facts and stages (DOMAIN.md §1, §3, §10)."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from ..errors import InputError, ValidationProblem
from .base import Count, FieldError, Id, KamModel, Money, Quantity, Text

if TYPE_CHECKING:
    from .dossier import Dossier
    from .team import Team

__all__ = [
    "Account",
    "Category",
    "CreditRisk",
    "DecisionStage",
    "FinancialState",
    "MarketFacts",
    "Ownership",
    "OwnershipEdits",
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


class Ownership(KamModel):
    """One past term of a KAM (or client-manager) as the account's owner: who owned the account
    from when to when, and who made the change that ended it (DOMAIN.md §9: planners assign
    clients to client-managers). The current owner is :attr:`Account.kam` since
    :attr:`Account.kam_since`; a reassignment closes the current term into one of these."""

    kam: Id = Field(description="Team-member id of the owner in this term.")
    since: date | None = Field(None, description="First day of the term (empty: unknown).")
    until: date = Field(description="Last day of the term.")
    assigned_by: Id | None = Field(None, description="Team-member id of who made the change "
                                                     "that ended the term.")
    note: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Ownership:
        if self.since is not None and self.until < self.since:
            raise FieldError("until", f"until {self.until} is before since {self.since}")
        return self


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
    ownership: list[Ownership] = Field(
        default_factory=list,
        description="Past owners with their terms, oldest first (the current one is kam).")
    sales_stage: SalesStage = SalesStage.LEAD
    relationship_stage: RelationshipStage = RelationshipStage.PRE_KAM
    decision_stage: DecisionStage | None = None
    financial: FinancialState = Field(default_factory=FinancialState)
    market: MarketFacts = Field(default_factory=MarketFacts)
    contract_terms: Text | None = Field(None, description="Framework contract terms, if any.")
    notes: Text | None = None

    @model_validator(mode="after")
    def _terms(self) -> Account:
        last: date | None = None
        for i, term in enumerate(self.ownership):
            start = term.since or term.until
            if last is not None and start <= last:
                raise FieldError(f"ownership[{i}]", f"the term of {term.kam} from {start} "
                                 f"overlaps the term before it (until {last}); terms are kept "
                                 "oldest first")
            last = term.until
        if last is not None and self.kam_since is not None and self.kam_since <= last:
            raise FieldError("kam_since", f"kam_since {self.kam_since} is not after the last "
                             f"past term (until {last})")
        return self

    def owner_on(self, day: date) -> str | None:
        """Who owned the account on ``day``: the KAM whose term holds it (``None`` before any
        known term, or while unassigned).

        >>> from datetime import date
        >>> a = Account(id="A", name="A", kam="bob", kam_since=date(2026, 3, 1),
        ...             ownership=[Ownership(kam="ann", since=date(2025, 1, 1),
        ...                                  until=date(2026, 2, 28))])
        >>> [a.owner_on(date(y, m, 1)) for y, m in ((2025, 6), (2026, 3), (2024, 1))]
        ['ann', 'bob', None]
        """
        for term in self.ownership:
            if (term.since is None or term.since <= day) and day <= term.until:
                return term.kam
        last = self.ownership[-1].until if self.ownership else None
        if self.kam is not None and (last is None or day > last) and (
                self.kam_since is None or self.kam_since <= day):
            return self.kam
        return None


class OwnershipEdits:
    """The named edit that hands an account to another owner (mixed into
    :class:`~kam.model.Dossier`)."""

    def reassign(self, kam: str, *, on: date, team: Team, by: str | None = None,
                 note: str | None = None) -> Account:
        """Make ``kam`` (an active member of ``team``) the account's owner from ``on``. The
        current owner's term is closed the day before (an :class:`Ownership` record; the owner
        also goes to ``previous_kams``), so the history of who owned the account when is kept.
        Reassigning to the current owner changes nothing.

        Examples
        --------
        >>> from datetime import date
        >>> from kam.model import Dossier, Team, TeamMember
        >>> team = Team(members=[TeamMember(id="ann", name="Ann"),
        ...                      TeamMember(id="bob", name="Bob")])
        >>> d = Dossier(account=Account(id="ACME", name="Acme", kam="ann",
        ...                             kam_since=date(2025, 1, 1)))
        >>> a = d.reassign("bob", on=date(2026, 3, 1), team=team, by="ann")
        >>> a.kam, str(a.kam_since), a.previous_kams, str(a.ownership[0].until)
        ('bob', '2026-03-01', ['ann'], '2026-02-28')
        """
        from .edits import _updated
        from .task import check_assignee

        d: Dossier = self  # type: ignore[assignment]
        acc = d.account
        record = f"account {acc.id}"
        check_assignee(team, kam, record, "kam")
        if by is not None:
            check_assignee(team, by, record, "assigned_by", active=False)
        if kam == acc.kam:
            return acc
        changes: dict[str, object] = {"kam": kam, "kam_since": on}
        if acc.kam is not None:
            if acc.kam_since is not None and on <= acc.kam_since:
                raise InputError([ValidationProblem(
                    record, "kam_since", f"the handover on {on} is not after {acc.kam} took "
                    f"over ({acc.kam_since}); give a later date")])
            term = Ownership(kam=acc.kam, since=acc.kam_since, until=on - timedelta(days=1),
                             assigned_by=by, note=note)
            changes["ownership"] = [*acc.ownership, term]
            changes["previous_kams"] = [*acc.previous_kams, acc.kam]
        d.account = _updated(acc, record, changes)
        return d.account
