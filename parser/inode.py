"""Inodes: locate in the inode table, verify the checksum, decode into an `Inode`.

See "Index Nodes" in the kernel's ext4 docs. Inode numbers start at 1 (inode 0 does not
exist, DESIGN.md checklist 2 and 8); inode n lives in group (n-1) / s_inodes_per_group at
index (n-1) % s_inodes_per_group of that group's inode table. The checksum covers the whole
on-disk record (s_inode_size bytes) with the checksum fields taken as zero, seeded with the
inode number and generation (`ext4_inode_csum()`).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from ._ksy.ext4_inode import Ext4Inode
from .checksum import crc32c_raw, inode_csum_seed
from .errors import ChecksumMismatch, Corruption, RecordInvalid, Where
from .group_desc import GroupDesc
from .image import Image
from .records import decode
from .superblock import Superblock

GOOD_OLD_INODE_SIZE = 128
I_BLOCK_BYTES = 60  # sizeof(i_block): EXT4_N_BLOCKS * 4
_CHECKSUM_LO = 0x7C
_CHECKSUM_HI = 0x82

ROOT_INO = 2
JOURNAL_INO = 8

#: File types by the top four bits of i_mode, named as `ls --json` reports them.
FILE_TYPES = {0x1: "fifo", 0x2: "chr", 0x4: "dir", 0x6: "blk", 0x8: "reg", 0xA: "lnk", 0xC: "sock"}

# i_flags bits the parser acts on (EXT4_*_FL).
FL_INDEX = 0x1000
FL_HUGE_FILE = 0x40000
FL_EXTENTS = 0x80000
FL_VERITY = 0x100000
FL_EA_INODE = 0x200000
FL_INLINE_DATA = 0x10000000
FL_CASEFOLD = 0x40000000
FL_ENCRYPT = 0x800


class InodeUnused(Corruption):
    """An inode number that the group's metadata says cannot be in use."""

    code = "inode_unused"


class InodeSizeInvalid(Corruption):
    """An i_size no file can have: negative as the kernel's loff_t, or past 2^32 blocks."""

    code = "inode_size_invalid"


#: ext4_iget refuses an inode whose i_size is negative as a signed 64-bit loff_t.
MAX_I_SIZE = (1 << 63) - 1


class Inode(NamedTuple):
    """One decoded inode. Times are integer nanoseconds since the epoch.

    Immutable like the frozen dataclasses elsewhere, but a NamedTuple: a walk builds one per
    entry, and a 21-field frozen dataclass costs four times as much to construct (measured:
    2.1 µs, a sixth of the whole per-entry cost of a walk with stat).
    """

    ino: int
    mode: int
    file_type: str  # one of FILE_TYPES' values, or "unknown"
    uid: int
    gid: int
    size: int
    links_count: int
    blocks: int  # in 512-byte sectors, as st_blocks counts them
    flags: int
    generation: int
    file_acl: int
    i_block: bytes  # the 60 raw bytes: extents, block map, inline data or fast symlink
    atime_ns: int
    mtime_ns: int
    ctime_ns: int
    crtime_ns: int | None  # None when the record has no i_crtime
    dtime: int
    extra_isize: int
    projid: int
    version: int
    inline_area: bytes  # in-inode xattr space: after the extra fields to the record's end
    #: crc32c seed of this inode's own blocks (metadata_csum): fs seed, inode number,
    #: generation. Computed once while verifying the inode; 0 when not known.
    csum_seed: int = 0

    @property
    def permissions(self) -> int:
        return self.mode & 0o7777

    @property
    def is_dir(self) -> bool:
        return self.file_type == "dir"

    @property
    def rdev(self) -> tuple[int, int]:
        """(major, minor) of a device node: old 16-bit form in i_block[0], else the new one."""
        old = int.from_bytes(self.i_block[0:4], "little")
        if old:
            return (old >> 8) & 0xFF, old & 0xFF
        new = int.from_bytes(self.i_block[4:8], "little")
        return (new & 0xFFF00) >> 8, (new & 0xFF) | ((new >> 12) & 0xFFF00)

    @property
    def uses_extents(self) -> bool:
        return bool(self.flags & FL_EXTENTS)

    @property
    def has_inline_data(self) -> bool:
        return bool(self.flags & FL_INLINE_DATA)


