"""Hypothesis's two profiles: `make test` (the same examples on every run, no example database,
so that a checkout never replays a failure found elsewhere) and `make fuzz` (random, many more)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]
FUZZING = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"


def load_profile() -> None:
    """Register both profiles and load the one HYPOTHESIS_PROFILE names (default: test)."""
    settings.register_profile(
        "test", derandomize=True, database=None, deadline=None, suppress_health_check=_QUIET
    )
    settings.register_profile(
        "fuzz", derandomize=False, deadline=None, suppress_health_check=_QUIET, print_blob=True
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "test"))


def examples(test: int, fuzz: int) -> int:
    """How many examples a property test tries: in `make test`, and in each `make fuzz` round."""
    return fuzz if FUZZING else test
