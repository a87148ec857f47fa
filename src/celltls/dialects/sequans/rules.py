"""Diagnosis rules for Sequans Monarch (seed 002: error 77 from certValidLevel 7).

Sources: shared/reference/sequans.md (SQN-REF) sections 4, 5, 7, 8, 12; the seed thread
shared/seeds/002 (SQN-FORUM), where Sequans support quotes the manual's certValidLevel bits.
Rule codes: ``sequans-certvalidlevel-invalid``, ``sequans-verification-off``,
``sequans-ca-not-written``, ``sequans-host-has-path``, ``sequans-http-error``.
"""

from __future__ import annotations

from collections.abc import Iterator

from celltls.dialects.sequans.catalog import (
    CVL_VERIFY,
    HTTP_RC,
    cert_valid_level_problem,
    describe_cert_valid_level,
)
from celltls.dialects.spec import parse_number
from celltls.doctor.model import Finding, Rule, Session

SOURCE_LEVEL = ("Sequans Monarch AT Commands Reference Manual, AT+SQNSPCFG <certValidLevel> "
                "(quoted in SQN-FORUM); SQN-REF 5, 12")

#: Likely causes of each <rc> of +SQNHTTPCONNECT/+SQNHTTPSH (libcurl numbering, SQN-REF §8);
#: what a user can check first.
RC_CAUSES = {
    6: "the host name does not resolve through the PDP context's DNS: check the name, that "
       "SQNHTTPCFG's <server_address> holds a host only (no path), and the APN",
    7: "the server refused or cannot be reached on that port: check the port and the server",
    28: "the server did not answer in time: check reachability from the cellular network and "
        "<max_to_sec>",
    35: "the TLS handshake failed: TLS version or cipher suites (AT+SQNSPCFG <version>, "
        "<cipherSpecs>) the server does not accept",
    56: "the connection broke while receiving",
    58: "the client certificate or key (clientCertificateID/clientPrivateKeyID) is missing or "
        "unusable",
    59: "no cipher suite in common: widen <cipherSpecs> (\"\" = all)",
    60: "the server certificate was not accepted: wrong CA at caCertificateID, a host name "
        "not in the certificate (bit 2), or dates outside the module's clock",
    77: "the server certificate could not be validated with the security profile: an invalid "
        "certValidLevel (only 0, 1 and 5 are valid), no or the wrong root CA at "
        "caCertificateID, or the module's clock (unset = 1970)",
}


def _level_problem(level: int) -> str | None:
    return cert_valid_level_problem(level)


def cert_valid_level(session: Session) -> Iterator[Finding]:
    """``sequans-certvalidlevel-invalid`` (bit field with unused/reserved bits, or bit 2
    without bit 0, decoded bit by bit), ``sequans-verification-off`` (level 0),
    ``sequans-ca-not-written`` (a profile that validates against an NV index the log never
    wrote), ``sequans-http-error`` (<rc> ≠ 0, explained), ``sequans-host-has-path``."""
    invalid_line = 0
    invalid_level = 0
    written: dict[int, int] = {}  # NV index -> line of its last AT+SQNSNVW="certificate" write
    for item in session.decoded:
        if item.kind == "command" and item.name == "+SQNSNVW" and item.op == "write":
            kind = item.param("data_type")
            index = item.param("index")
            size = item.param("size")
            number = parse_number(index.value) if index is not None else None
            if kind is None or number is None or kind.value != "certificate":
                continue
            if size is not None and parse_number(size.value) == 0:
                written.pop(number, None)  # size 0 deletes (SQN-REF §4)
            else:
                written[number] = item.lineno
            continue
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
                f"certValidLevel {param.value} is not a valid value: "
                f"{describe_cert_valid_level(level & 0xFF)}; {problem}. "
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
                "store the server's root CA with AT+SQNSNVW and use certValidLevel 1 (or 5 "
                "to check the host name too)",
                SOURCE_LEVEL, param.column)
        ca = item.param("caCertificateID")
        ca_index = parse_number(ca.value) if ca is not None and ca.value else None
        if (item.kind == "command" and level & CVL_VERIFY and ca is not None
                and ca_index is not None and ca_index not in written):
            yield Finding(
                "sequans-ca-not-written", "warning", item.lineno,
                f"the profile validates against the CA at NV index {ca_index}, which this log "
                "never writes with AT+SQNSNVW=\"certificate\"," + str(ca_index) + ",<size>",
                "unless an earlier session stored the right root there, validation fails "
                "(error 77); modules ship only a few roots in low slots (L4: 0-3 and 19)",
                f"check the slot with AT+SQNSNVR=\"certificate\",{ca_index} (ERROR = empty) "
                "and store the server's root CA there",
                "SQN-REF 4, 12 (pitfalls 5, 8, 9)", ca.column, confidence="medium")
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
        elif rc in RC_CAUSES:
            cause = f"; likely: {RC_CAUSES[rc]}"
        yield Finding(
            "sequans-http-error", "error", item.lineno,
            f"HTTP profile {item.arg(0)} failed with {rc}: {meaning} (certificate validation "
            f"failure for 77){cause}" if rc == 77 else
            f"HTTP profile {item.arg(0)} failed with {rc}: {meaning}{cause}",
            "the HTTP client reports libcurl error numbers; the request was never sent",
            "fix the security profile (certValidLevel 1 or 5, correct CA slot) and connect "
            "again" if rc in (35, 60, 77) else "see the CURLcode meaning",
            "SQN-REF 8; curl include/curl/curl.h",
            related=(invalid_line,) if invalid_line else ())


RULES: tuple[Rule, ...] = (cert_valid_level,)
