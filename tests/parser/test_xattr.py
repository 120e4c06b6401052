"""Extended attributes and POSIX ACLs against references nobody here wrote.

* every seed's manifest (the xattrs of the source tree the image was built from; ACLs in the
  VFS form `getxattr` returns), path by path through `Filesystem.lookup` / `xattrs`;
* e2fsprogs (`debugfs ea_list` / `ea_get`, raw and translated ACLs, system.data included);
* the kernel's read-only loop mount (`os.listxattr` / `os.getxattr`), as root;
* hand-damaged blocks and inode bodies: typed errors or findings, nothing but Ext4Error;
* hypothesis mutations of a real xattr block and a real in-inode area.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext4guard.parser.acl import AclInvalid, acl_to_vfs, decode_acl, ext4_acl_to_vfs
from ext4guard.parser.budget import Budget
from ext4guard.parser.errors import ChecksumMismatch, Corruption, Ext4Error, Where
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import inode_checksum, inode_location
from ext4guard.parser.xattr import (
    XattrBadEntry,
    XattrBadHeader,
    XattrBadMagic,
    XattrEaInodeBad,
    XattrHashMismatch,
    XattrUnsorted,
    XattrValueOutOfRange,
    XattrValueOverlap,
    block_checksum,
    parse_block,
    parse_ibody,
    read_xattrs,
)
from tests.reference import e2fsprogs as E
from tests.seeds import manifest_entries, seed_image, seed_manifest

XATTR_SEEDS = [
    "ext3_journal",
    "ext4_default",
    "ext4_1k",
    "ext4_inode128",
    "ext4_nocsum_uninit_bg",
    "ext4_ea_inode",
    "ext4_inline",
]
IS_ROOT = os.geteuid() == 0
HAVE_E2FS = E.available()


def _want(entry: dict[str, object]) -> dict[bytes, bytes]:
    xattrs = entry.get("xattrs") or {}
    assert isinstance(xattrs, dict)
    return {os.fsencode(k): bytes.fromhex(v) for k, v in xattrs.items()}


def _with_xattrs(seed: str) -> dict[bytes, dict[str, object]]:
    return {p: e for p, e in manifest_entries(seed_manifest(seed)).items() if e.get("xattrs")}


# ------------------------------------------------------------------ the seeds' source trees


@pytest.mark.parametrize("seed", XATTR_SEEDS)
def test_every_path_has_the_manifest_xattrs(seed: str) -> None:
    entries = manifest_entries(seed_manifest(seed))
    with Filesystem.open(seed_image(seed)) as fs:
        for path, entry in entries.items():
            assert fs.xattrs(fs.lookup(path)) == _want(entry), path
            xs = read_xattrs(fs, fs.inode(fs.lookup(path)), Budget())
            assert xs.findings == (), (path, xs.findings)
    assert any(e.get("xattrs") for e in entries.values())


def test_ea_inode_values_come_from_their_inodes() -> None:
    with Filesystem.open(seed_image("ext4_ea_inode")) as fs:
        inode = fs.inode(fs.lookup("/eaholder2"))
        entries = read_xattrs(fs, inode, Budget()).entries
        assert {e.full_name for e in entries if e.value_inum} == {b"user.huge1", b"trusted.huge2"}
        for entry in entries:
            assert fs.inode(entry.value_inum).size == len(entry.value) == 4096


def test_block_entries_are_hashed_and_sorted_as_the_kernel_writes_them() -> None:
    with Filesystem.open(seed_image("ext4_default")) as fs:
        inode = fs.inode(fs.lookup("/xattr/block"))
        block = fs.blocks.read(inode.file_acl, None, Budget())
        pairs, findings = parse_block(fs.superblock, block, inode.file_acl, Where(), Budget())
        assert findings == []
        assert all(raw.e_hash for raw, _ in pairs)  # so the hash check did run
        stored = struct.unpack_from("<I", block, 16)[0]
        assert stored == block_checksum(fs.superblock.checksum_seed, inode.file_acl, block)


# ------------------------------------------------------------------ e2fsprogs


def _e2fsprogs_ids(value: bytes | None) -> bytes | None:
    """libext2fs writes 0 where the kernel writes ACL_UNDEFINED_ID (entries without an id)."""
    if value is None or value[:4] != b"\x02\0\0\0":
        return value
    out = bytearray(value)
    for at in range(4, len(out) - 7, 8):
        if struct.unpack_from("<H", out, at)[0] not in (2, 8):
            struct.pack_into("<I", out, at + 4, 0)
    return bytes(out)


@pytest.mark.skipif(not HAVE_E2FS, reason="e2fsprogs not installed")
@pytest.mark.parametrize("seed", ["ext4_default", "ext3_journal", "ext4_ea_inode", "ext4_inline"])
def test_every_attribute_matches_debugfs(seed: str) -> None:
    image = seed_image(seed)
    paths = list(_with_xattrs(seed))
    if seed == "ext4_inline":
        paths += [b"/inline/spill", b"/inline/tinydir"]  # system.data only
    with Filesystem.open(image) as fs:
        for path in paths:
            entries = read_xattrs(fs, fs.inode(fs.lookup(path)), Budget()).entries
            ours_raw = {e.full_name: e.value for e in entries}
            ours_vfs = {
                name: (
                    ext4_acl_to_vfs(value, Where()) if name.startswith(b"system.posix") else value
                )
                for name, value in ours_raw.items()
                if name is not None
            }
            theirs_raw = {os.fsencode(k): v for k, v in E.xattrs(image, path, raw=True).items()}
            theirs_vfs = {os.fsencode(k): v for k, v in E.xattrs(image, path).items()}
            assert ours_raw == theirs_raw, path
            assert {k: _e2fsprogs_ids(v) for k, v in ours_vfs.items()} == theirs_vfs, path


# ------------------------------------------------------------------ the kernel


@contextlib.contextmanager
def _kernel_mount(image: Path, where: Path, options: str = "ro,loop,noload") -> Iterator[Path]:
    if not IS_ROOT or shutil.which("mount") is None:
        pytest.skip("the kernel reference needs root (loop mount)")
    where.mkdir(exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "ext4", "-o", options, str(image), str(where)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"kernel cannot mount {image.name}: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


@pytest.mark.parametrize("seed", ["ext4_default", "ext4_inode128", "ext4_ea_inode", "ext4_inline"])
def test_kernel_getxattr_agrees(seed: str, tmp_path: Path) -> None:
    with (
        _kernel_mount(seed_image(seed), tmp_path / "mnt") as mnt,
        Filesystem.open(seed_image(seed)) as fs,
    ):
        for path, entry in manifest_entries(seed_manifest(seed)).items():
            if entry["type"] == "lnk":
                continue
            target = os.fsencode(mnt) + path if path != b"/" else os.fsencode(mnt)
            kernel = {
                os.fsencode(n): os.getxattr(target, n, follow_symlinks=False)
                for n in os.listxattr(target, follow_symlinks=False)
            }
            assert fs.xattrs(fs.lookup(path)) == kernel, path


# ------------------------------------------------------------------ POSIX ACLs


def test_acl_conversion_by_hand() -> None:
    # user::rw-, user:1000:r--, group::r--, mask::r--, other::---
    disk = struct.pack("<I", 1) + struct.pack("<HH", 1, 6) + struct.pack("<HHI", 2, 4, 1000)
    disk += struct.pack("<HH", 4, 4) + struct.pack("<HH", 0x10, 4) + struct.pack("<HH", 0x20, 0)
    entries = decode_acl(disk, Where())
    assert [(e.tag, e.perm, e.id) for e in entries] == [
        (1, 6, None),
        (2, 4, 1000),
        (4, 4, None),
        (0x10, 4, None),
        (0x20, 0, None),
    ]
    vfs = acl_to_vfs(entries)
    assert vfs[:4] == b"\x02\0\0\0" and len(vfs) == 4 + 8 * 5
    assert struct.unpack_from("<HHI", vfs, 4) == (1, 6, 0xFFFFFFFF)
    assert struct.unpack_from("<HHI", vfs, 12) == (2, 4, 1000)
    assert ext4_acl_to_vfs(b"\x01\0\0\0", Where()) is None  # no entries: no ACL
    for bad in (b"", b"\x02\0\0\0", disk[:-2], disk[:4] + struct.pack("<HH", 0x40, 0)):
        with pytest.raises(AclInvalid):
            decode_acl(bad, Where())


# ------------------------------------------------------------------ hand-made damage


def _block_of(seed: str, path: str) -> tuple[bytes, int]:
    with Filesystem.open(seed_image(seed)) as fs:
        inode = fs.inode(fs.lookup(path))
        return fs.blocks.read(inode.file_acl, None, Budget()), inode.file_acl


def _parse(seed: str, block: bytes, nr: int) -> list[Corruption]:
    with Filesystem.open(seed_image(seed)) as fs:
        return parse_block(fs.superblock, block, nr, Where(inode=1), Budget())[1]


def _patched(block: bytes, offset: int, fmt: str, *values: int) -> bytes:
    out = bytearray(block)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


FIRST = 32  # the first entry of an xattr block


@pytest.mark.parametrize(
    ("offset", "fmt", "value", "error"),
    [
        (0, "<I", 0xEA010000, XattrBadMagic),
        (8, "<I", 2, XattrBadHeader),
        (FIRST + 2, "<H", 4090, XattrValueOutOfRange),  # e_value_offs past the block
        (FIRST + 2, "<H", FIRST, XattrValueOverlap),  # a value inside the entry table
        (FIRST + 8, "<I", 1 << 30, XattrValueOutOfRange),  # e_value_size huge
        (FIRST + 8, "<I", 4000, XattrValueOutOfRange),  # fits the field, not the block
        (FIRST + 4, "<I", 12, Corruption),  # EA inode without the ea_inode feature
        (FIRST, "<B", 255, Corruption),  # name runs into the values / hash garbage
    ],
)
def test_damaged_block_raises_typed_errors(
    offset: int, fmt: str, value: int, error: type[Ext4Error]
) -> None:
    block, nr = _block_of("ext4_nocsum_uninit_bg", "/xattr/block")
    with pytest.raises(error):
        findings = _parse("ext4_nocsum_uninit_bg", _patched(block, offset, fmt, value), nr)
        raise findings[0]


def test_block_without_terminator() -> None:
    block, nr = _block_of("ext4_nocsum_uninit_bg", "/xattr/block")
    # One entry whose name reaches the end of the block: no room for the terminator.
    bad = bytearray(block)
    bad[FIRST:] = b"\x01" * (len(block) - FIRST)
    with pytest.raises(XattrBadEntry):
        _parse("ext4_nocsum_uninit_bg", bytes(bad), nr)


def test_block_findings_are_not_failures() -> None:
    block, nr = _block_of("ext4_nocsum_uninit_bg", "/xattr/block")
    with Filesystem.open(seed_image("ext4_nocsum_uninit_bg")) as fs:
        pairs, _ = parse_block(fs.superblock, block, nr, Where(), Budget())
        second = pairs[1][0]
        # A value byte changed: the entry hash no longer matches.
        value_at = second.value_offs
        codes = {
            f.code
            for f in _parse("ext4_nocsum_uninit_bg", _patched(block, value_at, "<B", 0x7E), nr)
        }
        assert codes == {XattrHashMismatch.code}
        # The first entry renamed past the second: out of the kernel's order.
        name_at = FIRST + 16 + len(pairs[0][0].name) - 1
        codes = {
            f.code
            for f in _parse("ext4_nocsum_uninit_bg", _patched(block, name_at, "<B", 0x7A), nr)
        }
        assert XattrUnsorted.code in codes
        # The second entry's value moved onto the first's: values overlap.
        moved = _patched(block, second.offset + 2, "<H", pairs[0][0].value_offs)
        codes = {f.code for f in _parse("ext4_nocsum_uninit_bg", moved, nr)}
        assert XattrValueOverlap.code in codes


@pytest.mark.skipif(not HAVE_E2FS, reason="e2fsprogs not installed")
def test_block_checksum_mismatch_agrees_with_e2fsck(tmp_path: Path) -> None:
    work = tmp_path / "img"
    shutil.copyfile(seed_image("ext4_default"), work)
    block, nr = _block_of("ext4_default", "/xattr/block")
    with Filesystem.open(work) as fs:
        bs = fs.superblock.block_size
        ino = fs.lookup("/xattr/block")
    with open(work, "r+b") as f:
        f.seek(nr * bs + bs - 1)
        f.write(bytes([block[-1] ^ 0xFF]))
    with Filesystem.open(work) as fs, pytest.raises(ChecksumMismatch) as info:
        fs.xattrs(ino)
    assert info.value.structure == "xattr block"
    assert info.value.where.block == nr
    assert E.e2fsck(work).returncode != 0


def _inode_offset(fs: Filesystem, ino: int) -> int:
    group, index = inode_location(fs.superblock, ino)
    return fs.group(group).inode_table * fs.superblock.block_size + index * fs.superblock.inode_size


def patch_inode(image: Path, ino: int, offset: int, fmt: str, *values: int) -> None:
    """Write into inode `ino`'s record at `offset`, then refresh its checksum if it has one."""
    with Filesystem.open(image) as fs:
        at = _inode_offset(fs, ino)
        sb = fs.superblock
        raw = bytearray(fs.image.read(at, sb.inode_size))
    struct.pack_into(fmt, raw, offset, *values)
    if sb.has_metadata_csum:
        generation = struct.unpack_from("<I", raw, 0x64)[0]
        _, computed = inode_checksum(sb, ino, generation, bytes(raw))
        struct.pack_into("<H", raw, 0x7C, computed & 0xFFFF)
        struct.pack_into("<H", raw, 0x82, computed >> 16)
    with open(image, "r+b") as f:
        f.seek(at)
        f.write(raw)


