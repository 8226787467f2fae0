"""core.breakpoints.parse refuses a bad condition with a reason code and its data, never a sentence
(the app words it: tui_trainer/narrate_breakpoints.py; tests/app/test_breakpoint_messages.py)."""

from __future__ import annotations

import ast
import copy
import inspect
import math
import pickle
import re

import pytest

from core import breakpoints
from core.breakpoints import CODES, BreakpointError, parse
from core.reasons import CodedError

TARGETS = ["we", "love", "deep", "learning", "we"]
ONCE = ("we", "love", "deep", "learning")  # (each target once in the data)
GPT = (2, 3)  # layers, heads
GPT_DATA = {"layers": 2, "heads": 3}

# expression, the model's attention, then the code and its data, written out here
CASES = [
    ("total<1,,loss_up", None, "empty_condition", {"part": "total<1,,loss_up"}),
    ("  ", None, "empty_condition", {"part": "  "}),
    ("lossy<3", None, "unreadable", {"part": "lossy<3"}),
    ("p(Hate)>0.5", None, "not_a_target", {"part": "p(Hate)>0.5", "word": "hate", "targets": ONCE}),
    ("p(we)>2", None, "probability_range", {"part": "p(we)>2", "value": 2.0}),
    ("PREV(0)>0.5", None, "no_attention", {"part": "PREV(0)>0.5", "kind": "prev"}),
    ("attn_entropy(a.0)<1", GPT, "not_whole", {"part": "attn_entropy(a.0)<1", "kind": "attn_entropy", **GPT_DATA}),
    ("prev(2.0)>0.5", GPT, "no_layer", {"part": "prev(2.0)>0.5", "layer": 2, **GPT_DATA}),
    ("prev(1.-1)>0.5", GPT, "no_head", {"part": "prev(1.-1)>0.5", "head": -1, **GPT_DATA}),
    ("prev(1.2)>1.5", GPT, "previous_range", {"part": "prev(1.2)>1.5", "value": 1.5}),
    ("attn_entropy(0)<-0.5", GPT, "entropy_range", {"part": "attn_entropy(0)<-0.5", "value": -0.5}),
    ("loss<<3", None, "not_a_number", {"part": "loss<<3", "number": "<3"}),
    ("loss_up, p(we)>nan", None, "not_finite", {"part": "p(we)>nan", "number": "nan"}),
    ("step>=-inf", GPT, "not_finite", {"part": "step>=-inf", "number": "-inf"}),
]  # fmt: skip


@pytest.mark.parametrize("expr,attention,code,data", CASES)
def test_a_bad_condition_gives_its_code_and_data(expr, attention, code, data):
    with pytest.raises(ValueError) as e:  # (callers catch ValueError)
        parse(expr, TARGETS, attention)
    err = e.value
    assert isinstance(err, BreakpointError)
    assert err.code == code and err.data() == data
    for name, value in data.items():  # the data are attributes too
        assert getattr(err, name) == value
    assert str(err).startswith(f"{code}: part=")  # technical: the code, then the data


def test_the_cases_cover_every_code():
    assert {c for _, _, c, _ in CASES} == set(CODES)


def test_the_module_builds_no_english():
    """Every BreakpointError is raised with a code of CODES and data (no string built there), and no
    string in the module but its docstrings holds words separated by spaces."""
    tree = ast.parse(inspect.getsource(breakpoints))
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
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "BreakpointError":
            code, *rest = node.args
            assert isinstance(code, ast.Constant) and code.value in CODES, ast.unparse(node)
            for arg in rest + [k.value for k in node.keywords]:
                assert not isinstance(arg, ast.JoinedStr | ast.Constant), ast.unparse(node)
            raised.append(code.value)
    assert set(raised) == set(CODES)  # (and the check above saw them all)


def test_an_unset_number_is_nan_not_a_made_up_value():
    with pytest.raises(BreakpointError) as e:
        parse("lossy<3", TARGETS)
    assert math.isnan(e.value.value) and e.value.data() == {"part": "lossy<3"}


@pytest.mark.parametrize("expr,attention,code,data", CASES[2::3])
def test_it_is_a_coded_error_whose_copies_and_pickles_keep_code_and_data(expr, attention, code, data):
    with pytest.raises(CodedError) as e:  # (core.reasons' shape: CODES, data(), a technical str)
        parse(expr, TARGETS, attention)
    assert BreakpointError.CODES[code] == tuple(data)  # (part first, then the code's data)
    for again in (copy.copy(e.value), pickle.loads(pickle.dumps(e.value))):
        assert type(again) is BreakpointError and again.code == code and again.data() == data
        assert str(again) == str(e.value)


def test_it_takes_exactly_its_codes_data():
    with pytest.raises(TypeError):
        BreakpointError("no_head", part="prev(9)>0.5")  # (no head, layers, heads)
    with pytest.raises(TypeError):
        BreakpointError("unreadable", "lossy<3")  # (the part is named: part=)
    assert BreakpointError("unreadable", part="lossy<3").data() == {"part": "lossy<3"}
