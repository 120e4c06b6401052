"""Typed wrappers around e2fsprogs 1.47 (dumpe2fs, debugfs, e2fsck) for reference tests.

Every function here runs an e2fsprogs command on an image *at call time* and parses what it
prints.  Nothing is cached and nothing comes from ext4guard's own code: these values are the
independent reference that record-level tests compare our Kaitai-decoded records against.

Conventions
-----------
* Commands run with a fixed environment (``TZ=UTC``, ``LC_ALL=C``, no pager, no
  ``DUMPE2FS_IGNORE_80COL``), argument lists (never a shell), a timeout, stdout read as bytes.
* debugfs exits 0 even when a request fails; it reports failures on stderr.  Every debugfs
  wrapper therefore raises :class:`E2fsprogsError` when stderr holds anything besides the
  version banner (``debugfs 1.47.0 (5-Feb-2023)``).  A non-zero exit raises as well.
* An inode is given as an ``int`` (rendered ``<N>``) or as an absolute path (``str`` or
  ``bytes``; bytes may hold any non-UTF-8 name).  Paths are double-quoted for debugfs's
  request parser when needed.
* Keys of the mapping-shaped results are the labels e2fsprogs prints ("Inode count",
  "Block size", ...), which follow the kernel/e2fsprogs field names closely enough to grep.
"""

from __future__ import annotations

import calendar
import dataclasses
import itertools
import os
import re
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "DEBUGFS",
    "DUMPE2FS",
    "E2FSCK",
    "DirEntry",
    "E2fsckResult",
    "E2fsprogsError",
    "ExtentRow",
    "GroupDesc",
    "HtreeDump",
    "HtreeEntry",
    "HtreeLeaf",
    "HtreeLeafEntry",
    "HtreeNode",
    "InodeStat",
    "InodeTime",
    "JournalBlock",
    "JournalDump",
    "JournalTag",
    "KeyValueDump",
    "MapSpan",
    "XattrListing",
    "available",
    "block_bytes",
    "block_dump",
    "blocks",
    "bmap",
    "debugfs",
    "dirblock",
    "e2fsck",
    "extents",
    "groups",
    "htree",
    "icheck",
    "inode_raw",
    "inode_stat",
    "ls",
    "ncheck",
    "superblock",
    "testb",
    "testi",
    "xattr_names",
    "xattrs",
]

ImagePath = str | os.PathLike[str]
InodeSpec = int | str | bytes
Value = int | str | list[str] | None


def _tool(name: str) -> str:
    for d in ("/usr/sbin", "/sbin", "/usr/bin", "/bin"):
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return name


DUMPE2FS: Final = _tool("dumpe2fs")
DEBUGFS: Final = _tool("debugfs")
E2FSCK: Final = _tool("e2fsck")
TIMEOUT_S: Final = 120.0

_ENV: Final = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "TZ": "UTC",
    "LC_ALL": "C",
    "LANG": "C",
    "PAGER": "__none__",
    "DEBUGFS_PAGER": "__none__",
}
_BANNER = re.compile(r"^(?:debugfs|dumpe2fs|e2fsck) \d+\.\d+\S* \([^)]*\)$")


def available() -> bool:
    """True when dumpe2fs and debugfs can be run (tests skip otherwise)."""
    return all(os.path.isabs(t) and os.access(t, os.X_OK) for t in (DUMPE2FS, DEBUGFS))


class E2fsprogsError(RuntimeError):
    """An e2fsprogs command failed (non-zero exit, or debugfs complained on stderr)."""

    def __init__(self, argv: Sequence[str | bytes], returncode: int, stderr: str, stdout: bytes):
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr
        self.stdout = stdout
        shown = " ".join(a.decode("latin-1") if isinstance(a, bytes) else a for a in argv)
        super().__init__(f"{shown!r} failed (exit {returncode}): {stderr.strip() or '<no stderr>'}")


@dataclass(frozen=True, slots=True)
class _Run:
    stdout: bytes
    stderr: str  # banner removed
    returncode: int


def _run(
    argv: Sequence[str | bytes], *, ok_codes: Iterable[int] = (0,), allow_stderr: bool = False
) -> _Run:
    proc = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=dict(_ENV),
        timeout=TIMEOUT_S,
        check=False,
    )
    err_lines = [
        ln
        for ln in proc.stderr.decode("utf-8", "replace").splitlines()
        if ln.strip() and not _BANNER.match(ln.strip())
    ]
    err = "\n".join(err_lines)
    if proc.returncode not in tuple(ok_codes) or (err and not allow_stderr):
        raise E2fsprogsError(argv, proc.returncode, err, proc.stdout)
    return _Run(proc.stdout, err, proc.returncode)


def _fs(img: ImagePath) -> str:
    return os.fspath(img)


def _quote(arg: bytes) -> bytes:
    """Quote one argument for debugfs's ss request parser ("" inside quotes is a quote)."""
    if arg and not re.search(rb'[\s"]', arg):
        return arg
    return b'"' + arg.replace(b'"', b'""') + b'"'


def _spec(ino: InodeSpec) -> bytes:
    if isinstance(ino, bool):
        raise TypeError("inode spec must be int, str or bytes")
    if isinstance(ino, int):
        if ino <= 0:
            raise ValueError(f"inode number must be positive, got {ino}")
        return b"<%d>" % ino
    raw = ino.encode("utf-8", "surrogateescape") if isinstance(ino, str) else ino
    return _quote(raw)


def debugfs(
    img: ImagePath, request: str | bytes, *, allow_stderr: bool = False, writable: bool = False
) -> bytes:
    """Run one debugfs request (``debugfs -R REQUEST IMG``) and return its stdout bytes.

    ``writable=True`` adds ``-w`` (for test fixtures that build images, e.g. ``ea_set``).
    """
    req = request.encode("utf-8", "surrogateescape") if isinstance(request, str) else request
    argv: list[str | bytes] = [DEBUGFS]
    if writable:
        argv.append("-w")
    argv += [b"-R", req, _fs(img)]
    return _run(argv, allow_stderr=allow_stderr).stdout


def _dbg(img: ImagePath, *parts: bytes | str) -> bytes:
    req = b" ".join(p.encode() if isinstance(p, str) else p for p in parts)
    return debugfs(img, req)


# --------------------------------------------------------------------------------------------
# "Key:   value" listings (dumpe2fs -h, logdump -S)
# --------------------------------------------------------------------------------------------

