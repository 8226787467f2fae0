"""Reading user-supplied files and values, with one-line errors.

Kept free of Textual so the headless command starts fast.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # (core, and NumPy, load where they are used: the app parses its options before them)
    from core.config import SessionConfig
    from core.data import Dataset

#: Largest model accepted, in parameters (with gradients, optimizer state and undo, about
#: 40 bytes each in float64): beyond it a step takes seconds and memory runs out. (The same
#: limit as a checkpoint's.)
MAX_PARAMETERS = 20_000_000  # (core.checkpoint_read's: a test keeps them equal; core loads later)
#: Texts longer than this (in characters, about 0.3 s of tokenizing each) get a progress line on stderr.
PROGRESS_CHARS = 1_000_000


#: What ``core.files.NotRegularFileError.kind`` means, after "... is".
KIND_NAMES = {
    "directory": "a directory",
    "fifo": "a FIFO (a named pipe), not a regular file",
    "character_device": "a device, not a regular file",
    "block_device": "a device, not a regular file",
    "socket": "a socket, not a regular file",
    "other": "not a regular file",
}


class InputError(argparse.ArgumentTypeError, ValueError):
    """A bad argument or file; the message is one line, fit for stderr.

    (An ``ArgumentTypeError`` so that argparse shows our message, not a generic one.)"""


def read_text_file(path: str | os.PathLike, what: str = "corpus") -> str:
    """The UTF-8 text of ``path``, or ``InputError`` saying exactly what is wrong with it (a missing
    file or a directory before core loads: the app checks them before it starts).

    Only a regular file is opened (a FIFO would wait for a writer forever), and never more than
    ``MAX_TEXT_CHARS`` bytes of it are read."""
    p = Path(path)
    if not str(path):
        raise InputError(f"the {what} file name is empty")
    if not p.exists():
        raise InputError(f"{what} file {str(p)!r} does not exist")
    if p.is_dir():
        raise InputError(f"{what} file {str(p)!r} is a directory")
    from core.data import MAX_TEXT_CHARS
    from core.files import FileTooLargeError, NotRegularFileError, read_regular

    try:
        raw = read_regular(p, MAX_TEXT_CHARS)
    except NotRegularFileError as e:
        raise InputError(f"{what} file {str(p)!r} is {KIND_NAMES.get(e.kind, KIND_NAMES['other'])}") from None
    except FileTooLargeError as e:
        size = "larger than that" if e.size is None else f"{e.size / 1e6:.1f} MB"
        raise InputError(f"{what} file {str(p)!r} is {size}; the limit is {MAX_TEXT_CHARS / 1e6:.0f} MB") from None
    except PermissionError:
        raise InputError(f"{what} file {str(p)!r} cannot be read (permission denied)") from None
    except OSError as e:
        raise InputError(f"{what} file {str(p)!r} cannot be read ({e.strerror or e})") from None
    if not raw.strip():
        raise InputError(f"{what} file {str(p)!r} is empty")
    if b"\x00" in raw[:65536]:
        raise InputError(f"{what} file {str(p)!r} looks binary (it contains NUL bytes); give a text file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{what} file {str(p)!r} is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})"
        ) from None


def parse_vocab(spec: str) -> list[str]:
    """Words of a vocabulary given inline ("<BOS> we love ...") or as @FILE (one or more per line)."""
    if spec.startswith("@"):
        spec = read_text_file(spec[1:], what="vocabulary")
    words = spec.split()
    if not words:
        raise InputError("the vocabulary is empty")
    return words


def bounded_float(text: str, what: str, low: float, high: float, low_open: bool = False, unit: str = "") -> float:
    """``text`` as a finite number in [low, high] (``low_open``: above low), or ``InputError``
    naming ``what`` and the range, e.g. "the temperature must be greater than 0 and at most 100"."""
    try:
        x = float(text)
    except ValueError:
        raise InputError(f"expected a number{' of ' + unit if unit else ''}, got {text!r}") from None
    if not (math.isfinite(x) and (x > low if low_open else x >= low) and x <= high):
        unit = f" {unit}" if unit else ""
        if low_open:
            raise InputError(f"the {what} must be greater than {low:g} and at most {high:g}{unit}, not {text}")
        raise InputError(f"the {what} must be between {low:g} and {high:g}{unit}, not {text}")
    return x


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise InputError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise InputError(f"expected a number of at least 1, got {v}")
    return v


def non_negative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise InputError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise InputError(f"expected 0 or more, got {v}")
    return v


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise InputError(f"expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise InputError(f"expected a finite number, got {text}")
    if v <= 0:
        raise InputError(f"expected a number greater than 0, got {text}")
    return v


def load_dataset(
    text: str | None,
    vocab: tuple[str, ...] | None,
    context: int,
    add_eos: bool,
    unk: bool,
    err: TextIO | None = None,
    tokens: str = "word",
):
    """Tokenize ``text`` into a dataset; for a large text, say so on stderr first (before the app
    starts, so the terminal is never silent for more than a moment) and how long it took."""
    big = text is not None and len(text) > PROGRESS_CHARS
    err = err or sys.stderr
    if big:
        print(f"tui-trainer: reading {len(text) / 1e6:.1f} MB of text…", file=err, flush=True)
    from core.data import dataset_from_text

    t0 = time.perf_counter()
    data: Dataset = dataset_from_text(text, list(vocab) if vocab else None, context, add_eos, unk, tokens=tokens)
    if big:
        print(
            f"tui-trainer: {data.n_positions:,} positions, vocabulary {len(data.vocab):,} "
            f"({time.perf_counter() - t0:.1f} s)",
            file=err,
            flush=True,
        )
    return data


def check_model_size(config: SessionConfig, vocab_size: int, context: int) -> int:
    """The parameter count of the model ``config`` describes, or ``InputError`` if it is beyond
    ``MAX_PARAMETERS`` (checked before anything is allocated)."""
    from core.models import MODELS

    shapes = MODELS[config.model].shapes_for(config, vocab_size, context)
    n = sum(math.prod(sh) for sh in shapes.values())
    if n > MAX_PARAMETERS:
        sizes = ", ".join(f"{name} {'×'.join(map(str, sh))}" for name, sh in shapes.items() if math.prod(sh) * 10 >= n)
        raise InputError(
            f"the model would have {n:,} parameters (vocabulary {vocab_size:,}, context {context}; {sizes}); "
            f"the limit is {MAX_PARAMETERS:,}: use a smaller model (--embed, --hidden, --context) or vocabulary"
        )
    return n


def check_sizes_early(args: argparse.Namespace, vocab: tuple[str, ...] | None) -> None:
    """``check_model_size`` with the fewest words the vocabulary can have, before the text is
    tokenized: the data holds --context ids per position, so a context of 50,000,000 would take
    gigabytes before the model's size was checked (and 10**26 would overflow)."""
    from core.config import SessionConfig

    sizes = {"context": args.context, "embed_dim": args.embed, "hidden1": args.hidden}
    sizes["hidden2"] = args.hidden2
    config = SessionConfig(model=args.model, layers=args.layers, heads=args.heads, **sizes)
    check_model_size(config, len(vocab) if vocab else 3, config.context)  # (<BOS>, <EOS> and a word)


def parse_fork(text: str) -> tuple[str | None, float | None, str | None]:
    """What the F form holds, as (optimizer, learning rate, model): an optimizer and/or a rate
    ('adam 0.01', 'momentum', '0.3'), or a model to fork from the start ('model gpt', 'model mlp').
    Raises ``InputError`` saying what is wrong; whether the session can fork it is its own check."""
    words = text.lower().split()
    if words and words[0] == "model":
        if len(words) != 2:
            raise InputError(
                "type model gpt or model mlp, alone (the optimizer and rate are the start's: F again on its branch)"
            )
        return None, None, words[1]
    if not words or len(words) > 2:
        raise InputError("type an optimizer, a learning rate, or both; or model gpt / model mlp")
    optimizer, lr = None, None
    for w in words:
        try:
            lr = float(w)
        except ValueError:
            optimizer = w
    return optimizer, lr, None
