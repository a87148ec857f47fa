"""Quectel LTE modules (BG95/BG96/BG77, EC2x/EG2x): doctor-only dialect (catalog and rules).

The manifest is :data:`celltls.dialects.quectel_lte.plugin.DIALECT`.
"""
