"""The record boundary: decode one bounded byte slice with a generated Kaitai class.

Generated code can raise far more than Kaitai's own errors on hostile bytes (DESIGN.md
checklist 1 and 4): EOFError, struct.error, ValueError, IndexError, ZeroDivisionError,
UnicodeDecodeError, OverflowError. All of them become `RecordInvalid` here, with the
record's location. Value instances are evaluated lazily, so the domain value is built from
the record inside the same guard (`build`), and the Kaitai object never leaves this call:
after any failure the half-built object and its stream are dropped with the frame.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from io import BytesIO
from typing import Any, TypeVar

from kaitaistruct import KaitaiStream, KaitaiStructError

from .errors import RecordInvalid, Where

T = TypeVar("T")

_DECODE_FAILURES = (
    KaitaiStructError,
    EOFError,
    struct.error,
    ValueError,
    IndexError,
    KeyError,
    ZeroDivisionError,
    UnicodeDecodeError,
    OverflowError,
    RecursionError,
)


def decode(
    record_type: Callable[..., Any],
    data: bytes,
    where: Where,
    build: Callable[[Any], T],
    *args: Any,
) -> T:
    """Decode `data` (exactly one record's bytes) and return `build(record)`.

    Raises RecordInvalid when the grammar rejects the bytes or `build` trips over them.
    """
    try:
        return build(record_type(KaitaiStream(BytesIO(data)), *args))
    except _DECODE_FAILURES as exc:
        name = getattr(record_type, "__name__", "record")
        raise RecordInvalid(f"{name}: {type(exc).__name__}: {exc}", where) from None
