"""Root CA bundles (a PEM file of many certificates, or Mozilla's roots from certifi) for
modules whose TLS profile verifies with one root CA.

A module verifies a server with the root CA stored for the connection: one certificate per
:class:`~celltls.tls.TlsProfile` (Quectel GSM SSL-AN V3.3 2.2.1 ``cacert``; Sierra
``AT+KCERTSTORE`` index 0, sierra-hl78xx.md S5). Given a bundle, celltls picks the root that
issued the server's chain by a handshake from the host with the whole bundle as its trust store
(chain and dates verified, host name not), and takes the trust anchor of the verified chain. The
module then verifies the server again, itself, with that one root. When the host cannot reach
the server, the bundle cannot be narrowed and :class:`ProfileError` says so.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.utils import CryptographyDeprecationWarning

from celltls.errors import CertificateVerifyError, CredentialError, ProfileError
from celltls.tls import Certificate, PrivateKey, TlsProfile, Verify

log = logging.getLogger(__name__)

#: the word that names Mozilla's root store (the ``certifi`` package) instead of a file.
CERTIFI = "certifi"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _verified_chain_der(tls: ssl.SSLSocket) -> list[bytes]:
    """The verified chain of a connection, leaf first, root (trust anchor) last, DER.

    ``SSLSocket.get_verified_chain`` is public from Python 3.13; 3.10-3.12 have it on the
    underlying ``_ssl._SSLSocket``.
    """
    getter: Any = getattr(tls, "get_verified_chain", None)
    if getter is None:
        getter = getattr(getattr(tls, "_sslobj", None), "get_verified_chain", None)
    if getter is None:
        return []
    chain: list[bytes] = []
    for item in getter():
        if isinstance(item, bytes):
            chain.append(item)
        else:  # _ssl.Certificate (3.10-3.12)
            chain.append(item.public_bytes(ssl._ssl.ENCODING_DER))  # type: ignore[attr-defined]
    return chain


class CaBundle:
    """CA certificates to verify servers with, and the choice of one root per server.

    Args:
        certificates: the CA certificates (at least one).
        source: where they come from, for messages (a path, ``"certifi"``).

    Raises:
        CredentialError: no certificate given.
    """

    def __init__(self, certificates: Sequence[Certificate], source: str = "the CA bundle") -> None:
        if not certificates:
            raise CredentialError(f"no CA certificate in {source}")
        self.certificates = tuple(certificates)
        self.source = source
        self._roots: dict[tuple[str, int], Certificate] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_pem(cls, data: bytes, source: str = "the PEM text") -> CaBundle:
        """Every CA certificate of a PEM text (certificates that are not CAs are left out,
        unless the text holds only one certificate: :class:`~celltls.tls.TlsProfile` then says
        what is wrong with it).

        Raises:
            CredentialError: no PEM certificate, or one that cannot be parsed.
        """
        with warnings.catch_warnings(record=True) as caught:
            # Mozilla's store holds roots that cryptography warns about (a serial number that
            # is not positive), when parsed and when their extensions are read: said in the
            # log, not on the user's terminal.
            warnings.simplefilter("always", CryptographyDeprecationWarning)
            try:
                parsed = x509.load_pem_x509_certificates(data)
            except ValueError as exc:
                raise CredentialError(f"{source} is not a PEM certificate bundle: "
                                      f"{exc}") from None
            certs = [Certificate(c.public_bytes(serialization.Encoding.PEM), c) for c in parsed]
            if len(certs) > 1:
                cas = [c for c in certs if c.is_ca]
                if not cas:
                    raise CredentialError(f"none of the {len(certs)} certificates in {source} "
                                          "is a CA certificate (basicConstraints CA:TRUE)")
                certs = cas
        for warning in caught:
            log.debug("%s: %s", source, warning.message)
        return cls(certs, source)

    @classmethod
    def load(cls, spec: str | Path) -> CaBundle:
        """The bundle ``spec`` names: the word ``certifi`` (Mozilla's roots, from the certifi
        package) or a PEM file of one or more certificates.

        Raises:
            CredentialError: the file cannot be read or holds no CA certificate.
        """
        if str(spec) == CERTIFI:
            import certifi

            path = Path(certifi.where())
            source = f"certifi ({path})"
        else:
            path = Path(spec)
            source = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CredentialError(f"cannot read the CA file {path}: "
                                  f"{exc.strerror or exc}") from None
        return cls.from_pem(data, source)

    @classmethod
    def of(cls, value: CaBundle | Certificate | Iterable[Certificate] | str | Path | bytes
           ) -> CaBundle:
        """A bundle from what a caller may give: a bundle, one certificate, certificates,
        PEM bytes, a path or ``"certifi"``.

        Raises:
            CredentialError: as :meth:`load` and :meth:`from_pem`.
        """
        if isinstance(value, CaBundle):
            return value
        if isinstance(value, Certificate):
            return cls([value], value.common_name)
        if isinstance(value, bytes):
            return cls.from_pem(value)
        if isinstance(value, str | Path):
            return cls.load(value)
        return cls(list(value))

    def __len__(self) -> int:
        return len(self.certificates)

    def root_for(self, host: str, port: int, *, timeout: float = 10.0) -> Certificate:
        """The root CA of the bundle that issued the chain of ``host:port`` (remembered).

        With one certificate, that one (the module verifies). With more, a TLS handshake from
        the host (SNI ``host`` unless it is an address; the whole bundle as trust store; chain
        and validity dates verified, the host name not) finds the trust anchor.

        Args:
            host: the server's name or address.
            port: its TCP port.
            timeout: seconds for TCP and the handshake.

        Raises:
            CertificateVerifyError: the server answered, and no certificate of the bundle
                issued its chain (or the chain is expired or not yet valid).
            ProfileError: the host cannot reach the server, so the root cannot be picked; the
                message says to give the root alone.
        """
        if len(self.certificates) == 1:
            return self.certificates[0]
        key = (host.lower(), port)
        with self._lock:
            known = self._roots.get(key)
        if known is not None:
            return known
        root = self._probe(host, port, timeout)
        with self._lock:
            self._roots[key] = root
        log.info("%s:%d: root CA %r picked from %s", host, port, root.common_name, self.source)
        return root

    def _probe(self, host: str, port: int, timeout: float) -> Certificate:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=b"".join(c.pem for c in self.certificates).decode())
        many = f"{self.source} holds {len(self.certificates)} CA certificates"
        advice = ("give the root CA that issued the server's chain alone with --ca FILE "
                  "(TlsProfile(ca=...))")
        try:
            with socket.create_connection((host, port), timeout=timeout) as raw, \
                    context.wrap_socket(raw, server_hostname=None if _is_ip(host) else host
                                        ) as tls:
                chain = _verified_chain_der(tls)
        except ssl.SSLCertVerificationError as exc:
            raise CertificateVerifyError(
                f"no certificate of {self.source} ({len(self.certificates)} CA certificates) "
                f"verifies the chain of {host}:{port} ({exc.verify_message}, checked from the "
                f"host); give --ca the root CA that issued the server's chain",
                host=host, port=port) from None
        except (OSError, ssl.SSLError) as exc:
            raise ProfileError(
                f"{many} and the module verifies with one; the host could not reach {host}:"
                f"{port} to find which one issued the server's chain ({exc}); {advice}"
            ) from None
        anchors = {c.cert.public_bytes(serialization.Encoding.DER): c for c in self.certificates}
        for der in reversed(chain):
            if der in anchors:
                return anchors[der]
        raise ProfileError(f"{many}; the host verified the chain of {host}:{port} but could "
                           f"not tell with which root (this Python gives no verified chain); "
                           f"{advice}")


class ProfileSource:
    """The TLS profile for each server a client reaches: one fixed profile, or one built per
    host with the root CA picked from a bundle (:meth:`CaBundle.root_for`).

    Args:
        profile: used for every server when given (``ca`` and the rest are then ignored).
        ca: a :class:`CaBundle`, a certificate or certificates, PEM bytes, a path, or
            ``"certifi"`` (the default: Mozilla's roots).
        check_hostname: ``TlsProfile.check_hostname`` (modules whose TLS cannot check host
            names refuse ``True``: :class:`~celltls.errors.HostnameCheckUnsupportedError`).
        client_cert, client_key: for mutual TLS.
        probe_timeout: seconds for the handshake that picks a root, from the host.

    Raises:
        CredentialError: ``ca`` cannot be read (only when ``profile`` is not given).
    """

    def __init__(
        self, profile: TlsProfile | None = None, *,
        ca: CaBundle | Certificate | Iterable[Certificate] | str | Path | bytes = CERTIFI,
        check_hostname: bool = True, client_cert: Certificate | None = None,
        client_key: PrivateKey | None = None, probe_timeout: float = 10.0,
    ) -> None:
        self.fixed = profile
        self.bundle = CaBundle.of(ca) if profile is None else None
        self.check_hostname = check_hostname
        self.client_cert = client_cert
        self.client_key = client_key
        self.probe_timeout = probe_timeout

    def profile(self, host: str, port: int) -> TlsProfile:
        """The profile for ``host:port``.

        Raises:
            CertificateVerifyError, ProfileError: see :meth:`CaBundle.root_for` and
                :class:`~celltls.tls.TlsProfile`.
        """
        if self.fixed is not None:
            return self.fixed
        assert self.bundle is not None
        root = self.bundle.root_for(host, port, timeout=self.probe_timeout)
        return TlsProfile(
            verify=Verify.MUTUAL if self.client_cert is not None else Verify.SERVER, ca=root,
            client_cert=self.client_cert, client_key=self.client_key,
            check_hostname=self.check_hostname)
