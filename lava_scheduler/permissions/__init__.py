"""Group permissions on devices and device types, as rows (``scheduler.*.perms_*``, REST ``permissions/``).

Only storage: which rule a row grants, and where it is enforced, is issue 14's.
"""