def _nanoseconds(seconds: int, nsec: int) -> int:
    return seconds * 1_000_000_000 + nsec


def decode_with_grammar(sb: Superblock, ino: int, raw: bytes, where: Where) -> Inode:
    """Decode through the Kaitai grammar: the reference `decode_inode` is tested against."""
    return decode(Ext4Inode, raw, where, _builder(sb, ino, raw, where))


def _builder(sb: Superblock, ino: int, raw: bytes, where: Where) -> Callable[[Any], Inode]:
    huge_file = "huge_file" in sb.ro_compat
    is_64bit = "is_64bit" in sb.incompat

    def build(rec: Any) -> Inode:
        if not rec.extra_isize_valid:
            raise RecordInvalid(f"i_extra_isize {rec.i_extra_isize} is not valid", where)
        # Extra-field nanoseconds above 999,999,999 are corrupt; a reader clamps rather than
        # inventing a carry into the seconds.
        nsec = [min(n, 999_999_999) for n in (rec.atime_nsec, rec.mtime_nsec, rec.ctime_nsec)]
        if huge_file:
            blocks = rec.blocks_48
            if rec.i_flags.raw & FL_HUGE_FILE:
                blocks *= sb.block_size // 512
        else:
            blocks = rec.i_blocks_lo
        inline_start = rec.extra_end if len(raw) > GOOD_OLD_INODE_SIZE else len(raw)
        return Inode(
            ino=ino,
            mode=rec.i_mode,
            file_type=FILE_TYPES.get(rec.i_mode >> 12, "unknown"),
            uid=rec.uid,
            gid=rec.gid,
            size=rec.size,
            links_count=rec.i_links_count,
            blocks=blocks,
            flags=rec.i_flags.raw,
            generation=rec.i_generation,
            file_acl=rec.file_acl_64 if is_64bit else rec.i_file_acl_lo,
            i_block=bytes(rec.i_block),
            atime_ns=_nanoseconds(rec.atime_sec, nsec[0]),
            mtime_ns=_nanoseconds(rec.mtime_sec, nsec[1]),
            ctime_ns=_nanoseconds(rec.ctime_sec, nsec[2]),
            crtime_ns=(
                _nanoseconds(rec.crtime_sec, min(rec.crtime_nsec, 999_999_999))
                if rec.has_crtime
                else None
            ),
            dtime=rec.i_dtime,
            extra_isize=rec.i_extra_isize if len(raw) > GOOD_OLD_INODE_SIZE else 0,
            projid=rec.projid,
            version=rec.version,
            inline_area=raw[inline_start:],
        )

    return build


# The 128-byte base record, field for field as in ksy/ext4_inode.ksy (i_mode .. l_i_reserved).
_BASE = struct.Struct("<HHIiiiIHHIII60sIIIIHHHHHH")
_EXTRA = struct.Struct("<HHIIIiIII")  # i_extra_isize .. i_projid, 0x80..0xA0
_NSEC_MAX = 999_999_999
_EXTRA_ENDS = (0x82, 0x84, 0x88, 0x8C, 0x90, 0x94, 0x98, 0x9C, 0xA0)
_FULL_EXTRA_END = _EXTRA_ENDS[-1]


def _time_ns(seconds: int, extra: int | None) -> int:
    # ext4_decode_extra_time: two epoch bits extend the signed seconds, 30 bits of ns follow.
    if extra is None:
        return seconds * 1_000_000_000
    nsec = extra >> 2
    return (seconds + ((extra & 3) << 32)) * 1_000_000_000 + (
        nsec if nsec <= _NSEC_MAX else _NSEC_MAX
    )


