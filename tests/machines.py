"""Running the Hypothesis state machines (tests/test_*_state.py): each call of Hypothesis
runs a few examples of a seed; calls go on, each with a seed of its own drawn from the
run's printed seed (a call with the same seed would repeat the last one's examples),
until the machine has checked enough steps."""

from __future__ import annotations

import os
import random
from collections.abc import Callable

from hypothesis import HealthCheck, seed, settings
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test


def run_machine(
    machine: type[RuleBasedStateMachine],
    *,
    replay: str,
    enough: Callable[[], bool],
    examples: int,
    steps: int,
) -> None:
    """Run ``machine`` until ``enough()``; ``replay`` names the environment variable that
    replays a run from its printed seed."""
    run_seed = int(os.environ.get(replay) or random.randrange(2**32))
    print(f"{machine.__name__} state machine: {replay}={run_seed}")
    checks = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    runs = random.Random(run_seed)
    while not enough():
        run_state_machine_as_test(seed(runs.randrange(2**32))(machine), settings=checks)
