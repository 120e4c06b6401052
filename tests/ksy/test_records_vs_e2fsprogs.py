"""Every seed, every record kind: Kaitai-decoded fields against what e2fsprogs prints.

For each seed image the generated classes decode the superblock, every group descriptor, a
deterministic sample of inodes (the root, then a breadth-first walk of the tree as debugfs
lists it, at most ``MAX_INODES``), their extent nodes, linear directory blocks, htree
(dx_root / dx_node) blocks, in-inode and block xattrs and the jbd2 journal, and compare the
values with ``dumpe2fs``, ``debugfs stat / ex / ls / htree_dump / ea_list / ea_get /
logdump``, run on the same image at test time.  ``tests/ksy/locate.py`` finds records by
arithmetic; e2fsprogs says where data blocks are (stat's EXTENTS/BLOCKS spans).

A record kind a seed does not contain skips that seed's case with the reason; the last test
asserts that across all seeds every record kind was compared at least once.
"""

from __future__ import annotations

import functools
import shutil
import struct
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kaitaistruct import KaitaiStructError

from ext4guard.parser._ksy.ext4_dir import Ext4Dir
from ext4guard.parser._ksy.ext4_extent import Ext4Extent
from ext4guard.parser._ksy.ext4_group_desc import Ext4GroupDesc
from ext4guard.parser._ksy.ext4_htree import Ext4Htree
from ext4guard.parser._ksy.ext4_inode import Ext4Inode
from ext4guard.parser._ksy.ext4_superblock import Ext4Superblock
from ext4guard.parser._ksy.ext4_xattr import Ext4Xattr
from ext4guard.parser._ksy.jbd2 import Jbd2
from tests.ksy import locate as L
from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, seed_image, seed_manifest

pytestmark = pytest.mark.skipif(not E.available(), reason="e2fsprogs is not installed")

MAX_INODES = 40  # sampled inodes per seed
MAX_DIRS = 16  # directories listed while sampling
MAX_DIR_BLOCKS = 64  # linear directory blocks compared per directory

# --------------------------------------------------------------------------------------------
# names e2fsprogs prints (lib/e2p) for bits the grammar exposes
# --------------------------------------------------------------------------------------------

FEATURES: dict[str, tuple[str, str]] = {
    "dir_prealloc": ("s_feature_compat", "dir_prealloc"),
    "imagic_inodes": ("s_feature_compat", "imagic_inodes"),
    "has_journal": ("s_feature_compat", "has_journal"),
    "ext_attr": ("s_feature_compat", "ext_attr"),
    "resize_inode": ("s_feature_compat", "resize_inode"),
    "dir_index": ("s_feature_compat", "dir_index"),
    "lazy_bg": ("s_feature_compat", "lazy_bg"),
    "sparse_super2": ("s_feature_compat", "sparse_super2"),
    "fast_commit": ("s_feature_compat", "fast_commit"),
    "stable_inodes": ("s_feature_compat", "stable_inodes"),
    "orphan_file": ("s_feature_compat", "orphan_file"),
    "compression": ("s_feature_incompat", "compression"),
    "filetype": ("s_feature_incompat", "filetype"),
    "needs_recovery": ("s_feature_incompat", "recover"),
    "journal_dev": ("s_feature_incompat", "journal_dev"),
    "meta_bg": ("s_feature_incompat", "meta_bg"),
    "extent": ("s_feature_incompat", "extents"),
    "64bit": ("s_feature_incompat", "is_64bit"),
    "mmp": ("s_feature_incompat", "mmp"),
    "flex_bg": ("s_feature_incompat", "flex_bg"),
    "ea_inode": ("s_feature_incompat", "ea_inode"),
    "dirdata": ("s_feature_incompat", "dirdata"),
    "metadata_csum_seed": ("s_feature_incompat", "csum_seed"),
    "large_dir": ("s_feature_incompat", "largedir"),
    "inline_data": ("s_feature_incompat", "inline_data"),
    "encrypt": ("s_feature_incompat", "encrypt"),
    "casefold": ("s_feature_incompat", "casefold"),
    "sparse_super": ("s_feature_ro_compat", "sparse_super"),
    "large_file": ("s_feature_ro_compat", "large_file"),
    "huge_file": ("s_feature_ro_compat", "huge_file"),
    "uninit_bg": ("s_feature_ro_compat", "gdt_csum"),
    "dir_nlink": ("s_feature_ro_compat", "dir_nlink"),
    "extra_isize": ("s_feature_ro_compat", "extra_isize"),
    "quota": ("s_feature_ro_compat", "quota"),
    "bigalloc": ("s_feature_ro_compat", "bigalloc"),
    "metadata_csum": ("s_feature_ro_compat", "metadata_csum"),
    "replica": ("s_feature_ro_compat", "replica"),
    "read-only": ("s_feature_ro_compat", "readonly"),
    "project": ("s_feature_ro_compat", "project"),
    "shared_blocks": ("s_feature_ro_compat", "shared_blocks"),
    "verity": ("s_feature_ro_compat", "verity"),
    "orphan_present": ("s_feature_ro_compat", "orphan_present"),
}
FS_FLAGS = {0x1: "signed_directory_hash", 0x2: "unsigned_directory_hash", 0x4: "test_filesystem"}
MOUNT_OPTS = {
    0x1: "debug",
    0x2: "bsdgroups",
    0x4: "user_xattr",
    0x8: "acl",
    0x10: "uid16",
    0x100: "nobarrier",
    0x200: "block_validity",
    0x400: "discard",
    0x800: "nodelalloc",
}
JOURNAL_DATA_OPTS = {
    0x20: "journal_data",
    0x40: "journal_data_ordered",
    0x60: "journal_data_writeback",
}
ERRORS = {1: "Continue", 2: "Remount read-only", 3: "Panic"}
OS_NAMES = {0: "Linux", 1: "Hurd", 2: "Masix", 3: "FreeBSD", 4: "Lites"}
HASH_NAMES = {0: "legacy", 1: "half_md4", 2: "tea", 6: "siphash"}
JOURNAL_FEATURES = {
    "journal_checksum": ("compat_checksum",),
    "journal_incompat_revoke": ("incompat_revoke",),
    "journal_64bit": ("incompat_64bit",),
    "journal_async_commit": ("incompat_async_commit",),
    "journal_checksum_v2": ("incompat_csum_v2",),
    "journal_checksum_v3": ("incompat_csum_v3",),
    "journal_fast_commit": ("incompat_fast_commit",),
}
JOURNAL_KEYS = frozenset(
    {
        "Journal features",
        "Total journal size",
        "Total journal blocks",
        "Max transaction length",
        "Fast commit length",
        "Journal first block",
        "Journal sequence",
        "Journal start",
        "Journal number of users",
        "Journal checksum type",
        "Journal checksum",
        "Journal errno",
        "Journal users",
    }
)
XATTR_PREFIX = {
    1: "user.",
    2: "system.posix_acl_access",
    3: "system.posix_acl_default",
    4: "trusted.",
    6: "security.",
    7: "system.",
    8: "system.richacl",
}
INODE_FLAG_BITS = {  # EXT4_*_FL as debugfs prints them in stat's "Flags:" word
    0x10: "immutable",
    0x20: "append",
    0x40: "nodump",
    0x80: "noatime",
    0x800: "encrypt",
    0x1000: "index",
    0x4000: "journal_data",
    0x10000: "dirsync",
    0x20000: "topdir",
    0x40000: "huge_file",
    0x80000: "extents",
    0x100000: "verity",
    0x200000: "ea_inode",
    0x10000000: "inline_data",
    0x20000000: "projinherit",
    0x40000000: "casefold",
}
EXT4_INDEX_FL = 0x1000
EXT4_EXTENTS_FL = 0x80000
EXT4_INLINE_DATA_FL = 0x10000000
S_IFDIR, S_IFLNK, S_IFCHR, S_IFBLK = 0o040000, 0o120000, 0o020000, 0o060000


