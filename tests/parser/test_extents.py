"""Extent trees (parser/extents.py): hand-made corruption, each a typed error, plus fuzzing.

A small ext4 image (1 KiB blocks, metadata_csum) made by mke2fs -d holds a contiguous file.
Each case replaces that file's i_block with a crafted root (fixing the inode checksum) and
writes crafted nodes, with correct tail checksums unless the case is about the checksum,
into free blocks at the end of the filesystem, so that the structural check under test is
the one that is reached. The rules are those of "Extent Tree" in the kernel's ext4 docs and
of `__ext4_ext_check` / `ext4_find_extent`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext4guard.parser.blocks import BlockOutOfRange
from ext4guard.parser.budget import Budget
from ext4guard.parser.checksum import crc32c_raw
from ext4guard.parser.errors import ChecksumMismatch, Corruption, Ext4Error
from ext4guard.parser.extents import (
    ExtentBadEntry,
    ExtentBadHeader,
    ExtentCycle,
    ExtentDepthMismatch,
    ExtentOrder,
    ExtentOverlap,
    find_extents,
    walk_extent_tree,
)
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import inode_checksum, inode_location
from ext4guard.parser.mapping import MappingKind, file_mappings, inode_checksum_seed, read_file
from tests.reference import e2fsprogs as E

pytestmark = pytest.mark.skipif(not E.available(), reason="e2fsprogs not installed")

BS = 1024
FILE_BLOCKS = 40
MAGIC = 0xF30A


# ------------------------------------------------------------------------------------------
# crafting nodes and patching the image
# ------------------------------------------------------------------------------------------


def idx(ei_block: int, leaf: int) -> bytes:
    return struct.pack("<IIHH", ei_block, leaf & 0xFFFFFFFF, leaf >> 32, 0)


def ext(ee_block: int, ee_len: int, start: int) -> bytes:
    return struct.pack("<IHHI", ee_block, ee_len, start >> 32, start & 0xFFFFFFFF)


def node(
    depth: int,
    entries: list[bytes],
    size: int,
    *,
    eh_max: int | None = None,
    eh_entries: int | None = None,
    magic: int = MAGIC,
    seed: int | None = None,
    bad_csum: bool = False,
) -> bytes:
    """One node of `size` bytes (60 for a root); a block node gets its tail checksum."""
    capacity = (size - 12) // 12
    eh_max = capacity if eh_max is None else eh_max
    count = len(entries) if eh_entries is None else eh_entries
    body = struct.pack("<HHHHI", magic, count, eh_max, depth, 0) + b"".join(entries)
    body = body.ljust(size, b"\0")[:size]
    if seed is not None and size > 60:
        tail = 12 + 12 * eh_max
        csum = crc32c_raw(seed, body[:tail]) ^ (1 if bad_csum else 0)
        body = body[:tail] + struct.pack("<I", csum) + body[tail + 4 :]
    return body


@dataclasses.dataclass
class Base:
    img: Path
    ino: int
    data: bytes
    start: int  # first physical block of the contiguous file
    seed: int  # the inode's checksum seed
    blocks_count: int
    frag_ino: int  # a file with a depth-1 tree (one leaf block)

    @property
    def free(self) -> list[int]:
        """Blocks at the very end of the filesystem, which mke2fs left unused."""
        return [self.blocks_count - 1 - n for n in range(8)]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    root = tmp_path_factory.mktemp("extcorrupt")
    src = root / "src"
    src.mkdir()
    data = bytes((n * 7 + n // 1024) & 0xFF or 1 for n in range(FILE_BLOCKS * BS))
    (src / "f").write_bytes(data)
    big = bytes((n * 13) & 0xFF or 1 for n in range(300 * BS))
    (src / "frag").write_bytes(big)
    img = root / "base.img"
    subprocess.run(
        ["mke2fs", "-q", "-F", "-t", "ext4", "-b", str(BS), "-d", str(src), str(img), "8M"],
        check=True,
        capture_output=True,
    )
    # A depth-1 tree for the fuzzing test: punch every third block of /frag.
    requests = "\n".join(f"punch /frag {b} {b}" for b in range(1, 300, 3))
    subprocess.run(
        ["debugfs", "-w", "-f", "/dev/stdin", str(img)],
        input=requests.encode(),
        check=True,
        capture_output=True,
    )
    ino = E.inode_stat(img, "/f").inode
    (row,) = [r for r in E.extents(img, "/f") if r.is_leaf]
    with Filesystem.open(img) as fs:
        inode = fs.inode(ino)
        seed = inode_checksum_seed(fs.superblock, inode)
        blocks_count = fs.superblock.blocks_count
    assert not any(E.testb(img, blocks_count - 8, 8).values())
    frag_ino = E.inode_stat(img, "/frag").inode
    assert E.extents(img, frag_ino)[0].max_depth == 1
    return Base(img, ino, data, row.physical_start, seed, blocks_count, frag_ino)


def _inode_offset(fs: Filesystem, ino: int) -> int:
    group, index = inode_location(fs.superblock, ino)
    return fs.group(group).inode_table * fs.superblock.block_size + index * fs.superblock.inode_size


def patch_inode(img: Path, ino: int, i_block: bytes) -> None:
    """Replace the inode's i_block and recompute its checksum (lo and hi halves)."""
    assert len(i_block) == 60
    with Filesystem.open(img) as fs:
        offset = _inode_offset(fs, ino)
        size = fs.superblock.inode_size
        sb = fs.superblock
    with open(img, "r+b") as f:
        f.seek(offset)
        raw = bytearray(f.read(size))
        raw[0x28:0x64] = i_block
        generation = int.from_bytes(raw[0x64:0x68], "little")
        _, computed = inode_checksum(sb, ino, generation, bytes(raw))
        raw[0x7C:0x7E] = (computed & 0xFFFF).to_bytes(2, "little")
        if size > 128 and 128 + int.from_bytes(raw[0x80:0x82], "little") >= 0x84:
            raw[0x82:0x84] = (computed >> 16).to_bytes(2, "little")
        f.seek(offset)
        f.write(raw)


