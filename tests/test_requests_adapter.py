"""requests through a cellular module: a ``requests.Session`` with :class:`ModemAdapter`
mounted, against HTTPS servers on 127.0.0.1, through the virtual Quectel GSM and Sierra modems,
with server verification on (chain and dates; these modules cannot check host names)."""

from __future__ import annotations

import gzip
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from celltls import Modem
from celltls.errors import CertificateVerifyError, PartialBodyError
from celltls.requests_adapter import ModemAdapter, session
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
            Modem(sim.url, request.param, guard_time=0.2) as m:
        m.attach(apn="internet")
        yield m


@pytest.fixture
def ca(tmp_path: Path, pki: PKI) -> Path:
    path = tmp_path / "ca.pem"
    path.write_bytes(pki.ca_pem)
    return path


@pytest.fixture
def s(modem: Modem, ca: Path) -> Iterator[requests.Session]:
    with session(modem, ca=ca, check_hostname=False) as sess:
        yield sess


def test_get_json_headers_and_elapsed(s: requests.Session, web: LocalHTTPSServer) -> None:
    response = s.get(web.url("/headers"), headers={"X-Test": "yes"})
    assert response.status_code == 200 and response.ok
    assert response.headers["content-type"] == response.headers["Content-Type"]
    assert response.json()["X-Test"] == "yes"
    assert response.elapsed.total_seconds() >= 0


def test_post_and_streamed_download(s: requests.Session, web: LocalHTTPSServer) -> None:
    assert s.post(web.url("/echo"), data=b"abc").content == b"abc"
    data = deterministic_bytes(20000, seed=5)
    chunks = (data[i:i + 5000] for i in range(0, len(data), 5000))
    assert s.put(web.url("/echo"), data=chunks).content == data  # sent chunked
    response = s.get(web.url("/chunked/40000"), stream=True)
    assert b"".join(response.iter_content(4096)) == deterministic_bytes(40000)


def test_raise_for_status_and_status_codes(s: requests.Session, web: LocalHTTPSServer) -> None:
    response = s.get(web.url("/status/404"))
    assert response.status_code == 404
    with pytest.raises(requests.HTTPError):
        response.raise_for_status()


def test_http_is_refused(s: requests.Session) -> None:
    with pytest.raises(requests.exceptions.InvalidSchema):
        s.get("http://127.0.0.1:9/")


def test_verification_errors_are_ssl_errors(modem: Modem, web: LocalHTTPSServer,
                                           tmp_path: Path) -> None:
    other = tmp_path / "other.pem"
    other.write_bytes(make_pki().ca_pem)
    with session(modem, ca=other, check_hostname=False) as sess, \
            pytest.raises(requests.exceptions.SSLError) as info:
        sess.get(web.url("/bytes/5"))
    assert isinstance(info.value.__cause__, CertificateVerifyError)


def test_requests_verify_argument(modem: Modem, web: LocalHTTPSServer, ca: Path,
                                  tmp_path: Path) -> None:
    """requests's ``verify``: a file names the CA (when the adapter was given none); False
    turns verification off."""
    with session(modem, check_hostname=False) as sess:
        assert sess.get(web.url("/bytes/3"), verify=str(ca)).content == deterministic_bytes(3)
    other = tmp_path / "other.pem"
    other.write_bytes(make_pki().ca_pem)
    with session(modem, ca=other, check_hostname=False) as sess:
        assert sess.get(web.url("/bytes/4"), verify=False).content == deterministic_bytes(4)


def test_short_body_is_a_chunked_encoding_error(modem: Modem, pki: PKI, ca: Path) -> None:
    with ScriptedServer(pki, short_body) as server, \
            session(modem, ca=ca, check_hostname=False) as sess:
        response = sess.get(server.url("/f"), stream=True)
        with pytest.raises(requests.exceptions.ChunkedEncodingError) as info:
            response.content  # noqa: B018
    assert isinstance(info.value.__cause__, PartialBodyError)


def test_gzip_body_is_decoded(modem: Modem, pki: PKI, ca: Path) -> None:
    packed = gzip.compress(b"hello " * 1000)

    def gzipped(sock: socket.socket) -> None:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: "
                     + str(len(packed)).encode() + b"\r\nConnection: close\r\n\r\n" + packed)

    with ScriptedServer(pki, gzipped) as server, \
            session(modem, ca=ca, check_hostname=False) as sess:
        assert sess.get(server.url("/z")).content == b"hello " * 1000


def test_adapter_mounted_by_hand(modem: Modem, web: LocalHTTPSServer, ca: Path) -> None:
    with requests.Session() as sess:
        sess.mount("https://", ModemAdapter(modem, ca=ca, check_hostname=False))
        assert sess.get(web.url("/bytes/64")).content == deterministic_bytes(64)
