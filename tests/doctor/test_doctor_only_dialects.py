"""The doctor-only dialects of issue 20: Quectel LTE, SIMCom, u-blox SARA-R4/R5.

Each is a plug-in folder with a manifest (driver and virtual modem ``None``), a catalog and rules;
the logs here are small, written to exercise one fact of shared/reference/<vendor>.md each.
"""

from __future__ import annotations

import pytest

from celltls.dialects import registry
from celltls.doctor import diagnose


def _find(text: str, code: str, dialect: str | None = None) -> list[int]:
    return [f.line for f in diagnose(text, dialect).findings if f.code == code]


@pytest.mark.parametrize("name", ["quectel-lte", "simcom", "ublox"])
def test_manifests_are_doctor_only(name: str) -> None:
    info = registry.get(name)
    assert info.driver is None and info.virtual_modem is None and info.doctor is not None
    assert name not in registry.names(drivable=True)
    catalog = info.catalog()
    assert catalog.dialect == name and len(catalog.commands) > 20
    assert all(c.source for c in catalog.commands.values())


def test_quectel_lte_is_told_from_quectel_gsm() -> None:
    lte = ('ATI\nQuectel\nBG96\nRevision: BG96MAR02A07M1G\nOK\n'
           'AT+QSSLCFG="sslversion",1,3\nOK\nAT+QSSLOPEN=1,1,0,"example.com",443,0\nOK\n')
    assert diagnose(lte).dialect == "quectel-lte"
    gsm = 'AT+QSSLCFG="sslversion",0,3\nOK\nAT+QSSLOPEN=0,0,"example.com",443,0\nOK\n'
    assert diagnose(gsm).dialect == "quectel-gsm"
    assert registry.get("bg96").name == "quectel-lte"


def test_quectel_lte_context_traps() -> None:
    wrong = ('AT+QSSLCFG="seclevel",0,1\nOK\nAT+QSSLCFG="cacert",0,"ca.pem"\nOK\n'
             'AT+QHTTPURL=23,60\nCONNECT\nhttps://example.com/abc\nOK\nAT+QHTTPGET=60\nOK\n'
             '+QHTTPGET: 701\n')
    report = diagnose(wrong, "quectel-lte")
    found = [f for f in report.findings if f.code == "tls-wrong-context"]
    assert found and "context 1" in found[0].message and "[0]" in found[0].message
    handshake = [f for f in report.findings if f.code == "tls-handshake-failed"]
    assert handshake and handshake[0].symptom
    off = 'AT+QSSLCFG="seclevel",1,0\nOK\nAT+QSSLOPEN=1,1,0,"example.com",443,0\nOK\n'
    assert _find(off, "tls-verify-off", "quectel-lte") == [1]
    missing = ('AT+QFUPL="root.pem",1200,10\nCONNECT\n+QFUPL: 1200,5769\nOK\n'
               'AT+QSSLCFG="cacert",1,"other.pem"\nOK\nAT+QSSLCFG="seclevel",1,1\nOK\n'
               'AT+QSSLOPEN=1,1,0,"example.com",443,0\nOK\n+QSSLOPEN: 0,566\n')
    assert _find(missing, "tls-cert-not-found", "quectel-lte") == [5]
    one_suite = ('AT+QSSLCFG="ciphersuite",1,0XC02F\nOK\n'
                 'AT+QSSLOPEN=1,1,0,"example.com",443,0\nOK\n+QSSLOPEN: 0,-1\n')
    mismatch = [f for f in diagnose(one_suite, "quectel-lte").findings
                if f.code == "tls-cipher-mismatch"]
    assert mismatch and "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in mismatch[0].message


def test_quectel_lte_codes_and_gsm_command() -> None:
    assert _find('AT+QIOPEN=1,0,"TCP","nohost.invalid",80\nOK\n+QIOPEN: 0,565\n',
                 "dns-failed", "quectel-lte") == [3]
    assert _find('AT+QSECWRITE="RAM:ca.pem",1200,100\nERROR\n', "quectel-lte-gsm-command",
                 "quectel-lte") == [1]
    corrected = ('AT+QSSLCFG="ciphersuite",2,"0XFFFF"\nERROR\n'
                 'AT+QSSLCFG="ciphersuite",2,0XFFFF\nOK\n')
    found = [f for f in diagnose(corrected, "quectel-lte").findings
             if f.code == "quectel-lte-quoted-hex"]
    assert found and found[0].severity == "info" and "line 3" in found[0].message


