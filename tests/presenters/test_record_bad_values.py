"""scripts/record.sh: an option without its value, and an output file it cannot write (issue 23)."""

from __future__ import annotations

import pytest
from test_record import fakes, record  # noqa: F401 (the fixture)


@pytest.mark.parametrize("option", ["-o", "-k", "-d", "-s", "--font-size"])
def test_an_option_without_its_value(fakes, option):  # noqa: F811
    tmp, _, log, env = fakes
    r = record(env, tmp, option)
    assert r.returncode == 2 and r.stderr == f"record.sh: {option} needs a value (see --help)\n"
    assert "unbound variable" not in r.stderr and not (log / "app.args").exists()


@pytest.mark.parametrize(
    "out, expect",
    [("missing/a.cast", "the directory"), ("", "the file name is empty"), (".", "is a directory")],
)
def test_an_output_it_cannot_write(fakes, out, expect):  # noqa: F811
    tmp, _, log, env = fakes
    r = record(env, tmp, "-o", out)
    assert r.returncode == 2 and expect in r.stderr and "status unknown" not in r.stderr
    assert not (log / "app.args").exists()  # checked before recording anything


def test_a_recorder_that_fails_is_not_status_unknown(fakes):  # noqa: F811
    tmp, bin_dir, _, env = fakes
    (bin_dir / "asciinema").write_text('#!/usr/bin/env bash\n[[ "$2" == --help ]] && exit 0\nexit 1\n')
    # (tmux new-session -d succeeds whatever its command then does)
    tmux = '#!/usr/bin/env bash\n[[ "$1" == has-session ]] && exit 1\n'
    tmux += '[[ "$1" == new-session ]] && bash -c "$9" &>/dev/null\nexit 0\n'
    (bin_dir / "tmux").write_text(tmux)
    r = record(env, tmp, "-o", "a.cast")
    assert r.returncode == 1 and "status unknown" not in r.stderr
    assert "the app did not run: asciinema or tmux failed" in r.stderr
