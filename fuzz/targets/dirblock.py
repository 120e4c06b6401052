"""Target: one directory block (linear leaf, htree root or htree node).

The input replaces a block of a directory in a seed image (checksum tail or dx_tail fixed
unless the flags byte says not to); then the directory is listed (htree leaves, or every
block when the index is damaged), names are looked up through the index and by linear scan,
and every entry listed is stat'ed. ("Directory Entries", "Hash Tree Directories".)
"""

from __future__ import annotations

import itertools
from functools import partial

from ext4guard.parser.budget import Budget
from ext4guard.parser.directory import find_entry
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import Inode

from .. import records as R
from ..seeds import SMALL_SEEDS
from ._common import LIST_CAP, Candidate, RecordTarget, attempt, select

DESCRIPTION = "directory block (linear, htree root/node): listing, lookups, entry stat"


def _run(fs: Filesystem, cand: Candidate) -> None:
    ino = cand.record.ino
    listing = attempt(lambda: fs.iterdir(ino))
    directory = attempt(lambda: fs.inode(ino))
    names = [b"..", b"lost+found", b"no such name", b"x" * 255]
    if isinstance(listing, tuple):
        entries, _findings = listing
        names += [e.name for e in entries[:8]] + [e.name for e in entries[-8:]]
        for entry in itertools.islice(entries, LIST_CAP):
            attempt(partial(fs.stat, entry.inode))
    if isinstance(directory, Inode):
        for name in names:
            attempt(partial(find_entry, fs, directory, name, Budget()))


TARGET = RecordTarget(SMALL_SEEDS, select([R.DIR_BLOCK], per_seed=10), _run)
test_one_input = TARGET.test_one_input
seed_inputs = TARGET.seed_inputs
make_mutator = TARGET.make_mutator
