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
from collections.abc import Iterable, Iterator
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass, field

from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inode import Inode
from ext4guard.parser.mapping import Mapping, MappingKind

from .protocol import (
    FINDING,
    Channel,
    Field,
    Finding,
    Message,
    ProtocolError,
    Spec,
    choice,
    fields,
    finding_from,
    finding_message,
    fixed_list,
    hexbytes,
    integer,
    nullable,
    obj,
    text,
)
from .worker import UsageError

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
    findings: list[Ext4Error | Finding] = field(default_factory=list)


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


class Extraction:
    """Carries out operations under DEST as they come; what cannot be written is reported,
    not fatal. `finish()` applies directory attributes; `close()` releases every fd."""

    def __init__(self, dest: str, *, owners: bool) -> None:
        self.report = Report()
        self.writer = _Writer(dest, owners=owners)
        self.failed_file: bytes | None = None

    def add(self, op: Op | Ext4Error | Finding) -> None:
        report, writer = self.report, self.writer
        if not isinstance(op, Op):
            report.findings.append(op)
            return
        if op.kind == "skip":
            report.skipped.append((op.path, op.reason))
            if writer.file_fd >= 0:  # a read failed midway: the partial file is reported
                os.close(writer.file_fd)
                writer.file_fd = -1
            return
        if op.path == self.failed_file and op.kind in ("data", "end"):
            return
        try:
            writer.apply(op)
        except OSError as exc:
            report.skipped.append((op.path, f"cannot write: {exc.strerror}"))
            if op.kind in ("file", "data", "end"):
                self.failed_file = op.path
                if writer.file_fd >= 0:
                    os.close(writer.file_fd)
                    writer.file_fd = -1
            return
        if op.kind in ("dir", "end", "symlink", "link", "device"):
            report.written += 1

    def finish(self) -> Report:
        self.writer.finish()
        self.report.skipped.extend(self.writer.xattr_failures)
        return self.report

    def close(self) -> None:
        self.writer.close()


def apply(ops: Iterable[Op | Ext4Error | Finding], dest: str, *, owners: bool) -> Report:
    """Carry out `ops` under `dest`; what cannot be written is reported, not fatal."""
    extraction = Extraction(dest, owners=owners)
    try:
        for op in ops:
            extraction.add(op)
        return extraction.finish()
    finally:
        extraction.close()


# -- contained: the child sends the plan (paths and bytes as hex, a file's data as raw
# frames); the parent checks each message and the order of a file's steps, rebuilds the
# operation, and carries it out with the dir-fd logic above. The child never writes.

_PATH = hexbytes(1 << 20)
_U32 = integer(0, (1 << 32) - 1)
_NS = integer(-(1 << 72), 1 << 72)
ATTRS = fields(mode=integer(0, 0o7777), uid=_U32, gid=_U32, atime_ns=_NS, mtime_ns=_NS)
MESSAGES: dict[str, Spec] = {
    "op": obj(
        Field("kind", choice("dir", "file", "end", "symlink", "link", "device", "skip")),
        Field("path", _PATH),
        Field("attrs", nullable(ATTRS)),
        Field("size", integer()),
        Field("target", hexbytes(1 << 20)),
        Field("device", nullable(fixed_list(_U32, _U32, choice("chr", "blk", "fifo", "sock")))),
        Field("reason", text(4096)),
    ),
    # Linux's limits: XATTR_NAME_MAX 255, XATTR_SIZE_MAX 64 KiB.
    "xattr": fields(name=hexbytes(255, min_len=1), value=hexbytes(1 << 16)),
    "data": fields(offset=integer()),
    "finding": FINDING,
}
MAX_PENDING_XATTRS = 1 << 16
MAX_PENDING_XATTR_BYTES = 64 << 20


def _send_op(channel: Channel, op: Op) -> None:
    if op.kind == "data":
        channel.send({"t": "data", "offset": op.offset})
        channel.send_bytes(op.data)
        return
    attrs = None
    if op.attrs is not None:
        for name, value in op.attrs.xattrs:
            channel.send({"t": "xattr", "name": name.hex(), "value": value.hex()})
        a = op.attrs
        attrs = {
            "mode": a.mode,
            "uid": a.uid,
            "gid": a.gid,
            "atime_ns": a.atime_ns,
            "mtime_ns": a.mtime_ns,
        }
    channel.send(
        {
            "t": "op",
            "kind": op.kind,
            "path": op.path.hex(),
            "attrs": attrs,
            "size": op.size,
            "target": op.target.hex(),
            "device": list(op.device) if op.device is not None else None,
            "reason": op.reason,
        }
    )


