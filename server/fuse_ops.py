"""The FUSE operations of `ext4guard mount`: a read-only ext4 served from the parser.

Every handler is one bounded parser call or a cache hit (the facade gives each call its own
`Budget`; the data path is `server.iomap`). The image is read-only, so entries and attributes
are given long timeouts and open files `keep_cache`: rereads and repeated stats are answered
by the kernel's caches and never reach this process.

Inode numbers: FUSE's root is node 1, ext4's is inode 2; every other node id IS the ext4 inode
number, so `st_ino` is ext4's (the root reports 2) and hard links share it. Reserved inodes
(1, 3..first_ino-1) are never handed out: a directory entry naming one is corrupt, as the
kernel's `ext4_iget()` says.

Directories: a listing starts with `.` and `..` as the kernel's ext4 readdir gives them (the
numbers stored on disk; the root's `..` is the root), then every entry with its attributes
(readdirplus: `find` and `tar` do no lookup per entry). Listings are kept for directories
listed again, and a directory's names are indexed once it is listed or looked up in often,
so that stat of many names is a dict probe and an inode read, not an htree search each.

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

from ext4guard.parser.cache import LruCache
from ext4guard.parser.dirent import (
    DirContext,
    DirEntry,
    is_casefolded,
    read_dir_block,
    read_inline_dir,
)
from ext4guard.parser.dirhash import name_key
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
#: Names kept over all indexed directories (a directory over a quarter of it is not indexed).
NAME_INDEX_ENTRIES = 1 << 18
#: Directories whose parent is remembered.
DIRECTORY_NOTES = 1 << 14

_FUSE_ROOT = 1
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


class NameIndex:
    """The names of one directory -> inode numbers; `complete` when the listing met no damage
    (a name absent from a complete index does not exist). In a casefolded directory the keys
    are the folded names (`folded`): names match as the kernel's utf8 casefolding says."""

    __slots__ = ("complete", "folded", "names")

    def __init__(self, names: dict[bytes, int], complete: bool, folded: bool) -> None:
        self.names = names
        self.complete = complete
        self.folded = folded

    def get(self, name: bytes) -> int | None:
        return self.names.get(name_key(name, self.folded))


def _names_of(entries: Sequence[DirEntry], folded: bool) -> dict[bytes, int]:
    """name -> inode; a name listed twice (a damaged directory) keeps its first entry, the
    one the parser's own search finds first."""
    names: dict[bytes, int] = {}
    for entry in entries:
        names.setdefault(name_key(entry.name, folded), entry.inode)
    return names


