"""Generic 3GPP and TLS rules of the doctor (issue 20), on small logs written for each rule."""

from __future__ import annotations

import json

from celltls.doctor import diagnose, render_json
from celltls.doctor.tables import CMS_ALL, REJECT_CAUSES, cipher_name, cme_code_from_text


def _codes(text: str, dialect: str | None = "generic") -> dict[str, list[int]]:
    report = diagnose(text, dialect)
    out: dict[str, list[int]] = {}
    for f in report.findings:
        out.setdefault(f.code, []).append(f.line)
    return out


def test_registration_denied_names_the_reject_cause() -> None:
    report = diagnose("AT+CEREG=3\nOK\nAT+CEREG?\n+CEREG: 3,3,\"1A2B\",\"01C2D3E4\",7,0,15\nOK\n",
                      "generic")
    denied = [f for f in report.findings if f.code == "registration-denied"]
    assert [f.line for f in denied] == [4]
    assert "reject cause 15" in denied[0].message and "no suitable cells" in denied[0].message
    assert REJECT_CAUSES[7].startswith("EPS/GPRS services not allowed")


def test_creg_zero_on_lte_is_not_no_network() -> None:
    log = "AT+CREG?\n+CREG: 0,0\nOK\nAT+CEREG?\n+CEREG: 0,5\nOK\n"
    report = diagnose(log, "generic")
    wrong = [f for f in report.findings if f.code == "registration-wrong-domain"]
    assert wrong and wrong[0].line == 2 and 5 in wrong[0].related
    assert "not-registered" not in report.codes()
    # without +CEREG but on an LTE-M network the warning says which status counts
    catm = ("AT+CGREG?\n+CGREG: 0,4\nOK\nAT+QNWINFO\n"
            "+QNWINFO: \"CAT-M1\",\"33450\",\"LTE BAND 4\",2250\nOK\n")
    found = [f for f in diagnose(catm, "generic").findings
             if f.code == "registration-wrong-domain"]
    assert found and found[0].severity == "warning" and "+CEREG" in found[0].fix


def test_cfun_level_refused_and_radio_off() -> None:
    codes = _codes("AT+CFUN=16\nERROR\nAT+CFUN=4\nOK\nAT+CGACT=1,1\nERROR\n")
    assert codes["cfun-unsupported"] == [1]
    assert codes["radio-off"] == [5]


def test_sim_states() -> None:
    assert _codes("AT+CPIN?\n+CPIN: SIM PIN\nOK\nAT+COPS=0\nERROR\n")["sim-not-ready"] == [2]
    assert "sim-not-ready" not in _codes("AT+CPIN?\n+CPIN: SIM PIN\nOK\nAT+CPIN=\"1234\"\nOK\n"
                                         "AT+CPIN?\n+CPIN: READY\nOK\n")
    assert _codes("AT+CMEE=1\nOK\nAT+CPIN?\n+CME ERROR: 10\n")["sim-not-ready"] == [4]


def test_pdp_contexts() -> None:
    assert _codes("AT+CGACT=1,1\n+CME ERROR: 126\n")["apn-rejected"] == [1]
    assert _codes("AT+CGDCONT=1,\"IP\",\"internet\"\nOK\nAT+CGACT=1,2\nERROR\n")[
        "pdp-undefined-cid"] == [3]
    second = _codes("AT+CGACT=1,1\nOK\nAT+CGACT=1,2\nERROR\n")
    assert second["pdp-second-context"] == [3]
    assert "no-ip-address" in _codes("AT+CGPADDR=1\n+CGPADDR: 1,\"0.0.0.0\"\nOK\n")


def test_verbose_cme_text_and_cms_table() -> None:
    assert cme_code_from_text(" Operation  not allowed ") == 3
    assert CMS_ALL[42] == "congestion" and CMS_ALL[330] == "SMSC address unknown"
    report = diagnose("AT+CMEE=2\nOK\nAT+COPS=1,2,\"99999\"\n+CME ERROR: operation not allowed\n",
                      "generic")
    cme = [f for f in report.findings if f.code == "cme-error"]
    assert cme and "operation not allowed" in cme[0].message and cme[0].symptom


def test_line_end_and_syntax_traps() -> None:
    codes = _codes("AT+CSQAT+CREG?\nERROR\n")
    assert codes["missing-line-end"] == [1]
    comma = diagnose("AT+CSSLCFG=\"convert\"2,\"root.pem\"\nERROR\n", "generic")
    found = [f for f in comma.findings if f.code == "missing-comma"]
    assert found and found[0].column == 21 and found[0].severity == "error"
    assert "\"convert\",2" in found[0].fix
    escaped = _codes('AT%CMNG=0,1,0,"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END '
                     'CERTIFICATE-----"\nERROR\n')
    assert escaped["escaped-line-end"] == [1]
    assert "cmee-mode-unsupported" in _codes("AT+CMEE=2\nERROR\n")


