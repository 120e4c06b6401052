"""The Filesystem facade against the seeds' source trees: inode attributes and file bytes.

Inode numbers come from debugfs (the facade's path lookup comes with the directory modules);
what each inode must hold comes from the manifest of the tree the seed was built from.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ext4guard.parser.errors import Ext4Error, InvalidRequest, Unsupported
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.mapping import MappingKind
from tests.reference import e2fsprogs as E
from tests.seeds import SEEDS, manifest_entries, seed_image, seed_manifest

FILES_PER_SEED = 25


def _sample(seed: str) -> list[dict[str, object]]:
    entries = [e for e in seed_manifest(seed)["entries"] if e["type"] in ("reg", "lnk")]
    entries.sort(key=lambda e: (-int(e["size"]), str(e["path"])))  # biggest first, then spread
    step = max(1, len(entries) // FILES_PER_SEED)
    return entries[:3] + entries[3::step][: FILES_PER_SEED - 3]


@pytest.mark.parametrize("seed", SEEDS)
def test_inodes_and_bytes_match_the_source_tree(seed: str) -> None:
    image = seed_image(seed)
    checked = 0
    with Filesystem.open(image) as fs:
        for entry in _sample(seed):
            path = os.fsencode(str(entry["path"]))
            ino = E.inode_stat(image, path).inode
            inode = fs.inode(ino)
            assert inode.file_type == entry["type"], path
            assert inode.permissions == entry["mode"], path
            assert (inode.uid, inode.gid) == (entry["uid"], entry["gid"]), path
            assert inode.mtime_ns == entry["mtime_ns"], path
            if entry["type"] == "lnk":
                continue
            assert inode.size == entry["size"], path
            data = fs.read(ino, 0, inode.size + 4096)
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], path
            checked += 1
    assert checked > 0, f"{seed}: no regular file was read"


@pytest.mark.parametrize("seed", ["ext4_default", "ext2_1k", "ext4_bigalloc"])
def test_iomap_covers_the_request_in_order(seed: str) -> None:
    image = seed_image(seed)
    with Filesystem.open(image) as fs:
        for entry in _sample(seed)[:5]:
            ino = E.inode_stat(image, os.fsencode(str(entry["path"]))).inode
            size = fs.inode(ino).size
            maps = fs.iomap(ino, 0, size)
            block_size = fs.superblock.block_size
            assert sum(m.length_blocks for m in maps) == -(-size // block_size)
            cursor = 0
            for mapping in maps:
                assert mapping.logical_block == cursor
                assert (mapping.physical_block is not None) == (
                    mapping.kind in (MappingKind.MAPPED, MappingKind.UNWRITTEN)
                )
                cursor += mapping.length_blocks


def test_bad_requests_are_typed() -> None:
    with Filesystem.open(seed_image("ext4_default")) as fs:
        with pytest.raises(InvalidRequest):
            fs.read(2, -1, 10)
        with pytest.raises(InvalidRequest):
            fs.iomap(2, 0, -5)
        for ino in (0, -1, fs.superblock.inodes_count + 1):
            with pytest.raises(Ext4Error):
                fs.inode(ino)


def _manifest_paths(seed: str) -> dict[bytes, dict[str, object]]:
    return {p: e for p, e in manifest_entries(seed_manifest(seed)).items() if p != b"/"}


@pytest.mark.parametrize("seed", SEEDS)
def test_lookup_and_iterdir_match_the_source_tree(seed: str) -> None:
    entries = _manifest_paths(seed)
    image = seed_image(seed)
    with Filesystem.open(image) as fs:
        # Every path of the source tree resolves, to an inode of the right type and mode.
        inode_of: dict[bytes, int] = {}
        for path, entry in entries.items():
            ino = fs.lookup(path)
            inode = fs.inode(ino)
            assert inode.file_type == entry["type"], path
            assert inode.permissions == entry["mode"], path
            inode_of[path] = ino
        # Hard links share an inode number exactly when the source tree's files did.
        groups: dict[object, set[int]] = {}
        for path, entry in entries.items():
            if entry.get("hardlink_group") is not None:
                groups.setdefault(entry["hardlink_group"], set()).add(inode_of[path])
        assert all(len(inos) == 1 for inos in groups.values())
        # Each directory lists exactly its children in the source tree.
        for path, entry in entries.items():
            if entry["type"] != "dir" or path == b"/lost+found":
                continue
            listed, findings = fs.iterdir(inode_of[path])
            assert findings == [], path
            want = {p.rsplit(b"/", 1)[1] for p in entries if p.rsplit(b"/", 1)[0] == path}
            assert {e.name for e in listed} == want, path
        root, findings = fs.iterdir(2)
        assert findings == []
        assert {e.name for e in root} == {p[1:] for p in entries if p.count(b"/") == 1}, (
            "root listing"
        )


def test_lookup_errors_are_typed() -> None:
    from ext4guard.parser.errors import NotADirectory, NotFound

    with Filesystem.open(seed_image("ext4_default")) as fs:
        with pytest.raises(NotFound):
            fs.lookup(b"/no/such/path")
        regular = next(p for p, e in _manifest_paths("ext4_default").items() if e["type"] == "reg")
        with pytest.raises(NotADirectory):
            fs.lookup(regular + b"/below")


@pytest.mark.parametrize("seed", SEEDS)
def test_walk_readlink_and_rdev_match_the_source_tree(seed: str) -> None:
    entries = _manifest_paths(seed)
    with Filesystem.open(seed_image(seed)) as fs:
        walked: dict[bytes, int] = {}
        for item in fs.walk():
            assert not isinstance(item, Ext4Error), item
            path, entry = item
            walked[path] = entry.inode
        want = {p for p in entries if not p.startswith(b"/lost+found/")}
        assert set(walked) == want
        for path, entry in entries.items():
            if entry["type"] == "lnk":
                target = fs.readlink(walked[path])
                assert target.hex() == entry["target_hex"], path
            if entry["type"] in ("chr", "blk"):
                rdev = fs.stat(walked[path]).rdev
                assert rdev == (entry["rdev_major"], entry["rdev_minor"]), path


@pytest.mark.parametrize(("flag", "word"), [(0x800, "encrypted"), (0x100000, "verity")])
def test_encrypted_and_verity_content_is_refused(tmp_path: Path, flag: int, word: str) -> None:
    image = tmp_path / "fs.img"
    shutil.copyfile(seed_image("ext4_encrypt"), image)
    path = next(p for p, e in _manifest_paths("ext4_encrypt").items() if e["type"] == "reg")
    # debugfs sets the flag (and fixes the inode checksum), as a real writer would.
    subprocess.run(
        ["debugfs", "-w", "-R", f"set_inode_field {path.decode()} flags {0x80000 | flag:#x}",
         str(image)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    with Filesystem.open(image) as fs:
        ino = fs.lookup(path)
        assert fs.stat(ino).flags & flag
        parent, _, name = path.rpartition(b"/")
        assert name in {e.name for e in fs.iterdir(fs.lookup(parent or b"/"))[0]}  # listed
        with pytest.raises(Unsupported, match=word):
            fs.read(ino, 0, 10)
        with pytest.raises(Unsupported, match=word):
            fs.iomap(ino, 0, 10)


def test_i_size_beyond_2_to_32_blocks_is_refused(tmp_path: Path) -> None:
    from ext4guard.parser.filesystem import InodeSizeInvalid
    from ext4guard.parser.inode import inode_location

    image = tmp_path / "fs.img"
    shutil.copyfile(seed_image("ext4_nocsum_32bit"), image)  # no checksum to fix up
    path = next(p for p, e in _manifest_paths("ext4_nocsum_32bit").items() if e["type"] == "reg")
    with Filesystem.open(image) as fs:
        ino = fs.lookup(path)
        group, index = inode_location(fs.superblock, ino)
        sb = fs.superblock
        offset = fs.group(group).inode_table * sb.block_size + index * sb.inode_size
    with open(image, "r+b") as f:
        f.seek(offset + 0x6C)  # i_size_high
        f.write(b"\xff\xff\xff\x7f")
    with Filesystem.open(image) as fs:
        with pytest.raises(InodeSizeInvalid):
            fs.read(ino, 0, 10)
        assert fs.stat(ino).size > fs.superblock.block_size << 32  # still listed and stat'ed
