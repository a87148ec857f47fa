"""SIMCom modules (SIM800 family, SIM7000/SIM7070/SIM7080, A76xx/SIM7600): doctor-only dialect.

The manifest is :data:`celltls.dialects.simcom.plugin.DIALECT`.
"""
