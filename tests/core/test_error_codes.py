"""Core refuses bad input with a reason code and its data, never a sentence (core.reasons.CodedError;
the app words them: tui_trainer/narrate_errors.py, tests/app/test_error_messages.py)."""

from __future__ import annotations

import ast
import copy
import inspect
import pickle

import pytest

from core import Session, config, data, generate, tokens, vocab
from core.config import ConfigError, SessionConfig, check_lr
from core.data import build_dataset, dataset_from_text
from core.generate import SamplingError, check_sampling, prompt_ids
from core.models import GPTConfig, ModelConfig, ModelConfigError, gpt, mlp
from core.reasons import CodedError
from core.tokens import Tokenizer, TokensError, parse_spec
from core.vocab import Vocab, VocabError

V = Vocab(("<BOS>", "<EOS>", "a"))


def settings(**kw):
    return lambda: SessionConfig(**kw).validate()


# what fails, then the error's class, code and data, written out here
CASES = [
    ("model rnn", settings(model="rnn"), ConfigError, "unknown_model", {"model": "rnn", "choices": ("mlp", "gpt")}),
    ("layers 0", settings(layers=0), ConfigError, "not_positive_integer", {"name": "layers", "value": 0}),
    ("heads 2.5", settings(heads=2.5), ConfigError, "not_positive_integer", {"name": "heads", "value": 2.5}),
    ("gpt embed 10", settings(model="gpt", embed_dim=10), ConfigError, "heads_split", {"embed_dim": 10, "heads": 4}),
    ("gpt 3 heads", settings(model="gpt", heads=3), ConfigError, "heads_split", {"embed_dim": 16, "heads": 3}),
    ("optimizer lion", settings(optimizer="lion"), ConfigError, "unknown_optimizer",
     {"optimizer": "lion", "choices": ("sgd", "momentum", "adam")}),
    ("check_lr('x')", lambda: check_lr("x"), ConfigError, "lr_not_a_number", {"lr": "x"}),
    ("check_lr(None)", lambda: check_lr(None), ConfigError, "lr_not_a_number", {"lr": None}),
    ("lr inf", settings(lr=float("inf")), ConfigError, "lr_not_finite", {"lr": float("inf")}),
    ("check_lr(0)", lambda: check_lr(0), ConfigError, "lr_not_positive", {"lr": 0}),
    ("lr -0.001", settings(lr=-0.001), ConfigError, "lr_not_positive", {"lr": -0.001}),
    ("check_lr('2000')", lambda: check_lr("2000"), ConfigError, "lr_too_large", {"lr": "2000", "limit": 1e3}),
    ("lr 1e-13", settings(lr=1e-13), ConfigError, "lr_too_small", {"lr": 1e-13, "limit": 1e-12}),
    ("clip 0", settings(clip=0), ConfigError, "bad_clip", {"clip": 0}),
    ("clip -inf", settings(clip=-float("inf")), ConfigError, "bad_clip", {"clip": -float("inf")}),
    ("batch_positions 0", settings(batch_positions=0), ConfigError, "bad_batch_positions", {"batch_positions": 0}),
    ("reduction max", settings(reduction="max"), ConfigError, "unknown_reduction",
     {"reduction": "max", "choices": ("mean", "sum")}),
    ("val_fraction 0.6", settings(val_fraction=0.6), ConfigError, "val_fraction_range",
     {"val_fraction": 0.6, "limit": 0.5}),
    ("val_fraction '0.1'", settings(val_fraction="0.1"), ConfigError, "val_fraction_range",
     {"val_fraction": "0.1", "limit": 0.5}),
    ("val_every 0", settings(val_every=0), ConfigError, "bad_val_every", {"val_every": 0}),
    ("undo_memory -1", settings(undo_memory=-1), ConfigError, "bad_undo_memory", {"undo_memory": -1}),
    ("MLP hidden1 0", lambda: ModelConfig(hidden1=0).validate(), ModelConfigError, "not_positive_integer",
     {"name": "hidden1", "value": 0}),
    ("MLP vocab 2.0", lambda: ModelConfig(vocab_size=2.0).validate(), ModelConfigError, "not_positive_integer",
     {"name": "vocab_size", "value": 2.0}),
    ("MLP float16", lambda: ModelConfig(dtype="float16").validate(), ModelConfigError, "bad_dtype",
     {"dtype": "float16", "choices": ("float32", "float64")}),
    ("GPT block -1", lambda: GPTConfig(block=-1).validate(), ModelConfigError, "not_positive_integer",
     {"name": "block", "value": -1}),
    ("GPT 12 / 5 heads", lambda: GPTConfig(embed=12, heads=5).validate(), ModelConfigError, "heads_split",
     {"embed_dim": 12, "heads": 5}),
    ("GPT half", lambda: GPTConfig(dtype="half").validate(), ModelConfigError, "bad_dtype",
     {"dtype": "half", "choices": ("float32", "float64")}),
    ("parse_spec('bpe:x')", lambda: parse_spec("bpe:x"), TokensError, "unknown_spec", {"spec": "bpe:x"}),
    ("parse_spec(5)", lambda: parse_spec(5), TokensError, "unknown_spec", {"spec": 5}),
    ("parse_spec('BPE')", lambda: parse_spec("BPE"), TokensError, "unknown_spec", {"spec": "BPE"}),
    ("parse_spec('char:3')", lambda: parse_spec("char:3"), TokensError, "takes_no_number", {"kind": "char"}),
    ("parse_spec(' word:0 ')", lambda: parse_spec(" word:0 "), TokensError, "takes_no_number", {"kind": "word"}),
    ("parse_spec('bpe:20001')", lambda: parse_spec("bpe:20001"), TokensError, "merges_range",
     {"number": "20001", "limit": 20_000}),
    ("parse_spec('bpe:0030000')", lambda: parse_spec("bpe:0030000"), TokensError, "merges_range",
     {"number": "0030000", "limit": 20_000}),
    ("Tokenizer('x')", lambda: Tokenizer("x"), TokensError, "unknown_kind", {"kind": "x"}),
    ("temperature 0", lambda: check_sampling(0, None, 1), SamplingError, "bad_temperature", {"temperature": 0}),
    ("temperature 'x'", lambda: check_sampling("x", 2, 1), SamplingError, "bad_temperature", {"temperature": "x"}),
    ("temperature inf", lambda: check_sampling(float("inf"), 2, 3), SamplingError, "bad_temperature",
     {"temperature": float("inf")}),
    ("top_k 0", lambda: check_sampling(1, 0, 1), SamplingError, "bad_top_k", {"top_k": 0}),
    ("max_words -2", lambda: check_sampling(0.5, None, -2), SamplingError, "bad_max_words", {"max_words": -2}),
    ("Vocab(())", lambda: Vocab(()), VocabError, "empty_vocab", {}),
    ("Vocab a b a", lambda: Vocab(("a", "b", "a")), VocabError, "listed_twice", {"token": "a"}),
    ("Vocab a b", lambda: Vocab(("a", "b")), VocabError, "missing_bos", {"token": "<BOS>"}),
    ("encode b c b b b", lambda: V.encode([["a", "b"], ["c", "b", "b", "b"]]), VocabError, "not_in_vocab",
     {"count": 2, "words": (("b", ((1, 2), (2, 2), (2, 3)), 4), ("c", ((2, 1),), 1))}),
    ("encode six", lambda: V.encode([["a"], [f"w{i}" for i in range(6)]], unk=True), VocabError, "not_in_vocab",
     {"count": 6, "words": tuple((f"w{i}", ((2, i + 1),), 1) for i in range(5))}),
    ("context 0", lambda: build_dataset([[2]], V, 0), VocabError, "context_too_small", {"context_size": 0}),
    ("eos, no <EOS>", lambda: build_dataset([[1]], Vocab(("<BOS>", "a")), 2, add_eos=True), VocabError,
     "eos_missing", {"token": "<EOS>"}),
    ("no sentences", lambda: build_dataset([], V, 2), VocabError, "nothing_to_predict", {}),
    ("empty sentences", lambda: build_dataset([[], []], V, 2), VocabError, "nothing_to_predict", {}),
    ("20,000,001 characters", lambda: dataset_from_text("a" * 20_000_001), VocabError, "text_too_long",
     {"chars": 20_000_001, "limit": 20_000_000}),
    ("text '  '", lambda: dataset_from_text(" \n "), VocabError, "no_words", {}),
    ("text '... , ;'", lambda: dataset_from_text("... , ;"), VocabError, "only_punctuation", {}),
    ("99,999 words", lambda: dataset_from_text(" ".join(f"w{i}" for i in range(99_999))), VocabError,
     "vocab_too_large", {"size": 100_001, "limit": 100_000}),
    ("prompt 'we zz love yy'", lambda: prompt_ids(Session.create().data, "we zz love yy"), VocabError,
     "unknown_prompt_words", {"words": ("zz", "yy")}),
]  # fmt: skip
CODED = {
    ConfigError: [config],
    ModelConfigError: [mlp, gpt],
    TokensError: [tokens],
    SamplingError: [generate],
    VocabError: [vocab, data, generate],
}  # who raises it


