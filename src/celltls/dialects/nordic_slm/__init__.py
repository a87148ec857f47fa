"""Nordic nRF91 Serial LTE Modem (SLM) dialect: decode-level catalog and diagnosis rules."""
