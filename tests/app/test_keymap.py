"""The one key table (tui_trainer/keymap.py): bindings, help, palette, key scripts and the README
all come from it, and one check_action decides what may run."""

import io
import re

import numpy as np
import pytest
from conftest import ROOT
from rich.console import Console
from rich.table import Table

from tui_trainer.app import TrainerApp
from tui_trainer.keymap import ATTENTION_ACTIONS, IDLE, KEYMAP, VISIBLE, WHEN, readme_keys
from tui_trainer.keys import KEYS, parse_keys
from tui_trainer.screens.help import HelpScreen
from tui_trainer.screens.main import LR_LADDER, MainScreen

README = ROOT / "README.md"


def all_key_names() -> list[str]:
    return [n for e in KEYMAP for k in e.keys for n in k.names()]


def test_no_key_is_bound_twice():
    names = all_key_names()
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_the_apps_bindings_are_the_tables():
    # every key of every entry, bound to its action; in the footer, with its label, if it has one
    table = [(n, k.action, bool(k.label), k.label or e.help) for e in KEYMAP for k in e.keys for n in k.names()]
    got = [(n, b.action, b.show, b.description) for b in MainScreen.BINDINGS for n in b.key.split(",")]
    assert got == table
    # the footer: the lesson's phase keys first, in the order the table gives
    assert [b.key for b in MainScreen.BINDINGS if b.show] == [
        "f", "b", "u", "s", "r", "space", "z", "o", "left_square_bracket", "right_square_bracket",
        "question_mark", "q",
    ]  # fmt: skip


def test_every_action_exists_and_has_a_rule():
    for e in KEYMAP:
        for k in e.keys:
            name = k.action.split("(")[0]
            assert callable(getattr(MainScreen, f"action_{name}", None)), name
            assert WHEN[name] == e.when


def test_script_tokens_are_the_bound_keys_exactly():
    # backspace: lesson mode's "the scene before" (the lesson band binds it, not the app)
    assert set(KEYS.values()) == set(all_key_names()) | {"backspace"}
    # each key as typed, and the long names too
    assert KEYS["["] == "left_square_bracket" and KEYS["left_square_bracket"] == "left_square_bracket"
    assert KEYS["/"] == "slash" and KEYS["esc"] == "escape" and KEYS["G"] == "G"
    assert parse_keys("< > , . home end") == [
        "less_than_sign", "greater_than_sign", "comma", "full_stop", "home", "end",
    ]  # fmt: skip


def readme_key_table(text: str) -> list[tuple[str, str]]:
    section = text.split("## Keys", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    rows = [r for r in rows if not r.startswith(("| key |", "| --- |"))]
    return [tuple(c.strip() for c in row.strip("|").split(" | ", 1)) for row in rows]


def check_readme_key_table(text: str) -> None:
    table = readme_key_table(text)
    assert [k for k, _ in table] == [readme_keys(e) for e in KEYMAP]
    assert all(len(what) >= 5 for _, what in table)  # (a sentence each; "Quit." is the shortest)


def test_the_readmes_key_table_is_the_keymap_in_order():
    check_readme_key_table(README.read_text(encoding="utf-8"))


def _swap_the_first_two_rows(text: str) -> str:
    rows = text.split("\n")
    i = next(i for i, r in enumerate(rows) if r.startswith("| `f` |"))
    rows[i], rows[i + 1] = rows[i + 1], rows[i]
    return "\n".join(rows)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda t: t.replace("\n| `f` |", "\n| `g` |", 1),
        lambda t: t.replace("| `←` `→` / `h` `l` |", "| `←` `→` / `h` |", 1),
        lambda t: "\n".join(r for r in t.split("\n") if not r.startswith("| `f` |")),
        _swap_the_first_two_rows,
        lambda t: t.replace("\n| `q` | Quit. |", "\n| `q` | |", 1),
    ],
    ids=["a wrong key", "a key missing from a row", "a row missing", "two rows swapped", "no sentence"],
)
def test_readme_key_check_can_fail(break_it):
    text = README.read_text(encoding="utf-8")
    broken = break_it(text)
    assert broken != text
    with pytest.raises(AssertionError):
        check_readme_key_table(broken)


