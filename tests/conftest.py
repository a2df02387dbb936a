from __future__ import annotations

# Register the README's example generators and the test generators for the whole session (the
# contract tests run over every registered generator).
import _generators  # noqa: F401
