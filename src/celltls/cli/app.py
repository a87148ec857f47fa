"""The ``celltls`` command: get, post, sim, demo, doctor.

Bodies go to stdout (or ``-o FILE``) like curl; progress, steps and errors go to stderr. A
failure prints exactly one line, ``celltls: error: <what> (<evidence>); <what to do>``, and exits
with the error's curl exit code (:attr:`celltls.errors.CellTLSError.exit_code`: 6, 7, 18, 22,
28, 35, 60...; 130 after Ctrl-C); never a traceback unless ``--debug`` asks for one.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Annotated, BinaryIO
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from celltls.cli.dialects import complete_dialect, complete_simulated
from celltls.errors import (
    ATTimeoutError,
    CellTLSError,
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateVerifyError,
    ConnectionRefusedByServer,
    ConnectTimeoutError,
    CredentialError,
    DNSError,
    HostnameMismatchError,
    HTTPError,
    HTTPStatusError,
    InvalidURLError,
    ModuleRebootedError,
    NetworkError,
    NetworkLostError,
    PartialBodyError,
    PortError,
    PortLostError,
    SocketError,
    TLSError,
    TLSNegotiationError,
    TransferTimeoutError,
    UnsafeArgumentError,
)
from celltls.http import check_header
from celltls.modem import Modem, parse_https_url
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
    str | None, typer.Option(
        "--dialect", "-d", autocompletion=complete_dialect,
        help="Module dialect (default: identify the module); `celltls dialects` lists them")
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
    bool, typer.Option("--insecure", "-k", help="Do NOT verify the server (encryption only); "
                       "implies --no-check-hostname")
]
NoCheckHostnameOpt = Annotated[
    bool, typer.Option("--no-check-hostname", help="Accept a certificate from --ca whatever "
                       "host name it was issued for (chain and dates are still verified). "
                       "Needed on modules whose TLS cannot check host names (Quectel GSM, "
                       "Sierra); said with a warning")
]
ConnectTimeoutOpt = Annotated[
    float | None, typer.Option("--connect-timeout", metavar="SECONDS",
                               help="Longest time for name resolution, TCP and TLS through "
                               "the module (exit 28 when exceeded)")
]
MaxTimeOpt = Annotated[
    float | None, typer.Option("--max-time", "-m", metavar="SECONDS",
                               help="Longest time for the whole transfer, port to last byte "
                               "(exit 28 when exceeded)")
]
KeepPartialOpt = Annotated[
    bool, typer.Option("--keep-partial", help="Keep the -o file of a failed transfer (by "
                       "default an incomplete file is removed)")
]
DebugOpt = Annotated[
    bool, typer.Option("--debug", help="Print the traceback of a failure before its one line")
]
HeaderOpt = Annotated[
    list[str] | None, typer.Option("--header", "-H", help="Extra header 'Name: value' (repeat)")
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the body here; removed again if "
                              "the transfer fails (see --keep-partial)")
]
TraceOpt = Annotated[
    Path | None, typer.Option("--trace", help="Record the AT session as a transcript")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show AT traffic and status")]
FailOpt = Annotated[bool, typer.Option("--fail", "-f", help="Exit 22 on HTTP status >= 400")]


def main() -> None:
    """Entry point of the ``celltls`` script."""
    app()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``celltls: error: <message>`` as one line on stderr and return an Exit to raise.

    Line breaks in ``message`` become spaces, and the line is never wrapped.
    """
    typer.echo(f"celltls: error: {_one_line(message)}", err=True)
    return typer.Exit(code)


def _one_line(text: str) -> str:
    return re.sub(r"\s*[\r\n]+\s*", " ", text).strip()


