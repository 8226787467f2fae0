"""The README's "Layout of the code" lists the tree as it is: every module and package of core/
and tui_trainer/, and every folder of tests/, named once, and nothing that is not there."""

import re

from conftest import ROOT


def layout_block(readme: str) -> list[str]:
    section = readme.split("## Layout of the code", 1)[1]
    return section.split("```", 2)[1].splitlines()[1:]


def listed(lines: list[str], top: str) -> set[str]:
    """The names listed one level under ``top`` (two spaces in; wrapped descriptions go deeper)."""
    names, inside = set(), False
    for line in lines:
        if re.match(r"^\S", line):
            inside = line.split()[0] == top
        elif inside and (m := re.match(r"^  (\S+)", line)):
            names.add(m.group(1))
    return names


def actual(top: str) -> set[str]:
    out = set()
    for p in (ROOT / top).iterdir():
        if p.name.startswith((".", "_")):  # __init__.py, __main__.py, __pycache__, __snapshots__
            continue
        if p.is_dir():
            out.add(p.name + "/")
        elif p.suffix == ".py":
            out.add(p.name)
    return out


def mismatches(lines: list[str]) -> list[str]:
    out = []
    for top in ("core/", "tui_trainer/", "tests/"):
        want, got = actual(top.rstrip("/")), listed(lines, top)
        if top == "tests/":  # its folders (its files are the tests themselves)
            want = {n for n in want if n.endswith("/")}
            got = {n for n in got if n.endswith("/")}
        out += [f"{top}{n} is not listed" for n in sorted(want - got)]
        out += [f"{top}{n} is listed but absent" for n in sorted(got - want)]
    return out


def test_the_readme_lists_every_module_of_core_and_tui_trainer_and_every_test_folder():
    problems = mismatches(layout_block((ROOT / "README.md").read_text()))
    assert not problems, "\n".join(problems)


def test_the_layout_check_sees_a_missing_and_a_stale_entry():
    lines = layout_block((ROOT / "README.md").read_text())
    core = next(i for i, ln in enumerate(lines) if ln.startswith("core/"))
    broken = [ln for ln in lines if not ln.startswith("  session.py")]
    broken.insert(core + 1, "  model.py       the old model module")
    assert {"core/session.py is not listed", "core/model.py is listed but absent"} <= set(mismatches(broken))
