"""The virtual Sequans modem's sockets and TLS beyond the basics (SQN-REF §3, §5, §6, §9).

Online mode and its escape, the Ctrl-Z send, srMode 2 with hex data, a PDP context lost, a
reboot with a socket open, mutual TLS, validity dates against the modem's clock, and the modem
served through the registry as `celltls sim sequans` does.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from celltls.dialects.sequans.modem import SequansModem
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from tests.sequans.test_sequans_modem import (  # fixtures are re-exported "as" themselves
    Line,
    http_setup,
    new_modem,
    register,
    secure_socket,
    upload,
)
from tests.sequans.test_sequans_modem import https as https
from tests.sequans.test_sequans_modem import line as line
from tests.sequans.test_sequans_modem import modem as modem
from tests.sequans.test_sequans_modem import pki as pki

GET = b"GET /bytes/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def test_online_mode_escape_and_resume(line: Line, pki: PKI, https: LocalHTTPSServer) -> None:
    """S12: connMode 0 answers CONNECT and carries data both ways; +++ suspends with OK;
    AT+SQNSS shows it suspended (S4 state 2); AT+SQNSO resumes with CONNECT."""
    upload(line, pki.ca_pem)
    register(line)
    assert line.cmd('AT+SQNSPCFG=1,2,"",5,19')[-1] == "OK"
    assert line.cmd("AT+SQNSSCFG=1,1,1") == ["OK"]
    assert line.cmd(f'AT+SQNSD=1,0,{https.port},"127.0.0.1",0,0,0') == ["CONNECT"]
    line.send(GET % 100)
    line.read_until(deterministic_bytes(100))
    time.sleep(0.25)
    line.send(b"+++")
    assert line.read_until(b"OK\r\n", 3) == b"\r\nOK\r\n"
    assert line.cmd("AT+SQNSS=1")[0].startswith('+SQNSS: 1,2,"')
    line.send(b"AT+SQNSO=1\r")
    assert line.read_until(b"CONNECT\r\n") == b"\r\nCONNECT\r\n"
    line.send(GET % 50)
    line.read_until(deterministic_bytes(50))


def test_ctrl_z_send_srmode2_hex(line: Line, pki: PKI, https: LocalHTTPSServer) -> None:
    """S11: AT+SQNSSEND takes data up to Ctrl-Z; srMode 2 with recvDataMode 1 puts the data,
    in hex, in +SQNSRING: <id>,<bytes>,<data> (S4)."""
    upload(line, pki.ca_pem)
    register(line)
    assert secure_socket(line, https.port, 5) == ["OK"]
    assert line.cmd("AT+SQNSCFGEXT=1,2,1,0") == ["OK"]
    line.send(b"AT+SQNSSEND=1\r")
    assert line.read_exact(4) == b"\r\n> "
    line.send(GET % 8 + b"\x1a")
    assert line.read_until(b"OK\r\n") == b"\r\nOK\r\n"
    text = ""
    while deterministic_bytes(8).hex().upper() not in text:
        ring, _ = line.wait_line("+SQNSRING: 1,")
        _id, count, data = ring.split(": ", 1)[1].split(",", 2)
        assert len(bytes.fromhex(data)) == int(count)
        text += data
    assert line.cmd("AT+SQNSI=1")[0].endswith(",0,0")  # nothing left in the buffer


def test_pdp_lost_and_reboot_close_sockets(line: Line, modem: SequansModem, pki: PKI,
                                           https: LocalHTTPSServer) -> None:
    """§6: +SQNSH when the network closes; §3: a reboot loses every socket, +SYSSTART."""
    upload(line, pki.ca_pem)
    register(line)
    assert secure_socket(line, https.port, 1) == ["OK"]
    modem.fault_deactivate_pdp()
    assert line.read_line() == "+SQNSH: 1"
    assert line.cmd("AT+SQNSS=1")[0] == '+SQNSS: 1,0,"",0,"",0'
    assert secure_socket(line, https.port, 1) == ["OK"]
    modem.reboot()
    assert line.read_until(b"+SYSSTART\r\n") == b"\r\n+SYSSTART\r\n"
    line.send(b"ATE0\r")
    line.read_until(b"OK\r\n")
    assert line.cmd("AT+SQNSS=1")[0] == '+SQNSS: 1,0,"",0,"",0'
    assert line.cmd("AT+CMEE=1") == ["OK"]
    # CFUN 0 after the boot: no network, a socket cannot open (27.007 30)
    assert line.cmd(f'AT+SQNSD=1,0,{https.port},"127.0.0.1",0,0,1') == ["+CME ERROR: 30"]


def test_send_checks(line: Line) -> None:
    """§6: at most 1500 bytes per AT+SQNSSENDEXT (S7, S8); connId 1-6."""
    assert line.cmd("AT+CMEE=1") == ["OK"]
    assert line.cmd("AT+SQNSSENDEXT=1,1501") == ["+CME ERROR: 50"]
    assert line.cmd("AT+SQNSSENDEXT=7,10") == ["+CME ERROR: 50"]
    assert line.cmd("AT+SQNSSENDEXT=1,10") == ["+CME ERROR: 3"]  # not connected


@pytest.fixture(scope="module")
def mutual(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem,
                          client_ca_pem=pki.ca_pem) as s:
        yield s


def test_mutual_tls_client_cert_from_nv(line: Line, pki: PKI,
                                        mutual: LocalHTTPSServer) -> None:
    """§5/§9: clientCertificateID and clientPrivateKeyID name NV slots (S2)."""
    client = pki.client("monarch-device")
    upload(line, pki.ca_pem)
    upload(line, client.cert_pem, 11)
    upload(line, client.key_pem, 12, "privatekey")
    register(line)
    assert line.cmd('AT+SQNSPCFG=1,2,"",5,19,11,12')[0] == (
        '+SQNSPCFG: 1,2,"",5,19,11,12,0,0,0')
    assert line.cmd(f'AT+SQNHTTPCFG=1,"localhost",{mutual.port},0,"","",1,120,1,1') == ["OK"]
    assert line.cmd('AT+SQNHTTPQRY=1,0,"/client-cert"') == ["OK"]
    ring, _ = line.wait_line("+SQNHTTPRING:")
    assert ring == '+SQNHTTPRING: 1,200,"text/plain",14'
    line.send(b"AT+SQNHTTPRCV=1\r")
    assert line.read_until(b"OK\r\n") == b"\r\n<<<monarch-device\r\nOK\r\n"


def test_validity_dates_against_modem_clock(pki: PKI, https: LocalHTTPSServer) -> None:
    """§5 bit 0 checks the validity period; §9: against the module's clock, here unset
    (§3: it reads 70/01/01; pitfall 4)."""
    modem = new_modem(clock=dt.datetime(1970, 1, 1, 0, 7, 30, tzinfo=dt.UTC))
    try:
        h = Line(modem)
        h.cmd("ATE0")
        upload(h, pki.ca_pem)
        register(h)
        http_setup(h, https.port, level=1)
        h.cmd("AT+SQNHTTPCONNECT=1")
        assert h.wait_line("+SQNHTTPCONNECT:")[0] == "+SQNHTTPCONNECT: 1,60"
        assert "not yet valid" in modem.errors[-1]
        http_setup(h, https.port, level=0)  # no validation: the dates are not checked
        h.cmd("AT+SQNHTTPCONNECT=1")
        assert h.wait_line("+SQNHTTPCONNECT:")[0] == "+SQNHTTPCONNECT: 1,0"
    finally:
        modem.shutdown()


def test_served_through_the_registry() -> None:
    """`celltls sim sequans`: the manifest's virtual modem on a TCP port, model chosen."""
    with VirtualModemServer("sequans", model="gm01q", guard_time=0.15) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
            conn.sendall(b"ATE0\rATI\r")
            got = b""
            while got.count(b"OK\r\n") < 2:
                got += conn.recv(4096)
        assert got.endswith(b"\r\nSEQUANS Communications\r\nGM01Q\r\nLR5.1.1.0-32741\r\n"
                            b"\r\nOK\r\n")


