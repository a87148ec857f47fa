"""Sockets of the virtual XBee 3 Cellular: one worker thread each, real TCP/TLS behind them.

A socket (an extended socket made with frame 0x40, an implicit one made by a 0x20/0x23 TX
request, or the transparent-mode connection) runs its network operations (connect, send,
close) in order on its own worker thread, so that a slow server never blocks the serial line;
the engine's lock is taken only to report results. The failure reasons of
:mod:`celltls.sim.network` are mapped to the module's codes here (shared/reference/xbee3.md
§4 CI table, §7 0x89 table, §8 0xCF table).

Choices where the reference says "unknown" (§8, §10, §14): a failed TLS handshake or a failed
server verification on an extended socket reports 0xCF status 0x08 (unknown error), the
module naming no cause; on 0x20/0x23 the TX status says more: 0x8B (TLS socket
authentication error) for a verification failure, 0x85 (unknown error, as L2 saw for a cipher
mismatch) for another handshake failure, 0x86 for a TLS profile naming a missing or unusable
file.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from celltls.sim.network import Connection, TlsOpenError

__all__ = ["Failure", "NetSocket", "TlsConfigError", "UdpEndpoint", "failure_of", "resolve_ipv4"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Failure:
    """One failure cause in the module's codes.

    Attributes:
        reason: the simulator's reason text (for the log and tests).
        cf: 0xCF socket status (§8).
        tx: 0x89 TX status (§7).
        ci_lte_m: ``CI`` value on LTE-M firmware (§4).
        ci_cat1: ``CI`` value on Cat 1 firmware (§4; L1 read 0x26 for a TLS failure).
    """

    reason: str
    cf: int
    tx: int
    ci_lte_m: int
    ci_cat1: int


class TlsConfigError(Exception):
    """The TLS profile names a file that is missing or unusable (0x89 status 0x86)."""


def failure_of(exc: Exception) -> Failure:
    """Map a failure to the module's codes (see the module docstring for the choices)."""
    if isinstance(exc, TlsConfigError):
        return Failure(f"tls config: {exc}", 0x08, 0x86, 0x2F, 0x26)
    reason = exc.reason if isinstance(exc, TlsOpenError) else str(exc)
    if reason.startswith("dns failed"):
        return Failure(reason, 0x01, 0x84, 0x25, 0x25)
    if reason.startswith("timeout"):
        return Failure(reason, 0x04, 0x82, 0x24, 0x24)
    if reason.startswith("connect failed"):
        return Failure(reason, 0x02, 0x80, 0x26, 0x26)
    if reason.startswith(("verify failed", "no CA certificate")):
        return Failure(reason, 0x08, 0x8B, 0x2F, 0x26)
    if reason.startswith(("handshake failed", "unsupported")):
        return Failure(reason, 0x08, 0x85, 0x2F, 0x26)
    return Failure(reason, 0x08, 0x85, 0x28, 0x28)


def resolve_ipv4(host: str) -> str:
    """The first IPv4 address of ``host`` (the module resolves names itself, §8 0x42).

    Raises:
        TlsOpenError: ``"dns failed: ..."``.
    """
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TlsOpenError(f"dns failed: {host}: {exc}") from exc
    if not infos:
        raise TlsOpenError(f"dns failed: {host}: no IPv4 address")
    return str(infos[0][4][0])


@dataclass
class NetSocket:
    """One socket of the module.

    Attributes:
        sid: socket ID (0-based; -1 for the transparent connection).
        protocol: 0 UDP, 1 TCP, 4 TLS (§8 0x40).
        kind: ``"extended"`` (0x40), ``"implicit"`` (0x20/0x23) or ``"transparent"``.
        profile: TLS profile index (``$0``-``$2``).
        state: ``"allocated"``, ``"connecting"``, ``"connected"`` or ``"closed"``.
        local_port: the module's local port (implicit sockets are found by it).
        remote_ip: the server's IPv4 address once resolved.
        remote_port: the server's port.
        conn: the open connection.
        failure: why connecting failed, once it has.
        udp: the UDP endpoint of a UDP socket, once bound or connected.
    """

    sid: int
    protocol: int
    kind: str
    profile: int = 0
    state: str = "allocated"
    local_port: int = 0
    remote_ip: str = ""
    remote_port: int = 0
    conn: Connection | None = None
    failure: Failure | None = None
    udp: UdpEndpoint | None = None
    _jobs: queue.Queue[Callable[[], None] | None] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None

    def run(self, job: Callable[[], None]) -> None:
        """Queue ``job`` on this socket's worker thread (started on first use)."""
        if self._thread is None:
            thread = threading.Thread(target=self._work, name=f"xbee3-sock-{self.sid}",
                                      daemon=True)
            self._thread = thread
            thread.start()
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # a bug in a job must not kill the worker silently
                log.exception("xbee3 socket %s job failed", self.sid)

    def close(self) -> None:
        """Close the connection (if any) and stop the worker; idempotent.

        The connection is closed on a thread of its own, so that a caller holding the engine's
        lock never waits for a reader thread that waits for that lock.
        """
        self.state = "closed"
        udp, self.udp = self.udp, None
        if udp is not None:
            udp.close()
        conn, self.conn = self.conn, None
        if conn is not None:
            threading.Thread(target=_close_quietly, args=(conn,), daemon=True).start()
        self._jobs.put(None)


def _close_quietly(conn: Connection) -> None:
    with contextlib.suppress(OSError):
        conn.close()


class UdpEndpoint:
    """A real UDP socket behind a module's UDP socket, with a reader thread.

    Args:
        local_port: the port to bind on 127.0.0.1 (0: any free one).
        on_datagram: called with ``(payload, source_ip, source_port)`` for each datagram.

    Raises:
        OSError: the port cannot be bound.
    """

    def __init__(self, local_port: int,
                 on_datagram: Callable[[bytes, str, int], None]) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self._sock.bind(("127.0.0.1", local_port))
        except OSError:
            self._sock.close()
            raise
        self._sock.settimeout(0.1)
        self.local_port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._on_datagram = on_datagram
        self._thread = threading.Thread(target=self._loop, name="xbee3-udp", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                payload, (ip, port) = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self._on_datagram(payload, str(ip), int(port))

    def send(self, payload: bytes, ip: str, port: int) -> None:
        """Send one datagram.

        Raises:
            OSError: the datagram cannot be sent.
        """
        self._sock.sendto(payload, (ip, port))

    def close(self) -> None:
        """Stop the reader and close the socket (idempotent)."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.close()
