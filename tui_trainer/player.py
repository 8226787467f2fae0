"""The key-script player (``--keys``, ``--exit-after``): beats played as if typed.

Each beat goes through the bindings of the screen on top, as a typed key would (a dialog's own
keys first; a key whose action may not run now says why). A run started by a beat is waited
for before the next beat; ``pause:S`` sleeps; ``wait`` holds the script until the presenter
presses a "next" key (space, →, PageDown or Enter), which then does nothing else.
"""

from __future__ import annotations

import asyncio

from textual.app import App

from .keymap import KEY_ACTIONS
from .keys import Beat, Pause, Wait


class ScriptPlayer:
    """Plays ``script`` on ``app`` once the screen is first painted."""

    def __init__(self, app: App, script: list[Beat], key_delay: float = 0.0, exit_after: bool = False) -> None:
        self.app = app
        self.script = script
        self.key_delay = key_delay
        self.exit_after = exit_after
        #: True while the script is playing
        self.playing = False
        #: set while the script waits for the presenter (a ``wait`` token)
        self._wait: asyncio.Event | None = None

    @property
    def waiting(self) -> bool:
        """The script waits for the presenter (the status line says so)."""
        return self._wait is not None

    def start(self) -> None:
        """Play the script, if there is one (or just exit after the start with ``exit_after``)."""
        if self.script or self.exit_after:
            self.playing = True
            self.app.run_worker(self._play(), name="_play_script", group="script", exclusive=True)

    def release_wait(self) -> bool:
        """If the script waits for the presenter, let it go on (and do nothing else): True then."""
        if self._wait is None or self._wait.is_set():
            return False
        self._wait.set()
        return True

    async def _play(self) -> None:
        """Play each beat of the script in turn, as if typed; wait for a run (r) to finish
        before the next beat (a play, space, lasts until the script pauses it)."""
        app = self.app
        try:
            await app.painted()  # the first paint: a script's ctrl+s captures the whole screen
            await app.session_there()  # (an app that paints first builds its session after that paint)
            for beat in self.script:
                await app.runs.wait()
                if isinstance(beat, Pause):
                    await asyncio.sleep(beat.seconds)
                    continue
                if isinstance(beat, Wait):
                    self._wait = asyncio.Event()
                    app.refresh_panes()  # the status line says the script waits
                    await self._wait.wait()
                    self._wait = None
                    app.refresh_panes()
                    continue
                if self.key_delay:  # once per beat: a count and its r are one beat
                    await asyncio.sleep(self.key_delay)
                for key in beat:
                    if await self.press(key):  # it quit the app: the script ends here
                        return
            if self.exit_after:
                await app.files.written(screenshots=True)
                if app.running and app.runs.playing:
                    app.runs.stop()
                await app.runs.wait(plays_too=True)
                await app.runs.thread_returned()
                if self.key_delay:
                    await asyncio.sleep(self.key_delay)
                app.exit(0)
        finally:
            self.playing = False

    async def press(self, key: str) -> bool:
        """One key (a Textual key name) as if typed, through the bindings of the screen on top
        (a dialog's own keys first); a key whose action may not run now says why, as typed.
        True if the key quit the app (q on a dialog closes the dialog instead)."""
        app = self.app
        active = app.screen.active_bindings.get(key)
        if active is None:
            return False
        if not active.enabled:
            app.explain_refusal(KEY_ACTIONS.get(key, ""))
            return False
        await app.run_action(active.binding.action, active.node)
        if app.return_code is not None:  # the app is closing
            return True
        # a key that changes the screen shows it before the next one: ctrl+s captures what is seen
        await app.painted()
        return False
