"""A record generator in the original simtom's style (registered by its entry point)."""

from __future__ import annotations

from typing import Any

from simtom.core.generator import BaseGenerator, GeneratorConfig

CARRIERS = ("ups", "fedex", "usps", "dhl")


class ShipmentConfig(GeneratorConfig):
    express_share: float = 0.2


class ShipmentGenerator(BaseGenerator):
    """Parcel shipments with carriers and weights."""

    config_class = ShipmentConfig

    async def generate_record(self) -> dict[str, Any]:
        express = self.rng.random() < self.config.express_share
        return {
            "carrier": self.rng.choice(CARRIERS),
            "weight_kg": round(self.rng.lognormvariate(0.5, 0.6), 2),
            "express": express,
        }
