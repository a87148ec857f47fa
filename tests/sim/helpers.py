"""Helpers of the virtual modem tests: a host on a real TCP socket, test TLS servers."""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from celltls.sim.httpsd import PKI
from celltls.sim.serve import VirtualModemServer

GUARD = 0.15


class Host:
    """The host end of the serial line: a TCP client of a VirtualModemServer."""

    def __init__(self, server: VirtualModemServer) -> None:
        self.server = server
        self.sock = socket.create_connection(("127.0.0.1", server.port))
        self.sock.settimeout(0.05)
        self.buf = bytearray()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return time.monotonic() < deadline
        if not data:
            raise ConnectionError("modem closed the line")
        self.buf += data
        return True

    def read_until(self, pattern: bytes, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while pattern not in self.buf:
            if not self._fill(deadline):
                raise TimeoutError(f"no {pattern!r} in {bytes(self.buf)!r}")
        end = self.buf.index(pattern) + len(pattern)
        out = bytes(self.buf[:end])
        del self.buf[:end]
        return out

    def read_exact(self, n: int, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise TimeoutError(f"{len(self.buf)} of {n} bytes: {bytes(self.buf)!r}")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_line(self, timeout: float = 5.0) -> str:
        """The next non-empty CR LF framed line."""
        while True:
            line = self.read_until(b"\r\n", timeout)[:-2]
            if line:
                return line.decode("latin-1")

    def drain(self, quiet: float = 0.2) -> bytes:
        end = time.monotonic() + quiet
        while self._fill(end):
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def cmd(self, line: str, timeout: float = 5.0) -> list[str]:
        """Send a command line; the response lines up to a final result code."""
        self.send(line.encode("latin-1") + b"\r")
        lines: list[str] = []
        finals = ("OK", "ERROR", "SEND OK", "SEND FAIL", "CLOSE OK", "DEACT OK", "CONNECT")
        while True:
            text = self.read_line(timeout)
            lines.append(text)
            if text in finals or text.startswith("+CME ERROR"):
                return lines

    def escape(self, guard: float = GUARD) -> None:
        time.sleep(guard * 1.5)
        self.send(b"+++")
        time.sleep(guard * 1.5)


def bring_up(host: Host) -> None:
    for line in ("AT+QIFGCNT=0", 'AT+QICSGP=1,"CMNET"', "AT+QIREGAPP", "AT+QIACT"):
        assert host.cmd(line)[-1] == "OK", line
    host.send(b"AT+QILOCIP\r")
    host.read_line()


def upload(host: Host, name: str, data: bytes) -> str:
    assert host.cmd(f'AT+QSECWRITE="{name}",{len(data)},100') == ["CONNECT"]
    host.send(data)
    lines = [host.read_line(), host.read_line()]
    assert lines[1] == "OK", lines
    return lines[0]


def server_context(
    pki: PKI,
    *,
    client_ca: bytes | None = None,
    ciphers: str | None = None,
    minimum: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
    chain: bytes | None = None,
    key: bytes | None = None,
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.set_ciphers(ciphers or "DEFAULT:AES256-SHA:AES128-SHA:AES256-SHA256:@SECLEVEL=0")
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    with tempfile.TemporaryDirectory() as d:
        cert_path, key_path = Path(d, "c.pem"), Path(d, "k.pem")
        cert_path.write_bytes(chain or pki.server_chain_pem)
        key_path.write_bytes(key or pki.server_key_pem)
        ctx.load_cert_chain(str(cert_path), str(key_path))
    if client_ca is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=client_ca.decode())
    return ctx


class ScriptedTLSServer:
    """A one-connection-at-a-time TLS server on 127.0.0.1 that answers by a script.

    ``script`` is a list of (bytes received so far, reply); when the total received reaches
    the count, the reply is sent. ``close_after`` closes the connection after the last reply.
    """

    def __init__(
        self,
        context: ssl.SSLContext,
        script: list[tuple[int, bytes]] | None = None,
        *,
        echo: bool = False,
        close_after: bool = False,
    ) -> None:
        self.context = context
        self.script = list(script or [])
        self.echo = echo
        self.close_after = close_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.received = bytearray()
        self.handshake_errors: list[str] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.on_connect: Callable[[ssl.SSLSocket], None] | None = None

    def __enter__(self) -> ScriptedTLSServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(timeout=2)
        self.listener.close()

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                raw, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            raw.settimeout(5)
            try:
                conn = self.context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                self.handshake_errors.append(str(exc))
                raw.close()
                continue
            self._serve(conn)

    def _serve(self, conn: ssl.SSLSocket) -> None:
        conn.settimeout(0.1)
        script = list(self.script)
        with conn:
            while not self.stop_event.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except (ssl.SSLError, OSError):
                    return
                if not data:
                    return
                self.received += data
                if self.echo:
                    conn.sendall(data)
                while script and len(self.received) >= script[0][0]:
                    conn.sendall(script.pop(0)[1])
                    if not script and self.close_after:
                        time.sleep(0.05)
                        return
