"""HTTP/1.1 over a socket-like object (a module's secure socket), framed by h11.

The socket only needs ``sendall(data: bytes) -> None``, ``recv(max_bytes: int) -> bytes``
(``b""`` at end of stream) and ``close() -> None``. Bodies are streamed both ways: a request
body may be an iterable of byte chunks or a binary file; a response body is read chunk by chunk
with :meth:`HTTPResponse.iter_bytes`, never held whole unless :meth:`HTTPResponse.read` is asked.

Framing (RFC 9112): Content-Length and chunked responses, HEAD and 204/304 without a body,
keep-alive reuse of the connection when both sides allow it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, Protocol

import h11

from celltls.errors import HTTPError, SocketError

USER_AGENT = "celltls/0.1"
Body = bytes | Iterable[bytes] | BinaryIO | None
Progress = Callable[[int, int | None], None]


class SocketLike(Protocol):
    """What HTTP needs of a connection."""

    def sendall(self, data: bytes) -> None: ...

    def recv(self, max_bytes: int) -> bytes: ...

    def close(self) -> None: ...


class BaseResponse:
    """What every HTTP response offers, whether framed by h11 over a secure socket or parsed
    from a module's own HTTP client (a dialect's native HTTP).

    Attributes:
        status: the status code (int).
        reason: the reason phrase.
        headers: ``(name, value)`` pairs, names lower-case, in order.
        http_version: ``"1.1"`` or ``"1.0"``.
        method: the request method.

    Subclasses implement :meth:`iter_bytes`.
    """

    status: int
    reason: str
    headers: list[tuple[str, str]]
    http_version: str
    method: str

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive)."""
        key = name.lower()
        for k, v in self.headers:
            if k == key:
                return v
        return default

    @property
    def content_length(self) -> int | None:
        """The declared Content-Length, or ``None`` (chunked, or until close)."""
        value = self.header("content-length")
        return int(value) if value is not None and value.strip().isdigit() else None

    def iter_bytes(self, progress: Progress | None = None) -> Iterator[bytes]:
        """Yield the body as it arrives.

        Args:
            progress: called as ``progress(bytes_so_far, total_or_None)`` after each chunk.

        Raises:
            HTTPError: the body is malformed or ends early.
            SocketError: the connection failed.
        """
        raise NotImplementedError

    def read(self) -> bytes:
        """The whole body (for small bodies; stream large ones with :meth:`iter_bytes`)."""
        return b"".join(self.iter_bytes())

    def text(self, encoding: str = "utf-8") -> str:
        """The whole body decoded."""
        return self.read().decode(encoding, errors="replace")

    def close(self) -> None:
        """Discard the rest of the body."""
        for _ in self.iter_bytes():
            pass


class HTTPResponse(BaseResponse):
    """A response whose body is streamed from an h11 connection."""

    def __init__(self, conn: HTTPConnection, response: h11.Response, method: str) -> None:
        self._conn = conn
        self.status = response.status_code
        self.reason = response.reason.decode("latin-1")
        self.headers = [
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers
        ]
        self.http_version = response.http_version.decode()
        self.method = method
        self._done = False
        self._received = 0

    def iter_bytes(self, progress: Progress | None = None) -> Iterator[bytes]:
        """See :meth:`BaseResponse.iter_bytes`; chunks are at most the socket's read size."""
        total = self.content_length
        while not self._done:
            event = self._conn._next_event()
            if isinstance(event, h11.Data):
                self._received += len(event.data)
                if progress is not None:
                    progress(self._received, total)
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._done = True
                self._conn._response_done()
            else:
                raise HTTPError(f"unexpected HTTP event {event!r} in a response body")

    def close(self) -> None:
        """Discard the rest of the body (keeping the connection reusable when possible)."""
        if not self._done:
            for _ in self.iter_bytes():
                pass


