"""A bootloader boot from the secondary media a ``deploy: to: usb|sata|sd`` wrote (``commands: usb``...).

The boot block names the files inside the written image (``kernel``, ``ramdisk``, ``dtb``: paths
on its boot partition), the partition (``boot_part``), the root the kernel mounts (``root_uuid``,
e.g. ``UUID=...`` or ``/dev/sda2``) and the kernel's type (``kernel_type``: bootz, booti, bootm).
They fill the command list's placeholders: ``{KERNEL}``, ``{RAMDISK}``, ``{DTB}``, ``{ROOT}`` and
``{ROOT_PART}``, which is ``<device_id>:<boot_part>`` for a partition number (U-Boot's
``load usb 0:1``; the device_id is the media's in the dictionary) and ``boot_part`` as written
otherwise (GRUB's ``(hd0,gpt1)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lava_dispatcher.context import RemovableMedia
from lava_dispatcher.device import DeviceConfig

if TYPE_CHECKING:
    from lava_dispatcher.context import JobContext

MEDIA_KINDS = ("usb", "sata", "sd")


def media_boot(device: DeviceConfig, parameters: dict[str, Any]) -> str | None:
    """The media kind when the block boots one: its named command list is media the device has."""
    chosen = parameters.get("commands")
    media = device.parameters.get("media") or {}
    return chosen if isinstance(chosen, str) and chosen in MEDIA_KINDS and chosen in media else None


def check_media_boot(device: DeviceConfig, parameters: dict[str, Any]) -> list[str]:
    """What a boot from secondary media needs from its block (and its device)."""
    chosen = parameters.get("commands")
    kind = media_boot(device, parameters)
    if kind is None:
        if chosen not in MEDIA_KINDS:
            return []
        return [f"commands: {chosen}: the device has no {chosen} media (parameters.media.{chosen}: "
                f"set {chosen}_uuid in its dictionary)"]
    errors = []
    if not parameters.get("kernel"):
        errors.append(f"commands: {kind}: 'kernel' (its path inside the written image) is required")
    if not parameters.get("root_uuid"):
        errors.append(f"commands: {kind}: 'root_uuid' (the root the kernel mounts, e.g. UUID=...) is required")
    if parameters.get("boot_part") in (None, ""):
        errors.append(f"commands: {kind}: 'boot_part' (the partition holding kernel, ramdisk and dtb) is required")
    return errors


def _media(ctx: JobContext, kind: str) -> RemovableMedia | None:
    """The media this namespace's deploy wrote, else the only one of its kind the device has."""
    if ctx.media is not None and ctx.media.kind == kind:
        return ctx.media
    entries = (ctx.device.parameters.get("media") or {}).get(kind) or {}
    if len(entries) != 1:
        return None
    label, entry = next(iter(entries.items()))
    return RemovableMedia(kind, str(label), str(entry.get("uuid", "")), int(entry.get("device_id") or 0))


def media_values(ctx: JobContext, parameters: dict[str, Any]) -> dict[str, str]:
    """Placeholder values for a boot from secondary media; none for any other boot."""
    kind = media_boot(ctx.device, parameters)
    if kind is None:
        return {}
    values = {"ROOT": str(parameters.get("root_uuid", ""))}
    boot_part = str(parameters.get("boot_part", ""))
    media = _media(ctx, kind)
    values["ROOT_PART"] = f"{media.device_id if media else 0}:{boot_part}" if boot_part.isdigit() else boot_part
    for key in ("kernel", "ramdisk", "dtb"):
        if parameters.get(key):
            values[key.upper()] = str(parameters[key])
    if "RAMDISK" in values:
        values["INITRD"] = values["RAMDISK"]
    return values
