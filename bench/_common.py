"""Shared by the benches: the S / M / L sizes, their data, thread limits."""

from __future__ import annotations

import contextlib
import time

import numpy as np

from core import Session
from core.data import build_dataset
from core.vocab import Vocab

#: The issue's sizes. positions = sequences x positions per sequence; context k = 4.
SIZES = {
    "S": {"vocab": None, "embed_dim": 8, "hidden": 16, "sequences": 1, "length": 4, "dtype": "float64"},
    "M": {"vocab": 1_000, "embed_dim": 64, "hidden": 128, "sequences": 16, "length": 32, "dtype": "float32"},
    "L": {"vocab": 10_000, "embed_dim": 128, "hidden": 256, "sequences": 32, "length": 64, "dtype": "float32"},
}


def make_session(size: str, undo: bool = False, optimizer: str = "sgd", **overrides) -> Session:
    """A session of ``size`` (S is the lesson's default run); random token data for M and L."""
    c = SIZES[size]
    kw = dict(embed_dim=c["embed_dim"], hidden1=c["hidden"], hidden2=c["hidden"], dtype=c["dtype"])
    # undo: the app's timeline memory (64 MiB of checkpoints); without: none, as headless
    kw.update(optimizer=optimizer, lr=0.01, undo_memory=64 * 2**20 if undo else 0)
    kw.update(overrides)
    if c["vocab"] is None:
        return Session.create(**kw)
    vocab = Vocab(("<BOS>", "<EOS>", *(f"w{i}" for i in range(2, c["vocab"]))))
    rng = np.random.default_rng(1234)
    sentences = rng.integers(2, c["vocab"], size=(c["sequences"], c["length"])).tolist()
    data = build_dataset(sentences, vocab, context_size=4)
    return Session.create(data=data, batch_positions=data.n_positions, **kw)


def step_flops(model, positions: int) -> int:
    """2 x multiply-adds of one train step's matmuls: forward 1x, backward 2x (weights and inputs)."""
    c = model.config
    per_position = c.context * c.embed_dim * c.hidden1 + c.hidden1 * c.hidden2 + c.hidden2 * c.vocab_size
    return 2 * 3 * per_position * positions


@contextlib.contextmanager
def threads(n: int | None):
    """Limit NumPy's BLAS to ``n`` threads (None: leave the default) with threadpoolctl if present."""
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("(threadpoolctl missing: cannot limit BLAS threads; set OPENBLAS_NUM_THREADS=1 instead)")
        yield
        return
    with threadpool_limits(limits=n):
        yield


def blas_info() -> str:
    """Which BLAS and kernel NumPy uses (threadpoolctl), e.g. 'openblas 0.3.31 Haswell, 2 threads'."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: unknown (pip install threadpoolctl to see it)"
    parts = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')}, {i.get('num_threads')} threads"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return "BLAS: " + ("; ".join(parts) or "none found")


def best_rate(fn, seconds: float, rounds_out: list[float]) -> None:
    """Calls/s of ``fn`` over about ``seconds`` (at least 2 calls, after one warm-up); appended to
    ``rounds_out``."""
    fn()
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= seconds and n >= 2:
            break
    rounds_out.append(n / dt)
