"""`ext4guard info`: the superblock, features and group summary, like `dumpe2fs -h` plus groups."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.table import Table

from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.group_desc import GroupDesc
from ext4guard.parser.superblock import Superblock

from .protocol import (
    FINDING,
    Channel,
    Field,
    Message,
    ProtocolError,
    Spec,
    boolean,
    fields,
    finding_message,
    integer,
    list_of,
    nullable,
    obj,
    text,
)

_HASH_NAMES = (
    "legacy",
    "half_md4",
    "tea",
    "legacy_unsigned",
    "half_md4_unsigned",
    "tea_unsigned",
    "siphash",
)
_OS_NAMES = ("Linux", "Hurd", "Masix", "FreeBSD", "Lites")
_ERRORS_NAMES = {1: "continue", 2: "remount-ro", 3: "panic"}
_STATE_BITS = ((1, "clean"), (2, "errors"), (4, "orphans being recovered"))


def _name(table: tuple[str, ...], value: int) -> str:
    return table[value] if 0 <= value < len(table) else f"unknown ({value})"


def _state(value: int) -> str:
    words = [name for bit, name in _STATE_BITS if value & bit]
    return ", ".join(words) if value & 1 else ", ".join(["not clean", *words])


def _time(seconds: int) -> str:
    return "n/a" if seconds == 0 else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def superblock_summary(sb: Superblock) -> dict[str, Any]:
    """The JSON shape of `info`'s superblock section (documented in the README)."""
    return {
        "volume_name": sb.volume_name.decode("utf-8", "backslashreplace"),
        "uuid": sb.uuid_text,
        "last_mounted": sb.last_mounted.decode("utf-8", "backslashreplace"),
        "revision": sb.rev_level,
        "state": _state(sb.state),
        "errors_behavior": _ERRORS_NAMES.get(sb.errors, f"unknown ({sb.errors})"),
        "creator_os": _name(_OS_NAMES, sb.creator_os),
        "block_size": sb.block_size,
        "cluster_size": sb.cluster_size,
        "blocks_count": sb.blocks_count,
        "reserved_blocks_count": sb.r_blocks_count,
        "free_blocks_count": sb.free_blocks_count,
        "inodes_count": sb.inodes_count,
        "free_inodes_count": sb.free_inodes_count,
        "first_data_block": sb.first_data_block,
        "first_inode": sb.first_ino,
        "inode_size": sb.inode_size,
        "group_descriptor_size": sb.desc_size,
        "group_count": sb.group_count,
        "blocks_per_group": sb.blocks_per_group,
        "clusters_per_group": sb.clusters_per_group,
        "inodes_per_group": sb.inodes_per_group,
        "reserved_gdt_blocks": sb.reserved_gdt_blocks,
        "flex_bg_size": (1 << sb.log_groups_per_flex) if "flex_bg" in sb.incompat else None,
        "first_meta_bg": sb.first_meta_bg if "meta_bg" in sb.incompat else None,
        "default_hash": _name(_HASH_NAMES, sb.def_hash_version),
        "hash_seed": "-".join(f"{word:08x}" for word in sb.hash_seed),
        "journal_inode": sb.journal_inum,
        "orphan_file_inode": sb.orphan_file_inum,
        "checksum_type": "crc32c"
        if sb.has_metadata_csum
        else ("crc16" if sb.has_gdt_csum else None),
        "checksum": f"0x{sb.checksum:08x}" if sb.has_metadata_csum else None,
        "checksum_seed": f"0x{sb.checksum_seed:08x}" if sb.has_metadata_csum else None,
        "encoding": ("utf8" if sb.encoding == 1 else f"unknown ({sb.encoding})")
        if "casefold" in sb.incompat
        else None,
        "mkfs_time": sb.mkfs_time,
        "mount_time": sb.mount_time,
        "write_time": sb.write_time,
        "lastcheck": sb.lastcheck,
        "mount_count": sb.mnt_count,
        "max_mount_count": sb.max_mnt_count,
        "kbytes_written": sb.kbytes_written,
    }