#: What to do, by cause, for errors whose message does not already say (most specific first).
_ADVICE: tuple[tuple[type[BaseException], str], ...] = (
    (HostnameMismatchError, "connect with a name the certificate was issued for, or have the "
     "certificate reissued for this one"),
    (CertificateExpiredError, "renew the server's certificate, or check the module's clock"),
    (CertificateNotYetValidError, "check the module's clock, or wait until the certificate is "
     "valid"),
    (CertificateVerifyError, "give --ca the root CA that issued the server's chain"),
    (TLSNegotiationError, "let the server offer a TLS version and cipher suite the module has"),
    (TLSError, "record the session with --trace and let `celltls doctor` explain it"),
    (DNSError, "check the host name, and that the network's DNS answers (--apn)"),
    (ConnectionRefusedByServer, "check the port, and that the server is running"),
    (ConnectTimeoutError, "check that the server is reachable from the cellular network, or "
     "allow more time with --connect-timeout"),
    (TransferTimeoutError, "allow more time with --max-time, or check the signal"),
    (NetworkLostError, "check coverage, the SIM and --apn, then retry"),
    (ModuleRebootedError, "check the module's power supply, then retry"),
    (NetworkError, "check the antenna, the SIM and --apn"),
    (PartialBodyError, "retry the transfer"),
    (HTTPStatusError, "check the URL and what the server expects"),
    (HTTPError, "the server's answer is not HTTP/1.1 as celltls reads it; check the server"),
    (InvalidURLError, "write it as https://host[:port]/path"),
    (UnsafeArgumentError, "remove or replace that character"),
    (PortLostError, "check the cable or adapter and the module's power, then retry"),
    (PortError, "check --port (/dev/ttyUSB0, /dev/pts/N, socket://host:port) and that no "
     "other program holds it"),
    (ATTimeoutError, "check that the module is powered and answers at --baudrate"),
    (CredentialError, "check the PEM file"),
    (SocketError, "retry; the module reported the socket failed"),
)


def error_line(exc: BaseException, note: str = "") -> str:
    """The one line a failure prints: ``celltls: error: <what> (<evidence>); <what to do>``.

    ``<what>`` and ``<evidence>`` come from the exception's message; ``<what to do>`` is
    added by cause when the message does not already give it (no ``;`` in it).

    Args:
        exc: the failure.
        note: what the CLI did about it (a partial file removed...), appended last.
    """
    text = _one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, HostnameMismatchError) and exc.names:
        names = ", ".join(exc.names)
        if names not in text:
            text += f" (the certificate is for: {names})"
    if ";" not in text:
        advice = next((a for kind, a in _ADVICE if isinstance(exc, kind)), "")
        if advice:
            text += f"; {advice}"
    if note:
        text += f"; {note}"
    return f"celltls: error: {text}"


def _report(exc: BaseException, code: int, debug: bool, note: str = "") -> typer.Exit:
    """Print the failure (with its traceback first when ``debug``) and return the Exit."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    typer.echo(error_line(exc, note), err=True)
    return typer.Exit(code)


def build_profile(
    ca: Path | None, cert: Path | None, key: Path | None, insecure: bool,
    check_hostname: bool = True,
) -> TlsProfile:
    """The TLS profile the CLI options describe.

    Args:
        ca, cert, key: PEM files (``--ca``, ``--cert``, ``--key``).
        insecure: ``--insecure``: no verification at all.
        check_hostname: ``False`` for ``--no-check-hostname`` (the library logs a warning).

    Raises:
        CellTLSError: missing or unreadable files, or an impossible combination.
    """
    client_cert = Certificate.from_file(cert) if cert else None
    client_key = PrivateKey.from_file(key) if key else None
    if (client_cert is None) != (client_key is None):
        raise CellTLSError("--cert and --key go together")
    if insecure:
        err.print("[yellow]warning:[/] --insecure: the server is NOT verified", soft_wrap=True)
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
        client_key=client_key, check_hostname=check_hostname,
    )


def parse_headers(values: list[str] | None) -> list[tuple[str, str]]:
    """``["Name: value"]`` -> ``[("Name", "value")]``.

    Raises:
        UnsafeArgumentError: a header without a colon or without a name, or a name or value
            HTTP cannot carry (:func:`celltls.http.check_header`).
    """
    headers = []
    for item in values or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise UnsafeArgumentError("header", item, "is not 'Name: value'")
        headers.append(check_header(name.strip(), value.strip()))
    return headers


class _Output:
    """Where the body goes: stdout, or ``-o FILE`` opened when the first byte is due."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.created = False
        self._handle: BinaryIO | None = None

    @contextlib.contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.path is None:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
            return
        with open(self.path, "wb") as handle:
            self.created = True
            yield handle

    def discard(self) -> str:
        """Remove a file this run created; return what was done, for the error line."""
        if self.path is None or not self.created:
            return ""
        try:
            self.path.unlink()
        except OSError as exc:
            return f"the partial file {self.path} could not be removed: {exc}"
        return f"the partial file {self.path} was removed (--keep-partial keeps it)"


