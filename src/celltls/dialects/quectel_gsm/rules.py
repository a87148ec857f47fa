"""Diagnosis rules for Quectel GSM modules (seed 004, the SSL application note).

Source: Quectel GSM SSL Application Note V3.3 (SSL-AN), sections given per finding; the
catalog's MISSPELLINGS for the note's own typos.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from celltls.dialects.quectel_gsm.catalog import (
    CATALOG,
    MAX_NVRAM_FILE,
    NVRAM_NAMES,
)
from celltls.dialects.spec import Param, parse_number
from celltls.doctor.model import Finding, Rule, Session


def _p(name: str, kind: str, description: str, **kw: object) -> Param:
    return Param(name, kind, description, **kw)  # type: ignore[arg-type]


RESPONSES = MappingProxyType({
    "+QSECWRITE:": (_p("uploadsize", "int", "bytes actually uploaded", unit="bytes"),
                    _p("checksum", "str", "checksum of the uploaded data")),
    "+QSECREAD:": (_p("good", "int", "file intact", values={0: "wrong (corrupted)",
                                                             1: "correct"}),
                   _p("checksum", "str", "checksum of the stored file")),
})


def misspellings(session: Session) -> Iterator[Finding]:
    """``quectel-misspelling``: the note's typos (``AT+QSSSEND``, ``"secllevel"``...)."""
    table = [(m.wrong.upper(), m) for m in CATALOG.misspellings]
    for index, item in session.commands():
        upper = item.text.upper()
        for wrong, entry in table:
            hit = ("AT" + wrong) in upper.replace(" ", "") if wrong.startswith("+") else \
                wrong in upper
            if not hit:
                continue
            consequence = ""
            if entry.right == '"seclevel"':
                consequence = (" Since the module rejects this line, <seclevel> keeps its "
                               "default 0: no server authentication at all.")
            column = upper.find(wrong.lstrip("+")) if not wrong.startswith("+") else 0
            final = session.final(index)
            yield Finding(
                "quectel-misspelling", "error", item.lineno,
                f"{entry.wrong} is a misspelling from the application note; the module's name "
                f"is {entry.right}.{consequence}",
                f"the module answers ERROR to the misspelled name ({entry.evidence})",
                f"write {entry.right}", f"SSL-AN ({entry.where})",
                item.line.column(max(column, 0)),
                related=(final.lineno,) if final is not None else ())


def uploads(session: Session) -> Iterator[Finding]:
    """``quectel-nvram-name``, ``quectel-file-too-big``, ``upload-mismatch`` (size, good=0,
    checksum differs from the one AT+QSECWRITE reported)."""
    written: dict[str, tuple[str, int]] = {}
    for index, item in session.commands("+QSECWRITE", "+QSECREAD"):
        name = item.arg(0) or ""
        if item.name == "+QSECWRITE" and item.op == "write":
            size = parse_number(item.arg(1) or "")
            if name.upper().startswith("NVRAM:"):
                base = name[6:]
                if base.upper() not in NVRAM_NAMES:
                    yield Finding(
                        "quectel-nvram-name", "error", item.lineno,
                        f"NVRAM file name {base!r} is not CA0, CC0 or CK0",
                        "NVRAM holds only those three files", "use NVRAM:CA0 for the root CA, "
                        "NVRAM:CC0 for the client certificate, NVRAM:CK0 for the key",
                        "SSL-AN 2.2.7", item.params[0].column)
                if size is not None and size > MAX_NVRAM_FILE:
                    yield Finding(
                        "quectel-file-too-big", "error", item.lineno,
                        f"{size} bytes is more than NVRAM's {MAX_NVRAM_FILE}-byte limit",
                        "the upload is refused", "store the file in RAM (RAM:<name>, up to "
                        "32768 bytes) or use a smaller certificate", "SSL-AN 2.2.7",
                        item.params[1].column)
            for reply in session.replies(index):
                if reply.name == "+QSECWRITE" and reply.params:
                    got = parse_number(reply.arg(0) or "")
                    checksum = reply.arg(1) or ""
                    written[name.upper()] = (checksum, reply.lineno)
                    if size is not None and got is not None and got != size:
                        yield Finding(
                            "upload-mismatch", "error", reply.lineno,
                            f"{got} bytes were uploaded to {name} but {size} were announced",
                            "the module returns to command mode after <timeout> or +++ with a "
                            "truncated file: the certificate is unusable",
                            "send exactly <filesize> bytes (the file as is) within <timeout>",
                            "SSL-AN 2.2.7", related=(item.lineno,))
        elif item.name == "+QSECREAD":
            for reply in session.replies(index):
                if reply.name != "+QSECREAD" or not reply.params:
                    continue
                good = reply.arg(0)
                checksum = reply.arg(1) or ""
                earlier = written.get(name.upper())
                if good == "0":
                    yield Finding(
                        "upload-mismatch", "error", reply.lineno,
                        f"AT+QSECREAD reports {name} as wrong (good=0)",
                        "the stored file no longer matches the checksum stored at upload",
                        "delete it (AT+QSECDEL) and upload it again", "SSL-AN 2.2.8")
                elif earlier and checksum and earlier[0] and checksum.lower() != \
                        earlier[0].lower():
                    yield Finding(
                        "upload-mismatch", "error", reply.lineno,
                        f"checksum {checksum} of {name} differs from {earlier[0]} reported at "
                        f"upload (line {earlier[1]})",
                        "the stored file is not the one uploaded",
                        "delete it (AT+QSECDEL) and upload it again", "SSL-AN 2.2.8",
                        related=(earlier[1],))


