"""The dossier model: pydantic records for everything DOMAIN.md §1 lists."""

from .account import (
    Account,
    Category,
    CreditRisk,
    DecisionStage,
    FinancialState,
    MarketFacts,
    Ownership,
    PaymentDiscipline,
    RelationshipStage,
    SalesStage,
    Trend,
)
from .activity import (
    Assessment,
    Commitment,
    CommitmentStatus,
    Interaction,
    InteractionKind,
    Project,
    ProjectStatus,
    assessment_problems,
)
from .base import MAX_AMOUNT, KamModel, check_period, short_repr
from .cost_config import (
    ActivityRate,
    CostToServeConfig,
    cost_problems,
    default_cost_config,
    load_cost_to_serve,
)
from .deal import Deal, DealOutcome, StageChange
from .dossier import Dossier, validate_dossier
from .finance import ActivityLine, Budget, CostLine, RevenueLine
from .need import Awareness, Motivation, Need, NeedLevel
from .person import Attitude, BuyingRole, Employment, Person, PersonLink
from .plan import AccountPlan, Action, ActionStatus, Kpi, Objective, Strategy
from .programme import Delivery, DeliveryStatus, Programme, ProgrammeKind
from .rating import RatingEntry, RatingKind
from .scenario_config import (
    ScenarioConfig,
    default_scenarios,
    expected_step,
    load_scenarios,
    scenario_problems,
)
from .stage_gate import (
    check_deal_stage,
    check_stage,
    missing_for_deal_stage,
    missing_for_stage,
    recommended_for_stage,
)
from .stages import Stage, StageModel, load_stages, stage_problems
from .tables import Tables, tables
from .task import Task, TaskStatus
from .team import Team, TeamMember, TeamRole

__all__ = [
    "MAX_AMOUNT",
    "Account",
    "AccountPlan",
    "Action",
    "ActionStatus",
    "ActivityLine",
    "ActivityRate",
    "Assessment",
    "Attitude",
    "Awareness",
    "Budget",
    "BuyingRole",
    "Category",
    "Commitment",
    "CommitmentStatus",
    "CostLine",
    "CostToServeConfig",
    "CreditRisk",
    "Deal",
    "DealOutcome",
    "DecisionStage",
    "Delivery",
    "DeliveryStatus",
    "Dossier",
    "Employment",
    "FinancialState",
    "Interaction",
    "InteractionKind",
    "KamModel",
    "Kpi",
    "MarketFacts",
    "Motivation",
    "Need",
    "NeedLevel",
    "Objective",
    "Ownership",
    "PaymentDiscipline",
    "Person",
    "PersonLink",
    "Programme",
    "ProgrammeKind",
    "Project",
    "ProjectStatus",
    "RatingEntry",
    "RatingKind",
    "RelationshipStage",
    "RevenueLine",
    "SalesStage",
    "ScenarioConfig",
    "Stage",
    "StageChange",
    "StageModel",
    "Strategy",
    "Tables",
    "Task",
    "TaskStatus",
    "Team",
    "TeamMember",
    "TeamRole",
    "Trend",
    "assessment_problems",
    "check_deal_stage",
    "check_period",
    "check_stage",
    "cost_problems",
    "default_cost_config",
    "default_scenarios",
    "expected_step",
    "load_cost_to_serve",
    "load_scenarios",
    "load_stages",
    "missing_for_deal_stage",
    "missing_for_stage",
    "recommended_for_stage",
    "scenario_problems",
    "short_repr",
    "stage_problems",
    "tables",
    "validate_dossier",
]
