"""Smoke checks of the superblock, group descriptor and inode grammars.

The generated classes decode images made by mke2fs and the values are compared with what
dumpe2fs and debugfs print. A fuller e2fsprogs comparison suite lives elsewhere; this file
only pins the record layouts (every field offset that e2fsprogs shows) and checks that
hostile bytes of the right length raise nothing but kaitaistruct errors / EOFError.
"""

from __future__ import annotations

import random
import re
import shutil
import struct
import subprocess
import time
import uuid
from io import BytesIO
from pathlib import Path

import pytest
from kaitaistruct import KaitaiStream, KaitaiStruct, KaitaiStructError

from ext4guard.parser._ksy.ext4_group_desc import Ext4GroupDesc
from ext4guard.parser._ksy.ext4_image_head import Ext4ImageHead
from ext4guard.parser._ksy.ext4_inode import Ext4Inode
from ext4guard.parser._ksy.ext4_superblock import Ext4Superblock

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("mke2fs", "dumpe2fs", "debugfs")),
    reason="needs e2fsprogs (mke2fs, dumpe2fs, debugfs)",
)

# name -> mke2fs arguments (size last)
IMAGES = {
    "ext4_1k": ["-t", "ext4", "-b", "1024", "4M"],
    "ext4_no64bit": ["-t", "ext4", "-O", "^64bit", "-b", "1024", "8M"],
    "ext4_i128": ["-t", "ext4", "-I", "128", "8M"],
    "ext4_inline_project": ["-t", "ext4", "-O", "inline_data,project,quota", "8M"],
    "ext4_casefold_orphan": ["-t", "ext4", "-O", "casefold,orphan_file,metadata_csum_seed", "8M"],
    "ext4_bigalloc": ["-t", "ext4", "-b", "4096", "-O", "bigalloc", "-C", "16384", "64M"],
    "ext4_desc128": ["-t", "ext4", "-b", "2048", "-O", "64bit", "-E", "desc_size=128", "16M"],
    "ext3": ["-t", "ext3", "16M"],
    "ext2": ["-t", "ext2", "4M"],
    "rev0": ["-t", "ext2", "-r", "0", "4M"],
}

# dumpe2fs feature name -> (word, attribute)
FEATURES = {
    "dir_prealloc": ("compat", "dir_prealloc"),
    "imagic_inodes": ("compat", "imagic_inodes"),
    "has_journal": ("compat", "has_journal"),
    "ext_attr": ("compat", "ext_attr"),
    "resize_inode": ("compat", "resize_inode"),
    "dir_index": ("compat", "dir_index"),
    "sparse_super2": ("compat", "sparse_super2"),
    "fast_commit": ("compat", "fast_commit"),
    "stable_inodes": ("compat", "stable_inodes"),
    "orphan_file": ("compat", "orphan_file"),
    "filetype": ("incompat", "filetype"),
    "needs_recovery": ("incompat", "recover"),
    "journal_dev": ("incompat", "journal_dev"),
    "meta_bg": ("incompat", "meta_bg"),
    "extent": ("incompat", "extents"),
    "64bit": ("incompat", "is_64bit"),
    "mmp": ("incompat", "mmp"),
    "flex_bg": ("incompat", "flex_bg"),
    "ea_inode": ("incompat", "ea_inode"),
    "metadata_csum_seed": ("incompat", "csum_seed"),
    "large_dir": ("incompat", "largedir"),
    "inline_data": ("incompat", "inline_data"),
    "encrypt": ("incompat", "encrypt"),
    "casefold": ("incompat", "casefold"),
    "sparse_super": ("ro_compat", "sparse_super"),
    "large_file": ("ro_compat", "large_file"),
    "huge_file": ("ro_compat", "huge_file"),
    "uninit_bg": ("ro_compat", "gdt_csum"),
    "dir_nlink": ("ro_compat", "dir_nlink"),
    "extra_isize": ("ro_compat", "extra_isize"),
    "quota": ("ro_compat", "quota"),
    "bigalloc": ("ro_compat", "bigalloc"),
    "metadata_csum": ("ro_compat", "metadata_csum"),
    "project": ("ro_compat", "project"),
    "verity": ("ro_compat", "verity"),
    "orphan_present": ("ro_compat", "orphan_present"),
}


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("img")
    src = root / "src"
    (src / "dir").mkdir(parents=True)
    (src / "small.txt").write_text("hello\n")
    (src / "big.bin").write_bytes(bytes(range(256)) * 1200)
    (src / "fastlink").symlink_to("small.txt")
    out = {}
    for name, args in IMAGES.items():
        img = root / f"{name}.img"
        extra = ["-d", str(src)] if name == "ext4_inline_project" else []
        run("mke2fs", "-q", "-F", *extra, *args[:-1], str(img), args[-1])
        out[name] = img
    return out


