"""``celltls probe``: can my module talk to this server? Asked from the host, before the first try.

A scan from the host's network with Python's :mod:`ssl` (one short handshake per question, no
verification, no data sent): the protocol versions the server accepts, which of the cipher
suites modules speak it accepts on TLS 1.2 (with their key exchange), the TLS 1.3 suite it
picks, its certificate chain (key types and sizes, signature algorithms, total size, validity),
whether it needs SNI, and the root CA that anchors the chain (from a CA file or certifi's
roots). With a dialect (and model) the result is compared with that module's
:class:`~celltls.tls.Capabilities` from its catalog, and a verdict is given per path: the
module's own TLS, and TLS on the host over the module's plain TCP (:mod:`celltls.hosttls`).

The chain: TLS 1.2 sends the Certificate message in the clear, so it is read from the bytes
the server sent (RFC 5246 7.4.2) through :class:`ssl.MemoryBIO`; a TLS 1.3-only server
encrypts it (RFC 8446 4.4.2), and Python before 3.13 gives only the leaf then.

Why not sslyze: it brings its own OpenSSL builds (nassl) and a dependency tree larger than
celltls for what is here a few dozen handshakes with the module's handful of suites; the
stdlib's ssl with the host's OpenSSL answers every question the verdict needs.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from celltls.errors import CellTLSError, NetworkError
from celltls.modem import parse_https_url
from celltls.tls import (
    CIPHER_SUITE_NAMES,
    OPENSSL_CIPHER_NAMES,
    Capabilities,
    Certificate,
    TlsVersion,
)

_SSL_VERSIONS = {
    TlsVersion.SSL3_0: ssl.TLSVersion.SSLv3,
    TlsVersion.TLS1_0: ssl.TLSVersion.TLSv1,
    TlsVersion.TLS1_1: ssl.TLSVersion.TLSv1_1,
    TlsVersion.TLS1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLS1_3: ssl.TLSVersion.TLSv1_3,
}
#: Versions scanned, oldest first (SSL 3.0 is not: no OpenSSL 3 can offer it).
SCANNED_VERSIONS = (TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2, TlsVersion.TLS1_3)


class ProbeError(CellTLSError):
    """The probe could not run: the name does not resolve, nothing answers, no TLS at all, or
    an unreadable CA file (exit status 2 of ``celltls probe``)."""

    exit_code = 2


@dataclass(frozen=True)
class ChainEntry:
    """One certificate the server sent.

    Attributes:
        subject, issuer: RFC 4514 names.
        key: the public key, e.g. ``"RSA 2048"``, ``"EC secp256r1"``, ``"Ed25519"``.
        signature: the signature algorithm, e.g. ``"sha256WithRSAEncryption"``.
        not_before, not_after: validity (UTC).
        size: DER bytes.
        pem: the certificate, PEM.
    """

    subject: str
    issuer: str
    key: str
    signature: str
    not_before: datetime
    not_after: datetime
    size: int
    pem: bytes = field(repr=False)

    @classmethod
    def from_der(cls, der: bytes) -> ChainEntry:
        """Describe one DER certificate (ValueError when it cannot be parsed)."""
        cert = x509.load_der_x509_certificate(der)
        return cls(
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            key=describe_key(cert.public_key()),
            signature=getattr(cert.signature_algorithm_oid, "_name",
                              cert.signature_algorithm_oid.dotted_string),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            size=len(der),
            pem=cert.public_bytes(serialization.Encoding.PEM),
        )

    def valid_at(self, when: datetime) -> bool:
        """Whether ``when`` lies in the validity period."""
        return self.not_before <= when <= self.not_after


def describe_key(key: object) -> str:
    """``"RSA 2048"``, ``"EC secp256r1"``, ``"Ed25519"``... for a public key."""
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA {key.key_size}"
    return type(key).__name__


def key_exchange(openssl_name: str) -> str:
    """The key exchange and authentication of a TLS 1.2 suite by its OpenSSL name
    (``"ECDHE-RSA"``, ``"RSA"``...)."""
    for prefix in ("ECDHE-ECDSA", "ECDHE-RSA", "DHE-RSA"):
        if openssl_name.startswith(prefix):
            return prefix
    return "RSA"


@dataclass
class ServerReport:
    """What the host learned about a TLS server.

    Attributes:
        host, port: the server.
        address: the address the host connected to.
        versions: per scanned version, whether the server accepted it (``None``: the host's
            OpenSSL cannot offer it, so unknown).
        suites: TLS 1.2 suites accepted, IANA code -> OpenSSL name (of those modules speak).
        suites_tested: TLS 1.2 suites tried (IANA codes).
        negotiated: version and suite an unrestricted client got.
        tls13_suite: the TLS 1.3 suite the server picked, when it speaks TLS 1.3.
        chain: the certificates the server sent, leaf first.
        chain_complete: whether the whole chain was seen (not only the leaf).
        sni_required: the handshake fails (or gives another certificate) without SNI;
            ``None`` when the host is an IP address (no SNI is sent to those).
        anchor: the root CA that anchors the chain, from ``anchor_source``.
        anchor_source: ``"--ca FILE"`` or ``"certifi"``.
        verify_error: why the chain does not verify against the anchor store ("" when it
            does), host name included.
        alpn: the ALPN protocol chosen for ``http/1.1`` offered.
    """

    host: str
    port: int
    address: str = ""
    versions: dict[TlsVersion, bool | None] = field(default_factory=dict)
    suites: dict[int, str] = field(default_factory=dict)
    suites_tested: tuple[int, ...] = ()
    negotiated: str = ""
    tls13_suite: str = ""
    chain: list[ChainEntry] = field(default_factory=list)
    chain_complete: bool = False
    sni_required: bool | None = None
    anchor: Certificate | None = None
    anchor_source: str = ""
    verify_error: str = ""
    alpn: str | None = None

    @property
    def accepted_versions(self) -> list[TlsVersion]:
        """Versions the server accepted, oldest first."""
        return [v for v, ok in self.versions.items() if ok]

    @property
    def chain_size(self) -> int:
        """Bytes of the certificates the server sent (DER)."""
        return sum(entry.size for entry in self.chain)


@dataclass(frozen=True)
class Verdict:
    """Whether one path can talk to the server.

    Attributes:
        path: ``"module TLS"`` or ``"host TLS"``.
        works: whether it can.
        reasons: why not (or, when it works, what to mind), one sentence an item.
    """

    path: str
    works: bool
    reasons: tuple[str, ...] = ()

    def line(self) -> str:
        """``"module TLS: will work"`` / ``"module TLS: will not, because ..."``."""
        if self.works:
            head = f"{self.path}: will work"
            return head + (f" (mind: {'; '.join(self.reasons)})" if self.reasons else "")
        return f"{self.path}: will not, because {'; '.join(self.reasons)}"


# -- the scan ------------------------------------------------------------------------------


def _context(versions: tuple[TlsVersion, TlsVersion], ciphers: str | None = None,
             alpn: bool = False) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        # offering TLS 1.0/1.1 is the point of a version scan
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = _SSL_VERSIONS[versions[0]]
        ctx.maximum_version = _SSL_VERSIONS[versions[1]]
    ctx.set_ciphers(ciphers or "ALL:@SECLEVEL=0")
    if alpn:
        ctx.set_alpn_protocols(["http/1.1"])
    return ctx


@dataclass
class _Handshake:
    ok: bool
    error: str = ""
    version: str = ""
    cipher: str = ""
    alpn: str | None = None
    leaf: bytes | None = None
    raw: bytes = b""  # what the server sent, as it came


def _handshake(address: tuple[str, int], ctx: ssl.SSLContext, sni: str | None,
               timeout: float) -> _Handshake:
    """One handshake over a TCP socket driven through MemoryBIO, so that the server's bytes
    are kept (the TLS 1.2 Certificate message travels in the clear)."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    raw = bytearray()
    deadline = time.monotonic() + timeout
    with socket.create_connection(address, timeout=timeout) as sock:
        while True:
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                pending = outgoing.read()
                if pending:
                    sock.sendall(pending)
                sock.settimeout(max(0.1, deadline - time.monotonic()))
                try:
                    data = sock.recv(65536)
                except TimeoutError:
                    return _Handshake(False, "no answer", raw=bytes(raw))
                if not data:
                    return _Handshake(False, "the server closed the connection", raw=bytes(raw))
                raw += data
                incoming.write(data)
                continue
            except ssl.SSLError as exc:
                with contextlib.suppress(OSError):
                    sock.sendall(outgoing.read())
                return _Handshake(False, exc.reason or str(exc), raw=bytes(raw))
            with contextlib.suppress(OSError):
                sock.sendall(outgoing.read())
            cipher = tls.cipher()
            return _Handshake(True, version=tls.version() or "", cipher=cipher[0] if cipher else "",
                              alpn=tls.selected_alpn_protocol(),
                              leaf=tls.getpeercert(binary_form=True), raw=bytes(raw))


