"""Block group descriptors: where each group's table lives, decoding, and checksums.

Placement follows "Block Group Descriptors" and "Meta Block Groups" in the kernel's ext4
docs: without meta_bg the table starts in the block after the primary superblock; with meta_bg,
descriptor block m (for m >= s_first_meta_bg) sits at the start of the first group of that
meta group, after its superblock backup if it has one. Checksums are crc32c (metadata_csum)
or crc16 (gdt_csum), computed as `ext4_group_desc_csum()` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._ksy.ext4_group_desc import Ext4GroupDesc
from .checksum import crc16, crc32c_raw
from .errors import ChecksumMismatch, GeometryInvalid, Where
from .image import Image
from .records import decode
from .superblock import SUPERBLOCK_OFFSET, Superblock

_BG_CHECKSUM_OFFSET = 0x1E


@dataclass(frozen=True, slots=True)
class GroupDesc:
    """One decoded group descriptor, its checksum already verified where the image has one."""

    group: int
    block_bitmap: int
    inode_bitmap: int
    inode_table: int
    free_blocks_count: int
    free_inodes_count: int
    used_dirs_count: int
    itable_unused: int
    flags: int
    inode_uninit: bool
    block_uninit: bool
    itable_zeroed: bool
    checksum: int
    block_bitmap_csum: int
    inode_bitmap_csum: int


def _build(group: int, flags_valid: bool) -> Callable[[Any], GroupDesc]:
    # bg_flags mean something only with group descriptor checksums (the kernel's
    # ext4_has_group_desc_csum() guards every use); without them they are ignored.
    def build(gd: Any) -> GroupDesc:
        return GroupDesc(
            group=group,
            block_bitmap=gd.block_bitmap,
            inode_bitmap=gd.inode_bitmap,
            inode_table=gd.inode_table,
            free_blocks_count=gd.free_blocks_count,
            free_inodes_count=gd.free_inodes_count,
            used_dirs_count=gd.used_dirs_count,
            itable_unused=gd.itable_unused,
            flags=gd.bg_flags.raw,
            inode_uninit=flags_valid and gd.bg_flags.inode_uninit,
            block_uninit=flags_valid and gd.bg_flags.block_uninit,
            itable_zeroed=flags_valid and gd.bg_flags.itable_zeroed,
            checksum=gd.bg_checksum,
            block_bitmap_csum=gd.block_bitmap_csum,
            inode_bitmap_csum=gd.inode_bitmap_csum,
        )

    return build


def backup_groups(sb: Superblock) -> list[int]:
    """Groups other than 0 that hold a superblock backup, in order: every group without
    sparse_super, groups 1 and the powers of 3, 5 and 7 with it, the two s_backup_bgs with
    sparse_super2. Enumerated directly, never one test per group."""
    if "sparse_super2" in sb.compat:
        return sorted({g for g in sb.backup_bgs if 0 < g < sb.group_count})
    if "sparse_super" not in sb.ro_compat:
        return list(range(1, sb.group_count))
    groups = {1} if sb.group_count > 1 else set()
    for base in (3, 5, 7):
        power = base
        while power < sb.group_count:
            groups.add(power)
            power *= base
    return sorted(groups)


def group_has_superblock(sb: Superblock, group: int) -> bool:
    """Whether `group` holds a superblock (the primary, or a backup by `backup_groups`)."""
    if group == 0:
        return True
    if "sparse_super2" in sb.compat:
        return group in sb.backup_bgs
    if group == 1 or "sparse_super" not in sb.ro_compat:
        return True
    if group % 2 == 0:
        return False
    for base in (3, 5, 7):
        power = base
        while power < group:
            power *= base
        if power == group:
            return True
    return False


def group_first_block(sb: Superblock, group: int) -> int:
    return sb.first_data_block + group * sb.blocks_per_group


def descriptor_offset(sb: Superblock, group: int) -> int:
    """Byte offset of group `group`'s descriptor in the image."""
    if not 0 <= group < sb.group_count:
        raise GeometryInvalid(
            f"group {group} out of range 0..{sb.group_count - 1}", Where(group=group)
        )
    per_block = sb.block_size // sb.desc_size
    meta_group, index = divmod(group, per_block)
    if "meta_bg" in sb.incompat and meta_group >= sb.first_meta_bg:
        first = meta_group * per_block
        block = group_first_block(sb, first) + (1 if group_has_superblock(sb, first) else 0)
    else:
        # After the block holding the primary superblock: block 1 with 1 KiB blocks (even
        # under bigalloc, where s_first_data_block is 0), block 0 otherwise.
        block = SUPERBLOCK_OFFSET // sb.block_size + 1 + meta_group
    return block * sb.block_size + index * sb.desc_size


def descriptor_checksum(sb: Superblock, group: int, raw: bytes) -> int | None:
    """The checksum `raw` should carry, or None when the image has no descriptor checksums."""
    group_le = group.to_bytes(4, "little")
    end = _BG_CHECKSUM_OFFSET + 2
    if sb.has_metadata_csum:
        crc = crc32c_raw(sb.checksum_seed, group_le)
        crc = crc32c_raw(crc, raw[:_BG_CHECKSUM_OFFSET])
        crc = crc32c_raw(crc, b"\0\0")
        crc = crc32c_raw(crc, raw[end:])
        return crc & 0xFFFF
    if sb.has_gdt_csum:
        crc = crc16(0xFFFF, sb.uuid)
        crc = crc16(crc, group_le)
        crc = crc16(crc, raw[:_BG_CHECKSUM_OFFSET])
        if "is_64bit" in sb.incompat:
            crc = crc16(crc, raw[end:])
        return crc
    return None


def read_group_desc(image: Image, sb: Superblock, group: int) -> GroupDesc:
    """Read, decode and verify one group descriptor."""
    offset = descriptor_offset(sb, group)
    where = Where(group=group, block=offset // sb.block_size, offset=offset)
    raw = image.read(offset, sb.desc_size, where)
    flags_valid = sb.has_metadata_csum or sb.has_gdt_csum
    desc = decode(Ext4GroupDesc, raw, where, _build(group, flags_valid))
    expected = descriptor_checksum(sb, group, raw)
    if expected is not None and expected != desc.checksum:
        raise ChecksumMismatch("group descriptor", desc.checksum, expected, where)
    return desc
