"""The CLI's containment as a user meets it: the same answers contained or not, as root and as
an ordinary user, a deadline that holds, and one line for every way the parse can fail."""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ext4guard.server import cli
from ext4guard.server.protocol import Channel
from tests.seeds import manifest_entries, seed_image, seed_manifest

IS_ROOT = os.geteuid() == 0
NOBODY = 65534
WARNING = "ext4guard: warning: --no-sandbox: parsing an untrusted image uncontained is unsafe"


def _run(
    *args: str, user: int | None = None, cwd: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    prefix: list[str] = []
    if user is not None:
        prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    return subprocess.run(
        [*prefix, sys.executable, "-m", "ext4guard.server.launcher", *args],
        capture_output=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    "command",
    [
        ("info", "--json"),
        ("ls", "-R", "--json"),
        ("check", "--json"),
    ],
)
def test_no_sandbox_gives_the_same_answer_and_warns(command: tuple[str, ...]) -> None:
    image = str(seed_image("ext4_default"))
    contained = _run(*command, image)
    unsafe = _run("--no-sandbox", *command, image)
    assert contained.returncode == unsafe.returncode == 0, contained.stderr
    assert contained.stdout == unsafe.stdout
    assert contained.stderr == b""
    assert unsafe.stderr.decode().splitlines() == [WARNING]


def test_options_are_accepted_after_the_command_name_too() -> None:
    image = str(seed_image("ext2_1k"))
    result = _run("info", "--timeout", "30", "--memory-limit", "512", "--json", image)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["superblock"]["block_size"] == 1024
    unsafe = _run("ls", "--no-sandbox", image, "/")
    assert unsafe.returncode == 0 and unsafe.stderr.decode().splitlines() == [WARNING]


@pytest.mark.parametrize(
    "option", [("--timeout", "0"), ("--timeout", "x"), ("--memory-limit", "1")]
)
def test_bad_limits_are_usage_errors(option: tuple[str, str]) -> None:
    result = _run(*option, "info", str(seed_image("ext2_1k")))
    assert result.returncode == 2
    assert b"Traceback" not in result.stderr


def test_the_deadline_kills_a_long_parse() -> None:
    image = str(seed_image("ext4_largedir"))
    start = time.monotonic()
    result = _run("--timeout", "0.05", "check", image)
    assert time.monotonic() - start < 30
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode().splitlines() == [
        f"ext4guard: {image}: parser timed out after 0.05 s and was killed"
    ]


@pytest.mark.parametrize("kind", ["fifo", "dir"])
def test_an_image_that_is_not_a_file_is_refused_without_hanging(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "img"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    result = _run("info", str(path))
    assert result.returncode == 2
    (line,) = result.stderr.decode().splitlines()
    assert "must be a regular file or a block device" in line


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory an unprivileged user can read (pytest's tmp_path is root's, mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix="ext4guard-cli-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def test_works_as_an_ordinary_user(shared_dir: Path) -> None:
    """As root, through setpriv to `nobody`; as an ordinary user, as that user."""
    image = shared_dir / "fs.img"
    shutil.copyfile(seed_image("ext4_default"), image)
    image.chmod(0o644)
    user = NOBODY if IS_ROOT else None
    want = _run("--no-sandbox", "ls", "-R", "--json", str(image))
    for command in (("info", "--json"), ("ls", "-R", "--json"), ("check", "--json")):
        result = _run(*command, str(image), user=user, cwd=str(shared_dir))
        assert result.returncode == 0, (command, result.stderr)
        assert result.stderr == b""
        if command[0] == "ls":
            assert result.stdout == want.stdout
    entries = manifest_entries(seed_manifest("ext4_default"))
    path, entry = next((p, e) for p, e in entries.items() if e["type"] == "reg" and e["size"])
    cat = _run("cat", str(image), os.fsdecode(path), user=user, cwd=str(shared_dir))
    assert cat.returncode == 0
    assert hashlib.sha256(cat.stdout).hexdigest() == entry["sha256"]
    dest = shared_dir / "out"
    dest.mkdir()
    if user is not None:
        os.chown(dest, user, user)
    result = _run("extract", str(image), str(dest), user=user, cwd=str(shared_dir))
    # Device nodes are skipped without --devices, and an ordinary user may not set trusted.*
    # or security.* attributes: exit 1, each said on stderr.
    assert result.returncode == 1
    for line in result.stderr.splitlines():
        assert (
            b"device node" in line
            or (user is not None and b": xattr " in line and b"not permitted" in line)
            or line.startswith(b"extracted")
        ), line
    got = dest / os.fsdecode(path).lstrip("/")
    assert hashlib.sha256(got.read_bytes()).hexdigest() == entry["sha256"]
    assert stat.S_IMODE(got.stat().st_mode) == entry["mode"]
    if user is not None:
        assert got.stat().st_uid == user  # written by the unprivileged parent, not as root


def test_delegated_commands_get_their_own_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    module = types.ModuleType("fake_sandbox_check")
    module.main = lambda argv: seen.append(argv) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_sandbox_check", module)
    monkeypatch.setitem(cli.DELEGATED, "sandbox-check", ("fake_sandbox_check", "test"))
    assert cli.main(["sandbox-check", "--json", "-h", "x"]) == 0
    assert seen == [["--json", "-h", "x"]]


def test_a_missing_delegate_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(cli.DELEGATED, "sandbox-check", ("ext4guard.no_such_module", "test"))
    assert cli.main(["sandbox-check"]) == 2
    assert capsys.readouterr().err == "ext4guard: sandbox-check is not available in this build\n"


@pytest.mark.parametrize(
    ("crash", "line", "code"),
    [
        (lambda: ctypes.string_at(0), "parser killed by SIGSEGV (a memory fault)", 1),
        (lambda: os.kill(os.getpid(), 9), "parser killed by SIGKILL (killed from outside", 1),
        (lambda: time.sleep(60), "parser timed out after 0.5 s and was killed", 1),
        (lambda: os.open("/etc/passwd", os.O_RDONLY), "internal error (a bug, please report", 2),
    ],
)
def test_a_parser_that_dies_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    crash: Callable[[], object],
    line: str,
    code: int,
) -> None:
    """The CLI's own path (image opened, child contained, status mapped, line printed) with a
    parser that crashes where a hostile image would make it crash: inside the child."""
    real_job = cli.JOBS["info"]

    def job(args: argparse.Namespace) -> cli.Job:
        made = real_job(args)

        def produce(fd: int, channel: Channel) -> None:
            crash()

        return cli.Job(produce, made.consumer, made.finish)

    monkeypatch.setitem(cli.JOBS, "info", job)
    image = str(seed_image("ext2_1k"))
    assert cli.main(["--timeout", "0.5", "info", image]) == code
    out, err = capfd.readouterr()
    assert out == ""
    (got,) = err.splitlines()
    assert got.startswith(f"ext4guard: {image}: {line}")
