"""The Quectel GSM virtual modem: commands, TLS limits and verification, faults."""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
import time
from pathlib import Path

import pytest
import trustme

from celltls.dialects.quectel_gsm.modem import QuectelGsmModem, file_checksum
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer
from tests.sim.helpers import GUARD, Host, ScriptedTLSServer, bring_up, server_context, upload


def test_checksum_known_vectors() -> None:
    """Worked by hand from the definition (catalog source QFORUM-23599; modem.file_checksum):
    XOR of 16-bit big-endian words, an odd last byte padded with 0x00, lower-case hex without
    leading zeros. Not computed with any code of celltls, so a misreading shared by the driver
    and the virtual modem cannot pass (issue 13)."""
    assert file_checksum(b"AB") == "4142"  # one word 0x4142
    assert file_checksum(b"ABC") == "242"  # 0x4142 ^ 0x4300 = 0x0242
    assert file_checksum(b"ABAB") == "0"  # a word XORed with itself
    assert file_checksum(b"\x12\x34\x00\x01") == "1235"  # 0x1234 ^ 0x0001
    assert file_checksum(b"\x01") == "100"  # 0x0100
    assert file_checksum(b"\xff\xff\x00\x0f\xf0") == "ff0"  # 0xffff ^ 0x000f ^ 0xf000
    assert file_checksum(b"") == "0"
    # "0123456789": words 3031 3233 3435 3637 3839 -> 0x3031^0x3233 = 0x0202, ^0x3435 = 0x3637,
    # ^0x3637 = 0x0000, ^0x3839 = 0x3839
    assert file_checksum(b"0123456789") == "3839"


def test_misspellings_of_the_note(host: Host) -> None:
    assert host.cmd("AT+QSSSEND=1") == ["ERROR"]
    assert host.cmd("AT+QSSLRCV=0,1,1500") == ["ERROR"]
    assert host.cmd('AT+QSSLCFG="secllevel",0,2') == ["ERROR"]
    assert host.cmd('AT+QSSLCFG="ignorevertime",1') == ["ERROR"]
    assert host.cmd('AT+QSSLCFG="ignorertctime",1') == ["OK"]
    assert host.cmd('AT+QSSLCFG="ignorertc"') == ['+QSSLCFG: "ignorertc",1', "OK"]


def test_qsslcfg_forms(host: Host) -> None:
    assert host.cmd("AT+QSSLCFG=?") == ['+QSSLCFG: "type",(0-5),"value"', "OK"]
    assert host.cmd('AT+QSSLCFG="sslversion",2,3') == ["OK"]
    assert host.cmd('AT+QSSLCFG="sslversion",2') == ['+QSSLCFG: "sslversion",3', "OK"]
    assert host.cmd('AT+QSSLCFG="sslversion",2,5') == ["ERROR"]
    assert host.cmd('AT+QSSLCFG="sslversion",6,1') == ["ERROR"]
    assert host.cmd('AT+QSSLCFG="ciphersuite",2,"0x0035"') == ["OK"]
    assert host.cmd('AT+QSSLCFG="ciphersuite",2,0X002F') == ["OK"]
    assert host.cmd('AT+QSSLCFG="ciphersuite",2,"0x1234"') == ["ERROR"]
    assert host.cmd('AT+QSSLCFG="ciphersuite",2') == ['+QSSLCFG: "ciphersuite",0X002F', "OK"]
    assert host.cmd('AT+QSSLCFG="seclevel",2,1') == ["OK"]
    assert host.cmd('AT+QSSLCFG="cacert",2,"NVRAM:CA0"') == ["OK"]
    assert host.cmd('AT+QSSLCFG="cacert",2,"NVRAM:XX1"') == ["ERROR"]
    assert host.cmd('AT+QSSLCFG="ctxindex",2') == [
        '+QSSLCFG: 2,3,1,0X002F,"NVRAM:CA0","",""',
        "OK",
    ]
    assert host.cmd('AT+QSSLCFG="https",1') == ["OK"]
    assert host.cmd('AT+QSSLCFG="httpsctxi"') == ['+QSSLCFG: "httpsctxi",-1', "OK"]
    assert host.cmd('AT+QSSLCFG="smtpstyle",2') == ["OK"]
    assert host.cmd('AT+QSSLCFG="smtpsctxi",6') == ["ERROR"]


