"""The XBee API frame codec, host side, sans-IO: frames in, bytes out; bytes in, frames out.

A frame is ``0x7E``, the length of the frame data (2 bytes, big-endian), the frame data (type
byte first) and a checksum ``0xFF - (sum of frame data & 0xFF)``; in API mode 2 every byte after
the delimiter that is 0x7E, 0x7D, 0x11 or 0x13 goes as ``0x7D, byte ^ 0x20`` (xbee3.md S6: D7
p.71, C1 base.py, C2 xbee_device.c). Field layouts are xbee3.md S7 and S8.

Why not the PyPI ``digi-xbee`` package (1.5.0, assessed as xbee3.md S11 and by reading it): its
codec is correct (the tests use it as an oracle), but (1) it has no class for frame 0x23 (TX
Request with TLS Profile), which this dialect needs; (2) its frame reader is a blocking thread
bound to its own serial wrapper and does not resynchronise on a raw 0x7E inside an escaped frame,
while celltls reads the port in its own channel and needs a sans-IO decoder it can feed any split
of the stream; (3) it would be a run-time dependency (pulling its whole device model) for about
a hundred lines of framing. This module is written from the reference, not from its code.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Literal

from celltls.dialects.xbee3.catalog import (
    ESCAPE,
    ESCAPE_XOR,
    ESCAPED_BYTES,
    FRAME_DELIMITER,
    MAX_PAYLOAD,
)
from celltls.errors import ATProtocolError

__all__ = [
    "ATCommand", "ATResponse", "Frame", "FrameDecoder", "FrameError", "ModemStatus",
    "RXIPv4", "SocketClose", "SocketCloseResponse", "SocketConnect", "SocketConnectResponse",
    "SocketCreate", "SocketCreateResponse", "SocketOption", "SocketOptionResponse",
    "SocketReceive", "SocketSend", "SocketStatus", "TXRequestIPv4", "TXRequestTLS", "TXStatus",
    "UnknownFrame", "checksum", "encode", "escape", "parse",
]

#: Largest frame data the decoder accepts, bytes: a 1500-byte payload plus headers, with room.
MAX_FRAME_DATA = MAX_PAYLOAD + 64


class FrameError(ATProtocolError):
    """An API frame that cannot be read: bad checksum, bad length, too short for its type
    (xbee3.md S6). Exit code 8, as any malformed answer of the module."""


def checksum(data: bytes) -> int:
    """The API checksum of ``data`` (the frame data: type byte and fields, unescaped):
    ``0xFF - (sum & 0xFF)`` (xbee3.md S6)."""
    return 0xFF - (sum(data) & 0xFF)


def escape(data: bytes) -> bytes:
    """``data`` with 0x7E, 0x7D, 0x11 and 0x13 escaped as ``0x7D, byte ^ 0x20`` (API mode 2,
    xbee3.md S6)."""
    out = bytearray()
    for byte in data:
        if byte in ESCAPED_BYTES:
            out += bytes((ESCAPE, byte ^ ESCAPE_XOR))
        else:
            out.append(byte)
    return bytes(out)


def encode(frame: Frame | bytes, *, escaped: bool = False) -> bytes:
    """The bytes on the line for one frame.

    Args:
        frame: a :class:`Frame`, or the frame data (type byte first) as bytes.
        escaped: API mode 2 (``AP=2``): escape everything after the delimiter.

    Returns:
        bytes: ``7E``, length, data, checksum.

    Raises:
        FrameError: the frame data is empty or longer than 65535 bytes.
    """
    data = frame.to_bytes() if isinstance(frame, Frame) else bytes(frame)
    if not data or len(data) > 0xFFFF:
        raise FrameError(f"frame data of {len(data)} bytes cannot be framed")
    body = len(data).to_bytes(2, "big") + data + bytes((checksum(data),))
    return bytes((FRAME_DELIMITER,)) + (escape(body) if escaped else body)


class FrameDecoder:
    """Frames from a byte stream split anywhere (sans-IO).

    A frame whose checksum or length is wrong is reported as a :class:`FrameError` in the
    output, in its place among the good frames (counted in :attr:`dropped`), and decoding goes
    on (xbee3.md S6). Bytes before a delimiter are skipped (counted in :attr:`skipped`): silently
    before the first good frame (what the line carried before API mode), as a
    :class:`FrameError` once frames have been read, since in API mode the module sends nothing
    between frames and such bytes are a frame whose delimiter was lost.

    Resynchronising: in API mode 2 a raw 0x7E always starts a frame (it is escaped everywhere
    else), so a frame cut short by a lost byte is reported when the next one starts. In API
    mode 1 (no escaping) a 0x7E inside frame data looks like a delimiter, and after a lost byte
    the decoder may take one for a frame whose "length" then spans real frames. Two rules keep
    those real frames: a checksum failure drops only the delimiter and reads on from the next
    byte (not the whole span), and :meth:`settle` (the line has been quiet: a frame still
    incomplete is broken, when it is a likely false start or a good frame starts inside it)
    does the same for a frame that would otherwise wait for bytes that never come.
    :attr:`resynchronising` tells the caller how likely such a false start is.

    Args:
        escaped: API mode 2.
    """

    def __init__(self, *, escaped: bool = False) -> None:
        self.escaped = escaped
        self._buf = bytearray()
        self._synced = False  # the last thing read was a good frame
        self._boundary = True  # no byte skipped and no broken frame since the last good frame
        self.skipped = 0
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Bytes held for a frame not yet complete (0 at a frame boundary)."""
        return len(self._buf)

    @property
    def resynchronising(self) -> bool:
        """The frame pending was found by looking for a delimiter after skipped bytes or a
        broken frame, so in API mode 1 it may well be a 0x7E inside frame data; ``False`` when
        it starts right after a good frame (or at the start), where its delimiter is real and
        only a garbled length can make it wait in vain."""
        return bool(self._buf) and not self._boundary

    def feed(self, data: bytes) -> list[bytes | FrameError]:
        """Feed received bytes; return, in order, the frame data (type byte first) of every
        frame they complete and a :class:`FrameError` for each frame found broken."""
        self._buf += data
        return self._drain()

    def settle(self) -> list[bytes | FrameError]:
        """Say that the line has been quiet for a while; return what :meth:`feed` returns.

        A module writes each frame on its UART in one go (xbee3.md S6: a frame is delimiter,
        length, data, checksum, nothing else), so a frame still incomplete after a quiet spell
        was most likely not started by the module: its "delimiter" was a 0x7E inside frame data
        taken after an earlier loss (API mode 1, :attr:`resynchronising`). Such a frame is
        reported as a :class:`FrameError` and the bytes after its delimiter are read again, so
        real frames among them are found; repeated until nothing is pending.

        A frame that began right after a good one has a real delimiter: incomplete, either the
        line between module and host paused (a serial link over a network, a stalled
        adapter), and every byte is still to come, or its length was garbled and it swallows
        the frames after it. It is broken only on that evidence, a frame with a good checksum
        starting inside it (API mode 1; in API mode 2 the next delimiter cuts it short as soon
        as it comes); otherwise it is left to complete, and a length made too short or too long
        is found by its checksum once the line goes on (the driver's own requests make it go
        on). Call it only when no byte has arrived for well over the line's own pauses (a USB
        serial adapter's latency timer is 16 ms), never while a frame may still be arriving.
        """
        out: list[bytes | FrameError] = []
        while self._buf:  # what _drain leaves starts with a delimiter
            if not self.resynchronising and not self._holds_a_frame():
                break  # a real delimiter and no sign of a wrong length: a pause
            held = len(self._buf)
            expected = ""
            if not self.escaped and held >= 3:
                expected = f" of {int.from_bytes(self._buf[1:3], 'big') + 4}"
            del self._buf[:1]
            self.dropped += 1
            self._synced = self._boundary = False
            out.append(FrameError(f"API frame incomplete ({held}{expected} bytes) when the line "
                                  "went quiet: a byte was lost or a false start delimiter taken"))
            out += self._drain()
        return out

    def _holds_a_frame(self) -> bool:
        """Whether a complete frame with a good checksum starts after the pending frame's
        delimiter (API mode 1: then the pending frame's length is wrong)."""
        buf = self._buf
        if self.escaped:
            return False
        start = buf.find(FRAME_DELIMITER, 1)
        while start >= 0 and start + 3 < len(buf):
            length = int.from_bytes(buf[start + 1 : start + 3], "big")
            end = start + 3 + length
            if 0 < length <= MAX_FRAME_DATA and end < len(buf) \
                    and checksum(bytes(buf[start + 3 : end])) == buf[end]:
                return True
            start = buf.find(FRAME_DELIMITER, start + 1)
        return False

    def _drain(self) -> list[bytes | FrameError]:
        out: list[bytes | FrameError] = []
        while True:
            try:
                frame = self._next()
            except FrameError as exc:
                self.dropped += 1
                self._synced = self._boundary = False
                out.append(exc)
                continue
            if frame is None:
                return out
            self._synced = self._boundary = True
            out.append(frame)

    def _next(self) -> bytes | None:
        buf = self._buf
        start = buf.find(FRAME_DELIMITER)
        skip = len(buf) if start < 0 else start
        if skip:
            self.skipped += skip
            del buf[:skip]
            self._boundary = False
            if self._synced:
                self._synced = False
                raise FrameError(f"{skip} bytes outside any API frame: the start delimiter of a "
                                 "frame was lost")
        if not buf:
            return None
        if self.escaped:
            return self._next_escaped()
        if len(buf) < 3:
            return None
        length = int.from_bytes(buf[1:3], "big")
        if length == 0 or length > MAX_FRAME_DATA:
            del buf[:1]
            raise FrameError(f"API frame length {length} is not possible")
        if len(buf) < length + 4:
            return None
        frame = bytes(buf[3 : 3 + length])
        given = buf[3 + length]
        if checksum(frame) == given:
            del buf[: length + 4]
            return frame
        # API mode 1: the "frame" may be a false start in frame data spanning real frames;
        # they are found by reading on from the byte after this delimiter
        del buf[:1]
        return _checked(frame, given)  # raises the FrameError

    def _next_escaped(self) -> bytes | None:
        buf = self._buf
        plain = bytearray()
        index = 1
        need: int | None = None
        while index < len(buf):
            byte = buf[index]
            if byte == FRAME_DELIMITER:  # a new frame starts: this one was cut short
                del buf[:index]
                raise FrameError("API frame cut short by a new start delimiter")
            if byte == ESCAPE:
                if index + 1 >= len(buf):
                    return None
                byte = buf[index + 1] ^ ESCAPE_XOR
                index += 2
            else:
                index += 1
            plain.append(byte)
            if need is None and len(plain) == 2:
                need = int.from_bytes(plain, "big")
                if need == 0 or need > MAX_FRAME_DATA:
                    del buf[:1]
                    raise FrameError(f"API frame length {need} is not possible")
            if need is not None and len(plain) == need + 3:
                # a raw 0x7E is always a delimiter here, so no frame hides in this span
                del buf[:index]
                return _checked(bytes(plain[2:-1]), plain[-1])
        return None


