"""``tui-trainer sample``: text the model writes, one word at a time (deterministic for a --seed)."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from ..inputs import non_negative_int, positive_int
from .command import PROG, CommandLine, UsageError
from .options import add_session_options
from .values import temperature


def add_parser(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser(
        "sample",
        help="print text the model writes (the default session, --steps of training, or --load)",
        description="Sample text from the model, one token at a time (a word, a character or a BPE piece, as "
        "--tokens says). Deterministic for a given --seed.",
    )
    add_session_options(g)
    g.add_argument("--steps", type=non_negative_int, default=0, help="train this many steps first (default 0)")
    g.add_argument("--prompt", default="", help="words to start from (default: the start of a sentence)")
    g.add_argument(
        "--temperature",
        type=temperature,
        default=1.0,
        help="reshapes the softmax: P(w) ~ exp(logit/T); below 1 sharper, above 1 flatter (default 1)",
    )
    g.add_argument("--top-k", type=positive_int, default=None, metavar="K", help="sample among the K likeliest tokens")
    g.add_argument(
        "--max-words",
        type=positive_int,
        default=20,
        metavar="N",
        help="stop after N tokens: words, or characters or BPE pieces with --tokens (default 20)",
    )
    g.add_argument("--samples", type=positive_int, default=1, metavar="N", help="how many samples (default 1)")
    g.add_argument("--probs", action="store_true", help="show each token's probability at T and at T = 1")
    g.set_defaults(func=run)


def run(line: CommandLine) -> int:
    # options before the command are the app's: sample would run without them, silently
    line.check_first(f"{PROG} sample [options] (options before 'sample' would be ignored)")
    return run_sample(line.args)


def run_sample(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Train ``--steps`` (or load), then print ``--samples`` texts."""
    import numpy as np  # (NumPy and core load when a command runs: the app paints before they do)

    from core import EOS, VocabError
    from core.generate import prompt_ids, sample
    from core.tokens import shown

    from ..narrate_errors import say
    from .session import session_from_args

    out = out or sys.stdout
    session = session_from_args(args, undo_memory=0)
    try:
        prompt = prompt_ids(session.data, args.prompt.lower())
    except VocabError as e:
        raise UsageError(say(e)) from None
    r = session.run(args.steps)
    if not r.ok and r.divergence is not None:
        raise UsageError(f"training diverged at step {r.divergence.step}: rerun with a smaller --lr")
    rng = np.random.default_rng((args.seed, session.step))
    for _ in range(args.samples):
        words = sample(session.model, session.data, prompt, args.max_words, args.temperature, args.top_k, rng)
        tokenizer = session.data.tokenizer
        if args.probs:
            # tokens as the screen draws them (a space ▁: written as itself it was nothing)
            text = " ".join(f"{shown(w.word)}({w.p:.2f}|{w.p_at_1:.2f})" for w in words)
        elif tokenizer.kind != "word":  # characters or pieces joined back into text, the prompt's too
            given = [session.data.vocab.tokens[i] for i in prompt]
            ended = bool(words) and words[-1].word == EOS
            text = tokenizer.join(given + [w.word for w in words if w.word != EOS]) + (f" {EOS}" if ended else "")
            print(text.strip(), file=out)
            continue
        else:
            text = " ".join(w.word for w in words)
        print(" ".join([args.prompt.lower(), text]).strip(), file=out)
    return 0
