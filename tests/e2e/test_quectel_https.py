"""HTTPS through the virtual Quectel GSM modem against real local HTTPS servers."""

from __future__ import annotations

import hashlib
import io
import logging
import ssl
from collections.abc import Iterator

import pytest

from celltls import (
    Certificate,
    CertificateVerifyError,
    CredentialError,
    Modem,
    PrivateKey,
    ProfileError,
    TLSNegotiationError,
    TlsProfile,
    UnsafeArgumentError,
    Verify,
)
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from tests.e2e.records import host_lines


def test_get_with_server_verification(modem: Modem, https: LocalHTTPSServer,
                                      profile: TlsProfile) -> None:
    response = modem.request("GET", https.url("/bytes/3000"), profile=profile)
    assert response.status == 200
    assert response.read() == deterministic_bytes(3000)


def test_one_megabyte_byte_exact(modem: Modem, https: LocalHTTPSServer,
                                 profile: TlsProfile) -> None:
    size = 1024 * 1024
    response = modem.request("GET", https.url(f"/bytes/{size}?seed=7"), profile=profile)
    digest = hashlib.sha256()
    received = 0
    for chunk in response.iter_bytes():
        digest.update(chunk)
        received += len(chunk)
    assert received == size
    assert digest.hexdigest() == hashlib.sha256(deterministic_bytes(size, seed=7)).hexdigest()


def test_chunked_response(modem: Modem, https: LocalHTTPSServer, profile: TlsProfile) -> None:
    response = modem.request("GET", https.url("/chunked/20000"), profile=profile)
    assert response.header("transfer-encoding") == "chunked"
    assert response.read() == deterministic_bytes(20000)


def test_methods_and_keep_alive(modem: Modem, https: LocalHTTPSServer, profile: TlsProfile,
                                transcript: io.StringIO) -> None:
    body = b"x" * 5000 + b"\r\nOK\r\n" + bytes(range(256))
    post = modem.request("POST", https.url("/echo"), profile=profile, body=body,
                         headers={"Content-Type": "application/octet-stream"})
    assert post.status == 200 and post.read() == body
    put = modem.request("PUT", https.url("/echo"), profile=profile, body=iter([b"ab", b"cd"]))
    assert put.read() == b"abcd"
    head = modem.request("HEAD", https.url("/bytes/100"), profile=profile)
    assert head.status == 200 and head.content_length == 100 and head.read() == b""
    delete = modem.request("DELETE", https.url("/thing"), profile=profile)
    assert delete.status == 204 and delete.read() == b""
    opens = [line for line in host_lines(transcript) if line.startswith("AT+QSSLOPEN=")]
    assert len(opens) == 1, "keep-alive should reuse the first connection"


def test_wrong_ca_fails_with_certificate_error(modem: Modem, https: LocalHTTPSServer,
                                               other_pki: PKI) -> None:
    wrong = TlsProfile(ca=Certificate.from_pem(other_pki.ca_pem), check_hostname=False)
    with pytest.raises(CertificateVerifyError, match="could not verify the certificate"):
        modem.request("GET", https.url("/bytes/10"), profile=wrong)


def test_mutual_tls(sim: VirtualModemServer, pki: PKI) -> None:
    client = pki.client("device-42")
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem,
                          client_ca_pem=pki.ca_pem) as server, \
            Modem(sim.url, "quectel-gsm") as modem:
        modem.attach()
        profile = TlsProfile(
            verify=Verify.MUTUAL, ca=Certificate.from_pem(pki.ca_pem),
            client_cert=Certificate.from_pem(client.cert_pem),
            client_key=PrivateKey.from_pem(client.key_pem), check_hostname=False,
        )
        response = modem.request("GET", server.url("/client-cert"), profile=profile)
        assert response.status == 200
        assert b"device-42" in response.read()


def test_no_verification_only_when_named(modem: Modem, https: LocalHTTPSServer,
                                         caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ProfileError, match=r"verify=Verify\.NONE"):
        TlsProfile()
    with caplog.at_level(logging.WARNING):
        response = modem.request("GET", https.url("/bytes/10"),
                                 profile=TlsProfile(verify=Verify.NONE))
        assert response.read() == deterministic_bytes(10)
    assert any("verification is OFF" in r.message for r in caplog.records)


@pytest.mark.parametrize(
    "server_options",
    [
        {"ciphers": "ECDHE+AESGCM", "maximum_version": ssl.TLSVersion.TLSv1_2},
        {"minimum_version": ssl.TLSVersion.TLSv1_3},
    ],
    ids=["ecdhe-only", "tls13-only"],
)
def test_unreachable_server_is_a_negotiation_error(
    modem: Modem, pki: PKI, profile: TlsProfile, server_options: dict[str, object]
) -> None:
    with (
        LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem,
                         **server_options) as server,  # type: ignore[arg-type]
        pytest.raises(TLSNegotiationError, match="cannot negotiate"),
    ):
        modem.request("GET", server.url("/bytes/10"), profile=profile, tls="module")


