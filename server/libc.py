"""The C library calls Python does not wrap, bound once with their prototypes.

Shared by the sandbox (namespaces, capabilities, the empty root), its escape battery and the
mount helper. Every function sets errno (`ctypes.get_errno()` reads it after a failure).
"""

from __future__ import annotations

import ctypes

# mount(2) flags (linux/mount.h) and umount2(2)'s lazy detach.
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

libc = ctypes.CDLL(None, use_errno=True)

libc.prctl.restype = ctypes.c_int
# arg2 is a number or, for PR_SET_NAME, a pointer to the name: c_void_p takes both.
libc.prctl.argtypes = (
    ctypes.c_int,  # option
    ctypes.c_void_p,
    ctypes.c_ulong,
    ctypes.c_ulong,
    ctypes.c_ulong,
)
libc.unshare.restype = ctypes.c_int
libc.unshare.argtypes = (ctypes.c_int,)
libc.setns.restype = ctypes.c_int
libc.setns.argtypes = (ctypes.c_int, ctypes.c_int)
libc.mount.restype = ctypes.c_int
libc.mount.argtypes = (
    ctypes.c_char_p,  # source
    ctypes.c_char_p,  # target
    ctypes.c_char_p,  # filesystem type
    ctypes.c_ulong,  # MS_* flags
    ctypes.c_void_p,  # data: the option string
)
libc.umount2.restype = ctypes.c_int
libc.umount2.argtypes = (ctypes.c_char_p, ctypes.c_int)
# syscall(2) is variadic: callers wrap each argument in a ctypes type.
libc.syscall.restype = ctypes.c_long