async def test_help_lists_each_entry_once_as_a_whole_cell():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#keys").render()._renderable
        assert isinstance(table, Table)
        keys = list(table.columns[0].cells)
        helps = list(table.columns[1].cells)
        assert keys == [e.shown for e in KEYMAP] and helps == [e.help for e in KEYMAP]
        assert "s" in keys and "space" in keys  # (whole cells: "s" is not found inside "space")
        # drawn whole too: the column was 10 cells, and 'tab shift+tab' read 'tab shift…'
        console = Console(width=app.screen.query_one("#keys").content_size.width, file=io.StringIO())
        with console.capture() as cap:
            console.print(table)
        drawn = [line.strip().split("  ")[0] for line in cap.get().splitlines()]
        assert "tab shift+tab" in drawn and not any(k.endswith("…") for k in drawn), drawn
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_palette_has_the_tables_commands_and_not_textuals_duplicates():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)):
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Screenshot" not in titles and "Keys" not in titles
        for e in KEYMAP:
            for title, _ in e.commands():
                assert title in titles
        assert "Forward pass (f)" in titles and "Raise the learning rate (])" in titles


async def test_the_palettes_commands_run_and_refuse_like_keys():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        await commands["Forward pass (f)"].callback()
        assert app.session.phase == "forward"
        app.running = True  # as during a run: the same refusal as the key
        assert app.check_action("backward", ()) is None  # (refused: the key does nothing)
        await commands["Backward pass (b)"].callback()
        assert app.session.phase == "forward" and app.session.backward_result is None  # not run
        assert "Training is running" in str(app.query_one("#narration").render())
        app.running = False
        await pilot.pause()


async def test_while_running_the_footer_greys_what_may_not_run():
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        app.running = True
        await pilot.pause()
        active = app.screen.active_bindings
        for e in KEYMAP:
            for k in e.keys:
                for n in k.names():
                    enabled = active[n].enabled
                    if k.action == "toggle_play":
                        assert enabled  # space pauses the run
                    elif k.action.split("(")[0] in ATTENTION_ACTIONS:
                        assert not enabled  # (the lesson's MLP has no attention: refused, running or not)
                    else:
                        assert enabled == (e.when != IDLE), n
        app.running = False
        await pilot.pause()
        assert all(
            a.enabled
            for a in app.screen.active_bindings.values()
            if a.binding.action.split("(")[0] not in ATTENTION_ACTIONS
        )


@pytest.mark.parametrize("key", ["space", "f", "s", "r", "z", "left_square_bracket", "w", "ctrl+s"])
async def test_a_terminal_too_small_refuses_keys_that_change_or_show_the_state(key, tmp_path):
    # regression: at 40x12 space ran 26,000+ steps (the one guard that was missing)
    app = TrainerApp(output_dir=tmp_path)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        assert app.too_small and not app.running
        assert app.session.step == 0 and app.session.phase == "ready" and app.session.lr == 1.0
        assert list(tmp_path.iterdir()) == [] and len(app.screen_stack) == 1


async def test_too_small_still_lets_help_views_and_quit_work():
    app = TrainerApp()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.press("v")
        assert app.view == "gradients"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape", "q")
    assert app.return_code == 0


def test_the_rules_are_the_documented_ones():
    # what the README promises: during a run f b u s z o are refused; [ ] stay live
    for action in ("forward", "backward", "update", "step", "undo", "cycle_optimizer", "run", "fork", "sweep"):
        assert WHEN[action] == IDLE
    for action in ("lr", "sample", "save_svg", "export"):
        assert WHEN[action] == VISIBLE
    assert re.search(r"While a run is going, `f b u s z o` are refused", README.read_text())


async def test_the_palette_cannot_start_a_run_behind_an_open_dialog():
    # review finding: ctrl+p, "Run N steps" with the sweep form open started a run; the form's
    # answer then forked and trained a second run beside it, and a stale RunFinished ended both
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("S")
        await pilot.pause()
        assert len(app.screen_stack) == 2
        await app.run_keymap_action("run")
        assert not app.running and "A dialog is open" in str(app.query_one("#narration").render())
        # as if a run had started meanwhile: the form's answer is refused like the key
        app.running = True
        for ch in "0.1 5":
            await pilot.press("space" if ch == " " else ch)
        await pilot.press("enter")
        await pilot.pause()
        assert len(app.session.branches()) == 1 and app.session.step == 0
        assert "Training is running" in str(app.query_one("#narration").render())
        app.running = False


