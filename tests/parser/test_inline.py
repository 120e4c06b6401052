"""Inline data (files, symlinks, directories) against the seed's source tree, e2fsprogs and
the kernel.

* ext4_inline: every file's sha256, every symlink's target and every directory's listing
  equal the manifest of the tree the image was built from;
* debugfs: "Size of inline data" is 60 + the system.data value, and the value itself;
* the kernel: a copy of the seed mounted read-write grows an inline directory into
  system.data (libext2fs never does); our listing and lookups equal the kernel's read-only
  view of the result (root only);
* hand-made damage: system.data shorter than i_size or missing is `InlineDataBad`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from ext4guard.parser.budget import Budget
from ext4guard.parser.errors import Ext4Error
from ext4guard.parser.filesystem import Filesystem
from ext4guard.parser.inline import I_BLOCK_SIZE, InlineDataBad, inline_bytes, system_data
from tests.parser.test_xattr import _kernel_mount, patch_inode
from tests.reference import e2fsprogs as E
from tests.seeds import manifest_entries, seed_image, seed_manifest

SEED = "ext4_inline"
HAVE_E2FS = E.available()


def test_every_file_link_and_directory_matches_the_source_tree() -> None:
    entries = manifest_entries(seed_manifest(SEED))
    spilled = 0
    with Filesystem.open(seed_image(SEED)) as fs:
        for path, entry in entries.items():
            ino = fs.lookup(path)
            inode = fs.inode(ino)
            if entry["type"] == "reg":
                data = fs.read(ino, 0, inode.size + 100)
                assert hashlib.sha256(data).hexdigest() == entry["sha256"], path
                spilled += inode.has_inline_data and inode.size > I_BLOCK_SIZE
                # Reads at an offset agree with the whole.
                assert fs.read(ino, 7, 80) == data[7:87], path
            elif entry["type"] == "lnk":
                assert fs.readlink(ino).hex() == entry["target_hex"], path
            elif entry["type"] == "dir":
                listed, findings = fs.iterdir(ino)
                assert findings == [], path
                prefix = path.rstrip(b"/") + b"/"
                children = {
                    p[len(prefix) :]
                    for p in entries
                    if p.startswith(prefix) and b"/" not in p[len(prefix) :] and p != b"/"
                }
                if path == b"/":
                    children.add(b"lost+found")
                assert {e.name for e in listed} - {b"lost+found"} == children - {b"lost+found"}
    assert spilled >= 1  # /inline/spill: i_block plus system.data


@pytest.mark.skipif(not HAVE_E2FS, reason="e2fsprogs not installed")
def test_inline_sizes_and_system_data_match_debugfs() -> None:
    image = seed_image(SEED)
    seen = 0
    with Filesystem.open(image) as fs:
        for path in [b"/inline/spill", b"/inline/tiny", b"/inline/exact60", b"/inline/tinydir"]:
            inode = fs.inode(fs.lookup(path))
            assert inode.has_inline_data, path
            extra = system_data(fs.superblock, inode, Budget())
            assert extra is not None, path
            assert E.inode_stat(image, path).inline_data_size == I_BLOCK_SIZE + len(extra), path
            assert E.xattrs(image, path)["system.data"] == extra, path
            seen += bool(extra)
    assert seen >= 1


def _work(tmp_path: Path) -> Path:
    work = tmp_path / "img"
    shutil.copyfile(seed_image(SEED), work)
    return work


def test_system_data_shorter_than_i_size(tmp_path: Path) -> None:
    work = _work(tmp_path)
    with Filesystem.open(work) as fs:
        ino = fs.lookup("/inline/spill")
        size = fs.inode(ino).size
    patch_inode(work, ino, 0x04, "<I", size + 10)  # i_size_lo
    with Filesystem.open(work) as fs, pytest.raises(InlineDataBad, match="inline bytes"):
        fs.read(ino, 0, 4096)


def test_missing_system_data(tmp_path: Path) -> None:
    work = _work(tmp_path)
    with Filesystem.open(work) as fs:
        ino = fs.lookup("/inline/spill")
        first_entry = 128 + fs.inode(ino).extra_isize + 4
    patch_inode(work, ino, first_entry + 1, "<B", 1)  # system.data -> user.data
    with Filesystem.open(work) as fs:
        with pytest.raises(InlineDataBad, match="has none"):
            fs.read(ino, 0, 4096)
        assert set(fs.xattrs(ino)) == {b"user.data"}  # now an ordinary attribute


def test_short_inline_files_need_no_attribute() -> None:
    with Filesystem.open(seed_image(SEED)) as fs:
        inode = fs.inode(fs.lookup("/inline/tiny"))
        bare = inode._replace(inline_area=b"")
        assert inline_bytes(fs.superblock, bare, Budget()) == inode.i_block[: inode.size]


def test_damaged_attribute_area_is_a_finding_for_inline_directories(tmp_path: Path) -> None:
    work = _work(tmp_path)
    with Filesystem.open(work) as fs:
        ino = fs.lookup("/inline/tinydir")
        first_entry = 128 + fs.inode(ino).extra_isize + 4
        names = {e.name for e in fs.iterdir(ino)[0]}
    patch_inode(work, ino, first_entry, "<B", 250)  # the name runs out of the inode
    with Filesystem.open(work) as fs:
        listed, findings = fs.iterdir(ino)
        assert {e.name for e in listed} == names  # the i_block part is still listed
        assert [f.code for f in findings] == ["xattr_bad_entry"]
        assert fs.lookup(b"/inline/tinydir/a")
        with pytest.raises(Ext4Error):
            fs.lookup(b"/inline/tinydir/absent")


# ------------------------------------------------------------------ the kernel grows one


def test_directory_grown_into_system_data_by_the_kernel(tmp_path: Path) -> None:
    work = _work(tmp_path)
    names = [b"grown%02d" % i for i in range(5)]
    with _kernel_mount(work, tmp_path / "rw", "rw,loop") as mnt:
        for name in names:
            (mnt / "inline" / "tinydir" / os.fsdecode(name)).write_bytes(b"x")
    with Filesystem.open(work) as fs:
        ino = fs.lookup("/inline/tinydir")
        inode = fs.inode(ino)
        extra = system_data(fs.superblock, inode, Budget()) if inode.has_inline_data else None
        if not extra:
            pytest.skip("the kernel moved the directory out of inline data")
    if HAVE_E2FS:
        check = E.e2fsck(work)
        assert check.returncode == 0, check.stdout
    with (
        _kernel_mount(work, tmp_path / "ro") as mnt,
        Filesystem.open(work) as fs,
    ):
        kernel_dir = mnt / "inline" / "tinydir"
        kernel = {os.fsencode(n): os.lstat(kernel_dir / n).st_ino for n in os.listdir(kernel_dir)}
        listed, findings = fs.iterdir(ino)
        assert findings == []
        assert {e.name: e.inode for e in listed} == kernel
        assert set(names) <= set(kernel)
        for name, number in kernel.items():
            assert fs.lookup(b"/inline/tinydir/" + name) == number
        with pytest.raises(Ext4Error):
            fs.lookup(b"/inline/tinydir/not-there")
