"""serve with an address it cannot listen on: the error first, before any banner (issue 23)."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("textual_serve")

from tui_trainer.cli import main
from tui_trainer.serve import TrainerServer


@pytest.fixture
def no_serving(monkeypatch):
    monkeypatch.setattr(TrainerServer, "serve", lambda self, *a: pytest.fail("served"))


def test_a_port_in_use(no_serving, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"tui-trainer: error: cannot serve on 127.0.0.1:{port}: Address already in use\n"


@pytest.mark.parametrize(
    "host, expect",
    [("no.such.host.invalid", "unknown host"), ("", "--host: the address is empty"), ("  ", "the address is empty")],
)
def test_a_bad_or_empty_host(no_serving, capsys, host, expect):
    assert main(["serve", "--host", host]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and expect in err and "warning" not in err
