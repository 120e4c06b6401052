"""Extended attributes: the in-inode area, the external xattr block, EA-inode values.

See "Extended Attributes" in the kernel's ext4 docs. Attributes live in two places:

* in the inode, after the 128-byte base record and `i_extra_isize` bytes of extra fields, up
  to the end of the on-disk record (`Inode.inline_area`): a 4-byte `xattr_ibody_header`, then
  entries; value offsets count from the first entry. Without the magic the inode simply has
  no in-inode attributes (the kernel never sets EXT4_STATE_XATTR for it);
* in one block named by `i_file_acl`: a 32-byte `xattr_header` (magic, h_blocks == 1,
  crc32c with metadata_csum), then entries; value offsets count from the block start.

Entries are walked as the kernel's `check_xattrs()` (fs/ext4/xattr.c) does before anything
trusts them: every entry and the 4 zero bytes that end the table lie inside the region, names
hold no NUL, every local value lies after the entry table and inside the region with its
padding, sizes are bounded. With the ea_inode feature a value may live in its own inode
(`e_value_inum`): that inode must carry EXT4_EA_INODE_FL and exactly `e_value_size` bytes.

What e2fsck checks but the kernel does not (entry hashes, block entries sorted by (index,
name length, name), values overlapping each other) are findings, not failures.

Everything raises only `Ext4Error`: `XattrBadMagic`, `XattrBadHeader`, `XattrBadEntry`,
`XattrValueOutOfRange` (`XattrValueOverlap`), `XattrEaInodeBad`,
`ChecksumMismatch(structure="xattr block")`, `AclInvalid`, plus what block and inode reads
raise.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._ksy.ext4_xattr import Ext4Xattr
from .acl import ext4_acl_to_vfs
from .budget import Budget
from .checksum import crc32c_raw
from .errors import BadMagic, ChecksumMismatch, Corruption, Where
from .inode import FL_EA_INODE, GOOD_OLD_INODE_SIZE, ROOT_INO, Inode
from .records import decode
from .superblock import Superblock

if TYPE_CHECKING:
    from .filesystem import Filesystem

__all__ = [
    "INDEX_POSIX_ACL_ACCESS",
    "INDEX_POSIX_ACL_DEFAULT",
    "INDEX_SYSTEM",
    "MAX_VALUE_SIZE",
    "XattrBadEntry",
    "XattrBadHeader",
    "XattrBadMagic",
    "XattrEaInodeBad",
    "XattrEntry",
    "XattrHashMismatch",
    "XattrSet",
    "XattrUnsorted",
    "XattrValueOutOfRange",
    "XattrValueOverlap",
    "block_checksum",
    "entry_hash",
    "parse_block",
    "parse_ibody",
    "read_xattrs",
    "visible_xattrs",
]

XATTR_MAGIC = 0xEA020000
_MAGIC_BYTES = XATTR_MAGIC.to_bytes(4, "little")
IBODY_HEADER_SIZE = 4
BLOCK_HEADER_SIZE = 32
ENTRY_HEADER_SIZE = 16
_H_CHECKSUM = 16  # offsetof(struct ext4_xattr_header, h_checksum)
#: XATTR_SIZE_MAX: the VFS never hands out a larger value, so no reader needs one.
MAX_VALUE_SIZE = 65536

INDEX_USER = 1
INDEX_POSIX_ACL_ACCESS = 2
INDEX_POSIX_ACL_DEFAULT = 3
INDEX_SYSTEM = 7

#: Name prefixes by e_name_index (the ACL ones are complete names: e_name is empty).
PREFIXES: dict[int, bytes] = {
    1: b"user.",
    2: b"system.posix_acl_access",
    3: b"system.posix_acl_default",
    4: b"trusted.",
    6: b"security.",
    7: b"system.",
    8: b"system.richacl",
    10: b"gnu.",
}

_ZERO4 = b"\0\0\0\0"


class XattrBadMagic(BadMagic):
    """An xattr block (i_file_acl) without the 0xEA020000 magic."""

    code = "xattr_bad_magic"


class XattrBadHeader(Corruption):
    """An xattr block header the kernel refuses (h_blocks != 1)."""

    code = "xattr_bad_header"


class XattrBadEntry(Corruption):
    """An entry that runs out of its region, lacks the table terminator or has a bad name."""

    code = "xattr_bad_entry"


class XattrValueOutOfRange(Corruption):
    """A value outside its region, or larger than any reader accepts."""

    code = "xattr_value_out_of_range"


class XattrValueOverlap(XattrValueOutOfRange):
    """A value overlapping the entry table (fatal) or another value (a finding)."""

    code = "xattr_value_overlap"


class XattrEaInodeBad(Corruption):
    """An e_value_inum that names no usable EA inode (feature off, flag, size, number)."""

    code = "xattr_ea_inode_bad"


class XattrHashMismatch(Corruption):
    """A finding: an entry's e_hash does not match its name and value (e2fsck checks it)."""

    code = "xattr_hash_mismatch"


