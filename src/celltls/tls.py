"""The portable TLS profile and credentials (certificates and keys).

A :class:`TlsProfile` says what a connection needs (versions, cipher suites, verification, CA,
client certificate and key) without naming a vendor. Each dialect driver turns it into the
module's settings, or raises :class:`~celltls.errors.ProfileError` when the module cannot do it.

Secure by default: ``TlsProfile()`` verifies the server. Verification is turned off only by
naming it, ``TlsProfile(verify=Verify.NONE)`` (or ``TlsProfile.insecure()``), and a warning is
logged when such a profile is used.
"""

from __future__ import annotations

import enum
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from celltls.errors import CredentialError, ProfileError

log = logging.getLogger(__name__)


class Verify(enum.Enum):
    """What the module authenticates.

    ``NONE``: nothing (the connection is encrypted but anyone can impersonate the server);
    ``SERVER``: the server against the CA; ``MUTUAL``: the server, and the module presents a
    client certificate.
    """

    NONE = "none"
    SERVER = "server"
    MUTUAL = "mutual"


class TlsVersion(enum.IntEnum):
    """Protocol versions, valued by their wire code (RFC 8446 appendix B, RFC 6101)."""

    SSL3_0 = 0x0300
    TLS1_0 = 0x0301
    TLS1_1 = 0x0302
    TLS1_2 = 0x0303
    TLS1_3 = 0x0304

    @property
    def label(self) -> str:
        """``"TLS 1.2"`` style name."""
        return {0x0300: "SSL 3.0"}.get(self.value, f"TLS 1.{self.value - 0x0301}")


#: IANA names of the cipher suites the supported modules speak, by code (RFC 5246 A.5).
CIPHER_SUITE_NAMES: dict[int, str] = {
    0x0004: "TLS_RSA_WITH_RC4_128_MD5",
    0x0005: "TLS_RSA_WITH_RC4_128_SHA",
    0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
    0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256",
    0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",
    0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
}
#: OpenSSL's names for the same suites (for probes and the virtual modems).
OPENSSL_CIPHER_NAMES: dict[int, str] = {
    0x0004: "RC4-MD5",
    0x0005: "RC4-SHA",
    0x000A: "DES-CBC3-SHA",
    0x002F: "AES128-SHA",
    0x0035: "AES256-SHA",
    0x003C: "AES128-SHA256",
    0x003D: "AES256-SHA256",
    0x009C: "AES128-GCM-SHA256",
    0x009D: "AES256-GCM-SHA384",
    0xC013: "ECDHE-RSA-AES128-SHA",
    0xC014: "ECDHE-RSA-AES256-SHA",
    0xC02F: "ECDHE-RSA-AES128-GCM-SHA256",
    0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
    0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256",
    0xC02C: "ECDHE-ECDSA-AES256-GCM-SHA384",
}


@dataclass(frozen=True)
class Certificate:
    """One X.509 certificate, kept as the PEM text the module will store.

    Use :meth:`from_pem` / :meth:`from_file`; the PEM is normalised to LF line ends with one
    trailing newline, which is what gets uploaded (and checksummed).
    """

    pem: bytes
    cert: x509.Certificate = field(repr=False, compare=False)

    @classmethod
    def from_pem(cls, data: bytes | str) -> Certificate:
        """Parse the first certificate of a PEM text.

        Raises:
            CredentialError: no PEM certificate, or it cannot be parsed.
        """
        raw = data.encode() if isinstance(data, str) else data
        try:
            certs = x509.load_pem_x509_certificates(raw)
        except ValueError as exc:
            raise CredentialError(f"not a PEM certificate: {exc}") from exc
        if not certs:
            raise CredentialError("no certificate in the PEM text")
        cert = certs[0]
        return cls(cert.public_bytes(serialization.Encoding.PEM), cert)

    @classmethod
    def from_file(cls, path: str | Path) -> Certificate:
        """Read a PEM certificate file.

        Raises:
            CredentialError: the file is missing, unreadable or holds no certificate.
        """
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CredentialError(f"cannot read certificate {path}: {exc}") from exc
        return cls.from_pem(data)

    @property
    def subject(self) -> str:
        """The subject as an RFC 4514 string."""
        return self.cert.subject.rfc4514_string()

    @property
    def issuer(self) -> str:
        """The issuer as an RFC 4514 string."""
        return self.cert.issuer.rfc4514_string()

    @property
    def common_name(self) -> str:
        """The subject's CN, or the whole subject when it has none."""
        names = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else self.subject

    @property
    def is_ca(self) -> bool:
        """Whether basicConstraints says CA:TRUE."""
        try:
            ext = self.cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS)
        except x509.ExtensionNotFound:
            return False
        return bool(ext.value.ca)  # type: ignore[attr-defined]

    @property
    def is_self_signed(self) -> bool:
        """Whether subject equals issuer (a root)."""
        return self.cert.subject == self.cert.issuer

    @property
    def not_before(self) -> datetime:
        """Start of validity (UTC)."""
        return self.cert.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        """End of validity (UTC)."""
        return self.cert.not_valid_after_utc

    @property
    def sha256(self) -> str:
        """SHA-256 fingerprint of the DER encoding, hex."""
        return self.cert.fingerprint(hashes.SHA256()).hex()

    def valid_at(self, when: datetime | None = None) -> bool:
        """Whether ``when`` (default: now, UTC) is inside the validity period."""
        moment = when or datetime.now(UTC)
        return self.not_before <= moment <= self.not_after

    def issued(self, child: Certificate) -> bool:
        """Whether this certificate's key signed ``child`` (and its subject is child's issuer)."""
        if child.cert.issuer != self.cert.subject:
            return False
        key = self.cert.public_key()
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(
                    child.cert.signature,
                    child.cert.tbs_certificate_bytes,
                    padding.PKCS1v15(),
                    child.cert.signature_hash_algorithm,  # type: ignore[arg-type]
                )
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(
                    child.cert.signature,
                    child.cert.tbs_certificate_bytes,
                    ec.ECDSA(child.cert.signature_hash_algorithm),  # type: ignore[arg-type]
                )
            else:
                return False
        except Exception:
            return False
        return True


