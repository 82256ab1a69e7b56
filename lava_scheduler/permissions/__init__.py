"""Group permissions on devices and device types: the rows (``models``, managed by
``scheduler.*.perms_*``, REST ``permissions/``, ``manage groups perms`` and the admin site)
and the one rule every reader and writer applies (``rules``).
"""