def header(img: Path) -> dict[str, str]:
    fields = {}
    for line in run("dumpe2fs", "-h", str(img)).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def superblock(img: Path) -> Ext4Superblock:
    with img.open("rb") as f:
        f.seek(1024)
        return Ext4Superblock(KaitaiStream(BytesIO(f.read(1024))))


def parse(cls: type[KaitaiStruct], data: bytes) -> KaitaiStruct:
    return cls(KaitaiStream(BytesIO(data)))


def group_descs(img: Path, sb: Ext4Superblock) -> list[Ext4GroupDesc]:
    data = img.read_bytes()
    table = (sb.s_first_data_block + 1) * sb.block_size
    size = sb.desc_size
    return [
        parse(Ext4GroupDesc, data[table + g * size : table + (g + 1) * size])
        for g in range(sb.group_count)
    ]


def inode(img: Path, sb: Ext4Superblock, ino: int) -> Ext4Inode:
    group, index = divmod(ino - 1, sb.s_inodes_per_group)
    gd = group_descs(img, sb)[group]
    data = img.read_bytes()
    off = gd.inode_table * sb.block_size + index * sb.inode_size
    return parse(Ext4Inode, data[off : off + sb.inode_size])


@pytest.mark.parametrize("name", list(IMAGES))
def test_superblock_matches_dumpe2fs(images: dict[str, Path], name: str) -> None:
    img = images[name]
    h = header(img)
    sb = superblock(img)
    assert sb._io.pos() == 1024
    assert h["Filesystem magic number"] == f"0x{sb.s_magic:04X}"
    assert h["Filesystem revision #"].startswith(str(sb.s_rev_level))
    assert h["Filesystem UUID"] == str(uuid.UUID(bytes=sb.s_uuid))
    assert int(h["Inode count"]) == sb.s_inodes_count
    assert int(h["Block count"]) == sb.blocks_count
    assert int(h["Reserved block count"]) == sb.r_blocks_count
    assert int(h["Free blocks"]) == sb.free_blocks_count
    assert int(h["Free inodes"]) == sb.s_free_inodes_count
    assert int(h["First block"]) == sb.s_first_data_block
    assert int(h["Block size"]) == sb.block_size
    assert int(h["Blocks per group"]) == sb.s_blocks_per_group
    assert int(h["Inodes per group"]) == sb.s_inodes_per_group
    if sb.s_feature_ro_compat.bigalloc:
        assert int(h["Cluster size"]) == sb.cluster_size
        assert int(h["Clusters per group"]) == sb.s_clusters_per_group
    else:
        assert int(h["Fragment size"]) == sb.cluster_size
    assert h["Maximum mount count"] == str(sb.s_max_mnt_count)
    assert h["Filesystem created"] == time.ctime(sb.mkfs_time)
    assert h["Filesystem OS type"] == "Linux"
    assert sb.s_creator_os == Ext4Superblock.CreatorOs.linux
    assert h["Errors behavior"] == "Continue"
    assert sb.s_errors == Ext4Superblock.ErrorsPolicy.continue_execution
    assert h["Filesystem state"] == "clean"
    assert sb.state_valid_fs and not sb.state_error_fs and not sb.state_orphan_fs

    names = set(h["Filesystem features"].split()) - {"(none)"}
    words = {
        "compat": sb.s_feature_compat,
        "incompat": sb.s_feature_incompat,
        "ro_compat": sb.s_feature_ro_compat,
    }
    for feature, (word, attr) in FEATURES.items():
        assert getattr(words[word], attr) == (feature in names), feature
    assert names <= set(FEATURES)
    assert all(w.unknown_bits == 0 for w in words.values())

    if sb.s_rev_level >= 1:
        assert int(h["Inode size"]) == sb.inode_size
        assert int(h["First inode"]) == sb.first_ino
    else:
        assert (sb.inode_size, sb.first_ino) == (128, 11)
    if "Reserved GDT blocks" in h:
        assert int(h["Reserved GDT blocks"]) == sb.s_reserved_gdt_blocks
    if sb.s_feature_incompat.is_64bit:
        assert int(h["Group descriptor size"]) == sb.desc_size
    else:
        assert sb.desc_size == 32
    if sb.s_feature_incompat.flex_bg:
        assert int(h["Flex block group size"]) == 1 << sb.s_log_groups_per_flex
    if sb.s_feature_compat.has_journal:
        assert int(h["Journal inode"]) == sb.s_journal_inum
    if sb.s_feature_compat.dir_index:
        assert h["Default directory hash"] == sb.s_def_hash_version.name
        seed = struct.pack("<4I", *sb.s_hash_seed)
        assert h["Directory Hash Seed"] == str(uuid.UUID(bytes=seed))
    if sb.inode_size > 128:
        assert int(h["Required extra isize"]) == sb.s_min_extra_isize
        assert int(h["Desired extra isize"]) == sb.s_want_extra_isize
    if sb.s_feature_ro_compat.metadata_csum:
        assert h["Checksum type"] == sb.s_checksum_type.name
        assert h["Checksum"] == f"0x{sb.s_checksum:08x}"
        assert int(h["Overhead clusters"]) == sb.s_overhead_clusters
    if sb.s_feature_incompat.csum_seed:
        assert h["Checksum seed"] == f"0x{sb.s_checksum_seed:08x}"
    if sb.s_feature_incompat.casefold:
        assert h["Character encoding"].startswith(sb.s_encoding.name.replace("utf8", "utf8-"))
    if sb.s_feature_compat.orphan_file:
        assert int(h["Orphan file inode"]) == sb.s_orphan_file_inum
    if sb.s_feature_ro_compat.project:
        assert int(h["Project quota inode"]) == sb.s_prj_quota_inum


