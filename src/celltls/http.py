"""HTTP/1.1 over a socket-like object (a module's secure socket), framed by h11.

The socket only needs ``sendall(data: bytes) -> None``, ``recv(max_bytes: int) -> bytes``
(``b""`` at end of stream) and ``close() -> None``. Bodies are streamed both ways: a request
body may be an iterable of byte chunks or a binary file; a response body is read chunk by chunk
with :meth:`HTTPResponse.iter_bytes`, never held whole unless :meth:`HTTPResponse.read` is asked.

Framing (RFC 9112 6.3): Content-Length and chunked responses, HEAD and 1xx/204/304 without a
body, bodies delimited by the connection's close, keep-alive reuse of the connection when both
sides allow it.

Integrity: a body framed by Content-Length or chunked transfer coding is complete only when the
framing says so. A connection that ends before raises :class:`~celltls.errors.PartialBodyError`
(with the bytes received and expected); a malformed response (a garbled chunk header, a bad
status line) raises :class:`~celltls.errors.HTTPError`. No h11 exception leaves this module.

Validation: :func:`prepare_request` checks a whole request (method, target, header names and
values, body type and length) against HTTP's rules (RFC 9110 5.1, 5.5, 5.6.2, 9.1; RFC 9112
3.2) before anything is sent, raising :class:`~celltls.errors.UnsafeArgumentError`.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import contextlib
import hashlib
import io
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, BinaryIO, Literal, Protocol

import h11

from celltls.errors import (
    BodyIntegrityError,
    CellTLSError,
    EmptyReplyError,
    HTTPError,
    HTTPStatusError,
    PartialBodyError,
    SocketError,
    UnsafeArgumentError,
)

USER_AGENT = "celltls/0.1"
#: RFC 9110 9.2.2: the methods whose intended effect is the same when a request is repeated
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


Body = bytes | bytearray | memoryview | Iterable[bytes] | BinaryIO | None
Progress = Callable[[int, int | None], None]
#: called with the name of each phase of a request as it begins: ``"send"`` (the request is
#: being written), ``"wait"`` (for the response head).
PhaseCallback = Callable[[str], None]

#: the longest header field line (``Name: value``) celltls sends, bytes. Servers refuse longer
#: ones (nginx: one ``large_client_header_buffers`` buffer, 8 KiB by default; Apache
#: ``LimitRequestFieldSize`` 8190), and module command buffers are smaller still.
MAX_HEADER_LINE = 4096
#: the longest request target (path and query) celltls sends, bytes (RFC 9112 3: servers
#: answer 414 to targets longer than they accept; 4 KiB stays below common limits).
MAX_TARGET = 4096
#: the longest method name, bytes.
MAX_METHOD = 32
#: Seconds a body cut short waits for its socket to say why (a PDP loss URC printed just after
#: the close), before it is reported as :class:`~celltls.errors.PartialBodyError`.
END_CAUSE_WAIT = 0.25

_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")  # RFC 9110 5.6.2 tchar
_CONTROL_NAMES = {
    "\r": "CR",
    "\n": "LF",
    "\x00": "NUL",
    "\x1a": "Ctrl-Z",
    "\x1b": "ESC",
}
_TYPOGRAPHIC = {
    "\u201c": "a left double quotation mark \u201c",
    "\u201d": "a right double quotation mark \u201d",
    "\u2018": "a left single quotation mark \u2018",
    "\u2019": "a right single quotation mark \u2019",
    "\u2013": "an en dash \u2013",
    "\u2014": "an em dash \u2014",
    "\u00a0": "a no-break space",
}


def shown(value: str, limit: int = 80) -> str:
    """``value`` as an error message shows it: cut to ``limit`` characters, marked ``...``."""
    return value if len(value) <= limit else value[:limit] + "..."


class SocketLike(Protocol):
    """What HTTP needs of a connection."""

    def sendall(self, data: bytes) -> None: ...

    def recv(self, max_bytes: int) -> bytes: ...

    def close(self) -> None: ...


# -- validation ------------------------------------------------------------------------------


def _bad_char(text: str, *, allow_tab: bool) -> str | None:
    """A description of the first character HTTP cannot carry in ``text``, or ``None``."""
    for index, char in enumerate(text):
        code = ord(char)
        if char in _TYPOGRAPHIC:
            return (f"contains {_TYPOGRAPHIC[char]} at position {index} (pasted from a "
                    "document?); type the plain ASCII character")
        if char in _CONTROL_NAMES:
            return f"contains {_CONTROL_NAMES[char]} at position {index}"
        if char == "\t" and allow_tab:
            continue
        if code < 0x20 or code == 0x7F:
            return f"contains control character 0x{code:02X} at position {index}"
        if code > 0x7E:
            return (f"contains non-ASCII character {char!r} at position {index}; "
                    "percent-encode it or use its ASCII form")
    return None


def check_method(method: object) -> str:
    """Check an HTTP method name (RFC 9110 9.1: a token) and return it upper-cased.

    Raises:
        UnsafeArgumentError: not text, empty, longer than :data:`MAX_METHOD`, or holding a
            character outside RFC 9110 5.6.2 ``tchar``.
    """
    if not isinstance(method, str):
        raise UnsafeArgumentError("method", repr(method), "must be text such as 'GET'")
    if not method:
        raise UnsafeArgumentError("method", method, "must not be empty")
    problem = _bad_char(method, allow_tab=False)
    if problem is None and len(method) > MAX_METHOD:
        problem = f"is {len(method)} characters long; at most {MAX_METHOD} are sent"
    if problem is None and not _TOKEN.fullmatch(method):
        problem = "is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~ only)"
    if problem:
        raise UnsafeArgumentError("method", shown(method), problem)
    return method.upper()


def check_target(target: str, field: str = "url") -> str:
    """Check a request target (``/path?query``): visible ASCII only (RFC 9112 3.2).

    Raises:
        UnsafeArgumentError: a space, control or non-ASCII character, or longer than
            :data:`MAX_TARGET` bytes.
    """
    problem = _bad_char(target, allow_tab=False)
    if problem is None and " " in target:
        problem = f"contains a space at position {target.index(' ')}; write it as %20"
    if problem is None and len(target) > MAX_TARGET:
        problem = f"has a path and query of {len(target)} bytes; at most {MAX_TARGET} are sent"
    if problem:
        raise UnsafeArgumentError(field, shown(target), problem)
    return target


def check_header(name: object, value: object) -> tuple[str, str]:
    """Check one request header field and return it with the value's surrounding blanks
    removed (they are not part of a field value, RFC 9110 5.5).

    Args:
        name: the field name, a token (RFC 9110 5.1, 5.6.2).
        value: the field value: visible ASCII, spaces and tabs (RFC 9110 5.5; CR, LF and NUL
            are forbidden there, other controls are not field characters; celltls sends
            ASCII only).

    Returns:
        tuple: ``(name, value)``.

    Raises:
        UnsafeArgumentError: a name or value that is not text, a name that is not a token, a
            value with CR, LF, NUL, Ctrl-Z, ESC, another control character, non-ASCII text
            (typographic quotes...), or a field longer than :data:`MAX_HEADER_LINE` bytes.
    """
    if not isinstance(name, str):
        raise UnsafeArgumentError("header name", repr(name), "must be text")
    if not isinstance(value, str):
        raise UnsafeArgumentError(f"header {name}", repr(value), "must be text")
    problem = _bad_char(name, allow_tab=False)
    if problem is None and not name:
        problem = "is empty"
    if problem is None and not _TOKEN.fullmatch(name):
        bad = next(c for c in name if not _TOKEN.fullmatch(c))
        problem = (f"contains {bad!r} at position {name.index(bad)}; a header name is letters, "
                   "digits and !#$%&'*+-.^_`|~ only")
    if problem:
        raise UnsafeArgumentError("header name", shown(name), problem)
    value = value.strip(" \t")
    problem = _bad_char(value, allow_tab=True)
    if problem is None and len(name) + 2 + len(value) > MAX_HEADER_LINE:
        problem = (f"makes a header line of {len(name) + 2 + len(value)} bytes; at most "
                   f"{MAX_HEADER_LINE} are sent")
    if problem:
        raise UnsafeArgumentError(f"header {shown(name)}", shown(value), problem)
    return name, value


@dataclass
class PreparedRequest:
    """A request checked whole and ready to send (see :func:`prepare_request`).

    Attributes:
        method: the method, upper-case.
        target: the request target.
        headers: every header field to send, Host, User-Agent and framing included.
        chunks: the body as byte chunks (checked as they come), or ``None``.
        total: the body's length in bytes when known, else ``None`` (sent chunked).
    """

    method: str
    target: str
    headers: list[tuple[str, str]]
    chunks: Iterable[bytes] | None
    total: int | None

    @property
    def retryable(self) -> bool:
        """Whether the request may be sent again on a new connection after its connection
        failed before any response: its method is idempotent (RFC 9110 9.2.2: GET, HEAD,
        OPTIONS, TRACE, PUT, DELETE; RFC 9112 9.3.1 lets a client retry those) and its body,
        if any, is bytes held in memory (an iterator or a file has been consumed)."""
        return self.method in IDEMPOTENT_METHODS and (
            self.chunks is None or isinstance(self.chunks, list))

    @property
    def closes(self) -> bool:
        """Whether the request asks the server to close the connection after its response
        (a ``close`` option in a ``Connection`` field, RFC 9110 7.6.1 and RFC 9112 9.6;
        options are case-insensitive tokens)."""
        return any(
            name.lower() == "connection"
            and "close" in (token.strip().lower() for token in value.split(","))
            for name, value in self.headers
        )


def body_bytes(body: Body) -> bytes | None:
    """A whole request body in memory, for a module's own HTTP client that takes the body in
    one data phase with its length first: ``None`` for no body; bytes-like as bytes; a file
    read to its end; an iterable of chunks joined."""
    if body is None:
        return None
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if hasattr(body, "read"):
        return bytes(body.read())
    return b"".join(bytes(chunk) for chunk in body)


def _body_chunks(body: Body, content_length: int | None) -> tuple[Iterable[bytes] | None,
                                                                   int | None]:
    if content_length is not None and (
        isinstance(content_length, bool) or not isinstance(content_length, int)
        or content_length < 0
    ):
        raise UnsafeArgumentError("content_length", repr(content_length),
                                  "must be a number of bytes (an int >= 0) or None")
    if body is None:
        return None, None
    if isinstance(body, bytes | bytearray | memoryview):
        data = bytes(body)
        if content_length is not None and content_length != len(data):
            raise UnsafeArgumentError("content_length", str(content_length),
                                      f"differs from the body's {len(data)} bytes")
        return [data], len(data)
    if isinstance(body, str):
        raise UnsafeArgumentError("body", f"<text of {len(body)} characters>",
                                  "is text; send bytes (body=text.encode('utf-8')) and name "
                                  "the charset in Content-Type")
    if isinstance(body, io.TextIOBase):
        raise UnsafeArgumentError("body", repr(body), "is a file opened in text mode; open it "
                                  "in binary mode ('rb')")
    if hasattr(body, "read"):
        return _checked(_file_chunks(body)), content_length  # type: ignore[arg-type]
    if isinstance(body, Iterable):
        return _checked(iter(body)), content_length
    raise UnsafeArgumentError("body", type(body).__name__, "must be bytes, an iterable of "
                              "bytes or a binary file")


def _checked(chunks: Iterator[object]) -> Iterator[bytes]:
    for chunk in chunks:
        if not isinstance(chunk, bytes | bytearray | memoryview):
            raise UnsafeArgumentError("body", type(chunk).__name__,
                                      "yielded something other than bytes")
        yield bytes(chunk)


def prepare_request(
    method: str,
    target: str,
    host: str,
    headers: Iterable[tuple[str, str]] = (),
    body: Body = None,
    content_length: int | None = None,
) -> PreparedRequest:
    """Check a whole request and build its head; nothing is sent.

    Args:
        method: ``GET``, ``HEAD``, ``POST``, ``PUT``, ``DELETE``...
        target: the request target (``/path?query``).
        host: the Host header value (``"example.com"`` or ``"example.com:8443"``).
        headers: extra header fields; a ``Host`` or ``User-Agent`` given here replaces
            celltls's, ``Content-Length``/``Transfer-Encoding`` given here replace the framing
            celltls would choose.
        body: bytes, an iterable of bytes, a binary file, or ``None``.
        content_length: the length of a body that is not ``bytes``, in bytes (else it is
            sent chunked).

    Returns:
        PreparedRequest: ready for :meth:`HTTPConnection.send_request`.

    Raises:
        UnsafeArgumentError: a method, target, header or body HTTP cannot carry (see
            :func:`check_method`, :func:`check_target`, :func:`check_header`), a body of the
            wrong type, or a declared length that contradicts the body.
    """
    method = check_method(method)
    check_target(target)
    try:
        header_list = [check_header(k, v) for k, v in headers]
    except (TypeError, ValueError) as exc:
        if isinstance(exc, UnsafeArgumentError):
            raise
        raise UnsafeArgumentError("headers", repr(headers), "must be (name, value) pairs of "
                                  "text") from None
    chunks, total = _body_chunks(body, content_length)
    names = {k.lower() for k, _ in header_list}
    head: list[tuple[str, str]] = []
    if "host" not in names:
        head.append(("Host", check_header("Host", host)[1]))
    if "user-agent" not in names:
        head.append(("User-Agent", USER_AGENT))
    if chunks is None and method in ("POST", "PUT", "PATCH"):
        total = 0
    if "content-length" in names:
        declared = next(v for k, v in header_list if k.lower() == "content-length")
        if not declared.isdigit():
            raise UnsafeArgumentError("header Content-Length", declared, "is not a number")
        if total is not None and int(declared) != total:
            raise UnsafeArgumentError("header Content-Length", declared,
                                      f"differs from the body's {total} bytes")
        total = int(declared)
    elif "transfer-encoding" not in names:
        if total is not None:
            head.append(("Content-Length", str(total)))
        elif chunks is not None:
            head.append(("Transfer-Encoding", "chunked"))
    head.extend(header_list)
    # h11's own rules, on a scratch connection: what it would refuse later is refused now.
    try:
        h11.Connection(h11.CLIENT).send(h11.Request(method=method, target=target, headers=head))
    except (h11.ProtocolError, ValueError, TypeError) as exc:
        raise UnsafeArgumentError("request", f"{method} {target}",
                                  f"HTTP/1.1 cannot carry it: {exc}") from None
    return PreparedRequest(method, target, head, chunks, total)


# -- responses -------------------------------------------------------------------------------


class Headers(Mapping[str, str]):
    """Response header fields: a case-insensitive multi-dict, like ``httpx.Headers``.

    ``headers["content-type"]`` and ``headers["Content-Type"]`` are the same field; a field
    sent more than once reads as its values joined with ``", "`` (RFC 9110 5.3), and
    :meth:`get_list` gives them one by one. Iterating gives the (lower-case) names, once each.
    :meth:`multi_items` gives every ``(name, value)`` pair in the order received, which is
    also what iterating over :attr:`raw` gives.

    Args:
        items: ``(name, value)`` pairs (a mapping is taken as its items); names are kept
            lower-case.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._items: list[tuple[str, str]] = [(str(k).lower(), str(v)) for k, v in pairs]

    def __getitem__(self, name: str) -> str:
        values = self.get_list(name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for k, _ in self._items))

    def __len__(self) -> int:
        return len({k for k, _ in self._items})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(k == name.lower() for k, _ in self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return sorted(self._items) == sorted(other._items)
        if isinstance(other, Mapping):
            return dict(self.items()) == {str(k).lower(): v for k, v in other.items()}
        if isinstance(other, list):
            return self._items == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def get_list(self, name: str) -> list[str]:
        """Every value of field ``name`` (case-insensitive), in order; ``[]`` when absent."""
        key = name.lower()
        return [v for k, v in self._items if k == key]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` pair, names lower-case, in the order received."""
        return list(self._items)

    @property
    def raw(self) -> list[tuple[str, str]]:
        """The same as :meth:`multi_items` (a copy)."""
        return list(self._items)


class BaseResponse:
    """What every HTTP response offers, whether framed by h11 over a secure socket or parsed
    from a module's own HTTP client (a dialect's native HTTP).

    The interface follows ``httpx.Response`` where the two meet: :attr:`headers` (a
    case-insensitive multi-dict), :attr:`status_code`, :meth:`json`, :meth:`raise_for_status`,
    :meth:`iter_bytes`, :attr:`elapsed`.

    Attributes:
        status: the status code (int); also :attr:`status_code`.
        reason: the reason phrase.
        headers: :class:`Headers`, a case-insensitive multi-dict (assigning a list of
            ``(name, value)`` pairs is accepted and converted).
        http_version: ``"1.1"`` or ``"1.0"``.
        method: the request method.
        started: :func:`time.monotonic` when the request began to be sent (for a module's
            own HTTP client: when celltls began to read its answer), or ``None`` when not
            known (set by :class:`HTTPConnection`).
        finished: :func:`time.monotonic` when the body ended, or ``None``.

    Subclasses implement :meth:`iter_bytes` (and call :meth:`_mark_finished` at the end of
    the body).
    """

    status: int
    reason: str
    http_version: str
    method: str
    started: float | None = None
    finished: float | None = None
    _headers: Headers = Headers()

    @property
    def headers(self) -> Headers:
        """The header fields, a case-insensitive multi-dict (:class:`Headers`)."""
        return self._headers

    @headers.setter
    def headers(self, value: Headers | Iterable[tuple[str, str]] | Mapping[str, str]) -> None:
        self._headers = value if isinstance(value, Headers) else Headers(value)

    @property
    def status_code(self) -> int:
        """The status code (the same as :attr:`status`, httpx's name)."""
        return self.status

    @property
    def is_success(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        """Whether the status is a redirection that names a target (301, 302, 303, 307, 308
        with a ``Location`` header; RFC 9110 15.4)."""
        return self.status in (301, 302, 303, 307, 308) and "location" in self.headers

    @property
    def elapsed(self) -> timedelta:
        """Time from sending the request to the end of the body (so far, while the body is
        still being read), like ``httpx.Response.elapsed``; ``timedelta(0)`` when the start
        is not known. Measured on the host's monotonic clock."""
        if self.started is None:
            return timedelta(0)
        end = self.finished if self.finished is not None else time.monotonic()
        return timedelta(seconds=max(0.0, end - self.started))

    def _mark_finished(self) -> None:
        if self.finished is None:
            self.finished = time.monotonic()

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``default``."""
        values = self.headers.get_list(name)
        return values[0] if values else default

    @property
    def content_length(self) -> int | None:
        """The declared Content-Length, or ``None`` (chunked, or until close)."""
        value = self.header("content-length")
        return int(value) if value is not None and value.strip().isdigit() else None

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of Content-Type (RFC 9110 8.3.2), when it names a codec
        Python knows; else ``None``."""
        content_type = self.header("content-type") or ""
        for param in content_type.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                name = value.strip().strip('"')
                try:
                    return codecs.lookup(name).name
                except LookupError:
                    return None
        return None

    def raise_for_status(self) -> BaseResponse:
        """Raise when the status is 400 or more; return the response otherwise (so that
        calls chain, as with httpx).

        Raises:
            HTTPStatusError: status >= 400 (curl ``--fail``, exit code 22).
        """
        if self.status >= 400:
            raise HTTPStatusError(f"the server answered HTTP {self.status} {self.reason}",
                                  status=self.status)
        return self

    def iter_bytes(self, progress: Progress | None = None) -> Iterator[bytes]:
        """Yield the body as it arrives.

        Args:
            progress: called as ``progress(bytes_so_far, total_or_None)`` after each chunk.

        Raises:
            PartialBodyError: the connection ended before the framing said the body ends.
            BodyIntegrityError: the body does not match the server's ``Content-Digest``,
                ``Repr-Digest`` or ``Content-MD5`` (checked at the end, when it sent one).
            HTTPError: the body is malformed.
            SocketError: the connection failed.
        """
        raise NotImplementedError

    def read(self) -> bytes:
        """The whole body (for small bodies; stream large ones with :meth:`iter_bytes`)."""
        return b"".join(self.iter_bytes())

    def text(self, encoding: str | None = None) -> str:
        """The whole body decoded with ``encoding``, by default the Content-Type's charset,
        else UTF-8; undecodable bytes become U+FFFD."""
        return self.read().decode(encoding or self.charset or "utf-8", errors="replace")

    def json(self, **kwargs: Any) -> Any:
        """The whole body parsed as JSON (RFC 8259: UTF-8 unless Content-Type names another
        charset).

        Args:
            kwargs: passed to :func:`json.loads`.

        Raises:
            HTTPError: the body is not JSON (the parser's message and position said).
            PartialBodyError, BodyIntegrityError, SocketError: see :meth:`iter_bytes`.
        """
        data = self.read()
        try:
            return json.loads(data.decode(self.charset or "utf-8"), **kwargs)
        except UnicodeDecodeError as exc:
            raise HTTPError(f"the {len(data)}-byte body is not JSON: not "
                            f"{self.charset or 'utf-8'} text ({exc.reason} at byte "
                            f"{exc.start})") from None
        except ValueError as exc:
            raise HTTPError(f"the {len(data)}-byte body is not JSON: {exc}") from None

    def close(self) -> None:
        """Discard the rest of the body."""
        for _ in self.iter_bytes():
            pass

    def abort(self) -> None:
        """Stop reading this body: the connection it arrives on is closed without reading the
        rest (:meth:`close` reads it to keep the connection). The default reads the rest."""
        self.close()


Framing = Literal["none", "length", "chunked", "close"]

#: Digest algorithms celltls checks (RFC 9530 §5 "active" algorithms; MD5 for the legacy
#: Content-MD5 header of RFC 1864). Others a server names are ignored.
_DIGESTS: dict[str, Callable[[], hashlib._Hash]] = {
    "sha-256": hashlib.sha256,
    "sha-512": hashlib.sha512,
}
_DICT_MEMBER = re.compile(r"\s*([a-z][a-z0-9_.*-]*)\s*=\s*:([A-Za-z0-9+/=]*):\s*(?:;[^,]*)?")


class BodyDigest:
    """Checks a response body against the digests its server sent with it.

    With the module's own TLS, the bytes on the serial line are plaintext: a byte changed there
    (noise, a lost bit) passes every framing check. A server that sends a digest of the body
    lets celltls catch it:

    - ``Content-Digest`` (RFC 9530 §2): the digest of the content as sent;
    - ``Repr-Digest`` (RFC 9530 §3): the digest of the representation, the same bytes when the
      response has no ``Content-Encoding`` and is not a range (206);
    - ``Content-MD5`` (RFC 1864, obsolete but still sent).

    Each is a structured-field dictionary (RFC 8941) such as ``sha-256=:<base64>:``; algorithms
    other than sha-256 and sha-512 are ignored, and an unparseable header is ignored too (it
    cannot be held against the body).
    """

    def __init__(self, expected: list[tuple[str, str, bytes]]) -> None:
        self._expected = expected
        self._hashes = {alg: _DIGESTS[alg]() if alg in _DIGESTS else hashlib.md5()
                        for _, alg, _ in expected}

    @classmethod
    def from_response(cls, headers: list[tuple[str, str]], status: int) -> BodyDigest | None:
        """The check for a response's headers (lower-case names), or ``None`` when the server
        sent no digest celltls can check."""
        expected: list[tuple[str, str, bytes]] = []
        whole = status != 206 and not any(k == "content-encoding" for k, _ in headers)
        for name, value in headers:
            if name == "content-digest" or (name == "repr-digest" and whole):
                for member in value.split(","):
                    found = _DICT_MEMBER.fullmatch(member)
                    if found and found.group(1) in _DIGESTS:
                        with contextlib.suppress(binascii.Error, ValueError):
                            digest = base64.b64decode(found.group(2), validate=True)
                            expected.append((name, found.group(1), digest))
            elif name == "content-md5" and whole:
                with contextlib.suppress(binascii.Error, ValueError):
                    digest = base64.b64decode(value.strip(), validate=True)
                    if len(digest) == 16:
                        expected.append((name, "md5", digest))
        return cls(expected) if expected else None

    def update(self, data: bytes) -> None:
        """Add body bytes."""
        for digest in self._hashes.values():
            digest.update(data)

    def verify(self, received: int) -> None:
        """Compare at the end of the body.

        Raises:
            BodyIntegrityError: a digest does not match (header and algorithm named).
        """
        for header, alg, expected in self._expected:
            if self._hashes[alg].digest() != expected:
                raise BodyIntegrityError(
                    f"the {received}-byte body does not match the server's {header} ({alg}): "
                    "bytes were changed between the server and celltls (the serial line after "
                    "the module's TLS is unprotected)", header=header, algorithm=alg)


class HTTPResponse(BaseResponse):
    """A response whose body is streamed from an h11 connection.

    Attributes (besides :class:`BaseResponse`'s):
        framing: how the body's end is known (RFC 9112 6.3): ``"none"`` (HEAD, 1xx, 204,
            304), ``"length"`` (Content-Length), ``"chunked"``, ``"close"`` (the server
            closes the connection).
        received: body bytes received so far.
    """

    def __init__(self, conn: HTTPConnection, response: h11.Response, method: str,
                 started: float | None = None) -> None:
        self._conn = conn
        self.started = started
        self.status = response.status_code
        self.reason = response.reason.decode("latin-1")
        self.headers = [
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers
        ]
        self.http_version = response.http_version.decode("ascii", errors="replace")
        self.method = method
        self._done = False
        self.received = 0
        self._digest = BodyDigest.from_response(self.headers.multi_items(), self.status)
        coding = (self.header("transfer-encoding") or "").lower()
        self.framing: Framing
        if method == "HEAD" or self.status in (204, 304) or self.status < 200:
            self.framing = "none"
        elif "chunked" in coding:
            self.framing = "chunked"
        elif self.content_length is not None:
            self.framing = "length"
        else:
            self.framing = "close"

    def iter_bytes(self, progress: Progress | None = None) -> Iterator[bytes]:
        """See :meth:`BaseResponse.iter_bytes`; chunks are at most the socket's read size."""
        total = self.content_length
        while not self._done:
            event = self._conn._next_event()
            if isinstance(event, h11.Data):
                self.received += len(event.data)
                if self._digest is not None:
                    self._digest.update(event.data)
                if progress is not None:
                    progress(self.received, total)
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._done = True
                self._mark_finished()
                self._conn._response_done()
                if self._digest is not None and self.framing != "none":
                    self._digest.verify(self.received)
            else:
                self._conn.close()
                raise HTTPError(f"unexpected HTTP event {type(event).__name__} in a response "
                                "body")

    def close(self) -> None:
        """Discard the rest of the body (keeping the connection reusable when possible)."""
        if not self._done:
            for _ in self.iter_bytes():
                pass

    def set_read_timeout(self, seconds: float) -> bool:
        """Let each read of the rest of the body wait at most ``seconds`` for data (the
        secure socket's ``timeout``; a wait beyond raises the socket's timeout error).

        Returns:
            bool: whether the connection takes a read timeout.
        """
        sock = self._conn.sock
        if not hasattr(sock, "timeout") or seconds <= 0:
            return False
        sock.timeout = float(seconds)
        return True

    def abort(self) -> None:
        """Stop reading the body: when it has not ended, close the connection without reading
        the rest (the connection is then not reused)."""
        if not self._done:
            self._done = True
            self._mark_finished()
            self._conn.close()

    def _partial(self) -> PartialBodyError | None:
        """The error for a connection that ended now, or ``None`` when that ends the body."""
        if self._done or self.framing in ("none", "close"):
            return None
        if self.framing == "length":
            expected = self.content_length
            return PartialBodyError(
                f"the connection ended after {self.received} of the {expected} body bytes the "
                "server announced (Content-Length)", received=self.received, expected=expected,
            )
        return PartialBodyError(
            f"the connection ended after {self.received} body bytes, before the last chunk of "
            "the chunked body", received=self.received, expected=None,
        )


class HTTPConnection:
    """One HTTP/1.1 client connection over a socket-like object.

    Args:
        sock: the connection (see :class:`SocketLike`).
        host: the Host header value (``"example.com"`` or ``"example.com:8443"``).
        read_size: bytes asked of ``sock.recv`` at a time.
        single_response: the connection carries one response and ends with it (a module's own
            HTTP client: :meth:`receive_response`); ``sock.close()`` is called when the body
            ends, and what it raises (the module's own error report) reaches the caller.
    """

    def __init__(self, sock: SocketLike, host: str, *, read_size: int = 16384,
                 single_response: bool = False) -> None:
        self.sock = sock
        self.host = host
        self.read_size = read_size
        self.single_response = single_response
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
        """Check and send a request, then read the response head; the body is read from the
        result.

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
            UnsafeArgumentError: see :func:`prepare_request` (nothing is sent).
            HTTPError: the server's response is malformed or the connection is not reusable.
            SocketError: the connection failed.
        """
        prepared = prepare_request(method, target, self.host, headers, body, content_length)
        return self.send_request(prepared, upload_progress=upload_progress)

    def send_request(
        self, prepared: PreparedRequest, *, upload_progress: Progress | None = None,
        on_phase: PhaseCallback | None = None,
    ) -> HTTPResponse:
        """Send a request made by :func:`prepare_request` and read the response head.

        Args:
            prepared: the request.
            upload_progress: called as ``progress(sent, total)`` after each body chunk.
            on_phase: called with ``"send"`` and then ``"wait"`` (for the response head).

        Returns:
            HTTPResponse: status and headers; stream the body from it.

        Raises:
            UnsafeArgumentError: the body yields something other than bytes, or more or fewer
                bytes than its declared length (the connection is then closed).
            HTTPError: the server's response is malformed, or the connection is not reusable.
            PartialBodyError: never here (see :meth:`HTTPResponse.iter_bytes`).
            SocketError: the connection failed.
        """
        if not self.reusable:
            raise HTTPError("this connection cannot take another request")
        started = time.monotonic()
        if on_phase is not None:
            on_phase("send")
        self._send(h11.Request(method=prepared.method, target=prepared.target,
                               headers=prepared.headers))
        sent = 0
        total = prepared.total
        try:
            for chunk in prepared.chunks or ():
                if not chunk:
                    continue
                if total is not None and sent + len(chunk) > total:
                    raise UnsafeArgumentError("body", f"{sent + len(chunk)} bytes",
                                              f"is longer than its declared length {total}")
                self._send(h11.Data(data=chunk))
                sent += len(chunk)
                if upload_progress is not None:
                    upload_progress(sent, total)
            if total is not None and sent != total and prepared.chunks is not None:
                raise UnsafeArgumentError("body", f"{sent} bytes",
                                          f"is shorter than its declared length {total}")
        except UnsafeArgumentError:
            self.close()
            raise
        self._send(h11.EndOfMessage())
        if on_phase is not None:
            on_phase("wait")
        while True:
            event = self._next_event()
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                self._current = HTTPResponse(self, event, prepared.method, started)
                return self._current
            self.close()
            raise HTTPError(f"unexpected HTTP event {type(event).__name__} before the response "
                            "head")

    def receive_response(self, method: str, target: str) -> HTTPResponse:
        """Read the response to a request that someone else sent: a module's own HTTP client
        sent it, and ``sock.recv`` yields what the module hands on of the server's answer
        (status line, headers, body). The same reader, framing checks and body digests as for
        a request sent with :meth:`send_request`.

        Args:
            method: the method the request was sent with (``HEAD`` has no body).
            target: its target (for h11's bookkeeping only; nothing is sent).

        Raises:
            HTTPError: the response head is malformed or missing.
            SocketError: the stream failed.
        """
        started = time.monotonic()
        try:
            self._h11.send(h11.Request(method=method, target=target, headers=[("Host", self.host)]))
            self._h11.send(h11.EndOfMessage())
        except (h11.ProtocolError, ValueError) as exc:
            raise HTTPError(f"cannot track the request {method} {target}: {exc}") from None
        while True:
            event = self._next_event()
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                self._current = HTTPResponse(self, event, method, started)
                return self._current
            self.close()
            raise HTTPError(f"unexpected HTTP event {type(event).__name__} before the response "
                            "head")

    def close(self) -> None:
        """Close the underlying socket."""
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):
                self.sock.close()

    def _send(self, event: h11.Event) -> None:
        try:
            data = self._h11.send(event)
        except (h11.ProtocolError, ValueError, TypeError) as exc:
            self.close()
            raise HTTPError(f"cannot send the request: {exc}") from None
        if data:
            try:
                self.sock.sendall(data)
            except SocketError:
                self.close()
                raise

    def _end_cause(self) -> CellTLSError | None:
        """Why the socket's stream ended early, when the socket can tell
        (:meth:`~celltls.dialects.base.SecureSocket.end_cause`, waiting up to
        :data:`END_CAUSE_WAIT`); ``None`` for other sockets or a server's close."""
        end_cause = getattr(self.sock, "end_cause", None)
        if end_cause is None:
            return None
        cause: CellTLSError | None = end_cause(END_CAUSE_WAIT)
        return cause

    def _malformed(self, exc: Exception) -> CellTLSError:
        """The error for bytes h11 cannot parse, the connection closed: what the socket says
        ended its stream when it can tell (a module that restarted in transparent mode prints
        its start-up lines into it, :meth:`_end_cause`), else :class:`HTTPError`."""
        error = HTTPError(f"malformed HTTP from the server: {exc}")
        cause = self._end_cause()
        self.close()
        if cause is not None:
            cause.__cause__ = error
            return cause
        return error

    def _next_event(self) -> h11.Event:
        while True:
            try:
                event = self._h11.next_event()
            except (h11.ProtocolError, RuntimeError) as exc:
                error = self._malformed(exc)
                raise error from error.__cause__
            if event is h11.NEED_DATA:
                try:
                    data = self.sock.recv(self.read_size)
                except SocketError:
                    self.close()
                    raise
                if not data:
                    partial = self._current._partial() if self._current is not None else None
                    if partial is not None and self._h11.their_state is h11.SEND_BODY:
                        cause = self._end_cause()
                        self.close()
                        if cause is not None:  # the network or the module, not the server
                            raise cause from partial
                        raise partial
                    if self._h11.their_state is h11.SEND_RESPONSE:
                        got = len(self._h11.trailing_data[0])
                        cause = self._end_cause()
                        self.close()
                        if cause is not None:  # the network or the module, not the server
                            raise cause
                        if got:
                            raise HTTPError("the server closed the connection after "
                                            f"{got} bytes of its response head")
                        raise EmptyReplyError(
                            "the server closed the connection without answering")
                try:
                    self._h11.receive_data(data)
                except (h11.ProtocolError, RuntimeError) as exc:
                    error = self._malformed(exc)
                    raise error from error.__cause__
                continue
            if event is h11.PAUSED:
                self.close()
                raise HTTPError("the server sent data after its response")
            if isinstance(event, h11.ConnectionClosed):
                self.close()
                raise HTTPError("the server closed the connection before the response ended")
            return event  # type: ignore[return-value]

    def _response_done(self) -> None:
        if self.single_response:
            if not self._closed:
                self._closed = True
                self.sock.close()  # the module's end of the exchange: its errors propagate
            return
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            try:
                self._h11.start_next_cycle()
            except h11.ProtocolError:
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
