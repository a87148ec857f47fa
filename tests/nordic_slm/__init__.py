"""Tests of the Nordic nRF91 Serial LTE Modem dialect."""
