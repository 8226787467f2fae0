"""The lesson's worked arithmetic, reproduced by core's real functions."""

import math

import numpy as np
import pytest

import core
from core.optim import SGD, Adam
from core.readout import softmax_steps

# The lesson's logits after <BOS>, in its order: we, the, hello, is, love, deep, learning, <EOS>
BOS_LOGITS = [2.1, 3.2, 2.8, 1.5, -0.5, -1.2, -2.0, -10.0]
BOS_PROBS = [0.1494, 0.4488, 0.3008, 0.0820, 0.0111, 0.0055, 0.0025, 0.0000]

# The lesson's four sequence tables (8 words each) and its target for each
TABLES = [
    (
        {"we": 2.1, "love": -0.5, "deep": -1.2, "learning": -2.0, "the": 3.2, "hello": 2.8, "is": 1.5, "<EOS>": -10.0},
        "we",
    ),
    (
        {"we": -3.0, "love": 2.8, "deep": -0.5, "learning": -1.5, "the": 1.2, "hello": -5.0, "is": 2.1, "<EOS>": -8.0},
        "love",
    ),
    (
        {"we": -5.0, "love": -4.0, "deep": 1.9, "learning": 0.8, "the": 0.5, "hello": -6.0, "is": -2.0, "<EOS>": -7.0},
        "deep",
    ),
    (
        {
            "we": -6.0,
            "love": -5.0,
            "deep": -4.0,
            "learning": 3.5,
            "the": -2.0,
            "hello": -8.0,
            "is": -3.0,
            "<EOS>": -6.0,
        },
        "learning",
    ),
]


def test_softmax_of_the_lessons_logits():
    p = core.softmax(np.array(BOS_LOGITS))
    assert np.round(p, 4).tolist() == BOS_PROBS
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    # the lesson's three steps, through the code the softmax pane shows them with
    exps, total, probs = softmax_steps(np.array(BOS_LOGITS))
    assert total == pytest.approx(54.67, abs=0.005)  # step 2: the sum of exponentials
    assert round(float(exps[BOS_LOGITS.index(max(BOS_LOGITS))]), 2) == round(math.exp(max(BOS_LOGITS)), 2)
    assert np.round(probs, 4).tolist() == BOS_PROBS  # step 3


def test_target_probabilities_of_the_four_tables():
    probs = []
    for logits, target in TABLES:
        words = list(logits)
        p = core.softmax(np.array(list(logits.values())))
        probs.append(round(float(p[words.index(target)]), 3))
    assert probs == [0.149, 0.571, 0.623, 0.994]


def test_cross_entropy_matches_minus_log_p():
    for logits, target in TABLES:
        words = list(logits)
        x = np.array(list(logits.values()))
        loss = core.cross_entropy(x[None, :], np.array([words.index(target)]))[0]
        assert loss == pytest.approx(-math.log(core.softmax(x)[words.index(target)]), rel=1e-12)
    # the lesson's example: P(cat) = 0.6 -> loss 0.5108
    x = np.log(np.array([0.6, 0.3, 0.1]))
    assert round(float(core.cross_entropy(x, [0])[0]), 4) == 0.5108


def test_total_mean_and_perplexity():
    # the lesson's four tables through our cross-entropy: its backprop table's losses, their
    # total 2.9413, and the perplexity of the mean
    losses = []
    for logits, target in TABLES:
        words = list(logits)
        losses.append(float(core.cross_entropy(np.array(list(logits.values())), [words.index(target)])[0]))
    assert [round(x, 4) for x in losses] == [1.9013, 0.5610, 0.4725, 0.0065]
    # the lesson adds its rounded losses; the exact total differs in the fourth decimal
    assert round(sum(round(x, 4) for x in losses), 4) == 2.9413
    assert sum(losses) == pytest.approx(2.9413, abs=2e-4)
    assert core.perplexity(sum(losses) / 4) == pytest.approx(math.exp(2.9413 / 4), abs=1e-3)


def test_logit_gradient_is_p_minus_target():
    """dLoss/dlogit = P - onehot: the lesson's -0.851 for P(we) = 0.149."""
    logits, target = TABLES[0]
    words = list(logits)
    x = np.array(list(logits.values()))
    t = words.index(target)
    eps = 1e-6
    numeric = []
    for i in range(len(x)):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        numeric.append((core.cross_entropy(up, [t])[0] - core.cross_entropy(down, [t])[0]) / (2 * eps))
    analytic = core.softmax(x) - np.eye(len(x))[t]
    np.testing.assert_allclose(numeric, analytic, atol=1e-8)
    assert round(float(analytic[t]), 3) == -0.851


def test_sgd_update_example():
    """new = old - lr x grad: 0.10 - 0.1 x (-0.05) = 0.105."""
    params = np.array([0.10, -0.30, 0.50])
    delta = SGD(3).step(params, np.array([-0.05, 0.12, -0.08]), lr=0.1)
    np.testing.assert_allclose(params, [0.105, -0.312, 0.508])
    np.testing.assert_allclose(delta, [0.005, -0.012, 0.008])
    # the learning-rate table: 0.5 - lr x (-0.2)
    for lr, new in [(0.001, 0.5002), (0.01, 0.502), (0.1, 0.52), (1.0, 0.7), (10.0, 2.5)]:
        p = np.array([0.5])
        SGD(1).step(p, np.array([-0.2]), lr)
        assert p[0] == pytest.approx(new)


def test_adam_step_by_hand():
    """Two Adam steps computed by hand from the lesson's formulas."""
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.001
    g1, g2 = np.array([0.2, -0.5]), np.array([-0.1, -0.4])
    params = np.array([1.0, 2.0])
    opt = Adam(2)
    opt.step(params, g1, lr)
    m = (1 - b1) * g1
    v = (1 - b2) * g1**2
    expected = np.array([1.0, 2.0]) - lr * (m / (1 - b1)) / (np.sqrt(v / (1 - b2)) + eps)
    np.testing.assert_allclose(params, expected, rtol=0, atol=1e-15)
    # step 1 of Adam moves every parameter by ~lr, whatever the gradient's size
    np.testing.assert_allclose(np.abs(expected - [1.0, 2.0]), [lr, lr], rtol=1e-6)
    opt.step(params, g2, lr)
    m = b1 * m + (1 - b1) * g2
    v = b2 * v + (1 - b2) * g2**2
    expected = expected - lr * (m / (1 - b1**2)) / (np.sqrt(v / (1 - b2**2)) + eps)
    np.testing.assert_allclose(params, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(opt.m, m)
    np.testing.assert_allclose(opt.v, v)
    assert opt.t == 2


def test_momentum_by_hand():
    opt = core.Momentum(1, beta=0.9)
    p = np.array([1.0])
    opt.step(p, np.array([1.0]), 0.1)  # v = 1
    opt.step(p, np.array([1.0]), 0.1)  # v = 1.9
    assert p[0] == pytest.approx(1.0 - 0.1 - 0.19)
