"""The GPT (--model gpt) against PyTorch eager: speed side by side, and the same losses.

    python bench/bench_gpt.py                # speed (3 runs) and the loss comparison
    python bench/bench_gpt.py --runs 1 --no-compare
    python bench/bench_gpt.py --corpus FILE      # also steps/s on a text's sampled batches

Speed, at the lesson's size (the lesson sentence, V 12, C 16, 4 heads, 1 layer, block 16, float64,
one thread): train steps/s of the core (forward_at, backward, SGD), ``Session.train_step`` (history,
no undo memory), the headless ``tui-trainer train --model gpt --steps 2000`` called in-process
(start-up included), and the same model written in PyTorch below (float64, one thread, eager; its
own ``torch.optim.SGD``), from the same initial weights, on the same windows. Contenders
interleaved, best of the rounds; each run prints its ratios.

Exactness (what a PyTorch user checks): from the same step-0 checkpoint (written by
``core.checkpoint`` and read back here with NumPy alone), 30 steps of SGD and 30 of Adam, on the
lesson and on a three-sentence text (windows of different lengths: padding), give the same loss
at every step to 1e-9 relative; the maximum relative difference is printed.

With ``--corpus`` (bench_corpus.py's default: the licence texts, 300 KB, V 2,370, float32 as
``--dtype auto`` picks): the core's step and torch's on the same sampled batches (the windows the
session's batches of 512 positions gather, cycled), and ``Session.train_step`` (with its history and
a validation loss every 10 steps).

PyTorch is optional (``pip install torch==2.13.0``, never a bare ``torch``): without it only our
figures are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import best_rate, blas_info, threads

from core import Session
from core.checkpoint import save_checkpoint
from core.models.windows import gather, layout

try:
    import torch
except ImportError:
    torch = None

LESSON = {}  # the lesson sentence at the defaults
THREE = {"text": "we love deep learning. deep learning is great. we love the deep model of the world and it is great"}
TRAIN_STEPS = 2000


# --- the same model in PyTorch -----------------------------------------------------------------


def torch_params(path: Path, dtype=None) -> dict:
    """The tensors of a checkpoint, cut with NumPy alone from its header, as leaves (float64)."""
    with np.load(path) as z:
        header = json.loads(z["header"].tobytes().decode())
        flat = z["params"]
    out, offset = {}, 0
    for name, shape in header["tensors"]:
        n = int(np.prod(shape))
        t = flat[offset : offset + n].reshape(shape)
        out[name] = torch.tensor(t, dtype=dtype or torch.float64, requires_grad=True)
        offset += n
    return out


def torch_loss(P: dict, tokens, cells, targets, heads: int, layers: int, scale: float):
    """microgpt's GPT (rmsnorm without gain, causal heads, relu MLP, no biases) in torch."""
    B, T = tokens.shape
    C = P["wte"].shape[1]
    hd = C // heads

    def rms(x):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + 1e-5)

    mask = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
    x = rms(P["wte"][tokens] + P["wpe"][:T])
    for i in range(layers):
        h = rms(x)

        def split(w, h=h):
            return (h @ w.T).view(B, T, heads, hd).transpose(1, 2)  # (B, H, T, hd)

        q, k, v = (split(P[f"layer{i}.attn_{w}"]) for w in ("wq", "wk", "wv"))
        s = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        a = torch.softmax(s.masked_fill(mask, -math.inf), dim=-1)
        y = (a @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ P[f"layer{i}.attn_wo"].T
        x = x + torch.relu(rms(x) @ P[f"layer{i}.mlp_fc1"].T) @ P[f"layer{i}.mlp_fc2"].T
    logits = x.reshape(B * T, C)[cells] @ P["lm_head"].T
    return torch.nn.functional.cross_entropy(logits, targets, reduction="sum") * scale


class TorchRun:
    """The session's model, batch and optimizer in torch, from the session's step-0 checkpoint."""

    def __init__(self, s: Session, optimizer: str, lr: float, tmp: Path) -> None:
        self.P = torch_params(save_checkpoint(s, tmp / "step0.npz"))
        b = gather(layout(s.data, s.model.config.block), None)
        cells = np.arange(b.tokens.size) if b.cells is None else b.cells  # None: every cell
        self.tokens, self.cells = torch.from_numpy(b.tokens), torch.from_numpy(cells)
        self.targets = torch.from_numpy(s.data.targets)
        n = s.data.n_positions
        self.scale = 1.0 / n if s.config.reduction == "mean" else 1.0
        self.heads, self.layers = s.config.heads, s.config.layers
        params = list(self.P.values())
        if optimizer == "sgd":
            self.opt = torch.optim.SGD(params, lr=lr)
        else:  # the core's Adam: betas (0.9, 0.999), eps 1e-8 added to sqrt(v_hat)
            self.opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999), eps=1e-8)

    def loss(self):
        return torch_loss(self.P, self.tokens, self.cells, self.targets, self.heads, self.layers, self.scale)

    def step(self) -> float:
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss()
        loss.backward()
        self.opt.step()
        return float(loss.detach())


# --- speed -------------------------------------------------------------------------------------


def core_step(s: Session):
    m, opt, data = s.model, s.optimizer, s.data

    def step():
        f = m.forward_at(data, None)
        opt.step(m.params, m.backward(f, 1.0 / f.targets.shape[0]).grads, 1.0)

    return step


def train_command():
    from tui_trainer.cli import main as cli_main

    def run():
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli_main(["train", "--model", "gpt", "--steps", str(TRAIN_STEPS)]) == 0

    return run


