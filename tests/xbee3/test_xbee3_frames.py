"""The XBee API frame codec (celltls.dialects.xbee3.frames): the reference's byte strings
(shared/reference/xbee3.md S6, S7, S8, S12 C), property round-trips of every frame type the
driver uses through API mode 1 and 2 with any split of the stream, and Digi's own library
(PyPI digi-xbee) as an independent oracle of checksums and escaping."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltls.dialects.xbee3 import frames as fr
from celltls.dialects.xbee3.catalog import ESCAPED_BYTES

HEX = bytes.fromhex


# -- byte strings from the reference ----------------------------------------------------------

@pytest.mark.parametrize(("frame", "wire"), [
    # S7 examples
    (fr.ATCommand(1, "AI"), "7E 00 04 08 01 41 49 6C"),
    (fr.ATResponse(1, "AI", 0, b"\x00"), "7E 00 06 88 01 41 49 00 00 EC"),
    (fr.ATCommand(2, "DE", b"\x01\xbb"), "7E 00 06 08 02 44 45 01 BB B0"),
    (fr.ATResponse(2, "DE", 0), "7E 00 05 88 02 44 45 00 EC"),
    (fr.ATResponse(3, "XX", 2), "7E 00 05 88 03 58 58 02 C2"),
    (fr.TXRequestTLS(1, bytes([93, 184, 216, 34]), 443, 0, 0, 0, b"GET / HTTP/1.1\r\n\r\n"),
     "7E 00 1E 23 01 5D B8 D8 22 01 BB 00 00 00 00 47 45 54 20 2F 20 48 54 54 50 2F 31 2E 31 "
     "0D 0A 0D 0A 94"),
    # S4 modem status
    (fr.ModemStatus(2), "7E 00 02 8A 02 73"),
    # S8 TLS profile option
    (fr.SocketOption(5, 0, 0, b"\x01"), "7E 00 05 41 05 00 00 01 B8"),
    (fr.SocketOptionResponse(5, 0, 0, 0), "7E 00 05 C1 05 00 00 00 39"),
    # S12 C: the vendor's extended-socket HTTP example
    (fr.SocketCreate(1, 1), "7E 00 03 40 01 01 BD"),
    (fr.SocketCreateResponse(1, 0, 0), "7E 00 04 C0 01 00 00 3E"),
    (fr.SocketConnect(1, 0, 80, 1, b"numbersapi.com"),
     "7E 00 14 42 01 00 00 50 01 6E 75 6D 62 65 72 73 61 70 69 2E 63 6F 6D C8"),
    (fr.SocketConnectResponse(1, 0, 0), "7E 00 04 C2 01 00 00 3C"),
    (fr.SocketStatus(0, 0), "7E 00 03 CF 00 00 30"),
    (fr.TXStatus(1, 0), "7E 00 03 89 01 00 75"),
    (fr.SocketStatus(0, 7), "7E 00 03 CF 00 07 29"),
    (fr.SocketClose(1, 0), "7E 00 03 43 01 00 BB"),
    (fr.SocketCloseResponse(1, 0, 0), "7E 00 04 C3 01 00 00 3B"),
])
def test_reference_byte_strings(frame: fr.Frame, wire: str) -> None:
    assert fr.encode(frame) == HEX(wire)
    decoded = fr.FrameDecoder().feed(HEX(wire))
    assert len(decoded) == 1 and isinstance(decoded[0], bytes)
    assert fr.parse(decoded[0]) == frame


def test_escaping_examples_of_s6() -> None:
    assert fr.encode(HEX("23 11"), escaped=True) == HEX("7E 00 02 23 7D 31 CB")
    assert fr.encode(fr.ATCommand(0x7D, "AI"), escaped=True) == HEX("7E 00 04 08 7D 5D 41 49 F0")
    assert fr.FrameDecoder(escaped=True).feed(HEX("7E 00 04 08 7D 5D 41 49 F0")) == \
        [HEX("08 7D 41 49")]


def test_bad_checksum_is_reported_and_the_next_frame_still_read() -> None:
    decoder = fr.FrameDecoder()
    out = decoder.feed(HEX("7E 00 03 89 01 00 76") + HEX("7E 00 03 CF 00 07 29"))
    assert isinstance(out[0], fr.FrameError) and "checksum" in str(out[0])
    assert out[1:] == [HEX("CF 00 07")]
    assert decoder.dropped == 1


def test_escaped_frame_cut_short_by_a_delimiter_is_dropped() -> None:
    decoder = fr.FrameDecoder(escaped=True)
    out = decoder.feed(HEX("7E 00 05 88 02 44") + HEX("7E 00 03 CF 00 07 29"))
    assert isinstance(out[0], fr.FrameError)
    assert out[1:] == [HEX("CF 00 07")]


def test_noise_before_a_frame_is_skipped() -> None:
    decoder = fr.FrameDecoder()
    assert decoder.feed(b"OK\r" + HEX("7E 00 03 CF 00 07 29")) == [HEX("CF 00 07")]
    assert decoder.skipped == 3


def test_wrong_sizes_raise() -> None:
    with pytest.raises(fr.FrameError):
        fr.parse(HEX("C0 01 00"))  # one byte short
    with pytest.raises(fr.FrameError):
        fr.parse(HEX("CF 00 07 00"))  # one byte too many
    with pytest.raises(fr.FrameError):
        fr.encode(fr.SocketCreate(256, 4))
    assert fr.parse(HEX("A0 01")) == fr.UnknownFrame(0xA0, b"\x01")


# -- property round-trips ---------------------------------------------------------------------

_KIND = {
    "u8": st.integers(0, 0xFF),
    "u16": st.integers(0, 0xFFFF),
    "a2": st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$#%", min_size=2, max_size=2),
    "b4": st.binary(min_size=4, max_size=4),
    # bytes that need escaping are made frequent
    "rest": st.lists(st.one_of(st.sampled_from(sorted(ESCAPED_BYTES)), st.integers(0, 255)),
                     max_size=1500).map(bytes),
}


def _frames() -> st.SearchStrategy[fr.Frame]:
    options = []
    for cls in fr.FRAME_CLASSES.values():
        names = [f.name for f in fields(cls)]
        strategies = {name: _KIND[kind] for name, kind in zip(names, cls.LAYOUT, strict=True)}
        options.append(st.builds(cls, **strategies))
    return st.one_of(options)


@settings(max_examples=300, deadline=None)
@given(st.lists(_frames(), min_size=1, max_size=5), st.booleans(), st.data())
def test_round_trip_any_split(frames: list[fr.Frame], escaped: bool, data: st.DataObject) -> None:
    wire = b"".join(fr.encode(f, escaped=escaped) for f in frames)
    if escaped:
        # nothing that needs escaping is left raw after the delimiter of each frame
        for chunk in wire.split(b"\x7e")[1:]:
            assert not ({0x7E, 0x11, 0x13} & set(chunk))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    decoder = fr.FrameDecoder(escaped=escaped)
    out: list[bytes | fr.FrameError] = []
    start = 0
    for cut in [*cuts, len(wire)]:
        out += decoder.feed(wire[start:cut])
        start = cut
    assert all(isinstance(item, bytes) for item in out)
    assert [fr.parse(item) for item in out if isinstance(item, bytes)] == frames


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=300))
def test_checksum_property(data: bytes) -> None:
    wire = fr.encode(data)
    assert (sum(wire[3:]) & 0xFF) == 0xFF  # S6: data + checksum ends in 0xFF


# -- Digi's library as an oracle --------------------------------------------------------------

digi_socket = pytest.importorskip("digi.xbee.packets.socket")
digi_common = pytest.importorskip("digi.xbee.packets.common")
digi_protocol = pytest.importorskip("digi.xbee.models.protocol")
digi_options = pytest.importorskip("digi.xbee.models.options")
digi_status = pytest.importorskip("digi.xbee.models.status")

_BYTE = st.integers(0, 0xFF)
_PAYLOAD = _KIND["rest"]


@settings(max_examples=200, deadline=None)
@given(_BYTE, _BYTE, _PAYLOAD, st.integers(1, 0xFFFF),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyz.-0123456789", min_size=1, max_size=60))
def test_digi_xbee_encodes_the_driver_frames_identically(fid: int, sid: int, payload: bytes,
                                                         port: int, host: str) -> None:
    """Every host-to-module frame the driver sends (0x08, 0x40-0x44; 0x23 is absent from
    digi-xbee, xbee3.md S11) against Digi's classes, in API mode 1 and 2."""
    tls = digi_protocol.IPProtocol.TCP_SSL
    pairs = [
        (fr.ATCommand(fid, "AN", payload[:20]),
         digi_common.ATCommPacket(fid, "AN", bytearray(payload[:20]) or None)),
        (fr.SocketCreate(fid, 4), digi_socket.SocketCreatePacket(fid, tls)),
        (fr.SocketOption(fid, sid, 0, bytes((fid % 3,))),
         digi_socket.SocketOptionRequestPacket(fid, sid, digi_options.SocketOption.TLS_PROFILE,
                                               bytearray((fid % 3,)))),
        (fr.SocketConnect(fid, sid, port, 1, host.encode()),
         digi_socket.SocketConnectPacket(fid, sid, port, 1, host)),
        (fr.SocketSend(fid, sid, 0, payload),
         digi_socket.SocketSendPacket(fid, sid, bytearray(payload))),
        (fr.SocketClose(fid, sid), digi_socket.SocketClosePacket(fid, sid)),
    ]
    for ours, theirs in pairs:
        assert fr.encode(ours) == bytes(theirs.output()), ours
        assert fr.encode(ours, escaped=True) == bytes(theirs.output(escaped=True)), ours


