"""Tokens: what the model reads and predicts, as words, characters or BPE pieces.

Every kind starts from the same sentences of words (``core.vocab.split_sentences``: lower case,
punctuation marks as words of their own) and cuts each sentence into tokens:

    word     one token per word: the lesson's ``we love deep learning`` is 4 tokens
    char     one token per character, the spaces between words included (``w e ␣ l o ...``)
    bpe:N    byte-pair encoding with N merges learned from the training text: each word starts as
             a space (its boundary, as GPT-2's pieces carry it) and its characters; the most
             frequent adjacent pair (over the text's words, counted with their frequency) becomes
             one token, N times over, in order; a word is then cut by applying the merges in the
             order they were learned

``join`` writes tokens back as text (characters joined; BPE pieces joined, the leading spaces
separating the words), so ``join(split(words)) == " ".join(words)`` for every kind, exactly: a
word never holds a space, so a space in a piece can only be a boundary. On screen a space is shown
as ``VISIBLE_SPACE`` (``shown``).
"""

from __future__ import annotations

import heapq
import itertools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from .reasons import CodedError

#: the word boundary BPE pieces carry: a space (words never hold one, so it is never ambiguous)
BOUNDARY = " "
#: how a space in a token is drawn, so a boundary or a space token can be seen
VISIBLE_SPACE = "▁"
KINDS = ("word", "char", "bpe")
#: merges learned at most (each one a token more in the vocabulary)
MAX_MERGES = 20_000

_SPEC = re.compile(r"^(word|char|bpe)(?::(\d+))?$")


class TokensError(CodedError):
    """A tokenizer spec that cannot be used: a reason code and its data (``tui_trainer.narrate_errors``
    words it)."""

    CODES = {
        "unknown_spec": ("spec",),  # not word, char, bpe or bpe:N (spec as given, perhaps not a str)
        "takes_no_number": ("kind",),  # word:N or char:N
        "merges_range": ("number", "limit"),  # bpe:N with N (the digits as written) above limit
        "unknown_kind": ("kind",),  # a Tokenizer built with a kind not in KINDS
    }


def parse_spec(spec: str) -> tuple[str, int | None]:
    """``"word"``, ``"char"``, ``"bpe"`` or ``"bpe:N"`` -> (kind, N or None for the default)."""
    m = _SPEC.match(spec.strip()) if isinstance(spec, str) else None
    if m is None:
        raise TokensError("unknown_spec", spec=spec)
    kind, n = m.group(1), m.group(2)
    if n is not None and kind != "bpe":
        raise TokensError("takes_no_number", kind=kind)
    if n is not None and not 0 <= int(n) <= MAX_MERGES:
        raise TokensError("merges_range", number=n, limit=MAX_MERGES)
    return kind, None if n is None else int(n)


