"""server/iomap.py: mappings against debugfs's extent listing, reads against the seeds'
manifests (content sha256 of every regular file, holes, unwritten extents, inline data), and
the mapping cache's contract (hits do no parsing, upsert, generation invalidation, caps)."""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from pathlib import Path

import pytest

from ext4guard.parser.errors import Ext4Error, TruncatedImage
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import Inode
from ext4guard.server.iomap import (
    NULL_ADDR,
    Iomap,
    IomapExtent,
    IomapType,
    MappingCache,
)
from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, manifest_entries, seed_image, seed_manifest


def regular_files(name: str) -> list[tuple[bytes, dict[str, object]]]:
    entries = manifest_entries(seed_manifest(name))
    return [(p, e) for p, e in sorted(entries.items()) if e["type"] == "reg"]


@pytest.mark.parametrize("name", [n for n in SEEDS if n != "ext4_largedir"])
def test_reads_equal_the_source_tree(name: str) -> None:
    with Filesystem.open(seed_image(name)) as fs:
        iomap = Iomap(fs)
        for path, entry in regular_files(name):
            inode = fs.inode(fs.lookup(path))
            whole = iomap.read(inode, 0, inode.size + 4096)
            assert hashlib.sha256(whole).hexdigest() == entry["sha256"], path
            # the same bytes in odd-sized pieces that straddle blocks and extents
            step = 4097 if inode.size < 1 << 16 else 131072 + 1
            pieces = b"".join(
                iomap.read(inode, off, step) for off in range(0, max(inode.size, 1), step)
            )
            assert pieces == whole, path
            assert iomap.read(inode, inode.size, 10) == b""


