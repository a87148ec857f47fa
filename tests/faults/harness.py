"""One fault-injection run: a GET and a POST through :class:`celltls.Modem` and a fault proxy.

A run starts a fresh virtual modem, puts a :class:`~tests.faults.proxy.FaultProxy` between it
and a new ``Modem``, attaches and stores the CA (no fault yet), arms one fault at a position
drawn from ``random.Random`` seeded with the target, the kind and the seed, then makes a GET of
a body with a known SHA-256 and a POST whose echo must come back intact. A watchdog thread
bounds the time. Then a NEW ``Modem``, straight on the same virtual modem with no fault, must
do the same with exact bytes.

Used by ``tests/faults/test_faults.py`` (a few fixed seeds) and ``benchmarks/faults.py``
(``make faults``: many seeds).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from celltls import Certificate, Modem, TlsProfile
from celltls.errors import CellTLSError
from celltls.sim.httpsd import LocalHTTPSServer, deterministic_bytes, make_pki
from celltls.sim.serve import VirtualModemServer
from tests.faults.proxy import BYTE_KINDS, KINDS, OK_KINDS, Counters, Fault, FaultProxy, TcpRelay

GET_SIZE = 80 * 1024  # more than the virtual Quectel modem's 64 KiB receive buffer
POST_SIZE = 6 * 1024
#: seconds a secure socket's recv waits for data (the drivers' 60 s, made short here)
SOCKET_TIMEOUT = 2.0
#: seconds without a byte in a stall: longer than SOCKET_TIMEOUT
STALL = 3.0
#: seconds a run (or the recovery after it) may take before it counts as a hang
BOUND = 75.0
#: bytes per second from the HTTPS server to the virtual modem (below the unpaced line's speed)
RELAY_RATE = 512 * 1024
#: connect timeout given to Modem.request, seconds (the Quectel minimum is 10, SSL-AN 2.2.2)
CONNECT_TIMEOUT = 10.0

Via = Literal["socket", "native"]
Result = Literal["success", "error", "corruption", "foreign", "hang"]


@dataclass(frozen=True)
class Target:
    """A dialect, the model of its virtual modem, and the path a request takes."""

    name: str
    dialect: str
    via: Via
    model: str | None = None
    #: ``Modem.request(keep_alive=...)``: ``False`` asks the server to close, which on Quectel
    #: GSM module TLS means transparent mode (what ``celltls get`` does)
    keep_alive: bool = True


TARGETS: dict[str, Target] = {
    "quectel-gsm": Target("quectel-gsm", "quectel-gsm", "socket"),
    # the CLI's path on module TLS: Connection: close, transparent mode (no +QSSLRECV framing,
    # so ``truncate`` and ``server_close`` are not injected either)
    "quectel-transparent": Target("quectel-transparent", "quectel-gsm", "socket",
                                  keep_alive=False),
    "sierra-socket": Target("sierra-socket", "sierra", "socket", "hl7800"),
    "sierra-native": Target("sierra-native", "sierra", "native", "hl7800"),
    # The proxy counts data bytes in Quectel and Sierra framing only: on these targets the
    # ``truncate`` and ``server_close`` kinds are not injected (the benchmark says so).
    "nordic-socket": Target("nordic-socket", "nordic-slm", "socket"),
    "nordic-native": Target("nordic-native", "nordic-slm", "native"),
    "sequans-socket": Target("sequans-socket", "sequans", "socket"),
    "sequans-native": Target("sequans-native", "sequans", "native"),
    # The XBee3's default request path (``Modem.request`` and ``celltls get``): API mode 1,
    # extended sockets (0x40-0x44, 0xCD, 0xCF), with the module's TLS or TLS on the host over
    # a plain TCP socket as ``Modem.choose_tls`` decides; command mode (+++) for ATFS HASH.
    # The proxy counts its ``OK<CR>`` answers and 0xCD payload; ``urc_storm`` is not injected
    # there (no unsolicited line on an XBee: tests/faults/proxy.py NOT_INJECTED).
    "xbee3-socket": Target("xbee3-socket", "xbee3", "socket"),
}


def make_profile(ca_pem: bytes) -> TlsProfile:
    """A verifying profile for the test CA; ``check_hostname=False`` when TlsProfile has it
    (module TLS cannot check host names, issue 12 item 1)."""
    kwargs: dict[str, Any] = {"ca": Certificate.from_pem(ca_pem)}
    if "check_hostname" in {f.name for f in dataclasses.fields(TlsProfile)}:
        kwargs["check_hostname"] = False
    return TlsProfile(**kwargs)


@dataclass
class Phase:
    """How one watched phase ended."""

    result: Result
    seconds: float
    error: str = ""  # the exception's class (module-qualified when it is not celltls's)
    exit_code: int | None = None
    detail: str = ""

    def summary(self) -> str:
        text: str = self.result
        if self.error:
            text += f" {self.error}"
            if self.exit_code is not None:
                text += f" (exit {self.exit_code})"
        if self.detail:
            text += f": {self.detail[:300]}"
        return f"{text} after {self.seconds:.1f} s"


@dataclass
class Outcome:
    """One run: the fault, how the transfer ended, and how the next Modem fared."""

    target: str
    kind: str
    seed: int
    fault: Fault | None
    fired: bool
    note: str
    run: Phase
    recovery: Phase

    @property
    def ok(self) -> bool:
        """Exact bytes or a celltls error, in time, and a clean next request."""
        return self.run.result in ("success", "error") and self.recovery.result == "success"

    def report(self) -> str:
        fault = self.fault.describe() if self.fault else "no fault"
        return (
            f"{self.target} × {self.kind}, seed {self.seed}: {fault}; "
            f"{'injected: ' + self.note if self.fired else 'NOT injected'}\n"
            f"  run: {self.run.summary()}\n  next Modem: {self.recovery.summary()}\n"
            f"  reproduce: .venv/bin/python benchmarks/faults.py --target {self.target} "
            f"--kind {self.kind} --seed {self.seed} --runs 1 -v"
        )


def watched(work: Callable[[], list[str]], bound: float,
            on_hang: Callable[[], None]) -> Phase:
    """Run ``work`` in a thread for at most ``bound`` seconds.

    ``work`` returns the differences it found in the bytes (empty: exact). On a hang the
    thread's stack is kept and ``on_hang`` is called to unblock it.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["diff"] = work()
        except BaseException as exc:
            box["exc"] = exc

    start = time.monotonic()
    thread = threading.Thread(target=target, daemon=True, name="fault-run")
    thread.start()
    thread.join(bound)
    seconds = time.monotonic() - start
    if thread.is_alive():
        frame = sys._current_frames().get(thread.ident or 0)
        stack = "".join(traceback.format_stack(frame)[-6:]) if frame else ""
        with contextlib.suppress(Exception):
            on_hang()
        thread.join(5.0)
        return Phase("hang", seconds, detail=f"still running after {bound:g} s; stack:\n{stack}")
    if "exc" in box:
        exc: BaseException = box["exc"]
        if isinstance(exc, CellTLSError):
            return Phase("error", seconds, type(exc).__name__, exc.exit_code, str(exc))
        name = f"{type(exc).__module__}.{type(exc).__name__}"
        tb = "".join(traceback.format_exception(exc)[-3:])
        return Phase("foreign", seconds, name, None, f"{exc}\n{tb}")
    diff: list[str] = box.get("diff", [])
    if diff:
        return Phase("corruption", seconds, detail="; ".join(diff))
    return Phase("success", seconds)


