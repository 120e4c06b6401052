"""Inline data: small files, symlinks and directories kept inside the inode.

See "Inline Data" in the kernel's ext4 docs. With the inline_data feature and
EXT4_INLINE_DATA_FL, the first 60 bytes live in i_block and the rest in the value of the
in-inode attribute "system.data" (name index 7, name "data"); i_size says how many of those
bytes are the file. The attribute is read from the inode body only (the kernel's
`ext4_find_inline_data_nolock()` never looks in the xattr block) and its value must be local:
an EA-inode value there is corrupt.

An inline directory is the 4-byte parent inode and entries over the rest of i_block, then,
when it has grown, more entries filling the whole system.data value, a chain of its own
(`ext4_update_inline_dir()` starts it with a fresh entry; no checksum tail in either part).

Errors: `InlineDataBad` ("inline_data_bad") plus whatever the in-inode xattr walk raises.
"""

from __future__ import annotations

import dataclasses

from .budget import Budget
from .dirent import DirBlock, DirContext, DirEntry, find_in_block, read_dir_block
from .errors import Corruption, Where
from .inode import Inode
from .superblock import Superblock
from .xattr import INDEX_SYSTEM, parse_ibody

__all__ = [
    "I_BLOCK_SIZE",
    "InlineDataBad",
    "find_inline_tail",
    "inline_bytes",
    "read_inline_tail",
    "system_data",
]

I_BLOCK_SIZE = 60  # EXT4_MIN_INLINE_DATA_SIZE
_DATA_NAME = b"data"


class InlineDataBad(Corruption):
    """Inline data that cannot be what i_size says (missing or short system.data, ...)."""

    code = "inline_data_bad"


def system_data(sb: Superblock, inode: Inode, budget: Budget) -> bytes | None:
    """The value of the in-inode "system.data" attribute, or None when there is none."""
    where = Where(inode=inode.ino)
    if "inline_data" not in sb.incompat:
        raise InlineDataBad("inline data flag without the inline_data feature", where)
    pairs, _findings = parse_ibody(sb, inode, budget)
    for raw, value in pairs:
        if raw.name_index == INDEX_SYSTEM and raw.name == _DATA_NAME:
            if raw.value_inum:
                raise InlineDataBad("system.data is stored in an EA inode", where)
            return value
    return None


def inline_bytes(sb: Superblock, inode: Inode, budget: Budget) -> bytes:
    """The file's first i_size bytes: i_block, continued in system.data when i_size > 60."""
    if inode.size <= I_BLOCK_SIZE:
        return inode.i_block[: inode.size]
    where = Where(inode=inode.ino)
    extra = system_data(sb, inode, budget)
    if extra is None:
        raise InlineDataBad(f"i_size {inode.size} needs system.data, the inode has none", where)
    if I_BLOCK_SIZE + len(extra) < inode.size:
        raise InlineDataBad(
            f"i_size {inode.size} but only {I_BLOCK_SIZE + len(extra)} inline bytes", where
        )
    return (inode.i_block + extra)[: inode.size]


def _tail_context(ctx: DirContext, size: int) -> DirContext:
    # The system.data part is one region of `size` bytes without a checksum tail.
    return dataclasses.replace(ctx, block_size=size, metadata_csum=False)


def read_inline_tail(
    sb: Superblock, inode: Inode, ctx: DirContext, budget: Budget
) -> DirBlock | None:
    """Entries of an inline directory's system.data part (None when it has none).

    Damage inside the part is in the returned findings; an unreadable attribute area raises.
    """
    extra = system_data(sb, inode, budget)
    if not extra:
        return None
    where = Where(inode=inode.ino)
    block = read_dir_block(extra, _tail_context(ctx, len(extra)), where)
    budget.charge_entries(len(block.entries), where)
    return block


def find_inline_tail(
    sb: Superblock, inode: Inode, ctx: DirContext, name: bytes, budget: Budget
) -> DirEntry | None:
    """The entry called `name` in an inline directory's system.data part, or None."""
    extra = system_data(sb, inode, budget)
    if not extra:
        return None
    return find_in_block(extra, name, _tail_context(ctx, len(extra)), Where(inode=inode.ino))
