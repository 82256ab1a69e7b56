"""Who may read the lab's configuration: one rule for the web UI, REST and XML-RPC.

Device dictionaries hold power-switch commands and the addresses and
credentials of PDUs and consoles; a worker's dispatcher and environment
files and a job's rendered device configuration hold the same. As in the
reference, reading them needs the right to change them: a superuser, or the
``lab.change_device`` (dictionaries, rendered device configuration) or
``lab.change_worker`` (worker files) permission. A job's archived
configuration needs both, since it holds both. Health-check definitions are
readable by anyone who may see the device type, with their secrets masked
unless the reader may change device types.
"""


from lava_scheduler.permissions.rules import privileged


def can_read_device_config(user) -> bool:
    return privileged(user, "lab.change_device")


def can_read_worker_config(user) -> bool:
    return privileged(user, "lab.change_worker")


def can_read_job_configuration(user) -> bool:
    return can_read_device_config(user) and can_read_worker_config(user)


def can_read_health_check_secrets(user) -> bool:
    return privileged(user, "lab.change_devicetype")
