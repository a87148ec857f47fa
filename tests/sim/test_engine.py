"""The modem-side AT engine: V.250 line handling, data phases, escape sequence, pacing, faults."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from celltls.sim.engine import ATEngine, CommandError, ParsedCommand, split_args
from celltls.sim.serve import VirtualModemServer
from tests.sim.helpers import GUARD, Host, bring_up


class Recorder:
    def __init__(self) -> None:
        self.out = bytearray()

    def __call__(self, data: bytes) -> None:
        self.out += data

    def take(self) -> bytes:
        data = bytes(self.out)
        self.out.clear()
        return data


@pytest.fixture
def engine() -> tuple[ATEngine, Recorder]:
    eng = ATEngine(guard_time=0.1)
    rec = Recorder()
    eng.attach_sink(rec)
    return eng, rec


def test_echo_on_by_default_then_off(engine: tuple[ATEngine, Recorder]) -> None:
    eng, rec = engine
    eng.feed(b"AT\r")
    assert rec.take() == b"AT\r\r\nOK\r\n"
    eng.feed(b"ATE0\r")
    assert rec.take() == b"ATE0\r\r\nOK\r\n"
    eng.feed(b"AT\r")
    assert rec.take() == b"\r\nOK\r\n"


def test_s3_cr_lf_handling_and_lower_case(engine: tuple[ATEngine, Recorder]) -> None:
    eng, rec = engine
    eng.feed(b"ATE0\r\n")
    rec.take()
    eng.feed(b"at\r\n")  # the LF after CR is ignored
    assert rec.take() == b"\r\nOK\r\n"
    eng.feed(b"\nAT")  # a lone LF is ignored, and nothing happens before CR
    assert rec.take() == b""
    eng.feed(b"+CGMI\r")
    assert rec.take() == b"\r\ncelltls\r\n\r\nOK\r\n"
    eng.feed(b"aT+cgmm\r")
    assert b"virtual" in rec.take()


def test_several_commands_and_errors(engine: tuple[ATEngine, Recorder]) -> None:
    eng, rec = engine
    eng.feed(b"ATE0\r")
    rec.take()
    eng.feed(b"AT+CMEE=1;+CREG?;+CGREG?\r")
    assert rec.take() == b"\r\n+CREG: 0,1\r\n\r\n+CGREG: 0,1\r\n\r\nOK\r\n"
    eng.feed(b"AT+NOSUCH\r")
    assert rec.take() == b"\r\nERROR\r\n"
    eng.feed(b"AT+CMEE=9\r")
    assert rec.take() == b"\r\n+CME ERROR: 50\r\n"
    eng.feed(b"AT+CMEE=2\r")
    rec.take()
    eng.feed(b"AT+CFUN=7\r")
    assert rec.take() == b"\r\n+CME ERROR: Incorrect parameters\r\n"
    eng.feed(b"AT+CMEE=0\r")
    rec.take()
    eng.feed(b"AT+CFUN=7\r")
    assert rec.take() == b"\r\nERROR\r\n"


def test_split_args_keeps_quotes() -> None:
    assert split_args('"a,b", 1 ,"c"') == ['"a,b"', "1", '"c"']
    with pytest.raises(CommandError):
        split_args('"open')


def test_prompt_without_line_end_fixed_and_ctrl_z(engine: tuple[ATEngine, Recorder]) -> None:
    eng, rec = engine
    got: list[bytes] = []

    def handler(cmd: ParsedCommand) -> str | None:
        n = int(cmd.args[0]) if cmd.args and cmd.args[0] else None
        eng.start_prompt(n, lambda p: (got.append(p), eng.final("SEND OK")),
                         lambda: eng.final("ERROR"))
        return None

    eng.register("+TSEND", handler)
    eng.feed(b"ATE0\r")
    rec.take()
    eng.feed(b"AT+TSEND=4\r")
    assert rec.take() == b"> "
    eng.feed(b"a\x1ab")  # in fixed-length mode Ctrl-Z is data
    assert rec.take() == b""
    eng.feed(b"cAT\r")
    assert got == [b"a\x1abc"]
    # the bytes after the payload are a new command line
    assert rec.take() == b"\r\nSEND OK\r\n\r\nOK\r\n"
    eng.feed(b"AT+TSEND=\r")
    assert rec.take().endswith(b"> ")
    eng.feed(b"hello\x1a")
    assert got[-1] == b"hello"
    assert rec.take() == b"\r\nSEND OK\r\n"
    eng.feed(b"AT+TSEND=\r")
    rec.take()
    eng.feed(b"abc\x1b")
    assert rec.take() == b"\r\nERROR\r\n"
    assert len(got) == 2


def test_urc_held_back_during_prompt(engine: tuple[ATEngine, Recorder]) -> None:
    eng, rec = engine
    eng.register("+TSEND", lambda cmd: eng.start_prompt(2, lambda p: eng.final("SEND OK"),
                                                        lambda: None))
    eng.feed(b"ATE0\r")
    rec.take()
    eng.feed(b"AT+TSEND\r")
    eng.urc("+URC: 1")
    assert rec.take() == b"> "
    eng.feed(b"xy")
    assert rec.take() == b"\r\nSEND OK\r\n\r\n+URC: 1\r\n"


def _data_mode_engine() -> tuple[ATEngine, Recorder, list[bytes]]:
    eng = ATEngine(guard_time=0.15)
    rec = Recorder()
    eng.attach_sink(rec)
    received: list[bytes] = []
    eng.feed(b"ATE0\r")
    eng.enter_data_mode(received.append)
    eng._resumable = True
    rec.take()
    return eng, rec, received


def test_escape_sequence_needs_guard_times() -> None:
    eng, rec, received = _data_mode_engine()
    eng.feed(b"data+++more")  # +++ inside data, no guard time: data
    time.sleep(0.3)
    assert b"".join(received) == b"data+++more"
    assert eng.in_data_mode
    eng.feed(b"+++")  # silence before (0.3 s) and after
    time.sleep(0.35)
    assert not eng.in_data_mode
    assert rec.take() == b"\r\nOK\r\n"
    eng.feed(b"ATO\r")
    assert rec.take() == b"\r\nCONNECT\r\n"
    assert eng.in_data_mode


def test_escape_cancelled_by_data_after_it() -> None:
    eng, rec, received = _data_mode_engine()
    time.sleep(0.2)
    eng.feed(b"+++")
    eng.feed(b"x")  # less than the guard time after the +++
    time.sleep(0.3)
    assert eng.in_data_mode
    assert b"".join(received) == b"+++x"
    assert rec.take() == b""


def test_escape_characters_spaced_by_a_guard_time_are_data() -> None:
    """Hayes S12 / Sierra Wireless DART 300 feature reference 2110212, 6: each escape
    character must follow the previous one within the guard time, else the sequence is
    broken and the characters are data."""
    eng, rec, received = _data_mode_engine()
    time.sleep(0.2)
    eng.feed(b"++")
    time.sleep(0.25)  # longer than the guard time (0.15 s) between the 2nd and 3rd '+'
    eng.feed(b"+")
    time.sleep(0.3)
    assert eng.in_data_mode
    eng.feed(b"x")
    assert b"".join(received) == b"+++x"
    assert rec.take() == b""


def test_clock_read_and_write(engine: tuple[ATEngine, Recorder]) -> None:
    eng, rec = engine
    eng.feed(b'ATE0\rAT+CCLK="30/01/02,03:04:05+00"\r')
    rec.take()
    assert abs((eng.now() - dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)).total_seconds()) < 5
    eng.feed(b"AT+CCLK?\r")
    assert rec.take().startswith(b'\r\n+CCLK: "30/01/02,03:04:')


def test_garble_fault(engine: tuple[ATEngine, Recorder]) -> None:
    eng, rec = engine
    eng.feed(b"ATE0\r")
    rec.take()
    eng.fault_garble(3)
    eng.feed(b"AT\r")
    out = rec.take()
    assert len(out) == len(b"\r\nOK\r\n") and out[:3] != b"\r\nO" and out[3:] == b"K\r\n"


def test_registration_faults(host: Host) -> None:
    assert host.cmd("AT+CREG?") == ["+CREG: 0,1", "OK"]
    modem = host.server.modem
    modem.fault_lose_registration()
    assert host.cmd("AT+CREG?") == ["+CREG: 0,0", "OK"]
    assert host.cmd("AT+CGATT?") == ["+CGATT: 0", "OK"]
    assert host.cmd("AT+QIREGAPP")[-1] == "ERROR"
    modem.fault_restore_registration()
    assert host.cmd("AT+CGREG?") == ["+CGREG: 0,1", "OK"]


def test_pdp_deactivation_and_reboot(host: Host) -> None:
    modem = host.server.modem
    bring_up(host)
    modem.fault_deactivate_pdp()
    assert host.read_line() == "+PDP DEACT"
    assert host.cmd("AT+QSSLSTATE")[0] == '+QSSLSTATE: "PDP DEACT"'
    assert host.cmd("AT+CMEE=1") == ["OK"]
    modem.reboot()
    # echo is back on after a reboot (a dialect may write boot URCs such as RDY first)
    assert host.cmd("AT")[-2:] == ["AT\r", "OK"]
    assert host.cmd("ATE0")[-1] == "OK"
    assert host.cmd("AT+CMEE?") == ["+CMEE: 0", "OK"]


def test_pacing_limits_throughput() -> None:
    with VirtualModemServer("quectel-gsm", baudrate=9600, guard_time=GUARD) as server:
        h = Host(server)
        try:
            start = time.monotonic()
            for _ in range(10):
                h.send(b"ATI\r")
            answer = b"ATI\r\r\nQuectel_Ltd\r\nQuectel_M66\r\nRevision: M66FAR02A12\r\n\r\nOK\r\n"
            expected = 10 * len(answer)
            data = h.read_exact(expected, timeout=10)
            elapsed = time.monotonic() - start
        finally:
            h.close()
    assert data.count(b"OK\r\n") == 10
    # 9600 baud carries 960 bytes a second: about 0.6 s for these ~600 bytes, never much less
    assert elapsed >= expected / 960 * 0.8


def test_state_survives_host_reconnection(modem_server: VirtualModemServer) -> None:
    first = Host(modem_server)
    assert first.cmd("ATE0") == ["ATE0\r", "OK"]
    first.close()
    time.sleep(0.2)
    second = Host(modem_server)
    try:
        assert second.cmd("AT") == ["OK"]  # echo still off
    finally:
        second.close()


def test_pty_serving() -> None:
    import os
    import select

    with VirtualModemServer("quectel-gsm", pty=True) as server:
        assert server.url.startswith("/dev/pts/")
        fd = os.open(server.url, os.O_RDWR | os.O_NOCTTY)
        try:
            os.write(fd, b"ATE0\r")
            out = b""
            deadline = time.monotonic() + 3
            while b"OK\r\n" not in out and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.1)[0]:
                    out += os.read(fd, 1024)
            assert out.endswith(b"\r\nOK\r\n")
        finally:
            os.close(fd)


def test_quoted_semicolon_is_an_argument_not_a_separator(engine: tuple[ATEngine, Recorder]) -> None:
    eng, rec = engine
    seen: list[tuple[str, tuple[str, ...]]] = []

    def handler(cmd: ParsedCommand) -> str:
        seen.append((cmd.kind, cmd.args))
        return "OK"

    eng.register("+TARGS", handler)
    eng.feed(b'ATE0\rAT+TARGS="a;b,c", 7 ;+TARGS=?;+TARGS\r')
    assert rec.take() == b"ATE0\r\r\nOK\r\n\r\nOK\r\n"
    assert seen == [("write", ('"a;b,c"', "7")), ("test", ()), ("exec", ())]
    eng.feed(b'AT+TARGS="open\r')  # an unterminated string: ERROR, the handler never runs
    assert rec.take() == b"\r\nERROR\r\n"
    assert len(seen) == 3


def test_line_layer_alone_knows_only_the_line_commands() -> None:
    from celltls.sim.line import LineEngine

    line = LineEngine(guard_time=0.1)
    rec = Recorder()
    line.attach_sink(rec)
    line.feed(b"ATE0\r")
    assert rec.take() == b"ATE0\r\r\nOK\r\n"
    line.feed(b"AT+CGMI\r")  # a 27.007 command: not the line's business
    assert rec.take() == b"\r\nERROR\r\n"
    line.feed(b"ATE7\r")  # a numbered error, still plain ERROR without 27.007's +CMEE
    assert rec.take() == b"\r\nERROR\r\n"


def test_cereg_only_on_a_modem_with_lte(engine: tuple[ATEngine, Recorder]) -> None:
    eng, rec = engine
    eng.feed(b"ATE0\rAT+CEREG?\r")
    assert rec.take().endswith(b"\r\nERROR\r\n")

    class LteModem(ATEngine):
        eps_registration = True

    lte = LteModem(guard_time=0.1)
    out = Recorder()
    lte.attach_sink(out)
    lte.feed(b"ATE0\rAT+CEREG=1;+CEREG?\r")
    assert out.take() == b"ATE0\r\r\nOK\r\n\r\n+CEREG: 1,1\r\n\r\nOK\r\n"
    lte.fault_lose_registration()
    assert out.take() == b"\r\n+CEREG: 0\r\n"
    lte.fault_restore_registration(5)
    lte.feed(b"ATZ\rAT+CEREG?\r")
    assert out.take() == (
        b"\r\n+CEREG: 5\r\n"  # the URC of AT+CEREG=1
        b"\r\nOK\r\n"  # ATZ, typed with echo off, turns echo on and the URC off
        b"AT+CEREG?\r\r\n+CEREG: 0,5\r\n\r\nOK\r\n"
    )


def test_cfun_reset_reboots_and_cfun_zero_deregisters(engine: tuple[ATEngine, Recorder]) -> None:
    eng, rec = engine
    eng.feed(b"ATE0\rAT+CMEE=2;+CREG=1\r")
    rec.take()
    eng.feed(b"AT+CFUN=0\r")
    assert rec.take() == b"\r\n+CREG: 0\r\n\r\nOK\r\n"
    assert not eng.attached
    eng.feed(b"AT+CFUN=1\r")
    assert rec.take() == b"\r\n+CREG: 1\r\n\r\nOK\r\n"
    eng.feed(b"AT+CFUN=1,1\r")
    assert rec.take() == b"\r\nOK\r\n"
    eng.feed(b"AT+CMEE?\r")  # the reboot restored echo and AT+CMEE=0
    assert rec.take() == b"AT+CMEE?\r\r\n+CMEE: 0\r\n\r\nOK\r\n"
