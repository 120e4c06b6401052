"""Locate the metadata records of a healthy seed image, for structure-aware mutation.

The parser's own facade finds them (the seed is healthy: what it reads is what is there):
the superblock and its backups ("Super Block", sparse_super placement), every group
descriptor, each group's block and inode bitmap, the inode records in use, extent tree nodes
and indirect blocks ("Extent Tree", "Direct/Indirect Block Addressing"), directory blocks
(linear leaves, htree roots and nodes: "Hash Tree Directories"), xattr blocks ("Extended
Attributes") and the journal's first blocks ("Journal (jbd2)"). Each record carries what a
mutation needs to aim (its block, owner inode, the parent it hangs from) and what a checksum
fix needs (its kind, owner inode, group, logical block).

Locating walks the image once with generous caps; a seed that the parser cannot read whole
still gives the records found before the damage.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from dataclasses import dataclass, field, replace

from ext4guard.parser.blockmap import find_blocks
from ext4guard.parser.budget import Budget
from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.extents import walk_extent_tree
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.group_desc import backup_groups, descriptor_offset, group_first_block
from ext4guard.parser.image import Image
from ext4guard.parser.inode import FL_INDEX, ROOT_INO, Inode, inode_checksum_seed
from ext4guard.parser.mapping import MappingKind, file_mappings
from ext4guard.parser.superblock import SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, Superblock

from .memimage import image_fd

SUPERBLOCK = "superblock"
GROUP_DESC = "group_desc"
BLOCK_BITMAP = "block_bitmap"
INODE_BITMAP = "inode_bitmap"
INODE = "inode"
EXTENT_NODE = "extent_node"
INDIRECT = "indirect"
DIR_BLOCK = "dir_block"
XATTR_BLOCK = "xattr_block"
JOURNAL = "journal"

KINDS = (
    SUPERBLOCK,
    GROUP_DESC,
    BLOCK_BITMAP,
    INODE_BITMAP,
    INODE,
    EXTENT_NODE,
    INDIRECT,
    DIR_BLOCK,
    XATTR_BLOCK,
    JOURNAL,
)

#: Caps that keep locating cheap on every seed (ext4_largedir has 47,000 names).
MAX_WALK = 4000
MAX_DIR_BLOCKS_PER_DIR = 32
MAX_JOURNAL_BLOCKS = 4


@dataclass(frozen=True, slots=True)
class Record:
    """One metadata record at a fixed place in the image."""

    kind: str
    offset: int  # bytes from the image start
    length: int
    block: int  # the filesystem block holding the record's first byte
    ino: int = 0  # owner inode (inode records: the inode itself)
    group: int = -1  # block group (descriptors, bitmaps, superblock copies)
    parent: int = 0  # the block it hangs from (extent node / indirect), or the parent dir
    logical: int = -1  # logical block in the owner (dir blocks, journal blocks)
    htree: bool = False  # a directory block of an indexed (htree) directory

    @property
    def end(self) -> int:
        return self.offset + self.length


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the metadata of one healthy image lives."""

    sb: Superblock
    size: int
    records: tuple[Record, ...]
    #: inode number -> offset of its record (the checksum seed needs its generation)
    inode_offsets: dict[int, int]
    #: directory inode -> its parent directory inode (".." as the walk found it)
    parents: dict[int, int]
    #: blocks holding metadata (pointer-into-metadata values), sorted
    metadata_blocks: tuple[int, ...]
    _starts: tuple[int, ...] = field(init=False, repr=False)
    _by_kind: dict[str, tuple[Record, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.records, key=lambda r: (r.offset, r.length)))
        object.__setattr__(self, "records", ordered)
        object.__setattr__(self, "_starts", tuple(r.offset for r in ordered))
        by_kind: dict[str, list[Record]] = {kind: [] for kind in KINDS}
        for record in ordered:
            by_kind[record.kind].append(record)
        object.__setattr__(self, "_by_kind", {k: tuple(v) for k, v in by_kind.items()})

    @property
    def block_size(self) -> int:
        return self.sb.block_size

    def of_kind(self, kind: str) -> tuple[Record, ...]:
        return self._by_kind.get(kind, ())

    def overlapping(self, start: int, end: int) -> list[Record]:
        """Records with a byte in [start, end)."""
        # No record is longer than a block: look back one block's worth of starts.
        first = bisect_right(self._starts, start - self.sb.block_size - 1)
        last = bisect_right(self._starts, end - 1)
        return [r for r in self.records[first:last] if r.offset < end and r.end > start]


