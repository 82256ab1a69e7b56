"""Boot actions: ``method:`` selects the schema. ``BOOT_METHODS`` lists every known method."""

from lava_common.schemas.common import (
    ACTION,
    AUTO_LOGIN,
    DOCKER,
    FREE_MAPPING,
    NAME,
    OS,
    PROMPTS,
    STR_OR_STRINGS,
    STRINGS,
    TRANSFER_OVERLAY,
)
from lava_common.schemas.engine import AnyOf, Bool, Const, Dict, Enum, Int, Node, Str, Tagged, named

PARAMETERS = named("boot-parameters", Dict(
    optional={
        "bootloader-final-message": Str(),
        "kernel-start-message": Str(),
        "shutdown-message": Str(),
        "hostID": Str(),
        "host_key": Str(),
    }
))

_BOOT = ACTION.extend(
    optional={
        "prompts": PROMPTS,
        "auto_login": AUTO_LOGIN,
        "transfer_overlay": TRANSFER_OVERLAY,
        "parameters": PARAMETERS,
        "soft_reboot": STR_OR_STRINGS,
        "ignore_kernel_messages": Bool(),
        "connection": Str(),
        "expect_shell": Bool(),
        "docker": DOCKER,
    }
)

# a command list named in the device configuration, or written inline
COMMANDS = named("boot-commands", AnyOf(NAME, STRINGS, description="a command list name or a list of commands"))


def _boot(method: str, required: dict[str, Node] | None = None, optional: dict[str, Node] | None = None) -> Dict:
    return named(f"boot-{method}", _BOOT.extend({"method": Const(method), **(required or {})}, optional,
                                                description=f"a {method} boot block (a mapping)"))


def _bootloader(method: str, **optional: Node) -> Dict:
    """Methods that type commands into an interactive bootloader."""
    extras = {"bootloader_prompt": Str(), "use_bootscript": Bool(), "type": Str(), "kernel": Str(),
              "ramdisk": Str(), "dtb": Str(), "root_uuid": Str(), "boot_part": AnyOf(Int(min=0), Str()),
              "kernel_type": Str(), "reset": Bool()}
    return _boot(method, {"commands": COMMANDS}, {**extras, **optional})


_FIRMWARE_TOOL = {"coretype": Str(), "board_id": Str()}

BOOT_METHODS: dict[str, Node] = {
    "avh": _boot("avh", optional={"bootargs": FREE_MAPPING}),
    "barebox": _bootloader("barebox"),
    "bootloader": _boot("bootloader", {"bootloader": NAME, "commands": COMMANDS}, {"use_bootscript": Bool()}),
    "cmsis-dap": _boot("cmsis-dap"),
    "depthcharge": _bootloader("depthcharge"),
    "dfu": _boot("dfu"),
    "docker": _boot("docker", {"command": NAME}, {"local": Bool()}),
    "fastboot": _boot("fastboot", optional={"commands": COMMANDS}),
    "fvp": _boot("fvp", {"image": NAME, "console_string": NAME}, {
        "version_string": Str(), "arguments": STRINGS, "license_variable": Str(), "ubl_license": Str(),
        "use_telnet": Bool(), "feedbacks": STRINGS, "erpc_app": Str(), "commands": COMMANDS,
    }),
    "gdb": _boot("gdb", {"commands": COMMANDS}, {"container": Str()}),
    "grub": _bootloader("grub", boot_finished=STR_OR_STRINGS),
    "grub-efi": _bootloader("grub-efi", boot_finished=STR_OR_STRINGS),
    "ipxe": _bootloader("ipxe"),
    "jlink": _boot("jlink", optional={"commands": COMMANDS, **_FIRMWARE_TOOL}),
    "kexec": _boot("kexec", {"kernel": NAME}, {
        "initrd": Str(), "dtb": Str(), "command": Str(), "options": STRINGS, "kernel-config": Str(),
        "boot_message": Str(),
    }),
    "lxc": _boot("lxc"),
    "minimal": _boot("minimal", optional={"reset": Bool(), "pre_power_command": Bool(),
                                          "pre_os_command": Bool()}),
    "monitor": _boot("monitor"),
    "musca": _boot("musca"),
    "new_connection": _boot("new_connection", {"connection": NAME}),
    "nodebooter": _boot("nodebooter"),
    "openocd": _boot("openocd"),
    "pyocd": _boot("pyocd"),
    "qdl": _boot("qdl", optional={"firehose_program": Str(), "rawprogram": STR_OR_STRINGS,
                                  "patch": STR_OR_STRINGS, "storage": Str(), "path": Str(), "debug": Bool()}),
    "qemu": _boot("qemu", optional={"media": Enum(("tmpfs",), label="qemu media")}),
    "qemu-iso": _boot("qemu-iso", optional={"media": Enum(("img",), label="qemu-iso media")}),
    "qemu-nfs": _boot("qemu-nfs", optional={"media": Enum(("nfs",), label="qemu-nfs media")}),
    "recovery": _boot("recovery", {"commands": Enum(("recovery", "exit"), label="recovery command")}),
    "schroot": _boot("schroot", {"schroot": NAME}, {"os": OS}),
    "ssh": _boot("ssh"),
    "u-boot": _bootloader("u-boot"),
    "uefi": _boot("uefi", optional={"commands": COMMANDS, "shell_menu": Str()}),
    "uefi-menu": _boot("uefi-menu", optional={"commands": COMMANDS, "line_separator": Enum(("dos", "unix"),
                                                                                          label="line separator")}),
    "uuu": _boot("uuu", {"commands": Node()}, {"skip_uuu_if_bootloader_valid": Bool()}),
}

BOOT = Tagged("method", BOOT_METHODS, label="boot method")
