"""Containment of the process that parses an untrusted image (issue 4, DESIGN.md "Containment").

`contain(profile)` turns the calling process into one that holds the fds it was given and
nothing else. Call it in a freshly forked, single-threaded child, after every import and
after the fds it needs are open; it applies, in this order:

1. namespaces: new network (only a downed loopback), IPC, UTS, cgroup and mount namespaces
   (mounts made private); as an ordinary user, a user namespace first (uid/gid mapped to
   `profile.uid`/`profile.gid`); then the root becomes an empty read-only tmpfs holding only
   the writable dirs (pivot_root; the host's tree is detached);
2. identity: securebits locked (no root magic, no ambient raise), every capability dropped
   from the bounding set while CAP_SETPCAP is still held, ambient set cleared, supplementary
   groups emptied, gid then uid set to the unprivileged ids, then every remaining capability
   cleared; not dumpable; no_new_privs; parent-death signal SIGKILL; W^X locked (PR_SET_MDWE);
3. landlock: a ruleset handling every right of the kernel's ABI (filesystem, TCP, scopes),
   with rules only beneath `profile.writable_dirs`;
4. rlimits: AS, CPU, NOFILE (just above the highest kept fd), NPROC 0, CORE 0, FSIZE 0 and
   the realtime/locking limits at 0 (all hard limits);
5. fds: every fd not kept is closed (stdin/out/err not kept become /dev/null);
6. seccomp: an allowlist (server/seccomp.py) loaded last, so the steps above could run.

A step that cannot be applied raises `SandboxError` (one line), except that landlock or
seccomp missing from the kernel, or an empty root that cannot be built, becomes a logged
warning when `profile.allow_weak` is set. `ext4guard sandbox-check` (server/sandbox_check.py)
shows the result from the outside and tries to escape it.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import resource
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from . import landlock, seccomp
from .libc import (
    MNT_DETACH,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    libc,
)
from .seccomp import Arg, Rule

__all__ = [
    "NOBODY",
    "Containment",
    "Profile",
    "SandboxError",
    "base_rules",
    "contain",
]

log = logging.getLogger("ext4guard.sandbox")

#: The unprivileged identity used by default (the traditional `nobody`/`nogroup`).
NOBODY = 65534


@dataclass(frozen=True, slots=True)
class Profile:
    """What a contained process keeps. Everything not named here is taken away."""

    keep_fds: frozenset[int]  # every other fd is closed by contain()
    # fds that write/writev/pwrite64/pwritev/sendmsg/sendto may target (e.g. the result
    # pipe and stderr); must be a subset of keep_fds.
    write_fds: frozenset[int] = frozenset()
    memory_limit: int = 1 << 30  # RLIMIT_AS in bytes; 0 leaves it as inherited
    cpu_seconds: int = 60  # RLIMIT_CPU: SIGXCPU at this many seconds, SIGKILL one later
    extra_syscalls: tuple[str, ...] = ()  # allowed with any arguments (e.g. pyfuse3's)
    ioctl_requests: tuple[int, ...] = ()  # the only ioctl request numbers allowed
    # The fuzzing profile: landlock grants create/write beneath these dirs only, and only
    # then are openat/mkdirat/unlinkat/renameat allowed by seccomp.
    writable_dirs: tuple[str, ...] = ()
    allow_weak: bool = False  # run with a logged warning when landlock/seccomp is missing
    uid: int = NOBODY  # the unprivileged uid (inside the user namespace when unprivileged)
    gid: int = NOBODY
    # fds the contained process may still create (RLIMIT_NOFILE headroom above the highest
    # kept fd; default 0, or 16 with writable_dirs). The fds it creates are writable: only
    # the allowlist's fd makers (extra_syscalls such as epoll_create1 or socketpair, and
    # openat beneath writable_dirs) can have made them.
    extra_fds: int | None = None
    max_file_size: int = 0  # RLIMIT_FSIZE in bytes (0: a regular-file write is SIGXFSZ)
    # RLIMIT_NPROC: processes *and threads* of the uid (0: fork and thread creation fail
    # with EAGAIN; seccomp still refuses namespace flags whatever this says).
    max_processes: int = 0

    def headroom(self) -> int:
        if self.extra_fds is not None:
            return self.extra_fds
        return 16 if self.writable_dirs else 0


class SandboxError(Exception):
    """Containment could not be established (not an Ext4Error); the message is one line."""


@dataclass(frozen=True, slots=True)
class Containment:
    """What contain() applied, for logs and for `ext4guard sandbox-check`."""

    uid: int
    gid: int
    user_namespace: bool  # the unprivileged path: a user namespace maps uid/gid
    namespaces: tuple[str, ...]  # namespaces created: "user", "net", "ipc", "uts", ...
    namespace_ids: tuple[tuple[str, str], ...]  # (name, "net:[4026...]") as the child saw
    landlock_abi: int  # 0: no landlock
    empty_root: bool  # pivoted into an empty read-only tmpfs (only writable dirs inside)
    seccomp: bool
    kept_fds: tuple[int, ...]
    write_fds: tuple[int, ...]
    rlimits: tuple[tuple[str, int, int], ...]  # (name, soft, hard); -1 is unlimited
    setup_ms: float
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "gid": self.gid,
            "user_namespace": self.user_namespace,
            "namespaces": list(self.namespaces),
            "namespace_ids": dict(self.namespace_ids),
            "landlock_abi": self.landlock_abi,
            "empty_root": self.empty_root,
            "seccomp": self.seccomp,
            "kept_fds": list(self.kept_fds),
            "write_fds": list(self.write_fds),
            "rlimits": {name: [soft, hard] for name, soft, hard in self.rlimits},
            "setup_ms": round(self.setup_ms, 3),
            "warnings": list(self.warnings),
        }


# --- constants from the kernel's uapi headers (linux/sched.h, prctl.h, capability.h, ...)

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
#: clone() flags that create namespaces (CLONE_NEWTIME, 0x80, lies in clone()'s signal byte
#: and exists only for unshare/clone3, both denied).
NAMESPACE_FLAGS = (
    CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
)
_NAMESPACES_ROOT = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP
_NS_NAMES = ("user", "mnt", "net", "ipc", "uts", "cgroup", "pid")

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_SECUREBITS = 28
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1
# securebits: no root privilege magic, setuid fixup kept (it clears the capabilities when
# the uid leaves 0), keep-caps off, no ambient raise; every one of them locked.
SECUREBITS = (
    (1 << 0)  # SECBIT_NOROOT
    | (1 << 1)  # SECBIT_NOROOT_LOCKED
    | (1 << 3)  # SECBIT_NO_SETUID_FIXUP_LOCKED
    | (1 << 5)  # SECBIT_KEEP_CAPS_LOCKED
    | (1 << 6)  # SECBIT_NO_CAP_AMBIENT_RAISE
    | (1 << 7)  # SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED
)
CAP_SETPCAP = 8
CAP_SYS_ADMIN = 21
_CAPSET = 126  # x86_64 syscall numbers
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_PIVOT_ROOT = 155
#: Where the empty root is assembled before pivoting into it: any directory that exists
#: everywhere does, since the tmpfs only covers it inside the private mount namespace.
_ROOT_STAGE = b"/proc"

_AT_EMPTY_PATH = 0x1000
_PROT_EXEC = 0x4
_F_GETFD, _F_SETFD, _F_GETFL = 1, 2, 3
_RLIMIT_LOCKS = 10  # asm-generic/resource.h; the resource module does not name it


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Allowed with any arguments: what CPython 3.11 needs after its imports.
_BASE_SYSCALLS = (
    # reading the image and pipes
    *_names("read readv pread64 preadv preadv2 lseek close poll ppoll select pselect6"),
    # memory (mmap and mprotect are allowed separately, never executable)
    *_names("brk munmap mremap madvise"),
    # synchronisation and signal handling (signals themselves: own process only)
    *_names("futex rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack restart_syscall"),
    *_names("sched_yield sched_getaffinity"),
    # time, randomness, identity queries, exit
    *_names("clock_gettime clock_getres clock_nanosleep nanosleep gettimeofday getrandom"),
    *_names("getpid gettid getppid getuid geteuid getgid getegid getresuid getresgid"),
    *_names("getgroups getrusage uname exit exit_group"),
)
#: Allowed only in the fuzzing profile (writable_dirs), where landlock decides which paths.
_WRITABLE_DIR_SYSCALLS = (
    *_names("openat mkdirat mkdir unlinkat unlink rmdir rename renameat renameat2"),
    *_names("getdents64 ftruncate fsync fdatasync"),
)


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    )


def _fail(what: str) -> SandboxError:
    err = ctypes.get_errno()
    return SandboxError(f"{what}: {os.strerror(err)}")


def _prctl(option: int, arg2: int, what: str, arg3: int = 0) -> None:
    if libc.prctl(option, arg2, arg3, 0, 0) != 0:
        raise _fail(what)


def _cap_last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap", "rb") as f:
            return int(f.read())
    except (OSError, ValueError):
        last = 0  # probe: PR_CAPBSET_READ fails with EINVAL past the last capability
        while last < 63 and libc.prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0:
            last += 1
        return last


def _effective_caps() -> int:
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"CapEff:"):
                return int(line.split()[1], 16)
    return 0


def _thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1  # no /proc: cannot tell; the caller's contract still holds


def _write_proc(path: str, data: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)


def _namespace_ids() -> tuple[tuple[str, str], ...]:
    ids: list[tuple[str, str]] = []
    for name in _NS_NAMES:
        try:
            ids.append((name, os.readlink(f"/proc/self/ns/{name}")))
        except OSError:
            continue
    return tuple(ids)


def _enter_namespaces(profile: Profile, caps: int) -> tuple[bool, tuple[str, ...]]:
    """Unshare; as root with CAP_SYS_ADMIN directly, otherwise through a user namespace.
    Returns (user namespace used, names of the namespaces created)."""
    names = ("mnt", "net", "ipc", "uts", "cgroup")
    if os.geteuid() == 0 and caps >> CAP_SYS_ADMIN & 1:
        if libc.unshare(_NAMESPACES_ROOT) == 0:
            return False, names
        raise _fail("unshare(net, ipc, uts, mount, cgroup)")
    uid, gid = os.geteuid(), os.getegid()
    # A process that changed credentials (e.g. root that became this user) is not dumpable,
    # which makes /proc/self root-owned and the id maps unwritable; it is set back to 0 below.
    _prctl(PR_SET_DUMPABLE, 1, "PR_SET_DUMPABLE")
    if libc.unshare(CLONE_NEWUSER | _NAMESPACES_ROOT) != 0:
        raise _fail("unshare(user, net, ipc, uts, mount, cgroup)")
    try:
        # An unprivileged writer of gid_map must first give up setgroups(2) for good.
        _write_proc("/proc/self/setgroups", "deny")
        _write_proc("/proc/self/uid_map", f"{profile.uid} {uid} 1\n")
        _write_proc("/proc/self/gid_map", f"{profile.gid} {gid} 1\n")
    except OSError as exc:
        raise SandboxError(f"user namespace id map: {exc.strerror}") from None
    return True, ("user", *names)


def _empty_root(writable_dirs: tuple[str, ...]) -> None:
    """Pivot into an empty, read-only tmpfs and detach the host's tree: from here on no path
    resolves to anything but the writable dirs, bind-mounted at their own paths (the same
    idea as bubblewrap's new root). This also hides the host from stat(), which seccomp
    cannot filter by path. Needs CAP_SYS_ADMIN in the mount namespace's user namespace."""
    stage = _ROOT_STAGE
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    if libc.mount(b"tmpfs", stage, b"tmpfs", flags, b"size=64k,nr_inodes=64,mode=0555") != 0:
        raise _fail("mounting the empty root")
    for path in writable_dirs:
        target = stage + os.fsencode(os.path.abspath(path))
        os.makedirs(target, mode=0o555, exist_ok=True)
        if libc.mount(os.fsencode(path), target, None, MS_BIND | MS_REC, None) != 0:
            raise _fail(f"bind-mounting writable dir {path!r}")
    os.chdir(stage)
    if libc.syscall(ctypes.c_long(_PIVOT_ROOT), b".", b".") != 0:
        raise _fail("pivot_root into the empty root")
    # The old root now sits on top of the new one, at "/": detach it and all below it.
    if libc.umount2(b".", MNT_DETACH) != 0:
        raise _fail("detaching the host's root")
    os.chdir("/")
    if libc.mount(None, b"/", None, MS_REMOUNT | MS_RDONLY | flags, None) != 0:
        raise _fail("making the empty root read-only")


def _drop_identity(profile: Profile, user_namespace: bool, cap_last: int) -> None:
    if libc.prctl(PR_SET_SECUREBITS, SECUREBITS, 0, 0, 0) != 0:
        raise _fail("PR_SET_SECUREBITS")
    # The bounding set first: dropping from it needs CAP_SETPCAP, which setresuid removes.
    for cap in range(cap_last + 1):
        _prctl(PR_CAPBSET_DROP, cap, f"PR_CAPBSET_DROP({cap})")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, "PR_CAP_AMBIENT_CLEAR_ALL")
    try:
        if not user_namespace:  # inside a user namespace, setgroups is denied (see above)
            os.setgroups([])
        os.setresgid(profile.gid, profile.gid, profile.gid)
        os.setresuid(profile.uid, profile.uid, profile.uid)
    except OSError as exc:
        raise SandboxError(
            f"dropping to uid {profile.uid}/gid {profile.gid}: {exc.strerror}"
        ) from None
    # Leaving uid 0 cleared the capabilities; in a user namespace the uid never was 0 there.
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.syscall(ctypes.c_long(_CAPSET), ctypes.byref(header), data) != 0:
        raise _fail("capset(0)")


