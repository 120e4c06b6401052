"""The coverage replay: a corpus reaches at least what its seeds reach, totals are sane.

Each replay runs in a fresh interpreter, as the command does: in one process the parser's
module-level code and its caches (decoded superblocks) would make a second replay see less."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ext4guard.fuzz.targets import TARGETS


def _replay(out: Path, *args: str) -> dict[str, Any]:
    argv = [sys.executable, "-m", "ext4guard.fuzz.replay_coverage", *args, "--json", str(out)]
    subprocess.run(argv, check=True, capture_output=True)
    totals: dict[str, Any] = json.loads(out.read_text())["hand-written"]
    return totals


def test_a_corpus_adds_to_what_the_seeds_reach(tmp_path: Path) -> None:
    before = _replay(tmp_path / "seeds.json", "--targets", "superblock")
    # A corpus of one superblock input the seeds do not hold: a seed's, with s_magic zeroed.
    folder = tmp_path / "corpus" / "superblock"
    folder.mkdir(parents=True)
    changed = bytearray(TARGETS["superblock"].seed_inputs()[0])
    changed[2 + 0x38 : 2 + 0x3A] = b"\x00\x00"  # after the [selector][flags] bytes
    (folder / "bad-magic").write_bytes(bytes(changed))
    corpus = str(tmp_path / "corpus")
    after = _replay(tmp_path / "corpus.json", corpus, "--targets", "superblock")
    assert 0 < before["lines"] < after["lines"] <= after["lines_total"]
    assert 0 < before["branches"] <= after["branches"] <= after["branches_total"]
    assert before["lines_total"] == after["lines_total"]
