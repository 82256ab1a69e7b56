"""``boot: method: uefi-menu`` through lava-run, against a console that draws EDK2's numbered boot menu.

OVMF has no numbered menu (see virtual-uefi/edk2_menu.py); the menu rules are
the dispatcher's and are checked here end to end: interrupt, find the entry by
its text, type its number, wait for the entry's question, type the filled-in
answer, then log in.
"""

from __future__ import annotations

import sys

import yaml

from lava_dispatcher.actions.boot.uefi_menu import MenuStyle, choose

from .helpers import HERE, job_result, run_lava

MENU = HERE / "virtual-uefi" / "edk2_menu.py"


def menu_device(tmp_path, steps: list) -> tuple:
    record = tmp_path / "typed.txt"
    device = {
        "hostname": "edk2-01", "devicetype": "mustang-uefi",
        "constants": {"kernel-start-message": "Linux version [0-9]", "failure_retry": 1},
        "commands": {"connect": f"{sys.executable} {MENU} {record}", "power_on": "true", "power_off": "true"},
        "parameters": {},
        "actions": {
            "deploy": {"methods": {"tftp": None}},
            "boot": {"methods": {"uefi-menu": {
                "parameters": {"interrupt_prompt": "The default boot selection will start in",
                               "interrupt_string": " ", "item_markup": ["[", "]"], "item_class": "0-9",
                               "bootloader_prompt": "Start:"},
                "ramdisk": steps,
            }}},
        },
        "timeouts": {"actions": {}, "connections": {}},
    }
    path = tmp_path / "device.yaml"
    path.write_text(yaml.safe_dump(device))
    return path, record


def menu_job(kernel) -> dict:
    return {"job_name": "uefi menu", "device_type": "mustang-uefi", "visibility": "public",
            "timeouts": {"job": {"minutes": 2}, "action": {"minutes": 1}, "connection": {"seconds": 20}},
            "actions": [
                {"deploy": {"to": "tftp", "kernel": {"url": f"file://{kernel}"}}},
                {"boot": {"method": "uefi-menu", "commands": "ramdisk", "prompts": ["root@lava:~# "]}},
            ]}


def test_menu_lines_and_choice():
    style = MenuStyle("x", " ", ("[", "]"), "0-9", "", "Start:")
    menu = style.menu_lines("[1] Shell\r\n[2] PXE Boot on MAC 52:54\r\n\x1b[0m[3] PXE Boot\r\n[x] nope\r\n")
    assert menu == {"Shell": "1", "PXE Boot on MAC 52:54": "2", "PXE Boot": "3"}
    assert choose(menu, ["PXE Boot"]) == "3"  # the exact entry wins over one that contains it
    assert choose(menu, ["on MAC"]) == "2"
    assert choose(menu, ["Boot Manager"]) is None


def test_uefi_menu_selects_the_entry_and_types_the_kernel_path(tmp_path):
    kernel = tmp_path / "bzImage"
    kernel.write_bytes(b"kernel")
    steps = [{"select": {"items": ["PXE Boot"], "wait": "Kernel path:", "enter": "{KERNEL}"}}]
    device, record = menu_device(tmp_path, steps)
    proc, records, _ = run_lava(tmp_path, menu_job(kernel), device, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    typed = record.read_text().splitlines()
    assert typed[0] == repr(" ")  # the interrupt
    assert typed[1] == repr("2\r\n")  # "PXE Boot" is entry 2
    assert typed[2].endswith("/kernel/bzImage\\r\\n'")  # {KERNEL} filled in, dos line ending
    assert job_result(records)["result"] == "pass"


def test_uefi_shell_reached_through_the_menu_runs_the_commands(tmp_path):
    """``boot: method: uefi``: the device's uefi-menu ``shell`` list leads to the shell; commands end with CR."""
    device, record = menu_device(tmp_path, [{"select": {"items": ["PXE Boot"]}}])
    data = yaml.safe_load(device.read_text())
    data["actions"]["boot"]["methods"]["uefi-menu"]["shell"] = [{"select": {"items": ["Shell"]}}]
    data["actions"]["boot"]["methods"]["uefi"] = {
        "parameters": {"bootloader_prompt": "Shell>", "boot_message": "Linux version [0-9]"},
        "ramdisk": {"commands": ["ifconfig -s eth0 dhcp", "boot {KERNEL}"]}}
    device.write_text(yaml.safe_dump(data))
    job = menu_job(tmp_path / "bzImage")
    (tmp_path / "bzImage").write_bytes(b"kernel")
    job["actions"][1]["boot"]["method"] = "uefi"
    proc, records, _ = run_lava(tmp_path, job, device, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    typed = record.read_text().splitlines()
    assert typed[:3] == [repr(" "), repr("1\r\n"), repr("ifconfig -s eth0 dhcp\r\n")]
    assert typed[3].startswith("'boot ") and typed[3].endswith("/kernel/bzImage\\r\\n'")
    assert job_result(records)["result"] == "pass"


def test_an_entry_the_menu_does_not_have_fails_naming_it(tmp_path):
    kernel = tmp_path / "bzImage"
    kernel.write_bytes(b"kernel")
    device, _ = menu_device(tmp_path, [{"select": {"items": ["TFTP on MAC 00:11"]}}])
    proc, records, _ = run_lava(tmp_path, menu_job(kernel), device, timeout=120)
    result = job_result(records)
    assert proc.returncode != 0
    assert result["error_type"] == "Infrastructure"
    assert "the UEFI menu has no entry ['TFTP on MAC 00:11']" in result["error_msg"]
    assert "'PXE Boot'" in result["error_msg"]


def test_a_step_list_that_is_not_one_is_refused_at_validation(tmp_path):
    device, _ = menu_device(tmp_path, [{"choose": "PXE Boot"}])
    proc, records, _ = run_lava(tmp_path, menu_job(tmp_path / "k"), device, "--validate")
    assert proc.returncode != 0
    assert "uefi-menu.ramdisk[0]: expected {select: {items, wait, enter, fallback}}" in job_result(records)["error_msg"]
