"""`ext4guard mount IMAGE MOUNTPOINT` and `ext4guard umount MOUNTPOINT`.

The split of the fuse-iomap design (DESIGN.md, "Containment"): a privileged helper opens the
image read-only and /dev/fuse and performs the mount itself; the server that parses the image
runs contained (`server.sandbox`) and holds only those two fds.

1. The helper opens the image (O_RDONLY) and, as root, /dev/fuse, then forks the server.
2. The server contains itself at once (before any thread, before the mount exists: its own
   mount namespace never holds a copy of the mount, so an unmount really ends the
   connection), opens the image through the parser and reports over a pipe: an image whose
   superblock cannot be trusted is refused here, with the reason, before anything is mounted.
3. The helper mounts: as root, mount(2) with `fd=N,rootmode=...,user_id=...,group_id=...,
   default_permissions`, MS_RDONLY|MS_NOSUID|MS_NODEV, source naming the image (the
   fsname), type `fuse.ext4guard` (the subtype). As an ordinary user, the setuid
   `fusermount3 -o ro,nosuid,nodev,default_permissions,subtype=ext4guard,fsname=IMAGE`
   opens /dev/fuse, mounts and hands the fd back over the socket named by `_FUSE_COMMFD`
   (SCM_RIGHTS, as libfuse does); the helper passes it on to the already contained server
   the same way, with the "go". Either way the helper then closes its copy of the
   /dev/fuse fd: the server's is the only one, so a dead server means an aborted
   connection (ENOTCONN), never a hang.
4. The server gives pyfuse3 `/dev/fd/N`, libfuse's form for "already mounted", and serves
   from the direct loop (`_direct_loop`: a poll of /dev/fuse for up to `-o poll_us`, then
   one blocking read per request, no event loop; `-o trio` keeps pyfuse3's trio loop, for
   measuring).
5. The helper waits for the server. SIGINT/SIGTERM/SIGHUP make it unmount (lazily when the
   mount is busy), which ends the server; a server that dies is noticed and its mount
   removed the same way. `umount` works whether or not a server or helper is alive.

By default the command returns once the mount is ready and the helper stays behind as a
daemon (its stderr and the server's go to `--log FILE`, else nowhere); `-f` keeps both in
the foreground, with findings on stderr.

Exit codes: 0 mounted (or unmounted), 1 the image was refused (corrupt superblock: the
finding), 2 could not run (usage, permissions, mount(2) failed, containment failed).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import json
import os
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import time
import types
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from .libc import MNT_DETACH, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, libc

if TYPE_CHECKING:
    import socket

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_FAILED = 2

FSTYPE = "fuse.ext4guard"

PR_SET_NAME = 15  # <linux/prctl.h>

#: The server's syscalls are the sandbox's base set: libfuse reads /dev/fuse and answers with
#: writev (the fuse fd is a write fd), the read path is pread. libfuse also tries pipe2 for
#: splice reads on every request: denied, it falls back to read(2), which is as fast.
#: With `-o trio`, trio's epoll loop and the wake-up socket pair it creates, sends to and
#: drains need these too (found with strace).
TRIO_SYSCALLS = (
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "socketpair",
    "getsockname",
    "getpeername",
    "setsockopt",
    "sendto",
    "recvfrom",
)
#: ioctl requests trio makes: FIONBIO (it sets its wake-up sockets non-blocking).
TRIO_IOCTLS = (0x5421,)
#: fds trio opens after containment: its epoll fd and its two wake-up socket pairs.
TRIO_EXTRA_FDS = 6
#: The server writes only its log (stderr); a log file may grow to this size.
SERVER_LOG_LIMIT = 1 << 40
#: The server's address-space cap: Python, trio, pyfuse3, the parser's bounded caches and the
#: mapping cache fit in a fraction of it.
SERVER_MEMORY = 1 << 30
#: How long the helper waits for the server to start or to answer the handshake.
START_TIMEOUT = 30.0


class MountError(Exception):
    """The mount could not be made or served; one line, with the exit code it means."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class MountOptions:
    """What `-o` and the flags ask for (the fixed options are always on)."""

    allow_other: bool = False
    noexec: bool = False
    #: entry and attribute timeouts in seconds (None: fuse_ops.DEFAULT_TIMEOUT, a day)
    timeout: float | None = None
    #: open files with FOPEN_DIRECT_IO (no page cache; every read reaches the server)
    direct_io: bool = False
    #: the kernel's max_read mount option (bytes per read request), when set
    max_read: int | None = None
    #: the mount's readahead (its bdi's read_ahead_kb), when set
    readahead_kb: int | None = None
    #: mapping window fetched per iomap miss, in bytes (None: iomap.DEFAULT_WINDOW)
    window: int | None = None
    #: serve from pyfuse3's trio loop instead of the direct loop (for measuring)
    trio: bool = False
    #: microseconds the direct loop polls /dev/fuse for the next request before it sleeps
    #: (bench/bench_mount.py, idle VM: 20,000 random reads 2.3x -> 0.8x the kernel's time)
    poll_us: int = 50


