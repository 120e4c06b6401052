"""Run one CLI parse in a contained child and turn whatever happens to it into one answer.

The parent has opened the image read-only. It forks; the child contains itself
(server/sandbox.py: seccomp, landlock, namespaces, rlimits — after that it can open nothing),
runs the command's producer on the image fd and streams frames (server/protocol.py) through
a pipe. The parent reads them under a wall-clock deadline, validates each one, hands it to
the command's consumer (which prints, or writes files under DEST), and reaps the child.

Whatever happens to the child — a timeout, a signal (SIGSEGV, SIGSYS from seccomp, SIGXCPU
from the CPU limit), running out of memory, a malformed frame — becomes a `ParserFailed`
carrying one line and exit code 1; never a hang, never a traceback. Everything the child
runs must be imported before it contains itself: no file can be opened afterwards.
"""

from __future__ import annotations

import faulthandler
import fcntl
import math
import os
import select
import signal
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NoReturn, Protocol

from ext4guard.parser.errors import (
    Corruption,
    Ext4Error,
    InvalidRequest,
    NotADirectory,
    NotFound,
)

from .protocol import TERMINAL, Channel, FrameDecoder, Message, ProtocolError, Spec
from .sandbox import Profile, SandboxError, contain

EXIT_CORRUPT = 1
EXIT_FAILED = 2
#: The child's exit status after an exception it did not expect (sysexits' EX_SOFTWARE).
EXIT_CHILD_BUG = 70
READ_SIZE = 1 << 20
PIPE_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class Limits:
    """What one contained parse may use."""

    timeout: float = 60.0  # wall clock, enforced by the parent
    memory_limit: int = 1 << 30  # RLIMIT_AS of the child
    cpu_seconds: int = 60  # RLIMIT_CPU of the child (SIGXCPU)
    allow_weak: bool = False  # accept a sandbox weaker than the full profile


class UsageError(Exception):
    """The request itself cannot be served (e.g. `cat` of a directory): exit 2."""


class ParserFailed(Exception):
    """The parse did not produce a complete answer; `line` says why, for one stderr line."""

    def __init__(self, line: str, exit_code: int) -> None:
        super().__init__(line)
        self.line = line
        self.exit_code = exit_code


Producer = Callable[[Channel], None]
#: contain(keep_fds, write_fds, limits): contain the calling process or raise SandboxError
#: (tests inject their own to exercise the transport alone).
Contain = Callable[[frozenset[int], frozenset[int], Limits], object]


class Consumer(Protocol):
    """The parent's half of a command: the message types it accepts, and what it does with
    each validated message or chunk of file bytes."""

    @property
    def schemas(self) -> Mapping[str, Spec]: ...

    def handle(self, item: Message | bytes) -> None: ...

    def close(self) -> None:
        """The answer ended with `done`: raise ProtocolError if it is still incomplete."""


# -- both sides ------------------------------------------------------------------------------


def serve(producer: Producer, channel: Channel) -> None:
    """Run `producer`; an expected failure becomes the `error` message, success `done`.
    Anything else is a bug and propagates."""
    try:
        producer(channel)
    except UsageError as exc:
        code, message = EXIT_FAILED, str(exc)
    except (NotFound, NotADirectory, InvalidRequest) as exc:
        code, message = EXIT_FAILED, str(exc)
    except Corruption as exc:
        code, message = EXIT_CORRUPT, str(exc)
    except Ext4Error as exc:  # unreadable image, unsupported feature, budget exceeded
        code, message = EXIT_FAILED, str(exc)
    else:
        channel.send({"t": "done"})
        channel.flush()
        return
    channel.send({"t": "error", "exit": code, "message": message})
    channel.flush()


