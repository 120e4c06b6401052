"""What the targets share: driving the facade over one inode or a whole tree, and the
record-target machinery (a seed image in memory, one record replaced per input).

Every helper lets only `Ext4Error` go: it is the parser's answer to a hostile image. Any other
exception leaves `test_one_input` and is a finding (DESIGN.md, "Contracts").
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, partial

from ext4guard.parser.blocks import BlockReader
from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.group_desc import GroupDesc
from ext4guard.parser.image import Image
from ext4guard.parser.inode import Inode
from ext4guard.parser.superblock import Superblock
from ext4guard.parser.system_zone import SystemZone

from .. import mutators as M
from .. import records as R
from ..memimage import MemImage, Template
from ..records import Layout, Record, locate
from ..seeds import seed_bytes

#: Bounds that keep one input cheap (libFuzzer's -timeout catches what they miss).
WALK_CAP = 2000
READ_CAP = 256 * 1024
LIST_CAP = 256

Mutate = Callable[[bytes, int], bytes]


def attempt(call: Callable[[], object]) -> object:
    """Run one public call: an Ext4Error is an answer; anything else propagates. A lazy
    answer (a generator) is drawn, up to WALK_CAP items, inside the guard; any other answer
    comes back as it is (an `Inode` or a listing tuple must stay one: the targets test
    `isinstance(result, Inode)` before going deeper)."""
    try:
        result = call()
        if isinstance(result, Iterator):
            result = list(itertools.islice(result, WALK_CAP))
        return result
    except Ext4Error as exc:
        return exc


def exercise_inode(
    fs: Filesystem,
    ino: int,
    path: bytes | None = None,
    *,
    list_dir: bool = True,
    every_call: bool = True,
    read_cap: int = READ_CAP,
) -> None:
    """Every public call that makes sense for inode `ino` (and its path, when known):
    `list_dir=False` when the caller lists the directory itself; `every_call=False` reads
    a file once (no tail read, no iomap) for a caller that samples those."""
    inode = attempt(lambda: fs.stat(ino))
    if path is not None:
        attempt(lambda: fs.lookup(path))
    attempt(lambda: fs.xattrs(ino))
    if not isinstance(inode, Inode):
        return
    kind = inode.file_type
    if kind == "dir":
        if list_dir:
            attempt(lambda: fs.iterdir(ino))
    elif kind == "lnk":
        attempt(lambda: fs.readlink(ino))
    else:
        attempt(lambda: fs.read(ino, 0, read_cap))
        if every_call:
            _file_calls(fs, inode, read_cap)


def _file_calls(fs: Filesystem, inode: Inode, read_cap: int) -> None:
    """A file's calls beyond its first read: the tail, its mappings, a mapping far out."""
    ino = inode.ino
    attempt(lambda: fs.read(ino, max(0, inode.size - 100), 4096))
    attempt(lambda: fs.iomap(ino, 0, read_cap))
    attempt(lambda: fs.iomap(ino, 1 << 40, 1 << 20))


def _sampled(fs: Filesystem, ino: int, path: bytes) -> None:
    """The sampled calls for an entry already exercised without them."""
    attempt(partial(fs.lookup, path))
    inode = attempt(partial(fs.stat, ino))
    if isinstance(inode, Inode) and inode.file_type not in ("dir", "lnk"):
        _file_calls(fs, inode, WALK_READ_CAP)


#: A walk reads every file's first WALK_READ_CAP bytes, and makes the other calls (lookup
#: by path, tail read, iomaps) on a sample: the first entry of each directory, every
#: SAMPLE_EVERY-th after it and the last. Looking up every entry (hashing each name again,
#: the listing having just found it) was three quarters of a walk's time, and the other
#: calls map the same extents the read just mapped.
SAMPLE_EVERY = 16
WALK_READ_CAP = 64 * 1024
_FT_DIR = 2  # the dirent type byte of a directory


def exercise_tree(fs: Filesystem, top: bytes = b"/", cap: int = WALK_CAP) -> int:
    """Walk below `top` and exercise every entry met (stat, attributes, content by type;
    a sample looked up by path); return the entries seen."""
    seen = 0
    # Directories the walk lists itself are not listed again: with the filetype feature
    # the walk enters what the dirent calls a directory, without it what the inode does.
    by_type = "filetype" in fs.superblock.incompat
    parent = b""
    in_dir = 0
    last: tuple[bytes, int] | None = None  # the directory's last entry, if not sampled
    try:
        walk = fs.walk(top)
        for item in itertools.islice(walk, cap):
            if isinstance(item, Ext4Error):
                continue
            path, entry = item
            here = path[: path.rfind(b"/")]
            if here != parent:
                if last is not None:
                    _sampled(fs, last[1], last[0])
                parent, in_dir = here, 0
            sample = in_dir % SAMPLE_EVERY == 0
            walk_lists = entry.file_type == _FT_DIR if by_type else True
            exercise_inode(
                fs,
                entry.inode,
                path if sample else None,
                list_dir=not walk_lists,
                every_call=sample,
                read_cap=WALK_READ_CAP,
            )
            last = None if sample else (path, entry.inode)
            in_dir += 1
            seen += 1
        if last is not None:
            _sampled(fs, last[1], last[0])
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