GROUP_RE = re.compile(r"^Group (\d+): \(Blocks [^)]*\)(?: csum 0x([0-9a-f]+))?(?: \[([^\]]*)\])?")


def dumpe2fs_groups(img: Path) -> list[dict[str, object]]:
    groups: list[dict[str, object]] = []
    for line in run("dumpe2fs", str(img)).splitlines():
        if m := GROUP_RE.match(line):
            groups.append(
                {
                    "csum": int(m[2], 16) if m[2] else None,
                    "flags": set(m[3].split(", ")) if m[3] else set(),
                }
            )
            continue
        g = groups[-1] if groups else None
        if g is None:
            continue
        if m := re.match(r"\s+Block bitmap at (\d+)[^,]*(?:, csum 0x([0-9a-f]+))?", line):
            g["block_bitmap"] = int(m[1])
            g["block_bitmap_csum"] = int(m[2], 16) if m[2] else None
        elif m := re.match(r"\s+Inode bitmap at (\d+)[^,]*(?:, csum 0x([0-9a-f]+))?", line):
            g["inode_bitmap"] = int(m[1])
            g["inode_bitmap_csum"] = int(m[2], 16) if m[2] else None
        elif m := re.match(r"\s+Inode table at (\d+)", line):
            g["inode_table"] = int(m[1])
        elif m := re.match(
            r"\s+(\d+) free (?:blocks|clusters), (\d+) free inodes, (\d+) directories"
            r"(?:, (\d+) unused inodes)?",
            line,
        ):
            g["free_blocks"], g["free_inodes"], g["dirs"] = int(m[1]), int(m[2]), int(m[3])
            g["unused"] = int(m[4]) if m[4] else None
    return groups


@pytest.mark.parametrize(
    "name", ["ext4_1k", "ext4_no64bit", "ext4_bigalloc", "ext4_desc128", "ext2"]
)
def test_group_descriptors_match_dumpe2fs(images: dict[str, Path], name: str) -> None:
    img = images[name]
    sb = superblock(img)
    descs = group_descs(img, sb)
    expected = dumpe2fs_groups(img)
    assert len(descs) == len(expected) == sb.group_count
    bits = {"INODE_UNINIT": "inode_uninit", "BLOCK_UNINIT": "block_uninit"}
    bits["ITABLE_ZEROED"] = "itable_zeroed"
    for gd, want in zip(descs, expected, strict=True):
        assert gd.has_hi_fields == sb.s_feature_incompat.is_64bit
        assert gd._io.pos() == (64 if gd.has_hi_fields else 32)
        assert gd.block_bitmap == want["block_bitmap"]
        assert gd.inode_bitmap == want["inode_bitmap"]
        assert gd.inode_table == want["inode_table"]
        assert gd.free_blocks_count == want["free_blocks"]
        assert gd.free_inodes_count == want["free_inodes"]
        assert gd.used_dirs_count == want["dirs"]
        if want["unused"] is not None:
            assert gd.itable_unused == want["unused"]
        if want["csum"] is not None:
            assert gd.bg_checksum == want["csum"]
        if want.get("block_bitmap_csum") is not None:
            assert gd.block_bitmap_csum == want["block_bitmap_csum"]
            assert gd.inode_bitmap_csum == want["inode_bitmap_csum"]
        for flag, attr in bits.items():
            assert getattr(gd.bg_flags, attr) == (flag in want["flags"]), flag
        assert gd.bg_flags.unknown_bits == 0


