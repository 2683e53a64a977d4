"""Prospect assessment, the determination map (DOMAIN.md §5): a weighted factor model over the
client, the current needs and the risks, configured in ``templates/scoring.yaml``."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.config import templates_dir
from kam.errors import ConfigError, InputError
from kam.model import (
    Account,
    Dossier,
    FinancialState,
    Interaction,
    Need,
    Person,
    PersonLink,
    Project,
)
from kam.prospects import (
    GROUPS,
    ScoringConfig,
    load_scoring_config,
    prospect_score,
    rank_prospects,
)

TODAY = date(2025, 6, 30)


@pytest.fixture(scope="module")
def cfg() -> ScoringConfig:
    return load_scoring_config()


@pytest.fixture
def acme() -> Dossier:
    """The worked example; every factor value is worked out in ``test_prospect_worked_example``."""
    return Dossier(
        account=Account(
            id="ACME", name="Acme Steel", industry="Steel", region="North", address="1 Mill Rd",
            phone="+1 555 0100", category="A", kam="kam1",  # 6 of the 9 profile fields
            financial=FinancialState(trend="growing", payment_discipline="late"),
        ),
        persons=[Person(id="ann", name="Ann", roles=["entry"], reached_by=["kam1"]),
                 Person(id="cid", name="Cid", roles=["power"])],
        links=[PersonLink(source="ann", target="cid", strength=0.8)],
        interactions=[
            Interaction(id="i1", date=TODAY - timedelta(days=100), kind="call"),
            Interaction(id="i2", date=TODAY - timedelta(days=45), kind="meeting"),
            Interaction(id="i3", date=TODAY + timedelta(days=10), kind="meeting"),  # planned
        ],
        projects=[Project(id="pr1", name="Relining", satisfaction=4, quality=5)],
        needs=[
            Need(id="N1", title="Downtime", significance=5, capability=4, volume=400_000),
            Need(id="N2", title="Packaging", significance=2, capability=5, volume=100_000),
            Need(id="N3", title="Emissions", significance=4, capability=2, volume=900_000),
        ],
    )


ACME_ASSESSMENTS = {"added_value": 4, "competitors": 2}


def test_prospect_worked_example(cfg, acme):
    """By hand, weights sum to 100 so each contribution is weight x value:

    client  profile 6/9 filled           4 x 2/3    = 2.6667
            financial (growing 1 + late 0.5)/2 = 0.75      8 x 0.75 = 6
            recency 1 - 45/180 = 0.75 (i3 is in the future)  6 x 0.75 = 4.5
            projects ((4-1)/4 + (5-1)/4)/2 = 0.875            5 x 0.875 = 4.375
            key persons: entry, power of 3 = 2/3              7 x 2/3   = 4.6667
    needs   influence: route kam1 -> ann -> cid = 0.8        10 x 0.8   = 8
            capability match: s = 1, .25, .75; c = .75, 1, .25;
              sum(s*c)/sum(s) = (0.75 + 0.25 + 0.1875)/2 = 0.59375   12 x 0.59375 = 7.125
            volume: N1 deal + N2 potential = 500 000 / 1 000 000 = 0.5   10 x 0.5 = 5
            added value assessed 4 on 1..5 -> 0.75            8 x 0.75 = 6
    risks   competitors 2 on 1..5, lower is better -> 0.75  8 x 0.75 = 6
            defaults: technology 3 -> .5 (x5 = 2.5), ecology 2 -> .75 (x3 = 2.25),
            quality claims 3 -> .5 (x4 = 2), controllability 3 -> .5 (x4 = 2),
            resources 3 -> .5 (x6 = 3)
    total   22.208333 + 26.125 + 17.75 = 66.083333 (= 66 + 1/12)
    """
    s = prospect_score(acme, cfg, today=TODAY, assessments=ACME_ASSESSMENTS)
    c = s.contributions.set_index("factor")
    expected = {
        "profile_completeness": 4 * 6 / 9, "financial_state": 6.0, "relationship_recency": 4.5,
        "project_delivery": 4.375, "key_person_knowledge": 7 * 2 / 3,
        "influence_on_decision": 8.0, "capability_match": 7.125, "potential_volume": 5.0,
        "added_value": 6.0, "competitors": 6.0, "technology_risk": 2.5, "ecology_risk": 2.25,
        "quality_claims": 2.0, "controllability": 2.0, "resources_availability": 3.0,
    }
    assert c["contribution"].to_dict() == pytest.approx(expected)
    assert s.score == pytest.approx(66 + 1 / 12)
    assert c.loc["added_value", "source"] == "assessment"
    assert c.loc["technology_risk", "source"] == "default"
    assert c.loc["capability_match", "source"] == "computed"
    groups = s.by_group().set_index("group")["contribution"]
    assert groups.to_dict() == pytest.approx({"client": 22.208333333, "needs": 26.125,
                                              "risks": 17.75})


def test_prospect_three_groups_client_needs_risks(cfg, acme):
    s = prospect_score(acme, cfg, today=TODAY)
    assert s.by_group()["group"].tolist() == list(GROUPS)
    assert s.contributions["group"].tolist() == ["client"] * 5 + ["needs"] * 4 + ["risks"] * 6
    # The maximum per group is its share of the weights: 30, 40, 30 of 100.
    assert s.by_group()["max_contribution"].tolist() == pytest.approx([30, 40, 30])


def test_prospect_contributions_add_up_exactly_to_score(cfg, acme):
    s = prospect_score(acme, cfg, today=TODAY, assessments=ACME_ASSESSMENTS)
    assert math.fsum(s.contributions["contribution"]) == s.score
    assert (s.contributions["max_contribution"] - s.contributions["contribution"]
            ).tolist() == pytest.approx(s.contributions["lost"].tolist())


def test_prospect_factors_and_weights_are_configuration(tmp_path, cfg, acme):
    """Double the weight of competitors (8 -> 108, total 200): score = (66.0833 + 100 * 0.75)
    / 200 * 100 = 70.541667."""
    data = yaml.safe_load((templates_dir() / "scoring.yaml").read_text(encoding="utf-8"))
    data["factors"]["competitors"]["weight"] = 108
    path = tmp_path / "scoring.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    s = prospect_score(acme, load_scoring_config(path), today=TODAY,
                       assessments=ACME_ASSESSMENTS)
    assert s.score == pytest.approx((66 + 1 / 12 + 100 * 0.75) / 2)


# -- computed factors ---------------------------------------------------------------------------
def test_prospect_knowledge_of_key_persons_counts_active_points_only(cfg, acme):
    left = acme.model_copy(update={"persons": [
        *acme.persons, Person(id="bob", name="Bob", roles=["pain"], left_on="2025-01-01")]})
    c = prospect_score(left, cfg, today=TODAY).contributions.set_index("factor")
    assert c.loc["key_person_knowledge", "raw"] == pytest.approx(2 / 3)  # bob left
    back = acme.model_copy(update={"persons": [
        *acme.persons, Person(id="bob", name="Bob", roles=["pain"])]})
    c = prospect_score(back, cfg, today=TODAY).contributions.set_index("factor")
    assert c.loc["key_person_knowledge", "raw"] == 1.0


@pytest.mark.parametrize(("days", "expected"), [(0, 1.0), (90, 0.5), (180, 0.0), (400, 0.0)])
def test_prospect_relationship_recency(cfg, days, expected):
    d = Dossier(account=Account(id="A", name="A"), interactions=[
        Interaction(id="i", date=TODAY - timedelta(days=days), kind="call")])
    c = prospect_score(d, cfg, today=TODAY).contributions.set_index("factor")
    assert c.loc["relationship_recency", "raw"] == pytest.approx(expected)


def test_prospect_no_data_falls_back_to_config_defaults(cfg):
    """A bare dossier: no history (recency 0), no persons (0), no needs (capability match
    default 0.3, volume 0), financial default 0.4, project default 0.5."""
    c = prospect_score(Dossier(account=Account(id="A", name="A")), cfg,
                       today=TODAY).contributions.set_index("factor")
    assert c.loc["financial_state", ["raw", "source"]].tolist() == [0.4, "default"]
    assert c.loc["project_delivery", ["raw", "source"]].tolist() == [0.5, "default"]
    assert c.loc["capability_match", ["raw", "source"]].tolist() == [0.3, "default"]
    for f in ("relationship_recency", "key_person_knowledge", "influence_on_decision",
              "potential_volume", "profile_completeness"):
        assert c.loc[f, ["raw", "source"]].tolist() == [0.0, "computed"]


def test_prospect_assessment_overrides_computed_value(cfg, acme):
    c = prospect_score(acme, cfg, today=TODAY, assessments={"influence_on_decision": 0.2}
                       ).contributions.set_index("factor")
    assert c.loc["influence_on_decision", ["raw", "source", "contribution"]].tolist() == \
        pytest.approx([0.2, "assessment", 2.0])


# -- ranking -------------------------------------------------------------------------------------
def test_prospect_rank_many_accounts(cfg, acme):
    bare = Dossier(account=Account(id="BARE", name="Bare"))
    twin = acme.model_copy(update={"account": acme.account.model_copy(update={"id": "TWIN",
                                                                            "name": "Twin"})})
    r = rank_prospects([bare, acme, twin], cfg, today=TODAY,
                       assessments={"ACME": ACME_ASSESSMENTS, "TWIN": ACME_ASSESSMENTS})
    assert r["account_id"].tolist() == ["ACME", "TWIN", "BARE"]
    assert r["rank"].tolist() == [1, 1, 3]  # equal scores share a rank
    assert r.iloc[0]["score"] == pytest.approx(66 + 1 / 12)
    assert (r["client"] + r["needs"] + r["risks"]).tolist() == pytest.approx(r["score"].tolist())


def test_prospect_rank_empty_portfolio(cfg):
    r = rank_prospects([], cfg, today=TODAY)
    assert r.empty and list(r.columns) == ["rank", "account_id", "account", "score", *GROUPS]


def test_prospect_rank_rejects_assessments_of_unknown_account(cfg, acme):
    with pytest.raises(InputError, match=r"assessments, field 'NOPE': unknown account 'NOPE'; "
                       r"accounts are: ACME"):
        rank_prospects([acme], cfg, today=TODAY, assessments={"NOPE": {}})


# -- bad assessments -----------------------------------------------------------------------------
@pytest.mark.parametrize(("assessments", "message"), [
    ({"competitor": 2}, r"field 'competitor': unknown factor 'competitor'; factors are: "
                        r"profile_completeness, financial_state"),
    ({"competitors": 6}, r"field 'competitors': 6 is outside the scale 1\.\.5"),
    ({"competitors": "high"}, r"field 'competitors': 'high' is not a number; give a value on "
                              r"1\.\.5"),
    ({"influence_on_decision": 2}, r"field 'influence_on_decision': 2 is outside the scale 0\.\.1"),
])
def test_prospect_rejects_bad_assessment(cfg, acme, assessments, message):
    with pytest.raises(InputError, match=r"^assessments of account ACME, " + message):
        prospect_score(acme, cfg, today=TODAY, assessments=assessments)


def test_prospect_missing_assessment_without_default_is_an_error(cfg, acme):
    factors = dict(cfg.factors)
    factors["added_value"] = factors["added_value"].model_copy(update={"default": None})
    no_default = cfg.model_copy(update={"factors": factors})
    with pytest.raises(InputError, match=r"account ACME, field 'added_value': factor "
                       r"'added_value' has no value: pass assessments=\{'added_value': \.\.\.\} "
                       r"on 1\.\.5, or give it a default"):
        prospect_score(acme, no_default, today=TODAY)


# -- configuration that makes no sense ------------------------------------------------------------
def _write(tmp_path: Path, change) -> Path:
    data = yaml.safe_load((templates_dir() / "scoring.yaml").read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "scoring.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _set(factor: str, **kw):
    return lambda d: d["factors"][factor].update(kw)


def _all_zero(d):
    for f in d["factors"].values():
        f["weight"] = 0


@pytest.mark.parametrize(("change", "message"), [
    (_set("competitors", weight=-1),
     r"factors\.competitors\.weight: Input should be greater than or equal to 0"),
    (_all_zero, r"all factor weights are zero; give at least one a positive weight"),
    (_set("competitors", group="market"),
     r"factor 'competitors': unknown group 'market'; groups are: client, needs, risks"),
    (lambda d: d["groups"].update({"luck": {"label": "Luck"}}),
     r"groups: unknown group 'luck'; groups are: client, needs, risks"),
    (_set("competitors", scale={"min": 5, "max": 1}),
     r"factors\.competitors\.scale: Value error, min 5 must be below max 1"),
    (_set("competitors", default=9),
     r"factors\.competitors: Value error, default 9 is outside the scale 1\.\.5"),
    (_set("added_value", source="computed", scale={"min": 0, "max": 1}, default=0.5),
     r"factor 'added_value' is 'computed' but kam computes no such factor; computed factors "
     r"are: profile_completeness"),
    (_set("financial_state", scale={"min": 1, "max": 5}),
     r"factors\.financial_state: Value error, a computed factor is on the scale 0\.\.1"),
    (lambda d: d["settings"].update({"profile_fields": ["industry", "turnover"]}),
     r"settings: Value error, profile_fields: unknown account field 'turnover'"),
    (_set("competitors", wieght=3), r"factors\.competitors\.wieght: Extra inputs"),
])
def test_prospect_config_rejects_nonsense(tmp_path, change, message):
    with pytest.raises(ConfigError, match=r"scoring\.yaml: .*" + message):
        load_scoring_config(_write(tmp_path, change))


# -- properties -----------------------------------------------------------------------------------
N_FACTORS = 6


@st.composite
def models(draw):
    weights = draw(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=N_FACTORS,
                            max_size=N_FACTORS).filter(lambda w: sum(w) > 0))
    score_max = draw(st.sampled_from([1.0, 10.0, 100.0, 7.3]))
    values = draw(st.lists(st.floats(1, 5, allow_nan=False), min_size=N_FACTORS,
                           max_size=N_FACTORS))
    better = draw(st.lists(st.sampled_from(["high", "low"]), min_size=N_FACTORS,
                           max_size=N_FACTORS))
    factors = {f"f{i}": {"group": GROUPS[i % 3], "label": f"F{i}", "source": "assessment",
                         "weight": w, "scale": {"min": 1, "max": 5}, "better": b}
               for i, (w, b) in enumerate(zip(weights, better, strict=True))}
    cfg = ScoringConfig.model_validate({
        "score_max": score_max, "groups": {g: {"label": g} for g in GROUPS},
        "settings": {"profile_fields": ["industry"], "recency_days": 30,
                     "volume_reference": 1.0},
        "factors": factors})
    return cfg, {f"f{i}": v for i, v in enumerate(values)}


@settings(max_examples=50, deadline=None)
@given(models())
def test_prospect_score_within_bounds_and_sum_of_contributions(drawn):
    cfg, assessments = drawn
    s = prospect_score(Dossier(account=Account(id="A", name="A")), cfg, today=TODAY,
                       assessments=assessments)
    assert 0 <= s.score <= cfg.score_max
    assert math.fsum(s.contributions["contribution"]) == s.score
    # Independent computation of the weighted mean.
    w = [cfg.factors[f].weight for f in assessments]
    v = [((x - 1) / 4) if cfg.factors[f].better == "high" else 1 - (x - 1) / 4
         for f, x in assessments.items()]
    expected = cfg.score_max * sum(a * b for a, b in zip(w, v, strict=True)) / sum(w)
    assert s.score == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_prospect_demo_portfolio_ranked_and_explained(cfg):
    from kam import demo

    ds = demo.dossiers()
    r = rank_prospects(ds, cfg, today=demo.TODAY, team=demo.team())
    assert len(r) == len(ds) and r["score"].between(0, 100).all()
    assert r["score"].is_monotonic_decreasing
    s = prospect_score(ds[0], cfg, today=demo.TODAY, team=demo.team())
    assert math.fsum(s.contributions["contribution"]) == s.score
