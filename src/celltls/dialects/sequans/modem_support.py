"""Pure helpers of the virtual Sequans Monarch modem (:mod:`celltls.dialects.sequans.modem`).

Written from ``shared/reference/sequans.md`` (SQN-REF; source ids S#/L# as used there), not
from the driver:

- :func:`nv_metadata`: the ``+SQNSNVR`` line of a stored certificate (SQN-REF §4, L4 shape);
- :func:`host_matches`: the ``certValidLevel`` bit 2 check of a server certificate against the
  host name (SQN-REF §5: "server URL verified against the certificate common name");
- :class:`ResponseReader`: the module's HTTP client reading a response, framed by
  Content-Length, chunked transfer coding or the end of the connection (RFC 9112 §6), the way
  the module's libcurl does before it reports ``+SQNHTTPRING`` (SQN-REF §7);
- :func:`parse_cipher_specs` and :func:`level_problem` for ``AT+SQNSPCFG`` (SQN-REF §5).

Everything here is computed from the standards named, independently of the host-side code.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = [
    "ResponseReader",
    "host_matches",
    "level_problem",
    "load_certificates",
    "load_private_key",
    "nv_metadata",
    "parse_cipher_specs",
]

_DN_SHORT = {
    NameOID.COUNTRY_NAME: "C", NameOID.STATE_OR_PROVINCE_NAME: "ST", NameOID.LOCALITY_NAME: "L",
    NameOID.ORGANIZATION_NAME: "O", NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COMMON_NAME: "CN",
}


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM text (one NV slot may hold several, SQN-REF §4, S2).

    CR characters are dropped first (SQN-REF §4: the manual counts no CR in ``<size>``).

    Raises:
        ValueError: no PEM certificate, or one that cannot be parsed.
    """
    certs = x509.load_pem_x509_certificates(data.replace(b"\r", b""))
    if not certs:
        raise ValueError("no certificate")
    return certs


def load_private_key(data: bytes) -> None:
    """Check that ``data`` is an unencrypted PEM private key (SQN-REF §4: password-protected
    keys are not supported, S2).

    Raises:
        ValueError: not a PEM private key, or an encrypted one.
    """
    try:
        serialization.load_pem_private_key(data.replace(b"\r", b""), password=None)
    except TypeError as exc:  # encrypted key and no password
        raise ValueError("password-protected keys are not supported") from exc


def _dn(name: x509.Name) -> str:
    """A distinguished name in the ``/O=.../CN=...`` form the module prints (L4)."""
    parts = []
    for attribute in name:
        key = _DN_SHORT.get(attribute.oid, attribute.oid.dotted_string)
        parts.append(f"/{key}={attribute.value!s}")
    return "".join(parts)


def _signature_name(cert: x509.Certificate) -> str:
    """``sha256RSA``/``sha256ECDSA`` (L4 shows ``sha256ECDSA``)."""
    digest = cert.signature_hash_algorithm
    key = "ECDSA" if isinstance(cert.signature_algorithm_parameters, ec.ECDSA) else "RSA"
    return f"{digest.name if digest is not None else ''}{key}"


def nv_metadata(data_type: str, index: int, data: bytes) -> str:
    """The ``+SQNSNVR:`` line of a filled NV slot (SQN-REF §4, L4 on a GM02S).

    Fields (names inferred in SQN-REF §4 from L4, not documented): type, index, issuer DN,
    serial number, subject DN, not-before, not-after (``yy/MM/dd HH:MM:SS``), signature
    algorithm, public key algorithm (our choice for the field L4 hides), ``"sha1"``, and the
    SHA-1 fingerprint of the first certificate's DER in lower-case hex. A private key is never
    printed: its line is ``"privatekey",<index>,<size>`` (our choice; SQN-REF §13: unknown).

    Args:
        data_type: ``"certificate"`` or ``"privatekey"``.
        index: the NV slot, 0-19.
        data: what was stored.
    """
    if data_type != "certificate":
        return f'+SQNSNVR: "{data_type}",{index},{len(data)}'
    cert = load_certificates(data)[0]
    der = cert.public_bytes(serialization.Encoding.DER)
    key = cert.public_key()
    key_name = type(key).__name__.lstrip("_").replace("PublicKey", "")
    fingerprint = hashlib.sha1(der, usedforsecurity=False).hexdigest()
    return (f'+SQNSNVR: "certificate",{index},"{_dn(cert.issuer)}",'
            f'"{cert.serial_number:X}","{_dn(cert.subject)}",'
            f'"{cert.not_valid_before_utc:%y/%m/%d %H:%M:%S}",'
            f'"{cert.not_valid_after_utc:%y/%m/%d %H:%M:%S}",'
            f'"{_signature_name(cert)}","{key_name}","sha1","{fingerprint}"')


