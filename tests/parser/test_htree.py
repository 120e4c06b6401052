"""Hash tree directories through parser/htree.py, against debugfs `htree_dump` and `ls`.

The images are the ones test_dirent builds (mke2fs -d, then `e2fsck -fyD` indexes every
directory) in every hash flavour, plus the committed `ext4_largedir` seed (3-level tree)
and the casefold seed. Index nodes must equal htree_dump's (root info, count, limit, hashes,
blocks, checksums); every leaf entry's hash in htree_dump must equal ours; every name of the
big directories must be found through the index reading only O(levels) blocks; absent names
are not found; hand-made index corruptions give typed errors and nothing else escapes.
"""

from __future__ import annotations

import contextlib
import functools
import struct
import time
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext4guard.parser.dirent import DirContext
from ext4guard.parser.errors import ChecksumMismatch, Ext4Error, Where
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.htree import (
    Htree,
    HtreeBadBlock,
    HtreeBadLevels,
    HtreeBadLimit,
    HtreeBadNode,
    HtreeBadRoot,
    HtreeCycle,
    HtreeOrder,
    dx_checksum,
    dx_node_limit,
    dx_root_limit,
    parse_dx_root,
)
from tests.parser.test_dirent import IMAGES, DirReader, build_image
from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, seed_image

pytestmark = pytest.mark.skipif(not E.available(), reason="e2fsprogs not installed")


def htree_dump(img: Path, path: str | bytes) -> E.HtreeDump:
    """E.htree, tolerating the stderr warning debugfs 1.47 prints for every index block of a
    filesystem without metadata_csum ("does not have space for checksum")."""

    def dbg(img_: E.ImagePath, *parts: bytes | str) -> bytes:
        req = b" ".join(p.encode() if isinstance(p, str) else p for p in parts)
        return E.debugfs(img_, req, allow_stderr=True)

    with mock.patch.object(E, "_dbg", dbg):
        return E.htree(img, path)


def _compare_with_dump(img: Path, path: str | bytes, reader: DirReader, tree: Htree) -> None:
    dump = htree_dump(img, path)
    root = tree.root
    assert dump.root["Hash Version"] == root.hash_version
    assert dump.root["Indirect levels"] == root.indirect_levels
    assert dump.root["Info length"] == 8
    ours = {0: root}
    for node in dump.nodes:
        mine = ours.get(node.block) or tree.node(node.block, node.depth)
        assert (mine.count, mine.limit, mine.level) == (node.count, node.limit, node.depth)
        assert mine.checksum == node.checksum
        assert [(e.hash, e.block) for e in mine.entries] == [
            (e.hash, e.block) for e in node.entries
        ]
    assert tree.leaves() == [leaf.block for leaf in dump.leaves]
    for leaf in dump.leaves:
        for entry in leaf.entries:
            if b"\n" in entry.name:
                continue  # htree_dump prints names raw; the wrapper cannot split them there
            assert tree.hash_of(entry.name) == (entry.hash, entry.minor_hash), entry.name


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_index_equals_htree_dump(name: str) -> None:
    img = build_image(name)
    big = ["/big2k"] + (["/big20k"] if IMAGES[name][4] else [])
    with Filesystem.open(img) as fs:
        for path in big:
            reader = DirReader(fs, img, path)
            tree = Htree(reader.ctx, reader.block_of)
            _compare_with_dump(img, path, reader, tree)


def _lookup_all(img: Path, path: str | bytes) -> tuple[int, float, int]:
    """Look every name up through the index; (names, seconds, levels)."""
    with Filesystem.open(img) as fs:
        reader = DirReader(fs, img, path)
        tree = Htree(reader.ctx, reader.block_of)
        refs = [r for r in E.ls(img, path) if r.dirent_inode and r.name not in (b".", b"..")]
        levels = tree.indirect_levels
        start = time.perf_counter()
        for ref in refs:
            before = reader.reads
            found = tree.lookup(ref.name)
            assert found is not None and found.inode == ref.dirent_inode, ref.name
            # The leaf (rarely its collision successor) plus index nodes not yet cached.
            assert reader.reads - before <= levels + 2
        elapsed = time.perf_counter() - start
        for absent in (b"absent", b"big2" + b"9" * 40, b"\xff" * 255, b"small00001"):
            assert tree.lookup(absent) is None
        # Each index node is read once; leaves once per lookup (plus collisions).
        index_nodes = len(tree._nodes)
        assert reader.reads <= 1 + index_nodes + len(refs) * 2 + 8
    return len(refs), elapsed, levels


@pytest.mark.parametrize("name", ["4k_csum", "1k_csum", "4k_nocsum", "tea_unsigned"])
def test_lookup_every_name(name: str) -> None:
    img = build_image(name)
    paths = ["/big2k"] + (["/big20k"] if IMAGES[name][4] else [])
    for path in paths:
        _lookup_all(img, path)


