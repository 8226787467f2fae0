"""The headless command and the argument checks shared with the app."""

import json
import os
import subprocess
import sys

import pytest

from tui_trainer.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_json_prints_one_row_per_step(capsys):
    code, out, err = run(capsys, "train", "--steps", "300", "--json")
    assert code == 0 and err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    # steps 0 (the untrained model) to 300: N + 1 rows
    assert [r["step"] for r in rows] == list(range(301))
    first, last = rows[0], rows[-1]
    for key in ("step", "loss", "mean_loss", "perplexity", "target_probs", "lr", "optimizer"):
        assert key in first
    assert len(first["target_probs"]) == 4 and first["optimizer"] == "sgd" and first["lr"] == 1.0
    assert last["loss"] < first["loss"] / 50
    assert last["perplexity"] == pytest.approx(2.718281828459045 ** last["mean_loss"])


def test_same_seed_same_output(capsys):
    a = run(capsys, "train", "--steps", "30", "--json", "--seed", "5", "--optimizer", "adam")[1]
    b = run(capsys, "train", "--steps", "30", "--json", "--seed", "5", "--optimizer", "adam")[1]
    c = run(capsys, "train", "--steps", "30", "--json", "--seed", "6", "--optimizer", "adam")[1]
    assert a == b and a != c


def test_table_output(capsys):
    code, out, _ = run(capsys, "train", "--steps", "50")
    assert code == 0
    # 12x8 embeddings, 32x16+16, 16x16+16, 16x12+12
    head = "4 positions, vocabulary 12; mlp (context 4, embed 8, hidden 16 and 16): 1,100 parameters; sgd lr 1, seed 0"
    assert out.splitlines()[0] == head
    assert "total loss" in out and "in 50 steps" in out
    assert len(out.splitlines()) < 20


def test_the_table_names_the_widths_a_large_vocabulary_gets(capsys):
    words = " ".join(f"w{i}" for i in range(300))  # 302 tokens with <BOS> and <EOS>
    out = run(capsys, "train", "--steps", "1", "--text", words)[1].splitlines()[0]
    # 302x8, 32x64+64, 64x64+64, 64x302+302
    assert "; mlp (context 4, embed 8, hidden 64 and 64): 28,318 parameters;" in out, out
    out = run(capsys, "train", "--steps", "1", "--text", words, "--hidden", "8")[1].splitlines()[0]
    assert "hidden 8 and 8" in out, out
    out = run(capsys, "train", "--steps", "1", "--model", "gpt")[1].splitlines()[0]
    assert "; gpt (1 layer of 4 heads, embed 16, block 16): 3,712 parameters;" in out, out


