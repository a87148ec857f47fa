"""Rendering a doctor :class:`~celltls.doctor.engine.Report`: rich text and stable JSON.

The JSON document is versioned by its ``"schema"`` field (``"celltls-doctor 1"``); fields are
only ever added within a version. :data:`SCHEMA` is its JSON Schema (draft 2020-12), documented
in docs/doctor.md.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from celltls.doctor.decode import Decoded
from celltls.doctor.engine import Finding, Report

SCHEMA_VERSION = "celltls-doctor 1"

_PARAM = {
    "type": "object",
    "required": ["name", "value", "valid"],
    "properties": {
        "name": {"type": "string"},
        "value": {"type": "string"},
        "description": {"type": "string"},
        "meaning": {"type": ["string", "null"]},
        "valid": {"type": "boolean"},
        "problem": {"type": ["string", "null"]},
        "column": {"type": "integer", "minimum": 0},
    },
}
#: JSON Schema of the ``--json`` document.
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "celltls doctor report",
    "type": "object",
    "required": ["schema", "dialect", "exit_status", "summary", "findings", "lines"],
    "properties": {
        "schema": {"const": SCHEMA_VERSION},
        "dialect": {
            "type": "object",
            "required": ["name", "detected", "catalog"],
            "properties": {
                "name": {"type": "string"},
                "detected": {"type": "boolean"},
                "catalog": {"type": "boolean"},
                "missing": {"type": "array", "items": {"type": "string"}},
                "scores": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
        "exit_status": {"enum": [0, 1]},
        "summary": {
            "type": "object",
            "required": ["error", "warning", "info"],
            "properties": {k: {"type": "integer", "minimum": 0}
                           for k in ("error", "warning", "info")},
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["line", "severity", "code", "message", "why", "fix", "source"],
                "properties": {
                    "line": {"type": "integer", "minimum": 1},
                    "column": {"type": ["integer", "null"], "minimum": 1},
                    "severity": {"enum": ["error", "warning", "info"]},
                    "code": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
                    "message": {"type": "string"},
                    "why": {"type": "string"},
                    "fix": {"type": "string"},
                    "source": {"type": "string"},
                    "related": {"type": "array", "items": {"type": "integer"}},
                    "confidence": {"enum": ["high", "medium", "low"]},
                    "symptom": {"type": "boolean"},
                    "caused_by": {"type": ["integer", "null"], "minimum": 1},
                },
            },
        },
        "cause": {
            "type": ["object", "null"],
            "properties": {"line": {"type": "integer"}, "code": {"type": "string"},
                           "confidence": {"enum": ["high", "medium", "low"]}},
        },
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["line", "kind", "text"],
                "properties": {
                    "line": {"type": "integer", "minimum": 1},
                    "kind": {"enum": ["command", "final", "intermediate", "urc", "information",
                                      "value", "data", "text", "comment"]},
                    "text": {"type": "string"},
                    "name": {"type": ["string", "null"]},
                    "op": {"type": ["string", "null"]},
                    "title": {"type": "string"},
                    "known": {"type": "boolean"},
                    "source": {"type": "string"},
                    "params": {"type": "array", "items": _PARAM},
                    "success": {"type": ["boolean", "null"]},
                    "code": {"type": ["integer", "null"]},
                    "meaning": {"type": ["string", "null"]},
                    "notes": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def _finding(f: Finding) -> dict[str, Any]:
    return {"line": f.line, "column": f.column, "severity": f.severity, "code": f.code,
            "message": f.message, "why": f.why, "fix": f.fix, "source": f.source,
            "related": list(f.related), "confidence": f.confidence, "symptom": f.symptom,
            "caused_by": f.caused_by}


def _line(d: Decoded) -> dict[str, Any]:
    out: dict[str, Any] = {"line": d.lineno, "kind": d.kind, "text": d.line.text}
    if d.kind in ("command", "final", "intermediate", "urc", "information", "value"):
        out.update({
            "name": d.name, "op": d.op, "title": d.title, "known": d.known, "source": d.source,
            "params": [{"name": p.name, "value": p.value, "description": p.description,
                        "meaning": p.meaning, "valid": p.problem is None, "problem": p.problem,
                        "column": p.column} for p in d.params],
            "success": d.success, "code": d.code, "meaning": d.meaning, "notes": list(d.notes),
        })
    return out


def to_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dict following :data:`SCHEMA` (blank lines omitted)."""
    summary = {s: sum(1 for f in report.findings if f.severity == s)
               for s in ("error", "warning", "info")}
    return {
        "schema": SCHEMA_VERSION,
        "dialect": {"name": report.dialect, "detected": report.detected,
                    "catalog": report.catalog, "missing": list(report.missing),
                    "scores": dict(report.scores)},
        "exit_status": report.exit_status,
        "summary": summary,
        "findings": [_finding(f) for f in report.findings],
        "cause": (None if report.cause is None else {
            "line": report.cause.line, "code": report.cause.code,
            "confidence": report.cause.confidence}),
        "lines": [_line(d) for d in report.decoded if d.kind != "blank"],
    }