def _notes(sb: Superblock) -> list[str]:
    notes = []
    if sb.needs_recovery:
        notes.append(
            "the journal holds transactions not yet replayed: "
            "the image is read as it stands on disk"
        )
    if sb.ro_compat.unknown_bits:
        notes.append(
            f"unknown read-only-compatible features 0x{sb.ro_compat.unknown_bits:x}: "
            "harmless for a read-only reader"
        )
    if sb.compat.unknown_bits:
        notes.append(f"unknown compatible features 0x{sb.compat.unknown_bits:x}")
    if sb.state & 2:
        notes.append("the filesystem was marked as having errors")
    return notes


def _head(sb: Superblock) -> dict[str, Any]:
    return {
        "superblock": superblock_summary(sb),
        "features": {
            "compat": sb.compat.display(),
            "incompat": sb.incompat.display(),
            "ro_compat": sb.ro_compat.display(),
        },
        "notes": _notes(sb),
    }


def collect(fs: Filesystem) -> dict[str, Any]:
    """Everything `info` reports; group descriptor damage becomes findings, not a failure."""
    groups: list[dict[str, Any]] = []
    findings: list[dict[str, object]] = []
    for entry in fs.groups():
        if isinstance(entry, Ext4Error):
            findings.append(entry.as_finding())
        else:
            groups.append(asdict(entry))
    return {**_head(fs.superblock), "groups": groups, "findings": findings}


# -- contained: the child sends the head, then each group or finding; the parent rebuilds
# the report above from validated messages.

_TEXT = text(4096)
_INT = integer(-(1 << 63), (1 << 64) - 1)  # some fields are signed (max_mount_count -1)
_STR = ("volume_name", "uuid", "last_mounted", "state", "errors_behavior", "creator_os")
_STR2 = ("default_hash", "hash_seed")
_NULLABLE_STR = ("checksum_type", "checksum", "checksum_seed", "encoding")
# The keys of superblock_summary(), in its order (the README's JSON shape), with their types.
_SUPERBLOCK = obj(
    *(Field(key, _TEXT) for key in _STR[:3]),
    Field("revision", _INT),
    *(Field(key, _TEXT) for key in _STR[3:]),
    *(
        Field(key, _INT)
        for key in (
            "block_size",
            "cluster_size",
            "blocks_count",
            "reserved_blocks_count",
            "free_blocks_count",
            "inodes_count",
            "free_inodes_count",
            "first_data_block",
            "first_inode",
            "inode_size",
            "group_descriptor_size",
            "group_count",
            "blocks_per_group",
            "clusters_per_group",
            "inodes_per_group",
            "reserved_gdt_blocks",
        )
    ),
    Field("flex_bg_size", nullable(_INT)),
    Field("first_meta_bg", nullable(_INT)),
    *(Field(key, _TEXT) for key in _STR2),
    Field("journal_inode", _INT),
    Field("orphan_file_inode", _INT),
    *(Field(key, nullable(_TEXT)) for key in _NULLABLE_STR),
    *(
        Field(key, _INT)
        for key in (
            "mkfs_time",
            "mount_time",
            "write_time",
            "lastcheck",
            "mount_count",
            "max_mount_count",
            "kbytes_written",
        )
    ),
)
_FEATURES = list_of(text(64), 64)
MESSAGES: dict[str, Spec] = {
    "info": fields(
        superblock=_SUPERBLOCK,
        features=fields(compat=_FEATURES, incompat=_FEATURES, ro_compat=_FEATURES),
        notes=list_of(_TEXT, 16),
    ),
    "group": obj(
        *(
            Field(f.name, boolean if f.type in ("bool", bool) else _INT)
            for f in dataclasses.fields(GroupDesc)
        )
    ),
    "finding": FINDING,
}
#: More groups than any image the geometry checks accept is not an answer but a flood.
MAX_GROUPS = 1 << 22


def produce(fd: int, channel: Channel) -> None:
    """The child's half of `info`."""
    with Filesystem.open(fd) as fs:
        channel.send({"t": "info", **_head(fs.superblock)})
        for entry in fs.groups():
            if isinstance(entry, Ext4Error):
                channel.send(finding_message(entry))
            else:
                channel.send({"t": "group", **asdict(entry)})


