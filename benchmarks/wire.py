"""Wire efficiency, wall ÷ line time, host CPU and AT commands of `celltls get` (issue 17).

Per dialect, data path and baud rate: `celltls sim DIALECT --baudrate B` in a process of its own
(it paces what the module sends at B/10 bytes a second: 8N1, ten bits a byte), the byte-counting
relay of ``byte_exact.py`` between it and the CLI (random 1-97-byte pieces, counted per direction),
a local HTTPS server with a body of ``--size`` bytes, and `celltls get URL -o FILE` in a new
process per run. On a fresh virtual modem:

1. a cold run with ``--trace``: the AT commands of a first request;
2. a warm run with ``--trace`` on the same virtual modem, which still holds what the first run
   left (credentials, settings): the AT commands of a repeated request;
3. ``--runs`` warm runs without a trace (writing one costs CPU), whose medians give

   - payload ÷ line: body bytes ÷ bytes the module sent to the host (module→host);
   - host→module bytes on the line;
   - wall ÷ line: the CLI process's wall time ÷ pure line time (module→host bytes × 10 ÷ baud);
   - CPU s/MiB: user + system seconds of the CLI process (``RUSAGE_CHILDREN`` deltas) per MiB
     of body.

Commands are the transcript's host command records (``> TEXT``, FORMAT.md in
/work/shared/transcripts), shown as ``setup + I/O``: I/O are the socket read and write commands
(names ending in SEND, SND, RECV, RCV or RD, e.g. ``AT+QIRD``, ``AT+QSSLRECV``, ``AT+KTCPRCV``,
``AT#XSEND``), which grow with the body; setup is the rest (identification, network, TLS settings,
certificates, open, close). XBee3 has no ``>`` records: its commands are the host's raw writes
(``>>``) of ``+++``, command-mode lines (``ATxx``) and API frames (each frame one command, named
from ``celltls.dialects.xbee3.catalog``; 0x44 Socket Send is I/O). ``--list-commands`` prints the
warm run's commands, repeats folded.

Data paths: the CLI's defaults (``--tls auto``), plus ``--tls=module`` (with
``--no-check-hostname`` where the module cannot check host names) for the dialects whose module
TLS cannot check host names, where ``--tls auto`` runs TLS on the host (``--module-tls``).

Run from the repository root::

    .venv/bin/python benchmarks/wire.py --runs 1 --size 262144 --baud 921600
    .venv/bin/python benchmarks/wire.py --dialect quectel-gsm sierra --baud 921600 115200 \\
        --list-commands
    .venv/bin/python benchmarks/wire.py --dialect xbee3 --module-tls none \\
        --get-option=--transparent

Prints a Markdown table (one row per dialect, data path and baud rate). Measured, never asserted
in the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from byte_exact import BIN, ChunkingRelay, name_check, serve_body, start_sim

from celltls.dialects.xbee3.catalog import FRAME_TYPES
from celltls.sim.httpsd import deterministic_bytes, make_pki

MIB = 1024 * 1024
RECORD = re.compile(r"^(?:\[[0-9.]+\] )?(>>|<<|>|<) ?(.*)$")
IO_COMMAND = re.compile(r"(SEND|SND|RECV|RCV|RD)(EXT)?$")


@dataclass
class Trace:
    """What a ``--trace`` transcript says: the host's command lines and where TLS ran."""

    commands: list[str] = field(default_factory=list)
    tls: str = "?"

    @property
    def io(self) -> int:
        """Socket read/write commands (``IO_COMMAND`` on the command's name)."""
        return sum(1 for command in self.commands if IO_COMMAND.search(command_name(command)))

    def summary(self) -> str:
        return f"{len(self.commands) - self.io} + {self.io} I/O"


@dataclass
class Run:
    """One `celltls get`: outcome, wall seconds, CPU seconds, line bytes per direction."""

    exact: bool
    code: int
    error: str
    wall: float
    cpu: float
    to_host: int
    to_module: int
    trace: Trace | None


def command_name(command: str) -> str:
    """``AT+QIRD=0,1,0,1500`` -> ``AT+QIRD``."""
    return re.split(r"[=?]", command, maxsplit=1)[0].upper()