def render_json(report: Report) -> str:
    """The report as JSON text (UTF-8, indented, stable key order)."""
    return json.dumps(to_json(report), indent=2, ensure_ascii=False)


_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _describe(d: Decoded) -> str:
    parts: list[str] = []
    if d.kind == "command":
        head = f"AT{d.name or ''} ({d.op})"
        parts.append(head + (f": {d.title}" if d.title else " (not in the catalog)"))
    elif d.kind == "final":
        parts.append(f"final result {d.name}" + (f": {d.meaning}" if d.meaning else ""))
    elif d.kind in ("urc", "information"):
        parts.append(("URC " if d.kind == "urc" else "response ") + (d.name or "")
                     + (f": {d.title}" if d.title else ""))
    elif d.kind == "intermediate":
        parts.append(f"{d.name}: {d.meaning}")
    elif d.kind == "value":
        parts.append("value")
    for p in d.params:
        item = f"{p.name}={p.value}"
        if p.meaning:
            item += f" ({p.meaning})"
        if p.problem:
            item += f" [INVALID: {p.problem}]"
        parts.append(item)
    parts.extend(d.notes)
    return "; ".join(parts)


def render_text(report: Report, console: Console, *, explain: bool = False) -> None:
    """Print the report for a person: findings first, then (``explain``) every decoded line.

    Args:
        report: what :func:`~celltls.doctor.engine.diagnose` returned.
        console: where to print (a :class:`rich.console.Console`).
        explain: also print the decoded log line by line.
    """
    how = "detected" if report.detected else "given"
    extra = f" (missing: {', '.join(report.missing)})" if report.missing else ""
    console.print(f"[bold]celltls doctor[/bold]: dialect {escape(report.dialect)} ({how}){extra}")
    if explain:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("line", justify="right")
        table.add_column("text", overflow="fold")
        table.add_column("decoded", overflow="fold")
        for d in report.decoded:
            if d.kind in ("blank", "comment", "text", "data"):
                continue
            table.add_row(str(d.lineno), escape(d.line.text), escape(_describe(d)))
        console.print(table)
    if not report.findings:
        console.print("No findings.")
        return
    for f in report.findings:
        where = f"line {f.line}" + (f":{f.column}" if f.column else "")
        console.print(f"[{_STYLE[f.severity]}]{f.severity.upper()}[/] {where} "
                      f"[bold]{escape(f.code)}[/bold]: {escape(f.message)}")
        console.print(f"    why: {escape(f.why)}")
        console.print(f"    fix: {escape(f.fix)}")
        console.print(f"    source: {escape(f.source)}")
        if f.caused_by is not None:
            console.print(f"    consequence of the finding at line {f.caused_by}")
        elif f.confidence != "high":
            console.print(f"    confidence: {f.confidence}")
    if report.cause is not None:
        c = report.cause
        console.print(f"[bold]most likely cause[/bold]: line {c.line} {escape(c.code)} "
                      f"({c.confidence} confidence)")
    counts = {s: sum(1 for f in report.findings if f.severity == s)
              for s in ("error", "warning", "info")}
    console.print(f"{counts['error']} error(s), {counts['warning']} warning(s), "
                  f"{counts['info']} info")
