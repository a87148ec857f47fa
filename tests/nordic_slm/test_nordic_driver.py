"""The Nordic SLM driver against a scripted SLM port (tests/nordic_slm/conftest.py).

What each test checks, with the reference section (shared/reference/nordic-slm.md = NRF-REF):
line framing (3), recovery (6.2, 8.1), %CMNG offline writes and skip-by-SHA (5), data-mode
sends (7), #XRECV accounting (6.2), #XHTTPCRSP framing (8.1), errno decoding (9.1).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltls.at.channel import ATChannel
from celltls.at.protocol import ATProtocol, DataBlock, Final, RawData, Request, Urc
from celltls.dialects.nordic_slm import catalog as cat
from celltls.dialects.nordic_slm.cereg import decode_cereg, rsrp_dbm
from celltls.dialects.nordic_slm.driver import (
    NordicSlm,
    _split_for_datamode,
    errno_error,
    hostname_matches,
)
from celltls.dialects.nordic_slm.httpc import Part, ResponseFramer
from celltls.dialects.nordic_slm.line import SlmProtocol
from celltls.errors import (
    ConnectTimeoutError,
    CredentialError,
    DNSError,
    NetworkError,
    SocketError,
    UnsafeArgumentError,
)
from celltls.sim.httpsd import PKI
from celltls.tls import Certificate, PrivateKey
from celltls.trace import TranscriptWriter

from .conftest import OK, Handler, ScriptedSlm


def _driver(port: ScriptedSlm, **options: object) -> tuple[ATChannel, NordicSlm]:
    channel = ATChannel(port)
    return channel, NordicSlm(channel, **options)  # type: ignore[arg-type]


# -- framing and recovery -------------------------------------------------------------------


def test_lines_end_with_crlf_and_recovery_closes_leftovers() -> None:
    """NRF-REF 3: SLM ends lines at CR LF only. NRF-REF 6.2/8.1: sockets listed by
    AT#XSOCKETSELECT? and a connected HTTP client are closed at start."""
    def leftovers(port: ScriptedSlm, line: str) -> bytes | None:
        if line == "AT#XSOCKETSELECT?":
            return (b"\r\n#XSOCKETSELECT: 2,1,0,1,42,1,0\r\n#XSOCKETSELECT: 5,1,0,1,-1,2,0\r\n"
                    b"#XSOCKETSELECT: 5\r\n" + OK)
        if line == "AT#XHTTPCCON?":
            return b'\r\n#XHTTPCCON: 1,"example.com",443,42\r\n' + OK
        return None

    port = ScriptedSlm(leftovers)
    channel, driver = _driver(port)
    try:
        info = driver.initialise()
    finally:
        channel.close()
    assert info["model"] == "nRF9160-SICA"
    assert b"AT\r\n" in port.written and b"AT\r" not in port.written.replace(b"AT\r\n", b"")
    closing = port.lines[port.lines.index("AT#XSOCKETSELECT?") + 1:]
    assert closing[:4] == ["AT#XSOCKETSELECT=2", "AT#XSOCKET=0", "AT#XSOCKETSELECT=5",
                           "AT#XSOCKET=0"]
    assert "AT#XHTTPCCON=0" in port.lines


def test_sync_closes_an_open_quote_left_by_an_earlier_run() -> None:
    """NRF-REF 3, 14: inside an unbalanced quote SLM keeps CR LF as data and never answers;
    the driver writes a closing quote (the line then ends and is answered ERROR)."""
    port = ScriptedSlm()
    port.buf += b'AT#XHTTPCCON=1,"google.com",443,42"'  # the seed's stray quote, unanswered
    channel, driver = _driver(port, guard_time=0.01)
    try:
        driver.sync(timeout=20)
    finally:
        channel.close()
    assert port.lines[0].startswith('AT#XHTTPCCON=1,"google.com",443,42"')
    assert port.lines[-1] == "AT"


# -- credentials ----------------------------------------------------------------------------


