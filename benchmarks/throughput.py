"""HTTPS download throughput and memory through the virtual Quectel GSM modem.

Run from the repository root: ``.venv/bin/python benchmarks/throughput.py``. Prints a Markdown
table; the numbers in benchmarks/README.md come from it. Measured, never asserted in tests.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
import tracemalloc
from multiprocessing.connection import Connection

from celltls import Certificate, Modem, TlsProfile
from celltls.sim.httpsd import LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer


def serve(baudrate: int | None, pipe: Connection) -> None:
    """The HTTPS server and the virtual modem, in a process of their own so that only the
    library's memory is measured."""
    pki = make_pki()
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as web, \
            VirtualModemServer("quectel-gsm", baudrate=baudrate) as sim:
        pipe.send((sim.url, web.url(""), pki.ca_pem))
        pipe.recv()


def run(size: int, baudrate: int | None) -> tuple[float, int, bool]:
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(baudrate, child), daemon=True)
    server.start()
    sim_url, base, ca_pem = parent.recv()
    try:
        return measure(sim_url, base, ca_pem, size, baudrate)
    finally:
        parent.send("stop")
        server.join(timeout=10)


def measure(sim_url: str, base: str, ca_pem: bytes, size: int,
            baudrate: int | None) -> tuple[float, int, bool]:
    profile = TlsProfile(ca=Certificate.from_pem(ca_pem))
    with Modem(sim_url, "quectel-gsm", baudrate=baudrate or 115200) as modem:
        modem.attach()
        modem.credentials.store_ca(profile.ca)  # type: ignore[arg-type]
        digest = hashlib.sha256()
        tracemalloc.start()
        start = time.perf_counter()
        response = modem.request("GET", f"{base}/bytes/{size}", profile=profile)
        for chunk in response.iter_bytes():
            digest.update(chunk)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        ok = digest.digest() == hashlib.sha256(deterministic_bytes(size)).digest()
        return elapsed, peak, ok


def main() -> None:
    print("| body | line | time | throughput | peak Python memory while streaming | intact |")
    print("|---|---|---|---|---|---|")
    for size, baud in ((1024 * 1024, None), (8 * 1024 * 1024, None), (64 * 1024, 115200),
                       (64 * 1024, 921600)):
        elapsed, peak, ok = run(size, baud)
        line = f"{baud} bit/s" if baud else "unpaced"
        print(f"| {size // 1024} KiB | {line} | {elapsed:.2f} s | "
              f"{size / elapsed / 1024:.0f} KiB/s | {peak / 1024:.0f} KiB | {ok} |")


if __name__ == "__main__":
    main()