def _checked(frame: bytes, given: int) -> bytes:
    if checksum(frame) != given:
        raise FrameError(f"API frame type 0x{frame[0]:02X} of {len(frame)} bytes: checksum "
                         f"0x{given:02X}, expected 0x{checksum(frame):02X}")
    return frame


# ---------------------------------------------------------------------------------------------
# Typed frames

Kind = Literal["u8", "u16", "a2", "b4", "rest"]
_SIZES = {"u8": 1, "u16": 2, "a2": 2, "b4": 4}


@dataclass(frozen=True)
class Frame:
    """Base of the typed frames: :attr:`TYPE` and :attr:`LAYOUT` (field kinds in order) say
    how the dataclass fields map to bytes: ``u8``/``u16`` big-endian numbers, ``a2`` two ASCII
    characters, ``b4`` four raw bytes (an IPv4 address), ``rest`` the remaining bytes."""

    TYPE: ClassVar[int]
    LAYOUT: ClassVar[tuple[Kind, ...]]

    def to_bytes(self) -> bytes:
        """The frame data: type byte, then the fields.

        Raises:
            FrameError: a field does not fit its size.
        """
        out = bytearray((self.TYPE,))
        for spec, kind in zip(fields(self), self.LAYOUT, strict=True):
            value = getattr(self, spec.name)
            try:
                if kind == "u8":
                    out += int(value).to_bytes(1, "big")
                elif kind == "u16":
                    out += int(value).to_bytes(2, "big")
                elif kind == "a2":
                    raw = str(value).encode("ascii")
                    if len(raw) != 2:
                        raise ValueError("two characters")
                    out += raw
                elif kind == "b4":
                    if len(value) != 4:
                        raise ValueError("four bytes")
                    out += bytes(value)
                else:
                    out += bytes(value)
            except (ValueError, OverflowError, UnicodeEncodeError) as exc:
                raise FrameError(f"{type(self).__name__}.{spec.name} = {value!r}: {exc}") \
                    from None
        return bytes(out)

    @classmethod
    def from_data(cls, data: bytes) -> Frame:
        """Parse frame data (type byte first) of this class's :attr:`TYPE`.

        Raises:
            FrameError: wrong type byte, or fewer bytes than the fixed fields need.
        """
        if not data or data[0] != cls.TYPE:
            raise FrameError(f"not a 0x{cls.TYPE:02X} frame: {data[:1].hex()}")
        values: list[object] = []
        pos = 1
        for kind in cls.LAYOUT:
            if kind == "rest":
                values.append(bytes(data[pos:]))
                pos = len(data)
                continue
            size = _SIZES[kind]
            if pos + size > len(data):
                raise FrameError(f"frame 0x{cls.TYPE:02X} of {len(data)} bytes is too short")
            chunk = data[pos : pos + size]
            pos += size
            if kind in ("u8", "u16"):
                values.append(int.from_bytes(chunk, "big"))
            elif kind == "a2":
                values.append(chunk.decode("ascii", errors="replace"))
            else:
                values.append(bytes(chunk))
        if pos != len(data):
            raise FrameError(f"frame 0x{cls.TYPE:02X} has {len(data) - pos} bytes too many")
        return cls(*values)


