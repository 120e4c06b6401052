"""Lines and branches of parser/ that a campaign's corpus reaches, measured by coverage.py.

    python -m ext4guard.fuzz.replay_coverage [CORPUS_ROOT] [--targets T ...] [--json FILE]

Every input under CORPUS_ROOT/TARGET/ (the layout `ext4guard fuzz --corpus` keeps), and every
target's own seed inputs, is run through its target once, uninstrumented, under coverage.py
with branch measurement. Without CORPUS_ROOT only the seed inputs run: the baseline a campaign
is measured against. Two totals: the hand-written parser, and the parser with the code
generated from the grammar (parser/_ksy).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import coverage

SOURCE = "ext4guard.parser"
GENERATED = "*/_ksy/*"


def replay(corpus_root: Path | None, targets: list[str] | None) -> coverage.Coverage:
    """Run the inputs under a started Coverage; return it stopped."""
    cov = coverage.Coverage(branch=True, source=[SOURCE], data_file=None)
    cov.start()
    try:
        # Imported under measurement: module-level parser code counts as reached.
        from ext4guard.parser.errors import Ext4Error

        from .targets import TARGETS

        for name in targets or list(TARGETS):
            module = TARGETS[name]
            inputs = list(module.seed_inputs())
            folder = corpus_root / name if corpus_root is not None else None
            if folder is not None and folder.is_dir():
                inputs += [p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()]
            for data in inputs:
                try:
                    module.test_one_input(data)
                except Ext4Error:
                    continue
    finally:
        cov.stop()
    return cov


def totals(cov: coverage.Coverage, *, generated: bool) -> dict[str, Any]:
    """coverage.py's JSON report totals, with or without the generated grammar code."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cov.json_report(outfile=out.name, omit=None if generated else [GENERATED])
        report = json.loads(Path(out.name).read_text())["totals"]
    return {
        "lines": report["covered_lines"],
        "lines_total": report["num_statements"],
        "branches": report["covered_branches"],
        "branches_total": report["num_branches"],
    }


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="python -m ext4guard.fuzz.replay_coverage")
    cli.add_argument("corpus_root", nargs="?", type=Path, help="omit for the seed inputs alone")
    cli.add_argument("--targets", nargs="+", help="default: every target")
    cli.add_argument("--json", type=Path, help="write the totals here too")
    args = cli.parse_args(argv)
    cov = replay(args.corpus_root, args.targets)
    result = {}
    for label, generated in (("hand-written", False), ("with _ksy", True)):
        t = result[label] = totals(cov, generated=generated)
        print(
            f"{label}: lines {t['lines']}/{t['lines_total']} "
            f"= {100 * t['lines'] / t['lines_total']:.1f} %, branches "
            f"{t['branches']}/{t['branches_total']} "
            f"= {100 * t['branches'] / t['branches_total']:.1f} %"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