@dataclass(frozen=True)
class PrivateKey:
    """A private key in PEM form. Its bytes never appear in ``repr``, logs or transcripts."""

    pem: bytes = field(repr=False)

    @classmethod
    def from_pem(cls, data: bytes | str) -> PrivateKey:
        """Check and keep a PEM private key (unencrypted, as modules need it).

        Raises:
            CredentialError: not an unencrypted PEM private key.
        """
        raw = data.encode() if isinstance(data, str) else data
        try:
            serialization.load_pem_private_key(raw, password=None)
        except (ValueError, TypeError) as exc:
            raise CredentialError(
                "not an unencrypted PEM private key (modules cannot use encrypted keys)"
            ) from exc
        return cls(raw if raw.endswith(b"\n") else raw + b"\n")

    @classmethod
    def from_file(cls, path: str | Path) -> PrivateKey:
        """Read a PEM private key file.

        Raises:
            CredentialError: unreadable or not an unencrypted PEM private key.
        """
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CredentialError(f"cannot read key {path}: {exc}") from exc
        return cls.from_pem(data)

    def matches(self, cert: Certificate) -> bool:
        """Whether this key is the private half of ``cert``'s public key."""
        key = serialization.load_pem_private_key(self.pem, password=None)
        pub = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        theirs = cert.cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pub == theirs

    @property
    def fingerprint(self) -> str:
        """A short SHA-256 of the key (safe to log)."""
        return hashlib.sha256(self.pem).hexdigest()[:16]


