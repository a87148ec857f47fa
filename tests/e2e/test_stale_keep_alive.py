"""A kept-alive connection that died while idle, through the virtual Quectel GSM modem.

RFC 9112 9.3.1: a client may open a new connection and retry a request that is idempotent
(RFC 9110 9.2.2) when its connection closes before the response; a server closing an idle
kept-alive connection just as the next request arrives is the usual cause. ``Modem.request``
sends such a request once more on a new connection, and a request that is not idempotent
raises :class:`~celltls.errors.EmptyReplyError` (curl's "Empty reply from server", exit 52).
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from celltls import EmptyReplyError, Modem, TlsProfile
from celltls.sim.httpsd import PKI


class _StaleServer:
    """Answers the first request on each TLS connection (keeping it open), then reads the
    next request and closes the connection without a byte of answer."""

    def __init__(self, pki: PKI, tmp: Path) -> None:
        chain, key = tmp / "chain.pem", tmp / "key.pem"
        chain.write_bytes(pki.server_chain_pem)
        key.write_bytes(pki.server_key_pem)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # what old modules offer: RSA key exchange (the Quectel GSM module's only kind)
        self.context.set_ciphers("DEFAULT:AES256-SHA:AES128-SHA:AES256-SHA256:@SECLEVEL=0")
        self.context.load_cert_chain(chain, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0  # TLS probes (Modem.choose_tls) included
        #: (connection number, request line) of every request received
        self.requests: list[tuple[int, bytes]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, self.connections),
                             daemon=True).start()

    def _request(self, tls: ssl.SSLSocket, number: int) -> bytes | None:
        data = b""
        while b"\r\n\r\n" not in data:
            piece = tls.recv(4096)
            if not piece:
                return None
            data += piece
        head, _, body = data.partition(b"\r\n\r\n")
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                while len(body) < int(value):
                    body += tls.recv(4096)
        self.requests.append((number, head.split(b"\r\n")[0]))
        return head

    def _serve(self, conn: socket.socket, number: int) -> None:
        conn.settimeout(20)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                if self._request(tls, number) is None:
                    return
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
                self._request(tls, number)  # the next request on the kept-alive connection...
        except (OSError, ssl.SSLError):
            pass  # ...is never answered: the connection closes here

    def url(self, path: str = "/") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def stale(pki: PKI, tmp_path: Path) -> Iterator[_StaleServer]:
    server = _StaleServer(pki, tmp_path)
    yield server
    server.close()


def test_an_idempotent_request_is_sent_again_on_a_new_connection(
        modem: Modem, stale: _StaleServer, profile: TlsProfile) -> None:
    """The second GET goes out on the kept-alive connection, which the server closes without
    answering: it is sent once more on a new connection and returns the answer."""
    first = modem.request("GET", stale.url("/a"), profile=profile)
    assert first.read() == b"fresh"
    second = modem.request("GET", stale.url("/b"), profile=profile)
    assert second.status == 200 and second.read() == b"fresh"
    (one, a), (kept, b), (new, again) = stale.requests
    assert (a, b, again) == (b"GET /a HTTP/1.1", b"GET /b HTTP/1.1", b"GET /b HTTP/1.1")
    assert kept == one and new != one  # the retry went out on a new connection


def test_a_post_is_not_sent_twice(modem: Modem, stale: _StaleServer,
                                  profile: TlsProfile) -> None:
    """A POST is not idempotent: when its kept-alive connection closes without an answer it
    raises EmptyReplyError (exit code 52) and is not repeated; the next request succeeds."""
    assert modem.request("GET", stale.url("/a"), profile=profile).read() == b"fresh"
    with pytest.raises(EmptyReplyError) as caught:
        modem.request("POST", stale.url("/order"), profile=profile, body=b"one")
    assert caught.value.exit_code == 52
    assert [line for _, line in stale.requests] == [b"GET /a HTTP/1.1", b"POST /order HTTP/1.1"]
    assert modem.request("GET", stale.url("/c"), profile=profile).read() == b"fresh"


def test_a_streamed_body_is_not_sent_twice(modem: Modem, stale: _StaleServer,
                                           profile: TlsProfile) -> None:
    """A PUT is idempotent, but a body from an iterator has been consumed by the first try:
    it raises EmptyReplyError rather than send a body it no longer has."""
    assert modem.request("GET", stale.url("/a"), profile=profile).read() == b"fresh"
    with pytest.raises(EmptyReplyError):
        modem.request("PUT", stale.url("/thing"), profile=profile, body=iter([b"ab", b"cd"]),
                      content_length=4)
    assert [line for _, line in stale.requests] == [b"GET /a HTTP/1.1", b"PUT /thing HTTP/1.1"]
