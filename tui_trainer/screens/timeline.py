"""Small screens for time: the branch picker (B) and the breakpoint input (/)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from core.breakpoints import BreakpointError
from core.timeline import BranchInfo

from ..narrate_breakpoints import breakpoint_error
from ..palette import Palette
from .dialog import Dialog


def branch_label(b: BranchInfo) -> str:
    """'branch 1 · from step 4 of branch 0 · to step 7 · current'."""
    where = "the first" if b.parent is None else f"from step {b.fork_step} of branch {b.parent}"
    return f"branch {b.id} · {where} · to step {b.steps}" + (" · current" if b.current else "")


class BranchPicker(Dialog[int | None]):
    """Every branch of the timeline; Enter goes to the end of the one chosen, escape closes."""

    BINDINGS = [Binding("escape,q,B", "dismiss_none", "Close")]
    DEFAULT_CSS = """
    BranchPicker > Vertical { width: 80%; max-width: 90; height: auto; max-height: 80%; }
    BranchPicker OptionList { height: auto; max-height: 16; }
    """

    def __init__(self, branches: list[BranchInfo], compare: dict[int, str] | None = None) -> None:
        super().__init__()
        self._branches, self._compare = branches, compare or {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as v:
            v.border_title = "Branches: nothing is ever lost"
            v.border_subtitle = "enter goes there · escape closes"
            yield Static("A training key after going back in time starts a branch; the old future stays here.")
            options = [
                Option(
                    branch_label(b) + (f"\n    {self._compare[b.id]}" if b.id in self._compare else ""), id=str(b.id)
                )
                for b in self._branches
            ]
            yield OptionList(*options, id="branches")

    def on_mount(self) -> None:
        super().on_mount()
        current = next((i for i, b in enumerate(self._branches) if b.current), 0)
        self.query_one(OptionList).highlighted = current

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class InputForm(Dialog[object]):
    """One line to type, read by ``read`` (which raises ``ValueError`` with what is wrong): a
    bad line says why under it and the form stays open; enter with a good one dismisses with
    what ``read`` returned, escape with None. Subclasses set the texts and ``read``."""

    TITLE = ""
    SUBTITLE = "enter · escape cancels"
    HELP = ""
    PLACEHOLDER = ""
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]
    DEFAULT_CSS = """
    InputForm > Vertical { width: 80%; max-width: 90; height: auto; }
    """

    def __init__(self, value: str = "") -> None:
        super().__init__()
        self._value = value
        #: what is wrong with the line entered last ("" before one was)
        self._error = ""

    def read(self, text: str) -> object:
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as v:
            v.border_title, v.border_subtitle = self.TITLE, self.SUBTITLE
            yield Static(self.HELP, markup=False)
            yield Input(value=self._value, placeholder=self.PLACEHOLDER, id="line")
            yield Static("", id="error", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            result = self.read(event.value)
        except ValueError as e:
            self._error = str(e)
            self.recolour()
            return
        self.dismiss(result)

    def paint(self, ink: Palette) -> None:
        self.query_one("#error", Static).update(Text(self._error, style=ink.bad))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class BreakpointInput(InputForm):
    """/: an expression to run until ('p(learning)>0.9, loss_up')."""

    TITLE = "Run until a condition holds"
    SUBTITLE = "enter runs · escape cancels"
    HELP = (
        "total<X  loss<X  val<X  p(WORD)>X  grad_norm>X  step>=N  loss_up  all_correct  nonfinite   (comma = or)\n"
        "GPT: prev(H)>X  prev(L.H)>X  (head H's weight on the previous token)  attn_entropy(H)<X  (nats)"
    )
    PLACEHOLDER = "p(learning)>0.9"

    def __init__(self, parse: Callable[[str], object], last: str = "", example: str = PLACEHOLDER) -> None:
        # the example is the line itself, not a placeholder: enter runs what is shown (as S does);
        # the app's names a word this text's tracked positions predict ('learning' is the lesson's)
        super().__init__(last or example)
        self._parse = parse

    def read(self, text: str) -> object:
        try:
            return self._parse(text)
        except BreakpointError as e:  # a code and its data: the form shows the sentence
            raise ValueError(breakpoint_error(e)) from None


class ForkForm(InputForm):
    """F: a branch from here with another optimizer or learning rate ('adam 0.01', '0.3'), or the
    other model from the start ('model gpt'): ``inputs.parse_fork`` reads it."""

    TITLE = "Fork: try another optimizer or learning rate from here"
    SUBTITLE = "enter forks · escape cancels"
    HELP = (
        "Optimizer and learning rate, e.g. 'adam 0.01', 'momentum', or just '0.3'; or 'model gpt' / "
        "'model mlp': the other model from step 0, same text, tokens and seed. The branch you are on "
        "stays as it is; B switches between them and the loss curve draws both."
    )

    def __init__(
        self, optimizer: str, lr: float, check: Callable[[tuple[str | None, float | None, str | None]], str | None]
    ) -> None:
        super().__init__(f"{optimizer} {lr:g}")
        self._check = check

    def read(self, text: str) -> tuple[str | None, float | None, str | None]:
        from ..inputs import parse_fork

        choice = parse_fork(text)  # (an InputError is a ValueError)
        if problem := self._check(choice):
            raise ValueError(problem)
        return choice


class SweepForm(InputForm):
    """S: learning rates and steps for a sweep from here ('0.01,0.1,1,10 100')."""

    TITLE = "Learning-rate sweep from here"
    SUBTITLE = "enter runs · escape cancels"
    HELP = (
        "Learning rates, comma-separated, then the steps for each: one branch per rate from this step, "
        "drawn together on the loss curve and compared (the lesson's learning-rate table, measured)."
    )

    def __init__(self, steps: int) -> None:
        super().__init__(f"0.01,0.1,1,10 {steps}")
        self._steps = steps

    def read(self, text: str) -> tuple[tuple[float, ...], int]:
        from core import lr_problem

        parts = text.split()
        if len(parts) not in (1, 2):
            raise ValueError("type learning rates and a number of steps, e.g. 0.01,0.1,1 100")
        try:
            lrs = tuple(float(x) for x in parts[0].split(","))
            steps = int(parts[1]) if len(parts) == 2 else self._steps
        except ValueError:
            raise ValueError(f"cannot read {text!r}: e.g. 0.01,0.1,1 100") from None
        if any(lr_problem(x) for x in lrs) or not 1 <= steps <= 100_000 or not 1 <= len(lrs) <= 5:
            raise ValueError("one to five usable learning rates, and 1 to 100,000 steps")
        return lrs, steps