def debugfs_stat(img: Path, ino: int) -> str:
    return run("debugfs", "-R", f"stat <{ino}>", str(img))


def check_inode_against_debugfs(ind: Ext4Inode, text: str) -> None:
    m = re.search(r"Type: (\S+)\s+Mode:\s+(\d+)\s+Flags: 0x([0-9a-f]+)", text)
    assert m, text
    types = {"directory": "dir", "regular": "reg_file", "symlink": "symlink", "FIFO": "fifo"}
    assert ind.file_type.name == types[m[1]]
    assert ind.permissions == int(m[2], 8)
    assert ind.i_flags.raw == int(m[3], 16)
    assert int(re.search(r"Generation: (\d+)", text)[1]) == ind.i_generation
    assert int(re.search(r"User:\s+(\d+)", text)[1]) == ind.uid
    assert int(re.search(r"Group:\s+(\d+)", text)[1]) == ind.gid
    assert int(re.search(r"Size: (\d+)", text)[1]) == ind.size
    assert int(re.search(r"Links: (\d+)", text)[1]) == ind.i_links_count
    assert int(re.search(r"Blockcount: (\d+)", text)[1]) == ind.blocks_48
    assert int(re.search(r"File ACL: (\d+)", text)[1]) == ind.file_acl_64
    if m := re.search(r"Project:\s+(\d+)", text):
        assert int(m[1]) == ind.projid
    if m := re.search(r"Size of extra inode fields: (\d+)", text):
        assert int(m[1]) == ind.i_extra_isize
    else:
        assert not ind.has_checksum_hi
    for which in ("ctime", "atime", "mtime", "crtime"):
        m = re.search(rf"^\s*{which}: 0x([0-9a-f]+)(?::([0-9a-f]+))? --", text, re.M)
        if which == "crtime" and not m:
            assert not ind.has_crtime
            continue
        assert m, which
        seconds = getattr(ind, f"i_{which}") & 0xFFFFFFFF
        assert seconds == int(m[1], 16), which
        if m[2] is not None:
            assert getattr(ind, f"i_{which}_extra") == int(m[2], 16), which
            extra = int(m[2], 16)
            signed = int(m[1], 16) - (1 << 32 if int(m[1], 16) >= 1 << 31 else 0)
            assert getattr(ind, f"{which}_sec") == signed + ((extra & 3) << 32)
            assert getattr(ind, f"{which}_nsec") == extra >> 2
    m = re.search(r"Inode checksum: 0x([0-9a-f]+)", text)
    if m:
        assert ind.checksum == int(m[1], 16)


@pytest.mark.parametrize(
    ("name", "inos"),
    [
        ("ext4_1k", [2, 7, 8, 11]),
        ("ext4_i128", [2, 8, 11]),
        ("ext4_inline_project", [2, 11, 12, 13, 14, 15, 16]),
        ("ext4_casefold_orphan", [2, 12]),
        ("ext2", [2, 11]),
        ("rev0", [2, 11]),
    ],
)
def test_inodes_match_debugfs(images: dict[str, Path], name: str, inos: list[int]) -> None:
    img = images[name]
    sb = superblock(img)
    for ino in inos:
        ind = inode(img, sb, ino)
        assert ind.extra_isize_valid
        assert ind._io.pos() == ind.extra_end
        check_inode_against_debugfs(ind, debugfs_stat(img, ino))


def test_inode_extra_fields_and_epoch_bits(images: dict[str, Path], tmp_path: Path) -> None:
    img = tmp_path / "epoch.img"
    shutil.copy(images["ext4_inline_project"], img)
    for field, value in [
        ("atime_extra", (123456789 << 2) | 1),
        ("crtime", "@2000000000"),
        ("crtime_extra", (5 << 2) | 3),
        ("version_hi", 0x12345678),
        ("projid", 4242),
        ("uid_hi", 7),
        ("blocks_hi", 1),
    ]:
        run("debugfs", "-w", "-R", f"sif <12> {field} {value}", str(img))
    # debugfs 1.47 clears l_i_uid_high when it sets file_acl_hi: use another inode
    run("debugfs", "-w", "-R", "sif <13> file_acl_hi 2", str(img))
    sb = superblock(img)
    ind = inode(img, sb, 12)
    assert ind.atime_nsec == 123456789
    assert ind.atime_sec == ind.i_atime + (1 << 32)
    assert (ind.crtime_sec, ind.crtime_nsec) == (ind.i_crtime + (3 << 32), 5)
    assert ind.version >> 32 == 0x12345678
    assert ind.projid == 4242
    assert ind.uid >> 16 == 7
    assert ind.blocks_48 >> 32 == 1
    assert ind.i_crtime == 2000000000
    check_inode_against_debugfs(ind, debugfs_stat(img, 12))
    other = inode(img, sb, 13)
    assert other.file_acl_64 >> 32 == 2
    check_inode_against_debugfs(other, debugfs_stat(img, 13))


