"""The contained child and its parent: whatever the child does, the parent gives one answer.

Transport tests inject a containment that does nothing, so the child's misbehaviour (a hang,
a crash, a signal, a malformed frame) is exactly what the test producer does; the tests
marked `contained` run the real sandbox (server/sandbox.py) around the producer.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import time
from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest

from ext4guard.parser.errors import BadMagic, NotFound
from ext4guard.server.protocol import (
    HEADER,
    KIND_BYTES,
    KIND_JSON,
    MAX_JSON,
    Channel,
    Message,
    ProtocolError,
    Spec,
    fields,
    integer,
)
from ext4guard.server.worker import (
    Limits,
    ParserFailed,
    UsageError,
    run_contained,
    run_in_process,
)

FAST = Limits(timeout=5.0)


class Collect:
    schemas: ClassVar[dict[str, Spec]] = {"n": fields(i=integer())}

    def __init__(self, accept_bytes: bool = True) -> None:
        self.items: list[Message | bytes] = []
        self.accept_bytes = accept_bytes
        self.closed = False

    def handle(self, item: Message | bytes) -> None:
        if isinstance(item, bytes) and not self.accept_bytes:
            raise ProtocolError("no bytes here")
        self.items.append(item)

    def close(self) -> None:
        self.closed = True


def no_containment(keep: frozenset[int], write: frozenset[int], limits: Limits) -> None:
    return None


def _run(
    producer: Callable[[Channel], None],
    limits: Limits = FAST,
    consumer: Collect | None = None,
    contained: bool = False,
) -> Collect:
    consumer = consumer or Collect()
    if contained:
        run_contained(producer, consumer, keep_fds=(), limits=limits)
    else:
        run_contained(producer, consumer, keep_fds=(), limits=limits, contain_self=no_containment)
    return consumer


def _failure(producer: Callable[[Channel], None], **kwargs: object) -> ParserFailed:
    with pytest.raises(ParserFailed) as info:
        _run(producer, **kwargs)  # type: ignore[arg-type]
    return info.value


@pytest.fixture(autouse=True)
def no_child_left() -> Iterator[None]:
    yield
    with pytest.raises(ChildProcessError):  # every child was reaped
        os.waitpid(-1, os.WNOHANG)


def test_a_complete_answer_streams_through() -> None:
    def producer(channel: Channel) -> None:
        for i in range(5000):
            channel.send({"t": "n", "i": i})
        channel.send_bytes(b"z" * (3 << 20))

    consumer = _run(producer)
    numbers = [m.fields["i"] for m in consumer.items if isinstance(m, Message)]
    assert numbers == list(range(5000))
    assert sum(len(b) for b in consumer.items if isinstance(b, bytes)) == 3 << 20
    assert consumer.closed


def test_in_process_gives_the_same_answer() -> None:
    def producer(channel: Channel) -> None:
        channel.send({"t": "n", "i": 1})
        channel.send_bytes(b"abc")

    consumer = Collect()
    run_in_process(producer, consumer)
    assert consumer.items == [Message("n", {"i": 1}), b"abc"] and consumer.closed


def test_a_hanging_child_is_killed_at_the_deadline() -> None:
    def producer(channel: Channel) -> None:
        channel.send({"t": "n", "i": 1})
        channel.flush()
        time.sleep(600)

    start = time.monotonic()
    failed = _failure(producer, limits=Limits(timeout=0.5))
    assert time.monotonic() - start < 5
    assert failed.exit_code == 1
    assert failed.line == "parser timed out after 0.5 s and was killed"


def test_a_child_that_closes_its_pipe_and_hangs_is_killed_too() -> None:
    def producer(channel: Channel) -> None:
        os.closerange(3, 1 << 16)
        time.sleep(600)

    failed = _failure(producer, limits=Limits(timeout=0.5))
    assert "timed out" in failed.line and failed.exit_code == 1


def _segfault() -> None:
    ctypes.string_at(0)


@pytest.mark.parametrize(
    ("action", "line"),
    [
        (_segfault, "parser killed by SIGSEGV (a memory fault)"),
        (
            lambda: os.kill(os.getpid(), signal.SIGKILL),
            "parser killed by SIGKILL (killed from outside: the out-of-memory killer or a user)",
        ),
        (lambda: os.abort(), "parser killed by SIGABRT (an abort)"),
        (lambda: os._exit(0), "parser exited before finishing its answer"),
        (lambda: os._exit(3), "parser exited with status 3"),
    ],
)
def test_child_death_is_one_line_and_exit_1(
    action: Callable[[], None], line: str, capfd: pytest.CaptureFixture[str]
) -> None:
    def producer(channel: Channel) -> None:
        channel.send({"t": "n", "i": 1})
        channel.flush()
        action()

    failed = _failure(producer)
    assert (failed.line, failed.exit_code) == (line, 1)
    assert capfd.readouterr().err == ""  # no dump from the child (pytest enables faulthandler)


def _raw(data: bytes) -> Callable[[Channel], None]:
    def producer(channel: Channel) -> None:
        channel._write(data)
        time.sleep(600)  # the parent must not wait for the rest

    return producer


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (HEADER.pack(ord("P"), 2) + b"\x80\x04", "unknown frame kind 0x50"),
        (HEADER.pack(KIND_JSON, MAX_JSON + 1), "exceeds the cap"),
        (HEADER.pack(KIND_JSON, 4) + b"{{{{", "malformed JSON"),
        (HEADER.pack(KIND_JSON, 15) + b'{"t":"n","i":-1}'[:15], "malformed JSON"),
        (HEADER.pack(KIND_JSON, 16) + b'{"t":"n","i":-1}', "n.i: expected an integer"),
        (HEADER.pack(KIND_JSON, 18) + b'{"t":"n","i":true}', "n.i: expected an integer"),
        (HEADER.pack(KIND_JSON, 13) + b'{"t":"shell"}', "unexpected message type 'shell'"),
        (HEADER.pack(KIND_BYTES, 1) + b"x", "no bytes here"),
        (
            HEADER.pack(KIND_JSON, 10) + b'{"t":"done"}'[:10],
            "malformed JSON",
        ),
    ],
)
def test_a_malformed_frame_is_rejected_and_the_child_killed(data: bytes, reason: str) -> None:
    start = time.monotonic()
    failed = _failure(_raw(data), consumer=Collect(accept_bytes=False))
    assert time.monotonic() - start < 4
    assert failed.exit_code == 1
    assert failed.line.startswith("parser sent a malformed answer, rejected: ")
    assert reason in failed.line


def test_frames_after_the_end_are_rejected() -> None:
    def producer(channel: Channel) -> None:
        channel.send({"t": "done"})
        channel.send({"t": "n", "i": 1})

    assert "after the end" in _failure(producer).line


def test_an_incomplete_frame_at_exit_is_rejected() -> None:
    def producer(channel: Channel) -> None:
        channel._write(HEADER.pack(KIND_JSON, 100) + b"{")

    assert _failure(producer).exit_code == 1


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (NotFound("b'/x': no entry"), 2, "not_found: b'/x': no entry (image)"),
        (BadMagic("not ext4"), 1, "bad_magic: not ext4 (image)"),
        (UsageError("/: not a regular file (dir)"), 2, "/: not a regular file (dir)"),
    ],
)
def test_expected_errors_keep_their_exit_code(error: Exception, code: int, line: str) -> None:
    def producer(channel: Channel) -> None:
        raise error

    failed = _failure(producer)
    assert (failed.line, failed.exit_code) == (line, code)


def test_an_unexpected_exception_is_reported_without_a_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    def producer(channel: Channel) -> None:
        raise ValueError("boom")

    failed = _failure(producer)
    assert failed.line == "internal error (a bug, please report it): ValueError: boom"
    assert failed.exit_code == 2
    assert "Traceback" not in capfd.readouterr().err


def test_running_out_of_memory_is_exit_1() -> None:
    def producer(channel: Channel) -> None:
        raise MemoryError

    failed = _failure(producer, limits=Limits(timeout=5, memory_limit=256 << 20))
    assert (failed.line, failed.exit_code) == ("parser ran out of memory (limit 256 MiB)", 1)


def test_a_consumer_failure_kills_the_child_and_propagates() -> None:
    class Closed(Collect):
        def handle(self, item: Message | bytes) -> None:
            raise BrokenPipeError(errno.EPIPE, "stdout closed")

    def producer(channel: Channel) -> None:
        while True:
            channel.send_bytes(b"x" * 4096)

    with pytest.raises(BrokenPipeError):
        _run(producer, consumer=Closed())


# -- with the real sandbox -------------------------------------------------------------------


def test_contained_child_cannot_open_files_or_write_stdout() -> None:
    probes: dict[str, int] = {}

    def producer(channel: Channel) -> None:
        for name, attempt in (
            ("open", lambda: os.open("/etc/passwd", os.O_RDONLY)),
            ("write_stdout", lambda: os.write(1, b"x")),
        ):
            try:
                attempt()
                probes[name] = 0
            except OSError as exc:
                probes[name] = exc.errno or -1
        channel.send({"t": "n", "i": os.getuid()})
        channel.send({"t": "n", "i": probes["open"]})
        channel.send({"t": "n", "i": probes["write_stdout"]})

    consumer = _run(producer, contained=True)
    uid, open_errno, write_errno = (m.fields["i"] for m in consumer.items)  # type: ignore[union-attr]
    assert uid == 65534
    assert open_errno in (errno.EPERM, errno.EACCES)
    assert write_errno == errno.EPERM


def test_a_lazy_import_after_containment_fails_as_a_crash() -> None:
    def producer(channel: Channel) -> None:
        import xml.dom.minidom  # noqa: F401  (not imported before the fork: must fail)

    failed = _failure(producer, contained=True)
    assert failed.line.startswith("internal error (a bug, please report it): ")
    assert failed.exit_code == 2


def test_the_cpu_limit_kills_a_busy_child_with_sigxcpu() -> None:
    def producer(channel: Channel) -> None:
        while True:
            pass

    failed = _failure(producer, limits=Limits(timeout=20, cpu_seconds=1), contained=True)
    assert (failed.line, failed.exit_code) == ("parser killed by SIGXCPU (CPU limit 1 s)", 1)


def test_the_memory_limit_stops_a_memory_bomb() -> None:
    def producer(channel: Channel) -> None:
        hoard = []
        while True:
            hoard.append(bytearray(16 << 20))

    failed = _failure(producer, limits=Limits(timeout=20, memory_limit=256 << 20), contained=True)
    assert (failed.line, failed.exit_code) == ("parser ran out of memory (limit 256 MiB)", 1)


def test_containment_failure_is_exit_2() -> None:
    def producer(channel: Channel) -> None:
        channel.send({"t": "n", "i": 1})

    with pytest.raises(ParserFailed) as info:
        run_contained(producer, Collect(), keep_fds=(987,), limits=FAST)  # not an open fd
    assert info.value.exit_code == 2
    assert info.value.line == "cannot contain the parser: kept fd 987 is not open"
