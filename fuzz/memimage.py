"""In-memory images: the fuzzers hand the parser a memfd or a buffer, never a path on disk.

The parser reads through `parser.image.Image`. A memfd (`memfd_create`: a regular file, no
disk I/O, gone when closed) is a real file descriptor, as the CLI gives it; `MemImage` serves
the same reads from a buffer with the same checks, without a copy of the input into a file
or a system call per read: the hot targets use it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ext4guard.parser.errors import Where
from ext4guard.parser.image import MAX_READ, Image, range_error


class MemImage(Image):
    """An image in memory: `Image.read`'s contract (range checks, typed errors, exactly
    `length` bytes, a copy) over a buffer. A bytearray buffer may be changed between reads
    (a record target patches its template and puts it back around each input)."""

    __slots__ = ("buf",)

    def __init__(self, buf: bytes | bytearray) -> None:
        # Not Image.__init__: there is no file to fstat. A bytearray is read through a view
        # (one copy per read, not two); the view also forbids resizing it meanwhile.
        self.buf: bytes | memoryview = buf if isinstance(buf, bytes) else memoryview(buf)
        self.fd = -1
        self.size = len(buf)
        self._owns_fd = False

    def close(self) -> None:
        self.fd = -1

    def read(self, offset: int, length: int, where: Where | None = None) -> bytes:
        if offset < 0 or length < 0 or length > MAX_READ or offset + length > self.size:
            raise range_error(offset, length, self.size, where)
        chunk = self.buf[offset : offset + length]
        return chunk if isinstance(chunk, bytes) else chunk.tobytes()


def memfd_with(data: bytes | bytearray | memoryview, name: str = "ext4guard-fuzz") -> int:
    """A new memfd holding `data`; the caller closes it."""
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        done = 0
        while done < len(view):
            done += os.write(fd, view[done:])
    except OSError:
        os.close(fd)
        raise
    return fd


@contextmanager
def image_fd(data: bytes | bytearray | memoryview) -> Iterator[int]:
    """A memfd holding `data` for the duration of the block."""
    fd = memfd_with(data)
    try:
        yield fd
    finally:
        os.close(fd)


class Template:
    """A seed image in a memfd that inputs are spliced into and restored from.

    Record targets overwrite one record per input: writing a few hundred bytes and putting
    the original back costs far less than writing the whole image each time.
    """

    __slots__ = ("fd", "name", "raw", "size", "work")

    def __init__(self, raw: bytes, name: str = "") -> None:
        self.name = name  # the seed's name, for reproducers
        self.raw = raw
        self.size = len(raw)
        self.fd = memfd_with(raw)
        #: A scratch copy of the image for building an input's bytes (checksum fixes,
        #: mutations); whoever writes into it puts the seed's bytes back (`restore`).
        self.work = bytearray(raw)

    def restore(self, ranges: list[tuple[int, int]]) -> None:
        """Put the seed's bytes back into `work` over `ranges`."""
        for start, end in ranges:
            self.work[start:end] = self.raw[start:end]

    @contextmanager
    def spliced(self, patches: list[tuple[int, bytes]]) -> Iterator[int]:
        """The image with `patches` [(offset, bytes)] written over it, for the block."""
        written: list[tuple[int, int]] = []
        try:
            for offset, data in patches:
                if not data or offset < 0 or offset + len(data) > self.size:
                    continue
                os.pwrite(self.fd, data, offset)
                written.append((offset, len(data)))
            yield self.fd
        finally:
            for offset, length in reversed(written):
                os.pwrite(self.fd, self.raw[offset : offset + length], offset)
