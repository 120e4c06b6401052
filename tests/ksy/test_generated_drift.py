"""The committed parser/_ksy/*.py must be exactly what the pinned compiler makes of ksy/*.ksy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KSY = ROOT / "ksy"
GENERATED = ROOT / "parser" / "_ksy"


def _python_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.glob("*.py") if p.name != "__init__.py"}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed: cannot recompile")
def test_generated_code_matches_grammar(tmp_path: Path) -> None:
    assert (KSY / "node_modules" / "kaitai-struct-compiler").is_dir(), (
        "the pinned compiler is missing: run tools/setup.sh (npm ci in ksy/)"
    )
    subprocess.run(
        ["node", str(KSY / "compile.js"), str(tmp_path)], check=True, capture_output=True
    )
    fresh = _python_files(tmp_path)
    committed = _python_files(GENERATED)
    assert fresh, "the compiler produced no Python modules"
    assert sorted(fresh) == sorted(committed), "generated module set differs from the committed one"
    stale = sorted(name for name in fresh if fresh[name] != committed[name])
    assert not stale, f"regenerate with `make ksy` and commit: {stale} differ from ksy/"


def test_every_ksy_has_a_generated_module() -> None:
    grammars = sorted(p.stem for p in KSY.glob("*.ksy"))
    assert grammars, "no grammar files in ksy/"
    assert all((GENERATED / f"{stem}.py").is_file() for stem in grammars)
