"""The celltls CLI in-process (typer's CliRunner) against a virtual modem and local servers.

Every failure is exactly one ``celltls: error:`` line on stderr and the error's curl exit code.
Misbehaving servers (short body, garbled chunk, silence, no TLS) are scripted here on 127.0.0.1
and end by themselves.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from celltls.cli.app import app
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes
from celltls.sim.serve import VirtualModemServer

runner = CliRunner()


def error_lines(result: Result) -> list[str]:
    """The stderr lines that report a failure; there must be exactly one."""
    lines = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert "Traceback" not in result.output
    return lines


def one_error(result: Result) -> str:
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("celltls: error: "), lines[0]
    return lines[0]


# -- scripted servers --------------------------------------------------------------------------


class ScriptedServer:
    """One TLS (or plain TCP) server on 127.0.0.1 whose behaviour after the request head is a
    function of the connection; it accepts connections until stopped, each for at most 30 s."""

    def __init__(self, pki: PKI, script: Callable[[socket.socket], object], *,
                 tls: bool = True) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.context: ssl.SSLContext | None = None
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.set_ciphers("DEFAULT:AES256-SHA:AES128-SHA:AES256-SHA256:@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            with tempfile.TemporaryDirectory() as directory:
                cert, key = Path(directory, "c.pem"), Path(directory, "k.pem")
                cert.write_bytes(pki.server_chain_pem)
                key.write_bytes(pki.server_key_pem)
                context.load_cert_chain(cert, key)
            self.context = context
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def url(self, path: str = "/") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            sock = conn
            if self.context is not None:
                sock = self.context.wrap_socket(conn, server_side=True)
            else:
                self.stop.wait(30)
                return
            head = b""
            while b"\r\n\r\n" not in head:
                data = sock.recv(4096)
                if not data:
                    return
                head += data
            self.requests.append(head)
            self.script(sock)
        except (OSError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(timeout=5)


def short_body(sock: socket.socket) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n" + b"x" * 3000)


def garbled_chunk(sock: socket.socket) -> None:
    sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"10\r\n0123456789abcdef\r\nZZ\r\n")


def get_args(url: str, sim: VirtualModemServer, ca: Path, *extra: str) -> list[str]:
    return ["get", url, "--port", sim.url, "--dialect", "quectel-gsm", "--ca", str(ca),
            "--no-check-hostname", *extra]


# -- the good path -----------------------------------------------------------------------------


def test_get_detects_the_dialect_and_writes_the_body(
    sim: VirtualModemServer, web: LocalHTTPSServer, ca: Path, tmp_path: Path
) -> None:
    out = tmp_path / "body"
    trace = tmp_path / "trace.txt"
    result = runner.invoke(app, ["get", web.url("/bytes/70000"), "--port", sim.url,
                                 "--ca", str(ca), "--no-check-hostname", "-o", str(out),
                                 "--trace", str(trace)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == deterministic_bytes(70000)
    assert "> ATI" in trace.read_text()
    assert "host name" in result.stderr  # the opt-out is said, as a warning


def test_post_data_and_file(sim: VirtualModemServer, web: LocalHTTPSServer, ca: Path,
                            tmp_path: Path) -> None:
    result = runner.invoke(app, ["post", web.url("/echo"), "--port", sim.url, "--dialect",
                                 "quectel-gsm", "--ca", str(ca), "--no-check-hostname",
                                 "--data", "hello"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"hello"
    upload = tmp_path / "up.bin"
    upload.write_bytes(bytes(range(256)) * 10)
    result = runner.invoke(app, ["post", web.url("/echo"), "--port", sim.url, "--dialect",
                                 "quectel-gsm", "--ca", str(ca), "--no-check-hostname",
                                 "--data", f"@{upload}"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == upload.read_bytes()


def test_a_quote_in_a_header_value_is_valid_http(sim: VirtualModemServer,
                                                 web: LocalHTTPSServer, ca: Path) -> None:
    """On the socket path header values follow HTTP's rules, where ``"`` is an ordinary
    character (an ETag); only the module's own client refuses it (tests/test_validation.py)."""
    result = runner.invoke(app, get_args(web.url("/headers"), sim, ca,
                                         "-H", 'If-None-Match: "abc"'))
    assert result.exit_code == 0, result.output
    assert b'\\"abc\\"' in result.stdout_bytes


# -- host names --------------------------------------------------------------------------------


