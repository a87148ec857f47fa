"""Shared fixtures of the Nordic SLM tests: a test PKI, a local HTTPS server, the virtual modem,
and a scripted SLM port for driver unit tests.

:class:`ScriptedSlm` is written for the driver tests from shared/reference/nordic-slm.md only
(NRF-REF 3: CR LF ends a line outside quotes, CR/LF inside quotes are data; 7: data mode after
``AT#XSEND`` until ``+++``, then ``#XDATAMODE: 0``); each test gives the answers it needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from celltls.sim.httpsd import PKI, LocalHTTPSServer, make_pki
from celltls.sim.serve import VirtualModemServer

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"

Handler = Callable[["ScriptedSlm", str], "bytes | None"]


def basic(port: ScriptedSlm, line: str) -> bytes | None:
    """Answers of an idle SLM v3.1 with nothing open (NRF-REF 3, 4, 6.2, 8.1, 12)."""
    answers = {
        "AT+CGMM": b"\r\nnRF9160-SICA\r\n" + OK,
        "AT+CGMR": b"\r\nmfw_nrf9160_1.3.0\r\n" + OK,
        "AT#XSLMVER": b'\r\n#XSLMVER: "3.1.0","3.1.0-lte"\r\n' + OK,
        "AT#XSOCKETSELECT?": OK,
        "AT#XHTTPCCON?": b"\r\n#XHTTPCCON: 0\r\n" + OK,
        "AT+CFUN?": f"\r\n+CFUN: {port.cfun}\r\n".encode() + OK,
        "AT+CEREG?": b'\r\n+CEREG: 5,1,"5209","0A19790D",9,,,"11100000","00000110"\r\n' + OK,
        "AT+CGPADDR=0": b'\r\n+CGPADDR: 0,"10.0.0.1"\r\n' + OK,
    }
    if line in answers:
        return answers[line]
    if line.startswith("AT+CFUN="):
        port.cfun = int(line.split("=")[1])
        return OK
    return None


class ScriptedSlm:
    """A pyserial-like port answering like SLM through ``handlers`` (first non-``None`` answer
    wins, default ``OK``). It records every line (:attr:`lines`), every byte the host wrote
    (:attr:`written`) and every data-mode payload (:attr:`payloads`)."""

    name = "scripted-slm"
    timeout = 0.02

    def __init__(self, *handlers: Handler) -> None:
        self.handlers = [*handlers, basic]
        self.cfun = 1
        self.out = bytearray()
        self.cond = threading.Condition()
        self.buf = bytearray()
        self.written = bytearray()
        self.lines: list[str] = []
        self.payloads: list[bytes] = []
        self.datamode = False

    @property
    def in_waiting(self) -> int:
        with self.cond:
            return len(self.out)

    def read(self, size: int = 1) -> bytes:
        with self.cond:
            if not self.out:
                self.cond.wait(0.02)
            data = bytes(self.out[:size])
            del self.out[:size]
            return data

    def write(self, data: bytes) -> int:
        self.written += data
        self.buf += data
        self._process()
        return len(data)

    def close(self) -> None:
        pass

    def emit(self, data: bytes) -> None:
        with self.cond:
            self.out += data
            self.cond.notify_all()

    def _process(self) -> None:
        while True:
            if self.datamode:
                end = self.buf.find(b"+++")
                if end < 0:
                    return
                self.payloads.append(bytes(self.buf[:end]))
                del self.buf[: end + 3]
                self.datamode = False
                self.emit(b"\r\n#XDATAMODE: 0\r\n")
                continue
            quoted = False
            for index, byte in enumerate(self.buf):
                if byte == 0x22:
                    quoted = not quoted
                elif not quoted and self.buf[index : index + 2] == b"\r\n":
                    line = self.buf[:index].decode("latin-1")
                    del self.buf[: index + 2]
                    self._command(line)
                    break
            else:
                return

    def _command(self, line: str) -> None:
        self.lines.append(line)
        for handler in self.handlers:
            answer = handler(self, line)
            if answer is not None:
                break
        else:
            answer = OK
        if line == "AT#XSEND":
            self.datamode = True
        self.emit(answer)


@pytest.fixture(scope="module")
def pki() -> PKI:
    return make_pki(key_type="rsa")


@pytest.fixture(scope="module")
def https(pki: PKI) -> Iterator[LocalHTTPSServer]:
    with LocalHTTPSServer(cert_chain_pem=pki.server_chain_pem, key_pem=pki.server_key_pem) as s:
        yield s


@pytest.fixture
def sim() -> Iterator[VirtualModemServer]:
    with VirtualModemServer("nordic-slm") as server:
        yield server