def certificates_in(raw: bytes) -> list[bytes]:
    """The DER certificates of a TLS 1.2 Certificate handshake message in the bytes a server
    sent (records of type 22, RFC 5246 6.2.1 and 7.4.2); ``[]`` when there is none in the
    clear (TLS 1.3 encrypts it)."""
    handshake = bytearray()
    pos = 0
    while pos + 5 <= len(raw):
        kind, length = raw[pos], int.from_bytes(raw[pos + 3 : pos + 5], "big")
        body = raw[pos + 5 : pos + 5 + length]
        pos += 5 + length
        if kind == 22:
            handshake += body
        elif kind == 20:  # ChangeCipherSpec: what follows is encrypted
            break
    pos = 0
    while pos + 4 <= len(handshake):
        msg_type = handshake[pos]
        length = int.from_bytes(handshake[pos + 1 : pos + 4], "big")
        body = bytes(handshake[pos + 4 : pos + 4 + length])
        pos += 4 + length
        if msg_type != 11 or len(body) < 3:
            continue
        certs, at = [], 3
        while at + 3 <= len(body):
            size = int.from_bytes(body[at : at + 3], "big")
            certs.append(body[at + 3 : at + 3 + size])
            at += 3 + size
        return certs
    return []


def _resolve(host: str, port: int, timeout: float) -> tuple[str, int]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ProbeError(f"{host!r} does not resolve from this host ({exc})") from None
    address = infos[0][4]
    try:
        with socket.create_connection((str(address[0]), port), timeout=timeout):
            pass
    except OSError as exc:
        raise ProbeError(f"no TCP connection to {host}:{port} from this host "
                         f"({exc.strerror or exc})") from None
    return str(address[0]), port


