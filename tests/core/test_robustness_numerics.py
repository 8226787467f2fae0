"""Softmax and cross-entropy at extreme logits, in float32 and float64."""

import numpy as np
import pytest

from core.losses import cross_entropy, log_softmax, perplexity, softmax


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("scale", [1.0, 1000.0, -1000.0, 1e30])
def test_softmax_exact_for_huge_logits(dtype, scale):
    base = np.array([[2.1, 3.2, 2.8, 1.5, -0.5]], dtype=np.float64)
    x = (base + scale).astype(dtype)  # a constant shift changes nothing
    p = softmax(x)
    assert p.dtype == dtype and np.isfinite(p).all()
    assert p.sum() == pytest.approx(1.0, abs=1e-6 if dtype == np.float32 else 1e-12)
    if abs(scale) <= 1000:
        exact = np.exp(base - base.max()) / np.exp(base - base.max()).sum()
        tol = 1e-3 if dtype == np.float32 else 1e-12  # float32 holds 1000 + 2.1 to ~6e-5
        np.testing.assert_allclose(p, exact, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plus_minus_1000(dtype):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, -1000.0]], dtype=dtype)
    p = softmax(x)
    np.testing.assert_array_equal(p[0], np.array([1.0, 0.0, 0.0], dtype=dtype))
    np.testing.assert_allclose(p[1], 1 / 3, rtol=1e-6)
    np.testing.assert_allclose(p[2], [0.5, 0.5, 0.0], rtol=1e-6)
    logp = log_softmax(x)
    assert np.isfinite(logp).all()
    assert logp[0, 1] == pytest.approx(-2000.0, rel=1e-6)  # exact, not log(0) = -inf
    ce = cross_entropy(x, np.array([0, 2, 2]))
    assert ce.dtype == dtype and np.isfinite(ce).all()
    np.testing.assert_allclose(ce, [0.0, np.log(3), 2000.0 + np.log(2)], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_matches_the_definition_for_moderate_logits(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(scale=20, size=(50, 12)).astype(dtype)
    t = rng.integers(0, 12, size=50)
    ref = -np.log(np.exp(x.astype(np.float64)) / np.exp(x.astype(np.float64)).sum(1, keepdims=True))[np.arange(50), t]
    np.testing.assert_allclose(cross_entropy(x, t), ref, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-4)


def test_perplexity_never_overflows():
    assert perplexity(0.0) == 1.0
    assert perplexity(1000.0) == float("inf")
    assert perplexity(np.log(12)) == pytest.approx(12.0)
