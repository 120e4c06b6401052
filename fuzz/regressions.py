"""From a fuzzer's finding to a corpus/regressions entry, and back.

An entry is the bytes an input changes in a shipped seed image (corpus/regressions/README.md):
`NAME.patch.json` = {"seed", "patch": {"<offset>": "<hex>"}} plus, for an image cut short,
"size"; and a sidecar `NAME.json` naming the bug, the call and target that broke, and the fix
commit (empty while the bug is open; "xfail_targets" then names the fuzz targets the input
still breaks, which the replay expects to fail until the fix). Whole-image inputs are
matched to their seed by the superblock UUID (mutations keep it unless they hit it); a
record target's input is turned into the image it stands for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .mutators import patch_of
from .seeds import seed_bytes, seed_names

REGRESSIONS = Path(__file__).resolve().parent.parent / "corpus" / "regressions"
_UUID = slice(1024 + 0x68, 1024 + 0x78)


@dataclass(frozen=True, slots=True)
class Reproducer:
    """An image as a seed plus a patch (and a length, when the image was truncated)."""

    seed: str
    patch: dict[int, bytes]
    size: int | None = None

    def image(self) -> bytes:
        buf = bytearray(seed_bytes(self.seed))
        for offset, data in self.patch.items():
            if offset + len(data) > len(buf):
                raise ValueError(f"patch at {offset} runs past the end of seed {self.seed}")
            buf[offset : offset + len(data)] = data
        if self.size is not None:
            del buf[self.size :]
        return bytes(buf)

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "seed": self.seed,
            "patch": {str(offset): data.hex() for offset, data in sorted(self.patch.items())},
        }
        if self.size is not None:
            doc["size"] = self.size
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Reproducer:
        patch = {int(offset): bytes.fromhex(data) for offset, data in doc["patch"].items()}
        size = doc.get("size")
        return cls(doc["seed"], patch, int(size) if size is not None else None)


def from_image(data: bytes, seed: str | None = None) -> Reproducer | None:
    """The reproducer of a whole image derived from a shipped seed (None if none matches)."""
    candidates = [seed] if seed is not None else seed_names()
    for name in candidates:
        raw = seed_bytes(name)
        if len(data) > len(raw) or (seed is None and raw[_UUID] != data[_UUID]):
            continue
        size = len(data) if len(data) < len(raw) else None
        return Reproducer(name, patch_of(raw[: len(data)], data), size)
    return None


def from_input(target: str, data: bytes) -> Reproducer | None:
    """The reproducer of an input to fuzz target `target` (whole image or record)."""
    from .targets import TARGETS, WHOLE_IMAGE

    if target in WHOLE_IMAGE:
        return from_image(data)
    prepared = TARGETS[target].TARGET.prepare(data)
    if prepared is None:
        return None
    cand, patches = prepared
    buf = bytearray(cand.template.raw)
    for offset, body in patches:
        buf[offset : offset + len(body)] = body
    return from_image(bytes(buf), cand.template.name)


def save(
    reproducer: Reproducer,
    name: str,
    *,
    bug: str,
    call: str,
    target: str,
    fix_commit: str = "",
    directory: Path = REGRESSIONS,
    **extra: object,
) -> Path:
    """Write NAME.patch.json and its sidecar NAME.json; return the patch file's path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.patch.json"
    path.write_text(json.dumps(reproducer.as_json(), indent=1) + "\n")
    sidecar: dict[str, object] = {
        "bug": bug,
        "call": call,
        "target": target,
        "fix_commit": fix_commit,
        **extra,
    }
    (directory / f"{name}.json").write_text(json.dumps(sidecar, indent=1) + "\n")
    return path


def load(path: Path) -> Reproducer:
    return Reproducer.from_json(json.loads(path.read_text()))
