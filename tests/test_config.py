"""Configuration in Python as well as in files: every ``load_*`` takes a file, a model or a
mapping of the settings to change, plus keyword overrides, and the analyses that take a config
accept such a mapping (one threshold changed without writing a YAML file)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import kam
from kam.config import merged
from kam.errors import ConfigError
from kam.model import tables
from kam.portfolio import concentration

# loader, one setting it holds (a path into the model), a changed value
LOADERS = [
    (kam.load_cost_to_serve, ("tolerance",), 0.25),
    (kam.load_portfolio_config, ("concentration", "top1"), 0.5),
    (kam.load_health_config, ("key_contacts", "fresh_days"), 3),
    (kam.load_scoring_config, ("score_max",), 50.0),
    (kam.load_opportunity_config, ("horizon_years",), 5),
    (kam.load_playbook, ("stale_days",), 30),
]


def _get(model: object, path: tuple[str, ...]) -> object:
    for key in path:
        model = getattr(model, key)
    return model


def _nested(path: tuple[str, ...], value: object) -> dict:
    out: dict = {path[-1]: value}
    for key in reversed(path[:-1]):
        out = {key: out}
    return out


@pytest.mark.parametrize(("load", "path", "value"), LOADERS,
                         ids=[load.__name__ for load, _, _ in LOADERS])
def test_a_loader_takes_a_mapping_a_model_or_keyword_overrides(load, path, value):
    default = load()
    assert _get(default, path) != value
    changed = load(_nested(path, value))  # a mapping: only that setting changes
    assert _get(changed, path) == value
    assert changed.model_dump() == merged(default.model_dump(), _nested(path, value))
    assert load(default) is default  # a model is taken as it is
    assert _get(load(**_nested(path, value)), path) == value  # keyword override
    assert _get(load(default, **_nested(path, value)), path) == value


def test_a_bad_setting_in_python_names_the_setting():
    with pytest.raises(ConfigError, match=r"settings given in Python: concentration.top1: Input "
                                          r"should be less than or equal to 1"):
        kam.load_portfolio_config({"concentration": {"top1": 2}})
    with pytest.raises(ConfigError, match=r"expected a PortfolioConfig \(or a file or a mapping "
                                          r"of its settings\), got a CostToServeConfig"):
        kam.load_portfolio_config(kam.load_cost_to_serve())


def test_an_analysis_takes_one_changed_threshold():
    # top-1 share 50% (50 of 100): above the default 25% threshold, below a 60% one
    rev = pd.DataFrame({"account_id": ["A", "B", "C"], "period": "2025",
                        "revenue": [50.0, 30.0, 20.0]})
    t = dataclasses.replace(tables([]), revenue=rev.reindex(columns=tables([]).revenue.columns))
    assert "top1" in concentration(t).warnings["measure"].tolist()
    relaxed = concentration(t, config={"concentration": {"top1": 0.6}})
    assert "top1" not in relaxed.warnings["measure"].tolist()
