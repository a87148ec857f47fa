"""Code tables the doctor needs beyond :mod:`celltls.at.codes`: reject causes, SMS errors,
``+CFUN`` levels, verbose ``+CME ERROR`` texts and IANA TLS cipher-suite names.

Sources: 3GPP TS 24.301 9.9.3.9 (EMM cause), 3GPP TS 24.008 10.5.5.14 (GMM cause), 3GPP TS 24.011
8.2.5.4 (RP cause, ``+CMS ERROR`` 1-127), 3GPP TS 23.040 9.2.3.22 (TP-Failure-Cause, 128-255),
3GPP TS 27.005 3.2.5 (300-500), 3GPP TS 27.007 8.2 (``+CFUN``), 9.2 (``+CME ERROR``); IANA "TLS
Cipher Suites" registry (RFC 5246, 8446 and the RFCs it cites).
"""

from __future__ import annotations

from types import MappingProxyType

from celltls.at.codes import CME_ERRORS, CMS_ERRORS

__all__ = [
    "CFUN_LEVELS",
    "CIPHER_SUITES",
    "CMS_ALL",
    "REJECT_CAUSES",
    "cipher_name",
    "cme_code_from_text",
]

#: EMM (24.301 9.9.3.9) and GMM (24.008 10.5.5.14) cause values, as +CEREG/+CGREG
#: <reject_cause> with <cause_type> 0 report them (27.007 10.1.22).
REJECT_CAUSES = MappingProxyType({
    2: "IMSI unknown in HSS/HLR (the SIM is not provisioned on this network)",
    3: "illegal UE/MS (the network refuses this SIM)",
    5: "IMEI not accepted",
    6: "illegal ME (the device is barred)",
    7: "EPS/GPRS services not allowed (no data plan on this SIM)",
    8: "EPS/GPRS and non-EPS services not allowed",
    9: "UE identity cannot be derived by the network",
    10: "implicitly detached",
    11: "PLMN not allowed (this operator refuses the SIM)",
    12: "tracking/location area not allowed",
    13: "roaming not allowed in this tracking area",
    14: "EPS/GPRS services not allowed in this PLMN",
    15: "no suitable cells in tracking area",
    16: "MSC temporarily not reachable",
    17: "network failure",
    18: "CS domain not available",
    19: "ESM failure (often: the APN was refused during attach)",
    20: "MAC failure",
    21: "synch failure",
    22: "congestion",
    23: "UE security capabilities mismatch",
    24: "security mode rejected, unspecified",
    25: "not authorized for this CSG",
    26: "non-EPS authentication unacceptable",
    35: "requested service option not authorized in this PLMN",
    39: "CS service temporarily not available",
    40: "no EPS bearer context activated",
    42: "severe network failure",
    95: "semantically incorrect message",
    96: "invalid mandatory information",
    97: "message type non-existent or not implemented",
    98: "message type not compatible with the protocol state",
    99: "information element non-existent or not implemented",
    100: "conditional IE error",
    101: "message not compatible with the protocol state",
    111: "protocol error, unspecified",
})

_RP_CAUSES = {
    1: "unassigned (unallocated) number", 8: "operator determined barring", 10: "call barred",
    21: "short message transfer rejected", 27: "destination out of service",
    28: "unidentified subscriber", 29: "facility rejected", 30: "unknown subscriber",
    38: "network out of order", 41: "temporary failure", 42: "congestion",
    47: "resources unavailable, unspecified", 50: "requested facility not subscribed",
    69: "requested facility not implemented", 81: "invalid short message transfer reference",
    95: "invalid message, unspecified", 96: "invalid mandatory information",
    97: "message type non-existent or not implemented",
    98: "message not compatible with short message protocol state",
    99: "information element non-existent or not implemented", 111: "protocol error, unspecified",
    127: "interworking, unspecified",
}
_TP_FAILURE = {
    128: "telematic interworking not supported", 129: "short message type 0 not supported",
    130: "cannot replace short message", 143: "unspecified TP-PID error",
    144: "data coding scheme (alphabet) not supported", 145: "message class not supported",
    159: "unspecified TP-DCS error", 160: "command cannot be actioned",
    161: "command unsupported", 175: "unspecified TP-Command error", 176: "TPDU not supported",
    192: "SC busy", 193: "no SC subscription", 194: "SC system failure",
    195: "invalid SME address", 196: "destination SME barred", 197: "SM rejected: duplicate SM",
    198: "TP-VPF not supported", 199: "TP-VP not supported", 208: "(U)SIM SMS storage full",
    209: "no SMS storage capability in (U)SIM", 210: "error in MS",
    211: "memory capacity exceeded", 212: "(U)SIM application toolkit busy",
    213: "(U)SIM data download error", 255: "unspecified error cause",
}
#: +CMS ERROR codes: 1-127 RP causes (24.011), 128-255 TP-FCS (23.040), 300-500 (27.005).
CMS_ALL = MappingProxyType({**_RP_CAUSES, **_TP_FAILURE, **CMS_ERRORS})

