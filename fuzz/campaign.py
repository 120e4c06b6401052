"""What a campaign is made of, apart from the processes: the fuzzing sandbox profile, the
workers' status lines, stack signatures of findings, the crash store, and the schedule.

Nothing here runs the parser. The runner (fuzz/runner.py) reads the workers' stderr and
their artifacts; the workers (fuzz/worker.py) are the only processes that touch inputs.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ext4guard.server.sandbox import Profile

ROOT = Path(__file__).resolve().parent.parent
#: Where campaigns keep their state unless told otherwise (git-ignored: build/).
DEFAULT_HOME = ROOT / "build" / "fuzz"

#: The workers' own status line on stderr (libFuzzer's lines start with "#<number>").
STAT_PREFIX = "#ext4guard"
#: A worker's exit status when it could not contain itself (sysexits' EX_OSERR).
WORKER_NO_CONTAINMENT = 71

#: Syscalls a contained atheris worker needs beyond the parser's allowlist (found with
#: strace -f over a contained worker, each failing with EPERM without its entry):
#: - setitimer: libFuzzer's -timeout arms SIGALRM with it;
#: - memfd_create: the targets hand the parser an in-memory image file (fuzz/memimage.py);
#: - newfstatat (any flags), statx: libFuzzer stats the corpus dir and its files by path
#:   (only the writable dirs exist in the empty root, and landlock confines them);
#: - getcwd: libFuzzer's start-up.
FUZZ_SYSCALLS = ("setitimer", "memfd_create", "stat", "lstat", "newfstatat", "statx", "getcwd")

#: RLIMIT_AS of a worker: its address space is 120 MiB (record targets) to 270 MiB (check)
#: while fuzzing, measured; the rest is headroom for inputs. Past it, an allocation raises
#: MemoryError inside the input that made it (a finding with a stack, deduplicated as such).
DEFAULT_MEMORY_MIB = 2048


def memfds() -> list[int]:
    """The calling process's open memfds (fuzz/memimage.py's images), by fd number."""
    out = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{name}").startswith("/memfd:"):
                out.append(int(name))
        except OSError:
            continue  # the fd listing itself, closed meanwhile
    return sorted(out)


def hand_over(directories: Iterable[Path], profile: Profile) -> None:
    """Make the writable dirs the contained process's own: as root the worker drops to the
    profile's uid (65534), which may not write into directories root created. Unprivileged,
    the user namespace maps that uid to the caller, who owns them already."""
    if os.geteuid() != 0:
        return
    for directory in directories:
        os.chown(directory, profile.uid, profile.gid)
        os.chmod(directory, 0o700)


def fuzz_profile(
    *,
    writable_dirs: Sequence[str],
    seconds: int,
    memory_mib: int = 0,
    max_file_size: int = 64 << 20,
    memfds: Iterable[int] = (),
) -> Profile:
    """The fuzzing profile: the parser's sandbox plus write access beneath the corpus and
    crash dirs, regular files up to `max_file_size` (corpus entries, artifacts, the memfd
    images), an address-space limit and a CPU limit a little above the run's length.
    `memfds` are the in-memory seed images the target made before containment (record
    targets splice each input into one and put the seed's bytes back): kept, writable."""
    kept = frozenset({1, 2, *memfds})
    return Profile(
        keep_fds=kept,
        write_fds=kept,
        memory_limit=(memory_mib or DEFAULT_MEMORY_MIB) << 20,
        cpu_seconds=max(1, seconds) + 60,
        extra_syscalls=FUZZ_SYSCALLS,
        writable_dirs=tuple(writable_dirs),
        max_file_size=max_file_size,
        extra_fds=16,  # the memfd of each input, corpus files and artifacts being written
    )


# ------------------------------------------------------------------------- status lines

_LIBFUZZER = re.compile(
    r"^#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)"
    r"(?:.*?exec/s: (\d+))?(?:.*?rss: (\d+)Mb)?"
)
_OURS = re.compile(r"^#ext4guard execs=(\d+)$")


@dataclass(slots=True)
class WorkerStatus:
    """What one worker has said so far."""

    execs: int = 0  # inputs run (our counter, including the initial corpus)
    cov: int = 0  # libFuzzer's edge coverage of the instrumented parser
    ft: int = 0  # libFuzzer's features
    corpus: int = 0  # inputs in libFuzzer's in-memory corpus
    rss_mb: int = 0
    inited: bool = False  # past the initial corpus
    contained: str = ""  # the worker's containment line

    def feed(self, line: str) -> bool:
        """Update from one stderr line; True when it was a status line."""
        m = _OURS.match(line)
        if m:
            self.execs = int(m.group(1))
            return True
        m = _LIBFUZZER.match(line)
        if m:
            self.cov, self.ft, self.corpus = int(m.group(3)), int(m.group(4)), int(m.group(5))
            if m.group(8):
                self.rss_mb = int(m.group(8))
            self.inited = self.inited or m.group(2) in ("INITED", "NEW", "REDUCE", "DONE")
            self.execs = max(self.execs, int(m.group(1)))
            return True
        if line.startswith(f"{STAT_PREFIX} contained"):
            self.contained = line[len(STAT_PREFIX) + 1 :]
            return True
        return False


# --------------------------------------------------------------------------- signatures

#: Findings are told apart by kind, exception type and the innermost project frames.
SIGNATURE_FRAMES = 3
_PROJECT_DIRS = ("parser/", "fuzz/", "server/")
_WRAPPER = "fuzz/worker.py"


@dataclass(frozen=True, slots=True)
class Signature:
    """A finding's identity: its kind (`crash`: an exception other than Ext4Error;
    `sandbox`: the sandbox refused something (EPERM/EACCES, SIGSYS); `timeout`; `oom`:
    MemoryError or a memory limit; `signal`: a deadly signal without a Python exception),
    the exception (type name or libFuzzer's error) and up to SIGNATURE_FRAMES innermost
    frames, `path:function`, project frames preferred."""

    kind: str
    exception: str
    frames: tuple[str, ...]

    @property
    def id(self) -> str:
        text = "|".join((self.kind, self.exception, *self.frames))
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "exception": self.exception, "frames": list(self.frames)}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Signature:
        return cls(str(doc["kind"]), str(doc["exception"]), tuple(map(str, doc["frames"])))

    def line(self) -> str:
        where = self.frames[0] if self.frames else "?"
        return f"{self.kind}: {self.exception} at {where}"


