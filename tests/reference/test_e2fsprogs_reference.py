"""Tests of the e2fsprogs wrappers against facts each test controls (image geometry chosen at
mke2fs time, file contents written by the test, xattrs set by the test).  Expected values never
come from earlier wrapper output."""

from __future__ import annotations

import itertools
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from tests.reference import e2fsprogs as E

pytestmark = pytest.mark.skipif(
    not E.available() or shutil.which("mke2fs", path="/usr/sbin:/sbin:/usr/bin") is None,
    reason="e2fsprogs (dumpe2fs, debugfs, mke2fs) not installed",
)

MKE2FS = shutil.which("mke2fs", path="/usr/sbin:/sbin:/usr/bin") or "mke2fs"
QUOTED = b'say "hi"\tnow, back\\slash ok'
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TZ": "UTC", "LC_ALL": "C"}


def mkfs(img: Path, size: str, *args: str, src: Path | None = None) -> Path:
    argv = [MKE2FS, "-q", "-F", *args]
    if src is not None:
        argv += ["-d", str(src)]
    subprocess.run([*argv, str(img), size], check=True, capture_output=True, env=ENV)
    return img


def dbg_w(img: Path, *requests: str) -> None:
    for req in requests:
        E.debugfs(img, req, writable=True)


def write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


def sparse(path: Path, offsets: list[int], chunk: bytes, size: int | None = None) -> None:
    with open(path, "wb") as f:
        for off in offsets:
            f.seek(off)
            f.write(chunk)
        if size is not None:
            f.truncate(size)


# --------------------------------------------------------------------------------------------
# superblock / groups


def test_superblock_geometry_matches_mke2fs_arguments(tmp_path: Path) -> None:
    before = int(time.time())
    img = mkfs(
        tmp_path / "a.img",
        "4M",
        "-t",
        "ext4",
        "-b",
        "1024",
        "-N",
        "512",
        "-I",
        "256",
        "-L",
        "ref vol",
        "-U",
        "01234567-89ab-cdef-0123-456789abcdef",
        "-O",
        "^has_journal",
    )
    sb = E.superblock(img)
    assert sb["Inode count"] == 512
    assert sb["Block size"] == 1024
    assert sb["Block count"] == 4096
    assert sb["First block"] == 1
    assert sb["Inode size"] == 256  # printed with a TAB after the colon
    assert sb["Filesystem magic number"] == 0xEF53
    assert sb["Filesystem revision #"] == 1
    assert sb["Filesystem volume name"] == "ref vol"
    assert sb["Filesystem UUID"] == "01234567-89ab-cdef-0123-456789abcdef"
    feats = sb["Filesystem features"]
    assert isinstance(feats, list)
    assert {"extent", "metadata_csum", "64bit"} <= set(feats)
    assert "has_journal" not in feats
    assert "Journal features" not in sb
    assert sb["Last mount time"] is None  # "n/a"
    assert sb.raw["Last mount time"] == "n/a"
    assert sb["Last mounted on"] is None  # "<not available>"
    created = sb["Filesystem created"]
    assert isinstance(created, int) and before - 5 <= created <= int(time.time()) + 5
    assert isinstance(sb["Checksum"], int)
    assert sb.raw["Checksum"].startswith("0x")


def test_superblock_journal_section_and_variants(tmp_path: Path) -> None:
    img = mkfs(tmp_path / "j.img", "8M", "-t", "ext4", "-b", "1024", "-J", "size=1")
    sb = E.superblock(img)
    assert sb["Total journal blocks"] == 1024
    assert sb["Total journal size"] == 1024 * 1024  # printed "1024k"
    assert sb["Journal inode"] == 8
    assert sb["Journal start"] == 0
    assert sb["Journal features"] == []  # "(none)" on a fresh journal
    big = mkfs(tmp_path / "b.img", "32M", "-t", "ext4", "-O", "bigalloc", "-C", "16384")
    sbb = E.superblock(big)
    assert sbb["Cluster size"] == 16384 and "Fragment size" not in sbb
    assert sbb["Clusters per group"] == 8192
    old = mkfs(tmp_path / "o.img", "4M", "-t", "ext2", "-I", "128", "-O", "^64bit")
    sbo = E.superblock(old)
    assert sbo["Inode size"] == 128
    assert "Group descriptor size" not in sbo  # printed only with 64bit
    assert "Checksum" not in sbo


