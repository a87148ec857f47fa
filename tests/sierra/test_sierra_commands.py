"""The commands of a request on a module an earlier run set up (issue 17: "the minimum of
commands"): the EOF pattern an earlier run set is read and kept (one ``AT+KPATTERN?``, HL78-ATIG
+KPATTERN) instead of set and read back, and a given model skips ``AT+CGMM``/``AT+CGMR``."""

from __future__ import annotations

import io
import json
from pathlib import Path

from celltls import Certificate, Modem, TlsProfile
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from celltls.state import ModuleState
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


def _module_tls(sim: VirtualModemServer, https: LocalHTTPSServer, pki: PKI,
                state: ModuleState | None) -> list[str]:
    transcript = io.StringIO()
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)
    with Modem(sim.url, "sierra", trace=TranscriptWriter(transcript), model="hl7800",
               state=state) as modem:
        modem.attach(apn="internet")
        response = modem.request("GET", https.url("/bytes/3000?seed=9"), profile=profile,
                                 tls="module")
        assert response.read() == deterministic_bytes(3000, seed=9)
    return [line for line in host_lines(transcript) if not line.startswith(DATA)]


def test_the_state_file_spares_a_ca_upload(https: LocalHTTPSServer, pki: PKI,
                                           tmp_path: Path) -> None:
    """The HL78xx lists a certificate's size, not its content (sierra-hl78xx.md S5a): what an
    earlier run wrote is recorded in the state file under the EOF pattern it set, and checked
    against the size ``AT+KCERTSTORE?`` lists before the upload is skipped."""
    state = ModuleState(tmp_path / "state.json")
    with VirtualModemServer("sierra") as sim:
        cold = _module_tls(sim, https, pki, state)
        assert any(line.startswith("AT+KCERTSTORE=0,") for line in cold)
        assert "AT+KSREP?" in cold
        warm = _module_tls(sim, https, pki, state)
        assert not any(line.startswith("AT+KCERTSTORE=0,") for line in warm)  # no upload
        assert "AT+KCERTSTORE?" in warm and "AT+KSREP?" not in warm
        assert len(warm) <= 12, warm
        # without the state file (--no-cache) the CA is written again
        assert any(line.startswith("AT+KCERTSTORE=0,")
                   for line in _module_tls(sim, https, pki, None))
        # a record the module's list contradicts is not trusted: another program (here a run
        # without the state file) deleted the CA, so the slot lists size 0
        key = next(k for k in json.loads(state.path.read_text())["modules"])
        assert state.get(key)["root:0"].startswith(f"{len(pki.ca_pem)}:")
        with Modem(sim.url, "sierra", model="hl7800") as other:
            other.credentials.delete("root:0")
        again = _module_tls(sim, https, pki, state)
        assert "AT+KCERTSTORE?" in again
        assert any(line.startswith("AT+KCERTSTORE=0,") for line in again)
    assert (state.path.stat().st_mode & 0o777) == 0o600


def test_the_state_file_spares_identification(https: LocalHTTPSServer, pki: PKI,
                                              tmp_path: Path) -> None:
    """Without ``model=``, a run reads ``AT+CGMM``/``AT+CGMR`` once and records the answers
    under the EOF pattern it set; the next run that finds that pattern still set takes them from
    the record (issue 17: "skip identification when dialect and model are given or cached").
    A new pattern (a restart, another program) means a new identification."""
    state = ModuleState(tmp_path / "state.json")
    with VirtualModemServer("sierra") as sim:
        cold, cold_info = _control(sim, https, pki, state=state)
        assert "AT+CGMM" in cold and "AT+CGMR" in cold
        assert cold_info["model"] and cold_info["firmware"]
        warm, warm_info = _control(sim, https, pki, state=state)
        assert "AT+CGMM" not in warm and "AT+CGMR" not in warm
        assert warm[:2] == ["AT+KPATTERN?", "AT+CMEE=1"]
        assert warm_info == cold_info
        assert len(warm) <= 11, warm
        # another program sets its own pattern: the record no longer applies
        with Modem(sim.url, "sierra", model="hl7800") as other:
            other.driver.at("+KPATTERN", '"--other--"')
        again, again_info = _control(sim, https, pki, state=state)
        assert "AT+CGMM" in again and "AT+CGMR" in again
        assert again_info == cold_info
