"""JSON schema, reader details, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from celltls.cli.doctor import register
from celltls.doctor import SCHEMA, diagnose, render_json, to_json
from celltls.doctor.reader import read_lines

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"


def _check(instance: object, schema: dict) -> None:  # type: ignore[type-arg]
    """A small validator for the subset of JSON Schema that SCHEMA uses."""
    if "const" in schema:
        assert instance == schema["const"]
    if "enum" in schema:
        assert instance in schema["enum"], instance
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        pytypes = {"object": dict, "array": list, "string": str, "integer": int,
                   "boolean": bool, "null": type(None)}
        assert any(isinstance(instance, pytypes[n]) and not (
            n == "integer" and isinstance(instance, bool)) for n in names), (instance, types)
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            assert key in instance, key
        for key, sub in schema.get("properties", {}).items():
            if key in instance:
                _check(instance[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for value in instance.values():
                _check(value, extra)
    if isinstance(instance, list) and "items" in schema:
        for value in instance:
            _check(value, schema["items"])


def test_json_follows_the_schema_for_every_seed() -> None:
    for path in sorted(SEEDS.glob("*.log")):
        document = json.loads(render_json(diagnose(path.read_text(encoding="utf-8"))))
        _check(document, SCHEMA)
        assert document["schema"] == "celltls-doctor 1"
    try:
        import jsonschema
    except ImportError:
        return
    for path in sorted(SEEDS.glob("*.log")):
        jsonschema.validate(to_json(diagnose(path.read_text(encoding="utf-8"))), SCHEMA)


def test_decoded_lines_name_parameters() -> None:
    text = 'AT+QSSLOPEN=1,0,"116.247.104.27",465,7\n+CSQ: 21,99\n+CME ERROR: 10\n'
    document = to_json(diagnose(text, "quectel-gsm"))
    command = document["lines"][0]
    names = [p["name"] for p in command["params"]]
    assert names == ["ssid", "ctxindex", "ipaddr/domainname", "port", "connectmode"]
    assert command["params"][4]["valid"] is False
    assert "-71 dBm" in " ".join(document["lines"][1]["notes"])
    assert document["lines"][2]["meaning"] == "SIM not inserted"
    assert any(f["code"] == "param-out-of-range" for f in document["findings"])


def test_reader_strips_prefixes_and_keeps_columns() -> None:
    lines = read_lines('12: at+cereg?\n[00:01.5] +CEREG: 0,2\nAT+X="a" //note\n')
    assert lines[0].kind == "command" and lines[0].text == "at+cereg?" and lines[0].offset == 4
    assert lines[1].text == "+CEREG: 0,2"
    assert lines[2].text == 'AT+X="a"' and lines[2].comment == "note"
    typo = read_lines("AT+X=“a”")[0]
    assert typo.typographic == ((5, "“"), (7, "”")) and typo.text == 'AT+X="a"'


def test_transcript_records() -> None:
    text = ("# format: celltls-transcript 1\n[0.0] > AT+CEREG?\n[0.1] < +CEREG: 0,3\n"
            "[0.2] < OK\n> AT+QSSLOPEN=1,0,\"h\",443,0\n< OK\n")
    report = diagnose(text)
    assert "not-registered" in report.codes()


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("version")
    def _version() -> None:  # a second command keeps typer from collapsing the group
        pass

    return app


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    app = _app()
    result = runner.invoke(app, ["doctor", str(SEEDS / "002_sequans.log"), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["schema"] == "celltls-doctor 1"
    clean = tmp_path / "ok.log"
    clean.write_text("AT\nOK\nAT+CSQ\n+CSQ: 20,99\nOK\n", encoding="utf-8")
    result = runner.invoke(app, ["doctor", str(clean)])
    assert result.exit_code == 0, result.stdout
    result = runner.invoke(app, ["doctor", str(tmp_path / "missing.log")])
    assert result.exit_code == 2
    result = runner.invoke(app, ["doctor", "-", "--explain", "--dialect", "nordic-slm"],
                           input='AT#XHTTPCCON=1,"google.com",443,42"\n')
    assert result.exit_code == 1 and "stray-quote" in result.stdout
    result = runner.invoke(app, ["doctor", str(clean), "--dialect", "nope"])
    assert result.exit_code == 2
