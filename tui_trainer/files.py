"""The file actions: ctrl+s (an SVG of the screen), e (the history as JSON and CSV), c (a
checkpoint) and C (load the newest checkpoint; z goes back to the session it replaced).

Files are written in threads (a long history takes seconds to format) under a free name in
``--output-dir``; served in a browser they go to the browser as downloads instead.
"""

from __future__ import annotations

import io
import stat
import tempfile
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import BinaryIO

from textual.app import App

from core import Session
from core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from core.files import claim_names, release, write_atomic

from . import narrate
from .export import history_csv, history_json, stem, write_history_csv, write_history_json
from .narrate_errors import say


class FileActions:
    """Writes the app's files and loads checkpoints into it."""

    def __init__(self, app: App) -> None:
        self.app = app
        #: held while a file writer picks a free name and writes it (writers run in threads)
        self._naming = threading.Lock()
        #: the steps of screenshots (ctrl+s) waiting for the screen to be refreshed
        self.svg_pending: list[int] = []
        #: the session replaced by the last checkpoint load (C), and the file's name
        self._before_load: tuple[Session, str] | None = None

    @property
    def output_dir(self) -> Path:
        return self.app.output_dir

    def _to_browser(self, files: list[tuple[str, bytes | str]]) -> None:
        """Served in a browser (tui-trainer serve): send files as downloads, not to the server's disk."""
        for name, data in files:
            if isinstance(data, str):
                self.app.deliver_text(io.StringIO(data), save_filename=name)
            else:
                self.app.deliver_binary(io.BytesIO(data), save_filename=name)
        self.app.say(f"Sent {' and '.join(name for name, _ in files)} to your browser as a download.")

    # --- ctrl+s: a screenshot ------------------------------------------------------------

    def save_svg(self) -> None:
        """ctrl+s: an SVG of the screen. The panes are refreshed from one state of the session
        first (during a run the status line and the curve otherwise refresh more often than the
        rest), then captured once the screen shows it."""
        app = self.app
        app.refresh_panes()
        step = app.shown_step
        self.svg_pending.append(step)  # (from now on, until it is taken)
        app.run_worker(self._save_svg(step), name="_save_svg", group="svg", exit_on_error=False)

    async def _save_svg(self, step: int) -> None:
        # two refreshes: what was queued before (the footer rebuilds itself after a refresh when
        # the allowed keys change) is done, and then laid out
        try:
            await self.app.painted()
            await self.app.painted()
        finally:  # (whatever happens, the live refreshes held for it go on)
            taken = step in self.svg_pending  # (not taken already by q)
            if taken:
                self.svg_pending.remove(step)
        if taken:
            self.capture_svg(step)

    def capture_svg(self, step: int) -> None:
        app = self.app
        name = f"tui-trainer-step-{step:05d}"
        if app.is_web:
            self._to_browser([(f"{name}.svg", app.export_screenshot())])
            return
        try:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            [path] = claim_names(self.output_dir, name, (".svg",))
            _write_claimed([(path, app.export_screenshot().encode("utf-8"))])
        except OSError as e:
            app.say(f"Could not save the screenshot in {self.output_dir}: {e.strerror or e}.")
            return
        app.say(f"Saved a screenshot of step {step} to {path}.")

    def capture_pending(self) -> None:
        """Take the screenshots still waiting for a refresh now (the app is quitting)."""
        while self.svg_pending:
            self.capture_svg(self.svg_pending.pop(0))

    # --- e: the history --------------------------------------------------------------------

    def export(self) -> None:
        """e: the training history as JSON and CSV, written in a thread (a long history takes
        seconds to format). Both files hold one state: the run, if any, waits while they are made."""
        if not self.app.session.history:
            self.app.say("No training steps yet, so no history to export: press s or r first.")
            return
        self.app.say("Exporting the history…")
        self.app.run_worker(self._export, name="_export", group="files", thread=True, exit_on_error=False)

    def _export(self) -> None:
        app = self.app
        s = app.session
        with s.lock:  # one consistent state for both files (a run waits while they are written)
            name, rows = stem(s), len(s.history)
            if app.is_web:
                files = [(name + ".json", history_json(s)), (name + ".csv", history_csv(s))]
                app.from_thread(self._to_browser, files)
                return
            writers = ((".json", write_history_json), (".csv", write_history_csv))
            try:
                self.output_dir.mkdir(parents=True, exist_ok=True)
                with self._naming:  # (two exports at once: each its own name; another process's too)
                    paths = claim_names(self.output_dir, name, tuple(ext for ext, _ in writers))
                # streamed into the files, a few rows at a time: a long history's text is never whole
                _write_claimed([(p, partial(write, s)) for p, (_, write) in zip(paths, writers, strict=True)])
            except OSError as e:
                app.from_thread(app.say, f"Could not export the history to {self.output_dir}: {e.strerror or e}.")
                return
        app.from_thread(app.say, f"Exported {rows} steps of history to {paths[0]} and {paths[1]}.")

    # --- c and C: checkpoints ----------------------------------------------------------------

    def save_checkpoint(self) -> None:
        """c: parameters, optimizer state, vocabulary, config, step and history (a .npz file),
        written in a thread."""
        self.app.say("Saving a checkpoint…")
        self.app.run_worker(
            self._save_checkpoint, name="_save_checkpoint", group="files", thread=True, exit_on_error=False
        )

    def _save_checkpoint(self) -> None:
        app = self.app
        s = app.session
        with s.lock:  # (c is refused during a run; the lock keeps a key pressed meanwhile out)
            step = s.step
            if app.is_web:
                with tempfile.TemporaryDirectory() as tmp:
                    path = save_checkpoint(s, Path(tmp) / f"{stem(s)}.npz")
                    data = path.read_bytes()
                app.from_thread(self._to_browser, [(path.name, data)])
                return
            try:
                self.output_dir.mkdir(parents=True, exist_ok=True)
                with self._naming:
                    [path] = claim_names(self.output_dir, stem(s), (".npz",))
                try:
                    save_checkpoint(s, path)
                except BaseException:
                    release([path])
                    raise
            except OSError as e:
                app.from_thread(app.say, f"Could not save a checkpoint in {self.output_dir}: {e.strerror or e}.")
                return
        app.from_thread(app.say, f"Saved a checkpoint of step {step} to {path}. Shift+C loads the newest one.")

    def load_checkpoint(self, path: str | None = None) -> None:
        """Load a checkpoint (default: the newest ``tui-trainer-step-*.npz`` in the screenshot
        directory). It must have this session's vocabulary; on any error the session is untouched."""
        app = self.app
        if path is None:
            found = newest_checkpoint(self.output_dir)
            if found is None:
                app.say(f"No checkpoint (tui-trainer-step-*.npz) in {self.output_dir}: press c to save one.")
                return
            path = str(found)
        try:
            session = load_checkpoint(path, undo_memory=app.session.config.undo_memory)
        except CheckpointError as e:
            app.say(f"Checkpoint not loaded: {say(e)}. The session is unchanged.")
            return
        if session.vocab.tokens != app.session.vocab.tokens:
            app.say(
                f"Checkpoint not loaded: {Path(path).name} was trained on another vocabulary "
                f"({len(session.vocab)} words, this session has {len(app.session.vocab)}). The session is unchanged."
            )
            return
        # z after the loaded session's own actions goes back to this one (kept until the next load)
        self._before_load = (app.session, Path(path).name)
        app.session = session
        app.position = 0
        app.refresh_panes()
        d = session.divergence  # (a checkpoint of NaN parameters starts diverged)
        app.say(
            f"Loaded {path}: step {session.step}, {session.optimizer.name} lr {session.lr:g}. "
            + (f"It has diverged: {narrate.cause(d)}. " if d is not None else "")
            + "Press f to look; z goes back to the session you had."
        )

    def undo_load(self) -> bool:
        """z with nothing left to undo after a load: back to the session the load replaced (True)."""
        if self._before_load is None:
            return False
        app = self.app
        old, name = self._before_load
        self._before_load = None
        app.session = old
        app.position = 0
        app.refresh_panes()
        app.say(f"Back to the session you had before loading {name}: step {old.step}, {old.optimizer.name}.")
        return True

    async def written(self, screenshots: bool = False) -> None:
        """Wait for exports and checkpoints being written (threads), and with ``screenshots``
        for screenshots waiting for a refresh (never from a message handler: they need it to
        return), so that a script ending with ctrl+s or e keeps its file."""
        groups = ("files", "svg") if screenshots else ("files",)
        writers = [w for w in self.app.workers if w.group in groups]
        if writers:  # (an empty list would wait for every worker)
            await self.app.workers.wait_for_complete(writers)


def _write_claimed(files: list[tuple[Path, bytes | Callable[[BinaryIO], None]]]) -> None:
    """Write each claimed name (``core.files.claim_names``); on a failure, release the rest."""
    try:
        for path, data in files:
            write_atomic(path, data)
    except BaseException:
        release([p for p, _ in files])
        raise


def newest_checkpoint(folder: Path) -> Path | None:
    """The newest regular ``tui-trainer-step-*.npz`` in ``folder``: a FIFO, a device or a dangling
    symlink of that name is passed over (opening a FIFO would freeze the app)."""
    found = []
    for p in folder.glob("tui-trainer-step-*.npz"):
        try:
            st = p.stat()
        except OSError:  # a dangling symlink, or gone since the listing
            continue
        if stat.S_ISREG(st.st_mode) and st.st_size > 0:  # (empty: a name claimed, still being written)
            found.append((st.st_mtime, p))
    return max(found)[1] if found else None
