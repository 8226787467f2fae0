"""Every bad argument or file, for the app and the headless command: one line on stderr, exit 2.

The app case calls ``tui_trainer.cli.main`` with ``TrainerApp.run`` replaced by a trap, so a
case that would start the app fails the test instead of opening a screen. The app paints before it
builds its session, so the trap does what the app does then, without a screen: it builds the
session (``load_session``); an app that got one counts as started, one whose session could not be
built ends as the app would, with the error ``main`` prints (tests/app/test_paint_first.py runs the
real thing).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

import core.files
import tui_trainer.app
from tui_trainer import inputs
from tui_trainer.cli import main

APP, TRAIN = "app", "train"
BOTH = (APP, TRAIN)


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Bad files, made once per test; ``{name}`` in an argument is replaced by its path."""
    f = {}

    def make(name: str, data: bytes) -> Path:
        p = tmp_path / name
        p.write_bytes(data)
        f[name.split(".")[0]] = p
        return p

    make("empty.txt", b"")
    make("blank.txt", b"  \n\t\n  ")
    make("binary.txt", b"\x00\x01\x02hello\x00world")
    make("latin1.txt", "caf\xe9 au lait".encode("latin-1"))
    make("punct.txt", b"... !!! ??? ,,, ;;; --\n")
    make("vocab.txt", b"<BOS> we love\n")
    make("good.txt", b"we love deep learning.\n")
    make("my notes.txt", b"we love deep learning.\n")
    make("damaged.npz", b"PK\x03\x04 this is not really a zip archive")
    locked = make("locked.txt", b"we love deep learning\n")
    # As root, chmod 000 does not stop reading; simulate a permission error for this one file.
    real_read = core.files.read_regular

    def read_regular(path, limit):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_read(path, limit)

    monkeypatch.setattr(core.files, "read_regular", read_regular)  # (inputs imports it when it reads)
    huge = tmp_path / "huge.txt"  # sparse: no disk blocks written
    with open(huge, "wb") as h:
        h.truncate(25_000_000)
    f["huge"] = huge
    f["missing"] = tmp_path / "missing.txt"
    f["dir"] = tmp_path
    return f


def trap(started: list):
    """``TrainerApp.run`` without a screen: the session built as the app builds it after its first
    paint; the app appended to ``started`` if it got one."""

    def run(self, *args, **kwargs) -> None:
        if self.load_session():
            started.append(self)

    return run


# (argv after the command, expected words in the message, modes it applies to)
CASES = [
    # files
    (["--corpus", "{missing}"], "does not exist", BOTH),
    (["--corpus", "{dir}"], "is a directory", BOTH),
    (["--corpus", "{locked}"], "permission denied", BOTH),
    (["--corpus", "{empty}"], "is empty", BOTH),
    (["--corpus", "{blank}"], "is empty", BOTH),
    (["--corpus", "{binary}"], "looks binary", BOTH),
    (["--corpus", "{latin1}"], "not UTF-8", BOTH),
    (["--corpus", "{punct}"], "no words, only punctuation", BOTH),
    (["--corpus", "{huge}"], "the limit is 20 MB", BOTH),
    (["--corpus", "{good}", "--text", "we"], "not both", BOTH),
    (["--text", "{good}"], "is a file: use --corpus", BOTH),  # (it trained on the path's words)
    (["--text", "{my notes}"], "is a file: use --corpus", BOTH),
    # text and vocabulary
    (["--text", ""], "the text is empty", BOTH),
    (["--text", " ... "], "no words", BOTH),
    (["--text", ", ; : -"], "only punctuation", BOTH),
    (["--vocab", "we love", "--text", "we love pizza"], "'pizza' (sentence 1 word 3)", BOTH),
    (["--vocab", "@{vocab}"], "'deep'", BOTH),
    (["--vocab", "@{missing}"], "vocabulary file", BOTH),
    (["--vocab", "@{empty}"], "is empty", BOTH),
    (["--vocab", "@{dir}"], "is a directory", BOTH),
    (["--vocab", "@{binary}"], "looks binary", BOTH),
    (["--vocab", "   "], "vocabulary is empty", BOTH),
    # sizes
    (["--context", "0"], "at least 1", BOTH),
    (["--embed", "-1"], "at least 1", BOTH),
    (["--hidden", "0"], "at least 1", BOTH),
    (["--hidden2", "0"], "at least 1", BOTH),
    (["--batch-positions", "0"], "at least 1", BOTH),
    (["--hidden", "ten"], "whole number", BOTH),
    (["--hidden", "99999999999"], "the limit is 20,000,000", BOTH),
    (["--embed", "100000000"], "parameters", BOTH),
    (["--seed", "-1"], "0 or more", BOTH),
    (["--run-n", "0"], "at least 1", (APP,)),
    (["--undo-memory", "-1"], "0 or more", (APP,)),
    (["--undo-memory", "5e3"], "whole number", (APP,)),
    (["--undo-memory", "9999999999"], "more than a terabyte", (APP,)),
    (["--steps", "-5"], "0 or more", (TRAIN,)),
    (["--every", "0"], "at least 1", (TRAIN,)),
    # learning rate, clipping, optimizer, theme
    (["--lr", "0"], "greater than 0", BOTH),
    (["--lr", "-0.1"], "greater than 0", BOTH),
    (["--lr", "nan"], "finite", BOTH),
    (["--lr", "inf"], "finite", BOTH),
    (["--lr=-inf"], "finite", BOTH),
    (["--lr", "1e308"], "absurdly large", BOTH),
    (["--lr", "abc"], "expected a number", BOTH),
    (["--clip", "0"], "greater than 0", BOTH),
    (["--clip", "nan"], "finite", BOTH),
    (["--optimizer", "rmsprop"], "unknown optimizer 'rmsprop'", BOTH),
    (["--dtype", "float16"], "invalid choice", BOTH),
    (["--theme", "neon"], "unknown theme 'neon'", (APP,)),
    # checkpoints
    (["--load", "{damaged}"], "not a usable tui-trainer checkpoint", BOTH),
    (["--load", "{missing}"], "missing.txt", BOTH),
    # the command line itself
    (["--bogus"], "unrecognized arguments", BOTH),
    (["--lr"], "expected one argument", BOTH),
]


