"""The threaded AT channel against a scripted module on a local TCP socket.

The scripted module stands in for hardware misbehaving in ways the virtual modems do not on
purpose: answers that come after the command timed out, a port that dies, garbled headers.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from celltls.at.channel import ATChannel
from celltls.at.protocol import Request
from celltls.dialects.quectel_gsm.catalog import CATALOG
from celltls.errors import (
    ATProtocolError,
    ATTimeoutError,
    PortLostError,
    UnsafeArgumentError,
)

Script = Callable[[str], list[tuple[float, bytes]]]


class ScriptedModem:
    """Answers each command line with (delay, bytes) pairs from ``script``."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.lines: list[str] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self.server.getsockname()[1]}"
        self.conn: socket.socket | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        self.conn = conn
        buf = b""
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            buf += data
            while b"\r" in buf:
                raw, buf = buf.split(b"\r", 1)
                line = raw.decode()
                self.lines.append(line)
                for delay, answer in self.script(line):
                    time.sleep(delay)
                    conn.sendall(answer)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.server.close()


@pytest.fixture
def scripted() -> Iterator[Callable[[Script], ScriptedModem]]:
    made: list[ScriptedModem] = []

    def make(script: Script) -> ScriptedModem:
        modem = ScriptedModem(script)
        made.append(modem)
        return modem

    yield make
    for modem in made:
        modem.close()


def test_late_answer_is_not_taken_for_the_next_command(scripted) -> None:  # type: ignore[no-untyped-def]
    def script(line: str) -> list[tuple[float, bytes]]:
        if line == "AT+SLOW":
            return [(0.6, b"\r\n+SLOW: 42\r\n\r\nOK\r\n")]
        if line == "AT+CGMM":
            return [(0, b"\r\nQuectel_M66\r\n\r\nOK\r\n")]
        return [(0, b"\r\nOK\r\n")]

    modem = scripted(script)
    with ATChannel(modem.url) as channel:
        with pytest.raises(ATTimeoutError):
            channel.command("AT+SLOW", timeout=0.3)
        time.sleep(0.5)  # the late answer arrives now, while nothing is pending
        assert channel.command("AT+CGMM", timeout=2).lines == ["Quectel_M66"]
        assert "AT" in modem.lines  # the line was resynchronised with a bare AT


def test_close_wakes_a_blocked_reader(scripted) -> None:  # type: ignore[no-untyped-def]
    modem = scripted(lambda line: [(0, b"\r\nOK\r\n")])
    channel = ATChannel(modem.url)
    channel.protocol.enter_raw_mode()
    errors: list[BaseException] = []

    def read() -> None:
        try:
            channel.read_raw(10, None)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=read)
    thread.start()
    time.sleep(0.2)
    channel.close()
    thread.join(timeout=3)
    assert not thread.is_alive()
    assert errors and isinstance(errors[0], PortLostError)
    assert errors[0].exit_code == 56  # curl: failure receiving data


def test_lost_port_fails_the_command_with_port_error(scripted) -> None:  # type: ignore[no-untyped-def]
    holder: list[ScriptedModem] = []

    def script(line: str) -> list[tuple[float, bytes]]:
        if line == "AT+DIE":
            assert holder[0].conn is not None
            holder[0].conn.shutdown(socket.SHUT_RDWR)
            return []
        return [(0, b"\r\nOK\r\n")]

    holder.append(scripted(script))
    with ATChannel(holder[0].url) as channel:
        channel.command("AT", timeout=2)
        with pytest.raises((PortLostError, ATTimeoutError)):
            channel.command("AT+DIE", timeout=3)


