"""`check` against e2fsck: clean wherever `e2fsck -fn` is clean, and the expected finding in
every hand-made corruption that e2fsck also calls corrupt.

Clean images: all committed seeds and a few images freshly made with `mke2fs -d` from random
trees (different feature sets). Corrupt images: seed copies patched by tests/parser/corrupt.py.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ext4guard.parser.budget import Budget
from ext4guard.parser.check import CheckReport, check, check_image
from ext4guard.parser.checksum import crc32c_raw
from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from tests.parser import corrupt as C
from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, seed_image

pytestmark = pytest.mark.skipif(not E.available(), reason="e2fsprogs not installed")

MKE2FS = shutil.which("mke2fs", path="/usr/sbin:/sbin:/usr/bin:/bin") or "mke2fs"


def _report(path: Path) -> CheckReport:
    """check_image, asserting that nothing but Ext4Error can escape."""
    try:
        return check_image(path)
    except Ext4Error as exc:  # an image that cannot be opened at all
        pytest.fail(f"check_image raised {exc!r} for a corrupt, openable-or-not image")


# -- clean images ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_clean_on_every_seed(seed: str) -> None:
    image = seed_image(seed)
    assert E.e2fsck(image).returncode == 0, f"{seed}: e2fsck -fn is not clean"
    start = time.monotonic()
    report = _report(image)
    elapsed = time.monotonic() - start
    assert report.clean, [str(f) for f in report.findings]
    assert report.findings == ()
    assert report.stats.inodes > 0 and report.stats.directories > 0
    if seed == "ext4_largedir":
        assert report.stats.entries >= 47_004
    assert elapsed < 10, f"{seed}: check took {elapsed:.1f}s"


def _random_tree(root: Path, seed: int) -> None:
    rng = random.Random(seed)
    dirs = [root]
    files: list[Path] = []
    for i in range(60):
        parent = rng.choice(dirs)
        kind = rng.random()
        if kind < 0.25:
            new = parent / f"d{i}"
            new.mkdir()
            dirs.append(new)
        elif kind < 0.85:
            new = parent / f"f{i}"
            size = rng.choice([0, 1, 100, 4095, 4096, 5000, 70_000, 300_000])
            new.write_bytes(rng.randbytes(size))
            files.append(new)
        elif kind < 0.92 and files:
            os.link(rng.choice(files), parent / f"h{i}")
        else:
            os.symlink("x" * rng.choice([5, 59, 60, 200]), parent / f"s{i}")
    big = root / "many"
    big.mkdir()
    for i in range(400):
        (big / f"entry-with-a-longish-name-{i:05d}").write_bytes(b"")


_EXT4 = "has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize"
GENERATED = {
    "ext4_orphan_file": ["-O", f"{_EXT4},orphan_file,metadata_csum_seed", "-b", "4096"],
    "ext4_1k_noflex": ["-O", "has_journal,extent,metadata_csum,^flex_bg", "-b", "1024"],
    "ext3_blockmap": ["-O", "has_journal", "-b", "1024"],
    "ext4_bigalloc": ["-O", f"{_EXT4},bigalloc,^resize_inode", "-C", "16384", "-b", "4096"],
    "ext4_sparse_super2": ["-O", "extent,metadata_csum,sparse_super2,^resize_inode", "-b", "1024"],
    "ext2_uninit_bg": ["-O", "uninit_bg,^has_journal", "-b", "2048"],
    "ext4_many_groups": ["-O", "extent,metadata_csum,flex_bg", "-b", "1024", "-g", "1024"],
}
_CONFIG = Path(__file__).resolve().parents[2] / "corpus" / "mke2fs.conf"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_clean_on_generated_images(name: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    _random_tree(tree, hash(name) & 0xFFFF)
    image = tmp_path / f"{name}.img"
    subprocess.run(
        [MKE2FS, "-q", "-F", "-d", str(tree), *GENERATED[name], str(image), "16M"],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "MKE2FS_CONFIG": str(_CONFIG)},
    )
    fsck = E.e2fsck(image)
    assert fsck.returncode == 0, fsck.stdout
    report = _report(image)
    assert report.clean, [str(f) for f in report.findings]


# -- hand-made corruptions ------------------------------------------------------------------

BASE = "ext4_default"  # metadata_csum, 64bit, flex_bg, 4 KiB blocks, an htree directory
LARGEFILE = "/largefile"


def _ino(path: Path, name: str) -> int:
    return E.inode_stat(path, name).inode


def bad_magic(path: Path) -> None:
    C.patch_superblock(path, lambda raw: raw.__setitem__(slice(0x38, 0x3A), b"\x00\x00"))


def bad_inode_checksum(path: Path) -> None:
    def flip(raw: bytearray) -> None:
        raw[0x10] ^= 0x55  # i_mtime

    C.patch_inode(path, _ino(path, LARGEFILE), flip, fix_checksum=False)


def huge_inode_count(path: Path) -> None:
    C.patch_superblock(path, lambda raw: raw.__setitem__(slice(0, 4), b"\xff\xff\xff\xff"))


def huge_blocks_per_group(path: Path) -> None:
    C.patch_superblock(path, lambda raw: raw.__setitem__(slice(0x20, 0x24), b"\xff\xff\xff\x7f"))


def truncated(path: Path) -> None:
    C.truncate(path, os.path.getsize(path) // 2)


def gd_bitmap_at_superblock(path: Path) -> None:
    C.patch_group_desc(path, 0, lambda raw: raw.__setitem__(slice(0, 4), b"\0\0\0\0"))


def gd_table_at_descriptors(path: Path) -> None:
    # The inode table moved onto block 1: the primary descriptor table.
    C.patch_group_desc(path, 0, lambda raw: raw.__setitem__(slice(8, 12), b"\1\0\0\0"))


def _tree_file(path: Path) -> tuple[int, int, int, int]:
    ino = _ino(path, LARGEFILE)
    length, phys = C.single_extent(path, ino)
    return ino, length, phys, C.free_block(path)


def extent_self_reference(path: Path) -> None:
    ino, _, _, spare = _tree_file(path)
    C.write_extent_block(path, ino, spare, C.extent_header(1, 340, 1), C.extent_index(0, spare))
    C.set_i_block(path, ino, C.extent_header(1, 4, 2) + C.extent_index(0, spare))


def extent_cycle(path: Path) -> None:
    ino, length, phys, spare = _tree_file(path)
    C.write_extent_block(path, ino, spare, C.extent_header(1, 340, 0), C.extent_leaf(0, 1, phys))
    root = C.extent_header(2, 4, 1) + C.extent_index(0, spare) + C.extent_index(length, spare)
    C.set_i_block(path, ino, root)


def extent_depth_mismatch(path: Path) -> None:
    ino, length, phys, spare = _tree_file(path)
    leaf = C.extent_leaf(0, length, phys)
    C.write_extent_block(path, ino, spare, C.extent_header(1, 340, 1), leaf)
    C.set_i_block(path, ino, C.extent_header(1, 4, 1) + C.extent_index(0, spare))


def extent_overlap(path: Path) -> None:
    ino, length, phys, _ = _tree_file(path)
    root = (
        C.extent_header(2, 4, 0)
        + C.extent_leaf(0, length, phys)
        + C.extent_leaf(length - 2, 2, phys + length)
    )
    C.set_i_block(path, ino, root)


def _patch_entry(path: Path, directory: str, index: int, field: str, value: int) -> None:
    def mutate(raw: bytearray) -> None:
        off = C.dirents(bytes(raw))[index][0]
        if field == "rec_len":
            struct.pack_into("<H", raw, off + 4, value)
        elif field == "name_len":
            raw[off + 6] = value
        else:
            struct.pack_into("<I", raw, off, value)

    C.patch_dir_block(path, directory, 0, mutate)


def rec_len_overrun(path: Path) -> None:
    _patch_entry(path, "/bin", 2, "rec_len", 4092)


def rec_len_zero(path: Path) -> None:
    _patch_entry(path, "/bin", 2, "rec_len", 0)


def name_len_past_rec_len(path: Path) -> None:
    _patch_entry(path, "/bin", 2, "name_len", 250)


def dirent_names_free_inode(path: Path) -> None:
    free = E.groups(path)[0].free_inodes
    assert free
    _patch_entry(path, "/bin", 2, "inode", free[0][0])


def directory_cycle(path: Path) -> None:
    # /deep/00's entry "01" (a directory) now names /deep, its own grandparent.
    def mutate(raw: bytearray) -> None:
        for off, _, _, name_len in C.dirents(bytes(raw)):
            if bytes(raw[off + 8 : off + 8 + name_len]) == b"01":
                struct.pack_into("<I", raw, off, deep)
                return
        raise AssertionError("no entry 01")

    deep = _ino(path, "/deep")
    C.patch_dir_block(path, "/deep/00", 0, mutate)


def link_count(path: Path) -> None:
    C.patch_inode(path, _ino(path, LARGEFILE), lambda raw: struct.pack_into("<H", raw, 0x1A, 5))


def block_claimed_twice(path: Path) -> None:
    _, _, phys, _ = _tree_file(path)
    other = _ino(path, "/hole_at_end")
    raw = C.read_at(path, C.inode_offset(path, other) + 0x28, 60)
    _, entries, _, _ = struct.unpack_from("<HHHH", raw, 0)
    assert entries >= 1
    struct.pack_into("<HI", raw, 12 + 6, 0, phys)  # first extent now starts on largefile's
    C.set_i_block(path, other, bytes(raw))


def htree_bad_levels(path: Path) -> None:
    C.patch_htree_root(path, "/htree", lambda raw: raw.__setitem__(0x1E, 3))


def htree_bad_limit(path: Path) -> None:
    def mutate(raw: bytearray) -> None:
        limit = struct.unpack_from("<H", raw, 0x20)[0]
        struct.pack_into("<H", raw, 0x20, limit - 1)

    C.patch_htree_root(path, "/htree", mutate)


def htree_hash_order(path: Path) -> None:
    def mutate(raw: bytearray) -> None:
        a, b = 0x20 + 8 * 2, 0x20 + 8 * 3
        raw[a : a + 4], raw[b : b + 4] = raw[b : b + 4], raw[a : a + 4]

    C.patch_htree_root(path, "/htree", mutate)


def gd_checksum(path: Path) -> None:
    sb = C.superblock(path)
    offset = C.descriptor_offset(sb, 0)
    raw = C.read_at(path, offset, 2)
    C.write_at(path, offset, bytes([raw[0] ^ 0xFF, raw[1]]))  # block bitmap, csum not fixed


def ext2_rec_len_zero(path: Path) -> None:
    def mutate(raw: bytearray) -> None:
        struct.pack_into("<H", raw, C.dirents(bytes(raw))[2][0] + 4, 0)

    C.patch_dir_block(path, "/", 0, mutate)


CASES: dict[str, tuple[str, Callable[[Path], None], set[str]]] = {
    "bad_magic": (BASE, bad_magic, {"bad_magic"}),
    "bad_inode_checksum": (BASE, bad_inode_checksum, {"checksum_mismatch"}),
    "bad_gd_checksum": (BASE, gd_checksum, {"checksum_mismatch"}),
    "huge_inode_count": (BASE, huge_inode_count, {"geometry_invalid"}),
    "huge_blocks_per_group": (BASE, huge_blocks_per_group, {"geometry_invalid"}),
    "truncated": (BASE, truncated, {"truncated_image"}),
    "gd_bitmap_at_superblock": (BASE, gd_bitmap_at_superblock, {"metadata_overlap"}),
    "gd_table_at_descriptors": (BASE, gd_table_at_descriptors, {"metadata_overlap"}),
    "extent_self_reference": (BASE, extent_self_reference, {"extent_cycle"}),
    "extent_cycle": (BASE, extent_cycle, {"extent_cycle"}),
    "extent_depth_mismatch": (BASE, extent_depth_mismatch, {"extent_depth_mismatch"}),
    "extent_overlap": (BASE, extent_overlap, {"extent_overlap"}),
    "rec_len_overrun": (BASE, rec_len_overrun, {"dirent_bad_rec_len"}),
    "rec_len_zero": (BASE, rec_len_zero, {"dirent_bad_rec_len"}),
    "name_len_past_rec_len": (BASE, name_len_past_rec_len, {"dirent_name_len"}),
    "dirent_names_free_inode": (BASE, dirent_names_free_inode, {"dirent_unused_inode"}),
    "directory_cycle": (BASE, directory_cycle, {"directory_cycle"}),
    "link_count": (BASE, link_count, {"link_count_mismatch"}),
    "block_claimed_twice": (BASE, block_claimed_twice, {"block_claimed_twice"}),
    "htree_bad_levels": (BASE, htree_bad_levels, {"htree_bad_levels"}),
    "htree_bad_limit": (BASE, htree_bad_limit, {"htree_bad_limit"}),
    "htree_hash_order": (BASE, htree_hash_order, {"htree_order"}),
    "ext2_rec_len_zero": ("ext2_1k", ext2_rec_len_zero, {"dirent_bad_rec_len"}),
}


def bitmap_bit_flipped_checksum_kept(path: Path) -> None:
    sb = C.superblock(path)
    block = E.groups(path)[0].block_bitmap_at
    raw = C.read_at(path, block * sb.block_size + 100, 1)
    C.write_at(path, block * sb.block_size + 100, bytes([raw[0] ^ 0x01]))


def bitmap_bit_flipped_checksum_fixed(path: Path) -> None:
    from ext4guard.parser.bitmaps import bitmap_checksum

    sb = C.superblock(path)
    block = E.groups(path)[0].block_bitmap_at
    raw = C.read_at(path, block * sb.block_size, sb.block_size)
    raw[100] ^= 0x01
    C.write_at(path, block * sb.block_size, bytes(raw))
    csum = bitmap_checksum(sb, bytes(raw), sb.clusters_per_group)

    def mutate(desc: bytearray) -> None:
        struct.pack_into("<H", desc, 0x18, csum & 0xFFFF)
        struct.pack_into("<H", desc, 0x38, csum >> 16)

    C.patch_group_desc(path, 0, mutate)


def orphan_list_out_of_range(path: Path) -> None:
    C.patch_superblock(path, lambda raw: struct.pack_into("<I", raw, 0xE8, 100_000))


def xattr_refcount(path: Path) -> None:
    sb = C.superblock(path)
    block = E.inode_stat(path, "/xattr/shared1").file_acl
    assert block
    raw = C.read_at(path, block * sb.block_size, sb.block_size)
    struct.pack_into("<I", raw, 4, struct.unpack_from("<I", raw, 4)[0] + 1)
    struct.pack_into("<I", raw, 0x10, C.xattr_block_checksum(sb, block, bytes(raw)))
    C.write_at(path, block * sb.block_size, bytes(raw))


def htree_leaves_swapped(path: Path) -> None:
    def mutate(raw: bytearray) -> None:
        a, b = 0x20 + 8 * 1 + 4, 0x20 + 8 * 2 + 4  # the block fields of entries 1 and 2
        raw[a : a + 4], raw[b : b + 4] = raw[b : b + 4], raw[a : a + 4]

    C.patch_htree_root(path, "/htree", mutate)


def dtime_on_live_inode(path: Path) -> None:
    C.patch_inode(path, _ino(path, LARGEFILE), lambda raw: struct.pack_into("<I", raw, 0x14, 99))


def slash_in_name(path: Path) -> None:
    def mutate(raw: bytearray) -> None:
        raw[C.dirents(bytes(raw))[2][0] + 8] = ord("/")

    C.patch_dir_block(path, "/bin", 0, mutate)


def duplicate_name(path: Path) -> None:
    def mutate(raw: bytearray) -> None:
        live = [e for e in C.dirents(bytes(raw))[2:] if e[1]]
        for i, first in enumerate(live):
            for second in live[i + 1 :]:
                if first[3] == second[3]:
                    name = raw[first[0] + 8 : first[0] + 8 + first[3]]
                    raw[second[0] + 8 : second[0] + 8 + second[3]] = name
                    return
        raise AssertionError("no two names of one length")

    C.patch_dir_block(path, "/bin", 0, mutate)


def ea_inode_flag_cleared(path: Path) -> None:
    ea = next(i for i in range(12, 64) if E.inode_stat(path, i).flags & 0x200000)

    def mutate(raw: bytearray) -> None:
        struct.pack_into("<I", raw, 0x20, struct.unpack_from("<I", raw, 0x20)[0] & ~0x200000)

    C.patch_inode(path, ea, mutate)


def journal_magic(path: Path) -> None:
    sb = C.superblock(path)
    block = E.bmap(path, sb.journal_inum, 0)
    C.write_at(path, block * sb.block_size, b"\0\0\0\0")


def uninit_group_free_count(path: Path) -> None:
    group = next(g.number for g in E.groups(path) if "BLOCK_UNINIT" in g.flags)

    def mutate(desc: bytearray) -> None:
        struct.pack_into("<H", desc, 0x0C, struct.unpack_from("<H", desc, 0x0C)[0] - 1)

    C.patch_group_desc(path, group, mutate)


CASES.update(
    {
        "journal_magic": (BASE, journal_magic, {"journal_invalid"}),
        "dtime_on_live_inode": (BASE, dtime_on_live_inode, {"inode_invalid"}),
        "slash_in_name": (BASE, slash_in_name, {"dirent_bad_name"}),
        "duplicate_name": (BASE, duplicate_name, {"dirent_bad_name"}),
        "ea_inode_flag_cleared": ("ext4_ea_inode", ea_inode_flag_cleared, {"xattr_ea_inode_bad"}),
        "htree_leaves_swapped": (BASE, htree_leaves_swapped, {"htree_leaf_hash"}),
        "uninit_group_free_count": (
            "ext4_meta_bg",
            uninit_group_free_count,
            {"free_count_mismatch"},
        ),
        "bitmap_checksum": (BASE, bitmap_bit_flipped_checksum_kept, {"checksum_mismatch"}),
        "bitmap_mismatch": (
            BASE,
            bitmap_bit_flipped_checksum_fixed,
            {"bitmap_mismatch", "free_count_mismatch"},
        ),
        "xattr_refcount": (BASE, xattr_refcount, {"xattr_block_invalid"}),
    }
)


@pytest.mark.parametrize("case", sorted(CASES))
def test_corruption_is_found(case: str, tmp_path: Path) -> None:
    seed, corrupt, expected = CASES[case]
    path = C.seed_copy(seed, tmp_path)
    corrupt(path)
    fsck = E.e2fsck(path)
    assert fsck.returncode not in (0, 1), f"e2fsck -fn calls it clean:\n{fsck.stdout}"
    report = _report(path)
    assert not report.clean
    codes = report.codes
    assert expected <= codes, (expected, [str(f) for f in report.findings])


def test_orphan_list_out_of_range(tmp_path: Path) -> None:
    # e2fsck -n skips the orphan list; -y (on a second copy) processes and reports it.
    path = C.seed_copy(BASE, tmp_path)
    orphan_list_out_of_range(path)
    probe = tmp_path / "probe.img"
    shutil.copyfile(path, probe)
    assert "Illegal orphaned inode" in E.e2fsck(probe, fix=True).stdout
    assert "orphan_invalid" in _report(path).codes


def _make_image(tmp_path: Path, name: str) -> Path:
    tree = tmp_path / "tree"
    tree.mkdir()
    _random_tree(tree, 7)
    image = tmp_path / f"{name}.img"
    subprocess.run(
        [MKE2FS, "-q", "-F", "-d", str(tree), *GENERATED[name], str(image), "16M"],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "MKE2FS_CONFIG": str(_CONFIG)},
    )
    return image


def test_orphan_file_block_tail(tmp_path: Path) -> None:
    path = _make_image(tmp_path, "ext4_orphan_file")
    sb = C.superblock(path)
    assert sb.orphan_file_inum
    assert _report(path).clean
    block = E.blocks(path, sb.orphan_file_inum)[-1]
    tail = block * sb.block_size + sb.block_size - 8
    C.write_at(path, tail, b"\0\0\0\0")  # ob_magic gone
    assert E.e2fsck(path).returncode not in (0, 1)
    assert "orphan_invalid" in _report(path).codes


@pytest.mark.parametrize("seed", ["ext4_1k", "ext2_1k", "ext4_inline"])
def test_random_damage_raises_only_ext4error(seed: str, tmp_path: Path) -> None:
    """Random byte damage in the metadata-dense first blocks: a report or an Ext4Error
    (an image that cannot be opened), never anything else."""
    pristine = seed_image(seed).read_bytes()
    rng = random.Random(seed)
    path = tmp_path / "mutant.img"
    for _ in range(25):
        data = bytearray(pristine)
        for _ in range(rng.choice([1, 4, 32])):
            data[rng.randrange(1024, 160 * 1024)] = rng.randrange(256)
        path.write_bytes(bytes(data))
        try:
            report = check_image(path)
        except Ext4Error:
            continue
        assert report.clean == (not report.findings)


def test_budget_exhaustion_is_a_finding_not_a_crash() -> None:
    with Filesystem.open(seed_image("ext4_default")) as fs:
        report = check(fs, Budget(blocks=20, entries=1 << 20))
    assert not report.clean
    assert "budget_exceeded" in report.codes
    assert any("budget" in note for note in report.notes)


def test_notes_are_not_findings(tmp_path: Path) -> None:
    """needs_recovery and unknown RO_COMPAT bits are notes; the image stays clean."""
    path = C.seed_copy(BASE, tmp_path)

    def mutate(raw: bytearray) -> None:
        incompat, ro_compat = struct.unpack_from("<II", raw, 0x60)
        struct.pack_into("<II", raw, 0x60, incompat | 0x4, ro_compat | 0x40000000)

    C.patch_superblock(path, mutate)
    report = _report(path)
    assert report.clean, [str(f) for f in report.findings]
    assert any("not yet replayed" in note for note in report.notes)
    assert any("unknown read-only" in note for note in report.notes)


def test_journal_superblock_checksum(tmp_path: Path) -> None:
    from ext4guard.parser.checksum import crc32c_raw

    path = C.seed_copy(BASE, tmp_path)
    sb = C.superblock(path)
    offset = E.bmap(path, sb.journal_inum, 0) * sb.block_size
    raw = C.read_at(path, offset, 1024)
    # Turn on JBD2 csum v3 with a crc32c superblock checksum: still clean for both.
    struct.pack_into(">I", raw, 0x28, struct.unpack_from(">I", raw, 0x28)[0] | 0x10)
    raw[0x50] = 4  # JBD2_CRC32C_CHKSUM
    raw[0xFC:0x100] = b"\0\0\0\0"
    struct.pack_into(">I", raw, 0xFC, crc32c_raw(0xFFFFFFFF, bytes(raw)))
    C.write_at(path, offset, bytes(raw))
    assert E.e2fsck(path).returncode == 0
    assert _report(path).clean
    C.write_at(path, offset + 0x30, b"\x01")  # s_uuid byte, checksum not fixed
    assert E.e2fsck(path).returncode not in (0, 1)
    assert "checksum_mismatch" in _report(path).codes


@pytest.mark.parametrize(
    ("alias", "duplicate"),
    [(b"entry-000-MIXEDCASE", True), (b"Entry-000-MixedCase-2", False)],
)
def test_casefolded_duplicate_names(alias: bytes, duplicate: bool, tmp_path: Path) -> None:
    """In a casefolded directory two names that fold alike are one name twice (the kernel
    would find only one of them); a name that differs beyond case is not."""
    path = C.seed_copy("ext4_casefold", tmp_path)
    E.debugfs(path, b"ln /cf/Entry-000-MixedCase /cf/" + alias, writable=True)
    fsck = E.e2fsck(path)
    assert fsck.returncode not in (0, 1), "the extra link leaves a wrong link count"
    findings = [f for f in _report(path).findings if f.code == "dirent_bad_name"]
    assert [alias in f.detail.encode() for f in findings] == ([True] if duplicate else [])


_BACKUP_GROUP = 1


@pytest.mark.parametrize("fix_checksum", [False, True])
def test_backup_superblock_is_compared(fix_checksum: bool, tmp_path: Path) -> None:
    """A stale or damaged backup superblock is a note, not a finding: e2fsck -fn calls the
    image clean (it rewrites backups only when it repairs)."""
    path = C.seed_copy("ext4_noflexbg", tmp_path)  # 1 KiB blocks, backups in groups 1 and 3
    backup_block = E.groups(path)[_BACKUP_GROUP].superblock_at
    assert backup_block is not None
    with open(path, "r+b") as image:
        image.seek(backup_block * 1024)
        backup = bytearray(image.read(1024))
        assert struct.unpack_from("<H", backup, 0x38)[0] == 0xEF53
        assert struct.unpack_from("<H", backup, 0x5A)[0] == _BACKUP_GROUP  # s_block_group_nr
        backup[0x68] ^= 0xFF  # s_uuid[0]
        if fix_checksum:
            struct.pack_into("<I", backup, 0x3FC, crc32c_raw(0xFFFFFFFF, bytes(backup[:0x3FC])))
        image.seek(backup_block * 1024)
        image.write(backup)
    assert E.e2fsck(path).returncode == 0
    report = _report(path)
    assert report.clean
    [note] = [n for n in report.notes if "backup superblock" in n]
    assert f"group {_BACKUP_GROUP}" in note
    if fix_checksum:
        # dumpe2fs reads that backup and sees the other UUID too.
        primary = E.superblock(path)["Filesystem UUID"]
        assert note.endswith("differs from the primary in uuid")
        assert primary not in _dumpe2fs_backup(path, backup_block)
    else:
        assert "checksum" in note


def _dumpe2fs_backup(path: Path, block: int) -> str:
    return subprocess.run(
        [E.DUMPE2FS, "-h", "-o", f"superblock={block}", "-o", "blocksize=1024", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
