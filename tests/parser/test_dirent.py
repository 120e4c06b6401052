"""Linear directory blocks through parser/dirent.py, against debugfs `ls` on mke2fs images.

Images are built by mke2fs -d from generated source trees (1 KiB and 4 KiB blocks,
metadata_csum on and off) and indexed by `e2fsck -fyD`; every block of every test
directory is parsed and the entries compared with `debugfs ls -l` (`E.ls`), the tail
checksums with `ls -c`. Hand-made corruptions give typed findings, and mutated blocks never
raise anything but Ext4Error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext4guard.parser._ksy.ext4_dir import Ext4Dir
from ext4guard.parser.budget import Budget
from ext4guard.parser.checksum import crc32c_raw, inode_csum_seed
from ext4guard.parser.dirent import (
    DirBlock,
    DirContext,
    DirentBadInode,
    DirentBadRecLen,
    DirentMissingTail,
    DirentNameLen,
    dirblock_checksum,
    find_in_block,
    read_dir_block,
    read_inline_dir,
)
from ext4guard.parser.errors import ChecksumMismatch, Corruption, Ext4Error, Where
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.records import decode
from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, seed_image

pytestmark = pytest.mark.skipif(not E.available(), reason="e2fsprogs not installed")

MKE2FS = shutil.which("mke2fs", path="/usr/sbin:/sbin:/usr/bin:/bin") or "mke2fs"
_CACHE = Path(tempfile.gettempdir()) / f"ext4guard-dirtests-{os.getuid()}-v3"

ODD_NAMES: list[bytes] = [
    b"with space",
    b"new\nline",
    b"tab\there",
    b"\xff\xfe not utf-8",
    b"\xc3\xa9t\xc3\xa9",
    b"x" * 255,
    b"y" * 254,
    b'"quoted"',
    b"back\\slash",
    b"-dash",
    b".hidden",
    b"a",
]


def _big_names(count: int, salt: str) -> list[bytes]:
    names = []
    for i in range(count):
        extra = bytes([0x80 + i % 120]) if i % 7 == 0 else b""
        names.append(f"{salt}{i:05d}".encode() + extra + b"-" * (i % 13))
    return names


def _make_tree(root: Path, big: int) -> None:
    small = root / "small"
    small.mkdir(parents=True)
    for n in ODD_NAMES:
        os.close(os.open(os.path.join(os.fsencode(small), n), os.O_CREAT | os.O_WRONLY, 0o644))
    (small / "subdir").mkdir()
    (small / "link").symlink_to("with space")
    os.mkfifo(small / "fifo")
    for name, count in (("big2k", 2000), ("big20k", big)):
        if not count:
            continue
        d = os.fsencode(root / name)
        os.mkdir(d)
        for n in _big_names(count, name[:4]):
            fd = os.open(os.path.join(d, n), os.O_CREAT | os.O_WRONLY, 0o644)
            os.close(fd)


# name -> (block size, metadata_csum, def_hash_version or None, s_flags or None, big dir size)
IMAGES: dict[str, tuple[int, bool, str | None, int | None, int]] = {
    "4k_csum": (4096, True, None, None, 20000),
    "4k_nocsum": (4096, False, None, None, 20000),
    "1k_csum": (1024, True, None, None, 20000),
    "1k_nocsum": (1024, False, None, None, 0),
    "legacy_signed": (4096, True, "legacy", 1, 0),
    "legacy_unsigned": (1024, True, "legacy", 2, 0),
    "half_md4_unsigned": (4096, False, "half_md4", 2, 0),
    "tea_signed": (1024, False, "tea", 1, 0),
    "tea_unsigned": (4096, True, "tea", 2, 0),
}


def build_image(name: str) -> Path:
    """The test image `name` (built once per machine, cached by name and version)."""
    bs, csum, alg, flags, big = IMAGES[name]
    target = _CACHE / f"{name}.img"
    if target.exists():
        return target
    _CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"build-{name}-", dir=_CACHE))
    try:
        _make_tree(work / "src", big)
        img = work / "fs.img"
        features = "metadata_csum" if csum else "^metadata_csum"
        subprocess.run(
            [
                *(MKE2FS, "-q", "-F", "-t", "ext4", "-b", str(bs), "-O", features),
                *("-N", "30000", "-E", "hash_seed=6a0e7f10-3c1e-4d2b-9a55-0123456789ab"),
                *("-d", str(work / "src"), str(img), "96M"),
            ],
            check=True,
            capture_output=True,
        )
        if alg is not None:
            E.debugfs(img, f"ssv def_hash_version {alg}", writable=True)
        if flags is not None:
            E.debugfs(img, f"ssv flags {flags}", writable=True)
        # e2fsck -fyD (re)builds every directory's htree (exit 1: "fixed", expected).
        subprocess.run([E.E2FSCK, "-fyD", str(img)], capture_output=True, check=False)
        assert E.e2fsck(img).returncode == 0
        img.replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def dir_blocks(img: Path, path: str | bytes) -> dict[int, int]:
    """Logical -> physical block map of a directory, from debugfs `stat` extents."""
    st_ = E.inode_stat(img, path)
    out: dict[int, int] = {}
    for span in st_.extents or st_.blocks or ():
        if span.kind != "data" or span.logical_start is None or span.logical_end is None:
            continue
        for i in range(span.logical_end - span.logical_start + 1):
            out[span.logical_start + i] = span.physical_start + i
    return out


class DirReader:
    """A directory's context and a counting `block_of` for tests (mapping via debugfs)."""

    def __init__(self, fs: Filesystem, img: Path, path: str | bytes) -> None:
        self.fs = fs
        self.ino = int(E.inode_stat(img, path).inode)
        self.inode = fs.inode(self.ino)
        self.ctx = DirContext.for_inode(fs.superblock, self.inode)
        self.map = dir_blocks(img, path)
        self.reads = 0
        self.budget = Budget()

    def block_of(self, logical: int) -> bytes:
        self.reads += 1
        return self.fs.blocks.read(self.map[logical], None, self.budget)


