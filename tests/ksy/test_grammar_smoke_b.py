"""Smoke checks of the extent, directory, htree, xattr and jbd2 grammars.

Images are built with e2fsprogs (mke2fs -d, e2fsck -D, debugfs) and each record is decoded
with the generated classes and compared with what debugfs/dumpe2fs print for the same image.
Then the generated code is fed garbage and mutated real blocks: it may only raise Kaitai
errors or EOFError. The full e2fsprogs comparison suite lives elsewhere; this is the
grammar author's self-check.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import kaitaistruct
import pytest
from kaitaistruct import KaitaiStream, KaitaiStruct

from ext4guard.parser._ksy.ext4_dir import Ext4Dir
from ext4guard.parser._ksy.ext4_extent import Ext4Extent
from ext4guard.parser._ksy.ext4_htree import Ext4Htree
from ext4guard.parser._ksy.ext4_xattr import Ext4Xattr
from ext4guard.parser._ksy.jbd2 import Jbd2

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("mke2fs", "debugfs", "e2fsck", "dumpe2fs")),
    reason="e2fsprogs is not installed",
)

BS = 1024
MKFS_EXT4 = ("mke2fs", "-q", "-F", "-t", "ext4", "-b", str(BS), "-O", "metadata_csum,64bit")
ALLOWED = (kaitaistruct.KaitaiStructError, EOFError)
PREFIX = {
    1: "user.",
    2: "system.posix_acl_access",
    3: "system.posix_acl_default",
    4: "trusted.",
    6: "security.",
    7: "system.",
}
# ext4 on-disk ACL we expect debugfs to store: (tag, perm, id or None)
ACL = [(1, 6, None), (2, 4, 1000), (4, 4, None), (8, 6, 50), (0x10, 6, None), (0x20, 4, None)]


def io(data: bytes) -> KaitaiStream:
    return KaitaiStream(BytesIO(data))


def run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def debugfs(img: Path, cmd: str) -> str:
    return run("debugfs", "-R", cmd, str(img))


def debugfs_w(img: Path, script: str) -> None:
    subprocess.run(
        ["debugfs", "-w", "-f", "-", str(img)],
        input=script,
        check=True,
        capture_output=True,
        text=True,
    )


def block(img: Path, n: int) -> bytes:
    with img.open("rb") as f:
        f.seek(n * BS)
        return f.read(BS)


def blocks(img: Path, path: str) -> list[int]:
    return [int(x) for x in debugfs(img, f"blocks {path}").split()]


def inode_bytes(img: Path, path: str) -> bytes:
    m = re.search(r"located at block (\d+), offset 0x([0-9a-f]+)", debugfs(img, f"imap {path}"))
    assert m
    with img.open("rb") as f:
        f.seek(int(m[1]) * BS + int(m[2], 16))
        return f.read(256)


def file_acl(img: Path, path: str) -> int:
    m = re.search(r"File ACL: (\d+)", debugfs(img, f"stat {path}"))
    assert m
    return int(m[1])


def journal_write(img: Path, data: Path) -> None:
    debugfs_w(img, f"jo\njw -b 300,301,302 {data}\njw -r 400,401\njc\n")


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("smoke_b")
    src = tmp / "src"
    (src / "many").mkdir(parents=True)
    rng = random.Random(1)
    with (src / "frag.bin").open("wb") as f:  # 400 data chunks between holes: a depth-2 tree
        for i in range(400):
            f.seek(i * 2 * BS)
            f.write(rng.randbytes(BS))
    for i in range(2000):  # 108-byte dirents: > 123 leaves, so one dx_node level
        (src / "many" / (f"{i:05d}_" + "n" * 94)).touch()
    (src / "small.txt").write_text("hello\n")
    (src / "link").symlink_to("small.txt")
    os.mkfifo(src / "fifo")
    (tmp / "acl.bin").write_bytes(  # the VFS (version 2) form; e2fsprogs stores ext4's form
        struct.pack("<I", 2)
        + b"".join(struct.pack("<HHI", t, p, 0xFFFFFFFF if i is None else i) for t, p, i in ACL)
    )
    (tmp / "big.bin").write_bytes(bytes(range(256)) * 3)
    (tmp / "three.bin").write_bytes(rng.randbytes(3 * BS))

    img = tmp / "ext4.img"
    run(*MKFS_EXT4, "-d", str(src), str(img), "32M")
    e2fsck = subprocess.run(["e2fsck", "-fyD", str(img)], capture_output=True)
    assert e2fsck.returncode in (0, 1), e2fsck.stdout
    debugfs_w(
        img,
        f"""ea_set /small.txt user.k v