def load_roots(ca_file: str | Path | None) -> tuple[list[Certificate], str]:
    """The trust anchors: every certificate of ``ca_file``, else certifi's bundle.

    Raises:
        ProbeError: the file cannot be read or holds no certificate.
    """
    path = Path(ca_file) if ca_file is not None else Path(certifi.where())
    source = f"--ca {ca_file}" if ca_file is not None else "certifi"
    try:
        with warnings.catch_warnings():
            # a root of the bundle with a non-positive serial number is still a root
            warnings.simplefilter("ignore")
            certs = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ProbeError(f"cannot read CA certificates from {path}: {exc}") from None
    return [Certificate(c.public_bytes(serialization.Encoding.PEM), c) for c in certs], source


def _anchor(chain: list[ChainEntry], roots: list[Certificate]) -> Certificate | None:
    """The root of ``roots`` that issued the top of ``chain`` (or is it)."""
    if not chain:
        return None
    top = Certificate.from_pem(chain[-1].pem)
    for root in roots:
        if root.sha256 == top.sha256:
            return root
    for root in roots:
        if root.issued(top):
            return root
    return None


def scan(host: str, port: int = 443, *, ca_file: str | Path | None = None,
         timeout: float = 5.0, suites: tuple[int, ...] | None = None) -> ServerReport:
    """Scan ``host:port`` from the host's network as the module docstring says.

    Args:
        host: the server's name or address.
        port: its port.
        ca_file: PEM file of trust anchors; ``None``: certifi's roots.
        timeout: seconds per connection.
        suites: TLS 1.2 suites to try (IANA codes); ``None``: every suite celltls knows
            modules speak (:data:`celltls.tls.OPENSSL_CIPHER_NAMES`).

    Returns:
        ServerReport: the findings.

    Raises:
        ProbeError: the name does not resolve, no TCP connection, no TLS handshake at all,
            or an unreadable CA file.
    """
    roots, source = load_roots(ca_file)
    address = _resolve(host, port, timeout)
    report = ServerReport(host, port, address=address[0], anchor_source=source)
    is_ip = _is_ip(host)
    sni = None if is_ip else host
    first = _handshake(address, _context((TlsVersion.TLS1_0, TlsVersion.TLS1_3), alpn=True),
                       sni, timeout)
    if not first.ok:
        raise ProbeError(f"no TLS handshake with {host}:{port} from this host ({first.error})")
    report.negotiated = f"{first.version} {first.cipher}"
    report.alpn = first.alpn
    for version in SCANNED_VERSIONS:
        try:
            ctx = _context((version, version))
        except (ssl.SSLError, ValueError):
            report.versions[version] = None
            continue
        result = _handshake(address, ctx, sni, timeout)
        report.versions[version] = result.ok
        if result.ok and version == TlsVersion.TLS1_3:
            report.tls13_suite = result.cipher
    report.suites_tested = tuple(suites if suites is not None else OPENSSL_CIPHER_NAMES)
    if report.versions.get(TlsVersion.TLS1_2):
        for code in report.suites_tested:
            name = OPENSSL_CIPHER_NAMES.get(code)
            if name is None:
                continue
            try:
                ctx = _context((TlsVersion.TLS1_2, TlsVersion.TLS1_2), f"{name}:@SECLEVEL=0")
            except ssl.SSLError:
                continue  # the host's OpenSSL has no such suite
            if _handshake(address, ctx, sni, timeout).ok:
                report.suites[code] = name
    _read_chain(report, address, sni, first, timeout)
    if not is_ip:
        bare = _handshake(address, _context((TlsVersion.TLS1_0, TlsVersion.TLS1_3)), None,
                          timeout)
        report.sni_required = not bare.ok or bare.leaf != first.leaf
    report.anchor = _anchor(report.chain, roots)
    report.verify_error = _verify(address, host, roots, timeout)
    return report


