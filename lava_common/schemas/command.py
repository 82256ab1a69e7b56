"""The command action: run a builtin device command or a device dictionary ``user_commands`` entry."""

from lava_common.schemas.common import ACTION, NAME

# the name is a builtin (lava_common.device_commands) or a device's commands.users entry,
# which only the dispatcher sees
COMMAND = ACTION.extend({"name": NAME}, description="a command block (a mapping)")
