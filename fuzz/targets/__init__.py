"""The fuzz targets: one per parser layer, and whole-image ones.

Every target module has
- `DESCRIPTION`: one line for listings and reports;
- `test_one_input(data: bytes) -> None`: runs one input; returns normally or raises
  `Ext4Error`-free (an `Ext4Error` is the parser's answer and is swallowed); any other
  exception is a finding;
- `seed_inputs() -> list[bytes]`: the initial corpus, built from the shipped seed images;
- `make_mutator(*, fix=True, byte_mutate=None)`: the atheris custom mutator (structure-aware;
  `byte_mutate` is atheris.Mutate under libFuzzer).
and a libFuzzer options file `NAME.options` next to it (max_len, timeout, rss_limit_mb).

Record targets take `[selector][flags][record bytes]`: the selector picks a record of a seed
image (`_common.RecordTarget`), flags bit 0 leaves the checksums as the input has them.
Whole-image targets take an image. Run one with `python -m ext4guard.fuzz.libfuzzer NAME`.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from . import (
    check,
    dirblock,
    extents,
    fuse_ops,
    group_desc,
    inode,
    journal,
    superblock,
    walk,
    xattr,
)

TARGETS: dict[str, ModuleType] = {
    "superblock": superblock,
    "group_desc": group_desc,
    "inode": inode,
    "extents": extents,
    "dirblock": dirblock,
    "xattr": xattr,
    "journal": journal,
    "walk": walk,
    "check": check,
    "fuse_ops": fuse_ops,
}

#: Whole-image targets (inputs are images; the others take one record).
WHOLE_IMAGE = frozenset({"walk", "check", "fuse_ops"})


def options_file(name: str) -> Path:
    """The libFuzzer options file of target `name`."""
    return Path(__file__).resolve().parent / f"{name}.options"
