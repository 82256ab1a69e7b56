"""The shipped device-type templates, rendered from real dictionaries and checked key by key."""

from pathlib import Path

import pytest

from lava_dispatcher.qemu_args import admin_argv
from lava_scheduler.device_config import (
    DeviceConfigError,
    device_type_of_dictionary,
    list_device_types,
    render_device_config,
    template_exists,
)

REPO = Path(__file__).resolve().parents[2]
DEVICE_TYPES = [REPO / "device-types"]
CORPUS = REPO.parent / "shared" / "corpus" / "device-dictionaries"
CORPUS_FILES = sorted(CORPUS.glob("*.jinja2")) if CORPUS.is_dir() else []
UBOOT_PLACEHOLDERS = ("{SERVER_IP}", "{KERNEL_ADDR}", "{KERNEL}", "{RAMDISK_ADDR}", "{RAMDISK}",
                      "{DTB_ADDR}", "{DTB}", "{BOOTX}")


def render(text: str, context: dict | None = None, hostname: str = "dut-01") -> dict:
    return render_device_config(hostname, text, context, device_types_paths=DEVICE_TYPES)


def qemu_params(config: dict) -> dict:
    return config["actions"]["boot"]["methods"]["qemu"]["parameters"]


@pytest.mark.skipif(not CORPUS_FILES, reason="corpus of device dictionaries not available")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_dictionary_renders_or_names_its_unknown_type(path: Path) -> None:
    text = path.read_text()
    device_type = device_type_of_dictionary(text)
    if not template_exists(device_type, DEVICE_TYPES):
        with pytest.raises(DeviceConfigError, match=f"unknown device type '{device_type}'"):
            render(text, hostname=path.stem)
        return
    config = render(text, hostname=path.stem)
    assert config["hostname"] == path.stem
    assert config["devicetype"] == device_type
    for key in ("constants", "parameters", "actions", "timeouts"):
        assert isinstance(config[key], dict)
    assert config["actions"]["deploy"]["methods"]
    assert config["actions"]["boot"]["methods"]


@pytest.mark.skipif(not CORPUS_FILES, reason="corpus of device dictionaries not available")
def test_corpus_coverage_of_shipped_types() -> None:
    shipped = set(list_device_types(DEVICE_TYPES))
    covered = [p for p in CORPUS_FILES if device_type_of_dictionary(p.read_text()) in shipped]
    assert len(covered) >= 30


@pytest.mark.skipif(not CORPUS_FILES, reason="corpus of device dictionaries not available")
def test_corpus_bbb_dictionary_values_reach_the_config() -> None:
    config = render((CORPUS / "bbb-02.jinja2").read_text())
    commands = config["commands"]
    assert commands["connections"]["uart0"] == {"connect": "telnet localhost 6000", "tags": ["primary", "telnet"]}
    assert commands["hard_reset"][1] == "/bin/sleep 1"
    assert commands["power_on"].endswith("--command on --port 08")
    eth1 = config["parameters"]["interfaces"]["eth1"]
    assert eth1["mac"] == "00:24:d7:9b:c0:8c" and eth1["tags"] == ["RJ45", "10M", "100M"]
    assert (eth1["switch"], eth1["port"]) == ("192.168.0.2", 7)
    assert config["parameters"]["media"]["usb"]["SanDisk_Ultra"]["uuid"].startswith("usb-SanDisk")
    assert "usb" in config["actions"]["deploy"]["methods"]


def test_list_device_types_leaves_family_templates_out() -> None:
    types = list_device_types(DEVICE_TYPES)
    assert {"qemu", "beaglebone-black", "qemu-uboot-arm64", "cubietruck", "panda", "juno-uboot", "ssh"} <= set(types)
    assert not [name for name in types if name.startswith("base")]


def test_readme_lists_every_shipped_type() -> None:
    readme = (REPO / "device-types" / "README.md").read_text()
    for name in list_device_types(DEVICE_TYPES):
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize(
    ("arch", "binary", "console"),
    [("amd64", "qemu-system-x86_64", "ttyS0,115200"), ("arm64", "qemu-system-aarch64", "ttyAMA0,115200"),
     ("x86_64", "qemu-system-x86_64", "ttyS0,115200"), ("arm", "qemu-system-arm", "ttyAMA0,115200"),
     ("ppc", "qemu-system-ppc", "ttyS0,115200")],
)
def test_qemu_uses_tcg_and_the_binary_of_the_arch(arch: str, binary: str, console: str) -> None:
    config = render("{% extends 'qemu.jinja2' %}", {"arch": arch})
    params = qemu_params(config)
    assert params["command"] == binary
    assert "-accel tcg" in params["options"]
    joined = " ".join(params["options"])
    assert "-enable-kvm" not in joined and "-cpu host" not in joined
    assert params["boot_options"] == {"root": "/dev/ram0", "console": console}
    assert "-m 512" in params["options"] and "-nographic" in params["options"]
    assert "-monitor none" in params["options"]
    assert arch in config["available_architectures"]
    assert {"image", "tmpfs"} <= set(config["actions"]["deploy"]["methods"])


