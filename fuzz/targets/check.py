"""Target: a whole image through `check`, the e2fsck-like audit.

The input is an image; `check_image` opens and audits it (metadata placement, every inode,
every directory, link counts, bitmaps, orphans, journal superblock) and its report is
rendered as the CLI's JSON does. A corrupt image is a report with findings; only an image
that cannot be read at all raises, and then only Ext4Error.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ext4guard.parser.check import check_image
from ext4guard.parser.errors import Ext4Error

from ..memimage import image_fd
from ._common import Mutate
from .walk import make_mutator as _walk_mutator
from .walk import seed_inputs

DESCRIPTION = "whole image: check (the e2fsck-like audit) and its JSON report"

__all__ = ["DESCRIPTION", "make_mutator", "seed_inputs", "test_one_input"]


def test_one_input(data: bytes) -> None:
    with image_fd(data) as fd:
        try:
            report = check_image(fd)
        except Ext4Error:
            return
        json.dumps(report.as_dict())


def make_mutator(
    *, fix: bool = True, byte_mutate: Mutate | None = None
) -> Callable[[bytes, int, int], bytes]:
    return _walk_mutator(fix=fix, byte_mutate=byte_mutate)
