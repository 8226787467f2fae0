"""A scalar autograd engine in the style of micrograd, and the lesson's model on it.

Every number is a ``Value`` that remembers how it was made; ``backward()``
walks the graph in reverse topological order. This is the baseline the issue
compares the NumPy core against (same model, same initial weights, same data).
"""

from __future__ import annotations

import math


class Value:
    __slots__ = ("_backward", "_prev", "data", "grad")

    def __init__(self, data: float, prev: tuple[Value, ...] = ()) -> None:
        self.data = data
        self.grad = 0.0
        self._prev = prev
        self._backward = None

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    __radd__ = __add__

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    __rmul__ = __mul__

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,))

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        e = math.exp(self.data)
        out = Value(e, (self,))

        def _backward():
            self.grad += e * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        out = Value(math.log(self.data), (self,))

        def _backward():
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def backward(self) -> None:
        topo: list[Value] = []
        seen: set[int] = set()
        stack = [(self, False)]
        while stack:  # iterative DFS: the graph is deep
            v, done = stack.pop()
            if done:
                topo.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((c, False) for c in v._prev)
        self.grad = 1.0
        for v in reversed(topo):
            if v._backward is not None:
                v._backward()


class ScalarMLP:
    """The core's model (embedding -> tanh -> tanh -> softmax) on ``Value``s, from
    a NumPy parameter dict (``MLPLanguageModel.p``)."""

    def __init__(self, p: dict) -> None:
        def values(a):
            return [[Value(float(x)) for x in row] for row in a.reshape(a.shape[0], -1)]

        self.E = values(p["embedding"])
        self.W1, self.W2, self.Wo = values(p["layer1.W"]), values(p["layer2.W"]), values(p["output.W"])
        self.b1 = [Value(float(x)) for x in p["layer1.b"]]
        self.b2 = [Value(float(x)) for x in p["layer2.b"]]
        self.bo = [Value(float(x)) for x in p["output.b"]]
        self.params = [v for M in (self.E, self.W1, self.W2, self.Wo) for row in M for v in row]
        self.params += self.b1 + self.b2 + self.bo

    @staticmethod
    def _layer(x: list[Value], W: list[list[Value]], b: list[Value]) -> list[Value]:
        out = []
        for j in range(len(b)):
            acc = b[j]
            for i, xi in enumerate(x):
                acc = acc + xi * W[i][j]
            out.append(acc)
        return out

    def loss(self, contexts, targets) -> Value:
        total = Value(0.0)
        for ctx, t in zip(contexts, targets, strict=True):
            x = [v for tok in ctx for v in self.E[int(tok)]]
            h1 = [v.tanh() for v in self._layer(x, self.W1, self.b1)]
            h2 = [v.tanh() for v in self._layer(h1, self.W2, self.b2)]
            logits = self._layer(h2, self.Wo, self.bo)
            m = max(v.data for v in logits)  # a constant shift, as the core's stable softmax
            s = Value(0.0)
            for v in logits:
                s = s + (v - m).exp()
            total = total + (s.log() - (logits[int(t)] - m))
        return total

    def step(self, contexts, targets, lr: float) -> float:
        for v in self.params:
            v.grad = 0.0
        loss = self.loss(contexts, targets)
        loss.backward()
        for v in self.params:
            v.data -= lr * v.grad
        return loss.data
