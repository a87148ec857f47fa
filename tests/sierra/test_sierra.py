"""Sierra AirPrime dialect: catalog, virtual modem shapes (SEED-000), end to end, CLI."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from celltls import Certificate, CertificateVerifyError, Modem, ProfileError, TlsProfile
from celltls.dialects.sierra import catalog as cat
from celltls.dialects.sierra.urcs import describe_kcnx_ind
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sierra"


@pytest.fixture(scope="module")
def profile(pki: PKI) -> TlsProfile:
    return TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)


@pytest.fixture(params=["rc7620", "hl7800"])
def modem(request: pytest.FixtureRequest) -> Iterator[Modem]:
    with VirtualModemServer("sierra", model=request.param, guard_time=0.2) as sim, \
            Modem(sim.url, "sierra", guard_time=0.2) as m:
        m.attach(apn="internet")
        yield m


@pytest.fixture
def hl7800() -> Iterator[Modem]:
    with VirtualModemServer("sierra", model="hl7800", guard_time=0.2) as sim, \
            Modem(sim.url, "sierra") as m:
        m.attach(apn="internet")
        yield m


class Raw:
    """A raw host connection to the virtual modem, to replay the seed's lines."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("socket://").split(":")
        self.sock = socket.create_connection((host, int(port)))
        self.sock.settimeout(0.2)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_until(self, marker: bytes, timeout: float = 5.0) -> bytes:
        out = b""
        deadline = time.monotonic() + timeout
        while marker not in out and time.monotonic() < deadline:
            try:
                out += self.sock.recv(65536)
            except TimeoutError:
                continue
        return out


# -- catalog (HL75-ATIG 11.7.5, 11.10.2; SEED-000) ----------------------------------------------

def test_catalog_sanity() -> None:
    assert "+KHTTP_ERROR:" in cat.CATALOG.urc_prefixes()
    assert cat.NOTIF[5].startswith("TCP connection error")
    assert cat.MODELS["rc7620"].certstore_size is False and cat.MODELS["hl7800"].cnxup
    for model in cat.MODELS.values():
        assert model.sources
    # SEED-000: +KCNX_IND: 1,2,7,2,30 decoded field by field
    text = describe_kcnx_ind("+KCNX_IND: 1,2,7,2,30")
    assert "failed to connect" in text and "attempt 7 of 2" in text and "30 s" in text


# -- virtual modem shapes against the seed's log ----------------------------------------------

def test_header_without_pattern_gives_khttp_error_6(pki: PKI, https: LocalHTTPSServer) -> None:
    """SEED-000 http_header_fail (fixture seed000_header_no_pattern.at)."""
    expected = [line[2:] for line in (FIXTURES / "seed000_header_no_pattern.at").read_text()
                .splitlines() if line.startswith("< ")]
    with VirtualModemServer("sierra", model="rc7620", data_timeout=0.5) as sim:
        raw = Raw(sim.url)
        raw.send(b"ATE0\r")
        raw.read_until(b"OK")
        raw.send(b"AT+KCERTSTORE=0\r")
        raw.read_until(b"CONNECT")
        raw.send(pki.ca_pem)
        time.sleep(1.2)
        raw.send(b"+++")
        assert b"OK" in raw.read_until(b"OK")
        raw.send(b'AT+KCNXCFG=1,"GPRS","m3-world"\r')
        raw.read_until(b"OK")
        raw.send(f'AT+KHTTPCFG=1,"127.0.0.1",{https.port},2,"","",1,0\r'.encode())
        assert b"+KHTTP_IND: 1,1" in raw.read_until(b"+KHTTP_IND")
        raw.send(b"AT+KHTTPHEADER=1\r")
        answer = raw.read_until(b"+KHTTP_ERROR", timeout=3).decode()
        assert [line for line in answer.split("\r\n") if line] == expected


def test_https_without_ca_fails_with_khttp_error_5(https: LocalHTTPSServer) -> None:
    """SEED-000 https_fail: +KHTTP_ERROR: 1,5 until the CA is stored with +KCERTSTORE."""
    with VirtualModemServer("sierra", model="rc7620") as sim:
        raw = Raw(sim.url)
        raw.send(b'ATE0\rAT+KCNXCFG=1,"GPRS","m3-world"\r')
        raw.read_until(b"OK")
        raw.send(f'AT+KHTTPCFG=1,"127.0.0.1",{https.port},2,"","",1,0\r'.encode())
        assert b"+KHTTP_ERROR: 1,5" in raw.read_until(b"+KHTTP_ERROR")


