"""HTTP/1.1 over a socket-like object: framing decides when a body is complete.

The socket here is a script of bytes (what a module's secure socket would return), so every
way a response can end is tried exactly: complete, cut short, garbled, closed early.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltls.errors import (
    HTTPError,
    HTTPStatusError,
    NetworkLostError,
    PartialBodyError,
    SocketError,
    UnsafeArgumentError,
)
from celltls.http import END_CAUSE_WAIT, HTTPConnection, prepare_request


class ScriptSocket:
    """Returns the scripted pieces one ``recv`` at a time, then ``b""`` (end of stream), or
    raises ``fail`` instead of the end when given; records what is sent."""

    def __init__(self, pieces: Iterable[bytes], fail: Exception | None = None) -> None:
        self.pieces = [p for p in pieces if p]
        self.fail = fail
        self.sent = b""
        self.closed = False

    def sendall(self, data: bytes) -> None:
        if self.closed:
            raise SocketError("closed")
        self.sent += data

    def recv(self, max_bytes: int) -> bytes:
        if not self.pieces:
            if self.fail is not None:
                raise self.fail
            return b""
        piece = self.pieces.pop(0)
        if len(piece) > max_bytes:
            self.pieces.insert(0, piece[max_bytes:])
            piece = piece[:max_bytes]
        return piece

    def close(self) -> None:
        self.closed = True


BODY = bytes(range(256)) * 40  # 10240 bytes


def length_response(body: bytes = BODY, declared: int | None = None) -> bytes:
    n = len(body) if declared is None else declared
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n + body


def chunked_response(body: bytes = BODY, size: int = 1000) -> bytes:
    out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def get(sock: ScriptSocket, method: str = "GET") -> bytes:
    conn = HTTPConnection(sock, "example.com")
    return conn.request(method, "/").read()


@pytest.mark.parametrize("response", [length_response(), chunked_response()])
def test_complete_bodies(response: bytes) -> None:
    assert get(ScriptSocket([response])) == BODY


def test_body_until_close_is_complete_at_close() -> None:
    sock = ScriptSocket([b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", BODY])
    assert get(sock) == BODY


def test_short_content_length_body_is_a_partial_body_error() -> None:
    sock = ScriptSocket([length_response(BODY[:3000], declared=len(BODY))])
    with pytest.raises(PartialBodyError) as info:
        get(sock)
    assert (info.value.received, info.value.expected) == (3000, len(BODY))
    assert info.value.exit_code == 18
    assert sock.closed


class ReportingSocket(ScriptSocket):
    """A module's socket that can say why its stream ended (SecureSocket.end_cause)."""

    def __init__(self, pieces: Iterable[bytes], cause: Exception | None) -> None:
        super().__init__(pieces)
        self.cause = cause
        self.asked: list[float] = []

    def end_cause(self, wait: float) -> Exception | None:
        assert not self.closed, "asked after the connection was closed"
        self.asked.append(wait)
        return self.cause


def test_a_body_cut_short_by_the_network_names_the_network() -> None:
    """The stream ended because the module lost the PDP context (it said so just after the
    close): that error, with the cut body as its cause, not PartialBodyError."""
    lost = NetworkLostError("the network deactivated the PDP context", urc="+PDP DEACT")
    sock = ReportingSocket([length_response(BODY[:3000], declared=len(BODY))], lost)
    with pytest.raises(NetworkLostError) as info:
        get(sock)
    assert info.value is lost
    assert isinstance(info.value.__cause__, PartialBodyError)
    assert sock.asked == [END_CAUSE_WAIT] and sock.closed


def test_a_body_cut_short_with_no_reported_cause_is_a_partial_body_error() -> None:
    sock = ReportingSocket([length_response(BODY[:3000], declared=len(BODY))], None)
    with pytest.raises(PartialBodyError):
        get(sock)
    assert sock.asked == [END_CAUSE_WAIT]


def test_a_complete_body_asks_no_cause() -> None:
    sock = ReportingSocket([length_response()], NetworkLostError("unused"))
    assert get(sock) == BODY
    assert sock.asked == []


def test_chunked_body_without_its_last_chunk_is_a_partial_body_error() -> None:
    response = chunked_response()
    sock = ScriptSocket([response[: -len(b"0\r\n\r\n")]])
    with pytest.raises(PartialBodyError) as info:
        get(sock)
    assert info.value.received == len(BODY) and info.value.expected is None


