import os

# NO_COLOR changes every SVG snapshot; snapshots are taken in colour.
os.environ.pop("NO_COLOR", None)


async def files_written(app, pilot) -> None:
    """Wait until the app's file writers (e, c: threads; ctrl+s: after a refresh) are done."""
    writers = [w for w in app.workers if w.group in ("files", "svg")]
    if writers:  # (an empty list would wait for every worker, a play too)
        await app.workers.wait_for_complete(writers)
    await pilot.pause()

