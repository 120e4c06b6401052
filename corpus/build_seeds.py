#!/usr/bin/env python3
"""Build the deterministic ext2/3/4 seed images in corpus/seeds/.

Each image is made from a generated source tree with ``mke2fs -d``; what ``-d`` cannot express is
added with ``debugfs`` (nanosecond / post-2038 timestamps, xattrs stored in an EA inode, unwritten
extents, inode flags); ``e2fsck -fyD`` builds the htree indexes; ``e2fsck -fn`` must then be clean.
The only exception is ext4_largedir, whose ~47,000 hard links are made by the kernel on a
read-write loop mount (libext2fs needs minutes for that many links) before e2fsck -D rebuilds the
directory; every time-dependent field the kernel writes is reset with debugfs afterwards.

Determinism: a fixed MKE2FS_CONFIG (corpus/mke2fs.conf), E2FSPROGS_FAKE_TIME / E2FSCK_TIME, a fixed
UUID and hash seed per image, explicit -O/-b/-I/-N/size, LC_ALL=C (mke2fs -d sorts with
alphasort), and a debugfs pass that resets atime/ctime of every used inode (mke2fs -d copies them
from the source tree, where they cannot be controlled). Two runs produce byte-identical images;
``--check`` verifies that against the committed sha256.

The manifest (NAME.json) is the reference for the parser tests: it is derived from the source tree
(lstat/readlink/listxattr/sha256) plus what this script told debugfs to do -- never from reading
the image. Stdlib only; needs root (device nodes, the largedir loop mount) and e2fsprogs >= 1.47.

Usage: build_seeds.py [--only NAME ...] [--check] [--out DIR] [--list]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import random
import re
import stat
import struct
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "seeds"
CONF = HERE / "mke2fs.conf"

FAKE_TIME = 1700000000  # 2023-11-14T22:13:20Z: mkfs time, superblock times, atime/ctime of inodes
UUID_NS = uuid.UUID("6f1d3c2e-4a5b-4c6d-8e7f-0123456789ab")
XZ_PRESET = 9 | lzma.PRESET_EXTREME

MiB = 1024 * 1024

BASE = "sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr"
EXT4_DEFAULT = (
    BASE + ",has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize"
)


def features(base: str, add: str = "", remove: str = "") -> str:
    feats = [f for f in base.split(",") if f]
    for r in filter(None, remove.split(",")):
        feats.remove(r)
    feats += [a for a in add.split(",") if a and a not in feats]
    return ",".join(feats)


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.update(
        MKE2FS_CONFIG=str(CONF),
        E2FSPROGS_FAKE_TIME=str(FAKE_TIME),
        E2FSCK_TIME=str(FAKE_TIME),
        E2FSCK_CONFIG="/dev/null",
        LC_ALL="C",
        TZ="UTC",
    )
    return e


def run(
    argv: list[str], ok: tuple[int, ...] = (0,), **kw: object
) -> subprocess.CompletedProcess[bytes]:
    p = subprocess.run(argv, env=env(), capture_output=True, **kw)  # type: ignore[call-overload]
    if p.returncode not in ok:
        raise SystemExit(
            f"command failed ({p.returncode}): {argv!r}\n"
            f"{p.stdout.decode(errors='replace')[-3000:]}"
            f"\n{p.stderr.decode(errors='replace')[-3000:]}"
        )
    return p


# ----------------------------------------------------------------------------- source trees


def split_ns(ns: int) -> tuple[int, int]:
    return ns // 10**9, ns % 10**9


class Tree:
    """A generated source tree under ``root``; records everything needed for the manifest."""

    def __init__(self, root: Path, seed: str, inode_size: int) -> None:
        self.root = os.fsencode(root)
        self.rng = random.Random(seed)
        self.inode_size = inode_size
        self.times: dict[bytes, int] = {}  # rel path -> mtime ns
        self.owners: dict[bytes, tuple[int, int]] = {}
        self.modes: dict[bytes, int] = {}
        self.xattrs: dict[bytes, list[tuple[str, bytes]]] = {}
        self.notes: dict[bytes, dict[str, object]] = {}
        self.debugfs: list[str] = []  # commands run after mke2fs -d (recorded in the manifest)
        self.extra_xattrs: dict[bytes, dict[str, bytes]] = {}  # set by debugfs, not in the tree
        self.covers: list[str] = []
        self.checks: list[tuple[str, str]] = []  # (debugfs request, regex that must match)
        self.generated: list[dict[str, object]] = []

    # -- helpers
    def p(self, rel: bytes) -> bytes:
        assert rel.startswith(b"/")
        return self.root + rel

    def mtime(self, ns: int | None) -> int:
        if ns is None:
            ns = (1500000000 + self.rng.randrange(100_000_000)) * 10**9
        if self.inode_size < 256:
            assert ns % 10**9 == 0 and ns < 2**31 * 10**9, "128-byte inodes: whole seconds < 2038"
        return ns

    def _meta(self, rel: bytes, mode: int, uid: int, gid: int, mtime: int | None) -> None:
        self.modes[rel] = mode
        self.owners[rel] = (uid, gid)
        self.times[rel] = self.mtime(mtime)

    # -- creators
    def dir(
        self, rel: bytes, mode: int = 0o755, uid: int = 0, gid: int = 0, mtime: int | None = None
    ) -> None:
        os.mkdir(self.p(rel))
        self._meta(rel, mode, uid, gid, mtime)

    def file(
        self,
        rel: bytes,
        data: bytes = b"",
        mode: int = 0o644,
        uid: int = 0,
        gid: int = 0,
        mtime: int | None = None,
    ) -> None:
        with open(self.p(rel), "wb") as f:
            f.write(data)
        self._meta(rel, mode, uid, gid, mtime)

    def sparse(
        self,
        rel: bytes,
        size: int,
        chunks: list[tuple[int, bytes]],
        mode: int = 0o644,
        mtime: int | None = None,
    ) -> None:
        with open(self.p(rel), "wb") as f:
            for off, data in chunks:
                f.seek(off)
                f.write(data)
            f.truncate(size)
        self._meta(rel, mode, 0, 0, mtime)
        self.notes.setdefault(rel, {})["sparse"] = [[off, len(d)] for off, d in chunks]

    def symlink(
        self, rel: bytes, target: bytes, uid: int = 0, gid: int = 0, mtime: int | None = None
    ) -> None:
        os.symlink(target, self.p(rel))
        self._meta(rel, 0o777, uid, gid, mtime)

    def link(self, existing: bytes, rel: bytes) -> None:
        os.link(self.p(existing), self.p(rel))

    def node(
        self,
        rel: bytes,
        kind: int,
        mode: int = 0o644,
        rdev: int = 0,
        uid: int = 0,
        gid: int = 0,
        mtime: int | None = None,
    ) -> None:
        os.mknod(self.p(rel), kind | mode, rdev)
        self._meta(rel, mode, uid, gid, mtime)

    def xattr(self, rel: bytes, name: str, value: bytes) -> None:
        self.xattrs.setdefault(rel, []).append((name, value))

    def dbg(self, cmd: str) -> None:
        self.debugfs.append(cmd)

    def cover(self, *tags: str) -> None:
        self.covers.extend(tags)

    # -- finish: ownership, modes, xattrs, then times bottom-up
    def finalize(self) -> None:
        rels = sorted(self.times, key=lambda r: (-r.count(b"/"), r))
        for rel in sorted(self.owners):
            os.lchown(self.p(rel), *self.owners[rel])
        for rel in sorted(self.modes):
            if not os.path.islink(self.p(rel)):
                os.chmod(self.p(rel), self.modes[rel])
        for rel in sorted(self.xattrs):
            for name, value in self.xattrs[rel]:
                os.setxattr(self.p(rel), name, value, follow_symlinks=False)
        for rel in rels:
            ns = self.times[rel]
            os.utime(self.p(rel), ns=(FAKE_TIME * 10**9, ns), follow_symlinks=False)


def dbg_path(rel: bytes) -> str:
    """A path usable in a debugfs command (quoted if it has spaces)."""
    s = os.fsdecode(rel)
    if any(c in s for c in '\n"\\') or not s.isprintable():
        raise ValueError(f"path not expressible in a debugfs command: {rel!r}")
    return f'"{s}"' if " " in s else s


# -------------------------------------------------------------------------- content "kits"

TEXT = b"ext4guard seed file.\n"


def blob(rng: random.Random, n: int) -> bytes:
    """Compressible but non-trivial content."""
    words = [b"alpha", b"beta", b"gamma", b"delta", b"inode", b"extent", b"htree", b"journal"]
    out = bytearray()
    while len(out) < n:
        out += rng.choice(words) + b" %d\n" % rng.randrange(10**6)
    return bytes(out[:n])


def kit_basic(t: Tree) -> None:
    """Regular files of several sizes, nested dirs, modes, owners, symlinks, hard links."""
    r = t.rng
    t.dir(b"/etc")
    t.file(b"/etc/hostname", b"seed\n")
    t.file(b"/etc/empty", b"")
    t.file(b"/etc/passwd", blob(r, 900), mode=0o644)
    t.file(b"/etc/shadow", blob(r, 300), mode=0o600, uid=0, gid=42)
    t.dir(b"/home", mode=0o755)
    t.dir(b"/home/user", mode=0o700, uid=1000, gid=1000)
    t.file(b"/home/user/notes.txt", blob(r, 5000), uid=1000, gid=1000)
    t.file(b"/home/user/big.bin", blob(r, 70_000), uid=1000, gid=1000)
    t.file(b"/home/user/highid", b"uid/gid above 65535\n", uid=100_000, gid=200_000)
    t.dir(b"/bin")
    t.file(b"/bin/tool", b"#!/bin/sh\necho tool\n", mode=0o755)
    t.file(b"/bin/suid", b"#!/bin/sh\n", mode=0o4755)
    t.file(b"/bin/sgid", b"#!/bin/sh\n", mode=0o2755, gid=50)
    t.file(b"/bin/noperm", b"", mode=0o000)
    t.dir(b"/tmp", mode=0o1777)
    t.dir(b"/srv", mode=0o2775, gid=50)
    t.symlink(b"/bin/fast", b"tool")
    t.symlink(b"/bin/abs", b"/etc/hostname")
    t.symlink(b"/bin/slow", b"../home/user/" + b"x" * 80 + b"/target-of-a-slow-symlink")
    t.symlink(b"/bin/dangling", b"does/not/exist")
    t.file(b"/etc/linked", b"three names, one inode\n")
    t.link(b"/etc/linked", b"/home/linked2")
    t.link(b"/etc/linked", b"/bin/linked3")
    t.cover(
        "regular files 0..70000 bytes",
        "modes incl. setuid/setgid/sticky/0000",
        "uid/gid != 0 (incl. > 65535)",
        "fast symlink (<60 B)",
        "slow symlink (>=60 B)",
        "hard links (3 names)",
    )


def kit_specials(t: Tree) -> None:
    t.dir(b"/dev")
    t.node(b"/dev/null", stat.S_IFCHR, 0o666, os.makedev(1, 3))
    t.node(b"/dev/sda1", stat.S_IFBLK, 0o660, os.makedev(8, 1), gid=6)
    t.node(b"/dev/bigdev", stat.S_IFCHR, 0o600, os.makedev(300, 70000))
    t.node(b"/dev/fifo", stat.S_IFIFO, 0o644)
    t.node(b"/dev/sock", stat.S_IFSOCK, 0o755)
    t.cover("char/block devices (incl. major>255, minor>255)", "fifo", "socket")


def kit_names(t: Tree, depth: int = 40) -> None:
    t.dir(b"/names")
    t.file(b"/names/with space", b"space\n")
    t.file(b"/names/new\nline", b"newline\n")
    t.file(b"/names/bad\xff\xfeutf8", b"non-utf-8 bytes\n")
    t.file(b"/names/" + "ünïcødé-名前".encode(), b"utf-8\n")
    t.file(b"/names/" + b"n" * 255, b"255-byte name\n")
    t.dir(b"/names/" + b"d" * 255)
    t.symlink(b"/names/" + b"d" * 255 + b"/" + b"s" * 255, b"../with space")
    path = b"/deep"
    t.dir(path)
    for i in range(depth):
        path += b"/%02d" % i
        t.dir(path)
    t.file(path + b"/bottom", b"bottom of a %d-level path\n" % depth)
    t.cover(
        "names with space/newline/non-UTF-8/UTF-8", "255-byte names", f"{depth}-level deep path"
    )


def acl_xattr(entries: list[tuple[int, int, int]]) -> bytes:
    """POSIX ACL in the VFS xattr format (version 2): (tag, perm, id)."""
    return struct.pack("<I", 2) + b"".join(
        struct.pack("<HHI", tag, perm, i) for tag, perm, i in entries
    )


ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER = 1, 2, 4, 8, 0x10, 0x20
NOID = 0xFFFFFFFF


def kit_xattrs(t: Tree, acl: bool = True) -> None:
    r = t.rng
    t.dir(b"/xattr")
    t.file(b"/xattr/small", b"in-inode xattrs\n")
    t.xattr(b"/xattr/small", "user.a", b"1")
    t.xattr(b"/xattr/small", "user.comment", b"short value")
    t.xattr(b"/xattr/small", "trusted.t", b"\x00\x01\x02")
    t.file(b"/xattr/block", b"xattrs in an EA block\n")
    for i in range(4):
        t.xattr(b"/xattr/block", f"user.large{i}", blob(r, 150))
    t.xattr(b"/xattr/block", "security.s", b"label\x00")
    t.file(b"/xattr/shared1", b"same EA block as shared2?\n")
    t.file(b"/xattr/shared2", b"same EA block as shared1?\n")
    for rel in (b"/xattr/shared1", b"/xattr/shared2"):
        t.xattr(rel, "user.shared", b"S" * 200)
    t.dir(b"/xattr/dir")
    t.xattr(b"/xattr/dir", "user.on_a_dir", b"yes")
    t.xattr(b"/xattr/dir", "user.empty", b"")
    t.cover(
        "xattrs in-inode (user/trusted)",
        "xattrs in an EA block (user/security)",
        "identical EA blocks (may be shared)",
        "xattr with empty value",
        "xattr on a directory",
    )
    if acl:
        t.file(b"/xattr/acl", b"posix acl\n", mode=0o640)
        t.xattr(
            b"/xattr/acl",
            "system.posix_acl_access",
            acl_xattr(
                [
                    (ACL_USER_OBJ, 6, NOID),
                    (ACL_USER, 4, 1000),
                    (ACL_GROUP_OBJ, 4, NOID),
                    (ACL_MASK, 4, NOID),
                    (ACL_OTHER, 0, NOID),
                ]
            ),
        )
        t.dir(b"/xattr/acldir", mode=0o750)
        t.xattr(
            b"/xattr/acldir",
            "system.posix_acl_default",
            acl_xattr(
                [
                    (ACL_USER_OBJ, 7, NOID),
                    (ACL_GROUP_OBJ, 5, NOID),
                    (ACL_GROUP, 5, 100),
                    (ACL_MASK, 5, NOID),
                    (ACL_OTHER, 0, NOID),
                ]
            ),
        )
        t.cover("POSIX ACL access + default (system.posix_acl_*)")


def kit_sparse(t: Tree, bs: int) -> None:
    t.sparse(
        b"/sparse",
        64 * bs,
        [(0, b"head" * (bs // 4)), (20 * bs + 7, b"middle"), (63 * bs, b"t" * bs)],
    )
    t.sparse(b"/hole_at_end", 10 * bs + 1, [(0, b"only the first block has data")])
    t.cover("sparse files (holes inside and at EOF)")


def kit_times(t: Tree) -> None:
    """Nanoseconds and a post-2038 mtime: mke2fs -d copies seconds only, debugfs sets the rest."""
    t.dir(b"/times")
    stamps = {
        b"/times/ns": 1234567890 * 10**9 + 123456789,
        b"/times/y2038": 2**31 * 10**9 + 1,
        b"/times/y2100": 4102444800 * 10**9 + 999999999,
        b"/times/y2400": 13569465600 * 10**9 + 500,
    }
    for rel, ns in stamps.items():
        t.file(rel, b"%d\n" % ns, mtime=ns)
    t.cover("mtime with nanoseconds", "mtimes past 2038 (extra epoch bits 1 and 3)")


def kit_htree(t: Tree, rel: bytes, n: int, namelen: int, link_to: bytes | None = None) -> None:
    t.dir(rel)
    for i in range(n):
        name = rel + b"/" + (b"entry-%05d-" % i).ljust(namelen, b"h")
        if link_to is None:
            t.file(name, b"")
        else:
            t.link(link_to, name)


def unwritten(t: Tree, rel: bytes, bs: int, start: int, end: int) -> None:
    """A file with data at block 0 and 15 and an unwritten (fallocated) extent in the hole."""
    t.sparse(rel, 16 * bs, [(0, b"U" * bs), (15 * bs, b"V" * bs)])
    t.dbg(f"fallocate {dbg_path(rel)} {start} {end}")
    t.notes.setdefault(rel, {})["unwritten_ranges"] = [[start, end]]
    t.checks.append((f"ex {dbg_path(rel)}", rf"\b{start}\s*-\s*{end}\b.*Uninit"))
    t.cover("unwritten (fallocated) extent inside a hole")


# ------------------------------------------------------------------------------ image specs


@dataclass
class Spec:
    name: str
    size: int
    block_size: int
    inode_size: int
    inodes: int
    feats: str
    tree: Callable[[Tree], None]
    extra: list[str] = field(default_factory=list)  # extra mke2fs args
    ext_opts: str = ""
    rehash: bool = False
    post: Callable[[Spec, Tree, Path], None] | None = None
    covers: list[str] = field(default_factory=list)


def t_ext2_1k(t: Tree) -> None:
    kit_basic(t)
    kit_specials(t)
    bs = 1024
    # direct 0..11, single 12..267, double 268..65803, triple 65804.. (1 KiB blocks, 4-byte ptrs)
    t.sparse(
        b"/indirect",
        70_001 * bs,
        [
            (0, b"D" * bs),
            (11 * bs, b"d"),
            (12 * bs, b"S" * 10),
            (300 * bs, b"2" * 10),
            (65803 * bs, b"last double"),
            (65804 * bs, b"first triple"),
            (70_000 * bs, b"T" * bs),
        ],
    )
    t.file(b"/dense", blob(t.rng, 300 * bs))
    t.cover(
        "ext2 block map: direct, single, double and TRIPLE indirect blocks",
        "sparse file of ~68 MiB with 7 data blocks",
        "300-block file (double indirect)",
    )


def t_ext3(t: Tree) -> None:
    kit_basic(t)
    kit_xattrs(t)
    t.file(b"/dense", blob(t.rng, 290 * 1024))
    kit_sparse(t, 1024)
    t.cover(
        "ext3: block map (indirect) files with a jbd2 journal", "290 KiB file (double indirect)"
    )


def t_default(t: Tree) -> None:
    kit_basic(t)
    kit_specials(t)
    kit_names(t)
    kit_xattrs(t)
    kit_sparse(t, 4096)
    kit_times(t)
    unwritten(t, b"/fallocated", 4096, 2, 9)
    kit_htree(t, b"/htree", 300, 40)
    t.file(b"/largefile", blob(t.rng, 600_000))
    t.cover("htree directory (300 entries, 4 KiB blocks)", "600 KB extent-mapped file")


def t_small(t: Tree) -> None:
    kit_basic(t)
    kit_sparse(t, t.rng.choice([4096]))


def t_nojournal(t: Tree) -> None:
    kit_basic(t)
    kit_names(t, depth=10)
    kit_sparse(t, 4096)
    unwritten(t, b"/fallocated", 4096, 1, 14)


def t_uninit_bg(t: Tree) -> None:
    kit_basic(t)
    kit_specials(t)
    kit_xattrs(t)


def t_32bit(t: Tree) -> None:
    kit_basic(t)
    kit_names(t, depth=5)
    kit_sparse(t, 4096)


def t_meta_bg(t: Tree) -> None:
    kit_basic(t)
    kit_sparse(t, 1024)
    # spread data over many groups
    for i in range(6):
        t.file(b"/spread%d" % i, blob(t.rng, 200 * 1024))
    t.cover("files spanning many 256-block groups")


def t_noflexbg(t: Tree) -> None:
    kit_basic(t)
    kit_specials(t)
    t.file(b"/spread", blob(t.rng, 600 * 1024))
    t.cover("file spanning several block groups without flex_bg")


def t_inline(t: Tree) -> None:
    kit_basic(t)
    t.dir(b"/inline")
    t.file(b"/inline/tiny", b"fits in i_block\n")
    t.file(b"/inline/exact60", b"6" * 60)
    t.file(b"/inline/spill", b"spills from i_block into system.data " * 3)  # 111 bytes
    t.file(b"/inline/toobig", blob(t.rng, 3000))
    t.dir(b"/inline/tinydir")
    t.file(b"/inline/tinydir/a", b"a\n")
    t.symlink(b"/inline/tinydir/l", b"a")
    t.dir(b"/inline/emptydir")
    t.dir(b"/inline/fulldir")  # 4 + 4 * 12 bytes of entries: still in i_block
    for i in range(4):
        t.file(b"/inline/fulldir/e%d" % i, b"%d\n" % i)
    t.dir(b"/inline/blockdir")
    for i in range(40):
        t.file(b"/inline/blockdir/entry-number-%03d" % i, b"")
    t.xattr(b"/inline/tiny", "user.with_inline", b"both")
    t.checks += [
        ("stat /inline/spill", r"Size of inline data: 111"),
        ("stat /inline/tiny", r"Size of inline data: 60"),
        ("stat /inline/tinydir", r"Size of inline data: 60"),
        ("stat /inline/fulldir", r"Size of inline data: 60"),
        ("stat /inline/blockdir", r"EXTENTS"),
    ]
    t.cover(
        "inline files (in i_block, spilling into system.data, 60 bytes exactly)",
        "inline directories (in i_block, empty)",
        "directory grown out of inline into a block",
        "inline file with a user xattr",
    )


def t_bigalloc(t: Tree) -> None:
    kit_basic(t)
    kit_sparse(t, 4096)
    t.file(b"/clusters", blob(t.rng, 200_000))
    unwritten(t, b"/fallocated", 4096, 4, 11)


def t_hugefile(t: Tree) -> None:
    kit_basic(t)
    t.file(b"/huge", blob(t.rng, 40_000))
    t.notes[b"/huge"] = {"inode_flags": ["EXT4_HUGE_FILE_FL"]}
    t.cover("inode with EXT4_HUGE_FILE_FL (i_blocks in fs-block units)")


def post_hugefile(spec: Spec, t: Tree, img: Path) -> None:
    out = debugfs_read(img, "stat /huge")
    flags = int(re.search(r"Flags: (0x[0-9a-f]+)", out).group(1), 16)  # type: ignore[union-attr]
    count = int(re.search(r"Blockcount: (\d+)", out).group(1))  # type: ignore[union-attr]
    cmds = [
        f"sif /huge flags {flags | 0x40000:#x}",
        f"sif /huge blocks {count // (spec.block_size // 512)}",
    ]
    debugfs_write(img, cmds)
    t.debugfs += cmds


LARGEDIR_PREFIX = b"L" * 247 + b"-"
LARGEDIR_COUNT = 47_000
LARGEDIR_TARGETS = 4
LARGEDIR_BUILD_SIZE = 32 * MiB


def t_largedir(t: Tree) -> None:
    t.dir(b"/big")
    for k in range(LARGEDIR_TARGETS):
        t.file(b"/big/target%d" % k, b"large_dir hard-link target %d\n" % k)
    t.file(b"/README", b"/big holds 47,000 255-byte names: a 3-level htree\n")
    t.generated.append(
        {
            "parent": "/big",
            "name_prefix_hex": LARGEDIR_PREFIX.hex(),
            "name_format": "prefix + '%07d' % i",
            "count": LARGEDIR_COUNT,
            "targets": [f"/big/target{k}" for k in range(LARGEDIR_TARGETS)],
            "rule": "name i is a hard link to targets[i % len(targets)]",
        }
    )
    t.checks.append(("htree_dump /big", r"Indirect levels: 2"))
    t.cover(
        "large_dir: 3-level htree (dx_root indirect_levels 2), 47,004 entries, 255-byte names",
        "hard-link groups of 11,751 names",
    )


def post_largedir(spec: Spec, t: Tree, img: Path) -> None:
    """Create the hard links with the kernel (fast), then reset every time-dependent field."""
    # Kernel htree splits leave leaves ~2/3 full, so the links are made in a larger image
    # (LARGEDIR_BUILD_SIZE); e2fsck -D then packs 3 264-byte entries per 1 KiB leaf and resize2fs
    # shrinks the filesystem to spec.size. (Batches with e2fsck -D in between do not work: the
    # kernel refuses to append to a directory rehashed by e2fsck 1.47.0, "Logical block already
    # allocated" in ext4_append.)
    mnt = Path(tempfile.mkdtemp(prefix="seedmnt-"))
    try:
        run(
            [
                "mount",
                "-t",
                "ext4",
                "-o",
                "loop,noinit_itable,nodiscard,noatime",
                str(img),
                str(mnt),
            ]
        )
        try:
            big = os.fsencode(mnt / "big")
            for i in range(LARGEDIR_COUNT):
                os.link(
                    big + b"/target%d" % (i % LARGEDIR_TARGETS),
                    big + b"/" + LARGEDIR_PREFIX + b"%07d" % i,
                )
        finally:
            run(["umount", str(mnt)])
    finally:
        mnt.rmdir()
    run(["e2fsck", "-fyD", str(img)], ok=(0, 1))
    run(["resize2fs", str(img), str(spec.size // spec.block_size)])
    os.truncate(img, spec.size)
    t.debugfs.append(
        f"# resize2fs IMAGE {spec.size // spec.block_size} (built at {LARGEDIR_BUILD_SIZE} bytes)"
    )
    cmds = [
        "ssv mtime 0",
        "ssv mnt_count 0",
        'ssv last_mounted ""',
        "ssv kbytes_written 0",
        f"ssv wtime {FAKE_TIME}",
        f"ssv lastcheck {FAKE_TIME}",
    ]
    for rel in [b"/big"] + [b"/big/target%d" % k for k in range(LARGEDIR_TARGETS)]:
        cmds.append(f"sif {dbg_path(rel)} version 0")
        cmds += time_cmds(rel, t.times[rel], spec.inode_size)
    debugfs_write(img, cmds)
    reset_times(img, spec.inode_size)
    t.debugfs += ["# kernel rw mount: os.link() of the generated names (see 'generated')", *cmds]


def t_1k(t: Tree) -> None:
    kit_basic(t)
    kit_names(t)
    kit_xattrs(t)
    kit_times(t)
    t.file(b"/linktarget", b"every /htree entry is a hard link to this file\n")
    kit_htree(t, b"/htree", 420, 255, link_to=b"/linktarget")
    t.checks.append(("htree_dump /htree", r"Indirect levels: 1"))
    t.cover("2-level htree (dx_root indirect_levels 1): 420 x 255-byte names at 1 KiB blocks")


def t_2k(t: Tree) -> None:
    kit_basic(t)
    kit_specials(t)
    kit_sparse(t, 2048)
    kit_htree(t, b"/htree", 150, 60)
    unwritten(t, b"/fallocated", 2048, 3, 12)


def t_inode128(t: Tree) -> None:
    kit_basic(t)
    kit_specials(t)
    kit_xattrs(t)
    kit_names(t, depth=8)
    t.cover("128-byte inodes: no extra fields, all xattrs in EA blocks, second-resolution times")


CASEFOLD_NAMES = [
    "README",
    "Makefile",
    "ÄrgerÜber",
    "straße",
    "ΣΊΣΥΦΟΣ",
    "İstanbul",
    "MiXeD.CaSe",
    "x" * 200,
]


def t_casefold(t: Tree) -> None:
    kit_basic(t)
    t.dir(b"/cf")
    for n in CASEFOLD_NAMES:
        t.file(b"/cf/" + n.encode(), n.encode() + b"\n")
    for i in range(150):
        t.file(b"/cf/Entry-%03d-MixedCase" % i, b"")
    t.dir(b"/cf/SubDir")
    t.file(b"/cf/SubDir/Inner", b"inherits casefold\n")
    t.dir(b"/nocf")
    t.file(b"/nocf/README", b"1\n")
    t.file(b"/nocf/readme", b"2: same name modulo case, allowed outside casefold dirs\n")
    t.notes[b"/cf"] = {"inode_flags": ["EXT4_CASEFOLD_FL"]}
    t.notes[b"/cf/SubDir"] = {"inode_flags": ["EXT4_CASEFOLD_FL"]}
    t.checks.append(("htree_dump /cf", r"Hash Version: \d"))
    t.cover(
        "casefold (utf8) directories with mixed-case/Unicode names, indexed (htree)",
        "same-name-modulo-case files in a non-casefold dir",
    )


def post_casefold(spec: Spec, t: Tree, img: Path) -> None:
    cmds = []
    for rel in (b"/cf", b"/cf/SubDir"):
        out = debugfs_read(img, f"stat {dbg_path(rel)}")
        flags = int(re.search(r"Flags: (0x[0-9a-f]+)", out).group(1), 16)  # type: ignore[union-attr]
        cmds.append(f"sif {dbg_path(rel)} flags {flags | 0x40000000:#x}")
    debugfs_write(img, cmds)
    t.debugfs += cmds


def t_encrypt(t: Tree) -> None:
    kit_basic(t)
    kit_specials(t)
    t.cover("encrypt feature flag only (no encrypted inodes: needs the kernel keyring)")


def t_ea_inode(t: Tree) -> None:
    kit_basic(t)
    kit_xattrs(t, acl=False)
    t.file(b"/eaholder", b"has a 4096-byte xattr value in an EA inode\n")
    t.file(b"/eaholder2", b"two large values in EA inodes\n")
    t.cover("ea_inode: xattr values stored in their own inodes (set with debugfs ea_set -f)")


def post_ea_inode(spec: Spec, t: Tree, img: Path) -> None:
    rng = random.Random("ea_inode values")
    values = {
        # debugfs 1.47.0 "ea_set -f" reads at most one block of the file: 4096-byte values (too big
        # for the 4 KiB EA block, so they still go to EA inodes)
        (b"/eaholder", "user.huge"): blob(rng, 4096),
        (b"/eaholder2", "user.huge1"): blob(rng, 4096),
        (b"/eaholder2", "trusted.huge2"): blob(rng, 4096),
    }
    cmds = []
    with tempfile.TemporaryDirectory() as td:
        for i, ((rel, name), value) in enumerate(values.items()):
            vf = Path(td) / f"v{i}"
            vf.write_bytes(value)
            cmds.append(
                (
                    f"ea_set -f {vf} {dbg_path(rel)} {name}",
                    f"ea_set -f <{len(value)}-byte value, "
                    f"sha256 {hashlib.sha256(value).hexdigest()}>"
                    f" {dbg_path(rel)} {name}",
                )
            )
            t.extra_xattrs.setdefault(rel, {})[name] = value
        debugfs_write(img, [c for c, _ in cmds])
    t.debugfs += [shown for _, shown in cmds]
    # debugfs 1.47.0 ea_set does not add the new EA block to the holder's i_blocks; e2fsck fixes it
    run(["e2fsck", "-fy", str(img)], ok=(0, 1))
    t.debugfs.append("# e2fsck -fy IMAGE (fixes i_blocks of the EA-block holders after ea_set)")
    t.checks.append(("stat /eaholder", r"user\.huge \(4096\)"))


def nojournal(feats: str) -> str:
    return features(feats, remove="has_journal")


SPECS: list[Spec] = [
    Spec(
        "ext2_1k",
        1 * MiB,
        1024,
        128,
        128,
        BASE,
        t_ext2_1k,
        covers=["ext2 (no journal, no extents)", "1 KiB blocks, 128-byte inodes"],
    ),
    Spec(
        "ext3_journal",
        3 * MiB,
        1024,
        256,
        128,
        BASE + ",has_journal",
        t_ext3,
        extra=["-J", "size=1"],
        covers=["ext3: has_journal (1 MiB jbd2 journal), indirect block maps, 1 KiB blocks"],
    ),
    Spec(
        "ext4_default",
        8 * MiB,
        4096,
        256,
        512,
        EXT4_DEFAULT,
        t_default,
        rehash=True,
        covers=["full default ext4 feature set, 4 KiB blocks, 4 MiB journal"],
    ),
    Spec(
        "ext4_nojournal",
        1 * MiB,
        4096,
        256,
        256,
        nojournal(EXT4_DEFAULT),
        t_nojournal,
        covers=["ext4 without a journal"],
    ),
    Spec(
        "ext4_nocsum_uninit_bg",
        1 * MiB,
        4096,
        256,
        256,
        features(nojournal(EXT4_DEFAULT), add="uninit_bg", remove="metadata_csum"),
        t_uninit_bg,
        covers=["^metadata_csum with uninit_bg: crc16 group descriptor checksums (gdt_csum)"],
    ),
    Spec(
        "ext4_nocsum_32bit",
        1 * MiB,
        4096,
        256,
        256,
        features(nojournal(EXT4_DEFAULT), remove="metadata_csum,64bit"),
        t_32bit,
        covers=["no checksums at all, 32-bit group descriptors"],
    ),
    Spec(
        "ext4_meta_bg",
        5 * MiB,
        1024,
        256,
        640,
        features(nojournal(EXT4_DEFAULT), add="meta_bg", remove="resize_inode"),
        t_meta_bg,
        extra=["-g", "256"],
        covers=[
            "meta_bg (^resize_inode): 20 groups of 256 blocks = 2 meta-groups at 16 descs/block"
        ],
    ),
    Spec(
        "ext4_noflexbg",
        1 * MiB,
        1024,
        256,
        256,
        features(nojournal(EXT4_DEFAULT), remove="flex_bg"),
        t_noflexbg,
        extra=["-g", "256"],
        covers=["^flex_bg: per-group bitmaps/tables, 4 groups"],
    ),
    Spec(
        "ext4_inline",
        1 * MiB,
        1024,
        256,
        256,
        features(nojournal(EXT4_DEFAULT), add="inline_data"),
        t_inline,
        covers=["inline_data"],
    ),
    Spec(
        "ext4_bigalloc",
        4 * MiB,
        4096,
        256,
        256,
        features(nojournal(EXT4_DEFAULT), add="bigalloc", remove="resize_inode"),
        t_bigalloc,
        extra=["-C", "16384"],
        covers=["bigalloc with 16 KiB clusters (4 blocks/cluster)"],
    ),
    Spec(
        "ext4_hugefile",
        1 * MiB,
        4096,
        256,
        128,
        nojournal(EXT4_DEFAULT),
        t_hugefile,
        post=post_hugefile,
        covers=["huge_file feature"],
    ),
    Spec(
        "ext4_largedir",
        21 * MiB,
        1024,
        256,
        64,
        features(nojournal(EXT4_DEFAULT), add="large_dir"),
        t_largedir,
        rehash=True,
        post=post_largedir,
        covers=["large_dir"],
    ),
    Spec(
        "ext4_1k",
        3 * MiB,
        1024,
        256,
        512,
        EXT4_DEFAULT,
        t_1k,
        rehash=True,
        extra=["-J", "size=1"],
        covers=["default ext4 features at 1 KiB blocks, 1 MiB journal"],
    ),
    Spec(
        "ext4_2k",
        1 * MiB,
        2048,
        256,
        512,
        nojournal(EXT4_DEFAULT),
        t_2k,
        rehash=True,
        covers=["2 KiB blocks"],
    ),
    Spec(
        "ext4_inode128",
        1 * MiB,
        4096,
        128,
        256,
        features(nojournal(EXT4_DEFAULT), remove="extra_isize"),
        t_inode128,
        covers=["128-byte inodes"],
    ),
    Spec(
        "ext4_casefold",
        1 * MiB,
        1024,
        256,
        512,
        features(nojournal(EXT4_DEFAULT), add="casefold"),
        t_casefold,
        ext_opts="encoding=utf8",
        rehash=True,
        post=post_casefold,
        covers=["casefold feature, encoding utf8"],
    ),
    Spec(
        "ext4_encrypt",
        1 * MiB,
        4096,
        256,
        128,
        features(nojournal(EXT4_DEFAULT), add="encrypt"),
        t_encrypt,
        covers=["encrypt feature"],
    ),
    Spec(
        "ext4_ea_inode",
        1 * MiB,
        4096,
        256,
        128,
        features(nojournal(EXT4_DEFAULT), add="ea_inode"),
        t_ea_inode,
        post=post_ea_inode,
        covers=["ea_inode feature"],
    ),
]


# --------------------------------------------------------------------------------- debugfs


def debugfs_read(img: Path, request: str) -> str:
    return run(["debugfs", "-R", request, str(img)]).stdout.decode(errors="replace")


def debugfs_write(img: Path, cmds: list[str]) -> None:
    if not cmds:
        return
    with tempfile.NamedTemporaryFile("wb", suffix=".debugfs", delete=False) as f:
        f.write(("\n".join(cmds) + "\n").encode("utf-8", "surrogateescape"))
    try:
        p = run(["debugfs", "-w", "-f", f.name, str(img)])
    finally:
        os.unlink(f.name)
    errs = [
        ln
        for ln in p.stderr.decode(errors="replace").splitlines()
        if ln.strip() and not ln.startswith("debugfs ")
    ]
    if errs:
        raise SystemExit(f"debugfs reported errors on {img.name}:\n" + "\n".join(errs[:20]))


def time_fields(ns: int) -> tuple[int, int]:
    """(32-bit seconds field, *_extra field) of the ext4 encoding of a timestamp."""
    sec, nsec = split_ns(ns)
    lo = sec & 0xFFFFFFFF
    signed = lo - 2**32 if lo >= 2**31 else lo
    epoch = (sec - signed) >> 32
    assert 0 <= epoch <= 3
    return lo, (nsec << 2) | epoch


def time_cmds(rel: bytes, mtime_ns: int, inode_size: int) -> list[str]:
    lo, extra = time_fields(mtime_ns)
    cmds = [f"sif {dbg_path(rel)} mtime {lo:#x}"]
    if inode_size > 128:
        cmds.append(f"sif {dbg_path(rel)} mtime_extra {extra}")
    return cmds


def used_inodes(img: Path) -> list[int]:
    out = run(["dumpe2fs", str(img)]).stdout.decode()
    count = int(re.search(r"Inode count:\s+(\d+)", out).group(1))  # type: ignore[union-attr]
    free: set[int] = set()
    for m in re.finditer(r"^\s+Free inodes: ?(.*)$", out, re.M):
        for part in filter(None, (x.strip() for x in m.group(1).split(","))):
            a, _, b = part.partition("-")
            free.update(range(int(a), int(b or a) + 1))
    return [i for i in range(1, count + 1) if i not in free]


def reset_times(img: Path, inode_size: int) -> None:
    """atime/ctime of every used inode (2, 11..) to FAKE_TIME.

    mke2fs -d copies them from the source tree, where reading changes them.
    """
    cmds = []
    for ino in used_inodes(img):
        if ino == 2 or ino >= 11:
            for f in ("atime", "ctime"):
                cmds.append(f"sif <{ino}> {f} {FAKE_TIME:#x}")
                if inode_size > 128:
                    cmds.append(f"sif <{ino}> {f}_extra 0")
    debugfs_write(img, cmds)


# -------------------------------------------------------------------------------- manifest

TYPES = {
    stat.S_IFREG: "reg",
    stat.S_IFDIR: "dir",
    stat.S_IFLNK: "lnk",
    stat.S_IFCHR: "chr",
    stat.S_IFBLK: "blk",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "sock",
}

ROOT_MODE = 0o755


def manifest_entries(t: Tree) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    groups: dict[int, int] = {}
    rels: list[bytes] = []

    def walk(rel: bytes) -> None:
        for name in sorted(os.listdir(t.p(rel) if rel else t.root)):
            child = rel + b"/" + name
            rels.append(child)
            if stat.S_ISDIR(os.lstat(t.p(child)).st_mode):
                walk(child)

    walk(b"")
    entries.append(
        {
            "path": "/",
            "path_hex": b"/".hex(),
            "type": "dir",
            "mode": ROOT_MODE,
            "uid": 0,
            "gid": 0,
            "size": None,
            "mtime": FAKE_TIME,
            "mtime_ns": FAKE_TIME * 10**9,
            "xattrs": {},
            "hardlink_group": None,
        }
    )
    entries.append(
        {
            "path": "/lost+found",
            "path_hex": b"/lost+found".hex(),
            "type": "dir",
            "mode": 0o700,
            "uid": 0,
            "gid": 0,
            "size": None,
            "mtime": FAKE_TIME,
            "mtime_ns": FAKE_TIME * 10**9,
            "xattrs": {},
            "hardlink_group": None,
        }
    )
    linkcounts: dict[int, int] = {}
    for rel in rels:
        st = os.lstat(t.p(rel))
        linkcounts[st.st_ino] = linkcounts.get(st.st_ino, 0) + 1
    for rel in rels:
        st = os.lstat(t.p(rel))
        kind = TYPES[stat.S_IFMT(st.st_mode)]
        e: dict[str, object] = {
            "path": os.fsdecode(rel),
            "path_hex": rel.hex(),
            "type": kind,
            "mode": stat.S_IMODE(st.st_mode),
            "uid": st.st_uid,
            "gid": st.st_gid,
            "size": None if kind == "dir" else st.st_size,
            "mtime": st.st_mtime_ns // 10**9,
            "mtime_ns": st.st_mtime_ns,
        }
        if kind == "lnk":
            e["target"] = os.fsdecode(os.readlink(t.p(rel)))
            e["target_hex"] = os.readlink(t.p(rel)).hex()
        if kind in ("chr", "blk"):
            e["rdev_major"], e["rdev_minor"] = os.major(st.st_rdev), os.minor(st.st_rdev)
        if kind == "reg":
            h = hashlib.sha256()
            with open(t.p(rel), "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            e["sha256"] = h.hexdigest()
        xa: dict[str, str] = {}
        if kind != "lnk":
            for name in sorted(os.listxattr(t.p(rel), follow_symlinks=False)):
                xa[name] = os.getxattr(t.p(rel), name, follow_symlinks=False).hex()
        for name, value in t.extra_xattrs.get(rel, {}).items():
            xa[name] = value.hex()
        e["xattrs"] = dict(sorted(xa.items()))
        grouped = kind != "dir" and (
            linkcounts[st.st_ino] > 1
            or any(
                g["targets"] and rel in [os.fsencode(x) for x in g["targets"]]  # type: ignore[union-attr]
                for g in t.generated
            )
        )
        e["hardlink_group"] = groups.setdefault(st.st_ino, len(groups)) if grouped else None
        e.update(t.notes.get(rel, {}))
        entries.append(e)
    return entries


# ----------------------------------------------------------------------------------- build


def mke2fs_argv(spec: Spec, img: str, src: str) -> list[str]:
    u = uuid.uuid5(UUID_NS, spec.name)
    h = uuid.uuid5(UUID_NS, spec.name + "/hash_seed")
    eopts = f"hash_seed={h},root_owner=0:0,nodiscard,lazy_itable_init=0,lazy_journal_init=0"
    if spec.ext_opts:
        eopts += "," + spec.ext_opts
    size = LARGEDIR_BUILD_SIZE if spec.name == "ext4_largedir" else spec.size
    return [
        "mke2fs",
        "-q",
        "-F",
        "-t",
        "ext4",
        "-O",
        "none," + spec.feats,
        "-b",
        str(spec.block_size),
        "-I",
        str(spec.inode_size),
        "-N",
        str(spec.inodes),
        "-m",
        "0",
        "-U",
        str(u),
        "-E",
        eopts,
        *spec.extra,
        "-d",
        src,
        img,
        str(size // spec.block_size),
    ]


def build(spec: Spec, outdir: Path, log: Callable[[str], None]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"seed-{spec.name}-") as td:
        src = Path(td) / "src"
        src.mkdir()
        t = Tree(src, spec.name, spec.inode_size)
        spec.tree(t)
        t.finalize()
        img = Path(td) / f"{spec.name}.img"
        img.touch()
        os.truncate(img, LARGEDIR_BUILD_SIZE if spec.name == "ext4_largedir" else spec.size)
        argv = mke2fs_argv(spec, str(img), str(src))
        run(argv)
        reset_times(img, spec.inode_size)
        # times mke2fs -d cannot copy (ns, > 2038, root) and spec debugfs commands
        cmds = [f"sif / mtime {FAKE_TIME:#x}", *list(t.debugfs)]
        for rel in sorted(t.times):
            ns = t.times[rel]
            if ns % 10**9 or ns >= 2**31 * 10**9:
                cmds += time_cmds(rel, ns, spec.inode_size)
        debugfs_write(img, cmds)
        t.debugfs = cmds
        if spec.post:
            spec.post(spec, t, img)
        if spec.rehash:
            run(["e2fsck", "-fyD", str(img)], ok=(0, 1))
        p = run(["e2fsck", "-fn", str(img)], ok=(0, 1, 2, 4, 8))
        if p.returncode != 0:
            raise SystemExit(f"{spec.name}: e2fsck -fn exit {p.returncode}\n{p.stdout.decode()}")
        for request, pattern in t.checks:
            out = debugfs_read(img, request)
            if not re.search(pattern, out):
                raise SystemExit(
                    f"{spec.name}: check failed: debugfs {request!r} !~ {pattern!r}\n{out[:2000]}"
                )
        hdr = run(["dumpe2fs", "-h", str(img)]).stdout.decode()
        feats = re.search(r"Filesystem features:\s+(.*)", hdr).group(1).split()  # type: ignore[union-attr]
        raw = img.read_bytes()
        entries = manifest_entries(t)
        xz = lzma.compress(raw, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=XZ_PRESET)
        (outdir / f"{spec.name}.img.xz").write_bytes(xz)
        manifest = {
            "image": f"{spec.name}.img.xz",
            "size": len(raw),
            "sha256_raw": hashlib.sha256(raw).hexdigest(),
            "xz_size": len(xz),
            "mke2fs": [("SRC" if a == str(src) else "IMAGE" if a == str(img) else a) for a in argv],
            "debugfs": t.debugfs,
            "rehash": spec.rehash,
            "features": feats,
            "block_size": spec.block_size,
            "inode_size": spec.inode_size,
            "uuid": str(uuid.uuid5(UUID_NS, spec.name)),
            "fake_time": FAKE_TIME,
            "covers": spec.covers + t.covers,
            "generated": t.generated,
            "entries": entries,
        }
        (outdir / f"{spec.name}.json").write_text(
            json.dumps(manifest, indent=1, ensure_ascii=True) + "\n"
        )
        log(
            f"{spec.name:24s} raw {len(raw) / MiB:5.1f} MiB  xz {len(xz) / 1024:7.1f} KiB  "
            f"sha256 {manifest['sha256_raw'][:16]}  {len(entries)} entries"
        )
        return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--only", action="append", metavar="NAME", help="build only this image (repeatable)"
    )
    ap.add_argument(
        "--check",
        action="store_true",
        help="rebuild into a temp dir and compare sha256 with the committed manifests",
    )
    ap.add_argument(
        "--out", type=Path, default=SEEDS, help="output directory (default corpus/seeds)"
    )
    ap.add_argument("--list", action="store_true", help="list image names")
    a = ap.parse_args(argv)
    if a.list:
        print("\n".join(s.name for s in SPECS))
        return 0
    names = {s.name for s in SPECS}
    for n in a.only or []:
        if n not in names:
            ap.error(f"unknown image {n!r}; known: {', '.join(sorted(names))}")
    specs = [s for s in SPECS if not a.only or s.name in a.only]
    if os.geteuid() != 0:
        print(
            "build_seeds.py needs root (device nodes, chown, the large_dir loop mount)",
            file=sys.stderr,
        )
        return 2
    if a.check:
        drift = 0
        with tempfile.TemporaryDirectory(prefix="seedcheck-") as td:
            for s in specs:
                m = build(s, Path(td), lambda msg: print(msg, flush=True))
                ref = json.loads((SEEDS / f"{s.name}.json").read_text())
                same_img = m["sha256_raw"] == ref["sha256_raw"]
                same_man = (Path(td) / f"{s.name}.json").read_text() == (
                    SEEDS / f"{s.name}.json"
                ).read_text()
                if not (same_img and same_man):
                    drift += 1
                    print(
                        f"DRIFT {s.name}: image {'same' if same_img else 'DIFFERS'}, manifest "
                        f"{'same' if same_man else 'DIFFERS'}",
                        flush=True,
                    )
        print("check: " + ("OK, all byte-identical" if not drift else f"{drift} image(s) drifted"))
        return 1 if drift else 0
    a.out.mkdir(parents=True, exist_ok=True)
    for s in specs:
        build(s, a.out, lambda msg: print(msg, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
