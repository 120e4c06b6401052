"""`ext4guard fuzz`, the campaign runner (fuzz/runner.py, fuzz/campaign.py, fuzz/worker.py).

The campaign tests run the runner as a user does (`python -m ext4guard.fuzz.runner`), with
contained workers, on this module used as a target: it has the targets' interface
(`DESCRIPTION`, `test_one_input`, `seed_inputs`, `make_mutator`) and fails on purpose on
planted inputs -- an exception (two inputs, one signature), a hang, a memory blow-up, a
sandbox refusal -- so that what the runner does with each kind of finding is checked
against inputs whose outcome the test knows. A short campaign on a real target checks the
status lines (exec/s, coverage) and that the parser finds nothing on its seeds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ext4guard.fuzz import campaign as C
from ext4guard.fuzz.report import Sample, write_plot
from ext4guard.fuzz.worker import minimize_toward

ROOT = Path(__file__).resolve().parents[2]
THIS = "tests.fuzz.test_runner"

# ------------------------------------------------------------------ the planted target

DESCRIPTION = "runner tests: fails on planted inputs"


def _planted_bug(data: bytes) -> None:
    raise ValueError(f"planted bug, {len(data)} bytes")


def _dispatch(data: bytes) -> None:
    if data.startswith(b"CRASH"):
        _planted_bug(data)
    elif data.startswith(b"HANG"):
        end = time.monotonic() + 60
        while time.monotonic() < end:
            pass
    elif data.startswith(b"MEM"):
        bytearray(1 << 40)  # past RLIMIT_AS: MemoryError
    elif data.startswith(b"SOCK"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()  # seccomp: EPERM


def test_one_input(data: bytes) -> None:
    _dispatch(data)


test_one_input.__test__ = False  # type: ignore[attr-defined]  # a target, not a test


def seed_inputs() -> list[bytes]:
    return [b"seed-one", b"seed-two"]


def make_mutator(
    *, fix: bool = True, byte_mutate: Callable[[bytes, int], bytes] | None = None
) -> Callable[[bytes, int, int], bytes]:
    def mutate(data: bytes, max_size: int, seed: int) -> bytes:
        # Never produces a planted prefix: only the inputs the test plants fail.
        out = byte_mutate(data, max_size) if byte_mutate is not None else data
        return b"m" + out[: max_size - 1]

    return mutate


# ---------------------------------------------------------------------------- helpers


def run_fuzz(
    tmp: Path, *args: str, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    argv = [
        sys.executable,
        "-m",
        "ext4guard.fuzz.runner",
        "--corpus",
        str(tmp / "corpus"),
        "--crashes",
        str(tmp / "crashes"),
        "--runs",
        str(tmp / "runs"),
        "--plain",
        *args,
    ]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    reports = sorted((tmp / "runs").glob("*/report.json"))
    report = json.loads(reports[-1].read_text()) if reports else {}
    return proc, report


def plant(tmp: Path, target: str, inputs: dict[str, bytes]) -> Path:
    corpus = tmp / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    for name, data in inputs.items():
        (corpus / name).write_bytes(data)
    return corpus


def needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("the contained workers' tests here run as root (uid 65534 workers)")


# ------------------------------------------------------------------------- unit tests

ATHERIS_EXCEPTION = [
    "INFO: seed corpus: files: 3",
    "",
    " === Uncaught Python exception: ===",
    "ValueError: planted bug, 9 bytes",
    "Traceback (most recent call last):",
    f'  File "{ROOT}/fuzz/worker.py", line 160, in counted',
    "    test_one_input(data)",
    f'  File "{ROOT}/parser/extents.py", line 12, in walk',
    "    node = decode(x)",
    f'  File "{ROOT}/parser/records.py", line 40, in decode',
    "    return build(obj)",
    "ValueError: planted bug, 9 bytes",
    "",
    "==1234== ERROR: libFuzzer: fuzz target exited",
]


def test_signature_of_an_uncaught_exception() -> None:
    sig = C.signature_from_output(ATHERIS_EXCEPTION)
    assert sig == C.Signature(
        "crash", "ValueError", ("parser/records.py:decode", "parser/extents.py:walk")
    )
    assert sig.line() == "crash: ValueError at parser/records.py:decode"
    # Line numbers and messages do not matter; the frames and the type do.
    moved = [
        line.replace("line 40", "line 41").replace("9 bytes", "7") for line in ATHERIS_EXCEPTION
    ]
    assert C.signature_from_output(moved).id == sig.id
    other = [line.replace("in walk", "in lookup") for line in ATHERIS_EXCEPTION]
    assert C.signature_from_output(other).id != sig.id


def test_signature_kinds() -> None:
    permission = [
        line.replace("ValueError: planted bug, 9 bytes", "PermissionError: [Errno 1] nope")
        for line in ATHERIS_EXCEPTION
    ]
    assert C.signature_from_output(permission).kind == "sandbox"
    oserror = [
        line.replace("ValueError: planted bug, 9 bytes", "OSError: [Errno 1] Operation not")
        for line in ATHERIS_EXCEPTION
    ]
    assert C.signature_from_output(oserror).kind == "sandbox"
    memory = [
        line.replace("ValueError: planted bug, 9 bytes", "MemoryError")
        for line in ATHERIS_EXCEPTION
    ]
    assert C.signature_from_output(memory) == C.Signature(
        "oom", "MemoryError", ("parser/records.py:decode", "parser/extents.py:walk")
    )
    timeout = [
        " === Timeout: 4s elapsed, timeout=2s ===",
        "Current thread 0x00007f2971fdcb80 (most recent call first):",
        f'  File "{ROOT}/parser/htree.py", line 5 in lookup',
        f'  File "{ROOT}/fuzz/worker.py", line 9 in counted',
        '  File "<frozen runpy>", line 88 in _run_code',
        "ALARM: working on the last Unit for 4 seconds",
        "==1== ERROR: libFuzzer: timeout after 4 seconds",
    ]
    assert C.signature_from_output(timeout) == C.Signature(
        "timeout", "timeout", ("parser/htree.py:lookup",)
    )
    assert (
        C.signature_from_output(["==1== ERROR: libFuzzer: out-of-memory (used: 3Mb)"]).kind == "oom"
    )
    assert C.signature_from_output(["==1== ERROR: libFuzzer: deadly signal"]).kind == "signal"
    assert C.signature_from_output([], exit_signal=int(signal.SIGSYS)).kind == "sandbox"
    assert C.signature_from_output([], exit_signal=int(signal.SIGSEGV)).exception == (
        "killed by SIGSEGV"
    )


def test_in_process_signature_matches_the_printed_one() -> None:
    """The minimizer (in-process) and the runner (from atheris's output) must agree."""
    import traceback

    try:
        test_one_input(b"CRASH and more")
    except ValueError as exc:
        caught = exc
    printed = " === Uncaught Python exception: ===\n" + "".join(
        traceback.format_exception(caught)
    ).replace("Traceback", "ValueError: x\nTraceback", 1)
    assert C.signature_from_output(printed.splitlines()) == C.signature_of(caught)
    assert C.signature_of(caught).frames[0] == "tests/fuzz/test_runner.py:_planted_bug"


def test_status_lines() -> None:
    status = C.WorkerStatus()
    assert status.feed("#2\tINITED cov: 513 ft: 620 corp: 5/5130b exec/s: 0 rss: 98Mb")
    assert status.inited and (status.cov, status.ft, status.corpus, status.rss_mb) == (
        513,
        620,
        5,
        98,
    )
    assert status.feed("#ext4guard execs=12242")
    assert status.execs == 12242
    line = "#32768\tpulse  cov: 561 ft: 873 corp: 49/4732b lim: 1046 exec/s: 10922 rss: 99Mb"
    assert status.feed(line)
    assert (status.cov, status.execs, status.rss_mb) == (561, 32768, 99)
    assert not status.feed("INFO: Running with entropic power schedule (0xFF, 100).")


def test_plan_slots() -> None:
    names = [f"t{i}" for i in range(5)]
    assert C.plan_slots(names, 1) == [names]
    assert C.plan_slots(names, 2) == [["t0", "t2", "t4"], ["t1", "t3"]]
    assert C.plan_slots(["a", "b"], 5) == [["a"], ["b"], ["a"], ["b"], ["a"]]
    assert C.plan_slots([], 3) == []


def test_minimize_reverts_toward_the_base() -> None:
    base = bytes(range(256)) * 4
    data = bytearray(base)
    for at in (3, 100, 101, 500, 900):
        data[at] ^= 0xFF
    # The "bug" needs only the change at offset 500.
    keeps = lambda d: d[500] == base[500] ^ 0xFF  # noqa: E731
    best = minimize_toward(bytes(data), base, keeps, time.monotonic() + 10)
    assert [i for i in range(len(base)) if best[i] != base[i]] == [500]
    # Without a base: shortened from the end while it still fails.
    best = minimize_toward(
        b"CRASH" + b"x" * 300, b"", lambda d: d.startswith(b"CRASH"), time.monotonic() + 10
    )
    assert best == b"CRASH"


def test_crash_store_deduplicates_and_resumes(tmp_path: Path) -> None:
    store = C.CrashStore(tmp_path)
    sig = C.Signature("crash", "ValueError", ("parser/x.py:f",))
    first = tmp_path / ("crash-" + "1" * 40)
    first.write_bytes(b"one")
    finding, new = store.add("walk", sig, first, ["line"])
    assert new and (finding.directory / first.name).read_bytes() == b"one"
    second = tmp_path / ("crash-" + "2" * 40)
    second.write_bytes(b"two")
    again, new = store.add("walk", sig, second, [])
    assert not new and again.count == 2 and not second.exists()
    # Another target hitting the same code is kept apart (its own reproducer).
    _, new = store.add("check", sig, None, [])
    assert new
    reloaded = C.CrashStore(tmp_path)
    assert {(t, f.count, f.new) for (t, _), f in reloaded.findings.items()} == {
        ("walk", 2, False),
        ("check", 1, False),
    }
    doc = json.loads((finding.directory / "finding.json").read_text())
    assert doc["output"] == ["line"] and doc["frames"] == ["parser/x.py:f"]


def test_fuzz_profile_is_the_parser_sandbox_plus_the_writable_dirs(tmp_path: Path) -> None:
    profile = C.fuzz_profile(writable_dirs=[str(tmp_path)], seconds=30, memfds=[5])
    assert profile.writable_dirs == (str(tmp_path),)
    assert profile.keep_fds == frozenset({1, 2, 5}) and profile.write_fds == profile.keep_fds
    assert profile.max_processes == 0 and profile.max_file_size > 0
    assert profile.cpu_seconds == 90 and profile.memory_limit == C.DEFAULT_MEMORY_MIB << 20
    assert set(profile.extra_syscalls) == set(C.FUZZ_SYSCALLS)
    assert not profile.allow_weak


def test_plot_and_report_files(tmp_path: Path) -> None:
    samples = [Sample(t, "walk", t * 100, 100.0, 50 + t, 80 + t, 3, 0) for t in range(5)]
    write_plot(tmp_path / "p.png", samples, "test")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------ the CLI


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    proc, _ = run_fuzz(tmp_path, "nosuchtarget", "--time", "1")
    assert proc.returncode == 2
    assert (
        proc.stderr.strip().splitlines() == [proc.stderr.strip().splitlines()[0]]
        and "unknown target 'nosuchtarget'" in proc.stderr
    )
    proc, _ = run_fuzz(tmp_path, "walk", "--", "-fork=2")
    assert proc.returncode == 2 and "--jobs" in proc.stderr
    listing = subprocess.run(
        [sys.executable, "-m", "ext4guard.fuzz.runner", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "walk" in listing.stdout and "superblock" in listing.stdout


# ------------------------------------------------------------------------- campaigns


def test_planted_findings_are_kept_deduplicated_and_minimized(tmp_path: Path) -> None:
    """Each kind of finding, planted in the corpus: kept once per signature, the corpus
    cleared of it (the campaign goes on), the exception minimized, all in the report."""
    needs_root()
    corpus = plant(
        tmp_path,
        THIS,
        {
            "crash-a": b"CRASH" + b"a" * 200,
            "crash-b": b"CRASH" + b"b" * 50,  # the same bug: one finding, two hits
            "hang": b"HANG",
            "memory": b"MEM",
            "socket": b"SOCK",
        },
    )
    proc, report = run_fuzz(tmp_path, THIS, "--time", "20", "--", "-timeout=2")
    assert proc.returncode == 1, proc.stderr
    findings = {f["kind"]: f for f in report["findings"]}
    assert set(findings) == {"crash", "timeout", "oom", "sandbox"}, proc.stderr
    crash = findings["crash"]
    assert crash["exception"] == "ValueError" and crash["count"] == 2
    assert crash["frames"][0] == "tests/fuzz/test_runner.py:_planted_bug"
    assert crash["minimized_size"] == 5 and crash["minimize"]["reproduced"]
    assert (Path(crash["directory"]) / "minimized").read_bytes() == b"CRASH"
    assert findings["oom"]["exception"] == "MemoryError"
    assert findings["sandbox"]["exception"] == "PermissionError"
    assert "tests/fuzz/test_runner.py:_dispatch" in findings["sandbox"]["frames"]
    assert findings["timeout"]["frames"][0] == "tests/fuzz/test_runner.py:_dispatch"
    assert sorted(report["new_findings"]) == sorted(f["id"] for f in findings.values())
    # The planted inputs left the corpus; the seeds stayed; the campaign went on.
    assert not any(
        p.read_bytes().startswith((b"CRASH", b"HANG", b"MEM", b"SOCK")) for p in corpus.iterdir()
    )
    assert report["targets"][THIS]["execs"] > 1000
    run_dir = Path(sorted((tmp_path / "runs").glob("*/report.json"))[-1]).parent
    assert (run_dir / "coverage.png").stat().st_size > 0
    assert (run_dir / "stats.jsonl").read_text().count("\n") >= 5
    assert "NEW" in proc.stdout

    # Resumed: the same dirs, the same bug planted again -- counted, not new.
    plant(tmp_path, THIS, {"crash-c": b"CRASH again"})
    proc, report = run_fuzz(tmp_path, THIS, "--time", "4")
    assert proc.returncode == 0, proc.stderr
    assert report["new_findings"] == []
    again = next(f for f in report["findings"] if f["kind"] == "crash")
    assert again["count"] == 3 and not again["new"]


def test_interrupt_saves_everything_and_exits_0(tmp_path: Path) -> None:
    needs_root()
    argv = [
        sys.executable,
        "-m",
        "ext4guard.fuzz.runner",
        THIS,
        "--time",
        "0",
        "--corpus",
        str(tmp_path / "corpus"),
        "--crashes",
        str(tmp_path / "crashes"),
        "--runs",
        str(tmp_path / "runs"),
        "--plain",
    ]
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        stats: list[Path] = []
        while time.monotonic() < deadline:
            stats = list((tmp_path / "runs").glob("*/stats.jsonl"))
            if stats and stats[0].stat().st_size > 0 and (tmp_path / "runs").glob("*/report.json"):
                break
            time.sleep(0.5)
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    report = json.loads(next((tmp_path / "runs").glob("*/report.json")).read_text())
    assert report["stopped_by"] == "SIGINT" and report["seconds"] == 0
    assert report["targets"][THIS]["execs"] > 0
    assert "Traceback" not in err


def test_real_target_contained_with_coverage(tmp_path: Path) -> None:
    """A short campaign on a record target with two workers: status lines parsed, coverage
    of the parser reported, one corpus grown and shared on disk, nothing found on the
    seeds."""
    needs_root()
    proc, report = run_fuzz(tmp_path, "superblock", "--time", "6", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    row = report["targets"]["superblock"]
    assert row["worker_runs"] == 2
    assert row["cov"] > 100 and row["exec_per_s"] > 50 and row["execs"] > 200
    corpus = tmp_path / "corpus" / "superblock"
    assert row["corpus"] == len(list(corpus.iterdir())) >= 10
    assert report["findings"] == []
    print(f"superblock: {row['exec_per_s']:.0f} exec/s, cov {row['cov']}")


# ----------------------------------------------------------------- ClusterFuzzLite files


def test_clusterfuzzlite_files() -> None:
    """The scale-out build files name every target the runner knows, and build.sh parses."""
    from ext4guard.fuzz.targets import TARGETS, options_file

    cfl = ROOT / ".clusterfuzzlite"
    assert (cfl / "project.yaml").read_text().count("language: python") == 1
    assert "FROM gcr.io/oss-fuzz-base/base-builder-python" in (cfl / "Dockerfile").read_text()
    build = (cfl / "build.sh").read_text()
    subprocess.run(["bash", "-n", str(cfl / "build.sh")], check=True)
    assert "compile_python_fuzzer" in build and "TARGETS" in build
    for name in TARGETS:  # build.sh copies each options file and appends the dictionary
        text = options_file(name).read_text()
        assert text.startswith("[libfuzzer]") and text.endswith("\n"), name


# ---------------------------------------------------------------------- known (open) bugs


def test_open_regressions_give_the_known_signatures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An entry whose sidecar lists xfail_targets (an open bug) is replayed through those
    targets and its signature printed, so that a campaign counts it as known; fixed entries
    are not replayed."""
    from ext4guard.fuzz import worker
    from ext4guard.fuzz.targets import walk

    real = walk.test_one_input

    def walk_with_open_bug(data: bytes) -> None:
        if data[0] == 0xFF:  # the boot sector's first byte: only the planted entry has it
            _planted_bug(data)
        real(data)

    monkeypatch.setattr(walk, "test_one_input", walk_with_open_bug)
    for name, sidecar in (("open", {"xfail_targets": ["walk"]}), ("fixed", {})):
        (tmp_path / f"{name}.patch.json").write_text(
            json.dumps({"seed": "ext4_1k", "patch": {"0": "ff"}})
        )
        (tmp_path / f"{name}.json").write_text(json.dumps({"bug": "b", "call": "c", **sidecar}))
    assert worker.run_known(["--dir", str(tmp_path), "--no-sandbox"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        {
            "entry": "open",
            "target": "walk",
            "signature": {
                "kind": "crash",
                "exception": "ValueError",
                "frames": [
                    "tests/fuzz/test_runner.py:_planted_bug",
                    "tests/fuzz/test_runner.py:walk_with_open_bug",
                ],
            },
        }
    ]
