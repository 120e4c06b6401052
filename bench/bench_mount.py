"""`ext4guard mount` against the kernel's ext4 (read-only loop mount) and Debian's `fuse2fs -o ro`.

Prints, per operation, each backend's wall time and its ratio to the kernel's, measured in the
same run on the images of bench/build_images.py (issue 5, section 6). A benchmark, not a test:
run as root (mounts, drop_caches).

    sudo .venv/bin/python bench/bench_mount.py build/bench [--ops ...] [--backends ...]
                                               [--repeat N] [--json out.json]

Backends: `kernel` (mount -o ro,loop,noload), `fuse2fs` (fuse2fs -o ro), `ext4guard` (default
options) and variants for choosing the options from figures: `ext4guard-dio` (direct_io),
`ext4guard-ra1m` (readahead 1 MiB), `ext4guard-t0` (entry/attr timeouts 0), `ext4guard-trio`
(pyfuse3's trio loop instead of the direct one), `ext4guard-poll0` / `ext4guard-poll200` (the
direct loop polling /dev/fuse for 0 / 200 µs after each request instead of 50).

Operations (clients are the same programs for every backend: cat, find, tar, python):
- `big_cold`:   cat of the 1 GiB file after drop_caches (image read from disk);
- `big_ram`:    the same with the image file in the page cache, on a fresh mount;
- `big_warm`:   the same file read again on the same mount;
- `random4k`:   20,000 random 4 KiB preads of the 1 GiB file, fresh mount, image in RAM;
- `find_cold`:  find -printf %s over the 70,000-entry tree after drop_caches;
- `find_warm`:  the same find again on the same mount;
- `htree_stat`: lstat of 20,000 names of one htree directory, fresh mount (names from the
  build manifest: no readdir helps);
- `tar`:        tar of the whole tree to a pipe, fresh mount, image in RAM;
- `small_cycle`: mount + tar + umount of the 1 MiB image (start-up counts).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@dataclass(frozen=True, slots=True)
class Backend:
    name: str
    mount: Callable[[Path, Path], None]
    umount: Callable[[Path], None]


def _run(argv: list[str], **kwargs: object) -> None:
    subprocess.run(argv, check=True, **kwargs)  # type: ignore[call-overload]


def _kernel_mount(image: Path, mnt: Path) -> None:
    _run(["mount", "-t", "ext4", "-o", "ro,loop,noload", str(image), str(mnt)])


def _umount(mnt: Path) -> None:
    _run(["umount", str(mnt)])


def _fuse2fs_mount(image: Path, mnt: Path) -> None:
    _run(["fuse2fs", "-o", "ro", str(image), str(mnt)], stdout=subprocess.DEVNULL)


def _ext4guard(options: str | None) -> Backend:
    def mount(image: Path, mnt: Path) -> None:
        extra = ["-o", options] if options else []
        _run(
            [PYTHON, "-m", "ext4guard.server.mount", "mount", str(image), str(mnt), *extra], env=ENV
        )

    def umount(mnt: Path) -> None:
        _run([PYTHON, "-m", "ext4guard.server.mount", "umount", str(mnt)], env=ENV)

    name = "ext4guard" if options is None else f"ext4guard[{options}]"
    return Backend(name, mount, umount)


BACKENDS = {
    "kernel": Backend("kernel", _kernel_mount, _umount),
    "fuse2fs": Backend("fuse2fs", _fuse2fs_mount, _umount),
    "ext4guard": _ext4guard(None),
    "ext4guard-dio": _ext4guard("direct_io"),
    "ext4guard-ra1m": _ext4guard("readahead_kb=1024"),
    "ext4guard-t0": _ext4guard("timeout=0"),
    "ext4guard-trio": _ext4guard("trio"),
    "ext4guard-poll0": _ext4guard("poll_us=0"),
    "ext4guard-poll200": _ext4guard("poll_us=200"),
}


def drop_caches() -> None:
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def _cache_file(image: Path) -> None:
    # vmtouch-like: read every allocated byte (sparse images excepted: use cat on small ones)
    subprocess.run(["cat", str(image)], stdout=subprocess.DEVNULL, check=True)


def timed(argv: list[str], shell_out: str | None = None) -> float:
    start = time.perf_counter()
    if shell_out is None:
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
    else:
        subprocess.run(shell_out, shell=True, check=True)
    return time.perf_counter() - start


RANDOM_READS = """
import os, random, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
rng = random.Random(5)
for _ in range(20000):
    os.pread(fd, 4096, rng.randrange(size // 4096) * 4096)
"""

STAT_NAMES = """
import os, sys
base = sys.argv[1]
for name in open(sys.argv[2]).read().split():
    os.lstat(base + name)
"""


class Bench:
    def __init__(self, images: Path, work: Path) -> None:
        self.images = images
        self.work = work
        expect = json.loads((images / "expect.json").read_text())
        self.names_file = work / "names.txt"
        self.names_file.write_text("\n".join(expect["lookup_names"]))

    def session(self, backend: Backend, image: str) -> tuple[Path, Callable[[], None]]:
        mnt = Path(tempfile.mkdtemp(dir=self.work))
        backend.mount(self.images / image, mnt)
        return mnt, lambda: backend.umount(mnt)

    def op(self, name: str, backend: Backend) -> float:
        big = "bigfile.img"
        tree = "tree.img"
        if name in ("big_cold", "big_ram", "big_warm"):
            if name != "big_cold":
                _cache_file(self.images / big)
            mnt, done = self.session(backend, big)
            try:
                if name == "big_cold":
                    drop_caches()
                first = timed(["cat", str(mnt / "big.bin")])
                return timed(["cat", str(mnt / "big.bin")]) if name == "big_warm" else first
            finally:
                done()
        if name == "random4k":
            _cache_file(self.images / big)
            mnt, done = self.session(backend, big)
            try:
                return timed([PYTHON, "-c", RANDOM_READS, str(mnt / "big.bin")])
            finally:
                done()
        if name in ("find_cold", "find_warm"):
            mnt, done = self.session(backend, tree)
            try:
                drop_caches()
                first = timed(["find", str(mnt), "-printf", "%s\n"])
                return (
                    timed(["find", str(mnt), "-printf", "%s\n"]) if name == "find_warm" else first
                )
            finally:
                done()
        if name == "htree_stat":
            _cache_file(self.images / tree)
            mnt, done = self.session(backend, tree)
            try:
                return timed([PYTHON, "-c", STAT_NAMES, str(mnt), str(self.names_file)])
            finally:
                done()
        if name == "tar":
            _cache_file(self.images / tree)
            mnt, done = self.session(backend, tree)
            try:
                return timed([], shell_out=f"tar -C {mnt} -cf - . | cat > /dev/null")
            finally:
                done()
        if name == "small_cycle":
            mnt = Path(tempfile.mkdtemp(dir=self.work))
            start = time.perf_counter()
            backend.mount(self.images / "small_1m.img", mnt)
            subprocess.run(f"tar -C {mnt} -cf - . | cat > /dev/null", shell=True, check=True)
            backend.umount(mnt)
            return time.perf_counter() - start
        raise SystemExit(f"unknown operation {name}")


OPS = ["big_cold", "big_ram", "big_warm", "random4k", "find_cold", "find_warm", "htree_stat",
       "tar", "small_cycle"]  # fmt: skip
TARGETS = {
    "big_cold": 1.25,
    "big_ram": 4.0,
    "big_warm": 1.5,
    "random4k": 1.0,
    "find_cold": 3.0,
    "find_warm": 1.5,
    "htree_stat": 5.0,
    "tar": 2.0,
    "small_cycle": 3.0,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", type=Path)
    parser.add_argument("--ops", nargs="+", default=OPS, choices=OPS)
    parser.add_argument("--backends", nargs="+", default=["kernel", "fuse2fs", "ext4guard"])
    parser.add_argument("--repeat", type=int, default=1, help="best of N")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_mount.py needs root (mounts, drop_caches)", file=sys.stderr)
        return 2
    missing = [b for b in args.backends if b not in BACKENDS]
    if missing or (("fuse2fs" in args.backends) and shutil.which("fuse2fs") is None):
        print(f"unknown or missing backend: {missing or 'fuse2fs (apt install fuse2fs)'}")
        return 2
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-mount-") as tmp:
        bench = Bench(args.images, Path(tmp))
        for op in args.ops:
            results[op] = {}
            for name in ["kernel", *[b for b in args.backends if b != "kernel"]]:
                best = min(bench.op(op, BACKENDS[name]) for _ in range(args.repeat))
                results[op][name] = best
                print(f"{op:12} {name:16} {best:8.3f} s", file=sys.stderr, flush=True)
    names = ["kernel", *[b for b in args.backends if b != "kernel"]]
    print("| operation | " + " | ".join(names) + " | target | |")
    print("| --- " * (len(names) + 3) + "|")
    for op, row in results.items():
        kernel = row["kernel"]
        cells = [f"{row['kernel']:.3f} s"] + [
            f"{row[n]:.3f} s ({row[n] / kernel:.2f}x)" for n in names[1:]
        ]
        ours = row.get("ext4guard")
        verdict = ""
        if ours is not None:
            verdict = "met" if ours / kernel <= TARGETS[op] else "missed"
        print(f"| {op} | " + " | ".join(cells) + f" | <= {TARGETS[op]}x | {verdict} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
