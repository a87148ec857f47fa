"""Diagnosis rules for Quectel LTE modules (BG95/BG96/BG77, EC2x/EG2x).

Source: ``shared/reference/quectel-lte.md`` (QLTE-REF), sections and source ids per finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from celltls.dialects.quectel_lte.catalog import (
    BG96_SUITES,
    HTTP_ERRORS,
    NO_ECDSA_MODELS,
    QMTOPEN_RESULTS,
    SSL_VERSIONS,
    TCPIP_ERRORS,
)
from celltls.dialects.spec import parse_number
from celltls.doctor.decode import Decoded
from celltls.doctor.model import Finding, Rule, Session
from celltls.doctor.reader import Line
from celltls.doctor.tables import cipher_name

REF = "shared/reference/quectel-lte.md"
_MODEL = re.compile(r"\b(BG9[56]|BG77|BG600L|EC2[15]|EG2[15]|EG91|EC200)", re.IGNORECASE)


def _f(code: str, severity: str, line: int, message: str, why: str, fix: str, source: str,
       column: int | None = None, related: tuple[int, ...] = (), confidence: str = "high",
       symptom: bool = False) -> Finding:
    return Finding(code, severity, line, message, why, fix, source,  # type: ignore[arg-type]
                   column, related, confidence, None, symptom)  # type: ignore[arg-type]


def _model(session: Session) -> str | None:
    for line in session.lines:
        found = _MODEL.search(line.text)
        if found:
            return found.group(1).upper()
    return None


class _Contexts:
    """What the log configured per SSL context, and where."""

    def __init__(self) -> None:
        self.settings: dict[int, dict[str, tuple[str, int]]] = {}

    def set(self, ctx: int, item: str, value: str, line: int) -> None:
        self.settings.setdefault(ctx, {})[item] = (value, line)

    def get(self, ctx: int, item: str) -> tuple[str, int] | None:
        return self.settings.get(ctx, {}).get(item)


def _scan(session: Session) -> tuple[_Contexts, set[str], list[tuple[int, int, Decoded]]]:
    """Contexts configured, file names uploaded or listed, and the uses of a context
    ``(ctx, index, command)`` (QSSLOPEN, QHTTP with its sslctxid, QMTOPEN with QMTCFG "ssl")."""
    contexts = _Contexts()
    files: set[str] = set()
    uses: list[tuple[int, int, Decoded]] = []
    http_ctx = 1  # +QHTTPCFG "sslctxid" default (QLTE-REF §6, S4)
    mqtt_ctx: dict[int, int] = {}
    https = False
    for index, item in enumerate(session.decoded):
        if item.kind in ("information", "urc") and item.name in ("+QFLST", "+QFUPL"):
            if item.name == "+QFLST" and item.params:
                files.add(_base(item.params[0].value))
            continue
        if item.kind in ("text", "data") and item.text.strip().lower().startswith("https://"):
            https = True
        if item.kind != "command" or item.line.inline or item.op != "write":
            continue
        final = session.final(index)
        ok = final is None or final.success is not False
        name = item.name
        if name == "+QFUPL" and ok and item.params:
            files.add(_base(item.params[0].value))
        elif name == "+QSSLCFG" and item.selector and len(item.params) >= 3 and ok:
            ctx = parse_number(item.params[1].value)
            if ctx is not None:
                contexts.set(ctx, item.selector.lower(), item.params[2].value, item.lineno)
        elif name == "+QHTTPCFG" and (item.selector or "").lower() == "sslctxid" and ok:
            value = parse_number(item.arg(1) or "")
            if value is not None:
                http_ctx = value
        elif name == "+QMTCFG" and (item.selector or "").lower() == "ssl" and ok:
            client = parse_number(item.arg(1) or "")
            ctx = parse_number(item.arg(3) or "")
            if client is not None and item.arg(2) == "1":
                mqtt_ctx[client] = ctx if ctx is not None else 0
        elif name == "+QSSLOPEN":
            ctx = parse_number(item.arg(1) or "")
            if ctx is not None:
                uses.append((ctx, index, item))
        elif name == "+QMTOPEN":
            client = parse_number(item.arg(0) or "")
            if client in mqtt_ctx:
                uses.append((mqtt_ctx[client], index, item))
        elif name in ("+QHTTPGET", "+QHTTPPOST") and https:
            uses.append((http_ctx, index, item))
        elif name == "+QHTTPURL":
            https = False
    return contexts, files, uses


def _base(name: str) -> str:
    value = name.strip().strip('"')
    return value[4:] if value.upper().startswith("UFS:") else value


def syntax_traps(session: Session) -> Iterator[Finding]:
    """``quectel-lte-quoted-hex`` (``"0XFFFF"`` quoted → ERROR), ``quectel-lte-read-not-set``
    (a +QSSLCFG without its value is a read of that context, not a set), and
    ``quectel-lte-gsm-command`` (``AT+QSECWRITE`` of the GSM family on an LTE module)."""
    accepted: dict[tuple[str, str], int] = {}
    for index, item in session.commands("+QSSLCFG"):
        final = session.final(index)
        if item.selector and final is not None and final.success:
            accepted[(item.selector.lower(), item.arg(1) or "")] = item.lineno
    for index, item in session.commands("+QSSLCFG", "+QSECWRITE", "+QSECREAD"):
        final = session.final(index)
        if item.name != "+QSSLCFG":
            yield _f(
                "quectel-lte-gsm-command", "error" if final and not final.success else "warning",
                item.lineno,
                f"AT{item.name} is the Quectel GSM (M66/M95) certificate command; LTE modules "
                "store certificates as files",
                "BG9x/EG2x firmware rejects the GSM family's +QSEC commands (QLTE-REF §4, S7b)",
                "upload with AT+QFUPL=\"<name>.pem\",<size>,<timeout> and point "
                "AT+QSSLCFG=\"cacert\",<ctx>,\"<name>.pem\" at it", f"{REF} §4 (S1, S7b)")
            continue
        selector = (item.selector or "").lower()
        if selector == "ciphersuite" and len(item.params) >= 3 and \
                item.params[2].raw.strip().startswith('"'):
            fixed = accepted.get((selector, item.arg(1) or ""), 0)
            corrected = f" (sent again without quotes and accepted at line {fixed})" \
                if fixed > item.lineno else ""
            yield _f(
                "quectel-lte-quoted-hex",
                "info" if corrected else "error" if final and not final.success else "warning",
                item.lineno,
                f"the cipher suite value {item.params[2].raw.strip()} is quoted{corrected}",
                "the module takes the hex value bare: AT+QSSLCFG=\"ciphersuite\",<ctx>,\"0XFFFF\" "
                "is answered ERROR, the same line without quotes OK (QLTE-REF §11, L1)",
                f"write it unquoted: AT+QSSLCFG=\"ciphersuite\",{item.arg(1)},"
                f"{item.params[2].value}", f"{REF} §5, §10 (L1)", item.params[2].column)
        if selector and selector != "ctxindex" and len(item.params) == 2:
            answers = [r for r in session.replies(index) if r.name == "+QSSLCFG"]
            if answers:
                yield _f(
                    "quectel-lte-read-not-set", "warning", item.lineno,
                    f"AT+QSSLCFG=\"{selector}\",{item.arg(1)} has no value: it reads context "
                    f"{item.arg(1)} ({answers[0].text.strip()}) and sets nothing",
                    "written as a set without its <ctx> or value, the line silently becomes a "
                    "query; the setting the code meant to make is not made (QLTE-REF §11, L1)",
                    f"give the context and the value: AT+QSSLCFG=\"{selector}\",<ctx>,<value>",
                    f"{REF} §5, §11 (L1, S8)", confidence="medium")


def uploads(session: Session) -> Iterator[Finding]:
    """``upload-mismatch``: AT+QFUPL declared one size and the module stored another (the
    upload timed out, or the line ends were converted on the way: QLTE-REF §4, §11, S1)."""
    for index, item in session.commands("+QFUPL"):
        declared = parse_number(item.arg(1) or "") if len(item.params) > 1 else None
        if declared is None:
            continue
        for reply in session.replies(index):
            if reply.name == "+QFUPL" and reply.params:
                stored = parse_number(reply.params[0].value)
                if stored is not None and stored != declared:
                    yield _f(
                        "upload-mismatch", "error", reply.lineno,
                        f"AT+QFUPL declared {declared} bytes for {item.arg(0)!r} but the "
                        f"module stored {stored}",
                        "the module stops at <timeout> without data and keeps what arrived, "
                        "so the certificate is truncated (or longer: line ends converted) and "
                        "fails to parse at handshake time",
                        "send exactly the declared bytes (count the file's own line ends; "
                        "send it as binary), check size and checksum in +QFUPL, re-upload",
                        f"{REF} §4, §11 (S1, S14, S15)", related=(item.lineno,))


def item_case(session: Session) -> Iterator[Finding]:
    """``quectel-lte-item-case``: a +QSSLCFG item written in upper case was refused (drivers
    note the names must be lower case: QLTE-REF §5, S7a)."""
    for index, item in session.commands("+QSSLCFG"):
        first = item.args_text.split(",", 1)[0].strip().strip('"')
        final = session.final(index)
        if first and first != first.lower() and final is not None and not final.success:
            yield _f("quectel-lte-item-case", "error", item.lineno,
                     f"the setting name {first!r} is not lower case and was refused",
                     "the firmware matches the item names case-sensitively (QLTE-REF §5, "
                     "S7a); the setting is not made",
                     f"write it in lower case: \"{first.lower()}\"", f"{REF} §5 (S7a)",
                     confidence="medium")


def tls_settings(session: Session) -> Iterator[Finding]:
    """``tls-wrong-context``, ``tls-verify-off``, ``tls-cert-not-found``,
    ``tls-version-unsupported``: what the context a connection uses really holds."""
    contexts, files, uses = _scan(session)
    reported: set[tuple[str, int]] = set()
    for ctx, index, item in uses:
        failed = _handshake_failed(session, index)
        settings = contexts.settings.get(ctx, {})
        if not settings and contexts.settings and ("wrong", ctx) not in reported:
            reported.add(("wrong", ctx))
            others = sorted(contexts.settings)
            yield _f(
                "tls-wrong-context", "error" if failed else "warning", item.lineno,
                f"AT{item.name} uses SSL context {ctx}, but the log configures context(s) "
                f"{others} only",
                "each SSL context has its own settings; context "
                f"{ctx} keeps its defaults (seclevel 0, no CA), so the CA and versions set on "
                f"{others} are never used. QHTTP uses context 1 unless "
                "AT+QHTTPCFG=\"sslctxid\" says otherwise (QLTE-REF §6, §11)",
                f"configure context {ctx}, or point the connection at context {others[0]} "
                f"(AT+QHTTPCFG=\"sslctxid\",{others[0]} / the <sslctxID> of AT+QSSLOPEN / "
                "AT+QMTCFG=\"ssl\",<client>,1,<ctx>)", f"{REF} §5, §6, §11 (S4, S7a)",
                related=tuple(v[1] for s in contexts.settings.values() for v in s.values())[:3],
                confidence="medium")
            continue
        level = settings.get("seclevel")
        if level is not None and level[0] == "0" and ("off", ctx) not in reported:
            reported.add(("off", ctx))
            yield _f(
                "tls-verify-off", "warning", level[1],
                f"seclevel 0 on SSL context {ctx}: the server's certificate is not verified",
                "any server (or a man in the middle) is accepted; if this was done to make a "
                "failing handshake pass, the real cause (CA, clock, version) is still there",
                f"store the server's root CA (AT+QFUPL) and set AT+QSSLCFG=\"cacert\",{ctx},"
                f"\"<file>\" and AT+QSSLCFG=\"seclevel\",{ctx},1", f"{REF} §5, §11 (S10, S6)")
        cacert = settings.get("cacert")
        if level is not None and level[0] in ("1", "2") and cacert is not None and files and \
                _base(cacert[0]) not in files and ("ca", ctx) not in reported:
            reported.add(("ca", ctx))
            yield _f(
                "tls-cert-not-found", "error" if failed else "warning", cacert[1],
                f"context {ctx} trusts {cacert[0]!r}, which is not among the files the log "
                f"uploads or lists ({', '.join(sorted(files))})",
                "the module cannot load a CA file that is not in UFS: verification fails",
                "upload it first (AT+QFUPL) or fix the name (AT+QFLST lists the files)",
                f"{REF} §4, §5 (S1, L1)", related=(level[1],))
        version = settings.get("sslversion")
        number = parse_number(version[0]) if version else None
        if version is not None and number in (0, 1, 2) and failed and \
                ("ver", ctx) not in reported:
            reported.add(("ver", ctx))
            yield _f(
                "tls-version-unsupported", "error", version[1],
                f"context {ctx} is limited to {SSL_VERSIONS[number or 0]}; the handshake at "
                f"line {item.lineno} failed",
                "most servers today refuse SSL 3.0, TLS 1.0 and 1.1 (RFC 8996); the module "
                "offers only the version set here",
                f"set AT+QSSLCFG=\"sslversion\",{ctx},3 (TLS 1.2) or 4 (all)",
                f"{REF} §5, §8 (S4, S7); RFC 8996", related=(item.lineno,), confidence="medium")
        suite = settings.get("ciphersuite")
        if suite is not None:
            number = parse_number(suite[0].strip('"'), hexadecimal=True)
            if number is not None and number != 0xFFFF and failed and \
                    ("suite", ctx) not in reported:
                reported.add(("suite", ctx))
                yield _f(
                    "tls-cipher-mismatch", "error", suite[1],
                    f"context {ctx} offers only {cipher_name(number)}",
                    "with one suite the handshake fails unless the server chose exactly it",
                    f"allow all the module's suites: AT+QSSLCFG=\"ciphersuite\",{ctx},0XFFFF",
                    f"{REF} §5, §8 (S4, S10); IANA TLS cipher suites", confidence="medium")


def _handshake_failed(session: Session, index: int) -> Decoded | None:
    for reply in session.replies(index):
        if reply.kind == "final" and reply.success is False:
            return reply
        if reply.name in ("+QSSLOPEN", "+QHTTPGET", "+QHTTPPOST", "+QMTOPEN", "+QIOPEN"):
            err = reply.arg(1) if reply.name in ("+QSSLOPEN", "+QMTOPEN", "+QIOPEN") \
                else reply.arg(0)
            if err not in (None, "0"):
                return reply
    return None


def result_codes(session: Session) -> Iterator[Finding]:
    """``tls-handshake-failed``, ``quectel-lte-error`` (symptoms: +QHTTPGET 7xx, +QSSLOPEN /
    +QIOPEN 5xx, +QMTOPEN -1...), and the causes a code names itself: ``dns-failed``,
    ``pdp-not-active``, ``quectel-lte-pdp-deactivated``."""
    model = _model(session)
    for item in session.decoded:
        if item.kind not in ("information", "urc"):
            continue
        if item.name == "+QIURC" and "pdpdeact" in item.text.lower():
            yield _f(
                "quectel-lte-pdp-deactivated", "error", item.lineno,
                f"the network deactivated the PDP context ({item.text.strip()})",
                "every socket of that context is gone; later opens fail until it is "
                "re-activated (QLTE-REF §3, S9, L3)",
                "AT+QIDEACT=<contextID> then AT+QIACT=<contextID>; it also follows AT+CFUN=1,1 "
                "(a reboot): wait for RDY", f"{REF} §3 (S9, L3)")
            continue
        name = item.name or ""
        if name in ("+QHTTPGET", "+QHTTPPOST", "+QHTTPREAD"):
            code = parse_number(item.arg(0) or "")
            table = HTTP_ERRORS
        elif name in ("+QSSLOPEN", "+QIOPEN"):
            code = parse_number(item.arg(1) or "")
            table = TCPIP_ERRORS
        elif name == "+QMTOPEN" and len(item.params) >= 2:
            code = parse_number(item.arg(1) or "")
            if code is None or code == 0:
                continue
            meaning = QMTOPEN_RESULTS.get(code, "unknown result")
            yield _f(
                "tls-handshake-failed" if code == -1 else "quectel-lte-error", "error",
                item.lineno, f"+QMTOPEN result {code}: {meaning}",
                "with MQTT over SSL, -1 covers a failed TLS handshake as well as no network "
                "(QLTE-REF §7, L6): the module gives no detail",
                "check the SSL context the client uses (AT+QMTCFG=\"ssl\"), its CA, version and "
                "client certificate, and the PDP context",
                f"{REF} §7, §10 (L1, L6); Quectel MQTT Application Note", symptom=True,
                confidence="medium")
            continue
        else:
            continue
        if code is None or code == 0:
            continue
        meaning = table.get(code, "unknown code")
        if code in (565, 714):
            yield _f("dns-failed", "error", item.lineno,
                     f"{name} {code}: {meaning}: the host name was not resolved",
                     "the module's DNS query failed: wrong host name, no PDP context, or the "
                     "DNS servers of the context do not answer",
                     "check the host name; set DNS servers with AT+QIDNSCFG=<ctx>,\"8.8.8.8\"",
                     f"{REF} §7 (S12, S13)", confidence="medium")
        elif code == 563:
            yield _f("socket-in-use", "error", item.lineno,
                     f"{name} {code}: {meaning}: the client id is still open",
                     "a socket opened before (often by a run of the host program that was "
                     "reset without closing it) still holds this id; the module keeps it open "
                     "across host restarts (QLTE-REF §11, S6)",
                     "at start, close every id the application uses (AT+QSSLCLOSE=<id> for "
                     "0-11, AT+QICLOSE) or query AT+QSSLSTATE and close what is listed",
                     f"{REF} §7, §11 (S6, S13)")
        elif code in (561, 570, 573, 707, 708, 709):
            yield _f("pdp-not-active", "error", item.lineno,
                     f"{name} {code}: {meaning}",
                     "the PDP context the connection needs is not active",
                     "AT+QICSGP=1,1,\"<apn>\" then AT+QIACT=1, and check AT+QIACT?",
                     f"{REF} §3, §7 (S12, S13)", confidence="medium")
        elif code == 701 or (name == "+QSSLOPEN" and code not in TCPIP_ERRORS):
            hint = ""
            if model in NO_ECDSA_MODELS:
                rsa = cipher_name(max(BG96_SUITES)).split(" ")[0]
                hint = (f" The {model} offers no ECDSA suite (RSA ones only, such as {rsa}),"
                        " so a server with an EC certificate cannot be reached.")
            yield _f(
                "tls-handshake-failed", "error", item.lineno,
                f"{name} {code}: {meaning}: the TLS connection failed.{hint}",
                "the module reports a failed handshake with this one code: the CA, the TLS "
                "version, the cipher suites, SNI and the clock are all possible causes "
                "(QLTE-REF §8, L5)",
                "check the context's cacert/seclevel/sslversion/ciphersuite/sni settings; test "
                "the server with: openssl s_client -connect <host>:443 -tls1_2",
                f"{REF} §7, §8 (L5, S12)", symptom=True)
        else:
            yield _f("quectel-lte-error", "error", item.lineno, f"{name} {code}: {meaning}",
                     "the module reports the failure with this code",
                     "see the meaning; check the PDP context and the server",
                     f"{REF} §7", symptom=True)


def score(lines: Sequence[Line]) -> int:
    """Detection evidence that tells Quectel LTE from Quectel GSM (same +QSSL names): model
    names (BG96, EG25...), UFS file commands, +QSSLOPEN with six fields, +QIACT=<n>."""
    total = 0
    for line in lines:
        text = line.text
        upper = text.upper()
        if _MODEL.search(text):
            total += 4
        if line.kind != "command":
            continue
        if upper.startswith(("AT+QFUPL", "AT+QHTTP", "AT+QMT", "AT+QFLST", "AT+QFDEL")):
            total += 1
        elif upper.startswith("AT+QSSLOPEN=") and len(fields := upper.split(",")) > 3 \
                and fields[3].lstrip().startswith('"'):
            total += 3  # <pdpctxID>,<sslctxID>,<clientID>,"<host>": the LTE form (QLTE-REF §5)
        elif upper.startswith("AT+QICSGP=") and upper.count(",") >= 4:
            total += 3  # the LTE form: <contextID>,<context_type>,"<APN>",... (QLTE-REF §3)
        elif re.match(r"AT\+QIACT=\d", upper) or (
                upper.startswith("AT+QSSLCFG=") and "UFS:" in upper):
            total += 2
    return total


RULES: tuple[Rule, ...] = (syntax_traps, tls_settings, result_codes, uploads, item_case)