@dataclass(frozen=True)
class ATCommand(Frame):
    """0x08 AT Command: ``value`` empty reads the parameter (xbee3.md S7)."""

    TYPE: ClassVar[int] = 0x08
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "a2", "rest")
    frame_id: int
    command: str
    value: bytes = b""


@dataclass(frozen=True)
class ATResponse(Frame):
    """0x88 AT Command Response: ``status`` 0 OK, 1 ERROR, 2 invalid command, 3 invalid
    parameter (xbee3.md S7)."""

    TYPE: ClassVar[int] = 0x88
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "a2", "u8", "rest")
    frame_id: int
    command: str
    status: int
    value: bytes = b""


@dataclass(frozen=True)
class TXRequestIPv4(Frame):
    """0x20 TX Request IPv4 (xbee3.md S7)."""

    TYPE: ClassVar[int] = 0x20
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "b4", "u16", "u16", "u8", "u8", "rest")
    frame_id: int
    address: bytes
    dest_port: int
    source_port: int
    protocol: int
    options: int
    payload: bytes


@dataclass(frozen=True)
class TXRequestTLS(Frame):
    """0x23 TX Request with TLS Profile (xbee3.md S7; D1 r_frame_0x23, C4)."""

    TYPE: ClassVar[int] = 0x23
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "b4", "u16", "u16", "u8", "u8", "rest")
    frame_id: int
    address: bytes
    dest_port: int
    source_port: int
    profile: int
    options: int
    payload: bytes


