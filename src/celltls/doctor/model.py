"""The doctor's rule types: :class:`Finding`, :data:`Rule` and the :class:`Session` rules read.

These are what dialect plug-ins (``dialects/<name>/rules.py``) and the generic rules
(:mod:`celltls.doctor.rules`) build on; :mod:`celltls.doctor.engine` runs them. This module is in
the frameworks layer: it imports the log reader and decoder, never the engine or a dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from celltls.dialects.spec import Catalog
from celltls.doctor.decode import Decoded, Decoder
from celltls.doctor.reader import Line

__all__ = ["CONFIDENCES", "SEVERITIES", "Confidence", "Finding", "Rule", "Session", "Severity"]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
Confidence = Literal["high", "medium", "low"]
CONFIDENCES: tuple[Confidence, ...] = ("high", "medium", "low")


@dataclass(frozen=True)
class Finding:
    """One thing the doctor found.

    Attributes:
        code: stable identifier (``"stray-quote"``); see docs/doctor.md for the list.
        severity: ``"error"`` (explains a failure), ``"warning"`` (likely to cause one),
            ``"info"`` (worth knowing).
        line: 1-based line of the input it points at.
        message: what is wrong, with the values involved.
        why: why it matters.
        fix: what to do about it.
        source: the document and section the fact comes from.
        column: 1-based column in that line, when meaningful.
        related: other 1-based lines involved (the command a response answers...).
        confidence: how sure the rule is that this is what happened: ``"high"`` (the log
            proves it), ``"medium"`` (the log fits a documented cause, others are possible),
            ``"low"`` (a guess worth checking).
        caused_by: for a consequence (an error code the module reported), the line of the
            finding the engine links it to as its cause; ``None`` for a cause or when none was
            found.
        symptom: whether the finding reports a failure the module showed (an error code, a
            failed handshake) rather than naming why; the engine links symptoms to causes.
    """

    code: str
    severity: Severity
    line: int
    message: str
    why: str
    fix: str
    source: str
    column: int | None = None
    related: tuple[int, ...] = ()
    confidence: Confidence = "high"
    caused_by: int | None = None
    symptom: bool = False


Rule = Callable[["Session"], Iterable[Finding]]


@dataclass
class Session:
    """What a rule sees: the decoded log and the dialect.

    Attributes:
        text: the input text.
        lines: the reader's lines (``lines[i].lineno == i + 1``).
        decoded: the decoded lines, same indexing.
        dialect: the dialect's name (``"generic"`` when none was detected).
        catalog: the dialect's catalog, ``None`` when it has none (yet).
        decoder: the decoder used (gives error-code meanings).
        default_bearer: the dialect's modules attach on LTE, where registration brings up the
            default bearer (a PDP context) by itself.
    """

    text: str
    lines: list[Line]
    decoded: list[Decoded]
    dialect: str
    catalog: Catalog | None
    decoder: Decoder
    default_bearer: bool = False
    _replies: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for index, item in enumerate(self.decoded):
            if item.kind != "command" and item.command is not None:
                self._replies.setdefault(item.command, []).append(index)

    def commands(self, *names: str) -> Iterator[tuple[int, Decoded]]:
        """``(index, decoded)`` of every command line, or of those named (``"+QSSLOPEN"``)."""
        wanted = {n.upper() for n in names}
        for index, item in enumerate(self.decoded):
            if item.kind == "command" and (not wanted or (item.name or "") in wanted):
                yield index, item

    def replies(self, index: int) -> list[Decoded]:
        """The response lines that follow command ``index`` up to the next command."""
        return [self.decoded[i] for i in self._replies.get(index, ())]

    def final(self, index: int) -> Decoded | None:
        """The final result code that answered command ``index``, if it is in the log."""
        for reply in self.replies(index):
            if reply.kind == "final":
                return reply
        return None
