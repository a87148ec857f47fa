"""A local HTTPS server for tests and ``celltls demo``, and a trustme test PKI.

:class:`LocalHTTPSServer` is :class:`http.server.ThreadingHTTPServer` (HTTP/1.1, keep-alive)
behind an :class:`ssl.SSLContext` built from a certificate chain and key in PEM, optionally
limited in TLS versions and cipher suites and optionally requiring a client certificate. It
listens on 127.0.0.1 and answers:

- ``GET /bytes/<n>?seed=<s>``: ``n`` bytes of :func:`deterministic_bytes` with Content-Length
  and ``Content-Digest: sha-256=:...:`` (RFC 9530; ``&digest=0`` leaves it out);
- ``GET /chunked/<n>?seed=<s>``: the same bytes with ``Transfer-Encoding: chunked``, 1000 bytes
  per chunk; ``&interval=<seconds>`` waits that long between chunks (a slow server, so that a
  test can inject a fault while the body is certainly still on its way);
- ``HEAD`` of both: the headers only;
- ``POST /echo`` and ``PUT /echo``: the request body back, with the request's Content-Type and
  ``X-Received-Length``;
- ``DELETE /thing``: 204;
- ``GET /headers``: the request headers as a JSON object;
- ``GET /client-cert``: the client certificate's subject CN as text (mutual TLS), else 403;
- ``GET /status/<code>``: that status;
- anything else: 404.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme

__all__ = ["PKI", "ClientCredentials", "LocalHTTPSServer", "deterministic_bytes", "make_pki"]

log = logging.getLogger(__name__)


def deterministic_bytes(n: int, seed: int = 0) -> bytes:
    """``n`` pseudo-random bytes, the same for the same ``seed`` (SHAKE-256 of the seed).

    Args:
        n: how many bytes (0 or more).
        seed: selects the sequence.

    Raises:
        ValueError: ``n`` is negative.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    return hashlib.shake_256(f"celltls-deterministic-{seed}".encode()).digest(n) if n else b""


@dataclass(frozen=True)
class ClientCredentials:
    """A client certificate and its private key, PEM."""

    cert_pem: bytes
    key_pem: bytes


class PKI:
    """A throw-away PKI made with trustme (see :func:`make_pki`).

    Attributes:
        ca_pem: the CA certificate, PEM.
        server_chain_pem: the server certificate and its chain, PEM.
        server_key_pem: the server's private key, PEM.
        ca: the :class:`trustme.CA`, to issue more certificates.
    """

    def __init__(self, ca: Any, hostnames: tuple[str, ...], key_type: Any) -> None:
        self.ca = ca
        self._key_type = key_type
        leaf = ca.issue_cert(*hostnames, key_type=key_type)
        self.ca_pem: bytes = ca.cert_pem.bytes()
        self.server_chain_pem: bytes = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
        self.server_key_pem: bytes = leaf.private_key_pem.bytes()

    def client(self, name: str) -> ClientCredentials:
        """A client certificate for ``name`` (its subject CN), signed by this CA."""
        leaf = self.ca.issue_cert(f"{name}@client.test", common_name=name, key_type=self._key_type)
        return ClientCredentials(
            b"".join(blob.bytes() for blob in leaf.cert_chain_pems), leaf.private_key_pem.bytes()
        )