def _cmng(store: dict[tuple[int, int], bytes]) -> Handler:
    def handler(port: ScriptedSlm, line: str) -> bytes | None:
        if line.startswith("AT%CMNG=0,"):
            if port.cfun in cat.CFUN_ACTIVE:
                return b"\r\n+CME ERROR: 518\r\n"
            tag, ctype, rest = line[len("AT%CMNG=0,"):].split(",", 2)
            store[(int(tag), int(ctype))] = rest.strip('"').encode()
            return OK
        if line.startswith("AT%CMNG=1,"):
            key = tuple(int(x) for x in line[len("AT%CMNG=1,"):].split(","))
            if key not in store:
                return OK
            sha = hashlib.sha256(store[(key[0], key[1])]).hexdigest().upper()
            return f'\r\n%CMNG: {key[0]},{key[1]},"{sha}"\r\n'.encode() + OK
        return None
    return handler


def test_credential_written_offline_then_mode_restored(pki: PKI, tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """NRF-REF 5: %CMNG writes only offline (518 otherwise); PEM inside the quotes with LF line
    ends; the previous mode restored and said so; a second store is skipped (same SHA-256)."""
    store: dict[tuple[int, int], bytes] = {}
    port = ScriptedSlm(_cmng(store))
    trace = TranscriptWriter(tmp_path / "t.txt", header={"dialect": "nordic-slm"})
    channel = ATChannel(port, trace=trace)
    driver = NordicSlm(channel, sec_tag=42)
    ca = Certificate.from_pem(pki.ca_pem)
    client = pki.client("device")
    key = PrivateKey.from_pem(client.key_pem)
    try:
        with caplog.at_level(logging.WARNING):
            first = driver.store_credential("ca", ca.pem)
        again = driver.store_credential("ca", ca.pem)
        driver.store_credential("client_key", key.pem)
    finally:
        channel.close()
        trace.close()
    assert first.uploaded and not again.uploaded and first.name == "42:0"
    assert first.checksum == again.checksum
    cfun = [ln for ln in port.lines if ln.startswith("AT+CFUN=")]
    assert cfun[:2] == ["AT+CFUN=4", "AT+CFUN=1"]
    assert store[(42, 0)] == ca.pem.rstrip(b"\n")  # LF line ends kept inside the quotes
    assert b"\r\n" not in store[(42, 0)]
    assert "switching from +CFUN=1 to +CFUN=4" in caplog.text and "restored +CFUN=1" in caplog.text
    recorded = (tmp_path / "t.txt").read_bytes()
    body = key.pem.decode().splitlines()[1]
    assert body.encode() not in recorded  # the private key never reaches the transcript


def test_credential_refused_is_a_credential_error(pki: PKI) -> None:
    """NRF-REF 5, 14 L3: +CME ERROR: 527 (invalid content) -> CredentialError naming it."""
    def refuse(port: ScriptedSlm, line: str) -> bytes | None:
        return b"\r\n+CME ERROR: 527\r\n" if line.startswith("AT%CMNG=0") else None

    port = ScriptedSlm(refuse)
    channel, driver = _driver(port)
    try:
        with pytest.raises(CredentialError, match="invalid content"):
            driver.store_credential("ca", pki.ca_pem)
        with pytest.raises(CredentialError, match="PEM"):
            driver.store_credential("ca", b"not a pem")
    finally:
        channel.close()
    assert port.cfun == 1  # restored after the refusal


# -- checks before the first byte -----------------------------------------------------------


def test_unsafe_host_refused_before_anything_is_written(pki: PKI) -> None:
    from celltls.tls import TlsProfile

    port = ScriptedSlm()
    channel, driver = _driver(port)
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
    try:
        before = len(port.written)
        with pytest.raises(UnsafeArgumentError):
            driver.tls_connect('exa"mple.com', 443, profile, timeout=5)
        with pytest.raises(UnsafeArgumentError):
            driver.tls_connect("a" * 200, 443, profile, timeout=5)
        assert len(port.written) == before
    finally:
        channel.close()


# -- sockets --------------------------------------------------------------------------------


def _socket_module(replies: list[bytes]) -> Handler:
    def handler(port: ScriptedSlm, line: str) -> bytes | None:
        if line.startswith("AT%CMNG=1"):
            return OK
        if line.startswith("AT#XSSOCKET="):
            return b"\r\n#XSSOCKET: 3,1,258\r\n" + OK
        if line.startswith("AT#XCONNECT="):
            return b"\r\n#XCONNECT: 1\r\n" + OK
        if line.startswith("AT#XRECV="):
            return replies.pop(0) if replies else OK
        if line == "AT#XSOCKET=0":
            return b'\r\n#XSOCKET: 0,"closed"\r\n' + OK
        if line.startswith('AT#XSEND="'):
            sent = len(line) - len('AT#XSEND=""')
            return f"\r\n#XSEND: {sent}\r\n".encode() + OK
        return None
    return handler


def test_socket_sends_in_data_mode_and_reads_by_length_field(pki: PKI) -> None:
    """NRF-REF 6.2: host name option before connect; #XRECV: <n> frames exactly n bytes even
    when they hold OK, ERROR or #XRECV text; a bare OK is the server's close. NRF-REF 7:
    payloads go in data mode, a '+' run by the string form."""
    from celltls.tls import TlsProfile

    tricky = b"\r\nOK\r\n#XRECV: 9\r\n\r\nERROR\r\n"
    replies = [f"\r\n#XRECV: {len(tricky)}\r\n".encode() + tricky + OK,
               b"\r\nERROR\r\n",  # nothing within <timeout>
               b"\r\n#XRECV: 3\r\nabc" + OK]

    def alive(port: ScriptedSlm, line: str) -> bytes | None:
        if line == "AT#XSOCKETSELECT?":
            return b"\r\n#XSOCKETSELECT: 3,1,0,1,42,1,0\r\n#XSOCKETSELECT: 3\r\n" + OK
        return None

    port = ScriptedSlm(alive, _socket_module(replies))
    channel, driver = _driver(port, sec_tag=42)
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
    try:
        driver.store_credential = lambda *a, **k: None  # type: ignore[assignment,method-assign]
        sock = driver.tls_connect("example.com", 443, profile, timeout=5)
        sock.sendall(b"GET / HTTP/1.1\r\nX: a+++b\r\n\r\n+")
        received = b""
        while chunk := sock.recv(4096):
            received += chunk
        sock.close()
    finally:
        channel.close()
    lines = port.lines
    assert lines.index('AT#XSSOCKETOPT=1,2,"example.com"') < lines.index(
        'AT#XCONNECT="example.com",443')
    assert "AT#XSSOCKET=1,1,0,42,2" in lines
    assert received == tricky + b"abc"
    assert port.payloads == [b"GET / HTTP/1.1\r\nX: a", b"b\r\n\r\n"]
    assert 'AT#XSEND="+++"' in lines and 'AT#XSEND="+"' in lines
    assert lines[-1] == "AT#XSOCKET=0"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"+", b"++", b"+++", b"a", b"\r\n", b"\x00"]), max_size=12)
       .map(b"".join))
