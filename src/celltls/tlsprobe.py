"""Explain a failed module handshake by probing the server from the host.

Modules report a failed TLS handshake with one opaque code (Quectel GSM: ``+QSSLOPEN: <ssid>,-1``,
SSL-AN 2.2.2). When the host can reach the server itself, celltls finds out why: it offers the
server exactly the module's protocol versions and cipher suites (no verification), and if the
server accepts, checks the server's certificate against the CA the module was given and the
module's clock. The result turns the opaque code into a :class:`~celltls.errors.TLSNegotiationError`
or a :class:`~celltls.errors.CertificateVerifyError` with the evidence.

The probe is one extra TLS handshake from the host to the server. It is on by default and off
with ``Modem(..., probe_failures=False)``; when the host cannot reach the server (the usual case
on a device whose only link is the module), the error lists the possible causes instead.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime

from celltls.errors import (
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateVerifyError,
    ConnectionRefusedByServer,
    ConnectTimeoutError,
    DNSError,
    NetworkError,
    TLSError,
    TLSHandshakeError,
    TLSNegotiationError,
)
from celltls.tls import (
    OPENSSL_CIPHER_NAMES,
    Capabilities,
    Certificate,
    TlsProfile,
    TlsVersion,
    Verify,
)

_SSL_VERSIONS = {
    TlsVersion.SSL3_0: ssl.TLSVersion.SSLv3,
    TlsVersion.TLS1_0: ssl.TLSVersion.TLSv1,
    TlsVersion.TLS1_1: ssl.TLSVersion.TLSv1_1,
    TlsVersion.TLS1_2: ssl.TLSVersion.TLSv1_2,
    TlsVersion.TLS1_3: ssl.TLSVersion.TLSv1_3,
}


@dataclass
class ProbeResult:
    """What the host learned about the server.

    Attributes:
        reachable: the host could open TCP to the server.
        module_negotiated: a handshake restricted to the module's abilities succeeded.
        module_error: the OpenSSL error of that handshake when it failed.
        server_offers: the version and cipher the server chose with an unrestricted client.
        chain: the server's certificate (leaf) as seen by the probe.
        failure: why the host could not reach the server: ``"dns"`` (the name does not
            resolve), ``"refused"`` (nothing listens on the port), ``"timeout"`` (no TCP answer),
            ``"silent"`` (TCP accepted, no TLS answer), ``"other"``; ``""`` when it could.
        failure_detail: the host's error message for ``failure``.
    """

    reachable: bool
    failure: str = ""
    failure_detail: str = ""
    module_negotiated: bool = False
    module_error: str = ""
    server_offers: str = ""
    chain: list[Certificate] = field(default_factory=list)


def _module_context(caps: Capabilities, profile: TlsProfile) -> ssl.SSLContext | None:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    versions = profile.versions(caps.tls_versions)
    if not versions:
        return None
    suites = profile.cipher_suites or caps.cipher_suites
    names = [OPENSSL_CIPHER_NAMES[c] for c in suites if c in OPENSSL_CIPHER_NAMES]
    try:
        ctx.minimum_version = _SSL_VERSIONS[versions[0]]
        ctx.maximum_version = _SSL_VERSIONS[versions[-1]]
        ctx.set_ciphers(":".join(names) + ":@SECLEVEL=0")
    except (ssl.SSLError, ValueError):
        return None
    return ctx


def probe(host: str, port: int, caps: Capabilities, profile: TlsProfile,
          timeout: float = 5.0) -> ProbeResult:
    """Probe ``host:port`` from the host as described in the module docstring.

    Never raises: every failure is recorded in the result.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.gaierror as exc:
        return ProbeResult(reachable=False, failure="dns", failure_detail=str(exc))
    except ConnectionRefusedError as exc:
        return ProbeResult(reachable=False, failure="refused", failure_detail=str(exc))
    except TimeoutError as exc:
        return ProbeResult(reachable=False, failure="timeout", failure_detail=str(exc) or
                           f"no answer within {timeout:g} s")
    except OSError as exc:
        return ProbeResult(reachable=False, failure="other", failure_detail=str(exc))
    result = ProbeResult(reachable=True)
    plain = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    plain.check_hostname = False
    plain.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, plain.wrap_socket(
            raw, server_hostname=host
        ) as tls:
            cipher = tls.cipher()
            result.server_offers = f"{tls.version()} {cipher[0] if cipher else '?'}"
    except TimeoutError as exc:
        result.failure = "silent"
        result.failure_detail = str(exc) or f"no TLS answer within {timeout:g} s"
        return result
    except (OSError, ssl.SSLError) as exc:
        result.server_offers = f"no handshake even without restrictions ({exc})"
    ctx = _module_context(caps, profile)
    if ctx is None:
        result.module_error = "the host's OpenSSL cannot offer any of the module's suites"
        return result
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, ctx.wrap_socket(
            raw, server_hostname=host
        ) as tls:
            der = tls.getpeercert(binary_form=True)
            result.module_negotiated = True
            if der:
                result.chain.append(Certificate.from_pem(ssl.DER_cert_to_PEM_cert(der)))
    except (OSError, ssl.SSLError) as exc:
        result.module_error = str(exc)
    return result


