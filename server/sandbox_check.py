"""`ext4guard sandbox-check`: prove the containment on this machine.

Starts a contained child and prints its live status as the PARENT sees it (from
/proc/CHILD/status, /proc/CHILD/limits, /proc/CHILD/fd and the namespace links), then runs
the escape battery: every attempt in its own freshly contained child, each with the
outcome it must have (an errno, an exception or a signal). Exit 0 only when the status is
right and every attempt was blocked the expected way; 1 otherwise; 2 when no contained
child could be started at all. Children report as one JSON line over a pipe (no pickle).

Run it directly as `python -m ext4guard.server.sandbox_check [--json]`.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import fcntl
import json
import mmap
import os
import select
import shutil
import signal
import socket
import stat
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from .libc import libc
from .sandbox import (
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWUSER,
    Containment,
    Profile,
    SandboxError,
    contain,
)

__all__ = ["ATTEMPTS", "Attempt", "Outcome", "main", "run_attempt", "run_battery", "status"]


# x86_64 syscall numbers for the calls Python does not wrap.
_SYS_PTRACE = 101
_SYS_CLONE = 56
_SYS_CLONE3 = 435
_SYS_UNSHARE = 272
_SYS_SETNS = 308
_SYS_BPF = 321
_SYS_USERFAULTFD = 323
_SYS_IO_URING_SETUP = 425
_SYS_OPENAT2 = 437
_SYS_MEMFD_CREATE = 319
_SYS_NEWFSTATAT = 262
_PTRACE_ATTACH = 16
_BPF_PROG_LOAD = 5

CHILD_TIMEOUT = 15.0  # seconds a battery child may take (the CPU attempt needs ~1-2 s)


@dataclass(frozen=True, slots=True)
class Context:
    """What an attempt may use: the kept fds and the parent's pid."""

    image_fd: int  # read-only, like the image the parser holds
    dir_fd: int  # a directory fd handed in by mistake: openat relative to it must fail
    parent: int
    scratch_dir: str  # the fuzzing profile's writable dir (landlock attempts)


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # "errno", "exception", "signal", "succeeded", "exit", "timeout", "error"
    detail: str  # e.g. "EPERM", "MemoryError", "SIGXCPU", "returned 3"

    def text(self) -> str:
        return self.detail if self.kind != "succeeded" else "SUCCEEDED"


@dataclass(frozen=True, slots=True)
class Attempt:
    name: str
    description: str
    expected: tuple[Outcome, ...]  # any of these counts as blocked the expected way
    run: Callable[[Context], object]
    cpu_seconds: int = 60
    writable: bool = False  # run under the fuzzing profile (open allowed, landlock decides)
    extra_syscalls: tuple[str, ...] = ()  # let seccomp pass these to test the layer beneath


def _errno(name: str) -> Outcome:
    return Outcome("errno", name)


EPERM = (_errno("EPERM"),)


def _syscall(number: int, *args: int) -> int:
    result = int(libc.syscall(ctypes.c_long(number), *(ctypes.c_long(a) for a in args)))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def _libc_call(name: str, *args: object) -> int:
    result = int(getattr(libc, name)(*args))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def _sockaddr_in(port: int) -> bytes:
    return socket.AF_INET.to_bytes(2, "little") + port.to_bytes(2, "big") + bytes([127, 0, 0, 1])


def _connect(ctx: Context) -> None:
    addr = _sockaddr_in(22) + bytes(8)
    _libc_call("connect", ctx.image_fd, addr, len(addr))


def _stat_with_empty_path_flag(ctx: Context) -> None:
    """fstat's flag with a real path: seccomp cannot read the path, so it lets this through."""
    path = ctypes.create_string_buffer(b"/etc/passwd")
    buf = ctypes.create_string_buffer(256)
    _syscall(_SYS_NEWFSTATAT, -100, ctypes.addressof(path), ctypes.addressof(buf), 0x1000)


