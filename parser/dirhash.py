"""ext4 directory name hashes, as fs/ext4/hash.c defines them.

See "Hash Tree Directories" in the kernel's ext4 docs. An htree orders names by a 32-bit
hash (the low bit cleared: the index uses it as a collision-continuation mark) plus a minor
hash. The function is chosen by the dx_root's `hash_version` (0 legacy, 1 half_md4, 2 tea,
6 siphash); the signed or unsigned `char` flavour of 0-2 comes from the superblock's s_flags
(EXT2_FLAGS_UNSIGNED_HASH, 0x2), which adds 3 to the version as the kernel does. The seed is
s_hash_seed; an all-zero seed means the MD4 initial values.

Casefolded directories (the casefold flag on the directory, utf8 encoding on the
filesystem) hash the casefolded form of a name when the name is valid UTF-8, and the raw
bytes otherwise (the kernel's non-strict behaviour: `utf8_casefold()` failing falls back to
the opaque name). The kernel folds with its built-in tables (fs/unicode, Unicode 12.1.0,
"nfdicf": full case folding, statuses C and F, then canonical decomposition, with
Default_Ignorable_Code_Point characters removed). `casefold_name` does the same with
Python's `unicodedata`; the deviation is the Unicode version: code points assigned after
12.1 fold here but pass through unchanged in the kernel. (e2fsprogs 1.47 folds invalid
UTF-8 differently from the kernel, see tests/parser/test_dirhash.py; we follow the kernel.)
siphash (encrypted + casefolded
directories, hash stored in the dirent) raises `Unsupported`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from .errors import Unsupported, Where

# hash_version values (DX_HASH_* in fs/ext4/ext4.h).
DX_HASH_LEGACY = 0
DX_HASH_HALF_MD4 = 1
DX_HASH_TEA = 2
DX_HASH_LEGACY_UNSIGNED = 3
DX_HASH_HALF_MD4_UNSIGNED = 4
DX_HASH_TEA_UNSIGNED = 5
DX_HASH_SIPHASH = 6

#: Values a dx_root may carry (the unsigned ones only live in s_def_hash_version).
ON_DISK_HASH_VERSIONS = frozenset({DX_HASH_LEGACY, DX_HASH_HALF_MD4, DX_HASH_TEA, DX_HASH_SIPHASH})
HASH_NAMES = {
    DX_HASH_LEGACY: "legacy",
    DX_HASH_HALF_MD4: "half_md4",
    DX_HASH_TEA: "tea",
    DX_HASH_LEGACY_UNSIGNED: "legacy_unsigned",
    DX_HASH_HALF_MD4_UNSIGNED: "half_md4_unsigned",
    DX_HASH_TEA_UNSIGNED: "tea_unsigned",
    DX_HASH_SIPHASH: "siphash",
}

EXT2_FLAGS_SIGNED_HASH = 0x1
EXT2_FLAGS_UNSIGNED_HASH = 0x2

_M = 0xFFFFFFFF
_DEFAULT_SEED = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
# The largest hash the index may hold: EXT4_HTREE_EOF_32BIT << 1 is reserved for "end".
_EOF_HASH = 0x7FFFFFFF << 1


def effective_version(hash_version: int, sb_flags: int) -> int:
    """The function the kernel really runs: 0-2 become 3-5 on unsigned-char filesystems."""
    if hash_version <= DX_HASH_TEA and sb_flags & EXT2_FLAGS_UNSIGNED_HASH:
        return hash_version + 3
    return hash_version


# --- legacy (dx_hack_hash) ---------------------------------------------------------------


def _legacy(data: bytes, signed: bool) -> int:
    h0, h1 = 0x12A3FE2D, 0x37ABE8F9
    for c in data:
        if signed and c > 127:
            c -= 256
        h = (h1 + (h0 ^ ((c * 7152373) & _M))) & _M
        if h & 0x80000000:
            h = (h - 0x7FFFFFFF) & _M
        h1, h0 = h0, h
    return (h0 << 1) & _M


# --- message words (str2hashbuf) ---------------------------------------------------------


def _words(chunk: bytes, total_len: int, num: int, signed: bool) -> list[int]:
    """str2hashbuf: up to 4*num bytes, 4 to a word (first byte highest), padded with a
    word made of the remaining length."""
    pad = total_len | (total_len << 8)
    pad = (pad | (pad << 16)) & _M
    out: list[int] = []
    val = pad
    n = min(len(chunk), num * 4)
    for i in range(n):
        c = chunk[i]
        if signed and c > 127:
            c -= 256
        val = (c + (val << 8)) & _M
        if i % 4 == 3:
            out.append(val)
            val = pad
    if len(out) < num:
        out.append(val)
    while len(out) < num:
        out.append(pad)
    return out


# --- half MD4 ----------------------------------------------------------------------------

_K2 = 0o13240474631
_K3 = 0o15666365641


def _half_md4(buf: list[int], x: list[int]) -> None:
    # Three rounds of MD4 over 8 words (F: select, G: majority, H: parity), unrolled.
    a, b, c, d = buf
    m = _M
    t = (a + (d ^ (b & (c ^ d))) + x[0]) & m
    a = ((t << 3) | (t >> 29)) & m
    t = (d + (c ^ (a & (b ^ c))) + x[1]) & m
    d = ((t << 7) | (t >> 25)) & m
    t = (c + (b ^ (d & (a ^ b))) + x[2]) & m
    c = ((t << 11) | (t >> 21)) & m
    t = (b + (a ^ (c & (d ^ a))) + x[3]) & m
    b = ((t << 19) | (t >> 13)) & m
    t = (a + (d ^ (b & (c ^ d))) + x[4]) & m
    a = ((t << 3) | (t >> 29)) & m
    t = (d + (c ^ (a & (b ^ c))) + x[5]) & m
    d = ((t << 7) | (t >> 25)) & m
    t = (c + (b ^ (d & (a ^ b))) + x[6]) & m
    c = ((t << 11) | (t >> 21)) & m
    t = (b + (a ^ (c & (d ^ a))) + x[7]) & m
    b = ((t << 19) | (t >> 13)) & m
    t = (a + ((b & c) + ((b ^ c) & d)) + x[1] + _K2) & m
    a = ((t << 3) | (t >> 29)) & m
    t = (d + ((a & b) + ((a ^ b) & c)) + x[3] + _K2) & m
    d = ((t << 5) | (t >> 27)) & m
    t = (c + ((d & a) + ((d ^ a) & b)) + x[5] + _K2) & m
    c = ((t << 9) | (t >> 23)) & m
    t = (b + ((c & d) + ((c ^ d) & a)) + x[7] + _K2) & m
    b = ((t << 13) | (t >> 19)) & m
    t = (a + ((b & c) + ((b ^ c) & d)) + x[0] + _K2) & m
    a = ((t << 3) | (t >> 29)) & m
    t = (d + ((a & b) + ((a ^ b) & c)) + x[2] + _K2) & m
    d = ((t << 5) | (t >> 27)) & m
    t = (c + ((d & a) + ((d ^ a) & b)) + x[4] + _K2) & m
    c = ((t << 9) | (t >> 23)) & m
    t = (b + ((c & d) + ((c ^ d) & a)) + x[6] + _K2) & m
    b = ((t << 13) | (t >> 19)) & m
    t = (a + (b ^ c ^ d) + x[3] + _K3) & m
    a = ((t << 3) | (t >> 29)) & m
    t = (d + (a ^ b ^ c) + x[7] + _K3) & m
    d = ((t << 9) | (t >> 23)) & m
    t = (c + (d ^ a ^ b) + x[2] + _K3) & m
    c = ((t << 11) | (t >> 21)) & m
    t = (b + (c ^ d ^ a) + x[6] + _K3) & m
    b = ((t << 15) | (t >> 17)) & m
    t = (a + (b ^ c ^ d) + x[1] + _K3) & m
    a = ((t << 3) | (t >> 29)) & m
    t = (d + (a ^ b ^ c) + x[5] + _K3) & m
    d = ((t << 9) | (t >> 23)) & m
    t = (c + (d ^ a ^ b) + x[0] + _K3) & m
    c = ((t << 11) | (t >> 21)) & m
    t = (b + (c ^ d ^ a) + x[4] + _K3) & m
    b = ((t << 15) | (t >> 17)) & m
    buf[0] = (buf[0] + a) & m
    buf[1] = (buf[1] + b) & m
    buf[2] = (buf[2] + c) & m
    buf[3] = (buf[3] + d) & m


# --- TEA ---------------------------------------------------------------------------------

_DELTA = 0x9E3779B9


def _tea(buf: list[int], x: list[int]) -> None:
    b0, b1 = buf[0], buf[1]
    a, b, c, d = x
    s = 0
    for _ in range(16):
        s = (s + _DELTA) & _M
        b0 = (b0 + ((((b1 << 4) + a) & _M) ^ ((b1 + s) & _M) ^ ((b1 >> 5) + b))) & _M
        b1 = (b1 + ((((b0 << 4) + c) & _M) ^ ((b0 + s) & _M) ^ ((b0 >> 5) + d))) & _M
    buf[0] = (buf[0] + b0) & _M
    buf[1] = (buf[1] + b1) & _M


def _blocks(
    data: bytes,
    seed: list[int],
    size: int,
    signed: bool,
    step: Callable[[list[int], list[int]], None],
) -> list[int]:
    # The kernel feeds the remaining length (not the chunk length) to the padding.
    buf = seed
    remaining = len(data)
    pos = 0
    while remaining > 0:
        step(buf, _words(data[pos : pos + size * 4], remaining, size, signed))
        remaining -= size * 4
        pos += size * 4
    return buf


def dx_hash(
    name: bytes, version: int, seed: tuple[int, int, int, int] = (0, 0, 0, 0)
) -> tuple[int, int]:
    """(major hash with bit 0 clear, minor hash) of `name` under effective `version` (0-5).

    `version` is what `effective_version` returns. Raises Unsupported for siphash and for
    values no kernel defines.
    """
    buf = list(seed) if any(seed) else list(_DEFAULT_SEED)
    if version in (DX_HASH_LEGACY, DX_HASH_LEGACY_UNSIGNED):
        major, minor = _legacy(name, version == DX_HASH_LEGACY), 0
    elif version in (DX_HASH_HALF_MD4, DX_HASH_HALF_MD4_UNSIGNED):
        buf = _blocks(name, buf, 8, version == DX_HASH_HALF_MD4, _half_md4)
        major, minor = buf[1], buf[2]
    elif version in (DX_HASH_TEA, DX_HASH_TEA_UNSIGNED):
        buf = _blocks(name, buf, 4, version == DX_HASH_TEA, _tea)
        major, minor = buf[0], buf[1]
    elif version == DX_HASH_SIPHASH:
        raise Unsupported("siphash directory hashes (encrypted casefold) are not supported")
    else:
        raise Unsupported(f"unknown directory hash version {version}")
    major &= ~1 & _M
    if major == _EOF_HASH:
        major = (0x7FFFFFFF - 1) << 1
    return major, minor


# --- casefolding -------------------------------------------------------------------------

# Default_Ignorable_Code_Point (DerivedCoreProperties.txt): mkutf8data maps these to nothing
# in the kernel's nfdi/nfdicf tables.
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_IGNORABLE: dict[int, None] = {cp: None for lo, hi in _IGNORABLE_RANGES for cp in range(lo, hi + 1)}


def casefold_name(name: bytes) -> bytes | None:
    """The kernel's utf8 "nfdicf" form of `name`, or None when it is not valid UTF-8."""
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.isascii():
        return text.lower().encode("ascii")
    folded = unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).casefold())
    return folded.translate(_IGNORABLE).encode("utf-8")


def name_key(name: bytes, casefold: bool) -> bytes:
    """The form in which names of one directory compare: folded in a casefolded directory,
    where a name that is not valid UTF-8 stays as it is (ext4_match, non-strict mode)."""
    return (casefold_name(name) or name) if casefold else name


def name_hash(
    name: bytes,
    hash_version: int,
    *,
    sb_flags: int = 0,
    seed: tuple[int, int, int, int] = (0, 0, 0, 0),
    casefold: bool = False,
    where: Where | None = None,
) -> tuple[int, int]:
    """Hash a name as a directory with on-disk `hash_version` stores it.

    `casefold`: the directory has EXT4_CASEFOLD_FL on a filesystem with utf8 encoding.
    """
    version = effective_version(hash_version, sb_flags)
    if version == DX_HASH_SIPHASH:
        raise Unsupported("siphash directory hashes (encrypted casefold) are not supported", where)
    if casefold and name:
        folded = casefold_name(name)
        if folded is not None:
            name = folded
    try:
        return dx_hash(name, version, seed)
    except Unsupported as exc:
        raise Unsupported(exc.detail, where) from None