def test_crash_exit_line_then_sysstart(line: Line, modem: SequansModem) -> None:
    """SQN-REF §2, L3 (pitfall 16): ^EXIT, then the module restarts and says +SYSSTART."""
    register(line)
    modem.fault_crash()
    assert line.read_until(b"+SYSSTART\r\n") == (
        b"\r\n^EXIT: exception: 7 ITYPE: 0x6600e4 PC: 0x1c4063a2 EVA: 0x04fffffd\r\n"
        b"\r\n+SYSSTART\r\n")
    line.send(b"ATE0\r")
    line.read_until(b"OK\r\n")
    assert line.cmd("AT+CSQ") == ["+CSQ: 99,99", "OK"]  # L3: right after the reboot


def test_unset_clock_fails_dates_until_ntp(pki: PKI, https: LocalHTTPSServer) -> None:
    """SQN-REF §3: an unset clock reads 70/01/01 (S2, S6); bit 0 then fails on the dates
    (pitfall 4) until AT+SQNNTP sets it (+SQNNTP: 0, S6)."""
    modem = new_modem(unset_clock=True)
    try:
        h = Line(modem)
        h.cmd("ATE0")
        assert h.cmd("AT+CCLK?")[0].startswith('+CCLK: "70/01/01,00:0')
        upload(h, pki.ca_pem)
        register(h)
        http_setup(h, https.port, level=5)
        h.cmd("AT+SQNHTTPCONNECT=1")
        assert h.wait_line("+SQNHTTPCONNECT:")[0] == "+SQNHTTPCONNECT: 1,60"
        assert h.read_line() == "+SQNHTTPSH: 1,60"
        assert h.cmd('AT+SQNNTP=2,"pool.ntp.org",1') == ["OK"]
        assert h.read_line() == "+SQNNTP: 0"
        assert not h.cmd("AT+CCLK?")[0].startswith('+CCLK: "70/')
        h.cmd("AT+SQNHTTPCONNECT=1")
        assert h.wait_line("+SQNHTTPCONNECT:")[0] == "+SQNHTTPCONNECT: 1,0"
    finally:
        modem.shutdown()