def _ids():
    return [f"{mode}:{' '.join(args)}" for args, _, modes in CASES for mode in modes]


@pytest.mark.parametrize(
    "mode,args,expect",
    [(mode, args, expect) for args, expect, modes in CASES for mode in modes],
    ids=_ids(),
)
def test_bad_input_one_line_exit_2(mode, args, expect, files, capsys, monkeypatch):
    started = []
    monkeypatch.setattr(tui_trainer.app.TrainerApp, "run", trap(started))
    argv = ([] if mode == APP else ["train"]) + [a.format(**files) for a in args]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (argv, out, err)
    assert not started, "the app started"
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tui-trainer: error: "), err
    assert expect.lower() in lines[0].lower(), err
    assert "Traceback" not in err


def test_good_input_starts_the_app(files, capsys, monkeypatch):
    """The trap works: a good command line reaches app.run."""
    started = []
    monkeypatch.setattr(tui_trainer.app.TrainerApp, "run", trap(started))
    assert main(["--corpus", str(files["good"])]) == 0
    assert len(started) == 1 and started[0].session.data.n_positions == 4


def test_invisible_characters_and_bom_are_not_words(files):
    """A byte-order mark, zero-width spaces and terminal escapes never become (blank) tokens."""
    from core import Session

    text = "\ufeffwe lo\u200bve\x1b[0m deep\u00ad learning"
    s = Session.create(text=text)
    assert s.vocab.tokens == ("<BOS>", "<EOS>", "we", "love", "[", "0m", "deep", "learning")


def _big_text(n_chars: int, n_words: int, seed: int = 0) -> tuple[str, list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(n_words)]
    sentences, size = [], 0
    while size < n_chars:
        s = " ".join(rng.choice(words) for _ in range(10)) + "."
        sentences.append(s)
        size += len(s) + 1
    return " ".join(sentences), words


def test_megabyte_text_with_a_50k_vocabulary_loads_with_progress(tmp_path, capsys, monkeypatch):
    """1 MB of text and a 50,000-word vocabulary file: accepted, with progress on stderr while it loads
    (the text is tokenized before the app starts). The time it took is printed, not asserted."""
    text, words = _big_text(1_100_000, 50_000)
    corpus = tmp_path / "big.txt"
    corpus.write_text(text, encoding="utf-8")
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["<BOS>", "<EOS>", *words]), encoding="utf-8")
    started = []
    monkeypatch.setattr(tui_trainer.app.TrainerApp, "run", trap(started))
    t0 = time.perf_counter()
    assert main(["--corpus", str(corpus), "--vocab", f"@{vocab}"]) == 0
    elapsed = time.perf_counter() - t0
    _, err = capsys.readouterr()
    assert "reading 1.1 MB of text" in err and "vocabulary 50,002" in err
    s = started[0].session
    assert len(s.vocab) == 50_002 and s.data.n_positions > 100_000
    print(f"1.1 MB text, 50k vocabulary: loaded in {elapsed:.2f} s")


def test_progress_starts_one_character_above_the_threshold(capsys, monkeypatch):
    """Texts longer than PROGRESS_CHARS characters (a million: some 0.3 s of tokenizing) get the
    progress lines; one at the threshold does not (shown here with a threshold of a sentence)."""
    monkeypatch.setattr(tui_trainer.app.TrainerApp, "run", trap([]))
    text = "the cat sat. the dog sat."
    monkeypatch.setattr(inputs, "PROGRESS_CHARS", len(text))
    assert main(["--text", text]) == 0
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(inputs, "PROGRESS_CHARS", len(text) - 1)
    assert main(["--text", text]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0] == "tui-trainer: reading 0.0 MB of text…" and "6 positions, vocabulary 6" in err[1]


def test_progress_is_silent_for_small_texts(capsys, monkeypatch):
    monkeypatch.setattr(tui_trainer.app.TrainerApp, "run", trap([]))
    assert main(["--text", "the cat sat. the dog sat."]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.skipif(os.name != "posix", reason="sparse files")
def test_absurd_corpus_size_is_refused_before_reading(tmp_path, monkeypatch, capsys):
    """The size check happens on stat(): a 10 GB sparse file is never read."""
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as h:
        h.truncate(10 * 2**30)
    monkeypatch.setattr(os, "read", lambda *a: pytest.fail("read a huge file"))
    assert main(["train", "--corpus", str(huge)]) == 2
    assert "10737.4 MB; the limit is 20 MB" in capsys.readouterr().err