def decode_inode(
    sb: Superblock, ino: int, raw: bytes, where: Where | None = None, csum_seed: int = 0
) -> Inode:
    """Decode one inode record. Equivalent to `decode_with_grammar` (the tests hold it to
    that on every seed inode and on random records), at a twentieth of the cost: the walk
    of a tree stats every entry, so this is the parser's hottest decode."""
    if len(raw) < GOOD_OLD_INODE_SIZE:
        raise RecordInvalid(f"inode record of {len(raw)} bytes", where or Where(inode=ino))
    (mode, uid, size_lo, atime, ctime, mtime, dtime, gid, links, blocks_lo, flags, version_lo,
     i_block, generation, acl_lo, size_hi, _faddr, blocks_hi, acl_hi, uid_hi, gid_hi,
     _csum_lo, _reserved) = _BASE.unpack_from(raw)  # fmt: skip
    extra: list[int | None] = [None] * 9
    extra_end = GOOD_OLD_INODE_SIZE
    if len(raw) >= 0x82:
        extra_isize = int.from_bytes(raw[0x80:0x82], "little")
        if extra_isize & 3 or GOOD_OLD_INODE_SIZE + extra_isize > len(raw):
            raise RecordInvalid(
                f"i_extra_isize {extra_isize} is not valid", where or Where(inode=ino)
            )
        extra_end = GOOD_OLD_INODE_SIZE + extra_isize
        if extra_end >= _FULL_EXTRA_END:  # the usual 32-byte extra: every field present
            extra = list(_EXTRA.unpack_from(raw, GOOD_OLD_INODE_SIZE))
        else:
            padded = raw[GOOD_OLD_INODE_SIZE:extra_end].ljust(_EXTRA.size, b"\0")
            values = _EXTRA.unpack_from(padded)
            # A field exists only when i_extra_isize covers all of it.
            extra = [
                v if extra_end >= end else None for v, end in zip(values, _EXTRA_ENDS, strict=True)
            ]
    (extra_isize_field, _csum_hi, ctime_x, mtime_x, atime_x, crtime, crtime_x, version_hi,
     projid) = extra  # fmt: skip
    if "huge_file" in sb.ro_compat:
        blocks = blocks_hi << 32 | blocks_lo
        if flags & FL_HUGE_FILE:
            blocks *= sb.block_size // 512
    else:
        blocks = blocks_lo
    # Positional, through tuple.__new__: the NamedTuple's keyword __new__ is a Python-level
    # call that costs a third of this decode.
    return _new_tuple(
        Inode,
        (
            ino,
            mode,
            FILE_TYPES.get(mode >> 12, "unknown"),
            uid_hi << 16 | uid,
            gid_hi << 16 | gid,
            size_hi << 32 | size_lo,
            links,
            blocks,
            flags,
            generation,
            (acl_hi << 32 | acl_lo) if "is_64bit" in sb.incompat else acl_lo,
            i_block,
            _time_ns(atime, atime_x),
            _time_ns(mtime, mtime_x),
            _time_ns(ctime, ctime_x),
            None if crtime is None else _time_ns(crtime, crtime_x),
            dtime,
            extra_isize_field or 0,
            projid or 0,
            (version_hi << 32 | version_lo) if version_hi is not None else version_lo,
            raw[extra_end:],
            csum_seed,
        ),
    )


_new_tuple = tuple.__new__


def inode_checksum(sb: Superblock, ino: int, generation: int, raw: bytes) -> tuple[int, int]:
    """(stored, computed) inode checksum; both masked to 16 bits without i_checksum_hi."""
    return _checksum(inode_csum_seed(sb.checksum_seed, ino, generation), raw)


def _checksum(seed: int, raw: bytes) -> tuple[int, int]:
    # The crc runs over the whole record with the checksum fields read as zero.
    zeroed = bytearray(raw)
    stored = zeroed[_CHECKSUM_LO] | zeroed[_CHECKSUM_LO + 1] << 8
    zeroed[_CHECKSUM_LO] = zeroed[_CHECKSUM_LO + 1] = 0
    has_hi = (
        len(raw) > GOOD_OLD_INODE_SIZE
        and GOOD_OLD_INODE_SIZE + (raw[0x80] | raw[0x81] << 8) >= _CHECKSUM_HI + 2
    )
    if has_hi:
        stored |= (zeroed[_CHECKSUM_HI] | zeroed[_CHECKSUM_HI + 1] << 8) << 16
        zeroed[_CHECKSUM_HI] = zeroed[_CHECKSUM_HI + 1] = 0
    crc = crc32c_raw(seed, zeroed)
    return stored, crc if has_hi else crc & 0xFFFF