#: +CFUN <fun> levels (27.007 8.2); 5-127 are manufacturer specific.
CFUN_LEVELS = MappingProxyType({
    0: "minimum functionality (radio and SIM off)",
    1: "full functionality",
    2: "transmit RF circuits off",
    3: "receive RF circuits off",
    4: "transmit and receive RF circuits off (flight mode)",
})

_CME_BY_TEXT = {text.lower(): code for code, text in CME_ERRORS.items()}


def cme_code_from_text(text: str) -> int | None:
    """The number of a verbose ``+CME ERROR`` text (``AT+CMEE=2``), if 27.007 9.2 defines it.

    Args:
        text: the text after ``+CME ERROR:`` (``"operation not allowed"``), any case.

    Returns:
        int | None: the code (3 for "operation not allowed"), ``None`` when unknown.
    """
    return _CME_BY_TEXT.get(" ".join(text.strip().lower().split()))


#: IANA TLS cipher-suite registry: value -> name (the suites modules' manuals list).
CIPHER_SUITES = MappingProxyType({
    0x0004: "TLS_RSA_WITH_RC4_128_MD5",
    0x0005: "TLS_RSA_WITH_RC4_128_SHA",
    0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
    0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256",
    0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    0x008A: "TLS_PSK_WITH_RC4_128_SHA",
    0x008B: "TLS_PSK_WITH_3DES_EDE_CBC_SHA",
    0x008C: "TLS_PSK_WITH_AES_128_CBC_SHA",
    0x008D: "TLS_PSK_WITH_AES_256_CBC_SHA",
    0x0093: "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA",
    0x0094: "TLS_RSA_PSK_WITH_AES_128_CBC_SHA",
    0x0095: "TLS_RSA_PSK_WITH_AES_256_CBC_SHA",
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",
    0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    0x00A8: "TLS_PSK_WITH_AES_128_GCM_SHA256",
    0x00A9: "TLS_PSK_WITH_AES_256_GCM_SHA384",
    0x00AC: "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
    0x00AD: "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",
    0x00AE: "TLS_PSK_WITH_AES_128_CBC_SHA256",
    0x00AF: "TLS_PSK_WITH_AES_256_CBC_SHA384",
    0x00B6: "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256",
    0x00B7: "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384",
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0xC002: "TLS_ECDH_ECDSA_WITH_RC4_128_SHA",
    0xC003: "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
    0xC004: "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
    0xC005: "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
    0xC007: "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    0xC008: "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
    0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    0xC00C: "TLS_ECDH_RSA_WITH_RC4_128_SHA",
    0xC00D: "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC00E: "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",
    0xC00F: "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA",
    0xC011: "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    0xC012: "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0xC023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC025: "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC026: "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    0xC029: "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
    0xC02A: "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
})


def cipher_name(value: int | str) -> str:
    """The IANA name of a cipher suite, with its hex value.

    Args:
        value: the suite's number, or its hex text (``"0xC02F"``, ``"C02F"``, ``"c0,2f"``).

    Returns:
        str: ``"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (0xC02F)"``; ``"0xFFFF (all suites the
        module has)"`` for the Quectel/SIMCom "all" value; ``"0x1234 (not in the IANA list)"``
        otherwise; the text unchanged when it is not a number.
    """
    if isinstance(value, str):
        digits = value.strip().strip('"').replace(",", "").replace('"', "").replace(" ", "")
        digits = digits[2:] if digits.lower().startswith("0x") else digits
        try:
            number = int(digits, 16)
        except ValueError:
            return value
    else:
        number = value
    if number == 0xFFFF:
        return "0xFFFF (all suites the module has)"
    name = CIPHER_SUITES.get(number)
    return f"{name} (0x{number:04X})" if name else f"0x{number:04X} (not in the IANA list)"
