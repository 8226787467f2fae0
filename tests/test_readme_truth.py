"""Teaching truth (issue 27, points 16, 20, 21): what the README states, measured on the program
(its output, its files, its state), not read from the code's own constants."""

from __future__ import annotations

import csv
import json
import re

from conftest import ROOT

from core import Session
from core.frame import build_frame
from core.readout import before_after
from tui_trainer.export import export_history

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_ratio_at_lr_1():
    s = Session.create()  # lr 1, the lesson's model
    ratios = []
    for _ in range(2):
        s.run(1)
        ba = before_after(s, 0)
        ratios.append(f"{ba.actual / ba.predicted:.2f}")
    assert f"at lr 1 the first update's is {ratios[0]} and the second's {ratios[1]}" in README, ratios


def test_the_history_files_as_written(tmp_path):
    s = Session.create()
    s.run(2)
    export_history(s, tmp_path / "h.json")
    export_history(s, tmp_path / "h.csv")
    version = json.loads((tmp_path / "h.json").read_text())["version"]
    assert f'"version": {version},' in README
    header = next(csv.reader((tmp_path / "h.csv").open()))
    scalars = header[: next(i for i, c in enumerate(header) if c.startswith("p_"))]
    said = README[README.index("CSV has one line per step") :][:400]
    assert re.findall(r"`(\w+)`", said)[: len(scalars)] == scalars, said
    assert f"`{header[-1]}`" in said and f"`{header[len(scalars)]}`" in said


def test_checkpoints_of_the_lessons_model():
    s = Session.create()
    s.run(40)
    kept = sorted(s.timeline.branches[0].ckpt)
    assert "after 40 steps: at " + ", ".join(map(str, kept[:-1])) + f" and {kept[-1]}" in README, kept


def test_how_many_branches_the_curve_overlays():
    s = Session.create()
    s.run(2)
    for lr in (0.1, 0.2, 0.3, 0.4, 0.5):
        s.goto(1)
        s.set_lr(lr)
        s.run(1)
    n = len(build_frame(s, 0).curve.others)
    words = {3: "three", 4: "four", 5: "five"}
    assert f"overlays the other branches (up to {words[n]}" in README, n


def test_the_quick_start_makes_its_environment():
    """Debian's and Ubuntu's system Python refuse pip outside a virtual environment: each
    command block creates one, and .ci/run runs the README's test commands verbatim."""
    quick = README[README.index("## Quick start") : README.index("## Keys")]
    blocks = re.findall(r"```bash\n(.*?)```", quick, re.S)
    assert len(blocks) == 2
    for block in blocks:
        assert block.startswith("python3 -m venv .venv && . .venv/bin/activate\n"), block
    assert blocks[1] in (ROOT / ".ci" / "run").read_text()
