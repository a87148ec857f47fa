"""Shared fixtures of the XBee 3 Cellular tests: an RSA test PKI (the module offers RSA key
exchange only, xbee3.md S10), a local HTTPS server, and a virtual XBee served on a TCP port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from celltls.sim.httpsd import PKI, LocalHTTPSServer, make_pki
from celltls.sim.serve import VirtualModemServer

#: Guard time of the virtual modem and the driver in these tests, seconds (GT, xbee3.md S2).
GUARD = 0.1


@pytest.fixture(scope="module")
def xbee_pki() -> PKI:
    return make_pki(key_type="rsa")


@pytest.fixture(scope="module")
def xbee_https(xbee_pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=xbee_pki.server_chain_pem,
                          key_pem=xbee_pki.server_key_pem) as server:
        yield server


@pytest.fixture
def xbee_sim() -> Iterator[VirtualModemServer]:
    with VirtualModemServer("xbee3", guard_time=GUARD) as server:
        yield server
