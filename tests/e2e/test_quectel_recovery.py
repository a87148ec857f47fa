"""Recovery on the virtual Quectel GSM modem: what an earlier run leaves behind is cleaned up.

A real module stays powered while the host program restarts (quectel-gsm-tcpip.md 6 and 10):
its sockets stay open and it may still be in transparent data mode. The next run must find that
out and clean it up, with the module's own state query (AT+QSSLSTATE, SSL-AN 2.2.6).
"""

from __future__ import annotations

import _thread
import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from celltls import Modem, TlsProfile
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer
from celltls.trace import TranscriptWriter
from tests.e2e.records import host_lines, modem_lines

SRC = str(Path(__file__).resolve().parents[2] / "src")

# A host program that is killed mid-transfer: it prints READY once the download is under way
# (transparent or not), then keeps reading slowly until it is killed.
KILLED_PROGRAM = textwrap.dedent(
    """
    import sys, time
    from celltls import Certificate, Modem, TlsProfile
    from celltls.http import HTTPConnection
    url, ca_path, port, mode = sys.argv[1:5]
    profile = TlsProfile(ca=Certificate.from_file(ca_path), check_hostname=False)
    modem = Modem(url, "quectel-gsm", guard_time=0.2)
    modem.attach(apn="internet")
    if mode == "transparent":
        sock = modem.tls_connect("127.0.0.1", int(port), profile, transparent=True)
        conn = HTTPConnection(sock, "127.0.0.1:" + port)
        assert conn.request("GET", "/bytes/100").read()
        print("READY", flush=True)
    else:
        response = modem.request("GET", "https://127.0.0.1:" + port + "/bytes/1048576",
                                 profile=profile)
        chunks = response.iter_bytes()
        next(chunks)
        print("READY", flush=True)
        for _ in chunks:
            time.sleep(0.05)
    time.sleep(60)
    """
)




def run_and_kill(sim: VirtualModemServer, https: LocalHTTPSServer, pki: PKI, tmp_path: Path,
                 mode: str) -> None:
    """Run :data:`KILLED_PROGRAM` against ``sim`` and kill it (SIGKILL) mid-transfer."""
    ca = tmp_path / "ca.pem"
    ca.write_bytes(pki.ca_pem)
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_PROGRAM, sim.url, str(ca), str(https.port), mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # bounded: the program ends by itself after 60 s
        assert line.strip() == "READY", proc.stderr.read() if proc.stderr else line
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.mark.parametrize("mode", ["sockets", "transparent"])
def test_next_run_after_a_killed_host_succeeds(
    sim: VirtualModemServer, https: LocalHTTPSServer, pki: PKI, profile: TlsProfile,
    tmp_path: Path, mode: str,
) -> None:
    run_and_kill(sim, https, pki, tmp_path, mode)
    transcript = io.StringIO()
    with Modem(sim.url, "quectel-gsm", trace=TranscriptWriter(transcript),
               guard_time=0.2) as modem:
        modem.attach(apn="internet")
        response = modem.request("GET", https.url("/bytes/20000?seed=3"), profile=profile)
        assert response.read() == deterministic_bytes(20000, seed=3)
        opens = [line for line in modem_lines(transcript) if line.startswith("+QSSLOPEN:")]
        assert opens and all(line.endswith(",0") for line in opens), opens
    sent = host_lines(transcript)
    received = modem_lines(transcript)
    # The module still held the earlier run's socket; the sweep found it and closed it.
    assert any(line.startswith("+QSSLSTATE: 0,") and "CONNECTED" in line for line in received)
    assert sent.index("AT+QSSLCLOSE=0") < next(
        i for i, line in enumerate(sent) if line.startswith("AT+QSSLOPEN=")
    )
    if mode == "transparent":
        # The line did not answer the first command (AT+CMEE=1, which went to the server as
        # data): the escape sequence came before the module's first answer.
        raw = transcript.getvalue()
        assert "+++" in raw and raw.index("> AT+CMEE=1") < raw.index("+++") < raw.index("< ")


def test_an_occupied_ssid_is_closed_and_tried_again(
    modem: Modem, https: LocalHTTPSServer, profile: TlsProfile, transcript: io.StringIO,
) -> None:
    """SSL-AN 2.2.2: connectcode -2, socket occupied (here by an open the driver did not make)."""
    waiter = modem.channel.expect_urc(lambda t: t.startswith("+QSSLOPEN: 0,"))
    modem.channel.command(f'AT+QSSLOPEN=0,0,"127.0.0.1",{https.port},0,30', timeout=5)
    assert waiter.wait(30).text == "+QSSLOPEN: 0,0"  # type: ignore[union-attr]
    modem.channel.forget(waiter)
    response = modem.request("GET", https.url("/bytes/5000"), profile=profile)
    assert response.read() == deterministic_bytes(5000)
    received = modem_lines(transcript)
    assert "+QSSLOPEN: 0,-2" in received
    assert "AT+QSSLCLOSE=0" in host_lines(transcript)
    last_success = max(i for i, line in enumerate(received) if line == "+QSSLOPEN: 0,0")
    assert received.index("+QSSLOPEN: 0,-2") < last_success  # closed, then opened again


def test_ctrl_c_mid_download_then_the_next_request_succeeds(
    modem: Modem, https: LocalHTTPSServer, profile: TlsProfile, transcript: io.StringIO,
) -> None:
    # A body the server sends over at least 2 s (200 chunks, 10 ms apart), so that the
    # interrupt 0.3 s in always lands mid-download (an unpaced 1 MiB could finish before it).
    response = modem.request("GET", https.url("/chunked/200000?interval=0.01"), profile=profile)
    chunks = response.iter_bytes()
    next(chunks)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            for _ in chunks:
                pass
    finally:
        timer.cancel()
    again = modem.request("GET", https.url("/bytes/3000?seed=5"), profile=profile)
    assert again.read() == deterministic_bytes(3000, seed=5)
    # Whatever was interrupted was closed in the module: a new session finds nothing to sweep.
    modem.close()
    fresh = io.StringIO()
    with Modem(modem.channel.name, "quectel-gsm", trace=TranscriptWriter(fresh)):
        pass
    assert not [line for line in host_lines(fresh) if line.startswith("AT+QSSLCLOSE")]
