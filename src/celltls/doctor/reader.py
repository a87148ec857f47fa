"""Turn a pasted log or a transcript into clean lines that still point at what was pasted.

People paste modem logs with everything around them: line numbers, time stamps, terminal
prompts, ``//`` notes glued to the command (the Quectel application note writes
``AT+QSSLCFG="sslversion",0,4 //Configure SSL version.``), typographic quotes and dashes that a
forum put in, prose, blank lines, Markdown fences. :func:`read_lines` keeps each line's original
text and number, finds where the log content starts in it (so a finding can give a column), records
every typographic character *before* normalising it to ASCII, and classifies the line.

A transcript in the celltls format (``shared/transcripts/FORMAT.md``: ``> `` host lines,
``< `` modem lines, ``>>``/``<<`` raw bytes, ``#`` header) is recognised and read by its marks.

Nothing here raises on any input: the reader is total, and linear in the length of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

LineKind = Literal["command", "response", "data", "comment", "blank"]

#: Typographic characters and the ASCII character a module would have needed instead.
TYPOGRAPHIC = {
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u201f": '"',  # ‟
    "\u2033": '"',  # ″
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u2032": "'",  # ′
    "\u2010": "-",  # ‐
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # ‒
    "\u2013": "-",  # –
    "\u2014": "-",  # —
    "\u2212": "-",  # −
    "\u00a0": " ",  # no-break space
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
}
_TRANSLATE = str.maketrans(TYPOGRAPHIC)
QUOTE_CHARS = frozenset(c for c, a in TYPOGRAPHIC.items() if a in "\"'")
DASH_CHARS = frozenset(c for c, a in TYPOGRAPHIC.items() if a == "-")

# Prefixes people's tools put in front of a line: time stamps, line numbers, arrows, prompts.
_PREFIXES = (
    re.compile(r"\[[0-9:.,\- /TZ+]{1,40}\]\s*"),  # [00:00:32.326,385]  [12.503]  [2021-04-22 ..]
    re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?Z?\s+"),
    re.compile(r"\d\d:\d\d:\d\d(?:[.,]\d+)?\s+"),
    re.compile(r"\d{1,6}\s*[:|)]\s+(?=\S)"),  # "12: AT+CSQ", "12 | OK", "12) OK"
    re.compile(r"\d{1,6}\s+(?=(?:AT|at)|[+#%^$]|OK\b|ERROR\b)"),  # "12  AT+CSQ"
    re.compile(r"(?:-->|<--|->|<-|TX:|RX:|Tx:|Rx:|SEND:|RECV:)\s*"),
    re.compile(r"\$ (?=AT|at)"),
)
_MARK = re.compile(r"^(?:\[(\d+(?:\.\d+)?)\]\s?)?(>>|<<|>|<)(?: |$)")
# A command line: upper-case AT followed by anything but a blank, or lower-case at followed by a
# command character or a short basic command; "At"/"aT" are prose ("Attached is...").
_COMMAND = re.compile(r"^(?:AT(?=$|[^\sa-z])|at(?=$|[+#%^$&*]|[a-z]{1,2}[0-9=?&]*$))")
_INLINE = re.compile(r"(?<![A-Za-z0-9])(?:AT|at)[+#%][A-Za-z][A-Za-z0-9_]*")
_PEM_BODY = re.compile(r"^[A-Za-z0-9+/=]{16,}$")
# What a host library may print in parentheses: a command echo, a response or a URC.
_PARENTHESISED = re.compile(r"^(?:AT|at|[+#%^$][A-Za-z]|OK$|ERROR$|RDY$|NO CARRIER$|CONNECT$)")


@dataclass(frozen=True)
class Line:
    """One line of the input, cleaned for decoding, still pointing at the pasted text.

    Attributes:
        lineno: 1-based line number in the input text.
        raw: the line exactly as given (without its line end).
        text: the log content: prefixes, glued ``//`` comment and typographic characters
            removed (each typographic character replaced by the ASCII one it stands for, so
            ``text`` and the matching slice of ``raw`` have the same length).
        offset: 0-based index in ``raw`` where ``text`` starts; ``offset + i + 1`` is the
            1-based column of ``text[i]``.
        kind: ``"command"`` (a host command line), ``"response"`` (anything the modem or a
            person may have written), ``"data"`` (raw bytes of a data phase, a ``>`` prompt and
            what follows it), ``"comment"`` (transcript header, ``//`` note, Markdown fence),
            ``"blank"``.
        typographic: ``(index in raw, character)`` of every typographic character in ``text``'s
            span, found before normalising.
        comment: the ``//`` note glued to the line, if any.
        marked: the line came from a transcript with a direction mark.
        inline: a command found in the middle of prose (``... (at+kcnxcfg=1,"GPRS") ...``).
    """

    lineno: int
    raw: str
    text: str
    offset: int
    kind: LineKind
    typographic: tuple[tuple[int, str], ...] = ()
    comment: str = ""
    marked: bool = False
    inline: bool = False

    def column(self, index: int) -> int:
        """The 1-based column in :attr:`raw` of ``text[index]``."""
        return self.offset + index + 1


def normalise(text: str) -> str:
    """Replace every typographic quote, dash and special space by its ASCII counterpart.

    The result has the same length as ``text``.
    """
    return text.translate(_TRANSLATE)


def is_command(text: str) -> bool:
    """Whether ``text`` (already stripped of prefixes) is an AT command line."""
    return _COMMAND.match(text) is not None


def _strip_prefixes(raw: str, start: int) -> int:
    """Advance ``start`` past blanks and the prefixes tools put before log lines."""
    n = len(raw)
    for _ in range(6):
        while start < n and raw[start] in " \t\ufeff":
            start += 1
        for pattern in _PREFIXES:
            found = pattern.match(raw, start)
            if found and found.end() > start:
                start = found.end()
                break
        else:
            break
    while start < n and raw[start] in " \t\ufeff":
        start += 1
    return start


def _split_comment(text: str) -> tuple[str, str]:
    """Split ``text`` at a ``//`` note outside double quotes (not a ``://`` of a URL)."""
    quoted = False
    i = 0
    n = len(text)
    while i < n - 1:
        char = text[i]
        if char == '"':
            quoted = not quoted
        elif char == "/" and text[i + 1] == "/" and not quoted and (i == 0 or text[i - 1] != ":"):
            return text[:i].rstrip(), text[i + 2 :].strip()
        i += 1
    return text.rstrip(), ""


def _inline_end(norm: str, start: int) -> int:
    """Where a command found inside prose ends (a blank or an unquoted ``)`` ends it)."""
    opener = norm[start - 1] if start > 0 else ""
    quoted = False
    i = start
    n = len(norm)
    while i < n:
        char = norm[i]
        if char == '"':
            if opener == '"' and not quoted:
                # the command itself was put in quotes by the writer: stop at the closing one
                break
            quoted = not quoted
        elif not quoted and (char in " \t" or char == ")"):
            break
        i += 1
    while i > start and norm[i - 1] in ".,;:!":
        i -= 1
    return i


def _typographic(raw: str, start: int, end: int) -> tuple[tuple[int, str], ...]:
    return tuple((i, raw[i]) for i in range(start, end) if raw[i] in TYPOGRAPHIC)


def _make(
    number: int, raw: str, start: int, end: int, kind: LineKind, **extra: object
) -> Line:
    text = normalise(raw[start:end])
    return Line(
        number,
        raw,
        text,
        start,
        kind,
        _typographic(raw, start, end),
        **extra,  # type: ignore[arg-type]
    )


def _pasted_line(number: int, raw: str, *, marked: bool = False) -> Line:
    start = _strip_prefixes(raw, 0)
    stop = len(raw.rstrip())
    if start >= stop:
        return Line(number, raw, "", len(raw), "blank")
    if raw[start] == "(" and raw[stop - 1] == ")" and _PARENTHESISED.match(
            normalise(raw[start + 1 : stop - 1])):
        # some host libraries print what they did not wait for in parentheses: "(RDY)"
        start, stop = start + 1, stop - 1
    body = raw[start:stop]
    norm = normalise(body)
    if norm.startswith(("//", "```", "~~~")):
        return Line(number, raw, norm.strip(), start, "comment", marked=marked)
    if norm.startswith(">"):
        rest = norm[1:].lstrip()
        if is_command(rest):
            start = start + (len(norm) - len(rest))
            body = raw[start:stop]
            norm = normalise(body)
        else:
            return _make(number, raw, start, stop, "data", marked=marked)
    if is_command(norm):
        content, comment = _split_comment(norm)
        return _make(number, raw, start, start + len(content), "command",
                     comment=comment, marked=marked)
    found = _INLINE.search(norm)
    if found and not norm.startswith(("+", "#", "%", "^", "$")):
        begin = found.start()
        end = _inline_end(norm, begin)
        return _make(number, raw, start + begin, start + end, "command", inline=True,
                     marked=marked)
    content, comment = _split_comment(norm)
    kind: LineKind = "data" if _PEM_BODY.match(content) else "response"
    return _make(number, raw, start, start + len(content), kind, comment=comment, marked=marked)


def _looks_marked(lines: list[str]) -> bool:
    """A transcript starts (after blanks and ``#`` lines) with a marked record."""
    for raw in lines[:200]:
        body = raw.strip()
        if not body:
            continue
        if body.startswith("# format:"):
            return True
        if body.startswith("#"):
            continue
        found = _MARK.match(body)
        return bool(found and body[found.end() :].strip())
    return False


def read_lines(text: str) -> list[Line]:
    """Read a pasted log or a celltls transcript into :class:`Line` records, one per input line.

    Args:
        text: the whole input. Any string is accepted (binary-ish text included).

    Returns:
        list[Line]: one entry per line of ``text`` (``str.splitlines``), blank ones included,
        so that ``result[i].lineno == i + 1``.

    Raises:
        Nothing: every line is classified, the worst case as ``"response"``.

    Source: shared/transcripts/FORMAT.md ("Records", "Logs as people paste them").
    """
    raw_lines = text.splitlines()
    marked = _looks_marked(raw_lines)
    out: list[Line] = []
    for number, raw in enumerate(raw_lines, start=1):
        if not marked:
            out.append(_pasted_line(number, raw))
            continue
        stripped = raw.lstrip()
        lead = len(raw) - len(stripped)
        if stripped.startswith("#"):
            out.append(Line(number, raw, stripped[1:].strip(), lead + 1, "comment", marked=True))
            continue
        found = _MARK.match(stripped)
        if not found:
            out.append(_pasted_line(number, raw))
            continue
        mark = found.group(2)
        start = lead + found.end()
        end = len(raw.rstrip())
        if mark in (">>", "<<"):
            out.append(_make(number, raw, start, max(start, end), "data", marked=True))
        elif mark == ">":
            content, comment = _split_comment(normalise(raw[start:end]))
            out.append(_make(number, raw, start, start + len(content), "command",
                             comment=comment, marked=True))
        else:
            out.append(_make(number, raw, start, max(start, end), "response", marked=True))
    return out
