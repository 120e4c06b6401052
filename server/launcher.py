"""The `ext4guard` console script.

Commands served by a module of their own (`mount`, `umount`, `fuzz`, `sandbox-check`) start
without importing the parsing CLI (`server/cli.py`: rich, the parser, the worker, ~130 ms):
`mount` + `umount` pay Python start-up twice already. Everything else goes to `cli.main`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: Commands served by another module's `main(argv)`: (module, help). Everything after the
#: command name is passed on; the mount module parses `mount ...`/`umount ...` itself, so
#: its two commands get their own name back in front (`_NAMED`).
DELEGATED: dict[str, tuple[str, str]] = {
    "sandbox-check": (
        "ext4guard.server.sandbox_check",
        "start a contained child, print its live status and try every escape",
    ),
    "mount": ("ext4guard.server.mount", "mount an image read-only (contained FUSE server)"),
    "umount": ("ext4guard.server.mount", "unmount an ext4guard mount (always works)"),
    "fuzz": ("ext4guard.fuzz.runner", "run a fuzzing campaign against the parser"),
}
_NAMED = frozenset({"mount", "umount"})
EXIT_FAILED = 2


def delegate(name: str, argv: Sequence[str]) -> int:
    """Run delegated command `name` with the arguments that followed it."""
    try:
        module = importlib.import_module(DELEGATED[name][0])
    except ModuleNotFoundError:
        print(f"ext4guard: {name} is not available in this build", file=sys.stderr)
        return EXIT_FAILED
    result: int = module.main([name, *argv] if name in _NAMED else list(argv))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in DELEGATED:
        return delegate(args[0], args[1:])
    from .cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
