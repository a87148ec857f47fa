"""The host end of a virtual nRF91 SLM's serial line, in-process: the bytes the modem writes
(its sink), exactly as it writes them, and what the test feeds it. One helper for the modem
tests (test_nordic_modem*.py); the driver tests talk to the modem through the real channel."""

from __future__ import annotations

import re
import threading
import time

from celltls.dialects.nordic_slm.modem import NordicSlmModem

#: the end of a command's answer: a final result code line (NRF-REF 3).
FINAL = re.compile(rb"\r\n(OK|ERROR|\+CME ERROR: \d+)\r\n")


class Line:
    """Buffers what ``modem`` writes; the reading methods wait up to ``timeout`` seconds and
    raise ``TimeoutError`` (with the end of the buffer) when it does not come."""

    def __init__(self, modem: NordicSlmModem, timeout: float = 15.0) -> None:
        self.modem = modem
        self.timeout = timeout
        self.buf = bytearray()
        self.cond = threading.Condition()
        modem.attach_sink(self._sink)

    def _sink(self, data: bytes) -> None:
        with self.cond:
            self.buf += data
            self.cond.notify_all()

    def send(self, data: bytes) -> None:
        self.modem.feed(data)

    def match(self, pattern: re.Pattern[bytes], timeout: float | None = None) -> re.Match[bytes]:
        """Wait for ``pattern``; return its match against the buffer and drop the buffer up to
        the match's end (``match.string`` keeps what came before it)."""
        with self.cond:
            deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
            while pattern.search(self.buf) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{pattern.pattern!r} not in {bytes(self.buf[-300:])!r}")
                self.cond.wait(left)
            found = pattern.search(bytes(self.buf))
            assert found is not None
            del self.buf[: found.end()]
            return found

    def until(self, pattern: re.Pattern[bytes], timeout: float | None = None) -> bytes:
        """Everything up to the end of the first match of ``pattern`` (then dropped)."""
        found = self.match(pattern, timeout)
        return found.string[: found.end()]

    def cmd(self, line: str | bytes, timeout: float | None = None) -> bytes:
        """Send a command line (CR LF added); the bytes up to its final result code."""
        data = line.encode("latin-1") if isinstance(line, str) else line
        self.send(data + b"\r\n")
        return self.until(FINAL, timeout)

    def exact(self, n: int, timeout: float | None = None) -> bytes:
        """The next ``n`` bytes."""
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.buf) >= n,
                                      self.timeout if timeout is None else timeout):
                raise TimeoutError(f"{len(self.buf)} of {n} bytes")
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out

    def rest(self) -> bytes:
        """What is buffered now (then dropped), without waiting."""
        with self.cond:
            out = bytes(self.buf)
            self.buf.clear()
            return out
