"""The generic rules: what is wrong in a modem log whatever the dialect.

Each rule is a function ``rule(session) -> Iterable[Finding]`` (see :mod:`celltls.doctor.engine`
for the API). Dialect-specific rules live in ``celltls.dialects.<pkg>.rules``.

Sources: ITU-T V.250 5.2-5.3 (command line syntax, string constants), 5.7 (result codes);
3GPP TS 27.007 7.2, 8.5, 8.15, 9.2, 10.1.x; RFC 5280 4.2.1.9 (basicConstraints); shared/seeds.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from celltls.at.codes import REGISTERED
from celltls.dialects.spec import parse_number
from celltls.doctor.decode import REGISTRATION_PREFIXES, Decoded
from celltls.doctor.model import Finding, Rule, Session
from celltls.doctor.reader import DASH_CHARS, QUOTE_CHARS
from celltls.doctor.rules_3gpp import RULES as RULES_3GPP
from celltls.doctor.rules_tls import RULES as RULES_TLS
from celltls.doctor.tables import CMS_ALL, cme_code_from_text

V250_STRING = "ITU-T V.250 5.3 (string constants)"

#: Commands that open a connection (TCP, TLS or an HTTP session), across dialects.
CONNECT_COMMANDS = frozenset({
    "+QSSLOPEN", "+QIOPEN", "#XHTTPCCON", "#XCONNECT", "+SQNHTTPCONNECT", "+SQNHTTPQRY",
    "+SQNHTTPSND", "+SQNSD", "+KHTTPCFG", "+KHTTPGET", "+KHTTPPOST", "+KTCPCNX", "+KTCPSTART",
    "+KHTTPSCFG", "+USOCO", "+CIPSTART", "+QHTTPGET", "+QHTTPPOST", "+QMTOPEN", "+CAOPEN",
    "+CCHOPEN", "+SHCONN", "+HTTPACTION", "+SMCONN", "+UHTTPC",
})
#: Commands that evidence (or set up) a PDP context / IP address.
PDP_COMMANDS = frozenset({"+CGACT", "+QIACT", "+QILOCIP", "+CGPADDR", "+KCNXUP", "+SQNSD",
                          "+CNACT", "+UPSDA", "+SAPBR", "+CIICR", "+NETOPEN", "+CCHSTART"})
#: Commands that bring the radio up: a log holding them shows the whole session.
BRINGUP_COMMANDS = frozenset({"+CFUN", "+COPS", "+CGDCONT", "+QIREGAPP", "+QICSGP", "+CGATT",
                              "+KCNXCFG", "+CEREG", "+CGREG", "+CREG"})
#: Commands that store a CA certificate (or read back a stored one).
CA_COMMANDS = frozenset({"+QSECWRITE", "%CMNG", "+SQNSNVW", "+KCERTSTORE", "+KTCPCFG",
                         "+QFUPL", "+QSSLCFG", "+CASSLCFG", "+SHSSL", "+SMSSL", "+CCERTDOWN",
                         "+CSSLCFG", "+USECMNG", "+USECPRF",
                         # SIM800-family SSL verifies nothing: no CA to look for
                         "+CIPSSL", "+HTTPSSL", "+SSLSETCERT"})

#: Likely causes of common +CME ERROR codes in a data session (27.007 9.2 meanings).
CME_CAUSES = {
    3: "the command is not allowed now (wrong state: radio on/off, connection open) or the "
       "firmware refused a value, such as a line or URL longer than it accepts",
    4: "the firmware does not support this command or this form of it",
    10: "no SIM card is seen: check it is inserted and the SIM slot/holder",
    11: "the SIM needs its PIN: send AT+CPIN=\"<pin>\" first",
    13: "the SIM card fails: try another card",
    30: "no network coverage: check the antenna, the band settings and the operator",
    50: "a parameter has a value the module does not accept: check each against the manual",
    100: "an unspecified failure: the module gives no reason",
}


def _finding(code: str, severity: str, line: int, message: str, why: str, fix: str,
             source: str, column: int | None = None, related: tuple[int, ...] = (),
             symptom: bool = False) -> Finding:
    return Finding(code, severity, line, message, why, fix, source, column,  # type: ignore[arg-type]
                   related, symptom=symptom)


def _failed(session: Session, index: int) -> bool:
    final = session.final(index)
    return final is not None and final.success is False


def typographic_characters(session: Session) -> Iterator[Finding]:
    """``typographic-quote`` / ``typographic-dash``: non-ASCII look-alikes in a command line or in
    a certificate's BEGIN/END line. A module only knows ASCII ``"`` (0x22) and ``-`` (0x2D)."""
    for index, item in enumerate(session.decoded):
        line = item.line
        if not line.typographic:
            continue
        if item.kind == "command":
            quotes = [(i, c) for i, c in line.typographic if c in QUOTE_CHARS]
            dashes = [(i, c) for i, c in line.typographic if c in DASH_CHARS]
            failed = _failed(session, index)
            for code, found, what, ascii_char in (
                ("typographic-quote", quotes, "typographic quote", '"'),
                ("typographic-dash", dashes, "typographic dash", "-"),
            ):
                if not found:
                    continue
                first = found[0][0]
                chars = " ".join(sorted({c for _, c in found}))
                if code == "typographic-dash" and ("BEGIN" in line.text or "END" in line.text):
                    yield Finding(
                        code, "warning", line.lineno,
                        f"{len(found)} typographic dash(es) in a PEM marker of the command",
                        "PEM markers are five ASCII hyphens; forums often turn them into "
                        "dashes when the text is posted, so this may not be what was sent",
                        "send the file's bytes, not text copied from a web page",
                        "RFC 7468 2 (PEM encapsulation boundaries)", first + 1,
                        confidence="low")
                    continue
                yield _finding(
                    code, "error" if failed else "warning", line.lineno,
                    f"{len(found)} {what}(s) ({chars}) in the command line, first at column "
                    f"{first + 1}",
                    "the module only understands the ASCII character " + ascii_char + "; "
                    "with a typographic one the string is not delimited and the command is "
                    "answered ERROR (a forum or word processor converts them when text is "
                    "pasted, so check what was really sent)",
                    f"type the command again with plain ASCII {ascii_char}: "
                    f"{line.text.strip()}",
                    V250_STRING, first + 1)
        elif "-----" in line.text and ("BEGIN" in line.text or "END" in line.text) and any(
                c in DASH_CHARS for _, c in line.typographic):
            first = next(i for i, c in line.typographic if c in DASH_CHARS)
            yield Finding(
                "typographic-dash", "warning", line.lineno,
                "a typographic dash in a PEM BEGIN/END line",
                "PEM markers are five ASCII hyphens; a module rejects or misreads the "
                "certificate if the file really holds this character (forums often turn "
                "'-----' into dashes when the text is posted, so it may not be the cause)",
                "upload the certificate file itself, not text copied from a web page",
                "RFC 7468 2 (PEM encapsulation boundaries)", first + 1, confidence="low")