@contextlib.contextmanager
def short_socket_timeouts(seconds: float) -> Iterator[None]:
    """Make the drivers' secure-socket read timeout ``seconds`` (the ``timeout`` class
    attribute each dialect's socket class declares; 60 s by default), and put it back."""
    from celltls.dialects.nordic_slm.driver import NordicSocket
    from celltls.dialects.quectel_gsm.driver import QuectelSocket
    from celltls.dialects.sequans.driver import SequansSocket
    from celltls.dialects.sierra.driver import SierraSocket
    from celltls.dialects.xbee3.driver import TransparentSocket, XBeeSocket

    classes: list[Any] = [QuectelSocket, SierraSocket, NordicSocket, SequansSocket, XBeeSocket,
                          TransparentSocket]
    missing = [cls.__name__ for cls in classes if "timeout" not in cls.__dict__]
    if missing:  # setting it would shadow the base class's for good
        raise TypeError(f"{', '.join(missing)} declare no timeout of their own")
    saved = [cls.__dict__["timeout"] for cls in classes]
    for cls in classes:
        cls.timeout = seconds
    try:
        yield
    finally:
        for cls, value in zip(classes, saved, strict=True):
            cls.timeout = value


class Lab:
    """The PKI, the HTTPS server behind a relay, and the calibrations of each target.

    Args:
        bound: seconds before a run (or the recovery) counts as a hang.
        stall: seconds of a stall.
        socket_timeout: the drivers' secure-socket read timeout during runs.
    """

    def __init__(self, *, bound: float = BOUND, stall: float = STALL,
                 socket_timeout: float = SOCKET_TIMEOUT) -> None:
        self.bound = bound
        self.stall = stall
        self.socket_timeout = socket_timeout
        self.pki = make_pki(key_type="rsa")  # Quectel GSM: RSA key exchange only (SSL-AN T2)
        self.profile = make_profile(self.pki.ca_pem)
        self.https = LocalHTTPSServer(cert_chain_pem=self.pki.server_chain_pem,
                                      key_pem=self.pki.server_key_pem).start()
        self.relay = TcpRelay(self.https.port, rate=RELAY_RATE)
        self.base = f"https://127.0.0.1:{self.relay.port}"
        self._calibration: dict[str, Counters] = {}
        self._broken: dict[str, str] = {}  # target -> why its clean transfer failed

    def close(self) -> None:
        self.relay.close()
        self.https.stop()

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ pieces of a run
    def _modem(self, url: str, target: Target) -> Modem:
        options: dict[str, Any] = {"guard_time": 0.2}
        if target.model:
            options["model"] = target.model
        modem = Modem(url, target.dialect, **options)
        try:
            modem.attach(apn="internet", timeout=10)
            assert self.profile.ca is not None
            modem.credentials.store_ca(self.profile.ca)
        except BaseException:
            modem.close()
            raise
        return modem

    def _transfer(self, modem: Modem, target: Target, seed: int) -> list[str]:
        diff: list[str] = []
        want = hashlib.sha256(deterministic_bytes(GET_SIZE, seed)).hexdigest()
        response = modem.request("GET", f"{self.base}/bytes/{GET_SIZE}?seed={seed}",
                                 profile=self.profile, via=target.via, timeout=CONNECT_TIMEOUT,
                                 keep_alive=target.keep_alive)
        body = b"".join(response.iter_bytes())
        got = hashlib.sha256(body).hexdigest()
        if response.status != 200 or got != want:
            diff.append(f"GET: status {response.status}, {len(body)} bytes, sha256 {got[:16]} "
                        f"(want 200, {GET_SIZE} bytes, {want[:16]})")
        sent = deterministic_bytes(POST_SIZE, seed + 1)
        response = modem.request("POST", f"{self.base}/echo", profile=self.profile,
                                 via=target.via, body=sent, timeout=CONNECT_TIMEOUT,
                                 keep_alive=target.keep_alive)
        echo = b"".join(response.iter_bytes())
        if response.status != 200 or echo != sent:
            diff.append(f"POST: status {response.status}, {len(echo)} bytes echoed "
                        f"(want 200, {POST_SIZE} bytes, {'equal' if echo == sent else 'differ'})")
        return diff

    # ------------------------------------------------------------------ calibration, plan
    def calibrate(self, name: str) -> Counters:
        """Bytes, ``OK`` lines and payload bytes of a clean transfer through the proxy.

        Raises:
            RuntimeError: the clean transfer failed.
        """
        if name in self._broken:
            raise RuntimeError(self._broken[name])
        if name not in self._calibration:
            outcome = self.run(name, "none", 0, fault=None)
            if outcome.run.result != "success" or outcome.recovery.result != "success":
                self._broken[name] = f"clean transfer failed on {name}: {outcome.report()}"
                raise RuntimeError(self._broken[name])
            assert outcome.counters is not None
            self._calibration[name] = outcome.counters
        return self._calibration[name]

    def plan(self, name: str, kind: str, seed: int) -> tuple[Fault, random.Random]:
        """The fault of run ``seed``: its position drawn from the seeded generator within the
        first 90 % of what a clean transfer carries."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")
        counts = self.calibrate(name)
        rng = random.Random(f"celltls-faults/{name}/{kind}/{seed}")
        if kind in BYTE_KINDS:
            span = counts.down_bytes
        elif kind in OK_KINDS:
            span = counts.oks
        else:
            span = counts.data_bytes
        at = rng.randrange(max(1, int(span * 0.9)))
        size = {"garble": rng.randint(1, 8), "truncate": rng.randint(1, 64),
                "urc_storm": rng.randint(20, 200)}.get(kind, 1)
        return Fault(kind, at, size=size, stall=self.stall), rng

    # ------------------------------------------------------------------ a run
    def run(self, name: str, kind: str, seed: int, *,
            fault: Fault | Literal["plan"] | None = "plan") -> RunOutcome:
        """One run of ``kind`` on target ``name`` with ``seed`` (see the module docstring)."""
        target = TARGETS[name]
        rng: random.Random | None = None
        if fault == "plan":
            fault, rng = self.plan(name, kind, seed)
        with short_socket_timeouts(self.socket_timeout), \
                VirtualModemServer(target.dialect, model=target.model,
                                   guard_time=0.2) as sim:
            proxy = FaultProxy(sim.port, target.dialect, sim.modem,
                               server_close=self.relay.cut,
                               rng_bytes=rng.randbytes if rng else None)
            holder: dict[str, Modem] = {}
            try:
                def primary() -> list[str]:
                    try:
                        modem = self._modem(proxy.url, target)
                    except CellTLSError as exc:
                        raise SetupError(f"before the fault, setting up failed: "
                                         f"{type(exc).__name__}: {exc}") from exc
                    holder["modem"] = modem
                    try:
                        proxy.arm(fault)
                        return self._transfer(modem, target, seed)
                    finally:
                        modem.close()

                def unblock() -> None:
                    if "modem" in holder:
                        holder["modem"].channel.close()
                    proxy.drop_line()

                run = watched(primary, self.bound, unblock)
                counters = proxy.counters
                fired, note = proxy.fired.is_set(), proxy.fired_note
            finally:
                proxy.close()
            _wait_line_free(sim)
            holder.clear()

            def recover() -> list[str]:
                with self._modem(sim.url, target) as modem:
                    holder["modem"] = modem
                    return self._transfer(modem, target, seed + 7)

            def unblock_recovery() -> None:
                if "modem" in holder:
                    holder["modem"].channel.close()

            recovery = watched(recover, self.bound, unblock_recovery)
        return RunOutcome(name, kind, seed, fault, fired, note, run, recovery, counters)


class SetupError(CellTLSError):
    """Attach or storing the CA failed before any fault was armed (the clean path is broken)."""


@dataclass
class RunOutcome(Outcome):
    """An :class:`Outcome` with the proxy's counters (for calibration)."""

    counters: Counters | None = None


def _wait_line_free(sim: VirtualModemServer, timeout: float = 3.0) -> None:
    """Wait until the virtual modem has noticed that the host connection closed (it serves one
    connection at a time)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and getattr(sim, "_conn", None) is not None:
        time.sleep(0.02)
