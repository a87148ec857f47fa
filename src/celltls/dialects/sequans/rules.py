"""Diagnosis rules for Sequans Monarch (seed 002: error 77 from certValidLevel 7).

Sources: shared/reference/sequans.md (SQN-REF) sections 5, 7, 8, 12; the seed thread
shared/seeds/002 (SQN-FORUM), where Sequans support quotes the manual's certValidLevel bits.
"""

from __future__ import annotations

from collections.abc import Iterator

from celltls.dialects.sequans.catalog import HTTP_RC
from celltls.dialects.spec import parse_number
from celltls.doctor.model import Finding, Rule, Session

SOURCE_LEVEL = ("Sequans Monarch AT Commands Reference Manual, AT+SQNSPCFG <certValidLevel> "
                "(quoted in SQN-FORUM); SQN-REF 5, 12")


def _level_problem(level: int) -> str | None:
    if level & 0b10:
        return "bit 1 is unused"
    if level & 0xF8:
        return "bits 3-7 are reserved"
    if level & 0b100 and not level & 0b1:
        return "bit 2 (host name check) needs bit 0 (root/date validation)"
    return None


def cert_valid_level(session: Session) -> Iterator[Finding]:
    """``sequans-certvalidlevel-invalid`` (bit field with unused/reserved bits),
    ``sequans-verification-off`` (level 0), ``sequans-http-error`` (<rc> ≠ 0),
    ``sequans-host-has-path``."""
    invalid_line = 0
    invalid_level = 0
    for item in session.decoded:
        if item.name != "+SQNSPCFG" or item.kind not in ("command", "information"):
            continue
        if item.kind == "command" and item.op != "write":
            continue
        param = item.param("certValidLevel")
        if param is None:
            continue
        level = parse_number(param.value, hexadecimal=True)
        if level is None:
            continue
        problem = _level_problem(level)
        if problem:
            if item.kind == "information" and invalid_line:
                continue  # the module's echo of a profile already flagged
            invalid_line, invalid_level = item.lineno, level
            yield Finding(
                "sequans-certvalidlevel-invalid", "error", item.lineno,
                f"certValidLevel {param.value} (0x{level:02X}) is not a valid value: {problem}. "
                "It is a bit field: bit 0 = validate the chain against the imported root and "
                "the validity period, bit 2 = also check the host name (only with bit 0); "
                "bit 1 is unused and bits 3-7 reserved",
                "the module accepts the profile with OK but the TLS validation fails at "
                "connect time (error 77 in the seed thread)",
                "use certValidLevel 1 (chain and dates), or 5 (chain, dates and host name): "
                "e.g. AT+SQNSPCFG=1,2,\"\",1,19",
                SOURCE_LEVEL, param.column)
        elif level == 0 and item.kind == "command":
            yield Finding(
                "sequans-verification-off", "warning", item.lineno,
                "certValidLevel 0: the server certificate is not validated",
                "the connection is encrypted but anyone can impersonate the server",
                "store the server's root CA with AT+SQNSNVW and use certValidLevel 1",
                SOURCE_LEVEL, param.column)
    for item in session.decoded:
        if item.kind == "command" and item.name == "+SQNHTTPCFG":
            host = item.param("server_address")
            if host is not None and "/" in host.value:
                yield Finding(
                    "sequans-host-has-path", "warning", item.lineno,
                    f"<server_address> {host.value!r} holds a path",
                    "the field takes a host name only; the name used for the TLS check and DNS "
                    "then contains the path and cannot match the certificate",
                    "put the host here (" + host.value.split("/", 1)[0] + ") and the path in "
                    "AT+SQNHTTPQRY/AT+SQNHTTPSND's <resource>",
                    "SQN-REF 7, 12 (pitfall 2)", host.column)
        if item.kind not in ("urc", "information") or item.name not in (
                "+SQNHTTPCONNECT", "+SQNHTTPSH"):
            continue
        rc = parse_number(item.arg(1) or "")
        if not rc:
            continue
        meaning = HTTP_RC.get(rc, "not in the CURLcode list")
        cause = ""
        if rc in (60, 77, 35) and invalid_line:
            cause = (f"; the security profile at line {invalid_line} has the invalid "
                     f"certValidLevel {invalid_level}, the cause found in the seed thread")
        elif rc in (60, 77):
            cause = ("; check the CA stored in the profile's caCertificateID slot, the "
                     "certValidLevel and the module's clock")
        yield Finding(
            "sequans-http-error", "error", item.lineno,
            f"HTTP profile {item.arg(0)} failed with {rc}: {meaning} (certificate validation "
            f"failure for 77){cause}" if rc == 77 else
            f"HTTP profile {item.arg(0)} failed with {rc}: {meaning}{cause}",
            "the HTTP client reports libcurl error numbers; the request was never sent",
            "fix the security profile (certValidLevel 1, correct CA slot) and connect again"
            if rc in (35, 60, 77) else "see the CURLcode meaning",
            "SQN-REF 8; curl include/curl/curl.h",
            related=(invalid_line,) if invalid_line else ())


RULES: tuple[Rule, ...] = (cert_valid_level,)
