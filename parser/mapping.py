"""The iomap: a file's logical blocks as runs (MAPPED, HOLE, UNWRITTEN, INLINE), and reads.

DESIGN.md, "The data path never parses": `file_mappings` turns the extent tree
(`parser.extents`) or the ext2/3 block map (`parser.blockmap`) into one `Mapping` per extent
or contiguous run, never one per block, and `read_file` assembles bytes from them with
bounded image reads (zeros for holes and unwritten extents), clamped to i_size. Regular
files, directories and slow symlinks alike.

`inode_checksum_seed` is THE per-inode metadata_csum seed (crc32c of the filesystem seed,
the inode number and the generation; "Checksums" in the kernel's ext4 docs), shared by the
inode's extent, directory and xattr block checksums.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NamedTuple

from .blockmap import find_blocks
from .budget import Budget
from .errors import Ext4Error, InvalidRequest, Where
from .extents import MAX_LOGICAL_BLOCKS, Extent, find_extents
from .image import MAX_READ
from .inline import inline_bytes
from .inode import FL_INLINE_DATA, I_BLOCK_BYTES, Inode, inode_checksum_seed, is_fast_symlink

if TYPE_CHECKING:
    from .filesystem import Filesystem

__all__ = [
    "Mapping",
    "MappingKind",
    "ReadWindow",
    "file_mappings",
    "inode_checksum_seed",
    "read_file",
]

#: i_block is 60 bytes: inline data and fast symlinks keep up to this much there.
#: File types whose i_block holds no data mapping (device numbers, nothing).
_NO_DATA_TYPES = frozenset({"chr", "blk", "fifo", "sock"})


class MappingKind(enum.Enum):
    MAPPED = "mapped"  # bytes are at physical_block on the image
    HOLE = "hole"  # nothing allocated: reads as zeros
    UNWRITTEN = "unwritten"  # allocated but never written (fallocate): reads as zeros
    INLINE = "inline"  # bytes live in the inode (i_block + system.data xattr)


class Mapping(NamedTuple):
    """One run of logical blocks: an extent, a contiguous block-map run, or a hole.

    A NamedTuple, like `Extent`: built on every read."""

    kind: MappingKind
    logical_block: int
    length_blocks: int
    physical_block: int | None  # None unless MAPPED or UNWRITTEN

    @property
    def logical_end(self) -> int:
        return self.logical_block + self.length_blocks


def _runs(fs: Filesystem, inode: Inode, first: int, end: int, budget: Budget) -> list[Extent]:
    if inode.uses_extents:
        seed = (
            inode_checksum_seed(fs.superblock, inode) if fs.superblock.has_metadata_csum else None
        )
        return find_extents(fs, inode, first, end - first, budget, csum_seed=seed)
    return find_blocks(fs, inode, first, end - first, budget)


def file_mappings(
    fs: Filesystem, inode: Inode, first_block: int, block_count: int, budget: Budget
) -> list[Mapping]:
    """Mappings covering logical blocks [first_block, first_block + block_count) exactly,
    in order, clipped to the range (and to 2^32 blocks). Raises only Ext4Error."""
    if first_block < 0 or block_count < 0:
        raise InvalidRequest("first_block and block_count must not be negative")
    end = min(first_block + block_count, MAX_LOGICAL_BLOCKS)
    if first_block >= end:
        return []
    if inode.has_inline_data or is_fast_symlink(fs.superblock, inode):
        block_size = fs.superblock.block_size
        inline_end = max(1, -(-inode.size // block_size))
        out: list[Mapping] = []
        if first_block < inline_end:
            out.append(
                Mapping(MappingKind.INLINE, first_block, min(end, inline_end) - first_block, None)
            )
        if end > inline_end:
            start = max(first_block, inline_end)
            out.append(Mapping(MappingKind.HOLE, start, end - start, None))
        return out
    if inode.file_type in _NO_DATA_TYPES:
        return [Mapping(MappingKind.HOLE, first_block, end - first_block, None)]
    out = []
    cursor = first_block
    for run in _runs(fs, inode, first_block, end, budget):
        start = max(run.logical_block, cursor)
        stop = min(run.logical_end, end)
        if stop <= start:
            continue
        if start > cursor:
            out.append(Mapping(MappingKind.HOLE, cursor, start - cursor, None))
        kind = MappingKind.UNWRITTEN if run.unwritten else MappingKind.MAPPED
        out.append(
            Mapping(kind, start, stop - start, run.physical_block + start - run.logical_block)
        )
        cursor = stop
    if cursor < end:
        out.append(Mapping(MappingKind.HOLE, cursor, end - cursor, None))
    return out


#: Logical blocks whose runs a read that stops short of the file's end fetches ahead.
READ_WINDOW_BLOCKS = 1 << 14


class ReadWindow(NamedTuple):
    """The runs of logical blocks [first, end) of `inode` (the very Inode object: one read
    again from the image is another), kept by `read_file` on the filesystem between reads."""

    inode: Inode
    first: int
    end: int
    runs: list[Extent]


def read_file(fs: Filesystem, inode: Inode, offset: int, size: int, budget: Budget) -> bytes:
    """Up to `size` bytes of the file at `offset`, clamped to i_size (short or empty past EOF).

    MAPPED ranges come from image reads, HOLE and UNWRITTEN ranges are zeros. Fast symlinks
    are served from i_block; inline data from i_block and, past 60 bytes, from the in-inode
    system.data attribute (`parser.inline`).
    """
    if offset < 0 or size < 0:
        raise InvalidRequest("offset and size must not be negative")
    end = min(offset + size, inode.size)
    if offset >= end:
        return b""
    if inode.flags & FL_INLINE_DATA:
        if inode.size > I_BLOCK_BYTES:
            return inline_bytes(fs.superblock, inode, budget)[offset:end]
        return inode.i_block[offset:end]
    if inode.file_type != "reg":  # the tests below never hold for regular files
        if is_fast_symlink(fs.superblock, inode):
            return inode.i_block[offset:end]
        if inode.file_type in _NO_DATA_TYPES:
            return bytes(end - offset)
    # The runs straight from the extent tree or block map, not through `file_mappings`:
    # this is the path of every read, and the gaps between runs are the holes.
    block_size = fs.superblock.block_size
    first = offset // block_size
    last = min(-(-end // block_size), MAX_LOGICAL_BLOCKS)
    window = fs.read_window
    if (
        window is not None
        and window.inode is inode
        and window.first <= first
        and last <= window.end
    ):
        runs = window.runs
    elif end < inode.size:
        # More reads will follow (cat, extract, a hash of a big file): find the runs of the
        # next READ_WINDOW_BLOCKS too, and keep them for those reads.
        file_end = min(-(-inode.size // block_size), MAX_LOGICAL_BLOCKS)
        window_end = min(max(last, first + READ_WINDOW_BLOCKS), file_end)
        runs = _runs(fs, inode, first, window_end, budget)
        fs.read_window = ReadWindow(inode, first, window_end, runs)
    else:
        runs = _runs(fs, inode, first, last, budget)
    parts: list[bytes] = []
    image = fs.image
    cursor = offset
    for run in runs:
        run_start = run.logical_block * block_size
        lo = max(cursor, run_start)
        hi = min(end, run_start + run.length_blocks * block_size)
        if hi <= lo:
            continue
        if lo > cursor:
            parts.append(bytes(lo - cursor))
        cursor = hi
        if run.unwritten:
            parts.append(bytes(hi - lo))
            continue
        position = run.physical_block * block_size + lo - run_start
        while lo < hi:
            chunk = min(hi - lo, MAX_READ)
            try:
                parts.append(image.read(position, chunk))
            except Ext4Error as exc:
                # Name the file in the finding; built here, off the path of every read.
                exc.where = Where(inode=inode.ino, block=position // block_size)
                raise
            position += chunk
            lo += chunk
    # Holes at the end, and blocks past 2^32 (never mapped), read as zeros.
    if cursor < end:
        parts.append(bytes(end - cursor))
    return b"".join(parts)
