"""The structure-aware mutator: records found where e2fsprogs says they are, checksums fixed
so that e2fsprogs accepts the mutated image, and left broken (and reported) in no-fix mode.

Each checksum case changes a field that e2fsck does not otherwise look at (a volume name, an
access time, the slack after a directory entry's name, free space in an xattr block, a
reserved descriptor word, journal superblock padding): with fixing `e2fsck -fn` is clean,
without it e2fsck reports the checksum. Records e2fsck cannot isolate that way (htree nodes,
bitmaps, extent blocks) are checked through the parser, which verifies every checksum.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest

from ext4guard.fuzz import mutators as M
from ext4guard.fuzz import records as R
from ext4guard.fuzz.memimage import image_fd
from ext4guard.fuzz.seeds import seed_bytes
from ext4guard.parser.bitmaps import read_block_bitmap, read_inode_bitmap
from ext4guard.parser.budget import Budget
from ext4guard.parser.check import check
from ext4guard.parser.errors import ChecksumMismatch, Ext4Error
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.image import Image
from tests.reference import e2fsprogs as E
from tests.seeds import seed_image

pytestmark = pytest.mark.skipif(not E.available(), reason="e2fsprogs not installed")

SEED = "ext4_1k"  # metadata_csum, htree, xattr blocks, a journal, 1 KiB blocks


@pytest.fixture(scope="module")
def raw() -> bytes:
    return seed_bytes(SEED)


@pytest.fixture(scope="module")
def layout(raw: bytes) -> R.Layout:
    return R.locate(raw)


def write(tmp_path: Path, data: bytes, name: str = "m.img") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------ records vs e2fsprogs


def test_records_are_where_e2fsprogs_says(layout: R.Layout) -> None:
    image = seed_image(SEED)
    groups = E.groups(image)
    assert len(layout.of_kind(R.GROUP_DESC)) == len(groups)
    bitmaps = {r.group: r.block for r in layout.of_kind(R.BLOCK_BITMAP)}
    inode_bitmaps = {r.group: r.block for r in layout.of_kind(R.INODE_BITMAP)}
    for g in groups:
        if g.number in bitmaps:
            assert bitmaps[g.number] == g.block_bitmap_at
        if g.number in inode_bitmaps:
            assert inode_bitmaps[g.number] == g.inode_bitmap_at
    root_blocks = {r.block for r in layout.of_kind(R.DIR_BLOCK) if r.ino == 2}
    assert E.dirblock(image, "/", 0) in root_blocks
    journal = {r.logical: r.block for r in layout.of_kind(R.JOURNAL)}
    assert journal[0] == E.bmap(image, "<8>", 0)
    for record in layout.of_kind(R.XATTR_BLOCK):
        assert E.inode_stat(image, f"<{record.ino}>").file_acl == record.block
    bs = layout.block_size
    for record in layout.of_kind(R.INODE)[:20]:
        table = groups[(record.ino - 1) // layout.sb.inodes_per_group].inode_table_at[0]
        index = (record.ino - 1) % layout.sb.inodes_per_group
        assert record.offset == table * bs + index * layout.sb.inode_size


# ----------------------------------------------------------- checksum fixing vs e2fsck


def _superblock_case(layout: R.Layout, raw: bytes) -> list[M.Op]:
    return [M.Overwrite(1024 + 0x78, b"fuzzed-name")]  # s_volume_name


def _inode_case(layout: R.Layout, raw: bytes) -> list[M.Op]:
    record = next(r for r in layout.of_kind(R.INODE) if r.ino > 11)
    return [M.SetField(record.offset + 0x08, 4, 1_234_567)]  # i_atime


def _desc_case(layout: R.Layout, raw: bytes) -> list[M.Op]:
    record = layout.of_kind(R.GROUP_DESC)[0]
    return [M.SetField(record.offset + 0x3C, 4, 0xA5A5A5A5)]  # bg_reserved (64-byte desc)


def _dir_leaf_case(layout: R.Layout, raw: bytes) -> list[M.Op]:
    """A byte of slack after the last name of a linear block (inside its rec_len)."""
    for record in layout.of_kind(R.DIR_BLOCK):
        if record.htree:
            continue
        off = 0
        block = raw[record.offset : record.end]
        while off + 8 <= record.length - 12:
            rec_len, name_len = struct.unpack_from("<HB", block, off + 4)
            used = (8 + name_len + 3) & ~3
            if rec_len - used >= 8 and off + rec_len <= record.length - 12:
                return [M.Overwrite(record.offset + off + used + 4, b"\xa5")]
            off += rec_len
    raise AssertionError("no linear directory block with slack")


def _xattr_case(layout: R.Layout, raw: bytes) -> list[M.Op]:
    """A byte of the free space between the entry table and the values."""
    record = layout.of_kind(R.XATTR_BLOCK)[0]
    block = raw[record.offset : record.end]
    off = 32
    lowest = record.length
    while block[off : off + 4] != b"\0\0\0\0":
        value_offs, _inum, value_size = struct.unpack_from("<HII", block, off + 2)
        if value_size:
            lowest = min(lowest, value_offs)
        off += (16 + block[off] + 3) & ~3
    assert lowest - (off + 4) >= 8
    return [M.Overwrite(record.offset + off + 8, b"\xa5")]


def _journal_case(layout: R.Layout, raw: bytes) -> list[M.Op]:
    """Turn on jbd2 csum v3 (crc32c) in the journal superblock: the fix must checksum it."""
    record = next(r for r in layout.of_kind(R.JOURNAL) if r.logical == 0)
    return [
        M.SetField(record.offset + 0x28, 4, 0x10, big_endian=True),  # incompat: CSUM_V3
        M.SetField(record.offset + 0x50, 1, 4),  # s_checksum_type: crc32c
    ]


#: What e2fsck -fn says about the unfixed mutation (lower case).
CASES = {
    "superblock": (_superblock_case, "superblock checksum does not match"),
    "inode": (_inode_case, "passes checks, but checksum does not match inode"),
    "group_desc": (_desc_case, "group descriptor 0 checksum is"),
    "dir_leaf": (_dir_leaf_case, "directory"),
    "xattr_block": (_xattr_case, "extended attribute"),
    "journal": (_journal_case, "journal superblock is corrupt"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fixed_mutation_passes_e2fsck_and_unfixed_fails(
    case: str, raw: bytes, layout: R.Layout, tmp_path: Path
) -> None:
    make, says = CASES[case]
    ops = make(layout, raw)
    fixed = M.apply(raw, layout, ops, fix=True)
    broken = M.apply(raw, layout, ops, fix=False)
    assert fixed != raw and broken != raw and fixed != broken
    good = E.e2fsck(write(tmp_path, fixed, "fixed.img"))
    assert good.returncode == 0, good.stdout[-2000:]
    assert "checksum" not in good.stdout.lower()
    bad = E.e2fsck(write(tmp_path, broken, "broken.img"))
    text = (bad.stdout + bad.stderr).lower()
    # e2fsck -n exits 0 for a descriptor checksum it was not allowed to fix: the message is
    # the evidence there.
    assert says in text, text[-2000:]


# -------------------------------------------------- checksum fixing vs the parser's checks


def _parser_checksum_findings(data: bytes) -> set[str]:
    """Structures whose checksum the parser rejects anywhere in the image (check + bitmaps)."""
    with image_fd(data) as fd, Filesystem(Image(fd)) as fs:
        found = {f.structure for f in check(fs).findings if isinstance(f, ChecksumMismatch)}
        for desc in fs.groups():
            if isinstance(desc, Ext4Error):
                continue
            for read in (read_block_bitmap, read_inode_bitmap):
                try:
                    read(fs, desc, Budget())
                except ChecksumMismatch as exc:
                    found.add(exc.structure)
    return found


def test_htree_root_and_bitmaps_fixed(raw: bytes, layout: R.Layout) -> None:
    root = next(r for r in layout.of_kind(R.DIR_BLOCK) if r.htree and r.logical == 0)
    bitmap = layout.of_kind(R.BLOCK_BITMAP)[0]
    ibitmap = layout.of_kind(R.INODE_BITMAP)[0]
    entry1 = root.offset + 0x28  # dx_entry 1's hash: its low bit only marks a collision
    ops: list[M.Op] = [
        M.SetField(entry1, 4, struct.unpack_from("<I", raw, entry1)[0] ^ 1),
        M.Overwrite(bitmap.offset + 5, bytes([raw[bitmap.offset + 5] ^ 0x10])),
        M.Overwrite(ibitmap.offset + 3, bytes([raw[ibitmap.offset + 3] ^ 0x01])),
    ]
    assert _parser_checksum_findings(M.apply(raw, layout, ops, fix=True)) == set()
    assert _htree_findings(M.apply(raw, layout, ops, fix=True), root.ino) == set()
    broken = M.apply(raw, layout, ops, fix=False)
    assert {"block bitmap", "inode bitmap"} <= _parser_checksum_findings(broken)
    assert _htree_findings(broken, root.ino) == {"htree node"}


def _htree_findings(data: bytes, ino: int) -> set[str]:
    with image_fd(data) as fd, Filesystem(Image(fd)) as fs:
        _entries, findings = fs.iterdir(ino)
    return {f.structure for f in findings if isinstance(f, ChecksumMismatch)}


def test_extent_node_fixed() -> None:
    """The extents target's two-level trees: the leaf's tail is fixed; a byte changed after
    the fix is reported as an extent block checksum."""
    from ext4guard.fuzz.targets import extents

    cands = extents.TARGET.candidates
    index, cand = next((i, c) for i, c in enumerate(cands) if c.layout.sb.has_metadata_csum)
    prepared = extents.TARGET.prepare(bytes([index, 0]) + cand.initial)
    assert prepared is not None
    _, patches = prepared
    leaf_offset, _ = cand.windows[1]
    broken = [*patches, (leaf_offset + 12 + 12 * 30, b"\xa5")]  # an unused leaf slot
    for extra, expect in ((patches, None), (broken, "extent block")):
        with cand.template.spliced(extra) as fd, Filesystem(Image(fd)) as fs:
            try:
                fs.read(cand.record.ino, 0, 1 << 20)
                got = None
            except ChecksumMismatch as exc:
                got = exc.structure
        assert got == expect


# ------------------------------------------------------------------- the operations


def test_patch_of_round_trip(raw: bytes, layout: R.Layout) -> None:
    rng = random.Random(7)
    for _ in range(20):
        ops = [op for op in M.generate_ops(layout, raw, M.RandomChooser(rng), 3)]
        ops = [op for op in ops if not isinstance(op, M.Truncate)]
        mutated = M.apply(raw, layout, ops, fix=True)
        patch = M.patch_of(raw, mutated)
        rebuilt = bytearray(raw)
        for at, data in patch.items():
            rebuilt[at : at + len(data)] = data
        assert bytes(rebuilt) == mutated


def test_unfixed_changes_only_the_mutated_bytes(raw: bytes, layout: R.Layout) -> None:
    rng = random.Random(3)
    for _ in range(30):
        op = M.generate_op(layout, raw, M.RandomChooser(rng))
        if not isinstance(op, M.SetField | M.Overwrite):
            continue
        mutated = M.apply(raw, layout, [op], fix=False)
        width = op.width if isinstance(op, M.SetField) else len(op.data)
        for at in M.patch_of(raw, mutated):
            assert op.offset <= at < op.offset + width


def test_boundary_values_include_pointers_to_self_ancestor_and_past_end(
    layout: R.Layout, raw: bytes
) -> None:
    record = next(r for r in layout.of_kind(R.DIR_BLOCK) if r.ino != 2)
    field = M.Field(record.offset, 4, "block")
    values = M.boundary_values(layout, record, field, 0)
    sb = layout.sb
    assert {0, 1, 0xFFFFFFFF, record.block, sb.blocks_count, sb.blocks_count + 1} <= set(values)
    parent_table_block = layout.inode_offsets[layout.parents[record.ino]] // layout.block_size
    assert parent_table_block in values
    assert set(layout.metadata_blocks) & set(values)


def test_custom_mutator_is_deterministic_and_falls_back(raw: bytes) -> None:
    mutator = M.StructureMutator([raw])
    a = mutator(raw, len(raw), 42)
    assert a == mutator(raw, len(raw), 42)
    assert a != raw or mutator(raw, len(raw), 43) != raw
    stranger = bytes(4096)
    assert len(mutator(stranger, 4096, 1)) == 4096
    assert mutator.layout_of(stranger) is None