def test_long_uri_refused_with_cme_3(pki: PKI, https: LocalHTTPSServer) -> None:
    """SEED-000: the 255-character AT+KHTTPGET URI answered +CME ERROR: 3 on RC7620."""
    uri = "/ota/api/device/1.0/update/info?" + "x" * 220
    with VirtualModemServer("sierra", model="rc7620", guard_time=0.2) as sim:
        raw = Raw(sim.url)
        raw.send(b'ATE0\rAT+CMEE=1\rAT+KCNXCFG=1,"GPRS","m3-world"\rAT+KCERTSTORE=0\r')
        raw.read_until(b"CONNECT")
        raw.send(pki.ca_pem)
        time.sleep(0.3)
        raw.send(b"+++")
        raw.read_until(b"\r\nOK")
        raw.send(f'AT+KHTTPCFG=1,"127.0.0.1",{https.port},2,"","",1,0\r'.encode())
        raw.read_until(b"+KHTTP_IND: 1,1")
        raw.send(f'AT+KHTTPGET=1,"{uri}"\r'.encode())
        assert b"+CME ERROR: 3" in raw.read_until(b"ERROR")


# -- end to end (real HTTPS servers) -----------------------------------------------------------

def test_native_get_and_post(modem: Modem, https: LocalHTTPSServer, profile: TlsProfile) -> None:
    response = modem.request("GET", https.url("/bytes/3000"), profile=profile, via="native")
    assert response.status == 200 and response.read() == deterministic_bytes(3000)
    body = b"before--EOF--Pattern--after" + modem.driver.pattern  # type: ignore[attr-defined]
    post = modem.request("POST", https.url("/echo"), profile=profile, via="native", body=body)
    assert post.status == 200 and post.read() == body


def test_native_long_uri_refused_before_sending(modem: Modem, https: LocalHTTPSServer,
                                                profile: TlsProfile) -> None:
    if modem.info["model"] != "RC7620":
        pytest.skip("the RC76xx limit")
    with pytest.raises(ProfileError, match="CME ERROR: 3"):
        modem.request("GET", https.url("/bytes/1?" + "x" * 200), profile=profile, via="native")


def test_socket_get_post_and_pattern(hl7800: Modem, https: LocalHTTPSServer,
                                     profile: TlsProfile) -> None:
    response = hl7800.request("GET", https.url("/bytes/5000"), profile=profile, via="socket")
    assert response.read() == deterministic_bytes(5000)
    body = b"x--EOF--Pattern--y" + hl7800.driver.pattern * 2  # type: ignore[attr-defined]
    post = hl7800.request("POST", https.url("/echo"), profile=profile, via="socket", body=body)
    assert post.status == 200 and post.read() == body


@pytest.mark.parametrize("via", ["native", "socket"])
def test_one_megabyte_byte_exact(hl7800: Modem, https: LocalHTTPSServer, profile: TlsProfile,
                                 via: str) -> None:
    size = 1024 * 1024
    response = hl7800.request("GET", https.url(f"/bytes/{size}?seed=3"), profile=profile,
                              via=via)  # type: ignore[arg-type]
    digest = hashlib.sha256(b"".join(response.iter_bytes())).hexdigest()
    assert digest == hashlib.sha256(deterministic_bytes(size, seed=3)).hexdigest()


@pytest.mark.parametrize("via", ["native", "socket"])
def test_wrong_ca_is_a_certificate_error(hl7800: Modem, https: LocalHTTPSServer,
                                         via: str) -> None:
    wrong = TlsProfile(ca=Certificate.from_pem(make_pki(key_type="rsa").ca_pem),
                       check_hostname=False)
    with pytest.raises(CertificateVerifyError):
        hl7800.request("GET", https.url("/bytes/10"), profile=wrong, via=via)  # type: ignore[arg-type]


def test_cli_get(https: LocalHTTPSServer, pki: PKI, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from celltls.cli.app import app

    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca_pem)
    with VirtualModemServer("sierra", model="hl7800") as sim:
        result = CliRunner().invoke(app, ["get", https.url("/bytes/100"), "--port", sim.url,
                                          "--dialect", "sierra", "--ca", str(ca),
                                          "--no-check-hostname"])
    assert result.exit_code == 0, result.output