def test_through_a_pty(https: LocalHTTPSServer, profile: TlsProfile) -> None:
    with VirtualModemServer("quectel-gsm", pty=True) as server, \
            Modem(server.url, "quectel-gsm") as modem:
        assert server.url.startswith("/dev/")
        modem.attach(apn="internet")
        response = modem.request("GET", https.url("/bytes/5000"), profile=profile)
        assert response.read() == deterministic_bytes(5000)


@pytest.mark.parametrize("bad", ['/x"y', "/x\ry", "/x\x1ay", "/caf\u00e9", "/\u201cq\u201d"])
def test_unsafe_url_is_refused_before_anything_is_written(
    modem: Modem, https: LocalHTTPSServer, profile: TlsProfile, transcript: io.StringIO,
    bad: str,
) -> None:
    before = transcript.getvalue()
    host = "127.0.0.1" + bad.replace("/", "", 1) if '"' in bad else "127.0.0.1"
    url = f"https://{host}:{https.port}{bad}"
    with pytest.raises(UnsafeArgumentError):
        modem.request("GET", url, profile=profile)
    assert transcript.getvalue() == before


@pytest.mark.parametrize("apn", ['inter"net', "inter\rnet", "inter\x1anet", "\u201cinternet\u201d"])
def test_unsafe_apn_is_refused_before_anything_is_written(
    sim: VirtualModemServer, apn: str
) -> None:
    transcript = io.StringIO()
    from celltls.trace import TranscriptWriter

    with Modem(sim.url, "quectel-gsm", trace=TranscriptWriter(transcript)) as modem:
        before = transcript.getvalue()
        with pytest.raises(UnsafeArgumentError):
            modem.attach(apn=apn)
        assert transcript.getvalue() == before


def test_ca_provisioning_is_idempotent_and_checked(modem: Modem, pki: PKI,
                                                    transcript: io.StringIO) -> None:
    ca = Certificate.from_pem(pki.ca_pem)
    first = modem.credentials.store_ca(ca)
    second = modem.credentials.store_ca(ca)
    assert first.uploaded and not second.uploaded
    assert first.checksum == second.checksum
    writes = [line for line in host_lines(transcript) if line.startswith("AT+QSECWRITE=")]
    assert len(writes) == 1


def test_nvram_survives_a_reboot(sim: VirtualModemServer, pki: PKI) -> None:
    with Modem(sim.url, "quectel-gsm", nvram=True) as modem:
        first = modem.credentials.store_ca(Certificate.from_pem(pki.ca_pem))
        assert first.name == "NVRAM:CA0" and first.uploaded
    sim.modem.reboot()
    with Modem(sim.url, "quectel-gsm", nvram=True) as modem:
        again = modem.credentials.store_ca(Certificate.from_pem(pki.ca_pem))
        assert not again.uploaded


def test_bad_credential_names_and_sizes_are_refused_before_upload(
    modem: Modem, pki: PKI, transcript: io.StringIO
) -> None:
    before = transcript.getvalue()
    with pytest.raises(CredentialError, match="CA0"):
        modem.credentials.store("ca", pki.ca_pem, name="NVRAM:myca.pem")
    big = pki.ca_pem * 2
    with pytest.raises(CredentialError, match="2017"):
        modem.credentials.store("ca", big if len(big) > 2017 else big * 2, name="NVRAM:CA0")
    assert transcript.getvalue() == before


def test_private_key_never_in_transcript(sim: VirtualModemServer, pki: PKI) -> None:
    client = pki.client("secret-holder")
    transcript = io.StringIO()
    from celltls.trace import TranscriptWriter

    with Modem(sim.url, "quectel-gsm", trace=TranscriptWriter(transcript)) as modem:
        modem.credentials.store("client_key", client.key_pem)
    text = transcript.getvalue()
    assert "PRIVATE KEY" not in text
    assert f"<redacted {len(client.key_pem)} bytes>" in text


def test_server_close_ends_the_stream(modem: Modem, https: LocalHTTPSServer,
                                      profile: TlsProfile) -> None:
    response = modem.request("GET", https.url("/bytes/100"), profile=profile,
                             headers={"Connection": "close"})
    assert response.read() == deterministic_bytes(100)


