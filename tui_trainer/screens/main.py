"""The debugger's main screen: the panes, the layouts, and every key of the one key table.

A key runs an action here (``keymap.bindings``); whether it may run now is the app's rule
(``TrainerApp.check_action``, asked through this screen's ``check_action``). The actions on the
session itself (the phases, time travel, the settings, what the panes show) are here; runs,
files, samples, the chain rule and key scripts have rooms of their own, which the app owns.

The screen is painted before the session is there (``TrainerApp``'s ``session_factory``): what it
imports at its top loads neither NumPy nor ``core``; the actions, which run once the session is
there, import what they need from them (and the narration and dialogs that do) where they use it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from ..keymap import bindings
from ..widgets.attention import AttentionPane
from ..widgets.context import ContextPane
from ..widgets.footer import Footer
from ..widgets.gradients import GradientPane
from ..widgets.logits import LogitsPane
from ..widgets.losscurve import LossPane
from ..widgets.softmax import SoftmaxPane
from ..widgets.status import Narration, StatusBar

#: Smallest usable terminal; below it the app shows a message instead of panes.
MIN_WIDTH, MIN_HEIGHT = 60, 18
#: Below this the layout switches to one pane at a time (v cycles).
COMPACT_WIDTH, COMPACT_HEIGHT = 100, 30
#: Below this width the presenter's footer packs its keys tighter (all fit at 100 columns).
PRESENTER_FOOTER_WIDTH = 110
#: The norm k clips gradients at.
CLIP_NORM = 1.0
#: The learning-rate ladder for [ and ].
LR_LADDER = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
COMPACT_VIEWS = ("logits", "softmax", "gradients", "loss")
#: a model with attention adds its pane to the cycle, after the prediction's panes
ATTENTION_VIEWS = ("logits", "softmax", "attention", "gradients", "loss")


class MainScreen(Screen[None]):
    """Status line, five panes, narration and footer (in lesson mode a caption band too). The app
    makes it its default screen and composes ``widgets()`` into it (``TrainerApp.compose``)."""

    BINDINGS = bindings()

    def __init__(self, presenter: bool, welcome: str, band: Widget | None = None) -> None:
        super().__init__()
        #: presenter layout: context, softmax (or the pane an action is about) and loss, high contrast
        self.presenter = presenter
        self._welcome = welcome
        #: lesson mode's caption band, above the narration (None in free play)
        self._band = band

    def widgets(self) -> ComposeResult:
        """The screen's widgets (the app composes them into it: ``TrainerApp.compose``)."""
        with Container(id="root"):
            yield StatusBar(id="status")
            with Container(id="main"):
                yield ContextPane(id="context")
                yield LogitsPane(id="logits")
                yield SoftmaxPane(id="softmax")
                yield GradientPane(id="gradients")
                yield LossPane(id="loss")
                # (a GPT's Attention pane is mounted here, after the loss pane, once its frame is there)
            if self._band is not None:
                yield self._band
            yield Narration(self._welcome, id="narration")
            yield Static("", id="too-small")
        # presenter: no "^p palette" in the footer (ctrl+p still opens it; ? lists it), so every key fits
        yield Footer(show_command_palette=not self.presenter)

    def start(self, width: int, height: int) -> None:
        """The layout for the app's start (the presenter's, and the size's)."""
        self.query_one("#root").set_class(self.presenter, "presenter")
        self.apply_size(width, height)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the refusal rules are the app's (keymap.WHEN): one place for keys, palette and lesson
        return self.app.check_action(action, parameters)

    # --- layout ------------------------------------------------------------------------

    def apply_size(self, width: int, height: int) -> None:
        app = self.app
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        compact = not small and not self.presenter and (width < COMPACT_WIDTH or height < COMPACT_HEIGHT)
        # the view classes only where a layout shows one pane for the view (a class change restyles
        # the whole screen: each f, b or u did, 13 ms, in the wide layout where nothing changed);
        # one update for all the classes, one restyle
        # (a GPT's wide layout shows one of logits / softmax and one of gradients / loss)
        views = compact or self.presenter or self.attention
        classes = {"too-small": small, "compact": compact, "gpt": self.attention}
        self.query_one("#root").update_classes(
            classes | {f"view-{v}": views and app.view == v for v in ATTENTION_VIEWS}
        )
        app.too_small = small
        # the presenter's footer keeps every key on a projector's 100 columns by packing them tighter
        footer = self.query_one(Footer)
        footer.compact = self.presenter and width < PRESENTER_FOOTER_WIDTH
        footer.fit(width)  # ? Help and q Quit stay on screen at 80 columns
        if small:
            self.query_one("#too-small", Static).update(
                f"Terminal too small: {width}x{height}.\n"
                f"tui-trainer needs at least {MIN_WIDTH}x{MIN_HEIGHT} (80x24 or larger is comfortable).\n"
                "Training state is kept; enlarge the window to continue."
            )

    @property
    def attention(self) -> bool:
        """Whether the model on screen has attention (its pane joins the layouts)."""
        frame = self.app.frame
        return frame is not None and frame.attention is not None

    def match_model(self) -> None:
        """The panes and layouts of the model on screen (the app's frame): a model with attention
        gets the Attention pane (a model without has none: its screen is as it always was)."""
        if self.attention and not self.query("#attention"):
            self.query_one("#main").mount(AttentionPane(id="attention"))
        if self.attention != self.query_one("#root").has_class("gpt"):
            self.apply_size(self.app.size.width, self.app.size.height)

    def attention_choices(self) -> tuple[int, int, bool]:
        """The Attention pane's layer, head and numbers (a model without attention: the defaults)."""
        panes = self.query(AttentionPane)
        return (panes.first().attn_layer, panes.first().head, panes.first().numbers) if panes else (0, 0, False)

    def choose_attention(self, layer: int, head: int, numbers: bool) -> None:
        """Set the Attention pane's layer, head and numbers (if the model has the pane)."""
        for pane in self.query(AttentionPane):
            pane.attn_layer, pane.head, pane.numbers = layer, head, numbers

    def views(self) -> tuple[str, ...]:
        """The panes v cycles through (the model's)."""
        return ATTENTION_VIEWS if self.attention else COMPACT_VIEWS

    def follow(self, view: str, unless_shown: bool = False) -> None:
        """In the compact layout, show the pane the action is about (``unless_shown``: not where the
        layout always shows it, a GPT's wide layout the Attention pane: its other slots stay)."""
        wide_gpt = self.attention and not self.presenter and not self.query_one("#root").has_class("compact")
        if self.app.view != view and not (unless_shown and view == "attention" and wide_gpt):
            self.app.view = view
            self.apply_size(self.app.size.width, self.app.size.height)

    def action_next_view(self) -> None:
        app = self.app
        views = self.views()
        app.view = views[(views.index(app.view) + 1) % len(views)] if app.view in views else views[0]
        self.apply_size(app.size.width, app.size.height)
        app.refresh_panes()
        if self.attention and not self.query_one("#root").has_class("compact") and not self.presenter:
            app.say(
                "With a GPT the attention and context panes stay; v swaps logits and softmax, gradients "
                f"and the loss curve (next: {app.view})."
            )
        elif not self.query_one("#root").has_class("compact") and not self.presenter:
            app.say(
                f"Every pane is on screen at this size; v picks the one pane shown below "
                f"{COMPACT_WIDTH}x{COMPACT_HEIGHT} (next: {app.view})."
            )

    # --- the Attention pane (a GPT's; the app refuses these for a model without attention) -----

    def action_toggle_numbers(self) -> None:
        """n: the values in the heatmaps' cells, or shades only (said once the pane has drawn: only
        then is it known which maps had room for them)."""
        if not self.query(AttentionPane):  # (refused before this: see the app's _refusal)
            return
        pane = self.query_one(AttentionPane)
        pane.numbers = not pane.numbers
        self.follow("attention", unless_shown=True)
        from .. import narrate

        self.call_after_refresh(lambda: self.app.say(narrate.attention_numbers(pane.numbers, pane.numbers_room)))

    def action_next_head(self, delta: int) -> None:
        """tab / shift+tab: the next / previous head, then layer."""
        from ..viewstate import cycle_head

        part = self.app.frame.attention
        if part is None or not self.query(AttentionPane):  # (refused before this: see the app's _refusal)
            return
        pane = self.query_one(AttentionPane)
        pane.attn_layer, pane.head = cycle_head(pane.attn_layer, pane.head, part.layers, part.heads, delta)
        self.follow("attention", unless_shown=True)
        self.app.say(
            f"Attention: layer {pane.attn_layer} of {part.layers}, head {pane.head} of {part.heads} "
            "(tab: the next head, shift+tab: the one before)."
        )

    # --- phase actions -----------------------------------------------------------------

    def action_forward(self) -> None:
        self.follow("softmax")
        self.app.after(self.app.session.forward())

    def action_backward(self) -> None:
        self.follow("gradients")
        self.app.after(self.app.session.backward())

    def action_update(self) -> None:
        self.follow("gradients")
        self.app.after(self.app.session.update())

    def action_step(self) -> None:
        self.follow("loss")
        self.app.after(self.app.session.train_step())

    def action_undo(self) -> None:
        if not self.app.session.can_undo and self.app.files.undo_load():
            return
        self.app.after(self.app.session.undo())

    def action_redo(self) -> None:
        self.app.after(self.app.session.redo())

    # --- time travel ---------------------------------------------------------------------

    def action_scrub_step(self, delta: int) -> None:
        """< and >: the previous / next step on this branch (its last state)."""
        s = self.app.session
        target = s.step + delta
        if target < s.start_step or target > s.last_step:
            edge = "the first" if delta < 0 else "the newest"
            self.app.say(f"Step {s.step} is {edge} step of this branch.")
            return
        self.app.travel(s.goto(target))

    def action_scrub_action(self, delta: int) -> None:
        """, and .: one action back / forward (a phase, a step or a setting), like z and Z."""
        s = self.app.session
        self.app.after(s.undo() if delta < 0 else s.redo())

    def action_scrub_home(self) -> None:
        self.app.travel(self.app.session.goto(self.app.session.start_step))

    def action_scrub_end(self) -> None:
        s = self.app.session
        self.app.travel(s.goto_position(s.timeline.length))

    def action_goto_count(self) -> None:
        """A typed count, then G: go to that step."""
        app = self.app
        if not app.count:
            app.say("Type a step number first, then G: e.g. 40G goes to step 40.")
            return
        n, app.count = int(app.count), ""
        app.travel(app.session.goto(n))

    def action_branches(self) -> None:
        """B: the branch picker; the chosen branch's newest state."""
        from .. import narrate
        from .timeline import BranchPicker

        app = self.app

        def chosen(branch: int | None) -> None:
            if branch is not None and not app.refused("branches"):
                b = next(x for x in app.session.branches() if x.id == branch)
                app.travel(app.session.goto_position(b.length, branch=branch))

        app.push_screen(BranchPicker(app.session.branches(), narrate.compare_branches(app.session)), chosen)

    def action_fork(self) -> None:
        """F: a branch from the cursor with another optimizer or learning rate, or the other model
        from the start (the session's own rules check what is typed: ``Session.check_fork``,
        ``Session.check_model``)."""
        from .. import narrate
        from .timeline import ForkForm

        app, s = self.app, self.app.session

        def check(choice: tuple[str | None, float | None, str | None]) -> str | None:
            optimizer, lr, model = choice
            refusal = s.check_model(model) if model is not None else s.check_fork(optimizer, lr)
            return None if refusal is None else narrate.fork_problem(refusal)

        def chosen(choice) -> None:
            if choice is not None and not app.refused("fork"):
                optimizer, lr, model = choice
                r = s.fork_model(model) if model is not None else s.fork_branch(optimizer, lr)
                app.refresh_panes()
                app.say(narrate.forked(s, r))

        app.push_screen(ForkForm(s.optimizer.name, s.lr, check), chosen)

    # --- navigation and settings ---------------------------------------------------------

    def action_move(self, delta: int) -> None:
        from core.readout import n_positions

        from .. import narrate

        app = self.app
        if delta > 0 and app.player.release_wait():
            return
        s = app.session
        n = n_positions(s)
        app.position = (app.position + delta) % n
        app.refresh_panes()
        if not app.running:
            with s.lock:
                if s.forward_result is not None:
                    app.say(narrate.forward(s, app.position))
                else:
                    app.say(f"Position {app.position + 1} of {n}. Press f to see what the model predicts there.")

    def action_digit(self, d: int) -> None:
        if len(self.app.count) < 7:
            self.app.count += str(d)
        self.app.refresh_panes()

    def action_cycle_optimizer(self) -> None:
        from core import DEFAULT_LR, OPTIMIZERS

        from .. import narrate

        app, s = self.app, self.app.session
        names = list(OPTIMIZERS)
        name = names[(names.index(s.optimizer.name) + 1) % len(names)]
        r = s.set_optimizer(name)
        app.refresh_panes()
        if not r.ok:
            app.say(narrate.refused(s, r))
            return
        lr, usual = s.lr, DEFAULT_LR[name]
        hint = "" if lr == usual else f" {name}'s usual lr is {usual:g}: [ and ] change it."
        if name == "adam":  # the lesson's alpha is 0.001; this tiny model learns in time at ten times that
            hint += " (The lesson's Adam uses 0.001: on its sentence that takes about 13 times as many steps.)"
        app.say(f"Optimizer: {name} (its state starts from zero), lr {lr:g}.{hint}")

    def action_toggle_clip(self) -> None:
        s = self.app.session
        s.set_clip(CLIP_NORM if s.clip is None else None)
        self.app.refresh_panes()
        if s.clip is None:
            self.app.say("Gradient clipping off: updates use the whole gradient. k turns it on.")
        else:
            self.app.say(
                f"Gradient clipping on: a gradient longer than {s.clip:g} is scaled down to length {s.clip:g} "
                "before the update (it keeps its direction). k turns it off."
            )

    def action_lr(self, direction: int) -> None:
        from .. import narrate

        app, s = self.app, self.app.session
        cur = s.lr
        if direction > 0:
            new = next((x for x in LR_LADDER if x > cur * 1.0001), None)
        else:
            new = next((x for x in reversed(LR_LADDER) if x < cur / 1.0001), None)
        if new is None:
            app.say(f"Learning rate {cur:g} is already at the {'top' if direction > 0 else 'bottom'} of the ladder.")
            return
        r = s.set_lr(new)
        app.refresh_panes()
        app.say(narrate.lr_changed(s.optimizer.name, cur, new) if r.ok else narrate.refused(s, r))

    # --- what the loss pane draws ----------------------------------------------------------

    def action_toggle_log(self) -> None:
        pane = self.query_one(LossPane)
        pane.log_scale = not pane.log_scale
        pane.show_table = False
        self.follow("loss")
        self.app.refresh_panes()

    def action_toggle_positions(self) -> None:
        """t: P(target) at each position over the steps (the lesson's S15) instead of the loss."""
        self._loss_view(show_positions=not self.query_one(LossPane).show_positions, show_table=False)

    def action_toggle_table(self) -> None:
        self._loss_view(show_table=not self.query_one(LossPane).show_table)

    def _loss_view(self, **settings: bool) -> None:
        """Set what the loss pane draws, and bring it on screen in the compact layout."""
        pane = self.query_one(LossPane)
        for name, value in settings.items():
            setattr(pane, name, value)
        self.follow("loss")
        self.app.refresh_panes()

    # --- keys whose work has a room of its own (owned by the app) ----------------------------

    def action_run(self) -> None:
        self.app.runs.run_count()

    def action_toggle_play(self) -> None:
        self.app.runs.toggle_play()

    def action_stop(self) -> None:
        self.app.runs.stop()

    def action_speed(self, direction: int) -> None:
        self.app.runs.speed(direction)

    def action_sweep(self) -> None:
        self.app.runs.ask_sweep()

    def action_run_until(self) -> None:
        self.app.runs.ask_until()

    def action_next_beat(self) -> None:
        """PageDown / Enter: a clicker's "next"; it only releases a key script's ``wait``."""
        self.app.player.release_wait()

    def action_sample(self) -> None:
        self.app.sampler.sample()

    def action_chain(self) -> None:
        self.app.chain.open()

    def action_attention_query(self) -> None:
        from .attention_query import open_query

        layer, head, _numbers = self.attention_choices()  # the Attention pane's selection
        open_query(self.app, layer, head)

    def action_tokens(self) -> None:
        """T: the tokens view, read from the session's data (state down)."""
        from core.tokenview import token_view  # (core loads after the first paint)

        from .tokens import TokensScreen

        data = self.app.session.data
        self.app.push_screen(TokensScreen(lambda k: token_view(data, k)))

    def action_save_svg(self) -> None:
        self.app.files.save_svg()

    def action_export(self) -> None:
        self.app.files.export()

    def action_save_checkpoint(self) -> None:
        self.app.files.save_checkpoint()

    def action_load_checkpoint(self, path: str | None = None) -> None:
        self.app.files.load_checkpoint(path)

    def action_help(self) -> None:
        self.app.action_help()

    async def action_quit(self) -> None:
        await self.app.action_quit()
