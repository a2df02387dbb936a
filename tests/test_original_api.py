"""The original simtom's Python API: configs, generators, the plugin registry and discovery."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest

import simtom
from simtom.core.generator import BaseGenerator, GeneratorConfig, register_generator
from simtom.core.registry import PluginRegistry, discover_generators
from simtom.generators.ecommerce.bnpl import BNPLConfig, BNPLGenerator
from simtom.outputs.dicts import parse_lines
from simtom.serving.streams import open_stream


def collect(iterator: Any) -> list[Any]:
    async def run() -> list[Any]:
        return [item async for item in iterator]

    return asyncio.run(run())


# --- GeneratorConfig ---------------------------------------------------------------------------


def test_config_defaults_and_aliases() -> None:
    config = GeneratorConfig()
    assert (config.rate_per_second, config.total_records, config.seed) == (1.0, None, None)
    assert (config.arrival_pattern, config.peak_hours, config.burst_probability) == (
        "uniform", [12, 19], 0.3)
    assert GeneratorConfig(max_records=7).total_records == 7
    assert GeneratorConfig(total_records=7).max_records == 7
    with pytest.raises(simtom.ConfigError, match="give one of the two"):
        GeneratorConfig(total_records=7, max_records=8)


@pytest.mark.parametrize(("options", "field"), [
    ({"rate_per_second": -1}, "rate_per_second"),
    ({"rate_per_second": "fast"}, "rate_per_second"),
    ({"arrival_pattern": "bursty"}, "arrival_pattern"),
    ({"peak_hours": [25]}, "peak_hours"),
    ({"seed": -3}, "seed"),
    ({"drift_type": "linear", "drift_period": 60}, "drift_period"),  # never ignored
    ({"drift_strength": 0.3}, "drift_strength"),  # without a drift_type: refused
    ({"start_time": "yesterday"}, "start_time"),
    ({"rate_per_second": 1e-9, "time_compression": 1e6}, "time_compression"),
])
def test_config_errors_name_the_field(options: dict[str, Any], field: str) -> None:
    with pytest.raises(simtom.ConfigError) as info:
        GeneratorConfig(**options)
    assert info.value.field == field
    assert str(info.value).startswith(field)


def test_unknown_option_suggests_the_name_or_the_generator() -> None:
    with pytest.raises(simtom.UnknownFieldError, match="did you mean 'rate_per_second'"):
        GeneratorConfig(rate_per_secnd=3)
    with pytest.raises(simtom.UnknownFieldError, match="option of generator 'bnpl'"):
        GeneratorConfig(economic_stress_factor=0.5)
    assert BNPLConfig(economic_stress_factor=0.5).economic_stress_factor == 0.5


def test_setting_an_option_validates_it() -> None:
    config = GeneratorConfig(seed=1, total_records=10)
    config.rate_per_second = 5
    assert config.rate_per_second == 5.0
    config.max_records = 20  # the alias replaces total_records
    assert config.total_records == 20
    with pytest.raises(simtom.ConfigError, match="burst_intensity"):
        config.burst_intensity = 0.5
    assert config.burst_intensity == 2.0  # unchanged after a refused value


def test_model_dump_round_trips() -> None:
    config = BNPLConfig(seed=5, rate_per_second=3, risk_scenario_weights={
        "low_risk_purchase": 1, "impulse_purchase": 1, "credit_stretched": 1,
        "high_risk_behavior": 1}, start_time="2024-06-01T12:00:00Z")
    dumped = config.model_dump()
    assert dumped["risk_scenario_weights"]["credit_stretched"] == 1.0
    assert dumped["start_time"] == dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone.utc)
    assert BNPLConfig(**dumped) == config
    assert orjson.loads(orjson.dumps(config.model_dump(mode="json")))["start_time"].startswith(
        "2024-06-01T12:00:00")
    assert config.model_copy(update={"seed": 6}).seed == 6 and config.seed == 5


def test_config_subclass_with_annotated_options() -> None:
    class ShopConfig(GeneratorConfig):
        rate_per_second: float = 50.0  # a new default for a common option
        basket: int = 3
        vip: bool | None = None

    config = ShopConfig(basket=4)
    assert (config.rate_per_second, config.basket, config.vip) == (50.0, 4, None)
    assert [f.name for f in ShopConfig.options] == ["basket", "vip"]
    with pytest.raises(simtom.ConfigError, match="basket: got 'x'"):
        ShopConfig(basket="x")
    with pytest.raises(simtom.SimtomError, match="needs a default"):
        class Bad(GeneratorConfig):
            size: int
    with pytest.raises(simtom.SimtomError, match="not supported"):
        class Worse(GeneratorConfig):
            sizes: list[int] = [1]  # noqa: RUF012


# --- generators ----------------------------------------------------------------------------------


def test_bnpl_generator_accepts_configs_mappings_and_keywords() -> None:
    a = BNPLGenerator(GeneratorConfig(seed=9, total_records=20)).frame()
    b = BNPLGenerator({"seed": 9, "total_records": 20}).frame()
    c = BNPLGenerator(seed=9, total_records=20).frame()
    d = BNPLGenerator(BNPLConfig(seed=9), total_records=20).frame()
    assert a.equals(b) and a.equals(c) and a.equals(d)
    assert a.equals(simtom.frame("bnpl", n=20, seed=9))
    stressed = BNPLGenerator(GeneratorConfig(seed=9), economic_stress_factor=2).frame(n=20)
    assert stressed["economic_stress_factor"].unique().to_list() == [2.0]
    with pytest.raises(simtom.ConfigError, match="config"):
        BNPLGenerator(42)  # type: ignore[arg-type]


def test_a_seedless_generator_draws_one_seed_and_keeps_it() -> None:
    gen = BNPLGenerator(GeneratorConfig(total_records=30))
    assert isinstance(gen.seed, int)
    first = collect(gen.stream(paced=False))
    again = collect(gen.stream(paced=False))
    assert first == again
    assert first != collect(BNPLGenerator(GeneratorConfig(total_records=30)).stream(paced=False))
    assert gen.frame().equals(simtom.frame("bnpl", n=30, seed=gen.seed))


def test_stream_dicts_are_the_ndjson_lines() -> None:
    """stream() and the wire agree: each dict is the record's NDJSON line, parsed."""
    config = {"seed": 4, "total_records": 3000, "arrival_pattern": "poisson", "paced": False,
              "denormalize_entities": True}
    records = collect(BNPLGenerator(config).stream())
    opened = open_stream("bnpl", config, fmt="ndjson")
    data = b"".join(bytes(c) for c in collect(opened.chunks()))
    assert records == [orjson.loads(line) for line in data.splitlines()]
    assert records[0]["_timestamp"] == "2025-01-01T00:00:00.000000+00:00" or \
        records[0]["_timestamp"].startswith("2025-01-01T")
    nulls = [r for r in records if r["days_to_first_missed_payment"] is None]
    assert 0 < len(nulls) < len(records)