def speed_run(seconds: float, rounds: int, tmp: Path) -> dict[str, float]:
    contenders = {
        "core": core_step(Session.create(model="gpt", undo_memory=0)),
        "session": Session.create(model="gpt", undo_memory=0).train_step,
        "train": train_command(),
    }
    if torch is not None:
        contenders["torch"] = TorchRun(Session.create(model="gpt"), "sgd", 1.0, tmp).step
    rates: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(rounds):
        for k, fn in contenders.items():
            best_rate(fn, seconds if k != "train" else 0.0, rates[k])
    out = {k: max(v) for k, v in rates.items()}
    out["train"] *= TRAIN_STEPS
    return out


def corpus_run(path: Path, seconds: float, rounds: int, tmp: Path) -> dict[str, float]:
    """Steps/s on a text's sampled batches: the core and torch on the same ones, and the session."""
    text = path.read_text(encoding="utf-8", errors="replace")
    s = Session.create(model="gpt", text=text, dtype="float32", undo_memory=0)
    m, opt, data = s.model, s.optimizer, s.data
    lay = layout(data, m.config.block)
    batches = [s.batch(k) for k in range(20)]
    state = {"k": 0}

    def core():
        idx = batches[state["k"] % 20]
        state["k"] += 1
        f = m.forward_at(data, idx)
        opt.step(m.params, m.backward(f, 1.0 / f.targets.shape[0]).grads, s.lr)

    sess = Session.create(model="gpt", text=text, dtype="float32", undo_memory=0)
    contenders = {"core": core, "session": sess.train_step}
    if torch is not None:
        P = torch_params(save_checkpoint(s, tmp / "corpus0.npz"), torch.float32)
        tb = []
        for idx in batches:
            b = gather(lay, idx)
            cells = np.arange(b.tokens.size) if b.cells is None else b.cells
            tb.append((torch.from_numpy(b.tokens), torch.from_numpy(cells), torch.from_numpy(data.targets[idx])))
        topt = torch.optim.SGD(list(P.values()), lr=s.lr)
        tstate = {"k": 0}

        def torch_step():
            tokens, cells, targets = tb[tstate["k"] % 20]
            tstate["k"] += 1
            topt.zero_grad(set_to_none=True)
            torch_loss(P, tokens, cells, targets, s.config.heads, s.config.layers, 1.0 / targets.shape[0]).backward()
            topt.step()

        contenders["torch"] = torch_step
    rates: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(rounds):
        for k, fn in contenders.items():
            best_rate(fn, seconds, rates[k])
    out = {k: max(v) for k, v in rates.items()}
    out |= {"vocab": len(s.vocab), "positions": data.n_positions, "cells": int(gather(lay, batches[0]).tokens.size)}
    return out


# --- the same losses ---------------------------------------------------------------------------


def compare(text: dict, optimizer: str, steps: int, tmp: Path) -> float:
    """Max relative difference of the losses over ``steps`` steps, ours against torch's."""
    s = Session.create(model="gpt", optimizer=optimizer, **text)
    t = TorchRun(s, optimizer, s.lr, tmp)
    s.run(steps)
    ours = np.array(s.history.column("mean_loss"))[: steps + 1]
    theirs = [t.step() for _ in range(steps)]
    theirs.append(float(t.loss().detach()))
    theirs = np.array(theirs)
    return float(np.max(np.abs(ours - theirs) / np.abs(theirs)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=0.5, help="per round and contender")
    ap.add_argument("--no-compare", action="store_true")
    ap.add_argument("--corpus", type=Path, default=None, help="also steps/s on this text's sampled batches")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(f"numpy {np.__version__}; torch {torch.__version__ if torch else 'not installed'}; {blas_info()}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as d, threads(1):
        tmp = Path(d)
        if torch is not None:
            torch.set_num_threads(1)
        if not args.no_compare and torch is not None:
            print("losses, 30 steps from the same step-0 checkpoint: max relative difference (bar: 1e-9)")
            for name, text in (("lesson", LESSON), ("three sentences", THREE)):
                for opt in ("sgd", "adam"):
                    print(f"  {name:16} {opt:5} {compare(text, opt, 30, tmp):.2e}", flush=True)
        heads = ("run", "core", "session", "train", "torch", "core/t", "sess/t", "train/t")
        print(" ".join(f"{h:>{3 if h == 'run' else 8 if i < 5 else 7}}" for i, h in enumerate(heads)))
        for run in range(args.runs):
            r = speed_run(args.seconds, args.rounds, tmp)
            t = r.get("torch")
            cells = [f"{run + 1:3}", *(f"{r[k]:8.0f}" for k in ("core", "session", "train"))]
            cells.append(f"{t:8.0f}" if t else f"{'-':>8}")
            cells += [f"{r[k] / t:6.2f}x" if t else f"{'-':>7}" for k in ("core", "session", "train")]
            print(" ".join(cells), flush=True)
        if args.corpus is not None:
            r = corpus_run(args.corpus, max(args.seconds, 1.0), args.rounds, tmp)
            print(f"corpus {args.corpus.name}: V {r['vocab']:,}, {r['positions']:,} positions, float32; a batch of")
            print(f"512 positions runs {r['cells']} cells of windows. steps/s:")
            t = r.get("torch")
            line = f"  core {r['core']:.1f}  session {r['session']:.1f}"
            if t:
                line += f"  torch {t:.1f}  core/torch {r['core'] / t:.2f}x  session/torch {r['session'] / t:.2f}x"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
