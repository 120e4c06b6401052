"""The FUSE operations of `ext4guard mount`: a read-only ext4 served from the parser.

Every handler is one bounded parser call or a cache hit (the facade gives each call its own
`Budget`; the data path is `server.iomap`). The image is read-only, so entries and attributes
are given long timeouts and open files `keep_cache`: rereads and repeated stats are answered
by the kernel's caches and never reach this process.

Inode numbers: FUSE's root is node 1, ext4's is inode 2; every other node id IS the ext4 inode
number, so `st_ino` is ext4's (the root reports 2) and hard links share it. Reserved inodes
(1, 3..first_ino-1) are never handed out: a directory entry naming one is corrupt, as the
kernel's `ext4_iget()` says.

Faults (issue 5, section 4): a corruption met while serving a request fails that request with
EIO (ENOENT, ENOTDIR, ELOOP, EOPNOTSUPP where that is the truth), is logged once as a finding
(one JSON line), and the server goes on serving everything else. Writes fail with EROFS.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import IO, ParamSpec, TypeVar

import pyfuse3

from ext4guard.parser.budget import Budget
from ext4guard.parser.cache import LruCache
from ext4guard.parser.directory import find_entry
from ext4guard.parser.dirent import DirEntry
from ext4guard.parser.errors import (
    Corruption,
    DirectoryCycle,
    Ext4Error,
    InvalidRequest,
    NotADirectory,
    NotFound,
    Unsupported,
    Where,
)
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import ROOT_INO, Inode

from .iomap import Iomap

P = ParamSpec("P")
T = TypeVar("T")

#: Entries and attributes never change on a read-only image: let the kernel keep them.
DEFAULT_TIMEOUT = 24 * 3600.0
#: Findings remembered to log each once; past this many, further ones are only counted.
MAX_FINDINGS_KEPT = 10_000
XATTR_CACHE_SIZE = 4096
#: Listed entries (name and attributes) kept for directories listed again: pyfuse3 cannot ask
#: the kernel to cache listings (FOPEN_CACHE_DIR), so a second `find` lists every directory
#: again; from here it costs no parsing. Bounded by entries over all directories.
LISTING_CACHE_ENTRIES = 1 << 17

_FUSE_ROOT = 1
_TYPE_BITS = {
    "reg": stat.S_IFREG,
    "dir": stat.S_IFDIR,
    "lnk": stat.S_IFLNK,
    "chr": stat.S_IFCHR,
    "blk": stat.S_IFBLK,
    "fifo": stat.S_IFIFO,
    "sock": stat.S_IFSOCK,
}
#: EXT4_FT_* of a dirent as st_mode type bits (for an entry whose inode cannot be read).
_FT_MODE = {
    1: stat.S_IFREG,
    2: stat.S_IFDIR,
    3: stat.S_IFCHR,
    4: stat.S_IFBLK,
    5: stat.S_IFIFO,
    6: stat.S_IFSOCK,
    7: stat.S_IFLNK,
}


class ReservedInode(Corruption):
    """A directory entry names a reserved inode (not the root): ext4_iget() refuses those."""

    code = "dirent_reserved_inode"


class UnknownFileType(Corruption):
    code = "inode_bad_type"


def errno_of(exc: Ext4Error) -> int:
    """The errno a request met by `exc` fails with."""
    if isinstance(exc, NotFound):
        return errno.ENOENT
    if isinstance(exc, NotADirectory):
        return errno.ENOTDIR
    if isinstance(exc, DirectoryCycle):
        return errno.ELOOP
    if isinstance(exc, Unsupported):
        return errno.EOPNOTSUPP
    if isinstance(exc, InvalidRequest):
        return errno.EINVAL
    return errno.EIO  # corruption, budget exceeded, image I/O


class FindingLog:
    """Findings met while serving, each logged once as a JSON line on `stream`."""

    __slots__ = ("dropped", "seen", "stream")

    def __init__(self, stream: IO[str] | None) -> None:
        self.stream = stream
        self.seen: set[tuple[str, str, str]] = set()
        self.dropped = 0

    def report(self, exc: Ext4Error) -> None:
        key = (exc.code, str(exc.where), exc.detail)
        if key in self.seen:
            return
        if len(self.seen) >= MAX_FINDINGS_KEPT:
            self.dropped += 1
            return
        self.seen.add(key)
        kind = "unsupported" if isinstance(exc, Unsupported) else "finding"
        if self.stream is not None:
            try:
                self.stream.write(json.dumps({kind: exc.as_finding()}) + "\n")
                self.stream.flush()
            except OSError:
                self.stream = None  # the log went away: keep serving


Listing = list[tuple[bytes, pyfuse3.EntryAttributes]]


class Ext4Operations(pyfuse3.Operations):
    """pyfuse3 handlers over one `Filesystem` (opened on the image fd)."""

    supports_dot_lookup = False  # no NFS export: the kernel never asks for ".." itself
    enable_writeback_cache = False
    enable_acl = True  # the kernel enforces POSIX ACLs from system.posix_acl_* (getfacl too)

    def __init__(
        self,
        fs: Filesystem,
        *,
        log: FindingLog | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        iomap: Iomap | None = None,
        direct_io: bool = False,
    ) -> None:
        super().__init__()
        self.fs = fs
        self.iomap = iomap if iomap is not None else Iomap(fs)
        self.log = log if log is not None else FindingLog(None)
        self.timeout = timeout
        self.direct_io = direct_io
        self.block_size = fs.superblock.block_size
        self.first_ino = max(fs.superblock.first_ino, ROOT_INO + 1)
        self._files: dict[int, Inode] = {}
        self._dirs: dict[int, Listing] = {}
        self._listings: OrderedDict[int, Listing] = OrderedDict()
        self._listed_entries = 0
        self._next_fh = 1
        self._xattrs: LruCache[int, dict[bytes, bytes]] = LruCache(XATTR_CACHE_SIZE)

    # ------------------------------------------------------------------ plumbing

    def _serve(self, handler: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one request; a parser error becomes that request's errno, logged once."""
        try:
            return handler(*args, **kwargs)
        except Ext4Error as exc:
            if not isinstance(exc, NotFound | NotADirectory | InvalidRequest):
                self.log.report(exc)
            raise pyfuse3.FUSEError(errno_of(exc)) from None
        except MemoryError:
            raise pyfuse3.FUSEError(errno.ENOMEM) from None

    def _ext4_ino(self, node: int) -> int:
        if node == _FUSE_ROOT:
            return ROOT_INO
        if node < self.first_ino:
            raise InvalidRequest(f"node {node} was never handed out", Where(inode=node))
        return node

    @staticmethod
    def _node(ino: int) -> int:
        return _FUSE_ROOT if ino == ROOT_INO else ino

    def _child_ino(self, entry: DirEntry, parent: int) -> int:
        ino = entry.inode
        if ino != ROOT_INO and ino < self.first_ino:
            raise ReservedInode(
                f"entry {entry.name!r} of directory {parent} names reserved inode {ino}",
                Where(inode=parent),
            )
        return ino

    def _fh(self) -> int:
        fh = self._next_fh
        self._next_fh += 1
        return fh

    def attributes(self, inode: Inode, node: int | None = None) -> pyfuse3.EntryAttributes:
        """EntryAttributes of `inode`; `node` is the FUSE node id for entry replies (st_ino
        and the node id are one field in pyfuse3: only the root's differ)."""
        type_bits = _TYPE_BITS.get(inode.file_type)
        if type_bits is None:
            raise UnknownFileType(
                f"i_mode 0o{inode.mode:o} has no file type", Where(inode=inode.ino)
            )
        attr = pyfuse3.EntryAttributes()
        attr.st_ino = inode.ino if node is None else node
        attr.generation = inode.generation
        attr.entry_timeout = self.timeout
        attr.attr_timeout = self.timeout
        attr.st_mode = type_bits | inode.permissions
        attr.st_nlink = inode.links_count
        attr.st_uid = inode.uid
        attr.st_gid = inode.gid
        if inode.file_type in ("chr", "blk"):
            attr.st_rdev = os.makedev(*inode.rdev)
        attr.st_size = inode.size
        blocks = inode.blocks
        if inode.has_inline_data and inode.file_type == "reg":
            # ext4_file_getattr(): inline data counts as the sectors it fills, so that tar
            # and rsync do not take the file for a sparse one.
            blocks += (inode.size + 511) >> 9
        attr.st_blocks = blocks
        attr.st_blksize = self.block_size
        attr.st_atime_ns = inode.atime_ns
        attr.st_mtime_ns = inode.mtime_ns
        attr.st_ctime_ns = inode.ctime_ns
        return attr

    # ------------------------------------------------------------------ names and attributes

    async def lookup(
        self, parent_inode: int, name: bytes, ctx: pyfuse3.RequestContext
    ) -> pyfuse3.EntryAttributes:
        return self._serve(self._lookup, parent_inode, name)

    def _lookup(self, parent_node: int, name: bytes) -> pyfuse3.EntryAttributes:
        parent = self._ext4_ino(parent_node)
        directory = self.fs.inode(parent)
        if not directory.is_dir:
            raise NotADirectory(f"inode {parent} is not a directory", Where(inode=parent))
        entry = find_entry(self.fs, directory, name, Budget())
        if entry is None:
            # A negative entry, cached by the kernel for the entry timeout.
            negative = pyfuse3.EntryAttributes()
            negative.st_ino = 0
            negative.entry_timeout = self.timeout
            return negative
        ino = self._child_ino(entry, parent)
        return self.attributes(self.fs.inode(ino), self._node(ino))

    async def forget(self, inode_list: Sequence[tuple[int, int]]) -> None:
        return None  # nothing is held per node: the parser's caches are bounded on their own

    async def getattr(self, inode: int, ctx: pyfuse3.RequestContext) -> pyfuse3.EntryAttributes:
        return self._serve(self._getattr, inode)

    def _getattr(self, node: int) -> pyfuse3.EntryAttributes:
        return self.attributes(self.fs.inode(self._ext4_ino(node)))

    async def readlink(self, inode: int, ctx: pyfuse3.RequestContext) -> bytes:
        return self._serve(self._readlink, inode)

    def _readlink(self, node: int) -> bytes:
        return self.fs.readlink(self._ext4_ino(node))

    async def access(self, inode: int, mode: int, ctx: pyfuse3.RequestContext) -> bool:
        if mode & os.W_OK:
            raise pyfuse3.FUSEError(errno.EROFS)
        self._serve(self._getattr, inode)  # the node must still be readable
        return True  # permission bits and ACLs: the kernel checks them (default_permissions)

    async def statfs(self, ctx: pyfuse3.RequestContext) -> pyfuse3.StatvfsData:
        sb = self.fs.superblock
        out = pyfuse3.StatvfsData()
        out.f_bsize = sb.block_size
        out.f_frsize = sb.block_size
        out.f_blocks = sb.blocks_count
        out.f_bfree = min(sb.free_blocks_count, sb.blocks_count)
        out.f_bavail = max(0, out.f_bfree - sb.r_blocks_count)
        out.f_files = sb.inodes_count
        out.f_ffree = min(sb.free_inodes_count, sb.inodes_count)
        out.f_favail = out.f_ffree
        out.f_namemax = 255
        return out

    # ------------------------------------------------------------------ directories

    async def opendir(self, inode: int, ctx: pyfuse3.RequestContext) -> int:
        return self._serve(self._opendir, inode)

    def _opendir(self, node: int) -> int:
        ino = self._ext4_ino(node)
        listing = self._listings.get(ino)
        if listing is None:
            entries, findings = self.fs.iterdir(ino)
            for finding in findings:  # partial results: the readable entries are served
                self.log.report(finding)
            listing = [(e.name, self._entry_attributes(ino, e)) for e in entries]
            self._keep_listing(ino, listing)
        else:
            self._listings.move_to_end(ino)
        fh = self._fh()
        self._dirs[fh] = listing
        return fh

    def _keep_listing(self, ino: int, listing: Listing) -> None:
        if len(listing) > LISTING_CACHE_ENTRIES // 4:
            return  # a huge directory would push out every other one
        self._listings[ino] = listing
        self._listed_entries += len(listing)
        while self._listed_entries > LISTING_CACHE_ENTRIES:
            _ino, dropped = self._listings.popitem(last=False)
            self._listed_entries -= len(dropped)

    async def readdir(self, fh: int, start_id: int, token: pyfuse3.ReaddirToken) -> None:
        listing = self._dirs.get(fh)
        if listing is None:
            raise pyfuse3.FUSEError(errno.EBADF)
        for index in range(start_id, len(listing)):
            name, attr = listing[index]
            if not pyfuse3.readdir_reply(token, name, attr, index + 1):
                return

    def _entry_attributes(self, parent: int, entry: DirEntry) -> pyfuse3.EntryAttributes:
        """Attributes for readdirplus; an entry whose inode cannot be read is listed by name
        only (node 0: the kernel looks it up on use, and that lookup fails with EIO)."""
        try:
            ino = self._child_ino(entry, parent)
            return self.attributes(self.fs.inode(ino), self._node(ino))
        except Ext4Error as exc:
            self.log.report(exc)
        bare = pyfuse3.EntryAttributes()
        bare.st_ino = 0
        bare.st_mode = _FT_MODE.get(entry.file_type, 0)
        bare.entry_timeout = 0
        bare.attr_timeout = 0
        return bare

    async def releasedir(self, fh: int) -> None:
        self._dirs.pop(fh, None)

    # ------------------------------------------------------------------ files

    async def open(self, inode: int, flags: int, ctx: pyfuse3.RequestContext) -> pyfuse3.FileInfo:
        if flags & os.O_ACCMODE != os.O_RDONLY or flags & (os.O_TRUNC | os.O_CREAT):
            raise pyfuse3.FUSEError(errno.EROFS)
        return self._serve(self._open, inode)

    def _open(self, node: int) -> pyfuse3.FileInfo:
        inode = self.fs.inode(self._ext4_ino(node))
        if inode.is_dir:
            raise pyfuse3.FUSEError(errno.EISDIR)
        if inode.file_type != "reg":
            raise pyfuse3.FUSEError(errno.EINVAL)
        fh = self._fh()
        self._files[fh] = inode
        if self.direct_io:  # every read reaches the server (measured in bench/bench_mount.py)
            return pyfuse3.FileInfo(fh=fh, direct_io=True)
        return pyfuse3.FileInfo(fh=fh, keep_cache=True)

    async def read(self, fh: int, off: int, size: int) -> bytes:
        inode = self._files.get(fh)
        if inode is None:
            raise pyfuse3.FUSEError(errno.EBADF)
        # pyfuse3 takes any buffer: the bytearray goes to the kernel without a copy.
        return self._serve(self.iomap.read, inode, off, size)  # type: ignore[return-value]

    async def release(self, fh: int) -> None:
        self._files.pop(fh, None)

    async def flush(self, fh: int) -> None:
        return None

    async def fsync(self, fh: int, datasync: bool) -> None:
        return None

    async def fsyncdir(self, fh: int, datasync: bool) -> None:
        return None

    # ------------------------------------------------------------------ extended attributes

    def _xattr_map(self, node: int) -> dict[bytes, bytes]:
        ino = self._ext4_ino(node)
        found = self._xattrs.get(ino)
        if found is None:
            found = self.fs.xattrs(ino)
            self._xattrs.put(ino, found)
        return found

    async def getxattr(self, inode: int, name: bytes, ctx: pyfuse3.RequestContext) -> bytes:
        value = self._serve(self._xattr_map, inode).get(name)
        if value is None:
            raise pyfuse3.FUSEError(pyfuse3.ENOATTR)
        return value

    async def listxattr(self, inode: int, ctx: pyfuse3.RequestContext) -> list[bytes]:
        return list(self._serve(self._xattr_map, inode))

    # ------------------------------------------------------------------ writes: EROFS

    async def setattr(self, *args: object) -> pyfuse3.EntryAttributes:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def mknod(self, *args: object) -> pyfuse3.EntryAttributes:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def mkdir(self, *args: object) -> pyfuse3.EntryAttributes:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def unlink(self, *args: object) -> None:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def rmdir(self, *args: object) -> None:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def symlink(self, *args: object) -> pyfuse3.EntryAttributes:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def rename(self, *args: object) -> None:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def link(self, *args: object) -> pyfuse3.EntryAttributes:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def write(self, *args: object) -> int:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def create(self, *args: object) -> tuple[pyfuse3.FileInfo, pyfuse3.EntryAttributes]:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def setxattr(self, *args: object) -> None:
        raise pyfuse3.FUSEError(errno.EROFS)

    async def removexattr(self, *args: object) -> None:
        raise pyfuse3.FUSEError(errno.EROFS)
