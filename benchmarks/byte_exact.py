"""`celltls get` of 1 MiB, N times per dialect and baud rate: byte-exact or not (issue 12).

Each run is the CLI as a user runs it: `celltls sim DIALECT --baudrate B` in a process of its own,
a relay on 127.0.0.1 between the CLI and the virtual modem that forwards in random 1-97-byte
pieces (as a USB-serial adapter delivers bytes in other chunks than they were written), a local
HTTPS server, then `celltls get ... -o FILE` in a new process and the file's SHA-256 compared.
The virtual modem stays up between runs, so run N+1 also finds whatever run N left behind.

Run from the repository root::

    .venv/bin/python benchmarks/byte_exact.py --runs 20 --baud 115200 921600 \
        --dialect quectel-gsm sierra [--nginx]

The module's own TLS (``--tls module``) with the host-name check wherever the module can do it
(``--no-check-hostname`` only where its capabilities say it cannot).

Prints one Markdown row per (dialect, baud rate). Measured, never asserted in the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.nginx import running_nginx

from celltls.dialects import registry
from celltls.sim.httpsd import PKI, LocalHTTPSServer, deterministic_bytes, make_pki

BIN = Path(sys.executable).parent


class ChunkingRelay:
    """A TCP relay that forwards both ways in random small pieces (1-97 bytes) and counts the
    bytes per direction (``to_module``, ``to_host``)."""

    def __init__(self, target: tuple[str, int], seed: int) -> None:
        self.target = target
        self.random = random.Random(seed)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.to_module = 0  # bytes forwarded host -> module, all connections
        self.to_host = 0  # bytes forwarded module -> host
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for end in (client, upstream):  # no Nagle delay (40 ms a round trip) on the pieces
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while not self.stop.is_set():
                ready, _, _ = select.select(list(peers), [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is a:
                        self.to_module += len(data)
                    else:
                        self.to_host += len(data)
                    while data:
                        cut = self.random.randint(1, 97)
                        peers[sock].sendall(data[:cut])
                        data = data[cut:]
        except OSError:
            return
        finally:
            a.close()
            b.close()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def start_sim(dialect: str, baud: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [str(BIN / "celltls"), "sim", dialect, "--listen", "127.0.0.1:0", "--baudrate", str(baud)],
        stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def name_check(dialect: str) -> list[str]:
    """``--no-check-hostname`` where the module's TLS cannot check host names (its
    capabilities say so); nothing where it can, so that the name is checked."""
    caps = registry.capabilities(dialect)
    return [] if caps is not None and caps.hostname_check else ["--no-check-hostname"]


def one_run(dialect: str, relay_port: int, url: str, ca: Path, out: Path,
            expected: bytes, extra: list[str]) -> tuple[bool, int, str, float]:
    out.unlink(missing_ok=True)
    start = time.monotonic()
    done = subprocess.run(
        [str(BIN / "celltls"), "get", url, "--port", f"socket://127.0.0.1:{relay_port}",
         "--dialect", dialect, "--ca", str(ca), "--tls", "module", *name_check(dialect),
         *extra, "-o", str(out)],
        capture_output=True, text=True, timeout=1800)
    elapsed = time.monotonic() - start
    got = hashlib.sha256(out.read_bytes()).digest() if out.exists() else b""
    errors = [line for line in done.stderr.splitlines() if line.startswith("celltls: error:")]
    return got == expected, done.returncode, (errors or [""])[-1], elapsed


def serve_body(stack: contextlib.ExitStack, tmp: Path, pki: PKI, size: int, nginx: bool) -> str:
    """Start an HTTPS server (nginx, or the Python test server) on 127.0.0.1 that serves
    ``deterministic_bytes(size)``, stopped when ``stack`` closes; returns the body's URL."""
    if nginx:
        www = tmp / "www"
        www.mkdir()
        (www / "file").write_bytes(deterministic_bytes(size))
        port = stack.enter_context(running_nginx(tmp, pki, www))
        return f"https://127.0.0.1:{port}/file"
    web = stack.enter_context(LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem,
                                               key_pem=pki.server_key_pem))
    return web.url(f"/bytes/{size}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", type=int, default=1024 * 1024)
    parser.add_argument("--baud", type=int, nargs="+", default=[115200, 921600])
    parser.add_argument("--dialect", nargs="+", default=["quectel-gsm", "sierra"])
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--get-option", action="append", default=[], metavar="OPTION",
                        help="an option added to `celltls get` (repeat), e.g. --transparent")
    parser.add_argument("--nginx", action="store_true",
                        help="serve the body from nginx instead of the Python test server")
    args = parser.parse_args()
    pki = make_pki(key_type="rsa")
    expected = hashlib.sha256(deterministic_bytes(args.size)).digest()
    print("| dialect | line | runs | byte-exact | failures (exit code: last line) | time per run |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        ca = Path(tmp) / "ca.pem"
        ca.write_bytes(pki.ca_pem)
        out = Path(tmp) / "download"
        url = serve_body(stack, Path(tmp), pki, args.size, args.nginx)
        for dialect in args.dialect:
            for baud in args.baud:
                sim, address = start_sim(dialect, baud)
                host, port = address.removeprefix("socket://").rsplit(":", 1)
                relay = ChunkingRelay((host, int(port)), args.seed)
                exact, failures, times = 0, [], []
                try:
                    for _ in range(args.runs):
                        ok, code, last, elapsed = one_run(dialect, relay.port, url, ca, out,
                                                          expected, args.get_option)
                        times.append(elapsed)
                        if ok and code == 0:
                            exact += 1
                        else:
                            failures.append(f"{code}: {last}")
                        print(f"  {dialect} {baud}: {'exact' if ok else 'FAILED'} exit {code} "
                              f"{elapsed:.1f} s {last}", file=sys.stderr, flush=True)
                finally:
                    relay.close()
                    sim.terminate()
                    sim.wait(timeout=10)
                summary = "; ".join(sorted(set(failures))) or "-"
                print(f"| {dialect} | {baud} bit/s | {args.runs} | {exact} | {summary} | "
                      f"{sum(times) / len(times):.1f} s |", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
