"""Fault injection for virtual modems: what tests do to a modem to see the host cope.

:class:`FaultEngine` adds to :class:`celltls.sim.general.GeneralEngine` the faults a real
deployment meets, each as one call a test (or ``celltls sim``) makes while the host talks to the
modem:

- line noise: :meth:`FaultEngine.fault_garble` corrupts the next bytes the modem writes;
- the network: :meth:`FaultEngine.fault_lose_registration` /
  :meth:`FaultEngine.fault_restore_registration` (3GPP TS 27.007 7.2 ``<stat>``, with the
  registration URCs the host enabled), :meth:`FaultEngine.fault_deactivate_pdp` (the network
  deactivates the PDP context, 27.007 10.1.10);
- the module: :meth:`FaultEngine.reboot` (RAM lost, non-volatile memory kept);
- the dialect's data path: :meth:`FaultEngine.fault_fail_next_send` (the dialect's send
  command fails; the dialect asks :meth:`FaultEngine.take_send_fault`) and
  :meth:`FaultEngine.fault_server_close` (the remote server closes a connection; the dialect
  implements :meth:`FaultEngine.on_server_close`).

Every call takes the engine's lock, so it may come from any thread.
"""

from __future__ import annotations

from celltls.sim.general import GeneralEngine

__all__ = ["FaultEngine"]


class FaultEngine(GeneralEngine):
    """A virtual modem with the 27.007 general commands and a fault injection API.

    Takes :class:`~celltls.sim.general.GeneralEngine`'s arguments. Subclasses implement
    :meth:`on_server_close` and consult :meth:`take_send_fault` in their send command.
    """

    def _reset_state(self) -> None:
        super()._reset_state()
        self._garble = 0
        self._fail_next_send = False

    def _emit(self, data: bytes) -> None:
        if data and self._garble > 0:
            n = min(self._garble, len(data))
            noise = bytes((b ^ 0x5A) or 0x7F for b in data[:n])
            data = noise + data[n:]
            self._garble -= n
        super()._emit(data)

    # ------------------------------------------------------------------ hooks
    def on_server_close(self, socket_id: int) -> None:
        """Called (lock held) to make the server close connection ``socket_id``.

        Raises:
            ValueError: there is no such open connection (always, unless a dialect overrides).
        """
        raise ValueError(f"no connection {socket_id}")

    # ------------------------------------------------------------------ faults
    def fault_lose_registration(self, stat: int = 0) -> None:
        """Lose network registration (27.007 7.2 ``<stat>``, 0 = not registered, not searching).

        The PS attachment and every PDP context go with it.
        """
        self.lose_registration(stat)

    def fault_restore_registration(self, stat: int = 1) -> None:
        """Register again (``stat`` 1 home, 5 roaming) and attach to the PS domain."""
        self.restore_registration(stat)

    def fault_deactivate_pdp(self) -> None:
        """The network deactivates the PDP context; open connections close."""
        with self.lock:
            self.on_pdp_deactivated()

    def fault_garble(self, count: int) -> None:
        """Corrupt the next ``count`` bytes the modem writes (line noise).

        Each corrupted byte is XORed with 0x5A (0x7F where that gives NUL).
        """
        with self.lock:
            self._garble += count

    def fault_fail_next_send(self) -> None:
        """Make the next send operation of the dialect fail."""
        with self.lock:
            self._fail_next_send = True

    def take_send_fault(self) -> bool:
        """Whether a send fault is armed; it is consumed."""
        with self.lock:
            armed, self._fail_next_send = self._fail_next_send, False
            return armed

    def fault_server_close(self, socket_id: int) -> None:
        """Make the remote server close connection ``socket_id``.

        Raises:
            ValueError: there is no such open connection.
        """
        with self.lock:
            self.on_server_close(socket_id)
