"""CI's smoke campaign: `ext4guard fuzz all --time 60` from the shipped seeds finds nothing new.

The campaign runs exactly as a user runs it (contained workers, a fresh corpus and crash dir
in a temporary directory). "New" means a finding whose stack signature is not that of an
open bug already kept in corpus/regressions/ (the runner replays those first). On failure
the findings are copied to build/fuzz/smoke-findings/ with the worker's output, ready to be
minimized into a regression entry (fuzz/regressions.py); the per-target exec/s are printed
either way (`pytest -s` shows them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 60


@pytest.mark.slow
def test_smoke_campaign_finds_nothing_new(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the smoke campaign's contained workers are tested as root here")
    jobs = str(min(2, os.cpu_count() or 1))
    argv = [sys.executable, "-m", "ext4guard.fuzz.runner", "all", "--time", str(SECONDS)]
    argv += ["--jobs", jobs, "--plain"]
    for name in ("corpus", "crashes", "runs"):
        argv += [f"--{name}", str(tmp_path / name)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=SECONDS + 120)
    reports = sorted((tmp_path / "runs").glob("*/report.json"))
    assert reports, f"no report written:\n{proc.stderr[-3000:]}"
    report = json.loads(reports[-1].read_text())

    print(f"\nsmoke campaign: {report['elapsed']:.0f} s, {jobs} jobs")
    for name, row in report["targets"].items():
        rate = "-" if row["exec_per_s"] is None else f"{row['exec_per_s']:,.0f}"
        print(
            f"  {name:12} {rate:>9} exec/s {row['execs']:>9,} execs "
            f"cov {row['cov']:>5} corpus {row['corpus']:>4} findings {row['findings']}"
        )
    new = [f for f in report["findings"] if f["new"]]
    if new:
        keep = ROOT / "build" / "fuzz" / "smoke-findings"
        for finding in new:
            shutil.copytree(
                finding["directory"], keep / Path(finding["directory"]).name, dirs_exist_ok=True
            )
    assert not new, "new findings (copied to build/fuzz/smoke-findings/):\n" + "\n".join(
        f"{f['target']}: {f['kind']} {f['exception']} at {f['frames']}" for f in new
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    # Every target ran and reached parser code.
    for name, row in report["targets"].items():
        assert row["execs"] > 0 and row["cov"] > 0, name
