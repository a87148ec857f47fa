"""Diagnosis rules for Sierra Wireless AirPrime logs (seed 000 and its kind).

Sources: :mod:`celltls.dialects.sierra.catalog` (HL75-ATIG 11.7.5, 11.10.2; SEED-000).
Each rule indexes the log in one pass; URCs are also found inside prose, since pasted threads
quote them in sentences ("I receive an error code (+KCNX_IND: 1,2,7,2,30)").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from celltls.dialects.sierra import catalog as cat
from celltls.dialects.sierra.urcs import describe_kcnx_ind
from celltls.doctor.model import Finding, Rule, Session

RESPONSES = cat.RESPONSES
_KCNX = re.compile(r"\+KCNX_IND:\s*\d+(?:\s*,\s*-?\d+)+")
_NOTIF = re.compile(r"\+(KHTTP_ERROR|KTCP_NOTIF):\s*(\d+)\s*,\s*(\d+)")
_SRC = "HL75-ATIG 11.7.5, 11.10.2 (notification table); SEED-000"


def kcnx_ind(session: Session) -> Iterator[Finding]:
    """``sierra-kcnx-failed``: ``+KCNX_IND`` with status 0 or 2, decoded field by field."""
    seen: set[str] = set()
    for item in session.decoded:
        for found in _KCNX.finditer(item.line.raw):
            text = re.sub(r"\s+", " ", found.group(0))
            status = text.split(",")[1].strip()
            if status not in ("0", "2") or text in seen:
                continue
            seen.add(text)
            yield Finding(
                "sierra-kcnx-failed", "error", item.lineno,
                f"{text}: {describe_kcnx_ind(text)}",
                "the PDP connection did not come up, so no HTTP or TCP session can work",
                "check the APN given to AT+KCNXCFG (user and password only if the operator "
                "needs them), registration (AT+CEREG? 1 or 5), the signal (AT+CSQ), the SIM's "
                "data plan, and that no other host connection (a PC's cellular manager) holds "
                "the PDP context; AT+CGPADDR shows the address once up",
                "HL75-ATIG 11.7.5; SEED-000", found.start() + 1)


def notifications(session: Session) -> Iterator[Finding]:
    """``sierra-khttp-error``/``sierra-ktcp-notif``; ``sierra-missing-eof-pattern`` (code 6
    after a data phase); ``sierra-https-no-ca`` (code 5 with no ``AT+KCERTSTORE`` before)."""
    certstored = False
    connect_open: int | None = None
    reported: set[tuple[str, int]] = set()
    for item in session.decoded:
        upper = item.text.upper()
        if "KCERTSTORE" in upper and "AT+KCERTSTORE" in upper:
            certstored = True
        if item.kind == "command" and (item.name or "") in ("+KHTTPHEADER", "+KHTTPPOST",
                                                            "+KTCPSND"):
            connect_open = item.lineno
        for found in _NOTIF.finditer(item.line.raw):
            kind, _sid, code_text = found.groups()
            code = int(code_text)
            key = (f"{kind}{code}", 0 if kind == "KHTTP_ERROR" else item.lineno)
            if key in reported:
                continue
            reported.add(key)
            meaning = cat.NOTIF.get(code, "not in the notification table")
            column = found.start() + 1
            if code == 6 and kind == "KHTTP_ERROR":
                yield Finding(
                    "sierra-missing-eof-pattern", "error", item.lineno,
                    f"{found.group(0)}: {meaning}; the data phase after CONNECT "
                    "(AT+KHTTPHEADER / AT+KHTTPPOST) was never closed with the EOF pattern",
                    "after CONNECT the module takes every byte as data until it sees the "
                    "end-of-data pattern (AT+KPATTERN, default --EOF--Pattern--); without it "
                    "the phase times out with +KHTTP_ERROR: <id>,6",
                    "send the header lines (each ended by CR LF) and then --EOF--Pattern-- "
                    "(or the pattern set with AT+KPATTERN); celltls does this for you",
                    _SRC, column,
                    related=(connect_open,) if connect_open else ())
            elif code == 5:
                no_ca = not certstored
                yield Finding(
                    "sierra-https-no-ca" if no_ca else f"sierra-{kind.lower().replace('_', '-')}",
                    "error", item.lineno, f"{found.group(0)}: {meaning}",
                    "an HTTPS session verifies the server against the root CA stored in the "
                    "module; with none stored (no AT+KCERTSTORE in this log) every TLS "
                    "handshake fails" if no_ca else "the TCP or TLS connection failed",
                    "store the server's root CA: AT+KCERTSTORE=0 then the PEM file (RC76xx: "
                    "end it with +++; HL78xx: AT+KCERTSTORE=0,<size> and the EOF pattern), "
                    "then AT+KHTTPCFG with <secure> 1",
                    _SRC, column)
            else:
                yield Finding(
                    f"sierra-{kind.lower().replace('_', '-')}", "error", item.lineno,
                    f"{found.group(0)}: {meaning}", "the session reported an error",
                    "see the notification's meaning", _SRC, column)


def long_uri(session: Session) -> Iterator[Finding]:
    """``sierra-uri-too-long``: ``AT+KHTTPGET`` with a long URI answered ``+CME ERROR: 3``."""
    for index, item in session.commands("+KHTTPGET", "+KHTTPPOST", "+KHTTPHEAD"):
        final = session.final(index)
        uri_length = max((len(p.value) for p in item.params[1:]), default=0)
        if final is not None and "+CME ERROR: 3" in final.text and uri_length > 98:
            yield Finding(
                "sierra-uri-too-long", "error", final.lineno,
                f"AT{item.name} with a {uri_length}-character URI was refused (+CME ERROR: 3)",
                "the RC7620's HTTP client takes short URIs only: about 98 characters work, "
                "255 do not (SEED-000)",
                "shorten the URI (move parameters into a POST body) or open a TLS socket and "
                "speak HTTP over it", "SEED-000", related=(item.lineno,))


RULES: tuple[Rule, ...] = (kcnx_ind, notifications, long_uri)