def test_text_corpus_and_model_options(capsys, tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("the cat sat on the mat.\nthe dog sat on the log.\n", encoding="utf-8")
    code, out, _ = run(
        capsys,
        "train",
        "--corpus",
        str(f),
        "--steps",
        "3",
        "--json",
        "--embed",
        "4",
        "--hidden",
        "6",
        "--hidden2",
        "5",
        "--context",
        "3",
        "--optimizer",
        "momentum",
        "--lr",
        "0.02",
    )
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    # per-position values for the tracked positions: the first sentence's 6 ("the cat sat on the mat")
    assert len(rows[0]["target_probs"]) == 6 and rows[0]["optimizer"] == "momentum" and rows[0]["lr"] == 0.02


def _bad_files(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "bin.dat"
    binary.write_bytes(b"\x00\x01\x02hello\x00")
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("caf\xe9 au lait".encode("latin-1"))
    return {"empty": empty, "binary": binary, "latin": latin, "missing": tmp_path / "nope.txt", "dir": tmp_path}


@pytest.mark.parametrize(
    "args,expect",
    [
        (["--text", ""], "the text is empty"),
        (["--text", " ... "], "no words"),
        (["--corpus", "{empty}"], "is empty"),
        (["--corpus", "{missing}"], "does not exist"),
        (["--corpus", "{dir}"], "is a directory"),
        (["--corpus", "{binary}"], "looks binary"),
        (["--corpus", "{latin}"], "not UTF-8"),
        (["--lr", "0"], "greater than 0"),
        (["--lr", "-0.1"], "greater than 0"),
        (["--lr", "nan"], "finite"),
        (["--lr", "inf"], "finite"),
        (["--lr", "abc"], "expected a number"),
        (["--steps", "-5"], "0 or more"),
        (["--optimizer", "rmsprop"], "unknown optimizer 'rmsprop'"),
        (["--hidden", "0"], "at least 1"),
        (["--vocab", "we love", "--text", "we love pizza"], "'pizza'"),
        (["--text", "a", "--corpus", "{missing}"], "not both"),
        (["--clip", "-1"], "greater than 0"),
        (["--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(capsys, tmp_path, args, expect):
    files = _bad_files(tmp_path)
    argv = ["train", *[a.format(**files) for a in args]]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tui-trainer: error:") and expect in lines[0], err
    assert "Traceback" not in err


def test_divergence_in_headless_run_is_reported(capsys):
    code, out, err = run(capsys, "train", "--lr", "50", "--steps", "100", "--json")
    assert code == 1
    assert "diverged at step" in err and "too large" in err and "Traceback" not in err
    assert "rerun with a smaller --lr (e.g. 5)" in err and "step again" not in err
    assert "NaN" not in out and "Infinity" not in out


def test_console_script_entry_points():
    """`python -m tui_trainer` works as an installed module (the console script maps to the same main)."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    r = subprocess.run(
        [sys.executable, "-m", "tui_trainer", "train", "--steps", "2", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3
    r = subprocess.run(
        [sys.executable, "-m", "tui_trainer", "train", "--lr", "0"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_undo_memory_option_reaches_the_session():
    from tui_trainer.cli import build_app, build_parser

    app = build_app(build_parser().parse_args(["--undo-memory", "8"]))
    assert app.session is None and app.load_session()  # (built after the first paint, or now)
    assert app.session.config.undo_memory == 8 * 2**20
    default = build_app(build_parser().parse_args([]))
    assert default.load_session() and default.session.config.undo_memory == 64 * 2**20


def test_dtype_auto_picks_float32_for_a_large_vocabulary(tmp_path):
    """--dtype auto (the default): float64 below FLOAT32_VOCAB words, float32 from there on;
    --dtype overrides it; the start screen says so."""
    from core.config import FLOAT32_VOCAB
    from tui_trainer import narrate
    from tui_trainer.cli import build_parser, session_from_args

    words = " ".join(f"w{i}" for i in range(FLOAT32_VOCAB)) + "."
    f = tmp_path / "big.txt"
    f.write_text(words, encoding="utf-8")

    def make(*argv):
        return session_from_args(build_parser().parse_args([*argv, "--undo-memory", "0"]))

    big = make("--corpus", str(f))
    assert big.model.dtype == "float32" and "float32" in narrate.welcome(big)
    assert make("--corpus", str(f), "--dtype", "float64").model.dtype == "float64"
    small = make()
    assert small.model.dtype == "float64" and "float32" not in narrate.welcome(small)


def test_options_belong_to_the_command_they_follow(capsys):
    """Options before a subcommand are the app's: every subcommand refuses them rather than run
    without them (train used the lesson's text for `--text foo train`; `--model gpt train --until
    'prev(0)>0.5'` trained an MLP and then refused the condition); after the command they count."""
    code, out, _ = run(capsys, "train", "--text", "foo bar baz", "--steps", "1")
    assert code == 0 and "vocabulary 5;" in out
    for command in ("train", "sample", "sweep"):
        expect = f"put {command} first: tui-trainer {command} [options] (options before '{command}' would be ignored)"
        assert run(capsys, "--text", "foo bar baz", command) == (2, "", f"tui-trainer: error: {expect}\n")
    for argv, expect in [
        (
            ["--presenter", "lesson"],
            "put lesson first: tui-trainer lesson [NAME | --file LESSON.toml | --list] [app options]",
        ),
        (["--presenter", "serve"], "put serve first: tui-trainer serve [--host H] [--port P] [app options]"),
        (["serve", "train"], "serve runs the app; it cannot run 'train'"),
        (["train", "serve"], "unrecognized arguments: serve"),
    ]:
        assert run(capsys, *argv) == (2, "", f"tui-trainer: error: {expect}\n")


def test_table_has_a_validation_column_on_a_text_with_held_out_sentences(capsys, tmp_path):
    # issue 27.18: headless train printed no validation loss although the app draws it
    rng = __import__("random").Random(1)
    words = "the cat sat on a mat while dog ran far from home".split()
    text = tmp_path / "t.txt"
    text.write_text("\n".join(" ".join(rng.choice(words) for _ in range(8)) + "." for _ in range(300)))
    code, table, _ = run(capsys, "train", "--steps", "20", "--corpus", str(text))
    assert code == 0
    code, js, _ = run(capsys, "train", "--steps", "20", "--corpus", str(text), "--json")
    val = {r["step"]: r.get("val_loss") for r in map(json.loads, js.splitlines())}
    lines = table.splitlines()
    assert lines[1].split()[:5] == ["step", "total", "mean", "ppl", "val"]
    rows = {int(line.split()[0]): line.split()[4] for line in lines[2:-1]}
    assert sorted(rows) == [0, 1, 10, 20]  # the default rows fall on measured steps
    for step, shown in rows.items():
        assert shown == ("-" if val[step] is None else f"{val[step]:.4f}"), step
    assert rows[0] != "-" and rows[1] == "-"


def test_sample_s_help_counts_tokens_not_words(capsys):
    """With --tokens char, --max-words 60 wrote 60 characters: the help says what N counts."""
    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "one token at a time" in out and "stop after N tokens: words, or characters or BPE pieces" in out
    # trained on the lesson and sampled almost greedily: its sentence's first seven characters
    code, out, _ = run(
        capsys, "sample", "--tokens", "char", "--max-words", "7", "--steps", "100", "--temperature", "0.01"
    )
    assert code == 0 and out.splitlines()[-1] == "we love"


def test_until_that_never_holds_says_so(capsys):
    """train --until p(gnu)>0.5 on GPL-3 ran its 100 steps and ended 'mean loss … in 100 steps',
    the same last line as a run without a condition: whether it held was left to guess. A condition
    that never held says so after the table (JSON stays rows only: no row says 'until')."""
    code, out, _ = run(capsys, "train", "--steps", "5", "--until", "p(learning)>0.999")
    assert code == 0 and out.splitlines()[-1] == "p(learning)>0.999 did not hold in 5 steps", out
    code, out, _ = run(capsys, "train", "--steps", "5", "--until", "p(learning)>0.999", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 6 and not any("until" in r for r in rows)
    code, out, _ = run(capsys, "train", "--steps", "60", "--until", "total<0.5")
    assert "stopped at step" in out and "did not hold" not in out


def test_the_usage_line_names_every_command(capsys):
    """'tui-trainer --help' listed {train,sample,sweep,serve} in its usage line and lesson only
    below it: the usage names every subcommand the parser has."""
    from tui_trainer.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices  # (argparse's own list)
    usage = " ".join(parser.format_usage().split())
    assert set(commands) == {"train", "sample", "sweep", "serve", "lesson"}
    assert "{" + ",".join(commands) + "}" in usage, usage


def test_sample_probs_of_characters_draw_a_space_as_on_screen(capsys):
    """sample --probs with --tokens char wrote a space token as nothing: 'e  (0.93|0.93) d(…'. It
    writes it ▁, as every pane does; words are written as before."""
    code, out, _ = run(capsys, "sample", "--tokens", "char", "--steps", "100", "--probs", "--max-words", "30")
    tokens = [t.rsplit("(", 1)[0] for t in out.split()]
    assert code == 0 and "▁" in tokens and "" not in tokens, out
    assert "".join(tokens).replace("▁", " ").startswith("we love deep"), out  # (trained on the lesson)
    code, out, _ = run(capsys, "sample", "--steps", "100", "--probs")
    assert code == 0 and out.split()[0].startswith("we(") and "▁" not in out, out
