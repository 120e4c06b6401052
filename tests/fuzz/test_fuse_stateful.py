"""Random syscalls through the kernel against `ext4guard mount` of structure-aware mutated seeds.

A hypothesis `RuleBasedStateMachine`: each example mutates one seed image with
`fuzz.mutators` (a few operations, checksums fixed so the damage reaches the structural
checks), mounts it with the real `ext4guard mount` (the contained FUSE server) and makes
random calls through the kernel: lstat/stat, readdir (os.listdir and raw readdir(3) with
d_ino/d_type), open + pread at random offsets and sizes, readlink, listxattr/getxattr, and
lookups of names near the listed ones (hash neighbours in an htree). Paths start as the seed's
source tree (its manifest), so names are looked up before any listing of their directory,
and grow with what readdir lists. After every call:

- the server is alive: no ENOTCONN/ECONNABORTED, the mount is still in /proc/self/mountinfo,
  the server process (`ext4guard-serve`) still runs;
- the call returned within `CALL_TIMEOUT` (a hang is a failure: the server is then killed,
  which aborts the connection and frees the caller);
- a failure is an errno a read-only ext4 can give (`ALLOWED`);
- the same call answers the same way every time (the kernel's entry/attribute caches answer
  some repeats, the server the rest; with `-o timeout=0` every repeat reaches the server);
- a name readdir lists with an inode number is the inode that looking it up gives;
- at unmount, the server's log holds findings (JSON lines) and nothing else.

The calls run in a worker process chrooted into the mount, so a symlink on the image (an
absolute target, `..` chains) never resolves outside it. A mount that is refused (an
untrusted superblock) must be refused again, the same way.

Failing examples are written under the test's tmp dir as corpus/regressions entries
(`fuzz.regressions.save`, target "mount", the calls in "syscalls"); kept ones are copied to
corpus/regressions/ and replayed by `test_regression_replay` (strict xfail while
"mount" is in the sidecar's "xfail_targets").
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ext4guard.fuzz import mutators as M
from ext4guard.fuzz import records as R
from ext4guard.fuzz import regressions as G
from ext4guard.fuzz.seeds import seed_bytes
from tests.mounts import ENV, find_server, is_mounted, run_ext4guard, unmount
from tests.seeds import manifest_entries, seed_manifest

IS_ROOT = os.geteuid() == 0
pytestmark = [
    pytest.mark.needs_root,
    pytest.mark.skipif(not IS_ROOT, reason="mounting needs root (mount(2)) and chroot"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="no /dev/fuse"),
]


#: Small seeds covering the feature families: block maps, metadata_csum or not, htree,
#: inline data, 128-byte inodes, casefold, xattr blocks and EA inodes, uninit_bg, 2 KiB blocks.
SEEDS = (
    "ext2_1k",
    "ext4_nojournal",
    "ext4_inline",
    "ext4_inode128",
    "ext4_nocsum_uninit_bg",
    "ext4_casefold",
    "ext4_1k",
    "ext4_2k",
    "ext4_ea_inode",
    "ext4_noflexbg",
)
#: Mount options: the defaults (day-long entry/attr timeouts, keep_cache), every call to the
#: server (`timeout=0`), and reads that bypass the page cache (`direct_io`).
OPTIONS = ((), ("-o", "timeout=0"), ("-o", "direct_io"))

#: What a call may fail with on a read-only ext4 (EACCES: device nodes on a nodev mount).
ALLOWED = {
    errno.EIO,
    errno.ENOENT,
    errno.ENOTDIR,
    errno.ELOOP,
    errno.ENODATA,  # ENOATTR
    errno.EOPNOTSUPP,
    errno.EINVAL,
    errno.EISDIR,
    errno.ENAMETOOLONG,
    errno.E2BIG,
    errno.ERANGE,
    errno.EACCES,
}
DEAD = {errno.ENOTCONN, errno.ECONNABORTED}

CALL_TIMEOUT = 5.0
MOUNT_TIMEOUT = 30.0
MAX_PATHS = 400
#: Paths of the seed's source tree known before any listing.
MANIFEST_PATHS = 200
DT_DIR, DT_REG, DT_LNK = 4, 8, 10
#: The manifests' file types as DT_* (d_type) values.
DT_OF = {"fifo": 1, "chr": 2, "dir": 4, "blk": 6, "reg": 8, "lnk": 10, "sock": 12}
XATTR_NAMES = (
    b"user.comment",
    b"user.nonexistent",
    b"trusted.overlay.opaque",
    b"security.selinux",
    b"system.posix_acl_access",
    b"system.posix_acl_default",
    b"system.data",
    b"nonamespace",
)

# ------------------------------------------------------------------------------ the worker

#: The syscall worker: chroots into the mount (argv[1]) and answers one JSON request per line
#: with {"ok": value} or {"errno": n}. Paths and names travel as hex (they are raw bytes).
WORKER = r"""
import hashlib, json, os, stat, sys