def explain_failure(
    host: str,
    port: int,
    caps: Capabilities,
    profile: TlsProfile,
    *,
    reported: str,
    module_clock: datetime | None = None,
    do_probe: bool = True,
) -> TLSError | NetworkError:
    """Build the most specific error for a failed module handshake.

    Args:
        host, port: the server.
        caps: the module's capabilities.
        profile: the profile that was applied.
        reported: what the module said (``'+QSSLOPEN: 1,-1'``).
        module_clock: the module's clock, when known, for validity checks.
        do_probe: whether the host may probe the server.

    Returns:
        TLSError | NetworkError: to be raised by the caller. When the host cannot reach the
        server either, what stopped it: :class:`DNSError` (the name does not resolve),
        :class:`ConnectionRefusedByServer`, :class:`ConnectTimeoutError` (no answer to TCP, or
        TCP accepted and no TLS answer); else :class:`TLSNegotiationError`,
        :class:`CertificateVerifyError` (:class:`CertificateExpiredError`,
        :class:`CertificateNotYetValidError` against the module's clock, or the host's when
        the module's is unknown and the profile checks dates) or :class:`TLSHandshakeError`.
    """
    versions = ", ".join(v.label for v in profile.versions(caps.tls_versions))
    where = f"{host}:{port}"
    if not do_probe:
        return TLSHandshakeError(
            f"the module could not complete a TLS handshake with {where} (it reported "
            f"{reported!r})",
            host=host, port=port, detail=reported,
            evidence=_possible_causes(caps, profile, versions),
        )
    result = probe(host, port, caps, profile)
    unreachable = _unreachable_error(host, port, reported, result)
    if unreachable is not None:
        return unreachable
    if not result.reachable:
        return TLSHandshakeError(
            f"the module could not complete a TLS handshake with {where} (it reported "
            f"{reported!r}); the host cannot reach the server to find out why",
            host=host, port=port, detail=reported,
            evidence=_possible_causes(caps, profile, versions),
        )
    if not result.module_negotiated:
        return TLSNegotiationError(
            f"the module cannot negotiate TLS with {where}: the server accepts none of the "
            f"module's protocol versions ({versions}) and cipher suites ({caps.key_exchange})",
            host=host, port=port, detail=reported,
            evidence=[
                f"host-side probe with the module's versions and suites failed: "
                f"{result.module_error}",
                f"the server chose {result.server_offers} with an unrestricted client",
                "fix: enable a TLS 1.2 RSA key-exchange suite (e.g. AES128-SHA) on the server, "
                "or put a TLS-terminating proxy in front of it",
            ],
        )
    if profile.verify is not Verify.NONE and profile.ca is not None and result.chain:
        leaf = result.chain[0]
        if not profile.ca.issued(leaf) and leaf.sha256 != profile.ca.sha256:
            return CertificateVerifyError(
                f"the module could not verify the certificate of {where}: it was not issued "
                f"by the CA the module was given",
                host=host, port=port, detail=reported,
                evidence=[
                    f"server certificate: subject {leaf.subject}, issuer {leaf.issuer}",
                    f"CA given to the module: {profile.ca.subject}",
                    "fix: provision the root CA at the top of the server's chain (when the "
                    "server sends intermediates, the root that issued the top intermediate)",
                ],
            )
        when = module_clock or datetime.now(UTC)
        if profile.check_time and not leaf.valid_at(when):
            expired = when > leaf.not_after
            clock = "the module's clock" if module_clock else "the host's clock"
            kind = CertificateExpiredError if expired else CertificateNotYetValidError
            return kind(
                f"the module could not verify the certificate of {where}: it "
                + (f"expired on {leaf.not_after.isoformat()}" if expired
                   else f"is not valid before {leaf.not_before.isoformat()}")
                + f" ({clock}: {when.isoformat()})",
                host=host, port=port, detail=reported,
                evidence=[
                    f"server certificate: subject {leaf.subject}, valid from "
                    f"{leaf.not_before.isoformat()} to {leaf.not_after.isoformat()}",
                    "fix: renew the server's certificate" if expired and not module_clock
                    else "fix: renew the certificate, or set the module's clock (AT+CCLK)",
                ],
            )
    return TLSHandshakeError(
        f"the module could not complete a TLS handshake with {where} (it reported "
        f"{reported!r}), although the host negotiated with the module's settings",
        host=host, port=port, detail=reported,
        evidence=_possible_causes(caps, profile, versions),
    )


def _unreachable_error(
    host: str, port: int, reported: str, result: ProbeResult
) -> NetworkError | None:
    """The network error the host's own attempt points at, when it failed like that."""
    where = f"{host}:{port}"
    seen = f"the module reported {reported!r}; the host's own attempt: {result.failure_detail}"
    if result.failure == "dns":
        return DNSError(
            f"the host name {host!r} could not be resolved ({seen}); check the name, and the "
            "DNS servers of the PDP context"
        )
    if result.failure == "refused":
        return ConnectionRefusedByServer(
            f"{where} refused the connection ({seen}); nothing listens on port {port}: check "
            "the port and that the server runs"
        )
    if result.failure in ("timeout", "silent"):
        what = ("accepted TCP but never answered the TLS handshake" if result.failure == "silent"
                else "did not answer the TCP connection")
        return ConnectTimeoutError(
            f"{where} {what} ({seen}); check the port (a plain-HTTP or non-TLS port?) and "
            "firewalls"
        )
    return None


def _possible_causes(caps: Capabilities, profile: TlsProfile, versions: str) -> list[str]:
    causes = [
        "the host name may not resolve, the port may be closed or the server may not answer "
        "(the module reports all of these with the same code)",
        f"the server may offer none of the module's versions ({versions}) or suites "
        f"({caps.key_exchange}): ECDHE-only and TLS 1.3-only servers are out of reach",
    ]
    if profile.verify is not Verify.NONE:
        causes.append(
            "the CA given may not be the root that issued the server's chain "
            f"(given: {profile.ca.common_name if profile.ca else 'none'})"
        )
        if profile.check_time:
            causes.append("the module's clock may be unset, so certificates look not yet valid")
    return causes
