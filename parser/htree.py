"""Hash tree (dir_index) directories: dx_root / dx_node parsing, lookup, full enumeration.

See "Hash Tree Directories" in the kernel's ext4 docs; the rules are those of `dx_probe()`,
`ext4_htree_next_block()` and `ext4_dx_csum()` in fs/ext4/namei.c, plus the ordering and
uniqueness checks e2fsck makes (pass 2, "htree" problems). Blocks are named by their
LOGICAL number in the directory; the caller supplies `block_of(logical) -> bytes` (mapping
through the extent tree or block map, range checks and budget charges are its business), so
this module does not depend on the mapping code.

Each index block is decoded once with the generated `Ext4Htree` classes and checked:
- root: "." (rec_len 12) and ".." (rec_len block size - 12), info reserved_zero 0,
  info_length 8, unused_flags bit 0 clear, a known hash_version (siphash only for
  encrypted casefolded directories: Unsupported), indirect_levels < 2 (< 3 with largedir);
- node: a fake empty dirent spanning the block (inode 0, rec_len block size);
- limit equal to what the kernel expects: dx_root_limit = (bs - 32 - 8 * csum) / 8 and
  dx_node_limit = (bs - 8 - 8 * csum) / 8 entries; 1 <= count <= limit;
- hashes of entries 1..count-1 non-decreasing (equal hashes are collisions), and child
  blocks inside the directory, not block 0;
- with metadata_csum the dx_tail checksum: crc32c(inode seed, block[:count_offset + 8 *
  count]) continued over dt_reserved (4 bytes) and a zero dt_checksum (ext4_dx_csum).
Parsed nodes are kept in the `Htree` object (index blocks only: few and small), so the
index a lookup uses is the one read and checked once; a caller that fears the image
changing underneath drops the `Htree` and builds a new one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._ksy.ext4_htree import Ext4Htree
from .budget import MAX_TREE_DEPTH
from .cache import LruCache
from .checksum import crc32c_raw
from .dirent import DirContext, DirEntry, find_in_block
from .dirhash import DX_HASH_SIPHASH, ON_DISK_HASH_VERSIONS, name_hash
from .errors import ChecksumMismatch, Corruption, Unsupported, Where
from .records import decode

ROOT_COUNT_OFFSET = 0x20  # "." (12) + ".." header (12) + dx_root_info (8)
NODE_COUNT_OFFSET = 0x08  # the fake dirent header
DX_TAIL_SIZE = 8
_BLOCK_MASK = 0x0FFFFFFF  # dx_get_block(): the top 4 bits are not part of the block number


class HtreeBadRoot(Corruption):
    """dx_root's "."/".." or dx_root_info is not what an htree root holds."""

    code = "htree_bad_root"


class HtreeBadNode(Corruption):
    """An index block that does not start with the empty dirent of a dx_node."""

    code = "htree_bad_node"


class HtreeBadLevels(Corruption):
    """indirect_levels beyond what the filesystem allows (1, or 2 with largedir)."""

    code = "htree_bad_levels"


class HtreeBadLimit(Corruption):
    """limit is not the block's capacity, or count is 0 or above limit."""

    code = "htree_bad_limit"


class HtreeOrder(Corruption):
    """dx_entry hashes out of order, or a child's hashes outside its parent's range."""

    code = "htree_order"


class HtreeBadBlock(Corruption):
    """A dx_entry points past the end of the directory."""

    code = "htree_bad_block"


class HtreeCycle(Corruption):
    """An index points back at a block already on the path, or reaches a block twice."""

    code = "htree_cycle"


def dx_root_limit(block_size: int, metadata_csum: bool) -> int:
    """Entries a dx_root holds: (bs - 12 - 12 - 8 [- 8 tail]) / 8 (namei.c dx_root_limit)."""
    return (block_size - ROOT_COUNT_OFFSET - (DX_TAIL_SIZE if metadata_csum else 0)) // 8


