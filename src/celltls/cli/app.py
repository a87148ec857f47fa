"""The ``celltls`` command: get, post, sim, demo, doctor, dialects.

``celltls get``/``post`` take curl's options with curl's meanings (``-X``, ``-I``, ``-i``, ``-L``,
``--max-redirs``, ``-d``/``--data`` with ``@FILE`` and ``@-``, ``--json``, ``-H``, ``-o``,
``-w``, ``-s``/``-S``, ``-f``, ``-k``, ``-m``, ``--connect-timeout``, ``-v``; see docs/cli.md),
plus ``--port`` for the module. Bodies go to stdout (or ``-o FILE``) like curl; progress, steps
and errors go to stderr. A failure prints exactly one line, ``celltls: error: <what>
(<evidence>); <what to do>``, and exits with the error's curl exit code
(:attr:`celltls.errors.CellTLSError.exit_code`: 6, 7, 18, 22, 28, 35, 47, 60...; 130 after
Ctrl-C); never a traceback unless ``--debug`` asks for one.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import inspect
import logging
import math
import os
import re
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO
from urllib.parse import urljoin, urlsplit

import typer

if TYPE_CHECKING:  # rich.progress is imported when a bar is first shown (start-up time)
    from rich.progress import Progress, TaskID

from celltls.cli.dialects import complete_dialect, complete_simulated
from celltls.dialects import registry
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
    EmptyReplyError,
    HostnameMismatchError,
    HTTPError,
    HTTPStatusError,
    InsecureRedirectError,
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
    TooManyRedirectsError,
    TransferTimeoutError,
    UnsafeArgumentError,
)

if TYPE_CHECKING:  # imported where used (the commands), so that --help and --version start fast
    from rich.console import Console

    from celltls.http import BaseResponse
    from celltls.tls import Certificate, PrivateKey, TlsProfile

app = typer.Typer(
    name="celltls",
    help="TLS and HTTPS through a cellular module's AT command port, for every vendor dialect.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    # plain click help text, as curl's: typer's rich help formatter alone costs ~90 ms of
    # imports (rich.markdown, markdown_it) on every --help (issue 17, CLI start-up)
    rich_markup_mode=None,
)


@functools.cache
def _err() -> Console:
    """The stderr console (rich), made on first use: importing rich.console costs ~25 ms of
    every start-up, --help included."""
    from rich.console import Console

    return Console(stderr=True, highlight=False)


#: responses and uploads larger than this (or of unknown length) get a progress bar on stderr
#: when it is a terminal, bytes.
PROGRESS_THRESHOLD = 64 * 1024
#: curl's default --max-redirs.
MAX_REDIRS = 50


class TlsWhere(enum.StrEnum):
    """Where TLS runs (:meth:`celltls.Modem.request`'s ``tls``)."""

    auto = "auto"
    module = "module"
    host = "host"


class Via(enum.StrEnum):
    """How the request is made (:meth:`celltls.Modem.request`'s ``via``)."""

    auto = "auto"
    socket = "socket"
    native = "native"


def _registry_choices() -> tuple[str, str]:
    """The drivable dialects and their models, for --help (read from the registry, so that
    plug-ins appear); empty when the registry cannot be read."""
    try:
        infos = [info for info in registry.all_dialects() if info.driver is not None]
    except Exception as exc:  # a broken plug-in must not take --help down with it
        logging.getLogger(__name__).debug("reading the dialects for --help: %s", exc)
        return "", ""
    dialects = ", ".join(info.name for info in infos)
    models = "; ".join(f"{info.name}: {', '.join(info.models)}" for info in infos if info.models)
    return dialects, models


_DIALECT_CHOICES, _MODEL_CHOICES = _registry_choices()


def complete_model(incomplete: str) -> list[str]:
    """Shell completion of ``--model``: the models of every drivable dialect."""
    models = {m for info in registry.all_dialects() if info.driver is not None
              for m in info.models}
    return sorted(m for m in models if m.lower().startswith(incomplete.lower()))


UrlArg = Annotated[str, typer.Argument(help="https://host[:port]/path")]
PortOpt = Annotated[
    str, typer.Option("--port", "-p", help="Serial port or URL: /dev/ttyUSB0, /dev/pts/N, "
                      "socket://127.0.0.1:7000")
]
DialectOpt = Annotated[
    str | None, typer.Option(
        "--dialect", autocompletion=complete_dialect,
        help="Module dialect (default: identify the module with ATI/AT+CGMI/AT+CGMM)"
        + (f": {_DIALECT_CHOICES}" if _DIALECT_CHOICES else "; `celltls dialects` lists them"))
]
ModelOpt = Annotated[
    str | None, typer.Option(
        "--model", autocompletion=complete_model,
        help="Module model, for drivers that cannot read it from the module"
        + (f" ({_MODEL_CHOICES})" if _MODEL_CHOICES else ""))
]
ViaOpt = Annotated[
    Via, typer.Option("--via", case_sensitive=False,
                      help="auto: HTTP over the module's secure socket when it has one, else "
                      "its own HTTP client; socket; native (the module's HTTP client)")
]
TlsOpt = Annotated[
    TlsWhere, typer.Option(
        "--tls", case_sensitive=False,
        help="Where TLS runs: module (the module's own TLS: keys stay in it, its versions and "
        "suites, no host-name check on most modules); host (TLS 1.3/1.2 in celltls over the "
        "module's plain TCP socket: full verification with host names, certifi's roots "
        "without --ca); auto (the module when it can serve the server and the profile, the "
        "host otherwise; -v says which)")
]
TransparentOpt = Annotated[
    bool | None, typer.Option(
        "--transparent/--no-transparent",
        help="The module's transparent mode. Default: where the module prefers it for a "
        "request the server ends by closing (Quectel GSM module TLS: the payload flows without "
        "an AT+QSSLRECV per 1500 bytes; get and post send Connection: close). --transparent: "
        "also "
        "where the driver offers it otherwise (XBee3: the serial line is the socket, instead "
        "of API frames); --no-transparent: never")
]
NoCacheOpt = Annotated[
    bool, typer.Option(
        "--no-cache",
        help="Neither read nor write the state file in which celltls records what it wrote "
        "into a module that cannot read it back (Sierra certificates; $CELLTLS_STATE, else "
        "~/.cache/celltls/state.json): everything is written again")
]
BaudOpt = Annotated[int, typer.Option("--baudrate", help="Serial speed, bit/s")]
ApnOpt = Annotated[
    str, typer.Option("--apn", help="APN of the PDP context (\"\": the network's default); the "
                      "network is brought up first unless it already is")
]
CaOpt = Annotated[
    str | None, typer.Option(
        "--ca", "--cacert", metavar="FILE|certifi",
        help="Root CA certificate(s), PEM, that issued the server's chain, or the word certifi "
        "(Mozilla's roots); from a bundle the root that issued the server's chain is picked by "
        "a handshake from the host; needed unless --insecure")
]
CertOpt = Annotated[Path | None, typer.Option("--cert", "-E", help="Client certificate (PEM)")]
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
FailOpt = Annotated[bool, typer.Option("--fail", "-f", help="Exit 22 on HTTP status >= 400, "
                                       "writing no body")]
RequestOpt = Annotated[
    str | None, typer.Option("--request", "-X", metavar="METHOD",
                             help="Request method (also kept across -L redirects, as curl does)")
]
HeadOpt = Annotated[bool, typer.Option("--head", "-I", help="HEAD request; print the response "
                                       "headers")]
IncludeOpt = Annotated[bool, typer.Option("--include", "-i", help="Print the response headers "
                                          "before the body")]
LocationOpt = Annotated[bool, typer.Option("--location", "-L", help="Follow redirects (3xx with "
                                           "Location), https:// only")]
MaxRedirsOpt = Annotated[
    int, typer.Option("--max-redirs", metavar="N", help="Most redirects -L follows (-1: no "
                      "limit; exit 47 beyond)")
]
DataOpt = Annotated[
    list[str] | None, typer.Option(
        "--data", "-d", "--data-binary", metavar="DATA|@FILE|@-",
        help="Request body: text, @FILE, or @- (stdin), sent as is; repeated values are joined "
        "with &; makes a GET a POST; Content-Type application/x-www-form-urlencoded unless -H "
        "gives one")
]
JsonOpt = Annotated[
    list[str] | None, typer.Option(
        "--json", metavar="JSON|@FILE|@-",
        help="JSON request body (repeated values are concatenated); sets Content-Type and "
        "Accept to application/json; makes a GET a POST")
]
WriteOutOpt = Annotated[
    str | None, typer.Option(
        "--write-out", "-w", metavar="FORMAT|@FILE",
        help="Print FORMAT on stdout when done (also after a failure): %{http_code}, "
        "%{size_download}, %{size_upload}, %{time_total}, %{url_effective}, %{exitcode}, "
        "%{num_redirects}, %{content_type}, %{errormsg}, %{method}, %header{name}, \\n")
]
SilentOpt = Annotated[bool, typer.Option("--silent", "-s", help="No progress bar, warnings or "
                                         "error line (the exit code still tells)")]
ShowErrorOpt = Annotated[bool, typer.Option("--show-error", "-S", help="With -s: still print "
                                            "the error line")]


def _version() -> str:
    from celltls.cli import version_line

    return version_line()


def _show_version(value: bool) -> None:
    if value:
        typer.echo(_version())
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", "-V", is_eager=True, callback=_show_version,
        help="Print the version and the installed dialects, then exit")] = False,
) -> None:
    """TLS and HTTPS through a cellular module's AT command port, for every vendor dialect."""
    _quiet_warnings()