def _multiline_strings(session: Session) -> set[int]:
    """Commands whose open string goes on over the next lines and closes there (a PEM in
    ``AT%CMNG=0,1,0,"-----BEGIN...``), found in one pass."""
    out: set[int] = set()
    open_at: int | None = None
    for index, item in enumerate(session.decoded):
        if item.kind == "command":
            open_at = index if item.line.text.count('"') % 2 else None
        elif open_at is not None and '"' in item.line.text:
            out.add(open_at)
            open_at = None
    return out


def stray_quotes(session: Session) -> Iterator[Finding]:
    """``stray-quote``: an odd number of double quotes in a command line (the seed 001 cause:
    ``AT#XHTTPCCON=1,"google.com",443,42"``)."""
    continued = _multiline_strings(session)
    for index, item in session.commands():
        text = item.line.text
        positions = [i for i, c in enumerate(text) if c == '"']
        if len(positions) % 2 == 0 or index in continued:
            continue
        # the unmatched quote: pair quotes left to right; the last one has no partner
        stray = positions[-1]
        before = text[:stray].rstrip()
        after = text[stray + 1 :]
        where = "at the end of the line" if not after.strip() else "in the middle of the line"
        prev_arg = before.rsplit(",", 1)[-1].strip() if "," in before else before
        yield _finding(
            "stray-quote", "error", item.lineno,
            f'unbalanced double quote at column {item.line.column(stray)} ({where}, after '
            f"{prev_arg!r}): the line has {len(positions)} quotes",
            "the module reads everything after an opening quote as part of a string, "
            "including the line end, so the command never ends or is rejected as malformed",
            "remove the stray quote (or close the string): "
            + (text[:stray] + text[stray + 1 :]).strip(),
            V250_STRING, item.line.column(stray))


