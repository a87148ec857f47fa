"""The syntax of an AT command line: one parser for the virtual modems and the doctor.

A command line (ITU-T V.250 5.2.1) is the prefix ``AT`` (any case; characters before it are
ignored), then a body of commands, then S3 (CR). The body holds:

- basic commands (V.250 5.3.1): a letter, or ``&`` and a letter, optionally followed by a
  decimal number (``E0``, ``&F``, ``I``), or a read ``E?``; S-parameters (5.3.2) ``S<n>?`` and
  ``S<n>=<value>``. Basic commands follow each other without a separator (``ATE0V1``);
- extended commands (V.250 5.4; 3GPP TS 27.007 4.1): a prefix character (``+``, and the vendor
  prefixes ``#``, ``%``, ``$``, ``^``, ``*``), a name, then nothing (execute, ``AT+CGMI``),
  ``?`` (read), ``=?`` (test) or ``=`` and comma-separated arguments (write). An extended
  command ends at a ``;`` outside a string constant (5.4.1);
- string constants in double quotes (5.4.2.2), which may hold commas and semicolons and cannot
  hold a double quote. Spaces between commands and around ``=``, ``?`` and arguments are
  ignored (5.2.1); a name is written without spaces.

:func:`scan_commands` parses leniently and never raises: a malformed command is returned with a
:attr:`Command.problem`, which is what a log decoder wants. :func:`parse_commands` is the strict
form a modem uses: the first problem raises :class:`CommandSyntaxError` (the modem answers
``ERROR``, V.250 5.7.1). The host side builds command lines with :mod:`celltls.at.quoting`,
which shares :func:`split_arguments` with this module.

This module imports nothing of celltls but :mod:`celltls.errors`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from celltls.errors import ATError

__all__ = [
    "EXTENDED_PREFIXES",
    "Command",
    "CommandSyntaxError",
    "Operation",
    "find_prefix",
    "parse_commands",
    "scan_commands",
    "split_arguments",
    "string_value",
]

#: Characters that start an extended command: ``+`` (V.250 5.4.1, 27.007) and the vendor
#: prefixes in use (``#`` Telit/Nordic, ``%`` Nordic, ``$`` Qualcomm/Digi, ``^`` Huawei,
#: ``*`` various).
EXTENDED_PREFIXES = "+#%$^*"
# V.250 5.4.1 allows A-Z 0-9 ! % - . / : _ in a name; "/" and ":" are left out so that a
# vendor's path or response-like text after the name is not taken for the name.
_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_DIGITS = frozenset("0123456789")


class CommandSyntaxError(ATError, ValueError):
    """A command line that V.250 does not allow (a modem answers it with ``ERROR``).

    Attributes:
        command: the malformed command as written (from its first character to its end).
        position: the index of the command's first character in the line.
        reason: what is wrong (``"unterminated string"``...).
    """

    def __init__(self, command: str, position: int, reason: str) -> None:
        super().__init__(f"{reason}: {command!r} at {position}")
        self.command = command
        self.position = position
        self.reason = reason


class Operation(enum.StrEnum):
    """The operation of a command (V.250 5.4.3-5.4.4; 27.007 4.1)."""

    EXECUTE = "execute"  #: ``AT+CGMI``, or a basic command such as ``ATE0``
    READ = "read"  #: ``AT+CREG?``, ``ATE?``, ``ATS0?``
    TEST = "test"  #: ``AT+CREG=?``
    WRITE = "write"  #: ``AT+CREG=1``, ``ATS0=1``


@dataclass(frozen=True)
class Command:
    """One command of a command line.

    Attributes:
        name: the name upper-cased, without ``AT``: ``"+QSSLCFG"``, ``"E"``, ``"&F"``,
            ``"S0"`` (an S-parameter with its number); ``""`` when no name could be read.
        op: the operation.
        args: for a write, the arguments split on commas outside quotes, blanks around each
            removed and quotes kept (``('"sslversion"', '0', '4')``; ``AT+X=`` gives
            ``('',)``); for a basic command, its number (``("0",)`` for ``E0``) or ``()``.
        raw: the command as written, from its first character up to (not including) the
            ``;`` or the next basic command that ends it.
        start: the index of :attr:`raw` in the line.
        args_text: the argument text as written: after ``=`` up to the end of the command for
            a write, the number of a basic command, the unparsable rest for a malformed one,
            else ``""``.
        args_start: the index of :attr:`args_text` in the line.
        problem: ``None`` for a well-formed command, else why it is malformed.
    """

    name: str
    op: Operation
    args: tuple[str, ...]
    raw: str
    start: int
    args_text: str
    args_start: int
    problem: str | None = None

    @property
    def basic(self) -> bool:
        """Whether this is a basic command (V.250 5.3) rather than an extended one (5.4)."""
        return not self.name or self.name[0] not in EXTENDED_PREFIXES


def split_arguments(text: str) -> list[str]:
    """Split the argument part of a command or response line on commas outside quotes.

    Args:
        text: the arguments, e.g. ``'1,"a,b",3'``.

    Returns:
        list[str]: ``['1', '"a,b"', '3']``; at least one element (``""`` gives ``['']``).
        Whitespace around each argument is kept, so the caller can tell ``AT+X= 1`` from
        ``AT+X=1``. An unbalanced quote leaves the rest of the text in the last argument.

    Source: ITU-T V.250 5.4.2.2 (string constants), 5.4.3.1 (a comma between arguments).
    """
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def string_value(arg: str) -> str | None:
    """The content of a string constant, or ``None`` when ``arg`` is not exactly one.

    Args:
        arg: one argument as :attr:`Command.args` holds it (blanks around it removed).

    Returns:
        str | None: ``'"RAM:ca.pem"'`` gives ``'RAM:ca.pem'``; ``'5'``, ``'"a'`` and
        ``'"a"b"'`` give ``None``.

    Source: ITU-T V.250 5.4.2.2.
    """
    if len(arg) >= 2 and arg[0] == '"' and arg[-1] == '"' and '"' not in arg[1:-1]:
        return arg[1:-1]
    return None


def find_prefix(line: str) -> int | None:
    """The index just after the line's ``AT`` prefix, or ``None`` when there is none.

    Args:
        line: a command line without its terminator; ``AT``, ``at``, ``At`` and ``aT`` count,
            and characters before the prefix are ignored (V.250 5.2.1).
    """
    found = line.upper().find("AT")
    return None if found < 0 else found + 2


def _end_of_command(line: str, start: int) -> int:
    """The index of the ``;`` outside quotes that ends an extended command, or ``len(line)``."""
    quoted = False
    for index in range(start, len(line)):
        char = line[index]
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            return index
    return len(line)


def _digits_end(line: str, start: int) -> int:
    end = start
    while end < len(line) and line[end] in _DIGITS:
        end += 1
    return end


def _extended(line: str, start: int) -> Command:
    n = len(line)
    j = start + 1
    while j < n and line[j] in _NAME_CHARS:
        j += 1
    end = _end_of_command(line, j)
    raw = line[start:end]
    if j == start + 1:
        return Command("", Operation.EXECUTE, (), raw, start, raw, start,
                       "empty extended command name")
    name = line[start:j].upper()
    rest = line[j:end]
    body = rest.strip()
    lead = j + len(rest) - len(rest.lstrip())  # index of the first non-blank after the name
    if body == "":
        return Command(name, Operation.EXECUTE, (), raw, start, "", end)
    if body.replace(" ", "") == "=?":
        after = line.index("?", lead) + 1
        return Command(name, Operation.TEST, (), raw, start, "", after)
    if body[0] == "=":
        args_start = lead + 1
        args_text = line[args_start:end]
        args = tuple(arg.strip() for arg in split_arguments(args_text))
        problem = "unterminated string" if args_text.count('"') % 2 else None
        return Command(name, Operation.WRITE, args, raw, start, args_text, args_start, problem)
    if body == "?":
        return Command(name, Operation.READ, (), raw, start, "", lead + 1)
    if body[0] == "?":
        return Command(name, Operation.READ, (), raw, start, line[lead + 1 : end], lead + 1,
                       "unexpected text after '?'")
    return Command(name, Operation.EXECUTE, (), raw, start, line[lead:end], lead,
                   "unexpected text after the command name")


def _basic(line: str, start: int) -> Command:
    n = len(line)
    j = start + 1
    if line[start] == "&" and j < n:
        j += 1
    name = line[start:j].upper()
    if not name[-1].isalpha() or not name[-1].isascii():
        rest = line[start:]
        return Command("", Operation.EXECUTE, (), rest, start, rest, start,
                       f"not a command: {rest[:1]!r}")
    if j < n and line[j] == "?":
        return Command(name, Operation.READ, (), line[start : j + 1], start, "", j + 1)
    if name == "S":
        k = _digits_end(line, j)
        reg = "S" + line[j:k]
        if k < n and line[k] == "?":
            return Command(reg, Operation.READ, (), line[start : k + 1], start, "", k + 1)
        if k < n and line[k] == "=":
            m = _digits_end(line, k + 1)
            value = line[k + 1 : m]
            return Command(reg, Operation.WRITE, (value,), line[start:m], start, value, k + 1)
        return Command(reg, Operation.EXECUTE, (), line[start:k], start, "", k,
                       "an S-parameter needs '?' or '='")
    k = _digits_end(line, j)
    number = line[j:k]
    return Command(name, Operation.EXECUTE, (number,) if number else (), line[start:k], start,
                   number, j)


def scan_commands(line: str, start: int = 0) -> list[Command]:
    """Every command of a command line's body, malformed ones included; never raises.

    Args:
        line: the command line without its terminator.
        start: where the body starts, usually :func:`find_prefix` ``(line)``.

    Returns:
        list[Command]: the commands in order; ``[]`` for an empty body (``AT``). A malformed
        basic command takes the rest of the line with it (the end of an unreadable command
        cannot be known); a malformed extended command ends at the next ``;`` outside quotes.

    Source: ITU-T V.250 5.2.1, 5.3, 5.4; 3GPP TS 27.007 4.1.
    """
    commands: list[Command] = []
    i = start
    n = len(line)
    while i < n:
        char = line[i]
        if char in " ;":
            i += 1
            continue
        command = _extended(line, i) if char in EXTENDED_PREFIXES else _basic(line, i)
        commands.append(command)
        i = command.start + len(command.raw)
    return commands


def parse_commands(line: str, start: int = 0) -> list[Command]:
    """The commands of a command line's body, as a modem executes them.

    Args:
        line: the command line without its terminator.
        start: where the body starts, usually :func:`find_prefix` ``(line)``.

    Returns:
        list[Command]: the commands in order, each with ``problem`` ``None``; ``[]`` for an
        empty body.

    Raises:
        CommandSyntaxError: a command is malformed (an unterminated string, an empty or
            unreadable name, text after ``?``, an S-parameter without ``?`` or ``=``).

    Source: ITU-T V.250 5.2.1, 5.3, 5.4; 3GPP TS 27.007 4.1.
    """
    commands = scan_commands(line, start)
    for command in commands:
        if command.problem is not None:
            raise CommandSyntaxError(command.raw, command.start, command.problem)
    return commands