@pytest.mark.parametrize("bad", [b"ZZ\r\n", b"-5\r\n", b"10 garbage\r\n", b"\r\n\r\n"])
def test_garbled_chunk_header_is_an_http_error(bad: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    with pytest.raises(HTTPError) as info:
        get(ScriptSocket([head + bad + b"more"]))
    assert type(info.value) is HTTPError and "malformed HTTP" in str(info.value)


@pytest.mark.parametrize("response", [b"", b"HTTP/1.1 200 OK\r\nContent-Le", b"garbage\r\n\r\n",
                                      b"HTTP/1.1 2000 OK\r\n\r\n"])
def test_no_or_malformed_head_is_an_http_error(response: bytes) -> None:
    with pytest.raises(HTTPError):
        get(ScriptSocket([response]))


def test_socket_failure_mid_body_propagates_and_closes() -> None:
    sock = ScriptSocket([length_response(BODY[:100], declared=200)],
                        fail=SocketError("+QSSLURC: \"closed\""))
    with pytest.raises(SocketError):
        get(sock)
    assert sock.closed


def test_head_and_204_have_no_body_and_keep_alive_works() -> None:
    sock = ScriptSocket([
        b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        length_response(b"third"),
    ])
    conn = HTTPConnection(sock, "example.com")
    assert conn.request("HEAD", "/").read() == b""
    assert conn.reusable
    assert conn.request("DELETE", "/x").read() == b""
    assert conn.request("GET", "/y").read() == b"third"
    assert sock.sent.count(b"Host: example.com\r\n") == 3


def test_raise_for_status() -> None:
    sock = ScriptSocket([b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"])
    response = HTTPConnection(sock, "h").request("GET", "/")
    with pytest.raises(HTTPStatusError) as info:
        response.raise_for_status()
    assert info.value.status == 404 and info.value.exit_code == 22


# -- property: no silent corruption ------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    chunked=st.booleans(),
    cut=st.integers(min_value=0, max_value=len(chunked_response())),
    sizes=st.lists(st.integers(min_value=1, max_value=3000), min_size=1, max_size=30),
)
def test_any_cut_and_any_split_is_exact_bytes_or_an_error(chunked: bool, cut: int,
                                                          sizes: list[int]) -> None:
    """Whatever the point where the stream ends and however it is split into reads, the body is
    either exactly the server's, or an HTTPError (PartialBodyError when the head was whole)."""
    response = chunked_response() if chunked else length_response()
    cut = min(cut, len(response))
    stream = response[:cut]
    pieces, start = [], 0
    for size in sizes * (len(stream) // max(1, sum(sizes)) + 1):
        if start >= len(stream):
            break
        pieces.append(stream[start : start + size])
        start += size
    assert b"".join(pieces) == stream
    try:
        body = get(ScriptSocket(pieces))
    except PartialBodyError as exc:
        assert cut < len(response)
        assert exc.received <= len(BODY)
        return
    except HTTPError:
        assert cut < len(response)
        return
    assert cut == len(response) and body == BODY


# -- requests are checked whole before a byte is sent -----------------------------------------


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"method": "GE T"}, "method"),
    ({"method": "G\u00c9T"}, "method"),
    ({"method": ""}, "method"),
    ({"target": "/a b"}, "url"),
    ({"target": "/a\r\nb"}, "url"),
    ({"target": "/\u00e9"}, "url"),
    ({"headers": [("X Y", "1")]}, "header name"),
    ({"headers": [("X", "a\r\nInjected: 1")]}, "header X"),
    ({"headers": [("X", "a\x00b")]}, "header X"),
    ({"headers": [("X", "a\x1ab")]}, "header X"),
    ({"headers": [("X", "a\x1bb")]}, "header X"),
    ({"headers": [("X", "\u201cq\u201d")]}, "header X"),
    ({"headers": [("X", "v" * 5000)]}, "header X"),
    ({"headers": [("X", 5)]}, "header X"),
    ({"headers": ["X: 1"]}, "headers"),
    ({"headers": [("Transfer-Encoding", "gzip")]}, "request"),
    ({"headers": [("Content-Length", "abc")]}, "header Content-Length"),
    ({"body": "text"}, "body"),
    ({"body": io.StringIO("text")}, "body"),
    ({"body": 42}, "body"),
    ({"body": b"abc", "content_length": 5}, "content_length"),
    ({"body": b"abc", "headers": [("Content-Length", "4")]}, "header Content-Length"),
    ({"content_length": -1, "body": iter([b"x"])}, "content_length"),
])
def test_bad_requests_are_refused_before_sending(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"method": "POST", "target": "/", **kwargs}
    sock = ScriptSocket([length_response(b"")])
    conn = HTTPConnection(sock, "example.com")
    with pytest.raises(UnsafeArgumentError) as info:
        conn.request(args.pop("method"), args.pop("target"), **args)  # type: ignore[arg-type]
    assert info.value.field == field
    assert sock.sent == b""


