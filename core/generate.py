"""Text from the model: sample one word at a time, each fed back as context.

At each word the model's logits go through a softmax at temperature T:
P_T(w) = exp(logit_w / T) / sum exp(logit / T). T = 1 is the model's own
distribution; T < 1 sharpens it (T -> 0 is always the most likely word), T > 1
flattens it. ``top_k`` keeps only the k most likely words. ``<BOS>`` is never
sampled (it is not a word the model is trained to predict); ``<EOS>`` ends the
sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .data import Dataset
from .losses import softmax
from .models import LanguageModel
from .reasons import CodedError
from .vocab import BOS, EOS, UNK, VocabError


@dataclass(frozen=True)
class Word:
    """One sampled word: its probability at the temperature used, and at T = 1."""

    word: str
    p: float
    p_at_1: float


class SamplingError(CodedError):
    """Sampling settings that cannot be used: a reason code and the value given
    (``tui_trainer.narrate_errors`` words it)."""

    CODES = {
        "bad_temperature": ("temperature",),  # not a finite number above 0 (as given: perhaps not a number)
        "bad_top_k": ("top_k",),  # below 1
        "bad_max_words": ("max_words",),  # below 1
    }


def check_sampling(temperature: float, top_k: int | None, max_words: int) -> None:
    """``SamplingError`` (a ``ValueError``) for unusable sampling settings."""
    if not (isinstance(temperature, int | float) and math.isfinite(temperature) and temperature > 0):
        raise SamplingError("bad_temperature", temperature=temperature)
    if top_k is not None and top_k < 1:
        raise SamplingError("bad_top_k", top_k=top_k)
    if max_words < 1:
        raise SamplingError("bad_max_words", max_words=max_words)


def prompt_ids(data: Dataset, prompt: str) -> list[int]:
    """The ids of ``prompt``'s words; ``VocabError`` naming any word outside the vocabulary
    (mapped to ``<UNK>`` instead when the vocabulary has it)."""
    v = data.vocab
    ids, unknown = [], []
    for w in data.tokenizer.split(prompt.split()):  # (characters or BPE pieces, as the text was cut)
        if w in v:
            ids.append(v.id(w))
        elif UNK in v:
            ids.append(v.id(UNK))
        else:
            unknown.append(w)
    if unknown:
        raise VocabError("unknown_prompt_words", words=tuple(unknown))
    return ids


def sample(
    model: LanguageModel,
    data: Dataset,
    prompt: list[int] | None = None,
    max_words: int = 20,
    temperature: float = 1.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
) -> list[Word]:
    """Up to ``max_words`` words after ``prompt`` (ids; the sentence's start if empty),
    stopping after ``<EOS>``. Deterministic for a given ``rng`` state."""
    check_sampling(temperature, top_k, max_words)
    rng = rng if rng is not None else np.random.default_rng(0)
    v = data.vocab
    bos = v.id(BOS)
    sentence = [bos, *(prompt or [])]
    out: list[Word] = []
    for _ in range(max_words):
        logits = model.next_logits(data, sentence).astype(np.float64)  # (V,): what it predicts next
        logits[bos] = -np.inf  # never a next word
        p1 = softmax(logits)
        with np.errstate(over="ignore"):
            scaled = logits / temperature
            if np.isnan(scaled).any() or np.isinf(scaled[np.isfinite(logits)]).any():
                # a temperature so small (1e-310) that logit / T overflows: the same softmax
                # shifted by the largest logit first (the limit T -> 0: the most likely word)
                scaled = (logits - logits.max()) / temperature
        pt = softmax(scaled)
        if top_k is not None and top_k < pt.shape[0]:
            cut = np.partition(pt, -top_k)[-top_k]
            pt = np.where(pt >= cut, pt, 0.0)
            pt /= pt.sum()
        j = int(rng.choice(pt.shape[0], p=pt))
        out.append(Word(v.tokens[j], float(pt[j]), float(p1[j])))
        if v.tokens[j] == EOS:
            break
        sentence.append(j)
    return out