def _frame_name(filename: str, function: str) -> str:
    root = str(ROOT) + "/"
    path = filename[len(root) :] if filename.startswith(root) else filename.rsplit("/", 1)[-1]
    return f"{path}:{function}"


def pick_frames(frames: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The signature frames from (filename, function) pairs, innermost first."""
    names = [_frame_name(f, fn) for f, fn in frames]
    names = [n for n in names if not n.startswith(_WRAPPER) and not n.endswith(":<module>")]
    project = [n for n in names if n.startswith(_PROJECT_DIRS)]
    return tuple((project or names)[:SIGNATURE_FRAMES])


def _kind_of_exception(type_name: str, message: str) -> str:
    short = type_name.rsplit(".", 1)[-1]
    if short == "MemoryError":
        return "oom"
    if short == "PermissionError":
        return "sandbox"
    if short == "OSError" and re.match(rf"\[Errno ({errno.EPERM}|{errno.EACCES})\]", message):
        return "sandbox"
    return "crash"


def _exception_name(exc: BaseException) -> str:
    kind = type(exc)
    name, module = kind.__qualname__, kind.__module__
    return name if module in ("builtins", "__main__") else f"{module}.{name}"


def signature_of(exc: BaseException) -> Signature:
    """The signature of an exception caught in-process (the minimizer)."""
    tb = exc.__traceback__
    frames: list[tuple[str, str]] = []
    while tb is not None:
        frames.append((tb.tb_frame.f_code.co_filename, tb.tb_frame.f_code.co_name))
        tb = tb.tb_next
    name = _exception_name(exc)
    return Signature(_kind_of_exception(name, str(exc)), name, pick_frames(reversed(frames)))


_TB_FRAME = re.compile(r'^\s+File "([^"]+)", line \d+, in (\S+)')
_DUMP_FRAME = re.compile(r'^\s+File "([^"]+)", line \d+ in (\S+)')
_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s?(.*))?$")


def signature_from_output(lines: Sequence[str], exit_signal: int | None = None) -> Signature:
    """The signature of a worker's failure from the tail of its stderr (atheris prints the
    uncaught exception with its traceback, a timeout with the Python stack at the alarm)."""
    banner = _index(lines, "=== Uncaught Python exception: ===")
    if banner is not None:
        m = _EXC_LINE.match(lines[banner + 1].strip()) if banner + 1 < len(lines) else None
        name, message = (m.group(1), m.group(2) or "") if m else ("exception", "")
        start = _last_index(lines, "Traceback (most recent call last):", banner)
        frames: list[tuple[str, str]] = []
        for line in lines[start or banner :]:
            if "ERROR: libFuzzer" in line:
                break
            fm = _TB_FRAME.match(line)
            if fm:
                frames.append((fm.group(1), fm.group(2)))
        return Signature(_kind_of_exception(name, message), name, pick_frames(reversed(frames)))
    timeout = _index(lines, "=== Timeout:")
    if timeout is not None or any("libFuzzer: timeout" in line for line in lines):
        frames = []
        for line in lines[timeout or 0 :]:
            fm = _DUMP_FRAME.match(line)
            if fm:
                frames.append((fm.group(1), fm.group(2)))
            elif frames:
                break  # only the first thread's stack (the fuzzing thread)
        return Signature("timeout", "timeout", pick_frames(frames))
    for line in lines:
        if "libFuzzer: out-of-memory" in line or "libFuzzer: malloc(" in line:
            return Signature("oom", "out-of-memory", ())
        if "libFuzzer: file-size-limit-exceeded" in line:
            return Signature("sandbox", "file-size-limit-exceeded", ())
        if "libFuzzer: deadly signal" in line:
            return Signature("signal", "deadly signal", ())
    if exit_signal is not None:
        import signal as _signal

        name = _signal.Signals(exit_signal).name if exit_signal in _signals() else str(exit_signal)
        kind = "sandbox" if name == "SIGSYS" else "oom" if name == "SIGKILL" else "signal"
        return Signature(kind, f"killed by {name}", ())
    return Signature("signal", "worker died", ())


def _signals() -> set[int]:
    import signal as _signal

    return {int(s) for s in _signal.Signals}


def _index(lines: Sequence[str], needle: str) -> int | None:
    for i, line in enumerate(lines):
        if needle in line:
            return i
    return None


def _last_index(lines: Sequence[str], needle: str, before: int) -> int | None:
    """The last line holding `needle` before line `before` (the chained exceptions' last)."""
    found = None
    for i, line in enumerate(lines[:before]):
        if needle in line:
            found = i
    return found


# --------------------------------------------------------------------------- crash store

#: libFuzzer's artifact names: "<kind>-<sha1 of the input>".
ARTIFACT = re.compile(r"^(crash|timeout|oom|leak|slow-unit|minimized-from)-([0-9a-f]{40})$")


@dataclass(slots=True)
class Finding:
    """One deduplicated finding: its signature, where it is kept, how often it was hit."""

    signature: Signature
    target: str
    directory: Path
    first_seen: float
    count: int = 1
    new: bool = True  # found in this run (not loaded from an earlier run)
    input_name: str = ""  # the first input that hit it (in `directory`)
    input_size: int = 0
    minimized_size: int | None = None
    minimize: dict[str, Any] = field(default_factory=dict)
    output: list[str] = field(default_factory=list)  # the worker's stderr tail

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.signature.id,
            "target": self.target,
            **self.signature.as_json(),
            "directory": str(self.directory),
            "first_seen": self.first_seen,
            "count": self.count,
            "new": self.new,
            "input": self.input_name,
            "input_size": self.input_size,
            "minimized_size": self.minimized_size,
            "minimize": self.minimize,
        }


