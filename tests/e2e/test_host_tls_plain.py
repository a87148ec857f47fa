"""Plain TCP sockets through both virtual modems (the stream TLS on the host runs over):
exact bytes both ways, a peer close, and sockets an earlier run left open closed by the next.

Quectel GSM: AT+QIOPEN/QISEND/+QIRDI/QIRD/QICLOSE (quectel-gsm-tcpip.md 4-5, SSL-AN 1.3, 3.3);
Sierra HL78xx: +KTCPCFG mode 0, +KTCPSND, +KTCP_DATA/+KTCPRCV (sierra-hl78xx.md S4).
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator

import pytest

from celltls import Modem
from celltls.sim.httpsd import deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from celltls.trace import TranscriptWriter

DIALECTS = ["quectel-gsm", "sierra"]


class Server:
    """A TCP server on 127.0.0.1: each connection gets ``greeting`` then, with ``echo``, its
    own bytes back until it closes; without, the server closes after the greeting. Stops on
    exit."""

    def __init__(self, greeting: bytes = b"", *, echo: bool = True) -> None:
        self.greeting = greeting
        self.echo = echo
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.accepted = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.listener.close()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.sendall(self.greeting)
            if not self.echo:
                return
            conn.settimeout(0.1)
            while not self.stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)


@pytest.fixture(params=DIALECTS)
def sim(request: pytest.FixtureRequest) -> Iterator[tuple[VirtualModemServer, str]]:
    with VirtualModemServer(request.param, guard_time=0.2) as server:
        yield server, request.param


def _modem(sim: tuple[VirtualModemServer, str], transcript: io.StringIO) -> Modem:
    server, dialect = sim
    modem = Modem(server.url, dialect, trace=TranscriptWriter(transcript), guard_time=0.2)
    modem.attach(apn="internet")
    return modem


def _read(sock: object, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))  # type: ignore[attr-defined]
        assert chunk, f"stream ended after {len(data)} of {size} bytes"
        data += chunk
    return data


def test_echo_exact_bytes_both_ways(sim: tuple[VirtualModemServer, str]) -> None:
    payload = deterministic_bytes(20000, 5)
    with Server() as server, _modem(sim, io.StringIO()) as modem, \
            modem.driver.tcp_connect("127.0.0.1", server.port, timeout=30) as sock:
        sock.sendall(payload)
        assert _read(sock, len(payload)) == payload


def test_peer_close_ends_the_stream_after_every_byte(sim: tuple[VirtualModemServer, str]) -> None:
    greeting = deterministic_bytes(7000, 9)
    with Server(greeting, echo=False) as server, _modem(sim, io.StringIO()) as modem:
        sock = modem.driver.tcp_connect("127.0.0.1", server.port, timeout=30)
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        assert data == greeting
        sock.close()
        # the index or session is free again
        with modem.driver.tcp_connect("127.0.0.1", server.port, timeout=30) as again:
            assert _read(again, 10) == greeting[:10]


def test_socket_left_by_an_earlier_run_is_closed(sim: tuple[VirtualModemServer, str]) -> None:
    with Server(b"hi") as server:
        first = _modem(sim, io.StringIO())
        sock = first.driver.tcp_connect("127.0.0.1", server.port, timeout=30)
        assert _read(sock, 2) == b"hi"
        first.channel.close()  # the host program dies: nothing is closed in the module
        first._close_trace()
        transcript = io.StringIO()
        with _modem(sim, transcript) as second:
            text = transcript.getvalue()
            assert "AT+QICLOSE=" in text or "AT+KTCPCLOSE=" in text, text
            with second.driver.tcp_connect("127.0.0.1", server.port, timeout=30) as again:
                assert _read(again, 2) == b"hi"
                again.sendall(b"ping")
                assert _read(again, 4) == b"ping"