def test_datamode_split_never_holds_the_pattern(data: bytes) -> None:
    """NRF-REF 7: from v1.9 '+++' ends data mode wherever it is; a piece must not hold it nor
    end with '+' (the appended pattern would start early)."""
    pieces = list(_split_for_datamode(data))
    assert b"".join(p for _, p in pieces) == data
    for kind, piece in pieces:
        if kind == "data":
            assert b"+++" not in piece and not piece.endswith(b"+")
        else:
            assert set(piece) == {ord("+")}


# -- native HTTP framing --------------------------------------------------------------------


def test_httpcrsp_trailer_must_count_the_bytes_before_it() -> None:
    """NRF-REF 8.1: the part comes first, then #XHTTPCRSP:<n>,<state>; a look-alike inside the
    data with another count is data."""
    fake = b"body\r\n#XHTTPCRSP:2,1\r\nmore"
    framer = ResponseFramer()
    assert framer.feed(b"\r\n#XHTTPCREQ: 0\r\n\r\nOK\r\nHTTP/1.1 200 OK\r\n\r\n") == []
    assert framer.feed(b"\r\n#XHTTPCRSP:19,0\r\n" + fake) == [Part(b"HTTP/1.1 200 OK\r\n\r\n", 0)]
    assert framer.feed(f"\r\n#XHTTPCRSP:{len(fake)},1\r\n".encode()) == [Part(fake, 1)]
    assert framer.complete
    failed = ResponseFramer()
    assert failed.feed(b"\r\n#XHTTPCREQ: -116\r\n") == [] and failed.request_error == (
        -116, "#XHTTPCREQ: -116")


