"""The whole device-type library: every corpus dictionary renders and validates, every type offers its methods."""

import re
from pathlib import Path

import pytest

from lava_common.schemas.device import validate_device
from lava_scheduler.device_config import (
    DeviceConfigError,
    device_type_of_dictionary,
    list_device_types,
    render_device_config,
)

REPO = Path(__file__).resolve().parents[2]
DEVICE_TYPES = [REPO / "device-types"]
CORPUS = REPO.parent / "shared" / "corpus" / "device-dictionaries"
CORPUS_FILES = sorted(CORPUS.glob("*.jinja2")) if CORPUS.is_dir() else []
# the share of the reference's dictionaries that must render and validate (issue 15, item 4)
REQUIRED_SHARE = 0.90

# type -> (deploy methods, boot methods) each type must offer, at least
METHODS: dict[str, tuple[set[str], set[str]]] = {
    "arduino101": ({"tmpfs"}, {"dfu"}),
    "arndale": ({"tftp"}, {"u-boot"}),
    "avh": ({"avh"}, {"avh"}),
    "b2260": ({"tftp", "flasher"}, {"u-boot", "minimal"}),
    "beaglebone-black": ({"tftp", "nfs", "nbd"}, {"u-boot"}),
    "beaglebone-black-barebox": ({"tftp", "nfs"}, {"barebox"}),
    "cc3220SF": ({"tmpfs"}, {"openocd", "gdb"}),
    "cubietruck": ({"tftp"}, {"u-boot"}),
    "d02": ({"tftp", "nfs", "nbd"}, {"grub", "grub-efi"}),
    "docker": ({"docker"}, {"docker"}),
    "dragonboard-410c": ({"fastboot", "downloads"}, {"fastboot"}),
    "dragonboard-820c": ({"fastboot"}, {"fastboot"}),
    "fastboot-phone": ({"fastboot", "downloads"}, {"fastboot"}),
    "frdm-k64f": ({"tmpfs"}, {"cmsis-dap", "pyocd"}),
    "frdm-kw36zj": ({"tmpfs"}, {"jlink"}),
    "frdm-kw41z": ({"tmpfs"}, {"cmsis-dap", "pyocd"}),
    "fvp": ({"fvp"}, {"fvp"}),
    "lxc": ({"lxc"}, {"lxc"}),
    "grub-x86": ({"tftp", "nbd"}, {"grub"}),
    "hi6220-hikey": ({"fastboot"}, {"fastboot", "grub", "grub-efi", "uefi-menu"}),
    "hi6220-hikey-bl": ({"fastboot", "recovery"}, {"fastboot", "recovery", "grub"}),
    "hi6220-hikey-r2": ({"fastboot"}, {"fastboot"}),
    "hi960-hikey": ({"fastboot"}, {"fastboot", "grub"}),
    "imx7s-warp": ({"tftp", "u-boot-ums"}, {"u-boot"}),
    "imx8dxl-evk": ({"uuu", "u-boot-ums", "fastboot"}, {"u-boot", "uuu"}),
    "imx8m": ({"fastboot"}, {"fastboot"}),
    "imx8mq-evk": ({"uuu", "u-boot-ums", "fastboot"}, {"u-boot", "uuu"}),
    "juno": ({"vemsd", "tftp", "nfs"}, {"u-boot", "uefi", "uefi-menu"}),
    "juno-uboot": ({"tftp"}, {"u-boot"}),
    "juno-uefi": ({"vemsd", "tftp"}, {"uefi", "uefi-menu"}),
    "meson8b-odroidc1": ({"tftp"}, {"u-boot"}),
    "mimxrt1180-evk": ({"tmpfs"}, {"jlink"}),
    "minnowboard-turbot-E3826": ({"tftp"}, {"grub-efi"}),
    "moonshot-m400": ({"tftp"}, {"u-boot"}),
    "mps": ({"mps"}, {"minimal"}),
    "mps2plus": ({"mps"}, {"minimal"}),
    "musca-a": ({"musca"}, {"musca"}),
    "musca-s": ({"musca"}, {"musca"}),
    "mustang": ({"tftp", "nfs"}, {"u-boot", "grub-efi"}),
    "mustang-grub-efi": ({"tftp"}, {"grub-efi"}),
    "mustang-uefi": ({"tftp"}, {"uefi-menu"}),
    "n1sdp": ({"flasher", "tftp"}, {"grub", "minimal"}),
    "nexus10": ({"fastboot"}, {"fastboot"}),
    "nexus4": ({"fastboot"}, {"fastboot"}),
    "nexus5x": ({"fastboot"}, {"fastboot"}),
    "nrf52-nitrogen": ({"tmpfs"}, {"cmsis-dap", "pyocd"}),
    "overdrive": ({"tftp"}, {"grub-efi"}),
    "panda": ({"tftp"}, {"u-boot"}),
    "pixel": ({"fastboot"}, {"fastboot"}),
    "qcom-qdf2400": ({"tftp"}, {"grub-efi"}),
    "qcs404-evb-1k": ({"fastboot"}, {"fastboot"}),
    "qcs404-evb-4k": ({"fastboot"}, {"fastboot"}),
    "qcs6490-rb3gen2": ({"qdl"}, {"qdl", "minimal"}),
    "qemu": ({"image", "tmpfs", "nfs"}, {"qemu", "qemu-nfs"}),
    "qemu-uboot-arm64": ({"tftp"}, {"u-boot"}),
    "rk3288-veyron-jaq": ({"tftp"}, {"depthcharge"}),
    "rw610bga": ({"tmpfs"}, {"jlink"}),
    "rzn1": ({"tftp", "tmpfs"}, {"u-boot", "dfu"}),
    "rzn1d": ({"tftp", "tmpfs", "overlay"}, {"u-boot", "dfu", "minimal"}),
    "sdm845-mtp": ({"fastboot"}, {"fastboot"}),
    "sharkl2": ({"fastboot"}, {"fastboot"}),
    "ssh": ({"ssh"}, {"ssh"}),
    "intel1521": ({"ssh"}, {"ssh"}),
    "synquacer-acpi": ({"tftp"}, {"grub"}),
    "synquacer-dtb": ({"tftp"}, {"grub"}),
    "tc2": ({"vemsd", "tftp", "nfs"}, {"uefi-menu"}),
    "tk1": ({"tftp"}, {"u-boot"}),
    "upsquare": ({"tftp", "nbd"}, {"grub", "grub-efi"}),
    "x15": ({"tftp", "fastboot"}, {"u-boot", "fastboot"}),
    "x15-bl": ({"tftp", "fastboot", "recovery"}, {"u-boot", "fastboot", "recovery"}),
    "x86": ({"tftp", "nfs", "nbd"}, {"ipxe"}),
    "x86-atom330": ({"tftp"}, {"ipxe"}),
    "x86-celeron": ({"tftp"}, {"ipxe"}),
    "xilinx-zcu102": ({"tftp"}, {"u-boot"}),
}