class XattrUnsorted(Corruption):
    """A finding: xattr block entries out of the kernel's order, or a duplicated name."""

    code = "xattr_unsorted"


@dataclass(frozen=True, slots=True)
class XattrEntry:
    """One attribute. `value` is the raw on-disk value (ACLs in ext4's compact form)."""

    name_index: int
    name: bytes  # e_name, without the prefix
    value: bytes
    value_inum: int  # the EA inode holding the value, 0 when it is stored locally
    in_inode: bool  # in the inode body rather than the xattr block

    @property
    def full_name(self) -> bytes | None:
        """Prefix + name as user space spells it, or None for an index with no prefix."""
        prefix = PREFIXES.get(self.name_index)
        return None if prefix is None else prefix + self.name


@dataclass(frozen=True, slots=True)
class XattrSet:
    """An inode's attributes (in-inode first, then block) and the non-fatal findings."""

    entries: tuple[XattrEntry, ...]
    findings: tuple[Corruption, ...]

    def get(self, name_index: int, name: bytes) -> XattrEntry | None:
        return next(
            (e for e in self.entries if e.name_index == name_index and e.name == name), None
        )


@dataclass(frozen=True, slots=True)
class _Raw:
    """An entry as checked in its region, before an EA-inode value is fetched."""

    offset: int
    name_index: int
    name: bytes
    value_offs: int
    value_inum: int
    value_size: int
    e_hash: int


def entry_hash(name: bytes, padded_value: bytes, *, signed: bool = False) -> int:
    """ext4_xattr_hash_entry(): the name's bytes, then the value's le32 words.

    `signed` is the variant old kernels computed with a signed `char` (the kernel and
    e2fsck accept both).
    """
    h = 0
    for byte in name:
        c = (byte - 256) & 0xFFFFFFFF if signed and byte >= 0x80 else byte
        h = ((h << 5) & 0xFFFFFFFF) ^ (h >> 27) ^ c
    for (word,) in struct.iter_unpack("<I", padded_value):
        h = ((h << 16) & 0xFFFFFFFF) ^ (h >> 16) ^ word
    return h


def block_checksum(fs_seed: int, block_nr: int, block: bytes) -> int:
    """ext4_xattr_block_csum(): crc32c of le64(block number), then the block with
    h_checksum taken as zero, from the filesystem seed (not the per-inode seed)."""
    crc = crc32c_raw(fs_seed, (block_nr & (1 << 64) - 1).to_bytes(8, "little"))
    crc = crc32c_raw(crc, memoryview(block)[:_H_CHECKSUM])
    crc = crc32c_raw(crc, _ZERO4)
    return crc32c_raw(crc, memoryview(block)[_H_CHECKSUM + 4 :])


def _at(where: Where, offset: int) -> Where:
    return Where(where.group, where.inode, where.block, offset)


def _build_entry(rec: Any) -> tuple[int, int, int, int, int, bytes]:
    return (
        int(rec.e_name_index),
        rec.e_value_offs,
        rec.e_value_inum,
        rec.e_value_size,
        rec.e_hash,
        bytes(rec.e_name),
    )


def _walk_entries(
    region: bytes,
    first: int,
    value_base: int,
    where: Where,
    offset_bias: int,
    sb: Superblock,
    budget: Budget,
    findings: list[Corruption],
) -> list[_Raw]:
    """check_xattrs(): the entries of region[first:], values checked against the region.

    `value_base` is where e_value_offs counts from; `offset_bias` turns region offsets into
    the offsets reported in `Where` (within the block, or within the inode record).
    """
    end = len(region)
    raws: list[_Raw] = []
    off = first
    # Every entry is at least 16 bytes long: at most len(region) / 16 iterations.
    while True:
        if off + 4 > end:
            raise XattrBadEntry("entry table has no terminator", _at(where, off + offset_bias))
        if region[off : off + 4] == _ZERO4:
            break
        here = _at(where, off + offset_bias)
        if off + ENTRY_HEADER_SIZE > end:
            raise XattrBadEntry("entry header runs past the end of its region", here)
        name_len = region[off]
        nxt = off + ((ENTRY_HEADER_SIZE + name_len + 3) & ~3)
        if nxt >= end:  # the next entry (or the terminator) must start inside the region
            raise XattrBadEntry(f"entry with name_len {name_len} runs out of its region", here)
        budget.charge_entries(1, here)
        index, offs, inum, size, e_hash, name = decode(
            Ext4Xattr.XattrEntry, region[off:nxt], here, _build_entry
        )
        if b"\0" in name:
            raise XattrBadEntry(f"name {name!r} holds a NUL byte", here)
        raws.append(_Raw(off, index, name, offs, inum, size, e_hash))
        off = nxt
    table_end = off + 4  # values may not start before the terminator's end
    spans: list[tuple[int, int, int]] = []
    for raw in raws:
        here = _at(where, raw.offset + offset_bias)
        if raw.value_inum:
            _check_ea_inum(raw, sb, here)
        if raw.value_size > MAX_VALUE_SIZE:
            raise XattrValueOutOfRange(f"e_value_size {raw.value_size} is too large", here)
        if raw.value_size == 0 or raw.value_inum:
            continue
        pos = value_base + raw.value_offs
        padded = (raw.value_size + 3) & ~3
        if pos > end or pos + padded > end:
            raise XattrValueOutOfRange(
                f"value at {raw.value_offs} (+{raw.value_size}) runs past its region", here
            )
        if pos < table_end:
            raise XattrValueOverlap(f"value at {raw.value_offs} overlaps the entry table", here)
        spans.append((pos, pos + raw.value_size, raw.offset))
    spans.sort()
    for (_, stop, _), (start, _, entry_off) in itertools.pairwise(spans):
        if start < stop:
            findings.append(
                XattrValueOverlap("two values overlap", _at(where, entry_off + offset_bias))
            )
    return raws


