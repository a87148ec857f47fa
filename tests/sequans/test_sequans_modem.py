"""The virtual Sequans Monarch modem against shared/reference/sequans.md (SQN-REF) and seed 002.

Each test names the section or log (S#/L# of SQN-REF) its response shapes follow. The host side
writes bytes straight into the modem (no driver); the peers are real TLS servers on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from celltls.dialects.sequans.modem import SequansModem, factory
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.trace import read_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sequans"
FINALS = ("OK", "ERROR", "NO CARRIER", "CONNECT")


class Line:
    """The host end of the serial line, fed straight into the modem."""

    def __init__(self, modem: SequansModem) -> None:
        self.modem = modem
        self.buf = bytearray()
        self.cond = threading.Condition()
        modem.attach_sink(self._sink)

    def _sink(self, data: bytes) -> None:
        with self.cond:
            self.buf += data
            self.cond.notify_all()

    def send(self, data: bytes) -> None:
        self.modem.feed(data)

    def read_until(self, pattern: bytes, timeout: float = 10.0) -> bytes:
        deadline = time.monotonic() + timeout
        with self.cond:
            while pattern not in self.buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {pattern!r} in {bytes(self.buf[-300:])!r}")
                self.cond.wait(left)
            end = self.buf.index(pattern) + len(pattern)
            out = bytes(self.buf[:end])
            del self.buf[:end]
            return out

    def read_exact(self, n: int, timeout: float = 10.0) -> bytes:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.buf) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self.buf)} of {n} bytes: {bytes(self.buf)!r}")
                self.cond.wait(left)
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out

    def read_line(self, timeout: float = 10.0) -> str:
        while True:
            line = self.read_until(b"\r\n", timeout)[:-2]
            if line:
                return line.decode("latin-1")

    def wait_line(self, prefix: str, timeout: float = 10.0) -> tuple[str, list[str]]:
        before: list[str] = []
        while True:
            line = self.read_line(timeout)
            if line.startswith(prefix):
                return line, before
            before.append(line)

    def cmd(self, line: str, timeout: float = 10.0) -> list[str]:
        self.send(line.encode("latin-1") + b"\r")
        lines: list[str] = []
        while True:
            text = self.read_line(timeout)
            lines.append(text)
            if text in FINALS or text.startswith("+CME ERROR"):
                return lines

    def quiet(self, wait: float = 0.2) -> bytes:
        time.sleep(wait)
        with self.cond:
            out = bytes(self.buf)
            self.buf.clear()
            return out


def new_modem(**options: object) -> SequansModem:
    options = {"guard_time": 0.15, "registration_delay": 0.01, "boot_time": 0.01, **options}
    return factory(**options)


@pytest.fixture
def modem() -> Iterator[SequansModem]:
    m = new_modem()
    yield m
    m.shutdown()


@pytest.fixture
def line(modem: SequansModem) -> Line:
    h = Line(modem)
    assert h.cmd("ATE0")[-1] == "OK"
    h.quiet(0.01)
    return h


def register(line: Line) -> None:
    """AT+CFUN=1 and wait for registration (SQN-REF §3; the seed's +CEREG: 5)."""
    assert line.cmd("AT+CEREG=1") == ["OK"]
    assert line.cmd("AT+CFUN=1") == ["OK"]
    line.wait_line("+CEREG: 5")


def upload(line: Line, data: bytes, index: int = 19, kind: str = "certificate") -> bytes:
    """AT+SQNSNVW: the bytes after the command up to the prompt, then the final result."""
    line.send(f'AT+SQNSNVW="{kind}",{index},{len(data)}\r'.encode())
    prompt = line.read_exact(4)
    line.send(data)
    return prompt + line.read_until(b"\r\n", 5) + line.read_until(b"\r\n", 5)


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki(("127.0.0.1", "localhost"), key_type="rsa")


@pytest.fixture(scope="module")
def https(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as s:
        yield s


@pytest.fixture(scope="module")
def wrong_host(pki: PKI) -> Iterator[LocalHTTPSServer]:
    """A server whose certificate, from the right CA, names another host."""
    leaf = pki.ca.issue_cert("wrong.example")
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    with LocalHTTPSServer(cert_chain_pem=chain, key_pem=leaf.private_key_pem.bytes()) as s:
        yield s


# -- identification and bring-up (SQN-REF §2, §3) -----------------------------------------------

def test_ati_three_lines_l10(line: Line) -> None:
    """L10: ATI -> SEQUANS Communications / model / firmware, then OK, CR LF framed (§2)."""
    line.send(b"ATI\r")
    assert line.read_until(b"OK\r\n") == (
        b"\r\nSEQUANS Communications\r\nGM02S\r\nUE8.2.1.0\r\n\r\nOK\r\n")
    assert line.cmd("AT+CGMR") == ["UE8.2.1.0", "OK"]
    assert line.cmd("AT+CGMM") == ["GM02S", "OK"]


def test_monarch1_model() -> None:
    m = new_modem(model="gm01q")
    try:
        h = Line(m)
        assert h.cmd("AT+CGMM")[-2:] == ["GM01Q", "OK"]
    finally:
        m.shutdown()


def test_boot_in_cfun0_then_seed_registration_lines(line: Line) -> None:
    """Seed 002: after +SYSSTART, AT+CFUN=1 -> OK, +CEREG: 2, +CEREG: 5,"E198","043A5E0A",7."""
    assert line.cmd("AT+CFUN?") == ["+CFUN: 0", "OK"]
    assert line.cmd("AT+CSQ") == ["+CSQ: 99,99", "OK"]  # L3: unknown while not registered
    assert line.cmd("AT+CEREG=2") == ["OK"]
    line.send(b"AT+CFUN=1\r")
    assert line.read_until(b"7\r\n") == (
        b'\r\nOK\r\n\r\n+CEREG: 2\r\n\r\n+CEREG: 5,"E198","043A5E0A",7\r\n')
    assert line.cmd("AT+CEREG?") == ['+CEREG: 2,5,"E198","043A5E0A",7', "OK"]
    lines = line.cmd("AT+CGPADDR=1")
    assert re.fullmatch(r'\+CGPADDR: 1,"\d+\.\d+\.\d+\.\d+"', lines[0]) and lines[1] == "OK"
    assert line.cmd("AT+CESQ")[0] == "+CESQ: 99,99,255,255,20,45"
    # CGDCONT only while not registered (S2)
    assert line.cmd("AT+CMEE=1") == ["OK"]
    assert line.cmd('AT+CGDCONT=1,"IP","iot.1nce.net"') == ["+CME ERROR: 3"]
    line.send(b"AT+CFUN=0\r")
    assert line.read_until(b"+CEREG: 0\r\n") == b"\r\nOK\r\n\r\n+CEREG: 0\r\n"


def test_reset_sysstart_and_nvm_kept(line: Line, pki: PKI) -> None:
    """SQN-REF §3: AT^RESET -> OK then +SYSSTART; §4/§5/§7: NV data survive, RAM does not."""
    assert line.cmd('AT+CGDCONT=1,"IP","iot.1nce.net"') == ["OK"]
    assert upload(line, pki.ca_pem).endswith(b"\r\nOK\r\n")
    assert line.cmd('AT+SQNSPCFG=1,2,"",1,19')[-1] == "OK"
    assert line.cmd('AT+SQNHTTPCFG=0,"localhost",443,0,"","",1,120,1,1') == ["OK"]
    register(line)
    line.send(b"AT^RESET\r")
    assert line.read_until(b"+SYSSTART\r\n") == b"\r\nOK\r\n\r\n+SYSSTART\r\n"
    line.send(b"ATE0\r")  # echo is back on after the reboot (V.250 default)
    line.read_until(b"OK\r\n")
    assert line.cmd("AT+CFUN?") == ["+CFUN: 0", "OK"]
    assert line.cmd("AT+CEREG?") == ["+CEREG: 0,0", "OK"]
    assert line.cmd('AT+SQNSNVR="certificate",19')[0].startswith('+SQNSNVR: "certificate",19,')
    assert line.cmd("AT+SQNSPCFG") == ['+SQNSPCFG: 1,2,"",1,19,"","",0,0,0', "OK"]
    assert line.cmd("AT+SQNHTTPCFG?")[0].startswith('+SQNHTTPCFG: 0,"localhost",443,')
    assert line.cmd("AT+CGDCONT?")[0] == '+CGDCONT: 1,"IP","iot.1nce.net","",0,0'


def test_nvram_file_keeps_nv_across_processes(tmp_path: Path, pki: PKI) -> None:
    path = tmp_path / "nv.json"
    first = new_modem(nvram_path=path)
    try:
        h = Line(first)
        h.cmd("ATE0")
        assert upload(h, pki.ca_pem, 12).endswith(b"OK\r\n")
        assert h.cmd('AT+SQNSPCFG=2,2,"",5,12')[-1] == "OK"
    finally:
        first.shutdown()
    second = new_modem(nvram_path=path)
    try:
        h = Line(second)
        h.cmd("ATE0")
        assert h.cmd('AT+SQNSNVR="certificate",12')[-1] == "OK"
        assert h.cmd("AT+SQNSPCFG")[0] == '+SQNSPCFG: 2,2,"",5,12,"","",0,0,0'
    finally:
        second.shutdown()


# -- credentials (SQN-REF §4) ---------------------------------------------------------------------

def test_snvw_prompt_and_result_bytes(line: Line, pki: PKI) -> None:
    """§2/§4 (S7, L1): `\\r\\n> ` with no line end, exactly <size> bytes, then `\\r\\nOK\\r\\n`."""
    assert upload(line, pki.ca_pem) == b"\r\n> \r\nOK\r\n"


def test_snvr_metadata_not_pem_l4(line: Line, pki: PKI) -> None:
    """L4: +SQNSNVR gives metadata with a SHA-1 fingerprint, never the PEM."""
    upload(line, pki.ca_pem, 15)
    lines = line.cmd('AT+SQNSNVR="certificate",15')
    assert lines[-1] == "OK"
    cert = x509.load_pem_x509_certificate(pki.ca_pem)
    sha1 = hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert lines[0].startswith('+SQNSNVR: "certificate",15,"/')
    assert lines[0].endswith(f',"sha1","{sha1}"')
    assert "BEGIN" not in lines[0]
    # the list form names every filled slot of the type (S7)
    upload(line, pki.ca_pem, 16)
    listed = line.cmd('AT+SQNSNVR="certificate"')
    assert [x.split(",")[1] for x in listed[:-1]] == ["15", "16"]


def test_snvw_delete_and_empty_slot_error_l5(line: Line, pki: PKI) -> None:
    """S1: size 0 deletes, OK with no prompt; L5: an empty slot reads as plain ERROR."""
    assert line.cmd("AT+CMEE=1") == ["OK"]
    upload(line, pki.ca_pem)
    line.send(b'AT+SQNSNVW="certificate",19,0\r')
    assert line.read_until(b"OK\r\n") == b"\r\nOK\r\n"
    line.send(b'AT+SQNSNVR="certificate",19\r')
    assert line.read_until(b"ERROR\r\n") == b"\r\nERROR\r\n"


def test_snvw_checks(line: Line, pki: PKI) -> None:
    """§4: index 0-19, type certificate/privatekey, size ≤ 8 kB (M2, S2), PEM checked."""
    assert line.cmd("AT+CMEE=1") == ["OK"]
    assert line.cmd('AT+SQNSNVW="certificate",20,10') == ["+CME ERROR: 50"]
    assert line.cmd('AT+SQNSNVW="strid",1,10') == ["+CME ERROR: 50"]
    assert line.cmd('AT+SQNSNVW="certificate",1,8193') == ["+CME ERROR: 50"]
    assert upload(line, b"not a certificate", 3).endswith(b"+CME ERROR: 50\r\n")
    assert line.cmd('AT+SQNSNVR="certificate",3') == ["ERROR"]
    key = pki.client("device").key_pem
    assert upload(line, key, 4, "privatekey") == b"\r\n> \r\nOK\r\n"
    read = line.cmd('AT+SQNSNVR="privatekey",4')
    assert read == [f'+SQNSNVR: "privatekey",4,{len(key)}', "OK"]


# -- security profiles (SQN-REF §5) ---------------------------------------------------------------

def test_spcfg_echo_as_seed_and_checks(line: Line) -> None:
    """Seed 002 / §5: the ten-field echo line, then OK; every field checked."""
    line.send(b'AT+SQNSPCFG=1,2,"",7,19\r')
    assert line.read_until(b"OK\r\n") == b'\r\n+SQNSPCFG: 1,2,"",7,19,"","",0,0,0\r\n\r\nOK\r\n'
    assert line.cmd('AT+SQNSPCFG=2,2,"0xC02F;0XAE",1,11,13,13,"","",0,1,300') == [
        '+SQNSPCFG: 2,2,"0xC02F;0XAE",1,11,13,13,0,1,300', "OK"]
    assert line.cmd("AT+SQNSPCFG")[:-1] == ['+SQNSPCFG: 1,2,"",7,19,"","",0,0,0',
                                            '+SQNSPCFG: 2,2,"0xC02F;0XAE",1,11,13,13,0,1,300']
    assert line.cmd("AT+CMEE=1") == ["OK"]
    for bad in ('7,2,"",1,19', '1,4,"",1,19', '1,2,"C02F",1,19', '1,2,"",100,19',
                '1,2,"",1,20', '1,2,"",1,19,,,"xyz",""', '1,2,"",1,19,,,"","",2'):
        assert line.cmd(f"AT+SQNSPCFG={bad}") == ["+CME ERROR: 50"], bad
    # S8 writes an empty cipher list without quotes
    assert line.cmd("AT+SQNSPCFG=3,2,,5,19")[0] == '+SQNSPCFG: 3,2,"",5,19,"","",0,0,0'
    # version 255 resets the profile to its defaults (S2)
    assert line.cmd('AT+SQNSPCFG=3,255,"",0')[0] == '+SQNSPCFG: 3,2,"",0,"","","",0,0,0'


# -- sockets with real TLS (SQN-REF §6, §9) -------------------------------------------------------

def secure_socket(line: Line, port: int, level: int, *, host: str = "127.0.0.1") -> list[str]:
    assert line.cmd(f'AT+SQNSPCFG=1,2,"",{level},19')[-1] == "OK"
    assert line.cmd("AT+SQNSCFG=1,1,0,0,600,50") == ["OK"]
    assert line.cmd("AT+SQNSCFGEXT=1,1,0,0") == ["OK"]
    assert line.cmd("AT+SQNSSCFG=1,1,1") == ["OK"]
    return line.cmd(f'AT+SQNSD=1,0,{port},"{host}",0,0,1')


def recv_all(line: Line, until: bytes, urcs: list[str]) -> bytes:
    """+SQNSRING then AT+SQNSRECV until ``until`` is in the data (§6: S7, S3); URCs that
    come before a response (+SQNSH may, L2) go to ``urcs``."""
    data = bytearray()
    while until not in data:
        line.send(b"AT+SQNSRECV=1,1500\r")
        header = line.read_until(b"\r\n", 5)
        while not header.startswith(b"+SQNSRECV:"):
            if header.strip():
                urcs.append(header.strip().decode())
            header = line.read_until(b"\r\n", 5)
        n = int(header.split(b",")[1])
        data += line.read_exact(n)
        assert line.read_exact(8) == b"\r\n\r\nOK\r\n"
        if n == 0:
            line.wait_line("+SQNSRING: 1,")
    return bytes(data)


def test_tls_socket_with_host_check(line: Line, pki: PKI, https: LocalHTTPSServer) -> None:
    """§6: SQNSD in command mode -> OK once connected; SQNSSENDEXT prompt; SQNSRING with the
    count held; SQNSRECV framing; certValidLevel 5 (chain, dates, host name) against the CA."""
    upload(line, pki.ca_pem)
    register(line)
    assert secure_socket(line, https.port, 5) == ["OK"]
    request = b"GET /bytes/3000 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    line.send(f"AT+SQNSSENDEXT=1,{len(request)}\r".encode())
    assert line.read_exact(4) == b"\r\n> "
    line.send(request)
    assert line.read_until(b"OK\r\n") == b"\r\nOK\r\n"
    ring, _ = line.wait_line("+SQNSRING: 1,")
    assert int(ring.split(",")[1]) > 0
    urcs: list[str] = []
    data = recv_all(line, deterministic_bytes(3000)[-20:], urcs)
    assert data.split(b"\r\n\r\n", 1)[1] == deterministic_bytes(3000)
    sqnsi = line.cmd("AT+SQNSI=1")
    urcs += sqnsi[:-2]
    assert sqnsi[-2] == f"+SQNSI: 1,{len(request)},{len(data)},0,0"
    if "+SQNSH: 1" not in urcs:
        line.wait_line("+SQNSH: 1")  # the server closed (Connection: close)
    assert line.cmd("AT+SQNSS=1")[0] == '+SQNSS: 1,0,"",0,"",0'
    assert line.cmd("AT+SQNSH=1") == ["OK"]


def test_socket_wrong_ca_and_host(line: Line, https: LocalHTTPSServer,
                                  wrong_host: LocalHTTPSServer, pki: PKI) -> None:
    """certValidLevel bits on and off (§5): wrong CA refused with bit 0, accepted with 0;
    a certificate for another host refused with bit 2, accepted with bit 0 alone."""
    other = make_pki(("127.0.0.1",))
    upload(line, other.ca_pem)
    register(line)
    assert secure_socket(line, https.port, 1) == ["NO CARRIER"]
    assert "verify failed" in line.modem.errors[-1]
    assert secure_socket(line, https.port, 0) == ["OK"]
    assert line.cmd("AT+SQNSH=1") == ["OK"]
    upload(line, pki.ca_pem)
    assert secure_socket(line, wrong_host.port, 5) == ["NO CARRIER"]
    assert "host name 127.0.0.1 not in the certificate" in line.modem.errors[-1]
    assert secure_socket(line, wrong_host.port, 1) == ["OK"]
    assert line.cmd("AT+SQNSH=1") == ["OK"]
    # level 7: bit 1 unused -> refused like the seed, before any connection
    assert secure_socket(line, https.port, 7) == ["NO CARRIER"]


# -- native HTTP client (SQN-REF §7, §8) ----------------------------------------------------------

def http_setup(line: Line, port: int, level: int = 5, host: str = "localhost") -> None:
    assert line.cmd(f'AT+SQNSPCFG=1,2,"",{level},19')[-1] == "OK"
    assert line.cmd(f'AT+SQNHTTPCFG=1,"{host}",{port},0,"","",1,120,1,1') == ["OK"]


def http_body(line: Line, size: int, max_bytes: int | None = None) -> bytes:
    """AT+SQNHTTPRCV: `\\r\\n<<<`, the body, `\\r\\nOK\\r\\n` (L1)."""
    out = bytearray()
    while len(out) < size:
        arg = f",{max_bytes}" if max_bytes else ""
        line.send(f"AT+SQNHTTPRCV=1{arg}\r".encode())
        assert line.read_exact(5) == b"\r\n<<<"
        take = min(size - len(out), max_bytes or size)
        out += line.read_exact(take, 60)
        assert line.read_exact(6) == b"\r\nOK\r\n"
    return bytes(out)


def test_http_get_post_head_delete(line: Line, pki: PKI, https: LocalHTTPSServer) -> None:
    upload(line, pki.ca_pem)
    register(line)
    http_setup(line, https.port)
    line.send(b"AT+SQNHTTPCONNECT=1\r")
    assert line.read_until(b"+SQNHTTPCONNECT: 1,0\r\n") == (
        b"\r\nOK\r\n\r\n+SQNHTTPCONNECT: 1,0\r\n")
    assert line.cmd('AT+SQNHTTPQRY=1,0,"/chunked/5000"') == ["OK"]
    ring, _ = line.wait_line("+SQNHTTPRING:")
    assert ring == '+SQNHTTPRING: 1,200,"application/octet-stream",5000'
    assert http_body(line, 5000, 1500) == deterministic_bytes(5000)
    # POST with the data phase (L1 shape); post_param "1" quoted as S3 sends it (L3)
    body = b"hello, monarch"
    line.send(f'AT+SQNHTTPSND=1,0,"/echo",{len(body)},"1"\r'.encode())
    assert line.read_exact(4) == b"\r\n> "
    line.send(body)
    assert line.read_until(b"\r\n\r\n+SQNHTTPRING") == b"\r\nOK\r\n\r\n+SQNHTTPRING"
    assert line.read_line() == f': 1,200,"text/plain",{len(body)}'
    assert http_body(line, len(body)) == body
    assert line.cmd('AT+SQNHTTPQRY=1,1,"/bytes/10"') == ["OK"]
    assert line.wait_line("+SQNHTTPRING:")[0] == (
        '+SQNHTTPRING: 1,200,"application/octet-stream",0')
    assert line.cmd('AT+SQNHTTPQRY=1,2,"/thing"') == ["OK"]
    assert line.wait_line("+SQNHTTPRING:")[0] == '+SQNHTTPRING: 1,204,"",0'
    assert line.cmd("AT+CMEE=1") == ["OK"]
    assert line.cmd("AT+SQNHTTPRCV=1") == ["+CME ERROR: 3"]
    # a connected profile whose server closed meanwhile (pitfall 11) still serves the query
    line.cmd("AT+SQNHTTPCONNECT=1")
    assert line.wait_line("+SQNHTTPCONNECT:")[0] == "+SQNHTTPCONNECT: 1,0"
    link = line.modem.http[1].link
    assert link is not None
    link.abort()
    assert line.cmd('AT+SQNHTTPQRY=1,0,"/bytes/7"') == ["OK"]
    assert line.wait_line("+SQNHTTPRING:")[0].endswith(",200,\"application/octet-stream\",7")


def test_http_1mib_byte_exact(line: Line, pki: PKI, https: LocalHTTPSServer) -> None:
    size = 1024 * 1024
    upload(line, pki.ca_pem)
    register(line)
    http_setup(line, https.port)
    assert line.cmd(f'AT+SQNHTTPQRY=1,0,"/bytes/{size}"') == ["OK"]
    assert line.wait_line("+SQNHTTPRING:", 60)[0].endswith(f",{size}")
    assert hashlib.sha256(http_body(line, size)).digest() == hashlib.sha256(
        deterministic_bytes(size)).digest()


def test_http_failures_and_codes(line: Line, pki: PKI, https: LocalHTTPSServer,
                                 wrong_host: LocalHTTPSServer) -> None:
    """§8: failures as RING status 0 + SQNHTTPSH <rc> (S6), libcurl numbers."""
    register(line)
    http_setup(line, https.port, level=1)
    line.send(b"AT+SQNHTTPCONNECT=1\r")  # no CA in slot 19
    assert line.read_until(b"+SQNHTTPSH: 1,77\r\n") == (
        b"\r\nOK\r\n\r\n+SQNHTTPCONNECT: 1,77\r\n\r\n+SQNHTTPSH: 1,77\r\n")
    upload(line, make_pki().ca_pem)  # the wrong CA
    assert line.cmd('AT+SQNHTTPQRY=1,0,"/bytes/1"') == ["OK"]
    assert line.wait_line("+SQNHTTPRING:")[0] == '+SQNHTTPRING: 1,0,"",0'
    assert line.read_line() == "+SQNHTTPSH: 1,60"
    upload(line, pki.ca_pem)
    http_setup(line, wrong_host.port, level=5)
    line.cmd("AT+SQNHTTPCONNECT=1")
    assert line.wait_line("+SQNHTTPCONNECT:")[0] == "+SQNHTTPCONNECT: 1,60"
    http_setup(line, wrong_host.port, level=1)
    line.cmd("AT+SQNHTTPCONNECT=1")
    assert line.wait_line("+SQNHTTPCONNECT:")[0] == "+SQNHTTPCONNECT: 1,0"


# -- seed 002 replayed (SQN-REF §11 A) -----------------------------------------------------------

def replay(name: str, pki: PKI, https: LocalHTTPSServer) -> None:
    """Drive the fixture's host side (read with celltls.trace, FORMAT.md) with echo on, as
    after a boot; every modem line and byte must be the fixture's."""
    transcript = read_file(FIXTURES / name)
    assert transcript.header["dialect"] == "sequans"
    fill = {"{CA_SIZE}": str(len(pki.ca_pem)), "{HOST}": "localhost", "{PORT}": str(https.port)}

    def filled(text: str) -> str:
        for key, value in fill.items():
            text = text.replace(key, value)
        return text

    modem = new_modem()
    try:
        h = Line(modem)
        modem.reboot()  # power-on: the seed starts with +SYSSTART
        for record in transcript.records:
            if record.direction == ">":
                text = filled(record.text).encode()
                h.send(text + b"\r")
                assert h.read_exact(len(text) + 1) == text + b"\r"  # the echo
            elif record.direction == ">>":
                h.send(pki.ca_pem if record.data == b"{CA_PEM}" else record.data)
            elif record.direction == "<<":
                assert h.read_exact(len(record.data)) == record.data, record.lineno
            elif record.direction == "<":
                assert h.read_line() == filled(record.text), record.lineno
        assert h.quiet(0.2) == b""
    finally:
        modem.shutdown()


def test_seed002_level7_answers_77(pki: PKI, https: LocalHTTPSServer) -> None:
    """Seed 002: certValidLevel 7 is taken with OK, the connect fails with 77 then 77."""
    replay("seed002_level7.at", pki, https)


def test_seed002_level1_connects(pki: PKI, https: LocalHTTPSServer) -> None:
    """Seed 002's fix: certValidLevel 1 connects (+SQNHTTPCONNECT: 1,0) and a GET works."""
    replay("seed002_level1.at", pki, https)


def test_http_request_headers_auth_put(line: Line, pki: PKI, https: LocalHTTPSServer) -> None:
    """§7: auth_type 1 (basic, S3), one extra header line, PUT with post_param 4 (JSON)."""
    upload(line, pki.ca_pem)
    register(line)
    assert line.cmd('AT+SQNSPCFG=1,2,"",5,19')[-1] == "OK"
    assert line.cmd(f'AT+SQNHTTPCFG=1,"localhost",{https.port},1,"user","pa:ss",1,120,1,1'
                    ) == ["OK"]
    assert line.cmd('AT+SQNHTTPQRY=1,0,"/headers","X-Trace: 42"') == ["OK"]
    size = int(line.wait_line("+SQNHTTPRING: 1,200,")[0].rsplit(",", 1)[1])
    headers = json.loads(http_body(line, size))
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"user:pa:ss").decode()
    assert headers["X-Trace"] == "42"
    assert headers["Host"] == f"localhost:{https.port}"
    body = b'{"a": 1}'
    line.send(f'AT+SQNHTTPSND=1,1,"/echo",{len(body)},4\r'.encode())
    assert line.read_exact(4) == b"\r\n> "
    line.send(body)
    ring, _ = line.wait_line("+SQNHTTPRING:")
    assert ring == f'+SQNHTTPRING: 1,200,"application/json",{len(body)}'
    assert http_body(line, len(body)) == body
    assert line.cmd("AT+CMEE=1") == ["OK"]
    for bad in ('1,3,"/x"', '3,0,"/x"', '1,0,/x', '1,0,"/x","no colon"'):
        assert line.cmd(f"AT+SQNHTTPQRY={bad}") == ["+CME ERROR: 50"], bad
    assert line.cmd('AT+SQNHTTPSND=1,0,"/echo",1,5') == ["+CME ERROR: 50"]
    assert line.cmd('AT+SQNHTTPCFG=1,"localhost",0') == ["+CME ERROR: 50"]
    assert line.cmd('AT+SQNHTTPQRY=0,0,"/"') == ["+CME ERROR: 3"]  # profile 0 not configured


def test_snvw_crlf_pem_and_partial_payload(pki: PKI, https: LocalHTTPSServer) -> None:
    """§4: a CRLF PEM counted with its CRs (S5's way) is stored and verifies a server
    (pitfall 7); a payload that stops short ends with ERROR after the data timeout and the
    line takes commands again (our choice, SQN-REF §13)."""
    modem = new_modem(data_timeout=0.2)
    try:
        h = Line(modem)
        h.cmd("ATE0")
        crlf = pki.ca_pem.replace(b"\n", b"\r\n")
        assert upload(h, crlf) == b"\r\n> \r\nOK\r\n"
        register(h)
        http_setup(h, https.port)
        h.cmd("AT+SQNHTTPCONNECT=1")
        assert h.wait_line("+SQNHTTPCONNECT:")[0] == "+SQNHTTPCONNECT: 1,0"
        h.send(b'AT+SQNSNVW="certificate",18,100\r')
        assert h.read_exact(4) == b"\r\n> "
        h.send(b"-----BEGIN")
        assert h.read_until(b"ERROR\r\n", 3) == b"\r\nERROR\r\n"
        assert h.cmd("AT") == ["OK"]
        assert h.cmd('AT+SQNSNVR="certificate",18') == ["ERROR"]
    finally:
        modem.shutdown()
