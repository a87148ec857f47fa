"""Fixtures of the CLI tests: a test PKI and an HTTPS server per test module, a virtual Quectel
GSM modem and the CA file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from celltls.sim.httpsd import PKI, LocalHTTPSServer, make_pki
from celltls.sim.serve import VirtualModemServer


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
