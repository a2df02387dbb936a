from __future__ import annotations

# Register the README's example generators and the test generators for the whole session (the
# contract tests run over every registered generator).
import _generators  # noqa: F401
from hypothesis import settings

# Property tests run a small, fixed (derandomized) set of examples by default so the suite stays
# quick; `uv run pytest --hypothesis-profile=long` runs 20x as many. The tests' own @settings leave
# max_examples to the profile.
settings.register_profile("default", max_examples=40, derandomize=True, deadline=None)
settings.register_profile("long", max_examples=800, derandomize=True, deadline=None)
settings.load_profile("default")
