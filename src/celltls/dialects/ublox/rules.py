"""Diagnosis rules for u-blox SARA-R4 / SARA-R5.

Source: ``shared/reference/ublox-sara.md`` (UBX-REF), sections and source ids per finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from celltls.dialects.spec import parse_number
from celltls.dialects.ublox.catalog import (
    LEGACY_SUITES,
    TLS_VERSIONS,
    VALIDATION_LEVELS,
)
from celltls.doctor.decode import Decoded
from celltls.doctor.model import Finding, Rule, Session
from celltls.doctor.reader import Line
from celltls.doctor.tables import cipher_name

REF = "shared/reference/ublox-sara.md"
_MODEL = re.compile(r"\b(SARA-?R4\d\d[A-Z]?(?:-0\dB)?|SARA-?R5\d\d[A-Z0-9]*|LARA-?R6\d*|"
                    r"SARA-?U2\d\d)", re.IGNORECASE)
TLS_PORTS = frozenset({"443", "8443", "8883", "5684", "993", "995", "465"})


def _f(code: str, severity: str, line: int, message: str, why: str, fix: str, source: str,
       column: int | None = None, related: tuple[int, ...] = (), confidence: str = "high",
       symptom: bool = False) -> Finding:
    return Finding(code, severity, line, message, why, fix, source,  # type: ignore[arg-type]
                   column, related, confidence, None, symptom)  # type: ignore[arg-type]


def _model(session: Session) -> str | None:
    for line in session.lines:
        found = _MODEL.search(line.text)
        if found:
            return found.group(1).upper().replace("SARA", "SARA-").replace("--", "-")
    return None


def _family(model: str | None) -> str | None:
    if model is None:
        return None
    if "R4" in model:
        return "R4"
    if "R5" in model:
        return "R5"
    return None


def _failed(session: Session, index: int) -> Decoded | None:
    final = session.final(index)
    return final if final is not None and final.success is False else None


def profiles(session: Session) -> Iterator[Finding]:
    """Security profiles (+USECPRF) and where they are used: ``tls-verify-off`` (level 0),
    ``tls-cert-not-found`` (op 3 names a CA never imported), ``ublox-cipher-form`` (cipher
    syntax of another model), ``tls-no-sni`` (a failed TLS connect with no op 10),
    ``ublox-tls-not-enabled`` (a socket to a TLS port without +USOSEC)."""
    model = _model(session)
    family = _family(model)
    settings: dict[int, dict[int, tuple[str, int]]] = {}
    imported: set[str] = set()
    listed = False
    secure: dict[int, int] = {}
    for index, item in enumerate(session.decoded):
        if item.kind == "text" and item.text.startswith('"CA"'):
            listed = True
            imported.add(item.text.split(",")[1].strip().strip('"') if "," in item.text
                         else "")
        if item.kind in ("information", "urc") and item.name == "+USECMNG" and \
                len(item.params) >= 3:
            imported.add(item.params[2].value)
        if item.kind != "command" or item.line.inline or item.op != "write":
            continue
        failed = _failed(session, index)
        name = item.name
        if name == "+USECMNG" and failed is None and item.arg(0) in ("0", "1") and \
                len(item.params) >= 3:
            imported.add(item.params[2].value)
        elif name == "+USECPRF" and failed is None and len(item.params) >= 3:
            profile = parse_number(item.arg(0) or "")
            op = parse_number(item.arg(1) or "")
            if profile is not None and op is not None:
                settings.setdefault(profile, {})[op] = (item.params[2].value, item.lineno)
            if op == 2:
                yield from _cipher(item, family, model, failed)
        elif name == "+USECPRF" and failed is not None and len(item.params) >= 2:
            op = parse_number(item.arg(1) or "")
            if op == 2:
                yield from _cipher(item, family, model, failed)
            elif op == 10:
                yield _f("tls-no-sni", "error", item.lineno,
                         "the module refused the SNI setting (op 10)",
                         f"{model or 'this module'} cannot send SNI: SARA-R410M-02B and "
                         "SARA-U201 lack it (UBX-REF §5, §10: S1 feature table, L2); servers "
                         "behind shared hosting or a CDN then refuse the handshake",
                         "use a module/firmware with SNI (SARA-R410M-03B, R412M, R422, R5), or "
                         "TLS on the host", f"{REF} §5, §10 (S1, L2)", related=(failed.lineno,))
        elif name == "+USOSEC" and failed is None and item.arg(1) == "1":
            socket = parse_number(item.arg(0) or "")
            profile = parse_number(item.arg(2) or "0") if len(item.params) > 2 else 0
            if socket is not None:
                secure[socket] = profile if profile is not None else 0
        elif name == "+USOCO" and len(item.params) >= 3:
            socket = parse_number(item.arg(0) or "")
            port = item.arg(2) or ""
            if socket is None:
                continue
            if socket not in secure and port in TLS_PORTS:
                yield _f(
                    "ublox-tls-not-enabled", "error" if failed else "warning", item.lineno,
                    f"socket {socket} connects to port {port} without AT+USOSEC={socket},1: "
                    "the connection is plain TCP",
                    "a TLS server on that port waits for a ClientHello; the module sends "
                    "nothing or the application's plaintext, and the server closes",
                    f"AT+USOSEC={socket},1,<profile> before AT+USOCO (with a profile that "
                    "holds the CA)", f"{REF} §6 (S1, S2, S6)", confidence="medium")
                continue
            if socket in secure and failed is not None:
                prof = settings.get(secure[socket], {})
                level = prof.get(0)
                if level is not None and level[0] in ("1", "2", "3") and 3 not in prof:
                    yield _f(
                        "tls-no-ca", "error", item.lineno,
                        f"the TLS connect of socket {socket} failed: security profile "
                        f"{secure[socket]} validates the server (level {level[0]}, line "
                        f"{level[1]}) but names no trusted root (op 3)",
                        "with validation on and no root CA the module cannot verify any "
                        "server; turning validation off (level 0) only hides this",
                        f"import the server's root CA (AT+USECMNG=0,0,\"<name>\",<size>) and "
                        f"set AT+USECPRF={secure[socket]},3,\"<name>\"",
                        f"{REF} §4, §5 (S1, S4)", related=(level[1],), confidence="medium")
                    continue
                if 10 not in prof:
                    yield _f(
                        "tls-no-sni", "warning", item.lineno,
                        f"the TLS connect of socket {socket} failed and security profile "
                        f"{secure[socket]} sets no SNI (op 10)",
                        "SARA modules send SNI only when op 10 is set (UBX-REF §5, §13); "
                        "servers behind a CDN or shared host refuse a handshake without it",
                        f"AT+USECPRF={secure[socket]},10,\"<host name>\"",
                        f"{REF} §5, §13 (S1)", confidence="low")
    for profile, ops in settings.items():
        level = ops.get(0)
        if level is not None and level[0] == "0":
            yield _f("tls-verify-off", "warning", level[1],
                     f"security profile {profile}: validation level 0 (no validation)",
                     "the server's certificate is not checked; any server is accepted",
                     f"import the root CA (AT+USECMNG=0,0,\"<name>\",<size>) and set "
                     f"AT+USECPRF={profile},3,\"<name>\" and AT+USECPRF={profile},0,1",
                     f"{REF} §5 (S1, S4)")
        if level is not None and level[0] == "3":
            yield _f("ublox-date-check", "info", level[1],
                     f"security profile {profile}: level 3 ({VALIDATION_LEVELS[3]})",
                     "the validity dates are checked against the module clock: an unset clock "
                     "(AT+CCLK? in 2000/2015/1980) fails every handshake",
                     "check AT+CCLK? first, or use level 2", f"{REF} §5, §13 (S4)")
        ca = ops.get(3)
        if ca is not None and (imported or listed) and ca[0] not in imported:
            yield _f("tls-cert-not-found", "error", ca[1],
                     f"security profile {profile} trusts {ca[0]!r}, which the log never "
                     f"imports or lists ({', '.join(sorted(n for n in imported if n)) or '-'})",
                     "the internal name must match the +USECMNG name exactly (case included)",
                     "import it (AT+USECMNG=0,0,\"<name>\",<size>) or fix the name; "
                     "AT+USECMNG=3 lists what is stored", f"{REF} §4, §5 (S1)")
        version = ops.get(1)
        number = parse_number(version[0]) if version else None
        if version is not None and number == 4 and family == "R4":
            yield _f("tls-version-unsupported", "error", version[1],
                     f"profile {profile}: minimum version {TLS_VERSIONS[4]} on {model}",
                     "no SARA-R4 source lists TLS 1.3", "use 3 (TLS 1.2)", f"{REF} §5, §10")


def _cipher(item: Decoded, family: str | None, model: str | None,
            failed: Decoded | None) -> Iterator[Finding]:
    value = parse_number(item.arg(2) or "")
    if value is None:
        return
    if value == 100 and family == "R4":
        yield _f("ublox-cipher-form", "error", item.lineno,
                 f"cipher list form 100 on {model}: only SARA-R5 takes cipher lists",
                 "SARA-R4 takes one legacy number (R410/R412) or the IANA form 99 (R422)",
                 "use AT+USECPRF=<p>,2,<legacy number> (0 = default list)",
                 f"{REF} §5, §13 (S1)", related=(failed.lineno,) if failed else ())
    elif value in LEGACY_SUITES:
        yield _f("ublox-cipher-legacy", "info", item.lineno,
                 f"legacy cipher number {value} = {cipher_name(LEGACY_SUITES[value])}",
                 "only this one suite will be offered: the server must support it",
                 "use 0 (the default list) unless the server needs exactly this suite",
                 f"{REF} §5 (S1)")


def results(session: Session) -> Iterator[Finding]:
    """``ublox-http-failed`` (+UUHTTPCR result 0, symptom), ``tls-cert-not-found``
    (+UHTTPER class 3 code 73), ``ublox-socket-error`` (+USOER after a failed +USOCO,
    symptom), ``ublox-psd-not-mapped`` (SARA-R5 internal clients without +UPSD/+UPSDA),
    ``ublox-command-not-on-model`` (+UPSND on SARA-R4)."""
    family = _family(_model(session))
    mapped = any(True for _ in session.commands("+UPSDA"))
    open_sockets: set[int] = set()
    for index, item in enumerate(session.decoded):
        name = item.name or ""
        if item.kind == "information" and name == "+USOCR":
            created = parse_number(item.arg(0) or "")
            if created is not None:
                open_sockets.add(created)
        elif item.kind == "command" and name == "+USOCL":
            closed = parse_number(item.arg(0) or "")
            open_sockets.discard(closed if closed is not None else -1)
        if item.kind in ("information", "urc") and name == "+UUHTTPCR" and \
                item.arg(2) == "0":
            yield _f("ublox-http-failed", "error", item.lineno,
                     f"the HTTP request of profile {item.arg(0)} failed (+UUHTTPCR result 0)",
                     "the module gives the reason only on request",
                     f"AT+UHTTPER={item.arg(0)} gives the error class and code",
                     f"{REF} §7 (S1, S3)", symptom=True)
            if family == "R5" and not mapped:
                yield _f("ublox-psd-not-mapped", "error", item.lineno,
                         "SARA-R5 internal clients (HTTP, MQTT, sockets) need the PSD profile "
                         "mapped and activated; the log never sends AT+UPSDA",
                         "AT+CGACT alone does not give the internal clients a context on R5 "
                         "(UBX-REF §3.1, §13: S1, S2)",
                         "AT+UPSD=0,100,1 then AT+UPSD=0,0,0 and AT+UPSDA=0,3 (wait for "
                         "+UUPSDA: 0,\"<ip>\")", f"{REF} §3.1 (S1, S2)", confidence="medium")
        elif item.kind in ("information", "urc") and name == "+UHTTPER" and \
                len(item.params) >= 3:
            if item.arg(1) == "10" and item.arg(2) == "22":
                inactive = next((d for d in session.decoded if d.kind == "information"
                                 and d.name == "+CGACT" and d.arg(1) == "0"), None)
                yield _f("pdp-not-active", "error", item.lineno,
                         "+UHTTPER class 10, code 22: the PDP (PSD) connection is not "
                         "established" + (f"; AT+CGACT? at line {inactive.lineno} shows "
                                          f"context {inactive.arg(0)} inactive"
                                          if inactive else ""),
                         "u-blox: 10/22 is only emitted when the PDP context is not active "
                         "(ubxlib#104); SARA-R422 may report registration while its internal "
                         "clients have no context (UBX-REF §3.1, S1)",
                         "AT+CGACT=1,<cid> (even if it looks active on R422), then for R5/R422 "
                         "map it: AT+UPSD=0,100,<cid> and AT+UPSDA=0,3",
                         f"{REF} §3.1, §7 (S1); github.com/u-blox/ubxlib/issues/104",
                         related=(inactive.lineno,) if inactive else ())
            elif item.arg(1) == "3" and item.arg(2) == "73":
                yield _f("tls-cert-not-found", "error", item.lineno,
                         "+UHTTPER class 3, code 73: the CA the HTTPS profile needs is missing",
                         "hosts read 3/73 as 'CA file required is missing' (UBX-REF §7, S7; "
                         "u-blox's table was not readable)",
                         "import the root CA (AT+USECMNG=0,0,\"<name>\",<size>), name it in the "
                         "security profile (op 3) and give that profile to AT+UHTTP=<p>,6,1,"
                         "<profile>", f"{REF} §7 (S7)", confidence="medium")
        elif item.kind == "command" and name == "+USOCR" and \
                _failed(session, index) is not None and open_sockets:
            yield _f("socket-in-use", "error", item.lineno,
                     f"AT+USOCR failed while socket(s) {sorted(open_sockets)} created earlier "
                     "in the log were never closed",
                     "the module has a fixed number of sockets (7 in ubxlib); sockets a host "
                     "program leaves open (a reset MCU, a missing AT+USOCL) stay in use",
                     "close every socket at start (AT+USOCL=<n> for 0-6; AT+USOCTL=<n>,10 shows "
                     "the TCP state) and after each use", f"{REF} §6 (S1, S2)",
                     confidence="medium")
        elif item.kind == "command" and name == "+UHTTPC" and item.arg(1) == "5" and \
                len(item.params) > 4 and len(item.params[4].value.encode()) > 128:
            yield _f("ublox-post-too-long", "error", item.lineno,
                     f"AT+UHTTPC POST data string of {len(item.params[4].value.encode())} "
                     "bytes: the limit is 128",
                     "the data string of a POST (command 5) must not exceed 128 bytes "
                     "(SARA-R4 AT commands manual UBX-17003787, +UHTTPC notes)",
                     "write the body to a file (AT+UDWNFILE) and POST the file (command 4)",
                     "SARA-R4 AT commands manual UBX-17003787 R09 21.3.4 (+UHTTPC notes)")
        elif item.kind == "command" and name == "+UPSND" and family == "R4" and \
                _failed(session, index) is not None:
            yield _f("ublox-command-not-on-model", "error", item.lineno,
                     "SARA-R4 has no AT+UPSND", "the command exists on SARA-R5/U2 only "
                     "(UBX-REF §3.1, L3)", "read the address with AT+CGPADDR instead",
                     f"{REF} §3.1 (L3)")
        elif item.kind in ("information", "urc") and name == "+USOER":
            code = parse_number(item.arg(0) or "")
            if code:
                yield _f("ublox-socket-error", "error", item.lineno,
                         f"last socket error {code}",
                         "u-blox socket errors are BSD-style errno values, but the numbering "
                         "table was not available (UBX-REF §9): do not read it as Linux's",
                         "check registration, the PDP context and the server; for TLS the "
                         "profile's CA and SNI", f"{REF} §6, §9 (L1)", symptom=True)


def score(lines: Sequence[Line]) -> int:
    """Extra detection evidence: u-blox model names."""
    return sum(4 for line in lines if _MODEL.search(line.text) or "u-blox" in line.text.lower())


RULES: tuple[Rule, ...] = (profiles, results)
