"""kam: a key-account planning kit for JupyterLab.

The flat API below covers the everyday work; each name lives in the module of its domain concept
(see ``docs/architecture.md``). Analysis modules are imported on first use, so ``import kam`` stays
fast and light.
"""

from __future__ import annotations

import importlib
from typing import Any

from .errors import (
    AccountNotFound,
    ConfigError,
    InputError,
    KamError,
    ReportFailed,
    StageGateError,
    StaleRevision,
)
from .model import Dossier, missing_for_stage, tables, validate_dossier
from .store import Workspace

__version__ = "0.1.0"

# Public name -> module that defines it (imported lazily, on first attribute access), or
# "module:name" where the flat name differs. A function named like its module
# (kam.profitability.profitability) gets another flat name (kam.account_profitability): importing
# the submodule rebinds the package attribute to the module.
_LAZY = {
    "account_profitability": "kam.profitability:profitability",
    "sales_funnel": "kam.funnel:funnel",
    "select_accounts": "kam.portfolio:select",
    "cost_to_serve": "kam.profitability",
    "price_discounts": "kam.profitability",
    "activity_costs": "kam.profitability",
    "compare_bases": "kam.profitability",
    "load_cost_to_serve": "kam.profitability",
    "account_revenue": "kam.portfolio",
    "abc_by_period": "kam.portfolio",
    "buyer_status": "kam.portfolio",
    "pivot": "kam.portfolio",
    "load_portfolio_config": "kam.portfolio",
    "time_in_stage": "kam.funnel",
    "weakest_link": "kam.funnel",
    "load_stages": "kam.model.stages",
    "health_alerts": "kam.health",
    "key_persons": "kam.health",
    "last_contacts": "kam.health",
    "load_health_config": "kam.health",
    "backlog": "kam.opportunities",
    "unmet_needs": "kam.opportunities",
    "zone_counts": "kam.opportunities",
    "next_analysis": "kam.opportunities",
    "load_opportunity_config": "kam.opportunities",
    "load_scoring_config": "kam.prospects",
    "relationship_fit": "kam.playbook",
    "load_playbook": "kam.playbook",
    "load_objections": "kam.meeting",
    "NeedMap": "kam.needmap",
    "NeedMapError": "kam.needmap",
    "BuyingCenter": "kam.buying_center",
    "opportunity_matrix": "kam.opportunities",
    "portfolio_matrix": "kam.opportunities",
    "prospect_score": "kam.prospects",
    "rank_prospects": "kam.prospects",
    "latest_assessments": "kam.prospects",
    "load_scenarios": "kam.scenarios",
    "step_log": "kam.scenarios",
    "step_statistics": "kam.scenarios",
    "scenario_status": "kam.scenarios",
    "scenario_reminders": "kam.scenarios:reminders",
    "scenario_funnel": "kam.scenarios",
    "plan_status": "kam.account_plan",
    "plan_changes": "kam.account_plan",
    "next_actions": "kam.playbook",
    "deal_status": "kam.playbook",
    "relationship_health": "kam.health",
    "health_table": "kam.health",
    "meeting_sheet": "kam.meeting",
    "rank_by_contribution": "kam.profitability",
    "whale_curve": "kam.profitability",
    "budget_vs_actual": "kam.profitability",
    "portfolio_summary": "kam.portfolio",
    "concentration": "kam.portfolio",
    "abc": "kam.portfolio",
    "category_movement": "kam.portfolio",
    "buyer_dynamics": "kam.portfolio",
    "share_of_wallet": "kam.portfolio",
    "conversion": "kam.funnel",
    "manager_stage_conversion": "kam.funnel",
    "loss_reasons": "kam.funnel",
    "plan_states": "kam.planning",
    "realization": "kam.planning",
    "plan_for_target": "kam.planning",
    "plan_accuracy": "kam.planning",
    "replenishment": "kam.planning",
    "client_rating": "kam.rating",
    "campaign_points": "kam.rating",
    "task_control": "kam.control",
    "kpis_vs_plan": "kam.control",
    "reassign_territory": "kam.control",
    "planner_week": "kam.control",
    "select_programme_group": "kam.programmes:select_group",
    "programme_results": "kam.programmes",
    "programme_costs": "kam.programmes",
    "apply_programme": "kam.programmes",
    "NoData": "kam.periods",
    "export_yaml": "kam.io.yaml_io",
    "import_yaml": "kam.io.yaml_io",
    "read_yaml": "kam.io.yaml_io",
    "export_excel": "kam.io.excel",
    "import_crm": "kam.io.crm",
    "read_crm_export": "kam.io.crm",
    "ImportReport": "kam.io.report",
    "demo": "kam.demo",
}

__all__ = [
    "AccountNotFound",
    "ConfigError",
    "Dossier",
    "InputError",
    "KamError",
    "ReportFailed",
    "StageGateError",
    "StaleRevision",
    "Workspace",
    "__version__",
    "missing_for_stage",
    "tables",
    "validate_dossier",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'kam' has no attribute {name!r}")
    module, _, attr = where.partition(":")
    mod = importlib.import_module(module)
    value = mod if name == "demo" else getattr(mod, attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
