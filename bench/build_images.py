#!/usr/bin/env python3
"""Build the benchmark images (never committed) with ``mke2fs -d`` from generated trees.

Images (4 KiB blocks, the ext4 default features including metadata_csum, 256-byte inodes):

- ``tree.img``: 50,000 small files in a 3-level tree (``/tree/dNN/dNN/fNN``: 50 x 20 x 50)
  plus one directory with 20,000 entries (``/big/entry-NNNNN``); ``e2fsck -fyD`` then builds
  the htree indexes (``mke2fs -d`` writes linear directories).
- ``bigfile.img``: one 1 GiB file ``/big.bin`` of real, incompressible-looking data (a 1 MiB
  pseudo-random pattern, each copy stamped with its index).
- ``sparse_1t.img`` and ``small_1m.img``: the same three-file tree on a 1 TiB sparse image
  and on a 1 MiB one, for the open-cost comparison (default inode ratio, so the 1 TiB one has
  8,192 groups and 64 Mi inodes; its inode tables are left lazy, i.e. sparse).

Every tree is generated from fixed seeds; mke2fs runs with a fixed profile
(corpus/mke2fs.conf), a fixed UUID and hash seed and E2FSPROGS_FAKE_TIME. Contents and
layout are deterministic; inode atime/ctime are copied from the scratch tree by mke2fs -d
and are not (the benchmark never looks at them). ``manifest.json`` in OUTDIR records the
paths, sizes and sha256 of the source trees, which bench_parser.py uses to check the tools'
answers and to pick lookup names.

Usage: build_images.py [OUTDIR]   (default build/bench; needs e2fsprogs >= 1.47, ~2.5 GiB disk)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONF = REPO / "corpus" / "mke2fs.conf"

FAKE_TIME = 1700000000
UUID_NS = uuid.UUID("0b6c1f5e-2d3a-4e8f-9a7b-c4d5e6f70812")
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40
BLOCK = 4096

# The Debian/e2fsprogs default ext4 feature set (mke2fs.conf [fs_types] ext4 + base_features).
EXT4_FEATURES = (
    "sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr,"
    "has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize"
)

TREE_FANOUT = (50, 20, 50)  # directories, subdirectories, files: 50,000 files
BIG_DIR_ENTRIES = 20_000
MAX_SMALL_FILE = 8192  # small file sizes are uniform in [0, 8192): ~200 MB of data
BIG_DIR_FILE = 100  # each file of the big directory holds 100 bytes
PATTERN_SEED = 0xE47  # the shared 1 MiB pseudo-random pattern


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.update(MKE2FS_CONFIG=str(CONF), E2FSPROGS_FAKE_TIME=str(FAKE_TIME), LC_ALL="C", TZ="UTC")
    e.update(E2FSCK_TIME=str(FAKE_TIME), E2FSCK_CONFIG="/dev/null")
    return e


def pattern() -> bytes:
    return random.Random(PATTERN_SEED).randbytes(MiB)


def write_file(path: Path, data: bytes, entries: list[dict[str, object]], rel: str) -> None:
    path.write_bytes(data)
    os.utime(path, (FAKE_TIME, FAKE_TIME))
    entries.append({"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})


def make_tree(src: Path) -> dict[str, object]:
    """The 50,000-file tree and the 20,000-entry directory; returns their manifest."""
    pat = pattern()
    rng = random.Random(50_000)
    files: list[dict[str, object]] = []
    dirs: list[str] = ["/tree", "/big"]
    n_top, n_sub, n_files = TREE_FANOUT
    for a in range(n_top):
        for b in range(n_sub):
            rel_dir = f"/tree/d{a:02d}/d{b:02d}"
            if b == 0:
                dirs.append(f"/tree/d{a:02d}")
            dirs.append(rel_dir)
            d = src / rel_dir.lstrip("/")
            d.mkdir(parents=True)
            for c in range(n_files):
                size = rng.randrange(MAX_SMALL_FILE)
                start = rng.randrange(MiB - MAX_SMALL_FILE)
                write_file(d / f"f{c:02d}", pat[start : start + size], files, f"{rel_dir}/f{c:02d}")
    big = src / "big"
    big.mkdir()
    names = []
    for i in range(BIG_DIR_ENTRIES):
        name = f"entry-{i:05d}"
        names.append(name)
        start = (i * 4099) % (MiB - BIG_DIR_FILE)
        write_file(big / name, pat[start : start + BIG_DIR_FILE], files, f"/big/{name}")
    for d in sorted(dirs, key=len, reverse=True):
        os.utime(src / d.lstrip("/"), (FAKE_TIME, FAKE_TIME))
    return {"dirs": dirs, "files": files, "big_dir": "/big", "big_dir_names": names}


def make_bigfile(src: Path) -> dict[str, object]:
    """/big.bin: 1 GiB, the pattern repeated with each MiB stamped with its index."""
    pat = bytearray(pattern())
    digest = hashlib.sha256()
    with open(src / "big.bin", "wb") as f:
        for i in range(GiB // MiB):
            pat[0:8] = i.to_bytes(8, "little")
            f.write(pat)
            digest.update(pat)
    os.utime(src / "big.bin", (FAKE_TIME, FAKE_TIME))
    entry = {"path": "/big.bin", "size": GiB, "sha256": digest.hexdigest()}
    return {"dirs": [], "files": [entry]}


def make_small(src: Path) -> dict[str, object]:
    files: list[dict[str, object]] = []
    (src / "dir").mkdir()
    write_file(src / "hello.txt", b"hello, ext4\n", files, "/hello.txt")
    write_file(src / "dir" / "a", pattern()[:5000], files, "/dir/a")
    write_file(src / "dir" / "b", b"", files, "/dir/b")
    return {"dirs": ["/dir"], "files": files}


def mke2fs(name: str, img: Path, src: Path, size: int, inodes: int | None, lazy: bool) -> None:
    img.unlink(missing_ok=True)
    with open(img, "wb") as f:
        f.truncate(size)
    lazy_opt = "1" if lazy else "0"
    eopts = (
        f"hash_seed={uuid.uuid5(UUID_NS, name + '/hash')},root_owner=0:0,nodiscard,"
        f"lazy_itable_init={lazy_opt},lazy_journal_init={lazy_opt}"
    )
    argv = ["mke2fs", "-q", "-F", "-t", "ext4", "-O", "none," + EXT4_FEATURES]
    argv += ["-b", str(BLOCK), "-I", "256", "-m", "0", "-U", str(uuid.uuid5(UUID_NS, name))]
    argv += ["-E", eopts]
    if inodes is not None:
        argv += ["-N", str(inodes)]
    argv += ["-d", str(src), str(img), str(size // BLOCK)]
    subprocess.run(argv, check=True, env=env())


def fsck_index(img: Path) -> None:
    """Build htree indexes (-D); exit status 1 means "changes were made", which is the point."""
    rc = subprocess.run(["e2fsck", "-fyD", str(img)], env=env(), capture_output=True).returncode
    if rc not in (0, 1):
        sys.exit(f"e2fsck -fyD {img} failed with {rc}")
    rc = subprocess.run(["e2fsck", "-fn", str(img)], env=env(), capture_output=True).returncode
    if rc != 0:
        sys.exit(f"e2fsck -fn {img} is not clean ({rc})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("outdir", nargs="?", default=str(REPO / "build" / "bench"))
    ap.add_argument("--only", nargs="*", help="tree bigfile sparse_1t small_1m")
    args = ap.parse_args()
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    manifest: dict[str, object] = {}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
    # name: (tree maker, image size, inode count, lazy inode tables, build htrees)
    specs = {
        "tree": (make_tree, GiB, 131_072, False, True),
        "bigfile": (make_bigfile, GiB + 256 * MiB, 1024, False, False),
        "sparse_1t": (make_small, TiB, None, True, False),
        "small_1m": (make_small, MiB, None, False, False),
    }
    scratch_root = "/dev/shm" if os.path.isdir("/dev/shm") else None
    for name, (maker, size, inodes, lazy, index) in specs.items():
        if args.only and name not in args.only:
            continue
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-", dir=scratch_root) as tmp:
            src = Path(tmp) / "src"
            src.mkdir()
            tree = maker(src)
            img = out / f"{name}.img"
            mke2fs(name, img, src, size, inodes, lazy)
            if index:
                fsck_index(img)
            shutil.rmtree(src)
        manifest[name] = {"image": img.name, "size": size, **tree}
        print(f"{name}: {img} in {time.monotonic() - t0:.1f} s", flush=True)
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