def test_qsecwrite_limits_and_existing_file(host: Host) -> None:
    assert host.cmd("AT+CMEE=1") == ["OK"]
    assert host.cmd('AT+QSECWRITE="NVRAM:CA0",2018,100') == ["+CME ERROR: 50"]
    assert host.cmd('AT+QSECWRITE="NVRAM:XY0",10,100') == ["+CME ERROR: 50"]
    assert host.cmd('AT+QSECWRITE="RAM:a",32769,100') == ["+CME ERROR: 50"]
    assert host.cmd('AT+QSECWRITE="RAM:a",10,2') == ["+CME ERROR: 50"]
    assert upload(host, "RAM:a", b"0123456789") == "+QSECWRITE: 10,3839"  # worked above
    assert host.cmd('AT+QSECWRITE="RAM:a",10,100') == ["+CME ERROR: 3"]  # 2.2.7: delete first
    assert host.cmd('AT+QSECREAD="RAM:a"') == ["+QSECREAD: 1,3839", "OK"]
    host.server.modem.corrupt_file("RAM:a")
    assert host.cmd('AT+QSECREAD="RAM:a"')[0].startswith("+QSECREAD: 0,")
    assert host.cmd('AT+QSECDEL="RAM:a"') == ["OK"]
    assert host.cmd('AT+QSECDEL="RAM:a"') == ["+CME ERROR: 3"]
    assert host.cmd('AT+QSECREAD="RAM:a"') == ["+CME ERROR: 3"]


def test_qsecwrite_ended_by_escape(host: Host) -> None:
    assert host.cmd('AT+QSECWRITE="RAM:b",100,100') == ["CONNECT"]
    time.sleep(GUARD * 1.5)
    host.send(b"abc+++def")  # not guarded: data
    host.escape(GUARD)
    # words 6162 632b 2b2b 6465 66(00): 0x6162^0x632b = 0x0249, ^0x2b2b = 0x2962,
    # ^0x6465 = 0x4d07, ^0x6600 = 0x2b07
    assert host.read_line() == "+QSECWRITE: 9,2b07"
    assert host.read_line() == "OK"


def test_nvram_survives_reboot_ram_does_not(tmp_path: Path) -> None:
    path = tmp_path / "nvram.json"
    with VirtualModemServer("quectel-gsm", guard_time=GUARD, nvram_path=path) as server:
        h = Host(server)
        assert h.cmd("ATE0")[-1] == "OK"
        upload(h, "NVRAM:CA0", b"ca data")
        upload(h, "RAM:x.pem", b"ram data")
        server.modem.reboot()
        assert h.cmd("ATE0")[-1] == "OK"
        assert h.cmd('AT+QSECREAD="NVRAM:CA0"')[-1] == "OK"
        assert h.cmd('AT+QSECREAD="RAM:x.pem"') == ["ERROR"]
        h.close()
    again = QuectelGsmModem(nvram_path=path)
    assert again.file_data("NVRAM:CA0") == b"ca data"


def test_bring_up_shapes(host: Host) -> None:
    assert host.cmd("AT+QSSLOPEN=1,0,\"127.0.0.1\",443,0") == ["ERROR"]  # no PDP context
    assert host.cmd("AT+QIACT") == ["ERROR"]  # AT+QIREGAPP first
    bring_up(host)
    assert host.cmd("AT+QSSLSTATE") == ['+QSSLSTATE: "IP STATUS"', "OK"]
    assert host.cmd("AT+QIDEACT") == ["DEACT OK"]
    assert host.cmd("AT+QSSLSTATE") == ['+QSSLSTATE: "IP INITIAL"', "OK"]


def _open(host: Host, port: int, ssid: int = 1, ctx: int = 0, mode: int = 0) -> str:
    assert host.cmd(f'AT+QSSLOPEN={ssid},{ctx},"127.0.0.1",{port},{mode},20') == ["OK"]
    return host.read_line(timeout=10)


def test_recv_urc_only_into_empty_buffer_and_send_faults(pki: PKI, host: Host) -> None:
    bring_up(host)
    with ScriptedTLSServer(server_context(pki), echo=True) as server:
        assert _open(host, server.port) == "+QSSLOPEN: 1,0"
        host.send(b"AT+QSSLSEND=1,3\r")
        host.read_until(b"> ")
        host.send(b"abc")
        assert host.read_line() == "SEND OK"
        assert host.read_line() == '+QSSLURC: "recv",0,1'
        host.send(b"AT+QSSLSEND=1,3\r")
        host.read_until(b"> ")
        host.send(b"def")
        assert host.read_line() == "SEND OK"
        time.sleep(0.3)
        assert host.drain() == b""  # buffer not empty: no second URC (2.2.10.1)
        host.send(b"AT+QSSLRECV=0,1,4\r")
        assert host.read_line() == f"+QSSLRECV: 127.0.0.1:{server.port},TCP,4"
        assert host.read_exact(4) == b"abcd"
        assert host.read_line() == "OK"
        host.send(b"AT+QSSLRECV=0,1,1500\r")
        assert host.read_line().endswith(",TCP,2")
        assert host.read_exact(2) == b"ef"
        assert host.read_line() == "OK"
        assert host.cmd("AT+QSSLRECV=0,1,1500") == ["OK"]  # empty buffer
        host.server.modem.fault_fail_next_send()
        host.send(b"AT+QSSLSEND=1,1\r")
        host.read_until(b"> ")
        host.send(b"x")
        assert host.read_line() == "SEND FAIL"
        assert _open(host, server.port) == "+QSSLOPEN: 1,-2"
        host.server.modem.fault_server_close(1)
        assert host.read_line() == '+QSSLURC: "closed",1'
        assert host.cmd("AT+QSSLSEND=1,1") == ["ERROR"]
        assert host.cmd("AT+QSSLRECV=0,1,10") == ["OK"]
        assert host.cmd("AT+QSSLCLOSE=1") == ["CLOSE OK"]
        assert host.cmd("AT+QSSLCLOSE=1") == ["ERROR"]