def _quiet_warnings(cryptography: bool = True) -> None:
    """Keep dependencies' warnings (CryptographyDeprecationWarning, DeprecationWarning) off the
    user's terminal; what else is warned goes through logging (shown with -v, not with -s).

    ``cryptography=False`` leaves cryptography's own class out (importing it costs start-up
    time); :func:`_root` adds it before any command runs, so before cryptography is imported.
    """
    if cryptography:
        from cryptography.utils import CryptographyDeprecationWarning

        warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
    logging.captureWarnings(True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``celltls`` script (and ``python -m celltls``).

    Usage errors (an unknown option, a missing value) are one ``celltls: error:`` line too,
    with exit code 2 (curl's for a bad command line).

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Raises:
        SystemExit: always, with the exit code.
    """
    _quiet_warnings(cryptography=False)  # --help and --version need no cryptography
    try:
        code = app(args=argv, prog_name="celltls", standalone_mode=False)
    except typer.TyperException as exc:  # typer's click: a usage error (2) or another
        ctx = getattr(exc, "ctx", None)
        where = f"; see `{ctx.command_path} --help`" if ctx is not None else ""
        message = _one_line(exc.format_message()).rstrip(".")
        if message:  # none after the help that no arguments show
            typer.echo(f"celltls: error: {message}{where}", err=True)
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("celltls: error: interrupted (Ctrl-C)", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


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
    (EmptyReplyError, "retry; if it keeps happening, check the server's logs (it closed the "
     "connection without answering)"),
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


def _load_credentials(cert: Path | None, key: Path | None
                      ) -> tuple[Certificate | None, PrivateKey | None]:
    from celltls.tls import Certificate, PrivateKey

    client_cert = Certificate.from_file(cert) if cert else None
    client_key = PrivateKey.from_file(key) if key else None
    if (client_cert is None) != (client_key is None):
        raise CellTLSError("--cert and --key go together")
    return client_cert, client_key


_NEEDS_CA = ("server verification needs --ca FILE (the root CA that issued the server's "
             "certificate, or a bundle, or the word certifi); --insecure turns verification "
             "off")


def build_profile(
    ca: Path | str | None, cert: Path | None, key: Path | None, insecure: bool,
    check_hostname: bool = True, *, host: str = "", port: int = 443,
    probe_timeout: float = 10.0, quiet: bool = False,
) -> TlsProfile:
    """The TLS profile the CLI options describe, for a server.

    Args:
        ca: ``--ca``: a PEM file of one or more CA certificates, or ``"certifi"`` (Mozilla's
            roots). From more than one, the root that issued ``host:port``'s chain is picked
            (see :meth:`celltls.integrations.cabundle.CaBundle.root_for`).
        cert, key: PEM files (``--cert``, ``--key``).
        insecure: ``--insecure``: no verification at all (said on stderr unless ``quiet``).
        check_hostname: ``False`` for ``--no-check-hostname`` (the library logs a warning).
        host, port: the server, for picking a root from a bundle.
        probe_timeout: seconds for that handshake from the host.
        quiet: ``-s``: no warning line.

    Raises:
        CellTLSError: no ``--ca`` without ``--insecure``, ``--cert`` without ``--key``.
        CredentialError: missing or unreadable files.
        CertificateVerifyError, ProfileError: see :meth:`CaBundle.root_for`.
    """
    return _Trust(ca, cert, key, insecure, check_hostname, quiet=quiet,
                  probe_timeout=probe_timeout).profile(host, port)


class _Trust:
    """The TLS profile of each server a transfer reaches (a redirect to another host picks
    its root from a --ca bundle again, and is verified again by the module)."""

    def __init__(self, ca: Path | str | None, cert: Path | None, key: Path | None,
                 insecure: bool, check_hostname: bool, *, quiet: bool = False,
                 probe_timeout: float = 10.0) -> None:
        from celltls.integrations.cabundle import CaBundle

        self.client_cert, self.client_key = _load_credentials(cert, key)
        self.insecure = insecure
        self.check_hostname = check_hostname
        self.probe_timeout = probe_timeout
        self.bundle = CaBundle.load(ca) if ca is not None else None
        if insecure:
            if not quiet:
                _err().print("[yellow]warning:[/] --insecure: the server is NOT verified",
                          soft_wrap=True)
        elif self.bundle is None:
            raise CellTLSError(_NEEDS_CA)
        self._profiles: dict[tuple[str, int], TlsProfile] = {}

    def profile(self, host: str, port: int) -> TlsProfile:
        from celltls.tls import TlsProfile, Verify

        known = self._profiles.get((host, port))
        if known is not None:
            return known
        if self.insecure:
            single = self.bundle.certificates[0] if self.bundle and len(self.bundle) == 1 else None
            profile = TlsProfile(verify=Verify.NONE, ca=single, client_cert=self.client_cert,
                                 client_key=self.client_key)
        else:
            assert self.bundle is not None
            root = self.bundle.root_for(host, port, timeout=self.probe_timeout)
            verify = Verify.MUTUAL if self.client_cert else Verify.SERVER
            profile = TlsProfile(verify=verify, ca=root, client_cert=self.client_cert,
                                 client_key=self.client_key, check_hostname=self.check_hostname)
        self._profiles[(host, port)] = profile
        return profile


def parse_headers(values: list[str] | None) -> list[tuple[str, str]]:
    """``["Name: value"]`` -> ``[("Name", "value")]``.

    Raises:
        UnsafeArgumentError: a header without a colon or without a name, or a name or value
            HTTP cannot carry (:func:`celltls.http.check_header`).
    """
    from celltls.http import check_header

    headers = []
    for item in values or []:
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise UnsafeArgumentError("header", item, "is not 'Name: value'")
        headers.append(check_header(name.strip(), value.strip()))
    return headers


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


class _Output:
    """Where the body goes: stdout, or ``-o FILE`` opened when the first byte is due."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.created = False

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


class _Bars:
    """Progress bars on stderr (rich): one per upload and download that is large or of unknown
    length; none when stderr is not a terminal or with ``-s``."""

    def __init__(self, console: Callable[[], Console], enabled: bool) -> None:
        self._console = console
        self._enabled = enabled
        self._progress: Progress | None = None

    @functools.cached_property
    def enabled(self) -> bool:
        """Whether bars are shown: not ``-s``, and stderr is a terminal (as rich decides it).
        rich is asked only when stderr may be one (a terminal, or rich's environment
        variables that force it): importing it costs ~25 ms of CPU (issue 17)."""
        forced = any(name in os.environ for name in ("FORCE_COLOR", "TTY_COMPATIBLE",
                                                     "TTY_INTERACTIVE"))
        return (self._enabled and (forced or sys.stderr.isatty())
                and self._console().is_terminal)

    def task(self, description: str, total: int | None) -> Callable[[int], None] | None:
        """A function taking the bytes done so far, or ``None`` when no bar is shown."""
        if not self.enabled or (total is not None and total <= PROGRESS_THRESHOLD):
            return None
        if self._progress is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeRemainingColumn(), console=self._console(),
                transient=True,
            )
            self._progress.start()
        progress = self._progress
        task: TaskID = progress.add_task(description, total=total)

        def update(done: int) -> None:
            progress.update(task, completed=done)

        return update

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


class _Failure(Exception):
    """A failure of the command line itself (not of celltls's library), with its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class _Upload:
    """The request body: bytes, or a file sent from disk (re-read for a 307/308 redirect)."""

    data: bytes | None = None
    path: Path | None = None
    content_type: str | None = None
    accept: str | None = None

    @property
    def size(self) -> int:
        if self.path is not None:
            return self.path.stat().st_size
        return len(self.data or b"")

    @contextlib.contextmanager
    def open(self) -> Iterator[bytes | BinaryIO]:
        if self.path is None:
            yield self.data or b""
            return
        with open(self.path, "rb") as handle:
            yield handle


def _read_pieces(values: list[str], option: str) -> list[bytes | Path]:
    pieces: list[bytes | Path] = []
    for value in values:
        if not value.startswith("@"):
            pieces.append(value.encode("utf-8", "surrogateescape"))
        elif value == "@-":
            pieces.append(sys.stdin.buffer.read())
        else:
            path = Path(value[1:])
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:  # curl: 26, read error
                raise _Failure(f"cannot read {path} ({exc.strerror or exc}); check the file "
                               f"given as {option} @FILE", 26) from None
            pieces.append(path)
    return pieces


def _build_upload(data: list[str] | None, json_parts: list[str] | None) -> _Upload | None:
    """The body -d/--data (joined with ``&``) or --json (concatenated) describe, or ``None``.

    Raises:
        _Failure: both given (exit 2), or a file that cannot be read (exit 26).
    """
    if data and json_parts:
        raise _Failure("--json and -d/--data cannot be combined; give the body once", 2)
    values = data or json_parts
    if not values:
        return None
    pieces = _read_pieces(values, "--data" if data else "--json")
    if json_parts:
        upload = _Upload(content_type="application/json", accept="application/json")
    else:
        upload = _Upload(content_type="application/x-www-form-urlencoded")
    if len(pieces) == 1 and isinstance(pieces[0], Path):
        upload.path = pieces[0]
        return upload
    joined = [p.read_bytes() if isinstance(p, Path) else p for p in pieces]
    upload.data = (b"" if json_parts else b"&").join(joined)
    return upload


@dataclass
class _Stats:
    """What -w/--write-out reports."""

    started: float = field(default_factory=time.monotonic)
    url: str = ""
    method: str = ""
    http_code: int = 0
    size_download: int = 0
    size_upload: int = 0
    num_redirects: int = 0
    exitcode: int = 0
    errormsg: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)


_WRITE_OUT = re.compile(r"%\{([a-z_]+)\}|%header\{([^}]*)\}|%%|\\[nrt\\]")
_ESCAPES = {"\\n": "\n", "\\r": "\r", "\\t": "\t", "\\\\": "\\"}


def write_out(fmt: str, stats: _Stats) -> str:
    """Expand a curl ``-w`` format: ``%{variable}``, ``%header{name}``, ``%%``, ``\\n``,
    ``\\r``, ``\\t`` (curl(1) "-w, --write-out"). An unknown variable expands to nothing, with
    a warning in the log, as curl does."""
    elapsed = time.monotonic() - stats.started
    content_type = next((v for k, v in stats.headers if k.lower() == "content-type"), "")
    values = {
        "http_code": f"{stats.http_code:03d}", "response_code": f"{stats.http_code:03d}",
        "size_download": str(stats.size_download), "size_upload": str(stats.size_upload),
        "time_total": f"{elapsed:.6f}", "url_effective": stats.url, "url": stats.url,
        "exitcode": str(stats.exitcode), "errormsg": stats.errormsg,
        "num_redirects": str(stats.num_redirects), "content_type": content_type,
        "method": stats.method,
    }

    def expand(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "%%":
            return "%"
        if text in _ESCAPES:
            return _ESCAPES[text]
        if match.group(2) is not None:
            wanted = match.group(2).lower()
            return ", ".join(v for k, v in stats.headers if k.lower() == wanted)
        name = match.group(1)
        if name not in values:
            logging.getLogger(__name__).warning("unknown --write-out variable: %r", name)
            return ""
        return values[name]

    return _WRITE_OUT.sub(expand, fmt)


def _write_out_format(value: str | None) -> str | None:
    if value is None or not value.startswith("@"):
        return value
    name = value[1:]
    try:
        return sys.stdin.read() if name == "-" else Path(name).read_text()
    except OSError as exc:
        raise _Failure(f"cannot read the --write-out format from {name} "
                       f"({exc.strerror or exc})", 26) from None


def _head_block(response: BaseResponse) -> bytes:
    """The status line and header fields as received, for -I and -i."""
    lines = [f"HTTP/{response.http_version} {response.status} {response.reason}".rstrip()]
    lines += [f"{name}: {value}" for name, value in response.headers.multi_items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


def _setup_logging(verbose: bool, silent: bool = False) -> None:
    level = logging.DEBUG if verbose else (logging.CRITICAL if silent else logging.WARNING)
    logging.basicConfig(
        level=level,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,  # this run's stderr, also when called again in one process (tests)
    )


def _model_option(dialect: str | None, model: str | None) -> tuple[str | None, dict[str, Any]]:
    """The dialect and the driver options for ``--model``.

    Raises:
        UnsafeArgumentError: a model no drivable dialect (or not the one given) knows.
    """
    if model is None:
        return dialect, {}
    infos = [info for info in registry.all_dialects() if info.driver is not None]
    if dialect is not None:
        infos = [registry.get(dialect)]
    owners = [info for info in infos if model.lower() in (m.lower() for m in info.models)]
    if not owners:
        known = "; ".join(f"{i.name}: {', '.join(i.models)}" for i in infos if i.models)
        raise UnsafeArgumentError("--model", model, f"is not a model celltls knows ({known})")
    info = owners[0]
    name = next(m for m in info.models if m.lower() == model.lower())
    _, factory = registry.load(info.name)
    params = inspect.signature(factory).parameters
    takes = "model" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
    if not takes:
        logging.getLogger(__name__).info(
            "the %s driver reads the model from the module; --model %s is not passed",
            info.name, name)
        return info.name, {}
    return info.name, {"model": name}


def _transparent_option(dialect: str | None, options: dict[str, Any]
                        ) -> tuple[str | None, dict[str, Any]]:
    """The driver options for ``--transparent``.

    Raises:
        UnsafeArgumentError: no ``--dialect``, or a driver without a ``transparent`` option.
    """
    if dialect is None:
        raise UnsafeArgumentError("--transparent", "", "needs --dialect (a driver that has "
                                  "a transparent-mode option, such as xbee3)")
    _, factory = registry.load(registry.canonical(dialect))
    if "transparent" not in inspect.signature(factory).parameters:
        raise UnsafeArgumentError("--transparent", dialect, "this driver has no transparent-"
                                  "mode option (celltls dialects lists what each one does)")
    return dialect, {**options, "transparent": True}


def _host_roots(opts: _Options) -> bool:
    """Whether the request goes without a profile: ``--tls host|auto`` with none of ``--ca``,
    ``--insecure``, ``--cert``, ``--no-check-hostname``. TLS then runs on the host and
    verifies chain and host name with certifi's roots, as curl does with its default store;
    the module's TLS always needs ``--ca`` (it has no trust store of its own)."""
    return (opts.tls is not TlsWhere.module and opts.ca is None and not opts.insecure
            and opts.cert is None and not opts.no_check_hostname)


def _profile(trust: _Trust | None, host: str, port: int) -> TlsProfile | None:
    """The TLS profile for ``host:port`` (``None``: see :func:`_host_roots`)."""
    return None if trust is None else trust.profile(host, port)


@dataclass
class _Options:
    """The options of ``celltls get``/``post`` (the names of the command's parameters)."""

    command_method: str
    url: str
    port: str
    dialect: str | None = None
    model: str | None = None
    via: Via = Via.auto
    tls: TlsWhere = TlsWhere.auto
    transparent: bool | None = None
    no_cache: bool = False
    baudrate: int = 115200
    apn: str = ""
    ca: str | None = None
    cert: Path | None = None
    key: Path | None = None
    insecure: bool = False
    no_check_hostname: bool = False
    request: str | None = None
    head: bool = False
    include: bool = False
    location: bool = False
    max_redirs: int = MAX_REDIRS
    data: list[str] | None = None
    json: list[str] | None = None
    header: list[str] | None = None
    output: Path | None = None
    write_out: str | None = None
    silent: bool = False
    show_error: bool = False
    trace: Path | None = None
    verbose: bool = False
    fail_on_status: bool = False
    connect_timeout: float | None = None
    max_time: float | None = None
    keep_partial: bool = False
    debug: bool = False


def _transfer(opts: _Options) -> None:
    """Run one ``get``/``post``; print the error line and the -w text; exit with the code."""
    _setup_logging(opts.verbose, opts.silent)
    stats = _Stats(url=opts.url)
    out = _Output(opts.output)
    watch: _Watchdog | None = None
    bars = _Bars(_err, enabled=not opts.silent)
    code, line = 0, ""
    exc_shown: BaseException | None = None
    fmt: str | None = None
    try:
        fmt = _write_out_format(opts.write_out)
        watch = _Watchdog(opts.connect_timeout, opts.max_time, _target_of(opts.url))
        with watch:
            try:
                _run_transfer(opts, watch, out, bars, stats)
            finally:
                bars.close()
    except KeyboardInterrupt as exc:
        note = "" if opts.keep_partial else out.discard()
        phase = watch.describe() if watch is not None else "starting"
        code, exc_shown = 130, exc
        line = (f"celltls: error: interrupted (Ctrl-C) while {phase}; what this run opened "
                "was closed" + (f"; {note}" if note else ""))
    except CellTLSError as exc:
        note = "" if opts.keep_partial else out.discard()
        code, exc_shown, line = exc.exit_code, exc, error_line(exc, note)
    except _Failure as exc:
        note = "" if opts.keep_partial else out.discard()
        code, exc_shown, line = exc.code, exc, error_line(exc, note)
    except OSError as exc:
        # Not celltls's: the -o file or stdout (curl: 23, write error).
        note = "" if opts.keep_partial else out.discard()
        what = f"cannot write the body to {opts.output or 'stdout'}: {exc.strerror or exc}"
        code, exc_shown, line = 23, exc, error_line(OSError(what), note)
    except Exception as exc:  # a bug: still one line, the traceback with --debug
        note = "" if opts.keep_partial else out.discard()
        bug = RuntimeError(f"unexpected {type(exc).__name__}: {exc} (a bug in celltls); run "
                           "again with --debug and report the traceback")
        code, exc_shown, line = 1, exc, error_line(bug, note)
    if code:
        if opts.debug and exc_shown is not None:
            traceback.print_exception(exc_shown, file=sys.stderr)
        if not opts.silent or opts.show_error:
            typer.echo(_one_line(line), err=True)
    stats.exitcode = code
    stats.errormsg = line.removeprefix("celltls: error: ")
    if fmt is not None:
        sys.stdout.write(write_out(fmt, stats))
        sys.stdout.flush()
    if code:
        raise typer.Exit(code)


def _target_of(url: str) -> str:
    """``host:port`` of a URL for messages (the URL itself when it cannot be split)."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname}:{parts.port or 443}"
    except ValueError:
        return url


def _method_of(opts: _Options, upload: _Upload | None) -> str:
    if opts.head:
        if upload is not None:
            raise _Failure("-I/--head and -d/--data/--json ask for two methods (HEAD and "
                           "POST); give one", 2)
        if opts.request is not None and opts.request.upper() != "HEAD":
            raise _Failure(f"-I/--head and -X {opts.request} ask for two methods; give one", 2)
        return "HEAD"
    if opts.request is not None:
        return opts.request
    if upload is not None:
        return "POST"
    return opts.command_method


_CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")


def _run_transfer(opts: _Options, watch: _Watchdog, out: _Output, bars: _Bars,
                  stats: _Stats) -> None:
    from celltls.modem import Modem, parse_https_url

    # What can be checked without the module is checked before the port is opened.
    url = opts.url
    host, port, _ = parse_https_url(url)
    if opts.max_redirs < -1:
        raise UnsafeArgumentError("--max-redirs", str(opts.max_redirs), "must be -1 (no limit) "
                                  "or a number of redirects >= 0")
    upload = _build_upload(opts.data, opts.json)
    method = _method_of(opts, upload)
    user_headers = parse_headers(opts.header)
    names = {name.lower() for name, _ in user_headers}
    auto_headers: list[tuple[str, str]] = []
    if upload is not None and upload.content_type and "content-type" not in names:
        auto_headers.append(("Content-Type", upload.content_type))
    if upload is not None and upload.accept and "accept" not in names:
        auto_headers.append(("Accept", upload.accept))
    dialect, driver_options = _model_option(opts.dialect, opts.model)
    if opts.transparent:
        dialect, driver_options = _transparent_option(dialect, driver_options)
    trust = None if _host_roots(opts) else _Trust(
        opts.ca, opts.cert, opts.key, opts.insecure, not opts.no_check_hostname,
        quiet=opts.silent, probe_timeout=opts.connect_timeout or 10.0)
    profile = _profile(trust, host, port)
    stats.method = method
    watch.enter("open")
    heads: list[bytes] = []  # -i/-I: the header blocks of redirects, written with the last
    from celltls.state import ModuleState

    state = None if opts.no_cache else ModuleState.default()
    with Modem(opts.port, dialect, baudrate=opts.baudrate, trace=opts.trace, state=state,
               **driver_options) as modem:
        if opts.verbose and not opts.silent:
            found = "identified as" if opts.dialect is None else "driven as"
            _err().print(f"module {found} {modem.dialect} ({_describe(modem.info)})")
        watch.enter("attach")
        status = modem.attach(opts.apn)
        if opts.verbose and not opts.silent:
            _err().print(f"network up: IP {status.ip_address}, APN {opts.apn!r}")
        while True:
            total = upload.size if upload is not None else None
            sending = bars.task("upload", total) if upload is not None else None
            with (upload.open() if upload is not None else contextlib.nullcontext()) as body:

                def sent(done: int, _total: int | None, bar: Callable[[int], None] | None
                         = sending) -> None:
                    stats.size_upload = done
                    if bar is not None:
                        bar(done)

                # --connect-timeout is kept on the host (the watchdog); the module gets at
                # least its usual 90 s, as some modules take no shorter connect timeout
                # (Quectel: 10..300 s).
                response = modem.request(
                    method, url, profile=profile, headers=user_headers + auto_headers,
                    body=body, content_length=total if upload is not None else None,
                    timeout=max(opts.connect_timeout or 0.0, 90.0), on_phase=watch.enter,
                    upload_progress=sent, via=opts.via.value, tls=opts.tls.value,
                    transparent=False if opts.transparent is False else None,
                    keep_alive=False,  # one request (redirects aside): the server may close
                )
            if upload is not None and stats.size_upload == 0:
                stats.size_upload = total or 0
            stats.http_code = response.status
            stats.headers = response.headers.multi_items()
            stats.url = url
            if opts.verbose and not opts.silent:
                _err().print(f"HTTP/{response.http_version} {response.status} {response.reason}")
            if not (opts.location and response.is_redirect):
                break
            if opts.max_redirs != -1 and stats.num_redirects >= opts.max_redirs:
                response.abort()
                raise TooManyRedirectsError(
                    f"maximum ({opts.max_redirs}) redirects followed (the last to "
                    f"{response.header('location')}); raise --max-redirs if that is expected",
                    limit=opts.max_redirs)
            if opts.include or opts.head:
                heads.append(_head_block(response))
            response.close()
            url, method, upload, changed_host = _redirect(url, response, method, upload,
                                                           opts.request is not None)
            if upload is None:
                auto_headers = [(k, v) for k, v in auto_headers if k.lower() == "accept"]
            if changed_host:
                user_headers = [(k, v) for k, v in user_headers
                                if k.lower() not in _CREDENTIAL_HEADERS]
            stats.num_redirects += 1
            stats.method = method
            host, port, _ = parse_https_url(url)
            profile = _profile(trust, host, port)  # a new host is verified again
        if opts.fail_on_status:
            response.raise_for_status()  # before any byte of the body is written (curl -f)
        _write_body(opts, response, out, bars, watch, stats, heads)


def _describe(info: object) -> str:
    if isinstance(info, dict):
        return ", ".join(f"{k} {v}" for k, v in info.items() if v) or "no details"
    return str(info)


def _redirect(url: str, response: BaseResponse, method: str, upload: _Upload | None,
              explicit_method: bool) -> tuple[str, str, _Upload | None, bool]:
    """The next request of -L: URL, method, body, and whether the host changed.

    curl's rules: 303 turns the method into GET (HEAD stays), 301 and 302 turn a POST into a
    GET, both dropping the body (RFC 9110 15.4.2-15.4.4); 307 and 308 repeat the method and
    body; ``-X`` keeps its method everywhere. A redirect to anything but https:// is refused.

    Raises:
        InsecureRedirectError: the Location is not an https:// URL.
        InvalidURLError: the Location cannot be used.
    """
    from celltls.modem import parse_https_url

    location = response.header("location") or ""
    target = urljoin(url, location.strip())
    scheme = urlsplit(target).scheme.lower()
    if scheme != "https":
        raise InsecureRedirectError(
            f"the server at {_target_of(url)} redirects to {target!r}, which is not https://; "
            "celltls does not leave TLS (fetch that URL yourself if you trust it)",
            location=target)
    parse_https_url(target)
    if not explicit_method and (
        (response.status == 303 and method != "HEAD")
        or (response.status in (301, 302) and method == "POST")
    ):
        method, upload = "GET", None
    old, new = urlsplit(url), urlsplit(target)
    changed = (old.hostname, old.port or 443) != (new.hostname, new.port or 443)
    return target, method, upload, changed


def _write_body(opts: _Options, response: BaseResponse, out: _Output, bars: _Bars,
                watch: _Watchdog, stats: _Stats, heads: list[bytes]) -> None:
    total = response.content_length
    watch.expected = total
    show_head = opts.head or opts.include
    with out.open() as sink:
        if show_head:
            for block in heads:
                sink.write(block)
            sink.write(_head_block(response))
        if response.method == "HEAD":
            response.close()
            return
        bar = bars.task("download", total)
        for chunk in response.iter_bytes():
            sink.write(chunk)
            watch.received += len(chunk)
            stats.size_download = watch.received
            if bar is not None:
                bar(watch.received)


def _transfer_options(
    url: UrlArg,
    port: PortOpt,
    dialect: DialectOpt = None,
    model: ModelOpt = None,
    via: ViaOpt = Via.auto,
    tls: TlsOpt = TlsWhere.auto,
    transparent: TransparentOpt = None,
    no_cache: NoCacheOpt = False,
    baudrate: BaudOpt = 115200,
    apn: ApnOpt = "",
    ca: CaOpt = None,
    cert: CertOpt = None,
    key: KeyOpt = None,
    insecure: InsecureOpt = False,
    no_check_hostname: NoCheckHostnameOpt = False,
    request: RequestOpt = None,
    head: HeadOpt = False,
    include: IncludeOpt = False,
    location: LocationOpt = False,
    max_redirs: MaxRedirsOpt = MAX_REDIRS,
    data: DataOpt = None,
    json: JsonOpt = None,
    header: HeaderOpt = None,
    output: OutputOpt = None,
    write_out: WriteOutOpt = None,
    silent: SilentOpt = False,
    show_error: ShowErrorOpt = False,
    trace: TraceOpt = None,
    verbose: VerboseOpt = False,
    fail_on_status: FailOpt = False,
    connect_timeout: ConnectTimeoutOpt = None,
    max_time: MaxTimeOpt = None,
    keep_partial: KeepPartialOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The parameters ``get`` and ``post`` share (their signature for typer)."""


def _command(method: str, doc: str) -> Callable[..., None]:
    """A ``get``/``post`` command: :func:`_transfer_options`'s parameters, ``method`` by
    default."""

    def command(**kwargs: Any) -> None:
        _transfer(_Options(command_method=method, **kwargs))

    command.__doc__ = doc
    command.__name__ = command.__qualname__ = method.lower()
    command.__annotations__ = dict(_transfer_options.__annotations__)
    command.__signature__ = inspect.signature(  # type: ignore[attr-defined]
        _transfer_options, eval_str=True)
    return command


get = app.command(name="get")(_command(
    "GET", "HTTPS request through the module, GET by default (POST with -d/--json, any with "
    "-X); the body goes to stdout (or -o FILE)."))
post = app.command(name="post")(_command(
    "POST", "HTTPS POST through the module: -d/--data TEXT, @FILE or @- (stdin), or --json."))


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
    strict: Annotated[bool, typer.Option(
        "--strict", help="Refuse what the real module refuses, also the liberties the virtual "
        "modem otherwise allows (docs/virtual-modems.md)")] = False,
    verbose: VerboseOpt = False,
) -> None:
    """Run a virtual modem. Its first line on stdout is the address or pty path to open."""
    from celltls.sim import serve

    _setup_logging(verbose)
    if pty == (listen is not None):
        raise fail("give exactly one of --listen HOST:PORT or --pty", 2)
    try:
        serve.run(dialect, listen=listen, pty=pty, baudrate=baudrate, latency=latency,
                  model=model, strict=strict)
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
        from rich.console import Console

        run_demo(Console(highlight=False))
    except CellTLSError as exc:
        raise _report(exc, exc.exit_code, False) from None
    except KeyboardInterrupt:
        raise fail("interrupted (Ctrl-C); the demo's servers were stopped", 130) from None


def _register_optional() -> None:
    from celltls.cli import dialects, probe

    dialects.register(app)
    probe.register(app)
    try:
        from celltls.cli import doctor
    except ImportError:  # the doctor ships in the same package; tolerate a partial install
        return
    doctor.register(app)


_register_optional()