def parse_options(text: str | None, allow_other: bool = False) -> MountOptions:
    """`-o a,b=c`: ro, nosuid, nodev, default_permissions (always on), allow_other, noexec,
    timeout=SECONDS, direct_io, max_read=BYTES, readahead_kb=KB, window_kb=KB, trio."""
    values: dict[str, object] = {"allow_other": allow_other}
    for item in (text or "").split(","):
        name, _, value = item.strip().partition("=")
        if not name or name in ("ro", "nosuid", "nodev", "default_permissions"):
            continue
        try:
            if name in ("allow_other", "noexec", "direct_io", "trio") and not value:
                values[name] = True
            elif name == "timeout":
                values["timeout"] = float(value)
                if not 0 <= float(value) <= 1e7:
                    raise ValueError(value)
            elif name == "max_read":
                values["max_read"] = _positive(value)
            elif name == "readahead_kb":
                values["readahead_kb"] = _positive(value)
            elif name == "window_kb":
                values["window"] = _positive(value) * 1024
            elif name == "poll_us":
                values["poll_us"] = int(value)
                if not 0 <= int(value) <= 1_000_000:
                    raise ValueError(value)
            else:
                raise MountError(f"unknown or read-write mount option {item!r}")
        except ValueError:
            raise MountError(f"bad value in mount option {item!r}") from None
    return MountOptions(**values)  # type: ignore[arg-type]


def _positive(text: str) -> int:
    value = int(text)
    if not 0 < value < 1 << 40:
        raise ValueError(text)
    return value


# --------------------------------------------------------------------------- mount table


@dataclass(frozen=True, slots=True)
class MountEntry:
    """One line of /proc/self/mountinfo."""

    mount_id: int
    device: str  # "major:minor"
    mount_point: str
    fstype: str
    source: str


_ESCAPE = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    raw = _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)
    return raw.encode("latin-1", "surrogateescape").decode("utf-8", "surrogateescape")


def mounts() -> list[MountEntry]:
    """The mount table of this process's namespace, in mount order."""
    out: list[MountEntry] = []
    with open("/proc/self/mountinfo", "rb") as f:
        for raw in f:
            fields = raw.decode("latin-1").split()
            if "-" not in fields:
                continue
            sep = fields.index("-")
            if sep < 5 or len(fields) < sep + 3:
                continue
            out.append(
                MountEntry(
                    mount_id=int(fields[0]),
                    device=fields[2],
                    mount_point=_unescape(fields[4]),
                    fstype=fields[sep + 1],
                    source=_unescape(fields[sep + 2]),
                )
            )
    return out


def top_mount(path: str) -> MountEntry | None:
    """The mount on top at `path` (the one umount2 would remove), if any."""
    found = [m for m in mounts() if m.mount_point == path]
    return found[-1] if found else None


