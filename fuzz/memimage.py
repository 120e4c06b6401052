"""In-memory image files: the fuzzers hand the parser a memfd, never a path on disk.

The parser reads through a file descriptor (`parser.image.Image`), so an input is written to
an anonymous memory file (`memfd_create`: a regular file, no disk I/O, gone when closed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


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
