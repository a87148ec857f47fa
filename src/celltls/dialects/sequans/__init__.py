"""Sequans Monarch / Monarch 2 dialect: decode-level catalog and diagnosis rules."""
