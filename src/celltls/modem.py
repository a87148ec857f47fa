"""The facade: one :class:`Modem` per module, the same code for every dialect."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

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
from celltls.errors import CellTLSError, ProfileError, UnsafeArgumentError
from celltls.http import BaseResponse, Body, HTTPConnection, Progress
from celltls.tls import Certificate, PrivateKey, TlsProfile
from celltls.trace import TranscriptWriter

log = logging.getLogger(__name__)


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
    key: tuple[str, int, TlsProfile | None]
    sock: SecureSocket
    conn: HTTPConnection


class Modem:
    """A cellular module behind an AT command port.

    Args:
        port: pyserial URL or device: ``/dev/ttyUSB0``, ``/dev/pts/5``, ``socket://host:port``.
        dialect: the dialect's name (``"quectel-gsm"``, the default, or ``"sierra"``), or
            ``None`` to detect it from ``ATI``/``AT+CGMM``.
        baudrate: serial speed, bits per second.
        trace: a path or :class:`TranscriptWriter` to record the session (secrets redacted).
        probe_failures: after a failed handshake, probe the server from the host to explain
            it (see :mod:`celltls.tlsprobe`).
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
        dialect: str | None = "quectel-gsm",
        *,
        baudrate: int = 115200,
        trace: str | Path | TranscriptWriter | None = None,
        probe_failures: bool = True,
        **options: object,
    ) -> None:
        self._own_trace = False
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
            name = dialect or registry.detect(self.channel)
            catalog, factory = registry.load(name)
            self.catalog = catalog
            self.channel.protocol.urc_prefixes = catalog.urc_prefixes()
            self.channel.protocol.data_blocks = catalog.data_blocks
            self.driver: Dialect = factory(self.channel, probe_failures=probe_failures, **options)
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
        timeout: float = 90.0, transparent: bool = False,
    ) -> SecureSocket:
        """Open a secure socket through the module.

        Args:
            host: the server's name or address.
            port: the server's port.
            profile: the TLS profile (required: there is no implicit trust store in a module).
            timeout: seconds the module may take to connect.
            transparent: use transparent mode where the module has it.

        Returns:
            SecureSocket: ``sendall``/``recv``/``close``.

        Raises:
            ProfileError: no profile, or one the module cannot implement.
            CertificateVerifyError, TLSNegotiationError, TLSHandshakeError, NetworkError,
            SocketError, UnsafeArgumentError: see the driver.
        """
        if profile is None:
            raise ProfileError(
                "a TlsProfile is needed: TlsProfile(ca=Certificate.from_file('ca.pem')), or "
                "TlsProfile.insecure() to skip verification"
            )
        if transparent and not self.driver.capabilities.transparent_mode:
            raise ProfileError(f"{self.dialect} has no transparent mode")
        return self.driver.tls_connect(
            host, port, profile, timeout=timeout, transparent=transparent
        )

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
    ) -> BaseResponse:
        """Make an HTTPS request over a secure socket, HTTP/1.1 framed by h11.

        An open connection to the same host, port and profile is reused (keep-alive) once the
        previous response has been read to its end.

        Args:
            method: ``GET``, ``HEAD``, ``POST``, ``PUT``, ``DELETE``...
            url: ``https://host[:port]/path?query`` (``http://`` is refused: celltls is TLS).
            profile: the TLS profile.
            headers: extra request headers.
            body: bytes, an iterable of bytes or a binary file.
            content_length: the length of a streamed body (else it is sent chunked).
            timeout: connect timeout, seconds.
            upload_progress: ``progress(sent, total)`` (socket path only).
            via: ``"socket"``: HTTP/1.1 over a secure socket (h11); ``"native"``: the module's
                own HTTP client; ``"auto"``: the socket path when the module has secure
                sockets, else the native client.

        Returns:
            BaseResponse: status and headers; stream the body with ``iter_bytes()``.

        Raises:
            UnsafeArgumentError: the URL holds characters that cannot be sent.
            ProfileError, TLSError, NetworkError, SocketError, HTTPError: see
            :meth:`tls_connect` and :mod:`celltls.http`.
        """
        quoting.check_text(url, "url")
        parts = urlsplit(url)
        if parts.scheme.lower() != "https":
            raise CellTLSError(f"{url!r}: only https:// URLs are supported")
        host = parts.hostname or ""
        quoting.check_text(host, "host", allow_empty=False)
        try:
            port = parts.port or 443
        except ValueError as exc:
            raise UnsafeArgumentError("url", url, f"bad port: {exc}") from None
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        header_list = list(headers.items()) if isinstance(headers, dict) else list(headers)
        caps = self.driver.capabilities
        if via == "native" or (via == "auto" and caps.secure_sockets == 0 and caps.native_http):
            if profile is None:
                raise ProfileError("a TlsProfile is needed (TlsProfile.insecure() to skip it)")
            return self.driver.native_request(
                method, url, profile=profile, headers=header_list, body=body, timeout=timeout
            )
        host_header = host if port == 443 else f"{host}:{port}"
        key = (host, port, profile)
        pooled = self._take(key)
        if pooled is None:
            sock = self.tls_connect(host, port, profile, timeout=timeout)
            pooled = _Pooled(key, sock, HTTPConnection(sock, host_header))
        self._pool.append(pooled)
        return pooled.conn.request(
            method, target, headers=header_list, body=body, content_length=content_length,
            upload_progress=upload_progress,
        )

    def _take(self, key: tuple[str, int, TlsProfile | None]) -> _Pooled | None:
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
        """Close pooled connections, the port and the transcript this Modem opened."""
        try:
            for pooled in self._pool:
                try:
                    pooled.conn.close()
                except CellTLSError as exc:
                    log.info("closing a pooled connection: %s", exc)
            self._pool.clear()
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
