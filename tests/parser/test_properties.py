"""Hypothesis properties over mutated seed images: the parser's contracts under hostile bytes.

Mutations are made in memory on a seed's raw bytes and aimed at metadata (locating it with
`dumpe2fs` and `debugfs stat`, never with the parser under test): the superblock, the group
descriptor table, the used inode records, directory blocks, and mapping blocks (extent tree
index/leaf blocks and IND/DIND/TIND blocks). Two kinds: random bytes, and field mutations that
write a boundary value (0, 1, all ones, the original +-1, the containing block's own number:
a pointer to itself) as a little-endian field of 1, 2 or 4 bytes at an aligned offset.

Property 1 (contracts): on the mutated image every public call -- `Filesystem.open`, `groups`,
`walk` to the end, then for every entry `stat`, `lookup` of its path, `iterdir` (directories),
`read` (the first 256 KiB) and `iomap` (regular files), `readlink` (symlinks), `xattrs` when
the facade has it, and the whole-image audit `parser.check.check` when it exists -- returns
or raises an `Ext4Error`, within a per-example time limit (a hang fails the example) and under
an address-space limit (an allocation sized by an on-disk number raises MemoryError, which is
not an Ext4Error, and fails the example).

Property 2 (no invented entries): the set of (path, inode) pairs a walk of the mutated image
yields is a subset of the original image's set. Where it is tested:
- seeds with metadata_csum, any mutation anywhere: every record on the way to a name
  (superblock, descriptors, inodes, extent blocks, directory blocks, htree nodes) carries a
  crc32c that detects every burst of up to 32 bits, and an untrusted record yields no entries;
- seeds without metadata_csum, mutations confined to the records and mapping blocks of
  non-directory inodes (nothing a listing reads), so the walk must be unchanged or smaller.
A mutation of a directory block without checksums may legitimately rename an entry (the
parser cannot know), so that case is not part of the property.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from tests.limits import limits
from tests.reference import e2fsprogs as E

try:  # the whole-image audit (parser/check.py) arrives from another engineer
    from ext4guard.parser.check import check as audit
except ImportError:
    audit = None
from tests.seeds import SEEDS, seed_image

pytestmark = pytest.mark.skipif(not E.available(), reason="e2fsprogs not installed")

READ_CAP = 256 * 1024
WALK_CAP = 3000  # entries per walk (ext4_largedir has 47k; the rest have < 1000)
TIME_LIMIT_S = 10.0
MAX_EXAMPLES = int(os.environ.get("EXT4GUARD_PROPERTY_EXAMPLES", "6"))  # per seed and property
#: ext4_largedir lists a 47k-entry directory per example (about 1 s): fewer examples.
FEW_EXAMPLES = {"ext4_largedir": 1, "ext4_1k": 4}


@dataclass(frozen=True, slots=True)
class Region:
    kind: str  # superblock | gdt | inode | dirblock | mapblock
    start: int
    length: int
    block: int  # the containing block's number (for "pointer to itself")
    dir_related: bool  # does a directory listing read it?


@dataclass(frozen=True, slots=True)
class Target:
    seed: str
    raw: bytes
    csum: bool
    regions: tuple[Region, ...]
    names: frozenset[tuple[bytes, int]]


_BLOCK_ANNOT = re.compile(rb"\((?:IND|DIND|TIND|ETB\d)\):(\d+)")
_RUN = re.compile(rb"\((\d+)(?:-(\d+))?\):(\d+)(?:-(\d+))?")


def _debugfs_stats(image: Path, inos: list[int]) -> dict[int, bytes]:
    """One `debugfs -f` run printing `stat` of every inode; text per inode number."""
    script = b"".join(b"stat <%d>\n" % ino for ino in inos)
    proc = subprocess.run(
        [E.DEBUGFS, "-f", "-", str(image)],
        input=script,
        capture_output=True,
        env={"LC_ALL": "C", "TZ": "UTC", "PAGER": "__none__", "DEBUGFS_PAGER": "__none__"},
        timeout=60,
        check=True,
    )
    parts = re.split(rb"^Inode: (\d+) ", proc.stdout, flags=re.M)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _walk_names(fs: Filesystem) -> set[tuple[bytes, int]]:
    names: set[tuple[bytes, int]] = set()
    try:
        for item in itertools.islice(fs.walk(), WALK_CAP):
            if not isinstance(item, Ext4Error):
                names.add((item[0], item[1].inode))
    except Ext4Error:
        pass
    return names


@cache
def target(seed: str) -> Target:
    image = seed_image(seed)
    groups = E.groups(image)
    sb = E.superblock(image)
    bs = sb.int("Block size")
    isize = sb.int("Inode size")
    ipg = sb.int("Inodes per group")
    csum = "metadata_csum" in sb.list("Filesystem features")
    regions = [Region("superblock", 1024, 1024, 1024 // bs, True)]
    for g in groups:
        spans = [g.group_descriptors_at] if g.group_descriptors_at else []
        if g.group_descriptor_at is not None:
            spans.append((g.group_descriptor_at, g.group_descriptor_at))
        for first, last in spans:
            if g.superblock == "Backup":
                continue
            for blk in range(first, last + 1):
                regions.append(Region("gdt", blk * bs, bs, blk, True))
    with Filesystem.open(image) as fs:
        names = _walk_names(fs)
        kinds = {ino: fs.stat(ino).file_type for ino in {i for _, i in names} | {2}}
    stats = _debugfs_stats(image, sorted(kinds))
    for ino, kind in sorted(kinds.items()):
        is_dir = kind == "dir"
        table = groups[(ino - 1) // ipg].inode_table_at[0]
        offset = table * bs + (ino - 1) % ipg * isize
        regions.append(Region("inode", offset, isize, offset // bs, is_dir))
        text = stats.get(ino, b"")
        for m in _BLOCK_ANNOT.finditer(text):
            blk = int(m.group(1))
            regions.append(Region("mapblock", blk * bs, bs, blk, is_dir))
        if is_dir:
            body = _BLOCK_ANNOT.sub(b"", text.split(b"BLOCKS:")[-1].split(b"EXTENTS:")[-1])
            for m in itertools.islice(_RUN.finditer(body), 64):
                first = int(m.group(3))
                last = int(m.group(4) or first)
                for blk in range(first, min(last, first + 16) + 1):
                    regions.append(Region("dirblock", blk * bs, bs, blk, True))
    raw = image.read_bytes()
    return Target(seed, raw, csum, tuple(regions), frozenset(names))


# --------------------------------------------------------------------------- mutations


@st.composite
def mutations(draw: st.DrawFn, tgt: Target, allowed: tuple[Region, ...]) -> dict[int, bytes]:
    """1-3 mutations inside `allowed` regions: {offset: new bytes}."""
    out: dict[int, bytes] = {}
    for _ in range(draw(st.integers(1, 3))):
        region = draw(st.sampled_from(allowed))
        if draw(st.booleans()):
            width = draw(st.integers(1, 8))
            at = region.start + draw(st.integers(0, region.length - width))
            out[at] = draw(st.binary(min_size=width, max_size=width))
            continue
        width = draw(st.sampled_from([1, 2, 4]))
        at = region.start + draw(st.integers(0, region.length // width - 1)) * width
        old = int.from_bytes(tgt.raw[at : at + width], "little")
        top = (1 << (8 * width)) - 1
        value = draw(st.sampled_from([0, 1, top, top - 1, old + 1, old - 1, region.block, 2]))
        out[at] = (value & top).to_bytes(width, "little")
    return out


def apply(raw: bytes, patch: dict[int, bytes]) -> bytes:
    buf = bytearray(raw)
    for at, data in patch.items():
        buf[at : at + len(data)] = data
    return bytes(buf)


# ---------------------------------------------------------------------------- the driver


def bounded() -> AbstractContextManager[None]:
    return limits(TIME_LIMIT_S)


def _call(fn: object, *args: object) -> object:
    """Call one public method; Ext4Error is an answer, anything else propagates (a bug)."""
    try:
        result = fn(*args)  # type: ignore[operator]
        if isinstance(result, Iterator):
            result = list(itertools.islice(result, WALK_CAP))
        return result
    except Ext4Error as exc:
        return exc


def exercise(path: Path) -> set[tuple[bytes, int]]:
    """Every public call over the whole image; returns the (path, inode) pairs walked."""
    try:
        fs = Filesystem.open(path)
    except Ext4Error:
        return set()
    names: set[tuple[bytes, int]] = set()
    with fs:
        _call(lambda: list(itertools.islice(fs.groups(), 4096)))
        xattrs = getattr(fs, "xattrs", None)
        check = getattr(fs, "check", None)
        if check is not None:
            _call(check)
        if audit is not None:
            _call(audit, fs)
        walk = fs.walk()
        while len(names) < WALK_CAP:
            try:
                item = next(walk)
            except StopIteration:
                break
            except Ext4Error:
                break
            if isinstance(item, Ext4Error):
                continue
            entry_path, entry = item
            names.add((entry_path, entry.inode))
            ino = entry.inode
            inode = _call(fs.stat, ino)
            _call(fs.lookup, entry_path)
            if xattrs is not None:
                _call(xattrs, ino)
            if isinstance(inode, Ext4Error):
                continue
            if inode.file_type == "dir":  # type: ignore[attr-defined]
                _call(fs.iterdir, ino)
            elif inode.file_type == "lnk":  # type: ignore[attr-defined]
                _call(fs.readlink, ino)
            elif inode.file_type == "reg":  # type: ignore[attr-defined]
                _call(fs.read, ino, 0, READ_CAP)
                _call(fs.iomap, ino, 0, READ_CAP)
    return names


def run_mutated(tgt: Target, patch: dict[int, bytes]) -> set[tuple[bytes, int]]:
    scratch = "/dev/shm" if os.path.isdir("/dev/shm") else None  # tmpfs: no disk I/O
    with tempfile.NamedTemporaryFile(prefix=f"mut-{tgt.seed}-", suffix=".img", dir=scratch) as tmp:
        tmp.write(apply(tgt.raw, patch))
        tmp.flush()
        with bounded():
            return exercise(Path(tmp.name))


def common(seed: str) -> settings:
    return settings(
        max_examples=FEW_EXAMPLES.get(seed, MAX_EXAMPLES),
        deadline=None,  # the per-example limit is the timer in bounded()
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
        # No "explain" phase: its line tracing slows an example tenfold and trips the timer.
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_every_call_returns_or_raises_ext4error(seed: str) -> None:
    tgt = target(seed)

    @common(seed)
    @given(patch=mutations(tgt, tgt.regions))
    def prop(patch: dict[int, bytes]) -> None:
        run_mutated(tgt, patch)

    prop()


@pytest.mark.parametrize("seed", SEEDS)
def test_damage_never_invents_entries(seed: str) -> None:
    tgt = target(seed)
    allowed = tgt.regions if tgt.csum else tuple(r for r in tgt.regions if not r.dir_related)
    if not allowed:
        pytest.skip(f"{seed}: no region outside directory metadata")

    @common(seed)
    @given(patch=mutations(tgt, allowed))
    def prop(patch: dict[int, bytes]) -> None:
        assume(any(tgt.raw[at : at + len(data)] != data for at, data in patch.items()))
        got = run_mutated(tgt, patch)
        invented = got - tgt.names
        assert not invented, f"entries the undamaged image lacks: {sorted(invented)[:5]}"

    prop()