def _read_chain(report: ServerReport, address: tuple[str, int], sni: str | None,
                first: _Handshake, timeout: float) -> None:
    ders: list[bytes] = []
    if report.versions.get(TlsVersion.TLS1_2):
        result = _handshake(address, _context((TlsVersion.TLS1_2, TlsVersion.TLS1_2)), sni,
                            timeout)
        ders = certificates_in(result.raw)
    if ders:
        report.chain_complete = True
    elif first.leaf:
        ders = [first.leaf]
    for der in ders:
        with contextlib.suppress(ValueError):
            report.chain.append(ChainEntry.from_der(der))


def _verify(address: tuple[str, int], host: str, roots: list[Certificate],
            timeout: float) -> str:
    """"" when the server's chain verifies against ``roots`` for ``host``, else why not."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata="".join(r.pem.decode("ascii") for r in roots))
    try:
        with socket.create_connection(address, timeout=timeout) as sock, ctx.wrap_socket(
            sock, server_hostname=host
        ):
            return ""
    except ssl.SSLCertVerificationError as exc:
        return str(exc.verify_message)
    except (ssl.SSLError, OSError) as exc:
        return str(exc)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# -- verdicts ------------------------------------------------------------------------------


def module_verdict(report: ServerReport, caps: Capabilities, *,
                   now: datetime | None = None) -> Verdict:
    """Whether a module with ``caps`` can talk to the server with its own TLS.

    It cannot when: the server accepts none of its protocol versions; on TLS 1.2, none of its
    cipher suites (the suites the server accepted, from the scan); or the root CA to
    provision is larger than the module's largest credential file
    (``Capabilities.credential_limits``). What to mind when it can: no host-name check
    (``Capabilities.hostname_check``), a chain that verifies against no known root, a
    certificate outside its validity.
    """
    when = now or datetime.now(UTC)
    reasons: list[str] = []
    common = [v for v in report.accepted_versions if v in caps.tls_versions]
    if not common:
        offered = ", ".join(v.label for v in report.accepted_versions) or "none scanned"
        module = ", ".join(v.label for v in sorted(caps.tls_versions))
        reasons.append(f"the server speaks {offered} and the module {module}")
    elif common == [TlsVersion.TLS1_2] or TlsVersion.TLS1_3 not in common:
        shared = [c for c in caps.cipher_suites if c in report.suites]
        untested = [c for c in caps.cipher_suites if c not in report.suites_tested
                    or c not in OPENSSL_CIPHER_NAMES]
        if not shared and not untested:
            kinds = sorted({key_exchange(n) for n in report.suites.values()})
            reasons.append(
                "the server accepts none of the module's cipher suites ("
                + caps.key_exchange + "); it accepts "
                + (", ".join(kinds) + " key exchange" if kinds else "none of the suites tried")
            )
    if report.anchor is not None and caps.credential_limits:
        limit = min(caps.credential_limits.values())
        if len(report.anchor.pem) > limit:
            reasons.append(f"the root CA is {len(report.anchor.pem)} bytes and the module "
                           f"stores at most {limit}")
    if reasons:
        return Verdict("module TLS", False, tuple(reasons))
    mind = _common_cautions(report, when)
    if not caps.hostname_check:
        mind.append("the module cannot check the host name: only with --no-check-hostname")
    return Verdict("module TLS", True, tuple(mind))


def host_verdict(report: ServerReport, *, now: datetime | None = None) -> Verdict:
    """Whether TLS on the host (TLS 1.2 and 1.3, :mod:`celltls.hosttls`) can talk to the
    server, verification included."""
    reasons: list[str] = []
    if not any(v in report.accepted_versions for v in (TlsVersion.TLS1_2, TlsVersion.TLS1_3)):
        reasons.append("the server speaks neither TLS 1.2 nor TLS 1.3")
    if report.verify_error:
        reasons.append(f"its certificate does not verify against {report.anchor_source} "
                       f"({report.verify_error})")
    if reasons:
        return Verdict("host TLS", False, tuple(reasons))
    return Verdict("host TLS", True, tuple(_common_cautions(report, now or datetime.now(UTC),
                                                             verify=False)))


def _common_cautions(report: ServerReport, when: datetime, verify: bool = True) -> list[str]:
    notes: list[str] = []
    if verify and report.anchor is None:
        notes.append(f"no root in {report.anchor_source} anchors the chain")
    if report.chain and not report.chain[0].valid_at(when):
        notes.append("the server's certificate is outside its validity period")
    return notes


def render(report: ServerReport, verdicts: list[Verdict]) -> list[str]:
    """The report as text lines, verdicts last."""
    lines = [f"server: {report.host}:{report.port} ({report.address})",
             f"unrestricted client: {report.negotiated}"
             + (f", ALPN {report.alpn}" if report.alpn else "")]
    versions = []
    for version, ok in report.versions.items():
        versions.append(f"{version.label} " + ("yes" if ok else "no" if ok is False
                                               else "not testable from this host"))
    lines.append("versions: " + ", ".join(versions))
    if report.tls13_suite:
        lines.append(f"TLS 1.3 suite chosen: {report.tls13_suite}")
    if report.versions.get(TlsVersion.TLS1_2):
        accepted = [f"{CIPHER_SUITE_NAMES.get(c, name)} ({key_exchange(name)})"
                    for c, name in report.suites.items()]
        lines.append(f"TLS 1.2 suites accepted ({len(accepted)} of {len(report.suites_tested)} "
                     "tried): " + (", ".join(accepted) or "none"))
    seen = "" if report.chain_complete else " (leaf only: TLS 1.3 hides the rest)"
    lines.append(f"chain: {len(report.chain)} certificate(s), {report.chain_size} bytes{seen}")
    for index, entry in enumerate(report.chain):
        lines.append(f"  [{index}] {entry.subject}; key {entry.key}; signed {entry.signature}; "
                     f"valid {entry.not_before:%Y-%m-%d} to {entry.not_after:%Y-%m-%d}; "
                     f"issuer {entry.issuer}")
    if report.sni_required is not None:
        lines.append("SNI: " + ("needed" if report.sni_required else "not needed"))
    if report.anchor is not None:
        lines.append(f"root CA ({report.anchor_source}): {report.anchor.subject}, "
                     f"{len(report.anchor.pem)} bytes, sha256 {report.anchor.sha256}")
    else:
        lines.append(f"root CA: none in {report.anchor_source} anchors the chain")
    lines.append("verification (chain, dates, host name): "
                 + ("ok" if not report.verify_error else report.verify_error))
    lines.extend(v.line() for v in verdicts)
    return lines


def probe_url(url: str, *, ca_file: str | Path | None = None, port: int | None = None,
              caps: Capabilities | None = None, timeout: float = 5.0
              ) -> tuple[ServerReport, list[Verdict]]:
    """Scan the server of an ``https://`` URL and judge both paths.

    Args:
        url: ``https://host[:port]/...``.
        ca_file: trust anchors (``None``: certifi).
        port: the server port when it differs from the URL's.
        caps: the module's capabilities; ``None``: only the host TLS verdict.
        timeout: seconds per connection.

    Raises:
        InvalidURLError: a URL that cannot be used.
        ProbeError: see :func:`scan`.
    """
    host, url_port, _ = parse_https_url(url)
    suites = None
    if caps is not None:
        suites = tuple(dict.fromkeys((*caps.cipher_suites, *OPENSSL_CIPHER_NAMES)))
    try:
        report = scan(host, port or url_port, ca_file=ca_file, timeout=timeout, suites=suites)
    except NetworkError as exc:
        raise ProbeError(str(exc)) from exc
    verdicts = [host_verdict(report)]
    if caps is not None:
        verdicts.insert(0, module_verdict(report, caps))
    return report, verdicts
