"""Target: extent trees and block maps (the mapping from file blocks to disk blocks).

The input replaces a regular file's `i_block` (the extent root or the 15 block pointers) and
one mapping block: a leaf extent node (seed inputs turn the file's one-level tree into a
two-level one, the leaf in a free block, so the fuzzer starts from real index and leaf
nodes) or an indirect block. Then the file is mapped and read at several offsets, and the
whole tree walked as `check` does. ("Extent Tree", "Direct/Indirect Block Addressing".)
"""

from __future__ import annotations

import struct
from functools import partial

from ext4guard.parser.filesystem import Filesystem

from .. import records as R
from ..memimage import Template
from ..records import Layout, Record
from ..seeds import SMALL_SEEDS
from ._common import Candidate, RecordTarget, attempt, exercise_inode
from .inode import full_map

DESCRIPTION = "extent tree and block map: root, index/leaf node or indirect block; iomap, read"

_EXT_MAGIC = 0xF30A
_FL_EXTENTS = 0x80000
_FL_INLINE = 0x10000000
PER_SEED = 8


def _free_blocks(raw: bytes, layout: Layout, count: int) -> list[int]:
    """Free blocks of group 0, from its block bitmap (not under bigalloc)."""
    sb = layout.sb
    bitmaps = [r for r in layout.of_kind(R.BLOCK_BITMAP) if r.group == 0]
    if not bitmaps or sb.cluster_size != sb.block_size:
        return []
    bitmap = raw[bitmaps[0].offset : bitmaps[0].end]
    out: list[int] = []
    for bit in range(min(sb.blocks_per_group, sb.blocks_count - sb.first_data_block) - 1, 0, -1):
        if not bitmap[bit >> 3] >> (bit & 7) & 1:
            out.append(sb.first_data_block + bit)
            if len(out) == count:
                break
    return out


def _two_level(i_block: bytes, leaf_block: int, bs: int) -> tuple[bytes, bytes] | None:
    """A one-level extent root rewritten as an index to a leaf block holding its extents."""
    magic, entries, _max, depth = struct.unpack_from("<HHHH", i_block)
    if magic != _EXT_MAGIC or depth != 0 or entries == 0:
        return None
    first_key = struct.unpack_from("<I", i_block, 12)[0]
    root = struct.pack("<HHHHI", _EXT_MAGIC, 1, 4, 1, 0)
    root += struct.pack("<IIHH", first_key, leaf_block & 0xFFFFFFFF, leaf_block >> 32, 0)
    leaf = struct.pack("<HHHHI", _EXT_MAGIC, entries, (bs - 12) // 12, 0, 0)
    leaf += i_block[12 : 12 + 12 * entries]
    return root.ljust(60, b"\0"), leaf.ljust(bs, b"\0")


def _build(name: str, raw: bytes, layout: Layout, template: Template) -> list[Candidate]:
    sb = layout.sb
    bs = sb.block_size
    files = []
    for record in layout.of_kind(R.INODE):
        (mode,) = struct.unpack_from("<H", raw, record.offset)
        (flags,) = struct.unpack_from("<I", raw, record.offset + 0x20)
        (size,) = struct.unpack_from("<I", raw, record.offset + 4)
        if mode >> 12 == 0x8 and not flags & _FL_INLINE and size > 0 and record.ino >= 11:
            files.append((record, bool(flags & _FL_EXTENTS)))
    files = files[:: max(1, len(files) // PER_SEED)][:PER_SEED]
    free = iter(_free_blocks(raw, layout, len(files)))
    scratch: list[Record] = []
    planned: list[tuple[Record, tuple[tuple[int, int], ...], bytes]] = []
    indirect = {r.ino: r for r in layout.of_kind(R.INDIRECT)}
    for record, extents in files:
        at = record.offset + 0x28
        i_block = raw[at : at + 60]
        if not extents and record.ino in indirect:
            ind = indirect[record.ino]
            windows = ((at, 60), (ind.offset, bs))
            planned.append((record, windows, i_block + raw[ind.offset : ind.end]))
            continue
        block = next(free, None)
        if block is None:
            break
        if extents:
            deeper = _two_level(i_block, block, bs)
            if deeper is None:
                continue
            root, node = deeper
            scratch.append(Record(R.EXTENT_NODE, block * bs, bs, block, ino=record.ino))
        else:
            # Give a short block-mapped file an indirect block naming its first block.
            root = i_block[:48] + struct.pack("<I", block) + i_block[52:]
            node = i_block[:4].ljust(bs, b"\0")
            scratch.append(Record(R.INDIRECT, block * bs, bs, block, ino=record.ino))
        planned.append((record, ((at, 60), (block * bs, bs)), root + node))
    if scratch:
        layout = Layout(
            sb=sb,
            size=layout.size,
            records=layout.records + tuple(scratch),
            inode_offsets=layout.inode_offsets,
            parents=layout.parents,
            metadata_blocks=layout.metadata_blocks,
        )
    return [Candidate(template, layout, rec, windows, init) for rec, windows, init in planned]


def _run(fs: Filesystem, cand: Candidate) -> None:
    ino = cand.record.ino
    exercise_inode(fs, ino)
    bs = fs.superblock.block_size
    for block in (1, 11, 12, 13, 100, 1 << 20, (1 << 32) - 1):
        attempt(partial(fs.iomap, ino, block * bs, 3 * bs))
    attempt(lambda: fs.read(ino, 12 * bs, 2 * bs))
    full_map(fs, ino)


TARGET = RecordTarget(SMALL_SEEDS, _build, _run)
test_one_input = TARGET.test_one_input
seed_inputs = TARGET.seed_inputs
make_mutator = TARGET.make_mutator