def _entries_of(reader: DirReader) -> tuple[list[DirBlock], list[int]]:
    """Every block in logical order, unused (inode 0) entries included as `ls` shows them."""
    blocks, order = [], []
    for logical in sorted(reader.map):
        data = reader.block_of(logical)
        blocks.append(read_dir_block(data, reader.ctx, Where(block=logical), include_unused=True))
        order.append(logical)
    return blocks, order


def index_blocks(img: Path, path: str) -> set[int]:
    """Logical blocks holding dx_root / dx_node (from htree_dump), empty for linear dirs."""
    try:
        dump = E.htree(img, path)
    except E.E2fsprogsError:
        return set()
    return {n.block for n in dump.nodes}


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_blocks_equal_debugfs_ls(name: str) -> None:
    img = build_image(name)
    with Filesystem.open(img) as fs:
        for path in ("/small", "/big2k", "/") + (("/big20k",) if IMAGES[name][4] else ()):
            reader = DirReader(fs, img, path)
            index = index_blocks(img, path)
            got: list[tuple[int, bytes, int, int]] = []
            tails: list[int] = []
            blocks, order = _entries_of(reader)
            for logical, blk in zip(order, blocks, strict=True):
                if logical in index:
                    # dx_root holds "." and ".." for linear readers; dx_node nothing.
                    assert all(f.code == "dirent_missing_tail" for f in blk.findings)
                else:
                    assert blk.findings == (), blk.findings
                    if reader.ctx.metadata_csum:
                        assert blk.tail_checksum is not None
                        tails.append(blk.tail_checksum)
                got += [(e.inode, e.name, e.file_type, e.rec_len) for e in blk.entries]
            ref = E.ls(img, path)
            assert got == [(r.dirent_inode, r.name, r.file_type, r.rec_len) for r in ref]
            if reader.ctx.metadata_csum:
                ref_tails = [r.checksum for r in E.ls(img, path, checksums=True) if r.checksum]
                assert tails == ref_tails


