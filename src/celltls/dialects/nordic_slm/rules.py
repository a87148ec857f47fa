"""Diagnosis rules for the Nordic nRF91 Serial LTE Modem (seed 001).

Source: shared/reference/nordic-slm.md (NRF-REF), sections given per finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from celltls.dialects.nordic_slm import catalog as cat
from celltls.dialects.nordic_slm.catalog import ERRNO
from celltls.dialects.nordic_slm.cereg import decode_cereg
from celltls.doctor.model import Finding, Rule, Session, Severity

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


def cereg_notifications(session: Session) -> Iterator[Finding]:
    """``nordic-cereg``: every ``+CEREG`` line decoded field by field (stat, TAC, cell, AcT,
    cause, PSM active time T3324, periodic TAU T3412-ext); a denial (stat 3) or a UICC failure
    (stat 90) is an error; a line that repeats the state before it is not reported again.
    NRF-REF 4 (S6, S7)."""
    last: int | None = None
    for item in session.decoded:
        if item.kind not in ("urc", "information", "text") or \
                not item.line.text.lstrip().startswith("+CEREG:"):
            continue
        try:
            status = decode_cereg(item.line.text.strip())
        except ValueError:
            continue
        if status.stat == last:
            continue
        last = status.stat
        severity: Severity = "error" if status.stat in (3, 90) else "info"
        yield Finding(
            "nordic-cereg", severity, item.lineno, f"+CEREG: {status.describe()}",
            "the EPS registration state the modem reported; with AT+CEREG=5 each notification "
            "also carries the cell, the access technology, the reject cause and the PSM timers",
            "registration denied: check the SIM's subscription and the band/system mode "
            "(%XSYSTEMMODE, %XBANDLOCK); UICC failure: check the SIM and AT+CPIN"
            if severity == "error" else "nothing to do: for information",
            "NRF-REF 4 (+CEREG)", confidence="high")


#: Commands that use a sec_tag and where it is (0-based argument index), NRF-REF 6.2, 8.1;
#: ``<peer_verify>`` follows it (0 = no verification: no CA needed). G2's ``#XSOCKET`` has a
#: ``<cid>`` there, not a sec_tag (NRF-REF 6.2), so it is not listed.
_SEC_TAG_USERS = {"#XHTTPCCON": 3, "#XSSOCKET": 3}


def sec_tag_not_provisioned(session: Session) -> Iterator[Finding]:
    """``nordic-sec-tag-unprovisioned``: a sec_tag a TLS command uses, with no root CA (type 0)
    written (``AT%CMNG=0,<tag>,0``) nor listed/read (``%CMNG: <tag>,0,...``) anywhere in the log.
    A sec_tag without the server's root CA cannot verify the server (NRF-REF 5, 10; L1)."""
    provisioned: set[str] = set()
    for _index, item in session.commands("%CMNG"):
        if item.arg(0) == "0" and item.arg(2) == str(cat.TYPE_ROOT_CA):
            provisioned.add(item.arg(1) or "")
    for item in session.decoded:
        text = item.line.text.strip()
        if text.startswith("%CMNG:"):
            fields = [f.strip() for f in text.split(":", 1)[1].split(",")]
            if len(fields) >= 2 and fields[1] == str(cat.TYPE_ROOT_CA):
                provisioned.add(fields[0])
    for _index, item in session.commands(*_SEC_TAG_USERS):
        position = _SEC_TAG_USERS[item.name or ""]
        if item.arg(0) == "0" or (item.arg(position + 1) or "").strip() == "0":
            continue  # a disconnect or close names no sec_tag; peer_verify 0 needs no CA
        tag = (item.arg(position) or "").strip().strip('"')
        if not tag.isdigit() or tag in provisioned:
            continue
        yield Finding(
            "nordic-sec-tag-unprovisioned", "warning", item.lineno,
            f"AT{item.name} uses sec_tag {tag}, but no root CA certificate (%CMNG type 0) is "
            f"written to or listed under sec_tag {tag} in this log",
            "with peer verification the modem checks the server against the root CA stored "
            "under the sec_tag; an empty sec_tag makes every TLS connect fail",
            f"list the credentials (AT%CMNG=1,{tag}) and write the server's root CA with "
            f"AT+CFUN=4 then AT%CMNG=0,{tag},0,\"<PEM, LF line ends>\"",
            "NRF-REF 5, 10", confidence="medium")


def socket_connect(session: Session) -> Iterator[Finding]:
    """``nordic-connect-failed``: ``AT#XCONNECT`` answered ``ERROR`` on a socket opened with
    ``AT#XSSOCKET``: SLM prints no errno (a failed DNS, TCP connect or TLS handshake look the
    same, NRF-REF 6.2 ``do_connect``); the finding names the sec_tag, the peer verification and
    whether a TLS host name was set for it."""
    tag: str | None = None
    verify: str | None = None
    hostname: str | None = None
    for index, item in session.commands("#XSSOCKET", "#XSSOCKETOPT", "#XCONNECT"):
        if item.name == "#XSSOCKET" and item.arg(0) in ("1", "2"):
            tag, verify, hostname = item.arg(3), item.arg(4) or "2", None
            continue
        if item.name == "#XSSOCKETOPT" and item.arg(0) == "1" and item.arg(1) == "2":
            hostname = (item.arg(2) or "").strip('"')
            continue
        if item.name != "#XCONNECT" or tag is None:
            continue
        final = session.final(index)
        if final is None or final.success is not False:
            continue
        checks = [f"that sec_tag {tag} holds the root CA of the server's chain (AT%CMNG=1,{tag})"]
        if verify == "2" and hostname:
            checks.append(f"that the server's certificate is issued for {hostname!r} (set with "
                          "AT#XSSOCKETOPT=1,2: the modem checks it)")
        checks.append("the host, the port and the network (AT+CEREG?, AT+CGPADDR)")
        yield Finding(
            "nordic-connect-failed", "error", final.lineno,
            f"the TLS socket could not connect to {item.arg(0)} port {item.arg(1)} "
            f"(sec_tag {tag}, peer_verify {verify})",
            "SLM answers a failed #XCONNECT with a bare ERROR and writes the errno only to its "
            "device log: DNS, TCP and TLS failures look the same on the UART",
            "check " + "; ".join(checks) + "; celltls names the cause by probing the server "
            "from the host (probe_failures)",
            "NRF-REF 6.2, 3, 9", related=(item.lineno,), confidence="medium")


RULES: tuple[Rule, ...] = (httpc_connect, credentials_while_active, iccid_before_pin,
                           cereg_notifications, sec_tag_not_provisioned, socket_connect)