def test_stream_frames_unpaced_and_paced() -> None:
    gen = BNPLGenerator(GeneratorConfig(seed=2, total_records=100, rate_per_second=2000.0))
    unpaced = collect(gen.stream_frames(paced=False, batch_size=40))
    assert [len(f) for f in unpaced] == [40, 40, 20]
    paced = collect(gen.stream_frames())
    assert sum(len(f) for f in paced) == 100
    straight = gen.frame()
    assert pl.concat(unpaced).equals(straight)
    # a paced stream starts now (the data look live); the records are the same otherwise
    time_fields = ["_timestamp", "label_available_at"]  # instants: they move with the start
    assert pl.concat(paced).drop(time_fields).equals(straight.drop(time_fields))
    assert paced[0]["_timestamp"][0] > dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def test_top_level_stream_validates_before_the_first_record() -> None:
    with pytest.raises(simtom.ConfigError, match="rate_per_second"):
        simtom.stream("bnpl", rate_per_second=0)
    with pytest.raises(simtom.UnknownGeneratorError):
        simtom.stream("bnlp")
    with pytest.raises(simtom.ConfigError, match="paced"):
        simtom.stream("bnpl", paced="yes")  # type: ignore[arg-type]
    records = collect(simtom.stream("bnpl", n=5, seed=1, paced=False))
    assert [r["_record_id"] for r in records] == [0, 1, 2, 3, 4]


def test_breaking_off_a_stream_stops_generation() -> None:
    async def first_three() -> list[dict[str, Any]]:
        out = []
        async for record in simtom.stream("bnpl", seed=1, paced=False):  # endless
            out.append(record)
            if len(out) == 3:
                break
        return out

    assert [r["_record_id"] for r in asyncio.run(first_three())] == [0, 1, 2]


def test_dicts_match_json_for_other_dtypes() -> None:
    """Columns the fast paths do not cover go through the encoder: values as in the JSON."""
    from simtom.outputs.dicts import DictMaker
    from simtom.outputs.encode import Encoder

    frame = pl.DataFrame({
        "when": [dt.datetime(2024, 5, 1, 3, 4, 5, 6), None],
        "day": [dt.date(2024, 5, 1), dt.date(1, 1, 1)],
        "utc": pl.Series([0, 10**15], dtype=pl.Datetime("ms", "UTC")),
        "x": [float("nan"), 1e-7],
        "tags": [["a", "b"], []],
        "cat": pl.Series(["u", None], dtype=pl.Categorical),
        "n": [None, 3],
        "t": ["é\n\"", None],
    })
    encoded = Encoder(frame.schema).encode(frame)
    lines = bytes(encoded.slice(0, 2)).splitlines()
    assert DictMaker(frame.schema)(frame) == [orjson.loads(line) for line in lines]


