"""End to end: celltls.Modem with the xbee3 driver, through the virtual XBee 3 Cellular
(``VirtualModemServer("xbee3")`` on a TCP port), to a real local HTTPS server, in API mode (the
default: extended socket frames, xbee3.md S8) and in transparent mode (``IP``/``DL``/``DE``,
xbee3.md S9)."""

from __future__ import annotations

import hashlib

import pytest

from celltls import Certificate, Modem, TlsProfile
from celltls.errors import CertificateVerifyError, HostnameCheckUnsupportedError, ProfileError
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer
from tests.xbee3.conftest import GUARD

MODES = [pytest.param(False, id="api"), pytest.param(True, id="transparent")]


def _modem(sim: VirtualModemServer, transparent: bool) -> Modem:
    return Modem(sim.url, dialect="xbee3", guard_time=GUARD, transparent=transparent)


def _profile(pki: PKI) -> TlsProfile:
    # the module cannot check host names (xbee3.md S10): turned off by name
    return TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)


@pytest.mark.parametrize("transparent", MODES)
def test_get_and_post(xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer,
                      xbee_pki: PKI, transparent: bool) -> None:
    with _modem(xbee_sim, transparent) as modem:
        modem.attach(apn="internet")
        profile = _profile(xbee_pki)
        got = modem.request("GET", xbee_https.url("/bytes/5000?seed=3"), profile=profile)
        assert got.status == 200
        assert got.read() == deterministic_bytes(5000, 3)
        body = deterministic_bytes(4000, 9) + b"+++" + bytes(range(256))
        posted = modem.request("POST", xbee_https.url("/echo"), profile=profile, body=body)
        assert posted.status == 200
        assert posted.headers.get("x-received-length") == str(len(body))
        assert posted.read() == body


@pytest.mark.parametrize("transparent", MODES)
def test_wrong_ca_is_a_certificate_error(xbee_sim: VirtualModemServer,
                                         xbee_https: LocalHTTPSServer,
                                         transparent: bool) -> None:
    other = make_pki(key_type="rsa")  # a self-signed root that did not issue the server's
    with _modem(xbee_sim, transparent) as modem, pytest.raises(CertificateVerifyError) as err:
        modem.request("GET", xbee_https.url("/"), profile=_profile(other), timeout=30)
    assert err.value.exit_code == 60


@pytest.mark.parametrize("transparent", MODES)
def test_one_mebibyte_byte_exact(xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer,
                                 xbee_pki: PKI, transparent: bool) -> None:
    size = 1024 * 1024
    with _modem(xbee_sim, transparent) as modem:
        response = modem.request("GET", xbee_https.url(f"/bytes/{size}?seed=16"),
                                 profile=_profile(xbee_pki))
        digest = hashlib.sha256()
        total = 0
        for chunk in response.iter_bytes():
            digest.update(chunk)
            total += len(chunk)
    assert total == size
    assert digest.digest() == hashlib.sha256(deterministic_bytes(size, 16)).digest()


def test_two_sockets_at_once_in_api_mode(xbee_sim: VirtualModemServer,
                                         xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    request = b"GET /bytes/%d?seed=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with _modem(xbee_sim, False) as modem:
        profile = _profile(xbee_pki)
        first = modem.tls_connect("127.0.0.1", xbee_https.port, profile)
        second = modem.tls_connect("127.0.0.1", xbee_https.port, profile)
        first.sendall(request % (30000, 1))
        second.sendall(request % (20000, 2))
        answers = []
        for sock in (second, first):
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
            answers.append(data)
            sock.close()
    assert answers[0].endswith(deterministic_bytes(20000, 2))
    assert answers[1].endswith(deterministic_bytes(30000, 1))


def test_hostname_check_is_refused_before_anything_is_sent(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    """The module's TLS asked for by name with the host-name check on (the default, tls='auto',
    runs TLS on the host instead: test_xbee3_driver.py)."""
    with _modem(xbee_sim, False) as modem:
        assert modem.capabilities.hostname_check is False
        with pytest.raises(HostnameCheckUnsupportedError):
            modem.request("GET", xbee_https.url("/"), tls="module",
                          profile=TlsProfile(ca=Certificate.from_pem(xbee_pki.ca_pem)))


def test_intermediate_as_ca_is_refused(xbee_sim: VirtualModemServer,
                                      xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    """Near the seed's mistake (seed 003: not the root in $0): the XBee trusts one self-signed
    root per file (xbee3.md S10, S13 item 3), so the driver refuses an intermediate CA before
    uploading anything."""
    child = xbee_pki.ca.create_child_ca()
    profile = TlsProfile(ca=Certificate.from_pem(child.cert_pem.bytes()), check_hostname=False)
    with _modem(xbee_sim, False) as modem, pytest.raises(ProfileError, match="self-signed root"):
        modem.tls_connect("127.0.0.1", xbee_https.port, profile)


def test_transparent_connection_from_api_mode_and_back(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    """``tls_connect(transparent=True)`` on a driver resting in API mode: AP 0 for the
    connection, AP 1 again once it is closed (xbee3.md S3 AP, S9)."""
    with _modem(xbee_sim, False) as modem:
        sock = modem.tls_connect("127.0.0.1", xbee_https.port, _profile(xbee_pki),
                                 transparent=True)
        sock.sendall(b"GET /bytes/2000?seed=8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        sock.close()
        assert data.startswith(b"HTTP/1.1 200") and data.endswith(deterministic_bytes(2000, 8))
        again = modem.request("GET", xbee_https.url("/bytes/100?seed=1"),
                              profile=_profile(xbee_pki))
        assert again.read() == deterministic_bytes(100, 1)
        assert modem.driver.mode == "api"  # type: ignore[attr-defined]
