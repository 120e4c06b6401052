"""The struct-based inode decoder must say exactly what the Kaitai grammar says."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext4guard.parser.errors import RecordInvalid, Where
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import decode_inode, decode_with_grammar, inode_location
from tests.seeds import SEEDS, seed_image


def _decode_both(fs: Filesystem, ino: int, raw: bytes) -> None:
    where = Where(inode=ino)
    try:
        reference = decode_with_grammar(fs.superblock, ino, raw, where)
    except RecordInvalid:
        with pytest.raises(RecordInvalid):
            decode_inode(fs.superblock, ino, raw, where)
        return
    assert decode_inode(fs.superblock, ino, raw, where) == reference


@pytest.mark.parametrize("seed", SEEDS)
def test_every_used_inode_decodes_as_the_grammar_says(seed: str) -> None:
    with Filesystem.open(seed_image(seed)) as fs:
        sb = fs.superblock
        checked = 0
        for ino in range(1, min(sb.inodes_count, 4096) + 1):
            group, index = inode_location(sb, ino)
            desc = fs.group(group)
            offset = desc.inode_table * sb.block_size + index * sb.inode_size
            raw = fs.image.read(offset, sb.inode_size)
            if any(raw):
                _decode_both(fs, ino, raw)
                checked += 1
        assert checked > 10


@settings(max_examples=400, deadline=None)
@given(
    seed=st.sampled_from(["ext4_default", "ext4_inode128", "ext2_1k", "ext4_hugefile"]),
    raw=st.binary(min_size=256, max_size=256),
    extra_isize=st.one_of(
        st.none(),
        st.sampled_from([0, 2, 4, 8, 12, 16, 20, 24, 28, 32, 128]),
        st.integers(0, 0xFFFF),
    ),
)
def test_random_records_decode_as_the_grammar_says(
    seed: str, raw: bytes, extra_isize: int | None
) -> None:
    with Filesystem.open(seed_image(seed)) as fs:
        record = bytearray(raw[: fs.superblock.inode_size])
        if extra_isize is not None and len(record) > 128:
            record[0x80:0x82] = extra_isize.to_bytes(2, "little")
        _decode_both(fs, 12, bytes(record))
