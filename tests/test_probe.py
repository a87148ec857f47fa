"""``celltls probe`` and celltls.probe against real TLS servers on 127.0.0.1."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from celltls.cli.probe import register
from celltls.dialects import registry
from celltls.probe import ProbeError, certificates_in, module_verdict, probe_url, scan
from celltls.sim.httpsd import PKI, LocalHTTPSServer, make_pki
from celltls.tls import Certificate, TlsVersion


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def main() -> None:
        """celltls (test app)."""

    register(cli)
    return cli


@pytest.fixture(scope="module")
def rsa_pki() -> PKI:
    return make_pki(key_type="rsa")


@pytest.fixture(scope="module")
def ec_pki() -> PKI:
    return make_pki(key_type="ecdsa")


@pytest.fixture(scope="module")
def tls12_rsa(rsa_pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=rsa_pki.server_chain_pem,
                          key_pem=rsa_pki.server_key_pem,
                          maximum_version=ssl.TLSVersion.TLSv1_2) as server:
        yield server


@pytest.fixture(scope="module")
def tls13_only(ec_pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=ec_pki.server_chain_pem, key_pem=ec_pki.server_key_pem,
                          minimum_version=ssl.TLSVersion.TLSv1_3) as server:
        yield server


def _ca(tmp_path: Path, pki: PKI) -> str:
    path = tmp_path / "ca.pem"
    path.write_bytes(pki.ca_pem)
    return str(path)


def test_exit_1_naming_tls13_for_a_tls13_only_server(
    app: typer.Typer, tls13_only: LocalHTTPSServer, ec_pki: PKI, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["probe", tls13_only.url("/"), "--dialect", "quectel-gsm",
                                      "--ca", _ca(tmp_path, ec_pki)])
    assert result.exit_code == 1, result.output
    assert "module TLS: will not, because the server speaks TLS 1.3" in result.output
    assert "host TLS: will work" in result.output
    assert "TLS 1.3 yes" in result.output and "TLS 1.2 no" in result.output


def test_exit_0_for_a_tls12_rsa_server_and_save_ca(
    app: typer.Typer, tls12_rsa: LocalHTTPSServer, rsa_pki: PKI, tmp_path: Path
) -> None:
    saved = tmp_path / "root.pem"
    result = CliRunner().invoke(app, ["probe", tls12_rsa.url("/"), "--dialect", "quectel-gsm",
                                      "--ca", _ca(tmp_path, rsa_pki), "--save-ca", str(saved)])
    assert result.exit_code == 0, result.output
    assert "module TLS: will work" in result.output
    assert "key RSA 2048" in result.output
    assert "TLS_RSA_WITH_AES_128_CBC_SHA (RSA)" in result.output
    assert Certificate.from_pem(saved.read_bytes()).sha256 == (
        Certificate.from_pem(rsa_pki.ca_pem).sha256)


def test_ecdhe_only_tls12_server_is_out_of_quectel_reach(ec_pki: PKI, tmp_path: Path) -> None:
    """TLS 1.2 with an ECDSA certificate: only ECDHE-ECDSA suites, none of which the Quectel
    GSM family has (SSL-AN Table 2); a Sierra HL78xx (ECDHE suites in its catalog) can."""
    with LocalHTTPSServer(cert_chain_pem=ec_pki.server_chain_pem,
                          key_pem=ec_pki.server_key_pem,
                          maximum_version=ssl.TLSVersion.TLSv1_2) as server:
        report = scan("127.0.0.1", server.port, ca_file=_ca(tmp_path, ec_pki))
    assert report.accepted_versions == [TlsVersion.TLS1_2]
    assert report.suites and all("ECDSA" in name for name in report.suites.values())
    assert report.chain_complete and report.chain[0].key == "EC secp256r1"
    quectel = registry.capabilities("quectel-gsm")
    sierra = registry.capabilities("sierra", "hl7800")
    assert quectel is not None and sierra is not None
    verdict = module_verdict(report, quectel)
    assert not verdict.works and "cipher suites" in verdict.line()
    assert module_verdict(report, sierra).works


def test_tls12_chain_is_read_from_the_certificate_message(rsa_pki: PKI,
                                                           tls12_rsa: LocalHTTPSServer) -> None:
    report = scan("localhost", tls12_rsa.port, ca_file=None)
    assert report.chain_complete
    assert report.chain[0].pem == Certificate.from_pem(rsa_pki.server_chain_pem).pem
    assert report.anchor is None and report.anchor_source == "certifi"
    assert report.verify_error  # a test CA is not in certifi
    assert report.sni_required is False


def test_certificates_in_ignores_other_records() -> None:
    cert = b"\x30\x03\x02\x01\x01"
    body = len(cert).to_bytes(3, "big") + cert
    message = bytes([11]) + (len(body) + 3).to_bytes(3, "big") + len(body).to_bytes(3, "big")
    message += body
    hello = bytes([2]) + (4).to_bytes(3, "big") + b"abcd"
    records = b""
    for payload in (hello, message):
        records += bytes([22, 3, 3]) + len(payload).to_bytes(2, "big") + payload
    assert certificates_in(records) == [cert]
    assert certificates_in(bytes([20, 3, 3, 0, 1, 1]) + records) == []


def test_probe_errors_exit_2(app: typer.Typer) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    result = CliRunner().invoke(app, ["probe", f"https://127.0.0.1:{free}/"])
    assert result.exit_code == 2
    assert "no TCP connection" in result.output
    result = CliRunner().invoke(app, ["probe", "https://127.0.0.1/", "--dialect", "nosuch"])
    assert result.exit_code == 2
    with pytest.raises(ProbeError):
        probe_url(f"https://127.0.0.1:{free}/")


def test_through_the_module_with_port(app: typer.Typer, tls12_rsa: LocalHTTPSServer,
                                      tls13_only: LocalHTTPSServer, rsa_pki: PKI, ec_pki: PKI,
                                      tmp_path: Path) -> None:
    """--port: the module's own TLS is tried once through a virtual Quectel M66; without
    --dialect the capabilities are the identified module's."""
    from celltls.sim.serve import VirtualModemServer

    with VirtualModemServer("quectel-gsm", guard_time=0.2) as sim:
        result = CliRunner().invoke(app, ["probe", tls12_rsa.url("/"), "--port", sim.url,
                                          "--ca", _ca(tmp_path, rsa_pki)])
        assert result.exit_code == 0, result.output
        assert "through the module (quectel-gsm): handshake ok" in result.output
        result = CliRunner().invoke(app, ["probe", tls13_only.url("/"), "--port", sim.url,
                                          "--ca", _ca(tmp_path, ec_pki)])
        assert result.exit_code == 1, result.output
        assert "through the module (quectel-gsm): TLSNegotiationError" in result.output
