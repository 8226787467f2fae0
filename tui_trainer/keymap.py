"""Every key of the app, once.

``BINDINGS``, the help screen (?), the command palette, the key-script tokens (``--keys``) and
the README's key table all come from ``KEYMAP`` (a test checks the README against it), so a key
is added, renamed or documented in one place.

Each entry also says *when* its action may run (``check_action`` in the app reads it):

- ``ALWAYS``: looking around (positions, views, help), speed, counts, stop, quit;
- ``VISIBLE``: needs the panes on screen (not while the terminal is too small), but may run
  during a training run (the learning rate, samples, screenshots, exports);
- ``IDLE``: changes the session: needs the panes on screen and no run going.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

ALWAYS, VISIBLE, IDLE = "always", "visible", "idle"

#: Textual key name -> the character a key script writes for it
CHARACTERS: dict[str, str] = {
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "question_mark": "?",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "comma": ",",
    "full_stop": ".",
    "minus": "-",
    "plus": "+",
    "equals_sign": "=",
    "slash": "/",
}


@dataclass(frozen=True)
class Key:
    """One binding: Textual key names (comma-separated, as ``Binding`` takes them), the action,
    and its footer label (empty: not in the footer)."""

    keys: str
    action: str
    label: str = ""
    tooltip: str = ""

    def names(self) -> list[str]:
        return self.keys.split(",")


@dataclass(frozen=True)
class Entry:
    """One line of the help and of the README's key table."""

    #: the keys as the help and the README write them, separated by spaces ("/" joins alternatives)
    shown: str
    help: str
    keys: tuple[Key, ...]
    when: str = ALWAYS
    #: the command palette's name for it (empty: not in the palette); one per key if several
    palette: str | tuple[str, ...] = ""

    def commands(self) -> list[tuple[str, Key]]:
        """The palette's entries: ("Forward pass (f)", its key), one per key of the entry."""
        if not self.palette:
            return []
        if isinstance(self.palette, str):
            return [(f"{self.palette} ({self.shown})", self.keys[0])]
        return [
            (f"{name} ({CHARACTERS.get(k.names()[0], k.names()[0])})", k)
            for name, k in zip(self.palette, self.keys, strict=True)
        ]


def _k(keys: str, action: str, label: str = "", tooltip: str = "") -> Key:
    return Key(keys, action, label, tooltip)


