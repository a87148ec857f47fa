"""The shape of a dialect catalog: commands, parameters, responses, URCs and codes as data.

A catalog (``dialects/<vendor>/catalog.py``) is the one source of truth for a dialect. The driver
builds command lines from it, the virtual modem validates the host's lines with it, and the doctor
decodes logs with it. Every entry names its source document and section.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from celltls.at.framing import BlockHeader, Framing
from celltls.at.protocol import Request
from celltls.at.quoting import check_text
from celltls.errors import UnsafeArgumentError

ParamKind = Literal["int", "str", "hexint", "enum"]

#: What is wrong with an argument (:attr:`ParamError.problem`): a required value is absent
#: (``"missing"``), there are more values than parameters (``"unexpected"``), the value is not
#: of its kind (``"format"``: not a number, a string without quotes), a number outside its
#: range (``"range"``), a value that is not one of the defined ones (``"value"``), a string
#: longer than allowed (``"length"``), or text that cannot be sent on a command line
#: (``"unsafe"``: a double quote, a control character, non-ASCII).
Problem = Literal["missing", "unexpected", "format", "range", "value", "length", "unsafe"]

#: A decoded argument: ``int`` for numbers, ``str`` for strings (without quotes) and enum
#: tokens, ``None`` for an omitted one.
Value = int | str | None


class ParamError(UnsafeArgumentError):
    """An argument that does not fit its :class:`Param`.

    Raised on the host side by :meth:`Form.build` (before anything is written to the port: it
    is an :class:`~celltls.errors.UnsafeArgumentError`) and on the virtual modem's side by
    :meth:`Form.parse`, whose caller chooses the ``+CME ERROR`` for :attr:`problem`.

    Attributes:
        field: the parameter's name (``"tcp_port"``).
        value: the value as given (``"***"`` for a secret parameter).
        reason: what is wrong, in words.
        problem: the kind of fault (:data:`Problem`).
    """

    def __init__(self, field: str, value: str, reason: str, *, problem: Problem) -> None:
        super().__init__(field, value, reason)
        self.problem: Problem = problem


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
        found = self._problem(raw.strip())
        return None if found is None else found[1]

    def _problem(self, text: str) -> tuple[Problem, str] | None:
        """What is wrong with ``text`` (a value as written, blanks removed), or ``None``."""
        if self.kind == "str":
            if not (len(text) >= 2 and text[0] == '"' and text[-1] == '"'):
                return "format", f"<{self.name}> is a string and must be in double quotes"
            inner = text[1:-1]
            if '"' in inner:
                return "unsafe", f"<{self.name}> contains a double quote"
            if self.max_len is not None and len(inner.encode()) > self.max_len:
                return "length", f"<{self.name}> is longer than {self.max_len} bytes"
            if self.values and inner not in self.values:
                return "value", (f"<{self.name}> {inner!r} is not one of "
                                 f"{sorted(map(str, self.values))}")
            return None
        if self.kind == "enum":
            if self.values and text not in self.values:
                return "value", (f"<{self.name}> {text!r} is not one of "
                                 f"{sorted(map(str, self.values))}")
            return None
        value = parse_number(text, hexadecimal=self.kind == "hexint")
        if value is None:
            return "format", f"<{self.name}> must be a number, got {text!r}"
        return self._number_problem(value)

    def _number_problem(self, value: int) -> tuple[Problem, str] | None:
        if self.range is not None and not self.range[0] <= value <= self.range[1]:
            return "range", (f"<{self.name}> {value} is out of range "
                             f"{self.range[0]}-{self.range[1]}")
        if self.values and self.range is None and value not in self.values:
            return "value", f"<{self.name}> {value} is not one of {sorted(map(str, self.values))}"
        return None

    def _fail(self, shown: object, found: tuple[Problem, str]) -> ParamError:
        text = "***" if self.secret else str(shown)
        return ParamError(self.name, text, found[1], problem=found[0])

    def encode(self, value: int | str) -> str:
        """The text of ``value`` on a command line, after checking it against this parameter.

        ``"str"`` values are checked with :func:`celltls.at.quoting.check_text` and written in
        double quotes (ITU-T V.250 5.4.2.2); ``"int"`` values in decimal; ``"hexint"`` values
        in bare upper-case hexadecimal (``1BB``), or, given as text, as written once checked
        (a dialect that writes ``"0xFFFF"`` passes that); ``"enum"`` tokens bare.

        Args:
            value: ``str`` for ``"str"`` and ``"enum"`` parameters, ``int`` for numbers.

        Returns:
            str: the argument text, e.g. ``'"example.com"'`` or ``'443'``.

        Raises:
            ParamError: (an :class:`~celltls.errors.UnsafeArgumentError`) the value is of the
                wrong type, out of :attr:`range`, not one of :attr:`values`, longer than
                :attr:`max_len` bytes, or holds a character that cannot be sent (a double quote,
                CR, LF, Ctrl-Z, ESC, another control character, non-ASCII text).
        """
        if self.kind == "str":
            if not isinstance(value, str):
                raise self._fail(repr(value), ("format", f"<{self.name}> must be text"))
            try:
                check_text(value, self.name, secret=self.secret)
            except UnsafeArgumentError as exc:
                raise self._fail(value, ("unsafe", exc.reason)) from None
            found = self._problem(f'"{value}"')
            if found is not None:
                raise self._fail(value, found)
            return f'"{value}"'
        if self.kind == "enum" or (self.kind == "hexint" and isinstance(value, str)):
            text = str(value)
            try:
                check_text(text, self.name, allow_empty=False, secret=self.secret)
            except UnsafeArgumentError as exc:
                raise self._fail(text, ("unsafe", exc.reason)) from None
            if "," in text or ";" in text:
                raise self._fail(text, ("unsafe", f"<{self.name}> is a bare token and cannot "
                                        "hold a comma or a semicolon"))
            found = self._problem(text)
            if found is not None:
                raise self._fail(text, found)
            return text
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(repr(value), ("format", f"<{self.name}> must be an integer"))
        found = self._number_problem(value)
        if found is not None:
            raise self._fail(value, found)
        return format(value, "X") if self.kind == "hexint" else str(value)

    def decode(self, raw: str) -> int | str:
        """Check one argument as the host wrote it and return its value.

        Args:
            raw: the argument, quotes kept (``'"example.com"'``, ``'443'``).

        Returns:
            ``int`` for ``"int"``/``"hexint"``, the text without its quotes for ``"str"``, the
            token for ``"enum"``.

        Raises:
            ParamError: as :meth:`check` finds (with its :attr:`ParamError.problem`).
        """
        text = raw.strip()
        found = self._problem(text)
        if found is not None:
            raise self._fail(text, found)
        if self.kind == "str":
            return text[1:-1]
        if self.kind == "enum":
            return text
        number = parse_number(text, hexadecimal=self.kind == "hexint")
        assert number is not None  # _problem found none
        return number

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

    def _values(self, values: Mapping[str, Value]) -> dict[str, Value]:
        known = {param.name for param in self.params}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParamError(unknown[0], str(values[unknown[0]]),
                             f"is not a parameter of this form ({', '.join(sorted(known))})",
                             problem="unexpected")
        given = dict(values)
        if self.selector is not None and self.params and given.get(self.params[0].name) is None:
            given[self.params[0].name] = self.selector
        return given

    def encode(self, values: Mapping[str, Value], *, mask_secrets: bool = False) -> str:
        """The argument text of this form (what follows ``=``) from named values.

        Each value is checked and encoded by :meth:`Param.encode`. A parameter that is absent
        or ``None`` is omitted: trailing ones are left out, one in the middle is written empty
        (``1,3,"host",443,,,,,0``: V.250 5.3.1, an empty value keeps the module's setting), as
        vendor syntaxes with ``[...]`` allow. A form with a :attr:`selector` writes it first
        unless its first parameter is given.

        Args:
            values: parameter name -> value (``int`` for numbers, ``str`` for text).
            mask_secrets: write ``"***"`` for secret parameters (for logs and transcripts).

        Returns:
            str: e.g. ``'1,"GPRS","internet"'``.

        Raises:
            ParamError: (an :class:`~celltls.errors.UnsafeArgumentError`) a name that is not a
                parameter of the form (``problem`` ``"unexpected"``), a required parameter left
                out (``"missing"``), or a bad value (see :meth:`Param.encode`).
        """
        given = self._values(values)
        parts: list[str] = []
        for param in self.params:
            value = given.get(param.name)
            if value is None:
                parts.append("")
                continue
            text = param.encode(value)
            parts.append('"***"' if mask_secrets and param.secret and param.kind == "str"
                         else "***" if mask_secrets and param.secret else text)
        for param, text in zip(self.params, parts, strict=True):
            if text == "" and not param.optional:
                raise ParamError(param.name, "", f"<{param.name}> is required",
                                 problem="missing")
        while parts and parts[-1] == "":
            parts.pop()
        return ",".join(parts)

    def build(self, **values: Value) -> str:
        """:meth:`encode` with keyword arguments: ``form.build(cnx_cnf=1, apn="internet")``.

        Raises:
            ParamError: see :meth:`encode`.
        """
        return self.encode(values)

    def shown(self, **values: Value) -> str:
        """:meth:`build` with secret parameters written ``"***"`` (for logs).

        Raises:
            ParamError: see :meth:`encode`.
        """
        return self.encode(values, mask_secrets=True)

    def parse(self, args: Sequence[str]) -> dict[str, Value]:
        """Check the arguments a host wrote against this form and decode them.

        This is the virtual modem's side of :meth:`build`: ``args`` as the command line holds
        them (split on commas outside quotes, quotes kept, e.g.
        :attr:`celltls.sim.commands.ParsedCommand.args`). An empty argument, or one left out
        at the end, is ``None`` when its parameter is optional.

        Returns:
            dict: every parameter's name -> ``int``, ``str`` (unquoted) or ``None``.

        Raises:
            ParamError: the first fault found, left to right, with its
                :attr:`~ParamError.problem`: ``"unexpected"`` (more arguments than
                parameters), ``"missing"`` (a required one empty or absent), ``"format"``,
                ``"range"``, ``"value"``, ``"length"`` or ``"unsafe"`` (see :meth:`Param.check`).
                The caller chooses the vendor's error for it.
        """
        items = [arg.strip() for arg in args]
        if items == [""]:
            items = []  # "AT+X=" holds no argument
        if len(items) > len(self.params):
            extra = self.params[-1].name if self.params else "argument"
            raise ParamError(f"after <{extra}>", items[len(self.params)],
                             f"{len(items)} arguments; this form takes at most "
                             f"{len(self.params)}", problem="unexpected")
        out: dict[str, Value] = {}
        for index, param in enumerate(self.params):
            raw = items[index] if index < len(items) else ""
            if raw == "":
                if not param.optional:
                    raise ParamError(param.name, "", f"<{param.name}> is required",
                                     problem="missing")
                out[param.name] = None
                continue
            out[param.name] = param.decode(raw)
        return out


@dataclass(frozen=True)
class Answer:
    """A documented answer of a command form, as the module prints it.

    Attributes:
        lines: the information response lines, in order (``"+KTCPSND: (1-*),(1-*)"``); the
            final ``OK`` is not included.
        source: the document and section (or reference source id) that quotes it.
    """

    lines: tuple[str, ...]
    source: str


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
        test_answer: the documented answer to the test form ``AT<name>=?``, with its source;
            ``None`` where no document quotes it (nothing is invented). A virtual modem built
            on :mod:`celltls.sim` answers ``=?`` with it.
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
    test_answer: Answer | None = None

    def plain_form(self) -> Form:
        """The form without a selector (``AT+X=<a>,<b>``).

        Raises:
            KeyError: the command has no such form (execution only, or only selector forms).
        """
        form = self.form(None)
        if form is None:
            raise KeyError(f"AT{self.name} has no plain write form")
        return form

    def build(self, **values: Value) -> str:
        """The argument text of the plain form from named values (:meth:`Form.build`).

        Raises:
            KeyError: no plain form. ParamError: a bad, unknown or missing value; the reason
                names this command.
        """
        return self._encode(values, mask_secrets=False)

    def shown(self, **values: Value) -> str:
        """:meth:`build` with secrets written ``"***"``, for logs and transcripts.

        Raises:
            KeyError, ParamError: as :meth:`build`.
        """
        return self._encode(values, mask_secrets=True)

    def _encode(self, values: Mapping[str, Value], *, mask_secrets: bool) -> str:
        try:
            return self.plain_form().encode(values, mask_secrets=mask_secrets)
        except ParamError as exc:
            raise ParamError(exc.field, exc.value, f"{exc.reason} (AT{self.name}, "
                             f"{self.source})", problem=exc.problem) from None

    def request(self, args: str = "", **overrides: object) -> Request:
        """The :class:`~celltls.at.protocol.Request` for ``AT<name>[=<args>]`` (``args`` ``"?"``:
        the read form ``AT<name>?``), with this command's documented timeout, response prefix,
        data phase and extra result codes; ``overrides`` replace any of them (``payload``...).

        ``args`` must already be encoded (:mod:`celltls.at.quoting`, :meth:`Form.build`).
        """
        line = f"AT{self.name}" + ("?" if args == "?" else f"={args}" if args else "")
        fields: dict[str, object] = {
            "timeout": self.timeout,
            "response_prefixes": (self.response_prefix,) if self.response_prefix else (),
            # a data phase belongs to the write (or execute) form, never to AT+X? or AT+X=?
            "data_phase": None if args.startswith("?") else self.data_phase,
            "final_results": self.final_results,
            "failure_results": self.failure_results,
            "final_pattern": self.final_pattern,
        }
        fields.update(overrides)
        return Request(line, **fields)  # type: ignore[arg-type]

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
        raw_exit_markers: what the module prints when it leaves transparent data mode by
            itself (the connection closed), e.g. ``b"\\r\\nCLOSED\\r\\n"``.
    """

    dialect: str
    title: str
    sources: Mapping[str, str]
    commands: Mapping[str, Command]
    urcs: tuple[Urc, ...] = ()
    errors: Mapping[int, str] = field(default_factory=dict)
    data_blocks: tuple[DataBlock, ...] = ()
    misspellings: tuple[Misspelling, ...] = ()
    raw_exit_markers: tuple[bytes, ...] = ()

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

    def framing(self) -> Framing:
        """What the AT channel needs to frame this dialect's answers (applied once with
        :meth:`celltls.at.channel.ATChannel.configure`)."""
        return Framing(self.urc_prefixes(), tuple(self.data_blocks), self.raw_exit_markers)

    def urc_prefixes(self) -> tuple[str, ...]:
        """The distinct line prefixes that identify a URC: up to and including the first colon
        (``"+QSSLURC:"``), or the whole prefix of a URC without one (``"RDY"``,
        ``"+PDP DEACT"``, ``"Call Ready"``)."""
        return tuple(sorted({
            urc.prefix.split(":", 1)[0] + ":" if ":" in urc.prefix else urc.prefix
            for urc in self.urcs
        }))
