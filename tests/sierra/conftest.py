"""Shared fixtures of the Sierra tests: an RSA test PKI and a local HTTPS server (module scope)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from celltls.sim.httpsd import PKI, LocalHTTPSServer, make_pki


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki(key_type="rsa")


@pytest.fixture(scope="module")
def https(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as s:
        yield s
