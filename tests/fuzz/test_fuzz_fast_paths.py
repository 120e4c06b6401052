"""The fuzz targets' fast paths answer as the slow ones did.

Record targets read their patched seed in memory (`MemImage`) and, unless the input touches
the superblock or the descriptors, borrow the descriptors and metadata zone of the seed
opened once (`PristineShared`); `walk` reads its input in place. Each shortcut must give the
parser the same answers as a fresh `Filesystem` over a memfd holding the same bytes, or the
targets would fuzz something else than what the CLI parses.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Callable

import pytest

from ext4guard.fuzz.memimage import MemImage, image_fd
from ext4guard.fuzz.seeds import SMALL_SEEDS, seed_bytes
from ext4guard.fuzz.targets import TARGETS, WHOLE_IMAGE
from ext4guard.fuzz.targets._common import PristineShared
from ext4guard.parser.errors import Ext4Error, ImageIOError, TruncatedImage
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.image import MAX_READ, Image
from ext4guard.parser.inode import ROOT_INO, Inode

RECORD_TARGETS = sorted(set(TARGETS) - WHOLE_IMAGE)


def _outcome(call: Callable[[], object]) -> str:
    try:
        result = call()
    except Ext4Error as exc:
        return f"{type(exc).__name__}: {exc} at {exc.where}"
    if isinstance(result, list | tuple) or hasattr(result, "__next__"):
        result = list(itertools.islice(result, 64))  # type: ignore[call-overload]
    return repr(result)


def _answers(fs: Filesystem, ino: int) -> list[str]:
    """What the facade says about an inode, the root and the groups."""
    calls: list[Callable[[], object]] = [
        lambda: fs.stat(ino),
        lambda: fs.xattrs(ino),
        lambda: fs.iterdir(ino),
        lambda: fs.read(ino, 0, 64 << 10),
        lambda: fs.iomap(ino, 0, 64 << 10),
        lambda: fs.readlink(ino),
        lambda: fs.iterdir(ROOT_INO),
        lambda: [repr(g) for g in itertools.islice(fs.groups(), 16)],
        lambda: fs.blocks.zone().overlaps(fs.superblock.first_data_block + 1, 1),
    ]
    return [_outcome(call) for call in calls]


def test_memimage_reads_as_image() -> None:
    raw = seed_bytes(SMALL_SEEDS[0])
    spans = [(0, 0), (0, 1024), (1024, 1024), (len(raw) - 7, 7), (4096, 65536)]
    bad = [(-1, 4), (0, -1), (0, MAX_READ + 1), (len(raw) - 3, 4), (len(raw), 1)]
    with image_fd(raw) as fd:
        real = Image(fd)
        for buf in (raw, bytearray(raw)):
            mem = MemImage(buf)
            assert mem.size == real.size
            for offset, length in spans:
                got = mem.read(offset, length)
                assert type(got) is bytes and got == real.read(offset, length)
            for offset, length in bad:
                errors = []
                for image in (real, mem):
                    with pytest.raises((ImageIOError, TruncatedImage)) as caught:
                        image.read(offset, length)
                    errors.append((type(caught.value), str(caught.value)))
                assert errors[0] == errors[1]


@pytest.mark.parametrize("name", RECORD_TARGETS)
def test_record_fast_path_answers_as_a_fresh_open(name: str) -> None:
    """Seed inputs, mutations and no-fix variants: the target's Filesystem (borrowing or
    not) answers every facade call as a fresh open of the patched image in a memfd."""
    target = TARGETS[name].TARGET
    rng = random.Random(11)
    inputs = TARGETS[name].seed_inputs()
    mutate = TARGETS[name].make_mutator()
    trials = inputs[:24] + [
        mutate(inputs[rng.randrange(len(inputs))], 1 << 20, rng.randrange(1 << 30))
        for _ in range(40)
    ]
    trials += [data[:1] + b"\x01" + data[2:] for data in trials[-10:]]
    borrowed = 0
    for data in trials:
        prepared = target.prepare(data)
        assert prepared is not None
        cand, patches = prepared
        with cand.template.spliced(patches) as fd:
            try:
                expected: list[str] | str = _answers(Filesystem(Image(fd)), cand.record.ino)
            except Ext4Error as exc:
                expected = type(exc).__name__
        applied = target._apply(data)
        assert applied is not None
        try:
            try:
                fs = target.open(*applied)
            except Ext4Error as exc:
                got: list[str] | str = type(exc).__name__
            else:
                borrowed += isinstance(fs, PristineShared)
                got = _answers(fs, cand.record.ino)
        finally:
            cand.template.restore(applied[1])
        assert got == expected, (name, data[:2])
        assert cand.template.work == cand.template.raw
    # Only inputs that touch the primary superblock open without borrowing (a patched
    # descriptor is read afresh, the others borrowed).
    if name == "superblock":
        assert borrowed < len(trials)
    else:
        assert borrowed == len(trials)


def test_geometry_inputs_do_not_borrow() -> None:
    superblock = TARGETS["superblock"].TARGET
    data = TARGETS["superblock"].seed_inputs()[0]
    applied = superblock._apply(data)
    assert applied is not None
    try:
        fs = superblock.open(*applied)
    finally:
        applied[0].template.restore(applied[1])
    assert type(fs) is Filesystem
    inode = TARGETS["inode"].TARGET
    applied = inode._apply(TARGETS["inode"].seed_inputs()[0])
    assert applied is not None
    try:
        assert isinstance(inode.open(*applied), PristineShared)
    finally:
        applied[0].template.restore(applied[1])


def test_walk_reads_its_input_in_place() -> None:
    """walk over an image in memory meets what it meets over a memfd (same entries)."""
    from ext4guard.fuzz.targets._common import exercise_tree

    for name in SMALL_SEEDS[:4]:
        raw = seed_bytes(name)
        with image_fd(raw) as fd:
            fresh = exercise_tree(Filesystem(Image(fd)))
            assert os.pread(fd, 16, 1024) == raw[1024:1040]
        assert exercise_tree(Filesystem(MemImage(raw))) == fresh > 0


def test_attempt_keeps_records_and_draws_generators() -> None:
    """`attempt` once turned every iterable answer into a list: an `Inode` (a NamedTuple)
    came back as a list, `isinstance(result, Inode)` failed, and every target stopped
    after the stat (no read, listing, readlink, extent walk). Records stay records."""
    from ext4guard.fuzz.targets._common import attempt

    fs = Filesystem(MemImage(seed_bytes(SMALL_SEEDS[0])))
    assert isinstance(attempt(lambda: fs.stat(ROOT_INO)), Inode)
    listing = attempt(lambda: fs.iterdir(ROOT_INO))
    assert isinstance(listing, tuple) and listing[0]
    assert isinstance(attempt(fs.groups), list)
    assert isinstance(attempt(lambda: fs.walk(b"/")), list)


def test_targets_go_past_the_stat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over their seed inputs, the inode and walk targets read files and list directories."""
    from ext4guard.fuzz.targets import _common

    calls: dict[str, int] = {"read": 0, "iterdir": 0, "readlink": 0}
    for name in calls:
        original = getattr(Filesystem, name)

        def counted(self: Filesystem, *args: object, _f=original, _n=name) -> object:  # type: ignore[no-untyped-def]
            calls[_n] += 1
            return _f(self, *args)

        monkeypatch.setattr(Filesystem, name, counted)
    for data in TARGETS["inode"].seed_inputs():
        TARGETS["inode"].test_one_input(data)
    assert calls["read"] > 0 and calls["iterdir"] > 0 and calls["readlink"] > 0
    before = dict(calls)
    _common.exercise_tree(Filesystem(MemImage(seed_bytes(SMALL_SEEDS[1]))))
    assert calls["read"] > before["read"] and calls["iterdir"] > before["iterdir"]
