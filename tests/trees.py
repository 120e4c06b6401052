"""Random source trees for differential tests: `generate(root, seed)` builds one on disk.

A tree is what `mke2fs -d` copies into an image: regular files (empty, one block, multi-block,
sparse), directories up to a depth, fast and slow symlinks, hard links, fifos, odd names (space,
newline, non-UTF-8, 255 bytes), modes with setuid/setgid/sticky, uid/gid above 65535, mtimes
with nanoseconds and user.* xattrs. Everything is drawn from `random.Random(seed)`, so a
failing seed reproduces. The returned `Tree` is the reference: it is built from what this
module wrote, never read back from an image.

`mke2fs -d` (1.47) copies mtime seconds only (no nanoseconds, no times past 2038); the
`time_commands` helper gives the debugfs requests that put the tree's full mtimes on the
image, and `Entry.image_mtime_ns` what the inode then holds.
"""

from __future__ import annotations

import hashlib
import os
import random
import stat
from dataclasses import dataclass, field
from pathlib import Path

#: Names that a hostile-but-valid tree holds; each fits in the 255-byte dirent name.
ODD_NAMES = (
    b"with space",
    b"new\nline",
    b"latin1-\xe9\xff",
    b"utf8-\xc3\xa9\xe2\x82\xac",
    b"-dash",
    b".hidden",
    b"x" * 255,
    b"y" * 254 + b"\xfe",
)

FAST_SYMLINK_MAX = 59
#: The last second an ext4 inode can hold: 2**31 - 1 plus three epoch steps of 2**32 (2446).
LATEST_MTIME = 2**31 - 1 + 3 * 2**32  # a target under 60 bytes lives in i_block


@dataclass(frozen=True, slots=True)
class Entry:
    """One path of a generated tree, as written to the source directory."""

    path: bytes  # absolute inside the tree; b"/" is the root
    type: str  # reg | dir | lnk | fifo
    mode: int  # permission bits incl. setuid/setgid/sticky
    uid: int
    gid: int
    mtime_ns: int
    size: int | None  # None for directories
    target: bytes | None = None  # symlinks
    sha256: str | None = None  # regular files, holes as zeros
    xattrs: dict[str, bytes] = field(default_factory=dict)
    hardlink_group: int | None = None  # shared by every name of one inode

    def image_mtime_ns(self, ns_on_disk: bool) -> int:
        """The mtime an image holds: exact when debugfs set it, else whole seconds."""
        return self.mtime_ns if ns_on_disk else self.mtime_ns // 10**9 * 10**9


@dataclass(slots=True)
class Tree:
    root: Path
    block_size: int
    entries: dict[bytes, Entry] = field(default_factory=dict)

    def paths(self) -> set[bytes]:
        return set(self.entries)


