"""The catalog's command forms drive both sides: Form.build (host), Form.parse (virtual modem),
and the engine's generic answer to the test form ``AT+X=?`` (issue 13, point 3)."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltls.dialects.spec import Answer, Catalog, Command, Form, Param, ParamError, Problem
from celltls.errors import UnsafeArgumentError
from celltls.sim.commands import CommandError, ParsedCommand, form_args
from celltls.sim.line import LineEngine

FORM = Form((
    Param("cid", "int", "context", range=(1, 5)),
    Param("host", "str", "server", max_len=10),
    Param("port", "int", "port", optional=True, range=(1, 65535)),
    Param("sec", "int", "security", optional=True, values={0: "plain", 2: "TLS"}),
    Param("password", "str", "secret", optional=True, secret=True),
    Param("token", "enum", "bare token", optional=True, values={"ON": "on", "OFF": "off"}),
))

CFG = Form((Param("type", "str", "setting", values={"sslversion": "version"}),
            Param("ctx", "int", "context", range=(0, 5)),
            Param("version", "int", "version", optional=True, range=(0, 4))),
           selector="sslversion")


def test_build_quotes_strings_and_leaves_omitted_middle_values_empty() -> None:
    assert FORM.build(cid=1, host="a.b") == '1,"a.b"'
    assert FORM.build(cid=1, host="a.b", sec=2) == '1,"a.b",,2'
    assert FORM.build(cid=1, host="", port=443, token="ON") == '1,"",443,,,ON'
    assert FORM.build(cid=1, host="a", port=None, sec=None) == '1,"a"'


def test_build_masks_secrets_only_when_shown() -> None:
    assert FORM.build(cid=1, host="a", password="pw") == '1,"a",,,"pw"'
    assert FORM.shown(cid=1, host="a", password="pw") == '1,"a",,,"***"'


def test_selector_form_writes_its_selector_first() -> None:
    assert CFG.build(ctx=1, version=4) == '"sslversion",1,4'


@pytest.mark.parametrize(("values", "field", "problem"), [
    ({"cid": 0, "host": "a"}, "cid", "range"),
    ({"cid": 1, "host": "a", "port": 65536}, "port", "range"),
    ({"cid": 1, "host": "a", "sec": 1}, "sec", "value"),
    ({"cid": 1, "host": "a" * 11}, "host", "length"),
    ({"cid": 1, "host": 'a"b'}, "host", "unsafe"),
    ({"cid": 1, "host": "a\rAT"}, "host", "unsafe"),
    ({"cid": 1, "host": "\u201ca\u201d"}, "host", "unsafe"),
    ({"cid": 1, "host": "a", "token": "MAYBE"}, "token", "value"),
    ({"cid": "1", "host": "a"}, "cid", "format"),
    ({"cid": True, "host": "a"}, "cid", "format"),
    ({"cid": 1, "host": 5}, "host", "format"),
    ({"host": "a"}, "cid", "missing"),
    ({"cid": 1, "port": 80}, "host", "missing"),
    ({"cid": 1, "host": "a", "colour": 3}, "colour", "unexpected"),
])
def test_build_names_the_parameter_of_a_bad_value(values: dict[str, object], field: str,
                                                 problem: str) -> None:
    with pytest.raises(ParamError) as info:
        FORM.build(**values)  # type: ignore[arg-type]
    assert isinstance(info.value, UnsafeArgumentError)
    assert (info.value.field, info.value.problem) == (field, problem)
    assert field in str(info.value)


def test_secret_values_never_appear_in_the_error() -> None:
    with pytest.raises(ParamError) as info:
        FORM.build(cid=1, host="a", password='hunter"2')
    assert "hunter" not in str(info.value)


def test_command_build_names_the_command_and_its_source() -> None:
    command = Command("+X", "test", "doc 1.2", forms=(FORM,))
    assert command.build(cid=2, host="h") == '2,"h"'
    with pytest.raises(ParamError, match=r"AT\+X, doc 1\.2"):
        command.build(cid=9, host="h")
    with pytest.raises(KeyError):
        Command("+Y", "no form", "doc").build()


def test_parse_decodes_and_fills_omitted_values_with_none() -> None:
    assert FORM.parse(['1', '"a,b"', '', '2']) == {
        "cid": 1, "host": "a,b", "port": None, "sec": 2, "password": None, "token": None}
    assert CFG.parse(['"sslversion"', "1"]) == {"type": "sslversion", "ctx": 1, "version": None}


@pytest.mark.parametrize(("args", "field", "problem"), [
    ([""], "cid", "missing"),
    (["1"], "host", "missing"),
    (["1", "a"], "host", "format"),
    (["x", '"a"'], "cid", "format"),
    (["6", '"a"'], "cid", "range"),
    (["1", '"a"', "", "1"], "sec", "value"),
    (["1", '"abcdefghijk"'], "host", "length"),
    (["1", '"a"', "", "", '""', "ON", "7"], "after <token>", "unexpected"),
])
def test_parse_reports_the_kind_of_fault(args: list[str], field: str, problem: str) -> None:
    with pytest.raises(ParamError) as info:
        FORM.parse(args)
    assert (info.value.field, info.value.problem) == (field, problem)


@given(cid=st.integers(1, 5), host=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E,
                                                          blacklist_characters='"'), max_size=10),
       port=st.none() | st.integers(1, 65535), sec=st.sampled_from([None, 0, 2]))
def test_what_build_writes_parse_reads_back(cid: int, host: str, port: int | None,
                                            sec: int | None) -> None:
    from celltls.at.syntax import split_arguments

    text = FORM.build(cid=cid, host=host, port=port, sec=sec)
    parsed = FORM.parse([a.strip() for a in split_arguments(text)])
    assert (parsed["cid"], parsed["host"], parsed["port"], parsed["sec"]) == (cid, host, port, sec)


def test_check_keeps_the_doctors_sentences() -> None:
    assert FORM.params[0].check("9") == "<cid> 9 is out of range 1-5"
    assert FORM.params[1].check("a") == "<host> is a string and must be in double quotes"
    assert FORM.params[3].check("1") == "<sec> 1 is not one of ['0', '2']"
    assert FORM.params[0].check("3") is None


def test_form_args_maps_each_fault_to_the_callers_code() -> None:
    codes: dict[Problem, int | None] = {"range": 916, "missing": 917}
    write = ParsedCommand("+X", "write", ("1", '"a"', "", "0"), 'AT+X=1,"a",,0')
    assert form_args(FORM, write, codes)["port"] is None
    with pytest.raises(CommandError) as info:
        form_args(FORM, ParsedCommand("+X", "write", ("7", '"a"'), ""), codes)
    assert info.value.code == 916
    with pytest.raises(CommandError) as info:
        form_args(FORM, ParsedCommand("+X", "write", ("1",), ""), codes)
    assert info.value.code == 917
    with pytest.raises(CommandError) as info:  # not named by codes: the default
        form_args(FORM, ParsedCommand("+X", "write", ("1", "a"), ""), codes)
    assert info.value.code == 50
    with pytest.raises(CommandError) as info:  # a parameter's own code wins
        form_args(FORM, ParsedCommand("+X", "write", ("9", '"a"'), ""), codes,
                  by_param={"cid": 910})
    assert info.value.code == 910


class _Modem(LineEngine):
    catalog = Catalog("test", "test", {}, MappingProxyType({
        "+X": Command("+X", "documented", "doc 1", forms=(FORM,),
                      test_answer=Answer(("+X: (1-5),<host>", "+X: second line"), "doc 1")),
        "+Y": Command("+Y", "undocumented", "doc 2", forms=(FORM,)),
        "+Z": Command("+Z", "documented, not simulated", "doc 3",
                      test_answer=Answer(("+Z: (0-1)",), "doc 3")),
    }))

    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.calls: list[str] = []
        self.attach_sink(self.out.extend)
        self.echo = False
        self.register("+X", self._handler)
        self.register("+Y", self._handler)

    def _handler(self, cmd: ParsedCommand) -> str:
        self.calls.append(cmd.kind)
        return "OK"

    def ask(self, line: str) -> bytes:
        self.out.clear()
        self.feed(line.encode() + b"\r")
        return bytes(self.out)


def test_engine_answers_documented_test_forms_from_the_catalog() -> None:
    modem = _Modem()
    assert modem.ask("AT+X=?") == b"\r\n+X: (1-5),<host>\r\n+X: second line\r\n\r\nOK\r\n"
    assert modem.calls == []  # no handler code ran for the test form
    assert modem.ask("AT+X=1") == b"\r\nOK\r\n"
    assert modem.calls == ["write"]


def test_engine_leaves_undocumented_test_forms_to_the_handler() -> None:
    modem = _Modem()
    assert modem.ask("AT+Y=?") == b"\r\nOK\r\n"
    assert modem.calls == ["test"]


def test_engine_answers_no_test_form_for_a_command_it_does_not_simulate() -> None:
    assert _Modem().ask("AT+Z=?") == b"\r\nERROR\r\n"
