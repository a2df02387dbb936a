"""The original simtom's BNPL generator: ``BNPLGenerator`` and ``BNPLConfig``.

Handles of the engine's BNPL block generator (``simtom.bnpl``): ``BNPLGenerator(config).stream()``
yields its records as dicts, ``BNPLConfig`` is a GeneratorConfig with the BNPL options.
"""

from __future__ import annotations

from simtom.bnpl import BNPL
from simtom.bnpl.generator import OPTIONS
from simtom.core.generator import BaseGenerator, GeneratorConfig
from simtom.core.registry import register_generator


class BNPLConfig(GeneratorConfig):
    """GeneratorConfig plus the BNPL options (``economic_stress_factor``, ``base_default_rate``,
    ``risk_scenario_weights``, ``max_customers``, ``max_products``, ``repeat_customer_rate``,
    ``bnpl_adoption_rate``, ``denormalize_entities``).

    Examples
    --------
    >>> from simtom.generators.ecommerce.bnpl import BNPLConfig
    >>> BNPLConfig(seed=42, economic_stress_factor=0.5).economic_stress_factor
    0.5
    """

    options = OPTIONS


@register_generator("bnpl")
class BNPLGenerator(BaseGenerator):
    """Buy-Now-Pay-Later transactions with risk scoring, customer profiles and labels.

    The original's class, over the vectorised engine: ``BNPLGenerator(config).stream()`` yields
    the records as dicts; ``config`` is a GeneratorConfig or a BNPLConfig.

    Examples
    --------
    >>> from simtom.core.generator import GeneratorConfig
    >>> from simtom.generators.ecommerce.bnpl import BNPLGenerator
    >>> gen = BNPLGenerator(GeneratorConfig(seed=42, total_records=3))
    >>> gen.frame().select("transaction_id", "risk_level", "will_default").rows()[0]
    ('txn_00000000', 'high', None)
    """

    config_class = BNPLConfig
    blocks = BNPL


__all__ = ["BNPLConfig", "BNPLGenerator"]
