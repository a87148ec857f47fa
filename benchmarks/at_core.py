"""The AT core's cost: parser throughput, CPU per command, transcript cost (issue 17).

Run from the repository root: ``.venv/bin/python benchmarks/at_core.py`` (``--only parser``,
``command`` or ``transcript`` for one table; ``--repeat N`` for more runs, the best is shown).
Prints Markdown tables; the numbers in benchmarks/README.md come from it. Measured, never
asserted in tests.

- parser: :meth:`ATProtocol.receive_data` fed a stream of Quectel ``+QSSLRECV`` data blocks
  (1500 bytes of payload each, then ``OK``, the way ``AT+QSSLRECV`` answers: Quectel GSM SSL
  Application Note V3.3, 2.2.4) in 64-byte and 64-KiB chunks; MB/s of stream bytes (10^6);
  and random bytes in transparent mode (``CLOSED`` armed as the exit marker).
- command: CPU seconds (this process, all threads: ``time.process_time``) per
  ``channel.command("AT+CSQ")`` against a fake modem in a child process on a pty, next to a bare
  pyserial loop (write the line, bulk-read until ``OK``) on the same pty in the same run; the
  ratio is what counts on a shared machine. A third loop, a bare two-thread hand-off (a reader
  thread selects and reads until ``OK`` and wakes the caller; no parsing), shows what any
  design that reads answers on another thread than the caller's pays per command.
- transcript: seconds per MiB of data-phase bytes written by :class:`TranscriptWriter`
  (``modem_bytes`` of 1500-byte blocks of random bytes, the worst case for escaping, and of
  printable text) to a file.
"""

from __future__ import annotations

import argparse
import os
import pty
import random
import select
import statistics
import sys
import tempfile
import termios
import threading
import time
import tty
from collections.abc import Callable
from multiprocessing import Process
from pathlib import Path

import serial

from celltls.at.channel import ATChannel
from celltls.at.protocol import ATProtocol, DataBlock, RawData
from celltls.dialects.quectel_gsm.catalog import CATALOG
from celltls.trace import TranscriptWriter

BLOCK = 1500
MB = 1_000_000
MIB = 1 << 20


# -- parser ---------------------------------------------------------------------------------


def block_stream(total: int) -> tuple[bytes, int]:
    """About ``total`` bytes of ``+QSSLRECV`` answers; returns the stream and its block count."""
    rng = random.Random(17)
    parts: list[bytes] = []
    size = 0
    count = 0
    while size < total:
        payload = rng.randbytes(BLOCK)
        part = b"\r\n+QSSLRECV: 1.2.3.4:443,TCP,%d\r\n%b\r\nOK\r\n" % (BLOCK, payload)
        parts.append(part)
        size += len(part)
        count += 1
    return b"".join(parts), count


def parse_once(stream: bytes, chunk: int, blocks: int) -> float:
    """Seconds to parse ``stream`` fed in ``chunk``-byte pieces; checks every block arrived."""
    framing = CATALOG.framing()
    proto = ATProtocol(urc_prefixes=framing.urc_prefixes, data_blocks=framing.data_blocks)
    chunks = [stream[offset : offset + chunk] for offset in range(0, len(stream), chunk)]
    got = 0
    start = time.perf_counter()
    for piece in chunks:
        for event in proto.receive_data(piece):
            if type(event) is DataBlock:
                got += 1
    elapsed = time.perf_counter() - start
    if got != blocks:
        raise SystemExit(f"parser lost blocks: {got} of {blocks}")
    return elapsed


def parse_raw_once(stream: bytes, chunk: int) -> float:
    """Seconds to parse ``stream`` in transparent mode (after ``CONNECT``, Quectel's exit
    marker armed) fed in ``chunk``-byte pieces; checks every byte arrived."""
    framing = CATALOG.framing()
    proto = ATProtocol(
        urc_prefixes=framing.urc_prefixes,
        data_blocks=framing.data_blocks,
        raw_exit_markers=framing.raw_exit_markers,
    )
    proto.enter_raw_mode()
    chunks = [stream[offset : offset + chunk] for offset in range(0, len(stream), chunk)]
    got = 0
    start = time.perf_counter()
    for piece in chunks:
        for event in proto.receive_data(piece):
            if type(event) is RawData:
                got += len(event.data)
    elapsed = time.perf_counter() - start
    if got != len(stream):
        raise SystemExit(f"parser lost raw bytes: {got} of {len(stream)}")
    return elapsed


