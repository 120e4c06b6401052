"""`check`: a read-only audit of a whole image, in the spirit of `e2fsck -fn`.

Every record is read through the defensive layer, so every checksum the image carries is
verified and every pointer range-checked ("Checksums" and the record sections of the kernel's
"ext4 Data Structures and Algorithms"). On top of that, the cross-structure checks a careful
reader can afford, in passes like e2fsck's:

1. metadata placement: superblock copies, descriptor tables (and reserved GDT blocks or
   meta_bg descriptor blocks), bitmaps and inode tables; each group's own metadata must lie
   inside the filesystem and overlap nothing else ("Block Group Descriptors", "Meta Block
   Groups", "Flexible Block Groups");
2. inodes, driven by the inode bitmaps (INODE_UNINIT groups skipped, bg_itable_unused
   honoured): each inode verified, its extent tree or block map walked in full, its blocks
   (data, tree nodes, indirect blocks, xattr block) claimed in a bitmap of blocks; a block
   claimed twice or inside metadata is a finding (legal between inodes with shared_blocks);
   i_size and i_blocks against what is mapped;
3. directories: every entry of every directory inode; entries naming free inodes, `.` and
   `..`, file types, hard-linked directories and cycles, directories not reachable from the
   root;
4. link counts against the references counted in pass 3; used inodes nothing references;
5. bitmaps against the claims (clusters under bigalloc) and the descriptors' free counts;
6. the orphan list (s_last_orphan chain) and the orphan file.

What e2fsck does not treat as an error is not one here either: the superblock's free counts
(the kernel does not keep them current while mounted) and a journal needing recovery are
notes. Memory: one bit per block and per inode (bounded by the image size, enforced at open),
dictionaries only for inodes actually in use. No recursion; every loop is bounded by the
geometry and the budget.
"""

from __future__ import annotations

import os
import struct
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .bitmaps import count_set, read_block_bitmap, read_inode_bitmap
from .blockmap import find_blocks
from .blocks import BlockInMetadata, BlockOutOfRange
from .budget import Budget
from .checksum import crc32c_raw
from .dirent import (
    DirContext,
    DirentBadName,
    DirEntry,
    is_casefolded,
    is_legal_name,
    read_dir_block,
    read_inline_dir,
)
from .dirhash import name_key
from .errors import (
    BudgetExceeded,
    ChecksumMismatch,
    Corruption,
    DirectoryCycle,
    Ext4Error,
    GeometryInvalid,
    TruncatedImage,
    Unsupported,
    Where,
)
from .extents import MAX_LOGICAL_BLOCKS, Extent, walk_extent_tree
from .group_desc import GroupDesc, backup_groups, group_first_block, group_has_superblock
from .htree import Htree
from .image import Image
from .inline import read_inline_tail
from .inode import (
    FL_EA_INODE,
    FL_INDEX,
    ROOT_INO,
    Inode,
    inode_checksum_seed,
    is_fast_symlink,
    read_inode,
)
from .superblock import SUPERBLOCK_SIZE, parse_superblock
from .xattr import XattrEaInodeBad, parse_ibody
from .xattr import parse_block as parse_xattr_block

if TYPE_CHECKING:
    from .filesystem import Filesystem

__all__ = [
    "BitmapMismatch",
    "BlockClaimedTwice",
    "BlockInMetadata",
    "CheckReport",
    "CheckStats",
    "DirectoryHardLink",
    "DirectoryUnconnected",
    "DirentBadName",
    "DirentFileType",
    "DirentUnusedInode",
    "DotEntryInvalid",
    "FreeCountMismatch",
    "HtreeLeafHash",
    "HtreeUnreferenced",
    "InodeBlocksMismatch",
    "InodeInvalid",
    "InodeUnattached",
    "JournalInvalid",
    "LinkCountMismatch",
    "MetadataOverlap",
    "OrphanInvalid",
    "SizeMismatch",
    "XattrBlockInvalid",
    "check",
    "check_image",
]


class BlockClaimedTwice(Corruption):
    """Two inodes (or one inode twice) claim the same block or cluster."""

    code = "block_claimed_twice"


class MetadataOverlap(Corruption):
    """A group's bitmap or inode table overlaps the superblock, descriptors or other metadata."""

    code = "metadata_overlap"


class BitmapMismatch(Corruption):
    """A bitmap disagrees with what is actually in use."""

    code = "bitmap_mismatch"


class FreeCountMismatch(Corruption):
    """A descriptor's free or directory count disagrees with its bitmaps."""

    code = "free_count_mismatch"


class DirentUnusedInode(Corruption):
    """A directory entry names an inode the bitmaps mark free (or one that is not readable)."""

    code = "dirent_unused_inode"


class DirentFileType(Corruption):
    """A directory entry's file type byte disagrees with the inode's mode."""

    code = "dirent_file_type"


class DotEntryInvalid(Corruption):
    """A directory's `.` or `..` is missing, misplaced or names the wrong inode."""

    code = "dot_entry_invalid"


class DirectoryHardLink(Corruption):
    """A directory named by two entries (outside `.`/`..`)."""

    code = "directory_hard_link"


class DirectoryUnconnected(Corruption):
    """A directory that cannot be reached from the root."""

    code = "directory_unconnected"


class LinkCountMismatch(Corruption):
    code = "link_count_mismatch"


class InodeUnattached(Corruption):
    """An inode in use that no directory entry names (and no orphan list holds)."""

    code = "inode_unattached"


class SizeMismatch(Corruption):
    """i_size disagrees with the blocks mapped (e2fsck's "i_size is X, should be Y")."""

    code = "size_mismatch"


class InodeBlocksMismatch(Corruption):
    """i_blocks disagrees with the blocks the inode owns."""

    code = "i_blocks_mismatch"


class OrphanInvalid(Corruption):
    """A broken orphan list or orphan file."""

    code = "orphan_invalid"


class XattrBlockInvalid(Corruption):
    """An extended attribute block with a bad header or reference count."""

    code = "xattr_block_invalid"


class HtreeLeafHash(Corruption):
    """A name in an htree leaf that hashes outside the range the index gives the leaf."""

    code = "htree_leaf_hash"


class HtreeUnreferenced(Corruption):
    """A block of an htree directory that the index does not reach."""

    code = "htree_unreferenced_block"


class InodeInvalid(Corruption):
    """An inode whose mode names no file type, or a root inode that is no directory."""

    code = "inode_invalid"


class JournalInvalid(Corruption):
    """An internal journal whose superblock cannot be a jbd2 superblock."""

    code = "journal_invalid"


