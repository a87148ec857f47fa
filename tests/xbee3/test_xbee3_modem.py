"""The virtual XBee 3 Cellular: command mode, parameters, NVM, AI states.

Each test names the shared/reference/xbee3.md section (§n) or real log (§12 A-D) whose shape it
checks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.xbee3.test_xbee3_modem_support import GUARD, Line


@pytest.fixture
def line() -> Iterator[Line]:
    host = Line()
    yield host
    host.close()


def test_escape_sequence_answers_ok_cr_and_log_b_shapes(line: Line) -> None:
    """§12 B (L3): ``+++``→``OK\\r``, ``ATCI``→``FF``, ``ATOD``→``0.0.0.0``, ``ATCN``→``OK``;
    CR only, no echo, no LF (§2)."""
    time.sleep(GUARD * 1.5)
    line.send(b"+++")
    assert line.read_until(b"\r") == b"OK\r"
    line.send(b"ATCI\r")
    assert line.read_until(b"\r") == b"FF\r"
    line.send(b"ATOD\r")
    assert line.read_until(b"\r") == b"0.0.0.0\r"
    line.send(b"ATCN\r")
    assert line.read_until(b"\r") == b"OK\r"
    time.sleep(GUARD * 2)
    assert line.take() == b""


def test_byte_inside_trailing_guard_time_cancels_escape(line: Line) -> None:
    """§2 (D5): any byte, CR included, after ``+++`` within the guard time cancels it."""
    time.sleep(GUARD * 1.5)
    line.send(b"+++")
    line.send(b"\r")
    time.sleep(GUARD * 3)
    assert line.take() == b""
    assert not line.modem.command_mode


def test_plus_without_leading_silence_is_data(line: Line) -> None:
    """§2, §13 pitfall 13: ``+++`` right after other bytes is data, not an escape."""
    time.sleep(GUARD * 1.5)
    line.send(b"x+++")
    time.sleep(GUARD * 3)
    assert line.take() == b""
    assert not line.modem.command_mode


def test_custom_command_character(line: Line) -> None:
    """§2: CC sets the escape character (default 0x2B)."""
    line.escape()
    assert line.at("ATCC2D") == "OK"
    assert line.at("ATCN") == "OK"
    time.sleep(GUARD * 1.5)
    line.send(b"---")
    assert line.read_until(b"\r") == b"OK\r"


def test_parameters_hex_in_and_out(line: Line) -> None:
    """§2 syntax: hex values, ``0x`` accepted, reads without leading zeros; §13 pitfall 1."""
    line.escape()
    assert line.at("ATDE1BB") == "OK"
    assert line.at("ATDE") == "1BB"
    assert line.at("ATDE 0x0050") == "OK"  # a space after the name is accepted too
    assert line.at("ATDE") == "50"
    assert line.at("ATDE443") == "OK"  # decimal 443 is hex 0x443 = port 1091
    assert line.at("ATDE") == "443"
    assert line.modem.params["DE"] == 1091
    assert line.at("ATDEXYZ") == "ERROR"
    assert line.at("ATDE10000") == "ERROR"  # beyond 0xFFFF


def test_string_parameters_and_profiles(line: Line) -> None:
    """§3: AN, DL as text; ``$0`` default ``;;`` and ``ca;cert;key``."""
    line.escape()
    assert line.at("AT$0") == ";;"
    assert line.at("AT$0root.pem;;") == "OK"
    assert line.at("AT$0") == "root.pem;;"
    assert line.at("ATANiot.example") == "OK"
    assert line.at("ATAN") == "iot.example"
    assert line.at("ATDLgoogle.com") == "OK"
    assert line.at("ATDL") == "google.com"
    assert line.at("AT$1a;b;c;d") == "ERROR"


def test_unknown_command_and_no_prefix(line: Line) -> None:
    """§2: a bad command prints ``ERROR``; ``AT`` alone prints ``OK``."""
    line.escape()
    assert line.at("ATQQ") == "ERROR"
    assert line.at("hello") == "ERROR"
    assert line.at("AT") == "OK"


def test_comma_separated_commands(line: Line) -> None:
    """§2 (D2 p.140): ``ATNIMy XBee,AC``."""
    line.escape()
    line.send(b"ATNIMy XBee,AC\r")
    assert line.read_until(b"OK\rOK\r") == b"OK\rOK\r"
    assert line.at("ATNI") == "My XBee"


def test_identity_reads(line: Line) -> None:
    """§2 useful reads: HS B08 on XBee3 LTE-M, VR, HV (C1 hardware code 0x4B), IM."""
    line.escape()
    assert line.at("ATHS") == "B08"
    assert line.at("ATHV")[:2] == "4B"
    assert line.at("ATVR") == "11415"
    assert line.at("ATIM") == line.modem.imei


def test_cat1_model_identity() -> None:
    """§2: HS B06 is the XBee3 Cat 1 AT&T; §1 HV 0x49."""
    host = Line(model="cat1")
    try:
        host.escape()
        assert host.at("ATHS") == "B06"
        assert host.at("ATHV")[:2] == "49"
    finally:
        host.close()


def test_changes_apply_on_cn_and_ap_switches_to_api(line: Line) -> None:
    """§2: changes take effect on CN; AP=1 then API frames (§6)."""
    line.escape()
    assert line.at("ATAP1") == "OK"
    assert line.modem.op_mode == 0  # not yet applied
    assert line.at("ATCN") == "OK"
    assert line.modem.op_mode == 1
    line.send(bytes.fromhex("7E00040801414 96C".replace(" ", "")))
    assert line.read_exact(10) == bytes.fromhex("7E0006880141490000EC")


def test_ac_applies_without_leaving(line: Line) -> None:
    """§2: AC applies at once and stays in command mode."""
    line.escape()
    assert line.at("ATAP2") == "OK"
    assert line.at("ATAC") == "OK"
    assert line.modem.op_mode == 2
    assert line.modem.command_mode
    assert line.at("ATAP") == "2"


def test_ct_timeout_leaves_command_mode(line: Line) -> None:
    """§2: after CT x 100 ms of silence command mode ends (§13 pitfall 15)."""
    line.escape()
    assert line.at("ATCT2") == "OK"  # 200 ms
    assert line.at("ATAC") == "OK"
    time.sleep(0.6)
    assert not line.modem.command_mode
    line.send(b"ATCI\r")  # now data in transparent mode: no answer
    time.sleep(0.2)
    assert line.take() == b""


def test_wr_keeps_settings_across_reset_and_ram_is_lost(line: Line) -> None:
    """§2: WR writes to flash; a reset (FR) reloads it; unwritten changes are lost."""
    line.escape()
    assert line.at("ATDE1BB") == "OK"
    assert line.at("ATWR") == "OK"
    assert line.at("ATDLexample.com") == "OK"
    assert line.at("ATFR") == "OK"
    time.sleep(0.4)
    assert not line.modem.command_mode  # command mode is lost on reset (C3)
    line.escape()
    assert line.at("ATDE") == "1BB"
    assert line.at("ATDL") == "0.0.0.0"


def test_re_restores_defaults_until_wr(line: Line) -> None:
    """§2: RE restores defaults, not written until WR."""
    line.escape()
    assert line.at("ATDE50") == "OK"
    assert line.at("ATWR") == "OK"
    assert line.at("ATRE") == "OK"
    assert line.at("ATDE") == "0"
    line.modem.reboot()
    line.escape()
    assert line.at("ATDE") == "50"


def test_nvm_file_survives_a_new_process(tmp_path: Path) -> None:
    """NVM after WR is kept in ``nvram_path`` (a new modem object reads it)."""
    path = tmp_path / "xbee.json"
    first = Line(nvram_path=path)
    first.escape()
    assert first.at("ATAN") == ""
    assert first.at("ATANapn.test") == "OK"
    assert first.at("ATWR") == "OK"
    first.close()
    second = Line(nvram_path=path)
    try:
        second.escape()
        assert second.at("ATAN") == "apn.test"
    finally:
        second.close()


def test_ai_goes_through_registration_states() -> None:
    """§4 AI: 0xFF initialising, 0x23 connecting, 0x00 connected (§13 pitfall 29: poll AI)."""
    host = Line(registration_delay=0.6)
    try:
        host.escape()
        assert host.at("ATAI") == "FF"
        time.sleep(0.4)
        assert host.at("ATAI") == "23"
        time.sleep(0.4)
        assert host.at("ATAI") == "0"
    finally:
        host.close()


def test_ai_special_states(line: Line) -> None:
    """§4 AI: 0x2A airplane mode, 0x22 registering after a lost registration, 0x2D after SD
    (D2 p.186)."""
    line.escape()
    assert line.at("ATAM1") == "OK"
    assert line.at("ATAI") == "2A"
    assert line.at("ATAM0") == "OK"
    line.modem.fault_lose_registration()
    assert line.at("ATAI") == "22"
    line.modem.fault_restore_registration()
    assert line.at("ATAI") == "0"
    assert line.at("ATSD0") == "OK"
    assert line.at("ATAI") == "2D"


def test_bd_range(line: Line) -> None:
    """§3 BD: 0-0xA standard, 0x4B0-0xEC400 custom, nothing between."""
    line.escape()
    assert line.at("ATBD7") == "OK"
    assert line.at("ATBD") == "7"
    assert line.at("ATBD100") == "ERROR"
    assert line.at("ATBD1C200") == "OK"


def test_lookup_and_my_address(line: Line) -> None:
    """§2: ``LA<host>`` gives a dotted IP; MY the module's address."""
    line.escape()
    assert line.at("ATLAlocalhost") == "127.0.0.1"
    assert line.at("ATLAno-such-host.invalid") == "ERROR"
    assert line.at("ATMY").count(".") == 3


def test_wrong_apn_stays_connecting() -> None:
    """§4 AI 0x23 (connecting to the Internet) while the APN is not the network's; no socket
    opens (0xC0 0x22); with the right AN, AI 0x00."""
    from tests.xbee3.test_xbee3_modem_support import frame

    host = Line(network_apn="iot.test")
    try:
        host.escape()
        assert host.at("ATAI") == "23"
        assert host.at("ATAP1") == "OK"
        assert host.at("ATCN") == "OK"
        host.send(frame(b"\x40\x01\x04"))
        assert host.frames(1) == [b"\xc0\x01\xff\x22"]
        host.send(frame(b"\x08\x02ANiot.test"))
        assert host.frames(1) == [b"\x88\x02AN\x00"]
        host.send(frame(b"\x08\x03AI"))
        assert host.frames(1) == [b"\x88\x03AI\x00\x00"]
    finally:
        host.close()
