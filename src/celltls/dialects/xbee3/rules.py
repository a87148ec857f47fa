"""Diagnosis rules for the Digi XBee 3 Cellular (seed 003: transparent-mode HTTPS, CI 0x26).

Codes: ``xbee3-ci-status``, ``xbee3-ca-must-be-root``, ``xbee3-cert-path``,
``xbee3-port-not-hex`` (:func:`xbee_rules`); ``xbee3-ai-status`` (:func:`ai_rules`);
``xbee3-ca-file-missing``, ``xbee3-ca-is-server-cert`` (:func:`ca_file_rules`);
``xbee3-guard-time`` (:func:`guard_time_rules`).

XBee users often describe settings in words ("Set "IP" to "TCPSSL"") rather than paste AT
lines, so these rules read both ``ATIP4`` commands and such sentences.

Source: shared/reference/xbee3.md (XB-REF) sections 3, 4, 9, 10, 13.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from celltls.dialects.xbee3.catalog import AI_STATUS, AI_TRANSIENT, CI_TCP
from celltls.doctor.model import Finding, Rule, Session, Severity
from celltls.doctor.reader import Line
from celltls.errors import CellTLSError
from celltls.tls import Certificate

_SETTING = re.compile(
    r"(?:set|changed?|change|setting)\s+(?:parameter\s+)?\"(\$[0-2]|[A-Z]{2})\"\s+"
    r"(?:parameter\s+)?to\s+\"([^\"]*)\"", re.IGNORECASE)
_ALSO = re.compile(r"also tried\s+\"([^\"]*)\"", re.IGNORECASE)
_CI = re.compile(r"\bCI\b[^.\n]{0,60}?\b(?:0x)?([0-9A-F]{2})\b", re.IGNORECASE)
_XBEE = re.compile(r"\bXBee|\bXCTU\b|\bATCI\b|\bATDL|\bAT\$0", re.IGNORECASE)
_NAMES = frozenset({"DL", "DE", "CI", "$0", "IP", "AP", "TL"})
_RECORD_SETTING = re.compile(r"^AT(\$[0-2]|[A-Z][A-Z0-9#])(.*)$", re.IGNORECASE)
_LABELS = {"TCP": 1, "UDP": 0, "TCPSSL": 4, "SSL": 4, "TLS": 4, "SMS": 2}
#: Well-known ports: ``DE`` written as one of these in decimal is almost surely meant as it
#: (XB-REF 13 pitfall 1: DE is hexadecimal, so ``DE 443`` is port 1091).
_DECIMAL_PORTS = frozenset({80, 443, 465, 587, 993, 995, 1883, 5683, 5684, 8080, 8443, 8883})


@dataclass(frozen=True)
class Setting:
    """A parameter value found in the log: ``name`` (``"IP"``), ``value``, line, column."""

    name: str
    value: str
    line: int
    column: int | None


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
    for rec in records(session):
        # raw records (">> ATIP4\\r", as the xbee3 driver traces); "> " lines are decoded below
        found = _RECORD_SETTING.match(rec.text.strip()) if rec.host and not rec.line else None
        if found and found.group(2):
            out.append(Setting(found.group(1).upper(), found.group(2), rec.lineno, None))
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
        if s.name == "DE" and s.value.strip().isdigit() and int(s.value) in _DECIMAL_PORTS:
            yield Finding(
                "xbee3-port-not-hex", "error", s.line,
                f"DE {s.value} is read as hexadecimal: port {int(s.value, 16)}",
                "XBee numeric parameters are hexadecimal", f"use DE {int(s.value):X}",
                "XB-REF 3, 13 (pitfall 1)", s.column)
    hits: dict[int, tuple[int, int | None]] = {}  # line -> (CI value, column)
    for item in session.decoded:
        if item.kind not in ("text", "value", "response"):
            continue
        hit = _CI.search(item.text)
        if hit:
            hits[item.lineno] = (int(hit.group(1), 16), item.line.column(hit.start(1)))
    for _cmd_line, command, line_no, answer in _answers(session):
        if command.upper() == "ATCI" and line_no not in hits:
            with contextlib.suppress(ValueError):
                hits[line_no] = (int(answer, 16), None)
    for lineno in sorted(hits):
        code, column = hits[lineno]
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
            "xbee3-ci-status", "error" if failure else "info", lineno,
            f"CI 0x{code:02X}: {CI_TCP[code]}"
            + (" on a TLS (IP=4) transparent connection" if tls and failure else ""),
            why, fix, "XB-REF 4 (CI table), 9, 10", column)
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
                related=(lineno,))
            profile = []


# -- records: direction, time stamp and bytes of each line --------------------------------------

_RECORD = re.compile(r"^\s*(?:\[(?P<t>\d+(?:\.\d+)?)\]\s*)?(?P<dir>>>|<<|>|<)(?: |$)(?P<body>.*)$")
_ESCAPES = re.compile(r"\\(r|n|t|\\|x[0-9a-fA-F]{2})")


@dataclass(frozen=True)
class Record:
    """One transcript record: ``host`` (``>``/``>>``) or not, its time stamp (seconds) when the
    transcript has one, ``line`` (``>``/``<``: a CR is implied after a host line) and its text
    with ``\\r``-style escapes decoded."""

    lineno: int
    host: bool
    time: float | None
    line: bool
    text: str


def _unescape(body: str) -> str:
    def one(found: re.Match[str]) -> str:
        code = found.group(1)
        return {"r": "\r", "n": "\n", "t": "\t", "\\": "\\"}.get(code) or chr(int(code[1:], 16))
    return _ESCAPES.sub(one, body)


def records(session: Session) -> list[Record]:
    """The direction-marked records of a transcript (FORMAT.md), in order; pasted logs without
    marks give none."""
    out: list[Record] = []
    for line in session.lines:
        found = _RECORD.match(line.raw)
        if not found:
            continue
        mark = found.group("dir")
        stamp = found.group("t")
        out.append(Record(line.lineno, mark.startswith(">"), float(stamp) if stamp else None,
                          len(mark) == 1, _unescape(found.group("body"))))
    return out


def _answers(session: Session) -> Iterator[tuple[int, str, int, str]]:
    """``(command line, command, answer line, answer)`` for each XBee command and the first
    modem line after it, from transcript records or from a pasted log."""
    recs = records(session)
    if recs:
        for index, rec in enumerate(recs):
            if not rec.host:
                continue
            command = rec.text.strip()
            for later in recs[index + 1 :]:
                if later.host:
                    break
                if later.text.strip():
                    yield rec.lineno, command, later.lineno, later.text.strip()
                    break
        return
    lines = session.lines
    for index, pasted in enumerate(lines):
        if pasted.kind != "command":
            continue
        for after in lines[index + 1 :]:
            if after.kind == "command":
                break
            if after.text.strip():
                yield pasted.lineno, pasted.text.strip(), after.lineno, after.text.strip()
                break


_AI_PROSE = re.compile(r"\bAI\b[^.\n]{0,40}?\b(?:0x)?([0-9A-F]{2})\b", re.IGNORECASE)


def ai_rules(session: Session) -> Iterator[Finding]:
    """``xbee3-ai-status``: every ``AI`` value read (``ATAI`` -> ``22``) or quoted in prose,
    explained (XB-REF 4 AI table)."""
    seen: set[int] = set()
    for cmd_line, command, line, answer in _answers(session):
        if command.upper().replace(" ", "") not in ("ATAI", "ATAI\r"):
            continue
        try:
            value = int(answer.strip(), 16)
        except ValueError:
            continue
        seen.add(line)
        yield _ai_finding(value, line, related=(cmd_line,))
    for item in session.decoded:
        if item.lineno in seen or item.kind not in ("text", "response", "value"):
            continue
        hit = _AI_PROSE.search(item.text)
        if hit and int(hit.group(1), 16) in AI_STATUS:
            yield _ai_finding(int(hit.group(1), 16), item.lineno,
                              column=item.line.column(hit.start(1)))


def _ai_finding(value: int, line: int, *, related: tuple[int, ...] = (),
                column: int | None = None) -> Finding:
    meaning = AI_STATUS.get(value, "not a documented AI value")
    severity: Severity
    if value == 0:
        severity, why, fix = ("info", "the module is registered and has an Internet (PDP) "
                              "connection", "nothing to do")
    elif value in AI_TRANSIENT:
        severity, why, fix = ("warning", "the module is still attaching; sockets and "
                              "transparent connections fail until AI reads 0",
                              "poll ATAI until it reads 0 before sending data (AI changes "
                              "are not pushed to the host in transparent mode: pitfall 29)")
    else:
        severity = "error"
        why = "the module cannot reach the Internet in this state"
        fix = {0x25: "check the SIM's subscription and the APN (AN) with the operator",
               0x2A: "leave airplane mode (ATAM0)",
               0x2F: "leave Bypass mode (ATAP0 or ATAP1, then ATWR)",
               0x2D: "the modem was shut down (ATSD): reset the module",
               0x24: "the cellular component needs its firmware reinstalled"}.get(
                   value, "see the AI table of the user guide")
    return Finding("xbee3-ai-status", severity, line, f"AI 0x{value:02X}: {meaning}", why,
                   fix, "XB-REF 4 (AI table: C1, C3, D2 p.186)", column, related=related)


_LS_ENTRY = re.compile(r"^\s*(\d+|<DIR>)\s+(\S+?)#?\s*$")
_FS_PUT = re.compile(r"ATFS\s+X?PUT\s+(\S+)", re.IGNORECASE)
_FS_LS = re.compile(r"ATFS\s+LS\b", re.IGNORECASE)
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s\\rn]+?-----END CERTIFICATE-----")
_DOWNLOADED = re.compile(
    r"(?:downloaded|exported|saved|copied)\s+the\s+(?:CA\s+|server\s+|site\s+)?"
    r"certificate\s+(?:from|of)\s+(?:https?://)?([A-Za-z0-9.-]*[A-Za-z0-9])", re.IGNORECASE)


def _basename(path: str) -> str:
    return path.strip().rstrip("/").rsplit("/", 1)[-1].lower()


def ca_file_rules(session: Session) -> Iterator[Finding]:
    """``xbee3-ca-file-missing``: the CA file named in ``$0`` is not among the files the log
    lists or uploads (a name that does not exist is accepted when set and fails at connect:
    XB-REF 3); ``xbee3-ca-is-server-cert``: the certificate meant as CA is the server's own
    (a PEM in the log that is not a self-signed CA, or a certificate "downloaded from" the
    site: XB-REF 10, 13 item 3)."""
    profile = [s for s in settings(session) if s.name == "$0" and s.value.split(";")[0].strip()]
    known: set[str] = set()
    listing = False
    recs = records(session)
    texts = [(r.lineno, r.text) for r in recs] if recs else [
        (line.lineno, line.text) for line in session.lines]
    in_ls = False
    for _lineno, text in texts:
        for part in text.replace("\n", "\r").split("\r"):
            if _FS_LS.search(part):
                in_ls, listing = True, True
                continue
            put = _FS_PUT.search(part)
            if put:
                known.add(_basename(put.group(1)))
                in_ls = False
                continue
            entry = _LS_ENTRY.match(part)
            if in_ls and entry and entry.group(1) != "<DIR>":
                known.add(_basename(entry.group(2)))
    for s in profile:
        ca = s.value.split(";")[0].strip()
        if (listing or known) and _basename(ca) not in known:
            yield Finding(
                "xbee3-ca-file-missing", "error", s.line,
                f"$0 names the CA file {ca!r}, which the log never lists nor uploads"
                + (f" (files seen: {', '.join(sorted(known))})" if known else ""),
                "a $n path is not checked when it is set; the TLS connection fails at connect "
                "time (CI 0x2F/0x26, or 0x89 status 0x86 in API mode)",
                "upload the root CA into /flash/cert (ATFS PUT, XMODEM/YMODEM) and name it in $0 "
                "relative to /flash/cert, or with its absolute path", "XB-REF 3 ($n), 5, 13 "
                "(pitfall 2)", s.column, confidence="medium")
    if not profile:
        return
    for found in _PEM.finditer(session.text):
        cert = _certificate(found.group(0))
        if cert is None or (cert.is_ca and cert.is_self_signed):
            continue
        lineno = session.text.count("\n", 0, found.start()) + 1
        yield Finding(
            "xbee3-ca-is-server-cert", "error", lineno,
            f"the certificate in the log ({cert.subject}, issued by {cert.issuer}) is "
            + ("a server certificate" if not cert.is_ca else "an intermediate CA")
            + ", not a self-signed root", "the XBee trusts exactly the one certificate in the "
            "$0 CA file as a root; a server or intermediate certificate there makes every "
            "handshake fail", "put the root at the top of the server's chain in the CA file",
            "XB-REF 10 (D3 p.100-101, C5), 13 (pitfall 3)", related=(profile[0].line,))
    for item in session.decoded:
        hit = _DOWNLOADED.search(item.text) if item.kind == "text" else None
        if hit:
            yield Finding(
                "xbee3-ca-is-server-cert", "warning", item.lineno,
                f"the CA file was taken from the site {hit.group(1)!r} itself: a browser "
                "exports the site's own (leaf) certificate unless the top of the "
                "certification path is chosen", "the module needs the self-signed root that "
                "issued the chain; the site's certificate is no trust anchor",
                "export the root (top) certificate of the chain instead",
                "XB-REF 10, 13 (pitfall 3), 12 A (L1)", item.line.column(hit.start()),
                related=(profile[0].line,), confidence="medium")


def _certificate(pem: str) -> Certificate | None:
    text = pem.replace("\\r", "").replace("\\n", "\n")
    try:
        return Certificate.from_pem(text)
    except (CellTLSError, ValueError):
        return None


_GT = re.compile(r"^ATGT([0-9A-Fa-f]{1,4})\s*$")


def _answered_ok(later: list[Record]) -> bool:
    """Whether the first modem record after an escape is its ``OK``."""
    for rec in later:
        if rec.host:
            return False
        if rec.text.strip():
            return rec.text.strip().startswith("OK")
    return False


def guard_time_rules(session: Session) -> Iterator[Finding]:
    """``xbee3-guard-time``: ``+++`` sent without its guard times (XB-REF 2: silence >= GT
    before and after, nothing after it, not even CR; pitfalls 13, 14; L4 by inference)."""
    recs = records(session)
    guard = 1.0
    read_gt = {line: answer for _cmd, command, line, answer in _answers(session)
               if command.upper() == "ATGT"}
    for index, rec in enumerate(recs):
        if rec.lineno in read_gt:
            with contextlib.suppress(ValueError):
                guard = int(read_gt[rec.lineno], 16) / 1000  # ATGT read: "64" = 100 ms
        if not rec.host:
            continue
        text = rec.text
        set_gt = _GT.match(text.strip())
        if set_gt:
            guard = int(set_gt.group(1), 16) / 1000
        at = text.find("+++")
        if at < 0:
            continue
        before, after = text[:at], text[at + 3 :]
        problem = None
        if rec.line or after.startswith(("\r", "\n")):
            problem = "+++ is followed by CR/LF, which cancels the escape sequence"
        elif after:
            problem = f"+++ is followed by {after[:8]!r} with no guard time"
        elif before:
            problem = f"+++ is preceded by {before[-8:]!r} with no guard time"
        elif rec.time is not None:
            prev = next((r for r in reversed(recs[:index]) if r.host and r.time is not None),
                        None)
            nxt = next((r for r in recs[index + 1 :] if r.time is not None and (
                r.host or r.text.strip().startswith("OK"))), None)
            if prev is not None and prev.time is not None and rec.time - prev.time < guard:
                problem = (f"+++ came {rec.time - prev.time:.3f} s after the previous bytes; the "
                           f"guard time GT is {guard:g} s")
            elif nxt is not None and nxt.host and nxt.time is not None \
                    and nxt.time - rec.time < guard:
                problem = (f"bytes followed +++ after {nxt.time - rec.time:.3f} s, before the "
                           f"guard time GT ({guard:g} s) ended")
        if problem:
            yield Finding(
                "xbee3-guard-time", "error", rec.lineno, problem,
                "the module enters command mode only after GT of silence, +++, and GT of "
                "silence; otherwise the three characters are data (sent to the server in "
                "transparent mode)", "wait GT (default 1 s, ATGT) before and after +++ and send "
                "nothing in between", "XB-REF 2 (D5, D1 CC page), 13 (pitfalls 13, 14)")
    # L4: many +++ among an HTTP answer: they reached the server as data
    plus = ([r.lineno for i, r in enumerate(recs) if r.host and "+++" in r.text
             and not _answered_ok(recs[i + 1 :])] if recs else
            [line.lineno for line in session.lines if line.text.strip() == "+++"])
    http = any("HTTP/1." in line.text for line in session.lines)
    if len(plus) >= 3 and http:
        first = plus[0]
        yield Finding(
            "xbee3-guard-time", "warning", first,
            f"{len(plus)} escape sequences (+++) among an HTTP exchange: they most likely "
            "went to the server as data", "without the guard times, +++ is ordinary data in "
            "transparent mode (the server then answers 400 Bad Request)",
            "respect GT before and after +++; lower GT with ATGT if 1 s is too slow",
            "XB-REF 12 D (L4), 13 (pitfall 13)", confidence="medium")


RULES: tuple[Rule, ...] = (xbee_rules, ai_rules, ca_file_rules, guard_time_rules)
