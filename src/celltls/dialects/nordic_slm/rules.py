"""Diagnosis rules for the Nordic nRF91 Serial LTE Modem (seed 001).

Source: shared/reference/nordic-slm.md (NRF-REF), sections given per finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from celltls.dialects.nordic_slm.catalog import ERRNO
from celltls.doctor.model import Finding, Rule, Session

_ERRNO = re.compile(r"errno\s*[:=]?\s*-?(\d+)")


def httpc_connect(session: Session) -> Iterator[Finding]:
    """``nordic-httpccon-failed``: ``#XHTTPCCON: 0`` + ERROR; ``nordic-errno``: errno lines."""
    for index, item in session.commands("#XHTTPCCON"):
        if item.arg(0) not in ("1", "2"):
            continue
        failed = any(r.name == "#XHTTPCCON" and r.arg(0) == "0" for r in session.replies(index))
        final = session.final(index)
        if not failed and not (final is not None and final.success is False):
            continue
        tls = len(item.params) >= 4 and bool(item.params[3].value)
        yield Finding(
            "nordic-httpccon-failed", "error", (final or item).lineno,
            f"the SLM HTTP client could not connect to {item.arg(1)!r} port {item.arg(2)}"
            + (f" with TLS (sec_tag {item.params[3].value})" if tls else ""),
            "SLM prints no reason on the UART: the errno is only in the SLM device log (RTT or "
            "log UART); a failed DNS, TCP connect or TLS handshake all look the same here",
            "read the SLM log for 'errno'; check the command's quoting, that the sec_tag holds "
            "the server's root CA (AT%CMNG=1), that the network is registered, and that "
            "CONFIG_SLM_HTTPC=y",
            "NRF-REF 8.1, 3 (errno never printed on the UART)", related=(item.lineno,))
    for item in session.decoded:
        if item.kind not in ("text", "data") or "errno" not in item.text:
            continue
        found = _ERRNO.search(item.text)
        if not found:
            continue
        number = int(found.group(1))
        name, meaning = ERRNO.get(number, ("?", "not in the nRF errno table"))
        hint = ""
        if number == 114:
            hint = ("; SLM v1.5-1.6 tries IPv6 first, so on an IPv4-only PDN (\"IP\") this "
                    "first attempt always fails: harmless if the IPv4 attempt follows")
        elif number == 116:
            hint = ("; the server did not complete the TCP or TLS handshake in time: check the "
                    "command line (quoting), the host, the CA and the network")
        yield Finding(
            "nordic-errno", "warning" if number == 114 else "error", item.lineno,
            f"errno {number} is {name} ({meaning}) in nRF/newlib numbering{hint}",
            "SLM logs use newlib numbers, not Linux ones (Linux 114 is EALREADY, 116 ESTALE)",
            "look the number up in nrf_errno.h, not in a Linux table",
            "NRF-REF 9.1", found.start() + item.line.offset + 1)


def credentials_while_active(session: Session) -> Iterator[Finding]:
    """``nordic-cmng-while-active``: %CMNG write/delete after +CFUN=1/2/21 (CME 518)."""
    active = False
    for _index, item in session.commands():
        if item.name == "+CFUN" and item.op == "write":
            active = item.arg(0) in ("1", "2", "21")
        if item.name == "%CMNG" and item.arg(0) in ("0", "3") and active:
            yield Finding(
                "nordic-cmng-while-active", "warning", item.lineno,
                "AT%CMNG writes or deletes a credential while the modem is active (+CFUN 1/2/21)",
                "the modem refuses credential changes in that state with +CME ERROR: 518",
                "send AT+CFUN=4 (or 0) before AT%CMNG, then activate again",
                "NRF-REF 5, 14")


def iccid_before_pin(session: Session) -> Iterator[Finding]:
    """``nordic-iccid-before-pin``: AT%XICCID answered ERROR before the PIN was entered."""
    pin = False
    for index, item in session.commands():
        if item.name == "+CPIN":
            pin = True
        final = session.final(index)
        if item.name == "%XICCID" and not pin and final is not None and final.success is False:
            yield Finding(
                "nordic-iccid-before-pin", "info", final.lineno,
                "AT%XICCID returned ERROR before the SIM PIN was entered",
                "the modem cannot read the SIM until the PIN is given; not a fault",
                "enter AT+CPIN first", "NRF-REF 4, 14", related=(item.lineno,))


RULES: tuple[Rule, ...] = (httpc_connect, credentials_while_active, iccid_before_pin)
