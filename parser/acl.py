"""POSIX ACLs: ext4's compact on-disk form, and the form the Linux VFS hands to user space.

See "POSIX ACLs" in the kernel's ext4 docs ("Extended Attributes" section). ext4 stores the
value of system.posix_acl_access / system.posix_acl_default as a 4-byte header (version 1)
and entries of 4 bytes (tag, perm) or, for named users and groups, 8 bytes (tag, perm, id).
`getxattr(2)` returns another layout (`posix_acl_xattr_header`, version 2, then 8 bytes per
entry with ACL_UNDEFINED_ID where there is no id); a FUSE server must answer in that one for
`getfacl` to understand it.

The entry count follows from the value's size alone, as in the kernel's `ext4_acl_count()`:
at most four short entries, then long ones. A value whose size fits neither, an unknown tag,
or entries that do not end exactly at the value's end are corrupt (the kernel's
`ext4_acl_from_disk()` returns -EINVAL for each). A value with no entries at all means "no
ACL" (`None`), as the kernel reads it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from ._ksy.ext4_xattr import Ext4Xattr
from .errors import Corruption, RecordInvalid, Where
from .records import decode

__all__ = [
    "ACL_UNDEFINED_ID",
    "AclEntry",
    "AclInvalid",
    "acl_to_vfs",
    "decode_acl",
    "ext4_acl_to_vfs",
]

POSIX_ACL_XATTR_VERSION = 2
ACL_UNDEFINED_ID = 0xFFFFFFFF
_HEADER = 4
_SHORT = 4
_LONG = 8
_NAMED_TAGS = (Ext4Xattr.AclTag.user, Ext4Xattr.AclTag.group)
_KNOWN_TAGS = frozenset(int(tag) for tag in Ext4Xattr.AclTag)
_VFS_ENTRY = struct.Struct("<HHI")


class AclInvalid(Corruption):
    """A POSIX ACL value that the kernel would refuse to read (EINVAL)."""

    code = "acl_invalid"


@dataclass(frozen=True, slots=True)
class AclEntry:
    """One ACL entry; `id` is the uid/gid of a named user/group entry, else None."""

    tag: int  # ACL_USER_OBJ 1, ACL_USER 2, ACL_GROUP_OBJ 4, ACL_GROUP 8, ACL_MASK 0x10, ...
    perm: int
    id: int | None


def _entry_count(size: int) -> int | None:
    """ext4_acl_count(): entries a value of `size` bytes holds, or None if no layout fits."""
    body = size - _HEADER
    if body < 0:
        return None
    longs = body - 4 * _SHORT
    if longs < 0:
        return None if body % _SHORT else body // _SHORT
    return None if longs % _LONG else longs // _LONG + 4


def decode_acl(value: bytes, where: Where) -> tuple[AclEntry, ...]:
    """The entries of an on-disk ext4 ACL value (empty when it holds none)."""
    count = _entry_count(len(value))
    if count is None:
        raise AclInvalid(f"ACL value of {len(value)} bytes fits no entry layout", where)

    def build(rec: Any) -> tuple[AclEntry, ...]:
        out: list[AclEntry] = []
        for entry in rec.entries:
            tag = int(entry.e_tag)
            if tag not in _KNOWN_TAGS:
                raise AclInvalid(f"ACL entry with unknown tag 0x{tag:x}", where)
            named = entry.e_tag in _NAMED_TAGS
            out.append(AclEntry(tag, entry.e_perm, entry.e_id if named else None))
        return tuple(out)

    try:
        entries = decode(Ext4Xattr.PosixAcl, value, where, build)
    except RecordInvalid as exc:
        raise AclInvalid(f"ACL value does not decode: {exc.detail}", where) from None
    if len(entries) != count:
        # The kernel reads exactly `count` entries and then must be at the value's end.
        raise AclInvalid(f"ACL holds {len(entries)} entries, its size says {count}", where)
    return entries


def acl_to_vfs(entries: tuple[AclEntry, ...]) -> bytes:
    """The `posix_acl_xattr_header` form `getxattr(2)` returns for these entries."""
    parts = [POSIX_ACL_XATTR_VERSION.to_bytes(4, "little")]
    for entry in entries:
        ident = ACL_UNDEFINED_ID if entry.id is None else entry.id
        parts.append(_VFS_ENTRY.pack(entry.tag, entry.perm, ident))
    return b"".join(parts)


def ext4_acl_to_vfs(value: bytes, where: Where) -> bytes | None:
    """An on-disk ACL value in the VFS form, or None when it holds no entries (no ACL)."""
    entries = decode_acl(value, where)
    return acl_to_vfs(entries) if entries else None
