"""TLS on the host over the module's plain TCP socket (issue 19), through both virtual modems.

The virtual modems open real TCP connections (AT+QIOPEN on Quectel GSM, +KTCPCFG mode 0 on
Sierra HL78xx) to real TLS 1.3-only servers started here; the handshake, verification and
records run in the library (celltls.hosttls).
"""

from __future__ import annotations

import io
import ssl
from collections.abc import Iterator

import pytest

from celltls import Certificate, Modem, TlsProfile
from celltls.errors import HostnameMismatchError, ProfileError, TLSNegotiationError
from celltls.hosttls import HostTLSSocket
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer
from celltls.trace import TranscriptWriter

DIALECTS = ["quectel-gsm", "sierra"]


@pytest.fixture(scope="module")
def ec_pki() -> PKI:
    """An ECDSA PKI: no Quectel GSM suite can use it (RSA key exchange only, SSL-AN Table 2)."""
    return make_pki(key_type="ecdsa")


@pytest.fixture(scope="module")
def tls13(ec_pki: PKI) -> Iterator[LocalHTTPSServer]:
    """A TLS 1.3-only HTTPS server on 127.0.0.1 (certificate for 127.0.0.1 and localhost)."""
    with LocalHTTPSServer(cert_chain_pem=ec_pki.server_chain_pem, key_pem=ec_pki.server_key_pem,
                          minimum_version=ssl.TLSVersion.TLSv1_3) as server:
        yield server


@pytest.fixture(scope="module")
def other_name(ec_pki: PKI) -> Iterator[LocalHTTPSServer]:
    """TLS 1.3 only, with a certificate from the same CA for another host name."""
    leaf = ec_pki.ca.issue_cert("other.example")
    with LocalHTTPSServer(
        cert_chain_pem=b"".join(b.bytes() for b in leaf.cert_chain_pems),
        key_pem=leaf.private_key_pem.bytes(), minimum_version=ssl.TLSVersion.TLSv1_3,
    ) as server:
        yield server


@pytest.fixture(params=DIALECTS)
def traced(request: pytest.FixtureRequest) -> Iterator[tuple[Modem, io.StringIO]]:
    dialect = request.param
    text = io.StringIO()
    writer = TranscriptWriter(text, header={"dialect": dialect})
    with VirtualModemServer(dialect, guard_time=0.2) as sim, \
            Modem(sim.url, dialect, trace=writer, guard_time=0.2) as modem:
        modem.attach(apn="internet")
        yield modem, text


def _strict(pki: PKI) -> TlsProfile:
    """Chain, dates and host name verified: the default profile."""
    return TlsProfile(ca=Certificate.from_pem(pki.ca_pem))


def test_host_tls_downloads_1_mib_byte_exact_from_tls13_server(
    traced: tuple[Modem, io.StringIO], tls13: LocalHTTPSServer, ec_pki: PKI
) -> None:
    modem, transcript = traced
    size = 1 << 20
    response = modem.request("GET", tls13.url(f"/bytes/{size}?seed=19"),
                             profile=_strict(ec_pki), tls="host", timeout=30)
    assert response.status == 200
    body = b"".join(response.iter_bytes())
    assert body == deterministic_bytes(size, 19)
    assert "# tls: host (127.0.0.1" in transcript.getvalue()
    # the module carried the bytes in the clear: its own TLS was never set up
    assert "QSSLOPEN" not in transcript.getvalue()
    assert "+KTCPCFG=1,3" not in transcript.getvalue()


def test_host_tls_socket_negotiates_tls13_with_alpn(
    traced: tuple[Modem, io.StringIO], tls13: LocalHTTPSServer, ec_pki: PKI
) -> None:
    modem, _ = traced
    with modem.tls_connect("127.0.0.1", tls13.port, _strict(ec_pki), tls="host") as sock:
        assert isinstance(sock, HostTLSSocket)
        assert sock.version == "TLSv1.3"
        assert sock.alpn in (None, "http/1.1")
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                     b"Connection: close\r\n\r\nhello")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.") and answer.endswith(b"\r\n\r\nhello")