class Collector:
    """The parent's half: the report `collect()` would have built, from checked messages.
    Groups come once each, in increasing order, and within the superblock's group count."""

    schemas: Mapping[str, Spec] = MESSAGES

    def __init__(self) -> None:
        self.head: dict[str, Any] | None = None
        self.groups: list[dict[str, Any]] = []
        self.findings: list[dict[str, object]] = []

    def handle(self, item: Message | bytes) -> None:
        if not isinstance(item, Message):
            raise ProtocolError("info sends no file bytes")
        if item.type == "info":
            if self.head is not None:
                raise ProtocolError("a second superblock")
            self.head = item.fields
            return
        if self.head is None:
            raise ProtocolError(f"{item.type} before the superblock")
        if len(self.groups) + len(self.findings) >= MAX_GROUPS:
            raise ProtocolError("too many groups")
        if item.type == "finding":
            self.findings.append(item.fields)
            return
        group = item.fields["group"]
        count = self.head["superblock"]["group_count"]
        last = self.groups[-1]["group"] if self.groups else -1
        if not last < group < count:
            raise ProtocolError(f"group {group} out of order or beyond the group count")
        self.groups.append(item.fields)

    def close(self) -> None:
        if self.head is None:
            raise ProtocolError("no superblock")

    def report(self) -> dict[str, Any]:
        assert self.head is not None, "close() checked it"
        return {**self.head, "groups": self.groups, "findings": self.findings}


def _group_flags(group: GroupDesc) -> str:
    names = [
        name
        for name, on in (
            ("IU", group.inode_uninit),
            ("BU", group.block_uninit),
            ("IZ", group.itable_zeroed),
        )
        if on
    ]
    return " ".join(names) or "-"


def render(report: dict[str, Any], console: Console, max_groups: int | None) -> None:
    """Human-readable `info`: a key/value table, features, notes and a group table."""
    summary = Table(show_header=False, box=None, pad_edge=False)
    summary.add_column(style="bold")
    summary.add_column()
    sb = report["superblock"]
    for key, value in sb.items():
        if value is None:
            continue
        if key.endswith("_time") or key == "lastcheck":
            value = _time(value)
        summary.add_row(key.replace("_", " ").capitalize(), str(value))
    console.print(summary)

    features = Table(title="Features", show_header=True)
    for kind in ("compat", "incompat", "ro_compat"):
        features.add_column(kind)
    columns = [report["features"][kind] for kind in ("compat", "incompat", "ro_compat")]
    for row in range(max(len(column) for column in columns)):
        features.add_row(*(column[row] if row < len(column) else "" for column in columns))
    console.print(features)

    for note in report["notes"]:
        console.print(f"[yellow]note:[/yellow] {note}")

    groups: list[dict[str, Any]] = report["groups"]
    shown = groups if max_groups is None else groups[:max_groups]
    table = Table(
        title=f"Block groups ({len(groups)} readable of {sb['group_count']})",
        caption="flags: IU inode table uninit, BU block bitmap uninit, IZ inode table zeroed",
    )
    for column in ("group", "block bm", "inode bm", "itable", "free blk", "free ino", "dirs"):
        table.add_column(column, justify="right")
    table.add_column("flags", no_wrap=True)
    for group in shown:
        table.add_row(
            str(group["group"]),
            str(group["block_bitmap"]),
            str(group["inode_bitmap"]),
            str(group["inode_table"]),
            str(group["free_blocks_count"]),
            str(group["free_inodes_count"]),
            str(group["used_dirs_count"]),
            _group_flags(GroupDesc(**group)),
        )
    console.print(table)
    if len(shown) < len(groups):
        console.print(f"... {len(groups) - len(shown)} more groups (--groups all shows them)")
    for finding in report["findings"]:
        console.print(
            f"[red]finding:[/red] {finding['code']} at {finding['where']}: {finding['detail']}"
        )
