"""The models, one module each behind one interface (``core.models.base``).

``MODELS`` maps the name ``--model`` takes to the class; ``build_model`` makes one for a session.
"""

from __future__ import annotations

from .base import Backward, Factors, Forward, LanguageModel, ModelConfigError, Tensors
from .gpt import GPTConfig, GPTForward, GPTLanguageModel
from .mlp import BACKWARD_ORDER, MLPForward, MLPLanguageModel, ModelConfig

#: every model by the name checkpoints and ``--model`` use
MODELS: dict[str, type[LanguageModel]] = {m.kind: m for m in (MLPLanguageModel, GPTLanguageModel)}

__all__ = [
    "BACKWARD_ORDER",
    "MODELS",
    "Backward",
    "Factors",
    "Forward",
    "GPTConfig",
    "GPTForward",
    "GPTLanguageModel",
    "LanguageModel",
    "MLPForward",
    "MLPLanguageModel",
    "ModelConfig",
    "ModelConfigError",
    "Tensors",
]