def test_host_tls_refuses_a_certificate_for_another_name(
    traced: tuple[Modem, io.StringIO], other_name: LocalHTTPSServer, ec_pki: PKI,
    tls13: LocalHTTPSServer,
) -> None:
    modem, _ = traced
    with pytest.raises(HostnameMismatchError) as info:
        modem.request("GET", other_name.url("/bytes/10"), profile=_strict(ec_pki), tls="host",
                      timeout=30)
    assert info.value.exit_code == 60
    assert "127.0.0.1" in str(info.value)
    # the plain socket was closed and the next request on the same module works
    response = modem.request("GET", tls13.url("/bytes/100"), profile=_strict(ec_pki),
                             tls="host", timeout=30)
    assert response.read() == deterministic_bytes(100)


def test_auto_picks_host_tls_for_a_tls13_only_server(
    traced: tuple[Modem, io.StringIO], tls13: LocalHTTPSServer, ec_pki: PKI
) -> None:
    modem, transcript = traced
    # chain and dates only, so that the host-name check alone does not decide it
    profile = TlsProfile(ca=Certificate.from_pem(ec_pki.ca_pem), check_hostname=False)
    assert modem.choose_tls("127.0.0.1", tls13.port, profile) == "host"
    response = modem.request("GET", tls13.url("/bytes/2000"), profile=profile, timeout=30)
    assert response.read() == deterministic_bytes(2000)
    lines = [line for line in transcript.getvalue().splitlines() if line.startswith("# tls:")]
    assert lines and "refuses the module's TLS" in lines[-1]


def test_auto_keeps_module_tls_when_the_module_can_serve(pki: PKI,
                                                          https: LocalHTTPSServer) -> None:
    """A TLS 1.2 RSA server, chain and dates checked: the module's own TLS is used."""
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)
    with VirtualModemServer("quectel-gsm", guard_time=0.2) as sim, \
            Modem(sim.url, "quectel-gsm", guard_time=0.2) as modem:
        modem.attach(apn="internet")
        assert modem.choose_tls("127.0.0.1", https.port, profile) == "module"
        assert modem.request("GET", https.url("/bytes/50"), profile=profile).read() == (
            deterministic_bytes(50))
        assert modem.choose_tls("127.0.0.1", https.port, _strict(pki)) == "host"
        assert modem.choose_tls("127.0.0.1", https.port, profile, "module") == "module"


def test_host_tls_refused_for_a_dialect_without_plain_tcp() -> None:
    """Sequans: the driver has no plain TCP sockets yet (the XBee3 has them in API mode only)."""
    with VirtualModemServer("sequans") as sim, Modem(sim.url, "sequans") as modem:
        assert not modem.driver.plain_tcp
        with pytest.raises(ProfileError, match="plain TCP"):
            modem.tls_connect("127.0.0.1", 443, None, tls="host")


def test_module_tls_refused_up_front_for_a_tls13_only_server(
    traced: tuple[Modem, io.StringIO], tls13: LocalHTTPSServer, ec_pki: PKI
) -> None:
    """tls='module' against a server the module cannot talk to fails at once with the
    host-side probe's explanation; nothing of the module's TLS is sent (issue 19)."""
    modem, transcript = traced
    profile = TlsProfile(ca=Certificate.from_pem(ec_pki.ca_pem), check_hostname=False)
    with pytest.raises(TLSNegotiationError, match="cannot negotiate") as info:
        modem.request("GET", tls13.url("/bytes/10"), profile=profile, tls="module")
    assert "TLSv1.3" in str(info.value) and "tls='host'" in str(info.value)
    sent = transcript.getvalue()
    assert not any(c in sent for c in ("+QSSLOPEN", "+QSSLCFG", "+KTCPCFG=1,3", "+KSSLCRYPTO"))
