"""Serve a virtual modem on a TCP port or a pseudo-terminal, like one serial line.

>>> with VirtualModemServer("quectel-gsm") as server:      # doctest: +SKIP
...     port = serial.serial_for_url(server.url)           # socket://127.0.0.1:PORT
...     server.modem.fault_lose_registration()

On TCP one host connection is served at a time (a second one is refused while the first is
open); the modem's state persists across connections, as a module's does when its port is
closed and opened again. What the modem writes is paced at ``baudrate``/10 bytes per second
(8N1: ten bits a byte) when a baud rate is given.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import select
import signal
import socket
import sys
import threading
import time
import tty
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from celltls.dialects import registry
from celltls.sim.engine import ATEngine

__all__ = ["VirtualModemServer", "run", "simulated_dialects"]

log = logging.getLogger(__name__)



def simulated_dialects() -> list[str]:
    """The dialects that have a virtual modem (from :mod:`celltls.dialects.registry`)."""
    return registry.names(simulated=True)


class _Pacer:
    """A writer thread that sends the modem's bytes at ``baudrate``/10 bytes per second."""

    def __init__(self, write: Callable[[bytes], None], baudrate: int | None) -> None:
        self._write = write
        self._rate = baudrate / 10.0 if baudrate else None
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="celltls-sim-pacer", daemon=True)
        self._thread.start()

    def put(self, data: bytes) -> None:
        if not self._stop.is_set():
            self._queue.put(data)

    def _run(self) -> None:
        next_time = time.monotonic()
        while not self._stop.is_set():
            data = self._queue.get()
            if data is None:
                return
            try:
                if self._rate is None:
                    self._write(data)
                    continue
                step = max(1, int(self._rate / 100))  # slices of about 10 ms
                for start in range(0, len(data), step):
                    if self._stop.is_set():
                        return
                    chunk = data[start : start + step]
                    now = time.monotonic()
                    next_time = max(next_time, now)
                    if next_time > now:
                        time.sleep(next_time - now)
                    self._write(chunk)
                    next_time += len(chunk) / self._rate
            except OSError as exc:
                log.debug("virtual modem output stopped: %s", exc)
                return

    def close(self) -> None:
        self._stop.set()
        self._queue.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)