TRAILER_LIKE = [b"\r\n#XHTTPCRSP:1,1\r\n", b"\r\n#XHTTPCRSP:", b"OK\r\n", b"\r\n",
                b"#XHTTPCREQ: 0\r\n", b"\r", b"\n", b"\x00"]
parts = st.lists(st.one_of(st.binary(max_size=20), st.sampled_from(TRAILER_LIKE)),
                 max_size=6).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(body=st.lists(parts, max_size=4), cuts=st.lists(st.integers(0, 10_000), max_size=12),
       preamble=st.sampled_from([b"\r\n#XHTTPCREQ: 0\r\n\r\nOK\r\n", b"\r\nOK\r\n",
                                 b"\r\n#XDATAMODE: 0\r\n\r\n#XHTTPCREQ: 0\r\n", b"\n"]))
def test_response_parts_any_split(body: list[bytes], cuts: list[int], preamble: bytes) -> None:
    """Any split of SLM's output gives back the header part and every body part exactly."""
    head = b"HTTP/1.1 200 OK\r\nX: 1\r\n\r\n"
    chunks = [head, *body]
    stream = preamble
    for index, chunk in enumerate(chunks):
        state = 1 if index == len(chunks) - 1 else 0
        stream += chunk + f"\r\n#XHTTPCRSP:{len(chunk)},{state}\r\n".encode()
    framer = ResponseFramer()
    got = [p for piece in _split(stream, cuts) for p in framer.feed(piece)]
    # a look-alike line exactly at its own offset cannot be told apart (module docstring)
    if not any(cat.HTTPCRSP_LINE.search(c) for c in chunks):
        assert [p.data for p in got] == chunks
        assert framer.complete and got[-1].state == 1


# -- decoding -------------------------------------------------------------------------------


def test_errno_uses_the_nrf_numbering() -> None:
    """NRF-REF 9.1: the seed's 114 and 116 are ENETUNREACH and ETIMEDOUT, not Linux's."""
    assert isinstance(errno_error(-116, reported="x", during="connect"), ConnectTimeoutError)
    unreachable = errno_error(114, reported="x", during="connect")
    assert isinstance(unreachable, NetworkError) and "ENETUNREACH" in str(unreachable)
    assert isinstance(errno_error(-11, reported="x", host="h", during="connect"), DNSError)
    assert isinstance(errno_error(-104, reported="#XHTTPCRSP: 0,-104"), SocketError)


def test_cereg_seed_lines_decoded() -> None:
    """NRF-REF 4: the seed's two notifications and the L2 read answer."""
    searching = decode_cereg('+CEREG: 2,"5209","0A19790D",9,0,0,"11100000","11100000"')
    assert (searching.stat, searching.act_name, searching.reject_cause) == (2, "NB-IoT", 0)
    assert searching.active_time is not None and searching.active_time.deactivated
    home = decode_cereg('+CEREG: 1,"5209","0A19790D",9,,,"11100000","00000110"')
    assert home.registered and home.cause_type is None
    assert home.periodic_tau is not None and home.periodic_tau.seconds == 3600
    read = decode_cereg("+CEREG: 1,4")
    assert (read.n, read.stat, read.registered) == (1, 4, False)
    assert rsrp_dbm(62) == -78 and rsrp_dbm(255) is None