def read_trace(path: Path) -> Trace:
    trace, xbee = Trace(), False
    if not path.exists():
        return trace
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("# tls:"):
            trace.tls = line.removeprefix("# tls:").split()[0]
            continue
        if line.startswith("# dialect:"):
            xbee = line.split()[-1] == "xbee3"
        match = RECORD.match(line)
        if match and match.group(1) == ">":
            trace.commands.append(match.group(2))
        elif match and match.group(1) == ">>" and xbee:
            trace.commands.extend(xbee_commands(unescape(match.group(2))))
    return trace


def unescape(text: str) -> bytes:
    """A ``>>``/``<<`` record's BYTES (FORMAT.md: ``\\r \\n \\t \\\\ \\xHH``) as bytes."""
    simple = {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}
    parts = re.split(r"(\\x[0-9A-Fa-f]{2}|\\[rnt\\])", text)
    return b"".join(  # odd parts are the escapes
        (bytes([int(part[2:], 16)]) if part[1] == "x" else simple[part[1]]) if index % 2
        else part.encode("latin-1", "replace") for index, part in enumerate(parts))


def xbee_commands(data: bytes) -> list[str]:
    """The commands in one XBee3 host write: ``+++``, an ``ATxx`` line, or API frames (API mode
    1, unescaped: 0x7E, length, type, body, checksum; XB-REF 6)."""
    if not data.startswith(b"\x7e"):
        text = data.decode("latin-1").strip()
        return [text] if text.startswith(("AT", "+++")) else []
    commands = []
    while len(data) >= 4 and data[0] == 0x7E:
        length = int.from_bytes(data[1:3], "big")
        kind, body = data[3], data[4 : 3 + length]
        if kind in (0x08, 0x09):
            value = body[3:].hex().upper()
            commands.append(f"API AT{body[1:3].decode('latin-1')}{'=' + value if value else ''}")
        else:
            frame = FRAME_TYPES.get(kind)
            commands.append(f"API 0x{kind:02X} {frame.name if frame else '?'}")
        data = data[4 + length :]
    return commands


def folded(commands: list[str], width: int = 76) -> list[str]:
    """The commands in order, a run of the same command line shown once with ``×N``."""
    lines: list[str] = []
    previous, count = None, 0
    for command in [*commands, None]:
        if command == previous:
            count += 1
            continue
        if previous is not None:
            text = previous if len(previous) <= width else previous[: width - 3] + "..."
            lines.append(f"{text} ×{count}" if count > 1 else text)
        previous, count = command, 1
    return lines


def settled(relay: ChunkingRelay) -> tuple[int, int]:
    """The relay's byte counts once they stop changing (its pump ends after the CLI closed)."""
    counts = (relay.to_host, relay.to_module)
    for _ in range(40):
        time.sleep(0.05)
        now = (relay.to_host, relay.to_module)
        if now == counts:
            break
        counts = now
    return counts


