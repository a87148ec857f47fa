"""CLI start-up and the channel's close (issue 17).

Run from the repository root: ``.venv/bin/python benchmarks/startup.py`` (``--runs N``, default
9). Prints Markdown tables; the numbers in benchmarks/README.md come from it. Measured, never
asserted in tests.

- start-up: wall seconds of ``python -m celltls --version``, ``celltls --version`` and
  ``celltls --help`` as new processes (after one warm-up run each; min, median and max of
  ``--runs``), next to ``python -c pass`` (the interpreter alone), ``python -c "import
  celltls"`` (the package's own imports) and ``celltls.cli:main`` (what the script runs once
  installed with that entry point). The children cache their bytecode in a temporary
  directory (``PYTHONPYCACHEPREFIX``, whatever ``PYTHONDONTWRITEBYTECODE`` says), as an
  installed package has its ``.pyc`` files; ``--no-bytecode`` compiles celltls's sources in
  every run instead;
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
import tempfile
import threading
import time
from pathlib import Path

from celltls.at.channel import ATChannel


def wall(command: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    subprocess.run(command, check=True, capture_output=True, env=env)  # warm-up
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return times


def bench_startup(runs: int, bytecode: bool = True) -> None:
    python = sys.executable
    script = shutil.which("celltls", path=str(Path(python).parent)) or "celltls"
    rows = [
        ("python -c pass", [python, "-c", "pass"], "-"),
        ('python -c "import celltls"', [python, "-c", "import celltls"], "-"),
        ("python -m celltls --version", [python, "-m", "celltls", "--version"], "<= 0.15 s"),
        ("celltls --version", [script, "--version"], "<= 0.15 s"),
        ("celltls.cli:main --version", [python, "-c", "from celltls.cli import main; main()",
                                        "--version"], "-"),
        ("celltls --help", [script, "--help"], "<= 0.15 s"),
    ]
    with tempfile.TemporaryDirectory(prefix="celltls-pyc-") as cache:
        env = dict(os.environ)
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env.pop("PYTHONPYCACHEPREFIX", None)
        _startup_table(rows, runs, env)


def _startup_table(rows: list[tuple[str, list[str], str]], runs: int,
                   env: dict[str, str]) -> None:
    print("| command | min | median | max | target |")
    print("|---|---|---|---|---|")
    for label, command, target in rows:
        times = wall(command, runs, env)
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
    parser.add_argument("--no-bytecode", action="store_true",
                        help="compile the sources in every run (no .pyc cache)")
    parser.add_argument("--only", choices=("startup", "close"), help="run one table")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    if args.only != "close":
        cached = "no .pyc cache" if args.no_bytecode else ".pyc cached"
        print(f"CLI start-up, wall time of a new process ({cached})\n")
        bench_startup(args.runs, bytecode=not args.no_bytecode)
    if args.only != "startup":
        print("\nATChannel.close()\n")
        bench_close(args.runs)


if __name__ == "__main__":
    main()