def test_shutdown_until_reset(line: Line, modem: SequansModem) -> None:
    """SQN-REF §3 (S2, S8): AT+SQNSSHDN -> OK, +SHUTDOWN; only RESETN restarts it."""
    line.send(b"AT+SQNSSHDN\r")
    assert line.read_until(b"+SHUTDOWN\r\n") == b"\r\nOK\r\n\r\n+SHUTDOWN\r\n"
    line.send(b"AT\r")
    assert line.quiet(0.2) == b""
    modem.reboot()
    assert line.read_until(b"+SYSSTART\r\n") == b"\r\n+SYSSTART\r\n"


@pytest.fixture(scope="module")
def gcm_only(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem,
                          ciphers="ECDHE-RSA-AES128-GCM-SHA256",
                          maximum_version=ssl.TLSVersion.TLSv1_2) as s:
        yield s


@pytest.fixture(scope="module")
def tls13_only(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem,
                          minimum_version=ssl.TLSVersion.TLSv1_3) as s:
        yield s


@pytest.mark.parametrize(("model", "spec", "expected"), [
    ("GM02S", "", "+SQNHTTPCONNECT: 1,0"),        # S6: the GM02S offers ECDHE-GCM
    ("GM01Q", "", "+SQNHTTPCONNECT: 1,35"),       # S2's list has no ECDHE-GCM
    ("GM02S", "0x002F;0x0035", "+SQNHTTPCONNECT: 1,35"),  # the profile's list only
    ("GM02S", "0xCCA8", "+SQNHTTPCONNECT: 1,59"),  # no suite of the list is the module's
])
def test_cipher_suites_limited(model: str, spec: str, expected: str, pki: PKI,
                               gcm_only: LocalHTTPSServer) -> None:
    """§9: the module offers its own suites, narrowed by <cipherSpecs> (§5)."""
    modem = new_modem(model=model)
    try:
        h = Line(modem)
        h.cmd("ATE0")
        upload(h, pki.ca_pem)
        register(h)
        assert h.cmd(f'AT+SQNSPCFG=1,2,"{spec}",5,19')[-1] == "OK"
        assert h.cmd(f'AT+SQNHTTPCFG=1,"localhost",{gcm_only.port},0,"","",1,120,1,1'
                     ) == ["OK"]
        h.cmd("AT+SQNHTTPCONNECT=1")
        assert h.wait_line("+SQNHTTPCONNECT:")[0] == expected
    finally:
        modem.shutdown()


