"""Landlock through its three syscalls (Documentation/userspace-api/landlock.rst).

A ruleset *handles* a set of access rights: every handled right is denied unless a rule
grants it beneath some directory. ext4guard handles every right the running kernel's ABI
knows, and adds rules only for the profile's writable directories (the fuzzing profile);
the parser's profile has no rule at all, so no path can be opened, created, executed,
listed, truncated or used as an ioctl target, no TCP port bound or connected to, and no
signal or abstract unix socket reaches a process outside the domain.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Iterable

__all__ = ["LandlockError", "abi_version", "handled_rights", "restrict_self"]

_SYS_CREATE_RULESET = 444  # x86_64 and every architecture using the generic table
_SYS_ADD_RULE = 445
_SYS_RESTRICT_SELF = 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH = 1

# Filesystem rights, by the ABI that introduced them.
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

#: What a writable directory of the fuzzing profile grants beneath it: make, write, read,
#: list, remove and truncate regular files and directories. Never execute, devices,
#: sockets, fifos, symlinks or cross-directory reparenting.
WRITABLE_DIR_RIGHTS = (
    FS_WRITE_FILE
    | FS_READ_FILE
    | FS_READ_DIR
    | FS_REMOVE_DIR
    | FS_REMOVE_FILE
    | FS_MAKE_DIR
    | FS_MAKE_REG
    | FS_TRUNCATE
)


class LandlockError(Exception):
    """The ruleset could not be built or enforced; message is one line."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def _call(*args: object) -> int:
    result = int(_syscall(*args))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def abi_version() -> int:
    """The kernel's landlock ABI, 0 when landlock is absent or disabled at boot."""
    try:
        return _call(
            ctypes.c_long(_SYS_CREATE_RULESET),
            None,
            ctypes.c_size_t(0),
            ctypes.c_uint32(_CREATE_RULESET_VERSION),
        )
    except OSError:
        return 0


def handled_rights(abi: int) -> tuple[int, int, int]:
    """(filesystem, network, scope) rights an ABI knows; all of them are handled."""
    fs = (1 << 13) - 1
    if abi >= 2:
        fs |= FS_REFER
    if abi >= 3:
        fs |= FS_TRUNCATE
    if abi >= 5:
        fs |= FS_IOCTL_DEV
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    return fs, net, scoped


def restrict_self(abi: int, writable_dirs: Iterable[str] = ()) -> None:
    """Enforce a ruleset handling every right of `abi` on the calling thread (and the
    threads and processes it creates from now on). Needs no_new_privs (or CAP_SYS_ADMIN)."""
    fs, net, scoped = handled_rights(abi)
    attr = _RulesetAttr(fs, net, scoped)
    # The attribute grew with the ABI: 8 bytes (ABI 1-3), 16 (ABI 4-5), 24 (ABI 6+).
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    try:
        ruleset = _call(
            ctypes.c_long(_SYS_CREATE_RULESET),
            ctypes.byref(attr),
            ctypes.c_size_t(size),
            ctypes.c_uint32(0),
        )
    except OSError as exc:
        raise LandlockError(f"landlock_create_ruleset failed: {exc.strerror}") from None
    try:
        for path in writable_dirs:
            try:
                dir_fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError as exc:
                raise LandlockError(f"writable dir {path!r}: {exc.strerror}") from None
            try:
                rule = _PathBeneathAttr(WRITABLE_DIR_RIGHTS & fs, dir_fd)
                kind = ctypes.c_int(_RULE_PATH_BENEATH)
                _call(
                    ctypes.c_long(_SYS_ADD_RULE),
                    ctypes.c_int(ruleset),
                    kind,
                    ctypes.byref(rule),
                    ctypes.c_uint32(0),
                )
            except OSError as exc:
                raise LandlockError(f"landlock_add_rule {path!r}: {exc.strerror}") from None
            finally:
                os.close(dir_fd)
        try:
            _call(ctypes.c_long(_SYS_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0))
        except OSError as exc:
            raise LandlockError(f"landlock_restrict_self failed: {exc.strerror}") from None
    finally:
        os.close(ruleset)
