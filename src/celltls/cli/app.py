"""The ``celltls`` command: get, post, sim, demo, doctor.

Bodies go to stdout (or ``-o FILE``) like curl; progress, steps and errors go to stderr. A
failure prints one clear line and exits non-zero.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from celltls.errors import CellTLSError
from celltls.modem import Modem
from celltls.tls import Certificate, PrivateKey, TlsProfile, Verify

app = typer.Typer(
    name="celltls",
    help="TLS and HTTPS through a cellular module's AT command port, for every vendor dialect.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)

#: responses larger than this (or of unknown length) get a progress bar on stderr, bytes.
PROGRESS_THRESHOLD = 64 * 1024

PortOpt = Annotated[
    str, typer.Option("--port", "-p", help="Serial port or URL: /dev/ttyUSB0, /dev/pts/N, "
                      "socket://127.0.0.1:7000")
]
DialectOpt = Annotated[
    str | None, typer.Option("--dialect", "-d", help="Module dialect (default: detect from ATI)")
]
BaudOpt = Annotated[int, typer.Option("--baudrate", help="Serial speed, bit/s")]
ApnOpt = Annotated[
    str, typer.Option("--apn", help="APN of the PDP context (\"\": the network's default); the "
                      "network is brought up first unless it already is")
]
CaOpt = Annotated[
    Path | None, typer.Option("--ca", help="Root CA certificate (PEM) that issued the server's "
                              "chain; needed unless --insecure")
]
CertOpt = Annotated[Path | None, typer.Option("--cert", help="Client certificate (PEM)")]
KeyOpt = Annotated[Path | None, typer.Option("--key", help="Client private key (PEM)")]
InsecureOpt = Annotated[
    bool, typer.Option("--insecure", "-k", help="Do NOT verify the server (encryption only)")
]
HeaderOpt = Annotated[
    list[str] | None, typer.Option("--header", "-H", help="Extra header 'Name: value' (repeat)")
]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the body here")]
TraceOpt = Annotated[
    Path | None, typer.Option("--trace", help="Record the AT session as a transcript")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show AT traffic and status")]
FailOpt = Annotated[bool, typer.Option("--fail", "-f", help="Exit 22 on HTTP status >= 400")]


def main() -> None:
    """Entry point of the ``celltls`` script."""
    app()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``celltls: error: <message>`` on stderr and return an Exit to raise."""
    err.print(f"[bold red]celltls: error:[/] {escape(message)}")
    return typer.Exit(code)


def build_profile(
    ca: Path | None, cert: Path | None, key: Path | None, insecure: bool
) -> TlsProfile:
    """The TLS profile the CLI options describe.

    Raises:
        CellTLSError: missing or unreadable files, or an impossible combination.
    """
    client_cert = Certificate.from_file(cert) if cert else None
    client_key = PrivateKey.from_file(key) if key else None
    if (client_cert is None) != (client_key is None):
        raise CellTLSError("--cert and --key go together")
    if insecure:
        err.print("[yellow]warning:[/] --insecure: the server is NOT verified")
        return TlsProfile(
            verify=Verify.NONE, ca=Certificate.from_file(ca) if ca else None,
            client_cert=client_cert, client_key=client_key,
        )
    if ca is None:
        raise CellTLSError(
            "server verification needs --ca FILE (the root CA that issued the server's "
            "certificate); --insecure turns verification off"
        )
    verify = Verify.MUTUAL if client_cert else Verify.SERVER
    return TlsProfile(
        verify=verify, ca=Certificate.from_file(ca), client_cert=client_cert,
        client_key=client_key,
    )


def parse_headers(values: list[str] | None) -> list[tuple[str, str]]:
    """``["Name: value"]`` -> ``[("Name", "value")]``.

    Raises:
        CellTLSError: a header without a colon.
    """
    headers = []
    for item in values or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise CellTLSError(f"header {item!r} is not 'Name: value'")
        headers.append((name.strip(), value.strip()))
    return headers


@contextlib.contextmanager
def _output(path: Path | None) -> Iterator[BinaryIO]:
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    else:
        with open(path, "wb") as handle:
            yield handle


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _transfer(
    method: str, url: str, *, port: str, dialect: str | None, baudrate: int, apn: str,
    ca: Path | None, cert: Path | None, key: Path | None, insecure: bool,
    header: list[str] | None, output: Path | None, trace: Path | None, verbose: bool,
    fail_on_status: bool, body: bytes | None = None,
) -> None:
    _setup_logging(verbose)
    try:
        profile = build_profile(ca, cert, key, insecure)
        headers = parse_headers(header)
        with Modem(port, dialect, baudrate=baudrate, trace=trace) as modem:
            status = modem.attach(apn)
            if verbose:
                err.print(f"network up: IP {status.ip_address}, APN {apn!r}")
            response = modem.request(method, url, profile=profile, headers=headers, body=body)
            if verbose:
                err.print(f"HTTP/{response.http_version} {response.status} {response.reason}")
            total = response.content_length
            show = method != "HEAD" and (total is None or total > PROGRESS_THRESHOLD)
            with _output(output) as sink:
                if show:
                    with Progress(
                        "[progress.description]{task.description}", BarColumn(),
                        DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                        console=err, transient=True,
                    ) as bar:
                        task = bar.add_task("download", total=total)
                        for chunk in response.iter_bytes():
                            sink.write(chunk)
                            bar.update(task, advance=len(chunk))
                else:
                    for chunk in response.iter_bytes():
                        sink.write(chunk)
            if fail_on_status and response.status >= 400:
                raise fail(f"HTTP {response.status} {response.reason}", 22)
    except CellTLSError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(str(exc)) from None


