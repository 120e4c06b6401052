"""Target: extended attributes, in an xattr block and in the inode's extra space.

The input replaces an xattr block (crc32c fixed unless told not to) or the in-inode xattr
area of an inode record (the inode checksum fixed); then the attributes are listed as
getxattr shows them (POSIX ACLs converted, EA-inode values fetched), inline data read from
system.data, and symlinks read. ("Extended Attributes", "Inline Data".)
"""

from __future__ import annotations

import struct

from ext4guard.parser.budget import Budget
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import Inode
from ext4guard.parser.xattr import read_xattrs

from .. import records as R
from ..memimage import Template
from ..records import Layout
from ._common import Candidate, RecordTarget, attempt, exercise_inode

DESCRIPTION = "xattrs: xattr block and in-inode area; listing, ACLs, EA inodes, inline data"

_XATTR_MAGIC = struct.pack("<I", 0xEA020000)
PER_SEED = 8
#: The seeds with attributes (in-inode, in blocks, EA inodes, ACLs, inline data).
SEEDS = (
    "ext3_journal",
    "ext4_1k",
    "ext4_ea_inode",
    "ext4_inline",
    "ext4_inode128",
    "ext4_nocsum_uninit_bg",
)


def _build(name: str, raw: bytes, layout: Layout, template: Template) -> list[Candidate]:
    """Xattr blocks, and inode records whose extra space starts with the ibody magic."""
    out: list[Candidate] = []
    for record in layout.of_kind(R.XATTR_BLOCK)[:PER_SEED]:
        window = (record.offset, record.length)
        out.append(Candidate(template, layout, record, (window,), raw[record.offset : record.end]))
    inodes: list[Candidate] = []
    for record in layout.of_kind(R.INODE):
        if record.length <= 128:
            continue
        extra = struct.unpack_from("<H", raw, record.offset + 0x80)[0]
        start = record.offset + 128 + extra
        if start + 4 <= record.end and raw[start : start + 4] == _XATTR_MAGIC:
            window = (start, record.end - start)
            inodes.append(Candidate(template, layout, record, (window,), raw[start : record.end]))
    return out + inodes[:: max(1, len(inodes) // PER_SEED)][:PER_SEED]


def _run(fs: Filesystem, cand: Candidate) -> None:
    ino = cand.record.ino
    exercise_inode(fs, ino)
    inode = attempt(lambda: fs.inode(ino))
    if isinstance(inode, Inode):
        attempt(lambda: read_xattrs(fs, inode, Budget()))


TARGET = RecordTarget(SEEDS, _build, _run)
test_one_input = TARGET.test_one_input
seed_inputs = TARGET.seed_inputs
make_mutator = TARGET.make_mutator
