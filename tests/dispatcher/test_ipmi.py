"""Power commands that talk to a BMC: which BMC a failure names, and no password in what is logged."""

from lava_dispatcher.ipmi import bmc_address, hide_password


def test_the_bmc_of_an_ipmitool_command():
    assert bmc_address("ipmitool -I lanplus -H bmc-7 -p 623 -U admin -P s3cret chassis power on") == "bmc-7:623"
    assert bmc_address("/usr/bin/ipmitool -I lanplus -H 10.1.2.3 -U a -P b chassis power off") == "10.1.2.3"
    assert bmc_address("pduclient --hostname pdu -H x") is None  # not ipmitool
    assert bmc_address("ipmitool -I open chassis power on") is None  # a local BMC: no host to name
    assert bmc_address("ipmitool -H 'unterminated") is None


def test_the_password_never_shows():
    assert hide_password("ipmitool -H h -U u -P s3cret chassis power on") == "ipmitool -H h -U u -P **** chassis power on"
    assert hide_password("ipmitool -H h -P 'two words' power on") == "ipmitool -H h -P **** power on"
    assert hide_password("pduclient -P 3 --command on") == "pduclient -P 3 --command on"  # not ipmitool: left alone
