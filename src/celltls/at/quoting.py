"""Safe encoding of arguments placed on an AT command line.

Every value that goes into a command line passes through this module. A value that cannot be
sent safely raises :class:`~celltls.errors.UnsafeArgumentError` before anything is written to the
port: a double quote would end the string early (the seed thread 001's stray quote), CR ends the
command line (V.250 5.2.1, S3), LF, Ctrl-Z (0x1A) and ESC (0x1B) end or cancel data phases, other
control characters are not V.250 string characters, and non-ASCII text (typographic quotes and
dashes pasted from a forum, the seed threads' ``“ ”`` and ``–``) is not understood by the modules.

Source: ITU-T V.250 5.3 (string constants: a string is enclosed in double quotes and cannot
contain a double quote); 5.2.1 (S3 command line termination character).
"""

from __future__ import annotations

from celltls.at.syntax import split_arguments as split_arguments  # one implementation, shared
from celltls.errors import UnsafeArgumentError

_TYPOGRAPHIC = {
    "\u201c": "left double quotation mark “",
    "\u201d": "right double quotation mark ”",
    "\u2018": "left single quotation mark ‘",
    "\u2019": "right single quotation mark ’",
    "\u2013": "en dash –",
    "\u2014": "em dash —",
    "\u00a0": "no-break space",
}
_CONTROL_NAMES = {
    "\r": "CR (it ends the command line)",
    "\n": "LF",
    "\x1a": "Ctrl-Z (it ends a data phase)",
    "\x1b": "ESC (it cancels a data phase)",
    "\x00": "NUL",
}


def check_text(
    value: str,
    field: str,
    *,
    max_len: int | None = None,
    allow_empty: bool = True,
    secret: bool = False,
) -> str:
    """Check that ``value`` can be placed inside double quotes on a command line.

    Args:
        value: the text (host name, APN, path, file name, user name...).
        field: the parameter's name, used in the error message.
        max_len: the longest value the module accepts, in bytes; ``None`` for no limit.
        allow_empty: whether ``""`` is acceptable.
        secret: mask the value in the error message (passwords).

    Returns:
        str: ``value`` unchanged.

    Raises:
        UnsafeArgumentError: the value contains ``"``, a control character, non-ASCII text, is
            empty when not allowed, or is longer than ``max_len``.
    """
    shown = "***" if secret else value
    if not isinstance(value, str):
        raise UnsafeArgumentError(field, repr(value), "must be text")
    if not value and not allow_empty:
        raise UnsafeArgumentError(field, shown, "must not be empty")
    for index, char in enumerate(value):
        if char == '"':
            raise UnsafeArgumentError(
                field, shown, f'contains a double quote at position {index}; the module would '
                "end the string there"
            )
        if char in _TYPOGRAPHIC:
            raise UnsafeArgumentError(
                field, shown, f"contains a {_TYPOGRAPHIC[char]} at position {index} (pasted "
                "from a document?); type the plain ASCII character"
            )
        if char in _CONTROL_NAMES:
            raise UnsafeArgumentError(
                field, shown, f"contains {_CONTROL_NAMES[char]} at position {index}"
            )
        code = ord(char)
        if code < 0x20 or code == 0x7F:
            raise UnsafeArgumentError(
                field, shown, f"contains control character 0x{code:02X} at position {index}"
            )
        if code > 0x7E:
            raise UnsafeArgumentError(
                field, shown, f"contains non-ASCII character {char!r} at position {index}"
            )
    if max_len is not None and len(value.encode("ascii")) > max_len:
        raise UnsafeArgumentError(
            field, shown, f"is {len(value)} bytes long; the module accepts at most {max_len}"
        )
    return value


def quote(value: str, field: str, *, max_len: int | None = None, secret: bool = False) -> str:
    """Return ``value`` in double quotes, after :func:`check_text`.

    Raises:
        UnsafeArgumentError: as :func:`check_text`.
    """
    return '"' + check_text(value, field, max_len=max_len, secret=secret) + '"'


def integer(value: int, field: str, low: int, high: int) -> str:
    """Return ``value`` as a decimal argument after checking ``low <= value <= high``.

    Raises:
        UnsafeArgumentError: ``value`` is not an ``int`` (``bool`` included) or is out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnsafeArgumentError(field, repr(value), "must be an integer")
    if not low <= value <= high:
        raise UnsafeArgumentError(field, str(value), f"must be in {low}..{high}")
    return str(value)


def command_line(line: str, shown: str | None = None) -> bytes:
    """Encode a complete command line (without its terminator) for the port.

    Args:
        line: the command line.
        shown: the line as it may be displayed (secrets masked); used in the error message.

    Raises:
        UnsafeArgumentError: the line holds CR, LF, Ctrl-Z, ESC, another control character or
            non-ASCII text.
    """
    for index, char in enumerate(line):
        code = ord(char)
        if code < 0x20 or code > 0x7E:
            label = _CONTROL_NAMES.get(char) or _TYPOGRAPHIC.get(char) or f"0x{code:02X}"
            raise UnsafeArgumentError(
                "command line", shown if shown is not None else line, f"contains {label} at {index}"
            )
    return line.encode("ascii")


def unquote(text: str) -> str:
    """Remove one pair of surrounding double quotes (and surrounding blanks), if present.

    Lenient, for reading response fields; :func:`celltls.at.syntax.string_value` is the strict
    form that tells a string constant from anything else.
    """
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text