class _Answer:
    """The parent's view of the stream: frames validated, handed on, the end recognised."""

    __slots__ = ("consumer", "decoder", "limits", "terminal")

    def __init__(self, consumer: Consumer, limits: Limits) -> None:
        self.consumer = consumer
        self.limits = limits
        self.decoder = FrameDecoder({**consumer.schemas, **TERMINAL})
        self.terminal: Message | None = None

    def feed(self, data: bytes) -> None:
        for item in self.decoder.feed(data):
            if self.terminal is not None:
                raise ProtocolError("frames after the end of the answer")
            if isinstance(item, Message) and item.type in TERMINAL:
                self.terminal = item
            else:
                self.consumer.handle(item)

    def finish(self) -> None:
        """Raise unless the answer ended with `done`."""
        end = self.terminal
        if end is None or self.decoder.pending:
            raise ProtocolError("the answer ended early")
        if end.type == "error":
            raise ParserFailed(end.fields["message"], end.fields["exit"])
        if end.type == "sandbox_error":
            raise ParserFailed(f"cannot contain the parser: {end.fields['message']}", EXIT_FAILED)
        if end.type == "done":
            self.consumer.close()
            return
        if end.type == "crash":
            if end.fields["type"] == "MemoryError":
                mib = self.limits.memory_limit >> 20
                raise ParserFailed(f"parser ran out of memory (limit {mib} MiB)", EXIT_CORRUPT)
            raise ParserFailed(
                "internal error (a bug, please report it): "
                f"{end.fields['type']}: {end.fields['message']}",
                EXIT_FAILED,
            )


def _malformed(exc: ProtocolError) -> ParserFailed:
    return ParserFailed(f"parser sent a malformed answer, rejected: {exc}", EXIT_CORRUPT)


def run_in_process(producer: Producer, consumer: Consumer) -> None:
    """`--no-sandbox`: the same producer and consumer, the same frames and validation, in
    this process and without containment or deadline."""
    answer = _Answer(consumer, Limits())
    try:
        serve(producer, Channel(answer.feed))
        answer.finish()
    except ProtocolError as exc:
        raise _malformed(exc) from None


# -- contained -------------------------------------------------------------------------------


def sandbox_contain(keep_fds: frozenset[int], write_fds: frozenset[int], limits: Limits) -> object:
    """The real containment (server/sandbox.py) with this run's limits."""
    profile = Profile(
        keep_fds=keep_fds,
        write_fds=write_fds,
        memory_limit=limits.memory_limit,
        cpu_seconds=limits.cpu_seconds,
        allow_weak=limits.allow_weak,
    )
    return contain(profile)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _child(
    producer: Producer,
    read_fd: int,
    write_fd: int,
    keep_fds: frozenset[int],
    limits: Limits,
    contain_self: Contain,
) -> NoReturn:
    """The forked child: contain, serve, exit. It never returns into the caller's stack, and
    never prints a traceback: an unexpected exception is reported as a `crash` message from
    the `finally` below and the child exits with EXIT_CHILD_BUG."""
    status = EXIT_CHILD_BUG
    channel = Channel(lambda data: _write_all(write_fd, data))
    try:
        os.close(read_fd)
        # A crash is reported by the parent, in one line; no Python dump on stderr
        # (pytest or PYTHONFAULTHANDLER would have enabled one).
        faulthandler.disable()
        try:
            contain_self(keep_fds, frozenset({write_fd, 2}), limits)
        except SandboxError as exc:
            channel.send({"t": "sandbox_error", "message": str(exc)})
            channel.flush()
            status = 0
        else:
            serve(producer, channel)
            status = 0
    finally:
        try:
            pending = sys.exc_info()[1]
            if pending is not None and status != 0:
                # Let the failed frames go first: after a MemoryError they hold the memory.
                pending.with_traceback(None)
                what = str(pending)[:4096]
                crash = {"t": "crash", "type": type(pending).__name__[:128], "message": what}
                channel.send(crash)
                channel.flush()
        finally:
            os._exit(status)


