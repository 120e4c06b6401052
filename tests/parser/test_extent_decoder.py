"""The struct-based extent node decoder must say exactly what the Kaitai grammar says."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext4guard.parser.budget import Budget
from ext4guard.parser.errors import Where
from ext4guard.parser.extents import decode_node, decode_node_with_grammar, walk_extent_tree
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.mapping import inode_checksum_seed
from tests.seeds import SEEDS, manifest_entries, seed_image, seed_manifest

EXT4_EXT_MAGIC = 0xF30A


def _same_as_grammar(data: bytes) -> None:
    depth = int.from_bytes(data[6:8], "little")
    entries = int.from_bytes(data[2:4], "little")
    assert decode_node(data, depth, entries) == decode_node_with_grammar(data, Where())


@pytest.mark.parametrize("seed", SEEDS)
def test_node_decoder_matches_grammar_on_seed_trees(seed: str) -> None:
    with Filesystem.open(seed_image(seed)) as fs:
        if "extents" not in fs.superblock.incompat:
            pytest.skip("seed has no extent trees")
        block_size = fs.superblock.block_size
        nodes = 0
        for path, entry in manifest_entries(seed_manifest(seed)).items():
            if entry["type"] not in ("reg", "dir"):
                continue
            inode = fs.stat(fs.lookup(path))
            if not inode.uses_extents:
                continue
            _same_as_grammar(inode.i_block)
            seed_value = inode_checksum_seed(fs.superblock, inode)
            tree = walk_extent_tree(fs, inode, Budget(), csum_seed=seed_value)
            for block in tree.tree_blocks:
                _same_as_grammar(fs.image.read(block * block_size, block_size))
            nodes += 1 + len(tree.tree_blocks)
            if nodes > 300:
                break
        assert nodes > 0


@settings(max_examples=300, deadline=None)
@given(
    depth=st.integers(0, 5),
    eh_max=st.integers(1, 4),
    fill=st.integers(0, 4),
    body=st.binary(min_size=48, max_size=48),
)
def test_node_decoder_matches_grammar_on_random_nodes(
    depth: int, eh_max: int, fill: int, body: bytes
) -> None:
    entries = min(fill, eh_max)
    header = struct.pack("<HHHHI", EXT4_EXT_MAGIC, entries, eh_max, depth, 0)
    _same_as_grammar(header + body)
