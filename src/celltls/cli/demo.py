"""``celltls demo``: the whole path once, with no hardware and no set-up.

1. issue a test PKI (trustme, RSA keys: Quectel GSM modules only know RSA key exchange);
2. start a local HTTPS server on 127.0.0.1;
3. start a virtual Quectel GSM modem on a local TCP port;
4. open it like a serial port, attach, provision the CA (AT+QSECWRITE, verified with AT+QSECREAD);
5. HTTPS GET and POST through the module with server verification on (chain and dates; the
   module's TLS cannot check host names, SSL-AN V3.3 2.2.1, so the demo says so and turns
   that one check off by name: ``check_hostname=False``);
6. print every AT command and response as it happens, with bytes and times.
"""

from __future__ import annotations

import hashlib
import io
import time
import typing

from rich.console import Console
from rich.markup import escape

from celltls.errors import CellTLSError
from celltls.modem import Modem
from celltls.tls import Certificate, TlsProfile, Verify
from celltls.trace import TranscriptWriter


class _ConsoleStream(io.TextIOBase):
    """A text stream that prints transcript records on the console, shortened and coloured."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._partial = ""

    def write(self, text: str) -> int:
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            self._show(line)
        return len(text)

    def _show(self, line: str) -> None:
        if line.startswith("#"):
            return
        stamp, _, record = line.partition("] ")
        mark, _, body = record.partition(" ")
        if len(body) > 96:
            body = body[:93] + "..."
        style = {">": "cyan", "<": "green", ">>": "blue", "<<": "magenta"}.get(mark, "white")
        self.console.print(f"  [dim]{escape(stamp)}][/] [{style}]{escape(mark)} {escape(body)}[/]")


def run_demo(console: Console) -> None:
    """Run the demo, printing each step on ``console``.

    Raises:
        CellTLSError: a step failed (the message says which).
    """
    from celltls.sim.httpsd import LocalHTTPSServer, deterministic_bytes, make_pki
    from celltls.sim.serve import VirtualModemServer

    start = time.monotonic()

    def step(text: str) -> None:
        console.print(f"\n[bold]{time.monotonic() - start:6.2f}s  {escape(text)}[/]")

    step("1. Issuing a test PKI (trustme): a root CA and an RSA server certificate for 127.0.0.1")
    pki = make_pki()
    ca = Certificate.from_pem(pki.ca_pem)
    console.print(f"  CA: {escape(ca.subject)}  (SHA-256 {ca.sha256[:16]}...)")

    step("2. Starting a local HTTPS server on 127.0.0.1")
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as web:
        console.print(f"  {web.url('/')}")
        step("3. Starting a virtual Quectel GSM modem (M66) on a local TCP port")
        with VirtualModemServer("quectel-gsm") as sim:
            console.print(f"  serial line: {sim.url}")
            step("4. Opening the line; the AT session follows")
            stream = typing.cast(typing.TextIO, _ConsoleStream(console))
            trace = TranscriptWriter(stream, header={"dialect": "quectel-gsm"})
            with Modem(sim.url, "quectel-gsm", trace=trace) as modem:
                console.print(f"  module: {escape(str(modem.info))}")
                step("5. Network: registration, APN, PDP context")
                status = modem.attach(apn="internet")
                console.print(f"  registered ({status.registration[1]}), IP {status.ip_address}")
                signal = modem.signal()
                console.print(f"  signal: {signal.dbm} dBm")
                step("6. Provisioning the root CA into the module (AT+QSECWRITE, checked)")
                stored = modem.credentials.store_ca(ca)
                console.print(
                    f"  {stored.name}: {stored.size} bytes, checksum {stored.checksum}, "
                    f"{'uploaded' if stored.uploaded else 'already there, not uploaded'}"
                )
                again = modem.credentials.store_ca(ca)
                verdict = "uploaded" if again.uploaded else "same file found, upload skipped"
                console.print(f"  second time: {verdict}")
                console.print(
                    "  note: the M66's own TLS cannot check host names (its SSL settings, "
                    "SSL-AN 2.2.1, have no such check), so celltls refuses by default; the demo "
                    "turns that check off by name (check_hostname=False, the CLI's "
                    "--no-check-hostname). The chain and dates are still verified."
                )
                profile = TlsProfile(verify=Verify.SERVER, ca=ca, check_hostname=False)
                size = 4096
                step(f"7. HTTPS GET {web.url(f'/bytes/{size}')} (server verification ON)")
                t0 = time.monotonic()
                response = modem.request("GET", web.url(f"/bytes/{size}"), profile=profile)
                body = response.read()
                elapsed = time.monotonic() - t0
                ok = hashlib.sha256(body).digest() == hashlib.sha256(
                    deterministic_bytes(size)
                ).digest()
                console.print(
                    f"  HTTP {response.status} {escape(response.reason)}: {len(body)} bytes in "
                    f"{elapsed:.2f} s, SHA-256 {'matches' if ok else 'DOES NOT MATCH'}"
                )
                if not ok:
                    raise CellTLSError("the downloaded body differs from what the server sent")
                message = b'{"hello": "from a virtual Quectel M66"}'
                step(f"8. HTTPS POST {web.url('/echo')} on the same connection (keep-alive)")
                t0 = time.monotonic()
                response = modem.request(
                    "POST", web.url("/echo"), profile=profile, body=message,
                    headers=[("Content-Type", "application/json")],
                )
                echoed = response.read()
                console.print(
                    f"  HTTP {response.status} {escape(response.reason)}: server echoed "
                    f"{escape(echoed.decode(errors='replace'))} in {time.monotonic() - t0:.2f} s"
                )
                if echoed != message:
                    raise CellTLSError("the server did not echo the POST body intact")
    step("Done: HTTPS GET and POST through the virtual modem, server verified (chain and "
         "dates; host name not checkable by this module).")
