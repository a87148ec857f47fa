"""curl's options on ``celltls get``/``post``, in-process (typer's CliRunner) against a virtual
Quectel GSM modem (and one Sierra) and HTTPS servers on 127.0.0.1 that stop by themselves.

Each option is checked for curl's meaning (curl(1)): -X, -I, -i, -L, --max-redirs, -d (@FILE,
@-, repeated), --json, -w, -s/-S, --version, --via, --model, --ca bundles and ``certifi``.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import celltls.cli.app as cli
from celltls.cli.app import app, complete_model, write_out
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer
from tests.cli.test_cli import ScriptedServer, one_error

runner = CliRunner()


def args(url: str, sim: VirtualModemServer, ca: Path, *extra: str) -> list[str]:
    return ["get", url, "--port", sim.url, "--dialect", "quectel-gsm", "--ca", str(ca),
            "--no-check-hostname", *extra]


def read_body(sock: socket.socket, length: int) -> None:
    """Read the request body the ScriptedServer left (``length`` bytes, part of which may
    have come with the head), so that the client's send is complete before the answer."""
    sock.settimeout(2)
    got = 0
    while got < length:
        try:
            data = sock.recv(length - got)
        except OSError:
            return  # it came with the head
        if not data:
            return
        got += len(data)


def redirect_to(status: int, location: str, body: int = 0):  # type: ignore[no-untyped-def]
    def script(sock: socket.socket) -> None:
        read_body(sock, body)
        sock.sendall(f"HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0"
                     "\r\nConnection: close\r\n\r\n".encode())
    return script


# -- methods and bodies -----------------------------------------------------------------------


def test_request_sets_the_method(sim: VirtualModemServer, web: LocalHTTPSServer,
                                 ca: Path) -> None:
    result = runner.invoke(app, args(web.url("/echo"), sim, ca, "-X", "PUT", "-d", "put-body",
                                     "-w", "%{http_code} %{method}"))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"put-body200 PUT"
    result = runner.invoke(app, args(web.url("/thing"), sim, ca, "--request", "DELETE",
                                     "-w", "%{http_code}"))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"204"


def test_head_prints_the_headers_and_no_body(sim: VirtualModemServer, web: LocalHTTPSServer,
                                             ca: Path) -> None:
    result = runner.invoke(app, args(web.url("/bytes/5"), sim, ca, "-I"))
    assert result.exit_code == 0, result.output
    text = result.stdout_bytes.decode()
    assert text.startswith("HTTP/1.1 200 OK\r\n")
    assert "content-length: 5\r\n" in text.lower() and text.endswith("\r\n\r\n")


def test_include_puts_the_headers_before_the_body(sim: VirtualModemServer,
                                                  web: LocalHTTPSServer, ca: Path) -> None:
    result = runner.invoke(app, args(web.url("/bytes/7"), sim, ca, "-i"))
    assert result.exit_code == 0, result.output
    head, _, body = result.stdout_bytes.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and body == deterministic_bytes(7)


def test_data_makes_a_form_post_and_repeats_join_with_ampersand(
    sim: VirtualModemServer, web: LocalHTTPSServer, ca: Path
) -> None:
    result = runner.invoke(app, args(web.url("/echo"), sim, ca, "-d", "a=1", "--data", "b=2",
                                     "-i"))
    assert result.exit_code == 0, result.output
    head, _, body = result.stdout_bytes.partition(b"\r\n\r\n")
    assert body == b"a=1&b=2"
    assert b"content-type: application/x-www-form-urlencoded" in head.lower()


def test_data_from_stdin_and_from_a_file(sim: VirtualModemServer, web: LocalHTTPSServer,
                                         ca: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["post", *args(web.url("/echo"), sim, ca, "-d", "@-")[1:]],
                           input=b"from stdin\n")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"from stdin\n"
    upload = tmp_path / "up.bin"
    upload.write_bytes(deterministic_bytes(3000))
    result = runner.invoke(app, args(web.url("/echo"), sim, ca, "--data-binary", f"@{upload}",
                                     "-w", "%{size_upload}"))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == deterministic_bytes(3000) + b"3000"


