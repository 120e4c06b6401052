"""The committed seed images, decompressed once per test session.

`SEEDS` lists every `corpus/seeds/NAME.img.xz`; `seed_image(name)` gives a path to the raw
image (decompressed into a per-user cache keyed by the compressed file's sha256, so a
changed seed is never served stale) and `seed_manifest(name)` the manifest built from the
source tree the image was made from.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "corpus" / "seeds"
SEEDS: list[str] = sorted(p.name.removesuffix(".img.xz") for p in SEED_DIR.glob("*.img.xz"))
_CACHE = Path(tempfile.gettempdir()) / f"ext4guard-seeds-{os.getuid()}"


def seed_image(name: str) -> Path:
    packed = SEED_DIR / f"{name}.img.xz"
    digest = hashlib.sha256(packed.read_bytes()).hexdigest()[:16]
    target = _CACHE / f"{name}-{digest}.img"
    if not target.exists():
        _CACHE.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        with lzma.open(packed) as src, open(partial, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        partial.replace(target)
    return target


def seed_manifest(name: str) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((SEED_DIR / f"{name}.json").read_text())
    return manifest


def manifest_entries(manifest: dict[str, Any]) -> dict[bytes, dict[str, Any]]:
    """A manifest's entries keyed by raw path, with compact 'generated' groups expanded."""
    out = {bytes.fromhex(e["path_hex"]): e for e in manifest["entries"]}
    for group in manifest.get("generated", []):
        parent = os.fsencode(group["parent"])
        prefix = bytes.fromhex(group["name_prefix_hex"])
        targets = [out[os.fsencode(t)] for t in group["targets"]]
        for i in range(group["count"]):
            out[parent + b"/" + prefix + b"%07d" % i] = targets[i % len(targets)]
    return out


#: A file's type as the manifests (and `ext4guard ls`) name it, by its st_mode type bits.
TYPE_NAMES = {
    stat.S_IFREG: "reg",
    stat.S_IFDIR: "dir",
    stat.S_IFLNK: "lnk",
    stat.S_IFCHR: "chr",
    stat.S_IFBLK: "blk",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "sock",
}