def render(text: str, context: dict | None = None, hostname: str = "dut-01") -> dict:
    return render_device_config(hostname, text, context, device_types_paths=DEVICE_TYPES)


def methods(config: dict, section: str) -> dict:
    return config["actions"][section]["methods"]


@pytest.mark.skipif(not CORPUS_FILES, reason="corpus of device dictionaries not available")
def test_corpus_dictionaries_render_and_validate(capsys: pytest.CaptureFixture[str]) -> None:
    failures = {}
    for path in CORPUS_FILES:
        try:
            render(path.read_text(), hostname=path.stem)
        except DeviceConfigError as exc:
            failures[path.name] = str(exc)
    rendered = len(CORPUS_FILES) - len(failures)
    with capsys.disabled():
        print(f"\ndevice dictionaries rendered and validated: {rendered}/{len(CORPUS_FILES)} "
              f"({100 * rendered / len(CORPUS_FILES):.0f}%)")
        for name, reason in failures.items():
            print(f"  {name}: {reason}")
    assert rendered >= REQUIRED_SHARE * len(CORPUS_FILES), failures


@pytest.mark.skipif(not CORPUS_FILES, reason="corpus of device dictionaries not available")
def test_every_corpus_device_type_is_shipped() -> None:
    shipped = set(list_device_types(DEVICE_TYPES))
    missing = {device_type_of_dictionary(p.read_text()) for p in CORPUS_FILES} - shipped
    assert not missing


def test_the_methods_table_covers_every_shipped_type() -> None:
    assert set(list_device_types(DEVICE_TYPES)) == set(METHODS)


@pytest.mark.parametrize("device_type", sorted(METHODS))
def test_type_renders_alone_and_offers_its_methods(device_type: str) -> None:
    config = render(f"{{% extends '{device_type}.jinja2' %}}", {"arch": "arm64"} if device_type == "qemu" else None)
    deploy, boot = METHODS[device_type]
    assert deploy <= set(methods(config, "deploy")), set(methods(config, "deploy"))
    assert boot <= set(methods(config, "boot")), set(methods(config, "boot"))
    assert config["devicetype"] == device_type