def test_unreadable_data_file_is_exit_26(sim: VirtualModemServer, web: LocalHTTPSServer,
                                         ca: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, args(web.url("/echo"), sim, ca, "-d", f"@{tmp_path}/none"))
    assert result.exit_code == 26, result.output
    assert "cannot read" in one_error(result)


def test_json_sets_content_type_accept_and_post(sim: VirtualModemServer, pki: PKI,
                                                ca: Path) -> None:
    def answer(sock: socket.socket) -> None:
        read_body(sock, 8)
        sock.sendall(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 12\r\nConnection: close\r\n\r\n{\"ok\": true}")

    with ScriptedServer(pki, answer) as server:
        result = runner.invoke(app, args(server.url("/api"), sim, ca, "--json", '{"a":',
                                         "--json", " 1}", "-w", " %{http_code}"))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b'{"ok": true} 201'
    head = server.requests[0].decode().lower()
    assert head.startswith("post /api http/1.1")
    assert "content-type: application/json" in head and "accept: application/json" in head
    assert "content-length: 8" in head


@pytest.mark.parametrize("extra", [["-d", "x"], ["-X", "POST"]])
def test_head_with_another_method_is_exit_2(sim: VirtualModemServer, web: LocalHTTPSServer,
                                            ca: Path, extra: list[str]) -> None:
    result = runner.invoke(app, args(web.url("/bytes/5"), sim, ca, "-I", *extra))
    assert result.exit_code == 2, result.output
    assert "two methods" in one_error(result)


def test_json_and_data_together_is_exit_2(sim: VirtualModemServer, web: LocalHTTPSServer,
                                          ca: Path) -> None:
    result = runner.invoke(app, args(web.url("/echo"), sim, ca, "-d", "a", "--json", "{}"))
    assert result.exit_code == 2
    one_error(result)


# -- redirects ---------------------------------------------------------------------------------


def test_location_follows_to_another_server(sim: VirtualModemServer, web: LocalHTTPSServer,
                                            pki: PKI, ca: Path) -> None:
    final = web.url("/bytes/100")
    with ScriptedServer(pki, redirect_to(302, final)) as server:
        result = runner.invoke(app, args(server.url("/start"), sim, ca, "-L", "-w",
                                         "\\n%{num_redirects} %{url_effective} %{http_code}"))
    assert result.exit_code == 0, result.output
    body, _, written = result.stdout_bytes.rpartition(b"\n")
    assert body == deterministic_bytes(100)
    assert written.decode() == f"1 {final} 200"


def test_without_location_the_redirect_is_the_answer(sim: VirtualModemServer, pki: PKI,
                                                     ca: Path) -> None:
    with ScriptedServer(pki, redirect_to(301, "/elsewhere")) as server:
        result = runner.invoke(app, args(server.url("/start"), sim, ca, "-w", "%{http_code}"))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"301"
    assert len(server.requests) == 1


def test_303_turns_a_post_into_a_get(sim: VirtualModemServer, web: LocalHTTPSServer, pki: PKI,
                                     ca: Path) -> None:
    with ScriptedServer(pki, redirect_to(303, web.url("/headers"), 3)) as server:
        result = runner.invoke(app, args(server.url("/form"), sim, ca, "-L", "-d", "x=1",
                                         "-H", "X-Keep: yes", "-w", "\n%{method}"))
    assert result.exit_code == 0, result.output
    body, _, method = result.stdout_bytes.rpartition(b"\n")
    assert method == b"GET"
    sent = {k.lower(): v for k, v in json.loads(body).items()}
    assert sent["x-keep"] == "yes" and "content-type" not in sent
    assert server.requests[0].startswith(b"POST /form ")


def test_307_repeats_the_post_and_its_body(sim: VirtualModemServer, web: LocalHTTPSServer,
                                           pki: PKI, ca: Path) -> None:
    with ScriptedServer(pki, redirect_to(307, web.url("/echo"), 5)) as server:
        result = runner.invoke(app, args(server.url("/form"), sim, ca, "-L", "-d", "again"))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == b"again"


def test_another_host_gets_no_credentials(sim: VirtualModemServer, web: LocalHTTPSServer,
                                          pki: PKI, ca: Path) -> None:
    with ScriptedServer(pki, redirect_to(302, web.url("/headers"))) as server:
        result = runner.invoke(app, args(server.url("/"), sim, ca, "-L", "-H",
                                         "Authorization: Bearer secret", "-H", "X-Other: 1"))
    assert result.exit_code == 0, result.output
    sent = {k.lower() for k in json.loads(result.stdout_bytes)}
    assert "x-other" in sent and "authorization" not in sent
    assert b"Bearer secret" in server.requests[0]


def test_redirect_to_http_is_refused(sim: VirtualModemServer, pki: PKI, ca: Path) -> None:
    with ScriptedServer(pki, redirect_to(302, "http://127.0.0.1:9/plain")) as server:
        result = runner.invoke(app, args(server.url("/"), sim, ca, "-L"))
    assert result.exit_code == 1, result.output
    line = one_error(result)
    assert "http://127.0.0.1:9/plain" in line and "not https" in line


def test_max_redirs_is_exit_47(sim: VirtualModemServer, pki: PKI, ca: Path) -> None:
    with ScriptedServer(pki, redirect_to(302, "/again")) as server:
        result = runner.invoke(app, args(server.url("/"), sim, ca, "-L", "--max-redirs", "2",
                                         "-w", "%{exitcode} %{num_redirects}"))
    assert result.exit_code == 47, result.output
    assert "maximum (2) redirects" in one_error(result)
    assert result.stdout_bytes == b"47 2"
    assert len(server.requests) == 3


# -- write-out, silence ------------------------------------------------------------------------


def test_write_out_after_a_failure_and_from_a_file(sim: VirtualModemServer,
                                                   web: LocalHTTPSServer, ca: Path,
                                                   tmp_path: Path) -> None:
    fmt = tmp_path / "fmt"
    fmt.write_text("%{http_code} %{exitcode} %{size_download} %header{content-type}%%\\t.")
    result = runner.invoke(app, args(web.url("/status/404"), sim, ca, "-f", "-w", f"@{fmt}"))
    assert result.exit_code == 22
    assert result.stdout_bytes == b"404 22 0 text/plain%\t."


def test_write_out_expands_curl_variables() -> None:
    stats = cli._Stats(url="https://h/x", method="GET", http_code=200, size_download=12,
                       exitcode=0)
    text = write_out("%{http_code}|%{size_download}|%{url_effective}|%{exitcode}|"
                     "%{time_total}|%{nope}|\\n", stats)
    code, size, url, exitcode, total, unknown, newline = text.split("|")
    assert (code, size, url, exitcode, unknown, newline) == ("200", "12", "https://h/x", "0",
                                                             "", "\n")
    assert float(total) >= 0 and len(total.split(".")[1]) == 6


def test_silent_hides_the_error_line_and_show_error_brings_it_back(ca: Path) -> None:
    base = ["get", "https://x/", "--port", "/dev/does-not-exist", "--ca", str(ca),
            "--no-check-hostname"]
    result = runner.invoke(app, [*base, "-s"])
    assert result.exit_code == 7 and result.stderr == ""
    result = runner.invoke(app, [*base, "-s", "-S"])
    assert result.exit_code == 7
    assert "cannot open" in one_error(result)


def test_progress_bars_for_upload_and_download(sim: VirtualModemServer, web: LocalHTTPSServer,
                                               ca: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(cli, "_err", lambda: Console(file=screen, force_terminal=True, width=100))
    monkeypatch.setenv("TTY_INTERACTIVE", "1")  # stderr is no terminal under CliRunner
    upload = tmp_path / "up.bin"
    upload.write_bytes(deterministic_bytes(200_000))
    result = runner.invoke(app, args(web.url("/echo"), sim, ca, "-d", f"@{upload}"))
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == upload.read_bytes()
    assert "upload" in screen.getvalue() and "download" in screen.getvalue()
    screen.truncate(0)
    result = runner.invoke(app, args(web.url("/echo"), sim, ca, "-s", "-d", f"@{upload}"))
    assert result.exit_code == 0 and screen.getvalue() == ""


def test_no_progress_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TTY_INTERACTIVE", "1")  # rich's console decides
    bars = cli._Bars(lambda: Console(file=io.StringIO(), force_terminal=False), enabled=True)
    assert bars.task("download", None) is None


def test_progress_bars_make_no_console_when_stderr_is_not_a_terminal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """rich is not even imported for a transfer whose stderr is a file or pipe (issue 17)."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())

    def no_console() -> Console:
        raise AssertionError("a console was made for a stderr that is no terminal")

    bars = cli._Bars(no_console, enabled=True)
    assert bars.task("download", None) is None
    assert bars.task("upload", 10 * cli.PROGRESS_THRESHOLD) is None


# -- version, help, completion, usage errors ---------------------------------------------------


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith("celltls 0.1") and "quectel-gsm" in result.stdout
    done = subprocess.run([sys.executable, "-m", "celltls", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("celltls ")


def test_a_usage_error_is_one_line_with_exit_2() -> None:
    done = subprocess.run([sys.executable, "-m", "celltls", "get", "https://x/", "--port", "p",
                           "--bogus"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("celltls: error: No such option: --bogus")
    assert "Traceback" not in done.stderr


def test_help_lists_dialects_models_and_completion() -> None:
    result = runner.invoke(app, ["get", "--help"], env={"COLUMNS": "250"})
    for text in ("quectel-gsm", "sierra", "hl7800", "M66", "--via", "--max-redirs", "-w"):
        assert text in result.stdout, text
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "250"})
    assert "--install-completion" in result.stdout
    assert complete_model("hl") == ["hl7800"]


# -- dialects, models, via ---------------------------------------------------------------------


def test_model_and_native_http_on_sierra(pki: PKI, ca: Path) -> None:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as srv, \
            VirtualModemServer("sierra", model="hl7800") as sierra:
        trace = ca.parent / "trace.txt"
        result = runner.invoke(app, ["get", srv.url("/bytes/300"), "--port", sierra.url,
                                     "--dialect", "sierra", "--model", "hl7800", "--via",
                                     "native", "--ca", str(ca), "--no-check-hostname",
                                     "--trace", str(trace)])
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == deterministic_bytes(300)
    assert "AT+KHTTPGET" in trace.read_text()


def test_unknown_model_is_refused_before_the_port(ca: Path) -> None:
    result = runner.invoke(app, ["get", "https://x/", "--port", "/dev/does-not-exist", "--ca",
                                 str(ca), "--no-check-hostname", "--model", "Z9"])
    assert result.exit_code == 43, result.output
    line = one_error(result)
    assert "Z9" in line and "hl7800" in line


def test_native_on_a_module_without_an_http_client(sim: VirtualModemServer,
                                                   web: LocalHTTPSServer, ca: Path) -> None:
    result = runner.invoke(app, args(web.url("/bytes/5"), sim, ca, "--via", "native"))
    assert result.exit_code != 0
    one_error(result)
    result = runner.invoke(app, args(web.url("/bytes/5"), sim, ca, "--via", "socket"))
    assert result.exit_code == 0 and result.stdout_bytes == deterministic_bytes(5)


# -- --ca bundles ------------------------------------------------------------------------------


def test_ca_bundle_picks_the_root_that_issued_the_chain(sim: VirtualModemServer,
                                                       web: LocalHTTPSServer, pki: PKI,
                                                       tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(make_pki().ca_pem + make_pki().ca_pem + pki.ca_pem)
    trace = tmp_path / "trace.txt"
    result = runner.invoke(app, args(web.url("/bytes/50"), sim, bundle, "--trace", str(trace)))
    assert result.exit_code == 0, result.output
    # verification on: the module verified the chain with the root picked from the bundle
    assert result.stdout_bytes == deterministic_bytes(50)
    assert "+QSECWRITE" in trace.read_text()


def test_ca_bundle_without_the_issuer_is_exit_60_before_the_module(
    sim: VirtualModemServer, web: LocalHTTPSServer, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(make_pki().ca_pem + make_pki().ca_pem)
    trace = tmp_path / "trace.txt"
    result = runner.invoke(app, args(web.url("/bytes/5"), sim, bundle, "--trace", str(trace)))
    assert result.exit_code == 60, result.output
    assert "no certificate of" in one_error(result)
    assert not trace.exists()


def test_ca_certifi_is_understood_and_its_warnings_stay_quiet(
    sim: VirtualModemServer, web: LocalHTTPSServer
) -> None:
    result = runner.invoke(app, ["get", web.url("/bytes/5"), "--port", sim.url, "--ca",
                                 "certifi", "--no-check-hostname"])
    assert result.exit_code == 60, result.output  # the test CA is not one of Mozilla's roots
    assert "certifi" in one_error(result)
    assert "Warning" not in result.stderr and "serial number" not in result.stderr


def test_ca_bundle_and_unreachable_server_says_so(sim: VirtualModemServer,
                                                  tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(make_pki().ca_pem + make_pki().ca_pem)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = runner.invoke(app, args(f"https://127.0.0.1:{port}/", sim, bundle))
    assert result.exit_code == 4, result.output
    assert "holds 2 CA certificates" in one_error(result)


def test_a_redirect_to_another_host_is_verified_again(sim: VirtualModemServer, pki: PKI,
                                                     tmp_path: Path) -> None:
    """The first server and the one it redirects to have different roots: from a bundle of
    both, each gets its own (picked again for the new host, verified by the module); with the
    first root alone, the second server is refused (exit 60)."""
    other = make_pki()
    both = tmp_path / "both.pem"
    both.write_bytes(pki.ca_pem + other.ca_pem)
    first = tmp_path / "first.pem"
    first.write_bytes(pki.ca_pem)
    with LocalHTTPSServer(cert_chain_pem=other.server_chain_pem,
                          key_pem=other.server_key_pem) as second, \
            ScriptedServer(pki, redirect_to(302, second.url("/bytes/40"))) as server:
        result = runner.invoke(app, args(server.url("/"), sim, both, "-L"))
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == deterministic_bytes(40)
        result = runner.invoke(app, args(server.url("/"), sim, first, "-L", "-w",
                                         "%{num_redirects}"))
    assert result.exit_code == 60, result.output
    one_error(result)
    assert result.stdout_bytes == b"1"


def test_verbose_says_what_module_was_identified(sim: VirtualModemServer,
                                                 web: LocalHTTPSServer, ca: Path) -> None:
    result = runner.invoke(app, ["get", web.url("/bytes/5"), "--port", sim.url, "--ca", str(ca),
                                 "--no-check-hostname", "-v"])
    assert result.exit_code == 0, result.output
    assert "module identified as quectel-gsm" in result.stderr


@pytest.mark.parametrize(("option", "mode"), [((), "1"), (("--no-transparent",), "0")])
def test_transparent_mode_is_the_default_where_the_module_prefers_it(
        sim: VirtualModemServer, web: LocalHTTPSServer, ca: Path, tmp_path: Path,
        option: tuple[str, ...], mode: str) -> None:
    """``get`` sends ``Connection: close`` (one request), so a module that prefers transparent
    mode for such a request opens it so (Quectel GSM: ``AT+QSSLOPEN`` connectmode 1, SSL-AN
    2.2.2) and the server's close ends it; ``--no-transparent`` keeps ``AT+QSSLRECV``."""
    from celltls.trace import read_text

    trace, out = tmp_path / "trace.txt", tmp_path / "body"
    result = runner.invoke(app, args(web.url("/bytes/30000?seed=8"), sim, ca, *option,
                                     "--trace", str(trace), "-o", str(out)))
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == deterministic_bytes(30000, seed=8)
    records = read_text(trace.read_text()).records
    opens = [r.text for r in records if r.direction == ">" and r.text.startswith("AT+QSSLOPEN")]
    assert [line.split(",")[4] for line in opens] == [mode]
    heads = [r.data for r in records if r.direction == ">>" and r.data.startswith(b"GET ")]
    assert len(heads) == 1 and b"\r\nConnection: close\r\n" in heads[0]
    assert not any(r.direction == ">>" and r.data == b"+++" for r in records)
