"""tui-trainer: a terminal step-through debugger for how a language model learns."""

__version__ = "0.1.0"