def _umount(path: str, *, lazy_if_busy: bool = True) -> str:
    """Unmount `path` (root: umount2; otherwise fusermount3). Returns "" or "lazily"."""
    if os.geteuid() != 0:
        done = subprocess.run(["fusermount3", "-u", "-q", "--", path], check=False)
        if done.returncode == 0:
            return ""
        if lazy_if_busy:
            lazy = subprocess.run(["fusermount3", "-u", "-z", "-q", "--", path], check=False)
            if lazy.returncode == 0:
                return "lazily"
        raise MountError(f"{path}: fusermount3 -u failed")
    if libc.umount2(os.fsencode(path), 0) == 0:
        return ""
    err = ctypes.get_errno()
    if err == errno.EBUSY and lazy_if_busy:
        if libc.umount2(os.fsencode(path), MNT_DETACH) == 0:
            return "lazily"
        err = ctypes.get_errno()
    raise MountError(f"{path}: umount: {os.strerror(err)}")


def _set_name(name: bytes) -> None:
    libc.prctl(PR_SET_NAME, name, 0, 0, 0)  # what ps shows; failure is harmless


# --------------------------------------------------------------------------- the server


def _send(fd: int, message: dict[str, object]) -> None:
    data = (json.dumps(message) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def _socketpair() -> tuple[int, int]:
    """A unix stream socket pair as plain fds (close-on-exec)."""
    import socket

    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return left.detach(), right.detach()


def _send_fd(fd: int, message: dict[str, object], passed: int) -> None:
    """One JSON line with an fd attached (SCM_RIGHTS) on the unix socket `fd`."""
    import socket

    with socket.socket(fileno=os.dup(fd)) as sock:
        socket.send_fds(sock, [(json.dumps(message) + "\n").encode()], [passed])


def _receive_fd(sock: socket.socket) -> tuple[dict[str, object] | None, int]:
    """The line `_send_fd` sent and the fd that came with it (-1 if none): one recvmsg(2)
    (the socket object was made before containment: making one asks getsockopt first)."""
    import array
    import socket

    space = socket.CMSG_SPACE(array.array("i").itemsize)
    data, ancillary, _flags, _addr = sock.recvmsg(1 << 12, space)
    passed = -1
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
            for extra in fds[1:]:
                os.close(extra)
            passed = fds[0] if fds else -1
    try:
        message = json.loads(data.split(b"\n", 1)[0])
    except ValueError:
        return None, passed
    return (message if isinstance(message, dict) else None), passed


def _receive(fd: int, timeout: float | None) -> dict[str, object] | None:
    """One JSON line from the other side (at most 64 KiB), or None at EOF or timeout."""
    buffer = b""
    while b"\n" not in buffer and len(buffer) < 1 << 16:
        if timeout is not None:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                return None
        chunk = os.read(fd, 4096)
        if not chunk:
            return None
        buffer += chunk
    try:
        message = json.loads(buffer.split(b"\n", 1)[0])
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


# --------------------------------------------------------------------------- the request loop


class _Lock:
    """trio.Lock for one task: never contended, never waits."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc_info: object) -> bool:
        return False


class _Task:
    name = "ext4guard"


class _Nursery:
    """trio's nursery for coroutines that never suspend: each runs to its end in turn."""

    def __init__(self) -> None:
        self.pending: list[tuple[Callable[..., Awaitable[object]], tuple[object, ...]]] = []

    async def __aenter__(self) -> _Nursery:
        return self

    def start_soon(
        self, fn: Callable[..., Awaitable[object]], *args: object, name: object = None
    ) -> None:
        self.pending.append((fn, args))

    async def __aexit__(self, *exc_info: object) -> bool:
        while self.pending and exc_info[0] is None:
            fn, args = self.pending.pop(0)
            await fn(*args)
        return False


class _ClosedResourceError(Exception):
    pass


async def _wait_readable(fd: int) -> None:
    """Nothing to wait for: the /dev/fuse fd is blocking, libfuse's read(2) waits."""


def _polling_wait(microseconds: int) -> Callable[[int], Awaitable[None]]:
    """A `wait_readable` that polls the fd for up to `microseconds` before libfuse's blocking
    read(2): a request that arrives within that time is taken without this process going to
    sleep and being woken again, a wake-up that costs tens of microseconds on a VM whose idle
    CPUs halt. It spends at most that much CPU per request, and none while idle."""
    pollers: dict[int, select.poll] = {}
    spin_ns = microseconds * 1000

    async def wait_readable(fd: int) -> None:
        poller = pollers.get(fd)
        if poller is None:
            poller = pollers[fd] = select.poll()
            poller.register(fd, select.POLLIN)
        deadline = time.monotonic_ns() + spin_ns
        while not poller.poll(0) and time.monotonic_ns() < deadline:
            pass

    return wait_readable


def _direct_loop() -> types.ModuleType:
    """What pyfuse3 uses of trio, for a loop without one.

    pyfuse3 drives libfuse from trio (an epoll wait, a lock and a task switch around every
    request) and lets the event loop be replaced: `pyfuse3.asyncio.enable()` puts a module
    of these same names in place of trio. Here they do nothing: with one worker, every
    handler answering without awaiting anything (all of `fuse_ops` does: the image is a
    local file, reads are pread), a request is libfuse's blocking read(2) of /dev/fuse,
    the handler, and the reply's writev(2). Measured (20,000 lookups answered from a dict,
    so that only the loop counts): 0.65 s wall and 16 us of server CPU per request with
    trio, 0.14 s and 3.5 us without; and trio is never imported (60 ms of start-up).
    `-o trio` keeps trio's loop (bench/bench_mount.py, backend ext4guard-trio).
    """
    loop = types.ModuleType("trio")
    names: dict[str, object] = {
        "Lock": _Lock,
        "ClosedResourceError": _ClosedResourceError,
        "current_task": lambda: _Task,
        "current_trio_token": lambda: "ext4guard-direct",
        "wait_readable": _wait_readable,
        "notify_closing": lambda fd: None,
        "open_nursery": _Nursery,
    }
    for name, value in names.items():
        setattr(loop, name, value)
    loop.lowlevel = loop  # type: ignore[attr-defined]
    loop.from_thread = loop  # type: ignore[attr-defined]
    return loop


def run_direct(main: Callable[[int, int], Coroutine[object, None, object]]) -> None:
    """Run pyfuse3.main on the direct loop until the session ends (unmount)."""
    coroutine = main(1, 1)
    try:
        coroutine.send(None)
    except StopIteration:
        return
    coroutine.close()
    raise RuntimeError("a FUSE handler waited for something: the direct loop cannot serve it")


def load_server(trio: bool = False) -> None:
    """Import everything the server runs: once contained it cannot open a file. (Here, not
    at the top of this module, so that `umount` starts in a few milliseconds.)"""
    if not trio:
        # pyfuse3 imports trio when it is imported: give it the direct loop's names instead
        # (60 ms of start-up), unless trio is already here.
        direct = _direct_loop()
        sys.modules.setdefault("trio", direct)
    import array  # noqa: F401 (the unprivileged server's fd passing)
    import socket  # noqa: F401

    import pyfuse3

    import ext4guard.parser.filesystem  # noqa: F401

    from . import fuse_ops, iomap, sandbox  # noqa: F401

    if not trio:
        setattr(pyfuse3, "trio", direct)  # noqa: B010 (not in pyfuse3's stubs)


def _serve(image_fd: int, fuse_fd: int, inbox: int, outbox: int, options: MountOptions) -> int:
    """The server process: contain, check the image, wait for the mount, serve. `fuse_fd` is
    -1 for an unprivileged mount: the /dev/fuse fd arrives on `inbox` (a unix socket) with
    the helper's "go", once fusermount3 has mounted."""
    load_server(options.trio)
    import socket

    import pyfuse3

    from ext4guard.parser.errors import Ext4Error
    from ext4guard.parser.filesystem import Filesystem

    from . import sandbox
    from .fuse_ops import DEFAULT_TIMEOUT, Ext4Operations, FindingLog
    from .iomap import DEFAULT_WINDOW, Iomap

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # ^C is the helper's: it unmounts
    _set_name(b"ext4guard-serve")
    receives = fuse_fd < 0
    fds = {image_fd, inbox, outbox, 2} | (set() if receives else {fuse_fd})
    inbox_socket = socket.socket(fileno=inbox) if receives else None
    profile = sandbox.Profile(
        keep_fds=frozenset(fds),
        # The received /dev/fuse fd is one the server creates: writable, like trio's fds.
        write_fds=frozenset(fds - {image_fd, inbox}),
        memory_limit=SERVER_MEMORY,
        cpu_seconds=0,  # a mount serves for as long as it is mounted
        extra_syscalls=(TRIO_SYSCALLS if options.trio else ()) + (("recvmsg",) * receives),
        ioctl_requests=TRIO_IOCTLS if options.trio else (),
        max_file_size=SERVER_LOG_LIMIT,
        extra_fds=(TRIO_EXTRA_FDS if options.trio else 0) + receives,
    )
    try:
        sandbox.contain(profile)
    except sandbox.SandboxError as exc:
        _send(outbox, {"t": "failed", "detail": f"containment: {exc}"})
        return EXIT_FAILED
    try:
        fs = Filesystem.open(image_fd)
    except Ext4Error as exc:
        _send(outbox, {"t": "refused", "finding": exc.as_finding(), "detail": str(exc)})
        return EXIT_REFUSED
    _send(outbox, {"t": "ok"})
    if inbox_socket is not None:
        go, fuse_fd = _receive_fd(inbox_socket)
        inbox_socket.detach()
    else:
        go = _receive(inbox, None)
    if go is None or go.get("t") != "go" or fuse_fd < 0:
        return EXIT_OK  # the helper gave up (mount failed): nothing to serve
    ops = Ext4Operations(
        fs,
        log=FindingLog(sys.stderr),
        timeout=DEFAULT_TIMEOUT if options.timeout is None else options.timeout,
        iomap=Iomap(fs, window=DEFAULT_WINDOW if options.window is None else options.window),
        direct_io=options.direct_io,
    )
    pyfuse3.init(ops, f"/dev/fd/{fuse_fd}", set())
    _send(outbox, {"t": "serving"})
    os.close(outbox)
    os.close(inbox)
    try:
        if not options.trio:
            if options.poll_us:  # pyfuse3.trio is the direct loop (load_server)
                loop = getattr(pyfuse3, "trio")  # noqa: B009 (not in pyfuse3's stubs)
                loop.wait_readable = _polling_wait(options.poll_us)
            run_direct(pyfuse3.main)
        else:
            trio = sys.modules["trio"]  # imported by pyfuse3, before containment
            trio.run(pyfuse3.main, 1, 1)
    finally:
        pyfuse3.close(unmount=False)  # the helper owns the mount
    return EXIT_OK


def _run_server(*args: object) -> NoReturn:
    code = EXIT_FAILED
    try:
        code = _serve(*args)  # type: ignore[arg-type]
    except (OSError, RuntimeError) as exc:  # RuntimeError: pyfuse3.init, trio internals
        sys.stderr.write(f"ext4guard mount: server: {type(exc).__name__}: {exc}\n")
    finally:
        os._exit(code)


# --------------------------------------------------------------------------- the helper


class _Helper:
    """Mounts, supervises the server, unmounts."""

    def __init__(
        self, image: str, mountpoint: str, options: MountOptions, log: str | None = None
    ) -> None:
        self.image = image
        self.log = log
        self.mountpoint = mountpoint
        self.options = options
        self.server = 0
        self.mount_id: int | None = None
        self.stopping = False
        #: root mounts with mount(2); an ordinary user through the setuid fusermount3
        self.privileged = os.geteuid() == 0

    def start(self) -> None:
        """Everything up to a served mount; raises MountError (nothing left mounted)."""
        try:
            image_fd = os.open(self.image, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY)
        except OSError as exc:
            raise MountError(f"{self.image}: {exc.strerror}") from None
        kind = os.fstat(image_fd).st_mode
        if not (stat.S_ISREG(kind) or stat.S_ISBLK(kind)):
            os.close(image_fd)
            raise MountError(f"{self.image}: not a regular file or block device")
        fuse_fd = -1  # unprivileged: fusermount3 opens /dev/fuse and mounts, later
        if self.privileged:
            try:
                fuse_fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
            except OSError as exc:
                os.close(image_fd)
                raise MountError(f"/dev/fuse: {exc.strerror}") from None
            from_helper, to_server = os.pipe()
        else:
            if shutil.which("fusermount3") is None:
                os.close(image_fd)
                raise MountError("mounting as an ordinary user needs fusermount3 (fuse3)")
            # The /dev/fuse fd goes to the server over this socket once fusermount3 made it.
            from_helper, to_server = _socketpair()
        from_server, to_helper = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(to_server)
            os.close(from_server)
            _run_server(image_fd, fuse_fd, from_helper, to_helper, self.options)
        self.server = pid
        os.close(image_fd)
        os.close(from_helper)
        os.close(to_helper)
        try:
            self._handshake(fuse_fd, to_server, from_server)
        except (MountError, OSError) as exc:
            with contextlib.suppress(OSError):
                os.close(fuse_fd)
            self.unmount()
            with contextlib.suppress(OSError):
                os.kill(self.server, signal.SIGKILL)
            self._reap(block=True)
            if isinstance(exc, MountError):
                raise
            raise MountError(f"starting the server: {exc.strerror or exc}") from None
        finally:
            os.close(to_server)
            os.close(from_server)

    def _handshake(self, fuse_fd: int, to_server: int, from_server: int) -> None:
        answer = _receive(from_server, START_TIMEOUT)
        if answer is None:
            os.kill(self.server, signal.SIGKILL)
            raise MountError("the server did not start")
        if answer.get("t") == "refused":
            raise MountError(
                f"{self.image}: refused, the superblock cannot be trusted: {answer.get('detail')}",
                EXIT_REFUSED,
            )
        if answer.get("t") != "ok":
            raise MountError(f"server: {answer.get('detail', 'failed to start')}")
        if self.privileged:
            self._mount(fuse_fd)
            os.close(fuse_fd)  # from now on the server holds the only reference
            _send(to_server, {"t": "go"})
        else:
            fuse_fd = self._fusermount()
            try:
                _send_fd(to_server, {"t": "go"}, fuse_fd)
            finally:
                os.close(fuse_fd)  # the server's copy is the only one left
        if (_receive(from_server, START_TIMEOUT) or {}).get("t") != "serving":
            self.unmount()
            raise MountError("the server exited before serving")

    def _mount(self, fuse_fd: int) -> None:
        st = os.stat(self.mountpoint)
        if not stat.S_ISDIR(st.st_mode):
            raise MountError(f"{self.mountpoint}: not a directory")
        data = [
            f"fd={fuse_fd}",
            f"rootmode={stat.S_IFDIR:o}",
            f"user_id={os.getuid()}",
            f"group_id={os.getgid()}",
            "default_permissions",
        ]
        if self.options.allow_other:
            data.append("allow_other")
        if self.options.max_read is not None:
            data.append(f"max_read={self.options.max_read}")
        flags = MS_RDONLY | MS_NOSUID | MS_NODEV | (MS_NOEXEC if self.options.noexec else 0)
        result = libc.mount(
            os.fsencode(self.image),
            os.fsencode(self.mountpoint),
            FSTYPE.encode(),
            flags,
            ",".join(data).encode(),
        )
        if result != 0:
            raise MountError(f"mount {self.mountpoint}: {os.strerror(ctypes.get_errno())}")
        top = self._note_mount()
        if self.options.readahead_kb is not None and top is not None:
            bdi = f"/sys/class/bdi/{top.device}/read_ahead_kb"
            with contextlib.suppress(OSError), open(bdi, "w") as f:
                f.write(str(self.options.readahead_kb))

    def _fusermount(self) -> int:
        """Mount through fusermount3 (setuid root): it opens /dev/fuse, checks that this user
        may mount there, mounts, and passes the fd back over the socket named by
        `_FUSE_COMMFD` (SCM_RIGHTS), as libfuse's fuse_mount_fusermount() does."""
        import socket

        def escaped(text: str) -> str:  # fusermount3 splits -o at unescaped commas
            return text.replace("\\", "\\\\").replace(",", "\\,")

        options = ["ro", "nosuid", "nodev", "default_permissions", "subtype=ext4guard"]
        options.append("fsname=" + escaped(self.image))
        if self.options.allow_other:
            options.append("allow_other")
        if self.options.noexec:
            options.append("noexec")
        if self.options.max_read is not None:
            options.append(f"max_read={self.options.max_read}")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with ours, theirs:
            env = {**os.environ, "_FUSE_COMMFD": str(theirs.fileno())}
            try:
                child = subprocess.Popen(
                    ["fusermount3", "-o", ",".join(options), "--", self.mountpoint],
                    env=env,
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            except OSError as exc:
                raise MountError(f"fusermount3: {exc.strerror}") from None
            theirs.close()
            fds: list[int] = []
            with contextlib.suppress(OSError):  # no fd: fusermount3 says why on stderr
                _data, fds, _flags, _addr = socket.recv_fds(ours, 1, 1)
            try:
                _, err = child.communicate(timeout=START_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
                _, err = child.communicate()
        if child.returncode != 0 or not fds:
            for fd in fds:
                os.close(fd)
            lines = err.decode(errors="replace").strip().splitlines()
            raise MountError(lines[-1] if lines else f"fusermount3 exited {child.returncode}")
        self._note_mount()
        return fds[0]

    def _note_mount(self) -> MountEntry | None:
        """Remember the id of the mount just made (None if ours is not on top), so that only
        that mount is ever unmounted; returns the top mount."""
        top = top_mount(self.mountpoint)
        self.mount_id = top.mount_id if top is not None and top.fstype == FSTYPE else None
        return top

    def ours(self) -> bool:
        top = top_mount(self.mountpoint)
        return top is not None and top.mount_id == self.mount_id

    def unmount(self) -> str:
        if self.mount_id is None or not self.ours():
            return ""
        try:
            return _umount(self.mountpoint)
        except MountError as exc:
            sys.stderr.write(f"ext4guard mount: {exc}\n")
            return ""

    def _reap(self, block: bool) -> int | None:
        try:
            pid, status = os.waitpid(self.server, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return 0
        return os.waitstatus_to_exitcode(status) if pid else None

    def supervise(self) -> int:
        """Wait for the server; unmount on a signal or when it dies. Returns the exit code."""

        def stop(signum: int, frame: object) -> None:
            self.stopping = True
            self.unmount()

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)
        status = self._reap(block=True)
        how = self.unmount()  # gone already after a clean stop; else the server died
        if status != 0 and not self.stopping:
            detail = f"signal {-status}" if status is not None and status < 0 else status
            sys.stderr.write(
                f"ext4guard mount: the server exited ({detail}); "
                f"{self.mountpoint} unmounted{' ' + how if how else ''}\n"
            )
            return EXIT_FAILED
        return EXIT_OK


def mount(
    image: str,
    mountpoint: str,
    options: MountOptions,
    foreground: bool = False,
    log: str | None = None,
) -> int:
    """Mount and serve; in the background, return once the mount is ready (the helper's and
    the server's stderr then go to `log`, else to /dev/null)."""
    image = os.path.abspath(image)
    mountpoint = os.path.realpath(mountpoint)
    if not os.path.isdir(mountpoint):
        raise MountError(f"{mountpoint}: mount point is not a directory")
    helper = _Helper(image, mountpoint, options, None if log is None else os.path.abspath(log))
    if foreground:
        _set_name(b"ext4guard-mount")
        helper.start()
        return helper.supervise()
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        _daemon(helper, ready_w)
    os.close(ready_w)
    answer = _receive(ready_r, None)
    os.close(ready_r)
    if answer is None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        raise MountError("the mount helper exited before the mount was ready")
    if answer.get("t") != "ready":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        code = answer.get("code")
        raise MountError(str(answer.get("detail")), code if isinstance(code, int) else 2)
    return EXIT_OK


def _daemon(helper: _Helper, ready_w: int) -> NoReturn:
    code = EXIT_FAILED
    try:
        os.setsid()
        os.chdir("/")  # every path is absolute by now; do not pin the caller's directory
        _set_name(b"ext4guard-mount")
        null = os.open(os.devnull, os.O_RDWR)
        log = null
        if helper.log is not None:
            log = os.open(helper.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.dup2(null, 0)
        os.dup2(null, 1)
        os.dup2(log, 2)
        try:
            helper.start()
        except MountError as exc:
            _send(ready_w, {"t": "error", "detail": str(exc), "code": exc.code})
            code = exc.code
        else:
            _send(ready_w, {"t": "ready"})
            os.close(ready_w)
            code = helper.supervise()
    finally:
        os._exit(code)


def umount(mountpoint: str) -> int:
    path = os.path.normpath(os.path.abspath(mountpoint))  # no lstat: the mount may be dead
    top = top_mount(path)
    if top is None:
        sys.stderr.write(f"ext4guard umount: {path}: nothing mounted (already unmounted)\n")
        return EXIT_OK
    if top.fstype != FSTYPE:
        raise MountError(f"{path}: not an ext4guard mount ({top.fstype})")
    how = _umount(path)
    if how:
        sys.stderr.write(f"ext4guard umount: {path} was busy: detached lazily\n")
    return EXIT_OK


# --------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ext4guard", description="Mount an ext4 image read-only.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    m = commands.add_parser("mount", help="mount an image read-only through the contained server")
    m.add_argument("image")
    m.add_argument("mountpoint")
    m.add_argument("-f", "--foreground", action="store_true", help="stay in the foreground")
    m.add_argument("--allow-other", action="store_true", help="let other users see the mount")
    m.add_argument("-o", dest="options", metavar="OPTS", help="comma-separated mount options")
    m.add_argument("--log", metavar="FILE", help="background: append findings and errors here")
    u = commands.add_parser("umount", help="unmount an ext4guard mount (always works)")
    u.add_argument("mountpoint")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`mount IMAGE MOUNTPOINT [-f] [--allow-other] [-o OPTS] [--log FILE]` or
    `umount MOUNTPOINT`; returns the exit code, errors are one line on stderr."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    try:
        if args.command == "umount":
            return umount(args.mountpoint)
        options = parse_options(args.options, args.allow_other)
        return mount(args.image, args.mountpoint, options, args.foreground, args.log)
    except MountError as exc:
        sys.stderr.write(f"ext4guard {args.command}: {exc}\n")
        return exc.code
    except OSError as exc:
        sys.stderr.write(f"ext4guard {args.command}: {exc.strerror or exc}\n")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
