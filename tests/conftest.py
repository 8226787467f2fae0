"""Shared helpers of the app tests (import them: ``from conftest import narration``)."""

import os

# NO_COLOR changes every SVG snapshot; snapshots are taken in colour.
os.environ.pop("NO_COLOR", None)


def text_of(widget) -> str:
    """What a widget shows, as plain text."""
    from rich.console import Console

    console = Console(width=max(widget.content_size.width, 20), record=True, file=None, color_system=None)
    with console.capture() as cap:
        console.print(widget.render())
    return cap.get()


def narration(app) -> str:
    """The narration line's text."""
    return str(app.query_one("#narration").render())


def app_from(argv: list[str]):
    """The app as ``tui-trainer ARGV`` would start it."""
    from tui_trainer import cli

    return cli.build_app(cli.build_parser().parse_args(argv))


async def settle(app, pilot) -> None:
    """Wait for every worker (runs, scripts, writers) to finish and the screen to catch up."""
    await app.workers.wait_for_complete()
    await pilot.pause()


async def files_written(app, pilot) -> None:
    """Wait until the app's file writers (e, c: threads; ctrl+s: after a refresh) are done."""
    writers = [w for w in app.workers if w.group in ("files", "svg")]
    if writers:  # (an empty list would wait for every worker, a play too)
        await app.workers.wait_for_complete(writers)
    await pilot.pause()
