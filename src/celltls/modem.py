"""The facade: one :class:`Modem` per module, the same code for every dialect."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

from celltls import hosttls, tlsprobe
from celltls.at import quoting
from celltls.at.channel import ATChannel
from celltls.dialects import registry
from celltls.dialects.base import (
    Capabilities,
    CredentialKind,
    Dialect,
    NetworkStatus,
    SecureSocket,
    Signal,
    StoredCredential,
)
from celltls.errors import (
    ATTimeoutError,
    CellTLSError,
    ConnectTimeoutError,
    EmptyReplyError,
    HostnameCheckUnsupportedError,
    InvalidURLError,
    ModuleRebootedError,
    NetworkLostError,
    ProfileError,
    SocketError,
    TLSNegotiationError,
    UnsafeArgumentError,
)
from celltls.http import (
    BaseResponse,
    Body,
    HTTPConnection,
    PhaseCallback,
    Progress,
    check_header,
    check_target,
    prepare_request,
    shown,
)
from celltls.state import ModuleState
from celltls.tls import Certificate, PrivateKey, TlsProfile
from celltls.trace import TranscriptWriter

log = logging.getLogger(__name__)

#: How a kept-alive connection that died while idle shows when a request is sent on it: the
#: socket or the network failed, the module restarted, or the server closed it without an
#: answer (:meth:`Modem.request` then sends an idempotent request once more, RFC 9112 9.3.1).
_STALE_ERRORS = (SocketError, NetworkLostError, ModuleRebootedError, EmptyReplyError)

#: a host name (letters, digits, ``-``, ``.``; ``_`` as resolvers tolerate it; an IDN in its
#: ``xn--`` form) or an IPv4/IPv6 address as written between a URL's brackets.
_HOST = re.compile(r"[A-Za-z0-9_.-]+|[0-9A-Fa-f:.]+")
_HOST_CHAR = re.compile(r"[A-Za-z0-9_.:-]")
#: the longest URL celltls accepts, characters (a path and query of at most
#: :data:`celltls.http.MAX_TARGET` bytes, a host of at most 255).
MAX_URL = 4400

#: Where TLS runs: ``"module"`` (the module's own TLS), ``"host"`` (:mod:`celltls.hosttls` over
#: the module's plain TCP), ``"auto"`` (the module's when it can serve the server and profile).
TlsMode = Literal["module", "host", "auto"]
TLS_MODES: tuple[str, ...] = ("module", "host", "auto")


def check_host(host: object, *, max_len: int = 255, url: str | None = None) -> str:
    """Check a server's host name or IP address before it reaches a command line.

    Args:
        host: the name or address.
        max_len: the longest name the module accepts (``Capabilities.max_hostname``), bytes.
        url: the URL the host comes from; errors are then :class:`InvalidURLError`.

    Returns:
        str: ``host`` unchanged.

    Raises:
        UnsafeArgumentError: not text, empty, with a quote, control or non-ASCII character
            (:func:`celltls.at.quoting.check_text`), longer than ``max_len``, or holding a
            character no host name or address has. :class:`InvalidURLError` when ``url``.
    """
    kind = UnsafeArgumentError if url is None else InvalidURLError
    if not isinstance(host, str):
        raise kind("host", repr(host), "must be text")
    try:
        quoting.check_text(host, "host", max_len=max_len, allow_empty=False)
    except UnsafeArgumentError as exc:
        raise kind("host", shown(host), exc.reason) from None
    if not _HOST.fullmatch(host):
        index, bad = next((i, c) for i, c in enumerate(host) if not _HOST_CHAR.fullmatch(c))
        raise kind("host", shown(host), f"contains {bad!r} at position {index}; a host is a name "
                   "(letters, digits, '-', '.'; an international name in its xn-- form) or an "
                   "IP address")
    return host


def _check_for_module(url: str, headers: list[tuple[str, str]]) -> None:
    """Check what the module's own HTTP client gets through the AT port: the URL goes on a
    command line, the header lines into a data phase. Besides HTTP's rules, they must pass
    :func:`celltls.at.quoting.check_text` (no ``"``...) and hold no ``+++``, the escape
    sequence that leaves data mode (sierra-hl78xx.md S15; quectel-gsm-tcpip.md, SSL-AN 3.4).

    Raises:
        InvalidURLError, UnsafeArgumentError: a value that cannot be sent that way.
    """
    if "+++" in url:
        raise InvalidURLError("url", url, "contains +++, the module's escape sequence; write "
                              "it as %2B%2B%2B")
    for name, value in headers:
        try:
            quoting.check_text(f"{name}: {value}", f"header {name}")
        except UnsafeArgumentError as exc:
            raise UnsafeArgumentError(f"header {name}", shown(value), exc.reason) from None
        if "+++" in value:
            raise UnsafeArgumentError(f"header {name}", value, "contains +++, which the module "
                                      "takes for its escape sequence in data mode")


def parse_https_url(url: object, *, max_hostname: int = 255) -> tuple[str, int, str]:
    """Split and check an ``https://host[:port]/path?query`` URL.

    Returns:
        tuple: ``(host, port, target)``; ``host`` without IPv6 brackets, ``target`` the path
        and query (``/`` when empty); a fragment is dropped (RFC 9110 4.2.4).

    Raises:
        InvalidURLError: not text, unparsable (``https://[::1/x``), not ``https``, with a user
            name or password, no host, a port outside 1..65535, or a character that cannot be
            sent (see :func:`check_host`, :func:`celltls.http.check_target`,
            :func:`celltls.at.quoting.check_text`).
    """
    if not isinstance(url, str):
        raise InvalidURLError("url", repr(url), "must be text")
    try:
        quoting.check_text(url, "url", allow_empty=False)
    except UnsafeArgumentError as exc:
        raise InvalidURLError("url", url, exc.reason) from None
    if len(url) > MAX_URL:
        raise InvalidURLError("url", shown(url), f"is {len(url)} characters long; at "
                              f"most {MAX_URL} are accepted")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError as exc:
        raise InvalidURLError("url", url, f"cannot be parsed ({exc}); write it as "
                              "https://host[:port]/path") from None
    if parts.scheme.lower() != "https":
        raise InvalidURLError("url", url, "is not an https:// URL; celltls makes TLS "
                              "connections only")
    if parts.username is not None or parts.password is not None:
        raise InvalidURLError("url", url, "holds a user name or password; send credentials "
                              "in a header (Authorization) instead")
    if not host:
        raise InvalidURLError("url", url, "has no host; write it as https://host[:port]/path")
    if port == 0:
        raise InvalidURLError("url", url, "has port 0; ports are 1..65535")
    check_host(host, max_len=max_hostname, url=url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        check_target(target)
    except UnsafeArgumentError as exc:
        raise InvalidURLError("url", url, exc.reason) from None
    return host, port or 443, target


class Credentials:
    """The module's certificate and key storage (``Modem.credentials``)."""

    def __init__(self, driver: Dialect) -> None:
        self._driver = driver

    def store_ca(self, ca: Certificate | bytes, name: str | None = None) -> StoredCredential:
        """Store a root CA certificate; skipped when the same one is already there.

        Raises:
            CredentialError: not a certificate, too large, badly named, or stored corrupted.
        """
        cert = ca if isinstance(ca, Certificate) else Certificate.from_pem(ca)
        return self._driver.store_credential("ca", cert.pem, name)

    def store(self, kind: CredentialKind, data: bytes, name: str | None = None) -> StoredCredential:
        """Store raw PEM bytes of ``kind`` (``"ca"``, ``"client_cert"``, ``"client_key"``).

        Raises:
            CredentialError: as :meth:`Dialect.store_credential`.
        """
        if kind == "client_key":
            PrivateKey.from_pem(data)
        else:
            Certificate.from_pem(data)
        return self._driver.store_credential(kind, data, name)

    def delete(self, name: str) -> None:
        """Delete a stored credential by the module's name for it.

        Raises:
            ATCommandError: the module refused.
        """
        self._driver.delete_credential(name)


@dataclass
class _Pooled:
    key: tuple[str, int, TlsProfile | None, str]
    sock: SecureSocket
    conn: HTTPConnection


class Modem:
    """A cellular module behind an AT command port.

    Args:
        port: pyserial URL or device: ``/dev/ttyUSB0``, ``/dev/pts/5``, ``socket://host:port``.
        dialect: the dialect's name or alias (``"quectel-gsm"``, ``"sierra"``: see
            :func:`celltls.dialects.registry.names`), or ``None`` (the default) to identify the
            module with ``ATI``/``AT+CGMI``/``AT+CGMM`` and pick the dialect that claims it.
        baudrate: serial speed, bits per second.
        trace: a path or :class:`TranscriptWriter` to record the session (secrets redacted).
        probe_failures: after a failed handshake, probe the server from the host to explain
            it (see :mod:`celltls.tlsprobe`).
        state: a :class:`~celltls.state.ModuleState` in which drivers record what they wrote
            into the module that it cannot read back (Sierra: certificates), so that a later
            run does not write it again; ``None`` (the default): nothing is recorded. The CLI
            uses :meth:`ModuleState.default` unless ``--no-cache``.
        options: dialect driver options (Quectel: ``ctxindex``, ``nvram``).

    Raises:
        PortError: the port cannot be opened.
        CellTLSError: the dialect is unknown or cannot be detected.

    Example::

        with Modem("socket://127.0.0.1:7000", dialect="quectel-gsm") as modem:
            modem.attach(apn="internet")
            profile = TlsProfile(ca=Certificate.from_file("ca.pem"))
            response = modem.request("GET", "https://example.com/", profile=profile)
            print(response.status, response.read())
    """

    def __init__(
        self,
        port: str,
        dialect: str | None = None,
        *,
        baudrate: int = 115200,
        trace: str | Path | TranscriptWriter | None = None,
        probe_failures: bool = True,
        state: ModuleState | None = None,
        **options: object,
    ) -> None:
        self._own_trace = False
        self._probe = probe_failures
        #: (host, port, profile) -> why the module's TLS cannot serve it ("" when it can)
        self._tls_choices: dict[tuple[str, int, TlsProfile | None], str] = {}
        if isinstance(trace, (str, Path)):
            trace = TranscriptWriter(
                trace, header={"dialect": dialect or "auto", "baudrate": str(baudrate)}
            )
            self._own_trace = True
        self.trace = trace
        self._pool: list[_Pooled] = []
        try:
            self.channel = ATChannel(port, baudrate=baudrate, trace=trace)
        except BaseException:
            self._close_trace()
            raise
        try:
            name = registry.canonical(dialect) if dialect else registry.detect(self.channel)
            catalog, factory = registry.load(name)
            self.catalog = catalog
            # a driver with a catalog applies its framing itself (Dialect.__init__); this
            # serves a plug-in driver that declares none
            self.channel.configure(catalog.framing())
            self.driver: Dialect = factory(self.channel, probe_failures=probe_failures, **options)
            self.driver.state = state
            self.dialect = name
            self.info = self.driver.initialise()
        except BaseException:
            self.channel.close()
            self._close_trace()
            raise
        self.credentials = Credentials(self.driver)

    @property
    def capabilities(self) -> Capabilities:
        """The driver's :class:`~celltls.dialects.base.Capabilities`."""
        return self.driver.capabilities

    def attach(
        self, apn: str = "", user: str | None = None, password: str | None = None,
        timeout: float = 60.0,
    ) -> NetworkStatus:
        """Wait for registration and activate the PDP context (idempotent).

        Raises:
            UnsafeArgumentError: the APN, user or password cannot be sent.
            NetworkError: no registration or no PDP context.
        """
        return self.driver.attach(apn, user, password, timeout)

    def signal(self) -> Signal:
        """The signal quality, with the RSSI in dBm."""
        return self.driver.signal()

    def tls_connect(
        self, host: str, port: int, profile: TlsProfile | None = None, *,
        timeout: float = 90.0, transparent: bool = False, tls: TlsMode = "auto",
    ) -> SecureSocket:
        """Open a secure socket through the module: the module's own TLS, or TLS on the host
        over the module's plain TCP socket (:mod:`celltls.hosttls`).

        Everything is checked before anything is written to the port: the host, the port,
        the timeout, and whether the chosen TLS can do what the profile asks (host-name check
        included, see :meth:`check_profile`). The choice is logged and, with a transcript,
        written in it as a ``# tls:`` line.

        Args:
            host: the server's name or address.
            port: the server's port, 1..65535.
            profile: the TLS profile. Required for the module's TLS (a module has no
                implicit trust store); for TLS on the host ``None`` verifies chain, dates and
                host name against certifi's roots.
            timeout: seconds the module may take to connect (clamped into the module's
                ``Capabilities.connect_timeout_range``).
            transparent: use transparent mode where the module has it (module TLS only).
            tls: ``"module"``, ``"host"`` or ``"auto"`` (the default): see
                :meth:`choose_tls`.

        Returns:
            SecureSocket: ``sendall``/``recv``/``close``.

        Raises:
            UnsafeArgumentError: a host, port, timeout or ``tls`` that cannot be used (nothing
                is sent).
            HostnameCheckUnsupportedError: module TLS, the profile asks for the host-name
                check and the module's TLS cannot do it (nothing is sent).
            ProfileError: no profile for module TLS, one the module cannot implement, or TLS
                on the host through a dialect without plain TCP sockets.
            ConnectTimeoutError: the module did not connect within ``timeout``.
            CertificateVerifyError (HostnameMismatchError, CertificateExpiredError...),
            TLSNegotiationError, TLSHandshakeError, NetworkError, SocketError: see the driver
                and :func:`celltls.hosttls.wrap`.
        """
        caps = self.driver.capabilities
        check_host(host, max_len=caps.max_hostname)
        quoting.integer(port, "port", 1, 65535)
        self._module_timeout(timeout)  # checked before anything is sent
        where = self.choose_tls(host, port, profile, tls, transparent=transparent)
        return self._open_chosen(host, port, profile, timeout, where, transparent=transparent)

    def _open_chosen(self, host: str, port: int, profile: TlsProfile | None, timeout: float,
                     where: Literal["module", "host"], *, transparent: bool = False
                     ) -> SecureSocket:
        """Open the connection with TLS where :meth:`choose_tls` decided (host and port
        already checked)."""
        if where == "host":
            return self._host_tls(host, port, profile, timeout)
        module_timeout = self._module_timeout(timeout)
        if profile is None:
            raise ProfileError(
                "a TlsProfile is needed: TlsProfile(ca=Certificate.from_file('ca.pem')), or "
                "TlsProfile.insecure() to skip verification"
            )
        if transparent and not self.driver.capabilities.transparent_mode:
            raise ProfileError(f"{self.dialect} has no transparent mode")
        self.check_profile(host, profile)
        profile.warn_if_hostname_unchecked(f"{self.dialect} TLS", host)
        try:
            return self.driver.tls_connect(
                host, port, profile, timeout=module_timeout, transparent=transparent
            )
        except ATTimeoutError as exc:
            raise ConnectTimeoutError(
                f"no secure connection to {host}:{port} within {timeout:g} s (phase: connect; "
                f"{exc}); check that the server is reachable from the cellular network"
            ) from exc

    def choose_tls(
        self, host: str, port: int, profile: TlsProfile | None, tls: TlsMode = "auto", *,
        transparent: bool = False,
    ) -> Literal["module", "host"]:
        """Where TLS runs for a connection to ``host:port`` with ``profile``.

        ``"module"`` and ``"host"`` are taken as asked (``"host"`` needs a dialect with plain
        TCP sockets, ``Dialect.plain_tcp``). ``"auto"`` takes the module's TLS unless the
        dialect has plain TCP and one of these holds, then TLS on the host:

        - there is no profile (the host's certifi roots are needed);
        - the profile asks what the module's TLS cannot do: the host-name check
          (``Capabilities.hostname_check``), a version or verification mode it lacks;
        - the host reaches the server and a handshake restricted to the module's versions and
          cipher suites fails (:func:`celltls.tlsprobe.probe`; not done with
          ``Modem(probe_failures=False)``; remembered per server and profile), e.g. a TLS
          1.3-only or ECDHE-only server and a Quectel GSM module (RSA key exchange only).

        Args:
            host, port: the server.
            profile: the TLS profile, or ``None``.
            tls: ``"module"``, ``"host"`` or ``"auto"``.
            transparent: transparent mode was asked (module TLS only).

        Returns:
            str: ``"module"`` or ``"host"``; the choice and its reason are logged (INFO) and
            written in the transcript (``# tls: ...``).

        Raises:
            UnsafeArgumentError: ``tls`` is not one of the three.
            ProfileError: ``"host"`` with transparent mode, or through a dialect without plain
                TCP sockets.
            HostnameCheckUnsupportedError: ``"module"`` and :meth:`check_profile` refuses.
            TLSNegotiationError: ``"module"``, and a host-side handshake with the module's
                versions and suites was refused by the server: refused up front, nothing is
                sent to the module (not with ``Modem(probe_failures=False)``).
        """
        if tls not in TLS_MODES:
            raise UnsafeArgumentError("tls", repr(tls), "must be 'module', 'host' or 'auto'")
        plain = self.driver.plain_tcp
        if tls == "host":
            if transparent:
                raise ProfileError("transparent mode is a module TLS mode; TLS on the host "
                                   "runs over a plain socket")
            if not plain:
                raise ProfileError(
                    f"plain TCP sockets are not supported by the {self.dialect} dialect's "
                    "driver, so TLS cannot run on the host through it; use the module's own "
                    "TLS (tls='module')")
            return self._chose(host, port, "host", "asked for (tls='host')")
        if tls == "module" and profile is not None and self._probe:
            self.check_profile(host, profile)  # the cheaper refusal first
            refusal = self._module_refused(host, port, profile)
            if refusal:
                raise TLSNegotiationError(
                    f"the module cannot negotiate TLS with {host}:{port}: {refusal}; TLS on the "
                    "host can (tls='host', --tls host)", host=host, port=port,
                    evidence=["found by a host-side probe before anything was sent to the "
                              "module (celltls probe URL --dialect D tells more)"])
        if tls == "module" or transparent or not plain:
            why = "asked for (tls='module')" if tls == "module" else (
                "transparent mode" if transparent else
                f"the {self.dialect} driver has no plain TCP sockets for TLS on the host")
            return self._chose(host, port, "module", why)
        reason = self._module_cannot(host, port, profile)
        if reason:
            return self._chose(host, port, "host", reason)
        return self._chose(host, port, "module", "the module's TLS can serve this server")

    def _chose(self, host: str, port: int, where: Literal["module", "host"],
               why: str) -> Literal["module", "host"]:
        log.info("TLS for %s:%d runs on the %s: %s", host, port, where, why)
        if self.trace is not None:
            self.trace.header("tls", f"{where} ({host}:{port}: {why})")
        return where

    def _module_cannot(self, host: str, port: int, profile: TlsProfile | None) -> str:
        """Why the module's own TLS cannot serve ``host:port`` with ``profile`` ("" when it
        can, or when the host cannot tell)."""
        caps = self.driver.capabilities
        if profile is None:
            return ("no TlsProfile: the module has no trust store of its own, the host "
                    "verifies against certifi's roots")
        if profile.hostname_checked and not caps.hostname_check:
            return (f"the profile asks for the host-name check and the {self.dialect} module's "
                    "TLS cannot do it")
        if not profile.versions(caps.tls_versions):
            return (f"the profile allows {profile.min_version.label} or newer; the module "
                    "speaks " + ", ".join(v.label for v in caps.tls_versions))
        if profile.verify not in caps.verify_modes:
            return f"the module cannot do {profile.verify.name} verification"
        return self._module_refused(host, port, profile)

    def _module_refused(self, host: str, port: int, profile: TlsProfile) -> str:
        """Why the server refuses the module's versions and suites, found by a host-side
        handshake (remembered); "" when it accepts them or the host cannot tell."""
        key = (host, port, profile)
        if key not in self._tls_choices:
            self._tls_choices[key] = self._server_refuses_module(host, port, profile)
        return self._tls_choices[key]

    def _server_refuses_module(self, host: str, port: int, profile: TlsProfile) -> str:
        if not self._probe:
            return ""
        if profile.client_cert is not None or profile.client_key is not None:
            # The probe presents no client certificate, and a server that requires one ends a
            # TLS 1.2 handshake with the same alert as one that refuses the suites (while a
            # TLS 1.3 client finishes first): the host cannot tell, so the module's TLS (which
            # also keeps the key off the host) is tried.
            return ""
        caps = self.driver.capabilities
        result = tlsprobe.probe(host, port, caps, profile, timeout=5.0)
        if not result.reachable or result.failure:
            return ""  # the host cannot tell: the module's TLS is tried
        if result.module_negotiated:
            return ""
        versions = ", ".join(v.label for v in profile.versions(caps.tls_versions))
        return (f"the server refuses the module's TLS ({versions}; {caps.key_exchange}): "
                f"{result.module_error or 'no handshake'}; it chose {result.server_offers} "
                "with an unrestricted client")

    def _host_tls(self, host: str, port: int, profile: TlsProfile | None,
                  timeout: float) -> SecureSocket:
        """A plain TCP socket through the module and TLS on the host over it."""
        if profile is not None:
            hosttls.host_context(profile)  # a profile TLS on the host cannot use: before any byte
            profile.warn_if_hostname_unchecked("TLS on the host", host)
        try:
            stream = self.driver.tcp_connect(host, port, timeout=self._module_timeout(timeout))
        except ATTimeoutError as exc:
            raise ConnectTimeoutError(
                f"no TCP connection to {host}:{port} within {timeout:g} s (phase: connect; "
                f"{exc}); check that the server is reachable from the cellular network"
            ) from exc
        return hosttls.wrap(stream, host, port, profile, timeout=timeout)

    def check_profile(self, host: str, profile: TlsProfile) -> None:
        """Refuse a profile whose host-name check this module cannot do.

        Neither Quectel GSM (SSL-AN V3.3 2.2.1: the ``+QSSLCFG`` items have no host-name
        check) nor Sierra HL78xx (sierra-hl78xx.md S5 "Host name verification, SNI": no such
        parameter in ``+KSSLCRYPTO``, ``+KSSLCFG``, ``+KTCPCFG``, ``+KHTTPCFG``) can check
        host names; celltls says so instead of pretending (``Capabilities.hostname_check``).

        Raises:
            HostnameCheckUnsupportedError: ``profile.check_hostname`` with verification on, and
                ``capabilities.hostname_check`` false.
        """
        if profile.hostname_checked and not self.driver.capabilities.hostname_check:
            raise HostnameCheckUnsupportedError(
                f"cannot check that the server's certificate was issued for {host!r} (the "
                f"{self.dialect} module's own TLS has no host-name check: it would accept a "
                "certificate your CA issued for any other name); turn the check off by name "
                "with TlsProfile(check_hostname=False) or --no-check-hostname (the chain and "
                "dates are still verified), or all verification with --insecure, or run TLS "
                "on the host, which checks names (tls='host', --tls host)"
            )

    def _module_timeout(self, timeout: float) -> float:
        if (
            isinstance(timeout, bool) or not isinstance(timeout, int | float)
            or not math.isfinite(timeout) or timeout <= 0
        ):
            raise UnsafeArgumentError("timeout", repr(timeout),
                                      "must be a positive number of seconds")
        limits = self.driver.capabilities.connect_timeout_range
        if limits is not None:
            return min(max(float(timeout), limits[0]), limits[1])
        return float(timeout)

    def request(
        self,
        method: str,
        url: str,
        *,
        profile: TlsProfile | None = None,
        headers: Iterable[tuple[str, str]] | dict[str, str] = (),
        body: Body = None,
        content_length: int | None = None,
        timeout: float = 90.0,
        upload_progress: Progress | None = None,
        via: Literal["auto", "socket", "native"] = "auto",
        on_phase: PhaseCallback | None = None,
        tls: TlsMode = "auto",
        transparent: bool | None = None,
        keep_alive: bool = True,
    ) -> BaseResponse:
        """Make an HTTPS request over a secure socket (HTTP/1.1 framed by h11) or with the
        module's own HTTP client.

        The whole request is checked before anything is written to the port: the URL, host
        and port, the method, every header name and value (HTTP's rules, and for the module's
        own client :mod:`celltls.at.quoting`'s, since its headers go through the AT port), the
        body's type and declared length, the timeout, and the profile (see
        :meth:`check_profile`). An open connection to the same host, port and profile is
        reused (keep-alive) once the previous response has been read to its end; when a reused
        connection turns out to have died while idle (the send fails, the module restarted,
        or the server closes it without an answer), an idempotent request with its body in
        memory (:attr:`~celltls.http.PreparedRequest.retryable`) is sent once more on a new
        connection (RFC 9112 9.3.1); any other request raises that error.

        Args:
            method: ``GET``, ``HEAD``, ``POST``, ``PUT``, ``DELETE``...
            url: ``https://host[:port]/path?query`` (``http://`` is refused: celltls is TLS).
            profile: the TLS profile.
            headers: extra request headers.
            body: bytes, an iterable of bytes or a binary file.
            content_length: the length of a streamed body, bytes (else it is sent chunked).
            timeout: connect timeout, seconds.
            upload_progress: ``progress(sent, total)`` (socket path only).
            via: ``"socket"``: HTTP/1.1 over a secure socket (h11); ``"native"``: the module's
                own HTTP client; ``"auto"``: the socket path when the module has secure
                sockets, else the native client.
            on_phase: called with each phase's name as it begins: ``"connect"`` (name
                resolution, TCP and TLS in the module; on the native path also sending the
                request and waiting for the head), ``"send"``, ``"wait"`` (for the response
                head), ``"receive"`` (the head is in; the body follows).
            tls: where TLS runs on the socket path: ``"module"``, ``"host"`` (over the
                module's plain TCP, :mod:`celltls.hosttls`; ``profile=None`` then means
                certifi's roots) or ``"auto"`` (:meth:`choose_tls`). ``"host"`` implies the
                socket path.
            transparent: open a new secure socket of the module's TLS in transparent mode
                (``True``, :attr:`Capabilities.transparent_mode` needed) or not (``False``);
                ``None`` (the default): where the module prefers it
                (:attr:`Capabilities.transparent_preferred`) and the request carries
                ``Connection: close`` (``celltls get`` and ``post`` send it), so that the
                server's close ends data mode instead of an escape sequence and two guard
                times. TLS on the host is never transparent.
            keep_alive: ``False``: the connection is not kept for another request, and the
                socket path's request says ``Connection: close`` (unless ``headers`` has a
                ``Connection`` field), so the server ends it (RFC 9112 9.6). The module's own
                HTTP client manages its connection itself.

        Returns:
            BaseResponse: status and headers; stream the body with ``iter_bytes()``.

        Raises:
            InvalidURLError: a URL that cannot be parsed or used (nothing is sent).
            UnsafeArgumentError: a method, header, body or timeout that cannot be sent
                (nothing is sent).
            HostnameCheckUnsupportedError: see :meth:`check_profile` (nothing is sent).
            ProfileError, ConnectTimeoutError, TLSError, NetworkError, SocketError, HTTPError:
                see :meth:`tls_connect` and :mod:`celltls.http`.
        """
        phase = on_phase or (lambda _name: None)
        caps = self.driver.capabilities
        if via not in ("auto", "socket", "native"):
            raise UnsafeArgumentError("via", repr(via), "must be 'auto', 'socket' or 'native'")
        if tls not in TLS_MODES:
            raise UnsafeArgumentError("tls", repr(tls), "must be 'module', 'host' or 'auto'")
        if transparent not in (None, True, False):
            raise UnsafeArgumentError("transparent", repr(transparent),
                                      "must be True, False or None (the module's choice)")
        if keep_alive not in (True, False):
            raise UnsafeArgumentError("keep_alive", repr(keep_alive), "must be True or False")
        if transparent and not caps.transparent_mode:
            raise ProfileError(f"{self.dialect} has no transparent mode")
        if tls == "host" and via == "native":
            raise ProfileError("TLS on the host (tls='host') needs the socket path; the "
                               "module's own HTTP client (via='native') runs the module's TLS")
        host, port, target = parse_https_url(url, max_hostname=caps.max_hostname)
        try:
            header_list = list(headers.items()) if isinstance(headers, dict) else list(headers)
        except TypeError:
            raise UnsafeArgumentError("headers", repr(headers), "must be a dict or (name, "
                                      "value) pairs") from None
        literal = f"[{host}]" if ":" in host else host
        host_header = literal if port == 443 else f"{literal}:{port}"
        native = via == "native" or (
            via == "auto" and caps.secure_sockets == 0 and caps.native_http
            and not (tls == "host" or (tls == "auto" and self.driver.plain_tcp))
        )
        if not keep_alive and not native and not any(
                isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)
                and item[0].lower() == "connection" for item in header_list):
            header_list.append(("Connection", "close"))
        prepared = prepare_request(method, target, host_header, header_list, body,
                                   content_length)
        if native:
            # The module's client takes the caller's headers through the AT port.
            header_list = [check_header(k, v) for k, v in header_list]
            _check_for_module(url, header_list)
        module_timeout = self._module_timeout(timeout)
        where = "module" if native else self.choose_tls(host, port, profile, tls)
        if where == "module":
            if profile is None:
                raise ProfileError("a TlsProfile is needed (TlsProfile.insecure() to skip it)")
            self.check_profile(host, profile)
        if native:
            assert profile is not None
            profile.warn_if_hostname_unchecked(f"{self.dialect} HTTP client", host)
            phase("connect")
            response = self.driver.native_request(
                prepared.method, url, profile=profile, headers=header_list, body=body,
                timeout=module_timeout,
            )
            phase("receive")
            return response
        if transparent and where == "host":
            raise ProfileError("transparent mode is the module's: TLS runs on the host for "
                               f"{host}:{port}, over a plain TCP socket (tls={tls!r})")
        key = (host, port, profile, where)
        pooled = self._take(key)
        if pooled is not None:
            self._pool.append(pooled)
            try:
                response = pooled.conn.send_request(
                    prepared, upload_progress=upload_progress, on_phase=phase
                )
            except _STALE_ERRORS as exc:
                self._discard(pooled)
                if not prepared.retryable:
                    raise
                # RFC 9112 9.3.1: an idempotent request whose kept-alive connection failed
                # before any response (the server timed it out, the module restarted) is
                # sent once more on a new connection.
                log.info("%s %s: the kept-alive connection failed before the response (%s); "
                         "sending it once more on a new connection", method, shown(url), exc)
            else:
                phase("receive")
                return response
        phase("connect")
        if transparent is None:
            transparent = caps.transparent_preferred and prepared.closes
        sock = self._open_chosen(host, port, profile, timeout, where,
                                 transparent=bool(transparent) and where == "module")
        pooled = _Pooled(key, sock, HTTPConnection(sock, host_header))
        self._pool.append(pooled)
        response = pooled.conn.send_request(
            prepared, upload_progress=upload_progress, on_phase=phase
        )
        phase("receive")
        return response

    def _discard(self, pooled: _Pooled) -> None:
        """Take a failed connection out of the pool and close it (its socket may be gone)."""
        if pooled in self._pool:
            self._pool.remove(pooled)
        try:
            pooled.conn.close()
        except CellTLSError as exc:
            log.info("closing a failed kept-alive connection: %s", exc)

    def _take(self, key: tuple[str, int, TlsProfile | None, str]) -> _Pooled | None:
        for pooled in list(self._pool):
            if not pooled.conn.reusable or pooled.sock.closed:
                self._pool.remove(pooled)
                pooled.conn.close()
                continue
            if pooled.key == key:
                self._pool.remove(pooled)
                return pooled
        return None

    def close(self) -> None:
        """Close pooled connections, every socket and session the driver still holds (so the
        module is left clean for the next program), the port and the transcript this Modem
        opened."""
        try:
            for pooled in self._pool:
                try:
                    pooled.conn.close()
                except CellTLSError as exc:
                    log.info("closing a pooled connection: %s", exc)
            self._pool.clear()
            try:
                self.driver.close_all()
            except (CellTLSError, OSError) as exc:
                log.info("closing the driver's sockets: %s", exc)
        finally:
            self.channel.close()
            self._close_trace()

    def _close_trace(self) -> None:
        if self._own_trace and self.trace is not None:
            self.trace.close()
            self._own_trace = False

    def __enter__(self) -> Modem:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
