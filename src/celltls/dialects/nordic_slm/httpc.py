"""Framing of SLM's HTTP client response on the serial line, sans-IO.

SLM v2.0-v3.1 (NRF-REF 8.1 = shared/reference/nordic-slm.md 8.1, S1, S2) writes, after the
``AT#XHTTPCREQ`` answer (``#XHTTPCREQ: 0``, ``OK``, or ``#XDATAMODE`` after a body), the raw
header bytes then ``\\r\\n#XHTTPCRSP:<header_len>,<state>\\r\\n``, then each body part followed by
``\\r\\n#XHTTPCRSP:<len>,<state>\\r\\n``; state 0 = more follows, 1 = complete, negative = -errno
(``#XHTTPCRSP: 0,-104`` on a remote close). The count line follows the bytes it counts, so a
part is accepted only when the line's ``<len>`` equals the bytes before it: a look-alike line
inside the data with another count stays data. (Data that holds, at offset ``n`` of its part,
the exact text ``\\r\\n#XHTTPCRSP:<n>,<state>\\r\\n`` cannot be told from the real line: a limit
of the module's framing.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from celltls.dialects.nordic_slm import catalog as cat

_PREAMBLE = re.compile(rb"\r?\n?(#XHTTPCREQ: ?(-?\d+)|#XDATAMODE: ?(-?\d+)|OK)\r\n")


@dataclass(frozen=True)
class Part:
    """One framed part of the response.

    Attributes:
        data: its bytes (the header block for the first part).
        state: 0 more follows, 1 complete, negative: -errno (nRF numbering, NRF-REF 9.1).
    """

    data: bytes
    state: int


@dataclass
class ResponseFramer:
    """Feed the raw bytes SLM writes after ``AT#XHTTPCREQ``; get the parts back.

    Attributes:
        request_error: a negative ``#XHTTPCREQ:``/``#XDATAMODE:`` value seen before the
            first part (the request failed), with the line; ``None`` otherwise.
        complete: the part with state 1 was framed.
    """

    request_error: tuple[int, str] | None = None
    complete: bool = False
    _buf: bytearray = field(default_factory=bytearray)
    _started: bool = False

    @property
    def pending(self) -> int:
        """Bytes received but not yet framed."""
        return len(self._buf)

    def ends_with_boot(self) -> bool:
        """Whether the unframed bytes end with SLM's start-up line ``Ready`` (NRF-REF 3): a
        restart cut the response (the module prints it in command mode, so it lands here)."""
        return re.search(rb"(^|\r\n|\n)Ready\r\n$", bytes(self._buf[-64:])) is not None

    def feed(self, data: bytes) -> list[Part]:
        """Add bytes; return the parts they complete, in order. Nothing is framed after a part
        whose state is not 0, nor after a :attr:`request_error`."""
        self._buf += data
        parts: list[Part] = []
        while not self.complete and self.request_error is None:
            if not self._started and not self._skip_preamble():
                break
            found = self._trailer()
            if found is None:
                break
            start, end, state = found
            parts.append(Part(bytes(self._buf[:start]), state))
            del self._buf[:end]
            if state != 0:
                self.complete = state == 1
                break
        return parts

    def _skip_preamble(self) -> bool:
        """Drop SLM's own lines before the first part; ``True`` once the first part began."""
        buf = self._buf
        while True:
            found = _PREAMBLE.match(bytes(buf[:64]))
            if found is None:
                break
            value = found.group(2) or found.group(3)
            if value is not None and int(value) < 0:
                self.request_error = (int(value), found.group(1).decode())
                return False
            del buf[: found.end()]
        # a line end left over from SLM's own lines (a CR LF cut in two), or one before the
        # status line
        while buf[:1] == b"\n" or (buf[:2] == b"\r\n" and bytes(buf[2:7]) == b"HTTP/"):
            del buf[: 1 if buf[:1] == b"\n" else 2]
        if (buf and bytes(buf[:1]) not in (b"\r", b"\n")) or buf.startswith(b"\r\n#XHTTPCRSP:"):
            self._started = True
        return self._started

    def _trailer(self) -> tuple[int, int, int] | None:
        for match in cat.HTTPCRSP_LINE.finditer(self._buf):
            if int(match.group("length")) == match.start():
                return match.start(), match.end(), int(match.group("state"))
        return None