@settings(max_examples=100, deadline=None)
@given(_BYTE, _BYTE, _PAYLOAD)
def test_frames_digi_xbee_builds_decode_with_ours(fid: int, sid: int, payload: bytes) -> None:
    """Module-to-host frames built by Digi's classes, escaped, through our decoder."""
    theirs = [
        (digi_socket.SocketReceivePacket(fid, sid, bytearray(payload)),
         fr.SocketReceive(fid, sid, 0, payload)),
        (digi_socket.SocketStatePacket(sid, digi_status.SocketState.CONNECTED),
         fr.SocketStatus(sid, 0)),
        (digi_socket.SocketCreateResponsePacket(fid, sid, digi_status.SocketStatus.SUCCESS),
         fr.SocketCreateResponse(fid, sid, 0)),
    ]
    for packet, ours in theirs:
        out = fr.FrameDecoder(escaped=True).feed(bytes(packet.output(escaped=True)))
        assert len(out) == 1 and isinstance(out[0], bytes)
        assert fr.parse(out[0]) == ours


def test_digi_xbee_frames_decode_with_ours() -> None:
    common = pytest.importorskip("digi.xbee.packets.common")
    packet = common.ATCommPacket(0x7D, "AI")
    assert fr.FrameDecoder(escaped=True).feed(bytes(packet.output(escaped=True))) == \
        [HEX("08 7D 41 49")]
    socket_packets = pytest.importorskip("digi.xbee.packets.socket")
    send = socket_packets.SocketSendPacket(0x11, 0x13, b"\x7e\x7d" * 10)
    out = fr.FrameDecoder(escaped=True).feed(bytes(send.output(escaped=True)))
    assert fr.parse(out[0]) == fr.SocketSend(0x11, 0x13, 0, b"\x7e\x7d" * 10)  # type: ignore[arg-type]