def test_qemu_arm64_machine_and_cpu_with_job_overrides() -> None:
    options = qemu_params(render("{% extends 'qemu.jinja2' %}", {"arch": "arm64"}))["options"]
    assert "-machine virt" in options and "-cpu cortex-a57" in options
    options = qemu_params(render("{% extends 'qemu.jinja2' %}", {"arch": "arm64", "cpu": "max"}))["options"]
    assert "-cpu max" in options


def test_qemu_32_bit_machines_of_the_reference_jobs() -> None:
    # docs/qemu-vexpress-a9.yaml, docs/qemu-ppc-bamboo.yaml: the job's machine and cpu replace the defaults
    options = qemu_params(render("{% extends 'qemu.jinja2' %}", {"arch": "arm"}))["options"]
    assert "-machine virt" in options and "-cpu cortex-a15" in options
    options = qemu_params(render("{% extends 'qemu.jinja2' %}",
                                 {"arch": "arm", "machine": "vexpress-a9", "cpu": "cortex-a9"}))["options"]
    assert "-machine vexpress-a9" in options and "-cpu cortex-a9" in options
    options = qemu_params(render("{% extends 'qemu.jinja2' %}", {"arch": "ppc", "machine": "bamboo"}))["options"]
    assert "-machine bamboo" in options and not any(option.startswith("-cpu") for option in options)


def test_qemu_no_kvm_dictionary_still_uses_tcg() -> None:
    text = "{% extends 'qemu.jinja2' %}\n{% set arch = 'amd64' %}\n{% set no_kvm = True %}\n"
    assert "-accel tcg" in qemu_params(render(text))["options"]


def test_qemu_network_options() -> None:
    text = "{% extends 'qemu.jinja2' %}\n{% set mac_addr = '52:54:00:12:34:59' %}\n"
    options = qemu_params(render(text))["options"]
    assert "-net nic,model=virtio,macaddr=52:54:00:12:34:59 -net user" in options
    assert "-net none" in qemu_params(render(text, {"no_network": True}))["options"]
    assert "-net nic,model=e1000,macaddr=52:54:00:12:34:59 -net tap" in qemu_params(
        render(text, {"netdevice": "tap", "model": "e1000"}))["options"]


def test_qemu_reference_context_forms_become_separate_words() -> None:
    # zephyr-qemu-test-task.yaml writes the option's name in the value
    context = {"arch": "arm", "model": "model=stellaris", "vga": "-vga none", "serial": "-serial stdio"}
    argv = admin_argv(qemu_params(render("{% extends 'qemu.jinja2' %}", context))["options"])
    assert ["-vga", "none"] == argv[argv.index("-vga"):argv.index("-vga") + 2]
    assert ["-serial", "stdio"] == argv[argv.index("-serial"):argv.index("-serial") + 2]
    assert "nic,model=stellaris,macaddr=52:54:00:12:34:58" in argv


def test_qemu_extra_options_and_guest_interface() -> None:
    config = render("{% extends 'qemu.jinja2' %}", {"arch": "amd64", "extra_options": ["-smp 2", "-no-reboot"]})
    assert qemu_params(config)["extra"] == ["-smp 2", "-no-reboot"]
    assert config["actions"]["deploy"]["methods"]["image"]["parameters"]["guest"] == {
        "size": 512, "interface": "ide", "driveid": "lavatest"}
    config = render("{% extends 'qemu.jinja2' %}", {"arch": "arm64"})
    assert config["actions"]["deploy"]["methods"]["image"]["parameters"]["guest"]["interface"] == "virtio"
    config = render("{% extends 'qemu.jinja2' %}", {"arch": "amd64", "guestfs_interface": "virtio"})
    assert config["actions"]["deploy"]["methods"]["image"]["parameters"]["guest"]["interface"] == "virtio"


def test_qemu_nfs_method_has_append() -> None:
    method = render("{% extends 'qemu.jinja2' %}", {"arch": "arm64"})["actions"]["boot"]["methods"]["qemu-nfs"]
    assert method["parameters"]["append"]["root"] == "/dev/nfs"
    assert "{NFSROOTFS}" in method["parameters"]["append"]["nfsrootargs"]