@app.command()
def get(
    url: Annotated[str, typer.Argument(help="https://host[:port]/path")],
    port: PortOpt,
    dialect: DialectOpt = None,
    baudrate: BaudOpt = 115200,
    apn: ApnOpt = "",
    ca: CaOpt = None,
    cert: CertOpt = None,
    key: KeyOpt = None,
    insecure: InsecureOpt = False,
    header: HeaderOpt = None,
    output: OutputOpt = None,
    trace: TraceOpt = None,
    verbose: VerboseOpt = False,
    fail_on_status: FailOpt = False,
) -> None:
    """HTTPS GET through the module; the body goes to stdout (or -o FILE)."""
    _transfer(
        "GET", url, port=port, dialect=dialect, baudrate=baudrate, apn=apn, ca=ca, cert=cert,
        key=key, insecure=insecure, header=header, output=output, trace=trace, verbose=verbose,
        fail_on_status=fail_on_status,
    )


@app.command()
def post(
    url: Annotated[str, typer.Argument(help="https://host[:port]/path")],
    port: PortOpt,
    data: Annotated[str, typer.Option("--data", help="Body text, or @FILE to send a file")],
    dialect: DialectOpt = None,
    baudrate: BaudOpt = 115200,
    apn: ApnOpt = "",
    ca: CaOpt = None,
    cert: CertOpt = None,
    key: KeyOpt = None,
    insecure: InsecureOpt = False,
    header: HeaderOpt = None,
    output: OutputOpt = None,
    trace: TraceOpt = None,
    verbose: VerboseOpt = False,
    fail_on_status: FailOpt = False,
) -> None:
    """HTTPS POST through the module; --data TEXT or --data @FILE."""
    try:
        body = Path(data[1:]).read_bytes() if data.startswith("@") else data.encode()
    except OSError as exc:
        raise fail(f"cannot read {data[1:]}: {exc}") from None
    names = {h.partition(":")[0].strip().lower() for h in header or []}
    if "content-type" not in names:
        header = [*(header or []), "Content-Type: application/octet-stream"
                  if data.startswith("@") else "Content-Type: text/plain; charset=utf-8"]
    _transfer(
        "POST", url, port=port, dialect=dialect, baudrate=baudrate, apn=apn, ca=ca, cert=cert,
        key=key, insecure=insecure, header=header, output=output, trace=trace, verbose=verbose,
        fail_on_status=fail_on_status, body=body,
    )


@app.command()
def sim(
    dialect: Annotated[str, typer.Argument(help="Dialect to simulate, e.g. quectel-gsm")],
    listen: Annotated[
        str | None, typer.Option("--listen", help="Serve on HOST:PORT (TCP, socket://)")
    ] = None,
    pty: Annotated[bool, typer.Option("--pty", help="Serve on a new pseudo-terminal")] = False,
    baudrate: Annotated[
        int | None, typer.Option("--baudrate", help="Pace the line at this speed, bit/s")
    ] = None,
    latency: Annotated[
        float, typer.Option("--latency", help="Seconds added per network round trip")
    ] = 0.0,
    model: Annotated[str | None, typer.Option("--model", help="Model to present")] = None,
    verbose: VerboseOpt = False,
) -> None:
    """Run a virtual modem. Its first line on stdout is the address or pty path to open."""
    from celltls.sim import serve

    _setup_logging(verbose)
    if pty == (listen is not None):
        raise fail("give exactly one of --listen HOST:PORT or --pty", 2)
    try:
        serve.run(dialect, listen=listen, pty=pty, baudrate=baudrate, latency=latency,
                  model=model)
    except (CellTLSError, OSError, ValueError, KeyError) as exc:
        raise fail(str(exc)) from None


@app.command()
def demo(
    verbose: VerboseOpt = False,
) -> None:
    """Run HTTPS GET and POST through a virtual Quectel GSM modem, with no hardware."""
    from celltls.cli.demo import run_demo

    _setup_logging(verbose)
    try:
        run_demo(Console(highlight=False))
    except CellTLSError as exc:
        raise fail(str(exc)) from None


def _register_optional() -> None:
    try:
        from celltls.cli import doctor
    except ImportError:  # the doctor ships in the same package; tolerate a partial install
        return
    doctor.register(app)


_register_optional()