def bench_parser(repeat: int) -> None:
    stream, blocks = block_stream(8 * MIB)
    raw = random.Random(18).randbytes(8 * MIB)
    print("| stream | chunk | best | median | target |")
    print("|---|---|---|---|---|")
    for chunk, target in ((64, 50), (65536, 150)):
        rates = [len(stream) / parse_once(stream, chunk, blocks) / MB for _ in range(repeat)]
        print(
            f"| +QSSLRECV blocks ({blocks}) | {chunk} B | {max(rates):.0f} MB/s"
            f" | {statistics.median(rates):.0f} MB/s | >= {target} MB/s |"
        )
    for chunk in (64, 65536):
        rates = [len(raw) / parse_raw_once(raw, chunk) / MB for _ in range(repeat)]
        print(
            f"| transparent mode | {chunk} B | {max(rates):.0f} MB/s"
            f" | {statistics.median(rates):.0f} MB/s | - |"
        )


# -- CPU per command ----------------------------------------------------------------------------


ANSWER = b"AT+CSQ\r\r\n+CSQ: 24,99\r\n\r\nOK\r\n"


def fake_modem(master: int) -> None:
    """Answer every ``AT+CSQ`` line on the pty master with echo, ``+CSQ`` and ``OK``."""
    buf = b""
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            return
        if not data:
            return
        buf += data
        while b"\r" in buf:
            line, _, buf = buf.partition(b"\r")
            if line == b"AT+CSQ":
                os.write(master, ANSWER)
            elif line:
                os.write(master, line + b"\r\r\nOK\r\n")


def open_pty() -> tuple[int, str, Process]:
    master, slave = pty.openpty()
    tty.setraw(slave)
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    name = os.ttyname(slave)
    child = Process(target=fake_modem, args=(master,), daemon=True)
    child.start()
    os.close(slave)
    return master, name, child


def bare_pyserial(name: str, count: int) -> float:
    """CPU seconds per command of a bare loop: write, then bulk reads until ``OK``."""
    port = serial.Serial(name, 115200, timeout=1)
    try:
        start = time.process_time()
        for _ in range(count):
            port.write(b"AT+CSQ\r")
            buf = b""
            while not buf.endswith(b"OK\r\n"):
                buf += port.read(port.in_waiting or 1)
        return (time.process_time() - start) / count
    finally:
        port.close()


def handoff_floor(name: str, count: int) -> float:
    """CPU seconds per command of a bare two-thread loop: the caller writes the line and waits;
    a reader thread selects on the port, reads until ``OK`` and wakes the caller (no parsing)."""
    port = serial.Serial(name, 115200, timeout=1)
    fd = port.fileno()
    answered = threading.Semaphore(0)
    stop = threading.Event()

    def reader() -> None:
        buf = b""
        while not stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                buf += os.read(fd, 65536)
                if buf.endswith(b"OK\r\n"):
                    buf = b""
                    answered.release()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        start = time.process_time()
        for _ in range(count):
            os.write(fd, b"AT+CSQ\r")
            if not answered.acquire(timeout=2):
                raise SystemExit("the fake modem did not answer")
        return (time.process_time() - start) / count
    finally:
        stop.set()
        thread.join(2)
        port.close()


def channel_commands(name: str, count: int) -> float:
    """CPU seconds per ``channel.command("AT+CSQ")`` (this process: caller and reader thread)."""
    with ATChannel(name) as channel:
        channel.configure(CATALOG.framing())
        start = time.process_time()
        for _ in range(count):
            reply = channel.command("AT+CSQ", timeout=2, response_prefixes=("+CSQ:",))
        elapsed = (time.process_time() - start) / count
        if reply.first("+CSQ:") != "24,99":
            raise SystemExit(f"unexpected answer {reply.lines!r}")
    return elapsed


