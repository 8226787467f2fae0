#!/usr/bin/env bash
# Record a scripted tui-trainer run without VHS: asciinema inside a detached tmux
# session (a real terminal of a fixed size, so it works over ssh and in CI too),
# then optionally turn the recording into an animated SVG with svg-term-cli.
#
#   scripts/record.sh [-o demo.cast] [-k KEYS] [-d DELAY] [-s COLSxROWS] [--svg] [-- APP OPTIONS]
#
#   -o FILE   the asciinema recording (default: demo.cast)
#   -k KEYS   the key script (default: a one-minute tour, see the README's key scripts)
#   -d SECS   pause before each key (default 1.5)
#   -s WxH    terminal size (default 120x36)
#   --svg     also write FILE.svg with svg-term-cli (npx svg-term-cli, from npm)
#   -- ...    further options for tui-trainer, e.g. -- --presenter --theme nord
#
# Needs: tmux, asciinema (apt-get install tmux asciinema), tui-trainer on PATH
# (or TUI_TRAINER="python -m tui_trainer"); for --svg: node and npm.
set -euo pipefail

out=demo.cast
keys="f right right right right b u 200r z"
delay=1.5
size=120x36
svg=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        -o) out="$2"; shift 2 ;;
        -k) keys="$2"; shift 2 ;;
        -d) delay="$2"; shift 2 ;;
        -s) size="$2"; shift 2 ;;
        --svg) svg=1; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "record.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [[ ! "$size" =~ ^[0-9]+x[0-9]+$ ]]; then
    echo "record.sh: -s wants COLSxROWS, e.g. 120x36, not $size" >&2
    exit 2
fi
for tool in tmux asciinema; do
    command -v "$tool" >/dev/null || { echo "record.sh: $tool is not installed (apt-get install $tool)" >&2; exit 2; }
done
app="${TUI_TRAINER:-tui-trainer}"
out="$(realpath -m "$out")"
cols="${size%x*}"
rows="${size#*x}"

session="tui-trainer-rec-$$"
work="$(mktemp -d)"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT

# The recorded command: the app with the key script, then its exit status into a file
# (asciinema's own status does not say whether the app failed, e.g. on a bad key script).
{
    printf '%s --keys %q --key-delay %q --exit-after' "$app" "$keys" "$delay"
    for arg in "$@"; do printf ' %q' "$arg"; done
    printf '\necho $? > %q\n' "$work/status"
} > "$work/run.sh"

echo "recording $size into $out: $(head -n 1 "$work/run.sh")"
tmux new-session -d -s "$session" -x "$cols" -y "$rows" \
    "asciinema rec --overwrite --quiet --cols $cols --rows $rows -c $(printf %q "bash $work/run.sh") $(printf %q "$out")"
while tmux has-session -t "$session" 2>/dev/null; do sleep 0.5; done
rc="$(cat "$work/status" 2>/dev/null || echo "unknown")"
if [[ "$rc" != 0 ]]; then
    echo "record.sh: tui-trainer exited with status $rc (run the command above by hand to see why)" >&2
    exit 1
fi
echo "wrote $out (play it with: asciinema play $out)"

if [[ "$svg" == 1 ]]; then
    command -v npx >/dev/null || { echo "record.sh: --svg needs node and npm (npx)" >&2; exit 2; }
    npx --yes svg-term-cli --in "$out" --out "${out%.cast}.svg" --window --width "$cols" --height "$rows"
    echo "wrote ${out%.cast}.svg"
fi
