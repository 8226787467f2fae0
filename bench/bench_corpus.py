"""Steps/s on a real corpus (a large vocabulary), this checkout vs another one, side by side.

    python bench/bench_corpus.py                          # this checkout only
    python bench/bench_corpus.py --against /tmp/prev      # and a checkout of an earlier commit
    python bench/bench_corpus.py --corpus FILE --threads 1

Each contender runs in its own child process (its own ``core`` on ``sys.path``),
alternating, ``--rounds`` times: the session is the one ``tui-trainer train --corpus
FILE`` builds with that checkout's defaults (batch 512, and its default ``--dtype``),
without undo memory, as headless. A child reports steps/s over ``--steps`` steps after
a few warm-up steps. The figure is the ratio of medians of the same run.

The default corpus is every file in /usr/share/common-licenses (Debian's licence
texts, about 300 KB) plus Python's LICENSE.txt, concatenated in name order.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from tui_trainer.cli import build_parser, session_from_args
args = build_parser().parse_args(["--corpus", sys.argv[2], "--undo-memory", "0", *sys.argv[4:]])
s = session_from_args(args)
s.run(5)
n = int(sys.argv[3])
t0 = time.perf_counter()
s.run(n)
dt = time.perf_counter() - t0
print(json.dumps({"rate": n / dt, "vocab": len(s.vocab), "dtype": str(s.model.dtype),
                  "positions": int(s.data.n_positions), "batch": int(s.config.batch_positions)}))
"""


def default_corpus() -> Path:
    """The licence texts this machine has, as one file (built once in the temp directory)."""
    out = Path(tempfile.gettempdir()) / "tui-trainer-bench-corpus.txt"
    if not out.exists():
        parts = [p for p in sorted(Path("/usr/share/common-licenses").glob("*")) if p.is_file()]
        parts.append(Path(sysconfig.get_paths()["stdlib"]) / "LICENSE.txt")
        out.write_text("\n".join(p.read_text(encoding="utf-8", errors="replace") for p in parts), encoding="utf-8")
    return out


def child(root: Path, corpus: Path, steps: int, threads: str | None, extra: list[str]) -> dict:
    env = dict(os.environ)
    if threads is not None:
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[k] = threads
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(corpus), str(steps), *extra],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=tempfile.gettempdir(),  # so no checkout's packages are found by accident
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--against", type=Path, default=None, help="a checkout of another commit")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default=None, help="BLAS threads in the children (default: the library's)")
    ap.add_argument("--dtype", default=None, help="pass --dtype to both (default: each checkout's own default)")
    args = ap.parse_args(argv)
    corpus = args.corpus or default_corpus()
    extra = ["--dtype", args.dtype] if args.dtype else []
    contenders = {"this": HERE}
    if args.against is not None:
        contenders["against"] = args.against.resolve()
    rates: dict[str, list[float]] = {k: [] for k in contenders}
    info: dict[str, dict] = {}
    for _ in range(args.rounds):  # alternating, so a noisy second hits both alike
        for k, root in contenders.items():
            r = child(root, corpus, args.steps, args.threads, extra)
            rates[k].append(r["rate"])
            info[k] = r
    size = corpus.stat().st_size
    print(f"corpus {corpus} ({size / 1000:.0f} KB), BLAS threads {args.threads or 'default'}")
    for k in contenders:
        i = info[k]
        print(
            f"  {k:8} {contenders[k]}: V {i['vocab']:,}, batch {i['batch']}, {i['dtype']}: "
            f"steps/s median {statistics.median(rates[k]):.1f} (rounds {', '.join(f'{x:.1f}' for x in rates[k])})"
        )
    if "against" in rates:
        ratio = statistics.median(rates["this"]) / statistics.median(rates["against"])
        print(f"  this / against: {ratio:.2f}x (ratio of medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
