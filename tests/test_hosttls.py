"""celltls.hosttls: TLS in Python over any byte stream (MemoryBIO), errors mapped to celltls's.

The stream here is a plain TCP socket of the host wrapped in the SecureSocket contract, so the
TLS layer is tested on its own against real stdlib TLS servers on 127.0.0.1; the same layer over
the modules' plain sockets is tested end to end in tests/e2e/test_host_tls.py.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import trustme

from celltls import Certificate, TlsProfile
from celltls.dialects.base import RecvClock, SecureSocket
from celltls.errors import (
    ATTimeoutError,
    CertificateExpiredError,
    CertificateVerifyError,
    HostnameMismatchError,
    ProfileError,
    SocketError,
    TLSError,
    TLSNegotiationError,
)
from celltls.hosttls import HostTLSSocket, host_context, wrap
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.tls import PrivateKey, TlsVersion, Verify


class PlainStream(SecureSocket):
    """A host TCP socket with the secure-socket contract (what a module's plain socket is)."""

    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port, max_send=1460)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sent = 0

    def _fill(self, clock: RecvClock) -> bool:
        self.sock.settimeout(max(0.05, clock.deadline - time.monotonic()))
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            raise ATTimeoutError("plain recv", self.timeout) from None
        except OSError as exc:  # a reset, as a driver reports it
            raise SocketError(f"plain recv: {exc}") from exc
        if not data:
            return False
        self._deliver(data)
        return True

    def _send_piece(self, piece: bytes) -> None:
        assert len(piece) <= self.max_send
        self.sent += len(piece)
        try:
            self.sock.sendall(piece)
        except OSError as exc:  # a reset, as a driver reports it
            raise SocketError(f"plain send: {exc}") from exc

    def _close_in_module(self) -> None:
        self.sock.close()


def _server(pki: PKI, **kw: object) -> LocalHTTPSServer:
    return LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem,
                            **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki(key_type="ecdsa")


