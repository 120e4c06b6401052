"""One contained fuzzing process: a libFuzzer (atheris) run or a crash minimization.

    python -m ext4guard.fuzz.worker fuzz TARGET --corpus DIR --scratch DIR --time S
                                    [--memory-mib M] [libFuzzer flags]
    python -m ext4guard.fuzz.worker minimize TARGET --dir DIR --input NAME [--budget S]

The campaign runner (fuzz/runner.py) starts these; people need not. Either mode does all
its imports and reads every file it needs first (the parser instrumented, the target's seed
images decompressed and located, the dictionary copied into the scratch dir), then contains
itself with server/sandbox.py's fuzzing profile (`fuzz_profile`) and only then touches an
input: a campaign's corpus and crashes are untrusted images like any other. After
containment the process holds stdout/stderr and the writable dirs (bind-mounted into an
empty root), nothing else.

`fuzz` runs libFuzzer on TARGET with the corpus DIR (seeded with the target's initial inputs
when they are missing), artifacts (crash-, timeout-, oom-) written into the scratch dir, and
prints one line `#ext4guard execs=N` every second on stderr next to libFuzzer's own status
lines. `minimize` reproduces DIR/NAME in-process and shrinks it toward the seed it came
from, keeping the same stack signature; it writes DIR/minimized, DIR/reproducer.patch.json
(the corpus/regressions format) and prints one JSON line with what it did.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from ext4guard.server.sandbox import SandboxError, contain

from .campaign import (
    STAT_PREFIX,
    WORKER_NO_CONTAINMENT,
    Signature,
    fuzz_profile,
    hand_over,
    memfds,
    signature_of,
)
from .libfuzzer import DICTIONARY, excluded_modules, libfuzzer_options, write_seeds

if TYPE_CHECKING:  # importing it would import the parser before it is instrumented
    from .regressions import Reproducer

#: What libFuzzer must not do in a contained worker, whatever an options file says:
#: the RSS thread (a thread; memory is bounded by RLIMIT_AS, and a MemoryError carries the
#: stack that a blow-up is deduplicated by) and fork/jobs modes (they exec new processes).
FORCED_FLAGS = ("-rss_limit_mb=0", "-malloc_limit_mb=0", "-print_final_stats=1")


def _fail(message: str, code: int = WORKER_NO_CONTAINMENT) -> int:
    os.write(2, f"ext4guard-worker: {message}\n".encode())
    return code


def _load_target(name: str, instrument: bool) -> ModuleType:
    """A registered target by name, or a module (a dotted name) with the same interface."""

    def load() -> ModuleType:
        if "." in name:
            return importlib.import_module(name)
        from ext4guard.fuzz.targets import TARGETS

        if name not in TARGETS:
            raise KeyError(name)
        return TARGETS[name]

    if not instrument:
        return load()
    import atheris  # type: ignore[import-untyped]

    with atheris.instrument_imports(include=["ext4guard.parser"], exclude=excluded_modules()):
        return load()


class WarmUpFailed(Exception):
    """A seed input (or a mutation of one) failed before containment."""


def _warm_up(module: ModuleType, seeds: list[bytes], scratch: Path | None) -> None:
    """Run a few seed inputs and mutations before containment: whatever the parser or the
    mutator imports lazily is imported now, while files can still be opened. An input that
    fails here is reported as libFuzzer would report it (the traceback after atheris's
    banner, the input as a crash- artifact in the scratch dir), then the worker exits."""
    mutate = module.make_mutator(fix=True, byte_mutate=None)
    # Formatting a traceback imports linecache and friends on first use.
    traceback.format_exception(ValueError("warm-up"))
    for i, data in enumerate(seeds[:4]):
        for j in range(9):
            trial = data if j == 0 else mutate(data, len(data) + 64, i * 8 + j)
            try:
                module.test_one_input(trial)
            except Exception as exc:  # any exception is a finding; reported, then exit
                text = "".join(traceback.format_exception(exc))
                os.write(2, f"\n === Uncaught Python exception: ===\n{text}".encode())
                if scratch is not None:
                    name = hashlib.sha1(trial).hexdigest()
                    (scratch / f"crash-{name}").write_bytes(trial)
                raise WarmUpFailed(str(exc)) from None


def run_fuzz(argv: list[str]) -> int:
    cli = argparse.ArgumentParser(prog="ext4guard.fuzz.worker fuzz")
    cli.add_argument("target")
    cli.add_argument("--corpus", type=Path, required=True)
    cli.add_argument("--scratch", type=Path, required=True)
    cli.add_argument("--time", type=int, required=True)
    cli.add_argument("--memory-mib", type=int, default=0)
    cli.add_argument("--seed", type=int, default=0)
    cli.add_argument("--no-sandbox", action="store_true")
    ours, extra = cli.parse_known_args(argv)

    import atheris

    try:
        module = _load_target(ours.target, instrument=True)  # before anything imports it
    except (KeyError, ImportError):
        return _fail(f"unknown target {ours.target!r}", 2)
    from .targets import options_file

    corpus: Path = ours.corpus.resolve()
    scratch: Path = ours.scratch.resolve()
    seeds = module.seed_inputs()
    present = {p.name for p in corpus.iterdir()} if corpus.is_dir() else set()
    missing = [d for d in seeds if hashlib.sha1(d).hexdigest() not in present]
    write_seeds(missing, corpus)
    scratch.mkdir(parents=True, exist_ok=True)
    dictionary = scratch / "ext4.dict"
    if DICTIONARY.is_file():
        shutil.copyfile(DICTIONARY, dictionary)
    try:
        _warm_up(module, seeds, scratch)
    except WarmUpFailed:
        return 1

    options = libfuzzer_options(options_file(ours.target))
    given = {f.split("=", 1)[0] for f in extra if f.startswith("-")}
    forced = {f.split("=", 1)[0] for f in FORCED_FLAGS}
    flags = [f for f in options if f.split("=", 1)[0] not in given | forced]
    flags += [f for f in extra if f.split("=", 1)[0] not in forced]
    flags += list(FORCED_FLAGS)
    if dictionary.is_file() and "-dict" not in given:
        flags.append(f"-dict={dictionary}")
    flags += [f"-max_total_time={max(1, ours.time)}", f"-artifact_prefix={scratch}/"]
    if ours.seed:
        flags.append(f"-seed={ours.seed}")
    max_len = next((int(f.split("=")[1]) for f in flags if f.startswith("-max_len=")), 1 << 22)

    def byte_mutate(data: bytes, max_size: int) -> bytes:
        return bytes(atheris.Mutate(data, max_size))

    custom = module.make_mutator(fix=True, byte_mutate=byte_mutate)
    test_one_input: Callable[[bytes], None] = module.test_one_input
    counter = [0, time.monotonic() + 1.0]

    def counted(data: bytes) -> None:
        counter[0] += 1
        now = time.monotonic()
        if now >= counter[1]:
            counter[1] = now + 1.0
            os.write(2, f"{STAT_PREFIX} execs={counter[0]}\n".encode())
        test_one_input(data)

    # Setup imports what it needs and only records the flags: libFuzzer reads the corpus
    # and the dictionary when Fuzz() starts, inside the sandbox.
    atheris.Setup(
        [sys.argv[0], *flags, str(corpus)],
        counted,
        custom_mutator=custom,
        internal_libfuzzer=True,  # the core imported below, whatever is preloaded
    )
    # Fuzz() imports these native modules lazily, and after containment nothing can be
    # opened: import them now as atheris does, in its order (the custom mutator's
    # LLVMFuzzerCustomMutator, loaded RTLD_GLOBAL, must exist when libFuzzer's weak
    # reference to it is bound, i.e. when the core is loaded).
    flags_before = sys.getdlopenflags()
    sys.setdlopenflags(os.RTLD_NOW | os.RTLD_GLOBAL)
    try:
        importlib.import_module("atheris.custom_mutator")
        importlib.import_module("atheris.core_with_libfuzzer")
    finally:
        sys.setdlopenflags(flags_before)
    if not ours.no_sandbox:
        profile = fuzz_profile(
            writable_dirs=(str(corpus), str(scratch)),
            seconds=ours.time,
            memory_mib=ours.memory_mib,
            max_file_size=max(max_len, 64 << 20),
            memfds=memfds(),
        )
        hand_over((corpus, scratch), profile)
        try:
            done = contain(profile)
        except SandboxError as exc:
            return _fail(f"cannot contain the worker: {exc}")
        os.write(
            2,
            f"{STAT_PREFIX} contained landlock={done.landlock_abi} seccomp={int(done.seccomp)}"
            f" root={int(done.empty_root)} ms={done.setup_ms:.1f}\n".encode(),
        )
    atheris.Fuzz()
    return 0


# ------------------------------------------------------------------------------ minimize


def _closest_base(module: ModuleType, target: str, data: bytes) -> tuple[bytes, str | None]:
    """What `data` is a mutation of: a seed image (whole-image targets, matched by the
    superblock UUID and length) or a record target's initial input; b"" when unknown."""
    from .seeds import seed_bytes, seed_names
    from .targets import WHOLE_IMAGE

    if target in WHOLE_IMAGE:
        uuid = slice(1024 + 0x68, 1024 + 0x78)
        for name in seed_names():
            raw = seed_bytes(name)
            if raw[uuid] == data[uuid]:
                return raw, name
        return b"", None
    record_target = getattr(module, "TARGET", None)
    candidates = record_target.candidates if record_target is not None else []
    if len(data) < 2 or not candidates:
        return b"", None
    cand = candidates[data[0] % len(candidates)]
    return data[:2] + cand.initial, cand.template.name