def _memory_bomb(ctx: Context) -> None:
    hoard = [bytearray(1 << 30) for _ in range(64)]  # 64 GiB: far past RLIMIT_AS
    del hoard


def _busy_loop(ctx: Context) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pass


def _open(
    path: str, flags: int = os.O_RDONLY, dir_fd: int | None = None
) -> Callable[[Context], int]:
    return lambda ctx: os.open(path, flags, dir_fd=dir_fd)


ATTEMPTS: tuple[Attempt, ...] = (
    Attempt("open-passwd", "open('/etc/passwd')", EPERM, _open("/etc/passwd")),
    Attempt(
        "openat-kept-dir",
        "openat(kept directory fd, '../etc/passwd')",
        EPERM,
        lambda ctx: os.open("../etc/passwd", os.O_RDONLY, dir_fd=ctx.dir_fd),
    ),
    Attempt(
        "openat2",
        "openat2(AT_FDCWD, '/etc/passwd')",
        EPERM,
        lambda ctx: _syscall(_SYS_OPENAT2, -100, 0, 0, 0),
    ),
    Attempt(
        "proc-root",
        "open('/proc/self/root/etc/passwd')",
        EPERM,
        _open("/proc/self/root/etc/passwd"),
    ),
    Attempt(
        "proc-fd-reopen",
        "reopen the image read-write via /proc/self/fd/N",
        EPERM,
        lambda ctx: os.open(f"/proc/self/fd/{ctx.image_fd}", os.O_RDWR),
    ),
    Attempt(
        "socket-inet",
        "socket(AF_INET, SOCK_STREAM)",
        EPERM,
        lambda ctx: socket.socket(socket.AF_INET),
    ),
    Attempt(
        "socket-inet6",
        "socket(AF_INET6, SOCK_DGRAM)",
        EPERM,
        lambda ctx: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM),
    ),
    Attempt(
        "socket-unix",
        "socket(AF_UNIX, SOCK_STREAM)",
        EPERM,
        lambda ctx: socket.socket(socket.AF_UNIX),
    ),
    Attempt(
        "socket-netlink",
        "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)",
        EPERM,
        lambda ctx: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0),
    ),
    Attempt("socketpair", "socketpair(AF_UNIX)", EPERM, lambda ctx: socket.socketpair()),
    Attempt("connect", "connect(kept fd, 127.0.0.1:22)", EPERM, _connect),
    Attempt(
        "execve", "execve('/bin/sh')", EPERM, lambda ctx: os.execv("/bin/sh", ["sh", "-c", "true"])
    ),
    Attempt("fork", "fork()", (_errno("EAGAIN"),), lambda ctx: os.fork()),
    Attempt(
        "clone-newuser",
        "clone(CLONE_NEWUSER | CLONE_NEWNET)",
        EPERM,
        lambda ctx: _syscall(_SYS_CLONE, CLONE_NEWUSER | CLONE_NEWNET | signal.SIGCHLD, 0, 0, 0, 0),
    ),
    Attempt(
        "clone3",
        "clone3() (flags out of seccomp's sight)",
        (_errno("ENOSYS"),),
        lambda ctx: _syscall(_SYS_CLONE3, 0, 0),
    ),
    Attempt(
        "ptrace-parent",
        "ptrace(PTRACE_ATTACH, parent)",
        EPERM,
        lambda ctx: _syscall(_SYS_PTRACE, _PTRACE_ATTACH, ctx.parent, 0, 0),
    ),
    Attempt(
        "mount",
        "mount('tmpfs', '/tmp')",
        EPERM,
        lambda ctx: _libc_call("mount", b"tmpfs", b"/tmp", b"tmpfs", 0, None),
    ),
    Attempt(
        "unshare",
        "unshare(CLONE_NEWUSER | CLONE_NEWNS)",
        EPERM,
        lambda ctx: _syscall(_SYS_UNSHARE, CLONE_NEWUSER | CLONE_NEWNS),
    ),
    Attempt("setns", "setns(kept fd, 0)", EPERM, lambda ctx: _syscall(_SYS_SETNS, ctx.image_fd, 0)),
    Attempt("setuid-0", "setuid(0)", EPERM, lambda ctx: os.setuid(0)),
    Attempt(
        "write-image",
        "write() to the read-only image fd",
        EPERM,
        lambda ctx: os.write(ctx.image_fd, b"x"),
    ),
    Attempt(
        "pwrite-image",
        "pwrite() to the read-only image fd",
        EPERM,
        lambda ctx: os.pwrite(ctx.image_fd, b"x", 0),
    ),
    Attempt(
        "ioctl-unlisted",
        "ioctl(stdin, TIOCSTI) (an unlisted request)",
        EPERM,
        lambda ctx: fcntl.ioctl(0, termios.TIOCSTI, b"x"),
    ),
    Attempt(
        "create-file",
        "open('/tmp/ext4guard-escape', O_CREAT)",
        EPERM,
        _open("/tmp/ext4guard-escape", os.O_WRONLY | os.O_CREAT),
    ),
    Attempt(
        "mkdir",
        "mkdir('/tmp/ext4guard-escape.d')",
        EPERM,
        lambda ctx: os.mkdir("/tmp/ext4guard-escape.d"),
    ),
    Attempt(
        "signal-parent",
        "kill(parent, SIGURG)",
        EPERM,
        lambda ctx: os.kill(ctx.parent, signal.SIGURG),
    ),
    Attempt(
        "mmap-exec",
        "mmap(PROT_WRITE | PROT_EXEC)",
        EPERM,
        lambda ctx: mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC),
    ),
    Attempt("memfd", "memfd_create()", EPERM, lambda ctx: _syscall(_SYS_MEMFD_CREATE, 0, 0)),
    Attempt(
        "bpf", "bpf(BPF_PROG_LOAD)", EPERM, lambda ctx: _syscall(_SYS_BPF, _BPF_PROG_LOAD, 0, 0)
    ),
    Attempt("io-uring", "io_uring_setup()", EPERM, lambda ctx: _syscall(_SYS_IO_URING_SETUP, 1, 0)),
    Attempt("userfaultfd", "userfaultfd()", EPERM, lambda ctx: _syscall(_SYS_USERFAULTFD, 0)),
    Attempt(
        "memory-bomb",
        "allocate 64 GiB (past RLIMIT_AS)",
        (Outcome("exception", "MemoryError"),),
        _memory_bomb,
    ),
    Attempt(
        "cpu-loop",
        "busy loop past RLIMIT_CPU (1 s)",
        (Outcome("signal", "SIGXCPU"), Outcome("signal", "SIGKILL")),
        _busy_loop,
        cpu_seconds=1,
    ),
    Attempt("stat-host-file", "stat('/etc/passwd')", EPERM, lambda ctx: os.stat("/etc/passwd")),
    Attempt(
        "stat-empty-path-flag",
        "newfstatat('/etc/passwd', AT_EMPTY_PATH) (passes seccomp): empty root",
        (_errno("ENOENT"),),
        _stat_with_empty_path_flag,
    ),
    # The layers beneath seccomp: in the fuzzing profile open is allowed, so the empty root
    # and landlock decide.
    Attempt(
        "root-open-passwd",
        "open('/etc/passwd') with open allowed (fuzzing profile): empty root",
        (_errno("ENOENT"),),
        _open("/etc/passwd"),
        writable=True,
    ),
    Attempt(
        "landlock-list-root",
        "open('/', O_DIRECTORY) with open allowed (fuzzing profile): landlock",
        (_errno("EACCES"),),
        _open("/", os.O_RDONLY | os.O_DIRECTORY),
        writable=True,
    ),
    Attempt(
        "landlock-signal-parent",
        "kill(parent, SIGURG) with kill allowed: landlock signal scope (and uid)",
        EPERM,
        lambda ctx: os.kill(ctx.parent, signal.SIGURG),
        extra_syscalls=("kill",),
    ),
    Attempt(
        "root-create-outside",
        "create '/escape' with open allowed (fuzzing profile): read-only root",
        (_errno("EROFS"),),
        _open("/escape", os.O_WRONLY | os.O_CREAT),
        writable=True,
    ),
)


