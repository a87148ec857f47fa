"""The celltls CLI in-process (typer's CliRunner) against a virtual modem and a local server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from celltls.cli.app import app
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer

runner = CliRunner()


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki()


@pytest.fixture(scope="module")
def web(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as srv:
        yield srv


@pytest.fixture
def sim() -> Iterator[VirtualModemServer]:
    with VirtualModemServer("quectel-gsm") as server:
        yield server


@pytest.fixture
def ca(tmp_path: Path, pki: PKI) -> Path:
    path = tmp_path / "ca.pem"
    path.write_bytes(pki.ca_pem)
    return path


def test_get_detects_the_dialect_and_writes_the_body(
    sim: VirtualModemServer, web: LocalHTTPSServer, ca: Path, tmp_path: Path
) -> None:
    out = tmp_path / "body"
    trace = tmp_path / "trace.txt"
    result = runner.invoke(app, ["get", web.url("/bytes/70000"), "--port", sim.url,
                                 "--ca", str(ca), "-o", str(out), "--trace", str(trace)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == deterministic_bytes(70000)
    assert "> ATI" in trace.read_text()


def test_post_data_and_file(sim: VirtualModemServer, web: LocalHTTPSServer, ca: Path,
                            tmp_path: Path) -> None:
    result = runner.invoke(app, ["post", web.url("/echo"), "--port", sim.url, "--dialect",
                                 "quectel-gsm", "--ca", str(ca), "--data", "hello"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"hello"
    upload = tmp_path / "up.bin"
    upload.write_bytes(bytes(range(256)) * 10)
    result = runner.invoke(app, ["post", web.url("/echo"), "--port", sim.url, "--dialect",
                                 "quectel-gsm", "--ca", str(ca), "--data", f"@{upload}"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == upload.read_bytes()


def test_verification_needs_a_ca_or_insecure_by_name(sim: VirtualModemServer,
                                                     web: LocalHTTPSServer) -> None:
    result = runner.invoke(app, ["get", web.url("/bytes/5"), "--port", sim.url])
    assert result.exit_code == 1
    assert "celltls: error:" in result.stderr and "--ca" in result.stderr
    result = runner.invoke(app, ["get", web.url("/bytes/5"), "--port", sim.url, "--insecure"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == deterministic_bytes(5)
    assert "NOT verified" in result.stderr


def test_fail_on_http_status(sim: VirtualModemServer, web: LocalHTTPSServer, ca: Path) -> None:
    result = runner.invoke(app, ["get", web.url("/status/404"), "--port", sim.url, "--ca",
                                 str(ca), "--fail"])
    assert result.exit_code == 22
    assert "HTTP 404" in result.stderr


@pytest.mark.parametrize("url", ["https://127.0.0.1:abc/", 'https://exa"mple.com/',
                                 "http://example.com/"])
def test_bad_urls_are_one_line_errors(sim: VirtualModemServer, ca: Path, url: str) -> None:
    result = runner.invoke(app, ["get", url, "--port", sim.url, "--ca", str(ca)])
    assert result.exit_code == 1
    assert result.stderr.startswith("celltls: error:")
    assert "Traceback" not in result.output


def test_unopenable_port(ca: Path) -> None:
    result = runner.invoke(app, ["get", "https://x/", "--port", "/dev/does-not-exist",
                                 "--ca", str(ca)])
    assert result.exit_code == 1
    assert "cannot open /dev/does-not-exist" in result.stderr
