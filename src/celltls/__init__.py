"""celltls: TLS and HTTPS through a cellular module's AT command port."""
