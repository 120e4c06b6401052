"""Extent trees: map logical file blocks to physical blocks, checking every node on the way.

See "Extent Tree" in the kernel's "ext4 Data Structures and Algorithms". The root is the
60-byte `i_block` (4 slots, no checksum tail); every other node fills one block and, with
metadata_csum, ends in a crc32c tail seeded per inode. Two walks:

- `find_extents` does what the kernel does for a lookup (`ext4_find_extent`): a binary
  search down one path, then on to the next leaf while the requested range continues.
  Only the nodes the range needs are read, each once per call.
- `walk_extent_tree` visits the whole tree for `check`: an explicit stack, a visited set of
  node blocks, the depth bounded by the root's (<= 5), every read charged to the budget.

At every node the rules of `__ext4_ext_check` / `ext4_valid_extent_entries` apply: magic,
`eh_max` within the node's capacity, `eh_entries <= eh_max`, depth equal to the parent's
minus one, keys strictly increasing and inside the parent's key range, leaf extents
non-empty, non-overlapping and inside the filesystem, and the tail checksum. Nothing here
recurses, and no loop is sized by an on-disk count beyond a node's capacity.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple

from ._ksy.ext4_extent import Ext4Extent
from .blocks import BlockOutOfRange
from .budget import MAX_TREE_DEPTH, Budget
from .checksum import crc32c_raw
from .errors import BudgetExceeded, ChecksumMismatch, Corruption, Where
from .inode import Inode
from .records import decode

if TYPE_CHECKING:
    from .filesystem import Filesystem

__all__ = [
    "EXT_INIT_MAX_LEN",
    "MAX_LOGICAL_BLOCKS",
    "BlockOutOfRange",
    "Extent",
    "ExtentBadEntry",
    "ExtentBadHeader",
    "ExtentCycle",
    "ExtentDepthMismatch",
    "ExtentOrder",
    "ExtentOverlap",
    "ExtentTree",
    "find_extents",
    "walk_extent_tree",
]

EXT4_EXT_MAGIC = 0xF30A
#: ee_len above this marks an unwritten extent of ee_len - 32768 blocks (EXT_INIT_MAX_LEN).
EXT_INIT_MAX_LEN = 32768
#: Logical block numbers are 32-bit: no mapping reaches past 2^32 blocks.
MAX_LOGICAL_BLOCKS = 1 << 32
_HEADER_SIZE = 12
_ENTRY_SIZE = 12
_TAIL_SIZE = 4


class ExtentBadHeader(Corruption):
    """A node header with a wrong magic, eh_max beyond capacity or eh_entries > eh_max."""

    code = "extent_bad_header"


class ExtentDepthMismatch(Corruption):
    """A child node whose eh_depth is not its parent's minus one (or a root deeper than 5)."""

    code = "extent_depth_mismatch"


class ExtentOrder(Corruption):
    """Keys not strictly increasing, or outside the key range the parent index gives."""

    code = "extent_order"


class ExtentOverlap(Corruption):
    """Leaf extents that map one logical block twice."""

    code = "extent_overlap"


class ExtentCycle(Corruption):
    """An index pointing at a node already visited in this walk (itself, an ancestor...)."""

    code = "extent_cycle"


class ExtentBadEntry(Corruption):
    """A leaf extent that maps nothing (ee_len 0) or runs past logical block 2^32."""

    code = "extent_bad_entry"


class Extent(NamedTuple):
    """One run of logical blocks mapped onto contiguous physical blocks.

    Immutable records built on every read and lookup: NamedTuples, like `Inode`, because
    they cost a fraction of a frozen dataclass to construct."""

    logical_block: int
    length_blocks: int
    physical_block: int
    unwritten: bool

    @property
    def logical_end(self) -> int:
        return self.logical_block + self.length_blocks


@dataclass(frozen=True, slots=True)
class ExtentTree:
    """The whole tree as `check` sees it: every leaf extent in order, every node block."""

    depth: int
    extents: tuple[Extent, ...]
    tree_blocks: tuple[int, ...]


class ExtentNode(NamedTuple):
    """One decoded node: keys (ei_block / ee_block) and, per key, a pointer and a length.

    Index nodes: `ptrs` are child node blocks and `lens` is empty. Leaves: `ptrs` are
    physical starts and `lens` the raw ee_len (unwritten flag folded in).
    """

    depth: int
    keys: tuple[int, ...]
    ptrs: tuple[int, ...]
    lens: tuple[int, ...]