class _Collector:
    __slots__ = ("fs", "inode_offsets", "parents", "records", "seen")

    def __init__(self, fs: Filesystem) -> None:
        self.fs = fs
        self.records: list[Record] = []
        self.seen: set[tuple[str, int]] = set()
        self.inode_offsets: dict[int, int] = {}
        self.parents: dict[int, int] = {ROOT_INO: ROOT_INO}

    def add(self, record: Record) -> None:
        key = (record.kind, record.offset)
        if key not in self.seen:
            self.seen.add(key)
            self.records.append(record)

    def block(self, kind: str, block: int, **extra: int | bool) -> None:
        bs = self.fs.superblock.block_size
        self.add(Record(kind, block * bs, bs, block, **extra))  # type: ignore[arg-type]


def _geometry(col: _Collector) -> None:
    fs, sb = col.fs, col.fs.superblock
    bs = sb.block_size
    primary = SUPERBLOCK_OFFSET // bs
    col.add(Record(SUPERBLOCK, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, primary, group=0))
    for group in backup_groups(sb):
        block = group_first_block(sb, group)
        col.add(Record(SUPERBLOCK, block * bs, SUPERBLOCK_SIZE, block, group=group))
    for group in range(sb.group_count):
        offset = descriptor_offset(sb, group)
        col.add(Record(GROUP_DESC, offset, sb.desc_size, offset // bs, group=group))
        try:
            desc = fs.group(group)
        except Ext4Error:
            continue
        if not desc.block_uninit:
            col.block(BLOCK_BITMAP, desc.block_bitmap, group=group)
        if not desc.inode_uninit:
            col.block(INODE_BITMAP, desc.inode_bitmap, group=group)


def _inode_record(col: _Collector, ino: int) -> Inode | None:
    fs, sb = col.fs, col.fs.superblock
    try:
        inode = fs.inode(ino)
        desc = fs.group((ino - 1) // sb.inodes_per_group)
    except Ext4Error:
        return None
    offset = desc.inode_table * sb.block_size + (ino - 1) % sb.inodes_per_group * sb.inode_size
    col.inode_offsets[ino] = offset
    col.add(
        Record(
            INODE,
            offset,
            sb.inode_size,
            offset // sb.block_size,
            ino=ino,
            parent=col.parents.get(ino, 0),
        )
    )
    return inode


def _mapping_blocks(col: _Collector, inode: Inode) -> None:
    """Extent nodes or indirect blocks of one inode, with the block each hangs from."""
    fs, sb = col.fs, col.fs.superblock
    if inode.has_inline_data or inode.file_type not in ("reg", "dir", "lnk"):
        return
    try:
        if inode.uses_extents:
            seed = inode_checksum_seed(sb, inode) if sb.has_metadata_csum else None
            tree = walk_extent_tree(fs, inode, Budget(), csum_seed=seed)
            for block in tree.tree_blocks:
                col.block(EXTENT_NODE, block, ino=inode.ino)
        elif inode.size > 60 or inode.file_type != "lnk":
            indirect: list[int] = []
            find_blocks(fs, inode, 0, 1 << 32, Budget(), indirect)
            for block in indirect:
                col.block(INDIRECT, block, ino=inode.ino)
    except Ext4Error:
        return


def _directory_blocks(col: _Collector, inode: Inode) -> None:
    fs, sb = col.fs, col.fs.superblock
    if inode.has_inline_data:
        return
    indexed = bool(inode.flags & FL_INDEX) and "dir_index" in sb.compat
    count = -(-inode.size // sb.block_size)
    try:
        mappings = file_mappings(fs, inode, 0, count, Budget())
    except Ext4Error:
        return
    taken = 0
    for mapping in mappings:
        if mapping.kind is not MappingKind.MAPPED or mapping.physical_block is None:
            continue
        for i in range(min(mapping.length_blocks, MAX_DIR_BLOCKS_PER_DIR - taken)):
            col.block(
                DIR_BLOCK,
                mapping.physical_block + i,
                ino=inode.ino,
                parent=col.parents.get(inode.ino, 0),
                logical=mapping.logical_block + i,
                htree=indexed,
            )
            taken += 1


def _journal(col: _Collector) -> None:
    fs, sb = col.fs, col.fs.superblock
    if "has_journal" not in sb.compat or not sb.journal_inum or sb.journal_dev:
        return
    inode = _inode_record(col, sb.journal_inum)
    if inode is None:
        return
    try:
        mappings = file_mappings(fs, inode, 0, MAX_JOURNAL_BLOCKS, Budget())
    except Ext4Error:
        return
    for mapping in mappings:
        if mapping.kind is MappingKind.MAPPED and mapping.physical_block is not None:
            for i in range(mapping.length_blocks):
                col.block(
                    JOURNAL,
                    mapping.physical_block + i,
                    ino=inode.ino,
                    logical=mapping.logical_block + i,
                )


def _metadata_blocks(layout_records: list[Record], sb: Superblock) -> tuple[int, ...]:
    blocks = {r.block for r in layout_records if r.kind != JOURNAL}
    return tuple(sorted(b for b in blocks if b < sb.blocks_count))


def locate_fs(fs: Filesystem, size: int) -> Layout:
    """The layout of the image `fs` reads (healthy: damage just ends the search there)."""
    col = _Collector(fs)
    sb = fs.superblock
    _geometry(col)
    # Reserved inodes in use (root, resize, journal, lost+found's neighbours...).
    for ino in range(1, min(sb.first_ino, sb.inodes_count + 1)):
        inode = _inode_record(col, ino)
        if inode is not None and inode.mode:
            _mapping_blocks(col, inode)
    _journal(col)
    dirs: list[int] = [ROOT_INO]
    path_inode: dict[bytes, int] = {b"": ROOT_INO}
    walked: set[int] = set()  # hard links: one inode met under several names
    try:
        for item in itertools.islice(fs.walk(), MAX_WALK):
            if isinstance(item, Ext4Error):
                continue
            path, entry = item
            path_inode[path] = entry.inode
            col.parents.setdefault(entry.inode, path_inode.get(path.rsplit(b"/", 1)[0], 0))
            if entry.inode in walked:
                continue
            walked.add(entry.inode)
            inode = _inode_record(col, entry.inode)
            if inode is None:
                continue
            if inode.is_dir:
                dirs.append(inode.ino)
            _mapping_blocks(col, inode)
            if inode.file_acl:
                col.block(XATTR_BLOCK, inode.file_acl, ino=inode.ino)
    except Ext4Error:
        pass
    for ino in dirs:
        try:
            inode = fs.inode(ino)
        except Ext4Error:
            continue
        _directory_blocks(col, inode)
    # Inodes and directory blocks hang from their parent directory (the root from itself),
    # known only once the walk is done.
    records = [
        replace(r, parent=col.parents.get(r.ino, r.parent)) if r.kind in (INODE, DIR_BLOCK) else r
        for r in col.records
        if r.end <= size
    ]
    return Layout(
        sb=sb,
        size=size,
        records=tuple(records),
        inode_offsets=dict(col.inode_offsets),
        parents=dict(col.parents),
        metadata_blocks=_metadata_blocks(records, sb),
    )


def locate(data: bytes) -> Layout:
    """The layout of a healthy image given as bytes. Raises Ext4Error if it cannot open."""
    with image_fd(data) as fd, Filesystem(Image(fd)) as fs:
        return locate_fs(fs, len(data))
