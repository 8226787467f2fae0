"""A GPT: Karpathy's microgpt (2026), batched over windows and heads in NumPy.

    x = rmsnorm(wte[token] + wpe[t])
    per layer:  x = x + attn(rmsnorm(x));  x = x + mlp_fc2(relu(mlp_fc1(rmsnorm(x))))
    logits = x @ lm_head.T

``rmsnorm(x) = x / sqrt(mean(x²) + 1e-5)`` (no gain); no biases; every weight is stored (out, in)
and applied as ``x @ W.T``. Attention is causal and multi-headed: ``q, k, v = h @ attn_wq.T, ...``;
head ``i`` is columns ``i*hd … (i+1)*hd - 1`` (``hd = C / heads``); scores ``q·k / sqrt(hd)``, a key
after its query set to -inf before the softmax; the heads' outputs joined in order go through
``attn_wo``. Tensor names and shapes are microgpt's state_dict (4,192 parameters at V 27, C 16,
block 16, one layer).

The forward and backward passes are written side by side per op; the backward takes attention
in llm.c's order (the weighted sum of V, the softmax, then q·k). Shapes: B windows, T positions,
C embedding, H heads, hd = C/H, F = 4C, V vocabulary, L layers, N positions asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..losses import softmax_cross_entropy
from . import gpt_chain, windows
from .base import DTYPES, Backward, Factors, Forward, LanguageModel, ModelConfigError

EPS = 1e-5  # rmsnorm's epsilon, as microgpt's
INIT_STD = 0.08  # every weight starts N(0, 0.08²), as microgpt's


@dataclass(frozen=True)
class GPTConfig:
    """Sizes of the GPT. The defaults are microgpt's (4,192 parameters)."""

    vocab_size: int = 27
    block: int = 16  # positions per window (--context)
    embed: int = 16  # C
    heads: int = 4
    layers: int = 1
    dtype: str = "float64"

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Every tensor's name and shape, in microgpt's state_dict order."""
        V, C = self.vocab_size, self.embed
        out = {"wte": (V, C), "wpe": (self.block, C), "lm_head": (V, C)}
        for i in range(self.layers):
            for w in ("wq", "wk", "wv", "wo"):
                out[f"layer{i}.attn_{w}"] = (C, C)
            out[f"layer{i}.mlp_fc1"] = (4 * C, C)
            out[f"layer{i}.mlp_fc2"] = (C, 4 * C)
        return out

    def validate(self) -> None:
        for name in ("vocab_size", "block", "embed", "heads", "layers"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ModelConfigError("not_positive_integer", name=name, value=v)
        if self.embed % self.heads:
            raise ModelConfigError("heads_split", embed_dim=self.embed, heads=self.heads)
        if self.dtype not in DTYPES:
            raise ModelConfigError("bad_dtype", dtype=self.dtype, choices=DTYPES)


@dataclass(eq=False)
class GPTForward(Forward):
    """``inputs`` (B, T) are the windows' tokens; ``targets``, ``logits``, ``probs``, ``losses`` are
    the N positions asked, cell ``cells[n]`` (= b*T + t) each. Per layer l (first axis L):"""

    lengths: np.ndarray  # (B,) real cells of each window (the rest is padding)
    cells: np.ndarray  # (N,) the cell of each position asked
    emb: np.ndarray  # (B, T, C) wte[token] + wpe[t]
    rms_emb: np.ndarray  # (B, T, 1) sqrt(mean(emb²) + eps)
    stream: np.ndarray  # (L+1, B, T, C) the residual stream: [0] rmsnorm(emb), [l+1] after layer l
    h_attn: np.ndarray  # (L, B, T, C) rmsnorm(stream[l]), attention's input
    rms_attn: np.ndarray  # (L, B, T, 1)
    qkv: np.ndarray  # (L, B, T, 3C) h_attn @ [wq; wk; wv].T: q, k, v side by side (views below)
    scores: np.ndarray  # (L, B, H, T, T) q·k / sqrt(hd), -inf where the key is after the query
    att: np.ndarray  # (L, B, H, T, T) A = softmax(scores) along keys; rows sum to 1
    heads_out: np.ndarray  # (L, B, T, C) A @ v per head, joined in order
    mid: np.ndarray  # (L, B, T, C) the stream after attention's residual
    h_mlp: np.ndarray  # (L, B, T, C) rmsnorm(mid)
    rms_mlp: np.ndarray  # (L, B, T, 1)
    relu: np.ndarray  # (L, B, T, F) relu(h_mlp @ mlp_fc1.T)

    def _heads(self, part: int) -> np.ndarray:
        L, B, T, C3 = self.qkv.shape
        H = self.scores.shape[2]
        return self.qkv.reshape(L, B, T, 3, H, C3 // 3 // H)[:, :, :, part].transpose(0, 1, 3, 2, 4)

    @property
    def q(self) -> np.ndarray:
        """(L, B, H, T, hd): head i is columns i*hd … (i+1)*hd - 1 of h_attn @ attn_wq.T."""
        return self._heads(0)

    @property
    def k(self) -> np.ndarray:
        """(L, B, H, T, hd)"""
        return self._heads(1)

    @property
    def v(self) -> np.ndarray:
        """(L, B, H, T, hd)"""
        return self._heads(2)


def rowmax(a: np.ndarray) -> np.ndarray:
    """The maximum along the last axis, (..., 1): halves compared, log2(T) elementwise calls
    (``np.maximum.reduce`` along a short last axis costs ~10 ns an element: most of the forward)."""
    if a.size <= 1024:  # a few rows (the lesson's): one call is quicker
        return np.maximum.reduce(a, axis=-1, keepdims=True)
    w = a.shape[-1]
    while w > 1:
        h = (w + 1) // 2  # an odd width's middle entry is in both halves
        a = np.maximum(a[..., :h], a[..., w - h : w])
        w = h
    return a


def rowsum(a: np.ndarray, ones: np.ndarray) -> np.ndarray:
    """The sum along the last axis, (..., 1), as ``a @ ones`` (``ones`` (T, 1)): a matmul sums a short
    last axis five times faster than ``np.add.reduce`` does."""
    return a @ ones


def add_rows(out: np.ndarray, ids: np.ndarray, rows: np.ndarray) -> None:
    """``out`` = 0, then ``out[ids[n]] += rows[n]`` for every n: by sorting ids and summing each
    run (``np.add.reduceat``) when there are many (``np.add.at`` takes ~0.4 us a row)."""
    out[...] = 0.0
    if ids.shape[0] <= 64:
        np.add.at(out, ids, rows)
        return
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])  # each id's first row
    out[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)


def rmsnorm(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x / rms, rms)`` with ``rms = sqrt(mean(x²) + eps)`` over the last axis, (..., 1).
    (ufuncs' own reduce: ``np.mean`` costs more than the arithmetic at these sizes)"""
    rms = np.add.reduce(x * x, axis=-1, keepdims=True)  # (..., 1)
    rms *= 1.0 / x.shape[-1]
    rms += EPS
    np.sqrt(rms, out=rms)
    return x / rms, rms