def _apply_rlimits(profile: Profile, nofile: int) -> tuple[tuple[str, int, int], ...]:
    wanted: list[tuple[str, int, int, int]] = [
        ("NOFILE", resource.RLIMIT_NOFILE, nofile, nofile),
        ("NPROC", resource.RLIMIT_NPROC, profile.max_processes, profile.max_processes),
        ("CORE", resource.RLIMIT_CORE, 0, 0),
        ("FSIZE", resource.RLIMIT_FSIZE, profile.max_file_size, profile.max_file_size),
        ("MEMLOCK", resource.RLIMIT_MEMLOCK, 0, 0),
        ("MSGQUEUE", resource.RLIMIT_MSGQUEUE, 0, 0),
        ("RTPRIO", resource.RLIMIT_RTPRIO, 0, 0),
        ("NICE", resource.RLIMIT_NICE, 0, 0),
        ("LOCKS", _RLIMIT_LOCKS, 0, 0),
    ]
    if profile.cpu_seconds > 0:
        wanted.append(("CPU", resource.RLIMIT_CPU, profile.cpu_seconds, profile.cpu_seconds + 1))
    if profile.memory_limit > 0:
        wanted.append(("AS", resource.RLIMIT_AS, profile.memory_limit, profile.memory_limit))
    applied: list[tuple[str, int, int]] = []
    for name, which, soft, hard in wanted:
        _, old_hard = resource.getrlimit(which)
        if old_hard != resource.RLIM_INFINITY:
            hard = min(hard, old_hard)
        soft = min(soft, hard)
        try:
            resource.setrlimit(which, (soft, hard))
        except (OSError, ValueError) as exc:
            raise SandboxError(f"setrlimit({name}, {soft}, {hard}): {exc}") from None
        applied.append((name, soft, hard))
    return tuple(applied)