@pytest.fixture(scope="module")
def tls13(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with _server(pki, minimum_version=ssl.TLSVersion.TLSv1_3) as server:
        yield server


def _get(sock: SecureSocket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_tls13_with_verification_and_exact_bytes(pki: PKI, tls13: LocalHTTPSServer) -> None:
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
    stream = PlainStream(tls13.port)
    with wrap(stream, "127.0.0.1", tls13.port, profile) as sock:
        assert sock.version == "TLSv1.3"
        assert sock.cipher and sock.cipher.startswith("TLS_")
        body = _get(sock, "/bytes/100000?seed=3")
    assert body.endswith(b"\r\n\r\n" + deterministic_bytes(100000, 3))
    assert stream.closed  # closing the TLS connection closes the plain socket


def test_tls12_server_and_profile_limits(pki: PKI) -> None:
    with _server(pki, maximum_version=ssl.TLSVersion.TLSv1_2) as server:
        profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
        with wrap(PlainStream(server.port), "localhost", server.port, profile) as sock:
            assert sock.version == "TLSv1.2"
        only13 = TlsProfile(ca=Certificate.from_pem(pki.ca_pem), min_version=TlsVersion.TLS1_3)
        stream = PlainStream(server.port)
        with pytest.raises(TLSNegotiationError) as info:
            wrap(stream, "localhost", server.port, only13)
        assert info.value.exit_code == 35
        assert stream.closed


def test_wrong_host_name_is_refused(pki: PKI, tls13: LocalHTTPSServer) -> None:
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
    stream = PlainStream(tls13.port)
    sock = HostTLSSocket(stream, host_context(profile), "example.org", tls13.port)
    with pytest.raises(HostnameMismatchError) as info:
        sock.handshake(5)
    assert "example.org" in str(info.value) and info.value.exit_code == 60
    # by name, the same certificate passes
    unchecked = TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)
    with wrap(PlainStream(tls13.port), "example.org", tls13.port, unchecked) as ok:
        assert ok.version == "TLSv1.3"


def test_unknown_ca_and_certifi_default(pki: PKI, tls13: LocalHTTPSServer) -> None:
    other = TlsProfile(ca=Certificate.from_pem(make_pki(key_type="ecdsa").ca_pem))
    with pytest.raises(CertificateVerifyError) as info:
        wrap(PlainStream(tls13.port), "127.0.0.1", tls13.port, other)
    assert not isinstance(info.value, HostnameMismatchError)
    with pytest.raises(CertificateVerifyError):  # a test CA is in no public root store
        wrap(PlainStream(tls13.port), "127.0.0.1", tls13.port, None)
    with wrap(PlainStream(tls13.port), "127.0.0.1", tls13.port, TlsProfile.insecure()) as sock:
        assert sock.version == "TLSv1.3"


def test_expired_certificate() -> None:
    ca = trustme.CA()
    past = datetime.now(UTC) - timedelta(days=30)
    leaf = ca.issue_cert("127.0.0.1", not_before=past - timedelta(days=30), not_after=past)
    chain = b"".join(b.bytes() for b in leaf.cert_chain_pems)
    with LocalHTTPSServer(cert_chain_pem=chain, key_pem=leaf.private_key_pem.bytes()) as server:
        profile = TlsProfile(ca=Certificate.from_pem(ca.cert_pem.bytes()))
        with pytest.raises(CertificateExpiredError):
            wrap(PlainStream(server.port), "127.0.0.1", server.port, profile)


def test_client_certificate(pki: PKI) -> None:
    client = pki.client("device-1")
    with _server(pki, minimum_version=ssl.TLSVersion.TLSv1_3,
                 client_ca_pem=pki.ca_pem) as server:
        mutual = TlsProfile(verify=Verify.MUTUAL, ca=Certificate.from_pem(pki.ca_pem),
                            client_cert=Certificate.from_pem(client.cert_pem),
                            client_key=PrivateKey.from_pem(client.key_pem))
        with wrap(PlainStream(server.port), "127.0.0.1", server.port, mutual) as sock:
            assert _get(sock, "/bytes/10").endswith(deterministic_bytes(10))
        # without a client certificate the server's alert comes after the TLS 1.3 handshake
        # (or, when the server closes first, a reset: the socket's error)
        plain = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
        sock = wrap(PlainStream(server.port), "127.0.0.1", server.port, plain)
        with pytest.raises((TLSError, SocketError)):
            _get(sock, "/bytes/10")
        sock.close()


def test_profiles_host_tls_cannot_use() -> None:
    ca = Certificate.from_pem(make_pki().ca_pem)
    with pytest.raises(ProfileError, match=r"TLS 1\.2 and 1\.3"):
        host_context(TlsProfile(ca=ca, min_version=TlsVersion.TLS1_0,
                                max_version=TlsVersion.TLS1_1))
    ctx = host_context(TlsProfile(ca=ca, min_version=TlsVersion.TLS1_0))
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.maximum_version == ssl.TLSVersion.TLSv1_3
    default = host_context(None)
    assert default.check_hostname and default.verify_mode == ssl.CERT_REQUIRED
    assert default.cert_store_stats()["x509_ca"] > 50  # certifi's roots


def test_records_are_cut_for_the_stream(pki: PKI) -> None:
    """A large send leaves as TLS records no larger than the plain socket's max_send pieces
    (the stream's sendall cuts them), and the server gets every byte."""
    with _server(pki, minimum_version=ssl.TLSVersion.TLSv1_3) as server:
        profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
        stream = PlainStream(server.port)
        with wrap(stream, "127.0.0.1", server.port, profile) as sock:
            body = deterministic_bytes(50000, 7)
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n"
                         b"Connection: close\r\n\r\n" + body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.endswith(b"\r\n\r\n" + body)
        assert stream.sent > 50000