def test_host_name_check_refused_by_default_in_one_line(sim: VirtualModemServer,
                                                         web: LocalHTTPSServer,
                                                         ca: Path, tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    result = runner.invoke(app, ["get", web.url("/bytes/5"), "--port", sim.url, "--dialect",
                                 "quectel-gsm", "--ca", str(ca), "--trace", str(trace),
                                 "--tls", "module"])
    assert result.exit_code == 4, result.output  # ProfileError
    line = one_error(result)
    assert "'127.0.0.1'" in line and "cannot check" in line
    for way_out in ("--no-check-hostname", "--insecure", "check_hostname=False", "--tls host"):
        assert way_out in line
    sent = [t for t in trace.read_text().splitlines() if "] > " in t]
    tls = [t for t in sent if any(c in t for c in ("+QSSLCFG", "+QSSLOPEN", "+QSECWRITE"))]
    assert sent and tls == [], "nothing of the TLS connection may be sent"


def test_verification_needs_a_ca_or_insecure_by_name(sim: VirtualModemServer,
                                                     web: LocalHTTPSServer) -> None:
    result = runner.invoke(app, ["get", web.url("/bytes/5"), "--port", sim.url,
                                 "--tls", "module"])
    assert result.exit_code == 1
    assert "--ca" in one_error(result)
    # Without --ca the host's TLS verifies with certifi's roots, which never issued the test
    # server's certificate: refused, as curl refuses it with its default store.
    result = runner.invoke(app, ["get", web.url("/bytes/5"), "--port", sim.url])
    assert result.exit_code == 60, result.output
    one_error(result)
    result = runner.invoke(app, ["get", web.url("/bytes/5"), "--port", sim.url, "--insecure"])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == deterministic_bytes(5)
    assert "NOT verified" in result.stderr


# -- exit codes and one line -------------------------------------------------------------------


def test_fail_on_http_status_writes_nothing(sim: VirtualModemServer, web: LocalHTTPSServer,
                                            ca: Path, tmp_path: Path) -> None:
    out = tmp_path / "body"
    result = runner.invoke(app, get_args(web.url("/status/404"), sim, ca, "--fail",
                                         "-o", str(out)))
    assert result.exit_code == 22
    assert "HTTP 404" in one_error(result)
    assert not out.exists()


@pytest.mark.parametrize(("url", "code"), [
    ("https://127.0.0.1:abc/", 3),
    ('https://exa"mple.com/', 3),
    ("http://example.com/", 3),
    ("https://[::1/x", 3),
    ("https://exa\u0301mple.com/", 3),
    ("https://example.com/" + "a" * 5000, 3),
])
def test_bad_urls_are_one_line_errors(sim: VirtualModemServer, ca: Path, url: str,
                                      code: int) -> None:
    result = runner.invoke(app, get_args(url, sim, ca))
    assert result.exit_code == code, result.output
    one_error(result)


@pytest.mark.parametrize("header", [
    "X-Name: \u00e9", "\u00e9: x", 'X"Y: 1', "X-Name: a\rb", "X-Name: a\x1bb",
    "X-Name: \u201cquoted\u201d", "X-Name: " + "v" * 5000, "no colon here",
])
def test_bad_headers_are_one_line_errors(sim: VirtualModemServer, web: LocalHTTPSServer,
                                         ca: Path, header: str, tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    result = runner.invoke(app, get_args(web.url("/headers"), sim, ca, "-H", header,
                                         "--trace", str(trace)))
    assert result.exit_code == 43, result.output  # UnsafeArgumentError
    assert "header" in one_error(result)
    assert not trace.exists(), "refused before the port is opened"


def test_unopenable_port(ca: Path) -> None:
    result = runner.invoke(app, ["get", "https://x/", "--port", "/dev/does-not-exist",
                                 "--ca", str(ca), "--no-check-hostname"])
    assert result.exit_code == 7  # curl: failed to connect (to the module)
    assert "cannot open /dev/does-not-exist" in one_error(result)


def test_debug_prints_the_traceback_first(ca: Path) -> None:
    result = runner.invoke(app, ["get", "https://x/", "--port", "/dev/does-not-exist",
                                 "--ca", str(ca), "--no-check-hostname", "--debug"])
    assert result.exit_code == 7
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("celltls: error: ")


# -- integrity ---------------------------------------------------------------------------------


def test_short_body_is_exit_18_and_the_partial_file_is_removed(
    sim: VirtualModemServer, pki: PKI, ca: Path, tmp_path: Path
) -> None:
    out = tmp_path / "body"
    with ScriptedServer(pki, short_body) as server:
        result = runner.invoke(app, get_args(server.url("/f"), sim, ca, "-o", str(out)))
    assert result.exit_code == 18, result.output
    line = one_error(result)
    assert "3000 of the 10000" in line and "removed" in line
    assert not out.exists()


def test_keep_partial_keeps_what_arrived(sim: VirtualModemServer, pki: PKI, ca: Path,
                                         tmp_path: Path) -> None:
    out = tmp_path / "body"
    with ScriptedServer(pki, short_body) as server:
        result = runner.invoke(app, get_args(server.url("/f"), sim, ca, "-o", str(out),
                                             "--keep-partial"))
    assert result.exit_code == 18, result.output
    one_error(result)
    assert out.read_bytes() == b"x" * 3000


def test_garbled_chunk_header_is_an_http_error(sim: VirtualModemServer, pki: PKI, ca: Path,
                                               tmp_path: Path) -> None:
    out = tmp_path / "body"
    with ScriptedServer(pki, garbled_chunk) as server:
        result = runner.invoke(app, get_args(server.url("/f"), sim, ca, "-o", str(out)))
    assert result.exit_code == 8, result.output
    assert "malformed HTTP" in one_error(result)
    assert not out.exists()


def test_help_tells_of_keep_partial_and_the_timeouts() -> None:
    result = runner.invoke(app, ["get", "--help"], env={"COLUMNS": "200"})
    for option in ("--keep-partial", "--no-check-hostname", "--connect-timeout", "--max-time"):
        assert option in result.stdout


# -- time limits and Ctrl-C --------------------------------------------------------------------


def test_max_time_names_the_phase(sim: VirtualModemServer, pki: PKI, ca: Path,
                                  tmp_path: Path) -> None:
    silent = threading.Event()
    with ScriptedServer(pki, lambda sock: silent.wait(20)) as server:
        result = runner.invoke(app, get_args(server.url("/f"), sim, ca, "--max-time", "3",
                                             "-o", str(tmp_path / "body")))
        silent.set()
    assert result.exit_code == 28, result.output
    line = one_error(result)
    assert "--max-time 3 s" in line and "waiting for the response head" in line


def test_connect_timeout(sim: VirtualModemServer, pki: PKI, ca: Path) -> None:
    with ScriptedServer(pki, lambda sock: None, tls=False) as server:
        result = runner.invoke(app, get_args(server.url("/f"), sim, ca,
                                             "--connect-timeout", "2"))
    assert result.exit_code == 28, result.output
    line = one_error(result)
    assert "--connect-timeout 2 s" in line and "connecting" in line


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_time_limits_must_be_positive(sim: VirtualModemServer, web: LocalHTTPSServer, ca: Path,
                                      value: str) -> None:
    result = runner.invoke(app, get_args(web.url("/bytes/5"), sim, ca, "--max-time", value))
    assert result.exit_code == 43, result.output
    assert "--max-time" in one_error(result)


def test_ctrl_c_closes_the_socket_and_exits_130(sim: VirtualModemServer, pki: PKI, ca: Path,
                                                tmp_path: Path) -> None:
    main = threading.main_thread().ident
    assert main is not None and threading.current_thread() is threading.main_thread()
    silent = threading.Event()

    def interrupt(sock: socket.socket) -> None:
        signal.pthread_kill(main, signal.SIGINT)  # as Ctrl-C would, once the request is in
        silent.wait(20)

    trace = tmp_path / "trace.txt"
    out = tmp_path / "body"
    with ScriptedServer(pki, interrupt) as server:
        try:
            result = runner.invoke(app, get_args(server.url("/f"), sim, ca, "--trace",
                                                 str(trace), "-o", str(out)))
        finally:
            silent.set()
    assert result.exit_code == 130, result.output
    line = one_error(result)
    assert "interrupted (Ctrl-C)" in line
    sent = [t.split("] > ", 1)[1] for t in trace.read_text().splitlines() if "] > " in t]
    opened = [i for i, t in enumerate(sent) if t.startswith("AT+QSSLOPEN=")]
    assert opened and any(t.startswith("AT+QSSLCLOSE=") for t in sent[opened[-1]:]), sent[-5:]
    assert not out.exists()


def test_the_module_is_usable_after_a_failure(sim: VirtualModemServer, web: LocalHTTPSServer,
                                              pki: PKI, ca: Path) -> None:
    with ScriptedServer(pki, short_body) as server:
        assert runner.invoke(app, get_args(server.url("/f"), sim, ca)).exit_code == 18
    result = runner.invoke(app, get_args(web.url("/bytes/100"), sim, ca))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == deterministic_bytes(100)



def test_tls_on_the_host_checks_the_host_name_and_works(sim: VirtualModemServer,
                                                        web: LocalHTTPSServer,
                                                        ca: Path, tmp_path: Path) -> None:
    """Issue 19: --tls host runs TLS in celltls over the module's plain TCP socket, with the
    host-name check the module's own TLS lacks (the test certificate names 127.0.0.1)."""
    trace = tmp_path / "trace.txt"
    result = runner.invoke(app, ["get", web.url("/bytes/7000"), "--port", sim.url, "--dialect",
                                 "quectel-gsm", "--ca", str(ca), "--tls", "host",
                                 "--trace", str(trace)])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == deterministic_bytes(7000)
    sent = [t for t in trace.read_text().splitlines() if "] > " in t]
    assert any("+QIOPEN" in t for t in sent) and not any("+QSSLOPEN" in t for t in sent)


def test_transparent_needs_a_driver_that_has_it(sim: VirtualModemServer,
                                                web: LocalHTTPSServer, ca: Path) -> None:
    result = runner.invoke(app, ["get", web.url("/bytes/5"), "--port", sim.url, "--dialect",
                                 "sierra", "--ca", str(ca), "--transparent"])
    assert result.exit_code == 43, result.output  # UnsafeArgumentError, nothing sent
    assert "--transparent" in one_error(result)