def test_fast_path_agrees_with_kaitai() -> None:
    """The struct walk reads the same records the grammar describes."""
    img = build_image("1k_csum")
    with Filesystem.open(img) as fs:
        reader = DirReader(fs, img, "/small")
        for logical in sorted(reader.map):
            block = reader.block_of(logical)
            ours = read_dir_block(block, reader.ctx, Where(), include_unused=True).entries
            for e in ours:

                def build(rec: object, off: int = e.offset) -> tuple[int, bytes, int, int]:
                    ft = rec.file_type  # type: ignore[attr-defined]
                    return (
                        rec.inode,  # type: ignore[attr-defined]
                        bytes(rec.name),  # type: ignore[attr-defined]
                        int(getattr(ft, "value", ft)),
                        rec.rec_len_bytes,  # type: ignore[attr-defined]
                    )

                ksy = decode(Ext4Dir.DirEntry2, block[e.offset :], Where(), build)
                assert ksy == (e.inode, e.name, e.file_type, e.rec_len)
            tail = decode(Ext4Dir.DirEntryTail, block[-12:], Where(), lambda r: r.det_checksum)
            assert tail == dirblock_checksum(reader.ctx.csum_seed, block)


def test_inode_csum_seed_matches_inode_checksum() -> None:
    """The seed helper reproduces the inode checksum's first two steps (same definition)."""
    sb_seed = 0x12345678
    assert inode_csum_seed(sb_seed, 2, 7) == crc32c_raw(
        crc32c_raw(sb_seed, struct.pack("<I", 2)), struct.pack("<I", 7)
    )


def test_find_in_block() -> None:
    img = build_image("4k_csum")
    with Filesystem.open(img) as fs:
        reader = DirReader(fs, img, "/small")
        block = reader.block_of(0)
        for ref in E.ls(img, "/small"):
            found = find_in_block(block, ref.name, reader.ctx, Where())
            assert found is not None and found.inode == ref.dirent_inode
        assert find_in_block(block, b"absent", reader.ctx, Where()) is None


def _inline_seed() -> Path | None:
    return seed_image("ext4_inline") if "ext4_inline" in SEEDS else None


def test_inline_dir_i_block() -> None:
    img = _inline_seed()
    if img is None:
        pytest.skip("no ext4_inline seed")
    with Filesystem.open(img) as fs:
        checked = 0
        pending = [(2, b"")]
        while pending and checked < 50:
            ino, path = pending.pop()
            for ref in E.ls(img, ino):
                if ref.name in (b".", b"..") or ref.file_type != 2:
                    continue
                pending.append((ref.dirent_inode, path + b"/" + ref.name))
            inode = fs.inode(ino)
            if not inode.has_inline_data:
                continue
            ctx = DirContext.for_inode(fs.superblock, inode)
            parent, blk = read_inline_dir(inode.i_block, ctx, Where(inode=ino))
            assert blk.findings == ()
            ref = [r for r in E.ls(img, ino) if r.name not in (b".", b"..")]
            dotdot = [r for r in E.ls(img, ino) if r.name == b".."]
            assert parent == dotdot[0].dirent_inode
            got = [(e.inode, e.name) for e in blk.entries]
            # debugfs also lists the system.data part; ours is its prefix.
            assert got == [(r.dirent_inode, r.name) for r in ref][: len(got)]
            checked += 1
        if not checked:
            pytest.skip("seed has no inline directory")


# --- hand-made corruption ----------------------------------------------------------------

CTX = DirContext(
    ino=12, block_size=1024, inodes_count=100, metadata_csum=False, csum_seed=0, dir_blocks=1
)


def _entry(ino: int, rec_len: int, name: bytes, ft: int = 1) -> bytes:
    body = struct.pack("<IHBB", ino, rec_len, len(name), ft) + name
    return body + b"\0" * (rec_len - len(body)) if rec_len >= len(body) else body


def _block(*entries: bytes) -> bytes:
    data = b"".join(entries)
    return data + b"\0" * (1024 - len(data))