class _Reproduce:
    """Run inputs in-process and tell whether they fail with one signature."""

    def __init__(self, test_one_input: Callable[[bytes], None], want: Signature | None) -> None:
        self.test = test_one_input
        self.want = want
        self.execs = 0

    def signature(self, data: bytes) -> Signature | None:
        self.execs += 1
        try:
            self.test(data)
        except Exception as exc:
            return signature_of(exc)
        return None

    def same(self, data: bytes) -> bool:
        return self.signature(data) == self.want


def _revert_runs(data: bytes, base: bytes) -> list[tuple[int, int]]:
    """(start, end) runs where data differs from base, over their common length."""
    runs: list[tuple[int, int]] = []
    n = min(len(data), len(base))
    i = 0
    while i < n:
        if data[i] != base[i]:
            j = i
            while j < n and data[j] != base[j]:
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    return runs


def minimize_toward(
    data: bytes, base: bytes, keeps: Callable[[bytes], bool], deadline: float
) -> bytes:
    """Delta debugging (ddmin) over the byte runs where `data` differs from `base`: revert
    chunks of runs to the base's bytes while `keeps` still holds; then try the base's length.
    Without a base, shorten from the end instead."""
    best = data
    if base and len(best) != len(base):
        resized = best[: len(base)] + base[len(best) :]
        if keeps(resized):
            best = resized
    if not base:
        size = len(best) // 2
        while size >= 1 and time.monotonic() < deadline:
            if len(best) > size and keeps(best[:-size]):
                best = best[:-size]
            else:
                size //= 2
        return best
    runs = _revert_runs(best, base)
    chunk = max(1, len(runs) // 2)
    while runs and time.monotonic() < deadline:
        reduced = False
        for start in range(0, len(runs), chunk):
            if time.monotonic() >= deadline:
                break
            drop = runs[start : start + chunk]
            trial = bytearray(best)
            for a, b in drop:
                trial[a:b] = base[a:b]
            if keeps(bytes(trial)):
                best = bytes(trial)
                runs = runs[:start] + runs[start + chunk :]
                reduced = True
                break
        if not reduced:
            if chunk == 1:
                break
            chunk = max(1, chunk // 2)
    return best


def run_minimize(argv: list[str]) -> int:
    cli = argparse.ArgumentParser(prog="ext4guard.fuzz.worker minimize")
    cli.add_argument("target")
    cli.add_argument("--dir", type=Path, required=True)
    cli.add_argument("--input", required=True)
    cli.add_argument("--budget", type=float, default=20.0)
    cli.add_argument("--memory-mib", type=int, default=0)
    cli.add_argument("--no-sandbox", action="store_true")
    ours = cli.parse_args(argv)

    from .seeds import seed_bytes, seed_names

    # What the minimizer uses later is imported now: after containment nothing can be opened.
    for name in ("ext4guard.fuzz.targets", "ext4guard.fuzz.regressions"):
        importlib.import_module(name)
    try:
        module = _load_target(ours.target, instrument=False)
    except (KeyError, ImportError):
        return _fail(f"unknown target {ours.target!r}", 2)
    seeds = module.seed_inputs()
    for name in seed_names():
        seed_bytes(name)  # decompressed now: the seed files are out of reach afterwards
    try:
        _warm_up(module, seeds, None)
    except WarmUpFailed:
        return 1
    directory: Path = ours.dir.resolve()
    if not ours.no_sandbox:
        profile = fuzz_profile(
            writable_dirs=(str(directory),),
            seconds=int(ours.budget) + 30,
            memory_mib=ours.memory_mib,
            max_file_size=64 << 20,
            memfds=memfds(),
        )
        hand_over((directory,), profile)
        try:
            contain(profile)
        except SandboxError as exc:
            return _fail(f"cannot contain the minimizer: {exc}")
    data = (directory / ours.input).read_bytes()
    deadline = time.monotonic() + ours.budget
    probe = _Reproduce(module.test_one_input, None)
    want = probe.signature(data)
    result: dict[str, object] = {"reproduced": want is not None, "size": len(data)}
    if want is None:
        print(json.dumps(result), flush=True)
        return 0
    result["signature"] = want.as_json()
    check = _Reproduce(module.test_one_input, want)
    base, seed = _closest_base(module, ours.target, data)
    best = minimize_toward(data, base, check.same, deadline)
    (directory / "minimized").write_bytes(best)
    result.update(
        {
            "minimized_size": len(best),
            "changed_bytes": sum(b - a for a, b in _revert_runs(data, base)) if base else None,
            "minimized_changed_bytes": (
                sum(b - a for a, b in _revert_runs(best, base)) if base else None
            ),
            "execs": probe.execs + check.execs,
            "seed": seed,
        }
    )
    reproducer = _reproducer(ours.target, best, seed)
    if reproducer is not None:
        (directory / "reproducer.patch.json").write_text(
            json.dumps(reproducer.as_json(), indent=1) + "\n"
        )
        result["reproducer"] = "reproducer.patch.json"
    print(json.dumps(result), flush=True)
    return 0


def _reproducer(target: str, data: bytes, seed: str | None) -> Reproducer | None:
    from . import regressions
    from .targets import WHOLE_IMAGE

    if target in WHOLE_IMAGE:
        return regressions.from_image(data, seed) if seed is not None else None
    if "." in target:
        return None  # not a registered target: no seed to express it against
    return regressions.from_input(target, data)


# ------------------------------------------------------------------------------- known


def run_known(argv: list[str]) -> int:
    """Replay the open bugs of corpus/regressions (entries whose sidecar lists
    `xfail_targets`: the replay test expects them to fail until fixed) through the
    whole-image targets, contained, and print one JSON line per failure: the signatures a
    campaign counts as known rather than new."""
    cli = argparse.ArgumentParser(prog="ext4guard.fuzz.worker known")
    cli.add_argument("--dir", type=Path, default=None)
    cli.add_argument("--no-sandbox", action="store_true")
    ours = cli.parse_args(argv)

    from . import regressions
    from .targets import TARGETS, WHOLE_IMAGE

    directory: Path = ours.dir or regressions.REGRESSIONS
    entries: list[tuple[str, bytes, list[str]]] = []
    for path in sorted(directory.glob("*.patch.json")):
        name = path.name.removesuffix(".patch.json")
        try:
            sidecar = json.loads((directory / f"{name}.json").read_text())
            open_in = [str(t) for t in sidecar.get("xfail_targets") or []]
            if open_in:
                wanted = sorted(set(open_in) & WHOLE_IMAGE) or sorted(WHOLE_IMAGE)
                entries.append((name, regressions.load(path).image(), wanted))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # a damaged entry is tests/test_regressions.py's to report
    used = sorted({t for _, _, wanted in entries for t in wanted})
    for target in used:
        try:
            _warm_up(TARGETS[target], TARGETS[target].seed_inputs()[:1], None)
        except WarmUpFailed:
            return 1
    if not ours.no_sandbox:
        profile = fuzz_profile(writable_dirs=(), seconds=120, memfds=memfds())
        try:
            contain(profile)
        except SandboxError as exc:
            return _fail(f"cannot contain the replay: {exc}")
    for name, image, wanted in entries:
        for target in wanted:
            sig = _Reproduce(TARGETS[target].test_one_input, None).signature(image)
            if sig is not None:
                line = {"entry": name, "target": target, "signature": sig.as_json()}
                print(json.dumps(line), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    modes = {"fuzz": run_fuzz, "minimize": run_minimize, "known": run_known}
    if not args or args[0] not in modes:
        return _fail("usage: python -m ext4guard.fuzz.worker fuzz|minimize|known ...", 2)
    return modes[args[0]](args[1:])


if __name__ == "__main__":
    sys.exit(main())