def test_grub_lists_boot_a_tftp_kernel_with_the_board_console() -> None:
    config = render("{% extends 'd02.jinja2' %}\n{% set extra_kernel_args = 'quiet' %}\n")
    grub = methods(config, "boot")["grub-efi"]
    assert grub["parameters"] == {"bootloader_prompt": "grub>", "interrupt_prompt": "Press enter to boot the selected OS",
                                  "interrupt_char": "c"}
    ramdisk = grub["ramdisk"]["commands"]
    assert ramdisk[0] == "net_bootp" and ramdisk[-1] == "boot"
    assert "linux (tftp,{SERVER_IP})/{KERNEL} console=ttyS0,115200n8 root=/dev/ram0 quiet ip=dhcp" in ramdisk
    assert "devicetree (tftp,{SERVER_IP})/{DTB}" in ramdisk
    assert "{NFSROOTFS}" in "\n".join(grub["nfs"]["commands"])
    assert config["constants"]["grub-efi"]["interrupt-character"] == "c"
    # an ACPI server has no device tree to load
    acpi = methods(render("{% extends 'synquacer-acpi.jinja2' %}"), "boot")["grub"]["ramdisk"]["commands"]
    assert not [c for c in acpi if c.startswith("devicetree")]
    assert "acpi=force" in "\n".join(acpi)
    # a fastboot board offering GRUB writes the same lists, with its own console
    hikey = methods(render("{% extends 'hi6220-hikey.jinja2' %}"), "boot")["grub"]["ramdisk"]["commands"]
    assert "linux (tftp,{SERVER_IP})/{KERNEL} console=ttyAMA3,115200n8 root=/dev/ram0 ip=dhcp" in hikey
    assert "devicetree (tftp,{SERVER_IP})/{DTB}" in hikey


def test_sata_disk_enables_the_sata_deploy_on_grub_boards() -> None:
    text = "{% extends 'mustang-grub-efi.jinja2' %}\n{% set sata_uuid = 'ata-ST500' %}\n"
    assert "sata" in methods(render(text), "deploy")
    assert "sata" not in methods(render("{% extends 'mustang-grub-efi.jinja2' %}"), "deploy")


def test_uefi_menu_and_shell() -> None:
    text = "{% extends 'mustang-uefi.jinja2' %}\n{% set uefi_menu_network_entry = 'TFTP on MAC' %}\n"
    boot = methods(render(text), "boot")
    assert boot["uefi-menu"]["ramdisk"] == [{"select": {"items": ["TFTP on MAC"]}}]
    assert boot["uefi-menu"]["parameters"]["item_markup"] == ["[", "]"]
    shell = boot["uefi"]
    assert shell["parameters"]["bootloader_prompt"] == "Shell>"
    assert shell["parameters"]["shell_interrupt_string"] == "\x1b"  # ESC, the character itself
    assert shell["ramdisk"]["commands"][0] == "ifconfig -s eth0 dhcp"
    assert "console=ttyS0,115200n8 root=/dev/ram0" in shell["ramdisk"]["commands"][-1]


def test_juno_offers_uboot_uefi_and_vemsd_together() -> None:
    config = render((CORPUS / "juno-01.jinja2").read_text() if CORPUS_FILES else "{% extends 'juno.jinja2' %}")
    assert methods(config, "deploy")["vemsd"]["parameters"]["mcc_prompt"] == "Cmd>"
    assert methods(config, "boot")["u-boot"]["parameters"]["bootloader_prompt"] == "=>"
    assert config["parameters"]["booti"]["kernel"] == "0x80080000"


def test_fastboot_board_serials_and_flash_order() -> None:
    text = ("{% extends 'dragonboard-410c.jinja2' %}\n{% set adb_serial_number = 'c2e02318' %}\n"
            "{% set flash_cmds_order = ['boot', 'rootfs'] %}\n")
    config = render(text)
    assert config["adb_serial_number"] == config["fastboot_serial_number"] == "c2e02318"
    assert config["flash_cmds_order"] == ["boot", "rootfs"]
    assert methods(config, "boot")["fastboot"] == ["reboot"]
    assert {"adb", "serial"} <= set(config["actions"]["boot"]["connections"])


def test_mcu_probe_parameters() -> None:
    text = ("{% extends 'frdm-k64f.jinja2' %}\n{% set board_id = '0240' %}\n"
            "{% set usb_mass_device = '/dev/disk/by-id/usb-MBED' %}\n")
    config = render(text)
    assert config["board_id"] == "0240"
    assert methods(config, "boot")["cmsis-dap"]["parameters"]["usb_mass_device"] == "/dev/disk/by-id/usb-MBED"
    assert methods(config, "boot")["pyocd"]["parameters"]["options"][-1] == "k64f"
    docker = render("{% extends 'cc3220SF.jinja2' %}\n{% set docker_use = true %}\n"
                    "{% set docker_devices = ['/dev/hidraw3'] %}\n")
    assert methods(docker, "boot")["openocd"]["parameters"]["docker"] == {"use": True, "devices": ["/dev/hidraw3"]}


