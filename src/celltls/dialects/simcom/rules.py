"""Diagnosis rules for SIMCom modules (SIM800, SIM7000/SIM7080, A76xx/SIM7600).

Sources: ``shared/reference/simcom.md`` (SIM-REF, with its S#/L# ids), the SIM800 AT manual and
SSL application note (SIM800-AT, SIM800-SSL), named per finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from celltls.dialects.simcom.catalog import (
    A76XX_HTTP_ERRORS,
    CAOPEN_RESULTS,
    CCH_ERRORS,
    SIM800_HTTP_ERRORS,
)
from celltls.dialects.spec import parse_number
from celltls.doctor.decode import Decoded
from celltls.doctor.model import Finding, Rule, Session
from celltls.doctor.reader import Line

REF = "shared/reference/simcom.md"
_SIM800 = re.compile(r"\bSIM8[0-9]{2}[A-Z]*\b", re.IGNORECASE)


def _f(code: str, severity: str, line: int, message: str, why: str, fix: str, source: str,
       column: int | None = None, related: tuple[int, ...] = (), confidence: str = "high",
       symptom: bool = False) -> Finding:
    return Finding(code, severity, line, message, why, fix, source,  # type: ignore[arg-type]
                   column, related, confidence, None, symptom)  # type: ignore[arg-type]


def _failed(session: Session, index: int) -> Decoded | None:
    final = session.final(index)
    return final if final is not None and final.success is False else None


def _names(item: Decoded) -> list[str]:
    return [p.value.strip().strip('"') for p in item.params]


def certificates(session: Session) -> Iterator[Finding]:
    """``simcom-not-converted`` (a file used by +SHSSL/+CASSLCFG/+SMSSL that was written but
    never converted with +CSSLCFG="convert"), ``simcom-unquoted-name`` (a file name sent
    without quotes), and ``tls-verify-off`` (+SHSSL with an empty CA, authmode 0)."""
    written: dict[str, int] = {}
    converted: set[str] = set()
    for index, item in session.commands():
        name = item.name or ""
        args = _names(item)
        failed = _failed(session, index)
        if name == "+CFSWFILE" and len(args) >= 2 and failed is None:
            written[args[1]] = item.lineno
        elif name == "+CSSLCFG" and (item.selector or "").lower() == "convert" and \
                failed is None:
            converted.update(a for a in args[2:4] if a)
        elif name == "+CSSLCFG" and (item.selector or "").lower() == "authmode" and \
                len(args) >= 3 and args[2] == "0":
            yield _f("tls-verify-off", "warning", item.lineno,
                     f"authmode 0 on SSL context {args[1]}: the server is not verified",
                     "any server is accepted; if this made a failing connection pass, the real "
                     "cause (CA, SNI, clock) is still there",
                     f"store the root CA (AT+CCERTDOWN) and set AT+CSSLCFG=\"cacert\",{args[1]},"
                     f"\"ca.pem\" and AT+CSSLCFG=\"authmode\",{args[1]},1", f"{REF} §5.2 (S1)")
        if name in ("+SHSSL", "+CASSLCFG", "+SMSSL"):
            raw = item.args_text
            bare = [p for p in item.params[1:] if p.raw.strip() and not p.raw.strip()
                    .startswith('"') and not p.raw.strip().lstrip("-").isdigit()
                    and "." in p.raw]
            if bare and failed is not None:
                yield _f("simcom-unquoted-name", "error", item.lineno,
                         f"AT{name}: the file name {bare[0].raw.strip()} is not quoted",
                         "string parameters must be in double quotes; the module answers ERROR",
                         f"quote it: AT{name}={raw.replace(bare[0].raw.strip(), chr(34) + bare[0].raw.strip() + chr(34))}",  # noqa: E501
                         f"{REF} §12 (L5); ITU-T V.250 5.3", bare[0].column,
                         related=(failed.lineno,))
            files = [a for a in args[1:] if a and "." in a]
            if name == "+CASSLCFG":
                files = [a for a in args[2:] if a and "." in a] if len(args) > 2 and \
                    args[1].upper() in ("CACERT", "CERT", "CLIENTCERT") else []
            for file in files:
                if file in written and file not in converted:
                    yield _f(
                        "simcom-not-converted", "error", item.lineno,
                        f"AT{name} uses {file!r}, written with AT+CFSWFILE at line "
                        f"{written[file]} but never converted",
                        "the SSL stack only sees certificates converted with "
                        "AT+CSSLCFG=\"convert\"; a raw file in /customer is not used",
                        f"AT+CSSLCFG=\"convert\",2,\"{file}\" (CA) or "
                        f"AT+CSSLCFG=\"convert\",1,\"<cert>\",\"<key>\" before AT{name}",
                        f"{REF} §4.1 (S3, S5, L3)", related=(written[file],))
            if name == "+SHSSL" and len(item.params) >= 2 and item.params[1].value == "" and \
                    item.params[1].raw.strip() == '""':
                yield _f("tls-verify-off", "warning", item.lineno,
                         "AT+SHSSL with an empty CA name: the HTTPS client does not verify the "
                         "server", "any server is accepted (SIM-REF §5.3)",
                         "convert the root CA and name it: AT+SHSSL=1,\"ca.pem\"",
                         f"{REF} §5.3 (S8, L3)")


def _https(session: Session) -> bool:
    return any("https://" in line.text.lower() for line in session.lines)


def _set(session: Session, selector: str) -> Decoded | None:
    for index, item in session.commands("+CSSLCFG"):
        if (item.selector or "").lower() == selector.lower() and _failed(session, index) is None:
            return item
    return None


def results(session: Session) -> Iterator[Finding]:
    """Result codes: +CAOPEN <result>, +HTTPACTION 6xx/7xx, +CCHOPEN <err>; the causes they
    name (``dns-failed``, ``pdp-not-active``, ``tls-cert-date``, ``tls-hostname-mismatch``),
    ``tls-no-sni`` and ``simcom-old-firmware`` for A76xx 715, ``tls-version-unsupported`` for
    SIM800 SSL (TLS 1.0 only), and ``tls-handshake-failed`` (symptom)."""
    sim800 = any(_SIM800.search(line.text) for line in session.lines) or any(
        True for _ in session.commands("+HTTPSSL", "+CIPSSL", "+SAPBR"))
    ssl800 = any(item.arg(0) == "1" for _, item in session.commands("+HTTPSSL", "+CIPSSL"))
    done: set[str] = set()
    for item in session.decoded:
        if item.kind not in ("information", "urc"):
            continue
        name = item.name or ""
        if name == "+CAOPEN" and len(item.params) >= 2:
            code = parse_number(item.arg(1) or "")
            if not code:
                continue
            meaning = CAOPEN_RESULTS.get(code, "not in the documented table")
            source = f"{REF} §9 (S1, S3)"
            if code == 20:
                yield _f("dns-failed", "error", item.lineno, f"+CAOPEN {code}: {meaning}",
                         "the host name was not resolved", "check the host name and DNS",
                         source)
            elif code == 21:
                yield _f("pdp-not-active", "error", item.lineno, f"+CAOPEN {code}: {meaning}",
                         "no application PDP context is active",
                         "AT+CNACT=0,1 and wait for +APP PDP: 0,ACTIVE", source)
            elif code in (24, 26):
                yield _f("tls-cert-date", "error", item.lineno, f"+CAOPEN {code}: {meaning}",
                         "the certificate's dates do not match the module's clock: either the "
                         "clock is unset (1980/2000) or the certificate expired",
                         "set the clock (AT+CLTS=1 then reboot, or AT+CNTP) or set "
                         "AT+CSSLCFG=\"ignorertctime\",<ctx>,1; renew an expired certificate",
                         source)
            elif code == 25:
                yield _f("tls-hostname-mismatch", "error", item.lineno,
                         f"+CAOPEN {code}: {meaning}",
                         "the server's certificate is not issued for the host name connected to",
                         "connect with the name in the certificate (not an IP address), and set "
                         "SNI (AT+CSSLCFG=\"sni\",<ctx>,\"<host>\")", source)
            else:
                yield _f("tls-handshake-failed" if code in (1, 27) else "simcom-error",
                         "error", item.lineno, f"+CAOPEN result {code}: {meaning}",
                         "the connection failed; SIMCom's manuals differ on some numbers "
                         "(SIM-REF §9: 11 is seen in the field but in no table)",
                         "check the CA conversion, +CASSLCFG of this connection and the network",
                         source, symptom=True)
        elif name == "+HTTPACTION" and len(item.params) >= 2:
            code = parse_number(item.arg(1) or "")
            if code is None or code < 600:
                continue
            if code in A76XX_HTTP_ERRORS and not (sim800 and code < 700):
                yield from _a76xx(session, item, code, done)
            else:
                yield from _sim800(session, item, code, ssl800)
        elif name in ("+CCHOPEN", "+CCHSTART") and item.params:
            code = parse_number((item.arg(1) if name == "+CCHOPEN" else item.arg(0)) or "")
            if not code:
                continue
            yield _f("tls-handshake-failed" if code == 15 else "simcom-error", "error",
                     item.lineno, f"{name} error {code}: "
                     f"{CCH_ERRORS.get(code, 'not documented in the sources read')}",
                     "the SSL session did not open", "check the SSL context bound with "
                     "AT+CCHSSLCFG (CA, sslversion, enableSNI) and the network",
                     f"{REF} §7, §9 (S1, S6, L8)", symptom=True)


def _a76xx(session: Session, item: Decoded, code: int, done: set[str]) -> Iterator[Finding]:
    meaning = A76XX_HTTP_ERRORS[code]
    source = f"{REF} §9 (S7: A76XX AT Command Manual V1.12 16.3)"
    if code == 713:
        yield _f("dns-failed", "error", item.lineno, f"+HTTPACTION {code}: {meaning}",
                 "the host name was not resolved", "check the URL's host and the PDP context",
                 source)
        return
    if code in (709, 717):
        yield _f("pdp-not-active", "error", item.lineno, f"+HTTPACTION {code}: {meaning}",
                 "no data connection", "AT+CGACT=1,1 and check AT+CGPADDR", source,
                 confidence="medium")
        return
    if code == 719:
        yield _f("tls-cert-not-found", "error", item.lineno, f"+HTTPACTION {code}: {meaning}",
                 "the SSL context names a CA that is not stored",
                 "AT+CCERTDOWN=\"ca.pem\",<len> then AT+CSSLCFG=\"cacert\",<ctx>,\"ca.pem\"",
                 source)
        return
    yield _f("tls-handshake-failed" if code in (715, 710) else "simcom-error", "error",
             item.lineno, f"+HTTPACTION {code}: {meaning}",
             "the module reports a failed TLS set-up with this one code", "see the cause "
             "findings; check sslversion, enableSNI and the firmware version", source,
             symptom=True)
    if code != 715 or "715" in done:
        return
    done.add("715")
    yield from _handshake_715(session, item.lineno, done)


#: A76xx builds known to fail TLS handshakes widely; a firmware update cured them
#: (SIM-REF §10: L7 V1.11.1 and LilyGo-Modem-Series#186 B12V02_220613 -> B01V01_240722).
GOOD_A76XX_BUILD = 240722
_BUILD = re.compile(r"A76\d\dM\d_B\d\dV\d\d_(\d{6})|A7670M7_V1\.11\.1")


def _a76xx_build(session: Session) -> tuple[int, str] | None:
    """The oldest A76xx firmware build date (yymmdd) an identification line shows."""
    found: list[tuple[int, str]] = []
    for line in session.lines:
        match = _BUILD.search(line.text)
        if match:
            date = int(match.group(1)) if match.group(1) else 200101
            found.append((date, match.group(0)))
    return min(found) if found else None


def _handshake_715(session: Session, line: int, done: set[str]) -> Iterator[Finding]:
    """The causes of an A76xx 715 the log can show: an old build, or SNI never enabled."""
    build = _a76xx_build(session)
    if build is not None and build[0] < GOOD_A76XX_BUILD:
        done.add("old")
        yield _f("simcom-old-firmware", "error", line,
                 f"TLS handshake failure (715) on firmware {build[1]}, a build known to fail "
                 "the handshake with many HTTPS servers",
                 "SIMCom/LilyGo cured 715 on these A7670/A7608 builds with a firmware update "
                 "(A7670M7_B01V01_240722 or later; SIM-REF §10: L7, L10, LilyGo-Modem-Series"
                 "#186)", "update the module firmware (LilyGo's update_fw guide), then retry; "
                 "AT+SIMCOMATI shows the build", f"{REF} §10, §13 (L7, L8, L10)",
                 confidence="medium")
        return
    configured = any(True for _ in session.commands("+CSSLCFG"))
    sni = _set(session, "enableSNI")
    if sni is None or sni.arg(2) != "1":
        yield _f("tls-no-sni", "warning", line,
                 "the HTTPS request failed in the handshake (715) and the log never enables "
                 "SNI",
                 "A76xx modules send no SNI unless AT+CSSLCFG=\"enableSNI\",<ctx>,1 is set "
                 "(off in the default context, SIM-REF §10, L9); servers behind a CDN or "
                 "shared host refuse a handshake without it",
                 "AT+CSSLCFG=\"enableSNI\",0,1 (the context HTTP uses) and retry",
                 f"{REF} §5.2, §10, §13 (L6, L9)",
                 confidence="medium" if configured else "low")


_PROSE_ERROR = re.compile(r"\berror(?: code)?\s*=?\s*(7\d\d)\b|HTTP status:\s*(6\d\d)\b",
                          re.IGNORECASE)


def prose_results(session: Session) -> Iterator[Finding]:
    """Result codes that only appear in what a host library printed ('error code = 715',
    'HTTP status: 603'): the same causes as the AT lines would give."""
    if any(item.name == "+HTTPACTION" and item.kind != "command" for item in session.decoded):
        return
    done: set[str] = set()
    for line in session.lines:
        found = _PROSE_ERROR.search(line.text)
        if not found:
            continue
        if found.group(1) == "715":
            yield from _handshake_715(session, line.lineno, done)
            return
        if found.group(2):
            yield from _https_not_enabled(session, line.lineno, int(found.group(2)))
            return


def _https_not_enabled(session: Session, line: int, code: int) -> Iterator[Finding]:
    https = [item for _, item in session.commands("+HTTPPARA")
             if "https://" in item.args_text.lower()]
    enabled = any(item.arg(0) == "1" for _, item in session.commands("+HTTPSSL"))
    if https and not enabled:
        yield _f("simcom-https-not-enabled", "error", https[0].lineno,
                 f"an https:// URL went through the HTTP client without AT+HTTPSSL=1; the "
                 f"request ended with {code}",
                 "on SIM800/SIM7000 the HTTP client does TLS only when AT+HTTPSSL=1 is set "
                 "after AT+HTTPINIT; otherwise it cannot reach an https:// URL",
                 "AT+HTTPSSL=1 after AT+HTTPINIT (on firmware that has it), or the SSL command "
                 "set of the module (SIM7000: AT+SHSSL/AT+SHCONN or AT+CASSLCFG)",
                 "SIM800-SSL 2.2; github.com/botletics/SIM7000-LTE-Shield/issues/84",
                 related=(line,))


def _sim800(session: Session, item: Decoded, code: int, ssl: bool) -> Iterator[Finding]:
    meaning = SIM800_HTTP_ERRORS.get(code, "module error")
    https = _https(session)
    if https and not ssl:
        yield from _https_not_enabled(session, item.lineno, code)
        return
    if ssl:
        yield _f("tls-version-unsupported", "error", item.lineno,
                 f"+HTTPACTION {code} ({meaning}) on an HTTPS request from a SIM800-family "
                 "module",
                 "the SIM800's SSL stack offers SSL 3.0/TLS 1.0 on most firmware; servers that "
                 "require TLS 1.2 end the handshake and the module reports it as 60x. A "
                 "firmware update (with TLS 1.2) is the fix found in such threads",
                 "update the SIM800 firmware to a build with TLS 1.2 (AT+CGMR shows it), or do "
                 "TLS on the host over a plain TCP socket (AT+CIPSTART), or use a TLS-capable "
                 "module", "SIM800-SSL 1.1; SIM800-AT AT+HTTPACTION", confidence="medium")
        return
    if code == 603:
        yield _f("dns-failed", "error", item.lineno, f"+HTTPACTION {code}: {meaning}",
                 "the host name was not resolved", "check the bearer (AT+SAPBR=2,1 shows its "
                 "IP) and the host name", "SIM800-AT AT+HTTPACTION", confidence="medium")
    elif code == 601:
        yield _f("pdp-not-active", "error", item.lineno, f"+HTTPACTION {code}: {meaning}",
                 "no bearer: the GPRS context is not open",
                 "AT+SAPBR=3,1,\"APN\",\"<apn>\" then AT+SAPBR=1,1 and AT+HTTPPARA=\"CID\",1",
                 "SIM800-AT AT+HTTPACTION", confidence="medium")
    else:
        yield _f("simcom-error", "error", item.lineno, f"+HTTPACTION {code}: {meaning}",
                 "the module's HTTP client failed", "check the bearer and the URL",
                 "SIM800-AT AT+HTTPACTION", symptom=True)


def ssl_support(session: Session) -> Iterator[Finding]:
    """``simcom-no-ssl-firmware``: the SIM800-family SSL switches (``AT+HTTPSSL``,
    ``AT+CIPSSL``) refused: the firmware build has no SSL (SIM800 R13.08 builds)."""
    for index, item in session.commands("+HTTPSSL", "+CIPSSL", "+SSLOPT"):
        final = _failed(session, index)
        if final is None or (item.op == "write" and item.arg(0) == "0"):
            continue
        test = item.op == "test"
        yield _f(
            "simcom-no-ssl-firmware", "error", item.lineno,
            f"AT{item.name}{'=?' if test else '=' + item.args_text} was refused: this "
            "firmware build has no " + ("SSL at all" if test else "SSL for this client"),
            "SIM800 R13.08 builds lack HTTPS/SSL; R14.18 builds have them (threads "
            "LilyGo-T-Call-SIM800#51, TinyGSM#235: upgrading the firmware brought SSL)",
            "read the build with AT+CGMR and flash a SIM800 firmware with SSL (R14.18), or "
            "do TLS on the host over a plain TCP connection",
            "SIM800-SSL 2.2, 2.4; github.com/vshymanskyy/TinyGSM/issues/235",
            related=(final.lineno,), confidence="high" if test else "medium")
        return


def cipstart(session: Session) -> Iterator[Finding]:
    """``simcom-cipstart-syntax``: AT+CIPSTART without its "TCP"/"UDP" field."""
    for index, item in session.commands("+CIPSTART"):
        args = _names(item)
        kinds = {"TCP", "UDP"}
        if not args or args[0].upper() in kinds or (len(args) > 1 and args[1].upper() in kinds):
            continue
        final = _failed(session, index)
        yield _f(
            "simcom-cipstart-syntax", "error" if final is not None else "warning",
            item.lineno,
            f"AT+CIPSTART={item.args_text} has no \"TCP\"/\"UDP\" field",
            "the SIM800 form is AT+CIPSTART=[<n>,]\"TCP\",\"<host>\",\"<port>\" (also with "
            "AT+CIPSSL=1 for TLS); without the mode the module answers an error",
            "AT+CIPSTART=" + (args[0] + ',"TCP",' if len(args) > 2 else '"TCP",')
            + ",".join(f'"{a}"' for a in args[-2:]), "SIM800-AT AT+CIPSTART; SIM800-SSL 3.4",
            related=(final.lineno,) if final is not None else ())


def harmless(session: Session) -> Iterator[Finding]:
    """``simcom-httpterm-harmless``: AT+HTTPTERM answered ERROR because HTTP was not started
    (a usual first step of scripts; SIM-REF §13, L6, L9)."""
    started = False
    for index, item in session.commands("+HTTPINIT", "+HTTPTERM"):
        if item.name == "+HTTPINIT":
            started = _failed(session, index) is None
        elif not started and _failed(session, index) is not None:
            yield _f("simcom-httpterm-harmless", "info", item.lineno,
                     "AT+HTTPTERM answered ERROR because the HTTP service was not started",
                     "harmless: scripts stop the service first in case it was left running",
                     "nothing to do", f"{REF} §13 (L6, L9)")


def score(lines: Sequence[Line]) -> int:
    """Extra detection evidence: SIMCom model names in identification lines."""
    return sum(4 for line in lines
               if re.search(r"\b(SIM7[0-9]{3}|SIM8[0-9]{2}|A76[0-9]{2}|SIMCOM)", line.text,
                            re.IGNORECASE))


RULES: tuple[Rule, ...] = (certificates, results, prose_results, ssl_support, cipstart, harmless)
