"""What a virtual modem's command handlers see and raise: the parsed command, the failure.

A handler registered with :meth:`celltls.sim.line.LineEngine.register` receives a
:class:`ParsedCommand` (one command of a command line, parsed by :mod:`celltls.at.syntax`) and
returns the final result code text, ``None`` when it answers later, or raises
:class:`CommandError`, which the engine answers with ``ERROR`` or ``+CME ERROR``.

Sources: ITU-T V.250 5.3-5.4 (command syntax), 5.7.1 (``ERROR``); 3GPP TS 27.007 9.1-9.2
(``+CME ERROR``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from celltls.at.syntax import Command, Operation, split_arguments, string_value
from celltls.dialects.spec import Form, ParamError, Problem, Value

__all__ = [
    "CME_ERRORS",
    "CommandError",
    "Handler",
    "ParsedCommand",
    "form_args",
    "int_arg",
    "split_args",
    "unquote",
]

#: +CME ERROR numbers and the verbose texts the virtual modems print (3GPP TS 27.007 9.2.1).
CME_ERRORS: dict[int, str] = {
    0: "phone failure",
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    30: "no network service",
    50: "Incorrect parameters",
    100: "unknown",
    148: "unspecified GPRS error",
}


class CommandError(Exception):
    """A command failed; the engine answers ``ERROR`` or ``+CME ERROR: <code>``.

    This is the virtual modem's answer to the host, not an error of celltls: it never leaves
    the engine (:meth:`celltls.sim.line.LineEngine.error` turns it into result code bytes).

    Args:
        code: a 27.007 9.2.1 error number, or ``None`` for a plain ``ERROR`` whatever
            ``AT+CMEE`` says (V.250 5.7.1: a line that cannot be parsed or an unknown command).
        reason: why, for the log.
    """

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(reason or (CME_ERRORS.get(code, "error") if code is not None else "error"))
        self.code = code
        self.reason = reason


_KINDS = {
    Operation.EXECUTE: "exec",
    Operation.READ: "read",
    Operation.TEST: "test",
    Operation.WRITE: "write",
}


@dataclass(frozen=True)
class ParsedCommand:
    """One command of a command line, as a handler receives it.

    Attributes:
        name: upper-case name without ``AT``: ``"+QSSLCFG"``, ``"E"``, ``"&F"``, ``"I"``,
            ``"S0"``.
        kind: ``"exec"`` (``AT+X`` or a basic command), ``"read"`` (``AT+X?``), ``"test"``
            (``AT+X=?``) or ``"write"`` (``AT+X=...``).
        args: the write arguments as written, split on commas outside quotes, blanks around
            each removed, quotes kept; for a basic command, its numeric argument (``["0"]``
            for ``E0``) or ``[]``.
        raw: the command as the host wrote it.
    """

    name: str
    kind: str
    args: tuple[str, ...]
    raw: str

    @classmethod
    def of(cls, command: Command) -> ParsedCommand:
        """The handler's view of a command parsed by :mod:`celltls.at.syntax`."""
        return cls(command.name, _KINDS[command.op], command.args, command.raw)


Handler = Callable[[ParsedCommand], "str | None"]


def split_args(text: str) -> list[str]:
    """Split a write command's arguments on commas outside double quotes.

    Args:
        text: what follows ``=``, e.g. ``'"sslversion",0,4'``.

    Returns:
        The arguments with surrounding blanks removed, quotes kept (``['"sslversion"', '0', '4']``).

    Raises:
        CommandError: a double quote is not closed (V.250 5.4.2.2).
    """
    if text.count('"') % 2:
        raise CommandError(None, "unterminated string")
    return [arg.strip() for arg in split_arguments(text)]


def unquote(arg: str) -> str | None:
    """The content of a double-quoted string argument, or ``None`` when ``arg`` is not quoted.

    Source: ITU-T V.250 5.4.2.2; the same function as :func:`celltls.at.syntax.string_value`.
    """
    return string_value(arg)


def int_arg(arg: str, low: int, high: int, code: int = 50) -> int:
    """Parse a decimal argument within ``low``..``high``.

    Args:
        arg: the argument as written (blanks around it are ignored).
        low: the smallest value allowed.
        high: the largest value allowed.
        code: the 27.007 9.2 error number to answer with (50 "Incorrect parameters").

    Raises:
        CommandError: not a number or out of range (``code``).
    """
    try:
        value = int(arg.strip(), 10)
    except ValueError:
        raise CommandError(code, f"not a number: {arg!r}") from None
    if not low <= value <= high:
        raise CommandError(code, f"{value} out of range {low}-{high}")
    return value


def form_args(
    form: Form,
    cmd: ParsedCommand,
    codes: Mapping[Problem, int | None],
    *,
    by_param: Mapping[str, int | None] | None = None,
    default: int | None = 50,
) -> dict[str, Value]:
    """Check a write command's arguments against its catalog form and decode them.

    The virtual modem's side of :meth:`celltls.dialects.spec.Form.build`: the same parameter
    facts (kind, range, values, length, optional) judge what the host wrote.

    Args:
        form: the command's form in the dialect's catalog.
        cmd: the command as received.
        codes: the ``+CME ERROR`` number for each kind of fault
            (:data:`celltls.dialects.spec.Problem`), from the dialect's catalog; ``None``
            answers a plain ``ERROR``.
        by_param: codes for any fault of one parameter, which win over ``codes`` (a session id
            that is out of range is a bad session id).
        default: the code of a fault ``codes`` does not name (27.007 9.2.1: 50 "Incorrect
            parameters").

    Returns:
        dict: every parameter's name -> ``int``, ``str`` or ``None`` (omitted).

    Raises:
        CommandError: the first fault found, with the code chosen above.
    """
    try:
        return form.parse(cmd.args if cmd.kind == "write" else ())
    except ParamError as exc:
        special = by_param or {}
        code = special[exc.field] if exc.field in special else codes.get(exc.problem, default)
        raise CommandError(code, str(exc)) from None