def produce(fd: int, top: bytes, devices: bool, channel: Channel) -> None:
    """The child's half of `extract`: the plan of the tree below `top`."""
    with Filesystem.open(fd) as fs:
        if not fs.stat(fs.lookup(top)).is_dir:
            raise UsageError(f"{os.fsdecode(top)}: not a directory")
        for op in plan(fs, top, devices=devices):
            if isinstance(op, Ext4Error):
                channel.send(finding_message(op))
            else:
                _send_op(channel, op)


class Receiver:
    """The parent's half of `extract`: checked messages become operations on `extraction`.
    A file's steps must come in order (file, its data within its size, then end or skip),
    and extended attributes only just before the operation they belong to."""

    schemas: MappingOf[str, Spec] = MESSAGES

    def __init__(self, extraction: Extraction) -> None:
        self.extraction = extraction
        self.xattrs: list[tuple[bytes, bytes]] = []
        self.xattr_bytes = 0
        self.file: tuple[bytes, int] | None = None  # (path, size) of the file being written
        self.data_offset: int | None = None  # a `data` message waits for its bytes

    def handle(self, item: Message | bytes) -> None:
        if isinstance(item, bytes):
            self._data(item)
            return
        if self.data_offset is not None:
            raise ProtocolError("a data message without its bytes")
        kind, msg = item.type, item.fields
        if kind == "finding":
            self.extraction.add(finding_from(msg))
        elif kind == "xattr":
            self.xattr_bytes += len(msg["name"]) + len(msg["value"])
            self.xattrs.append((msg["name"], msg["value"]))
            if len(self.xattrs) > MAX_PENDING_XATTRS or self.xattr_bytes > MAX_PENDING_XATTR_BYTES:
                raise ProtocolError("too many extended attributes")
        elif kind == "data":
            if self.file is None:
                raise ProtocolError("data outside a file")
            self.data_offset = msg["offset"]
        else:
            self._op(msg)

    def _data(self, data: bytes) -> None:
        if self.file is None or self.data_offset is None:
            raise ProtocolError("file bytes without a data message")
        path, size = self.file
        offset, self.data_offset = self.data_offset, None
        if offset + len(data) > size:
            raise ProtocolError("file bytes beyond the file's size")
        self.extraction.add(Op("data", path, data=data, offset=offset))

    def _op(self, msg: dict[str, object]) -> None:
        kind, path = str(msg["kind"]), msg["path"]
        assert isinstance(path, bytes)
        target = msg["target"]
        assert isinstance(target, bytes)
        raw = msg["attrs"]
        attrs = None
        if isinstance(raw, dict):
            attrs = Attrs(**raw, xattrs=tuple(self.xattrs))
        elif self.xattrs:
            raise ProtocolError("extended attributes without an operation to carry them")
        self.xattrs, self.xattr_bytes = [], 0
        if kind in ("dir", "file", "end", "symlink", "device") and attrs is None:
            raise ProtocolError(f"a {kind} without attributes")
        device = msg["device"]
        if (kind == "device") != (device is not None):
            raise ProtocolError("device numbers belong to device nodes only")
        size = msg["size"]
        assert isinstance(size, int)
        if self.file is not None:
            if path != self.file[0] or kind not in ("end", "skip"):
                raise ProtocolError(f"a {kind} while a file is being written")
            self.file = None
        elif kind == "end":
            raise ProtocolError("the end of a file never begun")
        if kind == "file":
            self.file = (path, size)
        dev: tuple[int, int, str] | None = None
        if isinstance(device, list):
            dev = (device[0], device[1], device[2])
        reason = str(msg["reason"])
        self.extraction.add(
            Op(kind, path, attrs=attrs, size=size, target=target, device=dev, reason=reason)
        )

    def close(self) -> None:
        if self.file is not None or self.xattrs:
            raise ProtocolError("the plan ended in the middle of a file")
