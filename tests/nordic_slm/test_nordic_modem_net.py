"""The virtual nRF91 SLM against real local HTTPS servers: secure sockets and the HTTP client.

Shapes from shared/reference/nordic-slm.md §6.2 (sockets), §7 (data mode), §8.1 (HTTP client),
TLS behaviour from §10 (CA from the sec_tag, peer verification, host name only when the TLS
hostname option is set). Servers run on 127.0.0.1 and stop with their fixtures.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest

from celltls.dialects.nordic_slm.modem import factory
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from tests.nordic_slm.line import Line

RSP = re.compile(rb"\r\n#XHTTPCRSP: ?(-?\d+),(-?\d+)\r\n")


@pytest.fixture
def line(pki: PKI) -> Iterator[Line]:
    modem = factory()
    h = Line(modem)
    # §12: credentials are written while the modem is offline, then LTE goes up
    pem = pki.ca_pem.decode().strip()
    assert h.cmd(f'AT%CMNG=0,42,0,"{pem}"') == b"\r\nOK\r\n"
    assert h.cmd("AT+CFUN=1") == b"\r\nOK\r\n"
    yield h
    modem.shutdown()


def _get(host: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


def _recv_all(line: Line) -> bytes:
    """AT#XRECV until the peer closed (§6.2: ``OK`` alone)."""
    data = bytearray()
    while True:
        line.send(b"AT#XRECV=10\r\n")
        match = line.match(re.compile(rb"\r\n(#XRECV: (\d+)\r\n|OK\r\n|ERROR\r\n)"))
        if match.group(2) is None:
            assert match.group(1) == b"OK\r\n", match.group(0)
            return bytes(data)
        data += line.exact(int(match.group(2)))
        assert line.exact(6) == b"\r\nOK\r\n"


# ---------------------------------------------------------------- secure sockets (§6.2, §10)
def test_tls_socket_right_ca_with_hostname(line: Line, https: LocalHTTPSServer) -> None:
    """§12 flow: #XSSOCKET → #XSSOCKETOPT hostname → #XCONNECT: 1 → #XSEND → #XRECV."""
    assert line.cmd("AT#XSSOCKET=1,1,0,42,2") == b"\r\n#XSSOCKET: 0,1,258\r\n\r\nOK\r\n"
    assert line.cmd('AT#XSSOCKETOPT=1,2,"localhost"') == b"\r\nOK\r\n"
    assert line.cmd(f'AT#XCONNECT="localhost",{https.port}') == (
        b"\r\n#XCONNECT: 1\r\n\r\nOK\r\n")
    request = _get("localhost", "/bytes/5000")
    assert line.cmd(f'AT#XSEND="{request.decode()}"') == (
        f"\r\n#XSEND: {len(request)}\r\n\r\nOK\r\n".encode())
    response = _recv_all(line)
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert body == deterministic_bytes(5000)
    assert line.cmd("AT#XSOCKET=0") == b'\r\n#XSOCKET: 0,"closed"\r\n\r\nOK\r\n'


def test_tls_socket_wrong_hostname_fails(line: Line, https: LocalHTTPSServer) -> None:
    """§10: with the hostname option set the name is checked: a mismatch is plain ERROR."""
    line.cmd("AT#XSSOCKET=1,1,0,42")
    line.cmd('AT#XSSOCKETOPT=1,2,"wrong.example"')
    assert line.cmd(f'AT#XCONNECT="127.0.0.1",{https.port}') == b"\r\nERROR\r\n"
    assert any(r.startswith("verify failed") for r in line.modem.errors)
    # without the option (G2 never sets it, §14) the same address connects: no name check
    line.cmd("AT#XSOCKET=0")
    line.cmd("AT#XSSOCKET=1,1,0,42")
    assert line.cmd(f'AT#XCONNECT="127.0.0.1",{https.port}') == (
        b"\r\n#XCONNECT: 1\r\n\r\nOK\r\n")


