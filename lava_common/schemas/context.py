"""The job ``context``: the few device template variables a job may override.

Only whitelisted names are accepted (plus the lab's ``EXTRA_CONTEXT_VARIABLES``):
a context key can change how the dispatcher drives the board, so admins
decide which ones users get.
"""

from typing import Any

from lava_common.schemas.engine import Context, Custom, child, kind, named, show

QEMU_CONTEXT = (
    "arch", "boot_console", "boot_root", "cpu", "extra_options", "guestfs_driveid", "guestfs_interface",
    "guestfs_size", "machine", "memory", "model", "monitor", "netdevice", "no_kvm", "no_network", "serial",
    "vga",
)
UBOOT_CONTEXT = tuple(
    f"{command}_{part}_addr" for command in ("booti", "bootm", "bootz") for part in ("kernel", "ramdisk", "dtb")
)
OTHER_CONTEXT = (
    "boot_character_delay", "boot_retry", "bootloader_prompt", "console_device", "custom_kernel_args",
    "deploy_character_delay", "extra_kernel_args", "extra_nfsroot_args", "failure_retry", "kernel_loglevel",
    "kernel_start_message", "lava_test_results_dir", "menu_interrupt_prompt", "mustang_menu_list",
    "test_character_delay", "tftp_mac_address", "uboot_altbank", "uboot_extra_error_message",
    "uboot_needs_interrupt",
)
CONTEXT_VARIABLES = frozenset(QEMU_CONTEXT + UBOOT_CONTEXT + OTHER_CONTEXT)


def _is_scalar(value: Any) -> bool:
    # bool counts: the reference accepts it as an int, and no_kvm: true is common
    return type(value) in (str, int, bool)


def _check_context(value: Any, path: str, ctx: Context) -> None:
    if type(value) is not dict:
        ctx.error(path, f"expected a mapping of context variables, got {kind(value)}")
        return
    for key, entry in value.items():
        where = child(path, key)
        if type(key) is not str:
            ctx.error(where, f"keys must be strings, got {kind(key)}")
            continue
        if key not in CONTEXT_VARIABLES and key not in ctx.context_names:
            ctx.error(where, f"{show(key)} is not a context variable this lab allows")
            continue
        if type(entry) is list:
            for index, element in enumerate(entry):
                if not _is_scalar(element):
                    ctx.error(f"{where}[{index}]", f"expected a string or a number, got {kind(element)}")
        elif not _is_scalar(entry):
            ctx.error(where, f"expected a string, a number or a list of them, got {kind(entry)}")


CONTEXT = named("context", Custom(
    _check_context,
    json={
        "type": "object",
        "propertyNames": {"enum": sorted(CONTEXT_VARIABLES)},
        "additionalProperties": {
            "anyOf": [
                {"type": ["string", "integer", "boolean"]},
                {"type": "array", "items": {"type": ["string", "integer", "boolean"]}},
            ]
        },
    },
    description="a mapping of context variables",
    accepts=lambda v: type(v) is dict,
))
