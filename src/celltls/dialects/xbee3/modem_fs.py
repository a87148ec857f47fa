"""The virtual XBee 3 Cellular's file system (``ATFS``) and its YMODEM receiver (modem side).

Written from shared/reference/xbee3.md §5 (D1p p.143, D2 p.228, D2 ``r_paths``; the YMODEM
shapes from C1 ``filesystem.py``/``util/xmodem.py`` as the official host code drives them):

- one volume, ``/flash``, holding ``cert/`` and ``lib/``; ATFS starts in ``/flash``; absolute
  paths begin with ``/flash``; ``.`` and ``..`` work; names are case-insensitive, at most 64
  characters of letters, digits, ``.``, ``-``, ``_``; a full path at most 255 characters;
- success prints data or ``OK``; a failure prints one line ``E<CODE> <text>`` (the codes are
  not documented, reference §14: the ones here are this simulator's choice);
- ``LS`` lines: leading spaces, size or ``<DIR>``, a space, the name (directories end in
  ``/``), then a blank line; secure files are listed with a ``#`` suffix (C1's reading) and
  their size;
- ``HASH`` prints ``sha256 <hex>``-style text C1 splits on ``sha256``; a secure file's hash is
  refused (reference §14: unknown; refusing is the conservative choice);
- ``PUT``/``XPUT``: ``Receiving file with YMODEM...`` then the receiver asks for CRC mode with
  ``C``; block 0 (name, size), 128/1024-byte blocks with CRC-16/CCITT (poly 0x1021, initial 0),
  ``ACK`` each, ``EOT`` acknowledged, ``C`` again, an all-zero block 0 ends the batch; the file
  is cut to the size block 0 gave; then ``OK``;
- ``GET``: ``Sending file with YMODEM...``, a NAK (C1 waits for it), then a YMODEM send
  (:class:`YModemSender`); secure files cannot be read back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FileSystem", "FsError", "StoredFile", "YModemReceiver", "YModemSender", "crc16_ccitt"]

SOH, STX, EOT, ACK, NAK, CAN = 0x01, 0x02, 0x04, 0x06, 0x15, 0x18
ROOT = "/flash"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")


class FsError(Exception):
    """A file system command failed; ``line`` is what the module prints (``E...``)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.line = f"{code} {text}"


@dataclass
class StoredFile:
    """One file: its bytes and whether it is secure (write-only, ``XPUT``)."""

    data: bytes
    secure: bool = False