class HTTPConnection:
    """One HTTP/1.1 client connection over a socket-like object.

    Args:
        sock: the connection (see :class:`SocketLike`).
        host: the Host header value (``"example.com"`` or ``"example.com:8443"``).
        read_size: bytes asked of ``sock.recv`` at a time.
    """

    def __init__(self, sock: SocketLike, host: str, *, read_size: int = 16384) -> None:
        self.sock = sock
        self.host = host
        self.read_size = read_size
        self._h11 = h11.Connection(h11.CLIENT)
        self._closed = False
        self._current: HTTPResponse | None = None

    @property
    def reusable(self) -> bool:
        """Whether another request may be sent on this connection."""
        if self._closed:
            return False
        if self._current is not None and not self._current._done:
            return False
        return self._h11.our_state is h11.IDLE and self._h11.their_state is h11.IDLE

    def request(
        self,
        method: str,
        target: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        body: Body = None,
        content_length: int | None = None,
        upload_progress: Progress | None = None,
    ) -> HTTPResponse:
        """Send a request and read the response head; the body is read from the result.

        Args:
            method: ``GET``, ``HEAD``, ``POST``, ``PUT``, ``DELETE``...
            target: the request target (``/path?query``).
            headers: extra headers; Host, User-Agent and framing headers are added.
            body: bytes, an iterable of bytes, a binary file, or ``None``.
            content_length: the body's length when it is not ``bytes`` (else it is sent
                chunked).
            upload_progress: called as ``progress(sent, total)``.

        Returns:
            HTTPResponse: status and headers; stream the body from it.

        Raises:
            HTTPError: the server's response is malformed or the connection is not reusable.
            SocketError: the connection failed.
        """
        if not self.reusable:
            raise HTTPError("this connection cannot take another request")
        names = {k.lower() for k, _ in headers}
        head: list[tuple[str, str]] = []
        if "host" not in names:
            head.append(("Host", self.host))
        if "user-agent" not in names:
            head.append(("User-Agent", USER_AGENT))
        chunks: Iterable[bytes] | None
        total: int | None
        if body is None:
            chunks, total = None, 0 if method.upper() in ("POST", "PUT", "PATCH") else None
        elif isinstance(body, bytes | bytearray):
            chunks, total = [bytes(body)], len(body)
        elif hasattr(body, "read"):
            file = body
            chunks, total = _file_chunks(file), content_length  # type: ignore[arg-type]
        else:
            chunks, total = body, content_length
        if "content-length" not in names and "transfer-encoding" not in names:
            if total is not None:
                head.append(("Content-Length", str(total)))
            elif chunks is not None:
                head.append(("Transfer-Encoding", "chunked"))
        head.extend(headers)
        self._send(h11.Request(method=method.upper(), target=target, headers=head))
        sent = 0
        if chunks is not None:
            for chunk in chunks:
                if chunk:
                    self._send(h11.Data(data=chunk))
                    sent += len(chunk)
                    if upload_progress is not None:
                        upload_progress(sent, total)
        self._send(h11.EndOfMessage())
        while True:
            event = self._next_event()
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                self._current = HTTPResponse(self, event, method.upper())
                return self._current
            raise HTTPError(f"unexpected HTTP event {event!r} before the response head")

    def close(self) -> None:
        """Close the underlying socket."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self.sock.close()

    def _send(self, event: h11.Event) -> None:
        try:
            data = self._h11.send(event)
        except h11.LocalProtocolError as exc:
            raise HTTPError(f"cannot send request: {exc}") from exc
        if data:
            self.sock.sendall(data)

    def _next_event(self) -> h11.Event:
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                self.close()
                raise HTTPError(f"malformed HTTP from the server: {exc}") from exc
            if event is h11.NEED_DATA:
                try:
                    data = self.sock.recv(self.read_size)
                except SocketError:
                    self.close()
                    raise
                self._h11.receive_data(data)
                continue
            if event is h11.PAUSED:
                raise HTTPError("HTTP connection paused unexpectedly")
            if isinstance(event, h11.ConnectionClosed):
                self.close()
                raise HTTPError("the server closed the connection before the response ended")
            return event  # type: ignore[return-value]

    def _response_done(self) -> None:
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            try:
                self._h11.start_next_cycle()
            except h11.LocalProtocolError:
                self.close()
        else:
            self.close()
        if self._h11.our_state is h11.MUST_CLOSE or self._h11.their_state is h11.MUST_CLOSE:
            self.close()


def _file_chunks(file: BinaryIO, size: int = 65536) -> Iterator[bytes]:
    while True:
        chunk = file.read(size)
        if not chunk:
            return
        yield chunk