def dx_node_limit(block_size: int, metadata_csum: bool) -> int:
    """Entries a dx_node holds: (bs - 8 [- 8 tail]) / 8 (namei.c dx_node_limit)."""
    return (block_size - NODE_COUNT_OFFSET - (DX_TAIL_SIZE if metadata_csum else 0)) // 8


def dx_checksum(csum_seed: int, block: bytes, count_offset: int, count: int, limit: int) -> int:
    """ext4_dx_csum: the used entries' bytes, then the dx_tail with dt_checksum as zero."""
    size = count_offset + 8 * count
    tail = count_offset + 8 * limit
    crc = crc32c_raw(csum_seed, memoryview(block)[:size])
    return crc32c_raw(crc, bytes(block[tail : tail + 4]) + b"\0\0\0\0")


def _precheck_countlimit(block: bytes, offset: int, expected: int, where: Where) -> None:
    limit = int.from_bytes(block[offset : offset + 2], "little")
    count = int.from_bytes(block[offset + 2 : offset + 4], "little")
    if limit != expected:
        raise HtreeBadLimit(f"limit {limit} != {expected} for this block", where)
    if not 1 <= count <= limit:
        raise HtreeBadLimit(f"count {count} outside 1..{limit}", where)


@dataclass(frozen=True, slots=True)
class DxEntry:
    hash: int  # entry 0's is 0 (its slot holds count/limit)
    block: int  # logical block in the directory


@dataclass(frozen=True, slots=True)
class DxNode:
    """A checked dx_root (block 0) or dx_node."""

    block: int
    level: int  # 0 for the root; leaves hang below level indirect_levels
    count: int
    limit: int
    entries: tuple[DxEntry, ...]
    hashes: tuple[int, ...]  # entries' hashes, for bisect
    checksum: int | None  # stored dt_checksum (metadata_csum)
    hash_version: int | None = None  # root only
    indirect_levels: int | None = None  # root only


def _node_from(
    rec: Any, block: bytes, logical: int, level: int, ctx: DirContext, where: Where, root: bool
) -> DxNode:
    # count and limit were checked on the raw bytes (_precheck_countlimit) before decoding.
    cl = rec.countlimit
    count, limit = int(cl.count), int(cl.limit)
    entries = [DxEntry(0, int(rec.block) & _BLOCK_MASK)]
    entries += [DxEntry(int(e.hash), int(e.block) & _BLOCK_MASK) for e in rec.entries]
    hashes = tuple(e.hash for e in entries)
    for i in range(2, count):
        if hashes[i] < hashes[i - 1]:
            raise HtreeOrder(f"entry {i} hash 0x{hashes[i]:08x} < previous", where)
    for i, e in enumerate(entries):
        if e.block == 0:
            # dx_probe's path always starts at block 0: pointing there is a cycle.
            raise HtreeCycle(f"entry {i} points back at the root (block 0)", where)
        if e.block >= ctx.dir_blocks:
            raise HtreeBadBlock(
                f"entry {i} points at block {e.block} (directory has {ctx.dir_blocks})", where
            )
    stored: int | None = None
    if ctx.metadata_csum:
        offset = ROOT_COUNT_OFFSET if root else NODE_COUNT_OFFSET
        stored = int(rec.tail.dt_checksum) if rec.has_tail else None
        if stored is None:
            raise HtreeBadLimit("no room for the dx_tail checksum", where)
        computed = dx_checksum(ctx.csum_seed, block, offset, count, limit)
        if stored != computed:
            raise ChecksumMismatch("htree node", stored, computed, where)
    return DxNode(logical, level, count, limit, tuple(entries), hashes, stored)