def write_block(img: Path, block: int, data: bytes) -> None:
    assert len(data) == BS
    with open(img, "r+b") as f:
        f.seek(block * BS)
        f.write(data)


# ------------------------------------------------------------------------------------------
# cases: (root, {block: node}) built from the base's geometry, and the error expected
# ------------------------------------------------------------------------------------------

Case = Callable[[Base], tuple[bytes, dict[int, bytes]]]


def _leaf_root(
    *entries: bytes, eh_max: int | None = None, eh_entries: int | None = None, magic: int = MAGIC
) -> bytes:
    return node(0, list(entries), 60, eh_max=eh_max, eh_entries=eh_entries, magic=magic)


CASES: dict[str, tuple[Case, type[Corruption]]] = {
    "bad_magic": (lambda b: (_leaf_root(ext(0, 40, b.start), magic=0xF30B), {}), ExtentBadHeader),
    "eh_max_over_capacity": (
        lambda b: (_leaf_root(ext(0, 40, b.start), eh_max=5), {}),
        ExtentBadHeader,
    ),
    "entries_over_max": (
        lambda b: (_leaf_root(ext(0, 40, b.start), eh_max=2, eh_entries=3), {}),
        ExtentBadHeader,
    ),
    "index_without_entries": (lambda b: (node(1, [], 60), {}), ExtentBadHeader),
    "root_too_deep": (lambda b: (node(6, [idx(0, b.free[0])], 60), {}), ExtentDepthMismatch),
    "depth_mismatch": (
        lambda b: (
            node(1, [idx(0, b.free[0])], 60),
            {b.free[0]: node(1, [idx(0, b.free[1])], BS, seed=b.seed)},
        ),
        ExtentDepthMismatch,
    ),
    "keys_out_of_order": (
        lambda b: (_leaf_root(ext(20, 20, b.start + 20), ext(0, 20, b.start)), {}),
        ExtentOrder,
    ),
    "index_keys_out_of_order": (
        lambda b: (
            node(1, [idx(10, b.free[0]), idx(10, b.free[1])], 60),
            {
                b.free[0]: node(0, [ext(10, 5, b.start)], BS, seed=b.seed),
                b.free[1]: node(0, [ext(20, 5, b.start)], BS, seed=b.seed),
            },
        ),
        ExtentOrder,
    ),
    "child_key_below_parent": (
        lambda b: (
            node(1, [idx(10, b.free[0])], 60),
            {b.free[0]: node(0, [ext(5, 10, b.start)], BS, seed=b.seed)},
        ),
        ExtentOrder,
    ),
    "overlap": (
        lambda b: (_leaf_root(ext(0, 10, b.start), ext(5, 5, b.start + 20)), {}),
        ExtentOverlap,
    ),
    "overlap_next_leaf": (
        lambda b: (
            node(1, [idx(0, b.free[0]), idx(10, b.free[1])], 60),
            {
                b.free[0]: node(0, [ext(0, 20, b.start)], BS, seed=b.seed),
                b.free[1]: node(0, [ext(20, 5, b.start)], BS, seed=b.seed),
            },
        ),
        ExtentOverlap,
    ),
    "zero_length": (lambda b: (_leaf_root(ext(0, 0, b.start)), {}), ExtentBadEntry),
    "past_2_32": (lambda b: (_leaf_root(ext(0xFFFFFFFE, 5, b.start)), {}), ExtentBadEntry),
    "index_points_at_itself": (
        lambda b: (
            node(2, [idx(0, b.free[0])], 60),
            {b.free[0]: node(1, [idx(0, b.free[0])], BS, seed=b.seed)},
        ),
        ExtentCycle,
    ),
    "index_points_at_ancestor": (
        lambda b: (
            node(3, [idx(0, b.free[0])], 60),
            {
                b.free[0]: node(2, [idx(0, b.free[1])], BS, seed=b.seed),
                b.free[1]: node(1, [idx(0, b.free[0])], BS, seed=b.seed),
            },
        ),
        ExtentCycle,
    ),
    "index_past_end": (
        lambda b: (node(1, [idx(0, b.blocks_count + 5)], 60), {}),
        BlockOutOfRange,
    ),
    "index_into_superblock": (lambda b: (node(1, [idx(0, 1)], 60), {}), BlockOutOfRange),
    "extent_past_end": (
        lambda b: (_leaf_root(ext(0, 10, b.blocks_count - 2)), {}),
        BlockOutOfRange,
    ),
    "extent_48bit_start": (lambda b: (_leaf_root(ext(0, 10, 1 << 40)), {}), BlockOutOfRange),
    "bad_block_checksum": (
        lambda b: (
            node(1, [idx(0, b.free[0])], 60),
            {b.free[0]: node(0, [ext(0, 40, b.start)], BS, seed=b.seed, bad_csum=True)},
        ),
        ChecksumMismatch,
    ),
}


