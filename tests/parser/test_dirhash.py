"""Directory hashes (parser/dirhash.py) against e2fsprogs' `debugfs dx_hash`.

Thousands of names (ASCII, high bytes in both signednesses, every length to 255, names
that are not UTF-8) under every hash function, signed and unsigned, with the default and a
random seed; casefolded names against `dx_hash -c -e utf8`. The leaf hashes of real htrees
are compared in test_htree (htree_dump prints each entry's hash and minor hash).
"""

from __future__ import annotations

import random
import re
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from ext4guard.parser.dirhash import (
    DX_HASH_SIPHASH,
    casefold_name,
    dx_hash,
    effective_version,
    name_hash,
)
from ext4guard.parser.errors import Unsupported
from tests.reference import e2fsprogs as E

pytestmark = pytest.mark.skipif(not E.available(), reason="e2fsprogs not installed")

_HASH_LINE = re.compile(rb"^Hash of .* is 0x([0-9a-f]+) \(minor 0x([0-9a-f]+)\)$", re.S)


@pytest.fixture(scope="module")
def image() -> Path:
    """Any filesystem will do: dx_hash only needs debugfs to open one."""
    path = Path(tempfile.mkdtemp(prefix="ext4guard-dirhash-")) / "fs.img"
    subprocess.run(
        ["/usr/sbin/mke2fs", "-q", "-F", "-t", "ext4", str(path), "4M"],
        check=True,
        capture_output=True,
    )
    return path


def _quote(name: bytes) -> bytes:
    return b'"' + name.replace(b'"', b'""') + b'"'


def debugfs_hashes(img: Path, names: list[bytes], opts: str) -> list[tuple[int, int] | None]:
    """One debugfs run (-f) hashing every name with `dx_hash OPTS -- name`; None where
    debugfs refused the name (casefolding invalid UTF-8)."""
    script = img.parent / "cmds"
    script.write_bytes(
        b"".join(b"dx_hash " + opts.encode() + b" -- " + _quote(n) + b"\n" for n in names)
    )
    out = subprocess.run(
        [E.DEBUGFS, "-f", str(script), str(img)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        check=True,
        timeout=300,
    ).stdout
    lines = out.split(b"\n")
    results: list[tuple[int, int] | None] = []
    for i, line in enumerate(lines):
        if line.startswith(b"debugfs: dx_hash "):
            m = _HASH_LINE.match(lines[i + 1])
            results.append((int(m.group(1), 16), int(m.group(2), 16)) if m else None)
    assert len(results) == len(names)
    return results


def random_names(count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    alphabet = [b for b in range(1, 256) if b not in (0x0A, 0x0D, 0x2F, 0x22, 0x5C)]
    names = [bytes([c]) for c in alphabet[:64]]
    for i in range(count):
        length = i % 255 + 1 if i % 3 == 0 else rng.randint(1, 40)
        names.append(bytes(rng.choice(alphabet) for _ in range(length)))
    return names


def _seed_words(text: str) -> tuple[int, int, int, int]:
    raw = uuid.UUID(text).bytes
    return tuple(int.from_bytes(raw[i : i + 4], "little") for i in range(0, 16, 4))  # type: ignore[return-value]


SEEDS = ["00000000-0000-0000-0000-000000000000", "3f6a0b12-9c4d-4e5f-8a7b-1c2d3e4f5a6b"]


@pytest.mark.parametrize("version", range(6))
@pytest.mark.parametrize("seed", SEEDS)
def test_hashes_equal_debugfs(image: Path, version: int, seed: str) -> None:
    names = random_names(2500, version)
    ref = debugfs_hashes(image, names, f"-h {version} -s {seed}")
    words = _seed_words(seed)
    got = [dx_hash(n, version, words) for n in names]
    bad = [(n, g, r) for n, g, r in zip(names, got, ref, strict=True) if g != r]
    assert not bad, bad[:5]


CASEFOLD_NAMES = [
    "HeLLo",
    "Straße",
    "STRASSE",
    "ǅemal",
    "ΣΊΣΥΦΟΣ",
    "ﬁle",
    "İstanbul",
    "Åström",
    "A\u030astro\u0308m",
    "한국어",
    "zero\u200bwidth",
    "soft\u00adhyphen",
    "Ꭰᏸ",
    "\uff26\uff35\uff2c\uff2c\uff37\uff29\uff24\uff34\uff28",
    "ΐ",
    "Ǆ",
    "ꭰ",
    "😀emoji",
    "ß" * 40,
]


def test_casefold_equal_debugfs(image: Path) -> None:
    names = [n.encode() for n in CASEFOLD_NAMES]
    names += [b"\xff\xfeinvalid", b"bad\xc3(", b"\xed\xa0\x80surrogate", b"plain"]
    names += random_names(500, 99)
    for version in (0, 1, 2):
        ref = debugfs_hashes(image, names, f"-c -e utf8 -h {version}")
        got = [name_hash(n, version, casefold=True) for n in names]
        # Invalid UTF-8: the kernel's utf8_casefold() fails (-EINVAL) and ext4fs_dirhash()
        # hashes the raw bytes. e2fsprogs 1.47's copy stores utf8byte()'s -1 in an unsigned
        # char, never sees the error and goes on folding (or fails with ENAMETOOLONG), so
        # debugfs is no reference there: those names must give the raw hash.
        for n, g in zip(names, got, strict=True):
            if casefold_name(n) is None:
                assert g == dx_hash(n, version), n
        ref = [r if casefold_name(n) is not None else None for n, r in zip(names, ref, strict=True)]
        bad = [(n, g, r) for n, g, r in zip(names, got, ref, strict=True) if r and g != r]
        assert not bad, bad[:5]


def test_casefold_form() -> None:
    assert casefold_name(b"HeLLo") == b"hello"
    assert casefold_name("Straße".encode()) == b"strasse"
    assert casefold_name(b"\xff") is None
    assert casefold_name("zero\u200bwidth".encode()) == b"zerowidth"


def test_unsigned_flag_and_siphash() -> None:
    assert effective_version(1, 0x2) == 4 and effective_version(1, 0x1) == 1
    assert effective_version(DX_HASH_SIPHASH, 0x2) == DX_HASH_SIPHASH
    with pytest.raises(Unsupported):
        name_hash(b"x", DX_HASH_SIPHASH)
    with pytest.raises(Unsupported):
        dx_hash(b"x", 9)
    # Bytes above 0x7f are where signed and unsigned differ; ASCII is the same.
    assert dx_hash(b"abc", 1) == dx_hash(b"abc", 4)
    assert dx_hash(b"\xe9", 1) != dx_hash(b"\xe9", 4)


def test_empty_name_and_low_bit() -> None:
    for version in range(6):
        major, _ = dx_hash(b"", version)
        assert major & 1 == 0
