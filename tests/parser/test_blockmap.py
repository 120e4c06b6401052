"""ext2/ext3 block maps (parser/blockmap.py) against debugfs, the source bytes and the kernel.

A 1 KiB-block ext2 (and ext3) image holds a sparse file whose data reaches the direct, IND,
DIND and TIND ranges (the TIND range starts at 12 + 256 + 65536 blocks, about 64.3 MiB),
and a contiguous file that crosses from IND into DIND. Hand-made corruption: an indirect
pointer into the superblock or past the end, a double indirect block listing itself or one
indirect block twice. See "Direct/Indirect Block Addressing" in the kernel's ext4 docs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext4guard.parser.blockmap import BlockMapCycle, find_blocks
from ext4guard.parser.blocks import BlockOutOfRange
from ext4guard.parser.budget import Budget
from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import inode_location
from ext4guard.parser.mapping import MappingKind, file_mappings, read_file
from tests.reference import e2fsprogs as E

pytestmark = pytest.mark.skipif(not E.available(), reason="e2fsprogs not installed")

BS = 1024
PIECES = {0: 5000, 200 * BS: 3000, 10 << 20: 2048, 70 << 20: 4096}  # offset -> length


def _content(seed: int, n: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < n:
        counter += 1
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
    return bytes(out[:n])


@dataclasses.dataclass
class Built:
    img: Path
    files: dict[str, bytes]


@pytest.fixture(scope="module", params=["ext2", "ext3"])
def blockmap_img(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp(f"bmap-{request.param}")
    src = root / "src"
    src.mkdir()
    sparse_size = (70 << 20) + 4096 + 10
    sparse = bytearray(sparse_size)
    for n, (offset, length) in enumerate(PIECES.items()):
        sparse[offset : offset + length] = _content(n, length)
    with open(src / "sparse", "wb") as f:
        for offset, length in PIECES.items():
            f.seek(offset)
            f.write(sparse[offset : offset + length])
        f.truncate(sparse_size)
    contig = _content(99, 500 * BS + 17)
    (src / "contig").write_bytes(contig)
    (src / "empty").write_bytes(b"")
    img = root / "img"
    subprocess.run(
        ["mke2fs", "-q", "-F", "-t", request.param, "-b", str(BS), "-d", str(src), str(img), "8M"],
        check=True,
        capture_output=True,
    )
    return Built(img, {"/sparse": bytes(sparse), "/contig": contig, "/empty": b""})


def _ino(img: Path, path: str) -> int:
    return E.inode_stat(img, path).inode


def _debugfs_map(img: Path, path: str) -> tuple[dict[int, int], set[str]]:
    """logical -> physical for every data block, and the kinds of indirect blocks seen."""
    stat = E.inode_stat(img, path)
    mapping: dict[int, int] = {}
    kinds: set[str] = set()
    for span in stat.blocks or ():
        if span.kind != "data":
            kinds.add(span.kind)
            continue
        assert span.logical_start is not None and span.logical_end is not None
        for n in range(span.logical_end - span.logical_start + 1):
            mapping[span.logical_start + n] = span.physical_start + n
    return mapping, kinds


@pytest.mark.parametrize("path", ["/sparse", "/contig", "/empty"])
def test_mappings_match_debugfs(blockmap_img: Built, path: str) -> None:
    img = blockmap_img.img
    want, kinds = _debugfs_map(img, path)
    if path == "/sparse":
        assert {"IND", "DIND", "TIND"} <= kinds
    with Filesystem.open(img) as fs:
        inode = fs.inode(_ino(img, path))
        assert not inode.uses_extents
        nblocks = -(-inode.size // BS) + 3
        got: dict[int, int] = {}
        cursor = 0
        for m in file_mappings(fs, inode, 0, nblocks, Budget()):
            assert m.logical_block == cursor
            cursor = m.logical_end
            assert m.kind in (MappingKind.MAPPED, MappingKind.HOLE)
            if m.kind is MappingKind.MAPPED:
                assert m.physical_block is not None
                for n in range(m.length_blocks):
                    got[m.logical_block + n] = m.physical_block + n
        assert cursor == nblocks
        assert got == want
        # Runs, not blocks: a contiguous stretch is one mapping.
        runs = find_blocks(fs, inode, 0, nblocks, Budget())
        assert all(
            a.logical_end < b.logical_block
            or a.physical_block + a.length_blocks != b.physical_block
            for a, b in itertools.pairwise(runs)
        )
        for lblk in [0, 11, 12, 267, 268, 300, 10 << 10, 70 << 10]:
            if lblk < nblocks:
                (m,) = file_mappings(fs, inode, lblk, 1, Budget())
                assert (m.physical_block or 0) == E.bmap(img, path, lblk)


@pytest.mark.parametrize("path", ["/sparse", "/contig", "/empty"])
def test_content_matches_source(blockmap_img: Built, path: str) -> None:
    want = blockmap_img.files[path]
    with Filesystem.open(blockmap_img.img) as fs:
        inode = fs.inode(_ino(blockmap_img.img, path))
        got = read_file(fs, inode, 0, len(want) + 100, Budget())
        assert hashlib.sha256(got).digest() == hashlib.sha256(want).digest()
        for offset in PIECES:
            assert (
                read_file(fs, inode, offset + 7, 3000, Budget()) == want[offset + 7 : offset + 3007]
            )


def test_reads_only_needed_indirect_blocks(blockmap_img: Built) -> None:
    with Filesystem.open(blockmap_img.img) as fs:
        inode = fs.inode(_ino(blockmap_img.img, "/sparse"))
        for lblk, reads in [(3, 0), (200, 1), (10 << 10, 2), (70 << 10, 3)]:
            budget = Budget()
            (m,) = file_mappings(fs, inode, lblk, 1, budget)
            assert m.kind is MappingKind.MAPPED
            assert Budget().blocks - budget.blocks == reads


@pytest.fixture(scope="module")
def kernel_mount(blockmap_img: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("the kernel loop mount needs root")
    mnt = tmp_path_factory.mktemp("mnt")
    # noload (skip journal replay) only exists for a filesystem with a journal.
    options = "ro,loop,noload" if "ext3" in blockmap_img.img.parent.name else "ro,loop"
    proc = subprocess.run(
        ["mount", "-o", options, str(blockmap_img.img), str(mnt)], capture_output=True
    )
    if proc.returncode != 0:
        pytest.skip(f"loop mount unavailable: {proc.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("path", ["/sparse", "/contig"])
def test_content_matches_kernel(blockmap_img: Built, kernel_mount: Path, path: str) -> None:
    kernel = (kernel_mount / path.lstrip("/")).read_bytes()
    with Filesystem.open(blockmap_img.img) as fs:
        inode = fs.inode(_ino(blockmap_img.img, path))
        assert read_file(fs, inode, 0, len(kernel) + 1, Budget()) == kernel


# ------------------------------------------------------------------------------------------
# corruption (no metadata_csum on ext2/3: i_block is patched in place)
# ------------------------------------------------------------------------------------------


def _patch(img: Path, ino: int, slots: dict[int, int]) -> None:
    with Filesystem.open(img) as fs:
        group, index = inode_location(fs.superblock, ino)
        offset = fs.group(group).inode_table * BS + index * fs.superblock.inode_size
    with open(img, "r+b") as f:
        for slot, value in slots.items():
            f.seek(offset + 0x28 + 4 * slot)
            f.write(struct.pack("<I", value))


def _free_block(img: Path) -> int:
    with Filesystem.open(img) as fs:
        block = fs.superblock.blocks_count - 1
    assert not E.testb(img, block)[block]
    return block


def _expect(img: Path, ino: int, lblk: int, error: type[Ext4Error]) -> None:
    with Filesystem.open(img) as fs:
        inode = fs.inode(ino)
        with pytest.raises(error) as info:
            file_mappings(fs, inode, lblk, 1, Budget())
        assert info.value.where.inode == ino
        with pytest.raises(error):
            read_file(fs, inode, 0, inode.size, Budget())


@pytest.fixture(scope="module")
def contig_ino(blockmap_img: Built) -> int:
    return _ino(blockmap_img.img, "/contig")


@pytest.fixture
def work(blockmap_img: Built, tmp_path: Path) -> Path:
    img = tmp_path / "work.img"
    shutil.copyfile(blockmap_img.img, img)
    return img


def test_indirect_pointer_into_superblock(work: Path) -> None:
    ino = _ino(work, "/contig")
    _patch(work, ino, {12: 1})
    _expect(work, ino, 100, BlockOutOfRange)


def test_direct_pointer_past_end(work: Path) -> None:
    ino = _ino(work, "/contig")
    _patch(work, ino, {3: 0xFFFFFF00})
    _expect(work, ino, 3, BlockOutOfRange)


def test_dind_lists_itself(work: Path) -> None:
    ino = _ino(work, "/contig")
    block = _free_block(work)
    with open(work, "r+b") as f:
        f.seek(block * BS)
        f.write(struct.pack("<I", block).ljust(BS, b"\0"))
    _patch(work, ino, {13: block})
    _expect(work, ino, 268, BlockMapCycle)


def test_dind_lists_one_indirect_block_twice(work: Path) -> None:
    ino = _ino(work, "/contig")
    ind = E.inode_stat(work, "/contig").blocks
    assert ind is not None
    ind_block = next(s.physical_start for s in ind if s.kind == "IND")  # slot 12's
    block = _free_block(work)
    with open(work, "r+b") as f:
        f.seek(block * BS)
        f.write(struct.pack("<II", ind_block, ind_block).ljust(BS, b"\0"))
    _patch(work, ino, {13: block})
    with Filesystem.open(work) as fs:
        inode = fs.inode(ino)
        with pytest.raises(BlockMapCycle):
            file_mappings(fs, inode, 0, 600, Budget())


# ------------------------------------------------------------------------------------------
# fuzzing: mutate i_block and the IND block of a real block-mapped file
# ------------------------------------------------------------------------------------------

_edits = st.lists(st.tuples(st.integers(0, BS - 1), st.integers(0, 255)), min_size=1, max_size=8)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(root_edits=_edits, ind_edits=_edits)
def test_mutated_block_map_raises_only_ext4_errors(
    work: Path,
    contig_ino: int,
    root_edits: list[tuple[int, int]],
    ind_edits: list[tuple[int, int]],
) -> None:
    with Filesystem.open(work) as fs:
        inode = fs.inode(contig_ino)
        ind_block = struct.unpack_from("<I", inode.i_block, 48)[0]
        original = fs.image.read(ind_block * BS, BS)
        ind = bytearray(original)
        for pos, value in ind_edits:
            ind[pos] = value
        root = bytearray(inode.i_block)
        for pos, value in root_edits:
            root[pos % 60] = value
        fd = os.open(work, os.O_RDWR)
        try:
            os.pwrite(fd, bytes(ind), ind_block * BS)
            mutated = inode._replace(i_block=bytes(root))
            for first, count in [(0, 600), (100, 3), (70 << 10, 10)]:
                try:
                    mappings = file_mappings(fs, mutated, first, count, Budget())
                except Ext4Error:
                    continue
                assert mappings[0].logical_block == first
                assert mappings[-1].logical_end == first + count
        finally:
            os.pwrite(fd, original, ind_block * BS)
            os.close(fd)
