"""`ext4guard mount` with real mounts (root, /dev/fuse), against references nobody here wrote.

- every seed image, and trees generated afresh (random, made into images by `mke2fs -d`):
  the mounted tree equals the source tree it was built from and the kernel's own read-only
  loop mount of the same image (`ro,loop,noload`): names, types, modes, owners, sizes,
  nanosecond times, inode numbers (hard links share them), link counts, device numbers, link
  targets, content sha256, xattrs and ACLs, and every readdir entry with its d_ino and d_type,
  `.` and `..` included (the root's `..` is the root);
- an ordinary user (uid 65534) mounts through fusermount3; `-o trio` and `-o poll_us` serve;
- the server is contained (/proc/PID/status) and holds only the image, /dev/fuse, its log and
  what trio itself opens;
- kill -9 of the server followed by `umount` leaves no mount; SIGTERM to the helper unmounts;
- an image whose superblock cannot be trusted is refused before anything is mounted;
- 16 parallel clients on a corrupted image while the image file is overwritten underneath:
  no ENOTCONN, no hang, the server still serves afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ext4guard.server.mount import MountError, parse_options
from tests.mounts import (
    DT_UNKNOWN,
    ENV,
    EXT4GUARD,
    find_server,
    is_mounted,
    raw_listing,
    run_ext4guard,
)
from tests.seeds import SEEDS, TYPE_NAMES, manifest_entries, seed_image, seed_manifest

IS_ROOT = os.geteuid() == 0
pytestmark = [
    pytest.mark.needs_root,
    pytest.mark.skipif(not IS_ROOT, reason="real mounts need root (mount(2), loop devices)"),
    pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="no /dev/fuse"),
    pytest.mark.skipif(not SEEDS, reason="no seed images"),
]


def run_mount(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_ext4guard(*args, timeout=timeout)


@contextlib.contextmanager
def ext4guard_mounted(image: Path, mnt: Path, log: Path, *extra: str) -> Iterator[Path]:
    mnt.mkdir(exist_ok=True)
    done = run_mount("mount", str(image), str(mnt), "--log", str(log), *extra)
    assert done.returncode == 0, done.stderr + log.read_text(errors="replace")
    try:
        yield mnt
    finally:
        run_mount("umount", str(mnt))
        deadline = time.monotonic() + 10
        while is_mounted(mnt) and time.monotonic() < deadline:
            time.sleep(0.05)


@contextlib.contextmanager
def kernel_mounted(image: Path, mnt: Path) -> Iterator[Path | None]:
    mnt.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "ext4", "-o", "ro,loop,noload", str(image), str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        yield None  # e.g. casefold without CONFIG_UNICODE: compared with its manifest only
        return
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def sha256_of(path: bytes) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def snapshot(root: Path) -> dict[bytes, dict[str, object]]:
    """Everything stat, readlink, read and getxattr say about every path below root
    (lost+found's contents excluded, as in the manifests)."""
    base = os.fsencode(root)
    out: dict[bytes, dict[str, object]] = {}
    hashes: dict[int, str] = {}
    stack = [b""]
    while stack:
        rel = stack.pop()
        path = base + rel
        st = os.lstat(path)
        kind = TYPE_NAMES[stat.S_IFMT(st.st_mode)]
        info: dict[str, object] = {
            "type": kind,
            "mode": stat.S_IMODE(st.st_mode),
            "uid": st.st_uid,
            "gid": st.st_gid,
            "ino": st.st_ino,
            "nlink": st.st_nlink,
            "size": st.st_size,
            "blocks": st.st_blocks,
            "atime_ns": st.st_atime_ns,
            "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns,
        }
        if kind in ("chr", "blk"):
            info["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
        if kind == "lnk":
            info["target"] = os.readlink(path)
        else:
            info["xattrs"] = {
                name: os.getxattr(path, name, follow_symlinks=False).hex()
                for name in sorted(os.listxattr(path, follow_symlinks=False))
            }
        if kind == "reg":
            if st.st_ino not in hashes:
                hashes[st.st_ino] = sha256_of(path)
            info["sha256"] = hashes[st.st_ino]
        out[rel or b"/"] = info
        if kind == "dir" and rel != b"/lost+found":
            listing = raw_listing(path)
            info["listing"] = listing
            stack.extend(rel + b"/" + name for name, _, _ in listing if name not in (b".", b".."))
    return out


def check_dots(got: dict[bytes, dict[str, object]]) -> list[str]:
    """`.` names the directory itself, `..` its parent (the root's `..` is the root), with
    the inode numbers stat gives; every directory lists both, once."""
    problems = []
    for path, info in got.items():
        if info["type"] != "dir" or "listing" not in info:
            continue
        parent = path.rsplit(b"/", 1)[0] or b"/"
        dots = [(n, i) for n, i, _ in info["listing"] if n in (b".", b"..")]  # type: ignore[attr-defined]
        want = [(b".", info["ino"]), (b"..", got[parent]["ino"])]
        if dots != want:
            problems.append(f"{path!r}: dots {dots} != {want}")
    return problems


def compare_with_manifest(name: str, got: dict[bytes, dict[str, object]]) -> list[str]:
    want = manifest_entries(seed_manifest(name))
    problems: list[str] = []
    if set(got) != set(want):
        missing = sorted(set(want) - set(got))[:5]
        extra = sorted(set(got) - set(want))[:5]
        return [f"paths differ: missing {missing}, unexpected {extra}"]
    inode_of_group: dict[int, object] = {}
    for path, e in want.items():
        g = got[path]
        checks: list[tuple[str, object, object]] = [
            ("type", g["type"], e["type"]),
            ("mode", g["mode"], e["mode"]),
            ("uid", g["uid"], e["uid"]),
            ("gid", g["gid"], e["gid"]),
            ("mtime_ns", g["mtime_ns"], e["mtime_ns"]),
        ]
        if e["size"] is not None:
            checks.append(("size", g["size"], e["size"]))
        if e["type"] == "lnk":
            checks.append(("target", bytes(g["target"]).hex(), e["target_hex"]))  # type: ignore[call-overload]
        else:
            checks.append(("xattrs", g["xattrs"], e["xattrs"]))
        if e["type"] in ("chr", "blk"):
            checks.append(("rdev", g["rdev"], (e["rdev_major"], e["rdev_minor"])))
        if e["type"] == "reg":
            checks.append(("sha256", g["sha256"], e["sha256"]))
        group = e["hardlink_group"]
        if group is not None:
            checks.append(("hard link ino", inode_of_group.setdefault(group, g["ino"]), g["ino"]))
        problems += [f"{path!r}: {what} {a!r} != {b!r}" for what, a, b in checks if a != b]
    if len(set(inode_of_group.values())) != len(inode_of_group):
        problems.append("distinct hard-link groups share an inode")
    return problems


def compare_with_kernel(
    got: dict[bytes, dict[str, object]], kernel: dict[bytes, dict[str, object]]
) -> list[str]:
    if set(got) != set(kernel):
        return [f"paths differ from the kernel's: {sorted(set(got) ^ set(kernel))[:5]}"]
    problems = []
    for path, k in kernel.items():
        g = got[path]
        for key in sorted(set(k) | set(g)):
            if key == "size" and k["type"] == "dir":
                continue  # compared all the same below for non-inline directories
            if key == "listing":
                continue  # compared below: d_type as the kernel gives it
            if g.get(key) != k.get(key):
                problems.append(f"{path!r}: {key} {g.get(key)!r} != kernel {k.get(key)!r}")
        if k["type"] == "dir" and g["size"] != k["size"]:
            problems.append(f"{path!r}: dir size {g['size']} != kernel {k['size']}")
        if "listing" in k:
            # names and d_ino, dots included; d_type where the kernel knows it (without the
            # filetype feature ext4's readdir says DT_UNKNOWN, FUSE's readdirplus the type)
            ours = {n: (i, t) for n, i, t in g["listing"]}  # type: ignore[attr-defined]
            theirs = {n: (i, t) for n, i, t in k["listing"]}  # type: ignore[attr-defined]
            for name in sorted(set(ours) | set(theirs)):
                a, b = ours.get(name), theirs.get(name)
                if a is None or b is None or a[0] != b[0] or (b[1] != DT_UNKNOWN and a[1] != b[1]):
                    problems.append(f"{path!r}: readdir {name!r} {a} != kernel {b}")
    return problems


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mount")


@pytest.mark.parametrize("name", SEEDS)
def test_mount_equals_manifest_and_kernel(name: str, workdir: Path) -> None:
    image = seed_image(name)
    here = workdir / name
    here.mkdir()
    log = here / "log"
    with ext4guard_mounted(image, here / "fuse", log) as mnt:
        ours = snapshot(mnt)
    problems = compare_with_manifest(name, ours) + check_dots(ours)
    with kernel_mounted(image, here / "kernel") as kmnt:
        if kmnt is not None:
            problems += compare_with_kernel(ours, snapshot(kmnt))
        elif "casefold" not in seed_manifest(name)["features"]:
            problems.append("the kernel could not mount this image")
    assert not problems, "\n".join(problems[:40])
    assert "finding" not in log.read_text(), log.read_text()  # healthy seeds: no findings


def server_pid(image: Path) -> int:
    pid = find_server(image)
    assert pid is not None, f"no server process holds {image}"
    return pid


def fd_targets(pid: int) -> dict[int, str]:
    return {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}


def test_server_is_contained_and_holds_only_its_fds(workdir: Path) -> None:
    image = workdir / "contained.img"
    shutil.copyfile(seed_image("ext4_1k"), image)
    log = workdir / "contained.log"
    with ext4guard_mounted(image, workdir / "contained", log) as mnt:
        assert os.listdir(mnt)
        pid = server_pid(image)
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        )
        assert status["Uid"].split() == ["65534"] * 4
        assert status["Gid"].split() == ["65534"] * 4
        assert int(status["CapEff"], 16) == 0 and int(status["CapBnd"], 16) == 0
        assert status["NoNewPrivs"].strip() == "1"
        assert status["Seccomp"].strip() == "2"
        assert status["Threads"].strip() == "1"
        assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
        assert os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
        targets = fd_targets(pid)
        assert targets[0] == targets[1] == "/dev/null"
        assert targets[2] == str(log)
        # the image and /dev/fuse, nothing else (the direct loop opens no epoll or socket)
        rest = [t for fd, t in targets.items() if fd > 2]
        assert sorted(rest) == sorted([str(image), "/dev/fuse"]), targets


def test_kill_9_of_the_server_then_umount_leaves_no_mount(workdir: Path) -> None:
    image = workdir / "kill.img"
    shutil.copyfile(seed_image("ext4_nojournal"), image)
    mnt = workdir / "kill"
    mnt.mkdir()
    done = run_mount("mount", str(image), str(mnt))
    assert done.returncode == 0, done.stderr
    assert os.listdir(mnt)
    os.kill(server_pid(image), signal.SIGKILL)
    done = run_mount("umount", str(mnt))
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 10
    while is_mounted(mnt) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_mounted(mnt)
    assert os.listdir(mnt) == []  # the plain directory again, no ENOTCONN


def test_sigterm_to_the_helper_unmounts_and_umount_is_idempotent(workdir: Path) -> None:
    image = workdir / "term.img"
    shutil.copyfile(seed_image("ext4_nojournal"), image)
    mnt = workdir / "term"
    mnt.mkdir()
    helper = subprocess.Popen(
        [*EXT4GUARD, "mount", "-f", str(image), str(mnt)],
        env=ENV,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not is_mounted(mnt) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert is_mounted(mnt)
        assert os.listdir(mnt)
        helper.send_signal(signal.SIGTERM)
        assert helper.wait(timeout=20) == 0, helper.stderr.read() if helper.stderr else ""
        assert not is_mounted(mnt)
    finally:
        if helper.poll() is None:
            helper.kill()
        run_mount("umount", str(mnt))
    again = run_mount("umount", str(mnt))
    assert again.returncode == 0 and "already unmounted" in again.stderr


def test_untrusted_superblock_is_refused_before_mounting(workdir: Path) -> None:
    image = workdir / "badsb.img"
    data = bytearray(seed_image("ext4_nojournal").read_bytes())
    data[1024 + 0x38 : 1024 + 0x3A] = b"\0\0"  # s_magic
    image.write_bytes(data)
    mnt = workdir / "badsb"
    mnt.mkdir()
    done = run_mount("mount", str(image), str(mnt))
    assert done.returncode == 1
    assert "refused" in done.stderr and "magic" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not is_mounted(mnt)


def corrupt(image: Path, seed: int) -> None:
    """Random bytes over metadata and data beyond the first 64 KiB (superblock and group
    descriptors stay, so the image mounts); deterministic."""
    rng = random.Random(seed)
    size = image.stat().st_size
    with open(image, "r+b") as f:
        for _ in range(300):
            offset = rng.randrange(64 << 10, size - 64)
            f.seek(offset)
            f.write(bytes(rng.randrange(256) for _ in range(rng.choice((1, 4, 16, 64)))))


CLIENTS = [
    ["find", "{m}", "-ls"],
    ["sh", "-c", "find {m} -type f -exec cat {{}} + > /dev/null"],
    ["getfacl", "-R", "-p", "{m}"],
    [
        sys.executable,
        "-c",
        "import os,sys\n"
        "for d, ds, fs in os.walk(sys.argv[1]):\n"
        "    for n in ds + fs:\n"
        "        p = os.path.join(d, n)\n"
        "        try:\n"
        "            os.lstat(p); [os.getxattr(p, x, follow_symlinks=False)"
        " for x in os.listxattr(p, follow_symlinks=False)]\n"
        "        except OSError as e:\n"
        "            print(e, file=sys.stderr)\n",
        "{m}",
    ],
]


def test_parallel_clients_on_a_corrupted_image_being_overwritten(workdir: Path) -> None:
    image = workdir / "hostile.img"
    shutil.copyfile(seed_image("ext4_default"), image)
    corrupt(image, 5)
    log = workdir / "hostile.log"
    with ext4guard_mounted(image, workdir / "hostile", log) as mnt:
        stop = threading.Event()

        def overwrite() -> None:
            rng = random.Random(7)
            size = image.stat().st_size
            with open(image, "r+b") as f:
                while not stop.is_set():
                    f.seek(rng.randrange(64 << 10, size - 4096))
                    f.write(rng.randbytes(4096))
                    if rng.random() < 0.05:  # shrink and regrow: reads past the end
                        f.truncate(size // 2)
                        time.sleep(0.01)
                        f.truncate(size)
                    time.sleep(0.001)

        writer = threading.Thread(target=overwrite)
        writer.start()
        try:
            procs = [
                subprocess.Popen(
                    [arg.format(m=mnt) for arg in CLIENTS[i % len(CLIENTS)]],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for i in range(16)
            ]
            errors = []
            for proc in procs:
                try:
                    _, err = proc.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    pytest.fail(f"client hung: {proc.args}")
                errors.append(err)
        finally:
            stop.set()
            writer.join()
        joined = "\n".join(errors)
        assert "Transport endpoint is not connected" not in joined
        assert "Software caused connection abort" not in joined
        # the server is alive and still serves
        assert os.listdir(mnt)
        os.stat(mnt)
    findings = [line for line in log.read_text().splitlines() if '"finding"' in line]
    assert findings, "corruption was met: it must be logged as findings"
    assert len(findings) == len(set(findings)), "each finding is logged once"


NOBODY = 65534


def compare_readable_part(name: str, root: Path) -> list[str]:
    """What an ordinary user can see of the mount equals the source tree: the root's names,
    and the type, mode, size and content of every path it may reach (default_permissions:
    the kernel refuses the rest, as it would on the kernel's own mount)."""
    want = manifest_entries(seed_manifest(name))
    top = {p for p in want if p.count(b"/") == 1 and p != b"/"}
    problems = []
    base = os.fsencode(root)
    if {b"/" + n for n in os.listdir(base)} != top:
        problems.append(f"root listing {sorted(os.listdir(base))} != {sorted(top)}")
    seen = 0
    stack = [b""]
    while stack:
        rel = stack.pop()
        st = os.lstat(base + rel)
        e = want.get(rel or b"/")
        if e is None:
            problems.append(f"{rel!r} is not in the source tree")
            continue
        seen += 1
        kind = TYPE_NAMES[stat.S_IFMT(st.st_mode)]
        if (kind, stat.S_IMODE(st.st_mode)) != (e["type"], e["mode"]):
            problems.append(f"{rel!r}: {kind} {stat.S_IMODE(st.st_mode):o} != {e['type']}")
        readable = os.access(base + rel, os.R_OK)
        if (
            kind == "reg"
            and readable
            and (st.st_size, sha256_of(base + rel))
            != (
                e["size"],
                e["sha256"],
            )
        ):
            problems.append(f"{rel!r}: content differs")
        if kind == "dir" and rel != b"/lost+found" and os.access(base + rel, os.R_OK | os.X_OK):
            stack.extend(rel + b"/" + n for n in os.listdir(base + rel))
    if seen < len(want) // 2:
        problems.append(f"only {seen} of {len(want)} paths reachable")
    return problems


def fuse_for_everyone(scratch: Path) -> None:
    """In a mount namespace of this process only: /dev/fuse with Debian's mode (0666: any user
    may serve FUSE; fusermount3 opens it as the calling user). Some containers create the
    node 0600 (root only); the host's node is left alone."""
    if os.stat("/dev/fuse").st_mode & 0o006 == 0o006:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = (ctypes.c_char_p,) * 3 + (ctypes.c_ulong, ctypes.c_char_p)
    clone_newns, ms_bind, ms_rec, ms_private = 0x20000, 0x1000, 0x4000, 0x40000
    node = scratch / "fuse"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(10, 229))
    os.chmod(node, 0o666)
    if (
        libc.unshare(clone_newns) != 0
        or libc.mount(None, b"/", None, ms_rec | ms_private, None) != 0
        or libc.mount(bytes(node), b"/dev/fuse", None, ms_bind, None) != 0
    ):
        raise OSError(ctypes.get_errno(), "a private /dev/fuse")


def test_ordinary_user_mounts_through_fusermount3(request: pytest.FixtureRequest) -> None:
    """uid 65534 mounts an image it owns on a directory it owns: fusermount3 (setuid root)
    mounts and hands back /dev/fuse over _FUSE_COMMFD, the contained server receives it, the
    tree equals the source tree, and `umount` (fusermount3 -u) removes the mount. Run in a
    forked child that drops to 65534 after every import (this interpreter lives where 65534
    cannot read) and reports over a pipe: a FUSE mount without allow_other is for its owner
    only, root included. /dev/fuse must be open to every user (`fuse_for_everyone`)."""
    if shutil.which("fusermount3") is None:
        pytest.skip("no fusermount3")
    from ext4guard.server import mount

    # /tmp itself: pytest's base directory is root's alone (0700), 65534 cannot reach it.
    home = Path(tempfile.mkdtemp(prefix="ext4guard-user-"))
    request.addfinalizer(lambda: shutil.rmtree(home, ignore_errors=True))
    image = home / "user.img"
    shutil.copyfile(seed_image("ext4_nojournal"), image)
    mnt = home / "mnt"
    mnt.mkdir()
    for path in (home, image, mnt):
        os.chown(path, NOBODY, NOBODY)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        code = 3
        try:
            os.close(read_fd)
            mount.load_server()  # as root: the server's imports, before dropping privileges
            fuse_for_everyone(home)
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            try:
                log = str(home / "log")
                result: dict[str, object] = {
                    "mount": mount.main(["mount", str(image), str(mnt), "--log", log])
                }
                entry = mount.top_mount(str(mnt))
                result["fstype"] = entry.fstype if entry else None
                with open("/proc/self/mountinfo") as f:
                    result["options"] = [line for line in f if f" {mnt} " in line]
                result["problems"] = compare_readable_part("ext4_nojournal", mnt)
                result["umount"] = mount.main(["umount", str(mnt)])
                result["mounted_after"] = is_mounted(mnt)
                os.write(write_fd, json.dumps(result, default=repr).encode())
            except (OSError, LookupError, ValueError, TypeError, AssertionError) as exc:
                os.write(write_fd, json.dumps({"exception": repr(exc)}).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    # Not read to EOF: the background helper inherited the pipe and lives until the umount.
    _, status = os.waitpid(pid, 0)
    os.set_blocking(read_fd, False)
    with contextlib.suppress(BlockingIOError), os.fdopen(read_fd, "rb") as f:
        data = f.read() or b"{}"
    if os.waitstatus_to_exitcode(status) != 0:
        with contextlib.suppress(AssertionError, ProcessLookupError):
            os.kill(server_pid(image), signal.SIGKILL)  # the helper then unmounts and exits
    log = home / "log"
    assert os.waitstatus_to_exitcode(status) == 0, log.exists() and log.read_text()
    result = json.loads(data)
    assert "exception" not in result, result
    assert result["mount"] == 0 and result["umount"] == 0, result
    assert result["fstype"] == "fuse.ext4guard"
    assert "user_id=65534" in result["options"][0], result["options"]
    assert result["problems"] == []
    assert not result["mounted_after"]


@pytest.mark.parametrize("option", ["trio", "poll_us=0"])
def test_other_request_loops_serve_the_same_tree(option: str, workdir: Path) -> None:
    """`-o trio` (pyfuse3's own loop, kept to measure the direct loop against) and `-o
    poll_us=0` (the direct loop sleeping at once instead of polling /dev/fuse first) serve
    the same tree."""
    image = seed_image("ext4_1k")
    name = option.partition("=")[0]
    with ext4guard_mounted(image, workdir / name, workdir / f"{name}.log", "-o", option) as mnt:
        problems = compare_with_manifest("ext4_1k", snapshot(mnt))
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("bad", ["poll_us=-1", "poll_us=x", "poll_us=1000001", "rw"])
def test_bad_mount_options_are_refused(bad: str) -> None:
    with pytest.raises(MountError):
        parse_options(bad)


def generate_tree(root: Path, seed: int) -> None:
    """A random tree (deterministic per seed): nested directories, files of the sizes that
    matter to ext4 (empty, inline-sized, block edges, multi-block, sparse), short and long
    symlinks, hard links, a fifo, odd names, user xattrs, a 300-entry directory."""
    rng = random.Random(seed)
    dirs = [root]
    files: list[Path] = []
    odd = ["with space", "ünïcödé", "x" * 255, "new\nline", "-dash", "a.b.c", "%s"]

    def name() -> str:
        if rng.random() < 0.15:
            text = str(rng.randrange(1000)) * (rng.random() < 0.5) + rng.choice(odd)
            return os.fsdecode(os.fsencode(text)[:255])
        return "".join(rng.choice("abcdefghij0123456789_") for _ in range(rng.randrange(1, 30)))

    for _ in range(120):
        parent = rng.choice(dirs)
        path = parent / name()
        if path.exists() or len(str(path).encode()) > 3000:
            continue
        kind = rng.random()
        if kind < 0.2 and len(path.relative_to(root).parts) < 6:
            path.mkdir(mode=rng.choice((0o755, 0o700, 0o1777)))
            dirs.append(path)
        elif kind < 0.75:
            size = rng.choice((0, 1, 59, 60, 61, 4095, 4096, 4097, 70000, rng.randrange(200000)))
            with open(path, "wb") as f:
                if rng.random() < 0.2:
                    f.seek(size + 65536)  # a hole first
                f.write(rng.randbytes(size))
            os.chmod(path, rng.choice((0o644, 0o600, 0o755, 0o4755, 0o444)))
            if rng.random() < 0.3:
                with contextlib.suppress(OSError):  # a host without user xattrs
                    os.setxattr(path, b"user.k%d" % rng.randrange(9), rng.randbytes(40))
            files.append(path)
        elif kind < 0.85:
            target = "t" * rng.choice((1, 59, 60, 61, 300)) if rng.random() < 0.5 else name()
            os.symlink(target, path)
        elif kind < 0.95 and files:
            os.link(rng.choice(files), path)
        else:
            os.mkfifo(path)
        os.utime(path, ns=(rng.randrange(2**31) * 10**9,) * 2, follow_symlinks=False)
    big = root / "big"
    big.mkdir()
    for i in range(300):
        (big / f"entry-{i:05d}-{'h' * rng.randrange(60)}").write_bytes(b"%d" % i)


def compare_with_source(
    source: dict[bytes, dict[str, object]], got: dict[bytes, dict[str, object]]
) -> list[str]:
    """The mounted tree against the directory mke2fs -d was given (times in seconds: mke2fs
    drops nanoseconds; hard links: the same grouping)."""
    got = {p: g for p, g in got.items() if not p.startswith(b"/lost+found")}
    if set(got) != set(source):
        return [f"paths differ: {sorted(set(got) ^ set(source))[:5]}"]
    problems = []
    inode_map: dict[object, object] = {}
    for path, s in source.items():
        g = got[path]
        keys = ["type", "mode", "uid", "gid", "target", "xattrs"]
        if s["type"] != "dir":
            keys += ["size", "sha256"]
        for key in keys:
            if g.get(key) != s.get(key):
                problems.append(f"{path!r}: {key} {g.get(key)!r} != source {s.get(key)!r}")
        if path != b"/" and int(g["mtime_ns"]) // 10**9 != int(s["mtime_ns"]) // 10**9:  # type: ignore[call-overload]
            problems.append(f"{path!r}: mtime {g['mtime_ns']} != source {s['mtime_ns']}")
        if s["type"] != "dir" and inode_map.setdefault(s["ino"], g["ino"]) != g["ino"]:
            problems.append(f"{path!r}: hard links of the source are not one inode here")
    if len(set(inode_map.values())) != len(inode_map):
        problems.append("distinct source inodes share an inode here")
    return problems


@pytest.mark.parametrize(
    ("seed", "mkfs"),
    [(1, ["-t", "ext4"]), (2, ["-t", "ext4", "-b", "1024", "-O", "inline_data,^has_journal"])],
    ids=["ext4", "1k-inline"],
)
def test_generated_tree_equals_source_and_kernel(seed: int, mkfs: list[str], workdir: Path) -> None:
    """A freshly generated tree, made into an image by `mke2fs -d`: the mount equals the
    source directory and the kernel's read-only loop mount of the same image."""
    here = workdir / f"gen{seed}"
    source = here / "src"
    source.mkdir(parents=True)
    generate_tree(source, seed)
    image = here / "gen.img"
    done = subprocess.run(
        ["mke2fs", "-q", "-F", *mkfs, "-d", str(source), str(image), "32M"],
        capture_output=True,
        text=True,
        env={**os.environ, "E2FSPROGS_FAKE_TIME": "1700000000"},
    )
    assert done.returncode == 0, done.stderr
    want = snapshot(source)
    with ext4guard_mounted(image, here / "fuse", here / "log") as mnt:
        ours = snapshot(mnt)
    problems = compare_with_source(want, ours) + check_dots(ours)
    with kernel_mounted(image, here / "kernel") as kmnt:
        assert kmnt is not None, "the kernel could not mount the generated image"
        problems += compare_with_kernel(ours, snapshot(kmnt))
    assert not problems, "\n".join(problems[:40])
