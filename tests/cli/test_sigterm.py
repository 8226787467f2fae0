"""SIGTERM while train writes its export or checkpoint: the temporary file is removed and the
status is 143 (it stayed as .Y.json.PID.HEX.tmp; issue 23). The signal arrives mid-write."""

from __future__ import annotations

import os
import signal

import pytest

from core import files
from tui_trainer.cli import main


@pytest.mark.parametrize("option, name", [("--export", "Y.json"), ("--save-checkpoint", "Y.npz")])
def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path, monkeypatch, option, name):
    real_fdopen = files.os.fdopen

    class Killed:
        """The file being written; SIGTERM comes after its first bytes."""

        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            self.f.write(data[:10])
            self.f.flush()
            os.kill(os.getpid(), signal.SIGTERM)
            self.f.write(data[10:])

    monkeypatch.setattr(files.os, "fdopen", lambda fd, mode: Killed(real_fdopen(fd, mode)))
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as e:
        main(["train", "--steps", "5", option, str(tmp_path / name)])
    assert e.value.code == 143
    assert list(tmp_path.iterdir()) == []  # neither the file nor its .tmp
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back


def test_the_handler_is_put_back_after_a_normal_run(capsys):
    before = signal.getsignal(signal.SIGTERM)
    assert main(["train", "--steps", "1"]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
