"""What defines a run (``SessionConfig``) and which learning rates are usable."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .models import MODELS
from .optim import OPTIMIZERS
from .tokens import parse_spec

REDUCTIONS = ("mean", "sum")
#: Largest learning rate accepted (anything above only makes NaNs faster).
MAX_LR = 1e3
#: Smallest learning rate accepted: below it an update changes no float64 parameter near 1.
MIN_LR = 1e-12
#: From this many words on, ``auto_dtype`` picks float32: the N x V softmax is then most of a
#: step, and float32 halves its memory traffic (bench/README.md, the corpus figures).
FLOAT32_VOCAB = 2_000


class ModelDefault(int):
    """A size the config took from its model's defaults rather than from its caller: an int that
    remembers it, so ``replace(config, model="gpt")`` takes the GPT's default and not the MLP's."""


#: sizes whose default depends on the model (``LanguageModel.defaults``), and the default of any
#: model without its own (the lesson's MLP: 4 tokens of context, embeddings of 8)
MODEL_SIZES = {"context": 4, "embed_dim": 8}
#: The MLP's hidden width when none is given: the lesson's 16, and ``WIDE_HIDDEN`` from a
#: vocabulary of ``WIDE_VOCAB`` tokens on, where 16 units in front of the V-way output make it a
#: bottleneck (on 300 KB of text cut into 532 BPE pieces, 200 SGD steps lower the mean loss
#: 14% at 16 and 18-20% at 64, over seeds 0-3: bench/bench_tokens.py)
LESSON_HIDDEN = 16
WIDE_HIDDEN = 64
WIDE_VOCAB = 256


def auto_dtype(vocab_size: int) -> str:
    """The dtype ``--dtype auto`` means: float64 (the lesson's exact numbers) for small
    vocabularies, float32 from ``FLOAT32_VOCAB`` words on."""
    return "float32" if vocab_size >= FLOAT32_VOCAB else "float64"


@dataclass(frozen=True)
class SessionConfig:
    """Everything that defines a run: data, model sizes, optimizer, seed.

    ``lr=None`` takes the optimizer's default. ``batch_positions`` caps the
    positions per step: a text with more positions trains on a fresh random
    sample of them each step (a pure function of ``seed`` and the step).
    ``undo_memory`` is the bytes the timeline may keep in checkpoints (0: only
    the initial state; going back then recomputes from it, still exactly).
    """

    text: str | None = None
    vocab: tuple[str, ...] | None = None
    add_eos: bool = False
    unk: bool = False
    #: what a token is (``core.tokens``): "word" (the lesson's), "char", or "bpe:N" (N merges
    #: learned from the text; "bpe" alone: a number that suits the text's size)
    tokens: str = "word"
    #: the model's kind (``core.models.MODELS``): "mlp", the lesson's
    model: str = "mlp"
    #: tokens of context (the GPT's block); None: the model's default (MLP 4, GPT 16)
    context: int | None = None
    #: embedding size; None: the model's default (MLP 8, GPT 16)
    embed_dim: int | None = None
    #: the MLP's hidden widths; None: its default for the vocabulary (``for_vocab``: 16, the
    #: lesson's, or 64 from ``WIDE_VOCAB`` tokens on); hidden2 None: the same as hidden1
    hidden1: int | None = None
    hidden2: int | None = None
    layers: int = 1  # the GPT's
    heads: int = 4
    dtype: str = "float64"
    optimizer: str = "sgd"
    lr: float | None = None
    clip: float | None = None
    seed: int = 0
    batch_positions: int = 512
    undo_memory: int = 64 * 2**20
    #: the objective: "mean" loss per position (what frameworks train: one learning rate fits
    #: 4 positions and 100,000), or "sum", the lesson's literal total
    reduction: str = "mean"
    #: share of the sentences held out to measure a validation loss, for texts larger than one batch
    val_fraction: float = 0.1
    #: the validation loss is measured every this many steps
    val_every: int = 10
    divergence_loss: float = 50.0  # mean loss per position that counts as diverged

    def __post_init__(self) -> None:
        # a size left unset (or set by default for another model) takes this model's default
        model = MODELS.get(self.model)
        own = model.defaults if model is not None else {}
        for name, fallback in MODEL_SIZES.items():
            v = getattr(self, name)
            if v is None or isinstance(v, ModelDefault):
                object.__setattr__(self, name, ModelDefault(own.get(name, fallback)))
        if self.hidden1 is None:
            object.__setattr__(self, "hidden1", ModelDefault(LESSON_HIDDEN))
        if self.hidden2 is None:
            object.__setattr__(self, "hidden2", ModelDefault(self.hidden1))

    def for_vocab(self, vocab_size: int) -> SessionConfig:
        """This config with the sizes that depend on the vocabulary decided: hidden widths left
        to their default become ``WIDE_HIDDEN`` from ``WIDE_VOCAB`` tokens on (given ones stay; a
        hidden2 left unset follows hidden1)."""
        h1 = self.hidden1
        if isinstance(h1, ModelDefault):
            h1 = ModelDefault(WIDE_HIDDEN if vocab_size >= WIDE_VOCAB else LESSON_HIDDEN)
        h2 = ModelDefault(h1) if isinstance(self.hidden2, ModelDefault) else self.hidden2  # (follows hidden1)
        sizes = {k: v for k, v in (("hidden1", h1), ("hidden2", h2)) if v != getattr(self, k)}
        return replace(self, **sizes) if sizes else self

    def validate(self) -> None:
        """Raise ``ValueError`` with a user-facing message for a bad setting."""
        parse_spec(self.tokens)  # (a TokensError is a ValueError, with the message)
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r} (choose from {', '.join(MODELS)})")
        for name in ("layers", "heads"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, not {getattr(self, name)!r}")
        if self.model == "gpt" and self.embed_dim % self.heads:
            raise ValueError(f"the embedding size {self.embed_dim} is not divisible by {self.heads} heads")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r} (choose from {', '.join(OPTIMIZERS)})")
        if self.lr is not None:
            check_lr(self.lr)
        if self.clip is not None and not (math.isfinite(self.clip) and self.clip > 0):
            raise ValueError(f"the clipping norm must be a positive number, not {self.clip}")
        if self.batch_positions < 1:
            raise ValueError("batch_positions must be at least 1")
        if self.reduction not in REDUCTIONS:
            raise ValueError(f"unknown reduction {self.reduction!r} (choose from {', '.join(REDUCTIONS)})")
        if not (isinstance(self.val_fraction, int | float) and 0 <= self.val_fraction <= 0.5):
            raise ValueError(f"the validation fraction must be between 0 and 0.5, not {self.val_fraction}")
        if self.val_every < 1:
            raise ValueError("val_every must be at least 1")
        if self.undo_memory < 0:
            raise ValueError("undo_memory must be 0 or more")


def lr_problem(lr: object) -> str | None:
    """Why ``lr`` is not a usable learning rate, as a code, or None:
    ``not_a_number``, ``not_finite``, ``not_positive``, ``too_large``, ``too_small``."""
    try:
        lr = float(lr)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "not_a_number"
    if not math.isfinite(lr):
        return "not_finite"
    if lr <= 0:
        return "not_positive"
    if lr > MAX_LR:
        return "too_large"
    if lr < MIN_LR:
        return "too_small"
    return None


def check_lr(lr: float) -> float:
    """``lr`` as a float, or ``ValueError`` (for command lines) if it is not usable."""
    why = lr_problem(lr)
    if why == "not_a_number":
        raise ValueError(f"the learning rate must be a number, not {lr!r}")
    if why == "not_finite":
        raise ValueError(f"the learning rate must be finite, not {lr}")
    if why == "not_positive":
        raise ValueError(f"the learning rate must be greater than 0, not {float(lr):g}")
    if why == "too_large":
        raise ValueError(f"the learning rate {float(lr):g} is absurdly large (the limit is {MAX_LR:g})")
    if why == "too_small":
        raise ValueError(f"the learning rate {float(lr):g} is too small to change anything (the limit is {MIN_LR:g})")
    return float(lr)
