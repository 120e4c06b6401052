"""The `ext4guard` command line.

Exit codes follow fsck's spirit: 0 clean, 1 corruption found, 2 could not run (bad usage,
unreadable image, unsupported feature). Errors are one line on stderr, never a traceback
(`--debug` re-raises internal errors for developers).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from importlib.metadata import version

from rich.console import Console

from ext4guard.parser.errors import Corruption, Ext4Error
from ext4guard.parser.filesystem import Filesystem

from . import info

EXIT_CLEAN = 0
EXIT_CORRUPT = 1
EXIT_FAILED = 2


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
    return parser


def _cmd_info(args: argparse.Namespace) -> int:
    with Filesystem.open(args.image) as fs:
        report = info.collect(fs)
    if args.json:
        json.dump(report, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
    else:
        info.render(report, Console(), args.groups)
    return EXIT_CORRUPT if report["findings"] else EXIT_CLEAN


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _cmd_info(args)
    except Corruption as exc:
        print(f"ext4guard: {args.image}: {exc}", file=sys.stderr)
        return EXIT_CORRUPT
    except Ext4Error as exc:
        print(f"ext4guard: {args.image}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as coreutils do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as exc:
        if args.debug:
            raise
        print(f"ext4guard: internal error (a bug, please report it): {exc!r}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
