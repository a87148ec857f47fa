"""Network side of the virtual nRF91 Serial LTE Modem: TLS as the nRF91 modem does it.

Written from ``shared/reference/nordic-slm.md`` (source ids S#/L# are that page's), not from the
driver. What it holds:

- :data:`NRF91_SUITES`: the cipher suites of the nRF91 modem (§10, S5: ECDHE-ECDSA and
  ECDHE-RSA AES-CBC, and the GCM suites of mfw v1.3.x >= 1); TLS 1.2 only (``NRF_SPROTO_TLS1v2``);
  the PSK suites are listed but cannot be offered by Python's :mod:`ssl` here;
- :func:`open_tls`: a TLS 1.2 client connection with the modem's checks: the server chain is
  verified against the root CA of the ``sec_tag`` when ``peer_verify`` is 2 (required); with 1
  (optional) a failed verification does not stop the handshake, as mbed TLS's optional mode;
  the host name is sent (SNI) and checked only when the TLS hostname option holds one (§10:
  ``NRF_SO_SEC_HOSTNAME``; SNI since mfw v1.2.1, L5); certificate dates are not checked against
  a clock (whether the modem does is unknown, §15);
- :class:`Link`: a connection with the modem's receive buffer (the server is held back by TCP
  flow control when it is full), read by ``#XRECV`` and by the HTTP client;
- :class:`HttpResponseReader`: HTTP/1.1 response framing (h11) for ``#XHTTPCREQ``, keeping the
  raw header bytes the SLM forwards (§8.1).

Failures raise :class:`~celltls.sim.network.TlsOpenError` whose ``errno`` attribute is the
platform errno (§9.1 numbering: newlib / ``nrf_errno.h``), kept for tests and the log; the
firmware never prints it on the UART (§3).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass

import h11

from celltls.sim.network import Connection, TcpConnection, TlsConnection, TlsOpenError

__all__ = [
    "EAGAIN",
    "ECONNREFUSED",
    "ECONNRESET",
    "ENOTCONN",
    "ETIMEDOUT",
    "NRF91_SUITES",
    "HttpResponseReader",
    "Link",
    "NetError",
    "open_tcp",
    "open_tls",
]

# Platform errno values (nordic-slm.md §9.1, S5 nrf_errno.h / S8 newlib), not Linux's.
EAGAIN = 11
EINVAL = 22
ECONNRESET = 104
ECONNABORTED = 113
ENETUNREACH = 114
ETIMEDOUT = 116
ECONNREFUSED = 111
ENOTCONN = 128
EOPNOTSUPP = 95

#: IANA code -> OpenSSL name of the nRF91 modem's TLS 1.2 suites (nordic-slm.md §10, S5).
NRF91_SUITES: dict[int, str] = {
    0xC024: "ECDHE-ECDSA-AES256-SHA384",
    0xC00A: "ECDHE-ECDSA-AES256-SHA",
    0xC023: "ECDHE-ECDSA-AES128-SHA256",
    0xC009: "ECDHE-ECDSA-AES128-SHA",
    0xC014: "ECDHE-RSA-AES256-SHA",
    0xC027: "ECDHE-RSA-AES128-SHA256",
    0xC013: "ECDHE-RSA-AES128-SHA",
    # GCM only with mfw v1.3.x >= 1, v1.2.x >= 7, v1.1.x >= 5 (§10)
    0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256",
    0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
    0xC02F: "ECDHE-RSA-AES128-GCM-SHA256",
}


class NetError(TlsOpenError):
    """A connection failure with the platform errno the firmware would log (§9.1).

    Attributes:
        errno: the positive errno value (e.g. 116 ETIMEDOUT).
    """

    def __init__(self, reason: str, errno: int) -> None:
        super().__init__(reason)
        self.errno = errno


@dataclass(frozen=True)
class TlsSettings:
    """What a secure socket takes from its options and its ``sec_tag`` (§6.2, §10).

    Attributes:
        ca_pem: the root CA (``%CMNG`` type 0) or ``None``.
        cert_pem: the client certificate (type 1) or ``None``.
        key_pem: the client private key (type 2) or ``None``.
        key_password: the PKCS#8 password given with the key, or ``None``.
        peer_verify: 0 none, 1 optional, 2 required.
        hostname: the TLS hostname option (SNI and name check), ``None`` when not set.
    """

    ca_pem: bytes | None
    cert_pem: bytes | None
    key_pem: bytes | None
    key_password: str | None
    peer_verify: int
    hostname: str | None


def _context(settings: TlsSettings) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    names = [name for name in NRF91_SUITES.values() if _offered(name)]
    context.set_ciphers(":".join(names))
    context.options |= ssl.OP_NO_TICKET
    if settings.peer_verify == 2:
        if not settings.ca_pem:
            raise NetError("no CA certificate: peer verification required and the sec_tag "
                           "holds no root CA (type 0)", ECONNABORTED)
        try:
            context.load_verify_locations(cadata=settings.ca_pem.decode("ascii", "replace"))
        except (ssl.SSLError, ValueError) as exc:
            raise NetError(f"verify failed: the root CA cannot be loaded ({exc})",
                           ECONNABORTED) from exc
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = bool(settings.hostname)
    else:
        context.verify_mode = ssl.CERT_NONE
    if settings.cert_pem and settings.key_pem:
        _load_client(context, settings.cert_pem, settings.key_pem, settings.key_password)
    return context


_offered_cache: dict[str, bool] = {}


def _offered(name: str) -> bool:
    if name not in _offered_cache:
        probe = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            probe.set_ciphers(name)
            _offered_cache[name] = any(c["name"] == name for c in probe.get_ciphers())
        except ssl.SSLError:
            _offered_cache[name] = False
    return _offered_cache[name]


def _load_client(context: ssl.SSLContext, cert: bytes, key: bytes, password: str | None) -> None:
    # ssl loads a key only from a file: a private directory, removed at once.
    with tempfile.TemporaryDirectory(prefix="celltls-nrf-") as directory:
        os.chmod(directory, 0o700)
        paths = []
        for name, blob in (("cert.pem", cert), ("key.pem", key)):
            path = os.path.join(directory, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            paths.append(path)
        try:
            context.load_cert_chain(paths[0], paths[1], password=password)
        except (ssl.SSLError, ValueError) as exc:
            raise NetError("handshake failed: the client certificate or key cannot be used",
                           ECONNABORTED) from exc


def _tcp(host: str, port: int, family: int, timeout: float, latency: float) -> socket.socket:
    want = socket.AF_INET6 if family == 2 else socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, port, want, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        # a DNS failure is -EAGAIN in the SLM's connect path (nordic-slm.md §6.2, S2)
        raise NetError(f"dns failed: {host}: {exc}", EAGAIN) from exc
    if latency:
        time.sleep(latency)
    last: OSError | None = None
    for fam, kind, proto, _name, address in infos:
        raw = socket.socket(fam, kind, proto)
        raw.settimeout(timeout)
        try:
            raw.connect(address)
        except OSError as exc:
            raw.close()
            last = exc
            continue
        return raw
    if isinstance(last, TimeoutError):
        raise NetError(f"timeout: TCP connect to {host}:{port}", ETIMEDOUT)
    if isinstance(last, ConnectionRefusedError):
        raise NetError(f"connect failed: {host}:{port} refused", ECONNREFUSED)
    raise NetError(f"connect failed: {host}:{port}: {last}", ENETUNREACH)


def open_tcp(host: str, port: int, *, family: int = 1, timeout: float,
             latency: float = 0.0) -> TcpConnection:
    """A plain TCP connection (``#XSOCKET`` type 1).

    Args:
        host: name or address; port: TCP port; family: 1 IPv4, 2 IPv6 (``#XSOCKET`` op).
        timeout: seconds for the connect; latency: seconds added (one round trip).

    Raises:
        NetError: DNS (errno 11), timeout (116), refused (111), other (114).
    """
    raw = _tcp(host, port, family, timeout, latency)
    raw.setblocking(False)
    ip, rport = raw.getpeername()[:2]
    return TcpConnection(raw, str(ip), int(rport), latency)


def open_tls(host: str, port: int, settings: TlsSettings, *, family: int = 1, timeout: float,
             latency: float = 0.0) -> TlsConnection:
    """A TLS 1.2 client connection made the way the nRF91 modem makes it (module docstring).

    Args:
        host: name or address to connect to; port: TCP port.
        settings: CA, client credentials, ``peer_verify`` and TLS hostname.
        family: 1 IPv4, 2 IPv6.
        timeout: seconds for connect and handshake; latency: seconds per round trip.

    Returns:
        The connection (its reader not started).

    Raises:
        NetError: ``"no CA certificate"``, ``"verify failed"``, ``"handshake failed"``,
            ``"dns failed"``, ``"timeout"``, ``"connect failed"`` with their errno.
    """
    context = _context(settings)
    raw = _tcp(host, port, family, timeout, latency)
    ip, rport = raw.getpeername()[:2]
    sni = settings.hostname or None
    if sni is not None:
        with contextlib.suppress(ValueError):
            ipaddress.ip_address(sni)
            sni = sni if context.check_hostname else None  # no SNI for an address
    try:
        sock = context.wrap_socket(raw, server_hostname=sni, do_handshake_on_connect=False)
        if latency:
            time.sleep(2 * latency)
        sock.settimeout(timeout)
        sock.do_handshake()
    except ssl.SSLCertVerificationError as exc:
        raw.close()
        raise NetError(f"verify failed: {exc.verify_message or exc.reason}",
                       ECONNABORTED) from exc
    except ssl.SSLError as exc:
        raw.close()
        raise NetError(f"handshake failed: {exc.reason or exc}", ECONNABORTED) from exc
    except TimeoutError as exc:
        raw.close()
        raise NetError(f"timeout: TLS handshake with {host}:{port}", ETIMEDOUT) from exc
    except OSError as exc:
        raw.close()
        raise NetError(f"handshake failed: {exc}", ECONNRESET) from exc
    sock.setblocking(False)
    return TlsConnection(sock, str(ip), int(rport), latency)


class Link:
    """A connection and the modem's receive buffer for it.

    Args:
        conn: an opened connection (its reader is started here).
        limit: bytes buffered before the server is held back (TCP flow control).

    Attributes:
        closed: the server closed or the connection failed.
        reason: why it closed.
    """

    def __init__(self, conn: Connection, limit: int) -> None:
        self.conn = conn
        self.rx = bytearray()
        self.cond = threading.Condition()
        self.closed = False
        self.reason = ""
        self._limit = limit
        conn.start(self._on_data, self._on_closed, self._room)

    def _room(self) -> bool:
        with self.cond:
            return len(self.rx) < self._limit

    def _on_data(self, data: bytes) -> None:
        with self.cond:
            self.rx += data
            self.cond.notify_all()

    def _on_closed(self, reason: str) -> None:
        with self.cond:
            self.closed = True
            self.reason = reason
            self.cond.notify_all()

    def wait(self, timeout: float | None) -> bool:
        """Wait until data is buffered or the connection closed; ``True`` if either."""
        with self.cond:
            return self.cond.wait_for(lambda: bool(self.rx) or self.closed, timeout)

    def take(self, size: int, *, peek: bool = False) -> bytes:
        """Up to ``size`` buffered bytes (left in the buffer with ``peek``)."""
        with self.cond:
            out = bytes(self.rx[:size])
            if not peek:
                del self.rx[:size]
            return out

    def pending(self) -> int:
        """Bytes buffered now."""
        with self.cond:
            return len(self.rx)

    def send(self, data: bytes) -> None:
        """Send ``data``.

        Raises:
            OSError: the connection is closed or failed.
        """
        if self.closed:
            raise OSError("connection closed")
        self.conn.send(data)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
        with self.cond:
            self.closed = True
            self.cond.notify_all()


class HttpResponseReader:
    """One HTTP/1.1 response read from a :class:`Link`, as the SLM HTTP client forwards it.

    Args:
        method: the request's method (a ``HEAD`` response has no body).

    :meth:`feed` takes bytes from the connection and returns the pieces to forward:
    ``("head", raw header bytes)`` once, then ``("body", bytes)`` (de-chunked, as the HTTP
    parser of Zephyr's client hands the body to the SLM), and finally ``("end", b"")``.

    Raises (from :meth:`feed`):
        h11.RemoteProtocolError: the server's bytes are not HTTP/1.1.
    """

    def __init__(self, method: str) -> None:
        self._h11 = h11.Connection(our_role=h11.CLIENT)
        self._method = method
        self._raw = bytearray()
        self._head_done = False
        self.status = 0
        self.keep_alive = True

    def start(self, request: h11.Request, body: bytes) -> bytes:
        """The request's bytes (h11 frames them; ``Content-Length`` is the caller's)."""
        out = self._h11.send(request) or b""
        if body:
            out += self._h11.send(h11.Data(data=body)) or b""
        out += self._h11.send(h11.EndOfMessage()) or b""
        return out

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        """Forwardable pieces for the bytes ``data`` (``b""`` = the server closed)."""
        pieces: list[tuple[str, bytes]] = []
        if not self._head_done:
            self._raw += data
        self._h11.receive_data(data)
        while True:
            event = self._h11.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                break
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                self.status = event.status_code
                end = self._raw.find(b"\r\n\r\n")
                # skip 1xx heads: the last head before the body is the response's
                while end >= 0 and self._raw[9:10] == b"1":
                    del self._raw[: end + 4]
                    end = self._raw.find(b"\r\n\r\n")
                head = bytes(self._raw[: end + 4]) if end >= 0 else bytes(self._raw)
                self._head_done = True
                self._raw.clear()
                self.keep_alive = all(
                    value.lower() != b"close" for name, value in event.headers
                    if name == b"connection")
                pieces.append(("head", head))
            elif isinstance(event, h11.Data):
                pieces.append(("body", bytes(event.data)))
            elif isinstance(event, h11.EndOfMessage):
                pieces.append(("end", b""))
                break
            elif isinstance(event, h11.ConnectionClosed):
                break
        return pieces
