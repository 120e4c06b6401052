"""Run one fuzz target under atheris (libFuzzer), with the parser instrumented.

    python -m ext4guard.fuzz.libfuzzer TARGET [--mutator structure|nofix|bytes]
                                        [--write-seeds DIR] [libFuzzer flags and corpus dirs]

The parser (`ext4guard.parser`) is imported inside `atheris.instrument_imports()`, so the
coverage libFuzzer steers by is the parser's own. The target's `NAME.options` file supplies
-max_len, -timeout and -rss_limit_mb, and corpus/ext4.dict the dictionary, unless the command
line gives them. `--mutator` picks the mutation: `structure` (default: the target's
structure-aware mutator, checksums fixed), `nofix` (the same, checksums left broken),
`bytes` (libFuzzer's own byte-level mutation only). `--write-seeds DIR` writes the target's
initial inputs into DIR and exits.

Nothing under ext4guard.parser may be imported before this module instruments it.
"""

from __future__ import annotations

import argparse
import configparser
import hashlib
import sys
from pathlib import Path

DICTIONARY = Path(__file__).resolve().parent.parent / "corpus" / "ext4.dict"
MUTATORS = ("structure", "nofix", "bytes")


def libfuzzer_options(path: Path) -> list[str]:
    """`-key=value` flags from a libFuzzer options file (its [libfuzzer] section)."""
    parser = configparser.ConfigParser()
    parser.read(path)
    if not parser.has_section("libfuzzer"):
        return []
    return [f"-{key}={value}" for key, value in parser.items("libfuzzer")]


def fuzz_modules() -> list[str]:
    """Every module of ext4guard.fuzz by name (atheris excludes exact module names)."""
    root = Path(__file__).resolve().parent
    names = []
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(("ext4guard", "fuzz", *parts)))
    return names


#: Parser modules left uninstrumented: pure arithmetic on every name a lookup hashes (MD4 and
#: TEA rounds), whose branches follow the hash version alone. Instrumented, dirhash took 60 %
#: of the walk target's time (a trace call per loop step); the version-dependent calls into
#: it remain instrumented on the caller's side (htree, dirent).
HOT_HELPERS = ("ext4guard.parser.dirhash",)


def excluded_modules() -> list[str]:
    """What atheris must not instrument: the fuzz package, and the parser's hot helpers."""
    return [*fuzz_modules(), *HOT_HELPERS]


def write_seeds(inputs: list[bytes], directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    for data in inputs:
        (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)
    return len(inputs)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    cli = argparse.ArgumentParser(prog="python -m ext4guard.fuzz.libfuzzer")
    cli.add_argument("target")
    cli.add_argument("--mutator", choices=MUTATORS, default="structure")
    cli.add_argument("--write-seeds", type=Path, metavar="DIR")
    ours, rest = cli.parse_known_args(args)

    import atheris  # type: ignore[import-untyped]

    # Only the parser counts as coverage: the fuzz package's own code is left alone.
    with atheris.instrument_imports(include=["ext4guard.parser"], exclude=excluded_modules()):
        from ext4guard.fuzz.targets import TARGETS, options_file

    if ours.target not in TARGETS:
        print(f"unknown target {ours.target!r}; targets: {', '.join(TARGETS)}", file=sys.stderr)
        return 2
    module = TARGETS[ours.target]
    if ours.write_seeds is not None:
        count = write_seeds(module.seed_inputs(), ours.write_seeds)
        print(f"{count} seed inputs written to {ours.write_seeds}")
        return 0
    given = {flag.split("=", 1)[0] for flag in rest if flag.startswith("-")}
    flags = [
        f for f in libfuzzer_options(options_file(ours.target)) if f.split("=")[0] not in given
    ]
    if "-dict" not in given and DICTIONARY.is_file():
        flags.append(f"-dict={DICTIONARY}")
    custom = None
    if ours.mutator != "bytes":
        # Called through a Python function: handing atheris.Mutate itself over as the
        # callback made libFuzzer stop with "Fuzz() must be called before Mutate()".
        def byte_mutate(data: bytes, max_size: int) -> bytes:
            return bytes(atheris.Mutate(data, max_size))

        custom = module.make_mutator(fix=ours.mutator == "structure", byte_mutate=byte_mutate)
    atheris.Setup([sys.argv[0], *flags, *rest], module.test_one_input, custom_mutator=custom)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
