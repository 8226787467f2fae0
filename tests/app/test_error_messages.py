"""The sentence for each reason core gives as a code (core.reasons.CodedError; worded by
tui_trainer/narrate_errors.py), where a user sees it: the command line, a lesson file, a checkpoint
loaded on the command line or in the app. Each sentence is written out: the same words as before
the errors became codes."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from conftest import narration

from core import Session
from core.checkpoint import save_checkpoint
from core.config import ConfigError
from core.data import build_dataset, dataset_from_text
from core.generate import SamplingError, prompt_ids, sample
from core.models import GPTConfig, ModelConfigError
from core.reasons import CodedError
from core.tokens import TokensError
from core.vocab import Vocab, VocabError
from tui_trainer import cli
from tui_trainer.app import TrainerApp
from tui_trainer.lesson import LessonError, load_lesson
from tui_trainer.narrate_errors import SAYS, say

PROG = "tui-trainer: error: "

# the --tokens (or a lesson's tokens =) given, its sentence
TOKENS = [
    ("bpe:x", "unknown tokens 'bpe:x': word, char, bpe or bpe:N (N merges)"),
    ("char:3", "char takes no number: only bpe:N does"),
    ("bpe:20001", "bpe:20001: the number of merges must be 0 to 20,000"),
]


def test_every_code_is_worded():
    assert set(SAYS) == {ConfigError, ModelConfigError, TokensError, SamplingError, VocabError}
    for cls, says in SAYS.items():
        assert issubclass(cls, CodedError) and set(says) == set(cls.CODES)


@pytest.mark.parametrize("spec,sentence", TOKENS)
def test_tokens_on_the_command_line(capsys, spec, sentence):
    assert cli.main(["train", "--tokens", spec]) == 2  # (argparse reads --tokens: its usage, then the line)
    assert capsys.readouterr().err.splitlines()[-1] == f"{PROG}argument --tokens: {sentence}"


@pytest.mark.parametrize("spec,sentence", TOKENS)
def test_tokens_in_a_lesson_file(tmp_path, spec, sentence):
    path = tmp_path / "bad.toml"
    path.write_text(f'[lesson]\ntokens = "{spec}"\n[[scene]]\ntitle = "a"\ncaption = "x"\n')
    with pytest.raises(LessonError) as e:
        load_lesson(path)
    assert str(e.value).endswith(f"[lesson] {sentence}"), str(e.value)


def test_a_tokenizer_of_no_kind():  # (no user reaches it: a Tokenizer built in code)
    assert say(TokensError("unknown_kind", kind="x")) == "unknown tokens 'x': word, char or bpe"


@pytest.fixture(scope="module")
def bad_checkpoints(tmp_path_factory):
    """Checkpoints of the lesson whose settings core refuses with a code: name -> (path, sentence)."""
    folder = tmp_path_factory.mktemp("ck")
    s = Session.create()
    s.run(2)
    with np.load(save_checkpoint(s, folder / "good.npz")) as z:
        arrays = {k: z[k] for k in z.files}
    header = json.loads(arrays.pop("header").tobytes())
    out = {}
    settings = [("tokens", spec, sentence) for spec, sentence in TOKENS] + [
        ("context", 0, "the context size must be at least 1"),
        ("text", "... !", "the text has no words"),
        ("vocab", ["we", "love"], NOT_IN_VOCAB),
        ("lr", 1e9, "the learning rate 1e+09 is absurdly large (the limit is 1000)"),
        ("clip", -1, "the clipping norm must be a positive number, not -1"),
        ("reduction", "max", "unknown reduction 'max' (choose from mean, sum)"),
        ("val_fraction", 0.9, "the validation fraction must be between 0 and 0.5, not 0.9"),
        ("val_every", 0, "val_every must be at least 1"),
        ("hidden1", 0, "hidden1 must be a positive integer, not 0"),  # (the MLP's own check)
        ("dtype", "float16", "dtype must be float32 or float64, not 'float16'"),
    ]
    for key, value, sentence in settings:
        h = json.loads(json.dumps(header))
        h["config"][key] = value
        buf = io.BytesIO()
        np.savez(buf, header=np.frombuffer(json.dumps(h).encode(), dtype=np.uint8), **arrays)
        name = f"{key}-{str(value).replace(':', '-')}.npz"
        (folder / name).write_bytes(buf.getvalue())
        said = f"{name} is not a usable tui-trainer checkpoint: its settings do not build a session ({sentence})"
        out[f"{key} {value}"] = (folder / name, said)
    return out


NOT_IN_VOCAB = (
    "2 word(s) not in the vocabulary: 'deep' (sentence 1 word 3); 'learning' (sentence 1 word 4) "
    "(add them to the vocabulary, or map them to <UNK>)"
)
CHECKPOINTS = [f"tokens {spec}" for spec, _ in TOKENS] + ["context 0", "text ... !", "vocab ['we', 'love']"]
CHECKPOINTS += ["lr 1000000000.0", "clip -1", "reduction max", "val_fraction 0.9", "val_every 0"]
CHECKPOINTS += ["hidden1 0", "dtype float16"]


@pytest.mark.parametrize("case", CHECKPOINTS)
def test_a_checkpoint_on_the_command_line(capsys, bad_checkpoints, case):
    path, said = bad_checkpoints[case]
    assert cli.main(["train", "--load", str(path)]) == 2
    assert capsys.readouterr().err == f"{PROG}{said}\n"


async def test_a_checkpoint_loaded_in_the_app(bad_checkpoints):
    app = TrainerApp(Session.create())
    async with app.run_test(size=(100, 30)) as pilot:
        for path, said in bad_checkpoints.values():
            app.files.load_checkpoint(str(path))
            await pilot.pause()
            assert narration(app) == f"Checkpoint not loaded: {said}. The session is unchanged."


# sampling settings (sample(): the command line and the app check theirs first), their sentence
SAMPLING = [
    ({"temperature": 0}, "the temperature must be a number greater than 0, not 0"),
    ({"temperature": float("nan")}, "the temperature must be a number greater than 0, not nan"),
    ({"temperature": "hot"}, "the temperature must be a number greater than 0, not hot"),
    ({"top_k": 0}, "top-k must be at least 1, not 0"),
    ({"max_words": -2}, "max-words must be at least 1, not -2"),
]


@pytest.mark.parametrize("settings,sentence", SAMPLING)
def test_sampling_settings(settings, sentence):
    s = Session.create()
    with pytest.raises(SamplingError) as e:
        sample(s.model, s.data, **settings)
    assert say(e.value) == sentence


V = Vocab(("<BOS>", "<EOS>", "a"))
SIX = [f"w{i}" for i in range(6)]
WHERE = "sentence 1 word 1, sentence 2 word 2, sentence 2 word 3"
ADD = " (add them to the vocabulary, or map them to <UNK>)"

# a text or vocabulary core refuses, and its sentence
VOCAB = [
    ("empty", lambda: Vocab(()), "the vocabulary is empty"),
    ("twice", lambda: Vocab(("<BOS>", "x", "x")), "the vocabulary lists 'x' twice"),
    ("no <BOS>", lambda: Vocab(("a", "b")), "the vocabulary must contain <BOS>"),
    ("3 places", lambda: V.encode([["b"], ["a", "b", "b"]]), f"1 word(s) not in the vocabulary: 'b' ({WHERE}){ADD}"),
    ("4 places", lambda: V.encode([["b"], ["a", "b", "b"], ["b"]]),
     f"1 word(s) not in the vocabulary: 'b' ({WHERE}, ...){ADD}"),
    ("6 words", lambda: V.encode([SIX]), "6 word(s) not in the vocabulary: 'w0' (sentence 1 word 1); "
     "'w1' (sentence 1 word 2); 'w2' (sentence 1 word 3); 'w3' (sentence 1 word 4); 'w4' (sentence 1 word 5) "
     f"and 1 more{ADD}"),
    ("context 0", lambda: build_dataset([[2]], V, 0), "the context size must be at least 1"),
    ("no <EOS>", lambda: build_dataset([[1]], Vocab(("<BOS>", "a")), 1, add_eos=True),
     "--eos needs <EOS> in the vocabulary"),
    ("nothing", lambda: build_dataset([[]], V, 2), "the text has no words to predict"),
    ("too long", lambda: dataset_from_text("a" * 20_000_001),
     "the text has 20,000,001 characters; the limit is 20,000,000"),
    ("no words", lambda: dataset_from_text("  "), "the text has no words"),
    ("punctuation", lambda: dataset_from_text(", ;"), "the text has no words, only punctuation"),
    ("100,001", lambda: dataset_from_text(" ".join(f"w{i}" for i in range(99_999))),
     "the vocabulary has 100,001 words; the limit is 100,000"),
    ("prompt 5", lambda: prompt_ids(Session.create().data, "a b we c d e"),
     "the prompt has words the model does not know: 'a', 'b', 'c', 'd', 'e'"),
    ("prompt 6", lambda: prompt_ids(Session.create().data, "a b c d e f"),
     "the prompt has words the model does not know: 'a', 'b', 'c', 'd', 'e' ..."),
]  # fmt: skip


def test_every_vocab_code_is_said_here():
    said = set()
    for _, fails, _ in VOCAB:
        with pytest.raises(VocabError) as e:
            fails()
        said.add(e.value.code)
    assert said == set(VocabError.CODES)


@pytest.mark.parametrize("fails,sentence", [c[1:] for c in VOCAB], ids=[c[0] for c in VOCAB])
def test_a_text_or_vocabulary(fails, sentence):
    with pytest.raises(VocabError) as e:
        fails()
    assert say(e.value) == sentence


@pytest.mark.parametrize(
    "argv,sentence",
    [
        (["train", "--text", "..."], "the text has no words"),
        (["train", "--text", ", ; :"], "the text has no words, only punctuation"),
        (["train", "--vocab", "we love"], NOT_IN_VOCAB),
        (["sample", "--prompt", "we hate it"], "the prompt has words the model does not know: 'hate', 'it'"),
    ],
)
def test_a_text_or_vocabulary_on_the_command_line(capsys, argv, sentence):
    assert cli.main([*argv, "--steps", "1"]) == 2
    assert capsys.readouterr().err == f"{PROG}{sentence}\n"


# a run's settings core refuses (Session.create: the command line and lesson files check some of
# theirs first), and the sentence
CONFIG = [
    ({"model": "rnn"}, "unknown model 'rnn' (choose from mlp, gpt)"),
    ({"layers": 0}, "layers must be a positive integer, not 0"),
    ({"heads": "x"}, "heads must be a positive integer, not 'x'"),
    ({"model": "gpt", "embed_dim": 10}, "the embedding size 10 is not divisible by 4 heads"),
    ({"optimizer": "lion"}, "unknown optimizer 'lion' (choose from sgd, momentum, adam)"),
    ({"lr": "fast"}, "the learning rate must be a number, not 'fast'"),
    ({"lr": float("nan")}, "the learning rate must be finite, not nan"),
    ({"lr": "-inf"}, "the learning rate must be finite, not -inf"),
    ({"lr": 0}, "the learning rate must be greater than 0, not 0"),
    ({"lr": -0.0}, "the learning rate must be greater than 0, not -0"),
    ({"lr": "-1e-3"}, "the learning rate must be greater than 0, not -0.001"),
    ({"lr": 2000.0}, "the learning rate 2000 is absurdly large (the limit is 1000)"),
    ({"lr": 1e-13}, "the learning rate 1e-13 is too small to change anything (the limit is 1e-12)"),
    ({"clip": float("inf")}, "the clipping norm must be a positive number, not inf"),
    ({"clip": -1.5}, "the clipping norm must be a positive number, not -1.5"),
    ({"batch_positions": 0}, "batch_positions must be at least 1"),
    ({"reduction": "max"}, "unknown reduction 'max' (choose from mean, sum)"),
    ({"val_fraction": 0.6}, "the validation fraction must be between 0 and 0.5, not 0.6"),
    ({"val_fraction": "x"}, "the validation fraction must be between 0 and 0.5, not x"),
    ({"val_every": 0}, "val_every must be at least 1"),
    ({"undo_memory": -1}, "undo_memory must be 0 or more"),
]


def test_every_config_code_is_said_here():
    said = set()
    for settings, _ in CONFIG:
        with pytest.raises(ConfigError) as e:
            Session.create(**settings)
        said.add(e.value.code)
    assert said == set(ConfigError.CODES)


@pytest.mark.parametrize("settings,sentence", CONFIG, ids=[str(c[0]) for c in CONFIG])
def test_a_run_s_settings(settings, sentence):
    with pytest.raises(ConfigError) as e:
        Session.create(**settings)
    assert say(e.value) == sentence


@pytest.mark.parametrize(
    "argv,sentence",
    [
        (["train", "--lr", "0"], "argument --lr: the learning rate must be greater than 0, not 0"),
        (["train", "--lr", "1e999"], "argument --lr: the learning rate must be finite, not inf"),
        (["train", "--lr", "-2.50"], "argument --lr: the learning rate must be greater than 0, not -2.5"),
        (["sample", "--lr", "5000"], "argument --lr: the learning rate 5000 is absurdly large (the limit is 1000)"),
        (["sweep", "--lr", "0.1,1e-20"],
         "argument --lr: the learning rate 1e-20 is too small to change anything (the limit is 1e-12)"),
        (["sweep", "--lr", "0.1,x"], "argument --lr: expected a number, got 'x'"),
        (["train", "--model", "gpt", "--heads", "3"], "the embedding size 16 is not divisible by 3 heads"),
        (["sweep", "--model", "gpt", "--embed", "6"], "the embedding size 6 is not divisible by 4 heads"),
    ],
)  # fmt: skip
def test_a_run_s_settings_on_the_command_line(capsys, argv, sentence):
    assert cli.main([*argv, "--steps", "1"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"{PROG}{sentence}"


def test_a_run_s_settings_when_the_app_starts():
    app = cli.build_app(cli.build_parser().parse_args(["--model", "gpt", "--heads", "5", "--embed", "12"]))
    assert not app.load_session()  # (the app builds it after its first paint; its error is shown then)
    assert str(app.startup_error) == "the embedding size 12 is not divisible by 5 heads"


@pytest.mark.parametrize(
    "run,sentence",
    [
        ("lr = 1e9", "the learning rate 1e+09 is absurdly large (the limit is 1000)"),
        ("lr = -0.5", "the learning rate must be greater than 0, not -0.5"),
        ("optimizer = 'lion'", "unknown optimizer 'lion' (choose from sgd, momentum, adam)"),
        ("model = 'gpt'\nheads = 3", "the embedding size 16 is not divisible by 3 heads"),
    ],
)
def test_a_run_s_settings_in_a_lesson_file(tmp_path, run, sentence):
    path = tmp_path / "bad.toml"
    path.write_text(f'[lesson]\n{run}\n[[scene]]\ntitle = "a"\ncaption = "x"\n')
    with pytest.raises(LessonError) as e:
        load_lesson(path)
    assert str(e.value) == f"{path}: [lesson] {sentence}"


# a model's sizes it refuses itself (what SessionConfig does not check: a checkpoint's reach it, above)
MODEL = [
    ({"hidden2": -2}, "hidden2 must be a positive integer, not -2"),
    ({"embed_dim": 2.5}, "embed_dim must be a positive integer, not 2.5"),
    ({"dtype": "float16"}, "dtype must be float32 or float64, not 'float16'"),
    ({"model": "gpt", "dtype": "half"}, "dtype must be float32 or float64, not 'half'"),
    ({"model": "gpt", "embed_dim": 0}, "embed must be a positive integer, not 0"),  # (the GPT's name for it)
]


@pytest.mark.parametrize("settings,sentence", MODEL, ids=[str(c[0]) for c in MODEL])
def test_a_model_s_sizes(settings, sentence):
    with pytest.raises(ModelConfigError) as e:
        Session.create(**settings)
    assert say(e.value) == sentence


def test_a_gpt_whose_heads_do_not_split_its_embedding():  # (SessionConfig refuses it first: a GPTConfig in code)
    with pytest.raises(ModelConfigError) as e:
        GPTConfig(embed=12, heads=5).validate()
    assert say(e.value) == "the embedding size 12 is not divisible by 5 heads"
