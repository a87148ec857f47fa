"""What one wake-up of a blocked thread costs in CPU on this machine (issue 17, CPU per MiB).

A paced stream stands in for a serial line at ``--baud`` (8N1: baud/10 bytes a second): a sender
thread writes 1 MiB into a local socket pair in ``--piece``-byte pieces (48 by default, about
what a USB serial adapter delivers per packet), on time. A reader thread in the same process
takes it in one of two ways:

- ``each piece``: ``select`` then ``recv``, once for every piece that has arrived (what a
  reader that waits for input does);
- ``sleep T``: the same, then ``time.sleep(T)`` before waiting again, so that each ``recv``
  takes what the line delivered meanwhile (fewer, larger reads).

For each it prints the reads, the bytes per read, the reader thread's CPU seconds
(``time.thread_time``) for the MiB and per read: the floor of what a reader that blocks costs
on this machine, next to which the AT channel's CPU per read (``wire.py``, ``at_core.py``) is
its own work.

Run from the repository root (figures in benchmarks/README.md)::

    .venv/bin/python benchmarks/wake_cost.py
    .venv/bin/python benchmarks/wake_cost.py --baud 115200 --piece 64 --sleep 0.005 0.02

Measured, never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import threading
import time

MIB = 1024 * 1024


def _send(sock: socket.socket, rate: float, piece: int, total: int) -> None:
    data = b"x" * piece
    start = time.monotonic()
    sent = 0
    while sent < total:
        due = start + sent / rate - time.monotonic()
        if due > 0:
            time.sleep(due)
        sock.sendall(data[: total - sent])
        sent += min(piece, total - sent)
    sock.close()


def run(mode: str, sleep: float, rate: float, piece: int, total: int) -> tuple[int, float, float]:
    """One transfer: ``(reads, reader CPU s, wall s)``."""
    ours, theirs = socket.socketpair()
    sender = threading.Thread(target=_send, args=(theirs, rate, piece, total), daemon=True)
    reads = 0
    got = 0
    cpu = time.thread_time()
    wall = time.monotonic()
    sender.start()
    while got < total:
        select.select([ours], [], [], 1.0)
        data = ours.recv(65536)
        if not data:
            break
        reads += 1
        got += len(data)
        if mode == "sleep":
            time.sleep(sleep)
    cpu = time.thread_time() - cpu
    wall = time.monotonic() - wall
    sender.join()
    ours.close()
    return reads, cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--baud", type=int, default=921600)
    parser.add_argument("--piece", type=int, default=48, help="bytes per write (default 48)")
    parser.add_argument("--sleep", type=float, nargs="*", default=[0.0055, 0.02],
                        help="sleeps after each read, seconds (default: 512 bytes' time at "
                        "921600 baud, 20 ms)")
    parser.add_argument("--size", type=int, default=MIB)
    args = parser.parse_args()
    rate = args.baud / 10.0
    print(f"{os.cpu_count()} CPUs; {args.size} bytes at {args.baud} baud "
          f"({args.size / rate:.1f} s of line) in {args.piece}-byte pieces\n")
    print("| reader | reads | bytes per read | reader CPU s | CPU us per read | wall s |")
    print("|---|---|---|---|---|---|")
    cases = [("each piece", "each", 0.0)]
    cases += [(f"sleep {s * 1000:g} ms", "sleep", s) for s in args.sleep]
    for label, mode, sleep in cases:
        reads, cpu, wall = run(mode, sleep, rate, args.piece, args.size)
        print(f"| {label} | {reads} | {args.size // max(reads, 1)} | {cpu:.3f} | "
              f"{cpu / max(reads, 1) * 1e6:.0f} | {wall:.1f} |")


if __name__ == "__main__":
    main()
