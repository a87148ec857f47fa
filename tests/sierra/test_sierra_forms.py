"""Sierra: the catalog's forms build the driver's lines and check the virtual modem's arguments;
documented test forms are answered from the catalog (sierra-hl78xx.md; issue 13, point 3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from celltls import Modem
from celltls.dialects.sierra import catalog as cat
from celltls.dialects.sierra.driver import arguments
from celltls.dialects.spec import ParamError
from celltls.errors import UnsafeArgumentError
from celltls.sim.serve import VirtualModemServer
from celltls.tls import TlsProfile, Verify
from tests.sim.helpers import GUARD, Host

REFERENCE = Path("/work/shared/reference/sierra-hl78xx.md")


def test_driver_lines_match_the_references_examples() -> None:
    # sierra-hl78xx.md §9 (reconstructed session) and §6 (S5d)
    assert arguments("+KSSLCRYPTO", cipher_index=0, **cat.KSSL_ECDHE_PROFILE, auth=1,
                     root_cert_idx=0) == "0,8,3,25392,12,4,1,0"
    assert arguments("+KCERTSTORE", data_type=cat.CERT_ROOT, NbData=1208) == "0,1208"
    assert arguments("+KHTTPCFG", cnx_cnf=1, server_name="httpbin.org", http_port=443,
                     http_sec=cat.HTTP_SEC_HTTPS, login="", password="", start_http_session=0,
                     x=0, cipher_index=0) == '1,"httpbin.org",443,2,"","",0,0,0'
    assert arguments("+KTCPCFG", cnx_cnf=1, mode=cat.TCP_MODE_TLS_CLIENT,
                     remote_name="example.com", tcp_port=443, cipher_index=0) == \
        '1,3,"example.com",443,,,,,0'
    assert arguments("+KTCPSND", session_id=1, ndata=18) == "1,18"
    assert arguments("+KPATTERN", EOF_pattern=cat.DEFAULT_PATTERN) == '"--EOF--Pattern--"'
    assert arguments("+KHTTPPOST", session_id=1, request_uri="/post", show_resp=1) == \
        '1,,"/post",1'


@pytest.mark.parametrize(("name", "values", "field"), [
    ("+KTCPCFG", {"cnx_cnf": 1, "mode": 3, "remote_name": 'ex"ample', "tcp_port": 443},
     "remote_name"),
    ("+KTCPCFG", {"cnx_cnf": 1, "mode": 3, "remote_name": "h", "tcp_port": 0}, "tcp_port"),
    ("+KCNXCFG", {"cnx_cnf": 1, "ctxt_type": "GPRS", "apn": "a" * 64}, "apn"),
    ("+KHTTPCFG", {"cnx_cnf": 1, "server_name": "h", "http_sec": 1}, "http_sec"),
    ("+KCERTSTORE", {"data_type": 0, "NbData": cat.MAX_CREDENTIAL + 1}, "NbData"),
    ("+KTCPRCV", {"session_id": 0, "ndata": 10}, "session_id"),
])
def test_driver_refuses_a_bad_value_by_its_name(name: str, values: dict[str, object],
                                               field: str) -> None:
    with pytest.raises(ParamError) as info:
        arguments(name, **values)  # type: ignore[arg-type]
    assert info.value.field == field


def test_every_documented_test_answer_is_quoted_by_the_reference() -> None:
    answered = {n: c.test_answer for n, c in cat.CATALOG.commands.items() if c.test_answer}
    assert {"+KHTTPCFG", "+KTCPSND", "+KTCPRCV", "+KCERTSTORE"} <= set(answered)
    if not REFERENCE.exists():
        pytest.skip("shared/reference is not on this machine")
    text = REFERENCE.read_text(encoding="utf-8")
    for name, answer in answered.items():
        assert "sierra-hl78xx.md" in answer.source, name
        for line in answer.lines:
            values = line.split(":", 1)[1].strip()
            assert values in text, (name, values)


@pytest.fixture
def host() -> Iterator[Host]:
    with VirtualModemServer("sierra", model="hl7800", guard_time=GUARD) as server:
        h = Host(server)
        assert h.cmd("ATE0")[-1] == "OK"
        assert h.cmd("AT+CMEE=1") == ["OK"]
        yield h
        h.close()


@pytest.mark.parametrize("name", ["+KHTTPCFG", "+KTCPSND", "+KTCPRCV", "+KCERTSTORE",
                                  "+KPRIVKDELETE"])
def test_modem_answers_test_forms_from_the_catalog(host: Host, name: str) -> None:
    answer = cat.CATALOG.command(name).test_answer
    assert answer is not None
    assert host.cmd(f"AT{name}=?") == [*answer.lines, "OK"]


def test_rc7620_does_not_claim_the_hl78xx_certificate_test_answer() -> None:
    with VirtualModemServer("sierra", model="rc7620", guard_time=GUARD) as server:
        h = Host(server)
        try:
            h.cmd("ATE0")
            assert h.cmd("AT+KCERTSTORE=?") == ["ERROR"]
            assert h.cmd("AT+KTCPSND=?") == ["+KTCPSND: (1-*),(1-*)", "OK"]
        finally:
            h.close()


@pytest.mark.parametrize(("line", "answer"), [
    ('AT+KTCPCFG=1,0,"127.0.0.1",70000', "+CME ERROR: 916"),  # S6: parameter out of range
    ('AT+KTCPCFG=1,0,"127.0.0.1"', "+CME ERROR: 917"),  # missing parameter
    ('AT+KTCPCFG=1,0,"127.0.0.1",80,,,,,,,1', "+CME ERROR: 915"),  # parameter not expected
    ("AT+KTCPCFG=1,9,,80", "+CME ERROR: 916"),
    ("AT+KPATTERN=--p--", "+CME ERROR: 932"),  # parameter format invalid
    (f'AT+KPATTERN="{"x" * (cat.MAX_PATTERN + 1)}"', "+CME ERROR: 931"),  # length invalid
    (f'AT+KHTTPCFG=1,"h",443,2,"{"u" * 65}",""', "+CME ERROR: 931"),
    ("AT+KTCPSTAT=0", "+CME ERROR: 910"),  # a session id out of range is a bad session ID
    ("AT+KTCPRCV=x,10", "+CME ERROR: 910"),
    ("AT+KSSLCRYPTO=0,8,3,25392,12,4,2,0", "+CME ERROR: 916"),  # <auth> 2 is not defined
    ("AT+KSSLCRYPTO=0,8,3,25392,12,4,1,4", "+CME ERROR: 916"),  # root slots 0-3
    ("AT+KCERTSTORE=2,100", "+CME ERROR: 916"),
])
def test_modem_checks_arguments_with_the_catalog_forms(host: Host, line: str,
                                                       answer: str) -> None:
    assert host.cmd(line) == [answer]


def test_modem_keeps_the_models_own_limits_within_the_form(host: Host) -> None:
    # the form takes slots 0-3 (S5a, firmware 04.05+); the simulated HL7800 has 3 slots
    assert host.cmd("AT+KCERTSTORE=0,100,3") == ["+CME ERROR: 916"]
    assert host.cmd("AT+KSSLCRYPTO=1,8,3,25392,12,4,1,0") == ["OK"]
    assert host.cmd("AT+KSSLCRYPTO?")[:2] == ["+KSSLCRYPTO: 0,8,3,25392,12,4,1",
                                               "+KSSLCRYPTO: 1,8,3,25392,12,4,1"]


def test_driver_writes_nothing_for_a_bad_host() -> None:
    with VirtualModemServer("sierra", model="hl7800", guard_time=0.2) as sim, \
            Modem(sim.url, "sierra") as modem:
        sim.modem.keep_transcript = True
        with pytest.raises(UnsafeArgumentError, match="remote_name"):
            modem.driver.tls_connect('bad"host', 443, TlsProfile(verify=Verify.NONE),
                                     timeout=5)
        assert not [data for way, data in sim.modem.transcript if way == ">"]