def test_hostname_match(pki: PKI) -> None:
    leaf = Certificate.from_pem(pki.server_chain_pem)
    assert hostname_matches(leaf, "localhost") is None
    assert hostname_matches(leaf, "127.0.0.1") is None
    names = hostname_matches(leaf, "example.org")
    assert names is not None and "localhost" in names


# -- the protocol: #XRECV blocks and raw data after the HTTP request's OK -------------------

TRICKY = [b"OK\r\n", b"\r\nERROR\r\n", b"#XRECV: 9\r\n", b"+CEREG: 1\r\n", b"\r", b"\n",
          b"\r\n#XHTTPCRSP:3,1\r\n", b"\x00\xff", b'"']
payloads = st.lists(st.one_of(st.binary(max_size=30), st.sampled_from(TRICKY)), max_size=8
                    ).map(b"".join)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[last:point])
        last = point
    return [p for p in pieces if p]


@settings(max_examples=300, deadline=None)
@given(data=payloads.filter(lambda d: 0 < len(d) <= cat.MAX_RECV),
       cuts=st.lists(st.integers(0, 10_000), max_size=10), urc_before=st.booleans(),
       urc_after=st.booleans())
def test_xrecv_answer_any_split(data: bytes, cuts: list[int], urc_before: bool,
                                urc_after: bool) -> None:
    """NRF-REF 6.2: ``#XRECV: <size>`` + exactly size bytes + OK, whatever the bytes hold and
    however the line cuts them; URCs around it are delivered as URCs."""
    proto = SlmProtocol(ATProtocol(urc_prefixes=cat.CATALOG.urc_prefixes(),
                                   data_blocks=cat.CATALOG.data_blocks))
    sent = proto.send_command(Request("AT#XRECV=1", response_prefixes=("#XRECV:",)))
    assert sent == b"AT#XRECV=1\r\n"
    stream = (b'\r\n+CEREG: 2,"5209","0A19790D",7\r\n' if urc_before else b"")
    stream += f"\r\n#XRECV: {len(data)}\r\n".encode() + data + b"\r\nOK\r\n"
    stream += b'\r\n+CEREG: 1,"5209","0A19790D",7\r\n' if urc_after else b""
    events = [e for piece in _split(stream, cuts) for e in proto.receive_data(piece)]
    blocks = [e for e in events if isinstance(e, DataBlock)]
    assert [b.data for b in blocks] == [data]
    assert [e for e in events if isinstance(e, Final)] == [Final("OK", True, "OK")]
    assert len([e for e in events if isinstance(e, Urc)]) == urc_before + urc_after


@settings(max_examples=200, deadline=None)
@given(head=payloads, cuts=st.lists(st.integers(0, 10_000), max_size=10))
def test_raw_mode_begins_with_the_requests_ok(head: bytes, cuts: list[int]) -> None:
    """NRF-REF 8.1: the response part written right after AT#XHTTPCREQ's OK is data, even
    when it arrives in the same read as the OK."""
    proto = SlmProtocol(ATProtocol(urc_prefixes=cat.CATALOG.urc_prefixes()))
    line = 'AT#XHTTPCREQ="GET","/"'
    proto.raw_after(line)
    proto.send_command(Request(line, response_prefixes=("#XHTTPCREQ:",)))
    stream = b"\r\n#XHTTPCREQ: 0\r\n\r\nOK\r\n" + head
    events = [e for piece in _split(stream, cuts) for e in proto.receive_data(piece)]
    assert isinstance(events[events.index(Final("OK", True, "OK"))], Final)
    assert b"".join(e.data for e in events if isinstance(e, RawData)) == head