@dataclass(frozen=True)
class TlsProfile:
    """What a TLS connection needs, independent of the module.

    Attributes:
        verify: :class:`Verify`; ``SERVER`` by default.
        ca: the root CA that issued the server's chain (needed for ``SERVER`` and ``MUTUAL``).
        client_cert, client_key: the module's identity (needed for ``MUTUAL``).
        min_version, max_version: the acceptable protocol versions; ``max_version=None`` means
            the highest the module has.
        cipher_suites: IANA codes the connection may use; ``None`` lets the module offer all of
            its suites.
        check_time: check certificate validity against the module's clock (``False`` tells the
            module to ignore its clock, e.g. Quectel ``ignorertc``).
        check_hostname: require the server's certificate to be issued for the host name that
            was connected to (RFC 6125 6; RFC 9110 4.3.4). On by default; ``Verify.NONE``
            implies no check (the field then reads ``False``). A module whose own TLS cannot
            check names (``Capabilities.hostname_check`` false: Quectel GSM SSL-AN V3.3 2.2.1,
            sierra-hl78xx.md S5 "Host name verification") makes :class:`celltls.Modem` refuse
            such a profile with :class:`~celltls.errors.HostnameCheckUnsupportedError`, before
            anything is written; ``check_hostname=False`` turns the check off by name (the
            chain and dates are still verified) and is logged as a warning.

    Raises:
        ProfileError: on construction, when the profile is self-contradictory (``SERVER`` with
            no CA, ``MUTUAL`` without certificate and key, a key that does not match the
            certificate, ``min_version > max_version``, a leaf certificate given as CA).
    """

    verify: Verify = Verify.SERVER
    ca: Certificate | None = None
    client_cert: Certificate | None = None
    client_key: PrivateKey | None = None
    min_version: TlsVersion = TlsVersion.TLS1_2
    max_version: TlsVersion | None = None
    cipher_suites: tuple[int, ...] | None = None
    check_time: bool = True
    check_hostname: bool = True

    def __post_init__(self) -> None:
        if self.verify is Verify.NONE and self.check_hostname:
            object.__setattr__(self, "check_hostname", False)  # nothing is verified at all
        if self.verify is not Verify.NONE and self.ca is None:
            raise ProfileError(
                "server verification needs the root CA certificate that issued the server's "
                "chain (ca=...); to connect without verification say verify=Verify.NONE"
            )
        if self.ca is not None and not self.ca.is_ca:
            raise ProfileError(
                f"the certificate given as CA ({self.ca.common_name}) is not a CA certificate "
                f"(basicConstraints CA:FALSE); it looks like the server's own certificate. Give "
                f"the root CA at the top of the chain instead (its issuer is {self.ca.issuer})"
            )
        if self.verify is Verify.MUTUAL and (self.client_cert is None or self.client_key is None):
            raise ProfileError("mutual TLS needs client_cert and client_key")
        if (
            self.client_cert is not None
            and self.client_key is not None
            and not self.client_key.matches(self.client_cert)
        ):
            raise ProfileError(
                f"the client key does not belong to the client certificate "
                f"({self.client_cert.common_name})"
            )
        if self.max_version is not None and self.min_version > self.max_version:
            raise ProfileError(
                f"min_version {self.min_version.label} is above max_version "
                f"{self.max_version.label}"
            )

    @classmethod
    def insecure(cls, **kw: object) -> TlsProfile:
        """A profile that does not verify the server: encryption without authentication."""
        return cls(verify=Verify.NONE, **kw)  # type: ignore[arg-type]

    def versions(self, supported: tuple[TlsVersion, ...]) -> tuple[TlsVersion, ...]:
        """The versions of ``supported`` that this profile allows, ascending."""
        high = self.max_version or max(supported)
        return tuple(v for v in sorted(supported) if self.min_version <= v <= high)

    @property
    def hostname_checked(self) -> bool:
        """Whether this profile asks for the host-name check (verification on and
        ``check_hostname`` true)."""
        return self.verify is not Verify.NONE and self.check_hostname

    def warn_if_hostname_unchecked(self, where: str, host: str) -> None:
        """Log a warning when the chain is verified but the host name is not."""
        if self.verify is not Verify.NONE and not self.check_hostname:
            log.warning(
                "%s: the host name %r is NOT checked (check_hostname=False): any certificate "
                "issued by the CA is accepted, whatever name it was issued for",
                where, host,
            )

    def warn_if_insecure(self, where: str) -> None:
        """Log a warning when verification is off."""
        if self.verify is Verify.NONE:
            log.warning(
                "%s: server verification is OFF (verify=Verify.NONE): the connection is "
                "encrypted but not authenticated",
                where,
            )


@dataclass(frozen=True)
class Capabilities:
    """What a module can do, as its documents say.

    Attributes:
        tls_versions: protocol versions the module speaks.
        cipher_suites: IANA codes of its cipher suites.
        cipher_selection: ``"one-or-all"`` (one suite or all of them), ``"list"`` (any subset).
        key_exchange: a sentence on what key exchanges work (``"RSA only"``), for errors.
        verify_modes: the :class:`Verify` modes it implements.
        secure_sockets: how many secure sockets it can open at once.
        security_contexts: how many TLS configurations (SSL contexts, security profiles).
        max_send: the largest payload of one send command, bytes.
        max_recv: the largest payload of one read command, bytes.
        credential_limits: per storage (``"RAM"``, ``"NVRAM"``), the largest file, bytes.
        transparent_mode: whether a secure socket can run in transparent (data) mode.
        transparent_preferred: whether transparent mode is the module's most efficient data
            path for a request after which the server closes the connection (HTTP
            ``Connection: close``): no read command per block, and the module leaves data mode
            by itself at the close, so no escape sequence and guard times are needed.
            :meth:`celltls.Modem.request` then opens the socket in transparent mode (issue 17).
        native_http: whether the module has its own HTTP(S) client.
        max_hostname: the longest host name it accepts, bytes.
        hostname_check: whether the module's own TLS can check that the server's certificate
            was issued for the host name connected to (RFC 6125). ``False`` unless the
            module's documents say how to turn such a check on; neither Quectel GSM (SSL-AN
            V3.3 2.2.1, the +QSSLCFG items) nor Sierra HL78xx (sierra-hl78xx.md S5a, S5d) do.
        connect_timeout_range: the connect timeouts, seconds, the module's open command takes
            (``(low, high)``); ``None`` when the driver waits on the host side only.
            :class:`celltls.Modem` clamps the caller's timeout into this range.
        sources: documents the values come from.
    """

    tls_versions: tuple[TlsVersion, ...]
    cipher_suites: tuple[int, ...]
    cipher_selection: Literal["one-or-all", "list"]
    key_exchange: str
    verify_modes: tuple[Verify, ...]
    secure_sockets: int
    security_contexts: int
    max_send: int
    max_recv: int
    credential_limits: dict[str, int] = field(default_factory=dict)
    transparent_mode: bool = False
    transparent_preferred: bool = False
    native_http: bool = False
    max_hostname: int = 255
    hostname_check: bool = False
    connect_timeout_range: tuple[float, float] | None = None
    sources: tuple[str, ...] = ()
