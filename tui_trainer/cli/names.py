"""The names the options offer, and the float32 threshold their help states: copies of core's, so that
the command line is parsed before NumPy and ``core`` load (the app paints first, then builds its
session). tests/cli/test_paint_first.py checks that they are core's (a model or optimizer added to
core fails it until it is added here too)."""

from __future__ import annotations

#: ``core.OPTIMIZERS``
OPTIMIZERS = ("sgd", "momentum", "adam")
#: ``core.models.MODELS``' names
MODELS = ("mlp", "gpt")
#: ``core.config.FLOAT32_VOCAB``
FLOAT32_VOCAB = 2_000
