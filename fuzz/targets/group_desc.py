"""Target: group descriptors and the bitmaps they describe.

The input replaces one group descriptor, or one block or inode bitmap, of a seed image; then
every descriptor is read (crc16 / crc32c), each group's bitmaps read and verified against the
checksums the descriptor keeps, the metadata zone built, and inodes of the root looked at
through the descriptors. ("Block Group Descriptors", "Block and inode Bitmaps".)
"""

from __future__ import annotations

import itertools
from functools import partial

from ext4guard.parser.bitmaps import read_block_bitmap, read_inode_bitmap
from ext4guard.parser.budget import Budget
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.group_desc import GroupDesc
from ext4guard.parser.inode import ROOT_INO

from .. import records as R
from ..seeds import SMALL_SEEDS
from ._common import LIST_CAP, Candidate, RecordTarget, attempt, select

DESCRIPTION = "group descriptors and bitmaps: descriptor checksums, bitmaps, zone, inodes"


def _run(fs: Filesystem, cand: Candidate) -> None:
    for item in itertools.islice(fs.groups(), 64):
        if isinstance(item, GroupDesc):
            attempt(partial(read_block_bitmap, fs, item, Budget()))
            attempt(partial(read_inode_bitmap, fs, item, Budget()))
    attempt(fs.blocks.zone)
    # Inodes are found through the descriptors: the root's entries, stat'ed (not read: the
    # data path is other targets' business).
    listing = attempt(lambda: fs.iterdir(ROOT_INO))
    if isinstance(listing, tuple):
        for entry in listing[0][:LIST_CAP]:
            attempt(partial(fs.stat, entry.inode))


TARGET = RecordTarget(
    SMALL_SEEDS, select([R.GROUP_DESC, R.BLOCK_BITMAP, R.INODE_BITMAP], per_seed=6), _run
)
test_one_input = TARGET.test_one_input
seed_inputs = TARGET.seed_inputs
make_mutator = TARGET.make_mutator
