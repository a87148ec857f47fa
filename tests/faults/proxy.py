"""A fault-injecting serial line: a TCP proxy between the driver and a virtual modem.

The driver opens ``socket://127.0.0.1:<FaultProxy.port>``; the proxy connects to the virtual
modem's port and copies bytes both ways. Once armed with a :class:`Fault`, it injects that fault
into the modem-to-host stream at the position the fault names, counted from the moment it was
armed:

- ``at`` counts bytes (``garble``, ``stall``, ``line_drop``, ``reboot``, ``pdp_deactivation``),
- final result codes ``OK`` (``lost_ok``, ``duplicate_ok``, ``urc_storm``), or
- payload bytes of data phases (``truncate``, ``server_close``): what follows
  ``+QSSLRECV: <ip>:<port>,TCP,<length>`` (Quectel GSM SSL-AN 2.2.4), and what follows the
  ``CONNECT`` of ``AT+KTCPRCV``/``AT+KHTTPGET``/``AT+KHTTPPOST``/``AT+KHTTPHEAD`` up to the EOF
  pattern set with ``AT+KPATTERN`` (Sierra HL78xx, sierra-hl78xx.md).

On the Digi XBee3 line (``xbee3``: API frames in API mode 1, xbee3.md S6, and command mode
after ``+++``, S2) an ``OK`` is the command-mode answer ``OK<CR>`` outside API frames, and
payload bytes are those of 0xCD Socket Receive frames after their type, frame ID, socket ID and
status (S8); API mode 2 (escaped) is not tracked. ``urc_storm`` is not injected there: command
mode carries no unsolicited lines, and the XBee's only unsolicited frame, 0x8A modem status,
says something (a restart, a lost network) whenever it comes (:data:`NOT_INJECTED`).

Faults that act on the module (reboot, PDP deactivation, the server closing) go through the
virtual modem's fault API (:class:`celltls.sim.engine.ATEngine`). :class:`TcpRelay` sits between
the virtual modem and the HTTPS server, for a server close where the modem's API has no handle
on the connection (the Sierra HTTP client).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from celltls.sim.engine import ATEngine

#: The fault kinds, in the order of issue 12.
KINDS: tuple[str, ...] = (
    "garble",
    "lost_ok",
    "duplicate_ok",
    "urc_storm",
    "truncate",
    "server_close",
    "stall",
    "line_drop",
    "reboot",
    "pdp_deactivation",
)
BYTE_KINDS = frozenset({"garble", "stall", "line_drop", "reboot", "pdp_deactivation"})
OK_KINDS = frozenset({"lost_ok", "duplicate_ok", "urc_storm"})
DATA_KINDS = frozenset({"truncate", "server_close"})

OK_LINE = b"\r\nOK\r\n"
#: The final ``OK`` of each dialect whose line is not V.250's (XBee3 command mode, xbee3.md S2).
OK_LINES = {"xbee3": b"OK\r"}
#: Kinds that have no sound form on a dialect's line: never injected there (see above).
NOT_INJECTED = {"xbee3": frozenset({"urc_storm"})}
_XBEE_DELIMITER = 0x7E
_XBEE_SOCKET_RECEIVE = 0xCD
_XBEE_RECEIVE_HEADER = 4  # type, frame ID, socket ID, status (xbee3.md S8)
_QSSLRECV = re.compile(rb"\+QSSLRECV: [^\r\n,]*,TCP,(\d+)\r\n$")
_SIERRA_DOWNLOADS = (b"+KTCPRCV", b"+KHTTPGET", b"+KHTTPPOST", b"+KHTTPHEAD")
_KPATTERN = re.compile(rb'AT\+KPATTERN="([^"]*)"', re.IGNORECASE)
#: The URC copied in a storm when none was seen yet: registration unchanged (27.007 7.2).
DEFAULT_URCS = {
    "quectel-gsm": "+CGREG: 1",
    "sierra": "+CEREG: 1",
    # a registration report is true when repeated (nordic-slm.md 4, +CEREG with n = 5)
    "nordic-slm": '+CEREG: 1,"5209","0A19790D",7,,,"11100000","00000110"',
    "sequans": "+CEREG: 1",  # sequans.md 3 (+CEREG, n = 1)
}
#: URCs a storm may copy (the last one seen on the line): data and registration reports, which
#: say nothing false when repeated; closing and deactivation reports would (dialect catalogs'
#: URC prefixes, celltls.dialects.<x>.catalog CATALOG.urc_prefixes()).
STORM_URCS = {
    "quectel-gsm": (b'+QSSLURC: "recv"', b"+CGREG:", b"+CREG:"),
    "sierra": (b"+KTCP_DATA:", b"+CEREG:", b"+CGREG:", b"+KCNX_IND: 1,1"),
    "nordic-slm": (b"+CEREG:",),
    "sequans": (b"+CEREG:",),
}


@dataclass(frozen=True)
class Fault:
    """One fault to inject.

    Attributes:
        kind: one of :data:`KINDS`.
        at: where: a byte, ``OK`` or payload-byte index (see the module docstring), 0-based.
        size: bytes garbled or dropped; copies of the URC in a storm.
        stall: seconds without a byte either way (``stall``).
    """

    kind: str
    at: int
    size: int = 1
    stall: float = 3.0

    def describe(self) -> str:
        unit = "OK" if self.kind in OK_KINDS else (
            "payload byte" if self.kind in DATA_KINDS else "byte")
        extra = {"garble": f", {self.size} bytes", "truncate": f", {self.size} bytes",
                 "urc_storm": f", {self.size} copies", "stall": f", {self.stall:g} s"}
        return f"{self.kind} at {unit} {self.at}{extra.get(self.kind, '')}"


@dataclass
class Counters:
    """What went from the modem to the host since the proxy was armed."""

    down_bytes: int = 0
    oks: int = 0
    data_bytes: int = 0


class _Tracker:
    """Which bytes of the modem's output are data-phase payload, per dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.line = bytearray()
        self.remaining = 0  # Quectel: payload bytes left in this +QSSLRECV block
        self.in_download = False  # Sierra: between CONNECT and the EOF pattern
        self.tail = bytearray()
        self.pattern = b"--EOF--Pattern--"  # HL78 default (sierra catalog DEFAULT_PATTERN)
        self.expect_download = False  # the last host command answers CONNECT + data
        self.last_urc = ""
        self.ok_now = False  # XBee3: the byte just fed ended an "OK<CR>" answer
        self.frame_head = bytearray()  # XBee3: delimiter and length of the frame begun
        self.frame_left = 0  # XBee3: frame data and checksum bytes still to come
        self.frame_index = 0  # XBee3: index of the next byte in the frame data
        self.frame_type = -1

    # host -> modem ---------------------------------------------------------------------
    def host_line(self, line: bytes) -> None:
        upper = line.upper()
        start = upper.rfind(b"AT+")
        if start < 0:
            return
        command = upper[start + 2 :]
        match = _KPATTERN.search(line[start:])
        if match:
            self.pattern = match.group(1)
        self.expect_download = command.startswith(_SIERRA_DOWNLOADS)

    # modem -> host ---------------------------------------------------------------------
    def feed(self, byte: int) -> bool:
        """Account one byte; ``True`` when it is data-phase payload."""
        if self.dialect == "xbee3":
            return self._feed_xbee(byte)
        if self.remaining:
            self.remaining -= 1
            return True
        if self.in_download:
            self.tail.append(byte)
            if len(self.tail) > len(self.pattern):
                del self.tail[0]
            if self.tail.endswith(self.pattern):
                self.in_download = False
                self.tail.clear()
            return True
        self.line.append(byte)
        if len(self.line) > 512:
            del self.line[:256]
        if not self.line.endswith(b"\r\n"):
            return False
        text = bytes(self.line)
        self.line.clear()
        if self.dialect == "quectel-gsm":
            match = _QSSLRECV.search(text)
            if match:
                self.remaining = int(match.group(1))
        elif text == b"CONNECT\r\n" and self.expect_download:
            self.in_download = True
            self.expect_download = False
        stripped = text.strip()
        if stripped.startswith(STORM_URCS.get(self.dialect, ())):
            self.last_urc = stripped.decode("latin-1")
        return False


    def _feed_xbee(self, byte: int) -> bool:
        """XBee3 API mode 1 frames (xbee3.md S6) and command-mode text (S2)."""
        self.ok_now = False
        if self.frame_left:
            index = self.frame_index
            self.frame_index += 1
            self.frame_left -= 1
            if index == 0:
                self.frame_type = byte
            return (self.frame_type == _XBEE_SOCKET_RECEIVE and index >= _XBEE_RECEIVE_HEADER
                    and self.frame_left > 0)  # the last byte is the checksum
        if self.frame_head:
            self.frame_head.append(byte)
            if len(self.frame_head) == 3:
                self.frame_left = int.from_bytes(self.frame_head[1:], "big") + 1
                self.frame_index = 0
                self.frame_head.clear()
            return False
        if byte == _XBEE_DELIMITER:  # never in command-mode text (ASCII answers)
            self.frame_head.append(byte)
            self.line.clear()
            return False
        self.line.append(byte)
        if len(self.line) > 512:
            del self.line[:256]
        if byte == 0x0D:
            self.ok_now = bytes(self.line).lstrip(b"\r\n") == OK_LINES["xbee3"]
            self.line.clear()
        return False


