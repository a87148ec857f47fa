"""Generic 3GPP rules: registration, ``+CFUN``, SIM state, PDP contexts, line endings.

Vendor-independent facts every module shares, applied to any dialect's log. Each rule is a
``rule(session) -> Iterator[Finding]`` (see :mod:`celltls.doctor.engine`).

Sources: 3GPP TS 27.007 7.2 (+CREG), 8.2 (+CFUN), 8.3 (+CPIN), 9.2 (+CME ERROR), 10.1.1
(+CGDCONT), 10.1.10 (+CGACT), 10.1.14 (+CGPADDR), 10.1.20 (+CGREG), 10.1.22 (+CEREG); 3GPP TS
24.301 9.9.3.9 and 24.008 10.5.5.14 (reject causes); 3GPP TS 23.401 5.3.2 (the LTE attach brings
up the default bearer); ITU-T V.250 5.2.1 (a command line ends with S3, CR).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from celltls.at.codes import REGISTERED, REGISTRATION_STATES
from celltls.dialects.spec import parse_number
from celltls.doctor.decode import Decoded
from celltls.doctor.model import Finding, Session
from celltls.doctor.tables import CFUN_LEVELS, REJECT_CAUSES, cme_code_from_text

__all__ = ["RULES", "cfun", "cmee_mode", "line_endings", "missing_comma", "pdp_contexts",
           "pdp_dropped", "reboots", "registration", "sim_state"]

S_REG = "3GPP TS 27.007 7.2, 10.1.20, 10.1.22"

#: Commands that need the network (a registered module with a PDP context), across dialects.
NEEDS_NETWORK = frozenset({
    "+QSSLOPEN", "+QIOPEN", "+QHTTPGET", "+QHTTPPOST", "+QMTOPEN", "+QIACT", "+CAOPEN",
    "+CCHOPEN", "+SHCONN", "+HTTPACTION", "+SMCONN", "+CNACT", "+UHTTPC", "+USOCO", "+UPSDA",
    "+CIPSTART", "+CIICR", "+SAPBR", "+NETOPEN", "+CGACT", "#XHTTPCCON", "#XCONNECT",
    "+SQNSD", "+SQNHTTPCONNECT", "+KCNXUP", "+KTCPCNX", "+KHTTPGET", "+CCHSTART",
})
#: Information-response prefixes that report a PDP context with an IP address.
PDP_EVIDENCE = {"+QIACT": 3, "+CNACT": 2, "+UUPSDA": 1, "+SAPBR": 2, "+CGPADDR": 1}
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,}")


def _f(code: str, severity: str, line: int, message: str, why: str, fix: str, source: str,
       column: int | None = None, related: tuple[int, ...] = (), confidence: str = "high",
       symptom: bool = False) -> Finding:
    return Finding(code, severity, line, message, why, fix, source,  # type: ignore[arg-type]
                   column, related, confidence, None, symptom)  # type: ignore[arg-type]


def _failed(session: Session, index: int) -> Decoded | None:
    final = session.final(index)
    return final if final is not None and final.success is False else None


def _cme(item: Decoded) -> int | None:
    if item.code is not None:
        return item.code
    if item.name == "+CME ERROR" and item.meaning:
        return cme_code_from_text(item.meaning)
    return None


def _stat(item: Decoded) -> tuple[str, int] | None:
    if item.kind not in ("information", "urc") or item.name not in ("+CREG", "+CGREG", "+CEREG"):
        return None
    param = item.param("stat")
    value = parse_number(param.value) if param is not None else None
    return (item.name, value) if value is not None else None


def _lte_evidence(session: Session) -> tuple[int, str] | None:
    """A line showing the module is on LTE (LTE-M, NB-IoT, LTE Cat x)."""
    for item in session.decoded:
        if item.kind not in ("information", "urc"):
            continue
        upper = item.text.upper()
        if item.name == "+COPS" and item.arg(3) in ("7", "8", "9"):
            return item.lineno, f"+COPS access technology {item.arg(3)} (E-UTRAN)"
        if item.name in ("+QNWINFO", "+CPSI", "+QCSQ") and any(
                k in upper for k in ("CAT-M", "CAT-NB", "LTE", "EMTC", "NB-IOT", "FDD", "TDD")):
            return item.lineno, item.text.strip()
        if item.name == "+CEREG" and item.arg(3) in ("7", "8", "9"):
            return item.lineno, "+CEREG access technology E-UTRAN"
    return None


def registration(session: Session) -> Iterator[Finding]:
    """``registration-denied``, ``registration-wrong-domain``, ``registration-searching``.

    Every ``<stat>`` of +CREG/+CGREG/+CEREG is decoded; a reject cause (``<n>`` 3 or 5) is
    named; a circuit-switched or GPRS status read on a module that attaches on LTE (where only
    +CEREG counts) is called out instead of being taken for "no network".
    """
    last: dict[str, tuple[int, int]] = {}
    for item in session.decoded:
        found = _stat(item)
        if found is None:
            continue
        name, stat = found
        last[name] = (stat, item.lineno)
        if stat == 3:
            cause = item.param("reject_cause")
            number = parse_number(cause.value) if cause is not None and cause.value else None
            named = (f"; reject cause {number}: {REJECT_CAUSES.get(number, 'vendor-specific')}"
                     if number is not None else "")
            yield _f(
                "registration-denied", "error", item.lineno,
                f"{name}: stat 3, registration denied by the network{named}",
                "the network refused the SIM or the device: nothing that follows can use data",
                "check the SIM's data plan and activation with the operator, the APN, and that "
                "the operator allows this device class (LTE-M / NB-IoT roaming is often not "
                "allowed); AT+CEREG=3 reports the reject cause",
                f"{S_REG}; 3GPP TS 24.301 9.9.3.9")
    if not last:
        return
    ps = [last[n] for n in ("+CEREG", "+CGREG") if n in last]
    counted = "+CEREG" if session.default_bearer else None
    lte = _lte_evidence(session)
    if lte is not None:
        counted = "+CEREG"
    for name in ("+CREG", "+CGREG"):
        if name not in last:
            continue
        stat, line = last[name]
        if stat in REGISTERED:
            continue
        eps = last.get("+CEREG")
        if eps is not None and eps[0] in REGISTERED:
            yield _f(
                "registration-wrong-domain", "info", line,
                f"{name} reads {stat} ({REGISTRATION_STATES.get(stat, '?')}) but +CEREG (line "
                f"{eps[1]}) reads {eps[0]}: the module is registered on LTE",
                f"on LTE-M/NB-IoT/LTE only the EPS status (+CEREG) counts; {name} describes "
                "the GSM/GPRS domain, which the module does not use",
                "read AT+CEREG? to know whether the module is registered", S_REG,
                related=(eps[1],))
        elif counted == "+CEREG" and eps is None:
            why = (f"line {lte[0]} shows an LTE network ({lte[1]})" if lte is not None
                   else f"{session.dialect} modules attach on LTE")
            yield _f(
                "registration-wrong-domain", "warning", line,
                f"{name} reads {stat} ({REGISTRATION_STATES.get(stat, '?')}) but the log never "
                "reads +CEREG, the status that counts here",
                f"{why}: {name} describes the GSM/GPRS domain and stays 0 or 4 on LTE-M and "
                "NB-IoT even when the module is attached",
                "query AT+CEREG? (and enable it with AT+CEREG=2) instead of AT+CREG?/AT+CGREG?",
                S_REG, confidence="medium")
    if ps and all(s not in REGISTERED for s, _ in ps) and not any(
            s in REGISTERED for s, _ in last.values()):
        stat, line = max(ps, key=lambda p: p[1])
        if stat == 2:
            yield _f(
                "registration-searching", "warning", line,
                "the last registration state is 2: not registered, still searching",
                "the module has found no network it may use yet; data cannot work until it "
                "registers (stat 1 or 5)",
                "wait longer (the first LTE-M/NB-IoT attach can take minutes); check antenna, "
                "bands (AT+QCFG=\"band\", AT+UBANDMASK, AT+CBANDCFG) and the RAT selection",
                S_REG, confidence="medium")


def cfun(session: Session) -> Iterator[Finding]:
    """``cfun-unsupported`` (a +CFUN level the model refuses) and ``radio-off`` (a network
    command while the module is at +CFUN 0 or 4)."""
    level: int | None = None
    level_line = 0
    for index, item in enumerate(session.decoded):
        if item.kind == "information" and item.name == "+CFUN":
            value = parse_number(item.arg(0) or "")
            if value is not None:
                level, level_line = value, item.lineno
            continue
        if item.kind != "command" or item.line.inline:
            continue
        name = item.name or ""
        if name == "+CFUN" and item.op == "write":
            value = parse_number(item.arg(0) or "")
            final = _failed(session, index)
            if value is None:
                continue
            if final is not None:
                meaning = CFUN_LEVELS.get(value, "a manufacturer-specific level")
                yield _f(
                    "cfun-unsupported", "error", item.lineno,
                    f"AT+CFUN={item.args_text} was refused ({final.name}): level {value} "
                    f"({meaning}) is not supported by this model or firmware",
                    "levels above 4 are manufacturer specific and differ between models "
                    "(SARA-R4 rejects 16, 19 and 127; SARA-R5 rejects 15, 19, 127)",
                    "use a level the model's manual lists: 1 (full), 0 or 4 (radio off); reboot "
                    "with the model's own level (AT+CFUN=15 on SARA-R4, 16 on SARA-R5, "
                    "AT+CFUN=1,1 on Quectel and SIMCom)",
                    "3GPP TS 27.007 8.2; shared/reference/ublox-sara.md S3.2 (L4, S3)",
                    related=(final.lineno,))
                continue
            level, level_line = value, item.lineno
            continue
        if name in NEEDS_NETWORK and level in (0, 4) and item.op in ("write", "execute"):
            yield _f(
                "radio-off", "error", item.lineno,
                f"AT{name} needs the network but the module was left at +CFUN {level} "
                f"({CFUN_LEVELS[level]}) at line {level_line}",
                "with the radio off the module cannot register nor activate a PDP context",
                "send AT+CFUN=1 and wait for registration (+CEREG: 1 or 5) first",
                "3GPP TS 27.007 8.2", related=(level_line,))
            level = None  # one finding per radio-off period


_SIM_BAD = {
    "SIM PIN": "the SIM waits for its PIN", "SIM PUK": "the SIM is blocked: it needs its PUK",
    "SIM PIN2": "the SIM waits for PIN2", "SIM PUK2": "the SIM needs PUK2",
    "PH-SIM PIN": "the device is locked to another SIM", "NOT INSERTED": "no SIM is seen",
    "NOT READY": "the SIM is not ready", "SIM NOT INSERTED": "no SIM is seen",
}
_SIM_CME = {10: "SIM not inserted", 11: "SIM PIN required", 12: "SIM PUK required",
            13: "SIM failure", 14: "SIM busy", 15: "SIM wrong", 16: "incorrect password",
            17: "SIM PIN2 required", 18: "SIM PUK2 required"}


def sim_state(session: Session) -> Iterator[Finding]:
    """``sim-not-ready``: ``+CPIN:`` other than READY, or a +CME ERROR 10-18, and nothing in
    the log that shows the SIM became ready afterwards."""
    pending: Finding | None = None
    for item in session.decoded:
        if item.kind in ("information", "urc") and item.name == "+CPIN":
            state = (item.arg(0) or "").strip().upper()
            if state == "READY":
                pending = None
            elif state in _SIM_BAD:
                pending = _f(
                    "sim-not-ready", "error", item.lineno,
                    f"+CPIN: {state}: {_SIM_BAD[state]}",
                    "without a ready SIM the module cannot register: every network command "
                    "fails (often as +CME ERROR 10, 11 or 13, or as 'operation not allowed')",
                    "insert the SIM firmly (contacts, orientation, holder), enter the PIN with "
                    "AT+CPIN=\"<pin>\" or remove the PIN lock on a phone; try another SIM",
                    "3GPP TS 27.007 8.3, 9.2")
        elif item.kind == "final" and item.name == "+CME ERROR":
            code = _cme(item)
            if code in _SIM_CME and pending is None:
                pending = _f(
                    "sim-not-ready", "error", item.lineno,
                    f"+CME ERROR {code}: {_SIM_CME[code]}",
                    "the SIM is missing, locked or faulty: the module cannot register",
                    "check the SIM card and its holder, enter the PIN (AT+CPIN), or try "
                    "another SIM", "3GPP TS 27.007 9.2")
        elif (item.kind == "information" and item.name in ("+CCID", "+ICCID", "+QCCID")) or (
                item.kind == "value" and item.command is not None
                and session.decoded[item.command].name == "+CIMI"):
            pending = None
    if pending is not None:
        yield pending


_APN_CAUSES = {126, 127, 128, 129, 130, 132, 133, 149}


def pdp_contexts(session: Session) -> Iterator[Finding]:
    """``apn-rejected``, ``pdp-undefined-cid``, ``pdp-second-context``, ``no-ip-address``."""
    defined: set[int] = set()
    active: set[int] = set()
    read_defined = False
    for index, item in enumerate(session.decoded):
        if item.kind == "information" and item.name == "+CGDCONT":
            cid = parse_number(item.arg(0) or "")
            if cid is not None:
                defined.add(cid)
                read_defined = True
            continue
        if item.kind == "information" and item.name == "+CGACT":
            cid = parse_number(item.arg(0) or "")
            if cid is not None and item.arg(1) == "1":
                active.add(cid)
            continue
        if item.kind == "information" and item.name in PDP_EVIDENCE:
            pos = PDP_EVIDENCE[item.name]
            address = item.arg(pos) if pos < len(item.params) else None
            if address is not None and address.strip('"') in ("0.0.0.0", "0:0:0:0:0:0:0:0", ""):
                yield _f(
                    "no-ip-address", "warning", item.lineno,
                    f"{item.name} shows no IP address ({item.text.strip()})",
                    "the PDP context is not active: sockets, DNS and TLS cannot work",
                    "activate the context (AT+CGACT=1,<cid> or the dialect's command) and check "
                    "the APN", "3GPP TS 27.007 10.1.14", confidence="medium")
            continue
        if item.kind != "command" or item.line.inline or item.op != "write":
            continue
        if item.name == "+CGDCONT":
            cid = parse_number(item.arg(0) or "")
            if cid is not None and _failed(session, index) is None:
                defined.add(cid)
            continue
        if item.name != "+CGACT" or item.arg(0) != "1":
            continue
        cid = parse_number(item.arg(1) or "") if len(item.params) > 1 else None
        final = _failed(session, index)
        if final is None:
            if cid is not None:
                active.add(cid)
            continue
        code = _cme(final)
        if code in _APN_CAUSES:
            apn = ""
            yield _f(
                "apn-rejected", "error", item.lineno,
                f"AT+CGACT=1{',' + str(cid) if cid is not None else ''} was refused: "
                f"+CME ERROR {code} ({session.decoder.cme(code)}){apn}",
                "the network refused to activate the PDP context: the APN (or its user name "
                "and password) is not the one this SIM's subscription uses",
                "set the APN the operator gives for this SIM (AT+CGDCONT=<cid>,\"IP\",\"<apn>\" "
                "and credentials with AT+CGAUTH), then activate again",
                "3GPP TS 27.007 9.2.2, 10.1.10", related=(final.lineno,))
        elif cid is not None and (defined or read_defined) and cid not in defined:
            yield _f(
                "pdp-undefined-cid", "error", item.lineno,
                f"AT+CGACT=1,{cid} activates context {cid}, which no +CGDCONT in the log "
                f"defines (defined: {sorted(defined)})",
                "a context must be defined (APN, PDP type) before it can be activated",
                f"define it first: AT+CGDCONT={cid},\"IP\",\"<apn>\"; or activate the cid you "
                "defined", "3GPP TS 27.007 10.1.1, 10.1.10", related=(final.lineno,))
        elif cid is not None and active - {cid}:
            yield _f(
                "pdp-second-context", "error", item.lineno,
                f"AT+CGACT=1,{cid} was refused while context(s) {sorted(active - {cid})} are "
                "already active",
                "many modules and networks allow one PDN connection per SIM (on LTE the default "
                "bearer already holds it); a second context is refused",
                "use the context that is already active (the LTE default bearer, usually cid 1 "
                "or 0) or deactivate it first", "3GPP TS 27.007 10.1.10; 3GPP TS 23.401 5.3.2",
                related=(final.lineno,), confidence="medium")


_TWO_COMMANDS = re.compile(r"(?<=[A-Za-z0-9?\"])(?:AT|at)[+#%&$][A-Za-z]")
_ESCAPED_EOL = re.compile(r"\\r\\n|\\n|\\r")


def line_endings(session: Session) -> Iterator[Finding]:
    """``missing-line-end``: two commands glued on one line (the first was never terminated);
    ``escaped-line-end``: a literal ``\\n`` typed inside a command's string (a certificate
    written with escapes reaches the module as backslash and n, not a line break)."""
    for _index, item in session.commands():
        text = item.line.text
        outside = re.sub(r'"[^"]*"', lambda m: " " * len(m.group(0)), text)
        glued = _TWO_COMMANDS.search(outside, 2)
        if glued is not None:
            yield _f(
                "missing-line-end", "warning", item.lineno,
                f"two commands on one line: {text[:glued.start()].strip()!r} is followed by "
                f"{text[glued.start():].strip()[:30]!r} with no line end between them",
                "a command runs only when the module receives CR (S3); without it the module "
                "reads both as one malformed command and answers ERROR, or waits",
                "end every command with \\r (the module's S3 character), or join them with ';' "
                "after the first 'AT'", "ITU-T V.250 5.2.1, 6.2.1",
                item.line.column(glued.start()), confidence="medium")
        escaped = None
        for found in re.finditer(r'"[^"]*"', text):
            inner = _ESCAPED_EOL.search(found.group(0))
            if inner is not None:
                escaped = found.start() + inner.start()
                break
        if escaped is not None and ("BEGIN" in text or "CERTIFICATE" in text or
                                    len(text) > 120):
            yield _f(
                "escaped-line-end", "error", item.lineno,
                "the string holds a literal backslash escape (\\n) where a line break belongs",
                "the module stores the two characters '\\' and 'n': the PEM has no line breaks "
                "and cannot be parsed, so the certificate is rejected or the handshake fails",
                "send real CR LF (or LF) bytes inside the string, or upload the file with the "
                "dialect's file command", "RFC 7468 2; ITU-T V.250 5.3",
                item.line.column(escaped))


#: Lines a module prints when it (re)starts, across vendors.
BOOT_MARKERS = frozenset({"RDY", "APP RDY", "SMS READY", "CALL READY", "+SYSSTART", "+KSUP",
                          "*ATREADY", "READY", "+CPIN: READY"})
#: Commands after which a restart is expected.
RESET_COMMANDS = frozenset({"+CFUN", "+CRESET", "+QPOWD", "#XRESET", "+KSRST", "+TRB",
                            "+SQNSSHDN", "+CPOF", "Z", "+QRST", "+CRST"})


def reboots(session: Session) -> Iterator[Finding]:
    """``module-rebooted``: a boot line (``RDY``, ``SMS Ready``, ``+SYSSTART``...) in the middle
    of a session that no reset command explains: the module restarted by itself."""
    last: Decoded | None = None
    for item in session.decoded:
        if item.kind == "command":
            last = item
            continue
        text = item.text.strip().upper()
        if text not in BOOT_MARKERS or text in ("READY", "+CPIN: READY") or last is None:
            continue
        name = last.name or ""
        if name in RESET_COMMANDS and not (name == "+CFUN" and last.op == "read"):
            continue
        yield _f(
            "module-rebooted", "error", item.lineno,
            f"the module restarted by itself: '{item.text.strip()}' after AT{name} "
            f"(line {last.lineno}), which does not reset it",
            "everything set before (PDP context, sockets, SSL settings, echo off) is gone; "
            "the commands that follow fail or see defaults. A restart without a reset command "
            "is usually a supply brown-out during a transmit burst, or a firmware crash",
            "power the module from a supply that holds its peak current (a battery or a "
            "2 A rail with bulk capacitance), then configure it again after RDY",
            "module boot indications (Quectel RDY, SIMCom SMS Ready, Sequans +SYSSTART, "
            "Sierra +KSUP); ITU-T V.250 6.1.1", related=(last.lineno,))
        return


def cmee_mode(session: Session) -> Iterator[Finding]:
    """``cmee-mode-unsupported``: AT+CMEE=<n> refused (some firmware takes only 1)."""
    for index, item in session.commands("+CMEE"):
        final = _failed(session, index)
        if item.op == "write" and final is not None:
            yield _f(
                "cmee-mode-unsupported", "warning", item.lineno,
                f"AT+CMEE={item.args_text} was refused: this firmware does not offer that "
                "error report format",
                "errors then stay a bare ERROR (or the format set before), which hides their "
                "reason in the rest of the log",
                "use AT+CMEE=1 (numeric codes; the nRF91 SLM accepts only 1) and look the "
                "numbers up", "3GPP TS 27.007 9.1; shared/reference/nordic-slm.md (L2)",
                related=(final.lineno,))


def missing_comma(session: Session) -> Iterator[Finding]:
    """``missing-comma``: a closing quote followed by a value with no comma between them
    (``AT+CSSLCFG="convert"2,"root.pem"``)."""
    for index, item in session.commands():
        args = item.args_text
        if not args or args.count('"') % 2:
            continue
        quoted = False
        for position, char in enumerate(args):
            if char == '"':
                quoted = not quoted
                if not quoted and position + 1 < len(args) and \
                        args[position + 1] not in ",; \t)":
                    final = _failed(session, index)
                    column = item.line.column(item.args_start + position + 1)
                    yield _f(
                        "missing-comma", "error" if final is not None else "warning",
                        item.lineno,
                        f"no comma after the string ending at column {column - 1}: "
                        f"{args[:position + 1]!r} runs into {args[position + 1:][:12]!r}",
                        "parameters are separated by commas; without it the module reads one "
                        "malformed parameter and answers ERROR",
                        "put a comma after the closing quote: AT" + (item.name or "") + "="
                        + args[:position + 1] + "," + args[position + 1:],
                        "ITU-T V.250 5.4.2 (compound values); 3GPP TS 27.007 4.1", column)
                    break


_DROPS = (("+CGEV: NW DEACT", "27.007 10.1.19"), ("+CGEV: NW PDN DEACT", "27.007 10.1.19"),
          ("+CGEV: ME PDN DEACT", "27.007 10.1.19"), ("+CGEV: ME DEACT", "27.007 10.1.19"),
          ("+CGEV: NW DETACH", "27.007 10.1.19"), ("+APP PDP: DEACTIVE", "simcom.md 3.1"),
          ("+UUPSDD", "ublox-sara.md 3.1"))


def pdp_dropped(session: Session) -> Iterator[Finding]:
    """``pdp-dropped``: the network (or the module) deactivated the PDP context during the
    session (+CGEV NW/ME DEACT, SIMCom +APP PDP ... DEACTIVE, u-blox +UUPSDD)."""
    for item in session.decoded:
        if item.kind not in ("urc", "information", "text"):
            continue
        upper = " ".join(item.text.upper().split())
        for marker, source in _DROPS:
            squeezed = upper.replace(" ", "")
            if upper.startswith(marker) or (marker.startswith("+APP PDP") and
                                            squeezed.startswith("+APPPDP:")
                                            and squeezed.endswith("DEACTIVE")):
                yield _f(
                    "pdp-dropped", "error", item.lineno,
                    f"the PDP context was deactivated: {item.text.strip()}",
                    "open sockets, TLS sessions and HTTP requests on it fail from here on; a "
                    "link that drops during a handshake looks like a TLS failure",
                    "re-activate the context (and re-open what was open); if it repeats, "
                    "check coverage (+CSQ/+CESQ), the data plan and the APN",
                    f"3GPP TS 27.007 10.1.19; shared/reference/{source}")
                return


RULES = (registration, cfun, sim_state, pdp_contexts, line_endings, reboots, cmee_mode,
         missing_comma, pdp_dropped)
