"""Target: one inode record.

The input replaces the record of an inode in use in a seed image (file, directory, symlink,
device, the journal...): then it is read and verified (crc32c lo/hi), decoded (times, sizes,
flags, extra fields), and everything the facade does with an inode is done: stat, read,
iomap, readlink, listing, extended attributes, and the full extent-tree or block-map walk
`check` makes. ("Index Nodes".)
"""

from __future__ import annotations

from ext4guard.parser.blockmap import find_blocks
from ext4guard.parser.budget import Budget
from ext4guard.parser.extents import walk_extent_tree
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import Inode, inode_checksum_seed

from .. import records as R
from ..seeds import SMALL_SEEDS
from ._common import Candidate, RecordTarget, attempt, exercise_inode, select

DESCRIPTION = "inode record: checksum, decode, stat/read/iomap/readlink/iterdir/xattrs"


#: The whole-tree walk's budget here: above what any seed file needs (a 3 MiB file of 1 KiB
#: blocks reads 13 indirect blocks, 3,328 pointers), far below the parser's default (2^20
#: blocks): a mutated DIND/TIND pointer of a record target then ends in BudgetExceeded (a
#: path worth reaching too), not in 65,000 pointers read per input (extents inputs took
#: 10-30 ms each that way).
FULL_MAP_BUDGET = Budget(blocks=32, entries=1 << 13)


def full_map(fs: Filesystem, ino: int) -> None:
    """The whole-tree walk `check` makes over an inode's extent tree or block map."""
    inode = attempt(lambda: fs.inode(ino))
    if not isinstance(inode, Inode) or inode.has_inline_data:
        return

    def budget() -> Budget:
        return Budget(FULL_MAP_BUDGET.blocks, FULL_MAP_BUDGET.entries)

    if inode.uses_extents:
        sb = fs.superblock
        seed = inode_checksum_seed(sb, inode) if sb.has_metadata_csum else None
        attempt(lambda: walk_extent_tree(fs, inode, budget(), csum_seed=seed))
    elif inode.file_type in ("reg", "dir"):
        attempt(lambda: find_blocks(fs, inode, 0, 1 << 32, budget(), []))


def _run(fs: Filesystem, cand: Candidate) -> None:
    ino = cand.record.ino
    exercise_inode(fs, ino)
    full_map(fs, ino)


TARGET = RecordTarget(SMALL_SEEDS, select([R.INODE]), _run)
test_one_input = TARGET.test_one_input
seed_inputs = TARGET.seed_inputs
make_mutator = TARGET.make_mutator