async def test_a_stale_run_finished_message_does_not_end_the_current_run():
    from core import ActionResult
    from tui_trainer.runner import RunFinished

    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("space")
        await pilot.pause(0.1)
        assert app.running
        app.post_message(RunFinished(ActionResult("run"), worker=None))  # another run's
        await pilot.pause(0.1)
        assert app.running
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not app.running


async def test_a_sweep_keeps_its_learning_rates():
    # review note: [ and ] during a sweep changed the rate of the branch being swept, so the
    # compare table showed a rate the sweep was not given
    app = TrainerApp()
    async with app.run_test(size=(120, 36)) as pilot:
        app.pacer.speed = 100  # (slow enough to press keys during it)
        await pilot.press("S")
        for ch in "0.1,1 30":
            await pilot.press({" ": "space", ",": "comma", ".": "full_stop"}.get(ch, ch))
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.running
        await pilot.press("right_square_bracket")
        assert "A sweep compares the rates it was given" in str(app.query_one("#narration").render())
        app.pacer.speed = None
        while app.running:
            await pilot.pause(0.05)
        await pilot.press("escape")  # the compare table
        for b in app.session.branches():  # each branch trained at one rate, the one it was given
            col = app.session.branch_history(b.id).column("lr")
            assert len(set(col[np.isfinite(col)].tolist())) == 1, (b.id, set(col.tolist()))
        lrs = {float(app.session.branch_history(b.id).column("lr")[1]) for b in app.session.branches()}
        assert lrs == {0.1, 1.0}
        lr = app.session.lr
        await pilot.press("right_square_bracket")  # after the sweep: as usual, one rung up
        assert app.session.lr == min(x for x in LR_LADDER if x > lr * 1.0001)


async def test_the_footer_rebuilds_its_keys_only_when_they_change():
    """A bindings refresh that changes nothing keeps the footer's key widgets (a rebuild of
    about thirty widgets cost more than the step it followed); a change still shows."""
    app = TrainerApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = list(app.query("FooterKey"))
        assert before and not any(k.has_class("-disabled") for k in before if k.key == "f")
        app.screen.refresh_bindings()
        await pilot.pause()
        assert list(app.query("FooterKey")) == before  # the same widgets, not rebuilt
        app.running = True  # (what a run's start sets): f is refused, and the footer says so
        await pilot.pause()
        forward = [k for k in app.query("FooterKey") if k.key == "f"]
        assert len(forward) == 1 and forward[0].has_class("-disabled")
        app.running = False
        await pilot.pause()
        assert not [k for k in app.query("FooterKey") if k.key == "f" and k.has_class("-disabled")]


async def test_footer_keys_are_styled_once_as_they_are_built(monkeypatch):
    """Textual's footer keys start compact and are then bound to the footer's setting: two
    restyles of each key before it shows. Ours get the setting before they mount, so a rebuild
    restyles no key; the presenter's footer still packs its keys when the window narrows."""
    app = TrainerApp(presenter=True)
    async with app.run_test(size=(130, 40)) as pilot:
        await pilot.pause()
        restyled: list[str] = []
        update_styles = type(app).update_styles

        def counting(self, node, animate=True):
            restyled.append(type(node).__name__)
            update_styles(self, node, animate)

        monkeypatch.setattr(type(app), "update_styles", counting)
        app.running = True  # f, b, u ... become refused: the footer is rebuilt
        await pilot.pause()
        keys = list(app.query("FooterKey"))
        assert any(k.has_class("-disabled") for k in keys)  # it was rebuilt
        assert "FooterKey" not in restyled
        assert not any(k.has_class("-compact") for k in keys)
        app.running = False
        await pilot.resize_terminal(100, 40)  # a projector's width: the keys pack tighter
        await pilot.pause()
        keys = list(app.query("FooterKey"))
        assert keys and all(k.has_class("-compact") for k in keys)
