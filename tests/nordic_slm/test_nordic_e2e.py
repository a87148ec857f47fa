"""End to end: celltls.Modem -> `VirtualModemServer("nordic-slm")` (real TCP/TLS) -> a local
HTTPS server (issue 14, "Tests that must exist and pass").

GET and POST through ``#XHTTPC*`` (native) and through ``#XSSOCKET`` + h11; the right CA
succeeds, a wrong CA is a certificate error, a wrong host name is refused naming the host,
mutual TLS, a 1 MiB body byte-exact, and a run killed mid-transfer leaves nothing that stops the
next Modem.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from celltls import Certificate, Modem, PrivateKey, TlsProfile
from celltls.errors import CertificateVerifyError, HostnameMismatchError
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer
from celltls.tls import Verify

VIAS = ("socket", "native")


@pytest.fixture
def modem(sim: VirtualModemServer) -> Iterator[Modem]:
    with Modem(sim.url, dialect="nordic-slm") as m:
        m.attach(apn="internet")
        yield m


def _profile(pki: PKI) -> TlsProfile:
    return TlsProfile(ca=Certificate.from_pem(pki.ca_pem))


@pytest.mark.parametrize("via", VIAS)
def test_get_and_post(modem: Modem, https: LocalHTTPSServer, pki: PKI, via: str) -> None:
    expected = deterministic_bytes(5000, 3)
    response = modem.request("GET", https.url("/bytes/5000?seed=3"), profile=_profile(pki),
                             via=via)  # type: ignore[arg-type]
    assert response.status == 200 and response.read() == expected
    chunked = modem.request("GET", https.url("/chunked/5000?seed=3"), profile=_profile(pki),
                            via=via)  # type: ignore[arg-type]
    assert chunked.read() == expected
    head = modem.request("HEAD", https.url("/bytes/5000"), profile=_profile(pki),
                         via=via)  # type: ignore[arg-type]
    assert (head.status, head.headers["content-length"], head.read()) == (200, "5000", b"")
    body = b"a,b \"quoted\" +++ and\r\nlines" if via == "socket" else b"a,b \"q\" plain"
    posted = modem.request("POST", https.url("/echo"), profile=_profile(pki), body=body,
                           headers={"Content-Type": "text/plain"},
                           via=via)  # type: ignore[arg-type]
    assert posted.status == 200 and posted.read() == body
    assert posted.headers["x-received-length"] == str(len(body))


@pytest.mark.parametrize("via", VIAS)
def test_wrong_ca_is_a_certificate_error(modem: Modem, https: LocalHTTPSServer,
                                         via: str) -> None:
    other = make_pki()
    with pytest.raises(CertificateVerifyError):
        modem.request("GET", https.url("/bytes/10"), profile=_profile(other),
                      via=via)  # type: ignore[arg-type]


@pytest.mark.parametrize("via", VIAS)
def test_wrong_host_name_refused_naming_the_host(modem: Modem, via: str) -> None:
    elsewhere = make_pki(hostnames=("other.test",))
    with (
        LocalHTTPSServer(cert_chain_pem=elsewhere.server_chain_pem,
                         key_pem=elsewhere.server_key_pem) as server,
        pytest.raises(HostnameMismatchError) as caught,
    ):
        modem.request("GET", server.url("/bytes/10"), profile=_profile(elsewhere),
                      via=via)  # type: ignore[arg-type]
    assert "127.0.0.1" in str(caught.value) and "other.test" in caught.value.names
    assert caught.value.exit_code == 60


def test_mutual_tls(modem: Modem, pki: PKI) -> None:
    client = pki.client("nrf-device")
    profile = TlsProfile(verify=Verify.MUTUAL, ca=Certificate.from_pem(pki.ca_pem),
                         client_cert=Certificate.from_pem(client.cert_pem),
                         client_key=PrivateKey.from_pem(client.key_pem))
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem,
                          client_ca_pem=pki.ca_pem) as server:
        for via in VIAS:
            response = modem.request("GET", server.url("/client-cert"), profile=profile,
                                     via=via)  # type: ignore[arg-type]
            assert (response.status, response.read()) == (200, b"nrf-device")


@pytest.mark.parametrize("via", VIAS)
def test_one_mebibyte_byte_exact(modem: Modem, https: LocalHTTPSServer, pki: PKI,
                                 via: str) -> None:
    size = 1 << 20
    response = modem.request("GET", https.url(f"/bytes/{size}?seed=7"), profile=_profile(pki),
                             via=via)  # type: ignore[arg-type]
    digest, received = hashlib.sha256(), 0
    for chunk in response.iter_bytes():
        digest.update(chunk)
        received += len(chunk)
    assert received == size
    assert digest.digest() == hashlib.sha256(deterministic_bytes(size, 7)).digest()


@pytest.mark.parametrize("via", VIAS)
def test_killed_mid_transfer_then_a_new_modem_succeeds(sim: VirtualModemServer,
                                                       https: LocalHTTPSServer, pki: PKI,
                                                       via: str) -> None:
    first = Modem(sim.url, dialect="nordic-slm")
    first.attach(apn="internet")
    response = first.request("GET", https.url("/bytes/200000"), profile=_profile(pki),
                             via=via)  # type: ignore[arg-type]
    next(response.iter_bytes())
    first.channel.close()  # the host process dies: nothing is closed in the module
    with Modem(sim.url, dialect="nordic-slm") as second:
        second.attach(apn="internet")
        again = second.request("GET", https.url("/bytes/3000?seed=1"), profile=_profile(pki),
                               via=via)  # type: ignore[arg-type]
        assert again.read() == deterministic_bytes(3000, 1)


def test_native_headers_arrive_and_injection_is_refused(modem: Modem, https: LocalHTTPSServer,
                                                        pki: PKI) -> None:
    """NRF-REF 8.1: <headers> carry each header ended by a literal \\r\\n, which SLM turns
    into CR LF; a value holding that text would add a header, so it is refused first."""
    import json

    from celltls.errors import UnsafeArgumentError

    response = modem.request("GET", https.url("/headers"), profile=_profile(pki),
                             headers={"X-Test": "a,b"}, via="native")
    assert json.loads(response.read())["X-Test"] == "a,b"
    with pytest.raises(UnsafeArgumentError):
        modem.request("GET", https.url("/headers"), profile=_profile(pki),
                      headers={"X-Test": "a\\r\\nX-Evil: 1"}, via="native")


@pytest.mark.parametrize("via", VIAS)
def test_insecure_and_unchecked_host_name_by_name(modem: Modem, via: str) -> None:
    """Verification off only when named (Verify.NONE: peer_verify 0); check_hostname=False
    keeps the chain check but not the name (no TLS_HOSTNAME / hostname_verify 0)."""
    elsewhere = make_pki(hostnames=("other.test",))
    with LocalHTTPSServer(cert_chain_pem=elsewhere.server_chain_pem,
                          key_pem=elsewhere.server_key_pem) as server:
        loose = TlsProfile(ca=Certificate.from_pem(elsewhere.ca_pem), check_hostname=False)
        for profile in (TlsProfile.insecure(), loose):
            response = modem.request("GET", server.url("/bytes/10"), profile=profile,
                                     via=via)  # type: ignore[arg-type]
            assert response.read() == deterministic_bytes(10)


def test_credential_lifecycle_on_the_virtual_modem(sim: VirtualModemServer, pki: PKI) -> None:
    """NRF-REF 5: write (offline, mode restored), skip when listed the same, read back as
    written (LF line ends), delete; a new Modem on the same module skips the upload too."""
    from celltls.dialects.nordic_slm.driver import NordicSlm

    ca = Certificate.from_pem(pki.ca_pem)
    with Modem(sim.url, dialect="nordic-slm") as first:
        first.attach(apn="internet")
        driver = first.driver
        assert isinstance(driver, NordicSlm)
        before = driver.functional_mode()
        stored = first.credentials.store_ca(ca, "77")
        assert stored.uploaded and stored.name == "77:0"
        assert not first.credentials.store_ca(ca, "77").uploaded
        assert driver.read_credential(77, 0) == (stored.checksum, ca.pem.rstrip(b"\n"))
        assert before == 1 and driver.functional_mode() == before  # restored after the write
    with Modem(sim.url, dialect="nordic-slm") as second:
        assert not second.credentials.store_ca(ca, "77").uploaded
        second.credentials.delete("77:0")
        driver = second.driver
        assert isinstance(driver, NordicSlm) and driver.listed(77) == []


def test_killed_inside_data_mode_then_a_new_modem_succeeds(sim: VirtualModemServer,
                                                           https: LocalHTTPSServer,
                                                           pki: PKI) -> None:
    """A run dies in the middle of a data-mode send (NRF-REF 7): the module still takes every
    byte as payload. The next Modem leaves data mode (``+++``), closes the socket left open,
    and its request succeeds."""
    first = Modem(sim.url, dialect="nordic-slm")
    first.attach(apn="internet")
    sock = first.tls_connect("127.0.0.1", https.port, _profile(pki))
    assert sock is not None
    first.driver.at("#XSEND")  # data mode: OK, then the module waits for the payload
    first.channel.write_raw(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
    first.channel.close()  # the host process dies here
    with Modem(sim.url, dialect="nordic-slm") as second:
        second.attach(apn="internet")
        response = second.request("GET", https.url("/bytes/2000?seed=2"), profile=_profile(pki))
        assert response.read() == deterministic_bytes(2000, 2)


def test_connect_without_network_is_named_at_once(sim: VirtualModemServer,
                                                  https: LocalHTTPSServer, pki: PKI) -> None:
    """NRF-REF 4: with the modem at +CFUN=0 nothing registers; the connect says so (a
    NetworkError naming the mode) instead of waiting out its timeout."""
    from celltls.dialects.nordic_slm.driver import NordicSlm
    from celltls.errors import NetworkError

    with Modem(sim.url, dialect="nordic-slm") as modem:
        driver = modem.driver
        assert isinstance(driver, NordicSlm)
        driver.set_functional_mode(0)
        with pytest.raises(NetworkError, match=r"\+CFUN: 0"):
            modem.request("GET", https.url("/bytes/10"), profile=_profile(pki), timeout=60)


def test_plain_tcp_socket_for_tls_on_the_host(modem: Modem) -> None:
    """NRF-REF 6.2 (L2 ran its own TLS over ``AT#XSOCKET``): a plain TCP socket carries the
    server's bytes unchanged both ways; a refused port is named."""
    import socket as pysocket
    import threading

    from celltls.dialects.nordic_slm.driver import NordicSlm
    from celltls.errors import ConnectionRefusedByServer

    server = pysocket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    payload = bytes(range(256)) * 40 + b"+++\r\nOK\r\n"

    def echo() -> None:
        conn, _ = server.accept()
        with conn:
            received = b""
            while len(received) < len(payload):
                received += conn.recv(65536)
            conn.sendall(received[::-1])

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    driver = modem.driver
    assert isinstance(driver, NordicSlm) and driver.plain_tcp
    with server, driver.tcp_connect("127.0.0.1", port, timeout=10) as sock:
        sock.sendall(payload)
        back = b""
        while len(back) < len(payload):
            back += sock.recv(65536)
    thread.join(5)
    assert back == payload[::-1]
    with pytest.raises(ConnectionRefusedByServer):
        driver.tcp_connect("127.0.0.1", port, timeout=10)


def test_tls_on_the_host_over_a_module_tcp_socket(modem: Modem, https: LocalHTTPSServer,
                                                  pki: PKI) -> None:
    """Issue 19's host TLS through SLM's plain TCP socket: the module carries ciphertext."""
    import inspect

    if "tls" not in inspect.signature(Modem.request).parameters:
        pytest.skip("Modem.request has no tls= (issue 19 not in this tree)")
    response = modem.request("GET", https.url("/bytes/20000?seed=4"), profile=_profile(pki),
                             tls="host")
    assert response.read() == deterministic_bytes(20000, 4)


def test_two_sockets_at_once(modem: Modem, https: LocalHTTPSServer, pki: PKI) -> None:
    """NRF-REF 6.2: up to 8 sockets from v2.0, each command acting on the one chosen with
    AT#XSOCKETSELECT: two interleaved exchanges each get their own bytes."""
    first = modem.tls_connect("127.0.0.1", https.port, _profile(pki))
    second = modem.tls_connect("127.0.0.1", https.port, _profile(pki))
    try:
        for sock, size in ((first, 1500), (second, 2500)):
            sock.sendall(f"GET /bytes/{size}?seed={size} HTTP/1.1\r\nHost: x\r\n"
                         "Connection: close\r\n\r\n".encode())
        answers = {}
        for sock, size in ((second, 2500), (first, 1500)):
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            answers[size] = data
    finally:
        first.close()
        second.close()
    for size, data in answers.items():
        assert data.endswith(deterministic_bytes(size, size))
        assert f"Content-Length: {size}".encode() in data
