"""The architecture as a checked contract: import-linter's contracts in pyproject.toml.

core imports no UI; no package has an import cycle among its modules (lazy imports count). The
second test shows the check can fail: the same contracts over a copy of the tree with
``import textual`` added to a core module.
"""

import re
import shutil
import subprocess
import sys

from conftest import ROOT


def _lint(root) -> subprocess.CompletedProcess:
    # a process of its own: the packages are found on its path, not this one's (already imported)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))",
        ],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold():
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    kept = re.search(r"Contracts: (\d+) kept, 0 broken", r.stdout)
    assert kept and int(kept.group(1)) >= 2, r.stdout


def test_the_contracts_fail_when_core_imports_the_ui(tmp_path):
    for pkg in ("core", "tui_trainer"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    losses = tmp_path / "core" / "losses.py"
    losses.write_text(losses.read_text() + "\nimport textual  # noqa\n")
    r = _lint(tmp_path)
    assert r.returncode == 1
    assert "core is pure NumPy: it imports nothing of the UI BROKEN" in r.stdout
    assert "core.losses -> textual" in r.stdout