def _check_ea_inum(raw: _Raw, sb: Superblock, where: Where) -> None:
    if "ea_inode" not in sb.incompat:
        raise XattrEaInodeBad(f"e_value_inum {raw.value_inum} without the ea_inode feature", where)
    if raw.value_inum == ROOT_INO or not sb.first_ino <= raw.value_inum <= sb.inodes_count:
        raise XattrEaInodeBad(f"e_value_inum {raw.value_inum} is not a valid inode", where)


def _hash_findings(
    region: bytes, value_base: int, raws: Iterable[_Raw], where: Where, bias: int
) -> list[Corruption]:
    out: list[Corruption] = []
    for raw in raws:
        # e2fsck: a zero hash is allowed (old in-inode entries); EA-inode hashes need the
        # value inode's stored hash and are not checked here.
        if raw.e_hash == 0 or raw.value_inum:
            continue
        pos = value_base + raw.value_offs
        padded = region[pos : pos + ((raw.value_size + 3) & ~3)] if raw.value_size else b""
        if raw.e_hash not in (
            entry_hash(raw.name, padded),
            entry_hash(raw.name, padded, signed=True),
        ):
            out.append(
                XattrHashMismatch(
                    f"entry hash 0x{raw.e_hash:08x} does not match its name and value",
                    _at(where, raw.offset + bias),
                )
            )
    return out


def _value(region: bytes, value_base: int, raw: _Raw) -> bytes:
    if raw.value_inum or raw.value_size == 0:
        return b""
    pos = value_base + raw.value_offs
    return region[pos : pos + raw.value_size]


def parse_ibody(
    sb: Superblock, inode: Inode, budget: Budget
) -> tuple[list[tuple[_Raw, bytes]], list[Corruption]]:
    """The in-inode entries as (checked entry, local value) pairs, and findings.

    An area without the ibody magic holds no attributes (not an error). EA-inode values are
    not fetched here (`read_xattrs` does): their local value is b"".
    """
    area = inode.inline_area
    if len(area) < IBODY_HEADER_SIZE or area[:IBODY_HEADER_SIZE] != _MAGIC_BYTES:
        return [], []
    bias = GOOD_OLD_INODE_SIZE + inode.extra_isize  # report offsets within the inode record
    where = Where(inode=inode.ino, offset=bias)
    decode(Ext4Xattr.XattrIbodyHeader, area[:IBODY_HEADER_SIZE], where, lambda rec: rec.h_magic)
    findings: list[Corruption] = []
    raws = _walk_entries(
        area, IBODY_HEADER_SIZE, IBODY_HEADER_SIZE, where, bias, sb, budget, findings
    )
    findings += _hash_findings(area, IBODY_HEADER_SIZE, raws, where, bias)
    return [(raw, _value(area, IBODY_HEADER_SIZE, raw)) for raw in raws], findings


