"""The mount's read path: a file's bytes mapped by extent, cached, and read from the image fd.

DESIGN.md, "The data path never parses". `Iomap.iomap_begin(inode, offset, length)` answers
with `IomapExtent`s shaped like the replies of the fuse-iomap design (the 2025 RFC that lets a
FUSE server hand the kernel file mappings: FUSE_IOMAP_BEGIN / FUSE_IOMAP_END): one per extent
or contiguous block-map run, never one per block, each with a file offset, a length, a type
(the kernel's IOMAP_HOLE / IOMAP_MAPPED / IOMAP_UNWRITTEN / IOMAP_INLINE numbers), flags, a
device cookie and a byte address on that device (`NULL_ADDR` when there is none).

Mappings come from the parser (`Filesystem.iomap`: extent tree or block map) and are kept in
`MappingCache`, a bounded per-inode cache: upsert of what was fetched, invalidation when the
inode's generation changes, eviction of the least recently used inodes past a cap on the total
number of mappings. `Iomap.read` assembles an answer from `os.preadv` on the image fd into one
buffer (zeros for holes and unwritten ranges, inline bytes from the inode); a read whose range
is cached does no parsing at all.

What is missing for a kernel with fuse-iomap (none is in a released kernel or in libfuse 3.14
and pyfuse3 3.5 today):
- the opcodes themselves: FUSE_IOMAP_BEGIN would be answered by `iomap_begin` as it is, with
  `IomapExtent` packed as the RFC's reply record; FUSE_IOMAP_END has nothing to do for a
  read-only server (no allocation to commit), so `iomap_end` is a no-op;
- registering the image with the kernel as a backing device (the RFC's FUSE_DEV_IOC_BACKING_OPEN
  ioctl on /dev/fuse), whose id becomes `dev`: until then `dev` is 0 and the kernel could not
  do the I/O itself, so the server does it here;
- cache invalidation pushed to the kernel (the RFC's iomap invalidation notification) if the
  image could ever change: ext4guard serves read-only images and never sends it;
- INLINE mappings: the kernel's iomap has an inline_data pointer, but a FUSE server cannot
  hand one across; the RFC serves inline files through ordinary reads, as this module does.
"""

from __future__ import annotations

import enum
import os
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ext4guard.parser.errors import ImageIOError, TruncatedImage, Where
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import Inode
from ext4guard.parser.mapping import Mapping, MappingKind

#: No byte address (the RFC's FUSE_IOMAP_NULL_ADDR, the kernel's IOMAP_NULL_ADDR: -1).
NULL_ADDR = (1 << 64) - 1

#: Mappings fetched on a miss cover at least this much of the file past the requested offset,
#: so a sequential reader costs one parser call per window, not per request.
DEFAULT_WINDOW = 64 << 20
#: Cache caps: mappings over all inodes, mappings of one inode, inline bytes over all inodes.
DEFAULT_MAX_MAPPINGS = 1 << 16
DEFAULT_MAX_PER_INODE = 1 << 13
DEFAULT_MAX_INLINE_BYTES = 4 << 20


class IomapType(enum.IntEnum):
    """Mapping types, numbered as the kernel's include/linux/iomap.h (and the RFC) number them."""

    HOLE = 0  # nothing allocated: reads as zeros
    MAPPED = 2  # bytes at `addr` on the device
    UNWRITTEN = 3  # allocated, never written (fallocate): reads as zeros
    INLINE = 4  # bytes stored in the inode (i_block and the system.data attribute)


_KIND_TO_TYPE = {
    MappingKind.HOLE: IomapType.HOLE,
    MappingKind.MAPPED: IomapType.MAPPED,
    MappingKind.UNWRITTEN: IomapType.UNWRITTEN,
    MappingKind.INLINE: IomapType.INLINE,
}


