"""Vendor dialects: one package each, with catalog, driver, virtual modem and diagnosis rules."""
