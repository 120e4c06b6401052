"""Target: the jbd2 journal superblock.

The input replaces the first block of the internal journal (inode 8) of a journal seed; then
the journal superblock is checked as `check` does (magic, block type, block size, length,
csum v2/v3), and the journal records are decoded through the grammar (ksy/jbd2.ksy) at the
record boundary. ("Journal (jbd2)".)
"""

from __future__ import annotations

from ext4guard.parser import check as audit
from ext4guard.parser._ksy.jbd2 import Jbd2
from ext4guard.parser.budget import Budget
from ext4guard.parser.errors import Where
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.records import decode

from .. import records as R
from ._common import Candidate, RecordTarget, attempt, select

DESCRIPTION = "journal superblock: jbd2 checks of check, grammar decode of jbd2 records"
#: ext4_1k's journal is extent-mapped. check's journal pass maps the whole journal inode
#: first: ext3_journal's block map (a thousand blocks through indirect blocks, none of
#: which an input changes) was 85 % of this target's time. The block-mapped journal's
#: superblock is mutated by the whole-image `check` target (ext3_journal is among its
#: seeds, its journal blocks among the records its mutator aims at).
SEEDS = ("ext4_1k",)


def _run(fs: Filesystem, cand: Candidate) -> None:
    # check's journal pass alone (the whole audit costs ~100 times more per input).
    state = audit._State(fs, Budget())
    attempt(lambda: audit._journal_superblock(state))
    where = Where(inode=cand.record.ino, block=cand.record.block)
    data = fs.image.read(cand.record.offset, cand.record.length, where)
    attempt(lambda: decode(Jbd2.JournalSuperblock, data[:1024], where, lambda rec: rec.tag_bytes))
    attempt(lambda: decode(Jbd2.JournalHeader, data[:12], where, lambda rec: rec.h_blocktype))
    # The same bytes read as the other journal blocks: commit, revoke, descriptor tags.
    attempt(lambda: decode(Jbd2.CommitHeader, data[:64], where, _fields))
    flags = data[0x2B] if len(data) > 0x2B else 0  # low byte of s_feature_incompat
    is_64bit, csum_v2, csum_v3 = bool(flags & 2), bool(flags & 8), bool(flags & 0x10)
    tags = data[12:]
    attempt(lambda: decode(lambda io: Jbd2.RevokeHeader(is_64bit, io), data, where, _fields))
    if csum_v3:
        attempt(lambda: decode(lambda io: Jbd2.BlockTag3(is_64bit, io), tags, where, _fields))
    else:
        tag = lambda io: Jbd2.BlockTag(is_64bit, csum_v2, io)  # noqa: E731
        attempt(lambda: decode(tag, tags, where, _fields))


def _fields(rec: object) -> list[object]:
    """Every field and instance of a decoded record, read inside the decode guard."""
    names = [n for n in dir(type(rec)) if not n.startswith("_")]
    return [getattr(rec, n) for n in names if isinstance(getattr(type(rec), n, None), property)]


TARGET = RecordTarget(
    SEEDS, select([R.JOURNAL], accept=lambda layout, record: record.logical == 0), _run
)
test_one_input = TARGET.test_one_input
seed_inputs = TARGET.seed_inputs
make_mutator = TARGET.make_mutator
