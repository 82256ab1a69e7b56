from lava_dispatcher.actions.boot.bootloader import substitute


def test_placeholders_are_filled_and_lines_without_a_value_dropped():
    commands = [
        "setenv serverip {SERVER_IP}",
        "tftp {KERNEL_ADDR} {KERNEL}",
        "tftp {DTB_ADDR} {DTB}",
        "setenv bootargs ${bootargs} console=ttyAMA0",
        "{BOOTX}",
    ]
    values = {"SERVER_IP": "10.0.2.2", "KERNEL_ADDR": "0x40400000", "KERNEL": "job-1/Image",
              "BOOTX": "booti 0x40400000 - ${fdt_addr}"}
    assert substitute(commands, values) == [
        "setenv serverip 10.0.2.2",
        "tftp 0x40400000 job-1/Image",
        "setenv bootargs ${bootargs} console=ttyAMA0",
        "booti 0x40400000 - ${fdt_addr}",
    ]
