"""The shape of a dialect catalog: commands, parameters, responses, URCs and codes as data.

A catalog (``dialects/<vendor>/catalog.py``) is the one source of truth for a dialect. The driver
builds command lines from it, the virtual modem validates the host's lines with it, and the doctor
decodes logs with it. Every entry names its source document and section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from celltls.at.framing import BlockHeader

ParamKind = Literal["int", "str", "hexint", "enum"]


@dataclass(frozen=True)
class Param:
    """One parameter of a command, a response or a URC.

    Attributes:
        name: the vendor's name for it, without angle brackets (``"ctxindex"``).
        kind: ``"int"`` (decimal), ``"hexint"`` (``0x..`` or bare hex), ``"str"`` (quoted on
            the command line), ``"enum"`` (a bare token from ``values``).
        description: what it means, in one line.
        range: inclusive ``(low, high)`` for numbers; ``None`` when unbounded.
        values: the meaning of each defined value (numbers or strings).
        max_len: the longest accepted string, in bytes.
        optional: whether it may be omitted.
        default: the documented default, when there is one.
        unit: ``"s"``, ``"bytes"``... for numbers.
        secret: the value must never be logged (passwords, PSKs).
    """

    name: str
    kind: ParamKind
    description: str
    range: tuple[int, int] | None = None
    values: Mapping[int | str, str] = field(default_factory=dict)
    max_len: int | None = None
    optional: bool = False
    default: int | str | None = None
    unit: str | None = None
    secret: bool = False

    def check(self, raw: str) -> str | None:
        """Check one value as it appears on a command line (quotes included for strings).

        Args:
            raw: the text of the value, e.g. ``'"RAM:ca.pem"'`` or ``'4'``.

        Returns:
            ``None`` when the value is valid, else a sentence saying what is wrong.
        """
        text = raw.strip()
        if self.kind == "str":
            if not (len(text) >= 2 and text[0] == '"' and text[-1] == '"'):
                return f"<{self.name}> is a string and must be in double quotes"
            inner = text[1:-1]
            if '"' in inner:
                return f"<{self.name}> contains a double quote"
            if self.max_len is not None and len(inner.encode()) > self.max_len:
                return f"<{self.name}> is longer than {self.max_len} bytes"
            if self.values and inner not in self.values:
                return f"<{self.name}> {inner!r} is not one of {sorted(map(str, self.values))}"
            return None
        if self.kind == "enum":
            if self.values and text not in self.values:
                return f"<{self.name}> {text!r} is not one of {sorted(map(str, self.values))}"
            return None
        value = parse_number(text, hexadecimal=self.kind == "hexint")
        if value is None:
            return f"<{self.name}> must be a number, got {text!r}"
        if self.range is not None and not self.range[0] <= value <= self.range[1]:
            return f"<{self.name}> {value} is out of range {self.range[0]}-{self.range[1]}"
        if self.values and self.range is None and value not in self.values:
            return f"<{self.name}> {value} is not one of {sorted(map(str, self.values))}"
        return None

    def meaning(self, raw: str) -> str | None:
        """The documented meaning of a value, or ``None`` when it has none."""
        text = raw.strip().strip('"')
        if text in self.values:
            return self.values[text]
        number = parse_number(text, hexadecimal=self.kind == "hexint")
        if number is not None and number in self.values:
            return self.values[number]
        return None


def parse_number(text: str, *, hexadecimal: bool = False) -> int | None:
    """Parse a decimal (or, with ``hexadecimal``, a ``0x``-prefixed or bare hex) number.

    Returns ``None`` when ``text`` is not a number of that kind. Quotes around it are ignored
    (some dialects quote hexadecimal values, e.g. ``"0xFFFF"``).
    """
    text = text.strip().strip('"')
    try:
        if hexadecimal:
            return int(text[2:] if text.lower().startswith("0x") else text, 16)
        return int(text, 10)
    except ValueError:
        return None


@dataclass(frozen=True)
class Form:
    """One form of a command: ``AT+X=<a>,<b>`` with its own parameters.

    Commands such as ``AT+QSSLCFG="sslversion",<ctxindex>[,<sslversion>]`` have one form per
    first (selector) argument; ``selector`` holds that literal (``"sslversion"``).
    """

    params: tuple[Param, ...]
    selector: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Command:
    """One AT command of a dialect.

    Attributes:
        name: the name after ``AT``, e.g. ``"+QSSLOPEN"``, ``"+QIACT"``, ``"O"``.
        title: one line saying what it does.
        forms: the write-command forms (``AT+X=...``). Empty for execution-only commands.
        response_prefix: the prefix of its information responses (``"+QSSLCFG:"``).
        timeout: the longest time to wait for its final result code, in seconds, as documented.
        source: document and section.
        data_phase: ``"prompt"`` (``> `` then the payload), ``"connect"`` (``CONNECT`` then the
            payload), or ``None``.
        final_results: success final result codes other than ``OK`` (``"SEND OK"``).
        failure_results: failure final result codes other than ``ERROR``/``+CME ERROR``.
        final_pattern: a regex of a response line that is itself the final result (a command
            answered by a bare value and no ``OK``, e.g. ``AT+QILOCIP``).
        note: anything a user should know (known typos in the vendor's documents...).
    """

    name: str
    title: str
    source: str
    forms: tuple[Form, ...] = ()
    response_prefix: str | None = None
    timeout: float = 1.0
    data_phase: Literal["prompt", "connect"] | None = None
    final_results: tuple[str, ...] = ()
    failure_results: tuple[str, ...] = ()
    final_pattern: str | None = None
    note: str = ""

    def form(self, selector: str | None = None) -> Form | None:
        """The form whose selector is ``selector`` (case-insensitive), or the plain form."""
        for form in self.forms:
            if form.selector is None and selector is None:
                return form
            if (
                form.selector is not None
                and selector is not None
                and form.selector.lower() == selector.lower()
            ):
                return form
        return None


@dataclass(frozen=True)
class Urc:
    """An unsolicited result code.

    Attributes:
        prefix: how its line starts (``'+QSSLURC: "recv"'``); the longest matching prefix wins.
        params: its fields, in order, after the prefix.
        description: what it tells the host.
        source: document and section.
    """

    prefix: str
    params: tuple[Param, ...]
    description: str
    source: str


@dataclass(frozen=True)
class Misspelling:
    """A spelling found in a vendor document that the module does not accept as written.

    Attributes:
        wrong: the spelling as it appears (``"+QSSSEND"``, ``'"secllevel"'``).
        right: the spelling the module accepts.
        where: where the wrong spelling appears.
        evidence: why we believe the module rejects it.
    """

    wrong: str
    right: str
    where: str
    evidence: str


#: A response line announcing a length-delimited block (the framing type lives in the AT core).
DataBlock = BlockHeader


@dataclass(frozen=True)
class Catalog:
    """Everything celltls knows about one dialect's command set.

    Attributes:
        dialect: the dialect's name (``"quectel-gsm"``).
        title: the module family.
        sources: the documents the catalog is written from, by short key.
        commands: by name (``"+QSSLOPEN"``).
        urcs: the URCs.
        errors: vendor error codes (beyond 3GPP TS 27.007) by number, with meaning.
        data_blocks: headers of length-delimited data blocks.
        misspellings: spellings in vendor documents that the module rejects.
    """

    dialect: str
    title: str
    sources: Mapping[str, str]
    commands: Mapping[str, Command]
    urcs: tuple[Urc, ...] = ()
    errors: Mapping[int, str] = field(default_factory=dict)
    data_blocks: tuple[DataBlock, ...] = ()
    misspellings: tuple[Misspelling, ...] = ()

    def command(self, name: str) -> Command:
        """The command called ``name`` (``"+QSSLOPEN"``, case-insensitive).

        Raises:
            KeyError: the dialect has no such command.
        """
        key = name.upper()
        for command in self.commands.values():
            if command.name.upper() == key:
                return command
        raise KeyError(f"{self.dialect} has no command AT{name}")

    def urc_for(self, line: str) -> Urc | None:
        """The URC whose prefix starts ``line`` (the longest prefix wins), or ``None``."""
        best: Urc | None = None
        for urc in self.urcs:
            if line.startswith(urc.prefix) and (best is None or len(urc.prefix) > len(best.prefix)):
                best = urc
        return best

    def urc_prefixes(self) -> tuple[str, ...]:
        """The distinct line prefixes that identify a URC: up to and including the first colon
        (``"+QSSLURC:"``), or the whole prefix of a URC without one (``"RDY"``,
        ``"+PDP DEACT"``, ``"Call Ready"``)."""
        return tuple(sorted({
            urc.prefix.split(":", 1)[0] + ":" if ":" in urc.prefix else urc.prefix
            for urc in self.urcs
        }))