@pytest.mark.parametrize("call,fails,cls,code,data", CASES, ids=[c[0] for c in CASES])
def test_a_failure_gives_its_code_and_data(call, fails, cls, code, data):
    with pytest.raises(ValueError) as e:  # (callers catch ValueError)
        fails()
    err = e.value
    assert type(err) is cls and err.code == code and err.data() == data
    for name, value in data.items():  # the data are attributes too
        assert getattr(err, name) == value
    assert str(err) == " ".join([f"{code}:", *(f"{k}={v!r}" for k, v in data.items())])  # technical
    for again in (copy.copy(err), pickle.loads(pickle.dumps(err))):  # (code and data survive)
        assert type(again) is cls and again.code == code and again.data() == data


@pytest.mark.parametrize("cls", list(CODED), ids=lambda c: c.__name__)
def test_the_cases_cover_every_code(cls):
    assert {c[3] for c in CASES if c[2] is cls} == set(cls.CODES)


def test_an_error_takes_exactly_its_codes_data():
    with pytest.raises(TypeError):
        TokensError("unknown_spec")
    with pytest.raises(TypeError):
        TokensError("unknown_spec", spec="x", kind="y")
    with pytest.raises(TypeError):
        TokensError("no_such_code")


@pytest.mark.parametrize("cls", list(CODED), ids=lambda c: c.__name__)
def test_the_modules_build_no_english(cls):
    """Every raise in the modules that raise ``cls`` is of one of their coded classes, with a code of
    its CODES and data: no string is built there, and no string but the code is in it."""
    assert issubclass(cls, CodedError)
    raised = []
    for module in CODED[cls]:
        theirs = {c.__name__: c for c, modules in CODED.items() if module in modules}
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            call = node.exc
            assert isinstance(call, ast.Call) and getattr(call.func, "id", "") in theirs, ast.unparse(node)
            code, *rest = call.args
            assert isinstance(code, ast.Constant) and code.value in theirs[call.func.id].CODES, ast.unparse(node)
            for arg in rest + [k.value for k in call.keywords]:
                for part in ast.walk(arg):
                    assert not isinstance(part, ast.JoinedStr), ast.unparse(node)
                    assert not (isinstance(part, ast.Constant) and isinstance(part.value, str)), ast.unparse(node)
            if call.func.id == cls.__name__:
                raised.append(code.value)
    assert set(raised) == set(cls.CODES)
