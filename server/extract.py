"""`ext4guard extract`: copy a tree out of an image without ever writing outside DEST.

Two halves, so that the parsing half can run contained and the writing half never parses:
`plan()` reads the image and yields plain operations (make a directory, a file's bytes, a
symlink, a hard link, attributes); `apply()` carries them out under DEST. Every write is made
relative to an already-open directory fd with O_NOFOLLOW, names are checked to be single
path components, and symlinks are created as links, never followed: a hostile image cannot
name a path outside DEST, and a symlink it plants cannot redirect a later write.
"""

from __future__ import annotations

import errno
import os
import stat as stat_module
from collections.abc import Iterator
from dataclasses import dataclass, field

from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import Inode
from ext4guard.parser.mapping import Mapping, MappingKind

CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Attrs:
    mode: int
    uid: int
    gid: int
    atime_ns: int
    mtime_ns: int
    xattrs: tuple[tuple[bytes, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Op:
    """One step of an extraction. `path` is relative to DEST, components joined by b"/"."""

    kind: str  # "dir", "file", "data", "end", "symlink", "link", "device", "skip"
    path: bytes
    attrs: Attrs | None = None
    data: bytes = b""
    offset: int = 0
    size: int = 0
    target: bytes = b""
    device: tuple[int, int, str] | None = None  # (major, minor, "chr" | "blk" | "fifo" | "sock")
    reason: str = ""


@dataclass(slots=True)
class Report:
    written: int = 0
    skipped: list[tuple[bytes, str]] = field(default_factory=list)
    findings: list[Ext4Error] = field(default_factory=list)


def _attrs(fs: Filesystem, inode: Inode) -> Attrs:
    xattrs = tuple(sorted(fs.xattrs(inode.ino).items()))
    return Attrs(inode.permissions, inode.uid, inode.gid, inode.atime_ns, inode.mtime_ns, xattrs)


def plan(fs: Filesystem, top: bytes, *, devices: bool) -> Iterator[Op | Ext4Error]:
    """The operations that recreate the tree below `top`; damage is yielded in line."""
    prefix = top.rstrip(b"/")
    first_path: dict[int, bytes] = {}  # inode -> first relative path: hard links
    yield Op("dir", b"", attrs=_attrs(fs, fs.stat(fs.lookup(top))))
    for item in fs.walk(top):
        if isinstance(item, Ext4Error):
            yield item
            continue
        path, entry = item
        rel = path[len(prefix) + 1 :]
        try:
            inode = fs.stat(entry.inode)
            if inode.file_type != "dir" and entry.inode in first_path:
                yield Op("link", rel, target=first_path[entry.inode])
                continue
            attrs = _attrs(fs, inode)
            if inode.file_type == "dir":
                yield Op("dir", rel, attrs=attrs)
            elif inode.file_type == "reg":
                # Mapped before the file is created: a file whose map is damaged is skipped
                # whole rather than left half-made.
                data = _file_data(
                    fs, entry.inode, inode.size, rel, fs.iomap(entry.inode, 0, inode.size)
                )
                first_path[entry.inode] = rel
                yield Op("file", rel, attrs=attrs, size=inode.size)
                yield from data
                yield Op("end", rel, attrs=attrs)
            elif inode.file_type == "lnk":
                first_path[entry.inode] = rel
                yield Op("symlink", rel, attrs=attrs, target=fs.readlink(entry.inode))
            elif devices or inode.file_type in ("fifo", "sock"):
                first_path[entry.inode] = rel
                major, minor = inode.rdev
                yield Op("device", rel, attrs=attrs, device=(major, minor, inode.file_type))
            else:
                yield Op("skip", rel, reason="device node (use --devices)")
        except Ext4Error as exc:
            yield exc
            yield Op("skip", rel, reason=f"unreadable: {exc.code}")


def _file_data(
    fs: Filesystem, ino: int, size: int, rel: bytes, mappings: list[Mapping]
) -> Iterator[Op]:
    """A file's bytes in chunks, holes and unwritten ranges left out (the file stays sparse)."""
    block_size = fs.superblock.block_size
    for mapping in mappings:
        if mapping.kind in (MappingKind.HOLE, MappingKind.UNWRITTEN):
            continue
        start = mapping.logical_block * block_size
        end = min(mapping.logical_end * block_size, size)
        for offset in range(start, end, CHUNK):
            data = fs.read(ino, offset, min(CHUNK, end - offset))
            yield Op("data", rel, data=data, offset=offset)


def _valid_component(name: bytes) -> bool:
    return name not in (b"", b".", b"..") and b"/" not in name and b"\0" not in name


class _Writer:
    """Applies operations under DEST through directory fds; owns every fd it opens."""

    def __init__(self, dest: str, *, owners: bool) -> None:
        self.xattr_failures: list[tuple[bytes, str]] = []
        os.makedirs(dest, exist_ok=True)
        self.root = os.open(dest, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.owners = owners
        self.dirs: dict[bytes, int] = {b"": self.root}
        self.dir_attrs: list[tuple[bytes, Attrs]] = []
        self.file_fd = -1

    def close(self) -> None:
        if self.file_fd >= 0:
            os.close(self.file_fd)
        for fd in self.dirs.values():
            os.close(fd)
        self.dirs.clear()

    def parent(self, rel: bytes) -> tuple[int, bytes]:
        """(fd of the parent directory, last component); the parent was created earlier."""
        # Directories enter self.dirs only after their own name passed this check, so
        # checking the last component checks the whole path.
        head, _, name = rel.rpartition(b"/")
        if not _valid_component(name):
            raise OSError(errno.EINVAL, "unsafe name")
        fd = self.dirs.get(head)
        if fd is None:
            raise OSError(errno.ENOENT, "parent directory was not extracted")
        return fd, name

    def set_xattrs(self, rel: bytes, fd: int, attrs: Attrs) -> None:
        """Extended attributes (ACLs included) of a file or directory, set through its fd.
        One that cannot be set (not root, a namespace DEST refuses) is reported; the rest are
        still set. Linux keeps user.* off symlinks and device nodes, so only these carry them."""
        for name, value in attrs.xattrs:
            try:
                os.setxattr(fd, name, value)
            except OSError as exc:
                label = name.decode("utf-8", "backslashreplace")
                self.xattr_failures.append((rel, f"xattr {label}: {exc.strerror}"))

    def set_attrs(self, name: bytes, parent_fd: int, attrs: Attrs) -> None:
        if self.owners:
            os.chown(name, attrs.uid, attrs.gid, dir_fd=parent_fd, follow_symlinks=False)
        os.utime(name, ns=(attrs.atime_ns, attrs.mtime_ns), dir_fd=parent_fd, follow_symlinks=False)

    def apply(self, op: Op) -> None:
        if op.kind == "dir" and op.path == b"":
            assert op.attrs is not None
            self.dir_attrs.append((b"", op.attrs))
            return
        parent_fd, name = self.parent(op.path)
        if op.kind == "dir":
            os.mkdir(name, 0o700, dir_fd=parent_fd)
            flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
            self.dirs[op.path] = os.open(name, flags, dir_fd=parent_fd)
            assert op.attrs is not None
            self.dir_attrs.append((op.path, op.attrs))
        elif op.kind == "file":
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            self.file_fd = os.open(name, flags, 0o600, dir_fd=parent_fd)
            os.ftruncate(self.file_fd, op.size)
        elif op.kind == "data":
            os.pwrite(self.file_fd, op.data, op.offset)
        elif op.kind == "end":
            assert op.attrs is not None
            self.set_xattrs(op.path, self.file_fd, op.attrs)
            os.fchmod(self.file_fd, op.attrs.mode)
            if self.owners:
                os.fchown(self.file_fd, op.attrs.uid, op.attrs.gid)
                os.fchmod(self.file_fd, op.attrs.mode)  # chown clears setuid/setgid
            os.utime(self.file_fd, ns=(op.attrs.atime_ns, op.attrs.mtime_ns))
            os.close(self.file_fd)
            self.file_fd = -1
        elif op.kind == "symlink":
            os.symlink(op.target, name, dir_fd=parent_fd)
            assert op.attrs is not None
            self.set_attrs(name, parent_fd, op.attrs)
        elif op.kind == "link":
            target_fd, target_name = self.parent(op.target)
            os.link(target_name, name, src_dir_fd=target_fd, dst_dir_fd=parent_fd)
        elif op.kind == "device":
            assert op.attrs is not None and op.device is not None
            major, minor, kind = op.device
            type_bits = {
                "chr": stat_module.S_IFCHR,
                "blk": stat_module.S_IFBLK,
                "fifo": stat_module.S_IFIFO,
                "sock": stat_module.S_IFSOCK,
            }[kind]
            os.mknod(name, type_bits | 0o600, os.makedev(major, minor), dir_fd=parent_fd)
            os.chmod(name, op.attrs.mode, dir_fd=parent_fd)
            self.set_attrs(name, parent_fd, op.attrs)

    def finish(self) -> None:
        """Directory modes and times last, deepest first: children no longer change them."""
        for rel, attrs in reversed(self.dir_attrs):
            fd = self.dirs[rel]
            self.set_xattrs(rel, fd, attrs)
            if self.owners:
                os.fchown(fd, attrs.uid, attrs.gid)
            os.fchmod(fd, attrs.mode)
            os.utime(fd, ns=(attrs.atime_ns, attrs.mtime_ns))


def apply(ops: Iterator[Op | Ext4Error], dest: str, *, owners: bool) -> Report:
    """Carry out `ops` under `dest`; what cannot be written is reported, not fatal."""
    report = Report()
    writer = _Writer(dest, owners=owners)
    failed_file: bytes | None = None
    try:
        for op in ops:
            if isinstance(op, Ext4Error):
                report.findings.append(op)
                continue
            if op.kind == "skip":
                report.skipped.append((op.path, op.reason))
                if writer.file_fd >= 0:  # a read failed midway: the partial file is reported
                    os.close(writer.file_fd)
                    writer.file_fd = -1
                continue
            if op.path == failed_file and op.kind in ("data", "end"):
                continue
            try:
                writer.apply(op)
            except OSError as exc:
                report.skipped.append((op.path, f"cannot write: {exc.strerror}"))
                if op.kind in ("file", "data", "end"):
                    failed_file = op.path
                    if writer.file_fd >= 0:
                        os.close(writer.file_fd)
                        writer.file_fd = -1
                continue
            if op.kind in ("dir", "end", "symlink", "link", "device"):
                report.written += 1
        writer.finish()
        report.skipped.extend(writer.xattr_failures)
    finally:
        writer.close()
    return report
