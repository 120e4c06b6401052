"""Target: a whole image, opened, walked, and every file read.

The input is an image. It is opened, its descriptors listed, the tree walked from the root
(every directory listed once), and every entry met stat'ed, its attributes listed, and, by
type, read (files, the first 64 KiB) or read as a link; a sample of entries (the first of
each directory, every 16th, the last) is also looked up by path, and its file read at the
tail and mapped (`_common.exercise_tree`). What a reader of an untrusted image does, end to
end.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem

from ..memimage import MemImage
from ..mutators import StructureMutator
from ..seeds import SMALL_SEEDS, seed_bytes
from ._common import Mutate, attempt, exercise_tree

DESCRIPTION = "whole image: open, groups, walk, and stat/lookup/read/iomap/readlink/xattrs"


def test_one_input(data: bytes) -> None:
    # Read in place (MemImage): writing each input of up to 3 MiB into a memfd cost more
    # than parsing most of them. The check target keeps the memfd and the real Image.
    try:
        fs = Filesystem(MemImage(data))
    except Ext4Error:
        return
    attempt(fs.groups)
    exercise_tree(fs)


def seed_inputs() -> list[bytes]:
    return [seed_bytes(name) for name in SMALL_SEEDS]


@cache
def _layouts(fix: bool) -> StructureMutator:
    return StructureMutator(seed_inputs(), fix=fix)


def make_mutator(
    *, fix: bool = True, byte_mutate: Mutate | None = None
) -> Callable[[bytes, int, int], bytes]:
    """The structure-aware mutator over the seeds (checksums fixed unless `fix` is False)."""
    mutator = _layouts(fix)
    mutator.byte_mutate = byte_mutate
    return mutator
