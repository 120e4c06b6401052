"""The `ext4guard` command line.

Exit codes follow fsck's spirit: 0 clean, 1 corruption found, 2 could not run (bad usage,
unreadable image, unsupported feature, a path that does not exist). Errors are one line on
stderr, never a traceback (`--debug` re-raises internal errors for developers).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Any

from rich.console import Console

from ext4guard.parser.check import check_image
from ext4guard.parser.errors import Corruption, Ext4Error, InvalidRequest, NotADirectory, NotFound
from ext4guard.parser.filesystem import Filesystem

from . import extract, info, listing

EXIT_CLEAN = 0
EXIT_CORRUPT = 1
EXIT_FAILED = 2


class UsageError(Exception):
    """The request itself cannot be served (e.g. `cat` of a directory): exit 2."""


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ext4guard",
        description="Read untrusted ext4 images through a hardened, contained parser.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('ext4guard')}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info_cmd = commands.add_parser("info", help="superblock, features and block groups")
    info_cmd.add_argument("image", help="ext2/3/4 image file or block device")
    info_cmd.add_argument("--json", action="store_true", help="one JSON object on stdout")
    info_cmd.add_argument(
        "--groups",
        type=_group_limit,
        default=16,
        metavar="N|all",
        help="how many group rows to print (default 16; JSON always has all)",
    )

    ls_cmd = commands.add_parser("ls", help="list entries below a path")
    ls_cmd.add_argument("image")
    ls_cmd.add_argument("path", nargs="?", default="/", type=_image_path)
    ls_cmd.add_argument("-R", "--recursive", action="store_true", help="the whole subtree")
    ls_cmd.add_argument("--json", action="store_true", help="one JSON object per line")

    check_cmd = commands.add_parser("check", help="read-only audit of the whole image")
    check_cmd.add_argument("image")
    check_cmd.add_argument("--json", action="store_true", help="one JSON object on stdout")

    cat_cmd = commands.add_parser("cat", help="write a regular file's bytes to stdout")
    cat_cmd.add_argument("image")
    cat_cmd.add_argument("path", type=_image_path)

    extract_cmd = commands.add_parser("extract", help="copy a tree out of the image, safely")
    extract_cmd.add_argument("image")
    extract_cmd.add_argument("dest", help="destination directory (created if missing)")
    extract_cmd.add_argument("path", nargs="?", default="/", type=_image_path)
    extract_cmd.add_argument(
        "--devices", action="store_true", help="also create device nodes (needs root)"
    )
    return parser


def _finding_line(exc: Ext4Error) -> str:
    return f"ext4guard: finding: {exc}"


def _cmd_info(fs: Filesystem, args: argparse.Namespace) -> int:
    report = info.collect(fs)
    if args.json:
        json.dump(report, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        info.render(report, Console(), args.groups)
    return EXIT_CORRUPT if report["findings"] else EXIT_CLEAN


def _cmd_ls(fs: Filesystem, args: argparse.Namespace) -> int:
    damaged = False
    out = sys.stdout
    for item in listing.list_records(fs, args.path, args.recursive):
        if isinstance(item, Ext4Error):
            damaged = True
            if args.json:
                out.write(json.dumps({"finding": item.as_finding()}) + "\n")
            print(_finding_line(item), file=sys.stderr)
            continue
        out.write(json.dumps(item) + "\n" if args.json else listing.human_line(item) + "\n")
    return EXIT_CORRUPT if damaged else EXIT_CLEAN


def _cmd_check(args: argparse.Namespace) -> int:
    report = check_image(args.image)
    if args.json:
        json.dump(report.as_dict(), sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        for finding in report.findings:
            print(f"{finding.code}: {finding.detail} ({finding.where})")
        for note in report.notes:
            print(f"note: {note}")
        stats = report.stats
        verdict = "clean" if report.clean else f"{len(report.findings)} finding(s)"
        print(
            f"{args.image}: {verdict}; {stats.inodes} inodes, {stats.directories} directories, "
            f"{stats.files} files, {stats.blocks_claimed} blocks checked"
        )
    return EXIT_CLEAN if report.clean else EXIT_CORRUPT


def _cmd_cat(fs: Filesystem, args: argparse.Namespace) -> int:
    ino = fs.lookup(args.path)
    inode = fs.stat(ino)
    if inode.file_type != "reg":
        raise UsageError(f"{os.fsdecode(args.path)}: not a regular file ({inode.file_type})")
    out = sys.stdout.buffer
    for offset in range(0, inode.size, extract.CHUNK):
        out.write(fs.read(ino, offset, extract.CHUNK))
    out.flush()
    return EXIT_CLEAN


def _cmd_extract(fs: Filesystem, args: argparse.Namespace) -> int:
    if not fs.stat(fs.lookup(args.path)).is_dir:
        raise UsageError(f"{os.fsdecode(args.path)}: not a directory")
    report = extract.apply(
        extract.plan(fs, args.path, devices=args.devices),
        args.dest,
        owners=os.geteuid() == 0,
    )
    for finding in report.findings:
        print(_finding_line(finding), file=sys.stderr)
    for path, reason in report.skipped:
        print(f"ext4guard: skipped {os.fsdecode(path) or '.'}: {reason}", file=sys.stderr)
    print(
        f"extracted {report.written} entries, skipped {len(report.skipped)}, "
        f"findings {len(report.findings)}",
        file=sys.stderr,
    )
    return EXIT_CORRUPT if report.findings or report.skipped else EXIT_CLEAN


COMMANDS: dict[str, Callable[[Filesystem, argparse.Namespace], int]] = {
    "info": _cmd_info,
    "ls": _cmd_ls,
    "cat": _cmd_cat,
    "extract": _cmd_extract,
}


def run(args: argparse.Namespace) -> int:
    if args.command == "check":
        return _cmd_check(args)  # opens the image itself: a failed open is a finding too
    with Filesystem.open(args.image) as fs:
        return COMMANDS[args.command](fs, args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    where: Any = args.image
    try:
        return run(args)
    except (NotFound, NotADirectory, InvalidRequest, UsageError) as exc:
        print(f"ext4guard: {where}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Corruption as exc:
        print(f"ext4guard: {where}: {exc}", file=sys.stderr)
        return EXIT_CORRUPT
    except Ext4Error as exc:
        print(f"ext4guard: {where}: {exc}", file=sys.stderr)
        return EXIT_FAILED
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
