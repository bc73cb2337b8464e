"""Budgets for the property tests: small and reproducible in the normal run, large on demand.

The normal run (and CI) tries a fixed number of examples chosen from a fixed seed, so it
passes or fails the same way every time. `IMGINSPECT_FUZZ=1` tries many more, from a new
random seed each run, for about ten minutes in all (see README, Reliability); a failure
prints the blob that replays it (`@reproduce_failure`).
"""

import os

from hypothesis import HealthCheck, settings

FUZZ = os.environ.get("IMGINSPECT_FUZZ") == "1"


def budget(normal: int, fuzz: int) -> settings:
    """Settings that try `normal` examples in the normal run, `fuzz` with IMGINSPECT_FUZZ=1."""
    return settings(
        max_examples=fuzz if FUZZ else normal,
        deadline=None,
        derandomize=not FUZZ,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )
