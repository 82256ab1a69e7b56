"""Job definitions for the end-to-end tests, pointing at the test images with file:// URLs."""

from __future__ import annotations

from typing import Any

from testimages import LOGIN_PROMPT, PASSWORD, PASSWORD_PROMPT, PROMPT_REGEX, USERNAME

PROMPTS = [PROMPT_REGEX]


def inline(name: str, steps: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "from": "inline",
        "name": name,
        "path": f"inline/{name}.yaml",
        "repository": {
            "metadata": {"format": "Lava-Test Test Definition 1.0", "name": name},
            "run": {"steps": steps},
            **extra,
        },
    }


def qemu_job(arch_images: Any, definitions: list[dict] | None = None, login: bool = True,
             append: str = "", prompts: list[str] | None = None, minutes: int = 5) -> dict[str, Any]:
    console = arch_images.console
    ramdisk = arch_images.initramfs_login if login else arch_images.initramfs
    boot: dict[str, Any] = {"method": "qemu", "media": "tmpfs", "prompts": prompts or PROMPTS,
                            "timeout": {"minutes": 3}}
    if login:
        boot["auto_login"] = {"login_prompt": LOGIN_PROMPT, "username": USERNAME,
                              "password_prompt": PASSWORD_PROMPT, "password": PASSWORD}
    actions: list[dict[str, Any]] = [
        {"deploy": {"to": "tmpfs", "images": {
            "kernel": {"url": f"file://{arch_images.kernel}",
                       "image_arg": f"-kernel {{kernel}} -append 'console={console} panic=-1 {append}'"},
            "ramdisk": {"url": f"file://{ramdisk}", "image_arg": "-initrd {ramdisk}", "format": "cpio.newc"},
        }}},
        {"boot": boot},
    ]
    if definitions:
        actions.append({"test": {"timeout": {"minutes": 3}, "definitions": definitions}})
    return {
        "job_name": f"e2e {arch_images.arch}",
        "device_type": "qemu",
        "visibility": "public",
        "timeouts": {"job": {"minutes": minutes}, "action": {"minutes": 3}, "connection": {"minutes": 2}},
        "context": {"arch": arch_images.arch},
        "actions": actions,
    }
