"""The AT command layer: sans-IO protocol, argument quoting, 27.007 code tables, runners."""
