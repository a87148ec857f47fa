"""Replays of tests/fixtures/xbee3/*.at against the virtual XBee 3, and the frame reader's
properties.

Each fixture names its source (shared/reference/xbee3.md §7 examples, §12 B real log); the
modem must answer the host's bytes with exactly the recorded bytes. The properties check the
modem's API frame reader (§6): any split of the byte stream gives the same frames, AP=2
escaping round-trips, a frame with a bad checksum is dropped and the next one still read.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltls.dialects.xbee3.modem_frames import FrameReader, encode_frame
from tests.xbee3.test_xbee3_modem_support import GUARD, Line, frame

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "xbee3"


def _unescape(text: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "\\":
            code = text[i + 1]
            if code == "x":
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}[code]
            i += 2
            continue
        out += text[i].encode("latin-1")
        i += 1
    return bytes(out)


def _records(path: Path) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    header: dict[str, str] = {}
    records: list[tuple[str, bytes]] = []
    for raw in path.read_text().splitlines():
        line = re.sub(r"^\[[0-9.]+\] ", "", raw)
        if line.startswith("# ") and ":" in line:
            key, _, value = line[2:].partition(":")
            header[key.strip()] = value.strip()
        elif line.startswith(">> "):
            records.append((">", _unescape(line[3:])))
        elif line.startswith("<< "):
            records.append(("<", _unescape(line[3:])))
    return header, records


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.at")), ids=lambda p: p.stem)
def test_fixture_replays_byte_exact(path: Path) -> None:
    header, records = _records(path)
    assert records, f"{path} has no records"
    host = Line(model=header.get("model", "lte-m"), api_mode=int(header.get("api_mode", "0")))
    try:
        for direction, data in records:
            if direction == ">":
                if data == b"+++":
                    time.sleep(GUARD * 1.5)
                host.send(data)
            else:
                assert host.read_exact(len(data), timeout=5) == data, f"{path.name}"
        time.sleep(GUARD * 2)
        assert host.take() == b""
    finally:
        host.close()


_frames = st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(_frames, st.booleans(), st.lists(st.integers(min_value=1, max_value=40), max_size=12))
def test_reader_any_split_same_frames(datas: list[bytes], escaped: bool,
                                      cuts: list[int]) -> None:
    stream = b"".join(frame(d, escaped) for d in datas)
    reader = FrameReader(escaped)
    got: list[bytes] = []
    pos = 0
    for cut in cuts:
        got += reader.feed(stream[pos:pos + cut])
        pos += cut
    got += reader.feed(stream[pos:])
    assert got == datas


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_escaped_encoding_has_no_raw_specials(data: bytes) -> None:
    encoded = encode_frame(data, escaped=True)
    assert not set(encoded[1:]) & {0x7E, 0x11, 0x13}
    assert encoded == frame(data, escaped=True)
    assert FrameReader(True).feed(encoded) == [data]
    assert FrameReader(False).feed(encode_frame(data, escaped=False)) == [data]


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=50), st.binary(min_size=1, max_size=50), st.booleans())
def test_bad_checksum_dropped_next_frame_read(first: bytes, second: bytes, escaped: bool) -> None:
    wrong = ((0xFF - (sum(first) & 0xFF)) + 1) & 0xFF
    body = len(first).to_bytes(2, "big") + first + bytes([wrong])
    if escaped:
        body = b"".join(bytes([0x7D, b ^ 0x20]) if b in (0x7E, 0x7D, 0x11, 0x13) else bytes([b])
                        for b in body)
    reader = FrameReader(escaped)
    assert reader.feed(b"\x7e" + body + frame(second, escaped)) == [second]
    assert reader.dropped == 1


def test_raw_delimiter_restarts_escaped_frame() -> None:
    """§6: in AP=2 a raw 0x7E cannot be inside a frame: the reader starts over there."""
    reader = FrameReader(True)
    partial = frame(b"\x08\x01AI", escaped=True)[:5]
    assert reader.feed(partial + frame(b"\x08\x02AP", escaped=True)) == [b"\x08\x02AP"]
    assert reader.dropped == 1