class PristineShared(Filesystem):
    """A Filesystem over a patched seed that borrows, from the filesystem opened once on the
    pristine seed, what the patch cannot change: the verified descriptors of the groups
    whose descriptor bytes are unpatched, the metadata zone when no descriptor is patched
    (only superblock and descriptor bytes feed either), and the verified inodes when no
    inode record is patched (in the groups whose descriptor is not). Everything else is
    read from the patched image into this open's own, empty caches."""

    __slots__ = ("_borrow_inodes", "_fresh_groups", "_pristine")

    def __init__(
        self,
        image: Image,
        pristine: Filesystem,
        *,
        borrow_inodes: bool,
        fresh_groups: frozenset[int] = frozenset(),
    ) -> None:
        super().__init__(image)
        self._pristine = pristine
        self._borrow_inodes = borrow_inodes
        self._fresh_groups = fresh_groups
        if not fresh_groups:
            self.blocks = _SharedZone(image, self.superblock, pristine.blocks)

    def group(self, group: int) -> GroupDesc:
        if group in self._fresh_groups:
            return super().group(group)
        return self._pristine.group(group)

    def inode(self, ino: int) -> Inode:
        # An inode's record and its group's descriptor (where the table is, what is unused)
        # make it: borrowed when neither is patched.
        if self._borrow_inodes and (
            not self._fresh_groups
            or (ino - 1) // self.superblock.inodes_per_group not in self._fresh_groups
        ):
            return self._pristine.inode(ino)
        return super().inode(ino)

    # Filesystem binds `stat = inode` in its class body: rebind it to the override.
    stat = inode


class _SharedZone(BlockReader):
    __slots__ = ("_shared",)

    def __init__(self, image: Image, sb: Superblock, shared: BlockReader) -> None:
        super().__init__(image, sb)
        self._shared = shared

    def zone(self) -> SystemZone:
        return self._shared.zone()


class RecordTarget:
    """A per-layer target: an input replaces (part of) records of a seed image; the
    checksums it invalidates are recomputed unless the flags byte says not to; then `run`
    drives the layer's part of the facade on a `Filesystem` over the patched image.

    The image is the seed's scratch copy in memory, patched in place and put back after the
    input (no file, no copy of the image). Unless the input touches the superblock, the
    Filesystem borrows what the input left alone from the seed opened once
    (`PristineShared`): re-verifying every descriptor for every input was half of what an
    input cost."""

    def __init__(self, seeds: Sequence[str], build: Build, run: Run) -> None:
        self.seeds = tuple(seeds)
        self.build = build
        self.run = run
        self._pristine: dict[str, Filesystem | None] = {}

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

    def _apply(self, data: bytes) -> tuple[Candidate, list[tuple[int, int]]] | None:
        """Write the input (and, unless told not to, the checksums it breaks) into its
        candidate's scratch image; return the candidate and the byte ranges written, which
        the caller puts back (`Template.restore`)."""
        if len(data) < 2 or not self.candidates:
            return None
        cand = self.candidates[data[0] % len(self.candidates)]
        work = cand.template.work
        dirty: list[tuple[int, int]] = []
        for offset, body in cand.split(data[2:]):
            work[offset : offset + len(body)] = body
            dirty.append((offset, offset + len(body)))
        if not data[1] & FLAG_NO_FIX:
            try:
                fixed = M.fix_checksums(work, cand.layout, dirty, cand.template.raw)
            except BaseException:
                cand.template.restore(dirty)
                raise
            dirty += [(r.offset, r.end) for r in fixed]
        return cand, dirty

    def prepare(self, data: bytes) -> tuple[Candidate, list[tuple[int, bytes]]] | None:
        """The candidate an input names and the patches that put it in place."""
        applied = self._apply(data)
        if applied is None:
            return None
        cand, dirty = applied
        work = cand.template.work
        patches = [(start, bytes(work[start:end])) for start, end in dirty]
        cand.template.restore(dirty)
        return cand, patches

    def pristine(self, template: Template) -> Filesystem | None:
        """The seed opened once, unpatched (None if it does not open)."""
        if template.name not in self._pristine:
            try:
                fs: Filesystem | None = Filesystem(MemImage(template.raw))
            except Ext4Error:
                fs = None
            self._pristine[template.name] = fs
        return self._pristine[template.name]

    def open(self, cand: Candidate, dirty: list[tuple[int, int]]) -> Filesystem:
        """A Filesystem over the candidate's patched scratch image (raises Ext4Error)."""
        image = MemImage(cand.template.work)
        pristine = self.pristine(cand.template)
        touched = [r for start, end in dirty for r in cand.layout.overlapping(start, end)]
        kinds = {r.kind for r in touched}
        if pristine is None or R.SUPERBLOCK in kinds:
            return Filesystem(image)
        fresh = frozenset(r.group for r in touched if r.kind == R.GROUP_DESC)
        return PristineShared(
            image, pristine, borrow_inodes=R.INODE not in kinds, fresh_groups=fresh
        )

    def test_one_input(self, data: bytes) -> None:
        applied = self._apply(data)
        if applied is None:
            return
        cand, dirty = applied
        try:
            try:
                fs = self.open(cand, dirty)
            except Ext4Error:
                return
            self.run(fs, cand)
        finally:
            cand.template.restore(dirty)

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