def test_one_mapping_per_extent_as_debugfs_lists_them() -> None:
    image = seed_image("ext4_default")
    with Filesystem.open(image) as fs:
        iomap = Iomap(fs)
        bs = fs.superblock.block_size
        checked = 0
        for path, entry in regular_files("ext4_default"):
            inode = fs.inode(fs.lookup(path))
            if not inode.uses_extents or inode.size == 0:
                continue
            maps = iomap.iomap_begin(inode, 0, inode.size)
            assert maps[0].offset == 0 and maps[-1].end >= inode.size
            assert all(a.end == b.offset for a, b in itertools.pairwise(maps))
            ours = [
                (m.offset // bs, m.length // bs, m.addr // bs, m.type is IomapType.UNWRITTEN)
                for m in maps
                if m.type in (IomapType.MAPPED, IomapType.UNWRITTEN)
            ]
            end_block = -(-inode.size // bs)
            theirs = [
                (r.logical_start, r.length, r.physical_start, r.uninit)
                for r in E.extents(image, inode.ino)
                if r.is_leaf and r.logical_start < end_block
            ]
            assert ours == theirs, path
            assert all(m.addr == NULL_ADDR for m in maps if m.type is IomapType.HOLE)
            checked += 1
            if entry.get("unwritten_ranges"):
                assert any(m.type is IomapType.UNWRITTEN for m in maps), path
        assert checked > 10


def test_large_file_is_few_mappings_not_one_per_block() -> None:
    with Filesystem.open(seed_image("ext4_default")) as fs:
        iomap = Iomap(fs)
        largest = max(
            (fs.inode(fs.lookup(p)) for p, _ in regular_files("ext4_default")),
            key=lambda i: i.size,
        )
        maps = iomap.iomap_begin(largest, 0, largest.size)
        blocks = -(-largest.size // fs.superblock.block_size)
        assert blocks > 100 and len(maps) <= 4


class _NoParser:
    """Stands in for the Filesystem after the first read: any parser call fails."""

    def iomap(self, *args: object) -> object:
        raise AssertionError("a cached read reached the parser")

    read = iomap


def test_a_cached_read_does_no_parsing() -> None:
    with Filesystem.open(seed_image("ext4_1k")) as fs:
        iomap = Iomap(fs)
        files = [fs.inode(fs.lookup(p)) for p, _ in regular_files("ext4_1k")]
        first = [bytes(iomap.read(i, 0, i.size)) for i in files]
        hits = iomap.cache.stats.hits
        iomap.fs = _NoParser()  # type: ignore[assignment]
        again = [bytes(iomap.read(i, 0, i.size)) for i in files]
        assert again == first
        assert iomap.cache.stats.hits > hits


def test_inline_files_are_inline_mappings() -> None:
    with Filesystem.open(seed_image("ext4_inline")) as fs:
        iomap = Iomap(fs)
        inode = fs.inode(fs.lookup(b"/inline/spill"))
        assert inode.has_inline_data
        maps = iomap.iomap_begin(inode, 0, inode.size)
        assert maps[0].type is IomapType.INLINE and maps[0].addr == NULL_ADDR
        assert bytes(iomap.read(inode, 0, inode.size)) == fs.read(inode.ino, 0, inode.size)


def test_a_mapping_past_the_shrunken_image_is_a_typed_error(tmp_path: Path) -> None:
    image = tmp_path / "shrink.img"
    shutil.copyfile(seed_image("ext4_default"), image)
    with Filesystem.open(image) as fs:
        iomap = Iomap(fs)
        largest = max(
            (fs.inode(fs.lookup(p)) for p, _ in regular_files("ext4_default")),
            key=lambda i: i.size,
        )
        maps = iomap.iomap_begin(largest, 0, largest.size)
        mapped = next(m for m in maps if m.type is IomapType.MAPPED)
        os.truncate(image, mapped.addr)  # the file shrinks underneath an open mount
        with pytest.raises(TruncatedImage) as info:
            iomap.read(largest, mapped.offset, 4096)
        assert isinstance(info.value, Ext4Error)


def ext(
    offset: int, length: int, addr: int = NULL_ADDR, kind: IomapType = IomapType.MAPPED
) -> IomapExtent:
    return IomapExtent(offset, length, kind, addr)


def test_cache_upsert_merges_and_clips() -> None:
    cache = MappingCache()
    cache.upsert(5, 1, [ext(0, 8192, 100_000)])
    cache.upsert(5, 1, [ext(4096, 8192, 500_000)])
    got = cache.get(5, 1, 0, 12288)
    assert got == [ext(0, 4096, 100_000), ext(4096, 8192, 500_000)]
    assert cache.get(5, 1, 0, 16384) is None  # a gap past 12288
    assert len(cache) == 2


def test_cache_invalidates_on_a_new_generation() -> None:
    cache = MappingCache()
    cache.upsert(7, 1, [ext(0, 4096, 8192)])
    assert cache.get(7, 2, 0, 4096) is None
    assert cache.inodes() == 0 and len(cache) == 0
    cache.upsert(7, 2, [ext(0, 4096, 12288)])
    cache.invalidate(7, generation=2)  # same generation: kept
    assert cache.get(7, 2, 0, 4096) == [ext(0, 4096, 12288)]
    cache.invalidate(7)
    assert cache.get(7, 2, 0, 4096) is None


def test_cache_is_capped_in_memory() -> None:
    cache = MappingCache(max_mappings=100, max_per_inode=10, max_inline_bytes=1000)
    for ino in range(1, 200):
        cache.upsert(ino, 0, [ext(i * 4096, 4096, i * 4096) for i in range(20)])
        assert len(cache) <= 100
    assert cache.stats.evicted_inodes > 0
    assert cache.get(199, 0, 0, 4096) is not None  # the most recent inode stays
    inline = IomapExtent(0, 4096, IomapType.INLINE, inline=b"x" * 600)
    cache.upsert(500, 0, [inline])
    cache.upsert(501, 0, [inline])
    assert cache.inline_bytes <= 1000


def test_holes_and_reads_past_eof_are_zeros_and_short() -> None:
    with Filesystem.open(seed_image("ext4_default")) as fs:
        iomap = Iomap(fs)
        sparse = [(p, e) for p, e in regular_files("ext4_default") if e.get("sparse") is not None]
        assert sparse
        for path, entry in sparse:
            inode: Inode = fs.inode(fs.lookup(path))
            data = bytes(iomap.read(inode, 0, inode.size))
            written = bytearray(len(data))
            for off, length in entry["sparse"]:  # type: ignore[union-attr]
                written[off : off + length] = data[off : off + length]
            assert bytes(written) == data, path  # everything outside the written ranges is 0
