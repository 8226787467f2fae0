"""Reading user-supplied files and values, with one-line errors.

Kept free of Textual so the headless command starts fast.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from core.data import MAX_TEXT_CHARS


class InputError(argparse.ArgumentTypeError, ValueError):
    """A bad argument or file; the message is one line, fit for stderr.

    (An ``ArgumentTypeError`` so that argparse shows our message, not a generic one.)"""


def read_text_file(path: str | os.PathLike, what: str = "corpus") -> str:
    """The UTF-8 text of ``path``, or ``InputError`` saying exactly what is wrong with it."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} file {str(p)!r} does not exist")
    if p.is_dir():
        raise InputError(f"{what} file {str(p)!r} is a directory")
    try:
        size = p.stat().st_size
        if size > MAX_TEXT_CHARS:
            raise InputError(
                f"{what} file {str(p)!r} is {size / 1e6:.1f} MB; the limit is {MAX_TEXT_CHARS / 1e6:.0f} MB"
            )
        raw = p.read_bytes()
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
