"""Dialect auto-detection from ATI / AT+CGMI / AT+CGMM, against the virtual modems."""

from __future__ import annotations

import pytest

from celltls import Modem
from celltls.sim.serve import VirtualModemServer


@pytest.mark.parametrize(
    ("dialect", "model"),
    [("quectel-gsm", None), ("quectel-gsm", "MC60"), ("sierra", "hl7800"), ("sierra", "rc7620"),
     ("sequans", None),
     # the SLM ends a command line at CR LF only (nordic-slm.md 3): identification then goes
     # on with CR LF after the first command got no answer at all
     ("nordic-slm", None), ("nordic-slm", "nrf9151")],
)
def test_dialect_is_detected(dialect: str, model: str | None) -> None:
    with VirtualModemServer(dialect, model=model) as sim, Modem(sim.url, dialect=None) as modem:
        assert modem.dialect == dialect
