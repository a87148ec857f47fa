"""The celltls exception hierarchy.

Every error celltls raises derives from :class:`CellTLSError`. Each class carries the context a
user needs to act: the command that failed, the raw response, the numeric code and its meaning.

::

    CellTLSError
    ├── UnsafeArgumentError        a value that cannot be sent safely on a command line
    ├── ATError
    │   ├── ATCommandError         final result code ERROR / +CME ERROR / +CMS ERROR / other failure
    │   ├── ATTimeoutError         no final result code within the command's timeout
    │   ├── ATProtocolError        a malformed or unexpected response
    │   └── PortError              the serial port (or socket://) could not be opened or was lost
    ├── NetworkError               registration, PDP context, DNS, TCP connect failures
    ├── TLSError
    │   ├── CertificateVerifyError the server's certificate could not be verified
    │   ├── TLSNegotiationError    no common protocol version / cipher suite with the server
    │   └── TLSHandshakeError      the handshake failed for another (or unknown) reason
    ├── CredentialError            a certificate or key cannot be used or was not stored intact
    ├── ProfileError               a TlsProfile the module cannot implement
    ├── SocketError                a secure socket failed (closed by peer, send failure)
    ├── HTTPError                  malformed HTTP from the server
    └── TranscriptError            an unreadable transcript
"""

from __future__ import annotations


class CellTLSError(Exception):
    """Base class of every error raised by celltls."""


class UnsafeArgumentError(CellTLSError, ValueError):
    """A value cannot be placed on an AT command line safely.

    Raised by :mod:`celltls.at.quoting` before anything is written to the port.

    Attributes:
        field: the name of the parameter (``"host"``, ``"apn"``...).
        value: the offending value, as given (never a secret: secret fields are masked).
        reason: what is wrong with it.
    """

    def __init__(self, field: str, value: str, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field} {value!r} cannot be sent to the module: {reason}")


class ATError(CellTLSError):
    """An error on the AT command level."""


class ATCommandError(ATError):
    """A command ended in a failure final result code.

    Attributes:
        command: the command line sent (secrets masked).
        response: every response line received for it, the final result code last.
        code: the numeric error code (``+CME ERROR: <n>``) or ``None`` for a plain ``ERROR``.
        meaning: the meaning of the code from the catalog (3GPP TS 27.007 9.2 or the vendor's).
        kind: ``"ERROR"``, ``"CME"``, ``"CMS"`` or the vendor result (``"SEND FAIL"``...).
    """

    def __init__(
        self,
        command: str,
        response: list[str],
        *,
        kind: str = "ERROR",
        code: int | None = None,
        meaning: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.command = command
        self.response = list(response)
        self.kind = kind
        self.code = code
        self.meaning = meaning
        self.hint = hint
        last = response[-1] if response else kind
        text = f"{command!r} failed: {last}"
        if meaning:
            text += f" ({meaning})"
        if hint:
            text += f". {hint}"
        super().__init__(text)


class ATTimeoutError(ATError, TimeoutError):
    """No final result code (or awaited URC) arrived in time.

    Attributes:
        command: the command line (or the awaited event) that timed out.
        timeout: the timeout that expired, in seconds.
        partial: the response lines received before the timeout.
    """

    def __init__(self, command: str, timeout: float, partial: list[str] | None = None) -> None:
        self.command = command
        self.timeout = timeout
        self.partial = list(partial or [])
        got = f"; received so far: {self.partial!r}" if self.partial else ""
        super().__init__(f"no answer to {command!r} within {timeout:g} s{got}")


class ATProtocolError(ATError):
    """The module sent something the protocol does not allow here."""


class PortError(ATError, OSError):
    """The serial port could not be opened, or it was lost."""


class NetworkError(CellTLSError):
    """Registration, PDP context activation, DNS or TCP connection failure."""


class TLSError(CellTLSError):
    """A TLS failure reported by (or diagnosed for) the module.

    Attributes:
        host, port: the server.
        detail: what the module reported, verbatim.
        evidence: what celltls found out about the cause, one sentence an item.
    """

    def __init__(
        self, message: str, *, host: str = "", port: int = 0, detail: str = "",
        evidence: list[str] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.detail = detail
        self.evidence = list(evidence or [])
        text = message
        if self.evidence:
            text += " [" + "; ".join(self.evidence) + "]"
        super().__init__(text)


class CertificateVerifyError(TLSError):
    """The module could not verify the server's certificate with the CA it was given."""


class TLSNegotiationError(TLSError):
    """The module and the server share no protocol version or cipher suite."""


class TLSHandshakeError(TLSError):
    """The TLS handshake failed and the cause could not be narrowed down."""


class CredentialError(CellTLSError):
    """A certificate or key is unusable, too large, wrongly named, or was stored corrupted."""


class ProfileError(CellTLSError, ValueError):
    """A :class:`celltls.TlsProfile` asks for something the module cannot do."""


class SocketError(CellTLSError, OSError):
    """A secure socket failed: closed by the peer, send failure, or not open."""


class HTTPError(CellTLSError):
    """The server's HTTP response could not be parsed."""


class TranscriptError(CellTLSError, ValueError):
    """A transcript line could not be read."""
