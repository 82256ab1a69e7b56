"""The commands a lab admin configures for a device, and which of them a job may run by name.

One list for the device schema, the job schema and the dispatcher's ``command`` action.
"""

# keys of a device configuration's ``commands:`` that hold a command or a list of commands
DEVICE_COMMANDS = (
    "hard_reset",
    "soft_reboot",
    "power_on",
    "power_off",
    "pre_power_command",
    "pre_os_command",
    "recovery_mode",
    "recovery_exit",
)

# what ``- command: {name: X}`` runs straight from ``commands:``; any other name must be a
# ``commands.users`` entry. soft_reboot is typed on the board's console by a boot, not run here.
BUILTIN_COMMANDS = tuple(name for name in DEVICE_COMMANDS if name != "soft_reboot")