def test_transparent_server_close_leaves_data_mode(pki: PKI, host: Host) -> None:
    bring_up(host)
    context = server_context(pki)
    with ScriptedTLSServer(context, [(4, b"pong")], close_after=True) as server:
        assert _open(host, server.port, mode=1) == "CONNECT"
        host.send(b"ping")
        assert host.read_exact(4) == b"pong"
        assert host.read_line() == "CLOSED"
        assert host.cmd("AT") == ["OK"]
        assert host.cmd("ATO") == ["ERROR"]


@pytest.fixture
def secured(pki: PKI, host: Host) -> Host:
    bring_up(host)
    upload(host, "RAM:ca.pem", pki.ca_pem)
    client = pki.client("module-7")
    upload(host, "RAM:cc.pem", client.cert_pem)
    upload(host, "RAM:ck.pem", client.key_pem)
    for line in ('"cacert",0,"RAM:ca.pem"', '"clientcert",0,"RAM:cc.pem"',
                 '"clientkey",0,"RAM:ck.pem"'):
        assert host.cmd(f"AT+QSSLCFG={line}") == ["OK"]
    return host


def _https_get(host: Host, path: bytes) -> bytes:
    request = b"GET " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    host.send(b"AT+QSSLSEND=1,%d\r" % len(request))
    host.read_until(b"> ")
    host.send(request)
    assert host.read_line() == "SEND OK"
    assert host.read_line(timeout=10) == '+QSSLURC: "recv",0,1'
    body = b""
    closed = False
    while True:
        host.send(b"AT+QSSLRECV=0,1,1500\r")
        line = host.read_line()
        while line.startswith("+QSSLURC:"):  # the server closes after answering
            closed = closed or '"closed"' in line
            line = host.read_line()
        if line == "OK":
            if closed:
                break
            urc = host.read_line(timeout=10)  # wait for more data or the close
            closed = '"closed"' in urc
            continue
        n = int(line.rsplit(",", 1)[1])
        body += host.read_exact(n)
        assert host.read_line() == "OK"
    return body


def test_seclevel_0_1_2(pki: PKI, secured: Host) -> None:
    host = secured
    modem = host.server.modem
    with LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem,
                          client_ca_pem=pki.ca_pem) as web:
        for level, code in ((0, -1), (1, -1), (2, 0)):
            # the server requires a client certificate: only seclevel 2 presents one
            assert host.cmd(f'AT+QSSLCFG="seclevel",0,{level}') == ["OK"]
            assert _open(host, web.port) == f"+QSSLOPEN: 1,{code}"
        response = _https_get(host, b"/client-cert")
        assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"module-7")
        assert host.cmd("AT+QSSLCLOSE=1") == ["CLOSE OK"]
    with LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem) as web:
        for level in (0, 1):
            assert host.cmd(f'AT+QSSLCFG="seclevel",0,{level}') == ["OK"]
            assert _open(host, web.port) == "+QSSLOPEN: 1,0"
            data = _https_get(host, b"/bytes/3000?seed=5")
            assert hashlib.sha256(data[-3000:]).digest() == hashlib.sha256(
                deterministic_bytes(3000, 5)).digest()
            assert host.cmd("AT+QSSLCLOSE=1") == ["CLOSE OK"]
        assert modem.last_tls_error is None


def test_wrong_ca_and_missing_ca(pki: PKI, host: Host) -> None:
    bring_up(host)
    other = make_pki()
    upload(host, "RAM:other.pem", other.ca_pem)
    modem = host.server.modem
    assert host.cmd('AT+QSSLCFG="seclevel",0,1') == ["OK"]
    with LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem) as web:
        assert _open(host, web.port) == "+QSSLOPEN: 1,-1"
        assert modem.last_tls_error is not None and modem.last_tls_error.startswith("no CA")
        assert host.cmd('AT+QSSLCFG="cacert",0,"RAM:other.pem"') == ["OK"]
        assert _open(host, web.port) == "+QSSLOPEN: 1,-1"
        assert modem.last_tls_error.startswith("verify failed")


