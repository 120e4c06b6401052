"""Bounds for one example or input in the property and target tests: a wall-clock timer and
an address-space cap, so that a hang or a memory blow-up fails the test instead of the run."""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

MEMORY_HEADROOM = 1 << 30  # address space allowed above what the process already maps


class Hang(BaseException):
    """The timer fired (a BaseException: no `except Exception` in the code under test can
    swallow it)."""


@contextmanager
def limits(seconds: float, memory_headroom: int = MEMORY_HEADROOM) -> Iterator[None]:
    """Run the body under a SIGALRM timer of `seconds` and RLIMIT_AS of the current address
    space plus `memory_headroom`; both are restored afterwards."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"ran past {seconds} s")

    old_handler = signal.signal(signal.SIGALRM, expire)
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as f:
        mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (mapped + memory_headroom, hard))
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, old_handler)
