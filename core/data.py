"""Training data: sentences turned into (context, target) positions.

Every prediction the model makes is one *position*: the ``k`` tokens before
it (padded on the left with ``<BOS>``) and the token to predict. The lesson's
sentence ``<BOS> we love deep learning`` gives four positions:

    context (k=4)                      target
    <BOS> <BOS> <BOS> <BOS>      ->    we
    <BOS> <BOS> <BOS> we         ->    love
    <BOS> <BOS> we    love       ->    deep
    <BOS> we    love  deep       ->    learning
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .tokens import Tokenizer
from .vocab import BOS, EOS, LESSON_TEXT, UNK, Vocab, VocabError, has_words, split_sentences

#: Longest text accepted, in characters: beyond this a corpus should be pre-processed.
MAX_TEXT_CHARS = 20_000_000
#: Largest vocabulary accepted (the output layer is V x hidden, the logits N x V).
MAX_VOCAB = 100_000


@dataclass(eq=False)
class Dataset:
    """All positions of a text, in reading order.

    Attributes:
        vocab: the vocabulary the ids refer to.
        sentences: each sentence's ids, without ``<BOS>``/``<EOS>``.
        contexts: (P, k) ids of the k tokens before each position.
        targets: (P,) id to predict at each position.
        sentence_of: (P,) which sentence each position belongs to.
        index_in_sentence: (P,) 0 for the first prediction of a sentence.
    """

    vocab: Vocab
    sentences: list[list[int]]
    contexts: np.ndarray
    targets: np.ndarray
    sentence_of: np.ndarray
    index_in_sentence: np.ndarray
    add_eos: bool
    #: how the text's words became these tokens (``join`` writes tokens back as text)
    tokenizer: Tokenizer = field(default_factory=Tokenizer)

    @property
    def n_positions(self) -> int:
        return int(self.targets.shape[0])

    @property
    def context_size(self) -> int:
        return int(self.contexts.shape[1])

    def tokens_of(self, sentence: int) -> list[str]:
        """The sentence as the model reads it: ``<BOS>`` first, ``<EOS>`` last if predicted."""
        toks = [BOS, *self.vocab.decode(self.sentences[sentence])]
        return [*toks, EOS] if self.add_eos else toks

    def context_words(self, position: int) -> list[str]:
        """Every token before ``position`` in its sentence (the context grows, as in the lesson)."""
        s = int(self.sentence_of[position])
        return self.tokens_of(s)[: int(self.index_in_sentence[position]) + 1]

    def target_word(self, position: int) -> str:
        return self.vocab.tokens[int(self.targets[position])]


def build_dataset(
    sentences: list[list[int]],
    vocab: Vocab,
    context_size: int,
    add_eos: bool = False,
    tokenizer: Tokenizer | None = None,
) -> Dataset:
    """Positions for every sentence of ids (teacher forcing: all at once)."""
    if context_size < 1:
        raise VocabError("context_too_small", context_size=context_size)
    bos = vocab.id(BOS)
    if add_eos and EOS not in vocab:
        raise VocabError("eos_missing", token=EOS)
    # Vectorized (a 1 MB text has ~150k positions): lay every sentence out as
    # [<BOS>]*k + ids (+ <EOS>) in one flat array, then gather each position's window.
    if not sentences or (not add_eos and not any(sentences)):
        raise VocabError("nothing_to_predict")
    k = context_size
    eos = 1 if add_eos else 0
    n_ids = np.fromiter((len(ids) for ids in sentences), dtype=np.intp, count=len(sentences))
    n_pos = n_ids + eos  # positions (targets) per sentence
    seq_start = np.concatenate(([0], np.cumsum(n_pos + k)[:-1])).astype(np.intp)
    flat = np.full(int((n_pos + k).sum()), bos, dtype=np.intp)
    all_ids = np.fromiter((i for ids in sentences for i in ids), dtype=np.intp, count=int(n_ids.sum()))
    id_start = np.concatenate(([0], np.cumsum(n_ids)[:-1])).astype(np.intp)
    flat[np.repeat(seq_start + k - id_start, n_ids) + np.arange(all_ids.size)] = all_ids
    if add_eos:
        flat[seq_start + k + n_ids] = vocab.id(EOS)
    sent_of = np.repeat(np.arange(len(sentences), dtype=np.intp), n_pos)
    if sent_of.size == 0:
        raise VocabError("nothing_to_predict")
    pos_start = np.concatenate(([0], np.cumsum(n_pos)[:-1])).astype(np.intp)
    idx = np.arange(sent_of.size, dtype=np.intp) - pos_start[sent_of]
    start_at = seq_start[sent_of] + idx
    return Dataset(
        vocab=vocab,
        sentences=[list(s) for s in sentences],
        contexts=flat[start_at[:, None] + np.arange(k)],
        targets=flat[start_at + k],
        sentence_of=sent_of,
        index_in_sentence=idx,
        add_eos=add_eos,
        tokenizer=tokenizer or Tokenizer(),
    )


def dataset_from_text(
    text: str | None = None,
    vocab: Vocab | list[str] | None = None,
    context_size: int = 4,
    add_eos: bool = False,
    unk: bool = False,
    lowercase: bool = True,
    tokens: str | Tokenizer = "word",
) -> Dataset:
    """Tokenize ``text`` (default: the lesson's sentence) into a dataset.

    ``tokens`` is a ``core.tokens`` spec (``word``, ``char``, ``bpe:N``: BPE learned from this
    text) or a tokenizer. With no ``vocab`` the lesson's text in words uses the lesson's
    vocabulary, and any other text a vocabulary of its own tokens. A given vocabulary that misses
    tokens of the text raises ``VocabError`` naming them, unless ``unk`` maps them to ``<UNK>``.
    """
    if text is None:
        text = LESSON_TEXT
        if vocab is None and tokens in ("word", Tokenizer()):
            vocab = Vocab.lesson()
    if len(text) > MAX_TEXT_CHARS:
        raise VocabError("text_too_long", chars=len(text), limit=MAX_TEXT_CHARS)
    sentences = split_sentences(text, lowercase=lowercase)
    if not sentences:
        raise VocabError("no_words")
    if not has_words(sentences):
        raise VocabError("only_punctuation")
    tokenizer = tokens if isinstance(tokens, Tokenizer) else Tokenizer.learn(tokens, sentences)
    if tokenizer.kind != "word":
        sentences = [tokenizer.split(words) for words in sentences]
    if vocab is None:
        vocab = Vocab.from_sentences(sentences)
    elif not isinstance(vocab, Vocab):
        vocab = Vocab.from_words(list(vocab))
    if unk:
        vocab = vocab.with_unk()
    if len(vocab) > MAX_VOCAB:
        raise VocabError("vocab_too_large", size=len(vocab), limit=MAX_VOCAB)
    ids = vocab.encode(sentences, unk=unk)
    return build_dataset(ids, vocab, context_size, add_eos=add_eos, tokenizer=tokenizer)


def split_validation(data: Dataset, fraction: float, seed: int) -> tuple[Dataset, Dataset | None]:
    """Hold out ``fraction`` of the sentences (at random from ``seed``; never the first, whose
    positions the history tracks) as a validation set: ``(train, val)``, or ``(data, None)``
    when there are too few sentences to spare one."""
    n = len(data.sentences)
    k = int(round(fraction * n))
    if fraction <= 0 or n < 3 or k < 1:
        return data, None
    rng = np.random.default_rng((seed, 7919))
    held = set((rng.permutation(n - 1)[:k] + 1).tolist())
    train = [s for i, s in enumerate(data.sentences) if i not in held]
    val = [s for i, s in enumerate(data.sentences) if i in held]
    try:
        tr = build_dataset(train, data.vocab, data.context_size, data.add_eos, data.tokenizer)
        va = build_dataset(val, data.vocab, data.context_size, data.add_eos, data.tokenizer)
    except VocabError:  # e.g. only empty sentences held out
        return data, None
    return tr, va


__all__ = ["UNK", "Dataset", "build_dataset", "dataset_from_text", "split_validation"]
