"""Find ext4 records in an image by plain arithmetic, for the record-vs-e2fsprogs tests.

e2fsprogs (or the geometry of the decoded superblock and descriptors) says WHERE a record is;
the generated Kaitai classes decode WHAT is there; e2fsprogs then says what the values must be.
Nothing here follows a pointer found inside a record the test is about to check, and nothing
uses ext4guard's defensive parser.
"""

from __future__ import annotations

import os
from io import BytesIO
from typing import Any, TypeVar

from kaitaistruct import KaitaiStream, KaitaiStruct

from ext4guard.parser._ksy.ext4_group_desc import Ext4GroupDesc
from ext4guard.parser._ksy.ext4_inode import Ext4Inode
from ext4guard.parser._ksy.ext4_superblock import Ext4Superblock

ImagePath = str | os.PathLike[str]
K = TypeVar("K", bound=KaitaiStruct)

SUPERBLOCK_OFFSET = 1024
SUPERBLOCK_SIZE = 1024


def stream(data: bytes) -> KaitaiStream:
    return KaitaiStream(BytesIO(data))


def decode(cls: type[K], data: bytes, *params: Any) -> K:
    """Decode ``cls`` (params first, as the generated constructors expect) from ``data``."""
    obj: K = cls(*params, stream(data))
    return obj


def read_at(img: ImagePath, offset: int, size: int) -> bytes:
    with open(img, "rb") as f:
        f.seek(offset)
        data = f.read(size)
    if len(data) != size:
        raise ValueError(f"{size} bytes at {offset} lie beyond the end of {img}")
    return data


def superblock(img: ImagePath) -> Ext4Superblock:
    return decode(Ext4Superblock, read_at(img, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE))


def block(img: ImagePath, sb: Ext4Superblock, blk: int, count: int = 1) -> bytes:
    bs: int = sb.block_size
    return read_at(img, blk * bs, bs * count)


def descriptor_block(sb: Ext4Superblock, group: int) -> tuple[int, int]:
    """(block, byte offset in that block) of group ``group``'s descriptor.

    Classic layout: the table starts in the block after the one holding the primary
    superblock (block ``1024 // block_size + 1`` counted from 0, i.e. ``first_data_block +
    1``). With meta_bg, groups from ``s_first_meta_bg * per_block`` on keep their descriptors
    in the first block of the first group of their meta group.
    """
    bs: int = sb.block_size
    ds: int = sb.desc_size
    per_block = bs // ds
    first = 1024 // bs + 1 if bs > 1024 else 2
    meta_bg = bool(sb.s_feature_incompat.meta_bg)
    idx, off = divmod(group, per_block)
    if not meta_bg or idx < sb.s_first_meta_bg:
        return first + idx, off * ds
    # meta_bg: block 0 of the meta group's first group (plus 1 when it holds a superblock).
    meta_first_group = idx * per_block
    base = sb.s_first_data_block + meta_first_group * sb.s_blocks_per_group
    return base + (1 if _has_super(sb, meta_first_group) else 0), off * ds


def _has_super(sb: Ext4Superblock, group: int) -> bool:
    if group <= 1 or not sb.s_feature_ro_compat.sparse_super:
        return True
    for base in (3, 5, 7):
        n = base
        while n < group:
            n *= base
        if n == group:
            return True
    return False


def descriptor_bytes(img: ImagePath, sb: Ext4Superblock, group: int) -> bytes:
    blk, off = descriptor_block(sb, group)
    return block(img, sb, blk)[off : off + sb.desc_size]


def group_desc(img: ImagePath, sb: Ext4Superblock, group: int) -> Ext4GroupDesc:
    return decode(Ext4GroupDesc, descriptor_bytes(img, sb, group))


def inode_location(img: ImagePath, sb: Ext4Superblock, ino: int) -> int:
    """Byte offset of inode ``ino``: group (n-1) // ipg, slot (n-1) % ipg of its table."""
    if ino < 1 or ino > sb.s_inodes_count:
        raise ValueError(f"inode {ino} out of range")
    group, index = divmod(ino - 1, sb.s_inodes_per_group)
    table: int = group_desc(img, sb, group).inode_table
    return int(table * sb.block_size + index * sb.inode_size)


def inode_bytes(img: ImagePath, sb: Ext4Superblock, ino: int) -> bytes:
    return read_at(img, inode_location(img, sb, ino), sb.inode_size)


def inode(img: ImagePath, sb: Ext4Superblock, ino: int) -> Ext4Inode:
    return decode(Ext4Inode, inode_bytes(img, sb, ino))