_CTIME_FMT: Final = "%a %b %d %H:%M:%S %Y"
_LIST_KEYS: Final = frozenset(
    {
        "Filesystem features",
        "Journal features",
        "Filesystem flags",
        "Default mount options",
        "Mount options",
    }
)
_TIME_KEYS: Final = frozenset(
    {
        "Filesystem created",
        "Last mount time",
        "Last write time",
        "Last checked",
        "Next check after",
        "First error time",
        "Last error time",
        "mmp_update_date",
    }
)
_NONE_VALUES: Final = {
    "Filesystem volume name": "<none>",
    "Last mounted on": "<not available>",
    "Last mount time": "n/a",
}


def _ctime_epoch(text: str) -> int | None:
    """Parse C ``ctime()`` output (printed with TZ=UTC) to an epoch; None if it won't parse."""
    try:
        return calendar.timegm(time.strptime(" ".join(text.split()), _CTIME_FMT))
    except ValueError:
        return None


def _convert(key: str, raw: str) -> Value:
    if _NONE_VALUES.get(key) == raw:
        return None
    if key in _LIST_KEYS:
        return [] if raw in ("(none)", "") else raw.split()
    if key in _TIME_KEYS:
        return _ctime_epoch(raw)
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", raw):
        return int(raw, 16)
    m = re.fullmatch(r"(-?\d+) \(.*\)", raw)  # "1 (dynamic)", "0 (user root)", "0 (<none>)"
    if m:
        return int(m.group(1))
    m = re.fullmatch(r"(\d+)([kMGT])", raw)  # "Total journal size: 1024k"
    if m:
        return int(m.group(1)) << {"k": 10, "M": 20, "G": 30, "T": 40}[m.group(2)]
    return raw


@dataclass(frozen=True, slots=True)
class KeyValueDump(Mapping[str, Value]):
    """Parsed ``Key: value`` listing.  Indexing gives the typed value.

    * ``raw[key]``: the text after the colon, whitespace-stripped, exactly as printed.
    * ``typed[key]`` (also ``self[key]``): typed conversion -- int for decimal/``0x`` hex
      numbers and for "N (comment)" forms (revision, uid/gid, check interval); epoch seconds
      (or None) for ctime-style dates; list[str] for feature/flag/option lists ("(none)" -> []);
      bytes for "Total journal size" ("1024k"); None for "<none>", "<not available>", "n/a";
      the raw string otherwise ("Lifetime writes: 5586 kB" stays a string).
    * ``sections[name]``: indented sub-listings such as ``MMP_block`` (raw strings).
    * ``other``: lines that were not ``Key: value``.
    """

    raw: Mapping[str, str]
    typed: Mapping[str, Value]
    sections: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    other: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Value:
        return self.typed[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.typed)

    def __len__(self) -> int:
        return len(self.typed)

    def list(self, key: str) -> list[str]:
        """A feature/flag list; [] when the line is absent or printed "(none)"."""
        v = self.typed.get(key)
        if v is None:
            return []
        if not isinstance(v, list):
            raise TypeError(f"{key!r} is not a list: {self.raw[key]!r}")
        return v

    def int(self, key: str) -> int:
        v = self.typed[key]
        if not isinstance(v, int):
            raise TypeError(f"{key!r} is not an integer: {self.raw[key]!r}")
        return v


def _parse_kv(lines: Iterable[str]) -> KeyValueDump:
    raw: dict[str, str] = {}
    values: dict[str, Value] = {}
    sections: dict[str, dict[str, str]] = {}
    other: list[str] = []
    section: dict[str, str] | None = None
    for line in lines:
        if not line.strip():
            section = None
            continue
        indented = line[:1] in (" ", "\t")
        key, sep, rest = line.strip().partition(":")
        if not sep:
            other.append(line)
            continue
        key, val = key.strip(), rest.strip()
        if indented and section is not None:
            section[key] = val
            continue
        if not val and not indented:  # "MMP_block:" opens a sub-listing
            section = sections.setdefault(key, {})
            continue
        section = None
        if key in raw:  # first occurrence wins; keep the rest visible
            other.append(line)
            continue
        raw[key] = val
        values[key] = _convert(key, val)
    return KeyValueDump(raw, values, sections, tuple(other))


def superblock(img: ImagePath) -> KeyValueDump:
    """``dumpe2fs -h``: superblock listing plus the journal-superblock listing it appends.

    Keys are the printed labels: "Inode count", "Block count", "Block size", "Fragment size" or
    "Cluster size" (bigalloc), "Fragments per group" or "Clusters per group", "Filesystem
    features", "Journal features", "Total journal blocks", "Journal sequence", ...  Optional
    lines (e.g. "Group descriptor size" only with 64bit, "Reserved GDT blocks" only when
    non-zero, "Checksum" only with metadata_csum) are simply absent.
    """
    out = _run([DUMPE2FS, "-h", _fs(img)]).stdout.decode("utf-8", "surrogateescape")
    return _parse_kv(out.splitlines())


# --------------------------------------------------------------------------------------------
# dumpe2fs group descriptors
# --------------------------------------------------------------------------------------------

Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class GroupDesc:
    """One ``Group N:`` paragraph of ``dumpe2fs`` (decimal block numbers).

    ``*_rel`` is the relative-location note dumpe2fs prints in parentheses, e.g. ``"+65"`` or
    ``"bg #0 + 3"`` (flex_bg: location inside another group); None when not printed.
    ``csum`` is the group-descriptor checksum (None without gdt_csum/metadata_csum);
    ``csum_expected`` is set when dumpe2fs printed "(EXPECTED 0x....)" (a mismatch).
    ``free_units`` is "blocks" or "clusters" (bigalloc).
    """

    number: int
    first_block: int
    last_block: int
    csum: int | None
    csum_expected: int | None
    flags: tuple[str, ...]
    superblock: str | None  # "Primary" | "Backup" | None
    superblock_at: int | None
    group_descriptors_at: Range | None  # classic GDT (incl. backups)
    group_descriptor_at: int | None  # meta_bg: single descriptor block
    reserved_gdt_at: Range | None
    block_bitmap_at: int
    block_bitmap_rel: str | None
    block_bitmap_csum: int | None
    inode_bitmap_at: int
    inode_bitmap_rel: str | None
    inode_bitmap_csum: int | None
    inode_table_at: Range
    inode_table_rel: str | None
    free_blocks_count: int
    free_units: str
    free_inodes_count: int
    directories: int
    unused_inodes: int | None
    free_blocks: tuple[Range, ...] | None  # None when the line is absent
    free_inodes: tuple[Range, ...] | None
    text: str

    def asdict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _ranges(text: str) -> tuple[Range, ...]:
    out: list[Range] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        a, _, b = part.partition("-")
        out.append((int(a, 0), int(b or a, 0)))
    return tuple(out)


