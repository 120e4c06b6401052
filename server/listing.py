"""`ext4guard ls`: entries below a path as JSON-able records, and their human rendering.

The records are the CLI contract (README, "ext4guard ls"): one object per entry with
`path`, `ino`, `type`, `mode`, `uid`, `gid`, `size`, `nlink`, `mtime`, and `target` for
symlinks. Names are bytes on disk; `path` is their UTF-8 reading, and a name that is not
valid UTF-8 also gets `path_hex`, the exact bytes, so nothing is lost or ambiguous.
"""

from __future__ import annotations

import json
import stat as stat_module
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem

from .protocol import (
    FINDING,
    Channel,
    Field,
    Finding,
    Message,
    ProtocolError,
    Spec,
    choice,
    finding_from,
    finding_message,
    fixed_list,
    hextext,
    integer,
    obj,
    text,
)

Record = dict[str, Any]


def path_fields(path: bytes) -> dict[str, str]:
    try:
        return {"path": path.decode("utf-8")}
    except UnicodeDecodeError:
        return {"path": path.decode("utf-8", "backslashreplace"), "path_hex": path.hex()}


def entry_record(fs: Filesystem, path: bytes, ino: int) -> Record:
    """One entry's record; raises Ext4Error when its inode cannot be read."""
    inode = fs.stat(ino)
    record: Record = {
        **path_fields(path),
        "ino": ino,
        "type": inode.file_type,
        "mode": inode.permissions,
        "uid": inode.uid,
        "gid": inode.gid,
        "size": inode.size,
        "nlink": inode.links_count,
        "mtime": inode.mtime_ns // 1_000_000_000,
    }
    if inode.file_type == "lnk":
        target = fs.readlink(ino)
        record["target"] = target.decode("utf-8", "backslashreplace")
        if record["target"].encode("utf-8", "surrogateescape") != target:
            record["target_hex"] = target.hex()
    if inode.file_type in ("chr", "blk"):
        record["rdev"] = list(inode.rdev)
    return record


def list_records(fs: Filesystem, top: bytes, recursive: bool) -> Iterator[Record | Ext4Error]:
    """Records of the entries below `top` (or of `top` itself when it is not a directory);
    damage is yielded in line, and listing goes on."""
    top_ino = fs.lookup(top)
    if not fs.stat(top_ino).is_dir:
        yield entry_record(fs, top, top_ino)
        return
    if recursive:
        items: Iterator[tuple[bytes, Any] | Ext4Error] = fs.walk(top)
    else:
        entries, findings = fs.iterdir(top_ino)
        prefix = top.rstrip(b"/")
        items = iter([*findings, *((prefix + b"/" + e.name, e) for e in entries)])
    for item in items:
        if isinstance(item, Ext4Error):
            yield item
            continue
        path, entry = item
        try:
            yield entry_record(fs, path, entry.inode)
        except Ext4Error as exc:
            yield exc


_TYPE_CHAR = {"dir": "d", "lnk": "l", "chr": "c", "blk": "b", "fifo": "p", "sock": "s", "reg": "-"}


def mode_string(record: Record) -> str:
    """`ls -l` style: type character and rwx triplets with setuid/setgid/sticky."""
    kind = _TYPE_CHAR.get(record["type"], "?")
    return kind + stat_module.filemode(record["mode"])[1:]


def printable(text: str) -> str:
    """A name safe to print on a terminal: control characters become escapes."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


def human_line(record: Record) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(record["mtime"]))
    size = ",".join(map(str, record["rdev"])) if "rdev" in record else str(record["size"])
    line = (
        f"{mode_string(record)} {record['nlink']:>3} {record['uid']:>5} {record['gid']:>5} "
        f"{size:>10} {when} {printable(record['path'])}"
    )
    return line + (f" -> {printable(record['target'])}" if "target" in record else "")


# -- contained: the child sends each record (or finding) as it is listed; the parent checks
# it against the README's shape and prints it.

_PATH_MAX = 1 << 20  # bytes of one path: the walk's depth limit times NAME_MAX, with room
_INT = integer()
_TIME = integer(-(1 << 64), 1 << 64)
ENTRY = obj(
    Field("path", text(4 * _PATH_MAX)),
    Field("path_hex", hextext(_PATH_MAX), False),
    Field("ino", integer(1, (1 << 32) - 1)),
    Field("type", choice("reg", "dir", "lnk", "chr", "blk", "fifo", "sock", "unknown")),
    Field("mode", integer(0, 0o7777)),
    Field("uid", integer(0, (1 << 32) - 1)),
    Field("gid", integer(0, (1 << 32) - 1)),
    Field("size", _INT),
    Field("nlink", _INT),
    Field("mtime", _TIME),
    Field("target", text(4 << 16), False),
    Field("target_hex", hextext(1 << 16), False),
    Field("rdev", fixed_list(_INT, _INT), False),
)
MESSAGES: dict[str, Spec] = {"entry": ENTRY, "finding": FINDING}


def produce(fd: int, top: bytes, recursive: bool, channel: Channel) -> None:
    """The child's half of `ls`."""
    with Filesystem.open(fd) as fs:
        for item in list_records(fs, top, recursive):
            if isinstance(item, Ext4Error):
                channel.send(finding_message(item))
            else:
                channel.send({"t": "entry", **item})


def finding_line(finding: Ext4Error | Finding) -> str:
    return f"ext4guard: finding: {finding}"


class Printer:
    """The parent's half of `ls`: one line per checked record, human or JSON, as it comes;
    findings on stderr (and in the JSON stream)."""

    schemas: Mapping[str, Spec] = MESSAGES

    def __init__(self, as_json: bool, out: TextIO | None = None) -> None:
        self.as_json = as_json
        self.out = out if out is not None else sys.stdout
        self.damaged = False

    def handle(self, item: Message | bytes) -> None:
        if not isinstance(item, Message):
            raise ProtocolError("ls sends no file bytes")
        if item.type == "finding":
            self.damaged = True
            if self.as_json:
                self.out.write(json.dumps({"finding": item.fields}) + "\n")
            print(finding_line(finding_from(item.fields)), file=sys.stderr)
            return
        record = item.fields
        self.out.write(json.dumps(record) + "\n" if self.as_json else human_line(record) + "\n")

    def close(self) -> None:
        return