def test_garbled_block_header_does_not_swallow_the_line(scripted) -> None:  # type: ignore[no-untyped-def]
    def script(line: str) -> list[tuple[float, bytes]]:
        if line.startswith("AT+QSSLRECV"):
            return [(0, b"\r\n+QSSLRECV: 1.2.3.4:443,TCP,99999999\r\nab\r\nOK\r\n")]
        return [(0, b"\r\nOK\r\n")]

    modem = scripted(script)
    with ATChannel(modem.url, data_blocks=CATALOG.data_blocks) as channel:
        reply = channel.command("AT+QSSLRECV=0,1,1500", timeout=2,
                                response_prefixes=("+QSSLRECV:",))
        assert not reply.blocks
        assert reply.lines[0].startswith("+QSSLRECV:")
        assert channel.command("AT", timeout=2).final is not None


def test_unsafe_line_is_refused_and_the_channel_stays_usable(scripted) -> None:  # type: ignore[no-untyped-def]
    modem = scripted(lambda line: [(0, b"\r\nOK\r\n")])
    with ATChannel(modem.url) as channel:
        with pytest.raises(UnsafeArgumentError):
            channel.command('AT+X="\u00e9"', timeout=1)
        with pytest.raises(UnsafeArgumentError):
            channel.execute(Request("AT+X=1\rAT+QIDEACT", timeout=1, shown="AT+X=***"))
        assert channel.command("AT", timeout=2).final is not None
    assert modem.lines == ["AT"]


def test_raw_mode_refuses_commands_with_a_protocol_error(scripted) -> None:  # type: ignore[no-untyped-def]
    modem = scripted(lambda line: [(0, b"\r\nOK\r\n")])
    with ATChannel(modem.url) as channel:
        channel.protocol.enter_raw_mode()
        with pytest.raises(ATProtocolError, match="data mode"):
            channel.command("AT", timeout=1)


def test_escape_returns_when_the_module_leaves_data_mode_during_the_guard_time(
        scripted) -> None:  # type: ignore[no-untyped-def]
    """The server closed the connection: the module prints ``CLOSED`` and is back in command
    mode (Quectel GSM SSL-AN 1.2 step 6) while the host waits out the guard time before
    ``+++``. escape() returns at once then, and writes nothing (a ``+++`` in command mode
    would only be garbage on the line)."""
    modem = scripted(lambda line: [(0, b"\r\nOK\r\n")])
    with ATChannel(modem.url) as channel:
        channel.configure(CATALOG.framing())
        channel.protocol.enter_raw_mode()
        for _ in range(100):  # the scripted module has accepted the connection
            if modem.conn is not None:
                break
            time.sleep(0.05)

        def server_closes() -> None:
            time.sleep(0.3)
            assert modem.conn is not None
            modem.conn.sendall(b"last bytes\r\nCLOSED\r\n")

        threading.Thread(target=server_closes, daemon=True).start()
        started = time.monotonic()
        channel.escape(guard_time=30.0)
        assert time.monotonic() - started < 15.0  # not the 30 s guard time
        assert not channel.in_data_mode
        assert channel.read_raw(100, timeout=1) == b"last bytes"
        assert channel.read_raw(100, timeout=1) == b""
        assert channel.command("AT", timeout=2).final.text == "OK"
    assert modem.lines == ["AT"]  # no +++ before it


def _paced_through(modem: ScriptedModem, channel: ATChannel, data: bytes, *, piece: int,
                   pause: float) -> bytes:
    """Send ``data`` from the scripted module in ``piece``-byte writes ``pause`` seconds apart,
    then read in transparent mode what the channel delivers, as many bytes as were sent."""
    conn = _accepted(modem)
    for start in range(0, len(data), piece):
        conn.sendall(data[start : start + piece])
        time.sleep(pause)
    got = b""
    while len(got) < len(data):
        got += channel.read_raw(65536, timeout=5)
    return got


def _accepted(modem: ScriptedModem) -> socket.socket:
    """The scripted module's end of the line, once it has accepted the channel's connection."""
    for _ in range(100):
        if modem.conn is not None:
            return modem.conn
        time.sleep(0.05)
    raise AssertionError("the scripted module never accepted the connection")