def parameter_values(session: Session) -> Iterator[Finding]:
    """``param-out-of-range`` / ``param-invalid``: a value the catalog says is not valid."""
    for index, item in session.commands():
        if item.text.count('"') % 2:
            continue
        failed = _failed(session, index)
        for param in item.params:
            if not param.problem or param.value.startswith("<"):
                continue  # valid, or a <placeholder> written by a person
            code = ("param-out-of-range" if "out of range" in param.problem
                    or "not one of" in param.problem or "longer than" in param.problem
                    else "param-invalid")
            yield _finding(
                code, "error" if failed else "warning", item.lineno,
                f"AT{item.name}: {param.problem}",
                "the module rejects the command (ERROR / +CME ERROR) or, worse, accepts a value "
                "that does not do what was meant",
                f"give <{param.name}> a value the manual allows"
                + (f" ({param.description})" if param.description else ""),
                item.source or "dialect catalog", param.column)


def unknown_commands(session: Session) -> Iterator[Finding]:
    """``unknown-command``: a command the dialect's catalog does not know (info)."""
    if session.catalog is None:
        return
    wrong = {m.wrong.upper().strip('"') for m in session.catalog.misspellings}
    for _index, item in session.commands():
        if item.known or item.line.inline or not item.name or item.name in wrong:
            continue
        yield _finding(
            "unknown-command", "info", item.lineno,
            f"AT{item.name} is not in the {session.dialect} catalog",
            "a command the module does not have is answered ERROR; it may also be a typo",
            "check the spelling against the AT command manual", session.catalog.title,
            item.line.column(0))


def error_codes(session: Session) -> Iterator[Finding]:
    """``cme-error`` / ``cms-error`` / ``command-error``: failure final result codes."""
    for item in session.decoded:
        if item.kind != "final" or item.success is not False:
            continue
        command = session.decoded[item.command] if item.command is not None else None
        what = f"AT{command.name}" if command is not None and command.name is not None \
            else "the previous command"
        related = (command.lineno,) if command is not None else ()
        if item.name in ("+CME ERROR", "+CMS ERROR"):
            code = "cme-error" if item.name == "+CME ERROR" else "cms-error"
            number = item.code
            meaning = item.meaning
            if number is None and code == "cme-error" and item.meaning:
                number = cme_code_from_text(item.meaning)  # verbose form (AT+CMEE=2)
            elif code == "cms-error" and number is not None:
                meaning = CMS_ALL.get(number, meaning)
            cause = CME_CAUSES.get(number if number is not None else -1, "") \
                if code == "cme-error" else ""
            if command is not None and item.code == 3 and len(command.text) > 100:
                cause = (f"the command line is {len(command.text)} characters long; the "
                         "firmware likely refuses a line or URL that long. " + cause)
            yield _finding(
                code, "error", item.lineno,
                f"{what} failed with {item.name}: {item.code if item.code is not None else ''}"
                f" ({meaning})",
                cause or "the module refused the command",
                "fix the cause above and send the command again",
                "3GPP TS 27.007 9.2" if code == "cme-error" else
                "3GPP TS 27.005 3.2.5; 24.011 8.2.5.4; 23.040 9.2.3.22",
                related=related, symptom=True)
        elif command is not None:
            yield _finding(
                "command-error", "error", item.lineno,
                f"{what} was answered {item.name}",
                "the module gives no reason with a plain ERROR",
                "send AT+CMEE=1 first so that errors carry a +CME ERROR code, and check the "
                "command's syntax and the module's state",
                "ITU-T V.250 5.7; 3GPP TS 27.007 9.1", related=related, symptom=True)


