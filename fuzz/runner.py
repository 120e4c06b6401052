"""`ext4guard fuzz`: a fuzzing campaign, one command.

    ext4guard fuzz [TARGET|all ...] [--jobs N] [--time S] [--corpus DIR] [--crashes DIR]
                   [--runs DIR] [--plain] [--list] [-- libFuzzer flags]

(also `python -m ext4guard.fuzz.runner ...`). Without arguments: every target, 30 seconds
in all, on the shipped seeds. The parent process parses nothing: it starts contained
workers (fuzz/worker.py: atheris/libFuzzer inside server/sandbox.py's fuzzing profile),
reads their status lines, collects their artifacts, deduplicates findings by stack
signature, has each new one minimized (by another contained worker), draws the live
display and writes the report.

- Workers: `--jobs N` worker processes (default 1). libFuzzer's own -fork/-jobs modes start
  processes by exec, which the sandbox forbids; N contained workers sharing a corpus dir are
  the same thing (each rereads the dir for the others' finds). With more targets than jobs,
  each worker slot runs its share of the targets one after the other, splitting the time.
- State, resumable across runs (default under build/fuzz/, git-ignored): `--corpus DIR`
  holds one subdirectory per target (seeded with the target's initial inputs); `--crashes
  DIR` one subdirectory per finding (see campaign.CrashStore); `--runs DIR` one
  subdirectory per campaign with report.json, stats.jsonl and coverage.png.
- `--time 0` runs until SIGINT/SIGTERM (targets rotate every 10 minutes when a worker has
  several); everything is saved as it goes; an interrupt stops the workers, writes the
  report and exits like a campaign that ran out of time.
- Exit status: 0 nothing new found, 1 new findings (kept in the crash dir), 2 could not run
  (bad arguments, a worker that could not contain itself).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

from .campaign import (
    ARTIFACT,
    DEFAULT_HOME,
    WORKER_NO_CONTAINMENT,
    CrashStore,
    Finding,
    Signature,
    WorkerStatus,
    plan_slots,
    signature_from_output,
)
from .report import Sample, write_json, write_plot

#: The default campaign (no arguments, `make demo`): every target, this many seconds in all.
DEFAULT_SECONDS = 30
#: With --time 0, a worker slot with several targets moves to the next one this often.
ROTATE_SECONDS = 600
#: A single-target slot under --time 0 restarts its worker this often (bounded CPU limit).
CONTINUOUS_CHUNK = 3600
MINIMIZE_BUDGET = 20.0
#: A worker silent for this long past its target's -timeout is stuck in a way libFuzzer's
#: alarm did not catch: killed, and kept as a hang.
SILENCE_GRACE = 60.0
#: Crashes in one segment after which the slot moves on (a target failing at once).
MAX_CRASHES_PER_SEGMENT = 25
TAIL_LINES = 400
SAMPLE_EVERY = 1.0
SAVE_EVERY = 10.0


class UsageError(Exception):
    """Bad arguments: one line, exit 2."""


class CannotRun(Exception):
    """The campaign cannot go on (a worker could not contain itself): one line, exit 2."""


@dataclass(frozen=True, slots=True)
class Settings:
    targets: tuple[str, ...]
    jobs: int
    seconds: int  # 0: until interrupted
    corpus_root: Path
    crash_root: Path
    runs_root: Path
    live: bool
    libfuzzer_flags: tuple[str, ...] = ()
    minimize_budget: float = MINIMIZE_BUDGET
    rotate_seconds: int = ROTATE_SECONDS


# ------------------------------------------------------------------------------ workers


def _worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ext4guard.fuzz.worker", *args]


class Worker:
    """One worker process (fuzz, minimize or known) and what it has printed."""

    def __init__(self, kind: str, target: str, argv: list[str], scratch: Path | None) -> None:
        self.kind = kind
        self.target = target
        self.scratch = scratch
        self.started = time.monotonic()
        self.last_output = self.started
        self.status = WorkerStatus()
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.results: list[str] = []  # JSON lines (minimize, known)
        self.finding: Finding | None = None  # what a minimizer works on
        self.interrupted = False  # stopped by the runner: its exit status is no finding
        self.silent = False  # killed by the runner's watchdog: a hang libFuzzer missed
        self._partial = b""
        # Its own session: a terminal's ^C reaches the parent only, which stops the workers
        # in order (and keeps what they were doing).
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        self.pipe: IO[bytes] = self.proc.stdout
        os.set_blocking(self.pipe.fileno(), False)
        # Steady-state rate: execs and time at the worker's first counter line.
        self.first_count: tuple[float, int] | None = None
        self.last_count: tuple[float, int] | None = None

    def read(self) -> bool:
        """Take what the pipe holds; False at end of file."""
        try:
            chunk = self.pipe.read(1 << 16)
        except BlockingIOError:
            return True
        if not chunk:
            if self._partial:
                self._line(self._partial)
                self._partial = b""
            return False
        self.last_output = time.monotonic()
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        if len(self._partial) > 1 << 16:  # a runaway line: cut, never unbounded
            lines.append(self._partial[:4096])
            self._partial = b""
        for raw in lines:
            self._line(raw)
        return True

    def _line(self, raw: bytes) -> None:
        line = raw[:4096].decode("utf-8", "replace").rstrip("\r")
        if line.startswith("INFO: Instrumenting"):
            return
        before = self.status.execs
        if self.status.feed(line):
            if line.startswith("#ext4guard execs=") and self.status.execs != before:
                now = time.monotonic()
                if self.first_count is None:
                    self.first_count = (now, self.status.execs)
                self.last_count = (now, self.status.execs)
            return
        if line.startswith("{") and self.kind != "fuzz":
            self.results.append(line)
        self.tail.append(line)

    def steady(self) -> tuple[float, int]:
        """(seconds, execs) between its first and last counter lines."""
        if self.first_count is None or self.last_count is None:
            return 0.0, 0
        return (
            self.last_count[0] - self.first_count[0],
            self.last_count[1] - self.first_count[1],
        )

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(sig)

    def interrupt(self) -> None:
        """Ask it to stop (libFuzzer writes its final stats and exits)."""
        self.interrupted = True
        self.signal(signal.SIGINT)

    def exit_signal(self) -> int | None:
        code = self.proc.returncode
        return -code if code is not None and code < 0 else None


# --------------------------------------------------------------------------- per target


@dataclass(slots=True)
class TargetState:
    """What the display and report say about one target."""

    name: str
    execs_done: int = 0  # execs of finished workers
    steady_seconds: float = 0.0  # counter-line time of finished workers
    steady_execs: int = 0
    cov: int = 0
    ft: int = 0
    corpus: int = 0
    findings: int = 0
    hits: int = 0
    workers: int = 0  # running now
    runs: int = 0  # worker processes started
    state: str = "waiting"
    last_execs: int = 0
    last_sample: float = 0.0
    rate: float = 0.0

    def execs(self, running: Sequence[Worker]) -> int:
        return self.execs_done + sum(w.status.execs for w in running)

    def average_rate(self, running: Sequence[Worker]) -> float | None:
        """Execs per second between libFuzzer's counter lines; None when a segment was too
        short to print two of them (a slow target in a short campaign)."""
        seconds, execs = self.steady_seconds, self.steady_execs
        for w in running:
            s, e = w.steady()
            seconds, execs = seconds + s, execs + e
        return execs / seconds if seconds > 0 else None


@dataclass(slots=True)
class Slot:
    """One of the --jobs worker slots: its targets, in turn."""

    index: int
    targets: list[str]
    position: int = 0
    segment_end: float = 0.0
    worker: Worker | None = None
    minimizer: Worker | None = None
    to_minimize: list[Finding] = field(default_factory=list)
    crashes: int = 0
    done: bool = False

    @property
    def target(self) -> str:
        return self.targets[self.position % len(self.targets)]


# ------------------------------------------------------------------------------ campaign


class Campaign:
    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.start = time.monotonic()
        self.wall_start = time.time()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.wall_start))
        self.run_dir = settings.runs_root / stamp
        suffix = 1
        while self.run_dir.exists():
            suffix += 1
            self.run_dir = settings.runs_root / f"{stamp}-{suffix}"
        self.run_dir.mkdir(parents=True)
        self.store = CrashStore(settings.crash_root)
        self.known: dict[tuple[str, str, tuple[str, ...]], str] = {}
        self.targets = {name: TargetState(name) for name in settings.targets}
        for name in settings.targets:
            (settings.corpus_root / name).mkdir(parents=True, exist_ok=True)
            self.targets[name].findings = sum(1 for t, _ in self.store.findings if t == name)
        self.samples: list[Sample] = []
        self.slots = [
            Slot(i, plan) for i, plan in enumerate(plan_slots(settings.targets, settings.jobs))
        ]
        self.stop_requested = False
        self.stop_reason = ""
        self.selector = selectors.DefaultSelector()
        self.events: collections.deque[str] = collections.deque(maxlen=6)
        self.stats_file = (self.run_dir / "stats.jsonl").open("a")
        self.last_sample = 0.0
        self.last_save = 0.0
        self.last_corpus_count = 0.0

    # -- time

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def deadline(self) -> float | None:
        return self.start + self.s.seconds if self.s.seconds else None

    def _segment_length(self, slot: Slot) -> float:
        if self.s.seconds:
            return self.s.seconds / len(slot.targets)
        return float(self.s.rotate_seconds if len(slot.targets) > 1 else CONTINUOUS_CHUNK)

    # -- known findings

    def load_known(self) -> None:
        """Signatures of corpus/regressions entries that still fail (open bugs): hitting one
        again is not a new finding."""
        worker = Worker("known", "", _worker_command("known"), None)
        deadline = time.monotonic() + 120
        while worker.read():
            if time.monotonic() > deadline:
                worker.signal(signal.SIGKILL)
                break
            time.sleep(0.05)
        worker.proc.wait()
        if worker.proc.returncode == WORKER_NO_CONTAINMENT:
            raise CannotRun(
                _last_line(worker.tail) or "the regression replay could not be contained"
            )
        for line in worker.results:
            try:
                doc = json.loads(line)
                sig = Signature.from_json(doc["signature"])
            except (ValueError, KeyError, TypeError):
                continue
            self.known[(sig.kind, sig.exception, sig.frames)] = str(doc.get("entry", ""))

    # -- workers

    def _register(self, worker: Worker, slot: Slot) -> None:
        self.selector.register(worker.pipe, selectors.EVENT_READ, (slot, worker))

    def _start_fuzzer(self, slot: Slot, now: float) -> None:
        target = slot.target
        remaining = int(slot.segment_end - now)
        if remaining < 2:
            self._next_segment(slot, now)
            return
        scratch = self.s.crash_root / ".incoming" / f"slot{slot.index}"
        scratch.mkdir(parents=True, exist_ok=True)
        argv = _worker_command(
            "fuzz",
            target,
            "--corpus",
            str(self.s.corpus_root / target),
            "--scratch",
            str(scratch),
            "--time",
            str(remaining - 1),  # its start-up takes about a second
            *self.s.libfuzzer_flags,
        )
        slot.worker = Worker("fuzz", target, argv, scratch)
        self._register(slot.worker, slot)
        state = self.targets[target]
        state.runs += 1
        state.workers += 1
        state.state = "fuzzing"

    def _next_segment(self, slot: Slot, now: float) -> None:
        finished = slot.target
        slot.position += 1
        slot.crashes = 0
        if self.s.seconds and slot.position >= len(slot.targets):
            slot.done = True
        else:
            slot.segment_end = now + self._segment_length(slot)
        if self.s.seconds and not any(
            finished in s.targets[s.position :] and not s.done for s in self.slots
        ):
            self.targets[finished].state = "done"

    def _start_minimizer(self, slot: Slot, finding: Finding) -> None:
        argv = _worker_command(
            "minimize",
            finding.target,
            "--dir",
            str(finding.directory),
            "--input",
            finding.input_name,
            "--budget",
            str(self.s.minimize_budget),
        )
        slot.minimizer = Worker("minimize", finding.target, argv, None)
        slot.minimizer.finding = finding
        self._register(slot.minimizer, slot)
        self.targets[finding.target].state = "minimizing"

    def _finish(self, slot: Slot, worker: Worker) -> None:
        """A worker ended: account for it, then collect what it left."""
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(worker.pipe)
        while worker.read():
            pass
        worker.proc.wait()
        worker.pipe.close()
        if worker.kind == "minimize":
            slot.minimizer = None
            self._minimized(worker)
            return
        slot.worker = None
        state = self.targets[worker.target]
        state.workers -= 1
        state.execs_done += worker.status.execs
        seconds, execs = worker.steady()
        state.steady_seconds += seconds
        state.steady_execs += execs
        if state.state != "done":
            state.state = "waiting"
        if worker.proc.returncode == WORKER_NO_CONTAINMENT:
            raise CannotRun(_last_line(worker.tail) or "a worker could not contain itself")
        self._collect(slot, worker)

    def _collect(self, slot: Slot, worker: Worker) -> None:
        assert worker.scratch is not None
        artifacts = sorted(
            p for p in worker.scratch.iterdir() if ARTIFACT.match(p.name) and p.is_file()
        )
        failed = worker.proc.returncode != 0 or artifacts
        if not failed or (worker.interrupted and not artifacts):
            return  # ran its time, or stopped by us
        sig = signature_from_output(list(worker.tail), worker.exit_signal())
        if worker.silent and not artifacts:
            sig = Signature("timeout", "silent worker killed", ())
        artifact = artifacts[0] if artifacts else None
        for extra in artifacts[1:]:
            extra.unlink(missing_ok=True)
        if artifact is not None:
            # A corpus input that fails would fail every restart: it leaves the corpus.
            self._drop_from_corpus(worker.target, artifact, worker.status.inited)
        finding, new = self.store.add(worker.target, sig, artifact, list(worker.tail))
        state = self.targets[worker.target]
        state.hits += 1
        slot.crashes += 1
        if new:
            state.findings += 1
            known = self.known.get((sig.kind, sig.exception, sig.frames))
            if known is not None:
                finding.new = False
                finding.minimize["known_regression"] = known
                self.store.save(finding)
            self._event(f"{'known' if known else 'NEW'} {worker.target}: {sig.line()}")
            if finding.input_name and sig.kind in ("crash", "sandbox", "oom"):
                slot.to_minimize.append(finding)
        if slot.crashes >= MAX_CRASHES_PER_SEGMENT:
            self._event(f"{worker.target}: {slot.crashes} failures, moving on")
            slot.segment_end = time.monotonic()

    def _drop_from_corpus(self, target: str, artifact: Path, inited: bool) -> None:
        corpus = self.s.corpus_root / target
        digest = artifact.name.split("-", 1)[1]
        (corpus / digest).unlink(missing_ok=True)
        if inited:
            return
        # Failed while loading the corpus: the input may sit there under another name (a
        # corpus copied in by hand). Compared as bytes, never interpreted.
        data = artifact.read_bytes()
        for entry in os.scandir(corpus):
            if entry.is_file() and entry.stat().st_size == len(data):
                path = Path(entry.path)
                if path.read_bytes() == data:
                    path.unlink(missing_ok=True)

    def _minimized(self, worker: Worker) -> None:
        finding = worker.finding
        if finding is None:
            return
        doc: dict[str, Any] = {}
        for line in reversed(worker.results):
            with contextlib.suppress(ValueError):
                parsed = json.loads(line)
                if isinstance(parsed, dict):
                    doc = parsed
                    break
        if not doc:
            doc = {"error": _last_line(worker.tail) or f"minimizer exit {worker.proc.returncode}"}
        finding.minimize.update({k: v for k, v in doc.items() if k != "signature"})
        size = doc.get("minimized_size")
        finding.minimized_size = size if isinstance(size, int) else None
        self.store.save(finding)
        if self.targets[finding.target].state == "minimizing":
            self.targets[finding.target].state = "waiting"

    def _event(self, text: str) -> None:
        stamp = _clock(self.elapsed())
        self.events.append(f"{stamp} {text}")
        if not self.s.live:
            print(f"ext4guard fuzz: {stamp} {text}", file=sys.stderr, flush=True)

    # -- the loop

    def step(self) -> None:
        now = time.monotonic()
        deadline = self.deadline()
        for slot in self.slots:
            if slot.done or self.stop_requested:
                continue
            if slot.worker is None and slot.minimizer is None:
                if slot.to_minimize:
                    self._start_minimizer(slot, slot.to_minimize.pop(0))
                elif now < slot.segment_end:
                    self._start_fuzzer(slot, now)
                else:
                    self._next_segment(slot, now)
            elif slot.worker is not None:
                if now > slot.segment_end + 1 and not slot.worker.interrupted:
                    slot.worker.interrupt()  # past its time: libFuzzer stops at once
                if now - slot.worker.last_output > SILENCE_GRACE + 30:
                    self._event(f"{slot.worker.target}: worker silent, killed")
                    slot.worker.silent = True
                    slot.worker.signal(signal.SIGKILL)
            if slot.minimizer is not None and now - slot.minimizer.started > (
                self.s.minimize_budget + 60
            ):
                slot.minimizer.signal(signal.SIGKILL)
        if deadline is not None and now > deadline + 30:
            self.request_stop("time")
        self._pump()
        if now - self.last_corpus_count >= 2.0:
            self.count_corpus(now)
        if now - self.last_sample >= SAMPLE_EVERY:
            self.sample(now)
        if now - self.last_save >= SAVE_EVERY:
            self.save()

    def count_corpus(self, now: float) -> None:
        self.last_corpus_count = now
        for name, state in self.targets.items():
            with contextlib.suppress(OSError):
                state.corpus = sum(1 for _ in os.scandir(self.s.corpus_root / name))

    def running(self, target: str) -> list[Worker]:
        return [s.worker for s in self.slots if s.worker is not None and s.worker.target == target]

    def sample(self, now: float) -> None:
        interval = now - self.last_sample if self.last_sample else 0.0
        self.last_sample = now
        t = round(now - self.start, 2)
        for name, state in self.targets.items():
            workers = self.running(name)
            execs = state.execs(workers)
            if workers:
                state.cov = max(state.cov, *(w.status.cov for w in workers))
                state.ft = max(state.ft, *(w.status.ft for w in workers))
            state.rate = (execs - state.last_execs) / interval if interval > 0 else 0.0
            state.last_execs = execs
            if state.runs == 0:
                continue  # not started yet
            sample = Sample(
                t,
                name,
                execs,
                round(state.rate, 1),
                state.cov,
                state.ft,
                state.corpus,
                state.findings,
            )
            self.samples.append(sample)
            self.stats_file.write(json.dumps(asdict(sample)) + "\n")

    def request_stop(self, reason: str) -> None:
        if self.stop_requested:
            return
        self.stop_requested = True
        self.stop_reason = reason
        for slot in self.slots:
            for worker in (slot.worker, slot.minimizer):
                if worker is not None:
                    worker.interrupt()

    def finished(self) -> bool:
        busy = any(s.worker is not None or s.minimizer is not None for s in self.slots)
        if self.stop_requested:
            return not busy
        return not busy and all(s.done for s in self.slots)

    def drain(self, grace: float = 10.0) -> None:
        """After a stop: give workers `grace` seconds to exit, then kill them."""
        end = time.monotonic() + grace
        while not self.finished():
            if time.monotonic() > end:
                for slot in self.slots:
                    for worker in (slot.worker, slot.minimizer):
                        if worker is not None:
                            worker.interrupted = True
                            worker.signal(signal.SIGKILL)
            self._pump()

    def _pump(self) -> None:
        """Read what workers wrote (up to 0.2 s of waiting) and reap those that ended."""
        for key, _ in self.selector.select(timeout=0.2):
            slot, worker = key.data
            if not worker.read():
                self._finish(slot, worker)
        for slot in self.slots:
            for worker in (slot.worker, slot.minimizer):
                if worker is not None and worker.proc.poll() is not None:
                    self._finish(slot, worker)

    # -- output

    def summary(self) -> dict[str, Any]:
        targets = {}
        for name, state in self.targets.items():
            workers = self.running(name)
            rate = state.average_rate(workers)
            targets[name] = {
                "execs": state.execs(workers),
                "exec_per_s": None if rate is None else round(rate, 1),
                "cov": state.cov,
                "ft": state.ft,
                "corpus": state.corpus,
                "findings": state.findings,
                "hits": state.hits,
                "worker_runs": state.runs,
            }
        findings = [f.as_json() for f in self.store.findings.values()]
        return {
            "command": "ext4guard fuzz",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.wall_start)),
            "elapsed": round(self.elapsed(), 1),
            "seconds": self.s.seconds,
            "jobs": self.s.jobs,
            "stopped_by": self.stop_reason or "time",
            "corpus_root": str(self.s.corpus_root),
            "crash_root": str(self.s.crash_root),
            "libfuzzer_flags": list(self.s.libfuzzer_flags),
            "known_regressions": sorted(set(self.known.values())),
            "targets": targets,
            "findings": findings,
            "new_findings": [f["id"] for f in findings if f["new"]],
        }

    def save(self) -> None:
        self.last_save = time.monotonic()
        self.stats_file.flush()
        write_json(self.run_dir / "report.json", self.summary(), self.samples)

    def close(self) -> tuple[Path, Path | None]:
        self.count_corpus(time.monotonic())
        self.save()
        self.stats_file.close()
        plot = self.run_dir / "coverage.png"
        try:
            write_plot(plot, self.samples, f"ext4guard fuzz, {self.wall_start_text()}")
        except (OSError, ValueError, ImportError) as exc:
            self._event(f"no plot: {exc}")
            return self.run_dir / "report.json", None
        return self.run_dir / "report.json", plot

    def wall_start_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(self.wall_start))


def _last_line(lines: Sequence[str]) -> str:
    for line in reversed(lines):
        if line.strip():
            return line.strip().removeprefix("ext4guard-worker: ")
    return ""


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


# ------------------------------------------------------------------------------ display


def render(campaign: Campaign) -> Any:
    """The live display: one row per target, the totals and the latest events."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    total = campaign.s.seconds
    title = f"ext4guard fuzz  {_clock(campaign.elapsed())}"
    title += f" / {_clock(total)}" if total else " (until interrupted)"
    title += f"  jobs {campaign.s.jobs}"
    table = Table(title=title, title_justify="left", expand=False)
    for column in ("target", "state", "exec/s", "execs", "cov", "ft", "corpus", "findings"):
        table.add_column(column, justify="left" if column in ("target", "state") else "right")
    for name, state in campaign.targets.items():
        workers = campaign.running(name)
        live_cov = max((w.status.cov for w in workers), default=0)
        table.add_row(
            name,
            ("fuzzing" if workers else state.state)
            + (f" x{len(workers)}" if len(workers) > 1 else ""),
            f"{state.rate:,.0f}",
            f"{state.execs(workers):,}",
            f"{max(state.cov, live_cov):,}",
            f"{state.ft:,}",
            f"{state.corpus:,}",
            f"{state.findings}" + (f" ({state.hits} hits)" if state.hits else ""),
        )
    new = sum(1 for f in campaign.store.findings.values() if f.new)
    footer = Text(f"findings: {new} new, {len(campaign.store.findings) - new} earlier/known")
    events = Text("\n".join(campaign.events)) if campaign.events else Text("")
    return Group(table, footer, events)