def test_reboot_during_a_read_is_named(pki: PKI) -> None:
    """NRF-REF 3: SLM prints ``Ready`` when it starts; a read cut by it raises
    ModuleRebootedError (and the socket stays failed), not a bare timeout."""
    from celltls.errors import ModuleRebootedError
    from celltls.tls import TlsProfile

    def reboot(port: ScriptedSlm, line: str) -> bytes | None:
        return b"Ready\r\n" if line.startswith("AT#XRECV=") else None

    port = ScriptedSlm(reboot, _socket_module([]))
    channel, driver = _driver(port)
    try:
        driver.store_credential = lambda *a, **k: None  # type: ignore[assignment,method-assign]
        sock = driver.tls_connect("example.com", 443,
                                  TlsProfile(ca=Certificate.from_pem(pki.ca_pem)), timeout=5)
        sock.recv_margin = 0.5  # type: ignore[attr-defined]
        with pytest.raises(ModuleRebootedError):
            sock.recv(100)
        with pytest.raises(ModuleRebootedError):
            sock.recv(100)
    finally:
        channel.close()


def test_native_failures_are_named(pki: PKI) -> None:
    """NRF-REF 8.1: ``#XHTTPCCON: 0`` + ERROR is a failed connect (no errno on the UART:
    explained from the host, here without probing); ``#XHTTPCRSP: 0,-104`` in the middle of
    the body is the server's reset (errno 104, nRF numbering) and the body is not complete."""
    from celltls.errors import TLSError
    from celltls.tls import TlsProfile

    def native(port: ScriptedSlm, line: str) -> bytes | None:
        if line.startswith("AT%CMNG=1"):
            return OK
        if line.startswith("AT#XHTTPCCON=1") and "bad.test" in line:
            return b"\r\n#XHTTPCCON: 0\r\n\r\nERROR\r\n"
        if line.startswith("AT#XHTTPCCON=1"):
            return b"\r\n#XHTTPCCON: 1\r\n" + OK
        if line.startswith("AT#XHTTPCREQ="):
            head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
            return (b"\r\n#XHTTPCREQ: 0\r\n" + OK + head
                    + f"\r\n#XHTTPCRSP:{len(head)},0\r\n".encode() + b"12345"
                    + b"\r\n#XHTTPCRSP:5,0\r\n\r\n#XHTTPCRSP: 0,-104\r\n")
        return None

    port = ScriptedSlm(native)
    channel, driver = _driver(port, probe_failures=False)
    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
    try:
        driver.store_credential = lambda *a, **k: None  # type: ignore[assignment,method-assign]
        with pytest.raises(TLSError):
            driver.native_request("GET", "https://bad.test/", profile=profile, headers=[],
                                  body=None, timeout=5)
        response = driver.native_request("GET", "https://good.test/x", profile=profile,
                                         headers=[], body=None, timeout=5)
        assert response.status == 200
        with pytest.raises(SocketError, match="ECONNRESET"):
            response.read()
    finally:
        channel.close()
    assert port.lines.count("AT#XHTTPCCON=0") >= 1


def test_sync_leaves_a_data_mode_left_by_an_earlier_run() -> None:
    """NRF-REF 7: in data mode SLM takes AT as payload; the termination pattern leaves it."""
    port = ScriptedSlm()
    port.datamode = True
    channel, driver = _driver(port, guard_time=0.01)
    try:
        driver.sync(timeout=20)
    finally:
        channel.close()
    assert port.payloads and port.payloads[0].startswith(b"AT\r\n")
    assert port.lines[-1] == "AT"


def test_band_lock_and_system_mode_are_written_offline() -> None:
    """NRF-REF 4: %XBANDLOCK mask LSB = band 1 (seed: band 8 = "10000000"), refused with 518
    while active; %XSYSTEMMODE as the seed sets it (NB-IoT only, prefer NB-IoT)."""
    def refuse_active(port: ScriptedSlm, line: str) -> bytes | None:
        if line.startswith(("AT%XBANDLOCK=", "AT%XSYSTEMMODE=")) and port.cfun in (1, 2, 21):
            return b"\r\n+CME ERROR: 518\r\n"
        return None

    port = ScriptedSlm(refuse_active)
    channel, driver = _driver(port)
    try:
        driver.lock_bands([8], permanent=True)
        driver.set_system_mode(lte_m=False, nb_iot=True, preference=2)
        with pytest.raises(UnsafeArgumentError):
            driver.lock_bands([0])
    finally:
        channel.close()
    assert 'AT%XBANDLOCK=1,"10000000"' in port.lines and "AT%XSYSTEMMODE=0,1,0,2" in port.lines
    assert port.cfun == 1
    assert port.lines.index("AT+CFUN=4") < port.lines.index('AT%XBANDLOCK=1,"10000000"')