# --- running a function in a contained child ------------------------------------------------


def _read_all(fd: int, deadline: float) -> tuple[bytes, bool]:
    """Read until EOF or the deadline; (data, timed out)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), True
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks), False
        size += len(chunk)
        if size > 1 << 20:  # a child has no business sending more: truncate
            return b"".join(chunks), False
        chunks.append(chunk)


def _child_exit(pid: int, timed_out: bool) -> int:
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return status


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _outcome_of(exc: BaseException) -> Outcome:
    if isinstance(exc, OSError) and exc.errno is not None:
        return Outcome("errno", errno.errorcode.get(exc.errno, str(exc.errno)))
    return Outcome("exception", type(exc).__name__)


@dataclass(frozen=True, slots=True)
class _Fds:
    image: int
    directory: int
    scratch: str


def _profile(fds: _Fds, result_w: int, extra_keep: frozenset[int], attempt: Attempt | None,
             allow_weak: bool) -> Profile:  # fmt: skip
    profile = Profile(
        keep_fds=frozenset({fds.image, fds.directory, result_w}) | extra_keep,
        write_fds=frozenset({result_w}),
        allow_weak=allow_weak,
    )
    if attempt is not None:
        profile = replace(profile, cpu_seconds=attempt.cpu_seconds)
        if attempt.writable:
            profile = replace(profile, writable_dirs=(fds.scratch,))
        if attempt.extra_syscalls:
            profile = replace(profile, extra_syscalls=attempt.extra_syscalls)
    return profile


def _report(fd: int, payload: dict[str, Any]) -> None:
    data = (json.dumps(payload) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def run_attempt(attempt: Attempt, fds: _Fds, allow_weak: bool = False) -> Outcome:
    """Run one attempt in a freshly contained child and classify what happened."""
    result_r, result_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: contain, try, report, _exit (never return into the caller)
        code = 0
        try:
            os.close(result_r)
            try:
                contain(_profile(fds, result_w, frozenset(), attempt, allow_weak))
            except SandboxError as exc:
                _report(result_w, {"kind": "error", "detail": f"sandbox: {exc}"})
                code = 2
            else:
                ctx = Context(fds.image, fds.directory, os.getppid(), fds.scratch)
                try:
                    value = attempt.run(ctx)
                    outcome = Outcome("succeeded", repr(value)[:80])
                except (OSError, MemoryError, ValueError, TypeError) as exc:
                    outcome = _outcome_of(exc)
                _report(result_w, {"kind": outcome.kind, "detail": outcome.detail})
        except BaseException:  # the child must never unwind into the caller's frames
            code = 3
        finally:
            os._exit(code)
    os.close(result_w)
    try:
        data, timed_out = _read_all(result_r, time.monotonic() + CHILD_TIMEOUT)
    finally:
        os.close(result_r)
    status = _child_exit(pid, timed_out)
    if timed_out:
        return Outcome("timeout", f"no answer in {CHILD_TIMEOUT:.0f} s")
    if os.WIFSIGNALED(status):
        return Outcome("signal", _signal_name(os.WTERMSIG(status)))
    try:
        message = json.loads(data.decode().splitlines()[0])
        return Outcome(str(message["kind"]), str(message["detail"]))
    except (ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError):
        return Outcome("exit", f"exited {os.waitstatus_to_exitcode(status)} without a report")


# --- the live status, read by the parent --------------------------------------------------------

_STATUS_KEYS = (
    "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
    "NoNewPrivs", "Seccomp", "Seccomp_filters", "Threads",
)  # fmt: skip
_LIMIT_NAMES = {
    "Max cpu time": "CPU",
    "Max file size": "FSIZE",
    "Max core file size": "CORE",
    "Max processes": "NPROC",
    "Max open files": "NOFILE",
    "Max locked memory": "MEMLOCK",
    "Max address space": "AS",
    "Max file locks": "LOCKS",
    "Max msgqueue size": "MSGQUEUE",
    "Max nice priority": "NICE",
    "Max realtime priority": "RTPRIO",
}
_NAMESPACES = ("user", "mnt", "net", "ipc", "uts", "cgroup", "pid")
_UNREADABLE = "unreadable by this user (the child is not dumpable)"


def _proc_status(pid: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    with open(f"/proc/{pid}/status", "rb") as f:  # binary: no codec import needed
        for line in f.read().decode("ascii", "replace").splitlines():
            key, _, value = line.partition(":")
            if key in _STATUS_KEYS:
                fields[key] = " ".join(value.split())
    return fields


def _proc_limits(pid: int) -> dict[str, list[str]]:
    limits: dict[str, list[str]] = {}
    with open(f"/proc/{pid}/limits", "rb") as f:
        for line in f.read().decode("ascii", "replace").splitlines():
            for prefix, name in _LIMIT_NAMES.items():
                if line.startswith(prefix):
                    soft, hard = line[len(prefix) :].split()[:2]
                    limits[name] = [soft, hard]
    return limits


def _proc_fds(pid: int) -> dict[str, str] | str:
    try:
        names = sorted(os.listdir(f"/proc/{pid}/fd"), key=int)
        return {name: os.readlink(f"/proc/{pid}/fd/{name}") for name in names}
    except PermissionError:
        return _UNREADABLE


def _proc_namespaces(pid: int, reported: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each namespace of the child against the parent's own. An unprivileged parent cannot
    read a non-dumpable child's links; it then compares the ids the child recorded while it
    still could (namespace ids are global inode numbers)."""
    result: dict[str, dict[str, Any]] = {}
    for name in _NAMESPACES:
        mine = os.readlink(f"/proc/self/ns/{name}")
        try:
            child, source = os.readlink(f"/proc/{pid}/ns/{name}"), "parent"
        except PermissionError:
            child, source = reported.get(name, "?"), "child"
        result[name] = {"id": child, "new": child != mine, "source": source}
    return result


