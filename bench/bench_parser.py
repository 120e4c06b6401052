#!/usr/bin/env python3
"""Speed and memory of ext4guard against dissect.extfs, PyPI ext4 and debugfs, in one run.

Every (operation, tool) pair runs in its own subprocess (this script with ``--worker``), so
each gets a cold Python, its own imports and a clean peak RSS (``os.wait4`` rusage of the
worker and everything it waited for, e.g. debugfs). The images come from build_images.py;
the page cache is warmed first so that every tool reads from memory. The answers are checked
against the manifest of the source trees (entry counts, sha256 of every file).

Operations (see bench/README.md for what each tool does in each):

- ``walk``     tree.img: every entry of the tree, with a stat of each       (entries/s)
- ``read_all`` tree.img: read and sha256 every regular file                  (MB/s)
- ``bigfile``  bigfile.img: read and sha256 the 1 GiB file                   (MB/s)
- ``lookup``   tree.img: look 20,000 paths up in the 20,000-entry directory (lookups/s)
- ``open``     sparse_1t.img vs small_1m.img: open, stat a path, close        (ms/open)

Usage: bench_parser.py [IMGDIR] [--ops ...] [--tools ...] [--limit S] [--json FILE]
       bench_parser.py [IMGDIR] --profile [--ops ...]   (ext4guard under cProfile)
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CHUNK = 1 << 20  # every Python tool reads files in 1 MiB requests
MiB = 1 << 20
OPS = ("walk", "read_all", "bigfile", "lookup", "open")
TOOLS = ("ext4guard", "dissect", "pyext4", "debugfs")
OPEN_ITERATIONS = {"ext4guard": 300, "dissect": 300, "pyext4": 100, "debugfs": 20}
RSS_TARGET_MIB = 150

Result = dict[str, Any]


# ----------------------------------------------------------------------------- helpers


class Deadline:
    """Stops a measurement at --limit seconds; the rate is then taken from the part done."""

    def __init__(self, limit: float) -> None:
        self.end = time.perf_counter() + limit
        self.hit = False

    def over(self) -> bool:
        if time.perf_counter() >= self.end:
            self.hit = True
        return self.hit


class Rounds:
    """Up to `n` repetitions of an open, stopping after 5 s (but never before 3)."""

    def __init__(self, n: int, seconds: float = 5.0) -> None:
        self.n = n
        self.seconds = seconds
        self.done = 0

    def __iter__(self) -> Iterator[int]:
        t0 = time.perf_counter()
        while self.done < self.n and (self.done < 3 or time.perf_counter() - t0 < self.seconds):
            yield self.done
            self.done += 1


def load_expect(imgdir: Path) -> dict[str, Any]:
    expect: dict[str, Any] = json.loads((imgdir / "expect.json").read_text())
    return expect


class TreeDigest:
    """An order-independent digest over (path, sha256) of every file: a sum mod 2**256 of
    the hashes of the pairs, so that no tool needs to keep (or sort) a list of its files."""

    def __init__(self) -> None:
        self.acc = 0
        self.count = 0

    def add(self, path: str, digest: str) -> None:
        self.acc += int.from_bytes(hashlib.sha256(f"{path} {digest}".encode()).digest(), "big")
        self.count += 1

    def hexdigest(self) -> str:
        return f"{self.acc % (1 << 256):064x}"


def tree_digest(pairs: list[tuple[str, str]]) -> str:
    td = TreeDigest()
    for path, digest in pairs:
        td.add(path, digest)
    return td.hexdigest()


def write_expect(imgdir: Path) -> Path:
    """The small per-operation answers the workers check against, from manifest.json.

    Workers never load the manifest itself (70,000 entries would dominate their RSS).
    """
    manifest = json.loads((imgdir / "manifest.json").read_text())
    tree, big = manifest["tree"], manifest["bigfile"]
    names = [f"{tree['big_dir']}/{n}" for n in tree["big_dir_names"]]
    random.Random(7).shuffle(names)
    expect = {
        "walk": len(tree["files"]) + len(tree["dirs"]) + 1,  # + /lost+found
        "read_all": tree_digest([(f["path"], f["sha256"]) for f in tree["files"]]),
        "read_all_count": len(tree["files"]),
        "bigfile": big["files"][0]["sha256"],
        "lookup_names": names,
        "dirs": tree["dirs"],
    }
    path = imgdir / "expect.json"
    path.write_text(json.dumps(expect) + "\n")
    return path


def sha_stream(read: Callable[[int], bytes]) -> tuple[str, int]:
    h = hashlib.sha256()
    total = 0
    while True:
        chunk = read(CHUNK)
        if not chunk:
            return h.hexdigest(), total
        h.update(chunk)
        total += len(chunk)


def debugfs(img: Path, commands: list[str], tmp: Path) -> subprocess.CompletedProcess[bytes]:
    cmdfile = tmp / "cmds"
    cmdfile.write_text("\n".join(commands) + "\n")
    return subprocess.run(
        ["debugfs", "-f", str(cmdfile), str(img)], capture_output=True, check=True
    )


_LS_LINE = re.compile(rb"^\s*(\d+)\s+(\d+)\s+\(\d+\)\s+\d+\s+\d+\s+\d+\s+\S+\s+\S+\s(.*)$")


# ----------------------------------------------------------------------------- ext4guard


def g_open(img: Path) -> Any:
    from ext4guard.parser.filesystem import Filesystem

    return Filesystem.open(img)


def g_walk(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    from ext4guard.parser.errors import Ext4Error

    fs = g_open(img)
    count = findings = 0
    for item in fs.walk("/"):
        if isinstance(item, Ext4Error):
            findings += 1
            continue
        st = fs.stat(item[1].inode)
        _ = (st.size, st.mode, st.uid, st.mtime_ns, st.links_count)
        count += 1
        if count % 256 == 0 and dl.over():
            break
    return {"count": count, "findings": findings}


def g_read_all(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    from ext4guard.parser.errors import Ext4Error

    fs = g_open(img)
    pairs = TreeDigest()
    total = 0
    for item in fs.walk("/"):
        if isinstance(item, Ext4Error) or item[1].file_type != 1:
            continue
        path, entry = item
        ino = entry.inode
        size = fs.stat(ino).size
        h = hashlib.sha256()
        off = 0
        while off < size:
            chunk = fs.read(ino, off, CHUNK)
            if not chunk:
                break
            h.update(chunk)
            off += len(chunk)
        total += off
        pairs.add(path.decode(), h.hexdigest())
        if dl.over():
            break
    return {"count": pairs.count, "bytes": total, "digest": pairs.hexdigest()}


def g_bigfile(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    fs = g_open(img)
    ino = fs.lookup("/big.bin")
    size = fs.stat(ino).size
    h = hashlib.sha256()
    off = 0
    while off < size and not dl.over():
        chunk = fs.read(ino, off, CHUNK)
        h.update(chunk)
        off += len(chunk)
    return {"bytes": off, "sha256": h.hexdigest()}


def g_lookup(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    fs = g_open(img)
    count = 0
    for path in man["lookup_names"]:
        fs.lookup(path)
        count += 1
        if count % 64 == 0 and dl.over():
            break
    return {"count": count}


def g_open_cost(img: Path, rounds: Rounds) -> None:
    for _ in rounds:
        fs = g_open(img)
        fs.stat(fs.lookup("/dir/a"))
        fs.close()


# ----------------------------------------------------------------------------- dissect.extfs


def d_open(img: Path) -> tuple[Any, Any]:
    from dissect.extfs import ExtFS

    fh = open(img, "rb")  # noqa: SIM115 - held for the worker's lifetime
    return ExtFS(fh), fh


def d_iter(fs: Any, dl: Deadline) -> Iterator[tuple[str, Any]]:
    """Depth-first over dissect INodes with an explicit stack; skips . and .."""
    stack = [("", fs.root)]
    n = 0
    while stack:
        path, node = stack.pop()
        for child in node.iterdir():
            if child.filename in (".", ".."):
                continue
            p = f"{path}/{child.filename}"
            yield p, child
            if child.filetype == 0o040000:
                stack.append((p, child))
            n += 1
            if n % 256 == 0 and dl.over():
                return


def d_walk(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    fs, _fh = d_open(img)
    count = 0
    for _path, node in d_iter(fs, dl):
        st = node.inode
        _ = (node.size, st.i_mode, st.i_uid, node.mtime_ns, st.i_links_count)
        count += 1
    return {"count": count, "findings": 0}


def d_read_all(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    fs, _fh = d_open(img)
    pairs = TreeDigest()
    total = 0
    for path, node in d_iter(fs, dl):
        if node.filetype != 0o100000:
            continue
        digest, n = sha_stream(node.open().read)
        total += n
        pairs.add(path, digest)
    return {"count": pairs.count, "bytes": total, "digest": pairs.hexdigest()}


def d_bigfile(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    fs, _fh = d_open(img)
    stream = fs.get("/big.bin").open()
    h = hashlib.sha256()
    total = 0
    while not dl.over():
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        h.update(chunk)
        total += len(chunk)
    return {"bytes": total, "sha256": h.hexdigest()}


def d_lookup(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    fs, _fh = d_open(img)
    count = 0
    for path in man["lookup_names"]:
        _ = fs.get(path).inum
        count += 1
        if dl.over():
            break
    return {"count": count}


def d_open_cost(img: Path, rounds: Rounds) -> None:
    for _ in rounds:
        fs, fh = d_open(img)
        _ = fs.get("/dir/a").inode.i_mode
        fh.close()


# ----------------------------------------------------------------------------- PyPI ext4


def p_open(img: Path) -> tuple[Any, Any]:
    import ext4

    fh = open(img, "rb")  # noqa: SIM115 - held for the worker's lifetime
    return ext4.Volume(fh), fh


def p_iter(vol: Any, dl: Deadline) -> Iterator[tuple[str, Any, bool]]:
    import ext4

    stack = [("", vol.root)]
    n = 0
    while stack:
        path, directory = stack.pop()
        for dirent, ftype in directory.opendir():
            name = dirent.name
            if name in (b".", b".."):
                continue
            p = f"{path}/{name.decode('utf-8', 'surrogateescape')}"
            inode = vol.inodes[dirent.inode]
            is_dir = ftype == ext4.EXT4_FT.DIR
            yield p, inode, ftype == ext4.EXT4_FT.REG_FILE
            if is_dir:
                stack.append((p, inode))
            n += 1
            if n % 256 == 0 and dl.over():
                return


def p_walk(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    vol, _fh = p_open(img)
    count = 0
    for _path, inode, _reg in p_iter(vol, dl):
        _ = (inode.i_size, inode.i_mode, inode.i_uid, inode.i_mtime, inode.i_links_count)
        count += 1
    return {"count": count, "findings": 0}


def p_read_all(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    vol, _fh = p_open(img)
    pairs = TreeDigest()
    total = 0
    for path, inode, regular in p_iter(vol, dl):
        if not regular:
            continue
        digest, n = sha_stream(inode.open().read)
        total += n
        pairs.add(path, digest)
    return {"count": pairs.count, "bytes": total, "digest": pairs.hexdigest()}


def p_bigfile(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    vol, _fh = p_open(img)
    stream = vol.inode_at("/big.bin").open()
    h = hashlib.sha256()
    total = 0
    while not dl.over():
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        h.update(chunk)
        total += len(chunk)
    return {"bytes": total, "sha256": h.hexdigest()}


def p_lookup(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    vol, _fh = p_open(img)
    count = 0
    for path in man["lookup_names"]:
        _ = vol.inode_at(path).i_no
        count += 1
        if count % 64 == 0 and dl.over():
            break
    return {"count": count}


def p_open_cost(img: Path, rounds: Rounds) -> None:
    for _ in rounds:
        vol, fh = p_open(img)
        _ = vol.inode_at("/dir/a").i_mode
        fh.close()


# ----------------------------------------------------------------------------- debugfs


def f_walk(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    # `ls -l` of every directory: debugfs reads each entry's inode to print its attributes.
    dirs = ["/", "/lost+found", *man["dirs"]]
    with tempfile.TemporaryDirectory() as tmp:
        out = debugfs(img, [f"ls -l {d}" for d in dirs], Path(tmp)).stdout
    count = 0
    for line in out.splitlines():
        m = _LS_LINE.match(line)
        if m and m.group(3) not in (b".", b".."):
            count += 1
    return {"count": count, "findings": 0}


def f_read_all(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    # `rdump` of the whole tree to tmpfs, then sha256 of every dumped file (both timed).
    scratch = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=scratch) as tmp:
        dest = Path(tmp) / "out"
        dest.mkdir()
        tops = sorted({"/" + d.strip("/").split("/")[0] for d in man["dirs"]})
        subprocess.run(
            ["debugfs", "-R", f"rdump {' '.join(tops)} {dest}", str(img)],
            capture_output=True,
            check=True,
        )
        pairs = TreeDigest()
        total = 0
        for root, _dirs, files in os.walk(dest):
            for name in files:
                full = os.path.join(root, name)
                with open(full, "rb") as f:
                    digest, n = sha_stream(f.read)
                total += n
                pairs.add(full[len(str(dest)) :], digest)
    return {"count": pairs.count, "bytes": total, "digest": pairs.hexdigest()}


def f_bigfile(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    # `cat` to a pipe, hashed on this side.
    proc = subprocess.Popen(
        ["debugfs", "-R", "cat /big.bin", str(img)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    digest, total = sha_stream(proc.stdout.read)
    proc.wait()
    return {"bytes": total, "sha256": digest}


def f_lookup(img: Path, man: dict[str, Any], dl: Deadline) -> Result:
    # A command file of `testi PATH`: resolve the path, test the inode bitmap.
    names = man["lookup_names"]
    with tempfile.TemporaryDirectory() as tmp:
        out = debugfs(img, [f"testi {p}" for p in names], Path(tmp)).stdout
    count = out.count(b"is marked in use")
    return {"count": count}


def f_open_cost(img: Path, rounds: Rounds) -> None:
    for _ in rounds:
        subprocess.run(["debugfs", "-R", "stat /dir/a", str(img)], capture_output=True, check=True)


WORKERS: dict[str, dict[str, Callable[..., Any]]] = {
    "ext4guard": {"walk": g_walk, "read_all": g_read_all, "bigfile": g_bigfile,
                  "lookup": g_lookup, "open": g_open_cost},
    "dissect": {"walk": d_walk, "read_all": d_read_all, "bigfile": d_bigfile,
                "lookup": d_lookup, "open": d_open_cost},
    "pyext4": {"walk": p_walk, "read_all": p_read_all, "bigfile": p_bigfile,
               "lookup": p_lookup, "open": p_open_cost},
    "debugfs": {"walk": f_walk, "read_all": f_read_all, "bigfile": f_bigfile,
                "lookup": f_lookup, "open": f_open_cost},
}  # fmt: skip

IMAGE_OF = {"walk": "tree", "read_all": "tree", "bigfile": "bigfile", "lookup": "tree"}


# ----------------------------------------------------------------------------- worker side


#: Each Python tool's modules, imported before the clock starts: the figures are rates of
#: the operation, not of interpreter start-up and imports (~50-75 ms for each library).
TOOL_MODULES = {
    "ext4guard": ("ext4guard.parser.filesystem", "ext4guard.parser.errors"),
    "dissect": ("dissect.extfs",),
    "pyext4": ("ext4",),
    "debugfs": (),
}


def run_worker(op: str, tool: str, imgdir: Path, limit: float, image: str | None) -> Result:
    """One measurement in this process; prints nothing, returns the JSON-able result."""
    man = load_expect(imgdir)
    fn = WORKERS[tool][op]
    for module in TOOL_MODULES[tool]:
        importlib.import_module(module)
    if op == "open":
        assert image is not None
        rounds = Rounds(OPEN_ITERATIONS[tool])
        t0 = time.perf_counter()
        fn(imgdir / f"{image}.img", rounds)
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "count": rounds.done}
    dl = Deadline(limit)
    t0 = time.perf_counter()
    res: Result = fn(imgdir / f"{IMAGE_OF[op]}.img", man, dl)
    res["seconds"] = time.perf_counter() - t0
    res["partial"] = dl.hit
    res["ok"] = check(op, res, man)
    return res


def check(op: str, res: Result, expect: dict[str, Any]) -> bool:
    """Whether the tool's answer matches the source tree (only meaningful when not partial)."""
    if res.get("partial"):
        return True
    if op == "walk":
        return bool(res["count"] == expect["walk"])
    if op == "read_all":
        return bool(res["digest"] == expect["read_all"])
    if op == "bigfile":
        return bool(res["sha256"] == expect["bigfile"])
    if op == "lookup":
        return bool(res["count"] == len(expect["lookup_names"]))
    return True