def test_tls_socket_wrong_or_missing_ca(line: Line, https: LocalHTTPSServer) -> None:
    """§10, L1: peer_verify 2 with another CA, or a sec_tag without a CA, fails (ERROR only,
    §6.2); peer_verify 0 connects anyway."""
    other = make_pki().ca_pem.decode().strip()
    line.cmd("AT+CFUN=4")
    assert line.cmd(f'AT%CMNG=0,43,0,"{other}"') == b"\r\nOK\r\n"
    line.cmd("AT+CFUN=1")
    line.cmd("AT#XSSOCKET=1,1,0,43,2")
    assert line.cmd(f'AT#XCONNECT="localhost",{https.port}') == b"\r\nERROR\r\n"
    assert line.modem.errors[-1].startswith("verify failed")
    line.cmd("AT#XSOCKET=0")
    line.cmd("AT#XSSOCKET=1,1,0,99,2")
    assert line.cmd(f'AT#XCONNECT="localhost",{https.port}') == b"\r\nERROR\r\n"
    assert line.modem.errors[-1].startswith("no CA certificate")
    line.cmd("AT#XSOCKET=0")
    line.cmd("AT#XSSOCKET=1,1,0,99,0")
    assert line.cmd(f'AT#XCONNECT="localhost",{https.port}') == (
        b"\r\n#XCONNECT: 1\r\n\r\nOK\r\n")


def test_data_mode_send_and_exit(line: Line, https: LocalHTTPSServer) -> None:
    """§7: AT#XSEND → OK, raw bytes up to +++ (no guard time, may follow the data), then
    #XDATAMODE: 0; the request's answer comes back through #XRECV."""
    line.cmd("AT#XSSOCKET=1,1,0,42")
    line.cmd('AT#XSSOCKETOPT=1,2,"localhost"')
    line.cmd(f'AT#XCONNECT="localhost",{https.port}')
    body = b'{"a": "b,c"}'
    request = (b"POST /echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert line.cmd("AT#XSEND") == b"\r\nOK\r\n"
    line.send(request[:30])
    line.send(request[30:] + b"++")  # a split terminator is tracked across chunks
    line.send(b"+")
    assert line.match(re.compile(rb"\r\n#XDATAMODE: 0\r\n")).start() == 0
    response = _recv_all(line)
    assert response.startswith(b"HTTP/1.1 200")
    assert response.endswith(b"\r\n\r\n" + body)


def test_mutual_tls(line: Line, https: LocalHTTPSServer, pki: PKI) -> None:
    """§5/§10: client certificate (type 1) and key (type 2) of the sec_tag are presented."""
    client = pki.client("nrf-device")
    mutual = LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem,
                              client_ca_pem=pki.ca_pem)
    with mutual:
        line.cmd("AT+CFUN=4")
        for kind, blob in ((1, client.cert_pem), (2, client.key_pem)):
            pem = blob.decode().strip()
            assert line.cmd(f'AT%CMNG=0,42,{kind},"{pem}"') == b"\r\nOK\r\n"
        line.cmd("AT+CFUN=1")
        line.cmd("AT#XSSOCKET=1,1,0,42")
        line.cmd('AT#XSSOCKETOPT=1,2,"localhost"')
        assert line.cmd(f'AT#XCONNECT="localhost",{mutual.port}').endswith(b"OK\r\n")
        line.cmd(f'AT#XSEND="{_get("localhost", "/client-cert").decode()}"')
        assert _recv_all(line).endswith(b"\r\n\r\nnrf-device")


# ---------------------------------------------------------------- HTTP client (§8.1)
def _response(line: Line) -> tuple[bytes, bytes, list[int]]:
    """Raw header bytes and the body of one #XHTTPCRSP sequence; the flags seen."""
    match = line.match(RSP)
    head = match.string[: match.start()]
    assert int(match.group(1)) == len(head)
    flags = [int(match.group(2))]
    body = bytearray()
    while flags[-1] == 0:
        match = line.match(RSP, timeout=30)
        chunk = match.string[: match.start()]
        assert int(match.group(1)) == len(chunk) <= 2048
        body += chunk
        flags.append(int(match.group(2)))
    return head, bytes(body), flags


