"""Coverage after equal time from the same seeds: structure-aware mutation vs byte mutation.

    python -m ext4guard.fuzz.coverage [--target walk] [--time 60] [--json FILE]

For each mutation mode -- `structure` (the structure-aware mutator, checksums fixed),
`nofix` (the same, checksums left as mutated) and `bytes` (libFuzzer's own byte-level
mutation) -- one libFuzzer campaign runs for the same wall-clock time on the same seed
images, each into a fresh corpus directory. Two figures per mode:

- `edges`: libFuzzer's final `cov:` count, the instrumented parser edges reached (atheris
  instruments only ext4guard.parser);
- `lines`: lines of parser/ executed when the campaign's corpus (seeds included) is replayed
  through the target without instrumentation, out of parser/'s executable lines.

The campaigns run one after the other (one core each); the report goes to stdout and, with
--json, to a file.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

from .libfuzzer import MUTATORS, write_seeds

PARSER_DIR = Path(__file__).resolve().parent.parent / "parser"
_FINAL = re.compile(r"#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)/")
_STATUS = re.compile(r"#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/")


def parser_lines() -> dict[str, set[int]]:
    """Executable lines of every parser module (from the compiled code objects)."""
    out: dict[str, set[int]] = {}
    for path in sorted(PARSER_DIR.rglob("*.py")):
        code = compile(path.read_text(), str(path), "exec")
        lines: set[int] = set()
        stack: list[CodeType] = [code]
        while stack:
            current = stack.pop()
            lines.update(line for _, _, line in current.co_lines() if line is not None)
            stack.extend(c for c in current.co_consts if isinstance(c, CodeType))
        out[str(path)] = lines
    return out


@contextmanager
def line_tracer(prefix: str, hits: set[tuple[str, int]]) -> Iterator[None]:
    """Record (file, line) pairs executed in files under `prefix`."""

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            hits.add((frame.f_code.co_filename, frame.f_lineno))
        return local

    def global_(frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename.startswith(prefix):
            hits.add((frame.f_code.co_filename, frame.f_lineno))
            return local
        return None

    sys.settrace(global_)
    try:
        yield
    finally:
        sys.settrace(None)


def replay_lines(target: str, corpus: list[Path]) -> set[tuple[str, int]]:
    """Parser lines the target executes over every input in `corpus` directories."""
    from ext4guard.parser.errors import Ext4Error

    from .targets import TARGETS

    module = TARGETS[target]
    hits: set[tuple[str, int]] = set()
    inputs = sorted(p for d in corpus for p in d.iterdir() if p.is_file())
    with line_tracer(str(PARSER_DIR.resolve()), hits):
        for path in inputs:
            try:
                module.test_one_input(path.read_bytes())
            except Ext4Error:
                continue
            except (RecursionError, MemoryError, ValueError, IndexError, KeyError) as exc:
                # A finding for the campaign; the replay only counts lines.
                print(f"  {path.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return hits


def campaign(target: str, mode: str, seconds: int, seeds: Path, corpus: Path) -> dict[str, int]:
    """One libFuzzer run; its final counters."""
    argv = [
        sys.executable, "-m", "ext4guard.fuzz.libfuzzer", target, "--mutator", mode,
        f"-max_total_time={seconds}", "-print_final_stats=1",
        f"-artifact_prefix={corpus.parent}/", str(corpus), str(seeds),
    ]  # fmt: skip
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    final = _FINAL.findall(proc.stderr) or _STATUS.findall(proc.stderr)
    if not final:
        tail = proc.stderr.strip().splitlines()[-5:]
        raise RuntimeError(f"{mode}: no libFuzzer status line; stderr ends:\n" + "\n".join(tail))
    runs, cov, ft, corp = (int(x) for x in final[-1])
    found = [
        p.name for p in corpus.parent.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-"))
    ]
    for name in found:  # keep what a campaign found: it becomes a regression input
        shutil.copy(corpus.parent / name, Path(tempfile.gettempdir()) / f"ext4guard-{mode}-{name}")
    return {"execs": runs, "edges": cov, "features": ft, "corpus": corp, "findings": len(found)}


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="python -m ext4guard.fuzz.coverage")
    cli.add_argument("--target", default="walk")
    cli.add_argument("--time", type=int, default=60, help="seconds per mode")
    cli.add_argument("--modes", nargs="+", choices=MUTATORS, default=list(MUTATORS))
    cli.add_argument("--json", type=Path, help="write the report here too")
    args = cli.parse_args(argv)

    from .targets import TARGETS

    total = sum(len(lines) for lines in parser_lines().values())
    report: dict[str, Any] = {"target": args.target, "seconds": args.time, "modes": {}}
    with tempfile.TemporaryDirectory(prefix="ext4guard-cov-") as tmp:
        seeds = Path(tmp) / "seeds"
        write_seeds(TARGETS[args.target].seed_inputs(), seeds)
        report["seed_lines"] = len(replay_lines(args.target, [seeds]))
        for mode in args.modes:
            corpus = Path(tmp) / mode / "corpus"
            corpus.mkdir(parents=True)
            started = time.monotonic()
            stats = campaign(args.target, mode, args.time, seeds, corpus)
            stats["lines"] = len(replay_lines(args.target, [corpus, seeds]))
            stats["wall_s"] = round(time.monotonic() - started)
            report["modes"][mode] = stats
    report["parser_lines"] = total
    print(f"target {args.target}, {args.time} s per mode, parser/ has {total} executable lines")
    print(f"  seeds alone: {report['seed_lines']} lines")
    print(f"  {'mode':10} {'execs':>8} {'edges':>7} {'lines':>7} {'corpus':>7}")
    for mode, s in report["modes"].items():
        print(f"  {mode:10} {s['execs']:>8} {s['edges']:>7} {s['lines']:>7} {s['corpus']:>7}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
