"""Block reads for the defensive layer: range-checked, kept out of metadata, budgeted."""

from __future__ import annotations

from .budget import Budget
from .errors import Corruption, Where
from .image import Image
from .superblock import SUPERBLOCK_OFFSET, Superblock
from .system_zone import SystemZone, build_system_zone


class BlockOutOfRange(Corruption):
    """A block pointer outside the filesystem (or into block 0 / the superblock)."""

    code = "block_out_of_range"


class BlockInMetadata(Corruption):
    """A file's block pointer into the superblock, descriptors, a bitmap or an inode table."""

    code = "block_in_metadata"


class BlockReader:
    """Checks block pointers against the geometry and the system zone, and reads blocks."""

    __slots__ = ("_zone", "block_size", "first_valid", "image", "sb")

    def __init__(self, image: Image, sb: Superblock) -> None:
        self.image = image
        self.sb = sb
        self.block_size = sb.block_size
        # Nothing but the boot area and superblock precede this (1 KiB blocks: block 2).
        self.first_valid = SUPERBLOCK_OFFSET // sb.block_size + 1
        self._zone: SystemZone | None = None

    def zone(self) -> SystemZone:
        """The metadata block ranges, built on first use (one pass over the descriptors)."""
        if self._zone is None:
            self._zone = build_system_zone(self.sb, self.image)
        return self._zone

    def check(
        self, block: int, count: int = 1, where: Where | None = None, *, inode: int | None = None
    ) -> None:
        """Raise unless blocks [block, block + count) are inside the filesystem and hold no
        metadata (the kernel's ext4_inode_block_valid). The error's `where` is `where`, or
        the block and the `inode` that points at it."""
        if count < 1 or block < self.first_valid or block + count > self.sb.blocks_count:
            raise BlockOutOfRange(
                f"block {block} (+{count}) outside {self.first_valid}..{self.sb.blocks_count - 1}",
                where or Where(inode=inode, block=block),
            )
        if self.zone().overlaps(block, count):
            raise BlockInMetadata(
                f"blocks {block}..{block + count - 1} overlap filesystem metadata",
                where or Where(inode=inode, block=block),
            )

    def read(self, block: int, where: Where | None, budget: Budget) -> bytes:
        """One block's bytes, after the range checks and a budget charge."""
        where = where or Where(block=block)
        self.check(block, 1, where)
        budget.charge_blocks(1, where)
        return self.image.read(block * self.block_size, self.block_size, where)