class VirtualModemServer:
    """A virtual modem served on a TCP port (``socket://``) or a pty.

    Args:
        dialect: a dialect with a virtual modem (``"quectel-gsm"``; see
            :func:`simulated_dialects`).
        host: address to listen on (TCP).
        port: TCP port; 0 picks a free one.
        pty: serve on a pseudo-terminal instead of TCP.
        baudrate: pace the modem's output at ``baudrate``/10 bytes per second; ``None``: unpaced.
        latency: seconds added to each network round trip of the modem.
        model: the module model (dialect-specific; ``None`` for the dialect's default).
        guard_time: the escape sequence's guard time, seconds.
        strict: refuse what the real module refuses where the virtual modem would otherwise
            take a liberty (:attr:`celltls.sim.line.LineEngine.strict`, docs/virtual-modems.md).
        **modem_options: passed to the dialect's modem (``clock``, ``nvram_path``...).

    Attributes:
        modem: the virtual modem, for fault injection and inspection.

    Raises:
        UnknownDialectError: unknown dialect, or one without a virtual modem.
    """

    def __init__(
        self,
        dialect: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        pty: bool = False,
        baudrate: int | None = None,
        latency: float = 0.0,
        model: str | None = None,
        guard_time: float = 1.0,
        strict: bool = False,
        **modem_options: Any,
    ) -> None:
        info = registry.get(dialect)
        if info.virtual_modem is None:
            raise registry.UnknownDialectError(
                f"dialect {info.name!r} has no virtual modem yet; "
                f"simulated: {', '.join(simulated_dialects())}")
        self.dialect = info.name
        self.modem: ATEngine = info.virtual_modem()(
            model=model, guard_time=guard_time, latency=latency, **modem_options
        )
        self.modem.strict = strict
        self._host = host
        self._port = port
        self._use_pty = pty
        self.baudrate = baudrate
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._conn: socket.socket | None = None
        self._conn_lock = threading.Lock()
        self._pacer: _Pacer | None = None
        self._master_fd: int | None = None
        self._slave_fd: int | None = None
        self._slave_path = ""
        self._started = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> VirtualModemServer:
        """Start serving; returns ``self``.

        Raises:
            OSError: the port cannot be bound or no pty can be opened.
        """
        if self._started:
            return self
        self._started = True
        if self._use_pty:
            self._start_pty()
        else:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._host, self._port))
            listener.listen(2)
            listener.settimeout(0.1)
            self._listener = listener
            self._port = listener.getsockname()[1]
            self._spawn(self._accept_loop, "celltls-sim-accept")
        return self

    def stop(self) -> None:
        """Stop serving, close the connection and the modem's network connections (within ~1 s)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self.modem.attach_sink(None)
        with self._conn_lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            _close_quietly(conn)
        if self._listener is not None:
            _close_quietly(self._listener)
        if self._pacer is not None:
            self._pacer.close()
        deadline = time.monotonic() + 1.0
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        for fd in (self._master_fd, self._slave_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master_fd = self._slave_fd = None
        self.modem.shutdown()

    def __enter__(self) -> VirtualModemServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """What to open: ``socket://127.0.0.1:PORT`` on TCP, the slave path on a pty."""
        if self._use_pty:
            return self._slave_path
        return f"socket://{self._host}:{self._port}"

    @property
    def port(self) -> int:
        """The TCP port (after :meth:`start`)."""
        return self._port

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    # ------------------------------------------------------------------ TCP
    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._conn_lock:
                busy = self._conn is not None
                if not busy:
                    self._conn = conn
            if busy:
                log.info("refusing a second host connection from %s", peer)
                _close_quietly(conn)
                continue
            log.debug("host connected from %s", peer)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._serve_tcp(conn)

    def _serve_tcp(self, conn: socket.socket) -> None:
        pacer = _Pacer(conn.sendall, self.baudrate)
        self._pacer = pacer
        self.modem.attach_sink(pacer.put)
        conn.settimeout(0.1)
        try:
            while not self._stop.is_set():
                try:
                    data = conn.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    break
                if not data:
                    break
                self.modem.feed(data)
        finally:
            self.modem.attach_sink(None)
            pacer.close()
            with self._conn_lock:
                if self._conn is conn:
                    self._conn = None
            _close_quietly(conn)
            log.debug("host disconnected")

    # ------------------------------------------------------------------ pty
    def _start_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master_fd, self._slave_fd = master, slave
        self._slave_path = os.ttyname(slave)
        pacer = _Pacer(self._pty_write, self.baudrate)
        self._pacer = pacer
        self.modem.attach_sink(pacer.put)
        self._spawn(self._pty_read_loop, "celltls-sim-pty")

    def _pty_write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._stop.is_set():
            fd = self._master_fd
            if fd is None:
                return
            try:
                written = os.write(fd, view)
                view = view[written:]
            except BlockingIOError:
                select.select([], [fd], [], 0.1)

    def _pty_read_loop(self) -> None:
        while not self._stop.is_set():
            fd = self._master_fd
            if fd is None:
                return
            try:
                readable, _, _ = select.select([fd], [], [], 0.1)
                if not readable:
                    continue
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            except OSError as exc:
                if exc.errno == errno.EIO:
                    time.sleep(0.05)
                    continue
                return
            if data:
                self.modem.feed(data)


def _close_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


def run(
    dialect: str,
    listen: str | None = None,
    pty: bool = False,
    baudrate: int | None = None,
    latency: float = 0.0,
    model: str | None = None,
    guard_time: float = 1.0,
    strict: bool = False,
    **modem_options: Any,
) -> None:
    """Serve a virtual modem until SIGINT or SIGTERM.

    The first line written to standard output is the address to open (``socket://127.0.0.1:PORT``
    or the pty path), flushed at once, so that a parent process can read it.

    Args:
        dialect: a dialect with a virtual modem (:func:`simulated_dialects`).
        listen: ``"HOST:PORT"`` or ``"PORT"`` to listen on (TCP); ``None``: 127.0.0.1, a free port.
        pty: serve on a pseudo-terminal instead.
        baudrate: output pacing, bits per second (``None``: unpaced).
        latency: network round-trip latency, seconds.
        model: the module model.
        guard_time: escape sequence guard time, seconds.
        strict: strict mode (``celltls sim --strict``, see :class:`VirtualModemServer`).
        **modem_options: passed to the dialect's modem.

    Raises:
        UnknownDialectError: unknown dialect, or one without a virtual modem.
        ValueError: ``listen`` cannot be parsed.
    """
    host, port = "127.0.0.1", 0
    if listen:
        text = listen.rsplit(":", 1)
        if len(text) == 2:
            host, port = text[0] or host, int(text[1])
        else:
            port = int(text[0])
    server = VirtualModemServer(
        dialect,
        host=host,
        port=port,
        pty=pty,
        baudrate=baudrate,
        latency=latency,
        model=model,
        guard_time=guard_time,
        strict=strict,
        **modem_options,
    )
    done = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    server.start()
    try:
        sys.stdout.write(server.url + "\n")
        sys.stdout.flush()
        while not done.wait(0.2):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
