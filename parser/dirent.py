"""Linear directory blocks: dirents, the checksum tail, the inline-data directory head.

See "Directory Entries" / "Linear (Classic) Directories" in the kernel's ext4 docs. A block
is a chain of `ext4_dir_entry_2` records, each saying (rec_len) where the next one starts;
with metadata_csum the last 12 bytes are a fake entry (`ext4_dir_entry_tail`) holding the
crc32c of the bytes before it.

Every entry is checked as the kernel's `ext4_check_dir_entry()` (fs/ext4/dir.c) does before
anything uses it: rec_len >= 12, a multiple of 4, large enough for 8 + name_len rounded up
to 4, inside the block and not leaving a gap under 12 bytes before the end; inode <=
s_inodes_count; plus e2fsck's rule that a live entry has a name. The walk is a hand-written
`struct` fast path (one header unpack per entry, no Kaitai object per entry: listing and
lookups touch every entry of a block); `ksy/ext4_dir.ksy` describes the same records and the
tests check that both agree on real blocks.

Partial results: `read_dir_block` returns the healthy entries that precede damage plus the
damage as `Corruption` values (`DirBlock.findings`), never raising for corrupt bytes. A
damaged entry stops the walk of that block (rec_len is the only way to the next entry).
A checksum mismatch is a finding too, and then the block's entries are not returned
(DESIGN.md: a record whose checksum fails is not trusted) unless `verify=False`.
`find_in_block` is the lookup form: it returns the entry or None, and raises the first
finding met before the name was found (a reader cannot say "absent" past damage). In a
casefolded directory it matches names as `ext4_match()` does (equal after casefolding).

Directory and htree blocks are checksummed with the inode's seed
(`inode.inode_checksum_seed`), kept in `DirContext.csum_seed`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple

from .checksum import crc32c_raw
from .dirhash import casefold_name
from .errors import ChecksumMismatch, Corruption, Unsupported, Where
from .inode import FL_CASEFOLD, FL_ENCRYPT, Inode, inode_checksum_seed
from .superblock import Superblock

DIRENT_HEADER = 8  # inode u32, rec_len u16, name_len u8, file_type u8
MIN_REC_LEN = 12  # ext4_dir_rec_len(1): header + one name byte, rounded to 4
TAIL_SIZE = 12  # struct ext4_dir_entry_tail
EXT4_FT_DIR_CSUM = 0xDE
INLINE_PARENT_SIZE = 4  # i_block of an inline directory starts with the parent's inode
INLINE_IBLOCK_SIZE = 60  # EXT4_MIN_INLINE_DATA_SIZE

_HEADER = struct.Struct("<IHBB")
_TAIL = struct.Struct("<IHBBI")


class DirentBadRecLen(Corruption):
    """rec_len below 12, not 4-aligned, past the block end, or leaving an unusable gap."""

    code = "dirent_bad_rec_len"


class DirentNameLen(Corruption):
    """name_len does not fit in rec_len, or a live entry has an empty name."""

    code = "dirent_name_len"


class DirentBadInode(Corruption):
    """An entry names an inode number above s_inodes_count."""

    code = "dirent_bad_inode"


class DirentMissingTail(Corruption):
    """metadata_csum is on but the block has no checksum tail (`e2fsck -D` adds one)."""

    code = "dirent_missing_tail"


@dataclass(frozen=True, slots=True)
class DirContext:
    """What reading one directory's blocks needs to know, derived once per directory."""

    ino: int
    block_size: int
    inodes_count: int
    metadata_csum: bool
    csum_seed: int  # inode_csum_seed(...) with metadata_csum, else 0
    dir_blocks: int  # logical blocks the directory spans (i_size / block size, rounded up)
    hash_seed: tuple[int, int, int, int] = (0, 0, 0, 0)
    sb_flags: int = 0  # s_flags: signed/unsigned hash
    largedir: bool = False
    casefold: bool = False  # casefold feature and EXT4_CASEFOLD_FL on this directory

    @classmethod
    def for_inode(cls, sb: Superblock, inode: Inode) -> DirContext:
        where = Where(inode=inode.ino)
        casefold = is_casefolded(sb, inode)
        if casefold and inode.flags & FL_ENCRYPT:
            # Names carry their hash in the dirent (ext4_hash_in_dirent): another layout.
            raise Unsupported("encrypted casefolded directory (hash in dirent)", where)
        bs = sb.block_size
        return cls(
            ino=inode.ino,
            block_size=bs,
            inodes_count=sb.inodes_count,
            metadata_csum=sb.has_metadata_csum,
            csum_seed=(inode_checksum_seed(sb, inode) if sb.has_metadata_csum else 0),
            dir_blocks=min(-(-inode.size // bs), sb.blocks_count),
            hash_seed=sb.hash_seed,
            sb_flags=sb.flags,
            largedir="largedir" in sb.incompat,
            casefold=casefold,
        )


def is_casefolded(sb: Superblock, inode: Inode) -> bool:
    """Whether names in directory `inode` match case-insensitively: the casefold feature and
    EXT4_CASEFOLD_FL on the directory."""
    return "casefold" in sb.incompat and bool(inode.flags & FL_CASEFOLD)


class DirEntry(NamedTuple):
    """One directory entry. `file_type` is the dirent's type byte (EXT4_FT_*).

    A NamedTuple rather than a frozen dataclass for the same reason as `Inode`: one is built
    per entry listed, and construction cost shows in every walk."""

    inode: int
    name: bytes
    file_type: int
    rec_len: int
    offset: int  # from the start of the block (or of the inline area after the parent)


@dataclass(frozen=True, slots=True)
class DirBlock:
    """The readable part of one linear directory block and what was wrong with it."""

    entries: tuple[DirEntry, ...]
    findings: tuple[Corruption, ...]
    tail_checksum: int | None  # stored det_checksum when the block has a tail


class DirentBadName(Corruption):
    """A name holding '/' or NUL, a stray '.' or '..', or a name listed twice."""

    code = "dirent_bad_name"


def is_legal_name(name: bytes) -> bool:
    """A name the VFS can hand out (fs/readdir.c verify_dirent_name refuses the others)."""
    return b"/" not in name and b"\0" not in name


def rec_len_from_disk(raw: int, block_size: int) -> int:
    """ext4_rec_len_from_disk: on 64 KiB blocks 65535 (and 0) stand for 65536."""
    if block_size >= 65536 and raw in (0, 65535):
        return block_size
    return raw


def dirent_tail_checksum(block: bytes) -> int | None:
    """Stored det_checksum if the last 12 bytes are a dirent tail (get_dirent_tail())."""
    if len(block) < TAIL_SIZE:
        return None
    zero1, rec_len, zero2, ft, csum = _TAIL.unpack_from(block, len(block) - TAIL_SIZE)
    if zero1 or rec_len != TAIL_SIZE or zero2 or ft != EXT4_FT_DIR_CSUM:
        return None
    return int(csum)


def dirblock_checksum(csum_seed: int, block: bytes) -> int:
    """ext4_dirblock_csum: crc32c(inode seed, everything before the 12-byte tail)."""
    return crc32c_raw(csum_seed, memoryview(block)[: len(block) - TAIL_SIZE])


def _check_entry(
    block: bytes, off: int, size: int, inodes_count: int, bs: int, where: Where
) -> tuple[int, int, int, int] | Corruption:
    """(inode, rec_len, name_len, file_type) of the entry at `off`, or why it is bad."""
    here = Where(where.group, where.inode, where.block, off)
    if off + DIRENT_HEADER > size:
        return DirentBadRecLen(f"entry header at {off} runs past the end ({size})", here)
    ino, raw_len, name_len, ftype = _HEADER.unpack_from(block, off)
    rec_len = rec_len_from_disk(raw_len, bs)
    nxt = off + rec_len
    if rec_len < MIN_REC_LEN:
        return DirentBadRecLen(f"rec_len {rec_len} is smaller than 12", here)
    if rec_len % 4:
        return DirentBadRecLen(f"rec_len {rec_len} is not a multiple of 4", here)
    if rec_len < (DIRENT_HEADER + name_len + 3) & ~3:
        return DirentNameLen(f"name_len {name_len} does not fit in rec_len {rec_len}", here)
    if nxt > size:
        return DirentBadRecLen(f"rec_len {rec_len} runs past the end ({size})", here)
    if nxt != size and nxt > size - MIN_REC_LEN:
        return DirentBadRecLen(f"rec_len {rec_len} leaves a gap under 12 bytes", here)
    if ino > inodes_count:
        return DirentBadInode(f"inode {ino} is beyond the inode count {inodes_count}", here)
    if ino and not name_len:
        return DirentNameLen(f"entry for inode {ino} has an empty name", here)
    return ino, rec_len, name_len, ftype


def _entries_area(
    block: bytes, ctx: DirContext, where: Where, verify: bool, findings: list[Corruption]
) -> tuple[int, int | None, bool]:
    """(bytes holding entries, stored tail checksum, trusted) for a metadata_csum block."""
    size = len(block)
    if not ctx.metadata_csum:
        return size, None, True
    stored = dirent_tail_checksum(block)
    if stored is None:
        findings.append(DirentMissingTail("directory block has no checksum tail", where))
        return size, None, True
    computed = dirblock_checksum(ctx.csum_seed, block)
    if stored != computed:
        findings.append(ChecksumMismatch("directory block", stored, computed, where))
        return size - TAIL_SIZE, stored, not verify
    return size - TAIL_SIZE, stored, True


def read_dir_block(
    block: bytes,
    ctx: DirContext,
    where: Where,
    *,
    verify: bool = True,
    include_unused: bool = False,
) -> DirBlock:
    """Entries of one linear directory block (live ones only unless `include_unused`)."""
    findings: list[Corruption] = []
    if len(block) != ctx.block_size:
        findings.append(
            DirentBadRecLen(f"block of {len(block)} bytes, expected {ctx.block_size}", where)
        )
        return DirBlock((), tuple(findings), None)
    size, stored, trusted = _entries_area(block, ctx, where, verify, findings)
    if not trusted:
        return DirBlock((), tuple(findings), stored)
    return DirBlock(
        _walk(block, 0, size, ctx, where, include_unused, findings), tuple(findings), stored
    )


def _scan(
    block: bytes,
    start: int,
    size: int,
    ctx: DirContext,
    want: bytes | None,
    out: list[tuple[int, int, int, int, int]] | None,
    include_unused: bool,
) -> int:
    """Walk the entries in block[start:size]; the one loop both readers share.

    Appends (offset, inode, rec_len, name_len, file_type) of each entry to `out` (live ones
    only unless `include_unused`); stops at the live entry named `want` and returns its
    offset. Returns -1 at the end of the area, or -2 - offset of the first bad entry (for
    `_check_entry` to describe). The test below is the OR of `_check_entry`'s rules.
    """
    unpack = _HEADER.unpack_from
    bs, count = ctx.block_size, ctx.inodes_count
    big = bs >= 65536
    target = want if want is not None else b""
    wlen = len(target) if want is not None else -1
    off = start
    # Each step advances by rec_len >= 12, so the loop ends within size / 12 steps.
    while off < size:
        if off + DIRENT_HEADER > size:
            return -2 - off
        ino, rec_len, name_len, ftype = unpack(block, off)
        if big and rec_len in (0, 65535):
            rec_len = bs
        nxt = off + rec_len
        if (
            rec_len < MIN_REC_LEN
            or rec_len & 3
            or rec_len < (DIRENT_HEADER + name_len + 3) & ~3
            or nxt > size
            or (nxt != size and nxt > size - MIN_REC_LEN)
            or ino > count
            or (ino and not name_len)
        ):
            return -2 - off
        if ino:
            if name_len == wlen and block.startswith(target, off + DIRENT_HEADER):
                return off
            if out is not None:
                out.append((off, ino, rec_len, name_len, ftype))
        elif include_unused and out is not None:
            out.append((off, ino, rec_len, name_len, ftype))
        off = nxt
    return -1


def _damage(block: bytes, off: int, size: int, ctx: DirContext, where: Where) -> Corruption:
    found = _check_entry(block, off, size, ctx.inodes_count, ctx.block_size, where)
    if isinstance(found, Corruption):
        return found
    return DirentBadRecLen("entry rejected", Where(where.group, where.inode, where.block, off))


def _walk(
    block: bytes,
    start: int,
    size: int,
    ctx: DirContext,
    where: Where,
    include_unused: bool,
    findings: list[Corruption],
) -> tuple[DirEntry, ...]:
    raw: list[tuple[int, int, int, int, int]] = []
    end = _scan(block, start, size, ctx, None, raw, include_unused)
    if end <= -2:
        findings.append(_damage(block, -2 - end, size, ctx, where))
    return tuple(
        DirEntry(
            ino, block[off + DIRENT_HEADER : off + DIRENT_HEADER + nlen], ft, rlen, off - start
        )
        for off, ino, rlen, nlen, ft in raw
    )


def find_in_block(block: bytes, name: bytes, ctx: DirContext, where: Where) -> DirEntry | None:
    """The live entry called `name` in one linear block, or None when the block lacks it.

    Raises the block's first Corruption (bad checksum, bad entry before the name).
    """
    if len(block) != ctx.block_size:
        raise DirentBadRecLen(f"block of {len(block)} bytes, expected {ctx.block_size}", where)
    findings: list[Corruption] = []
    size, _, trusted = _entries_area(block, ctx, where, True, findings)
    if not trusted:
        raise findings[0]
    if ctx.casefold:
        return _find_casefolded(block, name, size, ctx, where)
    off = _scan(block, 0, size, ctx, name, None, False)
    if off <= -2:
        raise _damage(block, -2 - off, size, ctx, where)
    if off == -1:
        return None
    ino, rec_len, _, ftype = _HEADER.unpack_from(block, off)
    return DirEntry(ino, name, ftype, rec_len_from_disk(rec_len, ctx.block_size), off)


def _find_casefolded(
    block: bytes, name: bytes, size: int, ctx: DirContext, where: Where
) -> DirEntry | None:
    """ext4_match() in a casefolded directory: names equal after utf8 casefolding; a name
    that is not valid UTF-8 (either side) only matches byte for byte (non-strict mode)."""
    folded = casefold_name(name)
    raw: list[tuple[int, int, int, int, int]] = []
    end = _scan(block, 0, size, ctx, None, raw, False)
    for off, ino, rlen, nlen, ft in raw:
        entry = block[off + DIRENT_HEADER : off + DIRENT_HEADER + nlen]
        if entry == name or (folded is not None and casefold_name(entry) == folded):
            return DirEntry(ino, entry, ft, rlen, off)
    if end <= -2:
        raise _damage(block, -2 - end, size, ctx, where)
    return None


def read_inline_dir(
    i_block: bytes, ctx: DirContext, where: Where, *, include_unused: bool = False
) -> tuple[int, DirBlock]:
    """(parent inode, entries) of the i_block part of an inline-data directory.

    See "Inline Data" / "Inline Directories": 4 bytes of parent inode ("." and ".." are
    implied), then entries filling the remaining 56 bytes. No checksum tail. The rest of a
    large inline directory lives in the system.data xattr (not read here).
    """
    findings: list[Corruption] = []
    if len(i_block) != INLINE_IBLOCK_SIZE:
        findings.append(DirentBadRecLen(f"i_block of {len(i_block)} bytes, expected 60", where))
        return 0, DirBlock((), tuple(findings), None)
    parent = int.from_bytes(i_block[:INLINE_PARENT_SIZE], "little")
    if parent > ctx.inodes_count or parent == 0:
        findings.append(DirentBadInode(f"inline parent inode {parent} is out of range", where))
    entries = _walk(
        i_block, INLINE_PARENT_SIZE, INLINE_IBLOCK_SIZE, ctx, where, include_unused, findings
    )
    return parent, DirBlock(entries, tuple(findings), None)
