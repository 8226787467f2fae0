"""Vocabulary and a word-level tokenizer.

Token ids are positions in ``Vocab.tokens``. The lesson's vocabulary is the
default; a user's text gets a vocabulary built from its own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .reasons import CodedError

BOS = "<BOS>"
EOS = "<EOS>"
UNK = "<UNK>"
SPECIALS = (BOS, EOS)

#: The lesson's 12 tokens, in the lesson's order.
LESSON_VOCAB: tuple[str, ...] = (
    "<BOS>",
    "we",
    "love",
    "deep",
    "learning",
    "<EOS>",
    "the",
    "is",
    "great",
    "model",
    "hello",
    "world",
)
#: The lesson's target sentence.
LESSON_TEXT = "we love deep learning"

# A word is letters/digits with inner apostrophes or hyphens ("don't", "state-of-the-art");
# any other non-space character is a token of its own (",", ";", "€"), with what completes it
# as one picture: a variation selector, a skin tone, or a zero-width joiner and the next emoji
# (so "👩‍👩‍👧" and "👍🏽" stay one token each).
_WORD = re.compile(
    r"[^\W_]+(?:['’\-][^\W_]+)*|[^\w\s\u200d](?:[\ufe0f\U0001F3FB-\U0001F3FF]|\u200d[^\w\s\u200d])*",
    re.UNICODE,
)
# Sentences end at newlines and at . ! ? followed by space or the end.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# Invisible characters (control codes, zero-width and direction marks, a byte-order mark) are
# dropped before tokenizing: as tokens they would be blank on screen, or move the cursor.
# (the zero-width joiner stays: it joins emoji into one; a stray one matches no token)
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)
_HAS_WORD = re.compile(r"[^\W_]")
_TERMINATORS = {".", "!", "?"}


def has_words(sentences: list[list[str]]) -> bool:
    """True if any token has a letter or digit (a text of only punctuation has nothing to learn)."""
    return any(_HAS_WORD.search(w) for sent in sentences for w in sent)


class VocabError(CodedError):
    """A text or vocabulary the model cannot use: a reason code and its data, which say why and
    where (``tui_trainer.narrate_errors`` words it). Raised here, by ``core.data`` and by
    ``core.generate``."""

    CODES = {
        "empty_vocab": (),
        "listed_twice": ("token",),
        "missing_bos": ("token",),  # (``BOS``)
        # count: how many distinct words of the text are missing; words: the first five, each as
        # (word, its first three places as (sentence, word) numbers from 1, how often it occurs)
        "not_in_vocab": ("count", "words"),
        # core.data
        "context_too_small": ("context_size",),
        "eos_missing": ("token",),  # add_eos, and the vocabulary has no ``EOS``
        "nothing_to_predict": (),  # no sentences, or only empty ones and no ``EOS`` to predict
        "text_too_long": ("chars", "limit"),
        "no_words": (),
        "only_punctuation": (),
        "vocab_too_large": ("size", "limit"),
        # core.generate
        "unknown_prompt_words": ("words",),  # every token of the prompt outside the vocabulary, in order
    }


def split_sentences(text: str, lowercase: bool = True) -> list[list[str]]:
    """Split ``text`` into sentences of words.

    Sentence terminators are dropped (the optional ``<EOS>`` target marks the
    end instead); other punctuation stays as tokens. Empty sentences vanish.
    """
    sentences = []
    text = _INVISIBLE.sub("", text)
    for chunk in _SENTENCE_END.split(text):
        words = _WORD.findall(chunk.lower() if lowercase else chunk)
        while words and words[-1] in _TERMINATORS:
            words.pop()
        if words:
            sentences.append(words)
    return sentences


@dataclass(frozen=True)
class Vocab:
    """An ordered, duplicate-free list of tokens; the index of a token is its id."""

    tokens: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.tokens:
            raise VocabError("empty_vocab")
        seen: dict[str, int] = {}
        for i, tok in enumerate(self.tokens):
            if tok in seen:
                raise VocabError("listed_twice", token=tok)
            seen[tok] = i
        if BOS not in seen:
            raise VocabError("missing_bos", token=BOS)
        object.__setattr__(self, "_index", seen)

    @classmethod
    def lesson(cls) -> Vocab:
        """The lesson's 12-token vocabulary."""
        return cls(LESSON_VOCAB)

    @classmethod
    def from_words(cls, words: list[str] | tuple[str, ...]) -> Vocab:
        """A vocabulary of the given words, with ``<BOS>`` and ``<EOS>`` added first if missing."""
        present = set(words)
        out = dict.fromkeys(s for s in SPECIALS if s not in present)  # an ordered set: linear time
        out.update(dict.fromkeys(words))
        return cls(tuple(out))

    @classmethod
    def from_sentences(cls, sentences: list[list[str]]) -> Vocab:
        """The specials plus every word of ``sentences`` in order of first appearance."""
        return cls.from_words([w for s in sentences for w in s])

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self._index

    def id(self, token: str) -> int:
        """The id of ``token`` (KeyError if absent)."""
        return self._index[token]

    def with_unk(self) -> Vocab:
        """This vocabulary with ``<UNK>`` appended (unchanged if present)."""
        return self if UNK in self else Vocab((*self.tokens, UNK))

    def encode(self, sentences: list[list[str]], unk: bool = False) -> list[list[int]]:
        """Ids of every word; unknown words raise a ``VocabError`` naming them and where they occur,
        or map to ``<UNK>`` when ``unk`` is true (``<UNK>`` must then be in the vocabulary)."""
        missing: dict[str, list] = {}  # word -> [its first three places, how often it occurs]
        out = []
        for si, sent in enumerate(sentences, 1):
            ids = []
            for wi, w in enumerate(sent, 1):
                i = self._index.get(w)
                if i is None:
                    if unk and UNK in self._index:
                        i = self._index[UNK]
                    else:
                        seen = missing.setdefault(w, [[], 0])
                        seen[1] += 1
                        if seen[1] <= 3:
                            seen[0].append((si, wi))
                        continue
                ids.append(i)
            out.append(ids)
        if missing:
            first = tuple((w, tuple(places), n) for w, (places, n) in list(missing.items())[:5])
            raise VocabError("not_in_vocab", count=len(missing), words=first)
        return out

    def decode(self, ids) -> list[str]:
        """Tokens for a sequence of ids."""
        return [self.tokens[int(i)] for i in ids]