@pytest.fixture
def work(base: Base, tmp_path: Path) -> Base:
    img = tmp_path / "work.img"
    shutil.copyfile(base.img, img)
    return dataclasses.replace(base, img=img)


def _apply(work: Base, case: Case) -> None:
    root, blocks = case(work)
    for block, data in blocks.items():
        write_block(work.img, block, data)
    patch_inode(work.img, work.ino, root)


@pytest.mark.parametrize("name", sorted(CASES))
def test_corruption_is_typed(work: Base, name: str) -> None:
    case, expected = CASES[name]
    _apply(work, case)
    with Filesystem.open(work.img) as fs:
        inode = fs.inode(work.ino)  # the inode checksum was fixed: the tree is reached
        calls: list[Callable[[], object]] = [
            lambda: walk_extent_tree(fs, inode, Budget(), csum_seed=work.seed),
            lambda: file_mappings(fs, inode, 0, 1000, Budget()),
            lambda: read_file(fs, inode, 0, FILE_BLOCKS * BS, Budget()),
        ]
        for call in calls:
            with pytest.raises(expected) as info:
                call()
            assert info.value.where.inode == work.ino or expected is BlockOutOfRange
            if expected is ChecksumMismatch:
                assert info.value.structure == "extent block"
                assert info.value.where.block == work.free[0]


