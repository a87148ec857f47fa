"""The one AT command-line parser (V.250 5.2-5.4), and round trips with the host's builders."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltls.at import quoting, syntax
from celltls.at.syntax import (
    Command,
    CommandSyntaxError,
    Operation,
    find_prefix,
    parse_commands,
    scan_commands,
    string_value,
)
from celltls.errors import ATError


def _parse(line: str) -> list[Command]:
    start = find_prefix(line)
    assert start is not None
    return parse_commands(line, start)


def _shape(line: str) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.name, str(c.op), c.args) for c in _parse(line)]


def test_extended_commands_and_their_operations() -> None:
    assert _shape("AT+CMEE=1;+CREG?;+CGREG=?;+CGMI") == [
        ("+CMEE", "write", ("1",)),
        ("+CREG", "read", ()),
        ("+CGREG", "test", ()),
        ("+CGMI", "execute", ()),
    ]
    assert _shape("at+qsslcfg=\"sslversion\", 0 ,4") == [
        ("+QSSLCFG", "write", ('"sslversion"', "0", "4")),
    ]
    assert _shape("AT#XSLMVER;%XICCID;$QCPDPP?;^SYSINFO;*MSTRING") == [
        ("#XSLMVER", "execute", ()), ("%XICCID", "execute", ()), ("$QCPDPP", "read", ()),
        ("^SYSINFO", "execute", ()), ("*MSTRING", "execute", ()),
    ]


def test_basic_commands_back_to_back_and_s_parameters() -> None:
    assert _shape("ATE0V1&FI") == [
        ("E", "execute", ("0",)), ("V", "execute", ("1",)), ("&F", "execute", ()),
        ("I", "execute", ()),
    ]
    assert _shape("ATS0=1S3?E?") == [
        ("S0", "write", ("1",)), ("S3", "read", ()), ("E", "read", ()),
    ]
    assert _shape("ATI+CGMI") == [("I", "execute", ()), ("+CGMI", "execute", ())]
    assert _parse("AT") == []
    assert _parse("AT ; ") == []


def test_strings_keep_commas_and_semicolons() -> None:
    first, second = _parse('AT+X="a;b,c" , 1;+Y=""')
    assert first.args == ('"a;b,c"', "1")
    assert first.raw == '+X="a;b,c" , 1'
    assert string_value(first.args[0]) == "a;b,c"
    assert second.args == ('""',) and string_value(second.args[0]) == ""
    assert _parse("AT+X=")[0].args == ("",)
    assert _parse("AT+X=,")[0].args == ("", "")


def test_spaces_are_ignored_outside_strings() -> None:
    assert _shape("AT +X = ? ") == [("+X", "test", ())]
    assert _shape("AT+X ?") == [("+X", "read", ())]
    assert _parse("AT+X= 1")[0].args == ("1",)


def test_positions_point_into_the_line() -> None:
    line = 'xxAT+QSSLOPEN=1,"host",443;+CREG?'
    assert find_prefix(line) == 4
    first, second = _parse(line)
    assert (first.start, first.args_start) == (4, 14)
    assert first.args_text == '1,"host",443'
    assert line[second.start : second.start + len(second.raw)] == "+CREG?"
    assert find_prefix("no command here") is None
    assert find_prefix("aT+CGMM") == 2


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('AT+X="open', "unterminated string"),
        ("AT+=1", "empty extended command name"),
        ("AT+X?1", "unexpected text after '?'"),
        ("AT+X 1", "unexpected text after the command name"),
        ("ATS0", "an S-parameter needs '?' or '='"),
        ("AT1", "not a command"),
        ("ATE=1", "not a command"),
    ],
)
def test_strict_parse_refuses_malformed_commands(line: str, reason: str) -> None:
    with pytest.raises(CommandSyntaxError) as caught:
        _parse(line)
    assert caught.value.reason.startswith(reason)
    assert isinstance(caught.value, ATError)
    # the lenient scan returns the same command with its problem instead
    problems = [c.problem for c in scan_commands(line, 2) if c.problem]
    assert problems and problems[0].startswith(reason)


def test_lenient_scan_keeps_going_after_a_bad_extended_command() -> None:
    commands = scan_commands("AT+X?junk;+CREG?", 2)
    assert [(c.name, c.problem is None) for c in commands] == [("+X", False), ("+CREG", True)]


def test_string_value_is_strict() -> None:
    assert string_value('"RAM:ca.pem"') == "RAM:ca.pem"
    assert string_value("5") is None
    assert string_value('"a') is None
    assert string_value('"a"b"') is None
    assert quoting.unquote(' "a" ') == "a"  # the host's lenient reader of response fields


def test_one_argument_splitter_for_host_and_modem() -> None:
    assert quoting.split_arguments is syntax.split_arguments
    assert syntax.split_arguments(' 1,"a,b" ,3') == [" 1", '"a,b" ', "3"]
    assert syntax.split_arguments("") == [""]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_scan_never_raises_and_tiles_the_line(text: str) -> None:
    line = "AT" + text
    end = 2
    for command in scan_commands(line, 2):
        assert command.start >= end
        assert line[command.start : command.start + len(command.raw)] == command.raw
        assert line[command.args_start : command.args_start + len(command.args_text)] == (
            command.args_text
        )
        assert command.raw  # every command consumes something: the scan ends
        end = command.start + len(command.raw)


# -- round trips with the host side's builders (celltls.at.quoting) ---------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_names = st.tuples(
    st.sampled_from("+#%$^*"),
    st.sampled_from(_LETTERS),
    st.text(alphabet=_LETTERS + "0123456789_", max_size=12),
).map("".join)
# what quoting.check_text lets through: printable ASCII without the double quote
_texts = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E,
                                        blacklist_characters='"'), max_size=30)
_values = st.one_of(st.integers(min_value=0, max_value=2**31), _texts)


def _build(name: str, values: list[int | str]) -> str:
    args = [quoting.integer(v, "n", 0, 2**31) if isinstance(v, int) else quoting.quote(v, "s")
            for v in values]
    return name + ("=" + ",".join(args) if values else "")


def _check(command: Command, name: str, values: list[int | str]) -> None:
    assert command.problem is None
    assert command.name == name
    if not values:
        assert command.op is Operation.EXECUTE and command.args == ()
        return
    assert command.op is Operation.WRITE
    assert len(command.args) == len(values)
    for arg, value in zip(command.args, values, strict=True):
        if isinstance(value, int):
            assert int(arg) == value and string_value(arg) is None
        else:
            assert string_value(arg) == value


@settings(max_examples=300, deadline=None)
@given(_names, st.lists(_values, max_size=6))
def test_built_command_lines_parse_back(name: str, values: list[int | str]) -> None:
    line = "AT" + _build(name, values)
    assert quoting.command_line(line) == line.encode("ascii")
    (command,) = _parse(line)
    _check(command, name, values)
    assert command.raw == line[2:]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_names, st.lists(_values, max_size=4)), min_size=1, max_size=4))
def test_concatenated_commands_parse_back(parts: list[tuple[str, list[int | str]]]) -> None:
    line = "AT" + ";".join(_build(name, values) for name, values in parts)
    commands = _parse(line)
    assert len(commands) == len(parts)
    for command, (name, values) in zip(commands, parts, strict=True):
        _check(command, name, values)
    assert scan_commands(line, 2) == commands