@dataclass(frozen=True)
class TXStatus(Frame):
    """0x89 TX Status (xbee3.md S7; catalog TX_STATUS)."""

    TYPE: ClassVar[int] = 0x89
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8")
    frame_id: int
    status: int


@dataclass(frozen=True)
class ModemStatus(Frame):
    """0x8A Modem Status (xbee3.md S4; catalog MODEM_STATUS)."""

    TYPE: ClassVar[int] = 0x8A
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8",)
    status: int


@dataclass(frozen=True)
class RXIPv4(Frame):
    """0xB0 RX IPv4 (xbee3.md S7)."""

    TYPE: ClassVar[int] = 0xB0
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("b4", "u16", "u16", "u8", "u8", "rest")
    address: bytes
    dest_port: int
    source_port: int
    protocol: int
    status: int
    payload: bytes


@dataclass(frozen=True)
class SocketCreate(Frame):
    """0x40 Socket Create: ``protocol`` 0 UDP, 1 TCP, 4 TLS (xbee3.md S8)."""

    TYPE: ClassVar[int] = 0x40
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8")
    frame_id: int
    protocol: int


@dataclass(frozen=True)
class SocketCreateResponse(Frame):
    """0xC0 Socket Create Response (xbee3.md S8)."""

    TYPE: ClassVar[int] = 0xC0
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8", "u8")
    frame_id: int
    socket_id: int
    status: int


