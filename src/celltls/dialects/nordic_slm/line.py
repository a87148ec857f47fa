"""The SLM's line framing on the host side: CR LF command terminator, and raw data right after a
final result code.

Two things the shared AT protocol (:mod:`celltls.at.protocol`) does not yet say through
:class:`~celltls.at.framing.Framing`, so this dialect brings them (NRF-REF = shared/reference/
nordic-slm.md):

- SLM ends a command line at CR LF only; a lone CR does not end it (NRF-REF 3, "Input
  terminator", S2).
- SLM's HTTP client (v2.0-v3.1) writes each part of the response *before* the
  ``#XHTTPCRSP:<length>,<state>`` line that counts it (NRF-REF 8.1 S1, S2), so the bytes after
  the request's final ``OK`` are data and must not be parsed as lines. :class:`SlmProtocol`
  enters raw mode in the same parsing step as that ``OK`` (:meth:`SlmProtocol.raw_after`), so
  no byte of the response that arrived with it is taken for a line.
"""

from __future__ import annotations

from celltls.at.channel import ATChannel
from celltls.at.protocol import ATProtocol, DataBlock, Event, Final, Request
from celltls.dialects.nordic_slm import catalog as cat


class SlmProtocol(ATProtocol):
    """:class:`~celltls.at.protocol.ATProtocol` with the SLM's CR LF terminator and a switch
    to raw mode right after one command's successful final result code."""

    def __init__(self, base: ATProtocol) -> None:
        super().__init__(urc_prefixes=base.urc_prefixes, data_blocks=base.data_blocks,
                         terminator=cat.TERMINATOR, raw_exit_markers=base.raw_exit_markers)
        self._raw_after: str | None = None
        self._last_block: tuple[str, DataBlock] | None = None

    def receive_data(self, data: bytes) -> list[Event]:
        pending = self.pending
        events = super().receive_data(data)
        if pending is not None:
            for event in events:
                if isinstance(event, DataBlock) and event.solicited:
                    self._last_block = (pending.line, event)
        return events

    def take_block(self, line: str) -> DataBlock | None:
        """The last length-delimited block that answered the command ``line``, once (for a
        command whose final result code was lost after its block arrived whole: the block's
        own length field framed it, NRF-REF 6.2 ``#XRECV: <size>``)."""
        found, self._last_block = self._last_block, None
        if found is not None and found[0] == line:
            return found[1]
        return None

    def send_command(self, request: Request) -> bytes:
        self._last_block = None
        return super().send_command(request)

    def raw_after(self, line: str | None) -> None:
        """Enter raw mode right after the successful final result code of the command
        ``line`` (``None``: forget it). A failure result code leaves command mode as it is."""
        self._raw_after = line

    def _starts_something(self, text: str) -> bool:
        # The OK after which raw data begins: wait for its LF, so that a line end cut between
        # CR and LF never puts the LF into the data.
        pending = self.pending
        if (
            self._raw_after is not None
            and pending is not None
            and pending.line == self._raw_after
            and text.strip() == "OK"
        ):
            return True
        return super()._starts_something(text)

    def _line(self, text: str, events: list[Event]) -> None:
        pending = self.pending
        count = len(events)
        super()._line(text, events)
        if (
            self._raw_after is not None
            and pending is not None
            and pending.line == self._raw_after
            and len(events) > count
            and isinstance(events[-1], Final)
        ):
            self._raw_after = None
            if events[-1].ok:
                self.enter_raw_mode()


def install(channel: ATChannel) -> SlmProtocol:
    """Give ``channel`` an :class:`SlmProtocol` (same URC prefixes, data blocks and exit
    markers as its current protocol). Call before the first command; idempotent.

    Returns:
        SlmProtocol: the channel's protocol.
    """
    current = channel.protocol
    if isinstance(current, SlmProtocol):
        return current
    protocol = SlmProtocol(current)
    channel.protocol = protocol
    return protocol
