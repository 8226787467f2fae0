"""The session's options (data, model, training), shared by the app, train, sample and sweep."""

from __future__ import annotations

import argparse

from ..inputs import non_negative_int, positive_float, positive_int
from .names import FLOAT32_VOCAB, MODELS, OPTIMIZERS
from .values import learning_rate, learning_rates, model_names, optimizer_names, tokens_spec, val_fraction


def add_session_options(p: argparse.ArgumentParser, sweep: bool = False) -> None:
    """Every option that describes a session; ``sweep``: --model, --optimizer and --lr take lists."""
    _add_data_options(p.add_argument_group("data"))
    _add_model_options(p.add_argument_group("model"), sweep)
    o = p.add_argument_group("training")
    if sweep:  # lists: one run per combination
        o.add_argument("--optimizer", type=optimizer_names, default=["sgd"], help="optimizers, e.g. sgd,momentum,adam")
        o.add_argument("--lr", type=learning_rates, default=[None], help="learning rates, e.g. 0.001,0.01,0.1,1,10")
    else:
        o.add_argument(
            "--optimizer",
            default="sgd",
            metavar="{" + ",".join(OPTIMIZERS) + "}",
            help="sgd (default), momentum or adam",
        )
        o.add_argument(
            "--lr", type=learning_rate, default=None, help="learning rate (default: sgd 1, momentum 0.3, adam 0.01)"
        )
    _add_training_options(o)


def _add_data_options(d) -> None:
    d.add_argument(
        "--text",
        help='training text (default: the lesson\'s "we love deep learning"); sentences split at newlines and . ! ?',
    )
    d.add_argument("--corpus", metavar="FILE", help="read the training text from a UTF-8 file")
    d.add_argument(
        "--vocab",
        metavar="WORDS|@FILE",
        help="a fixed vocabulary: space-separated words, or @FILE; default: the text's own words",
    )
    d.add_argument(
        "--tokens",
        type=tokens_spec,
        default="word",
        metavar="word|char|bpe[:N]",
        help="what a token is: a word (default, the lesson's), a character (spaces too), or a BPE piece "
        "with N merges learned from the text (bpe alone: about a third of its distinct words, 50 to 500)",
    )
    d.add_argument("--unk", action="store_true", help="map words outside --vocab to <UNK> instead of failing")
    d.add_argument("--eos", action="store_true", help="also predict <EOS> after the last word")
    d.add_argument(
        "--batch-positions",
        type=positive_int,
        default=512,
        metavar="N",
        help="positions per step; larger texts train on a random sample of N (default 512)",
    )
    d.add_argument(
        "--val-fraction",
        type=val_fraction,
        default=0.1,
        metavar="F",
        help="share of the sentences held out for a validation loss, for texts larger than one batch (default 0.1)",
    )


def _add_model_options(m, sweep: bool = False) -> None:
    if sweep:  # a list: each model's runs from its own fresh start, on the same text, tokens and seed
        m.add_argument(
            "--model",
            type=model_names,
            default=["mlp"],
            metavar="mlp,gpt",
            help="models, e.g. mlp,gpt: the runs of each, every row naming its model (default mlp)",
        )
    else:
        m.add_argument(
            "--model",
            choices=tuple(MODELS),
            default="mlp",
            help="the model: mlp, the lesson's feed-forward model (default); gpt, microgpt's transformer",
        )
    m.add_argument(
        "--context",
        type=positive_int,
        default=None,
        metavar="K",
        help="tokens of context: the mlp's window (default 4), the gpt's block (default 16)",
    )
    m.add_argument(
        "--embed", type=positive_int, default=None, metavar="D", help="embedding size (default: mlp 8, gpt 16)"
    )
    m.add_argument("--layers", type=positive_int, default=1, metavar="L", help="gpt: transformer layers (default 1)")
    m.add_argument(
        "--heads", type=positive_int, default=4, metavar="H", help="gpt: attention heads, dividing --embed (default 4)"
    )
    m.add_argument(
        "--hidden",
        type=positive_int,
        default=None,
        metavar="H",
        help="mlp: layer1 width (default 16, the lesson's; 64 from a vocabulary of 256 tokens on)",
    )
    m.add_argument(
        "--hidden2", type=positive_int, default=None, metavar="H", help="mlp: layer2 width (default: --hidden)"
    )
    m.add_argument(
        "--dtype",
        choices=("auto", "float64", "float32"),
        default="auto",
        help=f"float precision (default auto: float32 from {FLOAT32_VOCAB:,} words of vocabulary on, else float64)",
    )


def _add_training_options(o) -> None:
    """The training options after --optimizer and --lr."""
    o.add_argument(
        "--reduction",
        choices=("mean", "sum"),
        default="mean",
        help="the objective: the mean loss per position (default), or the lesson's total over positions",
    )
    o.add_argument("--clip", type=positive_float, default=None, metavar="NORM", help="clip the gradient norm to NORM")
    o.add_argument("--seed", type=non_negative_int, default=0, help="random seed for the initial weights (default 0)")
    o.add_argument(
        "--load",
        metavar="FILE",
        help="start from a checkpoint (c in the app, --save-checkpoint): its model, optimizer, lr, step and history; "
        "a --text/--corpus/--vocab given too must have its vocabulary",
    )
