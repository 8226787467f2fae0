"""Errors as data: a reason code and the values a message needs, never a sentence.

Core refuses bad input with a ``CodedError`` (a ``ValueError``: callers catch that): ``code`` names
the reason and the data are attributes; each subclass lists its codes and the data each carries in
``CODES``. The app words them (``tui_trainer.narrate_errors``); ``str()`` is technical, for logs.
"""

from __future__ import annotations

from typing import ClassVar


class CodedError(ValueError):
    """A refusal: ``code`` (one of the class's ``CODES``) and that code's data as attributes."""

    #: every code of the class, and the names of the data it carries
    CODES: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, code: str, **data: object) -> None:
        expected = self.CODES.get(code)
        if expected is None or set(data) != set(expected):  # (a programming error: say which)
            raise TypeError(f"{type(self).__name__}({code!r}) takes {expected}, not {tuple(data)}")
        super().__init__(code)
        self.code = code
        self.__dict__.update(data)

    def data(self) -> dict[str, object]:
        """This code's data by name, in ``CODES`` order."""
        return {name: getattr(self, name) for name in self.CODES.get(self.code, ())}

    def __reduce__(self) -> tuple:
        return _rebuild, (type(self), self.code, self.data())  # (a copy or a pickle: code and data again)

    def __str__(self) -> str:
        return " ".join([f"{self.code}:", *(f"{k}={v!r}" for k, v in self.data().items())])


def _rebuild(cls: type[CodedError], code: str, data: dict[str, object]) -> CodedError:
    return cls(code, **data)
