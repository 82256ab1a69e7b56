import re

from lava_dispatcher.actions.boot.bootloader import echo_pattern, substitute
from lava_dispatcher.actions.boot.ipxe import ipxe_fetch_commands, ipxe_script


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


def test_an_ipxe_script_is_chained_from_the_server_the_list_fetches_its_kernel_from():
    commands = ["dhcp net1", "kernel tftp://10.0.2.2/job/bzImage", "boot"]
    assert ipxe_fetch_commands({"SERVER_IP": "192.0.2.1"}, "job/script.ipxe", commands) == [
        "dhcp net1", "chain tftp://10.0.2.2/job/script.ipxe"]
    assert ipxe_fetch_commands({"SERVER_IP": "192.0.2.1"}, "s.ipxe", ["boot"]) == ["dhcp", "chain tftp://192.0.2.1/s.ipxe"]
    assert ipxe_script(commands) == "#!ipxe\n\ndhcp net1\nkernel tftp://10.0.2.2/job/bzImage\nboot\n"


def test_the_echo_of_a_long_line_may_be_wrapped_but_not_short_of_a_character():
    command = "kernel tftp://10.0.2.2/" + "d" * 60 + "/bzImage ${extraargs}"
    wrapped = " " + command[:74] + "\r\r\n" + command[74:]
    assert re.search(echo_pattern(command), wrapped)
    assert not re.search(echo_pattern(command), wrapped.replace("bzImage", "bzImge"))