def test_streamed_body_longer_than_declared_is_refused_and_closes() -> None:
    sock = ScriptSocket([length_response(b"")])
    conn = HTTPConnection(sock, "example.com")
    with pytest.raises(UnsafeArgumentError, match="longer than its declared length 3"):
        conn.request("POST", "/", body=iter([b"ab", b"cd"]), content_length=3)
    assert sock.closed and b"ab" in sock.sent and b"cd" not in sock.sent


def test_prepared_request_head() -> None:
    prepared = prepare_request("post", "/u?x=1", "example.com:8443",
                               [("X-Tag", '  "v1"  ')], iter([b"a"]))
    assert prepared.method == "POST"
    assert ("Host", "example.com:8443") in prepared.headers
    assert ("Transfer-Encoding", "chunked") in prepared.headers
    assert ("X-Tag", '"v1"') in prepared.headers


# -- body digests (RFC 9530 Content-Digest / Repr-Digest, RFC 1864 Content-MD5) ----------------


def _digest_header(algorithm: str, body: bytes) -> str:
    import base64
    import hashlib

    raw = hashlib.new(algorithm.replace("-", ""), body).digest()
    return f"{algorithm}=:{base64.b64encode(raw).decode()}:"


@pytest.mark.parametrize("header", ["Content-Digest", "Repr-Digest"])
@pytest.mark.parametrize("algorithm", ["sha-256", "sha-512"])
def test_a_body_that_matches_its_digest_is_delivered(header: str, algorithm: str) -> None:
    from celltls.http import BodyDigest

    body = b"0123456789" * 100
    check = BodyDigest.from_response([(header.lower(), _digest_header(algorithm, body))], 200)
    assert check is not None
    check.update(body[:7])
    check.update(body[7:])
    check.verify(len(body))


def test_a_changed_byte_is_caught_by_the_digest() -> None:
    from celltls.errors import BodyIntegrityError
    from celltls.http import BodyDigest

    body = b"0123456789" * 100
    value = "sha-512=:AAAA:, " + _digest_header("sha-256", body)  # the sha-512 one is garbage
    check = BodyDigest.from_response([("content-digest", value)], 200)
    assert check is not None
    check.update(body[:500] + b"X" + body[501:])
    with pytest.raises(BodyIntegrityError, match="content-digest") as caught:
        check.verify(len(body))
    assert caught.value.exit_code == 56


def test_digests_that_cannot_be_checked_are_ignored() -> None:
    from celltls.http import BodyDigest

    body = b"abc"
    assert BodyDigest.from_response([("content-digest", "unixsum=:AAAA:")], 200) is None
    assert BodyDigest.from_response([("content-digest", "not a dictionary")], 200) is None
    # Repr-Digest is of the representation: not the bytes of a range or of an encoded body
    repr_digest = ("repr-digest", _digest_header("sha-256", body))
    assert BodyDigest.from_response([repr_digest], 206) is None
    assert BodyDigest.from_response([repr_digest, ("content-encoding", "gzip")], 200) is None


def test_content_md5_is_checked() -> None:
    import base64
    import hashlib

    from celltls.errors import BodyIntegrityError
    from celltls.http import BodyDigest

    md5 = base64.b64encode(hashlib.md5(b"hello").digest()).decode()
    check = BodyDigest.from_response([("content-md5", md5)], 200)
    assert check is not None
    check.update(b"hellO")
    with pytest.raises(BodyIntegrityError):
        check.verify(5)


@pytest.mark.parametrize(("headers", "closes"), [
    ([], False),
    ([("Connection", "close")], True),
    ([("connection", "Keep-Alive, CLOSE")], True),
    ([("Connection", "keep-alive")], False),
    ([("Connection", "closed")], False),  # a token, not a substring (RFC 9110 7.6.1)
    ([("X-Connection", "close")], False),
])
def test_a_prepared_request_says_whether_it_asks_for_a_close(
        headers: list[tuple[str, str]], closes: bool) -> None:
    assert prepare_request("GET", "/", "example.com", headers).closes is closes