def test_simcom_conversion_and_results() -> None:
    log = ('AT+CFSINIT\nOK\nAT+CFSWFILE=3,"ca.pem",0,1200,10000\nDOWNLOAD\nOK\nAT+CFSTERM\nOK\n'
           'AT+SHSSL=1,"ca.pem"\nOK\nAT+SHCONN\nERROR\n')
    assert _find(log, "simcom-not-converted", "simcom") == [8]
    assert _find('AT+CAOPEN=0,0,"TCP","example.com",443\n+CAOPEN: 0,24\nOK\n',
                 "tls-cert-date", "simcom") == [2]
    assert _find('AT+CSSLCFG="authmode",0,0\nOK\n', "tls-verify-off", "simcom") == [1]
    sni = ('AT+CSSLCFG="sslversion",0,3\nOK\nAT+HTTPPARA="URL","https://example.com"\nOK\n'
           'AT+HTTPACTION=0\nOK\n+HTTPACTION: 0,715,0\n')
    report = diagnose(sni, "simcom")
    assert [f.confidence for f in report.findings if f.code == "tls-no-sni"] == ["medium"]


def test_ublox_profiles() -> None:
    r4 = ('ATI\nManufacturer: u-blox\nModel: SARA-R410M-02B\nOK\n'
          'AT+USECPRF=0,2,100,"C0","2F",0\nERROR\n')
    assert _find(r4, "ublox-cipher-form") == [5]
    plain = 'AT+USOCR=6\n+USOCR: 0\nOK\nAT+USOCO=0,"example.com",443\nERROR\n'
    assert _find(plain, "ublox-tls-not-enabled", "ublox") == [4]
    ca = ('AT+USECMNG=0,0,"myca",1188\n>\n+USECMNG: 0,0,"myca","0123456789abcdef0123456789abcdef"'
          '\nOK\nAT+USECPRF=0,3,"MyCA"\nOK\n')
    assert _find(ca, "tls-cert-not-found", "ublox") == [5]
    legacy = [f for f in diagnose('AT+USECPRF=0,2,32\nOK\n', "ublox").findings
              if f.code == "ublox-cipher-legacy"]
    assert legacy and "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" in legacy[0].message


def test_quectel_lte_uploads_sockets_and_case() -> None:
    log = 'AT+QFUPL="ca.pem",1208,5\nCONNECT\n+QFUPL: 1024,5a3c\nOK\n'
    found = [f for f in diagnose(log, "quectel-lte").findings if f.code == "upload-mismatch"]
    assert found and found[0].line == 3 and "1208" in found[0].message
    assert _find('AT+QSSLOPEN=1,1,0,"example.com",443,0\nOK\n+QSSLOPEN: 0,563\n',
                 "socket-in-use", "quectel-lte") == [3]
    assert _find('AT+QSSLCFG="SSLVERSION",1,3\nERROR\n', "quectel-lte-item-case",
                 "quectel-lte") == [1]


def test_ublox_post_string_limit() -> None:
    long_body = "a=" + "x" * 130
    log = f'AT+UHTTPC=0,5,"/p","resp","{long_body}",6,"text/plain"\nOK\n'
    assert _find(log, "ublox-post-too-long", "ublox") == [1]


def test_ublox_socket_leak() -> None:
    log = ('AT+USOCR=6\n+USOCR: 0\nOK\nAT+USOCR=6\n+USOCR: 1\nOK\nAT+USOCL=1\nOK\n'
           'AT+USOCR=6\nERROR\n')
    found = [f for f in diagnose(log, "ublox").findings if f.code == "socket-in-use"]
    assert found and found[0].line == 9 and "[0]" in found[0].message