_NUM = r"(0x[0-9a-fA-F]+|\d+)"
_G_HEAD = re.compile(
    rf"^Group (\d+): \(Blocks {_NUM}-{_NUM}\)"
    r"(?: csum 0x([0-9a-fA-F]+)(?: \(EXPECTED 0x([0-9a-fA-F]+)\))?)?"
    r"(?: \[([^\]]*)\])?",
    re.M,
)


def _opt_int(m: re.Match[str] | None, g: int = 1, base: int = 0) -> int | None:
    return None if m is None or m.group(g) is None else int(m.group(g), base)


def _parse_group(text: str) -> GroupDesc:
    head = _G_HEAD.search(text)
    if head is None:
        raise ValueError(f"not a dumpe2fs group paragraph: {text[:80]!r}")
    sb = re.search(rf"(Primary|Backup) superblock at {_NUM}", text)
    gdt = re.search(rf"Group descriptors at {_NUM}-{_NUM}", text)
    gd1 = re.search(rf"Group descriptor at {_NUM}", text)
    rsv = re.search(rf"Reserved GDT blocks at {_NUM}-{_NUM}", text)

    def bitmap(name: str) -> tuple[int, str | None, int | None]:
        m = re.search(rf"{name} at {_NUM}(?: \(([^)]*)\))?(?:, csum 0x([0-9a-fA-F]+))?", text)
        if m is None:
            raise ValueError(f"group {head.group(1)}: no {name!r} line")
        return int(m.group(1), 0), m.group(2), _opt_int(m, 3, 16)

    bb, bb_rel, bb_csum = bitmap("Block bitmap")
    ib, ib_rel, ib_csum = bitmap("Inode bitmap")
    it = re.search(rf"Inode table at {_NUM}-{_NUM}(?: \(([^)]*)\))?", text)
    cnt = re.search(
        r"(\d+) free (blocks|clusters), (\d+) free inodes, (\d+) directories"
        r"(?:, (\d+) unused inodes)?",
        text,
    )
    if it is None or cnt is None:
        raise ValueError(f"group {head.group(1)}: unparsed paragraph {text!r}")
    fb = re.search(r"^  Free blocks: ?(.*)$", text, re.M)
    fi = re.search(r"^  Free inodes: ?(.*)$", text, re.M)
    flags = tuple(f.strip() for f in (head.group(6) or "").split(",") if f.strip())
    return GroupDesc(
        number=int(head.group(1)),
        first_block=int(head.group(2), 0),
        last_block=int(head.group(3), 0),
        csum=_opt_int(head, 4, 16),
        csum_expected=_opt_int(head, 5, 16),
        flags=flags,
        superblock=sb.group(1) if sb else None,
        superblock_at=_opt_int(sb, 2),
        group_descriptors_at=(int(gdt.group(1), 0), int(gdt.group(2), 0)) if gdt else None,
        group_descriptor_at=_opt_int(gd1),
        reserved_gdt_at=(int(rsv.group(1), 0), int(rsv.group(2), 0)) if rsv else None,
        block_bitmap_at=bb,
        block_bitmap_rel=bb_rel,
        block_bitmap_csum=bb_csum,
        inode_bitmap_at=ib,
        inode_bitmap_rel=ib_rel,
        inode_bitmap_csum=ib_csum,
        inode_table_at=(int(it.group(1), 0), int(it.group(2), 0)),
        inode_table_rel=it.group(3),
        free_blocks_count=int(cnt.group(1)),
        free_units=cnt.group(2),
        free_inodes_count=int(cnt.group(3)),
        directories=int(cnt.group(4)),
        unused_inodes=_opt_int(cnt, 5, 10),
        free_blocks=_ranges(fb.group(1)) if fb else None,
        free_inodes=_ranges(fi.group(1)) if fi else None,
        text=text,
    )


def groups(img: ImagePath) -> list[GroupDesc]:
    """Group-descriptor paragraphs of plain ``dumpe2fs`` (decimal), in group order."""
    out = _run([DUMPE2FS, _fs(img)]).stdout.decode("utf-8", "surrogateescape")
    starts = [m.start() for m in re.finditer(r"^Group \d+: ", out, re.M)]
    bounds = [*starts, len(out)]
    return [_parse_group(out[a:b].rstrip("\n")) for a, b in itertools.pairwise(bounds)]


# --------------------------------------------------------------------------------------------
# debugfs stat / inode_dump / ex / blocks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InodeTime:
    """``ctime: 0x5f5e1000:00000000 -- date``: seconds (low 32 bits as stored) and the
    ``*_extra`` word (None for 128-byte inodes or small extra_isize).  For ``dtime`` on large
    inodes debugfs prints the *ctime* extra word in parentheses; it is kept in ``extra``."""

    seconds: int
    extra: int | None
    text: str


@dataclass(frozen=True, slots=True)
class XattrListing:
    """One line of debugfs's "Extended attributes:" listing (``stat``/``ea_list``).

    ``value`` is None when debugfs did not print it (stat format hides values >= 40 bytes and
    system.data); ``printed_as`` is "string", "hex" or "none"."""

    name: str
    length: int
    value: bytes | None
    printed_as: str


@dataclass(frozen=True, slots=True)
class MapSpan:
    """One comma-separated item of stat's EXTENTS/BLOCKS line.

    kind: "data" for ``(l0-l1):p0-p1``; "ETB<level>" for an extent-tree block; "IND", "DIND",
    "TIND" for indirect blocks (logical_* None).  ``uninit`` is the ``[u]`` marker."""

    kind: str
    logical_start: int | None
    logical_end: int | None
    physical_start: int
    physical_end: int
    uninit: bool = False


