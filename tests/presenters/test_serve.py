"""tui-trainer serve: SIGTERM/SIGINT end the server and every tab's app promptly, and saves made in
a browser are delivered to it as downloads (Textual's deliver_text / deliver_binary)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, files_written

from tui_trainer.app import TrainerApp
from tui_trainer.widgets.status import Narration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _processes_with(marker: str, apps_only: bool = False) -> list[int]:
    """Pids of this machine's processes whose command line contains ``marker`` (Linux /proc);
    ``apps_only``: the Python apps, not the shells that start them."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmd and " serve " not in cmd and not (apps_only and cmd.startswith("/bin/sh")):
                pids.append(int(entry))
    return pids


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds the app processes in /proc")
@pytest.mark.parametrize(
    "sig, racing",
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGTERM, True)],
    ids=["term", "int", "race"],
)
def test_a_signal_stops_the_server_and_every_tab_within_3_s(tmp_path, sig, racing):
    """Two tabs with their apps; with ``racing`` a third tab connects as the signal arrives (its
    app still starting: it must not be left running, orphaned)."""
    pytest.importorskip("textual_serve")
    aiohttp = pytest.importorskip("aiohttp")
    port = _free_port()
    marker = str(tmp_path / "apps-of-this-test")  # in each app's command line (--screenshot-dir)
    server = subprocess.Popen(
        [sys.executable, "-m", "tui_trainer", "serve", "--port", str(port), "--screenshot-dir", marker],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )

    async def two_tabs_then_signal() -> tuple[float, int | None, list[int]]:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):  # the server starts (bounded: 30 s)
                try:
                    async with http.get(f"http://127.0.0.1:{port}/") as r:
                        assert r.status == 200
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            tabs = [await http.ws_connect(f"ws://127.0.0.1:{port}/ws?width=100&height=30") for _ in range(2)]

            async def read(ws):  # a browser tab: keeps reading, answers pings and the close
                async for _ in ws:
                    pass

            readers = [asyncio.create_task(read(ws)) for ws in tabs]
            for _ in range(300):  # both apps start (each tab gets its own)
                if len(_processes_with(marker, apps_only=True)) >= 2:
                    break
                await asyncio.sleep(0.1)
            assert len(_processes_with(marker, apps_only=True)) >= 2, "the apps did not start"
            await asyncio.sleep(1.0)  # let them draw their first screen
            start = time.monotonic()
            server.send_signal(sig)
            while time.monotonic() - start < 15 and (server.poll() is None or _processes_with(marker)):
                await asyncio.sleep(0.05)
            elapsed = time.monotonic() - start
            for r in readers:
                r.cancel()
            return elapsed, server.poll(), _processes_with(marker)

    try:
        elapsed, code, left = asyncio.run(two_tabs_then_signal())
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for pid in _processes_with(marker):
            os.kill(pid, signal.SIGKILL)
    # gone within the 15 s the loop waits (textual-serve alone left the apps running 11-22 s); the
    # 3 s bar holds by construction (a hard exit after 2.5 s), measured 0.25-0.8 s: not asserted, since
    # tests never assert wall-clock limits on a shared machine
    assert code == 0 and left == [], f"after {elapsed:.1f} s: {left}"


# --- saves in a browser are downloads ----------------------------------------------------------


@pytest.fixture
def served(monkeypatch):
    """The app as if served: is_web, and deliveries captured instead of sent."""
    delivered: list[tuple[str, bytes]] = []

    def deliver_text(self, file, *, save_filename=None, **kw):
        delivered.append((save_filename, file.read().encode()))
        return "key"

    def deliver_binary(self, file, *, save_filename=None, **kw):
        delivered.append((save_filename, file.read()))
        return "key"

    monkeypatch.setattr(TrainerApp, "is_web", property(lambda self: True))
    monkeypatch.setattr(TrainerApp, "deliver_text", deliver_text)
    monkeypatch.setattr(TrainerApp, "deliver_binary", deliver_binary)
    return delivered


async def test_saves_in_a_browser_are_delivered_as_downloads(served, tmp_path):
    app = TrainerApp(output_dir=tmp_path / "server-side")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("s", "s", "ctrl+s")
        await files_written(app, pilot)
        assert "to your browser" in str(app.query_one(Narration).render())
        await pilot.press("e")
        await files_written(app, pilot)
        await pilot.press("c")
        await files_written(app, pilot)
        assert "to your browser" in str(app.query_one(Narration).render())
    names = [name for name, _ in served]
    assert names == [
        "tui-trainer-step-00002.svg",
        "tui-trainer-step-00002.json",
        "tui-trainer-step-00002.csv",
        "tui-trainer-step-00002.npz",
    ]
    files = dict(served)
    assert files["tui-trainer-step-00002.svg"].startswith(b"<svg")
    assert [r["step"] for r in json.loads(files["tui-trainer-step-00002.json"])["steps"]] == [0, 1, 2]
    assert files["tui-trainer-step-00002.csv"].startswith(b"step,loss")
    with zipfile.ZipFile(io.BytesIO(files["tui-trainer-step-00002.npz"])) as z:
        assert "params.npy" in z.namelist()
    with np.load(io.BytesIO(files["tui-trainer-step-00002.npz"])) as npz:
        assert np.array_equal(npz["params"], app.session.model.params)
    assert not (tmp_path / "server-side").exists()  # nothing left on the server
