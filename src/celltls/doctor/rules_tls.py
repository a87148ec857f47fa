"""Generic TLS rules: PEM format traps and the private-key formats pasted in a log.

Dialect rules add what depends on the module (versions, suites, verification switches, SNI); the
shared finding codes they use are listed in :data:`TLS_CODES` so that reports and tests agree.

Sources: RFC 7468 2-3 (PEM encapsulation: lines of 64 characters, labels), RFC 8017 A.1.2
(PKCS#1 RSAPrivateKey), RFC 5208 / RFC 5958 (PKCS#8), RFC 5915 (SEC1 EC private key).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from celltls.doctor.model import Finding, Session
from celltls.doctor.reader import Line

__all__ = ["RULES", "TLS_CODES", "client_certificate", "key_type", "line_column", "pem_format",
           "plaintext_to_tls"]

#: Finding codes shared by dialect TLS rules (each dialect's rule yields them with its facts).
TLS_CODES = (
    "tls-version-unsupported",  # the server needs a TLS version the module lacks
    "tls-cipher-mismatch",      # no common suite / key type (ECDSA server, RSA-only module)
    "tls-no-sni",               # SNI not enabled where the server needs it
    "tls-verify-off",           # server verification switched off (a "fix" that hides it)
    "tls-handshake-failed",     # the module's opaque handshake failure code (a symptom)
    "tls-cert-not-found",       # the profile names a certificate that was never stored
    "tls-wrong-context",        # settings made on one context, another one used
    "tls-client-cert-missing",  # a cloud IoT hub that requires mutual TLS, no client cert
    "pem-one-line",
    "pem-key-format",
)

_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_END = re.compile(r"-----END ([A-Z0-9 ]+)-----")
_KEYS = {
    "RSA PRIVATE KEY": ("PKCS#1 (RSA only)", "RFC 8017 A.1.2"),
    "PRIVATE KEY": ("PKCS#8 (unencrypted)", "RFC 5958"),
    "ENCRYPTED PRIVATE KEY": ("PKCS#8, encrypted with a password", "RFC 5958 3"),
    "EC PRIVATE KEY": ("SEC1 (EC only)", "RFC 5915"),
}


def _f(code: str, severity: str, line: int, message: str, why: str, fix: str, source: str,
       column: int | None = None, confidence: str = "high") -> Finding:
    return Finding(code, severity, line, message, why, fix, source,  # type: ignore[arg-type]
                   column, (), confidence)  # type: ignore[arg-type]


def pem_format(session: Session) -> Iterator[Finding]:
    """``pem-one-line`` (a PEM whose BEGIN, base64 and END share one line, or whose base64
    lines are longer than 64 characters) and ``pem-key-format`` (which private-key format was
    pasted: PKCS#1, PKCS#8, encrypted PKCS#8 or SEC1)."""
    for line in session.lines:
        text = line.text
        begin = _BEGIN.search(text)
        if begin is None:
            continue
        label = begin.group(1).strip()
        end = _END.search(text, begin.end())
        body = text[begin.end(): end.start() if end else len(text)]
        body = body.strip().strip('"').strip()
        if end is not None and len(re.sub(r"\s|\\n|\\r", "", body)) > 64 and \
                "\\n" not in body and "\\r" not in body:
            yield _f(
                "pem-one-line", "error", line.lineno,
                f"the {label} PEM is on one line ({len(body)} characters between BEGIN and "
                "END, no line breaks)",
                "PEM needs a line break after the BEGIN line, base64 lines of at most 64 "
                "characters and a line break before END; module parsers reject a one-line PEM "
                "(the certificate is refused or the handshake fails later)",
                "store the file as it came (lines of 64 characters, LF or CRLF line ends), "
                "counting every byte of the line ends in the declared size",
                "RFC 7468 2", line.column(begin.start()), confidence="medium")
        if label in _KEYS:
            what, source = _KEYS[label]
            yield _f(
                "pem-key-format", "info", line.lineno,
                f"the private key pasted here is {what} ('BEGIN {label}')",
                "modules accept only some key formats (several take only PKCS#1 RSA or only "
                "unencrypted keys, u-blox SARA-R4 takes no key password); an EC key only works "
                "with ECDSA suites the module has",
                "convert if the manual asks for another format: openssl pkcs8 -topk8 -nocrypt "
                "(to PKCS#8) or openssl rsa -traditional (to PKCS#1); never paste a real key "
                "in a public log", source, line.column(begin.start()))


_PLAIN_TO_TLS = re.compile(r"plain HTTP request was sent to HTTPS port", re.IGNORECASE)
_HTTP_443 = re.compile(r"http://[^\s\"/]+:(443|8443)\b", re.IGNORECASE)
_P384 = re.compile(r"\b(?:EC|ECC|ECDSA)[ -]?(?:P-?)?384(?:[ -]?bits?)?\b|secp384r1|\bP-384\b",
                   re.IGNORECASE)
_HANDSHAKE = re.compile(r"handshake|\b715\b|\b751\b", re.IGNORECASE)


def plaintext_to_tls(session: Session) -> Iterator[Finding]:
    """``http-to-tls-port``: plain HTTP sent where the server speaks TLS (the server's own
    '400 The plain HTTP request was sent to HTTPS port', or an http:// URL with port 443)."""
    for line in session.lines:
        if _PLAIN_TO_TLS.search(line.text):
            yield _f(
                "http-to-tls-port", "error", line.lineno,
                "the server answered 'The plain HTTP request was sent to HTTPS port': the "
                "request reached the TLS port without TLS",
                "the module's connection was a plain TCP one (SSL never enabled for it, or a "
                "plain client class used): the server sees cleartext HTTP",
                "enable TLS for this connection (the dialect's SSL switch or secure client, "
                "e.g. AT+CCHOPEN on SIMCom A76xx/SIM7600, AT+HTTPSSL=1 on SIM800/SIM7000), or "
                "use http:// and port 80 if the server allows it",
                "RFC 9110 4.2.2 (https URI scheme); the server's own error text")
            return
        found = _HTTP_443.search(line.text)
        if found:
            yield _f(
                "http-to-tls-port", "warning", line.lineno,
                f"http:// URL with port {found.group(1)}, a TLS port",
                "a plain HTTP request to a TLS port gets no answer or a 400 error",
                "use https:// (and the module's TLS settings) for this port",
                "RFC 9110 4.2.2", line.column(found.start()), confidence="medium")
            return


def key_type(session: Session) -> Iterator[Finding]:
    """``tls-cipher-mismatch``: the log says the server has a P-384 (EC 384-bit) key and the
    handshake failed; many modules' TLS stacks lack that curve."""
    p384 = next((line for line in session.lines if _P384.search(line.text)), None)
    if p384 is None:
        return
    failed = any(_HANDSHAKE.search(line.text) for line in session.lines)
    if not failed:
        return
    yield _f(
        "tls-cipher-mismatch", "error", p384.lineno,
        "the server's certificate key is EC P-384 and the handshake failed",
        "the module's TLS stack has no P-384 (secp384r1) support: it cannot verify the "
        "server's signature or agree on a key (SIMCom confirmed 'no EC384' for A7670, "
        "LilyGo-Modem-Series#75; several modules offer RSA and P-256 only)",
        "serve an RSA or P-256 certificate to these devices (a second certificate on the "
        "server, or a proxy), or do TLS on the host", "RFC 8422 5.1.1; RFC 5480 2.1.1.1",
        line_column(p384), confidence="medium")


def line_column(line: Line) -> int:
    """The 1-based column where a line's content starts."""
    return line.offset + 1


_IOT_HUB = re.compile(r"[\w.-]+(?:-ats\.iot\.[\w-]+\.amazonaws\.com|\.azure-devices\.net)",
                      re.IGNORECASE)
#: What configures a client certificate or key, per dialect (command, text in its arguments).
_CLIENT_CERT = (("+QSSLCFG", "clientcert"), ("+CSSLCFG", "clientcert"),
                ("+CSSLCFG", '"convert",1'), ("+USECPRF", ",5,"), ("+USECMNG", ",1,"),
                ("%CMNG", ",1,"), ("+KPRIVKSTORE", ""), ("+SQNSPCFG", ""), ("+SMSSL", ","),
                ("+CCERTDOWN", ""), ("+CASSLCFG", "cert"), ("+QSECWRITE", "cc"))


def client_certificate(session: Session) -> Iterator[Finding]:
    """``tls-client-cert-missing``: a connection to AWS IoT Core or Azure IoT Hub and no
    client certificate configured in the log (both hubs authenticate devices by X.509 client
    certificate on port 8883; the log may show only part of the set-up, hence low
    confidence)."""
    hub = next(((line, m) for line in session.lines
                if (m := _IOT_HUB.search(line.text)) and line.kind == "command"), None)
    if hub is None:
        return
    for _index, item in session.commands():
        for name, needle in _CLIENT_CERT:
            if item.name == name and needle.lower() in item.args_text.lower():
                return
    line, found = hub
    yield _f(
        "tls-client-cert-missing", "warning", line.lineno,
        f"{found.group(0)} authenticates devices with a client certificate, and the log "
        "configures none",
        "AWS IoT Core and Azure IoT Hub close the TLS handshake of a device that presents no "
        "client certificate (mutual TLS); the module then reports a generic connect error",
        "store the device certificate and its private key in the module and name them in the "
        "TLS profile next to the root CA (which for AWS is Amazon Root CA 1, not the device's "
        "certificate.pem.crt)",
        "AWS IoT Core developer guide, 'X.509 client certificates'; Azure IoT Hub, "
        "'Authenticate devices using X.509 CA certificates'", line.column(found.start()),
        confidence="low")


RULES = (pem_format, plaintext_to_tls, key_type, client_certificate)
