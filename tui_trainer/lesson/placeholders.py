"""The placeholders of a lesson's captions (``{p_target}``): their names, and their text for the
session's current state, formatted as the panes format the same numbers.

The lesson's own numbers are computed here from ``core.readout``; attention's come from
``attnvalues`` (``core.attention``), the tokenizers' and the MLP-vs-GPT race's from ``compare``
(computed only when a caption asks for them). A number that does not exist yet (no forward pass,
no gradient, no attention in an MLP) is ``MISSING``, and ``filled`` leaves its sentence out.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Mapping

import numpy as np

from core import Session, perplexity
from core.readout import baselines, n_positions, parameter_summary, position_info, softmax_steps
from core.tokens import shown

from . import attnvalues, compare

#: The lesson's own placeholders, with what each shows (README, errors).
BASIC: dict[str, str] = {
    "step": "the step (updates made so far)",
    "lr": "the learning rate",
    "optimizer": "sgd, momentum or adam",
    "vocab_size": "words in the vocabulary",
    "vocab": "the vocabulary's words, in order",
    "context_size": "words the model reads before each prediction",
    "embed_dim": "numbers in each word's vector (the embedding's width)",
    "n_params": "parameters in the model",
    "shapes": "each layer's weight shape and bias size, as the context pane lists them",
    "n_positions": "prediction positions in a step",
    "sentences": "how many sentences the text has: 'one sentence', or '176 sentences, the first'",
    "first_sentence": 'the first sentence\'s words, quoted: \'"we", then "love", "deep", "learning"\'',
    "position": "the selected position (1 = the first)",
    "context": "the words before the selected position",
    "target": "the word the selected position should predict",
    "top_word": "the model's most likely word there",
    "top_prob": "its probability (as a percentage)",
    "p_target": "P(target) at the selected position",
    "loss": "-log P(target) at the selected position",
    "logit_target": "the target's logit at the selected position",
    "exp_sum": "the sum of e^logit at the selected position (softmax step 2)",
    "total_loss": "the loss summed over the positions (the lesson's total)",
    "mean_loss": "the mean loss per position (the objective)",
    "perplexity": "exp(mean loss)",
    "vs_uniform": "how that perplexity compares with a uniform guess's (V): worse than, better than, as good as",
    "dlogit_target": "dLoss/dlogit of the target at the selected position (P - 1)",
    "uniform": "ln V, the loss of a uniform guess per position",
    "total_start": "the total loss at the first step of the history",
    "p_targets": "P(target) at each tracked position now, as the progress table shows it",
    "learned_order": "the tracked targets in the order their P(target) first reached 0.9, with the step",
}
#: words of the first sentence ``{first_sentence}`` quotes (a real text's would fill the caption)
FIRST_WORDS = 8
#: ``{total_at_N}``: the total loss at step N of this branch's history ("-" if there is none).
TOTAL_AT = re.compile(r"total_at_(\d{1,7})")
#: Every placeholder a caption, question or reason may use.
PLACEHOLDERS: dict[str, str] = {**BASIC, **attnvalues.NAMES, **compare.NAMES}
#: Shown for a number that does not exist yet (no forward pass, no gradient).
MISSING = "-"


def placeholders_in(template: str) -> list[str]:
    """The placeholder names ``template`` uses; ``ValueError`` for a malformed template."""
    names = []
    for _, name, spec, conv in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conv:
            raise ValueError(f"{{{name}}} takes no format: numbers come formatted as the panes show them")
        names.append(name)
    return names


# --- live numbers --------------------------------------------------------------------------------


class Values(dict):
    """Placeholder values; ``total_at_N`` are looked up on demand in the history, and the costly
    ones (``compare``'s) computed when a caption first asks for them."""

    def __init__(
        self, values: Mapping[str, str], totals: np.ndarray, lazy: Mapping[str, Callable[[], str | None]]
    ) -> None:
        super().__init__(values)
        self._totals = totals
        self._lazy = lazy

    def __missing__(self, key: str) -> str:
        if key in self._lazy:
            value = self._lazy[key]()
            self[key] = MISSING if value is None else value
            return self[key]
        m = TOTAL_AT.fullmatch(key)
        if m is None:
            raise KeyError(key)
        from ..widgets.base import fmt

        k = int(m.group(1))
        return fmt(float(self._totals[k]), 4) if k < len(self._totals) else MISSING


def placeholder_values(session: Session, position: int) -> Values:
    """Every placeholder's text for the session's current state at the selected ``position``,
    formatted as the pane that shows the number formats it (call with the session's lock held)."""
    from ..widgets.base import fmt, fmt_big  # the panes' own formats (Textual loads only here)

    s = session
    v: dict[str, str] = {
        "step": str(s.step),
        "lr": f"{s.lr:g}",
        "optimizer": s.optimizer.name,
        "vocab_size": str(len(s.vocab)),
        "vocab": ", ".join(s.vocab.tokens[:30]) + (f" … {len(s.vocab) - 30:,} more" if len(s.vocab) > 30 else ""),
        "context_size": str(s.data.context_size),
        "n_positions": str(n_positions(s)),
        "uniform": fmt(baselines(s)["uniform"], 4),
    }
    # what the text asks the model to learn (not the lesson's sentence: --text and --corpus too)
    n = len(s.data.sentences)
    v["sentences"] = "one sentence" if n == 1 else f"{n:,} sentences, the first"
    words = [f'"{shown(w)}"' for w in s.data.tokens_of(0)[1:]]
    more = ", …" if len(words) > FIRST_WORDS else ""
    v["first_sentence"] = ", then ".join(words[:1] + [", ".join(words[1:FIRST_WORDS])][: len(words) > 1]) + more
    params = parameter_summary(s)
    v["n_params"] = f"{sum(c for *_, c in params):,}"
    counts = {name: count for name, _, count in params}
    shapes = []
    for name, sh, _ in params:  # as the context pane lists them: a layer's weights + its bias
        if len(sh) == 2:
            layer = name.split(".")[0]
            bias = counts.get(f"{layer}.b")
            shapes.append(f"{layer} {'×'.join(map(str, sh))}" + (f" + {bias}" if bias else ""))
    v["shapes"] = ", ".join(shapes)
    v["embed_dim"] = str(next((sh[-1] for name, sh, _ in params if name == "embedding"), MISSING))
    info = position_info(s, position)
    v["position"] = str(info.index + 1)
    v["context"] = " ".join(info.context)
    v["target"] = info.target
    f = s.forward_result
    for k in ("top_word", "top_prob", "p_target", "loss", "logit_target", "exp_sum", "total_loss", "mean_loss"):
        v[k] = MISSING
    v["perplexity"] = v["dlogit_target"] = v["vs_uniform"] = MISSING
    if f is not None:
        v["top_word"], v["top_prob"] = str(info.top_word), f"{info.top_prob:.1%}"
        v["p_target"], v["loss"] = f"{info.target_prob:.4f}", fmt(info.loss, 4)
        row = f.logits[info.index]
        v["logit_target"] = f"{float(row[info.target_id]):.2f}"
        v["exp_sum"] = fmt_big(softmax_steps(row)[1])
        mean = f.total_loss / n_positions(s)
        v["total_loss"], v["mean_loss"], v["perplexity"] = fmt(f.total_loss, 4), fmt(mean, 4), fmt(perplexity(mean), 3)
        ratio = round(perplexity(mean), 3) / len(s.vocab)  # compared as the status line shows it
        v["vs_uniform"] = "worse than" if ratio > 1.0005 else "better than" if ratio < 0.9995 else "as good as"
    b = s.backward_result
    if b is not None and s.phase == "backward":
        v["dlogit_target"] = f"{float(b.dlogits[info.index, info.target_id]):+.3f}"
    h = s.history
    totals = h.column("total_loss") if h else np.zeros(0)
    v["total_start"] = fmt(float(totals[0]), 4) if len(totals) else MISSING
    v["learned_order"] = _learned_order(s)
    words = [s.data.target_word(int(p)) for p in s.tracked]
    v["p_targets"] = ", ".join(f"{w} {p:.3f}" for w, p in zip(words, h[-1].target_probs, strict=True)) if h else MISSING
    attention = attnvalues.values(s, position)
    v.update({k: attention.get(k, MISSING) for k in attnvalues.NAMES})
    return Values(v, totals, compare.lazy_values(s, position))


def _learned_order(session: Session, level: float = 0.9) -> str:
    """The tracked targets ordered by the first step their P(target) reached ``level``
    (the lesson's "later words learn faster", as this run shows it)."""
    h = session.history
    if not h:
        return MISSING
    probs, steps = h.column("target_probs"), h.column("step")  # (rows, T): one a step unless thinned
    d = session.data
    words = [d.target_word(int(p)) for p in session.tracked]
    firsts = []
    for j, w in enumerate(words):
        hit = np.flatnonzero(probs[:, j] >= level)
        firsts.append((int(steps[hit[0]]) if hit.size else math.inf, j, w))
    firsts.sort()
    return ", ".join(f"{w} (step {k})" if k != math.inf else f"{w} (not yet)" for k, _, w in firsts)


def fill_caption(template: str, values: Mapping[str, str]) -> str:
    """``template`` with its placeholders filled (checked at load time, so none is unknown)."""
    return string.Formatter().vformat(template, (), values)


#: where a caption's sentences end (a full stop, ? or !, then a space and the next sentence)
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z\"(])")


def filled(template: str, values: Mapping[str, str]) -> str:
    """``template`` filled, leaving out each sentence with a number that does not exist yet (before
    the forward pass there is no logit: the sentence waits for it, it never reads "-")."""
    kept = []
    for sentence in _SENTENCE_END.split(template.strip()):
        if all(values[name] != MISSING for name in placeholders_in(sentence)):
            kept.append(fill_caption(sentence, values))
    return " ".join(kept)
