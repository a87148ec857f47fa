"""The virtual nRF91 SLM: byte-exact response shapes, line rules, and the seed replayed.

Each test names the section of shared/reference/nordic-slm.md (or the log, L#) whose shape it
checks. The modem is driven in-process through its byte interface (feed / sink).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from celltls import trace
from celltls.dialects.nordic_slm.modem import factory
from tests.nordic_slm.line import FINAL, Line

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nordic_slm"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----"


@pytest.fixture
def line() -> Line:
    modem = factory()
    yield Line(modem)
    modem.shutdown()


# ---------------------------------------------------------------- §3 line framing
def test_own_and_passthrough_framing(line: Line) -> None:
    """§3: info lines \\r\\n<text>\\r\\n then \\r\\nOK\\r\\n; no echo; ATI and CMEE=2 ERROR (L2)."""
    assert line.cmd("AT") == b"\r\nOK\r\n"
    assert line.cmd("AT+CGMI") == b"\r\nNordic Semiconductor ASA\r\n\r\nOK\r\n"
    assert line.cmd("AT+CGMM") == b"\r\nnRF9160-SICA\r\n\r\nOK\r\n"
    assert line.cmd("AT+CGMR") == b"\r\nmfw_nrf9160_1.3.0\r\n\r\nOK\r\n"
    assert line.cmd("AT+CGSN") == b"\r\n352656100367872\r\n\r\nOK\r\n"
    assert line.cmd("AT+CGSN=1") == b'\r\n+CGSN: "352656100367872"\r\n\r\nOK\r\n'
    assert line.cmd("ATI") == b"\r\nERROR\r\n"
    assert line.cmd("AT+CMEE=2") == b"\r\nERROR\r\n"
    assert line.cmd("AT#XSLMVER") == b'\r\n#XSLMVER: "3.1.0","3.1.0-celltls-sim"\r\n\r\nOK\r\n'
    # removed in v2.5.0 (§2)
    assert line.cmd("AT#XSLMUART?") == b"\r\nERROR\r\n"


def test_terminator_is_cr_lf(line: Line) -> None:
    """§3: a lone CR does not end a line (CONFIG_SLM_CR_LF_TERMINATION); CR LF does."""
    line.send(b"AT+CFUN?\r")
    time.sleep(0.05)
    assert line.rest() == b""
    line.send(b"\n")
    assert line.until(FINAL) == b"\r\n+CFUN: 0\r\n\r\nOK\r\n"
    # a CR alone is a character of the line: "AT<CR>AT+CFUN?" is one malformed line
    assert line.cmd(b"AT\rAT+CFUN?") == b"\r\nERROR\r\n"


def test_lowercase_backspace_and_noise_before_at(line: Line) -> None:
    """§3: names are case-insensitive, BS/DEL edit, bytes before AT are dropped."""
    assert line.cmd("at+cfun?") == b"\r\n+CFUN: 0\r\n\r\nOK\r\n"
    assert line.cmd(b"AT+CFUX\x08N?") == b"\r\n+CFUN: 0\r\n\r\nOK\r\n"
    assert line.cmd(b"\x00garbageAT+CFUN?") == b"\r\n+CFUN: 0\r\n\r\nOK\r\n"


def test_overlong_line_is_error(line: Line) -> None:
    """§3: a command line over 4096 bytes answers ERROR."""
    line.send(b"AT+CGDCONT=1,\"IP\",\"" + b"a" * 4100)
    assert line.until(FINAL) == b"\r\nERROR\r\n"


def test_stray_trailing_quote_keeps_line_open_then_error(line: Line) -> None:
    """§3/§14, L1: an unbalanced quote makes CR LF data; the run ends at a later quote's line
    and the malformed whole answers ERROR (the seed's ``...,42"``)."""
    line.send(b'AT#XHTTPCCON=1,"google.com",443,42"\r\n')
    line.send(b"AT\r\n")
    time.sleep(0.05)
    assert line.rest() == b""  # no answer while the quote is open
    # the next quote closes the string: the whole run is one malformed command line
    assert line.cmd('"') == b"\r\nERROR\r\n"
    assert line.cmd("AT") == b"\r\nOK\r\n"  # the line is usable again


# ---------------------------------------------------------------- §4 modem commands
def test_cfun_cereg_n5_and_read_form(line: Line) -> None:
    """§4/§12/L1: +CEREG=5 URC fields; the read form puts <n> first."""
    assert line.cmd("AT+CEREG=5") == b"\r\nOK\r\n"
    assert line.cmd("AT+CEREG?") == b"\r\n+CEREG: 5,0\r\n\r\nOK\r\n"
    assert line.cmd("AT+CFUN=1") == b"\r\nOK\r\n"
    assert line.rest() == (
        b'\r\n+CEREG: 2,"5209","0A19790D",7,0,0,"11100000","11100000"\r\n'
        b'\r\n+CEREG: 1,"5209","0A19790D",7,,,"11100000","00000110"\r\n')
    assert line.cmd("AT+CEREG?") == (
        b'\r\n+CEREG: 5,1,"5209","0A19790D",7,,,"11100000","00000110"\r\n\r\nOK\r\n')
    assert line.cmd("AT+CFUN?") == b"\r\n+CFUN: 1\r\n\r\nOK\r\n"
    assert line.cmd("AT+CFUN=4") == b"\r\nOK\r\n"
    assert line.rest() == b"\r\n+CEREG: 0\r\n"
    assert line.cmd("AT+CEREG?") == b"\r\n+CEREG: 5,0\r\n\r\nOK\r\n"


@pytest.mark.parametrize(("n", "read"), [
    (0, b"+CEREG: 0,1"),
    (1, b"+CEREG: 1,1"),
    (2, b'+CEREG: 2,1,"5209","0A19790D",9'),
    (3, b'+CEREG: 3,1,"5209","0A19790D",9'),
    (4, b'+CEREG: 4,1,"5209","0A19790D",9,,,"11100000","00000110"'),
    (5, b'+CEREG: 5,1,"5209","0A19790D",9,,,"11100000","00000110"'),
])
def test_cereg_every_n(line: Line, n: int, read: bytes) -> None:
    """§4: the fields each <n> adds (NB-IoT AcT 9 with %XSYSTEMMODE=0,1,0,2, L1)."""
    assert line.cmd("AT%XSYSTEMMODE=0,1,0,2") == b"\r\nOK\r\n"
    assert line.cmd("AT+CFUN=1") == b"\r\nOK\r\n"
    assert line.cmd(f"AT+CEREG={n}") == b"\r\nOK\r\n"
    assert line.cmd("AT+CEREG?") == b"\r\n" + read + b"\r\n\r\nOK\r\n"


def test_signal_address_clock(line: Line) -> None:
    """§4: +CESQ fixed fields, +CGPADDR, +CCLK shape, %XSYSTEMMODE read."""
    assert line.cmd("AT+CESQ") == b"\r\n+CESQ: 99,99,255,255,255,255\r\n\r\nOK\r\n"
    line.cmd("AT+CFUN=1")
    assert line.cmd("AT+CESQ") == b"\r\n+CESQ: 99,99,255,255,31,62\r\n\r\nOK\r\n"
    assert line.cmd("AT+CGPADDR=0") == b'\r\n+CGPADDR: 0,"10.160.0.17"\r\n\r\nOK\r\n'
    assert line.cmd("AT%CESQ=1") == b"\r\nOK\r\n"
    assert re.fullmatch(rb'\r\n\+CCLK: "\d\d/\d\d/\d\d,\d\d:\d\d:\d\d[+-]\d\d"\r\n\r\nOK\r\n',
                        line.cmd("AT+CCLK?"))
    assert line.cmd("AT%XSYSTEMMODE?") == b"\r\n%XSYSTEMMODE: 1,0,0,0\r\n\r\nOK\r\n"


def test_bandlock_refused_while_active(line: Line) -> None:
    """§4/S7: %XBANDLOCK is +CME ERROR: 518 while active; a mask with no band is ERROR."""
    line.cmd("AT+CMEE=1")
    assert line.cmd('AT%XBANDLOCK=1,"10000000"') == b"\r\nOK\r\n"
    assert line.cmd('AT%XBANDLOCK=2,"0"') == b"\r\nERROR\r\n"
    line.cmd("AT+CFUN=1")
    assert line.cmd('AT%XBANDLOCK=1,"1000"') == b"\r\n+CME ERROR: 518\r\n"


def test_sim_pin_gates_iccid_and_registration() -> None:
    """L1: %XICCID is ERROR before the PIN; the +CEREG URCs follow the PIN's OK."""
    modem = factory(sim_pin="3349")
    line = Line(modem)
    line.cmd("AT+CEREG=1")
    assert line.cmd("AT+CFUN=21") == b"\r\nOK\r\n"
    assert line.rest() == b""
    assert line.cmd("AT+CPIN?") == b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"
    assert line.cmd("AT%XICCID") == b"\r\nERROR\r\n"
    assert line.cmd('AT+CPIN="3349"') == b"\r\nOK\r\n"
    assert line.rest() == b"\r\n+CEREG: 2\r\n\r\n+CEREG: 1\r\n"
    assert line.cmd("AT%XICCID") == b"\r\n%XICCID: 89330000000020549718\r\n\r\nOK\r\n"
    modem.shutdown()


def test_reset_prints_ready_and_keeps_credentials(line: Line) -> None:
    """§3: AT#XRESET answers OK, then Ready; §5: credentials are in NVM."""
    assert line.cmd(f'AT%CMNG=0,7,0,"{PEM}"') == b"\r\nOK\r\n"
    line.cmd("AT+CEREG=5")
    assert line.cmd("AT#XRESET") == b"\r\nOK\r\n"
    assert line.until(re.compile(rb"Ready\r\n")) == b"Ready\r\n"
    assert line.cmd("AT+CFUN?") == b"\r\n+CFUN: 0\r\n\r\nOK\r\n"
    assert line.cmd("AT+CEREG?") == b"\r\n+CEREG: 0,0\r\n\r\nOK\r\n"  # RAM setting lost
    assert line.cmd("AT%CMNG=1").startswith(b'\r\n%CMNG: 7,0,"')


# ---------------------------------------------------------------- the seed (L1)
def _normal(text: str) -> str:
    # §8.1: the docs print "#XHTTPCCON:1", the code always "#XHTTPCCON: 1"; L1 was pasted
    # without the space. The shapes are compared with the space after the prefix made equal.
    return re.sub(r"^(#X[A-Z]+):\s*", r"\1: ", text)


def test_seed_session_replayed() -> None:
    """SEED-001 (L1) replayed: every host line gets the seed's lines, in order."""
    transcript = trace.read_file(FIXTURES / "seed001_session.at")
    modem = factory(model="nrf9160", slm_version="1.6.0", sim_pin="3349")
    line = Line(modem)
    expected: list[list[str]] = []
    for record in transcript.records:
        if record.direction == ">":
            expected.append([])
        elif record.direction == "<":
            expected[-1].append(record.text)
    got: list[list[str]] = []
    for record in transcript.host_lines():
        out = line.cmd(record.text)
        time.sleep(0.01)
        out += line.rest()
        got.append([piece for piece in out.decode("latin-1").split("\r\n") if piece])
    assert [[_normal(t) for t in g] for g in got] == [[_normal(t) for t in e] for e in expected]
    # the cause, as the firmware log would say it (the UART shows only ERROR, §3)
    assert any(reason.startswith("no CA certificate") for reason in modem.errors)
    modem.shutdown()
