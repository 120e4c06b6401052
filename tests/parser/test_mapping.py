"""File mappings and reads (parser/mapping.py) against e2fsprogs, the source bytes and the kernel.

Images are made by mke2fs -d from a source tree, then reshaped with debugfs (punch, fallocate)
to get fragmented depth-1 and depth-2 extent trees and unwritten extents. Every file's
mappings are compared with `debugfs ex` / `bmap`, its bytes with what was written (sha256)
and, when running as root, with the kernel's read-only loop mount of the same image.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ext4guard.parser import mapping
from ext4guard.parser.budget import Budget
from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.extents import walk_extent_tree
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.mapping import (
    Mapping,
    MappingKind,
    file_mappings,
    inode_checksum_seed,
    read_file,
)
from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, seed_image

pytestmark = pytest.mark.skipif(not E.available(), reason="e2fsprogs not installed")

BS = 1024


def _mke2fs(img: Path, args: list[str], size: str, src: Path | None = None) -> Path:
    extra = ["-d", str(src)] if src is not None else []
    subprocess.run(
        ["mke2fs", "-q", "-F", *args, *extra, str(img), size], check=True, capture_output=True
    )
    return img


def _debugfs_batch(img: Path, requests: list[str]) -> None:
    """Run many debugfs -w requests in one process (-f), failing on any complaint."""
    cmds = img.with_suffix(".cmds")
    cmds.write_text("\n".join(requests) + "\n")
    proc = subprocess.run(
        ["debugfs", "-w", "-f", str(cmds), str(img)], capture_output=True, text=True, check=True
    )
    errors = [ln for ln in proc.stderr.splitlines() if ln and not ln.startswith("debugfs ")]
    assert not errors, errors


@dataclass
class Built:
    img: Path
    files: dict[str, bytes]  # absolute path in the image -> expected content


def _punch(data: bytearray, start: int, end: int) -> None:
    data[start * BS : (end + 1) * BS] = bytes(len(data[start * BS : (end + 1) * BS]))


@pytest.fixture(scope="module")
def ext4_img(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """ext4, 1 KiB blocks, metadata_csum: contiguous, empty, sparse, depth-1 and depth-2
    fragmented files, unwritten ranges and a multi-block directory."""
    root = tmp_path_factory.mktemp("ext4map")
    src = root / "src"
    src.mkdir()
    gen = _Bytes(1)
    files: dict[str, bytearray] = {
        "/contig": bytearray(gen.take(300_000)),
        "/empty": bytearray(),
        "/frag1": bytearray(gen.take(200 * BS + 123)),
        "/frag2": bytearray(gen.take(1500 * BS)),
        "/prealloc": bytearray(gen.take(10 * BS)),
    }
    sparse = bytearray(3 * (1 << 20) + 20)
    sparse[0:5000] = gen.take(5000)
    sparse[1 << 20 : (1 << 20) + 7000] = gen.take(7000)
    sparse[-3:] = b"end"
    files["/sparse"] = sparse
    holey = bytearray(300 * BS)
    holey[: 10 * BS] = gen.take(10 * BS)
    holey[200 * BS : 210 * BS] = gen.take(10 * BS)
    files["/holey"] = holey
    for name, data in files.items():
        path = src / name.lstrip("/")
        with open(path, "wb") as f:
            # Write only the non-zero 1 KiB pieces so that mke2fs -d sees real holes.
            for off in range(0, len(data), BS):
                piece = data[off : off + BS]
                if any(piece):
                    f.seek(off)
                    f.write(piece)
            f.truncate(len(data))
    (src / "dir").mkdir()
    for n in range(150):
        (src / "dir" / f"entry-with-a-longish-name-{n:04d}").write_bytes(b"")
    img = _mke2fs(
        root / "ext4.img", ["-t", "ext4", "-b", str(BS), "-O", "^resize_inode"], "32M", src
    )
    requests = [f"punch /frag1 {b} {b}" for b in range(1, 200, 3)]
    requests += [f"punch /frag2 {b} {b}" for b in range(1, 1400, 2)]
    requests += ["fallocate /holey 20 100", "fallocate /prealloc 50 80"]
    _debugfs_batch(img, requests)
    for b in range(1, 200, 3):
        _punch(files["/frag1"], b, b)
    for b in range(1, 1400, 2):
        _punch(files["/frag2"], b, b)
    return Built(img, {k: bytes(v) for k, v in files.items()})


class _Bytes:
    """Deterministic pseudo-random bytes (sha256 counter mode): no zero blocks by accident."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.counter = 0

    def take(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            self.counter += 1
            out += hashlib.sha256(f"{self.seed}:{self.counter}".encode()).digest()
        return bytes(out[:n])


def _ino(img: Path, path: str) -> int:
    return E.inode_stat(img, path).inode


def _bmap(img: Path, path: str, lblk: int) -> tuple[int, bool]:
    """debugfs bmap, which prints "N (uninit)" for unwritten blocks (E.bmap expects a bare
    number there, so it is parsed here)."""
    words = E.debugfs(img, f"bmap {path} {lblk}").split()
    return int(words[0]), words[1:] == [b"(uninit)"]


def _leaf_rows(img: Path, path: str | int) -> list[tuple[int, int, int, bool]]:
    return [
        (r.logical_start, r.length, r.physical_start, r.uninit)
        for r in E.extents(img, path)
        if r.is_leaf
    ]


def _covering(mappings: list[Mapping], first: int, count: int) -> None:
    """Mappings tile [first, first + count) exactly, in order, without empty runs."""
    cursor = first
    for m in mappings:
        assert m.logical_block == cursor and m.length_blocks > 0
        assert (m.physical_block is None) == (m.kind in (MappingKind.HOLE, MappingKind.INLINE))
        cursor = m.logical_end
    assert cursor == first + count


@pytest.mark.parametrize("path", ["/contig", "/frag1", "/frag2", "/sparse", "/holey", "/prealloc"])
def test_extents_match_debugfs_ex(ext4_img: Built, path: str) -> None:
    img = ext4_img.img
    rows = _leaf_rows(img, path)
    with Filesystem.open(img) as fs:
        inode = fs.inode(_ino(img, path))
        seed = inode_checksum_seed(fs.superblock, inode)
        tree = walk_extent_tree(fs, inode, Budget(), csum_seed=seed)
        got = [
            (e.logical_block, e.length_blocks, e.physical_block, e.unwritten) for e in tree.extents
        ]
        assert got == rows
        ex = E.extents(img, path)
        assert tree.depth == (ex[0].max_depth if ex else 0)
        assert sorted(tree.tree_blocks) == sorted(r.physical_start for r in ex if not r.is_leaf)
        # The iomap: exactly the extents (one mapping each), holes between them.
        span = max((r[0] + r[1] for r in rows), default=0) + 5
        mappings = file_mappings(fs, inode, 0, span, Budget())
        _covering(mappings, 0, span)
        data = [m for m in mappings if m.kind is not MappingKind.HOLE]
        assert [
            (m.logical_block, m.length_blocks, m.physical_block, m.kind is MappingKind.UNWRITTEN)
            for m in data
        ] == rows


def test_depths_reached(ext4_img: Built) -> None:
    """The fixture really builds the shapes the other tests rely on."""
    img = ext4_img.img
    assert E.extents(img, "/frag1")[0].max_depth == 1
    assert E.extents(img, "/frag2")[0].max_depth == 2
    assert any(r[3] for r in _leaf_rows(img, "/holey"))


@pytest.mark.parametrize("path", ["/frag1", "/frag2", "/sparse", "/holey", "/dir"])
def test_single_blocks_match_bmap(ext4_img: Built, path: str) -> None:
    img = ext4_img.img
    with Filesystem.open(img) as fs:
        inode = fs.inode(_ino(img, path))
        nblocks = -(-inode.size // BS)
        for lblk in sorted({0, 1, 2, 3, 50, 99, 100, 699, 1024, 1399, 1400, nblocks - 1} - {-1}):
            if lblk >= nblocks:
                continue
            (m,) = file_mappings(fs, inode, lblk, 1, Budget())
            phys, uninit = _bmap(img, path, lblk)
            assert (m.physical_block or 0) == phys, (path, lblk)
            assert (m.kind is MappingKind.UNWRITTEN) == uninit, (path, lblk)


@pytest.mark.parametrize("path", ["/contig", "/empty", "/frag1", "/frag2", "/sparse", "/holey"])
def test_content_matches_source(ext4_img: Built, path: str) -> None:
    img = ext4_img.img
    want = ext4_img.files[path]
    with Filesystem.open(img) as fs:
        inode = fs.inode(_ino(img, path))
        got = read_file(fs, inode, 0, len(want) + 4096, Budget())
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(want).hexdigest()
        # Unaligned windows, straddling holes, extents and EOF.
        for offset, size in [(1, 1), (1023, 2), (5000, 70_000), (len(want) - 10, 100)]:
            offset = max(offset, 0)
            assert read_file(fs, inode, offset, size, Budget()) == want[offset : offset + size]
        assert read_file(fs, inode, len(want), 10, Budget()) == b""
        assert read_file(fs, inode, len(want) + 5000, 10, Budget()) == b""


@pytest.mark.parametrize("window_blocks", [7, 1 << 14])
def test_interleaved_sequential_reads_match_source(
    ext4_img: Built, window_blocks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two files read turn about in 3,000-byte steps: each step that stops short of EOF keeps
    # its runs for the next (`ReadWindow`), and the other file's step must not be served
    # from them. A 7-block window makes reads cross window ends all the time.
    monkeypatch.setattr(mapping, "READ_WINDOW_BLOCKS", window_blocks)
    img = ext4_img.img
    paths = ["/frag2", "/holey"]
    with Filesystem.open(img) as fs:
        inos = [fs.lookup(path) for path in paths]
        got = [bytearray(), bytearray()]
        done = [False, False]
        while not all(done):
            for i, ino in enumerate(inos):
                if not done[i]:
                    chunk = fs.read(ino, len(got[i]), 3000)
                    got[i] += chunk
                    done[i] = not chunk
    for path, data in zip(paths, got, strict=True):
        assert bytes(data) == ext4_img.files[path], path


def test_prealloc_beyond_eof_is_unwritten_and_not_read(ext4_img: Built) -> None:
    img = ext4_img.img
    with Filesystem.open(img) as fs:
        inode = fs.inode(_ino(img, "/prealloc"))
        kinds = {m.kind for m in file_mappings(fs, inode, 50, 31, Budget())}
        assert kinds == {MappingKind.UNWRITTEN}
        assert read_file(fs, inode, 0, 1 << 20, Budget()) == ext4_img.files["/prealloc"]


def test_empty_file(ext4_img: Built) -> None:
    with Filesystem.open(ext4_img.img) as fs:
        inode = fs.inode(_ino(ext4_img.img, "/empty"))
        assert file_mappings(fs, inode, 0, 8, Budget()) == [Mapping(MappingKind.HOLE, 0, 8, None)]
        assert file_mappings(fs, inode, 3, 0, Budget()) == []
        assert read_file(fs, inode, 0, 100, Budget()) == b""


def test_directory_blocks(ext4_img: Built) -> None:
    img = ext4_img.img
    with Filesystem.open(img) as fs:
        inode = fs.inode(_ino(img, "/dir"))
        nblocks = inode.size // BS
        assert nblocks > 1
        mappings = file_mappings(fs, inode, 0, nblocks, Budget())
        _covering(mappings, 0, nblocks)
        data = read_file(fs, inode, 0, inode.size, Budget())
        assert len(data) == inode.size
        for lblk in range(nblocks):
            phys, _ = _bmap(img, "/dir", lblk)
            assert data[lblk * BS : (lblk + 1) * BS] == E.block_bytes(img, phys, block_size=BS)


@pytest.fixture(scope="module")
def kernel_mount(ext4_img: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("the kernel loop mount needs root")
    mnt = tmp_path_factory.mktemp("mnt")
    proc = subprocess.run(
        ["mount", "-o", "ro,loop,noload", str(ext4_img.img), str(mnt)], capture_output=True
    )
    if proc.returncode != 0:
        pytest.skip(f"loop mount unavailable: {proc.stderr.decode(errors='replace').strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


@pytest.mark.parametrize("path", ["/contig", "/frag1", "/frag2", "/sparse", "/holey", "/prealloc"])
def test_content_matches_kernel(ext4_img: Built, kernel_mount: Path, path: str) -> None:
    kernel = (kernel_mount / path.lstrip("/")).read_bytes()
    with Filesystem.open(ext4_img.img) as fs:
        inode = fs.inode(_ino(ext4_img.img, path))
        assert read_file(fs, inode, 0, len(kernel) + 1, Budget()) == kernel


def test_bigalloc(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    gen = _Bytes(7)
    want = {"a": gen.take(123_457), "b": gen.take(40_000), "c": gen.take(1)}
    for name, data in want.items():
        (src / name).write_bytes(data)
    img = _mke2fs(
        tmp_path / "bigalloc.img",
        ["-t", "ext4", "-b", "1024", "-O", "bigalloc", "-C", "16384"],
        "32M",
        src,
    )
    with Filesystem.open(img) as fs:
        for name, data in want.items():
            inode = fs.inode(_ino(img, f"/{name}"))
            rows = _leaf_rows(img, f"/{name}")
            tree = walk_extent_tree(
                fs, inode, Budget(), csum_seed=inode_checksum_seed(fs.superblock, inode)
            )
            assert [
                (e.logical_block, e.length_blocks, e.physical_block, e.unwritten)
                for e in tree.extents
            ] == rows
            assert read_file(fs, inode, 0, len(data) + 10, Budget()) == data


def test_inline_data(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "tiny").write_bytes(b"inline bytes")
    img = _mke2fs(tmp_path / "inline.img", ["-t", "ext4", "-O", "inline_data"], "8M", src)
    with Filesystem.open(img) as fs:
        inode = fs.inode(_ino(img, "/tiny"))
        assert inode.has_inline_data
        assert file_mappings(fs, inode, 0, 4, Budget()) == [
            Mapping(MappingKind.INLINE, 0, 1, None),
            Mapping(MappingKind.HOLE, 1, 3, None),
        ]
        assert read_file(fs, inode, 0, 100, Budget()) == b"inline bytes"
        assert read_file(fs, inode, 7, 3, Budget()) == b"byt"


@pytest.mark.parametrize("name", SEEDS)
def test_seed_files_read_like_debugfs(name: str) -> None:
    """Every regular file of a committed seed: mappings tile, bytes agree with debugfs cat."""
    img = seed_image(name)
    with Filesystem.open(img) as fs:
        for ino in range(fs.superblock.first_ino, min(fs.superblock.inodes_count, 64) + 1):
            try:
                inode = fs.inode(ino)
            except Ext4Error:
                continue
            if inode.file_type != "reg" or inode.links_count == 0 or inode.size > 1 << 22:
                continue
            try:
                want = E.debugfs(img, f"cat <{ino}>")
            except E.E2fsprogsError:
                continue
            if inode.has_inline_data:
                if inode.size > 60:
                    continue  # the rest is in system.data: the xattr module's job
                want = want[: inode.size]  # debugfs cat prints all 60 bytes of i_block
            assert read_file(fs, inode, 0, inode.size, Budget()) == want
            if inode.uses_extents and not inode.has_inline_data:
                seed = inode_checksum_seed(fs.superblock, inode)
                tree = walk_extent_tree(fs, inode, Budget(), csum_seed=seed)
                assert [
                    (e.logical_block, e.length_blocks, e.physical_block, e.unwritten)
                    for e in tree.extents
                ] == _leaf_rows(img, ino)