def test_lookup_speed_20k() -> None:
    img = build_image("4k_csum")
    count, elapsed, _ = _lookup_all(img, "/big20k")
    rate = count / elapsed
    print(f"\n{count} htree lookups in {elapsed:.3f}s: {rate:.0f}/s (debugfs-mapped reads)")
    assert count == 20000


def _largedir() -> Path:
    if "ext4_largedir" not in SEEDS:
        pytest.skip("no ext4_largedir seed")
    return seed_image("ext4_largedir")


def _htree_dirs(img: Path) -> list[bytes]:
    out = []
    for ref in E.ls(img, "/"):
        if ref.file_type == 2 and ref.name not in (b".", b".."):
            st_ = E.inode_stat(img, b"/" + ref.name)
            if st_.flags & 0x1000:
                out.append(b"/" + ref.name)
    return out


def test_largedir_seed_three_levels() -> None:
    img = _largedir()
    dirs = _htree_dirs(img)
    assert dirs
    levels_seen = set()
    with Filesystem.open(img) as fs:
        for path in dirs:
            reader = DirReader(fs, img, path)
            tree = Htree(reader.ctx, reader.block_of)
            levels_seen.add(tree.indirect_levels)
            _compare_with_dump(img, path, reader, tree)
    for path in dirs:
        _lookup_all(img, path)
    assert 2 in levels_seen


def test_casefold_seed() -> None:
    if "ext4_casefold" not in SEEDS:
        pytest.skip("no ext4_casefold seed")
    img = seed_image("ext4_casefold")
    dirs = _htree_dirs(img)
    if not dirs:
        pytest.skip("casefold seed has no indexed directory")
    with Filesystem.open(img) as fs:
        for path in dirs:
            reader = DirReader(fs, img, path)
            tree = Htree(reader.ctx, reader.block_of)
            _compare_with_dump(img, path, reader, tree)
            if not reader.ctx.casefold:
                continue
            for ref in E.ls(img, path):
                if not ref.dirent_inode or ref.name in (b".", b".."):
                    continue
                for variant in (ref.name, ref.name.upper(), ref.name.lower()):
                    found = tree.lookup(variant)
                    assert found is not None and found.inode == ref.dirent_inode, variant


# --- hand-made corruption ----------------------------------------------------------------


@functools.cache
def _csum_tree() -> tuple[DirReader, Htree, dict[int, bytes]]:
    """The 1 KiB metadata_csum 20,000-entry directory (kept open for the session)."""
    img = build_image("1k_csum")
    fs = Filesystem.open(img)
    reader = DirReader(fs, img, "/big20k")
    tree = Htree(reader.ctx, reader.block_of)
    blocks = {b: reader.block_of(b) for b in [0] + [e.block for e in tree.root.entries]}
    return reader, tree, blocks


def _refresh_root_csum(ctx: DirContext, block: bytearray) -> None:
    limit, count = struct.unpack_from("<HH", block, 0x20)
    csum = dx_checksum(ctx.csum_seed, bytes(block), 0x20, count, limit)
    struct.pack_into("<I", block, 0x20 + 8 * limit + 4, csum)


def _refresh_node_csum(ctx: DirContext, block: bytearray) -> None:
    limit, count = struct.unpack_from("<HH", block, 8)
    csum = dx_checksum(ctx.csum_seed, bytes(block), 8, count, limit)
    struct.pack_into("<I", block, 8 + 8 * limit + 4, csum)


def test_limits_formula() -> None:
    assert dx_root_limit(4096, False) == 508 and dx_root_limit(4096, True) == 507
    assert dx_node_limit(4096, False) == 511 and dx_node_limit(4096, True) == 510
    assert dx_root_limit(1024, True) == 123 and dx_node_limit(1024, True) == 126


@pytest.mark.parametrize(
    ("offset", "value", "fmt", "error"),
    [
        (0x1E, 2, "<B", HtreeBadLevels),  # indirect_levels 2 without largedir
        (0x1E, 7, "<B", HtreeBadLevels),
        (0x1D, 9, "<B", HtreeBadRoot),  # info_length
        (0x1C, 3, "<B", HtreeBadRoot),  # hash_version 3 never on disk
        (0x18, 1, "<I", HtreeBadRoot),  # reserved_zero
        (0x20, 100, "<H", HtreeBadLimit),  # limit != capacity
        (0x22, 0, "<H", HtreeBadLimit),  # count 0
        (0x22, 200, "<H", HtreeBadLimit),  # count > limit
        (0x04, 24, "<H", HtreeBadRoot),  # "." rec_len
    ],
)
def test_root_corruptions(offset: int, value: int, fmt: str, error: type[Ext4Error]) -> None:
    reader, _, blocks = _csum_tree()
    block = bytearray(blocks[0])
    struct.pack_into(fmt, block, offset, value)
    if offset != 0x20:  # a changed limit moves the tail: leave the old checksum
        _refresh_root_csum(reader.ctx, block)
    with pytest.raises(error):
        parse_dx_root(bytes(block), reader.ctx, Where(block=0))