def _ibody_entry(fs: Filesystem, ino: int) -> int:
    """Offset of the first in-inode entry within the inode record."""
    return 128 + fs.inode(ino).extra_isize + 4


@pytest.mark.parametrize(
    ("value_inum", "why"),
    [(2, "root"), (41, "not an EA inode"), (10**6, "past inodes_count"), (1, "reserved")],
)
def test_ea_inode_pointing_at_the_wrong_inode(tmp_path: Path, value_inum: int, why: str) -> None:
    work = tmp_path / "img"
    shutil.copyfile(seed_image("ext4_ea_inode"), work)
    with Filesystem.open(work) as fs:
        ino = fs.lookup("/eaholder")
        assert fs.lookup("/xattr/small") == 41
        entry = _ibody_entry(fs, ino)
    patch_inode(work, ino, entry + 4, "<I", value_inum)
    with Filesystem.open(work) as fs, pytest.raises(XattrEaInodeBad, match=r"."):
        fs.xattrs(ino)


def test_ea_inode_size_must_match(tmp_path: Path) -> None:
    work = tmp_path / "img"
    shutil.copyfile(seed_image("ext4_ea_inode"), work)
    with Filesystem.open(work) as fs:
        ino = fs.lookup("/eaholder")
        entry = _ibody_entry(fs, ino)
    patch_inode(work, ino, entry + 8, "<I", 4000)
    with Filesystem.open(work) as fs, pytest.raises(XattrEaInodeBad, match="holds 4096"):
        fs.xattrs(ino)


