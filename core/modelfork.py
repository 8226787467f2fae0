"""Forking the other model: a branch from the session's start with a fresh model of another kind.

``F`` with ``model gpt`` (or ``model mlp``) races the two models on one text: the new branch leaves
the timeline's first state (step 0) with one command, ``set_model``, which ``core.interpreter``
applies live and in replay like any other, so undo, goto and branches restore either model bit
for bit. The command makes the model a fresh one of that kind, built from the session's settings
and seed exactly as ``Session.create`` builds it (a fork to the GPT starts from the parameters
``--model gpt`` starts from), with a fresh optimizer state of the same optimizer and rate. The
text and tokens are the same; sizes the user left to the model take its own defaults (the GPT's
block of 16, the MLP's 4 words of context: ``core.config.ModelDefault``), so the dataset is the
same sentences and positions (targets, tracked positions, held-out sentences), cut to the new
model's context. Each kind's settings and data are made once per session and kept.

A branch's model is the last ``set_model`` on its path, or the model of the timeline's first state.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .data import Dataset, build_dataset
from .history import History
from .models import MODELS
from .optim import OPTIMIZERS, make_optimizer
from .results import ActionResult
from .timeline import OPS, Command

if TYPE_CHECKING:
    from .config import SessionConfig
    from .session import Session

_SET_MODEL = OPS.index("set_model")


def check(s: Session, kind: str) -> ActionResult | None:
    """The refusal ``fork(s, kind)`` would give (None: it would fork). Codes: ``unknown_model``
    (``detail``: the name), ``unchanged`` (this branch already trains that model),
    ``model_from_checkpoint`` (the session began at step ``value`` from a checkpoint: a fresh
    model there would not be at that step), ``heads_split`` (the GPT's embedding, ``value``, is
    not divisible by its heads, ``detail``)."""
    if kind not in MODELS:
        return ActionResult("fork", ok=False, code="unknown_model", detail=str(kind))
    if kind == s.config.model:
        return ActionResult("fork", ok=False, code="unchanged", detail=kind)
    if s.timeline.start_step != 0:
        return ActionResult("fork", ok=False, code="model_from_checkpoint", value=s.timeline.start_step)
    cfg = replace(s.config, model=kind)
    if kind == "gpt" and cfg.embed_dim % cfg.heads:
        return ActionResult("fork", ok=False, code="heads_split", value=int(cfg.embed_dim), detail=str(cfg.heads))
    return None


def fork(s: Session, kind: str) -> ActionResult:
    """``Session.fork_model``: a branch from the timeline's first state whose first command is
    ``set_model(kind)``; its history starts empty (the other model's rows are not this one's)."""
    with s.lock:
        if (refused := check(s, kind)) is not None:
            return refused
        tl = s.timeline
        tl.seek(0, tl.branches[0])
        fresh = History(len(s.tracked), tuple(OPTIMIZERS))
        r = s._do(Command("set_model", (kind,)), new_branch=True, history=lambda: fresh)
        return replace(r, action="fork", branch=tl.cur.id, detail=kind)


def apply(s: Session, kind: str) -> None:
    """The ``set_model`` command: a fresh model of ``kind`` (seeded as ``Session.create`` seeds it),
    a fresh optimizer state, no results yet; the step, rate and clipping stay."""
    switch(s, kind)
    s.forward_result = s.backward_result = s.last_update = s.divergence = None
    s.phase = "ready"


def switch(s: Session, kind: str) -> None:
    """Make a fresh ``kind`` model, its settings and data the session's, with a fresh optimizer
    state (a restore then writes the saved parameters and state over them)."""
    config, data, val = _prepared(s, kind)
    _install(s, config, data, val, MODELS[kind].build(config, len(data.vocab), data.context_size))
    s.optimizer = make_optimizer(s.optimizer.name, s.model.size, s.model.dtype)


def branch_model(s: Session, branch: int | None = None) -> str:
    """The model branch ``branch`` (default: the current one) trains: the last ``set_model`` on its
    path (the parent's commands before the branch's start, then its own), else the first state's."""
    tl = s.timeline
    b = tl.cur if branch is None else tl.branch(branch)
    limit = None  # positions of ``b`` on the path: all of its own, then its parents' up to a fork
    while b is not None:
        ops = b.ops if limit is None else b.ops[: max(limit - b.base, 0)]
        i = ops.rfind(_SET_MODEL)
        if i >= 0:
            return b.args[b.base + i][0]
        limit = b.base if limit is None else min(limit, b.base)
        b = b.parent
    return tl.branches[0].ckpt[0].model or s.config.model


def _prepared(s: Session, kind: str) -> tuple[SessionConfig, Dataset, Dataset | None]:
    """``kind``'s settings, dataset and held-out dataset for this session (made once, then kept in
    the session's ``_model_kinds``; a dataset never changes, so a forked session may share them)."""
    kinds = getattr(s, "_model_kinds", None) or {s.config.model: (s.config, s.data, s.val_data)}
    if kind not in kinds:
        config = replace(s.config, model=kind)
        data, val = s.data, s.val_data
        if config.context != data.context_size:  # the same sentences, cut to this model's context
            data = build_dataset(data.sentences, data.vocab, config.context, data.add_eos, data.tokenizer)
            if val is not None:
                val = build_dataset(val.sentences, val.vocab, config.context, val.add_eos, val.tokenizer)
        kinds = {**kinds, kind: (config, data, val)}  # (a new dict: a forked session may share the old)
    s._model_kinds = kinds
    return kinds[kind]


def _install(s: Session, config: SessionConfig, data: Dataset, val: Dataset | None, model) -> None:
    s.config, s.data, s.val_data, s.model = config, data, val, model