def _negative() -> pyfuse3.EntryAttributes:
    """A negative entry, cached by the kernel for the entry timeout."""
    negative = pyfuse3.EntryAttributes()
    negative.st_ino = 0
    return negative


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
        self._negative = _negative()
        self._negative.entry_timeout = timeout
        self.first_ino = max(fs.superblock.first_ino, ROOT_INO + 1)
        self._files: dict[int, Inode] = {}
        self._dirs: dict[int, Listing] = {}
        self._listings: OrderedDict[int, Listing] = OrderedDict()
        self._listed_entries = 0
        self._next_fh = 1
        self._xattrs: LruCache[int, dict[bytes, bytes]] = LruCache(XATTR_CACHE_SIZE)
        self._indexes: OrderedDict[int, NameIndex] = OrderedDict()
        self._indexed_names = 0
        #: directory -> the directory it was reached from (`..` when the disk cannot say)
        self._parents: LruCache[int, int] = LruCache(DIRECTORY_NOTES)

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

    def _child_ino(self, ino: int, name: bytes, parent: int) -> int:
        if ino != ROOT_INO and ino < self.first_ino:
            raise ReservedInode(
                f"entry {name!r} of directory {parent} names reserved inode {ino}",
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
        if inode.file_type == "unknown":  # i_mode's type bits name no file type
            raise UnknownFileType(
                f"i_mode 0o{inode.mode:o} has no file type", Where(inode=inode.ino)
            )
        attr = pyfuse3.EntryAttributes()
        attr.st_ino = inode.ino if node is None else node
        attr.generation = inode.generation
        attr.entry_timeout = self.timeout
        attr.attr_timeout = self.timeout
        attr.st_mode = inode.mode  # type bits and permissions, as stat(2) wants them
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
        index = self._indexes.get(parent)
        if index is None:
            index = self._index(parent)
        else:
            self._indexes.move_to_end(parent)
        found = None if index is None else index.get(name)
        if found is None:
            if index is not None and index.complete:
                return self._negative
            try:
                found = self.fs.lookup_in(parent, name)
            except NotFound:
                return self._negative
        ino = self._child_ino(found, name, parent)
        inode = self.fs.inode(ino)
        if inode.is_dir:
            self._parents.put(ino, parent)
        return self.attributes(inode, self._node(ino))

    def _index(self, ino: int) -> NameIndex | None:
        """Index the names of directory `ino`, from one listing, at its first lookup: from
        then on a lookup is a dict probe (`stat` of many names of a big directory costs no
        htree search each), and lookup and readdir answer from the same listing, whatever
        came first: on a damaged htree the hash search may miss a name the listing has (a
        leaf the index no longer reaches), and a name must not be ENOENT before a readdir
        and found after it. None when not possible: not a directory, a listing that fails, a
        directory so big that it would push out every other one; the parser searches those.
        A listing that met damage gives an incomplete index: names not in it are still
        searched by the parser."""
        try:
            directory = self.fs.inode(ino)
            if not directory.is_dir:
                return None
            if directory.size > NAME_INDEX_ENTRIES // 4 * 8:  # at least 8 bytes per dirent
                return None
            entries, findings = self.fs.iterdir(ino)
        except Ext4Error:
            return None  # the parser's own lookup gives this request its answer
        for finding in findings:
            self.log.report(finding)
        return self._keep_index(ino, entries, not findings)

    def _keep_index(
        self, ino: int, entries: Sequence[DirEntry], complete: bool
    ) -> NameIndex | None:
        if len(entries) > NAME_INDEX_ENTRIES // 4:
            return None
        folded = is_casefolded(self.fs.superblock, self.fs.inode(ino))  # inode: cached
        names = _names_of(entries, folded)
        old = self._indexes.pop(ino, None)
        if old is not None:
            self._indexed_names -= len(old.names)
        index = NameIndex(names, complete, folded)
        self._indexes[ino] = index
        self._indexed_names += len(names)
        while self._indexed_names > NAME_INDEX_ENTRIES:
            _ino, dropped = self._indexes.popitem(last=False)
            self._indexed_names -= len(dropped.names)
        return index

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
            listing = [
                (b".", self._dot(ino)),
                (b"..", self._dot(self._parent_of(ino))),
                *[(e.name, self._entry_attributes(ino, e)) for e in entries],
            ]
            self._keep_listing(ino, listing)
            self._keep_index(ino, entries, not findings)
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
        reply = pyfuse3.readdir_reply
        for index in range(start_id, len(listing)):
            name, attr = listing[index]
            if not reply(token, name, attr, index + 1):
                return

    @staticmethod
    def _dot(ino: int) -> pyfuse3.EntryAttributes:
        """`.` or `..` naming directory `ino`: the kernel takes only the inode number (d_ino)
        and the type from these entries, it never looks them up (fuse_direntplus_link)."""
        attr = pyfuse3.EntryAttributes()
        attr.st_ino = ino  # ext4's number, as the kernel's readdir gives it (the root: 2)
        attr.st_mode = stat.S_IFDIR
        return attr

    def _parent_of(self, ino: int) -> int:
        """The inode `..` names, as the kernel's ext4 readdir lists it: the parent stored in
        an inline directory's i_block, else the `..` entry of block 0 (a dx_root starts with
        the same two entries). When the disk cannot say, the directory it was reached from;
        the root's `..` is the root."""
        if ino == ROOT_INO:
            return ROOT_INO
        where = Where(inode=ino)
        parent = 0
        try:
            inode = self.fs.inode(ino)
            ctx = DirContext.for_inode(self.fs.superblock, inode)
            if inode.has_inline_data:
                parent, _ = read_inline_dir(inode.i_block, ctx, where)
            else:
                first = read_dir_block(self.fs.read(ino, 0, self.block_size), ctx, where)
                dots = [e.inode for e in first.entries[:2] if e.name == b".."]
                parent = dots[0] if dots else 0
        except Ext4Error as exc:
            self.log.report(exc)
        if not 0 < parent <= self.fs.superblock.inodes_count:
            parent = self._parents.get(ino) or ino
        return parent

    def _entry_attributes(self, parent: int, entry: DirEntry) -> pyfuse3.EntryAttributes:
        """Attributes for readdirplus; an entry whose inode cannot be read is listed by name
        only (node 0: the kernel looks it up on use, and that lookup fails with EIO)."""
        try:
            ino = self._child_ino(entry.inode, entry.name, parent)
            inode = self.fs.inode(ino)
            if inode.is_dir:
                self._parents.put(ino, parent)
            return self.attributes(inode, self._node(ino))
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
        # pyfuse3 takes any buffer: a bytearray goes to the kernel without a copy.
        try:
            return self.iomap.read(inode, off, size)  # type: ignore[return-value]
        except Ext4Error as exc:  # as _serve does, without its call on every read
            self.log.report(exc)
            raise pyfuse3.FUSEError(errno_of(exc)) from None
        except MemoryError:
            raise pyfuse3.FUSEError(errno.ENOMEM) from None

    async def release(self, fh: int) -> None:
        self._files.pop(fh, None)

    async def flush(self, fh: int) -> None:
        # Nothing to flush on a read-only mount; ENOSYS once and the kernel stops sending
        # FLUSH on every close (fc->no_flush): one request fewer per file opened.
        raise pyfuse3.FUSEError(errno.ENOSYS)

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
