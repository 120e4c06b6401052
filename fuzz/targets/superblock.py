"""Target: the superblock and the geometry derived from it.

The input replaces the primary superblock (1024 bytes at byte 1024) of a seed image; then the
filesystem is opened (decode, checksum, the kernel's geometry rules), its descriptors listed,
the metadata zone built from them and the root directory listed: everything that trusts the
geometry. ("Super Block" in the kernel's ext4 docs.)
"""

from __future__ import annotations

from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.group_desc import backup_groups
from ext4guard.parser.inode import ROOT_INO

from .. import records as R
from ..seeds import SMALL_SEEDS
from ._common import Candidate, RecordTarget, attempt, exercise_inode, select

DESCRIPTION = "superblock + geometry: open, descriptors, metadata zone, root listing"


def _run(fs: Filesystem, cand: Candidate) -> None:
    attempt(lambda: backup_groups(fs.superblock))
    attempt(fs.groups)
    attempt(fs.blocks.zone)
    exercise_inode(fs, ROOT_INO, b"/")


TARGET = RecordTarget(
    SMALL_SEEDS,
    select([R.SUPERBLOCK], accept=lambda layout, record: record.group == 0),
    _run,
)
test_one_input = TARGET.test_one_input
seed_inputs = TARGET.seed_inputs
make_mutator = TARGET.make_mutator