class IomapExtent(NamedTuple):
    """One mapping as a FUSE_IOMAP_BEGIN reply carries it: file bytes [offset, offset+length).

    A NamedTuple rather than a frozen dataclass, as the parser's `Inode` and `DirEntry`: one
    is built for every file read, and a frozen dataclass's __init__ costs several times more."""

    offset: int
    length: int
    type: IomapType
    addr: int = NULL_ADDR  # image byte offset for MAPPED and UNWRITTEN
    flags: int = 0  # IOMAP_F_*: none applies to a read-only mapping
    dev: int = 0  # backing device id (see the module docstring: not registered yet)
    inline: bytes = b""  # INLINE only: the file's bytes

    @property
    def end(self) -> int:
        return self.offset + self.length

    def clipped(self, lo: int, hi: int) -> IomapExtent:
        """The part of this mapping inside [lo, hi) (which must overlap it)."""
        start = max(lo, self.offset)
        stop = min(hi, self.end)
        addr = self.addr
        if addr != NULL_ADDR:
            addr += start - self.offset
        return IomapExtent(start, stop - start, self.type, addr, self.flags, self.dev, self.inline)


def from_mapping(mapping: Mapping, block_size: int) -> IomapExtent:
    """The parser's block-unit `Mapping` as a byte-unit `IomapExtent`."""
    kind = _KIND_TO_TYPE[mapping.kind]
    addr = NULL_ADDR
    if mapping.physical_block is not None and kind in (IomapType.MAPPED, IomapType.UNWRITTEN):
        addr = mapping.physical_block * block_size
    return IomapExtent(
        mapping.logical_block * block_size, mapping.length_blocks * block_size, kind, addr
    )


class _InodeMaps:
    """The cached mappings of one inode: sorted, not overlapping, maybe with gaps."""

    __slots__ = ("extents", "generation", "inline_bytes", "starts")

    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.extents: list[IomapExtent] = []
        self.starts: list[int] = []
        self.inline_bytes = 0


