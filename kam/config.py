"""Configuration files: where they live and how they are read.

Scoring factors, playbooks, objections, cost rates, stage models and thresholds are YAML files
in ``templates/`` (shipped inside the package as ``kam/templates``), so they change without code.
A user can pass their own file anywhere a default is used.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from .errors import ConfigError

__all__ = [
    "CELL_TIMEOUT",
    "ConfigSource",
    "current_user",
    "load_config",
    "load_yaml",
    "merged",
    "notebooks_dir",
    "template_path",
    "templates_dir",
    "user_config_path",
]

_HERE = Path(__file__).resolve().parent
M = TypeVar("M", bound=BaseModel)

CELL_TIMEOUT = 30
"""Seconds a report cell may wait for the kernel before the report fails. Report cells take about
a second. (The late replies once seen now and then came from the client sending an output
widget's state back on the shell channel while awaiting a reply there; reports no longer send
anything back, see :mod:`kam.reports.render`.) Raise it (``--timeout``) for very large
workspaces."""


def _first_existing(*candidates: Path) -> Path:
    for c in candidates:
        if c.is_dir():
            return c
    return candidates[0]


def templates_dir() -> Path:
    """The folder of report templates and configuration files."""
    return _first_existing(_HERE / "templates", _HERE.parent / "templates")


def notebooks_dir() -> Path:
    """The folder of the parameterised report notebooks."""
    return _first_existing(_HERE / "notebooks", _HERE.parent / "notebooks")


def template_path(name: str) -> Path:
    """Path of a file in :func:`templates_dir` (``FileNotFoundError`` naming it if absent)."""
    path = templates_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"kam template {name!r} not found in {templates_dir()}")
    return path


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file; a missing, non-UTF-8, empty or malformed file raises
    :class:`~kam.errors.ConfigError` naming the file (and the line, where YAML knows it)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    from .io.yaml_io import CheckedLoader  # duplicate keys, alias bombs, tags: refused

    try:
        data = yaml.load(text, Loader=CheckedLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}:{where} not valid YAML: {getattr(e, 'problem', e)}") from None
    if data is None:
        raise ConfigError(f"{path}: the file is empty")
    return data


ConfigSource = str | Path | Mapping[str, Any] | BaseModel | None
"""Where a configuration comes from: a YAML file (path), a model, or a mapping of the settings
to change in the default file."""


def merged(base: Any, changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` (a mapping) with ``changes`` laid over it: nested mappings merge key by key,
    anything else (numbers, text, lists) replaces.

    >>> merged({"tolerance": 0.1, "rates": {"a": 1, "b": 2}}, {"rates": {"b": 3}})
    {'tolerance': 0.1, 'rates': {'a': 1, 'b': 3}}
    """
    out = dict(base) if isinstance(base, Mapping) else {}
    for key, value in changes.items():
        old = out.get(key)
        out[key] = (merged(old, value) if isinstance(value, Mapping) and isinstance(old, Mapping)
                    else value)
    return out


def load_config(model: type[M], source: ConfigSource = None, *, default: str,
                overrides: Mapping[str, Any] | None = None) -> M:
    """Read a configuration into a pydantic ``model``.

    ``source`` is a YAML file (default: the file ``default`` in :func:`templates_dir`), a
    ``model`` instance, or a mapping of settings laid over the default file (only the settings
    it names change). ``overrides`` are laid over whatever ``source`` gives. Errors name the file
    (or "settings given in Python") and the setting, and raise
    :class:`~kam.errors.ConfigError`.

    >>> from kam.profitability import CostToServeConfig
    >>> load_config(CostToServeConfig, {"tolerance": 0.05}, default="cost_to_serve.yaml").tolerance
    0.05
    """
    origin: str
    if isinstance(source, model):
        if not overrides:
            return source
        data: Any = source.model_dump()
        origin = "settings given in Python"
    elif isinstance(source, BaseModel):
        raise ConfigError(f"expected a {model.__name__} (or a file or a mapping of its settings), "
                          f"got a {type(source).__name__}")
    elif isinstance(source, Mapping):
        data = merged(load_yaml(templates_dir() / default), source)
        origin = "settings given in Python"
    else:
        path = Path(source) if source is not None else templates_dir() / default
        data = load_yaml(path)
        origin = str(path)
    if overrides:
        data = merged(data, overrides)
        origin += " (with the settings given in Python)"
    try:
        return model.model_validate(data)
    except ValidationError as e:
        lines = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in e.errors(include_url=False)
        ]
        raise ConfigError(f"{origin}: " + "; ".join(lines)) from None


def user_config_path() -> Path:
    """The user's own settings: ``$KAM_CONFIG``, else ``~/.config/kam/config.yaml``."""
    return Path(os.environ.get("KAM_CONFIG") or Path.home() / ".config" / "kam" / "config.yaml")


def current_user() -> str:
    """Who is working: ``$KAM_USER``, else ``user:`` in :func:`user_config_path`, else the login
    name. The workbook uses it as the author of saves and to filter "my accounts"."""
    if os.environ.get("KAM_USER"):
        return os.environ["KAM_USER"].strip()
    path = user_config_path()
    if path.is_file():
        data = load_yaml(path)
        if isinstance(data, dict) and data.get("user"):
            return str(data["user"]).strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        return "kam"