_HEADER = struct.Struct("<HHHH")  # eh_magic, eh_entries, eh_max, eh_depth
_LEAF = struct.Struct("<IHHI")  # ee_block, ee_len, ee_start_hi, ee_start_lo
_INDEX = struct.Struct("<IIHH")  # ei_block, ei_leaf_lo, ei_leaf_hi, ei_unused
# Records built on every read go through tuple.__new__ positionally: a NamedTuple's keyword
# __new__ is a Python-level call that costs more than the decode around it.
_new_tuple = tuple.__new__


def decode_node(data: bytes, depth: int, entries: int) -> ExtentNode:
    """Decode a node whose header was already checked (entries <= eh_max <= capacity).

    Field for field what ksy/ext4_extent.ksy says (the tests hold it to `decode_node_with_
    grammar` on every seed's extent nodes and on random nodes), without a per-field decode:
    directory lookups and file reads walk extent nodes on every call."""
    if entries == 0:
        return ExtentNode(depth, (), (), ())
    if entries == 1 and depth == 0:  # most files: one extent, in i_block
        key, length, start_hi, start_lo = _LEAF.unpack_from(data, _HEADER_SIZE)
        return _new_tuple(ExtentNode, (0, (key,), (start_hi << 32 | start_lo,), (length,)))
    area = data[_HEADER_SIZE : _HEADER_SIZE + entries * _ENTRY_SIZE]
    if depth == 0:
        keys, lens, starts_hi, starts_lo = zip(*_LEAF.iter_unpack(area), strict=True)
        if any(starts_hi):
            starts_lo = tuple(hi << 32 | lo for hi, lo in zip(starts_hi, starts_lo, strict=True))
        return _new_tuple(ExtentNode, (0, keys, starts_lo, lens))
    keys, leaves_lo, leaves_hi, _ = zip(*_INDEX.iter_unpack(area), strict=True)
    if any(leaves_hi):
        leaves_lo = tuple(hi << 32 | lo for hi, lo in zip(leaves_hi, leaves_lo, strict=True))
    return _new_tuple(ExtentNode, (depth, keys, leaves_lo, ()))


def decode_node_with_grammar(data: bytes, where: Where) -> ExtentNode:
    """The reference decode through the Kaitai grammar."""
    return decode(Ext4Extent.Node, data, where, _build_node)


def _build_node(rec: Any) -> ExtentNode:
    depth = rec.header.eh_depth
    if depth == 0:
        entries = rec.extents
        return ExtentNode(
            0,
            tuple(e.ee_block for e in entries),
            tuple(e.start for e in entries),
            tuple(e.ee_len for e in entries),
        )
    entries = rec.indexes
    return ExtentNode(depth, tuple(i.ei_block for i in entries), tuple(i.leaf for i in entries), ())


#: Checked nodes below the root are cached per open image under (inode, block, depth, lo,
#: hi): the same block under the same parent range. Roots live in the inode (cheap to check).
ExtentNodeKey = tuple[int, int, int, int, int]


