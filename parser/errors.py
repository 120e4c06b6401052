"""The only exceptions that leave ext4guard's parser.

Three kinds of failure (DESIGN.md, "Three kinds of failure"): the image could not be read
(`ImageIOError`), it is valid but uses something we do not read (`Unsupported`), or it is
corrupt (`Corruption` and its subclasses). A request that would cost more than its budget
raises `BudgetExceeded`. Every one is an `OSError` with an errno, so FUSE handlers can raise
them as they are, and carries a stable `code`, a `where` and a `detail` for the CLI's JSON.
"""

from __future__ import annotations

import errno
from dataclasses import asdict, dataclass
from typing import ClassVar

#: Linux's errno for "structure needs cleaning", what ext4 itself returns for corruption.
EUCLEAN = getattr(errno, "EUCLEAN", 117)


@dataclass(frozen=True, slots=True)
class Where:
    """Where on the image a finding was made; unknown parts stay None."""

    group: int | None = None
    inode: int | None = None
    block: int | None = None
    offset: int | None = None

    def as_dict(self) -> dict[str, int]:
        return {key: value for key, value in asdict(self).items() if value is not None}

    def __str__(self) -> str:
        return " ".join(f"{key} {value}" for key, value in self.as_dict().items()) or "image"


class Ext4Error(OSError):
    """Base class of every error the parser's public API raises."""

    code: ClassVar[str] = "error"
    errno_value: ClassVar[int] = errno.EIO

    def __init__(self, detail: str, where: Where | None = None) -> None:
        super().__init__(self.errno_value, detail)
        self.detail = detail
        self.where = where if where is not None else Where()

    def __str__(self) -> str:
        return f"{self.code}: {self.detail} ({self.where})"

    def as_finding(self) -> dict[str, object]:
        return {"code": self.code, "where": self.where.as_dict(), "detail": self.detail}


class ImageIOError(Ext4Error):
    """The image file could not be read (I/O error, or it ends before a record does)."""

    code = "io_error"


class Unsupported(Ext4Error):
    """A valid image, or inode, that uses something ext4guard does not read."""

    code = "unsupported"
    errno_value = errno.EOPNOTSUPP

    def __init__(self, detail: str, where: Where | None = None, feature_bits: int = 0) -> None:
        super().__init__(detail, where)
        self.feature_bits = feature_bits


class InvalidRequest(Ext4Error):
    """A caller asked for something that cannot exist (negative offset, inode 0...)."""

    code = "invalid_request"
    errno_value = errno.EINVAL


class NotFound(Ext4Error):
    """A path names nothing in the image."""

    code = "not_found"
    errno_value = errno.ENOENT


class NotADirectory(Ext4Error):
    """A path goes through something that is not a directory (symlinks are not followed)."""

    code = "not_a_directory"
    errno_value = errno.ENOTDIR


class BudgetExceeded(Ext4Error):
    """A request needed more reads, entries or depth than its budget allows."""

    code = "budget_exceeded"


class Corruption(Ext4Error):
    """Metadata that cannot be what a correct ext4 writer produced."""

    code = "corrupt"
    errno_value = EUCLEAN


class TruncatedImage(Corruption):
    """A record lies (partly) past the end of the image file."""

    code = "truncated_image"


class BadMagic(Corruption):
    code = "bad_magic"


class RecordInvalid(Corruption):
    """The grammar rejected a record: a `valid:` rule failed or the bytes ran out."""

    code = "record_invalid"


class ChecksumMismatch(Corruption):
    """A record's stored checksum disagrees with its contents; the record is not trusted."""

    code = "checksum_mismatch"

    def __init__(self, structure: str, stored: int, computed: int, where: Where | None = None):
        super().__init__(
            f"{structure} checksum 0x{stored:x} does not match computed 0x{computed:x}", where
        )
        self.structure = structure
        self.stored = stored
        self.computed = computed


class DirectoryCycle(Corruption):
    """A directory reached twice: a hard-linked directory or a loop through the tree."""

    code = "directory_cycle"


class GeometryInvalid(Corruption):
    """Superblock numbers that cannot describe a filesystem (sizes, counts, ranges)."""

    code = "geometry_invalid"
