"""Hand-made corruptions of seed copies, for `check` tests.

Records are located with e2fsprogs (debugfs / dumpe2fs, the reference), patched in place,
and, where the point is to reach a STRUCTURAL check rather than the checksum, re-checksummed
with ext4guard's one checksum module (the crc32c / crc16 formulas of the kernel docs).
Every helper works on an image path; nothing here keeps state.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from pathlib import Path

from ext4guard.parser.checksum import crc32c_raw, inode_csum_seed
from ext4guard.parser.dirent import TAIL_SIZE, dirblock_checksum, dirent_tail_checksum
from ext4guard.parser.group_desc import descriptor_checksum, descriptor_offset
from ext4guard.parser.htree import ROOT_COUNT_OFFSET, dx_checksum
from ext4guard.parser.image import Image
from ext4guard.parser.inode import inode_checksum
from ext4guard.parser.superblock import Superblock, read_superblock
from tests.reference import e2fsprogs as E
from tests.seeds import seed_image

Mutator = Callable[[bytearray], None]

EXT_MAGIC = 0xF30A


def seed_copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / f"{name}.img"
    shutil.copyfile(seed_image(name), target)
    return target


def superblock(path: Path) -> Superblock:
    with Image.open(path) as image:
        return read_superblock(image)


def read_at(path: Path, offset: int, size: int) -> bytearray:
    with open(path, "rb") as f:
        f.seek(offset)
        return bytearray(f.read(size))


def write_at(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def patch_superblock(path: Path, mutate: Mutator, *, fix_checksum: bool = True) -> None:
    raw = read_at(path, 1024, 1024)
    mutate(raw)
    if fix_checksum and int.from_bytes(raw[0x64:0x68], "little") & 0x400:
        raw[0x3FC:0x400] = crc32c_raw(0xFFFFFFFF, bytes(raw[:0x3FC])).to_bytes(4, "little")
    write_at(path, 1024, bytes(raw))


def patch_group_desc(path: Path, group: int, mutate: Mutator) -> None:
    sb = superblock(path)
    offset = descriptor_offset(sb, group)
    raw = read_at(path, offset, sb.desc_size)
    mutate(raw)
    expected = descriptor_checksum(sb, group, bytes(raw))
    if expected is not None:
        raw[0x1E:0x20] = expected.to_bytes(2, "little")
    write_at(path, offset, bytes(raw))


def inode_offset(path: Path, ino: int) -> int:
    sb = superblock(path)
    group, index = divmod(ino - 1, sb.inodes_per_group)
    table = E.groups(path)[group].inode_table_at[0]
    return table * sb.block_size + index * sb.inode_size


def patch_inode(path: Path, ino: int, mutate: Mutator, *, fix_checksum: bool = True) -> None:
    sb = superblock(path)
    offset = inode_offset(path, ino)
    raw = read_at(path, offset, sb.inode_size)
    mutate(raw)
    if fix_checksum and sb.has_metadata_csum:
        generation = int.from_bytes(raw[0x64:0x68], "little")
        _, computed = inode_checksum(sb, ino, generation, bytes(raw))
        raw[0x7C:0x7E] = (computed & 0xFFFF).to_bytes(2, "little")
        if len(raw) > 128 and 128 + int.from_bytes(raw[0x80:0x82], "little") >= 0x84:
            raw[0x82:0x84] = (computed >> 16).to_bytes(2, "little")
    write_at(path, offset, bytes(raw))


def inode_seed(path: Path, ino: int) -> int:
    sb = superblock(path)
    raw = read_at(path, inode_offset(path, ino), sb.inode_size)
    return inode_csum_seed(sb.checksum_seed, ino, int.from_bytes(raw[0x64:0x68], "little"))


def patch_dir_block(path: Path, dir_path: str, logical: int, mutate: Mutator) -> None:
    """Mutate a linear directory block, then fix its dirent tail checksum (if it has one)."""
    sb = superblock(path)
    block = E.dirblock(path, dir_path, logical)
    raw = read_at(path, block * sb.block_size, sb.block_size)
    mutate(raw)
    if sb.has_metadata_csum and dirent_tail_checksum(bytes(raw)) is not None:
        ino = E.inode_stat(path, dir_path).inode
        csum = dirblock_checksum(inode_seed(path, ino), bytes(raw))
        raw[sb.block_size - 4 :] = csum.to_bytes(4, "little")
    write_at(path, block * sb.block_size, bytes(raw))


def dirents(raw: bytes) -> list[tuple[int, int, int, int]]:
    """(offset, inode, rec_len, name_len) of each entry in a healthy linear block."""
    out = []
    off = 0
    end = len(raw) - TAIL_SIZE if dirent_tail_checksum(raw) is not None else len(raw)
    while off < end:
        ino, rec_len, name_len, _ = struct.unpack_from("<IHBB", raw, off)
        out.append((off, ino, rec_len, name_len))
        off += rec_len
    return out


def patch_htree_root(path: Path, dir_path: str, mutate: Mutator) -> None:
    """Mutate an htree root block, then fix its dx_tail checksum (metadata_csum)."""
    sb = superblock(path)
    block = E.dirblock(path, dir_path, 0)
    raw = read_at(path, block * sb.block_size, sb.block_size)
    mutate(raw)
    if sb.has_metadata_csum:
        limit, count = struct.unpack_from("<HH", raw, ROOT_COUNT_OFFSET)
        expected_limit = (sb.block_size - ROOT_COUNT_OFFSET - 8) // 8
        tail = ROOT_COUNT_OFFSET + 8 * expected_limit
        ino = E.inode_stat(path, dir_path).inode
        csum = dx_checksum(
            inode_seed(path, ino), bytes(raw), ROOT_COUNT_OFFSET, min(count, limit), expected_limit
        )
        raw[tail + 4 : tail + 8] = csum.to_bytes(4, "little")
    write_at(path, block * sb.block_size, bytes(raw))


def free_block(path: Path) -> int:
    """A block that dumpe2fs lists as free (the last one of the first free range)."""
    for group in E.groups(path):
        for start, end in group.free_blocks or ():
            if end > start:
                return end
    raise AssertionError("no free block")


def extent_header(entries: int, eh_max: int, depth: int) -> bytes:
    return struct.pack("<HHHHI", EXT_MAGIC, entries, eh_max, depth, 0)


def extent_leaf(logical: int, length: int, physical: int) -> bytes:
    return struct.pack("<IHHI", logical, length, physical >> 32, physical & 0xFFFFFFFF)


def extent_index(logical: int, child: int) -> bytes:
    return struct.pack("<IIHH", logical, child & 0xFFFFFFFF, child >> 32, 0)


def write_extent_block(path: Path, ino: int, block: int, header: bytes, body: bytes) -> None:
    """A tree block: header + entries, zero padding, crc32c tail after eh_max slots."""
    sb = superblock(path)
    eh_max = (sb.block_size - 12) // 12
    raw = bytearray(sb.block_size)
    raw[: len(header) + len(body)] = header + body
    tail = 12 + 12 * eh_max
    if sb.has_metadata_csum:
        raw[tail : tail + 4] = crc32c_raw(inode_seed(path, ino), bytes(raw[:tail])).to_bytes(
            4, "little"
        )
    write_at(path, block * sb.block_size, bytes(raw))


def single_extent(path: Path, ino: int) -> tuple[int, int]:
    """(length, physical start) of an inode whose i_block is one depth-0 extent."""
    raw = read_at(path, inode_offset(path, ino) + 0x28, 60)
    magic, entries, _, depth = struct.unpack_from("<HHHH", raw, 0)
    assert (magic, entries, depth) == (EXT_MAGIC, 1, 0), (magic, entries, depth)
    _, length, hi, lo = struct.unpack_from("<IHHI", raw, 12)
    return length, hi << 32 | lo


def set_i_block(path: Path, ino: int, i_block: bytes) -> None:
    def mutate(raw: bytearray) -> None:
        raw[0x28 : 0x28 + 60] = i_block.ljust(60, b"\0")

    patch_inode(path, ino, mutate)


def xattr_block_checksum(sb: Superblock, block_nr: int, raw: bytes) -> int:
    """ext4_xattr_block_csum: crc32c(fs seed, le64 block number, block with h_checksum 0)."""
    crc = crc32c_raw(sb.checksum_seed, block_nr.to_bytes(8, "little"))
    return crc32c_raw(crc, raw[:0x10] + b"\0\0\0\0" + raw[0x14:])


def truncate(path: Path, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)