class _Walk:
    """What one call knows: the filesystem, the inode, the checksum seed, the budget."""

    __slots__ = ("budget", "csum_seed", "fs", "ino", "visited")

    def __init__(self, fs: Filesystem, inode: Inode, budget: Budget, csum_seed: int | None):
        if fs.superblock.has_metadata_csum and csum_seed is None:
            # A programming error, not an image property: checksums are never optional.
            raise TypeError("metadata_csum filesystem: pass inode_checksum_seed(sb, inode)")
        self.fs = fs
        self.ino = inode.ino
        self.budget = budget
        self.csum_seed = csum_seed if fs.superblock.has_metadata_csum else None
        self.visited: set[int] = set()

    def where(self, block: int | None) -> Where:
        return Where(inode=self.ino, block=block)

    def node(
        self, data: bytes, block: int | None, depth: int | None, lo: int, hi: int
    ) -> ExtentNode:
        """Check and decode one node. `depth` is the parent's minus one (None for the root);
        every key must lie in [lo, hi), the range the parent's index gives this node.

        Runs on every read and lookup, so `Where` records are built only on the way to an
        error."""
        capacity = (len(data) - _HEADER_SIZE) // _ENTRY_SIZE
        magic, entries, eh_max, eh_depth = _HEADER.unpack_from(data)
        if magic != EXT4_EXT_MAGIC:
            raise ExtentBadHeader(f"extent node magic 0x{magic:04x}, not 0xf30a", self.where(block))
        if not 1 <= eh_max <= capacity:
            raise ExtentBadHeader(f"eh_max {eh_max} outside 1..{capacity}", self.where(block))
        if block is not None and self.csum_seed is not None:
            # The tail sits right after the eh_max slots; verify before trusting the rest.
            tail = _HEADER_SIZE + _ENTRY_SIZE * eh_max
            stored = int.from_bytes(data[tail : tail + _TAIL_SIZE], "little")
            computed = crc32c_raw(self.csum_seed, data[:tail])
            if stored != computed:
                raise ChecksumMismatch("extent block", stored, computed, self.where(block))
        if depth is None:
            if eh_depth > MAX_TREE_DEPTH:
                raise ExtentDepthMismatch(
                    f"root eh_depth {eh_depth} > {MAX_TREE_DEPTH}", self.where(block)
                )
        elif eh_depth != depth:
            raise ExtentDepthMismatch(
                f"eh_depth {eh_depth}, parent says {depth}", self.where(block)
            )
        if entries > eh_max:
            raise ExtentBadHeader(f"eh_entries {entries} > eh_max {eh_max}", self.where(block))
        if entries == 0 and eh_depth > 0:
            raise ExtentBadHeader("index node with no entries", self.where(block))
        try:
            self.budget.charge_entries(entries)
        except BudgetExceeded as exc:
            exc.where = self.where(block)  # built here, off the path of every node
            raise
        node = decode_node(data, eh_depth, entries)
        if node.keys:
            self._check_keys(node, block, lo, hi)
        return node

    def _check_keys(self, node: ExtentNode, block: int | None, lo: int, hi: int) -> None:
        keys = node.keys
        if not (lo <= keys[0] and keys[-1] < hi):
            raise ExtentOrder(
                f"keys {keys[0]}..{keys[-1]} outside the parent's [{lo}, {hi})", self.where(block)
            )
        if node.depth:
            for prev, key in pairwise(keys):
                if key <= prev:
                    raise ExtentOrder(
                        f"key {key} follows {prev}: not strictly increasing", self.where(block)
                    )
            return
        # Leaves: each extent must start at or past the previous one's end (one comparison
        # per extent; which rule broke is sorted out only on the way to the error).
        check = self.fs.blocks.check
        prev_key = -1
        prev_end = lo
        for key, start, raw_len in zip(keys, node.ptrs, node.lens, strict=True):
            length = raw_len - EXT_INIT_MAX_LEN if raw_len > EXT_INIT_MAX_LEN else raw_len
            if length == 0:
                raise ExtentBadEntry(f"extent at logical {key} has ee_len 0", self.where(block))
            if key < prev_end:
                if key <= prev_key:
                    raise ExtentOrder(
                        f"key {key} follows {prev_key}: not strictly increasing",
                        self.where(block),
                    )
                raise ExtentOverlap(
                    f"extent at logical {key} overlaps one ending {prev_end}", self.where(block)
                )
            prev_key = key
            prev_end = key + length
            if prev_end > MAX_LOGICAL_BLOCKS:
                raise ExtentBadEntry(
                    f"extent {key}+{length} runs past logical block 2^32", self.where(block)
                )
            if prev_end > hi:
                raise ExtentOverlap(
                    f"extent {key}+{length} runs past its node's key range end {hi}",
                    self.where(block),
                )
            check(start, length, inode=self.ino)

    def root(self, inode: Inode) -> ExtentNode:
        return self.node(inode.i_block, None, None, 0, MAX_LOGICAL_BLOCKS)

    def child(self, block: int, depth: int, lo: int, hi: int) -> ExtentNode:
        where = self.where(block)
        if block in self.visited:
            raise ExtentCycle(f"extent node block {block} reached twice", where)
        self.visited.add(block)
        # A node checked once under the same parent range stays checked for this open image.
        key = (self.ino, block, depth, lo, hi)
        node = self.fs.extent_nodes.get(key)
        if node is None:
            data = self.fs.blocks.read(block, where, self.budget)
            node = self.node(data, block, depth, lo, hi)
            self.fs.extent_nodes.put(key, node)
        return node