def _dns_match(pattern: str, host: str) -> bool:
    """RFC 6125 §6.4.3: exact (case-insensitive), or ``*`` as the whole left-most label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern == host:
        return True
    if pattern.startswith("*.") and "." in host:
        return host.split(".", 1)[1] == pattern[2:] and bool(host.split(".", 1)[0])
    return False


def host_matches(der: bytes, host: str) -> tuple[bool, list[str]]:
    """Whether a server certificate names ``host`` (``certValidLevel`` bit 2, SQN-REF §5).

    The manual speaks of the common name; SAN matching is not documented (SQN-REF §9: unknown).
    Our choice is what libcurl does (RFC 6125): the subjectAltName DNS names (or IP addresses
    for an address), and the subject CN only when the certificate has no DNS name.

    Returns:
        ``(matches, names)``: the verdict and the names found in the certificate.
    """
    cert = x509.load_der_x509_certificate(der)
    dns: list[str] = []
    ips: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = list(san.get_values_for_type(x509.DNSName))
        ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    cns = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    names = dns + ips + [cn for cn in cns if cn not in dns]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(ip) == address for ip in ips) or (
            not ips and str(address) in cns), names
    candidates = dns if dns else cns
    return any(_dns_match(name, host) for name in candidates), names


def level_problem(level: int) -> str | None:
    """What is wrong in a ``certValidLevel`` bit field, or ``None`` (SQN-REF §5, SQN-FORUM).

    Bit 0: chain against the imported roots and validity period; bit 1: unused; bit 2: host
    name, only together with bit 0; bits 3-7: reserved.
    """
    if level & 0x02:
        return "bit 1 is unused"
    if level & 0xF8:
        return "bits 3-7 are reserved"
    if level & 0x04 and not level & 0x01:
        return "bit 2 needs bit 0"
    return None


def parse_cipher_specs(text: str) -> list[int]:
    """The IANA codes of a ``<cipherSpecs>`` list: ``"0xC02F;0xC030"`` (SQN-REF §5; ``0X``
    accepted as in the manual's example ``0XAE``); ``""`` gives ``[]`` (the default list).

    Raises:
        ValueError: an entry that is not a ``0x``-prefixed hexadecimal number of 1-4 digits.
    """
    codes: list[int] = []
    for entry in text.split(";") if text else []:
        entry = entry.strip()
        if not entry[:2].lower() == "0x" or not 3 <= len(entry) <= 6:
            raise ValueError(f"bad cipher suite {entry!r}")
        codes.append(int(entry[2:], 16))
    return codes


@dataclass
class ResponseReader:
    """An HTTP/1.1 response read from a connection, as the module's client reads it.

    Framing (RFC 9112 §6.3): no body for HEAD, 1xx, 204 and 304; else ``Transfer-Encoding:
    chunked``, else ``Content-Length``, else up to the end of the connection. Interim 1xx
    responses are skipped. :meth:`feed` returns ``True`` once the response is complete.

    Attributes:
        status: the status code (0 until the status line is in).
        content_type: the Content-Type header's value, ``""`` if absent.
        body: the body, transfer coding removed.
        error: a framing fault (the response is then complete and unusable).
    """

    head_request: bool = False
    status: int = 0
    content_type: str = ""
    body: bytearray = field(default_factory=bytearray)
    error: str = ""
    complete: bool = False
    _buf: bytearray = field(default_factory=bytearray)
    _state: str = "head"  # head, length, chunk-size, chunk-data, chunk-crlf, trailer, close
    _left: int = 0

    def feed(self, data: bytes) -> bool:
        """Take received bytes; ``True`` once the response is complete (or broken)."""
        self._buf += data
        while not self.complete and self._step():
            pass
        return self.complete

    def close(self) -> None:
        """The connection ended: complete when read-to-close, else a truncated response."""
        if self.complete:
            return
        if self._state == "close":
            self.complete = True
        else:
            self.error = f"connection closed in {self._state} ({len(self.body)} body bytes)"
            self.complete = True

    def _fail(self, reason: str) -> bool:
        self.error = reason
        self.complete = True
        return False

    def _step(self) -> bool:
        state = self._state
        if state == "head":
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = bytes(self._buf[:end]).decode("latin-1").split("\r\n")
            del self._buf[:end + 4]
            return self._head(head)
        if state == "length":
            take = bytes(self._buf[:self._left])
            del self._buf[:len(take)]
            self.body += take
            self._left -= len(take)
            if self._left == 0:
                self.complete = True
            return False
        if state == "close":
            self.body += self._buf
            self._buf.clear()
            return False
        if state in ("chunk-size", "trailer", "chunk-crlf"):
            end = self._buf.find(b"\r\n")
            if end < 0:
                return False
            line = bytes(self._buf[:end])
            del self._buf[:end + 2]
            if state == "chunk-crlf":
                if line:
                    return self._fail("chunk data not followed by CRLF")
                self._state = "chunk-size"
                return True
            if state == "trailer":
                if not line:
                    self.complete = True
                    return False
                return True
            size_text = line.split(b";", 1)[0].strip()
            try:
                self._left = int(size_text, 16)
            except ValueError:
                return self._fail(f"bad chunk size {size_text!r}")
            self._state = "trailer" if self._left == 0 else "chunk-data"
            return True
        # chunk-data
        take = bytes(self._buf[:self._left])
        del self._buf[:len(take)]
        self.body += take
        self._left -= len(take)
        if self._left == 0:
            self._state = "chunk-crlf"
            return True
        return False

    def _head(self, lines: list[str]) -> bool:
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            return self._fail(f"bad status line {lines[0]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                return self._fail(f"bad header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            return True  # interim response: the final one follows
        self.status = status
        self.content_type = headers.get("content-type", "")
        if self.head_request or status in (204, 304):
            self.complete = True
            return False
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._state = "chunk-size"
            return True
        if "content-length" in headers:
            try:
                self._left = int(headers["content-length"])
            except ValueError:
                return self._fail("bad Content-Length")
            self._state = "length"
            if self._left == 0:
                self.complete = True
                return False
            return True
        self._state = "close"
        return True