def rmsnorm_back(dy: np.ndarray, y: np.ndarray, rms: np.ndarray) -> np.ndarray:
    """dL/dx for ``y = rmsnorm(x)``: ``(dy - y * mean(dy * y)) / rms``."""
    m = np.add.reduce(dy * y, axis=-1, keepdims=True)  # (..., 1)
    m *= 1.0 / y.shape[-1]
    out = y * m
    np.subtract(dy, out, out=out)
    out /= rms
    return out


class GPTLanguageModel(LanguageModel):
    """microgpt's GPT behind the model interface (``forward_at`` reads whole windows)."""

    kind = "gpt"
    #: the defaults a session takes for this model (``core.config``)
    defaults: ClassVar[dict[str, int]] = {"context": 16, "embed_dim": 16}
    layers = ("lm_head", "layer0.mlp", "layer0.attn", "embedding")  # (per instance: its layers)
    layer_outputs = {"lm_head": "logits", "layer0.mlp": "stream[1]", "layer0.attn": "mid[0]", "embedding": "stream[0]"}

    def __init__(self, config: GPTConfig, seed: int = 0) -> None:
        config.validate()
        super().__init__(config, config.shapes(), config.dtype)
        L = config.layers
        self.layers = ("lm_head", *(f"layer{i}.{part}" for i in reversed(range(L)) for part in ("mlp", "attn")))
        self.layers += ("embedding",)
        self.layer_outputs = {"lm_head": "logits", "embedding": "stream[0]"}  # GPTForward's fields
        for i in range(L):
            self.layer_outputs |= {f"layer{i}.mlp": f"stream[{i + 1}]", f"layer{i}.attn": f"mid[{i}]"}
        # wq, wk, wv lie one after another in the flat buffer: one (3C, C) view applies all three
        self._wqkv = [self._stacked(self.params, i) for i in range(L)]
        self._gqkv = [self._stacked(self.grads, i) for i in range(L)]
        self._masks: dict[int, np.ndarray] = {}
        self._aranges: dict[int, np.ndarray] = {}
        self._ones_by_T: dict[int, np.ndarray] = {}
        self.init(seed)

    def _stacked(self, flat: np.ndarray, i: int) -> np.ndarray:
        C = self.config.embed
        start = self.slices[f"layer{i}.attn_wq"][0].start
        return flat[start : start + 3 * C * C].reshape(3 * C, C)

    @staticmethod
    def _config(settings: Any, vocab_size: int, context: int) -> GPTConfig:
        return GPTConfig(vocab_size, context, settings.embed_dim, settings.heads, settings.layers, settings.dtype)

    @classmethod
    def shapes_for(cls, settings: Any, vocab_size: int, context: int) -> dict[str, tuple[int, ...]]:
        return cls._config(settings, vocab_size, context).shapes()

    @classmethod
    def build(cls, settings: Any, vocab_size: int, context: int) -> GPTLanguageModel:
        return cls(cls._config(settings, vocab_size, context), seed=settings.seed)

    def init(self, seed: int) -> None:
        """Every tensor N(0, 0.08²), drawn in state_dict order from ``seed``."""
        rng = np.random.default_rng(seed)
        for name, (_, shape) in self.slices.items():
            self.p[name][...] = rng.standard_normal(shape) * INIT_STD

    def _mask(self, T: int) -> np.ndarray:
        """(T, T): 0 where the key is at or before the query, -inf after it (added to the scores)."""
        m = self._masks.get(T)
        if m is None:
            m = self._masks[T] = np.triu(np.full((T, T), -np.inf, dtype=self.dtype), k=1)
        return m

    # --- the session's hooks: windows ------------------------------------------------------------

    def forward_at(self, data: Any, idx: np.ndarray | None = None) -> GPTForward:
        """Positions ``idx`` of ``data`` (None: all), each read in its window (``core.models.windows``)."""
        lay = windows.layout(data, self.config.block)
        batch = windows.gather(lay, idx)
        targets = data.targets if idx is None else data.targets[idx]
        return self._run(batch.tokens, batch.lengths, batch.cells, targets)

    def sample_batch(self, data: Any, size: int, rng: np.random.Generator) -> np.ndarray:
        """Whole windows, drawn without replacement until ``size`` positions (the last one cut short)."""
        return windows.sample_windows(windows.layout(data, self.config.block), size, rng)

    def next_logits(self, data: Any, sentence: list[int]) -> np.ndarray:
        """The logits after ``sentence`` (``<BOS>`` first), read as training reads that position:
        in its window (the sentence's last ``block``-aligned window)."""
        n = len(sentence)
        window = np.array([sentence[(n - 1) // self.config.block * self.config.block :]], dtype=np.intp)  # (1, T)
        T = window.shape[1]
        return self._run(window, np.array([T]), np.array([T - 1]), np.zeros(1, dtype=np.intp)).logits[0]

    # --- forward ---------------------------------------------------------------------------------

    def forward(self, inputs: np.ndarray, targets: np.ndarray) -> GPTForward:
        """Windows ``inputs`` (B, T) of token ids, each read from position 0; ``targets`` (B, T) the
        next token at each cell, or -1 where nothing is predicted. Rows: the predicted cells in order."""
        inputs = np.atleast_2d(np.asarray(inputs, dtype=np.intp))
        flat = np.asarray(targets, dtype=np.intp).reshape(-1)
        lengths = np.full(inputs.shape[0], inputs.shape[1], dtype=np.intp)
        if np.all(flat >= 0):
            return self._run(inputs, lengths, None, flat)
        cells = np.flatnonzero(flat >= 0)
        return self._run(inputs, lengths, cells, flat[cells])

    def _run(
        self, tokens: np.ndarray, lengths: np.ndarray, cells: np.ndarray | None, targets: np.ndarray
    ) -> GPTForward:
        """The forward pass of windows ``tokens`` (B, T) at ``cells`` (None: every cell, in order)."""
        cfg, p = self.config, self.p
        B, T = tokens.shape
        C, H, L = cfg.embed, cfg.heads, cfg.layers
        hd, F = C // H, 4 * C
        dt = self.dtype
        stream = np.empty((L + 1, B, T, C), dt)
        h_attn, mid, h_mlp, heads_out = (np.empty((L, B, T, C), dt) for _ in range(4))
        rms_attn, rms_mlp = np.empty((L, B, T, 1), dt), np.empty((L, B, T, 1), dt)
        qkv = np.empty((L, B, T, 3 * C), dt)
        scores, att = np.empty((L, B, H, T, T), dt), np.empty((L, B, H, T, T), dt)
        relu = np.empty((L, B, T, F), dt)
        mask, ones = self._mask(T), self._ones(T)  # (T, T), (T, 1)
        inv_sqrt_hd = 1.0 / math.sqrt(hd)

        emb = p["wte"][tokens]  # (B, T, C)
        emb += p["wpe"][:T]
        stream[0], rms_emb = rmsnorm(emb)  # (B, T, C), (B, T, 1)
        x = stream[0]
        for i in range(L):
            h_attn[i], rms_attn[i] = rmsnorm(x)  # (B, T, C)
            np.matmul(h_attn[i], self._wqkv[i].T, out=qkv[i])  # (B, T, 3C): q | k | v
            q, k, v = qkv[i].reshape(B, T, 3, H, hd).transpose(2, 0, 3, 1, 4)  # 3 x (B, H, T, hd) views
            s = scores[i]
            np.matmul(q, k.swapaxes(-1, -2), out=s)  # (B, H, T, T) q·k
            s *= inv_sqrt_hd  # / sqrt(hd)
            s += mask  # a key after its query: -inf
            e = s - rowmax(s)  # (B, H, T, T)
            np.exp(e, out=e)  # masked cells: exactly 0
            np.divide(e, rowsum(e, ones), out=att[i])  # A: each row sums to 1
            y = att[i] @ v  # (B, H, T, hd) the weighted sum of V
            heads_out[i] = y.transpose(0, 2, 1, 3).reshape(B, T, C)  # heads joined in order
            np.matmul(heads_out[i], p[f"layer{i}.attn_wo"].T, out=mid[i])  # (B, T, C)
            mid[i] += x  # residual
            h_mlp[i], rms_mlp[i] = rmsnorm(mid[i])  # (B, T, C)
            np.matmul(h_mlp[i], p[f"layer{i}.mlp_fc1"].T, out=relu[i])  # (B, T, F)
            np.maximum(relu[i], 0.0, out=relu[i])  # relu
            x = stream[i + 1]
            np.matmul(relu[i], p[f"layer{i}.mlp_fc2"].T, out=x)  # (B, T, C)
            x += mid[i]  # residual
        xr = x.reshape(B * T, C) if cells is None else x.reshape(B * T, C)[cells]  # (N, C) the cells asked
        logits = xr @ p["lm_head"].T  # (N, V)
        N = targets.shape[0]
        probs, losses = softmax_cross_entropy(logits, targets, self._rows(N))  # (N, V), (N,)
        return GPTForward(
            tokens, targets, logits, probs, losses,
            lengths, self._rows(B * T) if cells is None else cells, emb, rms_emb, stream, h_attn, rms_attn,
            qkv, scores, att, heads_out, mid, h_mlp, rms_mlp, relu,
        )  # fmt: skip

    def _ones(self, T: int) -> np.ndarray:
        """(T, 1) ones: ``rowsum``'s."""
        o = self._ones_by_T.get(T)
        if o is None:
            o = self._ones_by_T[T] = np.ones((T, 1), dtype=self.dtype)
        return o

    def _rows(self, n: int) -> np.ndarray:
        """``np.arange(n)``, cached (read-only)."""
        r = self._aranges.get(n)
        if r is None:
            r = self._aranges[n] = np.arange(n)
            r.flags.writeable = False
        return r

    # --- backward --------------------------------------------------------------------------------

    def backward(self, f: GPTForward, scale: float = 1.0) -> Backward:
        """Gradients of ``scale`` x the summed loss over the positions asked, from scratch."""
        cfg, p, g = self.config, self.p, self.g
        B, T = f.inputs.shape
        C, H, L = cfg.embed, cfg.heads, cfg.layers
        hd, F, BT, N = C // H, 4 * C, B * T, f.targets.shape[0]
        dt = self.dtype
        every = f.cells is self._aranges.get(BT)  # every cell asked, in order: no gather, no scatter
        # softmax + cross-entropy: dLoss/dlogits = P - onehot(target), per position
        dlogits = f.probs.copy()  # (N, V)
        dlogits[self._rows(N), f.targets] -= 1.0
        # logits = x @ lm_head.T at the cells asked; the other cells get no gradient from the loss
        xL = f.stream[L].reshape(BT, C)
        np.dot(dlogits.T, xL if every else xL[f.cells], out=g["lm_head"])  # (V, C)
        g["lm_head"] *= scale
        if every:
            dx = dlogits @ p["lm_head"]  # (BT, C) dL/d(stream[L])
        else:
            dx = np.zeros((BT, C), dt)
            if np.unique(f.cells).shape[0] == N:  # (np.add.at costs ten times more)
                dx[f.cells] = dlogits @ p["lm_head"]  # (N, C)
            else:  # a position asked twice counts twice
                np.add.at(dx, f.cells, dlogits @ p["lm_head"])
        dx *= scale
        upstream: dict[str, np.ndarray] = {"lm_head": dlogits}
        dstream = np.empty((L + 1, B, T, C), dt)
        dmids, dzs = np.empty((L, B, T, C), dt), np.empty((L, B, T, F), dt)
        dys = np.empty((L, B, H, T, hd), dt)
        dqkvs = np.empty((L, B, T, 3 * C), dt)  # dq | dk | dv side by side, as qkv
        dAs, dSs = np.empty((L, B, H, T, T), dt), np.empty((L, B, H, T, T), dt)
        for i in reversed(range(L)):
            dstream[i + 1] = dx.reshape(B, T, C)
            upstream[f"layer{i}.mlp"] = dstream[i + 1]
            # MLP: stream[i+1] = mid + relu(h_mlp @ fc1.T) @ fc2.T
            a = f.relu[i].reshape(BT, F)
            np.dot(dx.T, a, out=g[f"layer{i}.mlp_fc2"])  # (C, F)
            dz = dzs[i].reshape(BT, F)
            np.dot(dx, p[f"layer{i}.mlp_fc2"], out=dz)  # (BT, F)
            dz *= a > 0  # relu' (0 where the unit was off)
            h2 = f.h_mlp[i].reshape(BT, C)
            np.dot(dz.T, h2, out=g[f"layer{i}.mlp_fc1"])  # (F, C)
            dmid = dmids[i].reshape(BT, C)
            np.add(dx, rmsnorm_back(dz @ p[f"layer{i}.mlp_fc1"], h2, f.rms_mlp[i].reshape(BT, 1)), out=dmid)
            upstream[f"layer{i}.attn"] = dmids[i]  # (residual + norm)
            # attention's output: mid = stream[i] + heads_out @ wo.T
            np.dot(dmid.T, f.heads_out[i].reshape(BT, C), out=g[f"layer{i}.attn_wo"])  # (C, C)
            dy = dys[i]
            dy[...] = (dmid @ p[f"layer{i}.attn_wo"]).reshape(B, T, H, hd).transpose(0, 2, 1, 3)  # (B, H, T, hd)
            A = f.att[i]  # (B, H, T, T)
            q, k, v = f.qkv[i].reshape(B, T, 3, H, hd).transpose(2, 0, 3, 1, 4)  # 3 x (B, H, T, hd)
            dq, dk, dv = dqkvs[i].reshape(B, T, 3, H, hd).transpose(2, 0, 3, 1, 4)  # views into dqkvs
            # 1. the weighted sum of V: y = A @ v
            dA = dAs[i]
            np.matmul(dy, v.swapaxes(-1, -2), out=dA)  # (B, H, T, T)
            np.matmul(A.swapaxes(-1, -2), dy, out=dv)  # (B, H, T, hd)
            # 2. the softmax: dS = A ⊙ (dA - rowsum(A ⊙ dA)); masked cells have A = 0, so dS = 0
            dS = dSs[i]
            np.multiply(A, dA, out=dS)
            np.subtract(dA, rowsum(dS, self._ones(T)), out=dS)
            dS *= A  # (B, H, T, T)
            # 3. the scores: S = q·k / sqrt(hd)
            draw = dS * (1.0 / math.sqrt(hd))  # (B, H, T, T)
            np.matmul(draw, k, out=dq)  # (B, H, T, hd)
            np.matmul(draw.swapaxes(-1, -2), q, out=dk)  # (B, H, T, hd)
            dqkv = dqkvs[i].reshape(BT, 3 * C)
            h = f.h_attn[i].reshape(BT, C)
            np.dot(dqkv.T, h, out=self._gqkv[i])  # (3C, C): wq, wk, wv's gradients in place
            dx = rmsnorm_back(dqkv @ self._wqkv[i], h, f.rms_attn[i].reshape(BT, 1))  # (BT, C)
            dx += dmid  # residual
        dstream[0] = dx.reshape(B, T, C)
        upstream["embedding"] = dstream[0]
        # x0 = rmsnorm(wte[token] + wpe[t])
        demb = rmsnorm_back(dstream[0], f.stream[0], f.rms_emb)  # (B, T, C)
        add_rows(g["wte"], f.inputs.reshape(-1), demb.reshape(BT, C))  # each cell adds to its token's row
        g["wpe"][T:] = 0.0
        np.add.reduce(demb, axis=0, out=g["wpe"][:T])  # (T, C) summed over windows
        pieces = {"dstream": dstream, "dmid": dmids, "dz": dzs, "dy": dys, "dA": dAs, "dS": dSs}
        pieces |= {"dqkv": dqkvs, "demb": demb}
        return Backward(self.grads.copy(), upstream, self.slices, scale, pieces)

    # --- the chain rule for one weight -----------------------------------------------------------

    def chain_factors(self, f: GPTForward, b: Backward, tensor: str, index: tuple[int, ...]) -> Factors:
        return gpt_chain.factors(self, f, b, tensor, index)