@dataclass(frozen=True, slots=True)
class InodeStat:
    """``debugfs -R 'stat <N>'`` parsed.  Fields absent from the output are None."""

    inode: int
    type: str  # "regular", "directory", "symlink", "character special", "FIFO", ...
    mode: int  # permission bits (i_mode & 07777), as printed in octal
    flags: int
    generation: int
    version: int  # low word (l_i_version)
    version_hi: int | None
    user: int
    group: int
    project: int | None
    size: int
    file_acl: int
    links: int
    blockcount: int
    fragment: tuple[int, int, int]  # Address, Number, Size
    times: Mapping[str, InodeTime]  # "ctime", "atime", "mtime", "crtime", "dtime"
    extra_isize: int | None
    xattrs: tuple[XattrListing, ...]
    checksum: int | None
    fast_link_dest: bytes | None
    device: tuple[int, int] | None  # (major, minor)
    device_new_style: bool | None
    extents: tuple[MapSpan, ...] | None  # EXTENTS: line
    blocks: tuple[MapSpan, ...] | None  # BLOCKS: line (block-mapped)
    blocks_total: int | None  # "TOTAL: N" after BLOCKS
    inline_data_size: int | None
    text: str


_C_ESC: Final = {"a": 7, "b": 8, "f": 12, "n": 10, "t": 9, "v": 11, "\\": 92, "'": 39, '"': 34}


