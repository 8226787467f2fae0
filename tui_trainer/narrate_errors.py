"""The sentence for an error core raises as a reason code and data (``core.reasons.CodedError``:
a run's settings, a model's sizes, a tokens spec, sampling settings, a text or vocabulary; a
condition, ``BreakpointError``, through ``narrate_breakpoints``; a checkpoint, ``CheckpointError``,
through ``narrate_checkpoint``): the one place that words them, wherever the command line, the app
or a lesson file shows one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.breakpoints import BreakpointError
from core.checkpoint_read import CheckpointError
from core.config import ConfigError
from core.generate import SamplingError
from core.models import ModelConfigError
from core.reasons import CodedError
from core.tokens import TokensError
from core.vocab import VocabError

from .narrate_breakpoints import breakpoint_error
from .narrate_checkpoint import checkpoint_error

_Says = dict[str, Callable[[Any], str]]

_CONFIG: _Says = {
    "unknown_model": lambda e: f"unknown model {e.model!r} (choose from {', '.join(e.choices)})",
    "not_positive_integer": lambda e: f"{e.name} must be a positive integer, not {e.value!r}",
    "heads_split": lambda e: f"the embedding size {e.embed_dim} is not divisible by {e.heads} heads",
    "unknown_optimizer": lambda e: f"unknown optimizer {e.optimizer!r} (choose from {', '.join(e.choices)})",
    "lr_not_a_number": lambda e: f"the learning rate must be a number, not {e.lr!r}",
    "lr_not_finite": lambda e: f"the learning rate must be finite, not {e.lr}",
    "lr_not_positive": lambda e: f"the learning rate must be greater than 0, not {float(e.lr):g}",
    "lr_too_large": lambda e: f"the learning rate {float(e.lr):g} is absurdly large (the limit is {e.limit:g})",
    "lr_too_small": lambda e: (
        f"the learning rate {float(e.lr):g} is too small to change anything (the limit is {e.limit:g})"
    ),
    "bad_clip": lambda e: f"the clipping norm must be a positive number, not {e.clip}",
    "bad_batch_positions": lambda e: "batch_positions must be at least 1",
    "unknown_reduction": lambda e: f"unknown reduction {e.reduction!r} (choose from {', '.join(e.choices)})",
    "val_fraction_range": lambda e: f"the validation fraction must be between 0 and {e.limit}, not {e.val_fraction}",
    "bad_val_every": lambda e: "val_every must be at least 1",
    "bad_undo_memory": lambda e: "undo_memory must be 0 or more",
}

_MODEL: _Says = {  # (a model's own check of its sizes: a checkpoint's reach it)
    "not_positive_integer": _CONFIG["not_positive_integer"],
    "heads_split": _CONFIG["heads_split"],
    "bad_dtype": lambda e: f"dtype must be {' or '.join(e.choices)}, not {e.dtype!r}",
}

_TOKENS: _Says = {
    "unknown_spec": lambda e: f"unknown tokens {e.spec!r}: word, char, bpe or bpe:N (N merges)",
    "takes_no_number": lambda e: f"{e.kind} takes no number: only bpe:N does",
    "merges_range": lambda e: f"bpe:{e.number}: the number of merges must be 0 to {e.limit:,}",
    "unknown_kind": lambda e: f"unknown tokens {e.kind!r}: word, char or bpe",
}

_SAMPLING: _Says = {
    "bad_temperature": lambda e: f"the temperature must be a number greater than 0, not {e.temperature}",
    "bad_top_k": lambda e: f"top-k must be at least 1, not {e.top_k}",
    "bad_max_words": lambda e: f"max-words must be at least 1, not {e.max_words}",
}


def _not_in_vocab(e: VocabError) -> str:
    """'2 word(s) not in the vocabulary: 'b' (sentence 1 word 2, ...); 'c' (sentence 2 word 1) (add ...)'."""
    parts = [
        f"{w!r} ({', '.join(f'sentence {s} word {i}' for s, i in places)}{', ...' if n > 3 else ''})"
        for w, places, n in e.words
    ]
    more = f" and {e.count - 5} more" if e.count > 5 else ""
    return (
        f"{e.count} word(s) not in the vocabulary: {'; '.join(parts)}{more}"
        " (add them to the vocabulary, or map them to <UNK>)"
    )


def _unknown_prompt_words(e: VocabError) -> str:
    shown = ", ".join(repr(w) for w in e.words[:5]) + (" ..." if len(e.words) > 5 else "")
    return f"the prompt has words the model does not know: {shown}"


_VOCAB: _Says = {
    "empty_vocab": lambda e: "the vocabulary is empty",
    "listed_twice": lambda e: f"the vocabulary lists {e.token!r} twice",
    "missing_bos": lambda e: f"the vocabulary must contain {e.token}",
    "not_in_vocab": _not_in_vocab,
    "context_too_small": lambda e: "the context size must be at least 1",
    "eos_missing": lambda e: f"--eos needs {e.token} in the vocabulary",
    "nothing_to_predict": lambda e: "the text has no words to predict",
    "text_too_long": lambda e: f"the text has {e.chars:,} characters; the limit is {e.limit:,}",
    "no_words": lambda e: "the text has no words",
    "only_punctuation": lambda e: "the text has no words, only punctuation",
    "vocab_too_large": lambda e: f"the vocabulary has {e.size:,} words; the limit is {e.limit:,}",
    "unknown_prompt_words": _unknown_prompt_words,
}

#: each coded error class's sentences, by code
SAYS: dict[type[CodedError], _Says] = {
    ConfigError: _CONFIG,
    ModelConfigError: _MODEL,
    TokensError: _TOKENS,
    SamplingError: _SAMPLING,
    VocabError: _VOCAB,
}


def say(e: BaseException) -> str:
    """The sentence a user sees for ``e``: a coded error worded (a checkpoint's with the errors it
    holds worded too), any other error as its own message."""
    if isinstance(e, BreakpointError):
        return breakpoint_error(e)
    if isinstance(e, CheckpointError):
        return checkpoint_error(e, say)
    if isinstance(e, CodedError):
        for cls in type(e).__mro__:
            words = SAYS.get(cls, {}).get(e.code)
            if words is not None:
                return words(e)
        return str(e)  # (a code not worded yet: technical, but it names the reason)
    return str(e)
