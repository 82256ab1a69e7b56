"""Code shared by the server and the dispatcher: schemas, log format, errors, constants."""

__version__ = "2026.11"
