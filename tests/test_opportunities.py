"""The opportunity matrix (DOMAIN.md §4): zones, actions, backlog, unmet needs, portfolio view.

Default configuration: both axes on 1..5 with the threshold 3.5 (4 and 5 are high).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.config import templates_dir
from kam.errors import ConfigError, InputError
from kam.model import Account, Dossier, Need
from kam.opportunities import (
    ZONES,
    OpportunityConfig,
    backlog,
    load_opportunity_config,
    next_analysis,
    opportunity_matrix,
    portfolio_matrix,
    unassessed,
    unmet_needs,
    zone_counts,
    zone_of,
)


@pytest.fixture(scope="module")
def cfg() -> OpportunityConfig:
    return load_opportunity_config()


def N(id, sig, cap, **kw) -> Need:
    return Need(id=id, title=kw.pop("title", f"need {id}"), significance=sig, capability=cap,
                **kw)


@pytest.fixture
def needs() -> list[Need]:
    return [
        N("N1", 2, 2, function="Logistics"),                 # no interest
        N("N2", 5, 2, function="Production", volume=300.0),  # risk
        N("N3", 2, 5, function="Quality", volume=100.0),     # potential
        N("N4", 4, 4, function="Production", volume=500.0),  # deal
        N("N5", 4, 1, function="Finance", level="effect"),   # risk
        N("N6", 1, 3, function="Sales", level="criterion"),  # no interest
    ]


def _zone(cfg, need: Need) -> dict:
    return opportunity_matrix([need], cfg).iloc[0].to_dict()


# -- the four zones, one test per row of DOMAIN.md §4 ------------------------------------------
def test_opportunity_zone_no_interest_low_significance_low_capability(cfg):
    z = _zone(cfg, N("N1", 2, 3))
    assert (z["zone"], z["zone_label"], z["proceed"], z["backlog"]) == (
        "no interest", "No interest", False, False)
    assert z["action"] == "Suspend work on it."


def test_opportunity_zone_risk_high_significance_low_capability(cfg):
    z = _zone(cfg, N("N2", 5, 2))
    assert (z["zone"], z["proceed"], z["backlog"]) == ("risk", False, True)
    assert z["action"].startswith("Suspend: high chance of failure.")
    assert "product-development backlog" in z["action"]


def test_opportunity_zone_potential_low_significance_high_capability(cfg):
    z = _zone(cfg, N("N3", 3, 5))
    assert (z["zone"], z["proceed"], z["backlog"]) == ("potential", True, False)
    assert "raise the significance" in z["action"]


def test_opportunity_zone_deal_high_significance_high_capability(cfg):
    z = _zone(cfg, N("N4", 4, 4))
    assert (z["zone"], z["proceed"], z["backlog"]) == ("deal", True, False)
    assert "proven experience" in z["action"]


@pytest.mark.parametrize(("sig", "cap", "zone"), [
    (3.5, 3.5, "deal"),  # at the threshold counts as high
    (3.49, 3.5, "potential"),
    (3.5, 3.49, "risk"),
    (1, 1, "no interest"), (5, 5, "deal"),  # the ends of the scale are allowed
])
def test_opportunity_zone_threshold_is_high(cfg, sig, cap, zone):
    assert zone_of(sig, cap, cfg) == zone


def test_opportunity_matrix_lists_every_need(cfg, needs):
    m = opportunity_matrix(needs, cfg)
    assert m["need"].tolist() == ["N1", "N2", "N3", "N4", "N5", "N6"]
    assert m["zone"].tolist() == ["no interest", "risk", "potential", "deal", "risk",
                                  "no interest"]
    assert m["level"].tolist()[4:] == ["effect", "criterion"]


def test_opportunity_matrix_levels_from_config(cfg, needs):
    only = cfg.model_copy(update={"levels": ["problem"]})
    assert opportunity_matrix(needs, only)["need"].tolist() == ["N1", "N2", "N3", "N4"]


def test_opportunity_matrix_from_dossier(cfg, needs):
    d = Dossier(account=Account(id="ACME", name="Acme"), needs=needs)
    assert opportunity_matrix(d, cfg).equals(opportunity_matrix(needs, cfg))


# -- what follows from the zones ----------------------------------------------------------------
def test_opportunity_potential_and_deal_pass_to_next_analysis(cfg, needs):
    assert next_analysis(opportunity_matrix(needs, cfg))["need"].tolist() == ["N3", "N4"]


def test_opportunity_risk_needs_form_product_backlog(cfg, needs):
    # N2 (significance 5) before N5 (significance 4).
    b = backlog(opportunity_matrix(needs, cfg))
    assert b["need"].tolist() == ["N2", "N5"]
    assert set(b["zone"]) == {"risk"}


def test_opportunity_unmet_needs_horizon_three_years(cfg, needs):
    u = unmet_needs(opportunity_matrix(needs, cfg), cfg)
    # Capability low: risk first (N2 sig 5, N5 sig 4), then no interest (N1 sig 2, N6 sig 1).
    assert u["need"].tolist() == ["N2", "N5", "N1", "N6"]
    assert u["priority"].tolist() == [1, 2, 3, 4]
    # Gap to the capability threshold 3.5: 3.5-2, 3.5-1, 3.5-2, 3.5-3.
    assert u["capability_gap"].tolist() == [1.5, 2.5, 1.5, 0.5]
    assert set(u["horizon_years"]) == {3}


def test_opportunity_portfolio_view_across_dossiers(cfg, needs):
    a = Dossier(account=Account(id="A", name="Alpha"), needs=needs[:3])
    b = Dossier(account=Account(id="B", name="Beta"), needs=needs[3:])
    c = Dossier(account=Account(id="C", name="Gamma"))
    pm = portfolio_matrix([a, b, c], cfg)
    assert list(pm.columns[:2]) == ["account_id", "account"]
    assert pm["account_id"].tolist() == ["A", "A", "A", "B", "B", "B"]
    counts = zone_counts(pm)
    # A: N1 no interest, N2 risk, N3 potential; B: N4 deal, N5 risk, N6 no interest.
    assert counts.loc["A"].tolist() == [1, 1, 1, 0, 3]
    assert counts.loc["B"].tolist() == [1, 1, 0, 1, 3]
    assert list(counts.columns) == [*ZONES, "total"]
    u = unmet_needs(pm, cfg)
    assert list(zip(u["account_id"], u["need"], strict=True)) == [
        ("A", "N2"), ("A", "N1"), ("B", "N5"), ("B", "N6")]


def test_opportunity_empty_inputs_give_explicit_empty_results(cfg):
    m = opportunity_matrix([], cfg)
    assert m.empty and "zone" in m.columns
    assert backlog(m).empty and next_analysis(m).empty and unmet_needs(m, cfg).empty
    assert zone_counts(m).loc["all"].tolist() == [0, 0, 0, 0, 0]
    assert portfolio_matrix([], cfg).empty


# -- bad input -----------------------------------------------------------------------------------
def test_opportunity_rejects_score_outside_scale(cfg):
    with pytest.raises(InputError, match=r"^need N1, field 'significance': significance 7 is "
                       r"outside the scale 1\.\.5; correct the score or the scale"):
        opportunity_matrix([N("N1", 7, 3)], cfg)


def test_opportunity_rejects_missing_score_naming_the_need(cfg):
    with pytest.raises(InputError, match=r"^need N2, field 'capability': no capability score; "
                       r"give one on the scale 1\.\.5 \(or pass missing='skip'"):
        opportunity_matrix([N("N1", 3, 3), N("N2", 4, None)], cfg)


def test_opportunity_skip_missing_lists_them_as_unassessed(cfg):
    needs = [N("N1", 3, 3), N("N2", 4, None), N("N3", None, None)]
    assert opportunity_matrix(needs, cfg, missing="skip")["need"].tolist() == ["N1"]
    u = unassessed(needs, cfg)
    assert u["need"].tolist() == ["N2", "N3"]
    assert u["missing"].tolist() == [["capability"], ["significance", "capability"]]


def test_opportunity_portfolio_error_names_account_and_need(cfg):
    a = Dossier(account=Account(id="A", name="Alpha"), needs=[N("N1", 9, 3)])
    b = Dossier(account=Account(id="B", name="Beta"), needs=[N("N7", 3, None)])
    with pytest.raises(InputError, match=r"2 problems in the input:\n  account A / need N1, "
                       r"field 'significance'.*\n  account B / need N7, field 'capability'"):
        portfolio_matrix([a, b], cfg)


def _config_file(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((templates_dir() / "opportunities.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "opportunities.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_opportunity_config_rejects_unknown_zone_name(tmp_path):
    path = _config_file(tmp_path, lambda d: d["zones"].update(
        {"hot": {"label": "Hot", "action": "Call"}}))
    with pytest.raises(ConfigError, match=r"opportunities\.yaml: zones: Value error, unknown zone "
                       r"'hot'; the zones are: no interest, risk, potential, deal"):
        load_opportunity_config(path)


def test_opportunity_config_rejects_missing_zone(tmp_path):
    path = _config_file(tmp_path, lambda d: d["zones"].pop("deal"))
    with pytest.raises(ConfigError, match=r"zones: Value error, zone 'deal' is missing"):
        load_opportunity_config(path)


@pytest.mark.parametrize(("axis", "change", "message"), [
    ("significance", {"threshold": 6}, r"threshold 6 must lie strictly between min 1 and max 5"),
    ("capability", {"threshold": 1}, r"threshold 1 must lie strictly between min 1 and max 5"),
    ("capability", {"min": 5, "max": 1}, r"min 5 must be below max 1"),
])
def test_opportunity_config_rejects_bad_scale(tmp_path, axis, change, message):
    path = _config_file(tmp_path, lambda d: d[axis].update(change))
    with pytest.raises(ConfigError, match=rf"opportunities\.yaml: {axis}: Value error, {message}"):
        load_opportunity_config(path)


def test_opportunity_custom_scale_from_config(tmp_path):
    path = _config_file(tmp_path, lambda d: d["significance"].update(
        {"min": 0, "max": 10, "threshold": 7}))
    cfg = load_opportunity_config(path)
    assert zone_of(7, 4, cfg) == "deal" and zone_of(6.9, 4, cfg) == "potential"
    assert opportunity_matrix([N("N1", 9.5, 4)], cfg).iloc[0]["zone"] == "deal"


# -- property: the zones partition the needs ------------------------------------------------------
scores = st.floats(min_value=1, max_value=5, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(scores, scores), max_size=30))
def test_opportunity_zones_partition_the_needs(cfg, pairs):
    needs = [N(f"N{i}", s, c) for i, (s, c) in enumerate(pairs)]
    m = opportunity_matrix(needs, cfg)
    assert len(m) == len(needs)  # every need in exactly one zone
    assert m["zone"].isin(ZONES).all()
    assert sum(zone_counts(m).loc["all", list(ZONES)]) == len(needs)
    for row, (s, c) in zip(m.itertuples(), pairs, strict=True):
        assert row.zone == {(False, False): "no interest", (True, False): "risk",
                            (False, True): "potential", (True, True): "deal"}[(s >= 3.5, c >= 3.5)]
    assert len(next_analysis(m)) + len(unmet_needs(m, cfg)) == len(needs)


def test_opportunity_demo_portfolio_covers_every_zone(cfg):
    from kam import demo

    pm = portfolio_matrix(demo.dossiers(), cfg, missing="skip")
    assert set(pm["zone"]) == set(ZONES)
    assert zone_counts(pm)["total"].sum() == len(pm)