# --- the registry --------------------------------------------------------------------------------


def test_plugin_registry_views() -> None:
    assert PluginRegistry() is PluginRegistry()
    assert "bnpl" in PluginRegistry.list_generators()
    assert PluginRegistry.get_generator("bnpl") is BNPLGenerator
    assert PluginRegistry.get_generator("nope") is None
    gen = PluginRegistry.create_generator("bnpl", GeneratorConfig(seed=1, total_records=2))
    assert isinstance(gen, BNPLGenerator) and len(gen.frame()) == 2
    with pytest.raises(ValueError, match="available"):  # a ValueError, as in the original
        PluginRegistry.create_generator("bnlp", GeneratorConfig())
    handle = PluginRegistry.get_generator("card_payments")  # a block generator without a class
    assert handle is not None and issubclass(handle, BaseGenerator)
    payments = handle(seed=3, total_records=4, fraud_rate=0.5)
    assert payments.frame()["is_fraud"].dtype == pl.Boolean
    assert collect(payments.stream(paced=False))[0]["_generator"] == "card_payments"


def test_registration_errors() -> None:
    with pytest.raises(simtom.SimtomError, match="already registered"):
        @register_generator("bnpl")
        class Impostor(BaseGenerator):
            async def generate_record(self) -> dict[str, Any]:
                return {}

    class Hollow(BaseGenerator):
        pass

    with pytest.raises(simtom.SimtomError, match="neither generator interface"):
        register_generator("hollow")(Hollow)

    with pytest.raises(simtom.SimtomError, match="must implement"):
        @register_generator("half")
        class Half(simtom.BlockGenerator):
            def schema(self, scenario: simtom.Scenario) -> pl.Schema:
                return pl.Schema({"x": pl.Int64})

    with pytest.raises(simtom.SimtomError, match="allowed"):
        PluginRegistry.register("thing", 42)
    with pytest.raises(simtom.SimtomError, match="non-empty string"):
        register_generator("")(Hollow)
    assert "hollow" not in simtom.available() and "half" not in simtom.available()
    assert PluginRegistry.get_generator("bnpl") is BNPLGenerator  # unharmed


def test_registering_the_same_class_again_replaces_it() -> None:
    @register_generator("twice")
    class Twice(BaseGenerator):
        async def generate_record(self) -> dict[str, Any]:
            return {"k": self.record_id}

    try:
        register_generator("twice")(Twice)  # a module imported twice: no error
        assert simtom.frame("twice", n=3, seed=0)["k"].to_list() == [0, 1, 2]
    finally:
        PluginRegistry.unregister("twice")
    assert PluginRegistry.get_generator("twice") is None


def test_discovery_finds_modules_at_any_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "shop_plugins"
    (root / "retail" / "deep").mkdir(parents=True)
    for folder in (root, root / "retail", root / "retail" / "deep"):
        (folder / "__init__.py").write_text("")
    (root / "retail" / "deep" / "returns.py").write_text(textwrap.dedent('''
        from simtom.core.generator import BaseGenerator, register_generator

        @register_generator("returns")
        class Returns(BaseGenerator):
            async def generate_record(self):
                return {"refund": round(self.rng.uniform(1, 50), 2)}
    '''))
    (root / "retail" / "_private.py").write_text("raise RuntimeError('never imported')\n")
    (root / "broken.py").write_text("import not_a_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with caplog.at_level(logging.WARNING, logger="simtom"):
            added = discover_generators("shop_plugins")
        assert added == ["returns"]
        assert "shop_plugins.broken" in caplog.text and "not_a_module_anywhere" in caplog.text
        assert "never imported" not in caplog.text
        assert simtom.frame("returns", n=4, seed=1)["refund"].is_between(1, 50).all()
        assert PluginRegistry.discover_generators("shop_plugins") == []  # already there
    finally:
        PluginRegistry.unregister("returns")
        for name in [m for m in sys.modules if m.startswith("shop_plugins")]:
            del sys.modules[name]


def test_builtin_discovery_imports_the_bnpl_module() -> None:
    assert "simtom.generators.ecommerce.bnpl" in sys.modules
    assert discover_generators("simtom.generators") == []  # nothing new on a second walk
    assert discover_generators("no_such_package_anywhere") == []


# --- aio helpers -----------------------------------------------------------------------------


def test_parse_lines() -> None:
    assert parse_lines(b"") == []
    assert parse_lines(b'{"a":1}\n{"a":"x\\ny"}\n') == [{"a": 1}, {"a": "x\ny"}]