class FileSystem:
    """The ``/flash`` volume: directories and files, in memory (kept across reboots).

    Paths are stored lower-case (names are case-insensitive, reference §5).
    """

    def __init__(self) -> None:
        self.dirs: set[str] = {ROOT, ROOT + "/cert", ROOT + "/lib"}
        self.files: dict[str, StoredFile] = {}
        self.cwd = ROOT

    def format(self) -> None:
        """``ATFS FORMAT confirm``: erase everything."""
        self.dirs = {ROOT, ROOT + "/cert", ROOT + "/lib"}
        self.files.clear()
        self.cwd = ROOT

    def resolve(self, path: str, base: str | None = None) -> str:
        """The absolute, normalised, lower-case path of ``path`` seen from ``base`` (cwd).

        Raises:
            FsError: ``EPATH`` outside ``/flash``, a bad name or a path too long.
        """
        path = path.strip()
        if not path:
            raise FsError("EPATH", "missing path")
        start = path if path.startswith("/") else (base or self.cwd) + "/" + path
        parts: list[str] = []
        for part in start.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            part = part.rstrip(".").lower() or part
            if len(part) > 64 or not set(part) <= _NAME_CHARS:
                raise FsError("EPATH", f"bad name {part!r}")
            parts.append(part)
        full = "/" + "/".join(parts)
        if full != ROOT and not full.startswith(ROOT + "/"):
            raise FsError("EPATH", "path outside /flash")
        if len(full) > 255:
            raise FsError("EPATH", "path too long")
        return full

    def parent_exists(self, full: str) -> bool:
        """Whether the directory holding ``full`` exists."""
        return full.rsplit("/", 1)[0] in self.dirs

    def read(self, full: str) -> StoredFile | None:
        """The file at absolute path ``full``, or ``None``."""
        return self.files.get(full)

    def write(self, full: str, data: bytes, secure: bool) -> None:
        """Store a file (replacing one of the same name).

        Raises:
            FsError: ``ENOENT`` no such directory, ``EISDIR`` a directory has that name.
        """
        if full in self.dirs:
            raise FsError("EISDIR", "is a directory")
        if not self.parent_exists(full):
            raise FsError("ENOENT", "no such directory")
        self.files[full] = StoredFile(data, secure)

    # ------------------------------------------------------------------ commands
    def command(self, text: str) -> list[str]:
        """Run ``ATFS <text>`` (all but PUT/XPUT/GET) and return the lines to print.

        Raises:
            FsError: the command failed (its ``line`` is printed instead).
        """
        words = text.split()
        if not words:
            return ["ATFS commands: PWD CD MD LS PUT XPUT GET RM MV HASH INFO FORMAT"]
        verb, args = words[0].upper(), words[1:]
        if verb == "PWD":
            return [self.cwd]
        if verb == "CD":
            target = self.resolve(args[0] if args else ROOT)
            if target not in self.dirs:
                raise FsError("ENOENT", "no such directory")
            self.cwd = target
            return [self.cwd]
        if verb == "MD":
            target = self.resolve(self._one(args))
            if target in self.dirs or target in self.files:
                raise FsError("EEXIST", "already exists")
            if not self.parent_exists(target):
                raise FsError("ENOENT", "no such directory")
            self.dirs.add(target)
            return ["OK"]
        if verb == "RM":
            target = self.resolve(self._one(args))
            if target in self.files:
                del self.files[target]
                return ["OK"]
            if target in self.dirs:
                if target == self.cwd or target == ROOT or self._children(target):
                    raise FsError("EBUSY", "directory not empty or in use")
                self.dirs.discard(target)
                return ["OK"]
            raise FsError("ENOENT", "no such file or directory")
        if verb == "MV":
            if len(args) != 2:
                raise FsError("EINVAL", "MV needs a source and a destination")
            src, dst = self.resolve(args[0]), self.resolve(args[1])
            stored = self.files.get(src)
            if stored is None:
                raise FsError("ENOENT", "no such file")
            self.write(dst, stored.data, stored.secure)
            del self.files[src]
            return ["OK"]
        if verb == "HASH":
            target = self.resolve(self._one(args))
            stored = self.files.get(target)
            if stored is None:
                raise FsError("ENOENT", "no such file")
            if stored.secure:
                raise FsError("EACCES", "secure file")
            return ["sha256 " + hashlib.sha256(stored.data).hexdigest().upper()]
        if verb == "LS":
            target = self.resolve(args[0]) if args else self.cwd
            if target not in self.dirs:
                raise FsError("ENOENT", "no such directory")
            return [*self._listing(target), ""]
        if verb == "INFO":
            used = sum(len(f.data) for f in self.files.values())
            total = 1 << 20
            return [f"{total:>8} total", f"{used:>8} used", f"{total - used:>8} free"]
        if verb == "FORMAT":
            if [a.lower() for a in args] != ["confirm"]:
                raise FsError("EINVAL", "use ATFS FORMAT confirm")
            self.format()
            return ["OK"]
        raise FsError("EINVAL", f"unknown command {verb}")

    @staticmethod
    def _one(args: list[str]) -> str:
        if len(args) != 1:
            raise FsError("EINVAL", "one path expected")
        return args[0]

    def _children(self, directory: str) -> list[str]:
        prefix = directory + "/"
        names = [p for p in self.dirs | set(self.files) if p.startswith(prefix)]
        return [p for p in names if "/" not in p[len(prefix):]]

    def _listing(self, directory: str) -> list[str]:
        lines = ["   <DIR> ./", "   <DIR> ../"]
        for path in sorted(self._children(directory)):
            name = path.rsplit("/", 1)[1]
            if path in self.dirs:
                lines.append(f"   <DIR> {name}/")
            else:
                stored = self.files[path]
                suffix = "#" if stored.secure else ""
                lines.append(f"{len(stored.data):>8} {name}{suffix}")
        return lines


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/XMODEM: polynomial 0x1021, initial value 0, no reflection (YMODEM blocks)."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


class YModemReceiver:
    """The receiving side of a YMODEM batch of one file (sans-IO).

    Args:
        send: writes bytes to the host (``C``, ``ACK``, ``NAK``, ``CAN``).
        done: called once with the file's bytes, or ``None`` when the transfer was cancelled
            or failed.
    """

    def __init__(self, send: Callable[[bytes], None],
                 done: Callable[[bytes | None], None]) -> None:
        self._send = send
        self._done = done
        self._buf = bytearray()
        self._stage = "header"  # header -> data -> end (after EOT) -> finished
        self._expected_seq = 1
        self._size: int | None = None
        self._data = bytearray()
        self._cancels = 0

    def start(self) -> None:
        """Ask for the transfer in CRC mode."""
        self._send(b"C")

    @property
    def finished(self) -> bool:
        """Whether the batch ended (successfully or not)."""
        return self._stage == "finished"

    def feed(self, data: bytes) -> None:
        """Take bytes from the host."""
        self._buf += data
        while self._buf and self._stage != "finished":
            head = self._buf[0]
            if head == EOT and self._stage == "data":
                del self._buf[0]
                self._send(bytes([ACK]))
                self._stage = "end"
                self._send(b"C")
                continue
            if head == CAN:
                del self._buf[0]
                self._cancels += 1
                if self._cancels >= 2:
                    self._finish(None)
                continue
            if head not in (SOH, STX):
                del self._buf[0]  # noise between blocks
                continue
            size = 128 if head == SOH else 1024
            total = 3 + size + 2
            if len(self._buf) < total:
                return
            block = bytes(self._buf[:total])
            del self._buf[:total]
            self._block(block[1], block[2], block[3:3 + size], block[3 + size:])

    def _block(self, seq: int, inverse: int, payload: bytes, crc: bytes) -> None:
        if seq ^ inverse != 0xFF or crc16_ccitt(payload) != int.from_bytes(crc, "big"):
            self._send(bytes([NAK]))
            return
        if self._stage == "header":
            if seq != 0:
                self._send(bytes([NAK]))
                return
            name, _, rest = payload.partition(b"\0")
            if not name:
                self._send(bytes([ACK]))
                self._finish(None)
                return
            fields = rest.split(b"\0", 1)[0].split()
            if fields and fields[0].isdigit():
                self._size = int(fields[0])
            self._stage = "data"
            self._send(bytes([ACK]))
            self._send(b"C")
            return
        if self._stage == "end":
            if seq == 0:
                self._send(bytes([ACK]))
                data = bytes(self._data)
                if self._size is not None:
                    data = data[: self._size]
                self._finish(data)
            else:
                self._send(bytes([NAK]))
            return
        if seq == (self._expected_seq - 1) & 0xFF:
            self._send(bytes([ACK]))  # a repeat of the last block: acknowledged, not stored
            return
        if seq != self._expected_seq & 0xFF:
            self._send(bytes([CAN, CAN]))
            self._finish(None)
            return
        self._data += payload
        self._expected_seq += 1
        self._send(bytes([ACK]))

    def _finish(self, data: bytes | None) -> None:
        self._stage = "finished"
        self._done(data)