ea_set /small.txt trusted.tt hello-trusted
ea_set -f {tmp}/big.bin /small.txt user.big
ea_set -f {tmp}/acl.bin /small.txt system.posix_acl_access
write /dev/null prealloc
fallocate /prealloc 0 99
""",
    )
    journal_write(img, tmp / "three.bin")  # 64-bit tags, no journal checksums

    ext3 = tmp / "ext3.img"
    run("mke2fs", "-q", "-F", "-t", "ext3", "-b", str(BS), str(ext3), "8M")
    journal_write(ext3, tmp / "three.bin")  # 32-bit tags
    return {"ext4": img, "ext3": ext3, "tmp": tmp}


# --- extents -----------------------------------------------------------------------------------


def walk_extents(img: Path, node_bytes: bytes, level: int, out: list[tuple[Any, ...]]) -> None:
    node = Ext4Extent.Node(io(node_bytes))
    n = node.header.eh_entries
    if node.is_leaf:
        for i, e in enumerate(node.extents, 1):
            out.append(("leaf", level, i, n, e.ee_block, e.start, e.len, e.is_unwritten))
        return
    for i, x in enumerate(node.indexes, 1):
        out.append(("idx", level, i, n, x.ei_block, x.leaf))
        child = block(img, x.leaf)
        assert Ext4Extent.Node(io(child)).has_tail
        walk_extents(img, child, level + 1, out)


def debugfs_extents(img: Path, path: str) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for line in debugfs(img, f"ex {path}").splitlines()[1:]:
        nums = [int(x) for x in re.findall(r"\d+", line)]
        if len(nums) == 9:  # leaf: lvl/max i/n lstart - lend pstart - pend len [Uninit]
            lvl, _, i, n, lblk, _, pblk, _, length = nums
            out.append(("leaf", lvl, i, n, lblk, pblk, length, "Uninit" in line))
        else:  # index: lvl/max i/n lstart - lend pblk len
            lvl, _, i, n, lblk, _, pblk, _ = nums
            out.append(("idx", lvl, i, n, lblk, pblk))
    return out


@pytest.mark.parametrize("path", ["/frag.bin", "/prealloc", "/small.txt"])
def test_extent_tree_matches_debugfs(images: dict[str, Path], path: str) -> None:
    img = images["ext4"]
    mine: list[tuple[Any, ...]] = []
    i_block = inode_bytes(img, path)[0x28 : 0x28 + 60]
    walk_extents(img, i_block, 0, mine)
    assert mine == debugfs_extents(img, path)
    assert not Ext4Extent.Node(io(i_block)).has_tail
    if path == "/frag.bin":
        assert Ext4Extent.Node(io(i_block)).header.eh_depth == 2
    if path == "/prealloc":
        assert mine == [("leaf", 0, 1, 1, 0, mine[0][5], 100, True)]


def test_extent_len_encoding() -> None:
    def leaf(ee_len: int) -> Any:
        return Ext4Extent.ExtentLeaf(io(struct.pack("<IHHI", 7, ee_len, 1, 2)))

    assert (leaf(32768).len, leaf(32768).is_unwritten) == (32768, False)
    assert (leaf(32769).len, leaf(32769).is_unwritten) == (1, True)
    assert (leaf(65535).len, leaf(65535).is_unwritten) == (32767, True)
    assert leaf(1).start == (1 << 32) | 2
    with pytest.raises(kaitaistruct.ValidationFailedError):  # 5 entries cannot fit in i_block
        Ext4Extent.Node(io(struct.pack("<HHHHI", 0xF30A, 5, 5, 0, 0) + bytes(48)))
    with pytest.raises(kaitaistruct.ValidationFailedError):  # eh_max beyond a 4 KiB block
        Ext4Extent.Node(io(struct.pack("<HHHHI", 0xF30A, 0, 0xFFFF, 0, 0) + bytes(4084)))


# --- directories and htree ---------------------------------------------------------------------


def walk_leaf(data: bytes) -> tuple[list[tuple[int, int, bytes]], int | None]:
    entries: list[tuple[int, int, bytes]] = []
    offset = 0
    while offset < len(data):
        if offset == len(data) - 12:
            try:
                return entries, Ext4Dir.DirEntryTail(io(data[offset:])).det_checksum
            except kaitaistruct.ValidationFailedError:
                pass
        d = Ext4Dir.DirEntry2(io(data[offset:]))
        assert offset + d.rec_len_bytes <= len(data)
        entries.append((d.inode, d.rec_len, d.name))
        offset += d.rec_len_bytes
    return entries, None


def test_htree_matches_htree_dump(images: dict[str, Path]) -> None:
    img = images["ext4"]
    dump = debugfs(img, "htree_dump /many")
    phys = blocks(img, "/many")
    root = Ext4Htree.DxRoot(io(block(img, phys[0])))
    info = root.info
    assert f"Hash Version: {int(info.hash_version.value)}" in dump
    assert f"Indirect levels: {info.indirect_levels}" in dump
    assert info.indirect_levels == 1 and info.info_length == 8 and info.reserved_zero == 0
    assert root.dot_name == b".\0\0\0" and root.dotdot.rec_len == BS - 12

    countlimits: list[tuple[int, int, int]] = []
    entries: list[tuple[int, int]] = []
    leaves: list[tuple[int, int, bytes]] = []
    leaf_csums: list[int | None] = []

    def visit(node: Any, level: int) -> None:
        countlimits.append((node.countlimit.count, node.countlimit.limit, node.tail.dt_checksum))
        pairs = [(0, node.block)] + [(e.hash, e.block) for e in node.entries]
        entries.extend(pairs)  # htree_dump lists a node's entries, then each with its subtree
        for h, b in pairs:
            entries.append((h, b))
            if level < info.indirect_levels:
                child = Ext4Htree.DxNode(io(block(img, phys[b])))
                assert child.fake.inode == 0 and child.fake.rec_len == BS
                visit(child, level + 1)
            else:
                found, csum = walk_leaf(block(img, phys[b]))
                leaves.extend(found)
                leaf_csums.append(csum)

    visit(root, 0)
    assert countlimits == [
        (int(c), int(lim), int(s, 16))
        for c, lim, s in re.findall(
            r"count\): (\d+)\nNumber of entries \(limit\): (\d+)\nChecksum: (0x[0-9a-f]+)", dump
        )
    ]
    assert entries == [
        (int(h, 16), int(b))
        for h, b in re.findall(r"Entry #\d+: Hash (0x[0-9a-f]+)(?: \(\*\*\))?, block (\d+)", dump)
    ]
    assert leaves == [
        (int(i), int(r), n.encode())
        for i, r, n in re.findall(r"^(\d+) 0x[0-9a-f]+-[0-9a-f]+ \((\d+)\) (\S+)", dump, re.M)
    ]
    assert leaf_csums == [
        int(s, 16) for s in re.findall(r"leaf block checksum: (0x[0-9a-f]+)", dump)
    ]
    assert len({n for _, _, n in leaves if n.startswith(b"0")}) == 2000


def test_linear_dir_matches_ls(images: dict[str, Path]) -> None:
    img = images["ext4"]
    data = block(img, blocks(img, "/")[0])
    found, csum = walk_leaf(data)
    assert csum is not None
    types, offset = {}, 0
    while offset < BS - 12:
        d = Ext4Dir.DirEntry2(io(data[offset:]))
        types[d.name] = (d.inode, d.file_type)
        offset += d.rec_len_bytes
    assert [(i, n) for i, _, n in found] == [(i, n) for n, (i, _) in types.items()]
    ls = re.findall(
        r"^\s*(\d+)\s+\d+ \((\d+)\)\s+\d+\s+\d+\s+\d+\s+\S+ \S+ (.*)$",
        debugfs(img, "ls -l /"),
        re.M,
    )
    assert {n.encode(): (int(i), int(t)) for i, t, n in ls} == {
        n: (i, int(t.value)) for n, (i, t) in types.items()
    }
    assert types[b"link"][1] == Ext4Dir.FileType.symlink
    assert types[b"fifo"][1] == Ext4Dir.FileType.fifo
    assert types[b"many"][1] == Ext4Dir.FileType.dir


def test_dirent_validation() -> None:
    ok = Ext4Dir.DirEntry2(io(struct.pack("<IHBB", 12, 12, 3, 1) + b"\xff\xfe/"))
    assert ok.name == b"\xff\xfe/" and ok.file_type == Ext4Dir.FileType.reg_file
    assert Ext4Dir.DirEntry2(io(struct.pack("<IHBB", 0, 65535, 0, 0))).rec_len_bytes == 65536
    for rec_len, name_len in [(0, 0), (8, 0), (14, 0), (12, 5)]:
        with pytest.raises(kaitaistruct.ValidationFailedError):
            Ext4Dir.DirEntry2(io(struct.pack("<IHBB", 1, rec_len, name_len, 1) + bytes(300)))
    bad_root = bytearray(BS)
    struct.pack_into("<IBBBB", bad_root, 0x18, 0, 1, 8, 3, 0)  # indirect_levels 3
    with pytest.raises(kaitaistruct.ValidationFailedError):
        Ext4Htree.DxRoot(io(bytes(bad_root)))
    struct.pack_into("<IBBBBHH", bad_root, 0x18, 0, 1, 8, 0, 0, 10, 11)  # count > limit
    with pytest.raises(kaitaistruct.ValidationFailedError):
        Ext4Htree.DxRoot(io(bytes(bad_root)))


# --- extended attributes -----------------------------------------------------------------------


def walk_xattrs(region: bytes, first: int, base: int) -> Iterator[tuple[str, bytes]]:
    offset = first
    while region[offset : offset + 4] != bytes(4):
        e = Ext4Xattr.XattrEntry(io(region[offset:]))
        prefix = PREFIX[int(getattr(e.e_name_index, "value", e.e_name_index))]
        assert e.e_value_inum == 0
        start = base + e.e_value_offs
        yield prefix + e.e_name.decode(), region[start : start + e.e_value_size]
        offset += e.entry_len


def test_xattrs_match_ea_list(images: dict[str, Path]) -> None:
    img = images["ext4"]
    raw = inode_bytes(img, "/small.txt")
    extra = struct.unpack_from("<H", raw, 0x80)[0]
    ibody = raw[0x80 + extra :]
    Ext4Xattr.XattrIbodyHeader(io(ibody))
    found = dict(walk_xattrs(ibody, 4, 4))
    acl_block = file_acl(img, "/small.txt")
    data = block(img, acl_block)
    hdr = Ext4Xattr.XattrHeader(io(data))
    assert (hdr.h_refcount, hdr.h_blocks) == (1, 1)
    found.update(walk_xattrs(data, 32, 0))
    listing = debugfs(img, "ea_list /small.txt")
    assert sorted(found) == sorted(re.findall(r"^\s+(\S+) \(\d+\)", listing, re.M))
    for name, value in found.items():
        assert f"{name} ({len(value)})" in listing
    assert found["user.k"] == b"v" and found["trusted.tt"] == b"hello-trusted"
    assert found["user.big"] == bytes(range(256)) * 3
    acl = Ext4Xattr.PosixAcl(io(found["system.posix_acl_access"]))
    # a field whose `if:` is false is not set at all on the Python object
    assert [(int(e.e_tag.value), e.e_perm, getattr(e, "e_id", None)) for e in acl.entries] == ACL
    assert acl.entries[1].can_read and not acl.entries[1].can_write


# --- jbd2 --------------------------------------------------------------------------------------


def walk_journal(img: Path) -> tuple[Any, list[str]]:
    jblocks = blocks(img, "<8>")
    sb = Jbd2.JournalSuperblock(io(block(img, jblocks[0])))
    events: list[str] = []
    j, seq = sb.s_start, sb.s_sequence
    csum_room = 4 if sb.has_csum_v2or3 else 0
    for _ in range(sb.s_maxlen):  # a bounded walk; no wrap-around in these small logs
        data = block(img, jblocks[j])
        try:
            hdr = Jbd2.JournalHeader(io(data))
        except kaitaistruct.ValidationFailedError:
            break
        if hdr.h_sequence != seq:
            break
        kind = Jbd2.BlockType(hdr.h_blocktype)
        events.append(f"sequence {seq}, type {kind.value} at block {j}")
        if kind == Jbd2.BlockType.descriptor:
            offset, start = 12, j
            while offset + sb.tag_bytes <= BS - csum_room:
                tag = (
                    Jbd2.BlockTag3(sb.incompat_64bit, io(data[offset:]))
                    if sb.incompat_csum_v3
                    else Jbd2.BlockTag(sb.incompat_64bit, sb.incompat_csum_v2, io(data[offset:]))
                )
                j += 1
                events.append(f"FS block {tag.blocknr} at {j} flags {tag.t_flags:#x}")
                offset += tag.size_on_disk
                if tag.is_last_tag:
                    break
            assert j > start
        elif kind == Jbd2.BlockType.revoke:
            rev = Jbd2.RevokeHeader(sb.incompat_64bit, io(data))
            events.extend(f"Revoke FS block {b}" for b in rev.blocks)
        elif kind == Jbd2.BlockType.commit:
            commit = Jbd2.CommitHeader(io(data))
            assert commit.h_commit_sec > 0
            seq += 1
        j += 1
    return sb, events


def logdump_events(img: Path) -> list[str]:
    out = []
    for line in debugfs(img, "logdump -a").splitlines():
        if m := re.match(r"Found expected sequence (\d+), type (\d+) .* at block (\d+)", line):
            out.append(f"sequence {m[1]}, type {m[2]} at block {m[3]}")
        elif m := re.match(
            r"\s+FS block (\d+) logged at journal block (\d+) \(flags (0x\w+)\)", line
        ):
            out.append(f"FS block {m[1]} at {m[2]} flags {m[3]}")
        elif m := re.match(r"\s+Revoke FS block (\d+)", line):
            out.append(f"Revoke FS block {m[1]}")
    return out


def check_journal(img: Path) -> Any:
    sb, events = walk_journal(img)
    head = run("dumpe2fs", "-h", str(img))
    assert f"Total journal blocks:     {sb.s_maxlen}" in head
    assert f"Journal sequence:         {sb.s_sequence:#010x}" in head
    assert f"Journal start:            {sb.s_start}" in head
    assert events == logdump_events(img) and any("Revoke" in e for e in events)
    return sb


def test_jbd2_64bit_tags_match_logdump(images: dict[str, Path]) -> None:
    sb = check_journal(images["ext4"])
    assert sb.is_v2 and sb.incompat_64bit and sb.incompat_revoke and not sb.has_csum_v2or3
    assert sb.tag_bytes == 12 and sb.s_blocksize == BS and sb.unknown_incompat == 0


def test_jbd2_32bit_tags_match_logdump(images: dict[str, Path]) -> None:
    sb = check_journal(images["ext3"])
    assert not sb.incompat_64bit and sb.tag_bytes == 8


@pytest.mark.needs_root
def test_jbd2_kernel_csum_v3_transactions(images: dict[str, Path]) -> None:
    """A journal written by the kernel itself: 64bit + csum_v3 tags, revoke records."""
    if os.geteuid() != 0:
        pytest.skip("needs root to loop-mount")
    tmp = images["tmp"]
    live, copy, mnt = tmp / "live.img", tmp / "kernel.img", tmp / "mnt"
    run(*MKFS_EXT4, str(live), "16M")
    mnt.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-o", "loop", str(live), str(mnt)], capture_output=True).returncode:
        pytest.skip("loop mount is not available")
    try:
        for i in range(20):  # directory blocks journaled, then freed: revoke records
            (mnt / f"d{i}").mkdir()
            (mnt / f"d{i}" / "f").write_text(str(i))
        os.sync()
        for i in range(20):
            (mnt / f"d{i}" / "f").unlink()
            (mnt / f"d{i}").rmdir()
        os.sync()
        shutil.copyfile(live, copy)  # the journal still holds the transactions
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    sb = check_journal(copy)
    assert sb.incompat_csum_v3 and sb.tag_bytes == 16
    assert sb.s_checksum_type == Jbd2.ChecksumType.crc32c
    assert f"Journal checksum:         {sb.s_checksum:#010x}" in run("dumpe2fs", "-h", str(copy))


# --- hostile input -----------------------------------------------------------------------------

DECODERS: list[tuple[str, Callable[[KaitaiStream], KaitaiStruct]]] = (
    [
        ("extent node", Ext4Extent.Node),
        ("extent header", Ext4Extent.ExtentHeader),
        ("dirent", Ext4Dir.DirEntry2),
        ("dir tail", Ext4Dir.DirEntryTail),
        ("dx_root", Ext4Htree.DxRoot),
        ("dx_node", Ext4Htree.DxNode),
        ("xattr header", Ext4Xattr.XattrHeader),
        ("xattr ibody", Ext4Xattr.XattrIbodyHeader),
        ("xattr entry", Ext4Xattr.XattrEntry),
        ("posix acl", Ext4Xattr.PosixAcl),
        ("jbd2 superblock", Jbd2.JournalSuperblock),
        ("jbd2 commit", Jbd2.CommitHeader),
        ("jbd2 tail", Jbd2.BlockTail),
    ]
    + [
        (f"jbd2 tag 64={a} v2={b}", lambda s, a=a, b=b: Jbd2.BlockTag(a, b, s))
        for a in (False, True)
        for b in (False, True)
    ]
    + [(f"jbd2 tag3 64={a}", lambda s, a=a: Jbd2.BlockTag3(a, s)) for a in (False, True)]
    + [(f"jbd2 revoke 64={a}", lambda s, a=a: Jbd2.RevokeHeader(a, s)) for a in (False, True)]
)


def touch(obj: Any, depth: int = 0) -> None:
    """Evaluate every field and instance of a decoded record, as a careless caller would."""
    if depth > 4:
        return
    if isinstance(obj, list):
        for x in obj[:64]:
            touch(x, depth + 1)
    elif isinstance(obj, KaitaiStruct):
        for name in dir(type(obj)):
            if not name.startswith("_") and isinstance(getattr(type(obj), name), property):
                touch(getattr(obj, name), depth + 1)
        for name, value in list(vars(obj).items()):
            if not name.startswith("_"):
                touch(value, depth + 1)


def seeds(images: dict[str, Path]) -> list[bytes]:
    img = images["ext4"]
    jb, many = blocks(img, "<8>"), blocks(img, "/many")
    dx_node = many[Ext4Htree.DxRoot(io(block(img, many[0]))).block]
    picks = [many[0], dx_node, many[-1], jb[0], jb[1], jb[5], jb[6]]
    out = [block(img, b) for b in picks]
    i_block = inode_bytes(img, "/frag.bin")[0x28 : 0x28 + 60]
    out += [i_block, block(img, Ext4Extent.Node(io(i_block)).indexes[0].leaf)]
    acl = file_acl(img, "/small.txt")
    out.append(block(img, acl))
    out.append(struct.pack("<IHHHHI", 1, 1, 6, 2, 4, 1000))  # a posix_acl value
    return out


def test_hostile_input_raises_only_kaitai_errors(images: dict[str, Path]) -> None:
    rng = random.Random(0xE47)
    corpus = seeds(images)
    samples: list[bytes] = []
    for size in (0, 3, 12, 60, 1024, 4096):
        samples += [rng.randbytes(size) for _ in range(40)]
    for seed in corpus:  # bit flips and truncations of real records get past the magic checks
        for _ in range(150):
            mutant = bytearray(seed)
            for _ in range(rng.randint(1, 8)):
                mutant[rng.randrange(len(mutant))] ^= 1 << rng.randrange(8)
            samples.append(bytes(mutant[: rng.choice([len(mutant), rng.randrange(len(mutant))])]))
    for head in (b"\x0a\xf3", b"\x00\x00\x02\xea", b"\xc0\x3b\x39\x98"):
        samples += [head + rng.randbytes(1022) for _ in range(60)]
    decoded = 0
    for name, decode in DECODERS:
        for data in samples:
            try:
                touch(decode(io(data)))
                decoded += 1
            except ALLOWED:
                pass
            except Exception as exc:  # pragma: no cover - the failure message is the point
                pytest.fail(f"{name}: {type(exc).__name__}: {exc} on {data[:64].hex()}")
    assert decoded > 1000  # the mutants must reach past the headers, not only fail validation
