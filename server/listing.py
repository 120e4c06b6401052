"""`ext4guard ls`: entries below a path as JSON-able records, and their human rendering.

The records are the CLI contract (README, "ext4guard ls"): one object per entry with
`path`, `ino`, `type`, `mode`, `uid`, `gid`, `size`, `nlink`, `mtime`, and `target` for
symlinks. Names are bytes on disk; `path` is their UTF-8 reading, and a name that is not
valid UTF-8 also gets `path_hex`, the exact bytes, so nothing is lost or ambiguous.
"""

from __future__ import annotations

import stat as stat_module
import time
from collections.abc import Iterator
from typing import Any

from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem

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