@pytest.mark.parametrize(
    ("field", "fmt", "value", "error"),
    [
        (2, "<H", 200, XattrValueOutOfRange),  # value past the end of the inode
        (2, "<H", 0, XattrValueOverlap),  # value on top of the entry table
        (8, "<I", 70000, XattrValueOutOfRange),  # bigger than XATTR_SIZE_MAX
        (4, "<I", 12, XattrEaInodeBad),  # EA inode without the feature
        (0, "<B", 200, XattrBadEntry),  # name runs out of the inode
    ],
)
def test_damaged_in_inode_area(field: int, fmt: str, value: int, error: type[Ext4Error]) -> None:
    with Filesystem.open(seed_image("ext4_nocsum_uninit_bg")) as fs:
        inode = fs.inode(fs.lookup("/xattr/small"))
        area = _patched(inode.inline_area, 4 + field, fmt, value)
        with pytest.raises(error):
            parse_ibody(fs.superblock, inode._replace(inline_area=area), Budget())
        # Without the magic the inode simply has no in-inode attributes.
        plain = inode._replace(inline_area=b"\0" * len(inode.inline_area))
        assert parse_ibody(fs.superblock, plain, Budget()) == ([], [])


# ------------------------------------------------------------------ mutation


_edits = st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=_edits, area_edits=_edits)
def test_mutated_xattrs_raise_only_ext4_errors(
    edits: list[tuple[int, int]], area_edits: list[tuple[int, int]]
) -> None:
    with Filesystem.open(seed_image("ext4_nocsum_uninit_bg")) as fs:
        inode = fs.inode(fs.lookup("/xattr/block"))
        block = bytearray(fs.blocks.read(inode.file_acl, None, Budget()))
        for pos, value in edits:
            block[pos % len(block)] = value
        try:
            pairs, _ = parse_block(fs.superblock, bytes(block), inode.file_acl, Where(), Budget())
            for raw, value in pairs:
                assert len(value) == (0 if raw.value_inum else raw.value_size)
                if raw.name_index in (2, 3):
                    ext4_acl_to_vfs(value, Where())
        except Ext4Error:
            pass
    # The in-inode area of an inode whose values live in EA inodes: fetching them is
    # mutated too (the inode numbers and sizes).
    with Filesystem.open(seed_image("ext4_ea_inode")) as fs:
        inode = fs.inode(fs.lookup("/eaholder2"))
        area = bytearray(inode.inline_area)
        for pos, value in area_edits:
            area[pos % len(area)] = value
        mutated = inode._replace(inline_area=bytes(area))
        try:
            for entry in read_xattrs(fs, mutated, Budget()).entries:
                assert entry.value_inum or len(entry.value) <= len(area)
        except Ext4Error:
            pass
