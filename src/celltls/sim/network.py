"""Real TCP and TLS client connections made by a virtual modem, limited to what the module can do.

A module's TLS stack is old and small: it offers a handful of RSA key exchange cipher suites and
SSL 3.0 to TLS 1.2, never TLS 1.3. :func:`build_client_context` turns such limits (allowed
versions, allowed IANA cipher-suite codes, a verification level, credentials in PEM) into an
:class:`ssl.SSLContext`, dropping what the host's OpenSSL no longer offers (SSL 3.0, RC4, 3DES
with OpenSSL 3) and saying so. :class:`TlsConnection` resolves the name with
:func:`socket.getaddrinfo`, connects, handshakes, checks the certificates' validity against the
*modem's* clock, then runs a reader thread that hands received bytes to a callback.

Every failure raises :class:`TlsOpenError` whose ``reason`` starts with one of ``"dns failed"``,
``"connect failed"``, ``"timeout"``, ``"handshake failed"``, ``"verify failed"``,
``"no CA certificate"``, ``"unsupported"``; virtual modems keep it for tests to inspect.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import ipaddress
import logging
import os
import select
import socket
import ssl
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography import x509

from celltls.tls import OPENSSL_CIPHER_NAMES

__all__ = [
    "SUITE_OPENSSL_NAMES",
    "ContextBuild",
    "TlsConnection",
    "TlsOpenError",
    "available_suites",
    "build_client_context",
    "check_validity",
]

log = logging.getLogger(__name__)

#: IANA cipher-suite code -> OpenSSL name (ciphers(1)), for every suite a supported module has.
SUITE_OPENSSL_NAMES = OPENSSL_CIPHER_NAMES

_VERSIONS: dict[str, ssl.TLSVersion] = {
    "SSLv3": ssl.TLSVersion.SSLv3,
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
}
_VERSION_ORDER = ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2"]
#: OpenSSL's X509_V_FLAG_NO_CHECK_TIME: validity is checked against the modem clock instead.
_X509_V_FLAG_NO_CHECK_TIME = 0x200000

_suite_cache: dict[int, bool] = {}


class TlsOpenError(Exception):
    """Opening a TLS connection failed; ``reason`` says why, starting with its category."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def available_suites(codes: Iterable[int]) -> tuple[list[int], list[int]]:
    """Split cipher-suite codes into those the host OpenSSL offers and those it does not.

    Args:
        codes: IANA codes from :data:`SUITE_OPENSSL_NAMES`.

    Returns:
        ``(available, dropped)``; unknown codes are dropped.
    """
    available: list[int] = []
    dropped: list[int] = []
    for code in codes:
        if code not in _suite_cache:
            name = SUITE_OPENSSL_NAMES.get(code)
            ok = False
            if name is not None:
                probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                try:
                    probe.set_ciphers(name + ":@SECLEVEL=0")
                    ok = any(c["name"] == name for c in probe.get_ciphers())
                except ssl.SSLError:
                    ok = False
            _suite_cache[code] = ok
        (available if _suite_cache[code] else dropped).append(code)
    return available, dropped


@dataclass
class ContextBuild:
    """What :func:`build_client_context` made.

    Attributes:
        context: the client context.
        suites: the cipher-suite codes offered.
        dropped_suites: allowed codes the host OpenSSL cannot offer.
        versions: the protocol versions offered (``"TLSv1"``...).
        dropped_versions: allowed versions the host OpenSSL cannot offer.
        verify: ``"none"``, ``"server"`` or ``"mutual"``.
        ca_pem: the trusted CA certificates, for the validity check.
    """

    context: ssl.SSLContext
    suites: list[int]
    dropped_suites: list[int]
    versions: list[str]
    dropped_versions: list[str]
    verify: str
    ca_pem: bytes | None = None
    notes: list[str] = field(default_factory=list)


_version_cache: dict[str, bool] = {}


def _version_available(name: str) -> bool:
    if name not in _version_cache:
        version = _VERSIONS[name]
        ok = version is not ssl.TLSVersion.SSLv3  # OpenSSL 3 builds have no SSL 3.0
        if ok:
            probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    probe.set_ciphers("ALL:@SECLEVEL=0")
                    probe.minimum_version = version
                    probe.maximum_version = version
            except (ValueError, ssl.SSLError):
                ok = False
        _version_cache[name] = ok
    return _version_cache[name]


