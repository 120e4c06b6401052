"""Directories as the facade sees them: list one, and look a name up in one.

Blocks come through the file mapping (a directory is a file of directory blocks); each block
is parsed by `dirent` (linear) and, for indexed directories, found through `htree` first.
Damage is a finding, not the end: a listing returns the healthy entries of every block plus
the corruption met ("Partial results", DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .budget import Budget
from .dirent import (
    DirContext,
    DirentBadName,
    DirEntry,
    find_in_block,
    is_legal_name,
    read_dir_block,
    read_inline_dir,
)
from .errors import Corruption, Where
from .htree import Htree
from .inline import find_inline_tail, read_inline_tail
from .inode import FL_INDEX, Inode
from .mapping import MappingKind, file_mappings

if TYPE_CHECKING:
    from .filesystem import Filesystem


class DirectoryHole(Corruption):
    """A directory block that is not mapped (the kernel calls this "directory hole found")."""

    code = "directory_hole"


_DOTS = (b".", b"..")


def _block_of(fs: Filesystem, inode: Inode, budget: Budget) -> Callable[[int], bytes]:
    """Read logical directory block n, mapped through the inode's extents or block map."""

    def block_of(logical: int) -> bytes:
        (mapping,) = file_mappings(fs, inode, logical, 1, budget)
        where = Where(inode=inode.ino)
        if mapping.kind is not MappingKind.MAPPED or mapping.physical_block is None:
            raise DirectoryHole(f"directory block {logical} is not mapped", where)
        block = mapping.physical_block
        return fs.blocks.read(block, Where(inode=inode.ino, block=block), budget)

    return block_of


def _linear_blocks(
    fs: Filesystem, inode: Inode, ctx: DirContext, budget: Budget
) -> tuple[list[int], list[Corruption]]:
    """The directory's mapped logical blocks, from one mapping of the whole directory, and
    one finding per unmapped run: ext4 directories have no holes, and a huge i_size over a
    hole costs one finding, not one step per block."""
    logical: list[int] = []
    holes: list[Corruption] = []
    for mapping in file_mappings(fs, inode, 0, ctx.dir_blocks, budget):
        if mapping.kind is MappingKind.MAPPED:
            logical.extend(range(mapping.logical_block, mapping.logical_end))
        else:
            holes.append(
                DirectoryHole(
                    f"directory blocks {mapping.logical_block}..{mapping.logical_end - 1} "
                    "are not mapped",
                    Where(inode=inode.ino),
                )
            )
    return logical, holes


def _is_indexed(fs: Filesystem, inode: Inode) -> bool:
    return bool(inode.flags & FL_INDEX) and "dir_index" in fs.superblock.compat


def list_directory(
    fs: Filesystem, inode: Inode, budget: Budget
) -> tuple[list[DirEntry], list[Corruption]]:
    """Every live entry but `.` and `..`, and the corruption met on the way."""
    ctx = DirContext.for_inode(fs.superblock, inode)
    where = Where(inode=inode.ino)
    if inode.has_inline_data:
        return _list_inline(fs, inode, ctx, budget)
    entries: list[DirEntry] = []
    findings: list[Corruption] = []
    block_of = _block_of(fs, inode, budget)
    # An indexed directory's root and index blocks hold no entries: list its leaves. A
    # damaged index is a finding, and the listing falls back to every block.
    leaves: list[int] | None = None
    if _is_indexed(fs, inode):
        try:
            leaves = Htree(ctx, block_of, fs.dx_nodes).leaves()
        except Corruption as exc:
            findings.append(exc)
    if leaves is None:
        leaves, holes = _linear_blocks(fs, inode, ctx, budget)
        findings.extend(holes)
    for logical in leaves:
        try:
            data = block_of(logical)
        except Corruption as exc:
            findings.append(exc)
            continue
        parsed = read_dir_block(data, ctx, Where(inode=inode.ino))
        budget.charge_entries(len(parsed.entries), where)
        _keep_listable(parsed.entries, entries, findings, where)
        findings.extend(parsed.findings)
    return entries, findings