def _close_fds(keep: frozenset[int], devnull: int | None) -> None:
    for std in (0, 1, 2):
        if std not in keep and devnull is not None:
            os.dup2(devnull, std)  # a later fd must never take a std number
    if devnull is not None and devnull not in keep:
        os.close(devnull)
    low = 3
    for fd in sorted(keep | {0, 1, 2}):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, 1 << 20)


def base_rules(profile: Profile, pid: int, nofile: int) -> list[Rule]:
    """The allowlist: what CPython 3.11 needs after its imports to parse an image held by
    fd and write results to the profile's write fds (found with strace over real parser
    work; tests/server/test_sandbox.py runs that work inside the filter)."""
    rules = [Rule(name) for name in _BASE_SYSCALLS]
    no_exec = Arg(2, 0, _PROT_EXEC)
    rules += [Rule("mmap", (no_exec,)), Rule("mprotect", (no_exec,))]
    # fstat is newfstatat(fd, "", AT_EMPTY_PATH) in glibc 2.33+.
    rules.append(Rule("newfstatat", (Arg(3, _AT_EMPTY_PATH, _AT_EMPTY_PATH),)))
    rules.append(Rule("fstat"))
    rules += [Rule("fcntl", (Arg(1, cmd),)) for cmd in (_F_GETFD, _F_SETFD, _F_GETFL)]
    # getrlimit is prlimit64(0, which, NULL, old): reading own limits only.
    rules.append(Rule("prlimit64", (Arg(0, 0), Arg(2, 0))))
    # Signals only to itself (abort, raise); the parent is out of reach.
    rules += [Rule("kill", (Arg(0, pid),)), Rule("tgkill", (Arg(0, pid),))]
    # fork/threads only without namespace flags (NPROC 0 still refuses them: EAGAIN);
    # clone3 hides its flags in memory, so it answers ENOSYS and libc falls back to clone.
    rules.append(Rule("clone", (Arg(0, 0, NAMESPACE_FLAGS),)))
    rules.append(Rule("clone3", errno_value=errno.ENOSYS))
    request_mask = 0xFFFFFFFF  # the kernel takes ioctl's request as an unsigned int
    rules += [Rule("ioctl", (Arg(1, req, request_mask),)) for req in profile.ioctl_requests]
    writable = set(profile.write_fds)
    if profile.headroom():
        # Every fd number below RLIMIT_NOFILE that is not kept was closed by contain(), so an
        # fd found there later was made after containment, by an allowed syscall.
        writable |= set(range(3, nofile)) - profile.keep_fds
    if profile.writable_dirs:
        rules += [Rule(name) for name in _WRITABLE_DIR_SYSCALLS]
    for fd in sorted(writable):
        for name in ("write", "writev", "pwrite64", "pwritev", "pwritev2", "sendmsg", "sendto"):
            rules.append(Rule(name, (Arg(0, fd),)))
    rules += [Rule(name) for name in profile.extra_syscalls]
    return rules


