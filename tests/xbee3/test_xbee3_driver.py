"""The xbee3 driver (celltls.dialects.xbee3.driver) and its catalog: values checked before the
first byte, recovery from whatever an earlier run left (API sockets, a transparent connection,
command mode), files, escaped API mode and mutual TLS, through the virtual XBee
(shared/reference/xbee3.md S2, S3, S5, S8, S9, S10)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from celltls import Certificate, Modem, PrivateKey, TlsProfile, Verify
from celltls.dialects.base import SecureSocket
from celltls.dialects.spec import ParamError
from celltls.dialects.xbee3 import catalog as cat
from celltls.dialects.xbee3 import frames as fr
from celltls.dialects.xbee3.driver import (
    PUMP_READ_S,
    QUIET_FRAME_S,
    QUIET_LINE_S,
    TransparentSocket,
    XBee3,
    XBeeSocket,
    _pkcs1,
    capabilities_for,
)
from celltls.errors import (
    ATProtocolError,
    ATTimeoutError,
    CertificateVerifyError,
    ConnectionRefusedByServer,
    ConnectTimeoutError,
    CredentialError,
    DNSError,
    HostnameMismatchError,
    ModuleRebootedError,
    NetworkError,
    NetworkLostError,
    PartialBodyError,
    ProfileError,
    SocketError,
    TLSError,
    TLSNegotiationError,
    UnsafeArgumentError,
)
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer
from tests.xbee3.conftest import GUARD

# -- catalog encodings (no module needed) -----------------------------------------------------


def test_command_lines_are_xbee_shaped() -> None:
    assert cat.command_line("DE", 443) == "ATDE1BB"  # hex, no '=' (S2, S13 item 1)
    assert cat.command_line("AP") == "ATAP"
    assert cat.command_line("DL", "example.com") == "ATDLexample.com"
    assert cat.command_line("$0", "ca.pem;;") == "AT$0ca.pem;;"
    assert cat.command_line("$1", "/flash/cert/ca.pem;c.pem;k.pem") == \
        "AT$1/flash/cert/ca.pem;c.pem;k.pem"
    assert cat.binary_value("DE", 443) == b"\x01\xbb"  # API 0x08 values are binary (S2)
    assert cat.binary_value("AP", 1) == b"\x01"
    assert cat.binary_value("AN", "internet") == b"internet"
    assert cat.fs_line("HASH", "/flash/cert/ca.pem") == "ATFS HASH /flash/cert/ca.pem"


@pytest.mark.parametrize(("name", "value"), [
    ("DE", 0x10000), ("DE", -1), ("DE", "443"), ("AP", 3), ("GT", 1),
    ("DL", "host,AC"),  # a comma starts the next command on an XBee line (S2)
    ("DL", "host\r"), ("AN", "é"), ("DL", " host"),
    ("$0", "ca.pem"), ("$0", "c a.pem;;"), ("$0", "ca.pem;;;"), ("CI", 0), ("AC", 1),
])
def test_bad_values_are_refused_before_sending(name: str, value: object) -> None:
    with pytest.raises(UnsafeArgumentError):
        cat.command_line(name, value)  # type: ignore[arg-type]


def test_paths_follow_the_file_system_rules() -> None:
    assert cat.check_path("../server.pem") == "../server.pem"
    for bad in ("", "a" * 65, "x/" * 130, "ca pem", "ca\"pem"):
        with pytest.raises(ParamError):
            cat.check_path(bad)


def test_capabilities_are_honest() -> None:
    caps = capabilities_for("lte-m")
    assert caps.hostname_check is False  # no check documented, no SNI (S10)
    assert caps.transparent_mode and caps.max_send == 1500 and caps.security_contexts == 3


def test_client_key_becomes_pkcs1() -> None:
    pki = make_pki(key_type="rsa")
    key = pki.client("device").key_pem
    assert b"BEGIN RSA PRIVATE KEY" in _pkcs1(key)
    with pytest.raises(Exception, match="RSA client keys only"):
        _pkcs1(make_pki(key_type="ecdsa").client("device").key_pem)


def test_options_are_checked() -> None:
    class _Channel:  # only what Dialect.__init__ and the option check need
        in_data_mode = True

        def configure(self, framing: object) -> None:
            pass

    with pytest.raises(ProfileError):
        XBee3(_Channel(), guard_time=60)  # type: ignore[arg-type]


# -- through the virtual modem ----------------------------------------------------------------


def _profile(pki: PKI) -> TlsProfile:
    return TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)


def _get(modem: Modem, https: LocalHTTPSServer, pki: PKI, size: int = 3000) -> bytes:
    response = modem.request("GET", https.url(f"/bytes/{size}?seed=5"), profile=_profile(pki))
    assert response.status == 200
    return response.read()


def test_unsafe_host_is_refused_before_anything_is_written(
        xbee_sim: VirtualModemServer, xbee_pki: PKI) -> None:
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        for host in ("a,AC", "a\rATFR", "ex ample.com"):
            with pytest.raises(UnsafeArgumentError):
                modem.tls_connect(host, 443, _profile(xbee_pki))


def test_recovers_sockets_an_earlier_run_left_open(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    first = Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD)
    socks = [first.tls_connect("127.0.0.1", xbee_https.port, _profile(xbee_pki))
             for _ in range(2)]
    assert all(not s.closed for s in socks)
    first.channel.close()  # the host process dies: nothing closed
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        driver = modem.driver
        assert isinstance(driver, XBee3) and driver.mode == "api"
        driver.enter_command_mode()
        listed = driver.command("ATSI", lines=0)  # open socket IDs, one a line (S3 SI)
        assert not [line for line in listed if line.strip().rstrip("*").isdigit()], listed
        assert _get(modem, xbee_https, xbee_pki) == deterministic_bytes(3000, 5)


def test_recovers_a_transparent_connection_left_open(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    first = Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD, transparent=True)
    sock = first.tls_connect("127.0.0.1", xbee_https.port, _profile(xbee_pki))
    sock.sendall(b"GET /bytes/100000 HTTP/1.1\r\nHost: x\r\n\r\n")  # left half read
    assert sock.recv(100)
    first.channel.close()
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        driver = modem.driver
        assert isinstance(driver, XBee3)
        driver.enter_command_mode()
        assert driver.read("OD") == "0.0.0.0"  # closed by initialise (S9: TM written back)
        assert _get(modem, xbee_https, xbee_pki) == deterministic_bytes(3000, 5)


def test_recovers_from_command_mode(xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer,
                                    xbee_pki: PKI) -> None:
    first = Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD)
    driver = first.driver
    assert isinstance(driver, XBee3)
    driver.enter_command_mode()
    first.channel.close()  # left in command mode: +++ there is only text
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        assert _get(modem, xbee_https, xbee_pki) == deterministic_bytes(3000, 5)


def test_escaped_api_mode(xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer,
                          xbee_pki: PKI) -> None:
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD, escaped=True) as modem:
        driver = modem.driver
        assert isinstance(driver, XBee3) and driver.api_mode == 2
        # 0x7E, 0x7D, 0x11, 0x13 appear throughout this body and must arrive intact
        body = bytes(range(256)) * 40
        posted = modem.request("POST", xbee_https.url("/echo"), profile=_profile(xbee_pki),
                               body=body)
        assert posted.read() == body
        assert driver.get_param("AP") == "2"


def test_files_are_uploaded_once_listed_and_deleted(xbee_sim: VirtualModemServer,
                                                    xbee_pki: PKI) -> None:
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        ca = Certificate.from_pem(xbee_pki.ca_pem)
        first = modem.credentials.store_ca(ca, name="root.pem")
        again = modem.credentials.store_ca(ca, name="root.pem")
        assert first.uploaded and not again.uploaded  # ATFS HASH matched (S5)
        driver = modem.driver
        assert isinstance(driver, XBee3)
        assert driver.list_files().get("root.pem") == len(xbee_pki.ca_pem)
        modem.credentials.delete("root.pem")
        assert "root.pem" not in driver.list_files()


def test_a_digest_that_starts_with_e_is_not_an_error(xbee_sim: VirtualModemServer,
                                                    xbee_pki: PKI) -> None:
    """``sha256 E5EF...`` has the shape of C1's ATFS error line (``E`` + upper-case letters and
    digits, xbee3.md S5): one certificate in 16 was refused after a good upload."""
    assert cat.fs_error("ENOENT no such file") == "ENOENT no such file"
    assert cat.fs_error("sha256 " + "E" * 64) is None
    pem = xbee_pki.ca_pem
    while not hashlib.sha256(pem).hexdigest().startswith("e"):
        pem += b"\n"  # trailing blank lines: the same certificate, another digest
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        driver = modem.driver
        assert isinstance(driver, XBee3)
        stored = driver.store_credential("ca", pem, name="e.pem")
        assert stored.uploaded and stored.checksum == hashlib.sha256(pem).hexdigest()
        assert driver.file_hash("/flash/cert/e.pem") == stored.checksum
        assert not driver.store_credential("ca", pem, name="e.pem").uploaded


def test_host_names_are_checked_with_tls_on_the_host(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    """The module's TLS cannot check host names (xbee3.md S10), so the default profile runs TLS
    on the host over a plain TCP extended socket (0x40 with protocol 1, xbee3.md S8)."""
    profile = TlsProfile(ca=Certificate.from_pem(xbee_pki.ca_pem))  # host names checked
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        assert modem.choose_tls("127.0.0.1", xbee_https.port, profile) == "host"
        response = modem.request("GET", xbee_https.url("/bytes/20000?seed=8"), profile=profile)
        assert response.read() == deterministic_bytes(20000, 8)
        driver = modem.driver
        assert isinstance(driver, XBee3)
        assert not any(sock.profile_index >= 0 for sock in driver._sockets.values())
        other = make_pki(hostnames=("server.example",))  # right CA, another host's name
        with LocalHTTPSServer(cert_chain_pem=other.server_chain_pem,
                              key_pem=other.server_key_pem) as impostor, \
                pytest.raises(HostnameMismatchError):
            modem.request("GET", impostor.url("/bytes/10"), profile=TlsProfile(
                ca=Certificate.from_pem(other.ca_pem))).read()
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD, transparent=True) as modem:
        assert not modem.driver.plain_tcp  # transparent mode has no API sockets
        with pytest.raises(ProfileError):
            modem.driver.tcp_connect("127.0.0.1", xbee_https.port, timeout=10)


def test_mutual_tls_with_a_secure_key_file(xbee_pki: PKI, tmp_path: Path) -> None:
    client = xbee_pki.client("xbee-device")
    trace = tmp_path / "session.txt"
    with LocalHTTPSServer(cert_chain_pem=xbee_pki.server_chain_pem,
                          key_pem=xbee_pki.server_key_pem,
                          client_ca_pem=xbee_pki.ca_pem) as https, \
            VirtualModemServer("xbee3", guard_time=GUARD) as sim, \
            Modem(sim.url, dialect="xbee3", guard_time=GUARD, trace=trace) as modem:
        profile = TlsProfile(verify=Verify.MUTUAL, ca=Certificate.from_pem(xbee_pki.ca_pem),
                             client_cert=Certificate.from_pem(client.cert_pem),
                             client_key=PrivateKey.from_pem(client.key_pem),
                             check_hostname=False)
        response = modem.request("GET", https.url("/client-cert"), profile=profile)
        assert response.status == 200 and response.read() == b"xbee-device"
    text = trace.read_text(encoding="utf-8")
    assert "ATFS XPUT /flash/cert/client-key-" in text  # a secure file (S5)
    assert "<redacted" in text
    key_lines = _pkcs1(client.key_pem).decode().splitlines()[1:-1]
    assert not any(line in text for line in key_lines)  # the key never reaches a transcript


def test_a_module_restart_is_named_and_the_next_request_works(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        sock = modem.tls_connect("127.0.0.1", xbee_https.port, _profile(xbee_pki))
        _restart_mid_read_is_named(modem, sock, xbee_sim, xbee_https, xbee_pki)


def _restart_mid_read_is_named(modem: Modem, sock: SecureSocket, xbee_sim: VirtualModemServer,
                               xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    """Restart the virtual module after the first bytes of a 200,000-byte answer: reading the
    rest raises ModuleRebootedError, and a request after it works."""
    sock.sendall(b"GET /bytes/200000 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(1000)
    xbee_sim.modem.reboot()  # back in AP 0 (never written with WR), sockets gone
    with pytest.raises(ModuleRebootedError):
        while sock.recv(65536):
            pass
    sock.close()
    assert _get(modem, xbee_https, xbee_pki) == deterministic_bytes(3000, 5)


def test_a_restart_is_named_even_when_the_read_timeout_is_below_the_poll_interval(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    """A module restarted in AP 0 says nothing on the line (no 0x8A outside API mode, xbee3.md
    S4), so only asking it tells a restart from a slow server. A read timeout shorter than
    ``poll_interval`` (an httpx read timeout of 5 s, the fault harness's 2 s) used to end
    before the first poll: ``ATTimeoutError`` instead of ``ModuleRebootedError``
    (benchmarks/faults.py --target xbee3-socket --kind reboot)."""
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        sock = modem.tls_connect("127.0.0.1", xbee_https.port, _profile(xbee_pki))
        assert isinstance(sock, XBeeSocket)
        sock.timeout = 1.0
        assert sock.timeout < sock.poll_interval
        _restart_mid_read_is_named(modem, sock, xbee_sim, xbee_https, xbee_pki)


def test_a_restart_before_a_send_is_named_without_waiting_out_the_send_timeout(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    """Restarted in AP 0, the module takes a 0x44 frame for transparent data and never sends
    its 0x89 (xbee3.md S4, S7): the send used to wait its whole 60 s and end in
    ``ATTimeoutError`` (benchmarks/faults.py --target xbee3-socket --kind reboot --seed 5: the
    POST after a reboot at the end of the GET, 66.9 s). It now asks the module while it waits."""
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        sock = modem.tls_connect("127.0.0.1", xbee_https.port, _profile(xbee_pki))
        xbee_sim.modem.reboot()
        started = time.monotonic()
        with pytest.raises(ModuleRebootedError):
            sock.sendall(b"GET /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert time.monotonic() - started < 20.0
        sock.close()
        assert _get(modem, xbee_https, xbee_pki) == deterministic_bytes(3000, 5)


def test_a_read_timeout_on_a_live_module_stays_a_timeout(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    """The check made before a read times out finds the module alive: the timeout is
    reported as such, and the socket goes on working."""
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        sock = modem.tls_connect("127.0.0.1", xbee_https.port, _profile(xbee_pki))
        sock.timeout = 0.5
        with pytest.raises(ATTimeoutError):
            sock.recv(100)  # nothing asked: the server stays quiet
        sock.sendall(b"GET /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1000).startswith(b"HTTP/1.1 200")
        sock.close()


@pytest.mark.parametrize("fault", ["garble", "server_close", "pdp", "send"])
def test_faults_end_in_a_named_error_and_the_next_request_works(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI,
        fault: str) -> None:
    expected: dict[str, type[Exception]] = {
        "garble": ATProtocolError,  # a frame with a broken length or checksum (S6)
        "server_close": PartialBodyError,  # 0xCF 0x07 mid-body: HTTP framing says short
        "pdp": NetworkLostError,  # 0xCF 0x0E
        "send": SocketError,  # 0x89 status other than 0
    }
    modem_sim = xbee_sim.modem
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        if fault == "send":
            modem_sim.fault_fail_next_send()
        got = bytearray()
        with pytest.raises(expected[fault]):
            # a slow server (1000-byte chunks 5 ms apart, 2 s in all), so that the fault
            # certainly comes while the body is on its way, however loaded the machine is
            response = modem.request(
                "GET", xbee_https.url("/chunked/400000?seed=4&interval=0.005"),
                profile=_profile(xbee_pki))
            stream = response.iter_bytes()
            got += next(stream)
            driver = modem.driver
            assert isinstance(driver, XBee3)
            if fault == "garble":
                modem_sim.fault_garble(3)
            elif fault == "server_close":
                modem_sim.fault_server_close(next(iter(driver._sockets)))
            elif fault == "pdp":
                modem_sim.fault_deactivate_pdp()
            for chunk in stream:
                got += chunk
        if fault == "pdp":
            modem_sim.fault_restore_registration()
            modem.attach(apn="internet")
        assert _get(modem, xbee_https, xbee_pki) == deterministic_bytes(3000, 5)


@pytest.mark.parametrize("fault", ["garble", "pdp"])
def test_faults_on_the_host_tls_path_end_in_a_named_error(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI,
        fault: str) -> None:
    """The same faults on TLS on the host over a plain TCP extended socket: a broken frame
    (S6) or 0xCF 0x0E mid-body is a named error, never bytes handed on, and the next request
    through the same module works. One garbled byte: the frame checksum (a plain sum) or, when
    the sum still matches, TLS's record MAC names it."""
    expected: dict[str, type[Exception] | tuple[type[Exception], ...]] = {
        "garble": (ATProtocolError, TLSError), "pdp": NetworkLostError}
    profile = TlsProfile(ca=Certificate.from_pem(xbee_pki.ca_pem))  # host names checked
    modem_sim = xbee_sim.modem
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        with pytest.raises(expected[fault]):
            response = modem.request(
                "GET", xbee_https.url("/chunked/400000?seed=6&interval=0.005"), profile=profile)
            stream = response.iter_bytes()
            next(stream)
            if fault == "garble":
                modem_sim.fault_garble(1)
            else:
                modem_sim.fault_deactivate_pdp()
            for _chunk in stream:
                pass
        if fault == "pdp":
            modem_sim.fault_restore_registration()
            modem.attach(apn="internet")
        response = modem.request("GET", xbee_https.url("/bytes/3000?seed=5"), profile=profile)
        assert response.read() == deterministic_bytes(3000, 5)


@pytest.mark.parametrize("lost", [True, False])
def test_a_false_frame_pending_on_a_quiet_line_does_not_swallow_the_next_answer(
        xbee_sim: VirtualModemServer, caplog: pytest.LogCaptureFixture, lost: bool) -> None:
    """After a lost byte (API mode 1) the decoder may take a 0x7E in frame data for a frame
    start (``lost``: found after skipped bytes), or a frame's length may be garbled, so that it
    reaches past the end of the stream: the answer to the next request must not vanish into
    it. The pending frame is reported once the line is quiet, and the answer found behind it
    (xbee3.md S6): soon after a loss, later when the frame began where a frame should."""
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        driver = modem.driver
        assert isinstance(driver, XBee3) and driver.mode == "api"
        skipped = bytes.fromhex("24 00 30 CD 00") if lost else b""  # a garbled delimiter
        xbee_sim.modem.write_raw(skipped + bytes.fromhex("7E 01 00") + bytes(20))  # 260 bytes
        started = time.monotonic()
        answer = driver.request(lambda fid: fr.ATCommand(fid, "AP"), fr.ATResponse,
                                timeout=5.0)
        took = time.monotonic() - started
        assert answer.status == 0 and answer.value == b"\x01"
        assert driver._decoder.pending == 0
        assert any("incomplete" in r.getMessage() for r in caplog.records)
        if lost:
            assert took < QUIET_FRAME_S
        else:
            assert took >= QUIET_FRAME_S - PUMP_READ_S


@pytest.mark.parametrize("pause", [PUMP_READ_S * 1.2, (QUIET_LINE_S + QUIET_FRAME_S) / 2])
def test_a_frame_paused_for_less_than_the_quiet_time_is_not_cut(
        xbee_sim: VirtualModemServer, caplog: pytest.LogCaptureFixture, pause: float) -> None:
    """Pauses inside a frame (a slow line, a USB adapter's latency timer, a serial link over a
    network) are not a lost byte: a frame that began right after a good one is broken only by
    :data:`QUIET_FRAME_S` of silence."""
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        driver = modem.driver
        assert isinstance(driver, XBee3) and driver.mode == "api"
        wire = fr.encode(fr.SocketReceive(0, 9, 0, b"\x7e\x00\x10" * 20))  # socket 9: not open
        step = 20 if pause < QUIET_LINE_S else 40
        for start in range(0, len(wire), step):
            xbee_sim.modem.write_raw(wire[start : start + step])
            time.sleep(pause)  # the pump's read times out: the line is not quiet long enough
        deadline = time.monotonic() + 5.0
        while not any("socket 9" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the frame was not read"
            time.sleep(0.05)
        assert driver._decoder.dropped == 0
        assert not [r for r in caplog.records if r.levelname == "ERROR"]
        assert driver.request(lambda fid: fr.ATCommand(fid, "AP"), fr.ATResponse).status == 0


def test_a_line_that_pauses_longer_than_the_quiet_time_inside_a_frame_loses_nothing(
        xbee_sim: VirtualModemServer, xbee_https: LocalHTTPSServer, xbee_pki: PKI) -> None:
    """A stall of the line itself (3 s in benchmarks/faults.py --kind stall) inside a frame
    that began right after a good one: its delimiter is real and nothing inside it says that
    its length is wrong (no good frame starts in its span), so it is waited for, not reported
    broken after :data:`QUIET_FRAME_S` (which failed the socket with ``FrameError`` although
    every byte came). The data is delivered whole and the socket goes on."""
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        sock = modem.tls_connect("127.0.0.1", xbee_https.port, _profile(xbee_pki))
        assert isinstance(sock, XBeeSocket)
        payload = deterministic_bytes(1400, 11)
        wire = fr.encode(fr.SocketReceive(0, sock.sid, 0, payload))
        xbee_sim.modem.write_raw(wire[:700])
        time.sleep(QUIET_FRAME_S + 0.8)
        xbee_sim.modem.write_raw(wire[700:])
        got = bytearray()
        while len(got) < len(payload):
            got += sock.recv(65536)
        assert bytes(got) == payload
        sock.sendall(b"GET /bytes/100?seed=3 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(1000).startswith(b"HTTP/1.1 200")
        sock.close()


def test_command_mode_timeout_is_followed(xbee_sim: VirtualModemServer) -> None:
    """After CT of silence the module leaves command mode by itself (xbee3.md S2, S13 item 15):
    the driver then enters it again instead of sending AT lines as data."""
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        driver = modem.driver
        assert isinstance(driver, XBee3)
        driver.enter_command_mode()
        driver.write("CT", 0x14)  # 2 s, applied on leaving command mode
        driver.leave_command_mode()
        driver.enter_command_mode()
        assert driver.read_hex("CT") == 0x14
        time.sleep(2.5)  # the module is back in API mode
        assert driver.read_hex("AP") == 1
        assert driver.registration() == (0, "connected to the Internet")
        dbm = modem.signal().dbm
        assert dbm is None or dbm < 0


def test_dialect_at_speaks_xbee_command_mode(xbee_sim: VirtualModemServer) -> None:
    with Modem(xbee_sim.url, dialect="xbee3", guard_time=GUARD) as modem:
        driver = modem.driver
        assert isinstance(driver, XBee3)
        assert driver.at("AP").lines == ["1"]  # a read: the bare value (S2)
        assert driver.at("DE", "1BB").final is not None  # ATDE1BB -> OK
        assert driver.read("DE") == "1BB"
        with pytest.raises(UnsafeArgumentError):
            driver.at("AP", "7")  # not an AP value: refused before sending
        with pytest.raises(KeyError):
            driver.at("ZZ")


class _QuietChannel:
    """A line on which nothing ever arrives: enough to build the driver and ask its error
    mapping (no byte is written by these calls)."""

    name = "quiet"
    in_data_mode = True

    def configure(self, framing: object) -> None:
        pass

    def read_raw(self, max_bytes: int, timeout: float | None) -> bytes:
        time.sleep(0.05)
        raise ATTimeoutError("read", 0.05)


@pytest.mark.parametrize(("ci", "expected"), [
    (0x25, DNSError), (0x12, DNSError), (0x24, ConnectTimeoutError), (0x22, NetworkError),
    (0x10, NetworkError), (0x2F, CertificateVerifyError), (0x26, TLSError),
    (0x13, SocketError),
])
def test_ci_values_map_to_error_classes(ci: int, expected: type[Exception]) -> None:
    driver = XBee3(_QuietChannel(), probe_failures=False)  # type: ignore[arg-type]
    try:
        sock = TransparentSocket(driver, "example.com", 443, TlsProfile.insecure())
        error = driver._ci_error(ci, sock)
        assert isinstance(error, expected)
        assert f"0x{ci:02X}" in str(error)
    finally:
        driver.close_all()


@pytest.mark.parametrize(("status", "expected", "exit_code"), [
    (0x01, DNSError, 6), (0x09, DNSError, 6), (0x02, ConnectionRefusedByServer, 7),
    (0x04, ConnectTimeoutError, 28), (0x0E, NetworkError, 7), (0x08, TLSError, 35),
])
def test_socket_status_maps_to_error_classes(status: int, expected: type[Exception],
                                             exit_code: int) -> None:
    driver = XBee3(_QuietChannel(), probe_failures=False)  # type: ignore[arg-type]
    try:
        error = driver._status_error(status, "example.com", 443, TlsProfile.insecure())
        assert isinstance(error, expected) and error.exit_code == exit_code
    finally:
        driver.close_all()


@pytest.mark.parametrize(("status", "expected"), [
    (0x8B, CertificateVerifyError), (0x86, CredentialError), (0x85, TLSNegotiationError),
    (0x22, NetworkLostError), (0x76, SocketError),
])
def test_tx_status_maps_to_error_classes(status: int, expected: type[Exception]) -> None:
    driver = XBee3(_QuietChannel())  # type: ignore[arg-type]
    try:
        sock = TransparentSocket(driver, "example.com", 443, TlsProfile.insecure())
        assert isinstance(driver.tx_error(status, sock), expected)
    finally:
        driver.close_all()