def test_httpc_get_one_mib(line: Line, https: LocalHTTPSServer) -> None:
    """§8.1: #XHTTPCCON: 1; GET → OK, #XHTTPCREQ: 0, raw head, #XHTTPCRSP:<len>,0, body
    fragments, the last with flag 1; 1 MiB byte-exact."""
    assert line.cmd(f'AT#XHTTPCCON=1,"localhost",{https.port},42') == (
        b"\r\n#XHTTPCCON: 1\r\n\r\nOK\r\n")
    assert line.cmd("AT#XHTTPCCON?") == (
        f'\r\n#XHTTPCCON: 1,"localhost",{https.port},42\r\n\r\nOK\r\n'.encode())
    size = 1 << 20
    assert line.cmd(f'AT#XHTTPCREQ="GET","/bytes/{size}"') == b"\r\nOK\r\n"
    assert line.match(re.compile(rb"\r\n#XHTTPCREQ: 0\r\n")).start() == 0
    head, body, flags = _response(line)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and head.endswith(b"\r\n\r\n")
    assert flags[-1] == 1 and set(flags[:-1]) == {0}
    assert hashlib.sha256(body).digest() == hashlib.sha256(deterministic_bytes(size)).digest()
    assert line.cmd("AT#XHTTPCCON=0") == b"\r\n#XHTTPCCON: 0\r\n\r\nOK\r\n"


def test_httpc_post_body_through_data_mode(line: Line, https: LocalHTTPSServer) -> None:
    """§8.1: with a body: OK, #XHTTPCREQ: 1, data mode for content_length bytes,
    #XDATAMODE: 0, #XHTTPCREQ: 0, then the response; custom headers with literal \\r\\n."""
    line.cmd(f'AT#XHTTPCCON=1,"localhost",{https.port},42')
    payload = b'{"k": "v, with comma and \\"quotes\\""}'
    cmd = (f'AT#XHTTPCREQ="POST","/echo","X-Test: 1\\r\\n","application/json",'
           f"{len(payload)}")
    assert line.cmd(cmd) == b"\r\nOK\r\n"
    assert line.match(re.compile(rb"\r\n#XHTTPCREQ: 1\r\n")).start() == 0
    line.send(payload)
    assert line.match(re.compile(rb"\r\n#XDATAMODE: 0\r\n")).start() == 0
    assert line.match(re.compile(rb"\r\n#XHTTPCREQ: 0\r\n")).start() == 0
    head, body, _flags = _response(line)
    assert b"X-Received-Length: %d" % len(payload) in head
    assert body == payload


def test_httpc_connect_without_ca_fails_like_the_seed(line: Line,
                                                      https: LocalHTTPSServer) -> None:
    """L1/§8.1: a sec_tag holding no CA: #XHTTPCCON: 0 then ERROR; the errno stays in the
    log (§3)."""
    assert line.cmd(f'AT#XHTTPCCON=1,"localhost",{https.port},77') == (
        b"\r\n#XHTTPCCON: 0\r\n\r\nERROR\r\n")
    # hostname_verify 0: the address is not checked against the certificate
    assert line.cmd(f'AT#XHTTPCCON=1,"127.0.0.1",{https.port},42,2,0').endswith(
        b"#XHTTPCCON: 1\r\n\r\nOK\r\n")