def _c_unescape(s: bytes) -> bytes:
    """Inverse of e2fsprogs support/cstring.c print_c_string()."""
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != 0x5C or i + 1 >= len(s):
            out.append(c)
            i += 1
            continue
        nxt = chr(s[i + 1])
        if nxt in _C_ESC:
            out.append(_C_ESC[nxt])
            i += 2
        elif re.fullmatch(rb"[0-7]{3}", s[i + 1 : i + 4]):
            out.append(int(s[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(c)
            i += 1
    return bytes(out)


_XATTR_LINE = re.compile(rb"^  (.*?) \((\d+)\)(?: = (.*))?$")


def _parse_xattr_lines(lines: Iterable[bytes]) -> tuple[XattrListing, ...]:
    out: list[XattrListing] = []
    for ln in lines:
        m = _XATTR_LINE.match(ln)
        if m is None:
            continue
        name = m.group(1).decode("utf-8", "surrogateescape")
        length = int(m.group(2))
        val = m.group(3)
        if val is None:
            out.append(XattrListing(name, length, None, "none"))
        elif val.startswith(b'"') and val.endswith(b'"') and len(val) >= 2:
            out.append(XattrListing(name, length, _c_unescape(val[1:-1]), "string"))
        else:
            out.append(XattrListing(name, length, bytes.fromhex(val.decode("ascii")), "hex"))
    return tuple(out)


_SPAN = re.compile(
    r"\((?:(?P<kind>ETB\d+|IND|DIND|TIND)|(?P<l0>\d+)(?:-(?P<l1>\d+))?(?P<u>\[u\])?)\)"
    r":(?P<p0>\d+)(?:-(?P<p1>\d+))?"
)


def _parse_spans(line: str) -> tuple[MapSpan, ...]:
    spans: list[MapSpan] = []
    for m in _SPAN.finditer(line):
        p0 = int(m["p0"])
        p1 = int(m["p1"]) if m["p1"] else p0
        if m["kind"]:
            spans.append(MapSpan(m["kind"], None, None, p0, p1))
        else:
            l0 = int(m["l0"])
            spans.append(MapSpan("data", l0, int(m["l1"]) if m["l1"] else l0, p0, p1, bool(m["u"])))
    return tuple(spans)


_TIME_LINE = re.compile(
    r"^\s*(ctime|atime|mtime|crtime|dtime): 0x([0-9a-f]+)(?::\(?([0-9a-f]+)\)?)? -- (.*)$"
)


def inode_stat(img: ImagePath, ino: InodeSpec) -> InodeStat:
    """``debugfs -R 'stat SPEC'`` parsed into :class:`InodeStat`."""
    out = _dbg(img, "stat", _spec(ino))
    text = out.decode("utf-8", "surrogateescape")
    fast: bytes | None = None
    marker = b'Fast link dest: "'
    if marker in out:  # printed last, raw (may contain newlines): take everything after it
        tail = out[out.index(marker) + len(marker) :]
        fast = tail[:-2] if tail.endswith(b'"\n') else tail.rstrip(b"\n").removesuffix(b'"')
        out = out[: out.index(marker)]
    lines = out.split(b"\n")
    tlines = [ln.decode("utf-8", "surrogateescape") for ln in lines]

    def find(pattern: str) -> re.Match[str] | None:
        rx = re.compile(pattern)
        for ln in tlines:
            m = rx.search(ln)
            if m:
                return m
        return None

    def need(pattern: str) -> re.Match[str]:
        m = find(pattern)
        if m is None:
            raise E2fsprogsError([DEBUGFS, "stat"], 0, f"unparsed stat output: {pattern}", out)
        return m

    head = need(r"^Inode: (\d+)\s+Type: (.*?)\s+Mode:\s+([0-7]+)\s+Flags: 0x([0-9a-f]+)")
    gen = need(r"^Generation: (\d+)\s+Version: 0x([0-9a-f]+)(?::([0-9a-f]+))?")
    usr = need(r"^User:\s*(-?\d+)\s+Group:\s*(-?\d+)(?:\s+Project:\s*(-?\d+))?\s+Size: (\d+)")
    acl = need(r"^File ACL: (\d+)")
    lnk = need(r"^Links: (\d+)\s+Blockcount: (\d+)")
    frag = need(r"^Fragment:\s+Address: (\d+)\s+Number: (\d+)\s+Size: (\d+)")
    times: dict[str, InodeTime] = {}
    for ln in tlines:
        m = _TIME_LINE.match(ln)
        if m:
            times[m.group(1)] = InodeTime(
                int(m.group(2), 16), int(m.group(3), 16) if m.group(3) else None, m.group(4)
            )
    extra = find(r"^Size of extra inode fields: (\d+)")
    csum = find(r"^Inode checksum: 0x([0-9a-f]+)")
    dev = find(r"^(\(New-style\) )?Device major/minor number: (\d+):(\d+)")
    inl = find(r"^Size of inline data: (\d+)")
    # version: "0x%08x:%08x" is (i_version_hi, l_i_version); single word is l_i_version.
    if gen.group(3) is not None:
        version, version_hi = int(gen.group(3), 16), int(gen.group(2), 16)
    else:
        version, version_hi = int(gen.group(2), 16), None
    xattr_lines: list[bytes] = []
    in_x = False
    extents: tuple[MapSpan, ...] | None = None
    blks: tuple[MapSpan, ...] | None = None
    total: int | None = None
    for i, bl in enumerate(lines):
        if bl == b"Extended attributes:":
            in_x = True
            continue
        if in_x:
            if bl.startswith(b"  "):
                xattr_lines.append(bl)
                continue
            in_x = False
        if bl == b"EXTENTS:":
            extents = _parse_spans(tlines[i + 1] if i + 1 < len(tlines) else "")
        elif bl == b"BLOCKS:":
            blks = _parse_spans(tlines[i + 1] if i + 1 < len(tlines) else "")
        elif bl.startswith(b"TOTAL: "):
            total = int(bl[7:])
    return InodeStat(
        inode=int(head.group(1)),
        type=head.group(2),
        mode=int(head.group(3), 8),
        flags=int(head.group(4), 16),
        generation=int(gen.group(1)),
        version=version,
        version_hi=version_hi,
        user=int(usr.group(1)),
        group=int(usr.group(2)),
        project=int(usr.group(3)) if usr.group(3) is not None else None,
        size=int(usr.group(4)),
        file_acl=int(acl.group(1)),
        links=int(lnk.group(1)),
        blockcount=int(lnk.group(2)),
        fragment=(int(frag.group(1)), int(frag.group(2)), int(frag.group(3))),
        times=times,
        extra_isize=_opt_int(extra, 1, 10),
        xattrs=_parse_xattr_lines(xattr_lines),
        checksum=_opt_int(csum, 1, 16),
        fast_link_dest=fast,
        device=(int(dev.group(2)), int(dev.group(3))) if dev else None,
        device_new_style=(dev.group(1) is not None) if dev else None,
        extents=extents,
        blocks=blks,
        blocks_total=total,
        inline_data_size=_opt_int(inl, 1, 10),
        text=text,
    )


def _parse_hexdump(out: bytes, size: int) -> bytes:
    """Rebuild the buffer from debugfs's do_byte_hexdump(): octal offsets, ``*`` = repeat."""
    buf = bytearray()
    last = b"\0" * 16
    pending_repeat = False
    for raw_ln in out.decode("latin-1").split("\n"):
        if raw_ln == "*":
            pending_repeat = True
            continue
        m = re.match(r"^([0-7]{4,})  ((?:[0-9a-f ]{4} ){8})", raw_ln)
        if m is None:
            continue
        off = int(m.group(1), 8)
        if pending_repeat:
            while len(buf) < off:
                buf += last[: off - len(buf)]
            pending_repeat = False
        if len(buf) != off:
            raise ValueError(f"hexdump offset {off:o} out of sequence (have {len(buf)} bytes)")
        last = bytes.fromhex(m.group(2).replace(" ", ""))
        buf += last
    if pending_repeat:
        while len(buf) < size:
            buf += last[: size - len(buf)]
    if len(buf) != size:
        raise ValueError(f"hexdump gave {len(buf)} bytes, expected {size}")
    return bytes(buf)


def _inode_size(img: ImagePath) -> int:
    sb = superblock(img)
    v = sb.get("Inode size")
    return v if isinstance(v, int) else 128


def inode_raw(img: ImagePath, ino: InodeSpec, *, part: str = "full") -> bytes:
    """The on-disk inode bytes as debugfs read them (``inode_dump``).

    part="full": the whole inode record (superblock "Inode size" bytes);
    part="i_block": the 60-byte i_block area (``inode_dump -b``).
    """
    if part == "full":
        return _parse_hexdump(_dbg(img, "inode_dump", _spec(ino)), _inode_size(img))
    if part == "i_block":
        return _parse_hexdump(_dbg(img, "inode_dump -b", _spec(ino)), 60)
    raise ValueError(f"unknown part {part!r}")


def block_dump(img: ImagePath, blk: int, *, block_size: int | None = None) -> bytes:
    """Block contents via debugfs ``block_dump`` (cross-check for :func:`block_bytes`)."""
    bs = block_size if block_size is not None else superblock(img).int("Block size")
    return _parse_hexdump(_dbg(img, "block_dump", str(int(blk))), bs)


@dataclass(frozen=True, slots=True)
class ExtentRow:
    """One row of ``debugfs -R 'ex SPEC'``.  Index rows have physical_end None, no flags."""

    level: int
    max_depth: int
    entry: int
    entries: int
    logical_start: int
    logical_end: int
    physical_start: int
    physical_end: int | None
    length: int
    uninit: bool
    is_leaf: bool


_EX_LEAF = re.compile(
    r"^\s*(\d+)/\s*(\d+)\s+(\d+)/\s*(\d+)\s+(\d+) -\s+(\d+)\s+(\d+) -\s+(\d+)\s+(\d+)\s*(\S*)\s*$"
)
_EX_NODE = re.compile(r"^\s*(\d+)/\s*(\d+)\s+(\d+)/\s*(\d+)\s+(\d+) -\s+(\d+)\s+(\d+)\s+(\d+)\s*$")


def extents(img: ImagePath, ino: InodeSpec) -> list[ExtentRow]:
    """``debugfs -R 'ex SPEC'``: index and leaf rows in tree-walk order.

    Raises E2fsprogsError for inodes without EXTENTS_FL ("does not uses extent block maps").
    """
    rows: list[ExtentRow] = []
    for ln in _dbg(img, "ex", _spec(ino)).decode("ascii", "replace").splitlines():
        if not ln.strip() or ln.startswith("Level"):
            continue
        m = _EX_LEAF.match(ln)
        if m:
            g = [int(x) for x in m.groups()[:9]]
            rows.append(
                ExtentRow(
                    g[0],
                    g[1],
                    g[2],
                    g[3],
                    g[4],
                    g[5],
                    g[6],
                    g[7],
                    g[8],
                    m.group(10) == "Uninit",
                    True,
                )
            )
            continue
        m = _EX_NODE.match(ln)
        if m is None:
            raise ValueError(f"unparsed ex row {ln!r}")
        g = [int(x) for x in m.groups()]
        rows.append(ExtentRow(g[0], g[1], g[2], g[3], g[4], g[5], g[6], None, g[7], False, False))
    return rows


def blocks(img: ImagePath, ino: InodeSpec) -> list[int]:
    """``debugfs -R 'blocks SPEC'``: every block of the inode in iteration order, *including*
    indirect (block-mapped) and extent-tree index blocks.  Use ``inode_stat(...).blocks`` /
    ``.extents`` for the annotated (IND)/(DIND)/(TIND)/(ETBn) form."""
    return [int(x) for x in _dbg(img, "blocks", _spec(ino)).split()]


def bmap(img: ImagePath, ino: InodeSpec, lblk: int) -> int:
    """``debugfs -R 'bmap SPEC LBLK'``: physical block for a logical block (0 = hole)."""
    return int(_dbg(img, "bmap", _spec(ino), str(int(lblk))).strip())


def dirblock(img: ImagePath, path: InodeSpec, n: int) -> int:
    """Physical block of logical block ``n`` of a directory (via ``bmap``)."""
    return bmap(img, path, n)


def block_bytes(
    img: ImagePath, blk: int, *, block_size: int | None = None, count: int = 1
) -> bytes:
    """Raw bytes of block(s) ``blk`` read straight from the image file (plain file IO; the
    block size comes from ``dumpe2fs -h`` unless given)."""
    bs = block_size if block_size is not None else superblock(img).int("Block size")
    with open(img, "rb") as f:
        f.seek(blk * bs)
        data = f.read(bs * count)
    if len(data) != bs * count:
        raise ValueError(f"block {blk} (x{count}) lies beyond the end of {img}")
    return data


# --------------------------------------------------------------------------------------------
# directories
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirEntry:
    """One directory entry, from ``ls -l`` (inode fields, file type, escaped name) merged with
    plain ``ls`` (rec_len, the raw dirent inode number).

    ``ino`` is what ``ls -l`` shows (0 for deleted entries); ``dirent_inode`` is the inode
    field stored in the dirent.  ``file_type`` is the dirent's file-type byte (0 for "." and
    ".." of inline-data directories, which libext2fs synthesises).  ``mode`` is the full
    i_mode (0 for deleted entries).  ``checksum`` is set for the ``-c`` dirblock-tail rows
    (then name is b"" and most fields 0)."""

    ino: int
    dirent_inode: int
    mode: int
    file_type: int
    uid: int
    gid: int
    size: int
    mtime_text: str
    name: bytes
    rec_len: int
    deleted: bool
    checksum: int | None = None


_LS_LONG = re.compile(
    r"^([ <])\s*(\d+)([ >]) +([0-7]+) \((\d+)\)  +(-?\d+)  +(-?\d+)   +(\d+) (.{17}) (.*)$"
)
_LS_CSUM = re.compile(r"^([ <])\s*(\d+)([ >]) +([0-7]+) \(dirblock checksum: 0x([0-9a-f]+)\)$")


def _ls_unescape(s: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(s):
        if s.startswith("\\x", i) and re.fullmatch(r"[0-9a-f]{2}", s[i + 2 : i + 4]):
            out.append(int(s[i + 2 : i + 4], 16))
            i += 4
        else:
            out += s[i].encode("latin-1")
            i += 1
    return bytes(out)


def ls(
    img: ImagePath, path: InodeSpec, *, deleted: bool = False, checksums: bool = False
) -> list[DirEntry]:
    """Directory entries in on-disk iteration order (``ls -l`` + ``ls``, optionally ``-d``
    for deleted entries and ``-c`` for dirblock checksum tails)."""
    opts = "".join(o for o, on in (("d", deleted), ("c", checksums)) if on)
    flag = f"-{opts}" if opts else ""
    long_args = ["ls", "-l" + opts] if opts else ["ls", "-l"]
    long_out = _dbg(img, *long_args, _spec(path)).decode("latin-1")
    short_args = ["ls", flag] if flag else ["ls"]
    short = _dbg(img, *short_args, _spec(path)).decode("latin-1").replace("\n", "")
    rows: list[tuple[re.Match[str], bool]] = []
    for ln in long_out.split("\n"):
        if not ln:
            continue
        m = _LS_CSUM.match(ln)
        if m:
            rows.append((m, True))
            continue
        m = _LS_LONG.match(ln)
        if m is None:
            raise ValueError(f"unparsed ls -l line {ln!r}")
        rows.append((m, False))
    entries: list[DirEntry] = []
    pos = 0
    for m, is_csum in rows:
        if is_csum:
            sm = re.compile(r"([ <])(\d+)([ >]) \(dirblock checksum: 0x[0-9a-f]+\)   ").match(
                short, pos
            )
            if sm is None:
                raise ValueError(f"ls/ls -l disagree at offset {pos}: {short[pos : pos + 60]!r}")
            pos = sm.end()
            entries.append(
                DirEntry(
                    int(m.group(2)),
                    int(sm.group(2)),
                    int(m.group(4), 8),
                    0,
                    0,
                    0,
                    0,
                    "",
                    b"",
                    0,
                    m.group(1) == "<",
                    int(m.group(5), 16),
                )
            )
            continue
        esc_name = m.group(10)
        sm = re.compile(r"([ <])(\d+)([ >]) \((\d+)\) " + re.escape(esc_name) + "   ").match(
            short, pos
        )
        if sm is None:
            raise ValueError(f"ls/ls -l disagree at offset {pos}: {short[pos : pos + 60]!r}")
        pos = sm.end()
        entries.append(
            DirEntry(
                ino=int(m.group(2)),
                dirent_inode=int(sm.group(2)),
                mode=int(m.group(4), 8),
                file_type=int(m.group(5)),
                uid=int(m.group(6)),
                gid=int(m.group(7)),
                size=int(m.group(8)),
                mtime_text=m.group(9).strip(),
                name=_ls_unescape(esc_name),
                rec_len=int(sm.group(4)),
                deleted=m.group(1) == "<",
            )
        )
    return entries


@dataclass(frozen=True, slots=True)
class HtreeEntry:
    index: int
    hash: int  # entry #0 is printed as hash 0 (its on-disk slot holds count/limit)
    block: int  # logical block within the directory
    collision: bool  # "(**)" marker: low hash bit set (continuation)


@dataclass(frozen=True, slots=True)
class HtreeNode:
    """The root (depth 0, block 0) or an interior dx_node."""

    depth: int
    block: int
    count: int
    limit: int
    checksum: int | None  # dx_tail checksum (metadata_csum)
    entries: tuple[HtreeEntry, ...]


@dataclass(frozen=True, slots=True)
class HtreeLeafEntry:
    ino: int
    hash: int
    minor_hash: int
    rec_len: int
    name: bytes  # printed raw by debugfs; see module quirks


@dataclass(frozen=True, slots=True)
class HtreeLeaf:
    depth: int
    block: int
    phys: int
    entries: tuple[HtreeLeafEntry, ...]
    checksum: int | None  # "leaf block checksum" (dirent tail)
    corrupted: bool  # debugfs printed "Corrupted directory block"


@dataclass(frozen=True, slots=True)
class HtreeDump:
    root: Mapping[str, int]  # "Reserved zero", "Hash Version", "Info length", ...
    nodes: tuple[HtreeNode, ...]  # pre-order, root first
    leaves: tuple[HtreeLeaf, ...]  # in visiting order

    @property
    def indirect_levels(self) -> int:
        return self.root["Indirect levels"]


_HT_ENTRY = re.compile(r"^Entry #(\d+): Hash 0x([0-9a-f]+)( \(\*\*\))?, block (\d+)$")
_HT_LEAF_ITEM = re.compile(
    rb"(\d+) 0x([0-9a-f]{8})-([0-9a-f]{8}) \((\d+)\) (.*?)   "
    rb"(?=\d+ 0x[0-9a-f]{8}-[0-9a-f]{8} \(\d+\) |leaf block checksum: |$)",
    re.S,
)


@dataclass(slots=True)
class _NodeBuilder:
    depth: int
    block: int
    count: int = 0
    limit: int = 0
    checksum: int | None = None
    entries: list[HtreeEntry] = field(default_factory=list)
    listing: bool = True


def _finish_leaf(leaf: tuple[int, int, int], body: bytes) -> HtreeLeaf:
    depth, blk, phys = leaf
    csum = re.search(rb"leaf block checksum: 0x([0-9a-f]+)", body)
    corrupted = b"Corrupted directory block" in body
    flat = body.replace(b"\n", b"")
    flat = re.sub(rb"Corrupted directory block \(\d+\)!", b"", flat)
    items = tuple(
        HtreeLeafEntry(
            int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16), int(m.group(4)), m.group(5)
        )
        for m in _HT_LEAF_ITEM.finditer(flat)
    )
    return HtreeLeaf(depth, blk, phys, items, int(csum.group(1), 16) if csum else None, corrupted)


def htree(img: ImagePath, path: InodeSpec) -> HtreeDump:
    """``debugfs -R 'htree_dump SPEC'`` parsed (no recursion: an explicit node stack)."""
    out = _dbg(img, "htree_dump", _spec(path))
    root: dict[str, int] = {}
    nodes: list[HtreeNode] = []
    leaves: list[HtreeLeaf] = []
    stack: list[_NodeBuilder] = []
    next_block = 0
    leaf: tuple[int, int, int] | None = None
    leaf_body: list[bytes] = []

    def close_leaf() -> None:
        nonlocal leaf
        if leaf is not None:
            leaves.append(_finish_leaf(leaf, b"\n".join(leaf_body)))
            leaf = None
            leaf_body.clear()

    def pop_node() -> None:
        b = stack.pop()
        nodes.append(HtreeNode(b.depth, b.block, b.count, b.limit, b.checksum, tuple(b.entries)))

    for bline in out.split(b"\n"):
        line = bline.decode("latin-1")
        if not stack and (rm := re.match(r"^\t (.+?): (\d+)$", line)) is not None:
            root[rm.group(1)] = int(rm.group(2))
            continue
        if line == "Root node dump:":
            continue
        if line.startswith("Number of entries (count): "):
            close_leaf()
            stack.append(_NodeBuilder(len(stack), next_block, count=int(line.split(": ")[1])))
            continue
        if stack and stack[-1].listing:
            top = stack[-1]
            if line.startswith("Number of entries (limit): "):
                top.limit = int(line.split(": ")[1])
            elif line.startswith("Checksum: 0x"):
                top.checksum = int(line.split("0x")[1], 16)
            elif (em := _HT_ENTRY.match(line)) is not None:
                top.entries.append(
                    HtreeEntry(
                        int(em.group(1)),
                        int(em.group(2), 16),
                        int(em.group(4)),
                        em.group(3) is not None,
                    )
                )
            elif line == "":
                top.listing = False
            continue
        em = _HT_ENTRY.match(line)
        if em is not None:
            close_leaf()
            next_block = int(em.group(4))
            continue
        if line.startswith("Reading directory block "):
            close_leaf()
            lm = re.match(r"Reading directory block (\d+), phys (\d+)", line)
            if lm is None:
                raise ValueError(f"unparsed htree line {line!r}")
            leaf = (len(stack), int(lm.group(1)), int(lm.group(2)))
            continue
        if line == "---------------------":
            close_leaf()
            if stack:
                pop_node()
            continue
        if leaf is not None:
            leaf_body.append(bline)
    close_leaf()
    while stack:
        pop_node()
    nodes.sort(key=lambda n: (n.depth, n.block))
    return HtreeDump(root, tuple(nodes), tuple(leaves))


# --------------------------------------------------------------------------------------------
# extended attributes
# --------------------------------------------------------------------------------------------


def xattr_names(img: ImagePath, ino: InodeSpec) -> tuple[XattrListing, ...]:
    """``debugfs -R 'ea_list SPEC'``: names, lengths and (when printed) values."""
    return _parse_xattr_lines(_dbg(img, "ea_list", _spec(ino)).split(b"\n"))


def xattrs(img: ImagePath, ino: InodeSpec, *, raw: bool = False) -> dict[str, bytes]:
    """Exact xattr values: names from ``ea_list``, each value from ``ea_get -V`` (raw bytes to
    stdout plus one newline).  ``raw=True`` adds ``-r``: on-disk form of POSIX ACLs instead of
    libext2fs's translation to the Linux xattr ACL format.  Includes ``system.data``."""
    values: dict[str, bytes] = {}
    for x in xattr_names(img, ino):
        name = x.name.encode("utf-8", "surrogateescape")
        out = _dbg(img, "ea_get", "-r -V" if raw else "-V", _spec(ino), _quote(name))
        if not out.endswith(b"\n"):
            raise ValueError(f"ea_get -V output for {x.name!r} lacks its trailing newline")
        values[x.name] = out[:-1]
    return values


# --------------------------------------------------------------------------------------------
# journal
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalTag:
    fs_block: int
    journal_block: int
    flags: int


@dataclass(frozen=True, slots=True)
class JournalBlock:
    """A journal block logdump walked: ``kind`` is "descriptor", "commit", "revoke" (type 5,
    printed "revoke table") or whatever name logdump printed."""

    kind: str
    type: int
    sequence: int
    block: int
    tags: tuple[JournalTag, ...] = ()
    revoked: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class JournalDump:
    """``debugfs -R 'logdump -a -S'``: journal superblock listing, start, walked blocks."""

    superblock: KeyValueDump
    start_block: int | None
    start_transaction: int | None
    blocks: tuple[JournalBlock, ...]
    end: str | None  # "No magic number at block N: end of journal." etc.
    fast_commit: tuple[str, ...]
    text: str

    @property
    def transactions(self) -> list[int]:
        return sorted({b.sequence for b in self.blocks if b.kind == "commit"})


_J_FOUND = re.compile(r"^Found expected sequence (\d+), type (\d+) \((.*)\) at block (\d+)$")
_J_TAG = re.compile(r"^  FS block (\d+) logged at journal block (\d+) \(flags 0x([0-9a-f]+)\)$")
_J_KIND = {"descriptor block": "descriptor", "commit block": "commit", "revoke table": "revoke"}


def journal(img: ImagePath) -> JournalDump:
    """Walk the journal with ``logdump -a -S`` (descriptor tags and revoke records)."""
    text = _dbg(img, "logdump", "-a", "-S").decode("utf-8", "surrogateescape")
    head, _, body = text.partition("\n\n")
    if body == "" and head.startswith("Journal starts"):
        head, body = "", head
    sb = _parse_kv(head.splitlines())
    start = re.search(r"^Journal starts at block (\d+), transaction (\d+)$", body, re.M)
    found: list[tuple[str, int, int, int]] = []
    tags: list[list[JournalTag]] = []
    revs: list[list[int]] = []
    end: str | None = None
    fc: list[str] = []
    in_fc = False
    for ln in body.splitlines():
        if in_fc:
            if ln:
                fc.append(ln)
            continue
        m = _J_FOUND.match(ln)
        if m:
            found.append(
                (
                    _J_KIND.get(m.group(3), m.group(3)),
                    int(m.group(2)),
                    int(m.group(1)),
                    int(m.group(4)),
                )
            )
            tags.append([])
            revs.append([])
            continue
        t = _J_TAG.match(ln)
        if t and tags:
            tags[-1].append(JournalTag(int(t.group(1)), int(t.group(2)), int(t.group(3), 16)))
            continue
        r = re.match(r"^  Revoke FS block (\d+)$", ln)
        if r and revs:
            revs[-1].append(int(r.group(1)))
            continue
        if "end of journal" in ln or ln.startswith(
            ("Unexpected block type", "Journal superblock magic")
        ):
            end = ln
        elif ln == "*** Fast Commit Area ***":
            in_fc = True
    blocks_ = tuple(
        JournalBlock(k, ty, seq, blk, tuple(tg), tuple(rv))
        for (k, ty, seq, blk), tg, rv in zip(found, tags, revs, strict=True)
    )
    return JournalDump(
        superblock=sb,
        start_block=int(start.group(1)) if start else None,
        start_transaction=int(start.group(2)) if start else None,
        blocks=blocks_,
        end=end,
        fast_commit=tuple(fc),
        text=text,
    )


# --------------------------------------------------------------------------------------------
# small lookups
# --------------------------------------------------------------------------------------------


def icheck(img: ImagePath, blks: Iterable[int]) -> dict[int, int | None]:
    """``icheck``: owning inode of each block (None: "<block not found>")."""
    blist = [int(b) for b in blks]
    if not blist:
        return {}
    out = _dbg(img, "icheck", *(str(b) for b in blist)).decode("ascii", "replace")
    res: dict[int, int | None] = {}
    for ln in out.splitlines()[1:]:
        b, _, owner = ln.partition("\t")
        res[int(b)] = int(owner) if owner.strip().isdigit() else None
    return res


def ncheck(img: ImagePath, inos: Iterable[int]) -> dict[int, list[bytes]]:
    """``ncheck``: path names (raw bytes) for inodes.  Note paths of root-directory entries
    print with a doubled leading slash ("//name") in 1.47.0; they are returned as printed."""
    ilist = [int(i) for i in inos]
    res: dict[int, list[bytes]] = {i: [] for i in ilist}
    if not ilist:
        return res
    out = _dbg(img, "ncheck", *(str(i) for i in ilist))
    body = out.split(b"\n", 1)[1] if b"\n" in out else b""
    for rec in re.split(rb"\n(?=\d+\t)", body.rstrip(b"\n")):
        if not rec:
            continue
        num, _, p = rec.partition(b"\t")
        res.setdefault(int(num), []).append(p)
    return res


def testb(img: ImagePath, blk: int, count: int = 1) -> dict[int, bool]:
    """``testb BLK [COUNT]``: block-bitmap bit for each block."""
    out = _dbg(img, "testb", str(int(blk)), str(int(count))).decode("ascii", "replace")
    return {
        int(m.group(1)): m.group(2) == "marked in use"
        for m in re.finditer(r"^Block (\d+) (marked in use|not in use)$", out, re.M)
    }


def testi(img: ImagePath, ino: InodeSpec) -> bool:
    """``testi SPEC``: inode-bitmap bit."""
    out = _dbg(img, "testi", _spec(ino)).decode("ascii", "replace")
    return "is marked in use" in out


@dataclass(frozen=True, slots=True)
class E2fsckResult:
    returncode: int  # fsck exit code bits: 0 clean, 1 fixed, 4 uncorrected, 8 error
    stdout: str
    stderr: str


def e2fsck(img: ImagePath, *, fix: bool = False) -> E2fsckResult:
    """``e2fsck -fn`` (or ``-fy`` with fix=True); never raises on fsck's own exit codes."""
    proc = subprocess.run(
        [E2FSCK, "-f", "-y" if fix else "-n", _fs(img)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=dict(_ENV),
        timeout=TIMEOUT_S,
        check=False,
    )
    return E2fsckResult(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )
