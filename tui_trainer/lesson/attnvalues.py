"""The attention placeholders of a lesson's captions: one query's row in head 0 of layer 0 (its Q, K
and V, the scores, the scale, the mask, the weights, after ``b`` their gradients), and every head's
habits, as text. Every number is ``core.attention``'s (``attention_row``, ``head_habits``,
``before_after``); here they are only chosen and written. A model without attention (the MLP), or a
state without a forward pass, fills none of them (``placeholders`` then leaves their sentences out).
"""

from __future__ import annotations

import math

import numpy as np

from core import Session, SessionConfig
from core.attention import AttentionRow, attention_row, before_after, head_habits
from core.tokens import shown

#: The head and layer the row's placeholders read (the attention pane and ``a`` start there too).
LAYER, HEAD = 0, 0

#: Every attention placeholder, with what it shows (README, errors).
NAMES: dict[str, str] = {
    "mlp_window": "the tokens an MLP reads before each prediction (its default window K)",
    "mlp_sees": "the last K tokens before the selected position: all an MLP of window K sees there",
    "n_heads": "attention heads per layer",
    "n_layers": "transformer layers",
    "head_dim": "hd, the numbers in one head's query, key and value (embedding ÷ heads)",
    "sqrt_hd": "√hd, what the scores are divided by",
    "query": "the token at the query: the last one the selected position reads",
    "q_vec": "the query's Q row in head 0 of layer 0",
    "k_self": "the query's own K row (its key)",
    "v_self": "the query's own V row (its value)",
    "n_keys": "the keys the query sees: every earlier token and itself",
    "n_masked": "the keys after the query in its window (masked)",
    "masked_keys": "those keys' tokens ('none' when the query is the window's last token)",
    "scores_raw": "q·k for each key the query sees, by token",
    "scores_scaled": "the same scores ÷ √hd",
    "top_key": "the key with the largest q·k",
    "qk_sum": "q·k for that key written out, product by product",
    "top_raw": "its q·k",
    "top_scaled": "its q·k ÷ √hd",
    "att_row": "A, the softmax of the scaled scores, for each key the query sees",
    "att_sum": "the sum of the query's row of A (4 decimals)",
    "att_self": "A on the query's own key",
    "att_top": "the key with the largest A, and its A",
    "att_change": "after an update: A on that key before → after",
    "head_tops": "at the query, each head's key with the largest A, and its A",
    "head_habits": "each head's mean A on the previous token and mean row entropy (nats), over the step's queries",
    "prev_head": "the head with the largest mean A on the previous token, and that mean",
    "dA_row": "after b: dLoss/dA for each key the query sees",
    "dS_row": "after b: dLoss/dscore for each key the query sees",
    "ds_masked": "after b: the largest |dLoss/dscore| on a masked key (0: the mask stops the gradient)",
    "ds_sum": "after b: the sum of the row's dLoss/dscore",
    "ds_top": "after b: dS = A × (dA − Σ A·dA) for the top key, with its numbers",
}


def num(x: float, digits: int = 3) -> str:
    """A number in a caption: fixed decimals, never '-0.000'."""
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def small(x: float) -> str:
    """A gradient in a caption: three decimals, or two significant digits when it is smaller."""
    return num(x) if x == 0 or abs(x) >= 0.001 else f"{x:.1e}"


def factor(text: str) -> str:
    """A number written as a factor or after a minus: a negative one in brackets ('+ -0.527'
    read as a typo in a sum)."""
    return f"({text})" if text.startswith("-") else text


def vec(v: np.ndarray, most: int = 8) -> str:
    """A short vector, as ``[0.123, -0.456]`` (its first ``most`` numbers, then …)."""
    parts = [num(float(x)) for x in v[:most]]
    return "[" + ", ".join(parts) + (", …" if len(v) > most else "") + "]"


def _by_token(tokens: list[str], xs: np.ndarray, digits: int = 3, write=None) -> str:
    return ", ".join(f"{t} {(write or num)(float(x), digits)}" for t, x in zip(tokens, xs, strict=True))