def test_imx8_uuu_options_from_the_dictionary() -> None:
    text = ("{% extends 'imx8mq-evk.jinja2' %}\n{% set uuu_usb_otg_path = ['2:143', '3:123'] %}\n"
            "{% set uuu_corrupt_boot_media_command = ['mmc dev 1'] %}\n{% set ums_command = 'ums 0 mmc 1' %}\n"
            "{% set uboot_mac_addr = '00:04:9f:00:00:9f' %}\n")
    config = render(text)
    uuu = methods(config, "deploy")["uuu"]["options"]
    assert uuu["usb_otg_path"] == ["2:143", "3:123"] and uuu["corrupt_boot_media_command"] == ["mmc dev 1"]
    uboot = methods(config, "boot")["u-boot"]
    assert uboot["ums"]["commands"] == ["ums 0 mmc 1"]
    assert "setenv ethaddr 00:04:9f:00:00:9f" in uboot["ramdisk"]["commands"]
    assert config["fastboot_via_uboot"] is True


def test_barebox_lists() -> None:
    barebox = methods(render("{% extends 'beaglebone-black-barebox.jinja2' %}"), "boot")["barebox"]
    ramdisk = barebox["ramdisk"]["commands"]
    assert ramdisk[-1] == "bootm" and "global.bootm.image=/mnt/tftp/{KERNEL}" in ramdisk
    assert "global.linux.bootargs.dyn.root='console=ttyO0,115200n8 root=/dev/ram0 ip=dhcp'" in ramdisk


def test_flasher_commands_and_docker_limits() -> None:
    text = "{% extends 'b2260.jinja2' %}\n{% set flasher_deploy_commands = ['flash {IMAGE}', 'sync'] %}\n"
    assert methods(render(text), "deploy")["flasher"]["commands"] == ["flash {IMAGE}", "sync"]
    options = methods(render("{% extends 'docker.jinja2' %}", {"docker_memory": "1g"}), "deploy")["docker"]["options"]
    assert options["memory"] == "1g" and options["privileged"] is False


REFERENCE_DEPLOY = ("avh docker download downloads fastboot flasher iso-installer fvp mps musca nbd nfs overlay qdl "
                    "recovery ssh tftp tmpfs u-boot-ums usbg-ms uuu vemsd sata sd usb").split()
REFERENCE_BOOT = ("avh barebox bootloader cmsis-dap depthcharge dfu docker fastboot fvp gdb grub grub-efi ipxe jlink "
                  "kexec minimal monitor musca new_connection nodebooter openocd pyocd qdl qemu qemu-iso qemu-nfs "
                  "recovery schroot ssh u-boot uefi uefi-menu uuu").split()


def test_device_schema_accepts_every_reference_method_name() -> None:
    config = render("{% extends 'beaglebone-black.jinja2' %}")
    config["actions"]["deploy"]["methods"] = dict.fromkeys(REFERENCE_DEPLOY)
    config["actions"]["boot"]["methods"] = {name: {"parameters": {}} for name in REFERENCE_BOOT}
    validate_device(config)


# the placeholders the dispatcher fills in command lists (reference §3.3), and depthcharge's own
KNOWN_PLACEHOLDERS = {
    "SERVER_IP", "KERNEL_ADDR", "KERNEL", "RAMDISK_ADDR", "RAMDISK", "INITRD", "DTB_ADDR", "DTB", "DTBO_ADDR", "DTBO",
    "TEE_ADDR", "TEE", "BOOTX", "NFS_SERVER_IP", "NFSROOTFS", "NBDSERVERIP", "NBDSERVERPORT", "ROOT", "ROOT_PART",
    "LAVA_MAC", "PRESEED_CONFIG", "PRESEED_LOCAL", "DTB_BASE_ADDR", "DTB_BASE_RESIZE", "APPLY_DTBO_COMMANDS",
    "EXTRA_FILES_DIR", "LAVA_DISPATCHER_IP", "LAVA_JOB_ID",
    "DEPTHCHARGE_KERNEL", "DEPTHCHARGE_RAMDISK", "CMDLINE",
}
PLACEHOLDER = re.compile(r"(?<!\$)\{([A-Za-z_]+)\}")


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return []


@pytest.mark.parametrize("device_type", sorted(METHODS))
def test_command_lists_use_only_known_placeholders(device_type: str) -> None:
    config = render(f"{{% extends '{device_type}.jinja2' %}}", {"arch": "arm64"} if device_type == "qemu" else None)
    texts = strings_in(config["actions"]["boot"]["methods"])
    unknown = {name for text in texts for name in PLACEHOLDER.findall(text)} - KNOWN_PLACEHOLDERS
    assert not unknown