def test_image_head_decodes_first_gdt_block(images: dict[str, Path]) -> None:
    for name in ("ext4_1k", "ext4_bigalloc", "ext4_desc128"):
        img = images[name]
        head = Ext4ImageHead(KaitaiStream(BytesIO(img.read_bytes()[:131072])))
        sb = head.superblock
        want = group_descs(img, sb)
        got = head.first_gdt_block.descs
        assert len(got) == min(sb.group_count, sb.block_size // sb.desc_size)
        assert [g.inode_table for g in got] == [g.inode_table for g in want[: len(got)]]


# -- hostile input ------------------------------------------------------------------------


def touch_everything(obj: KaitaiStruct, depth: int = 0) -> None:
    """Evaluate every value instance and walk every nested record."""
    assert depth < 4
    for cls in type(obj).__mro__:
        for name, attr in vars(cls).items():
            if isinstance(attr, property):
                value = getattr(obj, name)
                if isinstance(value, KaitaiStruct):
                    touch_everything(value, depth + 1)
    for name, value in list(vars(obj).items()):
        if isinstance(value, KaitaiStruct) and not name.startswith("_"):
            touch_everything(value, depth + 1)


def decode_safely(cls: type[KaitaiStruct], data: bytes) -> bool:
    try:
        obj = parse(cls, data)
        touch_everything(obj)
    except (KaitaiStructError, EOFError):
        return False
    return True


def test_hostile_bytes_raise_only_kaitai_errors(images: dict[str, Path]) -> None:
    rng = random.Random(4)
    real_sb = images["ext4_1k"].read_bytes()[1024:2048]
    sb = superblock(images["ext4_inline_project"])
    real_ino = bytes(inode(images["ext4_inline_project"], sb, 12)._io.to_byte_array())
    ok = 0
    for _ in range(3000):
        # mutate a real superblock (keeps the magic most of the time) or use pure noise
        sbuf = bytearray(real_sb)
        for _ in range(rng.randrange(1, 12)):
            sbuf[rng.randrange(1024)] = rng.randrange(256)
        ok += decode_safely(Ext4Superblock, bytes(sbuf))
        decode_safely(Ext4Superblock, rng.randbytes(1024))
        for size in (32, 33, 63, 64, 128):
            decode_safely(Ext4GroupDesc, rng.randbytes(size))
        ibuf = bytearray(real_ino)
        for _ in range(rng.randrange(1, 8)):
            ibuf[rng.randrange(len(ibuf))] = rng.randrange(256)
        ibuf[0x80:0x82] = struct.pack("<H", rng.choice([0, 1, 2, 3, 4, 6, 31, 32, 100, 65535]))
        assert decode_safely(Ext4Inode, bytes(ibuf))
        for size in (128, 129, 130, 131, 134, 160, 161, 256):
            assert decode_safely(Ext4Inode, rng.randbytes(size))
    assert ok > 0  # some mutated superblocks still decode
    head = bytearray(images["ext4_desc128"].read_bytes()[:16384])
    for _ in range(300):
        buf = bytearray(head)
        for _ in range(rng.randrange(1, 6)):
            buf[
                1024 + rng.choice([0x18, 0x1C, 0x20, 0x4C, 0x58, 0x60, 0xFE, rng.randrange(1024)])
            ] = rng.randrange(256)
        decode_safely(Ext4ImageHead, bytes(buf))


@pytest.mark.parametrize(
    "cls,size", [(Ext4Superblock, 1024), (Ext4GroupDesc, 32), (Ext4Inode, 128)]
)
def test_truncated_records_raise_eof(
    images: dict[str, Path], cls: type[KaitaiStruct], size: int
) -> None:
    data = images["ext4_1k"].read_bytes()[1024:2048] if cls is Ext4Superblock else bytes(size)
    for cut in range(size):
        with pytest.raises(EOFError):
            parse(cls, data[:cut])
