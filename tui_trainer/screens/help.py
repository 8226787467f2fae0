"""The ? screen: every key with a sentence each."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..palette import palette

#: (keys, what they do). The app's BINDINGS use the same keys; a test checks they agree.
KEY_HELP: list[tuple[str, str]] = [
    ("f", "Forward pass: compute logits, probabilities and the loss at every position at once."),
    ("b", "Backward pass: gradients of the loss (mean over positions) for every parameter (runs f first if needed)."),
    (
        "u",
        "Update: apply the optimizer (runs f and b first if needed). sgd: new = old - lr × grad; momentum: "
        "v = 0.9 v + grad, new = old - lr × v; adam: new = old - lr × m̂ / (√v̂ + ε).",
    ),
    ("s", "One full training step: forward, backward, update, then the forward pass of the new parameters."),
    ("r", "Run N steps in the background (N from --run-n; type a count first, e.g. 500r)."),
    ("0-9", "Type a count for the next r, or a step number for G (shown in the status bar)."),
    ("space", "Play / pause: keep training until paused."),
    ("escape", "Stop a run between steps, or clear a typed count."),
    ("z", "Undo the last action exactly (a step, a phase, an lr or optimizer change): nothing is lost."),
    ("Z", "Redo: do again what z took back; a new action instead starts a branch (the old one is kept)."),
    ("< >", "Time travel: the previous / next step on this branch; every pane shows that moment."),
    (", .", "One action back / forward (a phase, a step or a setting), like z and Z."),
    ("Home End", "Step 0 / the newest state of this branch."),
    ("G", "Go to the step typed before it, e.g. 40G."),
    ("B", "Branches: every line of time this session made; enter goes to one's newest state."),
    ("F", "Fork: a branch from here with another optimizer or learning rate; the curve overlays the branches."),
    ("S", "Learning-rate sweep from here: one branch per rate, drawn together and compared (the lesson's S10)."),
    ("/", "Run until a condition holds, e.g. p(learning)>0.9 or total<0.05,loss_up (comma = or)."),
    ("- +", "Slow motion: fewer / more steps per second for r and space (= works as +; --speed sets it)."),
    ("← → / h l", "Select the previous / next position (context, logits, softmax follow)."),
    ("o", "Cycle the optimizer: sgd → momentum → adam (its state starts from zero)."),
    ("x", "The chain rule for one weight: its gradient as a sum over positions, beside a nudge probe (after b)."),
    ("w", "Samples: a sentence the model writes now, each word's probability, beside earlier ones (t: temperature)."),
    ("k", "Gradient clipping on / off: a gradient longer than 1 is scaled to length 1 before the update."),
    ("[ ]", "Lower / raise the learning rate one step on a 1-3-10 ladder."),
    ("g", "Loss curve: toggle a log scale."),
    ("t", "Loss pane: P(target) at each position over the steps, a colour each (does a later word learn faster?)."),
    ("p", "Loss pane: toggle the per-position P(target) table (the lesson's progress table)."),
    ("v", "Small terminals: show the next pane (logits, softmax, gradients, loss)."),
    ("ctrl+s", "Save an SVG screenshot of the screen (in --screenshot-dir)."),
    ("e", "Export the training history as JSON and CSV (in --screenshot-dir)."),
    ("c", "Save a checkpoint: parameters, optimizer state, vocabulary, step, history."),
    ("C", "Load the newest checkpoint in --screenshot-dir (same vocabulary); z undoes it."),
    ("ctrl+p", "Command palette: every action by name."),
    ("?", "This help."),
    ("q", "Quit."),
]


class HelpScreen(ModalScreen[None]):
    """Every key with a sentence each; any of escape, ? or q closes it."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close help"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 90%;
        max-width: 100;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll() as v:
            v.border_title = "tui-trainer keys"
            v.border_subtitle = "escape closes"
            yield Static(
                "Each key moves training one visible step. Every number is computed live by a real NumPy model.\n"
            )
            yield Static(id="keys")

    def on_mount(self) -> None:
        # colours from the theme, readable on this dialog's background
        boxes, keys = self.query(VerticalScroll), self.query("#keys")
        if not boxes or not keys:  # closed again before it was shown (a key script's "? escape")
            return
        box = boxes.first()
        ink = palette(box)
        text = Color.from_rich_color(ink.text.color)
        box.styles.color = box.styles.border_title_color = box.styles.border_subtitle_color = text
        t = Table(box=None, show_header=False, padding=(0, 2), expand=True)
        t.add_column(style=ink.target, no_wrap=True, width=10)
        t.add_column()
        for key, what in KEY_HELP:
            t.add_row(key, what)
        keys.first(Static).update(t)
