"""Random header fields and arrays given to the checkpoint loader (issue 23): it loads a session or
raises CheckpointError with one line, never anything else."""

from __future__ import annotations

import io
import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import Session
from core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

_S = Session.create(optimizer="adam")
_S.run(3)

_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**40), 10**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=8,
)
_CONFIG_KEYS = "context embed_dim hidden1 hidden2 dtype lr clip seed batch_positions reduction val_fraction val_every"
_CONFIG_KEYS = [*_CONFIG_KEYS.split(), "divergence_loss", "text", "vocab", "add_eos", "unk", "model", "undo_memory"]
_FIELDS = [
    ("step",),
    ("lr",),
    ("optimizer",),
    ("vocab",),
    ("version",),
    ("model",),
    ("tensors",),
    ("history_optimizers",),
    ("optimizer_scalars",),
    ("optimizer_scalars", "t"),
    ("optimizer_arrays",),
    ("config",),
    *[("config", k) for k in _CONFIG_KEYS],
]
_ARRAYS = ["params", "opt.m", "opt.v", "hist.total_loss", "hist.target_probs", "hist.position_losses"]
_DTYPES = ["<f8", "<f4", ">f8", "<i8", "|b1", "<c16", "<U3", "|u1"]


_GOOD: dict[str, np.ndarray] = {}


def _arrays_and_header(tmp_path):
    """A fresh copy of a good checkpoint's header and arrays (saved once: each example changes its copy)."""
    if not _GOOD:
        path = save_checkpoint(_S, tmp_path / "good.npz")
        with np.load(path) as z:
            _GOOD.update({k: z[k] for k in z.files})
    arrays = {k: v.copy() for k, v in _GOOD.items()}
    return json.loads(arrays.pop("header").tobytes()), arrays


def _load(tmp_path, header, arrays) -> None:
    buf = io.BytesIO()
    np.savez(buf, header=np.frombuffer(json.dumps(header).encode(), dtype=np.uint8), **arrays)
    p = tmp_path / "fuzzed.npz"
    p.write_bytes(buf.getvalue())
    try:
        s = load_checkpoint(p)
    except CheckpointError as e:
        assert "\n" not in str(e)
    else:
        assert isinstance(s, Session)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(_FIELDS), value=_JSON)
def test_random_header_fields(tmp_path, field, value):
    header, arrays = _arrays_and_header(tmp_path)
    where = header
    for k in field[:-1]:
        where = where[k]
    where[field[-1]] = value
    _load(tmp_path, header, arrays)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(_ARRAYS),
    dtype=st.sampled_from(_DTYPES),
    shape=st.sampled_from([(), (0,), (3,), (4,), (3, 4), (4, 4), (1099,), (1100,), (1101,), (1100, 1), (2, 550)]),
)
def test_random_arrays(tmp_path, name, dtype, shape):
    header, arrays = _arrays_and_header(tmp_path)
    arrays[name] = np.zeros(shape, dtype=dtype)
    _load(tmp_path, header, arrays)