def contain(profile: Profile) -> Containment:
    """Contain the calling process (see the module docstring). Raises SandboxError; the
    process is then partly contained and unfit for anything but reporting and exiting."""
    start = time.perf_counter()
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        log.warning("%s", message)

    if _thread_count() != 1:
        raise SandboxError("contain() needs a single-threaded process (call it right after fork)")
    for fd in sorted(profile.keep_fds):
        try:
            os.fstat(fd)
        except OSError:
            raise SandboxError(f"kept fd {fd} is not open") from None
    if not profile.write_fds <= profile.keep_fds:
        raise SandboxError("write_fds must be a subset of keep_fds")

    abi = landlock.abi_version()
    if abi == 0:
        if not profile.allow_weak:
            raise SandboxError(
                "landlock is not available in this kernel; refusing to run "
                "(--allow-weak-sandbox runs without it)"
            )
        warn("landlock is not available: no filesystem ruleset (weak sandbox allowed)")
    elif abi < 6:
        warn(f"landlock ABI {abi}: signal/abstract-socket scoping (ABI 6) not enforced")

    nofile = max(profile.keep_fds | {2}) + 1 + profile.headroom()
    pid = os.getpid()
    parent = os.getppid()
    filt: seccomp.Filter | None = None
    try:
        filt = seccomp.Filter()
        unknown = [
            n for n in filt.add(base_rules(profile, pid, nofile)) if n in profile.extra_syscalls
        ]
        if unknown:
            filt.release()
            raise SandboxError(f"unknown syscall in extra_syscalls: {', '.join(unknown)}")
    except seccomp.SeccompUnavailable as exc:
        if not profile.allow_weak:
            raise SandboxError(f"seccomp: {exc}; refusing to run") from None
        warn(f"seccomp unavailable ({exc}): no syscall filter (weak sandbox allowed)")
        filt = None

    try:
        caps = _effective_caps()
        cap_last = _cap_last_cap()
        keep_std = {0, 1, 2} <= profile.keep_fds
        devnull = None if keep_std else os.open("/dev/null", os.O_RDWR | os.O_CLOEXEC)

        user_ns, created = _enter_namespaces(profile, caps)
        if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            raise _fail("making mounts private")
        ns_ids = _namespace_ids()
        try:
            _empty_root(profile.writable_dirs)
            empty_root = True
        except (SandboxError, OSError) as exc:
            # landlock and seccomp still refuse every open; only stat() sees the host.
            if not profile.allow_weak:
                raise SandboxError(f"empty root: {exc}") from None
            warn(f"no empty root ({exc}): the host's paths stay visible to stat()")
            empty_root = False
        _drop_identity(profile, user_ns, cap_last)
        _prctl(PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE")
        _prctl(PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS")
        # Credentials changes cleared any parent-death signal: set it now, then make sure
        # the parent did not die before it took effect.
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, "PR_SET_PDEATHSIG")
        if os.getppid() != parent:
            raise SandboxError("the parent exited during containment")
        if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
            warn("PR_SET_MDWE unavailable: W^X is enforced by the seccomp filter only")
        os.umask(0o077)

        if abi:
            try:
                landlock.restrict_self(abi, profile.writable_dirs)
            except landlock.LandlockError as exc:
                raise SandboxError(str(exc)) from None
        rlimits = _apply_rlimits(profile, nofile)
        _close_fds(profile.keep_fds, devnull)
        if filt is not None:
            filt.load()
    except seccomp.SeccompUnavailable as exc:
        raise SandboxError(f"seccomp: {exc}") from None
    except OSError as exc:
        raise SandboxError(f"containment failed: {exc.strerror or exc}") from None
    finally:
        if filt is not None:
            filt.release()

    return Containment(
        uid=profile.uid,
        gid=profile.gid,
        user_namespace=user_ns,
        namespaces=created,
        namespace_ids=ns_ids,
        landlock_abi=abi,
        empty_root=empty_root,
        seccomp=filt is not None,
        kept_fds=tuple(sorted(profile.keep_fds | {0, 1, 2})),
        write_fds=tuple(sorted(profile.write_fds)),
        rlimits=rlimits,
        setup_ms=(time.perf_counter() - start) * 1000.0,
        warnings=tuple(warnings),
    )
