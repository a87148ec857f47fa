"""Quectel GSM modules (M66, M95, MC60, M26, UC15): SSL sockets through +QSSL commands."""
