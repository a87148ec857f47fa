"""Helpers of the virtual XBee 3 tests: the host end of an in-process serial line.

The frame helpers here are written for the tests from shared/reference/xbee3.md §6, apart from
both the modem's reader and the driver's codec: a test frame is checked against the byte
strings the reference gives, so a misreading shared with the modem shows up.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from celltls.dialects.xbee3.modem import XBee3Modem, factory

GUARD = 0.05  # seconds; GT = 0x32


def frame(data: bytes, escaped: bool = False) -> bytes:
    """``7E``, length, data, checksum (§6); ``escaped``: AP=2 escaping after the delimiter."""
    body = len(data).to_bytes(2, "big") + data + bytes([0xFF - (sum(data) & 0xFF)])
    if escaped:
        out = bytearray()
        for b in body:
            out += bytes([0x7D, b ^ 0x20]) if b in (0x7E, 0x7D, 0x11, 0x13) else bytes([b])
        body = bytes(out)
    return b"\x7e" + body


def unframe(raw: bytes, escaped: bool = False) -> list[bytes]:
    """Split modem output into frame data, checking length and checksum (§6)."""
    frames: list[bytes] = []
    data = bytearray()
    i = 0
    if escaped:
        buf = bytearray()
        while i < len(raw):
            if raw[i] == 0x7D:
                buf.append(raw[i + 1] ^ 0x20)
                i += 2
            else:
                buf.append(raw[i])
                i += 1
        raw = bytes(buf)
        i = 0
    while i < len(raw):
        assert raw[i] == 0x7E, f"no delimiter at {i}: {raw[i:i + 20]!r}"
        length = int.from_bytes(raw[i + 1:i + 3], "big")
        data = bytearray(raw[i + 3:i + 3 + length])
        assert len(data) == length, "truncated frame"
        assert (sum(data) + raw[i + 3 + length]) & 0xFF == 0xFF, "bad checksum"
        frames.append(bytes(data))
        i += 4 + length
    return frames


class Line:
    """The host end of the serial line, wired straight to a modem's feed and sink."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("guard_time", GUARD)
        self.modem: XBee3Modem = factory(**options)
        self.buf = bytearray()
        self.cond = threading.Condition()
        self.modem.attach_sink(self._sink)

    def _sink(self, data: bytes) -> None:
        with self.cond:
            self.buf += data
            self.cond.notify_all()

    def close(self) -> None:
        self.modem.shutdown()

    def send(self, data: bytes) -> None:
        self.modem.feed(data)

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(bytes(self.buf)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"modem wrote {bytes(self.buf)!r}")
                self.cond.wait(left)

    def read_until(self, pattern: bytes, timeout: float = 5.0) -> bytes:
        self.wait_for(lambda b: pattern in b, timeout)
        with self.cond:
            end = self.buf.index(pattern) + len(pattern)
            out = bytes(self.buf[:end])
            del self.buf[:end]
        return out

    def read_exact(self, n: int, timeout: float = 5.0) -> bytes:
        self.wait_for(lambda b: len(b) >= n, timeout)
        with self.cond:
            out = bytes(self.buf[:n])
            del self.buf[:n]
        return out

    def take(self) -> bytes:
        with self.cond:
            out = bytes(self.buf)
            self.buf.clear()
        return out

    def escape(self) -> None:
        """Guard time, ``+++``, guard time: command mode (§2); expects ``OK\\r``."""
        time.sleep(GUARD * 1.5)
        self.send(b"+++")
        assert self.read_until(b"\r", timeout=2.0) == b"OK\r"

    def at(self, command: str, timeout: float = 5.0) -> str:
        """One command-mode line; returns the response line without its CR."""
        self.send(command.encode("latin-1") + b"\r")
        return self.read_until(b"\r", timeout).decode("latin-1")[:-1]

    def frames(self, count: int, escaped: bool = False, timeout: float = 5.0) -> list[bytes]:
        """Read ``count`` complete API frames."""
        def complete(raw: bytes) -> bool:
            try:
                return len(_split(raw, escaped, count)) >= count
            except AssertionError:
                return False
        self.wait_for(complete, timeout)
        with self.cond:
            raw = bytes(self.buf[: count * 4200])
            parts = _split(raw, escaped, count)
            used = sum(len(p) for p in parts[:count])
            del self.buf[:used]
        return [unframe(p, escaped)[0] for p in parts[:count]]


def _split(raw: bytes, escaped: bool, limit: int) -> list[bytes]:
    """Up to ``limit`` raw frames (still escaped) complete at the start of ``raw``."""
    parts: list[bytes] = []
    i = 0
    while i < len(raw) and len(parts) < limit:
        assert raw[i] == 0x7E
        j = i + 1
        body = bytearray()
        while j < len(raw) and len(body) < 2:
            if escaped and raw[j] == 0x7D:
                if j + 1 >= len(raw):
                    return parts
                body.append(raw[j + 1] ^ 0x20)
                j += 2
            else:
                body.append(raw[j])
                j += 1
        if len(body) < 2:
            return parts
        need = int.from_bytes(body[:2], "big") + 1
        got = 0
        while j < len(raw) and got < need:
            j += 2 if escaped and raw[j] == 0x7D else 1
            got += 1
        if got < need or j > len(raw):
            return parts
        parts.append(raw[i:j])
        i = j
    return parts
