"""Option values argparse converts (``type=``): each returns the value or raises ``InputError``,
whose one-line message argparse shows as it is."""

from __future__ import annotations

from ..inputs import InputError, bounded_float, non_negative_int
from ..pace import MAX_SPEED
from .names import MODELS, OPTIMIZERS


def learning_rate(text: str) -> float:
    from core.config import ConfigError, check_lr  # (NumPy and core load here only when --lr is given)

    from ..narrate_errors import say

    try:
        return check_lr(float(text))
    except ConfigError as e:  # (a number, but not a usable rate)
        raise InputError(say(e)) from None
    except ValueError:
        raise InputError(f"expected a number, got {text!r}") from None


def learning_rates(text: str) -> list[float]:
    return [learning_rate(x) for x in text.split(",")]


def optimizer_names(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",")]
    for n in names:
        if n not in OPTIMIZERS:
            raise InputError(f"unknown optimizer {n!r} (choose from {', '.join(OPTIMIZERS)})")
    return names


def model_names(text: str) -> list[str]:
    """``sweep --model``: models, comma-separated, each once (``mlp,gpt``)."""
    names = [x.strip().lower() for x in text.split(",")]
    for n in names:
        if n not in MODELS:
            raise InputError(f"unknown model {n!r} (choose from {', '.join(MODELS)})")
    if len(set(names)) != len(names):
        raise InputError(f"a model is named twice in {text!r}")
    return names


def undo_memory(text: str) -> int:
    mb = non_negative_int(text)
    if mb > 2**20:
        raise InputError(f"the undo memory is in megabytes: {mb:,} MB is more than a terabyte")
    return mb


def key_delay(text: str) -> float:
    return bounded_float(text, "key delay", 0, 60, unit="seconds")


def val_fraction(text: str) -> float:
    return bounded_float(text, "validation fraction", 0, 0.5)


def temperature(text: str) -> float:
    return bounded_float(text, "temperature", 0, 100, low_open=True)


def speed(text: str) -> float:
    return bounded_float(text, "speed", 0, MAX_SPEED, low_open=True, unit="steps per second")


def port(text: str) -> int:
    try:
        x = int(text)
    except ValueError:
        raise InputError(f"expected a port number, got {text!r}") from None
    if not 1 <= x <= 65535:
        raise InputError(f"the port must be between 1 and 65535, not {x}")
    return x


def tokens_spec(text: str) -> str:
    """``--tokens``: word, char, bpe or bpe:N (``core.tokens``), checked as it is read."""
    if text == "word":  # (the default: no need to load core, and NumPy with it, before the first paint)
        return text
    from core.tokens import TokensError, parse_spec

    from ..narrate_errors import say

    try:
        parse_spec(text)
    except TokensError as e:
        raise InputError(say(e)) from None
    return text.strip()