#: Names hashed to check htree leaf ranges: a pure-Python dirhash costs up to ~0.2 ms for a
#: 255-byte name, so a huge directory is checked up to this many names, then noted.
MAX_NAME_HASHES = 8192

#: At most this many findings are kept (the rest are counted in `CheckStats.dropped`).
MAX_FINDINGS = 1000

_FT_BY_MODE = {0x8: 1, 0x4: 2, 0x2: 3, 0x6: 4, 0x1: 5, 0xC: 6, 0xA: 7}  # mode >> 12 -> EXT4_FT_*
_S_IFDIR = 0x4
_RESIZE_INO = 7
_EXT4_LINK_MAX = 65000
_ORPHAN_MAGIC = 0x0B10CA04
_JBD2_MAGIC = 0xC03B3998
_JBD2_CSUM_V2V3 = 0x8 | 0x10  # JBD2_FEATURE_INCOMPAT_CSUM_V2 | _V3


@dataclass(frozen=True, slots=True)
class CheckStats:
    groups: int = 0
    inodes: int = 0
    directories: int = 0
    files: int = 0
    symlinks: int = 0
    entries: int = 0
    blocks_claimed: int = 0
    dropped_findings: int = 0


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What `check` found. `clean` is True when there is no finding (notes do not count)."""

    clean: bool
    findings: tuple[Ext4Error, ...]
    notes: tuple[str, ...]
    stats: CheckStats

    @property
    def codes(self) -> set[str]:
        return {f.code for f in self.findings}

    def as_dict(self) -> dict[str, object]:
        return {
            "clean": self.clean,
            "findings": [f.as_finding() for f in self.findings],
            "notes": list(self.notes),
            "stats": {k: getattr(self.stats, k) for k in CheckStats.__slots__},
        }


class _Bits:
    """A fixed-size bitmap in a bytearray (1 bit per block, cluster or inode)."""

    __slots__ = ("data", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.data = bytearray((size + 7) // 8)

    def get(self, index: int) -> bool:
        return bool(self.data[index >> 3] >> (index & 7) & 1)

    def set(self, index: int) -> bool:
        """Set the bit; return whether it was already set."""
        byte, bit = index >> 3, 1 << (index & 7)
        old = self.data[byte]
        self.data[byte] = old | bit
        return bool(old & bit)


@dataclass(slots=True)
class _DirInfo:
    inode: Inode
    runs: list[Extent]


@dataclass(slots=True)
class _State:
    """Everything one check run accumulates (dictionaries only for inodes in use)."""

    fs: Filesystem
    budget: Budget
    findings: list[Ext4Error] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dropped: int = 0
    descs: dict[int, GroupDesc] = field(default_factory=dict)
    links: dict[int, int] = field(default_factory=dict)  # i_links_count of inodes in use
    modes: dict[int, int] = field(default_factory=dict)  # i_mode >> 12
    refs: dict[int, int] = field(default_factory=dict)  # references counted in directories
    dirs: dict[int, _DirInfo] = field(default_factory=dict)
    xattr_refs: dict[int, int] = field(default_factory=dict)
    xattr_stored: dict[int, int] = field(default_factory=dict)
    xattr_bad: set[int] = field(default_factory=set)
    ea_refs: list[tuple[int, int]] = field(default_factory=list)  # (owner, EA inode)
    orphans: set[int] = field(default_factory=set)
    ea_inodes: set[int] = field(default_factory=set)
    hashes_left: int = 0  # names whose htree hash may still be computed (MAX_NAME_HASHES)
    bad_groups: set[int] = field(default_factory=set)  # metadata misplaced: not trusted
    broken: set[int] = field(default_factory=set)  # in use, but unreadable or unwalkable
    dirs_per_group: dict[int, int] = field(default_factory=dict)
    files: int = 0
    symlinks: int = 0
    entries: int = 0
    claimed: int = 0

    def add(self, finding: Ext4Error) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)
        else:
            self.dropped += 1


def check_image(source: str | os.PathLike[str] | int, budget: Budget | None = None) -> CheckReport:
    """Open and check an image. Corruption that stops the open (bad magic, impossible
    geometry, a truncated image) is the report's one finding; an image that cannot be read
    at all, or uses an unsupported incompat feature, raises (Ext4Error only)."""
    from .filesystem import Filesystem  # the facade may come to import this module

    image = Image(source) if isinstance(source, int) else Image.open(source)
    try:
        try:
            fs = Filesystem(image)
        except Corruption as exc:
            finding = _truncation(image) if isinstance(exc, GeometryInvalid) else None
            return CheckReport(False, (finding or exc,), (), CheckStats())
        return check(fs, budget)
    finally:
        image.close()


def _truncation(image: Image) -> TruncatedImage | None:
    """A clearer finding when the geometry is fine but the file ends before the last block."""
    raw = image.read(1024, 1024, Where(offset=1024))
    log_block = int.from_bytes(raw[0x18:0x1C], "little")
    if log_block > 6:
        return None
    block_size = 1024 << log_block
    count = int.from_bytes(raw[0x4:0x8], "little")
    if int.from_bytes(raw[0x60:0x64], "little") & 0x80:  # INCOMPAT_64BIT
        count |= int.from_bytes(raw[0x150:0x154], "little") << 32
    if count * block_size > image.size:
        return TruncatedImage(
            f"the image holds {image.size} bytes, its {count} blocks need {count * block_size}",
            Where(offset=image.size),
        )
    return None


def check(fs: Filesystem, budget: Budget | None = None) -> CheckReport:
    """Audit the whole image; never raises for corruption (only Ext4Error at all)."""
    sb = fs.superblock
    if budget is None:
        budget = Budget(
            blocks=max(1 << 20, 4 * sb.blocks_count), entries=max(1 << 22, 64 * sb.blocks_count)
        )
    st = _State(fs, budget, hashes_left=MAX_NAME_HASHES)
    if sb.needs_recovery:
        st.notes.append("journal holds transactions not yet replayed (needs_recovery)")
    if sb.ro_compat.unknown_bits:
        st.notes.append(f"unknown read-only compatible features 0x{sb.ro_compat.unknown_bits:x}")
    try:
        _run(st)
    except BudgetExceeded as exc:
        st.add(exc)
        st.notes.append("check stopped early: budget exhausted")
    stats = CheckStats(
        groups=sb.group_count,
        inodes=len(st.links),
        directories=len(st.dirs),
        files=st.files,
        symlinks=st.symlinks,
        entries=st.entries,
        blocks_claimed=st.claimed,
        dropped_findings=st.dropped,
    )
    return CheckReport(not st.findings, tuple(st.findings), tuple(st.notes), stats)


def _run(st: _State) -> None:
    fs, sb = st.fs, st.fs.superblock
    ratio_bits = (sb.cluster_size // sb.block_size).bit_length() - 1
    clusters = ((sb.blocks_count - sb.first_data_block) >> ratio_bits) + 1
    meta = _Bits(sb.blocks_count)  # per block: superblocks, descriptors, bitmaps, tables
    owned = _Bits(clusters)  # per cluster: claimed by inodes
    for item in fs.groups():
        if isinstance(item, GroupDesc):
            st.descs[item.group] = item
        else:
            st.add(item)
    _claim_fixed_metadata(st, meta)
    _claim_group_metadata(st, meta)
    _orphan_chain(st)
    _orphan_file(st)
    _journal_superblock(st)
    _backup_superblocks(st)
    inode_bitmaps = _inode_pass(st, meta, owned, ratio_bits)
    _directory_pass(st)
    _link_counts(st)
    _xattr_refcounts(st)
    _ea_inode_refs(st)
    _bitmap_pass(st, meta, owned, ratio_bits, inode_bitmaps)


# -- pass 1: metadata placement -------------------------------------------------------------


def _desc_blocks(st: _State) -> int:
    sb = st.fs.superblock
    per_block = sb.block_size // sb.desc_size
    return -(-sb.group_count // per_block)


def _claim_fixed_metadata(st: _State, meta: _Bits) -> None:
    """Superblock copies, the descriptor table and reserved GDT blocks of every group that
    has a superblock copy, and meta_bg descriptor blocks (ext2fs_super_and_bgd_loc2)."""
    sb = st.fs.superblock
    per_block = sb.block_size // sb.desc_size
    meta_bg = "meta_bg" in sb.incompat
    old_desc = min(sb.first_meta_bg, _desc_blocks(st)) if meta_bg else _desc_blocks(st)
    old_desc += 0 if meta_bg else sb.reserved_gdt_blocks
    for group in range(sb.group_count):
        first = group_first_block(sb, group)
        has_super = group_has_superblock(sb, group)
        blocks: list[int] = []
        if has_super:
            # With 1 KiB blocks group 0's superblock is block 1 (= first_data_block); with
            # bigger blocks it shares block 0 with the boot area.
            blocks.append(first)
            # Never past the group's own blocks: reserved_gdt_blocks is an on-disk u16.
            blocks.extend(range(first + 1, min(first + 1 + old_desc, first + sb.blocks_per_group)))
        if meta_bg:
            index = group % per_block
            if group // per_block >= sb.first_meta_bg and index in (0, 1, per_block - 1):
                blocks.append(first + (1 if has_super else 0))
        for block in blocks:
            if block < sb.blocks_count:
                meta.set(block)
    if sb.first_data_block == 0 and sb.block_size == 1024:
        meta.set(1)  # bigalloc with 1 KiB blocks: the superblock is block 1


def _claim_group_metadata(st: _State, meta: _Bits) -> None:
    sb = st.fs.superblock
    first_valid = st.fs.blocks.first_valid
    table_blocks = sb.inode_table_blocks
    for group in range(sb.group_count):
        desc = st.descs.get(group)
        if desc is None:
            continue
        parts = (
            ("block bitmap", desc.block_bitmap, 1),
            ("inode bitmap", desc.inode_bitmap, 1),
            ("inode table", desc.inode_table, table_blocks),
        )
        for name, start, count in parts:
            where = Where(group=group, block=start)
            if start < first_valid:
                st.add(MetadataOverlap(f"{name} at block {start} is the superblock", where))
                st.bad_groups.add(group)
                continue
            if start + count > sb.blocks_count:
                st.add(BlockOutOfRange(f"{name} {start}+{count} outside the filesystem", where))
                st.bad_groups.add(group)
                continue
            for block in range(start, start + count):
                if meta.set(block):
                    st.bad_groups.add(group)
                    st.add(
                        MetadataOverlap(
                            f"{name} block {block} overlaps other metadata",
                            Where(group=group, block=block),
                        )
                    )
                    break


# -- pass 2: inodes -------------------------------------------------------------------------


def _inode_pass(st: _State, meta: _Bits, owned: _Bits, ratio_bits: int) -> dict[int, bytes]:
    fs, sb = st.fs, st.fs.superblock
    csum = sb.has_metadata_csum or sb.has_gdt_csum
    ipg = sb.inodes_per_group
    bitmaps: dict[int, bytes] = {}
    for group in range(sb.group_count):
        desc = st.descs.get(group)
        if desc is None or desc.inode_uninit or group in st.bad_groups:
            continue
        try:
            bitmap = read_inode_bitmap(fs, desc, st.budget)
        except BudgetExceeded:
            raise
        except Ext4Error as exc:
            st.add(exc)
            continue
        if bitmap is None:
            continue
        bitmaps[group] = bitmap
        limit = ipg - desc.itable_unused if csum else ipg
        # Walk the set bits only: the bitmap as one integer, lowest set bit first.
        bits = int.from_bytes(bitmap[: (ipg + 7) // 8], "little") & ((1 << ipg) - 1)
        while bits:
            low = bits & -bits
            index = low.bit_length() - 1
            bits ^= low
            ino = group * ipg + index + 1
            if index >= limit:
                st.add(
                    BitmapMismatch(
                        f"inode {ino} marked used in the never-used tail of the table",
                        Where(group=group, inode=ino),
                    )
                )
                continue
            try:
                inode = read_inode(fs.image, sb, desc, ino)
            except BudgetExceeded:
                raise
            except Ext4Error as exc:
                st.add(exc)
                st.broken.add(ino)
                continue
            _check_inode(st, inode, group, meta, owned, ratio_bits)
    return bitmaps


def _is_special(st: _State, ino: int) -> bool:
    sb = st.fs.superblock
    return ino < sb.first_ino or ino in (
        sb.journal_inum,
        sb.usr_quota_inum,
        sb.grp_quota_inum,
        sb.prj_quota_inum,
        sb.orphan_file_inum,
    )


def _check_inode(
    st: _State, inode: Inode, group: int, meta: _Bits, owned: _Bits, ratio_bits: int
) -> None:
    sb = st.fs.superblock
    ino = inode.ino
    where = Where(group=group, inode=ino)
    if (
        ino < sb.first_ino
        and ino != ROOT_INO
        and inode.mode == 0
        and not inode.i_block.strip(b"\0")
    ):
        return  # a reserved inode nobody uses
    if ino >= sb.first_ino and inode.links_count == 0 and ino not in st.orphans and inode.dtime:
        st.add(BitmapMismatch(f"deleted inode {ino} is marked used", where))
        return
    if ino >= sb.first_ino and inode.links_count and inode.dtime and ino not in st.orphans:
        st.add(InodeInvalid(f"inode {ino} is in use but has i_dtime {inode.dtime}", where))
    st.links[ino] = inode.links_count
    st.modes[ino] = inode.mode >> 12
    if inode.flags & FL_EA_INODE:
        st.ea_inodes.add(ino)
    if inode.file_type == "unknown" and ino >= sb.first_ino:
        st.add(InodeInvalid(f"inode {ino} has mode 0o{inode.mode:o} of no known type", where))
        st.broken.add(ino)
        return
    if ino == ROOT_INO and not inode.is_dir:
        st.add(InodeInvalid("the root inode is not a directory", where))
    try:
        runs, tree_blocks = _inode_blocks(st, inode)
    except BudgetExceeded:
        raise
    except Unsupported as exc:
        st.notes.append(f"inode {ino}: {exc.detail}")
        st.broken.add(ino)
        return
    except Ext4Error as exc:
        st.add(exc)
        st.broken.add(ino)
        return
    own: list[tuple[int, int]] = [(run.physical_block, run.length_blocks) for run in runs]
    own.extend((block, 1) for block in tree_blocks)
    owned_clusters = _claim(st, inode, own, meta, owned, ratio_bits)
    xattr: int | None = None
    if inode.file_acl:
        xattr = _xattr_block(st, inode)
        if xattr is not None and xattr not in st.xattr_refs:
            _claim(st, inode, [(xattr, 1)], meta, owned, ratio_bits)  # shared: claimed once
        if xattr is not None:
            st.xattr_refs[xattr] = st.xattr_refs.get(xattr, 0) + 1
    _xattr_ibody(st, inode)
    if inode.is_dir:
        st.dirs[ino] = _DirInfo(inode, runs)
        st.dirs_per_group[group] = st.dirs_per_group.get(group, 0) + 1
    elif inode.file_type == "lnk":
        st.symlinks += 1
    elif inode.file_type == "reg":
        st.files += 1
    if ino >= sb.first_ino or ino == ROOT_INO:
        _check_sizes(st, inode, runs, owned_clusters + (1 if inode.file_acl else 0), where)


def _inode_blocks(st: _State, inode: Inode) -> tuple[list[Extent], list[int]]:
    """(data runs, tree/indirect blocks) of the inode; nothing for inline data, fast symlinks,
    device nodes. The resize inode's reserved GDT blocks are metadata: only its DIND block
    is its own."""
    fs, sb = st.fs, st.fs.superblock
    if inode.ino == _RESIZE_INO:
        dind = int.from_bytes(inode.i_block[13 * 4 : 14 * 4], "little")
        if dind:
            fs.blocks.check(dind, 1, Where(inode=inode.ino, block=dind))
            return [], [dind]
        return [], []
    if inode.has_inline_data or inode.file_type in ("chr", "blk", "fifo", "sock"):
        return [], []
    if is_fast_symlink(sb, inode):
        return [], []
    if inode.uses_extents:
        seed = inode_checksum_seed(sb, inode) if sb.has_metadata_csum else None
        tree = walk_extent_tree(fs, inode, st.budget, csum_seed=seed)
        return list(tree.extents), list(tree.tree_blocks)
    return _block_map(st, inode)


def _block_map(st: _State, inode: Inode) -> tuple[list[Extent], list[int]]:
    """The whole ext2/3 block map: data runs and every IND/DIND/TIND block."""
    indirect: list[int] = []
    runs = find_blocks(st.fs, inode, 0, MAX_LOGICAL_BLOCKS, st.budget, indirect)
    return runs, indirect


def _claim(
    st: _State,
    inode: Inode,
    own: Iterable[tuple[int, int]],
    meta: _Bits,
    owned: _Bits,
    ratio_bits: int,
) -> int:
    """Claim the inode's blocks; return how many clusters it owns (for i_blocks)."""
    sb = st.fs.superblock
    ino = inode.ino
    shared_ok = "shared_blocks" in sb.ro_compat
    resize = ino == _RESIZE_INO
    fdb = sb.first_data_block
    mine: set[int] = set()
    reported = 0
    for start, length in own:
        # Charged per block: a few inodes of 32768-block extents must not buy unbounded work.
        st.budget.charge_entries(length, Where(inode=ino, block=start))
        for block in range(start, start + length):
            if meta.get(block) and not resize and reported < 4:
                reported += 1
                st.add(
                    BlockInMetadata(
                        f"inode {ino} claims metadata block {block}", Where(inode=ino, block=block)
                    )
                )
            cluster = (block - fdb) >> ratio_bits
            if cluster in mine:
                if not ratio_bits and reported < 4:
                    reported += 1
                    st.add(
                        BlockClaimedTwice(
                            f"inode {ino} maps block {block} twice", Where(inode=ino, block=block)
                        )
                    )
                continue
            mine.add(cluster)
            if owned.set(cluster) and not shared_ok and reported < 4:
                reported += 1
                st.add(
                    BlockClaimedTwice(
                        f"block {block} of inode {ino} is claimed by another inode",
                        Where(inode=ino, block=block),
                    )
                )
    st.claimed += len(mine)
    return len(mine)


