"""Metadata block reads: range-checked against the geometry and charged to a budget."""

from __future__ import annotations

from .budget import Budget
from .errors import Corruption, Where
from .image import Image
from .superblock import SUPERBLOCK_OFFSET, Superblock


class BlockOutOfRange(Corruption):
    """A block pointer outside the filesystem (or into block 0 / the superblock)."""

    code = "block_out_of_range"


class BlockReader:
    """Reads whole filesystem blocks for the defensive layer."""

    __slots__ = ("block_size", "first_valid", "image", "sb")

    def __init__(self, image: Image, sb: Superblock) -> None:
        self.image = image
        self.sb = sb
        self.block_size = sb.block_size
        # Nothing but the boot area and superblock precede this (1 KiB blocks: block 2).
        self.first_valid = SUPERBLOCK_OFFSET // sb.block_size + 1

    def check(self, block: int, count: int = 1, where: Where | None = None) -> None:
        """Raise unless blocks [block, block + count) are real, non-superblock data blocks."""
        if count < 1 or block < self.first_valid or block + count > self.sb.blocks_count:
            raise BlockOutOfRange(
                f"block {block} (+{count}) outside {self.first_valid}..{self.sb.blocks_count - 1}",
                where or Where(block=block),
            )

    def read(self, block: int, where: Where | None, budget: Budget) -> bytes:
        """One block's bytes, after the range check and a budget charge."""
        where = where or Where(block=block)
        self.check(block, 1, where)
        budget.charge_blocks(1, where)
        return self.image.read(block * self.block_size, self.block_size, where)
