"""The placeholders that compare: one sentence as words, characters and BPE pieces (``core.tokens``),
and the MLP against the GPT on the same text (``core.race``). Both take some computing (BPE learns
its merges from the text; the race trains two models), so each is computed when a caption first
asks for it, and kept for the session: a scene's caption is filled again at every frame.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from core import Session
from core.race import Race, race
from core.tokens import Tokenizer, shown
from core.vocab import LESSON_TEXT, split_sentences

#: the merges ``tok_bpe_early`` applies: enough to join a few pairs, too few to join whole words
EARLY_MERGES = 10
#: Every comparing placeholder, with what it shows (README, errors).
NAMES: dict[str, str] = {
    "tok_sentence": "the selected position's sentence, as words",
    "tok_words": "its length in word tokens",
    "tok_chars": "its length in character tokens (the spaces too)",
    "tok_char_pieces": "its characters, a space drawn ▁",
    "tok_bpe": "its BPE pieces, the merges learned from the whole text (as --tokens bpe)",
    "tok_bpe_count": "its length in BPE pieces",
    "tok_bpe_merges": "the merges BPE learned from the text",
    "tok_bpe_early": f"its BPE pieces after the first {EARLY_MERGES} merges only (words half cut)",
    "tok_bpe_early_count": "their count",
    "race_steps": "the race's steps: the run's step now (both models trained that long, from the run's settings)",
    "race_mlp": "the MLP's mean loss after the race",
    "race_gpt": "the GPT's mean loss after the race",
    "race_mlp_here": "the MLP's loss at the selected position after the race",
    "race_gpt_here": "the GPT's loss at the selected position after the race",
    "race_mlp_window": "the tokens of context the MLP reads in the race",
    "race_gpt_window": "the tokens of context the GPT reads in the race (its block)",
    "race_ahead": "which model's mean loss is lower after the race: the GPT, the MLP (or neither)",
}

#: what was computed for each session: ("race", steps) -> Race, ("bpe",) -> Tokenizer
_CACHE: weakref.WeakKeyDictionary[Session, dict[tuple, object]] = weakref.WeakKeyDictionary()


def _cached(s: Session, key: tuple, make: Callable[[], object]) -> object:
    store = _CACHE.setdefault(s, {})
    if key not in store:
        store[key] = make()
    return store[key]


def lazy_values(session: Session, position: int) -> dict[str, Callable[[], str | None]]:
    """Each comparing placeholder as a function giving its text (None: no such number yet)."""
    s = session
    out: dict[str, Callable[[], str | None]] = {}
    for name in NAMES:
        if name.startswith("tok_"):
            out[name] = lambda name=name: _tokens(s, position)[name]
        else:
            out[name] = lambda name=name: _race(s, position).get(name)
    return out


def _tokens(s: Session, position: int) -> dict[str, str]:
    d = s.data
    ids = d.sentences[int(d.sentence_of[position])]
    words = d.tokenizer.join(d.vocab.decode(ids)).split()
    bpe = d.tokenizer if d.tokenizer.kind == "bpe" else _cached(s, ("bpe",), lambda: _learn_bpe(s))
    assert isinstance(bpe, Tokenizer)
    chars = Tokenizer("char").split(words)
    pieces = bpe.split(words)
    early = bpe.split(words, merges=EARLY_MERGES)
    return {
        "tok_sentence": " ".join(words),
        "tok_words": str(len(words)),
        "tok_chars": str(len(chars)),
        "tok_char_pieces": " ".join(shown(c) for c in chars),
        "tok_bpe": " ".join(shown(p) for p in pieces),
        "tok_bpe_count": str(len(pieces)),
        "tok_bpe_merges": str(len(bpe.merges)),
        "tok_bpe_early": " ".join(shown(p) for p in early),
        "tok_bpe_early_count": str(len(early)),
    }


def _learn_bpe(s: Session) -> Tokenizer:
    """BPE as ``--tokens bpe`` learns it from this run's text (its default number of merges; a run
    on BPE pieces shows its own)."""
    sentences = split_sentences(s.config.text if s.config.text is not None else LESSON_TEXT)
    return Tokenizer.learn("bpe", sentences)


def _race(s: Session, position: int) -> dict[str, str]:
    if s.step == 0:
        return {}
    r: Race = _cached(s, ("race", s.step), lambda: race(s.config, s.step))  # type: ignore[assignment]
    mlp, gpt = r.of("mlp"), r.of("gpt")
    out = {
        "race_steps": str(r.steps),
        "race_mlp": f"{mlp.mean_loss:.4f}",
        "race_gpt": f"{gpt.mean_loss:.4f}",
        "race_mlp_window": str(mlp.context),
        "race_gpt_window": str(gpt.context),
    }
    gap = round(mlp.mean_loss, 4) - round(gpt.mean_loss, 4)  # compared as shown
    out["race_ahead"] = "the GPT" if gap > 0 else "the MLP" if gap < 0 else "neither"
    if s.full_batch and position < len(gpt.losses) and len(mlp.losses) == len(gpt.losses):
        out["race_mlp_here"] = f"{mlp.losses[position]:.4f}"
        out["race_gpt_here"] = f"{gpt.losses[position]:.4f}"
    return out
