"""nginx on 127.0.0.1 with a test PKI's server certificate, for the end-to-end tests and the
byte-exact benchmark (the issues' "against an nginx started by hand").

``NGINX`` is the binary, or ``None`` when nginx is not installed (CI installs it: .ci/run).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from celltls.sim.httpsd import PKI

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


class NginxUnavailable(RuntimeError):
    """nginx is not installed, or did not start."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_nginx(tmp: Path, pki: PKI, www: Path, protocols: str = "TLSv1.2 TLSv1.3"
                  ) -> Iterator[int]:
    """Serve ``www`` over HTTPS on 127.0.0.1 (``/upload`` answers ``received``); yields the
    port and stops nginx at the end (SIGQUIT, then kill). ``protocols`` is nginx's
    ``ssl_protocols`` (``"TLSv1.3"``: a TLS 1.3-only server).

    Raises:
        NginxUnavailable: not installed, or it did not accept connections within 10 s.
    """
    if NGINX is None:
        raise NginxUnavailable("nginx is not installed")
    port = free_port()
    (tmp / "server.pem").write_bytes(pki.server_chain_pem)
    (tmp / "server.key").write_bytes(pki.server_key_pem)
    conf = tmp / "nginx.conf"
    # Workers of an nginx started by root drop to "nobody", who cannot read a private tmp dir.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 32; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {tmp}/server.pem;
    ssl_certificate_key {tmp}/server.key;
    ssl_protocols {protocols};
    root {www};
    location /upload {{ return 200 "received\\n"; }}
  }}
}}
""")
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-e", str(tmp / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    why = proc.stderr.read() if proc.stderr and proc.poll() is not None else b""
                    raise NginxUnavailable(f"nginx did not start: {why!r}") from None
                time.sleep(0.05)
        yield port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
