"""httpx through a cellular module: ``httpx.Client(transport=ModemTransport(modem))`` against
HTTPS servers on 127.0.0.1, through the virtual Quectel GSM and Sierra modems, with server
verification on (chain and dates; these modules cannot check host names, said by name)."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from celltls import Certificate, Modem, TlsProfile
from celltls.errors import CertificateVerifyError, HostnameCheckUnsupportedError, PartialBodyError
from celltls.httpx_transport import ModemTransport
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer
from tests.cli.test_cli import ScriptedServer, short_body


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki(key_type="rsa")


@pytest.fixture(scope="module")
def web(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as srv:
        yield srv


@pytest.fixture(params=["quectel-gsm", "sierra"])
def modem(request: pytest.FixtureRequest) -> Iterator[Modem]:
    options = {"model": "hl7800"} if request.param == "sierra" else {}
    with VirtualModemServer(request.param, guard_time=0.2, **options) as sim, \
            Modem(sim.url, guard_time=0.2) as m:
        assert m.dialect == request.param  # identified, not named
        m.attach(apn="internet")
        yield m


@pytest.fixture
def client(modem: Modem, pki: PKI) -> Iterator[httpx.Client]:
    transport = ModemTransport(modem, ca=pki.ca_pem, check_hostname=False)
    with httpx.Client(transport=transport) as c:
        yield c


def test_get_json_and_headers(client: httpx.Client, web: LocalHTTPSServer) -> None:
    response = client.get(web.url("/headers"), headers={"X-Test": "yes"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["X-Test"] == "yes"
    assert response.http_version == "HTTP/1.1" and response.reason_phrase == "OK"


def test_post_streams_both_ways(client: httpx.Client, web: LocalHTTPSServer) -> None:
    data = deterministic_bytes(20000, seed=3)
    pieces = (data[i:i + 4096] for i in range(0, len(data), 4096))
    with client.stream("POST", web.url("/echo"), content=pieces) as response:
        received = b"".join(response.iter_bytes())
    assert response.status_code == 200 and received == data
    response = client.put(web.url("/echo"), content=b"put")
    assert response.content == b"put"


def test_streamed_download_is_exact(client: httpx.Client, web: LocalHTTPSServer) -> None:
    with client.stream("GET", web.url("/chunked/50000")) as response:
        chunks = list(response.iter_raw())
    assert b"".join(chunks) == deterministic_bytes(50000)


def test_a_response_closed_early_leaves_the_client_usable(client: httpx.Client,
                                                         web: LocalHTTPSServer) -> None:
    with client.stream("GET", web.url("/bytes/60000")) as response:
        next(response.iter_raw())
    assert client.get(web.url("/bytes/10")).content == deterministic_bytes(10)


def test_http_is_refused(client: httpx.Client) -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        client.get("http://127.0.0.1:9/")


def test_errors_are_httpx_errors(modem: Modem, web: LocalHTTPSServer, pki: PKI) -> None:
    wrong = ModemTransport(modem, ca=make_pki().ca_pem, check_hostname=False)
    with httpx.Client(transport=wrong) as c, pytest.raises(httpx.ConnectError) as info:
        c.get(web.url("/bytes/5"))
    assert isinstance(info.value.__cause__, CertificateVerifyError)
    strict = ModemTransport(modem, ca=pki.ca_pem, tls="module")  # the module cannot check
    # the host name that is asked for (with tls="auto" TLS would run on the host instead)
    with httpx.Client(transport=strict) as c, pytest.raises(httpx.ConnectError) as info:
        c.get(web.url("/bytes/5"))
    assert isinstance(info.value.__cause__, HostnameCheckUnsupportedError)


def test_short_body_is_a_remote_protocol_error(modem: Modem, pki: PKI) -> None:
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)
    with ScriptedServer(pki, short_body) as server, \
            httpx.Client(transport=ModemTransport(modem, profile)) as c, \
            pytest.raises(httpx.RemoteProtocolError) as info:
        c.get(server.url("/f"))
    assert isinstance(info.value.__cause__, PartialBodyError)


def test_connect_timeout_is_passed_and_mapped(modem: Modem, pki: PKI) -> None:
    """A server that accepts TCP and never answers the handshake: the connect timeout given
    to httpx reaches the module (clamped into its range) and comes back as ConnectTimeout or,
    when the module gives up first, ConnectError."""
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        transport = ModemTransport(modem, ca=pki.ca_pem, check_hostname=False)
        with httpx.Client(transport=transport, timeout=httpx.Timeout(5, connect=1)) as c, \
                pytest.raises((httpx.ConnectTimeout, httpx.ConnectError)):
            c.get(f"https://127.0.0.1:{port}/")


def test_bundle_with_other_roots(modem: Modem, web: LocalHTTPSServer, pki: PKI,
                                 tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(make_pki().ca_pem + pki.ca_pem)
    with httpx.Client(transport=ModemTransport(modem, ca=bundle, check_hostname=False)) as c:
        assert c.get(web.url("/bytes/100")).content == deterministic_bytes(100)


def test_file_upload(client: httpx.Client, web: LocalHTTPSServer) -> None:
    data = deterministic_bytes(5000, seed=9)
    response = client.post(web.url("/echo"), content=io.BytesIO(data).read())
    assert response.content == data
    assert response.headers["x-received-length"] == "5000"