def test_qemu_unknown_arch_is_a_clear_error() -> None:
    with pytest.raises(DeviceConfigError, match="unsupported arch 'vax'"):
        render("{% extends 'qemu.jinja2' %}", {"arch": "vax"})


def test_uboot_ramdisk_commands_carry_the_placeholders() -> None:
    config = render("{% extends 'beaglebone-black.jinja2' %}")
    uboot = config["actions"]["boot"]["methods"]["u-boot"]
    ramdisk = "\n".join(uboot["ramdisk"]["commands"])
    for placeholder in UBOOT_PLACEHOLDERS:
        assert placeholder in ramdisk, placeholder
    assert uboot["ramdisk"]["commands"][-1] == "{BOOTX}"
    for name in ("nfs", "nbd", "usb", "sata"):
        assert uboot[name]["commands"][-1] == "{BOOTX}"
    assert "{NFSROOTFS}" in "\n".join(uboot["nfs"]["commands"])
    assert "{NBDSERVERPORT}" in "\n".join(uboot["nbd"]["commands"])
    assert "{ROOT_PART}" in "\n".join(uboot["usb"]["commands"])


def test_uboot_layout_the_dispatcher_reads() -> None:
    config = render("{% extends 'beaglebone-black.jinja2' %}\n{% set connection_command = 'telnet ser2net 7001' %}\n")
    assert config["commands"]["connect"] == "telnet ser2net 7001"
    constants = config["constants"]["u-boot"]
    assert constants["interrupt-prompt"] == "Hit any key to stop autoboot"
    assert constants["interrupt-character"] == " "
    assert constants["final-message"] == "Starting kernel"
    assert "Bad Linux ARM64 Image magic!" in constants["error-messages"]
    assert config["constants"]["kernel-start-message"] == "Linux version [0-9]"
    params = config["actions"]["boot"]["methods"]["u-boot"]["parameters"]
    assert params == {"bootloader_prompt": "=>", "interrupt_prompt": "Hit any key to stop autoboot",
                      "interrupt_char": " ", "needs_interrupt": True}
    assert "tftp" in config["actions"]["deploy"]["methods"]
    assert config["actions"]["deploy"]["parameters"]["add_header"] == "u-boot"
    assert config["parameters"]["bootz"] == {"kernel": "0x82000000", "ramdisk": "0x88080000", "dtb": "0x88000000"}
    assert config["timeouts"]["actions"]["power-off"] == {"seconds": 10}
    assert config["timeouts"]["connections"]["uboot-commands"] == {"seconds": 30}
    assert config["character_delays"] == {"deploy": 0, "boot": 0, "test": 0}


def test_uboot_job_context_variables() -> None:
    context = {"bootz_kernel_addr": "0x81000000", "uboot_extra_error_message": "Unknown command",
               "extra_kernel_args": "quiet", "bootloader_prompt": "U-Boot#", "uboot_needs_interrupt": False}
    config = render("{% extends 'beaglebone-black.jinja2' %}", context)
    assert config["parameters"]["bootz"]["kernel"] == "0x81000000"
    assert config["constants"]["u-boot"]["error-messages"][-1] == "Unknown command"
    params = config["actions"]["boot"]["methods"]["u-boot"]["parameters"]
    assert params["bootloader_prompt"] == "U-Boot#" and params["needs_interrupt"] is False
    commands = config["actions"]["boot"]["methods"]["u-boot"]["ramdisk"]["commands"]
    assert "setenv bootargs 'console=ttyO0,115200n8 root=/dev/ram0 quiet ip=dhcp'" in commands


def test_virtual_uboot_board_boots_with_booti_and_qemu_dtb() -> None:
    text = "{% extends 'qemu-uboot-arm64.jinja2' %}\n{% set uboot_tftp_server_ip = '10.0.2.2' %}\n"
    config = render(text)
    commands = config["actions"]["boot"]["methods"]["u-boot"]["ramdisk"]["commands"]
    assert "setenv serverip 10.0.2.2" in commands
    ramdisk_load = commands.index("tftp {RAMDISK_ADDR} {RAMDISK}")
    # the ramdisk's size must be captured right after its own download
    assert commands[ramdisk_load + 1] == "setenv initrd_size ${filesize}"
    assert commands[-1] == "booti {KERNEL_ADDR} {RAMDISK_ADDR}:${initrd_size} ${fdt_addr}"
    assert not [c for c in commands if "{DTB}" in c]
    assert config["parameters"]["booti"] == {"kernel": "0x40400000", "ramdisk": "0x44000000", "dtb": "0x40000000"}
    assert config["actions"]["deploy"]["parameters"]["mkimage_arch"] == "arm64"
    assert "add_header" not in config["actions"]["deploy"]["parameters"]
    assert config["available_architectures"] == ["arm64"]
    default = render("{% extends 'qemu-uboot-arm64.jinja2' %}")
    assert "setenv serverip {SERVER_IP}" in default["actions"]["boot"]["methods"]["u-boot"]["ramdisk"]["commands"]