# ----------------------------------------------------------------------------- parent side


def warm(path: Path) -> None:
    """Read the allocated parts of an image once (SEEK_DATA/SEEK_HOLE) into the page cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        pos = 0
        while pos < size:
            try:
                start = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            while start < end:
                n = len(os.pread(fd, min(8 * MiB, end - start), start))
                if n == 0:
                    break
                start += n
            pos = end
    finally:
        os.close(fd)


TIME = "/usr/bin/time"


def spawn(args: list[str], src: str | None = None) -> tuple[Result | None, float, str]:
    """Run one worker; (its result, its peak RSS in MiB, last stderr line).

    The peak RSS is ru_maxrss of the worker (which covers the processes it waited for, such
    as debugfs), taken by GNU time: a fork+exec straight from this process would inherit
    this process's high-water mark (Linux keeps the pre-exec mm's hiwater in maxrss).
    """
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        err_file = Path(tmp) / "err"
        argv = [sys.executable, __file__, *args]
        use_time = os.access(TIME, os.X_OK)
        if use_time:
            argv = [TIME, "-f", "%M", "-o", str(rss_file), *argv]
        with open(err_file, "wb") as err:
            env = dict(os.environ)
            if src:  # measure another checkout: SRC/ext4guard/parser shadows the editable one
                env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, env=env)
            assert proc.stdout is not None
            out = proc.stdout.read()
            proc.stdout.close()
            _pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        err_lines = err_file.read_text(errors="replace").strip().splitlines()
        rss_kib = usage.ru_maxrss
        if use_time and rss_file.exists():
            lines = rss_file.read_text().split()
            rss_kib = int(lines[-1]) if lines and lines[-1].isdigit() else rss_kib
    if proc.returncode != 0:
        return None, 0.0, err_lines[-1] if err_lines else f"exit {proc.returncode}"
    res: Result = json.loads(out.decode().strip().splitlines()[-1])
    return res, rss_kib / 1024, ""


def fmt_rate(op: str, res: Result) -> str:
    secs = res["seconds"]
    if op in ("walk", "lookup"):
        unit = "entries/s" if op == "walk" else "lookups/s"
        return f"{res['count'] / secs:,.0f} {unit}"
    if op in ("read_all", "bigfile"):
        return f"{res['bytes'] / secs / 1e6:,.1f} MB/s"
    return ""


def rate_of(op: str, res: Result) -> float:
    if op in ("walk", "lookup"):
        return float(res["count"]) / res["seconds"]
    return float(res["bytes"]) / res["seconds"]


# target peer and minimum ratio of ext4guard's rate to it (None: an absolute rate)
TARGETS: dict[str, tuple[str | None, float]] = {
    "walk": ("dissect", 3.0),
    "read_all": ("debugfs", 1.0),
    "bigfile": ("dissect", 1.0),
    "lookup": (None, 20_000.0),
}


def main_parent(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    imgdir = Path(args.imgdir)
    if not (imgdir / "manifest.json").exists():
        sys.exit(f"{imgdir}: no manifest.json; run bench/build_images.py {imgdir} first")
    write_expect(imgdir)
    for name in ("tree", "bigfile", "sparse_1t", "small_1m"):
        warm(imgdir / f"{name}.img")
    console = Console()
    table = Table(title=f"ext4guard benchmark ({imgdir})")
    for col in ("operation", "tool", "rate / time", "ext4guard x", "peak RSS", "check"):
        table.add_column(col, justify="left" if col in ("operation", "tool") else "right")
    results: dict[str, dict[str, Any]] = {}
    verdicts: list[tuple[str, str, bool]] = []
    for op in args.ops:
        per_tool: dict[str, Any] = {}
        for tool in args.tools:
            if op == "open":
                cell = {}
                for image in ("small_1m", "sparse_1t"):
                    worker = ["--worker", op, tool, str(imgdir), "--image", image]
                    res, rss, err = spawn(worker, args.src)
                    if res is None:
                        console.print(f"[red]{op}/{tool}/{image} failed: {err}")
                        continue
                    cell[image] = {"ms": 1000 * res["seconds"] / res["count"], "rss": rss}
                per_tool[tool] = cell
            else:
                best: Result | None = None
                rss_max = 0.0
                for _ in range(args.repeat):
                    res, rss, err = spawn(
                        ["--worker", op, tool, str(imgdir), "--limit", str(args.limit)], args.src
                    )
                    if res is None:
                        console.print(f"[red]{op}/{tool} failed: {err}")
                        break
                    rss_max = max(rss_max, rss)
                    if best is None or rate_of(op, res) > rate_of(op, best):
                        best = res
                if best is not None:
                    best["rss"] = rss_max
                    per_tool[tool] = best
        results[op] = per_tool
        add_rows(table, op, per_tool, verdicts)
    console.print(table)
    summary = Table(title="targets (ext4guard)")
    for col in ("target", "measured", "verdict"):
        summary.add_column(col)
    for target, measured, ok in verdicts:
        summary.add_row(target, measured, "[green]met" if ok else "[red]MISSED")
    console.print(summary)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


def add_rows(
    table: Any, op: str, per_tool: dict[str, Any], verdicts: list[tuple[str, str, bool]]
) -> None:
    mine = per_tool.get("ext4guard")
    if op == "open":
        for tool, cell in per_tool.items():
            for image in ("small_1m", "sparse_1t"):
                if image not in cell:
                    continue
                ms = cell[image]["ms"]
                ratio = ""
                if image == "sparse_1t" and "small_1m" in cell:
                    ratio = f"1T/1M {ms / cell['small_1m']['ms']:.2f}"
                table.add_row(
                    f"open {image}", tool, f"{ms:.2f} ms/open", ratio,
                    f"{cell[image]['rss']:.0f} MiB", "",
                )  # fmt: skip
        if mine and "small_1m" in mine and "sparse_1t" in mine:
            r = mine["sparse_1t"]["ms"] / mine["small_1m"]["ms"]
            verdicts.append(("open 1 TiB costs what 1 MiB does (<= 1.25x)", f"{r:.2f}x", r <= 1.25))
            for image in ("small_1m", "sparse_1t"):
                rss = mine[image]["rss"]
                verdicts.append((f"peak RSS {image} < {RSS_TARGET_MIB} MiB", f"{rss:.0f} MiB",
                                 rss < RSS_TARGET_MIB))  # fmt: skip
        table.add_section()
        return
    for tool, res in per_tool.items():
        ratio = ""
        if mine and tool != "ext4guard":
            ratio = f"{rate_of(op, mine) / rate_of(op, res):.2f}"
        status = "ok" if res["ok"] else "WRONG"
        if res["partial"]:
            status = f"partial {res['seconds']:.0f}s"
        table.add_row(op, tool, fmt_rate(op, res), ratio, f"{res['rss']:.0f} MiB", status)
    table.add_section()
    if mine:
        peer, want = TARGETS[op]
        if peer is None:
            got = rate_of(op, mine)
            verdicts.append((f"{op} >= {want:,.0f}/s", f"{got:,.0f}/s", got >= want))
        elif peer in per_tool:
            r = rate_of(op, mine) / rate_of(op, per_tool[peer])
            verdicts.append((f"{op} >= {want:g}x {peer}", f"{r:.2f}x", r >= want))
        verdicts.append(
            (f"peak RSS {op} < {RSS_TARGET_MIB} MiB", f"{mine['rss']:.0f} MiB",
             mine["rss"] < RSS_TARGET_MIB)
        )  # fmt: skip
        if not mine["ok"]:
            verdicts.append((f"{op} answer matches the source tree", "wrong", False))


def main_profile(args: argparse.Namespace) -> int:
    """ext4guard's operations under cProfile; top functions by own time and cumulative time."""
    import cProfile
    import pstats

    imgdir = Path(args.imgdir)
    expect = load_expect(imgdir) if (imgdir / "expect.json").exists() else None
    expect = expect or load_expect(write_expect(imgdir).parent)
    outdir = imgdir / "profiles"
    outdir.mkdir(exist_ok=True)
    for op in args.ops:
        prof = cProfile.Profile()
        dl = Deadline(args.limit)
        prof.enable()
        if op == "open":
            g_open_cost(imgdir / "sparse_1t.img", Rounds(20))
        else:
            WORKERS["ext4guard"][op](imgdir / f"{IMAGE_OF[op]}.img", expect, dl)
        prof.disable()
        path = outdir / f"{op}.pstats"
        prof.dump_stats(path)
        print(f"===== {op} ({path})")
        stats = pstats.Stats(prof).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("imgdir", nargs="?", default=str(REPO / "build" / "bench"))
    ap.add_argument("--ops", nargs="+", choices=OPS, default=list(OPS))
    ap.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    ap.add_argument("--limit", type=float, default=60.0, help="seconds per measurement")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement (best kept)")
    ap.add_argument("--json", help="write the raw results here")
    ap.add_argument(
        "--src",
        help="measure the ext4guard found under SRC/ext4guard/parser (e.g. a `git archive` of "
        "a commit) instead of the editable install",
    )
    ap.add_argument("--profile", action="store_true", help="profile ext4guard (cProfile)")
    ap.add_argument("--top", type=int, default=25, help="profile: functions to print")
    ap.add_argument("--worker", nargs=2, metavar=("OP", "TOOL"), help=argparse.SUPPRESS)
    ap.add_argument("--image", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        op, tool = args.worker
        print(json.dumps(run_worker(op, tool, Path(args.imgdir), args.limit, args.image)))
        return 0
    if args.profile:
        return main_profile(args)
    return main_parent(args)


if __name__ == "__main__":
    sys.exit(main())
