"""Scenario validation: every bad input names the field, the value and what is allowed."""

from __future__ import annotations

import datetime as dt

import jsonschema
import pytest

import simtom
from simtom.engine.registry import get
from simtom.spec.scenario import COMMON_FIELDS, DEFAULT_START, make_scenario

BNPL = get("bnpl")


def scenario(**config):
    return make_scenario("bnpl", config, BNPL.options)


def test_defaults_match_the_original():
    s = scenario()
    assert s.rate_per_second == 1.0
    assert s.arrival_pattern == "uniform"
    assert s.peak_hours == (12, 19)
    assert s.burst_intensity == 2.0
    assert s.burst_probability == 0.3
    assert s.time_compression == 1.0
    assert s.noise_type == "none" and s.drift_type == "none"
    assert s.total_records is None
    assert s.options["base_default_rate"] == 0.03
    assert s.options["repeat_customer_rate"] == 0.7
    assert s.start == DEFAULT_START


@pytest.mark.parametrize(
    ("config", "field", "fragment"),
    [
        ({"rate_per_second": 0}, "rate_per_second", "> 0"),
        ({"rate_per_second": "fast"}, "rate_per_second", "a number"),
        ({"rate_per_second": float("nan")}, "rate_per_second", "a number"),
        ({"rate_per_second": True}, "rate_per_second", "a number"),
        ({"total_records": -1}, "total_records", ">= 0"),
        ({"total_records": 2.5}, "total_records", "an integer"),
        ({"seed": -3}, "seed", ">= 0"),
        ({"arrival_pattern": "gaussian"}, "arrival_pattern", "'poisson'"),
        ({"peak_hours": [12, 24]}, "peak_hours", "0-23"),
        ({"peak_hours": [3, 3]}, "peak_hours", "distinct"),
        ({"peak_hours": "12"}, "peak_hours", "0-23"),
        ({"burst_probability": 1.5}, "burst_probability", "<= 1"),
        ({"burst_intensity": 0.5}, "burst_intensity", ">= 1"),
        ({"start_time": "yesterday"}, "start_time", "ISO 8601"),
        ({"repeat_customer_rate": 1.0}, "repeat_customer_rate", "<= 0.99"),
        ({"max_products": 3}, "max_products", ">= 10"),
        ({"risk_scenario_weights": {"low_risk_purchase": -1}},
         "risk_scenario_weights.low_risk_purchase", "non-negative"),
        ({"risk_scenario_weights": {"lowrisk": 1}}, "risk_scenario_weights.lowrisk", "keys"),
        ({"risk_scenario_weights": {"low_risk_purchase": 0}}, "risk_scenario_weights",
         "positive sum"),
    ],
)
def test_bad_values_name_field_value_and_allowed(config, field, fragment):
    with pytest.raises(simtom.ConfigError) as info:
        scenario(**config)
    err = info.value
    assert err.field == field
    assert str(err).startswith(field + ":")
    assert fragment in str(err)
    assert f"got {err.value!r}" in str(err)


def test_unknown_field_suggests_the_closest_name():
    with pytest.raises(simtom.UnknownFieldError) as info:
        scenario(rate_per_secnd=5)
    assert "did you mean 'rate_per_second'" in str(info.value)
    assert info.value.field == "rate_per_secnd"


def test_unknown_field_without_near_name_lists_valid_names():
    with pytest.raises(simtom.UnknownFieldError) as info:
        scenario(zzz=1)
    assert "did you mean" not in str(info.value)
    assert "rate_per_second" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("bnpl_adoption_rate", 0.4)],
)
def test_options_not_built_yet_are_refused_not_ignored(name, value):
    with pytest.raises(simtom.NotSupportedError) as info:
        scenario(**{name: value})
    assert "not supported yet" in str(info.value)
    assert str(info.value).startswith(name)


def test_options_not_built_yet_accept_their_defaults():
    s = scenario(noise_type="none", drift_type="none", noise_level=0.0,
                 include_holiday_patterns=True)
    assert s.noise_type == "none"


def test_max_records_is_an_alias_and_conflicts_are_reported():
    assert scenario(max_records=7).total_records == 7
    assert scenario(max_records=7, total_records=7).total_records == 7
    with pytest.raises(simtom.ConfigError, match="max_records"):
        scenario(total_records=5, max_records=7)


def test_start_time_parsing():
    s = scenario(start_time="2024-03-01T12:00:00Z")
    assert s.start == dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone.utc)
    midnight = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    assert scenario(start_time="2024-03-01").start == midnight
    now = dt.datetime(2030, 5, 5, 5, 5, tzinfo=dt.timezone.utc)
    assert make_scenario("bnpl", {"start_time": "now"}, BNPL.options, now=now).start == now
    assert make_scenario("bnpl", {}, BNPL.options, realtime=True, now=now).start == now
    assert scenario().start_us == 1_735_689_600_000_000


def test_seed_is_chosen_and_reported_when_missing():
    a, b = scenario(), scenario()
    assert a.seed_chosen and b.seed_chosen
    assert a.seed != b.seed  # 32 random bits: equal with probability 2**-32
    assert not scenario(seed=5).seed_chosen


def test_json_schema_is_valid_and_matches_validation():
    schema = BNPL.config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    good = {"rate_per_second": 2.0, "total_records": 5, "seed": 42, "arrival_pattern": "nhpp",
            "peak_hours": [12, 19], "risk_scenario_weights": {"low_risk_purchase": 1.0}}
    assert not list(validator.iter_errors(good))
    scenario(**good)
    for bad in ({"arrival_pattern": "x"}, {"rate_per_second": 0}, {"nonsense": 1}):
        assert list(validator.iter_errors(bad))
        with pytest.raises(simtom.ConfigError):
            scenario(**bad)
    names = {f.name for f in COMMON_FIELDS} | {f.name for f in BNPL.options} | {"max_records"}
    assert set(schema["properties"]) == names


def test_design_configuration_names_are_all_present():
    design = ["rate_per_second", "total_records", "max_records", "seed", "time_compression",
              "arrival_pattern", "peak_hours", "burst_intensity", "burst_probability",
              "noise_type", "noise_level", "drift_type", "drift_strength", "start_date",
              "end_date", "base_daily_volume", "include_holiday_patterns", "weekend_multiplier",
              "start_time", "paced", "risk_scenario_weights", "economic_stress_factor",
              "base_default_rate", "max_customers", "max_products", "repeat_customer_rate",
              "bnpl_adoption_rate", "denormalize_entities"]
    assert set(design) <= set(BNPL.config_schema()["properties"])


def test_scenario_repr_and_dict():
    s = scenario(seed=42, arrival_pattern="poisson")
    assert "seed=42" in repr(s) and "arrival_pattern='poisson'" in repr(s)
    # options resolved from their defaults are not "changed"
    assert "drift_strength" not in repr(s) and "calendar_effects" not in repr(s)
    drifting = scenario(seed=42, drift_type="sudden", drift_strength=0.2)
    assert "drift_strength=0.2" in repr(drifting)
    d = s.to_dict()
    assert d["seed"] == 42 and d["start_time"] == "2025-01-01T00:00:00+00:00"
    assert d["risk_scenario_weights"]["low_risk_purchase"] == 0.6


def test_simulated_rate_has_a_floor():
    assert scenario(rate_per_second=1.0, time_compression=1e6).simulated_rate == 1e-6
    with pytest.raises(simtom.ConfigError) as info:
        scenario(rate_per_second=0.1, time_compression=1e9)
    assert info.value.field == "time_compression"
    assert "rate_per_second / time_compression >= 1e-06" in str(info.value)
