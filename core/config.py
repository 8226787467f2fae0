"""What defines a run (``SessionConfig``) and which learning rates are usable."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .models import MODELS
from .optim import OPTIMIZERS
from .reasons import CodedError
from .tokens import parse_spec

REDUCTIONS = ("mean", "sum")
#: Largest learning rate accepted (anything above only makes NaNs faster).
MAX_LR = 1e3
#: Smallest learning rate accepted: below it an update changes no float64 parameter near 1.
MIN_LR = 1e-12
#: From this many words on, ``auto_dtype`` picks float32: the N x V softmax is then most of a
#: step, and float32 halves its memory traffic (bench/README.md, the corpus figures).
FLOAT32_VOCAB = 2_000
#: The largest share of the sentences a run may hold out for its validation loss.
MAX_VAL_FRACTION = 0.5


class ConfigError(CodedError):
    """A setting ``SessionConfig.validate`` or ``check_lr`` refuses: a reason code and the value given
    (with the choices or the limit it missed), worded by ``tui_trainer.narrate_errors``."""

    CODES = {
        "unknown_model": ("model", "choices"),
        "not_positive_integer": ("name", "value"),  # name: "layers" or "heads"
        "heads_split": ("embed_dim", "heads"),  # the GPT's embedding is not divisible by its heads
        "unknown_optimizer": ("optimizer", "choices"),
        # the learning rate as given, for each of ``lr_problem``'s codes
        "lr_not_a_number": ("lr",),
        "lr_not_finite": ("lr",),
        "lr_not_positive": ("lr",),
        "lr_too_large": ("lr", "limit"),
        "lr_too_small": ("lr", "limit"),
        "bad_clip": ("clip",),  # not a finite number above 0
        "bad_batch_positions": ("batch_positions",),  # below 1
        "unknown_reduction": ("reduction", "choices"),
        "val_fraction_range": ("val_fraction", "limit"),  # not a number from 0 to the limit
        "bad_val_every": ("val_every",),  # below 1
        "bad_undo_memory": ("undo_memory",),  # below 0
    }


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
        """Raise a ``ValueError`` for a bad setting: ``ConfigError`` (a code and the value), or the
        ``TokensError`` of a bad ``tokens``."""
        parse_spec(self.tokens)
        if self.model not in MODELS:
            raise ConfigError("unknown_model", model=self.model, choices=tuple(MODELS))
        for name in ("layers", "heads"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ConfigError("not_positive_integer", name=name, value=getattr(self, name))
        if self.model == "gpt" and self.embed_dim % self.heads:
            raise ConfigError("heads_split", embed_dim=self.embed_dim, heads=self.heads)
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError("unknown_optimizer", optimizer=self.optimizer, choices=tuple(OPTIMIZERS))
        if self.lr is not None:
            check_lr(self.lr)
        if self.clip is not None and not (math.isfinite(self.clip) and self.clip > 0):
            raise ConfigError("bad_clip", clip=self.clip)
        if self.batch_positions < 1:
            raise ConfigError("bad_batch_positions", batch_positions=self.batch_positions)
        if self.reduction not in REDUCTIONS:
            raise ConfigError("unknown_reduction", reduction=self.reduction, choices=REDUCTIONS)
        if not (isinstance(self.val_fraction, int | float) and 0 <= self.val_fraction <= MAX_VAL_FRACTION):
            raise ConfigError("val_fraction_range", val_fraction=self.val_fraction, limit=MAX_VAL_FRACTION)
        if self.val_every < 1:
            raise ConfigError("bad_val_every", val_every=self.val_every)
        if self.undo_memory < 0:
            raise ConfigError("bad_undo_memory", undo_memory=self.undo_memory)


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
    """``lr`` as a float, or ``ConfigError`` (a ``ValueError``: ``lr_`` and ``lr_problem``'s code,
    with the rate as given) if it is not usable."""
    why = lr_problem(lr)
    if why == "not_a_number":
        raise ConfigError("lr_not_a_number", lr=lr)
    if why == "not_finite":
        raise ConfigError("lr_not_finite", lr=lr)
    if why == "not_positive":
        raise ConfigError("lr_not_positive", lr=lr)
    if why == "too_large":
        raise ConfigError("lr_too_large", lr=lr, limit=MAX_LR)
    if why == "too_small":
        raise ConfigError("lr_too_small", lr=lr, limit=MIN_LR)
    return float(lr)
