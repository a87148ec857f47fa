"""Decode log lines with a dialect's catalog: commands, parameters, responses, result codes.

Every command line is split into its name, its kind (write ``=``, read ``?``, test ``=?``,
execute) and its parameters; each parameter is named from the catalog's :class:`Form`, with its
meaning and whether the value is valid (:meth:`Param.check`). Response lines are recognised as
final result codes (``OK``, ``ERROR``, ``+CME ERROR: <n>``, ``+CMS ERROR: <n>``, the command's own
such as ``SEND OK``), URCs and information responses, with their fields named where the catalog
(or the dialect module's ``RESPONSES`` table) knows them, registration states decoded and signal
values converted to dBm.

The 3GPP TS 27.007 commands every dialect shares are in :data:`GENERIC`, used when the dialect's
catalog does not define a command itself.

Sources: ITU-T V.250 5.2 (command line syntax), 5.7 (result codes); 3GPP TS 27.007 (the
commands of :data:`GENERIC`, sections given per entry); 3GPP TS 27.005 3.2.5.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from celltls.at.codes import (
    CMS_ERRORS,
    REGISTRATION_STATES,
    cme_meaning,
    csq_to_dbm,
)
from celltls.at.syntax import Operation, scan_commands, split_arguments
from celltls.dialects.spec import Catalog, Command, Form, Param, parse_number
from celltls.doctor.reader import Line

# ---------------------------------------------------------------------------------------------
# The 3GPP TS 27.007 commands shared by every dialect.


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


_STAT = _p("stat", "int", "registration state", values=REGISTRATION_STATES)
_REG_N = _p("n", "int", "URC mode", values={
    0: "no URC", 1: "URC with <stat>", 2: "URC with location", 3: "URC with location and cause",
    4: "URC with location and PSM timers", 5: "URC with location, cause and PSM timers"},
    range=(0, 5))
_FUN = _p("fun", "int", "functionality level", values={
    0: "minimum functionality", 1: "full functionality", 4: "RF off (flight mode)"},
    range=(0, 127))


def _cmd(name: str, title: str, source: str, *params: Param, prefix: str | None = None,
         timeout: float = 1.0) -> Command:
    forms = (Form(tuple(params)),) if params else ()
    return Command(name, title, source, forms=forms, response_prefix=prefix, timeout=timeout)


_GENERIC_COMMANDS = (
    _cmd("+CREG", "circuit-switched registration status", "27.007 7.2", _REG_N, prefix="+CREG:"),
    _cmd("+CGREG", "GPRS registration status", "27.007 10.1.20", _REG_N, prefix="+CGREG:"),
    _cmd("+CEREG", "EPS (LTE) registration status", "27.007 10.1.22", _REG_N, prefix="+CEREG:"),
    _cmd("+CSQ", "signal quality", "27.007 8.5", prefix="+CSQ:"),
    _cmd("+CESQ", "extended signal quality", "27.007 8.69", prefix="+CESQ:"),
    _cmd("+CGDCONT", "define a PDP context", "27.007 10.1.1",
         _p("cid", "int", "PDP context identifier", range=(0, 255)),
         _p("PDP_type", "str", "packet data protocol type", optional=True,
            values={"IP": "IPv4", "IPV6": "IPv6", "IPV4V6": "dual stack", "Non-IP": "non-IP",
                    "NONIP": "non-IP"}),
         _p("APN", "str", "access point name", max_len=100, optional=True),
         prefix="+CGDCONT:"),
    _cmd("+CGACT", "activate or deactivate PDP contexts", "27.007 10.1.10",
         _p("state", "int", "activation", values={0: "deactivate", 1: "activate"}, range=(0, 1)),
         _p("cid", "int", "PDP context identifier", optional=True), prefix="+CGACT:",
         timeout=150),
    _cmd("+CGATT", "packet domain attach", "27.007 10.1.9",
         _p("state", "int", "attach", values={0: "detach", 1: "attach"}, range=(0, 1)),
         prefix="+CGATT:", timeout=75),
    _cmd("+CGPADDR", "show PDP addresses", "27.007 10.1.14",
         _p("cid", "int", "PDP context identifier", optional=True), prefix="+CGPADDR:"),
    _cmd("+CFUN", "set phone functionality", "27.007 8.2", _FUN,
         _p("rst", "int", "reset before", values={0: "no reset", 1: "reset"}, optional=True),
         prefix="+CFUN:", timeout=30),
    _cmd("+CPIN", "enter PIN", "27.007 8.3",
         _p("pin", "str", "SIM PIN", secret=True), prefix="+CPIN:", timeout=5),
    _cmd("+CMEE", "report mobile termination errors", "27.007 9.1",
         _p("n", "int", "error format", values={0: "ERROR only", 1: "numeric +CME ERROR",
                                                 2: "verbose +CME ERROR"}, range=(0, 2)),
         prefix="+CMEE:"),
    _cmd("+COPS", "operator selection", "27.007 7.3",
         _p("mode", "int", "selection mode", values={0: "automatic", 1: "manual",
                                                      2: "deregister", 3: "set format only",
                                                      4: "manual, then automatic"},
            range=(0, 4)),
         _p("format", "int", "operator format", range=(0, 2), optional=True),
         _p("oper", "str", "operator", optional=True),
         _p("AcT", "int", "access technology", optional=True),
         prefix="+COPS:", timeout=180),
    _cmd("+CCLK", "real-time clock", "27.007 8.15",
         _p("time", "str", '"yy/MM/dd,hh:mm:ss+zz" (zz in quarters of an hour)'),
         prefix="+CCLK:"),
    _cmd("+CGSN", "IMEI", "27.007 5.4", prefix="+CGSN:"),
    _cmd("+CIMI", "IMSI", "27.007 5.6"),
    _cmd("+CGMI", "manufacturer", "27.007 5.1"),
    _cmd("+CGMM", "model", "27.007 5.2"),
    _cmd("+CGMR", "firmware revision", "27.007 5.3"),
    _cmd("+CUSD", "unstructured supplementary service data", "27.007 7.15",
         _p("n", "int", "result presentation", range=(0, 2)),
         _p("str", "str", "USSD string", optional=True),
         _p("dcs", "int", "data coding scheme", optional=True), prefix="+CUSD:"),
    _cmd("+CMGF", "SMS message format", "27.005 3.2.3",
         _p("mode", "int", "format", values={0: "PDU", 1: "text"}, range=(0, 1))),
    _cmd("+CNMI", "new SMS indications", "27.005 3.4.1",
         _p("mode", "int", "mode", range=(0, 3)), _p("mt", "int", "SMS-DELIVER", range=(0, 3),
                                                    optional=True)),
    _cmd("+CMGS", "send SMS", "27.005 3.5.1", _p("da", "str", "destination address")),
    _cmd("+CMGR", "read SMS", "27.005 3.4.3", _p("index", "int", "message index")),
    _cmd("I", "product identification", "V.250 6.1.3"),
    _cmd("E", "command echo", "V.250 6.2.4"),
    _cmd("Z", "reset to the stored profile", "V.250 6.1.1"),
    _cmd("O", "return to online data mode", "V.250 6.3.7"),
    _cmd("H", "hang up", "V.250 6.3.6"),
    _cmd("", "attention (no command)", "V.250 5.2.1"),
)

#: The 3GPP TS 27.007 / 27.005 / V.250 commands every dialect shares.
GENERIC = Catalog(
    dialect="3gpp",
    title="3GPP TS 27.007 / 27.005 and ITU-T V.250 commands",
    sources=MappingProxyType({
        "27.007": "3GPP TS 27.007 AT command set for User Equipment",
        "27.005": "3GPP TS 27.005 (SMS)",
        "V.250": "ITU-T V.250 Serial asynchronous automatic dialling and control",
    }),
    commands=MappingProxyType({c.name: c for c in _GENERIC_COMMANDS}),
)

#: Field names of 3GPP information responses (prefix -> fields), 27.007 sections as above.
GENERIC_RESPONSES: Mapping[str, tuple[Param, ...]] = MappingProxyType({
    "+CSQ:": (_p("rssi", "int", "received signal strength (0-31, 99 unknown)"),
              _p("ber", "int", "bit error rate (0-7, 99 unknown)")),
    "+CESQ:": (_p("rxlev", "int", "GSM RSSI"), _p("ber", "int", "GSM bit error rate"),
               _p("rscp", "int", "UMTS RSCP"), _p("ecno", "int", "UMTS Ec/No"),
               _p("rsrq", "int", "LTE RSRQ index"), _p("rsrp", "int", "LTE RSRP index")),
    "+CGPADDR:": (_p("cid", "int", "PDP context identifier"),
                  _p("PDP_addr", "str", "IP address"),
                  _p("PDP_addr_2", "str", "second (IPv6) address")),
    "+CCLK:": (_p("time", "str", "module time yy/MM/dd,hh:mm:ss+zz"),),
    "+CFUN:": (_FUN,),
    "+CPIN:": (_p("code", "enum", "SIM state"),),
    "+CGATT:": (_p("state", "int", "attach state", values={0: "detached", 1: "attached"}),),
    "+CGACT:": (_p("cid", "int", "PDP context identifier"),
                _p("state", "int", "activation", values={0: "inactive", 1: "active"})),
    "+COPS:": (_p("mode", "int", "selection mode"), _p("format", "int", "operator format"),
               _p("oper", "str", "operator"), _p("AcT", "int", "access technology")),
    "+CGDCONT:": (_p("cid", "int", "PDP context identifier"), _p("PDP_type", "str", "type"),
                  _p("APN", "str", "access point name"), _p("PDP_addr", "str", "address")),
})
_REG_URC_FIELDS = (_STAT, _p("tac", "str", "tracking/location area code (hex)"),
                   _p("ci", "str", "cell identity (hex)"),
                   _p("AcT", "int", "access technology", values={
                       0: "GSM", 2: "UTRAN", 3: "GSM w/EGPRS", 7: "E-UTRAN (LTE, LTE-M)",
                       9: "E-UTRAN (NB-S1, NB-IoT)"}),
                   _p("cause_type", "int", "cause type"), _p("reject_cause", "int", "cause"),
                   _p("Active-Time", "str", "PSM active time (T3324)"),
                   _p("Periodic-TAU", "str", "PSM periodic TAU (T3412)"))
REGISTRATION_PREFIXES = ("+CREG:", "+CGREG:", "+CEREG:")

FINAL_OK = frozenset({"OK", "SEND OK", "CLOSE OK", "DEACT OK", "SHUT OK"})
FINAL_FAIL = frozenset({"ERROR", "NO CARRIER", "NO ANSWER", "BUSY", "NO DIALTONE", "SEND FAIL"})
_CME = re.compile(r"^\+(CME|CMS) ERROR:\s*(.*)$", re.IGNORECASE)
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


@dataclass(frozen=True)
class DecodedParam:
    """One parameter of a command, or one field of a response, decoded.

    Attributes:
        name: the catalog's name (``"ctxindex"``), or ``"#<n>"`` when the catalog has none.
        raw: the value as written (quotes included).
        value: the value without quotes and surrounding blanks.
        description: what the parameter is.
        meaning: the documented meaning of this value, if any.
        problem: ``None`` if the value is valid, else what is wrong (``Param.check``).
        column: 1-based column of the value in the input line.
    """

    name: str
    raw: str
    value: str
    description: str = ""
    meaning: str | None = None
    problem: str | None = None
    column: int = 0


@dataclass(frozen=True)
class Decoded:
    """One input line, decoded.

    Attributes:
        line: the reader's :class:`Line`.
        kind: ``"command"``, ``"final"`` (a final result code), ``"intermediate"``
            (``CONNECT``, a ``>`` prompt), ``"urc"``, ``"information"`` (an information
            response), ``"value"`` (a bare value answering a command: ``10.1.83.188``),
            ``"data"``, ``"text"`` (prose or anything unrecognised), ``"comment"``, ``"blank"``.
        name: a command's name after ``AT`` (``"+QSSLOPEN"``), a response's prefix without the
            colon (``"+QSSLOPEN"``), or the final result code (``"OK"``, ``"+CME ERROR"``).
        op: for a command, ``"write"``, ``"read"``, ``"test"`` or ``"execute"``.
        title: what the command or URC does, from the catalog.
        known: the catalog (dialect or 3GPP) knows this command or response.
        source: the catalog entry's document and section.
        selector: the first argument when it selects a form (``"sslversion"``).
        params: parameters (commands) or fields (responses), decoded.
        success: for a final result code, whether it reports success.
        code: the number of a ``+CME ERROR``/``+CMS ERROR`` (``None`` for text ones).
        meaning: the meaning of that code or of the final result code.
        notes: decoded facts (``"registered, roaming"``, ``"-71 dBm"``).
        command: index (in the decoded list) of the command this line follows, if any.
        args_text: a command's argument text (after ``=``), normalised.
        args_start: index of ``args_text`` in ``line.text``.
    """

    line: Line
    kind: str
    name: str | None = None
    op: str | None = None
    title: str = ""
    known: bool = False
    source: str = ""
    selector: str | None = None
    params: tuple[DecodedParam, ...] = ()
    success: bool | None = None
    code: int | None = None
    meaning: str | None = None
    notes: tuple[str, ...] = ()
    command: int | None = None
    args_text: str = ""
    args_start: int = 0

    @property
    def lineno(self) -> int:
        """The 1-based line number in the input."""
        return self.line.lineno

    @property
    def text(self) -> str:
        """The normalised text of the line."""
        return self.line.text

    def param(self, name: str) -> DecodedParam | None:
        """The parameter called ``name`` (case-insensitive), if present."""
        key = name.lower()
        for param in self.params:
            if param.name.lower() == key:
                return param
        return None

    def arg(self, index: int) -> str | None:
        """The unquoted value of the ``index``-th parameter, if present."""
        return self.params[index].value if index < len(self.params) else None


@dataclass(frozen=True)
class ParsedCommand:
    """The syntax of one command line: ``AT<name>[=<args>|?|=?]``."""

    name: str
    op: str
    args_text: str
    args_start: int


def parse_command(text: str, *, two_letter: bool = False) -> ParsedCommand:
    """Split a command line into name, operation and arguments (its first command).

    Args:
        text: the command line, normalised, starting with ``AT`` in any case.
        two_letter: XBee-style command mode: the name is the two characters after ``AT`` and
            the rest is the value (Digi XBee3 Cellular User Guide, "AT command syntax").

    Returns:
        ParsedCommand: ``name`` upper-cased (``"+QSSLOPEN"``, ``"E"``, ``"DL"``; ``""`` when
        the line holds no readable command), ``op`` (``"write"``, ``"read"``, ``"test"``,
        ``"execute"``; a basic command with a number, ``ATE0``, is a ``"write"`` of that
        number), the argument text and its index. Never raises.

    Source: ITU-T V.250 5.2 (basic and extended syntax); 3GPP TS 27.007 4.1; the parser is
    :func:`celltls.at.syntax.scan_commands`, the virtual modems' own.
    """
    i = 2
    n = len(text)
    while i < n and text[i] == " ":
        i += 1
    if two_letter:
        name = text[i : i + 2].upper()
        rest_start = i + 2
        while rest_start < n and text[rest_start] == " ":
            rest_start += 1
        value = text[rest_start:]
        return ParsedCommand(name, "write" if value.strip() else "read", value, rest_start)
    commands = scan_commands(text, i)
    if not commands:
        return ParsedCommand("", "execute", text[i:], i)
    first = commands[0]
    op = str(first.op)
    if first.basic and first.name and first.op is Operation.EXECUTE and first.args:
        op = "write"
    return ParsedCommand(first.name, op, first.args_text, first.args_start)


def argument_spans(args_text: str) -> list[tuple[int, str]]:
    """``split_arguments`` with the start index of each argument in ``args_text``."""
    spans: list[tuple[int, str]] = []
    pos = 0
    for part in split_arguments(args_text):
        spans.append((pos, part))
        pos += len(part) + 1
    return spans


def _decode_values(
    params: Sequence[Param], spans: Sequence[tuple[int, str]], line: Line, base: int,
    *, check: bool,
) -> tuple[DecodedParam, ...]:
    out: list[DecodedParam] = []
    for index, (pos, raw) in enumerate(spans):
        value = raw.strip()
        unquoted = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
        column = line.column(base + pos + (len(raw) - len(raw.lstrip())))
        if index < len(params):
            param = params[index]
            shown = "***" if param.secret and unquoted else unquoted
            problem = None
            if check and value != "":
                problem = param.check(value)
            elif check and not param.optional and value == "":
                problem = None  # an empty value keeps the previous setting (V.250 5.3.1)
            meaning = param.meaning(value) if value else None
            out.append(DecodedParam(param.name, "***" if param.secret and value else raw,
                                    shown, param.description, meaning, problem, column))
        else:
            problem = "unexpected extra parameter" if check and params else None
            out.append(DecodedParam(f"#{index + 1}", raw, unquoted, "", None, problem, column))
    if check:
        for param in params[len(spans) :]:
            if not param.optional:
                out.append(DecodedParam(param.name, "", "", param.description, None,
                                        f"<{param.name}> is missing", line.column(base + len(
                                            line.text[base:]))))
                break
    return tuple(out)


@dataclass
class Decoder:
    """Decodes lines with a dialect catalog, falling back to :data:`GENERIC`.

    Args:
        catalog: the dialect's catalog, or ``None`` for 3GPP only.
        responses: extra information-response field tables (prefix -> fields) from the dialect
            module's ``RESPONSES``.
        two_letter: decode commands XBee-style (``ATDLhost``).
    """

    catalog: Catalog | None = None
    responses: Mapping[str, tuple[Param, ...]] = field(default_factory=dict)
    two_letter: bool = False

    def __post_init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._prefixes: dict[str, Command] = {}
        for cat in (GENERIC, self.catalog):
            if cat is None:
                continue
            for command in cat.commands.values():
                self._commands[command.name.upper()] = command
                if command.response_prefix:
                    self._prefixes[command.response_prefix.rstrip(":").upper()] = command
        self._finals_ok = set(FINAL_OK)
        self._finals_fail = set(FINAL_FAIL)
        for command in self._commands.values():
            self._finals_ok.update(r.upper() for r in command.final_results)
            self._finals_fail.update(r.upper() for r in command.failure_results)
        self._errors: Mapping[int, str] = self.catalog.errors if self.catalog else {}

    def command_for(self, name: str) -> Command | None:
        """The catalog entry of a command name (``"+QSSLOPEN"``), dialect first."""
        return self._commands.get(name.upper())

    def cme(self, code: int) -> str:
        """Meaning of a ``+CME ERROR`` code: the dialect's table, then 27.007 9.2."""
        if code in self._errors:
            return self._errors[code]
        return cme_meaning(code)

    def decode(self, lines: Sequence[Line]) -> list[Decoded]:
        """Decode every line; ``result[i]`` describes ``lines[i]``. Linear in the input."""
        out: list[Decoded] = []
        last_command: int | None = None
        last_name = ""
        last_op = ""
        for line in lines:
            if line.kind in ("blank", "comment"):
                out.append(Decoded(line, line.kind))
                continue
            if line.kind == "command":
                decoded = self._command(line)
                last_command = len(out)
                last_name = decoded.name or ""
                last_op = decoded.op or ""
                out.append(decoded)
                continue
            if line.kind == "data":
                out.append(Decoded(line, "data", command=last_command))
                continue
            out.append(self._response(line, last_command, last_name, last_op))
        return out

    # -- commands --------------------------------------------------------------------------

    def _command(self, line: Line) -> Decoded:
        parsed = parse_command(line.text, two_letter=self.two_letter)
        command = self.command_for(parsed.name)
        if command is None:
            spans = argument_spans(parsed.args_text) if parsed.op == "write" else []
            unknown = _decode_values((), spans, line, parsed.args_start, check=False)
            return Decoded(line, "command", parsed.name, parsed.op, known=False, params=unknown,
                           args_text=parsed.args_text, args_start=parsed.args_start)
        params: tuple[DecodedParam, ...] = ()
        selector: str | None = None
        notes: list[str] = []
        balanced = parsed.args_text.count('"') % 2 == 0
        if parsed.op == "write" and command.forms:
            spans = (argument_spans(parsed.args_text) if not self.two_letter
                     else [(0, parsed.args_text)])
            first = spans[0][1].strip().strip('"') if spans else ""
            form = command.form(first) if any(f.selector for f in command.forms) else None
            if form is not None:
                selector = form.selector
            else:
                form = command.form(None)
            if form is None:
                notes.append(f"{first!r} is not a setting this command knows")
                params = _decode_values((), spans, line, parsed.args_start, check=False)
            else:
                params = _decode_values(form.params, spans, line, parsed.args_start,
                                        check=balanced)
        elif parsed.op == "write":
            spans = argument_spans(parsed.args_text)
            params = _decode_values((), spans, line, parsed.args_start, check=False)
        return Decoded(line, "command", parsed.name, parsed.op, command.title, True,
                       command.source, selector, params, notes=tuple(notes),
                       args_text=parsed.args_text, args_start=parsed.args_start)

    # -- responses -------------------------------------------------------------------------

    def _response(self, line: Line, last: int | None, last_name: str, last_op: str) -> Decoded:
        text = line.text.strip()
        upper = text.upper()
        if upper in self._finals_ok:
            return Decoded(line, "final", upper, success=True, meaning="success", command=last)
        if upper in self._finals_fail:
            return Decoded(line, "final", upper, success=False, command=last,
                           meaning="the command failed (no reason given)" if upper == "ERROR"
                           else "failure")
        found = _CME.match(text)
        if found:
            kind = "+" + found.group(1).upper() + " ERROR"
            body = found.group(2).strip()
            number = parse_number(body)
            if number is not None:
                meaning = (self.cme(number) if kind == "+CME ERROR"
                           else CMS_ERRORS.get(number, f"unknown code {number}"))
            else:
                meaning = body
            return Decoded(line, "final", kind, success=False, code=number, meaning=meaning,
                           command=last)
        if upper in ("CONNECT", ">") or upper.startswith("CONNECT "):
            return Decoded(line, "intermediate", "CONNECT" if upper != ">" else ">",
                           command=last, meaning="the module waits for data")
        if ":" in text and text[:1] in "+#%^$":
            return self._information(line, text, last, last_name, last_op)
        if self.catalog is not None:
            urc = self.catalog.urc_for(text)
            if urc is not None:
                return Decoded(line, "urc", urc.prefix, title=urc.description, known=True,
                               source=urc.source, command=last)
        if last is not None and (_IPV4.match(text) or re.fullmatch(r"[0-9A-Fa-f]{1,8}", text)):
            return Decoded(line, "value", None, command=last, params=(
                DecodedParam("value", text, text, "", None, None, line.column(0)),))
        return Decoded(line, "text", command=last)

    def _information(self, line: Line, text: str, last: int | None, last_name: str,
                     last_op: str) -> Decoded:
        prefix = text.partition(":")[0]
        name = prefix.strip().upper()
        base = len(prefix) + 1
        while base < len(text) and text[base] == " ":
            base += 1
        spans = argument_spans(text[base:])
        source = ""
        title = ""
        known = False
        fields: Sequence[Param] = ()
        notes: list[str] = []
        urc = self.catalog.urc_for(text) if self.catalog is not None else None
        if urc is not None and urc.prefix.rstrip(":").upper() != name:
            # a URC with a selector in its prefix ('+QSSLURC: "recv"'): fields follow it
            spans = spans[1:]
        command = self._prefixes.get(name)
        answer = last_name.upper() == name
        kind = "information" if answer else "urc"
        extra = self.responses.get(name + ":") or GENERIC_RESPONSES.get(name + ":")
        if name + ":" in REGISTRATION_PREFIXES:
            fields = _REG_URC_FIELDS
            if answer and last_op == "read":
                fields = (_REG_N, *_REG_URC_FIELDS)
            known = True
            source = {"+CREG:": "27.007 7.2", "+CGREG:": "27.007 10.1.20",
                      "+CEREG:": "27.007 10.1.22"}[name + ":"]
            title = "registration status"
        elif extra is not None:
            fields = extra
            known = True
            source = command.source if command else ""
            title = command.title if command else ""
        elif urc is not None:
            fields = urc.params
            known = True
            source = urc.source
            title = urc.description
            kind = "urc" if not answer else "information"
        elif command is not None:
            known = True
            source = command.source
            title = command.title
        params = _decode_values(fields, spans, line, base, check=False)
        notes.extend(self._facts(name, params))
        return Decoded(line, kind, name, title=title, known=known, source=source, params=params,
                       notes=tuple(notes), command=last)

    def _facts(self, name: str, params: Sequence[DecodedParam]) -> list[str]:
        notes: list[str] = []
        values = {p.name: p.value for p in params}
        if name in ("+CREG", "+CGREG", "+CEREG") and "stat" in values:
            stat = parse_number(values["stat"])
            if stat is not None:
                notes.append(f"stat {stat}: " + REGISTRATION_STATES.get(
                    stat, "vendor-specific state"))
        if name == "+CSQ" and "rssi" in values:
            rssi = parse_number(values["rssi"])
            if rssi is not None and (rssi == 99 or 0 <= rssi <= 31):
                dbm = csq_to_dbm(rssi)
                notes.append("signal unknown" if dbm is None else f"signal {dbm} dBm")
        if name == "+CESQ" and "rsrp" in values:
            rsrp = parse_number(values["rsrp"])
            if rsrp is not None and 0 <= rsrp <= 97:
                notes.append(f"RSRP about {rsrp - 140} dBm")
            if rsrp == 255:
                notes.append("RSRP not measured")
        return notes
