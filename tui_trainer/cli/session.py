"""The session the command line's options describe (the app, train, sample, sweep, serve, lesson)."""

from __future__ import annotations

import argparse
import os
import shlex

from core import OPTIMIZERS, Session, SessionConfig, VocabError
from core.checkpoint import CheckpointError, load_checkpoint
from core.config import auto_dtype
from core.tokens import VISIBLE_SPACE

from ..inputs import InputError, check_model_size, check_sizes_early, load_dataset, parse_vocab, read_text_file
from ..narrate_errors import say
from .command import UsageError


def session_from_args(args: argparse.Namespace, **overrides) -> Session:
    """Build the session the options describe; ``UsageError`` for anything unusable."""
    if getattr(args, "load", None) is not None:
        return _load_session(args, **overrides)
    _check_text_options(args)
    if args.optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown optimizer {args.optimizer!r} (choose from {', '.join(OPTIMIZERS)})")
    try:
        text = args.text
        if args.corpus is not None:
            text = read_text_file(args.corpus)
        if text is not None and not text.strip():
            raise UsageError("the text is empty")
        vocab = tuple(parse_vocab(args.vocab)) if args.vocab is not None else None
        if vocab is not None and args.tokens != "word":  # ▁ writes a space: characters and BPE pieces hold them
            vocab = tuple(t.replace(VISIBLE_SPACE, " ") for t in vocab)
        check_sizes_early(args, vocab)  # before the data: --context 50000000 would build gigabytes of it
        # sizes not given take the model's defaults (the gpt's context and embedding are 16)
        sizes = SessionConfig(model=args.model, context=args.context, embed_dim=args.embed)
        data = load_dataset(text, vocab, sizes.context, args.eos, args.unk, tokens=args.tokens)
        config = SessionConfig(
            text=text,
            vocab=vocab,
            add_eos=args.eos,
            unk=args.unk,
            tokens=args.tokens,
            model=args.model,
            context=args.context,
            embed_dim=args.embed,
            hidden1=args.hidden,
            hidden2=args.hidden2,
            layers=args.layers,
            heads=args.heads,
            dtype=auto_dtype(len(data.vocab)) if args.dtype == "auto" else args.dtype,
            optimizer=args.optimizer,
            lr=args.lr,
            clip=args.clip,
            seed=args.seed,
            batch_positions=args.batch_positions,
            reduction=args.reduction,
            val_fraction=args.val_fraction,
        )
        config = config.for_vocab(len(data.vocab))
        check_model_size(config, len(data.vocab), data.context_size)
        return Session.create(config, data=data, **overrides)
    except (InputError, VocabError, ValueError) as e:
        raise UsageError(say(e)) from None
    except MemoryError:
        raise UsageError("not enough memory for this text and model: use a smaller vocabulary or model") from None


def _check_text_options(args: argparse.Namespace) -> None:
    if args.text is not None and args.corpus is not None:
        raise UsageError("give --text or --corpus, not both")
    # a text that names a file: the file was meant (--text would train on its path's words)
    path = (args.text or "").strip()
    if path and os.path.isfile(path):
        raise UsageError(f"--text takes the text itself and {path!r} is a file: use --corpus {shlex.quote(path)}")


def _load_session(args: argparse.Namespace, **overrides) -> Session:
    """The session in the checkpoint ``--load`` names; data options given too must keep its vocabulary."""
    try:
        _check_text_options(args)
        data: dict = {}
        text = read_text_file(args.corpus) if args.corpus is not None else args.text
        if text is not None:
            if not text.strip():
                raise UsageError("the text is empty")
            data["text"] = text
        if args.vocab is not None:
            data["vocab"] = tuple(parse_vocab(args.vocab))
        if args.eos:
            data["add_eos"] = True
        if args.unk:
            data["unk"] = True
        return load_checkpoint(args.load, **data, **overrides)
    except (InputError, CheckpointError) as e:
        raise UsageError(say(e)) from None
    except MemoryError:
        raise UsageError("not enough memory to load this checkpoint") from None
