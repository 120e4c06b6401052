"""`ext4guard info` as a user runs it: exit codes, one-line errors, JSON against dumpe2fs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, seed_image


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ext4guard.server.launcher", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "fs.img"
    subprocess.run(
        ["mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-g", "2048", str(path), "8M"],
        check=True,
    )
    return path


@pytest.mark.parametrize("seed", SEEDS or ["(none)"])
def test_info_json_matches_dumpe2fs(seed: str, tmp_path: Path) -> None:
    if seed == "(none)":
        pytest.fail("no seed images in corpus/seeds")
    path = seed_image(seed)
    result = _run("info", "--json", str(path))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    ref = E.superblock(path)
    sb = report["superblock"]
    assert sb["uuid"] == ref["Filesystem UUID"]
    assert sb["blocks_count"] == ref.int("Block count")
    assert sb["inodes_count"] == ref.int("Inode count")
    assert sb["free_blocks_count"] == ref.int("Free blocks")
    assert sb["default_hash"] == ref["Default directory hash"]
    features = report["features"]
    assert set(features["compat"] + features["incompat"] + features["ro_compat"]) == set(
        ref.list("Filesystem features")
    )
    assert len(report["groups"]) == len(E.groups(path)) == sb["group_count"]
    assert report["findings"] == []


def test_info_human_output(image: Path) -> None:
    result = _run("info", str(image))
    assert result.returncode == 0, result.stderr
    ref = E.superblock(image)
    assert ref["Filesystem UUID"] in result.stdout
    assert "metadata_csum" in result.stdout
    assert "Block groups (4 readable of 4)" in result.stdout


def test_info_reports_damaged_group_and_exits_1(image: Path) -> None:
    with open(image, "r+b") as f:
        f.seek(2 * 1024 + 2 * 64 + 0x0C)  # group 2's free block count
        f.write(b"\x00\x70")
    result = _run("info", "--json", str(image))
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert [f["code"] for f in report["findings"]] == ["checksum_mismatch"]
    assert report["findings"][0]["where"]["group"] == 2
    assert [g["group"] for g in report["groups"]] == [0, 1, 3]


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (None, 2, "No such file or directory"),
        (b"\0" * 4096, 1, "bad_magic"),
        (b"", 1, "truncated_image"),
    ],
)
def test_info_errors_are_one_line(
    tmp_path: Path, content: bytes | None, code: int, message: str
) -> None:
    path = tmp_path / "bad.img"
    if content is not None:
        path.write_bytes(content)
    result = _run("info", str(path))
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_usage_error_exits_2() -> None:
    result = _run("info")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
