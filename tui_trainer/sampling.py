"""w: what the model writes now, beside the earlier samples; t in that view: the temperature."""

from __future__ import annotations

import numpy as np
from textual.app import App

from core.generate import sample

from .screens.samples import TEMPERATURES, Sample, SamplesScreen

#: Words in a sample (w); it stops earlier at <EOS>, or (<EOS> not trained) at the longest sentence's length.
SAMPLE_WORDS = 16


def sample_limit(data) -> tuple[int, str]:
    """How many tokens a sample may have, and the note that says why (and what P means there)."""
    unit = "words" if data.tokenizer.kind == "word" else "tokens"
    renorm = f"P is renormalised over the {unit} a sample may use (never <BOS>): a little above the softmax pane's P."
    if data.add_eos:
        return SAMPLE_WORDS, f"A sample ends at <EOS> (trained) or after {SAMPLE_WORDS} {unit}. {renorm}"
    longest = max((len(ids) for ids in data.sentences), default=SAMPLE_WORDS) or SAMPLE_WORDS
    # a real text's longest sentence runs past the limit: then the limit is what stops a sample
    why = (
        "the longest training sentence"
        if longest <= SAMPLE_WORDS
        else f"the view's limit (the longest training sentence has {longest:,})"
    )
    return min(SAMPLE_WORDS, longest), (
        f"<EOS> is not trained here (--eos trains where a sentence ends): a sample stops at "
        f"{min(SAMPLE_WORDS, longest)} {unit}, {why}. {renorm}"
    )


class Sampler:
    """The samples written so far (oldest first) and the temperature of the next one."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.samples: list[Sample] = []
        self.temperature = 1.0
        self.note = ""

    def sample(self) -> None:
        """Sample a sentence from the model as it is now and show it beside the earlier ones."""
        s = self.app.session
        with s.lock:
            # deterministic: the same seed, step and number of samples give the same words
            rng = np.random.default_rng((s.config.seed, s.step, len(self.samples)))
            limit, self.note = sample_limit(s.data)
            words = sample(s.model, s.data, [], limit, self.temperature, None, rng)
            self.samples.append(Sample(s.step, self.temperature, tuple(words)))
        self._show()

    def next_temperature(self) -> None:
        self.temperature = TEMPERATURES[(TEMPERATURES.index(self.temperature) + 1) % len(TEMPERATURES)]
        self._show()

    def _show(self) -> None:
        screen = self.app.screen
        if isinstance(screen, SamplesScreen):
            screen.show(self.samples, self.temperature, self.note)
        else:
            self.app.push_screen(
                SamplesScreen(self.samples, self.temperature, self.sample, self.next_temperature, self.note)
            )
