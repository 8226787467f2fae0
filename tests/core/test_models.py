"""The model interface (core.models): named tensors, forward, backward, chain-rule factors.

A second model, written here in a few lines (a bigram table: the logits of the next word are the
row of the last word), runs through the session, the timeline, checkpoints, readouts and frames
without any of them knowing its layers: the interface is all they use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from core import Session
from core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from core.frame import build_frame
from core.gradcheck import gradcheck
from core.losses import softmax_cross_entropy
from core.models import MODELS, Backward, Factors, Forward, LanguageModel, Tensors
from core.readout import chain_terms, largest_changes, layer_summary


@dataclass(frozen=True)
class BigramConfig:
    vocab_size: int
    dtype: str = "float64"


@dataclass(eq=False)
class BigramForward(Forward):
    last: np.ndarray  # (N,) the word before each prediction


class Bigram(LanguageModel):
    kind = "bigram"
    layers = ("table",)
    layer_outputs = {"table": "logits"}

    def __init__(self, config: BigramConfig, seed: int = 0) -> None:
        super().__init__(config, {"table": (config.vocab_size, config.vocab_size)}, config.dtype)
        self.init(seed)

    @classmethod
    def shapes_for(cls, settings: Any, vocab_size: int, context: int) -> dict[str, tuple[int, ...]]:
        return {"table": (vocab_size, vocab_size)}

    @classmethod
    def build(cls, settings: Any, vocab_size: int, context: int) -> Bigram:
        return cls(BigramConfig(vocab_size, settings.dtype), settings.seed)

    def init(self, seed: int) -> None:
        self.p["table"][...] = np.random.default_rng(seed).standard_normal(self.p["table"].shape) * 0.1

    def forward(self, inputs: np.ndarray, targets: np.ndarray) -> BigramForward:
        last = inputs[:, -1]
        logits = self.p["table"][last]  # (N, V)
        probs, losses = softmax_cross_entropy(logits, targets, np.arange(targets.shape[0]))
        return BigramForward(inputs, targets, logits, probs, losses, last)

    def backward(self, f: BigramForward, scale: float = 1.0) -> Backward:
        dlogits = f.probs.copy()
        dlogits[np.arange(f.targets.shape[0]), f.targets] -= 1.0
        self.g["table"][...] = 0.0
        np.add.at(self.g["table"], f.last, dlogits * scale)
        return Backward(self.grads.copy(), {"table": dlogits}, self.slices, scale)

    def chain_factors(self, f: BigramForward, b: Backward, tensor: str, index: tuple[int, ...]) -> Factors:
        hit = (f.last == index[0]).astype(float)
        return Factors(
            (("last_is", index[0]), ("dlogits", index[1])), np.stack([hit, b.dlogits[:, index[1]]], 1), b.scale
        )


@pytest.fixture
def bigram(monkeypatch):
    monkeypatch.setitem(MODELS, "bigram", Bigram)


def test_tensors_locate_and_flat_index_are_inverse_for_every_entry():
    shapes = {"a": (3, 4), "b": (5,), "c": (2, 1, 3)}
    t = Tensors(shapes)
    assert t.size == 12 + 5 + 6 and t.names == ["a", "b", "c"]
    # expected by counting by hand, independently of the offsets the class computes
    expected = [("a", (i, j)) for i in range(3) for j in range(4)] + [("b", (i,)) for i in range(5)]
    expected += [("c", (i, 0, k)) for i in range(2) for k in range(3)]
    for flat, (name, idx) in enumerate(expected):
        assert t.locate(flat) == (name, idx)
        assert t.flat_index(name, idx) == flat
    with pytest.raises(IndexError):
        t.locate(t.size)
    flat = np.arange(t.size, dtype=float)
    v = t.views(flat)
    v["b"][2] = -1.0  # a view writes into the flat vector
    assert flat[14] == -1.0
    assert np.allclose(
        t.norms(flat), [np.linalg.norm(flat[:12]), np.linalg.norm(flat[12:17]), np.linalg.norm(flat[17:])]
    )


def test_the_mlp_s_chain_factors_sum_to_its_backward_pass_for_every_tensor():
    s = Session.create()
    s.run(3)
    s.backward()
    rng = np.random.default_rng(0)
    for name, shape in s.model.tensors.shapes.items():
        for _ in range(3):
            idx = tuple(int(rng.integers(n)) for n in shape)
            c = chain_terms(s, name, idx)
            assert c.total == pytest.approx(c.backward, rel=1e-12, abs=1e-15), (name, idx)


def test_a_second_model_runs_through_session_timeline_readouts_and_frames(bigram):
    s = Session.create(model="bigram", context=1)
    assert s.model.kind == "bigram" and s.model.size == 12 * 12
    first = s.forward_result
    r = s.run(40)
    assert r.ok and s.history[-1].total_loss < s.history[0].total_loss / 2
    s.backward()
    c = chain_terms(s, "table", (2, 3))
    assert c.total == pytest.approx(c.backward, rel=1e-12, abs=1e-15)
    frame = build_frame(s, 1)
    assert frame.model == "bigram" and frame.layers == [("table", [(12, 12)])]
    assert frame.gradients.layers[0][0] == "table" and frame.layer_outputs == {"table": "logits"}
    assert layer_summary(s) == [("table", [(12, 12)])]
    s.update()
    assert all(ch.tensor == "table" for ch in largest_changes(s, 3))
    params = s.model.params.copy()
    s.undo()
    s.undo()
    s.redo()
    s.redo()
    assert np.array_equal(s.model.params, params) and first is None


def test_a_second_model_passes_gradcheck(bigram):
    s = Session.create(model="bigram", context=1)
    d = s.data
    errors = gradcheck(s.model, d.contexts, d.targets)
    assert max(errors.values()) < 1e-7


def test_a_second_model_s_checkpoint_lists_its_tensors_and_loads(bigram, tmp_path):
    s = Session.create(model="bigram", context=1)
    s.run(5)
    path = save_checkpoint(s, tmp_path / "b.npz")
    t = load_checkpoint(path)
    assert t.model.kind == "bigram" and np.array_equal(t.model.params, s.model.params)


def test_a_checkpoint_header_lets_numpy_alone_cut_every_tensor(tmp_path):
    s = Session.create()
    s.run(3)
    with np.load(save_checkpoint(s, tmp_path / "c.npz")) as z:
        header = json.loads(z["header"].tobytes().decode())
        params = z["params"]
    assert header["model"] == "mlp"
    assert [name for name, _ in header["tensors"]] == list(s.model.p)
    offset = 0
    for name, shape in header["tensors"]:
        n = int(np.prod(shape))
        assert np.array_equal(params[offset : offset + n].reshape(shape), s.model.p[name])
        offset += n
    assert offset == params.size


def test_a_checkpoint_whose_tensors_do_not_match_is_refused(tmp_path):
    import io

    s = Session.create()
    path = save_checkpoint(s, tmp_path / "c.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays["header"].tobytes().decode())
    header["tensors"][0][1] = [8, 12]  # the embedding's shape transposed: same size, another layout
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    (tmp_path / "bad.npz").write_bytes(buf.getvalue())
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(tmp_path / "bad.npz")
    assert (e.value.code, e.value.reason.code) == ("not_usable", "tensors_mismatch")


def test_session_sweep_gives_the_numbers_of_separate_sessions():
    s = Session.create()
    runs = s.sweep([0.1, 1.0, 10.0], 20, optimizers=["sgd", "adam"])
    assert [(r.optimizer, r.lr) for r in runs] == [(o, lr) for o in ("sgd", "adam") for lr in (0.1, 1.0, 10.0)]
    for r in runs:
        alone = Session.create(optimizer=r.optimizer, lr=r.lr, undo_memory=0)
        alone.run(20)
        b = s.timeline.branch(r.branch)
        s.goto_position(b.length, branch=r.branch)
        assert (s.optimizer.name, s.lr, s.step) == (r.optimizer, r.lr, alone.step)
        assert np.array_equal(s.model.params, alone.model.params)
        assert (r.result.divergence is None) == (alone.divergence is None)


def test_a_refused_goto_leaves_the_session_where_it_was():
    s = Session.create()
    s.run(5)
    before = (s.step, s.phase, s.position, s.model.params.copy())
    r = s.goto(2, phase="backward")  # a run's steps never stop in the backward phase
    assert not r.ok and r.code == "no_such_step"
    assert (s.step, s.phase, s.position) == before[:3] and np.array_equal(s.model.params, before[3])
