"""Diagnosis rules for the Digi XBee 3 Cellular (seed 003: transparent-mode HTTPS, CI 0x26).

XBee users often describe settings in words ("Set "IP" to "TCPSSL"") rather than paste AT
lines, so these rules read both ``ATIP4`` commands and such sentences.

Source: shared/reference/xbee3.md (XB-REF) sections 3, 4, 9, 10, 13.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from celltls.dialects.xbee3.catalog import CI_TCP
from celltls.doctor.model import Finding, Rule, Session
from celltls.doctor.reader import Line

_SETTING = re.compile(
    r"(?:set|changed?|change|setting)\s+(?:parameter\s+)?\"(\$[0-2]|[A-Z]{2})\"\s+"
    r"(?:parameter\s+)?to\s+\"([^\"]*)\"", re.IGNORECASE)
_ALSO = re.compile(r"also tried\s+\"([^\"]*)\"", re.IGNORECASE)
_CI = re.compile(r"\bCI\b[^.\n]{0,60}?\b(?:0x)?([0-9A-F]{2})\b", re.IGNORECASE)
_XBEE = re.compile(r"\bXBee|\bXCTU\b|\bATCI\b|\bATDL|\bAT\$0", re.IGNORECASE)
_NAMES = frozenset({"DL", "DE", "CI", "$0", "IP", "AP", "TL"})
_LABELS = {"TCP": 1, "UDP": 0, "TCPSSL": 4, "SSL": 4, "TLS": 4, "SMS": 2}


@dataclass(frozen=True)
class Setting:
    """A parameter value found in the log: ``name`` (``"IP"``), ``value``, line, column."""

    name: str
    value: str
    line: int
    column: int


def score(lines: Sequence[Line]) -> int:
    """Detector evidence: XBee names and described settings (two points each)."""
    points = 0
    for line in lines:
        two = line.text[2:4].upper()
        if (line.kind == "command" and two in _NAMES) or _XBEE.search(line.text):
            points += 2
    return points


def settings(session: Session) -> list[Setting]:
    """Every XBee setting in the log, from ``ATxx`` commands and described in prose."""
    out: list[Setting] = []
    for item in session.decoded:
        line = item.line
        if item.kind == "command" and item.op == "write" and item.name:
            out.append(Setting(item.name, item.args_text.strip(), line.lineno,
                               line.column(item.args_start)))
            continue
        if item.kind != "text":
            continue
        for found in _SETTING.finditer(line.text):
            out.append(Setting(found.group(1).upper(), found.group(2), line.lineno,
                               line.column(found.start(2))))
            also = _ALSO.search(line.text, found.end())
            if also:
                out.append(Setting(found.group(1).upper(), also.group(1), line.lineno,
                                   line.column(also.start(1))))
    return out


def _ip_value(value: str) -> int | None:
    text = value.strip().upper()
    if text in _LABELS:
        return _LABELS[text]
    try:
        return int(text, 16)
    except ValueError:
        return None


def xbee_rules(session: Session) -> Iterator[Finding]:
    """``xbee3-ci-status``, ``xbee3-ca-must-be-root``, ``xbee3-cert-path``,
    ``xbee3-port-not-hex``."""
    found = settings(session)
    tls = any(s.name == "IP" and _ip_value(s.value) == 4 for s in found)
    profile = [s for s in found if s.name == "$0"]
    for s in found:
        if s.name == "$0":
            ca = s.value.split(";", 1)[0].strip()
            if ca.lower().startswith("flash/"):
                yield Finding(
                    "xbee3-cert-path", "warning", s.line,
                    f"$0 CA path {ca!r} has no leading slash: it is relative to /flash/cert and "
                    f"names /flash/cert/{ca}",
                    "a file name that does not exist is accepted when set; the TLS connection "
                    "then fails at connect time",
                    f"use {ca.rsplit('/', 1)[-1]!r} (relative to /flash/cert) or "
                    f"'/{ca}' (absolute)", "XB-REF 3 ($n profile fields), 13 (pitfall 2)",
                    s.column)
        if s.name == "DE" and s.value.strip().isdigit() and s.value.strip() in ("443", "8883",
                                                                                "8080"):
            yield Finding(
                "xbee3-port-not-hex", "error", s.line,
                f"DE {s.value} is read as hexadecimal: port {int(s.value, 16)}",
                "XBee numeric parameters are hexadecimal", f"use DE {int(s.value):X}",
                "XB-REF 3, 13 (pitfall 1)", s.column)
    for item in session.decoded:
        if item.kind not in ("text", "value", "response"):
            continue
        hit = _CI.search(item.text)
        if not hit:
            continue
        code = int(hit.group(1), 16)
        if code not in CI_TCP:
            continue
        failure = code not in (0x00, 0xFF)
        why = ("in transparent mode a failed TCP/TLS connection is signalled nowhere but CI; "
               "a refused or failed TLS set-up shows as 0x26 on Cat 1 firmware and 0x2F "
               "(authentication error) on LTE-M")
        fix = ("check the TLS profile $0: its CA file must be the self-signed root CA at the "
               "top of the server's chain, one certificate, PEM; or use API mode frame 0x23 "
               "(TX Request with TLS Profile), whose 0x89 TX status says what failed")
        if code == 0xFF:
            why = "0xFF means no status yet: nothing was sent on the socket, or nothing is known"
        yield Finding(
            "xbee3-ci-status", "error" if failure else "info", item.lineno,
            f"CI 0x{code:02X}: {CI_TCP[code]}"
            + (" on a TLS (IP=4) transparent connection" if tls and failure else ""),
            why, fix, "XB-REF 4 (CI table), 9, 10", item.line.column(hit.start(1)))
        if failure and tls and profile:
            yield Finding(
                "xbee3-ca-must-be-root", "error", profile[0].line,
                f"TLS profile $0 = {profile[0].value!r}: its CA file must be the root CA at the "
                "top of the certification path (for google.com: GlobalSign's root), not the "
                "site's own certificate downloaded from the browser",
                "the module trusts exactly the one certificate in that file as a root; the "
                "site's certificate is not a trust anchor, so the handshake fails and the "
                "connection is refused (the seed thread's fix)",
                "export the top certificate of the chain (the root) as PEM, upload it to "
                "/flash/cert and name it in $0",
                "XB-REF 10 (certificate rules), 13 (pitfall 3)", profile[0].column,
                related=(item.lineno,))
            profile = []


RULES: tuple[Rule, ...] = (xbee_rules,)