class _Builder:
    def __init__(
        self,
        root: Path,
        rng: random.Random,
        block_size: int,
        xattrs: bool,
        late_times: bool,
        sparse_tail: bool,
    ) -> None:
        self.root = os.fsencode(root)
        self.late_times = late_times
        self.sparse_tail = sparse_tail
        self.rng = rng
        self.bs = block_size
        self.use_xattrs = xattrs
        self.entries: dict[bytes, Entry] = {}
        self.pending: list[tuple[bytes, int, int, int, int]] = []  # path, mode, uid, gid, ns
        self.groups = 0

    def abs(self, rel: bytes) -> bytes:
        return self.root + rel if rel != b"/" else self.root

    def owner(self) -> tuple[int, int]:
        r = self.rng
        return r.choice([0, 1, 1000, 65534, 65536, 100000, 2**31]), r.choice([0, 7, 65535, 70000])

    def mtime(self, rel: bytes) -> int:
        # Seconds in [1, 2**31) fit every inode; later ones (epoch bits, up to 2446) only
        # when debugfs can write them (256-byte inodes, a name debugfs can quote).
        late = self.late_times and b"\n" not in rel and b'"' not in rel
        top = LATEST_MTIME if late and self.rng.random() < 0.2 else 2**31 - 1
        return self.rng.randrange(1, top) * 10**9 + self.rng.randrange(10**9)

    def mode(self, kind: str) -> int:
        r = self.rng
        if kind == "dir":
            return r.choice([0o755, 0o700, 0o1777, 0o2755, 0o555])
        return r.choice([0o644, 0o600, 0o4755, 0o2711, 0o6555, 0o1644, 0o000, 0o777])

    def name(self, parent: bytes, taken: set[bytes]) -> bytes:
        r = self.rng
        while True:
            if r.random() < 0.2:
                name = r.choice(ODD_NAMES)
            else:
                name = b"%s%d" % (r.choice([b"f", b"file-", b"D", b"n_"]), r.randrange(10**6))
            if name not in taken:
                taken.add(name)
                return name

    def xattrs(self, path: bytes) -> dict[str, bytes]:
        if not self.use_xattrs or self.rng.random() < 0.6:
            return {}
        out: dict[str, bytes] = {}
        for i in range(self.rng.randrange(1, 4)):
            value = self.rng.randbytes(self.rng.choice([0, 1, 16, 100]))
            out[f"user.k{i}"] = value
            os.setxattr(path, f"user.k{i}", value, follow_symlinks=False)
        return out

    def content(self) -> tuple[list[tuple[int, bytes]], int]:
        """(data runs, size) of a regular file: sizes around the interesting boundaries."""
        r, bs = self.rng, self.bs
        pick = r.randrange(10)
        if pick == 0:
            return [], 0
        if pick == 1:  # sparse: a hole first, data in the middle, a hole at the end
            first = r.randrange(1, 16) * bs + r.randrange(bs)
            data = r.randbytes(r.randrange(1, 2 * bs))
            tail = r.randrange(0, 20) * bs if self.sparse_tail else 0
            return [(first, data)], first + len(data) + tail
        size = r.choice([1, 59, 60, 61, bs - 1, bs, bs + 1, 3 * bs + 7, r.randrange(13 * bs)])
        return [(0, r.randbytes(size))], size

    def file(self, rel: bytes) -> None:
        runs, size = self.content()
        path = self.abs(rel)
        with open(path, "wb") as f:
            for offset, data in runs:
                f.seek(offset)
                f.write(data)
            f.truncate(size)
        digest = hashlib.sha256()
        buf = bytearray(size)
        for offset, data in runs:
            buf[offset : offset + len(data)] = data
        digest.update(buf)
        self.add(rel, "reg", size, sha256=digest.hexdigest(), xattrs=self.xattrs(path))

    def symlink(self, rel: bytes) -> None:
        r = self.rng
        length = r.choice([1, FAST_SYMLINK_MAX, FAST_SYMLINK_MAX + 1, r.randrange(1, 300)])
        target = bytes(r.choice(b"abcdef/._-\xe9 ") for _ in range(length))
        os.symlink(target, self.abs(rel))
        self.add(rel, "lnk", len(target), target=target)

    def add(
        self,
        rel: bytes,
        kind: str,
        size: int | None,
        *,
        target: bytes | None = None,
        sha256: str | None = None,
        xattrs: dict[str, bytes] | None = None,
    ) -> None:
        uid, gid = self.owner()
        mode = 0o777 if kind == "lnk" else self.mode(kind)
        ns = self.mtime(rel)
        self.entries[rel] = Entry(rel, kind, mode, uid, gid, ns, size, target, sha256, xattrs or {})
        self.pending.append((rel, mode, uid, gid, ns))

    def hardlinks(self) -> None:
        """Give a few regular files one or two more names, anywhere in the tree."""
        dirs = [p for p, e in self.entries.items() if e.type == "dir"]
        files = [p for p, e in self.entries.items() if e.type == "reg"]
        for source in self.rng.sample(files, min(len(files), self.rng.randrange(0, 3))):
            self.groups += 1
            names = [source]
            for _ in range(self.rng.randrange(1, 3)):
                parent = self.rng.choice(dirs)
                rel = parent.rstrip(b"/") + b"/hl%d" % self.rng.randrange(10**6)
                if rel in self.entries:
                    continue
                os.link(self.abs(source), self.abs(rel))
                names.append(rel)
            for rel in names:
                e = self.entries[source]
                self.entries[rel] = Entry(
                    rel,
                    e.type,
                    e.mode,
                    e.uid,
                    e.gid,
                    e.mtime_ns,
                    e.size,
                    sha256=e.sha256,
                    xattrs=e.xattrs,
                    hardlink_group=self.groups,
                )

    def finish(self) -> None:
        """Owners, modes, then mtimes deepest first (writing a child changes its dir's mtime)."""
        by_path = {rel: item for rel, *item in self.pending}
        for rel in sorted(by_path, key=lambda p: -p.count(b"/")):
            mode, uid, gid, ns = by_path[rel]
            path = self.abs(rel)
            os.lchown(path, uid, gid)
            if not stat.S_ISLNK(os.lstat(path).st_mode):
                os.chmod(path, mode)
            os.utime(path, ns=(ns, ns), follow_symlinks=False)


