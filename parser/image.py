"""Bounded reads from an image file descriptor.

Every byte the parser looks at comes through `Image.read`, which checks the range against
the image's size first (DESIGN.md checklist 7: a pointer past the end fails early and
typed) and never returns fewer bytes than asked for.
"""

from __future__ import annotations

import os
import stat
from typing import Self

from .errors import Ext4Error, ImageIOError, TruncatedImage, Where

#: No single metadata read is larger than this (a 64 KiB block is the largest ext4 allows).
MAX_READ = 1 << 20


def range_error(offset: int, length: int, size: int, where: Where | None) -> Ext4Error:
    """Why a read of `length` bytes at `offset` is refused on an image of `size` bytes (the
    caller has found that it is): negative or oversized, or past the end."""
    if offset < 0 or length < 0 or length > MAX_READ:
        return ImageIOError(f"refusing read of {length} bytes at offset {offset}", where)
    return TruncatedImage(
        f"{length} bytes at offset {offset} run past the image end ({size} bytes)", where
    )


class Image:
    """A read-only view of an image: a file descriptor and the size it had when opened."""

    __slots__ = ("_owns_fd", "fd", "size")

    def __init__(self, fd: int, *, owns_fd: bool = False) -> None:
        try:
            st = os.fstat(fd)
        except OSError as exc:
            raise ImageIOError(f"cannot stat image fd {fd}: {exc.strerror}") from None
        if stat.S_ISREG(st.st_mode):
            size = st.st_size
        elif stat.S_ISBLK(st.st_mode):
            size = os.lseek(fd, 0, os.SEEK_END)
        else:
            raise ImageIOError("the image must be a regular file or a block device")
        self.fd = fd
        self.size = size
        self._owns_fd = owns_fd

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Self:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise ImageIOError(f"cannot open {os.fspath(path)!r}: {exc.strerror}") from None
        try:
            return cls(fd, owns_fd=True)
        except ImageIOError:
            os.close(fd)
            raise

    def close(self) -> None:
        if self._owns_fd and self.fd >= 0:
            os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def read(self, offset: int, length: int, where: Where | None = None) -> bytes:
        """Exactly `length` bytes at `offset`, or a typed error."""
        if offset < 0 or length < 0 or length > MAX_READ or offset + length > self.size:
            raise range_error(offset, length, self.size, where)
        chunks: list[bytes] = []
        done = 0
        while done < length:
            try:
                chunk = os.pread(self.fd, length - done, offset + done)
            except OSError as exc:
                raise ImageIOError(
                    f"read at offset {offset + done}: {exc.strerror}", where
                ) from None
            if len(chunk) == length:
                return chunk  # the usual case: one pread, nothing to join
            if not chunk:
                # The file shrank under us (DESIGN.md checklist 9): treat as truncation.
                raise TruncatedImage(f"image ended at offset {offset + done} during a read", where)
            chunks.append(chunk)
            done += len(chunk)
        return b"".join(chunks)
