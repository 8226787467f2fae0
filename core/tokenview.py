"""The tokens view's numbers (T): the text's first lines as tokens, and BPE merge by merge.

For merge ``k`` of a BPE tokenizer (0: characters only; every merge: the whole tokenizer): the pair
merged at ``k`` and how often it occurred when it was chosen, the tokens the shown lines cut into
with the first ``k`` merges, the vocabulary's size then (the base symbols and ``k`` merged tokens)
and the tokens per word over the whole training text.
"""

from __future__ import annotations

import weakref
from collections import Counter
from dataclasses import dataclass

from .data import Dataset
from .tokens import BOUNDARY, Merge

#: lines of the training text the view shows
LINES = 6


@dataclass(frozen=True)
class TokenView:
    """One moment of the tokens view. ``lines``: each shown line's tokens with their ids (None: a
    token of an earlier merge that the finished tokenizer no longer makes, so it has no id)."""

    spec: str
    kind: str
    merge: int  # merges applied (of ``merges``)
    merges: int
    last: Merge | None  # the merge that made this moment (None at 0 and for words and characters)
    vocab_size: int
    tokens_per_word: float
    lines: list[list[tuple[str, int | None]]]


def _words(data: Dataset) -> Counter:
    """The training text's words, counted (recovered from its tokens: join writes them back)."""
    got = _WORDS.get(data)
    if got is None:
        tok, tokens = data.tokenizer, data.vocab.tokens
        got = Counter(w for s in data.sentences for w in tok.join([tokens[i] for i in s]).split(" ") if w)
        _WORDS[data] = got
    return got


_WORDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def token_view(data: Dataset, merge: int | None = None, lines: int = LINES) -> TokenView:
    """The view after ``merge`` merges (default: all of them)."""
    tok, vocab = data.tokenizer, data.vocab
    n = len(tok.merges)
    k = n if merge is None else max(0, min(merge, n))
    words = _words(data)
    shown_lines = []
    for s in data.sentences[:lines]:
        line_words = tok.join([vocab.tokens[i] for i in s]).split(" ")
        cut = tok.split([w for w in line_words if w], k)
        shown_lines.append([(t, vocab.id(t) if t in vocab else None) for t in cut])
    total = sum(words.values()) or 1
    if tok.kind == "bpe":
        per_word = sum(c * len(tok.pieces(w, k)) for w, c in words.items()) / total
        base = len({BOUNDARY, *(ch for w in words for ch in w)})
        size = base + k
    else:  # the tokens the text is (characters: the spaces between words too) per word
        per_word = sum(len(s) for s in data.sentences) / total
        size = len(vocab)
    return TokenView(tok.spec, tok.kind, k, n, tok.merges[k - 1] if k else None, size, per_word, shown_lines)
