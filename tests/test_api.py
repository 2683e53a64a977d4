"""The flat public API of ``kam``: every advertised name resolves, and importing is cheap."""

from __future__ import annotations

import subprocess
import sys

import kam


def test_every_public_name_resolves():
    missing = [name for name in kam.__all__ if not hasattr(kam, name)]
    assert missing == []


def test_public_names_are_not_shadowed_by_submodules():
    import importlib
    import pkgutil
    import types

    for info in pkgutil.walk_packages(kam.__path__, "kam."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    shadowed = [n for n in kam.__all__ if isinstance(getattr(kam, n), types.ModuleType)]
    assert shadowed == ["demo"]


def test_unknown_attribute_is_an_attribute_error():
    try:
        kam.no_such_thing  # noqa: B018
    except AttributeError as e:
        assert "no attribute 'no_such_thing'" in str(e)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_import_kam_does_not_load_the_analysis_stack():
    code = "import sys, kam; print(sorted(m for m in ('plotly', 'networkx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-Werror", "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# Helpers of the analysis modules that are not analyses a user calls (no flat name needed).
_NOT_FLAT = {"account_names", "elapsed_through", "no_revenue", "group_columns", "with_people",
             "unassessed", "zone_of", "check_plan", "objective_links", "plan_problems",
             "check_stages", "deal_decision_stage", "stage_problems", "md_escape"}


def test_every_analysis_has_a_flat_name_that_works():
    """``kam.<name>(...)`` reaches every public analysis function, including those named like
    their module (``kam.account_profitability`` for ``kam.profitability.profitability``)."""
    import importlib
    import inspect

    flat = {}
    for name in kam.__all__:
        value = getattr(kam, name)
        if inspect.isfunction(value):
            flat[(value.__module__, value.__name__)] = name
    lost = []
    for module in ("kam.profitability", "kam.portfolio", "kam.funnel", "kam.planning",
                   "kam.rating", "kam.health", "kam.opportunities", "kam.prospects",
                   "kam.account_plan", "kam.playbook", "kam.meeting"):
        mod = importlib.import_module(module)
        for name in mod.__all__:
            value = getattr(mod, name)
            if (inspect.isfunction(value) and value.__module__ == module
                    and name not in _NOT_FLAT and (module, name) not in flat):
                lost.append(f"{module}.{name}")
    assert lost == []
    assert kam.account_profitability is importlib.import_module("kam.profitability").profitability
    assert kam.sales_funnel.__name__ == "funnel"