def parse_block(
    sb: Superblock, block: bytes, block_nr: int, where: Where, budget: Budget
) -> tuple[list[tuple[_Raw, bytes]], list[Corruption]]:
    """The entries of one xattr block (already read) and findings; raises on damage."""
    where = Where(where.group, where.inode, block_nr, 0)
    if len(block) < BLOCK_HEADER_SIZE + 4 or block[:4] != _MAGIC_BYTES:
        raise XattrBadMagic("xattr block without the 0xEA020000 magic", where)
    h_blocks = int.from_bytes(block[8:12], "little")
    if h_blocks != 1:
        raise XattrBadHeader(f"xattr block h_blocks is {h_blocks}, not 1", where)
    stored = decode(Ext4Xattr.XattrHeader, block[:BLOCK_HEADER_SIZE], where, _h_checksum)
    if sb.has_metadata_csum:
        computed = block_checksum(sb.checksum_seed, block_nr, block)
        if stored != computed:
            raise ChecksumMismatch("xattr block", stored, computed, where)
    findings: list[Corruption] = []
    raws = _walk_entries(block, BLOCK_HEADER_SIZE, 0, where, 0, sb, budget, findings)
    # The kernel keeps block entries sorted by (index, name length, name) and searches
    # them in that order (ext4_xattr_find_entry); e2fsprogs writes them the same way.
    keys = [(raw.name_index, len(raw.name), raw.name) for raw in raws]
    for i, (a, b) in enumerate(itertools.pairwise(keys)):
        if not a < b:
            here = _at(where, raws[i + 1].offset)
            findings.append(XattrUnsorted("xattr block entries out of order or repeated", here))
            break
    findings += _hash_findings(block, 0, raws, where, 0)
    return [(raw, _value(block, 0, raw)) for raw in raws], findings


def _h_checksum(rec: Any) -> int:
    return int(rec.h_checksum)


def _ea_inode_value(fs: Filesystem, raw: _Raw, budget: Budget, where: Where) -> bytes:
    """The value stored in EA inode raw.value_inum, after the kernel's checks on it."""
    from .mapping import read_file  # mapping -> inline -> xattr: imported at call time

    ea = fs.inode(raw.value_inum)
    if not ea.flags & FL_EA_INODE:
        raise XattrEaInodeBad(f"inode {ea.ino} lacks EXT4_EA_INODE_FL", where)
    if ea.file_type != "reg" or ea.has_inline_data:
        raise XattrEaInodeBad(f"EA inode {ea.ino} is not a plain regular file", where)
    if ea.size != raw.value_size:
        raise XattrEaInodeBad(
            f"EA inode {ea.ino} holds {ea.size} bytes, the entry says {raw.value_size}", where
        )
    # The value's blocks count against the budget like any other read: one block may name
    # the same EA inode from many entries.
    budget.charge_blocks(-(-raw.value_size // fs.superblock.block_size), where)
    value = read_file(fs, ea, 0, raw.value_size, budget)
    if len(value) != raw.value_size:
        raise XattrEaInodeBad(f"EA inode {ea.ino} value is short", where)
    return value


def read_xattrs(fs: Filesystem, inode: Inode, budget: Budget) -> XattrSet:
    """Every attribute of `inode`: in-inode ones first, then the xattr block's.

    Raises the first damage (as the kernel's getxattr/listxattr fail with EFSCORRUPTED);
    returns e2fsck-only problems as findings.
    """
    sb = fs.superblock
    pairs, findings = parse_ibody(sb, inode, budget)
    tagged = [(raw, value, True) for raw, value in pairs]
    if inode.file_acl:
        where = Where(inode=inode.ino, block=inode.file_acl)
        block = fs.blocks.read(inode.file_acl, where, budget)
        block_pairs, block_findings = parse_block(sb, block, inode.file_acl, where, budget)
        tagged += [(raw, value, False) for raw, value in block_pairs]
        findings += block_findings
    entries: list[XattrEntry] = []
    for raw, value, in_inode in tagged:
        if raw.value_inum:
            where = Where(inode=inode.ino, block=None if in_inode else inode.file_acl)
            value = _ea_inode_value(fs, raw, budget, _at(where, raw.offset))
        entries.append(XattrEntry(raw.name_index, raw.name, value, raw.value_inum, in_inode))
    return XattrSet(tuple(entries), tuple(findings))


def visible_xattrs(fs: Filesystem, inode: Inode, budget: Budget) -> dict[bytes, bytes]:
    """What `listxattr`/`getxattr` show on a kernel mount: full name -> value.

    POSIX ACLs come in the VFS form (`acl.ext4_acl_to_vfs`) and an ACL with no entries is
    absent (the kernel reads it as "no ACL"); system.data is the inline file content, not an
    attribute, and names of indexes without a prefix are not shown. The first of two entries
    with one name wins (the in-inode one, as the kernel's getxattr looks there first).
    """
    out: dict[bytes, bytes] = {}
    for entry in read_xattrs(fs, inode, budget).entries:
        name = entry.full_name
        if name is None or name in out or name == b"system.data":
            continue
        value: bytes | None = entry.value
        if entry.name_index in (INDEX_POSIX_ACL_ACCESS, INDEX_POSIX_ACL_DEFAULT):
            value = ext4_acl_to_vfs(entry.value, Where(inode=inode.ino))
        if value is not None:
            out[name] = value
    return out
