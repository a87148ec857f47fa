"""The command lines and answer lines of a transcript written by the library (FORMAT.md)."""

from __future__ import annotations

import io

from celltls.trace import read_text


def host_lines(transcript: io.StringIO) -> list[str]:
    """What the host sent as command lines (``>`` records), in order."""
    return [r.text for r in read_text(transcript.getvalue()).records if r.direction == ">"]


def modem_lines(transcript: io.StringIO) -> list[str]:
    """What the module answered as lines (``<`` records), in order."""
    return [r.text for r in read_text(transcript.getvalue()).records if r.direction == "<"]
