"""Generators registered for the whole test session, so the contract tests cover every kind.

- ``credit_cards``: the README's record generator (Faker, exactly as documented);
- ``card_payments``: the README's block generator (a Numba kernel);
- ``test_awaiting``: a record generator whose ``generate_record`` really awaits, with options
  from annotated config attributes;
- ``test_plain``: a record generator with a plain ``def generate_record`` and a declared schema.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Literal

import polars as pl
from _examples import load

from simtom.core.generator import BaseGenerator, GeneratorConfig, register_generator

credit_cards = load("credit-cards")
card_payments = load("block-generator")


class OrdersConfig(GeneratorConfig):
    basket_mean: float = 3.0
    channel: Literal["web", "app"] = "web"
    coupon: str | None = None


@register_generator("test_awaiting")
class AwaitingGenerator(BaseGenerator):
    """Orders whose generation awaits (as an I/O-bound generator would)."""

    config_class = OrdersConfig

    async def generate_record(self) -> dict[str, Any]:
        await asyncio.sleep(0)
        items = 1 + int(self.rng.expovariate(1 / self.config.basket_mean))
        return {"items": items, "channel": self.config.channel, "coupon": self.config.coupon,
                "hour": self.timestamp.hour, "flag": self.rng.random() < 0.5}


@register_generator("test_plain")
class PlainGenerator(BaseGenerator):
    """Sensor readings from a plain function, with a declared schema."""

    schema: ClassVar[dict[str, Any]] = {"sensor": pl.String, "reading": pl.Float64,
                                         "spike": pl.Float64}

    def generate_record(self) -> dict[str, Any]:  # type: ignore[override]
        reading = self.rng.gauss(20.0, 2.0)
        record = {"sensor": f"s{self.rng.randrange(8)}", "reading": round(reading, 3)}
        if self.rng.random() < 0.01:  # rarely present: why the schema is declared
            record["spike"] = reading * 10
        return record
