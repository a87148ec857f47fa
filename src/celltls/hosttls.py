"""TLS on the host over a module's plain TCP socket (``tls="host"``).

Many modules' own TLS is older than today's servers (TLS 1.2 with RSA key exchange only on the
Quectel GSM family, SSL-AN V3.3 Table 2; no TLS 1.3 in any dialect's sources) and cannot check
host names (``Capabilities.hostname_check``). Here TLS runs in Python instead
(:meth:`ssl.SSLContext.wrap_bio` with two :class:`ssl.MemoryBIO`): the module carries the
encrypted bytes over a plain TCP socket (:meth:`celltls.dialects.base.Dialect.tcp_connect`),
the host does the handshake with TLS 1.3 or 1.2, verifies the chain, the dates (against the
host's clock) and the host name, sends SNI and ALPN ``http/1.1``, and presents the profile's
client certificate when it has one. Keys never go into the module; they stay on the host.

Errors map onto :mod:`celltls.errors`: CertificateExpiredError, CertificateNotYetValidError,
HostnameMismatchError, CertificateVerifyError, TLSNegotiationError (no common version or suite)
and TLSHandshakeError (with the alert).
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import tempfile
import time
from pathlib import Path

import certifi

from celltls.dialects.base import RecvClock, SecureSocket
from celltls.errors import (
    CellTLSError,
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateVerifyError,
    HostnameMismatchError,
    ProfileError,
    SocketError,
    TLSError,
    TLSHandshakeError,
    TLSNegotiationError,
)
from celltls.tls import OPENSSL_CIPHER_NAMES, TlsProfile, TlsVersion, Verify

log = logging.getLogger(__name__)

#: The protocol versions TLS on the host speaks (older ones are refused by design).
HOST_TLS_VERSIONS = (TlsVersion.TLS1_2, TlsVersion.TLS1_3)
#: ALPN protocols offered (RFC 7301): celltls speaks HTTP/1.1 (h11).
ALPN = ("http/1.1",)
#: Plaintext bytes handed to one TLS record write (RFC 8446 5.1: at most 2^14 per record).
RECORD_SIZE = 16384

_SSL_VERSIONS = {
    TlsVersion.TLS1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLS1_3: ssl.TLSVersion.TLSv1_3,
}
#: OpenSSL X509_V_ERR codes (x509_vfy.h) that have their own error class.
_X509_NOT_YET_VALID = 9
_X509_EXPIRED = 10
_X509_HOSTNAME_MISMATCH = 62
_X509_IP_MISMATCH = 64
#: OpenSSL reasons that mean "no common protocol version or cipher suite".
_NEGOTIATION_REASONS = frozenset({
    "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE", "TLSV1_ALERT_PROTOCOL_VERSION",
    "WRONG_VERSION_NUMBER", "NO_SHARED_CIPHER", "NO_CIPHERS_AVAILABLE",
    "SSLV3_ALERT_HANDSHAKE_FAILURE", "TLSV1_ALERT_INSUFFICIENT_SECURITY",
})


def host_context(profile: TlsProfile | None) -> ssl.SSLContext:
    """The :class:`ssl.SSLContext` for TLS on the host.

    Args:
        profile: the TLS profile; ``None`` verifies the server (chain, dates, host name)
            against certifi's roots (Mozilla's CA bundle). With a profile: its CA alone
            (``profile.ca``), its ``check_hostname``, ``verify`` (``Verify.NONE`` turns
            verification off, with a warning), versions clipped to TLS 1.2-1.3, its TLS 1.2
            cipher suites when it names some, its client certificate and key (mutual TLS).

    Returns:
        ssl.SSLContext: a client context with ALPN ``http/1.1``.

    Raises:
        ProfileError: the profile allows no version TLS on the host speaks (TLS 1.2, 1.3),
            names cipher suites OpenSSL cannot offer, or its client key cannot be loaded.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    versions: tuple[TlsVersion, ...]
    if profile is None:
        ctx.load_verify_locations(cafile=certifi.where())
        versions = HOST_TLS_VERSIONS
    else:
        versions = profile.versions(HOST_TLS_VERSIONS) if (
            profile.max_version is None or profile.max_version >= TlsVersion.TLS1_2
        ) else ()
        if not versions:
            raise ProfileError(
                f"TLS on the host speaks TLS 1.2 and 1.3 only; the profile allows "
                f"{profile.min_version.label} to "
                f"{profile.max_version.label if profile.max_version else 'the newest'}"
            )
        if profile.verify is Verify.NONE:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            profile.warn_if_insecure("TLS on the host")
        else:
            assert profile.ca is not None  # TlsProfile guarantees it
            ctx.load_verify_locations(cadata=profile.ca.pem.decode("ascii"))
            ctx.check_hostname = profile.check_hostname
            if not profile.check_time:
                log.info("TLS on the host checks certificate dates against the host's clock "
                         "(check_time=False applies to a module's clock only)")
        if profile.cipher_suites is not None:
            names = [OPENSSL_CIPHER_NAMES[c] for c in profile.cipher_suites
                     if c in OPENSSL_CIPHER_NAMES]
            try:
                ctx.set_ciphers(":".join(names))
            except ssl.SSLError:
                raise ProfileError(
                    "OpenSSL on the host can offer none of the profile's cipher suites "
                    + ", ".join(f"0x{c:04X}" for c in profile.cipher_suites)
                ) from None
        if profile.client_cert is not None and profile.client_key is not None:
            _load_client(ctx, profile.client_cert.pem, profile.client_key.pem)
    ctx.minimum_version = _SSL_VERSIONS[versions[0]]
    ctx.maximum_version = _SSL_VERSIONS[versions[-1]]
    ctx.set_alpn_protocols(list(ALPN))
    return ctx


