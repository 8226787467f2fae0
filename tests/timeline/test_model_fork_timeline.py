"""The Hypothesis stateful timeline test (test_timeline.py's machine) with model forks: F's
``model gpt`` / ``model mlp`` among the other commands, undo, redo, goto and branches reach exactly
the states a naive replay from the start does, whichever model each branch trains."""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule
from test_timeline import machine, snap

CONFIGS = {
    "mlp-20kB": {"undo_memory": 20_000},
    "gpt-sampled-no-memory": {
        "model": "gpt",
        "context": 3,
        "batch_positions": 4,
        "undo_memory": 0,
        "text": "we love deep learning\nwe love it",
    },
}


def model_machine(config: dict):
    class ModelForkMachine(machine(config)):
        @rule(kind=st.sampled_from(["gpt", "mlp"]))
        def fork_model(self, kind):
            ref = self.ref
            cmds = ref.branches[ref.cur][: ref.pos]
            current = next((c[1] for c in reversed(cmds) if c[0] == "set_model"), config.get("model", "mlp"))
            r = self.s.fork_model(kind)
            assert r.ok == (kind != current), r
            if r.ok:  # a new branch from the start, whose one command makes the other model
                ref.branches.append([("set_model", kind)])
                ref.snaps.append([ref.snaps[0][0], snap(ref.state_at([("set_model", kind)]))])
                ref.cur, ref.pos = len(ref.branches) - 1, 1

    return ModelForkMachine


@pytest.mark.parametrize("name", list(CONFIGS))
def test_a_timeline_with_model_forks_matches_a_naive_reference(name):
    m = model_machine(CONFIGS[name])
    m.TestCase.settings = settings(
        max_examples=10, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
    )
    m.TestCase().runTest()
