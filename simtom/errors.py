"""simtom's errors: one base class, a few subclasses, messages that say how to fix the call."""

from __future__ import annotations

from typing import Any


class SimtomError(Exception):
    """Base of every error simtom raises on purpose."""

    status = 400


class ConfigError(SimtomError, ValueError):
    """A configuration value is missing, of the wrong type or out of range.

    ``field`` names the option, ``value`` is what was given and ``allowed`` says what is accepted.
    """

    def __init__(self, field: str, value: Any, allowed: str, *, detail: str | None = None) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        msg = detail or f"{field}: got {value!r}; allowed: {allowed}"
        super().__init__(msg)


class UnknownFieldError(ConfigError):
    """An option name that the generator does not have."""


class NotSupportedError(ConfigError):
    """An option whose behaviour is not built yet: refused rather than silently ignored."""


class UnknownGeneratorError(SimtomError, LookupError, ValueError):
    """No generator is registered under the name (a ValueError too, as in the original)."""

    status = 404

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        self.available = available
        msg = f"generator: got {name!r}; available: {', '.join(available) or 'none'}"
        super().__init__(msg)

    def __str__(self) -> str:  # LookupError would quote the message
        return str(self.args[0])