def test_raw_coalescing_loses_and_reorders_nothing_and_close_stays_prompt(
        scripted) -> None:  # type: ignore[no-untyped-def]
    """``raw_coalescing`` (a bulk transparent stream on a slow line) only delays reads: every
    byte arrives, in order, and close() still ends the reader at once (the wait is on the
    wake-up pipe)."""
    modem = scripted(lambda line: [(0, b"\r\nOK\r\n")])
    with ATChannel(modem.url, baudrate=9600) as channel:
        channel.raw_coalescing = True
        channel.protocol.enter_raw_mode()
        _accepted(modem)
        sent = bytes(range(256)) * 8
        # small pieces, as a USB adapter delivers them
        assert _paced_through(modem, channel, sent, piece=37, pause=0.001) == sent
        started = time.monotonic()
    assert time.monotonic() - started < 1.0


def test_a_bulk_transparent_stream_is_read_in_growing_pieces_and_a_pause_starts_over(
        scripted, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """``raw_coalescing`` on a ``socket://`` port: while each read fills the low-water mark, the
    mark doubles from ``_TRICKLE`` (512) up to the bytes 20 ms of the line carry (1,843 at
    921600 bit/s); every byte arrives in order; after a pause a short piece is still delivered
    (the mark's wait is bounded) and the mark starts over from 512; close() stays prompt
    (issue 17: the CPU of a transparent download is paid per wake-up, so fewer, larger reads)."""
    marks: list[int] = []
    set_low_water = ATChannel._set_low_water

    def recording(self: ATChannel, wait: float) -> float:
        result = set_low_water(self, wait)
        marks.append(self._lowat)
        return result

    monkeypatch.setattr(ATChannel, "_set_low_water", recording)
    modem = scripted(lambda line: [(0, b"\r\nOK\r\n")])
    with ATChannel(modem.url, baudrate=921600) as channel:
        channel.raw_coalescing = True
        channel.protocol.enter_raw_mode()
        _accepted(modem)
        sent = _recv_block(64 * 1024)
        # 480 bytes: 5.2 ms on the line at 921600
        assert _paced_through(modem, channel, sent, piece=480, pause=0.004) == sent
        assert 512 in marks and 1024 in marks and 1843 in marks, marks
        assert max(marks) == 1843, marks  # 20 ms of the line, never more
        grown = len(marks)
        modem.conn.sendall(b"tail")  # after the pause: a short piece, below any mark
        assert channel.read_raw(100, timeout=5) == b"tail"
        for _ in range(100):  # the reader's next wait starts over from _TRICKLE
            if len(marks) > grown + 1:
                break
            time.sleep(0.01)
        assert marks[-1] == 512, marks[grown - 3:]
        started = time.monotonic()
    assert time.monotonic() - started < 1.0


def _in_transparent_mode(modem, channel: ATChannel) -> None:  # type: ignore[no-untyped-def]
    channel.configure(CATALOG.framing())  # Quectel GSM: the exit marker is CR LF CLOSED CR LF
    channel.protocol.enter_raw_mode()
    _accepted(modem)


@pytest.mark.parametrize("cut", [1, 2])
def test_an_exit_marker_split_after_its_cr_across_two_reads_ends_data_mode(
        scripted, cut: int) -> None:  # type: ignore[no-untyped-def]
    """A USB serial adapter may deliver ``\\r\\nCLOSED\\r\\n`` in two packets, the second one a
    latency timer later, split anywhere, even between CR and LF (a read that ends there used to
    deliver CR LF as payload and miss the marker: the next read then timed out)."""
    modem = scripted(lambda line: [(0, b"\r\nOK\r\n")])
    with ATChannel(modem.url) as channel:
        _in_transparent_mode(modem, channel)
        assert modem.conn is not None
        stream = b"last bytes\r\nCLOSED\r\n"
        modem.conn.sendall(stream[: 10 + cut])
        time.sleep(0.02)  # a 16 ms latency timer, and some
        modem.conn.sendall(stream[10 + cut :])
        got = b""
        while chunk := channel.read_raw(100, timeout=2):
            got += chunk
        assert got == b"last bytes"
        assert not channel.in_data_mode
        assert channel.command("AT", timeout=2).final.text == "OK"


def test_a_payload_ending_in_cr_lf_is_delivered_when_the_line_goes_quiet(
        scripted) -> None:  # type: ignore[no-untyped-def]
    """The end of an HTTP message (CR LF) on a connection the server keeps open: the CR LF
    could start ``CLOSED``'s marker, so it is held back, but only until the line has been
    quiet for a moment; data mode goes on."""
    modem = scripted(lambda line: [(0, b"\r\nOK\r\n")])
    with ATChannel(modem.url) as channel:
        _in_transparent_mode(modem, channel)
        assert modem.conn is not None
        modem.conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        got = b""
        while len(got) < 27:
            got += channel.read_raw(100, timeout=2)
        assert got == b"HTTP/1.1 204 No Content\r\n\r\n"
        assert channel.in_data_mode
        modem.conn.sendall(b"more\r\nCLOSED\r\n")
        assert channel.read_raw(100, timeout=2) == b"more"
        assert channel.read_raw(100, timeout=2) == b""


def _recv_block(size: int) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(size))


