"""Target: the FUSE operations of `ext4guard mount`, driven without a kernel.

The input is an image. The server's `Ext4Operations` (server/fuse_ops.py) is built over it
and its handlers are called as the kernel would: getattr and statfs of the root, then for
every directory reached opendir / readdir (in two batches) / releasedir, lookup and getattr
of every name, readlink, listxattr and getxattr of every attribute, open / read at several
offsets / release of regular files. A handler answers or fails with `pyfuse3.FUSEError`
(its errno); anything else -- an exception escaping a handler, a handler that waits on
something -- is a finding.

The handlers are coroutines that never wait (the parser is synchronous): each is run to its
end by one `send`, with no event loop.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Coroutine
from typing import Any

import pyfuse3

from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.image import Image
from ext4guard.server.fuse_ops import Ext4Operations

from ..memimage import image_fd
from ._common import WALK_CAP, Mutate
from .walk import make_mutator as _walk_mutator
from .walk import seed_inputs

DESCRIPTION = "FUSE operations: lookup/getattr/readdir/open+read/readlink/xattrs, no kernel"

__all__ = ["DESCRIPTION", "make_mutator", "seed_inputs", "test_one_input"]

ROOT_NODE = pyfuse3.ROOT_INODE
READ_OFFSETS = (0, 4095, 4096, 65536, 1 << 20, 1 << 40)
READ_SIZE = 128 * 1024
MAX_DIRS = 256


class HandlerWaited(RuntimeError):
    """A handler suspended: it waited on something, which these handlers never should."""


def run(handler: Callable[..., Coroutine[Any, Any, Any]], *args: object) -> Any:
    """Run one handler to its end; FUSEError (the request's errno) is returned, not raised."""
    coro = handler(*args)
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    except pyfuse3.FUSEError as exc:
        return exc
    coro.close()
    raise HandlerWaited(f"{getattr(handler, '__name__', handler)} suspended")


class ReaddirCollector:
    """Stands in for pyfuse3.readdir_reply: keeps (name, attributes, next offset), up to
    `room` entries per readdir call (the kernel's buffer), as the server's tests do too."""

    def __init__(self, room: int = 1 << 30) -> None:
        self.room = room
        self.entries: list[tuple[bytes, pyfuse3.EntryAttributes, int]] = []

    def __call__(self, token: object, name: bytes, attr: pyfuse3.EntryAttributes, nxt: int) -> bool:
        if len(self.entries) >= self.room:
            return False
        self.entries.append((name, attr, nxt))
        return True


def _list(ops: Ext4Operations, node: int, budget: list[int]) -> list[tuple[bytes, Any]]:
    fh = run(ops.opendir, node, None)
    if not isinstance(fh, int):
        return []
    out: list[tuple[bytes, Any]] = []
    start = 0
    original = pyfuse3.readdir_reply
    try:
        while budget[0] > 0:
            collect = ReaddirCollector(room=64)
            setattr(pyfuse3, "readdir_reply", collect)  # noqa: B010 (a module function)
            if isinstance(run(ops.readdir, fh, start, None), pyfuse3.FUSEError):
                break
            if not collect.entries:
                break
            out += [(name, attr) for name, attr, _ in collect.entries]
            budget[0] -= len(collect.entries)
            start = collect.entries[-1][2]
    finally:
        setattr(pyfuse3, "readdir_reply", original)  # noqa: B010
    run(ops.releasedir, fh)
    return out


def _file(ops: Ext4Operations, node: int, mode: int) -> None:
    run(ops.getattr, node, None)
    names = run(ops.listxattr, node, None)
    if isinstance(names, list):
        for name in names[:16]:
            run(ops.getxattr, node, name, None)
    run(ops.getxattr, node, b"user.none", None)
    if stat.S_ISLNK(mode):
        run(ops.readlink, node, None)
    elif stat.S_ISREG(mode):
        info = run(ops.open, node, os.O_RDONLY, None)
        if isinstance(info, pyfuse3.FileInfo):
            for offset in READ_OFFSETS:
                run(ops.read, info.fh, offset, READ_SIZE)
            run(ops.release, info.fh)
    run(ops.access, node, os.R_OK, None)


def test_one_input(data: bytes) -> None:
    with image_fd(data) as fd:
        try:
            fs = Filesystem(Image(fd))
        except Ext4Error:
            return
        ops = Ext4Operations(fs)
        run(ops.statfs, None)
        run(ops.getattr, ROOT_NODE, None)
        run(ops.lookup, ROOT_NODE, b"no such name", None)
        budget = [WALK_CAP]
        queue = [ROOT_NODE]
        seen = {ROOT_NODE}
        while queue and len(seen) <= MAX_DIRS and budget[0] > 0:
            node = queue.pop()
            for name, _attr in _list(ops, node, budget):
                if name in (b".", b".."):
                    continue
                found = run(ops.lookup, node, name, None)
                if isinstance(found, pyfuse3.FUSEError):
                    continue
                child = found.st_ino
                if stat.S_ISDIR(found.st_mode):
                    if child not in seen:
                        seen.add(child)
                        queue.append(child)
                    run(ops.getattr, child, None)
                else:
                    _file(ops, child, found.st_mode)
        run(ops.getattr, 1 << 40, None)  # a node never handed out
        run(ops.read, 1 << 30, 0, 4096)  # a file handle never opened
        if run(ops.mkdir, ROOT_NODE, b"x", 0o755, None) is None:
            raise AssertionError("a write request succeeded on a read-only mount")


def make_mutator(
    *, fix: bool = True, byte_mutate: Mutate | None = None
) -> Callable[[bytes, int, int], bytes]:
    return _walk_mutator(fix=fix, byte_mutate=byte_mutate)
