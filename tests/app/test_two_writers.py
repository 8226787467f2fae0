"""Two writers in one --output-dir (two apps, or an app and a script): each save claims its names
with O_CREAT|O_EXCL, so none is lost and a JSON/CSV pair is never mixed (issue 23)."""

from __future__ import annotations

import multiprocessing
import os

from core.files import claim_names, release, write_atomic


def test_a_claimed_name_is_not_given_again_before_it_is_written(tmp_path):
    first = claim_names(tmp_path, "tui-trainer-step-00001", (".json", ".csv"))
    second = claim_names(tmp_path, "tui-trainer-step-00001", (".json", ".csv"))
    assert [p.name for p in first] == ["tui-trainer-step-00001.json", "tui-trainer-step-00001.csv"]
    assert [p.name for p in second] == ["tui-trainer-step-00001-2.json", "tui-trainer-step-00001-2.csv"]


def test_a_pair_is_never_split_across_stems(tmp_path):
    (tmp_path / "s.csv").write_text("someone else's")  # the CSV of stem s is taken, its JSON is not
    paths = claim_names(tmp_path, "s", (".json", ".csv"))
    assert [p.name for p in paths] == ["s-2.json", "s-2.csv"]
    assert not (tmp_path / "s.json").exists()  # the half claim was released


def test_release_removes_only_unwritten_claims(tmp_path):
    a, b = claim_names(tmp_path, "s", (".json", ".csv"))
    write_atomic(a, b"{}")
    release([a, b])
    assert a.read_bytes() == b"{}" and not b.exists()


def _saver(directory: str, tag: str, rounds: int) -> None:
    for i in range(rounds):
        for p in claim_names(directory, "tui-trainer-step-20000", (".json", ".csv")):
            write_atomic(p, f"{tag} {i} {p.suffix}".encode())


def test_two_processes_saving_at_once_lose_nothing(tmp_path):
    ctx = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
    procs = [ctx.Process(target=_saver, args=(str(tmp_path), tag, 40)) for tag in "AB"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    files = sorted(tmp_path.iterdir())
    assert len(files) == 160  # 2 writers x 40 rounds x (JSON, CSV)
    stems = {}
    for f in files:
        stems.setdefault(f.name.rsplit(".", 1)[0], []).append(f.read_text())
    for pair in stems.values():  # the JSON and CSV of one stem come from one save
        assert len(pair) == 2 and pair[0].rsplit(" ", 1)[0] == pair[1].rsplit(" ", 1)[0], pair