def test_a_block_trickling_in_is_read_whole_in_few_reads(
        scripted, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """On a ``socket://`` port the reader waits for the rest of a data block (SO_RCVLOWAT)
    instead of waking for every TCP segment: 60 pieces of 25 bytes, 4 ms apart, take a
    handful of reads, and the block is exact (issue 17)."""
    body = _recv_block(1500)

    def script(line: str) -> list[tuple[float, bytes]]:
        if line.startswith("AT+QSSLRECV"):
            pieces = [(0.0, b"\r\n+QSSLRECV: 1.2.3.4:443,TCP,1500\r\n")]
            pieces += [(0.004, body[i:i + 25]) for i in range(0, 1500, 25)]
            return [*pieces, (0.0, b"\r\nOK\r\n")]
        return [(0, b"\r\nOK\r\n")]

    reads: list[int] = []
    read_some = ATChannel._read_some

    def counting(self: ATChannel, wait: float = 1.0) -> bytes:
        data = read_some(self, wait)
        if data:
            reads.append(len(data))
        return data

    monkeypatch.setattr(ATChannel, "_read_some", counting)
    modem = scripted(script)
    with ATChannel(modem.url, baudrate=921600, data_blocks=CATALOG.data_blocks) as channel:
        reply = channel.command("AT+QSSLRECV=0,1,1500", timeout=5,
                                response_prefixes=("+QSSLRECV:",))
        assert b"".join(block.data for block in reply.blocks) == body
        assert len(reads) < 25, reads  # one read per piece would be 60


def test_the_low_water_mark_ends_with_the_block(scripted) -> None:  # type: ignore[no-untyped-def]
    """After a block the reader wakes for every byte again: a short answer on a port whose
    nominal rate is slow (9600 bit/s: a 1500-byte mark would wait 3 s) comes at once; and a
    block cut short ends in the command's timeout, not a hang."""
    body = _recv_block(1500)

    def script(line: str) -> list[tuple[float, bytes]]:
        if line == "AT+QSSLRECV=0,1,1500":
            return [(0, b"\r\n+QSSLRECV: 1.2.3.4:443,TCP,1500\r\n"), (0.02, body),
                    (0, b"\r\nOK\r\n")]
        if line == "AT+QSSLRECV=0,1,1000":
            return [(0, b"\r\n+QSSLRECV: 1.2.3.4:443,TCP,1000\r\n"), (0.02, body[:100])]
        return [(0, b"\r\nOK\r\n")]

    modem = scripted(script)
    with ATChannel(modem.url, baudrate=9600, data_blocks=CATALOG.data_blocks) as channel:
        reply = channel.command("AT+QSSLRECV=0,1,1500", timeout=5,
                                response_prefixes=("+QSSLRECV:",))
        assert reply.blocks[0].data == body
        started = time.monotonic()
        assert channel.command("AT+CSQ", timeout=0.5).final is not None
        assert time.monotonic() - started < 0.5
        with pytest.raises(ATTimeoutError):
            channel.command("AT+QSSLRECV=0,1,1000", timeout=0.5, response_prefixes=("+QSSLRECV:",))


def test_a_late_rest_of_a_block_does_not_keep_what_came_unread(
        scripted, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The low-water mark asks for the whole rest of a block; when it is late (a block cut
    short, a module slower than the line), what has come is read after the wait anyway."""
    header = b"\r\n+QSSLRECV: 1.2.3.4:443,TCP,1500\r\n"

    def script(line: str) -> list[tuple[float, bytes]]:
        if line.startswith("AT+QSSLRECV"):
            return [(0, header), (0.02, _recv_block(100))]
        return [(0, b"\r\nOK\r\n")]

    received: list[int] = []
    read_some = ATChannel._read_some

    def counting(self: ATChannel, wait: float = 1.0) -> bytes:
        data = read_some(self, wait)
        received.append(len(data))
        return data

    monkeypatch.setattr(ATChannel, "_read_some", counting)
    modem = scripted(script)
    with ATChannel(modem.url, baudrate=921600, data_blocks=CATALOG.data_blocks) as channel:
        with pytest.raises(ATTimeoutError):
            # the mark's wait is 53 ms at 921600 bit/s: the 100 bytes are read long before
            channel.command("AT+QSSLRECV=0,1,1500", timeout=0.4,
                            response_prefixes=("+QSSLRECV:",))
        assert sum(received) == len(header) + 100, received


def test_the_caller_reads_its_own_answer_and_the_reader_thread_reads_between_commands(
        scripted, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 17 (CPU per command): the answer to a command is read by the thread that sent it,
    with no hand-over from the reader thread; a URC that comes when no command runs is still
    read and dispatched, by the reader thread, and a URC that comes during a command reaches
    its subscriber too."""
    def script(line: str) -> list[tuple[float, bytes]]:
        if line == "AT+CSQ":
            return [(0, b"\r\n+CSQ: 24,99\r\n\r\nOK\r\n")]
        if line == "AT+URC":  # a URC in the middle of the answer, another 0.2 s after it
            return [(0, b"\r\n+QIURC: \"recv\",1\r\n\r\nOK\r\n"),
                    (0.2, b"\r\n+QIURC: \"recv\",2\r\n")]
        return [(0, b"\r\nOK\r\n")]

    readers: list[tuple[str, int]] = []
    read_some = ATChannel._read_some

    def recording(self: ATChannel, wait: float = 1.0) -> bytes:
        data = read_some(self, wait)
        if data:
            readers.append((threading.current_thread().name, len(data)))
        return data

    monkeypatch.setattr(ATChannel, "_read_some", recording)
    modem = scripted(script)
    got: list[tuple[str, str]] = []
    second = threading.Event()

    def on_urc(event: object) -> None:
        text = getattr(event, "text", "")
        got.append((threading.current_thread().name, text))
        if text.endswith(",2"):
            second.set()

    with ATChannel(modem.url, urc_prefixes=("+QIURC:",)) as channel:
        channel.subscribe("+QIURC:", on_urc)
        for _ in range(3):
            assert channel.command("AT+CSQ", timeout=2, response_prefixes=("+CSQ:",)).first(
                "+CSQ:") == "24,99"
        assert readers and {name for name, _ in readers} == {threading.current_thread().name}
        assert channel.command("AT+URC", timeout=2).final is not None
        assert second.wait(3), got  # nobody waits through the channel: read all the same
    me = threading.current_thread().name
    assert got == [(me, '+QIURC: "recv",1'), ("celltls-at-reader", '+QIURC: "recv",2')]


def test_close_from_another_thread_ends_a_command_whose_caller_reads(
        scripted) -> None:  # type: ignore[no-untyped-def]
    """The caller of a long command reads the port itself; close() in another thread ends the
    command with PortLostError at once, not at its timeout."""
    modem = scripted(lambda line: [] if line == "AT+COPS=?" else [(0, b"\r\nOK\r\n")])
    channel = ATChannel(modem.url)
    assert channel.command("AT", timeout=2).final is not None
    closer = threading.Timer(0.3, channel.close)
    closer.start()
    started = time.monotonic()
    with pytest.raises(PortLostError):
        channel.command("AT+COPS=?", timeout=30)
    assert time.monotonic() - started < 10  # a hang guard: the timeout is 30 s
    closer.join()


def test_a_waiter_after_a_command_calls_the_reader_back(
        scripted) -> None:  # type: ignore[no-untyped-def]
    """A URC awaited through the channel right after a command (the reader thread is parked
    then, :data:`celltls.at.channel._PARK_LINGER`) is read by the reader thread when
    UrcWaiter.wait() calls it back; and read_raw() in transparent mode does the same."""
    def script(line: str) -> list[tuple[float, bytes]]:
        if line == "AT+QIOPEN":
            return [(0, b"\r\nOK\r\n"), (0.05, b"\r\n+QIOPEN: 0,0\r\n")]
        return [(0, b"\r\nOK\r\n")]

    modem = scripted(script)
    with ATChannel(modem.url, urc_prefixes=("+QIOPEN:",)) as channel:
        waiter = channel.expect_urc(lambda text: text.startswith("+QIOPEN:"))
        assert channel.command("AT+QIOPEN", timeout=2).final is not None
        event = waiter.wait(3, "+QIOPEN")
        assert getattr(event, "text", "") == "+QIOPEN: 0,0"
        channel.enter_data_phase()
        assert modem.conn is not None
        modem.conn.sendall(b"raw bytes")
        assert channel.read_raw(100, 3) == b"raw bytes"


def test_a_ctrl_c_while_the_caller_parses_loses_nothing_and_frees_the_port(
        scripted) -> None:  # type: ignore[no-untyped-def]
    """A KeyboardInterrupt in the caller's thread while it dispatches its answer (here raised
    by a URC handler, as a Ctrl-C can land there now that the caller parses): the rest of the
    batch still reaches its waiter, the port is given back, and the next command, from this
    thread or another, works (review of d73ea8d)."""
    def script(line: str) -> list[tuple[float, bytes]]:
        if line == "AT+TWO":
            return [(0, b"\r\n+QIURC: a\r\n+QIURC: b\r\n\r\nOK\r\n")]
        return [(0, b"\r\nOK\r\n")]

    modem = scripted(script)
    with ATChannel(modem.url, urc_prefixes=("+QIURC:",)) as channel:
        def interrupt(event: object) -> None:
            if getattr(event, "text", "") == "+QIURC: a":
                raise KeyboardInterrupt

        channel.subscribe("+QIURC: a", interrupt)
        waiter = channel.expect_urc(lambda text: text == "+QIURC: b")
        assert channel.command("AT", timeout=2).final is not None
        with pytest.raises(KeyboardInterrupt):
            channel.command("AT+TWO", timeout=2)
        assert getattr(waiter.wait(2, "+QIURC: b"), "text", "") == "+QIURC: b"
        assert channel.command("AT", timeout=2).final is not None
        done: list[object] = []
        other = threading.Thread(target=lambda: done.append(channel.command("AT", timeout=2)))
        other.start()
        other.join(5)
        assert done and not other.is_alive()
