"""`ext4guard check` as a user runs it: agrees with `e2fsck -fn` on clean and damaged images."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, seed_image


def _check(image: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ext4guard.server.launcher", "check", *extra, str(image)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_clean_where_e2fsck_is_clean(seed: str) -> None:
    image = seed_image(seed)
    assert E.e2fsck(image).returncode == 0
    result = _check(image, "--json")
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["clean"] is True and report["findings"] == []
    assert report["stats"]["inodes"] > 0


def test_damaged_image_exits_1_with_findings(tmp_path: Path) -> None:
    image = tmp_path / "damaged.img"
    shutil.copyfile(seed_image("ext4_1k"), image)
    with open(image, "r+b") as f:
        f.seek(2 * 1024 + 0x0C)  # group 0's free block count; its checksum now disagrees
        f.write(b"\x01\x00")
    assert E.e2fsck(image).returncode != 0
    result = _check(image)
    assert result.returncode == 1
    assert "checksum_mismatch" in result.stdout
    assert "Traceback" not in result.stderr


def test_unreadable_image_exits_2(tmp_path: Path) -> None:
    result = _check(tmp_path / "absent.img")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
