"""The seed images in corpus/seeds/ against their manifests.

Every image: e2fsck -fn is clean, dumpe2fs features match the manifest, and -- the reference
check -- the kernel's ext4 driver (read-only loop mount, noload) shows exactly the tree the
manifest describes. Plus: build_seeds.py --check reproduces a small image byte-identically.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.seeds import TYPE_NAMES, manifest_entries

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "corpus" / "seeds"
BUILD = ROOT / "corpus" / "build_seeds.py"
MANIFESTS = sorted(SEEDS.glob("*.json"))
NAMES = [m.stem for m in MANIFESTS]


IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
HAVE_E2FS = shutil.which("e2fsck") is not None and shutil.which("dumpe2fs") is not None

pytestmark = pytest.mark.skipif(not MANIFESTS, reason="no seed manifests in corpus/seeds")


def params() -> list[object]:
    out = []
    for n in NAMES:
        marks = [pytest.mark.slow] if n == "ext4_largedir" else []
        out.append(pytest.param(n, marks=marks, id=n))
    return out


def load(name: str) -> dict:
    return json.loads((SEEDS / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def raw_images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    d = tmp_path_factory.mktemp("seeds")
    cache: dict[str, Path] = {}

    class Lazy(dict):  # decompress on first use only
        def __missing__(self, name: str) -> Path:
            m = load(name)
            p = d / f"{name}.img"
            with lzma.open(SEEDS / m["image"]) as src, open(p, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            self[name] = p
            return p

    lazy = Lazy(cache)
    yield lazy


def test_manifests_are_complete() -> None:
    for m in MANIFESTS:
        man = json.loads(m.read_text())
        assert (SEEDS / man["image"]).is_file(), man["image"]
        assert man["image"] == f"{m.stem}.img.xz"
        paths = [e["path"] for e in man["entries"]]
        assert paths[:2] == ["/", "/lost+found"]
        assert len(paths) == len(set(paths))
        for e in man["entries"]:
            assert bytes.fromhex(e["path_hex"]) == os.fsencode(e["path"])
            assert e["type"] in TYPE_NAMES.values()


@pytest.mark.parametrize("name", params())
def test_image_decompresses_to_manifest_sha(name: str, raw_images: dict[str, Path]) -> None:
    m = load(name)
    data = raw_images[name].read_bytes()
    assert len(data) == m["size"]
    assert hashlib.sha256(data).hexdigest() == m["sha256_raw"]


@pytest.mark.skipif(not HAVE_E2FS, reason="e2fsprogs not installed")
@pytest.mark.parametrize("name", params())
def test_e2fsck_clean_and_features(name: str, raw_images: dict[str, Path]) -> None:
    img = raw_images[name]
    p = subprocess.run(["e2fsck", "-fn", str(img)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    out = subprocess.run(
        ["dumpe2fs", "-h", str(img)], capture_output=True, text=True, check=True
    ).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("Filesystem features:"))
    assert sorted(line.split(":", 1)[1].split()) == sorted(load(name)["features"])
    bs = next(ln for ln in out.splitlines() if ln.startswith("Block size:"))
    assert int(bs.split()[-1]) == load(name)["block_size"]


# ------------------------------------------------------------------ kernel reference check


def sha256_file(p: bytes) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture
def mounted(
    request: pytest.FixtureRequest, raw_images: dict[str, Path], tmp_path: Path
) -> Iterator[bytes]:
    name = request.param
    if not IS_ROOT:
        pytest.skip("kernel reference check needs root (loop mount)")
    if shutil.which("mount") is None:
        pytest.skip("no mount(8)")
    img = raw_images[name]
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    p = subprocess.run(
        ["mount", "-t", "ext4", "-o", "ro,loop,noload", str(img), str(mnt)],
        capture_output=True,
        text=True,
    )
    if p.returncode != 0:
        pytest.skip(
            f"kernel cannot mount {name} ({p.stderr.strip()}; "
            f"features {load(name)['features']}; see dmesg)"
        )
    try:
        yield os.fsencode(mnt)
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def walk(root: bytes) -> list[bytes]:
    rels: list[bytes] = [b"/"]
    stack = [b""]
    while stack:
        rel = stack.pop()
        with os.scandir(root + rel if rel else root) as it:
            for de in it:
                child = rel + b"/" + de.name
                if rel == b"/lost+found" or child.startswith(b"/lost+found/"):
                    continue
                rels.append(child)
                if de.is_dir(follow_symlinks=False):
                    stack.append(child)
    return rels


@pytest.mark.parametrize("mounted", params(), indirect=True)
def test_kernel_view_matches_manifest(mounted: bytes, request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.params["mounted"]
    m = load(name)
    want = manifest_entries(m)
    got_paths = set(walk(mounted))
    assert got_paths == set(want), (
        f"missing {sorted(set(want) - got_paths)[:5]}, "
        f"unexpected {sorted(got_paths - set(want))[:5]}"
    )
    inode_of_group: dict[int, int] = {}
    problems: list[str] = []
    hashed: dict[int, str] = {}
    for rel, e in sorted(want.items()):
        p = mounted + rel if rel != b"/" else mounted
        st = os.lstat(p)

        def check(what: str, got: object, exp: object, rel: bytes = rel) -> None:
            if got != exp:
                problems.append(f"{rel!r}: {what} {got!r} != {exp!r}")

        check("type", TYPE_NAMES[stat.S_IFMT(st.st_mode)], e["type"])
        check("mode", stat.S_IMODE(st.st_mode), e["mode"])
        check("uid", st.st_uid, e["uid"])
        check("gid", st.st_gid, e["gid"])
        check("mtime_ns", st.st_mtime_ns, e["mtime_ns"])
        check("mtime", int(st.st_mtime_ns // 10**9), e["mtime"])
        if e["size"] is not None:
            check("size", st.st_size, e["size"])
        if e["type"] == "lnk":
            check("target", os.readlink(p).hex(), e["target_hex"])
        if e["type"] in ("chr", "blk"):
            check(
                "rdev",
                (os.major(st.st_rdev), os.minor(st.st_rdev)),
                (e["rdev_major"], e["rdev_minor"]),
            )
        if e["type"] == "reg":
            if st.st_ino not in hashed:
                hashed[st.st_ino] = sha256_file(p)
            check("sha256", hashed[st.st_ino], e["sha256"])
        if e["type"] != "lnk":
            xa = {
                n: os.getxattr(p, n, follow_symlinks=False).hex()
                for n in os.listxattr(p, follow_symlinks=False)
            }
            check("xattrs", dict(sorted(xa.items())), e["xattrs"])
        g = e["hardlink_group"]
        if g is not None:
            check("hardlink inode", inode_of_group.setdefault(g, st.st_ino), st.st_ino)
        elif e["type"] != "dir":
            check("nlink", st.st_nlink, 1)
        if len(problems) > 40:
            break
    # distinct groups are distinct inodes
    assert len(set(inode_of_group.values())) == len(inode_of_group)
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------- determinism


@pytest.mark.skipif(not IS_ROOT or not HAVE_E2FS, reason="build_seeds.py needs root and e2fsprogs")
def test_build_check_reproduces_small_image() -> None:
    name = "ext4_nojournal" if "ext4_nojournal" in NAMES else NAMES[0]
    p = subprocess.run(
        [sys.executable, str(BUILD), "--check", "--only", name],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert "byte-identical" in p.stdout