def get(dialect: str, baud: int, relay: ChunkingRelay, url: str, ca: Path, out: Path,
        expected: bytes, options: list[str], trace: Path | None) -> Run:
    """One `celltls get` through ``relay``; ``trace``: also record the AT session there."""
    out.unlink(missing_ok=True)
    if trace is not None:
        trace.unlink(missing_ok=True)
    host_before, module_before = settled(relay)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(
        [str(BIN / "celltls"), "get", url, "--port", f"socket://127.0.0.1:{relay.port}",
         "--dialect", dialect, "--baudrate", str(baud), "--ca", str(ca), *options,
         *(["--trace", str(trace)] if trace is not None else []), "-o", str(out)],
        capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    to_host, to_module = settled(relay)
    got = hashlib.sha256(out.read_bytes()).digest() if out.exists() else b""
    errors = [line for line in done.stderr.splitlines() if line.startswith("celltls: error:")]
    return Run(exact=got == expected and done.returncode == 0, code=done.returncode,
               error=(errors or [""])[-1], wall=wall,
               cpu=after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime,
               to_host=to_host - host_before, to_module=to_module - module_before,
               trace=read_trace(trace) if trace is not None else None)


def paths(dialect: str, module_tls: str, extra: list[str]) -> list[list[str]]:
    """The option sets to measure for ``dialect``: the defaults, and the module's own TLS."""
    result = [extra]
    cannot_check = bool(name_check(dialect))
    if module_tls == "all" or (module_tls == "auto" and cannot_check):
        result.append(["--tls=module", *name_check(dialect), *extra])
    return result


def measure(dialect: str, baud: int, options: list[str], args: argparse.Namespace, url: str,
            tmp: Path, expected: bytes) -> tuple[str, list[str]]:
    """Cold and warm traced runs plus ``args.runs`` untraced ones on a new virtual modem;
    returns the table row and the warm run's commands (folded)."""
    sim, address = start_sim(dialect, baud)
    host, port = address.removeprefix("socket://").rsplit(":", 1)
    relay = ChunkingRelay((host, int(port)), args.seed)
    ca, out = tmp / "ca.pem", tmp / "download"
    label = " ".join(options) or "defaults"
    runs: list[Run] = []
    try:
        for kind in ("cold", "warm", *["timed"] * args.runs):
            trace = tmp / f"{kind}.trace" if kind != "timed" else None
            run = get(dialect, baud, relay, url, ca, out, expected, options, trace)
            runs.append(run)
            print(f"  {dialect} [{label}] {baud} {kind}: "
                  f"{'exact' if run.exact else 'FAILED'} exit {run.code} {run.wall:.1f} s "
                  f"{run.to_host}/{run.to_module} B {run.cpu:.2f} s CPU {run.error}",
                  file=sys.stderr, flush=True)
    finally:
        relay.close()
        sim.terminate()
        sim.wait(timeout=10)
    cold, warm = runs[0].trace, runs[1].trace
    assert cold is not None and warm is not None
    timed = [run for run in runs[2:] or runs[1:2] if run.exact and run.to_host]
    metrics = "- | - | - | -"  # no exact run to measure
    if timed:
        to_host = statistics.median(run.to_host for run in timed)
        line_time = to_host * 10 / baud
        metrics = (f"{args.size / to_host:.3f} | "
                   f"{statistics.median(run.to_module for run in timed):.0f} | "
                   f"{statistics.median(run.wall for run in timed) / line_time:.2f} | "
                   f"{statistics.median(run.cpu for run in timed) / (args.size / MIB):.2f}")
    failures = sorted({f"exit {run.code}: {run.error[:120]}" for run in runs if not run.exact})
    row = (f"| {dialect} | {warm.tls} TLS; {label} | {baud} | {metrics} | "
           f"{cold.summary()} | {warm.summary()} | {sum(run.exact for run in runs)}/{len(runs)}"
           f"{' (' + '; '.join(failures) + ')' if failures else ''} |")
    return row, folded(warm.commands)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialect", nargs="+",
                        default=["quectel-gsm", "sierra", "nordic-slm", "sequans", "xbee3"])
    parser.add_argument("--baud", type=int, nargs="+", default=[115200, 921600])
    parser.add_argument("--size", type=int, default=MIB, help="body bytes (default 1 MiB)")
    parser.add_argument("--runs", type=int, default=3,
                        help="untraced warm runs per row, medians (0: use the traced warm run)")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--get-option", action="append", default=[], metavar="OPTION",
                        help="an option added to every `celltls get` (repeat), e.g. "
                             "--get-option=--transparent")
    parser.add_argument("--module-tls", choices=("auto", "all", "none"), default="auto",
                        help="also measure --tls=module: auto: where the module cannot check "
                             "host names (so the defaults run TLS on the host); all; none")
    parser.add_argument("--nginx", action="store_true",
                        help="serve the body from nginx instead of the Python test server")
    parser.add_argument("--list-commands", action="store_true",
                        help="print the AT commands of each warm run after the table")
    args = parser.parse_args()
    expected = hashlib.sha256(deterministic_bytes(args.size)).digest()
    pki = make_pki(key_type="rsa")
    print(f"Body {args.size} bytes, medians of {max(args.runs, 1)} warm run(s); commands: "
          "setup + socket I/O.\n")
    print("| dialect | path; options | baud | payload ÷ line (module→host) | host→module bytes "
          "| wall ÷ line | CPU s/MiB | commands cold | commands warm | byte-exact |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    listings: list[tuple[str, list[str]]] = []
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        (Path(tmp) / "ca.pem").write_bytes(pki.ca_pem)
        url = serve_body(stack, Path(tmp), pki, args.size, args.nginx)
        for dialect in args.dialect:
            for options in paths(dialect, args.module_tls, args.get_option):
                for baud in args.baud:
                    row, commands = measure(dialect, baud, options, args, url, Path(tmp),
                                            expected)
                    print(row, flush=True)
                    listings.append((f"{dialect} [{' '.join(options) or 'defaults'}] {baud}",
                                     commands))
    if args.list_commands:
        for title, commands in listings:
            print(f"\nWarm run, {title}: {len(commands)} lines\n")
            print("\n".join(f"    {command}" for command in commands))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