def _grow_pipe(fd: int) -> None:
    """A 1 MiB pipe: one chunk of file bytes per write. Best effort (users have a quota)."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:
        return


_SIGNAL_CAUSES: dict[int, str] = {
    signal.SIGSYS: "a system call the sandbox forbids",
    signal.SIGSEGV: "a memory fault",
    signal.SIGBUS: "a bus error",
    signal.SIGABRT: "an abort",
    signal.SIGKILL: "killed from outside: the out-of-memory killer or a user",
    signal.SIGXFSZ: "file size limit",
}


def describe_status(status: int, limits: Limits) -> str | None:
    """One line for a wait status that is not a clean exit, or None for exit 0."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if number == signal.SIGXCPU:
            cause = f"CPU limit {limits.cpu_seconds} s"
        else:
            cause = _SIGNAL_CAUSES.get(number, "a signal")
        return f"parser killed by {name} ({cause})"
    code = os.waitstatus_to_exitcode(status)
    return None if code == 0 else f"parser exited with status {code}"


def run_contained(
    producer: Producer,
    consumer: Consumer,
    *,
    keep_fds: Iterable[int],
    limits: Limits,
    contain_self: Contain = sandbox_contain,
) -> None:
    """Fork, contain the child with `keep_fds` (plus the pipe and stderr), stream its answer
    into `consumer`. Returns after a complete answer; raises ParserFailed otherwise (and lets
    the consumer's own exceptions, e.g. a closed stdout, through after killing the child)."""
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    _grow_pipe(write_fd)
    answer = _Answer(consumer, limits)
    keep = frozenset(keep_fds) | {write_fd, 2}
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        raise ParserFailed(f"cannot start the parser: {exc.strerror}", EXIT_FAILED) from None
    if pid == 0:
        _child(producer, read_fd, write_fd, keep, limits, contain_self)
    os.close(write_fd)
    deadline = time.monotonic() + limits.timeout
    exited = timed_out = False
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as exc:  # Linux < 5.3: no way to wait for the child with a deadline
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read_fd)
        raise ParserFailed(f"cannot watch the parser: {exc.strerror}", EXIT_FAILED) from None
    try:
        timed_out = not _pump(read_fd, deadline, answer)
        if not timed_out:
            # EOF: the child closed the pipe, so it is exiting; allow what is left of the time.
            exited = _wait_readable(pidfd, deadline)
            timed_out = not exited
    except ProtocolError as exc:
        raise _malformed(exc) from None
    finally:
        if not exited:
            os.kill(pid, signal.SIGKILL)  # not reaped yet: the pid cannot have been reused
        _, status = os.waitpid(pid, 0)
        os.close(pidfd)
        os.close(read_fd)
    if timed_out:
        raise ParserFailed(
            f"parser timed out after {limits.timeout:g} s and was killed", EXIT_CORRUPT
        )
    if os.WIFSIGNALED(status) or answer.terminal is None:
        line = describe_status(status, limits) or "parser exited before finishing its answer"
        raise ParserFailed(line, EXIT_CORRUPT)
    try:
        answer.finish()
    except ProtocolError as exc:
        raise _malformed(exc) from None
    failure = describe_status(status, limits)
    if failure is not None:
        raise ParserFailed(failure, EXIT_CORRUPT)


def _remaining_ms(deadline: float) -> int:
    return max(0, math.ceil((deadline - time.monotonic()) * 1000))


def _pump(read_fd: int, deadline: float, answer: _Answer) -> bool:
    """Read frames until EOF (True) or the deadline (False)."""
    poller = select.poll()
    poller.register(read_fd, select.POLLIN)
    while True:
        wait = _remaining_ms(deadline)
        if wait == 0:
            return False
        if not poller.poll(wait):
            continue
        data = os.read(read_fd, READ_SIZE)
        if not data:
            return True
        answer.feed(data)


def _wait_readable(fd: int, deadline: float) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        wait = _remaining_ms(deadline)
        if wait == 0:
            return False
        if poller.poll(wait):
            return True