def test_pem_traps() -> None:
    one_line = ("AT+X=\"-----BEGIN CERTIFICATE-----" + "A" * 120
                + "-----END CERTIFICATE-----\"\nOK\n")
    assert _codes(one_line)["pem-one-line"] == [1]
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"
    report = diagnose(key, "generic")
    found = [f for f in report.findings if f.code == "pem-key-format"]
    assert found and "PKCS#1" in found[0].message


def test_multiline_pem_string_is_not_a_stray_quote() -> None:
    log = ('AT%CMNG=0,42,0,"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n'
           '-----END CERTIFICATE-----"\nOK\n')
    assert "stray-quote" not in _codes(log)
    assert _codes('AT#XHTTPCCON=1,"google.com",443,42"\n')["stray-quote"] == [1]


def test_module_rebooted_and_linked_consequence() -> None:
    log = ("AT+CGREG?\nRDY\n+CFUN: 1\n+CPIN: READY\n+CGREG: 0,1\nOK\n"
           "AT+QICSGP=1,1,\"apn\",\"\",\"\",1\nOK\nAT+QIACT=1\nERROR\n")
    report = diagnose(log)
    reboot = [f for f in report.findings if f.code == "module-rebooted"]
    assert [f.line for f in reboot] == [2]
    error = [f for f in report.findings if f.code == "command-error"]
    assert error and error[0].caused_by == 2
    assert report.cause is not None and report.cause.code == "module-rebooted"
    assert "module-rebooted" not in _codes("AT+CFUN=1,1\nOK\nRDY\n")


def test_plain_http_to_tls_port_and_p384() -> None:
    codes = _codes("HTTP/1.1 400 Bad Request\nThe plain HTTP request was sent to HTTPS port\n")
    assert codes["http-to-tls-port"] == [2]
    prose = ("With an EC 384bit server I get HTTP error 751 (TLS handshake failure).\n"
             "AT+HTTPACTION=0\nOK\n")
    assert "tls-cipher-mismatch" in _codes(prose)


def test_no_session_and_no_known_cause() -> None:
    report = diagnose("Hello, my modem does not work. Any idea?\n")
    assert report.codes() == {"no-at-session"}
    unknown = diagnose("AT+FOO=1\nERROR\n", "generic")
    assert "no-known-cause" in unknown.codes() and unknown.cause is None
    nothing = diagnose("AT\nOK\n", "generic")
    assert "no-known-cause" not in nothing.codes()


def test_cipher_names_and_json_fields() -> None:
    assert cipher_name("0xC02F") == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (0xC02F)"
    assert cipher_name(0x0035).startswith("TLS_RSA_WITH_AES_256_CBC_SHA ")
    assert cipher_name("FFFF").startswith("0xFFFF (all")
    assert cipher_name("0x1234") == "0x1234 (not in the IANA list)"
    data = json.loads(render_json(diagnose("AT+CFUN=16\nERROR\n", "generic")))
    finding = data["findings"][0]
    assert {"confidence", "symptom", "caused_by"} <= set(finding)
    assert data["cause"] == {"line": 1, "code": "cfun-unsupported", "confidence": "high"}


def test_pdp_dropped_during_session() -> None:
    log = "AT+CGACT=1,1\nOK\n+CGEV: NW PDN DEACT 1\nAT+CGPADDR=1\n+CGPADDR: 1\nOK\n"
    assert _codes(log)["pdp-dropped"] == [3]
    assert _codes("+APP PDP: 0,DEACTIVE\n", "simcom")["pdp-dropped"] == [1]


def test_verification_off_after_a_failure_is_called_a_workaround() -> None:
    log = ('AT+CSSLCFG="authmode",0,1\nOK\nAT+HTTPPARA="URL","https://example.com"\nOK\n'
           'AT+HTTPACTION=0\nOK\n+HTTPACTION: 0,715,0\nAT+CSSLCFG="authmode",0,0\nOK\n')
    found = [f for f in diagnose(log, "simcom").findings if f.code == "tls-verify-off"]
    assert found and found[0].line == 8 and "after the failure at line 7" in found[0].message


def test_iot_hub_without_client_certificate() -> None:
    log = 'AT+QMTOPEN=0,"a1b2c3-ats.iot.us-west-2.amazonaws.com",8883\nOK\n+QMTOPEN: 0,-1\n'
    found = [f for f in diagnose(log).findings if f.code == "tls-client-cert-missing"]
    assert found and found[0].confidence == "low"
    with_cert = 'AT+QSSLCFG="clientcert",2,"cert.pem"\nOK\n' + log
    assert "tls-client-cert-missing" not in diagnose(with_cert).codes()