@dataclass(frozen=True)
class SocketOption(Frame):
    """0x41 Socket Option Request: ``value`` empty queries (xbee3.md S8)."""

    TYPE: ClassVar[int] = 0x41
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8", "u8", "rest")
    frame_id: int
    socket_id: int
    option: int
    value: bytes = b""


@dataclass(frozen=True)
class SocketOptionResponse(Frame):
    """0xC1 Socket Option Response (xbee3.md S8)."""

    TYPE: ClassVar[int] = 0xC1
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8", "u8", "u8", "rest")
    frame_id: int
    socket_id: int
    option: int
    status: int
    value: bytes = b""


@dataclass(frozen=True)
class SocketConnect(Frame):
    """0x42 Socket Connect: ``address_type`` 0 = 4-byte IPv4, 1 = text (xbee3.md S8)."""

    TYPE: ClassVar[int] = 0x42
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8", "u16", "u8", "rest")
    frame_id: int
    socket_id: int
    dest_port: int
    address_type: int
    address: bytes


@dataclass(frozen=True)
class SocketConnectResponse(Frame):
    """0xC2 Socket Connect Response: status 0 means started (xbee3.md S8)."""

    TYPE: ClassVar[int] = 0xC2
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8", "u8")
    frame_id: int
    socket_id: int
    status: int


@dataclass(frozen=True)
class SocketClose(Frame):
    """0x43 Socket Close (``socket_id`` 0xFF: all) (xbee3.md S8)."""

    TYPE: ClassVar[int] = 0x43
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8")
    frame_id: int
    socket_id: int


@dataclass(frozen=True)
class SocketCloseResponse(Frame):
    """0xC3 Socket Close Response (xbee3.md S8)."""

    TYPE: ClassVar[int] = 0xC3
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8", "u8")
    frame_id: int
    socket_id: int
    status: int


@dataclass(frozen=True)
class SocketSend(Frame):
    """0x44 Socket Send: at most 1500 payload bytes (xbee3.md S8)."""

    TYPE: ClassVar[int] = 0x44
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8", "u8", "rest")
    frame_id: int
    socket_id: int
    options: int
    payload: bytes


@dataclass(frozen=True)
class SocketReceive(Frame):
    """0xCD Socket Receive (xbee3.md S8)."""

    TYPE: ClassVar[int] = 0xCD
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8", "u8", "rest")
    frame_id: int
    socket_id: int
    status: int
    payload: bytes


@dataclass(frozen=True)
class SocketStatus(Frame):
    """0xCF Socket Status: non-zero closes the socket (xbee3.md S8; catalog SOCKET_STATUS)."""

    TYPE: ClassVar[int] = 0xCF
    LAYOUT: ClassVar[tuple[Kind, ...]] = ("u8", "u8")
    socket_id: int
    status: int


@dataclass(frozen=True)
class UnknownFrame:
    """A frame of a type this codec does not model (to be skipped, xbee3.md S6)."""

    frame_type: int
    data: bytes


FRAME_CLASSES: dict[int, type[Frame]] = {cls.TYPE: cls for cls in (
    ATCommand, ATResponse, TXRequestIPv4, TXRequestTLS, TXStatus, ModemStatus, RXIPv4,
    SocketCreate, SocketCreateResponse, SocketOption, SocketOptionResponse, SocketConnect,
    SocketConnectResponse, SocketClose, SocketCloseResponse, SocketSend, SocketReceive,
    SocketStatus,
)}


def parse(data: bytes) -> Frame | UnknownFrame:
    """The typed frame for frame data (type byte first), :class:`UnknownFrame` for a type not
    modelled.

    Raises:
        FrameError: a known type with too few or too many bytes.
    """
    if not data:
        raise FrameError("empty API frame")
    cls = FRAME_CLASSES.get(data[0])
    if cls is None:
        return UnknownFrame(data[0], bytes(data[1:]))
    return cls.from_data(data)