def _loopback(pid: int) -> str:
    """The child's network namespace as a root parent sees it by joining it in a helper."""
    if os.geteuid() != 0:
        return "not checked (joining the child's network namespace needs root)"
    read_fd, write_fd = os.pipe()
    helper = os.fork()
    if helper == 0:
        code = 1
        try:
            os.close(read_fd)
            ns = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
            if libc.setns(ns, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            names = [name for _, name in socket.if_nameindex()]
            states = []
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                for name in names:
                    request = name.encode().ljust(40, b"\0")
                    flags = int.from_bytes(fcntl.ioctl(probe, 0x8913, request)[16:18], "little")
                    states.append(f"{name} {'UP' if flags & 1 else 'DOWN'}")
            os.write(write_fd, ", ".join(states).encode() or b"no interfaces")
            code = 0
        except OSError as exc:
            os.write(write_fd, f"not checked ({exc.strerror})".encode())
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        data, timed_out = _read_all(read_fd, time.monotonic() + 5)
    finally:
        os.close(read_fd)
    _child_exit(helper, timed_out)
    return data.decode(errors="replace") or "not checked"


def _self_fds(limit: int) -> dict[str, str]:
    """The contained child's own view of its fds (fcntl and fstat are all it may use)."""
    fds: dict[str, str] = {}
    for fd in range(limit):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        kind = (
            "pipe" if stat.S_ISFIFO(mode) else
            "directory" if stat.S_ISDIR(mode) else
            "regular file" if stat.S_ISREG(mode) else
            "character device" if stat.S_ISCHR(mode) else
            "other"
        )  # fmt: skip
        flags = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        access = {os.O_RDONLY: "r", os.O_WRONLY: "w", os.O_RDWR: "rw"}.get(flags, "?")
        fds[str(fd)] = f"{kind} ({access})"
    return fds


def _check(status: dict[str, Any]) -> list[str]:
    """What the parent's view must show; a list of failures."""
    failures: list[str] = []
    proc = status["proc_status"]
    real_uid = proc.get("Uid", "").split()
    if not real_uid or "0" in real_uid:
        failures.append(f"uid is {proc.get('Uid')!r}: must not be 0")
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if int(proc.get(key, "1"), 16) != 0:
            failures.append(f"{key} is {proc.get(key)}: must be 0")
    if proc.get("NoNewPrivs") != "1":
        failures.append("NoNewPrivs is not 1")
    if proc.get("Seccomp") != "2":
        failures.append("Seccomp is not 2 (filter mode)")
    if status["containment"]["landlock_abi"] < 1:
        failures.append("no landlock ruleset")
    if not status["containment"]["empty_root"]:
        failures.append("the host's filesystem is still the root")
    for name in ("net", "ipc", "uts", "mnt"):
        if not status["namespaces"][name]["new"]:
            failures.append(f"{name} namespace is the parent's")
    limits = status["limits"]
    for name in ("NPROC", "CORE", "FSIZE"):
        if limits.get(name) != ["0", "0"]:
            failures.append(f"RLIMIT_{name} is {limits.get(name)}: must be 0")
    return failures


def status(fds: _Fds, allow_weak: bool = False) -> dict[str, Any]:
    """Start a contained child, read its live status from the parent's side, let it go."""
    result_r, result_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(result_r)
            os.close(go_w)
            try:
                profile = _profile(fds, result_w, frozenset({go_r}), None, allow_weak)
                containment: Containment = contain(profile)
            except SandboxError as exc:
                _report(result_w, {"error": str(exc)})
                code = 2
            else:
                nofile = max(containment.kept_fds) + 1
                _report(result_w, {"containment": containment.to_json(), "fds": _self_fds(nofile)})
                os.read(go_r, 1)  # stay alive while the parent reads /proc
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    os.close(result_w)
    os.close(go_r)
    try:
        line = b""
        deadline = time.monotonic() + CHILD_TIMEOUT
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([result_r], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                chunk = os.read(result_r, 65536)
                if not chunk:
                    break
                line += chunk
        try:
            message = json.loads(line.decode())
        except (ValueError, UnicodeDecodeError):
            message = {"error": "the contained child sent no status"}
        if "error" in message:
            raise SandboxError(str(message["error"]))
        report: dict[str, Any] = {
            "pid": pid,
            "containment": message["containment"],
            "proc_status": _proc_status(pid),
            "limits": _proc_limits(pid),
            "fds": _proc_fds(pid),
            "fds_seen_by_child": message["fds"],
            "namespaces": _proc_namespaces(pid, message["containment"]["namespace_ids"]),
            "network": _loopback(pid),
        }
        report["failures"] = _check(report)
        return report
    finally:
        os.close(go_w)
        os.close(result_r)
        _child_exit(pid, False)


# --- the command --------------------------------------------------------------------------------


def run_battery(fds: _Fds, allow_weak: bool = False) -> Iterator[tuple[Attempt, Outcome, bool]]:
    for attempt in ATTEMPTS:
        outcome = run_attempt(attempt, fds, allow_weak)
        yield attempt, outcome, outcome in attempt.expected


def _open_fds(image: str | None, scratch: str) -> _Fds:
    image_path = image or __file__  # any file works as a stand-in read-only "image"
    image_fd = os.open(image_path, os.O_RDONLY | os.O_CLOEXEC)
    dir_fd = os.open(os.path.dirname(os.path.abspath(image_path)), os.O_RDONLY | os.O_DIRECTORY)
    return _Fds(image_fd, dir_fd, scratch)


def _print_status(report: dict[str, Any]) -> None:
    c = report["containment"]
    proc = report["proc_status"]
    print(f"contained child pid {report['pid']}: set up in {c['setup_ms']:.1f} ms")
    print(f"  (read by the parent from /proc/{report['pid']}/status, limits, fd, ns)")
    for key in _STATUS_KEYS:
        if key in proc:
            print(f"  {key + ':':17}{proc[key] or '(none)'}")
    print(f"  {'landlock:':17}ABI {c['landlock_abi']} (reported by the child)")
    root = "empty read-only tmpfs" if c["empty_root"] else "the host's (NOT contained)"
    print(f"  {'root directory:':17}{root} (reported by the child)")
    ns = report["namespaces"]
    new = " ".join(name for name, v in ns.items() if v["new"]) or "none"
    shared = " ".join(name for name, v in ns.items() if not v["new"]) or "none"
    print(f"  {'namespaces:':17}new {new}; shared with the parent: {shared}")
    if any(v["source"] == "child" for v in ns.values()):
        print(f"  {'':17}(ids as the child recorded them: its links are {_UNREADABLE})")
    print(f"  {'network:':17}{report['network']}")
    limits = ", ".join(f"{k} {s}/{h}" for k, (s, h) in sorted(report["limits"].items()))
    print(f"  {'rlimits:':17}{limits}")
    fds = report["fds"]
    if isinstance(fds, dict):
        print(f"  {'open fds:':17}" + ", ".join(f"{k} -> {v}" for k, v in fds.items()))
    else:
        seen = ", ".join(f"{k} {v}" for k, v in report["fds_seen_by_child"].items())
        print(f"  {'open fds:':17}{fds}; child sees: {seen}")
    for warning in c["warnings"]:
        print(f"  warning: {warning}")
    for failure in report["failures"]:
        print(f"  FAILED: {failure}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ext4guard sandbox-check",
        description="Start a contained child, show its live status and try to escape it.",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument(
        "--image", metavar="PATH", help="file to hold as the read-only image fd (default: any)"
    )
    parser.add_argument(
        "--allow-weak-sandbox",
        action="store_true",
        help="run even when landlock or seccomp is missing (logged warning)",
    )
    args = parser.parse_args(argv)

    scratch = tempfile.mkdtemp(prefix="ext4guard-check-")
    try:
        try:
            fds = _open_fds(args.image, scratch)
        except OSError as exc:
            print(
                f"ext4guard sandbox-check: cannot open {args.image}: {exc.strerror}",
                file=sys.stderr,
            )
            return 2
        try:
            try:
                report = status(fds, args.allow_weak_sandbox)
            except SandboxError as exc:
                print(f"ext4guard sandbox-check: cannot contain a child: {exc}", file=sys.stderr)
                return 2
            if not args.json:
                _print_status(report)
                print("escape attempts, each in its own contained child:")
            attempts = []
            for attempt, outcome, blocked in run_battery(fds, args.allow_weak_sandbox):
                expected = " or ".join(o.text() for o in attempt.expected)
                attempts.append(
                    {
                        "name": attempt.name,
                        "attempt": attempt.description,
                        "outcome": {"kind": outcome.kind, "detail": outcome.detail},
                        "expected": expected,
                        "blocked": blocked,
                    }
                )
                if not args.json:
                    verdict = "blocked" if blocked else "NOT BLOCKED AS EXPECTED"
                    line = f"{attempt.description:72} {outcome.text()} (expected {expected})"
                    print(f"  {verdict:8} {line}")
        finally:
            os.close(fds.image)
            os.close(fds.directory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ok = not report["failures"] and all(a["blocked"] for a in attempts)
    if args.json:
        print(json.dumps({"ok": ok, "status": report, "attempts": attempts}, indent=2))
    else:
        count = sum(1 for a in attempts if a["blocked"])
        tail = ", status checks failed" if report["failures"] else ""
        verdict = "OK" if ok else "FAILED"
        print(f"{verdict}: {count}/{len(attempts)} attempts blocked as expected{tail}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
