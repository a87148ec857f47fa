"""Sequans driver: certValidLevel from the profile and refusal of invalid raw values, error codes
to celltls errors, validation before the first byte, credentials (skip, delete, secrets), and
what the module says outside commands (+SYSSTART, +SQNSH) -- against the virtual GM02S."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from celltls import Certificate, Modem, PrivateKey, TlsProfile
from celltls.dialects import registry
from celltls.dialects.sequans import catalog as cat
from celltls.dialects.sequans.driver import (
    Sequans,
    capabilities_for,
    check_cert_valid_level,
    http_rc_error,
    level_for,
    name_matches,
)
from celltls.dialects.sequans.plugin import DIALECT
from celltls.errors import (
    CertificateVerifyError,
    ConnectionRefusedByServer,
    ConnectTimeoutError,
    CredentialError,
    DNSError,
    ModuleRebootedError,
    ProfileError,
    TLSHandshakeError,
    UnsafeArgumentError,
)
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from celltls.tls import TlsVersion, Verify
from celltls.trace import TranscriptWriter

# -- pure functions ----------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "words"), [
    (7, "bit 1 is unused"),
    (4, "bit 2 (host name check) cannot be used without bit 0"),
    (0x11, "bit 4 reserved"),
    (0xF9, "bits 3, 4, 5, 6, 7 reserved"),
    (256, "outside the 8-bit field"),
])
def test_invalid_raw_cert_valid_level_refused_with_explanation(level: int, words: str) -> None:
    with pytest.raises(ProfileError) as caught:
        check_cert_valid_level(level)
    assert words in str(caught.value)
    assert "use 1 (chain and dates) or 5" in str(caught.value)


@pytest.mark.parametrize("level", [0, 1, 5])
def test_valid_cert_valid_levels(level: int) -> None:
    assert check_cert_valid_level(level) == level


def test_level_built_from_profile(pki: PKI) -> None:
    ca = Certificate.from_pem(pki.ca_pem)
    assert level_for(TlsProfile(ca=ca)) == 5  # bits 0 and 2: verification and host name on
    assert level_for(TlsProfile(ca=ca, check_hostname=False)) == 1
    assert level_for(TlsProfile.insecure()) == 0


def test_capabilities_check_host_names_and_follow_the_model() -> None:
    gm02s = capabilities_for("GM02S")
    assert gm02s.hostname_check and gm02s.native_http
    assert (gm02s.secure_sockets, gm02s.security_contexts, gm02s.max_send) == (6, 6, 1500)
    assert TlsVersion.TLS1_3 in gm02s.tls_versions
    assert TlsVersion.TLS1_3 not in capabilities_for("GM01Q").tls_versions
    declared = registry.capabilities("sequans", "gm02s")
    assert declared is not None and declared.hostname_check


@pytest.mark.parametrize(("text", "expected"), [
    ("SEQUANS Communications", True), ("GM02SP", True), ("VZM20Q", True), ("GM01Q", True),
    ("Quectel", False), ("HL7800", False), ("UE8.2.1.0", False)])
def test_identification(text: str, expected: bool) -> None:
    assert DIALECT.matches(text) is expected
    assert DIALECT.driver is not None and DIALECT.driver() is Sequans


@pytest.mark.parametrize(("rc", "kind", "exit_code"), [
    (6, DNSError, 6), (7, ConnectionRefusedByServer, 7), (28, ConnectTimeoutError, 28),
    (35, TLSHandshakeError, 35), (60, CertificateVerifyError, 60),
    (77, CertificateVerifyError, 60), (58, CredentialError, 58)])
def test_http_result_codes_become_celltls_errors(rc: int, kind: type, exit_code: int) -> None:
    error = http_rc_error(rc, f"+SQNHTTPSH: 1,{rc}", host="example.com", port=443)
    assert type(error) is kind
    assert error.exit_code == exit_code
    assert f"+SQNHTTPSH: 1,{rc}" in str(error)


def test_name_matching() -> None:
    assert name_matches("api.example.com", ["*.example.com"])
    assert not name_matches("a.b.example.com", ["*.example.com"])
    assert name_matches("127.0.0.1", ["localhost", "127.0.0.1"])
    assert not name_matches("127.0.0.1", ["localhost"])


def test_sqnsrecv_block_header_and_forms() -> None:
    assert cat.SQNSRECV_BLOCK.match("+SQNSRECV: 1,318") == 318
    assert cat.SQNSRECV_BLOCK.match("+SQNSRING: 1,318") is None
    assert cat.CATALOG.command("+SQNSPCFG").build(
        spId=1, version=2, cipherSpecs="", certValidLevel=1, caCertificateID=19) == \
        '1,2,"",1,19'
    with pytest.raises(UnsafeArgumentError):
        cat.CATALOG.command("+SQNSD").build(connId=1, txProt=0, rPort=443,
                                            IPaddr='evil"host', connMode=1)
    with pytest.raises(UnsafeArgumentError):
        cat.CATALOG.command("+SQNSNVW").build(data_type="certificate", index=20, size=10)


# -- against the virtual module ----------------------------------------------------------------


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[Modem, Path, VirtualModemServer]]:
    trace = tmp_path / "session.txt"
    with VirtualModemServer("sequans") as sim, \
            Modem(sim.url, "sequans", trace=TranscriptWriter(trace)) as m:
        m.attach(apn="internet")
        yield m, trace, sim


def _sent(trace: Path, prefix: str) -> list[str]:
    return [line for line in trace.read_text().splitlines() if f"> {prefix}" in line]


def test_invalid_level_refused_before_anything_is_written(
        traced: tuple[Modem, Path, VirtualModemServer]) -> None:
    m, trace, _ = traced
    driver = m.driver
    assert isinstance(driver, Sequans)
    with pytest.raises(ProfileError, match="bit 1 is unused"):
        driver.configure_security_profile(1, cert_valid_level=7, ca_index=19)
    with pytest.raises(ProfileError, match="needs a CA"):
        driver.configure_security_profile(1, cert_valid_level=1)
    assert _sent(trace, "AT+SQNSPCFG") == []
    assert driver.configure_security_profile(2, cert_valid_level=0).startswith("+SQNSPCFG: 2,")


def test_unsafe_host_refused_before_the_first_byte(
        traced: tuple[Modem, Path, VirtualModemServer], pki: PKI) -> None:
    m, trace, _ = traced
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
    before = trace.read_text()
    with pytest.raises(UnsafeArgumentError):
        m.driver.tls_connect('bad"host', 443, profile, timeout=5)
    with pytest.raises(UnsafeArgumentError):
        m.driver.tls_connect("x" * 300, 443, profile, timeout=5)
    assert trace.read_text() == before


def test_credentials_skip_identical_upload_and_delete(tmp_path: Path, pki: PKI) -> None:
    ca = Certificate.from_pem(pki.ca_pem)
    with VirtualModemServer("sequans") as sim:
        with Modem(sim.url, "sequans") as m:
            first = m.credentials.store_ca(ca)
            assert first.uploaded and first.name == "certificate:16"
            assert not m.credentials.store_ca(ca).uploaded
        # a new run: the slot's fingerprint (AT+SQNSNVR) shows the same certificate
        trace = tmp_path / "second.txt"
        with Modem(sim.url, "sequans", trace=TranscriptWriter(trace)) as m:
            assert not m.credentials.store_ca(ca).uploaded
            assert _sent(trace, "AT+SQNSNVW") == []
            m.credentials.delete("certificate:16")
            assert any(line.endswith('AT+SQNSNVW="certificate",16,0')
                       for line in _sent(trace, "AT+SQNSNVW"))
            assert m.credentials.store_ca(ca).uploaded
            with pytest.raises(CredentialError, match="at most 8192"):
                m.driver.store_credential("ca", b"-----BEGIN CERTIFICATE-----\n" + b"A" * 9000,
                                          None)
            with pytest.raises(CredentialError):
                m.credentials.store_ca(ca, name="certificate:20")


def test_private_key_never_in_the_transcript(tmp_path: Path, pki: PKI) -> None:
    client = pki.client("device-1")
    trace = tmp_path / "key.txt"
    with VirtualModemServer("sequans") as sim, \
            Modem(sim.url, "sequans", trace=TranscriptWriter(trace)) as m:
        stored = m.credentials.store("client_key", client.key_pem)
        assert stored.name == "privatekey:18"
        PrivateKey.from_pem(client.key_pem)
    text = trace.read_text()
    body = b"".join(client.key_pem.splitlines()[1:-1]).decode()
    assert body[:40] not in text.replace("\\n", "")
    assert 'AT+SQNSNVW="privatekey",18,' in text


def test_mutual_tls_through_the_module(traced: tuple[Modem, Path, VirtualModemServer],
                                       pki: PKI) -> None:
    m, _, _ = traced
    client = pki.client("device-7")
    profile = TlsProfile(verify=Verify.MUTUAL, ca=Certificate.from_pem(pki.ca_pem),
                         client_cert=Certificate.from_pem(client.cert_pem),
                         client_key=PrivateKey.from_pem(client.key_pem))
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem,
                          client_ca_pem=pki.ca_pem) as server:
        for via in ("socket", "native"):
            response = m.request("GET", server.url("/client-cert"), profile=profile, via=via)
            assert (response.status, response.read()) == (200, b"device-7")


def test_reboot_is_recognised_and_the_next_request_succeeds(
        traced: tuple[Modem, Path, VirtualModemServer], pki: PKI,
        https: LocalHTTPSServer) -> None:
    m, _, sim = traced
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
    sock = m.tls_connect("127.0.0.1", https.port, profile)
    sim.modem.reboot()
    deadline = time.monotonic() + 5
    while sock.failure is None and time.monotonic() < deadline:
        time.sleep(0.05)  # +SYSSTART comes when the module has booted
    assert isinstance(sock.failure, ModuleRebootedError)
    with pytest.raises(ModuleRebootedError):
        sock.sendall(b"GET /bytes/10 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for _ in range(200):
            sock.recv(4096)
    m.attach(apn="internet")
    response = m.request("GET", https.url("/bytes/100"), profile=profile)
    assert response.read() == deterministic_bytes(100)


def test_peer_close_delivers_buffered_data_then_end(
        traced: tuple[Modem, Path, VirtualModemServer], pki: PKI,
        https: LocalHTTPSServer) -> None:
    m, _, _ = traced
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
    sock = m.tls_connect("127.0.0.1", https.port, profile)
    sock.sendall(b"GET /bytes/5000?seed=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Connection: close\r\n\r\n")
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    assert data.endswith(deterministic_bytes(5000, 2))
    assert b"200 OK" in data.split(b"\r\n", 1)[0]
    sock.close()


def test_unset_clock_is_set_from_the_host_before_verification(
        tmp_path: Path, pki: PKI, https: LocalHTTPSServer) -> None:
    trace = tmp_path / "clock.txt"
    with VirtualModemServer("sequans", unset_clock=True) as sim, \
            Modem(sim.url, "sequans", trace=TranscriptWriter(trace)) as m:
        m.attach(apn="internet")
        profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
        response = m.request("GET", https.url("/bytes/64"), profile=profile)
        assert response.read() == deterministic_bytes(64)
    text = trace.read_text()
    assert "< +CCLK: \"70/01/01" in text
    assert len(_sent(trace, "AT+CCLK=")) == 1


def test_data_phase_left_open_by_a_killed_run_is_ended(pki: PKI, https: LocalHTTPSServer) -> None:
    """A run killed after ``> `` leaves the module waiting for payload; a new Modem feeds it
    to its end and proves command mode with ``AT`` (sequans.md §2, §4)."""
    with VirtualModemServer("sequans") as sim:
        host, port = sim.url.removeprefix("socket://").split(":")
        raw = socket.create_connection((host, int(port)), timeout=5)
        raw.sendall(b'AT+SQNSNVW="certificate",15,3000\r')
        seen = b""
        deadline = time.monotonic() + 5
        while b">" not in seen and time.monotonic() < deadline:
            seen += raw.recv(100)
        assert b">" in seen
        raw.sendall(b"-----BEGIN CERTIFICATE-----\n")  # then the host process dies
        raw.close()
        time.sleep(0.3)
        with Modem(sim.url, "sequans") as m:
            m.attach(apn="internet")
            profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
            response = m.request("GET", https.url("/bytes/300"), profile=profile)
            assert response.read() == deterministic_bytes(300)


def test_psk_is_masked_in_the_transcript(traced: tuple[Modem, Path, VirtualModemServer]) -> None:
    m, trace, _ = traced
    driver = m.driver
    assert isinstance(driver, Sequans)
    driver.configure_security_profile(3, cert_valid_level=0, ciphers="0x008C",
                                      psk="734c61425224655f", psk_identity="device-9")
    (line,) = _sent(trace, "AT+SQNSPCFG=3,")
    assert '"***"' in line and "734c61425224655f" not in trace.read_text()
    assert '"device-9"' in line
