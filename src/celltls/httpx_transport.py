"""An httpx transport that makes every request through a cellular module (``celltls[httpx]``).

::

    import httpx
    from celltls import Modem
    from celltls.httpx_transport import ModemTransport

    with Modem("/dev/ttyUSB0") as modem:
        modem.attach(apn="internet")
        with httpx.Client(transport=ModemTransport(modem, ca="ca.pem")) as client:
            print(client.get("https://example.com/").text)

Bodies stream both ways: a request body (``content=`` an iterator, a file) is sent chunk by
chunk, and a response body is read from the module as ``Response.iter_bytes()`` asks
(``client.stream(...)``). httpx's timeouts apply: ``connect`` to the module's connection
(:meth:`celltls.Modem.request`'s ``timeout``, clamped into the module's range), ``read`` to
each read of the response body. celltls errors become httpx exceptions, the celltls error kept
as ``__cause__``: see :func:`map_error`. Only ``https://`` URLs are served
(``httpx.UnsupportedProtocol`` otherwise). Synchronous only (the asyncio API is not there yet).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import httpx

from celltls.errors import (
    ATTimeoutError,
    BodyIntegrityError,
    CellTLSError,
    ConnectTimeoutError,
    CredentialError,
    HTTPError,
    ModuleRebootedError,
    NetworkError,
    NetworkLostError,
    PortError,
    PortLostError,
    ProfileError,
    SocketError,
    TLSError,
    TransferTimeoutError,
    UnsafeArgumentError,
)
from celltls.http import BaseResponse, HTTPResponse
from celltls.integrations.cabundle import CERTIFI, CaBundle, ProfileSource
from celltls.modem import Modem, TlsMode, parse_https_url
from celltls.tls import Certificate, PrivateKey, TlsProfile

__all__ = ["ModemTransport", "map_error"]

log = logging.getLogger(__name__)


def map_error(exc: CellTLSError, request: httpx.Request, *, reading: bool = False
              ) -> httpx.TransportError:
    """The httpx exception for a celltls error (raise it ``from exc``).

    ========================================================  ==========================
    celltls                                                   httpx
    ========================================================  ==========================
    ConnectTimeoutError                                       ConnectTimeout
    TransferTimeoutError, ATTimeoutError                      ReadTimeout
    UnsafeArgumentError, InvalidURLError                      LocalProtocolError
    BodyIntegrityError, NetworkLostError, PortLostError,      ReadError (body), else
    ModuleRebootedError, SocketError                          ConnectError
    HTTPError, PartialBodyError                               RemoteProtocolError
    TLSError (CertificateVerifyError...), NetworkError,       ConnectError
    PortError, ProfileError, CredentialError
    anything else                                             TransportError
    ========================================================  ==========================

    Args:
        exc: the celltls error.
        request: the httpx request it failed.
        reading: whether the response body was being read.
    """
    kind: type[httpx.TransportError]
    if isinstance(exc, ConnectTimeoutError):
        kind = httpx.ConnectTimeout
    elif isinstance(exc, TransferTimeoutError | ATTimeoutError):
        kind = httpx.ReadTimeout
    elif isinstance(exc, UnsafeArgumentError):
        kind = httpx.LocalProtocolError
    elif isinstance(exc, BodyIntegrityError | NetworkLostError | PortLostError
                    | ModuleRebootedError | SocketError):
        kind = httpx.ReadError if reading else httpx.ConnectError
    elif isinstance(exc, HTTPError):
        kind = httpx.RemoteProtocolError
    elif isinstance(exc, TLSError | NetworkError | PortError | ProfileError | CredentialError):
        kind = httpx.ConnectError
    else:
        kind = httpx.TransportError
    return kind(str(exc), request=request)


class _BodyStream(httpx.SyncByteStream):
    """The response body, read from the module as httpx iterates."""

    def __init__(self, response: BaseResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request
        self._ended = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._response.iter_bytes()
        except CellTLSError as exc:
            self._ended = True
            raise map_error(exc, self._request, reading=True) from exc
        self._ended = True

    def close(self) -> None:
        if not self._ended:
            self._ended = True
            self._response.abort()  # the rest is not read: the connection is not reused


class ModemTransport(httpx.BaseTransport):
    """``httpx.Client(transport=ModemTransport(modem))``: HTTPS through the module.

    Args:
        modem: an open :class:`celltls.Modem` (attached: :meth:`celltls.Modem.attach`).
        profile: the TLS profile for every server; when not given, one is made per server
            with ``ca``, ``check_hostname`` and the client credentials.
        ca: the root CA(s): a file (one or more PEM certificates), PEM bytes, certificates,
            or ``"certifi"`` (the default); from more than one, the root that issued each
            server's chain is picked by a handshake from the host
            (:meth:`celltls.integrations.cabundle.CaBundle.root_for`).
        check_hostname: ``TlsProfile.check_hostname``; modules whose TLS cannot check host
            names (Quectel GSM, Sierra: sierra-hl78xx.md S5) refuse ``True`` with
            :class:`~celltls.errors.HostnameCheckUnsupportedError` (``httpx.ConnectError``).
        client_cert, client_key: for mutual TLS.
        via: :meth:`celltls.Modem.request`'s ``via`` (``"auto"``, ``"socket"``,
            ``"native"``).
        tls: :meth:`celltls.Modem.request`'s ``tls`` (``"auto"``, ``"module"``, ``"host"``).

    Raises:
        CredentialError: ``ca`` cannot be read.
    """

    def __init__(
        self, modem: Modem, profile: TlsProfile | None = None, *,
        ca: CaBundle | Certificate | Iterable[Certificate] | str | Path | bytes = CERTIFI,
        check_hostname: bool = True, client_cert: Certificate | None = None,
        client_key: PrivateKey | None = None,
        via: Literal["auto", "socket", "native"] = "auto", tls: TlsMode = "auto",
    ) -> None:
        self.modem = modem
        self.via: Literal["auto", "socket", "native"] = via
        self.tls: TlsMode = tls
        self.profiles = ProfileSource(profile, ca=ca, check_hostname=check_hostname,
                                      client_cert=client_cert, client_key=client_key)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the module and return the response, its body unread.

        Raises:
            httpx.UnsupportedProtocol: not an ``https://`` URL.
            httpx.TransportError: a subclass, see :func:`map_error`.
        """
        if request.url.scheme != "https":
            raise httpx.UnsupportedProtocol(
                f"celltls makes TLS connections only; {request.url.scheme}:// is not served "
                "by the module", request=request)
        url = str(request.url)
        timeouts = request.extensions.get("timeout") or {}
        connect = timeouts.get("connect")
        read = timeouts.get("read")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        names = {k.lower() for k, _ in headers}
        body: Iterable[bytes] | None = None
        if "transfer-encoding" in names or (
            "content-length" in names and request.headers.get("content-length") != "0"
        ):
            body = request.stream  # type: ignore[assignment]
        try:
            host, port, _ = parse_https_url(url)
            profile = self.profiles.profile(host, port)
            response = self.modem.request(
                request.method, url, profile=profile, headers=headers, body=body,
                timeout=connect if connect else 90.0, via=self.via, tls=self.tls,
            )
        except CellTLSError as exc:
            raise map_error(exc, request) from exc
        if read and isinstance(response, HTTPResponse):
            response.set_read_timeout(read)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers.multi_items(),
            stream=_BodyStream(response, request),
            extensions={
                "http_version": f"HTTP/{response.http_version}".encode("ascii", "replace"),
                "reason_phrase": response.reason.encode("latin-1", "replace"),
            },
        )

    def close(self) -> None:
        """Nothing to release: the :class:`~celltls.Modem` is the caller's, closed by them."""
