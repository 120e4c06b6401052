"""Running `ext4guard mount` in tests: the command as users run it, and what /proc says about
mounts and the contained server."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import time
from pathlib import Path

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

#: The command users run: `ext4guard mount|umount ...` (the launcher hands them to mount.py).
EXT4GUARD = [sys.executable, "-m", "ext4guard.server.launcher"]


def run_ext4guard(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*EXT4GUARD, *args], capture_output=True, text=True, timeout=timeout, env=ENV
    )


def is_mounted(path: Path) -> bool:
    target = os.fsencode(path)
    with open("/proc/self/mountinfo", "rb") as f:
        return any(line.split()[4].replace(b"\\040", b" ") == target for line in f)


def unmount(mnt: Path, wait: float = 10) -> None:
    """`ext4guard umount`, then wait (bounded) until the mount is gone."""
    run_ext4guard("umount", str(mnt))
    deadline = time.monotonic() + wait
    while is_mounted(mnt) and time.monotonic() < deadline:
        time.sleep(0.02)


def find_server(image: Path) -> int | None:
    """The contained server: the process named ext4guard-serve holding `image` open."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if Path(f"/proc/{entry}/comm").read_text().strip() != "ext4guard-serve":
                continue
            fds = os.listdir(f"/proc/{entry}/fd")
            targets = {os.readlink(f"/proc/{entry}/fd/{fd}") for fd in fds}
        except OSError:
            continue
        if str(image) in targets:
            return int(entry)
    return None


class _Dirent64(ctypes.Structure):
    _fields_ = [
        ("d_ino", ctypes.c_uint64),
        ("d_off", ctypes.c_int64),
        ("d_reclen", ctypes.c_ushort),
        ("d_type", ctypes.c_ubyte),
        ("d_name", ctypes.c_char * 256),
    ]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.opendir.argtypes = (ctypes.c_char_p,)
_libc.opendir.restype = ctypes.c_void_p
_libc.readdir64.argtypes = (ctypes.c_void_p,)
_libc.readdir64.restype = ctypes.POINTER(_Dirent64)
_libc.closedir.argtypes = (ctypes.c_void_p,)
DT_UNKNOWN = 0


def raw_listing(path: bytes) -> list[tuple[bytes, int, int]]:
    """(name, d_ino, d_type) of every entry readdir(3) returns, `.` and `..` included (what
    `ls -ai` shows; os.listdir and os.scandir leave the dots out)."""
    handle = _libc.opendir(path)
    if not handle:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), path)
    out = []
    try:
        while True:
            ctypes.set_errno(0)
            entry = _libc.readdir64(handle)
            if not entry:
                if ctypes.get_errno():  # NULL ends a listing, or with errno set, fails it
                    raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), path)
                break
            d = entry.contents
            out.append((d.d_name, d.d_ino, d.d_type))
    finally:
        _libc.closedir(handle)
    return sorted(out)
