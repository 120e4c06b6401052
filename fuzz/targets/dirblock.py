"""Target: one directory block (linear leaf, htree root or htree node).

The input replaces a block of a directory in a seed image (checksum tail or dx_tail fixed
unless the flags byte says not to); then that block is read as the directory's reader reads
it: checked and decoded as a linear block (every entry, the tail) and, in an indexed
directory, as the htree root or an interior node; names are searched in it (its own first
and last entries, `..`, a missing name, the longest name), looked up through the facade
(index probe or linear scan: the names the block holds), and the entries the input changed
stat'ed. ("Directory Entries", "Hash Tree Directories".)

Listing the whole directory per input (every other block unchanged) was most of this
target's time; the listing of mutated directory blocks is the `walk` and `fuse_ops`
targets' business (their structure-aware mutator aims at the same dir_block records).
"""

from __future__ import annotations

import itertools
from functools import partial

from ext4guard.parser.budget import Budget
from ext4guard.parser.directory import find_entry
from ext4guard.parser.dirent import DirBlock, DirContext, find_in_block, read_dir_block
from ext4guard.parser.errors import Where
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.htree import parse_dx_node, parse_dx_root
from ext4guard.parser.inode import Inode

from .. import records as R
from ..seeds import SMALL_SEEDS
from ._common import LIST_CAP, Candidate, RecordTarget, attempt, select

DESCRIPTION = "directory block (linear, htree root/node): decode, in-block search, lookups"

FIXED_NAMES = (b"..", b"lost+found", b"no such name", b"x" * 255)
#: (inode, name) of each candidate block's entries in the pristine seed, by block offset.
_PRISTINE: dict[tuple[str, int], frozenset[tuple[int, bytes]]] = {}


def _pristine_entries(cand: Candidate, ctx: DirContext) -> frozenset[tuple[int, bytes]]:
    key = (cand.template.name, cand.record.offset)
    known = _PRISTINE.get(key)
    if known is None:
        raw = cand.template.raw[cand.record.offset : cand.record.end]
        parsed = attempt(partial(read_dir_block, raw, ctx, Where(inode=ctx.ino)))
        entries = parsed.entries if isinstance(parsed, DirBlock) else ()
        known = _PRISTINE[key] = frozenset((e.inode, e.name) for e in entries)
    return known


def _run(fs: Filesystem, cand: Candidate) -> None:
    record = cand.record
    ino = record.ino
    directory = attempt(lambda: fs.inode(ino))
    if not isinstance(directory, Inode):
        return
    ctx = attempt(partial(DirContext.for_inode, fs.superblock, directory))
    if not isinstance(ctx, DirContext):
        return
    where = Where(inode=ino, block=record.block)
    block = fs.image.read(record.offset, record.length, where)
    if record.htree:
        if record.logical == 0:
            attempt(partial(parse_dx_root, block, ctx, where))
        else:
            attempt(partial(parse_dx_node, block, record.logical, 1, ctx, where))
    names = list(FIXED_NAMES)
    parsed = attempt(partial(read_dir_block, block, ctx, where))
    if isinstance(parsed, DirBlock):
        entries = parsed.entries
        names += [e.name for e in entries[:4]] + [e.name for e in entries[-4:]]
        known = _pristine_entries(cand, ctx)
        for entry in itertools.islice(entries, LIST_CAP):
            if (entry.inode, entry.name) not in known:
                attempt(partial(fs.stat, entry.inode))
    for name in names:
        attempt(partial(find_in_block, block, name, ctx, where))
    # Through the facade: the index (or the linear scan) must lead to this block's names.
    for name in names[len(FIXED_NAMES) :] or names[:1]:
        attempt(partial(find_entry, fs, directory, name, Budget()))


TARGET = RecordTarget(SMALL_SEEDS, select([R.DIR_BLOCK], per_seed=10), _run)
test_one_input = TARGET.test_one_input
seed_inputs = TARGET.seed_inputs
make_mutator = TARGET.make_mutator
