"""``boot: method: ipxe``: power-cycle, Ctrl-B at iPXE's banner, type the commands (or chain a script), log in.

iPXE fetches kernel and ramdisk itself (``kernel tftp://{SERVER_IP}/{KERNEL}``), so
the commands carry no load addresses. With ``use_bootscript: true`` the filled
commands are written as an iPXE script into the job's TFTP directory and only
``dhcp`` and ``chain tftp://...`` are typed: far fewer characters at the
slow per-character pace iPXE's serial console needs. Without ``prompts`` the
boot ends once the commands are typed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from lava_common.schemas.boot import BOOT_METHODS
from lava_dispatcher.action import Action, Pipeline
from lava_dispatcher.actions.boot.bootloader import (
    BootloaderCommands,
    BootloaderInterrupt,
    BootloaderOverlay,
    BootloaderSettings,
    BootScript,
)
from lava_dispatcher.actions.boot.connect import ConnectDevice
from lava_dispatcher.actions.boot.login import (
    add_shell_login,
)
from lava_dispatcher.actions.boot.reset import ResetDevice
from lava_dispatcher.device import DeviceConfig
from lava_dispatcher.methods import BootMethod, retry_count
from lava_dispatcher.plan import JobPlan, PlanBlock
from lava_dispatcher.retry import ConsoleBootRetry

if TYPE_CHECKING:
    pass

# iPXE expands its own ${netX/mac}: the MAC of the interface `dhcp` last opened, when the device names none
IPXE_DEFAULTS = {"LAVA_MAC": "${netX/mac}"}


def ipxe_script(commands: list[str]) -> str:
    return "#!ipxe\n\n" + "\n".join(commands) + "\n"


TFTP_HOST = re.compile(r"\btftp://([^/\s]+)/")


def ipxe_fetch_commands(values: dict[str, str], script: str, commands: list[str]) -> list[str]:
    """Bring the network up as the command list does (``dhcp`` by default), then chain the script
    from the TFTP server the list fetches its kernel from (``{SERVER_IP}`` when it names none)."""
    dhcp = next((c for c in commands if c.split()[:1] == ["dhcp"]), "dhcp")
    server = next((m.group(1) for m in map(TFTP_HOST.search, commands) if m), values["SERVER_IP"])
    return [dhcp, f"chain tftp://{server}/{script}"]


IPXE_SCRIPT = BootScript("script.ipxe", ipxe_script, ipxe_fetch_commands)


class IpxeAction(ConsoleBootRetry):
    name = "bootloader-action"
    description = "interactive iPXE action"
    summary = "pass iPXE commands"

    def build(self, pipeline: Pipeline, parameters: dict[str, Any]) -> None:
        settings = BootloaderSettings(self.device, "ipxe", parameters)
        commands = BootloaderCommands(settings)
        pipeline.add_action(
            BootloaderOverlay(self.device, "ipxe", commands, script=IPXE_SCRIPT, defaults=IPXE_DEFAULTS), parameters
        )
        pipeline.add_action(ConnectDevice(self.device), parameters)
        if parameters.get("reset", True) is not False:
            pipeline.add_action(ResetDevice(self.device), parameters)
        pipeline.add_action(BootloaderInterrupt(settings), parameters)
        pipeline.add_action(commands, parameters)
        if not parameters.get("prompts"):
            return  # nobody logs in: a later block (a monitor test...) reads the console from here
        add_shell_login(pipeline, parameters, error_messages=settings.error_messages)



class IpxeBoot(BootMethod):
    name = "ipxe"
    schema = BOOT_METHODS["ipxe"]

    @classmethod
    def build(cls, device: DeviceConfig, block: PlanBlock, plan: JobPlan) -> Action:
        return IpxeAction(device, retry_count(device, block))