class YModemSender:
    """The sending side of a YMODEM batch of one file, for ``ATFS GET`` (sans-IO).

    §5: the module prints ``Sending file with YMODEM...``; C1 reads up to a NAK byte the module
    writes and then receives in CRC mode. So: NAK, then on the receiver's ``C`` block 0 (name,
    NUL, decimal size), on ``ACK`` and ``C`` the data in 1024-byte blocks padded with 0x1A
    (a last chunk under 128 bytes in a 128-byte block), each sent again on ``NAK``; ``EOT``
    until acknowledged; on ``C`` an all-zero block 0 ends the batch.

    Args:
        name: the file name for block 0.
        data: the file's bytes.
        send: writes bytes to the host.
        done: called once with ``True`` (complete) or ``False`` (cancelled).
    """

    def __init__(self, name: str, data: bytes, send: Callable[[bytes], None],
                 done: Callable[[bool], None]) -> None:
        self._send = send
        self._done = done
        self._blocks = [self._block(0, name.encode("latin-1") + b"\0"
                                    + str(len(data)).encode() + b"\0", 0x00)]
        for seq, start in enumerate(range(0, len(data), 1024), start=1):
            self._blocks.append(self._block(seq, data[start:start + 1024], 0x1A))
        self._index = -1  # -1: waiting for the first C
        self._await_go = False
        self._stage = "blocks"  # blocks -> eot -> end -> finished
        self._cancels = 0

    @staticmethod
    def _block(seq: int, payload: bytes, pad: int) -> bytes:
        size = 128 if len(payload) <= 128 else 1024
        payload = payload.ljust(size, bytes([pad]))
        head = SOH if size == 128 else STX
        return (bytes([head, seq & 0xFF, 0xFF - (seq & 0xFF)]) + payload
                + crc16_ccitt(payload).to_bytes(2, "big"))

    @property
    def finished(self) -> bool:
        """Whether the batch ended."""
        return self._stage == "finished"

    def start(self) -> None:
        """Signal readiness (the NAK C1 waits for)."""
        self._send(bytes([NAK]))

    def feed(self, data: bytes) -> None:
        """Take the receiver's bytes (``C``, ``ACK``, ``NAK``, ``CAN``)."""
        for byte in data:
            if self._stage == "finished":
                return
            if byte == CAN:
                self._cancels += 1
                if self._cancels >= 2:
                    self._stage = "finished"
                    self._done(False)
                continue
            self._cancels = 0
            self._step(byte)

    def _next_block(self) -> None:
        if self._index < len(self._blocks):
            self._send(self._blocks[self._index])
        else:
            self._stage = "eot"
            self._send(bytes([EOT]))

    def _step(self, byte: int) -> None:
        if self._stage == "blocks":
            if self._index == -1:
                if byte == ord("C"):
                    self._index = 0
                    self._send(self._blocks[0])
                return
            if self._await_go:
                # after block 0 the receiver asks for the data with C (YMODEM) or, as C1's
                # receiver does, with a second ACK
                if byte in (ord("C"), ACK):
                    self._await_go = False
                    self._next_block()
                return
            if byte == NAK:
                self._send(self._blocks[self._index])
            elif byte == ACK:
                self._index += 1
                if self._index == 1:
                    self._await_go = True
                    return
                self._next_block()
        elif self._stage == "eot":
            if byte == ACK:
                self._stage = "end"
            elif byte == NAK:
                self._send(bytes([EOT]))
        elif self._stage == "end" and byte == ord("C"):
            self._send(self._block(0, b"", 0x00))
            self._stage = "closing"
        elif self._stage == "closing" and byte == ACK:
            self._stage = "finished"
            self._done(True)