def test_httpc_head_and_chunked_upload(line: Line, https: LocalHTTPSServer) -> None:
    """§8.1: a HEAD response is the head alone, flag 1; chunked_transfer 1 takes the body in
    data mode up to +++ and sends it chunked."""
    line.cmd(f'AT#XHTTPCCON=1,"localhost",{https.port},42')
    assert line.cmd('AT#XHTTPCREQ="HEAD","/bytes/100"') == b"\r\nOK\r\n"
    line.match(re.compile(rb"\r\n#XHTTPCREQ: 0\r\n"))
    head, body, flags = _response(line)
    assert head.startswith(b"HTTP/1.1 200") and b"Content-Length: 100\r\n" in head
    assert (body, flags) == (b"", [1])
    assert line.cmd('AT#XHTTPCREQ="POST","/echo","","text/plain",0,1') == b"\r\nOK\r\n"
    line.match(re.compile(rb"\r\n#XHTTPCREQ: 1\r\n"))
    line.send(b"part one, ")
    line.send(b"part two+++")
    line.match(re.compile(rb"\r\n#XDATAMODE: 0\r\n"))
    line.match(re.compile(rb"\r\n#XHTTPCREQ: 0\r\n"))
    head, body, _flags = _response(line)
    assert body == b"part one, part two"
    assert line.cmd('AT#XHTTPCREQ="GET","/x","Host: other\\r\\n"') == b"\r\nERROR\r\n"


def test_socket_options_and_select(https: LocalHTTPSServer, pki: PKI) -> None:
    """§6.2: #XSSOCKETOPT get forms; cipher suite used (mfw >= 2.0.0, so nRF9161 here);
    #XSOCKETSELECT lists sockets then the active one; #XSSOCKETOPT on a TCP socket fails."""
    modem = factory(model="nrf9161")
    line = Line(modem)
    line.cmd(f'AT%CMNG=0,42,0,"{pki.ca_pem.decode().strip()}"')
    line.cmd("AT+CFUN=1")
    assert line.cmd("AT+CGMM") == b"\r\nnRF9161-LACA\r\n\r\nOK\r\n"
    assert line.cmd("AT#XSOCKET=1,1,0") == b"\r\n#XSOCKET: 0,1,6\r\n\r\nOK\r\n"
    assert line.cmd("AT#XSSOCKETOPT=1,5,1") == b"\r\nERROR\r\n"
    assert line.cmd("AT#XSSOCKET=1,1,0,42") == b"\r\n#XSSOCKET: 1,1,258\r\n\r\nOK\r\n"
    assert line.cmd('AT#XSSOCKETOPT=1,2,"localhost"') == b"\r\nOK\r\n"
    assert line.cmd("AT#XSSOCKETOPT=0,2") == b"\r\n#XSSOCKETOPT: localhost\r\n\r\nOK\r\n"
    assert line.cmd("AT#XSSOCKETOPT=0,5") == b"\r\n#XSSOCKETOPT: 2\r\n\r\nOK\r\n"
    assert line.cmd(f'AT#XCONNECT="localhost",{https.port}').endswith(b"OK\r\n")
    suite = line.cmd("AT#XSSOCKETOPT=0,4")
    assert re.fullmatch(rb"\r\n#XSSOCKETOPT: 0xc0[0-9a-f]{2}\r\n\r\nOK\r\n", suite)
    assert line.cmd("AT#XSOCKETSELECT?") == (
        b"\r\n#XSOCKETSELECT: 0,1,0,1,-1,0,0\r\n"
        b"\r\n#XSOCKETSELECT: 1,1,0,1,42,0,0\r\n"
        b"\r\n#XSOCKETSELECT: 1\r\n\r\nOK\r\n")
    assert line.cmd("AT#XSOCKETSELECT=0") == b"\r\n#XSOCKETSELECT: 0\r\n\r\nOK\r\n"
    assert line.cmd("AT#XSOCKET=0") == b'\r\n#XSOCKET: 0,"closed"\r\n\r\nOK\r\n'
    assert line.cmd("AT#XSOCKET?") == b"\r\n#XSOCKET: 1,1,0,1,0\r\n\r\nOK\r\n"
    modem.shutdown()