def default_merges(words: Counter) -> int:
    """The merges ``bpe`` learns when no N is given: about a third of the distinct words, within
    50..500 (the lesson's four words make a few; a book's thousands of words make 500)."""
    return max(50, min(500, len(words) // 3))


@dataclass(frozen=True)
class Merge:
    """One learned merge: ``left + right -> token``, seen ``count`` times when it was chosen."""

    left: str
    right: str
    count: int

    @property
    def token(self) -> str:
        return self.left + self.right


@dataclass(frozen=True)
class Tokenizer:
    """How sentences of words become tokens (see the module's docstring); ``merges`` in order."""

    kind: str = "word"
    merges: tuple[Merge, ...] = ()
    _rank: dict[tuple[str, str], int] = field(init=False, repr=False, compare=False)
    #: each word's pieces with every merge (a text repeats its words: each is cut once)
    _cache: dict[str, list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TokensError("unknown_kind", kind=self.kind)
        object.__setattr__(self, "_rank", {(m.left, m.right): i for i, m in enumerate(self.merges)})
        object.__setattr__(self, "_cache", {})

    @property
    def spec(self) -> str:
        return f"bpe:{len(self.merges)}" if self.kind == "bpe" else self.kind

    @classmethod
    def learn(cls, spec: str, sentences: list[list[str]]) -> Tokenizer:
        """The tokenizer ``spec`` names, learned (for BPE) from ``sentences`` of words."""
        kind, n = parse_spec(spec)
        if kind != "bpe":
            return cls(kind)
        words = Counter(w for sent in sentences for w in sent)
        return cls("bpe", learn_merges(words, default_merges(words) if n is None else n))

    def split(self, words: list[str], merges: int | None = None) -> list[str]:
        """One sentence of words as tokens (for BPE, with the first ``merges`` merges only)."""
        if self.kind == "word":
            return list(words)
        if self.kind == "char":
            return list(" ".join(words))
        if merges is not None and merges < len(self.merges):
            return [p for w in words for p in self.pieces(w, merges)]
        cache = self._cache
        out: list[str] = []
        for w in words:
            pieces = cache.get(w)
            if pieces is None:
                pieces = cache[w] = self.pieces(w)
            out += pieces
        return out

    def pieces(self, word: str, merges: int | None = None) -> list[str]:
        """A word cut by the first ``merges`` merges (all by default), lowest rank first, as learned."""
        limit = len(self.merges) if merges is None else merges
        sym = [BOUNDARY, *word]
        while len(sym) > 1:
            ranks = [self._rank.get(p, limit) for p in itertools.pairwise(sym)]
            best = min(ranks)
            if best >= limit:
                break
            i = ranks.index(best)
            sym[i : i + 2] = [sym[i] + sym[i + 1]]
        return sym

    def join(self, tokens: list[str]) -> str:
        """Tokens back to text: words with a space between, characters and BPE pieces joined."""
        if self.kind == "word":
            return " ".join(tokens)
        if self.kind == "char":
            return "".join(tokens)
        return "".join(tokens).strip()


def learn_merges(words: Counter, n: int) -> tuple[Merge, ...]:
    """``n`` merges (fewer if no pair is left) from word frequencies: each time the pair that
    occurs most often across the words (ties: the pair first met in the text's word order),
    merged everywhere. Pair counts are updated only in the words a merge touches, and the most
    frequent pair comes off a heap, so 500 merges over a book's vocabulary take well under a
    second."""
    vocab = [[BOUNDARY, *w] for w in words]  # each distinct word as its current symbols
    freq = list(words.values())
    counts: Counter = Counter()
    where: dict[tuple[str, str], set[int]] = {}
    first: dict[tuple[str, str], int] = {}  # (the order pairs were first seen in: the tie-break)
    for i, sym in enumerate(vocab):
        for p in itertools.pairwise(sym):
            counts[p] += freq[i]
            where.setdefault(p, set()).add(i)
            first.setdefault(p, len(first))
    # (-count, first seen, pair); an entry whose count is no longer the pair's is stale: skipped
    heap = [(-c, first[p], p) for p, c in counts.items()]
    heapq.heapify(heap)
    merges: list[Merge] = []
    while len(merges) < n and heap:
        neg, _, best = heapq.heappop(heap)
        if -neg != counts.get(best, 0) or neg == 0:
            continue
        merges.append(Merge(best[0], best[1], -neg))
        new = best[0] + best[1]
        changed: set[tuple[str, str]] = set()
        for i in sorted(where.pop(best, ())):
            sym = vocab[i]
            for p in itertools.pairwise(sym):  # take this word's pairs out ...
                counts[p] -= freq[i]
                changed.add(p)
            j, out = 0, []
            while j < len(sym):
                if j + 1 < len(sym) and (sym[j], sym[j + 1]) == best:
                    out.append(new)
                    j += 2
                else:
                    out.append(sym[j])
                    j += 1
            vocab[i] = out
            for p in itertools.pairwise(out):  # ... and its new pairs in
                counts[p] += freq[i]
                where.setdefault(p, set()).add(i)
                first.setdefault(p, len(first))
                changed.add(p)
        counts.pop(best, None)
        for p in changed - {best}:
            if counts[p] > 0:
                heapq.heappush(heap, (-counts[p], first[p], p))
    return tuple(merges)


def _invisible(c: str) -> bool:
    """A character a terminal draws as nothing on its own: a combining or enclosing mark, a format
    character (the zero-width joiner), a control, or an emoji skin-tone modifier."""
    return unicodedata.category(c) in ("Mn", "Me", "Cf", "Cc") or 0x1F3FB <= ord(c) <= 0x1F3FF


def shown(token: str) -> str:
    """``token`` as the screen draws it: each space as ``VISIBLE_SPACE``; a token of characters
    drawn as nothing alone (a character token cut from an emoji sequence or an accent) by its code
    points, ``U+200D``, so its row and its place in a line can be seen."""
    if token and all(_invisible(c) for c in token):
        return "".join(f"U+{ord(c):04X}" for c in token)
    return token.replace(" ", VISIBLE_SPACE)
