"""Tables of 3GPP TS 27.007 / 27.005 codes: +CME ERROR, +CMS ERROR, registration states, signal.

Sources: 3GPP TS 27.007 section 9.2 (mobile termination error result codes), 7.2 (+CREG <stat>),
10.1.20 (+CGREG), 10.1.22 (+CEREG), 8.5 (+CSQ); 3GPP TS 27.005 section 3.2.5 (+CMS ERROR).
"""

from __future__ import annotations

from types import MappingProxyType

#: +CME ERROR: <err> numeric codes (27.007 9.2.1 general errors, 9.2.2 GPRS-related errors).
CME_ERRORS = MappingProxyType(
    {
        0: "phone failure",
        1: "no connection to phone",
        2: "phone-adaptor link reserved",
        3: "operation not allowed",
        4: "operation not supported",
        5: "PH-SIM PIN required",
        6: "PH-FSIM PIN required",
        7: "PH-FSIM PUK required",
        10: "SIM not inserted",
        11: "SIM PIN required",
        12: "SIM PUK required",
        13: "SIM failure",
        14: "SIM busy",
        15: "SIM wrong",
        16: "incorrect password",
        17: "SIM PIN2 required",
        18: "SIM PUK2 required",
        20: "memory full",
        21: "invalid index",
        22: "not found",
        23: "memory failure",
        24: "text string too long",
        25: "invalid characters in text string",
        26: "dial string too long",
        27: "invalid characters in dial string",
        30: "no network service",
        31: "network timeout",
        32: "network not allowed - emergency calls only",
        40: "network personalization PIN required",
        41: "network personalization PUK required",
        42: "network subset personalization PIN required",
        43: "network subset personalization PUK required",
        44: "service provider personalization PIN required",
        45: "service provider personalization PUK required",
        46: "corporate personalization PIN required",
        47: "corporate personalization PUK required",
        48: "hidden key required",
        49: "EAP method not supported",
        50: "incorrect parameters",
        51: "command implemented but currently disabled",
        52: "command aborted by user",
        53: "not attached to network due to MT functionality restrictions",
        54: "modem not allowed - MT restricted to emergency calls only",
        55: "operation not allowed because of MT functionality restrictions",
        56: "fixed dial number only allowed",
        57: "temporarily out of service due to other MT usage",
        58: "language/alphabet not supported",
        59: "unexpected data value",
        60: "system failure",
        61: "data missing",
        62: "call barred",
        63: "message waiting indication subscription failure",
        100: "unknown",
        103: "illegal MS",
        106: "illegal ME",
        107: "GPRS services not allowed",
        108: "GPRS services and non-GPRS services not allowed",
        111: "PLMN not allowed",
        112: "location area not allowed",
        113: "roaming not allowed in this location area",
        114: "GPRS services not allowed in this PLMN",
        115: "no suitable cells in tracking area",
        122: "congestion",
        125: "insufficient resources",
        126: "missing or unknown APN",
        127: "unknown PDP address or PDP type",
        128: "user authentication or authorization failed",
        129: "activation rejected by GGSN, Serving GW or PDN GW",
        130: "activation rejected, unspecified",
        131: "service option not supported",
        132: "requested service option not subscribed",
        133: "service option temporarily out of order",
        134: "NSAPI already used",
        148: "unspecified GPRS error",
        149: "PDP authentication failure",
        150: "invalid mobile class",
        171: "last PDN disconnection not allowed",
    }
)

#: +CMS ERROR: <err> codes (27.005 3.2.5), the ones a data session can meet.
CMS_ERRORS = MappingProxyType(
    {
        300: "ME failure",
        301: "SMS service of ME reserved",
        302: "operation not allowed",
        303: "operation not supported",
        304: "invalid PDU mode parameter",
        305: "invalid text mode parameter",
        310: "(U)SIM not inserted",
        311: "(U)SIM PIN required",
        312: "PH-(U)SIM PIN required",
        313: "(U)SIM failure",
        314: "(U)SIM busy",
        315: "(U)SIM wrong",
        316: "(U)SIM PUK required",
        317: "(U)SIM PIN2 required",
        318: "(U)SIM PUK2 required",
        320: "memory failure",
        321: "invalid memory index",
        322: "memory full",
        330: "SMSC address unknown",
        331: "no network service",
        332: "network timeout",
        340: "no +CNMA acknowledgement expected",
        500: "unknown error",
    }
)

#: <stat> of +CREG / +CGREG / +CEREG (27.007 7.2, 10.1.20, 10.1.22).
REGISTRATION_STATES = MappingProxyType(
    {
        0: "not registered, not searching",
        1: "registered, home network",
        2: "not registered, searching",
        3: "registration denied",
        4: "unknown",
        5: "registered, roaming",
        6: "registered for SMS only, home network",
        7: "registered for SMS only, roaming",
        8: "attached for emergency bearer services only",
        9: "registered for CSFB not preferred, home network",
        10: "registered for CSFB not preferred, roaming",
    }
)
REGISTERED = frozenset({1, 5})


def cme_meaning(code: int) -> str:
    """The 27.007 9.2 meaning of a ``+CME ERROR`` code, or ``"unknown code <n>"``."""
    return CME_ERRORS.get(code, f"unknown code {code} (vendor-specific)")


def cms_meaning(code: int) -> str:
    """The 27.005 3.2.5 meaning of a ``+CMS ERROR`` code, or ``"unknown code <n>"``."""
    return CMS_ERRORS.get(code, f"unknown code {code} (vendor-specific)")


def csq_to_dbm(rssi: int) -> int | None:
    """Convert a ``+CSQ`` <rssi> to dBm (27.007 8.5).

    Args:
        rssi: 0..31, or 99 for "not known or not detectable".

    Returns:
        int | None: -113 dBm for 0, -51 dBm for 31 (2 dB steps), ``None`` for 99.

    Raises:
        ValueError: ``rssi`` is outside 0..31 and is not 99.
    """
    if rssi == 99:
        return None
    if not 0 <= rssi <= 31:
        raise ValueError(f"+CSQ <rssi> {rssi} is outside 0..31 and 99")
    return -113 + 2 * rssi


#: <ber> of +CSQ (27.007 8.5): RXQUAL 0..7 as in 3GPP TS 45.008 8.2.4, 99 unknown.
BER_UNKNOWN = 99
