"""The frames between the contained parser and the CLI: what the parent accepts and rejects.

The child is assumed compromised, so every test here is a message a hostile child could
send; the real messages of every command are checked against the in-process answers on
the seeds (the parent rebuilds exactly what the parser produced).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from ext4guard.parser.errors import ChecksumMismatch, Where
from ext4guard.parser.filesystem import Filesystem
from ext4guard.server import extract, info, listing
from ext4guard.server.protocol import (
    FINDING,
    HEADER,
    KIND_BYTES,
    KIND_JSON,
    MAX_BYTES,
    MAX_JSON,
    Channel,
    Field,
    FrameDecoder,
    Message,
    ProtocolError,
    Spec,
    encode_json,
    finding_from,
    finding_message,
    hexbytes,
    integer,
    obj,
    text,
)
from tests.seeds import SEEDS, seed_image

SCHEMAS: dict[str, Spec] = {
    "rec": obj(Field("a", integer()), Field("b", text(8), False), Field("c", hexbytes(4))),
    "finding": FINDING,
}


def _frame(kind: int, payload: bytes) -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


def _json_frame(text_: str) -> bytes:
    return _frame(KIND_JSON, text_.encode())


def _decode(data: bytes, schemas: dict[str, Spec] = SCHEMAS) -> list[Message | bytes]:
    return list(FrameDecoder(schemas).feed(data))


def test_round_trip_in_any_split() -> None:
    stream = (
        encode_json({"t": "rec", "c": "00ff", "a": 7})
        + _frame(KIND_BYTES, b"\x00" * 10)
        + encode_json({"t": "rec", "a": 0, "b": "é", "c": ""})
    )
    for step in (1, 3, 5, 64, len(stream)):
        decoder = FrameDecoder(SCHEMAS)
        items = [
            i for at in range(0, len(stream), step) for i in decoder.feed(stream[at : at + step])
        ]
        assert items == [
            Message("rec", {"a": 7, "c": b"\x00\xff"}),
            b"\x00" * 10,
            Message("rec", {"a": 0, "b": "é", "c": b""}),
        ]
        assert decoder.pending == 0


def test_objects_are_rebuilt_in_declared_order() -> None:
    (message,) = _decode(_json_frame('{"c":"","b":"x","t":"rec","a":1}'))
    assert isinstance(message, Message)
    assert list(message.fields) == ["a", "b", "c"]


def test_oversized_and_unknown_frames_are_rejected_from_the_header_alone() -> None:
    decoder = FrameDecoder(SCHEMAS)
    with pytest.raises(ProtocolError, match="exceeds the cap"):
        list(decoder.feed(HEADER.pack(KIND_JSON, MAX_JSON + 1)))
    with pytest.raises(ProtocolError, match="exceeds the cap"):
        list(FrameDecoder(SCHEMAS).feed(HEADER.pack(KIND_BYTES, MAX_BYTES + 1)))
    with pytest.raises(ProtocolError, match="unknown frame kind"):
        list(FrameDecoder(SCHEMAS).feed(HEADER.pack(ord("P"), 3) + b"\x80\x04."))  # a pickle


def test_an_incomplete_frame_waits() -> None:
    decoder = FrameDecoder(SCHEMAS)
    frame = encode_json({"t": "rec", "a": 1, "c": ""})
    assert list(decoder.feed(frame[:-1])) == []
    assert decoder.pending == len(frame) - 1
    assert len(list(decoder.feed(frame[-1:]))) == 1


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[1, 2]",  # not an object
        '"rec"',
        '{"a": 1, "c": ""}',  # no type
        '{"t": 5, "a": 1, "c": ""}',
        '{"t": "pickle", "a": 1}',  # a type this answer does not have
        '{"t": "rec", "a": 1}',  # a required key missing
        '{"t": "rec", "a": 1, "c": "", "d": 0}',  # an unknown key
        '{"t": "rec", "a": true, "c": ""}',  # a boolean is not an integer
        '{"t": "rec", "a": 1.5, "c": ""}',
        '{"t": "rec", "a": -1, "c": ""}',  # out of range
        '{"t": "rec", "a": 18446744073709551616, "c": ""}',
        '{"t": "rec", "a": NaN, "c": ""}',
        '{"t": "rec", "a": Infinity, "c": ""}',
        '{"t": "rec", "a": ' + "9" * 5000 + ', "c": ""}',  # int(str) of 5000 digits
        '{"t": "rec", "a": 1, "b": "123456789", "c": ""}',  # string too long
        '{"t": "rec", "a": 1, "b": "\\ud800", "c": ""}',  # a lone surrogate
        '{"t": "rec", "a": 1, "c": "0g"}',  # not hex
        '{"t": "rec", "a": 1, "c": "000"}',  # odd length
        '{"t": "rec", "a": 1, "c": "0000000000"}',  # too many bytes
        '{"t": "rec", "a": 1, "c": [' * 100_000 + "]" * 100_000 + "}",  # nesting bomb
        '{"t": "finding", "code": "x", "where": {"group": 1, "disk": 2}, "detail": ""}',
        '{"t": "finding", "code": "x", "where": [], "detail": ""}',
    ],
)
def test_malformed_messages_are_rejected(payload: str) -> None:
    with pytest.raises(ProtocolError):
        _decode(_json_frame(payload))


def test_invalid_utf8_is_rejected() -> None:
    with pytest.raises(ProtocolError, match="malformed JSON"):
        _decode(_frame(KIND_JSON, b'{"t": "rec", "a": 1, "b": "\xff", "c": ""}'))


def test_findings_print_as_the_parser_error() -> None:
    error = ChecksumMismatch("inode", 1, 2, Where(inode=12, block=40))
    (message,) = _decode(encode_json(finding_message(error)))
    assert isinstance(message, Message)
    finding = finding_from(message.fields)
    assert str(finding) == str(error)
    assert finding.as_finding() == error.as_finding()
    assert list(finding.as_finding()["where"]) == ["inode", "block"]  # type: ignore[call-overload]


def test_channel_batches_small_frames_and_splits_big_bytes() -> None:
    writes: list[bytes] = []
    channel = Channel(writes.append)
    for i in range(10):
        channel.send({"t": "rec", "a": i, "c": ""})
    assert writes == []  # batched until a flush
    channel.send_bytes(b"x" * (2 * MAX_BYTES + 5))
    channel.flush()
    items = _decode(b"".join(writes))
    assert [len(i) for i in items if isinstance(i, bytes)] == [MAX_BYTES, MAX_BYTES, 5]
    assert len([i for i in items if isinstance(i, Message)]) == 10


def test_the_child_refuses_to_send_an_oversized_message() -> None:
    with pytest.raises(ProtocolError, match="too big"):
        encode_json({"t": "rec", "b": "x" * MAX_JSON})


def _through_frames(messages: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> bytes:
    writes: list[bytes] = []
    channel = Channel(writes.append)
    for message in messages:
        channel.send(message)
    channel.flush()
    return b"".join(writes)


@pytest.mark.parametrize("seed", SEEDS)
def test_info_messages_rebuild_the_in_process_report(seed: str) -> None:
    writes: list[bytes] = []
    channel = Channel(writes.append)
    with open(seed_image(seed), "rb") as f:
        info.produce(f.fileno(), channel)
        channel.flush()
        with Filesystem.open(f.fileno()) as fs:
            want = info.collect(fs)
    collector = info.Collector()
    for item in FrameDecoder(collector.schemas).feed(b"".join(writes)):
        collector.handle(item)
    collector.close()
    got = collector.report()
    assert got == want
    # Same JSON text, key order included: the README's shape does not move.
    assert json.dumps(got) == json.dumps(want)


@pytest.mark.parametrize("seed", ["ext4_default", "ext2_1k", "ext4_inline", "ext4_casefold"])
def test_listing_messages_print_the_in_process_records(seed: str) -> None:
    writes: list[bytes] = []
    channel = Channel(writes.append)
    with open(seed_image(seed), "rb") as f:
        listing.produce(f.fileno(), b"/", True, channel)
        channel.flush()
        with Filesystem.open(f.fileno()) as fs:
            want = [json.dumps(r) for r in listing.list_records(fs, b"/", True)]

    out = io.StringIO()
    printer = listing.Printer(True, out)
    for item in FrameDecoder(printer.schemas).feed(b"".join(writes)):
        printer.handle(item)
    assert out.getvalue().splitlines() == want and not printer.damaged


def test_extract_order_is_enforced(tmp_path: Any) -> None:
    extraction = extract.Extraction(str(tmp_path / "dest"), owners=False)
    attrs = {"mode": 0o644, "uid": 0, "gid": 0, "atime_ns": 0, "mtime_ns": 0}

    def op(kind: str, path: bytes, size: int = 0) -> dict[str, Any]:
        return {
            "t": "op",
            "kind": kind,
            "path": path.hex(),
            "attrs": attrs,
            "size": size,
            "target": "",
            "device": None,
            "reason": "",
        }

    def feed(receiver: extract.Receiver, data: bytes) -> None:
        for item in FrameDecoder(receiver.schemas).feed(data):
            receiver.handle(item)

    try:
        good = extract.Receiver(extraction)
        feed(
            good,
            _through_frames([op("file", b"f", 3), {"t": "data", "offset": 0}])
            + _frame(KIND_BYTES, b"abc")
            + _through_frames([op("end", b"f")]),
        )
        good.close()
        assert (tmp_path / "dest" / "f").read_bytes() == b"abc"
        bad_sequences = [
            _through_frames([op("file", b"g", 2), {"t": "data", "offset": 0}])
            + _frame(KIND_BYTES, b"abc"),  # past the size announced
            _frame(KIND_BYTES, b"abc"),  # bytes outside a file
            _through_frames([{"t": "data", "offset": 0}]),  # data outside a file
            _through_frames([op("file", b"h", 1), op("file", b"i", 1)]),  # two at once
            _through_frames([op("end", b"j")]),  # end of nothing
            _through_frames([op("file", b"k", 1), {"t": "data", "offset": 0}, op("end", b"k")]),
            _through_frames([{**op("device", b"l"), "device": [1, 3, "exec"]}]),
            _through_frames([{**op("dir", b"m"), "attrs": None}]),
            _through_frames([{"t": "xattr", "name": "", "value": ""}]),  # empty name
        ]
        for data in bad_sequences:
            with pytest.raises(ProtocolError):
                feed(extract.Receiver(extraction), data)
        unfinished = extract.Receiver(extraction)
        feed(unfinished, _through_frames([op("file", b"n", 1)]))
        with pytest.raises(ProtocolError, match="middle of a file"):
            unfinished.close()
    finally:
        extraction.close()