def make_pki(
    hostnames: tuple[str, ...] = ("127.0.0.1", "localhost"), key_type: str = "rsa"
) -> PKI:
    """A new CA with a server certificate for ``hostnames``.

    Args:
        hostnames: names and addresses the server certificate is for.
        key_type: ``"rsa"`` (what Quectel GSM modules need: they only know RSA key exchange)
            or ``"ecdsa"``.

    Raises:
        ValueError: unknown ``key_type``.
    """
    kinds = {"rsa": trustme.KeyType.RSA, "ecdsa": trustme.KeyType.ECDSA}
    if key_type not in kinds:
        raise ValueError(f"key_type must be one of {sorted(kinds)}")
    ca = trustme.CA(key_type=kinds[key_type])
    return PKI(ca, tuple(hostnames), kinds[key_type])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "celltls-httpsd/1"
    timeout = 15

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # helpers ------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str = "text/plain",
              extra: dict[str, str] | None = None, head: bool = False) -> None:
        self.send_response(status)
        if status not in (204, 304):
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head and status not in (204, 304):
            self.wfile.write(body)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size_line = self.rfile.readline().split(b";")[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _route(self, head: bool = False) -> None:
        url = urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        seed = int(query.get("seed", ["0"])[0])
        if len(parts) == 2 and parts[0] in ("bytes", "chunked") and parts[1].isdigit():
            data = deterministic_bytes(int(parts[1]), seed)
            # RFC 9530 §2: Content-Digest: sha-256=:<base64 of the SHA-256 of the content>:
            # (``?digest=0`` leaves it out, as most servers do).
            extra = {} if query.get("digest") == ["0"] else {
                "Content-Digest":
                    f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:"}
            if parts[0] == "bytes":
                self._send(200, data, "application/octet-stream", extra=extra, head=head)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            for key, value in extra.items():
                self.send_header(key, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if not head:
                interval = float(query.get("interval", ["0"])[0])
                for start in range(0, len(data), 1000):
                    chunk = data[start : start + 1000]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    if interval > 0:
                        self.wfile.flush()
                        time.sleep(interval)
                self.wfile.write(b"0\r\n\r\n")
            return
        if parts == ["headers"]:
            headers: dict[str, str] = {}
            for key, value in self.headers.items():
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            self._send(200, json.dumps(headers).encode(), "application/json", head=head)
            return
        if parts == ["client-cert"]:
            cn: str | None = None
            if isinstance(self.connection, ssl.SSLSocket):
                cert = self.connection.getpeercert() or {}
                subject: Any = cert.get("subject", ())
                for rdn in subject:
                    for key, value in rdn:
                        if key == "commonName":
                            cn = str(value)
            if cn is None:
                self._send(403, b"no client certificate\n", head=head)
            else:
                self._send(200, cn.encode(), head=head)
            return
        if len(parts) == 2 and parts[0] == "status" and parts[1].isdigit():
            code = int(parts[1])
            self._send(code, f"status {code}\n".encode(), head=head)
            return
        self._send(404, b"not found\n", head=head)

    # methods ------------------------------------------------------------------
    def do_GET(self) -> None:
        self._route()

    def do_HEAD(self) -> None:
        self._route(head=True)

    def _echo(self) -> None:
        body = self._read_body()
        if urlsplit(self.path).path != "/echo":
            self._send(404, b"not found\n")
            return
        self._send(200, body, self.headers.get("Content-Type", "application/octet-stream"),
                   {"X-Received-Length": str(len(body))})

    def do_POST(self) -> None:
        self._echo()

    def do_PUT(self) -> None:
        self._echo()

    def do_DELETE(self) -> None:
        self._read_body()
        if urlsplit(self.path).path == "/thing":
            self._send(204, b"")
        else:
            self._send(404, b"not found\n")


class _TLSHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    context: ssl.SSLContext

    def finish_request(self, request: Any, client_address: Any) -> None:
        # the handshake runs in the request's own thread, so a stuck client blocks nobody
        sock: socket.socket = request
        sock.settimeout(10)
        try:
            tls = self.context.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.debug("TLS handshake with %s failed: %s", client_address, exc)
            return
        try:
            super().finish_request(tls, client_address)
        except OSError as exc:  # the client went away mid-answer (a fault test, a killed host)
            log.debug("connection with %s ended: %s", client_address, exc)
        finally:
            with contextlib.suppress(OSError):
                tls.close()


class LocalHTTPSServer:
    """An HTTPS test server on 127.0.0.1 (see the module's docstring for its routes).

    Args:
        cert_chain_pem: the server certificate and chain, PEM.
        key_pem: its private key, PEM.
        minimum_version: lowest TLS version accepted (``None``: OpenSSL's default).
        maximum_version: highest TLS version accepted.
        ciphers: an OpenSSL cipher string for TLS 1.2 and below (e.g. ``"ECDHE+AESGCM"``).
        client_ca_pem: when given, a client certificate signed by it is required.
        host: address to listen on.
        port: port; 0 picks a free one.

    Raises:
        ssl.SSLError: a credential or the cipher string cannot be used.
    """

    def __init__(
        self,
        cert_chain_pem: bytes,
        key_pem: bytes,
        *,
        minimum_version: ssl.TLSVersion | None = None,
        maximum_version: ssl.TLSVersion | None = None,
        ciphers: str | None = None,
        client_ca_pem: bytes | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if ciphers is not None:
            context.set_ciphers(ciphers)
        else:
            # accept what old modules offer (RSA key exchange, TLS 1.0-1.2)
            context.set_ciphers("DEFAULT:AES256-SHA:AES128-SHA:AES256-SHA256:@SECLEVEL=0")
        if minimum_version is not None:
            context.minimum_version = minimum_version
        elif ciphers is None:
            context.minimum_version = ssl.TLSVersion.TLSv1_2
        if maximum_version is not None:
            context.maximum_version = maximum_version
        with tempfile.TemporaryDirectory(prefix="celltls-httpsd-") as directory:
            os.chmod(directory, 0o700)
            cert_path = os.path.join(directory, "cert.pem")
            key_path = os.path.join(directory, "key.pem")
            for path, blob in ((cert_path, cert_chain_pem), (key_path, key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(blob)
            context.load_cert_chain(cert_path, key_path)
        if client_ca_pem is not None:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cadata=client_ca_pem.decode("ascii"))
        self.context = context
        self._server = _TLSHTTPServer((host, port), _Handler, bind_and_activate=True)
        self._server.context = context
        self._host = host
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        """``https://127.0.0.1:PORT`` + ``path``."""
        return f"https://{self._host}:{self.port}{path}"

    def start(self) -> LocalHTTPSServer:
        """Serve in a daemon thread; returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                name="celltls-httpsd", daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=1.0)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> LocalHTTPSServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
