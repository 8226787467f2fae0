"""w: what the model writes now, beside the earlier samples; t in that view: the temperature."""

from __future__ import annotations

import numpy as np
from textual.app import App

from core.generate import sample

from .screens.samples import TEMPERATURES, Sample, SamplesScreen

#: Words in a sample (w); it stops earlier at <EOS>.
SAMPLE_WORDS = 16


class Sampler:
    """The samples written so far (oldest first) and the temperature of the next one."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.samples: list[Sample] = []
        self.temperature = 1.0

    def sample(self) -> None:
        """Sample a sentence from the model as it is now and show it beside the earlier ones."""
        s = self.app.session
        with s.lock:
            # deterministic: the same seed, step and number of samples give the same words
            rng = np.random.default_rng((s.config.seed, s.step, len(self.samples)))
            words = sample(s.model, s.data, [], SAMPLE_WORDS, self.temperature, None, rng)
            self.samples.append(Sample(s.step, self.temperature, tuple(words)))
        self._show()

    def next_temperature(self) -> None:
        self.temperature = TEMPERATURES[(TEMPERATURES.index(self.temperature) + 1) % len(TEMPERATURES)]
        self._show()

    def _show(self) -> None:
        screen = self.app.screen
        if isinstance(screen, SamplesScreen):
            screen.show(self.samples, self.temperature)
        else:
            self.app.push_screen(SamplesScreen(self.samples, self.temperature, self.sample, self.next_temperature))