def parse_dx_root(block: bytes, ctx: DirContext, where: Where) -> DxNode:
    """Decode and check block 0 of an htree directory."""
    if len(block) != ctx.block_size:
        raise HtreeBadRoot(f"root block of {len(block)} bytes", where)
    bs = ctx.block_size
    # The grammar validates these too; checking the raw bytes first gives the typed error.
    info_length, levels = block[0x1D], block[0x1E]
    if info_length != 8:
        raise HtreeBadRoot(f"info_length {info_length} != 8", where)
    if levels >= (3 if ctx.largedir else 2):
        raise HtreeBadLevels(f"indirect_levels {levels} (largedir: {ctx.largedir})", where)
    _precheck_countlimit(block, ROOT_COUNT_OFFSET, dx_root_limit(bs, ctx.metadata_csum), where)

    def build(rec: Any) -> DxNode:
        if rec.dot.rec_len != 12 or rec.dot.name_len != 1 or rec.dot_name[:1] != b".":
            raise HtreeBadRoot('"." entry is not a 12-byte "."', where)
        if rec.dotdot.rec_len != bs - 12 or rec.dotdot.name_len != 2:
            raise HtreeBadRoot('".." entry does not span the block', where)
        info = rec.info
        if info.reserved_zero != 0 or info.unused_flags & 1:
            raise HtreeBadRoot("dx_root_info reserved field or flags set", where)
        version = info.hash_version
        version = int(version.value if hasattr(version, "value") else version)
        if version not in ON_DISK_HASH_VERSIONS:
            raise HtreeBadRoot(f"unknown hash version {version}", where)
        if version == DX_HASH_SIPHASH:
            raise Unsupported("siphash htree (encrypted casefold directory)", where)
        node = _node_from(rec, block, 0, 0, ctx, where, True)
        return DxNode(
            node.block, 0, node.count, node.limit, node.entries, node.hashes, node.checksum,
            version, levels,  # checked on the raw bytes above
        )  # fmt: skip

    return decode(Ext4Htree.DxRoot, block, where, build)


def parse_dx_node(block: bytes, logical: int, level: int, ctx: DirContext, where: Where) -> DxNode:
    """Decode and check an interior index block."""
    if len(block) != ctx.block_size:
        raise HtreeBadNode(f"index block of {len(block)} bytes", where)
    limit = dx_node_limit(ctx.block_size, ctx.metadata_csum)
    _precheck_countlimit(block, NODE_COUNT_OFFSET, limit, where)

    def build(rec: Any) -> DxNode:
        fake = rec.fake
        bs = ctx.block_size
        rec_len = bs if bs >= 65536 and fake.rec_len in (0, 65535) else fake.rec_len
        if fake.inode != 0 or rec_len != bs or fake.name_len != 0:
            raise HtreeBadNode("index block does not start with an empty full-block dirent", where)
        return _node_from(rec, block, logical, level, ctx, where, False)

    return decode(Ext4Htree.DxNode, block, where, build)


