"""Sequans end to end: driver -> virtual GM02S (``celltls sim sequans``) -> real HTTPS servers.

Native (+SQNHTTP*) and socket (+SQNSD/+SQNSSENDEXT/+SQNSRECV + h11) paths, verification with
the right and the wrong CA, host-name check on and off, 1 MiB byte-exact, and a host process
killed mid-transfer followed by a new Modem.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from celltls import Certificate, Modem, TlsProfile
from celltls.errors import CertificateVerifyError, HostnameMismatchError
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from celltls.trace import TranscriptWriter

PATHS = ("socket", "native")
MIB = 1 << 20


@pytest.mark.parametrize("via", PATHS)
def test_get_verified_with_hostname_check(modem: Modem, https: LocalHTTPSServer,
                                          profile: TlsProfile, via: str) -> None:
    response = modem.request("GET", https.url("/bytes/3000?seed=4"), profile=profile, via=via)
    assert response.status == 200
    assert response.read() == deterministic_bytes(3000, 4)


@pytest.mark.parametrize("via", PATHS)
def test_post_echo(modem: Modem, https: LocalHTTPSServer, profile: TlsProfile, via: str) -> None:
    body = deterministic_bytes(4000, 9)
    response = modem.request("POST", https.url("/echo"), profile=profile, via=via, body=body,
                             headers={"Content-Type": "application/octet-stream"})
    assert response.status == 200
    assert response.read() == body


def test_native_put_json_and_delete(modem: Modem, https: LocalHTTPSServer,
                                    profile: TlsProfile) -> None:
    doc = json.dumps({"a": 1}).encode()
    put = modem.request("PUT", https.url("/echo"), profile=profile, via="native", body=doc,
                        headers={"Content-Type": "application/json"})
    assert (put.status, put.read()) == (200, doc)
    assert put.header("content-type") == "application/json"
    gone = modem.request("DELETE", https.url("/thing"), profile=profile, via="native")
    assert gone.status == 204
    assert gone.read() == b""


@pytest.mark.parametrize("via", PATHS)
def test_one_mebibyte_byte_exact(modem: Modem, https: LocalHTTPSServer, profile: TlsProfile,
                                 via: str) -> None:
    response = modem.request("GET", https.url(f"/bytes/{MIB}?seed=7"), profile=profile, via=via)
    got = bytearray()
    for chunk in response.iter_bytes():
        got += chunk
    assert len(got) == MIB
    assert bytes(got) == deterministic_bytes(MIB, 7)


@pytest.mark.parametrize("via", PATHS)
def test_wrong_ca_is_a_certificate_error(modem: Modem, https: LocalHTTPSServer,
                                         other_pki: PKI, profile: TlsProfile, via: str) -> None:
    wrong = TlsProfile(ca=Certificate.from_pem(other_pki.ca_pem))
    with pytest.raises(CertificateVerifyError) as caught:
        modem.request("GET", https.url("/bytes/10"), profile=wrong, via=via)
    assert caught.value.exit_code == 60
    # the module is usable at once with the right CA
    response = modem.request("GET", https.url("/bytes/10"), profile=profile, via=via)
    assert response.read() == deterministic_bytes(10)


@pytest.mark.parametrize("via", PATHS)
def test_wrong_host_refused_naming_it_then_allowed_when_check_off(
        modem: Modem, https_localhost: LocalHTTPSServer, localhost_pki: PKI, via: str) -> None:
    url = https_localhost.url("/bytes/20")  # 127.0.0.1; the certificate names localhost only
    checked = TlsProfile(ca=Certificate.from_pem(localhost_pki.ca_pem))
    with pytest.raises(HostnameMismatchError) as caught:
        modem.request("GET", url, profile=checked, via=via)
    assert "127.0.0.1" in str(caught.value)
    assert "localhost" in caught.value.names
    unchecked = TlsProfile(ca=Certificate.from_pem(localhost_pki.ca_pem), check_hostname=False)
    response = modem.request("GET", url, profile=unchecked, via=via)
    assert response.status == 200
    assert response.read() == deterministic_bytes(20)


def test_certvalidlevel_built_from_profile(tmp_path: Path, https: LocalHTTPSServer,
                                           pki: PKI) -> None:
    """Bits 0 and 2 (5) by default, 1 with check_hostname=False, 0 without verification."""
    trace = tmp_path / "levels.txt"
    with VirtualModemServer("sequans") as sim, \
            Modem(sim.url, "sequans", trace=TranscriptWriter(trace)) as m:
        m.attach(apn="internet")
        ca = Certificate.from_pem(pki.ca_pem)
        for prof in (TlsProfile(ca=ca), TlsProfile(ca=ca, check_hostname=False),
                     TlsProfile.insecure()):
            m.request("GET", https.url("/bytes/5"), profile=prof, via="native").read()
    sent = [line for line in trace.read_text().splitlines() if "> AT+SQNSPCFG=" in line]
    levels = [line.split("AT+SQNSPCFG=")[1].split(",")[3] for line in sent]
    assert levels == ["5", "1", "0"]


_DOWNLOAD = """
import sys, time
from celltls import Certificate, Modem, TlsProfile
port, url, ca, via = sys.argv[1:5]
with Modem(port, "sequans") as m:
    m.attach(apn="internet")
    r = m.request("GET", url, profile=TlsProfile(ca=Certificate.from_file(ca)), via=via)
    got = 0
    for chunk in r.iter_bytes():
        got += len(chunk)
        if got > 100000:
            print("STARTED", flush=True)
            time.sleep(60)