def values(session: Session, position: int) -> dict[str, str]:
    """The attention placeholders the state has (call with the session's lock held)."""
    s = session
    out: dict[str, str] = {"mlp_window": str(int(SessionConfig(model="mlp").context))}
    words = [shown(w) for w in s.data.context_words(position)]
    k = int(out["mlp_window"])
    out["mlp_sees"] = " ".join((["<BOS>"] * k + words)[-k:])
    f = s.forward_result
    row = (
        None
        if f is None
        else attention_row(f, position, LAYER, HEAD, s.backward_result if s.phase == "backward" else None)
    )
    if row is None:
        return out
    names = [shown(t) for t in s.vocab.decode(row.tokens)]
    seen = row.query + 1
    L, H = f.att.shape[0], f.att.shape[2]  # type: ignore[union-attr]
    out |= {"n_heads": str(H), "n_layers": str(L), "head_dim": str(row.q.size), "sqrt_hd": f"{math.sqrt(row.q.size):g}"}
    out |= {
        "query": names[row.query],
        "q_vec": vec(row.q),
        "k_self": vec(row.k[row.query]),
        "v_self": vec(row.v[row.query]),
    }
    out |= {"n_keys": str(seen), "n_masked": str(len(names) - seen)}
    out["masked_keys"] = " ".join(names[seen:]) or "none"
    out["scores_raw"] = _by_token(names[:seen], row.raw[:seen])
    out["scores_scaled"] = _by_token(names[:seen], row.scaled[:seen])
    top = int(np.argmax(row.raw[:seen]))
    out |= {"top_key": names[top], "top_raw": num(row.raw[top]), "top_scaled": num(row.scaled[top])}
    terms = " + ".join(f"{factor(num(a))}×{factor(num(b))}" for a, b in zip(row.q, row.k[top], strict=True))
    out["qk_sum"] = f"{terms} = {num(row.raw[top])}"
    out["att_row"] = _by_token(names[:seen], row.att[:seen], 2)
    out["att_sum"] = num(float(row.att.sum()), 4)
    out["att_self"] = num(row.att[row.query], 2)
    best = int(np.argmax(row.att[:seen]))
    out["att_top"] = f"{names[best]} {num(row.att[best], 2)}"
    moved = before_after(s, position, LAYER, HEAD)
    if moved is not None:
        out["att_change"] = f"{num(moved[0][best], 2)} → {num(moved[1][best], 2)}"
    out |= _heads(s, position, names, L, H)
    if row.dA is not None and row.dS is not None:
        out |= _backward(row, names, seen)
    return out


def _heads(s: Session, position: int, names: list[str], L: int, H: int) -> dict[str, str]:
    f = s.forward_result
    label = (lambda l, h: f"head {h}") if L == 1 else (lambda l, h: f"head {l}.{h}")
    tops = []
    for layer in range(L):
        for head in range(H):
            r: AttentionRow = attention_row(f, position, layer, head)  # type: ignore[arg-type,assignment]
            t = int(np.argmax(r.att[: r.query + 1]))
            tops.append(f"{label(layer, head)} → {names[t]} {num(r.att[t], 2)}")
    habits = head_habits(f)  # type: ignore[arg-type]
    prev, ent = habits.previous, habits.entropy  # type: ignore[union-attr]
    lines = [
        f"{label(l, h)}: {num(prev[l, h], 2)} on the previous token, entropy {num(ent[l, h], 2)}"
        for l in range(L)
        for h in range(H)
    ]
    l, h = np.unravel_index(int(np.argmax(prev)), prev.shape)
    return {
        "head_tops": "; ".join(tops),
        "head_habits": "; ".join(lines),
        "prev_head": f"{label(int(l), int(h))} ({num(prev[l, h], 2)})",
    }


def _backward(row: AttentionRow, names: list[str], seen: int) -> dict[str, str]:
    dA, dS, A = row.dA, row.dS, row.att
    assert dA is not None and dS is not None
    masked = np.abs(dS[seen:])
    top = int(np.argmax(A[:seen]))
    mean = float(A @ dA)  # Σ A·dA: what every key's dA is measured against
    out = {
        "dA_row": _by_token(names[:seen], dA[:seen], write=lambda x, _: small(x)),
        "dS_row": _by_token(names[:seen], dS[:seen], write=lambda x, _: small(x)),
        "ds_sum": small(float(dS.sum())),
        "ds_top": f"{num(A[top])} × ({small(dA[top])} − {factor(small(mean))}) = {small(dS[top])} for {names[top]}",
    }
    if masked.size:  # (none when the query is its window's last token: the sentence is left out)
        out["ds_masked"] = f"{float(masked.max()):g}"
    return out
