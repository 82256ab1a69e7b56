"""The command action: run a builtin device command or a device dictionary ``user_commands`` entry."""

from lava_common.schemas.common import ACTION, NAME

# names the dispatcher runs without a user_commands entry in the device dictionary
BUILTIN_COMMANDS = (
    "pre_power_command",
    "pre_os_command",
    "hard_reset",
    "power_on",
    "power_off",
    "recovery_mode",
    "recovery_exit",
    "usbg_ms_commands_disable",
    "stop_test_services",
)

# any other name may be defined by the device dictionary, which only the dispatcher sees
COMMAND = ACTION.extend({"name": NAME}, description="a command block (a mapping)")
