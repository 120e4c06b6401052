"""The ext2/ext3 block map: direct, indirect, double and triple indirect blocks.

See "Direct/Indirect Block Addressing" in the kernel's "ext4 Data Structures and
Algorithms" (and `ext4_ind_map_blocks` / `ext4_block_to_path` in fs/ext4/indirect.c):
`i_block` holds 15 little-endian 32-bit pointers, 12 to data blocks, then one each to an
indirect (IND), double indirect (DIND) and triple indirect (TIND) block of block size / 4
pointers. A zero pointer is a hole, at any level.

`find_blocks` maps a logical range to runs of contiguous physical blocks, reading only the
indirect blocks the range needs, with an explicit stack (no recursion), every pointer
range-checked, a visited set over indirect blocks (one block listed twice in a walk is
corruption) and every read and pointer charged to the budget.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from .blocks import BlockOutOfRange
from .budget import Budget
from .errors import Corruption, Where
from .extents import MAX_LOGICAL_BLOCKS, Extent
from .inode import Inode

if TYPE_CHECKING:
    from .filesystem import Filesystem

__all__ = ["N_DIRECT", "BlockMapCycle", "BlockOutOfRange", "find_blocks"]

#: Direct pointers in i_block; slots 12, 13 and 14 are the IND, DIND and TIND pointers.
N_DIRECT = 12
_IND_SLOT = 12


class BlockMapCycle(Corruption):
    """An indirect block reached twice in one walk (a loop or a shared indirect block)."""

    code = "blockmap_cycle"


def find_blocks(
    fs: Filesystem,
    inode: Inode,
    first_block: int,
    block_count: int,
    budget: Budget,
    indirect: list[int] | None = None,
) -> list[Extent]:
    """Runs of mapped blocks overlapping [first_block, first_block + block_count), in logical
    order, contiguous physical blocks coalesced; holes are simply absent. Every IND, DIND
    and TIND block read is appended to `indirect` when given (`check` claims them). Raises
    only Ext4Error (BlockOutOfRange for any pointer outside the filesystem)."""
    block_size = fs.superblock.block_size
    per_block = block_size // 4
    end = min(first_block + block_count, MAX_LOGICAL_BLOCKS)
    first_block = max(first_block, 0)
    if first_block >= end:
        return []
    ino = inode.ino
    slots = struct.unpack("<15I", inode.i_block)
    # Runs as [logical, length, physical], coalesced as they come (logical order).
    runs: list[list[int]] = []

    def emit(logical: int, physical: int) -> None:
        if runs:
            last = runs[-1]
            if last[0] + last[1] == logical and last[2] + last[1] == physical:
                last[1] += 1
                return
        runs.append([logical, 1, physical])

    for logical in range(first_block, min(end, N_DIRECT)):
        if slots[logical]:
            emit(logical, slots[logical])

    # (indirect block, level: 1 IND, 2 DIND, 3 TIND, first logical block it maps).
    stack: list[tuple[int, int, int]] = []
    base = N_DIRECT
    regions = []
    for level in (1, 2, 3):
        span = per_block**level
        if base < end and first_block < base + span and slots[_IND_SLOT + level - 1]:
            regions.append((slots[_IND_SLOT + level - 1], level, base))
        base += span
    stack.extend(reversed(regions))

    visited: set[int] = set()
    while stack:
        block, level, base = stack.pop()
        where = Where(inode=ino, block=block)
        if block in visited:
            raise BlockMapCycle(f"indirect block {block} reached twice", where)
        data = fs.blocks.read(block, where, budget)  # range check + budget charge
        visited.add(block)
        if indirect is not None:
            indirect.append(block)
        span = per_block ** (level - 1)  # logical blocks under one pointer of this block
        lo = max(0, (first_block - base) // span)
        hi = min(per_block, -(-(end - base) // span))
        budget.charge_entries(hi - lo, where)
        pointers = struct.unpack_from(f"<{hi - lo}I", data, lo * 4)
        if level == 1:
            for index, pointer in enumerate(pointers, lo):
                if pointer:
                    emit(base + index, pointer)
        else:
            for index in range(len(pointers) - 1, -1, -1):
                if pointers[index]:
                    stack.append((pointers[index], level - 1, base + (lo + index) * span))

    out: list[Extent] = []
    check = fs.blocks.check
    for logical, length, physical in runs:
        check(physical, length, Where(inode=ino, block=physical))
        out.append(Extent(logical, length, physical, False))
    return out
