"""Superblock and group descriptors through the parser, against dumpe2fs, plus hostile variants."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from ext4guard.parser.checksum import crc32c_raw
from ext4guard.parser.errors import (
    BadMagic,
    ChecksumMismatch,
    GeometryInvalid,
    ImageIOError,
    TruncatedImage,
    Unsupported,
)
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.group_desc import GroupDesc
from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, seed_image

# Extra geometries the seeds may not cover, made fresh by mke2fs (the reference writer).
MKE2FS_VARIANTS = {
    "bigalloc_1k": ["-t", "ext4", "-b", "1024", "-O", "bigalloc", "-C", "16384"],
    "meta_bg_crc16": [
        "-t",
        "ext4",
        "-b",
        "1024",
        "-g",
        "256",
        "-O",
        "^metadata_csum,uninit_bg,meta_bg,^resize_inode",
    ],
    "meta_bg_csum": ["-t", "ext4", "-b", "1024", "-g", "256", "-O", "meta_bg,^resize_inode"],
    "crc16_32bit": ["-t", "ext4", "-O", "^metadata_csum,^64bit,uninit_bg"],
    "ext2_rev0": ["-t", "ext2", "-r", "0"],
    "sparse_super2": ["-t", "ext4", "-b", "1024", "-g", "512", "-O", "sparse_super2"],
    "desc128": ["-t", "ext4", "-E", "desc_size=128"],
}


def _mke2fs(path: Path, args: list[str], size: str = "16M") -> Path:
    subprocess.run(["mke2fs", "-q", "-F", *args, str(path), size], check=True, capture_output=True)
    return path


@pytest.fixture(params=[*(f"seed:{s}" for s in SEEDS), *(f"mkfs:{v}" for v in MKE2FS_VARIANTS)])
def image(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    kind, name = request.param.split(":", 1)
    if kind == "seed":
        return seed_image(name)
    return _mke2fs(tmp_path / f"{name}.img", MKE2FS_VARIANTS[name])


def test_superblock_matches_dumpe2fs(image: Path) -> None:
    ref = E.superblock(image)
    with Filesystem.open(image) as fs:
        sb = fs.superblock
    assert sb.inodes_count == ref.int("Inode count")
    assert sb.blocks_count == ref.int("Block count")
    assert sb.r_blocks_count == ref.int("Reserved block count")
    assert sb.free_blocks_count == ref.int("Free blocks")
    assert sb.free_inodes_count == ref.int("Free inodes")
    assert sb.first_data_block == ref.int("First block")
    assert sb.block_size == ref.int("Block size")
    assert sb.blocks_per_group == ref.int("Blocks per group")
    assert sb.inodes_per_group == ref.int("Inodes per group")
    assert sb.inode_size == (ref.int("Inode size") if "Inode size" in ref else 128)  # rev 0
    assert sb.uuid_text == ref["Filesystem UUID"]
    assert sb.rev_level == ref.int("Filesystem revision #")
    if "Cluster size" in ref:
        assert sb.cluster_size == ref.int("Cluster size")
    if "Group descriptor size" in ref:
        assert sb.desc_size == ref.int("Group descriptor size")
    if "Checksum" in ref:
        assert sb.checksum == ref.int("Checksum")
    if "Checksum seed" in ref:  # printed only with metadata_csum_seed
        assert sb.checksum_seed == ref.int("Checksum seed")
    shown = set(sb.compat.display() + sb.incompat.display() + sb.ro_compat.display())
    assert shown == set(ref.list("Filesystem features"))


def test_group_descriptors_match_dumpe2fs(image: Path) -> None:
    ref_groups = E.groups(image)
    with Filesystem.open(image) as fs:
        ours = list(fs.groups())
    assert len(ours) == len(ref_groups) == fs.superblock.group_count
    for desc, ref in zip(ours, ref_groups, strict=True):
        assert isinstance(desc, GroupDesc), desc
        assert desc.group == ref.number
        assert desc.block_bitmap == ref.block_bitmap_at
        assert desc.inode_bitmap == ref.inode_bitmap_at
        assert desc.inode_table == ref.inode_table_at[0]
        assert desc.free_blocks_count == ref.free_blocks_count
        assert desc.free_inodes_count == ref.free_inodes_count
        assert desc.used_dirs_count == ref.directories
        flags = {
            name
            for name, on in (
                ("INODE_UNINIT", desc.inode_uninit),
                ("BLOCK_UNINIT", desc.block_uninit),
                ("ITABLE_ZEROED", desc.itable_zeroed),
            )
            if on
        }
        assert flags == set(ref.flags)
        if ref.csum is not None:
            assert desc.checksum == ref.csum


# --- hostile variants: each damages one thing and expects one typed error -------------------


@pytest.fixture
def clean_image(tmp_path: Path) -> Path:
    return _mke2fs(tmp_path / "clean.img", ["-t", "ext4", "-b", "1024"], "8M")


def _patch(path: Path, offset: int, data: bytes, *, fix_sb_csum: bool = True) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)
        if fix_sb_csum:
            f.seek(1024)
            sb = f.read(1024)
            f.seek(1024 + 0x3FC)
            f.write(struct.pack("<I", crc32c_raw(0xFFFFFFFF, sb[:0x3FC])))


@pytest.mark.parametrize(
    ("offset", "value", "error"),
    [
        (1024 + 0x38, struct.pack("<H", 0x1234), BadMagic),
        (1024 + 0x18, struct.pack("<I", 40), None),  # s_log_block_size: grammar rejects
        (1024 + 0x18, struct.pack("<I", 2), GeometryInvalid),  # 4 KiB claim on a 1 KiB fs
        (1024 + 0x04, struct.pack("<I", 0xFFFFFFFF), GeometryInvalid),  # blocks past image end
        (1024 + 0x00, struct.pack("<I", 7), GeometryInvalid),  # inode count disagrees
        (1024 + 0x28, struct.pack("<I", 0), None),  # s_inodes_per_group 0: grammar rejects
        (1024 + 0x60, struct.pack("<I", 0x2 | 0x40 | 0x10000000), Unsupported),  # unknown incompat
        (1024 + 0x60, struct.pack("<I", 0x2 | 0x40 | 0x1), Unsupported),  # compression
    ],
)
def test_damaged_superblock_raises_typed_error(
    clean_image: Path, offset: int, value: bytes, error: type[Exception] | None
) -> None:
    from ext4guard.parser.errors import RecordInvalid

    _patch(clean_image, offset, value)
    with pytest.raises(error or RecordInvalid):
        Filesystem.open(clean_image)


def test_superblock_checksum_mismatch(clean_image: Path) -> None:
    _patch(clean_image, 1024 + 0x78, b"renamed", fix_sb_csum=False)  # s_volume_name
    with pytest.raises(ChecksumMismatch) as info:
        Filesystem.open(clean_image)
    assert info.value.structure == "superblock"


def test_group_descriptor_checksum_mismatch_is_per_group(tmp_path: Path) -> None:
    image = _mke2fs(tmp_path / "g.img", ["-t", "ext4", "-b", "1024", "-g", "1024"], "8M")
    with Filesystem.open(image) as fs:
        desc_size = fs.superblock.desc_size
    _patch(image, 2 * 1024 + 3 * desc_size + 0x0C, b"\xff\xff", fix_sb_csum=False)  # free count
    with Filesystem.open(image) as fs:
        results = list(fs.groups())
    bad = [r for r in results if not isinstance(r, GroupDesc)]
    assert len(bad) == 1 and isinstance(bad[0], ChecksumMismatch)
    assert bad[0].where.group == 3
    assert E.e2fsck(image).returncode != 0, "e2fsck must agree the image is damaged"


def test_truncated_image(clean_image: Path) -> None:
    data = clean_image.read_bytes()
    clean_image.write_bytes(data[:1500])
    with pytest.raises(TruncatedImage):
        Filesystem.open(clean_image)


def test_missing_and_non_regular_files(tmp_path: Path) -> None:
    with pytest.raises(ImageIOError):
        Filesystem.open(tmp_path / "absent.img")
    with pytest.raises(ImageIOError):
        Filesystem.open(tmp_path)


@pytest.mark.skipif(shutil.which("truncate") is None, reason="coreutils truncate missing")
def test_huge_sparse_image_opens_cheaply(tmp_path: Path) -> None:
    # A 1 TiB sparse image: opening reads the superblock only; nothing is sized by counts.
    image = tmp_path / "big.img"
    subprocess.run(["truncate", "-s", "1T", str(image)], check=True)
    _mke2fs(image, ["-t", "ext4", "-E", "lazy_itable_init=1,nodiscard"], "1T")
    with Filesystem.open(image) as fs:
        assert fs.superblock.blocks_count == 1 << 28
        assert fs.group(fs.superblock.group_count - 1).group == 8191
