"""Shared fixtures of the Sequans tests: test PKIs, local HTTPS servers and a virtual GM02S."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from celltls import Certificate, Modem, TlsProfile
from celltls.sim.httpsd import PKI, LocalHTTPSServer, make_pki
from celltls.sim.serve import VirtualModemServer


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki(key_type="rsa")


@pytest.fixture(scope="module")
def other_pki() -> PKI:
    """A second CA: its root did not issue the server's certificate."""
    return make_pki(key_type="rsa")


@pytest.fixture(scope="module")
def https(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as s:
        yield s


@pytest.fixture(scope="module")
def localhost_pki() -> PKI:
    """A server certificate for ``localhost`` only: reached as 127.0.0.1 its name is wrong."""
    return make_pki(hostnames=("localhost",), key_type="rsa")


@pytest.fixture(scope="module")
def https_localhost(localhost_pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=localhost_pki.server_chain_pem,
                          key_pem=localhost_pki.server_key_pem) as s:
        yield s


@pytest.fixture(scope="module")
def profile(pki: PKI) -> TlsProfile:
    """Verification and host-name check on (the defaults)."""
    return TlsProfile(ca=Certificate.from_pem(pki.ca_pem))


@pytest.fixture(scope="module")
def sim() -> Iterator[VirtualModemServer]:
    with VirtualModemServer("sequans") as server:
        yield server


@pytest.fixture(scope="module")
def modem(sim: VirtualModemServer) -> Iterator[Modem]:
    """One attached Modem on the module's virtual GM02S, shared by a test module."""
    with Modem(sim.url, "sequans") as m:
        m.attach(apn="internet")
        yield m