def bench_command(repeat: int, count: int = 2000, rounds: int = 8) -> None:
    """Each run alternates ``rounds`` pieces of channel and bare commands (``count`` of each in
    all), so that both see the same machine load; the channel is opened and closed outside the
    measured pieces."""
    master, name, child = open_pty()
    piece = count // rounds
    try:
        channel_commands(name, 200)  # warm-up
        bare_pyserial(name, 200)
        handoff_floor(name, 200)
        pairs: list[tuple[float, float]] = []
        floors: list[float] = []
        for _ in range(repeat):
            chan = bare = floor = 0.0
            for _ in range(rounds):
                chan += channel_commands(name, piece) / rounds
                bare += bare_pyserial(name, piece) / rounds
                floor += handoff_floor(name, piece) / rounds
            pairs.append((chan, bare))
            floors.append(floor)
    finally:
        child.terminate()
        child.join(5)
        os.close(master)
    print("| run | channel.command | bare pyserial loop | ratio | target "
          "| two-thread hand-off, no parsing | its ratio |")
    print("|---|---|---|---|---|---|---|")
    for number, ((chan, bare), floor) in enumerate(zip(pairs, floors, strict=True), start=1):
        print(
            f"| {number} | {chan * 1e6:.0f} µs | {bare * 1e6:.0f} µs | {chan / bare:.2f} | <= 2 "
            f"| {floor * 1e6:.0f} µs | {floor / bare:.2f} |"
        )
    ratios = [chan / bare for chan, bare in pairs]
    chans = [chan for chan, _ in pairs]
    bares = [bare for _, bare in pairs]
    floor_ratios = [floor / bare for floor, (_, bare) in zip(floors, pairs, strict=True)]
    print(
        f"| median | {statistics.median(chans) * 1e6:.0f} µs | "
        f"{statistics.median(bares) * 1e6:.0f} µs | {statistics.median(ratios):.2f} | <= 2 "
        f"| {statistics.median(floors) * 1e6:.0f} µs | {statistics.median(floor_ratios):.2f} |"
    )


# -- transcript -----------------------------------------------------------------------------


def transcript_cost(make: Callable[[random.Random], bytes], total: int) -> float:
    rng = random.Random(17)
    blocks = [make(rng) for _ in range(64)]
    count = total // BLOCK
    with tempfile.TemporaryDirectory() as tmp:
        writer = TranscriptWriter(Path(tmp) / "t.txt", header={"dialect": "quectel-gsm"})
        start = time.perf_counter()
        for index in range(count):
            writer.modem_line("+QSSLRECV: 1.2.3.4:443,TCP,1500")
            writer.modem_bytes(blocks[index % 64])
            writer.modem_line("OK")
        elapsed = time.perf_counter() - start
        writer.close()
    return elapsed / (count * BLOCK / MIB)


def bench_transcript(repeat: int) -> None:
    kinds: dict[str, Callable[[random.Random], bytes]] = {
        "random bytes": lambda rng: rng.randbytes(BLOCK),
        "HTML-like text": lambda rng: bytes(
            rng.choice(b"abcdefghijklmnopqrstuvwxyz <>/=\"\r\n\t") for _ in range(BLOCK)
        ),
    }
    print("| payload | best | median | target |")
    print("|---|---|---|---|")
    for label, make in kinds.items():
        costs = [transcript_cost(make, 8 * MIB) for _ in range(repeat)]
        print(
            f"| {label} | {min(costs):.3f} s/MiB | {statistics.median(costs):.3f} s/MiB"
            " | <= 0.05 s/MiB |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("parser", "command", "transcript"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    if args.only in (None, "parser"):
        print("AT parser, +QSSLRECV data-block stream\n")
        bench_parser(args.repeat)
        print()
    if args.only in (None, "command"):
        print("CPU per AT+CSQ, pty, fake modem in a child process\n")
        bench_command(args.repeat)
        print()
    if args.only in (None, "transcript"):
        print("Transcript cost (TranscriptWriter.modem_bytes to a file)\n")
        bench_transcript(args.repeat)


if __name__ == "__main__":
    main()