#: what each phase of a transfer is, for timeout and interruption messages.
_PHASES = {
    "start": "reading the options",
    "open": "opening the port and identifying the module",
    "attach": "bringing the network up",
    "connect": "connecting (name resolution, TCP and TLS through the module)",
    "send": "sending the request",
    "wait": "waiting for the response head",
    "receive": "receiving the body",
}


class _Watchdog:
    """The transfer's deadlines (``--connect-timeout``, ``--max-time``) and its phase.

    A helper thread waits for the nearest deadline, then interrupts the main thread with
    SIGALRM (``signal.pthread_kill``), whose handler raises the timeout error there: blocking
    waits are interrupted as by Ctrl-C, and the ``with`` blocks close what was opened. Outside
    the main thread (no signals there), deadlines are not enforced.
    """

    def __init__(self, connect_timeout: float | None, max_time: float | None,
                 target: str) -> None:
        for name, value in (("--connect-timeout", connect_timeout), ("--max-time", max_time)):
            if value is not None and (not math.isfinite(value) or value <= 0):
                raise UnsafeArgumentError(name, str(value), "must be a positive number of "
                                          "seconds")
        self.connect_timeout = connect_timeout
        self.max_time = max_time
        self.target = target
        self.phase = "start"
        self.received = 0
        self.expected: int | None = None
        self._start = time.monotonic()
        self._connect_deadline: float | None = None
        self._cond = threading.Condition()
        self._stopped = False
        self._error: CellTLSError | None = None
        self._thread: threading.Thread | None = None
        self._installed = False

    def describe(self) -> str:
        """The current phase in words, with the bytes received in the body phase."""
        text = _PHASES.get(self.phase, self.phase)
        if self.phase == "receive":
            of = f" of {self.expected}" if self.expected is not None else ""
            text += f", {self.received}{of} bytes received"
        return text

    def enter(self, phase: str) -> None:
        """Record that ``phase`` begins (``"connect"`` starts the connect deadline)."""
        with self._cond:
            self.phase = phase
            self._connect_deadline = (
                time.monotonic() + self.connect_timeout
                if phase == "connect" and self.connect_timeout else None
            )
            self._cond.notify_all()

    def __enter__(self) -> _Watchdog:
        wanted = self.connect_timeout is not None or self.max_time is not None
        if wanted and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGALRM, self._on_alarm)
            self._installed = True
            self._thread = threading.Thread(target=self._run, name="celltls-watchdog",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()  # a signal it sent is handled here, while still ours
            self._thread = None
        if self._installed:
            # Not SIG_DFL: a late SIGALRM must never end the process.
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            self._installed = False

    def _nearest(self) -> tuple[float, str] | None:
        deadlines = []
        if self.max_time is not None:
            deadlines.append((self._start + self.max_time, "max-time"))
        if self._connect_deadline is not None:
            deadlines.append((self._connect_deadline, "connect"))
        return min(deadlines) if deadlines else None

    def _run(self) -> None:
        with self._cond:
            while not self._stopped:
                nearest = self._nearest()
                if nearest is None:
                    self._cond.wait()
                    continue
                remaining = nearest[0] - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                self._error = self._timeout(nearest[1])
                self._stopped = True
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGALRM)

    def _timeout(self, which: str) -> CellTLSError:
        if which == "connect":
            return ConnectTimeoutError(
                f"no connection to {self.target} within --connect-timeout "
                f"{self.connect_timeout:g} s (phase: {self.describe()})"
            )
        return TransferTimeoutError(
            f"the transfer did not finish within --max-time {self.max_time:g} s (phase: "
            f"{self.describe()})", phase=self.phase, timeout=self.max_time or 0.0,
        )

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,  # this run's stderr, also when called again in one process (tests)
    )