def ssl_contexts(session: Session) -> Iterator[Finding]:
    """``quectel-seclevel-no-cacert`` and ``quectel-sslopen-failed``."""
    seclevel: dict[str, int] = {}
    cacert: set[str] = set()
    open_lines: dict[str, int] = {}
    for index, item in session.commands("+QSSLCFG", "+QSSLOPEN"):
        if item.name == "+QSSLCFG" and item.selector and len(item.params) >= 3:
            ctx = item.arg(1) or ""
            final = session.final(index)
            if final is not None and not final.success:
                continue
            if item.selector == "seclevel":
                seclevel[ctx] = parse_number(item.arg(2) or "") or 0
            elif item.selector == "cacert":
                cacert.add(ctx)
        elif item.name == "+QSSLOPEN" and len(item.params) >= 2:
            ssid, ctx = item.arg(0) or "", item.arg(1) or ""
            open_lines[ssid] = item.lineno
            if seclevel.get(ctx, 0) >= 1 and ctx not in cacert:
                yield Finding(
                    "quectel-seclevel-no-cacert", "error", item.lineno,
                    f"SSL context {ctx} has seclevel {seclevel[ctx]} (server authentication) but "
                    "no \"cacert\" was configured for it",
                    "without a trusted root CA the module cannot verify the server: the "
                    "handshake fails (+QSSLOPEN: <ssid>,-1)",
                    f"upload the root CA (AT+QSECWRITE) and set AT+QSSLCFG=\"cacert\",{ctx},"
                    "\"RAM:<file>\" before opening", "SSL-AN 2.2.1 (NOTES)")
    for item in session.decoded:
        if item.name != "+QSSLOPEN" or item.kind not in ("urc", "information"):
            continue
        code = parse_number(item.arg(1) or "")
        if code is None or code == 0:
            continue
        ssid = item.arg(0) or ""
        causes = ("socket index already in use: close it (AT+QSSLCLOSE) or use another ssid"
                  if code == -2 else
                  "the PDP context is not active (AT+QIACT), the server is unreachable, no "
                  "common SSL version/cipher suite (these modules only do RSA key exchange up "
                  "to TLS 1.2), or server verification failed (wrong or missing cacert, RTC "
                  "time outside the certificate's validity unless ignorertc is 1)")
        yield Finding(
            "quectel-sslopen-failed", "error", item.lineno,
            f"opening SSL socket {ssid} failed with connect code {code}",
            causes, "check each cause in turn; AT+QSSLSTATE shows the stack state",
            "SSL-AN 2.2.2, 4.1",
            related=(open_lines[ssid],) if ssid in open_lines else ())


RULES: tuple[Rule, ...] = (misspellings, uploads, ssl_contexts)