class FaultProxy:
    """A TCP proxy for one host connection at a time, injecting an armed :class:`Fault`.

    Args:
        upstream_port: the virtual modem's TCP port on 127.0.0.1.
        dialect: the dialect's name (how data phases, ``OK`` and URCs look).
        engine: the virtual modem, for reboot, PDP deactivation and server close.
        server_close: called for ``server_close`` when the engine has no open connection to
            close (e.g. :meth:`TcpRelay.cut`).
        rng_bytes: a source of garbling masks, ``rng_bytes(n) -> bytes``.
    """

    def __init__(self, upstream_port: int, dialect: str, engine: ATEngine,
                 server_close: Callable[[], None] | None = None,
                 rng_bytes: Callable[[int], bytes] | None = None) -> None:
        self.upstream_port = upstream_port
        self.dialect = dialect
        self.engine = engine
        self.server_close = server_close
        self._rng_bytes = rng_bytes or (lambda n: bytes([0x5A] * n))
        self._ok_line = OK_LINES.get(dialect, OK_LINE)
        self.fault: Fault | None = None
        self.armed = False
        self.fired = threading.Event()
        self.fired_note = ""
        self.counters = Counters()
        self._tracker = _Tracker(dialect)
        self._lock = threading.Lock()
        self._stall_until = 0.0
        self._garble_left = 0
        self._drop_left = 0
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(2)
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._spawn(self._accept_loop)

    @property
    def url(self) -> str:
        """``socket://127.0.0.1:<port>``, what the driver opens."""
        return f"socket://127.0.0.1:{self.port}"

    def arm(self, fault: Fault | None) -> None:
        """Start counting from zero; inject ``fault`` (``None``, or a kind in
        :data:`NOT_INJECTED` for the dialect: count only)."""
        if fault is not None and fault.kind in NOT_INJECTED.get(self.dialect, ()):
            fault = None
        with self._lock:
            self.fault = fault
            self.armed = True
            self.counters = Counters()
            self.fired.clear()
            self.fired_note = ""

    def disarm(self) -> None:
        """Stop injecting (counting goes on)."""
        with self._lock:
            self.armed = False

    # ------------------------------------------------------------------ plumbing
    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="fault-proxy")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                host, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                modem = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                _close(host)
                continue
            for sock in (host, modem):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._pairs.append((host, modem))
            self._spawn(self._pump_up, host, modem)
            self._spawn(self._pump_down, modem, host)

    def drop_line(self) -> None:
        """Close every host connection and its modem connection (the line drops)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for host, modem in pairs:
            _close(host)
            _close(modem)

    def close(self) -> None:
        """Stop listening, close every connection, join the threads (about 1 s at most)."""
        self._stop.set()
        _close(self._listener)
        self.drop_line()
        deadline = time.monotonic() + 2.0
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _hold_stall(self) -> None:
        while not self._stop.is_set():
            remaining = self._stall_until - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(remaining, 0.1))

    def _pump_up(self, host: socket.socket, modem: socket.socket) -> None:
        line = bytearray()
        try:
            while not self._stop.is_set():
                data = host.recv(65536)
                if not data:
                    break
                self._hold_stall()
                for byte in data:
                    if byte == 0x0D:
                        self._tracker.host_line(bytes(line))
                        line.clear()
                    else:
                        line.append(byte)
                        if len(line) > 4096:
                            del line[:2048]
                modem.sendall(data)
        except OSError:
            pass
        finally:
            _close(host)
            _close(modem)

    def _pump_down(self, modem: socket.socket, host: socket.socket) -> None:
        pending = bytearray()
        modem.settimeout(0.05)
        try:
            while not self._stop.is_set():
                try:
                    data = modem.recv(65536)
                except TimeoutError:
                    if pending:  # a held-back partial "OK" line that did not complete
                        host.sendall(bytes(pending))
                        pending.clear()
                    continue
                if not data:
                    break
                self._hold_stall()
                pending += data
                out, keep = self._process(pending, host)
                pending = keep
                if out:
                    host.sendall(out)
        except OSError:
            pass
        finally:
            _close(host)
            _close(modem)

    # ------------------------------------------------------------------ the faults
    def _process(self, data: bytearray, host: socket.socket) -> tuple[bytes, bytearray]:
        """Account and transform ``data``; returns what to send now and what to hold back."""
        out = bytearray()
        tracker = self._tracker
        fault = self.fault if self.armed and not self.fired.is_set() else None
        counters = self.counters
        for byte in data:
            position = counters.down_bytes
            counters.down_bytes += 1
            payload = tracker.feed(byte)
            data_index = -1
            if payload:
                data_index = counters.data_bytes
                counters.data_bytes += 1
            elif self._drop_left:
                self._drop_left = 0  # a truncation stays inside its data phase
            if fault is not None:
                kind = fault.kind
                if kind in BYTE_KINDS and position == fault.at:
                    self._fire(f"{fault.describe()} (byte {position})")
                    fault = None
                    if kind == "garble":
                        self._garble_left = self._size()
                    elif kind == "stall":
                        host.sendall(bytes(out))
                        out.clear()
                        self._stall_until = time.monotonic() + self._stall()
                        self._hold_stall()
                    elif kind == "line_drop":
                        host.sendall(bytes(out))
                        self.drop_line()
                        raise OSError("line dropped by the fault proxy")
                    elif kind == "reboot":
                        self.engine.reboot()
                    elif kind == "pdp_deactivation":
                        self.engine.fault_deactivate_pdp()
                elif kind in DATA_KINDS and data_index == fault.at:
                    self._fire(f"{fault.describe()} (byte {position})")
                    fault = None
                    if kind == "truncate":
                        self._drop_left = self._size()
                    else:
                        self._close_server()
            if self._drop_left and payload:
                self._drop_left -= 1
                continue
            if self._garble_left:
                self._garble_left -= 1
                mask = self._rng_bytes(1)[0] or 0x5A
                byte ^= mask
            out.append(byte)
            ok_line = self._ok_line
            if (tracker.ok_now if self.dialect == "xbee3" else
                    byte == 0x0A and out.endswith(OK_LINE) and not payload):
                index = counters.oks
                counters.oks += 1
                if fault is not None and fault.kind in OK_KINDS and index == fault.at:
                    self._fire(f"{fault.describe()} (byte {position})")
                    if fault.kind == "lost_ok":
                        # "OK\r\n"; the "\r\n" before it stays, an empty line (XBee: "OK\r")
                        del out[-(4 if ok_line == OK_LINE else len(ok_line)):]
                    elif fault.kind == "duplicate_ok":
                        out += ok_line
                    else:
                        urc = tracker.last_urc or DEFAULT_URCS[self.dialect]
                        out += (b"\r\n" + urc.encode("latin-1") + b"\r\n") * fault.size
                    fault = None
        keep = bytearray()
        if fault is not None and fault.kind in OK_KINDS and self.dialect != "xbee3":
            # hold back a possible start of "\r\nOK\r\n" until the next bytes (or 50 ms); not
            # on XBee3, whose tracker would be fed the held bytes twice (and an "O" may be frame
            # data): a module writes "OK\r" in one go, and a split one loses only what is left
            for cut in range(min(len(OK_LINE) - 1, len(out)), 0, -1):
                if OK_LINE.startswith(bytes(out[-cut:])):
                    keep = out[-cut:]
                    del out[-cut:]
                    break
        return bytes(out), keep

    def _size(self) -> int:
        return self.fault.size if self.fault is not None else 1

    def _stall(self) -> float:
        return self.fault.stall if self.fault is not None else 0.0

    def _fire(self, note: str) -> None:
        self.fired_note = note
        self.fired.set()

    def _close_server(self) -> None:
        for socket_id in range(0, 33):
            try:
                self.engine.fault_server_close(socket_id)
            except ValueError:
                continue
            self.fired_note += f"; module connection {socket_id} closed"
            return
        if self.server_close is not None:
            self.server_close()
            self.fired_note += "; cut at the network relay"


class TcpRelay:
    """A TCP relay on 127.0.0.1 in front of a server; :meth:`cut` closes every connection.

    Args:
        target_port: the server's port on 127.0.0.1.
        rate: bytes per second from the server to the client (``None``: as fast as it goes).
            A rate below the serial line's keeps most of a body at the server, so that a
            server closing "mid-body" really cuts the body short.
    """

    def __init__(self, target_port: int, rate: float | None = None) -> None:
        self.target_port = target_port
        self.rate = rate
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="relay")
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._conns += [client, server]
            for a, b, rate in ((client, server, None), (server, client, self.rate)):
                threading.Thread(target=self._pipe, args=(a, b, rate), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, rate: float | None) -> None:
        step = 65536 if rate is None else max(1, int(rate / 100))  # slices of about 10 ms
        try:
            next_time = time.monotonic()
            while data := src.recv(step):
                if rate is not None:
                    next_time = max(next_time, time.monotonic()) + len(data) / rate
                    time.sleep(max(0.0, next_time - time.monotonic()))
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)
            with self._lock:
                for sock in (src, dst):
                    with contextlib.suppress(ValueError):
                        self._conns.remove(sock)

    def cut(self) -> None:
        """Close every relayed connection (the server goes away mid-transfer)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for sock in conns:
            _close(sock)

    def close(self) -> None:
        """Stop the relay and close everything."""
        self._stop.set()
        _close(self._listener)
        self.cut()
        self._thread.join(timeout=1.0)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
