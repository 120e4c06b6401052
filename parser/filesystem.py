"""The `Filesystem` facade: the one entry point the CLI, the FUSE server and the fuzzers use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Self

from .blocks import BlockReader
from .budget import Budget
from .cache import LruCache
from .directory import BlockNames, find_entry, list_directory
from .dirent import DirEntry
from .errors import (
    Corruption,
    DirectoryCycle,
    Ext4Error,
    InvalidRequest,
    NotADirectory,
    NotFound,
    Unsupported,
    Where,
)
from .extents import ExtentNode, ExtentNodeKey
from .group_desc import GroupDesc, read_group_desc
from .htree import DxNode
from .image import Image
from .inode import (
    FL_ENCRYPT,
    FL_VERITY,
    ROOT_INO,
    Inode,
    InodeSizeInvalid,
    inode_location,
    read_inode,
)
from .mapping import Mapping, ReadWindow, file_mappings, read_file
from .superblock import Superblock, read_superblock
from .xattr import visible_xattrs

_FT_DIR = 2  # EXT4_FT_DIR, the dirent's type byte for directories


class SymlinkInvalid(Corruption):
    code = "symlink_invalid"


GROUP_CACHE_SIZE = 1024
INODE_CACHE_SIZE = 4096
ITABLE_CACHE_BYTES = 4 << 20
EXTENT_NODE_CACHE_SIZE = 1024
DX_NODE_CACHE_SIZE = 256
DENTRY_CACHE_SIZE = 8192
DIR_BLOCK_CACHE_BYTES = 1 << 20


class Filesystem:
    """A read-only ext4 filesystem on an image; every method raises only `Ext4Error`."""

    __slots__ = (
        "_dentries",
        "_groups",
        "_inodes",
        "_itable",
        "blocks",
        "dir_names",
        "dx_nodes",
        "extent_nodes",
        "image",
        "read_window",
        "superblock",
    )

    def __init__(self, image: Image) -> None:
        self.image = image
        self.superblock: Superblock = read_superblock(image)
        self.blocks = BlockReader(image, self.superblock)
        # Verified records, bounded: the image is read-only to us, so a record verified once
        # stays the answer for this open (DESIGN.md checklist 9: one read per answer).
        self._groups: LruCache[int, GroupDesc] = LruCache(GROUP_CACHE_SIZE)
        self._inodes: LruCache[int, Inode] = LruCache(INODE_CACHE_SIZE)
        # Inode-table blocks: a walk stats neighbours that share blocks (4 MiB of blocks).
        self._itable: LruCache[int, bytes] = LruCache(
            max(64, ITABLE_CACHE_BYTES // self.superblock.block_size)
        )
        self.extent_nodes: LruCache[ExtentNodeKey, ExtentNode] = LruCache(EXTENT_NODE_CACHE_SIZE)
        self.dx_nodes: LruCache[tuple[int, int], DxNode] = LruCache(DX_NODE_CACHE_SIZE)
        # Parsed directory blocks for lookups; about 1 MiB of blocks whatever the block size.
        self.dir_names: LruCache[tuple[int, int], BlockNames] = LruCache(
            max(16, DIR_BLOCK_CACHE_BYTES // self.superblock.block_size)
        )
        # (directory inode, name) -> inode for names found: the kernel's dcache, bounded.
        self._dentries: LruCache[tuple[int, bytes], int] = LruCache(DENTRY_CACHE_SIZE)
        # The runs of the last read that stopped short of its file's end (`read_file`).
        self.read_window: ReadWindow | None = None

    @classmethod
    def open(cls, source: str | os.PathLike[str] | int) -> Self:
        """Open an image by path, or adopt an already-open read-only file descriptor."""
        image = Image(source) if isinstance(source, int) else Image.open(source)
        try:
            return cls(image)
        except Ext4Error:
            image.close()
            raise

    def close(self) -> None:
        self.image.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def group(self, group: int) -> GroupDesc:
        desc = self._groups.get(group)
        if desc is None:
            desc = read_group_desc(self.image, self.superblock, group)
            self._groups.put(group, desc)
        return desc

    def inode(self, ino: int) -> Inode:
        """Inode `ino`, read and verified."""
        inode = self._inodes.get(ino)
        if inode is None:
            group, _ = inode_location(self.superblock, ino)
            inode = read_inode(
                self.image, self.superblock, self.group(group), ino, self._table_block
            )
            self._inodes.put(ino, inode)
        return inode

    def lookup(self, path: bytes | str) -> int:
        """Inode number of an absolute path inside the image; symlinks are not followed."""
        raw = path.encode("utf-8", "surrogateescape") if isinstance(path, str) else path
        ino = ROOT_INO
        for name in (part for part in raw.split(b"/") if part):
            try:
                ino = self.lookup_in(ino, name)
            except (NotFound, NotADirectory) as exc:
                raise type(exc)(f"{raw!r}: {exc.detail}", exc.where) from None
        return ino

    def lookup_in(self, ino: int, name: bytes) -> int:
        """Inode number of entry `name` of directory `ino` (one path component; FUSE's
        lookup). Raises NotFound or NotADirectory (both Ext4Error) when there is none."""
        child = self._dentries.get((ino, name))
        if child is None:
            directory = self.inode(ino)
            if not directory.is_dir:
                raise NotADirectory(f"inode {ino} is not a directory", Where(inode=ino))
            entry = find_entry(self, directory, name, Budget())
            if entry is None:
                raise NotFound(f"no entry {name!r} in inode {ino}", Where(inode=ino))
            child = entry.inode
            self._dentries.put((ino, name), child)
        return child

    def iterdir(self, ino: int) -> tuple[list[DirEntry], list[Corruption]]:
        """The entries of directory `ino` (not `.` and `..`) and the damage met listing it."""
        directory = self.inode(ino)
        if not directory.is_dir:
            raise NotADirectory(f"inode {ino} is not a directory", Where(inode=ino))
        return list_directory(self, directory, Budget())

    #: The inode's attributes (`Inode` carries everything `stat(2)` reports).
    stat = inode

    def _content_inode(self, ino: int) -> Inode:
        """The inode, when its content can be served: encrypted (fscrypt) and verity inodes
        are listed and stat'ed, but their content is refused (no keys, no Merkle check)."""
        inode = self.inode(ino)
        if inode.flags & FL_ENCRYPT:
            raise Unsupported("encrypted inode: content needs the fscrypt key", Where(inode=ino))
        if inode.flags & FL_VERITY:
            raise Unsupported("fs-verity inode: content is not verified here", Where(inode=ino))
        # No file can hold more than 2^32 blocks (the kernel's s_maxbytes is below this):
        # a larger i_size is corrupt, and would make readers loop over nothing for ever.
        if inode.size > self.superblock.block_size << 32:
            raise InodeSizeInvalid(f"i_size {inode.size} exceeds 2^32 blocks", Where(inode=ino))
        return inode

    def readlink(self, ino: int) -> bytes:
        """A symlink's target, from i_block (fast), a data block (slow) or inline data."""
        inode = self._content_inode(ino)
        where = Where(inode=ino)
        if inode.file_type != "lnk":
            raise InvalidRequest(f"inode {ino} is not a symbolic link", where)
        if not 0 < inode.size < self.superblock.block_size:
            raise SymlinkInvalid(f"symlink target length {inode.size}", where)
        target = read_file(self, inode, 0, inode.size, Budget())
        if b"\0" in target:
            raise SymlinkInvalid("symlink target holds a NUL byte", where)
        return target

    def walk(self, top: bytes | str = b"/") -> Iterator[tuple[bytes, DirEntry] | Ext4Error]:
        """Every entry below `top`, depth first, as (path, entry); damage is yielded in line.

        An explicit stack, no recursion; a directory reached a second time (a hard-linked
        directory or a cycle through `..`-like entries) is reported and not entered again.
        """
        top_raw = top.encode("utf-8", "surrogateescape") if isinstance(top, str) else top
        root = self.lookup(top_raw)
        prefix = top_raw.rstrip(b"/")
        has_filetype = "filetype" in self.superblock.incompat
        stack: list[tuple[bytes, int]] = [(prefix, root)]
        entered: set[int] = {root}
        while stack:
            path, ino = stack.pop()
            try:
                entries, findings = self.iterdir(ino)
            except Ext4Error as exc:
                yield exc
                continue
            yield from findings
            subdirs: list[tuple[bytes, int]] = []
            for entry in entries:
                child = path + b"/" + entry.name
                yield child, entry
                if (
                    entry.file_type == _FT_DIR
                    if has_filetype
                    else self._names_directory_by_inode(entry)
                ):
                    if entry.inode in entered:
                        yield DirectoryCycle(
                            f"{child!r}: directory inode {entry.inode} reached twice",
                            Where(inode=entry.inode),
                        )
                        continue
                    entered.add(entry.inode)
                    subdirs.append((child, entry.inode))
            stack.extend(reversed(subdirs))

    def _names_directory_by_inode(self, entry: DirEntry) -> bool:
        # Without the filetype feature the dirent does not say: ask the inode.
        try:
            return self.inode(entry.inode).is_dir
        except Ext4Error:
            return False  # the caller's stat of this entry reports the damage

    def iomap(self, ino: int, offset: int, length: int) -> list[Mapping]:
        """Mappings of the file's bytes [offset, offset + length), whole blocks, in order."""
        if offset < 0 or length < 0:
            raise InvalidRequest(f"negative range {offset}+{length}", Where(inode=ino))
        block_size = self.superblock.block_size
        first = offset // block_size
        end = -(-(offset + length) // block_size)
        return file_mappings(self, self._content_inode(ino), first, end - first, Budget())

    def read(self, ino: int, offset: int, size: int) -> bytes:
        """Up to `size` bytes of inode `ino` at `offset` (short at end of file)."""
        return read_file(self, self._content_inode(ino), offset, size, Budget())

    def xattrs(self, ino: int) -> dict[bytes, bytes]:
        """Extended attributes of inode `ino` as `getxattr(2)` on a kernel mount shows them:
        full names (b"user.k", b"system.posix_acl_access"), POSIX ACLs in the VFS form."""
        return visible_xattrs(self, self.inode(ino), Budget())

    def _table_block(self, block: int, ino: int) -> bytes:
        data = self._itable.get(block)
        if data is None:
            block_size = self.superblock.block_size
            data = self.image.read(block * block_size, block_size, Where(inode=ino, block=block))
            self._itable.put(block, data)
        return data

    def groups(self) -> Iterator[GroupDesc | Ext4Error]:
        """Every group descriptor in order; a damaged one is yielded as its error."""
        for group in range(self.superblock.group_count):
            try:
                yield self.group(group)
            except Ext4Error as exc:
                yield exc
