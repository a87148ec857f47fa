"""celltls: TLS connections and HTTPS requests through a cellular module's AT command port.

One API for every vendor dialect::

    from celltls import Certificate, Modem, TlsProfile

    with Modem("/dev/ttyUSB0", dialect="quectel-gsm") as modem:
        modem.attach(apn="internet")
        profile = TlsProfile(ca=Certificate.from_file("ca.pem"))
        print(modem.request("GET", "https://example.com/", profile=profile).read())
"""

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
    CertificateVerifyError,
    CredentialError,
    HTTPError,
    NetworkError,
    PortError,
    ProfileError,
    SocketError,
    TLSError,
    TLSHandshakeError,
    TLSNegotiationError,
    TranscriptError,
    UnsafeArgumentError,
)
from celltls.http import HTTPConnection, HTTPResponse
from celltls.modem import Modem
from celltls.tls import Certificate, PrivateKey, TlsProfile, TlsVersion, Verify

__version__ = "0.1.0"

__all__ = [
    "ATCommandError",
    "ATError",
    "ATProtocolError",
    "ATTimeoutError",
    "Capabilities",
    "CellTLSError",
    "Certificate",
    "CertificateVerifyError",
    "CredentialError",
    "HTTPConnection",
    "HTTPError",
    "HTTPResponse",
    "Modem",
    "NetworkError",
    "NetworkStatus",
    "PortError",
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
    "TranscriptError",
    "UnsafeArgumentError",
    "Verify",
    "__version__",
]
