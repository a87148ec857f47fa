"""End-to-end fixtures: real HTTPS servers on 127.0.0.1, a virtual modem, the real library.

No layer of ours is mocked: the library talks through socket:// (or a pty) to the virtual modem,
which opens real TLS connections to the servers started here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from celltls import Certificate, Modem, TlsProfile
from celltls.sim.httpsd import PKI, LocalHTTPSServer, make_pki
from celltls.sim.serve import VirtualModemServer
from celltls.trace import TranscriptWriter


@pytest.fixture(scope="session")
def pki() -> PKI:
    """An RSA PKI: Quectel GSM modules only know RSA key exchange (SSL-AN Table 2)."""
    return make_pki(key_type="rsa")


@pytest.fixture(scope="session")
def other_pki() -> PKI:
    """An unrelated CA, to play the wrong CA."""
    return make_pki(key_type="rsa")


@pytest.fixture(scope="session")
def https(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as srv:
        yield srv


@pytest.fixture
def sim() -> Iterator[VirtualModemServer]:
    with VirtualModemServer("quectel-gsm", guard_time=0.2) as server:
        yield server


@pytest.fixture
def transcript() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def modem(sim: VirtualModemServer, transcript: io.StringIO) -> Iterator[Modem]:
    writer = TranscriptWriter(transcript, header={"dialect": "quectel-gsm"})
    with Modem(sim.url, "quectel-gsm", trace=writer, guard_time=0.2) as m:
        m.attach(apn="internet")
        yield m


@pytest.fixture(scope="session")
def profile(pki: PKI) -> TlsProfile:
    """Chain and dates verified; the host-name check turned off by name, as the module's own TLS
    cannot do it (SSL-AN 2.2.1; celltls refuses the default profile there)."""
    return TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)
