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
from collections.abc import Callable

from .errors import Ext4Error
from .group_desc import GroupDesc, group_first_block, group_has_superblock
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


def build_system_zone(
    sb: Superblock, descriptor: Callable[[int], GroupDesc]
) -> tuple[SystemZone, list[Ext4Error]]:
    """The zone of `sb`, reading descriptors with `descriptor`; unreadable groups are returned
    as findings (their bitmaps and table cannot be placed, so they stay out of the zone)."""
    ranges: list[tuple[int, int]] = []
    findings: list[Ext4Error] = []
    gdt = _gdt_blocks(sb)
    per_block = sb.block_size // sb.desc_size
    table_blocks = -(-sb.inodes_per_group * sb.inode_size // sb.block_size)
    meta_bg = "meta_bg" in sb.incompat
    # Group 0 starts with the boot block and the primary superblock, whatever the block size.
    ranges.append((0, SUPERBLOCK_OFFSET // sb.block_size + 1 + gdt))
    for group in range(sb.group_count):
        first = group_first_block(sb, group)
        has_super = group_has_superblock(sb, group)
        if group and has_super:
            ranges.append((first, first + 1 + gdt))
        if (
            meta_bg
            and group // per_block >= sb.first_meta_bg
            and group % per_block
            in (
                0,
                1,
                per_block - 1,
            )
        ):
            start = first + (1 if has_super else 0)
            ranges.append((start, start + 1))
        try:
            desc = descriptor(group)
        except Ext4Error as exc:
            findings.append(exc)
            continue
        ranges.append((desc.block_bitmap, desc.block_bitmap + 1))
        ranges.append((desc.inode_bitmap, desc.inode_bitmap + 1))
        ranges.append((desc.inode_table, desc.inode_table + table_blocks))
    return SystemZone(ranges), findings
