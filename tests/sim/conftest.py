"""Fixtures of the virtual modem tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from celltls.sim.httpsd import PKI, make_pki
from celltls.sim.serve import VirtualModemServer
from tests.sim.helpers import GUARD, Host


@pytest.fixture(scope="session")
def pki() -> PKI:
    return make_pki()


@pytest.fixture
def modem_server() -> Iterator[VirtualModemServer]:
    with VirtualModemServer("quectel-gsm", guard_time=GUARD) as server:
        yield server


@pytest.fixture
def host(modem_server: VirtualModemServer) -> Iterator[Host]:
    h = Host(modem_server)
    assert h.cmd("ATE0")[-1] == "OK"
    h.drain(0.05)
    yield h
    h.close()


