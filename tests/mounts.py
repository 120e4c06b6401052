"""Running `ext4guard mount` in tests: the command as users run it, and what /proc says about
mounts and the contained server."""

from __future__ import annotations

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
