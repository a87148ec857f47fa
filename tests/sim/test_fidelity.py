"""The virtual modems answer like the real modules (issue 18): bring-up and information
commands, test forms, ``+KCNX_IND`` sequence and timing, strict mode.

The modems are driven in-process through their byte interface (``feed`` and the output sink),
as a serial line would; sources are named in each test (shared/reference/*.md ids).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from celltls.dialects.quectel_gsm.modem import QuectelGsmModem
from celltls.dialects.sierra.modem import SierraModem
from celltls.sim.engine import ATEngine
from celltls.sim.serve import VirtualModemServer


class Line:
    """The host end of a modem's line, in-process."""

    def __init__(self, modem: ATEngine) -> None:
        self.modem = modem
        self.buf = bytearray()
        self.cond = threading.Condition()
        modem.attach_sink(self._sink)
        self.cmd("ATE0")

    def _sink(self, data: bytes) -> None:
        with self.cond:
            self.buf += data
            self.cond.notify_all()

    def lines(self) -> list[str]:
        with self.cond:
            text, self.buf = bytes(self.buf), bytearray()
        return [x for x in text.decode("latin-1").split("\r\n") if x]

    def wait_for(self, text: str, timeout: float = 5.0) -> list[str]:
        """Every line up to and including ``text``."""
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        with self.cond:
            while True:
                while b"\r\n" in self.buf.strip(b"\r\n") or self.buf.endswith(b"\r\n"):
                    head, sep, rest = bytes(self.buf).lstrip(b"\r\n").partition(b"\r\n")
                    if not sep:
                        break
                    self.buf = bytearray(rest)
                    line = head.decode("latin-1")
                    seen.append(line)
                    if line == text:
                        return seen
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {text!r} in {seen!r} + {bytes(self.buf)!r}")
                self.cond.wait(left)

    def cmd(self, line: str) -> list[str]:
        """Send ``line``; the lines written at once (the modem answers synchronously)."""
        self.lines()
        self.modem.feed(line.encode("latin-1") + b"\r")
        return self.lines()


@pytest.fixture
def sierra() -> Iterator[Line]:
    modem = SierraModem(model="hl7800", bearer_time=0.3, data_timeout=0.3)
    yield Line(modem)
    modem.shutdown()


@pytest.fixture
def quectel() -> Iterator[Line]:
    modem = QuectelGsmModem(model="M66")
    yield Line(modem)
    modem.shutdown()


@pytest.mark.parametrize("make", [lambda: SierraModem(model="hl7800"),
                                  lambda: QuectelGsmModem(model="M66"),
                                  lambda: QuectelGsmModem(model="MC60")],
                         ids=["hl7800", "m66", "mc60"])
def test_every_extended_command_answers_its_test_form(make: object) -> None:
    modem = make()  # type: ignore[operator]
    try:
        line = Line(modem)
        names = sorted(n for n in modem._commands if n.startswith("+"))
        assert len(names) > 30
        failed = {n: line.cmd(f"AT{n}=?") for n in names}
        assert {n: a for n, a in failed.items() if not a or a[-1] != "OK"} == {}
    finally:
        modem.shutdown()


def test_rc7620_lacks_the_hl78xx_commands_in_every_form() -> None:
    modem = SierraModem(model="rc7620")
    try:
        line = Line(modem)
        for command in ("AT+KCNXUP=?", "AT+KCNXUP=1", "AT+KSSLCFG=?", "AT+KSSLCRYPTO=?"):
            assert line.cmd(command) == ["ERROR"], command
    finally:
        modem.shutdown()


def test_cgdcont_set_read_test_undefine_in_each_models_shape(
        sierra: Line, quectel: Line) -> None:
    # HL78xx read line with 16 fields (sierra-hl78xx.md §3, S1); GSM 27.007 six fields
    assert sierra.cmd('AT+CGDCONT=1,"IP","apn"') == ["OK"]
    assert sierra.cmd("AT+CGDCONT?") == ['+CGDCONT: 1,"IP","apn",,0,0,0,0,0,,0,,,,,', "OK"]
    assert quectel.cmd('AT+CGDCONT=2,"IP","CMNET"') == ["OK"]
    assert quectel.cmd("AT+CGDCONT?") == ['+CGDCONT: 1,"IP","","0.0.0.0",0,0',
                                          '+CGDCONT: 2,"IP","CMNET","0.0.0.0",0,0', "OK"]
    assert quectel.cmd("AT+CGDCONT=2") == ["OK"]
    assert quectel.cmd("AT+CGDCONT?") == ['+CGDCONT: 1,"IP","","0.0.0.0",0,0', "OK"]
    assert quectel.cmd("AT+CGDCONT=?")[-1] == "OK"
    assert quectel.cmd('AT+CGDCONT=9,"IP","x"') == ["ERROR"]  # out of the model's cid range
    assert quectel.cmd('AT+CGDCONT=1,"FOO","x"') == ["ERROR"]


