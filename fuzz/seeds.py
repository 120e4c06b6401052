"""The shipped seed images (corpus/seeds/NAME.img.xz), raw, for targets and mutators.

The fuzzers start from these images: every target builds its initial inputs from them and the
structure-aware mutator locates their metadata once (`fuzz.records.locate`). Images are
decompressed in memory on first use and kept for the process (a fuzzing worker reuses them on
every input).
"""

from __future__ import annotations

import lzma
from functools import cache
from pathlib import Path

SEED_DIR = Path(__file__).resolve().parent.parent / "corpus" / "seeds"

#: Seeds small enough for whole-image fuzzing (at most 3 MiB raw): every feature family of
#: the corpus but the big ones (ext4_default's 4 MiB journal, meta_bg, largedir, bigalloc).
SMALL_SEEDS: tuple[str, ...] = (
    "ext2_1k",
    "ext3_journal",
    "ext4_1k",
    "ext4_2k",
    "ext4_casefold",
    "ext4_ea_inode",
    "ext4_encrypt",
    "ext4_hugefile",
    "ext4_inline",
    "ext4_inode128",
    "ext4_nocsum_32bit",
    "ext4_nocsum_uninit_bg",
    "ext4_noflexbg",
    "ext4_nojournal",
)


def seed_names() -> list[str]:
    """Every shipped seed, by name."""
    return sorted(p.name.removesuffix(".img.xz") for p in SEED_DIR.glob("*.img.xz"))


@cache
def seed_bytes(name: str) -> bytes:
    """The raw image of seed `name`."""
    with lzma.open(SEED_DIR / f"{name}.img.xz") as packed:
        return packed.read()
