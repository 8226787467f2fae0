"""Reading and writing files safely: only regular files are read, never more than a limit, and a
crash, a full disk or a killed process never leaves half a file."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_KINDS = (
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISCHR, "character_device"),
    (stat.S_ISBLK, "block_device"),
    (stat.S_ISSOCK, "socket"),
)


class NotRegularFileError(OSError):
    """The path is a directory, a FIFO, a device or a socket: never opened for reading (a FIFO
    blocks until a writer comes, /dev/zero never ends). ``kind`` is one of ``directory``,
    ``fifo``, ``character_device``, ``block_device``, ``socket``, ``other``."""

    def __init__(self, path: str | os.PathLike, kind: str) -> None:
        super().__init__(f"not a regular file ({kind})")
        self.filename, self.kind = os.fspath(path), kind


class FileTooLargeError(OSError):
    """The file holds more than ``limit`` bytes (``size``: its size, None if it grew while read)."""

    def __init__(self, path: str | os.PathLike, size: int | None, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.filename, self.size, self.limit = os.fspath(path), size, limit


def file_kind(mode: int) -> str:
    """``regular`` or the kind ``NotRegularFileError`` names, from an ``st_mode``."""
    if stat.S_ISREG(mode):
        return "regular"
    return next((kind for test, kind in _KINDS if test(mode)), "other")


def open_regular(path: str | os.PathLike, limit: int | None = None) -> int:
    """A read-only descriptor of the regular file ``path`` (the caller closes it); raises
    ``NotRegularFileError``, ``FileTooLargeError`` (its size is above ``limit``) or ``OSError``.
    Checked with stat() before it is opened, and opened non-blocking, so that a FIFO swapped in
    between never blocks; checked again on the open descriptor."""
    kind = file_kind(os.stat(path).st_mode)
    if kind != "regular":
        raise NotRegularFileError(path, kind)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if file_kind(st.st_mode) != "regular":
            raise NotRegularFileError(path, file_kind(st.st_mode))
        if limit is not None and st.st_size > limit:
            raise FileTooLargeError(path, st.st_size, limit)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them (``FileTooLargeError``
    beyond, without reading more than ``limit`` + 1 bytes whatever the file is)."""
    fd = open_regular(path, limit)
    try:
        chunks, got = [], 0
        while got <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    finally:
        os.close(fd)
    if got > limit:
        raise FileTooLargeError(path, None, limit)
    return b"".join(chunks)


def write_atomic(path: str | os.PathLike, data: bytes | Callable[[BinaryIO], None]) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same directory, renamed into
    place only once it is complete. ``data`` is the bytes, or a function that writes them to the
    file it is given (streamed: a long history is never whole in memory). Raises ``OSError`` if
    it cannot be written."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    # 0o666 as open() would use: the kernel applies the user's umask (mkstemp would give 0o600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def claim_names(directory: str | os.PathLike, base: str, suffixes: tuple[str, ...]) -> list[Path]:
    """Free names for one save, claimed: ``directory/base`` + each suffix, else ``base-2``, ``base-3``...
    The first stem whose files of every suffix do not exist yet is taken by creating each one empty
    with O_CREAT|O_EXCL, so two processes saving into one directory at once never get the same
    name (a check for a free name, then a write, let one overwrite the other). ``write_atomic``
    then replaces each claim with its content; ``release`` removes the claims not written."""
    directory, n = Path(directory), 1
    while True:
        stem = base if n == 1 else f"{base}-{n}"
        made: list[Path] = []
        try:
            for suffix in suffixes:
                p = directory / (stem + suffix)
                os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                made.append(p)
            return made
        except FileExistsError:
            release(made)
            n += 1


def release(claims: list[Path]) -> None:
    """Remove claimed names that are still empty (their save failed)."""
    for p in claims:
        try:
            if p.stat().st_size == 0:
                p.unlink()
        except OSError:
            pass