def _registration_stat(item: Decoded) -> int | None:
    if item.name is None or item.name + ":" not in REGISTRATION_PREFIXES:
        return None
    param = item.param("stat")
    return parse_number(param.value) if param is not None else None


def _data_registration(domains: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """The registration that counts for data: a packet-domain one (+CEREG, +CGREG) that is
    registered, else the latest packet-domain one, else +CREG (27.007 10.1.20, 10.1.22)."""
    packet = [domains[n] for n in ("+CEREG", "+CGREG") if n in domains]
    for value in packet:
        if value[0] in REGISTERED:
            return value
    if packet:
        return max(packet, key=lambda v: v[1])
    return domains.get("+CREG", (4, 0))


def _is_tls(item: Decoded) -> bool:
    args = item.args_text.lower()
    return (item.name in ("+QSSLOPEN", "+SQNHTTPCONNECT") or "443" in args or "https" in args
            or "8883" in args or (item.name == "#XHTTPCCON" and len(item.params) >= 4))


def network_state(session: Session) -> Iterator[Finding]:
    """``not-registered`` and ``no-pdp-context``: a connection attempted with no network."""
    stat: int | None = None
    stat_line = 0
    pdp = False
    bringup = False
    domains: dict[str, tuple[int, int]] = {}
    for index, item in enumerate(session.decoded):
        value = _registration_stat(item)
        if value is not None:
            domains[item.name or ""] = (value, item.lineno)
            stat, stat_line = _data_registration(domains)
            if session.default_bearer and "+CEREG" not in domains:
                stat, stat_line = None, 0  # on LTE only +CEREG counts (registration rule)
            if value in REGISTERED and session.default_bearer:
                pdp = True  # an LTE attach brings up the default bearer
            continue
        if item.kind in ("information", "urc") and item.name in (
                "+QIACT", "+CNACT", "+UUPSDA", "+SAPBR", "+APP PDP") and \
                re.search(r"\d+\.\d+\.\d+\.\d+|ACTIVE", item.text) and \
                "0.0.0.0" not in item.text and "DEACTIVE" not in item.text:
            pdp = True
        if item.kind == "value" and item.command is not None and \
                session.decoded[item.command].name == "+QILOCIP":
            pdp = True
        if item.kind in ("information", "urc") and item.name == "+CGPADDR" and \
                len(item.params) > 1 and item.params[1].value:
            pdp = True
        if item.kind in ("information", "urc") and item.name == "+KCNX_IND" and \
                item.arg(1) == "1":
            pdp = True
        if item.kind != "command" or item.line.inline:
            continue
        name = item.name or ""
        if name in BRINGUP_COMMANDS:
            bringup = True
        if name in PDP_COMMANDS and not _failed(session, index):
            pdp = True
        if name not in CONNECT_COMMANDS:
            continue
        if stat is not None and stat not in REGISTERED:
            from celltls.at.codes import REGISTRATION_STATES

            yield _finding(
                "not-registered", "error", item.lineno,
                f"AT{name} opens a connection while the last registration state (line "
                f"{stat_line}) is {stat}: {REGISTRATION_STATES.get(stat, 'vendor-specific')}",
                "without registration there is no packet data service: the connection "
                "attempt can only fail",
                "wait for +CEREG/+CGREG stat 1 (home) or 5 (roaming) before connecting; check "
                "the SIM, APN, antenna and bands if it never comes",
                "3GPP TS 27.007 10.1.22 / 10.1.20", related=(stat_line,))
        elif bringup and not pdp:
            yield Finding(
                "no-pdp-context", "warning", item.lineno,
                f"AT{name} opens a connection but the log shows no active PDP context or IP "
                "address before it",
                "sockets and TLS need an active PDP context (an IP address); a pasted excerpt "
                "may also just leave the activation out",
                "activate the context (AT+CGACT=1,<cid> / AT+QIACT / the dialect's command) and "
                "check the address (AT+CGPADDR) before connecting",
                "3GPP TS 27.007 10.1.10, 10.1.14", confidence="medium")
    if stat == 0 and stat_line:
        yield _finding(
            "not-registered", "warning", stat_line,
            f"the last registration state in the log is {stat} ("
            + ("not registered, not searching" if stat == 0 else "registration denied") + ")",
            "the module is not attached and will not be without action",
            "check the SIM (data plan, PIN), the APN, AT+COPS=0 and the bands",
            "3GPP TS 27.007 10.1.22")


def tls_without_ca(session: Session) -> Iterator[Finding]:
    """``tls-no-ca``: a TLS connection attempted and no CA certificate stored in the log."""
    ca_seen = False
    for index, item in enumerate(session.decoded):
        if item.kind in ("information", "urc") and item.name == "%CMNG" and item.arg(1) == "0":
            ca_seen = True
        if item.kind != "command" or item.line.inline:
            continue
        if (item.name or "") in CA_COMMANDS:
            ca_seen = True
            continue
        if item.name == "+QSSLOPEN":
            continue  # the Quectel rules follow <seclevel> and "cacert" per context
        if (item.name or "") in CONNECT_COMMANDS and _is_tls(item) and not ca_seen:
            failed = _failed(session, index) or any(
                r.kind == "urc" and r.name and "ERROR" in r.name for r in session.replies(index))
            yield _finding(
                "tls-no-ca", "error" if failed else "warning", item.lineno,
                f"AT{item.name} starts a TLS connection but no CA certificate was stored in "
                "this log",
                "with server verification on, the module needs the root CA of the server's "
                "chain; without it every handshake fails",
                "store the server's root CA first (AT+QSECWRITE, AT%CMNG=0,<tag>,0,..., "
                "AT+SQNSNVW, AT+KCERTSTORE...) and point the TLS profile at it",
                "shared/seeds README (000, 001, 002)")


_CCLK = re.compile(r'"?(\d\d)/(\d\d)/(\d\d),(\d\d):(\d\d)')


def clock(session: Session) -> Iterator[Finding]:
    """``clock-unset``: the module's clock reads a default date (1970, 1980, 2000, 2004...)."""
    tls_later = False
    for item in reversed(session.decoded):
        if item.kind == "command" and (item.name or "") in CONNECT_COMMANDS:
            tls_later = True
        if item.kind not in ("information", "urc") or item.name != "+CCLK":
            continue
        found = _CCLK.search(item.text)
        if not found:
            continue
        year = int(found.group(1))
        now = datetime.now(UTC).year % 100
        if year in (70, 80, 0, 4) or year > now + 1 or year < 15:
            yield _finding(
                "clock-unset", "error" if tls_later else "warning", item.lineno,
                f"the module's clock reads 20{year:02d}/19{year:02d} ({found.group(0)}): it was "
                "never set",
                "certificate validity dates are checked against this clock: every server "
                "certificate looks not yet valid (or expired) and verification fails",
                "enable network time (AT+CTZU=1), use NTP, or set it with AT+CCLK=\"yy/MM/dd,"
                "hh:mm:ss+zz\" before connecting",
                "3GPP TS 27.007 8.15", related=())


_PEM = re.compile(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)


def certificates(session: Session) -> Iterator[Finding]:
    """``leaf-instead-of-root``, ``intermediate-ca``, ``cert-expired``: certificates pasted in the
    log (PEM), as far as they can be parsed."""
    text = "\n".join(line.text for line in session.lines)
    if "BEGIN CERTIFICATE" not in text:
        return
    try:
        from cryptography import x509
        from cryptography.x509.oid import ExtensionOID
    except ImportError:
        return
    offsets = []
    pos = 0
    for line in session.lines:
        offsets.append(pos)
        pos += len(line.text) + 1
    for found in _PEM.finditer(text):
        body = re.sub(r"[^A-Za-z0-9+/=]", "", found.group(1))
        pem = "-----BEGIN CERTIFICATE-----\n" + "\n".join(
            body[i : i + 64] for i in range(0, len(body), 64)) + "\n-----END CERTIFICATE-----\n"
        line_index = max(0, bisect.bisect_right(offsets, found.start()) - 1)
        lineno = session.lines[line_index].lineno if session.lines else 1
        try:
            cert = x509.load_pem_x509_certificate(pem.encode())
        except Exception:
            continue
        try:
            ca = bool(getattr(cert.extensions.get_extension_for_oid(
                ExtensionOID.BASIC_CONSTRAINTS).value, "ca", False))
        except x509.ExtensionNotFound:
            ca = False
        self_signed = cert.issuer == cert.subject
        subject = cert.subject.rfc4514_string()
        if not ca and not self_signed:
            yield _finding(
                "leaf-instead-of-root", "error", lineno,
                f"the certificate pasted here is a server (leaf) certificate ({subject}), "
                f"issued by {cert.issuer.rfc4514_string()}",
                "the module needs the root CA at the top of the server's chain as its trust "
                "anchor; a leaf certificate verifies nothing and changes at every renewal",
                "store the root CA that issued the chain (the top of the browser's "
                "certification path), not the site's own certificate",
                "RFC 5280 6.1; Digi XBee3 Cellular guide (TLS certificate rules)")
        elif ca and not self_signed:
            yield Finding(
                "intermediate-ca", "warning", lineno,
                f"the certificate pasted here is an intermediate CA ({subject})",
                "some modules (XBee 3 Cellular) only accept the self-signed root; others "
                "accept an intermediate as trust anchor, so this may or may not be the cause",
                "store the root CA at the top of the chain",
                "Digi XBee3 Cellular guide (TLS certificate rules)", confidence="medium")
        not_after = cert.not_valid_after_utc
        if not_after < datetime.now(UTC):
            yield _finding(
                "cert-expired", "info", lineno,
                f"the certificate {subject} expired on {not_after:%Y-%m-%d}",
                "a session after that date cannot verify a server with it",
                "use the root CA the server chains to today",
                "RFC 5280 4.1.2.5")


def signal(session: Session) -> Iterator[Finding]:
    """``weak-signal``: ``+CSQ`` below -103 dBm or unknown."""
    for item in session.decoded:
        if item.name != "+CSQ" or item.kind not in ("information", "urc"):
            continue
        rssi = parse_number(item.arg(0) or "")
        if rssi is None or not (rssi == 99 or 0 <= rssi <= 5):
            continue
        yield _finding(
            "weak-signal", "warning", item.lineno,
            "signal unknown (+CSQ 99)" if rssi == 99 else
            f"weak signal: +CSQ {rssi} = {-113 + 2 * rssi} dBm",
            "registration and data transfers fail or drop at such levels",
            "check the antenna and its connection, move the device, check the bands",
            "3GPP TS 27.007 8.5")


RULES: tuple[Rule, ...] = (
    typographic_characters,
    stray_quotes,
    parameter_values,
    unknown_commands,
    error_codes,
    network_state,
    tls_without_ca,
    clock,
    certificates,
    signal,
    *RULES_3GPP,
    *RULES_TLS,
)


def all_codes() -> Iterable[str]:
    """The generic rules' codes (documented in docs/doctor.md)."""
    return ("typographic-quote", "typographic-dash", "stray-quote", "param-out-of-range",
            "param-invalid", "unknown-command", "cme-error", "cms-error", "command-error",
            "not-registered", "no-pdp-context", "tls-no-ca", "clock-unset",
            "leaf-instead-of-root", "intermediate-ca", "cert-expired", "weak-signal",
            "upload-mismatch", "internal-error", "registration-denied",
            "registration-wrong-domain", "registration-searching", "cfun-unsupported",
            "radio-off", "sim-not-ready", "apn-rejected", "pdp-undefined-cid",
            "pdp-second-context", "no-ip-address", "missing-line-end", "escaped-line-end",
            "pem-one-line", "pem-key-format", "no-at-session", "no-known-cause",
            "module-rebooted", "cmee-mode-unsupported", "missing-comma", "pdp-dropped",
            "http-to-tls-port", "tls-cipher-mismatch")