def _good() -> bytes:
    return _block(_entry(12, 12, b"."), _entry(2, 12, b".."), _entry(13, 1000, b"file"))


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda b: b[:24] + _entry(13, 0, b"file")[:8] + b[32:], DirentBadRecLen),
        (lambda b: b[:24] + struct.pack("<IH", 13, 1004) + b[30:], DirentBadRecLen),
        (lambda b: b[:24] + struct.pack("<IH", 13, 998) + b[30:], DirentBadRecLen),
        (lambda b: b[:24] + struct.pack("<IH", 13, 992) + b[30:], DirentBadRecLen),
        (lambda b: b[:24] + struct.pack("<IHB", 13, 16, 20) + b[31:], DirentNameLen),
        (lambda b: b[:12] + struct.pack("<IHB", 2, 12, 5) + b[19:], DirentNameLen),
        (lambda b: b[:24] + struct.pack("<IHB", 13, 1000, 0) + b[31:], DirentNameLen),
        (lambda b: b[:24] + struct.pack("<I", 101) + b[28:], DirentBadInode),
    ],
    ids=[
        "rec_len0",
        "overrun",
        "unaligned",
        "gap",
        "name_past_short_rec",
        "name_past_rec",
        "empty_name",
        "inode_past_count",
    ],
)
def test_corrupt_entry_gives_partial_result(
    mutate: Callable[[bytes], bytes], error: type[Corruption]
) -> None:
    block = mutate(_good())
    assert len(block) == 1024
    result = read_dir_block(block, CTX, Where(inode=12, block=5))
    assert len(result.findings) == 1
    finding = result.findings[0]
    assert type(finding) is error
    assert finding.where.inode == 12 and finding.where.block == 5
    assert finding.where.offset in (12, 24)
    assert [e.name for e in result.entries] == [b".", b".."][: finding.where.offset // 12]
    with pytest.raises(error):
        find_in_block(block, b"file", CTX, Where())


def test_tail_checksum_findings() -> None:
    ctx = DirContext(
        ino=12, block_size=1024, inodes_count=100, metadata_csum=True, csum_seed=0xABC,
        dir_blocks=1,
    )  # fmt: skip
    body = _entry(12, 12, b".") + _entry(2, 1000, b"..")
    tail = struct.pack("<IHBB", 0, 12, 0, 0xDE)
    block = body + tail + struct.pack("<I", 0)
    good = block[:-4] + struct.pack("<I", dirblock_checksum(0xABC, block))
    ok = read_dir_block(good, ctx, Where())
    assert ok.findings == () and [e.name for e in ok.entries] == [b".", b".."]
    bad = read_dir_block(block, ctx, Where(block=3))
    assert isinstance(bad.findings[0], ChecksumMismatch) and bad.entries == ()
    assert bad.findings[0].structure == "directory block"
    assert read_dir_block(block, ctx, Where(), verify=False).entries == ok.entries
    with pytest.raises(ChecksumMismatch):
        find_in_block(block, b"..", ctx, Where())
    no_tail = _block(_entry(12, 12, b"."), _entry(2, 1012, b".."))
    missing = read_dir_block(no_tail, ctx, Where())
    assert isinstance(missing.findings[0], DirentMissingTail) and len(missing.entries) == 2


def test_inline_corruption() -> None:
    i_block = struct.pack("<I", 2) + _entry(13, 56, b"f")
    parent, blk = read_inline_dir(i_block, CTX, Where())
    assert parent == 2 and [(e.inode, e.name) for e in blk.entries] == [(13, b"f")]
    bad = struct.pack("<I", 2) + _entry(13, 60, b"f")[:56]
    _, blk = read_inline_dir(bad, CTX, Where())
    assert isinstance(blk.findings[0], DirentBadRecLen)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_real_block_only_ext4_errors(data: st.DataObject) -> None:
    img = build_image("1k_csum")
    with Filesystem.open(img) as fs:
        reader = DirReader(fs, img, "/small")
        block = bytearray(reader.block_of(0))
        ctx = reader.ctx
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(block) - 1))
        block[pos] = data.draw(st.integers(0, 255))
    raw = bytes(block)
    for verify in (True, False):
        result = read_dir_block(raw, ctx, Where(), verify=verify)
        assert all(isinstance(f, Corruption) for f in result.findings)
        for e in result.entries:
            assert 0 < e.inode <= ctx.inodes_count and e.rec_len >= 12 and e.name
    with contextlib.suppress(Ext4Error):
        find_in_block(raw, b"with space", ctx, Where())
