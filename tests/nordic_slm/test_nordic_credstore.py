"""``AT%CMNG`` on the virtual nRF91 SLM: the credential rules, and Nordic's nrfcredstore tool.

Rules from shared/reference/nordic-slm.md §5 (S7, S6, L3, L7); the list line and SHA-256 as
nrfcredstore (S9, PyPI ``nrfcredstore``) reads them from a real nRF91. The tool talks to the
virtual modem over a pseudo-terminal served by :class:`celltls.sim.serve.VirtualModemServer`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from celltls.dialects.nordic_slm.modem import NordicSlmModem, factory
from celltls.sim.httpsd import make_pki
from celltls.sim.serve import VirtualModemServer
from tests.nordic_slm.line import Line


@pytest.fixture(scope="module")
def pems() -> dict[str, str]:
    pki = make_pki()
    client = pki.client("device-1")
    return {"ca": pki.ca_pem.decode().strip(), "cert": client.cert_pem.decode().strip(),
            "key": client.key_pem.decode().strip()}


@pytest.fixture
def line() -> Iterator[Line]:
    modem = factory()
    h = Line(modem, timeout=5.0)
    assert h.cmd("AT+CMEE=1") == b"\r\nOK\r\n"
    yield h
    modem.shutdown()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest().upper()


def test_write_list_read_delete(line: Line, pems: dict[str, str]) -> None:
    """§5: write → OK; list ``%CMNG: <tag>,<type>,"<SHA-256>"`` upper-case hex, one per
    entry, filtered by tag and type; read returns the content as written; delete."""
    assert line.cmd(f'AT%CMNG=0,16842753,0,"{pems["ca"]}"') == b"\r\nOK\r\n"
    assert line.cmd(f'AT%CMNG=0,16842753,1,"{pems["cert"]}"') == b"\r\nOK\r\n"
    assert line.cmd(f'AT%CMNG=0,7,0,"{pems["ca"]}"') == b"\r\nOK\r\n"
    ca, cert = _sha(pems["ca"]), _sha(pems["cert"])
    assert line.cmd("AT%CMNG=1") == (
        f'\r\n%CMNG: 7,0,"{ca}"\r\n%CMNG: 16842753,0,"{ca}"\r\n'
        f'%CMNG: 16842753,1,"{cert}"\r\n\r\nOK\r\n').encode()
    assert line.cmd("AT%CMNG=1,16842753,1") == (
        f'\r\n%CMNG: 16842753,1,"{cert}"\r\n\r\nOK\r\n').encode()
    assert line.cmd("AT%CMNG=2,7,0") == (
        f'\r\n%CMNG: 7,0,"{ca}","{pems["ca"]}"\r\n\r\nOK\r\n').encode()
    assert line.cmd("AT%CMNG=3,7,0") == b"\r\nOK\r\n"
    assert line.cmd("AT%CMNG=1,7") == b"\r\nOK\r\n"
    assert line.cmd("AT%CMNG=3,7,0") == b"\r\n+CME ERROR: 513\r\n"
    assert line.cmd("AT%CMNG=2,7,0") == b"\r\n+CME ERROR: 513\r\n"


def test_writes_refused_while_active(line: Line, pems: dict[str, str]) -> None:
    """§5/§14 (S7, L7): write and delete in +CFUN 1 or 21 → +CME ERROR: 518; after +CFUN=4
    they work; list and read work in any mode."""
    line.cmd(f'AT%CMNG=0,5,0,"{pems["ca"]}"')
    for fun in ("1", "21"):
        line.cmd(f"AT+CFUN={fun}")
        assert line.cmd(f'AT%CMNG=0,6,0,"{pems["ca"]}"') == b"\r\n+CME ERROR: 518\r\n"
        assert line.cmd("AT%CMNG=3,5,0") == b"\r\n+CME ERROR: 518\r\n"
        assert line.cmd("AT%CMNG=1").startswith(b'\r\n%CMNG: 5,0,"')
    line.cmd("AT+CFUN=4")
    assert line.cmd(f'AT%CMNG=0,6,0,"{pems["ca"]}"') == b"\r\nOK\r\n"
    assert line.cmd("AT+CMEE=0") == b"\r\nOK\r\n"
    line.cmd("AT+CFUN=1")
    assert line.cmd("AT%CMNG=3,6,0") == b"\r\nERROR\r\n"  # without CMEE: plain ERROR


def test_content_rules(line: Line, pems: dict[str, str]) -> None:
    """§5: CR LF line ends → 527 (L3); empty content not allowed; PSK is a hex string;
    keys and PSKs cannot be read back (choice: 514); reserved tags/types 514."""
    crlf = pems["ca"].replace("\n", "\r\n")
    assert line.cmd(f'AT%CMNG=0,8,0,"{crlf}"') == b"\r\n+CME ERROR: 527\r\n"
    assert line.cmd('AT%CMNG=0,8,0,""') == b"\r\n+CME ERROR: 527\r\n"
    assert line.cmd('AT%CMNG=0,8,3,"not hex"') == b"\r\n+CME ERROR: 527\r\n"
    assert line.cmd('AT%CMNG=0,8,3,"0123456789ABCDEF"') == b"\r\nOK\r\n"
    assert line.cmd('AT%CMNG=0,8,4,"device-1"') == b"\r\nOK\r\n"
    assert line.cmd(f'AT%CMNG=0,8,2,"{pems["key"]}"') == b"\r\nOK\r\n"
    assert line.cmd("AT%CMNG=2,8,2") == b"\r\n+CME ERROR: 514\r\n"
    assert line.cmd("AT%CMNG=2,8,3") == b"\r\n+CME ERROR: 514\r\n"
    assert line.cmd("AT%CMNG=2,8,4") == (
        f'\r\n%CMNG: 8,4,"{_sha("device-1")}","device-1"\r\n\r\nOK\r\n').encode()
    assert line.cmd(f'AT%CMNG=0,4294967292,0,"{pems["ca"]}"') == b"\r\n+CME ERROR: 514\r\n"
    assert line.cmd(f'AT%CMNG=0,9,6,"{pems["ca"]}"') == b"\r\n+CME ERROR: 514\r\n"
    assert line.cmd("AT%CMNG=0,9") == b"\r\n+CME ERROR: 50\r\n"


def test_store_survives_cfun_and_reset_and_overwrite(line: Line, pems: dict[str, str]) -> None:
    """§5: credentials are in NVM: kept across +CFUN changes and AT#XRESET; a second write
    of the same (sec_tag, type) replaces the first (choice)."""
    line.cmd(f'AT%CMNG=0,3,0,"{pems["ca"]}"')
    line.cmd(f'AT%CMNG=0,3,0,"{pems["cert"]}"')
    line.cmd("AT+CFUN=1")
    line.cmd("AT+CFUN=0")
    assert line.cmd("AT#XRESET") == b"\r\nOK\r\n"
    assert line.cmd("AT%CMNG=1") == (  # "Ready" first: the reset's boot message (§3)
        f'Ready\r\n\r\n%CMNG: 3,0,"{_sha(pems["cert"])}"\r\n\r\nOK\r\n').encode()


def test_private_key_not_in_transcript(pems: dict[str, str]) -> None:
    """Private keys never reach a transcript (DESIGN: secrets)."""
    modem = factory()
    modem.keep_transcript = True
    h = Line(modem)
    h.cmd(f'AT%CMNG=0,8,2,"{pems["key"]}"')
    recorded = b"".join(data for _direction, data in modem.transcript)
    body = pems["key"].splitlines()[1].encode()
    assert body not in recorded
    assert b"<redacted" in recorded
    modem.shutdown()


# ---------------------------------------------------------------- nrfcredstore (S9)
@pytest.fixture
def credstore(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[object, VirtualModemServer]]:
    nrf_comms = pytest.importorskip("nrfcredstore.comms")
    from nrfcredstore.command_interface import ATCommandInterface
    from nrfcredstore.credstore import CredStore

    with VirtualModemServer("nordic-slm", pty=True) as server:
        # nrfcredstore looks the port up among USB serial ports; a pty is not listed there
        monkeypatch.setattr(nrf_comms, "select_device",
                            lambda rtt, serial, port, list_all: (SimpleNamespace(device=port),
                                                                 None))
        comms = nrf_comms.Comms(port=server.url, timeout=1)
        try:
            iface = ATCommandInterface(comms)
            iface.detect_shell_mode()
            iface.enable_error_codes()
            yield CredStore(iface), server
        finally:
            with contextlib.suppress(Exception):
                comms.close()


def test_nrfcredstore_write_list_delete(credstore: tuple[object, VirtualModemServer],
                                        pems: dict[str, str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """nrfcredstore (S9) writes, lists with SHA-256 and deletes on the virtual modem as on a
    real nRF91: refused online (518), accepted offline (+CFUN=4, what its CLI does)."""
    from nrfcredstore import cli
    from nrfcredstore.credstore import CredType

    store, server = credstore
    assert isinstance(server.modem, NordicSlmModem)
    assert store.func_mode(1)  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        store.write(42, CredType.ROOT_CA_CERT, io.StringIO(pems["ca"] + "\n"))  # type: ignore[attr-defined]
    assert store.func_mode(4)  # type: ignore[attr-defined]
    store.write(42, CredType.ROOT_CA_CERT, io.StringIO(pems["ca"] + "\n"))  # type: ignore[attr-defined]
    store.write(42, CredType.CLIENT_KEY, io.StringIO(pems["key"] + "\n"))  # type: ignore[attr-defined]
    listed = store.list()  # type: ignore[attr-defined]
    assert [(c.tag, c.type, c.sha) for c in listed] == [
        (42, CredType.ROOT_CA_CERT, _sha(pems["ca"])),
        (42, CredType.CLIENT_KEY, _sha(pems["key"]))]
    iface = store.command_interface  # type: ignore[attr-defined]
    # the tool's own "is it already there" check agrees with the modem's digest
    exists, sha = iface.check_credential_exists(42, 0)
    assert exists and sha == iface.calculate_expected_hash(pems["ca"])
    assert server.modem.credential(42, 0) == pems["ca"]
    # its command line, as a user runs it (list after going offline)
    cli.main(cli.parse_args([server.url, "--cmd-type", "at", "list", "--tag", "42"]), store)
    table = capsys.readouterr().out
    assert f"42           ROOT_CA_CERT       {_sha(pems['ca'])}" in table
    store.delete(42, CredType.CLIENT_KEY)  # type: ignore[attr-defined]
    assert [c.type for c in store.list(42)] == [CredType.ROOT_CA_CERT]  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError):
        store.delete(42, CredType.CLIENT_KEY)  # type: ignore[attr-defined]
