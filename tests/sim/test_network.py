"""The virtual network's connections (celltls.sim.network), below any dialect."""

from __future__ import annotations

import socket
import threading
import time

from celltls.sim.network import TcpConnection


def test_close_does_not_wait_for_a_reader_blocked_in_its_callback() -> None:
    """A modem closes a connection while it holds its own lock (AT+QICLOSE), and the
    connection's reader may be waiting for that lock to hand over data that just arrived.
    close() used to join the reader until its 1 s timeout ran out, a second added to every
    AT+QICLOSE; now it returns, and the callback runs (and is dropped by the modem, which no
    longer knows the socket) once the lock is free."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    conn = TcpConnection.open("127.0.0.1", port, timeout=5.0)
    peer, _ = server.accept()
    modem_lock = threading.Lock()
    entered, delivered = threading.Event(), []

    def on_data(data: bytes) -> None:
        entered.set()
        with modem_lock:
            delivered.append(data)

    try:
        with modem_lock:
            conn.start(on_data, lambda reason: None)
            peer.sendall(b"late data")
            assert entered.wait(5.0)
            started = time.monotonic()
            conn.close()  # with the lock held, as a modem's command handler does
            took = time.monotonic() - started
            assert not delivered  # the callback is still waiting for the lock
        assert took < 0.9, f"close() waited {took:.2f} s for a reader stuck in its callback"
        thread = conn._thread
        assert thread is not None
        thread.join(5.0)
        assert not thread.is_alive()
        assert delivered == [b"late data"]
    finally:
        peer.close()
        server.close()
