"""The issue's acceptance run: ``celltls get``/``post`` against nginx through ``celltls sim``.

Both programs run as separate processes, as a user runs them. Skipped when nginx is not
installed (CI installs it, see .ci/run).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from celltls.sim.httpsd import PKI

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
CELLTLS = [sys.executable, "-m", "celltls.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def nginx(tmp_path: Path, pki: PKI) -> Iterator[tuple[int, Path]]:
    if NGINX is None:
        pytest.skip("nginx is not installed")
    port = free_port()
    (tmp_path / "ca.pem").write_bytes(pki.ca_pem)
    (tmp_path / "server.pem").write_bytes(pki.server_chain_pem)
    (tmp_path / "server.key").write_bytes(pki.server_key_pem)
    www = tmp_path / "www"
    www.mkdir()
    (www / "file").write_bytes(os.urandom(256 * 1024 + 17))
    conf = tmp_path / "nginx.conf"
    # Workers of an nginx started by root drop to "nobody", who cannot read pytest's tmp dir.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 32; }}
http {{
  access_log off;
  client_body_temp_path {tmp_path}/body;
  proxy_temp_path {tmp_path}/proxy;
  fastcgi_temp_path {tmp_path}/fastcgi;
  uwsgi_temp_path {tmp_path}/uwsgi;
  scgi_temp_path {tmp_path}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {tmp_path}/server.pem;
    ssl_certificate_key {tmp_path}/server.key;
    root {www};
    location /upload {{ return 200 "received\\n"; }}
  }}
}}
""")
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-e", str(tmp_path / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.skip(f"nginx did not start: {proc.stderr.read() if proc.stderr else ''!r}")
            time.sleep(0.05)
    try:
        yield port, tmp_path
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(params=["quectel-gsm", "sierra"])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sim_process(dialect: str) -> Iterator[str]:
    proc = subprocess.Popen([*CELLTLS, "sim", dialect, "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    address = proc.stdout.readline().strip()
    try:
        assert address.startswith("socket://"), address
        yield address
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_get_and_post_through_celltls_sim(nginx: tuple[int, Path], sim_process: str,
                                          dialect: str) -> None:
    port, tmp = nginx
    out = tmp / "got"
    got = subprocess.run(
        [*CELLTLS, "get", f"https://127.0.0.1:{port}/file", "--port", sim_process,
         "--dialect", dialect, "--ca", str(tmp / "ca.pem"), "--no-check-hostname", "-o",
         str(out), "--fail"],
        capture_output=True, timeout=300,
    )
    assert got.returncode == 0, got.stderr
    data, sent = out.read_bytes(), (tmp / "www" / "file").read_bytes()
    assert len(data) == len(sent), (len(data), len(sent), data[:200])
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(
        (tmp / "www" / "file").read_bytes()
    ).digest()
    posted = subprocess.run(
        [*CELLTLS, "post", f"https://127.0.0.1:{port}/upload", "--port", sim_process,
         "--dialect", dialect, "--ca", str(tmp / "ca.pem"), "--no-check-hostname", "--data",
         "hello --EOF--Pattern-- \r\nOK\r\n"],
        capture_output=True, timeout=300,
    )
    assert posted.returncode == 0, posted.stderr
    assert posted.stdout == b"received\n"


def test_wrong_ca_is_one_clear_line_and_exit_60(nginx: tuple[int, Path], sim_process: str,
                                                 other_pki: PKI, dialect: str) -> None:
    port, tmp = nginx
    (tmp / "other.pem").write_bytes(other_pki.ca_pem)
    result = subprocess.run(
        [*CELLTLS, "get", f"https://127.0.0.1:{port}/file", "--port", sim_process,
         "--dialect", dialect, "--ca", str(tmp / "other.pem"), "--no-check-hostname"],
        capture_output=True, timeout=300, text=True,
    )
    assert result.returncode == 60  # curl: peer certificate cannot be authenticated
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("celltls:")]
    assert len(errors) == 1 and errors[0].startswith("celltls: error:"), result.stderr
    assert "could not verify the certificate" in errors[0]
    assert "Traceback" not in result.stderr


def test_default_profile_is_refused_before_connecting(nginx: tuple[int, Path],
                                                      sim_process: str, dialect: str) -> None:
    """Neither module's TLS can check host names: without --no-check-hostname, one line that
    says so and offers the ways out; exit 4 (ProfileError)."""
    port, tmp = nginx
    result = subprocess.run(
        [*CELLTLS, "get", f"https://127.0.0.1:{port}/file", "--port", sim_process,
         "--dialect", dialect, "--ca", str(tmp / "ca.pem")],
        capture_output=True, timeout=300, text=True,
    )
    assert result.returncode == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "'127.0.0.1'" in lines[0] and "--no-check-hostname" in lines[0]
    assert "--insecure" in lines[0]