class Htree:
    """One htree directory: checked index nodes, lookups, and a full leaf enumeration.

    `block_of(logical)` returns the directory's logical block (its bytes); it may raise any
    Ext4Error (mapping, range, budget), which passes through. `cache` keeps checked nodes,
    keyed by (directory inode, logical block), across lookups: the facade passes one bounded
    cache for the open image, so a big directory's root is decoded once, not per lookup.
    """

    __slots__ = ("_nodes", "block_of", "ctx", "root")

    def __init__(
        self,
        ctx: DirContext,
        block_of: Callable[[int], bytes],
        cache: LruCache[tuple[int, int], DxNode] | None = None,
    ) -> None:
        self.ctx = ctx
        self.block_of = block_of
        self._nodes = cache if cache is not None else LruCache[tuple[int, int], DxNode](256)
        root = self._nodes.get((ctx.ino, 0))
        if root is None:
            root = parse_dx_root(block_of(0), ctx, Where(inode=ctx.ino, block=0))
            self._nodes.put((ctx.ino, 0), root)
        self.root = root

    @property
    def indirect_levels(self) -> int:
        return self.root.indirect_levels or 0

    def _where(self, logical: int) -> Where:
        return Where(inode=self.ctx.ino, block=logical)

    def node(self, logical: int, level: int) -> DxNode:
        """The checked dx_node at `logical` (cached after the first read)."""
        cached = self._nodes.get((self.ctx.ino, logical))
        if cached is not None:
            if cached.level != level:
                raise HtreeCycle(
                    f"index block {logical} used at levels {cached.level} and {level}",
                    self._where(logical),
                )
            return cached
        node = parse_dx_node(self.block_of(logical), logical, level, self.ctx, self._where(logical))
        self._nodes.put((self.ctx.ino, logical), node)
        return node

    def hash_of(self, name: bytes) -> tuple[int, int]:
        root = self.root
        return name_hash(
            name,
            root.hash_version or 0,
            sb_flags=self.ctx.sb_flags,
            seed=self.ctx.hash_seed,
            casefold=self.ctx.casefold,
            where=self._where(0),
        )

    def _probe(self, hash_: int) -> list[tuple[DxNode, int]]:
        """dx_probe: the (node, entry index) path from the root to the leaf's parent."""
        path: list[tuple[DxNode, int]] = []
        node = self.root
        on_path = [0]
        levels = self.indirect_levels
        for level in range(min(levels, MAX_TREE_DEPTH) + 1):
            # Last entry whose hash <= hash_ (entry 0 covers everything below entry 1).
            at = max(bisect_right(node.hashes, hash_, 1, node.count) - 1, 0)
            path.append((node, at))
            child = node.entries[at].block
            # As dx_probe: no block may repeat on the path, the leaf included.
            if child in on_path:
                raise HtreeCycle(f"index points back at block {child}", self._where(node.block))
            if level == levels:
                break
            on_path.append(child)
            node = self.node(child, level + 1)
        return path

    def _next_leaf(self, path: list[tuple[DxNode, int]], hash_: int) -> int | None:
        """ext4_htree_next_block: the next leaf if it may hold more names hashing to hash_."""
        depth = len(path) - 1
        while True:
            node, at = path[depth]
            if at + 1 < node.count:
                path[depth] = (node, at + 1)
                break
            if depth == 0:
                return None
            depth -= 1
        node, at = path[depth]
        if node.hashes[at] & ~1 != hash_:
            return None
        # Descend the leftmost edge back to the leaf level.
        while depth < len(path) - 1:
            child = node.entries[at].block
            node = self.node(child, depth + 1)
            depth += 1
            path[depth] = (node, 0)
            at = 0
        return node.entries[at].block

    def lookup(
        self, name: bytes, find: Callable[[int, bytes], DirEntry | None] | None = None
    ) -> DirEntry | None:
        """The live entry `name` via the index (scanning 1, rarely more, leaf blocks).

        `find(logical, name)` searches one leaf; by default the leaf is read and scanned."""
        hash_, _ = self.hash_of(name)
        path = self._probe(hash_)
        node, at = path[-1]
        leaf: int | None = node.entries[at].block
        for _ in range(64):
            if leaf is None:
                return None
            if find is not None:
                found = find(leaf, name)
            else:
                found = find_in_block(self.block_of(leaf), name, self.ctx, self._where(leaf))
            if found is not None:
                return found
            leaf = self._next_leaf(path, hash_)
        return None

    def leaves(self) -> list[int]:
        """Every leaf block in hash order, each exactly once (for check and readdir).

        Walks all index nodes with an explicit stack; child hashes must lie inside the
        parent entry's range; a block reached twice is an HtreeCycle.
        """
        seen: set[int] = {0}
        out: list[int] = []
        levels = self.indirect_levels
        # (node, next entry index, range low, range high)
        stack: list[tuple[DxNode, int, int, int]] = [(self.root, 0, 0, 0xFFFFFFFF)]
        while stack:
            node, i, lo, hi = stack.pop()
            if i >= node.count:
                continue
            stack.append((node, i + 1, lo, hi))
            e_lo = node.hashes[i] & ~1 if i else lo
            e_hi = node.hashes[i + 1] if i + 1 < node.count else hi
            if i and not lo <= node.hashes[i] <= hi:
                raise HtreeOrder(
                    f"entry {i} hash 0x{node.hashes[i]:08x} outside parent range",
                    self._where(node.block),
                )
            child = node.entries[i].block
            if child in seen:
                raise HtreeCycle(f"block {child} is reached twice", self._where(node.block))
            seen.add(child)
            if node.level == levels:
                out.append(child)
            else:
                stack.append((self.node(child, node.level + 1), 0, e_lo, e_hi))
        return out
