"""Every user value is checked before the first byte reaches the port.

A table of bad inputs is tried on each path a request can take: HTTP/1.1 over a module's secure
socket (Quectel GSM), the module's own HTTP client (Sierra HL7800, ``via="native"``), and
``Modem.tls_connect``. Each must raise celltls's own exception naming the field, and nothing may
be written to the port (the channel's writes are recorded). Finally the opt-out of the host-name
check and a clean request show that the same modems still work.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from celltls import Certificate, Modem, TlsProfile
from celltls.errors import (
    CellTLSError,
    HostnameCheckUnsupportedError,
    InvalidURLError,
    ProfileError,
    UnsafeArgumentError,
)
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer

OK_URL = "https://127.0.0.1:4433/path"


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki(key_type="rsa")


@pytest.fixture(scope="module")
def profile(pki: PKI) -> TlsProfile:
    return TlsProfile(ca=Certificate.from_pem(pki.ca_pem), check_hostname=False)


@pytest.fixture(scope="module")
def quectel() -> Iterator[Modem]:
    with VirtualModemServer("quectel-gsm", guard_time=0.2) as sim, \
            Modem(sim.url, "quectel-gsm", guard_time=0.2) as modem:
        modem.attach(apn="internet")
        yield modem


@pytest.fixture(scope="module")
def sierra() -> Iterator[Modem]:
    with VirtualModemServer("sierra", model="hl7800", guard_time=0.2) as sim, \
            Modem(sim.url, "sierra") as modem:
        modem.attach(apn="internet")
        yield modem


class Recorder:
    """Records every byte the channel writes to the port (and still writes it)."""

    def __init__(self, modem: Modem, monkeypatch: pytest.MonkeyPatch) -> None:
        self.written: list[bytes] = []
        original = modem.channel._write

        def write(data: bytes) -> None:
            self.written.append(data)
            original(data)

        monkeypatch.setattr(modem.channel, "_write", write)


# (id, request keyword overrides, exception class, field named, paths it applies to)
S, N = "socket", "native"
REQUESTS: list[tuple[str, dict[str, Any], type[CellTLSError], str, tuple[str, ...]]] = [
    ("url-ipv6-unclosed", {"url": "https://[::1/x"}, InvalidURLError, "url", (S, N)),
    ("url-quote", {"url": 'https://exa"mple.com/'}, InvalidURLError, "url", (S, N)),
    ("url-cr-lf", {"url": "https://example.com/a\r\nb"}, InvalidURLError, "url", (S, N)),
    ("url-ctrl-z", {"url": "https://example.com/\x1a"}, InvalidURLError, "url", (S, N)),
    ("url-esc", {"url": "https://example.com/\x1b"}, InvalidURLError, "url", (S, N)),
    ("url-nul", {"url": "https://example.com/\x00"}, InvalidURLError, "url", (S, N)),
    ("url-non-ascii", {"url": "https://ex\u00e4mple.com/"}, InvalidURLError, "url", (S, N)),
    ("url-typographic", {"url": "https://\u201cexample.com\u201d/"}, InvalidURLError, "url",
     (S, N)),
    ("url-5000", {"url": "https://example.com/" + "a" * 5000}, InvalidURLError, "url", (S, N)),
    ("url-http", {"url": "http://example.com/"}, InvalidURLError, "url", (S, N)),
    ("url-port-text", {"url": "https://127.0.0.1:abc/"}, InvalidURLError, "url", (S, N)),
    ("url-port-0", {"url": "https://127.0.0.1:0/"}, InvalidURLError, "url", (S, N)),
    ("url-port-big", {"url": "https://127.0.0.1:70000/"}, InvalidURLError, "url", (S, N)),
    ("url-userinfo", {"url": "https://u:p@example.com/"}, InvalidURLError, "url", (S, N)),
    ("url-no-host", {"url": "https:///path"}, InvalidURLError, "url", (S, N)),
    ("url-space-host", {"url": "https://exa mple.com/"}, InvalidURLError, "host", (S, N)),
    ("url-space-path", {"url": "https://example.com/a b"}, InvalidURLError, "url", (S, N)),
    ("url-not-text", {"url": b"https://example.com/"}, InvalidURLError, "url", (S, N)),
    ("url-plus3-native", {"url": "https://example.com/+++"}, InvalidURLError, "url", (N,)),
    ("host-too-long", {"url": f"https://{'a' * 300}.com/"}, InvalidURLError, "host", (S, N)),
    ("method-space", {"method": "GE T"}, UnsafeArgumentError, "method", (S, N)),
    ("method-crlf", {"method": "GET\r\n"}, UnsafeArgumentError, "method", (S, N)),
    ("method-non-ascii", {"method": "G\u00c9T"}, UnsafeArgumentError, "method", (S, N)),
    ("method-empty", {"method": ""}, UnsafeArgumentError, "method", (S, N)),
    ("method-quote", {"method": 'G"ET'}, UnsafeArgumentError, "method", (S, N)),
    ("name-quote", {"headers": [('X"Y', "1")]}, UnsafeArgumentError, "header name", (S, N)),
    ("name-cr", {"headers": [("X\rY", "1")]}, UnsafeArgumentError, "header name", (S, N)),
    ("name-space", {"headers": [("X Y", "1")]}, UnsafeArgumentError, "header name", (S, N)),
    ("name-empty", {"headers": [("", "1")]}, UnsafeArgumentError, "header name", (S, N)),
    ("name-non-ascii", {"headers": [("\u00c9", "1")]}, UnsafeArgumentError, "header name",
     (S, N)),
    ("value-crlf", {"headers": [("X", "a\r\nInjected: 1")]}, UnsafeArgumentError, "header X",
     (S, N)),
    ("value-lf", {"headers": [("X", "a\nb")]}, UnsafeArgumentError, "header X", (S, N)),
    ("value-ctrl-z", {"headers": [("X", "a\x1ab")]}, UnsafeArgumentError, "header X", (S, N)),
    ("value-esc", {"headers": [("X", "a\x1bb")]}, UnsafeArgumentError, "header X", (S, N)),
    ("value-nul", {"headers": [("X", "a\x00b")]}, UnsafeArgumentError, "header X", (S, N)),
    ("value-non-ascii", {"headers": [("X", "\u00e9")]}, UnsafeArgumentError, "header X",
     (S, N)),
    ("value-typographic", {"headers": {"X": "\u201cq\u201d"}}, UnsafeArgumentError, "header X",
     (S, N)),
    ("value-5000", {"headers": [("X", "v" * 5000)]}, UnsafeArgumentError, "header X", (S, N)),
    ("value-quote-native", {"headers": [("X", 'a"b')]}, UnsafeArgumentError, "header X", (N,)),
    ("value-plus3-native", {"headers": [("X", "a+++b")]}, UnsafeArgumentError, "header X",
     (N,)),
    ("value-not-text", {"headers": [("X", 1)]}, UnsafeArgumentError, "header X", (S, N)),
    ("headers-int", {"headers": 5}, UnsafeArgumentError, "headers", (S, N)),
    ("headers-text", {"headers": "X: 1"}, UnsafeArgumentError, "headers", (S, N)),
    ("te-gzip", {"headers": [("Transfer-Encoding", "gzip")]}, UnsafeArgumentError, "request",
     (S, N)),
    ("body-text", {"method": "POST", "body": "text"}, UnsafeArgumentError, "body", (S, N)),
    ("body-text-file", {"method": "POST", "body": io.StringIO("t")}, UnsafeArgumentError,
     "body", (S, N)),
    ("body-int", {"method": "POST", "body": 7}, UnsafeArgumentError, "body", (S, N)),
    ("length-mismatch", {"method": "POST", "body": b"abc", "content_length": 4},
     UnsafeArgumentError, "content_length", (S, N)),
    ("length-negative", {"method": "POST", "body": iter([b"a"]), "content_length": -1},
     UnsafeArgumentError, "content_length", (S, N)),
    ("timeout-zero", {"timeout": 0}, UnsafeArgumentError, "timeout", (S, N)),
    ("timeout-nan", {"timeout": float("nan")}, UnsafeArgumentError, "timeout", (S, N)),
    ("via-unknown", {"via": "carrier-pigeon"}, UnsafeArgumentError, "via", (S, N)),
]
CASES = [
    pytest.param(path, kwargs, kind, field, id=f"{path}-{name}")
    for name, kwargs, kind, field, paths in REQUESTS for path in paths
]


@pytest.mark.parametrize(("path", "kwargs", "kind", "field"), CASES)
def test_bad_request_refused_before_any_byte(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, profile: TlsProfile,
    path: str, kwargs: dict[str, Any], kind: type[CellTLSError], field: str,
) -> None:
    modem: Modem = request.getfixturevalue("quectel" if path == S else "sierra")
    args: dict[str, Any] = {"method": "GET", "url": OK_URL, "profile": profile}
    if path == N:
        args["via"] = "native"
    args.update(kwargs)
    recorder = Recorder(modem, monkeypatch)
    with pytest.raises(CellTLSError) as info:
        modem.request(args.pop("method"), args.pop("url"), **args)
    assert type(info.value) is kind, repr(info.value)
    assert getattr(info.value, "field", None) == field, repr(info.value)
    assert recorder.written == []


CONNECTS: list[tuple[str, Any, Any, type[CellTLSError]]] = [
    ("host-quote", 'exa"mple.com', 443, UnsafeArgumentError),
    ("host-cr", "example.com\r", 443, UnsafeArgumentError),
    ("host-ctrl-z", "example\x1a.com", 443, UnsafeArgumentError),
    ("host-esc", "example\x1b.com", 443, UnsafeArgumentError),
    ("host-nul", "example\x00.com", 443, UnsafeArgumentError),
    ("host-plus3", "a+++b", 443, UnsafeArgumentError),
    ("host-non-ascii", "ex\u00e4mple.com", 443, UnsafeArgumentError),
    ("host-typographic", "\u201cexample.com\u201d", 443, UnsafeArgumentError),
    ("host-5000", "a" * 5000, 443, UnsafeArgumentError),
    ("host-empty", "", 443, UnsafeArgumentError),
    ("host-slash", "example.com/x", 443, UnsafeArgumentError),
    ("host-not-text", None, 443, UnsafeArgumentError),
    ("port-zero", "example.com", 0, UnsafeArgumentError),
    ("port-big", "example.com", 65536, UnsafeArgumentError),
    ("port-text", "example.com", "443", UnsafeArgumentError),
    ("port-bool", "example.com", True, UnsafeArgumentError),
]


@pytest.mark.parametrize(("host", "port", "kind"),
                         [pytest.param(h, p, k, id=n) for n, h, p, k in CONNECTS])
def test_bad_tls_connect_refused_before_any_byte(
    quectel: Modem, monkeypatch: pytest.MonkeyPatch, profile: TlsProfile, host: Any, port: Any,
    kind: type[CellTLSError],
) -> None:
    recorder = Recorder(quectel, monkeypatch)
    with pytest.raises(CellTLSError) as info:
        quectel.tls_connect(host, port, profile)
    assert type(info.value) is kind, repr(info.value)
    assert recorder.written == []


def test_no_profile_is_refused_before_any_byte(quectel: Modem,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(quectel, monkeypatch)
    with pytest.raises(ProfileError, match="TlsProfile is needed"):
        quectel.request("GET", OK_URL, tls="module")  # the host's TLS would use certifi
    assert recorder.written == []


@pytest.mark.parametrize("path", [S, N])
def test_default_profile_refused_by_modules_that_cannot_check_names(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, pki: PKI, path: str
) -> None:
    modem: Modem = request.getfixturevalue("quectel" if path == S else "sierra")
    recorder = Recorder(modem, monkeypatch)
    calls: list[Callable[[], object]] = [
        lambda: modem.request("GET", OK_URL, profile=TlsProfile(ca=Certificate.from_pem(
            pki.ca_pem)), via="native" if path == N else "socket", tls="module"),
    ]
    if path == S:
        calls.append(lambda: modem.tls_connect(
            "127.0.0.1", 4433, TlsProfile(ca=Certificate.from_pem(pki.ca_pem)), tls="module"))
    for call in calls:
        with pytest.raises(HostnameCheckUnsupportedError, match=r"'127\.0\.0\.1'"):
            call()
    assert recorder.written == []


@pytest.mark.parametrize("path", [S, N])
def test_opt_out_by_name_works_on_the_same_modem(
    request: pytest.FixtureRequest, pki: PKI, profile: TlsProfile, path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    modem: Modem = request.getfixturevalue("quectel" if path == S else "sierra")
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as web:
        response = modem.request("GET", web.url("/bytes/300"), profile=profile,
                                 headers={"X-Ok": "plain value"},
                                 via="native" if path == N else "socket")
        assert response.status == 200
        assert response.read() == deterministic_bytes(300)
    assert any("is NOT checked" in r.getMessage() for r in caplog.records)