def build_client_context(
    *,
    versions: Iterable[str],
    suites: Iterable[int],
    verify: str,
    ca_pem: bytes | None = None,
    client_cert_pem: bytes | None = None,
    client_key_pem: bytes | None = None,
) -> ContextBuild:
    """An :class:`ssl.SSLContext` limited to a module's TLS versions and cipher suites.

    Args:
        versions: allowed versions among ``"SSLv3"``, ``"TLSv1"``, ``"TLSv1.1"``, ``"TLSv1.2"``
            (TLS 1.3 is never offered).
        suites: allowed IANA cipher-suite codes (keys of :data:`SUITE_OPENSSL_NAMES`).
        verify: ``"none"`` (no verification), ``"server"`` (verify the server's chain against
            ``ca_pem``) or ``"mutual"`` (also present ``client_cert_pem``/``client_key_pem``).
        ca_pem: trusted CA certificate(s), PEM.
        client_cert_pem: the client certificate (chain), PEM.
        client_key_pem: the client private key, PEM.

    Returns:
        The context and what was offered and dropped. The host name is never checked (the
        Quectel GSM SSL Application Note V3.3, 2.2.1 describes only CA verification), and the
        certificates' dates are left to :func:`check_validity` against the modem's clock.

    Raises:
        TlsOpenError: ``"unsupported: ..."`` when no allowed version or suite is available on
            this host; ``"no CA certificate ..."`` when verification has no CA; ``"handshake
            failed: ..."`` when a credential cannot be loaded.
    """
    allowed = [v for v in _VERSION_ORDER if v in set(versions)]
    offered = [v for v in allowed if _version_available(v)]
    dropped_versions = [v for v in allowed if v not in offered]
    if not offered:
        raise TlsOpenError(f"unsupported: none of {allowed} is available in the host's OpenSSL")
    codes, dropped = available_suites(suites)
    if not codes:
        raise TlsOpenError(
            "unsupported: none of the cipher suites "
            + ", ".join(f"0x{c:04X}" for c in dropped)
            + " is available in the host's OpenSSL"
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.set_ciphers(":".join(SUITE_OPENSSL_NAMES[c] for c in codes) + ":@SECLEVEL=0")
    with warnings.catch_warnings():
        # TLS 1.0 and 1.1 are deprecated, and exactly what an old module speaks
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = _VERSIONS[offered[0]]
        context.maximum_version = _VERSIONS[offered[-1]]
    context.options |= ssl.OP_NO_TICKET
    if verify == "none":
        context.verify_mode = ssl.CERT_NONE
    else:
        if not ca_pem:
            raise TlsOpenError("no CA certificate configured for server verification")
        context.verify_mode = ssl.CERT_REQUIRED
        context.verify_flags = ssl.VerifyFlags(
            int(context.verify_flags) | _X509_V_FLAG_NO_CHECK_TIME
        )
        try:
            context.load_verify_locations(cadata=ca_pem.decode("ascii", "replace"))
        except (ssl.SSLError, ValueError) as exc:
            raise TlsOpenError(f"verify failed: the CA certificate cannot be loaded ({exc})") from (
                exc
            )
    if verify == "mutual":
        if not client_cert_pem or not client_key_pem:
            raise TlsOpenError("handshake failed: no client certificate or key configured")
        _load_client_credentials(context, client_cert_pem, client_key_pem)
    return ContextBuild(context, codes, dropped, offered, dropped_versions, verify, ca_pem)


def _load_client_credentials(context: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    # ssl can load a certificate chain only from files: write both to a private directory
    # and remove them at once.
    with tempfile.TemporaryDirectory(prefix="celltls-sim-") as directory:
        os.chmod(directory, 0o700)
        cert_path = os.path.join(directory, "cert.pem")
        key_path = os.path.join(directory, "key.pem")
        fd = os.open(cert_path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(cert)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        try:
            context.load_cert_chain(cert_path, key_path)
        except (ssl.SSLError, ValueError) as exc:
            raise TlsOpenError(
                f"handshake failed: the client certificate or key cannot be loaded ({exc})"
            ) from exc


def check_validity(certificates: Iterable[bytes], when: _dt.datetime) -> None:
    """Check that every certificate is valid at ``when`` (the modem's clock).

    Args:
        certificates: DER or PEM certificates (the server's and the trusted CA's).
        when: the time to check against, timezone-aware.

    Raises:
        TlsOpenError: ``"verify failed: certificate ... expired / not yet valid ..."``.
    """
    for blob in certificates:
        if blob.lstrip().startswith(b"-----BEGIN"):
            certs = x509.load_pem_x509_certificates(blob)
        else:
            certs = [x509.load_der_x509_certificate(blob)]
        for cert in certs:
            subject = cert.subject.rfc4514_string()
            if when < cert.not_valid_before_utc:
                raise TlsOpenError(
                    f"verify failed: certificate {subject} is not yet valid at the modem's "
                    f"clock {when:%Y-%m-%d %H:%M:%S} (valid from {cert.not_valid_before_utc})"
                )
            if when > cert.not_valid_after_utc:
                raise TlsOpenError(
                    f"verify failed: certificate {subject} has expired at the modem's clock "
                    f"{when:%Y-%m-%d %H:%M:%S} (valid until {cert.not_valid_after_utc})"
                )


def _describe_ssl_error(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"verify failed: {exc.verify_message or exc.reason}"
    reason = exc.reason or exc.__class__.__name__
    return f"handshake failed: {reason} ({exc})"


def _connect(host: str, port: int, remaining: Callable[[], float],
             latency: float) -> socket.socket:
    """Resolve ``host`` (IPv4 first) and open a TCP connection within ``remaining()`` seconds.

    Raises:
        TlsOpenError: ``"dns failed: ..."``, ``"timeout: ..."`` or ``"connect failed: ..."``.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TlsOpenError(f"dns failed: {host}: {exc}") from exc
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    if latency:
        time.sleep(min(latency, remaining()))
    last: OSError | None = None
    for family, kind, proto, _name, address in infos:
        raw = socket.socket(family, kind, proto)
        raw.settimeout(remaining())
        try:
            raw.connect(address)
        except OSError as exc:
            raw.close()
            last = exc
            continue
        return raw
    if isinstance(last, TimeoutError):
        raise TlsOpenError(f"timeout: TCP connect to {host}:{port}")
    raise TlsOpenError(f"connect failed: {host}:{port}: {last}")


def _deadline(host: str, port: int, timeout: float) -> Callable[[], float]:
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TlsOpenError(f"timeout: no connection to {host}:{port} within {timeout} s")
        return left

    return remaining


class Connection:
    """One client connection of a virtual modem, plain TCP or TLS, with a background reader.

    Create it with :meth:`TcpConnection.open` or :meth:`TlsConnection.open`; then
    :meth:`start` the reader, :meth:`send` and :meth:`close`.

    Attributes:
        remote_ip: the server's address as connected.
        remote_port: the server's port.
    """

    def __init__(self, sock: socket.socket, remote_ip: str, remote_port: int, latency: float):
        self._sock = sock
        self.remote_ip = remote_ip
        self.remote_port = remote_port
        self._latency = latency
        self._io_lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self._last_send = 0.0
        self._thread: threading.Thread | None = None
        self._in_callback = False  # the reader is inside on_data or on_closed

    def start(
        self,
        on_data: Callable[[bytes], None],
        on_closed: Callable[[str], None],
        can_receive: Callable[[], bool] | None = None,
    ) -> None:
        """Start the reader thread.

        Args:
            on_data: called with each chunk of received application data.
            on_closed: called once with a reason when the server closes or the connection fails
                (not after :meth:`close`).
            can_receive: when given and it returns ``False``, the reader stops reading from the
                server (the module's receive buffer is full), so TCP flow control holds the
                server back as it does with a real module.
        """
        self._can_receive = can_receive
        thread = threading.Thread(
            target=self._read_loop, args=(on_data, on_closed), name="celltls-sim-net", daemon=True
        )
        self._thread = thread
        thread.start()

    def _read_loop(
        self, on_data: Callable[[bytes], None], on_closed: Callable[[str], None]
    ) -> None:
        reason = "closed by the server"
        can_receive = getattr(self, "_can_receive", None)
        while not self._stop.is_set():
            if can_receive is not None and not can_receive():
                time.sleep(0.005)
                continue
            try:
                with self._io_lock:
                    pending = self._pending()
                if not pending:
                    readable, _, _ = select.select([self._sock], [], [], 0.1)
                    if not readable:
                        continue
                with self._io_lock:
                    data = self._sock.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                continue
            except (OSError, ValueError) as exc:
                if self._stop.is_set():
                    return
                reason = f"connection error: {exc}"
                break
            if not data:
                break
            if self._latency:
                due = self._last_send + self._latency - time.monotonic()
                if due > 0:
                    time.sleep(due)
            self._in_callback = True
            try:
                on_data(data)
            finally:
                self._in_callback = False
        if not self._stop.is_set():
            self._stop.set()
            self._shutdown_socket()
            self._in_callback = True
            on_closed(reason)

    def send(self, data: bytes) -> None:
        """Send application data (blocks until the socket, or the TLS stack, has taken it all).

        Raises:
            OSError: the connection is closed or failed.
        """
        if self._closed or self._stop.is_set():
            raise OSError("connection closed")
        view = memoryview(data)
        while view:
            try:
                with self._io_lock:
                    sent = self._sock.send(view)
                view = view[sent:]
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                select.select([], [self._sock], [], 0.1)
        self._last_send = time.monotonic()

    def close(self) -> None:
        """Close the connection; the reader stops without reporting."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._shutdown_socket()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return
        # Wait for the reader to stop, but not for a reader inside on_data/on_closed: the caller
        # usually holds the modem's lock (AT+QICLOSE), which that callback is waiting for, so
        # joining it only ran into the timeout (a second added to every close). The callbacks
        # take the modem's lock and ignore a socket the modem has already dropped.
        deadline = time.monotonic() + 1.0
        while thread.is_alive() and not self._in_callback and time.monotonic() < deadline:
            thread.join(timeout=0.01)

    def abort(self) -> None:
        """Drop the TCP connection at once, as if the server had closed it (fault injection).

        The plain socket's ``shutdown`` is called even on TLS: ``ssl.SSLSocket.shutdown`` drops
        the TLS object first, and reads after it returned the records still in the kernel's
        buffer as they are, ciphertext handed on as payload. Now those records are decrypted
        (the server sent them before closing) and the end follows."""
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)

    def _pending(self) -> int:
        """Bytes already decrypted and waiting (TLS); a plain socket has none."""
        return 0

    def _shutdown_socket(self) -> None:
        with self._io_lock, contextlib.suppress(OSError):
            self._sock.close()


class TcpConnection(Connection):
    """One plain TCP client connection of a virtual modem (see :class:`Connection`), for the
    modules' plain sockets (Quectel ``AT+QIOPEN``, Sierra ``+KTCPCFG`` mode 0)."""

    @classmethod
    def open(cls, host: str, port: int, *, timeout: float,
             latency: float = 0.0) -> TcpConnection:
        """Resolve ``host`` and connect within ``timeout`` seconds.

        Raises:
            TlsOpenError: ``"dns failed: ..."``, ``"timeout: ..."`` or ``"connect failed: ..."``
                (the same reasons as a TLS open's TCP part).
        """
        raw = _connect(host, port, _deadline(host, port, timeout), latency)
        raw.setblocking(False)
        remote_ip, remote_port = raw.getpeername()[:2]
        return cls(raw, str(remote_ip), int(remote_port), latency)


class TlsConnection(Connection):
    """One TLS client connection of a virtual modem (see :class:`Connection`).

    Attributes (besides :class:`Connection`'s):
        version: the negotiated protocol version (``"TLSv1.2"``).
        cipher: the negotiated cipher suite's OpenSSL name.
    """

    def __init__(self, sock: ssl.SSLSocket, remote_ip: str, remote_port: int, latency: float):
        super().__init__(sock, remote_ip, remote_port, latency)
        self.version = sock.version() or ""
        cipher = sock.cipher()
        self.cipher = cipher[0] if cipher else ""

    @classmethod
    def open(
        cls,
        host: str,
        port: int,
        build: ContextBuild,
        *,
        timeout: float,
        latency: float = 0.0,
        clock: _dt.datetime | None = None,
    ) -> TlsConnection:
        """Resolve ``host``, connect, handshake and check the certificates' dates.

        Args:
            host: a name or an IP address.
            port: TCP port.
            build: from :func:`build_client_context`.
            timeout: the whole operation's limit, seconds.
            latency: seconds added per network round trip (one for the TCP connect, two for
                the TLS 1.2 handshake, one per request/response).
            clock: the modem's time to check certificate validity against; ``None`` skips the
                check (``ignorertc``, or no verification).

        Raises:
            TlsOpenError: the reason, see the module's docstring.
        """
        remaining = _deadline(host, port, timeout)
        raw = _connect(host, port, remaining, latency)
        remote_ip, remote_port = raw.getpeername()[:2]
        try:
            ipaddress.ip_address(host)
            server_hostname = None
        except ValueError:
            server_hostname = host
        try:
            sock = build.context.wrap_socket(
                raw, server_hostname=server_hostname, do_handshake_on_connect=False
            )
        except ssl.SSLError as exc:
            raw.close()
            raise TlsOpenError(_describe_ssl_error(exc)) from exc
        try:
            if latency:
                time.sleep(min(2 * latency, remaining()))
            sock.settimeout(remaining())
            sock.do_handshake()
        except ssl.SSLError as exc:
            sock.close()
            raise TlsOpenError(_describe_ssl_error(exc)) from exc
        except TimeoutError as exc:
            sock.close()
            raise TlsOpenError(f"timeout: TLS handshake with {host}:{port}") from exc
        except OSError as exc:
            sock.close()
            raise TlsOpenError(f"handshake failed: {exc}") from exc
        if clock is not None and build.verify != "none":
            blobs: list[bytes] = []
            peer = sock.getpeercert(binary_form=True)
            if peer:
                blobs.append(peer)
            if build.ca_pem:
                blobs.append(build.ca_pem)
            try:
                check_validity(blobs, clock)
            except TlsOpenError:
                sock.close()
                raise
        sock.setblocking(False)
        log.debug("TLS to %s:%s: %s %s", host, port, sock.version(), sock.cipher())
        return cls(sock, str(remote_ip), int(remote_port), latency)

    def _pending(self) -> int:
        assert isinstance(self._sock, ssl.SSLSocket)
        return self._sock.pending()