from tests.mounts import raw_listing  # before the chroot: PYTHONPATH is the checkout

def raw_readdir(path):
    return [[name.hex(), ino, kind] for name, ino, kind in raw_listing(path)]

def stat_fields(st):
    return [st.st_mode, st.st_ino, st.st_nlink, st.st_uid, st.st_gid, st.st_size,
            st.st_blocks, st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns, st.st_rdev]

def do_read(path, offset, size):
    st = os.stat(path)
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        return ["special", stat.S_IFMT(st.st_mode)]  # fifos block, devices are nodev
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        data = os.pread(fd, size, offset)
    finally:
        os.close(fd)
    return [len(data), hashlib.sha256(data).hexdigest()]

def run(req, chrooted, mnt):
    path = bytes.fromhex(req["path"])
    if chrooted:
        path = b"/" + path
    elif path:
        raise OSError(2, "not chrooted: only the root")
    else:
        path = mnt
    op = req["op"]
    if op == "lstat":
        return stat_fields(os.lstat(path))
    if op == "stat":
        return stat_fields(os.stat(path))
    if op == "listdir":
        return sorted(name.hex() for name in os.listdir(path))
    if op == "readdir":
        return raw_readdir(path)
    if op == "read":
        return do_read(path, req["offset"], req["size"])
    if op == "readlink":
        return os.readlink(path).hex()
    if op == "listxattr":
        return sorted(os.fsencode(n).hex() for n in os.listxattr(path, follow_symlinks=False))
    if op == "getxattr":
        name = os.fsdecode(bytes.fromhex(req["name"]))
        return os.getxattr(path, name, follow_symlinks=False).hex()
    raise ValueError(op)

mnt = os.fsencode(sys.argv[1])
try:
    os.chroot(mnt)
    os.chdir(b"/")
    hello = {"chroot": 0}
except OSError as exc:
    hello = {"chroot": exc.errno}