def ev(x: Any) -> int:
    """An enum member or a raw int (Kaitai leaves unknown enum values as ints)."""
    return int(getattr(x, "value", x))


# --------------------------------------------------------------------------------------------
# per-image survey: what e2fsprogs says is where (cached, one debugfs call per sampled inode)
# --------------------------------------------------------------------------------------------


@dataclass
class Sampled:
    ino: int
    stat: E.InodeStat
    parent: int | None = None  # set for directories reached by the walk
    listing: list[E.DirEntry] | None = None  # `ls` of a directory


@dataclass
class Survey:
    img: Path
    sb: Ext4Superblock
    dump: E.KeyValueDump
    inodes: dict[int, Sampled] = field(default_factory=dict)

    @property
    def bs(self) -> int:
        return int(self.sb.block_size)

    def kinds(self) -> set[str]:
        return {k for k, v in record_presence(self).items() if v}


def _is_dir(st: E.InodeStat) -> bool:
    return st.type == "directory"


def _manifest_paths(entries: list[dict[str, Any]]) -> list[bytes]:
    """A deterministic, varied sample of manifest paths: every directory (up to MAX_DIRS),
    the first entry of each (type, has xattrs, size magnitude) class, then an even stride.
    Directories come first, largest first, so the listing budget goes to htree directories."""
    rows = sorted(entries, key=lambda e: bytes.fromhex(e["path_hex"]))
    picked: list[bytes] = []
    seen: set[tuple[object, ...]] = set()
    children: dict[bytes, int] = {}
    for e in rows:
        parent = bytes.fromhex(e["path_hex"]).rsplit(b"/", 1)[0] or b"/"
        children[parent] = children.get(parent, 0) + 1
    # the largest directories first: those are the indexed (htree) ones
    dirs = sorted(
        (e for e in rows if e["type"] == "dir"),
        key=lambda e: -children.get(bytes.fromhex(e["path_hex"]), 0),
    )[:MAX_DIRS]
    picked += [bytes.fromhex(e["path_hex"]) for e in dirs]
    for e in rows:
        cls = (e["type"], bool(e.get("xattrs")), int(e.get("size") or 0).bit_length() // 4)
        if cls not in seen and bytes.fromhex(e["path_hex"]) not in picked:
            seen.add(cls)
            picked.append(bytes.fromhex(e["path_hex"]))
    rest = [bytes.fromhex(e["path_hex"]) for e in rows]
    stride = max(1, len(rest) // MAX_INODES)
    for p in rest[::stride]:
        if len(picked) >= MAX_INODES:
            break
        if p not in picked:
            picked.append(p)
    return picked


def _add(sv: Survey, spec: int | bytes, parent: int | None) -> Sampled | None:
    try:
        st = E.inode_stat(sv.img, spec)
    except E.E2fsprogsError:  # e.g. a name debugfs cannot look up (encrypted directory)
        return None
    if st.inode in sv.inodes:
        return sv.inodes[st.inode]
    s = Sampled(st.inode, st, parent)
    sv.inodes[st.inode] = s
    listed = sum(x.listing is not None for x in sv.inodes.values())
    # huge directories are covered through htree_dump's leaves; `ls` on them is slow
    if _is_dir(st) and listed < MAX_DIRS and st.size <= MAX_DIR_BLOCKS * sv.bs:
        s.listing = E.ls(sv.img, st.inode)
    return s


@functools.cache
def survey(img: Path, manifest: tuple[bytes, ...] = ()) -> Survey:
    """Sample inodes: the root, the manifest's paths (by path, via debugfs), or, without a
    manifest, a breadth-first walk of what debugfs lists."""
    sv = Survey(img, L.superblock(img), E.superblock(img))
    _add(sv, 2, 2)
    by_path: dict[bytes, int] = {b"": 2}
    for path in manifest:
        parent = by_path.get(path.rsplit(b"/", 1)[0])
        s = _add(sv, path, parent)
        if s is not None:
            by_path[path] = s.ino
    queue = [(d.ino, 2) for d in sv.inodes[2].listing or () if d.ino and d.name[:1] != b"."]
    while queue and len(sv.inodes) < MAX_INODES and not manifest:
        ino, parent = queue.pop(0)
        if ino in sv.inodes:
            continue
        s = _add(sv, ino, parent)
        for d in (s.listing if s else None) or ():
            if d.name not in (b".", b"..") and d.ino and d.ino not in sv.inodes:
                queue.append((d.ino, ino))
    if sv.sb.s_feature_compat.has_journal and sv.sb.s_journal_inum:
        _add(sv, int(sv.sb.s_journal_inum), None)
    return sv


def data_map(st: E.InodeStat) -> dict[int, int]:
    """Logical -> physical block of an inode, from stat's EXTENTS/BLOCKS line."""
    out: dict[int, int] = {}
    for span in st.extents or st.blocks or ():
        if span.kind != "data" or span.logical_start is None or span.logical_end is None:
            continue
        for i in range(span.logical_end - span.logical_start + 1):
            out[span.logical_start + i] = span.physical_start + i
    return out


def is_htree(s: Sampled) -> bool:
    return _is_dir(s.stat) and bool(s.stat.flags & EXT4_INDEX_FL)


def is_linear_dir(s: Sampled) -> bool:
    return (
        _is_dir(s.stat)
        and s.listing is not None
        and not s.stat.flags & EXT4_INLINE_DATA_FL
        and s.stat.inline_data_size is None
    )


def record_presence(sv: Survey) -> dict[str, bool]:
    ext = [s for s in sv.inodes.values() if s.stat.flags & EXT4_EXTENTS_FL]
    return {
        "superblock": True,
        "group_desc_32": sv.sb.desc_size == 32,
        "group_desc_64": sv.sb.desc_size >= 64,
        "inode": bool(sv.inodes),
        "inode_extra": sv.sb.inode_size > 128,
        "extent_leaf": bool(ext),
        "extent_index": any(
            any(sp.kind.startswith("ETB") for sp in s.stat.extents or ()) for s in ext
        ),
        "extent_unwritten": any(any(sp.uninit for sp in s.stat.extents or ()) for s in ext),
        "dirent": any(is_linear_dir(s) for s in sv.inodes.values()),
        "dir_tail": bool(sv.sb.s_feature_ro_compat.metadata_csum)
        and any(is_linear_dir(s) for s in sv.inodes.values()),
        "dx_root": any(is_htree(s) for s in sv.inodes.values()),
        "xattr_ibody": any(s.stat.xattrs for s in sv.inodes.values()) and sv.sb.inode_size > 128,
        "xattr_block": any(s.stat.file_acl for s in sv.inodes.values()),
        "posix_acl": any(
            x.name.startswith("system.posix_acl") for s in sv.inodes.values() for x in s.stat.xattrs
        ),
        "jbd2_superblock": journal_inode(sv) is not None,
    }


def journal_inode(sv: Survey) -> Sampled | None:
    if not sv.sb.s_feature_compat.has_journal or not sv.sb.s_journal_inum:
        return None
    return sv.inodes.get(int(sv.sb.s_journal_inum))


def seed_survey(seed: str) -> Survey:
    try:
        entries = seed_manifest(seed).get("entries") or []
    except FileNotFoundError:
        entries = []
    return survey(seed_image(seed), tuple(_manifest_paths(entries)))


# Filled by the tests: record kind -> seeds on which it was compared with e2fsprogs.
EXERCISED: dict[str, set[str]] = {}


def exercised(kind: str, seed: str) -> None:
    EXERCISED.setdefault(kind, set()).add(seed)


# --------------------------------------------------------------------------------------------
# superblock
# --------------------------------------------------------------------------------------------


def _cstr(raw: bytes) -> str | None:
    s = raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    return s or None


def _uuid(raw: bytes) -> str:
    return str(uuid.UUID(bytes=bytes(raw)))


def _bits(value: int, names: dict[int, str]) -> set[str]:
    return {n for bit, n in names.items() if value & bit == bit}


def _lifetime(kb: int) -> str:
    if kb < 8192:
        return f"{kb} kB"
    if kb < 8192 << 10:
        return f"{(kb + 512) >> 10} MB"
    if kb < 8192 << 20:
        return f"{(kb + (1 << 19)) >> 20} GB"
    return f"{(kb + (1 << 29)) >> 30} TB"


def expected_superblock(sb: Ext4Superblock) -> dict[str, object]:
    """dumpe2fs -h label -> the value the decoded superblock says it must print."""
    bs = int(sb.block_size)
    exp: dict[str, object] = {
        "Filesystem volume name": _cstr(sb.s_volume_name),
        "Last mounted on": _cstr(sb.s_last_mounted),
        "Filesystem UUID": _uuid(sb.s_uuid),
        "Filesystem magic number": sb.s_magic,
        "Filesystem revision #": sb.s_rev_level,
        "Filesystem OS type": OS_NAMES.get(ev(sb.s_creator_os)),
        "Errors behavior": ERRORS.get(ev(sb.s_errors)),
        "Filesystem state": ("clean" if sb.state_valid_fs else "not clean")
        + (" with errors" if sb.state_error_fs else ""),
        "Inode count": sb.s_inodes_count,
        "Block count": sb.blocks_count,
        "Reserved block count": sb.r_blocks_count,
        "Overhead clusters": sb.s_overhead_clusters,
        "Free blocks": sb.free_blocks_count,
        "Free inodes": sb.s_free_inodes_count,
        "First block": sb.s_first_data_block,
        "Block size": bs,
        "Fragment size": sb.cluster_size,
        "Cluster size": sb.cluster_size,
        "Group descriptor size": sb.s_desc_size,
        "Reserved GDT blocks": sb.s_reserved_gdt_blocks,
        "Blocks per group": sb.s_blocks_per_group,
        "Fragments per group": sb.s_clusters_per_group,
        "Clusters per group": sb.s_clusters_per_group,
        "Inodes per group": sb.s_inodes_per_group,
        "Inode blocks per group": -(-sb.s_inodes_per_group * sb.inode_size // bs),
        "RAID stride": sb.s_raid_stride,
        "RAID stripe width": sb.s_raid_stripe_width,
        "First meta block group": sb.s_first_meta_bg,
        "Flex block group size": 1 << sb.s_log_groups_per_flex,
        "Filesystem created": sb.mkfs_time,
        "Last mount time": sb.mtime or None,
        "Last write time": sb.wtime,
        "Mount count": sb.s_mnt_count,
        "Maximum mount count": sb.s_max_mnt_count,
        "Last checked": sb.lastcheck,
        "Check interval": sb.s_checkinterval,
        "Next check after": sb.lastcheck + sb.s_checkinterval,
        "Lifetime writes": _lifetime(int(sb.s_kbytes_written)),
        "Reserved blocks uid": sb.s_def_resuid,
        "Reserved blocks gid": sb.s_def_resgid,
        "First inode": sb.first_ino,
        "Inode size": sb.inode_size,
        "Required extra isize": sb.s_min_extra_isize,
        "Desired extra isize": sb.s_want_extra_isize,
        "Journal UUID": _uuid(sb.s_journal_uuid),
        "Journal inode": sb.s_journal_inum,
        "Journal device": sb.s_journal_dev,
        "First orphan inode": sb.s_last_orphan,
        "Default directory hash": HASH_NAMES.get(ev(sb.s_def_hash_version)),
        "Directory Hash Seed": _uuid(struct.pack("<4I", *sb.s_hash_seed)),
        "Journal backup": "inode blocks"
        if sb.s_jnl_backup_type == 1
        else f"type {sb.s_jnl_backup_type}",
        "FS Error count": sb.s_error_count,
        "First error time": sb.first_error_time,
        "First error function": _cstr(sb.s_first_error_func),
        "First error line #": sb.s_first_error_line,
        "First error inode #": sb.s_first_error_ino,
        "First error block #": sb.s_first_error_block,
        "Last error time": sb.last_error_time,
        "Last error function": _cstr(sb.s_last_error_func),
        "Last error line #": sb.s_last_error_line,
        "Last error inode #": sb.s_last_error_ino,
        "Last error block #": sb.s_last_error_block,
        "MMP block number": sb.s_mmp_block,
        "MMP update interval": sb.s_mmp_update_interval,
        "User quota inode": sb.s_usr_quota_inum,
        "Group quota inode": sb.s_grp_quota_inum,
        "Project quota inode": sb.s_prj_quota_inum,
        "Checksum type": "crc32c" if ev(sb.s_checksum_type) == 1 else ev(sb.s_checksum_type),
        "Checksum": sb.s_checksum,
        "Checksum seed": sb.s_checksum_seed,
        "Orphan file inode": sb.s_orphan_file_inum,
        "Mount options": _cstr(sb.s_mount_opts),
    }
    return exp


@pytest.mark.parametrize("seed", SEEDS)
def test_superblock_vs_dumpe2fs_h(seed: str) -> None:
    sv = seed_survey(seed)
    sb, dump = sv.sb, sv.dump
    exp = expected_superblock(sb)
    unmapped: list[str] = []
    for key in dump:
        if key in JOURNAL_KEYS:
            continue
        if key == "Filesystem features":
            printed = set(dump.list(key))
            ours = {n for n, (w, a) in FEATURES.items() if getattr(getattr(sb, w), a)}
            assert ours == printed, f"features: ours {sorted(ours)} vs dumpe2fs {sorted(printed)}"
            for w in ("s_feature_compat", "s_feature_incompat", "s_feature_ro_compat"):
                assert getattr(sb, w).unknown_bits == 0 or any(
                    n.startswith("FEATURE_") for n in printed
                )
        elif key == "Filesystem flags":
            assert set(dump.list(key)) == _bits(sb.s_flags, FS_FLAGS)
        elif key == "Default mount options":
            opts = _bits(sb.s_default_mount_opts, MOUNT_OPTS)
            jd = sb.s_default_mount_opts & 0x60
            if jd:
                opts.add(JOURNAL_DATA_OPTS[jd])
            assert set(dump.list(key)) == opts
        elif key == "Mount options":
            assert dump.raw[key] == (_cstr(sb.s_mount_opts) or "")
        elif key == "Backup block groups":
            assert [int(x) for x in dump.raw[key].split()] == [b for b in sb.s_backup_bgs if b]
        elif key == "Character encoding":
            assert ev(sb.s_encoding) == 1 and dump.raw[key].startswith("utf8")
        elif key in exp:
            assert dump[key] == exp[key], f"{key}: dumpe2fs {dump.raw[key]!r}, ours {exp[key]!r}"
        else:
            unmapped.append(key)
    assert not unmapped, f"dumpe2fs -h labels not compared: {unmapped}"
    # lines dumpe2fs prints only when the field is set
    for key, cond in [
        ("Reserved GDT blocks", sb.s_reserved_gdt_blocks != 0),
        ("Group descriptor size", bool(sb.s_feature_incompat.is_64bit)),
        ("Checksum", bool(sb.s_feature_ro_compat.metadata_csum)),
        ("Journal inode", sb.s_journal_inum != 0),
        ("Flex block group size", bool(sb.s_feature_incompat.flex_bg)),
    ]:
        assert (key in dump) == cond, key
    exercised("superblock", seed)


# --------------------------------------------------------------------------------------------
# group descriptors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_group_descriptors_vs_dumpe2fs(seed: str) -> None:
    sv = seed_survey(seed)
    sb = sv.sb
    printed = E.groups(sv.img)
    assert len(printed) == sb.group_count
    csum = bool(sb.s_feature_ro_compat.metadata_csum or sb.s_feature_ro_compat.gdt_csum)
    for g in printed:
        raw = L.descriptor_bytes(sv.img, sb, g.number)
        gd = L.decode(Ext4GroupDesc, raw)
        where = f"group {g.number}"
        assert gd.has_hi_fields == (len(raw) >= 64), where
        assert gd.block_bitmap == g.block_bitmap_at, where
        assert gd.inode_bitmap == g.inode_bitmap_at, where
        assert gd.inode_table == g.inode_table_at[0], where
        assert gd.free_blocks_count == g.free_blocks_count, where
        assert gd.free_inodes_count == g.free_inodes_count, where
        assert gd.used_dirs_count == g.directories, where
        if g.unused_inodes is not None:
            assert gd.itable_unused == g.unused_inodes, where
        if csum:
            assert gd.bg_checksum == g.csum, where
            assert g.csum_expected is None, f"{where}: dumpe2fs reports a checksum mismatch"
        else:
            assert g.csum is None
        flags = {
            "INODE_UNINIT": gd.bg_flags.inode_uninit,
            "BLOCK_UNINIT": gd.bg_flags.block_uninit,
            "ITABLE_ZEROED": gd.bg_flags.itable_zeroed,
        }
        if csum:  # dumpe2fs prints the flags only with gdt_csum / metadata_csum
            assert {k for k, v in flags.items() if v} == set(g.flags), where
        else:
            assert g.flags == (), where
        assert gd.bg_flags.unknown_bits == 0, where
        if g.block_bitmap_csum is not None:
            assert gd.block_bitmap_csum == g.block_bitmap_csum, where
            assert gd.inode_bitmap_csum == g.inode_bitmap_csum, where
            if gd.has_hi_fields:  # the 32-byte form keeps only the low halves
                assert gd.bg_block_bitmap_csum_hi == g.block_bitmap_csum >> 16, where
    exercised("group_desc_64" if sb.desc_size >= 64 else "group_desc_32", seed)


# --------------------------------------------------------------------------------------------
# inodes
# --------------------------------------------------------------------------------------------


def _u32(b: bytes, i: int) -> int:
    return int(struct.unpack_from("<I", b, 4 * i)[0])


@pytest.mark.parametrize("seed", SEEDS)
def test_inodes_vs_debugfs_stat(seed: str) -> None:
    sv = seed_survey(seed)
    sb = sv.sb
    for n, s in enumerate(sorted(sv.inodes.values(), key=lambda s: s.ino)):
        raw = L.inode_bytes(sv.img, sb, s.ino)
        if n < 3:  # the arithmetic location agrees with debugfs's own inode_dump
            assert raw == E.inode_raw(sv.img, s.ino), s.ino
        ino = L.decode(Ext4Inode, raw)
        st = s.stat
        where = f"inode {s.ino}"
        assert ino.permissions == st.mode, where
        assert ino.i_flags.raw == st.flags, where
        assert ino.i_flags.unknown_bits == 0, where
        for bit, name in INODE_FLAG_BITS.items():
            assert getattr(ino.i_flags, name) == bool(st.flags & bit), f"{where} {name}"
        assert ino.i_generation == st.generation, where
        assert ino.l_i_version == st.version, where
        assert ino.uid == st.user and ino.gid == st.group, where
        assert ino.size == st.size, where
        assert ino.file_acl_64 == st.file_acl, where
        assert ino.i_links_count == st.links, where
        blocks = ino.blocks_48 if sb.s_feature_ro_compat.huge_file else ino.i_blocks_lo
        assert blocks == st.blockcount, where
        for name, sec, extra_attr in [
            ("ctime", ino.i_ctime, "i_ctime_extra"),
            ("mtime", ino.i_mtime, "i_mtime_extra"),
            ("atime", ino.i_atime, "i_atime_extra"),
        ]:
            t = st.times[name]
            assert sec == t.seconds, f"{where} {name}"
            assert getattr(ino, extra_attr, None) == t.extra, f"{where} {name} extra"
        if ino.i_dtime or "dtime" in st.times:
            assert ino.i_dtime == st.times["dtime"].seconds, where
        if ino.has_crtime:
            assert ino.i_crtime == st.times["crtime"].seconds, where
            if ino.has_crtime_extra:
                assert ino.i_crtime_extra == st.times["crtime"].extra, where
        else:
            assert "crtime" not in st.times, where
        if sb.inode_size > 128:
            assert ino.i_extra_isize == st.extra_isize, where
            exercised("inode_extra", seed)
        assert ino.version == (
            (st.version_hi << 32) | st.version if st.version_hi is not None else st.version
        ), where
        assert ino.has_version_hi == (st.version_hi is not None), where
        if st.project is not None:
            assert ino.projid == st.project, where
        if st.checksum is not None:
            assert ino.checksum == st.checksum, where
            assert ino.has_checksum_hi == ((st.extra_isize or 0) >= 4), where
        kind = ino.i_mode & 0o170000
        if st.fast_link_dest is not None:
            assert kind == S_IFLNK, where
            if ino.i_flags.inline_data:  # i_block holds the first 60 bytes, system.data the rest
                assert st.fast_link_dest[:60] == ino.i_block[: min(ino.size, 60)], where
            else:
                assert ino.i_block[: ino.size] == st.fast_link_dest, where
        if st.device is not None:
            assert kind in (S_IFCHR, S_IFBLK), where
            w0, w1 = _u32(ino.i_block, 0), _u32(ino.i_block, 1)
            if w0:
                assert ((w0 >> 8) & 0xFF, w0 & 0xFF) == st.device, where
            else:
                major, minor = (w1 & 0xFFF00) >> 8, (w1 & 0xFF) | ((w1 >> 12) & 0xFFF00)
                assert (major, minor) == st.device, where
        if st.type == "directory":
            assert kind == S_IFDIR, where
    exercised("inode", seed)


# --------------------------------------------------------------------------------------------
# extent trees
# --------------------------------------------------------------------------------------------


def walk_extent_tree(
    sv: Survey, ino: int, node_bytes: bytes, level: int, etbs: set[int], seed: str
) -> Iterator[tuple[Any, ...]]:
    node = L.decode(Ext4Extent.Node, node_bytes)
    h = node.header
    assert h.eh_magic == 0xF30A
    assert h.eh_entries <= h.eh_max
    if level == 0:
        assert h.eh_max == 4 and not node.has_tail
    else:
        assert h.eh_max == (sv.bs - 12) // 12
        assert node.has_tail and node.tail_offset == 12 + 12 * h.eh_max
        assert node.tail_offset + 4 <= sv.bs
        exercised("extent_tail", seed)
    if node.is_leaf:
        for i, e in enumerate(node.extents, 1):
            if e.is_unwritten:
                exercised("extent_unwritten", seed)
            yield ("leaf", level, i, h.eh_entries, e.ee_block, e.start, e.len, e.is_unwritten)
        return
    for i, x in enumerate(node.indexes, 1):
        yield ("idx", level, i, h.eh_entries, x.ei_block, x.leaf)
        assert x.leaf in etbs, f"inode {ino}: index -> {x.leaf}, not an ETB block of stat"
        child = L.block(sv.img, sv.sb, x.leaf)
        sub = L.decode(Ext4Extent.Node, child)
        assert sub.header.eh_depth == h.eh_depth - 1
        exercised("extent_index", seed)
        yield from walk_extent_tree(sv, ino, child, level + 1, etbs, seed)


def check_extent_tree(sv: Survey, s: Sampled, seed: str) -> int:
    """Walk inode ``s``'s extent tree with the grammar and compare every row with ``ex``;
    returns the tree depth."""
    ino = L.inode(sv.img, sv.sb, s.ino)
    assert ino.i_flags.extents
    etbs = {sp.physical_start for sp in s.stat.extents or () if sp.kind.startswith("ETB")}
    ours = list(walk_extent_tree(sv, s.ino, ino.i_block, 0, etbs, seed))
    theirs: list[tuple[Any, ...]] = []
    depth = int(L.decode(Ext4Extent.Node, ino.i_block).header.eh_depth)
    for r in E.extents(sv.img, s.ino):
        assert r.max_depth == depth
        if r.is_leaf:
            row = (r.logical_start, r.physical_start, r.length, r.uninit)
            theirs.append(("leaf", r.level, r.entry, r.entries, *row))
        else:
            theirs.append(("idx", r.level, r.entry, r.entries, r.logical_start, r.physical_start))
    assert ours == theirs, f"inode {s.ino}"
    exercised("extent_leaf", seed)
    return depth


@pytest.mark.parametrize("seed", SEEDS)
def test_extent_nodes_vs_debugfs_ex(seed: str) -> None:
    sv = seed_survey(seed)
    todo = [s for s in sv.inodes.values() if s.stat.flags & EXT4_EXTENTS_FL]
    if not todo:
        pytest.skip("seed has no extent-mapped inode")
    for s in todo:
        check_extent_tree(sv, s, seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_extent_index_nodes_vs_debugfs_ex(seed: str, tmp_path: Path) -> None:
    """No seed file is fragmented enough for an extent block, so a copy of each extent seed
    gets one: debugfs writes a file of single blocks between holes (> 4 extents: depth 1;
    with 1 KiB blocks > 4 * 84: depth 2), then the tree is compared with ``ex``."""
    sv0 = seed_survey(seed)
    if not sv0.sb.s_feature_incompat.extents:
        pytest.skip("seed has no extents feature")
    bs = sv0.bs
    chunks = 4 * ((bs - 12) // 12) + 2 if bs == 1024 else 6
    src = tmp_path / "sparse.bin"
    with src.open("wb") as f:
        for i in range(chunks):
            f.seek(2 * i * bs)
            f.write(bytes([i & 0xFF]) * bs)
    work = tmp_path / "x.img"
    shutil.copyfile(sv0.img, work)
    try:
        E.debugfs(work, f"write {src} extent_test_file", writable=True)
        st = E.inode_stat(work, "/extent_test_file")
    except E.E2fsprogsError as err:
        pytest.skip(f"seed has no room for a fragmented file: {err}")
    if not st.flags & EXT4_EXTENTS_FL:
        pytest.skip("debugfs wrote a block-mapped file")
    sv = Survey(work, L.superblock(work), E.superblock(work))
    depth = check_extent_tree(sv, Sampled(st.inode, st), seed)
    assert depth >= (2 if bs == 1024 else 1)


# --------------------------------------------------------------------------------------------
# linear directories and dir tails
# --------------------------------------------------------------------------------------------


@dataclass
class DirBlock:
    entries: list[Any]  # Ext4Dir.DirEntry2, in block order (including inode 0)
    tail: Any | None  # Ext4Dir.DirEntryTail


def walk_dir_block(data: bytes, csum: bool) -> DirBlock:
    entries: list[Any] = []
    end = len(data) - 12 if csum else len(data)
    tail = None
    if csum:
        try:
            tail = L.decode(Ext4Dir.DirEntryTail, data[end:])
        except KaitaiStructError:
            end = len(data)
    off = 0
    while off < end:
        d = L.decode(Ext4Dir.DirEntry2, data[off:end])
        assert off + d.rec_len_bytes <= end, f"dirent at {off} overruns the block"
        entries.append(d)
        off += d.rec_len_bytes
    return DirBlock(entries, tail)


@pytest.mark.parametrize("seed", SEEDS)
def test_linear_dirents_vs_debugfs_ls(seed: str) -> None:
    sv = seed_survey(seed)
    dirs = [s for s in sv.inodes.values() if is_linear_dir(s)]
    if not dirs:
        pytest.skip("seed has no block-based directory")
    csum = bool(sv.sb.s_feature_ro_compat.metadata_csum)
    for s in dirs:
        assert s.listing is not None
        bmap = data_map(s.stat)
        nblocks = min(len(bmap), MAX_DIR_BLOCKS)
        ours: list[tuple[int, int, int, bytes]] = []
        tails: list[int] = []
        for lblk in range(nblocks):
            blk = walk_dir_block(L.block(sv.img, sv.sb, bmap[lblk]), csum)
            for d in blk.entries:  # `ls` lists unused (inode 0) entries too
                ours.append((d.inode, d.rec_len, ev(d.file_type), d.name))
                assert d.name_len == len(d.name)
            if blk.tail is not None:
                assert blk.tail.det_rec_len == 12 and ev(blk.tail.det_reserved_ft) == 0xDE
                tails.append(blk.tail.det_checksum)
        listing = s.listing
        if nblocks < len(bmap):  # compare the prefix we walked
            listing = listing[: len(ours)]
        theirs = [(d.dirent_inode, d.rec_len, d.file_type, d.name) for d in listing]
        assert ours == theirs, f"directory {s.ino}"
        if csum:
            rows = [
                d.checksum for d in E.ls(sv.img, s.ino, checksums=True) if d.checksum is not None
            ]
            assert tails == rows[: len(tails)], f"directory {s.ino}: dirblock checksums"
            assert nblocks < len(bmap) or len(tails) == len(rows), f"directory {s.ino}"
            assert len(tails) >= 1
            exercised("dir_tail", seed)
        exercised("dirent", seed)


# --------------------------------------------------------------------------------------------
# htree: dx_root, dx_node, dx_countlimit, dx_entry, dx_tail
# --------------------------------------------------------------------------------------------


def _node_tuple(node: Any, depth: int, block: int, csum: bool) -> E.HtreeNode:
    cl = node.countlimit
    entries = [E.HtreeEntry(0, 0, node.block, False)] + [
        E.HtreeEntry(i, e.hash, e.block, bool(e.hash & 1)) for i, e in enumerate(node.entries, 1)
    ]
    checksum = node.tail.dt_checksum if csum and node.has_tail else None
    return E.HtreeNode(depth, block, cl.count, cl.limit, checksum, tuple(entries))


@pytest.mark.parametrize("seed", SEEDS)
def test_htree_vs_debugfs_htree_dump(seed: str) -> None:
    sv = seed_survey(seed)
    dirs = [s for s in sv.inodes.values() if is_htree(s)]
    if not dirs:
        pytest.skip("seed has no htree directory")
    csum = bool(sv.sb.s_feature_ro_compat.metadata_csum)
    for s in dirs:
        where = f"directory {s.ino}"
        dump = E.htree(sv.img, s.ino)
        bmap = data_map(s.stat)
        root = L.decode(Ext4Htree.DxRoot, L.block(sv.img, sv.sb, bmap[0]))
        info = root.info
        assert dump.root["Reserved zero"] == info.reserved_zero, where
        assert dump.root["Hash Version"] == ev(info.hash_version), where
        assert dump.root["Info length"] == info.info_length == 8, where
        assert dump.root["Indirect levels"] == info.indirect_levels, where
        assert dump.root["Flags"] == info.unused_flags, where
        # the fake "." and ".." a linear reader sees
        assert (root.dot.inode, root.dot.rec_len, root.dot.name_len) == (s.ino, 12, 1), where
        assert root.dot_name == b".\0\0\0" and root.dotdot_name == b"..\0\0", where
        assert root.dotdot.name_len == 2 and root.dotdot.rec_len == sv.bs - 12, where
        if s.listing is not None:
            dotdot = [d for d in s.listing if d.name == b".."]
            assert dotdot and root.dotdot.inode == dotdot[0].dirent_inode, where
        if s.parent is not None:
            assert root.dotdot.inode == s.parent, where
        ours = [_node_tuple(root, 0, 0, csum)]
        if csum:
            assert root.has_tail and root.countlimit.limit == (sv.bs - 0x20) // 8 - 1, where
            exercised("dx_tail", seed)
        else:
            assert root.countlimit.limit == (sv.bs - 0x20) // 8, where
        exercised("dx_root", seed)
        exercised("dx_countlimit", seed)
        exercised("dx_entry", seed)
        if info.indirect_levels:
            children = [root.block] + [e.block for e in root.entries]
            for lblk in children:
                node = L.decode(Ext4Htree.DxNode, L.block(sv.img, sv.sb, bmap[lblk]))
                assert (node.fake.inode, node.fake.name_len) == (0, 0), where
                assert node.fake.rec_len in (sv.bs, 65535), where
                ours.append(_node_tuple(node, 1, lblk, csum))
                exercised("dx_node", seed)
        assert sorted(ours, key=lambda n: (n.depth, n.block)) == list(dump.nodes[: len(ours)]), (
            where
        )
        # leaves: the linear records of each leaf block and its dirent tail
        for leaf in dump.leaves[:MAX_DIR_BLOCKS]:
            assert bmap[leaf.block] == leaf.phys, where
            blk = walk_dir_block(L.block(sv.img, sv.sb, leaf.phys), csum)
            got = [(d.inode, d.rec_len, d.name) for d in blk.entries if d.inode]
            want = [(e.ino, e.rec_len, e.name) for e in leaf.entries if e.ino]
            assert got == want, f"{where} leaf {leaf.block}"
            assert (blk.tail.det_checksum if blk.tail else None) == leaf.checksum, where


# --------------------------------------------------------------------------------------------
# extended attributes and POSIX ACLs
# --------------------------------------------------------------------------------------------


def _xattr_name(e: Any) -> str:
    idx = ev(e.e_name_index)
    name: bytes = e.e_name
    return XATTR_PREFIX.get(idx, f"<{idx}>") + name.decode("utf-8", "surrogateescape")


def walk_xattr_entries(region: bytes, first: int, base: int) -> Iterator[tuple[str, Any, bytes]]:
    """(full name, entry, value bytes) of the entry table at ``first``; value offsets count
    from ``base``.  The walk is bounded by the region."""
    off = first
    while off + 4 <= len(region) and region[off : off + 4] != bytes(4):
        e = L.decode(Ext4Xattr.XattrEntry, region[off:])
        value = b""
        if e.e_value_inum == 0:
            start = base + e.e_value_offs
            assert start + e.e_value_size <= len(region)
            value = region[start : start + e.e_value_size]
        yield _xattr_name(e), e, value
        off += e.entry_len


def acl_to_vfs(value: bytes) -> bytes:
    """Our decode of ext4's compact ACL, re-encoded in the Linux VFS (version 2) form that
    libext2fs hands out by default; ids of short entries are 0 (as libext2fs fills them in)."""
    acl = L.decode(Ext4Xattr.PosixAcl, value)
    out = struct.pack("<I", 2)
    for e in acl.entries:
        ident = getattr(e, "e_id", None)
        out += struct.pack("<HHI", ev(e.e_tag), e.e_perm, 0 if ident is None else ident)
    return out


ACL_TEXT = {0x01: "user", 0x02: "user", 0x04: "group", 0x08: "group", 0x10: "mask", 0x20: "other"}


def acl_text(value: bytes) -> list[str]:
    """getfacl's short text form of our decoded ACL."""
    acl = L.decode(Ext4Xattr.PosixAcl, value)
    rows = []
    for e in acl.entries:
        ident = getattr(e, "e_id", None)
        perm = (
            ("r" if e.can_read else "-")
            + ("w" if e.can_write else "-")
            + ("x" if e.can_execute else "-")
        )
        rows.append(f"{ACL_TEXT[ev(e.e_tag)]}:{'' if ident is None else ident}:{perm}")
    return rows


@pytest.mark.parametrize("seed", SEEDS)
def test_xattrs_vs_debugfs_ea_get(seed: str) -> None:
    sv = seed_survey(seed)
    todo = [s for s in sv.inodes.values() if s.stat.xattrs or s.stat.file_acl]
    if not todo:
        pytest.skip("seed has no inode with extended attributes")
    sharing: dict[int, int] = {}
    for s in todo:
        sharing[s.stat.file_acl] = sharing.get(s.stat.file_acl, 0) + 1
    for s in todo:
        where = f"inode {s.ino}"
        raw = L.inode_bytes(sv.img, sv.sb, s.ino)
        ino = L.decode(Ext4Inode, raw)
        ours: dict[str, bytes] = {}
        entries: dict[str, Any] = {}
        ibody_at = 0x80 + (ino.i_extra_isize if sv.sb.inode_size > 128 else 0)
        if sv.sb.inode_size > 128 and raw[ibody_at : ibody_at + 4] == b"\0\0\x02\xea":
            L.decode(Ext4Xattr.XattrIbodyHeader, raw[ibody_at : ibody_at + 4])
            for name, e, value in walk_xattr_entries(raw[ibody_at:], 4, 4):
                ours[name], entries[name] = value, e
            exercised("xattr_ibody", seed)
        if ino.file_acl_64:
            data = L.block(sv.img, sv.sb, ino.file_acl_64)
            hdr = L.decode(Ext4Xattr.XattrHeader, data)
            assert hdr.h_magic == 0xEA020000 and hdr.h_blocks == 1, where
            assert hdr.h_refcount >= sharing[ino.file_acl_64], where
            assert E.block_dump(sv.img, ino.file_acl_64, block_size=sv.bs)[:32] == data[:32]
            if sv.sb.s_feature_ro_compat.metadata_csum:
                assert hdr.h_checksum != 0, where
            for name, e, value in walk_xattr_entries(data, 32, 0):
                ours[name], entries[name] = value, e
            exercised("xattr_block", seed)
        theirs = E.xattrs(sv.img, s.ino)
        assert sorted(ours) == sorted(theirs), where
        listing = {x.name: x.length for x in E.xattr_names(sv.img, s.ino)}
        raw_acl: dict[str, bytes] | None = None
        for name, value in ours.items():
            e = entries[name]
            assert e.e_value_size == listing[name], f"{where} {name}"
            if e.e_value_inum:
                continue  # value lives in an EA inode; only its size is compared
            if name.startswith("system.posix_acl"):
                assert acl_to_vfs(value) == theirs[name], f"{where} {name}"
                if raw_acl is None:
                    raw_acl = E.xattrs(sv.img, s.ino, raw=True)
                assert value == raw_acl[name], f"{where} {name} (raw)"
                text = acl_text(value)
                assert text[0].startswith("user::") and text[-1].startswith("other::"), text
                exercised("posix_acl", seed)
            else:
                assert value == theirs[name], f"{where} {name}"


# --------------------------------------------------------------------------------------------
# jbd2
# --------------------------------------------------------------------------------------------


def journal_blocks(sv: Survey) -> list[int]:
    j = journal_inode(sv)
    assert j is not None
    jmap = data_map(j.stat)
    return [jmap[i] for i in range(len(jmap))]


def journal_superblock(sv: Survey) -> Any:
    return L.decode(Jbd2.JournalSuperblock, L.block(sv.img, sv.sb, journal_blocks(sv)[0])[:1024])


@pytest.mark.parametrize("seed", SEEDS)
def test_jbd2_superblock_vs_dumpe2fs(seed: str) -> None:
    sv = seed_survey(seed)
    if journal_inode(sv) is None:
        pytest.skip("seed has no internal journal")
    js = journal_superblock(sv)
    d = sv.dump
    assert js.s_blocksize == sv.bs
    features = {n for n, (a,) in JOURNAL_FEATURES.items() if getattr(js, a)}
    assert set(d.list("Journal features")) == features
    fc = js.s_num_fc_blks if js.incompat_fast_commit else 0
    if js.incompat_fast_commit and fc == 0:
        fc = 256
    assert d["Total journal blocks"] == js.s_maxlen
    assert d["Max transaction length"] == js.s_maxlen - fc
    assert d["Fast commit length"] == fc
    assert d["Total journal size"] == js.s_maxlen * js.s_blocksize
    assert ("Journal first block" in d) == (js.s_first != 1)
    if "Journal first block" in d:
        assert d["Journal first block"] == js.s_first
    assert d["Journal sequence"] == js.s_sequence
    assert d["Journal start"] == js.s_start
    if js.has_csum_v2or3:
        assert d["Journal checksum type"] == "crc32c" and ev(js.s_checksum_type) == 4
        assert d["Journal checksum"] == js.s_checksum
    else:
        assert "Journal checksum" not in d
    if js.s_errno:
        assert d["Journal errno"] == js.s_errno
    assert js.unknown_incompat == 0
    exercised("jbd2_superblock", seed)


def walk_journal(sv: Survey) -> list[E.JournalBlock]:
    """Our decode of the log from s_start, in logdump's shape."""
    jb = journal_blocks(sv)
    js = journal_superblock(sv)
    out: list[E.JournalBlock] = []
    if js.s_start == 0:
        return out
    j, seq = js.s_start, js.s_sequence
    tail_room = 4 if js.has_csum_v2or3 else 0
    wrap = js.s_maxlen - (js.s_num_fc_blks or 256 if js.incompat_fast_commit else 0)
    for _ in range(js.s_maxlen):
        data = L.block(sv.img, sv.sb, jb[j])
        try:
            hdr = L.decode(Jbd2.JournalHeader, data[:12])
        except KaitaiStructError:
            break
        if hdr.h_sequence != seq:
            break
        kind = Jbd2.BlockType(ev(hdr.h_blocktype))
        here = j
        if kind == Jbd2.BlockType.descriptor:
            tags: list[E.JournalTag] = []
            off = 12
            while off + js.tag_bytes <= sv.bs - tail_room:
                if js.incompat_csum_v3:
                    tag = L.decode(Jbd2.BlockTag3, data[off:], js.incompat_64bit)
                else:
                    tag = L.decode(
                        Jbd2.BlockTag, data[off:], js.incompat_64bit, js.incompat_csum_v2
                    )
                j = js.s_first if j + 1 >= wrap else j + 1
                tags.append(E.JournalTag(tag.blocknr, j, tag.t_flags))
                off += tag.size_on_disk
                if tag.is_last_tag:
                    break
            out.append(E.JournalBlock("descriptor", 1, seq, here, tuple(tags)))
        elif kind == Jbd2.BlockType.revoke:
            rev = L.decode(Jbd2.RevokeHeader, data, js.incompat_64bit)
            out.append(E.JournalBlock("revoke", 5, seq, here, (), tuple(rev.blocks)))
        elif kind == Jbd2.BlockType.commit:
            commit = L.decode(Jbd2.CommitHeader, data)
            assert commit.h_commit_sec > 0
            out.append(E.JournalBlock("commit", 2, seq, here))
            seq += 1
        else:
            break
        j = js.s_first if j + 1 >= wrap else j + 1
    return out


def check_journal(sv: Survey, seed: str) -> int:
    dump = E.journal(sv.img)
    js = journal_superblock(sv)
    if js.s_start:
        assert (dump.start_block, dump.start_transaction) == (js.s_start, js.s_sequence)
    ours = walk_journal(sv)
    assert ours == list(dump.blocks)
    for b in ours:
        exercised(f"jbd2_{b.kind}", seed)
    return len(ours)


def _write_transactions(img: Path, tmp: Path, bs: int, checksum: bool) -> None:
    data = tmp / "three.bin"
    data.write_bytes(bytes(range(256)) * (3 * bs // 256))
    script = f"jo{' -c' if checksum else ''}\njw -b 300,301,302 {data}\njw -r 400,401\njc\n"
    subprocess.run(
        [E.DEBUGFS, "-w", "-f", "-", str(img)],
        input=script.encode(),
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_jbd2_log_vs_logdump(seed: str, tmp_path: Path) -> None:
    """The seed's own log (if any), then the same image with transactions debugfs writes
    (descriptor tags, revoke records, commit), in the seed's own journal format."""
    sv = seed_survey(seed)
    if journal_inode(sv) is None:
        pytest.skip("seed has no internal journal")
    check_journal(sv, seed)
    if sv.sb.s_feature_incompat.recover:
        return  # a log to replay is already there; do not write over it
    work = tmp_path / "j.img"
    shutil.copyfile(sv.img, work)
    js = journal_superblock(sv)
    _write_transactions(
        work, tmp_path, sv.bs, checksum=bool(sv.sb.s_feature_ro_compat.metadata_csum)
    )
    wsv = Survey(work, L.superblock(work), E.superblock(work))
    wsv.inodes[int(wsv.sb.s_journal_inum)] = Sampled(
        int(wsv.sb.s_journal_inum), E.inode_stat(work, int(wsv.sb.s_journal_inum))
    )
    assert check_journal(wsv, seed) >= 3, "debugfs wrote no transaction"
    assert journal_superblock(wsv).s_blocksize == js.s_blocksize


# --------------------------------------------------------------------------------------------
# the suite must not pass empty
# --------------------------------------------------------------------------------------------

REQUIRED_KINDS = (
    "superblock",
    "inode",
    "inode_extra",
    "extent_leaf",
    "extent_index",
    "extent_tail",
    "extent_unwritten",
    "dirent",
    "dir_tail",
    "dx_root",
    "dx_node",
    "dx_countlimit",
    "dx_entry",
    "dx_tail",
    "xattr_ibody",
    "xattr_block",
    "posix_acl",
    "jbd2_superblock",
    "jbd2_descriptor",
    "jbd2_commit",
    "jbd2_revoke",
)


# Kinds no seed needs to contain: the tests build them on a copy of a seed.
SYNTHESIZED = {
    "extent_index": "test_extent_index_nodes_vs_debugfs_ex",
    "jbd2_descriptor": "test_jbd2_log_vs_logdump",
    "jbd2_commit": "test_jbd2_log_vs_logdump",
    "jbd2_revoke": "test_jbd2_log_vs_logdump",
}


def test_every_record_kind_occurs_in_some_seed() -> None:
    """Upfront, from e2fsprogs' view of the seeds: which record kinds they contain, so a
    suite whose parametrized cases all skip cannot pass."""
    assert SEEDS, "corpus/seeds is empty"
    present: dict[str, list[str]] = {}
    for seed in SEEDS:
        for kind in seed_survey(seed).kinds():
            present.setdefault(kind, []).append(seed)
    kinds = set(record_presence(seed_survey(SEEDS[0]))) - {"group_desc_32", "group_desc_64"}
    missing = sorted(k for k in kinds if k not in present and k not in SYNTHESIZED)
    assert not missing, f"no seed contains: {missing}"
    assert "group_desc_32" in present and "group_desc_64" in present
    extent_seeds = [s for s in SEEDS if seed_survey(s).sb.s_feature_incompat.extents]
    journal_seeds = [s for s in SEEDS if journal_inode(seed_survey(s)) is not None]
    assert extent_seeds and journal_seeds  # what the synthesized kinds are built on


def test_every_record_kind_was_compared() -> None:
    """After the parametrized tests above ran (file order): each kind was compared at least
    once.  Skipped when the comparisons were deselected (-k), where it cannot know."""
    if not EXERCISED:
        pytest.skip("no comparison test ran in this session")
    missing = [k for k in REQUIRED_KINDS if k not in EXERCISED]
    assert not missing, f"record kinds never compared with e2fsprogs: {missing}"
    assert "group_desc_32" in EXERCISED or "group_desc_64" in EXERCISED
