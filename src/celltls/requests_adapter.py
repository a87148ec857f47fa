"""A requests transport adapter that makes every request through a cellular module
(``celltls[requests]``).

::

    from celltls import Modem
    from celltls.requests_adapter import session

    with Modem("/dev/ttyUSB0") as modem:
        modem.attach(apn="internet")
        s = session(modem, ca="ca.pem")   # ModemAdapter mounted for https:// (and http://,
        print(s.get("https://example.com/").text)  # which it refuses: TLS only)

or ``requests.Session().mount("https://", ModemAdapter(modem))``. requests's own arguments
apply: ``verify`` (``False``: no verification, logged; a path: that CA file or bundle),
``cert`` (a client certificate and key, for mutual TLS), ``timeout`` (connect to the module's
connection, read to each read of the body), ``stream=True`` (the body is read from the module
as ``iter_content`` asks). ``gzip``/``deflate`` bodies are decoded as requests does. celltls
errors become requests exceptions, the celltls error kept as ``__cause__`` (see
:func:`map_error`). Proxies do not apply: the module is the route.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import (
    ChunkedEncodingError,
    ConnectTimeout,
    InvalidHeader,
    InvalidSchema,
    InvalidURL,
    ReadTimeout,
    RequestException,
    SSLError,
)
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from celltls.errors import (
    ATTimeoutError,
    CellTLSError,
    ConnectTimeoutError,
    HTTPError,
    InvalidURLError,
    SocketError,
    TLSError,
    TransferTimeoutError,
    UnsafeArgumentError,
)
from celltls.http import BaseResponse, HTTPResponse
from celltls.integrations.cabundle import CERTIFI, CaBundle, ProfileSource
from celltls.modem import Modem, TlsMode, parse_https_url
from celltls.tls import Certificate, PrivateKey, TlsProfile

__all__ = ["ModemAdapter", "map_error", "session"]

log = logging.getLogger(__name__)


def map_error(exc: CellTLSError, request: requests.PreparedRequest | None = None, *,
              reading: bool = False) -> RequestException:
    """The requests exception for a celltls error (raise it ``from exc``).

    ========================================================  ==========================
    celltls                                                   requests
    ========================================================  ==========================
    ConnectTimeoutError                                       ConnectTimeout
    TransferTimeoutError, ATTimeoutError                      ReadTimeout
    InvalidURLError                                           InvalidURL
    UnsafeArgumentError (a header)                            InvalidHeader
    other UnsafeArgumentError                                 RequestException
    TLSError (CertificateVerifyError...)                      SSLError
    HTTPError, PartialBodyError, SocketError... (body)        ChunkedEncodingError
    anything else (network, port, profile, credential)        ConnectionError
    ========================================================  ==========================

    Args:
        exc: the celltls error.
        request: the request it failed.
        reading: whether the response body was being read.
    """
    kind: type[RequestException]
    if isinstance(exc, ConnectTimeoutError):
        kind = ConnectTimeout
    elif isinstance(exc, TransferTimeoutError | ATTimeoutError):
        kind = ReadTimeout
    elif isinstance(exc, InvalidURLError):
        kind = InvalidURL
    elif isinstance(exc, UnsafeArgumentError):
        kind = InvalidHeader if exc.field.startswith("header") else RequestException
    elif isinstance(exc, TLSError):
        kind = SSLError
    elif reading and isinstance(exc, HTTPError | SocketError):
        kind = ChunkedEncodingError
    else:
        kind = RequestsConnectionError
    return kind(str(exc), request=request)


class _RawBody:
    """``Response.raw``: the body read from the module as requests asks, decoded from gzip
    or deflate when ``decode_content`` (requests asks for that, as urllib3 does)."""

    def __init__(self, response: BaseResponse, request: requests.PreparedRequest) -> None:
        self._response = response
        self._request = request
        self._chunks: Iterator[bytes] | None = None
        self._buffer = b""
        self._ended = False
        coding = (response.header("content-encoding") or "").strip().lower()
        self._coding = coding if coding in ("gzip", "x-gzip", "deflate") else ""
        self.status = response.status
        self.reason = response.reason
        self.headers = response.headers

    def _next(self) -> bytes:
        if self._chunks is None:
            self._chunks = iter(self._response.iter_bytes())
        try:
            return next(self._chunks)
        except StopIteration:
            self._ended = True
            return b""
        except CellTLSError as exc:
            self._ended = True
            raise map_error(exc, self._request, reading=True) from exc

    def _decoded(self, decode_content: bool) -> Iterator[bytes]:
        if not (decode_content and self._coding):
            while True:
                chunk = self._next()
                if not chunk:
                    return
                yield chunk
        wbits = 16 + zlib.MAX_WBITS if self._coding != "deflate" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        first = True
        while True:
            chunk = self._next()
            if not chunk:
                tail = inflater.flush()
                if tail:
                    yield tail
                return
            try:
                data = inflater.decompress(chunk)
            except zlib.error:
                if not (first and self._coding == "deflate"):
                    raise ChunkedEncodingError(f"the {self._coding} body cannot be decoded",
                                               request=self._request) from None
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate (RFC 1951)
                data = inflater.decompress(chunk)
            first = False
            if data:
                yield data

    def stream(self, chunk_size: int | None = None, decode_content: bool = True
               ) -> Iterator[bytes]:
        """The body in pieces as they arrive (``chunk_size`` is not enforced)."""
        if self._buffer:
            data, self._buffer = self._buffer, b""
            yield data
        yield from self._decoded(decode_content)

    def read(self, amt: int | None = None, decode_content: bool = False) -> bytes:
        """Up to ``amt`` bytes of the (raw) body; all that is left when ``amt`` is None."""
        pieces = self._decoded(decode_content)
        while amt is None or len(self._buffer) < amt:
            try:
                self._buffer += next(pieces)
            except StopIteration:
                break
        if amt is None:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:amt], self._buffer[amt:]
        return data

    def close(self) -> None:
        if not self._ended:
            self._ended = True
            self._response.abort()

    def release_conn(self) -> None:
        """Nothing is pooled by requests: the module's connections are the Modem's."""


def _timeouts(timeout: Any) -> tuple[float | None, float | None]:
    if timeout is None:
        return None, None
    if isinstance(timeout, tuple):
        connect, read = timeout
        return connect, read
    connect = getattr(timeout, "connect_timeout", timeout)
    read = getattr(timeout, "read_timeout", timeout)
    return (connect if isinstance(connect, int | float) else None,
            read if isinstance(read, int | float) else None)


class ModemAdapter(HTTPAdapter):
    """A requests adapter that sends through the module; mount it for ``https://``.

    Args:
        modem: an open :class:`celltls.Modem` (attached: :meth:`celltls.Modem.attach`).
        profile: the TLS profile for every server (requests's ``verify`` and ``cert`` are
            then ignored); when not given, one is made per server with ``ca`` (or, when
            ``ca`` is left at ``"certifi"``, requests's ``verify`` when it names a file:
            requests may take one from REQUESTS_CA_BUNDLE), ``check_hostname`` and
            requests's ``cert``; ``verify=False`` turns verification off (logged).
        ca: the root CA(s): a file (one or more PEM certificates), PEM bytes, certificates,
            or ``"certifi"`` (the default); from more than one, the root that issued each
            server's chain is picked by a handshake from the host.
        check_hostname: ``TlsProfile.check_hostname``; modules whose TLS cannot check host
            names (Quectel GSM, Sierra: sierra-hl78xx.md S5) refuse ``True``
            (:class:`~celltls.errors.HostnameCheckUnsupportedError`, a ``ConnectionError``).
        via: :meth:`celltls.Modem.request`'s ``via``.
        tls: :meth:`celltls.Modem.request`'s ``tls`` (``"auto"``, ``"module"``, ``"host"``).

    Raises:
        CredentialError: ``ca`` cannot be read.
    """

    def __init__(
        self, modem: Modem, profile: TlsProfile | None = None, *,
        ca: CaBundle | Certificate | Iterable[Certificate] | str | Path | bytes = CERTIFI,
        check_hostname: bool = True, via: Literal["auto", "socket", "native"] = "auto",
        tls: TlsMode = "auto",
    ) -> None:
        super().__init__(max_retries=0)
        self.modem = modem
        self.via: Literal["auto", "socket", "native"] = via
        self.tls: TlsMode = tls
        self.check_hostname = check_hostname
        self.fixed = profile
        self.bundle = CaBundle.of(ca) if profile is None else None
        # a CA given here wins over a `verify` path, which requests may take from the
        # environment (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) for every request
        self.ca_given = not (isinstance(ca, str) and ca == CERTIFI)
        self._sources: dict[tuple[object, object], ProfileSource] = {}

    def _profile(self, host: str, port: int, verify: bool | str,
                 cert: str | tuple[str, str] | None) -> TlsProfile:
        if self.fixed is not None:
            return self.fixed
        client_cert = client_key = None
        if cert is not None:
            cert_file, key_file = (cert, cert) if isinstance(cert, str) else cert
            client_cert = Certificate.from_file(cert_file)
            client_key = PrivateKey.from_file(key_file)
        if verify is False:
            log.warning("requests verify=False: %s:%d is NOT verified", host, port)
            return TlsProfile.insecure(client_cert=client_cert, client_key=client_key)
        key = (verify, cert)
        source = self._sources.get(key)
        if source is None:
            ca = verify if isinstance(verify, str) and not self.ca_given else self.bundle
            assert ca is not None
            source = ProfileSource(ca=ca, check_hostname=self.check_hostname,
                                   client_cert=client_cert, client_key=client_key)
            self._sources[key] = source
        return source.profile(host, port)

    def send(
        self, request: requests.PreparedRequest, stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | Any | None = None,
        verify: bool | str = True, cert: bytes | str | tuple[bytes | str, bytes | str] | None
        = None, proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send ``request`` through the module.

        Raises:
            InvalidSchema: not an ``https://`` URL.
            RequestException: a subclass, see :func:`map_error`.
        """
        url = request.url or ""
        if not url.lower().startswith("https://"):
            raise InvalidSchema(f"celltls makes TLS connections only; {url!r} is not served "
                                "by the module", request=request)
        connect, read = _timeouts(timeout)
        headers = [(str(k), str(v)) for k, v in request.headers.items()]
        body: Any = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        names = {k.lower() for k, _ in headers}
        if body is not None and not isinstance(body, bytes) and "content-length" not in names \
                and "transfer-encoding" not in names:
            headers.append(("Transfer-Encoding", "chunked"))
        client = cert.decode() if isinstance(cert, bytes) else cert
        if isinstance(client, tuple):
            client = tuple(c.decode() if isinstance(c, bytes) else c for c in client)  # type: ignore[assignment]
        try:
            host, port, _ = parse_https_url(url)
            profile = self._profile(host, port, verify, client)  # type: ignore[arg-type]
            answer = self.modem.request(
                request.method or "GET", url, profile=profile, headers=headers, body=body,
                timeout=connect if connect else 90.0, via=self.via, tls=self.tls,
            )
        except CellTLSError as exc:
            raise map_error(exc, request) from exc
        if read and isinstance(answer, HTTPResponse):
            answer.set_read_timeout(read)
        response = requests.Response()
        response.status_code = answer.status
        response.reason = answer.reason
        response.headers = CaseInsensitiveDict(
            {name: answer.headers[name] for name in answer.headers})
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = _RawBody(answer, request)
        response.url = url
        response.request = request
        response.connection = self
        if not stream:
            _ = response.content  # read now, errors mapped by _RawBody
        return response

    def close(self) -> None:
        """Nothing to release: the :class:`~celltls.Modem` is the caller's, closed by them."""


def session(modem: Modem, profile: TlsProfile | None = None, **options: Any
            ) -> requests.Session:
    """A ``requests.Session`` whose ``https://`` and ``http://`` requests go to a
    :class:`ModemAdapter` (which refuses ``http://``: no request leaves by another route).

    Args:
        modem, profile, options: see :class:`ModemAdapter`.

    Raises:
        CredentialError: the CA cannot be read.
    """
    adapter = ModemAdapter(modem, profile, **options)
    s = requests.Session()
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    return s
