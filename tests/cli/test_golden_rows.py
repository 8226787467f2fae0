"""Refactors change no number: ``train --json`` gives the same bytes as before the model interface.

The files in ``tests/data/golden/`` were written by ``tui-trainer train --json`` at commit 6bae057
(the last commit before ``core/models/`` and the session's split), whose numbers agree with an
independent PyTorch rebuild. A refactor that reorders one floating-point sum changes the last digit
of some row and fails here; a deliberate change of the numbers regenerates the files (the command
is in each case below) and says why in its commit.
"""

from pathlib import Path

import pytest
from conftest import DATA

from tui_trainer.cli import main

GOLDEN = DATA / "golden"
CASES = {
    "lesson-sgd.jsonl": ["--optimizer", "sgd"],
    "lesson-adam.jsonl": ["--optimizer", "adam"],
    "lesson-momentum-clip.jsonl": ["--optimizer", "momentum", "--clip", "0.5"],
    # 300 words in 12 sentences: sampled 64-position batches, a validation split, 8 tracked positions
    "words300-batch64.jsonl": [
        "--corpus",
        str(GOLDEN / "words300.txt"),
        "--batch-positions",
        "64",
        "--dtype",
        "float64",
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_train_json_rows_are_byte_identical_to_the_golden_run(capsys, name: str) -> None:
    code = main(["train", "--steps", "30", "--json", *CASES[name]])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    want = Path(GOLDEN / name).read_text().splitlines()
    got = out.splitlines()
    assert len(got) == len(want) == 31
    for row, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"step {row} differs"


def test_the_golden_check_can_fail(capsys) -> None:
    """A different seed gives different rows: the comparison above sees a change."""
    main(["train", "--steps", "30", "--json", "--seed", "1", *CASES["lesson-sgd.jsonl"]])
    out = capsys.readouterr().out.splitlines()
    want = (GOLDEN / "lesson-sgd.jsonl").read_text().splitlines()
    assert out[0] != want[0] and len(out) == len(want)