# -- resynchronising after a lost byte (API mode 1) ------------------------------------------
#
# A garbled delimiter (0x7E ^ 0x5A = 0x24, as the virtual modem's line noise) makes the decoder
# skip to the next 0x7E, which in API mode 1 may be inside frame data. Here it is followed by
# 0x01 0x00: a "frame" of 256 data bytes, longer than what is left on the line.

def _garbled_receive(tail: bytes, false_length: int = 0x100) -> bytes:
    """A 0xCD frame whose delimiter was garbled, with a false delimiter in its data: 0x7E,
    ``false_length``, then ``tail`` and the 0xCD frame's checksum."""
    false_start = b"\x7e" + false_length.to_bytes(2, "big")
    wire = fr.encode(fr.SocketReceive(0, 0, 0, bytes(40) + false_start + tail))
    return b"\x24" + wire[1:]


def test_a_false_delimiter_does_not_swallow_the_frames_after_a_pause() -> None:
    """The bug of the next request after a garbled byte: the 0xC0 answer of the next 0x40 came
    inside the false frame's span and was never seen. Once the line is quiet, the pending frame
    is reported and the real one found (xbee3.md S6)."""
    decoder = fr.FrameDecoder()
    out = decoder.feed(fr.encode(fr.TXStatus(1, 0)) + _garbled_receive(bytes(20)))
    assert [item for item in out if isinstance(item, bytes)] == [HEX("89 01 00")]
    answer = fr.encode(fr.SocketCreateResponse(2, 0, 0))
    assert decoder.feed(answer) == []  # held: the false frame wants 256 bytes
    assert decoder.pending and decoder.resynchronising  # found after skipped bytes
    settled = decoder.settle()
    assert isinstance(settled[0], fr.FrameError) and "incomplete" in str(settled[0])
    assert settled[1:] == [answer[3:-1]]
    assert decoder.pending == 0 and decoder.settle() == []
    assert decoder.feed(fr.encode(fr.TXStatus(3, 0))) == [HEX("89 03 00")]


