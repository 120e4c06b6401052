"""The checksum helpers ext4 uses: crc32c (metadata_csum) and crc16 (gdt_csum).

ext4 chains crc32c without the final inversion (`ext4_chksum()` in the kernel: the raw
CRC update from a seed). The `crc32c` package computes the standard, inverted form, so
`crc32c_raw` inverts on the way in and out. See "Checksums" in the kernel's ext4 docs.
"""

from __future__ import annotations

import struct

import crc32c as _crc32c

MASK32 = 0xFFFFFFFF
_TWO_LE32 = struct.Struct("<II")


def crc32c_raw(seed: int, data: bytes | bytearray | memoryview) -> int:
    """The kernel's `crc32c_le(seed, data)`: raw update of `seed` over `data`."""
    return ~int(_crc32c.crc32c(data, value=~seed & MASK32)) & MASK32


def inode_csum_seed(fs_seed: int, ino: int, generation: int) -> int:
    """The per-inode seed (`ei->i_csum_seed`): fs seed, then le32 inode number, le32 generation.

    It seeds the inode's own checksum and those of its extent, directory and xattr blocks.
    """
    return crc32c_raw(fs_seed, _TWO_LE32.pack(ino & MASK32, generation & MASK32))


def _crc16_table() -> tuple[int, ...]:
    # CRC-16/ARC (reflected polynomial 0xA001), the `crc16()` in the kernel's lib/crc16.c.
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC16_TABLE = _crc16_table()


def crc16(seed: int, data: bytes | memoryview) -> int:
    """The kernel's `crc16(seed, data)`, used by `gdt_csum` group descriptor checksums."""
    crc = seed & 0xFFFF
    table = _CRC16_TABLE
    for byte in bytes(data):
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc
