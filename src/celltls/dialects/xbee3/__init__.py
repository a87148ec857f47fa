"""Digi XBee 3 Cellular dialect: decode-level catalog and diagnosis rules."""
