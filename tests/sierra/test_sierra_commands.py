"""The commands of a request on a module an earlier run set up (issue 17: "the minimum of
commands"): the EOF pattern an earlier run set is read and kept (one ``AT+KPATTERN?``, HL78-ATIG
+KPATTERN) instead of set and read back, and a given model skips ``AT+CGMM``/``AT+CGMR``."""

from __future__ import annotations

import io

from celltls import Certificate, Modem, TlsProfile
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from celltls.trace import TranscriptWriter
from tests.e2e.records import host_lines

DATA = ("AT+KTCPSND", "AT+KTCPRCV")


def _control(sim: VirtualModemServer, https: LocalHTTPSServer, pki: PKI,
             **options: object) -> tuple[list[str], dict[str, str]]:
    transcript = io.StringIO()
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
    with Modem(sim.url, "sierra", trace=TranscriptWriter(transcript), **options) as modem:
        modem.attach(apn="internet")
        response = modem.request("GET", https.url("/bytes/3000?seed=7"), profile=profile,
                                 tls="host")
        assert response.read() == deterministic_bytes(3000, seed=7)
        info = dict(modem.info)
    return [line for line in host_lines(transcript) if not line.startswith(DATA)], info


def test_a_warm_request_keeps_the_pattern_and_skips_identification(
        https: LocalHTTPSServer, pki: PKI) -> None:
    with VirtualModemServer("sierra") as sim:
        cold, _ = _control(sim, https, pki)
        # the factory pattern is not ours: a new one is set and read back
        assert cold[0] == "AT+KPATTERN?" and cold[2] == "AT+KPATTERN?"
        assert cold[1].startswith('AT+KPATTERN="--celltls-')
        assert "AT+CGMM" in cold and "AT+CGMR" in cold
        warm, info = _control(sim, https, pki, model="hl7800")
    assert warm[:2] == ["AT+KPATTERN?", "AT+CMEE=1"]
    assert not any(line.startswith("AT+KPATTERN=") for line in warm)
    assert "AT+CGMM" not in warm and "AT+CGMR" not in warm
    assert info == {"model": "HL7800"}
    assert len(warm) <= 11, warm
