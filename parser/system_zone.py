"""The "system zone": every block that belongs to filesystem metadata rather than to a file.

A file's extent, an indirect block or a directory block pointing into the superblock, the
descriptors, a bitmap or an inode table is corrupt (or an attack: reading such a "file" would
leak other inodes). The kernel keeps the same set (`ext4_setup_system_zone()`, fs/ext4/
block_validity.c) and checks every mapped block against it. It is built once per open image,
lazily — opening never pays for it — from the group descriptors: O(groups), and the group
count is bounded by the image size.
"""

from __future__ import annotations

import bisect
import struct

from .errors import Ext4Error, Where
from .group_desc import descriptor_offset, group_first_block, group_has_superblock
from .image import Image
from .superblock import SUPERBLOCK_OFFSET, Superblock


class SystemZone:
    """Sorted, merged, half-open block ranges [start, end) of metadata."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self._starts = [start for start, _ in merged]
        self._ends = [end for _, end in merged]

    def overlaps(self, block: int, count: int) -> bool:
        """Whether [block, block + count) touches any metadata block."""
        index = bisect.bisect_right(self._starts, block + count - 1) - 1
        return index >= 0 and self._ends[index] > block

    def __len__(self) -> int:
        return len(self._starts)


def _gdt_blocks(sb: Superblock) -> int:
    """Blocks of the classic descriptor table (plus reserved GDT blocks for resize_inode)."""
    per_block = sb.block_size // sb.desc_size
    if "meta_bg" in sb.incompat:
        table = min(sb.first_meta_bg, -(-sb.group_count // per_block))
    else:
        table = -(-sb.group_count // per_block)
    return table + (sb.reserved_gdt_blocks if "resize_inode" in sb.compat else 0)


def _placement_fields(raw: bytes, desc_size: int) -> tuple[int, int, int]:
    """(block bitmap, inode bitmap, inode table) of one raw descriptor (lo and, in the 64-byte
    form, hi halves): the three fields the zone needs, read without a full decode."""
    lo = struct.unpack_from("<III", raw, 0)
    if desc_size < 64:
        return lo
    hi = struct.unpack_from("<III", raw, 0x20)
    return lo[0] | hi[0] << 32, lo[1] | hi[1] << 32, lo[2] | hi[2] << 32


def build_system_zone(sb: Superblock, image: Image) -> SystemZone:
    """The zone of `sb`. Descriptors are read a table block at a time and only their three
    placement fields are taken: this must stay cheap on images with many groups (1 TiB: 8,192
    groups). Their checksums are verified when a descriptor itself is read
    (`read_group_desc`); an unverified, corrupt descriptor can only widen the zone, which
    turns reads through it into typed errors, never into a leak."""
    ranges: list[tuple[int, int]] = []
    gdt = _gdt_blocks(sb)
    per_block = sb.block_size // sb.desc_size
    table_blocks = -(-sb.inodes_per_group * sb.inode_size // sb.block_size)
    meta_bg = "meta_bg" in sb.incompat
    # Group 0 starts with the boot block and the primary superblock, whatever the block size.
    ranges.append((0, SUPERBLOCK_OFFSET // sb.block_size + 1 + gdt))
    table: bytes = b""
    for group in range(sb.group_count):
        first = group_first_block(sb, group)
        has_super = group_has_superblock(sb, group)
        if group and has_super:
            ranges.append((first, first + 1 + gdt))
        index = group % per_block
        if meta_bg and group // per_block >= sb.first_meta_bg and index in (0, 1, per_block - 1):
            start = first + (1 if has_super else 0)
            ranges.append((start, start + 1))
        if index == 0:
            offset = descriptor_offset(sb, group)
            try:
                table = image.read(offset, sb.block_size, Where(group=group, offset=offset))
            except Ext4Error:
                table = b""  # placed nowhere; reading this group's descriptor reports it
        if len(table) < (index + 1) * sb.desc_size:
            continue
        block_bitmap, inode_bitmap, inode_table = _placement_fields(
            table[index * sb.desc_size : (index + 1) * sb.desc_size], sb.desc_size
        )
        ranges.append((block_bitmap, block_bitmap + 1))
        ranges.append((inode_bitmap, inode_bitmap + 1))
        ranges.append((inode_table, inode_table + table_blocks))
    return SystemZone(ranges)
