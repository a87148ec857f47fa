"""celltls: TLS connections and HTTPS requests through a cellular module's AT command port.

One API for every vendor dialect::

    from celltls import Certificate, Modem, TlsProfile

    with Modem("/dev/ttyUSB0", dialect="quectel-gsm") as modem:
        modem.attach(apn="internet")
        profile = TlsProfile(ca=Certificate.from_file("ca.pem"))
        print(modem.request("GET", "https://example.com/", profile=profile).read())
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # what mypy and IDEs see; at run time each name is imported on first use
    from typing import Any

    from celltls.dialects.base import (
        Capabilities,
        NetworkStatus,
        SecureSocket,
        Signal,
        StoredCredential,
    )
    from celltls.errors import (
        ATCommandError,
        ATError,
        ATProtocolError,
        ATTimeoutError,
        CellTLSError,
        CertificateExpiredError,
        CertificateNotYetValidError,
        CertificateVerifyError,
        ConnectionRefusedByServer,
        ConnectTimeoutError,
        CredentialError,
        DNSError,
        EmptyReplyError,
        HostnameCheckUnsupportedError,
        HostnameMismatchError,
        HTTPError,
        HTTPStatusError,
        InsecureRedirectError,
        InvalidURLError,
        ModuleRebootedError,
        NetworkError,
        NetworkLostError,
        PartialBodyError,
        PortError,
        PortLostError,
        ProfileError,
        SocketError,
        TLSError,
        TLSHandshakeError,
        TLSNegotiationError,
        TooManyRedirectsError,
        TranscriptError,
        TransferTimeoutError,
        UnsafeArgumentError,
    )
    from celltls.http import BaseResponse, Headers, HTTPConnection, HTTPResponse
    from celltls.modem import Modem
    from celltls.state import ModuleState
    from celltls.tls import Certificate, PrivateKey, TlsProfile, TlsVersion, Verify

__version__ = "0.1.0"

#: where each public name lives (PEP 562: imported when first asked for, so that
#: ``import celltls`` and the ``celltls`` command start without cryptography, h11 or the drivers)
_HOMES: dict[str, str] = {
    # celltls.dialects.base
    "Capabilities": "celltls.dialects.base",
    "NetworkStatus": "celltls.dialects.base",
    "SecureSocket": "celltls.dialects.base",
    "Signal": "celltls.dialects.base",
    "StoredCredential": "celltls.dialects.base",
    # celltls.errors
    "ATCommandError": "celltls.errors",
    "ATError": "celltls.errors",
    "ATProtocolError": "celltls.errors",
    "ATTimeoutError": "celltls.errors",
    "CellTLSError": "celltls.errors",
    "CertificateExpiredError": "celltls.errors",
    "CertificateNotYetValidError": "celltls.errors",
    "CertificateVerifyError": "celltls.errors",
    "ConnectionRefusedByServer": "celltls.errors",
    "ConnectTimeoutError": "celltls.errors",
    "CredentialError": "celltls.errors",
    "DNSError": "celltls.errors",
    "EmptyReplyError": "celltls.errors",
    "HostnameCheckUnsupportedError": "celltls.errors",
    "HostnameMismatchError": "celltls.errors",
    "HTTPError": "celltls.errors",
    "HTTPStatusError": "celltls.errors",
    "InsecureRedirectError": "celltls.errors",
    "InvalidURLError": "celltls.errors",
    "ModuleRebootedError": "celltls.errors",
    "NetworkError": "celltls.errors",
    "NetworkLostError": "celltls.errors",
    "PartialBodyError": "celltls.errors",
    "PortError": "celltls.errors",
    "PortLostError": "celltls.errors",
    "ProfileError": "celltls.errors",
    "SocketError": "celltls.errors",
    "TLSError": "celltls.errors",
    "TLSHandshakeError": "celltls.errors",
    "TLSNegotiationError": "celltls.errors",
    "TooManyRedirectsError": "celltls.errors",
    "TranscriptError": "celltls.errors",
    "TransferTimeoutError": "celltls.errors",
    "UnsafeArgumentError": "celltls.errors",
    # celltls.http
    "BaseResponse": "celltls.http",
    "Headers": "celltls.http",
    "HTTPConnection": "celltls.http",
    "HTTPResponse": "celltls.http",
    # celltls.modem
    "Modem": "celltls.modem",
    "ModuleState": "celltls.state",
    # celltls.tls
    "Certificate": "celltls.tls",
    "PrivateKey": "celltls.tls",
    "TlsProfile": "celltls.tls",
    "TlsVersion": "celltls.tls",
    "Verify": "celltls.tls",
}

__all__ = [
    "ATCommandError",
    "ATError",
    "ATProtocolError",
    "ATTimeoutError",
    "BaseResponse",
    "Capabilities",
    "CellTLSError",
    "Certificate",
    "CertificateExpiredError",
    "CertificateNotYetValidError",
    "CertificateVerifyError",
    "ConnectTimeoutError",
    "ConnectionRefusedByServer",
    "CredentialError",
    "DNSError",
    "EmptyReplyError",
    "HTTPConnection",
    "HTTPError",
    "HTTPResponse",
    "HTTPStatusError",
    "Headers",
    "HostnameCheckUnsupportedError",
    "HostnameMismatchError",
    "InsecureRedirectError",
    "InvalidURLError",
    "Modem",
    "ModuleRebootedError",
    "ModuleState",
    "NetworkError",
    "NetworkLostError",
    "NetworkStatus",
    "PartialBodyError",
    "PortError",
    "PortLostError",
    "PrivateKey",
    "ProfileError",
    "SecureSocket",
    "Signal",
    "SocketError",
    "StoredCredential",
    "TLSError",
    "TLSHandshakeError",
    "TLSNegotiationError",
    "TlsProfile",
    "TlsVersion",
    "TooManyRedirectsError",
    "TranscriptError",
    "TransferTimeoutError",
    "UnsafeArgumentError",
    "Verify",
    "__version__",
]


if not TYPE_CHECKING:  # mypy sees the imports above, so that a misspelt name is still an error

    def __getattr__(name: str) -> Any:
        """Import a public name from its home module on first use (PEP 562).

        A sub-module's name (``celltls.tls``) imports that sub-module, as the eager imports
        of earlier versions made ``import celltls; celltls.tls.Verify`` work.

        Raises:
            AttributeError: ``name`` is neither a public name nor a sub-module of celltls.
        """
        home = _HOMES.get(name)
        if home is not None:
            value = getattr(importlib.import_module(home), name)
            globals()[name] = value  # the next lookup does not come here
            return value
        if not name.startswith("_"):
            module = f"{__name__}.{name}"
            try:
                return importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (:data:`__all__`) and what is already defined."""
    return sorted({*globals(), *__all__})