def test_juno_uboot_is_a_booti_board() -> None:
    config = render("{% extends 'juno-uboot.jinja2' %}")
    assert config["parameters"]["booti"]["kernel"] == "0x80080000"
    assert config["actions"]["deploy"]["parameters"]["mkimage_arch"] == "arm64"
    assert "console=ttyAMA0,115200n8" in "\n".join(
        config["actions"]["boot"]["methods"]["u-boot"]["ramdisk"]["commands"])


def test_ssh_device_layout() -> None:
    config = render("{% extends 'ssh.jinja2' %}\n{% set ssh_host = 'dut.lab' %}\n{% set ssh_port = 8022 %}\n")
    ssh = config["actions"]["deploy"]["methods"]["ssh"]
    assert (ssh["host"], ssh["port"], ssh["user"]) == ("dut.lab", 8022, "root")
    assert ssh["options"][:2] == ["-o", "Compression=yes"]
    assert "ssh" in config["actions"]["boot"]["methods"]


def test_action_timeout_override_keeps_the_unit() -> None:
    text = ("{% extends 'beaglebone-black.jinja2' %}\n{% set action_timeout_power_off = 20 %}\n"
            "{% set connection_timeout_lava_test_shell = 15 %}\n")
    config = render(text)
    assert config["timeouts"]["actions"]["power-off"] == {"seconds": 20}
    assert config["timeouts"]["connections"]["lava-test-shell"] == {"seconds": 15}


def test_awkward_strings_survive_yaml() -> None:
    command = """pdu --name 'a: b' --note "x # y" --json '{"k": [1]}' \\ back"""
    text = ("{% extends 'qemu.jinja2' %}\n"
            f"{{% set power_on_command = {command!r} %}}\n"
            "{% set user_commands = {'odd: name': {'do': '- [not a list]', 'undo': '&anchor'}} %}\n"
            "{% set environment = {'A': 'yes', 'B': 'null'} %}\n")
    config = render(text)
    assert config["commands"]["power_on"] == command
    assert config["commands"]["users"] == {"odd: name": {"do": "- [not a list]", "undo": "&anchor"}}
    assert config["environment"] == {"A": "yes", "B": "null"}


def test_character_delays_and_constants_from_dictionary() -> None:
    text = ("{% extends 'qemu.jinja2' %}\n{% set test_character_delay = 30 %}\n{% set boot_retry = 2 %}\n"
            "{% set kernel_start_message = 'Booting Linux' %}\n{% set static_info = [{'FILE_SERVER_IP': 'x'}] %}\n")
    config = render(text)
    assert config["character_delays"]["test"] == 30
    assert config["constants"]["boot_retry"] == 2
    assert config["constants"]["kernel-start-message"] == "Booting Linux"
    assert config["static_info"] == [{"FILE_SERVER_IP": "x"}]


def test_x86_ipxe_layout() -> None:
    config = render("{% extends 'x86.jinja2' %}\n{% set connection_command = 'telnet ser 8003' %}\n")
    assert config["constants"]["ipxe"]["interrupt_ctrl_list"] == ["b"]
    ipxe = config["actions"]["boot"]["methods"]["ipxe"]
    assert ipxe["parameters"]["bootloader_prompt"] == "iPXE>"
    ramdisk = ipxe["ramdisk"]["commands"]
    assert ramdisk[-1] == "boot"
    assert "kernel tftp://{SERVER_IP}/{KERNEL} ${extraargs} ${console}" in ramdisk
    assert "initrd tftp://{SERVER_IP}/{RAMDISK}" in ramdisk
    assert "{NBDSERVERPORT}" in "\n".join(ipxe["nbd"]["commands"])
    assert {"tftp", "nbd", "nfs"} <= set(config["actions"]["deploy"]["methods"])
    # iPXE drops characters typed at full speed
    assert config["character_delays"]["boot"] == 100
    assert render("{% extends 'x86.jinja2' %}", {"boot_character_delay": 20})["character_delays"]["boot"] == 20
