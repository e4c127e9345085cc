"""The Cozify Hub simulator: one cloud, one or more hubs and a HAN reader decoy."""

from collections.abc import Callable, Sequence
from typing import Any

from ..params import check_durations
from ..secrets import remember
from .cloud import CloudServer
from .faults import LISTENER_FAULTS, CozifyFault, FaultBoard
from .hub import DecoyServer, HubServer, Part, Signer


class CozifySimulator:
    """A Cozify account: the cloud (login, hub keys, relay) and its hubs.

    Hub 0 is "Koti" (the full home), hub 1 "Mökki". Every hub is reachable on
    its own LAN listener and through the cloud relay (in-process, so the relay
    works while the LAN listener is offline). Faults are shared: set them here
    or on any listener's ``/_sim/fault``.
    """

    def __init__(
        self,
        email: str = "maija@example.com",
        *,
        hubs: int = 2,
        cloud_base: str = "/ui/0.2",
        lan_ip_form: str = "url",
        lan_hubs: Sequence[int] = (0,),
        lan_decoy: bool = True,
        cloud_token_lifetime: float = 28 * 86400.0,
        hub_key_lifetime: float = 7 * 86400.0,
        code_lifetime: float = 600.0,
        change_interval: float | None = None,
        hub_version: str = "1.14.9.124",
        extra_delta: bool = True,
        poll_as_list: bool = False,
        command_delay: float = 0.2,
        strict_commands: bool = False,
    ) -> None:
        if hubs < 1:
            raise ValueError("hubs must be at least 1")
        if any(not 0 <= index < hubs for index in lan_hubs):
            raise ValueError("lan_hubs must name existing hubs")
        check_durations(
            {
                "cloud_token_lifetime": cloud_token_lifetime,
                "hub_key_lifetime": hub_key_lifetime,
                "code_lifetime": code_lifetime,
                **({"change_interval": change_interval} if change_interval else {}),
            },
            {"command_delay": command_delay},
        )
        remember(email)
        self.email = email
        self.change_interval = change_interval
        """Seconds between simulated state changes (None: only on demand)."""
        self._board = FaultBoard(self._switched)
        signer = Signer()
        self.hubs = [
            HubServer(
                index,
                self._board,
                signer,
                version=hub_version,
                extra_delta=extra_delta,
                poll_as_list=poll_as_list,
                command_delay=command_delay,
                strict_commands=strict_commands,
            )
            for index in range(hubs)
        ]
        self.decoy = DecoyServer(self._board) if lan_decoy else None
        self.cloud = CloudServer(
            self._board,
            signer,
            self.hubs,
            email=email,
            base=cloud_base,
            token_lifetime=cloud_token_lifetime,
            hub_key_lifetime=hub_key_lifetime,
            code_lifetime=code_lifetime,
            lan_ip_form=lan_ip_form,
            lan_hubs=lan_hubs,
            decoy=self.decoy,
        )

    @property
    def strict_commands(self) -> bool:
        """Whether the hubs refuse (400) read-only and unsupported CMD_DEVICE keys."""
        return self.hub.strict_commands

    @strict_commands.setter
    def strict_commands(self, strict: bool) -> None:
        for hub in self.hubs:
            hub.strict_commands = strict

    @property
    def hub(self) -> HubServer:
        """Hub 0, "Koti"."""
        return self.hubs[0]

    @property
    def parts(self) -> list[Part]:
        """Every listener: the cloud, the hubs, the decoy."""
        decoy: list[Part] = [self.decoy] if self.decoy is not None else []
        return [self.cloud, *self.hubs, *decoy]

    async def start(
        self,
        host: str = "127.0.0.1",
        cloud_port: int = 0,
        hub_ports: Sequence[int] | None = None,
        *,
        tls: bool = False,
    ) -> None:
        """Start every listener (port 0 or ``hub_ports`` None: free ports).

        ``tls``: the cloud serves HTTPS with a self-signed certificate.
        """
        ports = list(hub_ports) if hub_ports is not None else [0] * len(self.hubs)
        if len(ports) != len(self.hubs):
            raise ValueError("hub_ports needs one port per hub")
        try:
            for hub, port in zip(self.hubs, ports, strict=True):
                await hub.start(host, port)
            if self.decoy is not None:
                await self.decoy.start(host)
            await self.cloud.start(host, cloud_port, tls=tls)
        except BaseException:
            await self.stop()
            raise
        for fault in LISTENER_FAULTS:
            if self._board.get(fault) is not None:
                self._switched(fault, True)
        if self.change_interval:
            for hub in self.hubs:
                hub.run_changes(self.change_interval)

    async def stop(self) -> None:
        """Stop every listener and timer."""
        for part in self.parts:
            await part.stop()

    @property
    def cloud_url(self) -> str:
        """The cloud base URL incl. its base path (``http://host:port/ui/0.2``)."""
        return self.cloud.url + self.cloud.base

    # ---- account ----------------------------------------------------------------

    @property
    def last_code(self) -> str | None:
        """The newest one-time code mailed (None before the first)."""
        return self.cloud.last_code

    @property
    def codes_sent(self) -> int:
        """How many codes were mailed."""
        return self.cloud.codes_sent

    @property
    def on_code(self) -> Callable[[str], None] | None:
        """Called with each new code (the CLI prints it; never log it)."""
        return self.cloud.on_code

    @on_code.setter
    def on_code(self, callback: Callable[[str], None] | None) -> None:
        self.cloud.on_code = callback

    def expire_codes_now(self) -> None:
        """Refuse every code mailed so far."""
        self.cloud.expire_codes_now()

    def expire_cloud_tokens_now(self) -> None:
        """Refuse (401) every cloud token issued so far, refreshsession too."""
        self.cloud.expire_tokens_now()

    # ---- faults -----------------------------------------------------------------

    @property
    def faults(self) -> dict[str, dict[str, Any]]:
        """Active faults with their parameters."""
        return self._board.active

    def set_fault(self, fault: CozifyFault | str, **params: Any) -> None:
        """Switch a fault on (replacing its parameters if already on)."""
        self._board.set(fault, **params)

    def clear_fault(self, fault: CozifyFault | str) -> None:
        """Switch one fault off (no error when it was off)."""
        self._board.clear(fault)

    def clear_faults(self) -> None:
        """Switch every fault off."""
        self._board.clear_all()

    def _switched(self, fault: CozifyFault, on: bool) -> None:
        """Take hub 0's LAN listener or the cloud down (or back) with its fault."""
        server = {
            CozifyFault.LAN_UNREACHABLE: self.hub,
            CozifyFault.CLOUD_DOWN: self.cloud,
        }.get(fault)
        if server is not None:
            server.listen(not on)
