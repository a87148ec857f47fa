"""Sierra Wireless AirPrime dialect (RC76xx and HL78xx, the "K" command set).

Registers the virtual modem with :mod:`celltls.sim.serve` when imported.
"""
