"""Argument quoting: unsafe values are refused with a clear error (V.250 5.3, 5.2.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltls.at import quoting
from celltls.errors import UnsafeArgumentError


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ('a"b', "double quote at position 1"),
        ("a\rb", "CR"),
        ("a\nb", "LF"),
        ("a\x1ab", "Ctrl-Z"),
        ("a\x1bb", "ESC"),
        ("\u201cinternet\u201d", "left double quotation mark"),
        ("a\u2013b", "en dash"),
        ("caf\u00e9", "non-ASCII"),
        ("a\x07b", "0x07"),
    ],
)
def test_unsafe_text_is_refused(value: str, needle: str) -> None:
    with pytest.raises(UnsafeArgumentError, match=needle) as info:
        quoting.quote(value, "apn")
    assert info.value.field == "apn"


def test_length_limit_and_secret_masking() -> None:
    assert quoting.quote("x" * 63, "apn", max_len=63) == '"' + "x" * 63 + '"'
    with pytest.raises(UnsafeArgumentError, match="at most 63"):
        quoting.quote("x" * 64, "apn", max_len=63)
    with pytest.raises(UnsafeArgumentError) as info:
        quoting.quote('pa"ss', "password", secret=True)
    assert "pa" not in str(info.value).replace("password", "")


def test_integer_range() -> None:
    assert quoting.integer(5, "ssid", 0, 5) == "5"
    for bad in (6, -1, True):
        with pytest.raises(UnsafeArgumentError):
            quoting.integer(bad, "ssid", 0, 5)  # type: ignore[arg-type]


def test_command_line_refuses_controls() -> None:
    assert quoting.command_line("AT+CSQ") == b"AT+CSQ"
    with pytest.raises(UnsafeArgumentError):
        quoting.command_line("AT+CSQ\r")


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_printable_ascii_without_quote_is_accepted(text: str) -> None:
    if '"' in text:
        with pytest.raises(UnsafeArgumentError):
            quoting.quote(text, "x")
    else:
        assert quoting.quote(text, "x") == f'"{text}"'


def test_split_arguments_respects_quotes() -> None:
    assert quoting.split_arguments('1,"a,b",3') == ["1", '"a,b"', "3"]
    assert quoting.unquote(' "RAM:ca.pem" ') == "RAM:ca.pem"