def _tree_with(reader: DirReader, blocks: dict[int, bytes]) -> Htree:
    return Htree(reader.ctx, lambda n: blocks[n] if n in blocks else reader.block_of(n))


def test_root_checksum_and_order() -> None:
    reader, tree, blocks = _csum_tree()
    bad = bytearray(blocks[0])
    bad[0x20 + 8 * 2] ^= 1  # entry 2's hash, checksum not refreshed
    with pytest.raises(ChecksumMismatch) as info:
        parse_dx_root(bytes(bad), reader.ctx, Where())
    assert info.value.structure == "htree node"
    assert tree.root.count >= 3
    swapped = bytearray(blocks[0])
    e1 = swapped[0x28:0x30]
    e2 = swapped[0x30:0x38]
    swapped[0x28:0x30], swapped[0x30:0x38] = e2, e1
    _refresh_root_csum(reader.ctx, swapped)
    with pytest.raises(HtreeOrder):
        parse_dx_root(bytes(swapped), reader.ctx, Where())
    outside = bytearray(blocks[0])
    struct.pack_into("<I", outside, 0x2C, reader.ctx.dir_blocks + 5)
    _refresh_root_csum(reader.ctx, outside)
    with pytest.raises(HtreeBadBlock):
        parse_dx_root(bytes(outside), reader.ctx, Where())


def cyc_bound(node: bytes) -> int:
    """Hash of a dx_node's entry 1: names below it route through the node's entry 0."""
    return int(struct.unpack_from("<I", node, 16)[0])


def test_cycle_and_bad_node() -> None:
    reader, tree, blocks = _csum_tree()
    assert tree.indirect_levels == 1
    child = tree.root.entries[0].block
    node = bytearray(blocks[child])
    # Make the dx_node look like a second root level: its first entry points at itself.
    struct.pack_into("<I", node, 12, child)
    _refresh_node_csum(reader.ctx, node)
    cyc = _tree_with(reader, {**blocks, child: bytes(node)})
    with pytest.raises(HtreeCycle):
        cyc.leaves()
    # A name that routes through root entry 0 and the node's entry 0 (the self-pointer).
    first = next(
        n for i in range(100000) if cyc.hash_of(n := b"probe%d" % i)[0] < cyc_bound(blocks[child])
    )
    with pytest.raises(HtreeCycle):
        cyc.lookup(first)
    # An index block that does not start with the empty full-block dirent is refused.
    notnode = bytearray(blocks[child])
    struct.pack_into("<I", notnode, 0, 12)
    bad = _tree_with(reader, {**blocks, child: bytes(notnode)})
    with pytest.raises(HtreeBadNode):
        bad.leaves()
    with pytest.raises(HtreeBadNode):
        bad.lookup(first)


def test_node_pointing_at_root() -> None:
    reader, tree, blocks = _csum_tree()
    child = tree.root.entries[1].block
    node = bytearray(blocks[child])
    struct.pack_into("<I", node, 12, 0)  # entry 0's block: the root
    _refresh_node_csum(reader.ctx, node)
    with pytest.raises(HtreeCycle):
        _tree_with(reader, {**blocks, child: bytes(node)}).leaves()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_dx_node_only_ext4_errors(data: st.DataObject) -> None:
    reader, tree, blocks = _csum_tree()
    child = tree.root.entries[data.draw(st.integers(0, tree.root.count - 1))].block
    node = bytearray(blocks[child])
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, 8 + 8 * 10))
        node[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        with contextlib.suppress(struct.error, ValueError):
            _refresh_node_csum(reader.ctx, node)
    try:
        mutated = _tree_with(reader, {**blocks, child: bytes(node)})
        mutated.leaves()
        mutated.lookup(b"big200001")
    except Ext4Error:
        pass


def test_node_entry_outside_parent_range() -> None:
    reader, tree, blocks = _csum_tree()
    child = tree.root.entries[1].block
    node = bytearray(blocks[child])
    struct.pack_into("<I", node, 16, 0xFFFFFFF0)  # entry 1's hash far above the range
    assert struct.unpack_from("<HH", node, 8)[1] >= 2
    _refresh_node_csum(reader.ctx, node)
    with pytest.raises((HtreeOrder,)):
        _tree_with(reader, {**blocks, child: bytes(node)}).leaves()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_dx_root_only_ext4_errors(data: st.DataObject) -> None:
    reader, _, blocks = _csum_tree()
    block = bytearray(blocks[0])
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, 0x20 + 8 * 8))
        block[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        with contextlib.suppress(struct.error, ValueError):
            _refresh_root_csum(reader.ctx, block)
    mutated = {**blocks, 0: bytes(block)}
    try:
        tree = _tree_with(reader, mutated)
        tree.lookup(b"big200001")
        tree.leaves()
    except Ext4Error:
        pass
