"""Framing types of the AT protocol that catalogs declare and the protocol applies.

These live in the sans-IO core so that :mod:`celltls.at.protocol` and :mod:`celltls.at.channel`
import nothing above them; a dialect's catalog (:mod:`celltls.dialects.spec`) uses them to say how
its data phases are framed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BlockHeader", "Framing"]


@dataclass(frozen=True)
class BlockHeader:
    """A response line announcing a length-delimited binary block that follows it.

    ``pattern`` is matched against the whole header line; its named group ``length`` is the
    number of raw bytes that follow the header's line end (for example Quectel's
    ``+QSSLRECV: <ip>:<port>,TCP,<length>``, GSM SSL Application Note V3.3, 2.2.4). A header
    announcing more than ``max_length`` bytes is not taken as a block (line noise must not
    swallow the line).
    """

    pattern: str
    max_length: int | None = None

    def match(self, line: str) -> int | None:
        """The announced length (bytes) if ``line`` is such a header, else ``None``."""
        found = re.fullmatch(self.pattern, line)
        return int(found.group("length")) if found else None


@dataclass(frozen=True)
class Framing:
    """How a dialect frames what its module sends, applied to a channel once
    (:meth:`celltls.at.channel.ATChannel.configure`).

    Attributes:
        urc_prefixes: line prefixes that identify URCs (``"+QSSLURC:"``, ``"RDY"``).
        data_blocks: headers of length-delimited blocks.
        raw_exit_markers: what the module prints when it leaves transparent data mode by
            itself (``b"\\r\\nCLOSED\\r\\n"``).
    """

    urc_prefixes: tuple[str, ...] = ()
    data_blocks: tuple[BlockHeader, ...] = ()
    raw_exit_markers: tuple[bytes, ...] = ()