def _keep_listable(
    found: Iterable[DirEntry], entries: list[DirEntry], findings: list[Corruption], where: Where
) -> None:
    """Append the entries a listing can show: not `.`/`..`, and no name that could not be a
    path component (one holding '/' would read as a path elsewhere): those are findings."""
    for entry in found:
        if entry.name in _DOTS:
            continue
        if not is_legal_name(entry.name):
            here = Where(inode=where.inode, offset=entry.offset)
            findings.append(DirentBadName(f"entry name {entry.name!r} is not a legal name", here))
            continue
        entries.append(entry)


def _list_inline(
    fs: Filesystem, inode: Inode, ctx: DirContext, budget: Budget
) -> tuple[list[DirEntry], list[Corruption]]:
    """An inline directory: the i_block part, then the entries continued in system.data."""
    where = Where(inode=inode.ino)
    _parent, block = read_inline_dir(inode.i_block, ctx, where)
    entries: list[DirEntry] = []
    findings = list(block.findings)
    _keep_listable(block.entries, entries, findings, where)
    try:
        tail = read_inline_tail(fs.superblock, inode, ctx, budget)
    except Corruption as exc:
        findings.append(exc)
        tail = None
    if tail is not None:
        _keep_listable(tail.entries, entries, findings, where)
        findings.extend(tail.findings)
    return entries, findings


BlockNames = tuple[dict[bytes, DirEntry], Corruption | None]


def _block_search(
    fs: Filesystem, ctx: DirContext, block_of: Callable[[int], bytes]
) -> Callable[[int, bytes], DirEntry | None]:
    """Search one directory block for a name, through a cache of each block's names.

    A block is read, verified and parsed once; later lookups in it are a dict probe (the
    kernel keeps the block in its buffer cache and rescans it). The cached answer keeps the
    rule of `find_in_block`: names before the first damage are found, and a name that is not
    among them raises that damage. Casefolded directories match by folded name: scanned.
    """
    if ctx.casefold:
        return lambda logical, name: find_in_block(
            block_of(logical), name, ctx, Where(inode=ctx.ino, block=logical)
        )

    def find(logical: int, name: bytes) -> DirEntry | None:
        key = (ctx.ino, logical)
        cached = fs.dir_names.get(key)
        if cached is None:
            parsed = read_dir_block(block_of(logical), ctx, Where(inode=ctx.ino, block=logical))
            names: dict[bytes, DirEntry] = {}
            for entry in parsed.entries:
                names.setdefault(entry.name, entry)
            cached = (names, parsed.findings[0] if parsed.findings else None)
            fs.dir_names.put(key, cached)
        names, damage = cached
        found = names.get(name)
        if found is None and damage is not None:
            raise damage
        return found

    return find


def find_entry(fs: Filesystem, inode: Inode, name: bytes, budget: Budget) -> DirEntry | None:
    """The entry called `name` in directory `inode`, or None when it is certainly absent.

    Indexed directories are searched through the htree; like the kernel, a damaged index
    falls back to a linear scan. A linear scan that meets damage and does not find the name
    raises the first damage met: the name may be in the unreadable part.
    """
    ctx = DirContext.for_inode(fs.superblock, inode)
    where = Where(inode=inode.ino)
    if inode.has_inline_data:
        _parent, block = read_inline_dir(inode.i_block, ctx, where)
        found = next((e for e in block.entries if e.name == name), None)
        if found is None:
            # The rest of a grown inline directory: its system.data part.
            found = find_inline_tail(fs.superblock, inode, ctx, name, budget)
        if found is None and block.findings:
            raise block.findings[0]
        return found
    block_of = _block_of(fs, inode, budget)
    find = _block_search(fs, ctx, block_of)
    damage: Corruption | None = None
    if _is_indexed(fs, inode):
        try:
            return Htree(ctx, block_of, fs.dx_nodes).lookup(name, find)
        except Corruption as exc:
            damage = exc  # kept; the linear scan below may still find the name
    blocks, holes = _linear_blocks(fs, inode, ctx, budget)
    if holes:
        damage = damage or holes[0]
    for logical in blocks:
        try:
            found = find(logical, name)
        except Corruption as exc:
            damage = damage or exc
            continue
        if found is not None:
            return found
    if damage is not None:
        raise damage
    return None