def test_registration_lost_fails_the_open_socket(pki: PKI) -> None:
    """NRF-REF 4: a +CEREG notification with stat 4 (no coverage) while a socket is open
    ends it with NetworkLostError carrying the URC, not a timeout."""
    from celltls.errors import NetworkLostError
    from celltls.tls import TlsProfile

    def lost(port: ScriptedSlm, line: str) -> bytes | None:
        if line.startswith("AT#XRECV="):
            return b'\r\n+CEREG: 4,"5209","0A19790D",9\r\n\r\nERROR\r\n'
        if line == "AT#XSOCKETSELECT?":
            return b"\r\n#XSOCKETSELECT: 3,1,0,1,42,1,0\r\n#XSOCKETSELECT: 3\r\n" + OK
        return None

    port = ScriptedSlm(lost, _socket_module([]))
    channel, driver = _driver(port)
    try:
        driver.store_credential = lambda *a, **k: None  # type: ignore[assignment,method-assign]
        sock = driver.tls_connect("example.com", 443,
                                  TlsProfile(ca=Certificate.from_pem(pki.ca_pem)), timeout=5)
        with pytest.raises(NetworkLostError) as caught:
            sock.recv(100)
    finally:
        channel.close()
    assert caught.value.urc.startswith("+CEREG: 4")


def test_older_slm_versions_are_refused_or_spoken_to_in_their_syntax(pki: PKI) -> None:
    """NRF-REF 11: v1.x answers #XRECV with the data first (refused before anything is
    written); v2.0-2.5's #XHTTPCCON has no <peer_verify>/<hostname_verify> (v2.6+)."""
    from celltls.errors import HostnameCheckUnsupportedError, ProfileError
    from celltls.tls import TlsProfile

    def old(version: bytes) -> Handler:
        def handler(port: ScriptedSlm, line: str) -> bytes | None:
            if line == "AT#XSLMVER":
                return b"\r\n#XSLMVER: " + version + b"\r\n" + OK
            if line.startswith("AT#XHTTPCCON=1"):
                return b"\r\n#XHTTPCCON: 1\r\n" + OK
            if line.startswith("AT#XHTTPCREQ="):
                head = b"HTTP/1.1 204 No Content\r\n\r\n"
                return OK + head + f"\r\n#XHTTPCRSP:{len(head)},1\r\n".encode()
            return None
        return handler

    profile = TlsProfile(ca=Certificate.from_pem(pki.ca_pem))
    port = ScriptedSlm(old(b'"1.5"'))
    channel, driver = _driver(port)
    try:
        driver.initialise()
        written = len(port.written)
        with pytest.raises(ProfileError, match=r"v1\.5"):
            driver.tls_connect("example.com", 443, profile, timeout=5)
        assert len(port.written) == written
    finally:
        channel.close()
    port = ScriptedSlm(old(b'"2.5.0","2.5.0-lte-5ccd2d4dd54c"'))
    channel, driver = _driver(port, sec_tag=42)
    try:
        driver.initialise()
        driver.store_credential = lambda *a, **k: None  # type: ignore[assignment,method-assign]
        with pytest.raises(HostnameCheckUnsupportedError):
            driver.native_request("GET", "https://example.com/", profile=profile, headers=[],
                                  body=None, timeout=5)
        loose = TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)
        response = driver.native_request("GET", "https://example.com/", profile=loose,
                                         headers=[], body=None, timeout=5)
        assert response.status == 204
    finally:
        channel.close()
    assert 'AT#XHTTPCCON=1,"example.com",443,42' in port.lines


