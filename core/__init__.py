"""tui-trainer's core: a real, tiny neural language model in pure NumPy.

Everything the app shows comes from here. Quick start (a notebook works too)::

    import core
    s = core.Session.create()          # the lesson: "we love deep learning", 12 words
    s.forward()                        # logits, probabilities, losses for all 4 positions
    s.forward_result.probs[0]          # P(next word | <BOS>)
    s.backward(); s.update()           # gradients, then new = old - lr x grad
    s.run(300)                         # 300 full steps
    s.history[-1].total_loss           # the newest step's total loss (the lesson's sum over positions);
                                       # .mean_loss per position; the JSON rows' "loss" is the objective
    s.undo(); s.redo()                 # exact, bit for bit; s.goto(120) jumps to step 120
    s.branches()                       # a new action after undo or goto starts a branch: none is lost
    core.softmax([2.1, 3.2, 2.8])      # the lesson's softmax
"""

from .config import ConfigError
from .data import Dataset, build_dataset, dataset_from_text
from .gradcheck import gradcheck
from .history import History, HistoryView
from .losses import cross_entropy, log_softmax, perplexity, softmax
from .models import BACKWARD_ORDER, Backward, Forward, MLPLanguageModel, ModelConfig
from .optim import DEFAULT_LR, OPTIMIZERS, SGD, Adam, Momentum, Optimizer, make_optimizer
from .session import (
    BACKWARD,
    FORWARD,
    READY,
    ActionResult,
    Divergence,
    Session,
    SessionConfig,
    StepRecord,
    Update,
    check_lr,
    lr_problem,
)
from .timeline import BranchInfo, Command
from .vocab import BOS, EOS, LESSON_TEXT, LESSON_VOCAB, UNK, Vocab, VocabError, split_sentences

__all__ = [
    "BACKWARD",
    "BACKWARD_ORDER",
    "BOS",
    "DEFAULT_LR",
    "EOS",
    "FORWARD",
    "LESSON_TEXT",
    "LESSON_VOCAB",
    "OPTIMIZERS",
    "READY",
    "SGD",
    "UNK",
    "ActionResult",
    "Adam",
    "Backward",
    "BranchInfo",
    "Command",
    "ConfigError",
    "Dataset",
    "Divergence",
    "Forward",
    "History",
    "HistoryView",
    "MLPLanguageModel",
    "ModelConfig",
    "Momentum",
    "Optimizer",
    "Session",
    "SessionConfig",
    "StepRecord",
    "Update",
    "Vocab",
    "VocabError",
    "build_dataset",
    "check_lr",
    "cross_entropy",
    "dataset_from_text",
    "gradcheck",
    "log_softmax",
    "lr_problem",
    "make_optimizer",
    "perplexity",
    "softmax",
    "split_sentences",
]
