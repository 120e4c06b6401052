"""The "system zone": every block that belongs to filesystem metadata rather than to a file.

A file's extent, an indirect block or a directory block pointing into the superblock, the
descriptors, a bitmap or an inode table is corrupt (or an attack: reading such a "file" would
leak other inodes). The kernel keeps the same set (`ext4_setup_system_zone()`, fs/ext4/
block_validity.c) and checks every mapped block against it. It is built once per open image,
lazily — opening never pays for it — from the group descriptors: O(groups), and the group
count is bounded by the image size.
"""

from __future__ import annotations

import array
import bisect
import sys
from collections.abc import Iterable

from .errors import Ext4Error, Where
from .group_desc import backup_groups, descriptor_offset, group_first_block, group_has_superblock
from .image import MAX_READ, Image
from .superblock import SUPERBLOCK_OFFSET, Superblock


class SystemZone:
    """The metadata blocks, in three sorted parts: fixed ranges [start, end) (superblocks,
    descriptor tables), single blocks (bitmaps), and inode tables, which all have the same
    length. Kept apart so that building it is list slicing and sorting, not a Python loop
    per group (an open 1 TiB image has 8,192 groups)."""

    __slots__ = ("_ends", "_singles", "_starts", "_table_blocks", "_tables")

    def __init__(
        self,
        ranges: list[tuple[int, int]],
        singles: Iterable[int] = (),
        tables: Iterable[int] = (),
        table_blocks: int = 1,
    ) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]
        self._singles = sorted(singles)
        self._tables = sorted(tables)
        self._table_blocks = table_blocks

    def overlaps(self, block: int, count: int) -> bool:
        """Whether [block, block + count) touches any metadata block."""
        end = block + count
        index = bisect.bisect_right(self._starts, end - 1) - 1
        if index >= 0 and self._ends[index] > block:
            return True
        singles = self._singles
        index = bisect.bisect_left(singles, block)
        if index < len(singles) and singles[index] < end:
            return True
        # A table starting at t covers [t, t + table_blocks): it overlaps when t lies in
        # (block - table_blocks, end).
        tables = self._tables
        index = bisect.bisect_left(tables, block - self._table_blocks + 1)
        return index < len(tables) and tables[index] < end


def _gdt_blocks(sb: Superblock) -> int:
    """Blocks of the classic descriptor table (plus reserved GDT blocks for resize_inode)."""
    per_block = sb.block_size // sb.desc_size
    if "meta_bg" in sb.incompat:
        table = min(sb.first_meta_bg, -(-sb.group_count // per_block))
    else:
        table = -(-sb.group_count // per_block)
    return table + (sb.reserved_gdt_blocks if "resize_inode" in sb.compat else 0)


def _descriptor_runs(sb: Superblock, image: Image) -> list[bytes]:
    """The descriptors in group order, as runs of whole descriptors. The classic table is
    contiguous and read up to MAX_READ at a time (a 1 TiB image: one read of 512 KiB);
    meta_bg tables lie one block per meta group. A run that cannot be read is retried a
    block at a time and unreadable blocks are left out: reading those descriptors reports
    why, and the zone only needs the placements that exist."""
    per_block = sb.block_size // sb.desc_size
    classic = sb.group_count
    if "meta_bg" in sb.incompat:
        classic = min(classic, sb.first_meta_bg * per_block)
    step = max(per_block, MAX_READ // sb.desc_size // per_block * per_block)
    spans = [(first, min(step, classic - first)) for first in range(0, classic, step)]
    spans += [
        (first, min(per_block, sb.group_count - first))
        for first in range(classic, sb.group_count, per_block)
    ]
    runs: list[bytes] = []
    for first, count in spans:
        try:
            runs.append(_read_descriptors(sb, image, first, count))
            continue
        except Ext4Error:
            if count <= per_block:
                continue
        for block_first in range(first, first + count, per_block):
            block_count = min(per_block, first + count - block_first)
            try:
                runs.append(_read_descriptors(sb, image, block_first, block_count))
            except Ext4Error:
                continue
    return runs


def _read_descriptors(sb: Superblock, image: Image, first: int, count: int) -> bytes:
    offset = descriptor_offset(sb, first)
    return image.read(offset, count * sb.desc_size, Where(group=first, offset=offset))


def build_system_zone(sb: Superblock, image: Image) -> SystemZone:
    """The zone of `sb`. It must stay cheap on images with many groups (1 TiB: 8,192 groups),
    so descriptors are read a table block at a time and only their three placement fields
    are sliced out as arrays. Their checksums are verified when a descriptor itself is read
    (`read_group_desc`); an unverified, corrupt descriptor can only widen the zone, which
    turns reads through it into typed errors, never into a leak."""
    gdt = _gdt_blocks(sb)
    per_block = sb.block_size // sb.desc_size
    words = sb.desc_size // 4
    table_blocks = sb.inode_table_blocks
    # Group 0 starts with the boot block and the primary superblock, whatever the block size.
    ranges: list[tuple[int, int]] = [(0, SUPERBLOCK_OFFSET // sb.block_size + 1 + gdt)]
    for group in backup_groups(sb):
        first = group_first_block(sb, group)
        ranges.append((first, first + 1 + gdt))
    if "meta_bg" in sb.incompat:
        for meta_group in range(sb.first_meta_bg, -(-sb.group_count // per_block)):
            for index in {0, 1, per_block - 1}:
                group = meta_group * per_block + index
                if group < sb.group_count:
                    start = group_first_block(sb, group) + group_has_superblock(sb, group)
                    ranges.append((start, start + 1))
    singles: list[int] = []
    tables: list[int] = []
    for raw in _descriptor_runs(sb, image):
        u32 = array.array("I", raw)
        if sys.byteorder != "little":
            u32.byteswap()
        # bg_block_bitmap, bg_inode_bitmap, bg_inode_table: words 0-2 (+ *_hi at words 8-10).
        fields = [u32[i::words] for i in (0, 1, 2)]
        if words >= 16:
            highs = [u32[8 + i :: words] for i in (0, 1, 2)]
            # Almost always all zero: compared as bytes, without making an int per word.
            if any(high.tobytes() != bytes(4 * len(high)) for high in highs):
                fields = [
                    array.array("Q", (lo | hi << 32 for lo, hi in zip(field, high, strict=True)))
                    for field, high in zip(fields, highs, strict=True)
                ]
        singles += fields[0].tolist()
        singles += fields[1].tolist()
        tables += fields[2].tolist()
    return SystemZone(ranges, singles, tables, table_blocks)
