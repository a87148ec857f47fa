"""CLI start-up and the channel's close (issue 17).

Run from the repository root: ``.venv/bin/python benchmarks/startup.py`` (``--runs N``, default
9). Prints Markdown tables; the numbers in benchmarks/README.md come from it. Measured, never
asserted in tests.

- start-up: wall seconds of ``python -m celltls --version`` and ``celltls --help`` as new
  processes (after one warm-up run each), next to ``python -c pass`` (the interpreter alone),
  and the same for ``python -c "import celltls"`` (the package's own imports);
- close: wall seconds of :meth:`ATChannel.close` on a ``socket://`` port (a local TCP
  listener) and on a pty, the part of a CLI run's exit that the channel owns.
"""

from __future__ import annotations

import argparse
import os
import pty
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from celltls.at.channel import ATChannel


def wall(command: list[str], runs: int) -> list[float]:
    subprocess.run(command, check=True, capture_output=True)  # warm-up
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def bench_startup(runs: int) -> None:
    python = sys.executable
    script = shutil.which("celltls", path=str(Path(python).parent)) or "celltls"
    rows = [
        ("python -c pass", [python, "-c", "pass"], "-"),
        ('python -c "import celltls"', [python, "-c", "import celltls"], "-"),
        ("python -m celltls --version", [python, "-m", "celltls", "--version"], "<= 0.15 s"),
        ("celltls --help", [script, "--help"], "<= 0.15 s"),
    ]
    print("| command | min | median | max | target |")
    print("|---|---|---|---|---|")
    for label, command, target in rows:
        times = wall(command, runs)
        print(
            f"| `{label}` | {min(times):.3f} s | {statistics.median(times):.3f} s"
            f" | {max(times):.3f} s | {target} |"
        )


def _accept(server: socket.socket, into: list[socket.socket]) -> None:
    into.append(server.accept()[0])


def close_socket(runs: int) -> list[float]:
    times: list[float] = []
    with socket.create_server(("127.0.0.1", 0)) as server:
        url = f"socket://127.0.0.1:{server.getsockname()[1]}"
        for _ in range(runs):
            accepted: list[socket.socket] = []
            acceptor = threading.Thread(target=_accept, args=(server, accepted))
            acceptor.start()
            channel = ATChannel(url)
            acceptor.join(5)
            time.sleep(0.05)  # the reader is waiting in select()
            start = time.perf_counter()
            channel.close()
            times.append(time.perf_counter() - start)
            for conn in accepted:
                conn.close()
    return times


def close_pty(runs: int) -> list[float]:
    times: list[float] = []
    for _ in range(runs):
        master, slave = pty.openpty()
        name = os.ttyname(slave)
        channel = ATChannel(name)
        time.sleep(0.05)
        start = time.perf_counter()
        channel.close()
        times.append(time.perf_counter() - start)
        os.close(slave)
        os.close(master)
    return times


def bench_close(runs: int) -> None:
    print("| port | min | median | max | target |")
    print("|---|---|---|---|---|")
    for label, times in (("socket://", close_socket(runs)), ("pty", close_pty(runs))):
        print(
            f"| {label} | {min(times) * 1000:.1f} ms | {statistics.median(times) * 1000:.1f} ms"
            f" | {max(times) * 1000:.1f} ms | no sleep |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("CLI start-up, wall time of a new process\n")
    bench_startup(args.runs)
    print("\nATChannel.close()\n")
    bench_close(args.runs)


if __name__ == "__main__":
    main()