def test_plugin_identifies_nrf91_and_declares_a_hostname_check() -> None:
    """AT+CGMM "nRF9160-SICA", AT+CGMI "Nordic Semiconductor ASA"; the host name is checked
    by the module (AT#XSSOCKETOPT TLS_HOSTNAME, #XHTTPCCON <hostname_verify>: NRF-REF 6.2,
    8.1, 10)."""
    from celltls.dialects import registry
    from celltls.dialects.nordic_slm.plugin import DIALECT

    assert DIALECT.matches("nRF9160-SICA") and DIALECT.matches("nRF9151-LACA")
    assert DIALECT.matches("Nordic Semiconductor ASA")
    assert not DIALECT.matches("Quectel M66") and not DIALECT.matches("xnRF9160")
    caps = registry.capabilities("nrf91")
    assert caps is not None and caps.hostname_check and caps.native_http
    assert caps.secure_sockets == cat.MAX_SOCKETS


def test_close_while_the_pdp_context_is_gone_is_not_an_end_of_stream(pki: PKI) -> None:
    """NRF-REF 6.2: a bare OK to #XRECV means the peer closed; it is taken as the end of the
    stream only while the modem still has its PDP address (NRF-REF 4 +CGPADDR)."""
    from celltls.errors import NetworkLostError
    from celltls.tls import TlsProfile

    def no_address(port: ScriptedSlm, line: str) -> bytes | None:
        return b"\r\n+CGPADDR: 0\r\n" + OK if line == "AT+CGPADDR=0" else None

    port = ScriptedSlm(no_address, _socket_module([b"\r\n#XRECV: 2\r\nhi" + OK]))
    channel, driver = _driver(port)
    try:
        driver.store_credential = lambda *a, **k: None  # type: ignore[assignment,method-assign]
        sock = driver.tls_connect("example.com", 443,
                                  TlsProfile(ca=Certificate.from_pem(pki.ca_pem)), timeout=5)
        assert sock.recv(100) == b"hi"
        with pytest.raises(NetworkLostError):
            sock.recv(100)
    finally:
        channel.close()


def test_lost_ok_after_a_whole_block_keeps_the_data(pki: PKI) -> None:
    """NRF-REF 6.2: the #XRECV: <size> block frames its bytes by itself; when the OK after it
    is lost, the bytes are kept (and the line resynchronised), not dropped."""
    from celltls.tls import TlsProfile

    replies = [b"\r\n#XRECV: 5\r\nhello", b"\r\n#XRECV: 6\r\n world" + OK]
    port = ScriptedSlm(_socket_module(replies))
    channel, driver = _driver(port)
    try:
        driver.store_credential = lambda *a, **k: None  # type: ignore[assignment,method-assign]
        sock = driver.tls_connect("example.com", 443,
                                  TlsProfile(ca=Certificate.from_pem(pki.ca_pem)), timeout=5)
        sock.recv_margin = 0.5  # type: ignore[attr-defined]
        received = b""
        while chunk := sock.recv(100):
            received += chunk
    finally:
        channel.close()
    assert received == b"hello world"


def test_bad_values_refused_before_any_byte(pki: PKI) -> None:
    """Catalog forms check every value first (NRF-REF 4 +CGDCONT, 5 sec_tag range)."""
    port = ScriptedSlm()
    channel, driver = _driver(port)
    try:
        written = len(port.written)
        with pytest.raises(UnsafeArgumentError):
            driver.attach('inter"net')
        with pytest.raises(CredentialError):
            driver.store_credential("ca", pki.ca_pem, "99999999999")
        with pytest.raises(CredentialError):
            driver.store_credential("ca", pki.ca_pem, "42:1")  # a CA is type 0
        with pytest.raises(CredentialError):
            driver.store_credential("ca", pki.ca_pem.replace(b"-----END", b'"-----END'))
        assert len(port.written) == written
    finally:
        channel.close()
    spare = ATChannel(ScriptedSlm())
    try:
        with pytest.raises(UnsafeArgumentError):
            NordicSlm(spare, sec_tag=2**31)
    finally:
        spare.close()