def test_cgact_and_cgpaddr_follow_the_dialects_own_activation(quectel: Line) -> None:
    assert quectel.cmd("AT+CGACT?") == ["+CGACT: 1,0", "OK"]
    assert quectel.cmd("AT+CGPADDR=1") == ['+CGPADDR: 1,"0.0.0.0"', "OK"]
    for command in ('AT+QICSGP=1,"CMNET"', "AT+QIREGAPP", "AT+QIACT"):
        assert quectel.cmd(command) == ["OK"], command
    assert quectel.cmd("AT+CGACT?") == ["+CGACT: 1,1", "OK"]
    assert quectel.cmd("AT+CGPADDR=1") == ['+CGPADDR: 1,"10.1.83.188"', "OK"]
    assert quectel.cmd("AT+QIDEACT") == ["DEACT OK"]
    assert quectel.cmd("AT+CGACT?") == ["+CGACT: 1,0", "OK"]


def test_identification_and_information_answers(sierra: Line, quectel: Line) -> None:
    # quectel-gsm-tcpip.md 2 (L1): bare IMSI, bare ICCID, +COPS with three fields, +IPR
    assert quectel.cmd("AT+CIMI")[0].isdigit()
    assert len(quectel.cmd("AT+QCCID")[0]) == 20
    assert quectel.cmd("AT+COPS?")[0].count(",") == 2
    assert quectel.cmd("AT+IPR?") == ["+IPR: 115200", "OK"]
    assert quectel.cmd("AT+CREG=2") == ["OK"]
    assert quectel.cmd("AT+CREG?")[0].startswith("+CREG: 2,1,")  # S12
    # sierra-hl78xx.md §2: ATI one line; an LTE module's +COPS carries <AcT> 7
    assert sierra.cmd("ATI") == ["HL7800", "OK"]
    assert len(sierra.cmd("ATI9")) == 15
    assert sierra.cmd("AT+COPS?")[0].endswith(",7")
    assert sierra.cmd("AT&K3") == ["OK"]
    profile = sierra.cmd("AT&V")
    assert profile[0] == "ACTIVE PROFILE:"
    assert profile[1].split(" ")[9] == "&K3"  # S5 reads the flow control there
    assert sierra.cmd("AT+KGSN=3")[0].startswith("+KGSN: ")


def test_kcnxup_reports_connecting_then_connected_as_the_bearer_comes_up(
        sierra: Line) -> None:
    assert sierra.cmd('AT+KCNXCFG=1,"GPRS","internet"') == ["OK"]
    # L3: OK and +KCNX_IND: 1,4,1 at once; the profile reads "connecting" (state 1) ...
    assert sierra.cmd("AT+KCNXUP=1") == ["OK", "+KCNX_IND: 1,4,1"]
    assert sierra.cmd("AT+KCNXCFG?")[0].endswith(",1")
    assert sierra.cmd("AT+KCGPADDR") == ['+KCGPADDR: 1,"0.0.0.0"', "OK"]
    # ... then, as the bearer comes up, +KCNX_IND: 1,1,0 (L2, S5b) and state 2
    assert sierra.wait_for("+KCNX_IND: 1,1,0") == ["+KCNX_IND: 1,1,0"]
    assert sierra.cmd("AT+KCNXCFG?")[0].endswith(",2")
    assert sierra.cmd("AT+KCGPADDR")[0] != '+KCGPADDR: 1,"0.0.0.0"'
    assert sierra.cmd("AT+KCNXUP=1") == ["OK"]  # already up: nothing more
    assert sierra.cmd("AT+KCNXDOWN=1") == ["OK", "+KCNX_IND: 1,3"]
    assert sierra.cmd("AT+KCNXDOWN=1") == ["OK"]
    assert sierra.cmd("AT+KCNXCFG?")[0].endswith(",0")


def test_network_loss_reports_kcnx_ind_0_also_while_connecting(sierra: Line) -> None:
    assert sierra.cmd('AT+KCNXCFG=1,"GPRS","internet"') == ["OK"]
    sierra.cmd("AT+KCNXUP=1")
    sierra.wait_for("+KCNX_IND: 1,1,0")
    sierra.modem.lose_registration()
    assert sierra.lines() == ["+KCNX_IND: 1,0,0"]  # S7: disconnected by the network
    sierra.modem.restore_registration()
    assert sierra.cmd("AT+KCNXUP=1") == ["OK", "+KCNX_IND: 1,4,1"]
    sierra.modem.lose_registration()
    assert sierra.lines() == ["+KCNX_IND: 1,0,0"]
    time.sleep(0.5)
    assert sierra.lines() == []  # the bring-up under way was abandoned


