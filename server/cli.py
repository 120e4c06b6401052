"""The `ext4guard` command line.

Exit codes follow fsck's spirit: 0 clean, 1 corruption found, 2 could not run (bad usage,
unreadable image, unsupported feature, a path that does not exist). Errors are one line on
stderr, never a traceback (`--debug` re-raises internal errors for developers).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from rich.console import Console

from ext4guard.parser.check import CheckStats, check_image
from ext4guard.parser.filesystem import Filesystem

from . import extract, info, listing
from .launcher import DELEGATED, delegate
from .protocol import (
    FINDING,
    Channel,
    Finding,
    Message,
    ProtocolError,
    Spec,
    boolean,
    fields,
    finding_from,
    finding_message,
    integer,
    text,
)
from .worker import (
    Consumer,
    Limits,
    ParserFailed,
    Producer,
    UsageError,
    run_contained,
    run_in_process,
)

EXIT_CLEAN = 0
EXIT_CORRUPT = 1
EXIT_FAILED = 2

__all__ = ["EXIT_CLEAN", "EXIT_CORRUPT", "EXIT_FAILED", "UsageError", "build_parser", "main"]


def _group_limit(text: str) -> int | None:
    if text == "all":
        return None
    try:
        limit = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number or 'all'") from None
    if limit < 0:
        raise argparse.ArgumentTypeError("expected a number >= 0 or 'all'")
    return limit


def _image_path(text: str) -> bytes:
    return os.fsencode(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds") from None
    if not 0 < value <= 86400 * 7:
        raise argparse.ArgumentTypeError("expected seconds > 0 (at most a week)")
    return value


def _mebibytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number of MiB") from None
    if not 64 <= value <= 1 << 20:
        raise argparse.ArgumentTypeError("expected 64 to 1048576 MiB")
    return value


DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MIB = 1024


def _containment_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The containment options, accepted before and after the command name."""

    def default(value: object) -> object:
        return value if top else argparse.SUPPRESS

    group = parser.add_argument_group("containment")
    group.add_argument(
        "--timeout",
        type=_seconds,
        default=default(DEFAULT_TIMEOUT),
        metavar="S",
        help="wall-clock limit of the parse; the parser is killed after it (default 60)",
    )
    group.add_argument(
        "--memory-limit",
        type=_mebibytes,
        default=default(DEFAULT_MEMORY_MIB),
        metavar="MIB",
        help="address-space limit of the parser (default 1024)",
    )
    group.add_argument(
        "--allow-weak-sandbox",
        action="store_true",
        default=default(False),
        help="run even when the kernel cannot give the full sandbox (e.g. no landlock)",
    )
    group.add_argument(
        "--no-sandbox",
        action="store_true",
        default=default(False),
        help="parse in this process, uncontained: UNSAFE on untrusted images (debugging)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ext4guard",
        description="Read untrusted ext4 images through a hardened, contained parser.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('ext4guard')}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    _containment_options(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        _containment_options(sub, top=False)
        return sub

    info_cmd = command("info", "superblock, features and block groups")
    info_cmd.add_argument("image", help="ext2/3/4 image file or block device")
    info_cmd.add_argument("--json", action="store_true", help="one JSON object on stdout")
    info_cmd.add_argument(
        "--groups",
        type=_group_limit,
        default=16,
        metavar="N|all",
        help="how many group rows to print (default 16; JSON always has all)",
    )

    ls_cmd = command("ls", "list entries below a path")
    ls_cmd.add_argument("image")
    ls_cmd.add_argument("path", nargs="?", default="/", type=_image_path)
    ls_cmd.add_argument("-R", "--recursive", action="store_true", help="the whole subtree")
    ls_cmd.add_argument("--json", action="store_true", help="one JSON object per line")

    check_cmd = command("check", "read-only audit of the whole image")
    check_cmd.add_argument("image")
    check_cmd.add_argument("--json", action="store_true", help="one JSON object on stdout")

    cat_cmd = command("cat", "write a regular file's bytes to stdout")
    cat_cmd.add_argument("image")
    cat_cmd.add_argument("path", type=_image_path)

    extract_cmd = command("extract", "copy a tree out of the image, safely")
    extract_cmd.add_argument("image")
    extract_cmd.add_argument("dest", help="destination directory (created if missing)")
    extract_cmd.add_argument("path", nargs="?", default="/", type=_image_path)
    extract_cmd.add_argument(
        "--devices", action="store_true", help="also create device nodes (needs root)"
    )

    for name, (_, help_text) in DELEGATED.items():
        # Everything after the name is the delegate's own argv.
        commands.add_parser(name, help=help_text, add_help=False, prefix_chars="\0")
    return parser


def _safe_line(text: str, limit: int = 4096) -> str:
    """A line from the parser (possibly hostile) made safe for a terminal: one line, no
    control characters, bounded."""
    return listing.printable(text[:limit])


# -- check and cat: small enough to live here ------------------------------------------------

CHECK_MESSAGES: dict[str, Spec] = {
    "finding": FINDING,
    "note": fields(text=text(64 << 10)),
    "check": fields(
        clean=boolean, stats=fields(**{key: integer() for key in CheckStats.__slots__})
    ),
}
MAX_CHECK_FINDINGS = 1 << 16  # check keeps 1,000; anything far beyond is a flood


def _produce_check(fd: int, channel: Channel) -> None:
    report = check_image(fd)  # a failed open is a finding too
    for finding in report.findings:
        channel.send(finding_message(finding))
    for note in report.notes:
        channel.send({"t": "note", "text": note})
    stats = {key: getattr(report.stats, key) for key in CheckStats.__slots__}
    channel.send({"t": "check", "clean": report.clean, "stats": stats})


class _CheckCollector:
    schemas: Mapping[str, Spec] = CHECK_MESSAGES

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.summary: dict[str, Any] | None = None

    def handle(self, item: Message | bytes) -> None:
        if not isinstance(item, Message) or self.summary is not None:
            raise ProtocolError("check: unexpected frame")
        if len(self.findings) + len(self.notes) >= MAX_CHECK_FINDINGS:
            raise ProtocolError("too many findings")
        if item.type == "finding":
            self.findings.append(finding_from(item.fields))
        elif item.type == "note":
            self.notes.append(item.fields["text"])
        else:
            self.summary = item.fields
            if self.summary["clean"] != (not self.findings):
                raise ProtocolError("clean disagrees with the findings")

    def close(self) -> None:
        if self.summary is None:
            raise ProtocolError("check: no summary")

    def finish(self, args: argparse.Namespace) -> int:
        assert self.summary is not None
        clean, stats = self.summary["clean"], self.summary["stats"]
        if args.json:
            report = {
                "clean": clean,
                "findings": [f.as_finding() for f in self.findings],
                "notes": self.notes,
                "stats": stats,
            }
            json.dump(report, sys.stdout, separators=(",", ":"))
            sys.stdout.write("\n")
        else:
            for finding in self.findings:
                print(_safe_line(f"{finding.code}: {finding.detail} ({finding.where})"))
            for note in self.notes:
                print(_safe_line(f"note: {note}"))
            verdict = "clean" if clean else f"{len(self.findings)} finding(s)"
            print(
                f"{args.image}: {verdict}; {stats['inodes']} inodes, "
                f"{stats['directories']} directories, {stats['files']} files, "
                f"{stats['blocks_claimed']} blocks checked"
            )
        return EXIT_CLEAN if clean else EXIT_CORRUPT


CAT_MESSAGES: dict[str, Spec] = {"file": fields(size=integer())}


def _produce_cat(fd: int, path: bytes, channel: Channel) -> None:
    with Filesystem.open(fd) as fs:
        ino = fs.lookup(path)
        inode = fs.stat(ino)
        if inode.file_type != "reg":
            raise UsageError(f"{os.fsdecode(path)}: not a regular file ({inode.file_type})")
        channel.send({"t": "file", "size": inode.size})
        for offset in range(0, inode.size, extract.CHUNK):
            channel.send_bytes(fs.read(ino, offset, extract.CHUNK))


class _CatWriter:
    """Writes the file's bytes to stdout as they come; never more than the size announced."""

    schemas: Mapping[str, Spec] = CAT_MESSAGES

    def __init__(self) -> None:
        self.size: int | None = None
        self.written = 0
        self.out = sys.stdout.buffer

    def handle(self, item: Message | bytes) -> None:
        if isinstance(item, Message):
            if self.size is not None:
                raise ProtocolError("cat: a second file")
            self.size = item.fields["size"]
            return
        if self.size is None or self.written + len(item) > self.size:
            raise ProtocolError("cat: bytes beyond the file's size")
        self.out.write(item)
        self.written += len(item)

    def close(self) -> None:
        self.out.flush()
        if self.size is None or self.written != self.size:
            raise ProtocolError("cat: fewer bytes than the file's size")


# -- running a command -----------------------------------------------------------------------


@dataclass(slots=True)
class Job:
    """One command: the child's producer (given the image fd) and the parent's consumer,
    and what turns the consumer's state into the exit code once the answer is complete."""

    produce: Callable[[int, Channel], None]
    consumer: Consumer
    finish: Callable[[], int]
    closer: Callable[[], None] | None = None


def _info_job(args: argparse.Namespace) -> Job:
    collector = info.Collector()

    def finish() -> int:
        report = collector.report()
        if args.json:
            json.dump(report, sys.stdout, separators=(",", ":"))
            sys.stdout.write("\n")
        else:
            info.render(report, Console(), args.groups)
        return EXIT_CORRUPT if report["findings"] else EXIT_CLEAN

    return Job(info.produce, collector, finish)


def _ls_job(args: argparse.Namespace) -> Job:
    printer = listing.Printer(args.json)
    produce = functools.partial(_bind_ls, args.path, args.recursive)
    return Job(produce, printer, lambda: EXIT_CORRUPT if printer.damaged else EXIT_CLEAN)


def _bind_ls(top: bytes, recursive: bool, fd: int, channel: Channel) -> None:
    listing.produce(fd, top, recursive, channel)


def _check_job(args: argparse.Namespace) -> Job:
    collector = _CheckCollector()
    return Job(_produce_check, collector, lambda: collector.finish(args))


def _cat_job(args: argparse.Namespace) -> Job:
    path: bytes = args.path
    return Job(lambda fd, channel: _produce_cat(fd, path, channel), _CatWriter(), lambda: 0)


def _extract_job(args: argparse.Namespace) -> Job:
    # DEST is made (and opened) by the parent before the parse starts; the child never sees it.
    extraction = extract.Extraction(args.dest, owners=os.geteuid() == 0)
    top: bytes = args.path
    devices: bool = args.devices

    def finish() -> int:
        report = extraction.finish()
        for finding in report.findings:
            print(_safe_line(listing.finding_line(finding)), file=sys.stderr)
        for path, reason in report.skipped:
            name = _safe_line(os.fsdecode(path) or ".")
            print(f"ext4guard: skipped {name}: {_safe_line(reason)}", file=sys.stderr)
        print(
            f"extracted {report.written} entries, skipped {len(report.skipped)}, "
            f"findings {len(report.findings)}",
            file=sys.stderr,
        )
        return EXIT_CORRUPT if report.findings or report.skipped else EXIT_CLEAN

    return Job(
        lambda fd, channel: extract.produce(fd, top, devices, channel),
        extract.Receiver(extraction),
        finish,
        closer=extraction.close,
    )


JOBS: dict[str, Callable[[argparse.Namespace], Job]] = {
    "info": _info_job,
    "ls": _ls_job,
    "check": _check_job,
    "cat": _cat_job,
    "extract": _extract_job,
}


def open_image(path: str) -> int:
    """The image, read-only, for the child to inherit. O_NONBLOCK so that a FIFO named as
    the image cannot block the open (the parser then refuses it as not a file)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
    os.set_blocking(fd, True)
    return fd


def limits_of(args: argparse.Namespace) -> Limits:
    return Limits(
        timeout=args.timeout,
        memory_limit=args.memory_limit << 20,
        cpu_seconds=max(1, math.ceil(args.timeout)),
        allow_weak=args.allow_weak_sandbox,
    )


def run(args: argparse.Namespace) -> int:
    try:
        fd = open_image(args.image)
    except OSError as exc:
        raise UsageError(f"cannot open: {exc.strerror}") from None
    try:
        job = JOBS[args.command](args)
        try:
            producer: Producer = functools.partial(job.produce, fd)
            if args.no_sandbox:
                print(
                    "ext4guard: warning: --no-sandbox: parsing an untrusted image uncontained "
                    "is unsafe",
                    file=sys.stderr,
                )
                run_in_process(producer, job.consumer)
            else:
                run_contained(producer, job.consumer, keep_fds={fd}, limits=limits_of(args))
            return job.finish()
        finally:
            if job.closer is not None:
                job.closer()
    finally:
        os.close(fd)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command in DELEGATED:
        return delegate(args.command, extra)
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    where: Any = args.image
    try:
        return run(args)
    except UsageError as exc:
        print(f"ext4guard: {where}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ParserFailed as exc:
        print(f"ext4guard: {where}: {_safe_line(exc.line)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as coreutils do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except OSError as exc:
        # Writing the output failed (extract's DEST, a full disk): not the image's fault.
        print(f"ext4guard: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:
        if args.debug:
            raise
        print(f"ext4guard: internal error (a bug, please report it): {exc!r}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