def _check_sizes(st: _State, inode: Inode, runs: list[Extent], clusters: int, where: Where) -> None:
    sb = st.fs.superblock
    bs = sb.block_size
    if inode.has_inline_data:
        pass
    elif inode.is_dir:
        last_end = max((r.logical_end for r in runs), default=0)
        if inode.size % bs:
            st.add(SizeMismatch(f"directory i_size {inode.size} is not whole blocks", where))
        elif inode.size // bs != last_end:
            st.add(
                SizeMismatch(f"directory i_size {inode.size}, blocks mapped to {last_end}", where)
            )
    elif inode.file_type == "reg":
        written = [r.logical_end for r in runs if not r.unwritten]
        if written and inode.size < (max(written) - 1) * bs:
            st.add(
                SizeMismatch(
                    f"i_size {inode.size} ends before mapped block {max(written) - 1}", where
                )
            )
    if inode.flags & FL_EA_INODE:
        return
    expected = clusters * (sb.cluster_size // 512)
    # With ea_inode, values kept in EA inodes are charged to the owner's i_blocks too.
    if inode.blocks < expected or (inode.blocks > expected and "ea_inode" not in sb.incompat):
        st.add(InodeBlocksMismatch(f"i_blocks {inode.blocks}, the inode owns {expected}", where))


def _xattr_block(st: _State, inode: Inode) -> int | None:
    """The inode's xattr block, read and checked once per distinct block by the xattr
    module's block reader (magic, h_blocks, checksum, every entry); its number if sane."""
    fs, sb = st.fs, st.fs.superblock
    block = inode.file_acl
    if block in st.xattr_stored:
        return block
    if block in st.xattr_bad:
        return None
    where = Where(inode=inode.ino, block=block)
    try:
        data = fs.blocks.read(block, where, st.budget)
        pairs, findings = parse_xattr_block(sb, data, block, where, st.budget)
    except BudgetExceeded:
        raise
    except Ext4Error as exc:
        st.add(exc)
        st.xattr_bad.add(block)
        return None
    for finding in findings:
        st.add(finding)
    st.xattr_stored[block] = int.from_bytes(data[4:8], "little")  # h_refcount
    st.ea_refs.extend((inode.ino, raw.value_inum) for raw, _ in pairs if raw.value_inum)
    return block


def _xattr_ibody(st: _State, inode: Inode) -> None:
    """The in-inode attributes (after i_extra_isize), checked by the xattr module."""
    try:
        pairs, findings = parse_ibody(st.fs.superblock, inode, st.budget)
    except BudgetExceeded:
        raise
    except Ext4Error as exc:
        st.add(exc)
        return
    for finding in findings:
        st.add(finding)
    st.ea_refs.extend((inode.ino, raw.value_inum) for raw, _ in pairs if raw.value_inum)


def _ea_inode_refs(st: _State) -> None:
    """Every value kept in an EA inode names an inode in use that carries EA_INODE_FL."""
    for owner, target in st.ea_refs:
        if target not in st.ea_inodes and target not in st.broken:
            st.add(
                XattrEaInodeBad(
                    f"xattr value of inode {owner} names inode {target}, not an EA inode",
                    Where(inode=owner),
                )
            )


def _xattr_refcounts(st: _State) -> None:
    for block, refs in st.xattr_refs.items():
        stored = st.xattr_stored.get(block)
        if stored is not None and stored != refs:
            st.add(
                XattrBlockInvalid(
                    f"xattr block h_refcount {stored}, {refs} inodes use it", Where(block=block)
                )
            )


# -- orphans --------------------------------------------------------------------------------


def _orphan_chain(st: _State) -> None:
    """s_last_orphan: a chain through i_dtime ("Orphan List" in the kernel docs), bounded by
    the inode count and a visited set. Members are unlinked inodes or inodes in mid-truncate
    (links > 0), both legal; the kernel finishes them at the next read-write mount."""
    fs, sb = st.fs, st.fs.superblock
    ino = sb.last_orphan
    seen: set[int] = set()
    if ino:
        st.notes.append("the orphan list is not empty (processed at the next rw mount)")
    while ino:
        where = Where(inode=ino)
        if ino in seen:
            st.add(OrphanInvalid(f"orphan list loops back to inode {ino}", where))
            return
        if not sb.first_ino <= ino <= sb.inodes_count:
            st.add(OrphanInvalid(f"orphan list names inode {ino}", where))
            return
        seen.add(ino)
        try:
            inode = fs.inode(ino)
        except BudgetExceeded:
            raise
        except Ext4Error as exc:
            st.add(exc)
            return
        # An orphan may still have links (a truncate in progress): not an error.
        st.orphans.add(ino)
        ino = inode.dtime


def _journal_superblock(st: _State) -> None:
    """The internal journal's superblock (logical block 0 of s_journal_inum): jbd2 magic
    (big-endian, unlike the rest of ext4), a superblock block type, the filesystem's block
    size, a length the journal file holds, and with csum v2/v3 its crc32c ("Journal (jbd2)"
    in the kernel docs; jbd2_superblock_csum)."""
    fs, sb = st.fs, st.fs.superblock
    if "has_journal" not in sb.compat or not sb.journal_inum or sb.journal_dev:
        return
    ino = sb.journal_inum
    where = Where(inode=ino)
    try:
        inode = fs.inode(ino)
        runs, _tree = _inode_blocks(st, inode)
        first = next((run for run in runs if run.logical_block == 0), None)
        if first is None:
            st.add(JournalInvalid("the journal has no block 0", where))
            return
        where = Where(inode=ino, block=first.physical_block)
        data = fs.blocks.read(first.physical_block, where, st.budget)
    except BudgetExceeded:
        raise
    except Ext4Error as exc:
        st.add(JournalInvalid(f"journal inode {ino} unreadable: {exc.detail}", where))
        return
    magic, blocktype, _seq, blocksize, maxlen = struct.unpack_from(">IIIII", data, 0)
    journal_blocks = sum(run.length_blocks for run in runs)
    if magic != _JBD2_MAGIC or blocktype not in (3, 4):
        st.add(JournalInvalid(f"journal superblock magic 0x{magic:08x} type {blocktype}", where))
        return
    if blocksize != sb.block_size or not 0 < maxlen <= journal_blocks:
        st.add(
            JournalInvalid(
                f"journal block size {blocksize}, length {maxlen} (file has {journal_blocks})",
                where,
            )
        )
        return
    incompat = struct.unpack_from(">I", data, 0x28)[0]
    if blocktype == 4 and incompat & _JBD2_CSUM_V2V3:
        stored = struct.unpack_from(">I", data, 0xFC)[0]
        computed = crc32c_raw(0xFFFFFFFF, data[:0xFC] + b"\0\0\0\0" + data[0x100:0x400])
        if stored != computed:
            st.add(ChecksumMismatch("journal superblock", stored, computed, where))


#: Fields a backup superblock must share with the primary: the geometry and the features.
#: Counts, times and state legitimately lag behind (the kernel updates backups rarely).
_BACKUP_FIELDS = (
    "block_size", "cluster_size", "blocks_count", "inodes_count", "first_data_block",
    "blocks_per_group", "clusters_per_group", "inodes_per_group", "inode_size", "desc_size",
    "uuid", "compat", "incompat", "ro_compat",
)  # fmt: skip
#: Without sparse_super every group has a backup; e2fsck reads the first (group 1) only.
MAX_BACKUPS_CHECKED = 64


def _backup_superblocks(st: _State) -> None:
    """Each backup superblock (at the start of its group's first block) must decode, verify
    and agree with the primary on geometry and features. e2fsck only rewrites stale backups
    when it repairs, so differences are notes, never findings."""
    sb = st.fs.superblock
    for group in backup_groups(sb)[:MAX_BACKUPS_CHECKED]:
        offset = group_first_block(sb, group) * sb.block_size
        where = Where(group=group, offset=offset)
        try:
            raw = st.fs.image.read(offset, SUPERBLOCK_SIZE, where)
            backup = parse_superblock(raw, st.fs.image.size, where)
        except Ext4Error as exc:
            st.notes.append(f"backup superblock in group {group}: {exc.code}: {exc.detail}")
            continue
        differ = [name for name in _BACKUP_FIELDS if getattr(backup, name) != getattr(sb, name)]
        if differ:
            st.notes.append(
                f"backup superblock in group {group} differs from the primary in "
                + ", ".join(differ)
            )


def _orphan_file(st: _State) -> None:
    """The orphan file (COMPAT_ORPHAN_FILE): every block ends in the 0x0b10ca04 tail and,
    with metadata_csum, a crc32c of (inode number, generation, physical block, entries)."""
    fs, sb = st.fs, st.fs.superblock
    if "orphan_file" not in sb.compat:
        return
    ino = sb.orphan_file_inum
    where = Where(inode=ino)
    try:
        inode = fs.inode(ino)
        runs, _tree = _inode_blocks(st, inode)
    except BudgetExceeded:
        raise
    except Ext4Error as exc:
        st.add(OrphanInvalid(f"orphan file inode {ino} unreadable: {exc.detail}", where))
        return
    bs = sb.block_size
    per_block = (bs - 8) // 4
    expect = 0
    for run in runs:
        if run.logical_block != expect:
            st.add(OrphanInvalid(f"orphan file has a hole at block {expect}", where))
        expect = run.logical_end
        for offset in range(run.length_blocks):
            block = run.physical_block + offset
            here = Where(inode=ino, block=block)
            data = fs.blocks.read(block, here, st.budget)
            magic, stored = struct.unpack_from("<II", data, bs - 8)
            if magic != _ORPHAN_MAGIC:
                st.add(OrphanInvalid(f"orphan block tail magic 0x{magic:08x}", here))
                continue
            if sb.has_metadata_csum:
                crc = crc32c_raw(sb.checksum_seed, ino.to_bytes(4, "little"))
                crc = crc32c_raw(crc, (inode.generation & 0xFFFFFFFF).to_bytes(4, "little"))
                crc = crc32c_raw(crc, block.to_bytes(8, "little"))
                crc = crc32c_raw(crc, memoryview(data)[: per_block * 4])
                if crc != stored:
                    st.add(ChecksumMismatch("orphan file block", stored, crc, here))
                    continue
            for entry in struct.unpack_from(f"<{per_block}I", data):
                if entry:
                    st.orphans.add(entry)


# -- pass 3: directories --------------------------------------------------------------------


def _block_of(st: _State, info: _DirInfo) -> Callable[[int], bytes]:
    runs = info.runs
    starts = [run.logical_block for run in runs]
    ino = info.inode.ino

    def block_of(logical: int) -> bytes:
        i = bisect_right(starts, logical) - 1
        if i < 0 or runs[i].logical_end <= logical or runs[i].unwritten:
            raise Corruption(f"directory block {logical} is not mapped", Where(inode=ino))
        block = runs[i].physical_block + logical - runs[i].logical_block
        return st.fs.blocks.read(block, Where(inode=ino, block=block), st.budget)

    return block_of


def _directory_pass(st: _State) -> None:
    sb = st.fs.superblock
    has_filetype = "filetype" in sb.incompat
    parent: dict[int, int] = {}  # directory -> the directory whose entry first named it
    dotdot: dict[int, int] = {}
    extra_links: list[tuple[int, int]] = []  # (directory, child) beyond the first
    for ino in sorted(st.dirs):
        info = st.dirs[ino]
        try:
            entries, up = _read_directory(st, info)
        except BudgetExceeded:
            raise
        except Unsupported as exc:
            st.notes.append(f"directory {ino}: {exc.detail}")
            continue
        except Ext4Error as exc:
            st.add(exc)
            continue
        if up is not None:
            dotdot[ino] = up
            st.refs[up] = st.refs.get(up, 0) + 1
        st.entries += len(entries)
        names: set[bytes] = set()
        casefold = is_casefolded(sb, info.inode)
        for entry in entries:
            target = entry.inode
            where = Where(inode=ino, offset=entry.offset)
            if not is_legal_name(entry.name) or entry.name in _DOTS:
                st.add(DirentBadName(f"entry name {entry.name!r} is not a legal name", where))
            else:
                key = name_key(entry.name, casefold)
                if key in names:
                    st.add(DirentBadName(f"entry name {entry.name!r} appears twice", where))
                names.add(key)
            mode = st.modes.get(target)
            if mode is None and target in st.broken:
                continue  # the inode's own damage is already reported
            if mode is None:
                st.add(
                    DirentUnusedInode(
                        f"entry {entry.name!r} names inode {target}, which is not in use", where
                    )
                )
                continue
            st.refs[target] = st.refs.get(target, 0) + 1
            if has_filetype and _FT_BY_MODE.get(mode) != entry.file_type:
                st.add(
                    DirentFileType(
                        f"entry {entry.name!r} has type {entry.file_type}, inode {target} "
                        f"is mode type 0x{mode:x}",
                        where,
                    )
                )
            if mode == _S_IFDIR:
                if target in parent or target == ROOT_INO:
                    extra_links.append((ino, target))
                else:
                    parent[target] = ino
    _tree_shape(st, parent, dotdot, extra_links)


def _read_directory(st: _State, info: _DirInfo) -> tuple[list[DirEntry], int | None]:
    """(entries but `.`/`..`, the `..` inode) of one directory; damage goes to findings."""
    inode = info.inode
    ino = inode.ino
    sb = st.fs.superblock
    ctx = DirContext.for_inode(sb, inode)
    where = Where(inode=ino)
    if inode.has_inline_data:
        parent, inline = read_inline_dir(inode.i_block, ctx, where)
        found = list(inline.entries)
        for finding in inline.findings:
            st.add(finding)
        tail = read_inline_tail(sb, inode, ctx, st.budget)  # the system.data part
        if tail is not None:
            found.extend(tail.entries)
            for finding in tail.findings:
                st.add(finding)
        st.refs[ino] = st.refs.get(ino, 0) + 1  # the implied "."
        return found, parent or None
    block_of = _block_of(st, info)
    leaves: Iterable[int] = range(ctx.dir_blocks)
    indexed = bool(inode.flags & FL_INDEX) and "dir_index" in sb.compat
    head = block_of(0)
    up: int | None = None
    fallback = False
    ranges: dict[int, tuple[int, int]] = {}
    htree: Htree | None = None
    if indexed:
        up = _dots_of_root(st, head, ino)
        try:
            htree = Htree(ctx, block_of)
            leaves = htree.leaves()
            ranges = _htree_ranges(st, htree, leaves, ctx.dir_blocks)
        except BudgetExceeded:
            raise
        except Corruption as exc:
            # Like the kernel with a damaged index: read every block linearly, skipping
            # the root and anything shaped like an index node (one empty full-block entry).
            st.add(exc)
            leaves = range(1, ctx.dir_blocks)
            fallback = True
    entries: list[DirEntry] = []
    for logical in leaves:
        try:
            data = head if logical == 0 else block_of(logical)
        except BudgetExceeded:
            raise
        except Corruption as exc:
            st.add(exc)
            continue
        if fallback and _looks_like_dx_node(data):
            continue
        parsed = read_dir_block(data, ctx, Where(inode=ino, block=logical))
        for finding in parsed.findings:
            st.add(finding)
        st.budget.charge_entries(len(parsed.entries), where)
        found = list(parsed.entries)
        if (
            htree is not None
            and logical in ranges
            and not _leaf_hashes_fit(st, htree, found, ranges[logical], logical)
        ):
            htree = None  # one finding per directory is enough
        if logical == 0 and not indexed:
            up = _dots_of_block(st, found, ino, bool(parsed.findings))
            found = found[2:] if up is not None else [e for e in found if e.name not in _DOTS]
        entries.extend(found)
    return entries, up


_DOTS = (b".", b"..")


def _htree_ranges(
    st: _State, htree: Htree, leaves: list[int], dir_blocks: int
) -> dict[int, tuple[int, int]]:
    """Each leaf's hash range [lo, hi] from the index (walked and checked by `leaves()`
    already, so this second walk meets no cycle); blocks neither index nor leaf are findings
    (e2fsck pass 2: every block of an htree directory is referenced once)."""
    levels = htree.indirect_levels
    out: dict[int, tuple[int, int]] = {}
    index_blocks = {0}
    stack = [(htree.root, 0, 0xFFFFFFFF)]
    while stack:
        node, lo, hi = stack.pop()
        for i in range(node.count):
            e_lo = node.hashes[i] & ~1 if i else lo
            e_hi = node.hashes[i + 1] if i + 1 < node.count else hi
            child = node.entries[i].block
            if node.level == levels:
                out[child] = (e_lo, e_hi)
            else:
                index_blocks.add(child)
                stack.append((htree.node(child, node.level + 1), e_lo, e_hi))
    stray = dir_blocks - len(index_blocks) - len(set(leaves))
    if stray > 0:
        st.add(
            HtreeUnreferenced(
                f"{stray} blocks of the directory are neither index nor leaf",
                Where(inode=htree.ctx.ino),
            )
        )
    return out


def _leaf_hashes_fit(
    st: _State, htree: Htree, entries: list[DirEntry], bounds: tuple[int, int], logical: int
) -> bool:
    """Every name in a leaf hashes inside the range its index entry gives (e2fsck's
    "bad min/max hash"); the upper bound is inclusive (hash collisions continue)."""
    lo, hi = bounds
    if st.hashes_left < len(entries):
        if st.hashes_left >= 0:
            st.notes.append(f"htree hash ranges checked for the first {MAX_NAME_HASHES} names")
            st.hashes_left = -1
        return True
    st.hashes_left -= len(entries)
    for entry in entries:
        hash_, _ = htree.hash_of(entry.name)
        if not lo <= hash_ <= hi:
            st.add(
                HtreeLeafHash(
                    f"entry {entry.name!r} hashes to 0x{hash_:08x}, outside the leaf's "
                    f"0x{lo:08x}..0x{hi:08x}",
                    Where(inode=htree.ctx.ino, block=logical, offset=entry.offset),
                )
            )
            return False
    return True


def _looks_like_dx_node(data: bytes) -> bool:
    inode, rec_len, name_len = struct.unpack_from("<IHB", data, 0)
    return inode == 0 and name_len == 0 and (rec_len == len(data) or rec_len in (0, 65535))


def _dots_of_root(st: _State, block: bytes, ino: int) -> int | None:
    """`.` and `..` of an htree root (their layout was checked by parse_dx_root)."""
    dot = int.from_bytes(block[0:4], "little")
    up = int.from_bytes(block[12:16], "little")
    if dot != ino:
        st.add(DotEntryInvalid(f"'.' names inode {dot}", Where(inode=ino, offset=0)))
    else:
        st.refs[ino] = st.refs.get(ino, 0) + 1
    return up


def _dots_of_block(st: _State, found: list[DirEntry], ino: int, damaged: bool) -> int | None:
    where = Where(inode=ino, block=0)
    if len(found) < 2 or found[0].name != b"." or found[1].name != b".." or found[0].offset:
        if not damaged:
            st.add(DotEntryInvalid("block 0 does not start with '.' and '..'", where))
        return None
    if found[0].inode != ino:
        st.add(DotEntryInvalid(f"'.' names inode {found[0].inode}", where))
    else:
        st.refs[ino] = st.refs.get(ino, 0) + 1
    return found[1].inode


def _tree_shape(
    st: _State, parent: dict[int, int], dotdot: dict[int, int], extra: list[tuple[int, int]]
) -> None:
    """`..` against the parent, hard-linked directories, cycles, unreachable directories."""
    limit = len(st.dirs) + 1

    def ancestors_include(start: int, wanted: int) -> bool:
        node, steps = start, 0
        while steps <= limit:
            if node == wanted:
                return True
            if node == ROOT_INO or node not in parent:
                return False
            node = parent[node]
            steps += 1
        return False

    for holder, child in extra:
        where = Where(inode=holder)
        if ancestors_include(holder, child):
            st.add(DirectoryCycle(f"directory {holder} names its ancestor {child}", where))
        else:
            st.add(DirectoryHardLink(f"directory {child} is named a second time", where))
    for ino in st.dirs:
        up = dotdot.get(ino)
        expected = ROOT_INO if ino == ROOT_INO else parent.get(ino)
        if expected is None:
            continue
        if up is not None and up != expected:
            st.add(DotEntryInvalid(f"'..' names {up}, the parent is {expected}", Where(inode=ino)))
    # Reachability from the root over first references; each detached subtree or cycle is
    # reported once, at its top (as e2fsck's pass 3 reconnects only the top).
    settled: dict[int, bool] = {ROOT_INO: True}  # directory -> reachable from the root
    for ino in sorted(st.dirs):
        if ino in settled or ino in st.orphans:
            continue
        chain: list[int] = []
        on_chain: set[int] = set()
        node = ino
        while node not in settled and node not in on_chain and node in parent:
            chain.append(node)
            on_chain.add(node)
            node = parent[node]
        if node in settled:
            verdict = settled[node]
        elif node in on_chain:
            where = Where(inode=node)
            st.add(DirectoryCycle(f"directories from {node} form a cycle of parents", where))
            verdict = False
        else:
            if node not in st.broken:
                st.add(DirectoryUnconnected(f"directory {node} is unreachable", Where(inode=node)))
            settled[node] = False
            verdict = False
        for item in chain:
            settled[item] = verdict


# -- pass 4: link counts --------------------------------------------------------------------


def _link_counts(st: _State) -> None:
    sb = st.fs.superblock
    dir_nlink = "dir_nlink" in sb.ro_compat
    for ino, links in st.links.items():
        refs = st.refs.get(ino, 0)
        where = Where(inode=ino)
        if refs == 0:
            if ino in st.orphans or (_is_special(st, ino) and ino != ROOT_INO):
                continue
            if ino in st.ea_inodes:
                continue  # named by xattr entries, not by directories
            st.add(InodeUnattached(f"inode {ino} is in use but no entry names it", where))
            continue
        if links == refs:
            continue
        if dir_nlink and links == 1 and st.modes.get(ino) == _S_IFDIR and refs >= _EXT4_LINK_MAX:
            continue
        st.add(LinkCountMismatch(f"i_links_count {links}, {refs} references counted", where))


# -- pass 5: bitmaps and counts -------------------------------------------------------------


def _bitmap_pass(
    st: _State, meta: _Bits, owned: _Bits, ratio_bits: int, inode_bitmaps: dict[int, bytes]
) -> None:
    fs, sb = st.fs, st.fs.superblock
    cpg = sb.clusters_per_group
    ipg = sb.inodes_per_group
    fdb = sb.first_data_block
    total_clusters = ((sb.blocks_count - fdb) + (1 << ratio_bits) - 1) >> ratio_bits
    # Used clusters: the inodes' claims plus every metadata block's cluster.
    used = bytearray(owned.data)
    meta_clusters = bytearray(len(owned.data))
    for byte_index, byte in enumerate(meta.data):
        if not byte:
            continue
        for bit in range(8):
            if byte >> bit & 1:
                block = byte_index * 8 + bit
                if block >= fdb:
                    cluster = (block - fdb) >> ratio_bits
                    used[cluster >> 3] |= 1 << (cluster & 7)
                    meta_clusters[cluster >> 3] |= 1 << (cluster & 7)
    free_blocks = free_inodes = 0
    for group in range(sb.group_count):
        desc = st.descs.get(group)
        if desc is None or group in st.bad_groups:
            continue
        where = Where(group=group)
        n = min(cpg, total_clusters - group * cpg)
        if desc.block_uninit:
            # No bitmap on disk: it is implied to hold the group's metadata and nothing
            # else (ext4_init_block_bitmap), so no file may own a block here.
            first = group * cpg
            owned_here = _slice_bits(owned.data, first, n)
            if owned_here:
                st.add(
                    BitmapMismatch(
                        f"{owned_here.bit_count()} clusters in use in a BLOCK_UNINIT group",
                        where,
                    )
                )
            free = n - _slice_bits(meta_clusters, first, n).bit_count()
            free_blocks += free
            if free != desc.free_blocks_count:
                st.add(
                    FreeCountMismatch(
                        f"free clusters {desc.free_blocks_count}, uninitialized bitmap implies "
                        f"{free}",
                        where,
                    )
                )
        else:
            try:
                bitmap = read_block_bitmap(fs, desc, st.budget)
            except BudgetExceeded:
                raise
            except Ext4Error as exc:
                st.add(exc)
                bitmap = None
            if bitmap is not None:
                first = group * cpg
                on_disk = int.from_bytes(bitmap[: (n + 7) // 8], "little") & ((1 << n) - 1)
                mine = _slice_bits(used, first, n)
                extra = (on_disk & ~mine).bit_count()
                missing = (mine & ~on_disk).bit_count()
                if st.broken:
                    extra = 0  # blocks of inodes that could not be walked are unknown
                if extra or missing:
                    st.add(
                        BitmapMismatch(
                            f"block bitmap: {missing} clusters in use marked free, {extra} "
                            f"marked used but not in use",
                            Where(group=group, block=desc.block_bitmap),
                        )
                    )
                free = n - count_set(bitmap, n)
                free_blocks += free
                if free != desc.free_blocks_count:
                    st.add(
                        FreeCountMismatch(
                            f"free clusters {desc.free_blocks_count}, bitmap has {free}", where
                        )
                    )
        ibitmap = inode_bitmaps.get(group)
        if desc.inode_uninit:
            free = ipg
        elif ibitmap is not None:
            free = ipg - count_set(ibitmap, ipg)
        else:
            continue
        free_inodes += free
        if free != desc.free_inodes_count:
            st.add(
                FreeCountMismatch(f"free inodes {desc.free_inodes_count}, bitmap has {free}", where)
            )
        dirs = st.dirs_per_group.get(group, 0)
        if ibitmap is not None and dirs != desc.used_dirs_count:
            st.add(
                FreeCountMismatch(f"used directories {desc.used_dirs_count}, found {dirs}", where)
            )
    if free_inodes != sb.free_inodes_count or free_blocks << ratio_bits != sb.free_blocks_count:
        # e2fsck does not call this an error: the kernel updates these lazily.
        st.notes.append("superblock free counts differ from the bitmaps (kept lazily)")


def _slice_bits(data: bytearray | bytes, first: int, n: int) -> int:
    """Bits [first, first + n) of a little-endian bitmap, as an integer."""
    lo = first >> 3
    hi = (first + n + 7) >> 3
    value = int.from_bytes(data[lo:hi], "little") >> (first & 7)
    return value & ((1 << n) - 1)