def test_ecdhe_only_and_tls13_only_servers_are_unreachable(pki: PKI, host: Host) -> None:
    bring_up(host)
    modem = host.server.modem
    ecdhe = server_context(pki, ciphers="ECDHE+AESGCM", maximum=ssl.TLSVersion.TLSv1_2)
    with ScriptedTLSServer(ecdhe) as server:
        assert _open(host, server.port) == "+QSSLOPEN: 1,-1"
        assert modem.last_tls_error is not None
        assert modem.last_tls_error.startswith("handshake failed")
        assert "HANDSHAKE_FAILURE" in modem.last_tls_error.upper().replace(" ", "_")
    tls13 = server_context(pki, minimum=ssl.TLSVersion.TLSv1_3)
    with ScriptedTLSServer(tls13) as server:
        assert _open(host, server.port) == "+QSSLOPEN: 1,-1"
        assert modem.last_tls_error is not None
        assert modem.last_tls_error.startswith("handshake failed")


def test_certificate_dates_against_the_modem_clock(pki: PKI, host: Host) -> None:
    bring_up(host)
    upload(host, "RAM:ca.pem", pki.ca_pem)
    assert host.cmd('AT+QSSLCFG="cacert",0,"RAM:ca.pem"') == ["OK"]
    assert host.cmd('AT+QSSLCFG="seclevel",0,1') == ["OK"]
    modem = host.server.modem
    now = dt.datetime.now(dt.UTC)
    leaf = pki.ca.issue_cert(
        "127.0.0.1", not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=1),
        key_type=trustme.KeyType.RSA,
    )
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    with LocalHTTPSServer(chain, leaf.private_key_pem.bytes()) as web:
        modem.set_clock(now + dt.timedelta(days=3))  # after the server certificate's notAfter
        assert _open(host, web.port) == "+QSSLOPEN: 1,-1"
        assert modem.last_tls_error is not None and "expired" in modem.last_tls_error
        assert host.cmd('AT+QSSLCFG="ignorertc",1') == ["OK"]
        assert _open(host, web.port) == "+QSSLOPEN: 1,0"
        assert host.cmd("AT+QSSLCLOSE=1") == ["CLOSE OK"]
        assert host.cmd('AT+QSSLCFG="ignorertc",0') == ["OK"]
        assert host.cmd('AT+CCLK="00/01/01,00:00:00+00"') == ["OK"]  # before notBefore
        assert _open(host, web.port) == "+QSSLOPEN: 1,-1"
        assert "not yet valid" in (modem.last_tls_error or "")


def test_dropped_suites_are_recorded() -> None:
    modem = QuectelGsmModem()
    # OpenSSL 3 has no RC4; whatever is missing on this host is recorded, never offered
    assert 0x0004 in modem.dropped_suites and 0x0005 in modem.dropped_suites
    assert 0x0035 not in modem.dropped_suites


def test_local_https_server_routes(pki: PKI) -> None:
    import http.client

    context = ssl.create_default_context(cadata=pki.ca_pem.decode())
    with LocalHTTPSServer(pki.server_chain_pem, pki.server_key_pem) as web:
        conn = http.client.HTTPSConnection("127.0.0.1", web.port, context=context, timeout=5)
        conn.request("GET", "/chunked/2500?seed=1")
        resp = conn.getresponse()
        assert resp.getheader("Transfer-Encoding") == "chunked"
        assert resp.read() == deterministic_bytes(2500, 1)
        conn.request("POST", "/echo", body=b"hi", headers={"Content-Type": "text/x-test"})
        resp = conn.getresponse()
        assert resp.read() == b"hi" and resp.getheader("X-Received-Length") == "2"
        assert resp.getheader("Content-Type") == "text/x-test"
        conn.request("DELETE", "/thing")
        resp = conn.getresponse()
        assert resp.status == 204
        resp.read()
        conn.request("HEAD", "/bytes/10")
        resp = conn.getresponse()
        assert resp.getheader("Content-Length") == "10" and resp.read() == b""
        conn.request("GET", "/status/418")
        resp = conn.getresponse()
        assert resp.status == 418
        resp.read()
        conn.request("GET", "/headers", headers={"X-A": "1"})
        assert b'"X-A": "1"' in conn.getresponse().read()
        conn.request("GET", "/nope")
        resp = conn.getresponse()
        assert resp.status == 404
        conn.close()