"""


@pytest.mark.parametrize("via", PATHS)
def test_killed_mid_transfer_then_new_modem_succeeds(
        tmp_path: Path, https: LocalHTTPSServer, pki: PKI, via: str) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca_pem)
    script = tmp_path / "download.py"
    script.write_text(_DOWNLOAD)
    with VirtualModemServer("sequans") as sim:
        child = subprocess.Popen(
            [sys.executable, str(script), sim.url, https.url(f"/bytes/{MIB}"), str(ca), via],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ})
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            assert b"STARTED" in line, child.stderr.read() if child.stderr else b""
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
        trace = tmp_path / "after.txt"
        with Modem(sim.url, "sequans", trace=TranscriptWriter(trace)) as m:
            lines = trace.read_text().splitlines()
            m.attach(apn="internet")
            response = m.request("GET", https.url("/bytes/70000?seed=5"), profile=TlsProfile(
                ca=Certificate.from_pem(pki.ca_pem)), via=via)
            assert response.read() == deterministic_bytes(70000, 5)
    # what the killed run left open was found with the module's own state query and closed
    if via == "socket":
        assert any("+SQNSS: 1,1" in line or "+SQNSS: 1,3" in line for line in lines), lines
        assert any("> AT+SQNSH=1" in line for line in lines)
    else:
        assert any("> AT+SQNHTTPDISCONNECT=1" in line for line in lines)


def test_native_head_and_error_status(modem: Modem, https: LocalHTTPSServer,
                                      profile: TlsProfile) -> None:
    head = modem.request("HEAD", https.url("/bytes/5000"), profile=profile, via="native")
    assert head.status == 200
    assert head.read() == b""
    missing = modem.request("GET", https.url("/status/404"), profile=profile, via="native")
    assert missing.status == 404
    assert missing.read() == b"status 404\n"


def test_native_body_abandoned_midway_then_next_request(
        modem: Modem, https: LocalHTTPSServer, profile: TlsProfile) -> None:
    response = modem.request("GET", https.url(f"/bytes/{MIB}?seed=8"), profile=profile,
                             via="native")
    chunks = response.iter_bytes()
    first = next(chunks)
    assert deterministic_bytes(MIB, 8).startswith(first)
    chunks.close()  # the caller stops reading
    again = modem.request("GET", https.url("/bytes/2000?seed=6"), profile=profile, via="native")
    assert again.read() == deterministic_bytes(2000, 6)
