"""The system zone against dumpe2fs's metadata layout, and files pointing into metadata."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext4guard.parser.blocks import BlockInMetadata
from ext4guard.parser.errors import TruncatedImage, Where
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.image import Image
from ext4guard.parser.inode import inode_location
from ext4guard.parser.system_zone import SystemZone
from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, manifest_entries, seed_image, seed_manifest


def _metadata_blocks(image: Path) -> list[tuple[int, int]]:
    """Every metadata range dumpe2fs prints, as inclusive (first, last) block pairs."""
    ranges: list[tuple[int, int]] = []
    for group in E.groups(image):
        if group.superblock_at is not None:
            ranges.append((group.superblock_at, group.superblock_at))
        for span in (group.group_descriptors_at, group.reserved_gdt_at):
            if span is not None:
                ranges.append(span)
        if group.group_descriptor_at is not None:
            ranges.append((group.group_descriptor_at, group.group_descriptor_at))
        ranges.append((group.block_bitmap_at, group.block_bitmap_at))
        ranges.append((group.inode_bitmap_at, group.inode_bitmap_at))
        ranges.append(group.inode_table_at)
    return ranges


@pytest.mark.parametrize("seed", SEEDS)
def test_zone_covers_what_dumpe2fs_calls_metadata_and_no_file_block(seed: str) -> None:
    image = seed_image(seed)
    with Filesystem.open(image) as fs:
        zone = fs.blocks.zone()
        for first, last in _metadata_blocks(image):
            for block in range(first, last + 1):
                assert zone.overlaps(block, 1), (seed, block)
        paths = [p for p, e in manifest_entries(seed_manifest(seed)).items() if e["type"] == "reg"]
        for path in paths[:15]:
            for block in E.blocks(image, path):
                assert not zone.overlaps(block, 1), (seed, path, block)


def test_extent_into_the_inode_table_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "fs.img"
    shutil.copyfile(seed_image("ext4_nocsum_32bit"), image)  # no checksums to fix up
    entries = manifest_entries(seed_manifest("ext4_nocsum_32bit"))
    path = next(p for p, e in entries.items() if e["type"] == "reg" and int(e["size"]) > 4096)
    with Filesystem.open(image) as fs:
        ino = fs.lookup(path)
        group, index = inode_location(fs.superblock, ino)
        table = fs.group(group).inode_table
        offset = table * fs.superblock.block_size + index * fs.superblock.inode_size
    with open(image, "r+b") as f:
        # i_block starts at 0x28: 12-byte header, then the first leaf extent; ee_start_lo at +8.
        f.seek(offset + 0x28 + 12 + 8)
        f.write(struct.pack("<I", table))
    with Filesystem.open(image) as fs, pytest.raises(BlockInMetadata):
        fs.read(fs.lookup(path), 0, 4096)
    assert E.e2fsck(image).returncode != 0, "e2fsck agrees the image is damaged"


_blocks = st.integers(min_value=0, max_value=300)


@settings(max_examples=300, deadline=None)
@given(
    ranges=st.lists(st.tuples(_blocks, st.integers(min_value=1, max_value=20)), max_size=6),
    singles=st.lists(_blocks, max_size=12),
    tables=st.lists(_blocks, max_size=8),
    table_blocks=st.integers(min_value=1, max_value=16),
    block=_blocks,
    count=st.integers(min_value=1, max_value=40),
)
def test_overlaps_agrees_with_the_set_of_blocks(
    ranges: list[tuple[int, int]],
    singles: list[int],
    tables: list[int],
    table_blocks: int,
    block: int,
    count: int,
) -> None:
    """The three-part zone answers as the plain set of every block it was built from."""
    zone = SystemZone([(s, s + n) for s, n in ranges], singles, tables, table_blocks)
    metadata = {b for s, n in ranges for b in range(s, s + n)} | set(singles)
    metadata |= {b for t in tables for b in range(t, t + table_blocks)}
    expected = any(b in metadata for b in range(block, block + count))
    assert zone.overlaps(block, count) is expected


def test_an_unreadable_descriptor_block_leaves_the_other_groups_in_the_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1 KiB blocks, 32-byte descriptors: 32 groups per table block. 70 groups of 256 blocks
    # fill three table blocks, read as one run; when the middle one fails, the run is read
    # again a block at a time and the groups of the other two stay in the zone.
    image = tmp_path / "fs.img"
    subprocess.run(
        ["mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-g", "256", "-N", "2048",
         "-O", "^64bit,^resize_inode", str(image), str(70 * 256)],
        check=True, capture_output=True,
    )  # fmt: skip
    groups = E.groups(image)
    assert len(groups) == 70
    unreadable = 3 * 1024  # superblock in block 1, the table in blocks 2-4
    real_read = Image.read

    def read(self: Image, offset: int, length: int, where: Where | None = None) -> bytes:
        if offset <= unreadable < offset + length:
            raise TruncatedImage("simulated unreadable block", where)
        return real_read(self, offset, length, where)

    monkeypatch.setattr(Image, "read", read)
    with Filesystem.open(image) as fs:
        zone = fs.blocks.zone()
    for group in groups:
        if 32 <= group.number < 64:
            continue
        for block in (group.block_bitmap_at, group.inode_bitmap_at, *group.inode_table_at):
            assert zone.overlaps(block, 1), (group.number, block)