def test_tls_versions(line: Line, pki: PKI, https: LocalHTTPSServer,
                      tls13_only: LocalHTTPSServer) -> None:
    """§5 <version> is the one version offered; TLS 1.3 is not simulated (§9: no log shows
    a TLS 1.3 handshake), so a TLS 1.3-only server is out of reach."""
    upload(line, pki.ca_pem)
    register(line)
    for version, port, rc in ((1, https.port, 35), (2, tls13_only.port, 35),
                              (3, https.port, 35), (2, https.port, 0)):
        assert line.cmd(f'AT+SQNSPCFG=1,{version},"",5,19')[-1] == "OK"
        assert line.cmd(f'AT+SQNHTTPCFG=1,"localhost",{port},0,"","",1,120,1,1') == ["OK"]
        line.cmd("AT+SQNHTTPCONNECT=1")
        assert line.wait_line("+SQNHTTPCONNECT:")[0] == f"+SQNHTTPCONNECT: 1,{rc}"
        if rc:
            assert line.read_line() == f"+SQNHTTPSH: 1,{rc}"


class _Plain(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b"plain " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def plain() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Plain)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_plain_tcp_and_http(line: Line, plain: int) -> None:
    """§6: AT+SQNSSCFG=<id>,0 is a plain TCP socket; §7: <ssl_enabled> 0 is plain HTTP."""
    register(line)
    assert line.cmd("AT+SQNSSCFG=2,0,1") == ["OK"]
    assert line.cmd(f'AT+SQNSD=2,0,{plain},"127.0.0.1",0,0,1') == ["OK"]
    request = b"GET /tcp HTTP/1.1\r\nHost: x\r\n\r\n"
    line.send(f"AT+SQNSSENDEXT=2,{len(request)}\r".encode())
    line.read_exact(4)
    line.send(request)
    assert line.read_until(b"OK\r\n") == b"\r\nOK\r\n"
    assert line.read_line() == "+SQNSRING: 2"  # srMode 0 by default: no count (S4)
    data = b""
    while not data.endswith(b"\r\n\r\nplain /tcp"):  # the server may write in two parts
        if data:
            assert line.read_line() == "+SQNSRING: 2"  # re-armed by the read
        line.send(b"AT+SQNSRECV=2,1500\r")
        assert line.read_exact(2) == b"\r\n"
        n = int(line.read_until(b"\r\n", 5).split(b",")[1])
        data += line.read_exact(n)
        assert line.read_exact(8) == b"\r\n\r\nOK\r\n"
    assert line.cmd("AT+SQNSH=2") == ["OK"]
    assert line.cmd(f'AT+SQNHTTPCFG=0,"127.0.0.1",{plain},0,"","",0') == ["OK"]
    assert line.cmd('AT+SQNHTTPQRY=0,0,"/native"') == ["OK"]
    assert line.wait_line("+SQNHTTPRING:")[0] == '+SQNHTTPRING: 0,200,"text/plain",13'
    line.send(b"AT+SQNHTTPRCV=0\r")
    assert line.read_until(b"OK\r\n") == b"\r\n<<<plain /native\r\nOK\r\n"


@pytest.mark.parametrize("level", ["4", "2", "10", "0x41"])
def test_invalid_levels_refused_at_connect(level: str, line: Line, pki: PKI,
                                           https: LocalHTTPSServer) -> None:
    """SQN-FORUM / §5: bit 2 without bit 0, bit 1, bits 3-7: taken with OK, then 77."""
    upload(line, pki.ca_pem)
    register(line)
    assert line.cmd(f'AT+SQNSPCFG=1,2,"",{level},19')[-1] == "OK"
    assert line.cmd(f'AT+SQNHTTPCFG=1,"localhost",{https.port},0,"","",1,120,1,1') == ["OK"]
    line.cmd("AT+SQNHTTPCONNECT=1")
    assert line.wait_line("+SQNHTTPCONNECT:")[0] == "+SQNHTTPCONNECT: 1,77"
    assert line.read_line() == "+SQNHTTPSH: 1,77"
