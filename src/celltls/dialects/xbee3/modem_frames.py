"""The virtual XBee 3 Cellular's own API frame reader and writer (modem side).

Written from shared/reference/xbee3.md §6 (D7 p.71, D1p p.247), independently of the dialect's
host-side codec so that a shared misreading cannot pass the tests:

- a frame is ``0x7E``, a 2-byte big-endian length counting the frame data only, the frame data
  (frame type first) and a checksum ``0xFF - (sum of the frame data & 0xFF)``;
- with ``AP=2`` every byte after the delimiter (length, data, checksum) that is ``0x7E``,
  ``0x7D``, ``0x11`` or ``0x13`` travels as ``0x7D`` then ``byte ^ 0x20``;
- a frame whose checksum does not match is dropped, as the module ignores it; a raw ``0x7E``
  in the middle of an escaped frame starts a new frame (what a receiver can do: with escaping,
  ``0x7E`` never occurs inside a frame).
"""

from __future__ import annotations

__all__ = ["ESCAPED", "FrameReader", "checksum", "encode_frame"]

DELIMITER = 0x7E
ESCAPE = 0x7D
XOR = 0x20
#: Bytes escaped in API mode 2 (§6).
ESCAPED = frozenset({0x7E, 0x7D, 0x11, 0x13})
#: Frame data longer than this is not a frame the module takes (1500-byte payload + headers).
MAX_FRAME_DATA = 2048


def checksum(data: bytes) -> int:
    """The API checksum of frame data: ``0xFF - (sum & 0xFF)`` (reference §6).

    Args:
        data: the frame data (type byte first), unescaped.

    Returns:
        The checksum byte, 0-255.
    """
    total = 0
    for byte in data:
        total = (total + byte) & 0xFF
    return 0xFF - total


def encode_frame(data: bytes, escaped: bool) -> bytes:
    """Frame ``data`` for the serial line: delimiter, length, data, checksum (reference §6).

    Args:
        data: the frame data, type byte first (1 to 65535 bytes).
        escaped: apply the ``AP=2`` escaping to everything after the delimiter.

    Returns:
        The bytes to write.

    Raises:
        ValueError: ``data`` is empty or longer than 65535 bytes.
    """
    if not data or len(data) > 0xFFFF:
        raise ValueError("frame data must be 1 to 65535 bytes")
    body = bytes([len(data) >> 8, len(data) & 0xFF]) + data + bytes([checksum(data)])
    if not escaped:
        return bytes([DELIMITER]) + body
    out = bytearray([DELIMITER])
    for byte in body:
        if byte in ESCAPED:
            out += bytes([ESCAPE, byte ^ XOR])
        else:
            out.append(byte)
    return bytes(out)


class FrameReader:
    """Turns the bytes a host writes in API mode into frame data (sans-IO).

    Args:
        escaped: ``True`` for ``AP=2``.

    Attributes:
        dropped: frames dropped for a bad checksum or length, for tests to inspect.
    """

    def __init__(self, escaped: bool) -> None:
        self.escaped = escaped
        self.dropped = 0
        self._buf = bytearray()
        self._in_frame = False
        self._escape_next = False
        self._need: int | None = None

    def reset(self) -> None:
        """Forget a partly received frame."""
        self._buf.clear()
        self._in_frame = False
        self._escape_next = False
        self._need = None

    def feed(self, data: bytes) -> list[bytes]:
        """Take bytes; return the frame data of every complete, valid frame among them."""
        frames: list[bytes] = []
        for byte in data:
            if byte == DELIMITER and (self.escaped or not self._in_frame):
                if self._in_frame and self._buf:
                    self.dropped += 1
                self.reset()
                self._in_frame = True
                continue
            if not self._in_frame:
                continue  # bytes outside a frame are ignored (§6)
            if self.escaped:
                if self._escape_next:
                    byte ^= XOR
                    self._escape_next = False
                elif byte == ESCAPE:
                    self._escape_next = True
                    continue
            self._buf.append(byte)
            if self._need is None and len(self._buf) == 2:
                length = (self._buf[0] << 8) | self._buf[1]
                if length == 0 or length > MAX_FRAME_DATA:
                    self.dropped += 1
                    self.reset()
                    continue
                self._need = length + 3
            if self._need is not None and len(self._buf) == self._need:
                body = bytes(self._buf[2:-1])
                if checksum(body) == self._buf[-1]:
                    frames.append(body)
                else:
                    self.dropped += 1
                self.reset()
        return frames
