"""Structure-aware mutation of ext4 images, shared by the atheris targets and hypothesis.

A mutation is a short list of operations on the image's bytes, aimed at the metadata records
that `fuzz.records.locate` found in a healthy seed:

- `SetField`: write a boundary value into a field of a record: 0, 1, the maximum, the old
  value off by one, a pointer into metadata, past the end of the filesystem, to the record's
  own block (itself), to the block or directory it hangs from (an ancestor);
- `Overwrite`: a few random bytes inside a record;
- `CopyRecord` / `SwapRecords`: duplicate a record over another of its kind, or swap two;
- `Truncate`: cut the image.

Then, unless asked not to, every checksum the mutation invalidated is recomputed with the
parser's checksum helpers ("Checksums" in the kernel's ext4 docs): superblock crc32c, group
descriptor crc16/crc32c, the bitmap checksums kept in the descriptors, inode crc32c lo/hi,
extent block tails, directory leaf tails, htree dx_tails, xattr blocks and the jbd2
superblock. A fixed mutation passes verification and reaches the code behind it; the
unfixed mode exercises the verification itself.

Choices come from a `Chooser`: `RandomChooser` for the atheris custom mutator (seeded by
libFuzzer), `strategy()` for hypothesis (draws, so examples shrink). Both call the same
`generate_ops` and `apply`.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from ext4guard.parser.bitmaps import bitmap_checksum
from ext4guard.parser.checksum import crc32c_raw, inode_csum_seed
from ext4guard.parser.dirent import dirblock_checksum, dirent_tail_checksum
from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.group_desc import descriptor_checksum
from ext4guard.parser.htree import (
    NODE_COUNT_OFFSET,
    ROOT_COUNT_OFFSET,
    dx_checksum,
    dx_node_limit,
    dx_root_limit,
)
from ext4guard.parser.inode import inode_checksum
from ext4guard.parser.superblock import Superblock
from ext4guard.parser.xattr import block_checksum as xattr_block_checksum

from . import records as R
from .records import Layout, Record

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

# ------------------------------------------------------------------------------ operations


@dataclass(frozen=True, slots=True)
class SetField:
    offset: int
    width: int  # bytes: 1, 2, 4 or 8
    value: int
    big_endian: bool = False


@dataclass(frozen=True, slots=True)
class Overwrite:
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class CopyRecord:
    src: int
    dst: int
    length: int


@dataclass(frozen=True, slots=True)
class SwapRecords:
    a: int
    b: int
    length: int


@dataclass(frozen=True, slots=True)
class Truncate:
    size: int


Op = SetField | Overwrite | CopyRecord | SwapRecords | Truncate


@dataclass(frozen=True, slots=True)
class Field:
    offset: int  # absolute, in the image
    width: int
    role: str  # block | inode | count | size | flags | shift | magic | len | other
    big_endian: bool = False


# -------------------------------------------------------------------------- the choosers


class Chooser(Protocol):
    def below(self, n: int) -> int:
        """A choice in [0, n) (n >= 1)."""
        ...

    def data(self, n: int) -> bytes:
        """n arbitrary bytes."""
        ...


class RandomChooser:
    __slots__ = ("rng",)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def below(self, n: int) -> int:
        return self.rng.randrange(n)

    def data(self, n: int) -> bytes:
        return self.rng.randbytes(n)


class _DrawChooser:
    __slots__ = ("draw", "st")

    def __init__(self, draw: Callable[[Any], Any], st: Any) -> None:
        self.draw = draw
        self.st = st

    def below(self, n: int) -> int:
        return int(self.draw(self.st.integers(0, n - 1)))

    def data(self, n: int) -> bytes:
        return bytes(self.draw(self.st.binary(min_size=n, max_size=n)))


# ---------------------------------------------------------------------- fields per record

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")

# Superblock fields (offset, width, role): "Super Block" in the kernel's ext4 docs.
_SUPERBLOCK_FIELDS = (
    (0x00, 4, "count"),  # s_inodes_count
    (0x04, 4, "count"),  # s_blocks_count_lo
    (0x08, 4, "count"),  # s_r_blocks_count_lo
    (0x0C, 4, "count"),  # s_free_blocks_count_lo
    (0x10, 4, "count"),  # s_free_inodes_count
    (0x14, 4, "block"),  # s_first_data_block
    (0x18, 4, "shift"),  # s_log_block_size
    (0x1C, 4, "shift"),  # s_log_cluster_size
    (0x20, 4, "count"),  # s_blocks_per_group
    (0x24, 4, "count"),  # s_clusters_per_group
    (0x28, 4, "count"),  # s_inodes_per_group
    (0x38, 2, "magic"),  # s_magic
    (0x3A, 2, "flags"),  # s_state
    (0x4C, 4, "count"),  # s_rev_level
    (0x54, 4, "inode"),  # s_first_ino
    (0x58, 2, "size"),  # s_inode_size
    (0x5C, 4, "flags"),  # s_feature_compat
    (0x60, 4, "flags"),  # s_feature_incompat
    (0x64, 4, "flags"),  # s_feature_ro_compat
    (0xCE, 2, "count"),  # s_reserved_gdt_blocks
    (0xE0, 4, "inode"),  # s_journal_inum
    (0xE8, 4, "inode"),  # s_last_orphan
    (0xFC, 1, "other"),  # s_def_hash_version
    (0xFE, 2, "size"),  # s_desc_size
    (0x104, 4, "count"),  # s_first_meta_bg
    (0x150, 4, "count"),  # s_blocks_count_hi
    (0x15C, 2, "size"),  # s_min_extra_isize
    (0x15E, 2, "size"),  # s_want_extra_isize
    (0x160, 4, "flags"),  # s_flags
    (0x174, 1, "shift"),  # s_log_groups_per_flex
    (0x175, 1, "other"),  # s_checksum_type
    (0x24C, 4, "count"),  # s_backup_bgs[0]
    (0x250, 4, "count"),  # s_backup_bgs[1]
    (0x27C, 2, "other"),  # s_encoding
)

# Group descriptor fields: "Block Group Descriptors".
_DESC_FIELDS = (
    (0x00, 4, "block"),  # bg_block_bitmap_lo
    (0x04, 4, "block"),  # bg_inode_bitmap_lo
    (0x08, 4, "block"),  # bg_inode_table_lo
    (0x0C, 2, "count"),  # bg_free_blocks_count_lo
    (0x0E, 2, "count"),  # bg_free_inodes_count_lo
    (0x10, 2, "count"),  # bg_used_dirs_count_lo
    (0x12, 2, "flags"),  # bg_flags
    (0x1C, 2, "count"),  # bg_itable_unused_lo
)
_DESC64_FIELDS = (
    (0x20, 4, "count"),  # bg_block_bitmap_hi
    (0x24, 4, "count"),  # bg_inode_bitmap_hi
    (0x28, 4, "count"),  # bg_inode_table_hi
    (0x32, 2, "count"),  # bg_itable_unused_hi
)

# Inode fields: "Index Nodes" (i_block is handled apart: extents, block map or data).
_INODE_FIELDS = (
    (0x00, 2, "flags"),  # i_mode
    (0x04, 4, "size"),  # i_size_lo
    (0x14, 4, "other"),  # i_dtime
    (0x1A, 2, "count"),  # i_links_count
    (0x1C, 4, "count"),  # i_blocks_lo
    (0x20, 4, "flags"),  # i_flags
    (0x64, 4, "other"),  # i_generation
    (0x68, 4, "block"),  # i_file_acl_lo
    (0x6C, 4, "size"),  # i_size_high
    (0x74, 2, "count"),  # i_blocks_high
    (0x76, 2, "count"),  # i_file_acl_high
)
_INODE_EXTRA = ((0x80, 2, "size"),)  # i_extra_isize

_JOURNAL_SB_FIELDS = (  # big-endian: "Journal (jbd2)", journal_superblock_t
    (0x00, 4, "magic"),  # h_magic
    (0x04, 4, "other"),  # h_blocktype
    (0x0C, 4, "size"),  # s_blocksize
    (0x10, 4, "count"),  # s_maxlen
    (0x14, 4, "block"),  # s_first
    (0x18, 4, "other"),  # s_sequence
    (0x1C, 4, "block"),  # s_start
    (0x24, 4, "flags"),  # s_feature_compat
    (0x28, 4, "flags"),  # s_feature_incompat
    (0x2C, 4, "flags"),  # s_feature_ro_compat
    (0x40, 4, "count"),  # s_nr_users
    (0x50, 1, "other"),  # s_checksum_type
)

_EXT_MAGIC = 0xF30A
_XATTR_MAGIC = 0xEA020000


def _table(base: int, table: Iterable[tuple[int, int, str]]) -> list[Field]:
    return [Field(base + off, width, role) for off, width, role in table]


def _extent_fields(base: int, raw: bytes | bytearray, area: int) -> list[Field]:
    """An extent header and its entries at raw[base:base + area] (i_block or a node)."""
    out = _table(base, ((0, 2, "magic"), (2, 2, "count"), (4, 2, "count"), (6, 2, "count")))
    if base + 8 > len(raw):
        return out
    magic, entries, _max, depth = struct.unpack_from("<HHHH", raw, base)
    if magic != _EXT_MAGIC:
        return out
    for i in range(min(entries, (area - 12) // 12)):
        at = base + 12 + 12 * i
        if depth:  # ei_block, ei_leaf_lo, ei_leaf_hi
            out += [Field(at, 4, "logical"), Field(at + 4, 4, "block"), Field(at + 8, 2, "count")]
        else:  # ee_block, ee_len, ee_start_hi, ee_start_lo
            out += [
                Field(at, 4, "logical"),
                Field(at + 4, 2, "len"),
                Field(at + 6, 2, "count"),
                Field(at + 8, 4, "block"),
            ]
    return out


def _xattr_entries(raw: bytes | bytearray, start: int, end: int) -> list[Field]:
    out: list[Field] = []
    at = start
    while at + 16 <= end and len(out) < 64 and raw[at : at + 4] != b"\0\0\0\0":
        out += [
            Field(at, 1, "len"),  # e_name_len
            Field(at + 1, 1, "other"),  # e_name_index
            Field(at + 2, 2, "size"),  # e_value_offs
            Field(at + 4, 4, "inode"),  # e_value_inum
            Field(at + 8, 4, "size"),  # e_value_size
            Field(at + 12, 4, "other"),  # e_hash
        ]
        at += (16 + raw[at] + 3) & ~3
    return out


def _dir_fields(layout: Layout, record: Record, raw: bytes | bytearray) -> list[Field]:
    base, bs = record.offset, record.length
    out: list[Field] = []
    at = 0
    # The dirents in the block, as a linear scan sees them (htree blocks start the same).
    while at + 8 <= bs and len(out) < 256:
        out += [
            Field(base + at, 4, "inode"),
            Field(base + at + 4, 2, "len"),  # rec_len
            Field(base + at + 6, 1, "len"),  # name_len
            Field(base + at + 7, 1, "other"),  # file_type
        ]
        rec_len = _U16.unpack_from(raw, base + at + 4)[0]
        if rec_len < 12:
            break
        at += rec_len
    if record.htree:
        if record.logical == 0:
            out += _table(
                base,
                (
                    (0x18, 4, "other"),  # dx_root_info.reserved_zero
                    (0x1C, 1, "other"),  # hash_version
                    (0x1D, 1, "len"),  # info_length
                    (0x1E, 1, "count"),  # indirect_levels
                    (0x1F, 1, "flags"),  # unused_flags
                ),
            )
            count_at = ROOT_COUNT_OFFSET
        else:
            count_at = NODE_COUNT_OFFSET
        out += [Field(base + count_at, 2, "count"), Field(base + count_at + 2, 2, "count")]
        count = _U16.unpack_from(raw, base + count_at + 2)[0]
        out.append(Field(base + count_at + 4, 4, "dxblock"))
        for i in range(1, min(count, (bs - count_at) // 8)):
            at = base + count_at + 8 * i
            out += [Field(at, 4, "hash"), Field(at + 4, 4, "dxblock")]
    return out


def fields(layout: Layout, record: Record, raw: bytes | bytearray) -> list[Field]:
    """The fields worth a boundary value in `record` of the image `raw`."""
    base = record.offset
    kind = record.kind
    if kind == R.SUPERBLOCK:
        return _table(base, _SUPERBLOCK_FIELDS)
    if kind == R.GROUP_DESC:
        extra = _DESC64_FIELDS if record.length >= 64 else ()
        return _table(base, (*_DESC_FIELDS, *extra))
    if kind == R.INODE:
        out = _table(base, _INODE_FIELDS)
        if record.length > 128:
            out += _table(base, _INODE_EXTRA)
        iblock = base + 0x28
        if raw[iblock : iblock + 2] == _EXT_MAGIC.to_bytes(2, "little"):
            out += _extent_fields(iblock, raw, 60)
        else:
            out += [Field(iblock + 4 * i, 4, "block") for i in range(15)]
        if record.length > 128:
            extra = _U16.unpack_from(raw, base + 0x80)[0]
            ibody = base + 128 + extra
            if ibody + 4 <= record.end and _U32.unpack_from(raw, ibody)[0] == _XATTR_MAGIC:
                out += _xattr_entries(raw, ibody + 4, record.end)
        return out
    if kind == R.EXTENT_NODE:
        return _extent_fields(base, raw, record.length)
    if kind == R.INDIRECT:
        return [Field(base + 4 * i, 4, "block") for i in range(min(record.length // 4, 64))]
    if kind == R.DIR_BLOCK:
        return _dir_fields(layout, record, raw)
    if kind == R.XATTR_BLOCK:
        head = _table(base, ((0, 4, "magic"), (4, 4, "count"), (8, 4, "count"), (12, 4, "other")))
        return head + _xattr_entries(raw, base + 32, record.end)
    if kind == R.JOURNAL and record.logical == 0:
        return [Field(base + o, w, role, True) for o, w, role in _JOURNAL_SB_FIELDS]
    # Bitmaps and other journal blocks: words of raw bits.
    return [Field(base + 4 * i, 4, "other") for i in range(min(record.length // 4, 32))]


_KNOWN_FLAGS = (
    0x2, 0x4, 0x8, 0x10, 0x40, 0x80, 0x200, 0x400, 0x1000, 0x2000, 0x8000, 0x10000, 0x20000,
    0x4000, 0x80000, 0x10000000, 0x40000000, 0x800, 0x100000, 0x200000,
)  # fmt: skip


def _ancestor_blocks(layout: Layout, record: Record) -> list[int]:
    """Blocks the record hangs from: its owner's inode-table block (the extent root or block
    map lives there) and its parent directory's."""
    bs = layout.block_size
    owners = (record.ino, layout.parents.get(record.ino, 0))
    return [layout.inode_offsets[ino] // bs for ino in owners if ino in layout.inode_offsets]


def boundary_values(layout: Layout, record: Record, fld: Field, old: int) -> list[int]:
    """Candidate values for one field: generic boundaries, then ones its role suggests."""
    top = (1 << (8 * fld.width)) - 1
    values = [0, 1, top, top - 1, old + 1, old - 1, 1 << (8 * fld.width - 1), old ^ 0x80]
    sb = layout.sb
    role = fld.role
    if role in ("block", "dxblock"):
        meta = layout.metadata_blocks
        values += [
            sb.blocks_count - 1,
            sb.blocks_count,  # past the end
            sb.blocks_count + 1,
            layout.size // sb.block_size,  # past the image end
            record.block,  # to itself
            *_ancestor_blocks(layout, record),
            sb.first_data_block,
            2,
        ]
        values += [meta[0], meta[len(meta) // 2], meta[-1]] if meta else []
        if role == "dxblock":
            values += [record.logical, record.logical + 1, 0x0FFFFFFF]
    elif role == "inode":
        parent = layout.parents.get(record.ino, 0)
        values += [2, 7, 8, 11, sb.first_ino - 1, sb.inodes_count, sb.inodes_count + 1]
        values += [record.ino, parent]  # itself, its ancestor
    elif role in ("count", "size", "len", "logical"):
        bs = sb.block_size
        values += [bs, bs - 1, bs + 1, bs // 4, 12, 8, 60, 128, 256, old * 2, 0xFFFF, 1 << 31]
    elif role == "shift":
        values += [2, 5, 6, 7, 16, 31, 32, 63, 64, 255]
    elif role == "flags":
        values += [old ^ bit for bit in _KNOWN_FLAGS] + [old | 0xFFFF0000]
    elif role == "hash":
        values += [old & ~1, old | 1, 0x7FFFFFFF, 0xFFFFFFFE]
    return [v & top for v in values]


# --------------------------------------------------------------------------- generating


def _records_by_kind(layout: Layout) -> list[tuple[Record, ...]]:
    return [recs for recs in (layout.of_kind(k) for k in R.KINDS) if recs]


def _pick_record(layout: Layout, ch: Chooser) -> Record:
    groups = _records_by_kind(layout)
    group = groups[ch.below(len(groups))]
    return group[ch.below(len(group))]


def _read_field(raw: bytes | bytearray, fld: Field) -> int:
    chunk = bytes(raw[fld.offset : fld.offset + fld.width])
    if len(chunk) < fld.width:
        return 0
    return int.from_bytes(chunk, "big" if fld.big_endian else "little")


def generate_op(
    layout: Layout, raw: bytes | bytearray, ch: Chooser, record: Record | None = None
) -> Op:
    """One operation, chosen with `ch`, on `record` or on any record of `layout`, in `raw`."""
    kind = ch.below(100)
    fixed = record is not None  # a record target: no truncation
    if record is None:
        record = _pick_record(layout, ch)
    if kind < 60:
        flds = [f for f in fields(layout, record, raw) if f.offset + f.width <= len(raw)]
        if flds:
            fld = flds[ch.below(len(flds))]
            values = boundary_values(layout, record, fld, _read_field(raw, fld))
            return SetField(fld.offset, fld.width, values[ch.below(len(values))], fld.big_endian)
    if kind < 85:
        width = 1 + ch.below(8)
        at = record.offset + ch.below(max(1, record.length - width + 1))
        return Overwrite(at, ch.data(width))
    if kind < 97 or fixed:
        peers = layout.of_kind(record.kind)
        other = peers[ch.below(len(peers))]
        length = min(record.length, other.length)
        if ch.below(2):
            return CopyRecord(other.offset, record.offset, length)
        return SwapRecords(other.offset, record.offset, length)
    # Truncate: at a block boundary, most often inside the filesystem's last groups.
    blocks = max(1, layout.size // layout.block_size)
    return Truncate(layout.block_size * (blocks - 1 - ch.below(min(blocks, 64))))


def generate_ops(layout: Layout, raw: bytes | bytearray, ch: Chooser, count: int) -> list[Op]:
    return [generate_op(layout, raw, ch) for _ in range(count)]


# ------------------------------------------------------------------------------ applying


def apply(raw: bytes, layout: Layout, ops: Sequence[Op], *, fix: bool = True) -> bytes:
    """`raw` with `ops` applied, then (with `fix`) every invalidated checksum recomputed."""
    buf = bytearray(raw)
    _dirty, cut = apply_in_place(buf, layout, ops, fix=fix, original=raw)
    del buf[cut:]
    return bytes(buf)


def apply_in_place(
    buf: bytearray, layout: Layout, ops: Sequence[Op], *, fix: bool, original: bytes
) -> tuple[list[tuple[int, int]], int]:
    """Apply `ops` to `buf` (and fix checksums); return the byte ranges written and the
    length a `Truncate` asks for. Truncation is left to the caller."""
    dirty: list[tuple[int, int]] = []
    cut = len(buf)
    for op in ops:
        if isinstance(op, SetField):
            if op.offset >= 0 and op.offset + op.width <= len(buf):
                top = (1 << (8 * op.width)) - 1
                value = op.value & top
                data = value.to_bytes(op.width, "big" if op.big_endian else "little")
                buf[op.offset : op.offset + op.width] = data
                dirty.append((op.offset, op.offset + op.width))
        elif isinstance(op, Overwrite):
            data = op.data[: max(0, len(buf) - op.offset)]
            if op.offset >= 0 and data:
                buf[op.offset : op.offset + len(data)] = data
                dirty.append((op.offset, op.offset + len(data)))
        elif isinstance(op, CopyRecord):
            if _in(buf, op.src, op.length) and _in(buf, op.dst, op.length):
                buf[op.dst : op.dst + op.length] = buf[op.src : op.src + op.length]
                dirty.append((op.dst, op.dst + op.length))
        elif isinstance(op, SwapRecords):
            if _in(buf, op.a, op.length) and _in(buf, op.b, op.length) and op.a != op.b:
                a = bytes(buf[op.a : op.a + op.length])
                buf[op.a : op.a + op.length] = buf[op.b : op.b + op.length]
                buf[op.b : op.b + op.length] = a
                dirty += [(op.a, op.a + op.length), (op.b, op.b + op.length)]
        elif isinstance(op, Truncate) and op.size >= 0:
            cut = min(cut, op.size)
    if fix:
        dirty += [(r.offset, r.end) for r in fix_checksums(buf, layout, dirty, original)]
    return dirty, cut


def _in(buf: bytearray, offset: int, length: int) -> bool:
    return offset >= 0 and offset + length <= len(buf) and length > 0


# ------------------------------------------------------------------------ checksum fixing

_FIX_ORDER = {
    R.BLOCK_BITMAP: 0,
    R.INODE_BITMAP: 0,
    R.INODE: 1,
    R.EXTENT_NODE: 2,
    R.INDIRECT: 2,
    R.DIR_BLOCK: 2,
    R.XATTR_BLOCK: 2,
    R.JOURNAL: 2,
    R.GROUP_DESC: 3,
    R.SUPERBLOCK: 4,
}


def _fs_seed(buf: bytearray, sb: Superblock) -> int:
    """The metadata_csum seed the mutated primary superblock gives (s_checksum_seed with
    INCOMPAT_CSUM_SEED, else crc32c of s_uuid), as the parser will derive it."""
    raw = buf[1024:2048]
    if len(raw) < 1024:
        return sb.checksum_seed
    if _U32.unpack_from(raw, 0x60)[0] & 0x2000:
        return int(_U32.unpack_from(raw, 0x270)[0])
    return crc32c_raw(0xFFFFFFFF, bytes(raw[0x68:0x78]))


def _inode_seed(buf: bytearray, layout: Layout, ino: int, fs_seed: int) -> int:
    offset = layout.inode_offsets.get(ino)
    generation = 0
    if offset is not None and offset + 0x68 <= len(buf):
        generation = _U32.unpack_from(buf, offset + 0x64)[0]
    return inode_csum_seed(fs_seed, ino, generation)


def fix_checksums(
    buf: bytearray, layout: Layout, dirty: Iterable[tuple[int, int]], original: bytes = b""
) -> list[Record]:
    """Recompute, in place, every checksum that covers a byte in a `dirty` range; return the
    records rewritten."""
    sb = layout.sb
    todo: dict[tuple[str, int], Record] = {}
    for start, end in dirty:
        for record in layout.overlapping(start, end):
            todo[(record.kind, record.offset)] = record
    if not todo:
        return []
    fs_seed = _fs_seed(buf, sb) if sb.has_metadata_csum else 0
    if fs_seed != sb.checksum_seed:
        sb = replace(sb, checksum_seed=fs_seed)
    # A new i_generation changes the seed of the inode's own blocks: refix them too.
    for record in list(todo.values()):
        if record.kind == R.INODE and original and _generation_changed(buf, original, record):
            for owned in layout.records:
                if owned.ino == record.ino and owned.kind in (R.EXTENT_NODE, R.DIR_BLOCK):
                    todo[(owned.kind, owned.offset)] = owned
    # A bitmap's checksum lives in its group's descriptor (recomputed there).
    bitmaps = [r for r in todo.values() if r.kind in (R.BLOCK_BITMAP, R.INODE_BITMAP)]
    if bitmaps:
        descs = {r.group: r for r in layout.of_kind(R.GROUP_DESC)}
        for record in bitmaps:
            desc = descs.get(record.group)
            if desc is not None:
                todo[(desc.kind, desc.offset)] = desc
    done: list[Record] = []
    for record in sorted(todo.values(), key=lambda r: (_FIX_ORDER[r.kind], r.offset)):
        if record.end <= len(buf):
            _FIXERS[record.kind](buf, layout, sb, record)
            done.append(record)
    return done


def _generation_changed(buf: bytearray, original: bytes, record: Record) -> bool:
    at = record.offset + 0x64
    return buf[at : at + 4] != original[at : at + 4]


def _fix_superblock(buf: bytearray, layout: Layout, sb: Superblock, record: Record) -> None:
    raw = buf[record.offset : record.offset + 1024]
    if _U32.unpack_from(raw, 0x64)[0] & 0x400:  # RO_COMPAT_METADATA_CSUM
        csum = crc32c_raw(0xFFFFFFFF, raw[:0x3FC])
        _U32.pack_into(buf, record.offset + 0x3FC, csum)


def _fix_desc(buf: bytearray, layout: Layout, sb: Superblock, record: Record) -> None:
    if sb.has_metadata_csum:
        # The bitmap checksums follow the bitmaps the (maybe moved) pointers now name.
        for pointer, nbits, lo, hi in (
            (0x00, sb.clusters_per_group, 0x18, 0x38),
            (0x04, sb.inodes_per_group, 0x1A, 0x3A),
        ):
            block = _U32.unpack_from(buf, record.offset + pointer)[0]
            if record.length >= 64:
                block |= _U32.unpack_from(buf, record.offset + 0x20 + pointer)[0] << 32
            start = block * sb.block_size
            if block > 0 and start + sb.block_size <= len(buf):
                csum = bitmap_checksum(sb, bytes(buf[start : start + sb.block_size]), nbits)
                _U16.pack_into(buf, record.offset + lo, csum & 0xFFFF)
                if record.length >= 0x3C:
                    _U16.pack_into(buf, record.offset + hi, csum >> 16)
    raw = bytes(buf[record.offset : record.end])
    expected = descriptor_checksum(sb, record.group, raw)
    if expected is not None:
        _U16.pack_into(buf, record.offset + 0x1E, expected)


def _fix_inode(buf: bytearray, layout: Layout, sb: Superblock, record: Record) -> None:
    if not sb.has_metadata_csum:
        return
    raw = bytes(buf[record.offset : record.end])
    _stored, csum = inode_checksum(sb, record.ino, _U32.unpack_from(raw, 0x64)[0], raw)
    _U16.pack_into(buf, record.offset + 0x7C, csum & 0xFFFF)
    if len(raw) > 128 and 128 + _U16.unpack_from(raw, 0x80)[0] >= 0x84:  # i_checksum_hi
        _U16.pack_into(buf, record.offset + 0x82, csum >> 16)


def _fix_extent_node(buf: bytearray, layout: Layout, sb: Superblock, record: Record) -> None:
    if not sb.has_metadata_csum:
        return
    magic, _entries, eh_max = struct.unpack_from("<HHH", buf, record.offset)
    tail = 12 + 12 * eh_max
    if magic != _EXT_MAGIC or tail + 4 > record.length:
        return
    seed = _inode_seed(buf, layout, record.ino, sb.checksum_seed)
    csum = crc32c_raw(seed, buf[record.offset : record.offset + tail])
    _U32.pack_into(buf, record.offset + tail, csum)


def _fix_dir_block(buf: bytearray, layout: Layout, sb: Superblock, record: Record) -> None:
    if not sb.has_metadata_csum:
        return
    block = bytes(buf[record.offset : record.end])
    bs = record.length
    seed = _inode_seed(buf, layout, record.ino, sb.checksum_seed)
    if dirent_tail_checksum(block) is not None:
        _U32.pack_into(buf, record.end - 4, dirblock_checksum(seed, block))
        return
    if block[0x1D] == 8 and _U16.unpack_from(block, 4)[0] == 12:  # a dx_root
        count_at, limit = ROOT_COUNT_OFFSET, dx_root_limit(bs, True)
    elif _U32.unpack_from(block, 0)[0] == 0 and _U16.unpack_from(block, 4)[0] in (bs, 0):
        count_at, limit = NODE_COUNT_OFFSET, dx_node_limit(bs, True)
    else:
        return
    count = _U16.unpack_from(block, count_at + 2)[0]
    tail = count_at + 8 * limit
    if 1 <= count <= limit and tail + 8 <= bs:
        csum = dx_checksum(seed, block, count_at, count, limit)
        _U32.pack_into(buf, record.offset + tail + 4, csum)


def _fix_xattr_block(buf: bytearray, layout: Layout, sb: Superblock, record: Record) -> None:
    if sb.has_metadata_csum:
        block = bytes(buf[record.offset : record.end])
        csum = xattr_block_checksum(sb.checksum_seed, record.block, block)
        _U32.pack_into(buf, record.offset + 16, csum)


def _fix_journal(buf: bytearray, layout: Layout, sb: Superblock, record: Record) -> None:
    """jbd2_superblock_csum: crc32c(~0, the 1024-byte superblock, s_checksum as zero)."""
    if record.logical != 0:
        return
    raw = bytearray(buf[record.offset : record.offset + 1024])
    blocktype = struct.unpack_from(">I", raw, 4)[0]
    incompat = struct.unpack_from(">I", raw, 0x28)[0]
    if blocktype == 4 and incompat & 0x18:  # superblock v2, CSUM_V2 | CSUM_V3
        raw[0xFC:0x100] = b"\0\0\0\0"
        struct.pack_into(">I", buf, record.offset + 0xFC, crc32c_raw(0xFFFFFFFF, raw))


def _no_checksum(buf: bytearray, layout: Layout, sb: Superblock, record: Record) -> None:
    return


_FIXERS: dict[str, Callable[[bytearray, Layout, Superblock, Record], None]] = {
    R.SUPERBLOCK: _fix_superblock,
    R.GROUP_DESC: _fix_desc,
    R.BLOCK_BITMAP: _no_checksum,
    R.INODE_BITMAP: _no_checksum,
    R.INODE: _fix_inode,
    R.EXTENT_NODE: _fix_extent_node,
    R.INDIRECT: _no_checksum,
    R.DIR_BLOCK: _fix_dir_block,
    R.XATTR_BLOCK: _fix_xattr_block,
    R.JOURNAL: _fix_journal,
}

__all__ = [
    "Chooser",
    "CopyRecord",
    "Field",
    "Op",
    "Overwrite",
    "RandomChooser",
    "SetField",
    "StructureMutator",
    "SwapRecords",
    "Truncate",
    "apply",
    "boundary_values",
    "fields",
    "fix_checksums",
    "generate_ops",
    "patch_of",
    "strategy",
]


# -------------------------------------------------------------------- the two front ends


class StructureMutator:
    """The atheris custom mutator: structure-aware when the input comes from a known seed.

    An input is recognised by its superblock UUID (mutations keep records where they were);
    anything else, and one mutation in four, goes to `byte_mutate` (atheris.Mutate, which
    knows the dictionary and libFuzzer's comparison feedback) -- applied to one record's
    bytes when the seed is known, so checksums can still be fixed behind it.
    """

    def __init__(
        self,
        seeds: Iterable[bytes],
        *,
        fix: bool = True,
        max_ops: int = 4,
        byte_mutate: Callable[[bytes, int], bytes] | None = None,
    ) -> None:
        self.fix = fix
        self.max_ops = max_ops
        self.byte_mutate = byte_mutate
        self.layouts: dict[bytes, Layout] = {}
        for raw in seeds:
            try:
                layout = R.locate(raw)
            except Ext4Error:
                continue
            self.layouts[layout.sb.uuid] = layout

    def layout_of(self, data: bytes) -> Layout | None:
        layout = self.layouts.get(bytes(data[0x468:0x478]))
        return layout if layout is not None and len(data) <= layout.size else None

    def __call__(self, data: bytes, max_size: int, seed: int) -> bytes:
        rng = random.Random(seed)
        layout = self.layout_of(data)
        if layout is None:
            if self.byte_mutate is not None:
                return self.byte_mutate(data, max_size)
            out = bytearray(data)
            if out:
                out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
            return bytes(out[:max_size])
        if self.byte_mutate is not None and rng.randrange(4) == 0:
            record = _pick_record(layout, RandomChooser(rng))
            if record.end <= len(data):
                chunk = self.byte_mutate(data[record.offset : record.end], record.length)
                chunk = chunk[: record.length].ljust(record.length, b"\0")
                ops: list[Op] = [Overwrite(record.offset, chunk)]
                return apply(data, layout, ops, fix=self.fix)[:max_size]
        ops = generate_ops(layout, data, RandomChooser(rng), 1 + rng.randrange(self.max_ops))
        return apply(data, layout, ops, fix=self.fix)[:max_size]


def strategy(layout: Layout, raw: bytes, *, max_ops: int = 3) -> SearchStrategy[list[Op]]:
    """A hypothesis strategy of operation lists for the image `raw` located as `layout`."""
    from hypothesis import strategies as st

    @st.composite
    def ops(draw: Any) -> list[Op]:
        ch = _DrawChooser(draw, st)
        return generate_ops(layout, raw, ch, 1 + ch.below(max_ops))

    result: SearchStrategy[list[Op]] = ops()
    return result


def patch_of(original: bytes, mutated: bytes) -> dict[int, bytes]:
    """The bytes `mutated` changes, as corpus/regressions' {offset: bytes} (same length)."""
    patch: dict[int, bytes] = {}
    if len(original) != len(mutated):
        raise ValueError("a truncated image is not a patch")
    at = 0
    view_a, view_b = memoryview(original), memoryview(mutated)
    size = len(original)
    step = 4096
    while at < size:
        if view_a[at : at + step] == view_b[at : at + step]:
            at += step
            continue
        end = min(size, at + step)
        i = at
        while i < end:
            if original[i] != mutated[i]:
                j = i
                while j < end and original[j] != mutated[j]:
                    j += 1
                patch[i] = bytes(mutated[i:j])
                i = j
            else:
                i += 1
        at = end
    return patch