KEYMAP: tuple[Entry, ...] = (
    Entry(
        "f",
        "Forward pass: compute logits, probabilities and the loss at every position at once.",
        (_k("f", "forward", "Forward", "Run the forward pass"),),
        IDLE,
        "Forward pass",
    ),
    Entry(
        "b",
        "Backward pass: gradients of the loss (mean over positions) for every parameter (runs f first if needed).",
        (_k("b", "backward", "Backward", "Compute every gradient"),),
        IDLE,
        "Backward pass",
    ),
    Entry(
        "u",
        "Update: apply the optimizer (runs f and b first if needed). sgd: new = old - lr × grad; momentum: "
        "v = 0.9 v + grad, new = old - lr × v; adam: new = old - lr × m̂ / (√v̂ + ε).",
        (_k("u", "update", "Update", "Apply the optimizer"),),
        IDLE,
        "Update",
    ),
    Entry(
        "s",
        "One full training step: forward, backward, update, then the forward pass of the new parameters.",
        (_k("s", "step", "Step", "One full step"),),
        IDLE,
        "Full step",
    ),
    Entry(
        "r",
        "Run N steps in the background (N from --run-n; type a count first, e.g. 500r).",
        (_k("r", "run", "Run N", "Run N steps"),),
        IDLE,
        "Run N steps",
    ),
    Entry(
        "0-9",
        "Type a count for the next r, or a step number for G (shown in the status bar).",
        tuple(_k(str(d), f"digit({d})") for d in range(10)),
    ),
    Entry(
        "space",
        "Play / pause: keep training until paused.",
        (_k("space", "toggle_play", "Play", "Play / pause"),),
        IDLE,  # (pausing a run is always allowed: see the app's check_action)
        "Play / pause",
    ),
    Entry("escape", "Stop a run between steps, or clear a typed count.", (_k("escape", "stop"),)),
    Entry(
        "PgDn Enter",
        "A clicker's next: a key script waiting for the presenter (wait) goes on.",
        (_k("pagedown,enter", "next_beat"),),
    ),
    Entry(
        "- +",
        "Slow motion: fewer / more steps per second for r and space (= works as +; --speed sets it).",
        (
            _k("minus", "speed(-1)", tooltip="Slow motion: fewer steps per second"),
            _k("plus,equals_sign", "speed(1)", tooltip="More steps per second"),
        ),
        ALWAYS,
        ("Slower", "Faster"),
    ),
    Entry(
        "z",
        "Undo the last action exactly (a step, a phase, an lr or optimizer change): nothing is lost.",
        (_k("z", "undo", "Undo", "Undo the last action"),),
        IDLE,
        "Undo",
    ),
    Entry(
        "Z",
        "Redo: do again what z took back; a new action instead starts a branch (the old one is kept).",
        (_k("Z", "redo", tooltip="Redo what z took back"),),
        IDLE,
        "Redo",
    ),
    Entry(
        "< >",
        "Time travel: the previous / next step on this branch; every pane shows that moment.",
        (
            _k("less_than_sign", "scrub_step(-1)", tooltip="The previous step"),
            _k("greater_than_sign", "scrub_step(1)", tooltip="The next step"),
        ),
        IDLE,
    ),
    Entry(
        ", .",
        "One action back / forward (a phase, a step or a setting), like z and Z.",
        (
            _k("comma", "scrub_action(-1)", tooltip="One action back"),
            _k("full_stop", "scrub_action(1)", tooltip="One action forward"),
        ),
        IDLE,
    ),
    Entry(
        "Home End",
        "Step 0 / the newest state of this branch.",
        (
            _k("home", "scrub_home", tooltip="The first step"),
            _k("end", "scrub_end", tooltip="The newest state of this branch"),
        ),
        IDLE,
    ),
    Entry(
        "G",
        "Go to the step typed before it, e.g. 40G.",
        (_k("G", "goto_count", tooltip="Type a step number, then G"),),
        IDLE,
        "Go to the typed step",
    ),
    Entry(
        "B",
        "Branches: every line of time this session made; enter goes to one's newest state.",
        (_k("B", "branches", tooltip="Every branch of the timeline"),),
        IDLE,
        "Branches",
    ),
    Entry(
        "F",
        "Fork: a branch from here with another optimizer or learning rate; the curve overlays the branches.",
        (_k("F", "fork", tooltip="A branch from here with another optimizer or lr"),),
        IDLE,
        "Fork",
    ),
    Entry(
        "S",
        "Learning-rate sweep from here: one branch per rate, drawn together and compared (the lesson's S10).",
        (_k("S", "sweep", tooltip="A learning-rate sweep from here"),),
        IDLE,
        "Learning-rate sweep",
    ),
    Entry(
        "/",
        "Run until a condition holds, e.g. p(learning)>0.9 or total<0.05,loss_up (comma = or).",
        (_k("slash", "run_until", tooltip="Run until a condition holds"),),
        IDLE,
        "Run until",
    ),
    Entry(
        "← → / h l",
        "Select the previous / next position (context, logits, softmax follow).",
        (_k("left,h", "move(-1)"), _k("right,l", "move(1)")),
    ),
    Entry(
        "o",
        "Cycle the optimizer: sgd → momentum → adam (its state starts from zero).",
        (_k("o", "cycle_optimizer", "Optim", "Cycle sgd / momentum / adam"),),
        IDLE,
        "Cycle optimizer",
    ),
    Entry(
        "x",
        "The chain rule for one weight: its gradient as a sum over positions, beside a nudge probe (after b).",
        (_k("x", "chain", tooltip="One weight's gradient, term by term"),),
        IDLE,
        "Chain rule",
    ),
    Entry(
        "a",
        "GPT: one query step by step: q·k, ÷ √hd, the mask, softmax, Σ A·v, attn_wo (↑ ↓ head, [ ] layer).",
        (_k("a", "attention_query", tooltip="One query's attention, pass by pass"),),
        VISIBLE,
        "One query's attention",
    ),
    Entry(
        "w",
        "Samples: a sentence the model writes now, each word's probability, beside earlier ones (t: temperature).",
        (_k("w", "sample", tooltip="What the model writes now"),),
        VISIBLE,
        "Samples",
    ),
    Entry(
        "T",
        "Tokens: the text's first lines as tokens with their ids; for BPE, ← → step through the merges.",
        (_k("T", "tokens", tooltip="What a token is: words, characters or BPE pieces"),),
        VISIBLE,
        "Tokens",
    ),
    Entry(
        "k",
        "Gradient clipping on / off: a gradient longer than 1 is scaled to length 1 before the update.",
        (_k("k", "toggle_clip", tooltip="Clip the gradient norm at 1, or stop clipping"),),
        IDLE,
        "Toggle gradient clipping",
    ),
    Entry(
        "[ ]",
        "Lower / raise the learning rate one step on a 1-3-10 ladder.",
        (
            _k("left_square_bracket", "lr(-1)", "lr-", "Lower the learning rate"),
            _k("right_square_bracket", "lr(1)", "lr+", "Raise the learning rate"),
        ),
        VISIBLE,
        ("Lower the learning rate", "Raise the learning rate"),
    ),
    Entry(
        "g",
        "Loss curve: toggle a log scale. Its dashed lines are losses to beat: the uniform guess (ln V, every "
        "token alike) and the unigram (each token's own frequency, the context ignored).",
        (_k("g", "toggle_log"),),
        ALWAYS,
        "Toggle log scale",
    ),
    Entry(
        "t",
        "Loss pane: P(target) at each position over the steps, a colour each (does a later word learn faster?).",
        (_k("t", "toggle_positions"),),
        ALWAYS,
        "P(target) per position",
    ),
    Entry(
        "p",
        "Loss pane: toggle the per-position P(target) table (the lesson's progress table).",
        (_k("p", "toggle_table"),),
        ALWAYS,
        "Toggle progress table",
    ),
    Entry(
        "v",
        "Small terminals: show the next pane (logits, softmax, gradients, loss; a GPT's attention too).",
        (_k("v", "next_view"),),
    ),
    Entry(
        "n",
        "Attention pane (GPT): write each weight's value in its cell, or shades only.",
        (_k("n", "toggle_numbers"),),
        ALWAYS,
        "Attention numbers",
    ),
    Entry(
        "tab shift+tab",
        "Attention pane (GPT): the next / previous head, then the next layer's heads.",
        (_k("tab", "next_head(1)"), _k("shift+tab", "next_head(-1)")),
        ALWAYS,
        ("Next attention head", "Previous attention head"),
    ),
    Entry(
        "ctrl+s",
        "Save an SVG screenshot of the screen (in --output-dir).",
        (_k("ctrl+s", "save_svg"),),
        VISIBLE,
        "Save screenshot",
    ),
    Entry(
        "e",
        "Export the training history as JSON and CSV (in --output-dir).",
        (_k("e", "export"),),
        VISIBLE,
        "Export history",
    ),
    Entry(
        "c",
        "Save a checkpoint: parameters, optimizer state, vocabulary, step, history (in --output-dir).",
        (_k("c", "save_checkpoint"),),
        IDLE,
        "Save checkpoint",
    ),
    Entry(
        "C",
        "Load the newest checkpoint in --output-dir (same vocabulary); z undoes it.",
        (_k("C", "load_checkpoint"),),
        IDLE,
        "Load newest checkpoint",
    ),
    Entry("ctrl+p", "Command palette: every action by name.", ()),
    Entry("?", "This help.", (_k("question_mark", "help", "Help"),), ALWAYS, "Key help"),
    Entry("q", "Quit.", (_k("q", "quit", "Quit"),)),
)