def print_summary(campaign: Campaign, report: Path, plot: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    summary = campaign.summary()
    table = Table(title=f"ext4guard fuzz: {summary['elapsed']:.0f} s, jobs {campaign.s.jobs}")
    for column in ("target", "execs", "exec/s", "cov", "ft", "corpus", "findings"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for name, row in summary["targets"].items():
        table.add_row(
            name,
            f"{row['execs']:,}",
            "-" if row["exec_per_s"] is None else f"{row['exec_per_s']:,.0f}",
            str(row["cov"]),
            str(row["ft"]),
            str(row["corpus"]),
            str(row["findings"]),
        )
    console.print(table)
    for finding in campaign.store.findings.values():
        label = (
            "NEW"
            if finding.new
            else "known"
            if "known_regression" in finding.minimize
            else "earlier"
        )
        size = finding.input_size
        mini = (
            f", minimized {size} -> {finding.minimized_size} bytes"
            if finding.minimized_size is not None
            else ""
        )
        console.print(
            f"{label} {finding.target}: {finding.signature.line()} ({finding.directory}{mini})"
        )
    console.print(f"report: {report}")
    if plot is not None:
        console.print(f"plot: {plot}")


# ---------------------------------------------------------------------------------- CLI


def parse_args(argv: Sequence[str]) -> Settings | None:
    from .targets import TARGETS

    args = list(argv)
    libfuzzer_flags: list[str] = []
    if "--" in args:
        at = args.index("--")
        args, libfuzzer_flags = args[:at], args[at + 1 :]
    cli = argparse.ArgumentParser(
        prog="ext4guard fuzz",
        description="Run a fuzzing campaign against the parser (contained atheris workers).",
        epilog="Flags after -- go to libFuzzer (e.g. -- -timeout=10). "
        "Exit status: 0 nothing new found, 1 new findings, 2 could not run.",
    )
    cli.add_argument(
        "targets", nargs="*", metavar="TARGET", help="a target name or 'all' (default)"
    )
    cli.add_argument(
        "--jobs", "-j", type=int, default=1, metavar="N", help="worker processes (default 1)"
    )
    cli.add_argument(
        "--time",
        type=int,
        default=None,
        metavar="S",
        help=f"campaign length in seconds; 0 runs until interrupted (default {DEFAULT_SECONDS})",
    )
    home = DEFAULT_HOME.relative_to(DEFAULT_HOME.parent.parent)
    for name, holds in (
        ("corpus", "one subdirectory per target, kept between runs"),
        ("crashes", "one subdirectory per finding"),
        ("runs", "report.json, stats.jsonl, coverage.png per campaign"),
    ):
        cli.add_argument(
            f"--{name}",
            type=Path,
            default=DEFAULT_HOME / name,
            metavar="DIR",
            help=f"{holds} (default {home}/{name})",
        )
    cli.add_argument("--plain", action="store_true", help="no live display: one line per event")
    cli.add_argument("--list", action="store_true", help="list the targets and exit")
    try:
        ns = cli.parse_args(args)
    except SystemExit as exc:
        raise UsageError("") if exc.code else _Done() from None
    if ns.list:
        for name, module in TARGETS.items():
            print(f"{name:12} {module.DESCRIPTION}")
        return None
    names = ns.targets or ["all"]
    targets: list[str] = []
    for name in names:
        if name == "all":
            targets += [t for t in TARGETS if t not in targets]
        elif name in TARGETS or _is_module_target(name):
            if name not in targets:
                targets.append(name)
        else:
            raise UsageError(f"unknown target {name!r}; targets: all, {', '.join(TARGETS)}")
    seconds = DEFAULT_SECONDS if ns.time is None else ns.time
    if seconds < 0:
        raise UsageError("--time must be 0 (until interrupted) or a number of seconds")
    if not 1 <= ns.jobs <= 256:
        raise UsageError("--jobs must be between 1 and 256")
    for flag in libfuzzer_flags:
        if not flag.startswith("-") or flag.split("=")[0] in ("-fork", "-jobs", "-workers"):
            raise UsageError(f"libFuzzer flag {flag!r} not accepted (use --jobs for workers)")
    live = sys.stderr.isatty() and not ns.plain
    return Settings(
        tuple(targets),
        ns.jobs,
        seconds,
        ns.corpus.resolve(),
        ns.crashes.resolve(),
        ns.runs.resolve(),
        live,
        tuple(libfuzzer_flags),
    )


def _is_module_target(name: str) -> bool:
    """A dotted module name with the targets' interface (DESCRIPTION, test_one_input,
    seed_inputs, make_mutator): out-of-tree targets, and the runner's own tests."""
    import importlib.util

    try:
        return "." in name and importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


class _Done(Exception):
    """--help was printed."""


@contextlib.contextmanager
def _stop_on_signals(campaign: Campaign) -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        campaign.request_stop(signal.Signals(signum).name)

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, previous in old.items():
            signal.signal(sig, previous)


def run(settings: Settings) -> tuple[Campaign, Path, Path | None]:
    """Run one campaign to its end (time, or a signal); returns it and its report paths."""
    campaign = Campaign(settings)
    with _stop_on_signals(campaign):
        campaign.load_known()
        now = time.monotonic()
        for slot in campaign.slots:
            slot.segment_end = now + campaign._segment_length(slot)
        try:
            if settings.live:
                from rich.console import Console
                from rich.live import Live

                console = Console(stderr=True)
                with Live(render(campaign), console=console, refresh_per_second=2) as live:
                    while not campaign.finished():
                        campaign.step()
                        live.update(render(campaign))
                    campaign.drain()
                    live.update(render(campaign))
            else:
                while not campaign.finished():
                    campaign.step()
                campaign.drain()
        except CannotRun:
            campaign.request_stop("error")
            campaign.drain(grace=5)
            raise
    report, plot = campaign.close()
    return campaign, report, plot


def main(argv: list[str] | None = None) -> int:
    try:
        settings = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        if str(exc):
            print(f"ext4guard fuzz: {exc}", file=sys.stderr)
        return 2
    except _Done:
        return 0
    if settings is None:
        return 0
    try:
        campaign, report, plot = run(settings)
    except CannotRun as exc:
        print(f"ext4guard fuzz: cannot run: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ext4guard fuzz: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
        return 2
    print_summary(campaign, report, plot)
    return 1 if campaign.store.new_findings() else 0


if __name__ == "__main__":
    sys.exit(main())