def generate(
    root: Path,
    seed: int,
    *,
    block_size: int = 4096,
    max_depth: int = 3,
    max_entries: int = 40,
    xattrs: bool = True,
    late_times: bool = True,
    sparse_tail: bool = True,
) -> Tree:
    """Fill the empty directory `root` with a random tree and describe it.

    `late_times=False` keeps mtimes before 2038 (128-byte inodes); `sparse_tail=False` avoids
    holes at the end of files: mke2fs 1.47.0 -d with inline_data cuts such a file's size to its
    last data block (the kernel mount agrees with the image, so it is mke2fs, not the image
    reader).
    """
    rng = random.Random(seed)
    b = _Builder(root, rng, block_size, xattrs, late_times, sparse_tail)
    b.entries[b"/"] = Entry(b"/", "dir", 0o755, 0, 0, 0, None)
    stack: list[tuple[bytes, int]] = [(b"/", 0)]  # explicit stack: no recursion
    budget = max_entries
    while stack and budget > 0:
        parent, depth = stack.pop()
        taken: set[bytes] = set()
        for _ in range(rng.randrange(6, 14) if depth == 0 else rng.randrange(1, 8)):
            if budget <= 0:
                break
            budget -= 1
            rel = parent.rstrip(b"/") + b"/" + b.name(parent, taken)
            kind = rng.choices(
                ["reg", "dir", "lnk", "fifo"], [6, 3 if depth < max_depth else 0, 2, 1]
            )
            if kind[0] == "reg":
                b.file(rel)
            elif kind[0] == "dir":
                os.mkdir(b.abs(rel))
                b.add(rel, "dir", None, xattrs=b.xattrs(b.abs(rel)))
                stack.append((rel, depth + 1))
            elif kind[0] == "lnk":
                b.symlink(rel)
            else:
                os.mkfifo(b.abs(rel))
                b.add(rel, "fifo", 0)
    b.hardlinks()
    b.finish()
    root_entry = b.entries[b"/"]
    b.entries[b"/"] = Entry(b"/", "dir", 0o755, 0, 0, root_entry.mtime_ns, None)
    return Tree(root, block_size, b.entries)


def _split_time(ns: int) -> tuple[int, int]:
    """(i_mtime, i_mtime_extra) for an mtime: low 32 bits, then epoch bits and nanoseconds."""
    seconds, nsec = divmod(ns, 10**9)
    low = seconds & 0xFFFFFFFF
    signed = low - (1 << 32) if low & 0x80000000 else low
    return low, ((seconds - signed) >> 32) & 3 | nsec << 2


def time_commands(tree: Tree, inode_size: int) -> tuple[list[bytes], dict[bytes, bool]]:
    """debugfs -w requests setting every expressible path's full mtime (with nanoseconds).

    Returns the requests and, per path, whether its nanoseconds are then on disk (a 128-byte
    inode has no i_mtime_extra; a name with a newline or a quote cannot be written in a
    debugfs request, and keeps what mke2fs -d wrote: whole seconds).
    """
    cmds: list[bytes] = []
    exact: dict[bytes, bool] = {}
    for rel, entry in sorted(tree.entries.items(), key=lambda item: b"\n" not in item[0]):
        if rel == b"/":
            continue  # mke2fs -d gives the root its own attributes
        ok = inode_size > 128 and b"\n" not in rel and b'"' not in rel
        exact[rel] = ok
        if not ok:
            continue
        if entry.hardlink_group is not None:  # one inode: every name now has the nanoseconds
            for other in tree.entries.values():
                if other.hardlink_group == entry.hardlink_group:
                    exact[other.path] = True
        low, extra = _split_time(entry.mtime_ns)
        quoted = b'"' + rel + b'"'
        cmds.append(b"sif %s mtime 0x%x" % (quoted, low))
        cmds.append(b"sif %s mtime_extra %d" % (quoted, extra))
    return cmds, exact