def test_transparent_mode_http(modem: Modem, https: LocalHTTPSServer,
                               profile: TlsProfile, transcript: io.StringIO) -> None:
    """SSL-AN 3.4: OK then CONNECT, data straight over the line; the server's close ends data
    mode (the module prints CLOSED)."""
    from celltls.http import HTTPConnection

    sock = modem.tls_connect("127.0.0.1", https.port, profile, transparent=True)
    conn = HTTPConnection(sock, f"127.0.0.1:{https.port}")
    first = conn.request("GET", "/bytes/20000")
    assert first.read() == deterministic_bytes(20000)
    second = conn.request("GET", "/bytes/10", headers=[("Connection", "close")])
    assert second.read() == deterministic_bytes(10)
    assert sock.recv(10) == b""
    sock.close()
    # The line is back in command mode.
    assert modem.signal().rssi >= 0
    assert "AT+QSSLSEND" not in transcript.getvalue()


def test_transparent_mode_escape_and_close(modem: Modem, https: LocalHTTPSServer,
                                           profile: TlsProfile, transcript: io.StringIO) -> None:
    """SSL-AN 3.4.1 steps 3-4: +++ (guard times) -> OK, then AT+QSSLCLOSE -> CLOSE OK."""
    from celltls.http import HTTPConnection

    sock = modem.tls_connect("127.0.0.1", https.port, profile, transparent=True)
    response = HTTPConnection(sock, f"127.0.0.1:{https.port}").request("GET", "/bytes/100")
    assert response.read() == deterministic_bytes(100)
    sock.close()
    text = transcript.getvalue()
    assert ">> +++" in text and "> AT+QSSLCLOSE=" in text
    assert modem.signal().rssi >= 0


def test_transparent_mode_pause_and_resume(modem: Modem, https: LocalHTTPSServer,
                                           profile: TlsProfile, transcript: io.StringIO) -> None:
    """SSL-AN 3.4.1 step 3: +++ -> OK (command mode, connection kept), ATO -> CONNECT."""
    from celltls.dialects.quectel_gsm.driver import QuectelTransparentSocket
    from celltls.errors import SocketError
    from celltls.http import HTTPConnection

    sock = modem.tls_connect("127.0.0.1", https.port, profile, transparent=True)
    assert isinstance(sock, QuectelTransparentSocket)
    conn = HTTPConnection(sock, f"127.0.0.1:{https.port}")
    assert conn.request("GET", "/bytes/50").read() == deterministic_bytes(50)
    sock.pause()
    assert sock.paused
    with pytest.raises(SocketError, match="paused"):
        sock.sendall(b"x")
    assert modem.signal().dbm is not None  # AT commands work while paused
    sock.resume()
    assert conn.request("GET", "/bytes/60").read() == deterministic_bytes(60)
    sock.close()
    text = transcript.getvalue()
    assert "> ATO" in text and "< CONNECT" in text


def test_apn_password_never_in_transcript_or_log(sim: VirtualModemServer,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    """The module echoes command lines (V.250 E1): the echo of AT+QICSGP must be masked too."""
    from celltls.trace import TranscriptWriter

    transcript = io.StringIO()
    secret = "S3cretPW-91"
    with caplog.at_level(logging.DEBUG), \
            Modem(sim.url, "quectel-gsm", trace=TranscriptWriter(transcript)) as modem:
        modem.attach(apn="internet", user="bob", password=secret)
    assert "AT+QICSGP" in transcript.getvalue()
    assert secret not in transcript.getvalue()
    assert all(secret not in record.getMessage() for record in caplog.records)


def test_transparent_payload_holding_the_escape_sequence_is_sent_as_data(
        modem: Modem, sim: VirtualModemServer, https: LocalHTTPSServer,
        profile: TlsProfile) -> None:
    """V.250 6.3.12 / SSL-AN 3.4.1: ``+++`` with guard-time silence on both sides is the escape
    sequence. A body whose ``+++`` is written alone between two pauses longer than the guard
    time must still reach the server as data, and the connection stay in data mode."""
    import time

    from celltls.http import HTTPConnection

    guard = 0.2  # the fixtures' guard time (conftest: VirtualModemServer, Modem guard_time)

    def body() -> Iterator[bytes]:
        yield b"abc"
        time.sleep(guard * 2)
        yield b"+++"
        time.sleep(guard * 2)
        yield b"def"

    sock = modem.tls_connect("127.0.0.1", https.port, profile, transparent=True)
    conn = HTTPConnection(sock, f"127.0.0.1:{https.port}")
    response = conn.request("POST", "/echo", body=body(), content_length=9)
    assert response.read() == b"abc+++def"
    assert modem.channel.in_data_mode
    sock.close()
    assert modem.signal().rssi >= 0
