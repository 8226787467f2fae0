"""The README's screenshots are the reviewed snapshots themselves: a change to a snapshot that a
README picture shows must reach the picture too (they went stale once: labels the app no longer
shows)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PANES = "tests/panes/__snapshots__/test_snapshots"
SHOWN = {
    "docs/screenshot.svg": f"{PANES}/test_snapshot[run100-wide].svg",
    "docs/viewing-the-past.svg": f"{PANES}/test_snapshot[viewing-the-past-wide].svg",
    "docs/fork-overlay.svg": f"{PANES}/test_snapshot[fork-overlay-wide].svg",
    "docs/chain-rule.svg": f"{PANES}/test_snapshot[chain-rule-wide].svg",
    "docs/lesson-mode.svg": (
        "tests/presenters/__snapshots__/test_lesson_snapshots/test_lesson_snapshot[s7-question-revealed].svg"
    ),
    "docs/attention.svg": "tests/app/__snapshots__/test_attention_pane/test_snapshot_shown_in_the_readme.svg",
    "docs/attention-query.svg": (
        "tests/app/__snapshots__/test_attention_query/test_snapshot_of_one_query[wide-dark].svg"
    ),
}


@pytest.mark.parametrize("doc", sorted(SHOWN))
def test_a_readme_screenshot_is_its_snapshot(doc):
    assert (ROOT / doc).read_bytes() == (ROOT / SHOWN[doc]).read_bytes(), f"copy {SHOWN[doc]} to {doc}"


def test_every_readme_picture_exists():
    readme = (ROOT / "README.md").read_text()
    for doc in SHOWN:
        assert f"]({doc})" in readme and (ROOT / doc).is_file(), doc
