"""tui-trainer: a terminal step-through debugger for how a language model learns."""

import os

__version__ = "0.1.0"

# One BLAS thread unless the environment says otherwise (this must run before NumPy loads
# OpenBLAS). The models here are small: on the two-core machines measured, a second BLAS
# thread made a corpus step 1.4x slower or worse (more under load), its results were not
# always bit-identical from run to run, and NumPy's import varied more (bench/README.md).
# OPENBLAS_NUM_THREADS=2 (or MKL_NUM_THREADS) in the environment wins.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
del _var