def is_fast_symlink(sb: Superblock, inode: Inode) -> bool:
    """Whether a symlink's target lives in i_block (ext4_inode_is_fast_symlink): it owns no
    block besides an xattr block. Targets of 60 bytes or more never fit there (the kernel
    calls such an inode corrupt), so they are not fast either."""
    if inode.file_type != "lnk" or inode.has_inline_data or inode.size >= I_BLOCK_BYTES:
        return False
    if inode.flags & FL_EA_INODE:
        return inode.size > 0
    xattr_block = sb.cluster_size // 512 if inode.file_acl else 0
    return inode.blocks - xattr_block == 0


def inode_checksum_seed(sb: Superblock, inode: Inode) -> int:
    """The crc32c seed of the inode's own blocks (extent, directory, htree): kept from its
    verification, or derived from the fs seed, inode number and generation."""
    return inode.csum_seed or inode_csum_seed(sb.checksum_seed, inode.ino, inode.generation)


def inode_location(sb: Superblock, ino: int) -> tuple[int, int]:
    """(group, index in that group's inode table) of inode `ino`, range-checked."""
    if not 1 <= ino <= sb.inodes_count:
        raise Corruption(f"inode number {ino} outside 1..{sb.inodes_count}", Where(inode=ino))
    return divmod(ino - 1, sb.inodes_per_group)


def read_inode(
    image: Image,
    sb: Superblock,
    desc: GroupDesc,
    ino: int,
    table_block: Callable[[int, int], bytes] | None = None,
) -> Inode:
    """Read and verify inode `ino`; `desc` is the descriptor of its group (inode_location).

    `table_block(block, ino)`, when given, returns a whole inode-table block (the facade
    keeps recent ones: neighbours in a walk share blocks); otherwise the record is read
    alone. A walk stats every entry through here, so `Where` is built only for errors."""
    group, index = inode_location(sb, ino)
    if desc.inode_uninit:
        raise InodeUnused(
            f"inode {ino} is in a group whose inode table is uninitialized",
            Where(group=group, inode=ino),
        )
    # bg_itable_unused, like bg_flags, counts only with group descriptor checksums.
    if (
        sb.has_metadata_csum or sb.has_gdt_csum
    ) and index >= sb.inodes_per_group - desc.itable_unused:
        raise InodeUnused(
            f"inode {ino} is in the never-used tail of its inode table",
            Where(group=group, inode=ino),
        )
    block_size = sb.block_size
    inode_size = sb.inode_size
    table_blocks = sb.inode_table_blocks
    if not sb.first_data_block < desc.inode_table <= sb.blocks_count - table_blocks:
        raise Corruption(
            f"inode table at block {desc.inode_table} is outside the fs",
            Where(group=group, inode=ino),
        )
    offset = desc.inode_table * block_size + index * inode_size
    block, in_block = divmod(offset, block_size)
    if table_block is None:
        raw = image.read(offset, inode_size, Where(group=group, inode=ino, offset=offset))
    else:
        raw = table_block(block, ino)[in_block : in_block + inode_size]
    seed = 0
    if sb.has_metadata_csum:
        generation = int.from_bytes(raw[0x64:0x68], "little")
        seed = inode_csum_seed(sb.checksum_seed, ino, generation)
        stored, computed = _checksum(seed, raw)
        # e2fsprogs accepts an all-zero record (a never-written inode) as valid.
        if stored != computed and any(raw):
            where = Where(group=group, inode=ino, block=block, offset=offset)
            raise ChecksumMismatch("inode", stored, computed, where)
    inode = decode_inode(sb, ino, raw, None, seed)
    if inode.size > MAX_I_SIZE:
        raise InodeSizeInvalid(
            f"i_size {inode.size} is negative as a 64-bit offset (ext4_iget: bad i_size)",
            Where(group=group, inode=ino, block=block, offset=offset),
        )
    return inode