def test_groups_are_consistent_with_superblock(tmp_path: Path) -> None:
    img = mkfs(tmp_path / "g.img", "20M", "-t", "ext4", "-b", "1024", "-g", "8192")
    sb = E.superblock(img)
    gs = E.groups(img)
    assert len(gs) == -(-(sb.int("Block count") - sb.int("First block")) // 8192)
    assert [g.number for g in gs] == list(range(len(gs)))
    assert gs[0].first_block == 1 and gs[-1].last_block == sb.int("Block count") - 1
    for a, b in itertools.pairwise(gs):
        assert b.first_block == a.last_block + 1
    assert sum(g.free_blocks_count for g in gs) == sb["Free blocks"]
    assert sum(g.free_inodes_count for g in gs) == sb["Free inodes"]
    ipb = sb.int("Inode blocks per group")
    for g in gs:
        assert g.inode_table_at[1] - g.inode_table_at[0] + 1 == ipb
        assert g.csum is not None and g.block_bitmap_csum is not None
        assert g.free_units == "blocks"
    assert gs[0].superblock == "Primary" and gs[0].superblock_at == 1
    assert gs[1].superblock == "Backup" and gs[1].superblock_at == 8193
    assert gs[0].group_descriptors_at is not None
    assert any("INODE_UNINIT" in g.flags for g in gs[1:])
    assert gs[1].block_bitmap_rel is not None and gs[1].block_bitmap_rel.startswith("bg #0 + ")


def test_groups_variants(tmp_path: Path) -> None:
    meta = mkfs(
        tmp_path / "m.img", "40M", "-t", "ext4", "-b", "1024", "-O", "meta_bg,^resize_inode"
    )
    gm = E.groups(meta)
    assert gm[0].group_descriptor_at == 2 and gm[0].group_descriptors_at is None
    assert gm[0].reserved_gdt_at is None
    nocsum = mkfs(
        tmp_path / "u.img", "20M", "-t", "ext4", "-b", "1024", "-O", "^metadata_csum,uninit_bg"
    )
    gu = E.groups(nocsum)
    assert all(g.csum is not None for g in gu)  # uninit_bg: crc16 group checksum
    assert all(g.block_bitmap_csum is None for g in gu)  # bitmap csums need metadata_csum
    plain = mkfs(tmp_path / "p.img", "4M", "-t", "ext2", "-b", "1024")
    gp = E.groups(plain)
    assert gp[0].csum is None and gp[0].flags == () and gp[0].unused_inodes is None
    big = mkfs(tmp_path / "b.img", "32M", "-t", "ext4", "-O", "bigalloc", "-C", "16384")
    assert E.groups(big)[0].free_units == "clusters"


# --------------------------------------------------------------------------------------------
# inodes


@pytest.fixture(scope="module")
def tree_img(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tree")
    src = base / "src"
    write(src / "known.bin", bytes(range(256)) * 20, 0o640)  # 5120 bytes
    if os.geteuid() == 0:
        os.chown(src / "known.bin", 1234, 4321)
    os.symlink("known.bin", src / "fast")
    os.symlink("x" * 200, src / "slow")
    os.link(src / "known.bin", src / "hard")
    if os.geteuid() == 0:
        os.mknod(src / "chr", 0o600 | 0o020000, os.makedev(1, 3))
    sparse(src / "holes", [i * 2048 for i in range(10)], b"H" * 1024)  # 10 extents
    d = src / "dir"
    d.mkdir()
    for i in range(50):
        (d / f"f{i:03d}").write_bytes(b"")
    for odd in (b"with space", b"new\nline", b"bad\xffbyte", b"back\\slash", b"x" * 255):
        (d / os.fsdecode(odd)).write_bytes(b"o")
    return mkfs(base / "t.img", "8M", "-t", "ext4", "-b", "1024", "-N", "256", src=src)


def test_inode_stat_regular_file(tree_img: Path) -> None:
    st = E.inode_stat(tree_img, "/known.bin")
    assert st.type == "regular"
    assert st.mode == 0o640
    assert st.size == 5120
    assert st.links == 2  # "hard" links to it
    assert st.blockcount == 10  # 5 KiB in 512-byte sectors
    if os.geteuid() == 0:
        assert (st.user, st.group) == (1234, 4321)
    assert st.extra_isize == 32 and st.project == 0
    assert set(st.times) == {"ctime", "atime", "mtime", "crtime"}
    assert st.times["mtime"].extra is not None
    assert st.checksum is not None
    assert st.extents is not None and st.blocks is None
    assert sum(s.physical_end - s.physical_start + 1 for s in st.extents) == 5
    assert E.inode_stat(tree_img, st.inode).inode == st.inode  # <N> form


def test_inode_raw_matches_stat(tree_img: Path) -> None:
    st = E.inode_stat(tree_img, "/known.bin")
    raw = E.inode_raw(tree_img, "/known.bin")
    assert len(raw) == 256
    i_mode, i_uid, i_size_lo = struct.unpack_from("<HHI", raw, 0)
    assert i_mode == 0o100000 | st.mode
    assert i_size_lo == 5120
    assert i_uid == st.user & 0xFFFF
    assert struct.unpack_from("<I", raw, 0x20)[0] == st.flags
    assert struct.unpack_from("<H", raw, 0x1A)[0] == st.links
    assert struct.unpack_from("<H", raw, 0x80)[0] == st.extra_isize
    assert E.inode_raw(tree_img, "/known.bin", part="i_block") == raw[0x28 : 0x28 + 60]
    assert raw[0x28:0x2A] == b"\x0a\xf3"  # extent header magic


def test_symlinks_and_device(tree_img: Path) -> None:
    assert E.inode_stat(tree_img, "/fast").fast_link_dest == b"known.bin"
    slow = E.inode_stat(tree_img, "/slow")
    assert slow.fast_link_dest is None and slow.size == 200 and slow.extents
    if os.geteuid() == 0:
        chr_ = E.inode_stat(tree_img, "/chr")
        assert chr_.type == "character special" and chr_.device == (1, 3)


def test_extents_tree_of_sparse_file(tree_img: Path) -> None:
    rows = E.extents(tree_img, "/holes")
    leaves = [r for r in rows if r.is_leaf]
    assert [r.logical_start for r in leaves] == [i * 2 for i in range(10)]
    assert all(r.length == 1 and not r.uninit for r in leaves)
    index = [r for r in rows if not r.is_leaf]
    assert index and index[0].level == 0 and index[0].max_depth == 1  # > 4 extents: depth 1
    for r in leaves:
        assert E.bmap(tree_img, "/holes", r.logical_start) == r.physical_start
        assert E.bmap(tree_img, "/holes", r.logical_start + 1) == 0  # hole
    st = E.inode_stat(tree_img, "/holes")
    assert st.extents is not None
    assert [s.kind for s in st.extents].count("ETB0") == 1
    assert len(E.blocks(tree_img, "/holes")) == 11  # 10 data blocks + 1 extent-tree block


def test_uninit_extent_via_debugfs_fallocate(tmp_path: Path) -> None:
    img = mkfs(tmp_path / "f.img", "8M", "-t", "ext4", "-b", "1024")
    dbg_w(img, "write /dev/null fa", "fallocate /fa 0 19")
    rows = E.extents(img, "/fa")
    assert len(rows) == 1 and rows[0].uninit and rows[0].length == 20
    st = E.inode_stat(img, "/fa")
    assert st.extents is not None and st.extents[0].uninit


def test_block_map_ind_dind_tind(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    offs = [0, 12 * 1024, 300 * 1024, 70 * 1024 * 1024]  # direct, IND, DIND, TIND at 1 KiB
    sparse(src / "holey", offs, b"Q" * 1024)
    img = mkfs(tmp_path / "e2.img", "8M", "-t", "ext2", "-b", "1024", "-I", "128", src=src)
    st = E.inode_stat(img, "/holey")
    assert st.extents is None and st.blocks is not None
    kinds = [s.kind for s in st.blocks]
    assert {"IND", "DIND", "TIND"} <= set(kinds)
    data = [s for s in st.blocks if s.kind == "data"]
    assert [s.logical_start for s in data] == [o // 1024 for o in offs]
    assert st.blocks_total == len(st.blocks) == 10
    assert E.blocks(img, "/holey") == [s.physical_start for s in st.blocks]
    assert st.extra_isize is None and st.times["mtime"].extra is None  # 128-byte inode
    assert len(E.inode_raw(img, "/holey")) == 128
    with pytest.raises(E.E2fsprogsError, match="does not use"):
        E.extents(img, "/holey")


# --------------------------------------------------------------------------------------------
# directories


def test_ls_counts_names_and_rec_len(tree_img: Path) -> None:
    ents = E.ls(tree_img, "/dir")
    names = [e.name for e in ents]
    assert len(ents) == 50 + 5 + 2
    assert names[:2] == [b".", b".."]
    for odd in (b"with space", b"new\nline", b"bad\xffbyte", b"back\\slash", b"x" * 255):
        assert odd in names
    assert all(e.file_type == 1 for e in ents[2:])
    assert all(e.rec_len >= 12 and e.rec_len % 4 == 0 for e in ents)
    with_csum = E.ls(tree_img, "/dir", checksums=True)
    tails = [e for e in with_csum if e.checksum is not None]
    blocks_ = E.inode_stat(tree_img, "/dir").size // 1024
    assert len(tails) == blocks_  # one dirent tail per directory block (metadata_csum)
    assert sum(e.rec_len for e in ents) + 12 * blocks_ == blocks_ * 1024


def test_ls_deleted_entries(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src / "keep", b"k")
    write(src / "gone", b"g")
    img = mkfs(tmp_path / "d.img", "4M", "-t", "ext4", "-b", "1024", src=src)
    dbg_w(img, "unlink /gone")
    assert b"gone" not in [e.name for e in E.ls(img, "/")]
    dead = [e for e in E.ls(img, "/", deleted=True) if e.deleted]
    assert [e.name for e in dead] == [b"gone"] and dead[0].ino == 0


def test_htree_dump_of_large_directory(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "big").mkdir(parents=True)
    for i in range(2000):
        (src / "big" / f"file_{i}").write_bytes(b"")
    img = mkfs(tmp_path / "h.img", "8M", "-t", "ext4", "-b", "1024", src=src)
    subprocess.run(["e2fsck", "-fyD", str(img)], capture_output=True, env=ENV, check=False)
    st = E.inode_stat(img, "/big")
    assert st.flags & 0x1000  # EXT4_INDEX_FL
    h = E.htree(img, "/big")
    assert h.root["Indirect levels"] == 0 and h.root["Reserved zero"] == 0
    assert h.root["Info length"] == 8
    root = h.nodes[0]
    assert root.depth == 0 and root.count == len(root.entries) == len(h.leaves)
    assert root.count <= root.limit
    assert [e.block for e in root.entries] == [lf.block for lf in h.leaves]
    assert root.entries[0].hash == 0
    hashes = [e.hash for e in root.entries]
    assert hashes == sorted(hashes)
    names = {e.name for lf in h.leaves for e in lf.entries}
    assert {f"file_{i}".encode() for i in range(2000)} <= names
    for lf in h.leaves:
        assert lf.phys == E.dirblock(img, "/big", lf.block)
        assert lf.checksum is not None
        assert all(x.hash >= root.entries[h.leaves.index(lf)].hash & ~1 for x in lf.entries)
    assert len(st.extents or ()) >= 1


def test_htree_two_levels(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    for i in range(700):
        (src / "d" / (f"n{i:04d}_" + "x" * 200)).write_bytes(b"")
    img = mkfs(tmp_path / "h2.img", "16M", "-t", "ext4", "-b", "1024", "-N", "1024", src=src)
    subprocess.run(["e2fsck", "-fyD", str(img)], capture_output=True, env=ENV, check=False)
    h = E.htree(img, "/d")
    assert h.indirect_levels == 1
    inner = [n for n in h.nodes if n.depth == 1]
    assert sorted(n.block for n in inner) == sorted(e.block for e in h.nodes[0].entries)
    assert sum(n.count for n in inner) == len(h.leaves)
    assert sum(len(lf.entries) for lf in h.leaves) >= 700


# --------------------------------------------------------------------------------------------
# xattrs, inline data


def test_xattrs_set_by_debugfs(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src / "f", b"data")
    img = mkfs(tmp_path / "x.img", "4M", "-t", "ext4", "-b", "1024", src=src)
    binval = tmp_path / "bin"
    binval.write_bytes(b"a\x00b\xffc" * 20)  # 100 bytes: hidden by the stat-format listing
    quoted = tmp_path / "quoted"
    quoted.write_bytes(QUOTED)  # printable enough to be listed as a C-escaped string
    dbg_w(
        img,
        "ea_set /f user.k value",
        f"ea_set -f {binval} /f user.bin",
        f"ea_set -f {quoted} /f trusted.q",
    )
    got = E.xattrs(img, "/f")
    assert got["user.k"] == b"value"
    assert got["user.bin"] == b"a\x00b\xffc" * 20
    assert got["trusted.q"] == QUOTED
    listed = {x.name: x for x in E.xattr_names(img, "/f")}
    assert listed["user.k"].value == b"value" and listed["user.k"].length == 5
    assert listed["user.bin"].value is None and listed["user.bin"].length == 100
    assert listed["trusted.q"].value == QUOTED
    assert listed["trusted.q"].printed_as == "string"
    st = E.inode_stat(img, "/f")
    assert {x.name for x in st.xattrs} == set(got)


def test_inline_data(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src / "tiny", b"tiny\n")
    img = mkfs(tmp_path / "i.img", "4M", "-t", "ext4", "-O", "inline_data", src=src)
    st = E.inode_stat(img, "/tiny")
    assert st.flags & 0x10000000  # EXT4_INLINE_DATA_FL
    assert st.inline_data_size is not None and st.extents is None
    assert "system.data" in E.xattrs(img, "/tiny")
    assert E.inode_raw(img, "/tiny", part="i_block")[:5] == b"tiny\n"


# --------------------------------------------------------------------------------------------
# journal


def test_journal_transactions_written_by_debugfs(tmp_path: Path) -> None:
    img = mkfs(tmp_path / "j.img", "8M", "-t", "ext4", "-b", "1024", "-J", "size=1")
    payload = tmp_path / "payload"
    payload.write_bytes(os.urandom(2048))
    cmds = tmp_path / "cmds"
    cmds.write_text(f"jo\njw -b 300,301 {payload}\njc\njo\njw -r 300\njc\n")
    subprocess.run(
        ["debugfs", "-w", "-f", str(cmds), str(img)], check=True, capture_output=True, env=ENV
    )
    j = E.journal(img)
    assert j.start_block == 1 and j.start_transaction == 1
    assert [(b.kind, b.sequence) for b in j.blocks] == [
        ("descriptor", 1),
        ("commit", 1),
        ("revoke", 2),
        ("commit", 2),
    ]
    assert [(t.fs_block, t.journal_block) for t in j.blocks[0].tags] == [(300, 2), (301, 3)]
    assert j.blocks[0].tags[-1].flags & 0x8  # JBD2_FLAG_LAST_TAG
    assert j.blocks[2].revoked == (300,)
    assert j.transactions == [1, 2]
    assert j.end is not None and "end of journal" in j.end
    assert j.superblock["Total journal blocks"] == 1024
    assert "journal_incompat_revoke" in j.superblock.list("Journal features")
    assert E.superblock(img)["Journal start"] == 1


@pytest.mark.needs_root
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a loop mount")
def test_journal_from_kernel_mount(tmp_path: Path) -> None:
    img = mkfs(tmp_path / "k.img", "8M", "-t", "ext4", "-b", "1024")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if (
        subprocess.run(
            ["mount", "-o", "loop", str(img), str(mnt)], capture_output=True, check=False
        ).returncode
        != 0
    ):
        pytest.skip("loop mount unavailable")
    try:
        (mnt / "a").write_bytes(b"x" * 3000)
        subprocess.run(["sync"], check=True)
        snap = tmp_path / "snap.img"
        shutil.copyfile(img, snap)  # journal not yet checkpointed in the copy
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    j = E.journal(snap)
    assert "journal_checksum_v3" in j.superblock.list("Journal features")
    assert any(b.kind == "commit" for b in j.blocks)
    assert E.superblock(img)["Mount count"] == 1


# --------------------------------------------------------------------------------------------
# small lookups, block IO, errors


def test_lookups_and_block_bytes(tree_img: Path) -> None:
    st = E.inode_stat(tree_img, "/known.bin")
    assert st.extents is not None
    first = st.extents[0].physical_start
    assert E.icheck(tree_img, [first]) == {first: st.inode}
    paths = E.ncheck(tree_img, [st.inode])[st.inode]
    assert sorted(p.lstrip(b"/") for p in paths) == [b"hard", b"known.bin"]
    assert E.testb(tree_img, first, 2) == {first: True, first + 1: True}
    assert E.testi(tree_img, "/known.bin")
    data = E.block_bytes(tree_img, first)
    assert data == (bytes(range(256)) * 4)
    assert E.block_dump(tree_img, first) == data


def test_hexdump_parser_handles_repeats_and_octal_offsets() -> None:
    row = "0000  0102 0304 0506 0708 090a 0b0c 0d0e 0f10  ................\n"
    zero = "0020  0000 0000 0000 0000 0000 0000 0000 0000  ................\n"
    text = row + zero + "*\n" + "0100  ffff 0000 0000 0000 0000 0000 0000 0000  ..\n*\n\n"
    buf = E._parse_hexdump(text.encode(), 128)
    assert buf[:16] == bytes(range(1, 17))
    assert buf[16:64] == bytes(48)
    assert buf[64:] == (b"\xff\xff" + bytes(14)) * 4  # "*": the previous row repeats to the end


def test_errors_raise_with_stderr(tree_img: Path, tmp_path: Path) -> None:
    with pytest.raises(E.E2fsprogsError, match="File not found"):
        E.inode_stat(tree_img, "/does-not-exist")
    junk = tmp_path / "junk.img"
    junk.write_bytes(bytes(1 << 20))
    with pytest.raises(E.E2fsprogsError) as ei:
        E.superblock(junk)
    assert ei.value.returncode != 0
    assert E.e2fsck(tree_img).returncode == 0