def test_a_checksum_failure_reads_on_after_the_delimiter() -> None:
    """A false frame that completes (the stream went on) fails its checksum; the real frames
    inside its span are read, not dropped with it."""
    real = [fr.SocketCreateResponse(2, 0, 0), fr.TXStatus(3, 0), fr.TXStatus(4, 0)]
    inside = b"".join(fr.encode(f) for f in real)
    # the false frame ends on the last byte of the last real frame
    false_length = len(bytes(10)) + 1 + len(inside) - 1
    wire = fr.encode(fr.TXStatus(1, 0)) + _garbled_receive(bytes(10), false_length) + inside
    span = wire[wire.index(b"\x7e", 8):]
    assert len(span) == false_length + 4 and fr.checksum(span[3:-1]) != span[-1]
    for split in (len(wire), 30, 1):
        decoder = fr.FrameDecoder()
        out: list[bytes | fr.FrameError] = []
        for start in range(0, len(wire), split):
            out += decoder.feed(wire[start : start + split])
        good = [fr.parse(item) for item in out if isinstance(item, bytes)]
        assert good == [fr.TXStatus(1, 0), *real], split
        errors = [str(item) for item in out if isinstance(item, fr.FrameError)]
        assert len(errors) == 2 and "checksum" in errors[1], errors
        assert decoder.pending == 0


def test_a_frame_whose_delimiter_was_lost_is_named() -> None:
    """No 0x7E in its data: the frame is skipped to the next delimiter; once frames have been
    read, that is a lost frame and is reported (data missing from a socket would be silent)."""
    lost = b"\x24" + fr.encode(fr.SocketReceive(0, 0, 0, b"hello"))[1:]
    decoder = fr.FrameDecoder()
    out = decoder.feed(fr.encode(fr.TXStatus(1, 0)) + lost + fr.encode(fr.TXStatus(2, 0)))
    assert out[0] == HEX("89 01 00") and out[2] == HEX("89 02 00")
    assert isinstance(out[1], fr.FrameError) and "delimiter" in str(out[1])
    assert decoder.skipped == len(lost)


@pytest.mark.parametrize("escaped", [False, True])
def test_settle_waits_for_a_frame_with_a_real_delimiter_and_nothing_at_a_boundary(
        escaped: bool) -> None:
    """A frame cut short right after a good one is a pause of the line until something says
    otherwise: settle leaves it; its rest completes it; and when bytes were really lost, the
    frames after it report it (its checksum, or the next delimiter in API mode 2)."""
    frame = fr.SocketReceive(1, 0, 0, b"\x7e\x7d" * 30)
    wire = fr.encode(frame, escaped=escaped)
    decoder = fr.FrameDecoder(escaped=escaped)
    assert decoder.feed(wire[:-5]) == [] and not decoder.resynchronising  # a real delimiter
    assert decoder.settle() == [] and decoder.pending and decoder.dropped == 0  # a pause
    assert [fr.parse(item) for item in decoder.feed(wire[-5:])] == [frame]  # type: ignore[arg-type]
    decoder = fr.FrameDecoder(escaped=escaped)
    assert decoder.feed(wire[:-5]) == [] and decoder.settle() == []
    after = fr.encode(fr.TXStatus(7, 0), escaped=escaped)
    out = decoder.feed(after * 3)  # the rest never came: the next frames tell
    assert any(isinstance(item, fr.FrameError) for item in out) and decoder.dropped >= 1
    assert out[-1] == HEX("89 07 00") and decoder.pending == 0
    decoder = fr.FrameDecoder(escaped=escaped)
    assert len(decoder.feed(wire)) == 1
    assert decoder.settle() == [] and decoder.dropped == 0


def test_settle_breaks_a_frame_with_a_real_delimiter_when_a_good_frame_starts_inside() -> None:
    """A garbled length (API mode 1) makes a frame that began right after a good one swallow
    the frames after it: a good frame inside its span is the evidence, and settle reads it."""
    decoder = fr.FrameDecoder()
    answer = fr.encode(fr.SocketCreateResponse(2, 0, 0))
    assert decoder.feed(fr.encode(fr.TXStatus(1, 0))) == [HEX("89 01 00")]
    assert decoder.feed(bytes.fromhex("7E 01 00 CD 00 00") + bytes(10) + answer) == []
    assert not decoder.resynchronising
    settled = decoder.settle()
    assert isinstance(settled[0], fr.FrameError) and "incomplete" in str(settled[0])
    assert settled[-1] == answer[3:-1] and decoder.pending == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(_frames(), min_size=1, max_size=5), st.booleans(), st.data())
def test_settle_between_frames_never_cuts_a_healthy_stream(
        frames: list[fr.Frame], escaped: bool, data: st.DataObject) -> None:
    """The driver settles only when the line is quiet, which on a healthy line is between
    frames (a module writes a frame in one go): any split, a settle at every frame end."""
    decoder = fr.FrameDecoder(escaped=escaped)
    out: list[bytes | fr.FrameError] = []
    for frame in frames:
        wire = fr.encode(frame, escaped=escaped)
        cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=4)))
        start = 0
        for cut in [*cuts, len(wire)]:
            out += decoder.feed(wire[start:cut])
            start = cut
        out += decoder.settle()
    assert [fr.parse(item) for item in out] == frames  # no FrameError among them
    assert decoder.dropped == 0 and decoder.skipped == 0