def test_bring_up_without_registration_fails_with_the_kcnxtimer_values(sierra: Line) -> None:
    assert sierra.cmd('AT+KCNXCFG=1,"GPRS","internet"') == ["OK"]
    assert sierra.cmd("AT+KCNXTIMER=1,60,3,60,45") == ["OK"]
    assert sierra.cmd("AT+KCNXTIMER?")[0] == "+KCNXTIMER: 1,60,3,60,45"
    sierra.modem.lose_registration()
    sierra.lines()
    assert sierra.cmd("AT+KCNXUP=1") == ["OK", "+KCNX_IND: 1,2,1,3,60"]  # L4 shape


def test_credential_upload_is_judged_by_length_then_content(sierra: Line) -> None:
    # sierra-hl78xx.md §5 (S5a): garbage of the announced length -> 930, another length -> 931
    assert sierra.cmd("AT+CMEE=1") == ["OK"]
    assert sierra.cmd("AT+KCERTSTORE=0,10") == ["CONNECT"]
    sierra.modem.feed(b"123456789\r")
    assert sierra.wait_for("+CME ERROR: 930") == ["+CME ERROR: 930"]
    assert sierra.cmd("AT+KCERTSTORE=0,9") == ["CONNECT"]
    sierra.modem.feed(b"123456789\r")
    assert sierra.wait_for("+CME ERROR: 931") == ["+CME ERROR: 931"]
    pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    assert sierra.cmd(f"AT+KCERTSTORE=0,{len(pem)}") == ["CONNECT"]
    sierra.modem.feed(pem + b"--EOF--Pattern--")
    assert sierra.lines() == ["OK"]
    assert sierra.cmd("AT+KCERTSTORE?")[:3] == ["CONNECT", f"root_cert,0,{len(pem)}",
                                                 "local_cert,0,0"]
    assert sierra.cmd("AT+KCERTDELETE=0") == ["OK"]
    assert sierra.cmd("AT+KCERTDELETE=0") == ["OK"]  # nothing stored: still OK (S5a)


def test_ksslcfg_and_ksleep(sierra: Line) -> None:
    assert sierra.cmd("AT+CMEE=1") == ["OK"]
    assert sierra.cmd("AT+KSSLCFG=0,0") == ["OK"]
    assert sierra.cmd("AT+KSSLCFG?") == ["+KSSLCFG: 0,3", "+KSSLCFG: 2,0", "OK"]
    assert sierra.cmd("AT+KSSLCFG=2,1") == ["+CME ERROR: 918"]
    assert sierra.cmd("AT+KSLEEP?") != ["+KSLEEP: 2", "OK"]
    assert sierra.cmd("AT+KSLEEP=2") == ["OK"]
    assert sierra.cmd("AT+KSLEEP?") == ["+KSLEEP: 2", "OK"]
    assert sierra.cmd("AT+KSLEEP=3") == ["+CME ERROR: 916"]


def test_strict_mode_refuses_the_liberties_and_only_them(sierra: Line, quectel: Line) -> None:
    long_line = 'AT+KPATTERN="' + "x" * 1030 + '"'
    assert sierra.cmd("AT+CMEE=1") == ["OK"]
    assert sierra.cmd("At+CSQ")[-1] == "OK"
    assert quectel.cmd("AT&K3") == ["OK"]
    assert sierra.cmd(long_line) == ["+CME ERROR: 931"]  # the pattern's own length check
    sierra.modem.strict = True
    quectel.modem.strict = True
    assert sierra.cmd("At+CSQ") == []  # V.250 5.2.1: "AT" or "at" only
    assert sierra.cmd("at+CSQ")[-1] == "OK"
    assert sierra.cmd(long_line) == ["ERROR"]  # over the 1023-character line
    assert quectel.cmd("AT&K3") == ["ERROR"]  # the GSM family uses AT+IFC
    assert quectel.cmd("AT+IFC=2,2") == ["OK"]
    assert sierra.cmd("AT&K3") == ["OK"]  # the HL78xx takes it (S5b)


def test_server_hands_strict_to_the_modem() -> None:
    with VirtualModemServer("sierra", model="hl7800", strict=True) as server:
        assert server.modem.strict
    with VirtualModemServer("quectel-gsm") as server:
        assert not server.modem.strict


def test_sierra_reports_eps_registration_changes(sierra: Line) -> None:
    # 27.007 10.1.22 with <n> 1: +CEREG: <stat> (SEED-000 shows such lines from an RC7620)
    assert sierra.cmd("AT+CEREG=1") == ["OK"]
    sierra.modem.lose_registration()
    assert "+CEREG: 0" in sierra.lines()
    sierra.modem.restore_registration()
    assert "+CEREG: 1" in sierra.lines()
    assert sierra.cmd("AT+CEREG=2") == ["OK"]
    assert sierra.cmd("AT+CEREG?")[0].count(",") == 4  # <n>,<stat>,<tac>,<ci>,<AcT>
