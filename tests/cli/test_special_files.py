"""Special files where a file is expected (a FIFO, a device, a dangling symlink, an empty name):
never opened for reading, one clear line and exit 2; never more than the limit read (issue 23)."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest

import tui_trainer.app
from core.checkpoint import CheckpointError, load_checkpoint
from core.files import FileTooLargeError, NotRegularFileError, read_regular
from tui_trainer.cli import main

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")


@contextmanager
def deadline(seconds: int = 10):
    """Fail instead of hanging (a FIFO opened for reading waits for a writer forever)."""

    def hang(*_):
        raise TimeoutError("hung on a special file")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def fifo(tmp_path) -> Path:
    p = tmp_path / "pipe.txt"
    os.mkfifo(p)
    return p


def run(argv, capsys, monkeypatch) -> str:
    monkeypatch.setattr(tui_trainer.app.TrainerApp, "run", lambda self, *a, **k: pytest.fail("the app started"))
    with deadline():
        code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 2, (argv, out, err)
    assert len(err.splitlines()) == 1 and err.startswith("tui-trainer: error: "), err
    return err


@pytest.mark.parametrize("command", [[], ["train"], ["sample"], ["sweep", "--lr", "0.1"]])
@pytest.mark.parametrize("option", ["--corpus", "--vocab"])
def test_a_fifo_as_corpus_or_vocabulary_is_refused(command, option, fifo, capsys, monkeypatch):
    arg = str(fifo) if option == "--corpus" else f"@{fifo}"
    assert "FIFO" in run([*command, option, arg], capsys, monkeypatch)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_as_corpus_is_refused_unread(device, capsys, monkeypatch):
    if not os.path.exists(device):
        pytest.skip(device)
    monkeypatch.setattr(os, "read", lambda *a: pytest.fail("read a device"))
    assert "is a device" in run(["train", "--corpus", device], capsys, monkeypatch)


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_special_file_as_checkpoint_is_refused(special, fifo, capsys, monkeypatch):
    path = fifo if special == "fifo" else special
    assert "not a regular file" in run(["train", "--load", path], capsys, monkeypatch)
    with deadline(), pytest.raises(CheckpointError) as e:
        load_checkpoint(path)
    assert e.value.code == "not_regular_file"


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", ""])
def test_a_special_or_empty_lesson_file_is_refused(special, fifo, capsys, monkeypatch):
    path = {"fifo": fifo}.get(special, special)
    err = run(["lesson", "--file", path], capsys, monkeypatch)
    assert ("not a regular file" in err) if special else ("file name is empty" in err)


@pytest.mark.parametrize("option", ["--corpus", "--vocab"])
def test_an_empty_file_name_is_refused(option, capsys, monkeypatch):
    arg = "" if option == "--corpus" else "@"
    assert "file name is empty" in run(["train", option, arg], capsys, monkeypatch)


def test_read_regular_reads_at_most_the_limit(tmp_path, fifo):
    p = tmp_path / "a.txt"
    p.write_bytes(b"x" * 100)
    assert read_regular(p, 100) == b"x" * 100
    with pytest.raises(FileTooLargeError) as e:
        read_regular(p, 99)
    assert e.value.size == 100
    with deadline(), pytest.raises(NotRegularFileError) as e:
        read_regular(fifo, 100)
    assert e.value.kind == "fifo"


def test_a_file_growing_past_the_limit_while_read_is_refused(tmp_path, monkeypatch):
    """The size from stat() is only a first check: the reading itself stops at the limit."""
    p = tmp_path / "a.txt"
    p.write_bytes(b"x" * 10)
    real_fstat = os.fstat
    monkeypatch.setattr(os, "fstat", lambda fd: os.stat_result((*real_fstat(fd)[:6], 0, *real_fstat(fd)[7:])))
    p.write_bytes(b"x" * 1000)
    with pytest.raises(FileTooLargeError) as e:
        read_regular(p, 100)
    assert e.value.size is None
