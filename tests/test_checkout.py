"""The tests import the checkout they sit in (pyproject.toml's pytest ``pythonpath``): after
`pip install .` a stale copy of core/ sits in site-packages, and after `pip install -e .` the folder
tests/core/ (no __init__.py) once shadowed the real `core` package."""

import sys
from pathlib import Path

from conftest import ROOT

import core
import tui_trainer


def test_core_and_tui_trainer_come_from_this_checkout():
    assert Path(core.__file__) == ROOT / "core" / "__init__.py"
    assert Path(tui_trainer.__file__) == ROOT / "tui_trainer" / "__init__.py"
    assert hasattr(core, "Session")  # (not a namespace package made of tests/core/)
    # and so does every submodule this process has loaded
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in ("core", "tui_trainer"):
            assert Path(module.__file__).resolve().is_relative_to(ROOT), (name, module.__file__)
