"""The sentence for a checkpoint that cannot be loaded (``core.checkpoint_read.CheckpointError``: a
reason code and its data), on the command line (``--load``) and in the app (``C``). An error it
holds (the file's inner reason, the one its settings raised) is worded by the ``say`` it is given."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.checkpoint_read import CheckpointError

Say = Callable[[BaseException], str]


def _short(v: Any) -> str:
    """A header value quoted in at most 40 characters (an integer of 10**400 by its digits)."""
    r = repr(v) if not isinstance(v, int) or abs(v) < 10**30 else f"an integer of {len(str(abs(v)))} digits"
    return r if len(r) <= 40 else r[:37] + "..."


def _words(tokens: tuple[str, ...], k: int = 6) -> str:
    return " ".join(tokens[:k]) + (" ..." if len(tokens) > k else "")


def _other_vocabulary(e: Any, say: Say) -> str:
    return (
        f"{e.name} was trained on another vocabulary: it has {len(e.vocab)} words "
        f"({_words(e.vocab)}), the given text or --vocab has {len(e.given)} ({_words(e.given)})"
    )


def _history(e: Any, say: Say) -> str:
    fits = "its step and text" if e.version != 1 else "its step"  # (version 1 read no text's positions)
    return f"its history does not fit {fits} ({say(e.reason)})"


_SAYS: dict[str, Callable[[Any, Say], str]] = {
    "not_regular_file": lambda e, say: f"cannot read checkpoint {e.name}: it is not a regular file ({e.kind})",
    "too_large": lambda e, say: f"cannot read checkpoint {e.name}: larger than {e.limit >> 20} MB",
    "unreadable": lambda e, say: f"cannot read checkpoint {e.name}: {e.error.strerror or e.error}",
    "not_usable": lambda e, say: f"{e.name} is not a usable tui-trainer checkpoint: {say(e.reason)}",
    "other_vocabulary": _other_vocabulary,
    "not_an_archive": lambda e, say: "not a checkpoint archive",
    "damaged": lambda e, say: f"damaged or truncated ({e.error})",
    "would_unpack": lambda e, say: f"it would unpack to {e.size / 2**20:,.0f} MB (the limit is {e.limit >> 20} MB)",
    "unexpected_member": lambda e, say: f"unexpected member {e.member[:60]!r} in the archive",
    "member_missing": lambda e, say: f"{e.member} is missing",
    "member_dtype": lambda e, say: f"{e.member} holds {e.dtype} numbers, not {' or '.join(e.dtypes)}",
    "member_shape": lambda e, say: f"{e.member} has shape {e.shape}, not {e.expected}",
    "member_too_large": lambda e, say: f"{e.member} is larger than it can be",
    "member_size": lambda e, say: f"{e.member}'s size in the archive does not match its shape",
    "member_truncated": lambda e, say: f"{e.member} is truncated",
    "not_npy": lambda e, say: f"{e.member} is not a NumPy array ({e.error})",
    "fortran_order": lambda e, say: f"{e.member} is stored in Fortran order",
    "impossible_shape": lambda e, say: f"{e.member} has an impossible shape",
    "no_header": lambda e, say: "no checkpoint header",
    "damaged_header": lambda e, say: "damaged header",
    "not_a_header": lambda e, say: "not a checkpoint header",
    "version": lambda e, say: f"checkpoint version {e.version!r}, this program reads {max(e.readable)}",
    "missing_field": lambda e, say: f"incomplete header (no {e.field!r})",
    "bad_step_or_optimizer": lambda e, say: "bad step or optimizer",
    "bad_lr": lambda e, say: f"bad learning rate {_short(e.lr)}",
    "bad_vocab": lambda e, say: "bad vocabulary",
    "history_optimizer": lambda e, say: "unknown optimizer in the history",
    "bad_history_stride": lambda e, say: "bad history stride",
    "history_columns": lambda e, say: "history columns do not match its step",
    "bad_field": lambda e, say: f"bad {e.field!r} in the header",
    "optimizer_arrays": lambda e, say: f"optimizer state {e.arrays!r:.60} is not {e.optimizer}'s",
    "optimizer_scalars": lambda e, say: f"optimizer scalars are not {e.optimizer}'s",
    "bad_optimizer_scalar": lambda e, say: f"bad optimizer {e.scalar!r}: {_short(e.value)}",
    "no_config": lambda e, say: "incomplete header (config)",
    "bad_config_field": lambda e, say: f"bad {e.field!r} in its config: {_short(e.value)}",
    "text_too_long": lambda e, say: "its text is longer than the limit",
    "settings": lambda e, say: f"its settings do not build a session ({say(e.error)})",
    "too_many_parameters": lambda e, say: (
        f"its model would have {e.parameters:.3g} parameters (the limit is {e.limit:,})"
    ),
    "vocab_mismatch": lambda e, say: "its vocabulary does not match its own text",
    "tokenizer_mismatch": lambda e, say: "its tokenizer does not match the one its text and settings make",
    "tensors_mismatch": lambda e, say: "its tensors do not match the model it describes",
    "model_mismatch": lambda e, say: f"its model {e.model!r:.40} is not the one its settings build",
    "params_do_not_fit": lambda e, say: "the parameters do not fit the model it describes",
    "optimizer_state_missing": lambda e, say: f"optimizer state {e.array!r} is missing or the wrong size",
    "optimizer_state_does_not_fit": lambda e, say: "optimizer state does not fit",
    "history_missing": lambda e, say: "history is missing",
    "history_does_not_fit": _history,
    "history_out_of_order": lambda e, say: "its history's steps are out of order",
    "history_does_not_add_up": lambda e, say: "history target_probs does not add up",
}

#: the codes worded here (a test checks they are ``CheckpointError.CODES``)
CODES = frozenset(_SAYS)


def checkpoint_error(e: CheckpointError, say: Say) -> str:
    """The sentence for ``e``; ``say`` words the errors it holds."""
    words = _SAYS.get(e.code)
    return words(e, say) if words is not None else str(e)  # (a code not worded: technical)
