"""Why a job cannot run here."""


class LeftOut(Exception):
    """The job cannot run here; the message says why."""
