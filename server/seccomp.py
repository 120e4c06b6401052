"""A seccomp allowlist built with libseccomp (Debian `libseccomp2`) through ctypes.

libseccomp compiles the rules into the BPF program and adds the architecture check (a
syscall from another ABI, x32 or i386, kills the process: systemd's
`SystemCallArchitectures=native`). Nothing here assembles BPF by hand.

Every rule is an allow rule; the default action answers a syscall that no rule allows with
an errno (EPERM unless the rule set says otherwise), so a contained process sees an ordinary
failed call and the escape battery can assert the exact errno. The alternative, killing
the process, would make every probe of a parser bug look like a crash and hide what was
tried; the answer is denied either way.

Argument comparisons use only equality and masked equality: libseccomp compares the whole
64-bit register, and the kernel truncates an `int` fd or pid to 32 bits, so a "greater
than" test on an fd could be passed by a value with high bits set. Equality cannot.
"""

from __future__ import annotations

import ctypes
import errno
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Arg", "Filter", "Rule", "SeccompUnavailable", "load_library"]

# libseccomp's seccomp.h: actions and comparison operators.
_ACT_ALLOW = 0x7FFF0000
_ACT_ERRNO = 0x00050000
_ACT_KILL_PROCESS = 0x80000000
_CMP_EQ = 4
_CMP_MASKED_EQ = 7
_ATTR_CTL_NNP = 3
_ATTR_ACT_BADARCH = 2


class SeccompUnavailable(Exception):
    """libseccomp.so.2 cannot be loaded or refused the filter; message is one line."""


class _ArgCmp(ctypes.Structure):
    # struct scmp_arg_cmp { unsigned int arg; enum scmp_compare op; u64 datum_a, datum_b; }
    _fields_ = (
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    )


@dataclass(frozen=True, slots=True)
class Arg:
    """One comparison on a syscall argument: `(arg & mask) == value` (mask None: `arg == value`)."""

    index: int
    value: int
    mask: int | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """Allow `syscall` when every comparison holds (several rules for one syscall are ORed);
    `errno_value` instead turns the rule into a deny with that errno (e.g. ENOSYS for clone3,
    so that the C library falls back to clone, whose flags can be inspected)."""

    syscall: str
    args: tuple[Arg, ...] = ()
    errno_value: int | None = None


_lib: ctypes.CDLL | None = None


def load_library() -> ctypes.CDLL:
    """dlopen libseccomp now (it cannot be opened once the filter forbids open)."""
    global _lib
    if _lib is None:
        try:
            lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
        except OSError as exc:
            raise SeccompUnavailable(f"libseccomp.so.2 cannot be loaded: {exc}") from None
        lib.seccomp_init.restype = ctypes.c_void_p
        lib.seccomp_init.argtypes = (ctypes.c_uint32,)
        lib.seccomp_release.restype = None
        lib.seccomp_release.argtypes = (ctypes.c_void_p,)
        lib.seccomp_attr_set.restype = ctypes.c_int
        lib.seccomp_attr_set.argtypes = (ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32)
        lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
        lib.seccomp_syscall_resolve_name.argtypes = (ctypes.c_char_p,)
        lib.seccomp_rule_add_array.restype = ctypes.c_int
        lib.seccomp_rule_add_array.argtypes = (
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.POINTER(_ArgCmp),
        )
        lib.seccomp_load.restype = ctypes.c_int
        lib.seccomp_load.argtypes = (ctypes.c_void_p,)
        _lib = lib
    return _lib


class Filter:
    """An allowlist under construction; `load()` installs it on the calling thread (and on
    every thread and process it later creates)."""

    def __init__(self, default_errno: int = errno.EPERM) -> None:
        self._lib = load_library()
        ctx = self._lib.seccomp_init(_ACT_ERRNO | (default_errno & 0xFFFF))
        if not ctx:
            raise SeccompUnavailable("seccomp_init failed")
        self._ctx: int | None = ctx
        # A foreign-architecture syscall is an attack, not a probe: kill.
        self._check(
            self._lib.seccomp_attr_set(ctx, _ATTR_ACT_BADARCH, _ACT_KILL_PROCESS),
            "set the bad-architecture action",
        )
        # no_new_privs is set by the caller explicitly; keep libseccomp's default (set it).
        self._check(self._lib.seccomp_attr_set(ctx, _ATTR_CTL_NNP, 1), "set no_new_privs")

    def _check(self, rc: int, what: str) -> None:
        if rc < 0:
            raise SeccompUnavailable(f"libseccomp could not {what}: {errno.errorcode.get(-rc, rc)}")

    def syscall_number(self, name: str) -> int | None:
        """The native number of `name`, or None when this architecture has no such syscall."""
        number = self._lib.seccomp_syscall_resolve_name(name.encode())
        return None if number < 0 else int(number)

    def add(self, rules: Iterable[Rule]) -> list[str]:
        """Add rules; returns the names this architecture does not have (skipped)."""
        if self._ctx is None:
            raise SeccompUnavailable("filter already loaded")
        missing: list[str] = []
        for rule in rules:
            number = self.syscall_number(rule.syscall)
            if number is None:
                missing.append(rule.syscall)
                continue
            cmps = (_ArgCmp * max(1, len(rule.args)))()
            for i, arg in enumerate(rule.args):
                if arg.mask is None:
                    cmps[i] = _ArgCmp(arg.index, _CMP_EQ, arg.value, 0)
                else:
                    cmps[i] = _ArgCmp(arg.index, _CMP_MASKED_EQ, arg.mask, arg.value)
            action = (
                _ACT_ALLOW if rule.errno_value is None else _ACT_ERRNO | (rule.errno_value & 0xFFFF)
            )
            self._check(
                self._lib.seccomp_rule_add_array(self._ctx, action, number, len(rule.args), cmps),
                f"add a rule for {rule.syscall}",
            )
        return missing

    def load(self) -> None:
        if self._ctx is None:
            raise SeccompUnavailable("filter already loaded")
        ctx, self._ctx = self._ctx, None
        try:
            self._check(self._lib.seccomp_load(ctx), "load the filter")
        finally:
            self._lib.seccomp_release(ctx)

    def release(self) -> None:
        if self._ctx is not None:
            self._lib.seccomp_release(self._ctx)
            self._ctx = None
