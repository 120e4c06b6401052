"""Hypothesis properties over seeds mutated by the structure-aware mutator (fuzz/mutators.py).

1. Every public call returns or raises `Ext4Error` (checksums fixed, so mutations reach the
   structural checks; and left broken): the walk and check targets drive every call.
2. A partial listing of a damaged image never invents entries the undamaged image lacks,
   where that must hold:
   - metadata_csum seeds, checksums NOT fixed, any record: every record on the way to a name
     carries a crc32c (superblock, inode, extent, directory, htree) or a crc16 (descriptor)
     that the mutation breaks, and a record that fails its checksum yields nothing;
   - any seed, checksums fixed, records no listing reads (inodes of non-directories and
     their mapping blocks, xattr blocks, bitmaps, the journal).
3. `check` is deterministic: two opens of one mutated image give the same report.

Failing examples found here are kept as corpus/regressions/ files (replayed by
tests/test_regressions.py) or as @example lines.
"""

from __future__ import annotations

import itertools
from functools import cache

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings

from ext4guard.fuzz import mutators as M
from ext4guard.fuzz import records as R
from ext4guard.fuzz.memimage import image_fd
from ext4guard.fuzz.seeds import seed_bytes
from ext4guard.fuzz.targets import check as check_target
from ext4guard.fuzz.targets import walk as walk_target
from ext4guard.parser.check import check_image
from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.image import Image
from tests.fuzz.test_fuzz_targets import bounded

#: Small seeds covering the feature families (metadata_csum or not, block maps, htree, inline
#: data, xattrs, 128-byte inodes, uninit_bg).
SEEDS = (
    "ext2_1k",
    "ext4_nojournal",
    "ext4_inline",
    "ext4_inode128",
    "ext4_nocsum_uninit_bg",
    "ext4_casefold",
    "ext4_1k",
)
CSUM_SEEDS = tuple(s for s in SEEDS if s not in ("ext2_1k", "ext4_nocsum_uninit_bg"))
EXAMPLES = 30
WALK_CAP = 3000


def common(examples: int = EXAMPLES) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,  # bounded() times each example
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )


@cache
def located(seed: str) -> tuple[bytes, R.Layout]:
    raw = seed_bytes(seed)
    return raw, R.locate(raw)


@cache
def outside_listings(seed: str) -> R.Layout:
    """The seed's layout cut to records no directory listing reads."""
    raw, layout = located(seed)
    # Directories by i_mode (inline directories have no directory blocks).
    dirs = {r.ino for r in layout.of_kind(R.INODE) if raw[r.offset + 1] >> 4 == 0x4}
    keep = tuple(
        r
        for r in layout.records
        if r.kind in (R.BLOCK_BITMAP, R.INODE_BITMAP, R.XATTR_BLOCK, R.JOURNAL)
        or (r.kind in (R.INODE, R.EXTENT_NODE, R.INDIRECT) and r.ino not in dirs and r.ino > 11)
    )
    return R.Layout(layout.sb, layout.size, keep, layout.inode_offsets, layout.parents,
                    layout.metadata_blocks)  # fmt: skip


def names(data: bytes) -> set[tuple[bytes, int]]:
    """(path, inode) pairs a walk of the image yields (empty if it does not open)."""
    out: set[tuple[bytes, int]] = set()
    with image_fd(data) as fd:
        try:
            fs = Filesystem(Image(fd))
        except Ext4Error:
            return out
        try:
            for item in itertools.islice(fs.walk(), WALK_CAP):
                if not isinstance(item, Ext4Error):
                    out.add((item[0], item[1].inode))
        except Ext4Error:
            pass
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_every_call_returns_or_raises_ext4error(seed: str) -> None:
    raw, layout = located(seed)

    @common()
    @given(ops=M.strategy(layout, raw), fix=...)
    def prop(ops: list[M.Op], fix: bool) -> None:
        data = M.apply(raw, layout, ops, fix=fix)
        with bounded():
            walk_target.test_one_input(data)
            check_target.test_one_input(data)

    prop()


@pytest.mark.parametrize("seed", CSUM_SEEDS)
def test_unfixed_damage_never_invents_entries(seed: str) -> None:
    raw, layout = located(seed)
    healthy = names(raw)

    @common()
    @given(ops=M.strategy(layout, raw))
    def prop(ops: list[M.Op]) -> None:
        data = M.apply(raw, layout, ops, fix=False)
        # Clearing RO_COMPAT_METADATA_CSUM turns every checksum off, the superblock's own
        # included (as in the kernel): the damage is then undetectable by design.
        assume(len(data) < 2048 or data[1024 + 0x65] & 0x04)
        with bounded():
            invented = names(data) - healthy
        assert not invented, f"entries the undamaged image lacks: {sorted(invented)[:5]}"

    prop()


@pytest.mark.parametrize("seed", SEEDS)
def test_fixed_damage_outside_listings_never_invents_entries(seed: str) -> None:
    raw, _ = located(seed)
    layout = outside_listings(seed)
    healthy = names(raw)

    @common()
    @given(ops=M.strategy(layout, raw))
    def prop(ops: list[M.Op]) -> None:
        with bounded():
            invented = names(M.apply(raw, layout, ops, fix=True)) - healthy
        assert not invented, f"entries the undamaged image lacks: {sorted(invented)[:5]}"

    prop()


@pytest.mark.parametrize("seed", ("ext4_nojournal", "ext4_inline", "ext2_1k"))
def test_check_is_deterministic(seed: str) -> None:
    raw, layout = located(seed)

    @common(8)
    @given(ops=M.strategy(layout, raw), fix=...)
    def prop(ops: list[M.Op], fix: bool) -> None:
        data = M.apply(raw, layout, ops, fix=fix)
        reports = []
        with bounded():
            for _ in range(2):
                with image_fd(data) as fd:
                    try:
                        reports.append(check_image(fd).as_dict())
                    except Ext4Error as exc:
                        reports.append(exc.as_finding())
        assert reports[0] == reports[1]

    prop()


def slash_name_image() -> bytes:
    """ext4_1k with root's `lost+found` entry renamed `../x+found`, checksum fixed: a
    directory block the parser verifies, holding a name e2fsck calls illegal."""
    raw, layout = located("ext4_1k")
    block = next(r for r in layout.of_kind(R.DIR_BLOCK) if r.ino == 2 and r.logical == 0)
    at = raw.index(b"lost+found", block.offset, block.end)
    return M.apply(raw, layout, [M.Overwrite(at, b"../x")], fix=True)


def test_listed_names_are_single_path_components() -> None:
    """Found by the no-invented-entries property: a checksum-valid entry whose name holds '/'
    was listed as a path component (b'/../x+found'); e2fsck calls the name illegal
    (corpus/regressions/dirent_name_with_slash_listed)."""
    listed = names(slash_name_image())
    assert listed, "the image still opens and lists"
    bad = [path for path, _ in listed if b"\0" in path or b"/../" in path or b"//" in path]
    assert not bad, f"names that are not one path component: {bad[:3]}"