@dataclass(slots=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    evicted_inodes: int = 0
    invalidations: int = 0


class MappingCache:
    """Per-inode mappings, bounded: at most `max_mappings` over all inodes (least recently
    used inodes go first), `max_per_inode` for one inode, `max_inline_bytes` of inline data."""

    __slots__ = ("_inline_total", "_inodes", "_total", "max_inline_bytes", "max_mappings",
                 "max_per_inode", "stats")  # fmt: skip

    def __init__(
        self,
        max_mappings: int = DEFAULT_MAX_MAPPINGS,
        max_per_inode: int = DEFAULT_MAX_PER_INODE,
        max_inline_bytes: int = DEFAULT_MAX_INLINE_BYTES,
    ) -> None:
        self.max_mappings = max_mappings
        self.max_per_inode = min(max_per_inode, max_mappings)
        self.max_inline_bytes = max_inline_bytes
        self._inodes: OrderedDict[int, _InodeMaps] = OrderedDict()
        self._total = 0
        self._inline_total = 0
        self.stats = CacheStats()

    def __len__(self) -> int:
        """Mappings held, over all inodes."""
        return self._total

    @property
    def inline_bytes(self) -> int:
        return self._inline_total

    def inodes(self) -> int:
        return len(self._inodes)

    def get(self, ino: int, generation: int, offset: int, length: int) -> list[IomapExtent] | None:
        """The cached mappings covering [offset, offset+length) without a gap, else None.

        An entry of another generation is dropped (the inode number was reused)."""
        maps = self._inodes.get(ino)
        if maps is None:
            self.stats.misses += 1
            return None
        if maps.generation != generation:
            self.invalidate(ino)
            self.stats.misses += 1
            return None
        end = offset + length
        index = bisect_right(maps.starts, offset) - 1
        if index < 0:
            self.stats.misses += 1
            return None
        out: list[IomapExtent] = []
        cursor = offset
        extents = maps.extents
        while cursor < end:
            if index >= len(extents):
                break
            extent = extents[index]
            if extent.offset > cursor or extent.end <= cursor:
                break
            out.append(extent)
            cursor = extent.end
            index += 1
        if cursor < end:
            self.stats.misses += 1
            return None
        self._inodes.move_to_end(ino)
        self.stats.hits += 1
        return out

    def covering(self, ino: int, generation: int, offset: int) -> IomapExtent | None:
        """The cached mapping holding byte `offset` of the file, if any (the read fast path:
        most requests fall inside one extent)."""
        maps = self._inodes.get(ino)
        if maps is None or maps.generation != generation:
            return None
        index = bisect_right(maps.starts, offset) - 1
        if index < 0:
            return None
        extent = maps.extents[index]
        if extent.end <= offset:
            return None
        self._inodes.move_to_end(ino)  # a file read through here is in use: not LRU
        self.stats.hits += 1
        return extent

    def upsert(self, ino: int, generation: int, extents: Sequence[IomapExtent]) -> None:
        """Insert sorted, contiguous `extents`, replacing whatever the cache held for their
        range (and everything of another generation)."""
        if not extents:
            return
        maps = self._inodes.get(ino)
        if maps is not None and maps.generation != generation:
            self.invalidate(ino)
            maps = None
        if maps is None:
            # A first fetch (every small file read once): nothing to merge with.
            maps = _InodeMaps(generation)
            self._inodes[ino] = maps
            self._set(ino, maps, list(extents[: self.max_per_inode]))
            self._shrink()
            return
        self._inodes.move_to_end(ino)
        lo = extents[0].offset
        hi = extents[-1].end
        kept: list[IomapExtent] = []
        for old in maps.extents:
            if old.end <= lo or old.offset >= hi:
                kept.append(old)
                continue
            # Keep the parts of an old mapping outside the new range.
            if old.offset < lo:
                kept.append(old.clipped(old.offset, lo))
            if old.end > hi:
                kept.append(old.clipped(hi, old.end))
        merged = sorted([*kept, *extents], key=lambda e: e.offset)
        if len(merged) > self.max_per_inode:
            merged = list(extents[: self.max_per_inode])
        self._set(ino, maps, merged)
        self._shrink()

    def invalidate(self, ino: int, generation: int | None = None) -> None:
        """Forget inode `ino` (only if it holds another generation than `generation`)."""
        maps = self._inodes.get(ino)
        if maps is None or (generation is not None and maps.generation == generation):
            return
        self._set(ino, maps, [])
        del self._inodes[ino]
        self.stats.invalidations += 1

    def _set(self, ino: int, maps: _InodeMaps, extents: list[IomapExtent]) -> None:
        self._total += len(extents) - len(maps.extents)
        inline = sum(len(e.inline) for e in extents)
        self._inline_total += inline - maps.inline_bytes
        maps.extents = extents
        maps.starts = [e.offset for e in extents]
        maps.inline_bytes = inline

    def _shrink(self) -> None:
        while self._inodes and (
            self._total > self.max_mappings or self._inline_total > self.max_inline_bytes
        ):
            _ino, maps = self._inodes.popitem(last=False)
            self._total -= len(maps.extents)
            self._inline_total -= maps.inline_bytes
            self.stats.evicted_inodes += 1


class Iomap:
    """iomap_begin / iomap_end / read over one open `Filesystem` and its image fd."""

    __slots__ = ("block_size", "cache", "fd", "fs", "window")

    def __init__(
        self,
        fs: Filesystem,
        cache: MappingCache | None = None,
        window: int = DEFAULT_WINDOW,
    ) -> None:
        self.fs = fs
        self.fd = fs.image.fd
        self.block_size = fs.superblock.block_size
        self.cache = cache if cache is not None else MappingCache()
        self.window = max(window, self.block_size)

    def iomap_begin(self, inode: Inode, offset: int, length: int) -> list[IomapExtent]:
        """Mappings covering the file's bytes [offset, offset+length) clipped to i_size and
        rounded out to whole blocks; [] at or past end of file. Raises only Ext4Error."""
        size = inode.size
        if offset < 0 or length < 0 or offset >= size or length == 0:
            return []
        block_size = self.block_size
        start = offset - offset % block_size
        stop = min(offset + length, size)
        stop += -stop % block_size
        cached = self.cache.get(inode.ino, inode.generation, start, stop - start)
        if cached is not None:
            return cached
        # A miss: fetch a window past the request (one parser call per window).
        file_end = size + -size % block_size
        fetch_stop = min(file_end, max(stop, start + self.window))
        fetched = [
            from_mapping(m, block_size) for m in self.fs.iomap(inode.ino, start, fetch_stop - start)
        ]
        if fetched and fetched[0].type is IomapType.INLINE:
            data = self.fs.read(inode.ino, 0, size)
            fetched = [
                IomapExtent(e.offset, e.length, e.type, e.addr, inline=data)
                if e.type is IomapType.INLINE
                else e
                for e in fetched
            ]
        self.cache.upsert(inode.ino, inode.generation, fetched)
        return [e for e in fetched if e.offset < stop]

    def iomap_end(self, inode: Inode, offset: int, length: int, written: int = 0) -> None:
        """Nothing to commit: the mount is read-only (FUSE_IOMAP_END would be acknowledged)."""

    def read(self, inode: Inode, offset: int, size: int) -> bytes | bytearray:
        """Up to `size` bytes of the file at `offset` (short at end of file)."""
        end = min(offset + size, inode.size)
        if offset < 0 or size < 0 or offset >= end:
            return b""
        # The common case first: the range lies in one MAPPED extent (cached, or just
        # fetched: a small file is one extent), one pread(2) and no buffer to zero.
        extent = self.cache.covering(inode.ino, inode.generation, offset)
        maps = None
        if extent is None:
            maps = self.iomap_begin(inode, offset, end - offset)
            extent = maps[0] if maps else None
        if (
            extent is not None
            and extent.type is IomapType.MAPPED
            and extent.offset <= offset
            and end <= extent.end
        ):
            position = extent.addr + offset - extent.offset
            try:
                data = os.pread(self.fd, end - offset, position)
            except OSError as exc:
                raise ImageIOError(
                    f"read at offset {position}: {exc.strerror}", Where(inode=inode.ino)
                ) from None
            if len(data) == end - offset:
                return data
            # short: the image shrank underneath; the general path below says where
        if maps is None:
            maps = self.iomap_begin(inode, offset, end - offset)
        out = bytearray(end - offset)  # zeros: holes and unwritten ranges need no work
        view = memoryview(out)
        for extent in maps:
            lo = max(offset, extent.offset)
            hi = min(end, extent.end)
            if hi <= lo:
                continue
            if extent.type is IomapType.MAPPED:
                position = extent.addr + lo - extent.offset
                self._pread_into(view[lo - offset : hi - offset], position, inode.ino)
            elif extent.type is IomapType.INLINE:
                chunk = extent.inline[lo:hi]
                out[lo - offset : lo - offset + len(chunk)] = chunk
        return out

    def _pread_into(self, view: memoryview, position: int, ino: int) -> None:
        done = 0
        total = len(view)
        while done < total:
            try:
                got = os.preadv(self.fd, [view[done:]], position + done)
            except OSError as exc:
                raise ImageIOError(
                    f"read at offset {position + done}: {exc.strerror}", Where(inode=ino)
                ) from None
            if got == 0:
                # The mapping points past the image's end, or the file shrank underneath.
                raise TruncatedImage(
                    f"image ended at offset {position + done} while reading file data",
                    Where(inode=ino, offset=position + done),
                )
            done += got


__all__ = [
    "NULL_ADDR",
    "Iomap",
    "IomapExtent",
    "IomapType",
    "MappingCache",
    "from_mapping",
]
