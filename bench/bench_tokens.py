"""Tokens: how fast BPE learns its merges, and how each kind of token trains (issue 26).

    python bench/bench_tokens.py                 # both parts
    python bench/bench_tokens.py --speed         # BPE learning time only
    python bench/bench_tokens.py --train         # the training table only (a few minutes)

Speed: ``core.tokens`` learning 500 merges from the default corpus (every file in
/usr/share/common-licenses plus Python's LICENSE.txt, about 300 KB), median of ``--rounds``,
beside the Hugging Face ``tokenizers`` BPE trainer on the same words in the same run when it is
installed (``pip install tokenizers``: not a dependency). The two learn different merges where
pairs tie (ours takes the pair met first in the text), so only the times are compared.

Training: the mean loss at step 0 and step 200 at the defaults (SGD, the model's defaults,
batches of 512 positions on the corpus), for words, characters and BPE, with the MLP and the GPT,
on the lesson, the corpus and the README.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from core import Session  # noqa: E402
from core.tokens import Tokenizer  # noqa: E402
from core.vocab import split_sentences  # noqa: E402


def default_corpus() -> str:
    files = sorted(p for p in Path("/usr/share/common-licenses").glob("*") if p.is_file())
    lic = Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt"
    files += [lic] if lic.is_file() else []
    return "\n".join(p.read_text(errors="replace") for p in files)


def speed(text: str, rounds: int) -> None:
    sentences = split_sentences(text)
    words = Counter(w for s in sentences for w in s)
    print(f"corpus {len(text) / 1e3:.0f} KB, {sum(words.values()):,} words, {len(words):,} distinct")
    ours = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        tok = Tokenizer.learn("bpe:500", sentences)
        ours.append(time.perf_counter() - t0)
    print(f"core.tokens, 500 merges: {statistics.median(ours):.3f} s (median of {rounds}); {len(tok.merges)} learned")
    try:
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import models, pre_tokenizers, trainers
    except ImportError:
        print("tokenizers is not installed: no reference figure")
        return
    theirs = []
    alphabet = len({ch for w in words for ch in w}) + 1  # (+ the boundary)
    for _ in range(rounds):
        hf = HFTokenizer(models.BPE())
        hf.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        trainer = trainers.BpeTrainer(vocab_size=alphabet + 500, show_progress=False)
        lines = [" ".join(s) for s in sentences]
        t0 = time.perf_counter()
        hf.train_from_iterator(lines, trainer)
        theirs.append(time.perf_counter() - t0)
    t_hf = statistics.median(theirs)
    ratio = statistics.median(ours) / t_hf
    print(f"tokenizers (Rust), the same words, ~500 merges: {t_hf:.3f} s; ours / theirs = {ratio:.2f}")


def train_table(corpus: str) -> None:
    texts = {"lesson": None, "licences (300 KB)": corpus, "README": (HERE / "README.md").read_text()}
    print("| text | tokens | model | vocabulary | tokens per step | mean loss, step 0 | step 200 | fall |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, text in texts.items():
        for spec in ("word", "char", "bpe"):
            for model in ("mlp", "gpt"):
                s = Session.create(text=text, tokens=spec, model=model, undo_memory=0)
                s.run(200)
                mean = s.history.column("mean_loss")
                fall = 1 - mean[-1] / mean[0]
                n = len(s.batch())
                print(
                    f"| {name} | {s.data.tokenizer.spec} | {model} | {len(s.vocab):,} | {n} | {mean[0]:.3f} | "
                    f"{mean[-1]:.3f} | {fall:.0%} |",
                    flush=True,
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    both = not (args.speed or args.train)
    corpus = default_corpus()
    if args.speed or both:
        speed(corpus, args.rounds)
    if args.train or both:
        train_table(corpus)


if __name__ == "__main__":
    main()