#: action name (without its arguments) -> when it may run
WHEN: dict[str, str] = {k.action.split("(")[0]: e.when for e in KEYMAP for k in e.keys}


#: the Attention pane's actions: refused, with the reason, for a model without attention
ATTENTION_ACTIONS = frozenset({"toggle_numbers", "next_head"})

#: Textual key name -> the name of the action it runs
KEY_ACTIONS: dict[str, str] = {n: k.action.split("(")[0] for e in KEYMAP for k in e.keys for n in k.names()}


def bindings() -> list[Binding]:
    """The app's BINDINGS, in the table's order (the footer shows the labelled ones in it)."""
    return [
        Binding(k.keys, k.action, k.label or e.help, show=bool(k.label), tooltip=k.tooltip)
        for e in KEYMAP
        for k in e.keys
    ]


def script_tokens() -> dict[str, str]:
    """Key-script token -> Textual key name: each key as typed (``[``, ``<``), its Textual name
    (``left_square_bracket``), and ``esc`` for escape."""
    tokens: dict[str, str] = {}
    for e in KEYMAP:
        for k in e.keys:
            for name in k.names():
                tokens[CHARACTERS.get(name, name)] = name
                tokens.setdefault(name, name)
    tokens["esc"] = "escape"
    return tokens


def readme_keys(entry: Entry) -> str:
    """How the README's key table writes an entry's keys: each in backticks, "/" bare."""
    return " ".join(w if w == "/" and len(entry.shown) > 1 else f"`{w}`" for w in entry.shown.split())
