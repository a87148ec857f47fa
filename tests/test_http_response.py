"""The response API, httpx's where they meet: headers as a case-insensitive multi-dict,
``json()``, ``raise_for_status()``, ``iter_bytes()``, ``elapsed``, ``abort()``, read timeouts.

Responses come from scripted bytes (what a module's secure socket returns), as in test_http.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from celltls.errors import HTTPError, HTTPStatusError
from celltls.http import BaseResponse, Headers, HTTPConnection, HTTPResponse
from tests.test_http import ScriptSocket


def respond(head: bytes, body: bytes = b"") -> HTTPResponse:
    sock = ScriptSocket([head + b"Content-Length: %d\r\n\r\n" % len(body) + body])
    return HTTPConnection(sock, "example.com").request("GET", "/")


def test_headers_are_case_insensitive_and_keep_repeats() -> None:
    response = respond(b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Tag: v\r\nset-cookie: b=2\r\n")
    headers = response.headers
    assert headers["X-TAG"] == headers["x-tag"] == "v" and "X-Tag" in headers
    assert headers["set-cookie"] == "a=1, b=2"
    assert headers.get_list("Set-Cookie") == ["a=1", "b=2"]
    assert list(headers) == ["set-cookie", "x-tag", "content-length"]
    assert len(headers) == 3 and headers.get("missing") is None and "missing" not in headers
    assert headers.multi_items()[:3] == [("set-cookie", "a=1"), ("x-tag", "v"),
                                         ("set-cookie", "b=2")]
    assert response.header("SET-COOKIE") == "a=1"  # the first value, as before
    with pytest.raises(KeyError):
        headers["missing"]


def test_headers_compare_with_dicts_and_lists() -> None:
    headers = Headers([("A", "1"), ("b", "2")])
    assert headers == {"a": "1", "B": "2"}
    assert headers == [("a", "1"), ("b", "2")]
    assert headers != {"a": "1"}
    assert Headers({"X": "y"}).raw == [("x", "y")]


def test_a_subclass_may_assign_pairs() -> None:
    """Dialect drivers that build their own response assign a list of pairs, as before."""

    class Native(BaseResponse):
        def __init__(self) -> None:
            self.status, self.reason, self.http_version, self.method = 201, "Created", "1.1", "GET"
            self.headers = [("Content-Type", "application/json"), ("X-A", "1")]

    response = Native()
    assert isinstance(response.headers, Headers) and response.headers["content-type"]
    assert response.status_code == 201 and response.is_success
    assert response.elapsed == timedelta(0)


def test_json_with_and_without_a_charset() -> None:
    payload = {"name": "caf\u00e9", "n": [1, 2]}
    utf8 = respond(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                   json.dumps(payload, ensure_ascii=False).encode())
    assert utf8.json() == payload
    latin = respond(b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=latin-1\r\n",
                    json.dumps(payload, ensure_ascii=False).encode("latin-1"))
    assert latin.json() == payload and latin.charset == "iso8859-1"


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe"])
def test_json_of_something_else_is_an_http_error(body: bytes) -> None:
    with pytest.raises(HTTPError) as info:
        respond(b"HTTP/1.1 200 OK\r\n", body).json()
    assert "not JSON" in str(info.value) and info.value.exit_code == 8


def test_raise_for_status_returns_the_response_or_raises() -> None:
    ok = respond(b"HTTP/1.1 204 No Content\r\n")
    assert ok.raise_for_status() is ok
    with pytest.raises(HTTPStatusError) as info:
        respond(b"HTTP/1.1 503 Busy\r\n", b"x").raise_for_status()
    assert info.value.status == 503 and info.value.exit_code == 22


def test_redirect_flags() -> None:
    assert respond(b"HTTP/1.1 302 Found\r\nLocation: /x\r\n").is_redirect
    assert not respond(b"HTTP/1.1 302 Found\r\n").is_redirect
    assert not respond(b"HTTP/1.1 200 OK\r\nLocation: /x\r\n").is_redirect


def test_elapsed_runs_until_the_body_ends() -> None:
    response = respond(b"HTTP/1.1 200 OK\r\n", b"abc")
    assert response.started is not None and response.finished is None
    assert b"".join(response.iter_bytes()) == b"abc"
    assert response.finished is not None and response.finished >= response.started
    first = response.elapsed
    assert first == response.elapsed  # fixed once the body ended
    assert isinstance(first, timedelta) and first >= timedelta(0)


def test_abort_closes_without_reading_and_close_reads_to_the_end() -> None:
    sock = ScriptSocket([b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc", b"def"])
    conn = HTTPConnection(sock, "example.com", read_size=3)
    response = conn.request("GET", "/")
    response.abort()
    assert sock.closed and sock.pieces[-1] == b"def" and not conn.reusable  # rest unread
    sock = ScriptSocket([b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc", b"def"])
    conn = HTTPConnection(sock, "example.com", read_size=3)
    conn.request("GET", "/").close()
    assert not sock.closed and sock.pieces == [] and conn.reusable


def test_read_timeout_reaches_a_socket_that_takes_one() -> None:
    class TimedSocket(ScriptSocket):
        timeout = 60.0

    sock = TimedSocket([b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"])
    response = HTTPConnection(sock, "h").request("GET", "/")
    assert response.set_read_timeout(2.5) and sock.timeout == 2.5
    plain = respond(b"HTTP/1.1 200 OK\r\n", b"x")
    assert not plain.set_read_timeout(2.5)


def test_text_uses_the_charset() -> None:
    response = respond(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=\"latin-1\"\r\n",
                       "\u00e9t\u00e9".encode("latin-1"))
    assert response.text() == "\u00e9t\u00e9"
