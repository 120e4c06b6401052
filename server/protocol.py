"""The frames between a contained parser (the child) and the CLI (the parent).

The child is assumed compromised: it parsed a hostile image. So nothing it sends is code or
an object graph (JSON only, never pickle), every frame has a size cap known before its
payload is read, and the parent checks every message against an explicit shape before
anything is printed or written.

A frame is a 5-byte header, `kind` (one byte) and `length` (big-endian u32), then `length`
bytes of payload:

- `J`: one JSON object, UTF-8, at most MAX_JSON bytes, with a string field `t` naming its
  type; the command's schema for that type decides which other fields it must and may have;
- `B`: raw bytes of a file (for `cat` and `extract`), at most MAX_BYTES.

Every answer ends with exactly one terminal message: `done`, `error` (an expected failure:
the parser's typed error, with the exit code it means) or `crash` (an unexpected exception
in the child, reported before it exits).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ext4guard.parser.errors import Where

KIND_JSON = 0x4A  # "J"
KIND_BYTES = 0x42  # "B"
HEADER = struct.Struct(">BI")
MAX_JSON = 4 << 20
MAX_BYTES = 1 << 20
#: The child batches small frames into writes of about this size.
WRITE_BATCH = 64 << 10


class ProtocolError(Exception):
    """The child sent something outside the protocol: the whole answer is rejected."""


# -- shapes ----------------------------------------------------------------------------------
#
# A spec checks one decoded JSON value and returns its normalized form (objects are rebuilt
# in their declared key order, so what the parent prints never depends on the child's order).

Spec = Callable[[object, str], Any]

INT_LIMIT = 1 << 72  # wide enough for nanosecond times past 2446, small enough to be cheap


def integer(low: int = 0, high: int = (1 << 64) - 1) -> Spec:
    def check(value: object, at: str) -> int:
        # bool is an int subclass: `true` is not a number here.
        if type(value) is not int or not low <= value <= high:
            raise ProtocolError(f"{at}: expected an integer in [{low}, {high}]")
        return value

    return check


def boolean(value: object, at: str) -> bool:
    if type(value) is not bool:
        raise ProtocolError(f"{at}: expected a boolean")
    return value


def text(max_len: int = 1 << 20) -> Spec:
    def check(value: object, at: str) -> str:
        if type(value) is not str or len(value) > max_len:
            raise ProtocolError(f"{at}: expected a string of at most {max_len} characters")
        try:
            value.encode("utf-8")  # lone surrogates ("\ud800") cannot be printed
        except UnicodeEncodeError:
            raise ProtocolError(f"{at}: string is not valid Unicode") from None
        return value

    return check


def hexbytes(max_len: int, *, min_len: int = 0) -> Spec:
    """Bytes sent as lowercase hex; returns the bytes."""

    def check(value: object, at: str) -> bytes:
        if type(value) is not str or not 2 * min_len <= len(value) <= 2 * max_len:
            raise ProtocolError(f"{at}: expected hex of {min_len} to {max_len} bytes")
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise ProtocolError(f"{at}: not hex") from None

    return check


def hextext(max_len: int) -> Spec:
    """Bytes shown as lowercase hex, kept as that text (e.g. `path_hex` in `ls --json`)."""

    def check(value: object, at: str) -> str:
        if (
            type(value) is not str
            or len(value) > 2 * max_len
            or len(value) % 2
            or value.strip("0123456789abcdef")
        ):
            raise ProtocolError(f"{at}: expected lowercase hex of at most {max_len} bytes")
        return value

    return check


def choice(*values: str) -> Spec:
    allowed = frozenset(values)

    def check(value: object, at: str) -> str:
        if type(value) is not str or value not in allowed:
            raise ProtocolError(f"{at}: expected one of {sorted(allowed)}")
        return value

    return check


def nullable(spec: Spec) -> Spec:
    def check(value: object, at: str) -> Any:
        return None if value is None else spec(value, at)

    return check


def list_of(spec: Spec, max_items: int) -> Spec:
    def check(value: object, at: str) -> list[Any]:
        if type(value) is not list or len(value) > max_items:
            raise ProtocolError(f"{at}: expected a list of at most {max_items} items")
        return [spec(item, f"{at}[{i}]") for i, item in enumerate(value)]

    return check


def fixed_list(*specs: Spec) -> Spec:
    def check(value: object, at: str) -> list[Any]:
        if type(value) is not list or len(value) != len(specs):
            raise ProtocolError(f"{at}: expected a list of {len(specs)} items")
        pairs = enumerate(zip(specs, value, strict=True))
        return [spec(item, f"{at}[{i}]") for i, (spec, item) in pairs]

    return check


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    spec: Spec
    required: bool = True


def obj(*fields: Field) -> Spec:
    """An object with exactly these keys (optional ones may be missing), in this order."""
    names = frozenset(f.name for f in fields)

    def check(value: object, at: str) -> dict[str, Any]:
        if type(value) is not dict:
            raise ProtocolError(f"{at}: expected an object")
        unknown = value.keys() - names
        if unknown:
            raise ProtocolError(f"{at}: unexpected keys {sorted(unknown)[:5]}")
        out: dict[str, Any] = {}
        for f in fields:
            if f.name in value:
                out[f.name] = f.spec(value[f.name], f"{at}.{f.name}")
            elif f.required:
                raise ProtocolError(f"{at}: missing key {f.name!r}")
        return out

    return check


def fields(**specs: Spec) -> Spec:
    """Shorthand for an object whose keys are all required, in keyword order."""
    return obj(*(Field(name, spec) for name, spec in specs.items()))


# -- messages every command shares -----------------------------------------------------------

WHERE = obj(*(Field(key, integer(-INT_LIMIT, INT_LIMIT), False) for key in Where.__slots__))
FINDING = fields(code=text(64), where=WHERE, detail=text(64 << 10))

#: Terminal messages; the worker handles them, commands never see them.
TERMINAL: dict[str, Spec] = {
    "done": fields(),
    "error": fields(exit=integer(1, 2), message=text(64 << 10)),
    "crash": fields(type=text(128), message=text(64 << 10)),
    "sandbox_error": fields(message=text(64 << 10)),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """A finding as the parent knows it: printed and serialized exactly as `Ext4Error`."""

    code: str
    where: Where
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail} ({self.where})"

    def as_finding(self) -> dict[str, object]:
        return {"code": self.code, "where": self.where.as_dict(), "detail": self.detail}


def finding_message(finding: Any) -> dict[str, object]:
    """The `finding` message of an `Ext4Error` (or a `Finding`), child side."""
    return {"t": "finding", **finding.as_finding()}


def finding_from(message: Mapping[str, Any]) -> Finding:
    """The `Finding` of a validated `finding` message."""
    return Finding(message["code"], Where(**message["where"]), message["detail"])


# -- the child's side ------------------------------------------------------------------------


def encode_json(message: Mapping[str, object]) -> bytes:
    """One JSON frame. ASCII-only JSON: every string survives whatever it holds."""
    payload = json.dumps(message, separators=(",", ":")).encode("ascii")
    if len(payload) > MAX_JSON:
        raise ProtocolError(f"a {message.get('t')!r} message of {len(payload)} bytes is too big")
    return HEADER.pack(KIND_JSON, len(payload)) + payload


class Channel:
    """Sends frames through `write` (the pipe, or the parent's decoder when not contained),
    batching small frames; `flush()` before the end."""

    __slots__ = ("_buffer", "_write")

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self._buffer = bytearray()

    def send(self, message: Mapping[str, object]) -> None:
        self._buffer += encode_json(message)
        if len(self._buffer) >= WRITE_BATCH:
            self.flush()

    def send_bytes(self, data: bytes) -> None:
        """File content, in frames of at most MAX_BYTES."""
        for start in range(0, len(data), MAX_BYTES):
            part = data if len(data) <= MAX_BYTES else data[start : start + MAX_BYTES]
            # One write with whatever is batched: one wake-up of the parent per chunk.
            head = bytes(self._buffer) + HEADER.pack(KIND_BYTES, len(part))
            self._buffer.clear()
            self._write(head + part)

    def flush(self) -> None:
        if self._buffer:
            data = bytes(self._buffer)
            self._buffer.clear()
            self._write(data)


# -- the parent's side -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """A validated JSON message: its type and its normalized fields (without `t`)."""

    type: str
    fields: dict[str, Any]


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse_message(payload: bytes, schemas: Mapping[str, Spec]) -> Message:
    """Decode and validate one JSON payload against the schema of its type."""
    try:
        value = json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError covers malformed JSON and integers of more than 4300 digits;
        # RecursionError, nesting deeper than the interpreter's limit.
        raise ProtocolError(f"malformed JSON: {type(exc).__name__}") from None
    if type(value) is not dict:
        raise ProtocolError("a message must be a JSON object")
    kind = value.pop("t", None)
    spec = schemas.get(kind) if type(kind) is str else None
    if spec is None:
        raise ProtocolError(f"unexpected message type {str(kind)[:40]!r}")
    return Message(kind, spec(value, str(kind)))


class FrameDecoder:
    """Splits the byte stream into frames and validates each as soon as it is complete.
    `schemas` holds every JSON message type this answer may contain."""

    __slots__ = ("_buffer", "schemas")

    def __init__(self, schemas: Mapping[str, Spec]) -> None:
        self.schemas = schemas
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[Message | bytes]:
        # Frames are cut straight from `data` when nothing is buffered (the common case for
        # big file chunks): each payload is copied once.
        src: bytes | bytearray = data
        if self._buffer:
            self._buffer += data
            src = self._buffer
        pos = 0
        with memoryview(src) as view:
            while len(src) - pos >= HEADER.size:
                kind, length = HEADER.unpack_from(src, pos)
                if kind == KIND_JSON:
                    cap = MAX_JSON
                elif kind == KIND_BYTES:
                    cap = MAX_BYTES
                else:
                    raise ProtocolError(f"unknown frame kind 0x{kind:02x}")
                if length > cap:
                    raise ProtocolError(f"a frame of {length} bytes exceeds the cap of {cap}")
                end = pos + HEADER.size + length
                if len(src) < end:
                    break
                payload = bytes(view[pos + HEADER.size : end])
                pos = end
                yield parse_message(payload, self.schemas) if kind == KIND_JSON else payload
            rest = bytes(view[pos:]) if src is data else b""
        if src is data:
            self._buffer += rest
        else:
            del self._buffer[:pos]

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still buffered."""
        return len(self._buffer)
