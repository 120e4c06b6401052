"""What the targets share: driving the facade over one inode or a whole tree, and the
record-target machinery (a seed image in a memfd, one record replaced per input).

Every helper lets only `Ext4Error` go: it is the parser's answer to a hostile image. Any other
exception leaves `test_one_input` and is a finding (DESIGN.md, "Contracts").
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.image import Image
from ext4guard.parser.inode import Inode

from .. import mutators as M
from ..memimage import Template
from ..records import Layout, Record, locate
from ..seeds import seed_bytes

#: Bounds that keep one input cheap (libFuzzer's -timeout catches what they miss).
WALK_CAP = 2000
READ_CAP = 256 * 1024
LIST_CAP = 256

Mutate = Callable[[bytes, int], bytes]


def attempt(call: Callable[[], object]) -> object:
    """Run one public call: an Ext4Error is an answer; anything else propagates."""
    try:
        result = call()
        if isinstance(result, Iterable) and not isinstance(result, bytes | str | dict):
            result = list(itertools.islice(result, WALK_CAP))
        return result
    except Ext4Error as exc:
        return exc


def exercise_inode(fs: Filesystem, ino: int, path: bytes | None = None) -> None:
    """Every public call that makes sense for inode `ino` (and its path, when known)."""
    inode = attempt(lambda: fs.stat(ino))
    if path is not None:
        attempt(lambda: fs.lookup(path))
    attempt(lambda: fs.xattrs(ino))
    if not isinstance(inode, Inode):
        return
    kind = inode.file_type
    if kind == "dir":
        attempt(lambda: fs.iterdir(ino))
    elif kind == "lnk":
        attempt(lambda: fs.readlink(ino))
    else:
        attempt(lambda: fs.read(ino, 0, READ_CAP))
        attempt(lambda: fs.read(ino, max(0, inode.size - 100), 4096))
        attempt(lambda: fs.iomap(ino, 0, READ_CAP))
        attempt(lambda: fs.iomap(ino, 1 << 40, 1 << 20))


def exercise_tree(fs: Filesystem, top: bytes = b"/", cap: int = WALK_CAP) -> int:
    """Walk below `top` and exercise every entry met; return the entries seen."""
    seen = 0
    try:
        walk = fs.walk(top)
        for item in itertools.islice(walk, cap):
            if isinstance(item, Ext4Error):
                continue
            path, entry = item
            exercise_inode(fs, entry.inode, path)
            seen += 1
    except Ext4Error:
        pass
    return seen


# ------------------------------------------------------------------------- record targets

#: Input layout of a record target: [selector][flags][record bytes ...].
FLAG_NO_FIX = 0x01  # leave checksums as the input has them


@dataclass(frozen=True, slots=True)
class Candidate:
    """One place a record target may put its input: windows over records of a seed image.

    The input's bytes fill the windows in order; what it does not cover keeps `initial`
    (the seed's own bytes, or a variant the target prepared, such as a deeper tree)."""

    template: Template
    layout: Layout
    record: Record
    windows: tuple[tuple[int, int], ...]  # (offset, length) in the image
    initial: bytes

    @property
    def length(self) -> int:
        return sum(length for _, length in self.windows)

    def split(self, payload: bytes) -> list[tuple[int, bytes]]:
        """The payload (completed from `initial`) cut into one patch per window."""
        body = payload[: self.length] + self.initial[len(payload) :]
        out = []
        at = 0
        for offset, length in self.windows:
            out.append((offset, body[at : at + length]))
            at += length
        return out


Window = Callable[[Layout, Record], tuple[int, int] | None]
Run = Callable[[Filesystem, Candidate], None]
Build = Callable[[str, bytes, Layout, Template], list[Candidate]]


def whole(layout: Layout, record: Record) -> tuple[int, int] | None:
    return record.offset, record.length


def select(
    kinds: Sequence[str],
    window: Window = whole,
    accept: Callable[[Layout, Record], bool] = lambda layout, record: True,
    per_seed: int = 12,
) -> Build:
    """Candidates for the records of `kinds` that `accept` takes, a spread over the image."""

    def build(name: str, raw: bytes, layout: Layout, template: Template) -> list[Candidate]:
        picked = [r for kind in kinds for r in layout.of_kind(kind) if accept(layout, r)]
        step = max(1, len(picked) // per_seed)
        out = []
        for record in picked[::step][:per_seed]:
            span = window(layout, record)
            if span is not None and span[1] > 0:
                initial = raw[span[0] : span[0] + span[1]]
                out.append(Candidate(template, layout, record, (span,), initial))
        return out

    return build


class RecordTarget:
    """A per-layer target: an input replaces (part of) records of a seed image; the
    checksums it invalidates are recomputed unless the flags byte says not to; then `run`
    drives the layer's part of the facade on a fresh `Filesystem`."""

    def __init__(self, seeds: Sequence[str], build: Build, run: Run) -> None:
        self.seeds = tuple(seeds)
        self.build = build
        self.run = run

    @cached_property
    def candidates(self) -> list[Candidate]:
        out: list[Candidate] = []
        for name in self.seeds:
            raw = seed_bytes(name)
            out += self.build(name, raw, locate(raw), Template(raw, name))
        return out[:256]

    def seed_inputs(self) -> list[bytes]:
        """Each candidate's initial bytes, with checksum fixing on: the initial corpus."""
        return [bytes([i, 0]) + cand.initial for i, cand in enumerate(self.candidates)]

    def prepare(self, data: bytes) -> tuple[Candidate, list[tuple[int, bytes]]] | None:
        """The candidate an input names and the patches that put it in place."""
        if len(data) < 2 or not self.candidates:
            return None
        cand = self.candidates[data[0] % len(self.candidates)]
        patches = cand.split(data[2:])
        if data[1] & FLAG_NO_FIX:
            return cand, patches
        template = cand.template
        work = template.work
        dirty = [(offset, offset + len(body)) for offset, body in patches]
        for offset, body in patches:
            work[offset : offset + len(body)] = body
        try:
            fixed = M.fix_checksums(work, cand.layout, dirty, template.raw)
            patches += [(r.offset, bytes(work[r.offset : r.end])) for r in fixed]
        finally:
            template.restore([(offset, offset + len(body)) for offset, body in patches])
        return cand, patches

    def test_one_input(self, data: bytes) -> None:
        prepared = self.prepare(data)
        if prepared is None:
            return
        cand, patches = prepared
        with cand.template.spliced(patches) as fd:
            try:
                fs = Filesystem(Image(fd))
            except Ext4Error:
                return
            self.run(fs, cand)

    def mutate(self, data: bytes, max_size: int, seed: int, byte_mutate: Mutate | None) -> bytes:
        """A custom mutator: boundary values, swaps and copies on the input's record."""
        rng = random.Random(seed)
        if len(data) < 2 or not self.candidates or (byte_mutate and rng.randrange(3) == 0):
            if byte_mutate is not None:
                return byte_mutate(data, max_size)
            return bytes(rng.randbytes(2)) + data[2:]
        cand = self.candidates[data[0] % len(self.candidates)]
        template = cand.template
        work = template.work
        patches = cand.split(data[2:])
        windows = [(offset, offset + len(body)) for offset, body in patches]
        for offset, body in patches:
            work[offset : offset + len(body)] = body
        try:
            ops = [M.generate_op(cand.layout, work, M.RandomChooser(rng), cand.record)]
            dirty, _cut = M.apply_in_place(work, cand.layout, ops, fix=False, original=b"")
            payload = b"".join(bytes(work[start:end]) for start, end in windows)
        finally:
            template.restore(windows + dirty)
        return (data[:2] + payload)[:max_size]

    def make_mutator(
        self, *, fix: bool = True, byte_mutate: Mutate | None = None
    ) -> Callable[[bytes, int, int], bytes]:
        """The atheris custom mutator (record targets fix checksums themselves: `fix` is
        carried by each input's flags byte instead)."""
        return lambda data, max_size, seed: self.mutate(data, max_size, seed, byte_mutate)
