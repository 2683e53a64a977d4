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