def _transfer(
    method: str, url: str, *, port: str, dialect: str | None, baudrate: int, apn: str,
    ca: Path | None, cert: Path | None, key: Path | None, insecure: bool,
    header: list[str] | None, output: Path | None, trace: Path | None, verbose: bool,
    fail_on_status: bool, body: bytes | None = None, check_hostname: bool = True,
    connect_timeout: float | None = None, max_time: float | None = None,
    keep_partial: bool = False, debug: bool = False,
) -> None:
    _setup_logging(verbose)
    out = _Output(output)
    watch: _Watchdog | None = None
    try:
        watch = _Watchdog(connect_timeout, max_time, _target_of(url))
        with watch:
            _run_transfer(
                watch, out, method, url, port=port, dialect=dialect, baudrate=baudrate,
                apn=apn, ca=ca, cert=cert, key=key, insecure=insecure, header=header,
                trace=trace, verbose=verbose, fail_on_status=fail_on_status, body=body,
                check_hostname=check_hostname, connect_timeout=connect_timeout,
            )
    except KeyboardInterrupt as exc:
        note = "" if keep_partial else out.discard()
        phase = watch.describe() if watch is not None else "starting"
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
        raise fail(f"interrupted (Ctrl-C) while {phase}; what this run opened was closed"
                   + (f"; {note}" if note else ""), 130) from None
    except CellTLSError as exc:
        note = "" if keep_partial else out.discard()
        raise _report(exc, exc.exit_code, debug, note) from None
    except OSError as exc:
        # Not celltls's: the -o file or stdout (curl: 23, write error).
        note = "" if keep_partial else out.discard()
        what = f"cannot write the body to {output or 'stdout'}: {exc.strerror or exc}"
        raise _report(OSError(what), 23, debug, note) from None
    except Exception as exc:  # a bug: still one line, the traceback with --debug
        note = "" if keep_partial else out.discard()
        bug = RuntimeError(f"unexpected {type(exc).__name__}: {exc} (a bug in celltls); run "
                           "again with --debug and report the traceback")
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
        raise _report(bug, 1, False, note) from None