def _load_client(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    """Load a client certificate and key: :meth:`ssl.SSLContext.load_cert_chain` reads files
    only, so they go to a private temporary directory (mode 0700) removed right after."""
    with tempfile.TemporaryDirectory(prefix="celltls-client-") as directory:
        os.chmod(directory, 0o700)
        cert_file, key_file = Path(directory, "cert.pem"), Path(directory, "key.pem")
        cert_file.write_bytes(cert_pem)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key_pem)
        try:
            ctx.load_cert_chain(cert_file, key_file)
        except ssl.SSLError as exc:
            raise ProfileError(f"the client certificate and key cannot be loaded ({exc.reason})"
                               ) from None


class HostTLSSocket(SecureSocket):
    """A TLS connection run by the host over a module's plain TCP socket.

    Same contract as a module's secure socket (``sendall``/``recv``/``close``, ``timeout``,
    the first failure raised from then on). The record layer is OpenSSL's, fed through
    :class:`ssl.MemoryBIO`: bytes from the module go into the incoming BIO, what OpenSSL writes
    to the outgoing BIO goes to the module with ``stream.sendall``.

    Args:
        stream: the plain TCP socket (:meth:`celltls.dialects.base.Dialect.tcp_connect`).
        context: from :func:`host_context`.
        host: the server's name or address: SNI (a name only, RFC 6066 3) and the name the
            certificate must be issued for.
        port: the server's port.

    Attributes:
        stream: the plain socket under this connection.
    """

    #: bytes asked of the plain socket at a time.
    read_size = 4096

    def __init__(self, stream: SecureSocket, context: ssl.SSLContext, host: str,
                 port: int) -> None:
        super().__init__(host, port, max_send=RECORD_SIZE)
        self.stream = stream
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=False,
                                     server_hostname=host)
        self._eof = False

    def __enter__(self) -> HostTLSSocket:
        return self

    # -- what the handshake gave ------------------------------------------------------------

    @property
    def version(self) -> str | None:
        """The negotiated protocol (``"TLSv1.3"``), ``None`` before the handshake."""
        return self._tls.version()

    @property
    def cipher(self) -> str | None:
        """The negotiated cipher suite's OpenSSL name, ``None`` before the handshake."""
        found = self._tls.cipher()
        return found[0] if found else None

    @property
    def alpn(self) -> str | None:
        """The ALPN protocol the server chose, or ``None``."""
        return self._tls.selected_alpn_protocol()

    def peer_certificate(self) -> bytes | None:
        """The server's certificate (DER), ``None`` before the handshake."""
        return self._tls.getpeercert(binary_form=True)

    # -- handshake ---------------------------------------------------------------------------

    def handshake(self, timeout: float) -> None:
        """Run the TLS handshake over the plain socket.

        Args:
            timeout: seconds the whole handshake may take.

        Raises:
            CertificateExpiredError, CertificateNotYetValidError, HostnameMismatchError,
            CertificateVerifyError: the server's certificate failed verification.
            TLSNegotiationError: no common protocol version or cipher suite.
            TLSHandshakeError: another failure (an alert, the server closed the connection).
            ATTimeoutError: the server sent nothing for ``timeout`` seconds.
            SocketError, NetworkLostError, ModuleRebootedError: the plain socket failed.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                if not self._pull(deadline):
                    raise self._mapped(None, "the server closed the connection during the "
                                       "handshake") from None
                continue
            except ssl.SSLError as exc:
                with contextlib.suppress(CellTLSError, OSError):
                    self._flush()  # the alert we send the server
                raise self._mapped(exc, "") from None
            self._flush()
            break
        log.info("TLS on the host with %s:%d: %s, %s, ALPN %s", self.host, self.port,
                 self.version, self.cipher, self.alpn)

    def _mapped(self, exc: ssl.SSLError | None, what: str) -> TLSError:
        """The celltls error for a failed handshake."""
        where = f"{self.host}:{self.port}"
        if isinstance(exc, ssl.SSLCertVerificationError):
            code = exc.verify_code
            message = exc.verify_message
            detail = f"{message} (X509 error {code})"
            if code in (_X509_HOSTNAME_MISMATCH, _X509_IP_MISMATCH):
                return HostnameMismatchError(
                    f"the certificate of {where} was not issued for {self.host!r} ({message}); "
                    "connect with the name the certificate carries",
                    host=self.host, port=self.port, detail=detail)
            if code == _X509_EXPIRED:
                return CertificateExpiredError(
                    f"the certificate of {where} has expired (host's clock: "
                    f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())})",
                    host=self.host, port=self.port, detail=detail)
            if code == _X509_NOT_YET_VALID:
                return CertificateNotYetValidError(
                    f"the certificate of {where} is not valid yet (host's clock: "
                    f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())})",
                    host=self.host, port=self.port, detail=detail)
            return CertificateVerifyError(
                f"the certificate of {where} could not be verified ({message})",
                host=self.host, port=self.port, detail=detail,
                evidence=["fix: give the root CA at the top of the server's chain (--ca), or "
                          "none to use certifi's roots"])
        if exc is None:
            return TLSHandshakeError(f"TLS on the host with {where} failed: {what}",
                                     host=self.host, port=self.port, detail=what)
        reason = exc.reason or type(exc).__name__
        if reason in _NEGOTIATION_REASONS:
            return TLSNegotiationError(
                f"TLS on the host and {where} share no protocol version or cipher suite "
                f"({reason}; the host offers {self._offered()})",
                host=self.host, port=self.port, detail=reason)
        return TLSHandshakeError(
            f"TLS on the host with {where} failed: {reason}"
            + (" (the server sent this alert)" if "ALERT" in reason else ""),
            host=self.host, port=self.port, detail=str(exc))

    def _offered(self) -> str:
        ctx = self._tls.context
        return f"{ctx.minimum_version.name}..{ctx.maximum_version.name}"

    # -- the byte pump -------------------------------------------------------------------------

    def _flush(self) -> None:
        """Send what OpenSSL wrote to the outgoing BIO."""
        data = self._outgoing.read()
        if data:
            self.stream.sendall(data)

    def _pull(self, deadline: float) -> bool:
        """Move the next bytes from the plain socket into the incoming BIO; ``False`` at its
        end (then the BIO is told EOF)."""
        if self._eof:
            return False
        self.stream.timeout = max(0.5, deadline - time.monotonic())
        data = self.stream.recv(self.read_size)
        if not data:
            self._eof = True
            self._incoming.write_eof()
            return False
        self._incoming.write(data)
        return True

    def _fill(self, clock: RecvClock) -> bool:
        """Decrypt the next record(s) into the buffer, reading the plain socket as needed.

        Returns:
            bool: ``False`` at the end of the stream (close_notify, or the plain socket ended;
            an HTTP body's own framing then tells a cut body, :class:`PartialBodyError`).

        Raises:
            TLSHandshakeError: a TLS error after the handshake (a bad record, an alert).
            SocketError, ATTimeoutError, NetworkLostError, ModuleRebootedError: the plain
                socket's.
        """
        while True:
            try:
                data = self._tls.read(RECORD_SIZE)
            except ssl.SSLWantReadError:
                self._flush()  # e.g. a TLS 1.3 KeyUpdate answer
                if not self._pull(clock.deadline):
                    log.info("%s:%d ended the TCP stream without close_notify", self.host,
                             self.port)
                    return False
                continue
            except ssl.SSLZeroReturnError:
                return False  # close_notify
            except ssl.SSLEOFError:
                return False
            except ssl.SSLError as exc:
                error = TLSHandshakeError(
                    f"TLS on the host with {self.host}:{self.port} failed after the handshake: "
                    f"{exc.reason or exc}", host=self.host, port=self.port, detail=str(exc))
                self._fail(error)
                raise error from None
            if not data:
                return False
            self._deliver(data)
            self._flush()
            return True

    def _send_piece(self, piece: bytes) -> None:
        """Encrypt one record and send it over the plain socket.

        Raises:
            SocketError: the connection is closed or failed.
        """
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise SocketError(f"TLS connection to {self.host}:{self.port} is closed")
        try:
            self._tls.write(piece)
        except ssl.SSLError as exc:
            error = SocketError(f"TLS on the host with {self.host}:{self.port}: cannot send "
                                f"({exc.reason or exc})")
            self._fail(error)
            raise error from None
        self._flush()

    def _close_in_module(self) -> None:
        """Send close_notify (RFC 8446 6.1), then close the plain socket."""
        try:
            with contextlib.suppress(ssl.SSLError):
                self._tls.unwrap()
            with contextlib.suppress(CellTLSError, OSError):
                self._flush()
        finally:
            self.stream.close()


def wrap(stream: SecureSocket, host: str, port: int, profile: TlsProfile | None, *,
         timeout: float = 60.0) -> HostTLSSocket:
    """Run TLS on the host over ``stream`` and return the connection.

    Args:
        stream: a plain TCP socket through the module (closed when the handshake fails).
        host: the server's name or address (SNI and the host-name check).
        port: the server's port.
        profile: see :func:`host_context` (``None``: certifi's roots).
        timeout: seconds the handshake may take.

    Returns:
        HostTLSSocket: the connection, handshake done.

    Raises:
        ProfileError: see :func:`host_context`.
        TLSError and its subclasses: see :meth:`HostTLSSocket.handshake`.
        SocketError, ATTimeoutError, NetworkLostError, ModuleRebootedError: the plain socket.
    """
    try:
        sock = HostTLSSocket(stream, host_context(profile), host, port)
        sock.timeout = stream.timeout
        sock.handshake(timeout)
    except BaseException:
        stream.close()
        raise
    return sock
