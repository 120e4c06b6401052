"""Block and inode bitmaps: read one group's bitmap, verify its checksum, count its bits.

See "Block and inode Bitmaps" and "Checksums" in the kernel's "ext4 Data Structures and
Algorithms": each group has one block bitmap (one bit per cluster) and one inode bitmap (one
bit per inode), each a single block. With metadata_csum the group descriptor stores the
crc32c of the bitmap's meaningful bytes (clusters_per_group / 8, or inodes_per_group / 8),
seeded with the filesystem seed: the low 16 bits in a 32-byte descriptor, all 32 in a
64-byte one (`ext4_block_bitmap_csum_verify` / `ext4_inode_bitmap_csum_verify`). A group
flagged BLOCK_UNINIT / INODE_UNINIT has no bitmap on disk yet: nothing is read for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .blocks import BlockOutOfRange
from .budget import Budget
from .checksum import crc32c_raw
from .errors import ChecksumMismatch, Where
from .group_desc import GroupDesc

if TYPE_CHECKING:
    from .filesystem import Filesystem
    from .superblock import Superblock

__all__ = [
    "bitmap_checksum",
    "count_set",
    "read_block_bitmap",
    "read_inode_bitmap",
]

#: Descriptors shorter than this keep only the low 16 bits of the bitmap checksums.
_CSUM_HI_END = 0x3C


def bitmap_checksum(sb: Superblock, bitmap: bytes | memoryview, nbits: int) -> int:
    """crc32c(fs seed, the first nbits / 8 bytes): what the descriptor should store."""
    return crc32c_raw(sb.checksum_seed, memoryview(bitmap)[: nbits // 8])


def _verify(sb: Superblock, kind: str, data: bytes, nbits: int, stored: int, where: Where) -> None:
    if not sb.has_metadata_csum:
        return
    computed = bitmap_checksum(sb, data, nbits)
    if sb.desc_size < _CSUM_HI_END:
        computed &= 0xFFFF
        stored &= 0xFFFF
    if computed != stored:
        raise ChecksumMismatch(kind, stored, computed, where)


def _read_bitmap_block(fs: Filesystem, block: int, where: Where, budget: Budget) -> bytes:
    # Bitmaps are metadata: range-checked against the geometry here, not through the
    # file-block reader (which keeps file pointers out of metadata).
    sb = fs.superblock
    if not fs.blocks.first_valid <= block < sb.blocks_count:
        raise BlockOutOfRange(
            f"bitmap block {block} outside {fs.blocks.first_valid}..{sb.blocks_count - 1}", where
        )
    budget.charge_blocks(1, where)
    return fs.image.read(block * sb.block_size, sb.block_size, where)


def read_block_bitmap(fs: Filesystem, desc: GroupDesc, budget: Budget) -> bytes | None:
    """The group's block bitmap block (one bit per cluster), checksum verified; None for a
    BLOCK_UNINIT group. Raises only Ext4Error (range, checksum, budget, I/O)."""
    if desc.block_uninit:
        return None
    sb = fs.superblock
    where = Where(group=desc.group, block=desc.block_bitmap)
    data = _read_bitmap_block(fs, desc.block_bitmap, where, budget)
    _verify(sb, "block bitmap", data, sb.clusters_per_group, desc.block_bitmap_csum, where)
    return data


def read_inode_bitmap(fs: Filesystem, desc: GroupDesc, budget: Budget) -> bytes | None:
    """The group's inode bitmap block, checksum verified; None for an INODE_UNINIT group."""
    if desc.inode_uninit:
        return None
    sb = fs.superblock
    where = Where(group=desc.group, block=desc.inode_bitmap)
    data = _read_bitmap_block(fs, desc.inode_bitmap, where, budget)
    _verify(sb, "inode bitmap", data, sb.inodes_per_group, desc.inode_bitmap_csum, where)
    return data


def count_set(bitmap: bytes | bytearray | memoryview, nbits: int) -> int:
    """Set bits among the first `nbits` bits."""
    whole, rest = divmod(nbits, 8)
    count = int.from_bytes(bitmap[:whole], "little").bit_count()
    if rest:
        count += (bitmap[whole] & ((1 << rest) - 1)).bit_count()
    return count