def _target_of(url: str) -> str:
    """``host:port`` of a URL for messages (the URL itself when it cannot be split)."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port or 443}"
    except ValueError:
        return url


def _run_transfer(
    watch: _Watchdog, out: _Output, method: str, url: str, *, port: str,
    dialect: str | None, baudrate: int, apn: str, ca: Path | None, cert: Path | None,
    key: Path | None, insecure: bool, header: list[str] | None, trace: Path | None,
    verbose: bool, fail_on_status: bool, body: bytes | None, check_hostname: bool,
    connect_timeout: float | None,
) -> None:
    # What can be checked without the module is checked before the port is opened.
    parse_https_url(url)
    profile = build_profile(ca, cert, key, insecure, check_hostname)
    headers = parse_headers(header)
    watch.enter("open")
    with Modem(port, dialect, baudrate=baudrate, trace=trace) as modem:
        watch.enter("attach")
        status = modem.attach(apn)
        if verbose:
            err.print(f"network up: IP {status.ip_address}, APN {apn!r}")
        # --connect-timeout is kept on the host (the watchdog); the module gets at least its
        # usual 90 s, as some modules take no shorter connect timeout (Quectel: 10..300 s).
        response = modem.request(
            method, url, profile=profile, headers=headers, body=body,
            timeout=max(connect_timeout or 0.0, 90.0), on_phase=watch.enter,
        )
        if verbose:
            err.print(f"HTTP/{response.http_version} {response.status} {response.reason}")
        if fail_on_status:
            response.raise_for_status()  # before any byte of the body is written (curl -f)
        total = response.content_length
        watch.expected = total
        show = method != "HEAD" and (total is None or total > PROGRESS_THRESHOLD)
        with out.open() as sink:
            if show:
                with Progress(
                    "[progress.description]{task.description}", BarColumn(),
                    DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
                    console=err, transient=True,
                ) as bar:
                    task = bar.add_task("download", total=total)
                    for chunk in response.iter_bytes():
                        sink.write(chunk)
                        watch.received += len(chunk)
                        bar.update(task, advance=len(chunk))
            else:
                for chunk in response.iter_bytes():
                    sink.write(chunk)
                    watch.received += len(chunk)


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
    no_check_hostname: NoCheckHostnameOpt = False,
    connect_timeout: ConnectTimeoutOpt = None,
    max_time: MaxTimeOpt = None,
    keep_partial: KeepPartialOpt = False,
    debug: DebugOpt = False,
) -> None:
    """HTTPS GET through the module; the body goes to stdout (or -o FILE)."""
    _transfer(
        "GET", url, port=port, dialect=dialect, baudrate=baudrate, apn=apn, ca=ca, cert=cert,
        key=key, insecure=insecure, header=header, output=output, trace=trace, verbose=verbose,
        fail_on_status=fail_on_status, check_hostname=not no_check_hostname,
        connect_timeout=connect_timeout, max_time=max_time, keep_partial=keep_partial,
        debug=debug,
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
    no_check_hostname: NoCheckHostnameOpt = False,
    connect_timeout: ConnectTimeoutOpt = None,
    max_time: MaxTimeOpt = None,
    keep_partial: KeepPartialOpt = False,
    debug: DebugOpt = False,
) -> None:
    """HTTPS POST through the module; --data TEXT or --data @FILE."""
    try:
        body = (Path(data[1:]).read_bytes() if data.startswith("@")
                else data.encode("utf-8", "surrogateescape"))
    except OSError as exc:  # curl: 26, read error
        raise fail(f"cannot read {data[1:]} ({exc.strerror or exc}); check the file given "
                   "as --data @FILE", 26) from None
    names = {h.partition(":")[0].strip().lower() for h in header or []}
    if "content-type" not in names:
        header = [*(header or []), "Content-Type: application/octet-stream"
                  if data.startswith("@") else "Content-Type: text/plain; charset=utf-8"]
    _transfer(
        "POST", url, port=port, dialect=dialect, baudrate=baudrate, apn=apn, ca=ca, cert=cert,
        key=key, insecure=insecure, header=header, output=output, trace=trace, verbose=verbose,
        fail_on_status=fail_on_status, body=body, check_hostname=not no_check_hostname,
        connect_timeout=connect_timeout, max_time=max_time, keep_partial=keep_partial,
        debug=debug,
    )


@app.command()
def sim(
    dialect: Annotated[str, typer.Argument(
        autocompletion=complete_simulated,
        help="Dialect to simulate, e.g. quectel-gsm (`celltls dialects` lists them)")],
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
    except CellTLSError as exc:
        raise _report(exc, exc.exit_code, False) from None
    except (OSError, ValueError, KeyError) as exc:
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
        raise _report(exc, exc.exit_code, False) from None
    except KeyboardInterrupt:
        raise fail("interrupted (Ctrl-C); the demo's servers were stopped", 130) from None


def _register_optional() -> None:
    from celltls.cli import dialects

    dialects.register(app)
    try:
        from celltls.cli import doctor
    except ImportError:  # the doctor ships in the same package; tolerate a partial install
        return
    doctor.register(app)


_register_optional()