def test_crafted_depth_two_tree_reads_the_file(work: Base) -> None:
    """The crafting itself is right: a valid hand-made depth-2 tree maps the same bytes."""
    _apply(
        work,
        lambda b: (
            node(2, [idx(0, b.free[0])], 60),
            {
                b.free[0]: node(1, [idx(0, b.free[1]), idx(20, b.free[2])], BS, seed=b.seed),
                b.free[1]: node(0, [ext(0, 20, b.start)], BS, seed=b.seed),
                b.free[2]: node(0, [ext(20, 20, b.start + 20)], BS, seed=b.seed),
            },
        ),
    )
    with Filesystem.open(work.img) as fs:
        inode = fs.inode(work.ino)
        tree = walk_extent_tree(fs, inode, Budget(), csum_seed=work.seed)
        assert tree.depth == 2
        assert tree.tree_blocks == (work.free[0], work.free[1], work.free[2])
        assert read_file(fs, inode, 0, len(work.data), Budget()) == work.data
    with Filesystem.open(work.img) as fs:  # fresh: no node cached yet
        inode = fs.inode(work.ino)
        # A lookup reads only the path it needs: 2 blocks for one leaf, 3 across both.
        budget = Budget()
        find_extents(fs, inode, 25, 2, budget, csum_seed=work.seed)
        assert budget.blocks == Budget().blocks - 2
        kinds = [m.kind for m in file_mappings(fs, inode, 0, 50, Budget())]
        assert kinds == [MappingKind.MAPPED, MappingKind.MAPPED, MappingKind.HOLE]
    e2 = [(r.logical_start, r.length, r.physical_start) for r in E.extents(work.img, work.ino)]
    assert (0, 20, work.start) in e2 and (20, 20, work.start + 20) in e2


def test_budget_bounds_a_walk(work: Base) -> None:
    with Filesystem.open(work.img) as fs:
        frag = fs.inode(work.frag_ino)
        seed = inode_checksum_seed(fs.superblock, frag)
        with pytest.raises(Ext4Error, match="budget"):
            walk_extent_tree(fs, frag, Budget(entries=3), csum_seed=seed)


# ------------------------------------------------------------------------------------------
# fuzzing: mutate a real root and a real leaf block, only Ext4Error may escape
# ------------------------------------------------------------------------------------------

_mutations = st.lists(
    st.tuples(st.integers(0, BS - 1), st.integers(0, 255)), min_size=1, max_size=8
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(root_edits=_mutations, leaf_edits=_mutations, fix_csum=st.booleans())
def test_mutated_nodes_raise_only_ext4_errors(
    work: Base, root_edits: list[tuple[int, int]], leaf_edits: list[tuple[int, int]], fix_csum: bool
) -> None:
    with Filesystem.open(work.img) as fs:
        frag = fs.inode(work.frag_ino)
        seed = inode_checksum_seed(fs.superblock, frag)
        leaf_block = struct.unpack_from("<IIH", frag.i_block, 12 + 4)[0]
        original = fs.image.read(leaf_block * BS, BS)
        leaf = bytearray(original)
        for pos, value in leaf_edits:
            leaf[pos] = value
        if fix_csum:
            eh_max = min(int.from_bytes(leaf[4:6], "little"), (BS - 12) // 12)
            tail = 12 + 12 * eh_max
            leaf[tail : tail + 4] = struct.pack("<I", crc32c_raw(seed, bytes(leaf[:tail])))
        root = bytearray(frag.i_block)
        for pos, value in root_edits:
            root[pos % 60] = value
        fd = os.open(work.img, os.O_RDWR)
        try:
            os.pwrite(fd, bytes(leaf), leaf_block * BS)
            mutated = frag._replace(i_block=bytes(root))
            for first, count in [(0, 400), (150, 3), (0xFFFFFFF0, 100)]:
                try:
                    mappings = file_mappings(fs, mutated, first, count, Budget())
                except Ext4Error:
                    continue
                end = min(first + count, 1 << 32)
                assert mappings[0].logical_block == first and mappings[-1].logical_end == end
            with contextlib.suppress(Ext4Error):
                walk_extent_tree(fs, mutated, Budget(), csum_seed=seed)
        finally:
            os.pwrite(fd, original, leaf_block * BS)
            os.close(fd)
