"""The Hypothesis stateful timeline test (test_timeline.py's machine) on GPT sessions: undo, redo,
goto, branches and forks reach exactly the states a naive replay from the start does."""

import pytest
from hypothesis import HealthCheck, settings
from test_timeline import machine

CONFIGS = {
    "gpt-20kB": {"model": "gpt", "undo_memory": 20_000},
    "gpt-sampled-windows-no-memory": {
        "model": "gpt",
        "context": 3,  # the first sentence's four inputs are two windows (3 and 1)
        "batch_positions": 4,
        "undo_memory": 0,
        "text": "we love deep learning\nwe love it",
    },
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_a_gpt_timeline_matches_a_naive_reference(name):
    m = machine(CONFIGS[name])
    m.TestCase.settings = settings(
        max_examples=8, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
    )
    m.TestCase().runTest()
