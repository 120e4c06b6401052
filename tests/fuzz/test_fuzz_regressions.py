"""Findings become corpus/regressions entries: an input (whole image or record target input)
is turned into seed + patch (+ size) and back into the very image the target parsed."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from ext4guard.fuzz import mutators as M
from ext4guard.fuzz import regressions as G
from ext4guard.fuzz.records import locate
from ext4guard.fuzz.seeds import seed_bytes
from ext4guard.fuzz.targets import TARGETS


def test_whole_image_round_trip(tmp_path: Path) -> None:
    raw = seed_bytes("ext4_nojournal")
    layout = locate(raw)
    rng = random.Random(11)
    for i in range(10):
        ops = M.generate_ops(layout, raw, M.RandomChooser(rng), 3)
        data = M.apply(raw, layout, ops, fix=bool(i % 2))
        if i == 9:
            data = data[: len(data) // 2]  # a truncated image keeps its size
        rep = G.from_input("walk", data)
        assert rep is not None and rep.seed == "ext4_nojournal"
        assert rep.image() == data
        path = G.save(rep, f"case{i}", bug="test", call="walk", target="walk", directory=tmp_path)
        assert G.load(path).image() == data
        sidecar = json.loads((tmp_path / f"case{i}.json").read_text())
        assert {"bug", "call", "fix_commit", "target"} <= set(sidecar)


def test_record_input_round_trip() -> None:
    module = TARGETS["inode"]
    data = module.seed_inputs()[5]
    data = data[:2] + bytes(range(40)) + data[42:]
    rep = G.from_input("inode", data)
    assert rep is not None
    prepared = module.TARGET.prepare(data)
    assert prepared is not None
    cand, patches = prepared
    with cand.template.spliced(patches) as fd:
        expected = os.pread(fd, cand.template.size, 0)
    assert rep.seed == cand.template.name
    assert rep.image() == expected


def test_unknown_image_has_no_reproducer() -> None:
    assert G.from_input("walk", bytes(2048)) is None