print(json.dumps(hello), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    try:
        out = {"ok": run(req, hello["chroot"] == 0, mnt)}
    except OSError as exc:
        out = {"errno": exc.errno}
    print(json.dumps(out), flush=True)
"""


class Hang(Exception):
    """A call that did not answer within CALL_TIMEOUT."""


class Worker:
    """The chrooted syscall worker of one mount, one request at a time, each with a deadline."""

    def __init__(self, mnt: Path, timeout: float = CALL_TIMEOUT) -> None:
        self.timeout = timeout
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(mnt)],
            env=ENV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.buffer = b""
        self.hello = self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready:
                raise Hang
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise AssertionError(f"the syscall worker died: {err[-2000:]}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        answer: dict[str, Any] = json.loads(line)
        return answer

    @property
    def chrooted(self) -> bool:
        return bool(self.hello["chroot"] == 0)

    def call(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        self.proc.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


# ------------------------------------------------------------------------------ mounting


def run_cli(*args: str, timeout: float = MOUNT_TIMEOUT) -> subprocess.CompletedProcess[str]:
    return run_ext4guard(*args, timeout=timeout)


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@cache
def located(seed: str) -> tuple[bytes, R.Layout]:
    raw = seed_bytes(seed)
    return raw, R.locate(raw)


@cache
def manifest_paths(seed: str) -> tuple[tuple[bytes, int], ...]:
    """Up to MANIFEST_PATHS paths of the tree the seed was built from (relative, evenly
    spread over the sorted list) with their DT_* types."""
    entries = sorted(manifest_entries(seed_manifest(seed)).items())
    step = max(1, len(entries) // MANIFEST_PATHS)
    return tuple(
        (path.lstrip(b"/"), DT_OF.get(entry["type"], 0))
        for path, entry in entries[::step]
        if path != b"/"
    )


def log_problems(log: Path) -> list[str]:
    """Lines of the server's log that are neither findings nor empty (a traceback, a crash)."""
    if not log.exists():
        return []
    bad = []
    for line in log.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            bad.append(line)
            continue
        if not isinstance(doc, dict) or "finding" not in doc:
            bad.append(line)
    return bad


# ------------------------------------------------------------------------------ the machine


@dataclass(frozen=True, slots=True)
class Call:
    op: str
    path: bytes
    offset: int = 0
    size: int = 0
    name: bytes = b""

    def request(self) -> dict[str, Any]:
        req: dict[str, Any] = {"op": self.op, "path": self.path.hex()}
        if self.op == "read":
            req |= {"offset": self.offset, "size": self.size}
        if self.op == "getxattr":
            req["name"] = self.name.hex()
        return req

    def describe(self) -> str:
        text = f"{self.op}({self.path!r}"
        if self.op == "read":
            text += f", offset={self.offset}, size={self.size}"
        if self.op == "getxattr":
            text += f", {self.name!r}"
        return text + ")"


class Mounted:
    """One mutated image, mounted, with its worker; every call checked."""

    def __init__(
        self,
        image: Path,
        mnt: Path,
        log: Path,
        options: tuple[str, ...],
        timeout: float = CALL_TIMEOUT,
    ) -> None:
        self.image, self.mnt, self.log, self.options = image, mnt, log, options
        self.timeout = timeout
        self.worker: Worker | None = None
        self.pid: int | None = None
        self.answers: dict[Call, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.refusal: tuple[int, str] | None = None

    def start(self) -> None:
        """Mount (close() unmounts, whatever fails here) and start the worker."""
        self.mnt.mkdir(exist_ok=True)
        done = run_cli(
            "mount", str(self.image), str(self.mnt), "--log", str(self.log), *self.options
        )
        self.check_mount_result(done)
        if done.returncode != 0:
            self.refusal = (done.returncode, done.stderr)
            return
        self.pid = find_server(self.image)
        assert self.pid is not None, "mounted, but no ext4guard-serve holds the image"
        try:
            worker = Worker(self.mnt, self.timeout)
        except Hang:
            self.kill_server()
            raise AssertionError(
                f"chroot into the mount: no answer within {self.timeout} s"
            ) from None
        self.worker = worker
        self.check_errno(Call("chroot", b""), worker.hello["chroot"])

    def check_mount_result(self, done: subprocess.CompletedProcess[str]) -> None:
        assert done.returncode in (0, 1), f"mount exit {done.returncode}: {done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        if done.returncode == 1:
            assert len(done.stderr.strip().splitlines()) == 1, done.stderr
            assert "refused" in done.stderr, done.stderr
            assert not is_mounted(self.mnt)

    @property
    def serving(self) -> bool:
        return self.worker is not None

    def remount_refused(self) -> None:
        """A refused image is refused again, for the same reason."""
        done = run_cli("mount", str(self.image), str(self.mnt), "--log", str(self.log))
        assert (done.returncode, done.stderr) == self.refusal

    def check_errno(self, call: Call, err: int) -> None:
        if err == 0:
            return
        assert err not in DEAD, f"{call.describe()}: {os.strerror(err)}: the server died"
        assert err in ALLOWED, f"{call.describe()}: {errno.errorcode.get(err, err)}"

    def call(self, call: Call) -> dict[str, Any]:
        assert self.worker is not None
        self.calls.append(call)
        try:
            answer = self.worker.call(call.request())
        except Hang:
            self.kill_server()
            raise AssertionError(
                f"{call.describe()}: no answer within {self.timeout} s (hang)"
            ) from None
        self.check_errno(call, int(answer.get("errno", 0)))
        first = self.answers.setdefault(call, answer)
        assert answer == first, f"{call.describe()}: {answer} after {first} (not deterministic)"
        self.check_alive(call)
        return answer

    def check_alive(self, call: Call | None = None) -> None:
        where = f"after {call.describe()}" if call else ""
        assert self.pid is not None and alive(self.pid), f"the server died {where}"
        assert is_mounted(self.mnt), f"the mount is gone {where}"

    def kill_server(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def close(self) -> list[str]:
        if self.worker is not None:
            self.worker.close()
        if is_mounted(self.mnt):
            unmount(self.mnt)
        problems = log_problems(self.log)
        if is_mounted(self.mnt):
            problems.append("still mounted after umount")
        return problems


def keeping(method: Callable[..., None]) -> Callable[..., None]:
    """A step of the machine whose failure is kept as a corpus/regressions entry."""

    @functools.wraps(method)
    def step(self: FuseMachine, *args: Any, **kwargs: Any) -> None:
        try:
            method(self, *args, **kwargs)
        except AssertionError as exc:
            where = self.keep_finding(str(exc))
            raise AssertionError(f"{exc}\n(kept as {where})") from None

    return step


def near_names(name: bytes) -> list[bytes]:
    """Names next to a listed one: another last byte (a different hash in the same
    directory), a prefix, an extension, and one longer than NAME_MAX."""
    out = [name + b"~", name[:-1] or b"x", b"x" * 256]
    if name:
        out.append(name[:-1] + bytes([(name[-1] % 254) + 1]))
        out.append(name.upper() if name.upper() != name else name.lower())
    return [n for n in out if b"/" not in n and b"\0" not in n and n not in (b".", b"..")]


class FuseMachine(RuleBasedStateMachine):
    """Random syscalls on one mutated, mounted image."""

    workdir: ClassVar[Path]
    counter: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        self.m: Mounted | None = None
        self.paths: list[bytes] = [b""]
        self.known: set[bytes] = {b""}
        self.names: list[bytes] = []
        #: path -> (d_ino, d_type) as its directory's readdir listed it
        self.listed: dict[bytes, tuple[int, int]] = {}
        self.sizes: dict[bytes, int] = {}
        #: path -> its type as DT_* (from readdir's d_type or lstat's mode)
        self.kinds: dict[bytes, int] = {}
        self.xattrs: dict[bytes, list[bytes]] = {}
        self.reproducer: G.Reproducer | None = None
        self.options: tuple[str, ...] = ()
        self.refused_again = False

    # ------------------------------------------------------------------ set-up

    @initialize(
        seed=st.sampled_from(SEEDS),
        options=st.sampled_from(OPTIONS),
        fix=st.sampled_from((True, True, True, False)),
        data=st.data(),
    )
    @keeping
    def mount_mutated_image(
        self, seed: str, options: tuple[str, ...], fix: bool, data: st.DataObject
    ) -> None:
        raw, layout = located(seed)
        ops = data.draw(M.strategy(layout, raw, max_ops=4), label="ops")
        image_bytes = M.apply(raw, layout, ops, fix=fix)
        self.reproducer = G.from_image(image_bytes, seed)
        self.options = options
        FuseMachine.counter += 1
        here = self.workdir / f"ex{FuseMachine.counter}"
        here.mkdir()
        image = here / f"{seed}.img"
        image.write_bytes(image_bytes)
        self.m = Mounted(image, here / "mnt", here / "log", options)
        self.m.start()
        if self.chrooted():
            # The seed's source tree: paths to look up before any listing (lookups that
            # search the directory on disk, not a name index built from a listing).
            for path, kind in manifest_paths(seed):
                self.add_path(path, kind)

    @keeping
    def teardown(self) -> None:
        if self.m is not None:
            problems = self.m.close()
            assert not problems, "server log: " + "\n".join(problems[:20])

    # ------------------------------------------------------------------ calls

    def call(self, call: Call) -> dict[str, Any]:
        assert self.m is not None
        return self.m.call(call)

    def keep_finding(self, message: str) -> Path | None:
        """The failing example as a corpus/regressions entry under the tmp dir (copy it to
        corpus/regressions/ with a name and the bug described to keep it)."""
        if self.reproducer is None:
            return None
        digest = hashlib.sha256(json.dumps(self.reproducer.as_json()).encode()).hexdigest()[:12]
        calls = self.m.calls if self.m is not None else []
        return G.save(
            self.reproducer,
            f"fuse_{digest}",
            bug=message,
            call=calls[-1].describe() if calls else "mount",
            target="mount",
            directory=self.workdir / "findings",
            syscalls=[c.request() for c in calls],
            options=list(self.options),
        )

    def add_path(self, path: bytes, kind: int = 0) -> None:
        if path not in self.known and len(self.paths) < MAX_PATHS:
            self.known.add(path)
            self.paths.append(path)
            self.names.append(path.rpartition(b"/")[2])
            if kind:
                self.kinds.setdefault(path, kind)

    def learn(self, parent: bytes, names: list[bytes]) -> None:
        for name in names:
            if name not in (b".", b".."):
                self.add_path(parent + b"/" + name if parent else name)

    def serving(self) -> bool:
        return self.m is not None and self.m.serving

    def chrooted(self) -> bool:
        return (
            self.serving()
            and self.m is not None
            and self.m.worker is not None
            and (self.m.worker.chrooted)
        )

    @precondition(lambda self: self.serving())
    @rule(data=st.data(), follow=st.booleans())
    @keeping
    def stat(self, data: st.DataObject, follow: bool) -> None:
        path = self.pick(data)
        answer = self.call(Call("stat" if follow else "lstat", path))
        if "ok" not in answer:
            return
        mode, ino = answer["ok"][0], answer["ok"][1]
        self.sizes[path] = answer["ok"][5]
        if not follow:
            self.kinds[path] = mode >> 12
        listed = self.listed.get(path)
        if not follow and listed is not None and listed[0] != 0:
            # readdirplus and lookup name the same inode, of the same type
            assert ino == listed[0], f"lstat({path!r}) ino {ino} != readdir's {listed[0]}"
            if listed[1] != 0:
                assert (mode >> 12) == listed[1], f"lstat({path!r}) mode {mode:o} != d_type"

    def pick(self, data: st.DataObject, kind: int = 0) -> bytes:
        """A known path; with `kind` (a DT_* type), one of that type when there is one."""
        if kind:
            of_kind = [p for p in self.paths if self.kinds.get(p) == kind]
            if of_kind and data.draw(st.integers(0, 4), label="of kind"):
                return data.draw(st.sampled_from(of_kind), label="path")
        return data.draw(st.sampled_from(self.paths), label="path")

    def list_path(self, path: bytes, raw: bool) -> list[tuple[bytes, int, int]]:
        """readdir(3) (raw: with the dots, d_ino and d_type) or os.listdir of `path`."""
        answer = self.call(Call("readdir" if raw else "listdir", path))
        if "ok" not in answer:
            return []
        if raw:
            entries = [(bytes.fromhex(n), ino, kind) for n, ino, kind in answer["ok"]]
        else:
            entries = [(bytes.fromhex(n), 0, 0) for n in answer["ok"]]
        names = [n for n, _, _ in entries]
        assert len(set(names)) == len(names), f"a name listed twice in {path!r}: {names}"
        if raw:
            assert names.count(b".") == 1 and names.count(b"..") == 1, f"dots: {names}"
        if not self.chrooted():
            return entries
        for name, ino, kind in entries:
            if name in (b".", b".."):
                continue
            child = path + b"/" + name if path else name
            if raw:
                self.listed[child] = (ino, kind)
                self.kinds.setdefault(child, kind)
        self.learn(path, names)
        return entries

    @precondition(lambda self: self.serving())
    @rule(data=st.data(), raw=st.booleans())
    @keeping
    def list_directory(self, data: st.DataObject, raw: bool) -> None:
        self.list_path(self.pick(data, DT_DIR), raw)

    @precondition(lambda self: self.serving())
    @rule(
        data=st.data(),
        where=st.sampled_from(("start", "inside", "end", "past", "far")),
        size=st.sampled_from((1, 100, 4096, 65536, 1 << 20)),
    )
    @keeping
    def read(self, data: st.DataObject, where: str, size: int) -> None:
        path = self.pick(data, DT_REG)
        known = self.sizes.get(path, 1 << 16)
        offset = {
            "start": 0,
            "inside": data.draw(st.integers(0, max(0, known - 1)), label="offset"),
            "end": max(0, known - 1),
            "past": known + 4096,
            "far": data.draw(st.sampled_from((1 << 32, 1 << 44, (1 << 63) - 1)), label="far"),
        }[where]
        self.call(Call("read", path, offset=offset, size=size))

    @precondition(lambda self: self.serving())
    @rule(data=st.data())
    @keeping
    def readlink(self, data: st.DataObject) -> None:
        self.call(Call("readlink", self.pick(data, DT_LNK)))

    @precondition(lambda self: self.serving())
    @rule(data=st.data(), listed=st.booleans())
    @keeping
    def xattr(self, data: st.DataObject, listed: bool) -> None:
        path = self.pick(data)
        if not listed:
            answer = self.call(Call("listxattr", path))
            if "ok" in answer:
                self.xattrs[path] = [bytes.fromhex(n) for n in answer["ok"]]
            return
        names = [*self.xattrs.get(path, []), *XATTR_NAMES]
        name = data.draw(st.sampled_from(names), label="name")
        self.call(Call("getxattr", path, name=name))

    @precondition(lambda self: self.chrooted() and bool(self.names))
    @rule(data=st.data())
    @keeping
    def lookup_near(self, data: st.DataObject) -> None:
        """lstat of a name that is not listed but close to one that is."""
        directory = self.pick(data, DT_DIR)
        name = data.draw(st.sampled_from(self.names), label="listed")
        near = data.draw(st.sampled_from(near_names(name)), label="near")
        self.call(Call("lstat", directory + b"/" + near if directory else near))

    @rule()
    @keeping
    def refused_again_or_root(self) -> None:
        """Always possible: a refused image is refused again; a mounted one stats its root."""
        assert self.m is not None
        if self.m.serving:
            self.call(Call("lstat", b""))
        elif not self.refused_again:
            self.m.remount_refused()
            self.refused_again = True

    @invariant()
    @keeping
    def server_alive(self) -> None:
        if self.m is not None and self.m.serving:
            self.m.check_alive()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuse_stateful")


def test_random_syscalls_on_mutated_mounts(workdir: Path) -> None:
    FuseMachine.workdir = workdir
    run_state_machine_as_test(
        FuseMachine,
        settings=settings(
            max_examples=8,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            # No shrinking (each run mounts an image: minutes) and no explain phase: a failure
            # is reported at once, kept as a regression entry with its image and calls.
            phases=[Phase.explicit, Phase.generate],
        ),
    )


def test_the_checks_catch_a_hung_and_a_dead_server(workdir: Path) -> None:
    """The watchdog and the liveness checks work: a stopped server is a hang (and is killed:
    the caller is freed, the mount removed), a killed one an aborted connection."""
    here = workdir / "self_test"
    here.mkdir()
    image = here / "image.img"
    image.write_bytes(seed_bytes("ext4_nojournal"))
    for sig, expected in ((signal.SIGSTOP, "(hang)"), (signal.SIGKILL, "the server died")):
        m = Mounted(image, here / "mnt", here / f"log{sig}", ("-o", "timeout=0"), timeout=1.0)
        try:
            m.start()
            assert m.call(Call("lstat", b"bin")).get("ok")
            assert m.pid is not None
            os.kill(m.pid, sig)
            with pytest.raises(AssertionError, match=re.escape(expected)):
                m.call(Call("lstat", b"etc"))
        finally:
            m.close()
        assert not is_mounted(here / "mnt")


# ------------------------------------------------------------------------------ replays

REGRESSIONS = sorted(G.REGRESSIONS.glob("*.patch.json"))
WALK_DIRS = 64
WALK_PATHS = 1000
WALK_READ = 1 << 20


def walk(m: Mounted) -> None:
    """Every call on every path of the mount (bounded), breadth first, through `m.call`."""
    queue = [b""]
    seen = 0
    dirs = 0
    while queue and seen < WALK_PATHS:
        path = queue.pop(0)
        seen += 1
        answer = m.call(Call("lstat", path))
        m.call(Call("listxattr", path))
        for name in XATTR_NAMES[:2]:
            m.call(Call("getxattr", path, name=name))
        if "ok" not in answer:
            continue
        kind = answer["ok"][0] >> 12
        if kind == DT_LNK:
            m.call(Call("readlink", path))
        elif kind == DT_REG:
            size = min(answer["ok"][5], WALK_READ)
            for offset in range(0, size + 1, 1 << 16):
                m.call(Call("read", path, offset=offset, size=1 << 16))
        elif kind == DT_DIR and dirs < WALK_DIRS and m.worker is not None and m.worker.chrooted:
            dirs += 1
            listing = m.call(Call("readdir", path))
            for hex_name, _ino, _kind in listing.get("ok", []):
                name = bytes.fromhex(hex_name)
                if name not in (b".", b".."):
                    queue.append(path + b"/" + name if path else name)


@pytest.mark.skipif(not REGRESSIONS, reason="no corpus/regressions entries")
@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_regression_replay(path: Path, workdir: Path, request: pytest.FixtureRequest) -> None:
    """Each corpus/regressions image, mounted: its recorded syscalls (a finding of this
    machine), then a bounded walk of the whole mount twice; the same checks as above."""
    name = path.name.removesuffix(".patch.json")
    sidecar = json.loads(path.with_name(f"{name}.json").read_text())
    if "mount" in sidecar.get("xfail_targets", []):
        request.applymarker(pytest.mark.xfail(strict=True, reason=sidecar["bug"][:200]))
    here = workdir / name
    here.mkdir()
    image = here / "image.img"
    image.write_bytes(G.load(path).image())
    m = Mounted(image, here / "mnt", here / "log", tuple(sidecar.get("options", ())))
    problems: list[str] = []
    try:
        m.start()
        if m.serving:
            for request_doc in sidecar.get("syscalls", []):
                m.call(call_of(request_doc))
            walk(m)
            walk(m)  # again: every answer the same (Mounted.call compares)
        else:
            m.remount_refused()
    finally:
        problems = m.close()
    assert not problems, "server log: " + "\n".join(problems[:20])


def call_of(doc: dict[str, Any]) -> Call:
    """The Call a recorded request (Call.request) stands for."""
    return Call(
        doc["op"],
        bytes.fromhex(doc["path"]),
        offset=int(doc.get("offset", 0)),
        size=int(doc.get("size", 0)),
        name=bytes.fromhex(doc.get("name", "")),
    )
