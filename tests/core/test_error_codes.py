"""Core refuses bad input with a reason code and its data, never a sentence (core.reasons.CodedError;
the app words them: tui_trainer/narrate_errors.py, tests/app/test_error_messages.py)."""

from __future__ import annotations

import ast
import copy
import inspect
import pickle
import re

import pytest

from core import tokens
from core.generate import SamplingError, check_sampling
from core.reasons import CodedError
from core.tokens import Tokenizer, TokensError, parse_spec

# what fails, then the error's class, code and data, written out here
CASES = [
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
]  # fmt: skip
CODED = {TokensError: tokens}  # each class whose module raises nothing else, and that module


@pytest.mark.parametrize("call,fails,cls,code,data", CASES, ids=[c[0] for c in CASES])
def test_a_failure_gives_its_code_and_data(call, fails, cls, code, data):
    with pytest.raises(ValueError) as e:  # (callers catch ValueError)
        fails()
    err = e.value
    assert type(err) is cls and err.code == code and err.data() == data
    for name, value in data.items():  # the data are attributes too
        assert getattr(err, name) == value
    assert str(err) == f"{code}: " + " ".join(f"{k}={v!r}" for k, v in data.items())  # technical
    for again in (copy.copy(err), pickle.loads(pickle.dumps(err))):  # (code and data survive)
        assert type(again) is cls and again.code == code and again.data() == data


@pytest.mark.parametrize("cls", [TokensError, SamplingError], ids=lambda c: c.__name__)
def test_the_cases_cover_every_code(cls):
    assert {c[3] for c in CASES if c[2] is cls} == set(cls.CODES)


def test_an_error_takes_exactly_its_codes_data():
    with pytest.raises(TypeError):
        TokensError("unknown_spec")
    with pytest.raises(TypeError):
        TokensError("unknown_spec", spec="x", kind="y")
    with pytest.raises(TypeError):
        TokensError("no_such_code")


@pytest.mark.parametrize("cls,module", list(CODED.items()), ids=lambda c: getattr(c, "__name__", ""))
def test_the_module_builds_no_english(cls, module):
    """Every error of the class is raised with a code of its CODES and data (no string built there),
    and no string in the module but its docstrings holds words separated by spaces."""
    assert issubclass(cls, CodedError)
    tree = ast.parse(inspect.getsource(module))
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    raised = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            assert not re.search(r"[A-Za-z] +[A-Za-z]", node.value), node.value
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            call = node.exc
            assert getattr(call.func, "id", "") == cls.__name__, ast.unparse(node)  # (no plain ValueError)
            code, *rest = call.args
            assert isinstance(code, ast.Constant) and code.value in cls.CODES, ast.unparse(node)
            for arg in rest + [k.value for k in call.keywords]:
                assert not isinstance(arg, ast.JoinedStr | ast.Constant), ast.unparse(node)
            raised.append(code.value)
    assert set(raised) == set(cls.CODES)
