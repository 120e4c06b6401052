"""The superblock: decode, verify, and turn into the geometry every other read relies on.

Everything later reads trusts these numbers, so they are checked here once, with the
kernel's own rules (fs/ext4/super.c, ext4_fill_super and friends): sizes and shifts in
range, per-group counts that fit a bitmap block, counts that agree with each other, and a
block count the image can actually hold (the image size, not an on-disk count, bounds what
can exist). See "Super Block" in the kernel's "ext4 Data Structures and Algorithms".
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from typing import Any

from ._ksy.ext4_superblock import Ext4Superblock
from .checksum import crc32c_raw
from .errors import BadMagic, ChecksumMismatch, GeometryInvalid, Unsupported, Where
from .image import Image
from .records import decode

SUPERBLOCK_OFFSET = 1024
SUPERBLOCK_SIZE = 1024
#: Distinct superblocks whose decode is kept (`parse_superblock`).
SUPERBLOCK_CACHE_SIZE = 64
EXT4_SUPER_MAGIC = 0xEF53
_MAGIC_OFFSET = 0x38
_CHECKSUM_OFFSET = 0x3FC

#: INCOMPAT bits ext4guard reads. Anything else set in s_feature_incompat refuses the open:
#: compression and dirdata were never in mainline ext4, journal_dev marks an external
#: journal device rather than a filesystem.
READABLE_INCOMPAT = frozenset(
    {
        "filetype",
        "recover",
        "meta_bg",
        "extents",
        "is_64bit",
        "mmp",
        "flex_bg",
        "ea_inode",
        "csum_seed",
        "largedir",
        "inline_data",
        "encrypt",
        "casefold",
    }
)

#: Feature names as e2fsprogs prints them (lib/e2p/feature.c), where they differ from the
#: kernel's names that the grammar uses.
_DISPLAY_NAMES = {
    "is_64bit": "64bit",
    "largedir": "large_dir",
    "csum_seed": "metadata_csum_seed",
    "extents": "extent",
    "recover": "needs_recovery",
    "gdt_csum": "uninit_bg",
    "exclude_bitmap": "snapshot_bitmap",
    "has_snapshot": "snapshot_klist",
}


@dataclass(frozen=True, slots=True)
class FeatureSet:
    """One of the three feature words: the raw value, the named bits set, unknown bits."""

    raw: int
    names: tuple[str, ...]
    unknown_bits: int
    _lookup: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lookup", frozenset(self.names))

    def __contains__(self, name: object) -> bool:
        return name in self._lookup

    def display(self) -> list[str]:
        shown = [_DISPLAY_NAMES.get(name, name) for name in self.names]
        if self.unknown_bits:
            shown.append(f"unknown(0x{self.unknown_bits:x})")
        return shown


@dataclass(frozen=True, slots=True)
class Superblock:
    """The decoded, checked superblock, in domain units (bytes, counts, block numbers)."""

    block_size: int
    cluster_size: int
    blocks_count: int
    r_blocks_count: int
    free_blocks_count: int
    inodes_count: int
    free_inodes_count: int
    first_data_block: int
    blocks_per_group: int
    clusters_per_group: int
    inodes_per_group: int
    inode_size: int
    first_ino: int
    desc_size: int
    group_count: int
    rev_level: int
    minor_rev_level: int
    state: int
    errors: int
    creator_os: int
    uuid: bytes
    volume_name: bytes
    last_mounted: bytes
    compat: FeatureSet
    incompat: FeatureSet
    ro_compat: FeatureSet
    hash_seed: tuple[int, int, int, int]
    def_hash_version: int
    flags: int
    default_mount_opts: int
    journal_inum: int
    journal_uuid: bytes
    journal_dev: int
    last_orphan: int
    reserved_gdt_blocks: int
    first_meta_bg: int
    log_groups_per_flex: int
    min_extra_isize: int
    want_extra_isize: int
    mkfs_time: int
    mount_time: int
    write_time: int
    lastcheck: int
    mnt_count: int
    max_mnt_count: int
    checkinterval: int
    kbytes_written: int
    error_count: int
    backup_bgs: tuple[int, int]
    checksum_type: int
    checksum: int
    checksum_seed: int
    """The seed every metadata_csum checksum starts from (s_checksum_seed or crc32c(uuid))."""
    encoding: int
    encoding_flags: int
    orphan_file_inum: int
    lpf_ino: int
    usr_quota_inum: int
    grp_quota_inum: int
    prj_quota_inum: int

    # Asked on every record read: derived once, when the superblock is built.
    has_metadata_csum: bool = field(init=False)
    has_gdt_csum: bool = field(init=False)
    #: Blocks of one group's inode table.
    inode_table_blocks: int = field(init=False)

    def __post_init__(self) -> None:
        metadata_csum = "metadata_csum" in self.ro_compat
        object.__setattr__(self, "has_metadata_csum", metadata_csum)
        object.__setattr__(self, "has_gdt_csum", "gdt_csum" in self.ro_compat and not metadata_csum)
        table = -(-self.inodes_per_group * self.inode_size // self.block_size)
        object.__setattr__(self, "inode_table_blocks", table)

    @property
    def needs_recovery(self) -> bool:
        return "recover" in self.incompat

    @property
    def uuid_text(self) -> str:
        return str(uuid.UUID(bytes=self.uuid))


def _feature_set(word: Any) -> FeatureSet:
    # The grammar names each bit as a boolean value instance on the flag-word type; the
    # names are read off the generated class, so the grammar stays their one definition.
    names = tuple(
        name
        for name, attr in vars(type(word)).items()
        if isinstance(attr, property)
        and not name.startswith("_")
        and name != "unknown_bits"
        and getattr(word, name) is True
    )
    return FeatureSet(raw=word.raw, names=names, unknown_bits=word.unknown_bits)


def _build(sb: Ext4Superblock) -> dict[str, Any]:
    return {
        "block_size": sb.block_size,
        "cluster_size": sb.cluster_size,
        "blocks_count": sb.blocks_count,
        "r_blocks_count": sb.r_blocks_count,
        "free_blocks_count": sb.free_blocks_count,
        "inodes_count": sb.s_inodes_count,
        "free_inodes_count": sb.s_free_inodes_count,
        "first_data_block": sb.s_first_data_block,
        "blocks_per_group": sb.s_blocks_per_group,
        "clusters_per_group": sb.s_clusters_per_group,
        "inodes_per_group": sb.s_inodes_per_group,
        "inode_size": sb.inode_size,
        "first_ino": sb.first_ino,
        "desc_size": sb.desc_size,
        "group_count": sb.group_count,
        "rev_level": sb.s_rev_level,
        "minor_rev_level": sb.s_minor_rev_level,
        "state": _enum_value(sb.s_state),
        "errors": _enum_value(sb.s_errors),
        "creator_os": _enum_value(sb.s_creator_os),
        "uuid": bytes(sb.s_uuid),
        "volume_name": bytes(sb.s_volume_name).split(b"\0", 1)[0],
        "last_mounted": bytes(sb.s_last_mounted).split(b"\0", 1)[0],
        "compat": _feature_set(sb.s_feature_compat),
        "incompat": _feature_set(sb.s_feature_incompat),
        "ro_compat": _feature_set(sb.s_feature_ro_compat),
        "hash_seed": tuple(sb.s_hash_seed),
        "def_hash_version": _enum_value(sb.s_def_hash_version),
        "flags": sb.s_flags,
        "default_mount_opts": sb.s_default_mount_opts,
        "journal_inum": sb.s_journal_inum,
        "journal_uuid": bytes(sb.s_journal_uuid),
        "journal_dev": sb.s_journal_dev,
        "last_orphan": sb.s_last_orphan,
        "reserved_gdt_blocks": sb.s_reserved_gdt_blocks,
        "first_meta_bg": sb.s_first_meta_bg,
        "log_groups_per_flex": sb.s_log_groups_per_flex,
        "min_extra_isize": sb.s_min_extra_isize,
        "want_extra_isize": sb.s_want_extra_isize,
        "mkfs_time": sb.mkfs_time,
        "mount_time": sb.mtime,
        "write_time": sb.wtime,
        "lastcheck": sb.lastcheck,
        "mnt_count": sb.s_mnt_count,
        "max_mnt_count": sb.s_max_mnt_count,
        "checkinterval": sb.s_checkinterval,
        "kbytes_written": sb.s_kbytes_written,
        "error_count": sb.s_error_count,
        "backup_bgs": tuple(sb.s_backup_bgs),
        "checksum_type": _enum_value(sb.s_checksum_type),
        "checksum": sb.s_checksum,
        "checksum_seed": sb.s_checksum_seed,
        "encoding": _enum_value(sb.s_encoding),
        "encoding_flags": sb.s_encoding_flags,
        "orphan_file_inum": sb.s_orphan_file_inum,
        "lpf_ino": sb.s_lpf_ino,
        "usr_quota_inum": sb.s_usr_quota_inum,
        "grp_quota_inum": sb.s_grp_quota_inum,
        "prj_quota_inum": sb.s_prj_quota_inum,
    }


def _enum_value(value: Any) -> int:
    """Kaitai gives a known enum member or, for an unlisted number, the bare int."""
    return value if isinstance(value, int) else int(value.value)


@functools.lru_cache(maxsize=SUPERBLOCK_CACHE_SIZE)
def parse_superblock(raw: bytes, image_size: int, where: Where | None = None) -> Superblock:
    """Decode and check 1024 superblock bytes from an image of `image_size` bytes.

    The grammar decode is most of what opening an image costs (~75 µs); the result depends
    on the arguments alone and is immutable, so the same bytes are decoded once (a fuzzing
    target opens the same superblock for every input; a refused one is never cached)."""
    where = where or Where(offset=SUPERBLOCK_OFFSET)
    magic = int.from_bytes(raw[_MAGIC_OFFSET : _MAGIC_OFFSET + 2], "little")
    if magic != EXT4_SUPER_MAGIC:
        raise BadMagic(f"superblock magic 0x{magic:04x}, expected 0x{EXT4_SUPER_MAGIC:04x}", where)
    fields = decode(Ext4Superblock, raw, where, _build)
    incompat: FeatureSet = fields["incompat"]
    ro_compat: FeatureSet = fields["ro_compat"]

    if ro_compat.raw & 0x400:  # RO_COMPAT_METADATA_CSUM
        if fields["checksum_type"] != 1:
            raise GeometryInvalid(
                f"metadata_csum with unknown checksum type {fields['checksum_type']}", where
            )
        computed = crc32c_raw(0xFFFFFFFF, raw[:_CHECKSUM_OFFSET])
        if computed != fields["checksum"]:
            raise ChecksumMismatch("superblock", fields["checksum"], computed, where)
        if "csum_seed" not in incompat:
            fields["checksum_seed"] = crc32c_raw(0xFFFFFFFF, fields["uuid"])
    else:
        fields["checksum_seed"] = 0

    unreadable = [name for name in incompat.names if name not in READABLE_INCOMPAT]
    if incompat.unknown_bits or unreadable:
        label = ", ".join(
            unreadable + ([f"0x{incompat.unknown_bits:x}"] if incompat.unknown_bits else [])
        )
        raise Unsupported(
            f"incompatible features ext4guard cannot read: {label}",
            where,
            feature_bits=incompat.raw,
        )

    superblock = Superblock(**fields)
    check_geometry(superblock, image_size, where)
    return superblock


def check_geometry(sb: Superblock, image_size: int, where: Where) -> None:
    """The kernel's mount-time sanity rules, plus: everything must fit inside the image."""
    bits_per_block = 8 * sb.block_size
    bigalloc = "bigalloc" in sb.ro_compat
    if not bigalloc and sb.cluster_size != sb.block_size:
        raise GeometryInvalid("cluster size differs from block size without bigalloc", where)
    if sb.cluster_size < sb.block_size:
        raise GeometryInvalid("cluster size is smaller than the block size", where)
    cluster_ratio = sb.cluster_size // sb.block_size
    if sb.clusters_per_group > bits_per_block:
        raise GeometryInvalid(
            f"{sb.clusters_per_group} clusters per group exceed one bitmap block", where
        )
    if sb.blocks_per_group != sb.clusters_per_group * cluster_ratio:
        raise GeometryInvalid(
            f"blocks per group {sb.blocks_per_group} != clusters per group "
            f"{sb.clusters_per_group} x {cluster_ratio}",
            where,
        )
    if sb.inodes_per_group > bits_per_block:
        raise GeometryInvalid(
            f"{sb.inodes_per_group} inodes per group exceed one bitmap block", where
        )
    if sb.inode_size < 128 or sb.inode_size > sb.block_size or sb.inode_size & (sb.inode_size - 1):
        raise GeometryInvalid(
            f"inode size {sb.inode_size} is not a power of two in 128..block size", where
        )
    if sb.inodes_per_group % (sb.block_size // sb.inode_size):
        raise GeometryInvalid("inodes per group do not fill whole inode table blocks", where)
    if sb.block_size == 1024 and sb.first_data_block != 1 and cluster_ratio == 1:
        raise GeometryInvalid(f"first data block {sb.first_data_block} with 1 KiB blocks", where)
    if sb.block_size > 1024 and sb.first_data_block != 0:
        raise GeometryInvalid(
            f"first data block {sb.first_data_block} with {sb.block_size}-byte blocks", where
        )
    if sb.blocks_count <= sb.first_data_block:
        raise GeometryInvalid(f"block count {sb.blocks_count} leaves no data blocks", where)
    if sb.blocks_count > image_size // sb.block_size:
        raise GeometryInvalid(
            f"block count {sb.blocks_count} needs {sb.blocks_count * sb.block_size} bytes, "
            f"the image has {image_size}",
            where,
        )
    # Safe now: group_count <= blocks_count <= image_size / block_size.
    if sb.inodes_count != sb.group_count * sb.inodes_per_group:
        raise GeometryInvalid(
            f"inode count {sb.inodes_count} != {sb.group_count} groups x {sb.inodes_per_group}",
            where,
        )
    if sb.first_ino < 11 or sb.first_ino > sb.inodes_count:
        raise GeometryInvalid(f"first non-reserved inode {sb.first_ino} out of range", where)
    if "is_64bit" in sb.incompat and sb.desc_size < 64:
        raise GeometryInvalid(f"64bit filesystem with {sb.desc_size}-byte descriptors", where)
    if "flex_bg" in sb.incompat and sb.log_groups_per_flex > 31:
        raise GeometryInvalid(f"s_log_groups_per_flex {sb.log_groups_per_flex} is too large", where)


def read_superblock(image: Image) -> Superblock:
    """Read and check the primary superblock (at byte 1024 whatever the block size)."""
    where = Where(offset=SUPERBLOCK_OFFSET)
    return parse_superblock(
        image.read(SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, where), image.size, where
    )