def _leaf_extents(node: ExtentNode, start: int, out: list[Extent], end: int) -> None:
    """Append the node's extents from index `start` whose logical start is below `end`."""
    for key, phys, raw_len in zip(
        node.keys[start:], node.ptrs[start:], node.lens[start:], strict=True
    ):
        if key >= end:
            return
        if raw_len > EXT_INIT_MAX_LEN:
            out.append(_new_tuple(Extent, (key, raw_len - EXT_INIT_MAX_LEN, phys, True)))
        else:
            out.append(_new_tuple(Extent, (key, raw_len, phys, False)))


def find_extents(
    fs: Filesystem,
    inode: Inode,
    first_block: int,
    block_count: int,
    budget: Budget,
    *,
    csum_seed: int | None,
) -> list[Extent]:
    """The leaf extents that overlap logical blocks [first_block, first_block + block_count),
    in order and unclipped, found as `ext4_find_extent` does: binary search down one path,
    then the next leaf (`ext4_ext_next_leaf_block`) while the range goes on.

    `csum_seed` is `parser.mapping.inode_checksum_seed(fs.superblock, inode)` (required with
    metadata_csum). Raises only Ext4Error.
    """
    end = min(first_block + block_count, MAX_LOGICAL_BLOCKS)
    first_block = max(first_block, 0)
    if first_block >= end:
        return []
    walk = _Walk(fs, inode, budget, csum_seed)
    node = walk.root(inode)
    lo, hi = 0, MAX_LOGICAL_BLOCKS
    key = first_block
    out: list[Extent] = []
    # The path from the root: (node, chosen index, node's key range).
    path: list[tuple[ExtentNode, int, int, int]] = []
    while True:
        while node.depth > 0:
            # ext4_ext_binsearch_idx: the last index whose key is <= the block (or the first).
            i = max(bisect_right(node.keys, key) - 1, 0)
            path.append((node, i, lo, hi))
            lo = node.keys[i]
            hi = node.keys[i + 1] if i + 1 < len(node.keys) else hi
            node = walk.child(node.ptrs[i], node.depth - 1, lo, hi)
        if node.keys:
            # ext4_ext_binsearch: the last extent starting at or before the block.
            i = max(bisect_right(node.keys, key) - 1, 0)
            if node.keys[i] + _length(node.lens[i]) <= first_block:
                i += 1
            _leaf_extents(node, i, out, end)
        if hi >= end:
            return out
        # Climb to the nearest ancestor with a next index and descend its leftmost path.
        while path:
            node, i, lo, hi = path.pop()
            if i + 1 < len(node.keys):
                key = node.keys[i + 1]
                if key >= end:
                    return out
                break
        else:
            return out


def _length(raw_len: int) -> int:
    """Blocks an extent covers: ee_len, less the unwritten marker (ext4_ext_get_actual_len)."""
    return raw_len - EXT_INIT_MAX_LEN if raw_len > EXT_INIT_MAX_LEN else raw_len


def walk_extent_tree(
    fs: Filesystem, inode: Inode, budget: Budget, *, csum_seed: int | None
) -> ExtentTree:
    """Every node of the tree, depth first in key order, for `check`: all leaf extents and
    all tree blocks. An explicit stack and a visited set; depth <= 5 by the root's check."""
    walk = _Walk(fs, inode, budget, csum_seed)
    root = walk.root(inode)
    extents: list[Extent] = []
    blocks: list[int] = []
    # (child block, expected depth, key range [lo, hi)), pushed in reverse key order.
    stack: list[tuple[int, int, int, int]] = []

    def push_children(node: ExtentNode, hi: int) -> None:
        bounds = [*node.keys[1:], hi]
        for index in range(len(node.keys) - 1, -1, -1):
            stack.append((node.ptrs[index], node.depth - 1, node.keys[index], bounds[index]))

    if root.depth == 0:
        _leaf_extents(root, 0, extents, MAX_LOGICAL_BLOCKS)
    else:
        push_children(root, MAX_LOGICAL_BLOCKS)
    while stack:
        block, depth, lo, hi = stack.pop()
        node = walk.child(block, depth, lo, hi)
        blocks.append(block)
        if node.depth == 0:
            if extents and node.keys and node.keys[0] < extents[-1].logical_end:
                raise ExtentOverlap(
                    f"leaf starts at {node.keys[0]} before the previous leaf ends",
                    walk.where(block),
                )
            _leaf_extents(node, 0, extents, MAX_LOGICAL_BLOCKS)
        else:
            push_children(node, hi)
    return ExtentTree(root.depth, tuple(extents), tuple(blocks))
