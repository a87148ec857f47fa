"""``celltls doctor [LOG|-] [--dialect NAME] [--json] [--explain]``: explain a failed session.

Exit status: 0 when no finding is an error, 1 otherwise, 2 when the log cannot be read or the
dialect name is unknown.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from celltls.dialects import registry


def _dialect_names() -> tuple[str, ...]:
    """The names ``--dialect`` accepts, as :func:`celltls.doctor.engine.dialect_names` gives
    them, read from the registry alone (--help imports no doctor engine)."""
    return (*registry.names(), "generic")


def _read(log: str) -> str:
    if log == "-":
        data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read()
        return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    return Path(log).read_bytes().decode("utf-8", errors="replace")


def doctor(
    log: Annotated[str, typer.Argument(help="log or transcript file, or - for stdin")] = "-",
    dialect: Annotated[str | None, typer.Option(
        "--dialect", help="force the dialect: " + ", ".join(_dialect_names()))] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON report")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="print every decoded line")] = False,
) -> None:
    """Explain a failed modem session from its log (a transcript or a pasted log)."""
    from rich.console import Console

    from celltls.doctor.engine import diagnose
    from celltls.doctor.report import render_json, render_text

    err = Console(stderr=True)
    try:
        text = _read(log)
    except OSError as exc:
        err.print(f"celltls doctor: cannot read {log}: {exc.strerror or exc}")
        raise typer.Exit(2) from exc
    try:
        report = diagnose(text, dialect)
    except ValueError as exc:
        err.print(f"celltls doctor: {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(render_json(report))
    else:
        render_text(report, Console(), explain=explain)
    raise typer.Exit(report.exit_status)


def register(app: typer.Typer) -> None:
    """Add the ``doctor`` command to the ``celltls`` CLI application."""
    app.command("doctor")(doctor)
