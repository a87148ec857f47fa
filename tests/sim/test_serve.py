"""serve.run(): the first line on stdout is the address; SIGTERM stops it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time


def test_run_prints_address_and_stops_on_sigterm() -> None:
    code = "from celltls.sim.serve import run; run('quectel-gsm', guard_time=0.2)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("socket://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(b"ATE0\r")
            data = b""
            while not data.endswith(b"OK\r\n"):
                data += conn.recv(100)
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert time.monotonic() - start < 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
