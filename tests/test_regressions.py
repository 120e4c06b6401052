"""Replay every input in corpus/regressions/: each once broke the parser's contracts.

An input is `NAME.patch.json`, the bytes a mutation changed relative to a seed image
(`{"seed": "ext4_1k", "patch": {"<offset>": "<hex bytes>"}}`, plus `"size"` for an image
cut short: the repository stays lean), with a sidecar `NAME.json` naming the bug, the API
call that broke and the fix commit. The replay makes the image and runs every public call
over it (tests/parser/test_properties.py's driver), then feeds it to the whole-image fuzz
targets (walk, check, fuse_ops): each must return or raise an `Ext4Error`, in bounded time
and memory. A sidecar with `"xfail_targets"` marks an open bug: those targets are expected
to fail (strictly: the fix must update the sidecar).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ext4guard.fuzz.targets import TARGETS, WHOLE_IMAGE
from tests.parser.test_properties import bounded, exercise
from tests.seeds import SEEDS, seed_image

REGRESSIONS = Path(__file__).resolve().parent.parent / "corpus" / "regressions"
INPUTS = sorted(REGRESSIONS.glob("*.patch.json"))
SIDECAR_KEYS = {"bug", "call", "fix_commit"}
NONE_YET = pytest.mark.skipif(
    not INPUTS, reason="no regression inputs yet: no campaign has found a contract violation"
)


def load_patch(path: Path) -> tuple[str, dict[int, bytes]]:
    doc = json.loads(path.read_text())
    return doc["seed"], {int(at): bytes.fromhex(data) for at, data in doc["patch"].items()}


def load_image(path: Path) -> tuple[str, bytes]:
    """The seed's name and the image an input stands for (patch applied, size honoured)."""
    seed, patch = load_patch(path)
    assert seed in SEEDS, f"{path.name}: unknown seed {seed}"
    buf = bytearray(seed_image(seed).read_bytes())
    for at, data in patch.items():
        assert at + len(data) <= len(buf), f"{path.name}: patch past the image end"
        buf[at : at + len(data)] = data
    size = json.loads(path.read_text()).get("size")
    if size is not None:
        del buf[int(size) :]
    return seed, bytes(buf)


@NONE_YET
def test_every_input_has_a_sidecar() -> None:
    for path in INPUTS:
        sidecar = path.with_name(path.name.removesuffix(".patch.json") + ".json")
        assert sidecar.is_file(), f"{path.name}: no sidecar {sidecar.name}"
        assert set(json.loads(sidecar.read_text())) >= SIDECAR_KEYS, sidecar.name


@NONE_YET
@pytest.mark.parametrize("path", INPUTS or [Path("none")], ids=[p.name for p in INPUTS] or ["none"])
def test_replay(path: Path, tmp_path: Path) -> None:
    seed, data = load_image(path)
    image = tmp_path / f"{seed}.img"
    image.write_bytes(data)
    with bounded():
        exercise(image)


@NONE_YET
@pytest.mark.parametrize("target", sorted(WHOLE_IMAGE))
@pytest.mark.parametrize("path", INPUTS or [Path("none")], ids=[p.name for p in INPUTS] or ["none"])
def test_replay_through_fuzz_targets(
    path: Path, target: str, request: pytest.FixtureRequest
) -> None:
    sidecar_path = path.with_name(path.name.removesuffix(".patch.json") + ".json")
    sidecar = json.loads(sidecar_path.read_text())
    if target in sidecar.get("xfail_targets", []):
        # An open bug: the replay must keep failing until the fix, which removes the entry.
        request.applymarker(pytest.mark.xfail(strict=True, reason=sidecar["bug"][:200]))
    _seed, data = load_image(path)
    with bounded():
        TARGETS[target].test_one_input(data)
