"""``tui-trainer serve``: the app in a web browser, one app per tab (textual-serve).

textual-serve alone stops accepting connections on SIGTERM but keeps serving open tabs (and their
apps) until each tab disconnects, 10-30 s later. Here a signal ends every tab's connection at once,
so its app is told to quit and the server exits within a few seconds; a watchdog ends the process
if anything still hangs after ``SHUTDOWN_GRACE`` seconds (the apps then see their input close and
exit too).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
from pathlib import Path

from aiohttp import web
from aiohttp.web_runner import GracefulExit
from textual_serve.server import Server

#: seconds between SIGTERM/SIGINT and the hard exit, if the clean shutdown has not finished by then
SHUTDOWN_GRACE = 2.5


def _descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, its children's children too (Linux /proc; [] elsewhere)."""
    parents: dict[int, int] = {}
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return []
    for e in entries:
        try:
            stat = Path(f"/proc/{e}/stat").read_text()
        except OSError:
            continue
        parents[int(e)] = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parents.items() if pp == p]
        found += kids
        todo += kids
    return found


def bind_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on ``host``:``port`` (an unknown host, a port in use or
    not allowed), or None: tried before the banner, as the server will (SO_REUSEADDR, every
    address the host resolves to), so that an error is the first thing printed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as e:
        return f"unknown host {host!r} ({getattr(e, 'strerror', None) or e})"
    for family, kind, proto, _, address in infos:
        try:
            with socket.socket(family, kind, proto) as s:
                if os.name == "posix":
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(address)
        except OSError as e:
            return e.strerror or str(e)
    return None


class TrainerServer(Server):
    """textual-serve's ``Server`` with a prompt, clean shutdown."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: the connection handlers of the open tabs
        self._tabs: set[asyncio.Task] = set()
        self._exiting = False

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        task = asyncio.current_task()
        if task is not None:
            self._tabs.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self._tabs.discard(task)

    def request_exit(self) -> None:
        """SIGTERM / SIGINT: end every tab (its app is told to quit), then stop the server."""
        if not self._exiting:
            self._exiting = True
            # the apps (and the shells that start them), noted now: an app still starting may lose
            # its shell when its tab is cancelled, and would run on, orphaned, without this
            self._children = _descendants(os.getpid())
            for task in list(self._tabs):
                task.cancel()
            watchdog = threading.Timer(SHUTDOWN_GRACE, self._hard_exit)
            watchdog.daemon = True
            watchdog.start()
        raise GracefulExit()

    def end_apps(self) -> None:
        """Terminate the apps noted at the signal that are still running (after the clean path)."""
        for pid in getattr(self, "_children", []):
            try:
                if b"tui_trainer" in Path(f"/proc/{pid}/cmdline").read_bytes():  # still ours
                    os.kill(pid, signal.SIGTERM)
            except OSError:
                pass

    def _hard_exit(self) -> None:
        self.end_apps()
        os._exit(0)