class CrashStore:
    """The crash dir: one subdirectory per signature, `<kind>-<target>-<id>/`, holding the
    first input that hit it, `minimized` and `reproducer.patch.json` when minimized, and
    `finding.json` (the signature, counts, the worker's output). Loading an existing dir
    makes a campaign resumable: known signatures are counted, not stored again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.findings: dict[tuple[str, str], Finding] = {}
        root.mkdir(parents=True, exist_ok=True)
        for doc_path in sorted(root.glob("*/finding.json")):
            try:
                doc = json.loads(doc_path.read_text())
                sig = Signature.from_json(doc)
                finding = Finding(
                    sig,
                    str(doc["target"]),
                    doc_path.parent,
                    float(doc["first_seen"]),
                    int(doc["count"]),
                    new=False,
                    input_name=str(doc.get("input", "")),
                    input_size=int(doc.get("input_size", 0)),
                    minimized_size=doc.get("minimized_size"),
                    minimize=dict(doc.get("minimize") or {}),
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue  # not ours or damaged: left alone
            self.findings[(finding.target, sig.id)] = finding

    def add(
        self, target: str, sig: Signature, artifact: Path | None, output: Sequence[str]
    ) -> tuple[Finding, bool]:
        """Record one hit; returns the finding and whether its signature is new. The artifact
        is moved into the finding's dir when new, deleted when known."""
        key = (target, sig.id)
        known = self.findings.get(key)
        if known is not None:
            known.count += 1
            if artifact is not None:
                artifact.unlink(missing_ok=True)
            self.save(known)
            return known, False
        directory = self.root / f"{sig.kind}-{target}-{sig.id}"
        directory.mkdir(parents=True, exist_ok=True)
        finding = Finding(sig, target, directory, time.time(), output=list(output)[-200:])
        if artifact is not None and artifact.is_file():
            finding.input_name = artifact.name
            finding.input_size = artifact.stat().st_size
            shutil.move(str(artifact), directory / artifact.name)
        self.findings[key] = finding
        self.save(finding)
        return finding, True

    def save(self, finding: Finding) -> None:
        doc = finding.as_json()
        if finding.output:
            doc["output"] = finding.output
        else:
            old = finding.directory / "finding.json"
            if old.is_file():
                with contextlib.suppress(OSError, ValueError):
                    doc["output"] = json.loads(old.read_text()).get("output", [])
        tmp = finding.directory / "finding.json.tmp"
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
        tmp.replace(finding.directory / "finding.json")

    def new_findings(self) -> list[Finding]:
        return [f for f in self.findings.values() if f.new]


# ----------------------------------------------------------------------------- schedule


def plan_slots(targets: Sequence[str], jobs: int) -> list[list[str]]:
    """Which targets each of `jobs` worker slots runs, one after the other: with at least as
    many targets as slots they are dealt out round-robin; with fewer, slots share targets
    (several workers on one target share its corpus, as libFuzzer's -jobs does)."""
    if not targets:
        return []
    if len(targets) >= jobs:
        return [list(targets[i::jobs]) for i in range(jobs)]
    return [[targets[i % len(targets)]] for i in range(jobs)]
