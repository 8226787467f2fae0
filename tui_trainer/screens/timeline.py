"""Small screens for time: the branch picker (B) and the breakpoint input (/)."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from core.timeline import BranchInfo


def branch_label(b: BranchInfo) -> str:
    """'branch 1 · from step 4 of branch 0 · to step 7 · current'."""
    where = "the first" if b.parent is None else f"from step {b.fork_step} of branch {b.parent}"
    return f"branch {b.id} · {where} · to step {b.steps}" + (" · current" if b.current else "")


class BranchPicker(ModalScreen[int | None]):
    """Every branch of the timeline; Enter goes to the end of the one chosen, escape closes."""

    BINDINGS = [Binding("escape,q,B", "dismiss_none", "Close")]
    DEFAULT_CSS = """
    BranchPicker { align: center middle; }
    BranchPicker > Vertical {
        width: 80%; max-width: 90; height: auto; max-height: 80%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    BranchPicker OptionList { height: auto; max-height: 16; }
    """

    def __init__(self, branches: list[BranchInfo]) -> None:
        super().__init__()
        self._branches = branches

    def compose(self) -> ComposeResult:
        with Vertical() as v:
            v.border_title = "Branches: nothing is ever lost"
            v.border_subtitle = "enter goes there · escape closes"
            yield Static("A training key after going back in time starts a branch; the old future stays here.")
            options = [Option(branch_label(b), id=str(b.id)) for b in self._branches]
            yield OptionList(*options, id="branches")

    def on_mount(self) -> None:
        current = next((i for i, b in enumerate(self._branches) if b.current), 0)
        self.query_one(OptionList).highlighted = current

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class BreakpointInput(ModalScreen[object]):
    """An expression to run until ('p(learning)>0.9, loss_up'); a bad one says why and stays open."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]
    DEFAULT_CSS = """
    BreakpointInput { align: center middle; }
    BreakpointInput > Vertical {
        width: 80%; max-width: 90; height: auto;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    BreakpointInput #error { color: $text-error; }
    """

    def __init__(self, parse: Callable[[str], object], last: str = "") -> None:
        super().__init__()
        self._parse, self._last = parse, last

    def compose(self) -> ComposeResult:
        with Vertical() as v:
            v.border_title = "Run until a condition holds"
            v.border_subtitle = "enter runs · escape cancels"
            yield Static(
                "total<X  loss<X  val<X  p(WORD)>X  grad_norm>X  step>=N  loss_up  all_correct  nonfinite"
                "   (comma = or)",
                markup=False,
            )
            yield Input(value=self._last, placeholder="p(learning)>0.9", id="expr")
            yield Static("", id="error", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            bp = self._parse(event.value)
        except ValueError as e:
            self.query_one("#error", Static).update(str(e))
            return
        self.dismiss(bp)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
